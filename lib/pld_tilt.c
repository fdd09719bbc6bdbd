/* pld_tilt.c - exponential tilting of discretised privacy-loss steps,
 * shared by the PLD accountant (its centring), the FFT composition (its
 * window and Chernoff bounds) and the Lap2 lower bound (its centring).
 *
 * Tilting by theta reweights mass m_k at loss c_k to m_k e^{theta c_k} /
 * M(theta); its log-MGF log M and moments say where a composition tilted
 * by theta is centred, and how wide it is.  Callers differ in what the
 * small terms may do to log M (dropped: an estimate; counted at the
 * cut-off: never below the true value) and in how exactly, and on which
 * side, a tilt search must end, so both are theirs to choose. */
#include "pld_internal.h"

#include <math.h>

void
dpacct_pld_tilt_moments (const double *log_mass, size_t n, long first,
                         double h, double theta, double cut,
                         pld_small_terms small, pld_tilted *out)
{
  double top = -INFINITY;
  for (size_t k = 0; k < n; k++)
    top = fmax (top, log_mass[k] + theta * ((double) (first + (long) k) * h));
  out->log_mgf = -INFINITY;
  out->mean = out->var = 0.0;
  if (top == -INFINITY)
    return;
  double m0 = 0.0, m1 = 0.0, m2 = 0.0, below = 0.0;
  for (size_t k = 0; k < n; k++)
    {
      double c = (double) (first + (long) k) * h;
      double x = log_mass[k] + theta * c - top;
      if (x < -cut || x == -INFINITY)
        {
          below += x > -INFINITY;
          continue;
        }
      double w = exp (x);
      m0 += w;
      m1 += w * c;
      m2 += w * c * c;
    }
  double counted = small == PLD_SMALL_COUNTED ? below * exp (-cut) : 0.0;
  out->log_mgf = top + log (m0 + counted);
  out->mean = m1 / m0;
  out->var = fmax (m2 / m0 - out->mean * out->mean, 0.0);
}

double
dpacct_pld_tilt_search (pld_tilt_test *reached, const void *context,
                        double rel_tol, pld_tilt_end end)
{
  if (reached (context, 0.0))
    return 0.0;
  double lo = 0.0, hi = 1.0;
  while (hi < 1e6 && !reached (context, hi))
    lo = hi, hi *= 4.0;
  for (int i = 0; i < 40 && hi - lo > rel_tol * hi; i++)
    {
      double mid = 0.5 * (lo + hi);
      if (reached (context, mid))
        hi = mid;
      else
        lo = mid;
    }
  return end == PLD_TILT_REACHED ? hi : lo;
}
