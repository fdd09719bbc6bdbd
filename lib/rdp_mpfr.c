/* rdp_mpfr.c - subsampled-Gaussian RDP and its conversion with MPFR and
 * directed rounding, so that an upper bound is proved, not estimated.
 *
 * Every quantity below is a sum or product of positive terms, each rounded
 * in the direction of the bound; subtracted terms are rounded the other
 * way. */
#include "dpacct/rdp.h"
#include "internal.h"
#include "rdp_mpfr.h"

#include <gmp.h>
#include <math.h>

static mpfr_rnd_t
opposite (mpfr_rnd_t dir)
{
  return dir == MPFR_RNDU ? MPFR_RNDD : MPFR_RNDU;
}

int
dpacct_mpfr_sampled_gaussian_log_a (mpfr_t out, double q, double sigma,
                                    unsigned long alpha, mpfr_rnd_t dir)
{
  mpfr_prec_t prec = mpfr_get_prec (out);
  mpfr_t sum, term, factor, one_minus_q, two_var;
  mpz_t binom;
  mpfr_inits2 (prec, sum, term, factor, one_minus_q, two_var, (mpfr_ptr) 0);
  mpz_init (binom);
  /* 1 - q and 2 sigma^2 are exact inputs' functions, rounded so that each
   * term moves in direction dir: (1-q)^j grows with 1-q; the exponent
   * (k^2-k)/(2 sigma^2) shrinks as 2 sigma^2 grows. */
  mpfr_set_d (factor, q, dir); /* exact: prec >= 53 */
  mpfr_ui_sub (one_minus_q, 1, factor, dir);
  mpfr_set_d (two_var, sigma, opposite (dir));
  mpfr_sqr (two_var, two_var, opposite (dir));
  mpfr_mul_2ui (two_var, two_var, 1, opposite (dir));
  mpfr_set_zero (sum, 1);
  /* A - 1 = sum_{k=2..a} binom(a,k) (1-q)^{a-k} q^k expm1((k^2-k)/(2 s^2)) */
  for (unsigned long k = 2; k <= alpha; k++)
    {
      mpz_bin_uiui (binom, alpha, k);
      mpfr_set_z (term, binom, dir);
      mpfr_set_d (factor, q, dir);
      mpfr_pow_ui (factor, factor, k, dir);
      mpfr_mul (term, term, factor, dir);
      mpfr_pow_ui (factor, one_minus_q, alpha - k, dir);
      mpfr_mul (term, term, factor, dir);
      mpfr_set_ui (factor, k * (k - 1), dir);
      mpfr_div (factor, factor, two_var, dir);
      mpfr_expm1 (factor, factor, dir);
      mpfr_mul (term, term, factor, dir);
      mpfr_add (sum, sum, term, dir);
    }
  mpfr_log1p (out, sum, dir);
  mpfr_clears (sum, term, factor, one_minus_q, two_var, (mpfr_ptr) 0);
  mpz_clear (binom);
  return DPACCT_OK;
}

int
dpacct_rdp_sampled_gaussian_log_a_enclose (double q, double sigma,
                                           double alpha, long precision,
                                           double *lo, double *hi)
{
  *lo = NAN;
  *hi = NAN;
  if (!(q > 0.0 && q <= 1.0) || !(sigma > 0.0) || !isfinite (sigma))
    return DPACCT_FAIL (DPACCT_EDOM, "need 0 < q <= 1 and finite sigma > 0");
  if (!(alpha >= 2.0) || alpha != floor (alpha) || alpha > 1e5)
    return DPACCT_FAIL (DPACCT_EUNSUP,
                        "MPFR enclosure at integer orders 2..10^5 only");
  if (precision < MPFR_PREC_MIN + 53 || precision > 100000)
    return DPACCT_FAIL (DPACCT_EDOM, "precision must be in [55, 100000] bits");
  mpfr_t bound;
  mpfr_init2 (bound, (mpfr_prec_t) precision);
  dpacct_mpfr_sampled_gaussian_log_a (bound, q, sigma, (unsigned long) alpha,
                                      MPFR_RNDD);
  *lo = mpfr_get_d (bound, MPFR_RNDD);
  dpacct_mpfr_sampled_gaussian_log_a (bound, q, sigma, (unsigned long) alpha,
                                      MPFR_RNDU);
  *hi = mpfr_get_d (bound, MPFR_RNDU);
  mpfr_clear (bound);
  mpfr_free_cache2 (MPFR_FREE_LOCAL_CACHE); /* lost when a thread ends */
  return DPACCT_OK;
}

/* Working precision of the conversions: far beyond double, so that the
 * rounded-up result is at most an ulp or two above the exact one. */
#define CONVERSION_PREC 128

/* out = (a-1) log(1 - 1/a) - log a, rounded in direction dir. */
static void
conversion_constant (mpfr_t out, double alpha, mpfr_rnd_t dir)
{
  mpfr_t a, t;
  mpfr_inits2 (CONVERSION_PREC, a, t, (mpfr_ptr) 0);
  mpfr_set_d (a, alpha, MPFR_RNDN); /* exact: 128 bits hold a double */
  mpfr_ui_div (t, 1, a, opposite (dir));   /* 1/a */
  mpfr_ui_sub (t, 1, t, dir);              /* 1 - 1/a */
  mpfr_log (t, t, dir);                    /* negative */
  mpfr_sub_ui (out, a, 1, MPFR_RNDN);      /* a - 1, exact */
  mpfr_mul (out, out, t, dir);
  mpfr_log (t, a, opposite (dir));
  mpfr_sub (out, out, t, dir);
  mpfr_clears (a, t, (mpfr_ptr) 0);
}

double
dpacct_mpfr_epsilon_upper (double alpha, double rdp, double delta)
{
  /* eps = rdp + [ (a-1) log(1-1/a) - log a - log delta ] / (a - 1) */
  mpfr_t num, t;
  mpfr_inits2 (CONVERSION_PREC, num, t, (mpfr_ptr) 0);
  conversion_constant (num, alpha, MPFR_RNDU);
  mpfr_set_d (t, delta, MPFR_RNDN);
  mpfr_log (t, t, MPFR_RNDD);
  mpfr_sub (num, num, t, MPFR_RNDU);
  mpfr_set_d (t, alpha, MPFR_RNDN);
  mpfr_sub_ui (t, t, 1, MPFR_RNDN);
  mpfr_div (num, num, t, MPFR_RNDU);
  mpfr_set_d (t, rdp, MPFR_RNDN);
  mpfr_add (num, num, t, MPFR_RNDU);
  double eps = mpfr_get_d (num, MPFR_RNDU);
  mpfr_clears (num, t, (mpfr_ptr) 0);
  return eps;
}

double
dpacct_mpfr_delta_upper (double alpha, double rdp, double epsilon)
{
  mpfr_t x, t;
  mpfr_inits2 (CONVERSION_PREC, x, t, (mpfr_ptr) 0);
  mpfr_set_d (x, rdp, MPFR_RNDN);
  mpfr_set_d (t, epsilon, MPFR_RNDN);
  mpfr_sub (x, x, t, MPFR_RNDU);
  mpfr_set_d (t, alpha, MPFR_RNDN);
  mpfr_sub_ui (t, t, 1, MPFR_RNDN);
  mpfr_mul (x, x, t, MPFR_RNDU);
  conversion_constant (t, alpha, MPFR_RNDU);
  mpfr_add (x, x, t, MPFR_RNDU);
  mpfr_exp (x, x, MPFR_RNDU);
  double delta = mpfr_get_d (x, MPFR_RNDU);
  mpfr_clears (x, t, (mpfr_ptr) 0);
  return delta;
}
