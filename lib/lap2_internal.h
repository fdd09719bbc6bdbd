/* lap2_internal.h - the Lap2 moments at many orders at once, shared by
 * the public functions (lap2_moment.c) and the accountants
 * (lap2_accountant.c); not installed. */
#ifndef DPACCT_LAP2_INTERNAL_H
#define DPACCT_LAP2_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* log(F(t, eta) - 1) for eta >= 2 and t > 0, without cancellation. */
double dpacct_lap2_log_f_minus_one (double t, unsigned eta);

/* Per-step moments at orders lo..hi into alpha[0..hi-lo] (alpha[k] is
 * order lo + k).  1 <= lo <= hi <= DPACCT_LAP2_MAX_ORDER; arguments are
 * not checked here.  Return DPACCT_OK or DPACCT_ENOMEM. */
int dpacct_lap2_joint_curve (double rho, uint64_t n, double zeta,
                             unsigned lo, unsigned hi, double *alpha);
int dpacct_lap2_paper_curve (double rho, uint64_t n, double zeta,
                             int upper_tail, unsigned lo, unsigned hi,
                             double *alpha);

/* One kind of step of a Lap2 run: rho = C/b, the dimension, the Poisson
 * rate (1: unsampled) and how many times it runs. */
typedef struct
{
  double rho;
  uint64_t dimension;
  double q;
  uint64_t count;
} dpacct_lap2_leaf;

/* A lower bound on the epsilon at delta GIVEN (or, ASK_DELTA nonzero, on
 * the delta at epsilon GIVEN) of the composed leaves, from the PLD of the
 * sign statistic at the equal-spread gradient (lap2_lower.c); CENTRE is
 * where epsilon roughly lies.  *LOWER is NaN when no grid within
 * MAX_POINTS can hold it, or beyond about 3e10 dimensions. */
int dpacct_lap2_lower_bound (const dpacct_lap2_leaf *leaves, size_t n_leaves,
                             int ask_delta, double given, double centre,
                             size_t max_points, double *lower);

/* Indices summed exactly by the paper's formula before its tail. */
#define DPACCT_LAP2_PAPER_HEAD 128u

#endif
