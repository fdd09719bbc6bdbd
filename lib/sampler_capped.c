/* sampler_capped.c - Poisson batches capped at a largest size B_max.
 *
 * Theorem (coupling).  Run the capped and the uncapped mechanism on the
 * same randomness; their transcripts differ only if some step's Poisson
 * batch exceeds B_max, so for every dataset the total variation between
 * them is at most beta = steps Pr[Binomial(n, q) > B_max] (a union bound
 * over the steps; n the larger dataset's size).  For any event S,
 * P_c(S) - e^eps Q_c(S) <= P(S) + beta - e^eps (Q(S) - beta), hence
 *   delta_capped(eps) <= delta(eps) + (1 + e^eps) beta,
 * and the same argument from the other side gives
 *   delta_capped(eps) >= delta(eps) - (1 + e^eps) beta.
 * The constant is the one of the total-variation coupling (e.g. the
 * truncated-Poisson bound of Chua et al., "Scalable DP-SGD: Shuffling vs.
 * Poisson Subsampling", 2024); see dpacct(1) for the source check. */
#include "dpacct/sampler.h"
#include "internal.h"
#include "logmath.h"

#include <math.h>
#include <gsl/gsl_cdf.h>

/* lgamma's absolute error grows with its argument (about 1e-16 of
 * n log n); a relative margin covers it, which only raises beta. */
#define LOG_PMF_MARGIN(n) (1e-15 * (double) (n) * log ((double) (n) + 2.0) + 1e-12)

static double
log_pmf (uint64_t n, double q, uint64_t k)
{
  return lgamma ((double) n + 1.0) - lgamma ((double) k + 1.0)
         - lgamma ((double) (n - k) + 1.0) + (double) k * log (q)
         + (double) (n - k) * log1p (-q);
}

int
dpacct_capped_poisson_log_excess (uint64_t n, double q, uint64_t max_batch,
                                  uint64_t steps, double *log_excess)
{
  *log_excess = NAN;
  if (n < 1 || !(q > 0.0) || !(q <= 1.0) || max_batch < 1 || steps < 1)
    return DPACCT_FAIL (DPACCT_EDOM, "n >= 1, q in (0, 1], B_max >= 1, "
                                     "steps >= 1");
  if (max_batch >= n)
    {
      *log_excess = -INFINITY;
      return DPACCT_OK;
    }
  if (q == 1.0)
    {
      *log_excess = log ((double) steps);
      return DPACCT_OK;
    }
  double lt;
  uint64_t k = max_batch + 1;
  if ((double) k <= (double) n * q + 1.0)
    {
      /* Not a far tail: GSL's upper tail is accurate here. */
      double t = gsl_cdf_binomial_Q ((unsigned) max_batch, q, (unsigned) n);
      lt = n <= 4000000000u ? log (fmin (t * (1.0 + 1e-10), 1.0)) : 0.0;
    }
  else
    {
      /* Sum pmf(k) upward; the ratio of successive terms,
       * (n - j) q / ((j + 1)(1 - q)), falls, so once it is below 1 the rest
       * is at most a geometric series. */
      double l0 = log_pmf (n, q, k), sum = 1.0, term = 1.0;
      uint64_t j = k;
      for (; j < n; j++)
        {
          double r = (double) (n - j) * q / ((double) (j + 1) * (1.0 - q));
          term *= r;
          sum += term;
          if (term < 1e-17 * sum)
            {
              double r_next = (double) (n - j - 1) * q
                              / ((double) (j + 2) * (1.0 - q));
              sum += term * r_next / (1.0 - r_next);
              break;
            }
        }
      lt = l0 + log (sum) + LOG_PMF_MARGIN (n);
      lt = fmin (lt, 0.0);
    }
  *log_excess = lt + log ((double) steps);
  return DPACCT_OK;
}

static void
bound_init (dpacct_bound *out)
{
  out->lower = out->upper = NAN;
  out->certified = 0;
  out->order = NAN;
  out->order_at_edge = 0;
}

int
dpacct_capped_poisson_delta (const dpacct_accountant *uncapped,
                             double log_excess, double epsilon,
                             dpacct_bound *out)
{
  bound_init (out);
  if (isnan (log_excess))
    return DPACCT_FAIL (DPACCT_EDOM, "log_excess is NaN");
  dpacct_bound b;
  int status = dpacct_accountant_delta (uncapped, epsilon, &b);
  if (status != DPACCT_OK)
    return status;
  double extra = exp (dpacct_log1p_exp (epsilon) + log_excess);
  *out = b;
  out->upper = fmin (b.upper + extra, 1.0);
  out->lower = isnan (b.lower) ? NAN : fmax (b.lower - extra, 0.0);
  return DPACCT_OK;
}

int
dpacct_capped_poisson_epsilon (const dpacct_accountant *uncapped,
                               double log_excess, double delta,
                               dpacct_bound *out)
{
  bound_init (out);
  if (isnan (log_excess))
    return DPACCT_FAIL (DPACCT_EDOM, "log_excess is NaN");
  dpacct_bound b;
  if (log_excess == -INFINITY)
    {
      int status = dpacct_accountant_epsilon (uncapped, delta, &b);
      if (status == DPACCT_OK)
        *out = b;
      return status;
    }
  if (!(delta > 0.0) || !(delta < 1.0))
    return DPACCT_FAIL (DPACCT_EDOM, "delta must be in (0, 1)");
  /* Common case, one query: the cap costs at most a fraction SLACK of
   * delta.  Upper: eps_u at delta' = (1 - SLACK) delta, valid when
   * (1 + e^eps) beta <= SLACK delta there.  Lower: eps_l at delta'' =
   * (1 + SLACK) delta, valid since then delta'' >= delta + (1 + e^eps) beta
   * at every eps up to the upper end (see below). */
  const double slack = 1e-3;
  /* One query for both (the upper side at delta', the lower at delta''):
   * the price of the uncapped bound alone where the accountant shares
   * the composition (PLD). */
  double d_upper = delta * (1.0 - slack), d_lower = delta * (1.0 + slack);
  int lower_trivial = !(d_lower < 1.0); /* then 0 is all that is proved */
  int status = dpacct_accountant_epsilon_split (
      uncapped, d_upper, lower_trivial ? d_upper : d_lower, &b);
  if (status != DPACCT_OK)
    return status;
  double upper = INFINITY;
  if (exp (dpacct_log1p_exp (b.upper) + log_excess) <= slack * delta)
    {
      *out = b;
      if (lower_trivial && !isnan (out->lower))
        out->lower = 0.0;
      if (!isnan (out->lower) && out->lower > out->upper)
        out->lower = out->upper;
      return DPACCT_OK;
    }
  /* (b.lower, at delta'', only tells below whether there is a lower side.) */
  /* Otherwise: eps_u(delta') at delta' = delta - (1 + e^g) beta, for a
   * guess g, is valid once the answer is at most g (then delta_u +
   * (1 + e^eps) beta <= delta); g starts at the answer above plus one. */
  double uncapped_lower = b.lower, guess = b.upper + 1.0;
  for (int i = 0; i < 8 && isfinite (guess); i++)
    {
      double d = delta - exp (dpacct_log1p_exp (guess) + log_excess);
      if (!(d > 0.0))
        break;
      dpacct_bound c;
      status = dpacct_accountant_epsilon (uncapped, d, &c);
      if (status != DPACCT_OK)
        return status;
      if (c.upper <= guess)
        {
          upper = c.upper;
          if (isnan (uncapped_lower))
            break;
          /* Lower: eps_l(delta'') at delta'' = delta + (1 + e^upper) beta:
           * there delta_capped >= delta_lower - (1 + e^eps) beta > delta. */
          double dd = delta + exp (dpacct_log1p_exp (upper) + log_excess);
          if (dd < 1.0)
            {
              status = dpacct_accountant_epsilon (uncapped, dd, &c);
              if (status != DPACCT_OK)
                return status;
              out->lower = c.lower;
            }
          else
            out->lower = 0.0;
          break;
        }
      guess = c.upper + 1.0;
    }
  out->upper = upper;
  if (upper == INFINITY && !isnan (uncapped_lower))
    out->lower = 0.0; /* the cap may cost everything: nothing better proved */
  if (!isnan (out->lower) && out->lower > upper)
    out->lower = upper;
  return DPACCT_OK;
}
