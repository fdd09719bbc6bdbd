/* cmd_epsilon.c - "dpacct epsilon": how private is this run? */
#include <config.h>

#include <math.h>

#include "commands.h"

static const bound_command epsilon_command = {
  .name = "epsilon",
  .summary = "Bound the epsilon of a DP-SGD run at a given delta "
             "(default 1e-5).",
  .options = OPT_COMMON | OPT_BIT (OPT_MAX_BATCH_SIZE)
             | OPT_BIT (OPT_NOISE_MULTIPLIER) | OPT_BIT (OPT_DELTA)
             | OPT_BIT (OPT_LAPLACE_SCALE) | OPT_BIT (OPT_COMPARE_GAUSSIAN)
             | OPT_RUNS,
  .defaults = { 1e-5, NAN, 0, 0, NAN },
  .given = OPT_DELTA,
  .given_name = "delta",
  .lower_column = "epsilon_lower",
  .lower_label = "epsilon lower bound",
  .upper_column = "epsilon_upper",
  .upper_label = "epsilon upper bound",
  .query = dpacct_accountant_epsilon,
};

int
cmd_epsilon (int argc, char **argv)
{
  return cmd_run_bound (&epsilon_command, argc, argv);
}
