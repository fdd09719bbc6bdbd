/* check_domain.c - a seeded sweep of random runs over the documented
 * domain, for every accountant, checking the invariants that hold
 * whatever the numbers: no NaN, 0 <= lower <= upper, upper bounds that
 * fall with more noise and rise with more steps or a larger sampling rate,
 * PLD's upper bound at most RDP's, every upper bound at least the exact
 * value where one is known, and calibration never above its target.
 *
 * make check runs DPACCT_SWEEP_POINTS points (default 12, a few seconds
 * per accountant); by hand, e.g. DPACCT_SWEEP_POINTS=100000 with
 * DPACCT_TEST_SEED set, it is a long soak.  Domain (dpacct(1)): sigma
 * 0.5-20, Laplace scale over clip 0.3-10, sampling rates 1e-4-1, steps
 * 1-1e5, delta 1e-12-1e-3, dimension 1-1e6. */
#include <dpacct.h>
#include "testutil.h"

#include <gsl/gsl_rng.h>
#include <stdlib.h>

/* A log-uniform draw in [lo, hi]. */
static double
log_uniform (gsl_rng *r, double lo, double hi)
{
  return exp (log (lo) + gsl_rng_uniform (r) * (log (hi) - log (lo)));
}

static size_t
sweep_points (void)
{
  const char *text = getenv ("DPACCT_SWEEP_POINTS");
  long n = text != NULL ? strtol (text, NULL, 10) : 12;
  return n > 0 ? (size_t) n : 12;
}

typedef struct
{
  double sigma, q, delta;
  uint64_t steps;
} gaussian_run;

static const char *
describe (const char *who, const gaussian_run *g)
{
  return test_describe ("%s: sigma %.6g q %.6g steps %llu delta %.3g", who,
                        g->sigma, g->q, (unsigned long long) g->steps,
                        g->delta);
}

/* The epsilon bound of a DP-SGD run; checks the bound's own invariants. */
static dpacct_bound
gaussian_epsilon (const dpacct_accountant_type *type, const gaussian_run *g)
{
  dpacct_event *e;
  dpacct_accountant *acc;
  dpacct_bound b;
  dpacct_sampling s = g->q < 1.0 ? DPACCT_SAMPLING_POISSON
                                 : DPACCT_SAMPLING_NONE;
  ck_assert_int_eq (dpacct_dpsgd_event_alloc (g->sigma, g->q, g->steps, s, &e),
                    DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_alloc (type, NULL, &acc), DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_compose (acc, e, 1), DPACCT_OK);
  int status = dpacct_accountant_epsilon (acc, g->delta, &b);
  ck_assert_msg (status == DPACCT_OK, "%s: status %d",
                 describe (dpacct_accountant_name (acc), g), status);
  ck_assert_msg (!isnan (b.upper) && b.upper >= 0.0,
                 "%s: upper %g", describe (type->name, g), b.upper);
  ck_assert_msg (isnan (b.lower) || (b.lower >= 0.0 && b.lower <= b.upper),
                 "%s: [%g, %g]", describe (type->name, g), b.lower, b.upper);
  dpacct_accountant_free (acc);
  dpacct_event_free (e);
  return b;
}

/* Relative slack for comparing two upper bounds computed on different
 * grids: PLD's bound is refined to within 1e-3 of exact, so a comparison
 * it must win (more noise, fewer steps) may lose by that much. */
static const double grid_slack = 2e-3;

static void
check_gaussian_point (gsl_rng *r)
{
  gaussian_run g;
  g.sigma = log_uniform (r, 0.5, 20.0);
  g.q = gsl_rng_uniform (r) < 0.15 ? 1.0 : log_uniform (r, 1e-4, 1.0);
  g.steps = (uint64_t) log_uniform (r, 1.0, 1e5);
  g.delta = log_uniform (r, 1e-12, 1e-3);
  const dpacct_accountant_type *types[] = { dpacct_accountant_rdp,
                                            dpacct_accountant_pld };
  double upper[2];
  for (int t = 0; t < 2; t++)
    {
      double slack = t ? grid_slack : 1e-12;
      dpacct_bound b = gaussian_epsilon (types[t], &g);
      upper[t] = b.upper;
      gaussian_run more = g;
      more.sigma *= 1.2;
      ck_assert_msg (gaussian_epsilon (types[t], &more).upper
                     <= b.upper * (1.0 + slack),
                     "%s: more noise, more epsilon", describe (types[t]->name, &g));
      more = g;
      more.steps = g.steps * 2;
      ck_assert_msg (gaussian_epsilon (types[t], &more).upper
                     >= b.upper * (1.0 - slack),
                     "%s: more steps, less epsilon", describe (types[t]->name, &g));
      if (g.q < 1.0)
        {
          more = g;
          more.q = fmin (g.q * 1.5, 0.999);
          ck_assert_msg (gaussian_epsilon (types[t], &more).upper
                         >= b.upper * (1.0 - slack),
                         "%s: larger rate, less epsilon",
                         describe (types[t]->name, &g));
        }
      else
        {
          double exact = test_exact_gaussian_epsilon (g.sigma,
                                                      (double) g.steps,
                                                      g.delta);
          ck_assert_msg (b.upper >= exact
                         && (isnan (b.lower) || b.lower <= exact),
                         "%s: [%.10g, %.10g] vs exact %.10g",
                         describe (types[t]->name, &g), b.lower, b.upper,
                         exact);
        }
    }
  ck_assert_msg (upper[1] <= upper[0] * (1.0 + 1e-9),
                 "%s: PLD %.10g above RDP %.10g", describe ("pld", &g),
                 upper[1], upper[0]);
}

/* Calibration, checked by a fresh accountant at the answer. */
static void
check_calibration_point (gsl_rng *r, const dpacct_accountant_type *type)
{
  gaussian_run g;
  g.q = log_uniform (r, 1e-3, 0.5);
  g.steps = (uint64_t) log_uniform (r, 10.0, 1e4);
  g.delta = log_uniform (r, 1e-10, 1e-4);
  double target = log_uniform (r, 0.3, 10.0);
  dpacct_calibration c;
  int status = dpacct_noise_for_epsilon (type, NULL, g.q, g.steps,
                                         DPACCT_SAMPLING_POISSON, target,
                                         g.delta, NULL, &c);
  g.sigma = c.noise;
  ck_assert_msg (status == DPACCT_OK, "%s: status %d",
                 describe (type->name, &g), status);
  double eps = gaussian_epsilon (type, &g).upper;
  ck_assert_msg (eps <= target, "%s: calibrated epsilon %.10g above target "
                 "%.10g", describe (type->name, &g), eps, target);
}

/* Laplace noise on L2-clipped gradients (lap2; the paper's formula is not
 * a bound, so only its arithmetic is swept). */
static double
lap2_epsilon (const dpacct_accountant_type *type, double ratio,
              uint64_t dimension, double q, uint64_t steps, double delta)
{
  dpacct_event *mech, *sampled = NULL, *run;
  dpacct_accountant *acc;
  dpacct_bound b;
  ck_assert_int_eq (dpacct_event_laplace_l2_alloc (ratio, dimension, &mech),
                    DPACCT_OK);
  if (q < 1.0)
    ck_assert_int_eq (dpacct_event_poisson_alloc (q, mech, &sampled),
                      DPACCT_OK);
  ck_assert_int_eq (dpacct_event_self_composed_alloc (sampled ? sampled : mech,
                                                      steps, &run),
                    DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_alloc (type, NULL, &acc), DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_compose (acc, run, 1), DPACCT_OK);
  int status = dpacct_accountant_epsilon (acc, delta, &b);
  ck_assert_msg (status == DPACCT_OK && !isnan (b.upper) && b.upper >= 0.0
                 && (isnan (b.lower) || b.lower <= b.upper),
                 "%s: b/C %g n %llu q %g steps %llu delta %g: status %d, "
                 "[%g, %g]", type->name, ratio,
                 (unsigned long long) dimension, q,
                 (unsigned long long) steps, delta, status, b.lower, b.upper);
  dpacct_accountant_free (acc);
  dpacct_event_free (run);
  dpacct_event_free (sampled);
  dpacct_event_free (mech);
  return b.upper;
}

static void
check_lap2_point (gsl_rng *r)
{
  double ratio = log_uniform (r, 0.3, 10.0);
  uint64_t n = (uint64_t) log_uniform (r, 1.0, 1e6);
  double q = gsl_rng_uniform (r) < 0.15 ? 1.0 : log_uniform (r, 1e-4, 1.0);
  uint64_t steps = (uint64_t) log_uniform (r, 1.0, 1e5);
  double delta = log_uniform (r, 1e-12, 1e-3);
  double eps = lap2_epsilon (dpacct_accountant_lap2, ratio, n, q, steps, delta);
  ck_assert_msg (lap2_epsilon (dpacct_accountant_lap2, ratio * 1.2, n, q, steps,
                               delta) <= eps * (1.0 + 1e-12),
                 "lap2: more noise, more epsilon (b/C %g)", ratio);
  ck_assert_msg (lap2_epsilon (dpacct_accountant_lap2, ratio, n, q, 2 * steps,
                               delta) >= eps * (1.0 - 1e-12),
                 "lap2: more steps, less epsilon (b/C %g)", ratio);
  lap2_epsilon (dpacct_accountant_lap2_paper, ratio, n, q, steps, delta);
}

START_TEST (test_sweep_gaussian)
{
  gsl_rng *r = gsl_rng_alloc (gsl_rng_mt19937);
  gsl_rng_set (r, test_seed ());
  for (size_t i = 0, n = sweep_points (); i < n; i++)
    check_gaussian_point (r);
  gsl_rng_free (r);
}
END_TEST

START_TEST (test_sweep_calibration)
{
  gsl_rng *r = gsl_rng_alloc (gsl_rng_mt19937);
  gsl_rng_set (r, test_seed () + 1);
  for (size_t i = 0, n = sweep_points (); i < n; i++)
    {
      check_calibration_point (r, dpacct_accountant_rdp);
      check_calibration_point (r, dpacct_accountant_pld);
    }
  gsl_rng_free (r);
}
END_TEST

START_TEST (test_sweep_lap2)
{
  gsl_rng *r = gsl_rng_alloc (gsl_rng_mt19937);
  gsl_rng_set (r, test_seed () + 2);
  for (size_t i = 0, n = sweep_points (); i < n; i++)
    check_lap2_point (r);
  gsl_rng_free (r);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("domain");
  TCase *tc = tcase_create ("sweep");
  tcase_set_timeout (tc, 900);
  tcase_add_test (tc, test_sweep_gaussian);
  tcase_add_test (tc, test_sweep_calibration);
  tcase_add_test (tc, test_sweep_lap2);
  suite_add_tcase (s, tc);
  return test_run_suite (s);
}
