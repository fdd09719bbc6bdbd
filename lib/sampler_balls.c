/* sampler_balls.c - balls-and-bins batches at one epoch, exactly.
 *
 * Each example goes to one uniformly chosen batch per epoch.  The worst
 * pair is proved (Chua et al. 2025): one epoch is (1/K) sum_t N(e_t, s^2 I)
 * against N(0, s^2 I) for "remove", the reverse for "add".  The oracle
 * (sampler_oracle.c) brackets its delta at any epsilon; epsilon at delta
 * is bisected on the bracket's ends. */
#include "sampler_internal.h"
#include "dpacct/sampler.h"
#include "internal.h"

#include <math.h>

/* Bisection steps: epsilon to about 2^-16 of the Gaussian bound, well
 * inside the bracket's own width (about 1e-2 of epsilon at the default
 * accuracy). */
enum { BALLS_BISECTIONS = 16 };

int
dpacct_balls_one_epoch (double sigma, uint64_t k, int want_delta,
                        double given, double accuracy, size_t max_points,
                        double *lo, double *hi)
{
  double eta = accuracy / (double) k;
  *lo = NAN, *hi = NAN;
  if (want_delta)
    return dpacct_balls_oracle_delta (sigma, k, given, eta, max_points, lo, hi);
  /* Any eps with delta_hi(eps) <= delta is at least the true epsilon, any
   * with delta_lo(eps) > delta at most it (the true delta decreases). */
  double top;
  int status = dpacct_gaussian_exact_epsilon (sigma, given, &top);
  if (status != DPACCT_OK)
    return status;
  double d_lo, d_hi;
  status = dpacct_balls_oracle_delta (sigma, k, 0.0, eta, max_points, &d_lo,
                                      &d_hi);
  if (status != DPACCT_OK)
    return status;
  double up_lo = 0.0, up_hi = top;   /* delta_hi(up_hi) <= delta known */
  double low_lo = 0.0, low_hi = top; /* delta_lo(low_lo) > delta known */
  int up_done = d_hi <= given, low_found = d_lo > given;
  if (up_done)
    up_hi = 0.0;
  for (int i = 0; i < BALLS_BISECTIONS && status == DPACCT_OK; i++)
    {
      double mid_up = 0.5 * (up_lo + up_hi);
      if (!up_done)
        {
          status = dpacct_balls_oracle_delta (sigma, k, mid_up, eta,
                                              max_points, &d_lo, &d_hi);
          if (d_hi <= given)
            up_hi = mid_up;
          else
            up_lo = mid_up;
          if (d_lo > given && mid_up > low_lo)
            low_lo = mid_up, low_found = 1;
        }
      double mid_low = 0.5 * (low_lo + low_hi);
      if (status == DPACCT_OK && low_hi - low_lo > 1e-6)
        {
          status = dpacct_balls_oracle_delta (sigma, k, mid_low, eta,
                                              max_points, &d_lo, &d_hi);
          if (d_lo > given)
            low_lo = mid_low, low_found = 1;
          else
            low_hi = mid_low;
        }
    }
  if (status != DPACCT_OK)
    return status;
  *hi = up_hi;
  *lo = low_found ? low_lo : 0.0;
  return DPACCT_OK;
}
