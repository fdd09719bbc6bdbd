/* plan.c - cumulative-noise planning: a row of predictors per batch size,
 * and the batch-size rule of Rehn, Zhao, Heikkila and Honkela (2025).
 *
 * Every row rests on the library's conservative calibration, so its sigma
 * never gives more than the target epsilon; the GDP columns are a
 * central-limit cross-check, not a bound. */
#include "dpacct/plan.h"
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_erf.h>

void
dpacct_plan_options_init (dpacct_plan_options *options)
{
  options->epsilon = NAN;
  options->delta = 1e-5;
  options->dataset_size = 0;
  options->epochs = NAN;
  options->accountant = dpacct_accountant_rdp;
  dpacct_accountant_options_init (&options->accountant_options);
  dpacct_calibration_options_init (&options->calibration);
  options->sampling = DPACCT_SAMPLING_POISSON;
  options->plateau_tolerance = DPACCT_PLAN_DEFAULT_PLATEAU_TOLERANCE;
  options->min_steps = DPACCT_PLAN_DEFAULT_MIN_STEPS;
  options->clip = 1.0;
  options->dimension = 0;
  options->spent = NULL;
}

/* The spent phases, then the planned one at noise SIGMA. */
typedef struct
{
  const dpacct_event *spent;
  double q;
  uint64_t steps;
  dpacct_sampling sampling;
} remaining_run;

static int
make_remaining (double sigma, void *context, dpacct_event **out)
{
  const remaining_run *r = context;
  dpacct_event *phase = NULL;
  int status = dpacct_dpsgd_event_alloc (sigma, r->q, r->steps, r->sampling,
                                         &phase);
  const dpacct_event *both[2] = { r->spent, phase };
  if (status == DPACCT_OK)
    status = dpacct_event_sequence_alloc (both, 2, out);
  dpacct_event_free (phase);
  return status;
}

static int
check_options (const dpacct_plan_options *o)
{
  if (o == NULL || o->accountant == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL options or accountant");
  if (!(o->epsilon > 0.0) || !isfinite (o->epsilon))
    return DPACCT_FAIL (DPACCT_EDOM, "epsilon must be positive and finite");
  if (!(o->delta > 0.0 && o->delta < 1.0))
    return DPACCT_FAIL (DPACCT_EDOM, "delta must be in (0, 1)");
  if (o->dataset_size < 1)
    return DPACCT_FAIL (DPACCT_EDOM, "dataset size must be at least 1");
  if (!(o->epochs > 0.0) || !isfinite (o->epochs))
    return DPACCT_FAIL (DPACCT_EDOM, "epochs must be positive and finite");
  if (!(o->plateau_tolerance >= 0.0) || !isfinite (o->plateau_tolerance))
    return DPACCT_FAIL (DPACCT_EDOM,
                        "plateau tolerance must be non-negative and finite");
  if (o->min_steps < 1)
    return DPACCT_FAIL (DPACCT_EDOM, "minimum steps must be at least 1");
  if (!(o->clip > 0.0) || !isfinite (o->clip))
    return DPACCT_FAIL (DPACCT_EDOM, "clip must be positive and finite");
  return DPACCT_OK;
}

/* ------------------------------------------------------------ GDP */

/* log Phi(x), the standard normal CDF, without underflow for x << 0. */
static int
log_normal_cdf (double x, double *out)
{
  gsl_sf_result r;
  if (gsl_sf_log_erfc_e (-x / M_SQRT2, &r) != GSL_SUCCESS)
    return DPACCT_FAIL (DPACCT_ENUMERIC, "log erfc failed");
  *out = r.val - M_LN2;
  return DPACCT_OK;
}

/* delta(epsilon) of mu-GDP (Dong, Roth, Su 2019, Corollary 2.13). */
static int
gdp_delta (double mu, double epsilon, double *delta)
{
  double la = NAN, lb = NAN;
  int status = log_normal_cdf (-epsilon / mu + mu / 2.0, &la);
  if (status == DPACCT_OK)
    status = log_normal_cdf (-epsilon / mu - mu / 2.0, &lb);
  if (status != DPACCT_OK)
    return status;
  *delta = exp (la) - exp (epsilon + lb);
  return DPACCT_OK;
}

int
dpacct_gdp_mu_for_epsilon (double epsilon, double delta, double *mu)
{
  if (mu == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL output pointer");
  *mu = NAN;
  if (!(epsilon > 0.0) || !isfinite (epsilon))
    return DPACCT_FAIL (DPACCT_EDOM, "epsilon must be positive and finite");
  if (!(delta > 0.0 && delta < 1.0))
    return DPACCT_FAIL (DPACCT_EDOM, "delta must be in (0, 1)");
  /* delta(mu) increases with mu: bracket by doubling, then bisect on
   * log(mu), which is plenty for a cross-check. */
  double lo = 1.0, hi = 1.0, d;
  int status = gdp_delta (hi, epsilon, &d);
  while (status == DPACCT_OK && d < delta && hi < 1e8)
    status = gdp_delta (hi *= 2.0, epsilon, &d);
  if (status == DPACCT_OK && d < delta)
    return DPACCT_FAIL (DPACCT_ERANGE, "no GDP mu below 1e8 reaches delta");
  lo = hi / 2.0;
  while (status == DPACCT_OK && lo > 1e-12
         && (status = gdp_delta (lo, epsilon, &d)) == DPACCT_OK && d >= delta)
    lo /= 2.0;
  for (int i = 0; status == DPACCT_OK && i < 200 && hi > lo * (1 + 1e-13); i++)
    {
      double mid = sqrt (lo * hi);
      status = gdp_delta (mid, epsilon, &d);
      if (d < delta)
        lo = mid;
      else
        hi = mid;
    }
  if (status != DPACCT_OK)
    return status;
  *mu = sqrt (lo * hi);
  return DPACCT_OK;
}

/* ------------------------------------------------------------ rows */

static void
clear_row (dpacct_plan_row *row, uint64_t batch_size)
{
  row->batch_size = batch_size;
  row->sampling_rate = row->noise_multiplier = row->epsilon_upper = NAN;
  row->steps = 0;
  row->cumulative_noise = row->per_step_noise = NAN;
  row->per_step_noise_norm = row->effective_noise = NAN;
  row->total_noise = row->gdp_mu = row->gdp_cumulative_noise = NAN;
  row->on_plateau = 0;
}

int
dpacct_plan_row_compute (const dpacct_plan_options *o, uint64_t batch_size,
                         dpacct_plan_row *row)
{
  if (row == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL row");
  clear_row (row, batch_size);
  int status = check_options (o);
  double q;
  uint64_t steps;
  dpacct_calibration c;
  if (status == DPACCT_OK)
    status = dpacct_dpsgd_steps (o->dataset_size, batch_size, o->epochs, &q,
                                 &steps);
  if (status == DPACCT_OK && o->spent == NULL)
    status = dpacct_noise_for_epsilon (o->accountant, &o->accountant_options,
                                       q, steps, o->sampling, o->epsilon,
                                       o->delta, &o->calibration, &c);
  else if (status == DPACCT_OK)
    {
      remaining_run run = { o->spent, q, steps, o->sampling };
      status = dpacct_calibrate_noise (o->accountant, &o->accountant_options,
                                       make_remaining, &run, o->epsilon,
                                       o->delta, &o->calibration, &c);
    }
  double mu_target = NAN;
  if (status == DPACCT_OK)
    status = dpacct_gdp_mu_for_epsilon (o->epsilon, o->delta, &mu_target);
  if (status != DPACCT_OK)
    return status;
  double sigma = c.noise, t = (double) steps, b = (double) batch_size;
  row->sampling_rate = q;
  row->steps = steps;
  row->noise_multiplier = sigma;
  row->epsilon_upper = c.epsilon_upper;
  row->cumulative_noise = sigma * sqrt (t);
  row->per_step_noise = sigma * o->clip / b;
  if (o->dimension > 0)
    row->per_step_noise_norm = row->per_step_noise * sqrt ((double) o->dimension);
  row->effective_noise = sigma / q;
  row->total_noise = sigma / (q * sqrt (t));
  /* The GDP cross-check is of a run alone: not after spent phases. */
  if (o->spent != NULL)
    return DPACCT_OK;
  row->gdp_mu = q * sqrt (t * expm1 (1.0 / (sigma * sigma)));
  row->gdp_cumulative_noise
    = sqrt (t / log1p (mu_target * mu_target / (q * q * t)));
  return DPACCT_OK;
}

/* ------------------------------------------------------------ the rule */

/* The largest B in [1, N] with E N / B >= T_min: T_min full batches.  Not
 * the largest B with ceil(E N / B) >= T_min steps, which may count a last
 * partial batch (E 1, N 10, T_min 3: B = 3 here, though B = 4 makes 3
 * steps, the third of 2 examples). */
static uint64_t
min_steps_batch (const dpacct_plan_options *o)
{
  long double b = floorl ((long double) o->epochs
                          * (long double) o->dataset_size
                          / (long double) o->min_steps);
  uint64_t batch = b < 1.0L ? 1
                   : b > (long double) o->dataset_size ? o->dataset_size
                                                       : (uint64_t) b;
  double q;
  uint64_t steps;
  /* The floor already gives T >= T_min; this guards the rounding. */
  while (batch > 1
         && dpacct_dpsgd_steps (o->dataset_size, batch, o->epochs, &q, &steps)
                == DPACCT_OK
         && steps < o->min_steps)
    batch--;
  return batch;
}

int
dpacct_plan_recommend (const dpacct_plan_options *o, dpacct_plan_row *rows,
                       size_t n, dpacct_plan_recommendation *out)
{
  if (out == NULL || rows == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL argument");
  memset (out, 0, sizeof *out);
  out->min_cumulative_noise = out->plateau_bound = NAN;
  int status = check_options (o);
  if (status != DPACCT_OK)
    return status;
  if (n == 0)
    return DPACCT_FAIL (DPACCT_EDOM, "no rows to choose from");
  size_t best = 0, per_step = 0, effective = 0;
  for (size_t i = 0; i < n; i++)
    {
      const dpacct_plan_row *r = &rows[i];
      if (!(r->cumulative_noise > 0.0) || !isfinite (r->cumulative_noise)
          || !(r->noise_multiplier > 0.0) || r->batch_size < 1)
        return DPACCT_FAIL (DPACCT_EDOM, "a row has no finite positive "
                            "cumulative noise or noise multiplier");
      if (r->cumulative_noise < rows[best].cumulative_noise)
        best = i;
      /* sigma / B and sigma / q, compared without C or N. */
      if (r->noise_multiplier / (double) r->batch_size
          < rows[per_step].noise_multiplier / (double) rows[per_step].batch_size)
        per_step = i;
      if (r->noise_multiplier / r->sampling_rate
          < rows[effective].noise_multiplier / rows[effective].sampling_rate)
        effective = i;
    }
  out->min_cumulative_noise = rows[best].cumulative_noise;
  out->min_batch_size = rows[best].batch_size;
  out->plateau_bound = (1.0 + o->plateau_tolerance) * out->min_cumulative_noise;
  out->per_step_choice = rows[per_step].batch_size;
  out->effective_noise_choice = rows[effective].batch_size;
  size_t chosen = n;
  for (size_t i = 0; i < n; i++)
    {
      rows[i].on_plateau = rows[i].cumulative_noise <= out->plateau_bound;
      if (rows[i].on_plateau && rows[i].steps >= o->min_steps
          && (chosen == n || rows[i].batch_size < rows[chosen].batch_size))
        chosen = i;
    }
  if (chosen < n)
    {
      out->reason = DPACCT_PLAN_PLATEAU;
      out->batch_size = rows[chosen].batch_size;
      out->row = chosen;
      return DPACCT_OK;
    }
  out->reason = DPACCT_PLAN_MIN_STEPS;
  out->batch_size = min_steps_batch (o);
  out->row = n;
  for (size_t i = 0; i < n; i++)
    if (rows[i].batch_size == out->batch_size)
      out->row = i;
  return DPACCT_OK;
}

/* ------------------------------------------------------------ the plan */

/* Puts ROWS[N - 1] in its place among the sorted ROWS[0 .. N - 2]. */
static void
insert_last (dpacct_plan_row *rows, size_t n)
{
  dpacct_plan_row last = rows[n - 1];
  size_t i = n - 1;
  for (; i > 0 && rows[i - 1].batch_size > last.batch_size; i--)
    rows[i] = rows[i - 1];
  rows[i] = last;
}

int
dpacct_plan_compute (const dpacct_plan_options *o,
                     const uint64_t *batch_sizes, size_t n_batch,
                     dpacct_plan_row *rows, size_t *n_rows,
                     dpacct_plan_recommendation *out)
{
  if (batch_sizes == NULL || rows == NULL || n_rows == NULL || out == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL argument");
  *n_rows = 0;
  int status = check_options (o);
  if (status != DPACCT_OK)
    return status;
  if (n_batch == 0)
    return DPACCT_FAIL (DPACCT_EDOM, "no batch sizes");
  for (size_t i = 0; i < n_batch; i++)
    if (batch_sizes[i] < 1 || batch_sizes[i] > o->dataset_size)
      return DPACCT_FAIL (DPACCT_EDOM,
                          "batch sizes must be in [1, dataset size]");
  size_t m = 0;
  for (size_t i = 0; i < n_batch; i++)
    {
      int duplicate = 0;
      for (size_t j = 0; j < m; j++)
        duplicate |= rows[j].batch_size == batch_sizes[i];
      if (duplicate)
        continue;
      status = dpacct_plan_row_compute (o, batch_sizes[i], &rows[m++]);
      if (status != DPACCT_OK)
        return status;
      insert_last (rows, m);
      *n_rows = m;
    }
  status = dpacct_plan_recommend (o, rows, m, out);
  if (status != DPACCT_OK || out->row < m)
    return status;
  /* The minimum-steps batch is not a candidate: add its row and decide
   * again over all of them, so that the plateau flags and the choice
   * agree with every row shown.  The second decision always finds its
   * batch among the rows. */
  status = dpacct_plan_row_compute (o, out->batch_size, &rows[m++]);
  if (status != DPACCT_OK)
    return status;
  insert_last (rows, m);
  *n_rows = m;
  return dpacct_plan_recommend (o, rows, m, out);
}

int
dpacct_plan_batch_grid (uint64_t first, uint64_t last, uint64_t *out,
                        size_t capacity, size_t *n)
{
  if (n == NULL || (out == NULL && capacity > 0))
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL argument");
  *n = 0;
  if (first < 1 || first > last)
    return DPACCT_FAIL (DPACCT_EDOM, "need 1 <= first <= last");
  size_t count = 0;
  for (uint64_t b = first;; b *= 2)
    {
      uint64_t value = b < last ? b : last;
      if (count == capacity)
        return DPACCT_FAIL (DPACCT_ERANGE, "the grid has more batch sizes "
                            "than there is room for");
      out[count++] = value;
      if (value == last || b > last / 2)
        {
          if (value != last)
            {
              if (count == capacity)
                return DPACCT_FAIL (DPACCT_ERANGE, "the grid has more batch "
                                    "sizes than there is room for");
              out[count++] = last;
            }
          break;
        }
    }
  *n = count;
  return DPACCT_OK;
}
