/* dpacct/sampler.h - bounds for the batches that data loaders really make:
 * shuffled fixed-size batches (a new permutation every epoch, or one
 * reused), balls-and-bins batches, sampling without replacement and
 * capped Poisson batches.  Each answer is a [lower, upper] pair; where no
 * upper bound is proved, upper is +Inf and the caller says why.
 *
 * The neighbouring relation is zero-out (one example replaced by one that
 * contributes nothing) unless a function says otherwise; noise
 * multipliers are in units of the clipping bound. */
#ifndef DPACCT_SAMPLER_H
#define DPACCT_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "accountant.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  DPACCT_SAMPLER_SHUFFLE,        /* a new permutation every epoch */
  DPACCT_SAMPLER_SHUFFLE_ONCE,   /* one permutation for every epoch */
  DPACCT_SAMPLER_BALLS_AND_BINS  /* each example to a uniform batch per epoch */
} dpacct_sampler;

/* A run of `epochs` passes, each cut into `batches` (K) batches, with
 * Gaussian noise of multiplier sigma on every batch sum. */
typedef struct {
  double sigma;
  uint64_t batches;
  uint64_t epochs;
} dpacct_epoch_run;

/* Largest K and E accepted. */
#define DPACCT_SAMPLER_MAX_BATCHES UINT64_C(100000000)
#define DPACCT_SAMPLER_MAX_EPOCHS UINT64_C(100000)
/* Balls-and-bins at one epoch is bracketed exactly up to this K. */
#define DPACCT_SAMPLER_BALLS_EXACT_MAX_K UINT64_C(16)

typedef struct {
  /* Loss-grid interval of the lower bound's PLD (default 1e-4; halved
   * until the composition fits max_points, doubled if it does not). */
  double pld_interval;
  size_t max_points;   /* default 2^22 */
  /* Accuracy of the one-epoch bracket (balls-and-bins): each of the K
   * terms is rounded on a grid of step accuracy / K (default 1e-3). */
  double bracket_accuracy;
  /* Shuffling only: the chance that an example is left out of an epoch,
   * in [0, 1) (default 0).  A loader that cuts N examples into batches of
   * B and drops the last partial batch runs K = floor(N/B) batches and
   * leaves out (N - K B) / N of the data, a new part every epoch
   * (shuffle) or the same part (shuffle-once).  The upper bound does not
   * change (an example is still in at most one batch per epoch); the
   * lower bound's pair is mixed with the left-out case.  Balls-and-bins
   * leaves nothing out: nonzero is DPACCT_EDOM there. */
  double dropped_fraction;
} dpacct_sampler_options;

void dpacct_sampler_options_init (dpacct_sampler_options *options);

/* epsilon at delta in (0, 1), and delta at epsilon >= 0 (finite).  upper
 * is proved for every sampler here (Gaussian at sigma / sqrt(E), exact;
 * for balls-and-bins with K <= 16, when smaller, the exact bracket at
 * E = 1 and the one-epoch pair's pessimistic PLD composed at E > 1); lower is
 * the max-coordinate statistic's PLD (composed over the epochs), and for
 * balls-and-bins at E = 1 and K <= 16 the exact bracket's lower end.
 * options may be NULL. */
int dpacct_sampler_epsilon (dpacct_sampler sampler, const dpacct_epoch_run *run,
                            double delta, const dpacct_sampler_options *options,
                            dpacct_bound *out);
int dpacct_sampler_delta (dpacct_sampler sampler, const dpacct_epoch_run *run,
                          double epsilon, const dpacct_sampler_options *options,
                          dpacct_bound *out);

/* The exact (epsilon, delta) curve of the Gaussian mechanism with noise
 * multiplier sigma and sensitivity 1 (Balle and Wang 2018): delta at
 * epsilon, and epsilon at delta rounded up (an upper bound). */
int dpacct_gaussian_exact_delta (double sigma, double epsilon, double *delta);
int dpacct_gaussian_exact_epsilon (double sigma, double delta,
                                   double *epsilon);

/* The smallest noise multiplier whose proved upper bound (the Gaussian at
 * sigma / sqrt(E)) is at most epsilon at delta, for every sampler here;
 * the answer's epsilon is verified. */
int dpacct_sampler_noise_for_epsilon (double epsilon, double delta,
                                      uint64_t epochs, double *sigma);

/* The one-epoch cube bound of shuffling: the largest coordinate of the
 * batch sums thresholded at one level, maximised over the level (Brent).
 * A lower bound on epsilon at delta. */
int dpacct_shuffle_cube_epsilon (double sigma, uint64_t batches, double delta,
                                 double *epsilon);

/* Sampling without replacement under replace-one: a lower bound on
 * epsilon (or delta) from the pair where the target flips from +1 to -1
 * and every other example contributes -1, which is `steps` Poisson
 * "remove" (and "add") steps at noise sigma/2 and rate q; the PLD
 * accountant's lower end (accountant options may be NULL). */
int dpacct_without_replacement_lower (double sigma, double q, uint64_t steps,
                                      int want_delta, double given,
                                      const dpacct_accountant_options *options,
                                      double *lower);

/* Capped Poisson batches: log(steps * Pr[Binomial(n, q) > max_batch]), the
 * total variation between the capped and the uncapped run (-Inf when
 * max_batch >= n). */
int dpacct_capped_poisson_log_excess (uint64_t n, double q,
                                      uint64_t max_batch, uint64_t steps,
                                      double *log_excess);
/* The capped run's bound from the uncapped run's (an accountant that has
 * composed it): delta_capped(eps) <= delta(eps) + (1 + e^eps) beta and
 * >= delta_lower(eps) - (1 + e^eps) beta, with beta = e^log_excess;
 * epsilon the same way, by bisection on these. */
int dpacct_capped_poisson_delta (const dpacct_accountant *uncapped,
                                 double log_excess, double epsilon,
                                 dpacct_bound *out);
int dpacct_capped_poisson_epsilon (const dpacct_accountant *uncapped,
                                   double log_excess, double delta,
                                   dpacct_bound *out);

#ifdef __cplusplus
}
#endif
#endif
