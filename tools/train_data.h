/* train_data.h - the data the trainer's commands share: load Fashion-MNIST
 * or a user's CSV, split off the public part, fit (or reuse) the frozen
 * PCA features and transform the private and test parts. */
#ifndef DPACCT_TOOL_TRAIN_DATA_H
#define DPACCT_TOOL_TRAIN_DATA_H

#include <dpacct.h>
#include <dpacct/train.h>

#include "options.h"

typedef struct {
  dpacct_dataset *private_set; /* features of the private part */
  dpacct_dataset *test_set;    /* features of the test set */
  /* Features of the public part, kept only for a warm start (options'
   * pretrain_epochs > 0; else NULL). */
  dpacct_dataset *public_set;
  int raw;                     /* --features raw: no PCA, the inputs */
  const char *name;            /* "fashion-mnist" or the file */
  uint64_t public_size;
  size_t features;             /* K */
  int from_cache;              /* the PCA fit was read from the cache */
  char cache_dir[1024];        /* "" when there is none */
} train_data;

/* Loads --data (default fashion-mnist; its directory may be set with
 * $DPACCT_FASHION_MNIST), takes the first --public-size examples as public
 * and the next --dataset-size (default DEFAULT_PRIVATE, 0: all the rest)
 * as private, and builds K = --features features (default min(256, d)),
 * or keeps the inputs as they are with --features raw.
 * Returns 0, or the exit status after one error line; ABSENT (may be
 * NULL) is set when Fashion-MNIST is not installed. */
int train_data_load (const cli_options *options, uint64_t default_private,
                     train_data *data, int *absent);
void train_data_free (train_data *data);

/* Progress on stderr when it is a terminal: "dpacct: WHAT" overwritten in
 * place; train_progress_done ends the line. */
int train_progress_wanted (void);
void train_progress (const char *what);
void train_progress_done (void);
/* A dpacct_train_options progress callback (CONTEXT: a label). */
void train_progress_steps (uint64_t step, uint64_t steps, void *context);

#endif
