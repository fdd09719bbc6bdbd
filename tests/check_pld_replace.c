/* check_pld_replace.c - replace-one with Poisson sampling.
 *
 * The PLD accountant bounds it from above by the smaller of two proved
 * bounds, a dominating pair (one removal and one addition at noise
 * multiplier sigma / sqrt 2, the "product pair") and group privacy over
 * add/remove, and from below by the pair that an example at +C replaced
 * by one at -C attains (the "opposite pair").  Both references
 * are computed here, independently of the accountant: the opposite pair's
 * delta in closed form in MPFR, the product pair's by GSL quadrature of
 * its one-dimensional integral.  Over many steps: sandwiches with the
 * add/remove bound, with the unsampled mechanism at sensitivity 2C and
 * with RDP, whose replace-one curve is checked against the MTZ sum in
 * MPFR.  Laplace noise has group privacy alone above and its own
 * opposite pair below, in MPFR too.  Without sampling, the exact Gaussian
 * mechanism at half the noise multiplier. */
#include <dpacct.h>
#include "testutil.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_sf_erf.h>
#include <math.h>
#include <mpfr.h>

static dpacct_accountant *
accountant (const dpacct_accountant_type *type, dpacct_neighbouring rel,
            int certified, const dpacct_event *e)
{
  dpacct_accountant_options o;
  dpacct_accountant_options_init (&o);
  dpacct_accountant_options_set_int (&o, "neighbouring", rel);
  dpacct_accountant_options_set_int (&o, "certified", certified);
  dpacct_accountant *acc;
  ck_assert_int_eq (dpacct_accountant_alloc (type, &o, &acc), DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_compose (acc, e, 1), DPACCT_OK);
  return acc;
}

static dpacct_event *
run (double sigma, double q, uint64_t steps)
{
  dpacct_event *e;
  ck_assert_int_eq (dpacct_dpsgd_event_alloc (sigma, q, steps,
                                              DPACCT_SAMPLING_POISSON, &e),
                    DPACCT_OK);
  return e;
}

static dpacct_bound
delta_of (const dpacct_event *e, double eps, dpacct_neighbouring rel,
          int certified)
{
  dpacct_accountant *acc = accountant (dpacct_accountant_pld, rel, certified, e);
  dpacct_bound b;
  ck_assert_int_eq (dpacct_accountant_delta (acc, eps, &b), DPACCT_OK);
  dpacct_accountant_free (acc);
  return b;
}

static dpacct_bound
epsilon_of (const dpacct_accountant_type *type, const dpacct_event *e,
            double delta, dpacct_neighbouring rel)
{
  dpacct_accountant *acc = accountant (type, rel, 0, e);
  dpacct_bound b;
  ck_assert_int_eq (dpacct_accountant_epsilon (acc, delta, &b), DPACCT_OK);
  dpacct_accountant_free (acc);
  return b;
}

/* P(N(0,1) > z) at 256 bits into r. */
static void
normal_upper (mpfr_t r, const mpfr_t z)
{
  mpfr_mul_d (r, z, M_SQRT1_2, MPFR_RNDN);
  mpfr_erfc (r, r, MPFR_RNDN);
  mpfr_div_ui (r, r, 2, MPFR_RNDN);
}

/* delta = P(X > x) - e^eps Q(X > x) of the pair P = (1-q) M0 + q M(+1),
 * Q = (1-q) M0 + q M(-1), from the three tails at x (256 bits). */
static double
opposite_from_tails (const mpfr_t base, const mpfr_t plus, const mpfr_t minus,
                     double q, double eps)
{
  mpfr_t p, qq, t;
  mpfr_inits2 (256, p, qq, t, (mpfr_ptr) 0);
  mpfr_mul_d (p, base, 1.0 - q, MPFR_RNDN);
  mpfr_set (qq, p, MPFR_RNDN);
  mpfr_mul_d (t, plus, q, MPFR_RNDN);
  mpfr_add (p, p, t, MPFR_RNDN);
  mpfr_mul_d (t, minus, q, MPFR_RNDN);
  mpfr_add (qq, qq, t, MPFR_RNDN);
  mpfr_set_d (t, eps, MPFR_RNDN);
  mpfr_exp (t, t, MPFR_RNDN);
  mpfr_mul (qq, qq, t, MPFR_RNDN);
  mpfr_sub (p, p, qq, MPFR_RNDN);
  double d = mpfr_get_d (p, MPFR_RNDN);
  mpfr_clears (p, qq, t, (mpfr_ptr) 0);
  return d;
}

/* One step of the opposite pair P = (1-q) N(0, s^2) + q N(1, s^2) against
 * Q = (1-q) N(0, s^2) + q N(-1, s^2): its loss is increasing and passes
 * eps at x = s^2 (eps/2 + asinh(c sinh(eps/2))), c = (1-q)/q e^{1/(2s^2)};
 * delta = P(X > x) - e^eps Q(X > x). */
static double
opposite_delta (double s, double q, double eps)
{
  mpfr_t x, t, p, qq, z;
  mpfr_inits2 (256, x, t, p, qq, z, (mpfr_ptr) 0);
  mpfr_set_d (t, eps / 2.0, MPFR_RNDN);
  mpfr_sinh (x, t, MPFR_RNDN);
  mpfr_set_d (z, 0.5 / (s * s), MPFR_RNDN);
  mpfr_exp (z, z, MPFR_RNDN);
  mpfr_mul (x, x, z, MPFR_RNDN);
  mpfr_mul_d (x, x, (1.0 - q) / q, MPFR_RNDN);
  mpfr_asinh (x, x, MPFR_RNDN);
  mpfr_add (x, x, t, MPFR_RNDN);
  mpfr_mul_d (x, x, s, MPFR_RNDN); /* x / s */
  normal_upper (p, x); /* P(X > x) under N(0, s^2) */
  mpfr_sub_d (z, x, 1.0 / s, MPFR_RNDN);
  normal_upper (t, z);
  mpfr_add_d (z, x, 1.0 / s, MPFR_RNDN);
  normal_upper (qq, z);
  double d = opposite_from_tails (p, t, qq, q, eps);
  mpfr_clears (x, t, p, qq, z, (mpfr_ptr) 0);
  return d;
}

/* One step of the product pair: P = M x N0, Q = N0 x M with
 * N0 = N(0, s^2), M = (1-q) N0 + q N(1, s^2), s = sigma / sqrt 2.  P/Q
 * = r(x1) / r(x2) with r = M/N0 = 1 - q + q e^{(2x - 1)/(2 s^2)}
 * increasing, so for each x1 the set where P > e^eps Q is x2 < x2*(x1),
 * r(x2*) = r(x1) e^-eps, and
 * delta = int M(x1) N0(x2 < x2*) - e^eps N0(x1) M(x2 < x2*) dx1. */
typedef struct { double s, q, eps; } product_params;

static double
normal_cdf (double x, double mean, double s)
{
  return 0.5 * erfc (-(x - mean) / (s * M_SQRT2));
}

static double
normal_pdf (double x, double mean, double s)
{
  double z = (x - mean) / s;
  return exp (-0.5 * z * z) / (s * sqrt (2.0 * M_PI));
}

/* x with r(x) = y, for y > 1 - q. */
static double
r_inverse (const product_params *p, double y)
{
  return p->s * p->s * (log (y - (1.0 - p->q)) - log (p->q)) + 0.5;
}

static double
product_integrand (double x1, void *data)
{
  const product_params *p = data;
  double r1 = 1.0 - p->q + p->q * exp ((2.0 * x1 - 1.0) / (2.0 * p->s * p->s));
  double y = r1 * exp (-p->eps);
  if (y <= 1.0 - p->q)
    return 0.0;
  double x2 = r_inverse (p, y);
  double m1 = (1.0 - p->q) * normal_pdf (x1, 0.0, p->s)
              + p->q * normal_pdf (x1, 1.0, p->s);
  double m_cdf = (1.0 - p->q) * normal_cdf (x2, 0.0, p->s)
                 + p->q * normal_cdf (x2, 1.0, p->s);
  return m1 * normal_cdf (x2, 0.0, p->s)
         - exp (p->eps) * normal_pdf (x1, 0.0, p->s) * m_cdf;
}

static double
product_delta (double sigma, double q, double eps)
{
  product_params p = { sigma / M_SQRT2, q, eps };
  /* The integrand is 0 below x0 and has a kink there; past x0 + 40 s it
   * is below e^-800 of its peak. */
  double x0 = r_inverse (&p, (1.0 - q) * exp (eps)), pts[12];
  const double at[] = { 0, 0.5, 1, 2, 3, 4, 6, 8, 12, 20, 30, 40 };
  for (size_t i = 0; i < 12; i++)
    pts[i] = x0 + at[i] * p.s;
  gsl_set_error_handler_off ();
  gsl_integration_workspace *w = gsl_integration_workspace_alloc (1000);
  gsl_function f = { product_integrand, &p };
  double result, err;
  int status = gsl_integration_qagp (&f, pts, 12, 0.0, 1e-11, 1000, w,
                                     &result, &err);
  /* Round-off may stop it short of 1e-11; 1e-8 is all the test needs. */
  ck_assert_msg (status == 0 || (status == GSL_EROUND && err <= 1e-8 * result),
                 "quadrature: status %d, %g +- %g", status, result, err);
  gsl_integration_workspace_free (w);
  return result;
}

/* The replace-one upper bound by group privacy, rebuilt here from the
 * add/remove accountant's bounds on `side` (lower or upper): delta at
 * eps is at most d(eps/2) (1 + e^{eps/2}). */
static double
group_delta (const dpacct_event *e, double eps, int upper_side)
{
  dpacct_bound b = delta_of (e, 0.5 * eps, DPACCT_ADD_REMOVE, 0);
  return (upper_side ? b.upper : b.lower) * (1.0 + exp (0.5 * eps));
}

/* One step: opposite <= product (the product pair dominates), and the
 * accountant's delta: lower below the opposite pair's delta and within
 * 1 % of it; upper at least the opposite pair's (a real pair of
 * datasets), at least the smaller of the product pair's delta and group
 * privacy's (from add/remove lower bounds), and at most the smaller of
 * the product pair's (within 1e-3) and group privacy's; the certified
 * upper bound likewise. */
START_TEST (test_one_step_against_references)
{
  /* epsilon = {0.5, 1.5} / sigma keeps delta above 1e-16. */
  const double sigmas[] = { 0.8, 1.5, 3.0 }, rates[] = { 0.05, 0.3 };
  const double epsilons[] = { 0.5, 1.5 };
  int product_decided = 0;
  for (size_t i = 0; i < 3; i++)
    for (size_t j = 0; j < 2; j++)
      {
        dpacct_event *e = run (sigmas[i], rates[j], 1);
        for (size_t k = 0; k < 2; k++)
          {
            double eps = epsilons[k] / sigmas[i];
            double opp = opposite_delta (sigmas[i], rates[j], eps);
            double prod = product_delta (sigmas[i], rates[j], eps);
            double group_lo = group_delta (e, eps, 0);
            double group_hi = group_delta (e, eps, 1);
            dpacct_bound b = delta_of (e, eps, DPACCT_REPLACE_ONE, 0);
            double floor = fmin (prod, group_lo);
            double ceiling = fmin (prod * (1.0 + 1e-3), group_hi * (1.0 + 1e-9));
            product_decided += prod < group_lo;
            ck_assert_msg (opp <= prod && b.lower <= opp
                           && b.lower >= opp * (1.0 - 1e-2) && opp <= b.upper
                           && floor <= b.upper && b.upper <= ceiling,
                           "sigma %g q %g eps %g: [%.10g, %.10g], opposite "
                           "%.10g, product %.10g, group [%.10g, %.10g]",
                           sigmas[i], rates[j], eps, b.lower, b.upper, opp,
                           prod, group_lo, group_hi);
            if (j == 0 && k == 0)
              {
                dpacct_bound c = delta_of (e, eps, DPACCT_REPLACE_ONE, 1);
                ck_assert_msg (c.certified && opp <= c.upper
                               && floor <= c.upper && c.upper <= 1.05 * b.upper,
                               "certified %.10g vs plain %.10g, product "
                               "%.10g", c.upper, b.upper, prod);
              }
          }
        dpacct_event_free (e);
      }
  /* Both bounds must have decided some cases for the test to say much. */
  ck_assert_msg (product_decided > 0 && product_decided < 12,
                 "product pair smaller in %d of 12 cases", product_decided);
}
END_TEST

/* Epsilon by group privacy: at most e1 + e2 with e1 the add/remove
 * epsilon at delta/2 and e2 the one at delta/2 e^-e1.  This checks only
 * that the epsilon side uses the bound; that the bound is valid and tight
 * is checked against the references above. */
START_TEST (test_group_epsilon)
{
  const double delta = 1e-5;
  dpacct_event *e = run (0.7, 0.01, 1000);
  double e1 = epsilon_of (dpacct_accountant_pld, e, 0.5 * delta,
                          DPACCT_ADD_REMOVE).upper;
  double e2 = epsilon_of (dpacct_accountant_pld, e, 0.5 * delta * exp (-e1),
                          DPACCT_ADD_REMOVE).upper;
  dpacct_bound b = epsilon_of (dpacct_accountant_pld, e, delta,
                               DPACCT_REPLACE_ONE);
  ck_assert_msg (b.lower <= b.upper && b.upper <= (e1 + e2) * (1.0 + 1e-9),
                 "[%g, %g] vs group %g + %g", b.lower, b.upper, e1, e2);
  dpacct_event_free (e);
}
END_TEST

/* Small noise, one step: the +-C pair's narrow bulk and long tail need a
 * far finer grid than the upper bound's; the lower bound must still be
 * the pair's epsilon: delta_opp(lower) >= delta (valid) and
 * delta_opp(1.01 lower) <= delta (within 1 %). */
START_TEST (test_small_noise_lower)
{
  const double sigmas[] = { 0.07, 0.1 }, q = 0.001, delta = 1e-5;
  for (size_t i = 0; i < 2; i++)
    {
      dpacct_event *e = run (sigmas[i], q, 1);
      dpacct_bound b = epsilon_of (dpacct_accountant_pld, e, delta,
                                   DPACCT_REPLACE_ONE);
      ck_assert_msg (b.lower > 0.0 && b.lower <= b.upper
                     && opposite_delta (sigmas[i], q, b.lower) >= delta
                     && opposite_delta (sigmas[i], q, 1.01 * b.lower) <= delta,
                     "sigma %g: [%.10g, %.10g]", sigmas[i], b.lower, b.upper);
      dpacct_event_free (e);
    }
}
END_TEST

/* Many steps: add/remove lower <= replace-one lower <= upper; the upper
 * bound at most the unsampled mechanism's at sensitivity 2C (exact) and
 * at most RDP's; increasing in q and in the steps, decreasing in sigma. */
START_TEST (test_sandwiches_over_steps)
{
  const struct { double sigma, q, steps; } r[] = {
    { 1.0, 0.01, 1000 }, { 0.8, 0.1, 100 }, { 2.0, 0.001, 10000 },
    { 1.0, 0.5, 10 },
  };
  const double delta = 1e-5;
  for (size_t i = 0; i < sizeof r / sizeof r[0]; i++)
    {
      dpacct_event *e = run (r[i].sigma, r[i].q, (uint64_t) r[i].steps);
      dpacct_bound rep = epsilon_of (dpacct_accountant_pld, e, delta,
                                     DPACCT_REPLACE_ONE);
      dpacct_bound ar = epsilon_of (dpacct_accountant_pld, e, delta,
                                    DPACCT_ADD_REMOVE);
      double rdp = epsilon_of (dpacct_accountant_rdp, e, delta,
                               DPACCT_REPLACE_ONE).upper;
      double unsampled = test_exact_gaussian_epsilon (r[i].sigma / 2.0,
                                                      r[i].steps, delta);
      ck_assert_msg (ar.lower <= rep.lower && rep.lower <= rep.upper
                     && rep.upper <= unsampled * (1.0 + 1e-3)
                     && rep.upper <= rdp,
                     "sigma %g q %g T %g: replace [%g, %g], add/remove "
                     "[%g, %g], unsampled %g, rdp %g", r[i].sigma, r[i].q,
                     r[i].steps, rep.lower, rep.upper, ar.lower, ar.upper,
                     unsampled, rdp);
      dpacct_event *more[3] = { run (r[i].sigma * 1.1, r[i].q,
                                     (uint64_t) r[i].steps),
                                run (r[i].sigma, r[i].q * 1.1,
                                     (uint64_t) r[i].steps),
                                run (r[i].sigma, r[i].q,
                                     (uint64_t) (r[i].steps * 2)) };
      double up[3];
      for (int k = 0; k < 3; k++)
        {
          up[k] = epsilon_of (dpacct_accountant_pld, more[k], delta,
                              DPACCT_REPLACE_ONE).upper;
          dpacct_event_free (more[k]);
        }
      ck_assert_msg (up[0] < rep.upper && up[1] > rep.upper
                     && up[2] > rep.upper, "not monotone: %g; %g %g %g",
                     rep.upper, up[0], up[1], up[2]);
      dpacct_event_free (e);
    }
}
END_TEST

/* log A_alpha of the Poisson-subsampled Gaussian (Mironov, Talwar and
 * Zhang 2019) at integer alpha, summed in MPFR at 256 bits. */
static double
log_a (double q, double sigma, unsigned alpha)
{
  mpfr_t sum, term, c;
  mpz_t binomial;
  mpz_init (binomial);
  mpfr_inits2 (256, sum, term, c, (mpfr_ptr) 0);
  mpfr_set_zero (sum, 1);
  for (unsigned k = 0; k <= alpha; k++)
    {
      mpz_bin_uiui (binomial, alpha, k);
      mpfr_set_z (term, binomial, MPFR_RNDN);
      mpfr_set_d (c, 1.0 - q, MPFR_RNDN);
      mpfr_pow_ui (c, c, alpha - k, MPFR_RNDN);
      mpfr_mul (term, term, c, MPFR_RNDN);
      mpfr_set_d (c, q, MPFR_RNDN);
      mpfr_pow_ui (c, c, k, MPFR_RNDN);
      mpfr_mul (term, term, c, MPFR_RNDN);
      mpfr_set_d (c, ((double) k * k - k) / (2.0 * sigma * sigma), MPFR_RNDN);
      mpfr_exp (c, c, MPFR_RNDN);
      mpfr_mul (term, term, c, MPFR_RNDN);
      mpfr_add (sum, sum, term, MPFR_RNDN);
    }
  mpfr_log (sum, sum, MPFR_RNDN);
  double r = mpfr_get_d (sum, MPFR_RNDN);
  mpfr_clears (sum, term, c, (mpfr_ptr) 0);
  mpz_clear (binomial);
  return r;
}

/* RDP at one integer order: the product pair's RDP, 2 log A_alpha(q,
 * sigma / sqrt 2) / (alpha - 1) per step, converted as the RDP
 * accountant documents; certified or not. */
START_TEST (test_rdp_replace_one)
{
  const double sigma = 1.2, q = 0.02, delta = 1e-6;
  const unsigned alphas[] = { 2, 8, 32 };
  dpacct_event *e = run (sigma, q, 500);
  for (size_t i = 0; i < 3; i++)
    for (int certified = 0; certified < 2; certified++)
      {
        double a = alphas[i];
        dpacct_accountant_options o;
        dpacct_accountant_options_init (&o);
        dpacct_accountant_options_set_int (&o, "neighbouring",
                                           DPACCT_REPLACE_ONE);
        dpacct_accountant_options_set_doubles (&o, "orders", &a, 1);
        dpacct_accountant_options_set_int (&o, "certified", certified);
        dpacct_accountant *acc;
        dpacct_bound b;
        ck_assert_int_eq (dpacct_accountant_alloc (dpacct_accountant_rdp, &o,
                                                   &acc), DPACCT_OK);
        ck_assert_int_eq (dpacct_accountant_compose (acc, e, 1), DPACCT_OK);
        ck_assert_int_eq (dpacct_accountant_epsilon (acc, delta, &b),
                          DPACCT_OK);
        dpacct_accountant_free (acc);
        double rdp = 500.0 * 2.0 * log_a (q, sigma / M_SQRT2, alphas[i])
                     / (a - 1.0);
        double want = fmax (rdp + log ((a - 1.0) / a)
                            - (log (delta) + log (a)) / (a - 1.0), 0.0);
        ck_assert_rel (b.upper, want, 1e-9, "alpha %g certified %d", a,
                       certified);
      }
  dpacct_event_free (e);
}
END_TEST

/* P(Lap(mean, b) > x) at 256 bits into r. */
static void
laplace_upper (mpfr_t r, const mpfr_t x, double mean, double b)
{
  mpfr_sub_d (r, x, mean, MPFR_RNDN);
  mpfr_div_d (r, r, b, MPFR_RNDN);
  int above = mpfr_sgn (r) >= 0;
  if (above)
    mpfr_neg (r, r, MPFR_RNDN);
  mpfr_exp (r, r, MPFR_RNDN);
  mpfr_div_ui (r, r, 2, MPFR_RNDN);
  if (!above)
    mpfr_ui_sub (r, 1, r, MPFR_RNDN);
}

/* log of the density of (1-q) Lap(0, b) + q Lap(shift, b) at x, up to
 * the common factor 1/(2b), at 256 bits into r. */
static void
laplace_mixture_log (mpfr_t r, const mpfr_t x, double q, double shift,
                     double b)
{
  mpfr_t t;
  mpfr_init2 (t, 256);
  mpfr_abs (r, x, MPFR_RNDN);
  mpfr_div_d (r, r, -b, MPFR_RNDN);
  mpfr_exp (r, r, MPFR_RNDN);
  mpfr_mul_d (r, r, 1.0 - q, MPFR_RNDN);
  mpfr_sub_d (t, x, shift, MPFR_RNDN);
  mpfr_abs (t, t, MPFR_RNDN);
  mpfr_div_d (t, t, -b, MPFR_RNDN);
  mpfr_exp (t, t, MPFR_RNDN);
  mpfr_mul_d (t, t, q, MPFR_RNDN);
  mpfr_add (r, r, t, MPFR_RNDN);
  mpfr_log (r, r, MPFR_RNDN);
  mpfr_clear (t);
}

/* One step of the Laplace opposite pair, P = (1-q) Lap(0, b) + q Lap(1, b)
 * against Q with -1 for 1.  Its loss is nondecreasing in x, constant
 * beyond +-1, so delta = P(X > x) - e^eps Q(X > x) at the x in [-1, 1]
 * where the loss, from the densities, crosses eps (by bisection); 0 when
 * eps is at least the loss at 1. */
static double
laplace_opposite_delta (double b, double q, double eps)
{
  mpfr_t lo, hi, mid, l, m, p, qq;
  mpfr_inits2 (256, lo, hi, mid, l, m, p, qq, (mpfr_ptr) 0);
  mpfr_set_si (lo, -1, MPFR_RNDN);
  mpfr_set_si (hi, 1, MPFR_RNDN);
  laplace_mixture_log (l, hi, q, 1.0, b);
  laplace_mixture_log (m, hi, q, -1.0, b);
  mpfr_sub (l, l, m, MPFR_RNDN);
  double d = 0.0;
  if (mpfr_get_d (l, MPFR_RNDN) > eps)
    {
      for (int i = 0; i < 200; i++)
        {
          mpfr_add (mid, lo, hi, MPFR_RNDN);
          mpfr_div_ui (mid, mid, 2, MPFR_RNDN);
          laplace_mixture_log (l, mid, q, 1.0, b);
          laplace_mixture_log (m, mid, q, -1.0, b);
          mpfr_sub (l, l, m, MPFR_RNDN);
          if (mpfr_cmp_d (l, eps) > 0)
            mpfr_set (hi, mid, MPFR_RNDN);
          else
            mpfr_set (lo, mid, MPFR_RNDN);
        }
      laplace_upper (p, hi, 0.0, b);
      laplace_upper (m, hi, 1.0, b);
      laplace_upper (qq, hi, -1.0, b);
      d = opposite_from_tails (p, m, qq, q, eps);
    }
  mpfr_clears (lo, hi, mid, l, m, p, qq, (mpfr_ptr) 0);
  return d;
}

static dpacct_event *
laplace_run (double b, double q, uint64_t steps)
{
  dpacct_event *lap, *sampled, *e;
  ck_assert_int_eq (dpacct_event_laplace_alloc (b, &lap), DPACCT_OK);
  ck_assert_int_eq (dpacct_event_poisson_alloc (q, lap, &sampled), DPACCT_OK);
  ck_assert_int_eq (dpacct_event_self_composed_alloc (sampled, steps, &e),
                    DPACCT_OK);
  dpacct_event_free (sampled);
  dpacct_event_free (lap);
  return e;
}

/* Laplace noise with sampling: no dominating pair is known under
 * replace-one, so the upper bound is group privacy's alone and the lower
 * one the opposite pair's.  One step against the MPFR reference: lower
 * within 1 % below it, upper above it, and the upper bound between group
 * privacy from add/remove lower bounds and from upper ones (to 1e-3: the
 * group bound asks add/remove for its upper side alone, whose grids may
 * stop short of those that both sides climb together).  Over steps:
 * add/remove lower <= replace-one lower <= upper, monotone in the steps.
 * RDP still refuses it, and composes nothing. */
START_TEST (test_laplace)
{
  const double scales[] = { 0.5, 1.0, 3.0 }, rates[] = { 0.05, 0.3 };
  const double fractions[] = { 0.25, 0.75 }; /* of the largest loss */
  for (size_t i = 0; i < 3; i++)
    for (size_t j = 0; j < 2; j++)
      {
        dpacct_event *e = laplace_run (scales[i], rates[j], 1);
        double q = rates[j], top = log ((1.0 - q + q * exp (1.0 / scales[i]))
                                        / (1.0 - q + q * exp (-1.0 / scales[i])));
        for (size_t k = 0; k < 2; k++)
          {
            double eps = fractions[k] * top;
            double opp = laplace_opposite_delta (scales[i], rates[j], eps);
            double group_lo = group_delta (e, eps, 0);
            double group_hi = group_delta (e, eps, 1);
            dpacct_bound b = delta_of (e, eps, DPACCT_REPLACE_ONE, 0);
            ck_assert_msg (opp > 0.0 && b.lower <= opp * (1.0 + 1e-9)
                           && b.lower >= opp * (1.0 - 1e-2) && opp <= b.upper
                           && group_lo <= b.upper
                           && b.upper <= group_hi * (1.0 + 1e-3),
                           "b %g q %g eps %g: [%.10g, %.10g], opposite "
                           "%.10g, group [%.10g, %.10g]", scales[i], rates[j],
                           eps, b.lower, b.upper, opp, group_lo, group_hi);
          }
        dpacct_event_free (e);
      }
  dpacct_event *e = laplace_run (2.0, 0.01, 1000);
  dpacct_event *twice = laplace_run (2.0, 0.01, 2000);
  dpacct_bound rep = epsilon_of (dpacct_accountant_pld, e, 1e-5,
                                 DPACCT_REPLACE_ONE);
  dpacct_bound ar = epsilon_of (dpacct_accountant_pld, e, 1e-5,
                                DPACCT_ADD_REMOVE);
  dpacct_bound more = epsilon_of (dpacct_accountant_pld, twice, 1e-5,
                                  DPACCT_REPLACE_ONE);
  ck_assert_msg (ar.lower <= rep.lower && rep.lower <= rep.upper
                 && more.lower > rep.lower && more.upper > rep.upper,
                 "replace [%g, %g], add/remove [%g, %g], twice [%g, %g]",
                 rep.lower, rep.upper, ar.lower, ar.upper, more.lower,
                 more.upper);
  dpacct_accountant_options o;
  dpacct_accountant_options_init (&o);
  dpacct_accountant_options_set_int (&o, "neighbouring", DPACCT_REPLACE_ONE);
  dpacct_accountant *acc;
  dpacct_bound b;
  ck_assert_int_eq (dpacct_accountant_alloc (dpacct_accountant_rdp, &o, &acc),
                    DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_compose (acc, e, 1), DPACCT_EUNSUP);
  ck_assert_int_eq (dpacct_accountant_epsilon (acc, 1e-5, &b), DPACCT_OK);
  ck_assert (b.upper == 0.0);
  dpacct_accountant_free (acc);
  dpacct_event_free (twice);
  dpacct_event_free (e);
}
END_TEST

/* Without sampling, replacing one example moves the clipped sum by up to
 * 2C, so T steps of noise multiplier sigma are the Gaussian mechanism at
 * noise multiplier sigma / 2: the exact epsilon (analytic Gaussian, MPFR)
 * lies in the bounds, and the upper one within 1e-3 of it.  (With sigma /
 * sqrt 2, the product pair's multiplier, sigma 3, 10 steps, delta 1e-5
 * would give 7.0 instead of 10.67.) */
START_TEST (test_unsampled_is_gaussian_at_half_sigma)
{
  const double sigmas[] = { 1.0, 3.0 }, steps[] = { 1, 10, 100 };
  const double deltas[] = { 1e-5, 1e-10 };
  for (size_t i = 0; i < 2; i++)
    for (size_t j = 0; j < 3; j++)
      {
        dpacct_event *e;
        ck_assert_int_eq (dpacct_dpsgd_event_alloc (sigmas[i], 1.0,
                                                    (uint64_t) steps[j],
                                                    DPACCT_SAMPLING_NONE, &e),
                          DPACCT_OK);
        for (size_t k = 0; k < 2; k++)
          {
            double exact = test_exact_gaussian_epsilon (0.5 * sigmas[i],
                                                        steps[j], deltas[k]);
            dpacct_bound b = epsilon_of (dpacct_accountant_pld, e, deltas[k],
                                         DPACCT_REPLACE_ONE);
            ck_assert_msg (b.lower <= exact && exact <= b.upper
                           && b.upper <= exact * (1.0 + 1e-3),
                           "sigma %g T %g delta %g: [%.12g, %.12g], exact at "
                           "sigma / 2 %.12g", sigmas[i], steps[j], deltas[k],
                           b.lower, b.upper, exact);
          }
        dpacct_event_free (e);
      }
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("pld_replace");
  TCase *tc = tcase_create ("core");
  tcase_set_timeout (tc, 300);
  tcase_add_test (tc, test_one_step_against_references);
  tcase_add_test (tc, test_group_epsilon);
  tcase_add_test (tc, test_small_noise_lower);
  tcase_add_test (tc, test_sandwiches_over_steps);
  tcase_add_test (tc, test_rdp_replace_one);
  tcase_add_test (tc, test_laplace);
  tcase_add_test (tc, test_unsampled_is_gaussian_at_half_sigma);
  suite_add_tcase (s, tc);
  return test_run_suite (s);
}
