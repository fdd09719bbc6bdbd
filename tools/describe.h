/* describe.h - the assumptions block of a report: accountant,
 * mechanism, sampling, neighbouring relation, steps and how they were
 * obtained, and each accountant's settings, as echoed by every command. */
#ifndef DPACCT_TOOL_DESCRIBE_H
#define DPACCT_TOOL_DESCRIBE_H

#include <stddef.h>

#include "options.h"
#include "output.h"
#include "run.h"

/* The assumptions of a report, with room for the text they print. */
enum { CLI_MAX_ASSUMPTIONS = 28 };
typedef struct {
  out_field fields[CLI_MAX_ASSUMPTIONS];
  size_t n;
  char orders[256];
  char accountants[64];
  char max_orders[128];
} cli_assumptions;

/* Accountant, mechanism, sampling, neighbouring relation, steps and how
 * they were obtained, orders (rdp), certified, the PLD grid (pld), the
 * largest moment order (lap2).  WITH_NOISE: also the noise multiplier (or
 * the Laplace scale); Laplace runs always show the clip and dimension. */
void cli_describe_run (const cli_options *options, const cli_run *run,
                       int with_noise, cli_assumptions *out);
/* Appends F, with NOTE "(default)" when option ID was not given. */
void cli_add_assumption (cli_assumptions *a, out_field f,
                         const cli_options *options, cli_option_id id);

/* The assumptions of a run of several phases: accountant, where the
 * phases come from, neighbouring relation, the accountants' settings. */
void cli_describe_phases (const cli_options *options,
                          const cli_phases *phases, cli_assumptions *out);

/* "default grid (N orders)" or the list, in BUF. */
void cli_orders_text (const cli_options *options, char *buf, size_t size);

#endif
