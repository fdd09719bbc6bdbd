/* check_runs.c - runs of several phases, composed by the accountants:
 * heterogeneous unsampled Gaussian phases against their exact epsilon
 * (a Gaussian mechanism with mu = sqrt(sum T_i / sigma_i^2), in MPFR),
 * RDP's additivity over phases at a fixed order, and the library's
 * answer to "can you compose this, and if not, why?". */
#include <dpacct.h>
#include "testutil.h"

#include <string.h>

typedef struct
{
  double sigma, q;
  uint64_t steps;
} phase;

/* The event of the phases, one after another. */
static dpacct_event *
run_event (const phase *p, size_t n, dpacct_sampling sampling)
{
  dpacct_event *events[64] = { NULL }, *run;
  ck_assert (n <= 64);
  for (size_t i = 0; i < n; i++)
    ck_assert_int_eq (dpacct_dpsgd_event_alloc (p[i].sigma, p[i].q,
                                                p[i].steps, sampling,
                                                &events[i]),
                      DPACCT_OK);
  ck_assert_int_eq (dpacct_event_sequence_alloc (
                        (const dpacct_event *const *) events, n, &run),
                    DPACCT_OK);
  for (size_t i = 0; i < n; i++)
    dpacct_event_free (events[i]);
  return run;
}

static dpacct_bound
bound_of (const dpacct_accountant_type *type,
          const dpacct_accountant_options *options, const dpacct_event *e,
          double delta)
{
  dpacct_accountant *acc;
  dpacct_bound b;
  ck_assert_int_eq (dpacct_accountant_alloc (type, options, &acc), DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_compose (acc, e, 1), DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_epsilon (acc, delta, &b), DPACCT_OK);
  dpacct_accountant_free (acc);
  return b;
}

/* Unsampled Gaussian phases compose to one Gaussian mechanism of noise
 * 1 / sqrt(sum T_i / sigma_i^2): pld's lower <= exact <= upper <= exact
 * (1 + 1e-3), and rdp >= exact. */
static const struct
{
  phase p[3];
  size_t n;
  double delta;
} exact_cases[] = {
  { { { 2.0, 1, 10 }, { 0.8, 1, 3 } }, 2, 1e-5 },
  { { { 5.0, 1, 100 }, { 3.0, 1, 40 }, { 10.0, 1, 1000 } }, 3, 1e-8 },
  { { { 1.0, 1, 1 }, { 4.0, 1, 16 } }, 2, 1e-3 },
};

START_TEST (test_exact_gaussian_phases)
{
  const phase *p = exact_cases[_i].p;
  size_t n = exact_cases[_i].n;
  double delta = exact_cases[_i].delta, mu2 = 0.0;
  for (size_t i = 0; i < n; i++)
    mu2 += (double) p[i].steps / (p[i].sigma * p[i].sigma);
  double exact = test_exact_gaussian_epsilon (1.0 / sqrt (mu2), 1.0, delta);
  dpacct_event *e = run_event (p, n, DPACCT_SAMPLING_NONE);
  dpacct_bound pld = bound_of (dpacct_accountant_pld, NULL, e, delta);
  dpacct_bound rdp = bound_of (dpacct_accountant_rdp, NULL, e, delta);
  ck_assert_msg (pld.lower <= exact && exact <= pld.upper
                     && pld.upper <= exact * (1 + 1e-3),
                 "case %d: pld [%.17g, %.17g], exact %.17g", _i, pld.lower,
                 pld.upper, exact);
  ck_assert_msg (rdp.upper >= exact, "case %d: rdp %.17g below exact %.17g",
                 _i, rdp.upper, exact);
  dpacct_event_free (e);
}
END_TEST

/* Forty phases, each with its own noise and steps: a composition long
 * enough that most factors' transforms are taken at the product's low
 * band only (pld_low_band.c), against the exact value. */
START_TEST (test_exact_many_gaussian_phases)
{
  phase p[40];
  double mu2 = 0.0, delta = 1e-6;
  for (size_t i = 0; i < 40; i++)
    {
      p[i] = (phase) { 2.0 + 0.25 * (double) i, 1, 5 + 7 * i };
      mu2 += (double) p[i].steps / (p[i].sigma * p[i].sigma);
    }
  double exact = test_exact_gaussian_epsilon (1.0 / sqrt (mu2), 1.0, delta);
  dpacct_event *e = run_event (p, 40, DPACCT_SAMPLING_NONE);
  dpacct_bound pld = bound_of (dpacct_accountant_pld, NULL, e, delta);
  ck_assert_msg (pld.lower <= exact && exact <= pld.upper
                     && pld.upper <= exact * (1 + 1e-3),
                 "pld [%.17g, %.17g], exact %.17g", pld.lower, pld.upper,
                 exact);
  dpacct_event_free (e);
}
END_TEST

/* RDP of a heterogeneous subsampled run at one order is the sum of the
 * phases' curves (each T_i times one step's RDP). */
START_TEST (test_rdp_additive)
{
  static const phase p[] = {
    { 0.9, 0.01, 300 }, { 1.3, 0.004, 2000 }, { 2.5, 0.05, 70 },
  };
  static const double orders[] = { 1.5, 2, 8, 32.5 };
  dpacct_event *e = run_event (p, 3, DPACCT_SAMPLING_POISSON);
  for (size_t k = 0; k < sizeof orders / sizeof orders[0]; k++)
    {
      double sum = 0.0, rdp, want;
      size_t index;
      for (size_t i = 0; i < 3; i++)
        {
          ck_assert_int_eq (dpacct_rdp_sampled_gaussian (p[i].q, p[i].sigma,
                                                         orders[k], &rdp),
                            DPACCT_OK);
          sum += (double) p[i].steps * rdp;
        }
      ck_assert_int_eq (dpacct_rdp_epsilon (&orders[k], &sum, 1, 1e-6, &want,
                                            &index),
                        DPACCT_OK);
      dpacct_accountant_options o;
      dpacct_accountant_options_init (&o);
      dpacct_accountant_options_set_doubles (&o, "orders", &orders[k], 1);
      dpacct_bound b = bound_of (dpacct_accountant_rdp, &o, e, 1e-6);
      ck_assert_rel (b.upper, want, 1e-12, "order %g", orders[k]);
    }
  dpacct_event_free (e);
}
END_TEST

/* Which accountant composes what, and why not, in the library's words. */
START_TEST (test_explain)
{
  dpacct_event *gauss, *lap, *lap2, *wor, *mixed;
  char why[256];
  ck_assert_int_eq (dpacct_dpsgd_event_alloc (1.0, 0.01, 10,
                                              DPACCT_SAMPLING_POISSON, &gauss),
                    DPACCT_OK);
  ck_assert_int_eq (dpacct_event_laplace_alloc (3.0, &lap), DPACCT_OK);
  ck_assert_int_eq (dpacct_lap2_event_alloc (1.0, 10, 0.01, 5, &lap2),
                    DPACCT_OK);
  ck_assert_int_eq (dpacct_dpsgd_event_alloc (
                        1.0, 0.01, 10, DPACCT_SAMPLING_WITHOUT_REPLACEMENT,
                        &wor),
                    DPACCT_OK);
  const dpacct_event *pair[] = { gauss, lap };
  ck_assert_int_eq (dpacct_event_sequence_alloc (pair, 2, &mixed), DPACCT_OK);
  for (size_t i = 0; dpacct_accountant_type_at (i) != NULL; i++)
    {
      const dpacct_accountant_type *t = dpacct_accountant_type_at (i);
      int lap2_kind = strncmp (t->name, "lap2", 4) == 0;
      ck_assert_int_eq (dpacct_accountant_explain (t, NULL, mixed, why,
                                                   sizeof why),
                        lap2_kind ? DPACCT_EUNSUP : DPACCT_OK);
      ck_assert_int_eq (dpacct_accountant_explain (t, NULL, lap2, why,
                                                   sizeof why),
                        lap2_kind ? DPACCT_OK : DPACCT_EUNSUP);
      if (!lap2_kind)
        ck_assert_msg (strstr (why, t->name) != NULL
                           && strstr (why, "L2-clipped sum in 10 dimensions")
                                  != NULL,
                       "%s", why);
    }
  ck_assert_int_eq (dpacct_accountant_explain (dpacct_accountant_pld, NULL,
                                               wor, why, sizeof why),
                    DPACCT_EUNSUP);
  ck_assert_msg (strstr (why, "sampled without replacement") != NULL, "%s",
                 why);
  ck_assert_int_eq (dpacct_accountant_explain (dpacct_accountant_pld, NULL,
                                               NULL, why, sizeof why),
                    DPACCT_EINVAL);
  ck_assert (dpacct_accountant_type_at (4) == NULL);
  dpacct_event_free (gauss);
  dpacct_event_free (lap);
  dpacct_event_free (lap2);
  dpacct_event_free (wor);
  dpacct_event_free (mixed);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("runs");
  TCase *tc = tcase_create ("core");
  tcase_add_loop_test (tc, test_exact_gaussian_phases, 0,
                       sizeof exact_cases / sizeof exact_cases[0]);
  tcase_add_test (tc, test_exact_many_gaussian_phases);
  tcase_add_test (tc, test_rdp_additive);
  tcase_add_test (tc, test_explain);
  tcase_set_timeout (tc, 120);
  suite_add_tcase (s, tc);
  return test_run_suite (s);
}
