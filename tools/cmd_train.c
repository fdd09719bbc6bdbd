/* cmd_train.c - "dpacct train": one DP-SGD run of the reference trainer,
 * with the noise calibrated by the library, and what the run measured. */
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

#define TRAIN_OPTIONS                                                       \
  (OPT_BIT (OPT_DATA) | OPT_BIT (OPT_TEST_DATA) | OPT_BIT (OPT_PUBLIC_SIZE) \
   | OPT_BIT (OPT_DATASET_SIZE) | OPT_BIT (OPT_FEATURES)                    \
   | OPT_BIT (OPT_CACHE_DIR) | OPT_BIT (OPT_EPSILON) | OPT_BIT (OPT_DELTA)  \
   | OPT_BIT (OPT_ACCOUNTANT) | OPT_BIT (OPT_BATCH_SIZE)                    \
   | OPT_BIT (OPT_EPOCHS) | OPT_BIT (OPT_CLIP) | OPT_BIT (OPT_CLIPPING)     \
   | OPT_BIT (OPT_LEARNING_RATE) | OPT_BIT (OPT_OPTIMIZER)                  \
   | OPT_BIT (OPT_MOMENTUM) | OPT_BIT (OPT_SAMPLING_SEED)                   \
   | OPT_BIT (OPT_NOISE_SEED) | OPT_BIT (OPT_NOISE) | OPT_BIT (OPT_FORMAT)  \
   | OPT_BIT (OPT_MODEL) | OPT_BIT (OPT_TRAINABLE) | OPT_BIT (OPT_HIDDEN)   \
   | OPT_BIT (OPT_TOKENS) | OPT_BIT (OPT_HELP) | OPT_BIT (OPT_SAMPLER)                            \
   | OPT_BIT (OPT_PRETRAIN_EPOCHS) | OPT_BIT (OPT_PUBLIC_CLASSES))

static const char summary[] =
  "Train a softmax head on frozen PCA features with DP-SGD: Poisson\n"
  "sampling, per-example clipping, Gaussian noise calibrated by the\n"
  "library for (--epsilon, --delta) (with --noise laplace, Laplace noise\n"
  "whose scale the lap2 accountant calibrates), the noisy sum divided by\n"
  "the expected batch size.  Reports steps, batch sizes, clipping,\n"
  "accuracy and the noise actually injected.  Defaults: --data\n"
  "fashion-mnist --epsilon 1 --delta 1e-5 --batch-size 256 --epochs 4\n"
  "--clip 1.  With --model mlp, an MLP on the features trains instead\n"
  "(plain SGD; --trainable all, bias or head), and the dimension printed\n"
  "is its trainable parameter count.\n"
  "With --pretrain-epochs the MLP first trains without privacy on the\n"
  "public part (only the labels in --public-classes: a transfer).\n"
  "--clip takes a list: one run, one row, per C.  Every row also has\n"
  "per-epoch NON-PRIVATE diagnostics (diag_*): quantiles of the gradient\n"
  "norms before clipping, the fraction clipped and w_y(C) per class.\n"
  "Here --dataset-size is the number of private examples\n"
  "(default: all after --public-size).  The\n"
  "random numbers come from GSL's Mersenne Twister: an experiment, not\n"
  "production DP.  --sampler shuffle trains on shuffled fixed-size batches\n"
  "(a new permutation every epoch) with sigma from their proved upper bound.";

static const cli_defaults defaults = { 1e-5, 1.0, 0, 256, 4.0 };

int
cmd_train_check_accountant (const cli_options *o)
{
  if (o->n_accountants != 1)
    {
      out_error ("--accountant %s: the trainer calibrates with one "
                 "accountant: rdp or pld (lap2 with --noise laplace)",
                 o->accountant_name);
      return 1;
    }
  return 0;
}

/* Gaussian noise is accounted by rdp or pld, Laplace noise by lap2 only
 * (lap2-paper is not a privacy bound under subsampling). */
static int
check_noise_accountant (const cli_options *o)
{
  int lap2 = cli_is_lap2 (o->accountants[0]);
  if (o->noise == DPACCT_NOISE_LAPLACE
      && (o->given & OPT_BIT (OPT_ACCOUNTANT))
      && o->accountants[0] != dpacct_accountant_lap2)
    {
      out_error ("--accountant %s: Laplace noise (--noise laplace) is "
                 "calibrated by the lap2 accountant", o->accountant_name);
      return 1;
    }
  if (o->noise == DPACCT_NOISE_GAUSSIAN && lap2)
    {
      out_error ("--accountant %s: accounts Laplace noise; add --noise "
                 "laplace, or use rdp or pld for Gaussian noise",
                 o->accountant_name);
      return 1;
    }
  return 0;
}

/* The trainer's options from the command line. */
void
cmd_train_options (const cli_options *o, dpacct_train_options *t)
{
  dpacct_train_options_init (t);
  t->epsilon = o->epsilon;
  t->delta = o->delta;
  t->accountant = o->accountants[0];
  t->noise = (dpacct_noise_kind) o->noise;
  if (t->noise == DPACCT_NOISE_LAPLACE)
    t->accountant = dpacct_accountant_lap2;
  t->batch_size = (o->given & OPT_BIT (OPT_BATCH_SIZE)) ? o->batch_size
                                                         : defaults.batch_size;
  t->epochs = (o->given & OPT_BIT (OPT_EPOCHS)) ? o->epochs : defaults.epochs;
  t->shuffle = o->train_shuffle;
  t->clip = o->clips[0];
  t->clipping = (dpacct_clipping) o->clipping;
  t->optimizer = (dpacct_optimizer) o->optimizer;
  if (t->optimizer == DPACCT_OPTIMIZER_ADAM)
    t->learning_rate = 0.01;
  if (o->given & OPT_BIT (OPT_LEARNING_RATE))
    t->learning_rate = o->learning_rate;
  if (o->given & OPT_BIT (OPT_MOMENTUM))
    t->momentum = o->momentum;
  if (o->given & OPT_BIT (OPT_SAMPLING_SEED))
    t->sampling_seed = (unsigned long) o->sampling_seed;
  if (o->given & OPT_BIT (OPT_NOISE_SEED))
    t->noise_seed = (unsigned long) o->noise_seed;
}

enum { MAX_FIELDS = 26 + 2 * DPACCT_MAX_CLASSES };

/* Names and labels of the per-epoch diagnostic fields. */
typedef struct {
  char name[32], label[64];
} field_text;

/* The per-epoch non-private diagnostics of R: quantiles, clip fraction
 * and w_y(C) per class, after the fields in F; TEXT has room for them. */
static size_t
epoch_fields (const dpacct_train_report *r, out_field *f, field_text *text)
{
  static const char *const levels[] = { "10", "25", "50", "75", "90" };
  size_t n = 0;
  for (size_t e = 0; e < r->n_epoch_records; e++)
    {
      const dpacct_epoch_record *rec = &r->epoch[e];
      unsigned id = (unsigned) e + 1; /* <= 32 */
      for (size_t k = 0; k < DPACCT_NORM_QUANTILES; k++, n++)
        {
          snprintf (text[n].name, sizeof text[n].name, "diag_e%u_norm_q%s",
                    id, levels[k]);
          snprintf (text[n].label, sizeof text[n].label,
                    "diag. epoch %u: norm %s%%", id, levels[k]);
          f[n] = out_real (text[n].name, text[n].label, OUT_REAL,
                           rec->norm_quantile[k]);
        }
      snprintf (text[n].name, sizeof text[n].name, "diag_e%u_clip_fraction",
                id);
      snprintf (text[n].label, sizeof text[n].label,
                "diag. epoch %u: clipped", id);
      f[n] = out_real (text[n].name, text[n].label, OUT_REAL,
                       rec->clip_fraction);
      n++;
      for (size_t c = 0; c < r->n_classes; c++, n++)
        {
          snprintf (text[n].name, sizeof text[n].name, "diag_e%u_weight_%u",
                    id, (unsigned) c);
          snprintf (text[n].label, sizeof text[n].label,
                    "diag. epoch %u: w_%u(C)", id, (unsigned) c);
          f[n] = out_real (text[n].name, text[n].label, OUT_REAL,
                           rec->class_weight[c]);
        }
    }
  return n;
}

static size_t
epoch_field_count (const dpacct_train_report *r)
{
  return r->n_epoch_records * (DPACCT_NORM_QUANTILES + 1 + r->n_classes);
}

/* The answer row of run R (clip C) into F, its texts into NAMES, LABELS
 * and DIAG; returns the number of fields. */
static size_t
answer_fields (const cli_options *o, const dpacct_train_options *t,
               const dpacct_train_report *r, double clip, out_field *f,
               char (*names)[DPACCT_MAX_CLASSES][24],
               char (*labels)[DPACCT_MAX_CLASSES][48], field_text *diag)
{
  size_t n = 0;
  if (o->n_clips > 1)
    f[n++] = out_real ("clip", "clipping bound C", OUT_REAL, clip);
  f[n++] = out_count ("steps", t->shuffle ? "steps T = floor(N / B) E"
                                          : "steps T = ceil(E N / B)",
                      r->steps);
  f[n++] = out_real ("sampling_rate", "sampling rate q = B / N", OUT_REAL,
                     r->q);
  int laplace = r->noise == DPACCT_NOISE_LAPLACE;
  if (laplace)
    {
      f[n++] = out_real ("laplace_scale", "Laplace scale b", OUT_UPPER,
                         r->laplace_scale);
      f[n++] = out_real ("noise_multiplier", "noise std / S = sqrt(2) b/S",
                         OUT_UPPER, r->sigma);
    }
  else
    f[n++] = out_real ("noise_multiplier", "noise multiplier sigma",
                       OUT_UPPER, r->sigma);
  f[n++] = out_real ("epsilon_upper", "epsilon upper bound", OUT_UPPER,
                     r->epsilon_upper);
  f[n++] = out_real ("batch_mean", "batch size: mean", OUT_REAL,
                     r->batch_mean);
  f[n++] = out_count ("batch_min", "batch size: min", r->batch_min);
  f[n++] = out_count ("batch_max", "batch size: max", r->batch_max);
  f[n++] = out_real ("clip_fraction", "fraction clipped",
                     OUT_REAL, r->clip_fraction);
  f[n++] = out_real ("accuracy", "test accuracy", OUT_REAL, r->accuracy);
  f[n++] = out_real ("loss", "test loss", OUT_REAL, r->loss);
  f[n++] = out_real ("train_loss", "private-set loss", OUT_REAL,
                     r->train_loss);
  f[n++] = out_real ("noise_std", "noise std, averaged grad.",
                     OUT_REAL, r->noise_std);
  f[n++] = out_real ("noise_std_predicted",
                     laplace ? "  predicted sqrt(2)*b/B"
                             : "  predicted sigma*S/B",
                     OUT_REAL, r->noise_std_predicted);
  if (!o->model) /* the MLP does not record the accumulated noise */
    {
      f[n++] = out_real ("accumulated_noise", "accumulated noise / S",
                         OUT_REAL, r->accumulated_noise);
      f[n++] = out_real ("accumulated_predicted",
                         "  predicted sigma*sqrt(T)", OUT_REAL,
                         r->accumulated_predicted);
    }
  f[n++] = out_count ("parameters", "parameters", r->n_parameters);
  f[n++] = out_real ("seconds", "CPU seconds", OUT_REAL, r->seconds);
  for (size_t c = 0; c < r->n_classes; c++)
    {
      unsigned y = (unsigned) c; /* < 256: the names always fit */
      snprintf (names[0][c], sizeof names[0][c], "accuracy_%u", y);
      snprintf (labels[0][c], sizeof labels[0][c], "class %u accuracy", y);
      snprintf (names[1][c], sizeof names[1][c], "weight_%u", y);
      snprintf (labels[1][c], sizeof labels[1][c], "class %u weight w_y(C)",
                y);
      f[n++] = out_real (names[0][c], labels[0][c], OUT_REAL,
                         r->class_accuracy[c]);
      f[n++] = out_real (names[1][c], labels[1][c], OUT_REAL,
                         r->class_weight[c]);
    }
  f[n++] = out_text ("diagnostics", "per-epoch diagnostics",
                     "NON-PRIVATE (diag_*: norms before clipping)");
  n += epoch_fields (r, f + n, diag);
  return n;
}

static int
print_runs (const cli_options *o, const train_data *d,
            const dpacct_train_options *t, const dpacct_mlp_options *m,
            const dpacct_train_report *reports, size_t n_runs)
{
  const dpacct_train_report *r = &reports[0]; /* what all runs share */
  out_field a[40];
  size_t na = 0;
  /* Mixed ghost clipping's choice per layer, which the cost decides from
   * the widths and tokens alone, so every run makes the same one. */
  char norms[96] = "mixed ghost clipping:";
  for (size_t l = 0; l < 2; l++)
    {
      size_t used = strlen (norms);
      snprintf (norms + used, sizeof norms - used, "%s layer %zu %s",
                l ? "," : "", l,
                (r->ghost_layers >> l) & 1u ? "ghost" : "materialised");
    }
  if (o->model && m->tokens > 1)
    a[na++] = out_count ("tokens", "tokens per example (shared layer 0)",
                         m->tokens);
  a[na++] = out_text ("data", "data", d->name);
  a[na++] = out_count ("public_size", "public examples",
                       d->public_size);
  a[na++] = out_count ("dataset_size", "private examples N",
                       d->private_set->n);
  a[na++] = out_count ("test_size", "test examples", d->test_set->n);
  a[na++] = out_count ("features", d->raw ? "raw inputs (no PCA)"
                                          : "PCA features K", d->features);
  a[na++] = out_text ("features_cached", "features cached",
                      d->from_cache ? "yes" : "no");
  a[na++] = out_text ("accountant", "accountant",
                      t->shuffle ? "shuffle (Gaussian at sigma/sqrt(E))"
                                 : t->accountant->name);
  a[na++] = out_text ("model", "model",
                      o->model ? "mlp (features -> hidden -> classes)"
                               : "softmax head");
  if (o->model)
    {
      a[na++] = out_count ("hidden", "hidden units", m->hidden);
      a[na++] = out_text ("trainable", "trainable",
                          cli_trainable_name (m->trainable));
      a[na++] = out_text ("norms", "per-example norms", norms);
      a[na++] = out_count ("pretrain_epochs", "public warm start: epochs",
                           m->public_data ? m->pretrain_epochs : 0);
      if (m->public_data)
        {
          a[na++] = out_count ("pretrain_examples",
                               "public warm start: examples",
                               m->public_data->n);
          a[na++] = out_text ("public_classes", "public warm start: labels",
                              o->n_public_classes ? o->public_classes_text
                                                  : "all");
        }
    }
  a[na++] = out_text ("noise", "noise", cli_noise_name (t->noise));
  if (o->model && t->noise != DPACCT_NOISE_LAPLACE)
    a[na++] = out_count ("dimension", "dimension n (trainable)",
                         r->n_parameters);
  if (t->noise == DPACCT_NOISE_LAPLACE)
    {
      a[na++] = out_count ("dimension", "dimension n (parameters)",
                           r->n_parameters);
      if (n_runs == 1) /* b scales with C: each row has its own */
        a[na++] = out_real ("laplace_scale", "Laplace scale b (calibrated)",
                            OUT_UPPER, r->laplace_scale);
    }
  a[na++] = out_real ("epsilon", "target epsilon", OUT_REAL, t->epsilon);
  a[na++] = out_real ("delta", "delta", OUT_REAL, t->delta);
  a[na++] = out_text ("sampling", "sampling",
                      t->shuffle ? "shuffle" : "poisson");
  a[na++] = out_text ("neighbouring", "neighbouring relation",
                      t->shuffle ? "zero-out" : "add-remove");
  a[na++] = out_count ("batch_size", "expected batch size B", t->batch_size);
  a[na++] = out_real ("epochs", "epochs", OUT_REAL, t->epochs);
  a[na++] = out_text ("clipping", "clipping", cli_clipping_name (t->clipping));
  if (o->n_clips == 1)
    a[na++] = out_real ("clip", "clipping bound C", OUT_REAL, t->clip);
  a[na++] = out_text ("average", "noisy sum divided by",
                      "expected batch size B");
  a[na++] = out_text ("optimizer", "optimizer",
                      cli_optimizer_name (t->optimizer));
  a[na++] = out_real ("learning_rate", "learning rate", OUT_REAL,
                      t->learning_rate);
  if (t->optimizer == DPACCT_OPTIMIZER_SGD && !o->model)
    a[na++] = out_real ("momentum", "momentum", OUT_REAL, t->momentum);
  a[na++] = out_count ("sampling_seed", "sampling seed", t->sampling_seed);
  a[na++] = out_count ("noise_seed", "noise seed", t->noise_seed);
  a[na++] = out_text ("rng", "random numbers",
                      "GSL mt19937 (not for production DP)");

  char clips[CLI_MAX_LIST * 26] = "";
  for (size_t k = 0, used = 0; k < o->n_clips && used < sizeof clips; k++)
    {
      char one[32];
      out_shortest (o->clips[k], one, sizeof one);
      used += (size_t) snprintf (clips + used, sizeof clips - used, "%s%s",
                                 k ? "," : "", one);
    }
  if (o->n_clips > 1)
    a[na++] = out_text ("clips", "clipping bounds C (rows)", clips);
  size_t per_run = MAX_FIELDS + epoch_field_count (&reports[0]);
  out_answer *answers = calloc (n_runs, sizeof *answers);
  out_field *f = calloc (n_runs * per_run, sizeof *f);
  char (*names)[DPACCT_MAX_CLASSES][24] = calloc (2 * n_runs, sizeof *names);
  char (*labels)[DPACCT_MAX_CLASSES][48] = calloc (2 * n_runs,
                                                   sizeof *labels);
  field_text *diag = calloc (n_runs * epoch_field_count (&reports[0]) + 1,
                             sizeof *diag);
  char (*titles)[48] = calloc (n_runs, sizeof *titles);
  int rc = 0;
  if (!answers || !f || !names || !labels || !diag || !titles)
    rc = out_library_failure (DPACCT_ENOMEM, "the report");
  for (size_t k = 0; !rc && k < n_runs; k++)
    {
      char one[32];
      out_shortest (o->clips[k], one, sizeof one);
      snprintf (titles[k], sizeof titles[k], "C = %s", one);
      answers[k].title = n_runs > 1 ? titles[k] : NULL;
      answers[k].fields = f + k * per_run;
      answers[k].n_fields
        = answer_fields (o, t, &reports[k], o->clips[k], f + k * per_run,
                         names + 2 * k, labels + 2 * k,
                         diag + k * epoch_field_count (&reports[0]));
    }
  if (!rc)
    {
      out_report report = { "train", a, na, answers, n_runs };
      out_print (stdout, o->format, &report);
    }
  free (answers);
  free (f);
  free (names);
  free (labels);
  free (diag);
  free (titles);
  return rc;
}

/* The warm start's data: the public part, only the --public-classes
 * (each below the data's classes), when --pretrain-epochs is given. */
static int
warm_start (const cli_options *o, const train_data *d, dpacct_mlp_options *m,
            dpacct_dataset **warm)
{
  m->public_data = NULL;
  m->pretrain_epochs = (size_t) o->pretrain_epochs;
  if (o->pretrain_epochs == 0)
    return 0;
  if (o->n_public_classes == 0)
    {
      m->public_data = d->public_set;
      return 0;
    }
  size_t classes = d->private_set->n_classes;
  for (size_t k = 0; k < o->n_public_classes; k++)
    if (o->public_classes[k] >= classes)
      {
        out_error ("--public-classes %s: labels must be in [0, %zu] (the "
                   "data's classes)", o->public_classes_text, classes - 1);
        return 1;
      }
  int status = dpacct_dataset_select_classes (d->public_set,
                                              o->public_classes,
                                              o->n_public_classes, warm);
  if (status == DPACCT_EDOM)
    {
      out_error ("--public-classes %s: no public example has these labels",
                 o->public_classes_text);
      return 1;
    }
  if (status)
    return out_library_failure (status, "the warm start's examples");
  m->public_data = *warm;
  return 0;
}

int
cmd_train (int argc, char **argv)
{
  cli_options o;
  int help, rc;
  if (cli_parse (argc, argv, TRAIN_OPTIONS, &defaults, &o, &help))
    return 1;
  if (help)
    {
      cli_print_help (stdout, "train", summary, TRAIN_OPTIONS);
      return 0;
    }
  if (cmd_train_check_accountant (&o) || check_noise_accountant (&o))
    return 1;
  static const cli_option_id mlp_only[] = { OPT_TRAINABLE, OPT_HIDDEN,
                                             OPT_TOKENS, OPT_PRETRAIN_EPOCHS,
                                             OPT_PUBLIC_CLASSES };
  static const char *const mlp_only_names[] = { "trainable", "hidden",
                                                "tokens", "pretrain-epochs",
                                                "public-classes" };
  for (size_t k = 0; !o.model && k < 5; k++)
    if (o.given & OPT_BIT (mlp_only[k]))
      {
        out_error ("--%s: applies to --model mlp only", mlp_only_names[k]);
        return 1;
      }
  if ((o.given & OPT_BIT (OPT_PUBLIC_CLASSES)) && o.pretrain_epochs == 0)
    {
      out_error ("--public-classes %s: selects the warm start's labels; "
                 "give --pretrain-epochs in [1, 1000] too",
                 o.public_classes_text);
      return 1;
    }
  if (o.model && ((o.given & OPT_BIT (OPT_MOMENTUM))
                  || o.optimizer == DPACCT_OPTIMIZER_ADAM))
    {
      out_error ("--model mlp: trains with plain SGD; --optimizer adam and "
                 "--momentum apply to --model head");
      return 1;
    }
  if (o.model && o.train_shuffle)
    {
      out_error ("--model mlp: draws Poisson batches only; --sampler shuffle "
                 "applies to --model head");
      return 1;
    }
  dpacct_train_options t;
  cmd_train_options (&o, &t);
  dpacct_mlp_options m;
  dpacct_mlp_options_init (&m);
  m.trainable = (dpacct_trainable) o.trainable;
  if (o.given & OPT_BIT (OPT_HIDDEN))
    m.hidden = (size_t) o.hidden;
  if (o.given & OPT_BIT (OPT_TOKENS))
    m.tokens = (size_t) o.tokens;
  train_data d;
  if ((rc = train_data_load (&o, 0, &d, NULL)))
    return rc;
  dpacct_dataset *warm = NULL;
  dpacct_train_report *reports = NULL;
  if (d.private_set->dim % m.tokens != 0)
    {
      /* The tokens share the first layer, so each is dim / T features. */
      out_error ("--tokens %zu: must divide the %zu input features (on "
                 "Fashion-MNIST's raw pixels, 28: the image's rows)",
                 m.tokens, d.private_set->dim);
      rc = 1;
    }
  else if (t.batch_size > d.private_set->n)
    {
      out_error ("--batch-size %zu: must be an integer in [1, %zu] (the "
                 "private examples)", t.batch_size, d.private_set->n);
      rc = 1;
    }
  else
    rc = warm_start (&o, &d, &m, &warm);
  if (!rc && !(reports = malloc (o.n_clips * sizeof *reports)))
    rc = out_library_failure (DPACCT_ENOMEM, "the reports");
  if (!rc && train_progress_wanted ())
    {
      t.progress = train_progress_steps;
      t.progress_context = (void *) "training";
    }
  /* One run per C, each from the same seeds. */
  for (size_t k = 0; !rc && k < o.n_clips; k++)
    {
      t.clip = o.clips[k];
      int status = o.model ? dpacct_train_mlp_run (d.private_set, d.test_set,
                                                  &t, &m, &reports[k])
                           : dpacct_train_run (d.private_set, d.test_set, &t,
                                               &reports[k]);
      if (status)
        rc = out_library_failure (status, "the DP-SGD run");
    }
  train_progress_done ();
  if (!rc)
    {
      t.clip = o.clips[0];
      rc = print_runs (&o, &d, &t, &m, reports, o.n_clips);
    }
  free (reports);
  dpacct_dataset_free (warm);
  train_data_free (&d);
  return rc;
}
