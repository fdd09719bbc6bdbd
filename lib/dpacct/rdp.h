/* dpacct/rdp.h - Renyi DP of single mechanisms, and its conversion to
 * (epsilon, delta).
 *
 * The RDP accountant (dpacct_accountant_rdp) is built from these; they are
 * public so that users and tests can inspect one order at a time. */
#ifndef DPACCT_RDP_H
#define DPACCT_RDP_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The default order grid, 139 orders: from 1.02 in steps of 0.05 to 0.1
 * below 2, quarter steps to 12, half steps to 20, integers to 64, then
 * sparser to 4096.  With it the accountant minimises over real orders:
 * from the grid's best order, by Brent's method, going past the grid's
 * ends as far as the range below when the optimum lies there (it flags an
 * optimum at the range's end).  A list of orders given instead restricts
 * the search to that list. */
void dpacct_rdp_default_orders (const double **orders, size_t *n);

/* The range of real orders the accountant searches by default. */
#define DPACCT_RDP_MIN_SEARCH_ORDER 1.001
#define DPACCT_RDP_MAX_SEARCH_ORDER 1e6

/* Gaussian mechanism, sensitivity 1: alpha / (2 sigma^2).  alpha > 1. */
int dpacct_rdp_gaussian (double sigma, double alpha, double *rdp);

/* Laplace mechanism, scale b, sensitivity 1 (Mironov 2017, Prop. 6). */
int dpacct_rdp_laplace (double b, double alpha, double *rdp);

/* Poisson-subsampled Gaussian (Mironov, Talwar, Zhang 2019), add/remove:
 * log A_alpha, with rdp = log A_alpha / (alpha - 1).  Integer orders by an
 * exact sum of positive terms; other orders by quadrature of a positive
 * integrand.  Both compute A_alpha - 1 directly, so tiny q keeps its digits.
 * q in [0, 1], sigma > 0, alpha > 1. */
int dpacct_rdp_sampled_gaussian_log_a (double q, double sigma, double alpha,
                                       double *log_a);
int dpacct_rdp_sampled_gaussian (double q, double sigma, double alpha,
                                 double *rdp);

/* An enclosure lo <= log A_alpha <= hi of the subsampled Gaussian, computed
 * with MPFR at `precision` bits and outward rounding.  Integer alpha >= 2
 * only (DPACCT_EUNSUP otherwise). */
int dpacct_rdp_sampled_gaussian_log_a_enclose (double q, double sigma,
                                               double alpha, long precision,
                                               double *lo, double *hi);

/* Poisson-subsampled mechanism with RDP `base(j)` at integer orders j
 * (Zhu and Wang 2019, Thm 6): an upper bound at integer alpha >= 2.
 * base_rdp[j] for j = 2..alpha must be given (index 0 and 1 unused). */
int dpacct_rdp_poisson_general (double q, const double *base_rdp,
                                double alpha, double *rdp);

/* Sampling without replacement, replace-one (Wang, Balle, Kasiviswanathan
 * 2019, Thm 9): upper bound at integer alpha >= 2, from the base
 * mechanism's RDP base_rdp[j], j = 2..alpha, and its pure-DP epsilon
 * eps_inf (+Inf if none). */
int dpacct_rdp_without_replacement_general (double q, const double *base_rdp,
                                            double eps_inf, double alpha,
                                            double *rdp);

/* (epsilon, delta) from RDP curves (Canonne, Kamath, Steinke 2020,
 * Prop. 12; Balle et al. 2020, Thm 21): the minimum over orders of
 *   rdp(a) + log((a-1)/a) - (log delta + log a) / (a - 1),
 * clamped at 0.  *index receives the index of the minimising order. */
int dpacct_rdp_epsilon (const double *orders, const double *rdp, size_t n,
                        double delta, double *epsilon, size_t *index);
/* The inverse: the smallest delta over orders for which the same
 * conversion gives epsilon, capped at 1. */
int dpacct_rdp_delta (const double *orders, const double *rdp, size_t n,
                      double epsilon, double *delta, size_t *index);

#ifdef __cplusplus
}
#endif
#endif
