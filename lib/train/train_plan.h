/* train_plan.h - what the head trainer (trainer.c) and the MLP trainer
 * (mlp_trainer.c) share before and after their steps: the checks of the
 * privacy options, the Poisson run's steps and calibrated noise, and the
 * tally of batches, clipping and noise that the report shows. */
#ifndef DPACCT_TRAIN_PLAN_H
#define DPACCT_TRAIN_PLAN_H

#include "dpacct/train.h"

#include <stddef.h>
#include <stdint.h>

/* The noise of a run. */
typedef struct {
  double q;
  uint64_t steps;
  double sigma;         /* std on the sum over S (Laplace: sqrt(2) b / S) */
  double b;             /* Laplace scale, NaN for Gaussian noise */
  double epsilon_upper; /* NaN when sigma was given */
  double sensitivity;   /* S: C (flat clipping) or 1 */
} train_plan;

/* The options' privacy settings: epsilon and delta (or a noise
 * multiplier), the kind of noise and, for Laplace, the lap2 accountant. */
int train_check_privacy (const dpacct_train_options *options);

/* S for the options' clipping. */
double train_sensitivity (const dpacct_train_options *options);

/* Poisson sampling of N examples: q, steps = dpacct_dpsgd_steps, and
 * sigma from the options' accountant (or as given), or Laplace's b from
 * lap2 for DIMENSION noisy coordinates. */
int train_plan_poisson (const dpacct_train_options *options, size_t n,
                        uint64_t dimension, train_plan *plan);

/* The run's batches, clipping per class and noise, step by step. */
typedef struct {
  size_t sampled, clipped, batch_min, batch_max;
  size_t seen[DPACCT_MAX_CLASSES];
  double weight[DPACCT_MAX_CLASSES];
  double noise_sumsq;   /* of the draws added to the sums */
} train_tally;

void train_tally_init (train_tally *tally);
void train_tally_batch (train_tally *tally, size_t batch);

/* The report's plan, batch, clipping and per-step noise fields, for
 * CLASSES classes, batch size B and DIMENSION noisy coordinates; the
 * class accuracies are set to NaN (the evaluation fills them). */
void train_tally_report (const train_tally *tally, const train_plan *plan,
                         const dpacct_train_options *options, size_t classes,
                         uint64_t dimension, dpacct_train_report *report);

#endif
