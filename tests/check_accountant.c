/* check_accountant.c - the accountant protocol as every type must honour
 * it: atomic compose, composition algebra, options, neighbouring
 * relations, sampling schemes and argument errors (RDP as the first type). */
#include <dpacct.h>
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* Check runs each test in a child process unless CK_FORK=no. */
#define CK_FORK_GETENV_IS_NO() \
  (getenv ("CK_FORK") != NULL && strcmp (getenv ("CK_FORK"), "no") == 0)

static dpacct_event *
gaussian (double sigma)
{
  dpacct_event *e;
  ck_assert_int_eq (dpacct_event_gaussian_alloc (sigma, &e), DPACCT_OK);
  return e;
}

static dpacct_event *
dpsgd (double sigma, double q, uint64_t steps, dpacct_sampling sampling)
{
  dpacct_event *e;
  ck_assert_int_eq (dpacct_dpsgd_event_alloc (sigma, q, steps, sampling, &e),
                    DPACCT_OK);
  return e;
}

static dpacct_accountant *
rdp (dpacct_neighbouring neighbouring)
{
  dpacct_accountant_options o;
  dpacct_accountant_options_init (&o);
  dpacct_accountant_options_set_int (&o, "neighbouring", neighbouring);
  dpacct_accountant *acc;
  ck_assert_int_eq (dpacct_accountant_alloc (dpacct_accountant_rdp, &o, &acc),
                    DPACCT_OK);
  return acc;
}

static double
epsilon (const dpacct_accountant *acc, double delta)
{
  dpacct_bound b;
  ck_assert_int_eq (dpacct_accountant_epsilon (acc, delta, &b), DPACCT_OK);
  return b.upper;
}

/* epsilon of one event composed `count` times into a fresh accountant. */
static double
epsilon_of (const dpacct_event *e, uint64_t count, dpacct_neighbouring nb)
{
  dpacct_accountant *acc = rdp (nb);
  ck_assert_int_eq (dpacct_accountant_compose (acc, e, count), DPACCT_OK);
  double eps = epsilon (acc, 1e-5);
  dpacct_accountant_free (acc);
  return eps;
}

START_TEST (test_type_lookup)
{
  ck_assert (dpacct_accountant_type_by_name ("rdp") == dpacct_accountant_rdp);
  ck_assert (dpacct_accountant_type_by_name ("nope") == NULL);
  ck_assert (dpacct_accountant_type_by_name (NULL) == NULL);
  dpacct_accountant *acc = rdp (DPACCT_ADD_REMOVE);
  ck_assert_str_eq (dpacct_accountant_name (acc), "rdp");
  dpacct_accountant_free (acc);
  dpacct_accountant_free (NULL);
}
END_TEST

/* A failed compose leaves the accountant exactly as it was. */
START_TEST (test_compose_is_atomic)
{
  dpacct_accountant *acc = rdp (DPACCT_ADD_REMOVE);
  dpacct_event *good = dpsgd (1.0, 0.01, 100, DPACCT_SAMPLING_POISSON);
  dpacct_event *bad = dpsgd (1.0, 0.01, 100, DPACCT_SAMPLING_WITHOUT_REPLACEMENT);
  ck_assert_int_eq (dpacct_accountant_compose (acc, good, 1), DPACCT_OK);
  double before = epsilon (acc, 1e-5);
  ck_assert_int_eq (dpacct_accountant_supports (acc, bad), DPACCT_EUNSUP);
  ck_assert_int_eq (dpacct_accountant_compose (acc, bad, 1), DPACCT_EUNSUP);
  const dpacct_event *mixed_parts[] = { good, bad };
  dpacct_event *mixed;
  ck_assert_int_eq (dpacct_event_sequence_alloc (mixed_parts, 2, &mixed), DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_compose (acc, mixed, 1), DPACCT_EUNSUP);
  ck_assert_int_eq (dpacct_accountant_compose (acc, good, 0), DPACCT_EDOM);
  ck_assert (epsilon (acc, 1e-5) == before);
  dpacct_event_free (mixed);
  dpacct_event_free (bad);
  dpacct_event_free (good);
  dpacct_accountant_free (acc);
}
END_TEST

/* Sequence = one compose after another; self-composition = count. */
START_TEST (test_composition_algebra)
{
  dpacct_event *a = dpsgd (0.8, 0.02, 300, DPACCT_SAMPLING_POISSON);
  dpacct_event *b = dpsgd (2.0, 0.1, 50, DPACCT_SAMPLING_POISSON);
  const dpacct_event *parts[] = { a, b };
  dpacct_event *seq;
  ck_assert_int_eq (dpacct_event_sequence_alloc (parts, 2, &seq), DPACCT_OK);
  dpacct_accountant *one = rdp (DPACCT_ADD_REMOVE), *two = rdp (DPACCT_ADD_REMOVE);
  ck_assert_int_eq (dpacct_accountant_compose (one, seq, 3), DPACCT_OK);
  for (int i = 0; i < 3; i++)
    {
      ck_assert_int_eq (dpacct_accountant_compose (two, a, 1), DPACCT_OK);
      ck_assert_int_eq (dpacct_accountant_compose (two, b, 1), DPACCT_OK);
    }
  ck_assert_rel (epsilon (one, 1e-6), epsilon (two, 1e-6), 1e-12, "sequence");
  /* A copy goes its own way. */
  dpacct_accountant *copy;
  ck_assert_int_eq (dpacct_accountant_copy (one, &copy), DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_compose (copy, a, 1), DPACCT_OK);
  ck_assert (epsilon (copy, 1e-6) > epsilon (one, 1e-6));
  dpacct_accountant_free (copy);
  dpacct_accountant_free (one);
  dpacct_accountant_free (two);
  dpacct_event_free (seq);
  dpacct_event_free (a);
  dpacct_event_free (b);
}
END_TEST

/* Under replace-one the clipped sum moves by up to 2C: a Gaussian with
 * sigma counts as one with sigma / 2 under add/remove. */
START_TEST (test_replace_one_doubles_sensitivity)
{
  dpacct_event *g = gaussian (3.0), *half = gaussian (1.5);
  ck_assert_rel (epsilon_of (g, 10, DPACCT_REPLACE_ONE),
                 epsilon_of (half, 10, DPACCT_ADD_REMOVE), 1e-12, "replace-one");
  dpacct_event_free (g);
  dpacct_event_free (half);
}
END_TEST

/* Sampling without replacement (replace-one): q = 1 is the plain
 * mechanism, and smaller batches are more private. */
START_TEST (test_without_replacement)
{
  dpacct_event *full = dpsgd (1.0, 1.0, 10, DPACCT_SAMPLING_WITHOUT_REPLACEMENT);
  dpacct_event *none = dpsgd (1.0, 1.0, 10, DPACCT_SAMPLING_NONE);
  ck_assert_rel (epsilon_of (full, 1, DPACCT_REPLACE_ONE),
                 epsilon_of (none, 1, DPACCT_REPLACE_ONE), 1e-12, "q = 1");
  double previous = INFINITY;
  for (double q = 0.5; q > 1e-4; q /= 4)
    {
      dpacct_event *e = dpsgd (1.0, q, 10, DPACCT_SAMPLING_WITHOUT_REPLACEMENT);
      double eps = epsilon_of (e, 1, DPACCT_REPLACE_ONE);
      ck_assert (eps < previous && eps >= 0.0);
      previous = eps;
      dpacct_event_free (e);
    }
  dpacct_event_free (full);
  dpacct_event_free (none);
}
END_TEST

/* Poisson-sampled Laplace (Zhu-Wang bound plus amplified pure DP): at
 * q = 1 the plain mechanism, below that never worse than it and never
 * worse than amplified pure DP composition. */
START_TEST (test_sampled_laplace)
{
  dpacct_event *lap, *sampled, *run, *plain;
  ck_assert_int_eq (dpacct_event_laplace_alloc (2.0, &lap), DPACCT_OK);
  ck_assert_int_eq (dpacct_event_self_composed_alloc (lap, 50, &plain), DPACCT_OK);
  double eps_plain = epsilon_of (plain, 1, DPACCT_ADD_REMOVE);
  for (double q = 1.0; q > 1e-3; q /= 5)
    {
      ck_assert_int_eq (dpacct_event_poisson_alloc (q, lap, &sampled), DPACCT_OK);
      ck_assert_int_eq (dpacct_event_self_composed_alloc (sampled, 50, &run),
                        DPACCT_OK);
      double eps = epsilon_of (run, 1, DPACCT_ADD_REMOVE);
      double pure = 50 * log1p (q * expm1 (0.5));
      ck_assert (eps <= eps_plain * (1 + 1e-12) && eps <= pure * (1 + 1e-12));
      if (q == 1.0)
        ck_assert_rel (eps, eps_plain, 1e-12, "q = 1");
      dpacct_event_free (sampled);
      dpacct_event_free (run);
    }
  dpacct_event_free (plain);
  dpacct_event_free (lap);
}
END_TEST

/* delta(epsilon(delta)) gives back delta: both sides use one conversion. */
START_TEST (test_epsilon_delta_inverse)
{
  dpacct_event *e = dpsgd (1.1, 0.004, 10000, DPACCT_SAMPLING_POISSON);
  dpacct_accountant *acc = rdp (DPACCT_ADD_REMOVE);
  ck_assert_int_eq (dpacct_accountant_compose (acc, e, 1), DPACCT_OK);
  for (double delta = 1e-12; delta < 0.1; delta *= 100)
    {
      dpacct_bound b, d;
      ck_assert_int_eq (dpacct_accountant_epsilon (acc, delta, &b), DPACCT_OK);
      ck_assert_int_eq (dpacct_accountant_delta (acc, b.upper, &d), DPACCT_OK);
      ck_assert_rel (d.upper, delta, 1e-9, "delta %g", delta);
      /* Two searches over real orders of one flat minimum. */
      ck_assert_rel (d.order, b.order, 1e-3, "delta %g", delta);
    }
  dpacct_accountant_free (acc);
  dpacct_event_free (e);
}
END_TEST

/* A grid too narrow for the run says so. */
START_TEST (test_order_at_edge)
{
  const double narrow[] = { 2, 3, 4 };
  dpacct_accountant_options o;
  dpacct_accountant_options_init (&o);
  dpacct_accountant_options_set_doubles (&o, "orders", narrow, 3);
  dpacct_event *e = dpsgd (5.0, 0.001, 100, DPACCT_SAMPLING_POISSON);
  dpacct_accountant *acc;
  ck_assert_int_eq (dpacct_accountant_alloc (dpacct_accountant_rdp, &o, &acc),
                    DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_compose (acc, e, 1), DPACCT_OK);
  dpacct_bound b;
  ck_assert_int_eq (dpacct_accountant_epsilon (acc, 1e-5, &b), DPACCT_OK);
  ck_assert (b.order == 4 && b.order_at_edge);
  dpacct_accountant_free (acc);
  acc = rdp (DPACCT_ADD_REMOVE);
  ck_assert_int_eq (dpacct_accountant_compose (acc, e, 1), DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_epsilon (acc, 1e-5, &b), DPACCT_OK);
  ck_assert (!b.order_at_edge && b.order > 4);
  dpacct_accountant_free (acc);
  dpacct_event_free (e);
}
END_TEST

START_TEST (test_argument_errors)
{
  dpacct_accountant_options o;
  dpacct_accountant *acc;
  const double bad[] = { 2, 1.0 }, fine[] = { 8, 2, 2, 4 };
  const double *got;
  size_t n_got;
  dpacct_accountant_options_init (&o);
  /* Settings are refused when set, and a refused one changes nothing. */
  ck_assert_int_eq (dpacct_accountant_options_set_doubles (&o, "orders", bad,
                                                           2), DPACCT_EDOM);
  ck_assert_int_eq (dpacct_accountant_options_set_doubles (&o, "orders", fine,
                                                           0), DPACCT_EDOM);
  ck_assert_int_eq (dpacct_accountant_options_get_doubles (&o, "orders", &got,
                                                           &n_got), DPACCT_OK);
  ck_assert (got == NULL && n_got == 0);
  /* unsorted, with a duplicate: accepted */
  ck_assert_int_eq (dpacct_accountant_options_set_doubles (&o, "orders", fine,
                                                           4), DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_options_set_int (&o, "neighbouring", 7),
                    DPACCT_EDOM);
  ck_assert_int_eq (dpacct_accountant_options_set_int (&o, "no-such-key", 1),
                    DPACCT_EINVAL);
  ck_assert_int_eq (dpacct_accountant_options_set_double (&o, "certified", 1),
                    DPACCT_EINVAL); /* an int setting */
  int64_t relation = -1;
  ck_assert_int_eq (dpacct_accountant_options_get_int (&o, "neighbouring",
                                                       &relation), DPACCT_OK);
  ck_assert_int_eq (relation, DPACCT_ADD_REMOVE);
  ck_assert (!dpacct_accountant_options_is_set (&o, "neighbouring"));
  ck_assert (dpacct_accountant_options_is_set (&o, "orders"));
  /* Options never initialised are refused, not read past their end. */
  dpacct_accountant_options garbage;
  memset (&garbage, 0xff, sizeof garbage);
  ck_assert_int_eq (dpacct_accountant_options_set_int (&garbage, "certified",
                                                       1), DPACCT_EINVAL);
  ck_assert_int_eq (dpacct_accountant_alloc (dpacct_accountant_rdp, &garbage,
                                             &acc), DPACCT_EINVAL);
  /* Which type reads which setting. */
  ck_assert (dpacct_accountant_type_takes (dpacct_accountant_rdp, "orders"));
  ck_assert (!dpacct_accountant_type_takes (dpacct_accountant_pld, "orders"));
  ck_assert (dpacct_accountant_type_takes (dpacct_accountant_pld,
                                           "certified"));
  ck_assert (dpacct_accountant_type_takes (dpacct_accountant_lap2_paper,
                                           "lap2-paper-upper-tail"));
  ck_assert (!dpacct_accountant_type_takes (dpacct_accountant_lap2,
                                            "lap2-paper-upper-tail"));
  /* Each type's own default, and the proved type beside an unproved one. */
  ck_assert (dpacct_accountant_type_default (dpacct_accountant_lap2,
                                             "lap2-max-order")
             == DPACCT_LAP2_DEFAULT_MAX_ORDER);
  ck_assert (dpacct_accountant_type_default (dpacct_accountant_lap2_paper,
                                             "lap2-max-order")
             == DPACCT_LAP2_PAPER_DEFAULT_MAX_ORDER);
  ck_assert (dpacct_accountant_type_default (dpacct_accountant_pld,
                                             "pld-rel-accuracy") == 1e-3);
  ck_assert (isnan (dpacct_accountant_type_default (dpacct_accountant_rdp,
                                                    "lap2-max-order")));
  ck_assert (dpacct_accountant_type_proved (dpacct_accountant_lap2_paper)
             == dpacct_accountant_lap2);
  for (size_t t = 0; dpacct_accountant_type_at (t) != NULL; t++)
    if (dpacct_accountant_type_at (t) != dpacct_accountant_lap2_paper)
      ck_assert (dpacct_accountant_type_proved (dpacct_accountant_type_at (t))
                 == dpacct_accountant_type_at (t));
  ck_assert_int_eq (dpacct_accountant_alloc (NULL, &o, &acc), DPACCT_EINVAL);
  ck_assert_int_eq (dpacct_accountant_alloc (dpacct_accountant_rdp, &o, NULL),
                    DPACCT_EINVAL);
  ck_assert_int_eq (dpacct_accountant_alloc (dpacct_accountant_rdp, &o, &acc),
                    DPACCT_OK);
  dpacct_bound b;
  ck_assert_int_eq (dpacct_accountant_epsilon (acc, 0.0, &b), DPACCT_EDOM);
  ck_assert (isnan (b.upper) && isnan (b.lower));
  ck_assert_int_eq (dpacct_accountant_epsilon (acc, 1.0, &b), DPACCT_EDOM);
  ck_assert_int_eq (dpacct_accountant_epsilon (acc, NAN, &b), DPACCT_EDOM);
  ck_assert_int_eq (dpacct_accountant_delta (acc, -1.0, &b), DPACCT_EDOM);
  ck_assert_int_eq (dpacct_accountant_delta (acc, INFINITY, &b), DPACCT_EDOM);
  ck_assert_int_eq (dpacct_accountant_epsilon (NULL, 0.1, &b), DPACCT_EINVAL);
  ck_assert_int_eq (dpacct_accountant_compose (acc, NULL, 1), DPACCT_EINVAL);
  /* Nothing composed: no privacy spent. */
  ck_assert_int_eq (dpacct_accountant_epsilon (acc, 1e-5, &b), DPACCT_OK);
  ck_assert (b.upper == 0.0);
  dpacct_accountant_free (acc);
  /* Certified bounds do not cover Laplace: unsupported, not wrong. */
  dpacct_accountant_options_set_int (&o, "certified", 1);
  ck_assert_int_eq (dpacct_accountant_alloc (dpacct_accountant_rdp, &o, &acc),
                    DPACCT_OK);
  dpacct_event *lap;
  ck_assert_int_eq (dpacct_event_laplace_alloc (1.0, &lap), DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_compose (acc, lap, 1), DPACCT_EUNSUP);
  dpacct_event_free (lap);
  dpacct_accountant_free (acc);
}
END_TEST

/* Out of memory is reported, not fatal.  The address-space limit applies
 * to this test's own forked process only; sanitizers reserve more address
 * space than the limit allows, so the test skips under them. */
START_TEST (test_out_of_memory)
{
  if (getenv ("ASAN_OPTIONS") != NULL || CK_FORK_GETENV_IS_NO ())
    return;
  struct rlimit limit = { 64 << 20, 64 << 20 };
  ck_assert_int_eq (setrlimit (RLIMIT_AS, &limit), 0);
  static double orders[100000];
  for (size_t i = 0; i < 100000; i++)
    orders[i] = 2.0 + (double) i;
  dpacct_accountant_options o;
  dpacct_accountant_options_init (&o);
  dpacct_accountant_options_set_doubles (&o, "orders", orders, 100000);
  /* Each allocation is small; keep allocating accountants until the
   * limit is reached, then check the failure was reported cleanly. */
  dpacct_accountant *accs[1000];
  int status = DPACCT_OK;
  size_t n = 0;
  while (n < 1000 && (status = dpacct_accountant_alloc (dpacct_accountant_rdp,
                                                        &o, &accs[n]))
                     == DPACCT_OK)
    n++;
  ck_assert_int_eq (status, DPACCT_ENOMEM);
  ck_assert (accs[n] == NULL);
  while (n > 0)
    dpacct_accountant_free (accs[--n]);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("accountant");
  TCase *tc = tcase_create ("protocol");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_type_lookup);
  tcase_add_test (tc, test_compose_is_atomic);
  tcase_add_test (tc, test_composition_algebra);
  tcase_add_test (tc, test_replace_one_doubles_sensitivity);
  tcase_add_test (tc, test_without_replacement);
  tcase_add_test (tc, test_sampled_laplace);
  tcase_add_test (tc, test_epsilon_delta_inverse);
  tcase_add_test (tc, test_order_at_edge);
  tcase_add_test (tc, test_argument_errors);
  tcase_add_test (tc, test_out_of_memory);
  suite_add_tcase (s, tc);
  return test_run_suite (s);
}
