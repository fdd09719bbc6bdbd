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

/* The largest tilt searched (as in dpacct_pld_tilt_search). */
#define TILT_MAX 1e6

/* log M(theta) and the tilted mean and variance of a step, small terms
 * (below e^-cut of the largest) dropped or counted, with the weights
 * w_k = m_k e^{theta c_k - top} from the masses themselves and a
 * multiplicative recurrence, e^{theta c_(k+1)} = e^{theta c_k} e^{theta h},
 * restarted from an exponential every RESTART points: one exponential per
 * RESTART points instead of one per point.  Where the factor is outside
 * [1e-290, 1e290] (a mass near the smallest double) or a restart's span
 * moves the exponent by more than 50, the point's own exponential is
 * taken.  Each weight then errs by at most (2 RESTART + 4) u relative from
 * the recurrence's products and exponentials, 50 u from theta h's
 * rounding raised to up to RESTART, and about 4 u |theta c_k - top| from
 * the exponent's own (u = 2^-53); with counted small terms M is raised by
 * a margin above their sum, so that log M stays above its true value, as
 * the Chernoff bound needs. */
enum { RESTART = 32 };

#if defined __GNUC__
#define ALWAYS_INLINE __attribute__ ((always_inline)) inline
#else
#define ALWAYS_INLINE inline
#endif

/* The sums behind the above at m thetas, each in its own chain of the
 * same operations in the same order as one theta alone (so bit for bit
 * the same), the chains side by side: the processor overlaps them, where
 * one chain waits on every product.  Per theta: the largest term `top`
 * (-Inf where every mass is 0), relative to it the weights' sum m0 and,
 * with `moments`, their first two moments m1 and m2, and in `below` the
 * number of terms under the cut.  Inlined, so that a constant m keeps the
 * chains in registers and a constant `moments` drops what is not asked. */
static ALWAYS_INLINE void
tilted_sums (const pld_step *s, const double *log_mass, const double *theta,
             const int m, double cut, const int moments, double *top,
             double *m0, double *m1, double *m2, double *below)
{
  double h = s->h, step[PLD_MAX_TILTS], factor[PLD_MAX_TILTS];
  double lowest[PLD_MAX_TILTS], highest[PLD_MAX_TILTS];
  int ok[PLD_MAX_TILTS];
  size_t n = s->n;
  for (int t = 0; t < m; t++)
    top[t] = -INFINITY;
  for (size_t k = 0; k < n; k++)
    {
      double c = (double) (s->first + (long) k) * h;
      for (int t = 0; t < m; t++)
        {
          double x = log_mass[k] + theta[t] * c;
          top[t] = x > top[t] ? x : top[t]; /* NaN-free: no fmax call */
        }
    }
  for (int t = 0; t < m; t++)
    {
      step[t] = exp (theta[t] * h);
      double span = fabs (theta[t] * h) * RESTART; /* at most e^50 a block */
      lowest[t] = span <= 50.0 ? 1e-290 * exp (span) : INFINITY;
      highest[t] = span <= 50.0 ? 1e290 * exp (-span) : 0.0;
      m0[t] = m1[t] = m2[t] = below[t] = 0.0;
    }
  for (size_t k0 = 0; k0 < n; k0 += RESTART)
    {
      size_t end = k0 + RESTART < n ? k0 + RESTART : n;
      for (int t = 0; t < m; t++)
        {
          factor[t] = exp (theta[t] * ((double) (s->first + (long) k0) * h)
                           - top[t]);
          ok[t] = factor[t] > lowest[t] && factor[t] < highest[t];
        }
      for (size_t k = k0; k < end; k++)
        {
          double c = (double) (s->first + (long) k) * h;
          for (int t = 0; t < m; t++)
            {
              double x = log_mass[k] + (theta[t] * c - top[t]);
              if (x >= -cut)
                {
                  double w = ok[t] ? s->mass[k] * factor[t] : exp (x);
                  m0[t] += w;
                  if (moments)
                    {
                      m1[t] += w * c;
                      m2[t] += w * c * c;
                    }
                }
              else
                below[t] += x > -INFINITY;
              factor[t] *= step[t];
            }
        }
    }
}

/* With counted small terms, m0 raised by the margin above (so that log M
 * stays above its true value); the terms under the cut are added by the
 * caller at e^-cut each. */
static double
with_margin (const pld_step *s, double theta, double top, double m0)
{
  double h = s->h;
  /* |theta c_k - top| is at most |theta| max |c| + |top|. */
  double ends = fmax (fabs ((double) s->first * h),
                      fabs ((double) (s->first + (long) s->n - 1) * h));
  double widest = fabs (theta) * ends + fabs (top);
  double u = 0x1p-53, margin = (4.0 * RESTART + 64.0 + 4.0 * widest) * u;
  return m0 * (1.0 + margin);
}

void
dpacct_pld_step_tilt_moments (const pld_step *s, const double *log_mass,
                              double theta, double cut, pld_small_terms small,
                              pld_tilted *out)
{
  double top, m0, m1, m2, below;
  tilted_sums (s, log_mass, &theta, 1, cut, 1, &top, &m0, &m1, &m2, &below);
  out->log_mgf = -INFINITY;
  out->mean = out->var = 0.0;
  if (top == -INFINITY)
    return;
  double counted = 0.0;
  if (small == PLD_SMALL_COUNTED)
    {
      m0 = with_margin (s, theta, top, m0);
      counted = below * exp (-cut);
    }
  out->log_mgf = top + log (m0 + counted);
  out->mean = m1 / m0;
  out->var = fmax (m2 / m0 - out->mean * out->mean, 0.0);
}

/* Six (three thetas, both sides) is what the Chernoff search asks for:
 * with the count known, the chains stay in registers. */
void
dpacct_pld_step_log_mgfs (const pld_step *s, const double *log_mass,
                          const double *theta, int m, double cut,
                          double *log_mgf)
{
  double top[PLD_MAX_TILTS], m0[PLD_MAX_TILTS], m1[PLD_MAX_TILTS];
  double m2[PLD_MAX_TILTS], below[PLD_MAX_TILTS];
  if (m == 6)
    tilted_sums (s, log_mass, theta, 6, cut, 0, top, m0, m1, m2, below);
  else
    tilted_sums (s, log_mass, theta, m, cut, 0, top, m0, m1, m2, below);
  for (int t = 0; t < m; t++)
    log_mgf[t] = top[t] == -INFINITY
                     ? -INFINITY
                     : top[t] + log (with_margin (s, theta[t], top[t], m0[t])
                                     + below[t] * exp (-cut));
}

double
dpacct_pld_tilt_search (pld_tilt_test *reached, const void *context,
                        double rel_tol, pld_tilt_end end)
{
  if (reached (context, 0.0))
    return 0.0;
  double lo = 0.0, hi = 1.0;
  while (hi < TILT_MAX && !reached (context, hi))
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

double
dpacct_pld_tilt_newton (pld_tilt_fn *f, const void *context, double rel_tol)
{
  double slope, x = 0.0, fx = f (context, 0.0, &slope);
  if (!(fx < 0.0))
    return 0.0;
  double lo = 0.0, hi = INFINITY;
  for (int i = 0; i < 100; i++)
    {
      double next = slope > 0.0 ? x - fx / slope : NAN;
      if (isfinite (hi))
        {
          if (!(next > lo && next < hi))
            next = 0.5 * (lo + hi); /* Newton left the bracket: bisect */
        }
      else if (!(next > lo))
        next = lo > 0.0 ? 4.0 * lo : 1.0; /* no slope yet: step out */
      next = fmin (next, TILT_MAX);
      if (isfinite (hi) && hi - lo <= rel_tol * hi)
        return hi;
      if (fabs (next - x) <= 0.25 * rel_tol * x)
        return next; /* Newton's step: the rest is its square */
      if (next == TILT_MAX && x == TILT_MAX)
        return TILT_MAX;
      x = next;
      fx = f (context, x, &slope);
      if (isnan (fx))
        return isfinite (hi) ? hi : x;
      if (fx >= 0.0)
        hi = x;
      else
        lo = x;
    }
  return isfinite (hi) ? hi : x;
}
