/* check_pld_certified.c - the PLD accountant's certified upper bound:
 * every certified step mass at least the exact connect-the-dots one
 * (computed here in MPFR) and close to it, the certified epsilon and delta at
 * least the exact values of T Gaussian steps (computed here in MPFR) and
 * within 1 % of them, and on subsampled runs between the proved lower
 * bound and certified RDP. */
#include <dpacct.h>
#include "pld_internal.h"
#include "testutil.h"

#include <mpfr.h>
#include <stdlib.h>

static dpacct_accountant *
certified_accountant (const dpacct_accountant_type *type, const dpacct_event *e)
{
  dpacct_accountant_options o;
  dpacct_accountant *acc;
  dpacct_accountant_options_init (&o);
  dpacct_accountant_options_set_int (&o, "certified", 1);
  ck_assert_int_eq (dpacct_accountant_alloc (type, &o, &acc), DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_compose (acc, e, 1), DPACCT_OK);
  return acc;
}

static dpacct_bound
certified_epsilon (const dpacct_accountant_type *type, const dpacct_event *e,
                   double delta)
{
  dpacct_accountant *acc = certified_accountant (type, e);
  dpacct_bound b;
  ck_assert_int_eq (dpacct_accountant_epsilon (acc, delta, &b), DPACCT_OK);
  ck_assert (b.certified);
  dpacct_accountant_free (acc);
  return b;
}

/* out = (1 - q) a + b, with 1 - q in MPFR (not rounded in double). */
static void
mix_with_rest (mpfr_ptr out, mpfr_srcptr a, double q, mpfr_srcptr b)
{
  mpfr_t w;
  mpfr_init2 (w, 256);
  mpfr_set_d (w, q, MPFR_RNDN);
  mpfr_ui_sub (w, 1, w, MPFR_RNDN);
  mpfr_mul (w, w, a, MPFR_RNDN);
  mpfr_add (out, w, b, MPFR_RNDN);
  mpfr_clear (w);
}

/* Pbar(z) = P(X > z), X standard normal, at 256 bits. */
static void
normal_upper (mpfr_ptr out, mpfr_srcptr z)
{
  mpfr_t root2;
  mpfr_init2 (root2, 256);
  mpfr_sqrt_ui (root2, 2, MPFR_RNDN);
  mpfr_div (out, z, root2, MPFR_RNDN);
  mpfr_erfc (out, out, MPFR_RNDN);
  mpfr_div_2ui (out, out, 1, MPFR_RNDN);
  mpfr_clear (root2);
}

/* Pbar(sign (s theta + shift / (2 s))). */
static void
base_tail (double s, mpfr_srcptr theta, double shift, int sign, mpfr_ptr out)
{
  mpfr_t z, c;
  mpfr_inits2 (256, z, c, (mpfr_ptr) 0);
  mpfr_set_d (c, shift / 2.0, MPFR_RNDN); /* exact: shift is +-1 */
  mpfr_div_d (c, c, s, MPFR_RNDN);
  mpfr_mul_d (z, theta, s, MPFR_RNDN);
  mpfr_add (z, z, c, MPFR_RNDN);
  if (sign < 0)
    mpfr_neg (z, z, MPFR_RNDN);
  normal_upper (out, z);
  mpfr_clears (z, c, (mpfr_ptr) 0);
}

/* P(L > e) and e^e Q(L > e) for the Poisson-subsampled Gaussian pair of
 * scale s and rate q, at 256 bits.  Remove: the base loss
 * l = (2x - 1)/(2 s^2) must pass theta = log((e^e - 1 + q)/q), so
 * Q = Pbar(s theta + 1/(2s)) and P = (1-q) Q + q Pbar(s theta - 1/(2s));
 * add: l must stay below theta = log((e^-e - 1 + q)/q), so
 * P = Pbar(-(s theta + 1/(2s))) and Q = (1-q) P + q Pbar(-(s theta -
 * 1/(2s))).  q = 1 is the unsampled pair (theta = +-e). */
static void
exact_tails (const pld_pair *pair, mpfr_srcptr e, mpfr_ptr p,
             mpfr_ptr q_scaled)
{
  int add = pair->direction == PLD_ADD;
  double s = pair->scale, q = pair->q;
  mpfr_t theta, other;
  mpfr_inits2 (256, theta, other, (mpfr_ptr) 0);
  mpfr_set (theta, e, MPFR_RNDN);
  if (add)
    mpfr_neg (theta, theta, MPFR_RNDN);
  if (q < 1.0)
    {
      mpfr_expm1 (theta, theta, MPFR_RNDN);
      mpfr_add_d (theta, theta, q, MPFR_RNDN);
      if (mpfr_sgn (theta) <= 0)
        mpfr_set_inf (theta, -1);
      else
        {
          mpfr_div_d (theta, theta, q, MPFR_RNDN);
          mpfr_log (theta, theta, MPFR_RNDN);
        }
    }
  mpfr_ptr near = add ? p : q_scaled; /* the unmixed side's tail */
  mpfr_ptr far = add ? q_scaled : p;
  base_tail (s, theta, 1.0, add ? -1 : 1, near);
  base_tail (s, theta, -1.0, add ? -1 : 1, other);
  mpfr_mul_d (other, other, q, MPFR_RNDN);
  mix_with_rest (far, near, q, other);
  mpfr_exp (other, e, MPFR_RNDN);
  mpfr_mul (q_scaled, q_scaled, other, MPFR_RNDN);
  mpfr_clears (theta, other, (mpfr_ptr) 0);
}

/* The exact connect-the-dots masses of that pair (Doroshenko et al. 2022:
 * interval (e_k, e_k+1] with P-mass p and Q-mass r gives
 * (p - e^e_k r) / (1 - e^-h) to e_k+1 and the rest to e_k), at 256 bits. */
static double *
exact_masses (const pld_pair *pair, double h, long first, size_t n,
              double *infinity)
{
  double *mass = calloc (n, sizeof *mass);
  mpfr_t e, pa, qa, pb, qb, pm, up, scale, t;
  mpfr_inits2 (256, e, pa, qa, pb, qb, pm, up, scale, t, (mpfr_ptr) 0);
  mpfr_set_d (t, -h, MPFR_RNDN);
  mpfr_expm1 (scale, t, MPFR_RNDN);
  mpfr_neg (scale, scale, MPFR_RNDN); /* 1 - e^-h */
  mpfr_set_si (e, first, MPFR_RNDN);
  mpfr_mul_d (e, e, h, MPFR_RNDN);
  exact_tails (pair, e, pa, qa);
  mpfr_ui_sub (t, 1, pa, MPFR_RNDN);
  mass[0] = mpfr_get_d (t, MPFR_RNDN);
  for (size_t k = 0; k + 1 < n; k++)
    {
      mpfr_set_si (e, first + (long) k + 1, MPFR_RNDN);
      mpfr_mul_d (e, e, h, MPFR_RNDN);
      exact_tails (pair, e, pb, qb);
      mpfr_sub (pm, pa, pb, MPFR_RNDN);
      /* e^{e_k} Q-mass = qa - e^{-h} qb (both scaled by their own e^e) */
      mpfr_set_d (t, -h, MPFR_RNDN);
      mpfr_exp (t, t, MPFR_RNDN);
      mpfr_mul (t, t, qb, MPFR_RNDN);
      mpfr_sub (t, qa, t, MPFR_RNDN);
      mpfr_sub (up, pm, t, MPFR_RNDN);
      mpfr_div (up, up, scale, MPFR_RNDN);
      mass[k + 1] += mpfr_get_d (up, MPFR_RNDN);
      mpfr_sub (pm, pm, up, MPFR_RNDN);
      mass[k] += mpfr_get_d (pm, MPFR_RNDN);
      mpfr_swap (pa, pb);
      mpfr_swap (qa, qb);
    }
  *infinity = mpfr_get_d (pa, MPFR_RNDN);
  mpfr_clears (e, pa, qa, pb, qb, pm, up, scale, t, (mpfr_ptr) 0);
  return mass;
}

/* The step's grid, from the pair's range at tail e^-30. */
static void
grid_for (const pld_pair *pair, double h, long *first, size_t *n)
{
  double lo, hi;
  dpacct_pld_pair_range (pair, 30.0, &lo, &hi);
  *first = (long) floor (lo / h) - 1;
  *n = (size_t) (ceil (hi / h) + 2 - (double) *first);
}

/* Every certified mass at least the exact one (computed here at 256
 * bits), and above it by no more than the tails' interval width: at 64
 * bits, about 1e-17 absolute where a tail is near 1. */
START_TEST (test_step_masses)
{
  const double scales[] = { 0.8, 2.0 }, rates[] = { 1.0, 0.3, 0.01 };
  for (size_t i = 0; i < 2; i++)
    for (size_t j = 0; j < 3; j++)
      for (int dir = 0; dir < 2; dir++)
        {
          pld_pair pair = { PLD_GAUSSIAN, scales[i], rates[j],
                            dir ? PLD_ADD : PLD_REMOVE };
          double h = 0.05, inf, total = 0.0;
          long first;
          size_t n;
          grid_for (&pair, h, &first, &n);
          pld_step cert;
          ck_assert_int_eq (dpacct_pld_certified_step (&pair, h, first, n,
                                                       &cert), DPACCT_OK);
          double *exact = exact_masses (&pair, h, first, n, &inf);
          for (size_t k = 0; k < n; k++)
            {
              ck_assert_msg (cert.mass[k] >= exact[k]
                             && cert.mass[k] <= exact[k] * (1.0 + 1e-9) + 1e-16,
                             "s=%g q=%g dir=%d k=%zu: certified %.17g, exact "
                             "%.17g", scales[i], rates[j], dir, k,
                             cert.mass[k], exact[k]);
              total += cert.mass[k];
            }
          ck_assert (cert.infinity >= inf
                     && cert.infinity <= inf * (1.0 + 1e-9) + 1e-16);
          ck_assert_msg (total + cert.infinity >= 1.0 - 1e-15,
                         "s=%g q=%g dir=%d: total %.17g", scales[i], rates[j],
                         dir, total + cert.infinity);
          free (exact);
          dpacct_pld_step_release (&cert);
        }
}
END_TEST

/* T Gaussian steps: exact <= certified upper <= exact (1 + 1e-2), for
 * epsilon and for delta. */
START_TEST (test_gaussian_exact)
{
  const double sigmas[] = { 0.5, 2, 10 };
  const double steps[] = { 1, 100, 10000 };
  const double deltas[] = { 1e-10, 1e-5 };
  for (size_t i = 0; i < 3; i++)
    for (size_t j = 0; j < 3; j++)
      {
        dpacct_event *e;
        ck_assert_int_eq (dpacct_dpsgd_event_alloc (sigmas[i], 1.0,
                                                    (uint64_t) steps[j],
                                                    DPACCT_SAMPLING_NONE, &e),
                          DPACCT_OK);
        dpacct_accountant *acc = certified_accountant (dpacct_accountant_pld, e);
        for (size_t k = 0; k < 2; k++)
          {
            double exact = test_exact_gaussian_epsilon (sigmas[i], steps[j],
                                                        deltas[k]);
            dpacct_bound b, d;
            ck_assert_int_eq (dpacct_accountant_epsilon (acc, deltas[k], &b),
                              DPACCT_OK);
            ck_assert_msg (b.certified && exact <= b.upper
                           && b.upper <= exact * (1.0 + 1e-2),
                           "sigma=%g T=%g delta=%g: certified %.12g, exact "
                           "%.12g", sigmas[i], steps[j], deltas[k], b.upper,
                           exact);
            if (deltas[k] != 1e-5)
              continue; /* delta(eps) at one delta: each costs an epsilon */
            double exact_delta = test_exact_gaussian_delta (sigmas[i], steps[j],
                                                            exact);
            ck_assert_int_eq (dpacct_accountant_delta (acc, exact, &d),
                              DPACCT_OK);
            ck_assert_msg (d.certified && exact_delta <= d.upper,
                           "sigma=%g T=%g eps=%g: certified delta %.12g below "
                           "the exact %.12g", sigmas[i], steps[j], exact,
                           d.upper, exact_delta);
            /* As tight as the epsilon side: 1 % further out, below. */
            ck_assert_int_eq (dpacct_accountant_delta (acc, exact * 1.01, &d),
                              DPACCT_OK);
            ck_assert_msg (d.upper <= exact_delta,
                           "sigma=%g T=%g: certified delta %.12g at 1.01 eps "
                           "above %.12g", sigmas[i], steps[j], d.upper,
                           exact_delta);
          }
        dpacct_accountant_free (acc);
        dpacct_event_free (e);
      }
}
END_TEST

/* Poisson-subsampled Gaussian: the plain (proved) lower bound <= the
 * certified upper <= certified RDP, and within 1 % of the plain upper. */
START_TEST (test_subsampled)
{
  const struct { double q, sigma, steps, delta; } r[] = {
    { 0.1, 1.0, 100, 1e-5 }, { 0.01, 2.0, 1000, 1e-8 }, { 0.05, 0.7, 300, 1e-6 },
  };
  for (size_t i = 0; i < sizeof r / sizeof r[0]; i++)
    {
      dpacct_event *e;
      ck_assert_int_eq (dpacct_dpsgd_event_alloc (r[i].sigma, r[i].q,
                                                  (uint64_t) r[i].steps,
                                                  DPACCT_SAMPLING_POISSON, &e),
                        DPACCT_OK);
      dpacct_accountant *acc;
      dpacct_bound plain;
      ck_assert_int_eq (dpacct_accountant_alloc (dpacct_accountant_pld, NULL,
                                                 &acc), DPACCT_OK);
      ck_assert_int_eq (dpacct_accountant_compose (acc, e, 1), DPACCT_OK);
      ck_assert_int_eq (dpacct_accountant_epsilon (acc, r[i].delta, &plain),
                        DPACCT_OK);
      dpacct_accountant_free (acc);
      dpacct_bound cert = certified_epsilon (dpacct_accountant_pld, e, r[i].delta);
      dpacct_bound rdp = certified_epsilon (dpacct_accountant_rdp, e, r[i].delta);
      ck_assert_msg (plain.lower <= cert.upper && cert.upper <= rdp.upper
                     && cert.upper <= plain.upper * (1.0 + 1e-2),
                     "q=%g sigma=%g T=%g delta=%g: plain [%.10g, %.10g], "
                     "certified %.10g, certified RDP %.10g", r[i].q,
                     r[i].sigma, r[i].steps, r[i].delta, plain.lower,
                     plain.upper, cert.upper, rdp.upper);
      dpacct_event_free (e);
    }
}
END_TEST

/* Certified steps are Gaussian only: Laplace is refused, atomically. */
START_TEST (test_laplace_refused)
{
  dpacct_accountant_options o;
  dpacct_accountant *acc;
  dpacct_event *lap, *sampled;
  dpacct_accountant_options_init (&o);
  dpacct_accountant_options_set_int (&o, "certified", 1);
  ck_assert_int_eq (dpacct_accountant_alloc (dpacct_accountant_pld, &o, &acc),
                    DPACCT_OK);
  ck_assert_int_eq (dpacct_event_laplace_alloc (1.0, &lap), DPACCT_OK);
  ck_assert_int_eq (dpacct_event_poisson_alloc (0.1, lap, &sampled),
                    DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_compose (acc, lap, 1), DPACCT_EUNSUP);
  ck_assert_int_eq (dpacct_accountant_compose (acc, sampled, 1), DPACCT_EUNSUP);
  dpacct_bound b;
  ck_assert_int_eq (dpacct_accountant_epsilon (acc, 1e-5, &b), DPACCT_OK);
  ck_assert (b.upper == 0.0);
  dpacct_accountant_free (acc);
  dpacct_event_free (sampled);
  dpacct_event_free (lap);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("pld_certified");
  TCase *tc = tcase_create ("certified");
  tcase_set_timeout (tc, 600);
  tcase_add_test (tc, test_step_masses);
  tcase_add_test (tc, test_gaussian_exact);
  tcase_add_test (tc, test_subsampled);
  tcase_add_test (tc, test_laplace_refused);
  suite_add_tcase (s, tc);
  return test_run_suite (s);
}
