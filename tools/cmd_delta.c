/* cmd_delta.c - "dpacct delta": the delta of a run at a given epsilon. */
#include <config.h>

#include <math.h>

#include "commands.h"

static const bound_command delta_command = {
  .name = "delta",
  .summary = "Bound the delta of a DP-SGD run at a given epsilon "
             "(--epsilon required).",
  .options = OPT_COMMON | OPT_BIT (OPT_MAX_BATCH_SIZE)
             | OPT_BIT (OPT_NOISE_MULTIPLIER)
             | OPT_BIT (OPT_EPSILON) | OPT_BIT (OPT_LAPLACE_SCALE) | OPT_RUNS,
  .defaults = { NAN, NAN, 0, 0, NAN },
  .given = OPT_EPSILON,
  .given_name = "epsilon",
  .lower_column = "delta_lower",
  .lower_label = "delta lower bound",
  .upper_column = "delta_upper",
  .upper_label = "delta upper bound",
  .query = dpacct_accountant_delta,
};

int
cmd_delta (int argc, char **argv)
{
  return cmd_run_bound (&delta_command, argc, argv);
}
