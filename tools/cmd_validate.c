/* cmd_validate.c - "dpacct validate": run the grid (validate_grid.c) on
 * the pretrained network, or one shard of it, or merge shards' outputs
 * (validate_merge.c), and print the checks (validate_checks.c). */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dpacct.h>

#include "commands.h"
#include "options.h"
#include "output.h"
#include "train_data.h"
#include "validate.h"

#define VALIDATE_OPTIONS                                                    \
  (OPT_BIT (OPT_QUICK) | OPT_BIT (OPT_SHARD) | OPT_BIT (OPT_SEED)           \
   | OPT_BIT (OPT_CACHE_DIR) | OPT_BIT (OPT_REPORT_DIR) | OPT_BIT (OPT_CLIP) \
   | OPT_BIT (OPT_FORMAT) | OPT_BIT (OPT_HELP))

static const char summary[] =
  "Test the papers' claims on a network: an MLP on K = 256 PCA features of\n"
  "Fashion-MNIST (256 -> 64 -> 10), pretrained without privacy on the\n"
  "public examples of five classes, fine-tuned with DP-SGD on 5,000\n"
  "private examples of all ten (epsilon 0.5 and 8, delta 1e-5), over C,\n"
  "batch sizes, epochs, learning rates and seeds; plus the audit and the\n"
  "cost of ghost clipping.  One row per claim: check, predicted,\n"
  "observed, spread (across seeds), verdict (pass, fail, or inconclusive\n"
  "when the difference is within the spread).  --quick runs the slice\n"
  "make check runs; --clip LIST sets the C sweep; --shard I/N prints the\n"
  "runs of every N-th job; 'dpacct validate --merge FILE...' rebuilds\n"
  "the table from the shards' outputs.";

static const cli_defaults defaults = { 1e-5, NAN, 0, 0, NAN };

/* The public part's examples of five of the ten classes: the warm start
 * learns features of T-shirts to coats and must transfer to the rest. */
static int
select_public (const train_data *d, dpacct_dataset **out)
{
  static const unsigned classes[] = { 0, 1, 2, 3, 4 };
  int status = dpacct_dataset_select_classes (d->public_set, classes, 5, out);
  return status ? out_library_failure (status, "the public classes") : 0;
}

static int
run_grid (const cli_options *o, validate_grid *g, int *absent)
{
  cli_options data_options = *o;
  data_options.data = NULL;
  data_options.public_size = 10000;
  data_options.dataset_size = g->private_size;
  data_options.features = 256;
  data_options.raw_features = 0;
  data_options.pretrain_epochs = g->pretrain_epochs; /* keeps the public set */
  train_data d;
  int rc = train_data_load (&data_options, g->private_size, &d, absent);
  if (rc)
    return rc;
  dpacct_dataset *public_set = NULL;
  if ((rc = select_public (&d, &public_set)) == 0)
    {
      validate_data data = { d.private_set, d.test_set, public_set };
      for (size_t i = 0; i < g->n_runs && !rc; i++)
        {
          if (o->shard_count && i % o->shard_count != o->shard_index - 1)
            continue;
          char text[80];
          snprintf (text, sizeof text, "validate: run %zu of %zu", i + 1,
                    g->n_runs);
          train_progress (text);
          rc = validate_run_job (g, &data, &g->runs[i]);
        }
      train_progress_done ();
    }
  dpacct_dataset_free (public_set);
  train_data_free (&d);
  return rc;
}

static int
report (const cli_options *o, const validate_grid *g)
{
  validate_checks c;
  validate_checks_compute (g, &c);
  validate_checks_print (stdout, o->format, g, &c);
  return o->report_dir ? validate_report_write (o->report_dir, g, &c) : 0;
}

/* Whether ARG is an option of validate that takes its value from the
 * next argument. */
static int
takes_value (const char *arg)
{
  static const char *const with_value[] = { "--format", "--report-dir",
                                            "--cache-dir", "--seed",
                                            "--shard", "--clip" };
  for (size_t k = 0; k < sizeof with_value / sizeof with_value[0]; k++)
    if (strcmp (arg, with_value[k]) == 0)
      return 1;
  return 0;
}

/* --merge FILE...: the files are the arguments after it that are neither
 * options nor their values; the rest go to the option parser. */
static int
split_merge (int argc, char **argv, char **rest, int *n_rest, char **files,
             int *n_files)
{
  int merging = 0;
  *n_rest = *n_files = 0;
  for (int i = 0; i < argc; i++)
    {
      if (i > 0 && strcmp (argv[i], "--merge") == 0)
        merging = 1;
      else if (i > 0 && merging && argv[i][0] != '-')
        files[(*n_files)++] = argv[i];
      else
        {
          rest[(*n_rest)++] = argv[i];
          if (i > 0 && takes_value (argv[i]) && i + 1 < argc)
            rest[(*n_rest)++] = argv[++i];
        }
    }
  return merging;
}

int
cmd_validate (int argc, char **argv)
{
  cli_options o;
  int help, rc, absent = 0, n_rest, n_files;
  char **rest = calloc ((size_t) argc + 1, sizeof *rest);
  char **files = calloc ((size_t) argc + 1, sizeof *files);
  if (rest == NULL || files == NULL)
    {
      free (rest);
      free (files);
      out_error ("out of memory");
      return 2;
    }
  int merging = split_merge (argc, argv, rest, &n_rest, files, &n_files);
  validate_grid g;
  memset (&g, 0, sizeof g);
  if (cli_parse (n_rest, rest, VALIDATE_OPTIONS, &defaults, &o, &help))
    rc = 1;
  else if (help)
    {
      cli_print_help (stdout, "validate", summary, VALIDATE_OPTIONS);
      printf ("      --merge FILE...         rebuild the check table from "
              "the outputs of\n"
              "                             --shard I/N for I = 1..N\n");
      rc = 0;
    }
  else if (merging)
    {
      if (n_files == 0)
        {
          out_error ("--merge: needs the files 'dpacct validate --shard I/N' "
                     "wrote, one or more");
          rc = 1;
        }
      else if (o.given & (OPT_BIT (OPT_QUICK) | OPT_BIT (OPT_SHARD)
                          | OPT_BIT (OPT_SEED) | OPT_BIT (OPT_CLIP)))
        {
          out_error ("--merge: the grid comes from the files; --quick, "
                     "--shard, --seed and --clip do not apply");
          rc = 1;
        }
      else
        rc = validate_merge (files, (size_t) n_files, &g);
      if (!rc)
        rc = report (&o, &g);
    }
  else
    {
      unsigned long seed = (o.given & OPT_BIT (OPT_SEED)) ? o.seed : 1;
      size_t n_clips = (o.given & OPT_BIT (OPT_CLIP)) ? o.n_clips : 0;
      if (n_clips > VALIDATE_MAX_LIST)
        {
          out_error ("--clip: at most %d values for validate",
                     VALIDATE_MAX_LIST);
          rc = 1;
        }
      else if (o.shard_count && o.report_dir)
        {
          out_error ("--report-dir: a shard prints its runs only; give "
                     "--report-dir to 'dpacct validate --merge'");
          rc = 1;
        }
      else if ((rc = validate_grid_make (o.quick, seed, o.clips, n_clips,
                                         &g)) == 0
               && (rc = run_grid (&o, &g, &absent)) == 0)
        {
          if (o.shard_count)
            {
              char text[1100];
              validate_grid_describe (&g, text, sizeof text);
              printf ("# dpacct validate shard %llu/%llu %s\n",
                      (unsigned long long) o.shard_index,
                      (unsigned long long) o.shard_count, text);
              validate_runs_write (stdout, &g);
            }
          else
            rc = report (&o, &g);
        }
      /* Without the data set there is nothing to validate: 77 lets a
       * test harness report a skip. */
      if (rc && absent)
        rc = 77;
    }
  validate_grid_free (&g);
  free (rest);
  free (files);
  return rc;
}
