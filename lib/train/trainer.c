/* trainer.c - DP-SGD on a softmax head over frozen features.
 *
 * The head is multinomial logistic regression on [x; 1].  The gradient of
 * one example's cross-entropy is r (x) [x; 1] with r = softmax - onehot,
 * so its norm is exactly ||r|| * ||[x; 1]||: clipping needs no
 * per-example gradient in memory.  Each step Poisson-samples the private
 * set at q = B / N, clips, adds Gaussian (or Laplace) noise calibrated by
 * the library to the sum, divides by the expected batch size B
 * (data-independent, so the released average is a post-processing of the
 * noisy sum), and takes an SGD-with-momentum or Adam step.  The noise
 * actually added is measured as it is drawn, for the validation of the
 * noise predictions. */
#include "train_internal.h"
#include "epoch_stats.h"
#include "train_plan.h"
#include "dpacct/calibrate.h"
#include "dpacct/event.h"
#include "dpacct/lap2.h"
#include "dpacct/sampler.h"
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

void
dpacct_train_options_init (dpacct_train_options *o)
{
  memset (o, 0, sizeof *o);
  o->epsilon = 1.0;
  o->delta = 1e-5;
  o->accountant = NULL;
  o->noise_multiplier = 0.0;
  o->noise = DPACCT_NOISE_GAUSSIAN;
  o->batch_size = 256;
  o->epochs = 4.0;
  o->clip = 1.0;
  o->clipping = DPACCT_CLIP_FLAT;
  o->gamma = 0.01;
  o->optimizer = DPACCT_OPTIMIZER_SGD;
  o->learning_rate = 0.5;
  o->momentum = 0.9;
  o->beta1 = 0.9;
  o->beta2 = 0.999;
  o->adam_epsilon = 1e-8;
  o->sampling_seed = 1;
  o->noise_seed = 2;
}

static int
check_options (const dpacct_dataset *priv, const dpacct_dataset *test,
               const dpacct_train_options *o)
{
  if (priv == NULL || o == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL pointer");
  if (test != NULL
      && (test->dim != priv->dim || test->n_classes > DPACCT_MAX_CLASSES))
    return DPACCT_FAIL (DPACCT_EDOM, "the test set's dimension differs");
  if (priv->n_classes < 2)
    return DPACCT_FAIL (DPACCT_EDOM, "need at least 2 classes");
  if (o->batch_size < 1 || o->batch_size > priv->n)
    return DPACCT_FAIL (DPACCT_EDOM, "batch size must be in [1, N]");
  if (!(o->clip > 0) || !isfinite (o->clip) || !(o->gamma > 0)
      || !(o->learning_rate > 0) || !isfinite (o->learning_rate)
      || !(o->momentum >= 0 && o->momentum < 1)
      || !(o->beta1 >= 0 && o->beta1 < 1) || !(o->beta2 >= 0 && o->beta2 < 1)
      || !(o->adam_epsilon > 0))
    return DPACCT_FAIL (DPACCT_EDOM, "clip, gamma and learning rate must be "
                                     "positive, momentum and betas in [0, 1)");
  return train_check_privacy (o);
}

/* Shuffled batches: K = floor(N/B) steps per epoch, and sigma from the
 * proved upper bound (the Gaussian at sigma / sqrt(E)), unless given. */
static int
shuffle_noise (const dpacct_train_options *o, size_t n, train_plan *p)
{
  double *q = &p->q, *sigma = &p->sigma, *epsilon_upper = &p->epsilon_upper;
  uint64_t *steps = &p->steps;
  p->b = NAN;
  p->sensitivity = train_sensitivity (o);
  if (o->epochs != floor (o->epochs) || !(o->epochs >= 1.0)
      || o->epochs > (double) DPACCT_SAMPLER_MAX_EPOCHS)
    return DPACCT_FAIL (DPACCT_EDOM, "shuffled batches need whole epochs");
  if (o->noise != DPACCT_NOISE_GAUSSIAN)
    return DPACCT_FAIL (DPACCT_EUNSUP, "shuffled batches take Gaussian noise");
  uint64_t epochs = (uint64_t) o->epochs;
  *q = (double) o->batch_size / (double) n;
  *steps = (uint64_t) (n / o->batch_size) * epochs;
  if (o->noise_multiplier > 0)
    {
      *sigma = o->noise_multiplier;
      *epsilon_upper = NAN;
      return DPACCT_OK;
    }
  int status = dpacct_sampler_noise_for_epsilon (o->epsilon, o->delta, epochs,
                                                 sigma);
  if (status == DPACCT_OK)
    status = dpacct_gaussian_exact_epsilon (*sigma / sqrt ((double) epochs),
                                            o->delta, epsilon_upper);
  return status;
}

/* The model's working memory: all of it allocated once per run. */
typedef struct {
  size_t dim, d1, classes, params;
  double *w, *grad, *m, *v, *accumulated;
  double *logits, *r, *xbuf;
} model;

static void
model_free (model *m)
{
  free (m->w);
  free (m->grad);
  free (m->m);
  free (m->v);
  free (m->accumulated);
  free (m->logits);
  free (m->r);
  free (m->xbuf);
}

static int
model_alloc (model *m, size_t dim, size_t classes)
{
  memset (m, 0, sizeof *m);
  m->dim = dim;
  m->d1 = dim + 1;
  m->classes = classes;
  m->params = classes * m->d1;
  m->w = calloc (m->params, sizeof (double));
  m->grad = calloc (m->params, sizeof (double));
  m->m = calloc (m->params, sizeof (double));
  m->v = calloc (m->params, sizeof (double));
  m->accumulated = calloc (m->params, sizeof (double));
  m->logits = calloc (classes, sizeof (double));
  m->r = calloc (classes, sizeof (double));
  m->xbuf = calloc (m->d1, sizeof (double));
  if (!m->w || !m->grad || !m->m || !m->v || !m->accumulated || !m->logits
      || !m->r || !m->xbuf)
    {
      model_free (m);
      return DPACCT_FAIL (DPACCT_ENOMEM, "out of memory for the model");
    }
  return DPACCT_OK;
}

/* Loads X as [x; 1] into m->xbuf, and sets m->r = softmax(W [x; 1]) -
 * onehot(Y).  Returns ||[x; 1]||^2 and the example's cross-entropy. */
static double
residual (model *m, const float *x, unsigned y, double *loss)
{
  size_t d1 = m->d1;
  double xx = 1.0;
  for (size_t j = 0; j < m->dim; j++)
    {
      m->xbuf[j] = x[j];
      xx += m->xbuf[j] * m->xbuf[j];
    }
  m->xbuf[m->dim] = 1.0;
  double top = -INFINITY;
  for (size_t c = 0; c < m->classes; c++)
    {
      const double *wc = m->w + c * d1;
      double s = 0;
      for (size_t j = 0; j < d1; j++)
        s += wc[j] * m->xbuf[j];
      m->logits[c] = s;
      if (s > top)
        top = s;
    }
  double z = 0;
  for (size_t c = 0; c < m->classes; c++)
    z += (m->r[c] = exp (m->logits[c] - top));
  for (size_t c = 0; c < m->classes; c++)
    m->r[c] = m->r[c] / z - (c == y);
  *loss = top + log (z) - m->logits[y];
  return xx;
}

/* The factor a gradient of norm NORM is multiplied by, and its weight
 * relative to a tiny gradient's. */
static double
clip_scale (const dpacct_train_options *o, train_fault fault, double norm,
            double *weight, int *clipped)
{
  double c = o->clip;
  *clipped = norm > (o->clipping == DPACCT_CLIP_AUTOMATIC ? o->gamma : c);
  if (fault == TRAIN_NO_CLIPPING)
    {
      *weight = 1.0;
      return o->clipping == DPACCT_CLIP_NORMALISED ? 1.0 / c : 1.0;
    }
  switch (o->clipping)
    {
    case DPACCT_CLIP_NORMALISED:
      *weight = norm > c ? c / norm : 1.0;
      return norm > c ? 1.0 / norm : 1.0 / c;
    case DPACCT_CLIP_AUTOMATIC:
      *weight = o->gamma / (norm + o->gamma);
      return 1.0 / (norm + o->gamma);
    default:
      *weight = norm > c ? c / norm : 1.0;
      return norm > c ? c / norm : 1.0;
    }
}

/* Adds SCALE * r (x) [x; 1] (loaded by residual) to SUM. */
static void
add_gradient (model *m, double scale, double *sum)
{
  for (size_t c = 0; c < m->classes; c++)
    {
      double a = scale * m->r[c];
      double *g = sum + c * m->d1;
      for (size_t j = 0; j < m->d1; j++)
        g[j] += a * m->xbuf[j];
    }
}

/* The released noisy sum projected on the canary's clipped-gradient
 * direction, (r / ||r||) (x) ([x; 1] / ||[x; 1]||), at the current model. */
static double
canary_projection (model *m, const train_hook *hook, const double *released)
{
  double loss, rr = 0, proj = 0;
  double xx = residual (m, hook->canary_x, hook->canary_y, &loss);
  for (size_t c = 0; c < m->classes; c++)
    {
      rr += m->r[c] * m->r[c];
      const double *g = released + c * m->d1;
      double s = 0;
      for (size_t j = 0; j < m->d1; j++)
        s += g[j] * m->xbuf[j];
      proj += m->r[c] * s;
    }
  return rr > 0 ? proj / sqrt (rr * xx) : 0.0;
}

static void
optimizer_step (model *m, const dpacct_train_options *o, double inv_batch,
                uint64_t t)
{
  double lr = o->learning_rate;
  if (o->optimizer == DPACCT_OPTIMIZER_ADAM)
    {
      double c1 = 1.0 - pow (o->beta1, (double) (t + 1));
      double c2 = 1.0 - pow (o->beta2, (double) (t + 1));
      for (size_t p = 0; p < m->params; p++)
        {
          double g = m->grad[p] * inv_batch;
          m->m[p] = o->beta1 * m->m[p] + (1 - o->beta1) * g;
          m->v[p] = o->beta2 * m->v[p] + (1 - o->beta2) * g * g;
          m->w[p] -= lr * (m->m[p] / c1)
                     / (sqrt (m->v[p] / c2) + o->adam_epsilon);
        }
      return;
    }
  for (size_t p = 0; p < m->params; p++)
    {
      m->m[p] = o->momentum * m->m[p] + m->grad[p] * inv_batch;
      m->w[p] -= lr * m->m[p];
    }
}

/* Accuracy (per class) and mean cross-entropy of the model on DATA. */
static void
evaluate (model *m, const dpacct_dataset *data, double *accuracy,
          double *loss, double *class_accuracy, size_t *class_count)
{
  size_t correct = 0, hits[DPACCT_MAX_CLASSES] = { 0 };
  double total = 0;
  if (class_count)
    memset (class_count, 0, DPACCT_MAX_CLASSES * sizeof *class_count);
  for (size_t i = 0; i < data->n; i++)
    {
      double l;
      unsigned y = data->y[i];
      residual (m, data->x + i * data->dim, y < m->classes ? y : 0, &l);
      size_t best = 0;
      for (size_t c = 1; c < m->classes; c++)
        if (m->logits[c] > m->logits[best])
          best = c;
      total += l;
      correct += best == y;
      hits[y] += best == y;
      if (class_count)
        class_count[y]++;
    }
  *accuracy = (double) correct / (double) data->n;
  *loss = total / (double) data->n;
  if (class_accuracy)
    for (size_t c = 0; c < DPACCT_MAX_CLASSES; c++)
      class_accuracy[c] = class_count[c] ? (double) hits[c]
                                               / (double) class_count[c]
                                         : NAN;
}

int
train_run (const dpacct_dataset *priv, const dpacct_dataset *test,
           const dpacct_train_options *o, train_hook *hook,
           dpacct_train_report *rep)
{
  if (rep == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL report");
  memset (rep, 0, sizeof *rep);
  int status = check_options (priv, test, o);
  if (status)
    return status;
  clock_t start = clock ();
  train_fault fault = hook ? hook->fault : TRAIN_CORRECT;
  size_t n = priv->n, dim = priv->dim;
  size_t classes = priv->n_classes;
  if (test && test->n_classes > classes)
    classes = test->n_classes;
  if (hook && hook->canary_x && hook->canary_y + 1 > classes)
    classes = hook->canary_y + 1;
  int laplace = o->noise == DPACCT_NOISE_LAPLACE;
  /* Shuffled under the audit (zero-out): the canary's slot, n, is always
   * in the permutation, holding the canary or nothing. */
  size_t slots = n + (o->shuffle && hook && hook->canary_x);
  train_plan plan;
  /* Every parameter of the head gets noise: n = classes (dim + 1). */
  uint64_t params = (uint64_t) classes * (uint64_t) (dim + 1);
  status = o->shuffle ? shuffle_noise (o, slots, &plan)
                      : train_plan_poisson (o, n, params, &plan);
  if (status)
    return status;
  double q = plan.q, sigma = plan.sigma, b = plan.b;
  double sensitivity = plan.sensitivity;
  uint64_t steps = plan.steps;
  model m;
  if ((status = model_alloc (&m, dim, classes)))
    return status;
  gsl_rng *sampling = gsl_rng_alloc (gsl_rng_mt19937);
  gsl_rng *noise = gsl_rng_alloc (gsl_rng_mt19937);
  double *released = hook && hook->canary_x
                       ? calloc (m.params, sizeof (double)) : NULL;
  double *observed = hook && hook->contribution
                       ? calloc (m.params, sizeof (double)) : NULL;
  if (!sampling || !noise || (hook && hook->canary_x && !released)
      || (hook && hook->contribution && !observed))
    {
      free (released);
      free (observed);
      gsl_rng_free (sampling);
      gsl_rng_free (noise);
      model_free (&m);
      return DPACCT_FAIL (DPACCT_ENOMEM, "out of memory");
    }
  gsl_rng_set (sampling, o->sampling_seed);
  gsl_rng_set (noise, o->noise_seed);
  /* Shuffled batches: one permutation per epoch, K batches cut from it. */
  size_t *perm = o->shuffle ? malloc (slots * sizeof *perm) : NULL;
  size_t per_epoch = o->shuffle ? slots / o->batch_size : 0;
  if (o->shuffle && perm == NULL)
    {
      gsl_rng_free (sampling);
      gsl_rng_free (noise);
      free (released);
      model_free (&m);
      return DPACCT_FAIL (DPACCT_ENOMEM, "out of memory");
    }
  for (size_t i = 0; perm != NULL && i < slots; i++)
    perm[i] = i;
  epoch_stats diagnostics;
  if ((status = epoch_stats_init (&diagnostics, rep, o->epochs, steps,
                                  q * (double) n)))
    {
      gsl_rng_free (sampling);
      gsl_rng_free (noise);
      free (released);
      free (observed);
      free (perm);
      model_free (&m);
      return status;
    }

  double fault_factor = fault == TRAIN_HALF_NOISE ? 0.5 : 1.0;
  double noise_std = sigma * sensitivity * fault_factor;
  double noise_b = b * fault_factor;
  double inv_batch = 1.0 / (double) o->batch_size;
  train_tally tally;
  train_tally_init (&tally);
  uint64_t every = steps / 100 + 1;
  if (hook)
    hook->statistic = 0;

  for (uint64_t t = 0; t < steps; t++)
    {
      size_t batch = 0;
      memset (m.grad, 0, m.params * sizeof (double));
      /* The canary, when in, is the (n+1)-th example of the data set. */
      size_t n_total = n + (hook && hook->canary_x && hook->canary_in);
      if (perm != NULL && t % per_epoch == 0)
        gsl_ran_shuffle (sampling, perm, slots, sizeof *perm);
      size_t first = perm != NULL ? (size_t) (t % per_epoch) * o->batch_size
                                  : 0;
      size_t candidates = perm != NULL ? o->batch_size : n_total;
      for (size_t j = 0; j < candidates; j++)
        {
          size_t i = perm != NULL ? perm[first + j] : j;
          if (perm == NULL && q < 1.0 && gsl_rng_uniform (sampling) >= q)
            continue;
          if (i >= n_total)
            continue; /* the canary's slot, zeroed out */
          const float *x = i < n ? priv->x + i * dim : hook->canary_x;
          unsigned y = i < n ? priv->y[i] : hook->canary_y;
          double loss, weight;
          int clipped;
          double xx = residual (&m, x, y, &loss);
          double rr = 0;
          for (size_t c = 0; c < classes; c++)
            rr += m.r[c] * m.r[c];
          double scale = clip_scale (o, fault, sqrt (rr * xx), &weight,
                                     &clipped);
          if (observed)
            {
              /* The same sums as adding directly: 0 + x is exact. */
              memset (observed, 0, m.params * sizeof (double));
              add_gradient (&m, scale, observed);
              hook->contribution (observed, m.params, hook->context);
              for (size_t p = 0; p < m.params; p++)
                m.grad[p] += observed[p];
            }
          else
            add_gradient (&m, scale, m.grad);
          batch++;
          if (i < n)
            {
              tally.weight[y] += weight;
              tally.seen[y]++;
              tally.clipped += clipped;
              if (!status)
                status = epoch_stats_add (&diagnostics, sqrt (rr * xx), y,
                                          weight, clipped);
            }
        }
      train_tally_batch (&tally, batch);
      for (size_t p = 0; p < m.params; p++)
        {
          double z = laplace ? gsl_ran_laplace (noise, noise_b)
                             : gsl_ran_gaussian_ziggurat (noise, noise_std);
          m.grad[p] += z;
          tally.noise_sumsq += z * z;
          m.accumulated[p] += z / sensitivity;
        }
      if (released)
        {
          memcpy (released, m.grad, m.params * sizeof (double));
          hook->statistic += canary_projection (&m, hook, released);
        }
      optimizer_step (&m, o, inv_batch, t);
      epoch_stats_end_step (&diagnostics, t);
      if (o->progress && (t + 1) % every == 0)
        o->progress (t + 1, steps, o->progress_context);
    }

  train_tally_report (&tally, &plan, o, classes, m.params, rep);
  for (size_t p = 0; p < m.params; p++)
    rep->accumulated_sumsq += m.accumulated[p] * m.accumulated[p];
  rep->accumulated_noise = sqrt (rep->accumulated_sumsq / (double) m.params);
  rep->accumulated_predicted = sigma * sqrt ((double) steps);
  rep->accuracy = rep->loss = rep->train_loss = NAN;
  if (!(hook && hook->skip_evaluation))
    {
      double unused;
      if (test)
        evaluate (&m, test, &rep->accuracy, &rep->loss, rep->class_accuracy,
                  rep->class_count);
      evaluate (&m, priv, &unused, &rep->train_loss, NULL, NULL);
    }
  if (hook && hook->weights)
    memcpy (hook->weights, m.w, m.params * sizeof (double));
  rep->seconds = (double) (clock () - start) / CLOCKS_PER_SEC;
  free (released);
  free (observed);
  free (perm);
  gsl_rng_free (sampling);
  gsl_rng_free (noise);
  model_free (&m);
  epoch_stats_free (&diagnostics);
  return status;
}

double
train_gradient_norm (const double *w, size_t dim, size_t classes,
                     const float *x, unsigned y, double *loss)
{
  model m;
  if (model_alloc (&m, dim, classes))
    return NAN;
  memcpy (m.w, w, m.params * sizeof (double));
  double xx = residual (&m, x, y, loss), rr = 0;
  for (size_t c = 0; c < classes; c++)
    rr += m.r[c] * m.r[c];
  model_free (&m);
  return sqrt (rr * xx);
}

int
dpacct_train_run (const dpacct_dataset *private_data,
                  const dpacct_dataset *test_data,
                  const dpacct_train_options *options,
                  dpacct_train_report *report)
{
  return train_run (private_data, test_data, options, NULL, report);
}
