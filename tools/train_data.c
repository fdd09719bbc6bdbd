/* train_data.c - loading, splitting and featurising the trainer's data. */
#include <config.h>

#include "train_data.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "output.h"

static const char default_fashion_dir[] = "/usr/share/datasets/fashion-mnist";

int
train_progress_wanted (void)
{
  return isatty (STDERR_FILENO);
}

void
train_progress (const char *what)
{
  if (train_progress_wanted ())
    fprintf (stderr, "\rdpacct: %-60s", what);
}

void
train_progress_done (void)
{
  if (train_progress_wanted ())
    fprintf (stderr, "\r%-70s\r", "");
}

void
train_progress_steps (uint64_t step, uint64_t steps, void *context)
{
  char text[128];
  snprintf (text, sizeof text, "%s: step %llu of %llu",
            context ? (const char *) context : "training",
            (unsigned long long) step, (unsigned long long) steps);
  train_progress (text);
}

/* --cache-dir, $DPACCT_CACHE_DIR, $XDG_CACHE_HOME/dpacct or
 * ~/.cache/dpacct, created if missing; "" when none can be had. */
static void
cache_dir (const cli_options *o, char *buf, size_t size)
{
  const char *env;
  buf[0] = '\0';
  if (o->cache_dir)
    snprintf (buf, size, "%s", o->cache_dir);
  else if ((env = getenv ("DPACCT_CACHE_DIR")) && *env)
    snprintf (buf, size, "%s", env);
  else if ((env = getenv ("XDG_CACHE_HOME")) && *env)
    snprintf (buf, size, "%s/dpacct", env);
  else if ((env = getenv ("HOME")) && *env)
    {
      snprintf (buf, size, "%s/.cache", env);
      mkdir (buf, 0755);
      size_t used = strlen (buf);
      snprintf (buf + used, size - used, "/dpacct");
    }
  if (*buf && mkdir (buf, 0755) != 0 && errno != EEXIST)
    buf[0] = '\0';
}

static int
read_fashion (const char *part, size_t max, dpacct_dataset **out, int *absent)
{
  const char *dir = getenv ("DPACCT_FASHION_MNIST");
  char images[1024], labels[1024], error[600];
  if (dir == NULL || *dir == '\0')
    dir = default_fashion_dir;
  snprintf (images, sizeof images, "%s/%s-images-idx3-ubyte.gz", dir, part);
  snprintf (labels, sizeof labels, "%s/%s-labels-idx1-ubyte.gz", dir, part);
  if (access (images, R_OK) != 0)
    {
      if (absent)
        *absent = 1;
      out_error ("--data fashion-mnist: %s is missing; install Debian's "
                 "dataset-fashion-mnist package or set DPACCT_FASHION_MNIST",
                 images);
      return 1;
    }
  int status = dpacct_dataset_read_idx (images, labels, max, out, error,
                                        sizeof error);
  if (status)
    {
      out_error ("--data fashion-mnist: %s", error);
      return status == DPACCT_ENOMEM ? 2 : 1;
    }
  return 0;
}

static int
read_csv (cli_option_id id, const char *path, dpacct_dataset **out)
{
  char error[600];
  int status = dpacct_dataset_read_csv (path, 0, out, error, sizeof error);
  if (status)
    {
      out_error ("--%s: %s", id == OPT_DATA ? "data" : "test-data", error);
      return status == DPACCT_ENOMEM ? 2 : 1;
    }
  return 0;
}

/* The raw training and test sets, before the split. */
static int
read_raw (const cli_options *o, uint64_t default_private, dpacct_dataset **train,
          dpacct_dataset **test, int *absent)
{
  if (o->data == NULL || strcmp (o->data, "fashion-mnist") == 0)
    {
      uint64_t pub = o->public_size ? o->public_size : 10000;
      uint64_t priv = o->dataset_size ? o->dataset_size : default_private;
      size_t max = priv ? (size_t) (pub + priv) : 0;
      train_progress ("reading fashion-mnist");
      return read_fashion ("train", max, train, absent)
             || read_fashion ("t10k", 0, test, absent);
    }
  int rc = read_csv (OPT_DATA, o->data, train);
  if (rc)
    return rc;
  if (o->test_data)
    return read_csv (OPT_TEST_DATA, o->test_data, test);
  /* Without a test file the last fifth of the data is the test set. */
  size_t n_test = (*train)->n / 5, n_train = (*train)->n - n_test;
  dpacct_dataset *all = *train;
  *train = NULL;
  if (n_test < 1 || n_train < 3)
    {
      dpacct_dataset_free (all);
      out_error ("--data %s: too few examples to split off a test set; give "
                 "--test-data", o->data);
      return 1;
    }
  if (dpacct_dataset_subset (all, 0, n_train, train)
      || dpacct_dataset_subset (all, n_train, n_test, test))
    {
      dpacct_dataset_free (all);
      out_error ("out of memory splitting %s", o->data);
      return 2;
    }
  dpacct_dataset_free (all);
  return 0;
}

/* The public and private parts of TRAIN. */
static int
split (const cli_options *o, const dpacct_dataset *train, int fashion,
       uint64_t default_private, dpacct_dataset **pub, dpacct_dataset **priv,
       uint64_t *public_size)
{
  uint64_t n = train->n;
  uint64_t p = o->public_size ? o->public_size
               : fashion ? 10000 : (n / 5 > 2 ? n / 5 : 2);
  if (p + 1 > n)
    {
      out_error ("--public-size %llu: must leave private examples: at most "
                 "%llu for %s", (unsigned long long) p,
                 (unsigned long long) (n - 1),
                 o->data ? o->data : "fashion-mnist");
      return 1;
    }
  uint64_t want = o->dataset_size ? o->dataset_size
                  : fashion && default_private ? default_private : n - p;
  if (want > n - p)
    {
      out_error ("--dataset-size %llu: must be an integer in [1, %llu] (the "
                 "examples after the %llu public ones)",
                 (unsigned long long) want, (unsigned long long) (n - p),
                 (unsigned long long) p);
      return 1;
    }
  *public_size = p;
  if (dpacct_dataset_subset (train, 0, p, pub)
      || dpacct_dataset_subset (train, p, want, priv))
    {
      out_error ("out of memory splitting the data");
      return 2;
    }
  return 0;
}

int
train_data_load (const cli_options *o, uint64_t default_private,
                 train_data *d, int *absent)
{
  memset (d, 0, sizeof *d);
  if (absent)
    *absent = 0;
  int fashion = o->data == NULL || strcmp (o->data, "fashion-mnist") == 0;
  d->name = fashion ? "fashion-mnist" : o->data;
  dpacct_dataset *train = NULL, *test = NULL, *pub = NULL, *priv = NULL;
  dpacct_pca *pca = NULL;
  int rc = read_raw (o, default_private, &train, &test, absent);
  if (!rc && test->dim != train->dim)
    {
      out_error ("--test-data %s: %zu features per example, but --data has "
                 "%zu", o->test_data, test->dim, train->dim);
      rc = 1;
    }
  if (!rc)
    rc = split (o, train, fashion, default_private, &pub, &priv,
                &d->public_size);
  size_t k = o->features ? (size_t) o->features
                         : (train && train->dim < 256 ? train->dim : 256);
  int keep_public = o->pretrain_epochs > 0;
  d->raw = o->raw_features;
  if (!rc && d->raw)
    {
      /* The inputs themselves: the split's parts change hands. */
      d->private_set = priv;
      d->test_set = test;
      d->public_set = keep_public ? pub : NULL;
      if (!keep_public)
        dpacct_dataset_free (pub);
      priv = test = pub = NULL;
      k = train->dim;
    }
  else if (!rc && k > train->dim)
    {
      out_error ("--features %zu: must be an integer in [1, %zu] (the "
                 "data's features)", k, train->dim);
      rc = 1;
    }
  if (!rc && !d->raw)
    {
      char error[600];
      cache_dir (o, d->cache_dir, sizeof d->cache_dir);
      train_progress ("fitting PCA features on the public part");
      int status = dpacct_pca_fit_cached (pub, k, d->cache_dir, &pca,
                                          &d->from_cache, error,
                                          sizeof error);
      if (status)
        rc = out_library_failure (status, error);
    }
  if (!rc && !d->raw)
    {
      train_progress ("computing features");
      if (dpacct_pca_transform (pca, priv, &d->private_set)
          || dpacct_pca_transform (pca, test, &d->test_set)
          || (keep_public
              && dpacct_pca_transform (pca, pub, &d->public_set)))
        rc = out_library_failure (DPACCT_ENOMEM, "the features");
    }
  train_progress_done ();
  d->features = k;
  dpacct_pca_free (pca);
  dpacct_dataset_free (train);
  dpacct_dataset_free (test);
  dpacct_dataset_free (pub);
  dpacct_dataset_free (priv);
  if (rc)
    train_data_free (d);
  return rc;
}

void
train_data_free (train_data *d)
{
  dpacct_dataset_free (d->private_set);
  dpacct_dataset_free (d->test_set);
  dpacct_dataset_free (d->public_set);
  d->private_set = d->test_set = d->public_set = NULL;
}
