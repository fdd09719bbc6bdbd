/* check_train.c - the reference trainer: data loaders (good and corrupt
 * files), PCA features and their cache, exact per-example norms against a
 * finite-difference gradient, the clipping variants, the Poisson sampling
 * rate, the injected noise against theory (chi-square at a fixed seed;
 * Laplace: its lap2 calibration and z-tests of its second moments), and
 * the audit's Clopper-Pearson bounds against tabulated values; one step
 * of the trainer against a hand computation, the norms of the clipped
 * contributions it adds, and its update's divisor. */
#include <dpacct.h>
#include <dpacct/train.h>
#include "testutil.h"
#include "../lib/train/train_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <zlib.h>

/* ------------------------------------------------------------ files */

static char tmpdir[256];

static void
make_tmpdir (void)
{
  const char *base = getenv ("TMPDIR");
  snprintf (tmpdir, sizeof tmpdir, "%s/dpacct-train-XXXXXX",
            base && *base ? base : "/tmp");
  ck_assert (mkdtemp (tmpdir) != NULL);
}

static void
remove_tmpdir (void)
{
  char cmd[512];
  snprintf (cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  ck_assert_int_eq (system (cmd), 0);
}

static const char *
tmp_path (const char *name)
{
  static char path[4][512];
  static int next;
  char *p = path[next++ % 4];
  snprintf (p, 512, "%s/%s", tmpdir, name);
  return p;
}

static void
write_text (const char *path, const char *text)
{
  FILE *f = fopen (path, "w");
  ck_assert (f != NULL);
  fputs (text, f);
  ck_assert_int_eq (fclose (f), 0);
}

/* A gzip IDX file: magic 0 0 8 NDIMS, dims, then LEN bytes of DATA. */
static void
write_idx (const char *path, int ndims, const unsigned *dims,
           const unsigned char *data, size_t len)
{
  gzFile f = gzopen (path, "wb");
  ck_assert (f != NULL);
  unsigned char head[4] = { 0, 0, 8, (unsigned char) ndims };
  ck_assert_int_eq (gzwrite (f, head, 4), 4);
  for (int i = 0; i < ndims; i++)
    {
      unsigned char b[4] = { dims[i] >> 24, dims[i] >> 16, dims[i] >> 8,
                             dims[i] };
      ck_assert_int_eq (gzwrite (f, b, 4), 4);
    }
  if (len)
    ck_assert_int_eq (gzwrite (f, data, (unsigned) len), (int) len);
  ck_assert_int_eq (gzclose (f), Z_OK);
}

/* ------------------------------------------------------------ data */

START_TEST (test_csv_reads_labels_and_features)
{
  make_tmpdir ();
  const char *p = tmp_path ("good.csv");
  write_text (p, "# comment\n1,0.5,-2\n\n0 1e-1 3\n2,\t7,8\r\n");
  dpacct_dataset *d;
  char err[256] = "";
  ck_assert_int_eq (dpacct_dataset_read_csv (p, 0, &d, err, sizeof err),
                    DPACCT_OK);
  ck_assert_uint_eq (d->n, 3);
  ck_assert_uint_eq (d->dim, 2);
  ck_assert_uint_eq (d->n_classes, 3);
  ck_assert_uint_eq (d->y[0], 1);
  ck_assert_uint_eq (d->y[2], 2);
  ck_assert (d->x[0] == 0.5f && d->x[1] == -2.0f && d->x[2] == 0.1f
             && d->x[5] == 8.0f);
  dpacct_dataset_free (d);
  /* MAX_EXAMPLES stops early. */
  ck_assert_int_eq (dpacct_dataset_read_csv (p, 2, &d, err, sizeof err),
                    DPACCT_OK);
  ck_assert_uint_eq (d->n, 2);
  dpacct_dataset_free (d);
  remove_tmpdir ();
}
END_TEST

/* Each corrupt file fails with EDOM and a message naming file and line. */
START_TEST (test_csv_errors_name_file_and_line)
{
  static const struct {
    const char *text, *fragment;
  } cases[] = {
    { "1,2,3\n0,1,x\n", "line 2: field 3 is not a finite number" },
    { "1,2,3\n0,1\n", "line 2: 2 fields, but the first row has 3" },
    { "# c\n\n1,2\n300,1\n", "line 4: the label 300 is not an integer" },
    { "1.5,2\n", "line 1: the label 1.5" },
    { "3\n", "line 1: need a label and at least one feature" },
    { "# only a comment\n", "no examples in the file" },
    { "1,2;3\n", "line 1: field 2 is not a finite number" },
  };
  make_tmpdir ();
  const char *p = tmp_path ("bad.csv");
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      write_text (p, cases[i].text);
      dpacct_dataset *d = (dpacct_dataset *) 1;
      char err[512] = "";
      ck_assert_int_eq (dpacct_dataset_read_csv (p, 0, &d, err, sizeof err),
                        DPACCT_EDOM);
      ck_assert (d == NULL);
      ck_assert_msg (strstr (err, p) != NULL && strstr (err, cases[i].fragment),
                     "case %zu: '%s' lacks '%s'", i, err, cases[i].fragment);
    }
  char err[512] = "";
  dpacct_dataset *d;
  ck_assert_int_eq (dpacct_dataset_read_csv (tmp_path ("missing.csv"), 0, &d,
                                             err, sizeof err), DPACCT_EDOM);
  ck_assert (strstr (err, "missing.csv: cannot open") != NULL);
  remove_tmpdir ();
}
END_TEST

START_TEST (test_idx_reads_and_scales)
{
  make_tmpdir ();
  unsigned char pixels[5 * 2 * 3], labels[5] = { 3, 0, 9, 1, 3 };
  for (size_t i = 0; i < sizeof pixels; i++)
    pixels[i] = (unsigned char) (i * 8);
  unsigned idims[3] = { 5, 2, 3 }, ldims[1] = { 5 };
  write_idx (tmp_path ("im.gz"), 3, idims, pixels, sizeof pixels);
  write_idx (tmp_path ("lb.gz"), 1, ldims, labels, 5);
  dpacct_dataset *d;
  char err[512] = "";
  ck_assert_int_eq (dpacct_dataset_read_idx (tmp_path ("im.gz"),
                                             tmp_path ("lb.gz"), 0, &d, err,
                                             sizeof err), DPACCT_OK);
  ck_assert_uint_eq (d->n, 5);
  ck_assert_uint_eq (d->dim, 6);
  ck_assert_uint_eq (d->n_classes, 10);
  ck_assert_uint_eq (d->y[2], 9);
  for (size_t i = 0; i < sizeof pixels; i++)
    ck_assert (d->x[i] == pixels[i] / 255.0f);
  dpacct_dataset_free (d);
  ck_assert_int_eq (dpacct_dataset_read_idx (tmp_path ("im.gz"),
                                             tmp_path ("lb.gz"), 2, &d, err,
                                             sizeof err), DPACCT_OK);
  ck_assert_uint_eq (d->n, 2);
  dpacct_dataset_free (d);
  remove_tmpdir ();
}
END_TEST

START_TEST (test_idx_errors_name_file_and_offset)
{
  make_tmpdir ();
  unsigned char pixels[5 * 4] = { 0 }, labels[5] = { 0 };
  unsigned idims[3] = { 5, 2, 2 }, ldims[1] = { 5 }, four[1] = { 4 };
  char err[512];
  dpacct_dataset *d;
  const char *im = tmp_path ("im.gz"), *lb = tmp_path ("lb.gz");
  /* Truncated images: 16 header bytes, then 3 whole images of 4 bytes and
   * one byte of the fourth: the data ends at byte 29. */
  write_idx (im, 3, idims, pixels, 13);
  write_idx (lb, 1, ldims, labels, 5);
  ck_assert_int_eq (dpacct_dataset_read_idx (im, lb, 0, &d, err, sizeof err),
                    DPACCT_EDOM);
  ck_assert_msg (strstr (err, im) && strstr (err, "byte offset 29")
                 && strstr (err, "unexpected end of file"), "%s", err);
  /* Labels that do not match the images. */
  write_idx (im, 3, idims, pixels, 20);
  write_idx (lb, 1, four, labels, 4);
  ck_assert_int_eq (dpacct_dataset_read_idx (im, lb, 0, &d, err, sizeof err),
                    DPACCT_EDOM);
  ck_assert_msg (strstr (err, lb) && strstr (err, "4 labels for the 5 images"),
                 "%s", err);
  /* A label file given as images: wrong number of dimensions. */
  write_idx (lb, 1, ldims, labels, 5);
  ck_assert_int_eq (dpacct_dataset_read_idx (lb, lb, 0, &d, err, sizeof err),
                    DPACCT_EDOM);
  ck_assert_msg (strstr (err, "byte offset 0: not an IDX file"), "%s", err);
  /* Not gzip, not IDX. */
  write_text (im, "hello, world\n");
  ck_assert_int_eq (dpacct_dataset_read_idx (im, lb, 0, &d, err, sizeof err),
                    DPACCT_EDOM);
  ck_assert_msg (strstr (err, im) && strstr (err, "byte offset 0"), "%s", err);
  /* Corrupt gzip: a valid header, then garbage. */
  gzFile f = gzopen (im, "wb");
  gzwrite (f, "\0\0\x08\x03", 4);
  gzclose (f);
  FILE *raw = fopen (im, "r+b");
  ck_assert (raw != NULL);
  fseek (raw, 12, SEEK_SET);
  fputs ("garbage!garbage!", raw);
  fclose (raw);
  ck_assert_int_eq (dpacct_dataset_read_idx (im, lb, 0, &d, err, sizeof err),
                    DPACCT_EDOM);
  ck_assert_msg (strstr (err, im) && strstr (err, "byte offset"), "%s", err);
  remove_tmpdir ();
}
END_TEST

START_TEST (test_synthetic_is_seeded)
{
  dpacct_dataset *a, *b, *c;
  ck_assert_int_eq (dpacct_dataset_synthetic (300, 5, 4, 3.0, 7, &a),
                    DPACCT_OK);
  ck_assert_int_eq (dpacct_dataset_synthetic (300, 5, 4, 3.0, 7, &b),
                    DPACCT_OK);
  ck_assert_int_eq (dpacct_dataset_synthetic (300, 5, 4, 3.0, 8, &c),
                    DPACCT_OK);
  ck_assert (dpacct_dataset_fingerprint (a) == dpacct_dataset_fingerprint (b));
  ck_assert (dpacct_dataset_fingerprint (a) != dpacct_dataset_fingerprint (c));
  size_t seen[4] = { 0 };
  for (size_t i = 0; i < a->n; i++)
    {
      ck_assert_uint_lt (a->y[i], 4);
      seen[a->y[i]]++;
    }
  for (int k = 0; k < 4; k++)
    ck_assert_uint_gt (seen[k], 40);
  dpacct_dataset_free (c);
  ck_assert_int_eq (dpacct_dataset_synthetic (0, 5, 4, 3.0, 7, &c),
                    DPACCT_EDOM);
  ck_assert (c == NULL);
  dpacct_dataset_free (a);
  dpacct_dataset_free (b);
}
END_TEST

/* ------------------------------------------------------------ features */

START_TEST (test_pca_finds_the_dominant_direction_and_caches)
{
  /* x = 5 a u + noise, u a fixed unit vector: the first component is u. */
  enum { N = 400, D = 6 };
  const double u[D] = { 0.5, -0.5, 0.5, 0.5, 0, 0 };
  dpacct_dataset *pub;
  ck_assert_int_eq (dpacct_dataset_alloc (N, D, 2, &pub), DPACCT_OK);
  gsl_rng *rng = gsl_rng_alloc (gsl_rng_mt19937);
  gsl_rng_set (rng, test_seed ());
  for (size_t i = 0; i < N; i++)
    {
      double a = gsl_ran_gaussian (rng, 5.0);
      for (size_t j = 0; j < D; j++)
        pub->x[i * D + j] = (float) (a * u[j] + gsl_ran_gaussian (rng, 0.3)
                                     + 2.0);
    }
  gsl_rng_free (rng);
  dpacct_pca *pca;
  ck_assert_int_eq (dpacct_pca_fit (pub, 2, &pca), DPACCT_OK);
  ck_assert_uint_eq (dpacct_pca_components (pca), 2);
  dpacct_dataset *f;
  ck_assert_int_eq (dpacct_pca_transform (pca, pub, &f), DPACCT_OK);
  /* Standardised with the public statistics: mean 0, variance 1, and the
   * first feature is the projection on u. */
  double m = 0, v = 0, cov = 0, aa = 0;
  for (size_t i = 0; i < N; i++)
    m += f->x[i * 2];
  m /= N;
  for (size_t i = 0; i < N; i++)
    {
      double proj = 0;
      for (size_t j = 0; j < D; j++)
        proj += (pub->x[i * D + j] - 2.0) * u[j];
      v += (f->x[i * 2] - m) * (f->x[i * 2] - m);
      cov += f->x[i * 2] * proj;
      aa += proj * proj;
    }
  v /= N - 1;
  ck_assert_msg (fabs (m) < 1e-5, "mean %g", m);
  ck_assert_rel (v, 1.0, 1e-4, "variance of the first feature");
  ck_assert_msg (fabs (cov) / sqrt (aa * v * (N - 1)) > 0.99,
                 "first component is not u");
  /* The cache: written on the first fit, read on the second, same map. */
  make_tmpdir ();
  dpacct_pca *c1, *c2;
  dpacct_dataset *f1, *f2;
  int hit;
  char err[256];
  ck_assert_int_eq (dpacct_pca_fit_cached (pub, 2, tmpdir, &c1, &hit, err,
                                           sizeof err), DPACCT_OK);
  ck_assert_int_eq (hit, 0);
  ck_assert_int_eq (dpacct_pca_fit_cached (pub, 2, tmpdir, &c2, &hit, err,
                                           sizeof err), DPACCT_OK);
  ck_assert_int_eq (hit, 1);
  ck_assert_int_eq (dpacct_pca_transform (c1, pub, &f1), DPACCT_OK);
  ck_assert_int_eq (dpacct_pca_transform (c2, pub, &f2), DPACCT_OK);
  ck_assert (memcmp (f1->x, f2->x, N * 2 * sizeof (float)) == 0);
  /* Another K is another key. */
  dpacct_pca *c3;
  ck_assert_int_eq (dpacct_pca_fit_cached (pub, 1, tmpdir, &c3, &hit, err,
                                           sizeof err), DPACCT_OK);
  ck_assert_int_eq (hit, 0);
  dpacct_pca_free (c3);
  ck_assert_int_eq (dpacct_pca_fit (pub, 7, &c3), DPACCT_EDOM);
  ck_assert (c3 == NULL);
  remove_tmpdir ();
  dpacct_pca_free (c1);
  dpacct_pca_free (c2);
  dpacct_dataset_free (f1);
  dpacct_dataset_free (f2);
  dpacct_dataset_free (f);
  dpacct_pca_free (pca);
  dpacct_dataset_free (pub);
}
END_TEST

/* ------------------------------------------------------------ trainer */

/* Cross-entropy of softmax(W [x; 1]) at label Y, written independently. */
static double
loss_at (const double *w, size_t dim, size_t classes, const double *x,
         unsigned y)
{
  double logits[8], top = -1e300, z = 0;
  for (size_t c = 0; c < classes; c++)
    {
      logits[c] = w[c * (dim + 1) + dim];
      for (size_t j = 0; j < dim; j++)
        logits[c] += w[c * (dim + 1) + j] * x[j];
      top = fmax (top, logits[c]);
    }
  for (size_t c = 0; c < classes; c++)
    z += exp (logits[c] - top);
  return top + log (z) - logits[y];
}

START_TEST (test_norm_matches_a_materialised_gradient)
{
  enum { D = 5, K = 4, P = K * (D + 1) };
  gsl_rng *rng = gsl_rng_alloc (gsl_rng_mt19937);
  gsl_rng_set (rng, test_seed ());
  for (int trial = 0; trial < 20; trial++)
    {
      double w[P], x[D];
      float xf[D];
      unsigned y = (unsigned) gsl_rng_uniform_int (rng, K);
      for (int p = 0; p < P; p++)
        w[p] = gsl_ran_gaussian (rng, 0.7);
      for (int j = 0; j < D; j++)
        xf[j] = (float) gsl_ran_gaussian (rng, 2.0), x[j] = xf[j];
      /* The gradient by central differences, every coordinate. */
      double sq = 0, h = 1e-5;
      for (int p = 0; p < P; p++)
        {
          double save = w[p];
          w[p] = save + h;
          double up = loss_at (w, D, K, x, y);
          w[p] = save - h;
          double down = loss_at (w, D, K, x, y);
          w[p] = save;
          sq += pow ((up - down) / (2 * h), 2);
        }
      double loss;
      double norm = train_gradient_norm (w, D, K, xf, y, &loss);
      ck_assert_rel (norm, sqrt (sq), 1e-6, "trial %d", trial);
      ck_assert_rel (loss, loss_at (w, D, K, x, y), 1e-12, "loss %d", trial);
    }
  gsl_rng_free (rng);
}
END_TEST

/* One full-batch step from W = 0, where every residual has norm
 * sqrt((k - 1) / k): the clip fraction and each class's retained weight
 * follow from the feature norms alone. */
START_TEST (test_clipping_variants)
{
  dpacct_dataset *d;
  ck_assert_int_eq (dpacct_dataset_synthetic (60, 3, 3, 2.0, 5, &d),
                    DPACCT_OK);
  double rnorm = sqrt (2.0 / 3.0);
  const dpacct_clipping kinds[] = { DPACCT_CLIP_FLAT, DPACCT_CLIP_NORMALISED,
                                    DPACCT_CLIP_AUTOMATIC };
  for (int k = 0; k < 3; k++)
    for (int ci = 0; ci < 3; ci++)
      {
        double clip = (double[]){ 0.5, 2.0, 100.0 }[ci];
        dpacct_train_options o;
        dpacct_train_options_init (&o);
        o.noise_multiplier = 1.0;
        o.batch_size = d->n;
        o.epochs = 1.0;
        o.clip = clip;
        o.clipping = kinds[k];
        dpacct_train_report r;
        ck_assert_int_eq (dpacct_train_run (d, NULL, &o, &r), DPACCT_OK);
        ck_assert_uint_eq (r.steps, 1);
        ck_assert_uint_eq (r.batch_min, d->n); /* q = 1: everyone */
        double w[3] = { 0 }, n[3] = { 0 }, clipped = 0;
        for (size_t i = 0; i < d->n; i++)
          {
            double xx = 1;
            for (int j = 0; j < 3; j++)
              xx += (double) d->x[i * 3 + j] * d->x[i * 3 + j];
            double g = rnorm * sqrt (xx);
            double weight = kinds[k] == DPACCT_CLIP_AUTOMATIC
                              ? o.gamma / (g + o.gamma)
                              : fmin (1.0, clip / g);
            clipped += g > (kinds[k] == DPACCT_CLIP_AUTOMATIC ? o.gamma : clip);
            w[d->y[i]] += weight;
            n[d->y[i]]++;
          }
        for (int y = 0; y < 3; y++)
          ck_assert_rel (r.class_weight[y], w[y] / n[y], 1e-5,
                         "kind %d, C %g, class %d", k, clip, y);
        ck_assert_rel (r.clip_fraction, clipped / d->n, 1e-12, "fraction");
        /* The noise's scale is the sensitivity: C for flat, else 1. */
        double s = kinds[k] == DPACCT_CLIP_FLAT ? clip : 1.0;
        ck_assert_rel (r.noise_std_predicted, s / d->n, 1e-12, "sensitivity");
      }
  dpacct_dataset_free (d);
}
END_TEST

START_TEST (test_poisson_sampling_rate)
{
  dpacct_dataset *d;
  ck_assert_int_eq (dpacct_dataset_synthetic (200, 2, 2, 2.0, 3, &d),
                    DPACCT_OK);
  dpacct_train_options o;
  dpacct_train_options_init (&o);
  o.noise_multiplier = 1.0;
  o.batch_size = 20;
  o.epochs = 50;
  o.sampling_seed = test_seed ();
  dpacct_train_report r;
  ck_assert_int_eq (dpacct_train_run (d, NULL, &o, &r), DPACCT_OK);
  ck_assert_uint_eq (r.steps, 500);
  ck_assert_rel (r.q, 0.1, 1e-15, "q");
  /* Batch sizes are Binomial(200, 0.1): the mean of 500 has std 0.19; a
   * z-test at 4 standard deviations. */
  double sd = sqrt (200 * 0.1 * 0.9 / 500.0);
  ck_assert_msg (fabs (r.batch_mean - 20) < 4 * sd, "mean batch %g",
                 r.batch_mean);
  ck_assert (r.batch_min < 20 && r.batch_max > 20 && r.batch_max < 60);
  dpacct_dataset_free (d);
}
END_TEST

/* One run of the noise checks: epsilon 1, batches of 50 over 4 epochs,
 * clip 0.7, flat clipping (k = 0) or normalised (k = 1), seeded per k. */
static dpacct_train_report
noise_run (const dpacct_dataset *d, dpacct_noise_kind noise, int k)
{
  dpacct_train_options o;
  dpacct_train_options_init (&o);
  o.noise = noise;
  o.epsilon = 1.0;
  o.batch_size = 50;
  o.epochs = 4;
  o.clip = 0.7;
  o.clipping = k ? DPACCT_CLIP_NORMALISED : DPACCT_CLIP_FLAT;
  o.noise_seed = test_seed () + (unsigned long) k;
  dpacct_train_report r;
  ck_assert_int_eq (dpacct_train_run (d, NULL, &o, &r), DPACCT_OK);
  return r;
}

/* The noise actually added matches sigma * S / B per step and
 * sigma * sqrt(T) accumulated: chi-square statistics at a fixed seed,
 * two-sided, rejected below p = 1e-3. */
START_TEST (test_noise_matches_theory)
{
  dpacct_dataset *d;
  ck_assert_int_eq (dpacct_dataset_synthetic (500, 20, 10, 2.0, 4, &d),
                    DPACCT_OK);
  for (int k = 0; k < 2; k++)
    {
      dpacct_train_report r = noise_run (d, DPACCT_NOISE_GAUSSIAN, k);
      /* sigma is the library's calibration, and meets the target. */
      dpacct_accountant_options ao;
      dpacct_calibration_options co;
      dpacct_calibration cal;
      dpacct_accountant_options_init (&ao);
      dpacct_calibration_options_init (&co);
      ck_assert_int_eq (dpacct_noise_for_epsilon (dpacct_accountant_rdp, &ao,
                                                  r.q, r.steps,
                                                  DPACCT_SAMPLING_POISSON, 1.0,
                                                  1e-5, &co, &cal), DPACCT_OK);
      ck_assert (r.sigma == cal.noise && r.epsilon_upper <= 1.0);
      double s = k ? 1.0 : 0.7;
      ck_assert_rel (r.noise_std_predicted, r.sigma * s / 50, 1e-12, "pred");
      double draws = (double) r.steps * r.n_parameters;
      double x = r.noise_sumsq / pow (r.noise_std_predicted, 2);
      double p = 2 * fmin (gsl_cdf_chisq_P (x, draws),
                           gsl_cdf_chisq_Q (x, draws));
      ck_assert_msg (p > 1e-3, "per-step noise: chi-square p %g", p);
      /* 8,400 draws: the ratio's own std is 0.8 %. */
      ck_assert_rel (r.noise_std, r.noise_std_predicted, 0.04, "per step");
      double dof = (double) r.n_parameters;
      x = r.accumulated_sumsq / pow (r.accumulated_predicted, 2);
      p = 2 * fmin (gsl_cdf_chisq_P (x, dof), gsl_cdf_chisq_Q (x, dof));
      ck_assert_msg (p > 1e-3, "accumulated noise: chi-square p %g", p);
      ck_assert_rel (r.accumulated_predicted,
                     r.sigma * sqrt ((double) r.steps), 1e-12, "sqrt(T)");
    }
  dpacct_dataset_free (d);
}
END_TEST

/* Laplace noise: b is the lap2 calibration for the head's n = classes
 * (K + 1) parameters with clip S (C flat, 1 normalised), checked by a
 * fresh lap2 accountant on both sides of b; the noise actually added has
 * per-coordinate variance 2 b^2 (std sqrt(2) b / B on the average).  For
 * z ~ Laplace(b), z^2 / (2 b^2) has mean 1 and variance 5 (E z^4 =
 * 24 b^4), and a sum y of T draws has Var(y^2 / E y^2) = 2 + 3 / T: z-tests
 * of the two means of squares at a fixed seed, rejected beyond 3.29
 * standard errors (two-sided p = 1e-3). */
static double
lap2_epsilon (double b_over_s, uint64_t n, double q, uint64_t steps)
{
  dpacct_accountant_options ao;
  dpacct_accountant_options_init (&ao);
  dpacct_accountant_options_set_int (&ao, "lap2-lower-bound", 0);
  dpacct_event *e;
  dpacct_accountant *acc;
  dpacct_bound bound;
  ck_assert_int_eq (dpacct_lap2_event_alloc (b_over_s, n, q, steps, &e),
                    DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_alloc (dpacct_accountant_lap2, &ao,
                                             &acc), DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_compose (acc, e, 1), DPACCT_OK);
  ck_assert_int_eq (dpacct_accountant_epsilon (acc, 1e-5, &bound), DPACCT_OK);
  dpacct_accountant_free (acc);
  dpacct_event_free (e);
  return bound.upper;
}

START_TEST (test_laplace_noise_matches_theory)
{
  dpacct_dataset *d;
  ck_assert_int_eq (dpacct_dataset_synthetic (500, 20, 10, 2.0, 4, &d),
                    DPACCT_OK);
  for (int k = 0; k < 2; k++)
    {
      dpacct_train_report r = noise_run (d, DPACCT_NOISE_LAPLACE, k);
      double s = k ? 1.0 : 0.7, b = r.laplace_scale;
      ck_assert (r.noise == DPACCT_NOISE_LAPLACE);
      ck_assert_uint_eq (r.n_parameters, 10 * 21);
      ck_assert (r.sensitivity == s);
      /* The target is met, and b is the smallest scale that meets it to
       * the calibration's relative tolerance (1e-3). */
      double eps = lap2_epsilon (b / s, r.n_parameters, r.q, r.steps);
      ck_assert_msg (eps <= 1.0 && r.epsilon_upper <= 1.0,
                     "b %g: epsilon %g", b, eps);
      ck_assert_rel (eps, r.epsilon_upper, 1e-12, "reported epsilon");
      double below = lap2_epsilon (b / s / 1.002, r.n_parameters, r.q,
                                   r.steps);
      ck_assert_msg (below > 1.0, "b / 1.002: epsilon %g", below);
      ck_assert_rel (r.noise_std_predicted, M_SQRT2 * b / 50, 1e-12, "pred");
      ck_assert_rel (r.sigma, M_SQRT2 * b / s, 1e-12, "std / S");
      double draws = (double) r.steps * r.n_parameters;
      double z = (r.noise_sumsq / (draws * pow (r.noise_std_predicted, 2))
                  - 1) / sqrt (5 / draws);
      ck_assert_msg (fabs (z) < 3.29, "per-step noise: z %g", z);
      /* 8,400 draws: the std ratio's own std is 1.2 %. */
      ck_assert_rel (r.noise_std, r.noise_std_predicted, 0.05, "per step");
      double dof = (double) r.n_parameters, t = (double) r.steps;
      ck_assert_rel (r.accumulated_predicted, M_SQRT2 * b / s * sqrt (t),
                     1e-12, "sqrt(T)");
      z = (r.accumulated_sumsq / (dof * pow (r.accumulated_predicted, 2)) - 1)
          / sqrt ((2 + 3 / t) / dof);
      ck_assert_msg (fabs (z) < 3.29, "accumulated noise: z %g", z);
    }
  /* Laplace is accounted by lap2 only, and always calibrated. */
  dpacct_train_options o;
  dpacct_train_report r;
  dpacct_train_options_init (&o);
  o.noise = DPACCT_NOISE_LAPLACE;
  o.batch_size = 50;
  o.accountant = dpacct_accountant_lap2_paper;
  ck_assert_int_eq (dpacct_train_run (d, NULL, &o, &r), DPACCT_EDOM);
  o.accountant = dpacct_accountant_rdp;
  ck_assert_int_eq (dpacct_train_run (d, NULL, &o, &r), DPACCT_EDOM);
  o.accountant = NULL;
  o.noise_multiplier = 1.0;
  ck_assert_int_eq (dpacct_train_run (d, NULL, &o, &r), DPACCT_EDOM);
  o.noise_multiplier = 0;
  o.noise = (dpacct_noise_kind) 7;
  ck_assert_int_eq (dpacct_train_run (d, NULL, &o, &r), DPACCT_EDOM);
  dpacct_dataset_free (d);
}
END_TEST

START_TEST (test_trainer_learns_and_rejects_bad_input)
{
  dpacct_dataset *d, *train, *test;
  ck_assert_int_eq (dpacct_dataset_synthetic (1200, 4, 3, 4.0, 9, &d),
                    DPACCT_OK);
  ck_assert_int_eq (dpacct_dataset_subset (d, 0, 1000, &train), DPACCT_OK);
  ck_assert_int_eq (dpacct_dataset_subset (d, 1000, 200, &test), DPACCT_OK);
  dpacct_train_options o;
  dpacct_train_options_init (&o);
  o.epsilon = 8;
  o.batch_size = 100;
  o.learning_rate = 0.2;
  for (int opt = 0; opt < 2; opt++)
    {
      o.optimizer = opt ? DPACCT_OPTIMIZER_ADAM : DPACCT_OPTIMIZER_SGD;
      o.learning_rate = opt ? 0.05 : 0.2;
      dpacct_train_report r;
      ck_assert_int_eq (dpacct_train_run (train, test, &o, &r), DPACCT_OK);
      /* Well-separated clusters: far above chance (1/3). */
      ck_assert_msg (r.accuracy > 0.7, "optimizer %d: accuracy %g", opt,
                     r.accuracy);
      ck_assert (r.loss > 0 && isfinite (r.loss));
      size_t total = 0;
      for (int c = 0; c < 3; c++)
        total += r.class_count[c];
      ck_assert_uint_eq (total, 200);
    }
  dpacct_train_report r;
  o.batch_size = 1001;
  ck_assert_int_eq (dpacct_train_run (train, test, &o, &r), DPACCT_EDOM);
  o.batch_size = 100;
  o.clip = -1;
  ck_assert_int_eq (dpacct_train_run (train, test, &o, &r), DPACCT_EDOM);
  o.clip = 1;
  ck_assert_int_eq (dpacct_train_run (NULL, test, &o, &r), DPACCT_EINVAL);
  dpacct_dataset_free (d);
  dpacct_dataset_free (train);
  dpacct_dataset_free (test);
}
END_TEST

/* ------------------------------------------------------------ one step */

/* What the tests below observe through the trainer's hook: every
 * contribution it adds to a step's sum, their count, the largest norm,
 * how many sit on the clip bound, and their sum. */
typedef struct {
  size_t count, at_bound, params;
  double max_norm, bound;
  double sum[64];
} observation;

static void
observe (const double *g, size_t params, void *context)
{
  observation *o = context;
  ck_assert_uint_le (params, 64);
  o->params = params;
  double sq = 0;
  for (size_t p = 0; p < params; p++)
    {
      sq += g[p] * g[p];
      o->sum[p] += g[p];
    }
  double norm = sqrt (sq);
  o->count++;
  o->max_norm = fmax (o->max_norm, norm);
  o->at_bound += fabs (norm - o->bound) <= 1e-12 * o->bound;
}

/* One run with the hook; returns the trained head in W (P numbers). */
static dpacct_train_report
hooked_run (const dpacct_dataset *d, const dpacct_train_options *o,
            observation *seen, double *w)
{
  train_hook hook;
  memset (&hook, 0, sizeof hook);
  hook.contribution = observe;
  hook.context = seen;
  hook.weights = w;
  hook.skip_evaluation = 1;
  dpacct_train_report r;
  ck_assert_int_eq (train_run (d, NULL, o, &hook, &r), DPACCT_OK);
  return r;
}

/* The noise the trainer draws for one step with NOISE_SEED: the documented
 * contract is one N(0, (sigma S)^2) draw per parameter, in the head's
 * row-major order, from MT19937 (GSL's ziggurat). */
static void
step_noise (unsigned long noise_seed, double std, size_t params, double *z)
{
  gsl_rng *rng = gsl_rng_alloc (gsl_rng_mt19937);
  gsl_rng_set (rng, noise_seed);
  for (size_t p = 0; p < params; p++)
    z[p] = gsl_ran_gaussian_ziggurat (rng, std);
  gsl_rng_free (rng);
}

/* One full-batch step of SGD from W = 0, by hand: there softmax is
 * uniform, so example i's gradient is r_i (x) [x_i; 1] with
 * r_i = 1/K - onehot(y_i), scaled by min(1, C / (||r_i|| ||[x_i; 1]||));
 * the step is W = -lr (sum + z) / B with z the seeded noise of std
 * sigma C.  Nothing here calls the trainer's clipping or update code. */
START_TEST (test_one_full_batch_step_by_hand)
{
  enum { N = 24, D = 3, K = 3, P = K * (D + 1) };
  dpacct_dataset *d;
  ck_assert_int_eq (dpacct_dataset_synthetic (N, D, K, 2.0, 11, &d),
                    DPACCT_OK);
  const double clips[] = { 0.5, 2.0 };
  for (int ci = 0; ci < 2; ci++)
    {
      double clip = clips[ci], sigma = 1.3, lr = 0.7;
      dpacct_train_options o;
      dpacct_train_options_init (&o);
      o.noise_multiplier = sigma;
      o.batch_size = N;
      o.epochs = 1.0;
      o.clip = clip;
      o.learning_rate = lr;
      o.noise_seed = 7 + (unsigned long) ci;
      double sum[P] = { 0 }, z[P], w[P];
      int clipped = 0;
      for (size_t i = 0; i < N; i++)
        {
          double xt[D + 1], r[K], xx = 0, rr = 0;
          for (int j = 0; j < D; j++)
            xt[j] = d->x[i * D + j];
          xt[D] = 1.0;
          for (int j = 0; j <= D; j++)
            xx += xt[j] * xt[j];
          for (int c = 0; c < K; c++)
            {
              r[c] = 1.0 / K - (c == d->y[i]);
              rr += r[c] * r[c];
            }
          double norm = sqrt (rr * xx), factor = fmin (1.0, clip / norm);
          clipped += norm > clip;
          for (int c = 0; c < K; c++)
            for (int j = 0; j <= D; j++)
              sum[c * (D + 1) + j] += factor * r[c] * xt[j];
        }
      /* C = 0.5 clips every example (||r|| = 0.82), C = 2 only some. */
      ck_assert (clipped > 0 && (ci == 0 ? clipped == N : clipped < N));
      step_noise (o.noise_seed, sigma * clip, P, z);
      observation seen = { .bound = clip };
      dpacct_train_report rep = hooked_run (d, &o, &seen, w);
      ck_assert_uint_eq (rep.steps, 1);
      ck_assert_uint_eq (seen.count, N);
      for (int p = 0; p < P; p++)
        {
          ck_assert_msg (fabs (seen.sum[p] - sum[p]) <= 1e-13,
                         "C %g, clipped sum %d: got %.17g, want %.17g", clip,
                         p, seen.sum[p], sum[p]);
          double want = -lr * (sum[p] + z[p]) / N;
          ck_assert_msg (fabs (w[p] - want) <= 1e-13,
                         "C %g, parameter %d: got %.17g, want %.17g", clip,
                         p, w[p], want);
        }
    }
  dpacct_dataset_free (d);
}
END_TEST

/* Every contribution the trainer adds has norm at most the sensitivity:
 * C for flat clipping (some of them exactly C), 1 for normalised and
 * automatic; over a few hundred steps, so that the weights move and the
 * norms vary.  Observed on the contributions themselves, before the
 * noise. */
START_TEST (test_contributions_never_exceed_the_bound)
{
  dpacct_dataset *d;
  ck_assert_int_eq (dpacct_dataset_synthetic (60, 4, 3, 3.0, 5, &d),
                    DPACCT_OK);
  for (int k = 0; k < 3; k++)
    for (int ci = 0; ci < 2; ci++)
      {
        double clip = ci ? 2.0 : 0.5;
        dpacct_train_options o;
        dpacct_train_options_init (&o);
        o.noise_multiplier = 1.0;
        o.batch_size = 15;
        o.epochs = 20;
        o.clip = clip;
        o.clipping = (dpacct_clipping) k;
        double bound = k == DPACCT_CLIP_FLAT ? clip : 1.0, w[15];
        observation seen = { .bound = bound };
        dpacct_train_report r = hooked_run (d, &o, &seen, w);
        ck_assert_rel ((double) seen.count, r.batch_mean * (double) r.steps,
                       1e-12, "contributions");
        ck_assert_msg (seen.max_norm <= bound * (1 + 1e-12),
                       "clipping %d, C %g: a contribution of norm %.17g", k,
                       clip, seen.max_norm);
        /* Flat clipping scales the large gradients onto the bound. */
        if (k == DPACCT_CLIP_FLAT)
          ck_assert_msg (seen.at_bound > 0 && seen.at_bound < seen.count,
                         "C %g: %zu of %zu on the bound", clip,
                         seen.at_bound, seen.count);
      }
  dpacct_dataset_free (d);
}
END_TEST

/* Under Poisson sampling the step divides by the expected batch size B,
 * not the realised one (which would make the release depend on the
 * data).  All examples are the same, so a step from W = 0 is
 * -lr (k g + z) / B with k the realised batch: counted here from the
 * contributions, and different from B in at least one of the runs. */
START_TEST (test_update_divides_by_expected_batch)
{
  enum { N = 40, B = 10, D = 2, K = 2, P = K * (D + 1) };
  dpacct_dataset *d;
  ck_assert_int_eq (dpacct_dataset_alloc (N, D, K, &d), DPACCT_OK);
  const float x[D] = { 0.3f, -1.2f };
  for (size_t i = 0; i < N; i++)
    {
      memcpy (d->x + i * D, x, sizeof x);
      d->y[i] = 1;
    }
  /* g = r (x) [x; 1], r = (1/2, -1/2), norm 0.707 * 1.594 = 1.13: C = 2
   * leaves it whole. */
  double g[P], xt[D + 1] = { x[0], x[1], 1.0 }, r[K] = { 0.5, -0.5 };
  for (int c = 0; c < K; c++)
    for (int j = 0; j <= D; j++)
      g[c * (D + 1) + j] = r[c] * xt[j];
  int differs = 0;
  for (unsigned long seed = 1; seed <= 4; seed++)
    {
      dpacct_train_options o;
      dpacct_train_options_init (&o);
      o.noise_multiplier = 0.8;
      o.batch_size = B;
      o.epochs = (double) B / N; /* one step */
      o.clip = 2.0;
      o.learning_rate = 1.0;
      o.sampling_seed = seed;
      o.noise_seed = 100 + seed;
      double z[P], w[P];
      observation seen = { .bound = o.clip };
      dpacct_train_report rep = hooked_run (d, &o, &seen, w);
      ck_assert_uint_eq (rep.steps, 1);
      ck_assert_rel (rep.q, (double) B / N, 1e-15, "q");
      step_noise (o.noise_seed, 0.8 * 2.0, P, z);
      double k = (double) seen.count;
      differs += seen.count != B;
      for (int p = 0; p < P; p++)
        {
          double want = -(k * g[p] + z[p]) / B;
          ck_assert_msg (fabs (w[p] - want) <= 1e-13,
                         "seed %lu, batch %g, parameter %d: got %.17g, "
                         "want %.17g", seed, k, p, w[p], want);
        }
    }
  ck_assert_msg (differs > 0, "every realised batch was B: no test");
  dpacct_dataset_free (d);
}
END_TEST

/* ------------------------------------------------------------ audit */

/* Tabulated exact (Clopper-Pearson) 95 % intervals, e.g. in Brown, Cai and
 * DasGupta (2001) and every statistics package: 0/10, 1/10, 5/10, 10/10,
 * and the closed forms at k = 0 and k = n. */
START_TEST (test_clopper_pearson_known_values)
{
  static const struct {
    size_t k, n;
    double lo, hi;
  } table[] = {
    { 0, 10, 0.0, 0.30850 },
    { 1, 10, 0.00253, 0.44502 },
    { 5, 10, 0.18709, 0.81291 },
    { 10, 10, 0.69150, 1.0 },
    { 3, 50, 0.01254, 0.16548 },
  };
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    {
      double lo, hi;
      ck_assert_int_eq (dpacct_clopper_pearson (table[i].k, table[i].n, 0.95,
                                                &lo, &hi), DPACCT_OK);
      ck_assert_msg (fabs (lo - table[i].lo) < 1e-5
                     && fabs (hi - table[i].hi) < 1e-5,
                     "%zu/%zu: [%g, %g]", table[i].k, table[i].n, lo, hi);
    }
  /* k = 0 of n: 1 - 0.025^(1/n); against GSL's beta quantile elsewhere. */
  double lo, hi;
  ck_assert_int_eq (dpacct_clopper_pearson (0, 40000, 0.95, &lo, &hi),
                    DPACCT_OK);
  ck_assert_rel (hi, -expm1 (log (0.025) / 40000), 1e-12, "0 of 40000");
  ck_assert_int_eq (dpacct_clopper_pearson (37, 200, 0.9, &lo, &hi),
                    DPACCT_OK);
  ck_assert_rel (lo, gsl_cdf_beta_Pinv (0.05, 37, 164), 1e-9, "37/200 lo");
  ck_assert_rel (hi, gsl_cdf_beta_Pinv (0.95, 38, 163), 1e-9, "37/200 hi");
  ck_assert_int_eq (dpacct_clopper_pearson (11, 10, 0.95, &lo, &hi),
                    DPACCT_EDOM);
  ck_assert (isnan (lo) && isnan (hi));
}
END_TEST

/* Large counts make the incomplete beta underflow.  With GSL's default
 * error handler (which aborts) in place, as in a program that never
 * turned it off, the interval must still come back, and stay ordered
 * around k / n. */
START_TEST (test_clopper_pearson_large_counts_never_abort)
{
  gsl_error_handler_t *saved = gsl_set_error_handler (NULL);
  const size_t counts[][2] = { { 3, 10000000 }, { 5000000, 10000000 },
                               { 9999990, 10000000 }, { 1, 100000 } };
  for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
    {
      double lo, hi, p = (double) counts[i][0] / (double) counts[i][1];
      ck_assert_int_eq (dpacct_clopper_pearson (counts[i][0], counts[i][1],
                                                0.95, &lo, &hi), DPACCT_OK);
      ck_assert_msg (0.0 < lo && lo < p && p < hi && hi < 1.0,
                     "%zu/%zu: [%g, %g]", counts[i][0], counts[i][1], lo, hi);
    }
  gsl_set_error_handler (saved);
}
END_TEST

START_TEST (test_audit_separates_correct_from_unclipped)
{
  dpacct_audit_options a;
  dpacct_audit_result r;
  dpacct_audit_options_init (&a);
  a.pairs = 3000;
  a.seed = test_seed ();
  ck_assert_int_eq (dpacct_audit_run (&a, &r), DPACCT_OK);
  ck_assert (r.epsilon_lower >= 0);
  ck_assert_msg (r.epsilon_lower <= r.epsilon_claimed,
                 "correct trainer: %g > %g", r.epsilon_lower,
                 r.epsilon_claimed);
  ck_assert (r.epsilon_claimed <= 2.0 && r.epsilon_claimed > 1.9);
  ck_assert_uint_eq (r.n_evaluated, 2400);
  a.variant = DPACCT_AUDIT_NO_CLIPPING;
  ck_assert_int_eq (dpacct_audit_run (&a, &r), DPACCT_OK);
  ck_assert_msg (r.epsilon_lower > r.epsilon_claimed,
                 "unclipped trainer: %g <= %g", r.epsilon_lower,
                 r.epsilon_claimed);
  a.pairs = 10;
  ck_assert_int_eq (dpacct_audit_run (&a, &r), DPACCT_EDOM);
}
END_TEST

int
main (void)
{
  gsl_set_error_handler_off ();
  Suite *s = suite_create ("train");
  TCase *data = tcase_create ("data");
  tcase_add_test (data, test_csv_reads_labels_and_features);
  tcase_add_test (data, test_csv_errors_name_file_and_line);
  tcase_add_test (data, test_idx_reads_and_scales);
  tcase_add_test (data, test_idx_errors_name_file_and_offset);
  tcase_add_test (data, test_synthetic_is_seeded);
  tcase_add_test (data, test_pca_finds_the_dominant_direction_and_caches);
  suite_add_tcase (s, data);
  TCase *trainer = tcase_create ("trainer");
  tcase_set_timeout (trainer, 60);
  tcase_add_test (trainer, test_norm_matches_a_materialised_gradient);
  tcase_add_test (trainer, test_clipping_variants);
  tcase_add_test (trainer, test_poisson_sampling_rate);
  tcase_add_test (trainer, test_noise_matches_theory);
  tcase_add_test (trainer, test_laplace_noise_matches_theory);
  tcase_add_test (trainer, test_trainer_learns_and_rejects_bad_input);
  tcase_add_test (trainer, test_one_full_batch_step_by_hand);
  tcase_add_test (trainer, test_contributions_never_exceed_the_bound);
  tcase_add_test (trainer, test_update_divides_by_expected_batch);
  suite_add_tcase (s, trainer);
  TCase *audit = tcase_create ("audit");
  tcase_set_timeout (audit, 60);
  tcase_add_test (audit, test_clopper_pearson_known_values);
  tcase_add_test (audit, test_clopper_pearson_large_counts_never_abort);
  tcase_add_test (audit, test_audit_separates_correct_from_unclipped);
  suite_add_tcase (s, audit);
  return test_run_suite (s);
}
