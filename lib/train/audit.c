/* audit.c - an empirical lower bound on the trainer's epsilon.
 *
 * A Dirac canary (value canary_scale on an input coordinate that no real
 * example uses) is trained with or without, many times.  The auditor sees
 * what DP-SGD releases, the noisy gradient sums, and sums over steps their
 * projection on the canary's clipped-gradient direction at the current
 * model: with the canary present and clipping honest each step shifts the
 * statistic by at most C, and the noise spreads it by sigma * C.  The runs of
 * a fifth of the pairs choose a threshold; the other pairs' false positive
 * and negative rates, bounded above by Clopper-Pearson, give
 *   eps_lb = max(ln((1 - delta - FPR_ub) / FNR_ub),
 *                ln((1 - delta - FNR_ub) / FPR_ub)),
 * which holds with the stated confidence for any (epsilon, delta)-DP
 * trainer.  A correct trainer must stay below its accountant's epsilon; the
 * broken variants, which exist only here, must not. */
#include "train_internal.h"
#include "mlp_internal.h"
#include "dpacct/calibrate.h"
#include "dpacct/event.h"
#include "dpacct/sampler.h"
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>

void
dpacct_audit_options_init (dpacct_audit_options *o)
{
  memset (o, 0, sizeof *o);
  o->variant = DPACCT_AUDIT_CORRECT;
  o->pairs = 50000;
  o->epsilon = 2.0;
  o->delta = 1e-5;
  o->accountant = NULL;
  o->dataset_size = 50;
  o->dim = 4;
  o->n_classes = 2;
  o->batch_size = 0;
  o->steps = 4;
  o->clip = 1.0;
  o->canary_scale = 100.0;
  o->learning_rate = 0.5;
  o->confidence = 0.95;
  o->seed = 1;
  o->model = DPACCT_MODEL_HEAD;
  o->hidden = 8;
}

/* A shuffled audit under zero-out: n + 1 slots (the canary's always in
 * the permutation), K = (n + 1) / B batches an epoch, steps / K epochs.
 * sigma from the proved upper bound; beside it the samplers' lower end at
 * sigma and the Poisson accountant's figure for the same q and steps. */
static int
shuffled_claims (const dpacct_audit_options *o, size_t n, size_t batch,
                 dpacct_train_options *t, double *q, uint64_t *steps,
                 double *sigma, double *eps_claimed, dpacct_audit_result *res)
{
  size_t slots = n + 1;
  if (batch < 1 || slots % batch != 0 || o->steps % (slots / batch) != 0)
    return DPACCT_FAIL (DPACCT_EDOM, "a shuffled audit needs dataset_size + 1 "
                                     "a multiple of batch_size, and whole "
                                     "epochs");
  uint64_t k = slots / batch, epochs = o->steps / k;
  t->shuffle = 1;
  t->epochs = (double) epochs;
  *q = (double) batch / (double) slots;
  *steps = o->steps;
  int status = dpacct_sampler_noise_for_epsilon (o->epsilon, o->delta, epochs,
                                                 sigma);
  if (status == DPACCT_OK)
    status = dpacct_gaussian_exact_epsilon (*sigma / sqrt ((double) epochs),
                                            o->delta, eps_claimed);
  dpacct_epoch_run run = { *sigma, k, epochs };
  dpacct_bound b;
  if (status == DPACCT_OK)
    status = dpacct_sampler_epsilon (DPACCT_SAMPLER_SHUFFLE, &run, o->delta,
                                     NULL, &b);
  if (status == DPACCT_OK)
    res->epsilon_shuffle_lower = b.lower;
  dpacct_event *e = NULL;
  dpacct_accountant *a = NULL;
  if (status == DPACCT_OK)
    status = dpacct_dpsgd_event_alloc (*sigma, *q, *steps,
                                       *q < 1.0 ? DPACCT_SAMPLING_POISSON
                                                : DPACCT_SAMPLING_NONE, &e);
  if (status == DPACCT_OK)
    status = dpacct_accountant_alloc (o->accountant ? o->accountant
                                                    : dpacct_accountant_rdp,
                                      NULL, &a);
  if (status == DPACCT_OK)
    status = dpacct_accountant_compose (a, e, 1);
  if (status == DPACCT_OK)
    status = dpacct_accountant_epsilon (a, o->delta, &b);
  if (status == DPACCT_OK)
    res->epsilon_poisson = b.upper;
  dpacct_accountant_free (a);
  dpacct_event_free (e);
  return status;
}

/* log I_x(a, b), the regularised incomplete beta function, for
 * 0 < x < (a + 1) / (a + b + 2), where its continued fraction (DLMF
 * 8.17.22) converges fast: I = x^a (1-x)^b / (a B(a, b)) / (1 + d1 / (1 +
 * d2 / (1 + ...))), d_{2m+1} = -(a+m)(a+b+m) x / ((a+2m)(a+2m+1)),
 * d_{2m} = m (b-m) x / ((a+2m-1)(a+2m)), evaluated by Lentz's method.
 * All in logs and plain libm: GSL's version calls its error handler on
 * underflow, which by default aborts the program. */
static double
log_beta_inc_lower (double a, double b, double x)
{
  const double tiny = 1e-300;
  double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
  d = 1.0 / (fabs (d) < tiny ? tiny : d);
  double f = d;
  for (int m = 1; m <= 100000; m++)
    {
      for (int odd = 0; odd < 2; odd++)
        {
          double coef = odd
            ? -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0))
            : m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
          d = 1.0 + coef * d;
          d = 1.0 / (fabs (d) < tiny ? tiny : d);
          c = 1.0 + coef / c;
          if (fabs (c) < tiny)
            c = tiny;
          f *= c * d;
          if (odd && fabs (c * d - 1.0) < 1e-15)
            m = 100000; /* converged */
        }
    }
  double log_beta = lgamma (a) + lgamma (b) - lgamma (a + b);
  return a * log (x) + b * log1p (-x) - log (a) - log_beta + log (f);
}

/* I_x(a, b), through the symmetry I_x(a, b) = 1 - I_{1-x}(b, a) where the
 * fraction converges slowly; underflows quietly to 0. */
static double
beta_inc (double a, double b, double x)
{
  if (x <= 0.0)
    return 0.0;
  if (x >= 1.0)
    return 1.0;
  if (x < (a + 1.0) / (a + b + 2.0))
    return exp (log_beta_inc_lower (a, b, x));
  return -expm1 (log_beta_inc_lower (b, a, 1.0 - x));
}

/* The x in [0, 1] with I_x(a, b) = P, by bisection (gsl_cdf_beta_Pinv can
 * fail to converge for the extreme tails an audit uses, and then calls
 * GSL's error handler). */
static int
beta_quantile (double p, double a, double b, double *x)
{
  double lo = 0.0, hi = 1.0;
  for (int i = 0; i < 200 && hi - lo > 1e-15 * hi; i++)
    {
      double mid = 0.5 * (lo + hi), value = beta_inc (a, b, mid);
      if (isnan (value))
        return DPACCT_FAIL (DPACCT_ENUMERIC, "incomplete beta failed");
      if (value < p)
        lo = mid;
      else
        hi = mid;
    }
  *x = 0.5 * (lo + hi);
  return DPACCT_OK;
}

int
dpacct_clopper_pearson (size_t k, size_t n, double confidence, double *lower,
                        double *upper)
{
  if (lower == NULL || upper == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL output pointer");
  *lower = *upper = NAN;
  if (n == 0 || k > n || !(confidence > 0 && confidence < 1))
    return DPACCT_FAIL (DPACCT_EDOM, "need 0 <= k <= n, n >= 1 and a "
                                     "confidence in (0, 1)");
  double tail = (1.0 - confidence) / 2.0;
  double kk = (double) k, nn = (double) n;
  double lo, hi;
  int status = DPACCT_OK;
  /* Lower end: the tail quantile of Beta(k, n - k + 1); upper end: the
   * 1 - tail quantile of Beta(k + 1, n - k).  At k = 0 and k = n they
   * have closed forms. */
  if (k == 0)
    lo = 0.0;
  else if (k == n)
    lo = pow (tail, 1.0 / nn);
  else
    status = beta_quantile (tail, kk, nn - kk + 1.0, &lo);
  if (k == n)
    hi = 1.0;
  else if (k == 0)
    hi = -expm1 (log (tail) / nn);
  else if (!status)
    status = beta_quantile (1.0 - tail, kk + 1.0, nn - kk, &hi);
  if (status)
    return status;
  *lower = lo;
  *upper = hi;
  return DPACCT_OK;
}

/* The bound from FP false positives among N "out" runs and FN false
 * negatives among N "in" runs. */
static double
epsilon_bound (size_t fp, size_t fn, size_t n, double confidence,
               double delta, double *fpr_ub, double *fnr_ub)
{
  double lo;
  if (dpacct_clopper_pearson (fp, n, confidence, &lo, fpr_ub)
      || dpacct_clopper_pearson (fn, n, confidence, &lo, fnr_ub))
    return NAN;
  double a = log ((1.0 - delta - *fpr_ub) / *fnr_ub);
  double b = log ((1.0 - delta - *fnr_ub) / *fpr_ub);
  double best = fmax (isnan (a) ? 0.0 : a, isnan (b) ? 0.0 : b);
  return best > 0 ? best : 0.0;
}

static void
mean_std (const double *v, size_t n, double *mean, double *std)
{
  double s = 0, ss = 0;
  for (size_t i = 0; i < n; i++)
    s += v[i];
  *mean = s / (double) n;
  for (size_t i = 0; i < n; i++)
    ss += (v[i] - *mean) * (v[i] - *mean);
  *std = sqrt (ss / (double) (n - 1));
}

/* The threshold for the evaluation runs ("in" when the statistic is above
 * it), chosen from the selection runs only: fit a Gaussian to each side
 * (the statistic is a sum of Gaussian noise and clipped canary
 * contributions) and take, on a grid, the threshold whose expected
 * Clopper-Pearson bound on N_EVAL runs is largest.  Fitting two moments
 * is far steadier than picking an empirical tail quantile. */
static double
choose_threshold (const double *in, const double *out, size_t h,
                  size_t n_eval, const dpacct_audit_options *o)
{
  double m_in, s_in, m_out, s_out;
  mean_std (in, h, &m_in, &s_in);
  mean_std (out, h, &m_out, &s_out);
  double lo = fmin (m_out, m_in) - 8 * fmax (s_in, s_out);
  double hi = fmax (m_out, m_in) + 8 * fmax (s_in, s_out);
  double best = -1, threshold = 0.5 * (m_in + m_out);
  for (int i = 0; i <= 400; i++)
    {
      double t = lo + (hi - lo) * i / 400.0;
      double fp = (double) n_eval * gsl_cdf_gaussian_Q (t - m_out, s_out);
      double fn = (double) n_eval * gsl_cdf_gaussian_P (t - m_in, s_in);
      double fu, nu;
      double e = epsilon_bound ((size_t) floor (fp + 0.5),
                                (size_t) floor (fn + 0.5), n_eval,
                                o->confidence, o->delta, &fu, &nu);
      if (e > best)
        {
          best = e;
          threshold = t;
        }
    }
  return threshold;
}

static int
check_audit_options (const dpacct_audit_options *o)
{
  if (o->pairs < 100 || o->pairs > 10000000)
    return DPACCT_FAIL (DPACCT_EDOM, "pairs must be in [100, 1e7]");
  if (!(o->epsilon > 0 && o->epsilon <= 100) || !(o->delta > 0 && o->delta < 1))
    return DPACCT_FAIL (DPACCT_EDOM, "need epsilon in (0, 100], delta in (0, 1)");
  if (o->dataset_size < 2 || o->dim < 1 || o->n_classes < 2
      || o->n_classes > DPACCT_MAX_CLASSES || o->batch_size > o->dataset_size
      || o->steps < 1 || o->steps > 100000)
    return DPACCT_FAIL (DPACCT_EDOM, "bad audit data or run size");
  if (!(o->clip > 0) || !(o->canary_scale > 0) || !(o->learning_rate > 0)
      || !(o->confidence > 0 && o->confidence < 1)
      || !isfinite (o->canary_scale))
    return DPACCT_FAIL (DPACCT_EDOM, "clip, canary scale and learning rate "
                                     "must be positive, confidence in (0, 1)");
  if (o->model != DPACCT_MODEL_HEAD && o->model != DPACCT_MODEL_MLP)
    return DPACCT_FAIL (DPACCT_EDOM, "unknown model");
  if (o->model == DPACCT_MODEL_MLP && (o->hidden < 1 || o->hidden > 4096))
    return DPACCT_FAIL (DPACCT_EDOM, "the MLP needs 1 to 4096 hidden units");
  if (o->model == DPACCT_MODEL_MLP && o->shuffle)
    return DPACCT_FAIL (DPACCT_EUNSUP, "the MLP draws Poisson batches only");
  return DPACCT_OK;
}

int
dpacct_audit_run (const dpacct_audit_options *o, dpacct_audit_result *res)
{
  if (o == NULL || res == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL pointer");
  memset (res, 0, sizeof *res);
  res->epsilon_lower = NAN;
  int status = check_audit_options (o);
  if (status)
    return status;
  size_t n = o->dataset_size, dim = o->dim + 1;
  size_t batch = o->batch_size ? o->batch_size : n;
  dpacct_dataset *data = NULL;
  float *canary = calloc (dim, sizeof *canary);
  double *in = malloc (o->pairs * sizeof *in);
  double *out = malloc (o->pairs * sizeof *out);
  if (canary == NULL || in == NULL || out == NULL)
    status = DPACCT_FAIL (DPACCT_ENOMEM, "out of memory");
  if (!status)
    status = dpacct_dataset_synthetic (n, dim, o->n_classes, 3.0, o->seed,
                                       &data);
  /* Empty the canary's coordinate in the real data. */
  for (size_t i = 0; !status && i < n; i++)
    data->x[i * dim + o->dim] = 0.0f;
  if (!status)
    canary[o->dim] = (float) o->canary_scale;

  dpacct_train_options t;
  dpacct_train_options_init (&t);
  t.epsilon = o->epsilon;
  t.delta = o->delta;
  t.accountant = o->accountant;
  t.batch_size = batch;
  /* Epochs that give exactly o->steps steps. */
  t.epochs = (double) o->steps * (double) batch / (double) n;
  t.clip = o->clip;
  t.learning_rate = o->learning_rate;
  t.momentum = 0.0;
  double q = NAN, sigma = NAN, eps_claimed = NAN;
  uint64_t steps = 0;
  res->epsilon_shuffle_lower = res->epsilon_poisson = NAN;
  if (!status && o->shuffle)
    status = shuffled_claims (o, n, batch, &t, &q, &steps, &sigma,
                              &eps_claimed, res);
  else if (!status)
    status = dpacct_dpsgd_steps (n, batch, t.epochs, &q, &steps);
  if (!status && !o->shuffle)
    {
      dpacct_accountant_options accounting;
      dpacct_calibration_options calibration;
      dpacct_calibration cal;
      dpacct_accountant_options_init (&accounting);
      dpacct_calibration_options_init (&calibration);
      status = dpacct_noise_for_epsilon (o->accountant ? o->accountant
                                                       : dpacct_accountant_rdp,
                                         &accounting, q, steps,
                                         DPACCT_SAMPLING_POISSON, o->epsilon,
                                         o->delta, &calibration, &cal);
      sigma = cal.noise;
      eps_claimed = cal.epsilon_upper;
    }
  t.noise_multiplier = sigma;

  train_hook hook;
  memset (&hook, 0, sizeof hook);
  hook.fault = o->variant == DPACCT_AUDIT_HALF_NOISE    ? TRAIN_HALF_NOISE
               : o->variant == DPACCT_AUDIT_NO_CLIPPING ? TRAIN_NO_CLIPPING
                                                        : TRAIN_CORRECT;
  hook.canary_x = canary;
  hook.canary_y = 0;
  hook.skip_evaluation = 1;
  mlp_run_options net_run;
  memset (&net_run, 0, sizeof net_run);
  net_run.hidden = o->hidden;
  net_run.tokens = 1;
  net_run.trainable = MLP_TRAIN_ALL;
  net_run.norm_method = MLP_NORM_MIXED;
  net_run.init_seed = o->seed;
  net_run.fault = hook.fault;
  net_run.canary_x = canary;
  net_run.canary_y = 0;
  net_run.skip_evaluation = 1;
  dpacct_train_report report;
  for (size_t j = 0; !status && j < o->pairs; j++)
    for (int with = 0; !status && with < 2; with++)
      {
        /* Distinct, recorded seeds for every run: derived from the
         * audit's seed, the pair and the side. */
        unsigned long base = o->seed * 4000037ul + 4 * j + 2 * (unsigned) with;
        t.sampling_seed = base + 1;
        t.noise_seed = base + 2;
        hook.canary_in = net_run.canary_in = with;
        if (o->model == DPACCT_MODEL_MLP)
          {
            status = mlp_train_run (data, NULL, &t, &net_run, &report);
            (with ? in : out)[j] = net_run.statistic;
          }
        else
          {
            status = train_run (data, NULL, &t, &hook, &report);
            (with ? in : out)[j] = hook.statistic;
          }
      }
  if (!status)
    {
      /* A fifth of the pairs choose the threshold, the rest test it. */
      size_t h = o->pairs / 5, m = o->pairs - h;
      double threshold = choose_threshold (in, out, h, m, o);
      size_t fp = 0, fn = 0;
      for (size_t j = h; j < o->pairs; j++)
        {
          fp += out[j] > threshold;
          fn += !(in[j] > threshold);
        }
      res->epsilon_lower = epsilon_bound (fp, fn, m, o->confidence, o->delta,
                                          &res->fpr_upper, &res->fnr_upper);
      res->threshold = threshold;
      res->n_evaluated = m;
      res->false_positives = fp;
      res->false_negatives = fn;
      if (isnan (res->epsilon_lower))
        status = DPACCT_FAIL (DPACCT_ENUMERIC, "Clopper-Pearson bound failed");
    }
  res->epsilon_claimed = eps_claimed;
  res->sigma = sigma;
  res->q = q;
  res->steps = steps;
  dpacct_dataset_free (data);
  free (canary);
  free (in);
  free (out);
  return status;
}
