/* sampler_oracle.c - the exact one-epoch pairs of shuffling and of
 * balls-and-bins, bracketed.
 *
 * Under either pair, "privacy loss > eps" is "sum_t g(x_t) > 0" for K
 * independent normal coordinates x_t and an increasing (linear) or
 * convex (quadratic) function g of u = exp(x / s^2 - c), whose CDF is in
 * closed form.  Every term rounded down onto a grid of step eta gives a
 * sum below the true one, rounded up one above it; the rounded sums are
 * lattice variables, composed exactly by FFT (whose round-off is bounded
 * and widens the bracket).  Cost: about K^2 / eta points. */
#include "sampler_internal.h"
#include "internal.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

/* The term's smallest value: u^2 - u >= -1/4, u - 1/K > -1/K. */
static double
term_min (const sum_spec *s)
{
  return s->kind == SUM_QUADRATIC ? -0.25 : -1.0 / (double) s->k;
}

/* {x : g(x) < y} = (x_lo, x_hi); empty when x_lo >= x_hi. */
static void
term_below (const sum_spec *s, double y, double *x_lo, double *x_hi)
{
  double s2 = s->sigma * s->sigma;
  *x_lo = -INFINITY;
  *x_hi = -INFINITY;
  if (s->kind == SUM_LINEAR)
    {
      double u = y + 1.0 / (double) s->k;
      if (u > 0.0)
        *x_hi = s2 * (log (u) + s->c);
      return;
    }
  double d = 1.0 + 4.0 * y;
  if (!(d > 0.0))
    return;
  double r = sqrt (d);
  double u_hi = 0.5 * (1.0 + r);
  /* The smaller root, (1 - r)/2 = -y / u_hi without cancellation. */
  double u_lo = -y / u_hi;
  *x_hi = s2 * (log (u_hi) + s->c);
  if (u_lo > 0.0)
    *x_lo = s2 * (log (u_lo) + s->c);
}

/* P(y1 <= g(x) < y2) for x ~ N(mu, s^2): the x-set {g < y2} less
 * {g < y1}, two bands. */
static double
term_mass (const sum_spec *s, double mu, double y1, double y2)
{
  double a_lo, a_hi, b_lo, b_hi;
  term_below (s, y1, &a_lo, &a_hi);
  term_below (s, y2, &b_lo, &b_hi);
  double sg = s->sigma;
  if (!(a_hi > a_lo)) /* {g < y1} empty */
    return dpacct_normal_interval ((b_lo - mu) / sg, (b_hi - mu) / sg);
  return dpacct_normal_interval ((a_hi - mu) / sg, (b_hi - mu) / sg)
         + dpacct_normal_interval ((b_lo - mu) / sg, (a_lo - mu) / sg);
}

/* P(g(x) >= y). */
static double
term_above (const sum_spec *s, double mu, double y)
{
  double lo, hi;
  term_below (s, y, &lo, &hi);
  if (!(hi > lo))
    return 1.0;
  return dpacct_normal_interval (-INFINITY, (lo - mu) / s->sigma)
         + dpacct_normal_interval ((hi - mu) / s->sigma, INFINITY);
}

/* One term rounded down onto the grid: mass at i eta is P(i eta <= g <
 * (i+1) eta), from i = first up to the cap; g >= cap goes to +Inf (a term
 * that large makes the sum exceed the threshold whatever the others
 * are). */
static int
term_step (const sum_spec *s, double mu, double eta, long first, long cap,
           pld_step *out)
{
  size_t n = (size_t) (cap - first);
  out->mass = malloc (n * sizeof *out->mass);
  if (out->mass == NULL)
    return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate a bracket term");
  for (size_t i = 0; i < n; i++)
    {
      double y = (double) (first + (long) i) * eta;
      out->mass[i] = term_mass (s, mu, y, y + eta);
    }
  out->h = eta;
  out->first = first;
  out->n = n;
  out->infinity = term_above (s, mu, (double) cap * eta);
  return DPACCT_OK;
}

/* P(S > j eta) of the composed rounded-down sum S, with the bound on its
 * error: the finite masses above, the mass at +Inf. */
static void
tail_at (const pld_composed *c, long j, double *value, double *err)
{
  double scale = exp (c->log_scale);
  /* The composition is untilted here, so a tail sum of n masses is off by
   * at most the round-off's l2 norm times sqrt(n) (Cauchy-Schwarz), plus
   * the mass that wrapped around the window. */
  *err = (c->roundoff * sqrt ((double) c->n) + c->wrapped) * scale;
  long i = j - c->first;
  if (i < 0)
    *value = (c->above[0] + fmax (c->mass[0], 0.0)) * scale + c->infinity;
  else if (i >= (long) c->n)
    *value = c->infinity;
  else
    *value = c->above[i] * scale + c->infinity;
}

int
dpacct_sum_bracket (const sum_spec *s, double eta, size_t max_points,
                    sum_bracket *out)
{
  return dpacct_sum_bracket_at (s, 0.0, eta, max_points, out);
}

int
dpacct_sum_bracket_at (const sum_spec *s, double tau, double eta,
                       size_t max_points, sum_bracket *out)
{
  out->above_lo = out->below_lo = 0.0;
  out->above_hi = out->below_hi = 1.0;
  if (!(s->sigma > 0.0) || s->k < 1 || !(eta > 0.0) || !isfinite (s->c)
      || !(tau >= 0.0) || !isfinite (tau))
    return DPACCT_FAIL (DPACCT_EDOM, "bad bracket");
  double kk = (double) s->k, lowest = term_min (s);
  long first = (long) floor (lowest / eta);
  /* Above tau + (K - 1) |lowest| one term outweighs all the others. */
  long cap = (long) ceil ((tau + (kk - 1.0) * -lowest) / eta) + 1;
  pld_step target = { 0 }, other = { 0 };
  int status = term_step (s, s->mu_target, eta, first, cap, &target);
  if (status == DPACCT_OK && s->k > 1)
    status = term_step (s, s->mu_other, eta, first, cap, &other);
  if (status != DPACCT_OK)
    {
      dpacct_pld_step_release (&target);
      return status;
    }
  pld_factor f[2] = { { &target, 1 }, { &other, s->k - 1 } };
  pld_composed c;
  status = dpacct_pld_compose (f, s->k > 1 ? 2 : 1, 0.0, max_points, NULL, &c);
  if (status == DPACCT_OK)
    {
      /* Each term's masses carry a few roundings of erfc (relative 1e-15);
       * summed over the grid and the terms, at most this much. */
      double round = 8.0 * DBL_EPSILON * kk * (double) target.n;
      long shift = (long) s->k; /* the rounded-up sum is S + K eta */
      /* S lives on the lattice j eta: S > tau iff S > j0 eta, and S >=
       * tau iff S > j1 eta (j1 = j0 - 1 when tau is a lattice point). */
      long j0 = (long) floor (tau / eta);
      long j1 = (double) j0 * eta == tau ? j0 - 1 : j0;
      double a0, a1, a2, a3, e;
      tail_at (&c, j0, &a0, &e);             /* P(S > tau) */
      tail_at (&c, j0 - shift, &a1, &e);     /* P(S + K eta > tau) */
      tail_at (&c, j1, &a2, &e);             /* P(S >= tau) */
      tail_at (&c, j1 - shift, &a3, &e);     /* P(S + K eta >= tau) */
      e += round;
      out->above_lo = fmax (a0 - e, 0.0);
      out->above_hi = fmin (a1 + e, 1.0);
      out->below_lo = fmax (1.0 - a3 - e, 0.0);
      out->below_hi = fmin (1.0 - a2 + e, 1.0);
      dpacct_pld_composed_release (&c);
    }
  dpacct_pld_step_release (&target);
  dpacct_pld_step_release (&other);
  return status;
}

int
dpacct_shuffle_oracle_delta (double sigma, uint64_t k, double eps,
                             double eta, size_t max_points, double *lo,
                             double *hi)
{
  *lo = 0.0, *hi = 1.0;
  double s2 = sigma * sigma;
  sum_spec s = { SUM_QUADRATIC, sigma, eps + 1.5 / s2, 2.0, 0.0, k };
  sum_bracket p, q;
  int status = dpacct_sum_bracket (&s, eta, max_points, &p);
  s.mu_target = 1.0;
  if (status == DPACCT_OK)
    status = dpacct_sum_bracket (&s, eta, max_points, &q);
  if (status != DPACCT_OK)
    return status;
  double w = exp (eps);
  *lo = fmax (p.above_lo - w * q.above_hi, 0.0);
  *hi = fmin (fmax (p.above_hi - w * q.above_lo, 0.0), 1.0);
  return DPACCT_OK;
}

/* The mixture: with x_t the batch sums and a_t = e^{(x_t - 1/2)/s^2},
 * the densities against N(0, s^2 I) are (1 - w) + (w/K) sum a_t^2
 * e^{-1/s^2} (P) and (1 - w) + (w/K) sum a_t (Q), so with u_t = a_t
 * e^{-eps - 1/s^2} (the u of the full pair) "loss > eps" is
 *   sum_t (u_t^2 - u_t) > tau = (e^eps - 1)(1 - w) K e^{-2 eps - 1/s^2} / w,
 * and delta = w (P1 - e^eps Q1) - (e^eps - 1)(1 - w) P0, with P1, Q1, P0
 * the probabilities of that event with the target's coordinate at mean
 * 2, 1 and 0 (left out: the same under both sides). */
int
dpacct_shuffle_oracle_delta_mix (double sigma, uint64_t k, double keep,
                                 double eps, double eta, size_t max_points,
                                 double *lo, double *hi)
{
  *lo = 0.0, *hi = 1.0;
  if (!(keep > 0.0) || !(keep <= 1.0))
    return DPACCT_FAIL (DPACCT_EDOM, "keep must be in (0, 1]");
  if (keep == 1.0)
    return dpacct_shuffle_oracle_delta (sigma, k, eps, eta, max_points, lo,
                                        hi);
  double s2 = sigma * sigma, w = exp (eps);
  double tau = expm1 (eps) * (1.0 - keep) * (double) k
               * exp (-2.0 * eps - 1.0 / s2) / keep;
  sum_spec s = { SUM_QUADRATIC, sigma, eps + 1.5 / s2, 2.0, 0.0, k };
  sum_bracket p1, q1, p0;
  int status = dpacct_sum_bracket_at (&s, tau, eta, max_points, &p1);
  s.mu_target = 1.0;
  if (status == DPACCT_OK)
    status = dpacct_sum_bracket_at (&s, tau, eta, max_points, &q1);
  s.mu_target = 0.0;
  if (status == DPACCT_OK)
    status = dpacct_sum_bracket_at (&s, tau, eta, max_points, &p0);
  if (status != DPACCT_OK)
    return status;
  double lost = expm1 (eps) * (1.0 - keep);
  *lo = fmax (keep * (p1.above_lo - w * q1.above_hi) - lost * p0.above_hi,
              0.0);
  *hi = fmin (fmax (keep * (p1.above_hi - w * q1.above_lo)
                    - lost * p0.above_lo, 0.0), 1.0);
  return DPACCT_OK;
}

int
dpacct_balls_oracle_delta (double sigma, uint64_t k, double eps, double eta,
                           size_t max_points, double *lo, double *hi)
{
  *lo = 0.0, *hi = 1.0;
  double s2 = sigma * sigma, w = exp (eps), lk = log ((double) k);
  sum_bracket p, q;
  /* remove: P = mixture, Q = N(0); loss > eps iff
   * sum exp(x_t / s^2) > K e^{eps + 1/(2 s^2)}. */
  sum_spec s = { SUM_LINEAR, sigma, eps + 0.5 / s2 + lk, 1.0, 0.0, k };
  int status = dpacct_sum_bracket (&s, eta, max_points, &p);
  s.mu_target = 0.0;
  if (status == DPACCT_OK)
    status = dpacct_sum_bracket (&s, eta, max_points, &q);
  if (status != DPACCT_OK)
    return status;
  double rem_lo = p.above_lo - w * q.above_hi;
  double rem_hi = p.above_hi - w * q.above_lo;
  /* add: P = N(0), Q = mixture; loss > eps iff
   * sum exp(x_t / s^2) < K e^{-eps + 1/(2 s^2)}. */
  s.c = -eps + 0.5 / s2 + lk;
  s.mu_target = 0.0;
  status = dpacct_sum_bracket (&s, eta, max_points, &p);
  s.mu_target = 1.0;
  if (status == DPACCT_OK)
    status = dpacct_sum_bracket (&s, eta, max_points, &q);
  if (status != DPACCT_OK)
    return status;
  double add_lo = p.below_lo - w * q.below_hi;
  double add_hi = p.below_hi - w * q.below_lo;
  *lo = fmax (fmax (rem_lo, add_lo), 0.0);
  *hi = fmin (fmax (fmax (rem_hi, add_hi), 0.0), 1.0);
  return DPACCT_OK;
}
