/* calibrate.c - the smallest noise whose epsilon upper bound meets a target.
 *
 * epsilon_upper(noise) decreases with the noise.  Bracket the target by
 * doubling, narrow it with GSL's Brent solver on log(epsilon), then return
 * the bracket's upper end, whose epsilon has been computed and verified to
 * be at most the target: the answer is never on the unsafe side.
 *
 * Where the noise moves only a few leaves of the run (one phase of many)
 * and the type has a fast path for that (dpacct_fixed_run_hook), the
 * leaves that stay put are found by building the run at two noises, and
 * each evaluation hands the path only the leaves that moved.  Its bounds
 * are valid but on a grid fixed at the first noise, so the answer is
 * bounded once more by the accountant itself, and that bound is the one
 * returned (and must meet the target). */
#include "dpacct/calibrate.h"
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_roots.h>

void
dpacct_calibration_options_init (dpacct_calibration_options *options)
{
  options->rel_tol = 1e-3;
  options->noise_min = 1e-3;
  options->noise_max = 1e6;
  options->max_iter = 200;
  options->noise_guess = 0.0;
}

typedef struct
{
  const dpacct_accountant_type *type;
  const dpacct_accountant_options *accountant;
  dpacct_event_maker *make_event;
  void *context;
  double delta, target;
  unsigned evaluations;
  int status; /* first failure inside the solver's callback */
  /* The verified bracket: eps(lo) > target >= eps(hi) = eps_hi, updated
   * by every evaluation, so the answer rests on computed values only;
   * bound_hi is the whole bound at hi. */
  double lo, hi, eps_hi;
  dpacct_bound bound_hi, last;
  /* The fast path: its hook (NULL: none, or given up), the leaves that
   * no noise moves, and what it keeps (NULL until the first evaluation
   * sets it up). */
  const dpacct_fixed_run_hook *hook;
  dpacct_leaf_list fixed;
  dpacct_fixed_run *run;
  /* The last evaluation, hi's and lo's were the fast path's; lo's
   * epsilon. */
  int last_fast, hi_fast, lo_fast;
  double eps_lo;
} problem;

/* The accountant bounds every run from here on. */
static void
fast_path_off (problem *p)
{
  if (p->run != NULL)
    p->hook->free (p->run);
  p->run = NULL;
  p->hook = NULL;
}

/* The leaves of the run at this noise. */
static int
leaves_at (dpacct_event_maker *make_event, void *context, double noise,
           dpacct_leaf_list *out)
{
  dpacct_event *event = NULL;
  dpacct_leaf_list_init (out);
  int status = make_event (noise, context, &event);
  if (status == DPACCT_OK)
    status = dpacct_event_leaves (event, 1, out);
  dpacct_event_free (event);
  for (size_t i = 0; i < out->n; i++)
    out->leaves[i].event = NULL; /* freed with the event */
  return status;
}

/* Splits WALKED into the FIXED leaves and the rest (into VARYING, whose
 * leaves list must have room for walked->n): a walked leaf equal to a
 * fixed one but run more often (a varying leaf merged into it) leaves the
 * difference varying.  0 when some fixed leaf is not in WALKED as a
 * whole. */
static int
split_leaves (const dpacct_leaf_list *walked, const dpacct_leaf_list *fixed,
              dpacct_leaf_list *varying)
{
  size_t matched = 0;
  varying->n = 0;
  for (size_t i = 0; i < walked->n; i++)
    {
      dpacct_leaf rest = walked->leaves[i];
      for (size_t j = 0; j < fixed->n; j++)
        if (dpacct_leaf_same (&rest, &fixed->leaves[j]))
          {
            if (rest.count < fixed->leaves[j].count)
              return 0;
            rest.count -= fixed->leaves[j].count;
            matched++;
            break;
          }
      if (rest.count > 0)
        varying->leaves[varying->n++] = rest;
    }
  return matched == fixed->n;
}

/* The leaves that the run has, equally often, at both noises: those no
 * noise moves, as far as two can tell (every evaluation checks that its
 * run still has them all).  Empty when the run cannot be built at both. */
static int
find_fixed (dpacct_event_maker *make_event, void *context, double a,
            double b, dpacct_leaf_list *fixed)
{
  dpacct_leaf_list at_a, at_b;
  dpacct_leaf_list_init (fixed);
  int status = leaves_at (make_event, context, a, &at_a);
  if (status == DPACCT_OK)
    status = leaves_at (make_event, context, b, &at_b);
  else
    dpacct_leaf_list_init (&at_b);
  fixed->leaves = malloc ((at_a.n > 0 ? at_a.n : 1) * sizeof *fixed->leaves);
  if (status == DPACCT_OK && fixed->leaves != NULL)
    {
      fixed->capacity = at_a.n;
      for (size_t i = 0; i < at_a.n; i++)
        for (size_t j = 0; j < at_b.n; j++)
          if (dpacct_leaf_same (&at_a.leaves[i], &at_b.leaves[j])
              && at_a.leaves[i].count == at_b.leaves[j].count)
            {
              fixed->leaves[fixed->n++] = at_a.leaves[i];
              break;
            }
    }
  dpacct_leaf_list_release (&at_a);
  dpacct_leaf_list_release (&at_b);
  return fixed->n;
}

/* The epsilon upper bound by the fast path at this noise into *bound
 * (*on_fixed_grid: the path's own, not the accountant's first one); any
 * status but DPACCT_OK leaves the evaluation to the accountant. */
static int
fast_epsilon (problem *p, double noise, dpacct_bound *bound,
              int *on_fixed_grid)
{
  dpacct_leaf_list walked, varying;
  int status = leaves_at (p->make_event, p->context, noise, &walked);
  dpacct_leaf_list_init (&varying);
  varying.leaves = malloc ((walked.n > 0 ? walked.n : 1)
                           * sizeof *varying.leaves);
  if (status == DPACCT_OK
      && (varying.leaves == NULL || !split_leaves (&walked, &p->fixed,
                                                   &varying)
          || varying.n == 0))
    status = DPACCT_EUNSUP;
  if (status == DPACCT_OK && p->run != NULL)
    {
      status = p->hook->epsilon (p->run, varying.leaves, varying.n, bound);
      *on_fixed_grid = status == DPACCT_OK;
    }
  else if (status == DPACCT_OK)
    {
      status = p->hook->alloc (p->accountant, p->delta, walked.leaves,
                               walked.n, p->fixed.leaves, p->fixed.n,
                               varying.leaves, varying.n, &p->run, bound);
      if (status != DPACCT_OK || p->run == NULL)
        fast_path_off (p);
    }
  dpacct_leaf_list_release (&walked);
  dpacct_leaf_list_release (&varying);
  return status;
}

/* The epsilon upper bound of the run with this noise. */
static int
epsilon_at (problem *p, double noise, double *eps)
{
  dpacct_event *event = NULL;
  dpacct_accountant *acc = NULL;
  dpacct_bound bound;
  *eps = NAN;
  p->evaluations++;
  p->last_fast = 0;
  if (p->hook != NULL
      && fast_epsilon (p, noise, &bound, &p->last_fast) == DPACCT_OK)
    {
      *eps = bound.upper, p->last = bound;
      return isnan (*eps) ? DPACCT_FAIL (DPACCT_ENUMERIC, "epsilon is NaN")
                          : DPACCT_OK;
    }
  int status = p->make_event (noise, p->context, &event);
  if (status == DPACCT_OK)
    status = dpacct_accountant_alloc (p->type, p->accountant, &acc);
  if (status == DPACCT_OK)
    status = dpacct_accountant_compose (acc, event, 1);
  if (status == DPACCT_OK)
    status = dpacct_accountant_epsilon (acc, p->delta, &bound);
  if (status == DPACCT_OK)
    *eps = bound.upper, p->last = bound;
  dpacct_accountant_free (acc);
  dpacct_event_free (event);
  if (status == DPACCT_OK && isnan (*eps))
    status = DPACCT_FAIL (DPACCT_ENUMERIC, "epsilon is NaN");
  return status;
}

/* log(eps / target), clamped to the doubles' exponent range. */
static double
excess_of (const problem *p, double eps)
{
  return eps == 0.0 ? -745.0 : fmin (log (eps / p->target), 745.0);
}

/* Brent works on log(noise) -> log(eps / target): both vary over decades.
 * At the verified bracket's ends (where the solver starts) it answers
 * with the values recorded there: evaluating again costs a whole
 * evaluation, and may answer differently (a fixed-grid bound where an
 * accountant's own was taken, or the other way round), which would leave
 * the solver a bracket that does not straddle the target. */
static double
log_excess (double log_noise, void *params)
{
  problem *p = params;
  double noise = exp (log_noise);
  if (p->lo > 0.0 && fabs (noise - p->lo) <= 1e-14 * p->lo)
    return excess_of (p, p->eps_lo);
  if (p->hi < INFINITY && fabs (noise - p->hi) <= 1e-14 * p->hi)
    return excess_of (p, p->eps_hi);
  double eps;
  int status = epsilon_at (p, exp (log_noise), &eps);
  if (status != DPACCT_OK)
    {
      if (p->status == DPACCT_OK)
        p->status = status;
      return 0.0; /* stops the solver; the status reports the failure */
    }
  if (eps <= p->target && exp (log_noise) < p->hi)
    p->hi = exp (log_noise), p->eps_hi = eps, p->bound_hi = p->last,
    p->hi_fast = p->last_fast;
  if (eps > p->target && exp (log_noise) > p->lo)
    p->lo = exp (log_noise), p->eps_lo = eps, p->lo_fast = p->last_fast;
  return excess_of (p, eps);
}

static int
check_arguments (double target, double delta,
                 const dpacct_calibration_options *o)
{
  if (!(target > 0.0) || !isfinite (target))
    return DPACCT_FAIL (DPACCT_EDOM, "target epsilon must be positive and finite");
  if (!(delta > 0.0 && delta < 1.0))
    return DPACCT_FAIL (DPACCT_EDOM, "delta must be in (0, 1)");
  if (!(o->rel_tol >= 1e-12 && o->rel_tol <= 0.5))
    return DPACCT_FAIL (DPACCT_EDOM, "relative tolerance must be in [1e-12, 0.5]");
  if (!(o->noise_min > 0.0 && o->noise_min < o->noise_max)
      || !isfinite (o->noise_max))
    return DPACCT_FAIL (DPACCT_EDOM, "need 0 < noise_min < noise_max < Inf");
  return DPACCT_OK;
}

/* Evaluates at `noise` and records it in the bracket. */
static int
probe (problem *p, double noise)
{
  log_excess (log (noise), p);
  return p->status;
}

/* Whether the target looks out of reach from lo: epsilon fell from
 * `before` at noise `from` to eps_lo at lo so slowly that, going on at
 * that rate per log of the noise, it would not reach the target by
 * noise_max.  (Epsilon falls ever more slowly in the log of the noise.)
 * Only a guess, so it only decides to probe noise_max early; a rise
 * (round-off in a bound) says nothing. */
static int
looks_out_of_reach (const problem *p, const dpacct_calibration_options *o,
                    double from, double before)
{
  double fall = (before - p->eps_lo) / log (p->lo / from);
  return p->lo < o->noise_max && fall > 0.0
         && fall * log (o->noise_max / p->lo) <= p->eps_lo - p->target;
}

/* Steps up from *NOISE, by STEP at first and growing to doublings, until
 * an evaluated noise meets the target; ERANGE when even noise_max does
 * not.  Where the target looks out of reach, noise_max is evaluated at
 * once (a run whose other phases alone spend the target: the rdp guide
 * of a 1000-phase run took twenty doublings to learn that).  *NOISE ends
 * at the last noise evaluated. */
static int
step_up (problem *p, const dpacct_calibration_options *o, double *noise,
         double step)
{
  int status = DPACCT_OK, max_probed = 0;
  while (status == DPACCT_OK && !(p->hi <= *noise) && *noise < o->noise_max)
    {
      double from = *noise, before = p->eps_lo;
      int from_missed = p->lo == from;
      status = probe (p, *noise = fmin (*noise * step, o->noise_max));
      step = fmin (step * step, 2.0);
      if (status == DPACCT_OK && !max_probed && from_missed
          && p->lo == *noise && looks_out_of_reach (p, o, from, before))
        {
          max_probed = 1;
          status = probe (p, o->noise_max);
          if (status == DPACCT_OK && p->hi == INFINITY)
            break; /* out of reach indeed */
        }
    }
  if (status == DPACCT_OK && p->hi == INFINITY)
    return DPACCT_FAIL (DPACCT_ERANGE,
                        "even the largest noise does not reach the target");
  return status;
}

/* Steps down from NOISE, by STEP at first and growing to halvings, until
 * an evaluated noise misses the target (lo > 0) or noise_min is reached. */
static int
step_down (problem *p, const dpacct_calibration_options *o, double noise,
           double step)
{
  int status = DPACCT_OK;
  while (status == DPACCT_OK && p->lo == 0.0 && noise > o->noise_min)
    {
      status = probe (p, noise = fmax (noise / step, o->noise_min));
      step = fmin (step * step, 2.0);
    }
  return status;
}

/* Steps up or down from the guess (or from 1) until the target lies
 * between two evaluated noises: eps(lo) > target >= eps(hi).  lo = 0 when
 * even noise_min meets the target.  The steps start at first_step and
 * grow to doublings. */
static int
bracket (problem *p, const dpacct_calibration_options *o, double first_step)
{
  double start = o->noise_guess > 0.0 ? o->noise_guess : 1.0;
  double noise = fmin (fmax (start, o->noise_min), o->noise_max);
  int status = probe (p, noise);
  if (status == DPACCT_OK)
    status = step_up (p, o, &noise, first_step);
  return status == DPACCT_OK ? step_down (p, o, noise, first_step) : status;
}

/* Narrows the bracket with Brent until hi <= (1 + rel_tol) lo. */
static int
narrow (problem *p, const dpacct_calibration_options *o)
{
  gsl_root_fsolver *solver = gsl_root_fsolver_alloc (gsl_root_fsolver_brent);
  if (solver == NULL)
    return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate a root solver");
  gsl_function f = { log_excess, p };
  int status = DPACCT_OK;
  if (gsl_root_fsolver_set (solver, &f, log (p->lo), log (p->hi))
      != GSL_SUCCESS)
    status = p->status != DPACCT_OK ? p->status
             : DPACCT_FAIL (DPACCT_ENUMERIC, "cannot start the root solver");
  unsigned iter = 0;
  while (status == DPACCT_OK && p->hi > (1.0 + o->rel_tol) * p->lo)
    {
      if (++iter > o->max_iter)
        status = DPACCT_FAIL (DPACCT_EMAXITER, "calibration did not converge");
      else if (gsl_root_fsolver_iterate (solver) != GSL_SUCCESS || p->status)
        status = p->status ? p->status
                 : DPACCT_FAIL (DPACCT_ENUMERIC, "root solver failed");
      else if (gsl_root_fsolver_x_upper (solver)
               - gsl_root_fsolver_x_lower (solver) < 1e-15)
        /* Brent has converged on a point inside our bracket while our
         * verified ends are still apart: bisect them geometrically. */
        log_excess (0.5 * (log (p->lo) + log (p->hi)), p);
    }
  gsl_root_fsolver_free (solver);
  return status;
}

/* Two noises that the search spans: where the fixed leaves are told
 * from the moving ones. */
static void
probe_noises (const dpacct_calibration_options *o, double *a, double *b)
{
  double start = o->noise_guess > 0.0 ? o->noise_guess : 1.0;
  *a = fmin (fmax (start, o->noise_min), o->noise_max);
  *b = *a * 2.0 <= o->noise_max ? *a * 2.0 : 0.5 * *a;
}

/* The type's fast path and the run's fixed leaves into *FIXED, or NULL
 * where it has none, it cannot serve these settings, or no leaf of the
 * run is fixed (nothing to keep). */
static const dpacct_fixed_run_hook *
fast_path (const dpacct_accountant_type *type,
           const dpacct_accountant_options *accountant,
           dpacct_event_maker *make_event, void *context,
           const dpacct_calibration_options *o, dpacct_leaf_list *fixed)
{
  const dpacct_fixed_run_hook *hook = dpacct_accountant_fixed_run (type);
  double a, b;
  probe_noises (o, &a, &b);
  dpacct_leaf_list_init (fixed);
  if (hook == NULL || !hook->serves (accountant)
      || find_fixed (make_event, context, a, b, fixed) == 0)
    {
      dpacct_leaf_list_release (fixed);
      return NULL;
    }
  return hook;
}

/* Steps up from lo until the target is met, by a quarter of rel_tol at
 * first (so that the answer stays close to lo) and then by growing
 * steps. */
static int
climb (problem *p, const dpacct_calibration_options *o)
{
  double noise = p->lo;
  return step_up (p, o, &noise, 1.0 + 0.25 * o->rel_tol);
}

/* Steps down from hi until the target is missed, as climb steps up. */
static int
descend (problem *p, const dpacct_calibration_options *o)
{
  return step_down (p, o, p->hi, 1.0 + 0.25 * o->rel_tol);
}

/* The fast path's epsilon at `noise` into *eps: 1 where the fast path
 * gave it on its fixed grid, 0 where it could not (then nothing is
 * recorded). */
static int
fast_value (problem *p, double noise, double *eps)
{
  dpacct_bound bound = { .upper = NAN };
  int on_fixed_grid = 0;
  p->evaluations++;
  int status = fast_epsilon (p, noise, &bound, &on_fixed_grid);
  *eps = bound.upper;
  return status == DPACCT_OK && on_fixed_grid && !isnan (*eps);
}

/* Where the fast search ended (lo missing the target, hi meeting it, hi
 * <= (1 + rel_tol) lo, both by the fast path), the answer to bound by the
 * accountant itself: lo raised by half the tolerance (at most hi), where
 * the fast path still meets the target.  The noise the tolerance below it then
 * lies half the tolerance below lo, where the fast bound clears the
 * target by its slope over that much: the accountant's bound, a little
 * off the fast one, still misses there, and the ladder that would bound
 * it is seldom needed (with hi itself, lo nearly on the target, it was
 * needed whenever the fast path was the more conservative).  That
 * noise becomes lo, by its fast bound.  Nothing changes (hi stands) where
 * lo is not the fast path's, or the fast path fails or disagrees at
 * either noise. */
static void
raised_answer (problem *p, const dpacct_calibration_options *o)
{
  double answer = fmin (p->lo * (1.0 + 0.5 * o->rel_tol), p->hi);
  double at_answer = p->eps_hi;
  if (!(p->run != NULL && p->lo_fast && p->lo > 0.0)
      || (answer < p->hi && !fast_value (p, answer, &at_answer))
      || at_answer > p->target)
    return;
  double under = answer / (1.0 + o->rel_tol), at_under;
  if (!fast_value (p, under, &at_under) || !(at_under > p->target))
    return;
  p->hi = answer, p->eps_hi = at_answer;
  p->lo = under, p->eps_lo = at_under;
}

/* The fast path's bounds are valid, but on a grid fixed elsewhere: the
 * accountant's own bound at the answer may lie a little above them, or
 * below.  So the answer (raised_answer) is bounded again by the
 * accountant itself, which is the bound returned; where that misses the
 * target, the search goes on upwards with the accountant alone.  Where it
 * meets it, the noise rel_tol below is taken to miss the target if its
 * fast bound, moved by twice the gap seen at the answer where the fast
 * path was the more conservative, still misses it; otherwise it is
 * bounded by the accountant as well, and the search goes on downwards
 * with it while it meets the target. */
static int
verify_fast_answer (problem *p, const dpacct_calibration_options *o)
{
  if (!p->hi_fast)
    {
      fast_path_off (p);
      return DPACCT_OK;
    }
  raised_answer (p, o);
  fast_path_off (p);
  double eps, fast_hi = p->eps_hi;
  int status = epsilon_at (p, p->hi, &eps);
  if (status != DPACCT_OK)
    return status;
  p->hi_fast = 0;
  if (eps > p->target)
    {
      p->lo = p->hi, p->eps_lo = eps, p->lo_fast = 0;
      p->hi = INFINITY;
      status = climb (p, o);
    }
  else
    {
      p->eps_hi = eps;
      p->bound_hi = p->last;
      if (!(p->lo_fast && p->lo > 0.0
            && p->eps_lo + 2.0 * fmin (eps - fast_hi, 0.0) <= p->target))
        return DPACCT_OK;
      double lo = fmin (p->lo, p->hi / (1.0 + o->rel_tol));
      p->lo_fast = 0;
      status = epsilon_at (p, lo, &eps);
      if (status != DPACCT_OK)
        return status;
      if (eps > p->target)
        {
          p->lo = lo, p->eps_lo = eps;
          return DPACCT_OK; /* it misses the target by the accountant too */
        }
      p->hi = lo, p->eps_hi = eps, p->bound_hi = p->last;
      p->lo = 0.0;
      status = descend (p, o);
      if (status == DPACCT_OK && p->lo == 0.0)
        return DPACCT_OK; /* even noise_min meets the target */
    }
  if (status == DPACCT_OK && p->hi > (1.0 + o->rel_tol) * p->lo)
    status = narrow (p, o);
  return status;
}

/* dpacct_calibrate_noise, bracketing from the guess in steps that start
 * at first_step (0: 10 % from a guess, doublings without one). */
static int
calibrate (const dpacct_accountant_type *type,
           const dpacct_accountant_options *accountant,
           dpacct_event_maker *make_event, void *context,
           double target_epsilon, double delta,
           const dpacct_calibration_options *options, double first_step,
           dpacct_calibration *result)
{
  if (result == NULL || type == NULL || make_event == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL argument");
  result->noise = NAN;
  result->epsilon_upper = NAN;
  result->noise_below = NAN;
  result->evaluations = 0;
  result->bound.lower = result->bound.upper = result->bound.order = NAN;
  result->bound.certified = result->bound.order_at_edge = 0;
  dpacct_calibration_options defaults;
  if (options == NULL)
    {
      dpacct_calibration_options_init (&defaults);
      options = &defaults;
    }
  int status = check_arguments (target_epsilon, delta, options);
  if (status != DPACCT_OK)
    return status;
  /* Only the upper bound decides, so the accountant need not work for the
   * lower one. */
  dpacct_accountant_options upper_only;
  if (accountant != NULL)
    upper_only = *accountant;
  else
    dpacct_accountant_options_init (&upper_only);
  dpacct_accountant_options_set_int (&upper_only, "upper-only", 1);
  problem p = { type, &upper_only, make_event, context, delta,
                target_epsilon, 0, DPACCT_OK, 0.0, INFINITY, NAN,
                result->bound, result->bound, NULL, { NULL, 0, 0 }, NULL,
                0, 0, 0, NAN };
  p.hook = fast_path (type, &upper_only, make_event, context, options,
                      &p.fixed);
  /* Without a guess the steps start at doublings, unless a fast path
   * makes the evaluations after the first cheap: those stay cheap only
   * while the run stays near where its grid was fixed (a far one widens
   * the product's window, and that costs as much as the first). */
  if (first_step == 0.0)
    first_step = options->noise_guess > 0.0 || p.hook != NULL ? 1.1 : 2.0;
  status = bracket (&p, options, first_step);
  if (status == DPACCT_OK && p.lo > 0.0)
    status = narrow (&p, options);
  if (status == DPACCT_OK && p.status != DPACCT_OK)
    status = p.status;
  if (status == DPACCT_OK)
    status = verify_fast_answer (&p, options);
  if (status == DPACCT_OK && p.status != DPACCT_OK)
    status = p.status;
  fast_path_off (&p);
  dpacct_leaf_list_release (&p.fixed);
  result->evaluations = p.evaluations;
  if (status != DPACCT_OK)
    return status;
  result->noise = p.hi;
  result->epsilon_upper = p.eps_hi;
  result->bound = p.bound_hi;
  result->noise_below = p.lo;
  return DPACCT_OK;
}

/* Starts a slow accountant where its guide (a cheaper one just above
 * it) lands, so that it spends its evaluations near the answer; without a
 * guide, or if the guide fails, the search starts at 1 as usual. */
static int
calibrate_guided (const dpacct_accountant_type *type,
                  const dpacct_accountant_options *accountant,
                  dpacct_event_maker *make_event, void *context,
                  double target_epsilon, double delta,
                  const dpacct_calibration_options *options,
                  dpacct_calibration *result)
{
  dpacct_calibration_options o;
  dpacct_accountant_options settings, guide_options;
  double guide_tol = 1e-2, first_step = 0.0;
  if (options != NULL)
    o = *options;
  else
    dpacct_calibration_options_init (&o);
  if (accountant != NULL)
    settings = *accountant;
  else
    dpacct_accountant_options_init (&settings);
  const dpacct_accountant_type *guide
    = type != NULL && type->guide != NULL && o.noise_guess == 0.0
          ? type->guide (&settings, o.rel_tol, &guide_options, &guide_tol)
          : NULL;
  /* With its fast path, the type's own evaluations cost little after the
   * first: a cheaper setting of it would cost more than it saves, so
   * that setting's guide goes first instead. */
  dpacct_leaf_list fixed;
  if (guide == type && guide->guide != NULL
      && fast_path (type, &settings, make_event, context, &o, &fixed))
    {
      dpacct_accountant_options cheaper = guide_options;
      dpacct_leaf_list_release (&fixed);
      guide = guide->guide (&cheaper, o.rel_tol, &guide_options, &guide_tol);
    }
  if (guide != NULL)
    {
      dpacct_calibration_options rough = o;
      dpacct_calibration guess;
      rough.rel_tol = guide_tol;
      if (calibrate_guided (guide, &guide_options, make_event, context,
                            target_epsilon, delta, &rough, &guess)
          == DPACCT_OK)
        {
          o.noise_guess = guess.noise;
          /* The same accountant, less exact, lands within a few per cent. */
          if (guide == type)
            first_step = 1.03;
        }
    }
  return calibrate (type, accountant, make_event, context, target_epsilon,
                    delta, &o, first_step, result);
}

int
dpacct_calibrate_noise (const dpacct_accountant_type *type,
                        const dpacct_accountant_options *accountant,
                        dpacct_event_maker *make_event, void *context,
                        double target_epsilon, double delta,
                        const dpacct_calibration_options *options,
                        dpacct_calibration *result)
{
  return calibrate_guided (type, accountant, make_event, context,
                           target_epsilon, delta, options, result);
}

typedef struct
{
  double q;
  uint64_t steps;
  dpacct_sampling sampling;
} dpsgd_run;

static int
make_dpsgd_event (double sigma, void *context, dpacct_event **out)
{
  const dpsgd_run *run = context;
  return dpacct_dpsgd_event_alloc (sigma, run->q, run->steps, run->sampling,
                                   out);
}

int
dpacct_noise_for_epsilon (const dpacct_accountant_type *type,
                          const dpacct_accountant_options *accountant,
                          double q, uint64_t steps, dpacct_sampling sampling,
                          double target_epsilon, double delta,
                          const dpacct_calibration_options *options,
                          dpacct_calibration *result)
{
  dpsgd_run run = { q, steps, sampling };
  return calibrate_guided (type, accountant, make_dpsgd_event, &run,
                           target_epsilon, delta, options, result);
}
