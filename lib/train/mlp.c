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
  /* A block of up to MLP_BLOCK examples whose layer-0 products are done
   * together, so that W_0 passes through the cache once per block rather
   * than once per example: their inputs, nonzero lists, tanh outputs and
   * output gradients, T token rows each.  Selecting example e of the
   * block points act[0], nonzero, n_nonzero, hidden0 and gout[0] there;
   * OWN keeps the single-example buffers. */
  double *block_act0, *block_hidden0, *block_gout0, *block_scale;
  size_t *block_nonzero, *block_n_nonzero, *block_cursor;
  /* W_0 transposed (d0 x d1) for the block's products, and the sum of
   * the blocks' W_0 gradients, transposed, until mlp_flush_w0: with the
   * input index outermost, the innermost loops run over contiguous
   * outputs and skip zero inputs. */
  double *w0t, *g0t;
  double *own_act0, *own_hidden0, *own_gout0;
  size_t *own_nonzero, *own_n_nonzero;
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
  for (size_t l = 1; l < MLP_MAX_LAYERS; l++)
    {
      free (ws->act[l]);
      free (ws->gout[l]);
    }
  free (ws->own_act0);
  free (ws->own_gout0);
  free (ws->own_hidden0);
  free (ws->own_nonzero);
  free (ws->own_n_nonzero);
  free (ws->block_act0);
  free (ws->block_hidden0);
  free (ws->block_gout0);
  free (ws->block_scale);
  free (ws->block_nonzero);
  free (ws->block_n_nonzero);
  free (ws->block_cursor);
  free (ws->w0t);
  free (ws->g0t);
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
  size_t rows = MLP_BLOCK * s->tokens;
  ws->block_act0 = calloc (rows * s->width[0], sizeof (double));
  ws->block_nonzero = calloc (rows * s->width[0], sizeof (size_t));
  ws->block_n_nonzero = calloc (rows, sizeof (size_t));
  ws->block_hidden0 = calloc (rows * s->width[1], sizeof (double));
  ws->block_gout0 = calloc (rows * s->width[1], sizeof (double));
  ws->block_scale = calloc (MLP_BLOCK, sizeof (double));
  ws->block_cursor = calloc (rows, sizeof (size_t));
  ws->w0t = calloc (s->width[0] * s->width[1], sizeof (double));
  ws->g0t = calloc (s->width[0] * s->width[1], sizeof (double));
  ws->own_act0 = ws->act[0];
  ws->own_gout0 = ws->gout[0];
  ws->own_hidden0 = ws->hidden0;
  ws->own_nonzero = ws->nonzero;
  ws->own_n_nonzero = ws->n_nonzero;
  ok = ok && ws->block_act0 && ws->block_nonzero && ws->block_n_nonzero
       && ws->block_hidden0 && ws->block_gout0 && ws->block_scale
       && ws->block_cursor && ws->w0t && ws->g0t;
  ws->logits = calloc (s->width[s->layers], sizeof (double));
  ws->dact = calloc (widest, sizeof (double));
  ws->gsum = calloc (widest, sizeof (double));
  ws->mat = calloc (largest, sizeof (double));
  if (!ok || !ws->hidden0 || !ws->nonzero || !ws->n_nonzero || !ws->logits
      || !ws->dact || !ws->gsum
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

/* Loads one example's T token rows X into ACT (T x d0), with each row's
 * nonzero inputs listed in NONZERO and counted in N_NONZERO (pixels are
 * often zero: layer 0's products skip them, which changes no sum). */
static void
load_tokens (const mlp_shape *s, const float *x, double *act,
             size_t *nonzero, size_t *n_nonzero)
{
  size_t d0 = s->width[0];
  for (size_t t = 0; t < s->tokens; t++)
    {
      size_t *nz = nonzero + t * d0, nnz = 0;
      for (size_t i = 0; i < d0; i++)
        if ((act[t * d0 + i] = x[t * d0 + i]) != 0)
          nz[nnz++] = i;
      n_nonzero[t] = nnz;
    }
}

/* HIDDEN = tanh(W_0 a + b_0) for ROWS token rows A (loaded by
 * load_tokens).  Row o of W_0 serves every row before the next: the
 * weights pass through the cache once per call. */
static void
layer0_rows (const mlp *net, const double *a, const size_t *nonzero,
             const size_t *n_nonzero, size_t rows, double *hidden)
{
  size_t d0 = net->shape.width[0], d1 = net->shape.width[1];
  const double *w = net->p + net->w_off[0], *b = net->p + net->b_off[0];
  for (size_t o = 0; o < d1; o++)
    {
      const double *row = w + o * d0;
      for (size_t r = 0; r < rows; r++)
        {
          const double *ar = a + r * d0;
          const size_t *nz = nonzero + r * d0;
          double z = b[o];
          for (size_t k = 0; k < n_nonzero[r]; k++)
            z += row[nz[k]] * ar[nz[k]];
          hidden[r * d1 + o] = z;
        }
    }
  for (size_t k = 0; k < rows * d1; k++)
    hidden[k] = tanh (hidden[k]);
}

/* The forward pass above layer 0 (its token outputs in hidden0): fills
 * the activations and the logits, and returns the cross-entropy of label
 * Y; the gradient of the logits, softmax - onehot, is left in gout[L-1]. */
static double
forward_upper (const mlp *net, mlp_workspace *ws, unsigned y)
{
  const mlp_shape *s = &net->shape;
  size_t L = s->layers, T = s->tokens, d1 = s->width[1];
  size_t classes = s->width[L];
  if (y >= classes)
    return NAN;
  memset (ws->act[1], 0, d1 * sizeof (double));
  for (size_t t = 0; t < T; t++)
    {
      const double *h = ws->hidden0 + t * d1;
      for (size_t o = 0; o < d1; o++)
        ws->act[1][o] += h[o] / (double) T;
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

/* The whole forward pass of one example X. */
static double
forward (const mlp *net, mlp_workspace *ws, const float *x, unsigned y)
{
  const mlp_shape *s = &net->shape;
  if (y >= s->width[s->layers])
    return NAN;
  load_tokens (s, x, ws->act[0], ws->nonzero, ws->n_nonzero);
  layer0_rows (net, ws->act[0], ws->nonzero, ws->n_nonzero, s->tokens,
               ws->hidden0);
  return forward_upper (net, ws, y);
}

/* Points the per-example buffers of layer 0 at example E of the block. */
static void
select_block_example (const mlp_shape *s, mlp_workspace *ws, size_t e)
{
  size_t T = s->tokens, d0 = s->width[0], d1 = s->width[1];
  ws->act[0] = ws->block_act0 + e * T * d0;
  ws->nonzero = ws->block_nonzero + e * T * d0;
  ws->n_nonzero = ws->block_n_nonzero + e * T;
  ws->hidden0 = ws->block_hidden0 + e * T * d1;
  ws->gout[0] = ws->block_gout0 + e * T * d1;
}

static void
select_own (mlp_workspace *ws)
{
  ws->act[0] = ws->own_act0;
  ws->nonzero = ws->own_nonzero;
  ws->n_nonzero = ws->own_n_nonzero;
  ws->hidden0 = ws->own_hidden0;
  ws->gout[0] = ws->own_gout0;
}

/* Y += X * A over N contiguous numbers (Y and X do not overlap), each
 * term as the product X[o] * A: the loop the block kernels spend their
 * time in, free to be vectorised. */
static inline void
axpy (size_t n, double a, const double *restrict x, double *restrict y)
{
  size_t o = 0;
  /* Four at a time: -O2's straight-line vectoriser pairs them. */
  for (; o + 4 <= n; o += 4)
    {
      y[o] += x[o] * a;
      y[o + 1] += x[o + 1] * a;
      y[o + 2] += x[o + 2] * a;
      y[o + 3] += x[o + 3] * a;
    }
  for (; o < n; o++)
    y[o] += x[o] * a;
}

/* W_0 transposed into the workspace, for the block products: after every
 * change of the parameters, before the next block. */
static void
transpose_w0 (const mlp *net, mlp_workspace *ws)
{
  size_t d0 = net->shape.width[0], d1 = net->shape.width[1];
  const double *w = net->p + net->w_off[0];
  for (size_t i0 = 0; i0 < d0; i0 += 8)
    for (size_t o = 0; o < d1; o++)
      for (size_t i = i0; i < i0 + 8 && i < d0; i++)
        ws->w0t[i * d1 + o] = w[o * d0 + i];
}

/* Loads the COUNT (<= MLP_BLOCK) examples IDX of X and computes their
 * layer-0 outputs together, with W_0 as transpose_w0 last saw it. */
static void
block_forward0 (const mlp *net, mlp_workspace *ws, const float *x,
                const size_t *idx, size_t count)
{
  const mlp_shape *s = &net->shape;
  size_t T = s->tokens, d0 = s->width[0], features = T * d0;
  size_t d1 = s->width[1], rows = count * T;
  for (size_t e = 0; e < count; e++)
    load_tokens (s, x + idx[e] * features, ws->block_act0 + e * T * d0,
                 ws->block_nonzero + e * T * d0,
                 ws->block_n_nonzero + e * T);
  const double *b = net->p + net->b_off[0];
  double *z = ws->block_hidden0;
  for (size_t r = 0; r < rows; r++)
    {
      memcpy (z + r * d1, b, d1 * sizeof *z);
      ws->block_cursor[r] = 0;
    }
  /* z_r += a_{r,i} W_0[:, i] over the nonzero inputs i in increasing
   * order: each output gets the terms of dense_sparse's sum in its order,
   * the same bits; a chunk of W_0's columns serves every row while it is
   * in the cache. */
  for (size_t start = 0; start < d0; start += MLP_INPUT_CHUNK)
    for (size_t r = 0; r < rows; r++)
      {
        const double *a = ws->block_act0 + r * d0;
        const size_t *nz = ws->block_nonzero + r * d0;
        size_t k = ws->block_cursor[r], nnz = ws->block_n_nonzero[r];
        double *zr = z + r * d1;
        for (; k < nnz && nz[k] < start + MLP_INPUT_CHUNK; k++)
          {
            axpy (d1, a[nz[k]], ws->w0t + nz[k] * d1, zr);
          }
        ws->block_cursor[r] = k;
      }
  for (size_t k = 0; k < rows * d1; k++)
    z[k] = tanh (z[k]);
}

double
mlp_example_loss (const mlp *net, mlp_workspace *ws, const float *x,
                  unsigned y)
{
  return forward (net, ws, x, y);
}

static void backward (const mlp *net, mlp_workspace *ws);

double
mlp_example_backward (const mlp *net, mlp_workspace *ws, const float *x,
                      unsigned y)
{
  double loss = forward (net, ws, x, y);
  if (!isnan (loss))
    backward (net, ws);
  return loss;
}

/* The output gradients of every layer, after a forward pass. */
static void
backward (const mlp *net, mlp_workspace *ws)
{
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

/* SUM += SCALE * the last example's trainable gradient, less layer 0's
 * weights when SKIP_W0 (a block adds those together). */
static void
accumulate (const mlp *net, mlp_workspace *ws, mlp_trainable trainable,
            double scale, double *sum, int skip_w0)
{
  const mlp_shape *s = &net->shape;
  for (size_t l = 0; l < s->layers; l++)
    {
      size_t T = layer_tokens (s, l), din = s->width[l];
      size_t dout = s->width[l + 1];
      const double *a = ws->act[l], *g = ws->gout[l];
      if (weights_trainable (s, trainable, l) && !(skip_w0 && l == 0))
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

void
mlp_example_accumulate (const mlp *net, mlp_workspace *ws,
                        mlp_trainable trainable, double scale, double *sum)
{
  accumulate (net, ws, trainable, scale, sum, 0);
}

/* The transposed W_0 gradient += sum_e scale_e sum_t a_{e,t} g_{e,t}^T
 * over the COUNT examples of the block, a chunk of inputs at a time.
 * Each coordinate gets its terms in the order mlp_example_accumulate
 * would add them, example after example (mlp_flush_w0 then adds the
 * total to a zero sum): the same bits. */
static void
block_accumulate_w0 (const mlp *net, mlp_workspace *ws, size_t count)
{
  const mlp_shape *s = &net->shape;
  size_t T = s->tokens, d0 = s->width[0], d1 = s->width[1], rows = count * T;
  for (size_t r = 0; r < rows; r++)
    {
      double scale = ws->block_scale[r / T], *g = ws->block_gout0 + r * d1;
      for (size_t o = 0; o < d1; o++)
        g[o] *= scale;
      ws->block_cursor[r] = 0;
    }
  for (size_t start = 0; start < d0; start += MLP_INPUT_CHUNK)
    for (size_t r = 0; r < rows; r++)
      {
        const double *a = ws->block_act0 + r * d0;
        const double *g = ws->block_gout0 + r * d1;
        const size_t *nz = ws->block_nonzero + r * d0;
        size_t k = ws->block_cursor[r], nnz = ws->block_n_nonzero[r];
        for (; k < nnz && nz[k] < start + MLP_INPUT_CHUNK; k++)
          {
            axpy (d1, a[nz[k]], g, ws->g0t + nz[k] * d1);
          }
        ws->block_cursor[r] = k;
      }
}

/* SUM's W_0 part += the blocks' transposed total, which is cleared. */
static void
flush_w0 (const mlp *net, mlp_workspace *ws, double *sum)
{
  size_t d0 = net->shape.width[0], d1 = net->shape.width[1];
  double *w = sum + net->w_off[0];
  for (size_t i = 0; i < d0; i++)
    for (size_t o = 0; o < d1; o++)
      {
        w[o * d0 + i] += ws->g0t[i * d1 + o];
        ws->g0t[i * d1 + o] = 0;
      }
}

/* Called with each example's norm under the method and its label;
 * returns the factor its gradient is multiplied by. */
typedef double (*scale_fn) (double norm, unsigned y, void *context);

/* For the COUNT (<= MLP_BLOCK) examples IDX of X, Y: forward and
 * backward passes, layer 0's products for the block at once; then SUM +=
 * scale * each example's trainable gradient, the scale from SCALE_OF
 * (given the norm under METHOD), or 1 when SCALE_OF is NULL (no norm is
 * computed); layer 0's weights wait in the workspace for flush_w0.
 * DPACCT_EDOM for a label out of range. */
static int
block_gradients (const mlp *net, mlp_workspace *ws, const float *x,
                 const unsigned char *y, const size_t *idx, size_t count,
                 mlp_trainable trainable, mlp_norm_method method,
                 scale_fn scale_of, void *context, double *sum)
{
  const mlp_shape *s = &net->shape;
  for (size_t e = 0; e < count; e++)
    if (y[idx[e]] >= s->width[s->layers])
      return DPACCT_FAIL (DPACCT_EDOM, "a label is out of range");
  block_forward0 (net, ws, x, idx, count);
  for (size_t e = 0; e < count; e++)
    {
      select_block_example (s, ws, e);
      forward_upper (net, ws, y[idx[e]]);
      backward (net, ws);
      double scale = 1.0;
      if (scale_of)
        scale = scale_of (mlp_example_norm (net, ws, trainable, method),
                          y[idx[e]], context);
      ws->block_scale[e] = scale;
      accumulate (net, ws, trainable, scale, sum, 1);
    }
  if (weights_trainable (s, trainable, 0))
    block_accumulate_w0 (net, ws, count);
  select_own (ws);
  return DPACCT_OK;
}

void
mlp_prepare_blocks (const mlp *net, mlp_workspace *ws)
{
  transpose_w0 (net, ws);
}

int
mlp_predict_block (const mlp *net, mlp_workspace *ws, const float *x,
                   const unsigned char *y, size_t first, size_t count,
                   unsigned *predicted, double *loss)
{
  const mlp_shape *s = &net->shape;
  size_t idx[MLP_BLOCK] = { 0 }, classes = s->width[s->layers];
  if (count > MLP_BLOCK)
    return DPACCT_FAIL (DPACCT_EDOM, "more examples than a block holds");
  for (size_t e = 0; e < count; e++)
    {
      idx[e] = first + e;
      if (y[idx[e]] >= classes)
        return DPACCT_FAIL (DPACCT_EDOM, "a label is out of range");
    }
  block_forward0 (net, ws, x, idx, count);
  for (size_t e = 0; e < count; e++)
    {
      select_block_example (s, ws, e);
      loss[e] = forward_upper (net, ws, y[idx[e]]);
      unsigned best = 0;
      for (size_t c = 1; c < classes; c++)
        if (ws->logits[c] > ws->logits[best])
          best = (unsigned) c;
      predicted[e] = best;
    }
  select_own (ws);
  return DPACCT_OK;
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
  if (o->canary_x && (o->canary_grad == NULL || o->fault > TRAIN_NO_CLIPPING))
    return DPACCT_FAIL (DPACCT_EINVAL, "a canary needs its scratch");
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

/* clip_factor, or for the audit's broken trainer no clipping at all. */
static double
step_factor (const mlp_dp_step_options *o, double norm)
{
  if (o->fault == TRAIN_NO_CLIPPING)
    return o->clipping == DPACCT_CLIP_NORMALISED ? 1.0 / o->clip : 1.0;
  return clip_factor (o, norm);
}

/* The canary's gradient (trainable parts) at the step's model into
 * O->canary_grad; returns its squared norm. */
static double
canary_gradient (const mlp *net, mlp_workspace *ws,
                 const mlp_dp_step_options *o)
{
  memset (o->canary_grad, 0, net->n_params * sizeof (double));
  mlp_example_backward (net, ws, o->canary_x, o->canary_y);
  mlp_example_accumulate (net, ws, o->trainable, 1.0, o->canary_grad);
  double norm2 = 0;
  for (size_t p = 0; p < net->n_params; p++)
    norm2 += o->canary_grad[p] * o->canary_grad[p];
  return norm2;
}

/* What a DP step records of each sampled example while it is clipped. */
typedef struct {
  const mlp_dp_step_options *o;
  mlp_dp_step_stats *stats;
  int status; /* the diagnostics' */
} step_tally;

static double
step_scale (double norm, unsigned y, void *context)
{
  step_tally *tally = context;
  const mlp_dp_step_options *o = tally->o;
  mlp_dp_step_stats *stats = tally->stats;
  double weight = o->clipping == DPACCT_CLIP_AUTOMATIC
                    ? o->gamma / (norm + o->gamma)
                    : norm > o->clip ? o->clip / norm : 1.0;
  int clipped = norm > (o->clipping == DPACCT_CLIP_AUTOMATIC ? o->gamma
                                                             : o->clip);
  stats->batch++;
  stats->class_seen[y]++;
  stats->class_weight[y] += weight;
  stats->clipped += clipped;
  stats->norm_sum += norm;
  if (o->diagnostics && !tally->status)
    tally->status = epoch_stats_add (o->diagnostics, norm, y, weight,
                                     clipped);
  if (o->observe)
    o->observe (norm, y, o->observe_context);
  return step_factor (o, norm);
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
  memset (stats, 0, sizeof *stats);
  memset (grad, 0, net->n_params * sizeof (double));
  /* The sampled examples go through the network a block at a time, in
   * their order: the same sums as one at a time. */
  step_tally tally = { o, stats, DPACCT_OK };
  transpose_w0 (net, ws);
  size_t idx[MLP_BLOCK], count = 0;
  for (size_t i = 0; i < n && !status && !tally.status; i++)
    {
      if (o->q < 1.0 && gsl_rng_uniform (sampling) >= o->q)
        continue;
      idx[count++] = i;
      if (count == MLP_BLOCK || i + 1 == n)
        {
          status = block_gradients (net, ws, x, y, idx, count, o->trainable,
                                    o->norm_method, step_scale, &tally,
                                    grad);
          count = 0;
        }
    }
  if (!status && count > 0 && !tally.status)
    status = block_gradients (net, ws, x, y, idx, count, o->trainable,
                              o->norm_method, step_scale, &tally, grad);
  const mlp_shape *s = &net->shape;
  if (weights_trainable (s, o->trainable, 0))
    flush_w0 (net, ws, grad);
  if (status || tally.status)
    return status ? status : tally.status;
  /* The canary, when in, is the (n+1)-th example; its gradient is the
   * direction the auditor projects on, in or out. */
  double canary_norm2 = 0, projection = 0;
  if (o->canary_x)
    {
      canary_norm2 = canary_gradient (net, ws, o);
      if (o->canary_in
          && !(o->q < 1.0 && gsl_rng_uniform (sampling) >= o->q))
        {
          double f = step_factor (o, sqrt (canary_norm2));
          for (size_t p = 0; p < net->n_params; p++)
            grad[p] += f * o->canary_grad[p];
          stats->batch++;
        }
    }
  double fault_factor = o->fault == TRAIN_HALF_NOISE ? 0.5 : 1.0;
  double sensitivity = o->clipping == DPACCT_CLIP_FLAT ? o->clip : 1.0;
  double step = o->learning_rate / o->expected_batch;
  /* The trainable parameters are whole weight matrices and bias vectors,
   * in order: noise for each, in the order of the parameters. */
  for (size_t l = 0; l < s->layers; l++)
    for (int part = 0; part < 2; part++)
      {
        if (!(part ? biases_trainable (s, o->trainable, l)
                   : weights_trainable (s, o->trainable, l)))
          continue;
        size_t first = part ? net->b_off[l] : net->w_off[l];
        size_t end = first + s->width[l + 1] * (part ? 1 : s->width[l]);
        for (size_t p = first; p < end; p++)
          {
            double z = o->noise == DPACCT_NOISE_LAPLACE
                         ? gsl_ran_laplace (noise,
                                            o->laplace_scale * fault_factor)
                         : gsl_ran_gaussian_ziggurat (noise,
                                                      o->sigma * sensitivity
                                                        * fault_factor);
            stats->noise_sumsq += z * z;
            if (o->accumulated_noise)
              o->accumulated_noise[p] += z / sensitivity;
            if (o->canary_x)
              projection += (grad[p] + z) * o->canary_grad[p];
            net->p[p] -= step * (grad[p] + z);
          }
      }
  if (o->canary_x && o->canary_statistic && canary_norm2 > 0)
    *o->canary_statistic += projection / sqrt (canary_norm2);
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
          transpose_w0 (net, ws);
          for (size_t k = start; k < end; k += MLP_BLOCK)
            {
              size_t count = end - k < MLP_BLOCK ? end - k : MLP_BLOCK;
              if ((status = block_gradients (net, ws, x, y, order + k, count,
                                             MLP_TRAIN_ALL, MLP_NORM_GHOST,
                                             NULL, NULL, grad)))
                goto done;
            }
          flush_w0 (net, ws, grad);
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
