/* sampler_shuffle.c - the one-epoch "cube" bound of shuffling.
 *
 * The set {max_t x_t > C} is a post-processing of the batch sums, so
 * P(M > C) - e^eps Q(M > C) <= delta for every C and
 * eps >= log((P(M > C) - delta) / Q(M > C)).  The level C is maximised
 * continuously: a coarse scan brackets the best level, then GSL's Brent
 * minimiser refines it. */
#include "sampler_internal.h"
#include "dpacct/sampler.h"
#include "internal.h"

#include <math.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_min.h>

typedef struct
{
  double sigma, delta;
  uint64_t k;
} cube_pair;

/* -log((P(M > C) - delta) / Q(M > C)); +1e300 where P(M > C) <= delta. */
static double
cube_objective (double level, void *params)
{
  const cube_pair *c = params;
  double pf, ps, qf, qs;
  dpacct_maxstat_log_cdf (c->sigma, c->k, 2.0, 1.0, level, &pf, &ps);
  dpacct_maxstat_log_cdf (c->sigma, c->k, 1.0, 1.0, level, &qf, &qs);
  double ld = log (c->delta);
  if (!(ps > ld))
    return 1e300;
  /* log(P - delta) = log P + log(1 - delta / P) */
  return -(ps + log1p (-exp (ld - ps)) - qs);
}

enum { CUBE_SCAN = 400, CUBE_ITERATIONS = 100 };

int
dpacct_shuffle_cube_epsilon (double sigma, uint64_t k, double delta,
                             double *epsilon)
{
  *epsilon = NAN;
  if (!(sigma > 0.0) || !isfinite (sigma) || k < 1
      || k > DPACCT_SAMPLER_MAX_BATCHES || !(delta > 0.0) || !(delta < 1.0))
    return DPACCT_FAIL (DPACCT_EDOM, "sigma positive, K >= 1, delta in (0, 1)");
  cube_pair c = { sigma, delta, k };
  /* The scan spans the bulk of the statistic under P up to its far tail. */
  double lo = -8.0 * sigma, hi = 2.0 + 40.0 * sigma;
  double step = (hi - lo) / CUBE_SCAN, best = 1e300;
  size_t arg = 0;
  for (size_t i = 0; i <= CUBE_SCAN; i++)
    {
      double v = cube_objective (lo + (double) i * step, &c);
      if (v < best)
        best = v, arg = i;
    }
  if (best >= 1e300)
    {
      *epsilon = 0.0;
      return DPACCT_OK;
    }
  double x = lo + (double) arg * step;
  if (arg > 0 && arg < CUBE_SCAN)
    {
      gsl_function f = { cube_objective, &c };
      gsl_min_fminimizer *m = gsl_min_fminimizer_alloc (gsl_min_fminimizer_brent);
      if (m == NULL)
        return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate a minimiser");
      double a = x - step, b = x + step;
      if (cube_objective (x, &c) < fmin (cube_objective (a, &c),
                                         cube_objective (b, &c))
          && gsl_min_fminimizer_set (m, &f, x, a, b) == GSL_SUCCESS)
        {
          for (int i = 0; i < CUBE_ITERATIONS; i++)
            {
              if (gsl_min_fminimizer_iterate (m) != GSL_SUCCESS)
                break;
              a = gsl_min_fminimizer_x_lower (m);
              b = gsl_min_fminimizer_x_upper (m);
              if (gsl_min_test_interval (a, b, 1e-12, 1e-12) == GSL_SUCCESS)
                break;
            }
          double v = gsl_min_fminimizer_f_minimum (m);
          if (v < best)
            best = v;
        }
      gsl_min_fminimizer_free (m);
    }
  /* A margin for the rounding of the few operations in the objective. */
  double eps = -best;
  eps -= 1e-12 * (1.0 + fabs (eps));
  *epsilon = fmax (eps, 0.0);
  return DPACCT_OK;
}
