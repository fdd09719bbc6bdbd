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

void
dpacct_pld_step_tilt_moments (const pld_step *s, const double *log_mass,
                              double theta, double cut, pld_small_terms small,
                              pld_tilted *out)
{
  double h = s->h, top = -INFINITY;
  size_t n = s->n;
  for (size_t k = 0; k < n; k++)
    {
      double x = log_mass[k] + theta * ((double) (s->first + (long) k) * h);
      top = x > top ? x : top; /* -Inf and NaN-free: no fmax call */
    }
  out->log_mgf = -INFINITY;
  out->mean = out->var = 0.0;
  if (top == -INFINITY)
    return;
  double step = exp (theta * h), m0 = 0.0, m1 = 0.0, m2 = 0.0, below = 0.0;
  double span = fabs (theta * h) * RESTART; /* at most e^50 in a block */
  double lowest = span <= 50.0 ? 1e-290 * exp (span) : INFINITY;
  double highest = span <= 50.0 ? 1e290 * exp (-span) : 0.0;
  for (size_t k0 = 0; k0 < n; k0 += RESTART)
    {
      size_t end = k0 + RESTART < n ? k0 + RESTART : n;
      double factor = exp (theta * ((double) (s->first + (long) k0) * h) - top);
      int ok = factor > lowest && factor < highest;
      for (size_t k = k0; k < end; k++, factor *= step)
        {
          double c = (double) (s->first + (long) k) * h;
          double x = log_mass[k] + (theta * c - top);
          if (!(x >= -cut))
            {
              below += x > -INFINITY;
              continue;
            }
          double w = ok ? s->mass[k] * factor : exp (x);
          m0 += w;
          m1 += w * c;
          m2 += w * c * c;
        }
    }
  double counted = 0.0;
  if (small == PLD_SMALL_COUNTED)
    {
      /* |theta c_k - top| is at most |theta| max |c| + |top|. */
      double ends = fmax (fabs ((double) s->first * h),
                          fabs ((double) (s->first + (long) n - 1) * h));
      double widest = fabs (theta) * ends + fabs (top);
      double u = 0x1p-53, margin = (4.0 * RESTART + 64.0 + 4.0 * widest) * u;
      m0 *= 1.0 + margin;
      counted = below * exp (-cut);
    }
  out->log_mgf = top + log (m0 + counted);
  out->mean = m1 / m0;
  out->var = fmax (m2 / m0 - out->mean * out->mean, 0.0);
}

/* The same log M, small terms counted, at several thetas, each in its own
 * chain of the same operations in the same order (so bit for bit the
 * same), the chains side by side: the processor overlaps them, where one
 * chain waits on every product. */
#if defined __GNUC__
#define ALWAYS_INLINE __attribute__ ((always_inline)) inline
#else
#define ALWAYS_INLINE inline
#endif

static ALWAYS_INLINE void
log_mgfs (const pld_step *s, const double *log_mass, const double *theta,
          const int m, double cut, double *log_mgf)
{
  double h = s->h, top[PLD_MAX_TILTS], step[PLD_MAX_TILTS];
  double lowest[PLD_MAX_TILTS], highest[PLD_MAX_TILTS];
  double m0[PLD_MAX_TILTS], below[PLD_MAX_TILTS], factor[PLD_MAX_TILTS];
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
          top[t] = x > top[t] ? x : top[t];
        }
    }
  for (int t = 0; t < m; t++)
    {
      step[t] = exp (theta[t] * h);
      double span = fabs (theta[t] * h) * RESTART;
      lowest[t] = span <= 50.0 ? 1e-290 * exp (span) : INFINITY;
      highest[t] = span <= 50.0 ? 1e290 * exp (-span) : 0.0;
      m0[t] = below[t] = 0.0;
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
                m0[t] += ok[t] ? s->mass[k] * factor[t] : exp (x);
              else
                below[t] += x > -INFINITY;
              factor[t] *= step[t];
            }
        }
    }
  double ends = fmax (fabs ((double) s->first * h),
                      fabs ((double) (s->first + (long) n - 1) * h));
  for (int t = 0; t < m; t++)
    {
      if (top[t] == -INFINITY)
        {
          log_mgf[t] = -INFINITY;
          continue;
        }
      double widest = fabs (theta[t]) * ends + fabs (top[t]);
      double u = 0x1p-53, margin = (4.0 * RESTART + 64.0 + 4.0 * widest) * u;
      log_mgf[t] = top[t] + log (m0[t] * (1.0 + margin) + below[t]
                                                         * exp (-cut));
    }
}

void
dpacct_pld_step_log_mgfs (const pld_step *s, const double *log_mass,
                          const double *theta, int m, double cut,
                          double *log_mgf)
{
  /* Six (three thetas, both sides) is what the Chernoff search asks for:
   * with the count known, the chains stay in registers. */
  if (m == 6)
    log_mgfs (s, log_mass, theta, 6, cut, log_mgf);
  else
    log_mgfs (s, log_mass, theta, m, cut, log_mgf);
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
