/* testutil.h - helpers shared by the Check suites: reference tables from
 * tests/data, relative-tolerance asserts, seeded randomness. */
#ifndef DPACCT_TESTUTIL_H
#define DPACCT_TESTUTIL_H

#include <check.h>
#include <math.h>
#include <stddef.h>

/* A CSV table from tests/data ('#' lines are provenance notes). */
typedef struct
{
  size_t n_rows, n_cols;
  char **header;
  char ***cells; /* cells[row][col] */
} test_table;

test_table *test_table_load (const char *name);
void test_table_free (test_table *t);
size_t test_table_column (const test_table *t, const char *name);
double test_table_number (const test_table *t, size_t row, size_t col);
const char *test_table_text (const test_table *t, size_t row, size_t col);

/* |got - want| <= tol * |want|, with a message naming what was compared. */
#define ck_assert_rel(got, want, tol, ...)                                  \
  do {                                                                      \
    double got_ = (got), want_ = (want);                                    \
    ck_assert_msg (fabs (got_ - want_) <= (tol) * fabs (want_),             \
                   "%s: got %.17g, want %.17g (rel. err. %.3g > %.3g)",     \
                   test_describe (__VA_ARGS__), got_, want_,                \
                   fabs (got_ - want_) / fabs (want_), (double) (tol));     \
  } while (0)

/* printf into a static buffer, for assertion messages. */
const char *test_describe (const char *format, ...);

/* A seed from DPACCT_TEST_SEED (default 12345), printed once. */
unsigned long test_seed (void);

/* The exact epsilon at DELTA of STEPS Gaussian steps of noise SIGMA
 * (sensitivity 1): the analytic Gaussian mechanism (Balle and Wang 2018)
 * with noise sigma / sqrt(steps), in MPFR, bisected to double precision. */
double test_exact_gaussian_epsilon (double sigma, double steps, double delta);
/* Its exact delta at EPS, the same way. */
double test_exact_gaussian_delta (double sigma, double steps, double eps);

/* Runs one suite and returns the process exit status. */
int test_run_suite (Suite *suite);

#endif
