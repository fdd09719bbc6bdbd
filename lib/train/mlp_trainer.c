/* mlp_trainer.c - a private fine-tuning run of the MLP: the noise
 * calibrated by the library, Poisson-sampled DP-SGD steps (mlp.c), and
 * the test metrics.  The accounting dimension is the trainable parameter
 * count: what lap2 sees, and what the report calls n_parameters. */
#include "mlp_internal.h"
#include "dpacct/calibrate.h"
#include "dpacct/event.h"
#include "dpacct/lap2.h"
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Forwards a step's norms to the run's test observer with the step. */
typedef struct {
  const mlp_run_options *run;
  uint64_t step;
} observer;

static void
observe_step (double norm, unsigned y, void *context)
{
  observer *w = context;
  w->run->observe_norm (w->step, norm, y, w->run->observe_context);
}

static int
check_run (const dpacct_dataset *priv, const dpacct_dataset *test,
           const dpacct_train_options *o, const mlp_run_options *run)
{
  if (!priv || !o || !run)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL pointer");
  if (run->tokens < 1 || priv->dim % run->tokens != 0 || run->hidden < 1)
    return DPACCT_FAIL (DPACCT_EDOM, "the tokens must divide the features "
                                     "and the hidden width be positive");
  if ((test && test->dim != priv->dim)
      || (run->public_data && run->public_data->dim != priv->dim))
    return DPACCT_FAIL (DPACCT_EDOM, "the data sets' dimensions differ");
  if (run->public_data && run->pretrain_epochs > 0
      && (run->pretrain_batch < 1
          || !(run->pretrain_learning_rate > 0)
          || !isfinite (run->pretrain_learning_rate)))
    return DPACCT_FAIL (DPACCT_EDOM, "pretraining needs a batch size of at "
                                     "least 1 and a positive learning rate");
  if (o->batch_size < 1 || o->batch_size > priv->n)
    return DPACCT_FAIL (DPACCT_EDOM, "batch size must be in [1, N]");
  if (o->noise == DPACCT_NOISE_LAPLACE
      && ((o->accountant && o->accountant != dpacct_accountant_lap2)
          || o->noise_multiplier > 0))
    return DPACCT_FAIL (DPACCT_EDOM, "Laplace noise is calibrated by the "
                                     "lap2 accountant from epsilon, delta");
  if (!(o->noise_multiplier > 0)
      && !(o->epsilon > 0 && isfinite (o->epsilon) && o->delta > 0
           && o->delta < 1))
    return DPACCT_FAIL (DPACCT_EDOM, "need epsilon > 0 and delta in (0, 1), "
                                     "or a noise multiplier");
  return DPACCT_OK;
}

/* sigma (Gaussian) or b (Laplace, SIGMA = sqrt(2) b / S) for the run. */
static int
calibrate (const dpacct_train_options *o, double sensitivity,
           uint64_t dimension, double q, uint64_t steps, double *sigma,
           double *b, double *epsilon_upper)
{
  dpacct_accountant_options accounting;
  dpacct_calibration_options calibration;
  dpacct_calibration result;
  dpacct_accountant_options_init (&accounting);
  dpacct_calibration_options_init (&calibration);
  *b = NAN;
  if (o->noise == DPACCT_NOISE_LAPLACE)
    {
      int status = dpacct_lap2_scale_for_epsilon (dpacct_accountant_lap2,
                                                  &accounting, sensitivity,
                                                  dimension, q, steps,
                                                  o->epsilon, o->delta,
                                                  &calibration, &result);
      *b = result.noise;
      *sigma = M_SQRT2 * *b / sensitivity;
      *epsilon_upper = result.epsilon_upper;
      return status;
    }
  if (o->noise_multiplier > 0)
    {
      *sigma = o->noise_multiplier;
      *epsilon_upper = NAN;
      return DPACCT_OK;
    }
  int status = dpacct_noise_for_epsilon (o->accountant ? o->accountant
                                                       : dpacct_accountant_rdp,
                                         &accounting, q, steps,
                                         DPACCT_SAMPLING_POISSON, o->epsilon,
                                         o->delta, &calibration, &result);
  *sigma = result.noise;
  *epsilon_upper = result.epsilon_upper;
  return status;
}

/* Accuracy (per class where REP is not NULL) and mean cross-entropy of
 * NET on DATA. */
static void
evaluate (const mlp *net, mlp_workspace *ws, const dpacct_dataset *data,
          double *accuracy, double *loss, dpacct_train_report *rep)
{
  size_t correct = 0, hits[DPACCT_MAX_CLASSES] = { 0 };
  size_t count[DPACCT_MAX_CLASSES] = { 0 };
  double total = 0;
  for (size_t i = 0; i < data->n; i++)
    {
      const float *x = data->x + i * data->dim;
      unsigned y = data->y[i], hit = mlp_predict (net, ws, x) == y;
      correct += hit;
      hits[y] += hit;
      count[y]++;
      total += mlp_example_loss (net, ws, x, y);
    }
  *accuracy = (double) correct / (double) data->n;
  *loss = total / (double) data->n;
  if (rep)
    for (size_t c = 0; c < DPACCT_MAX_CLASSES; c++)
      {
        rep->class_count[c] = count[c];
        rep->class_accuracy[c] = count[c] ? (double) hits[c]
                                                / (double) count[c]
                                          : NAN;
      }
}

int
mlp_train_run (const dpacct_dataset *priv, const dpacct_dataset *test,
               const dpacct_train_options *o, mlp_run_options *run,
               dpacct_train_report *rep)
{
  if (rep == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL report");
  memset (rep, 0, sizeof *rep);
  int status = check_run (priv, test, o, run);
  if (status)
    return status;
  clock_t start = clock ();
  size_t classes = priv->n_classes;
  if (test && test->n_classes > classes)
    classes = test->n_classes;
  if (run->public_data && run->public_data->n_classes > classes)
    classes = run->public_data->n_classes;
  mlp_shape shape = { 2, run->tokens,
                      { priv->dim / run->tokens, run->hidden, classes } };
  size_t dimension = mlp_trainable_count (&shape, run->trainable);
  if (dimension == 0)
    return DPACCT_FAIL (DPACCT_EDOM, "unknown shape or trainable set");
  double q, sigma, b, eps_upper;
  uint64_t steps;
  double sensitivity = o->clipping == DPACCT_CLIP_FLAT ? o->clip : 1.0;
  status = dpacct_dpsgd_steps (priv->n, o->batch_size, o->epochs, &q, &steps);
  if (!status)
    status = calibrate (o, sensitivity, dimension, q, steps, &sigma, &b,
                        &eps_upper);
  if (status)
    return status;

  mlp *net = NULL;
  mlp_workspace *ws = NULL;
  epoch_stats diagnostics = { 0 };
  double *grad = NULL;
  gsl_rng *sampling = gsl_rng_alloc (gsl_rng_mt19937);
  gsl_rng *noise = gsl_rng_alloc (gsl_rng_mt19937);
  if ((status = mlp_alloc (&shape, &net))
      || (status = mlp_workspace_alloc (net, &ws)))
    goto done;
  grad = malloc (mlp_param_count (net) * sizeof *grad);
  if (!grad || !sampling || !noise)
    {
      status = DPACCT_FAIL (DPACCT_ENOMEM, "out of memory");
      goto done;
    }
  mlp_init (net, run->init_seed);
  if (run->public_data && run->pretrain_epochs > 0
      && (status = mlp_pretrain (net, ws, run->public_data->x,
                                 run->public_data->y, run->public_data->n,
                                 run->pretrain_epochs, run->pretrain_batch,
                                 run->pretrain_learning_rate,
                                 run->init_seed)))
    goto done;
  gsl_rng_set (sampling, o->sampling_seed);
  gsl_rng_set (noise, o->noise_seed);
  if ((status = epoch_stats_init (&diagnostics, rep, o->epochs, steps,
                                  q * (double) priv->n)))
    goto done;
  mlp_dp_step_options step = {
    .trainable = run->trainable, .norm_method = run->norm_method,
    .clipping = o->clipping, .clip = o->clip, .gamma = o->gamma,
    .noise = o->noise, .sigma = o->noise == DPACCT_NOISE_LAPLACE ? 0 : sigma,
    .laplace_scale = o->noise == DPACCT_NOISE_LAPLACE ? b : 0, .q = q,
    .expected_batch = (double) o->batch_size,
    .learning_rate = o->learning_rate, .diagnostics = &diagnostics
  };
  observer watch = { run, 0 };
  if (run->observe_norm)
    {
      step.observe = observe_step;
      step.observe_context = &watch;
    }
  size_t sampled = 0, clipped = 0, batch_min = SIZE_MAX, batch_max = 0;
  double noise_sumsq = 0, weight_sum[DPACCT_MAX_CLASSES] = { 0 };
  size_t seen[DPACCT_MAX_CLASSES] = { 0 };
  for (uint64_t t = 0; t < steps; t++)
    {
      mlp_dp_step_stats stats;
      watch.step = t;
      if ((status = mlp_dp_step (net, ws, priv->x, priv->y, priv->n, &step,
                                 sampling, noise, grad, &stats)))
        goto done;
      sampled += stats.batch;
      clipped += stats.clipped;
      noise_sumsq += stats.noise_sumsq;
      for (size_t c = 0; c < classes; c++)
        {
          seen[c] += stats.class_seen[c];
          weight_sum[c] += stats.class_weight[c];
        }
      if (stats.batch < batch_min)
        batch_min = stats.batch;
      if (stats.batch > batch_max)
        batch_max = stats.batch;
      epoch_stats_end_step (&diagnostics, t);
    }
  run->ghost_layers = 0;
  for (size_t l = 0; l < shape.layers; l++)
    if (mlp_layer_uses_ghost (&shape, l, run->norm_method))
      run->ghost_layers |= 1u << l;

  double inv_batch = 1.0 / (double) o->batch_size;
  rep->steps = steps;
  rep->q = q;
  rep->sigma = sigma;
  rep->noise = o->noise;
  rep->laplace_scale = b;
  rep->epsilon_upper = eps_upper;
  rep->sensitivity = sensitivity;
  rep->batch_mean = (double) sampled / (double) steps;
  rep->batch_min = batch_min;
  rep->batch_max = batch_max;
  rep->clip_fraction = sampled ? (double) clipped / (double) sampled : NAN;
  rep->n_classes = classes;
  for (size_t c = 0; c < DPACCT_MAX_CLASSES; c++)
    {
      rep->class_weight[c] = seen[c] ? weight_sum[c] / (double) seen[c] : NAN;
      rep->class_accuracy[c] = NAN;
    }
  rep->n_parameters = dimension;
  rep->noise_sumsq = noise_sumsq * inv_batch * inv_batch;
  rep->noise_std = sqrt (rep->noise_sumsq
                         / ((double) steps * (double) dimension));
  rep->noise_std_predicted = sigma * sensitivity * inv_batch;
  rep->accumulated_noise = rep->accumulated_predicted = NAN;
  rep->accumulated_sumsq = NAN;
  rep->accuracy = rep->loss = NAN;
  double unused;
  if (test)
    evaluate (net, ws, test, &rep->accuracy, &rep->loss, rep);
  evaluate (net, ws, priv, &unused, &rep->train_loss, NULL);
  rep->seconds = (double) (clock () - start) / CLOCKS_PER_SEC;
done:
  epoch_stats_free (&diagnostics);
  gsl_rng_free (sampling);
  gsl_rng_free (noise);
  free (grad);
  mlp_workspace_free (ws);
  mlp_free (net);
  return status;
}

void
dpacct_mlp_options_init (dpacct_mlp_options *m)
{
  memset (m, 0, sizeof *m);
  m->hidden = 256;
  m->tokens = 1;
  m->trainable = DPACCT_TRAINABLE_ALL;
  m->init_seed = 1;
  m->public_data = NULL;
  m->pretrain_epochs = 5;
  m->pretrain_batch = 64;
  m->pretrain_learning_rate = 0.1;
}

int
dpacct_train_mlp_run (const dpacct_dataset *private_data,
                      const dpacct_dataset *test_data,
                      const dpacct_train_options *options,
                      const dpacct_mlp_options *m,
                      dpacct_train_report *report)
{
  if (m == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL MLP options");
  if (m->trainable > DPACCT_TRAINABLE_HEAD)
    return DPACCT_FAIL (DPACCT_EDOM, "trainable must be all, bias or head");
  mlp_run_options run;
  memset (&run, 0, sizeof run);
  run.hidden = m->hidden;
  run.tokens = m->tokens;
  run.trainable = m->trainable == DPACCT_TRAINABLE_BIAS ? MLP_TRAIN_BIAS
                  : m->trainable == DPACCT_TRAINABLE_HEAD ? MLP_TRAIN_HEAD
                                                          : MLP_TRAIN_ALL;
  run.norm_method = MLP_NORM_MIXED;
  run.init_seed = m->init_seed;
  run.public_data = m->public_data;
  run.pretrain_epochs = m->pretrain_epochs;
  run.pretrain_batch = m->pretrain_batch;
  run.pretrain_learning_rate = m->pretrain_learning_rate;
  return mlp_train_run (private_data, test_data, options, &run, report);
}
