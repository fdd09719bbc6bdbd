/* logmath.c - log-space arithmetic. */
#include "logmath.h"

#include <math.h>
#include <gsl/gsl_sf_erf.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_errno.h>

double
dpacct_log_add (double a, double b)
{
  if (isnan (a) || isnan (b))
    return NAN; /* fmax and fmin below would drop a NaN */
  if (a == -INFINITY)
    return b;
  if (b == -INFINITY)
    return a;
  double hi = fmax (a, b), lo = fmin (a, b);
  return hi + log1p (exp (lo - hi));
}

double
dpacct_log_sub (double a, double b)
{
  if (b == -INFINITY)
    return a;
  if (a < b)
    return NAN;
  if (a == b)
    return -INFINITY;
  /* log(e^a - e^b) = a + log(1 - e^(b-a)) */
  return a + log (-expm1 (b - a));
}

double
dpacct_log_expm1 (double x)
{
  if (x > 40.0)
    return x + log1p (-exp (-x));
  return log (expm1 (x));
}

double
dpacct_log1p_exp (double x)
{
  if (x > 40.0)
    return x + log1p (exp (-x));
  return log1p (exp (x));
}

double
dpacct_log_erfc (double x)
{
  /* Below 25, erfc(x) >= 1e-273 is a normal double with the C library's
   * relative accuracy, and twice as fast as GSL's log_erfc.  Beyond, GSL's
   * _e form (it never calls the error handler) follows the far tail. */
  if (x < 25.0)
    return log (erfc (x));
  if (x == INFINITY)
    return -INFINITY;
  gsl_sf_result r;
  if (gsl_sf_log_erfc_e (x, &r) != GSL_SUCCESS)
    return NAN;
  return r.val;
}

double
dpacct_log_abs_binom (double a, double k)
{
  if (k == 0.0)
    return 0.0;
  if (a == floor (a) && k > a)
    return -INFINITY;
  gsl_sf_result la, lk, lak;
  double sgn;
  if (gsl_sf_lngamma_e (a + 1.0, &la) != GSL_SUCCESS
      || gsl_sf_lngamma_e (k + 1.0, &lk) != GSL_SUCCESS
      || gsl_sf_lngamma_sgn_e (a - k + 1.0, &lak, &sgn) != GSL_SUCCESS)
    return NAN;
  return la.val - lk.val - lak.val;
}
