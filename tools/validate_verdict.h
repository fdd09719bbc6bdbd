/* validate_verdict.h - the three-valued verdict of "dpacct validate" and
 * the seed spread it is measured against.  Pure functions: no I/O, no
 * state, so that they are tested on synthetic inputs
 * (tests/check_validate.c). */
#ifndef DPACCT_TOOL_VALIDATE_VERDICT_H
#define DPACCT_TOOL_VALIDATE_VERDICT_H

#include <stddef.h>

typedef enum {
  VERDICT_PASS,
  VERDICT_FAIL,
  VERDICT_INCONCLUSIVE /* the difference is within the seed spread */
} validate_verdict;

const char *validate_verdict_name (validate_verdict verdict);

/* The prediction "DIFFERENCE > 0": pass when DIFFERENCE > SPREAD, fail
 * when DIFFERENCE < -SPREAD, inconclusive otherwise, and whenever either
 * is NaN (no spread: one seed cannot tell noise from an effect). */
validate_verdict validate_verdict_greater (double difference, double spread);

/* The prediction "|DIFFERENCE| <= TOLERANCE": pass when it holds, fail
 * when |DIFFERENCE| exceeds TOLERANCE by more than SPREAD, inconclusive
 * in between and whenever an input is NaN. */
validate_verdict validate_verdict_within (double difference,
                                          double tolerance, double spread);

/* Both predictions of a check together: fail if either fails, pass if
 * both pass, inconclusive otherwise. */
validate_verdict validate_verdict_and (validate_verdict a,
                                       validate_verdict b);

/* A claim about the best of tuned configurations needs the learning rate
 * tuned: with fewer than VALIDATE_MIN_RATES rates in the grid, an
 * untuned rate, not the claim, may decide the comparison, so VERDICT
 * becomes inconclusive; otherwise it stands. */
enum { VALIDATE_MIN_RATES = 3 };
validate_verdict validate_verdict_tuned (validate_verdict verdict,
                                         size_t n_rates);

/* A per-seed standard deviation pooled within groups, and its degrees
 * of freedom (the values less the groups that have any). */
typedef struct
{
  double sd;
  size_t df;
} validate_pooled;

/* The pooled within-group standard deviation of VALUES (N of them, value
 * i in group GROUP[i]): sqrt(sum of squared deviations from the group
 * means / df), df = N - number of groups.  Groups of one value contribute
 * nothing.  sd NaN (df 0) when no group has two values. */
validate_pooled validate_pooled_sd (const double *values, const size_t *group,
                                    size_t n);

/* The spread of a difference of two means of NA and NB seeds each, from
 * the pooled per-seed deviation P: t P.sd sqrt(1/NA + 1/NB), t the
 * 97.5 % quantile of Student's t with P.df degrees (the sd is estimated
 * from the same few seeds, so 2 in place of t would call pure noise a
 * failure about 9 % of the time with 2 seeds a side).  A 95 % band; NaN
 * when P.sd is NaN, P.df is 0 or a count is 0. */
double validate_spread (validate_pooled p, size_t na, size_t nb);

/* The spread of a mean of N per-seed values with sample standard
 * deviation SD: t SD / sqrt(N), t the 97.5 % quantile of Student's t
 * with N - 1 degrees (12.7 for two seeds: two seeds decide little).  NaN
 * when N < 2 or SD is NaN. */
double validate_spread_t (double sd, size_t n);

#endif
