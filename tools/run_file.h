/* run_file.h - the phases of a run as a person writes them: a TSV run
 * file (--run FILE) or --phase KEY=VALUE,... options.
 *
 * This module only reads and checks what each phase says; run.c fills in
 * what a phase leaves out from the command line and makes the events. */
#ifndef DPACCT_TOOL_RUN_FILE_H
#define DPACCT_TOOL_RUN_FILE_H

#include <stddef.h>
#include <stdint.h>

#include <dpacct.h>

/* The columns of a run file, also the keys of --phase; named like the
 * long options. */
typedef enum {
  RUN_STEPS,
  RUN_EPOCHS,
  RUN_NOISE_MULTIPLIER,
  RUN_LAPLACE_SCALE,
  RUN_SAMPLING_RATE,
  RUN_BATCH_SIZE,
  RUN_DATASET_SIZE,
  RUN_SAMPLING,
  RUN_CLIP,
  RUN_DIMENSION,
  RUN_NAME,
  RUN_N_KEYS
} run_key;
#define RUN_BIT(key) (1u << (key))

/* The most phases a run may have (see dpacct(1), "Runs with several
 * phases"): beyond, accounting would take minutes. */
enum { RUN_MAX_PHASES = 10000, RUN_MAX_NAME = 64 };

/* One phase, as written. */
typedef struct {
  unsigned set;          /* RUN_BIT of each key given a value */
  int unknown_noise;     /* its noise is '?' (noise-for-epsilon) */
  uint64_t steps, batch_size, dataset_size, dimension;
  double epochs, noise_multiplier, laplace_scale, sampling_rate, clip;
  dpacct_sampling sampling;
  char name[RUN_MAX_NAME];
  unsigned long line;                 /* file line, or --phase number */
  unsigned long column[RUN_N_KEYS];   /* where each value starts */
} run_phase;

typedef struct {
  char source[256];      /* the file name, "<stdin>" or "--phase" */
  int from_options;      /* the phases came from --phase */
  run_phase *phases;
  size_t n, capacity;
} run_spec;

void run_spec_init (run_spec *spec);
void run_spec_free (run_spec *spec);

/* The long-option name of KEY ("noise-multiplier"). */
const char *run_key_name (run_key key);

/* Reads a TSV run of SIZE bytes from TEXT (not NUL-terminated), naming
 * SOURCE in messages: a header of column names, then one phase per line;
 * '#' comments, blank lines, CRLF line ends and a UTF-8 byte-order mark
 * are accepted.  Returns 0, or 1 after one error line naming the source,
 * line and column. */
int run_parse_tsv (const char *text, size_t size, const char *source,
                   run_spec *spec);

/* run_parse_tsv on the file PATH ("-": standard input). */
int run_read_file (const char *path, run_spec *spec);

/* Appends the phase of one --phase KEY=VALUE,... (the INDEX-th, from 1).
 * Returns 0, or 1 after one error line. */
int run_parse_phase (const char *text, unsigned long index, run_spec *spec);

/* One error line about KEY of PHASE ("FILE:LINE:COLUMN: ..." or "--phase
 * N: ..."); KEY may be RUN_N_KEYS for the phase as a whole.  Returns 1. */
int run_error (const run_spec *spec, const run_phase *phase, run_key key,
               const char *format, ...)
  __attribute__ ((format (printf, 4, 5)));

#endif
