/* dpacct/train.h - the reference DP-SGD trainer: data sets, frozen PCA
 * features, a softmax head trained with DP-SGD, and an empirical privacy
 * audit.
 *
 * The trainer exists to test the library's predictions on real data: the
 * noise it injects, the batch size that trains best, the clipping bound
 * that wins, and whether an audit finds more leakage than the accountant
 * allows.  It uses GSL's pseudo-random generators and floating-point
 * Gaussian or Laplace noise: fine for experiments, NOT for production DP,
 * which needs a cryptographic generator and floating-point-safe noise. */
#ifndef DPACCT_TRAIN_H
#define DPACCT_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "accountant.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ data sets */

enum { DPACCT_MAX_CLASSES = 256 };

/* N examples of DIM features (row-major, single precision) with labels in
 * [0, n_classes). */
typedef struct {
  size_t n, dim, n_classes;
  float *x;
  unsigned char *y;
} dpacct_dataset;

int dpacct_dataset_alloc (size_t n, size_t dim, size_t n_classes,
                          dpacct_dataset **out);
void dpacct_dataset_free (dpacct_dataset *data); /* NULL: no-op */

/* The examples [first, first + count) of DATA, copied. */
int dpacct_dataset_subset (const dpacct_dataset *data, size_t first,
                           size_t count, dpacct_dataset **out);

/* Reads a gzip-compressed (or plain) IDX image file and its label file, as
 * Fashion-MNIST ships them; pixels are scaled to [0, 1].  At most
 * MAX_EXAMPLES are read (0: all).  On failure ERROR (of ERROR_SIZE bytes)
 * names the file and the byte offset of the fault. */
int dpacct_dataset_read_idx (const char *images_path, const char *labels_path,
                             size_t max_examples, dpacct_dataset **out,
                             char *error, size_t error_size);

/* Reads the plain format for a user's own data: one example per line,
 * "label,x1,x2,...,xd" (comma or blanks between fields), the label an
 * integer in [0, 255], every line with the same d; blank lines and lines
 * starting with '#' are skipped.  Gzip-compressed files are read too.  On
 * failure ERROR names the file and the line. */
int dpacct_dataset_read_csv (const char *path, size_t max_examples,
                             dpacct_dataset **out, char *error,
                             size_t error_size);

/* The examples of DATA whose label is one of the COUNT labels in CLASSES,
 * copied in their order; the labels and n_classes are kept as they are,
 * so that a network pretrained on the subset has an output for every
 * class.  For a transfer split: pretrain in public on five of ten
 * classes, fine-tune in private on all ten.  DPACCT_EDOM when no example
 * is selected or a listed label is not below n_classes. */
int dpacct_dataset_select_classes (const dpacct_dataset *data,
                                   const unsigned *classes, size_t count,
                                   dpacct_dataset **out);

/* N examples of DIM features in N_CLASSES Gaussian clusters whose centres
 * lie SEPARATION apart (per-coordinate unit noise), from SEED. */
int dpacct_dataset_synthetic (size_t n, size_t dim, size_t n_classes,
                              double separation, unsigned long seed,
                              dpacct_dataset **out);

/* A 64-bit fingerprint of the examples and labels (FNV-1a). */
uint64_t dpacct_dataset_fingerprint (const dpacct_dataset *data);

/* ------------------------------------------------------------ features */

/* A frozen feature extractor: projection on the top K principal
 * components of a public set, standardised with that set's statistics. */
typedef struct dpacct_pca dpacct_pca;

/* Fits K components (1 <= K <= dim) to PUBLIC. */
int dpacct_pca_fit (const dpacct_dataset *public_data, size_t k,
                    dpacct_pca **out);
void dpacct_pca_free (dpacct_pca *pca);
size_t dpacct_pca_components (const dpacct_pca *pca);
/* The features of DATA (same dim as the fitted set). */
int dpacct_pca_transform (const dpacct_pca *pca, const dpacct_dataset *data,
                          dpacct_dataset **out);
/* As dpacct_pca_fit, but reuses DIR/pca-<fingerprint>-k<K>.bin when it is
 * there and valid, and writes it otherwise (DIR NULL: no cache).
 * *FROM_CACHE says which happened.  A cache that cannot be written is not
 * an error. */
int dpacct_pca_fit_cached (const dpacct_dataset *public_data, size_t k,
                           const char *dir, dpacct_pca **out,
                           int *from_cache, char *error, size_t error_size);

/* ------------------------------------------------------------ trainer */

typedef enum {
  DPACCT_CLIP_FLAT,       /* g * min(1, C/||g||); noise std sigma * C */
  DPACCT_CLIP_NORMALISED, /* g * min(1/C, 1/||g||); noise std sigma */
  DPACCT_CLIP_AUTOMATIC   /* g / (||g|| + gamma) (Bu et al.); std sigma */
} dpacct_clipping;

typedef enum { DPACCT_OPTIMIZER_SGD, DPACCT_OPTIMIZER_ADAM } dpacct_optimizer;

/* The noise added to every coordinate of the sum of clipped gradients. */
typedef enum {
  DPACCT_NOISE_GAUSSIAN, /* N(0, (sigma S)^2), sigma by the accountant */
  DPACCT_NOISE_LAPLACE   /* Laplace(0, b), b by the lap2 accountant (Lap2) */
} dpacct_noise_kind;

typedef struct {
  /* Privacy: sigma is calibrated for (epsilon, delta) by ACCOUNTANT (NULL:
   * RDP) unless NOISE_MULTIPLIER is set (> 0). */
  double epsilon, delta;
  const dpacct_accountant_type *accountant;
  double noise_multiplier;
  /* Gaussian (the default) or Laplace.  Laplace: the scale b is always
   * calibrated for (epsilon, delta), by dpacct_accountant_lap2 (ACCOUNTANT
   * must be NULL or lap2; NOISE_MULTIPLIER must be 0), with the head's
   * parameter count as the dimension and the sensitivity S below as the
   * clip. */
  dpacct_noise_kind noise;
  /* Poisson sampling at q = batch_size / N each step, for
   * dpacct_dpsgd_steps (N, batch_size, epochs) steps. */
  size_t batch_size;
  double epochs;
  double clip;          /* C */
  dpacct_clipping clipping;
  double gamma;         /* automatic clipping's stabiliser; 0.01 */
  dpacct_optimizer optimizer;
  double learning_rate;
  double momentum;      /* SGD; 0.9 */
  double beta1, beta2, adam_epsilon; /* Adam; 0.9, 0.999, 1e-8 */
  unsigned long sampling_seed, noise_seed;
  /* Called every few steps, or NULL. */
  void (*progress) (uint64_t step, uint64_t steps, void *context);
  void *progress_context;
  /* Nonzero: shuffled fixed-size batches instead of Poisson sampling: a
   * new permutation every epoch, cut into K = floor(N / batch_size)
   * batches (the rest of the epoch's permutation is dropped); whole
   * epochs only; Gaussian noise; sigma calibrated with the proved upper
   * bound of dpacct/sampler.h (zero-out neighbours).  Not for the audit. */
  int shuffle;
} dpacct_train_options;

void dpacct_train_options_init (dpacct_train_options *options);

/* Non-private diagnostics of one epoch (they read the private data and
 * are NOT released under the privacy guarantee): over the examples
 * sampled in the epoch's steps, the quantiles of their gradient norms
 * before clipping, the fraction clipped, and the weight each class kept.
 * Runs of more than DPACCT_MAX_EPOCH_RECORDS epochs group several epochs
 * into a record (see dpacct_train_report.epochs_per_record). */
#define DPACCT_MAX_EPOCH_RECORDS 32
#define DPACCT_NORM_QUANTILES 5
typedef struct {
  uint64_t first_step, steps; /* the steps [first_step, first_step+steps) */
  size_t sampled;             /* examples sampled in them */
  /* 10, 25, 50, 75 and 90 % quantiles of the per-example gradient norms
   * before clipping, exact: linear interpolation between order statistics
   * (the sorted norms v_0..v_{n-1} give v at position p (n - 1), as R's
   * type 7 and numpy's default).  NaN when nothing was sampled. */
  double norm_quantile[DPACCT_NORM_QUANTILES];
  double clip_fraction;       /* sampled examples with ||g|| > C */
  /* Per class, as dpacct_train_report.class_weight (NaN: none sampled). */
  double class_weight[DPACCT_MAX_CLASSES];
} dpacct_epoch_record;

/* The quantile levels of dpacct_epoch_record.norm_quantile. */
extern const double dpacct_norm_quantile_levels[DPACCT_NORM_QUANTILES];

typedef struct {
  uint64_t steps;
  /* sigma: the noise's std on the sum over S; for Laplace sqrt(2) b / S. */
  double q, sigma;
  dpacct_noise_kind noise;
  double laplace_scale;     /* b on each coordinate of the sum (NaN: Gauss) */
  double epsilon_upper;     /* the accountant's bound for sigma or b (NaN if
                               sigma was given) */
  double sensitivity;       /* S: C (flat) or 1, the L2 bound on one
                               example's clipped gradient */
  double batch_mean;        /* realised batch sizes */
  size_t batch_min, batch_max;
  double clip_fraction;     /* sampled examples with ||g|| > C */
  /* Per class, over the sampled examples: the mean weight an example keeps
   * after clipping, relative to one with a tiny gradient (flat and
   * normalised: min(1, C/||g||); automatic: gamma / (||g|| + gamma)). */
  size_t n_classes;
  double class_weight[DPACCT_MAX_CLASSES];
  double class_accuracy[DPACCT_MAX_CLASSES];
  size_t class_count[DPACCT_MAX_CLASSES]; /* test examples per class */
  double accuracy, loss;    /* on the test set (mean cross-entropy) */
  double train_loss;        /* on the private set, after training */
  /* Injected noise.  D parameters; z_t the noise added to step t's sum.
   * noise_std: empirical per-coordinate std of z_t / B (the noise on the
   * averaged gradient) over all steps, predicted sigma * S / B (for
   * Laplace sqrt(2) b / B);
   * accumulated_noise: empirical std over coordinates of sum_t z_t / S,
   * predicted sigma * sqrt(T).  The sums of squares allow pooling. */
  size_t n_parameters;
  double noise_std, noise_std_predicted, noise_sumsq;
  double accumulated_noise, accumulated_predicted, accumulated_sumsq;
  double seconds;           /* CPU time of the training loop */
  /* The MLP's mixed ghost clipping: bit l set when layer l's per-example
   * norms came from the ghost formula, clear when from the materialised
   * gradient (0 for the head). */
  unsigned ghost_layers;
  /* Non-private per-epoch diagnostics, in step order: record e covers
   * the steps t with floor(t R / T) = e for R = n_epoch_records =
   * min(ceil(epochs), DPACCT_MAX_EPOCH_RECORDS), so each spans about
   * epochs / R epochs (epochs_per_record). */
  size_t n_epoch_records;
  double epochs_per_record;
  dpacct_epoch_record epoch[DPACCT_MAX_EPOCH_RECORDS];
} dpacct_train_report;

/* Trains the head on PRIVATE_DATA and evaluates it on TEST_DATA (NULL:
 * no test metrics).  Both must have the same dim and classes. */
int dpacct_train_run (const dpacct_dataset *private_data,
                      const dpacct_dataset *test_data,
                      const dpacct_train_options *options,
                      dpacct_train_report *report);

/* ------------------------------------------------------------ MLP */

/* What private fine-tuning of the MLP may change. */
typedef enum {
  DPACCT_TRAINABLE_ALL,  /* full fine-tuning */
  DPACCT_TRAINABLE_BIAS, /* DP-BiTFiT: the biases of every layer */
  DPACCT_TRAINABLE_HEAD  /* linear probe: the last layer */
} dpacct_trainable;

typedef struct {
  size_t hidden;              /* hidden units; 256 */
  size_t tokens;              /* T tokens per example, sharing the first
                                 layer (must divide dim); 1 */
  dpacct_trainable trainable; /* all */
  unsigned long init_seed;    /* the network's initialisation; 1 */
  /* Public warm start: non-private minibatch SGD on PUBLIC_DATA (same
   * dim, labels below the private set's classes) before private
   * fine-tuning, every parameter trained, the examples reshuffled each
   * epoch from init_seed: deterministic for a seed.  NULL: none (the
   * network starts from its random initialisation).  A real transfer
   * pretrains on part of the classes (dpacct_dataset_select_classes). */
  const dpacct_dataset *public_data;  /* NULL */
  size_t pretrain_epochs;             /* 5; 0: no pretraining */
  size_t pretrain_batch;              /* 64 */
  double pretrain_learning_rate;      /* 0.1 */
} dpacct_mlp_options;

void dpacct_mlp_options_init (dpacct_mlp_options *options);

/* DP-SGD on a one-hidden-layer MLP (dim / T -> hidden -> classes, tanh,
 * biases in both layers) instead of the head, with per-example norms by
 * mixed ghost clipping.  OPTIONS as for dpacct_train_run except that the
 * optimiser is plain SGD (optimizer, momentum and Adam's settings are not
 * used).  The report's n_parameters is the trainable parameter count: the
 * accounting dimension (lap2's n for Laplace noise), and the
 * accumulated noise is over those trainable coordinates. */
int dpacct_train_mlp_run (const dpacct_dataset *private_data,
                          const dpacct_dataset *test_data,
                          const dpacct_train_options *options,
                          const dpacct_mlp_options *mlp,
                          dpacct_train_report *report);

/* ------------------------------------------------------------ audit */

/* Deliberately broken trainers, so that the audit can show it catches
 * them.  They exist only here. */
typedef enum {
  DPACCT_AUDIT_CORRECT,
  DPACCT_AUDIT_HALF_NOISE, /* adds half the calibrated noise */
  DPACCT_AUDIT_NO_CLIPPING /* does not clip (noise still sigma * C) */
} dpacct_audit_variant;

/* What the audit trains. */
typedef enum {
  DPACCT_MODEL_HEAD, /* the softmax head */
  DPACCT_MODEL_MLP   /* the MLP (dpacct_train_mlp_run), every parameter */
} dpacct_model;

typedef struct {
  dpacct_audit_variant variant;
  size_t pairs;          /* runs with and without the canary, each; 50000 */
  double epsilon, delta; /* the claim the noise is calibrated for; 2, 1e-5 */
  const dpacct_accountant_type *accountant; /* NULL: RDP */
  size_t dataset_size;   /* synthetic examples; 50 */
  size_t dim;            /* features; 4 (plus the canary's coordinate) */
  size_t n_classes;      /* 2 */
  size_t batch_size;     /* 0: full batch */
  uint64_t steps;        /* 4 */
  double clip;           /* 1 */
  double canary_scale;   /* the canary's value on its coordinate; 100 */
  double learning_rate;  /* 0.5 */
  double confidence;     /* two-sided Clopper-Pearson level; 0.95 */
  unsigned long seed;
  /* Nonzero: the trainer shuffles (dpacct_train_options.shuffle) under
   * zero-out: the canary's slot is always in the permutation, holding the
   * canary or an example that contributes nothing.  dataset_size + 1 must
   * be a multiple of batch_size, and steps of K = (dataset_size + 1) /
   * batch_size; the noise is calibrated with the proved upper bound. */
  int shuffle;
  /* DPACCT_MODEL_MLP: the runs train the MLP (dim + 1) -> hidden ->
   * classes, every parameter (full fine-tuning, plain SGD, Poisson
   * sampling only), and the statistic projects the released sums on the
   * canary's whole clipped gradient; the default is the head. */
  dpacct_model model;
  size_t hidden;         /* the MLP's hidden units; 8 */
} dpacct_audit_options;

void dpacct_audit_options_init (dpacct_audit_options *options);

typedef struct {
  double epsilon_lower;   /* the audit's lower bound on epsilon */
  double epsilon_claimed; /* the accountant's upper bound at sigma */
  double sigma, q;
  uint64_t steps;
  double threshold;       /* "in" above it; chosen on the first fifth */
  size_t n_evaluated;     /* pairs not used to choose the threshold */
  size_t false_positives, false_negatives;
  double fpr_upper, fnr_upper;
  /* Shuffled audits: the samplers' lower end at sigma, and what the
   * Poisson accountant would claim for the same q and steps (NaN
   * otherwise). */
  double epsilon_shuffle_lower, epsilon_poisson;
} dpacct_audit_result;

/* Runs 2 * PAIRS trainings on a small synthetic set with and without a
 * Dirac canary (an input coordinate no real example uses).  The statistic
 * is the released noisy gradient sums projected, step by step, on the
 * canary's own clipped gradient direction, summed over steps.  A fifth of
 * the pairs picks a threshold; on the others,
 * eps_lb = max(ln((1 - delta - FPR_ub) / FNR_ub),
 *              ln((1 - delta - FNR_ub) / FPR_ub))
 * with Clopper-Pearson upper bounds (0 if both are non-positive). */
int dpacct_audit_run (const dpacct_audit_options *options,
                      dpacct_audit_result *result);

/* The two-sided Clopper-Pearson interval at CONFIDENCE for K successes of
 * N trials (GSL beta quantiles). */
int dpacct_clopper_pearson (size_t k, size_t n, double confidence,
                            double *lower, double *upper);

#ifdef __cplusplus
}
#endif
#endif
