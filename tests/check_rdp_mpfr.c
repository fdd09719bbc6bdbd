/* check_rdp_mpfr.c - the double-precision log A_alpha against an MPFR
 * enclosure computed at 256 bits with outward rounding, over the range
 * dp_accounting checks (q in [1e-7, 0.999], sigma in [0.1, 100], orders up
 * to 256); the enclosure's own soundness and outward rounding, and the
 * certified conversions'; at fractional orders from 3.7 to 40.5, the
 * quadrature against an independent MPFR integration; the conversion to
 * (epsilon, delta) against its closed form. */
#include <dpacct.h>
#include "testutil.h"

#include <mpfr.h>

#include "rdp_mpfr.h"

START_TEST (test_double_inside_enclosure)
{
  const double qs[] = { 1e-7, 1e-5, 1e-3, 0.01, 0.1, 0.5, 0.9, 0.999 };
  const double sigmas[] = { 0.1, 0.3, 1, 3, 10, 100 };
  const double orders[] = { 2, 3, 5, 8, 16, 32, 64, 128, 256 };
  for (size_t i = 0; i < 8; i++)
    for (size_t j = 0; j < 6; j++)
      for (size_t k = 0; k < 9; k++)
        {
          double lo, hi, value;
          ck_assert_int_eq (dpacct_rdp_sampled_gaussian_log_a_enclose (
                              qs[i], sigmas[j], orders[k], 256, &lo, &hi),
                            DPACCT_OK);
          ck_assert (lo <= hi && hi <= nextafter (nextafter (lo, INFINITY),
                                                  INFINITY));
          ck_assert_int_eq (dpacct_rdp_sampled_gaussian_log_a (
                              qs[i], sigmas[j], orders[k], &value), DPACCT_OK);
          ck_assert_rel (value, 0.5 * (lo + hi), 1e-10,
                         "q=%g sigma=%g order=%g", qs[i], sigmas[j], orders[k]);
        }
}
END_TEST

/* Low precision widens the enclosure but never loses the true value. */
START_TEST (test_enclosure_widens_soundly)
{
  double lo64, hi64, lo256, hi256;
  ck_assert_int_eq (dpacct_rdp_sampled_gaussian_log_a_enclose (
                      0.01, 0.8, 64, 64, &lo64, &hi64), DPACCT_OK);
  ck_assert_int_eq (dpacct_rdp_sampled_gaussian_log_a_enclose (
                      0.01, 0.8, 64, 256, &lo256, &hi256), DPACCT_OK);
  ck_assert (lo64 <= lo256 && hi256 <= hi64);
}
END_TEST

/* log A_alpha = log E_{z ~ N(0, sigma^2)} (1 - q + q e^{(2z - 1) / (2 sigma^2)})^alpha
 * in MPFR at PREC bits, by the plain trapezoidal rule on the integrand
 * itself (not the library's f(u) = (1 + u)^a - 1 - a u form, its range
 * search or its stopping rule): on [-40 sigma, alpha + 40 sigma], which
 * holds both the Gaussian bump at 0 and the one at alpha to e^-800, with
 * step h = min(sigma / 4, pi sigma^2 / 20).  The integrand is analytic in
 * the strip |Im z| < pi sigma^2 (the power's branch points) and grows by
 * at most e^{y^2 / (2 sigma^2)} inside it, so the rule errs by about
 * e^{-2 pi y / h + y^2 / (2 sigma^2)} relative, for y below that width:
 * below e^-113 (1e-49) for every sigma. */
static double
reference_log_a (double q, double sigma, double alpha, mpfr_prec_t prec)
{
  double h = fmin (sigma / 4.0, M_PI * sigma * sigma / 20.0);
  double lo = -40.0 * sigma, hi = alpha + 40.0 * sigma;
  long n = (long) ceil ((hi - lo) / h);
  mpfr_t z, w, t, lnorm, sum, s2, one_minus_q;
  mpfr_inits2 (prec, z, w, t, lnorm, sum, s2, one_minus_q, (mpfr_ptr) 0);
  mpfr_set_d (s2, sigma, MPFR_RNDN);
  mpfr_sqr (s2, s2, MPFR_RNDN); /* sigma^2, exact */
  mpfr_const_pi (lnorm, MPFR_RNDN);
  mpfr_mul_2ui (lnorm, lnorm, 1, MPFR_RNDN);
  mpfr_sqrt (lnorm, lnorm, MPFR_RNDN);
  mpfr_mul_d (lnorm, lnorm, sigma, MPFR_RNDN);
  mpfr_log (lnorm, lnorm, MPFR_RNDN); /* log(sigma sqrt(2 pi)) */
  mpfr_set_d (one_minus_q, 1.0, MPFR_RNDN);
  mpfr_sub_d (one_minus_q, one_minus_q, q, MPFR_RNDN);
  mpfr_set_zero (sum, 1);
  for (long i = 0; i <= n; i++)
    {
      /* z = lo + i h, with h stretched so that z ends at hi. */
      mpfr_set_d (z, hi - lo, MPFR_RNDN);
      mpfr_mul_si (z, z, i, MPFR_RNDN);
      mpfr_div_si (z, z, n, MPFR_RNDN);
      mpfr_add_d (z, z, lo, MPFR_RNDN);
      /* alpha log(1 - q + q e^{(2z - 1) / (2 sigma^2)}) */
      mpfr_mul_2ui (w, z, 1, MPFR_RNDN);
      mpfr_sub_ui (w, w, 1, MPFR_RNDN);
      mpfr_div (w, w, s2, MPFR_RNDN);
      mpfr_div_2ui (w, w, 1, MPFR_RNDN);
      mpfr_exp (w, w, MPFR_RNDN);
      mpfr_mul_d (w, w, q, MPFR_RNDN);
      mpfr_add (w, w, one_minus_q, MPFR_RNDN);
      mpfr_log (w, w, MPFR_RNDN);
      mpfr_mul_d (w, w, alpha, MPFR_RNDN);
      /* - z^2 / (2 sigma^2) - log(sigma sqrt(2 pi)) */
      mpfr_sqr (t, z, MPFR_RNDN);
      mpfr_div (t, t, s2, MPFR_RNDN);
      mpfr_div_2ui (t, t, 1, MPFR_RNDN);
      mpfr_sub (w, w, t, MPFR_RNDN);
      mpfr_sub (w, w, lnorm, MPFR_RNDN);
      mpfr_exp (w, w, MPFR_RNDN);
      if (i == 0 || i == n)
        mpfr_div_2ui (w, w, 1, MPFR_RNDN);
      mpfr_add (sum, sum, w, MPFR_RNDN);
    }
  mpfr_mul_d (sum, sum, hi - lo, MPFR_RNDN);
  mpfr_div_si (sum, sum, n, MPFR_RNDN);
  mpfr_log (sum, sum, MPFR_RNDN);
  double out = mpfr_get_d (sum, MPFR_RNDN);
  mpfr_clears (z, w, t, lnorm, sum, s2, one_minus_q, (mpfr_ptr) 0);
  return out;
}

/* The reference agrees with the certified binomial-sum enclosure at
 * integer orders (so its range and step are right), and the library's
 * quadrature agrees with it at mid-range fractional orders, where the
 * 50-digit table has none. */
START_TEST (test_fractional_orders_against_mpfr_integration)
{
  static const struct { double q, sigma, alpha; } integer[] = {
    { 0.001, 0.5, 41 }, { 0.1, 2.0, 11 }, { 0.3, 5.0, 4 },
  };
  for (size_t i = 0; i < sizeof integer / sizeof *integer; i++)
    {
      double lo, hi;
      ck_assert_int_eq (dpacct_rdp_sampled_gaussian_log_a_enclose (
                          integer[i].q, integer[i].sigma, integer[i].alpha,
                          256, &lo, &hi), DPACCT_OK);
      double ref = reference_log_a (integer[i].q, integer[i].sigma,
                                    integer[i].alpha, 128);
      ck_assert_msg (nextafter (lo, -INFINITY) <= ref
                     && ref <= nextafter (hi, INFINITY),
                     "q=%g sigma=%g order=%g: reference %.17g outside "
                     "[%.17g, %.17g]", integer[i].q, integer[i].sigma,
                     integer[i].alpha, ref, lo, hi);
    }
  /* Orders 3.7, 11.3, 25.5 and 40.5 over q 1e-4 to 0.5 and sigma 0.5 to
   * 10; at sigma 0.5 and 0.8 the mass at alpha lies beyond 40 sigma. */
  static const struct { double q, sigma, alpha; } frac[] = {
    { 0.01, 0.8, 3.7 },   { 1e-4, 10.0, 3.7 }, { 0.5, 0.7, 3.7 },
    { 0.1, 2.0, 11.3 },   { 0.05, 1.0, 11.3 }, { 0.001, 0.5, 11.3 },
    { 0.2, 0.8, 25.5 },   { 0.001, 0.5, 40.5 }, { 0.3, 5.0, 40.5 },
    { 0.01, 0.8, 40.5 },
  };
  for (size_t i = 0; i < sizeof frac / sizeof *frac; i++)
    {
      double value;
      ck_assert_int_eq (dpacct_rdp_sampled_gaussian_log_a (
                          frac[i].q, frac[i].sigma, frac[i].alpha, &value),
                        DPACCT_OK);
      double ref = reference_log_a (frac[i].q, frac[i].sigma, frac[i].alpha,
                                    128);
      ck_assert_rel (value, ref, 1e-10, "q=%g sigma=%g order=%g", frac[i].q,
                     frac[i].sigma, frac[i].alpha);
    }
}
END_TEST

/* The RDP-to-(epsilon, delta) conversion both ways, against its closed
 * form (Canonne, Kamath and Steinke 2020, Prop. 12) at 256 bits:
 *   eps   = r + log(1 - 1/a) - (log delta + log a) / (a - 1),
 *   delta = e^{(a - 1)(r - eps)} (1 - 1/a)^{a - 1} / a,
 * each from a given (a, r) and the other side's value. */
START_TEST (test_conversion_against_closed_form)
{
  static const struct { double a, r, delta, eps; } rows[] = {
    { 1.5, 0.02, 1e-5, 1.0 },  { 2.0, 0.3, 1e-8, 2.5 },
    { 3.7, 1.2, 1e-6, 4.0 },   { 11.3, 0.05, 1e-10, 0.7 },
    { 40.5, 0.8, 1e-5, 1.3 },  { 256.0, 0.01, 1e-12, 0.2 },
  };
  mpfr_t a, t, u, v;
  mpfr_inits2 (256, a, t, u, v, (mpfr_ptr) 0);
  for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
    {
      double order = rows[i].a, r = rows[i].r;
      mpfr_set_d (a, order, MPFR_RNDN);
      /* log(1 - 1/a) into u, log a into v */
      mpfr_ui_div (u, 1, a, MPFR_RNDN);
      mpfr_ui_sub (u, 1, u, MPFR_RNDN);
      mpfr_log (u, u, MPFR_RNDN);
      mpfr_log (v, a, MPFR_RNDN);
      /* eps = r + log(1 - 1/a) - (log delta + log a) / (a - 1) */
      mpfr_set_d (t, rows[i].delta, MPFR_RNDN);
      mpfr_log (t, t, MPFR_RNDN);
      mpfr_add (t, t, v, MPFR_RNDN);
      mpfr_div_d (t, t, order - 1.0, MPFR_RNDN);
      mpfr_sub (t, u, t, MPFR_RNDN);
      mpfr_add_d (t, t, r, MPFR_RNDN);
      double want_eps = mpfr_get_d (t, MPFR_RNDN), eps, delta;
      size_t index;
      ck_assert_int_eq (dpacct_rdp_epsilon (&order, &r, 1, rows[i].delta,
                                            &eps, &index), DPACCT_OK);
      ck_assert_rel (eps, want_eps, 1e-13, "epsilon at order %g", order);
      /* log delta = (a - 1)(r - eps + log(1 - 1/a)) - log a */
      mpfr_set_d (t, r, MPFR_RNDN);
      mpfr_sub_d (t, t, rows[i].eps, MPFR_RNDN);
      mpfr_add (t, t, u, MPFR_RNDN);
      mpfr_mul_d (t, t, order - 1.0, MPFR_RNDN);
      mpfr_sub (t, t, v, MPFR_RNDN);
      mpfr_exp (t, t, MPFR_RNDN);
      double want_delta = fmin (mpfr_get_d (t, MPFR_RNDN), 1.0);
      ck_assert_int_eq (dpacct_rdp_delta (&order, &r, 1, rows[i].eps, &delta,
                                          &index), DPACCT_OK);
      ck_assert_rel (delta, want_delta, 1e-11, "delta at order %g", order);
    }
  mpfr_clears (a, t, u, v, (mpfr_ptr) 0);
}
END_TEST

/* log A_alpha at an integer order by the binomial sum
 * A = sum_k binom(a, k) (1 - q)^(a - k) q^k e^{k (k - 1) / (2 sigma^2)}
 * (all terms positive), rounded to nearest at PREC bits into OUT. */
static void
binomial_log_a (mpfr_t out, double q, double sigma, unsigned long alpha)
{
  mpfr_prec_t prec = mpfr_get_prec (out);
  mpfr_t term, qq, pq, e;
  mpz_t binom;
  mpz_init (binom);
  mpfr_inits2 (prec, term, qq, pq, e, (mpfr_ptr) 0);
  mpfr_set_d (qq, q, MPFR_RNDN);
  mpfr_ui_sub (pq, 1, qq, MPFR_RNDN);
  mpfr_set_zero (out, 1);
  for (unsigned long k = 0; k <= alpha; k++)
    {
      mpz_bin_uiui (binom, alpha, k);
      mpfr_set_z (term, binom, MPFR_RNDN);
      mpfr_pow_ui (e, qq, k, MPFR_RNDN);
      mpfr_mul (term, term, e, MPFR_RNDN);
      mpfr_pow_ui (e, pq, alpha - k, MPFR_RNDN);
      mpfr_mul (term, term, e, MPFR_RNDN);
      mpfr_set_d (e, sigma, MPFR_RNDN);
      mpfr_sqr (e, e, MPFR_RNDN);
      mpfr_mul_2ui (e, e, 1, MPFR_RNDN);
      mpfr_ui_div (e, k * (k - (k > 0)), e, MPFR_RNDN);
      mpfr_exp (e, e, MPFR_RNDN);
      mpfr_mul (term, term, e, MPFR_RNDN);
      mpfr_add (out, out, term, MPFR_RNDN);
    }
  mpfr_log (out, out, MPFR_RNDN);
  mpfr_clears (term, qq, pq, e, (mpfr_ptr) 0);
  mpz_clear (binom);
}

/* The certified bounds round outward: the enclosure of log A holds the
 * binomial sum computed at 512 bits strictly inside, and the certified
 * conversions lie at or above the exact ones, by at most two ulps.
 * (Rounding any of them to nearest puts about half of these cases on the
 * wrong side.) */
START_TEST (test_certified_bounds_round_outward)
{
  const double qs[] = { 1e-5, 0.01, 0.3, 0.9 };
  const double sigmas[] = { 0.5, 1.0, 4.0 };
  const unsigned long orders[] = { 2, 3, 7, 20, 64 };
  mpfr_t ref, t, u;
  mpfr_inits2 (512, ref, t, u, (mpfr_ptr) 0);
  for (size_t i = 0; i < 4; i++)
    for (size_t j = 0; j < 3; j++)
      for (size_t k = 0; k < 5; k++)
        {
          double lo, hi;
          ck_assert_int_eq (dpacct_rdp_sampled_gaussian_log_a_enclose (
                              qs[i], sigmas[j], (double) orders[k], 256, &lo,
                              &hi), DPACCT_OK);
          binomial_log_a (ref, qs[i], sigmas[j], orders[k]);
          ck_assert_msg (mpfr_cmp_d (ref, lo) > 0 && mpfr_cmp_d (ref, hi) < 0,
                         "q=%g sigma=%g order=%lu: [%.17g, %.17g] misses "
                         "%.17g", qs[i], sigmas[j], orders[k], lo, hi,
                         mpfr_get_d (ref, MPFR_RNDN));
        }
  const double alphas[] = { 1.5, 2.0, 3.7, 11.3, 40.5, 256.0 };
  const double rdps[] = { 1e-4, 0.05, 0.8, 3.0 };
  for (size_t i = 0; i < 6; i++)
    for (size_t j = 0; j < 4; j++)
      {
        double a = alphas[i], r = rdps[j], delta = 1e-5, eps = 2.0;
        /* c = (a - 1) log(1 - 1/a) - log a */
        mpfr_set_d (u, a, MPFR_RNDN);
        mpfr_ui_div (t, 1, u, MPFR_RNDN);
        mpfr_ui_sub (t, 1, t, MPFR_RNDN);
        mpfr_log (t, t, MPFR_RNDN);
        mpfr_mul_d (t, t, a - 1.0, MPFR_RNDN);
        mpfr_log (u, u, MPFR_RNDN);
        mpfr_sub (t, t, u, MPFR_RNDN);
        /* eps = r + (c - log delta) / (a - 1) */
        mpfr_set_d (u, delta, MPFR_RNDN);
        mpfr_log (u, u, MPFR_RNDN);
        mpfr_sub (ref, t, u, MPFR_RNDN);
        mpfr_div_d (ref, ref, a - 1.0, MPFR_RNDN);
        mpfr_add_d (ref, ref, r, MPFR_RNDN);
        double up = dpacct_mpfr_epsilon_upper (a, r, delta);
        ck_assert_msg (mpfr_cmp_d (ref, up) <= 0
                       && up <= nextafter (nextafter (mpfr_get_d (
                                  ref, MPFR_RNDU), INFINITY), INFINITY),
                       "epsilon at order %g, rdp %g: %.17g vs %.17g", a, r,
                       up, mpfr_get_d (ref, MPFR_RNDN));
        /* delta = exp((a - 1)(r - eps) + c) */
        mpfr_set_d (ref, r, MPFR_RNDN);
        mpfr_sub_d (ref, ref, eps, MPFR_RNDN);
        mpfr_mul_d (ref, ref, a - 1.0, MPFR_RNDN);
        mpfr_add (ref, ref, t, MPFR_RNDN);
        mpfr_exp (ref, ref, MPFR_RNDN);
        up = dpacct_mpfr_delta_upper (a, r, eps);
        ck_assert_msg (mpfr_cmp_d (ref, up) <= 0
                       && up <= nextafter (nextafter (mpfr_get_d (
                                  ref, MPFR_RNDU), INFINITY), INFINITY),
                       "delta at order %g, rdp %g: %.17g vs %.17g", a, r, up,
                       mpfr_get_d (ref, MPFR_RNDN));
      }
  mpfr_clears (ref, t, u, (mpfr_ptr) 0);
  mpfr_free_cache ();
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("rdp_mpfr");
  TCase *tc = tcase_create ("enclosure");
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_double_inside_enclosure);
  tcase_add_test (tc, test_enclosure_widens_soundly);
  tcase_add_test (tc, test_certified_bounds_round_outward);
  suite_add_tcase (s, tc);
  TCase *frac = tcase_create ("fractional");
  tcase_set_timeout (frac, 120);
  tcase_add_test (frac, test_fractional_orders_against_mpfr_integration);
  tcase_add_test (frac, test_conversion_against_closed_form);
  suite_add_tcase (s, frac);
  return test_run_suite (s);
}
