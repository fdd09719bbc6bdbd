/* check_samplers.c - bounds for shuffled, balls-and-bins, fixed-size and
 * capped Poisson batches.
 *
 * References, each computed here independently of the code under test:
 * the exact analytic Gaussian in MPFR (testutil); the exact one-epoch
 * shuffle pair bracketed by the oracle, itself checked at K = 1 against
 * the Gaussian and at K = 2 against GSL quadrature of its one-dimensional
 * integral; the binomial tail summed term by term in MPFR; the PLD
 * accountant on the remove pair at sigma/2. */
#include <dpacct.h>
#include <dpacct/train.h>
#include "k2_mpfr.h"
#include "sampler_internal.h"
#include "testutil.h"

#include <math.h>
#include <mpfr.h>

static const dpacct_sampler epoch_samplers[] = {
  DPACCT_SAMPLER_SHUFFLE, DPACCT_SAMPLER_SHUFFLE_ONCE,
  DPACCT_SAMPLER_BALLS_AND_BINS
};

/* ---------------------------------------------------------- upper end */

/* The upper end is the exact Gaussian at sigma / sqrt(E), checked in
 * MPFR, for every sampler (balls-and-bins at E > 1: at E = 1 the exact
 * bracket may be below it). */
START_TEST (test_upper_is_exact_gaussian)
{
  static const struct { double sigma; uint64_t k, e; double delta; } c[] = {
    { 1.0, 100, 4, 1e-5 }, { 0.7, 50, 10, 1e-3 }, { 3.0, 1000, 2, 1e-8 },
    { 0.5, 20, 3, 1e-5 },
  };
  /* A coarse grid for the lower end keeps this cheap; the upper end does
   * not depend on it. */
  dpacct_sampler_options o;
  dpacct_sampler_options_init (&o);
  o.pld_interval = 0.02;
  for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
    for (size_t s = 0; s < 3; s++)
      {
        dpacct_epoch_run run = { c[i].sigma, c[i].k, c[i].e };
        dpacct_bound b;
        ck_assert_int_eq (dpacct_sampler_epsilon (epoch_samplers[s], &run,
                                                  c[i].delta, &o, &b),
                          DPACCT_OK);
        double exact = test_exact_gaussian_epsilon (c[i].sigma,
                                                    (double) c[i].e,
                                                    c[i].delta);
        ck_assert_rel (b.upper, exact, 1e-9, "shuffle upper, case %zu", i);
        ck_assert_msg (b.upper >= exact, "upper %.17g below exact %.17g",
                       b.upper, exact);
        ck_assert_msg (b.lower <= b.upper && b.lower >= 0.0
                       && (s == 2 || b.lower > 0.0),
                       "sampler %zu: lower %g outside (0, upper]", s, b.lower);
        ck_assert_int_eq (dpacct_sampler_delta (epoch_samplers[s], &run, 1.0,
                                                &o, &b),
                          DPACCT_OK);
        double d = test_exact_gaussian_delta (c[i].sigma, (double) c[i].e,
                                              1.0);
        ck_assert_rel (b.upper, d, 1e-9, "shuffle delta upper, case %zu", i);
      }
}
END_TEST

/* Planning: the smallest sigma whose proved upper end meets epsilon. */
START_TEST (test_noise_for_epsilon)
{
  static const struct { double eps, delta; uint64_t e; } c[] = {
    { 3.0, 1e-5, 5 }, { 0.5, 1e-6, 1 }, { 8.0, 1e-3, 100 },
  };
  for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
    {
      double sigma;
      ck_assert_int_eq (dpacct_sampler_noise_for_epsilon (c[i].eps, c[i].delta,
                                                          c[i].e, &sigma),
                        DPACCT_OK);
      double at = test_exact_gaussian_epsilon (sigma, (double) c[i].e,
                                               c[i].delta);
      double below = test_exact_gaussian_epsilon (sigma * (1.0 - 1e-9),
                                                  (double) c[i].e,
                                                  c[i].delta);
      ck_assert_msg (at <= c[i].eps && below > c[i].eps * (1.0 - 1e-8),
                     "case %zu: sigma %.17g gives %.17g, target %g", i, sigma,
                     at, c[i].eps);
    }
}
END_TEST

/* ------------------------------------------------------------- oracle */

/* At K = 1 both one-epoch pairs are the Gaussian mechanism. */
START_TEST (test_oracle_one_batch_is_gaussian)
{
  for (double sigma = 0.5; sigma <= 2.0; sigma *= 2.0)
    for (double eps = 0.25; eps <= 4.0; eps *= 4.0)
      {
        double exact = test_exact_gaussian_delta (sigma, 1.0, eps), lo, hi;
        ck_assert_int_eq (dpacct_shuffle_oracle_delta (sigma, 1, eps, 2e-4,
                                                       1 << 22, &lo, &hi),
                          DPACCT_OK);
        ck_assert_msg (lo <= exact && exact <= hi
                       && (exact < 1e-9 || hi - lo < 0.05 * exact),
                       "shuffle oracle [%g, %g] vs %g", lo, hi, exact);
        ck_assert_int_eq (dpacct_balls_oracle_delta (sigma, 1, eps, 2e-4,
                                                     1 << 22, &lo, &hi),
                          DPACCT_OK);
        ck_assert_msg (lo <= exact && exact <= hi
                       && (exact < 1e-9 || hi - lo < 0.05 * exact),
                       "balls oracle [%g, %g] vs %g", lo, hi, exact);
      }
}
END_TEST

/* K = 2: P(g(x1) + g(x2) > 0) = E_x1 [P(g(x2) > -g(x1))], one integral,
 * here in MPFR (tests/k2_mpfr.c, tanh-sinh at 100 bits, written afresh);
 * one case here, since MPFR is slow under valgrind, and a grid of nine in
 * `make check-samplers-slow`. */
START_TEST (test_oracle_two_batches_quadrature)
{
  const double sigma = 1.0, eps = 0.5, c = eps + 1.5 / (sigma * sigma);
  double err_p, err_q;
  /* under P the target's coordinate has mean 2, under Q 1 */
  double p = k2_mpfr_probability (sigma, c, 2.0, 0.0, &err_p);
  double q = k2_mpfr_probability (sigma, c, 1.0, 0.0, &err_q);
  ck_assert_msg (err_p < 1e-13 && err_q < 1e-13, "quadrature %g %g",
                 err_p, err_q);
  double exact = p - exp (eps) * q, lo, hi;
  ck_assert_int_eq (dpacct_shuffle_oracle_delta (sigma, 2, eps, 5e-4,
                                                 1 << 22, &lo, &hi),
                    DPACCT_OK);
  ck_assert_msg (lo <= exact && exact <= hi && hi - lo < 0.05 * exact,
                 "K=2 sigma %g eps %g: oracle [%.10g, %.10g], "
                 "quadrature %.10g", sigma, eps, lo, hi, exact);
}
END_TEST

/* ------------------------------------------------ shuffle lower bound */

/* Stated grid error of the comparison: the oracle's own width plus what
 * the max statistic gives away against the full pair (a few thousandths
 * of epsilon in the cases we tried). */
#define SHUFFLE_GAP 0.02

START_TEST (test_shuffle_lower_against_oracle)
{
  static const uint64_t ks[] = { 2, 3, 5, 10 };
  static const double sigmas[] = { 0.5, 1.0, 2.0 }, deltas[] = { 1e-5, 1e-3 };
  dpacct_sampler_options o;
  dpacct_sampler_options_init (&o);
  o.pld_interval = 1e-3; /* cheaper; valid on any grid */
  for (size_t a = 0; a < 4; a++)
    for (size_t b = 0; b < 3; b++)
      for (size_t d = 0; d < 2; d++)
        {
          uint64_t k = ks[a];
          double sigma = sigmas[b], delta = deltas[d], eta = 8e-3 / (double) k;
          dpacct_epoch_run run = { sigma, k, 1 };
          dpacct_bound bd;
          ck_assert_int_eq (dpacct_sampler_epsilon (DPACCT_SAMPLER_SHUFFLE,
                                                    &run, delta, &o, &bd),
                            DPACCT_OK);
          double lo, hi;
          /* lower <= the pair's epsilon: there its delta is >= delta */
          ck_assert_int_eq (dpacct_shuffle_oracle_delta (sigma, k, bd.lower,
                                                         eta, 1 << 22, &lo,
                                                         &hi),
                            DPACCT_OK);
          ck_assert_msg (hi >= delta, "K %llu sigma %g delta %g: lower %g "
                         "above the pair's epsilon (delta there <= %g)",
                         (unsigned long long) k, sigma, delta, bd.lower, hi);
          /* ... and not further below it than the gap */
          ck_assert_int_eq (dpacct_shuffle_oracle_delta (
                                sigma, k, bd.lower + SHUFFLE_GAP, eta,
                                1 << 22, &lo, &hi),
                            DPACCT_OK);
          ck_assert_msg (lo <= delta, "K %llu sigma %g delta %g: lower %g "
                         "more than %g below the pair's epsilon",
                         (unsigned long long) k, sigma, delta, bd.lower,
                         SHUFFLE_GAP);
        }
}
END_TEST

/* The last partial batch dropped: the lower end of the mixed pair
 * against the mixture's own exact oracle (P(sum (u_t^2 - u_t) > tau),
 * written from the densities, not from the max statistic) at E = 1,
 * below its epsilon and within the gap of it; the upper end unchanged;
 * the oracle's delta below the full pair's (mixing in a common part
 * cannot raise it); E > 1 shuffle-once is one epoch at sigma / sqrt(E);
 * balls-and-bins refuses a fraction. */
START_TEST (test_shuffle_dropped_remainder)
{
  static const struct { uint64_t k; double sigma, keep, delta; } c[] = {
    { 2, 1.0, 2.0 / 3.0, 1e-3 }, { 3, 2.0, 0.75, 1e-3 },
  };
  dpacct_sampler_options o, none;
  dpacct_sampler_options_init (&o);
  dpacct_sampler_options_init (&none);
  o.pld_interval = none.pld_interval = 1e-3;
  for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
    {
      double eta = 8e-3 / (double) c[i].k, lo, hi, flo, fhi;
      o.dropped_fraction = 1.0 - c[i].keep;
      dpacct_epoch_run run = { c[i].sigma, c[i].k, 1 };
      dpacct_bound bd, full;
      ck_assert_int_eq (dpacct_sampler_epsilon (DPACCT_SAMPLER_SHUFFLE, &run,
                                                c[i].delta, &o, &bd),
                        DPACCT_OK);
      ck_assert_int_eq (dpacct_sampler_epsilon (DPACCT_SAMPLER_SHUFFLE, &run,
                                                c[i].delta, &none, &full),
                        DPACCT_OK);
      ck_assert (bd.upper == full.upper);
      ck_assert_int_eq (dpacct_shuffle_oracle_delta_mix (
                            c[i].sigma, c[i].k, c[i].keep, bd.lower, eta,
                            1 << 22, &lo, &hi),
                        DPACCT_OK);
      ck_assert_msg (hi >= c[i].delta, "case %zu: lower %g above the mixed "
                     "pair's epsilon (delta there <= %g)", i, bd.lower, hi);
      ck_assert_int_eq (dpacct_shuffle_oracle_delta_mix (
                            c[i].sigma, c[i].k, c[i].keep,
                            bd.lower + SHUFFLE_GAP, eta, 1 << 22, &lo, &hi),
                        DPACCT_OK);
      ck_assert_msg (lo <= c[i].delta, "case %zu: lower %g more than %g "
                     "below the mixed pair's epsilon", i, bd.lower,
                     SHUFFLE_GAP);
      ck_assert_int_eq (dpacct_shuffle_oracle_delta (c[i].sigma, c[i].k,
                                                     bd.lower, eta, 1 << 22,
                                                     &flo, &fhi),
                        DPACCT_OK);
      ck_assert_msg (lo <= fhi, "case %zu: mixed delta above the full", i);
      if (i > 0)
        continue; /* valgrind time: the rest once */
      /* shuffle-once over E epochs: the one-epoch mixture at sigma/sqrt 4 */
      dpacct_epoch_run four = { c[i].sigma, c[i].k, 4 },
                       one = { 0.5 * c[i].sigma, c[i].k, 1 };
      dpacct_bound a, b;
      ck_assert_int_eq (dpacct_sampler_epsilon (DPACCT_SAMPLER_SHUFFLE_ONCE,
                                                &four, c[i].delta, &o, &a),
                        DPACCT_OK);
      ck_assert_int_eq (dpacct_sampler_epsilon (DPACCT_SAMPLER_SHUFFLE, &one,
                                                c[i].delta, &o, &b),
                        DPACCT_OK);
      ck_assert (a.lower == b.lower && a.upper == b.upper);
    }
  dpacct_epoch_run run = { 1.0, 5, 1 };
  dpacct_bound bd;
  o.dropped_fraction = 0.1;
  ck_assert_int_eq (dpacct_sampler_epsilon (DPACCT_SAMPLER_BALLS_AND_BINS,
                                            &run, 1e-5, &o, &bd),
                    DPACCT_EDOM);
  o.dropped_fraction = 1.0;
  ck_assert_int_eq (dpacct_sampler_epsilon (DPACCT_SAMPLER_SHUFFLE, &run,
                                            1e-5, &o, &bd), DPACCT_EDOM);
}
END_TEST

/* Balls-and-bins over E epochs: the pessimistic PLD of the one-epoch
 * pair, composed.  At K = 1 the pair is the Gaussian N(1, s^2) against
 * N(0, s^2), so E epochs are exactly the Gaussian at s/sqrt(E): the
 * bound must lie above it, by at most about E times the
 * grid (0.01 a step here).  One case: the checks at K = 1 over 16 epochs
 * and at K = 2 against the exact bracket and the max statistic, and a
 * Monte Carlo at K = 5, are in make check-samplers-slow (each costs
 * seconds under valgrind). */
START_TEST (test_balls_epochs_pld)
{
  const double sigma = 2.0, delta = 1e-5;
  const uint64_t e = 4;
  double upper, exact; /* exact: checked against MPFR in
                        * test_upper_is_exact_gaussian */
  ck_assert_int_eq (dpacct_balls_pld_upper (sigma, 1, e, 0, delta, 1 << 22,
                                            &upper),
                    DPACCT_OK);
  ck_assert_int_eq (dpacct_gaussian_exact_epsilon (sigma / sqrt ((double) e),
                                                   delta, &exact),
                    DPACCT_OK);
  ck_assert_msg (upper >= exact && upper <= exact + 0.012 * (double) e + 0.01,
                 "K 1, sigma %g, E %llu: PLD upper %.9g, Gaussian %.9g", sigma,
                 (unsigned long long) e, upper, exact);
}
END_TEST

/* At E = 1 the cube bound (max statistic at its best level) and the max
 * statistic's PLD agree within the grid; shuffle and shuffle-once are
 * the same run; at E > 1 the new permutations leak less than one kept. */
START_TEST (test_cube_persistent_dynamic)
{
  static const struct { double sigma; uint64_t k; double delta; } c[] = {
    { 1.0, 10, 1e-5 }, { 0.6, 100, 1e-6 }, { 2.0, 1000, 1e-3 }, { 1.0, 1, 1e-5 },
  };
  /* Rounding down costs at most one grid interval at E = 1. */
  dpacct_sampler_options o;
  dpacct_sampler_options_init (&o);
  o.pld_interval = 3e-4;
  for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
    {
      dpacct_epoch_run run = { c[i].sigma, c[i].k, 1 };
      dpacct_bound dyn, per;
      double cube;
      ck_assert_int_eq (dpacct_sampler_epsilon (DPACCT_SAMPLER_SHUFFLE, &run,
                                                c[i].delta, &o, &dyn),
                        DPACCT_OK);
      ck_assert_int_eq (dpacct_sampler_epsilon (DPACCT_SAMPLER_SHUFFLE_ONCE,
                                                &run, c[i].delta, &o, &per),
                        DPACCT_OK);
      ck_assert_int_eq (dpacct_shuffle_cube_epsilon (c[i].sigma, c[i].k,
                                                     c[i].delta, &cube),
                        DPACCT_OK);
      ck_assert_msg (dyn.lower == per.lower && dyn.upper == per.upper,
                     "E = 1: shuffle [%g, %g] vs shuffle-once [%g, %g]",
                     dyn.lower, dyn.upper, per.lower, per.upper);
      ck_assert_msg (fabs (cube - dyn.lower) <= 2e-3 * cube + o.pld_interval,
                     "case %zu: cube %g vs max-statistic PLD %g", i, cube,
                     dyn.lower);
      ck_assert_msg (cube <= dyn.upper, "cube %g above the upper %g", cube,
                     dyn.upper);
    }
  dpacct_epoch_run run = { 1.0, 10, 4 };
  dpacct_bound dyn, per;
  ck_assert_int_eq (dpacct_sampler_epsilon (DPACCT_SAMPLER_SHUFFLE, &run, 1e-5,
                                            &o, &dyn), DPACCT_OK);
  ck_assert_int_eq (dpacct_sampler_epsilon (DPACCT_SAMPLER_SHUFFLE_ONCE, &run,
                                            1e-5, &o, &per), DPACCT_OK);
  ck_assert_msg (dyn.lower < per.lower && per.lower <= per.upper,
                 "E = 4: shuffle lower %g, shuffle-once lower %g", dyn.lower,
                 per.lower);
}
END_TEST

/* ---------------------------------------------------- balls-and-bins */

START_TEST (test_balls_one_epoch)
{
  dpacct_sampler_options o;
  dpacct_sampler_options_init (&o);
  o.bracket_accuracy = 4e-3;
  o.pld_interval = 4e-4;
  dpacct_epoch_run run = { 1.0, 4, 1 };
  dpacct_bound b, e;
  ck_assert_int_eq (dpacct_sampler_epsilon (DPACCT_SAMPLER_BALLS_AND_BINS, &run,
                                            1e-5, &o, &b), DPACCT_OK);
  double gauss = test_exact_gaussian_epsilon (1.0, 1.0, 1e-5);
  ck_assert_msg (0.0 < b.lower && b.lower <= b.upper && b.upper < gauss
                 && b.upper - b.lower < 0.05 * b.upper,
                 "balls-and-bins [%g, %g], Gaussian %g", b.lower, b.upper,
                 gauss);
  /* delta at the ends of the epsilon bracket straddles 1e-5 */
  ck_assert_int_eq (dpacct_sampler_delta (DPACCT_SAMPLER_BALLS_AND_BINS, &run,
                                          b.upper, &o, &e), DPACCT_OK);
  ck_assert_msg (e.lower <= 1e-5, "delta at upper end [%g, %g]", e.lower,
                 e.upper);
  ck_assert_int_eq (dpacct_sampler_delta (DPACCT_SAMPLER_BALLS_AND_BINS, &run,
                                          b.lower, &o, &e), DPACCT_OK);
  ck_assert_msg (e.upper >= 1e-5, "delta at lower end [%g, %g]", e.lower,
                 e.upper);
  /* E > 1 and K > 16: the max statistic below, the Gaussian above (K <= 16
   * takes the pessimistic PLD: test_balls_epochs_pld) */
  run.epochs = 3;
  run.batches = 20;
  ck_assert_int_eq (dpacct_sampler_epsilon (DPACCT_SAMPLER_BALLS_AND_BINS, &run,
                                            1e-5, &o, &b), DPACCT_OK);
  ck_assert_rel (b.upper, test_exact_gaussian_epsilon (1.0, 3.0, 1e-5), 1e-9,
                 "balls-and-bins E = 3 upper");
  ck_assert_msg (b.lower > 0.0 && b.lower < b.upper, "lower %g", b.lower);
}
END_TEST

/* ------------------------------------------------- without replacement */

START_TEST (test_without_replacement_lower)
{
  double sigma = 1.0, q = 0.01, delta = 1e-5;
  uint64_t steps = 1000;
  double lower;
  ck_assert_int_eq (dpacct_without_replacement_lower (sigma, q, steps, 0, delta,
                                                      NULL, &lower),
                    DPACCT_OK);
  /* the remove pair at sigma/2, q: its PLD bounds, and RDP's WBK upper */
  dpacct_event *e, *w;
  ck_assert_int_eq (dpacct_dpsgd_event_alloc (sigma / 2.0, q, steps,
                                              DPACCT_SAMPLING_POISSON, &e),
                    DPACCT_OK);
  ck_assert_int_eq (dpacct_dpsgd_event_alloc (
                        sigma, q, steps, DPACCT_SAMPLING_WITHOUT_REPLACEMENT,
                        &w), DPACCT_OK);
  dpacct_accountant_options o;
  dpacct_accountant_options_init (&o);
  dpacct_accountant *pld, *rdp;
  ck_assert_int_eq (dpacct_accountant_alloc (dpacct_accountant_pld, &o, &pld),
                    DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_compose (pld, e, 1), DPACCT_OK);
  dpacct_accountant_options_set_int (&o, "neighbouring", DPACCT_REPLACE_ONE);
  ck_assert_int_eq (dpacct_accountant_alloc (dpacct_accountant_rdp, &o, &rdp),
                    DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_compose (rdp, w, 1), DPACCT_OK);
  dpacct_bound p, r;
  ck_assert_int_eq (dpacct_accountant_epsilon (pld, delta, &p), DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_epsilon (rdp, delta, &r), DPACCT_OK);
  ck_assert_msg (lower <= p.upper && lower >= p.upper * (1.0 - 1e-2),
                 "lower %g vs the pair's PLD [%g, %g]", lower, p.lower,
                 p.upper);
  ck_assert_msg (lower <= r.upper, "lower %g above RDP's WBK upper %g", lower,
                 r.upper);
  dpacct_accountant_free (pld);
  dpacct_accountant_free (rdp);
  dpacct_event_free (e);
  dpacct_event_free (w);
}
END_TEST

/* --------------------------------------------------------- capped */

/* log Pr[Binomial(n, q) > b] summed in MPFR: pmf(k) from pmf(k - 1) by
 * the ratio (n - k + 1) q / (k (1 - q)). */
static double
binomial_log_tail (unsigned long n, double q, unsigned long b)
{
  mpfr_t sum, term, odds;
  mpfr_inits2 (256, sum, term, odds, (mpfr_ptr) 0);
  mpfr_set_d (term, 1.0 - q, MPFR_RNDN);
  mpfr_pow_ui (term, term, n, MPFR_RNDN);
  mpfr_set_d (odds, q, MPFR_RNDN);
  mpfr_div_d (odds, odds, 1.0 - q, MPFR_RNDN);
  mpfr_set_zero (sum, 1);
  for (unsigned long k = 1; k <= n; k++)
    {
      mpfr_mul (term, term, odds, MPFR_RNDN);
      mpfr_mul_ui (term, term, n - k + 1, MPFR_RNDN);
      mpfr_div_ui (term, term, k, MPFR_RNDN);
      if (k > b)
        mpfr_add (sum, sum, term, MPFR_RNDN);
    }
  mpfr_log (sum, sum, MPFR_RNDN);
  double v = mpfr_get_d (sum, MPFR_RNDN);
  mpfr_clears (sum, term, odds, (mpfr_ptr) 0);
  return v;
}

START_TEST (test_capped_poisson)
{
  static const struct { unsigned long n, b; double q; } c[] = {
    { 1000, 30, 0.02 }, { 1000, 15, 0.01 }, { 500, 5, 0.01 }, { 2000, 150, 0.05 },
  };
  for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
    {
      double got;
      ck_assert_int_eq (dpacct_capped_poisson_log_excess (c[i].n, c[i].q,
                                                          c[i].b, 7, &got),
                        DPACCT_OK);
      double want = binomial_log_tail (c[i].n, c[i].q, c[i].b) + log (7.0);
      ck_assert_msg (got >= want && got <= want + 1e-9,
                     "binomial tail %zu: %.17g vs MPFR %.17g", i, got, want);
    }
  double none;
  ck_assert_int_eq (dpacct_capped_poisson_log_excess (1000, 0.01, 1000, 10,
                                                      &none), DPACCT_OK);
  ck_assert (none == -INFINITY);
  /* the coupling term on top of the uncapped PLD run */
  dpacct_event *e;
  ck_assert_int_eq (dpacct_dpsgd_event_alloc (1.0, 0.01, 1000,
                                              DPACCT_SAMPLING_POISSON, &e),
                    DPACCT_OK);
  dpacct_accountant *a;
  ck_assert_int_eq (dpacct_accountant_alloc (dpacct_accountant_pld, NULL, &a),
                    DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_compose (a, e, 1), DPACCT_OK);
  double lx;
  ck_assert_int_eq (dpacct_capped_poisson_log_excess (10000, 0.01, 170, 1000,
                                                      &lx), DPACCT_OK);
  dpacct_bound u, capped, same;
  ck_assert_int_eq (dpacct_accountant_delta (a, 1.0, &u), DPACCT_OK);
  ck_assert_int_eq (dpacct_capped_poisson_delta (a, lx, 1.0, &capped),
                    DPACCT_OK);
  double term = (1.0 + exp (1.0)) * exp (lx);
  ck_assert_rel (capped.upper - u.upper, term, 1e-9, "coupling term");
  ck_assert_msg (capped.lower <= u.lower, "capped lower above uncapped");
  ck_assert_int_eq (dpacct_capped_poisson_delta (a, none, 1.0, &same),
                    DPACCT_OK);
  ck_assert (same.upper == u.upper && same.lower == u.lower);
  ck_assert_int_eq (dpacct_accountant_epsilon (a, 1e-5, &u), DPACCT_OK);
  ck_assert_int_eq (dpacct_capped_poisson_epsilon (a, lx, 1e-5, &capped),
                    DPACCT_OK);
  /* capped.lower bounds eps at delta + (1 + e^eps) beta, below the
   * uncapped eps at delta, below u.upper */
  ck_assert_msg (capped.upper >= u.upper && capped.lower <= u.upper
                 && capped.lower > 0.9 * u.lower
                 && capped.lower <= capped.upper,
                 "capped [%g, %g] vs uncapped [%g, %g]", capped.lower,
                 capped.upper, u.lower, u.upper);
  ck_assert_int_eq (dpacct_capped_poisson_epsilon (a, none, 1e-5, &same),
                    DPACCT_OK);
  ck_assert (same.upper == u.upper && same.lower == u.lower);
  dpacct_accountant_free (a);
  dpacct_event_free (e);
}
END_TEST

/* The one-query pair that capped batches use: its upper side bounds
 * epsilon at delta_upper from above and its lower side epsilon at
 * delta_lower from below (against the plain queries' other sides), equal
 * deltas give the plain query, and an accountant without the shared
 * ladder (RDP) answers with two plain queries. */
START_TEST (test_epsilon_split)
{
  dpacct_event *e;
  ck_assert_int_eq (dpacct_dpsgd_event_alloc (1.0, 0.01, 1000,
                                              DPACCT_SAMPLING_POISSON, &e),
                    DPACCT_OK);
  dpacct_accountant *a, *r;
  ck_assert_int_eq (dpacct_accountant_alloc (dpacct_accountant_pld, NULL, &a),
                    DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_alloc (dpacct_accountant_rdp, NULL, &r),
                    DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_compose (a, e, 1), DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_compose (r, e, 1), DPACCT_OK);
  const double du = 0.999e-5, dl = 1.001e-5;
  dpacct_bound split, at_u, at_l, same;
  ck_assert_int_eq (dpacct_accountant_epsilon_split (a, du, dl, &split),
                    DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_epsilon (a, du, &at_u), DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_epsilon (a, dl, &at_l), DPACCT_OK);
  ck_assert_msg (split.upper >= at_u.lower && split.lower <= at_l.upper
                 && split.lower <= split.upper,
                 "split [%.9g, %.9g] vs [%.9g, %.9g] at delta_u and "
                 "[%.9g, %.9g] at delta_l", split.lower, split.upper,
                 at_u.lower, at_u.upper, at_l.lower, at_l.upper);
  ck_assert_rel (split.upper, at_u.upper, 1e-3, "split upper");
  ck_assert_rel (split.lower, at_l.lower, 1e-2, "split lower");
  ck_assert_int_eq (dpacct_accountant_epsilon_split (a, du, du, &same),
                    DPACCT_OK);
  ck_assert (same.upper == at_u.upper && same.lower == at_u.lower);
  ck_assert_int_eq (dpacct_accountant_epsilon_split (r, du, dl, &split),
                    DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_epsilon (r, du, &at_u), DPACCT_OK);
  ck_assert (split.upper == at_u.upper);
  ck_assert_int_eq (dpacct_accountant_epsilon_split (a, dl, du, &split),
                    DPACCT_EDOM);
  ck_assert (isnan (split.upper));
  dpacct_accountant_free (a);
  dpacct_accountant_free (r);
  dpacct_event_free (e);
  /* Against the closed form (unsampled Gaussian, sigma 4, 16 steps: mu
   * 1), with deltas a factor 4 apart, so that each side must use its own
   * delta: eps(5e-6) is about 6 % above eps(2e-5), far beyond the grid's
   * 1e-3. */
  const double wide_u = 5e-6, wide_l = 2e-5;
  ck_assert_int_eq (dpacct_dpsgd_event_alloc (4.0, 1.0, 16,
                                              DPACCT_SAMPLING_POISSON, &e),
                    DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_alloc (dpacct_accountant_pld, NULL, &a),
                    DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_compose (a, e, 1), DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_epsilon_split (a, wide_u, wide_l,
                                                     &split), DPACCT_OK);
  double exact_u = test_exact_gaussian_epsilon (4.0, 16, wide_u),
         exact_l = test_exact_gaussian_epsilon (4.0, 16, wide_l);
  ck_assert_msg (split.upper >= exact_u && split.lower <= exact_l
                 && exact_u > 1.05 * exact_l,
                 "split [%.9g, %.9g], exact %.9g at delta_u, %.9g at "
                 "delta_l", split.lower, split.upper, exact_u, exact_l);
  ck_assert_rel (split.upper, exact_u, 1e-3, "split upper, closed form");
  ck_assert_rel (split.lower, exact_l, 1e-2, "split lower, closed form");
  dpacct_accountant_free (a);
  dpacct_event_free (e);
}
END_TEST

/* ------------------------------------------------------------ trainer */

/* The trainer's shuffled batches: K = floor(N/B) batches of exactly B per
 * epoch, sigma from the proved upper bound, refused where unsupported. */
START_TEST (test_trainer_shuffle)
{
  dpacct_dataset *d;
  ck_assert_int_eq (dpacct_dataset_synthetic (250, 4, 3, 3.0, 7, &d),
                    DPACCT_OK);
  dpacct_train_options o;
  dpacct_train_options_init (&o);
  o.shuffle = 1;
  o.epsilon = 2.0;
  o.batch_size = 20;
  o.epochs = 3.0;
  dpacct_train_report r;
  ck_assert_int_eq (dpacct_train_run (d, NULL, &o, &r), DPACCT_OK);
  double sigma;
  ck_assert_int_eq (dpacct_sampler_noise_for_epsilon (2.0, 1e-5, 3, &sigma),
                    DPACCT_OK);
  ck_assert_uint_eq (r.steps, 12 * 3);
  ck_assert_uint_eq (r.batch_min, 20);
  ck_assert_uint_eq (r.batch_max, 20);
  ck_assert (r.sigma == sigma);
  ck_assert_msg (r.epsilon_upper <= 2.0 && r.epsilon_upper > 2.0 - 1e-6,
                 "epsilon upper %.17g", r.epsilon_upper);
  ck_assert (r.epsilon_upper
             >= test_exact_gaussian_epsilon (sigma, 3.0, 1e-5) * (1 - 1e-12));
  o.epochs = 2.5;
  ck_assert_int_eq (dpacct_train_run (d, NULL, &o, &r), DPACCT_EDOM);
  o.epochs = 3.0;
  o.noise = DPACCT_NOISE_LAPLACE;
  ck_assert_int_eq (dpacct_train_run (d, NULL, &o, &r), DPACCT_EUNSUP);
  dpacct_dataset_free (d);
}
END_TEST

/* The shuffled audit: its measurement, the samplers' lower end and the
 * Poisson figure side by side; the measurement never above the proved
 * claim. */
START_TEST (test_audit_shuffle)
{
  dpacct_audit_options o;
  dpacct_audit_options_init (&o);
  o.shuffle = 1;
  o.pairs = 400;
  o.dataset_size = 49; /* 50 slots with the canary's */
  o.batch_size = 10;
  o.steps = 10;        /* 2 epochs of K = 5 */
  dpacct_audit_result r;
  ck_assert_int_eq (dpacct_audit_run (&o, &r), DPACCT_OK);
  double sigma;
  ck_assert_int_eq (dpacct_sampler_noise_for_epsilon (2.0, 1e-5, 2, &sigma),
                    DPACCT_OK);
  ck_assert (r.sigma == sigma && r.steps == 10);
  ck_assert_msg (r.epsilon_claimed <= 2.0 && r.epsilon_lower <= r.epsilon_claimed
                 && r.epsilon_shuffle_lower <= r.epsilon_claimed
                 && r.epsilon_shuffle_lower > 0.0 && r.epsilon_poisson > 0.0,
                 "audit %g, shuffle lower %g, claimed %g, Poisson %g",
                 r.epsilon_lower, r.epsilon_shuffle_lower, r.epsilon_claimed,
                 r.epsilon_poisson);
  o.dataset_size = 50; /* 51 slots: not a multiple of 10 */
  ck_assert_int_eq (dpacct_audit_run (&o, &r), DPACCT_EDOM);
}
END_TEST

/* ----------------------------------------------------------- errors */

START_TEST (test_errors)
{
  dpacct_bound b;
  dpacct_epoch_run bad_k = { 1.0, 0, 1 }, bad_e = { 1.0, 10, 0 },
                   bad_s = { -1.0, 10, 1 }, ok = { 1.0, 10, 1 };
  ck_assert_int_eq (dpacct_sampler_epsilon (DPACCT_SAMPLER_SHUFFLE, &bad_k,
                                            1e-5, NULL, &b), DPACCT_EDOM);
  ck_assert (isnan (b.upper) && isnan (b.lower));
  ck_assert_int_eq (dpacct_sampler_epsilon (DPACCT_SAMPLER_SHUFFLE, &bad_e,
                                            1e-5, NULL, &b), DPACCT_EDOM);
  ck_assert_int_eq (dpacct_sampler_epsilon (DPACCT_SAMPLER_SHUFFLE, &bad_s,
                                            1e-5, NULL, &b), DPACCT_EDOM);
  ck_assert_int_eq (dpacct_sampler_epsilon (DPACCT_SAMPLER_SHUFFLE, &ok, 1.5,
                                            NULL, &b), DPACCT_EDOM);
  ck_assert_int_eq (dpacct_sampler_delta (DPACCT_SAMPLER_SHUFFLE, &ok, -1.0,
                                          NULL, &b), DPACCT_EDOM);
  ck_assert_int_eq (dpacct_sampler_epsilon ((dpacct_sampler) 42, &ok, 1e-5,
                                            NULL, &b), DPACCT_EDOM);
  double x;
  ck_assert_int_eq (dpacct_gaussian_exact_epsilon (0.0, 1e-5, &x), DPACCT_EDOM);
  ck_assert (isnan (x));
  ck_assert_int_eq (dpacct_gaussian_exact_delta (1.0, -1.0, &x), DPACCT_EDOM);
  ck_assert_int_eq (dpacct_shuffle_cube_epsilon (1.0, 0, 1e-5, &x),
                    DPACCT_EDOM);
  ck_assert_int_eq (dpacct_capped_poisson_log_excess (100, 0.1, 0, 1, &x),
                    DPACCT_EDOM);
  ck_assert_int_eq (dpacct_without_replacement_lower (1.0, 0.0, 1, 0, 1e-5,
                                                      NULL, &x), DPACCT_EDOM);
}
END_TEST

/* One case per test, so that CK_RUN_CASE can run (and time) one. */
#define ADD_CASE(s, test)                                                  \
  do {                                                                     \
    TCase *tc_ = tcase_create (#test);                                     \
    tcase_set_timeout (tc_, 600);                                          \
    tcase_add_test (tc_, test);                                            \
    suite_add_tcase (s, tc_);                                              \
  } while (0)

static Suite *
samplers_suite (void)
{
  Suite *s = suite_create ("samplers");
  ADD_CASE (s, test_upper_is_exact_gaussian);
  ADD_CASE (s, test_noise_for_epsilon);
  ADD_CASE (s, test_oracle_one_batch_is_gaussian);
  ADD_CASE (s, test_oracle_two_batches_quadrature);
  ADD_CASE (s, test_shuffle_lower_against_oracle);
  ADD_CASE (s, test_shuffle_dropped_remainder);
  ADD_CASE (s, test_cube_persistent_dynamic);
  ADD_CASE (s, test_balls_one_epoch);
  ADD_CASE (s, test_balls_epochs_pld);
  ADD_CASE (s, test_without_replacement_lower);
  ADD_CASE (s, test_capped_poisson);
  ADD_CASE (s, test_epsilon_split);
  ADD_CASE (s, test_trainer_shuffle);
  ADD_CASE (s, test_audit_shuffle);
  ADD_CASE (s, test_errors);
  return s;
}

int
main (void)
{
  return test_run_suite (samplers_suite ());
}
