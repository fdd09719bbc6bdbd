/* check_output.c - the tool's number printing (tools/output.c): TSV and
 * JSON numbers are the shortest decimals that read back as the same
 * double, and the table's rounded bounds stay on their side. */
#include <config.h>

#include "output.h"
#include "testutil.h"

#include <float.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Significant digits of the decimal TEXT: its mantissa's digits without
 * leading or trailing zeros ("60000" and "6e+04" both have one). */
static int
significant_digits (const char *text)
{
  int n = 0, zeros = 0, leading = 1;
  for (const char *p = text; *p && *p != 'e'; p++)
    if (*p >= '0' && *p <= '9')
      {
        if (*p != '0')
          {
            n += leading ? 1 : zeros + 1;
            leading = 0;
            zeros = 0;
          }
        else if (!leading)
          zeros++;
      }
  return n;
}

/* X printed by out_shortest reads back as X, and no %.Ng with fewer
 * digits than it printed reads back as X. */
static void
check_shortest (double x)
{
  char buf[64];
  out_shortest (x, buf, sizeof buf);
  double back = strtod (buf, NULL);
  ck_assert_msg (memcmp (&back, &x, sizeof x) == 0,
                 "%.17g printed as %s reads back as %.17g", x, buf, back);
  int digits = significant_digits (buf);
  ck_assert_msg (digits <= 17 && (digits >= 1 || x == 0), "%.17g: %s", x, buf);
  for (int n = 1; n < digits; n++)
    {
      char shorter[400]; /* %.*g of a double may take 310 bytes */
      snprintf (shorter, sizeof shorter, "%.*g", n, x);
      ck_assert_msg (strtod (shorter, NULL) != x,
                     "%.17g printed as %s, but %s (%d digits) reads back "
                     "as it too", x, buf, shorter, n);
    }
}

START_TEST (test_shortest_typed_inputs)
{
  /* What people type comes back as typed. */
  static const struct { double x; const char *text; } cases[] = {
    { 0.8, "0.8" }, { 1e-5, "1e-05" }, { 1.1, "1.1" }, { 0.004, "0.004" },
    { 1e-300, "1e-300" }, { 60000, "60000" }, { 3, "3" }, { 0.1, "0.1" },
    { 0.30000000000000004, "0.30000000000000004" }, { 2.5e-8, "2.5e-08" },
    { -0.0, "-0" }, { 5e-324, "5e-324" }, { DBL_MAX, "1.7976931348623157e+308" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      char buf[64];
      out_shortest (cases[i].x, buf, sizeof buf);
      ck_assert_str_eq (buf, cases[i].text);
      check_shortest (cases[i].x);
    }
  char buf[64];
  out_shortest (NAN, buf, sizeof buf);
  ck_assert_str_eq (buf, "nan");
  out_shortest (INFINITY, buf, sizeof buf);
  ck_assert_str_eq (buf, "inf");
  out_shortest (-INFINITY, buf, sizeof buf);
  ck_assert_str_eq (buf, "-inf");
}
END_TEST

START_TEST (test_shortest_random_doubles)
{
  gsl_rng *r = gsl_rng_alloc (gsl_rng_mt19937);
  gsl_rng_set (r, test_seed ());
  for (int i = 0; i < 2000; i++)
    {
      /* Random bit patterns (every exponent, subnormals included), and
       * random decimals of few digits, which must come back short. */
      uint64_t bits = ((uint64_t) gsl_rng_get (r) << 32) ^ gsl_rng_get (r);
      double x;
      memcpy (&x, &bits, sizeof x);
      if (isfinite (x))
        check_shortest (x);
      int digits = 1 + (int) gsl_rng_uniform_int (r, 15);
      int exponent = (int) gsl_rng_uniform_int (r, 61) - 30;
      char typed[64];
      snprintf (typed, sizeof typed, "%.*fe%d", digits - 1,
                1 + 9 * gsl_rng_uniform (r), exponent);
      double y = strtod (typed, NULL);
      check_shortest (y);
      char buf[64];
      out_shortest (y, buf, sizeof buf);
      ck_assert_msg (significant_digits (buf) <= digits,
                     "typed %s, printed %s", typed, buf);
    }
  gsl_rng_free (r);
}
END_TEST

START_TEST (test_table_bounds_stay_on_their_side)
{
  /* The table prints 6 digits: an upper bound rounds up, a lower bound
   * down, so the printed decimal read back is on the safe side. */
  gsl_rng *r = gsl_rng_alloc (gsl_rng_mt19937);
  gsl_rng_set (r, test_seed () + 1);
  for (int i = 0; i < 1000; i++)
    {
      double x = exp (gsl_rng_uniform (r) * 40 - 20);
      if (i % 3 == 0) /* a 6-digit decimal itself: exact or not */
        {
          char six[32];
          snprintf (six, sizeof six, "%.5e", x);
          x = strtod (six, NULL);
        }
      char up[64], down[64];
      out_round_bound (x, 1, up, sizeof up);
      out_round_bound (x, 0, down, sizeof down);
      ck_assert_msg (strtod (up, NULL) >= x, "upper %.17g printed %s", x, up);
      ck_assert_msg (strtod (down, NULL) <= x, "lower %.17g printed %s", x,
                     down);
      ck_assert_msg (significant_digits (up) <= 6
                     && significant_digits (down) <= 6, "%s %s", up, down);
    }
  gsl_rng_free (r);
}
END_TEST

static Suite *
output_suite (void)
{
  Suite *s = suite_create ("output");
  TCase *tc = tcase_create ("numbers");
  tcase_add_test (tc, test_shortest_typed_inputs);
  tcase_add_test (tc, test_shortest_random_doubles);
  tcase_add_test (tc, test_table_bounds_stay_on_their_side);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  return test_run_suite (output_suite ());
}
