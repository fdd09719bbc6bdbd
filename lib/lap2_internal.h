/* lap2_internal.h - the Lap2 moments at many orders at once, shared by
 * the public functions (lap2_moment.c) and the accountants
 * (lap2_accountant.c); not installed. */
#ifndef DPACCT_LAP2_INTERNAL_H
#define DPACCT_LAP2_INTERNAL_H

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

/* Indices summed exactly by the paper's formula before its tail. */
#define DPACCT_LAP2_PAPER_HEAD 128u

#endif
