/* rdp_internal.h - RDP helpers shared between modules and tests; not
 * installed. */
#ifndef DPACCT_RDP_INTERNAL_H
#define DPACCT_RDP_INTERNAL_H

#include <stddef.h>

/* Integer orders up to this use the exact binomial sum for the subsampled
 * Gaussian; larger and fractional ones use quadrature. */
#define DPACCT_RDP_MAX_SUM_ORDER 512

/* log(A_alpha - 1) of the subsampled Gaussian by quadrature, for any real
 * alpha > 1 and 0 < q < 1 (the tests compare it with the exact sum at
 * integer orders). */
int dpacct_log_a_minus_one_quadrature (double q, double sigma, double alpha,
                                       double *out);

/* The improved conversion at one order (rdp_convert.c): epsilon for a
 * delta, and delta for an epsilon (never underflowing to zero). */
double dpacct_rdp_epsilon_at_order (double alpha, double rdp, double delta);
double dpacct_rdp_delta_at_order (double alpha, double rdp, double epsilon);
/* The log of that delta, before it is capped or kept from underflowing:
 * smooth in alpha, for the search over orders. */
double dpacct_rdp_log_delta_at_order (double alpha, double rdp,
                                      double epsilon);

/* The subsampled-Gaussian RDP at many orders at once, sharing the tables
 * of the binomial sums; orders with skip[i] set are left NaN (skip may be
 * NULL). */
int dpacct_rdp_sampled_gaussian_batch (double q, double sigma,
                                       const double *orders, size_t n,
                                       const unsigned char *skip,
                                       double *rdp);

#endif
