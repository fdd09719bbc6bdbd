/* fuzz_runs.c - fuzz harness for the run-file parser (--run) and the
 * --phase parser.
 *
 * The first byte picks the parser: even, the rest is a run file; odd,
 * the rest is split at newlines into --phase options.  Either must
 * accept the input or reject it with one message, never crash, read out
 * of bounds or leak; what it accepts must hold only checked values. */
#include <config.h>

#include "fuzz.h"
#include "run_file.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every accepted phase holds values in their documented ranges. */
static void
check_phase (const run_phase *p)
{
  if ((p->set & RUN_BIT (RUN_STEPS)) && (p->steps < 1 || p->steps > DPACCT_MAX_COUNT))
    abort ();
  if ((p->set & RUN_BIT (RUN_NOISE_MULTIPLIER)) && !p->unknown_noise
      && !(p->noise_multiplier > 0 && p->noise_multiplier <= 1e6))
    abort ();
  if ((p->set & RUN_BIT (RUN_SAMPLING_RATE))
      && !(p->sampling_rate > 0 && p->sampling_rate <= 1))
    abort ();
  if ((p->set & RUN_BIT (RUN_EPOCHS)) && !(p->epochs > 0 && p->epochs <= 1e12))
    abort ();
  if (((p->set & RUN_BIT (RUN_STEPS)) && (p->set & RUN_BIT (RUN_EPOCHS)))
      || strlen (p->name) >= RUN_MAX_NAME)
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static int silenced;
  if (!silenced)
    silenced = freopen ("/dev/null", "w", stderr) != NULL;
  if (size == 0)
    return 0;
  run_spec spec;
  run_spec_init (&spec);
  int rc = 0;
  if ((data[0] & 1) == 0)
    rc = run_parse_tsv ((const char *) data + 1, size - 1, "fuzz.tsv", &spec);
  else
    {
      char *text = malloc (size);
      if (text == NULL)
        return 0;
      memcpy (text, data + 1, size - 1);
      text[size - 1] = '\0';
      unsigned long index = 1;
      for (char *p = text; rc == 0 && p < text + size - 1; index++)
        {
          size_t len = strcspn (p, "\n");
          p[len] = '\0';
          rc = run_parse_phase (p, index, &spec);
          p += len + 1;
        }
      free (text);
    }
  if (rc == 0)
    for (size_t i = 0; i < spec.n; i++)
      check_phase (&spec.phases[i]);
  if (spec.n > RUN_MAX_PHASES)
    abort ();
  run_spec_free (&spec);
  return 0;
}
