/* lap2_moment.c - moments of Poisson-subsampled Laplace noise on
 * L2-clipped sums: one coordinate, the joint bound (the add direction's
 * exact worst case; the remove direction is checked to stay below it, not
 * proved), and the paper's coordinate-wise sum (see dpacct/lap2.h and
 * lap2_accountant.c).
 *
 * Every moment is log(1 + y), y = sum_{eta >= 2} w_eta (G_eta - 1), with
 * binomial weights w_eta and G_eta = F(t, eta)^n: the eta = 0 and 1 terms
 * are exactly 1 (they sum with the others' weights to 1), so writing
 * G - 1 keeps the digits of moments as small as 1e-20. */
#include "dpacct/event.h"
#include "dpacct/lap2.h"
#include "internal.h"
#include "lap2_internal.h"
#include "logmath.h"

#include <gsl/gsl_integration.h>
#include <math.h>
#include <stdlib.h>

/* log phi2(x), phi2(x) = (e^x - 1 - x) / x^2 > 0 for every real x. */
static double
log_phi2 (double x)
{
  if (fabs (x) < 0.5)
    {
      /* sum_k x^k / (k+2)!: 25 terms reach 0.5^25 / 27! ~ 1e-36. */
      double term = 0.5, sum = 0.5;
      for (int k = 1; k < 25; k++)
        {
          term *= x / (k + 2);
          sum += term;
        }
      return log (sum);
    }
  if (x > 40.0)
    return x + log1p (-(1.0 + x) * exp (-x)) - 2.0 * log (x);
  return log ((expm1 (x) - x) / (x * x));
}

/* With a = eta - 1, b = eta:
 *   F - 1 = [b (e^(at) - 1) + a (e^(-bt) - 1)] / (a + b)
 *         = a b t^2 [a phi2(a t) + b phi2(-b t)] / (a + b),
 * a sum of positive terms, so nothing cancels however small t is (the
 * first-order terms a b t and -a b t cancel exactly, on paper). */
double
dpacct_lap2_log_f_minus_one (double t, unsigned eta)
{
  double a = eta - 1.0, b = eta;
  double inner = dpacct_log_add (log (a) + log_phi2 (a * t),
                                 log (b) + log_phi2 (-b * t));
  return log (a) + log (b) - log (a + b) + 2.0 * log (t) + inner;
}

/* ---- the binomial mixture -------------------------------------------- */

/* log(G_eta - 1), G = F(t, .)^n, filled on demand: the paper's sums
 * rarely need eta beyond a few dozen. */
typedef struct
{
  double t, n;
  unsigned filled; /* lgm1[2..filled] are known */
  double *lgm1;
} g_table;

static void
g_table_reset (g_table *g, double t, double n)
{
  g->t = t;
  g->n = n;
  g->filled = 1;
}

/* log(F^n - 1) from lfm1 = log(F - 1), through the logarithms of log F
 * and n log F, so that F - 1 below 1e-308 (t near 1e-154) still gives a
 * finite, accurate result instead of log(0). */
static double
log_power_minus_one (double lfm1, double n)
{
  if (n == 1.0)
    return lfm1;
  double u = exp (lfm1); /* F - 1, possibly 0 by underflow */
  double log_log_f = lfm1 < -30.0 ? lfm1 + log1p (-0.5 * u)
                                  : log (dpacct_log1p_exp (lfm1));
  double log_x = log (n) + log_log_f; /* log(n log F) */
  if (log_x < -30.0)
    return log_x + 0.5 * exp (log_x); /* log(e^x - 1) = log x + x/2 + ... */
  return dpacct_log_expm1 (exp (log_x));
}

static double
g_table_get (g_table *g, unsigned eta)
{
  while (g->filled < eta)
    {
      unsigned e = ++g->filled;
      g->lgm1[e] = log_power_minus_one (
          dpacct_lap2_log_f_minus_one (g->t, e), g->n);
    }
  return g->lgm1[eta];
}

/* An upper bound on log G_eta that costs no exp: F(t, eta) <=
 * e^((eta-1) t) (pure t-DP), and log F(t, eta) <= eta (eta-1) t^2 / 2
 * (pure DP implies zCDP; Bun and Steinke 2016, Prop. 3.3).  G is
 * non-decreasing in eta, so this bounds every G_k, k <= eta. */
static double
g_table_log_g_bound (const g_table *g, unsigned eta)
{
  double e = eta;
  return g->n * fmin ((e - 1.0) * g->t, 0.5 * e * (e - 1.0) * g->t * g->t);
}

/* Sampling rate, log(k) for k = 0..max, and room for one order's terms. */
typedef struct
{
  double zeta, log_z, log_1mz, log_odds;
  const double *log_int;
  double *terms;
} mixture_ctx;

/* Terms below the largest by more than this are bounded, not summed:
 * each is at most e^-46 ~ 1e-20 of the sum. */
#define NEGLIGIBLE 46.0

/* log(1 + sum_{eta=2..L} w_eta (G_eta - 1)), w_eta = binom(L, eta)
 * zeta^eta (1-zeta)^(L-eta).  The weights follow by their ratio
 * (L-eta)/(eta+1) zeta/(1-zeta) (binomials of order 5000 overflow), which
 * falls with eta; G is non-decreasing in eta.  So:
 * - below the mode, once the weights are 15 standard deviations from it,
 *   the terms before eta0 sum to at most term(eta0) r/(1-r), r the ratio
 *   w_(eta0-1)/w_eta0 < 1 (only their weights are followed, which costs
 *   additions, not exponentials);
 * - past the mode, with r = w_(eta+2)/w_(eta+1) < 1, the terms beyond eta
 *   sum to at most G_L w_(eta+1) / (1 - r), and the sum stops once that is
 *   below 1e-20 of the largest term;
 * - terms below the largest by more than that are charged at the
 *   threshold rather than exponentiated.
 * Every cut is replaced by its bound, so the result is never below the
 * sum, and exceeds it by at most about 1e-19 relative. */
static double
mixture (g_table *g, unsigned L, const mixture_ctx *c)
{
  if (c->zeta == 0.0 || g->t == 0.0)
    return 0.0;
  if (c->zeta == 1.0)
    return dpacct_log1p_exp (g_table_get (g, L));
  double log_top = g_table_log_g_bound (g, L);
  double lw = c->log_int[L] + c->log_int[L - 1] - M_LN2 + 2.0 * c->log_z
              + (L - 2.0) * c->log_1mz;
  double sd = sqrt (L * c->zeta * (1.0 - c->zeta));
  double low = L * c->zeta - 15.0 * sd - 2.0;
  unsigned first = low > 3.0 ? (unsigned) low : 2;
  for (unsigned eta = 2; eta < first; eta++)
    lw += c->log_int[L - eta] - c->log_int[eta + 1] + c->log_odds;
  double m = -INFINITY, tail = -INFINITY, head = -INFINITY;
  unsigned last = L;
  for (unsigned eta = first; eta <= L; eta++)
    {
      double term = lw + g_table_get (g, eta);
      c->terms[eta] = term;
      m = fmax (m, term);
      if (eta == L)
        break;
      lw += c->log_int[L - eta] - c->log_int[eta + 1] + c->log_odds;
      if ((eta & 3) == 0 && lw + log_top < m - NEGLIGIBLE)
        {
          double r = (L - eta - 1.0) / (eta + 2.0) * c->zeta / (1.0 - c->zeta);
          if (r < 1.0 && lw + log_top - log1p (-r) < m - NEGLIGIBLE)
            {
              tail = lw + log_top - log1p (-r);
              last = eta;
              break;
            }
        }
    }
  if (first > 2)
    {
      double r = first / (L - first + 1.0) * (1.0 - c->zeta) / c->zeta;
      head = c->terms[first] + log (r) - log1p (-r);
    }
  double s = exp (tail - m) + exp (head - m);
  unsigned small = 0;
  for (unsigned eta = first; eta <= last; eta++)
    {
      double d = c->terms[eta] - m;
      if (d > -NEGLIGIBLE)
        s += exp (d);
      else
        small++;
    }
  s += small * exp (-NEGLIGIBLE);
  return dpacct_log1p_exp (m + log (s));
}

/* Scratch for curves up to order hi: log(k), k <= hi + 2, and a table. */
typedef struct
{
  mixture_ctx ctx;
  double *log_int, *terms;
  g_table g;
} curve_work;

static int
curve_work_init (curve_work *w, double zeta, unsigned hi)
{
  w->log_int = malloc ((hi + 3) * sizeof *w->log_int);
  w->g.lgm1 = malloc ((hi + 3) * sizeof *w->g.lgm1);
  w->terms = malloc ((hi + 3) * sizeof *w->terms);
  if (w->log_int == NULL || w->g.lgm1 == NULL || w->terms == NULL)
    {
      free (w->log_int);
      free (w->g.lgm1);
      free (w->terms);
      return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate Lap2 tables");
    }
  for (unsigned k = 0; k < hi + 3; k++)
    w->log_int[k] = log ((double) k);
  w->ctx.zeta = zeta;
  w->ctx.log_z = log (zeta);
  w->ctx.log_1mz = log1p (-zeta);
  w->ctx.log_odds = w->ctx.log_z - w->ctx.log_1mz;
  w->ctx.log_int = w->log_int;
  w->ctx.terms = w->terms;
  return DPACCT_OK;
}

static void
curve_work_release (curve_work *w)
{
  free (w->log_int);
  free (w->g.lgm1);
  free (w->terms);
}

/* acc[k] += weight * (moment at order lo + k) of G = F(t, .)^n. */
static void
add_moments (curve_work *w, double t, double n, double weight, unsigned lo,
             unsigned hi, double *acc)
{
  g_table_reset (&w->g, t, n);
  for (unsigned lambda = lo; lambda <= hi; lambda++)
    acc[lambda - lo] += weight * mixture (&w->g, lambda + 1, &w->ctx);
}

int
dpacct_lap2_joint_curve (double rho, uint64_t n, double zeta, unsigned lo,
                         unsigned hi, double *alpha)
{
  curve_work w;
  int status = curve_work_init (&w, zeta, hi);
  if (status != DPACCT_OK)
    return status;
  for (unsigned k = 0; k <= hi - lo; k++)
    alpha[k] = 0.0;
  add_moments (&w, rho / sqrt ((double) n), (double) n, 1.0, lo, hi, alpha);
  curve_work_release (&w);
  return DPACCT_OK;
}

/* ---- the paper's coordinate-wise sum ---------------------------------- */

/* The shift t = x / b of the continuous index x >= 1 of the majorization
 * set x_i = C / (sqrt(i) + sqrt(i-1)) (the form without cancellation). */
static double
paper_t (double rho, double x)
{
  return rho / (sqrt (x) + sqrt (x - 1.0));
}

/* Gauss-Legendre nodes per geometric block [a, 4a]: f(x) is smooth in
 * log x and behaves like 1/x far out, whose 16-point rule on such a block
 * errs by about 3^-32 ~ 5e-16 (the pole at 0 sits at u = -5/3 of the
 * block's [-1, 1]). */
enum { PAPER_GL_NODES = 16 };
#define PAPER_BLOCK_RATIO 4.0

/* sum_{i=H+1}^{n} f(i) by Euler-Maclaurin's midpoint form:
 *   integral of f over [H + 1/2, n + 1/2] - (f'(n + 1/2) - f'(H + 1/2)) / 24,
 * the next term being 7/5760 f''' ~ 7e-3 f(H) / H^3 (f ~ 1/x), some 4e-9
 * of a term near H = 128 and some 1e-12 of the sum. */
static int
paper_tail_estimate (curve_work *w, double rho, double n, unsigned lo,
                     unsigned hi, double *alpha)
{
  gsl_integration_glfixed_table *gl
    = gsl_integration_glfixed_table_alloc (PAPER_GL_NODES);
  if (gl == NULL)
    return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate quadrature nodes");
  double a = DPACCT_LAP2_PAPER_HEAD + 0.5, end = n + 0.5;
  while (a < end)
    {
      double b = fmin (PAPER_BLOCK_RATIO * a, end);
      for (size_t i = 0; i < PAPER_GL_NODES; i++)
        {
          double x, weight;
          gsl_integration_glfixed_point (a, b, i, &x, &weight, gl);
          add_moments (w, paper_t (rho, x), 1.0, weight, lo, hi, alpha);
        }
      a = b;
    }
  gsl_integration_glfixed_table_free (gl);
  /* The end corrections, each f' by a central difference of step x/1000. */
  double ends[2] = { DPACCT_LAP2_PAPER_HEAD + 0.5, end };
  for (int e = 0; e < 2; e++)
    {
      double x = ends[e], h = x * 1e-3;
      double sign = e == 0 ? 1.0 : -1.0;
      add_moments (w, paper_t (rho, x + h), 1.0, sign / (48.0 * h), lo, hi,
                   alpha);
      add_moments (w, paper_t (rho, x - h), 1.0, -sign / (48.0 * h), lo, hi,
                   alpha);
    }
  return DPACCT_OK;
}

/* sum_{i=H+1}^{n} f(i) <= sum over blocks [a, a + a/32) of (block length)
 * f(a), f being non-increasing in i; about 1.5 % above the tail. */
static void
paper_tail_upper (curve_work *w, double rho, uint64_t n, unsigned lo,
                  unsigned hi, double *alpha)
{
  uint64_t a = DPACCT_LAP2_PAPER_HEAD + 1;
  while (a <= n)
    {
      uint64_t len = a / 32 > 0 ? a / 32 : 1;
      uint64_t b = n - a + 1 < len ? n : a + len - 1;
      add_moments (w, paper_t (rho, (double) a), 1.0, (double) (b - a + 1),
                   lo, hi, alpha);
      a = b + 1;
    }
}

int
dpacct_lap2_paper_curve (double rho, uint64_t n, double zeta, int upper_tail,
                         unsigned lo, unsigned hi, double *alpha)
{
  curve_work w;
  int status = curve_work_init (&w, zeta, hi);
  if (status != DPACCT_OK)
    return status;
  for (unsigned k = 0; k <= hi - lo; k++)
    alpha[k] = 0.0;
  uint64_t head = n < DPACCT_LAP2_PAPER_HEAD ? n : DPACCT_LAP2_PAPER_HEAD;
  for (uint64_t i = 1; i <= head; i++)
    add_moments (&w, paper_t (rho, (double) i), 1.0, 1.0, lo, hi, alpha);
  if (n > DPACCT_LAP2_PAPER_HEAD)
    {
      if (upper_tail)
        {
          paper_tail_upper (&w, rho, n, lo, hi, alpha);
          /* Room for the round-off of about 1e3 additions. */
          for (unsigned k = 0; k <= hi - lo; k++)
            alpha[k] *= 1.0 + 1e-12;
        }
      else
        status = paper_tail_estimate (&w, rho, (double) n, lo, hi, alpha);
    }
  curve_work_release (&w);
  return status;
}

/* ---- public, one order at a time -------------------------------------- */

static int
check_common (unsigned lambda, double zeta, double *alpha)
{
  if (alpha == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL output pointer");
  *alpha = NAN;
  if (lambda < 1 || lambda > DPACCT_LAP2_MAX_ORDER)
    return DPACCT_FAIL (DPACCT_EDOM, "order lambda must be in [1, 10000]");
  if (!(zeta >= 0.0 && zeta <= 1.0))
    return DPACCT_FAIL (DPACCT_EDOM, "sampling rate must be in [0, 1]");
  return DPACCT_OK;
}

static int
check_rho_n (double rho, uint64_t n)
{
  if (!(rho >= 0.0) || !isfinite (rho))
    return DPACCT_FAIL (DPACCT_EDOM, "C/b must be finite and >= 0");
  if (n < 1 || n > DPACCT_MAX_DIMENSION)
    return DPACCT_FAIL (DPACCT_EDOM, "dimension must be in [1, 10^12]");
  return DPACCT_OK;
}

int
dpacct_lap2_log_f (double t, unsigned eta, double *log_f)
{
  if (log_f == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL output pointer");
  *log_f = NAN;
  if (!(t >= 0.0) || !isfinite (t))
    return DPACCT_FAIL (DPACCT_EDOM, "t must be finite and >= 0");
  if (eta > DPACCT_LAP2_MAX_ORDER + 1)
    return DPACCT_FAIL (DPACCT_EDOM, "eta must be in [0, 10001]");
  *log_f = (eta < 2 || t == 0.0)
               ? 0.0
               : dpacct_log1p_exp (dpacct_lap2_log_f_minus_one (t, eta));
  return DPACCT_OK;
}

int
dpacct_lap2_alpha1 (unsigned lambda, double t, double zeta, double *alpha)
{
  int status = check_common (lambda, zeta, alpha);
  if (status == DPACCT_OK)
    status = check_rho_n (t, 1);
  if (status == DPACCT_OK)
    status = dpacct_lap2_joint_curve (t, 1, zeta, lambda, lambda, alpha);
  return status;
}

int
dpacct_lap2_alpha_joint (unsigned lambda, double rho, uint64_t n,
                         double zeta, double *alpha)
{
  int status = check_common (lambda, zeta, alpha);
  if (status == DPACCT_OK)
    status = check_rho_n (rho, n);
  if (status == DPACCT_OK)
    status = dpacct_lap2_joint_curve (rho, n, zeta, lambda, lambda, alpha);
  return status;
}

int
dpacct_lap2_alpha_paper (unsigned lambda, double rho, uint64_t n,
                         double zeta, int upper_tail, double *alpha)
{
  int status = check_common (lambda, zeta, alpha);
  if (status == DPACCT_OK)
    status = check_rho_n (rho, n);
  if (status == DPACCT_OK)
    status = dpacct_lap2_paper_curve (rho, n, zeta, upper_tail, lambda,
                                      lambda, alpha);
  return status;
}
