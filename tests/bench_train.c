/* bench_train.c - how fast the reference trainer is on Fashion-MNIST
 * (`make bench-train`): reading the data, fitting the PCA features and
 * computing them (once; later runs read the fit from the cache), then one
 * DP-SGD run per batch size at K = 256, N_private = 5,000, 4 epochs,
 * epsilon 8, each on one core; CPU seconds.  The goal: at most 2 s per configuration
 * once the features are cached.  Prints nothing but a note when the data
 * set (Debian's dataset-fashion-mnist) is not installed. */
#include <dpacct.h>
#include <dpacct/train.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <gsl/gsl_errno.h>

/* CPU seconds of this process: the machine is shared, so wall time says
 * more about the neighbours than about the trainer. */
static double
now (void)
{
  struct timespec t;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int
main (void)
{
  const char *dir = getenv ("DPACCT_FASHION_MNIST");
  char im[1024], lb[1024], err[600];
  gsl_set_error_handler_off ();
  if (dir == NULL)
    dir = "/usr/share/datasets/fashion-mnist";
  dpacct_dataset *train, *test, *pub, *priv, *fpriv, *ftest;
  double t0 = now ();
  snprintf (im, sizeof im, "%s/train-images-idx3-ubyte.gz", dir);
  snprintf (lb, sizeof lb, "%s/train-labels-idx1-ubyte.gz", dir);
  if (dpacct_dataset_read_idx (im, lb, 15000, &train, err, sizeof err))
    {
      printf ("bench-train: no Fashion-MNIST (%s); nothing measured\n", err);
      return 0;
    }
  snprintf (im, sizeof im, "%s/t10k-images-idx3-ubyte.gz", dir);
  snprintf (lb, sizeof lb, "%s/t10k-labels-idx1-ubyte.gz", dir);
  if (dpacct_dataset_read_idx (im, lb, 0, &test, err, sizeof err))
    {
      printf ("bench-train: %s\n", err);
      return 1;
    }
  printf ("read 15,000 + 10,000 examples: %.2f s\n", now () - t0);
  dpacct_dataset_subset (train, 0, 10000, &pub);
  dpacct_dataset_subset (train, 10000, 5000, &priv);
  dpacct_pca *pca;
  t0 = now ();
  if (dpacct_pca_fit (pub, 256, &pca))
    return 1;
  printf ("PCA fit, 10,000 x 784, K = 256 (uncached): %.2f s\n", now () - t0);
  t0 = now ();
  if (dpacct_pca_transform (pca, priv, &fpriv)
      || dpacct_pca_transform (pca, test, &ftest))
    return 1;
  printf ("features of 15,000 examples: %.2f s\n", now () - t0);
  static const size_t batches[] = { 32, 128, 512, 2048, 5000 };
  for (size_t i = 0; i < sizeof batches / sizeof batches[0]; i++)
    {
      dpacct_train_options o;
      dpacct_train_report r;
      dpacct_train_options_init (&o);
      o.epsilon = 8;
      o.batch_size = batches[i];
      o.learning_rate = 0.3;
      t0 = now ();
      if (dpacct_train_run (fpriv, ftest, &o, &r))
        return 1;
      printf ("train B = %4zu (T = %3llu): %.3f s (calibration, training, "
              "evaluation), %.3f s in the loop, "
              "accuracy %.4f\n", batches[i], (unsigned long long) r.steps,
              now () - t0, r.seconds, r.accuracy);
    }
  dpacct_pca_free (pca);
  dpacct_dataset_free (train);
  dpacct_dataset_free (test);
  dpacct_dataset_free (pub);
  dpacct_dataset_free (priv);
  dpacct_dataset_free (fpriv);
  dpacct_dataset_free (ftest);
  return 0;
}
