/* epoch_stats.h - the trainers' non-private per-epoch diagnostics: every
 * sampled example's gradient norm before clipping, grouped by epoch
 * record, turned into exact quantiles, the clip fraction and the weight
 * each class kept (dpacct_epoch_record). */
#ifndef DPACCT_EPOCH_STATS_H
#define DPACCT_EPOCH_STATS_H

#include "dpacct/train.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
  dpacct_train_report *report; /* where the records go */
  uint64_t steps;              /* T of the run */
  size_t records;              /* R */
  uint64_t first_step;         /* of the record being filled */
  double *norms;               /* its sampled examples' norms */
  size_t n_norms, capacity;
  size_t clipped;
  size_t seen[DPACCT_MAX_CLASSES];
  double weight[DPACCT_MAX_CLASSES];
} epoch_stats;

/* The number of records R for EPOCHS over STEPS steps:
 * min(ceil(epochs), DPACCT_MAX_EPOCH_RECORDS, steps), at least 1. */
size_t epoch_stats_records (double epochs, uint64_t steps);

/* Sets REPORT's n_epoch_records and epochs_per_record and prepares to
 * fill them; EXPECTED_PER_STEP sizes the first buffer. */
int epoch_stats_init (epoch_stats *stats, dpacct_train_report *report,
                      double epochs, uint64_t steps,
                      double expected_per_step);
void epoch_stats_free (epoch_stats *stats);

/* One sampled example of label Y (< DPACCT_MAX_CLASSES): its norm before
 * clipping, the weight it kept, and whether it was clipped. */
int epoch_stats_add (epoch_stats *stats, double norm, unsigned y,
                     double weight, int clipped);

/* Step T is over: closes its record when step T + 1 belongs to the next. */
void epoch_stats_end_step (epoch_stats *stats, uint64_t t);

/* The type-7 quantile at level P of the N sorted values V. */
double epoch_stats_quantile (const double *v, size_t n, double p);

#endif
