/* pld_fixed_run.c - PLD bounds of many runs that share most of their
 * leaves, for calibration (the hook in internal.h).
 *
 * Calibrating one phase's noise in a run of many phases evaluates runs
 * that differ in that phase only.  The first evaluation climbs the
 * ladder as pld_epsilon does and so fixes the grid interval h and, per
 * direction, the tilt; the fixed leaves' steps on that grid (the ones
 * the ladder's last rung built, where it built them there) have their
 * tilted transforms multiplied into one product, whose
 * sums (moments, log scale, mass at infinity, round-off) and Chernoff
 * exponents are kept.  Each later run discretises only its varying leaves
 * and composes them into a copy of the product: one forward and one
 * inverse transform instead of a ladder of compositions of every leaf.
 * A run whose window no longer fits the product's FFT size (far from the
 * first) has the product remade wider, on the same grid and tilt.
 * Every error term is counted as dpacct_pld_compose counts it, so each
 * bound is a valid upper bound; on a grid chosen for another noise, it
 * may lie a little above or below pld_epsilon's own.
 *
 * Where the first ladder left one direction below the other, that
 * direction's product is made only when a run needs it: a run whose
 * varying leaves only have more noise than the first's is dominated by
 * the first run in each direction (more noise is a post-processing), so
 * the ladder's bound for that direction holds for it too, and while that
 * bound is below the other direction's, the maximum does not need it. */
#include "internal.h"
#include "pld_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* What one direction keeps of the fixed leaves. */
typedef struct
{
  pld_step_list steps;
  pld_prepared prepared; /* their log masses at the direction's tilt */
  pld_sums sums;
  pld_chernoff bound;    /* their Chernoff exponents, computed once each */
  double tilt;
  size_t n;              /* the FFT size */
  pld_fft_plan plan;
  double *product;       /* their transforms' product (half-complex) */
  double error;          /* its round-off bound */
  int squaring;          /* its powers were by repeated squaring */
} fixed_direction;

struct dpacct_fixed_run
{
  dpacct_accountant_options options;
  double delta;
  pld_grid grid;
  size_t max_points;
  fixed_direction dir[2];
  int made[2];                 /* the direction's product: 1 made, 0 not
                                * yet, -1 failed (the accountant answers) */
  dpacct_leaf *fixed, *first;  /* the fixed leaves and the first run's
                                * varying ones, for a product made later */
  size_t n_fixed, n_first;
};

/* The window of a run must leave at most this much tilted mass outside:
 * the most dpacct_pld_compose accepts. */
static const double MAX_WRAPPED = 1e-11;

/* The window is chosen this much wider than the first run needs, so that
 * the runs near it fit too. */
static const double WINDOW_MARGIN = 1.25;

/* Not the certified bound, nor replace-one, whose sampled runs are
 * bounded by more than the pairs' ladder (group privacy too). */
static int
fixed_run_serves (const dpacct_accountant_options *options)
{
  return dpacct_options_int (options, "certified") == 0
         && dpacct_options_int (options, "neighbouring") == DPACCT_ADD_REMOVE;
}

static void
fixed_run_free (dpacct_fixed_run *run)
{
  if (run == NULL)
    return;
  for (int d = 0; d < 2; d++)
    {
      fixed_direction *f = &run->dir[d];
      dpacct_pld_prepared_release (&f->prepared);
      dpacct_pld_step_list_release (&f->steps);
      dpacct_pld_fft_plan_release (&f->plan);
      free (f->product);
      dpacct_pld_step_list_release (&run->grid.kept[d]);
    }
  free (run->fixed);
  free (run->first);
  free (run);
}

/* The varying leaves' steps in direction d, prepared at its tilt, and the
 * sums of the whole run. */
static int
varying_steps (const dpacct_fixed_run *run, int d, const dpacct_leaf *varying,
               size_t n_varying, pld_step_list *steps, pld_prepared *p,
               pld_sums *total)
{
  const fixed_direction *f = &run->dir[d];
  pld_sums sums;
  int status = dpacct_pld_leaf_steps (&run->options, varying, n_varying, d,
                                      &run->grid, NULL, steps);
  if (status == DPACCT_OK && steps->n == 0)
    status = DPACCT_EUNSUP; /* nothing varies: nothing to compose */
  if (status == DPACCT_OK)
    status = dpacct_pld_prepare (steps->factors, steps->n, f->tilt, NULL, p,
                                 &sums);
  if (status != DPACCT_OK)
    {
      dpacct_pld_step_list_release (steps);
      return status;
    }
  *total = f->sums;
  dpacct_pld_sums_add (total, &sums);
  return DPACCT_OK;
}

/* The FFT size for the first run (total sums, Chernoff bound over every
 * leaf): the window dpacct_pld_compose would choose, widened by the
 * margin. */
static size_t
first_size (const pld_sums *total, pld_chernoff *bound, double h)
{
  double half, wrapped;
  double points = fmin (dpacct_pld_window_points (total, bound, h, &half,
                                                  &wrapped),
                        total->support + 1.0);
  return dpacct_pld_fft_size (WINDOW_MARGIN * points);
}

/* Makes f's product one of the FFT size that the run with these sums
 * and Chernoff bound needs (with the margin): its fixed leaves'
 * transforms multiplied anew.  DPACCT_ERANGE when that is above the
 * memory cap. */
static int
size_product (const dpacct_fixed_run *run, fixed_direction *f,
              const pld_sums *total, pld_chernoff *all)
{
  size_t n = first_size (total, all, run->grid.h);
  if (n > run->max_points)
    return DPACCT_ERANGE;
  free (f->product); /* its transforms are multiplied anew */
  double *product = f->product = dpacct_alloc_doubles (n);
  int status = product != NULL
                   ? dpacct_pld_fft_plan_for (&f->plan, n)
                   : DPACCT_FAIL (DPACCT_ENOMEM,
                                  "cannot allocate a PLD product");
  f->n = status == DPACCT_OK ? n : 0;
  if (status == DPACCT_OK)
    f->error = dpacct_pld_transform_into (&f->prepared, n, &f->plan,
                                          f->squaring, f->product, 1);
  return status;
}

/* Discretises direction d's fixed leaves, sizes its window on the first
 * run and multiplies their transforms into its product. */
static int
fix_direction (dpacct_fixed_run *run, int d, const dpacct_leaf *fixed,
               size_t n_fixed, const dpacct_leaf *varying, size_t n_varying)
{
  fixed_direction *f = &run->dir[d];
  double h = run->grid.h;
  f->tilt = run->grid.tilt[d];
  if (!(f->tilt >= 0.0))
    return DPACCT_EUNSUP;
  int status = dpacct_pld_leaf_steps (&run->options, fixed, n_fixed, d,
                                      &run->grid, &run->grid.kept[d],
                                      &f->steps);
  if (status == DPACCT_OK && f->steps.n == 0)
    return DPACCT_EUNSUP;
  if (status == DPACCT_OK)
    status = dpacct_pld_prepare (f->steps.factors, f->steps.n, f->tilt, NULL,
                                 &f->prepared, &f->sums);
  if (status != DPACCT_OK)
    return status;
  pld_step_list vsteps;
  pld_prepared vp;
  pld_sums total;
  status = varying_steps (run, d, varying, n_varying, &vsteps, &vp, &total);
  if (status != DPACCT_OK)
    return status;
  pld_chernoff all;
  dpacct_pld_chernoff_init (&f->bound, &f->prepared, sqrt (total.var) + h,
                            NULL);
  dpacct_pld_chernoff_init (&all, &vp, 0.0, &f->bound);
  f->squaring = PLD_SQUARING_OK (total.total_count);
  status = size_product (run, f, &total, &all);
  dpacct_pld_prepared_release (&vp);
  dpacct_pld_step_list_release (&vsteps);
  return status;
}

static int
fixed_run_alloc (const dpacct_accountant_options *options, double delta,
                 const dpacct_leaf *leaves, size_t n_leaves,
                 const dpacct_leaf *fixed, size_t n_fixed,
                 const dpacct_leaf *varying, size_t n_varying,
                 dpacct_fixed_run **out, dpacct_bound *first)
{
  *out = NULL;
  if (n_fixed == 0 || n_varying == 0 || !fixed_run_serves (options))
    return DPACCT_EUNSUP;
  dpacct_fixed_run *run = calloc (1, sizeof *run);
  if (run == NULL)
    return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate a PLD fixed run");
  /* The run's own leaves in their own order: the first bound is the
   * accountant's, not one composed in another order (which differs in
   * the last bits, and may miss a target that the accountant meets). */
  int status = dpacct_pld_fixed_grid (options, leaves, n_leaves, delta,
                                      first, &run->grid);
  if (status != DPACCT_OK)
    {
      free (run);
      return status;
    }
  /* An infinite or zero bound ends the ladder early: no grid to keep. */
  if (!(isfinite (first->upper) && first->upper > 0.0))
    {
      fixed_run_free (run);
      return DPACCT_OK;
    }
  run->options = *options;
  run->delta = delta;
  run->max_points = (size_t) dpacct_options_int (options, "pld-max-points");
  run->fixed = malloc (n_fixed * sizeof *run->fixed);
  run->first = malloc (n_varying * sizeof *run->first);
  int fixed_status = run->fixed != NULL && run->first != NULL
                         ? DPACCT_OK
                         : DPACCT_FAIL (DPACCT_ENOMEM,
                                        "cannot allocate a PLD fixed run");
  if (fixed_status == DPACCT_OK)
    {
      memcpy (run->fixed, fixed, n_fixed * sizeof *fixed);
      memcpy (run->first, varying, n_varying * sizeof *varying);
      run->n_fixed = n_fixed, run->n_first = n_varying;
    }
  /* The direction whose bound decided the first run, now; the other when
   * a run needs it (see the top). */
  const double *u = run->grid.upper;
  int lead = run->grid.directions == 2 && !(u[1] <= u[0]);
  for (int d = 0; fixed_status == DPACCT_OK && d < run->grid.directions; d++)
    if (d == lead || !isfinite (u[d]))
      {
        fixed_status = fix_direction (run, d, fixed, n_fixed, varying,
                                      n_varying);
        run->made[d] = fixed_status == DPACCT_OK;
      }
  /* The ladder's steps left over (the varying leaves', or a direction
   * made later, on steps of its own then) are not kept. */
  for (int d = 0; d < 2; d++)
    dpacct_pld_step_list_release (&run->grid.kept[d]);
  /* The first bound stands either way; without a product, later runs are
   * bounded by the accountant itself. */
  if (fixed_status == DPACCT_OK)
    *out = run;
  else
    fixed_run_free (run);
  return DPACCT_OK;
}

/* The window of f's FFT size for a run with these sums: the whole
 * support, or centred on the mean, with the Chernoff bound on the mass
 * outside; DPACCT_ERANGE when that is above what dpacct_pld_compose
 * allows. */
static int
fit_window (const fixed_direction *f, const pld_sums *total,
            pld_chernoff *all, double h, pld_window *w)
{
  size_t n = f->n;
  w->n = n;
  w->start = (long) total->lowest;
  w->wrapped = 0.0;
  if (total->support + 1.0 <= (double) n)
    return DPACCT_OK; /* the whole support fits */
  if ((double) total->widest + 2.0 > (double) n)
    return DPACCT_ERANGE;
  double half = 0.5 * ((double) n - 2.0) * h;
  w->wrapped = dpacct_pld_chernoff_outside (all, total->mean, half, 0.0);
  w->start = (long) floor ((total->mean - half) / h);
  return w->wrapped <= MAX_WRAPPED ? DPACCT_OK : DPACCT_ERANGE;
}

/* The upper bound in direction d on the fixed grid; DPACCT_ERANGE (not
 * reported: the caller asks the accountant instead) when the run's
 * window does not fit even a widened product within the memory cap. */
static int
direction_epsilon (dpacct_fixed_run *run, int d, const dpacct_leaf *varying,
                   size_t n_varying, double *eps)
{
  fixed_direction *f = &run->dir[d];
  double h = run->grid.h;
  pld_step_list vsteps;
  pld_prepared vp;
  pld_sums total;
  int status = varying_steps (run, d, varying, n_varying, &vsteps, &vp,
                              &total);
  if (status != DPACCT_OK)
    return status;
  pld_chernoff all;
  dpacct_pld_chernoff_init (&all, &vp, 0.0, &f->bound);
  pld_window w;
  if (f->squaring && !PLD_SQUARING_OK (total.total_count))
    status = DPACCT_ERANGE;
  /* A window too narrow for this run (the search has moved far from
   * where the grid was fixed) is widened once, on the same grid. */
  for (int widened = 0; status == DPACCT_OK; widened++)
    {
      status = fit_window (f, &total, &all, h, &w);
      if (status != DPACCT_ERANGE || widened)
        break;
      status = size_product (run, f, &total, &all);
    }
  size_t n = f->n;
  double *acc = NULL, *work = NULL;
  if (status == DPACCT_OK)
    {
      acc = dpacct_alloc_doubles (n);
      work = dpacct_alloc_doubles (n);
      if (acc == NULL || work == NULL)
        status = DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate a PLD product");
    }
  if (status == DPACCT_OK)
    {
      memcpy (acc, f->product, n * sizeof *acc);
      double error = f->error
                     + dpacct_pld_transform_into (&vp, n, &f->plan,
                                                  f->squaring, acc, 0);
      pld_composed c;
      status = dpacct_pld_compose_finish (acc, work, &f->plan, &w, h, f->tilt,
                                          &total, error, &c);
      acc = work = NULL; /* taken over by c */
      if (status == DPACCT_OK)
        {
          *eps = dpacct_pld_composed_epsilon (&c, run->delta, PLD_UPPER);
          dpacct_pld_composed_release (&c);
        }
    }
  free (acc), free (work);
  dpacct_pld_prepared_release (&vp);
  dpacct_pld_step_list_release (&vsteps);
  return status;
}

/* Whether these varying leaves are the first run's with at least as
 * much noise each (the same mechanisms, sampling and counts). */
static int
only_noisier (const dpacct_fixed_run *run, const dpacct_leaf *varying,
              size_t n_varying)
{
  if (n_varying != run->n_first)
    return 0;
  for (size_t i = 0; i < n_varying; i++)
    {
      const dpacct_leaf *a = &varying[i], *b = &run->first[i];
      if (a->mechanism != b->mechanism || a->dimension != b->dimension
          || a->sampling != b->sampling || a->rate != b->rate
          || a->count != b->count || !(a->parameter >= b->parameter))
        return 0;
    }
  return 1;
}

static int
fixed_run_epsilon (dpacct_fixed_run *run, const dpacct_leaf *varying,
                   size_t n_varying, dpacct_bound *out)
{
  double upper = 0.0;
  int status = DPACCT_OK;
  for (int d = 0; d < run->grid.directions; d++)
    if (run->made[d] < 0)
      status = DPACCT_EUNSUP;
  /* The made directions first, so that a direction not made yet is made
   * only where its first bound could raise the maximum. */
  for (int pass = 0; pass < 2; pass++)
    for (int d = 0; status == DPACCT_OK && d < run->grid.directions; d++)
      {
        if (run->made[d] != (pass == 0 ? 1 : 0))
          continue;
        if (!run->made[d])
          {
            if (run->grid.upper[d] <= upper
                && only_noisier (run, varying, n_varying))
              continue; /* bounded by the first run's, below the maximum */
            status = fix_direction (run, d, run->fixed, run->n_fixed,
                                    varying, n_varying);
            run->made[d] = status == DPACCT_OK ? 1 : -1;
          }
        double eps = NAN;
        if (status == DPACCT_OK)
          status = direction_epsilon (run, d, varying, n_varying, &eps);
        if (status == DPACCT_OK && isnan (eps))
          status = DPACCT_FAIL (DPACCT_ENUMERIC, "PLD bound is NaN");
        upper = fmax (upper, eps);
      }
  out->lower = NAN;
  out->upper = status == DPACCT_OK ? upper : NAN;
  out->certified = 0;
  out->order = NAN;
  out->order_at_edge = 0;
  out->limit = DPACCT_PLD_LIMIT_NONE;
  return status;
}

const dpacct_fixed_run_hook dpacct_pld_fixed_run = {
  fixed_run_serves,
  fixed_run_alloc,
  fixed_run_epsilon,
  fixed_run_free,
};
