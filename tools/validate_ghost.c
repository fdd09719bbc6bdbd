/* validate_ghost.c - Li et al.'s ghost clipping, measured: the time and
 * scratch memory of one example's gradient norm for a dense layer of
 * WIDTH inputs and outputs applied to T tokens, by the ghost formula
 * ||sum_t g_t a_t^T||^2 = sum_{t,t'} (a_t . a_t')(g_t . g_t') and by
 * forming the d_in x d_out gradient.  Both are written out here, from
 * the formulas, so that the tool times them without the library's
 * internals; they must agree, which the run checks. */
#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <time.h>

#include <gsl/gsl_rng.h>

#include "validate.h"

/* The ghost norm: two T x T Gram matrices, one pass each. */
static double
ghost_norm2 (size_t T, size_t din, size_t dout, const double *a,
             const double *g, double *gram_a, double *gram_g)
{
  for (size_t t = 0; t < T; t++)
    for (size_t u = 0; u <= t; u++)
      {
        double sa = 0, sg = 0;
        for (size_t i = 0; i < din; i++)
          sa += a[t * din + i] * a[u * din + i];
        for (size_t o = 0; o < dout; o++)
          sg += g[t * dout + o] * g[u * dout + o];
        gram_a[t * T + u] = sa;
        gram_g[t * T + u] = sg;
      }
  double s = 0;
  for (size_t t = 0; t < T; t++)
    {
      s += gram_a[t * T + t] * gram_g[t * T + t];
      for (size_t u = 0; u < t; u++)
        s += 2 * gram_a[t * T + u] * gram_g[t * T + u];
    }
  return s;
}

/* The materialised norm: sum_t g_t a_t^T in BUFFER, then its norm. */
static double
materialised_norm2 (size_t T, size_t din, size_t dout, const double *a,
                    const double *g, double *buffer)
{
  for (size_t k = 0; k < din * dout; k++)
    buffer[k] = 0;
  for (size_t t = 0; t < T; t++)
    for (size_t o = 0; o < dout; o++)
      {
        double go = g[t * dout + o];
        double *row = buffer + o * din;
        const double *at = a + t * din;
        for (size_t i = 0; i < din; i++)
          row[i] += go * at[i];
      }
  double s = 0;
  for (size_t k = 0; k < din * dout; k++)
    s += buffer[k] * buffer[k];
  return s;
}

static double
cpu_seconds (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

int
validate_ghost_predicted (size_t width, size_t tokens)
{
  double T = (double) tokens, d = (double) width;
  return T * T * (d + d) < T * d * d;
}

int
validate_ghost_cost (size_t width, size_t T, validate_run *r)
{
  size_t din = width, dout = width;
  double *a = malloc (T * din * sizeof *a);
  double *g = malloc (T * dout * sizeof *g);
  double *gram = malloc (2 * T * T * sizeof *gram);
  double *buffer = malloc (din * dout * sizeof *buffer);
  gsl_rng *rng = gsl_rng_alloc (gsl_rng_mt19937);
  int rc = 0;
  if (!a || !g || !gram || !buffer || !rng)
    rc = out_library_failure (DPACCT_ENOMEM, "the ghost-clipping timing");
  else
    {
      gsl_rng_set (rng, 1000 * width + T);
      for (size_t k = 0; k < T * din; k++)
        a[k] = gsl_rng_uniform (rng) - 0.5;
      for (size_t k = 0; k < T * dout; k++)
        g[k] = gsl_rng_uniform (rng) - 0.5;
      /* Enough repetitions for about 1e7 multiply-adds per method. */
      double work = (double) T * (double) din * (double) dout;
      size_t reps = (size_t) fmax (1, 1e7 / work);
      double ghost = 0, mat = 0, t0 = cpu_seconds ();
      for (size_t k = 0; k < reps; k++)
        ghost += ghost_norm2 (T, din, dout, a, g, gram, gram + T * T);
      double t1 = cpu_seconds ();
      for (size_t k = 0; k < reps; k++)
        mat += materialised_norm2 (T, din, dout, a, g, buffer);
      double t2 = cpu_seconds ();
      r->ghost_seconds = (t1 - t0) / (double) reps;
      r->materialised_seconds = (t2 - t1) / (double) reps;
      r->ghost_bytes = (double) (2 * T * T * sizeof *gram);
      r->materialised_bytes = (double) (din * dout * sizeof *buffer);
      /* The two are the same number; a disagreement is a bug here. */
      if (!(fabs (ghost - mat) <= 1e-9 * fabs (mat)))
        {
          out_error ("ghost-clipping timing: the ghost norm %.17g and the "
                     "materialised %.17g disagree", ghost / (double) reps,
                     mat / (double) reps);
          rc = 2;
        }
    }
  gsl_rng_free (rng);
  free (a);
  free (g);
  free (gram);
  free (buffer);
  return rc;
}
