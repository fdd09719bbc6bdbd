/* mlp_internal.h - a small multilayer perceptron for DP fine-tuning, with
 * per-example gradient norms by ghost clipping.  Internal for now: the
 * trainer and the tests use it; no public API is promised yet.
 *
 * The network has L >= 2 dense layers with biases and tanh between them.
 * The first layer is applied to each of T tokens of an example (T = 1: a
 * plain MLP; T = 28 with 28-pixel tokens: the rows of an image through a
 * shared layer); its activations are averaged over the tokens, and the
 * remaining layers act on that average.  The last layer's outputs are
 * the logits of a softmax cross-entropy. */
#ifndef DPACCT_MLP_INTERNAL_H
#define DPACCT_MLP_INTERNAL_H

#include "dpacct/train.h"
#include "epoch_stats.h"
#include "train_internal.h"

#include <stddef.h>

#include <gsl/gsl_rng.h>

#define MLP_MAX_LAYERS 4
/* Examples whose layer-0 products are computed together. */
#define MLP_BLOCK 16
/* Inputs of layer 0 whose columns a block's products take at a time. */
#define MLP_INPUT_CHUNK 32

typedef struct {
  size_t layers;                     /* L dense layers, 2..MLP_MAX_LAYERS */
  size_t tokens;                     /* T >= 1 tokens through layer 0 */
  size_t width[MLP_MAX_LAYERS + 1];  /* width[0]: one token's features;
                                        width[L]: classes */
} mlp_shape;

/* What private fine-tuning may change. */
typedef enum {
  MLP_TRAIN_ALL,  /* full fine-tuning */
  MLP_TRAIN_BIAS, /* DP-BiTFiT: the biases of every layer only */
  MLP_TRAIN_HEAD  /* linear probe: the last layer only */
} mlp_trainable;

/* How a layer's per-example gradient norm is computed. */
typedef enum {
  MLP_NORM_GHOST,        /* from activations and output gradients */
  MLP_NORM_MATERIALISED, /* forms the per-example gradient, then its norm */
  MLP_NORM_MIXED         /* per layer, whichever costs less */
} mlp_norm_method;

typedef struct mlp mlp;                  /* shape and parameters */
typedef struct mlp_workspace mlp_workspace; /* one example's scratch */

/* Validates SHAPE; DPACCT_EDOM names what is wrong. */
int mlp_shape_check (const mlp_shape *shape);

int mlp_alloc (const mlp_shape *shape, mlp **out);
void mlp_free (mlp *net);
const mlp_shape *mlp_get_shape (const mlp *net);

/* All parameters, layer by layer: W_l (width[l+1] x width[l], row-major),
 * then b_l.  mlp_weight_offset / mlp_bias_offset locate layer l. */
double *mlp_params (mlp *net);
size_t mlp_param_count (const mlp *net);
size_t mlp_weight_offset (const mlp *net, size_t layer);
size_t mlp_bias_offset (const mlp *net, size_t layer);

/* Glorot-uniform weights and small uniform biases from SEED (MT19937):
 * the same seed gives the same bits. */
void mlp_init (mlp *net, unsigned long seed);

/* The number of parameters TRAINABLE lets change: the dimension that the
 * accounting (lap2's n) and the noise see.  0 for an unknown mode. */
size_t mlp_trainable_count (const mlp_shape *shape, mlp_trainable trainable);
/* 1 where parameter P may change, else 0. */
int mlp_is_trainable (const mlp *net, mlp_trainable trainable, size_t p);

/* Whether layer LAYER's norm is computed by the ghost formula under
 * METHOD: for mixed, ghost costs about T^2 (d_in + d_out) and
 * materialising T d_in d_out operations, and the cheaper wins (ties go
 * to ghost, which needs no d_in x d_out buffer).  Layers after the first
 * see one token. */
int mlp_layer_uses_ghost (const mlp_shape *shape, size_t layer,
                          mlp_norm_method method);

int mlp_workspace_alloc (const mlp *net, mlp_workspace **out);
void mlp_workspace_free (mlp_workspace *ws);

/* Forward and backward pass for one example (X: T * width[0] features,
 * label Y): keeps each layer's input activations and output gradients in
 * WS for the norm and the accumulation below.  Returns the cross-entropy,
 * NaN for a label out of range. */
double mlp_example_backward (const mlp *net, mlp_workspace *ws,
                             const float *x, unsigned y);
/* The cross-entropy alone (forward only). */
double mlp_example_loss (const mlp *net, mlp_workspace *ws, const float *x,
                         unsigned y);

/* The squared Frobenius norm of sum_t g_t a_t^T for T tokens with
 * inputs A (T x DIN) and output gradients G (T x DOUT): by the ghost
 * formula, and by forming the matrix in BUFFER (DIN x DOUT doubles). */
double mlp_ghost_norm2 (size_t T, size_t din, size_t dout, const double *a,
                        const double *g);
double mlp_materialised_norm2 (size_t T, size_t din, size_t dout,
                               const double *a, const double *g,
                               double *buffer);

/* The squared norm of layer LAYER's part of the last example's gradient
 * that TRAINABLE lets change, by the ghost formula or by materialising. */
double mlp_layer_norm2 (const mlp *net, mlp_workspace *ws, size_t layer,
                        mlp_trainable trainable, int ghost);
/* The norm of the last example's trainable gradient under METHOD. */
double mlp_example_norm (const mlp *net, mlp_workspace *ws,
                         mlp_trainable trainable, mlp_norm_method method);
/* SUM += SCALE * the last example's gradient, trainable parts only. */
void mlp_example_accumulate (const mlp *net, mlp_workspace *ws,
                             mlp_trainable trainable, double scale,
                             double *sum);

/* One DP-SGD step. */
typedef struct {
  mlp_trainable trainable;
  mlp_norm_method norm_method;
  dpacct_clipping clipping; /* flat at clip, normalised, automatic */
  double clip, gamma;
  dpacct_noise_kind noise;  /* Gaussian or Laplace */
  double sigma;             /* Gaussian: noise multiplier (std / S) */
  double laplace_scale;     /* Laplace: b */
  double q;                 /* Poisson sampling rate */
  double expected_batch;    /* divisor: q N, data-independent */
  double learning_rate;
  /* Each sampled example's norm, label, kept weight and whether it was
   * clipped go here too (NULL: nowhere). */
  epoch_stats *diagnostics;
  /* Each noise draw z on parameter p adds z / S to ACCUMULATED_NOISE[p]
   * (mlp_param_count doubles; NULL: not kept), S the sensitivity: the
   * noise summed over the run in units of the clip. */
  double *accumulated_noise;
  /* For tests: called with each sampled example's norm and label. */
  void (*observe) (double norm, unsigned y, void *context);
  void *observe_context;
  /* For the audit (audit.c): the deliberately broken variants, and a
   * canary example (CANARY_X: T * width[0] features, NULL: none) which,
   * when CANARY_IN, is Poisson-sampled after the N examples like one of
   * them; *CANARY_STATISTIC += the released noisy sum (the trainable
   * coordinates) projected on the canary's gradient direction at the
   * step's model; CANARY_GRAD: mlp_param_count doubles of scratch. */
  train_fault fault;
  const float *canary_x;
  unsigned canary_y;
  int canary_in;
  double *canary_statistic, *canary_grad;
} mlp_dp_step_options;

typedef struct {
  size_t batch;        /* examples sampled */
  size_t clipped;      /* of which had norm above the clip */
  double norm_sum;     /* sum of their norms before clipping */
  double noise_sumsq;  /* sum of the squared noise draws */
  /* Per label: examples sampled, and the sum of the weight each kept
   * after clipping relative to a tiny gradient (flat and normalised:
   * min(1, C/||g||); automatic: gamma / (||g|| + gamma)). */
  size_t class_seen[DPACCT_MAX_CLASSES];
  double class_weight[DPACCT_MAX_CLASSES];
} mlp_dp_step_stats;

/* Poisson-samples the N examples (X row-major, T * width[0] features
 * each) with SAMPLING, clips each sampled example's trainable gradient,
 * adds noise from NOISE to every trainable coordinate of the sum (std
 * sigma S, S = clip for flat clipping, 1 for normalised and automatic;
 * or Laplace(b)), divides by the expected batch size and takes an SGD
 * step on the trainable parameters only.  GRAD: mlp_param_count
 * doubles of scratch. */
int mlp_dp_step (mlp *net, mlp_workspace *ws, const float *x,
                 const unsigned char *y, size_t n,
                 const mlp_dp_step_options *options, gsl_rng *sampling,
                 gsl_rng *noise, double *grad, mlp_dp_step_stats *stats);

/* Readies WS for mlp_predict_block with NET's present parameters: call
 * it again after any change to them. */
void mlp_prepare_blocks (const mlp *net, mlp_workspace *ws);

/* The predicted class and the cross-entropy of the COUNT (<= MLP_BLOCK)
 * examples FIRST, FIRST + 1, ... of X, Y, computed together (after
 * mlp_prepare_blocks).
 * DPACCT_EDOM for a label out of range or too many examples. */
int mlp_predict_block (const mlp *net, mlp_workspace *ws, const float *x,
                       const unsigned char *y, size_t first, size_t count,
                       unsigned *predicted, double *loss);

/* The class with the largest logit for one example. */
unsigned mlp_predict (const mlp *net, mlp_workspace *ws, const float *x);

/* Non-private pretraining: EPOCHS passes of minibatch SGD (BATCH
 * examples, learning rate LR) over the examples in an order shuffled
 * from SEED; every parameter trains.  Deterministic for a seed. */
int mlp_pretrain (mlp *net, mlp_workspace *ws, const float *x,
                  const unsigned char *y, size_t n, size_t epochs, size_t batch,
                  double lr, unsigned long seed);

/* A private fine-tuning run of a one-hidden-layer MLP
 * (dim / tokens -> hidden, shared over the tokens, -> classes). */
typedef struct {
  size_t hidden;               /* hidden units */
  size_t tokens;               /* T; must divide the data's dimension */
  mlp_trainable trainable;
  mlp_norm_method norm_method;
  unsigned long init_seed;
  /* Non-private pretraining on PUBLIC_DATA first (NULL: none). */
  const dpacct_dataset *public_data;
  size_t pretrain_epochs, pretrain_batch;
  double pretrain_learning_rate;
  /* For tests: called with each sampled example's step, norm before
   * clipping and label (NULL: not called). */
  void (*observe_norm) (uint64_t step, double norm, unsigned y,
                        void *context);
  void *observe_context;
  /* For the audit: as in train_hook (train_internal.h), the fault, the
   * canary and the statistic (out); SKIP_EVALUATION: no test or
   * training loss. */
  train_fault fault;
  const float *canary_x;
  unsigned canary_y;
  int canary_in, skip_evaluation;
  double statistic;
  /* out: bit l set where layer l's norm used the ghost formula. */
  unsigned ghost_layers;
} mlp_run_options;

/* DP-SGD on the MLP with the trainer's options O (SGD without momentum:
 * O's optimizer and momentum are not used): sigma from O's accountant
 * for (epsilon, delta) unless a noise multiplier is given, or Laplace
 * with b from lap2 whose dimension is the trainable parameter count.
 * REPORT: steps, q, sigma, b, epsilon_upper, sensitivity, batch sizes,
 * clip fraction, n_parameters = the trainable count (the accounting
 * dimension), per-step and accumulated noise (over the trainable
 * coordinates), per-class figures, test accuracy and loss, train loss,
 * time. */
int mlp_train_run (const dpacct_dataset *private_data,
                   const dpacct_dataset *test_data,
                   const dpacct_train_options *o, mlp_run_options *run,
                   dpacct_train_report *report);

#endif
