/* cmd_train.c - "dpacct train": one DP-SGD run of the reference trainer,
 * with the noise calibrated by the library, and what the run measured. */
#include <config.h>

#include <math.h>
#include <stdio.h>
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
   | OPT_BIT (OPT_HELP) | OPT_BIT (OPT_SAMPLER))

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
  "Here --dataset-size is the number of private examples\n"
  "(default: all after --public-size) and --clip takes one value.  The\n"
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

enum { MAX_FIELDS = 24 + 2 * DPACCT_MAX_CLASSES };

static void
print_run (const cli_options *o, const train_data *d,
           const dpacct_train_options *t, const dpacct_mlp_options *m,
           const dpacct_train_report *r)
{
  out_field a[32];
  size_t na = 0;
  a[na++] = out_text ("data", "data", d->name);
  a[na++] = out_count ("public_size", "public examples",
                       d->public_size);
  a[na++] = out_count ("dataset_size", "private examples N",
                       d->private_set->n);
  a[na++] = out_count ("test_size", "test examples", d->test_set->n);
  a[na++] = out_count ("features", "PCA features K", d->features);
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
      a[na++] = out_text ("norms", "per-example norms",
                          "mixed ghost clipping");
    }
  a[na++] = out_text ("noise", "noise", cli_noise_name (t->noise));
  if (o->model && t->noise != DPACCT_NOISE_LAPLACE)
    a[na++] = out_count ("dimension", "dimension n (trainable)",
                         r->n_parameters);
  if (t->noise == DPACCT_NOISE_LAPLACE)
    {
      a[na++] = out_count ("dimension", "dimension n (parameters)",
                           r->n_parameters);
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

  static out_field f[MAX_FIELDS];
  static char names[2][DPACCT_MAX_CLASSES][24];
  static char labels[2][DPACCT_MAX_CLASSES][48];
  size_t n = 0;
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
  out_answer answer = { NULL, f, n, NULL, NULL };
  out_report report = { "train", a, na, &answer, 1 };
  out_print (stdout, o->format, &report);
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
  if (o.n_clips != 1)
    {
      out_error ("--clip: train takes one clipping bound, in (0, 1e6]");
      return 1;
    }
  if (!o.model && (o.given & (OPT_BIT (OPT_TRAINABLE)
                             | OPT_BIT (OPT_HIDDEN))))
    {
      out_error ("--%s: applies to --model mlp only",
                 (o.given & OPT_BIT (OPT_TRAINABLE)) ? "trainable" : "hidden");
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
  train_data d;
  if ((rc = train_data_load (&o, 0, &d, NULL)))
    return rc;
  if (t.batch_size > d.private_set->n)
    {
      out_error ("--batch-size %zu: must be an integer in [1, %zu] (the "
                 "private examples)", t.batch_size, d.private_set->n);
      train_data_free (&d);
      return 1;
    }
  if (train_progress_wanted ())
    {
      t.progress = train_progress_steps;
      t.progress_context = (void *) "training";
    }
  dpacct_train_report r;
  int status = o.model ? dpacct_train_mlp_run (d.private_set, d.test_set,
                                              &t, &m, &r)
                       : dpacct_train_run (d.private_set, d.test_set, &t, &r);
  train_progress_done ();
  if (status)
    rc = out_library_failure (status, "the DP-SGD run");
  else
    print_run (&o, &d, &t, &m, &r);
  train_data_free (&d);
  return rc;
}
