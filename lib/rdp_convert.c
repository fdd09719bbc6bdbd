/* rdp_convert.c - from RDP curves to (epsilon, delta) and back.
 *
 * Canonne, Kamath and Steinke 2020, Prop. 12 (also Balle et al. 2020,
 * Thm 21): an (a, r)-RDP mechanism is (eps, delta)-DP with
 *   delta = exp((a-1)(r - eps)) / a * (1 - 1/a)^(a-1),
 * equivalently eps = r + log((a-1)/a) - (log delta + log a)/(a - 1). */
#include "dpacct/rdp.h"
#include "internal.h"
#include "rdp_internal.h"

#include <math.h>

static int
check_curve (const double *orders, const double *rdp, size_t n)
{
  if (orders == NULL || rdp == NULL || n == 0)
    return DPACCT_FAIL (DPACCT_EINVAL, "empty RDP curve");
  for (size_t i = 0; i < n; i++)
    {
      if (!(orders[i] > 1.0) || !isfinite (orders[i]))
        return DPACCT_FAIL (DPACCT_EDOM, "RDP orders must be finite and > 1");
      if (!(rdp[i] >= 0.0))
        return DPACCT_FAIL (DPACCT_EDOM, "RDP values must be >= 0");
    }
  return DPACCT_OK;
}

double
dpacct_rdp_epsilon_at_order (double a, double rdp, double delta)
{
  return rdp + log1p (-1.0 / a) - (log (delta) + log (a)) / (a - 1.0);
}

double
dpacct_rdp_log_delta_at_order (double a, double rdp, double epsilon)
{
  return (a - 1.0) * (rdp - epsilon + log1p (-1.0 / a)) - log (a);
}

double
dpacct_rdp_delta_at_order (double a, double rdp, double epsilon)
{
  double log_d = dpacct_rdp_log_delta_at_order (a, rdp, epsilon);
  /* An upper bound must not underflow to zero. */
  return fmax (exp (log_d), nextafter (0.0, 1.0));
}

int
dpacct_rdp_epsilon (const double *orders, const double *rdp, size_t n,
                    double delta, double *epsilon, size_t *index)
{
  *epsilon = NAN;
  *index = 0;
  int status = check_curve (orders, rdp, n);
  if (status != DPACCT_OK)
    return status;
  if (!(delta > 0.0 && delta < 1.0))
    return DPACCT_FAIL (DPACCT_EDOM, "delta must be in (0, 1)");
  double best = INFINITY;
  for (size_t i = 0; i < n; i++)
    {
      double eps = dpacct_rdp_epsilon_at_order (orders[i], rdp[i], delta);
      if (eps < best)
        {
          best = eps;
          *index = i;
        }
    }
  /* An RDP curve that is infinite at every order bounds nothing. */
  *epsilon = fmax (best, 0.0);
  return DPACCT_OK;
}

int
dpacct_rdp_delta (const double *orders, const double *rdp, size_t n,
                  double epsilon, double *delta, size_t *index)
{
  *delta = NAN;
  *index = 0;
  int status = check_curve (orders, rdp, n);
  if (status != DPACCT_OK)
    return status;
  if (!(epsilon >= 0.0) || !isfinite (epsilon))
    return DPACCT_FAIL (DPACCT_EDOM, "epsilon must be finite and >= 0");
  double best = INFINITY;
  for (size_t i = 0; i < n; i++)
    {
      double d = dpacct_rdp_delta_at_order (orders[i], rdp[i], epsilon);
      if (d < best)
        {
          best = d;
          *index = i;
        }
    }
  *delta = fmin (best, 1.0);
  return DPACCT_OK;
}
