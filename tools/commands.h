/* commands.h - the dpacct commands.  Each takes the arguments after
 * "dpacct" (ARGV[0] is the command's name) and returns the exit status:
 * 0 ok, 1 bad input or an unreachable request, 2 numerical failure. */
#ifndef DPACCT_TOOL_COMMANDS_H
#define DPACCT_TOOL_COMMANDS_H

#include <stddef.h>
#include <stdio.h>

#include <dpacct.h>
#include <dpacct/train.h>

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

/* Runs given as phases (--run, --phase) or with Laplace noise under rdp
 * or pld (cmd_run.c): the bounds up to the end of each phase and of the
 * whole run; for noise-for-epsilon the noise of the phase given as '?'. */
int cmd_phases_bound (const bound_command *command, cli_options *options);
int cmd_phases_noise (cli_options *options);

int cmd_epsilon (int argc, char **argv);
int cmd_delta (int argc, char **argv);
int cmd_noise_for_epsilon (int argc, char **argv);
int cmd_cumulative_noise (int argc, char **argv);
int cmd_plot (int argc, char **argv);
int cmd_train (int argc, char **argv);
int cmd_audit (int argc, char **argv);
int cmd_validate (int argc, char **argv);

/* Shared by train, audit and validate: the trainer's and the audit's
 * options from the command line (returns 0, or 1 after one error line). */
int cmd_train_check_accountant (const cli_options *options);
void cmd_train_options (const cli_options *options,
                        dpacct_train_options *train);
int cmd_audit_options (const cli_options *options,
                       dpacct_audit_options *audit);

/* Draws plots/NAME.gp on the TSV file DATA into OUTPUT (.png, .svg or
 * .pdf) with gnuplot; 0, or an exit status (1: no gnuplot or script). */
int cmd_gnuplot (const char *name, const char *data, const char *output);

/* What "dpacct cumulative-noise" takes, and its plan, which "dpacct plot"
 * draws. */
#define CMD_PLAN_OPTIONS                                                  \
  (OPT_BIT (OPT_EPSILON) | OPT_BIT (OPT_DELTA) | OPT_BIT (OPT_DATASET_SIZE) \
   | OPT_BIT (OPT_EPOCHS) | OPT_BIT (OPT_BATCH_SIZES) | OPT_BIT (OPT_CLIP) \
   | OPT_BIT (OPT_DIMENSION) | OPT_BIT (OPT_PLATEAU_TOLERANCE)           \
   | OPT_BIT (OPT_MIN_STEPS) | OPT_BIT (OPT_ACCOUNTANT)                   \
   | OPT_BIT (OPT_ORDERS) | OPT_BIT (OPT_CERTIFIED)                       \
   | OPT_BIT (OPT_NEIGHBOURING) | OPT_BIT (OPT_FORMAT)                    \
   | OPT_BIT (OPT_REL_TOL) | OPT_BIT (OPT_PLD_INTERVAL)                   \
   | OPT_BIT (OPT_PLD_ACCURACY) | OPT_BIT (OPT_MAX_POINTS)                \
   | OPT_BIT (OPT_HELP) | OPT_RUNS)
#define CMD_PLAN_LISTS (OPT_BIT (OPT_EPSILON) | OPT_BIT (OPT_EPOCHS))
extern const cli_defaults cmd_plan_defaults;
/* Checks what the plan needs beyond cli_parse_lists and expands
 * --batch-sizes; returns 0 or the exit status after one error line. */
int cmd_plan_check (cli_options *options);
/* Computes the plan and prints it to STREAM in FORMAT; returns the exit
 * status. */
int cmd_plan_print (const cli_options *options, out_format format,
                    FILE *stream);

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
