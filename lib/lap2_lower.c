/* lap2_lower.c - a lower bound on the epsilon (or delta) of Laplace noise
 * on L2-clipped sums, from the PLD of a post-processing of the mechanism.
 *
 * At the feasible gradient g = (C/sqrt(n))(1, ..., 1) the statistic
 * K = #{i : y_i > C / (2 sqrt(n))}, the number of coordinates above half
 * the shift, is a function of the output, so its pair of distributions is
 * dominated by the mechanism's (data processing): any delta(eps) computed
 * from it is a lower bound on the mechanism's, hence on the worst case.
 * Without the example K ~ Bin(n, p), with it K ~ Bin(n, 1-p),
 * p = e^(-t/2) / 2, t = C / (b sqrt(n)); for small t the sign of each
 * coordinate's shifted value carries almost all of its information, so
 * the bound is close.  The loss of K is l(k) = (2k - n) log((1-p)/p);
 * Poisson sampling mixes it as the PLD accountant's pairs do, in both
 * directions of add/remove.
 *
 * Each step's loss distribution is exact up to rounding its losses DOWN
 * to the grid (masses are kept or shrunk, never raised): pointwise smaller
 * losses give a pointwise smaller delta(eps) = E[(1 - e^(eps - L))+] for
 * the composition, so the bound stays a lower bound, lower by at most
 * (steps x grid interval) in epsilon.  The steps are composed by the PLD
 * module's FFT composer, which accounts its own errors on the lower
 * side. */
#include "dpacct/accountant.h"
#include "internal.h"
#include "lap2_internal.h"
#include "pld_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Values of K more than this many standard deviations from both
 * binomials' means carry below e^-72 of the mass and are dropped (dropping
 * mass only lowers delta); beyond MAX_SUPPORT values of K the bound is not
 * computed. */
#define SPREAD 12.0
#define MAX_SUPPORT 2000000.0

/* The grid interval starts at this much total rounding (in epsilon) over
 * all steps, or where one step fits in STEP_POINTS points, and coarsens by
 * 4 while the composition does not fit. */
#define ROUNDING_BUDGET 0.05
#define STEP_POINTS 262144.0

/* One direction's step of leaf L on grid H, as masses at rounded-down
 * losses.  DPACCT_ERANGE when the step is too large for the grid. */
static int
sign_step (const dpacct_lap2_leaf *leaf, int add, double h, size_t max_points,
           pld_step *out)
{
  memset (out, 0, sizeof *out);
  double n = (double) leaf->dimension, q = leaf->q;
  double t = leaf->rho / sqrt (n);
  double p = 0.5 * exp (-0.5 * t);
  double a = log1p (2.0 * expm1 (0.5 * t)); /* log((1-p)/p) */
  double sd = sqrt (n * p * (1.0 - p));
  double lo = fmax (0.0, floor (n * p - SPREAD * sd - 1.0));
  double hi = n - lo; /* symmetric: B1(k) = B0(n - k) */
  if (hi - lo + 1.0 > MAX_SUPPORT)
    return DPACCT_ERANGE;
  size_t m = (size_t) (hi - lo) + 1;
  double *log_b0 = malloc (m * sizeof *log_b0);
  long *index = malloc (m * sizeof *index);
  if (log_b0 == NULL || index == NULL)
    {
      free (log_b0), free (index);
      return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate a Lap2 lower bound");
    }
  /* log B0(k) up to a constant, by the ratio (n-k)/(k+1) p/(1-p) from the
   * first k, then normalised over the range: no binomial coefficient of
   * order 1e9 is formed.  Normalising over the range overstates each mass
   * by the dropped fraction, below e^-72; the 1e-12 below covers it and
   * the rounding of the sums. */
  double log_odds = -a, top = 0.0;
  log_b0[0] = 0.0;
  for (size_t j = 1; j < m; j++)
    {
      double k = lo + (double) (j - 1);
      log_b0[j] = log_b0[j - 1] + log ((n - k) / (k + 1.0)) + log_odds;
      top = fmax (top, log_b0[j]);
    }
  double sum = 0.0;
  for (size_t j = 0; j < m; j++)
    sum += exp (log_b0[j] - top);
  /* The normaliser, raised a little so that no mass is overstated. */
  double log_norm = top + log (sum) + 1e-12;
  long first = 0, last = 0;
  for (size_t j = 0; j < m; j++)
    {
      double k = lo + (double) j;
      double l0 = (2.0 * k - n) * a;
      double loss = q >= 1.0 ? l0 : log1p (q * expm1 (l0));
      if (add)
        loss = -loss;
      /* Down, and a hair further, so that rounding of loss / h never
       * moves a loss up. */
      index[j] = (long) floor (loss / h - 1e-9);
      if (j == 0 || index[j] < first)
        first = index[j];
      if (j == 0 || index[j] > last)
        last = index[j];
    }
  if ((double) (last - first) + 1.0 > (double) max_points)
    {
      free (log_b0), free (index);
      return DPACCT_ERANGE;
    }
  out->h = h;
  out->first = first;
  out->n = (size_t) (last - first) + 1;
  out->infinity = 0.0;
  out->mass = calloc (out->n, sizeof *out->mass);
  if (out->mass == NULL)
    {
      free (log_b0), free (index);
      return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate a Lap2 lower bound");
    }
  for (size_t j = 0; j < m; j++)
    {
      double b0 = exp (log_b0[j] - log_norm);
      double b1 = exp (log_b0[m - 1 - j] - log_norm); /* B0(n - k) */
      /* Remove: P is the mixture; add: P is B0 (and the loss negated). */
      double mass = add ? b0 : (1.0 - q) * b0 + q * b1;
      out->mass[index[j] - first] += mass;
    }
  free (log_b0), free (index);
  return DPACCT_OK;
}

/* Whether the composed loss tilted by `tilt` has its mean (the sum over
 * factors of count times each step's tilted mean, every term kept) at
 * eps: what tilt_for searches, over the factors' log masses. */
typedef struct
{
  const pld_factor *f;
  size_t nf;
  double **log_mass;
  double eps;
} tilt_goal;

static int
mean_reaches (const void *context, double tilt)
{
  const tilt_goal *g = context;
  double mean = 0.0;
  for (size_t i = 0; i < g->nf; i++)
    {
      const pld_step *s = g->f[i].step;
      pld_tilted t;
      dpacct_pld_step_tilt_moments (s, g->log_mass[i], tilt, INFINITY,
                                    PLD_SMALL_DROPPED, &t);
      mean += (double) g->f[i].count * t.mean;
    }
  return mean >= g->eps;
}

/* The tilt that centres the composition at eps, for the FFT's window:
 * the largest (to 1e-6) whose tilted mean is still below it; 0 when memory
 * runs short (an untilted composition is still correct). */
static double
tilt_for (const pld_factor *f, size_t nf, double eps)
{
  if (!isfinite (eps))
    return 0.0;
  double **log_mass = dpacct_pld_log_masses (f, nf);
  tilt_goal goal = { f, nf, log_mass, eps };
  double tilt = log_mass != NULL
                    ? dpacct_pld_tilt_search (mean_reaches, &goal, 1e-6,
                                              PLD_TILT_SHORT)
                    : 0.0;
  dpacct_pld_log_masses_free (log_mass, nf);
  return tilt;
}

/* The lower bound of one direction on grid h; DPACCT_ERANGE when the grid
 * is too fine for the memory cap. */
static int
direction_bound (const dpacct_lap2_leaf *leaves, size_t n_leaves, int add,
                 double h, int ask_delta, double given, double centre,
                 size_t max_points, double *result)
{
  pld_step *steps = calloc (n_leaves, sizeof *steps);
  pld_factor *factors = calloc (n_leaves, sizeof *factors);
  int status = steps && factors ? DPACCT_OK
               : DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate PLD steps");
  size_t built = 0;
  for (; status == DPACCT_OK && built < n_leaves; built++)
    {
      status = sign_step (&leaves[built], add, h, max_points, &steps[built]);
      factors[built].step = &steps[built];
      factors[built].count = leaves[built].count;
    }
  if (status == DPACCT_OK)
    {
      /* The centre (lap2's upper bound) may lie beyond every loss the
       * composition can take; no finite tilt reaches it there. */
      double top = 0.0;
      for (size_t i = 0; i < n_leaves; i++)
        top += (double) factors[i].count
               * (steps[i].first + (long) steps[i].n - 1) * h;
      pld_composed c;
      status = dpacct_pld_compose (factors, n_leaves,
                                   tilt_for (factors, n_leaves,
                                             fmin (centre, 0.9 * top)),
                                   max_points, NULL, &c);
      if (status == DPACCT_ENOMEM)
        status = DPACCT_ERANGE; /* a coarser grid may fit */
      if (status == DPACCT_OK)
        {
          *result = ask_delta ? dpacct_pld_composed_delta (&c, given, PLD_LOWER)
                              : dpacct_pld_composed_epsilon (&c, given,
                                                             PLD_LOWER);
          dpacct_pld_composed_release (&c);
        }
    }
  for (size_t i = 0; steps != NULL && i < n_leaves; i++)
    dpacct_pld_step_release (&steps[i]);
  free (steps);
  free (factors);
  return status;
}

/* The widest loss range of one step (both directions alike), to start
 * the grid where a step fits. */
static double
widest_step (const dpacct_lap2_leaf *leaves, size_t n_leaves)
{
  double widest = 0.0;
  for (size_t i = 0; i < n_leaves; i++)
    {
      double n = (double) leaves[i].dimension, q = leaves[i].q;
      double t = leaves[i].rho / sqrt (n), p = 0.5 * exp (-0.5 * t);
      double a = log1p (2.0 * expm1 (0.5 * t));
      double top = (n * (1.0 - 2.0 * p) + 2.0 * SPREAD * sqrt (n * p * (1.0 - p))
                    + 2.0) * a;
      double up = q >= 1.0 ? top : log1p (q * expm1 (top));
      double down = q >= 1.0 ? top : -log1p (q * expm1 (-top));
      widest = fmax (widest, up + down);
    }
  return widest;
}

int
dpacct_lap2_lower_bound (const dpacct_lap2_leaf *leaves, size_t n_leaves,
                         int ask_delta, double given, double centre,
                         size_t max_points, double *lower)
{
  *lower = NAN;
  double steps = 0.0;
  int sampled = 0;
  for (size_t i = 0; i < n_leaves; i++)
    {
      steps += (double) leaves[i].count;
      sampled |= leaves[i].q < 1.0;
    }
  if (n_leaves == 0)
    {
      *lower = 0.0;
      return DPACCT_OK;
    }
  double best = 0.0;
  for (int add = 0; add < (sampled ? 2 : 1); add++)
    {
      double h = fmax (ROUNDING_BUDGET / steps, widest_step (leaves, n_leaves)
                                                     / STEP_POINTS),
             value = NAN;
      int status = DPACCT_ERANGE;
      for (int round = 0; round < 8 && status == DPACCT_ERANGE && h <= 0.5;
           round++, h *= 4.0)
        status = direction_bound (leaves, n_leaves, add, h, ask_delta, given,
                                  centre, max_points, &value);
      if (status == DPACCT_ERANGE)
        return DPACCT_OK; /* no grid fits: no lower bound, NaN */
      if (status != DPACCT_OK)
        return status;
      if (isnan (value))
        return DPACCT_OK;
      best = fmax (best, value);
    }
  *lower = best;
  return DPACCT_OK;
}
