/* k2_mpfr.h - the shuffle pair's two-batch probability by one-dimensional
 * quadrature in MPFR, an independent reference for the exact one-epoch
 * oracle (tests only). */
#ifndef DPACCT_TESTS_K2_MPFR_H
#define DPACCT_TESTS_K2_MPFR_H

/* P(g(x1) + g(x2) > 0) with g(x) = u^2 - u, u = exp(x / s^2 - c), x1 ~
 * N(mu1, s^2) and x2 ~ N(mu2, s^2) independent; *error is the change of
 * the last halving of the quadrature step (0 on success means every
 * piece had converged to the working precision).  NaN if the quadrature
 * did not converge. */
double k2_mpfr_probability (double s, double c, double mu1, double mu2,
                            double *error);

#endif
