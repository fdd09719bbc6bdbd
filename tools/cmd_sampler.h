/* cmd_sampler.h - what "dpacct epsilon" and "dpacct delta" do for the
 * samplers beyond the library's events: shuffled and balls-and-bins
 * batches, capped Poisson batches, and the lower end of sampling without
 * replacement; and the warning that Poisson figures assume Poisson
 * sampling. */
#ifndef DPACCT_TOOL_CMD_SAMPLER_H
#define DPACCT_TOOL_CMD_SAMPLER_H

#include <stddef.h>

#include "commands.h"

/* Nonzero when the run is this module's to answer (an epoch sampler, or
 * --max-batch-size). */
int cmd_sampler_owns (const cli_options *options);

/* Answers and prints the run; returns the exit status. */
int cmd_sampler_bound (const bound_command *command,
                       const cli_options *options);

/* Sampling without replacement: fills BOUND's missing lower end from the
 * remove pair at sigma/2 (dpacct_without_replacement_lower).  Returns 0
 * or the exit status after one error line. */
int cmd_sampler_wor_lower (const bound_command *command,
                           const cli_options *options, const cli_run *run,
                           dpacct_bound *bound);

/* The table's line for a run given as --batch-size and --epochs without
 * --sampling; NULL otherwise. */
const char *cmd_sampler_poisson_note (const cli_options *options,
                                      char *text, size_t size);

/* "dpacct cumulative-noise --sampling shuffle" (or shuffle-once,
 * balls-and-bins): plans with the proved upper bound and shows the lower
 * end beside it.  OPTIONS have passed cmd_plan_check.  Returns the exit
 * status. */
int cmd_sampler_plan (const cli_options *options);

#endif
