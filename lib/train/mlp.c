/* mlp.c - a small MLP with per-example gradient norms by ghost clipping.
 *
 * A dense layer that maps T token inputs a_t to outputs with gradients
 * g_t has the per-example weight gradient sum_t g_t a_t^T, whose squared
 * Frobenius norm is sum_{t,t'} (a_t . a_t')(g_t . g_t') (Li et al.,
 * "ghost clipping"): O(T^2 (d_in + d_out)) work and no d_out x d_in
 * buffer, against O(T d_in d_out) to form the gradient.  For one token it
 * is ||a||^2 ||g||^2; the bias gradient is sum_t g_t.  Clipping then
 * needs no per-example gradient in memory: each example's scaled
 * gradient goes straight into the batch sum. */
#include "mlp_internal.h"
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

struct mlp {
  mlp_shape shape;
  size_t n_params;
  size_t w_off[MLP_MAX_LAYERS], b_off[MLP_MAX_LAYERS];
  double *p;
};

struct mlp_workspace {
  double *act[MLP_MAX_LAYERS];  /* layer l's inputs: T x width[0] for l = 0 */
  double *gout[MLP_MAX_LAYERS]; /* its output gradients: T x width[1] for 0 */
  double *hidden0;              /* tanh of layer 0 per token, T x width[1] */
  /* Where each token's inputs are nonzero (pixels often are zero): layer
   * 0's products skip the rest, which changes no sum. */
  size_t *nonzero, *n_nonzero;
  double *logits, *dact, *gsum, *mat;
};

static size_t
layer_tokens (const mlp_shape *s, size_t l)
{
  return l == 0 ? s->tokens : 1;
}

int
mlp_shape_check (const mlp_shape *s)
{
  if (s == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL shape");
  if (s->layers < 2 || s->layers > MLP_MAX_LAYERS)
    return DPACCT_FAIL (DPACCT_EDOM, "the MLP needs 2 to 4 dense layers");
  if (s->tokens < 1 || s->tokens > 4096)
    return DPACCT_FAIL (DPACCT_EDOM, "tokens per example must be in "
                                     "[1, 4096]");
  for (size_t l = 0; l <= s->layers; l++)
    if (s->width[l] < 1 || s->width[l] > 65536)
      return DPACCT_FAIL (DPACCT_EDOM, "layer widths must be in [1, 65536]");
  if (s->width[s->layers] < 2)
    return DPACCT_FAIL (DPACCT_EDOM, "need at least 2 classes");
  return DPACCT_OK;
}

int
mlp_alloc (const mlp_shape *shape, mlp **out)
{
  if (out == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL pointer");
  *out = NULL;
  int status = mlp_shape_check (shape);
  if (status)
    return status;
  mlp *net = calloc (1, sizeof *net);
  if (net == NULL)
    return DPACCT_FAIL (DPACCT_ENOMEM, "out of memory for the MLP");
  net->shape = *shape;
  size_t off = 0;
  for (size_t l = 0; l < shape->layers; l++)
    {
      net->w_off[l] = off;
      off += shape->width[l + 1] * shape->width[l];
      net->b_off[l] = off;
      off += shape->width[l + 1];
    }
  net->n_params = off;
  net->p = calloc (off, sizeof (double));
  if (net->p == NULL)
    {
      free (net);
      return DPACCT_FAIL (DPACCT_ENOMEM, "out of memory for the MLP");
    }
  *out = net;
  return DPACCT_OK;
}

void
mlp_free (mlp *net)
{
  if (net == NULL)
    return;
  free (net->p);
  free (net);
}

const mlp_shape *
mlp_get_shape (const mlp *net)
{
  return &net->shape;
}

double *
mlp_params (mlp *net)
{
  return net->p;
}

size_t
mlp_param_count (const mlp *net)
{
  return net->n_params;
}

size_t
mlp_weight_offset (const mlp *net, size_t layer)
{
  return net->w_off[layer];
}

size_t
mlp_bias_offset (const mlp *net, size_t layer)
{
  return net->b_off[layer];
}

void
mlp_init (mlp *net, unsigned long seed)
{
  gsl_rng *r = gsl_rng_alloc (gsl_rng_mt19937);
  if (r == NULL)
    return;
  gsl_rng_set (r, seed);
  const mlp_shape *s = &net->shape;
  for (size_t l = 0; l < s->layers; l++)
    {
      size_t din = s->width[l], dout = s->width[l + 1];
      double range = sqrt (6.0 / (double) (din + dout));
      double *w = net->p + net->w_off[l], *b = net->p + net->b_off[l];
      for (size_t k = 0; k < din * dout; k++)
        w[k] = range * (2.0 * gsl_rng_uniform (r) - 1.0);
      for (size_t o = 0; o < dout; o++)
        b[o] = 0.1 * (2.0 * gsl_rng_uniform (r) - 1.0);
    }
  gsl_rng_free (r);
}

static int
weights_trainable (const mlp_shape *s, mlp_trainable t, size_t l)
{
  return t == MLP_TRAIN_ALL || (t == MLP_TRAIN_HEAD && l + 1 == s->layers);
}

static int
biases_trainable (const mlp_shape *s, mlp_trainable t, size_t l)
{
  return t == MLP_TRAIN_ALL || t == MLP_TRAIN_BIAS
         || (t == MLP_TRAIN_HEAD && l + 1 == s->layers);
}

size_t
mlp_trainable_count (const mlp_shape *s, mlp_trainable t)
{
  if (mlp_shape_check (s) || t > MLP_TRAIN_HEAD)
    return 0;
  size_t count = 0;
  for (size_t l = 0; l < s->layers; l++)
    {
      if (weights_trainable (s, t, l))
        count += s->width[l] * s->width[l + 1];
      if (biases_trainable (s, t, l))
        count += s->width[l + 1];
    }
  return count;
}

int
mlp_is_trainable (const mlp *net, mlp_trainable t, size_t p)
{
  const mlp_shape *s = &net->shape;
  for (size_t l = 0; l < s->layers; l++)
    {
      if (p >= net->w_off[l] && p < net->b_off[l])
        return weights_trainable (s, t, l);
      if (p >= net->b_off[l] && p < net->b_off[l] + s->width[l + 1])
        return biases_trainable (s, t, l);
    }
  return 0;
}

int
mlp_layer_uses_ghost (const mlp_shape *s, size_t l, mlp_norm_method method)
{
  if (method != MLP_NORM_MIXED)
    return method == MLP_NORM_GHOST;
  double t = (double) layer_tokens (s, l);
  double din = (double) s->width[l], dout = (double) s->width[l + 1];
  return t * t * (din + dout) <= t * din * dout;
}

void
mlp_workspace_free (mlp_workspace *ws)
{
  if (ws == NULL)
    return;
  for (size_t l = 0; l < MLP_MAX_LAYERS; l++)
    {
      free (ws->act[l]);
      free (ws->gout[l]);
    }
  free (ws->hidden0);
  free (ws->nonzero);
  free (ws->n_nonzero);
  free (ws->logits);
  free (ws->dact);
  free (ws->gsum);
  free (ws->mat);
  free (ws);
}

int
mlp_workspace_alloc (const mlp *net, mlp_workspace **out)
{
  if (net == NULL || out == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL pointer");
  const mlp_shape *s = &net->shape;
  mlp_workspace *ws = calloc (1, sizeof *ws);
  *out = NULL;
  if (ws == NULL)
    return DPACCT_FAIL (DPACCT_ENOMEM, "out of memory for the workspace");
  size_t widest = 0, largest = 0;
  int ok = 1;
  for (size_t l = 0; l < s->layers; l++)
    {
      size_t t = layer_tokens (s, l);
      ws->act[l] = calloc (t * s->width[l], sizeof (double));
      ws->gout[l] = calloc (t * s->width[l + 1], sizeof (double));
      ok = ok && ws->act[l] && ws->gout[l];
      if (s->width[l + 1] > widest)
        widest = s->width[l + 1];
      if (s->width[l] > widest)
        widest = s->width[l];
      if (s->width[l] * s->width[l + 1] > largest)
        largest = s->width[l] * s->width[l + 1];
    }
  ws->hidden0 = calloc (s->tokens * s->width[1], sizeof (double));
  ws->nonzero = calloc (s->tokens * s->width[0], sizeof (size_t));
  ws->n_nonzero = calloc (s->tokens, sizeof (size_t));
  ws->logits = calloc (s->width[s->layers], sizeof (double));
  ws->dact = calloc (widest, sizeof (double));
  ws->gsum = calloc (widest, sizeof (double));
  ws->mat = calloc (largest, sizeof (double));
  if (!ok || !ws->hidden0 || !ws->nonzero || !ws->n_nonzero || !ws->logits || !ws->dact || !ws->gsum
      || !ws->mat)
    {
      mlp_workspace_free (ws);
      return DPACCT_FAIL (DPACCT_ENOMEM, "out of memory for the workspace");
    }
  *out = ws;
  return DPACCT_OK;
}

/* OUT = W IN + b for layer L, one token. */
static void
dense (const mlp *net, size_t l, const double *in, double *out)
{
  size_t din = net->shape.width[l], dout = net->shape.width[l + 1];
  const double *w = net->p + net->w_off[l], *b = net->p + net->b_off[l];
  for (size_t o = 0; o < dout; o++)
    {
      double z = b[o];
      const double *row = w + o * din;
      for (size_t i = 0; i < din; i++)
        z += row[i] * in[i];
      out[o] = z;
    }
}

/* OUT = W_0 A + b_0 for one token A, over its nonzero inputs NZ. */
static void
dense_sparse (const mlp *net, const double *a, const size_t *nz, size_t nnz,
              double *out)
{
  size_t din = net->shape.width[0], dout = net->shape.width[1];
  const double *w = net->p + net->w_off[0], *b = net->p + net->b_off[0];
  for (size_t o = 0; o < dout; o++)
    {
      double z = b[o];
      const double *row = w + o * din;
      for (size_t k = 0; k < nnz; k++)
        z += row[nz[k]] * a[nz[k]];
      out[o] = z;
    }
}

/* The forward pass: fills the activations and the logits, and returns
 * the cross-entropy of label Y; the gradient of the logits, softmax -
 * onehot, is left in gout[L-1]. */
static double
forward (const mlp *net, mlp_workspace *ws, const float *x, unsigned y)
{
  const mlp_shape *s = &net->shape;
  size_t L = s->layers, T = s->tokens, d0 = s->width[0], d1 = s->width[1];
  size_t classes = s->width[L];
  if (y >= classes)
    return NAN;
  for (size_t t = 0; t < T; t++)
    {
      size_t *nz = ws->nonzero + t * d0, nnz = 0;
      for (size_t i = 0; i < d0; i++)
        if ((ws->act[0][t * d0 + i] = x[t * d0 + i]) != 0)
          nz[nnz++] = i;
      ws->n_nonzero[t] = nnz;
    }
  memset (ws->act[1], 0, d1 * sizeof (double));
  for (size_t t = 0; t < T; t++)
    {
      double *h = ws->hidden0 + t * d1;
      dense_sparse (net, ws->act[0] + t * d0, ws->nonzero + t * d0,
                    ws->n_nonzero[t], h);
      for (size_t o = 0; o < d1; o++)
        {
          h[o] = tanh (h[o]);
          ws->act[1][o] += h[o] / (double) T;
        }
    }
  for (size_t l = 1; l < L; l++)
    {
      double *z = l + 1 < L ? ws->act[l + 1] : ws->logits;
      dense (net, l, ws->act[l], z);
      if (l + 1 < L)
        for (size_t o = 0; o < s->width[l + 1]; o++)
          z[o] = tanh (z[o]);
    }
  double top = -INFINITY, sum = 0;
  for (size_t c = 0; c < classes; c++)
    if (ws->logits[c] > top)
      top = ws->logits[c];
  double *r = ws->gout[L - 1];
  for (size_t c = 0; c < classes; c++)
    sum += (r[c] = exp (ws->logits[c] - top));
  for (size_t c = 0; c < classes; c++)
    r[c] = r[c] / sum - (c == y);
  return top + log (sum) - ws->logits[y];
}

double
mlp_example_loss (const mlp *net, mlp_workspace *ws, const float *x,
                  unsigned y)
{
  return forward (net, ws, x, y);
}

double
mlp_example_backward (const mlp *net, mlp_workspace *ws, const float *x,
                      unsigned y)
{
  double loss = forward (net, ws, x, y);
  if (isnan (loss))
    return loss;
  const mlp_shape *s = &net->shape;
  size_t L = s->layers, T = s->tokens, d1 = s->width[1];
  for (size_t l = L - 1; l >= 1; l--)
    {
      /* dact = W_l^T g_l, the gradient of layer l's input. */
      size_t din = s->width[l], dout = s->width[l + 1];
      const double *w = net->p + net->w_off[l], *g = ws->gout[l];
      memset (ws->dact, 0, din * sizeof (double));
      for (size_t o = 0; o < dout; o++)
        for (size_t i = 0; i < din; i++)
          ws->dact[i] += w[o * din + i] * g[o];
      if (l >= 2)
        for (size_t i = 0; i < din; i++)
          ws->gout[l - 1][i] = ws->dact[i]
                               * (1.0 - ws->act[l][i] * ws->act[l][i]);
    }
  /* Through the mean over tokens and each token's tanh. */
  for (size_t t = 0; t < T; t++)
    {
      const double *h = ws->hidden0 + t * d1;
      double *g0 = ws->gout[0] + t * d1;
      for (size_t o = 0; o < d1; o++)
        g0[o] = ws->dact[o] / (double) T * (1.0 - h[o] * h[o]);
    }
  return loss;
}

static double
dot (const double *a, const double *b, size_t n)
{
  double s = 0;
  for (size_t k = 0; k < n; k++)
    s += a[k] * b[k];
  return s;
}

/* ||sum_t g_t||^2, leaving sum_t g_t in ws->gsum. */
static double
bias_norm2 (const mlp_shape *s, mlp_workspace *ws, size_t l)
{
  size_t T = layer_tokens (s, l), dout = s->width[l + 1];
  const double *g = ws->gout[l];
  memset (ws->gsum, 0, dout * sizeof (double));
  for (size_t t = 0; t < T; t++)
    for (size_t o = 0; o < dout; o++)
      ws->gsum[o] += g[t * dout + o];
  return dot (ws->gsum, ws->gsum, dout);
}

double
mlp_ghost_norm2 (size_t T, size_t din, size_t dout, const double *a,
                 const double *g)
{
  /* sum_{t,t'} (a_t . a_t')(g_t . g_t'): the diagonal once, each pair
   * t < t' twice. */
  double diagonal = 0, pairs = 0;
  for (size_t t = 0; t < T; t++)
    {
      diagonal += dot (a + t * din, a + t * din, din)
                  * dot (g + t * dout, g + t * dout, dout);
      for (size_t u = t + 1; u < T; u++)
        pairs += dot (a + t * din, a + u * din, din)
                 * dot (g + t * dout, g + u * dout, dout);
    }
  return diagonal + 2.0 * pairs;
}

double
mlp_materialised_norm2 (size_t T, size_t din, size_t dout, const double *a,
                        const double *g, double *buffer)
{
  memset (buffer, 0, din * dout * sizeof (double));
  for (size_t t = 0; t < T; t++)
    for (size_t o = 0; o < dout; o++)
      {
        double go = g[t * dout + o];
        double *row = buffer + o * din;
        for (size_t i = 0; i < din; i++)
          row[i] += go * a[t * din + i];
      }
  return dot (buffer, buffer, din * dout);
}

double
mlp_layer_norm2 (const mlp *net, mlp_workspace *ws, size_t l,
                 mlp_trainable trainable, int ghost)
{
  const mlp_shape *s = &net->shape;
  double norm2 = 0;
  if (weights_trainable (s, trainable, l))
    {
      size_t T = layer_tokens (s, l);
      size_t din = s->width[l], dout = s->width[l + 1];
      norm2 += ghost ? mlp_ghost_norm2 (T, din, dout, ws->act[l],
                                        ws->gout[l])
                     : mlp_materialised_norm2 (T, din, dout, ws->act[l],
                                               ws->gout[l], ws->mat);
    }
  if (biases_trainable (s, trainable, l))
    norm2 += bias_norm2 (s, ws, l);
  return norm2;
}

double
mlp_example_norm (const mlp *net, mlp_workspace *ws, mlp_trainable trainable,
                  mlp_norm_method method)
{
  double norm2 = 0;
  for (size_t l = 0; l < net->shape.layers; l++)
    norm2 += mlp_layer_norm2 (net, ws, l, trainable,
                              mlp_layer_uses_ghost (&net->shape, l, method));
  return sqrt (norm2);
}

void
mlp_example_accumulate (const mlp *net, mlp_workspace *ws,
                        mlp_trainable trainable, double scale, double *sum)
{
  const mlp_shape *s = &net->shape;
  for (size_t l = 0; l < s->layers; l++)
    {
      size_t T = layer_tokens (s, l), din = s->width[l];
      size_t dout = s->width[l + 1];
      const double *a = ws->act[l], *g = ws->gout[l];
      if (weights_trainable (s, trainable, l))
        {
          double *w = sum + net->w_off[l];
          for (size_t t = 0; t < T; t++)
            {
              const double *at = a + t * din;
              for (size_t o = 0; o < dout; o++)
                {
                  double go = scale * g[t * dout + o];
                  double *row = w + o * din;
                  if (l == 0) /* zero inputs add nothing */
                    {
                      const size_t *nz = ws->nonzero + t * din;
                      for (size_t k = 0; k < ws->n_nonzero[t]; k++)
                        row[nz[k]] += go * at[nz[k]];
                    }
                  else
                    for (size_t i = 0; i < din; i++)
                      row[i] += go * at[i];
                }
            }
        }
      if (biases_trainable (s, trainable, l))
        {
          double *b = sum + net->b_off[l];
          for (size_t t = 0; t < T; t++)
            for (size_t o = 0; o < dout; o++)
              b[o] += scale * g[t * dout + o];
        }
    }
}

/* The factor an example's gradient of norm NORM is multiplied by. */
static double
clip_factor (const mlp_dp_step_options *o, double norm)
{
  switch (o->clipping)
    {
    case DPACCT_CLIP_NORMALISED:
      return norm > o->clip ? 1.0 / norm : 1.0 / o->clip;
    case DPACCT_CLIP_AUTOMATIC:
      return 1.0 / (norm + o->gamma);
    default:
      return norm > o->clip ? o->clip / norm : 1.0;
    }
}

static int
check_step (const mlp_dp_step_options *o)
{
  if (o->trainable > MLP_TRAIN_HEAD || o->norm_method > MLP_NORM_MIXED
      || o->clipping > DPACCT_CLIP_AUTOMATIC
      || o->noise > DPACCT_NOISE_LAPLACE)
    return DPACCT_FAIL (DPACCT_EDOM, "unknown trainable set, norm method, "
                                     "clipping or noise");
  if (!(o->clip > 0) || !isfinite (o->clip) || !(o->gamma > 0)
      || !(o->learning_rate > 0) || !isfinite (o->learning_rate))
    return DPACCT_FAIL (DPACCT_EDOM, "clip, gamma and learning rate must be "
                                     "positive and finite");
  if (!(o->q > 0 && o->q <= 1) || !(o->expected_batch > 0))
    return DPACCT_FAIL (DPACCT_EDOM, "need q in (0, 1] and a positive "
                                     "expected batch size");
  if (!(o->sigma >= 0) || !isfinite (o->sigma)
      || (o->noise == DPACCT_NOISE_LAPLACE
          && (!(o->laplace_scale >= 0) || !isfinite (o->laplace_scale))))
    return DPACCT_FAIL (DPACCT_EDOM, "noise scales must be finite and "
                                     "non-negative");
  return DPACCT_OK;
}

int
mlp_dp_step (mlp *net, mlp_workspace *ws, const float *x, const unsigned char *y,
             size_t n, const mlp_dp_step_options *o, gsl_rng *sampling,
             gsl_rng *noise, double *grad, mlp_dp_step_stats *stats)
{
  if (!net || !ws || !x || !y || !o || !sampling || !noise || !grad
      || !stats)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL pointer");
  int status = check_step (o);
  if (status)
    return status;
  const mlp_shape *s = &net->shape;
  size_t features = s->tokens * s->width[0];
  memset (stats, 0, sizeof *stats);
  memset (grad, 0, net->n_params * sizeof (double));
  for (size_t i = 0; i < n; i++)
    {
      if (o->q < 1.0 && gsl_rng_uniform (sampling) >= o->q)
        continue;
      if (isnan (mlp_example_backward (net, ws, x + i * features, y[i])))
        return DPACCT_FAIL (DPACCT_EDOM, "a label is out of range");
      double norm = mlp_example_norm (net, ws, o->trainable, o->norm_method);
      mlp_example_accumulate (net, ws, o->trainable, clip_factor (o, norm),
                              grad);
      double weight = o->clipping == DPACCT_CLIP_AUTOMATIC
                        ? o->gamma / (norm + o->gamma)
                        : norm > o->clip ? o->clip / norm : 1.0;
      int clipped = norm > (o->clipping == DPACCT_CLIP_AUTOMATIC
                              ? o->gamma : o->clip);
      stats->batch++;
      stats->class_seen[y[i]]++;
      stats->class_weight[y[i]] += weight;
      stats->clipped += clipped;
      stats->norm_sum += norm;
      if (o->diagnostics
          && (status = epoch_stats_add (o->diagnostics, norm, y[i], weight,
                                        clipped)))
        return status;
      if (o->observe)
        o->observe (norm, y[i], o->observe_context);
    }
  double sensitivity = o->clipping == DPACCT_CLIP_FLAT ? o->clip : 1.0;
  double step = o->learning_rate / o->expected_batch;
  for (size_t p = 0; p < net->n_params; p++)
    {
      if (!mlp_is_trainable (net, o->trainable, p))
        continue;
      double z = o->noise == DPACCT_NOISE_LAPLACE
                   ? gsl_ran_laplace (noise, o->laplace_scale)
                   : gsl_ran_gaussian_ziggurat (noise,
                                                o->sigma * sensitivity);
      stats->noise_sumsq += z * z;
      net->p[p] -= step * (grad[p] + z);
    }
  return DPACCT_OK;
}

unsigned
mlp_predict (const mlp *net, mlp_workspace *ws, const float *x)
{
  forward (net, ws, x, 0);
  unsigned best = 0;
  for (size_t c = 1; c < net->shape.width[net->shape.layers]; c++)
    if (ws->logits[c] > ws->logits[best])
      best = (unsigned) c;
  return best;
}

int
mlp_pretrain (mlp *net, mlp_workspace *ws, const float *x, const unsigned char *y,
              size_t n, size_t epochs, size_t batch, double lr,
              unsigned long seed)
{
  if (!net || !ws || !x || !y)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL pointer");
  if (n < 1 || batch < 1 || !(lr > 0) || !isfinite (lr))
    return DPACCT_FAIL (DPACCT_EDOM, "need examples, a positive batch size "
                                     "and a positive learning rate");
  size_t features = net->shape.tokens * net->shape.width[0];
  size_t *order = malloc (n * sizeof *order);
  double *grad = malloc (net->n_params * sizeof (double));
  gsl_rng *r = gsl_rng_alloc (gsl_rng_mt19937);
  int status = DPACCT_OK;
  if (!order || !grad || !r)
    {
      status = DPACCT_FAIL (DPACCT_ENOMEM, "out of memory for pretraining");
      goto done;
    }
  gsl_rng_set (r, seed);
  for (size_t i = 0; i < n; i++)
    order[i] = i;
  for (size_t e = 0; e < epochs; e++)
    {
      gsl_ran_shuffle (r, order, n, sizeof *order);
      for (size_t start = 0; start < n; start += batch)
        {
          size_t end = start + batch < n ? start + batch : n;
          memset (grad, 0, net->n_params * sizeof (double));
          for (size_t k = start; k < end; k++)
            {
              size_t i = order[k];
              if (isnan (mlp_example_backward (net, ws, x + i * features,
                                               y[i])))
                {
                  status = DPACCT_FAIL (DPACCT_EDOM,
                                        "a label is out of range");
                  goto done;
                }
              mlp_example_accumulate (net, ws, MLP_TRAIN_ALL, 1.0, grad);
            }
          double step = lr / (double) (end - start);
          for (size_t p = 0; p < net->n_params; p++)
            net->p[p] -= step * grad[p];
        }
    }
done:
  free (order);
  free (grad);
  gsl_rng_free (r);
  return status;
}
