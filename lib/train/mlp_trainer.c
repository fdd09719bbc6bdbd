/* mlp_trainer.c - a private fine-tuning run of the MLP: the noise
 * calibrated by the library, Poisson-sampled DP-SGD steps (mlp.c), and
 * the test metrics.  The accounting dimension is the trainable parameter
 * count: what lap2 sees, and what the report calls n_parameters. */
#include "mlp_internal.h"
#include "train_plan.h"
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
  return train_check_privacy (o);
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
  mlp_prepare_blocks (net, ws);
  for (size_t first = 0; first < data->n; first += MLP_BLOCK)
    {
      unsigned predicted[MLP_BLOCK];
      double losses[MLP_BLOCK];
      size_t block = data->n - first < MLP_BLOCK ? data->n - first
                                                 : MLP_BLOCK;
      /* The labels are below the network's classes (the run takes the
       * most classes of its data sets): this cannot fail. */
      mlp_predict_block (net, ws, data->x, data->y, first, block, predicted,
                         losses);
      for (size_t e = 0; e < block; e++)
        {
          unsigned y = data->y[first + e], hit = predicted[e] == y;
          correct += hit;
          hits[y] += hit;
          count[y]++;
          total += losses[e];
        }
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
  if (run->canary_x && run->canary_y + 1 > classes)
    classes = run->canary_y + 1;
  mlp_shape shape = { 2, run->tokens,
                      { priv->dim / run->tokens, run->hidden, classes } };
  size_t dimension = mlp_trainable_count (&shape, run->trainable);
  if (dimension == 0)
    return DPACCT_FAIL (DPACCT_EDOM, "unknown shape or trainable set");
  train_plan plan;
  if ((status = train_plan_poisson (o, priv->n, dimension, &plan)))
    return status;
  uint64_t steps = plan.steps;

  mlp *net = NULL;
  mlp_workspace *ws = NULL;
  epoch_stats diagnostics = { 0 };
  double *grad = NULL, *canary_grad = NULL, *accumulated = NULL;
  gsl_rng *sampling = gsl_rng_alloc (gsl_rng_mt19937);
  gsl_rng *noise = gsl_rng_alloc (gsl_rng_mt19937);
  if ((status = mlp_alloc (&shape, &net))
      || (status = mlp_workspace_alloc (net, &ws)))
    goto done;
  grad = malloc (mlp_param_count (net) * sizeof *grad);
  accumulated = calloc (mlp_param_count (net), sizeof *accumulated);
  canary_grad = run->canary_x ? malloc (mlp_param_count (net)
                                        * sizeof *canary_grad)
                              : NULL;
  if (!grad || !accumulated || !sampling || !noise
      || (run->canary_x && !canary_grad))
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
                                  plan.q * (double) priv->n)))
    goto done;
  mlp_dp_step_options step = {
    .trainable = run->trainable, .norm_method = run->norm_method,
    .clipping = o->clipping, .clip = o->clip, .gamma = o->gamma,
    .noise = o->noise,
    .sigma = o->noise == DPACCT_NOISE_LAPLACE ? 0 : plan.sigma,
    .laplace_scale = o->noise == DPACCT_NOISE_LAPLACE ? plan.b : 0,
    .q = plan.q,
    .expected_batch = (double) o->batch_size,
    .learning_rate = o->learning_rate, .diagnostics = &diagnostics,
    .accumulated_noise = accumulated
  };
  run->statistic = 0;
  step.fault = run->fault;
  step.canary_x = run->canary_x;
  step.canary_y = run->canary_y;
  step.canary_in = run->canary_in;
  step.canary_statistic = &run->statistic;
  step.canary_grad = canary_grad;
  observer watch = { run, 0 };
  if (run->observe_norm)
    {
      step.observe = observe_step;
      step.observe_context = &watch;
    }
  train_tally tally;
  train_tally_init (&tally);
  for (uint64_t t = 0; t < steps; t++)
    {
      mlp_dp_step_stats stats;
      watch.step = t;
      if ((status = mlp_dp_step (net, ws, priv->x, priv->y, priv->n, &step,
                                 sampling, noise, grad, &stats)))
        goto done;
      train_tally_batch (&tally, stats.batch);
      tally.clipped += stats.clipped;
      tally.noise_sumsq += stats.noise_sumsq;
      for (size_t c = 0; c < classes; c++)
        {
          tally.seen[c] += stats.class_seen[c];
          tally.weight[c] += stats.class_weight[c];
        }
      epoch_stats_end_step (&diagnostics, t);
    }
  run->ghost_layers = 0;
  for (size_t l = 0; l < shape.layers; l++)
    if (mlp_layer_uses_ghost (&shape, l, run->norm_method))
      run->ghost_layers |= 1u << l;

  train_tally_report (&tally, &plan, o, classes, dimension, rep);
  /* Frozen parameters draw no noise and stay 0, so the mean square is
   * over the DIMENSION trainable ones. */
  rep->accumulated_sumsq = 0;
  for (size_t p = 0; p < mlp_param_count (net); p++)
    rep->accumulated_sumsq += accumulated[p] * accumulated[p];
  rep->accumulated_noise = sqrt (rep->accumulated_sumsq / (double) dimension);
  rep->accumulated_predicted = rep->sigma * sqrt ((double) steps);
  rep->accuracy = rep->loss = NAN;
  double unused;
  if (test && !run->skip_evaluation)
    evaluate (net, ws, test, &rep->accuracy, &rep->loss, rep);
  if (!run->skip_evaluation)
    evaluate (net, ws, priv, &unused, &rep->train_loss, NULL);
  else
    rep->train_loss = NAN;
  rep->seconds = (double) (clock () - start) / CLOCKS_PER_SEC;
done:
  epoch_stats_free (&diagnostics);
  gsl_rng_free (sampling);
  gsl_rng_free (noise);
  free (grad);
  free (accumulated);
  free (canary_grad);
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
  int status = mlp_train_run (private_data, test_data, options, &run,
                              report);
  if (!status)
    report->ghost_layers = run.ghost_layers;
  return status;
}
