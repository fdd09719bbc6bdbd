/* dpacct.c - the dpacct command: dispatch to a command, --help, --version. */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <gsl/gsl_errno.h>

#include "commands.h"
#include "output.h"

typedef struct {
  const char *name;
  int (*run) (int argc, char **argv);
  const char *summary;
} command;

static const command commands[] = {
  { "epsilon", cmd_epsilon, "bound epsilon of a DP-SGD run at a delta" },
  { "delta", cmd_delta, "bound delta of a DP-SGD run at an epsilon" },
  { "noise-for-epsilon", cmd_noise_for_epsilon,
    "smallest noise multiplier meeting a target epsilon" },
  { "cumulative-noise", cmd_cumulative_noise,
    "cumulative noise per batch size, and the batch size to use" },
  { "plot", cmd_plot, "draw a figure with gnuplot (PNG, SVG or PDF)" },
  { "train", cmd_train, "train the reference DP-SGD model and measure it" },
  { "audit", cmd_audit, "empirical lower bound on the trainer's epsilon" },
  { "validate", cmd_validate, "check each prediction against trainer runs" },
};
enum { N_COMMANDS = sizeof commands / sizeof commands[0] };

static void
print_help (void)
{
  puts ("Usage: dpacct COMMAND [OPTION]...\n"
        "Differential-privacy accounting for DP-SGD.\n\nCommands:");
  for (int i = 0; i < N_COMMANDS; i++)
    printf ("  %-20s %s\n", commands[i].name, commands[i].summary);
  puts ("\nOptions:\n"
        "  --help               print this help and exit\n"
        "  --version            print the version and exit\n\n"
        "'dpacct COMMAND --help' lists the options of a command.\n"
        "Exit status: 0 ok, 1 bad input or unreachable request, "
        "2 numerical failure.\n"
        "See dpacct(1) and libdpacct(3).");
}

static int
dispatch (int argc, char **argv)
{
  const char *name = argv[1];
  if (strcmp (name, "--help") == 0)
    {
      print_help ();
      return 0;
    }
  if (strcmp (name, "--version") == 0)
    {
      printf ("dpacct %s\n", PACKAGE_VERSION);
      return 0;
    }
  for (int i = 0; i < N_COMMANDS; i++)
    if (strcmp (name, commands[i].name) == 0)
      return commands[i].run (argc - 1, argv + 1);
  out_error ("unknown command '%s'; try 'dpacct --help'", name);
  return 1;
}

int
main (int argc, char **argv)
{
  /* GSL's default handler aborts; the library reports statuses instead. */
  gsl_set_error_handler_off ();
  out_install_error_hook ();
  if (argc < 2)
    {
      out_error ("missing command; try 'dpacct --help'");
      return 1;
    }
  int rc = dispatch (argc, argv);
  /* An answer that could not be written is no answer. */
  if (fflush (stdout) != 0 || ferror (stdout))
    {
      out_error ("write error: %s", strerror (errno));
      return rc ? rc : 1;
    }
  return rc;
}
