/* cmd_sampler.c - "dpacct epsilon|delta --sampling shuffle|shuffle-once|
 * balls-and-bins", capped Poisson batches (--max-batch-size), the lower
 * end of --sampling without-replacement and the Poisson warning.  Kept
 * apart from cmd_bound.c: the library answers (dpacct/sampler.h), this
 * file checks the run and prints. */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <dpacct.h>

#include "cmd_sampler.h"
#include "describe.h"
#include "options.h"
#include "run.h"
#include "output.h"

int
cmd_sampler_owns (const cli_options *o)
{
  return o->sampler != CLI_SAMPLER_EVENT
         || (o->given & OPT_BIT (OPT_MAX_BATCH_SIZE));
}

static dpacct_sampler
library_sampler (cli_sampler s)
{
  return s == CLI_SAMPLER_SHUFFLE_ONCE     ? DPACCT_SAMPLER_SHUFFLE_ONCE
         : s == CLI_SAMPLER_BALLS_AND_BINS ? DPACCT_SAMPLER_BALLS_AND_BINS
                                           : DPACCT_SAMPLER_SHUFFLE;
}

static double
given_value (const bound_command *c, const cli_options *o)
{
  return c->given == OPT_DELTA ? o->delta : o->epsilon;
}

/* Options that mean nothing to the epoch samplers. */
#define OPT_NOT_FOR_EPOCH_SAMPLERS                                        \
  (OPT_BIT (OPT_SAMPLING_RATE) | OPT_BIT (OPT_STEPS)                      \
   | OPT_BIT (OPT_ACCOUNTANT) | OPT_BIT (OPT_ORDERS)                      \
   | OPT_BIT (OPT_CERTIFIED) | OPT_BIT (OPT_NEIGHBOURING)                 \
   | OPT_BIT (OPT_MAX_BATCH_SIZE) | OPT_BIT (OPT_COMPARE_GAUSSIAN)        \
   | OPT_BIT (OPT_LAPLACE_SCALE) | OPT_BIT (OPT_CLIP)                     \
   | OPT_BIT (OPT_DIMENSION) | OPT_BIT (OPT_MAX_ORDER))

/* The epoch run: K = floor(N/B) batches of B, E whole epochs.  Where B
 * does not divide N the loader drops the last partial batch, and the
 * shuffling bounds account for the N - K B examples left out of each
 * epoch (*dropped, their fraction); balls-and-bins has no partial batch
 * to drop, and needs N a multiple of B. */
static int
epoch_run (const cli_options *o, dpacct_epoch_run *run, double *dropped)
{
  const char *name = cli_sampler_name (o->sampler);
  cli_option_mask bad = o->given & OPT_NOT_FOR_EPOCH_SAMPLERS;
  if (bad & (OPT_BIT (OPT_SAMPLING_RATE) | OPT_BIT (OPT_STEPS)))
    {
      out_error ("--sampling %s: give the run as --dataset-size N "
                 "--batch-size B --epochs E (a sampling rate does not say "
                 "how many batches an epoch has)", name);
      return 1;
    }
  if (bad)
    {
      out_error ("--sampling %s: takes the run, --noise-multiplier, --delta "
                 "or --epsilon, --pld-interval, --max-points and --format "
                 "only (zero-out neighbours; see dpacct(1))", name);
      return 1;
    }
  cli_option_mask need = OPT_BIT (OPT_DATASET_SIZE) | OPT_BIT (OPT_BATCH_SIZE)
                         | OPT_BIT (OPT_EPOCHS);
  if ((o->given & need) != need)
    {
      out_error ("--sampling %s: needs --dataset-size N, --batch-size B and "
                 "--epochs E", name);
      return 1;
    }
  uint64_t n = o->dataset_size, b = o->batch_size;
  if (b > n)
    {
      out_error ("--batch-size %llu: must be an integer in [1, %llu] (the "
                 "--dataset-size): an epoch needs K = N/B >= 1 batches",
                 (unsigned long long) b, (unsigned long long) n);
      return 1;
    }
  if (n % b != 0 && o->sampler == CLI_SAMPLER_BALLS_AND_BINS)
    {
      out_error ("--sampling balls-and-bins: --dataset-size %llu is not a "
                 "multiple of --batch-size %llu; K = N/B bins must be whole",
                 (unsigned long long) n, (unsigned long long) b);
      return 1;
    }
  if (o->epochs != floor (o->epochs) || o->epochs < 1.0
      || o->epochs > (double) DPACCT_SAMPLER_MAX_EPOCHS)
    {
      out_error ("--epochs %g: --sampling %s needs a whole number of epochs "
                 "in [1, %llu]", o->epochs, name,
                 (unsigned long long) DPACCT_SAMPLER_MAX_EPOCHS);
      return 1;
    }
  if (n / b > DPACCT_SAMPLER_MAX_BATCHES)
    {
      out_error ("--sampling %s: K = N/B = %llu batches per epoch; at most "
                 "%llu", name, (unsigned long long) (n / b),
                 (unsigned long long) DPACCT_SAMPLER_MAX_BATCHES);
      return 1;
    }
  run->sigma = o->noise_multiplier;
  run->batches = n / b;
  run->epochs = (uint64_t) o->epochs;
  *dropped = (double) (n % b) / (double) n;
  return 0;
}

/* What a Poisson accountant would report for the same N, B, E: the figure
 * a user was about to publish (NaN, printed as such, where the pld
 * accountant cannot give it). */
static int
poisson_figure (const bound_command *c, const cli_options *o, double *upper)
{
  cli_run run;
  cli_options p = *o;
  p.sampler = CLI_SAMPLER_EVENT;
  p.sampling = DPACCT_SAMPLING_POISSON;
  p.given &= ~OPT_BIT (OPT_MAX_BATCH_SIZE);
  int rc = cli_resolve_run (&p, NULL, &run);
  dpacct_accountant *a;
  if (rc || (rc = cli_account_run (&p, dpacct_accountant_pld, &run,
                                   o->noise_multiplier, &a)))
    return rc;
  dpacct_bound b;
  int status = c->query (a, given_value (c, o), &b);
  dpacct_accountant_free (a);
  *upper = status == DPACCT_OK ? b.upper : NAN;
  return 0;
}

static int
epoch_bound (const bound_command *c, const cli_options *o)
{
  dpacct_epoch_run run;
  dpacct_sampler_options so;
  dpacct_sampler_options_init (&so);
  int rc = epoch_run (o, &run, &so.dropped_fraction);
  if (rc)
    return rc;
  if (o->given & OPT_BIT (OPT_PLD_INTERVAL))
    so.pld_interval = o->pld_interval;
  so.max_points = (size_t) o->max_points;
  dpacct_bound b;
  double given = given_value (c, o);
  dpacct_sampler s = library_sampler (o->sampler);
  int status = c->given == OPT_DELTA
                   ? dpacct_sampler_epsilon (s, &run, given, &so, &b)
                   : dpacct_sampler_delta (s, &run, given, &so, &b);
  if (status != DPACCT_OK)
    return out_library_failure (status, "the sampler's bounds");
  if (isnan (b.upper) || isnan (b.lower))
    {
      out_error ("numerical failure: the %s bounds are NaN",
                 cli_sampler_name (o->sampler));
      return 2;
    }
  double poisson = NAN;
  if ((rc = poisson_figure (c, o, &poisson)))
    return rc;
  uint64_t steps = run.batches * run.epochs;
  out_field a[13];
  size_t na = 0;
  a[na++] = out_text ("sampling", "sampling", cli_sampler_name (o->sampler));
  a[na++] = out_text ("neighbouring", "neighbouring relation", "zero-out");
  a[na++] = out_real ("noise_multiplier", "noise multiplier (std / C)",
                      OUT_REAL, o->noise_multiplier);
  a[na++] = out_count ("dataset_size", "dataset size N", o->dataset_size);
  a[na++] = out_count ("batch_size", "batch size B", o->batch_size);
  a[na++] = out_count ("batches_per_epoch", "batches per epoch K = N/B",
                       run.batches);
  if (o->dataset_size % o->batch_size != 0)
    a[na++] = out_count ("left_out_per_epoch",
                         "left out per epoch N - K B",
                         o->dataset_size % o->batch_size);
  a[na++] = out_count ("epochs", "epochs E", run.epochs);
  a[na++] = out_count ("steps", "steps K E", steps);
  a[na++] = out_real (c->given_name, c->given_name, OUT_REAL, given);
  int exact = o->sampler == CLI_SAMPLER_BALLS_AND_BINS && run.epochs == 1
              && run.batches <= DPACCT_SAMPLER_BALLS_EXACT_MAX_K;
  const char *lower_by = exact
                         ? "(exact one-epoch pair, bracketed)"
                         : "(largest batch sum of the worst pair known, PLD)";
  int balls_pld = o->sampler == CLI_SAMPLER_BALLS_AND_BINS
                  && run.epochs > 1
                  && run.batches <= DPACCT_SAMPLER_BALLS_EXACT_MAX_K;
  const char *upper_by
      = exact       ? "(exact one-epoch pair, bracketed; proved)"
        : balls_pld ? "(one-epoch pair's pessimistic PLD composed, or the "
                      "Gaussian at sigma/sqrt(E) if smaller; proved)"
                    : "(Gaussian at sigma/sqrt(E), proved)";
  out_field f[8];
  size_t nf = 0;
  f[nf++] = out_text ("accountant", NULL, cli_sampler_name (o->sampler));
  f[nf] = out_real (c->lower_column, c->lower_label, OUT_LOWER, b.lower);
  f[nf++].note = lower_by;
  f[nf] = out_real (c->upper_column, c->upper_label, OUT_UPPER, b.upper);
  f[nf++].note = upper_by;
  f[nf] = out_real (c->given == OPT_DELTA ? "poisson_epsilon_upper"
                                          : "poisson_delta_upper",
                    "Poisson figure (pld)", OUT_UPPER, poisson);
  f[nf++].note = "(NOT valid for this sampler)";
  f[nf++] = out_real (c->given_name, NULL, OUT_REAL, given);
  f[nf++] = out_count ("steps", NULL, steps);
  f[nf++] = out_real ("noise_multiplier", NULL, OUT_REAL, o->noise_multiplier);
  out_answer ans = { cli_sampler_name (o->sampler), f, nf, NULL, NULL };
  out_report report = { c->name, a, na, &ans, 1 };
  out_print (stdout, o->format, &report);
  return 0;
}

/* ------------------------------------------------------- capped Poisson */

static int
capped_bound (const bound_command *c, const cli_options *o)
{
  if (o->sampling != DPACCT_SAMPLING_POISSON)
    {
      out_error ("--max-batch-size: caps Poisson batches; not with "
                 "--sampling %s", cli_sampling_name (o->sampling));
      return 1;
    }
  if (!(o->given & OPT_BIT (OPT_DATASET_SIZE)))
    {
      out_error ("--max-batch-size: needs --dataset-size N (the chance that a "
                 "batch exceeds the cap depends on N)");
      return 1;
    }
  if (o->laplace || o->certified)
    {
      out_error ("--max-batch-size: Gaussian noise, plain bounds only");
      return 1;
    }
  cli_run run;
  int rc = cli_resolve_run (o, NULL, &run);
  if (rc)
    return rc;
  /* Under add/remove a neighbour may hold N + 1 examples. */
  uint64_t n = o->dataset_size
               + (o->neighbouring == DPACCT_ADD_REMOVE ? 1 : 0);
  double log_excess;
  int status = dpacct_capped_poisson_log_excess (n, run.q, o->max_batch_size,
                                                 run.steps, &log_excess);
  if (status != DPACCT_OK)
    return out_library_failure (status, "the binomial tail");
  cli_assumptions a;
  cli_describe_run (o, &run, 1, &a);
  cli_add_assumption (&a, out_count ("max_batch_size", "max batch size",
                                     o->max_batch_size),
                      o, OPT_MAX_BATCH_SIZE);
  cli_add_assumption (&a, out_real ("log_cap_excess",
                                    "log(steps Pr[Bin(N,q) > cap])",
                                    OUT_REAL, log_excess),
                      o, OPT_MAX_BATCH_SIZE);
  double given = given_value (c, o);
  cli_add_assumption (&a, out_real (c->given_name, c->given_name, OUT_REAL,
                                    given), o, c->given);
  out_field f[CLI_MAX_ACCOUNTANTS][8];
  out_answer ans[CLI_MAX_ACCOUNTANTS];
  static char notes[CLI_MAX_ACCOUNTANTS][256];
  for (size_t i = 0; i < o->n_accountants; i++)
    {
      dpacct_accountant *acc;
      if ((rc = cli_account_run (o, o->accountants[i], &run,
                                 o->noise_multiplier, &acc)))
        return rc;
      dpacct_bound b, u;
      status = c->given == OPT_DELTA
                   ? dpacct_capped_poisson_epsilon (acc, log_excess, given, &b)
                   : dpacct_capped_poisson_delta (acc, log_excess, given, &b);
      if (status == DPACCT_OK)
        status = c->query (acc, given, &u);
      dpacct_accountant_free (acc);
      if (status != DPACCT_OK)
        return out_library_failure (status, "the capped run's bounds");
      /* The cap's cost in delta at the answer: (1 + e^eps) beta. */
      double eps_at = c->given != OPT_DELTA ? given
                      : isfinite (b.upper) ? b.upper : u.upper;
      double cost = exp (log1p (exp (fmin (eps_at, 700.0))) + log_excess);
      double delta_at = c->given == OPT_DELTA ? given : u.upper;
      notes[i][0] = '\0';
      if (!(cost <= 0.01 * delta_at))
        snprintf (notes[i], sizeof notes[i], "the cap costs %.3g in delta, "
                  "more than 1%% of delta %.3g: raise --max-batch-size",
                  cost, delta_at);
      size_t nf = 0;
      f[i][nf++] = out_text ("accountant", NULL, o->accountants[i]->name);
      f[i][nf++] = out_real (c->lower_column, c->lower_label, OUT_LOWER,
                             b.lower);
      f[i][nf++] = out_real (c->upper_column, c->upper_label, OUT_UPPER,
                             b.upper);
      f[i][nf++] = out_real ("uncapped_upper", "uncapped upper bound",
                             OUT_UPPER, u.upper);
      f[i][nf++] = out_real ("cap_delta_cost", "cap's cost in delta",
                             OUT_UPPER, cost);
      f[i][nf++] = out_count ("steps", NULL, run.steps);
      f[i][nf++] = out_real ("sampling_rate", NULL, OUT_REAL, run.q);
      out_answer one = { o->accountants[i]->name, f[i], nf, NULL,
                         notes[i][0] ? notes[i] : NULL };
      ans[i] = one;
    }
  out_report report = { c->name, a.fields, a.n, ans, o->n_accountants };
  out_print (stdout, o->format, &report);
  return 0;
}

int
cmd_sampler_bound (const bound_command *c, const cli_options *o)
{
  if (o->sampler != CLI_SAMPLER_EVENT)
    return epoch_bound (c, o);
  return capped_bound (c, o);
}

/* --------------------------------------------------- without replacement */

int
cmd_sampler_wor_lower (const bound_command *c, const cli_options *o,
                       const cli_run *run, dpacct_bound *bound)
{
  if (o->sampling != DPACCT_SAMPLING_WITHOUT_REPLACEMENT || o->laplace
      || !isnan (bound->lower))
    return 0;
  dpacct_accountant_options settings;
  cli_accountant_options (o, &settings);
  double lower;
  int status = dpacct_without_replacement_lower (
      o->noise_multiplier, run->q, run->steps, c->given != OPT_DELTA,
      given_value (c, o), &settings, &lower);
  /* The lower end is extra: where the pld accountant cannot give it (its
   * memory cap), the rdp answer stands alone, as before. */
  if (status != DPACCT_OK || isnan (lower))
    return 0;
  /* Both ends are proved, so a lower end above the upper one by more than
   * rounding is a failure to report, not a pair to make plausible. */
  if (lower - bound->upper > 1e-9 * fabs (bound->upper))
    {
      out_error ("numerical failure: the without-replacement lower bound "
                 "%g is above the upper bound %g", lower, bound->upper);
      return 2;
    }
  bound->lower = fmin (lower, bound->upper);
  return 0;
}

/* --------------------------------------------------------- the warning */

const char *
cmd_sampler_poisson_note (const cli_options *o, char *text, size_t size)
{
  cli_option_mask run = OPT_BIT (OPT_BATCH_SIZE) | OPT_BIT (OPT_EPOCHS);
  if (o->format != OUT_TABLE || (o->given & OPT_BIT (OPT_SAMPLING))
      || (o->given & run) != run || o->laplace
      || !(o->given & OPT_BIT (OPT_DATASET_SIZE)))
    return NULL;
  int delta = (o->given & OPT_BIT (OPT_EPSILON)) != 0;
  char given[64] = "";
  if (delta || (o->given & OPT_BIT (OPT_DELTA)))
    snprintf (given, sizeof given, " --%s %g", delta ? "epsilon" : "delta",
              delta ? o->epsilon : o->delta);
  snprintf (text, size, "note: these figures assume Poisson sampling and are "
            "NOT valid for shuffled fixed-size batches; for those run: dpacct "
            "%s --noise-multiplier %g --dataset-size %llu --batch-size %llu "
            "--epochs %g%s --sampling shuffle", o->command,
            o->noise_multiplier, (unsigned long long) o->dataset_size,
            (unsigned long long) o->batch_size, o->epochs, given);
  return text;
}

/* ------------------------------------------------- cumulative-noise */

/* One plan row per epsilon, epochs and batch size: sigma from the proved
 * upper bound (it does not depend on B: each example is in one batch per
 * epoch), and the lower end of epsilon at that sigma for K = floor(N/B)
 * batches (a loader that drops the last partial batch; shuffling's lower
 * end accounts for the examples left out). */
int
cmd_sampler_plan (const cli_options *o)
{
  /* Balls-and-bins has no examples left out: K = N/B bins must be whole
   * (as epsilon and delta require). */
  for (size_t k = 0; o->sampler == CLI_SAMPLER_BALLS_AND_BINS
                     && k < o->n_batch_sizes; k++)
    if (o->dataset_size % o->batch_sizes[k] != 0)
      {
        out_error ("--sampling balls-and-bins: --dataset-size %llu is not a "
                   "multiple of --batch-size %llu; K = N/B bins must be whole",
                   (unsigned long long) o->dataset_size,
                   (unsigned long long) o->batch_sizes[k]);
        return 1;
      }
  size_t rows = o->n_epsilons * o->n_epochs * o->n_batch_sizes;
  out_field (*f)[9] = calloc (rows ? rows : 1, sizeof *f);
  out_answer *ans = calloc (rows ? rows : 1, sizeof *ans);
  if (f == NULL || ans == NULL)
    {
      free (f), free (ans);
      out_error ("out of memory");
      return 2;
    }
  size_t r = 0;
  int rc = 0;
  dpacct_sampler s = library_sampler (o->sampler);
  for (size_t i = 0; rc == 0 && i < o->n_epsilons; i++)
    for (size_t j = 0; rc == 0 && j < o->n_epochs; j++)
      {
        double e = o->epochs_list[j];
        if (e != floor (e) || e < 1.0 || e > (double) DPACCT_SAMPLER_MAX_EPOCHS)
          {
            out_error ("--epochs %g: --sampling %s needs whole epochs in [1, "
                       "%llu]", e, cli_sampler_name (o->sampler),
                       (unsigned long long) DPACCT_SAMPLER_MAX_EPOCHS);
            rc = 1;
            break;
          }
        double sigma;
        int status = dpacct_sampler_noise_for_epsilon (o->epsilons[i],
                                                       o->delta, (uint64_t) e,
                                                       &sigma);
        if (status != DPACCT_OK)
          {
            rc = out_library_failure (status, "the noise for that epsilon");
            break;
          }
        for (size_t k = 0; k < o->n_batch_sizes; k++, r++)
          {
            uint64_t b = o->batch_sizes[k];
            dpacct_epoch_run run = { sigma, o->dataset_size / b, (uint64_t) e };
            dpacct_sampler_options so;
            dpacct_sampler_options_init (&so);
            /* shuffling leaves the last partial batch's examples out; K
             * balls-and-bins bins leave nothing out */
            if (s != DPACCT_SAMPLER_BALLS_AND_BINS)
              so.dropped_fraction = (double) (o->dataset_size % b)
                                    / (double) o->dataset_size;
            dpacct_bound bd;
            status = dpacct_sampler_epsilon (s, &run, o->delta, &so, &bd);
            if (status != DPACCT_OK)
              {
                rc = out_library_failure (status, "the lower end");
                break;
              }
            uint64_t steps = run.batches * run.epochs;
            size_t n = 0;
            f[r][n++] = out_real ("epsilon", "epsilon (target)", OUT_REAL,
                                  o->epsilons[i]);
            f[r][n++] = out_real ("epochs", "epochs", OUT_REAL, e);
            f[r][n++] = out_count ("batch_size", "batch size B", b);
            f[r][n++] = out_count ("batches_per_epoch", "batches per epoch K",
                                   run.batches);
            f[r][n++] = out_count ("steps", "steps T", steps);
            f[r][n++] = out_real ("noise_multiplier",
                                  "noise multiplier (proved)", OUT_UPPER,
                                  sigma);
            f[r][n++] = out_real ("cumulative_noise", "cumulative noise",
                                  OUT_REAL, sigma * sqrt ((double) steps));
            f[r][n++] = out_real ("noise_per_step", "sigma C / B", OUT_REAL,
                                  sigma * o->clip / (double) b);
            f[r][n++] = out_real ("epsilon_lower", "epsilon lower bound there",
                                  OUT_LOWER, bd.lower);
            out_answer one = { NULL, f[r], n, NULL, NULL };
            ans[r] = one;
          }
      }
  if (rc == 0)
    {
      out_field a[4];
      size_t na = 0;
      a[na++] = out_text ("sampling", "sampling", cli_sampler_name (o->sampler));
      a[na++] = out_text ("neighbouring", "neighbouring relation", "zero-out");
      a[na++] = out_count ("dataset_size", "dataset size N", o->dataset_size);
      a[na++] = out_real ("delta", "delta", OUT_REAL, o->delta);
      out_report report = { o->command, a, na, ans, r };
      out_print (stdout, o->format, &report);
    }
  free (f);
  free (ans);
  return rc;
}
