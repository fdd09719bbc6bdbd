/* sampler_balls_pld.c - balls-and-bins over E epochs: an upper bound from
 * a pessimistic PLD of the proved one-epoch pair, composed.
 *
 * The pair (Chua et al. 2025): one epoch is P = (1/K) sum_t N(e_t, s^2 I)
 * against Q = N(0, s^2 I) for "remove", the reverse for "add", and the
 * epochs are independent, so the run is the E-fold product of one pair
 * in one direction.
 *
 * Proof of the bound.  Let L be the privacy loss log(P/Q) under P and L~
 * any variable with P(L~ > s) >= P(L > s) for every s.  Then for every
 * real eps, delta(eps) = E[(1 - e^{eps - L})_+] <= E[(1 - e^{eps - L~})_+]
 * (the integrand increases with the loss), and E[e^{-L~}] <= E[e^{-L}] <=
 * 1, so L~ is the loss of a pair (P~, Q~) (Q~ = e^{-l} P~ at each loss l,
 * the rest of Q~ at loss -Inf) whose hockey-stick divergences are at
 * least (P, Q)'s at every eps, positive or not: (P, Q) is a
 * post-processing of (P~, Q~) (Blackwell), and so is the E-fold product
 * of the E-fold product, whose loss is the sum of E copies of L~.
 *
 * L~ here: on the loss grid t_i = i h, S(t) = P(L > t) bounded from above
 * at every t_i by the exact bracket of sampler_oracle.c ("L > t" is a sum
 * of K log-normal terms crossing a threshold), made non-increasing from
 * the top (S~_i = max(hi_i, S~_{i+1}) >= S(t_i)); mass 1 - S~_0 at t_0,
 * S~_{i-1} - S~_i at t_i, and S~_last at +Inf.  For s in [t_{i-1}, t_i),
 * P(L~ > s) = S~_{i-1} >= S(t_{i-1}) >= S(s), and likewise below t_0 and
 * above the last point: L~ dominates L as required. */
#include "sampler_internal.h"
#include "dpacct/sampler.h"
#include "internal.h"

#include <math.h>
#include <stdlib.h>

/* The loss grid and the bracket's accuracy (each of the K terms rounded
 * on a grid of BALLS_PLD_ACCURACY / K): each costs about that much of
 * the one-epoch loss, so E epochs about E times their sum.  Finer costs
 * more brackets, each dearer (K^2 / accuracy points). */
#define BALLS_PLD_H 0.02
#define BALLS_PLD_ACCURACY 1e-2
/* The grid ends: the top where the bracket's upper end of P(L > t) is
 * below this (its FFT error floor is about 3e-12), that mass going to
 * +Inf (E epochs add at most E times it to delta); the bottom where it is
 * above 1 minus this, lower losses rounded up to it. */
#define BALLS_PLD_TAIL 1e-10
enum { BALLS_PLD_MAX_THRESHOLDS = 4000 };

/* An upper bound on P(L > t) in one direction. */
static int
survival_above (double sigma, uint64_t k, int add, double t, size_t max_points,
                double *hi)
{
  double s2 = sigma * sigma, lk = log ((double) k);
  double eta = BALLS_PLD_ACCURACY / (double) k;
  sum_bracket b;
  int status;
  if (!add)
    {
      /* remove: L > t iff sum exp(x_t / s^2) > K e^{t + 1/(2 s^2)}, the
       * target's coordinate at mean 1 under P */
      sum_spec s = { SUM_LINEAR, sigma, t + 0.5 / s2 + lk, 1.0, 0.0, k };
      status = dpacct_sum_bracket (&s, eta, max_points, &b);
      *hi = b.above_hi;
    }
  else
    {
      /* add: P = N(0, s^2 I), and L > t iff the remove loss is below -t */
      sum_spec s = { SUM_LINEAR, sigma, -t + 0.5 / s2 + lk, 0.0, 0.0, k };
      status = dpacct_sum_bracket (&s, eta, max_points, &b);
      *hi = b.below_hi;
    }
  return status;
}

/* The pessimistic step of one direction. */
static int
pessimistic_step (double sigma, uint64_t k, int add, size_t max_points,
                  pld_step *out)
{
  out->mass = NULL;
  out->n = 0;
  double hi = 1.0;
  int status = DPACCT_OK;
  long top = 0, bottom = 0; /* in whole units of loss */
  for (; top < 200 && status == DPACCT_OK; top++)
    {
      status = survival_above (sigma, k, add, (double) top, max_points, &hi);
      if (hi <= BALLS_PLD_TAIL)
        break;
    }
  for (; bottom > -200 && status == DPACCT_OK; bottom--)
    {
      status = survival_above (sigma, k, add, (double) bottom, max_points,
                               &hi);
      if (hi >= 1.0 - BALLS_PLD_TAIL)
        break;
    }
  if (status != DPACCT_OK)
    return status;
  long first = (long) floor ((double) bottom / BALLS_PLD_H);
  long last = (long) ceil ((double) top / BALLS_PLD_H);
  size_t n = (size_t) (last - first + 1);
  if (n > BALLS_PLD_MAX_THRESHOLDS)
    return DPACCT_FAIL (DPACCT_ENOMEM, "balls-and-bins loss range too wide");
  double *s = malloc (n * sizeof *s);
  out->mass = malloc (n * sizeof *out->mass);
  if (s == NULL || out->mass == NULL)
    {
      free (s);
      dpacct_pld_step_release (out);
      return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate a PLD step");
    }
  for (size_t i = 0; i < n && status == DPACCT_OK; i++)
    status = survival_above (sigma, k, add,
                             (double) (first + (long) i) * BALLS_PLD_H,
                             max_points, &s[i]);
  if (status != DPACCT_OK)
    {
      free (s);
      dpacct_pld_step_release (out);
      return status;
    }
  /* non-increasing from the top, and at most 1 */
  s[n - 1] = fmin (s[n - 1], 1.0);
  for (size_t i = n - 1; i-- > 0;)
    s[i] = fmin (fmax (s[i], s[i + 1]), 1.0);
  out->mass[0] = 1.0 - s[0];
  for (size_t i = 1; i < n; i++)
    out->mass[i] = s[i - 1] - s[i];
  out->infinity = s[n - 1];
  out->h = BALLS_PLD_H;
  out->first = first;
  out->n = n;
  free (s);
  return DPACCT_OK;
}

int
dpacct_balls_pld_upper (double sigma, uint64_t k, uint64_t epochs,
                        int want_delta, double given, size_t max_points,
                        double *upper)
{
  *upper = NAN;
  if (!(sigma > 0.0) || k < 1 || epochs < 1)
    return DPACCT_FAIL (DPACCT_EDOM, "bad balls-and-bins run");
  double worst = 0.0;
  for (int add = 0; add < 2; add++)
    {
      pld_step step;
      int status = pessimistic_step (sigma, k, add, max_points, &step);
      if (status != DPACCT_OK)
        return status;
      pld_factor f = { &step, epochs };
      pld_composed c;
      status = dpacct_pld_compose (&f, 1, 0.0, max_points, NULL, &c);
      dpacct_pld_step_release (&step);
      if (status != DPACCT_OK)
        return status;
      double v = want_delta ? dpacct_pld_composed_delta (&c, given, PLD_UPPER)
                            : dpacct_pld_composed_epsilon (&c, given,
                                                           PLD_UPPER);
      dpacct_pld_composed_release (&c);
      if (isnan (v))
        return DPACCT_FAIL (DPACCT_ENUMERIC, "balls-and-bins PLD bound is NaN");
      worst = fmax (worst, v);
    }
  *upper = worst;
  return DPACCT_OK;
}
