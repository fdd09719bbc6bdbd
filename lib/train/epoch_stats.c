/* epoch_stats.c - per-epoch diagnostics of the trainers (epoch_stats.h).
 * The norms of a record are kept and sorted when it closes: exact
 * quantiles for about N doubles of memory. */
#include "epoch_stats.h"
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const double dpacct_norm_quantile_levels[DPACCT_NORM_QUANTILES]
  = { 0.10, 0.25, 0.50, 0.75, 0.90 };

size_t
epoch_stats_records (double epochs, uint64_t steps)
{
  double r = ceil (epochs);
  if (!(r >= 1))
    r = 1;
  if (r > DPACCT_MAX_EPOCH_RECORDS)
    r = DPACCT_MAX_EPOCH_RECORDS;
  if (steps >= 1 && r > (double) steps)
    r = (double) steps;
  return (size_t) r;
}

int
epoch_stats_init (epoch_stats *s, dpacct_train_report *rep, double epochs,
                  uint64_t steps, double expected_per_step)
{
  memset (s, 0, sizeof *s);
  s->report = rep;
  s->steps = steps;
  s->records = epoch_stats_records (epochs, steps);
  rep->n_epoch_records = 0;
  rep->epochs_per_record = epochs / (double) s->records;
  double per_record = expected_per_step * (double) steps
                      / (double) s->records;
  s->capacity = per_record > 16 && per_record < 1e8
                  ? (size_t) (1.25 * per_record) : 16;
  s->norms = malloc (s->capacity * sizeof *s->norms);
  if (s->norms == NULL)
    return DPACCT_FAIL (DPACCT_ENOMEM, "out of memory for the diagnostics");
  return DPACCT_OK;
}

void
epoch_stats_free (epoch_stats *s)
{
  free (s->norms);
  s->norms = NULL;
}

int
epoch_stats_add (epoch_stats *s, double norm, unsigned y, double weight,
                 int clipped)
{
  if (s->n_norms == s->capacity)
    {
      size_t grown = 2 * s->capacity;
      double *more = realloc (s->norms, grown * sizeof *more);
      if (more == NULL)
        return DPACCT_FAIL (DPACCT_ENOMEM, "out of memory for the "
                                           "diagnostics");
      s->norms = more;
      s->capacity = grown;
    }
  s->norms[s->n_norms++] = norm;
  s->clipped += clipped != 0;
  s->seen[y]++;
  s->weight[y] += weight;
  return DPACCT_OK;
}

double
epoch_stats_quantile (const double *v, size_t n, double p)
{
  if (n == 0)
    return NAN;
  double h = p * (double) (n - 1);
  size_t lo = (size_t) floor (h);
  if (lo + 1 >= n)
    return v[n - 1];
  return v[lo] + (h - (double) lo) * (v[lo + 1] - v[lo]);
}

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static size_t
record_of (const epoch_stats *s, uint64_t t)
{
  /* floor(t R / T) without overflow for any realistic T: R <= 32. */
  return (size_t) ((t * (uint64_t) s->records) / s->steps);
}

void
epoch_stats_end_step (epoch_stats *s, uint64_t t)
{
  size_t e = record_of (s, t);
  if (t + 1 < s->steps && record_of (s, t + 1) == e)
    return;
  dpacct_epoch_record *r = &s->report->epoch[e];
  r->first_step = s->first_step;
  r->steps = t + 1 - s->first_step;
  r->sampled = s->n_norms;
  qsort (s->norms, s->n_norms, sizeof *s->norms, compare_doubles);
  for (size_t k = 0; k < DPACCT_NORM_QUANTILES; k++)
    r->norm_quantile[k]
      = epoch_stats_quantile (s->norms, s->n_norms,
                              dpacct_norm_quantile_levels[k]);
  r->clip_fraction = s->n_norms ? (double) s->clipped / (double) s->n_norms
                                : NAN;
  for (size_t c = 0; c < DPACCT_MAX_CLASSES; c++)
    r->class_weight[c] = s->seen[c] ? s->weight[c] / (double) s->seen[c]
                                    : NAN;
  s->report->n_epoch_records = e + 1;
  s->first_step = t + 1;
  s->n_norms = 0;
  s->clipped = 0;
  memset (s->seen, 0, sizeof s->seen);
  memset (s->weight, 0, sizeof s->weight);
}
