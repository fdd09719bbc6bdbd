/* check_threads.c - every accountant, and calibration, from several threads
 * at once give bit-identical answers to a single-threaded run.
 *
 * The library keeps no mutable global state (the error hook is atomic,
 * FFT plans and root solvers are made per call, FFTW's planner under the
 * library's lock), so concurrent calls must not see each other.  Each thread runs every job,
 * starting at a different one so that different jobs overlap. */
#include <dpacct.h>
#include "testutil.h"

#include <pthread.h>
#include <string.h>

enum { N_THREADS = 4 };

typedef enum { JOB_EPSILON, JOB_DELTA, JOB_CALIBRATE, JOB_LAPLACE } job_kind;

typedef struct
{
  job_kind kind;
  const char *accountant;
  double sigma, q; /* sigma: b/C for Laplace jobs (dimension 1000) */
  uint64_t steps;
  double given; /* delta, epsilon, or the target epsilon */
  int certified; /* MPFR, with its per-thread caches */
} job;

static const job jobs[] = {
  { JOB_EPSILON, "rdp", 1.1, 0.004, 10000, 1e-5, 0 },
  { JOB_EPSILON, "pld", 1.1, 0.004, 10000, 1e-5, 0 },
  { JOB_EPSILON, "pld", 0.8, 0.05, 200, 1e-8, 0 },
  { JOB_DELTA, "pld", 1.0, 0.01, 1000, 1.0, 0 },
  { JOB_DELTA, "rdp", 2.0, 0.1, 500, 0.5, 0 },
  { JOB_CALIBRATE, "rdp", 0.0, 0.01, 1000, 2.0, 0 },
  { JOB_CALIBRATE, "pld", 0.0, 0.01, 1000, 2.0, 0 },
  { JOB_LAPLACE, "lap2", 1.5, 0.01, 2000, 1e-5, 0 },
  { JOB_LAPLACE, "lap2-paper", 1.5, 0.01, 2000, 1e-5, 0 },
  { JOB_EPSILON, "rdp", 1.1, 0.004, 10000, 1e-5, 1 },
  { JOB_EPSILON, "pld", 1.0, 0.1, 100, 1e-5, 1 },
};
enum { N_JOBS = sizeof jobs / sizeof jobs[0] };

/* The two numbers a job answers, bit for bit. */
typedef struct
{
  double a, b;
  int status;
} answer;

static answer
run_job (const job *j)
{
  answer out = { 0.0, 0.0, DPACCT_OK };
  const dpacct_accountant_type *type
    = dpacct_accountant_type_by_name (j->accountant);
  if (j->kind == JOB_CALIBRATE)
    {
      dpacct_calibration c;
      out.status = dpacct_noise_for_epsilon (type, NULL, j->q, j->steps,
                                             DPACCT_SAMPLING_POISSON, j->given,
                                             1e-5, NULL, &c);
      out.a = c.noise;
      out.b = c.epsilon_upper;
      return out;
    }
  dpacct_event *e = NULL;
  dpacct_accountant *acc = NULL;
  dpacct_bound bound;
  if (j->kind == JOB_LAPLACE)
    {
      dpacct_event *mech = NULL, *sampled = NULL;
      out.status = dpacct_event_laplace_l2_alloc (j->sigma, 1000, &mech);
      if (out.status == DPACCT_OK)
        out.status = dpacct_event_poisson_alloc (j->q, mech, &sampled);
      if (out.status == DPACCT_OK)
        out.status = dpacct_event_self_composed_alloc (sampled, j->steps, &e);
      dpacct_event_free (sampled);
      dpacct_event_free (mech);
    }
  else
    out.status = dpacct_dpsgd_event_alloc (j->sigma, j->q, j->steps,
                                           DPACCT_SAMPLING_POISSON, &e);
  dpacct_accountant_options options;
  dpacct_accountant_options_init (&options);
  dpacct_accountant_options_set_int (&options, "certified", j->certified);
  if (out.status == DPACCT_OK)
    out.status = dpacct_accountant_alloc (type, &options, &acc);
  if (out.status == DPACCT_OK)
    out.status = dpacct_accountant_compose (acc, e, 1);
  if (out.status == DPACCT_OK)
    out.status = j->kind != JOB_DELTA
                 ? dpacct_accountant_epsilon (acc, j->given, &bound)
                 : dpacct_accountant_delta (acc, j->given, &bound);
  if (out.status == DPACCT_OK)
    {
      out.a = bound.lower;
      out.b = bound.upper;
    }
  dpacct_accountant_free (acc);
  dpacct_event_free (e);
  return out;
}

typedef struct
{
  size_t first;
  answer answers[N_JOBS];
} worker;

static void *
work (void *arg)
{
  worker *w = arg;
  for (size_t i = 0; i < N_JOBS; i++)
    {
      size_t j = (w->first + i) % N_JOBS;
      w->answers[j] = run_job (&jobs[j]);
    }
  return NULL;
}

START_TEST (test_threads_agree_with_one)
{
  answer alone[N_JOBS];
  for (size_t j = 0; j < N_JOBS; j++)
    {
      alone[j] = run_job (&jobs[j]);
      ck_assert_msg (alone[j].status == DPACCT_OK, "job %zu failed: %d", j,
                     alone[j].status);
    }
  pthread_t threads[N_THREADS];
  worker workers[N_THREADS];
  for (size_t t = 0; t < N_THREADS; t++)
    {
      workers[t].first = t * N_JOBS / N_THREADS;
      ck_assert_int_eq (pthread_create (&threads[t], NULL, work, &workers[t]),
                        0);
    }
  for (size_t t = 0; t < N_THREADS; t++)
    ck_assert_int_eq (pthread_join (threads[t], NULL), 0);
  for (size_t t = 0; t < N_THREADS; t++)
    for (size_t j = 0; j < N_JOBS; j++)
      {
        const answer *x = &workers[t].answers[j], *y = &alone[j];
        ck_assert_msg (x->status == y->status
                       && memcmp (&x->a, &y->a, sizeof x->a) == 0
                       && memcmp (&x->b, &y->b, sizeof x->b) == 0,
                       "thread %zu, job %zu (%s): (%.17g, %.17g) vs "
                       "single-threaded (%.17g, %.17g)", t, j,
                       jobs[j].accountant, x->a, x->b, y->a, y->b);
      }
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("threads");
  TCase *tc = tcase_create ("concurrent");
  tcase_set_timeout (tc, 300);
  tcase_add_test (tc, test_threads_agree_with_one);
  suite_add_tcase (s, tc);
  return test_run_suite (s);
}
