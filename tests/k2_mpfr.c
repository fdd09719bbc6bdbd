/* k2_mpfr.c - the shuffle pair's two-batch probability by quadrature in
 * MPFR (100 bits): P(g(x1) + g(x2) > 0) = E_x1 [P(g(x2) > -g(x1))], the
 * inner probability in closed form (a quadratic in u), the outer integral
 * by tanh-sinh quadrature on pieces split where the integrand is not
 * analytic: at u = 1 (the second root of the quadratic appears) and at
 * g(x1) = 1/4 (beyond it the inner probability is 1; a square-root kink,
 * which tanh-sinh handles at a piece's end), and around mu1 so that each
 * piece sees the Gaussian at its own scale.  Written afresh for the tests;
 * it shares nothing with lib/sampler_oracle.c. */
#include "k2_mpfr.h"

#include <math.h>
#include <mpfr.h>
#include <stdlib.h>

enum { PREC = 100, MAX_LEVEL = 9 };
#define T_MAX 4.0   /* tanh-sinh abscissae |t| <= 4: weights below 1e-36 */
#define ABS_TOL 1e-15

typedef struct
{
  mpfr_t s, c, mu1, mu2, norm; /* norm = 1 / (s sqrt(2 pi)) */
  mpfr_t u, g, r, a, b, v;     /* scratch */
} k2_state;

/* P(x2 beyond the root x = s^2 (log((1 + side r)/2) + c)), x2 ~ N(mu2,
 * s^2): above it for side +1 (the upper root), below it for side -1. */
static void
root_tail (k2_state *k, int side, mpfr_t out)
{
  if (side > 0)
    mpfr_add_ui (k->b, k->r, 1, MPFR_RNDN);
  else
    mpfr_ui_sub (k->b, 1, k->r, MPFR_RNDN);
  mpfr_div_2ui (k->b, k->b, 1, MPFR_RNDN);
  mpfr_log (k->b, k->b, MPFR_RNDN);
  mpfr_add (k->b, k->b, k->c, MPFR_RNDN);
  mpfr_mul (k->b, k->b, k->s, MPFR_RNDN);
  mpfr_mul (k->b, k->b, k->s, MPFR_RNDN);
  mpfr_sub (k->b, k->b, k->mu2, MPFR_RNDN);
  if (side < 0)
    mpfr_neg (k->b, k->b, MPFR_RNDN);
  mpfr_div (k->b, k->b, k->s, MPFR_RNDN);
  mpfr_div_d (k->b, k->b, M_SQRT2, MPFR_RNDN);
  mpfr_erfc (k->b, k->b, MPFR_RNDN);
  mpfr_div_2ui (out, k->b, 1, MPFR_RNDN);
}

/* inner(x) = P(g(x2) > -g(x)): with r = sqrt(1 - 4 g(x)), u2 above
 * (1 + r)/2 or (where g(x) > 0) below (1 - r)/2. */
static void
integrand (k2_state *k, const mpfr_t x, mpfr_t out)
{
  mpfr_div (k->v, x, k->s, MPFR_RNDN);
  mpfr_div (k->v, k->v, k->s, MPFR_RNDN);
  mpfr_sub (k->v, k->v, k->c, MPFR_RNDN);
  mpfr_exp (k->u, k->v, MPFR_RNDN);
  mpfr_sqr (k->g, k->u, MPFR_RNDN);
  mpfr_sub (k->g, k->g, k->u, MPFR_RNDN); /* g = u^2 - u */
  /* the density of x1 */
  mpfr_sub (k->a, x, k->mu1, MPFR_RNDN);
  mpfr_div (k->a, k->a, k->s, MPFR_RNDN);
  mpfr_sqr (k->a, k->a, MPFR_RNDN);
  mpfr_div_2ui (k->a, k->a, 1, MPFR_RNDN);
  mpfr_neg (k->a, k->a, MPFR_RNDN);
  mpfr_exp (k->a, k->a, MPFR_RNDN);
  mpfr_mul (k->a, k->a, k->norm, MPFR_RNDN);
  mpfr_mul_2ui (k->r, k->g, 2, MPFR_RNDN);
  mpfr_ui_sub (k->r, 1, k->r, MPFR_RNDN);
  if (mpfr_sgn (k->r) <= 0)
    {
      mpfr_set (out, k->a, MPFR_RNDN); /* g >= 1/4: inner is 1 */
      return;
    }
  mpfr_sqrt (k->r, k->r, MPFR_RNDN);
  root_tail (k, 1, out); /* upper root: x2 > s^2 (log((1 + r)/2) + c) */
  if (mpfr_sgn (k->g) > 0)
    {
      root_tail (k, -1, k->v); /* lower root: x2 < s^2 (log((1 - r)/2) + c) */
      mpfr_add (out, out, k->v, MPFR_RNDN);
    }
  mpfr_mul (out, out, k->a, MPFR_RNDN);
}

/* The tanh-sinh sum's terms at t = j h for j odd multiples (or, at level
 * 0, every integer): x = l + d or r - d with d = (r - l) / (1 + e^(2 v)),
 * v = (pi/2) sinh |t| (no cancellation near the ends), weight (r - l)/2
 * (pi/2) cosh t / cosh^2 v. */
static void
add_terms (k2_state *k, double lo, double hi, int level, mpfr_t sum)
{
  mpfr_t t, v, d, w, x, f, half_pi;
  mpfr_inits2 (PREC, t, v, d, w, x, f, half_pi, (mpfr_ptr) 0);
  mpfr_const_pi (half_pi, MPFR_RNDN);
  mpfr_div_2ui (half_pi, half_pi, 1, MPFR_RNDN);
  long n = (long) ldexp (T_MAX, level);
  for (long j = level == 0 ? 0 : 1; j <= n; j += level == 0 ? 1 : 2)
    {
      mpfr_set_si (t, j, MPFR_RNDN);
      mpfr_div_2si (t, t, level, MPFR_RNDN);
      mpfr_sinh (v, t, MPFR_RNDN);
      mpfr_mul (v, v, half_pi, MPFR_RNDN);
      /* d = (hi - lo) / (1 + e^(2v)) */
      mpfr_mul_2ui (d, v, 1, MPFR_RNDN);
      mpfr_exp (d, d, MPFR_RNDN);
      mpfr_add_ui (d, d, 1, MPFR_RNDN);
      mpfr_d_div (d, hi - lo, d, MPFR_RNDN);
      /* w = (hi - lo)/2 (pi/2) cosh t / cosh^2 v */
      mpfr_cosh (w, t, MPFR_RNDN);
      mpfr_mul (w, w, half_pi, MPFR_RNDN);
      mpfr_mul_d (w, w, 0.5 * (hi - lo), MPFR_RNDN);
      mpfr_cosh (f, v, MPFR_RNDN);
      mpfr_sqr (f, f, MPFR_RNDN);
      mpfr_div (w, w, f, MPFR_RNDN);
      for (int side = 0; side < (j == 0 ? 1 : 2); side++)
        {
          if (side == 0)
            mpfr_d_sub (x, hi, d, MPFR_RNDN); /* t > 0 (or t = 0: the middle) */
          else
            mpfr_add_d (x, d, lo, MPFR_RNDN);
          integrand (k, x, f);
          mpfr_mul (f, f, w, MPFR_RNDN);
          mpfr_add (sum, sum, f, MPFR_RNDN);
        }
    }
  mpfr_clears (t, v, d, w, x, f, half_pi, (mpfr_ptr) 0);
}

/* One piece: halve h until two levels agree to ABS_TOL; returns the
 * change of the last halving (or +Inf if they never agreed). */
static double
piece (k2_state *k, double lo, double hi, mpfr_t out)
{
  mpfr_t sum, prev, step;
  mpfr_inits2 (PREC, sum, prev, step, (mpfr_ptr) 0);
  mpfr_set_zero (sum, 1);
  double change = INFINITY;
  for (int level = 0; level <= MAX_LEVEL; level++)
    {
      add_terms (k, lo, hi, level, sum);
      mpfr_set_si_2exp (step, 1, -level, MPFR_RNDN);
      mpfr_mul (step, step, sum, MPFR_RNDN); /* the estimate at h = 2^-level */
      if (level > 0)
        {
          mpfr_sub (prev, step, prev, MPFR_RNDN);
          change = fabs (mpfr_get_d (prev, MPFR_RNDN));
        }
      mpfr_set (prev, step, MPFR_RNDN);
      if (level >= 3 && change <= ABS_TOL)
        break;
    }
  mpfr_set (out, prev, MPFR_RNDN);
  mpfr_clears (sum, prev, step, (mpfr_ptr) 0);
  return change;
}

static int
compare (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

double
k2_mpfr_probability (double s, double c, double mu1, double mu2,
                     double *error)
{
  k2_state k;
  mpfr_inits2 (PREC, k.s, k.c, k.mu1, k.mu2, k.norm, k.u, k.g, k.r, k.a,
               k.b, k.v, (mpfr_ptr) 0);
  mpfr_set_d (k.s, s, MPFR_RNDN);
  mpfr_set_d (k.c, c, MPFR_RNDN);
  mpfr_set_d (k.mu1, mu1, MPFR_RNDN);
  mpfr_set_d (k.mu2, mu2, MPFR_RNDN);
  mpfr_const_pi (k.norm, MPFR_RNDN);
  mpfr_mul_2ui (k.norm, k.norm, 1, MPFR_RNDN);
  mpfr_sqrt (k.norm, k.norm, MPFR_RNDN);
  mpfr_mul (k.norm, k.norm, k.s, MPFR_RNDN);
  mpfr_ui_div (k.norm, 1, k.norm, MPFR_RNDN);
  /* x1 beyond mu1 -+ 40 s carries under 1e-340 of mass: left out. */
  double lo = mu1 - 40.0 * s, hi = mu1 + 40.0 * s;
  double cuts[7] = { lo, hi, mu1 - 8.0 * s, mu1, mu1 + 8.0 * s,
                     s * s * c, s * s * (log (0.5 * (1.0 + M_SQRT2)) + c) };
  for (int i = 5; i < 7; i++)
    cuts[i] = fmin (fmax (cuts[i], lo), hi);
  qsort (cuts, 7, sizeof cuts[0], compare);
  mpfr_t total, part;
  mpfr_inits2 (PREC, total, part, (mpfr_ptr) 0);
  mpfr_set_zero (total, 1);
  *error = 0.0;
  for (int i = 0; i + 1 < 7; i++)
    if (cuts[i + 1] > cuts[i])
      {
        *error += piece (&k, cuts[i], cuts[i + 1], part);
        mpfr_add (total, total, part, MPFR_RNDN);
      }
  double p = isfinite (*error) ? mpfr_get_d (total, MPFR_RNDN) : NAN;
  mpfr_clears (total, part, k.s, k.c, k.mu1, k.mu2, k.norm, k.u, k.g, k.r,
               k.a, k.b, k.v, (mpfr_ptr) 0);
  return p;
}
