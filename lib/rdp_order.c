/* rdp_order.c - the order at which an RDP curve converts to the smallest
 * epsilon (for a delta) or delta (for an epsilon).
 *
 * First the grid: every order whose value is cheap, then the quadrature
 * orders that flank the best cheap one.  Then, on a continuous grid,
 * Brent's method (GSL) over real orders, bracketed by the grid's best
 * order and its two neighbours; when the best is the grid's first or last
 * order, the bracket is first widened outwards (towards order 1 for large
 * epsilon, to large orders for tiny epsilon).  Every order gives a valid
 * bound, so the search needs no global optimum to be safe, and it only
 * ever replaces the grid's bound by a smaller one computed at the order
 * it reports. */
#include "rdp_curve.h"
#include "internal.h"
#include "rdp_internal.h"
#include "rdp_mpfr.h"

#include <math.h>
#include <stdlib.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_min.h>

/* The continuous search stops when the bracket is this narrow relative to
 * the order: the bound is flat at its minimum, so what remains is of the
 * order of this squared (about 1e-12 relative). */
#define ORDER_REL_TOL 1e-6
#define MAX_BRENT_ITERATIONS 100
/* DPACCT_RDP_MIN_SEARCH_ORDER: below it the quadrature of the subsampled
 * Gaussian loses digits (it subtracts quantities that agree to about
 * log10(1 / (alpha - 1)) digits), and epsilon would be in the thousands
 * there anyway.  DPACCT_RDP_MAX_SEARCH_ORDER: the largest order a list may
 * hold. */

/* ---- the grid ------------------------------------------------------------ */

/* The bound at one order of the grid; certified ones proved in MPFR. */
static double
bound_at (const dpacct_rdp_grid *g, dpacct_rdp_target target, double a,
          double rdp, double given)
{
  if (target == DPACCT_RDP_FOR_EPSILON)
    return g->certified ? dpacct_mpfr_epsilon_upper (a, rdp, given)
                        : dpacct_rdp_epsilon_at_order (a, rdp, given);
  return g->certified ? dpacct_mpfr_delta_upper (a, rdp, given)
                      : dpacct_rdp_delta_at_order (a, rdp, given);
}

static int
has_deferred_terms (const dpacct_rdp_curve *c)
{
  for (size_t t = 0; t < c->n_terms; t++)
    if (c->terms[t].kind == DPACCT_RDP_TERM_SAMPLED_GAUSSIAN)
      return 1;
  return 0;
}

/* Whether the bound v, at an order beyond every one evaluated so far,
 * shows that the bound only grows from there on (see grid_minimum): v
 * exceeds the best so far by far more than the error of either (relative
 * 1e-6; the quadrature converges to 1e-9, the binomial sums and the
 * conversion are accurate to about 1e-13).  Within that margin the
 * search just goes on. */
static int
risen (double v, double best)
{
  return v > best
         && (isinf (v) || v - best > 1e-6 * fmax (fabs (v), fabs (best)));
}

/* Evaluates deferred order i of the grid (nothing for a cheap one) into
 * rdp[i] and the best so far; *rose: its bound has risen above the best. */
static int
deferred_order (const dpacct_rdp_grid *g, const dpacct_rdp_curve *c,
                dpacct_rdp_target target, double given, double *rdp, size_t i,
                double *best_value, size_t *best, int *rose)
{
  *rose = 0;
  if (!g->deferred[i])
    return DPACCT_OK;
  int status = dpacct_rdp_curve_value (g, c, i, &rdp[i]);
  if (status != DPACCT_OK)
    return status;
  double v = bound_at (g, target, g->orders[i], rdp[i], given);
  if (v < *best_value)
    *best_value = v, *best = i;
  else
    *rose = risen (v, *best_value);
  return DPACCT_OK;
}

/* The best order of the grid: its index, bound, and the RDP values of the
 * orders evaluated (NaN elsewhere).
 *
 * The bound is quasi-convex in the order, so its values along the sorted
 * grid fall, then rise.  Proof: every term of the curve is
 * r(a) = K(a) / (a - 1) with K convex: K(a) = log E[(P/Q)^a] for the
 * Gaussian, the Laplace and the subsampled Gaussian (log A_a) alike, a
 * cumulant generating function (Hoelder), and a weighted sum of convex
 * functions with weights >= 0 is convex.  The conversion of rdp_convert.c
 * is eps(a) = r + log(1 - 1/a) - (log delta + log a) / (a - 1), so
 *   (a - 1) eps(a) = K(a) + (a - 1) log(a - 1) - a log a - log delta,
 * and g(a) = (a - 1) log(a - 1) - a log a has g'' = 1/(a - 1) - 1/a > 0:
 * N(a) = (a - 1) eps(a) is convex on (1, inf).  {a : eps(a) <= t} =
 * {a : N(a) - t (a - 1) <= 0} is the sublevel set of a convex function,
 * an interval, for every t: eps is quasi-convex.  For delta,
 * log delta(a) = K(a) - (a - 1) eps + g(a) is convex itself, and
 * max(exp(.), tiny) keeps quasi-convexity.  Hence once the bound at an
 * order exceeds the best one so far (clearly: risen()), it is at least
 * that large at every larger order, and the minimum over the grid is the
 * same whether or not they are evaluated.  This needs the curve's closed
 * forms (not grid_only: the general sampling bounds and the certified
 * values carry no such proof), so the scan stops early only then.
 *
 * So the cheap orders (integer, summed exactly) are evaluated in
 * ascending order until the bound has risen, and the deferred
 * (quadrature) orders only between the cheap orders that flank the best
 * cheap one (by the same quasi-convexity, the grid's minimum lies there),
 * walking outwards from it until the bound has risen each way. */
static int
grid_minimum (const dpacct_rdp_grid *g, const dpacct_rdp_curve *c,
              dpacct_rdp_target target, double given, double *rdp,
              double *best_value, size_t *best)
{
  int lazy = has_deferred_terms (c);
  int unimodal = lazy && !c->grid_only && !g->certified;
  *best_value = INFINITY;
  *best = 0;
  for (size_t i = 0; i < g->n; i++)
    rdp[i] = NAN;
  for (size_t i = 0; i < g->n; i++)
    {
      if (lazy && g->deferred[i])
        continue;
      rdp[i] = c->known[i];
      if (lazy)
        {
          int status = dpacct_rdp_curve_value (g, c, i, &rdp[i]);
          if (status != DPACCT_OK)
            return status;
        }
      double v = bound_at (g, target, g->orders[i], rdp[i], given);
      if (v < *best_value)
        *best_value = v, *best = i;
      else if (unimodal && risen (v, *best_value))
        break;
    }
  size_t lo = 0, hi = g->n;
  if (lazy && isfinite (*best_value))
    {
      for (size_t i = *best; i-- > 0;)
        if (!g->deferred[i])
          {
            lo = i + 1;
            break;
          }
      for (size_t i = *best + 1; i < g->n; i++)
        if (!g->deferred[i])
          {
            hi = i;
            break;
          }
    }
  if (unimodal && isfinite (*best_value))
    {
      /* Outwards from the best cheap order, each way until the bound has
       * risen: every order evaluated so far lies on the other side of the
       * walk, so by quasi-convexity the orders beyond are no better.
       * Near the minimum this is one quadrature order each way instead
       * of every one between the flanks. */
      size_t cheap = *best;
      int up = 0;
      for (size_t i = cheap; !up && i-- > lo;)
        {
          int status = deferred_order (g, c, target, given, rdp, i,
                                       best_value, best, &up);
          if (status != DPACCT_OK)
            return status;
        }
      up = 0;
      for (size_t i = cheap + 1; !up && i < hi; i++)
        {
          int status = deferred_order (g, c, target, given, rdp, i,
                                       best_value, best, &up);
          if (status != DPACCT_OK)
            return status;
        }
    }
  else
    for (size_t i = lo; lazy && i < hi; i++)
      {
        int unused;
        int status = deferred_order (g, c, target, given, rdp, i, best_value,
                                     best, &unused);
        if (status != DPACCT_OK)
          return status;
      }
  if (isnan (*best_value))
    return DPACCT_FAIL (DPACCT_ENUMERIC, "NaN in the RDP conversion");
  return DPACCT_OK;
}

/* The best order is at the grid's edge when no order with a finite RDP
 * value lies beyond it on one side. */
static int
grid_edge (const dpacct_rdp_grid *g, const dpacct_rdp_curve *c, size_t best)
{
  size_t first = g->n, last = 0;
  for (size_t i = 0; i < g->n; i++)
    if (isfinite (c->known[i]))
      {
        first = i < first ? i : first;
        last = i;
      }
  return first < last && (best == first || best == last);
}

/* ---- real orders ----------------------------------------------------------- */

/* What the search minimises: epsilon, or log delta (delta itself is flat
 * where it would underflow). */
typedef struct
{
  const dpacct_rdp_curve *curve;
  dpacct_rdp_target target;
  double given;
  double worst; /* a finite score above any in the bracket: for orders
                   whose value cannot be computed */
} search;

typedef struct
{
  double x, f;
} point;

static double
score (const search *s, double a, double rdp)
{
  double v = s->target == DPACCT_RDP_FOR_EPSILON
             ? dpacct_rdp_epsilon_at_order (a, rdp, s->given)
             : dpacct_rdp_log_delta_at_order (a, rdp, s->given);
  /* GSL's Brent needs finite values; an order with none bounds nothing. */
  return isfinite (v) ? v : s->worst;
}

static double
score_at (double a, void *params)
{
  const search *s = params;
  double rdp;
  if (dpacct_rdp_curve_value_at (s->curve, a, &rdp) != DPACCT_OK)
    return s->worst;
  return score (s, a, rdp);
}

/* From the grid's end point `mid` (its neighbour inside the grid is
 * `inner`), steps outwards while the score falls: doubling the order
 * upwards, halving alpha - 1 downwards.  Returns 1 when it still falls at
 * the search's limit (mid is then that limit), 0 with `outer` set to the
 * first point beyond mid that scores no better. */
static int
widen (search *s, int up, point *inner, point *mid, point *outer)
{
  for (;;)
    {
      double x = up ? fmin (2.0 * mid->x, DPACCT_RDP_MAX_SEARCH_ORDER)
                    : fmax (1.0 + 0.5 * (mid->x - 1.0),
                            DPACCT_RDP_MIN_SEARCH_ORDER);
      if (x == mid->x)
        return 1;
      point p = { x, score_at (x, s) };
      if (!(p.f < mid->f))
        {
          *outer = p;
          return 0;
        }
      *inner = *mid;
      *mid = p;
    }
}

/* Brent's method on the bracket lo < mid < hi, f(mid) below both ends;
 * `mid` receives the best point found. */
static int
brent (search *s, point lo, point *mid, point hi)
{
  gsl_min_fminimizer *m = gsl_min_fminimizer_alloc (gsl_min_fminimizer_brent);
  if (m == NULL)
    return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate a minimiser");
  gsl_function f = { score_at, s };
  /* The preconditions hold (strictly), so GSL cannot fail here. */
  gsl_min_fminimizer_set_with_values (m, &f, mid->x, mid->f, lo.x, lo.f,
                                      hi.x, hi.f);
  for (int i = 0; i < MAX_BRENT_ITERATIONS; i++)
    {
      if (gsl_min_fminimizer_iterate (m) != GSL_SUCCESS)
        break;
      if (gsl_min_test_interval (gsl_min_fminimizer_x_lower (m),
                                 gsl_min_fminimizer_x_upper (m), 0.0,
                                 ORDER_REL_TOL) == GSL_SUCCESS)
        break;
    }
  /* Brent's minimum only ever moves to a point that scored lower. */
  mid->x = gsl_min_fminimizer_x_minimum (m);
  mid->f = gsl_min_fminimizer_f_minimum (m);
  gsl_min_fminimizer_free (m);
  return DPACCT_OK;
}

/* Grid order i as a point, from its RDP value in rdp if the grid search
 * evaluated it (else NaN there). */
static point
grid_point (const dpacct_rdp_grid *g, search *s, const double *rdp, size_t i)
{
  double a = g->orders[i];
  return (point) { a, isnan (rdp[i]) ? score_at (a, s) : score (s, a, rdp[i]) };
}

/* The continuous search from the grid's best order `best`. */
static int
search_orders (const dpacct_rdp_grid *g, search *s, const double *rdp,
               size_t best, dpacct_rdp_optimum *out)
{
  point mid = grid_point (g, s, rdp, best);
  point lo = { 0, 0 }, hi = { 0, 0 };
  s->worst = fabs (mid.f) + 1e6;
  int lo_edge = 0, hi_edge = 0;
  /* The neighbours inside the grid first, so that widening can move mid. */
  if (best > 0)
    lo = grid_point (g, s, rdp, best - 1);
  if (best + 1 < g->n)
    hi = grid_point (g, s, rdp, best + 1);
  if (best == 0)
    lo_edge = widen (s, 0, &hi, &mid, &lo);
  if (best + 1 == g->n)
    hi_edge = widen (s, 1, &lo, &mid, &hi);
  int status = DPACCT_OK;
  if (!lo_edge && !hi_edge && mid.f < lo.f && mid.f < hi.f && lo.x < mid.x
      && mid.x < hi.x)
    status = brent (s, lo, &mid, hi);
  out->order = mid.x;
  out->at_edge = lo_edge || hi_edge;
  out->value = s->target == DPACCT_RDP_FOR_EPSILON
               ? mid.f : fmax (exp (mid.f), nextafter (0.0, 1.0));
  return status;
}

int
dpacct_rdp_optimise (const dpacct_rdp_grid *g, const dpacct_rdp_curve *c,
                     dpacct_rdp_target target, double given,
                     dpacct_rdp_optimum *out)
{
  out->value = NAN;
  out->order = NAN;
  out->at_edge = 0;
  double *rdp = malloc (g->n * sizeof *rdp);
  if (rdp == NULL)
    return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate RDP values");
  size_t best;
  double value;
  int status = grid_minimum (g, c, target, given, rdp, &value, &best);
  if (status == DPACCT_OK && g->continuous && !c->grid_only && g->n >= 2
      && isfinite (value))
    {
      search s = { c, target, given, 0.0 };
      status = search_orders (g, &s, rdp, best, out);
    }
  else if (status == DPACCT_OK)
    {
      out->value = value;
      out->order = g->orders[best];
      out->at_edge = grid_edge (g, c, best);
    }
  free (rdp);
  return status;
}
