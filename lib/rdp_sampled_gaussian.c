/* rdp_sampled_gaussian.c - RDP of the Poisson-subsampled Gaussian mechanism.
 *
 * A_alpha = E_{z ~ N(0, sigma^2)} [ (1 - q + q exp((2z - 1) / (2 sigma^2)))^alpha ]
 * (Mironov, Talwar and Zhang 2019).  Both methods below compute A_alpha - 1
 * as a sum or integral of positive terms, so that a tiny q (A_alpha - 1 of
 * order q^2) keeps all its digits. */
#include "dpacct/rdp.h"
#include "internal.h"
#include "logmath.h"
#include "rdp_internal.h"

#include <float.h>
#include <math.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_gamma.h>

/* Integer alpha: A - 1 = sum_{k=2..a} binom(a,k) (1-q)^{a-k} q^k
 * expm1((k^2 - k) / (2 sigma^2)); the k = 0, 1 terms vanish because the
 * binomial probabilities sum to one.  The parts that do not depend on the
 * order are tabulated once and shared by every integer order of a grid. */
typedef struct
{
  int max;
  double log_q, log_1mq;
  double log_fact[DPACCT_RDP_MAX_SUM_ORDER + 1];
  double log_expm1[DPACCT_RDP_MAX_SUM_ORDER + 1]; /* log expm1((k^2-k)/(2 s^2)) */
} sum_tables;

static int
fill_tables (double q, double sigma, int max, sum_tables *t)
{
  double inv_two_var = 1.0 / (2.0 * sigma * sigma);
  t->max = max;
  t->log_q = log (q);
  t->log_1mq = log1p (-q);
  for (int k = 0; k <= max; k++)
    {
      gsl_sf_result r;
      if (gsl_sf_lnfact_e ((unsigned) k, &r) != GSL_SUCCESS)
        return DPACCT_FAIL (DPACCT_ENUMERIC, "log factorial failed");
      t->log_fact[k] = r.val;
      t->log_expm1[k] = k < 2 ? -INFINITY
                        : dpacct_log_expm1 ((double) k * (k - 1) * inv_two_var);
    }
  return DPACCT_OK;
}

static double
log_a_minus_one_integer (const sum_tables *t, int alpha)
{
  double log_terms[DPACCT_RDP_MAX_SUM_ORDER + 1];
  double max_term = -INFINITY;
  for (int k = 2; k <= alpha; k++)
    {
      double log_t = t->log_fact[alpha] - t->log_fact[k]
                     - t->log_fact[alpha - k] + k * t->log_q
                     + (alpha - k) * t->log_1mq + t->log_expm1[k];
      log_terms[k] = log_t;
      max_term = fmax (max_term, log_t);
    }
  double sum = 0.0;
  for (int k = 2; k <= alpha; k++)
    sum += exp (log_terms[k] - max_term);
  return max_term + log (sum);
}

/* ---- quadrature for other orders ----------------------------------------
 * A - 1 = int phi_sigma(z) f(u(z)) dz with u = q expm1((2z - 1)/(2 sigma^2))
 * and f(u) = (1 + u)^a - 1 - a u >= 0 (E[u] = 0, so the linear term
 * integrates to zero).  f has a double zero at z = 1/2, which splits the
 * integrand into two unimodal pieces. */

typedef struct
{
  double q, sigma, alpha, shift; /* shift: log-scale subtracted */
  /* log q, log alpha, log sigma and sigma^2, computed once: the integrand
   * is evaluated hundreds of times per quadrature, and these are the very
   * values it computed at each evaluation before. */
  double log_q, log_alpha, log_sigma, s2;
} integrand_params;

/* f(u) for small |u| by its series sum_{k >= 2} binom(a,k) u^k: terms
 * shrink by a u / k at first and at least tenfold once k > a. */
static double
f_series (double u, double alpha)
{
  double term = alpha * (alpha - 1.0) / 2.0 * u * u, sum = term;
  for (int k = 3; k < 200; k++)
    {
      term *= (alpha - k + 1.0) / k * u;
      sum += term;
      if (fabs (term) <= 1e-17 * fabs (sum))
        break;
    }
  return sum;
}

/* log f(u) for small |u|, by f_series. */
static double
log_f_series (double u, double alpha)
{
  return log (f_series (u, alpha));
}

/* log f(u(z)), u = q expm1(w).  For w > 0, u can overflow, so it is
 * carried as log u there. */
static double
log_f (double w, const integrand_params *p)
{
  double alpha = p->alpha;
  if (w == 0.0)
    return -INFINITY;
  if (w < 0.0)
    {
      double u = p->q * expm1 (w); /* in (-q, 0) */
      if (fabs (alpha * u) <= 1.0 && fabs (u) <= 0.1)
        return log_f_series (u, alpha);
      return log (expm1 (alpha * log1p (u)) - alpha * u);
    }
  double log_u = p->log_q + dpacct_log_expm1 (w);
  if (log_u <= log (0.1) && p->log_alpha + log_u <= 0.0)
    return log_f_series (exp (log_u), alpha);
  /* f = (1 + u)^a - (1 + a u), both in log space. */
  double log_power = alpha * dpacct_log1p_exp (log_u);
  double log_linear = dpacct_log1p_exp (p->log_alpha + log_u);
  return log_power + log1p (-exp (log_linear - log_power));
}

static double
log_integrand (double z, const integrand_params *p)
{
  double s2 = p->s2;
  return -z * z / (2.0 * s2) - p->log_sigma - 0.5 * log (2.0 * M_PI)
         + log_f ((2.0 * z - 1.0) / (2.0 * s2), p);
}


/* exp(log_integrand - shift), the trapezoid's nodes: the same terms in
 * linear space, which saves the log of f and the logs of u and of the
 * power that the log form takes (a third of the special functions per
 * node).  Where u, a u or the Gaussian factor over e^shift could
 * overflow, the log form. */
static double
scaled_integrand (double z, void *params)
{
  const integrand_params *p = params;
  double w = (2.0 * z - 1.0) / (2.0 * p->s2);
  double log_gauss = -z * z / (2.0 * p->s2) - p->log_sigma
                     - 0.5 * log (2.0 * M_PI) - p->shift;
  if (w == 0.0)
    return 0.0;
  if (w > 700.0 - p->log_alpha || log_gauss > 700.0)
    return exp (log_integrand (z, p) - p->shift);
  double alpha = p->alpha, u = p->q * expm1 (w);
  if (fabs (u) <= 0.1 && fabs (alpha * u) <= 1.0)
    return f_series (u, alpha) * exp (log_gauss);
  if (w < 0.0)
    return (expm1 (alpha * log1p (u)) - alpha * u) * exp (log_gauss);
  /* (1 + u)^a - (1 + a u), each with the Gaussian factor. */
  return exp (alpha * log1p (u) + log_gauss)
         - (1.0 + alpha * u) * exp (log_gauss);
}

/* Where each piece's integrand ends: below e^-RANGE_DROP of its peak.
 * Truncating there loses under e^-RANGE_DROP times the piece's width over
 * its peak's, far below the quadrature's 1e-9 (the Gaussian factor makes
 * the tails fall at least as fast as the peak's own width). */
#define RANGE_DROP 50.0

/* The integrand is unimodal on each piece: golden-section search finds
 * its peak to within sigma / 2 (the Gaussian factor's width, so the value
 * found is within a few percent of the peak's: all the walk below needs),
 * and *peak receives its log value. */
static double
golden_peak (const integrand_params *p, double a, double b, double *peak)
{
  const double ratio = 0.6180339887498949;
  double c = b - ratio * (b - a), d = a + ratio * (b - a);
  double hc = log_integrand (c, p), hd = log_integrand (d, p);
  for (int i = 0; i < 200 && b - a > 0.5 * p->sigma; i++)
    {
      if (hc >= hd)
        {
          b = d, d = c, hd = hc;
          c = b - ratio * (b - a);
          hc = log_integrand (c, p);
        }
      else
        {
          a = c, c = d, hc = hd;
          d = a + ratio * (b - a);
          hd = log_integrand (d, p);
        }
    }
  *peak = fmax (hc, hd);
  return hc >= hd ? c : d;
}

/* Moves from `peak` towards `limit` in doubling steps until the integrand
 * falls below `floor`, then halves the last step three times, keeping
 * the end below `floor` (the doubling overshoots by up to the last step,
 * and every sigma of range costs four nodes of the trapezoid); returns
 * the end (at most `limit`). */
static double
walk_out (const integrand_params *p, double peak, double limit, double floor)
{
  double step = 0.25 * fmin (p->sigma, fabs (limit - peak));
  double z = peak, inside = peak;
  while (fabs (limit - z) > 0.0)
    {
      z = limit > peak ? fmin (z + step, limit) : fmax (z - step, limit);
      if (log_integrand (z, p) < floor)
        break;
      inside = z;
      step *= 2.0;
    }
  /* By unimodality the integrand stays below floor beyond any point
   * past the peak where it is below floor. */
  for (int i = 0; i < 3 && z != limit; i++)
    {
      double middle = 0.5 * (inside + z);
      if (log_integrand (middle, p) < floor)
        z = middle;
      else
        inside = middle;
    }
  return z;
}

/* The outer end of one unimodal piece [a, b] (its upper end when `up`)
 * where the integrand is within e^-RANGE_DROP of its peak, and the
 * peak's log value. */
static double
piece_end (const integrand_params *p, double a, double b, int up,
           double *peak)
{
  double z_peak = golden_peak (p, a, b, peak);
  return walk_out (p, z_peak, up ? b : a, *peak - RANGE_DROP);
}

/* The trapezoidal rule converges geometrically for an analytic integrand
 * that vanishes at both ends (the error roughly squares when h halves),
 * so two successive halvings that agree to 1e-9 leave an error far below
 * that.  Start at h = sigma / 2, the width of the Gaussian factor. */
static int
trapezoid (integrand_params *p, double lo, double hi, double noise,
           double *result)
{
  int n = (int) fmin (ceil ((hi - lo) / (0.5 * p->sigma)), 4096.0);
  n = n < 16 ? 16 : n;
  double h = (hi - lo) / n, sum = 0.0;
  for (int i = 0; i <= n; i++)
    sum += (i == 0 || i == n ? 0.5 : 1.0) * scaled_integrand (lo + i * h, p);
  double estimate = sum * h;
  for (int halving = 0; halving < 12; halving++)
    {
      for (int i = 0; i < n; i++)
        sum += scaled_integrand (lo + (i + 0.5) * h, p);
      n *= 2;
      h *= 0.5;
      double refined = sum * h;
      double change = fabs (refined - estimate);
      estimate = refined;
      if (change <= fmax (1e-9, 10.0 * noise) * refined)
        {
          *result = refined;
          return DPACCT_OK;
        }
    }
  return DPACCT_FAIL (DPACCT_ENUMERIC, "RDP quadrature did not converge");
}

int
dpacct_log_a_minus_one_quadrature (double q, double sigma, double alpha,
                                   double *out)
{
  integrand_params p = { q, sigma, alpha, 0.0, log (q), log (alpha),
                         log (sigma), sigma * sigma };
  /* Left of 1/2 the Gaussian factor confines the mass to 40 sigma; right
   * of it the integrand is at most a Gaussian centred at alpha.  The two
   * pieces are located separately and integrated as one range. */
  double peak_left, peak_right;
  double lo = piece_end (&p, 0.5 - 40.0 * sigma, 0.5, 0, &peak_left);
  double hi = piece_end (&p, 0.5, fmax (alpha, 0.5) + 40.0 * sigma, 1,
                         &peak_right);
  p.shift = fmax (peak_left, peak_right);
  if (!isfinite (p.shift))
    return DPACCT_FAIL (DPACCT_ENUMERIC, "RDP integrand has no finite peak");
  /* exp(h - shift) inherits the rounding of h's largest terms; so does
   * log A, so that this noise costs no relative accuracy in the result. */
  double z_far = fmax (fabs (lo), fabs (hi));
  double magnitude = z_far * z_far / (2.0 * sigma * sigma) + fabs (p.shift);
  double noise = fmax (1e-14, 4.0 * DBL_EPSILON * magnitude);
  double value = NAN;
  int status = trapezoid (&p, lo, hi, noise, &value);
  if (status != DPACCT_OK)
    return status;
  if (!(value > 0.0))
    return DPACCT_FAIL (DPACCT_ENUMERIC, "RDP quadrature lost the integral");
  *out = p.shift + log (value);
  return DPACCT_OK;
}

static int
check_arguments (double q, double sigma, double alpha)
{
  if (!(q >= 0.0 && q <= 1.0))
    return DPACCT_FAIL (DPACCT_EDOM, "sampling rate must be in [0, 1]");
  if (!(sigma > 0.0) || !isfinite (sigma))
    return DPACCT_FAIL (DPACCT_EDOM, "sigma must be positive and finite");
  if (!(alpha > 1.0) || !isfinite (alpha))
    return DPACCT_FAIL (DPACCT_EDOM, "RDP order must be finite and > 1");
  return DPACCT_OK;
}

static int
is_summed (double alpha)
{
  return alpha == floor (alpha) && alpha <= DPACCT_RDP_MAX_SUM_ORDER;
}

/* log A at one order; `tables` serves the summed orders (may be NULL when
 * there are none). */
static int
log_a_at (double q, double sigma, double alpha, const sum_tables *tables,
          double *log_a)
{
  if (q == 0.0)
    {
      *log_a = 0.0;
      return DPACCT_OK;
    }
  if (q == 1.0)
    {
      /* Plain Gaussian: A = exp(a (a - 1) / (2 sigma^2)). */
      *log_a = alpha * (alpha - 1.0) / (2.0 * sigma * sigma);
      return DPACCT_OK;
    }
  double log_am1;
  if (is_summed (alpha))
    log_am1 = log_a_minus_one_integer (tables, (int) alpha);
  else
    {
      int status = dpacct_log_a_minus_one_quadrature (q, sigma, alpha, &log_am1);
      if (status != DPACCT_OK)
        return status;
    }
  if (isnan (log_am1))
    return DPACCT_FAIL (DPACCT_ENUMERIC, "NaN in log A_alpha");
  *log_a = dpacct_log1p_exp (log_am1);
  return DPACCT_OK;
}

int
dpacct_rdp_sampled_gaussian_log_a (double q, double sigma, double alpha,
                                   double *log_a)
{
  *log_a = NAN;
  int status = check_arguments (q, sigma, alpha);
  if (status != DPACCT_OK)
    return status;
  sum_tables tables;
  if (q > 0.0 && q < 1.0 && is_summed (alpha))
    if ((status = fill_tables (q, sigma, (int) alpha, &tables)) != DPACCT_OK)
      return status;
  return log_a_at (q, sigma, alpha, &tables, log_a);
}

int
dpacct_rdp_sampled_gaussian (double q, double sigma, double alpha,
                             double *rdp)
{
  double log_a;
  int status = dpacct_rdp_sampled_gaussian_log_a (q, sigma, alpha, &log_a);
  *rdp = status == DPACCT_OK ? log_a / (alpha - 1.0) : NAN;
  return status;
}

int
dpacct_rdp_sampled_gaussian_batch (double q, double sigma,
                                   const double *orders, size_t n,
                                   const unsigned char *skip, double *rdp)
{
  int max = 0, status = DPACCT_OK;
  for (size_t i = 0; i < n; i++)
    {
      rdp[i] = NAN;
      if (skip != NULL && skip[i])
        continue;
      if ((status = check_arguments (q, sigma, orders[i])) != DPACCT_OK)
        return status;
      if (is_summed (orders[i]) && orders[i] > max)
        max = (int) orders[i];
    }
  sum_tables tables;
  if (q > 0.0 && q < 1.0 && max >= 2)
    if ((status = fill_tables (q, sigma, max, &tables)) != DPACCT_OK)
      return status;
  for (size_t i = 0; i < n; i++)
    {
      if (skip != NULL && skip[i])
        continue;
      double log_a;
      if ((status = log_a_at (q, sigma, orders[i], &tables, &log_a)) != DPACCT_OK)
        return status;
      rdp[i] = log_a / (orders[i] - 1.0);
    }
  return DPACCT_OK;
}
