/* validate_report.c - the check table, and with --report-dir the runs,
 * the figures' data (one gnuplot data block per curve) and the figures. */
#include <config.h>

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "commands.h"
#include "validate.h"

void
validate_checks_print (FILE *stream, out_format format,
                       const validate_grid *g, const validate_checks *c)
{
  out_field a[8], f[VALIDATE_MAX_CHECKS][5];
  out_answer answers[VALIDATE_MAX_CHECKS];
  char grid[1100], network[120];
  size_t na = 0, runs = 0;
  for (size_t i = 0; i < g->n_runs; i++)
    runs += g->runs[i].done;
  validate_grid_describe (g, grid, sizeof grid);
  snprintf (network, sizeof network,
            "MLP 256 -> %zu -> 10 on PCA features, pretrained on 5 of 10 "
            "classes", g->hidden);
  char data[120];
  snprintf (data, sizeof data, "fashion-mnist: 10000 public, %zu private, "
            "K 256", g->private_size);
  a[na++] = out_text ("data", "data", data);
  a[na++] = out_text ("network", "network", network);
  a[na++] = out_text ("grid", "grid", grid);
  a[na++] = out_count ("seeds", "seeds per configuration", g->seeds);
  a[na++] = out_count ("runs", "runs", runs);
  for (size_t i = 0; i < c->n; i++)
    {
      const validate_check *r = &c->rows[i];
      f[i][0] = out_text ("check", NULL, r->check);
      f[i][1] = out_text ("predicted", "predicted", r->predicted);
      f[i][2] = out_text ("observed", "observed", r->observed);
      f[i][3] = out_text ("spread", "spread", r->spread);
      f[i][4] = out_text ("verdict", "verdict",
                          validate_verdict_name (r->verdict));
      out_answer ans = { r->check, f[i], 5, NULL, NULL };
      answers[i] = ans;
    }
  out_report report = { "validate", a, na, answers, c->n };
  out_print (stream, format, &report);
}

/* The mean accuracy over seeds at the best rate of runs like R (same
 * family, epsilon, B, epochs, C, trainable and noise). */
static double
mean_best (const validate_grid *g, const validate_run *like)
{
  double best = NAN;
  for (size_t i = 0; i < g->n_runs; i++)
    {
      const validate_run *r = &g->runs[i];
      double sum = 0;
      size_t n = 0;
      for (size_t k = 0; k < g->n_runs; k++)
        {
          const validate_run *q = &g->runs[k];
          if (q->done && q->family == like->family
              && q->epsilon == like->epsilon && q->batch == like->batch
              && q->epochs == like->epochs && q->clip == like->clip
              && q->trainable == like->trainable && q->noise == like->noise
              && q->rate == r->rate)
            sum += q->accuracy, n++;
        }
      if (n && (isnan (best) || sum / (double) n > best))
        best = sum / (double) n;
    }
  return best;
}

/* One row per configuration of FAMILY at seed 1 and the grid's first
 * rate (the accuracy is the best rate's mean), a block per epsilon. */
static void
write_family (FILE *f, const validate_grid *g, validate_family family)
{
  fputs ("# epsilon\tbatch\tepochs\tclip\ttrainable\tnoise\taccuracy"
         "\tcumulative_noise\tper_step_noise\tnorm_q10\tnorm_q50\tnorm_q90"
         "\tclip_fraction\tparams\tseconds\n", f);
  for (int e = 0; e < 2; e++)
    {
      for (size_t i = 0; i < g->n_runs; i++)
        {
          const validate_run *r = &g->runs[i];
          if (!r->done || r->family != family || r->seed != 1
              || r->epsilon != g->epsilons[e]
              || r->rate != g->rates[0])
            continue;
          fprintf (f, "%g\t%llu\t%g\t%g\t%d\t%d\t%.6f\t%.6g\t%.6g\t%.4g\t%.4g"
                   "\t%.4g\t%.4f\t%llu\t%.4g\n", r->epsilon,
                   (unsigned long long) r->batch, r->epochs, r->clip,
                   r->trainable, r->noise, mean_best (g, r),
                   r->sigma * sqrt ((double) r->steps),
                   r->sigma * r->clip / (double) r->batch, r->norm_q10,
                   r->norm_q50, r->norm_q90, r->clip_fraction,
                   (unsigned long long) r->params, r->seconds);
        }
      fputs ("\n\n", f);
    }
}

static void
write_ghost (FILE *f, const validate_grid *g)
{
  fputs ("# width\ttokens\tghost_seconds\tmaterialised_seconds"
         "\tghost_bytes\tmaterialised_bytes\tpredicted_ghost\n", f);
  size_t last = 0;
  for (size_t i = 0; i < g->n_runs; i++)
    {
      const validate_run *r = &g->runs[i];
      if (!r->done || r->family != FAMILY_GHOST)
        continue;
      if (last && r->batch != last)
        fputs ("\n\n", f); /* a block per width */
      last = r->batch;
      fprintf (f, "%llu\t%g\t%.4g\t%.4g\t%.0f\t%.0f\t%d\n",
               (unsigned long long) r->batch, r->epochs, r->ghost_seconds,
               r->materialised_seconds, r->ghost_bytes, r->materialised_bytes,
               validate_ghost_predicted ((size_t) r->batch,
                                         (size_t) r->epochs));
    }
}

/* Full fine-tuning against DP-BiTFiT, Gaussian and Laplace, per epsilon:
 * the best rate's mean accuracy, the trainable parameters and the CPU
 * seconds of one run. */
static void
write_modes (FILE *f, const validate_grid *g)
{
  static const struct {
    validate_family family;
    int trainable, noise;
    const char *name;
  } modes[] = {
    { FAMILY_CLIP, DPACCT_TRAINABLE_ALL, DPACCT_NOISE_GAUSSIAN, "full" },
    { FAMILY_BITFIT, DPACCT_TRAINABLE_BIAS, DPACCT_NOISE_GAUSSIAN, "bitfit" },
    { FAMILY_LAP2, DPACCT_TRAINABLE_ALL, DPACCT_NOISE_LAPLACE,
      "full-laplace" },
    { FAMILY_LAP2, DPACCT_TRAINABLE_BIAS, DPACCT_NOISE_LAPLACE,
      "bitfit-laplace" },
  };
  fputs ("# epsilon\tmode\taccuracy\tparams\tseconds\n", f);
  for (int e = 0; e < 2; e++)
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++)
      for (size_t i = 0; i < g->n_runs; i++)
        {
          const validate_run *r = &g->runs[i];
          if (r->done && r->family == modes[m].family
              && r->trainable == modes[m].trainable
              && r->noise == modes[m].noise && r->epsilon == g->epsilons[e]
              && r->clip == 1 && r->seed == 1 && r->rate == g->rates[0])
            {
              fprintf (f, "%g\t%s\t%.6f\t%llu\t%.4g\n", r->epsilon,
                       modes[m].name, mean_best (g, r),
                       (unsigned long long) r->params, r->seconds);
              break;
            }
        }
}

typedef struct {
  const char *file, *figure;
  int family; /* -1: the check table, -2: the runs, -3: ghost, -4: the
                 fine-tuning modes */
} report_file;

static const report_file files[] = {
  { "checks.tsv", NULL, -1 },
  { "runs.tsv", NULL, -2 },
  { "clip.tsv", "validate-clip", FAMILY_CLIP },
  { "batches.tsv", "validate-batch", FAMILY_BATCH },
  { "modes.tsv", "validate-modes", -4 },
  { "ghost.tsv", "validate-ghost", -3 },
};

int
validate_report_write (const char *dir, const validate_grid *g,
                       const validate_checks *c)
{
  char path[4096], image[4096];
  if (mkdir (dir, 0755) != 0 && errno != EEXIST)
    {
      out_error ("--report-dir %s: %s", dir, strerror (errno));
      return 1;
    }
  for (size_t k = 0; k < sizeof files / sizeof files[0]; k++)
    {
      snprintf (path, sizeof path, "%s/%s", dir, files[k].file);
      FILE *f = fopen (path, "w");
      if (f == NULL)
        {
          out_error ("--report-dir %s: cannot write %s: %s", dir,
                     files[k].file, strerror (errno));
          return 1;
        }
      if (files[k].family == -1)
        validate_checks_print (f, OUT_TSV, g, c);
      else if (files[k].family == -2)
        validate_runs_write (f, g);
      else if (files[k].family == -3)
        write_ghost (f, g);
      else if (files[k].family == -4)
        write_modes (f, g);
      else
        write_family (f, g, (validate_family) files[k].family);
      if (fclose (f) != 0)
        {
          out_error ("--report-dir %s: cannot write %s", dir, files[k].file);
          return 1;
        }
    }
  for (size_t k = 0; k < sizeof files / sizeof files[0]; k++)
    {
      if (files[k].figure == NULL)
        continue;
      snprintf (path, sizeof path, "%s/%s", dir, files[k].file);
      snprintf (image, sizeof image, "%s/%s.png", dir, files[k].figure);
      if (cmd_gnuplot (files[k].figure, path, image) != 0)
        out_error ("warning: no figure %s (gnuplot missing or failed); the "
                   "data is in %s", image, path);
    }
  return 0;
}
