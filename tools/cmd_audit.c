/* cmd_audit.c - "dpacct audit": an empirical lower bound on the trainer's
 * epsilon from paired runs with and without a canary, for the correct
 * trainer or a deliberately broken one (selectable here only). */
#include <config.h>

#include <math.h>
#include <stdio.h>

#include <dpacct.h>

#include "commands.h"
#include "options.h"
#include "output.h"

#define AUDIT_OPTIONS                                                       \
  (OPT_BIT (OPT_VARIANT) | OPT_BIT (OPT_PAIRS) | OPT_BIT (OPT_EPSILON)      \
   | OPT_BIT (OPT_DELTA) | OPT_BIT (OPT_ACCOUNTANT)                         \
   | OPT_BIT (OPT_DATASET_SIZE) | OPT_BIT (OPT_BATCH_SIZE)                  \
   | OPT_BIT (OPT_EPOCHS) | OPT_BIT (OPT_CLIP) | OPT_BIT (OPT_SEED)         \
   | OPT_BIT (OPT_FORMAT) | OPT_BIT (OPT_HELP) | OPT_BIT (OPT_SAMPLER)     \
   | OPT_BIT (OPT_MODEL) | OPT_BIT (OPT_HIDDEN))

static const char summary[] =
  "Audit the trainer: train 2 x --pairs times on a small synthetic set with\n"
  "and without a Dirac canary, threshold the canary's gradient statistic,\n"
  "and turn the error rates' Clopper-Pearson 95% bounds into a lower bound\n"
  "on epsilon.  A correct trainer stays below the accountant's epsilon; the\n"
  "broken --variant half-noise and no-clipping should exceed it.\n"
  "Defaults: --epsilon 2 --delta 1e-5 --accountant pld --pairs 50000\n"
  "--dataset-size 50 --batch-size 50 (full batch) --epochs 4 --clip 1.\n"
  "--sampler shuffle audits shuffled batches under zero-out (N + 1 a\n"
  "multiple of B) and shows the samplers' lower end and the Poisson figure.\n"
  "--model mlp audits the MLP (features + canary -> --hidden, default 8,\n"
  "-> classes, every parameter trained) instead of the softmax head.";

static const cli_defaults defaults = { 1e-5, 2.0, 50, 0, 4.0 };

/* --sampler shuffle: the canary's slot makes N + 1 slots, cut into
 * K = (N + 1) / B batches an epoch; whole epochs. */
static int
shuffled_audit_steps (dpacct_audit_options *a, double epochs)
{
  size_t slots = a->dataset_size + 1;
  if (slots % a->batch_size != 0)
    {
      out_error ("--sampler shuffle: --dataset-size %zu plus the canary's slot "
                 "must be a multiple of --batch-size %zu", a->dataset_size,
                 a->batch_size);
      return 1;
    }
  double steps = epochs * (double) (slots / a->batch_size);
  if (epochs != floor (epochs) || steps > 100000)
    {
      out_error ("--epochs %g: --sampler shuffle needs whole epochs and at "
                 "most 100000 steps", epochs);
      return 1;
    }
  a->steps = (uint64_t) steps;
  return 0;
}

/* The audit options of the command line. */
int
cmd_audit_options (const cli_options *o, dpacct_audit_options *a)
{
  dpacct_audit_options_init (a);
  a->variant = (dpacct_audit_variant) o->variant;
  if (o->given & OPT_BIT (OPT_PAIRS))
    a->pairs = (size_t) o->pairs;
  a->epsilon = o->epsilon;
  a->delta = o->delta;
  /* The tight accountant by default: the audit tests the trainer, not the
   * slack of a looser accountant. */
  a->accountant = (o->given & OPT_BIT (OPT_ACCOUNTANT)) ? o->accountants[0]
                                                         : dpacct_accountant_pld;
  if (o->given & OPT_BIT (OPT_DATASET_SIZE))
    a->dataset_size = (size_t) o->dataset_size;
  a->batch_size = (o->given & OPT_BIT (OPT_BATCH_SIZE)) ? o->batch_size
                                                         : a->dataset_size;
  double epochs = (o->given & OPT_BIT (OPT_EPOCHS)) ? o->epochs : 4.0;
  if (o->n_clips != 1)
    {
      out_error ("--clip: audit takes one clipping bound, in (0, 1e6]");
      return 1;
    }
  a->clip = o->clips[0];
  a->model = o->model ? DPACCT_MODEL_MLP : DPACCT_MODEL_HEAD;
  if (o->given & OPT_BIT (OPT_HIDDEN))
    a->hidden = (size_t) o->hidden;
  if (!o->model && (o->given & OPT_BIT (OPT_HIDDEN)))
    {
      out_error ("--hidden: applies to --model mlp only");
      return 1;
    }
  if (o->model && o->train_shuffle)
    {
      out_error ("--model mlp: draws Poisson batches only; --sampler shuffle "
                 "applies to --model head");
      return 1;
    }
  if (o->given & OPT_BIT (OPT_SEED))
    a->seed = (unsigned long) o->seed;
  if (a->dataset_size < 2 || a->dataset_size > 100000)
    {
      out_error ("--dataset-size %zu: must be an integer in [2, 100000] for "
                 "the audit", a->dataset_size);
      return 1;
    }
  if (a->batch_size > a->dataset_size)
    {
      out_error ("--batch-size %zu: must be an integer in [1, %zu] (the "
                 "--dataset-size)", a->batch_size, a->dataset_size);
      return 1;
    }
  double q;
  uint64_t steps;
  a->shuffle = o->train_shuffle;
  if (a->shuffle)
    return shuffled_audit_steps (a, epochs);
  if (dpacct_dpsgd_steps (a->dataset_size, a->batch_size, epochs, &q, &steps)
      || steps > 100000)
    {
      out_error ("--epochs %g: must give at most 100000 steps", epochs);
      return 1;
    }
  a->steps = steps;
  if (o->n_accountants != 1)
    {
      out_error ("--accountant %s: the audit calibrates with one accountant: "
                 "rdp or pld", o->accountant_name);
      return 1;
    }
  return 0;
}

static void
print_audit (const cli_options *o, const dpacct_audit_options *a,
             const dpacct_audit_result *r)
{
  out_field as[20];
  size_t na = 0;
  as[na++] = out_text ("accountant", "accountant",
                       a->shuffle ? "shuffle (Gaussian at sigma/sqrt(E))"
                                  : a->accountant->name);
  as[na++] = out_real ("delta", "delta", OUT_REAL, a->delta);
  as[na++] = out_count ("pairs", "pairs of runs",
                        a->pairs);
  as[na++] = out_count ("dataset_size", "synthetic examples", a->dataset_size);
  as[na++] = out_count ("batch_size", "expected batch size", a->batch_size);
  as[na++] = out_real ("clip", "clipping bound C", OUT_REAL, a->clip);
  as[na++] = out_text ("model", "model",
                       a->model == DPACCT_MODEL_MLP
                         ? "mlp (every parameter trained)" : "softmax head");
  if (a->model == DPACCT_MODEL_MLP)
    as[na++] = out_count ("hidden", "hidden units", a->hidden);
  as[na++] = out_text ("canary", "canary",
                       "Dirac: 100 on a coordinate no example uses");
  as[na++] = out_text ("statistic", "statistic",
                       "noisy sums projected on the canary's gradient");
  as[na++] = out_real ("confidence", "confidence (two-sided)", OUT_REAL,
                       a->confidence);
  as[na++] = out_count ("seed", "seed", a->seed);
  int violated = r->epsilon_lower > r->epsilon_claimed;
  out_field f[] = {
    out_text ("variant", NULL, cli_variant_name (a->variant)),
    out_real ("epsilon_lower", "audited epsilon (lower)", OUT_LOWER,
              r->epsilon_lower),
    out_real ("epsilon_claimed", "claimed epsilon (upper)",
              OUT_UPPER, r->epsilon_claimed),
    out_text ("verdict", "verdict",
              violated ? "violation: the trainer leaks more than claimed"
                       : "consistent with the claim"),
    out_real ("noise_multiplier", "noise multiplier", OUT_REAL,
              r->sigma),
    out_count ("steps", "steps", r->steps),
    out_real ("sampling_rate", "sampling rate q", OUT_REAL, r->q),
    out_count ("evaluated", "pairs evaluated", r->n_evaluated),
    out_count ("false_positives", "false positives", r->false_positives),
    out_count ("false_negatives", "false negatives", r->false_negatives),
    out_real ("fpr_upper", "FPR upper bound", OUT_UPPER, r->fpr_upper),
    out_real ("fnr_upper", "FNR upper bound", OUT_UPPER, r->fnr_upper),
    out_real ("threshold", "threshold", OUT_REAL, r->threshold),
  };
  /* Shuffled: the samplers' lower end and the Poisson figure beside the
   * audit's measurement (the plain audit's columns stay as they were). */
  out_field g[sizeof f / sizeof f[0] + 2];
  size_t ng = 0;
  for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
    {
      g[ng++] = f[i];
      if (a->shuffle && i == 2)
        {
          g[ng++] = out_real ("epsilon_shuffle_lower",
                              "shuffle lower bound (samplers)", OUT_LOWER,
                              r->epsilon_shuffle_lower);
          g[ng++] = out_real ("epsilon_poisson", "Poisson figure (not valid)",
                              OUT_UPPER, r->epsilon_poisson);
        }
    }
  out_answer answer = { cli_variant_name (a->variant), g, ng, NULL, NULL };
  out_report report = { "audit", as, na, &answer, 1 };
  out_print (stdout, o->format, &report);
}

int
cmd_audit (int argc, char **argv)
{
  cli_options o;
  int help;
  if (cli_parse (argc, argv, AUDIT_OPTIONS, &defaults, &o, &help))
    return 1;
  if (help)
    {
      cli_print_help (stdout, "audit", summary, AUDIT_OPTIONS);
      return 0;
    }
  dpacct_audit_options a;
  if (cmd_audit_options (&o, &a))
    return 1;
  dpacct_audit_result r;
  int status = dpacct_audit_run (&a, &r);
  if (status)
    return out_library_failure (status, "the audit");
  print_audit (&o, &a, &r);
  return 0;
}
