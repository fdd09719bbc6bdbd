/* train_internal.h - what the audit and the tests need from the trainer
 * and users must not reach: the deliberately broken variants, the canary
 * hook, and a view of the clipped contributions and the trained head. */
#ifndef DPACCT_TRAIN_INTERNAL_H
#define DPACCT_TRAIN_INTERNAL_H

#include "dpacct/train.h"

typedef enum {
  TRAIN_CORRECT,
  TRAIN_HALF_NOISE, /* adds half the calibrated noise */
  TRAIN_NO_CLIPPING /* scales no gradient down; the noise is unchanged */
} train_fault;

/* A canary example, which the trainer may include (Poisson-sampled like
 * the others) and whose clipped-gradient direction it projects every
 * released noisy sum on. */
typedef struct {
  train_fault fault;
  const float *canary_x; /* dim features, or NULL: no canary */
  unsigned canary_y;
  int canary_in;         /* the canary is part of the training set */
  int skip_evaluation;   /* no test or training loss: the audit's speed */
  double statistic;      /* out: sum over steps of <noisy sum, u_t> */
  /* For tests: called with each sampled example's clipped contribution
   * (PARAMS numbers, as added to the step's sum) before the noise, or
   * NULL. */
  void (*contribution) (const double *g, size_t params, void *context);
  void *context;
  double *weights;       /* out, or NULL: the trained head, row-major,
                            report.n_classes x (dim + 1) numbers */
} train_hook;

/* dpacct_train_run with a HOOK (NULL: the correct trainer). */
int train_run (const dpacct_dataset *private_data,
               const dpacct_dataset *test_data,
               const dpacct_train_options *options, train_hook *hook,
               dpacct_train_report *report);

/* The exact norm ||r|| * ||[x; 1]|| of one example's cross-entropy
 * gradient for the head W (classes x (dim + 1), row-major), and its loss;
 * NaN when memory runs out.  For tests against a materialised gradient. */
double train_gradient_norm (const double *w, size_t dim, size_t classes,
                            const float *x, unsigned y, double *loss);

#endif
