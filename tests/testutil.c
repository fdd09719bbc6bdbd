/* testutil.c - helpers shared by the Check suites. */
#include "testutil.h"

#include <mpfr.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char **
split_line (char *line, size_t *n)
{
  size_t cap = 8, count = 0;
  char **fields = malloc (cap * sizeof *fields);
  char *start = line;
  for (char *c = line;; c++)
    if (*c == ',' || *c == '\n' || *c == '\r' || *c == '\0')
      {
        int end = *c != ',';
        *c = '\0';
        if (count == cap)
          fields = realloc (fields, (cap *= 2) * sizeof *fields);
        fields[count++] = strdup (start);
        start = c + 1;
        if (end)
          break;
      }
  *n = count;
  return fields;
}

test_table *
test_table_load (const char *name)
{
  const char *dir = getenv ("DPACCT_TEST_DATA");
  char path[4096];
  snprintf (path, sizeof path, "%s/%s", dir ? dir : "tests/data", name);
  FILE *f = fopen (path, "r");
  ck_assert_msg (f != NULL, "cannot open %s", path);
  test_table *t = calloc (1, sizeof *t);
  char line[8192];
  size_t cap = 0;
  while (fgets (line, sizeof line, f))
    {
      if (line[0] == '#' || line[0] == '\n')
        continue;
      size_t n;
      char **fields = split_line (line, &n);
      if (t->header == NULL)
        {
          t->header = fields;
          t->n_cols = n;
          continue;
        }
      ck_assert_msg (n == t->n_cols, "%s: row %zu has %zu fields", path,
                     t->n_rows + 1, n);
      if (t->n_rows == cap)
        t->cells = realloc (t->cells, (cap = cap ? 2 * cap : 64)
                                      * sizeof *t->cells);
      t->cells[t->n_rows++] = fields;
    }
  fclose (f);
  ck_assert_msg (t->n_rows > 0, "%s has no rows", path);
  return t;
}

void
test_table_free (test_table *t)
{
  for (size_t r = 0; r <= t->n_rows; r++)
    {
      char **row = r == 0 ? t->header : t->cells[r - 1];
      for (size_t c = 0; c < t->n_cols; c++)
        free (row[c]);
      free (row);
    }
  free (t->cells);
  free (t);
}

size_t
test_table_column (const test_table *t, const char *name)
{
  for (size_t c = 0; c < t->n_cols; c++)
    if (strcmp (t->header[c], name) == 0)
      return c;
  ck_abort_msg ("no column %s", name);
  return 0;
}

double
test_table_number (const test_table *t, size_t row, size_t col)
{
  char *end;
  double x = strtod (t->cells[row][col], &end);
  ck_assert_msg (*end == '\0', "not a number: '%s'", t->cells[row][col]);
  return x;
}

const char *
test_table_text (const test_table *t, size_t row, size_t col)
{
  return t->cells[row][col];
}

const char *
test_describe (const char *format, ...)
{
  static char buffer[512];
  va_list ap;
  va_start (ap, format);
  vsnprintf (buffer, sizeof buffer, format, ap);
  va_end (ap);
  return buffer;
}

unsigned long
test_seed (void)
{
  const char *s = getenv ("DPACCT_TEST_SEED");
  unsigned long seed = s ? strtoul (s, NULL, 10) : 12345UL;
  static int printed;
  if (!printed++)
    printf ("DPACCT_TEST_SEED=%lu\n", seed);
  return seed;
}

int
test_run_suite (Suite *suite)
{
  SRunner *runner = srunner_create (suite);
  srunner_run_all (runner, CK_NORMAL);
  int failed = srunner_ntests_failed (runner);
  srunner_free (runner);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* ------------------------------------------------ the exact Gaussian */

/* delta(eps) of the Gaussian mechanism with noise s (Balle and Wang 2018),
 * in MPFR: Phi(-eps s + 1/(2s)) - e^eps Phi(-eps s - 1/(2s)). */
static void
gaussian_delta (mpfr_t out, double s, const mpfr_t eps)
{
  mpfr_t a, b, e, r2;
  mpfr_inits2 (mpfr_get_prec (out), a, b, e, r2, (mpfr_ptr) 0);
  mpfr_mul_d (e, eps, s, MPFR_RNDN);         /* eps s */
  mpfr_set_d (a, 0.5 / s, MPFR_RNDN);        /* 1/(2s) */
  mpfr_add (b, e, a, MPFR_RNDN);
  mpfr_sub (a, e, a, MPFR_RNDN);
  mpfr_sqrt_ui (r2, 2, MPFR_RNDN);
  mpfr_div (a, a, r2, MPFR_RNDN);
  mpfr_div (b, b, r2, MPFR_RNDN);
  mpfr_erfc (a, a, MPFR_RNDN);
  mpfr_erfc (b, b, MPFR_RNDN);
  mpfr_exp (e, eps, MPFR_RNDN);
  mpfr_mul (b, b, e, MPFR_RNDN);
  mpfr_sub (out, a, b, MPFR_RNDN);
  mpfr_div_2ui (out, out, 1, MPFR_RNDN);
  mpfr_clears (a, b, e, r2, (mpfr_ptr) 0);
}

double
test_exact_gaussian_delta (double sigma, double steps, double eps)
{
  mpfr_t e, d;
  mpfr_inits2 (256, e, d, (mpfr_ptr) 0);
  mpfr_set_d (e, eps, MPFR_RNDN);
  gaussian_delta (d, sigma / sqrt (steps), e);
  double delta = mpfr_get_d (d, MPFR_RNDN);
  mpfr_clears (e, d, (mpfr_ptr) 0);
  return delta;
}

/* The exact epsilon for delta: bisection on the decreasing delta(eps). */
double
test_exact_gaussian_epsilon (double sigma, double steps, double delta)
{
  double s = sigma / sqrt (steps), lo = 0.0, hi = 1.0;
  mpfr_t eps, d;
  mpfr_inits2 (200, eps, d, (mpfr_ptr) 0);
  for (;;)
    {
      mpfr_set_d (eps, hi, MPFR_RNDN);
      gaussian_delta (d, s, eps);
      if (mpfr_cmp_d (d, delta) <= 0)
        break;
      lo = hi, hi *= 2.0;
    }
  for (int i = 0; i < 80; i++)
    {
      double mid = 0.5 * (lo + hi);
      mpfr_set_d (eps, mid, MPFR_RNDN);
      gaussian_delta (d, s, eps);
      if (mpfr_cmp_d (d, delta) > 0)
        lo = mid;
      else
        hi = mid;
    }
  mpfr_clears (eps, d, (mpfr_ptr) 0);
  return 0.5 * (lo + hi);
}

