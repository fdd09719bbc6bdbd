/* slow_samplers.c - Monte Carlo checks of the samplers' exact one-epoch
 * brackets (`make check-samplers-slow`; too slow for `make check` and its
 * valgrind run).
 *
 * For the shuffle pair and the balls-and-bins pair at K = 5, 1e6 seeded
 * draws of the K batch sums estimate P(loss > eps) under each side of the
 * pair, the loss computed directly from the densities (log-sum-exp); each
 * estimate must lie within 4 standard errors of the oracle's bracket.  The
 * seed comes from DPACCT_TEST_SEED (default 12345) and is printed.
 *
 * At K = 2 the shuffle pair's P(loss > eps) under each side, and its
 * delta, are one-dimensional integrals, computed in MPFR
 * (tests/k2_mpfr.c) on a grid of nine (sigma, eps); each must lie in the
 * oracle's bracket (make check runs one of them).
 *
 * Balls-and-bins over two epochs: the composed pessimistic PLD's epsilon
 * must hold against a Monte Carlo of the pair's delta there. */
#include "k2_mpfr.h"
#include "sampler_internal.h"
#include "dpacct/sampler.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { K = 5, DRAWS = 1000000 };

/* log sum_t exp(a_t) */
static double
log_sum_exp (const double *a, int n)
{
  double top = a[0], s = 0.0;
  for (int i = 1; i < n; i++)
    top = fmax (top, a[i]);
  for (int i = 0; i < n; i++)
    s += exp (a[i] - top);
  return top + log (s);
}

/* The loss of the shuffle pair at x: log (sum_t N(x; 2 e_t)) - log (sum_t
 * N(x; e_t)); of the balls-and-bins remove pair: log((1/K) sum_t
 * N(x; e_t)) - log N(x; 0). */
static double
loss (int shuffle, const double *x, double sigma)
{
  double a[K], b[K], s2 = sigma * sigma;
  for (int t = 0; t < K; t++)
    {
      if (shuffle)
        {
          a[t] = (2.0 * x[t] - 2.0) / s2;
          b[t] = (x[t] - 0.5) / s2;
        }
      else
        a[t] = (x[t] - 0.5) / s2;
    }
  if (shuffle)
    return log_sum_exp (a, K) - log_sum_exp (b, K);
  return log_sum_exp (a, K) - log ((double) K);
}

/* Fraction of draws with loss > eps, the target's coordinate at mean mu. */
static double
estimate (gsl_rng *r, int shuffle, double sigma, double mu, double eps)
{
  long hits = 0;
  double x[K];
  for (long i = 0; i < DRAWS; i++)
    {
      for (int t = 0; t < K; t++)
        x[t] = gsl_ran_gaussian_ziggurat (r, sigma);
      x[0] += mu;
      hits += loss (shuffle, x, sigma) > eps;
    }
  return (double) hits / DRAWS;
}

/* The oracle at K = 2 against MPFR quadrature: both sides' probabilities
 * and the delta inside their brackets. */
static int
check_two_batches (double s, double eps)
{
  double c = eps + 1.5 / (s * s), err_p, err_q, lo, hi;
  double p = k2_mpfr_probability (s, c, 2.0, 0.0, &err_p);
  double q = k2_mpfr_probability (s, c, 1.0, 0.0, &err_q);
  double exact = p - exp (eps) * q;
  sum_bracket bp, bq;
  sum_spec sh = { SUM_QUADRATIC, s, c, 2.0, 0.0, 2 };
  int ok = dpacct_sum_bracket (&sh, 1e-4, 1 << 22, &bp) == 0;
  sh.mu_target = 1.0;
  ok &= dpacct_sum_bracket (&sh, 1e-4, 1 << 22, &bq) == 0;
  ok &= dpacct_shuffle_oracle_delta (s, 2, eps, 1e-4, 1 << 22, &lo, &hi) == 0;
  ok &= err_p < 1e-13 && err_q < 1e-13;
  ok &= bp.above_lo <= p && p <= bp.above_hi;
  ok &= bq.above_lo <= q && q <= bq.above_hi;
  ok &= lo <= exact && exact <= hi;
  printf ("%s shuffle K 2 sigma %g eps %g: MPFR P %.12g Q %.12g delta "
          "%.12g, oracle [%.12g, %.12g]\n", ok ? "ok  " : "FAIL", s, eps, p,
          q, exact, lo, hi);
  return ok;
}

/* Balls-and-bins over two epochs: the composed pessimistic PLD's epsilon
 * at delta against a Monte Carlo of the pair's delta there, E[(1 -
 * e^{eps - L1 - L2})_+] over DRAWS pairs of epochs in each direction (the
 * loss under P computed from the densities): it must not exceed delta by
 * more than 4 standard errors. */
static int
check_balls_two_epochs (gsl_rng *r, double s, double delta)
{
  double eps;
  if (dpacct_balls_pld_upper (s, K, 2, 0, delta, 1 << 22, &eps) != 0)
    return 0;
  int ok = 1;
  for (int add = 0; add < 2; add++)
    {
      double sum = 0.0, sum2 = 0.0, x[K];
      for (long i = 0; i < DRAWS; i++)
        {
          double l = 0.0;
          for (int epoch = 0; epoch < 2; epoch++)
            {
              for (int t = 0; t < K; t++)
                x[t] = gsl_ran_gaussian_ziggurat (r, s);
              if (!add)
                x[0] += 1.0; /* remove: P is the mixture */
              l += add ? -loss (0, x, s) : loss (0, x, s);
            }
          double v = l > eps ? -expm1 (eps - l) : 0.0;
          sum += v, sum2 += v * v;
        }
      double mean = sum / DRAWS;
      double se = sqrt (fmax (sum2 / DRAWS - mean * mean, 0.0) / DRAWS);
      int good = mean <= delta + 4.0 * se;
      printf ("%s balls-and-bins K %d sigma %g E 2 %s: PLD upper eps %.6g; "
              "Monte Carlo delta there %.6g (se %.2g), delta %g\n",
              good ? "ok  " : "FAIL", K, s, add ? "add" : "remove", eps, mean,
              se, delta);
      ok &= good;
    }
  return ok;
}

/* Balls-and-bins over E epochs at K = 2, sigma 2, delta 1e-3: at E = 1 the
 * PLD upper end lies above the exact bracket's lower end and within 0.05
 * of its upper end; at E = 3 the sampler's upper end is below 0.8 times
 * the Gaussian's, above the max statistic's lower end and the E = 1
 * bound, and its delta at that epsilon is at most 1e-3. */
static int
check_balls_epochs (void)
{
  /* K = 1: the pair is the Gaussian, 16 epochs the Gaussian at sigma/4 */
  double u16, g16, d16;
  int k1 = dpacct_balls_pld_upper (1.0, 1, 16, 0, 1e-5, 1 << 22, &u16) == 0
           && dpacct_gaussian_exact_epsilon (0.25, 1e-5, &g16) == 0
           && dpacct_balls_pld_upper (1.0, 1, 16, 1, g16, 1 << 22, &d16) == 0;
  k1 &= u16 >= g16 && u16 <= g16 + 0.012 * 16 + 0.01 && d16 >= 1e-5;
  printf ("%s balls-and-bins K 1 sigma 1 E 16: PLD upper %.6g, Gaussian "
          "%.6g; PLD delta there %.6g\n", k1 ? "ok  " : "FAIL", u16, g16,
          d16);
  const double sigma = 2.0, delta = 1e-3;
  double one, lo, hi, gauss;
  int ok = dpacct_balls_pld_upper (sigma, 2, 1, 0, delta, 1 << 22, &one) == 0
           && dpacct_balls_one_epoch (sigma, 2, 0, delta, 1e-2, 1 << 22, &lo,
                                      &hi) == 0;
  ok &= one >= lo && one <= hi + 0.05;
  printf ("%s balls-and-bins K 2 sigma 2 E 1: PLD upper %.6g, exact "
          "[%.6g, %.6g]\n", ok ? "ok  " : "FAIL", one, lo, hi);
  dpacct_epoch_run run = { sigma, 2, 3 };
  dpacct_bound b, d;
  int good = dpacct_sampler_epsilon (DPACCT_SAMPLER_BALLS_AND_BINS, &run,
                                     delta, NULL, &b) == 0
             && dpacct_gaussian_exact_epsilon (sigma / sqrt (3.0), delta,
                                               &gauss) == 0
             && dpacct_sampler_delta (DPACCT_SAMPLER_BALLS_AND_BINS, &run,
                                      b.upper, NULL, &d) == 0;
  good &= b.lower <= b.upper && b.upper > one && b.upper < 0.8 * gauss
          && d.upper <= delta * (1.0 + 1e-9);
  printf ("%s balls-and-bins K 2 sigma 2 E 3: [%.6g, %.6g], Gaussian %.6g, "
          "delta at the upper end %.6g\n", good ? "ok  " : "FAIL", b.lower,
          b.upper, gauss, d.upper);
  return k1 && ok && good;
}

static int
check (const char *what, double mc, double lo, double hi)
{
  double se = sqrt (fmax (mc * (1.0 - mc), 1.0 / DRAWS) / DRAWS);
  int ok = mc >= lo - 4.0 * se && mc <= hi + 4.0 * se;
  printf ("%s %s: Monte Carlo %.6g (se %.2g), bracket [%.6g, %.6g]\n",
          ok ? "ok  " : "FAIL", what, mc, se, lo, hi);
  return ok;
}

int
main (void)
{
  const char *env = getenv ("DPACCT_TEST_SEED");
  unsigned long seed = env ? strtoul (env, NULL, 10) : 12345;
  printf ("slow_samplers: seed %lu (DPACCT_TEST_SEED)\n", seed);
  gsl_rng *r = gsl_rng_alloc (gsl_rng_mt19937);
  gsl_rng_set (r, seed);
  int ok = 1;
  for (double s = 0.5; s <= 2.0; s *= 2.0)
    for (double eps = 0.5; eps <= 3.0; eps += 1.25)
      ok &= check_two_batches (s, eps);
  ok &= check_balls_epochs ();
  ok &= check_balls_two_epochs (r, 1.0, 1e-3);
  ok &= check_balls_two_epochs (r, 2.0, 1e-2);
  static const double sigmas[] = { 0.7, 1.0, 2.0 }, epss[] = { 0.5, 1.5 };
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 2; j++)
      {
        double s = sigmas[i], eps = epss[j], s2 = s * s;
        char what[96];
        sum_bracket p, q;
        /* shuffle: target at 2 (P) or 1 (Q), loss > eps iff sum > 0 */
        sum_spec sh = { SUM_QUADRATIC, s, eps + 1.5 / s2, 2.0, 0.0, K };
        dpacct_sum_bracket (&sh, 2e-4, 1 << 22, &p);
        sh.mu_target = 1.0;
        dpacct_sum_bracket (&sh, 2e-4, 1 << 22, &q);
        snprintf (what, sizeof what, "shuffle K %d sigma %g eps %g, P", K, s,
                  eps);
        ok &= check (what, estimate (r, 1, s, 2.0, eps), p.above_lo,
                     p.above_hi);
        what[strlen (what) - 1] = 'Q';
        ok &= check (what, estimate (r, 1, s, 1.0, eps), q.above_lo,
                     q.above_hi);
        /* balls-and-bins remove: target at 1 (P) or 0 (Q) */
        sum_spec bb = { SUM_LINEAR, s, eps + 0.5 / s2 + log ((double) K), 1.0,
                        0.0, K };
        dpacct_sum_bracket (&bb, 2e-4, 1 << 22, &p);
        bb.mu_target = 0.0;
        dpacct_sum_bracket (&bb, 2e-4, 1 << 22, &q);
        snprintf (what, sizeof what, "balls-and-bins K %d sigma %g eps %g, P",
                  K, s, eps);
        ok &= check (what, estimate (r, 0, s, 1.0, eps), p.above_lo,
                     p.above_hi);
        what[strlen (what) - 1] = 'Q';
        ok &= check (what, estimate (r, 0, s, 0.0, eps), q.above_lo,
                     q.above_hi);
      }
  gsl_rng_free (r);
  puts (ok ? "slow_samplers: all within 4 standard errors" : "slow_samplers: FAILED");
  return ok ? 0 : 1;
}
