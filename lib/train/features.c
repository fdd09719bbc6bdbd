/* features.c - the trainer's frozen feature extractor: the top K principal
 * components of the public part of the data, standardised with the public
 * part's statistics, so that the private part is never looked at before
 * DP training.  Fitting costs seconds on Fashion-MNIST, so a fit can be
 * cached in a file keyed by the public data's fingerprint and K. */
#include "dpacct/train.h"
#include "internal.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_eigen.h>
#include <gsl/gsl_matrix.h>

struct dpacct_pca {
  size_t dim, k;
  uint64_t fingerprint; /* of the public data it was fitted on */
  double *mean;         /* dim: the public mean */
  double *scale;        /* k: 1 / std of each component on the public set */
  float *basis;         /* dim x k: component c of pixel j at [j * k + c] */
};

static const char cache_magic[8] = { 'D', 'P', 'A', 'P', 'C', 'A', '0', '1' };

static int
pca_alloc (size_t dim, size_t k, dpacct_pca **out)
{
  dpacct_pca *p = calloc (1, sizeof *p);
  if (p != NULL)
    {
      p->dim = dim;
      p->k = k;
      p->mean = calloc (dim, sizeof *p->mean);
      p->scale = calloc (k, sizeof *p->scale);
      p->basis = calloc (dim * k, sizeof *p->basis);
    }
  if (p == NULL || p->mean == NULL || p->scale == NULL || p->basis == NULL)
    {
      dpacct_pca_free (p);
      return DPACCT_FAIL (DPACCT_ENOMEM, "out of memory for PCA");
    }
  *out = p;
  return DPACCT_OK;
}

void
dpacct_pca_free (dpacct_pca *pca)
{
  if (pca == NULL)
    return;
  free (pca->mean);
  free (pca->scale);
  free (pca->basis);
  free (pca);
}

size_t
dpacct_pca_components (const dpacct_pca *pca)
{
  return pca->k;
}

int
dpacct_pca_fit (const dpacct_dataset *pub, size_t k, dpacct_pca **out)
{
  if (pub == NULL || out == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL pointer");
  *out = NULL;
  if (k < 1 || k > pub->dim)
    return DPACCT_FAIL (DPACCT_EDOM, "need 1 <= K <= the input dimension");
  if (pub->n < 2)
    return DPACCT_FAIL (DPACCT_EDOM, "PCA needs at least 2 public examples");
  size_t n = pub->n, dim = pub->dim;
  dpacct_pca *p;
  int status = pca_alloc (dim, k, &p);
  if (status)
    return status;
  p->fingerprint = dpacct_dataset_fingerprint (pub);
  gsl_matrix *centred = gsl_matrix_alloc (1, dim);
  gsl_matrix *cov = gsl_matrix_calloc (dim, dim);
  gsl_vector *eval = gsl_vector_alloc (dim);
  gsl_matrix *evec = gsl_matrix_alloc (dim, dim);
  gsl_eigen_symmv_workspace *w = gsl_eigen_symmv_alloc (dim);
  if (!centred || !cov || !eval || !evec || !w)
    status = DPACCT_FAIL (DPACCT_ENOMEM, "out of memory for PCA");
  if (!status)
    {
      for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < dim; j++)
          p->mean[j] += pub->x[i * dim + j];
      for (size_t j = 0; j < dim; j++)
        p->mean[j] /= (double) n;
      /* Lower triangle of X'X / (n - 1), row by row: GSL's reference
       * dsyrk takes twenty times longer on 10,000 x 784. */
      double *row = centred->data;
      for (size_t i = 0; i < n; i++)
        {
          for (size_t j = 0; j < dim; j++)
            row[j] = pub->x[i * dim + j] - p->mean[j];
          for (size_t a = 0; a < dim; a++)
            {
              double xa = row[a];
              double *c = cov->data + a * cov->tda;
              for (size_t b = 0; b <= a; b++)
                c[b] += xa * row[b];
            }
        }
      gsl_matrix_scale (cov, 1.0 / (double) (n - 1));
      /* symmv reads the lower triangle only. */
      if (gsl_eigen_symmv (cov, eval, evec, w) != GSL_SUCCESS
          || gsl_eigen_symmv_sort (eval, evec, GSL_EIGEN_SORT_VAL_DESC))
        status = DPACCT_FAIL (DPACCT_ENUMERIC, "the eigen solver failed");
    }
  for (size_t c = 0; !status && c < k; c++)
    {
      /* The variance of a component is its eigenvalue; a (nearly) constant
       * direction is left unscaled rather than blown up. */
      double var = gsl_vector_get (eval, c);
      p->scale[c] = var > 1e-12 ? 1.0 / sqrt (var) : 1.0;
      /* Fix each eigenvector's sign so that fits are reproducible. */
      double sum = 0;
      for (size_t j = 0; j < dim; j++)
        sum += gsl_matrix_get (evec, j, c);
      double sign = sum < 0 ? -1.0 : 1.0;
      for (size_t j = 0; j < dim; j++)
        p->basis[j * k + c] = (float) (sign * gsl_matrix_get (evec, j, c));
    }
  gsl_matrix_free (centred);
  gsl_matrix_free (cov);
  gsl_vector_free (eval);
  gsl_matrix_free (evec);
  if (w)
    gsl_eigen_symmv_free (w);
  if (status)
    dpacct_pca_free (p);
  else
    *out = p;
  return status;
}

/* A += V * B over K floats; four at a time with GCC's vector extension
 * when K and the 16-byte alignment of malloc allow (a 3x gain at -O2,
 * which does not vectorise this loop itself). */
typedef float float4 __attribute__ ((vector_size (16)));

static void
axpy (float *a, float v, const float *b, size_t k)
{
  size_t c = 0;
  if (k % 4 == 0 && ((uintptr_t) a | (uintptr_t) b) % 16 == 0)
    {
      float4 vv = { v, v, v, v };
      float4 *a4 = (float4 *) (void *) a;
      const float4 *b4 = (const float4 *) (const void *) b;
      for (; c < k / 4; c++)
        a4[c] += vv * b4[c];
      return;
    }
  for (; c < k; c++)
    a[c] += v * b[c];
}

int
dpacct_pca_transform (const dpacct_pca *pca, const dpacct_dataset *data,
                      dpacct_dataset **out)
{
  if (pca == NULL || data == NULL || out == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL pointer");
  *out = NULL;
  if (data->dim != pca->dim)
    return DPACCT_FAIL (DPACCT_EDOM, "the data's dimension is not the "
                                     "dimension PCA was fitted on");
  size_t k = pca->k, dim = pca->dim;
  int status = dpacct_dataset_alloc (data->n, k, data->n_classes, out);
  if (status)
    return status;
  /* Examples in blocks of BLOCK, an axpy per input coordinate and example:
   * each row of the basis is read once per block while it sits in the
   * cache, instead of streaming the whole basis once per example. */
  enum { BLOCK = 16 };
  float *acc = malloc (BLOCK * k * sizeof *acc);
  if (acc == NULL)
    {
      dpacct_dataset_free (*out);
      *out = NULL;
      return DPACCT_FAIL (DPACCT_ENOMEM, "out of memory");
    }
  for (size_t first = 0; first < data->n; first += BLOCK)
    {
      size_t m = data->n - first < BLOCK ? data->n - first : BLOCK;
      memset (acc, 0, m * k * sizeof *acc);
      for (size_t j = 0; j < dim; j++)
        {
          const float *b = pca->basis + j * k;
          for (size_t e = 0; e < m; e++)
            {
              float v = (float) (data->x[(first + e) * dim + j]
                                 - pca->mean[j]);
              axpy (acc + e * k, v, b, k);
            }
        }
      for (size_t e = 0; e < m; e++)
        {
          for (size_t c = 0; c < k; c++)
            (*out)->x[(first + e) * k + c] = (float) (acc[e * k + c]
                                                      * pca->scale[c]);
          (*out)->y[first + e] = data->y[first + e];
        }
    }
  free (acc);
  return status;
}

/* ------------------------------------------------------------ cache */

static int
write_cache (const dpacct_pca *p, const char *path)
{
  char tmp[4096];
  if (snprintf (tmp, sizeof tmp, "%s.tmp%ld", path, (long) getpid ())
      >= (int) sizeof tmp)
    return 0;
  FILE *f = fopen (tmp, "wb");
  if (f == NULL)
    return 0;
  uint64_t head[3] = { p->fingerprint, p->dim, p->k };
  int ok = fwrite (cache_magic, 1, 8, f) == 8
           && fwrite (head, sizeof head[0], 3, f) == 3
           && fwrite (p->mean, sizeof *p->mean, p->dim, f) == p->dim
           && fwrite (p->scale, sizeof *p->scale, p->k, f) == p->k
           && fwrite (p->basis, sizeof *p->basis, p->dim * p->k, f)
                  == p->dim * p->k;
  ok = (fclose (f) == 0) && ok;
  /* Renaming makes the cache appear whole or not at all. */
  if (!ok || rename (tmp, path) != 0)
    {
      remove (tmp);
      return 0;
    }
  return 1;
}

/* A cached fit for FINGERPRINT, DIM and K, or NULL. */
static dpacct_pca *
read_cache (const char *path, uint64_t fingerprint, size_t dim, size_t k)
{
  FILE *f = fopen (path, "rb");
  if (f == NULL)
    return NULL;
  char magic[8];
  uint64_t head[3];
  dpacct_pca *p = NULL;
  int ok = fread (magic, 1, 8, f) == 8 && memcmp (magic, cache_magic, 8) == 0
           && fread (head, sizeof head[0], 3, f) == 3
           && head[0] == fingerprint && head[1] == dim && head[2] == k
           && pca_alloc (dim, k, &p) == DPACCT_OK;
  ok = ok && fread (p->mean, sizeof *p->mean, dim, f) == dim
       && fread (p->scale, sizeof *p->scale, k, f) == k
       && fread (p->basis, sizeof *p->basis, dim * k, f) == dim * k
       && fgetc (f) == EOF;
  fclose (f);
  for (size_t c = 0; ok && c < k; c++)
    ok = isfinite (p->scale[c]) && p->scale[c] > 0;
  if (!ok)
    {
      dpacct_pca_free (p);
      return NULL;
    }
  p->fingerprint = fingerprint;
  return p;
}

int
dpacct_pca_fit_cached (const dpacct_dataset *pub, size_t k, const char *dir,
                       dpacct_pca **out, int *from_cache, char *error,
                       size_t error_size)
{
  if (pub == NULL || out == NULL || from_cache == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL pointer");
  *out = NULL;
  *from_cache = 0;
  char path[4096];
  uint64_t fp = dpacct_dataset_fingerprint (pub);
  int have_path = dir != NULL && *dir != '\0'
                  && snprintf (path, sizeof path, "%s/pca-%016llx-k%zu.bin",
                               dir, (unsigned long long) fp, k)
                         < (int) sizeof path;
  if (have_path && k >= 1 && k <= pub->dim
      && (*out = read_cache (path, fp, pub->dim, k)) != NULL)
    {
      *from_cache = 1;
      return DPACCT_OK;
    }
  int status = dpacct_pca_fit (pub, k, out);
  if (status && error != NULL && error_size > 0)
    snprintf (error, error_size, "PCA of the public data (K = %zu): %s", k,
              dpacct_strerror (status));
  if (!status && have_path)
    write_cache (*out, path);
  return status;
}
