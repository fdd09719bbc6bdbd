/* bench_mlp.c - how fast the fine-tuning MLP is (`make bench-mlp`), CPU
 * seconds on one core:
 *  1. per-example weight-gradient norms of one dense layer d -> d applied
 *     to T tokens, by the ghost formula and by materialising the
 *     gradient, beside the choice mixed ghost clipping predicts from
 *     their costs (T^2 (d_in + d_out) against T d_in d_out);
 *  2. private fine-tuning runs on Fashion-MNIST pixels (784 -> 256 -> 10,
 *     and the 28 rows as 28 tokens, 28 -> 256 -> 10) at N = 5,000, E = 4,
 *     B = 256, epsilon 8, for each trainable set, from a random network
 *     and after public pretraining on classes 0-4 only (a transfer: the
 *     private set has all ten).
 * Prints only a note for part 2 when Debian's dataset-fashion-mnist is
 * not installed. */
#include <dpacct.h>
#include "../lib/train/mlp_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_rng.h>

static double
now (void)
{
  struct timespec t;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static void
bench_norms (void)
{
  static const size_t widths[] = { 16, 64, 256 }, tokens[] = { 1, 4, 16, 64 };
  gsl_rng *r = gsl_rng_alloc (gsl_rng_mt19937);
  printf ("per-example norm of one d -> d layer over T tokens "
          "(microseconds per example)\n");
  printf ("%6s %4s %10s %14s %12s %10s %10s\n", "d", "T", "ghost",
          "materialised", "buffer (B)", "predicted", "faster");
  for (size_t i = 0; i < 3; i++)
    for (size_t j = 0; j < 4; j++)
      {
        size_t d = widths[i], T = tokens[j];
        double *a = malloc (T * d * sizeof *a), *g = malloc (T * d * sizeof *g);
        double *buffer = malloc (d * d * sizeof *buffer);
        for (size_t k = 0; k < T * d; k++)
          {
            a[k] = gsl_rng_uniform (r) - 0.5;
            g[k] = gsl_rng_uniform (r) - 0.5;
          }
        /* Enough repeats for about 1e8 multiply-adds either way. */
        size_t reps = 1 + (size_t) (1e8 / ((double) T * d * (T + d)));
        volatile double sink = 0; /* keeps the loops from being dropped */
        double t0 = now ();
        for (size_t k = 0; k < reps; k++)
          sink += mlp_ghost_norm2 (T, d, d, a, g);
        double ghost = (now () - t0) / reps * 1e6;
        t0 = now ();
        for (size_t k = 0; k < reps; k++)
          sink -= mlp_materialised_norm2 (T, d, d, a, g, buffer);
        double formed = (now () - t0) / reps * 1e6;
        mlp_shape s = { 2, T, { d, d, 2 } };
        printf ("%6zu %4zu %10.3f %14.3f %12zu %10s %10s\n", d, T, ghost,
                formed, d * d * sizeof (double),
                mlp_layer_uses_ghost (&s, 0, MLP_NORM_MIXED) ? "ghost"
                                                             : "formed",
                ghost <= formed ? "ghost" : "formed");
        free (a);
        free (g);
        free (buffer);
      }
  gsl_rng_free (r);
}

int
main (void)
{
  gsl_set_error_handler_off ();
  bench_norms ();
  const char *dir = getenv ("DPACCT_FASHION_MNIST");
  char im[1024], lb[1024], err[600];
  if (dir == NULL)
    dir = "/usr/share/datasets/fashion-mnist";
  dpacct_dataset *train, *test, *pub, *priv, *test_part;
  snprintf (im, sizeof im, "%s/train-images-idx3-ubyte.gz", dir);
  snprintf (lb, sizeof lb, "%s/train-labels-idx1-ubyte.gz", dir);
  if (dpacct_dataset_read_idx (im, lb, 15000, &train, err, sizeof err))
    {
      printf ("bench-mlp: no Fashion-MNIST (%s); no runs\n", err);
      return 0;
    }
  snprintf (im, sizeof im, "%s/t10k-images-idx3-ubyte.gz", dir);
  snprintf (lb, sizeof lb, "%s/t10k-labels-idx1-ubyte.gz", dir);
  if (dpacct_dataset_read_idx (im, lb, 2000, &test, err, sizeof err))
    {
      printf ("bench-mlp: %s\n", err);
      return 1;
    }
  dpacct_dataset_subset (train, 0, 10000, &pub);
  dpacct_dataset_subset (train, 10000, 5000, &priv);
  static const unsigned first_five[] = { 0, 1, 2, 3, 4 };
  dpacct_dataset *pub5 = NULL;
  dpacct_dataset_select_classes (pub, first_five, 5, &pub5);
  test_part = test;
  printf ("\nprivate fine-tuning, Fashion-MNIST pixels, N = 5,000, E = 4, "
          "B = 256, C = 1 (flat), epsilon 8, delta 1e-5, SGD lr 2;\n"
          "pretraining: %zu public examples of classes 0-4, 3 epochs, "
          "batch 32, lr 0.1 (seconds include it)\n", pub5 ? pub5->n : 0);
  printf ("%-10s %-6s %-10s %12s %10s %9s %9s\n", "network", "set",
          "start", "trainable", "ghost", "seconds", "accuracy");
  static const char *set_names[] = { "all", "bias", "head" };
  for (int rows = 0; rows < 2; rows++)
    for (int pre = 0; pre < 2; pre++)
      for (int t = 0; t < 3; t++)
        {
          if (rows && t > 0)
            continue;
          dpacct_train_options o;
          dpacct_train_options_init (&o);
          o.epsilon = 8;
          o.batch_size = 256;
          o.epochs = 4;
          o.learning_rate = 2;
          mlp_run_options run;
          memset (&run, 0, sizeof run);
          run.hidden = 256;
          run.tokens = rows ? 28 : 1;
          run.trainable = (mlp_trainable) t;
          run.norm_method = MLP_NORM_MIXED;
          run.init_seed = 1;
          if (pre)
            {
              run.public_data = pub5;
              run.pretrain_epochs = 3;
              run.pretrain_batch = 32;
              run.pretrain_learning_rate = 0.1;
            }
          dpacct_train_report r;
          int status = mlp_train_run (priv, test_part, &o, &run, &r);
          if (status)
            {
              printf ("run failed: %s\n", dpacct_strerror (status));
              continue;
            }
          char ghost[16];
          snprintf (ghost, sizeof ghost, "%s/%s",
                    run.ghost_layers & 1 ? "g" : "m",
                    run.ghost_layers & 2 ? "g" : "m");
          printf ("%-10s %-6s %-10s %12zu %10s %9.2f %9.4f\n",
                  rows ? "28x28->256" : "784->256", set_names[t],
                  pre ? "pretrained" : "random", r.n_parameters, ghost,
                  r.seconds, r.accuracy);
        }
  dpacct_dataset_free (train);
  dpacct_dataset_free (test);
  dpacct_dataset_free (pub);
  dpacct_dataset_free (pub5);
  dpacct_dataset_free (priv);
  return 0;
}
