/* check_rdp.c - the RDP accountant against independent references:
 * 50-digit RDP values (tests/data/rdp_exact.csv), the improved conversion
 * recomputed here, the exact Gaussian delta computed with MPFR, and the
 * monotonicity and edge-case properties every accountant must have. */
#include <dpacct.h>
#include "../lib/rdp_internal.h"
#include "testutil.h"

#include <mpfr.h>
#include <stdlib.h>

/* ---- per-order values against the 50-digit table ----------------------- */

START_TEST (test_rdp_matches_exact_table)
{
  test_table *t = test_table_load ("rdp_exact.csv");
  size_t cq = test_table_column (t, "q"), cs = test_table_column (t, "sigma");
  size_t co = test_table_column (t, "order");
  size_t ce = test_table_column (t, "rdp_exact");
  for (size_t r = 0; r < t->n_rows; r++)
    {
      double q = test_table_number (t, r, cq), s = test_table_number (t, r, cs);
      double a = test_table_number (t, r, co);
      double rdp;
      ck_assert_int_eq (dpacct_rdp_sampled_gaussian (q, s, a, &rdp), DPACCT_OK);
      ck_assert_rel (rdp, test_table_number (t, r, ce), 1e-9,
                     "q=%g sigma=%g order=%g", q, s, a);
    }
  test_table_free (t);
}
END_TEST

/* Fractional orders from 1.001 to 2000.5, where the search over real
 * orders lands: 30-digit values (tests/data/rdp_fractional.csv). */
START_TEST (test_rdp_matches_fractional_table)
{
  test_table *t = test_table_load ("rdp_fractional.csv");
  size_t cq = test_table_column (t, "q"), cs = test_table_column (t, "sigma");
  size_t co = test_table_column (t, "order");
  size_t ce = test_table_column (t, "rdp_exact");
  for (size_t r = 0; r < t->n_rows; r++)
    {
      double q = test_table_number (t, r, cq), s = test_table_number (t, r, cs);
      double a = test_table_number (t, r, co);
      double rdp;
      ck_assert_int_eq (dpacct_rdp_sampled_gaussian (q, s, a, &rdp), DPACCT_OK);
      ck_assert_rel (rdp, test_table_number (t, r, ce), 1e-9,
                     "q=%g sigma=%g order=%g", q, s, a);
    }
  test_table_free (t);
}
END_TEST

/* Large orders go to the quadrature too: against the MPFR enclosure of the
 * binomial sum where the search lands for tiny epsilon, around the order
 * 2 sigma^2 log(1/q) past which the RDP rises steeply (the integrand has
 * two peaks there). */
START_TEST (test_quadrature_at_large_orders)
{
  const double cases[][3] = { { 1e-4, 10, 1000 }, { 1e-4, 10, 1842 },
                              { 1e-4, 10, 2500 }, { 1e-3, 5, 345 },
                              { 1e-3, 5, 700 }, { 0.01, 2, 600 } };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      double q = cases[i][0], s = cases[i][1], a = cases[i][2];
      double log_a, lo, hi;
      ck_assert_int_eq (dpacct_rdp_sampled_gaussian_log_a (q, s, a, &log_a),
                        DPACCT_OK);
      ck_assert_int_eq (dpacct_rdp_sampled_gaussian_log_a_enclose (q, s, a, 128,
                                                                   &lo, &hi),
                        DPACCT_OK);
      ck_assert_msg (log_a >= lo * (1 - 1e-9) && log_a <= hi * (1 + 1e-9),
                     "q=%g sigma=%g order=%g: %.17g outside [%.17g, %.17g]", q,
                     s, a, log_a, lo, hi);
    }
}
END_TEST

/* The quadrature used at fractional orders, checked at integer orders
 * against the exact binomial sum. */
START_TEST (test_quadrature_matches_sum)
{
  const double qs[] = { 1e-6, 1e-3, 0.1, 0.9 };
  const double sigmas[] = { 0.3, 1.0, 5.0, 50.0 };
  const double orders[] = { 2, 3, 8, 32 };
  for (size_t i = 0; i < 4; i++)
    for (size_t j = 0; j < 4; j++)
      for (size_t k = 0; k < 4; k++)
        {
          double log_a, quad;
          ck_assert_int_eq (dpacct_rdp_sampled_gaussian_log_a (
                              qs[i], sigmas[j], orders[k], &log_a), DPACCT_OK);
          ck_assert_int_eq (dpacct_log_a_minus_one_quadrature (
                              qs[i], sigmas[j], orders[k], &quad), DPACCT_OK);
          /* log A = log1p(exp(log(A - 1))) */
          double from_quad = quad > 40 ? quad + log1p (exp (-quad))
                                       : log1p (exp (quad));
          ck_assert_rel (from_quad, log_a, 1e-9, "q=%g sigma=%g order=%g",
                         qs[i], sigmas[j], orders[k]);
        }
}
END_TEST

/* ---- conversion -------------------------------------------------------- */

static double
improved_conversion (double a, double rdp, double delta)
{
  return rdp + log ((a - 1) / a) - (log (delta) + log (a)) / (a - 1);
}

/* For each (q, sigma) of the table and T steps, the accountant's epsilon
 * over the table's orders equals the improved conversion of the exact
 * values, minimised here over the same orders. */
START_TEST (test_epsilon_is_improved_conversion_of_exact)
{
  test_table *t = test_table_load ("rdp_exact.csv");
  size_t cq = test_table_column (t, "q"), cs = test_table_column (t, "sigma");
  size_t co = test_table_column (t, "order");
  size_t ce = test_table_column (t, "rdp_exact");
  const double steps[] = { 1, 100, 10000 };
  const double deltas[] = { 1e-5, 1e-10 };
  size_t r = 0;
  while (r < t->n_rows)
    {
      double q = test_table_number (t, r, cq), s = test_table_number (t, r, cs);
      double orders[64], exact[64];
      size_t n = 0;
      for (; r < t->n_rows && test_table_number (t, r, cq) == q
             && test_table_number (t, r, cs) == s; r++, n++)
        {
          orders[n] = test_table_number (t, r, co);
          exact[n] = test_table_number (t, r, ce);
        }
      for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 2; j++)
          {
            double want = INFINITY;
            for (size_t k = 0; k < n; k++)
              want = fmin (want, improved_conversion (orders[k],
                                                      steps[i] * exact[k],
                                                      deltas[j]));
            want = fmax (want, 0.0);
            dpacct_accountant_options o;
            dpacct_accountant_options_init (&o);
            dpacct_accountant_options_set_doubles (&o, "orders", orders, n);
            dpacct_event *ev;
            dpacct_accountant *acc;
            dpacct_bound b;
            ck_assert_int_eq (dpacct_dpsgd_event_alloc (s, q, (uint64_t) steps[i],
                                                        DPACCT_SAMPLING_POISSON,
                                                        &ev), DPACCT_OK);
            ck_assert_int_eq (dpacct_accountant_alloc (dpacct_accountant_rdp,
                                                       &o, &acc), DPACCT_OK);
            ck_assert_int_eq (dpacct_accountant_compose (acc, ev, 1), DPACCT_OK);
            ck_assert_int_eq (dpacct_accountant_epsilon (acc, deltas[j], &b),
                              DPACCT_OK);
            ck_assert_rel (b.upper, want, 1e-9, "q=%g sigma=%g T=%g delta=%g",
                           q, s, steps[i], deltas[j]);
            ck_assert (isnan (b.lower));
            dpacct_accountant_free (acc);
            dpacct_event_free (ev);
          }
    }
  test_table_free (t);
}
END_TEST

/* ---- the Gaussian sandwich --------------------------------------------- */

static dpacct_accountant *
dpsgd_accountant (double sigma, double q, uint64_t steps, int certified)
{
  dpacct_accountant_options o;
  dpacct_accountant_options_init (&o);
  dpacct_accountant_options_set_int (&o, "certified", certified);
  dpacct_event *ev;
  dpacct_accountant *acc;
  ck_assert_int_eq (dpacct_dpsgd_event_alloc (sigma, q, steps,
                                              q == 1.0 ? DPACCT_SAMPLING_NONE
                                                       : DPACCT_SAMPLING_POISSON,
                                              &ev), DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_alloc (dpacct_accountant_rdp, &o, &acc),
                    DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_compose (acc, ev, 1), DPACCT_OK);
  dpacct_event_free (ev);
  return acc;
}

START_TEST (test_gaussian_delta_sandwich)
{
  const double sigmas[] = { 0.5, 1, 2, 5, 10 };
  const double steps[] = { 1, 10, 1000, 100000 };
  const double epsilons[] = { 0.1, 1, 5, 20 };
  for (size_t i = 0; i < 5; i++)
    for (size_t j = 0; j < 4; j++)
      for (int certified = 0; certified <= 1; certified++)
        {
          dpacct_accountant *acc = dpsgd_accountant (sigmas[i], 1.0,
                                                     (uint64_t) steps[j],
                                                     certified);
          for (size_t k = 0; k < 4; k++)
            {
              dpacct_bound b;
              ck_assert_int_eq (dpacct_accountant_delta (acc, epsilons[k], &b),
                                DPACCT_OK);
              double exact = test_exact_gaussian_delta (sigmas[i], steps[j],
                                                   epsilons[k]);
              ck_assert_msg (b.upper >= exact && b.upper <= 1.0,
                             "sigma=%g T=%g eps=%g: RDP delta %.17g below "
                             "exact %.17g", sigmas[i], steps[j], epsilons[k],
                             b.upper, exact);
            }
          dpacct_accountant_free (acc);
        }
}
END_TEST

/* Epsilon too: never below the 50-digit analytic-Gaussian epsilon
 * (tests/data/gaussian_exact.csv), and within 25 % of it. */
START_TEST (test_gaussian_epsilon_above_exact)
{
  test_table *t = test_table_load ("gaussian_exact.csv");
  size_t cs = test_table_column (t, "sigma"), ck = test_table_column (t, "k");
  size_t cd = test_table_column (t, "delta");
  size_t ce = test_table_column (t, "epsilon_exact");
  for (size_t r = 0; r < t->n_rows; r++)
    {
      double s = test_table_number (t, r, cs), k = test_table_number (t, r, ck);
      double d = test_table_number (t, r, cd), exact = test_table_number (t, r, ce);
      dpacct_accountant *acc = dpsgd_accountant (s, 1.0, (uint64_t) k, 0);
      dpacct_bound b;
      ck_assert_int_eq (dpacct_accountant_epsilon (acc, d, &b), DPACCT_OK);
      ck_assert_msg (b.upper >= exact && b.upper <= 1.25 * exact,
                     "sigma=%g k=%g delta=%g: %.17g vs exact %.17g", s, k, d,
                     b.upper, exact);
      ck_assert (!b.order_at_edge);
      dpacct_accountant_free (acc);
    }
  test_table_free (t);
}
END_TEST

/* ---- real orders ------------------------------------------------------- */

/* The improved conversion of `steps` subsampled-Gaussian steps at order a,
 * from the per-step RDP (whose quadrature the 50-digit table checks). */
static double
conversion_at (double q, double sigma, double steps, double delta, double a)
{
  double r;
  ck_assert_int_eq (dpacct_rdp_sampled_gaussian (q, sigma, a, &r), DPACCT_OK);
  return improved_conversion (a, steps * r, delta);
}

static dpacct_bound
epsilon_on_orders (double sigma, double q, uint64_t steps, double delta,
                   const double *orders, size_t n)
{
  dpacct_accountant_options o;
  dpacct_accountant_options_init (&o);
  dpacct_accountant_options_set_doubles (&o, "orders", orders, n);
  dpacct_event *ev;
  dpacct_accountant *acc;
  dpacct_bound b;
  ck_assert_int_eq (dpacct_dpsgd_event_alloc (sigma, q, steps,
                                              q == 1.0 ? DPACCT_SAMPLING_NONE
                                                       : DPACCT_SAMPLING_POISSON,
                                              &ev), DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_alloc (dpacct_accountant_rdp, &o, &acc),
                    DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_compose (acc, ev, 1), DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_epsilon (acc, delta, &b), DPACCT_OK);
  dpacct_accountant_free (acc);
  dpacct_event_free (ev);
  return b;
}

/* The peers' RDP epsilons (tests/data/rdp_subsampled_gaussian.csv):
 * dp_accounting minimises the same conversion over its grid, autodp over
 * real orders.  Over real orders dpacct is at most either, and at most its
 * own grid's answer; its delta at dp_accounting's epsilon is at most the
 * delta asked of it; and the order it reports is a minimum: the
 * conversion rises on both sides of it. */
START_TEST (test_real_orders_against_peers)
{
  test_table *t = test_table_load ("rdp_subsampled_gaussian.csv");
  size_t cq = test_table_column (t, "q"), cs = test_table_column (t, "sigma");
  size_t cn = test_table_column (t, "steps"), cd = test_table_column (t, "delta");
  size_t ce = test_table_column (t, "epsilon_rdp");
  size_t ca = test_table_column (t, "epsilon_autodp");
  const double *grid;
  size_t n_grid;
  dpacct_rdp_default_orders (&grid, &n_grid);
  for (size_t r = 0; r < t->n_rows; r++)
    {
      double q = test_table_number (t, r, cq), s = test_table_number (t, r, cs);
      double steps = test_table_number (t, r, cn);
      double d = test_table_number (t, r, cd);
      double dpa = test_table_number (t, r, ce);
      double autodp = test_table_number (t, r, ca);
      dpacct_accountant *acc = dpsgd_accountant (s, q, (uint64_t) steps, 0);
      dpacct_bound b, on_grid, at_dpa;
      ck_assert_int_eq (dpacct_accountant_epsilon (acc, d, &b), DPACCT_OK);
      ck_assert_int_eq (dpacct_accountant_delta (acc, dpa, &at_dpa), DPACCT_OK);
      dpacct_accountant_free (acc);
      on_grid = epsilon_on_orders (s, q, (uint64_t) steps, d, grid, n_grid);
      ck_assert_msg (b.upper <= dpa * (1 + 1e-9) && b.upper <= autodp * (1 + 1e-9)
                     && b.upper <= on_grid.upper,
                     "q=%g sigma=%g T=%g delta=%g: %.17g against dp_accounting "
                     "%.17g, autodp %.17g, the grid %.17g", q, s, steps, d,
                     b.upper, dpa, autodp, on_grid.upper);
      ck_assert_msg (at_dpa.upper <= d * (1 + 1e-9), "q=%g sigma=%g T=%g: "
                     "delta %.17g at dp_accounting's epsilon", q, s, steps,
                     at_dpa.upper);
      ck_assert_msg (!b.order_at_edge, "q=%g sigma=%g T=%g delta=%g: order %g "
                     "at the edge", q, s, steps, d, b.order);
      double a = b.order, h = 1e-3 * (a - 1.0);
      double at = conversion_at (q, s, steps, d, a);
      ck_assert_rel (b.upper, at, 1e-12, "q=%g sigma=%g T=%g delta=%g order %g",
                     q, s, steps, d, a);
      double left = conversion_at (q, s, steps, d, a - h);
      double right = conversion_at (q, s, steps, d, a + h);
      ck_assert_msg (left > at && right > at, "q=%g sigma=%g T=%g delta=%g: "
                     "the conversion falls beside order %.17g (%.17g, %.17g, "
                     "%.17g)", q, s, steps, d, a, left, at, right);
    }
  test_table_free (t);
}
END_TEST

/* Epsilon of `event` under the neighbouring relation, over real orders
 * (orders NULL) or over the orders given. */
static dpacct_bound
event_epsilon (const dpacct_event *event, dpacct_neighbouring relation,
               const double *orders, size_t n, double delta)
{
  dpacct_accountant_options o;
  dpacct_accountant_options_init (&o);
  dpacct_accountant_options_set_int (&o, "neighbouring", relation);
  dpacct_accountant_options_set_doubles (&o, "orders", orders, n);
  dpacct_accountant *acc;
  dpacct_bound b;
  ck_assert_int_eq (dpacct_accountant_alloc (dpacct_accountant_rdp, &o, &acc),
                    DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_compose (acc, event, 1), DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_epsilon (acc, delta, &b), DPACCT_OK);
  dpacct_accountant_free (acc);
  return b;
}

/* The RDP of the mixed run below at order a, from the public functions. */
static double
mixed_run_rdp (double a)
{
  double sampled, gauss, lap;
  ck_assert_int_eq (dpacct_rdp_sampled_gaussian (0.01, 1.0, a, &sampled),
                    DPACCT_OK);
  ck_assert_int_eq (dpacct_rdp_gaussian (5.0, a, &gauss), DPACCT_OK);
  ck_assert_int_eq (dpacct_rdp_laplace (10.0, a, &lap), DPACCT_OK);
  return 100 * sampled + gauss + lap;
}

/* Runs of several mechanisms: over real orders the curve is the sum of
 * every mechanism's RDP at the order reported, and no worse than the grid;
 * replace-one counts two steps at sigma / sqrt 2; a mechanism whose RDP is
 * known at integer orders only keeps the whole run on the grid. */
START_TEST (test_real_orders_mixed_runs)
{
  const double *grid;
  size_t n_grid;
  dpacct_rdp_default_orders (&grid, &n_grid);
  dpacct_event *gauss, *sampled, *steps, *big, *lap, *small_lap, *lap_sampled,
    *lap_steps, *mixed, *with_lap;
  ck_assert_int_eq (dpacct_event_gaussian_alloc (1.0, &gauss), DPACCT_OK);
  ck_assert_int_eq (dpacct_event_poisson_alloc (0.01, gauss, &sampled), DPACCT_OK);
  ck_assert_int_eq (dpacct_event_self_composed_alloc (sampled, 100, &steps),
                    DPACCT_OK);
  ck_assert_int_eq (dpacct_event_gaussian_alloc (5.0, &big), DPACCT_OK);
  ck_assert_int_eq (dpacct_event_laplace_alloc (10.0, &lap), DPACCT_OK);
  ck_assert_int_eq (dpacct_event_laplace_alloc (2.0, &small_lap), DPACCT_OK);
  ck_assert_int_eq (dpacct_event_poisson_alloc (0.01, small_lap, &lap_sampled),
                    DPACCT_OK);
  ck_assert_int_eq (dpacct_event_self_composed_alloc (lap_sampled, 10,
                                                      &lap_steps), DPACCT_OK);
  const dpacct_event *parts[] = { steps, big, lap };
  ck_assert_int_eq (dpacct_event_sequence_alloc (parts, 3, &mixed), DPACCT_OK);
  const dpacct_event *parts2[] = { steps, lap_steps };
  ck_assert_int_eq (dpacct_event_sequence_alloc (parts2, 2, &with_lap),
                    DPACCT_OK);

  dpacct_bound real = event_epsilon (mixed, DPACCT_ADD_REMOVE, NULL, 0, 1e-5);
  dpacct_bound on_grid = event_epsilon (mixed, DPACCT_ADD_REMOVE, grid, n_grid,
                                        1e-5);
  double a = real.order, h = 1e-3 * (a - 1.0);
  double at = improved_conversion (a, mixed_run_rdp (a), 1e-5);
  ck_assert_rel (real.upper, at, 1e-12, "mixed run at order %g", a);
  ck_assert (real.upper <= on_grid.upper && !real.order_at_edge);
  ck_assert (improved_conversion (a - h, mixed_run_rdp (a - h), 1e-5) > at);
  ck_assert (improved_conversion (a + h, mixed_run_rdp (a + h), 1e-5) > at);

  real = event_epsilon (steps, DPACCT_REPLACE_ONE, NULL, 0, 1e-5);
  on_grid = event_epsilon (steps, DPACCT_REPLACE_ONE, grid, n_grid, 1e-5);
  double r;
  ck_assert_int_eq (dpacct_rdp_sampled_gaussian (0.01, 1.0 / M_SQRT2,
                                                 real.order, &r), DPACCT_OK);
  ck_assert_rel (real.upper, improved_conversion (real.order, 200 * r, 1e-5),
                 1e-12, "replace-one at order %g", real.order);
  ck_assert (real.upper <= on_grid.upper);

  real = event_epsilon (with_lap, DPACCT_ADD_REMOVE, NULL, 0, 1e-5);
  on_grid = event_epsilon (with_lap, DPACCT_ADD_REMOVE, grid, n_grid, 1e-5);
  ck_assert (real.upper == on_grid.upper && real.order == on_grid.order);
  ck_assert (real.order == floor (real.order));

  dpacct_event *all[] = { gauss, sampled, steps, big, lap, small_lap,
                          lap_sampled, lap_steps, mixed, with_lap };
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    dpacct_event_free (all[i]);
}
END_TEST

/* A run of phases that all differ, like issue 15's 1000-phase run (40
 * here): the search over real orders models the summed curve from the
 * cheap integer orders and evaluates it exactly only where the model
 * points, so check what it reports against the phases' own RDP, summed
 * here: the bound is the conversion at the order reported (the model
 * never stands in for a value), that order is a minimum (the conversion
 * rises on both sides), it is no worse than the grid, and the delta
 * search lands on the same point. */
enum { MANY_PHASES = 40, MANY_STEPS = 100 };

static double
phase_sigma (int i)
{
  return 0.8 + 0.4 * i / MANY_PHASES;
}

static double
phase_q (int i)
{
  return 0.001 + 0.009 * i / MANY_PHASES;
}

static double
many_phases_conversion (double a, double delta)
{
  double sum = 0.0;
  for (int i = 0; i < MANY_PHASES; i++)
    {
      double r;
      ck_assert_int_eq (dpacct_rdp_sampled_gaussian (phase_q (i), phase_sigma (i),
                                                     a, &r), DPACCT_OK);
      sum += MANY_STEPS * r;
    }
  return improved_conversion (a, sum, delta);
}

START_TEST (test_real_orders_many_phases)
{
  dpacct_event *phases[MANY_PHASES], *run;
  for (int i = 0; i < MANY_PHASES; i++)
    ck_assert_int_eq (dpacct_dpsgd_event_alloc (phase_sigma (i), phase_q (i),
                                                MANY_STEPS,
                                                DPACCT_SAMPLING_POISSON,
                                                &phases[i]), DPACCT_OK);
  ck_assert_int_eq (dpacct_event_sequence_alloc (
                      (const dpacct_event *const *) phases, MANY_PHASES, &run),
                    DPACCT_OK);
  const double *grid;
  size_t n_grid;
  dpacct_rdp_default_orders (&grid, &n_grid);
  const double deltas[] = { 1e-5, 1e-10 };
  for (size_t d = 0; d < 2; d++)
    {
      dpacct_bound real = event_epsilon (run, DPACCT_ADD_REMOVE, NULL, 0,
                                         deltas[d]);
      dpacct_bound on_grid = event_epsilon (run, DPACCT_ADD_REMOVE, grid,
                                            n_grid, deltas[d]);
      double a = real.order, h = 1e-3 * (a - 1.0);
      double at = many_phases_conversion (a, deltas[d]);
      ck_assert_rel (real.upper, at, 1e-12, "delta %g: order %.17g", deltas[d],
                     a);
      ck_assert_msg (many_phases_conversion (a - h, deltas[d]) > at
                     && many_phases_conversion (a + h, deltas[d]) > at,
                     "delta %g: the conversion falls beside order %.17g",
                     deltas[d], a);
      ck_assert (real.upper <= on_grid.upper && !real.order_at_edge);

      dpacct_accountant *acc;
      dpacct_bound back;
      ck_assert_int_eq (dpacct_accountant_alloc (dpacct_accountant_rdp, NULL,
                                                 &acc), DPACCT_OK);
      ck_assert_int_eq (dpacct_accountant_compose (acc, run, 1), DPACCT_OK);
      ck_assert_int_eq (dpacct_accountant_delta (acc, real.upper, &back),
                        DPACCT_OK);
      dpacct_accountant_free (acc);
      ck_assert_rel (back.upper, deltas[d], 1e-9, "delta %g back", deltas[d]);
    }
  for (int i = 0; i < MANY_PHASES; i++)
    dpacct_event_free (phases[i]);
  dpacct_event_free (run);
}
END_TEST

/* An optimum beyond the orders searched sits on the range's end, flagged;
 * the conversion still falls towards it. */
START_TEST (test_real_orders_range_ends)
{
  /* Tiny epsilon: the Gaussian's optimum is near sigma sqrt(2 log(1/delta)),
   * here 6e6. */
  dpacct_accountant *acc = dpsgd_accountant (1e6, 1.0, 1, 0);
  dpacct_bound b;
  ck_assert_int_eq (dpacct_accountant_epsilon (acc, 1e-8, &b), DPACCT_OK);
  dpacct_accountant_free (acc);
  ck_assert (b.order == DPACCT_RDP_MAX_SEARCH_ORDER && b.order_at_edge);
  ck_assert (conversion_at (1.0, 1e6, 1, 1e-8, 0.9 * b.order) > b.upper);
  /* Huge epsilon: the optimum is at order 1 + 5e-4. */
  acc = dpsgd_accountant (0.01, 1.0, 10000, 0);
  ck_assert_int_eq (dpacct_accountant_epsilon (acc, 1e-5, &b), DPACCT_OK);
  dpacct_accountant_free (acc);
  ck_assert (b.order == DPACCT_RDP_MIN_SEARCH_ORDER && b.order_at_edge);
  ck_assert (conversion_at (1.0, 0.01, 10000, 1e-5, 1.002) > b.upper);
  /* Inside the range, on either side of the grid: no flag. */
  acc = dpsgd_accountant (2000, 1.0, 1, 0);
  ck_assert_int_eq (dpacct_accountant_epsilon (acc, 1e-5, &b), DPACCT_OK);
  dpacct_accountant_free (acc);
  ck_assert (b.order > 4096 && !b.order_at_edge);
  acc = dpsgd_accountant (0.3, 1.0, 10000, 0);
  ck_assert_int_eq (dpacct_accountant_epsilon (acc, 1e-5, &b), DPACCT_OK);
  dpacct_accountant_free (acc);
  ck_assert (b.order < 1.02 && !b.order_at_edge);
}
END_TEST

/* Tiny RDP: delta is at most sqrt(1 - exp(-KL)) at every epsilon
 * (Bretagnolle and Huber), so epsilon is 0 once delta is above it.  Safe
 * against the exact total variation of one subsampled step,
 * q (2 Phi(1/(2 sigma)) - 1): epsilon is 0 only where it is at most delta,
 * and delta at a tiny epsilon is not below it. */
START_TEST (test_total_variation_bound)
{
  const double qs[] = { 1e-4, 1e-3 }, sigmas[] = { 1, 2, 5 };
  const double deltas[] = { 1e-5, 1e-4, 1e-3, 1e-2 };
  for (size_t i = 0; i < 2; i++)
    for (size_t j = 0; j < 3; j++)
      {
        dpacct_accountant *acc = dpsgd_accountant (sigmas[j], qs[i], 1, 0);
        double tv = qs[i] * erf (1.0 / (2.0 * M_SQRT2 * sigmas[j]));
        dpacct_bound b;
        for (size_t k = 0; k < 4; k++)
          {
            ck_assert_int_eq (dpacct_accountant_epsilon (acc, deltas[k], &b),
                              DPACCT_OK);
            ck_assert_msg (b.upper > 0.0 || tv <= deltas[k], "q=%g sigma=%g "
                           "delta=%g: epsilon 0 but the total variation is "
                           "%.17g", qs[i], sigmas[j], deltas[k], tv);
          }
        /* H_{e^eps} >= TV - (e^eps - 1). */
        ck_assert_int_eq (dpacct_accountant_delta (acc, 1e-9, &b), DPACCT_OK);
        ck_assert_msg (b.upper >= tv - 2e-9, "q=%g sigma=%g: delta %.17g, "
                       "total variation %.17g", qs[i], sigmas[j], b.upper, tv);
        dpacct_accountant_free (acc);
      }
  /* q 1e-4, sigma 2, delta 1e-3: the conversion is positive at every
   * order; the total variation bound (3.8e-5 here; exact 2.0e-5) gives 0. */
  for (double a = 1.01; a < 1e4; a *= 1.5)
    ck_assert (conversion_at (1e-4, 2, 1, 1e-3, a) > 0.0);
  dpacct_accountant *acc = dpsgd_accountant (2, 1e-4, 1, 0);
  dpacct_bound b;
  ck_assert_int_eq (dpacct_accountant_epsilon (acc, 1e-3, &b), DPACCT_OK);
  ck_assert (b.upper == 0.0 && b.order == DPACCT_RDP_MIN_SEARCH_ORDER);
  dpacct_accountant_free (acc);
}
END_TEST

/* ---- Laplace ----------------------------------------------------------- */

/* Laplace RDP at high precision: the closed form of Mironov 2017 in MPFR. */
static double
laplace_rdp_mpfr (double b, double a)
{
  mpfr_t x, y, t;
  mpfr_inits2 (256, x, y, t, (mpfr_ptr) 0);
  mpfr_set_d (x, (a - 1) / b, MPFR_RNDN);   /* a, b chosen so these are exact */
  mpfr_exp (x, x, MPFR_RNDN);
  mpfr_mul_d (x, x, a, MPFR_RNDN);
  mpfr_set_d (y, -a / b, MPFR_RNDN);
  mpfr_exp (y, y, MPFR_RNDN);
  mpfr_mul_d (y, y, a - 1, MPFR_RNDN);
  mpfr_add (x, x, y, MPFR_RNDN);
  mpfr_div_d (x, x, 2 * a - 1, MPFR_RNDN);
  mpfr_log (x, x, MPFR_RNDN);
  mpfr_div_d (x, x, a - 1, MPFR_RNDN);
  double r = mpfr_get_d (x, MPFR_RNDN);
  mpfr_clears (x, y, t, (mpfr_ptr) 0);
  return r;
}

START_TEST (test_laplace_rdp)
{
  const double bs[] = { 0.25, 0.5, 1, 4, 64 };
  const double orders[] = { 1.5, 2, 4, 16, 256 };
  for (size_t i = 0; i < 5; i++)
    {
      double previous = 0.0;
      for (size_t j = 0; j < 5; j++)
        {
          double r;
          ck_assert_int_eq (dpacct_rdp_laplace (bs[i], orders[j], &r), DPACCT_OK);
          ck_assert_rel (r, laplace_rdp_mpfr (bs[i], orders[j]), 1e-12,
                         "b=%g order=%g", bs[i], orders[j]);
          ck_assert (r >= previous && r <= 1.0 / bs[i]);
          previous = r;
        }
    }
}
END_TEST

/* k-fold Laplace: epsilon never below the exact value (laplace.csv). */
START_TEST (test_laplace_epsilon_above_exact)
{
  test_table *t = test_table_load ("laplace_exact.csv");
  size_t cb = test_table_column (t, "b"), ck = test_table_column (t, "k");
  size_t cd = test_table_column (t, "delta");
  size_t ce = test_table_column (t, "epsilon_exact");
  for (size_t r = 0; r < t->n_rows; r++)
    {
      double b = test_table_number (t, r, cb), k = test_table_number (t, r, ck);
      double d = test_table_number (t, r, cd), exact = test_table_number (t, r, ce);
      dpacct_event *lap, *run;
      dpacct_accountant *acc;
      dpacct_bound bound;
      ck_assert_int_eq (dpacct_event_laplace_alloc (b, &lap), DPACCT_OK);
      ck_assert_int_eq (dpacct_event_self_composed_alloc (lap, (uint64_t) k, &run),
                        DPACCT_OK);
      ck_assert_int_eq (dpacct_accountant_alloc (dpacct_accountant_rdp, NULL, &acc),
                        DPACCT_OK);
      ck_assert_int_eq (dpacct_accountant_compose (acc, run, 1), DPACCT_OK);
      ck_assert_int_eq (dpacct_accountant_epsilon (acc, d, &bound), DPACCT_OK);
      /* k / b: pure-DP composition, which the accountant also knows. */
      ck_assert_msg (bound.upper >= exact && bound.upper <= k / b,
                     "b=%g k=%g delta=%g: %.17g vs exact %.17g", b, k, d,
                     bound.upper, exact);
      dpacct_accountant_free (acc);
      dpacct_event_free (run);
      dpacct_event_free (lap);
    }
  test_table_free (t);
}
END_TEST

/* ---- properties -------------------------------------------------------- */

static double
dpsgd_epsilon (double sigma, double q, uint64_t steps, double delta)
{
  dpacct_accountant *acc = dpsgd_accountant (sigma, q, steps, 0);
  dpacct_bound b;
  ck_assert_int_eq (dpacct_accountant_epsilon (acc, delta, &b), DPACCT_OK);
  dpacct_accountant_free (acc);
  ck_assert_msg (b.upper >= 0.0 && !isnan (b.upper),
                 "sigma=%g q=%g T=%llu delta=%g: epsilon %g", sigma, q,
                 (unsigned long long) steps, delta, b.upper);
  return b.upper;
}

START_TEST (test_monotone_in_sigma_q_steps)
{
  const double sigmas[] = { 0.3, 0.6, 1, 2, 4, 8 };
  const double qs[] = { 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 0.5, 1 };
  const uint64_t steps[] = { 1, 10, 100, 1000, 10000 };
  for (size_t i = 0; i < 6; i++)
    for (size_t j = 0; j < 7; j++)
      for (size_t k = 0; k < 5; k++)
        {
          double e = dpsgd_epsilon (sigmas[i], qs[j], steps[k], 1e-5);
          if (i > 0)
            ck_assert (e <= dpsgd_epsilon (sigmas[i - 1], qs[j], steps[k], 1e-5));
          if (j > 0)
            ck_assert (e >= dpsgd_epsilon (sigmas[i], qs[j - 1], steps[k], 1e-5));
          if (k > 0)
            ck_assert (e >= dpsgd_epsilon (sigmas[i], qs[j], steps[k - 1], 1e-5));
        }
}
END_TEST

/* The edges of the documented domain: finite, non-negative, no NaN. */
START_TEST (test_edges)
{
  const double sigmas[] = { 0.1, 1, 1000 };
  const double qs[] = { 1e-7, 0.01, 1 };
  const uint64_t steps[] = { 1, 10000000 };
  const double deltas[] = { 1e-18, 1e-5, 0.5 };
  for (size_t i = 0; i < 3; i++)
    for (size_t j = 0; j < 3; j++)
      for (size_t k = 0; k < 2; k++)
        {
          dpacct_accountant *acc = dpsgd_accountant (sigmas[i], qs[j], steps[k], 0);
          for (size_t d = 0; d < 3; d++)
            {
              dpacct_bound b;
              ck_assert_int_eq (dpacct_accountant_epsilon (acc, deltas[d], &b),
                                DPACCT_OK);
              ck_assert_msg (b.upper >= 0.0 && isfinite (b.upper),
                             "sigma=%g q=%g T=%llu delta=%g: %g", sigmas[i],
                             qs[j], (unsigned long long) steps[k], deltas[d],
                             b.upper);
            }
          dpacct_bound b;
          ck_assert_int_eq (dpacct_accountant_delta (acc, 1000.0, &b), DPACCT_OK);
          ck_assert (b.upper >= 0.0 && b.upper <= 1.0);
          ck_assert_int_eq (dpacct_accountant_delta (acc, 0.0, &b), DPACCT_OK);
          ck_assert (b.upper >= 0.0 && b.upper <= 1.0);
          dpacct_accountant_free (acc);
        }
}
END_TEST

/* q = 1 through the sampled formula equals the plain Gaussian; q = 0 is 0. */
START_TEST (test_sampling_limits)
{
  double r, g;
  for (double a = 1.5; a < 300; a *= 2.3)
    {
      ck_assert_int_eq (dpacct_rdp_sampled_gaussian (1.0, 0.7, a, &r), DPACCT_OK);
      ck_assert_int_eq (dpacct_rdp_gaussian (0.7, a, &g), DPACCT_OK);
      ck_assert_rel (r, g, 1e-14, "order %g", a);
      ck_assert_int_eq (dpacct_rdp_sampled_gaussian (0.0, 0.7, a, &r), DPACCT_OK);
      ck_assert (r == 0.0);
    }
}
END_TEST

/* Certified epsilons bound the estimate from above by a hair, and are
 * flagged; they use the integer orders of the grid. */
START_TEST (test_certified_close_above)
{
  const double orders[] = { 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64 };
  dpacct_accountant_options o;
  dpacct_accountant_options_init (&o);
  dpacct_accountant_options_set_doubles (&o, "orders", orders, 11);
  dpacct_event *ev;
  ck_assert_int_eq (dpacct_dpsgd_event_alloc (1.1, 0.004, 10000,
                                              DPACCT_SAMPLING_POISSON, &ev),
                    DPACCT_OK);
  dpacct_bound plain, cert;
  for (int c = 0; c <= 1; c++)
    {
      dpacct_accountant *acc;
      dpacct_accountant_options_set_int (&o, "certified", c);
      ck_assert_int_eq (dpacct_accountant_alloc (dpacct_accountant_rdp, &o, &acc),
                        DPACCT_OK);
      ck_assert_int_eq (dpacct_accountant_compose (acc, ev, 1), DPACCT_OK);
      ck_assert_int_eq (dpacct_accountant_epsilon (acc, 1e-5, c ? &cert : &plain),
                        DPACCT_OK);
      dpacct_accountant_free (acc);
    }
  dpacct_event_free (ev);
  ck_assert (cert.certified && !plain.certified);
  /* Both are within rounding of the same value; the certified one is not
   * below the estimate by more than the estimate's own rounding. */
  ck_assert (cert.upper >= plain.upper * (1.0 - 1e-13));
  ck_assert_rel (cert.upper, plain.upper, 1e-10, "certified vs estimate");
}
END_TEST

/* ---- errors ------------------------------------------------------------ */

START_TEST (test_errors)
{
  double r;
  ck_assert_int_eq (dpacct_rdp_sampled_gaussian (1.5, 1, 2, &r), DPACCT_EDOM);
  ck_assert (isnan (r));
  ck_assert_int_eq (dpacct_rdp_sampled_gaussian (0.1, 0, 2, &r), DPACCT_EDOM);
  ck_assert_int_eq (dpacct_rdp_sampled_gaussian (0.1, 1, 1, &r), DPACCT_EDOM);
  ck_assert_int_eq (dpacct_rdp_gaussian (-1, 2, &r), DPACCT_EDOM);
  ck_assert_int_eq (dpacct_rdp_laplace (1, 0.5, &r), DPACCT_EDOM);
  double table[4] = { 0, 0, 1, 2 }, broken[4] = { 0, 0, 1, NAN };
  /* A NaN in the base mechanism's RDP is a numerical failure, not a bound. */
  ck_assert_int_eq (dpacct_rdp_poisson_general (0.1, broken, 3, &r), DPACCT_ENUMERIC);
  ck_assert_int_eq (dpacct_rdp_without_replacement_general (0.1, broken, INFINITY,
                                                            3, &r),
                    DPACCT_ENUMERIC);
  ck_assert_int_eq (dpacct_rdp_poisson_general (0.1, table, 2.5, &r), DPACCT_EUNSUP);
  ck_assert_int_eq (dpacct_rdp_without_replacement_general (0.1, table, INFINITY,
                                                            1.5, &r),
                    DPACCT_EUNSUP);
  const double orders[] = { 2, 3 }, rdp[] = { 1, 1 }, bad_orders[] = { 1, 2 };
  size_t idx;
  ck_assert_int_eq (dpacct_rdp_epsilon (orders, rdp, 2, 0.0, &r, &idx), DPACCT_EDOM);
  ck_assert_int_eq (dpacct_rdp_epsilon (orders, rdp, 2, 1.0, &r, &idx), DPACCT_EDOM);
  ck_assert_int_eq (dpacct_rdp_epsilon (bad_orders, rdp, 2, 0.1, &r, &idx),
                    DPACCT_EDOM);
  ck_assert_int_eq (dpacct_rdp_epsilon (orders, rdp, 0, 0.1, &r, &idx),
                    DPACCT_EINVAL);
  ck_assert_int_eq (dpacct_rdp_delta (orders, rdp, 2, -1.0, &r, &idx), DPACCT_EDOM);
  ck_assert_int_eq (dpacct_rdp_delta (orders, rdp, 2, INFINITY, &r, &idx),
                    DPACCT_EDOM);
  double lo, hi;
  ck_assert_int_eq (dpacct_rdp_sampled_gaussian_log_a_enclose (0.1, 1, 2.5, 128,
                                                               &lo, &hi),
                    DPACCT_EUNSUP);
  ck_assert_int_eq (dpacct_rdp_sampled_gaussian_log_a_enclose (0.1, 1, 2, 10,
                                                               &lo, &hi),
                    DPACCT_EDOM);
  ck_assert_int_eq (dpacct_rdp_sampled_gaussian_log_a_enclose (0, 1, 2, 128,
                                                               &lo, &hi),
                    DPACCT_EDOM);
}
END_TEST

static Suite *
rdp_suite (void)
{
  Suite *s = suite_create ("rdp");
  TCase *oracle = tcase_create ("oracle");
  tcase_set_timeout (oracle, 120);
  tcase_add_test (oracle, test_rdp_matches_exact_table);
  tcase_add_test (oracle, test_quadrature_matches_sum);
  tcase_add_test (oracle, test_epsilon_is_improved_conversion_of_exact);
  tcase_add_test (oracle, test_gaussian_delta_sandwich);
  tcase_add_test (oracle, test_gaussian_epsilon_above_exact);
  tcase_add_test (oracle, test_real_orders_against_peers);
  tcase_add_test (oracle, test_real_orders_range_ends);
  tcase_add_test (oracle, test_real_orders_mixed_runs);
  tcase_add_test (oracle, test_real_orders_many_phases);
  tcase_add_test (oracle, test_total_variation_bound);
  tcase_add_test (oracle, test_rdp_matches_fractional_table);
  tcase_add_test (oracle, test_quadrature_at_large_orders);
  tcase_add_test (oracle, test_laplace_rdp);
  tcase_add_test (oracle, test_laplace_epsilon_above_exact);
  suite_add_tcase (s, oracle);
  TCase *props = tcase_create ("properties");
  tcase_set_timeout (props, 120);
  tcase_add_test (props, test_monotone_in_sigma_q_steps);
  tcase_add_test (props, test_edges);
  tcase_add_test (props, test_sampling_limits);
  tcase_add_test (props, test_certified_close_above);
  tcase_add_test (props, test_errors);
  suite_add_tcase (s, props);
  return s;
}

int
main (void)
{
  return test_run_suite (rdp_suite ());
}
