/* fuzz_options.c - fuzz harness for the command-line parser.
 *
 * The input is a command line: its first byte picks which options are
 * allowed, the rest is split at NUL and newline into arguments.  Parsing,
 * resolving the run and describing it must never crash, read out of
 * bounds or leak, whatever the arguments; error messages go to stderr,
 * which the harness silences. */
#include <config.h>

#include "fuzz.h"
#include "describe.h"
#include "options.h"
#include "output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_ARGS = 24 };

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static int silenced;
  if (!silenced)
    silenced = freopen ("/dev/null", "w", stderr) != NULL;
  if (size == 0)
    return 0;
  /* All options, or a subset picked by the first byte's bits. */
  cli_option_mask all = ((cli_option_mask) 1 << OPT_N) - 1, allowed = all;
  if (data[0] & 1)
    for (int id = 0; id < OPT_N; id++)
      if ((data[0] >> (1 + id % 7)) & 1)
        allowed &= ~OPT_BIT (id);
  char *text = malloc (size);
  if (text == NULL)
    return 0;
  memcpy (text, data + 1, size - 1);
  text[size - 1] = '\0';
  char *argv[MAX_ARGS + 2];
  int argc = 0;
  argv[argc++] = (char *) "epsilon";
  for (char *p = text; argc <= MAX_ARGS && p < text + size - 1;)
    {
      argv[argc++] = p;
      size_t len = strcspn (p, "\n");
      p[len] = '\0';
      p += len + 1;
    }
  argv[argc] = NULL;
  cli_defaults defaults = { .delta = 1e-5, .epsilon = 3.0, .dataset_size = 60000,
                           .batch_size = 256, .epochs = 10.0 };
  cli_options options;
  cli_run run;
  int help;
  if (cli_parse (argc, argv, allowed, &defaults, &options, &help) == 0
      && !help && cli_resolve_run (&options, &defaults, &run) == 0)
    {
      cli_assumptions a;
      cli_describe_run (&options, &run, 1, &a);
      out_report report = { "epsilon", a.fields, a.n, NULL, 0 };
      FILE *sink = fopen ("/dev/null", "w");
      if (sink != NULL)
        {
          for (int format = OUT_TABLE; format <= OUT_JSON; format++)
            out_print (sink, (out_format) format, &report);
          fclose (sink);
        }
    }
  free (text);
  return 0;
}
