/* cmd_validate.c - "dpacct validate": run the reference trainer over a grid
 * on Fashion-MNIST and say, prediction by prediction, whether the runs
 * agreed: the injected noise, the batch-size rule of the planning API, the
 * per-step heuristics, clipping, and the privacy audit.
 *
 * The grid is a list of jobs, so that --shard I/N can run every N-th one
 * (the runs' rows are then printed instead of the checks). */
#include <config.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include <dpacct.h>

#include "commands.h"
#include "options.h"
#include "output.h"
#include "train_data.h"

#define VALIDATE_OPTIONS                                                    \
  (OPT_BIT (OPT_QUICK) | OPT_BIT (OPT_SHARD) | OPT_BIT (OPT_SEED)           \
   | OPT_BIT (OPT_CACHE_DIR) | OPT_BIT (OPT_REPORT_DIR)                     \
   | OPT_BIT (OPT_FORMAT) | OPT_BIT (OPT_HELP))

static const char summary[] =
  "Run the reference trainer on Fashion-MNIST (10,000 public examples fit\n"
  "K = 256 PCA features, 5,000 private, 4 epochs, epsilon 0.5 and 8, delta\n"
  "1e-5, rdp) over batch sizes, learning rates and seeds, and the privacy\n"
  "audit, and print one row per prediction: check, predicted, observed,\n"
  "verdict (pass or fail).  --quick runs the slice make check runs.";

static const cli_defaults defaults = { 1e-5, NAN, 0, 0, NAN };

/* ------------------------------------------------------------ the grid */

enum { PRIVATE_SIZE = 5000, FEATURES = 256, MAX_B = 16 };
static const double epsilons[] = { 0.5, 8.0 };
enum { N_EPS = 2, TIGHT = 0 };
static const double epochs = 4.0, delta = 1e-5;
static const uint64_t quick_batches[] = { 32, 64, 128, 256, 512, 1024, 2048,
                                          5000 };
static const uint64_t full_batches[] = { 16, 32, 64, 128, 256, 512, 1024,
                                         2048, 4096, 5000 };
static const double quick_rates[] = { 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3 };
static const double full_rates[] = { 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3,
                                     10 };
/* The clipping study: a small and a large C at the tight epsilon, with the
 * learning rates divided by C (flat clipping scales updates by C). */
static const double clips[] = { 0.1, 10.0 };
enum { N_CLIPS = 2 };
/* Fashion-MNIST's hard classes: T-shirt, pullover, coat, shirt. */
static const int hard_classes[] = { 0, 2, 4, 6 };

typedef enum { JOB_GRID, JOB_CLIP, JOB_AUDIT } job_kind;

typedef struct {
  job_kind kind;
  int eps;          /* index in epsilons */
  uint64_t batch;
  double rate, clip;
  unsigned seed;    /* 1, 2, ... */
  int variant;      /* audit */
  unsigned long sampling_seed, noise_seed;
  int done;
  dpacct_train_report report;
  dpacct_audit_result audit;
} job;

typedef struct {
  int quick;
  const uint64_t *batches;
  size_t n_batches;
  const double *rates;
  size_t n_rates;
  unsigned seeds;
  unsigned long seed;
  /* The plan per epsilon: its rows (the batch grid, recommended B added). */
  dpacct_plan_row rows[N_EPS][MAX_B + 1];
  size_t n_rows[N_EPS];
  dpacct_plan_recommendation rec[N_EPS];
  job *jobs;
  size_t n_jobs;
} grid;

static int
plan (grid *g)
{
  for (int e = 0; e < N_EPS; e++)
    {
      dpacct_plan_options p;
      dpacct_plan_options_init (&p);
      p.epsilon = epsilons[e];
      p.delta = delta;
      p.dataset_size = PRIVATE_SIZE;
      p.epochs = epochs;
      int status = dpacct_plan_compute (&p, g->batches, g->n_batches,
                                        g->rows[e], &g->n_rows[e], &g->rec[e]);
      if (status)
        return out_library_failure (status, "the plan of the validation grid");
    }
  return 0;
}

static void
add_job (grid *g, job j)
{
  /* Distinct seeds per run, so that runs are independent and pooling
   * their noise is a valid test. */
  size_t i = g->n_jobs++;
  j.sampling_seed = g->seed * 1000003ul + 2 * i + 1;
  j.noise_seed = g->seed * 1000003ul + 2 * i + 2;
  g->jobs[i] = j;
}

static int
make_jobs (grid *g)
{
  size_t cap = (N_EPS * (MAX_B + 1) + N_CLIPS) * 8 * 3 + 3;
  g->jobs = calloc (cap, sizeof *g->jobs);
  if (g->jobs == NULL)
    {
      out_error ("out of memory");
      return 2;
    }
  job j;
  for (int e = 0; e < N_EPS; e++)
    for (size_t b = 0; b < g->n_rows[e]; b++)
      for (size_t r = 0; r < g->n_rates; r++)
        for (unsigned s = 1; s <= g->seeds; s++)
          {
            memset (&j, 0, sizeof j);
            j.kind = JOB_GRID;
            j.eps = e;
            j.batch = g->rows[e][b].batch_size;
            j.rate = g->rates[r];
            j.clip = 1.0;
            j.seed = s;
            add_job (g, j);
          }
  for (int c = 0; c < N_CLIPS; c++)
    for (size_t r = 0; r < g->n_rates; r++)
      for (unsigned s = 1; s <= g->seeds; s++)
        {
          memset (&j, 0, sizeof j);
          j.kind = JOB_CLIP;
          j.eps = TIGHT;
          j.batch = g->rec[TIGHT].batch_size;
          j.rate = g->rates[r] / clips[c];
          j.clip = clips[c];
          j.seed = s;
          add_job (g, j);
        }
  for (int v = 0; v < 3; v++)
    {
      memset (&j, 0, sizeof j);
      j.kind = JOB_AUDIT;
      j.variant = v;
      add_job (g, j);
    }
  return 0;
}

static int
run_job (const grid *g, const train_data *d, job *j)
{
  int status;
  if (j->kind == JOB_AUDIT)
    {
      dpacct_audit_options a;
      dpacct_audit_options_init (&a);
      a.variant = (dpacct_audit_variant) j->variant;
      a.accountant = dpacct_accountant_pld;
      a.seed = g->seed;
      if (g->quick)
        a.pairs = 50000;
      status = dpacct_audit_run (&a, &j->audit);
    }
  else
    {
      dpacct_train_options t;
      dpacct_train_options_init (&t);
      t.epsilon = epsilons[j->eps];
      t.delta = delta;
      t.batch_size = j->batch;
      t.epochs = epochs;
      t.clip = j->clip;
      t.learning_rate = j->rate;
      t.sampling_seed = j->sampling_seed;
      t.noise_seed = j->noise_seed;
      status = dpacct_train_run (d->private_set, d->test_set, &t, &j->report);
    }
  if (status)
    return out_library_failure (status, j->kind == JOB_AUDIT
                                            ? "an audit of the validation"
                                            : "a run of the validation");
  j->done = 1;
  return 0;
}

/* ------------------------------------------------------------ results */

/* The mean accuracy over seeds at (eps, B, clip) and learning rate R;
 * NaN when no run is there. */
static double
mean_accuracy (const grid *g, int e, uint64_t batch, job_kind kind,
               double clip, double rate)
{
  double sum = 0;
  unsigned n = 0;
  for (size_t i = 0; i < g->n_jobs; i++)
    {
      const job *j = &g->jobs[i];
      if (j->done && j->kind == kind && j->eps == e && j->batch == batch
          && j->clip == clip && fabs (j->rate * clip - rate) < 1e-12 * rate)
        {
          sum += j->report.accuracy;
          n++;
        }
    }
  return n ? sum / n : NAN;
}

/* The learning rate (before the division by C) with the best mean
 * accuracy at (eps, B, clip), and that accuracy; NaN when none ran. */
static double
best_rate (const grid *g, int e, uint64_t batch, job_kind kind, double clip,
           double *accuracy)
{
  double best = NAN, rate = NAN;
  for (size_t r = 0; r < g->n_rates; r++)
    {
      double acc = mean_accuracy (g, e, batch, kind, clip, g->rates[r]);
      if (!isnan (acc) && !(acc <= best))
        {
          best = acc;
          rate = g->rates[r];
        }
    }
  if (accuracy)
    *accuracy = best;
  return rate;
}

/* Accuracy at (eps, B, clip): the best learning rate's mean over seeds. */
static double
accuracy_at (const grid *g, int e, uint64_t batch, job_kind kind, double clip)
{
  double acc;
  best_rate (g, e, batch, kind, clip, &acc);
  return acc;
}

/* The first seed's run at the best learning rate of (eps, B, clip). */
static const job *
best_run (const grid *g, int e, uint64_t batch, job_kind kind, double clip)
{
  double rate = best_rate (g, e, batch, kind, clip, NULL);
  for (size_t i = 0; i < g->n_jobs; i++)
    {
      const job *j = &g->jobs[i];
      if (j->done && j->kind == kind && j->eps == e && j->batch == batch
          && j->clip == clip && j->seed == 1
          && fabs (j->rate * clip - rate) < 1e-12 * rate)
        return j;
    }
  return NULL;
}

typedef struct {
  char check[48], predicted[160], observed[200];
  int pass;
} check_row;

enum { MAX_CHECKS = 16 };

typedef struct {
  check_row rows[MAX_CHECKS];
  size_t n;
} checks;

static check_row *
new_check (checks *c, const char *name)
{
  check_row *r = &c->rows[c->n++];
  snprintf (r->check, sizeof r->check, "%s", name);
  return r;
}

/* Two-sided p-value of a chi-square statistic X with DF degrees. */
static double
chi2_p (double x, double df)
{
  double p = 2 * fmin (gsl_cdf_chisq_P (x, df), gsl_cdf_chisq_Q (x, df));
  return fmin (p, 1.0);
}

static void
check_noise (const grid *g, checks *c)
{
  const dpacct_plan_recommendation *rec = &g->rec[TIGHT];
  const job *j = best_run (g, TIGHT, rec->batch_size, JOB_GRID, 1.0);
  check_row *r = new_check (c, "noise-per-step");
  if (j == NULL)
    {
      snprintf (r->observed, sizeof r->observed, "no run");
      return;
    }
  const dpacct_train_report *p = &j->report;
  double ratio = p->noise_std / p->noise_std_predicted;
  double draws = (double) p->steps * (double) p->n_parameters;
  double x = p->noise_sumsq / (p->noise_std_predicted * p->noise_std_predicted);
  snprintf (r->predicted, sizeof r->predicted,
            "sigma*C/B = %.6g within 1%% (sigma %.4g, C 1, B %llu, eps "
            "0.5)",
            p->noise_std_predicted, p->sigma,
            (unsigned long long) rec->batch_size);
  snprintf (r->observed, sizeof r->observed,
            "%.6g: ratio %.4f; chi-square p %.2f over %.0f draws "
            "(noise seed %lu)", p->noise_std, ratio, chi2_p (x, draws), draws,
            j->noise_seed);
  r->pass = fabs (ratio - 1) <= 0.01;

  /* Accumulated noise, pooled over every grid run (independent seeds). */
  double sum = 0, coords = 0;
  size_t runs = 0;
  for (size_t i = 0; i < g->n_jobs; i++)
    {
      const job *k = &g->jobs[i];
      if (!k->done || k->kind != JOB_GRID)
        continue;
      const dpacct_train_report *q = &k->report;
      sum += q->accumulated_sumsq
             / (q->accumulated_predicted * q->accumulated_predicted);
      coords += (double) q->n_parameters;
      runs++;
    }
  r = new_check (c, "noise-accumulated");
  double pooled = sqrt (sum / coords);
  snprintf (r->predicted, sizeof r->predicted,
            "std of sum_t z_t / C = sigma*sqrt(T) within 1%% (%.4g at B "
            "%llu)",
            p->accumulated_predicted, (unsigned long long) rec->batch_size);
  snprintf (r->observed, sizeof r->observed,
            "ratio %.4f pooled over %zu runs x %zu coordinates; chi-square "
            "p %.2f (seeds %lu...)", pooled, runs,
            runs ? (size_t) (coords / runs) : 0, chi2_p (sum, coords),
            g->seed);
  r->pass = runs > 0 && fabs (pooled - 1) <= 0.01;
}

/* Spearman's rank correlation of X and Y (N values). */
static double
spearman (const double *x, const double *y, size_t n)
{
  double rx[MAX_B + 1], ry[MAX_B + 1], work[2 * (MAX_B + 1)];
  memcpy (rx, x, n * sizeof *x);
  memcpy (ry, y, n * sizeof *y);
  return gsl_stats_spearman (rx, 1, ry, 1, n, work);
}

static void
check_batches (const grid *g, checks *c)
{
  for (int e = 0; e < N_EPS; e++)
    {
      const dpacct_plan_recommendation *rec = &g->rec[e];
      double acc[MAX_B + 1], cum[MAX_B + 1], step[MAX_B + 1];
      double best = -1;
      uint64_t best_b = 0;
      size_t n = g->n_rows[e];
      for (size_t b = 0; b < n; b++)
        {
          const dpacct_plan_row *row = &g->rows[e][b];
          acc[b] = accuracy_at (g, e, row->batch_size, JOB_GRID, 1.0);
          cum[b] = -row->cumulative_noise;
          step[b] = -row->per_step_noise;
          if (acc[b] > best)
            {
              best = acc[b];
              best_b = row->batch_size;
            }
        }
      double at_rec = accuracy_at (g, e, rec->batch_size, JOB_GRID, 1.0);
      double ratio = (double) rec->batch_size / (double) best_b;
      char name[48];
      snprintf (name, sizeof name, "batch-rule-eps%g", epsilons[e]);
      check_row *r = new_check (c, name);
      snprintf (r->predicted, sizeof r->predicted,
                "best B within x2 of the plan's B %llu, or its accuracy "
                "within 1 point (tau 0.1, T_min 20)",
                (unsigned long long) rec->batch_size);
      snprintf (r->observed, sizeof r->observed,
                "best B %llu (accuracy %.4f); at B %llu %.4f",
                (unsigned long long) best_b, best,
                (unsigned long long) rec->batch_size, at_rec);
      r->pass = (ratio >= 0.5 && ratio <= 2.0) || at_rec >= best - 0.01;

      snprintf (name, sizeof name, "heuristics-eps%g", epsilons[e]);
      r = new_check (c, name);
      double full = accuracy_at (g, e, rec->per_step_choice, JOB_GRID, 1.0);
      snprintf (r->predicted, sizeof r->predicted,
                "the per-step rule's B %llu (sigma*C/B smallest) trains "
                "worse than B %llu", (unsigned long long) rec->per_step_choice,
                (unsigned long long) rec->batch_size);
      snprintf (r->observed, sizeof r->observed,
                "accuracy %.4f at B %llu vs %.4f (%+.1f points)", full,
                (unsigned long long) rec->per_step_choice, at_rec,
                100 * (full - at_rec));
      r->pass = full < at_rec;

      snprintf (name, sizeof name, "spearman-eps%g", epsilons[e]);
      r = new_check (c, name);
      double rho_cum = spearman (acc, cum, n), rho_step = spearman (acc, step, n);
      double r_cum = gsl_stats_correlation (acc, 1, cum, 1, n);
      double r_step = gsl_stats_correlation (acc, 1, step, 1, n);
      snprintf (r->predicted, sizeof r->predicted,
                "accuracy tracks -sigma*sqrt(T): Spearman rho > 0 and above "
                "rho with -sigma/B");
      /* At fixed epochs both predictors usually fall monotonically in B,
       * so their ranks, and rho, coincide: Pearson's r is shown too. */
      snprintf (r->observed, sizeof r->observed,
                "rho %.3f vs %.3f%s over %zu batch sizes (Pearson %.3f vs "
                "%.3f)", rho_cum, rho_step,
                rho_cum == rho_step ? " (same ranks)" : "", n, r_cum, r_step);
      r->pass = rho_cum > 0 && rho_cum > rho_step;
    }
}

static void
check_clipping (const grid *g, checks *c)
{
  uint64_t b = g->rec[TIGHT].batch_size;
  double acc[N_CLIPS], hard[N_CLIPS] = { 0 }, easy[N_CLIPS] = { 0 };
  for (int k = 0; k < N_CLIPS; k++)
    {
      acc[k] = accuracy_at (g, TIGHT, b, JOB_CLIP, clips[k]);
      const job *j = best_run (g, TIGHT, b, JOB_CLIP, clips[k]);
      if (j == NULL)
        continue;
      int nh = 0, ne = 0;
      for (int y = 0; y < 10; y++)
        {
          int is_hard = 0;
          for (int h = 0; h < 4; h++)
            is_hard |= hard_classes[h] == y;
          if (is_hard)
            hard[k] += j->report.class_weight[y], nh++;
          else
            easy[k] += j->report.class_weight[y], ne++;
        }
      hard[k] /= nh;
      easy[k] /= ne;
    }
  check_row *r = new_check (c, "clipping-accuracy");
  snprintf (r->predicted, sizeof r->predicted,
            "at eps 0.5 (B %llu) the larger C %g beats the smaller C %g",
            (unsigned long long) b, clips[1], clips[0]);
  snprintf (r->observed, sizeof r->observed,
            "accuracy %.4f at C %g vs %.4f at C %g", acc[1], clips[1], acc[0],
            clips[0]);
  r->pass = acc[1] > acc[0];
  r = new_check (c, "clipping-weights");
  snprintf (r->predicted, sizeof r->predicted,
            "at C %g the hard classes (T-shirt, pullover, coat, shirt) keep "
            "less weight w_y(C) than the others", clips[0]);
  snprintf (r->observed, sizeof r->observed,
            "w_y %.4f (hard) vs %.4f (others); at C %g: %.4f vs %.4f",
            hard[0], easy[0], clips[1], hard[1], easy[1]);
  r->pass = hard[0] < easy[0];
}

static void
check_audit (const grid *g, checks *c)
{
  for (size_t i = 0; i < g->n_jobs; i++)
    {
      const job *j = &g->jobs[i];
      if (j->kind != JOB_AUDIT || !j->done)
        continue;
      char name[48];
      snprintf (name, sizeof name, "audit-%s", cli_variant_name (j->variant));
      check_row *r = new_check (c, name);
      const dpacct_audit_result *a = &j->audit;
      int correct = j->variant == DPACCT_AUDIT_CORRECT;
      snprintf (r->predicted, sizeof r->predicted,
                "eps_lb %s the accountant's epsilon %.4g (pld, %zu pairs, "
                "seed %lu)", correct ? "<=" : ">", a->epsilon_claimed,
                a->n_evaluated * 5 / 4, g->seed);
      snprintf (r->observed, sizeof r->observed,
                "eps_lb %.4f (FP %zu, FN %zu of %zu; FPR_ub %.3g, FNR_ub %.3g)",
                a->epsilon_lower, a->false_positives, a->false_negatives,
                a->n_evaluated, a->fpr_upper, a->fnr_upper);
      r->pass = correct ? a->epsilon_lower <= a->epsilon_claimed
                        : a->epsilon_lower > a->epsilon_claimed;
    }
}

/* ------------------------------------------------------------ output */

static void
print_checks (FILE *stream, out_format format, const grid *g,
              const checks *c)
{
  out_field a[8], f[MAX_CHECKS][4];
  out_answer answers[MAX_CHECKS];
  size_t na = 0;
  a[na++] = out_text ("data", "data", "fashion-mnist: 10000 public, 5000 "
                                      "private, K 256, 4 epochs");
  a[na++] = out_text ("grid", "grid", g->quick ? "quick" : "full");
  a[na++] = out_count ("seeds", "seeds per configuration", g->seeds);
  a[na++] = out_count ("seed", "base seed", g->seed);
  a[na++] = out_count ("runs", "trainer runs and audits", g->n_jobs);
  for (size_t i = 0; i < c->n; i++)
    {
      f[i][0] = out_text ("check", NULL, c->rows[i].check);
      f[i][1] = out_text ("predicted", "predicted", c->rows[i].predicted);
      f[i][2] = out_text ("observed", "observed", c->rows[i].observed);
      f[i][3] = out_text ("verdict", "verdict",
                          c->rows[i].pass ? "pass" : "fail");
      out_answer ans = { c->rows[i].check, f[i], 4, NULL, NULL };
      answers[i] = ans;
    }
  out_report report = { "validate", a, na, answers, c->n };
  out_print (stream, format, &report);
}

static const char *const kind_names[] = { "grid", "clip", "audit" };

static void
print_runs (FILE *stream, const grid *g)
{
  fputs ("kind\tepsilon\tbatch_size\tlearning_rate\tclip\tseed"
         "\tsampling_seed\tnoise_seed\tsteps\tnoise_multiplier\taccuracy"
         "\tloss\tclip_fraction\tnoise_std\tnoise_std_predicted"
         "\taccumulated_noise\taccumulated_predicted\tcumulative_noise"
         "\tper_step_noise\tseconds\tvariant\tepsilon_lower\tepsilon_claimed\n",
         stream);
  for (size_t i = 0; i < g->n_jobs; i++)
    {
      const job *j = &g->jobs[i];
      if (!j->done)
        continue;
      const dpacct_train_report *r = &j->report;
      if (j->kind == JOB_AUDIT)
        fprintf (stream, "audit\tnan\t0\tnan\tnan\t0\t0\t0\t%llu\t%.17g"
                 "\tnan\tnan\tnan\tnan\tnan\tnan\tnan\tnan\tnan\tnan\t%s"
                 "\t%.17g\t%.17g\n",
                 (unsigned long long) j->audit.steps, j->audit.sigma,
                 cli_variant_name (j->variant), j->audit.epsilon_lower,
                 j->audit.epsilon_claimed);
      else
        fprintf (stream, "%s\t%g\t%llu\t%.17g\t%g\t%u\t%lu\t%lu\t%llu\t%.17g"
                 "\t%.17g\t%.17g\t%.17g\t%.17g\t%.17g\t%.17g\t%.17g\t%.17g"
                 "\t%.17g\t%.3f\t-\tnan\tnan\n",
                 kind_names[j->kind], epsilons[j->eps],
                 (unsigned long long) j->batch, j->rate, j->clip, j->seed,
                 j->sampling_seed, j->noise_seed,
                 (unsigned long long) r->steps, r->sigma, r->accuracy,
                 r->loss, r->clip_fraction, r->noise_std,
                 r->noise_std_predicted, r->accumulated_noise,
                 r->accumulated_predicted,
                 r->sigma * sqrt ((double) r->steps),
                 r->sigma * j->clip / (double) j->batch, r->seconds);
    }
}

/* Per epsilon and batch size: the best accuracy, the plan's numbers. */
static void
print_batches (FILE *stream, const grid *g)
{
  /* A commented header: gnuplot reads the blocks by column number. */
  fputs ("# epsilon\tbatch_size\taccuracy\tcumulative_noise"
         "\tper_step_noise\tnoise_multiplier\tsteps\trecommended\n", stream);
  for (int e = 0; e < N_EPS; e++)
    {
      for (size_t b = 0; b < g->n_rows[e]; b++)
        {
          const dpacct_plan_row *row = &g->rows[e][b];
          fprintf (stream, "%g\t%llu\t%.6f\t%.6g\t%.6g\t%.6g\t%llu\t%d\n",
                   epsilons[e], (unsigned long long) row->batch_size,
                   accuracy_at (g, e, row->batch_size, JOB_GRID, 1.0),
                   row->cumulative_noise, row->per_step_noise,
                   row->noise_multiplier, (unsigned long long) row->steps,
                   row->batch_size == g->rec[e].batch_size);
        }
      fputs ("\n\n", stream); /* a gnuplot data block per epsilon */
    }
}

static int
write_report (const cli_options *o, const grid *g, const checks *c)
{
  const char *dir = o->report_dir;
  char path[4096];
  if (mkdir (dir, 0755) != 0 && errno != EEXIST)
    {
      out_error ("--report-dir %s: %s", dir, strerror (errno));
      return 1;
    }
  const char *names[] = { "checks.tsv", "runs.tsv", "batches.tsv" };
  for (int k = 0; k < 3; k++)
    {
      snprintf (path, sizeof path, "%s/%s", dir, names[k]);
      FILE *f = fopen (path, "w");
      if (f == NULL)
        {
          out_error ("--report-dir %s: cannot write %s: %s", dir, names[k],
                     strerror (errno));
          return 1;
        }
      if (k == 0)
        print_checks (f, OUT_TSV, g, c);
      else if (k == 1)
        print_runs (f, g);
      else
        print_batches (f, g);
      if (fclose (f) != 0)
        {
          out_error ("--report-dir %s: cannot write %s", dir, names[k]);
          return 1;
        }
    }
  char data[4096], image[4096];
  snprintf (data, sizeof data, "%s/batches.tsv", dir);
  snprintf (image, sizeof image, "%s/validate-batch.png", dir);
  if (cmd_gnuplot ("validate-batch", data, image) != 0)
    out_error ("warning: no figure drawn (gnuplot missing or failed); the "
               "data is in %s", data);
  return 0;
}

/* ------------------------------------------------------------ command */

int
cmd_validate (int argc, char **argv)
{
  cli_options o;
  int help, rc, absent;
  if (cli_parse (argc, argv, VALIDATE_OPTIONS, &defaults, &o, &help))
    return 1;
  if (help)
    {
      cli_print_help (stdout, "validate", summary, VALIDATE_OPTIONS);
      return 0;
    }
  static grid g;
  memset (&g, 0, sizeof g);
  g.quick = o.quick;
  g.batches = o.quick ? quick_batches : full_batches;
  g.n_batches = o.quick ? sizeof quick_batches / sizeof quick_batches[0]
                        : sizeof full_batches / sizeof full_batches[0];
  g.rates = o.quick ? quick_rates : full_rates;
  g.n_rates = o.quick ? sizeof quick_rates / sizeof quick_rates[0]
                      : sizeof full_rates / sizeof full_rates[0];
  g.seeds = o.quick ? 1 : 3;
  g.seed = (o.given & OPT_BIT (OPT_SEED)) ? (unsigned long) o.seed : 1;
  if ((rc = plan (&g)) || (rc = make_jobs (&g)))
    return rc;
  cli_options data_options = o;
  data_options.data = NULL;
  data_options.public_size = 10000;
  data_options.dataset_size = PRIVATE_SIZE;
  data_options.features = FEATURES;
  train_data d;
  if ((rc = train_data_load (&data_options, PRIVATE_SIZE, &d, &absent)))
    {
      free (g.jobs);
      /* Without the data set there is nothing to validate: 77 lets a test
       * harness report a skip. */
      return absent ? 77 : rc;
    }
  for (size_t i = 0; i < g.n_jobs && !rc; i++)
    {
      if (o.shard_count && i % o.shard_count != o.shard_index - 1)
        continue;
      char text[80];
      snprintf (text, sizeof text, "validate: run %zu of %zu", i + 1,
                g.n_jobs);
      train_progress (text);
      rc = run_job (&g, &d, &g.jobs[i]);
    }
  train_progress_done ();
  if (!rc && o.shard_count)
    print_runs (stdout, &g);
  else if (!rc)
    {
      checks c;
      memset (&c, 0, sizeof c);
      check_noise (&g, &c);
      check_batches (&g, &c);
      check_clipping (&g, &c);
      check_audit (&g, &c);
      print_checks (stdout, o.format, &g, &c);
      if (o.report_dir)
        rc = write_report (&o, &g, &c);
    }
  train_data_free (&d);
  free (g.jobs);
  return rc;
}
