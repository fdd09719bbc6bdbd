/* dpacct/plan.h - cumulative-noise planning: which batch size to train with.
 *
 * For a privacy budget (epsilon, delta), a data set of N examples and a
 * compute budget of E epochs, each candidate batch size B gets its
 * calibrated noise multiplier and the quantities that predict how well the
 * run trains (cumulative noise sigma * sqrt(T), Rehn et al. 2025), beside
 * the per-step heuristics they replace; then a rule picks B. */
#ifndef DPACCT_PLAN_H
#define DPACCT_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "accountant.h"
#include "calibrate.h"
#include "event.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Defaults of the rule.  The plateau tolerance is a choice (within 10 % of
 * the best cumulative noise); 20 steps is the smallest useful number of
 * steps Rehn et al. observe for ViT-Tiny on CIFAR-100.  Set both for your
 * model: the paper gives no estimator for either. */
#define DPACCT_PLAN_DEFAULT_PLATEAU_TOLERANCE 0.1
#define DPACCT_PLAN_DEFAULT_MIN_STEPS UINT64_C(20)

/* What to plan for.  Initialise with dpacct_plan_options_init, then set
 * epsilon, dataset_size and epochs (and what else you need). */
typedef struct {
  double epsilon;        /* target epsilon, > 0 (required) */
  double delta;          /* in (0, 1); 1e-5 */
  uint64_t dataset_size; /* N >= 1 (required) */
  double epochs;         /* E > 0 (required) */
  const dpacct_accountant_type *accountant; /* dpacct_accountant_rdp */
  dpacct_accountant_options accountant_options;
  dpacct_calibration_options calibration;
  dpacct_sampling sampling;       /* Poisson or without replacement */
  double plateau_tolerance;       /* tau >= 0; 0.1 */
  uint64_t min_steps;             /* T_min >= 1; 20 */
  double clip;                    /* C > 0, for the per-step noise; 1 */
  uint64_t dimension;             /* d, for the noise's norm; 0: unknown */
  /* The phases already run (NULL: none, the default): each row's sigma is
   * then the noise of the planned phase such that the spent phases and it
   * together meet epsilon (the remaining budget); not copied. */
  const dpacct_event *spent;
} dpacct_plan_options;

void dpacct_plan_options_init (dpacct_plan_options *options);

/* One batch size.  Noise quantities are in units of the clipping bound C
 * except per_step_noise and per_step_noise_norm, which include C. */
typedef struct {
  uint64_t batch_size;      /* B */
  double sampling_rate;     /* q = B / N */
  uint64_t steps;           /* T = ceil(E N / B) (dpacct_dpsgd_steps) */
  double noise_multiplier;  /* sigma: conservative calibration */
  double epsilon_upper;     /* the epsilon upper bound sigma reaches */
  double cumulative_noise;  /* sigma * sqrt(T) */
  double per_step_noise;    /* sigma * C / B, per coordinate */
  double per_step_noise_norm; /* sigma * C * sqrt(d) / B; NaN without d */
  double effective_noise;   /* sigma / q (Li et al. 2022) */
  double total_noise;       /* TAN, sigma / (q sqrt(T)), no sqrt(2)
                               (Sander et al. 2023); = cumulative_noise / E
                               up to the rounding of T */
  double gdp_mu;            /* q sqrt(T (exp(1/sigma^2) - 1)), the CLT's mu
                               of this sigma (Bu, Dong et al. 2019) */
  double gdp_cumulative_noise; /* sigma * sqrt(T) that the CLT predicts:
                               sqrt(T / log(1 + mu*^2 / (q^2 T))) with mu*
                               the GDP mu meeting (epsilon, delta) */
  int on_plateau;           /* set by dpacct_plan_recommend */
} dpacct_plan_row;

/* Calibrates sigma for batch size B and fills ROW (on_plateau = 0).  On
 * failure the numbers of ROW are NaN. */
int dpacct_plan_row_compute (const dpacct_plan_options *options,
                             uint64_t batch_size, dpacct_plan_row *row);

typedef enum {
  DPACCT_PLAN_PLATEAU,  /* the smallest B on the plateau with T >= T_min */
  DPACCT_PLAN_MIN_STEPS /* no B on the plateau has T_min steps: B = floor(E N /
                         * T_min), the largest with T_min full batches */
} dpacct_plan_reason;

typedef struct {
  uint64_t batch_size;         /* the recommended B */
  size_t row;                  /* its index in the rows; n when absent */
  dpacct_plan_reason reason;
  double min_cumulative_noise; /* the plateau's floor over the rows */
  uint64_t min_batch_size;     /* the B attaining it */
  double plateau_bound;        /* (1 + tau) * min_cumulative_noise */
  uint64_t per_step_choice;    /* the B that minimises sigma * C / B */
  uint64_t effective_noise_choice; /* the B that minimises sigma / q */
} dpacct_plan_recommendation;

/* The rule: plateau(tau) = { B : sigma sqrt(T) <= (1 + tau) min }, and the
 * recommended B is the smallest B in plateau(tau) with T(B) >= T_min; when
 * there is none, B = floor(E N / T_min) (within [1, N]), the largest batch
 * with T_min steps, which need not be among the rows.  Sets on_plateau of
 * each of the N rows (n >= 1, any order, finite cumulative noise). */
int dpacct_plan_recommend (const dpacct_plan_options *options,
                           dpacct_plan_row *rows, size_t n,
                           dpacct_plan_recommendation *out);

/* The whole plan: a row per batch size (N_BATCH >= 1, each in [1, N]),
 * sorted by B with duplicates dropped, and the recommendation; when the
 * recommended B is not among them its row is added.  ROWS has room for
 * n_batch + 1; *N_ROWS says how many were filled. */
int dpacct_plan_compute (const dpacct_plan_options *options,
                         const uint64_t *batch_sizes, size_t n_batch,
                         dpacct_plan_row *rows, size_t *n_rows,
                         dpacct_plan_recommendation *out);

/* A geometric grid of batch sizes: first, 2 first, 4 first, ... below
 * last, then last (so "64:50000" gives 64, 128, ..., 32768, 50000).
 * 1 <= first <= last; *N is how many; DPACCT_ERANGE when more than
 * CAPACITY would be needed (nothing is written then beyond CAPACITY). */
int dpacct_plan_batch_grid (uint64_t first, uint64_t last, uint64_t *out,
                            size_t capacity, size_t *n);

/* The mu of mu-GDP that meets (epsilon, delta) exactly:
 * delta = Phi(-epsilon/mu + mu/2) - e^epsilon Phi(-epsilon/mu - mu/2). */
int dpacct_gdp_mu_for_epsilon (double epsilon, double delta, double *mu);

#ifdef __cplusplus
}
#endif
#endif
