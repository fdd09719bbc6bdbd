/* dpacct/lap2.h - moments of Laplace noise on L2-clipped gradients (Lap2).
 *
 * Poisson-subsampled Laplace with scale b on every coordinate of a sum of
 * gradients clipped to L2 norm C, add/remove neighbours.  Orders are
 * integers lambda >= 1 and a moment is alpha(lambda) = lambda D_{lambda+1}
 * (Renyi).  The accountants dpacct_accountant_lap2 and
 * dpacct_accountant_lap2_paper are built from these. */
#ifndef DPACCT_LAP2_H
#define DPACCT_LAP2_H

#include <stdint.h>

#include "accountant.h"
#include "calibrate.h"
#include "event.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest order the functions and accountants accept. */
#define DPACCT_LAP2_MAX_ORDER 10000u

/* log F(t, eta), F = [eta e^((eta-1)t) + (eta-1) e^(-eta t)] / (2 eta - 1):
 * the eta-th moment of the likelihood ratio of Laplace shifted by t = s/b
 * (Mironov 2017).  t >= 0 finite, eta in [0, DPACCT_LAP2_MAX_ORDER + 1]. */
int dpacct_lap2_log_f (double t, unsigned eta, double *log_f);

/* One coordinate of sensitivity s = t b, sampled at rate zeta in [0, 1]:
 * alpha_1 = log sum_eta binom(lambda+1, eta) (1-zeta)^(lambda+1-eta)
 * zeta^eta F(t, eta).  About 1e-12 relative for t in [1e-8, 30],
 * zeta in [1e-6, 1], lambda in [1, 5000]. */
int dpacct_lap2_alpha1 (unsigned lambda, double t, double zeta,
                        double *alpha);

/* The sound per-step moment of the whole n-dimensional mechanism with
 * rho = C/b: the same sum with F(rho/sqrt(n), eta)^n, the exact worst case
 * over ||g||_2 <= C (attained at g = (C/sqrt(n))(1, ..., 1)). */
int dpacct_lap2_alpha_joint (unsigned lambda, double rho, uint64_t n,
                             double zeta, double *alpha);

/* The paper's per-step moment (Lap2, Thm III.7): sum over i = 1..n of
 * alpha_1(lambda; x_i / b), x_i = C / (sqrt(i) + sqrt(i-1)).  Exact for
 * n <= 128; beyond, the tail is a Gauss-Legendre integral over the
 * continuous index (about 1e-10 relative), or, with upper_tail nonzero,
 * each geometric block of indices charged at its first (largest) term, a
 * guaranteed upper bound on the sum.  Not a privacy bound when zeta < 1. */
int dpacct_lap2_alpha_paper (unsigned lambda, double rho, uint64_t n,
                             double zeta, int upper_tail, double *alpha);

/* Default largest orders of the two accountants. */
#define DPACCT_LAP2_DEFAULT_MAX_ORDER 2048u
#define DPACCT_LAP2_PAPER_DEFAULT_MAX_ORDER 512u

/* The event of a Lap2 DP-SGD run: `steps` Poisson-sampled steps (rate q in
 * (0, 1]) of Laplace noise with scale/clip b/C on `dimension` coordinates. */
int dpacct_lap2_event_alloc (double scale_over_clip, uint64_t dimension,
                             double q, uint64_t steps, dpacct_event **out);

/* The smallest Laplace scale b (to options->rel_tol; searched in
 * [noise_min, noise_max] times clip) whose epsilon upper bound at `delta`
 * under accountant TYPE is at most target_epsilon; result->noise is b. */
int dpacct_lap2_scale_for_epsilon (const dpacct_accountant_type *type,
                                   const dpacct_accountant_options *accountant,
                                   double clip, uint64_t dimension, double q,
                                   uint64_t steps, double target_epsilon,
                                   double delta,
                                   const dpacct_calibration_options *options,
                                   dpacct_calibration *result);

#ifdef __cplusplus
}
#endif
#endif
