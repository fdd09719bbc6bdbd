/* sampler_internal.h - the pieces of the sampler bounds; not installed.
 *
 * The normal distribution's log-CDF pieces, the max-coordinate
 * statistic's PLD, and the exact one-epoch bracket (the oracle). */
#ifndef DPACCT_SAMPLER_INTERNAL_H
#define DPACCT_SAMPLER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "pld_internal.h"

/* log Phi(x), accurate in both tails. */
double dpacct_log_phi (double x);
/* P(a < Z <= b) for a standard normal Z, without cancellation. */
double dpacct_normal_interval (double a, double b);

/* The max-coordinate statistic of K batch sums with noise sigma: under P
 * one coordinate (uniformly placed) has mean shift_p, under Q shift_q,
 * the other K - 1 mean 0; with probability 1 - keep (the target left out
 * of the epoch) all K have mean 0, under both.  log P(M <= m) and
 * log P(M > m). */
void dpacct_maxstat_log_cdf (double sigma, uint64_t k, double shift,
                             double keep, double m, double *log_cdf,
                             double *log_sf);

/* An optimistic PLD step of the max statistic (P against Q) on loss grid
 * h: the statistic binned into cells (a post-processing), each cell's
 * loss rounded down onto the grid, the highest losses merged down into the
 * grid's top point and the mass of the lowest (below e^-tail_log) dropped.
 * Its delta at every eps is at most the pair's. */
int dpacct_maxstat_step (double sigma, uint64_t k, double shift_p,
                         double shift_q, double keep, double h,
                         pld_step *out);

/* The sum of K independent terms Y_t = g(x_t), x_t ~ N(mu_t, sigma^2),
 * with u = exp(x / sigma^2 - c):
 *   quadratic: g = u^2 - u   (shuffle: loss > eps iff sum > 0)
 *   linear:    g = u - 1/K   (balls-and-bins: loss > eps iff sum > 0)
 * One term (the target's) has mean mu_target, the K - 1 others mu_other. */
typedef enum { SUM_QUADRATIC, SUM_LINEAR } sum_kind;
typedef struct
{
  sum_kind kind;
  double sigma, c;
  double mu_target, mu_other;
  uint64_t k;
} sum_spec;

/* Rigorous brackets of P(sum > 0) and P(sum < 0): each term rounded
 * down and up on a grid of step eta, the rounded sums composed exactly
 * (up to a bounded FFT error, which widens the brackets). */
typedef struct
{
  double above_lo, above_hi; /* P(sum > 0) */
  double below_lo, below_hi; /* P(sum < 0) */
} sum_bracket;

int dpacct_sum_bracket (const sum_spec *spec, double eta, size_t max_points,
                        sum_bracket *out);
/* The same for P(sum > tau) and P(sum < tau), tau >= 0. */
int dpacct_sum_bracket_at (const sum_spec *spec, double tau, double eta,
                           size_t max_points, sum_bracket *out);

/* The exact one-epoch pair of shuffling (P = (1/K) sum N(2 e_t, s^2 I)
 * against Q = (1/K) sum N(e_t, s^2 I)): a bracket [lo, hi] of its delta
 * at eps, on a term grid of step eta.  _mix: the pair when the target is
 * in the epoch's batches only with probability keep (the last partial
 * batch dropped), (1 - keep) N(0, s^2 I) + keep P against the same with
 * Q. */
int dpacct_shuffle_oracle_delta (double sigma, uint64_t k, double eps,
                                 double eta, size_t max_points, double *lo,
                                 double *hi);
int dpacct_shuffle_oracle_delta_mix (double sigma, uint64_t k, double keep,
                                     double eps, double eta,
                                     size_t max_points, double *lo,
                                     double *hi);

/* The one-epoch pair of balls-and-bins ((1/K) sum N(e_t, s^2 I) against
 * N(0, s^2 I)), both directions: a bracket of max(delta_remove,
 * delta_add) at eps. */
int dpacct_balls_oracle_delta (double sigma, uint64_t k, double eps,
                               double eta, size_t max_points, double *lo,
                               double *hi);

/* Balls-and-bins at E = 1: the exact pair's bracket [lo, hi] of epsilon
 * at delta (want_delta 0) or of delta at epsilon. */
int dpacct_balls_one_epoch (double sigma, uint64_t k, int want_delta,
                            double given, double accuracy, size_t max_points,
                            double *lo, double *hi);

/* Balls-and-bins over E epochs: an upper bound on epsilon at delta
 * (want_delta 0) or on delta at epsilon, from a pessimistic PLD of the
 * one-epoch pair (its loss's survival function bounded from above by the
 * exact bracket on a grid) composed E times, the larger direction.
 * DPACCT_ENOMEM where the grid or the composition is too large. */
int dpacct_balls_pld_upper (double sigma, uint64_t k, uint64_t epochs,
                            int want_delta, double given, size_t max_points,
                            double *upper);

#endif
