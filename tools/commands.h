/* commands.h - the dpacct commands.  Each takes the arguments after
 * "dpacct" (ARGV[0] is the command's name) and returns the exit status:
 * 0 ok, 1 bad input or an unreachable request, 2 numerical failure. */
#ifndef DPACCT_TOOL_COMMANDS_H
#define DPACCT_TOOL_COMMANDS_H

#include <stddef.h>

#include <dpacct.h>

#include "options.h"

/* "dpacct epsilon" and "dpacct delta" differ only in what they are given
 * and which side of the privacy curve they ask for. */
typedef struct
{
  const char *name;        /* the command, also its JSON "command" */
  const char *summary;     /* one line for --help */
  cli_option_mask options; /* OPT_BIT of each option it takes */
  cli_defaults defaults;
  cli_option_id given;     /* OPT_DELTA or OPT_EPSILON */
  const char *given_name;  /* "delta" or "epsilon": assumption and column */
  const char *lower_column, *lower_label, *upper_column, *upper_label;
  int (*query) (const dpacct_accountant *, double, dpacct_bound *);
} bound_command;

int cmd_run_bound (const bound_command *command, int argc, char **argv);

int cmd_epsilon (int argc, char **argv);
int cmd_delta (int argc, char **argv);
int cmd_noise_for_epsilon (int argc, char **argv);

/* Sets up TEXT as the warning of a bound whose RDP order sits on the edge
 * of the order grid; NULL otherwise. */
const char *cmd_edge_warning (const dpacct_bound *bound, char *text,
                              size_t size);

/* The warning of BOUND, by accountant TYPE under OPTIONS, if any, in TEXT:
 * an RDP order on the grid's edge, or PLD bounds wider than the accuracy
 * asked for (upper - lower > --pld-accuracy * upper). */
const char *cmd_bound_warning (const cli_options *options,
                               const dpacct_accountant_type *type,
                               const dpacct_bound *bound, char *text,
                               size_t size);

/* The warning that always goes with lap2-paper at sampling rate Q < 1:
 * not a guarantee, and how its WHAT (e.g. "epsilon_upper") PAPER compares
 * with lap2's SOUND for the same run. */
void cmd_paper_warning (double q, const char *what, double paper,
                        double sound, char *text, size_t size);

#endif
