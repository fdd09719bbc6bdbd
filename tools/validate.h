/* validate.h - what the modules of "dpacct validate" share: the grid of
 * runs (validate_grid.c), one run's configuration and measurements (a
 * row of the runs table, validate_records.c), the checks computed from
 * them (validate_checks.c) and their report (validate_report.c).
 *
 * The checks are computed from the runs table only, so that a grid run
 * in one process and the same grid run in shards and merged
 * (validate_merge.c) give the same table. */
#ifndef DPACCT_TOOL_VALIDATE_H
#define DPACCT_TOOL_VALIDATE_H

#include <stdint.h>
#include <stdio.h>

#include <dpacct.h>
#include <dpacct/train.h>

#include "output.h"
#include "validate_verdict.h"

/* What a run is for. */
typedef enum {
  FAMILY_CLIP,    /* flat clipping over C and epsilon, full fine-tuning */
  FAMILY_AUTO,    /* automatic clipping (no C) */
  FAMILY_BATCH,   /* batch size and epochs */
  FAMILY_BITFIT,  /* the biases only */
  FAMILY_SCRATCH, /* no public warm start */
  FAMILY_LAP2,    /* Laplace noise, full and biases only */
  FAMILY_AUDIT,   /* the privacy audit */
  FAMILY_GHOST,   /* the cost of ghost against materialised norms */
  N_FAMILIES
} validate_family;

extern const char *const validate_family_names[N_FAMILIES];

enum { VALIDATE_MAX_LIST = 16, VALIDATE_MAX_EPOCHS = 4 };

/* One run: its configuration, then what it measured (NaN: not measured). */
typedef struct {
  size_t index; /* in the grid's job list */
  validate_family family;
  double epsilon;
  uint64_t batch;   /* FAMILY_GHOST: the layer width */
  double epochs;    /* FAMILY_GHOST: the tokens T */
  double rate, clip;
  int clipping;     /* dpacct_clipping */
  int trainable;    /* dpacct_trainable */
  int noise;        /* dpacct_noise_kind */
  int pretrained;   /* public warm start */
  unsigned seed;    /* 1, 2, ... */
  int variant;      /* FAMILY_AUDIT */
  /* Measured. */
  int done;
  double accuracy;
  uint64_t steps;
  double sigma;
  uint64_t params;
  double noise_std, noise_predicted, noise_sumsq;
  double clip_fraction;
  double weight_hard, weight_easy; /* mean w_y(C) of the hard classes and
                                      of the others */
  double norm_q10, norm_q50, norm_q90; /* before clipping, first epoch */
  double seconds;
  double epsilon_lower, epsilon_claimed; /* FAMILY_AUDIT */
  double ghost_seconds, materialised_seconds; /* FAMILY_GHOST: per norm */
  double ghost_bytes, materialised_bytes;
} validate_run;

/* The grid: its settings and job list. */
typedef struct {
  int quick;
  unsigned long seed;
  unsigned seeds;            /* per configuration */
  size_t hidden, private_size, pretrain_epochs;
  double epsilons[2];        /* strong and weak privacy */
  double clips[VALIDATE_MAX_LIST];
  size_t n_clips;
  double rates[VALIDATE_MAX_LIST]; /* flat clipping: divided by C */
  size_t n_rates;
  uint64_t batches[VALIDATE_MAX_LIST];
  size_t n_batches;
  double epochs[VALIDATE_MAX_EPOCHS]; /* the batch family's; the last is
                                         every other family's */
  size_t n_epochs;
  /* The plan at each epsilon for the last epochs: its B for the runs
   * that do not vary B, and the per-step heuristic's choice. */
  uint64_t plan_batch[2], per_step_batch[2];
  validate_run *runs;
  size_t n_runs;
} validate_grid;

/* The grid for --quick (nonzero) or the full one, with the C sweep
 * CLIPS (N_CLIPS values; 0: the default sweep).  Returns 0 or an exit
 * status after a message. */
int validate_grid_make (int quick, unsigned long seed, const double *clips,
                        size_t n_clips, validate_grid *grid);
void validate_grid_free (validate_grid *grid);
/* The grid's settings in one line (shard files start with it). */
void validate_grid_describe (const validate_grid *grid, char *text,
                             size_t size);

/* The data a run needs. */
typedef struct {
  const dpacct_dataset *private_set, *test_set;
  const dpacct_dataset *public_set; /* pretraining: five of ten classes */
} validate_data;

/* Runs job RUN (its measurements filled in). */
int validate_run_job (const validate_grid *grid, const validate_data *data,
                      validate_run *run);

/* The runs table: a header, then one row per done run (TSV). */
void validate_runs_write (FILE *stream, const validate_grid *grid);
/* Parses one row of the runs table into RUN; 0, or 1 with a message in
 * ERROR naming the column. */
int validate_run_parse (const char *line, validate_run *run, char *error,
                        size_t error_size);
extern const char validate_runs_header[];

/* One check: a row of the report. */
typedef struct {
  char check[48], predicted[200], observed[320], spread[64];
  validate_verdict verdict;
  int tuned; /* compares configurations at their best learning rate */
} validate_check;

enum { VALIDATE_MAX_CHECKS = 32 };
typedef struct {
  validate_check rows[VALIDATE_MAX_CHECKS];
  size_t n;
} validate_checks;

void validate_checks_compute (const validate_grid *grid,
                              validate_checks *checks);

/* The check table on STREAM. */
void validate_checks_print (FILE *stream, out_format format,
                            const validate_grid *grid,
                            const validate_checks *checks);
/* checks.tsv, runs.tsv, the figures' data and the figures in DIR. */
int validate_report_write (const char *dir, const validate_grid *grid,
                           const validate_checks *checks);

/* Reads shard outputs FILES into GRID (made from their first line) and
 * refuses a job missing or given twice.  0, or an exit status after a
 * message. */
int validate_merge (char *const *files, size_t n_files, validate_grid *grid);

/* FAMILY_GHOST: times the two norm computations for one layer of WIDTH
 * inputs and outputs applied to T tokens. */
int validate_ghost_cost (size_t width, size_t tokens, validate_run *run);
/* Whether the cost model of mixed ghost clipping picks ghost there:
 * T^2 (d_in + d_out) < T d_in d_out. */
int validate_ghost_predicted (size_t width, size_t tokens);

#endif
