/* sampler_epoch.c - [lower, upper] for the epoch-based samplers:
 * shuffling (a new permutation every epoch, or one for all), and
 * balls-and-bins.
 *
 * Upper, proved: each example sits in exactly one batch per epoch, for
 * every permutation (or assignment), so given the batches the run is E
 * Gaussian mechanisms of sensitivity 1 on the target, one Gaussian at
 * sigma / sqrt(E); the sampler is a mixture over batches, the same for
 * both datasets, and joint convexity keeps the bound.
 *
 * Lower: the largest batch sum of the worst pair we know (see
 * sampler_maxstat.c), its PLD composed over the epochs (shuffle,
 * balls-and-bins) or one epoch at sigma / sqrt(E) (shuffle-once: the
 * target sits in the same batch every epoch, so for this pair the E
 * releases are one at sigma / sqrt(E)).
 *
 * Last partial batch dropped (options->dropped_fraction r > 0).  Upper:
 * given the permutation, each example is in at most one batch per epoch
 * (none if left out), so the same Gaussian at sigma / sqrt(E) dominates
 * (fewer releases of the target are a post-processing of more: add
 * noise-only releases), and joint convexity over the permutation keeps
 * it.  Lower: the permutation does not depend on the data, so with the
 * pair above the target is left out with probability r, and then every
 * batch sum is the others' alone under both datasets; otherwise it is in
 * a uniform batch, as before.  One epoch is therefore exactly the mixture
 * (1 - w) N(0, s^2 I) + w P against (1 - w) N(0, s^2 I) + w Q, w = 1 - r,
 * and its largest coordinate has the mixed CDFs of sampler_maxstat.c.
 * shuffle: the permutations of the epochs are independent, so is each
 * epoch's leaving-out, and the epochs compose.  shuffle-once: the target
 * is left out of every epoch or sits in the same batch in every epoch;
 * the sum of the E releases (a post-processing) is then the one-epoch
 * mixture at sigma / sqrt(E) with the same w. */
#include "sampler_internal.h"
#include "dpacct/sampler.h"
#include "internal.h"

#include <math.h>

void
dpacct_sampler_options_init (dpacct_sampler_options *o)
{
  o->pld_interval = 1e-4;
  o->max_points = (size_t) 1 << 22;
  o->bracket_accuracy = 1e-3;
  o->dropped_fraction = 0.0;
}

static int
check_run (const dpacct_epoch_run *run)
{
  if (!(run->sigma > 0.0) || !isfinite (run->sigma))
    return DPACCT_FAIL (DPACCT_EDOM, "sigma must be positive and finite");
  if (run->batches < 1 || run->batches > DPACCT_SAMPLER_MAX_BATCHES)
    return DPACCT_FAIL (DPACCT_EDOM, "batches per epoch out of range");
  if (run->epochs < 1 || run->epochs > DPACCT_SAMPLER_MAX_EPOCHS)
    return DPACCT_FAIL (DPACCT_EDOM, "epochs out of range");
  return DPACCT_OK;
}

/* The max statistic's lower bound: epsilon at delta (want_delta 0) or
 * delta at epsilon, composing `count` steps of the pair at sigma.  A grid
 * too fine for the memory cap is coarsened (valid on any grid). */
static int
maxstat_lower (double sigma, uint64_t k, double shift_p, double shift_q,
               double keep, uint64_t count, int want_delta, double given,
               const dpacct_sampler_options *o, double *lower)
{
  *lower = NAN;
  int status = DPACCT_ENOMEM;
  for (double h = o->pld_interval; h <= 0.1 && status == DPACCT_ENOMEM;
       h *= 2.0)
    {
      pld_step step;
      status = dpacct_maxstat_step (sigma, k, shift_p, shift_q, keep, h,
                                    &step);
      if (status != DPACCT_OK)
        return status;
      pld_factor f = { &step, count };
      pld_composed c;
      status = dpacct_pld_compose (&f, 1, 0.0, o->max_points, NULL, &c);
      if (status == DPACCT_OK)
        {
          *lower = want_delta ? dpacct_pld_composed_delta (&c, given, PLD_LOWER)
                              : dpacct_pld_composed_epsilon (&c, given,
                                                             PLD_LOWER);
          dpacct_pld_composed_release (&c);
        }
      dpacct_pld_step_release (&step);
    }
  return status;
}

static int
sampler_bound (dpacct_sampler sampler, const dpacct_epoch_run *run,
               int want_delta, double given,
               const dpacct_sampler_options *options, dpacct_bound *out)
{
  out->lower = out->upper = NAN;
  out->certified = 0;
  out->order = NAN;
  out->order_at_edge = 0;
  dpacct_sampler_options o;
  if (options == NULL)
    dpacct_sampler_options_init (&o);
  else
    o = *options;
  int status = check_run (run);
  if (status != DPACCT_OK)
    return status;
  if (want_delta ? !(given >= 0.0) || !isfinite (given)
                 : !(given > 0.0) || !(given < 1.0))
    return DPACCT_FAIL (DPACCT_EDOM, want_delta
                        ? "epsilon must be non-negative and finite"
                        : "delta must be in (0, 1)");
  if (!(o.pld_interval > 0.0) || !(o.bracket_accuracy > 0.0)
      || o.max_points < 16 || !(o.dropped_fraction >= 0.0)
      || !(o.dropped_fraction < 1.0))
    return DPACCT_FAIL (DPACCT_EDOM, "bad sampler options");
  if (sampler == DPACCT_SAMPLER_BALLS_AND_BINS && o.dropped_fraction > 0.0)
    return DPACCT_FAIL (DPACCT_EDOM, "balls-and-bins leaves no example out "
                                     "(dropped_fraction must be 0)");
  double keep = 1.0 - o.dropped_fraction;
  double root = sqrt ((double) run->epochs);
  double s_run = run->sigma / root, upper, lower;
  status = want_delta ? dpacct_gaussian_exact_delta (s_run, given, &upper)
                      : dpacct_gaussian_exact_epsilon (s_run, given, &upper);
  if (status != DPACCT_OK)
    return status;
  switch (sampler)
    {
    case DPACCT_SAMPLER_SHUFFLE:
      status = maxstat_lower (run->sigma, run->batches, 2.0, 1.0, keep,
                              run->epochs, want_delta, given, &o, &lower);
      break;
    case DPACCT_SAMPLER_SHUFFLE_ONCE:
      status = maxstat_lower (s_run, run->batches, 2.0, 1.0, keep, 1,
                              want_delta, given, &o, &lower);
      break;
    case DPACCT_SAMPLER_BALLS_AND_BINS:
      status = maxstat_lower (run->sigma, run->batches, 1.0, 0.0, 1.0,
                              run->epochs, want_delta, given, &o, &lower);
      /* The exact bracket costs about K^2 / accuracy points per term
       * composition (seconds at K = 10): taken up to K = 16. */
      if (status == DPACCT_OK && run->epochs == 1
          && run->batches <= DPACCT_SAMPLER_BALLS_EXACT_MAX_K)
        {
          double lo, hi;
          status = dpacct_balls_one_epoch (run->sigma, run->batches,
                                           want_delta, given,
                                           o.bracket_accuracy,
                                           o.max_points, &lo, &hi);
          if (status == DPACCT_ENOMEM)
            status = DPACCT_OK; /* too fine for the memory cap: skipped */
          else if (status == DPACCT_OK)
            {
              lower = fmax (lower, lo);
              upper = fmin (upper, hi);
            }
        }
      /* E > 1: the one-epoch pair's pessimistic PLD, composed (seconds at
       * K = 16; where it does not fit the memory cap, the Gaussian
       * stands). */
      if (status == DPACCT_OK && run->epochs > 1
          && run->batches <= DPACCT_SAMPLER_BALLS_EXACT_MAX_K)
        {
          double pld_upper;
          status = dpacct_balls_pld_upper (run->sigma, run->batches,
                                           run->epochs, want_delta, given,
                                           o.max_points, &pld_upper);
          if (status == DPACCT_ENOMEM)
            status = DPACCT_OK;
          else if (status == DPACCT_OK)
            upper = fmin (upper, pld_upper);
        }
      break;
    default:
      return DPACCT_FAIL (DPACCT_EDOM, "unknown sampler");
    }
  if (status != DPACCT_OK)
    return status;
  out->upper = upper;
  /* Both ends bound the same truth; rounding could only cross them by a
   * hair, and the proved upper end decides. */
  out->lower = fmax (fmin (lower, upper), 0.0);
  return DPACCT_OK;
}

int
dpacct_sampler_epsilon (dpacct_sampler sampler, const dpacct_epoch_run *run,
                        double delta, const dpacct_sampler_options *options,
                        dpacct_bound *out)
{
  return sampler_bound (sampler, run, 0, delta, options, out);
}

int
dpacct_sampler_delta (dpacct_sampler sampler, const dpacct_epoch_run *run,
                      double epsilon, const dpacct_sampler_options *options,
                      dpacct_bound *out)
{
  return sampler_bound (sampler, run, 1, epsilon, options, out);
}
