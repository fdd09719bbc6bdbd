/* validate_grid.c - the runs "dpacct validate" makes: which
 * configurations (a family per claim), and running one of them on the
 * network (or the audit, or a timing of the norm computations).
 *
 * The network: an MLP on K = 256 PCA features (256 -> hidden -> 10),
 * pretrained without privacy on the public examples of five of the ten
 * classes, then fine-tuned with DP-SGD on 5,000 private examples of all
 * ten. */
#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <dpacct.h>
#include <dpacct/train.h>

#include "validate.h"

const char *const validate_family_names[N_FAMILIES] = {
  "clip", "auto", "batch", "bitfit", "scratch", "lap2", "audit", "ghost"
};

static const double delta = 1e-5;

/* The grids.  The rates are those of B = 256 and C = 1: a run's learning
 * rate is rate * B / 256 (the noisy sum is divided by B, so the update's
 * signal and noise per step then do not shrink with B), divided by C for
 * flat clipping (which scales an update by C). */
static const double quick_clips[] = { 0.1, 1, 10 };
static const double full_clips[] = { 0.1, 0.3, 1, 3, 10 };
static const double quick_rates[] = { 1 };
static const double full_rates[] = { 0.3, 1, 3 };
static const uint64_t quick_batches[] = { 64, 512, 2000 };
static const uint64_t full_batches[] = { 32, 128, 512, 2048, 5000 };
static const double quick_epochs[] = { 1, 4 };
static const double full_epochs[] = { 1, 2, 4 };
/* The cost study: layer widths and tokens. */
static const size_t ghost_widths[] = { 64, 256, 1024 };
static const size_t ghost_tokens[] = { 1, 4, 16, 64, 256 };

#define COUNT(a) (sizeof (a) / sizeof (a)[0])

static void
copy_list (double *to, size_t *n, const double *from, size_t count)
{
  memcpy (to, from, count * sizeof *from);
  *n = count;
}

static int
plan_at (const validate_grid *g, double epsilon, double epochs,
         dpacct_plan_row *rows, size_t *n_rows,
         dpacct_plan_recommendation *rec)
{
  dpacct_plan_options p;
  dpacct_plan_options_init (&p);
  p.epsilon = epsilon;
  p.delta = delta;
  p.dataset_size = g->private_size;
  p.epochs = epochs;
  int status = dpacct_plan_compute (&p, g->batches, g->n_batches, rows,
                                    n_rows, rec);
  return status ? out_library_failure (status,
                                       "the plan of the validation grid")
                : 0;
}

static validate_run *
add (validate_grid *g, validate_family family, int e, uint64_t batch,
     double epochs, double rate, double clip, unsigned seed)
{
  validate_run *r = &g->runs[g->n_runs];
  memset (r, 0, sizeof *r);
  r->index = g->n_runs++;
  r->family = family;
  r->epsilon = e >= 0 ? g->epsilons[e] : NAN;
  r->batch = batch;
  r->epochs = epochs;
  r->rate = rate;
  r->clip = clip;
  r->clipping = DPACCT_CLIP_FLAT;
  r->trainable = DPACCT_TRAINABLE_ALL;
  r->noise = DPACCT_NOISE_GAUSSIAN;
  r->pretrained = 1;
  r->seed = seed;
  return r;
}

/* Every family's runs, in a fixed order (shards and merges rely on it). */
static int
make_runs (validate_grid *g)
{
  /* Room for every family at the largest --clip list (16 values):
   * 288 + 9 + 2 * 3 * 6 * 9 + 18 + 9 + 36 + 3 + 15 runs, well below. */
  size_t cap = 4096;
  g->runs = calloc (cap, sizeof *g->runs);
  if (g->runs == NULL)
    {
      out_error ("out of memory");
      return 2;
    }
  double E = g->epochs[g->n_epochs - 1];
  validate_run *r;
  for (int e = 0; e < 2; e++)
    for (size_t c = 0; c < g->n_clips; c++)
      for (size_t k = 0; k < g->n_rates; k++)
        for (unsigned s = 1; s <= g->seeds; s++)
          add (g, FAMILY_CLIP, e, g->plan_batch[e], E, g->rates[k],
               g->clips[c], s);
  for (size_t k = 0; k < g->n_rates; k++)
    for (unsigned s = 1; s <= g->seeds; s++)
      {
        r = add (g, FAMILY_AUTO, 0, g->plan_batch[0], E, g->rates[k], 1, s);
        r->clipping = DPACCT_CLIP_AUTOMATIC;
      }
  for (int e = 0; e < 2; e++)
    for (size_t x = 0; x < g->n_epochs; x++)
      {
        dpacct_plan_row rows[VALIDATE_MAX_LIST + 1];
        size_t n_rows;
        dpacct_plan_recommendation rec;
        int rc = plan_at (g, g->epsilons[e], g->epochs[x], rows, &n_rows,
                          &rec);
        if (rc)
          return rc;
        for (size_t b = 0; b < n_rows; b++)
          for (size_t k = 0; k < g->n_rates; k++)
            for (unsigned s = 1; s <= g->seeds; s++)
              add (g, FAMILY_BATCH, e, rows[b].batch_size, g->epochs[x],
                   g->rates[k], 1, s);
      }
  for (int e = 0; e < 2; e++)
    for (size_t k = 0; k < g->n_rates; k++)
      for (unsigned s = 1; s <= g->seeds; s++)
        {
          r = add (g, FAMILY_BITFIT, e, g->plan_batch[e], E, g->rates[k], 1,
                   s);
          r->trainable = DPACCT_TRAINABLE_BIAS;
        }
  for (size_t k = 0; k < g->n_rates; k++)
    for (unsigned s = 1; s <= g->seeds; s++)
      {
        r = add (g, FAMILY_SCRATCH, 0, g->plan_batch[0], E, g->rates[k], 1,
                 s);
        r->pretrained = 0;
      }
  for (int e = 0; e < 2; e++)
    for (int t = 0; t < 2; t++)
      for (size_t k = 0; k < g->n_rates; k++)
        for (unsigned s = 1; s <= g->seeds; s++)
          {
            r = add (g, FAMILY_LAP2, e, g->plan_batch[e], E, g->rates[k], 1,
                     s);
            r->noise = DPACCT_NOISE_LAPLACE;
            r->trainable = t ? DPACCT_TRAINABLE_BIAS : DPACCT_TRAINABLE_ALL;
          }
  for (int v = 0; v < 3; v++)
    {
      r = add (g, FAMILY_AUDIT, -1, 0, NAN, NAN, 1, 1);
      r->variant = v;
    }
  for (size_t w = 0; w < COUNT (ghost_widths); w++)
    for (size_t t = 0; t < COUNT (ghost_tokens); t++)
      if (!g->quick || (ghost_widths[w] <= 256 && ghost_tokens[t] <= 64))
        add (g, FAMILY_GHOST, -1, ghost_widths[w], (double) ghost_tokens[t],
             NAN, NAN, 1);
  return 0;
}

int
validate_grid_make (int quick, unsigned long seed, const double *clips,
                    size_t n_clips, validate_grid *g)
{
  memset (g, 0, sizeof *g);
  g->quick = quick;
  g->seed = seed;
  g->seeds = quick ? 2 : 3;
  g->hidden = 64;
  /* The quick grid: fewer private examples and a shorter warm start, for
   * make check's minute. */
  g->private_size = quick ? 2000 : 5000;
  g->pretrain_epochs = quick ? 2 : 5;
  g->epsilons[0] = 0.5;
  g->epsilons[1] = 8;
  if (n_clips)
    copy_list (g->clips, &g->n_clips, clips,
               n_clips < VALIDATE_MAX_LIST ? n_clips : VALIDATE_MAX_LIST);
  else if (quick)
    copy_list (g->clips, &g->n_clips, quick_clips, COUNT (quick_clips));
  else
    copy_list (g->clips, &g->n_clips, full_clips, COUNT (full_clips));
  if (quick)
    copy_list (g->rates, &g->n_rates, quick_rates, COUNT (quick_rates));
  else
    copy_list (g->rates, &g->n_rates, full_rates, COUNT (full_rates));
  if (quick)
    copy_list (g->epochs, &g->n_epochs, quick_epochs, COUNT (quick_epochs));
  else
    copy_list (g->epochs, &g->n_epochs, full_epochs, COUNT (full_epochs));
  const uint64_t *b = quick ? quick_batches : full_batches;
  g->n_batches = quick ? COUNT (quick_batches) : COUNT (full_batches);
  memcpy (g->batches, b, g->n_batches * sizeof *b);
  for (int e = 0; e < 2; e++)
    {
      dpacct_plan_row rows[VALIDATE_MAX_LIST + 1];
      size_t n_rows;
      dpacct_plan_recommendation rec;
      int rc = plan_at (g, g->epsilons[e], g->epochs[g->n_epochs - 1], rows,
                        &n_rows, &rec);
      if (rc)
        return rc;
      g->plan_batch[e] = rec.batch_size;
      g->per_step_batch[e] = rec.per_step_choice;
    }
  return make_runs (g);
}

void
validate_grid_free (validate_grid *g)
{
  free (g->runs);
  g->runs = NULL;
  g->n_runs = 0;
}

void
validate_grid_describe (const validate_grid *g, char *text, size_t size)
{
  int n = snprintf (text, size, "grid %s seed %lu clips ",
                    g->quick ? "quick" : "full", g->seed);
  for (size_t c = 0; c < g->n_clips && n > 0 && (size_t) n < size; c++)
    n += snprintf (text + n, size - (size_t) n, "%s%.17g", c ? "," : "",
                   g->clips[c]);
}

/* ------------------------------------------------------------ one run */

/* Fashion-MNIST's hard classes: T-shirt, pullover, coat, shirt. */
static int
is_hard_class (size_t y)
{
  return y == 0 || y == 2 || y == 4 || y == 6;
}

static void
keep_training (const dpacct_train_report *p, validate_run *r)
{
  r->accuracy = p->accuracy;
  r->steps = p->steps;
  r->sigma = p->sigma;
  r->params = p->n_parameters;
  r->noise_std = p->noise_std;
  r->noise_predicted = p->noise_std_predicted;
  r->noise_sumsq = p->noise_sumsq;
  r->clip_fraction = p->clip_fraction;
  double hard = 0, easy = 0;
  size_t nh = 0, ne = 0;
  for (size_t y = 0; y < p->n_classes; y++)
    if (is_hard_class (y))
      hard += p->class_weight[y], nh++;
    else
      easy += p->class_weight[y], ne++;
  r->weight_hard = nh ? hard / (double) nh : NAN;
  r->weight_easy = ne ? easy / (double) ne : NAN;
  r->norm_q10 = r->norm_q50 = r->norm_q90 = NAN;
  if (p->n_epoch_records > 0)
    {
      /* Levels 10, 25, 50, 75 and 90 %. */
      r->norm_q10 = p->epoch[0].norm_quantile[0];
      r->norm_q50 = p->epoch[0].norm_quantile[2];
      r->norm_q90 = p->epoch[0].norm_quantile[4];
    }
  r->seconds = p->seconds;
}

static int
run_audit (const validate_grid *g, validate_run *r)
{
  dpacct_audit_options a;
  dpacct_audit_options_init (&a);
  a.variant = (dpacct_audit_variant) r->variant;
  a.accountant = dpacct_accountant_pld;
  a.seed = g->seed;
  /* The audit's own network (dpacct audit --model mlp): every parameter
   * trained, the canary's whole clipped gradient as the statistic. */
  a.model = DPACCT_MODEL_MLP;
  if (g->quick)
    a.pairs = 20000; /* 4 s a variant; enough to separate all three */
  dpacct_audit_result res;
  int status = dpacct_audit_run (&a, &res);
  if (status)
    return out_library_failure (status, "an audit of the validation");
  r->epsilon_lower = res.epsilon_lower;
  r->epsilon_claimed = res.epsilon_claimed;
  r->sigma = res.sigma;
  r->steps = res.steps;
  return 0;
}

int
validate_run_job (const validate_grid *g, const validate_data *d,
                  validate_run *r)
{
  int status;
  if (r->family == FAMILY_AUDIT)
    status = run_audit (g, r);
  else if (r->family == FAMILY_GHOST)
    status = validate_ghost_cost ((size_t) r->batch, (size_t) r->epochs, r);
  else
    {
      dpacct_train_options t;
      dpacct_train_options_init (&t);
      t.epsilon = r->epsilon;
      t.delta = delta;
      t.batch_size = (size_t) r->batch;
      t.epochs = r->epochs;
      t.clip = r->clip;
      t.clipping = (dpacct_clipping) r->clipping;
      t.noise = (dpacct_noise_kind) r->noise;
      if (r->noise == DPACCT_NOISE_LAPLACE)
        t.accountant = dpacct_accountant_lap2;
      t.learning_rate = r->rate * (double) r->batch / 256.0
                        / (r->clipping == DPACCT_CLIP_FLAT ? r->clip : 1.0);
      /* Distinct seeds per run, so that runs are independent and pooling
       * their noise is a valid test. */
      t.sampling_seed = g->seed * 1000003ul + 2 * r->index + 1;
      t.noise_seed = g->seed * 1000003ul + 2 * r->index + 2;
      dpacct_mlp_options m;
      dpacct_mlp_options_init (&m);
      m.hidden = g->hidden;
      m.trainable = (dpacct_trainable) r->trainable;
      m.init_seed = g->seed * 1000u + r->seed;
      m.public_data = r->pretrained ? d->public_set : NULL;
      m.pretrain_epochs = g->pretrain_epochs;
      dpacct_train_report *p = malloc (sizeof *p);
      if (p == NULL)
        return out_library_failure (DPACCT_ENOMEM, "a run of the validation");
      int lib = dpacct_train_mlp_run (d->private_set, d->test_set, &t, &m, p);
      if (!lib)
        keep_training (p, r);
      free (p);
      status = lib ? out_library_failure (lib, "a run of the validation") : 0;
    }
  if (!status)
    r->done = 1;
  return status;
}
