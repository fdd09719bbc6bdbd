/* run.h - run resolution: the phases of a run (from --run, --phase or the
 * single run on the command line) with every value filled in, the events
 * they make, and the accountants that can compose them.
 *
 * A phase takes what it does not set from the command line; the library
 * says which accountants can compose the result, and why not. */
#ifndef DPACCT_TOOL_RUN_H
#define DPACCT_TOOL_RUN_H

#include <stddef.h>
#include <stdint.h>

#include <dpacct.h>

#include "options.h"
#include "run_file.h"

/* Makes the run from --sampling-rate/--steps or from --dataset-size,
 * --batch-size and --epochs (filled from DEFAULTS, which may be NULL).
 * Returns 0, or the exit status after printing one error line. */
int cli_resolve_run (const cli_options *options, const cli_defaults *defaults,
                     cli_run *run);

/* Runs of more phases print the whole run only (see cmd_run.c). */
enum { CLI_MAX_PHASE_ROWS = 100 };

/* One phase, resolved. */
typedef struct {
  char label[RUN_MAX_NAME + 16]; /* its name, or its number from 1 */
  int laplace;           /* Laplace noise (else Gaussian) */
  int unknown;           /* the noise is '?' */
  double noise;          /* sigma, or the Laplace scale b */
  double clip;           /* Laplace: the clipping bound C */
  uint64_t dimension;    /* Laplace on L2-clipped sums: d; 0: L1-clipped */
  dpacct_sampling sampling;
  cli_run run;           /* q, steps and how they were obtained */
} cli_phase;

typedef struct {
  run_spec spec;
  cli_phase *phases;
  size_t n;
  int listed;            /* from --run or --phase: print a row per phase */
  size_t unknown;        /* the index of the '?' phase, or n */
  uint64_t total_steps;
} cli_phases;

/* Reads --run or --phase (or takes the one run of the command line),
 * fills in each phase from OPTIONS, and settles the accountants: the
 * default, "all" (every accountant that can compose the run), or the one
 * named, refused with the library's reason when it cannot.  Returns 0, or
 * the exit status after one error line. */
int cli_phases_resolve (cli_options *options, cli_phases *out);
void cli_phases_free (cli_phases *phases);

/* The event of phases [FIRST, LAST) in order, the '?' phase at noise
 * UNKNOWN_NOISE; SKIP (or n) is a phase left out. */
int cli_phases_event (const cli_phases *phases, size_t first, size_t last,
                      size_t skip, double unknown_noise, dpacct_event **out);

/* One phase's words for messages and tables: "Gaussian, sigma 1.1, q 0.01,
 * 1000 steps" in BUF. */
void cli_phase_text (const cli_phase *phase, double noise, char *buf,
                     size_t size);

#endif
