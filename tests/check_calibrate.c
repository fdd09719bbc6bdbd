/* check_calibrate.c - calibration is conservative and tight: the noise it
 * returns meets the target (checked by an independent accountant run),
 * a noise rel_tol smaller does not, and it agrees with peers' RDP
 * calibrations (tests/data/noise_multiplier.csv) up to their grid. */
#include <dpacct.h>
#include "testutil.h"
#include "internal.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

static double
epsilon_at (double sigma, double q, uint64_t steps, double delta)
{
  dpacct_event *e;
  dpacct_accountant *acc;
  dpacct_bound b;
  ck_assert_int_eq (dpacct_dpsgd_event_alloc (sigma, q, steps,
                                              DPACCT_SAMPLING_POISSON, &e),
                    DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_alloc (dpacct_accountant_rdp, NULL, &acc),
                    DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_compose (acc, e, 1), DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_epsilon (acc, delta, &b), DPACCT_OK);
  dpacct_accountant_free (acc);
  dpacct_event_free (e);
  return b.upper;
}

static void
check_conservative_and_tight (double target, double delta, double q,
                              uint64_t steps, double rel_tol)
{
  dpacct_calibration_options o;
  dpacct_calibration_options_init (&o);
  o.rel_tol = rel_tol;
  dpacct_calibration r;
  ck_assert_int_eq (dpacct_noise_for_epsilon (dpacct_accountant_rdp, NULL, q,
                                              steps, DPACCT_SAMPLING_POISSON,
                                              target, delta, &o, &r),
                    DPACCT_OK);
  double reached = epsilon_at (r.noise, q, steps, delta);
  ck_assert_msg (reached <= target, "target %g q=%g T=%llu: sigma %.17g gives "
                 "%.17g", target, q, (unsigned long long) steps, r.noise,
                 reached);
  ck_assert (reached == r.epsilon_upper);
  double smaller = r.noise / (1.0 + rel_tol);
  ck_assert_msg (epsilon_at (smaller, q, steps, delta) > target,
                 "target %g q=%g T=%llu: sigma %.17g is not the smallest",
                 target, q, (unsigned long long) steps, r.noise);
  ck_assert (r.noise_below < r.noise && r.noise <= (1 + rel_tol) * r.noise_below);
}

START_TEST (test_against_peer_table)
{
  test_table *t = test_table_load ("noise_multiplier.csv");
  size_t ct = test_table_column (t, "target_epsilon");
  size_t cd = test_table_column (t, "delta"), cq = test_table_column (t, "q");
  size_t cs = test_table_column (t, "steps");
  size_t cp = test_table_column (t, "sigma_dpa_rdp");
  for (size_t r = 0; r < t->n_rows; r++)
    {
      double target = test_table_number (t, r, ct);
      double delta = test_table_number (t, r, cd), q = test_table_number (t, r, cq);
      uint64_t steps = (uint64_t) test_table_number (t, r, cs);
      check_conservative_and_tight (target, delta, q, steps, 1e-3);
      dpacct_calibration c;
      ck_assert_int_eq (dpacct_noise_for_epsilon (dpacct_accountant_rdp, NULL, q,
                                                  steps, DPACCT_SAMPLING_POISSON,
                                                  target, delta, NULL, &c),
                        DPACCT_OK);
      /* Same conversion, different order grids: within 2 %. */
      ck_assert_rel (c.noise, test_table_number (t, r, cp), 0.02,
                     "target %g q=%g T=%llu", target, q,
                     (unsigned long long) steps);
    }
  test_table_free (t);
}
END_TEST

START_TEST (test_random_runs_are_never_above_target)
{
  srand ((unsigned) test_seed ());
  for (int i = 0; i < 40; i++)
    {
      double target = exp (log (0.1) + (rand () / (double) RAND_MAX) * log (200.0));
      double q = exp (log (1e-4) + (rand () / (double) RAND_MAX) * log (1e4));
      uint64_t steps = 1 + (uint64_t) exp ((rand () / (double) RAND_MAX) * log (1e5));
      double tol = i % 2 ? 1e-3 : 1e-6;
      check_conservative_and_tight (target, 1e-5, fmin (q, 1.0), steps, tol);
    }
}
END_TEST

/* Any event family: the Laplace scale for k-fold Laplace, where pure-DP
 * composition gives epsilon = k / b exactly at the optimum. */
static int
laplace_run (double b, void *context, dpacct_event **out)
{
  dpacct_event *lap;
  int status = dpacct_event_laplace_alloc (b, &lap);
  if (status == DPACCT_OK)
    status = dpacct_event_self_composed_alloc (lap, *(uint64_t *) context, out);
  dpacct_event_free (lap);
  return status;
}

START_TEST (test_any_event_family)
{
  uint64_t k = 10;
  dpacct_calibration r;
  ck_assert_int_eq (dpacct_calibrate_noise (dpacct_accountant_rdp, NULL,
                                            laplace_run, &k, 10.0, 1e-9, NULL,
                                            &r), DPACCT_OK);
  ck_assert (r.epsilon_upper <= 10.0);
  ck_assert (r.noise <= 1.0 * (1 + 1e-3) && r.noise > 0.9);
}
END_TEST

START_TEST (test_errors)
{
  dpacct_calibration r;
  dpacct_calibration_options o;
  dpacct_calibration_options_init (&o);
  /* Unreachable: even sigma = 1e6 cannot give epsilon 1e-9 here. */
  ck_assert_int_eq (dpacct_noise_for_epsilon (dpacct_accountant_rdp, NULL, 1.0,
                                              10000000, DPACCT_SAMPLING_POISSON,
                                              1e-9, 1e-5, &o, &r),
                    DPACCT_ERANGE);
  ck_assert (isnan (r.noise));
  ck_assert_int_eq (dpacct_noise_for_epsilon (dpacct_accountant_rdp, NULL, 0.01,
                                              100, DPACCT_SAMPLING_POISSON,
                                              0.0, 1e-5, &o, &r), DPACCT_EDOM);
  ck_assert_int_eq (dpacct_noise_for_epsilon (dpacct_accountant_rdp, NULL, 0.01,
                                              100, DPACCT_SAMPLING_POISSON,
                                              1.0, 1.0, &o, &r), DPACCT_EDOM);
  ck_assert_int_eq (dpacct_noise_for_epsilon (dpacct_accountant_rdp, NULL, 1.5,
                                              100, DPACCT_SAMPLING_POISSON,
                                              1.0, 1e-5, &o, &r), DPACCT_EDOM);
  o.rel_tol = 0.0;
  ck_assert_int_eq (dpacct_noise_for_epsilon (dpacct_accountant_rdp, NULL, 0.01,
                                              100, DPACCT_SAMPLING_POISSON,
                                              1.0, 1e-5, &o, &r), DPACCT_EDOM);
  dpacct_calibration_options_init (&o);
  o.max_iter = 1;
  o.rel_tol = 1e-12;
  ck_assert_int_eq (dpacct_noise_for_epsilon (dpacct_accountant_rdp, NULL, 0.01,
                                              100, DPACCT_SAMPLING_POISSON,
                                              1.0, 1e-5, &o, &r), DPACCT_EMAXITER);
  ck_assert_int_eq (dpacct_calibrate_noise (dpacct_accountant_rdp, NULL, NULL,
                                            NULL, 1.0, 1e-5, NULL, &r),
                    DPACCT_EINVAL);
  /* A huge target is met by the smallest noise searched. */
  ck_assert_int_eq (dpacct_noise_for_epsilon (dpacct_accountant_rdp, NULL, 1e-4,
                                              1, DPACCT_SAMPLING_POISSON,
                                              1e5, 1e-5, NULL, &r), DPACCT_OK);
  ck_assert (r.noise > 0 && r.epsilon_upper <= 1e5);
}
END_TEST

/* ---- runs where one phase's noise is asked for ----------------------- */

/* A run of phases; the one at `unknown` gets the noise asked for.  With
 * `all_move` every other phase moves with the noise too, by an ulp of
 * its sigma (nothing a bound can see), so that no leaf is fixed and
 * calibration takes its plain path: the reference for its fast one. */
typedef struct
{
  const double *sigma, *q;
  size_t n, unknown;
  uint64_t steps;
  int all_move;
} phased_run;

static int
make_phased (double noise, void *context, dpacct_event **out)
{
  const phased_run *r = context;
  dpacct_event *events[24];
  int status = DPACCT_OK;
  size_t made = 0;
  ck_assert (r->n <= 24);
  for (; made < r->n && status == DPACCT_OK; made++)
    {
      double sigma = made == r->unknown ? noise : r->sigma[made];
      if (r->all_move && made != r->unknown)
        sigma *= 1.0 + (noise < 1.5 ? 2.0 : 1.0) * DBL_EPSILON;
      status = dpacct_dpsgd_event_alloc (sigma, r->q[made], r->steps,
                                         r->q[made] < 1.0
                                             ? DPACCT_SAMPLING_POISSON
                                             : DPACCT_SAMPLING_NONE,
                                         &events[made]);
    }
  if (status == DPACCT_OK)
    status = dpacct_event_sequence_alloc (
        (const dpacct_event *const *) events, made, out);
  for (size_t i = 0; i < made; i++)
    dpacct_event_free (events[i]);
  return status;
}

/* The accountant TYPE's own bound of the run with this noise. */
static dpacct_bound
bound_at (const dpacct_accountant_type *type, const phased_run *r,
          double noise, double delta)
{
  dpacct_event *e;
  dpacct_accountant *acc;
  dpacct_bound b;
  ck_assert_int_eq (make_phased (noise, (void *) r, &e), DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_alloc (type, NULL, &acc), DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_compose (acc, e, 1), DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_epsilon (acc, delta, &b), DPACCT_OK);
  dpacct_accountant_free (acc);
  dpacct_event_free (e);
  return b;
}

static dpacct_bound
pld_bound_at (const phased_run *r, double noise, double delta)
{
  return bound_at (dpacct_accountant_pld, r, noise, delta);
}

static double
rdp_epsilon_at (const phased_run *r, double noise, double delta)
{
  return bound_at (dpacct_accountant_rdp, r, noise, delta).upper;
}

/* 20 Poisson-sampled phases, sigma 0.8..1.2 and q 0.002..0.02 (the bench
 * run of `bench runs`, smaller), where calibration takes the fast path:
 * its answer meets the target (the accountant's own bound there is at
 * most the target), a noise rel_tol below it does not, and it lies within
 * rel_tol of the plain path's answer. */
START_TEST (test_one_phase_of_many)
{
  double sigma[20], q[20], delta = 1e-5, target = 2.0, tol = 1e-3;
  for (int i = 0; i < 20; i++)
    sigma[i] = 0.8 + 0.02 * i, q[i] = 0.002 + 0.0009 * i;
  phased_run run = { sigma, q, 20, 10, 50, 0 };
  dpacct_calibration fast, plain;
  ck_assert_int_eq (dpacct_calibrate_noise (dpacct_accountant_pld, NULL,
                                            make_phased, &run, target, delta,
                                            NULL, &fast),
                    DPACCT_OK);
  dpacct_bound at = pld_bound_at (&run, fast.noise, delta);
  ck_assert_msg (fast.epsilon_upper <= target && at.upper <= target
                     && fast.bound.upper == fast.epsilon_upper,
                 "at %.17g: pld upper %.17g, calibration's %.17g",
                 fast.noise, at.upper, fast.epsilon_upper);
  dpacct_bound below = pld_bound_at (&run, fast.noise * (1 - tol), delta);
  ck_assert_msg (below.upper > target, "at %.17g: pld upper %.17g",
                 fast.noise * (1 - tol), below.upper);
  run.all_move = 1;
  ck_assert_int_eq (dpacct_calibrate_noise (dpacct_accountant_pld, NULL,
                                            make_phased, &run, target, delta,
                                            NULL, &plain),
                    DPACCT_OK);
  ck_assert_msg (fabs (fast.noise / plain.noise - 1) <= tol,
                 "fast %.17g, plain %.17g", fast.noise, plain.noise);
  ck_assert_msg (fast.evaluations >= 3, "%u", fast.evaluations);
}
END_TEST

static double
uniform (double lo, double hi)
{
  return lo + (hi - lo) * (rand () / (double) RAND_MAX);
}

/* Random runs of 2 to 6 phases (some unsampled), the target the epsilon
 * at a random noise of one phase: the fast path's answer meets the target
 * by the accountant's own bound and lies within rel_tol of the plain
 * path's.  Only where that phase moves epsilon enough for rel_tol to be
 * seen through the accountant's own accuracy (10 % more noise, 5 % less
 * epsilon): elsewhere neither path's answer is defined to rel_tol.  (The
 * accountant's bound, refined on its own ladder at each noise, is not
 * monotone in the noise to better than its accuracy, so a noise rel_tol
 * below the answer may meet the target by it: not asserted here.) */
START_TEST (test_random_runs_fast_as_plain)
{
  int tested = 0;
  srand ((unsigned) test_seed () + 7);
  for (int t = 0; t < 20 && tested < 2; t++)
    {
      double sigma[6], q[6], delta = 1e-6, tol = 1e-3;
      size_t n = 2 + (size_t) (rand () % 5);
      for (size_t i = 0; i < n; i++)
        sigma[i] = uniform (1.0, 4.0),
        q[i] = rand () % 4 == 0 ? 1.0 : uniform (0.001, 0.05);
      phased_run run = { sigma, q, n, (size_t) rand () % n,
                         1 + (uint64_t) (rand () % 100), 0 };
      double noise = uniform (0.5, 2.0);
      double target = pld_bound_at (&run, noise, delta).upper;
      if (!(pld_bound_at (&run, 1.1 * noise, delta).upper < 0.95 * target))
        continue;
      tested++;
      dpacct_calibration fast, plain;
      ck_assert_int_eq (dpacct_calibrate_noise (dpacct_accountant_pld, NULL,
                                                make_phased, &run, target,
                                                delta, NULL, &fast),
                        DPACCT_OK);
      double at = pld_bound_at (&run, fast.noise, delta).upper;
      run.all_move = 1;
      ck_assert_int_eq (dpacct_calibrate_noise (dpacct_accountant_pld, NULL,
                                                make_phased, &run, target,
                                                delta, NULL, &plain),
                        DPACCT_OK);
      ck_assert_msg (at <= target
                         && fabs (fast.noise / plain.noise - 1) <= tol,
                     "run %d: target %.17g, fast %.17g (pld %.17g), plain "
                     "%.17g", t, target, fast.noise, at, plain.noise);
    }
  ck_assert_int_eq (tested, 2);
}
END_TEST

/* A target that the other phases alone already spend: epsilon barely
 * moves with the one phase's noise, so calibration evaluates noise_max
 * early and gives up there (ERANGE) after a few evaluations, not after
 * doubling to it; the rdp guide of a 1000-phase run took twenty.
 * Halfway between what those phases spend and the run at noise 1, the
 * answer meets the target and a noise rel_tol below it does not. */
START_TEST (test_target_out_of_reach)
{
  double sigma[20], q[20], delta = 1e-5, tol = 1e-3;
  for (int i = 0; i < 20; i++)
    sigma[i] = 0.8 + 0.02 * i, q[i] = 0.002 + 0.0009 * i;
  q[10] = 2e-4; /* the phase asked for moves epsilon little */
  phased_run run = { sigma, q, 20, 10, 100, 0 };
  dpacct_calibration_options o;
  dpacct_calibration_options_init (&o);
  double rest = rdp_epsilon_at (&run, o.noise_max, delta);
  dpacct_calibration c;
  ck_assert_int_eq (dpacct_calibrate_noise (dpacct_accountant_rdp, NULL,
                                            make_phased, &run, 0.999 * rest,
                                            delta, NULL, &c),
                    DPACCT_ERANGE);
  ck_assert_msg (c.evaluations <= 4, "%u evaluations", c.evaluations);
  double target = 0.5 * (rest + rdp_epsilon_at (&run, 1.0, delta));
  ck_assert_int_eq (dpacct_calibrate_noise (dpacct_accountant_rdp, NULL,
                                            make_phased, &run, target, delta,
                                            NULL, &c),
                    DPACCT_OK);
  ck_assert_msg (rdp_epsilon_at (&run, c.noise, delta) <= target
                     && rdp_epsilon_at (&run, c.noise * (1 - tol), delta)
                            > target,
                 "noise %.17g, target %.17g", c.noise, target);
}
END_TEST

/* One leaf of `steps` Gaussian steps, Poisson-sampled at q (< 1) or not. */
static dpacct_leaf
gaussian_leaf (double sigma, double q, uint64_t steps)
{
  dpacct_leaf l = { NULL, DPACCT_EVENT_GAUSSIAN, sigma, 1,
                    q < 1.0 ? DPACCT_EVENT_POISSON_SAMPLED
                            : DPACCT_LEAF_UNSAMPLED,
                    q, steps };
  return l;
}

/* The fast path itself (the PLD accountant's dpacct_fixed_run_hook), on
 * fixed leaves with a varying one at several noises: each of its bounds
 * is at least the accountant's own lower bound of the same run, at least
 * the exact epsilon where there is one (unsampled Gaussian phases compose
 * to one Gaussian mechanism of noise 1 / sqrt(sum T_i / sigma_i^2), in
 * MPFR), and within the accountant's accuracy of the exact value.  The
 * fourth fixed leaf has the first one's noise at twice its rate (when
 * sampled), so that the product cannot take one's step for the other's
 * (the ladder's last steps are reused there). */
START_TEST (test_fixed_grid_bounds)
{
  static const double fixed_sigma[] = { 2.0, 5.0, 3.0, 2.0 };
  /* 2.0 before 0.9: a run with only more noise than the first may leave
   * the direction the first ladder had below the other unmade. */
  static const double noises[] = { 1.3, 2.0, 0.9, 1.0 };
  int sampled = _i;
  double q = sampled ? 0.01 : 1.0, delta = 1e-6;
  uint64_t steps = sampled ? 200 : 10;
  dpacct_leaf fixed[4], varying;
  for (int i = 0; i < 4; i++)
    fixed[i] = gaussian_leaf (fixed_sigma[i] * (sampled ? 0.4 : 1.0),
                              i == 3 && sampled ? 2.0 * q : q, steps);
  const dpacct_fixed_run_hook *hook
    = dpacct_accountant_fixed_run (dpacct_accountant_pld);
  ck_assert (hook != NULL
             && dpacct_accountant_fixed_run (dpacct_accountant_rdp) == NULL);
  dpacct_accountant_options o;
  dpacct_accountant_options_init (&o);
  dpacct_accountant_options_set_int (&o, "upper-only", 1);
  dpacct_fixed_run *run;
  dpacct_bound b;
  for (size_t k = 0; k < sizeof noises / sizeof noises[0]; k++)
    {
      varying = gaussian_leaf (noises[k], q, steps);
      /* The run's leaves in its own order (that of `sigma` below). */
      dpacct_leaf in_order[5] = { fixed[0], varying, fixed[1], fixed[2],
                                  fixed[3] };
      if (k == 0)
        ck_assert_int_eq (hook->alloc (&o, delta, in_order, 5, fixed, 4,
                                       &varying, 1, &run, &b),
                          DPACCT_OK);
      else
        ck_assert_int_eq (hook->epsilon (run, &varying, 1, &b), DPACCT_OK);
      ck_assert (run != NULL);
      double sigma[5] = { fixed[0].parameter, noises[k], fixed[1].parameter,
                          fixed[2].parameter, fixed[3].parameter };
      double rates[5] = { q, q, q, q, fixed[3].rate };
      phased_run r = { sigma, rates, 5, 1, steps, 0 };
      dpacct_bound own = pld_bound_at (&r, noises[k], delta);
      /* The first bound is the accountant's own, bit for bit (composed in
       * another order, it differs in the last bits, and calibration could
       * return a noise that meets a target the accountant misses). */
      if (k == 0)
        ck_assert_msg (b.upper == own.upper, "first bound %.17g, pld %.17g",
                       b.upper, own.upper);
      ck_assert_msg (b.upper >= own.lower
                         && b.upper <= own.upper * (1 + 2e-3),
                     "noise %g: fixed grid %.17g, pld [%.17g, %.17g]",
                     noises[k], b.upper, own.lower, own.upper);
      if (sampled)
        continue;
      double mu2 = 0.0;
      for (int i = 0; i < 5; i++)
        mu2 += (double) steps / (sigma[i] * sigma[i]);
      double exact
        = test_exact_gaussian_epsilon (1.0 / sqrt (mu2), 1.0, delta);
      ck_assert_msg (b.upper >= exact && b.upper <= exact * (1 + 2e-3),
                     "noise %g: fixed grid %.17g, exact %.17g", noises[k],
                     b.upper, exact);
    }
  hook->free (run);
  /* Nothing fixed, or nothing varying: nothing to keep. */
  ck_assert_int_eq (hook->alloc (&o, delta, &varying, 1, fixed, 0, &varying,
                                 1, &run, &b),
                    DPACCT_EUNSUP);
  ck_assert (run == NULL);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("calibrate");
  TCase *tc = tcase_create ("core");
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_against_peer_table);
  tcase_add_test (tc, test_random_runs_are_never_above_target);
  tcase_add_test (tc, test_any_event_family);
  tcase_add_test (tc, test_errors);
  suite_add_tcase (s, tc);
  tc = tcase_create ("one phase of many");
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_one_phase_of_many);
  tcase_add_test (tc, test_random_runs_fast_as_plain);
  tcase_add_test (tc, test_target_out_of_reach);
  tcase_add_loop_test (tc, test_fixed_grid_bounds, 0, 2);
  suite_add_tcase (s, tc);
  return test_run_suite (s);
}
