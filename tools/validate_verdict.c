/* validate_verdict.c - pass, fail or inconclusive, against the spread
 * across seeds: a quick grid must not call noise a failure. */
#include <config.h>

#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_cdf.h>

#include "validate_verdict.h"

const char *
validate_verdict_name (validate_verdict verdict)
{
  switch (verdict)
    {
    case VERDICT_PASS:
      return "pass";
    case VERDICT_FAIL:
      return "fail";
    default:
      return "inconclusive";
    }
}

validate_verdict
validate_verdict_greater (double difference, double spread)
{
  if (isnan (difference) || isnan (spread))
    return VERDICT_INCONCLUSIVE;
  if (difference > spread)
    return VERDICT_PASS;
  if (difference < -spread)
    return VERDICT_FAIL;
  return VERDICT_INCONCLUSIVE;
}

validate_verdict
validate_verdict_within (double difference, double tolerance, double spread)
{
  if (isnan (difference) || isnan (tolerance) || isnan (spread))
    return VERDICT_INCONCLUSIVE;
  double gap = fabs (difference) - tolerance;
  if (gap <= 0)
    return VERDICT_PASS;
  return gap > spread ? VERDICT_FAIL : VERDICT_INCONCLUSIVE;
}

validate_verdict
validate_verdict_and (validate_verdict a, validate_verdict b)
{
  if (a == VERDICT_FAIL || b == VERDICT_FAIL)
    return VERDICT_FAIL;
  if (a == VERDICT_PASS && b == VERDICT_PASS)
    return VERDICT_PASS;
  return VERDICT_INCONCLUSIVE;
}

validate_verdict
validate_verdict_tuned (validate_verdict verdict, size_t n_rates)
{
  return n_rates >= VALIDATE_MIN_RATES ? verdict : VERDICT_INCONCLUSIVE;
}

validate_pooled
validate_pooled_sd (const double *values, const size_t *group, size_t n)
{
  /* Two passes per group: the mean, then the squared deviations.  The
   * groups are small and few, so the quadratic scan is fine. */
  double ss = 0;
  size_t df = 0;
  for (size_t i = 0; i < n; i++)
    {
      int first = 1;
      for (size_t k = 0; k < i; k++)
        if (group[k] == group[i])
          first = 0;
      if (!first)
        continue;
      double sum = 0;
      size_t m = 0;
      for (size_t k = i; k < n; k++)
        if (group[k] == group[i])
          sum += values[k], m++;
      double mean = sum / (double) m;
      for (size_t k = i; k < n; k++)
        if (group[k] == group[i])
          ss += (values[k] - mean) * (values[k] - mean);
      df += m - 1;
    }
  validate_pooled p = { df ? sqrt (ss / (double) df) : NAN, df };
  return p;
}

double
validate_spread (validate_pooled p, size_t na, size_t nb)
{
  if (isnan (p.sd) || p.df == 0 || na == 0 || nb == 0)
    return NAN;
  return gsl_cdf_tdist_Pinv (0.975, (double) p.df) * p.sd
         * sqrt (1.0 / (double) na + 1.0 / (double) nb);
}

double
validate_spread_t (double sd, size_t n)
{
  if (isnan (sd) || n < 2)
    return NAN;
  return gsl_cdf_tdist_Pinv (0.975, (double) (n - 1)) * sd / sqrt ((double) n);
}
