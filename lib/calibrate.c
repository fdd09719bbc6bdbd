/* calibrate.c - the smallest noise whose epsilon upper bound meets a target.
 *
 * epsilon_upper(noise) decreases with the noise.  Bracket the target by
 * doubling, narrow it with GSL's Brent solver on log(epsilon), then return
 * the bracket's upper end, whose epsilon has been computed and verified to
 * be at most the target: the answer is never on the unsafe side. */
#include "dpacct/calibrate.h"
#include "internal.h"

#include <math.h>
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
} problem;

/* The epsilon upper bound of the run with this noise. */
static int
epsilon_at (problem *p, double noise, double *eps)
{
  dpacct_event *event = NULL;
  dpacct_accountant *acc = NULL;
  dpacct_bound bound;
  *eps = NAN;
  p->evaluations++;
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

/* Brent works on log(noise) -> log(eps / target): both vary over decades. */
static double
log_excess (double log_noise, void *params)
{
  problem *p = params;
  double eps;
  int status = epsilon_at (p, exp (log_noise), &eps);
  if (status != DPACCT_OK)
    {
      if (p->status == DPACCT_OK)
        p->status = status;
      return 0.0; /* stops the solver; the status reports the failure */
    }
  if (eps <= p->target && exp (log_noise) < p->hi)
    p->hi = exp (log_noise), p->eps_hi = eps, p->bound_hi = p->last;
  if (eps > p->target && exp (log_noise) > p->lo)
    p->lo = exp (log_noise);
  if (eps == 0.0)
    return -745.0;
  return fmin (log (eps / p->target), 745.0);
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

/* Steps up or down from the guess (or from 1) until the target lies
 * between two evaluated noises: eps(lo) > target >= eps(hi).  lo = 0 when
 * even noise_min meets the target.  The steps start at first_step and
 * grow to doublings. */
static int
bracket (problem *p, const dpacct_calibration_options *o, double first_step)
{
  double start = o->noise_guess > 0.0 ? o->noise_guess : 1.0;
  double noise = fmin (fmax (start, o->noise_min), o->noise_max);
  double step = first_step;
  int status = probe (p, noise);
  while (status == DPACCT_OK && p->hi == INFINITY && noise < o->noise_max)
    {
      status = probe (p, noise = fmin (noise * step, o->noise_max));
      step = fmin (step * step, 2.0);
    }
  if (status == DPACCT_OK && p->hi == INFINITY)
    return DPACCT_FAIL (DPACCT_ERANGE,
                        "even the largest noise does not reach the target");
  step = first_step;
  while (status == DPACCT_OK && p->lo == 0.0 && noise > o->noise_min)
    {
      status = probe (p, noise = fmax (noise / step, o->noise_min));
      step = fmin (step * step, 2.0);
    }
  return status;
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
                result->bound, result->bound };
  if (first_step == 0.0)
    first_step = options->noise_guess > 0.0 ? 1.1 : 2.0;
  status = bracket (&p, options, first_step);
  if (status == DPACCT_OK && p.lo > 0.0)
    status = narrow (&p, options);
  if (status == DPACCT_OK && p.status != DPACCT_OK)
    status = p.status;
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
