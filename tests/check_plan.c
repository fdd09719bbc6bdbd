/* check_plan.c - cumulative-noise planning: the batch-size grid, the GDP
 * cross-check, each row against its definition and an independent
 * re-accounting, the rule on hand-made rows, the RDP reference of the
 * spec, and the shapes the paper predicts with the PLD accountant. */
#include <config.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <dpacct.h>

#include "testutil.h"

/* ------------------------------------------------------------ the grid */

START_TEST (test_batch_grid)
{
  uint64_t b[32];
  size_t n;
  ck_assert_int_eq (dpacct_plan_batch_grid (64, 50000, b, 32, &n), DPACCT_OK);
  ck_assert_uint_eq (n, 11);
  for (size_t i = 0; i + 1 < n; i++)
    ck_assert_uint_eq (b[i], UINT64_C (64) << i);
  ck_assert_uint_eq (b[n - 1], 50000);
  ck_assert_int_eq (dpacct_plan_batch_grid (3, 10, b, 32, &n), DPACCT_OK);
  ck_assert_uint_eq (n, 3);
  ck_assert (b[0] == 3 && b[1] == 6 && b[2] == 10);
  ck_assert_int_eq (dpacct_plan_batch_grid (64, 128, b, 32, &n), DPACCT_OK);
  ck_assert (n == 2 && b[0] == 64 && b[1] == 128);
  ck_assert_int_eq (dpacct_plan_batch_grid (7, 7, b, 32, &n), DPACCT_OK);
  ck_assert (n == 1 && b[0] == 7);
  /* The largest range still ends exactly at its end. */
  ck_assert_int_eq (dpacct_plan_batch_grid (1, UINT64_MAX, b, 32, &n),
                    DPACCT_ERANGE);
  ck_assert_int_eq (dpacct_plan_batch_grid (UINT64_C (1) << 40, UINT64_MAX,
                                            b, 32, &n), DPACCT_OK);
  ck_assert (n == 25 && b[n - 1] == UINT64_MAX);
  ck_assert_int_eq (dpacct_plan_batch_grid (64, 50000, b, 10, &n),
                    DPACCT_ERANGE);
  ck_assert_int_eq (dpacct_plan_batch_grid (0, 10, b, 32, &n), DPACCT_EDOM);
  ck_assert_int_eq (dpacct_plan_batch_grid (11, 10, b, 32, &n), DPACCT_EDOM);
  ck_assert_int_eq (dpacct_plan_batch_grid (1, 10, b, 32, NULL),
                    DPACCT_EINVAL);
}
END_TEST

/* ------------------------------------------------------------ GDP */

/* delta(epsilon) of mu-GDP from the C library's erfc: an implementation
 * independent of the one under test (GSL's log erfc). */
static double
gdp_delta_erfc (double mu, double epsilon)
{
  double a = -epsilon / mu + mu / 2, b = -epsilon / mu - mu / 2;
  return 0.5 * erfc (-a / M_SQRT2) - exp (epsilon) * 0.5 * erfc (-b / M_SQRT2);
}

START_TEST (test_gdp_mu)
{
  const double eps[] = { 0.1, 0.5, 1, 3, 8, 20 };
  const double deltas[] = { 1e-3, 1e-5, 1e-8 };
  for (size_t i = 0; i < sizeof eps / sizeof eps[0]; i++)
    for (size_t j = 0; j < sizeof deltas / sizeof deltas[0]; j++)
      {
        double mu;
        ck_assert_int_eq (dpacct_gdp_mu_for_epsilon (eps[i], deltas[j], &mu),
                          DPACCT_OK);
        ck_assert_rel (gdp_delta_erfc (mu, eps[i]), deltas[j], 1e-6,
                       "delta of mu-GDP at epsilon %g", eps[i]);
        /* Increasing epsilon at fixed delta needs a larger mu. */
        double more;
        dpacct_gdp_mu_for_epsilon (eps[i] * 1.1, deltas[j], &more);
        ck_assert (more > mu);
      }
  double mu;
  ck_assert_int_eq (dpacct_gdp_mu_for_epsilon (0, 1e-5, &mu), DPACCT_EDOM);
  ck_assert (isnan (mu));
  ck_assert_int_eq (dpacct_gdp_mu_for_epsilon (1, 1, &mu), DPACCT_EDOM);
  ck_assert_int_eq (dpacct_gdp_mu_for_epsilon (1, 1e-5, NULL), DPACCT_EINVAL);
}
END_TEST

/* ------------------------------------------------------------ rows */

static void
options_for (dpacct_plan_options *o, const dpacct_accountant_type *type,
             double epsilon, uint64_t n, double epochs)
{
  dpacct_plan_options_init (o);
  o->accountant = type;
  o->epsilon = epsilon;
  o->dataset_size = n;
  o->epochs = epochs;
}

START_TEST (test_row_definitions)
{
  dpacct_plan_options o;
  dpacct_plan_row r;
  options_for (&o, dpacct_accountant_rdp, 2.0, 60000, 3);
  o.clip = 0.5;
  o.dimension = 10000;
  ck_assert_int_eq (dpacct_plan_row_compute (&o, 700, &r), DPACCT_OK);
  /* 3 * 60000 / 700 = 257.1...: rounded up. */
  ck_assert_uint_eq (r.steps, 258);
  ck_assert_rel (r.sampling_rate, 700.0 / 60000, 1e-15, "q");
  double sigma = r.noise_multiplier, t = 258, q = 700.0 / 60000;
  ck_assert_rel (r.cumulative_noise, sigma * sqrt (t), 1e-14, "sigma sqrt T");
  ck_assert_rel (r.per_step_noise, sigma * 0.5 / 700, 1e-14, "sigma C / B");
  ck_assert_rel (r.per_step_noise_norm, sigma * 0.5 * 100 / 700, 1e-14,
                 "sigma C sqrt(d) / B");
  ck_assert_rel (r.effective_noise, sigma / q, 1e-14, "sigma / q");
  ck_assert_rel (r.total_noise, sigma / (q * sqrt (t)), 1e-14, "TAN");
  /* q T = E up to the rounding of T: sigma sqrt(T) / (E TAN) = q T / E. */
  ck_assert (r.cumulative_noise >= 3 * r.total_noise * (1 - 1e-14));
  ck_assert (r.cumulative_noise <= 3 * r.total_noise * (1 + q / 3 + 1e-14));
  ck_assert_rel (r.gdp_mu, q * sqrt (t * expm1 (1 / (sigma * sigma))), 1e-14,
                 "GDP mu");
  /* The GDP closed form inverts the CLT's mu: at its own sigma the CLT
   * gives the mu that meets (epsilon, delta). */
  double gdp_sigma = r.gdp_cumulative_noise / sqrt (t);
  double mu_back = q * sqrt (t * expm1 (1 / (gdp_sigma * gdp_sigma)));
  ck_assert_rel (gdp_delta_erfc (mu_back, 2.0), 1e-5, 1e-6, "GDP sigma");
  ck_assert (!r.on_plateau);
  /* Safe side, checked by a fresh accountant. */
  ck_assert (r.epsilon_upper <= 2.0);
  dpacct_event *event;
  dpacct_accountant *acc;
  dpacct_bound bound;
  ck_assert_int_eq (dpacct_dpsgd_event_alloc (sigma, q, 258,
                                              DPACCT_SAMPLING_POISSON, &event),
                    DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_alloc (dpacct_accountant_rdp, NULL,
                                             &acc), DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_compose (acc, event, 1), DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_epsilon (acc, 1e-5, &bound), DPACCT_OK);
  ck_assert (bound.upper <= 2.0);
  dpacct_accountant_free (acc);
  dpacct_event_free (event);
  /* Without a dimension there is no norm. */
  o.dimension = 0;
  ck_assert_int_eq (dpacct_plan_row_compute (&o, 700, &r), DPACCT_OK);
  ck_assert (isnan (r.per_step_noise_norm));
}
END_TEST

START_TEST (test_row_errors)
{
  dpacct_plan_options o;
  dpacct_plan_row r;
  options_for (&o, dpacct_accountant_rdp, 1.0, 1000, 2);
  ck_assert_int_eq (dpacct_plan_row_compute (&o, 1001, &r), DPACCT_EDOM);
  ck_assert (isnan (r.noise_multiplier) && isnan (r.cumulative_noise));
  ck_assert_int_eq (dpacct_plan_row_compute (&o, 0, &r), DPACCT_EDOM);
  ck_assert_int_eq (dpacct_plan_row_compute (&o, 10, NULL), DPACCT_EINVAL);
  dpacct_plan_options bad = o;
  bad.epsilon = NAN;
  ck_assert_int_eq (dpacct_plan_row_compute (&bad, 10, &r), DPACCT_EDOM);
  bad = o, bad.delta = 0;
  ck_assert_int_eq (dpacct_plan_row_compute (&bad, 10, &r), DPACCT_EDOM);
  bad = o, bad.epochs = 0;
  ck_assert_int_eq (dpacct_plan_row_compute (&bad, 10, &r), DPACCT_EDOM);
  bad = o, bad.dataset_size = 0;
  ck_assert_int_eq (dpacct_plan_row_compute (&bad, 10, &r), DPACCT_EDOM);
  bad = o, bad.clip = -1;
  ck_assert_int_eq (dpacct_plan_row_compute (&bad, 10, &r), DPACCT_EDOM);
  bad = o, bad.plateau_tolerance = -0.1;
  ck_assert_int_eq (dpacct_plan_row_compute (&bad, 10, &r), DPACCT_EDOM);
  bad = o, bad.min_steps = 0;
  ck_assert_int_eq (dpacct_plan_row_compute (&bad, 10, &r), DPACCT_EDOM);
  bad = o, bad.accountant = NULL;
  ck_assert_int_eq (dpacct_plan_row_compute (&bad, 10, &r), DPACCT_EINVAL);
}
END_TEST

/* ------------------------------------------------------------ the rule */

/* Rows of N = 800, E = 50: T(B) = 40000 / B; sigma is set so that the
 * cumulative noise is CN. */
static dpacct_plan_row
hand_row (uint64_t batch, double cn)
{
  dpacct_plan_row r;
  r.batch_size = batch;
  r.sampling_rate = batch / 800.0;
  r.steps = 40000 / batch;
  r.noise_multiplier = cn / sqrt ((double) r.steps);
  r.cumulative_noise = cn;
  r.on_plateau = -1;
  return r;
}

START_TEST (test_rule_plateau_and_min_steps)
{
  dpacct_plan_options o;
  options_for (&o, dpacct_accountant_rdp, 1.0, 800, 50);
  /* T = 400, 200, 100, 50; the floor 10 at B = 400; tau = 0.1 puts
   * 200, 400 and 800 on the plateau (<= 11). */
  dpacct_plan_row rows[4] = { hand_row (100, 12), hand_row (200, 10.5),
                              hand_row (400, 10), hand_row (800, 10.2) };
  dpacct_plan_recommendation rec;
  ck_assert_int_eq (dpacct_plan_recommend (&o, rows, 4, &rec), DPACCT_OK);
  ck_assert_int_eq (rec.reason, DPACCT_PLAN_PLATEAU);
  ck_assert_uint_eq (rec.batch_size, 200);
  ck_assert_uint_eq (rec.row, 1);
  ck_assert_uint_eq (rec.min_batch_size, 400);
  ck_assert_rel (rec.plateau_bound, 11.0, 1e-15, "plateau bound");
  ck_assert (rows[0].on_plateau == 0 && rows[1].on_plateau == 1
             && rows[2].on_plateau == 1 && rows[3].on_plateau == 1);
  /* sigma / B is smallest at full batch here, as it always is in practice. */
  ck_assert_uint_eq (rec.per_step_choice, 800);
  ck_assert_uint_eq (rec.effective_noise_choice, 800);

  /* T_min = 300: the plateau's most steps are 200, so B = floor(40000 /
   * 300) = 133 (301 steps), which is not among the rows. */
  o.min_steps = 300;
  ck_assert_int_eq (dpacct_plan_recommend (&o, rows, 4, &rec), DPACCT_OK);
  ck_assert_int_eq (rec.reason, DPACCT_PLAN_MIN_STEPS);
  ck_assert_uint_eq (rec.batch_size, 133);
  ck_assert_uint_eq (rec.row, 4);
  /* T_min = 200 is met exactly by B = 200. */
  o.min_steps = 200;
  dpacct_plan_recommend (&o, rows, 4, &rec);
  ck_assert (rec.reason == DPACCT_PLAN_PLATEAU && rec.batch_size == 200);
  /* tau = 0: only the minimum is on the plateau. */
  o.min_steps = 20;
  o.plateau_tolerance = 0;
  dpacct_plan_recommend (&o, rows, 4, &rec);
  ck_assert (rec.reason == DPACCT_PLAN_PLATEAU && rec.batch_size == 400);
  ck_assert (rows[1].on_plateau == 0 && rows[3].on_plateau == 0);
  /* A wide tolerance takes in the smallest batch. */
  o.plateau_tolerance = 0.25;
  dpacct_plan_recommend (&o, rows, 4, &rec);
  ck_assert (rec.reason == DPACCT_PLAN_PLATEAU && rec.batch_size == 100);
  /* More steps than the data allows even at B = 1: B = 1. */
  o.plateau_tolerance = 0.1;
  o.min_steps = 100000;
  dpacct_plan_recommend (&o, rows, 4, &rec);
  ck_assert (rec.reason == DPACCT_PLAN_MIN_STEPS && rec.batch_size == 1);
  /* The minimum-steps batch found among the rows is pointed at. */
  o.min_steps = 400;
  dpacct_plan_recommend (&o, rows, 4, &rec);
  ck_assert (rec.reason == DPACCT_PLAN_MIN_STEPS && rec.batch_size == 100
             && rec.row == 0);
}
END_TEST

/* The minimum-steps batch is the largest B with T_min FULL batches, E N /
 * B >= T_min: at E 1, N 10, T_min 3 it is 3, not 4 (whose third step,
 * which the step count ceil(E N / B) includes, holds 2 examples).  Over
 * a small sweep: B meets it and B + 1 does not (or B = 1, or B = N). */
START_TEST (test_rule_min_steps_full_batches)
{
  dpacct_plan_options o;
  options_for (&o, dpacct_accountant_rdp, 1.0, 10, 1);
  o.min_steps = 3;
  dpacct_plan_row row = { 0 };
  row.batch_size = 10, row.steps = 1, row.cumulative_noise = 1.0;
  row.noise_multiplier = 1.0, row.sampling_rate = 1.0;
  dpacct_plan_recommendation rec;
  ck_assert_int_eq (dpacct_plan_recommend (&o, &row, 1, &rec), DPACCT_OK);
  ck_assert (rec.reason == DPACCT_PLAN_MIN_STEPS && rec.batch_size == 3);
  static const uint64_t ns[] = { 10, 97, 1000, 60000 }, ts[] = { 3, 7, 20, 1 };
  static const double es[] = { 1.0, 2.5, 3.0 };
  for (size_t i = 0; i < 4; i++)
    for (size_t j = 0; j < 3; j++)
      for (size_t k = 0; k < 4; k++)
        {
          options_for (&o, dpacct_accountant_rdp, 1.0, ns[i], es[j]);
          o.min_steps = ts[k];
          row.batch_size = ns[i], row.steps = 0;
          ck_assert_int_eq (dpacct_plan_recommend (&o, &row, 1, &rec),
                            DPACCT_OK);
          double full = es[j] * (double) ns[i];
          uint64_t b = rec.batch_size;
          ck_assert_msg (b >= 1 && b <= ns[i]
                         && (b == 1 || full / (double) b >= (double) ts[k])
                         && (b == ns[i]
                             || full / (double) (b + 1) < (double) ts[k]),
                         "N %llu E %g T_min %llu: B %llu",
                         (unsigned long long) ns[i], es[j],
                         (unsigned long long) ts[k], (unsigned long long) b);
        }
}
END_TEST

START_TEST (test_rule_errors)
{
  dpacct_plan_options o;
  options_for (&o, dpacct_accountant_rdp, 1.0, 800, 50);
  dpacct_plan_row rows[2] = { hand_row (100, 12), hand_row (200, 10.5) };
  dpacct_plan_recommendation rec;
  ck_assert_int_eq (dpacct_plan_recommend (&o, rows, 0, &rec), DPACCT_EDOM);
  ck_assert_int_eq (dpacct_plan_recommend (&o, NULL, 2, &rec), DPACCT_EINVAL);
  ck_assert_int_eq (dpacct_plan_recommend (&o, rows, 2, NULL), DPACCT_EINVAL);
  rows[1].cumulative_noise = NAN;
  ck_assert_int_eq (dpacct_plan_recommend (&o, rows, 2, &rec), DPACCT_EDOM);
  rows[1].cumulative_noise = INFINITY;
  ck_assert_int_eq (dpacct_plan_recommend (&o, rows, 2, &rec), DPACCT_EDOM);
}
END_TEST

START_TEST (test_compute_sorts_and_adds)
{
  dpacct_plan_options o;
  options_for (&o, dpacct_accountant_rdp, 8.0, 50000, 8);
  const uint64_t batches[] = { 50000, 256, 4096, 256, 1024 };
  dpacct_plan_row rows[6];
  size_t n;
  dpacct_plan_recommendation rec;
  ck_assert_int_eq (dpacct_plan_compute (&o, batches, 5, rows, &n, &rec),
                    DPACCT_OK);
  /* Sorted, the duplicate dropped, and the minimum-steps batch 20000
   * (8 * 50000 / 20) added: at epsilon 8 the curve has no plateau. */
  ck_assert_uint_eq (n, 5);
  const uint64_t want[] = { 256, 1024, 4096, 20000, 50000 };
  for (size_t i = 0; i < n; i++)
    ck_assert_uint_eq (rows[i].batch_size, want[i]);
  ck_assert_int_eq (rec.reason, DPACCT_PLAN_MIN_STEPS);
  ck_assert_uint_eq (rec.batch_size, 20000);
  ck_assert_uint_eq (rec.row, 3);
  ck_assert_uint_eq (rows[3].steps, 20);
  ck_assert (rows[4].on_plateau && !rows[3].on_plateau);
  ck_assert_int_eq (dpacct_plan_compute (&o, batches, 0, rows, &n, &rec),
                    DPACCT_EDOM);
  const uint64_t too_big[] = { 256, 50001 };
  ck_assert_int_eq (dpacct_plan_compute (&o, too_big, 2, rows, &n, &rec),
                    DPACCT_EDOM);
  ck_assert_uint_eq (n, 0);
}
END_TEST

/* ------------------------------------------------------------ references */

/* The spec's RDP numbers, recomputed at its rounding of the steps (to
 * the nearest integer; dpacct rounds up, which gives one step more at
 * some B): our denser order grid (with fractional orders) may only be
 * tighter, and by little. */
START_TEST (test_rdp_reference)
{
  test_table *t = test_table_load ("cumulative_noise_rdp.csv");
  size_t c_eps = test_table_column (t, "epsilon");
  size_t c_b = test_table_column (t, "batch_size");
  size_t c_sigma = test_table_column (t, "sigma");
  size_t c_cn = test_table_column (t, "cumulative_noise");
  dpacct_calibration_options cal;
  dpacct_calibration_options_init (&cal);
  cal.rel_tol = 1e-5;
  for (size_t i = 0; i < t->n_rows; i++)
    {
      double eps = test_table_number (t, i, c_eps);
      double b = test_table_number (t, i, c_b);
      double q = b / 50000, steps = nearbyint (8 * 50000 / b);
      dpacct_calibration c;
      ck_assert_int_eq (dpacct_noise_for_epsilon (dpacct_accountant_rdp,
                                                  NULL, q, (uint64_t) steps,
                                                  DPACCT_SAMPLING_POISSON,
                                                  eps, 1e-5, &cal, &c),
                        DPACCT_OK);
      double sigma = test_table_number (t, i, c_sigma);
      if (!isnan (sigma))
        {
          /* printed to 3 decimals */
          ck_assert_msg (c.noise <= sigma + 5e-4 + 2e-5 * sigma,
                         "eps %g B %g: sigma %g above the reference %g", eps,
                         b, c.noise, sigma);
          ck_assert_msg (c.noise >= 0.97 * sigma, "eps %g B %g: sigma %g "
                         "far below the reference %g", eps, b, c.noise, sigma);
        }
      /* printed to 0.1; at epsilon 8 the optimal order is small, where
       * dpacct's fractional orders give up to 1.6 % less. */
      double cn = test_table_number (t, i, c_cn), ours = c.noise * sqrt (steps);
      ck_assert_msg (ours <= cn + 0.05 + 2e-5 * cn && ours >= 0.97 * cn,
                     "eps %g B %g: sigma sqrt(T) %g, reference %g", eps, b,
                     ours, cn);
    }
  test_table_free (t);
}
END_TEST

/* ------------------------------------------------------------ shapes */

/* The paper's setting: N = 50,000, E = 8, delta = 1e-5, PLD.  The PLD
 * bounds are asked to 5 % (pld_rel_accuracy) and sigma to 1 %: the upper
 * bound, and so sigma, stays on the safe side, and the shapes tested are
 * far coarser; at the default 1e-3 these rows take about a minute. */
enum { N_SHAPE = 8 };
static const uint64_t shape_batches[N_SHAPE] = { 256, 512, 1024, 2048, 4096,
                                                 8192, 16384, 50000 };

static void
shape_rows (const dpacct_accountant_type *type, double epsilon,
            dpacct_plan_row *rows)
{
  dpacct_plan_options o;
  options_for (&o, type, epsilon, 50000, 8);
  dpacct_accountant_options_set_double (&o.accountant_options,
                                        "pld-rel-accuracy", 0.05);
  o.calibration.rel_tol = 1e-2;
  for (size_t i = 0; i < N_SHAPE; i++)
    ck_assert_int_eq (dpacct_plan_row_compute (&o, shape_batches[i], &rows[i]),
                      DPACCT_OK);
}

static double
min_cumulative (const dpacct_plan_row *rows)
{
  double m = INFINITY;
  for (size_t i = 0; i < N_SHAPE; i++)
    m = fmin (m, rows[i].cumulative_noise);
  return m;
}

static void
check_common_shape (const dpacct_plan_row *pld, const dpacct_plan_row *rdp,
                    double epsilon)
{
  for (size_t i = 0; i < N_SHAPE; i++)
    {
      const dpacct_plan_row *r = &pld[i];
      ck_assert_msg (r->epsilon_upper <= epsilon, "eps %g B %llu: over target",
                     epsilon, (unsigned long long) r->batch_size);
      /* PLD is the tighter accountant: never more noise than RDP (whose
       * sigma is within 1 % of its smallest). */
      ck_assert_msg (r->noise_multiplier <= rdp[i].noise_multiplier * 1.011,
                     "eps %g B %llu: PLD sigma %g above RDP's %g", epsilon,
                     (unsigned long long) r->batch_size, r->noise_multiplier,
                     rdp[i].noise_multiplier);
      if (i == 0)
        continue;
      /* The per-step heuristics fall with B, all the way to full batch. */
      ck_assert_msg (r->per_step_noise < pld[i - 1].per_step_noise,
                     "eps %g: sigma C / B rises at B = %llu", epsilon,
                     (unsigned long long) r->batch_size);
      ck_assert_msg (r->effective_noise < pld[i - 1].effective_noise,
                     "eps %g: sigma / q rises at B = %llu", epsilon,
                     (unsigned long long) r->batch_size);
    }
  /* The GDP closed form of sigma sqrt(T) agrees where the CLT holds. */
  for (size_t i = 0; i < N_SHAPE; i++)
    if (pld[i].noise_multiplier >= 2)
      ck_assert_rel (pld[i].gdp_cumulative_noise, pld[i].cumulative_noise,
                     0.10, "eps %g B %llu: GDP sigma sqrt(T)", epsilon,
                     (unsigned long long) pld[i].batch_size);
}

START_TEST (test_shape_tight_privacy_plateau)
{
  dpacct_plan_row pld[N_SHAPE], rdp[N_SHAPE];
  clock_t start = clock ();
  shape_rows (dpacct_accountant_pld, 0.5, pld);
  fprintf (stderr, "check_plan: PLD rows at epsilon 0.5: %.1f s\n",
           (double) (clock () - start) / CLOCKS_PER_SEC);
  shape_rows (dpacct_accountant_rdp, 0.5, rdp);
  check_common_shape (pld, rdp, 0.5);
  /* A plateau: every B >= 256 within 15 % of the minimum. */
  double m = min_cumulative (pld);
  for (size_t i = 0; i < N_SHAPE; i++)
    ck_assert_msg (pld[i].cumulative_noise <= 1.15 * m,
                   "B %llu: sigma sqrt(T) %g is more than 15 %% above the "
                   "minimum %g", (unsigned long long) pld[i].batch_size,
                   pld[i].cumulative_noise, m);
  /* At least three rows with sigma >= 2 were compared with GDP. */
  ck_assert (pld[N_SHAPE - 3].noise_multiplier >= 2);
}
END_TEST

START_TEST (test_shape_loose_privacy_falls)
{
  dpacct_plan_row pld[N_SHAPE], rdp[N_SHAPE];
  clock_t start = clock ();
  shape_rows (dpacct_accountant_pld, 8, pld);
  fprintf (stderr, "check_plan: PLD rows at epsilon 8: %.1f s\n",
           (double) (clock () - start) / CLOCKS_PER_SEC);
  shape_rows (dpacct_accountant_rdp, 8, rdp);
  check_common_shape (pld, rdp, 8);
  /* No plateau: at least 3x from B = 256 to full batch. */
  ck_assert_msg (pld[0].cumulative_noise >= 3 * pld[N_SHAPE - 1].cumulative_noise,
                 "sigma sqrt(T) falls only from %g to %g",
                 pld[0].cumulative_noise, pld[N_SHAPE - 1].cumulative_noise);
  /* and most of the fall is still to come at B = 4096 (T = 98). */
  ck_assert (pld[4].cumulative_noise >= 1.5 * pld[N_SHAPE - 1].cumulative_noise);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("plan");
  TCase *tc = tcase_create ("plan");
  tcase_set_timeout (tc, 600);
  tcase_add_test (tc, test_batch_grid);
  tcase_add_test (tc, test_gdp_mu);
  tcase_add_test (tc, test_row_definitions);
  tcase_add_test (tc, test_row_errors);
  tcase_add_test (tc, test_rule_plateau_and_min_steps);
  tcase_add_test (tc, test_rule_min_steps_full_batches);
  tcase_add_test (tc, test_rule_errors);
  tcase_add_test (tc, test_compute_sorts_and_adds);
  tcase_add_test (tc, test_rdp_reference);
  tcase_add_test (tc, test_shape_tight_privacy_plateau);
  tcase_add_test (tc, test_shape_loose_privacy_falls);
  suite_add_tcase (s, tc);
  return test_run_suite (s);
}
