/* train_plan.c - the set-up and the tally both trainers share
 * (train_plan.h). */
#include "train_plan.h"
#include "dpacct/calibrate.h"
#include "dpacct/event.h"
#include "dpacct/lap2.h"
#include "internal.h"

#include <math.h>
#include <string.h>

int
train_check_privacy (const dpacct_train_options *o)
{
  if (!(o->noise_multiplier > 0)
      && !(o->epsilon > 0 && isfinite (o->epsilon) && o->delta > 0
           && o->delta < 1))
    return DPACCT_FAIL (DPACCT_EDOM, "need epsilon > 0 and delta in (0, 1), "
                                     "or a noise multiplier");
  if (o->noise != DPACCT_NOISE_GAUSSIAN && o->noise != DPACCT_NOISE_LAPLACE)
    return DPACCT_FAIL (DPACCT_EDOM, "unknown kind of noise");
  /* Laplace is accounted by the sound lap2 only: lap2-paper is not a
   * privacy bound under subsampling, and the Gaussian accountants do not
   * take Laplace noise. */
  if (o->noise == DPACCT_NOISE_LAPLACE
      && ((o->accountant != NULL && o->accountant != dpacct_accountant_lap2)
          || o->noise_multiplier > 0))
    return DPACCT_FAIL (DPACCT_EDOM, "Laplace noise is calibrated by the "
                                     "lap2 accountant from epsilon, delta");
  return DPACCT_OK;
}

double
train_sensitivity (const dpacct_train_options *o)
{
  return o->clipping == DPACCT_CLIP_FLAT ? o->clip : 1.0;
}

/* sigma for the run, from the library's calibration unless given. */
static int
gaussian_sigma (const dpacct_train_options *o, train_plan *p)
{
  if (o->noise_multiplier > 0)
    {
      p->sigma = o->noise_multiplier;
      p->epsilon_upper = NAN;
      return DPACCT_OK;
    }
  dpacct_accountant_options accounting;
  dpacct_calibration_options calibration;
  dpacct_calibration result;
  dpacct_accountant_options_init (&accounting);
  dpacct_calibration_options_init (&calibration);
  int status = dpacct_noise_for_epsilon (o->accountant ? o->accountant
                                                       : dpacct_accountant_rdp,
                                         &accounting, p->q, p->steps,
                                         DPACCT_SAMPLING_POISSON, o->epsilon,
                                         o->delta, &calibration, &result);
  p->sigma = result.noise;
  p->epsilon_upper = result.epsilon_upper;
  return status;
}

/* b for the run: the smallest Laplace scale whose lap2 epsilon upper bound
 * for the run is at most the target.  lap2 assumes that one example moves
 * the sum by at most C in L2 norm; that bound here is the sensitivity S
 * (C for flat clipping, 1 for normalised and automatic, whose clipped
 * gradients have norm at most 1), so S is the clip it calibrates with:
 * the same S by which the Gaussian path multiplies sigma. */
static int
laplace_scale (const dpacct_train_options *o, uint64_t dimension,
               train_plan *p)
{
  dpacct_accountant_options accounting;
  dpacct_calibration_options calibration;
  dpacct_calibration result, gaussian;
  dpacct_accountant_options_init (&accounting);
  dpacct_calibration_options_init (&calibration);
  /* lap2 at b/S is at most the subsampled Gaussian at sigma = b/S, and
   * close to it in many dimensions: RDP's sigma (cheap) is a good start.
   * Only a start: the answer is verified either way. */
  if (dpacct_noise_for_epsilon (dpacct_accountant_rdp, &accounting, p->q,
                                p->steps, DPACCT_SAMPLING_POISSON,
                                o->epsilon, o->delta, &calibration,
                                &gaussian) == DPACCT_OK)
    calibration.noise_guess = gaussian.noise * p->sensitivity;
  int status = dpacct_lap2_scale_for_epsilon (dpacct_accountant_lap2,
                                              &accounting, p->sensitivity,
                                              dimension, p->q, p->steps,
                                              o->epsilon, o->delta,
                                              &calibration, &result);
  p->b = result.noise;
  p->sigma = M_SQRT2 * p->b / p->sensitivity; /* Laplace(b) has std
                                                 sqrt(2) b */
  p->epsilon_upper = result.epsilon_upper;
  return status;
}

int
train_plan_poisson (const dpacct_train_options *o, size_t n,
                    uint64_t dimension, train_plan *p)
{
  memset (p, 0, sizeof *p);
  p->b = NAN;
  p->sensitivity = train_sensitivity (o);
  int status = dpacct_dpsgd_steps (n, o->batch_size, o->epochs, &p->q,
                                   &p->steps);
  if (status)
    return status;
  return o->noise == DPACCT_NOISE_LAPLACE ? laplace_scale (o, dimension, p)
                                          : gaussian_sigma (o, p);
}

void
train_tally_init (train_tally *t)
{
  memset (t, 0, sizeof *t);
  t->batch_min = SIZE_MAX;
}

void
train_tally_batch (train_tally *t, size_t batch)
{
  t->sampled += batch;
  if (batch < t->batch_min)
    t->batch_min = batch;
  if (batch > t->batch_max)
    t->batch_max = batch;
}

void
train_tally_report (const train_tally *t, const train_plan *p,
                    const dpacct_train_options *o, size_t classes,
                    uint64_t dimension, dpacct_train_report *rep)
{
  rep->steps = p->steps;
  rep->ghost_layers = 0;
  rep->q = p->q;
  rep->sigma = p->sigma;
  rep->noise = o->noise;
  rep->laplace_scale = p->b;
  rep->epsilon_upper = p->epsilon_upper;
  rep->sensitivity = p->sensitivity;
  rep->batch_mean = (double) t->sampled / (double) p->steps;
  rep->batch_min = t->batch_min;
  rep->batch_max = t->batch_max;
  size_t real = 0; /* sampled examples of the data set (not a canary) */
  for (size_t c = 0; c < classes; c++)
    real += t->seen[c];
  rep->clip_fraction = real ? (double) t->clipped / (double) real : NAN;
  rep->n_classes = classes;
  for (size_t c = 0; c < DPACCT_MAX_CLASSES; c++)
    {
      rep->class_weight[c] = t->seen[c] ? t->weight[c] / (double) t->seen[c]
                                        : NAN;
      rep->class_accuracy[c] = NAN;
    }
  rep->n_parameters = dimension;
  double inv_batch = 1.0 / (double) o->batch_size;
  rep->noise_sumsq = t->noise_sumsq * inv_batch * inv_batch;
  rep->noise_std = sqrt (rep->noise_sumsq
                         / ((double) p->steps * (double) dimension));
  rep->noise_std_predicted = p->sigma * p->sensitivity * inv_batch;
}
