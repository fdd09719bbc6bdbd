/* sampler_gaussian.c - the normal distribution's tails in log space, and
 * the exact privacy curve of the Gaussian mechanism (Balle and Wang 2018),
 * which is the proved upper bound of every epoch-based sampler: each
 * example sits in exactly one batch per epoch. */
#include "sampler_internal.h"
#include "dpacct/sampler.h"
#include "internal.h"
#include "logmath.h"

#include <float.h>
#include <math.h>

double
dpacct_log_phi (double x)
{
  if (x < 0.0)
    return dpacct_log_erfc (-x / M_SQRT2) - M_LN2;
  return log1p (-0.5 * erfc (x / M_SQRT2));
}

/* Phi(b) - Phi(a), from the tail where both are small. */
double
dpacct_normal_interval (double a, double b)
{
  if (!(b > a))
    return 0.0;
  if (a >= 0.0)
    return 0.5 * (erfc (a / M_SQRT2) - erfc (b / M_SQRT2));
  if (b <= 0.0)
    return 0.5 * (erfc (-b / M_SQRT2) - erfc (-a / M_SQRT2));
  return 1.0 - 0.5 * (erfc (-a / M_SQRT2) + erfc (b / M_SQRT2));
}

/* delta(eps) = Phi(1/(2s) - eps s) - e^eps Phi(-1/(2s) - eps s), as
 * e^{log A} (1 - e^{log B - log A}) so that tiny deltas keep their digits. */
static double
gaussian_delta (double s, double eps)
{
  double la = dpacct_log_phi (0.5 / s - eps * s);
  double lb = eps + dpacct_log_phi (-0.5 / s - eps * s);
  if (!(lb < la))
    return 0.0;
  return exp (la) * -expm1 (lb - la);
}

int
dpacct_gaussian_exact_delta (double sigma, double epsilon, double *delta)
{
  *delta = NAN;
  if (!(sigma > 0.0) || !isfinite (sigma) || !(epsilon >= 0.0)
      || !isfinite (epsilon))
    return DPACCT_FAIL (DPACCT_EDOM, "sigma must be positive and finite, "
                                     "epsilon non-negative and finite");
  *delta = gaussian_delta (sigma, epsilon);
  return DPACCT_OK;
}

/* Relative error of gaussian_delta: a few roundings of log-erfc and exp,
 * far below this margin; the answer is a point whose computed delta is
 * below the target by the margin, so its true delta is below the target. */
#define GAUSSIAN_DELTA_MARGIN 1e-12

int
dpacct_gaussian_exact_epsilon (double sigma, double delta, double *epsilon)
{
  *epsilon = NAN;
  if (!(sigma > 0.0) || !isfinite (sigma) || !(delta > 0.0) || !(delta < 1.0))
    return DPACCT_FAIL (DPACCT_EDOM, "sigma must be positive and finite, "
                                     "delta in (0, 1)");
  double target = delta * (1.0 - GAUSSIAN_DELTA_MARGIN);
  if (gaussian_delta (sigma, 0.0) <= target)
    {
      *epsilon = 0.0;
      return DPACCT_OK;
    }
  double lo = 0.0, hi = 1.0;
  while (gaussian_delta (sigma, hi) > target)
    {
      lo = hi;
      hi *= 2.0;
      if (hi > 1e300)
        {
          *epsilon = INFINITY;
          return DPACCT_OK;
        }
    }
  for (int i = 0; i < 200 && hi - lo > 4.0 * DBL_EPSILON * hi; i++)
    {
      double mid = 0.5 * (lo + hi);
      if (gaussian_delta (sigma, mid) > target)
        lo = mid;
      else
        hi = mid;
    }
  *epsilon = hi;
  return DPACCT_OK;
}

int
dpacct_sampler_noise_for_epsilon (double epsilon, double delta,
                                  uint64_t epochs, double *sigma)
{
  *sigma = NAN;
  if (!(epsilon > 0.0) || !isfinite (epsilon) || !(delta > 0.0)
      || !(delta < 1.0) || epochs < 1)
    return DPACCT_FAIL (DPACCT_EDOM, "epsilon positive, delta in (0, 1), "
                                     "epochs >= 1");
  /* The Gaussian's delta at epsilon falls as its noise grows: bracket,
   * bisect, and keep the end whose epsilon (rounded up) is verified. */
  double lo = 1e-3, hi = 1.0, eps;
  while (dpacct_gaussian_exact_epsilon (hi, delta, &eps) == DPACCT_OK
         && eps > epsilon)
    {
      lo = hi;
      hi *= 2.0;
      if (hi > 1e8)
        return DPACCT_FAIL (DPACCT_ERANGE, "no noise reaches that epsilon");
    }
  for (int i = 0; i < 100 && hi - lo > 1e-12 * hi; i++)
    {
      double mid = 0.5 * (lo + hi);
      dpacct_gaussian_exact_epsilon (mid, delta, &eps);
      if (eps > epsilon)
        lo = mid;
      else
        hi = mid;
    }
  /* The run's sigma is sqrt(E) times the one-epoch-equivalent noise;
   * check the product, and step up if its rounding crossed the target. */
  double root = sqrt ((double) epochs), s = hi * root;
  for (int i = 0; i < 8; i++)
    {
      dpacct_gaussian_exact_epsilon (s / root, delta, &eps);
      if (eps <= epsilon)
        break;
      s *= 1.0 + 1e-12;
    }
  *sigma = s;
  return DPACCT_OK;
}
