/* rdp_order.c - the order at which an RDP curve converts to the smallest
 * epsilon (for a delta) or delta (for an epsilon).
 *
 * First the grid: every order whose value is cheap, then the quadrature
 * orders that flank the best cheap one (on a continuous grid only when
 * the cheap orders give no bracket).  Then, on a continuous grid, a
 * search over real orders, bracketed by the grid's best order and the
 * nearest evaluated on each side, that evaluates exactly where a model
 * of the curve built from every order known puts the minimum, with
 * Brent's safeguards; when the best is the grid's first or last order,
 * the bracket is first widened outwards (towards order 1 for large
 * epsilon, to large orders for tiny epsilon).  Every order gives a valid
 * bound, so the search needs no global optimum to be safe: it reports
 * the exact bound at the order it reports. */
#include "rdp_curve.h"
#include "internal.h"
#include "rdp_internal.h"
#include "rdp_mpfr.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

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
  /* The search over real orders needs only a bracket: the cheap orders
   * that flank the best cheap one, when both were evaluated (by
   * quasi-convexity the real minimum lies between them). */
  if (unimodal && g->continuous && isfinite (*best_value) && lo > 0
      && hi < g->n && !isnan (rdp[lo - 1]) && !isnan (rdp[hi]))
    return DPACCT_OK;
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

/* ---- real orders ------------------------------------------------------- */

/* Each evaluation at a real order costs a quadrature per distinct
 * subsampled Gaussian (a run of a thousand phases: a thousand), so the
 * search models the curve from the orders whose values it already has
 * (the cheap integer ones from the grid at first) and evaluates exactly
 * only where the model puts the minimum.  The model is log RDP as a cubic
 * in log(a - 1) through the four known orders nearest the best one (both
 * vary slowly: RDP grows like a power of the order until it bends up
 * steeply); the conversion of the model is exact, so the model's only
 * error is the interpolation's, and each exact order added next to the
 * minimum makes it much smaller (successive interpolation converges
 * superlinearly).  The model only proposes orders: every bound reported
 * is the exact value at the order reported, as on the grid. */

/* The search stops when the model promises less than this below the best
 * order's bound, in log delta relative to 1 + (a - 1) RDP (an epsilon off
 * by t at order a is a log delta off by (a - 1) t): the order is then
 * within about 1e-5 relative of the optimum, far inside where the
 * conversion's derivative changes sign, and epsilon and delta searched
 * from each other agree to about 1e-11. */
#define MODEL_GAIN_TOL 1e-11
/* Exact evaluations the search may make; after them the best order
 * evaluated stands (a valid bound, like any order). */
#define MAX_MODEL_STEPS 60
/* It also stops when the bracket is this narrow relative to the order. */
#define ORDER_REL_TOL 1e-9
#define GOLDEN_STEP 0.3819660112501051 /* (3 - sqrt 5) / 2 */
#define MODEL_NODES 4

typedef struct
{
  double x, f;    /* order, score */
  double log_rdp; /* NaN when it could not be computed */
} point;

/* What the search minimises: epsilon, or log delta (delta itself is flat
 * where it would underflow); and every order evaluated so far. */
typedef struct
{
  const dpacct_rdp_curve *curve;
  dpacct_rdp_target target;
  double given;
  double worst; /* a finite score above any in the bracket: for orders
                   whose value cannot be computed */
  point *known;
  size_t n_known, capacity;
} search;

static double
score (const search *s, double a, double rdp)
{
  double v = s->target == DPACCT_RDP_FOR_EPSILON
             ? dpacct_rdp_epsilon_at_order (a, rdp, s->given)
             : dpacct_rdp_log_delta_at_order (a, rdp, s->given);
  /* An order whose bound is not finite bounds nothing. */
  return isfinite (v) ? v : s->worst;
}

/* Records p as a node of the model when its value is known. */
static void
remember (search *s, point p)
{
  if (isfinite (p.log_rdp) && s->n_known < s->capacity)
    s->known[s->n_known++] = p;
}

static point
point_of (search *s, double a, double rdp)
{
  point p = { a, score (s, a, rdp), log (rdp) };
  remember (s, p);
  return p;
}

/* The exact bound at order a. */
static point
exact_at (search *s, double a)
{
  double rdp;
  if (dpacct_rdp_curve_value_at (s->curve, a, &rdp) != DPACCT_OK)
    return (point) { a, s->worst, NAN };
  return point_of (s, a, rdp);
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
      point p = exact_at (s, x);
      if (!(p.f < mid->f))
        {
          *outer = p;
          return 0;
        }
      *inner = *mid;
      *mid = p;
    }
}

/* The model: log RDP as the cubic in log(a - 1) (or lower, with fewer
 * nodes) through the nodes nearest `centre`, and its bound at order a. */
typedef struct
{
  size_t n;
  double x[MODEL_NODES], t[MODEL_NODES], v[MODEL_NODES]; /* order,
                                                  log(order - 1), log RDP */
} model;

static model
model_around (const search *s, double centre)
{
  model m = { 0, { 0 }, { 0 }, { 0 } };
  while (m.n < MODEL_NODES)
    {
      const point *next = NULL;
      for (size_t i = 0; i < s->n_known; i++)
        {
          const point *p = &s->known[i];
          int taken = 0;
          for (size_t j = 0; j < m.n; j++)
            taken |= m.x[j] == p->x;
          if (!taken && (next == NULL
                         || fabs (p->x - centre) < fabs (next->x - centre)))
            next = p;
        }
      if (next == NULL)
        break;
      m.x[m.n] = next->x;
      m.t[m.n] = log (next->x - 1.0);
      m.v[m.n++] = next->log_rdp;
    }
  return m;
}

static double
model_score (const search *s, const model *m, double a)
{
  /* Lagrange's form: few nodes, each evaluation fresh. */
  double t = log (a - 1.0), v = 0.0;
  for (size_t i = 0; i < m->n; i++)
    {
      double l = m->v[i];
      for (size_t j = 0; j < m->n; j++)
        if (j != i)
          l *= (t - m->t[j]) / (m->t[i] - m->t[j]);
      v += l;
    }
  return score (s, a, exp (v));
}

/* The model's minimum on [lo, hi] by golden-section search (it costs
 * nothing next to one exact order). */
static point
model_minimum (const search *s, const model *m, double lo, double hi)
{
  const double ratio = 0.6180339887498949;
  double c = hi - ratio * (hi - lo), d = lo + ratio * (hi - lo);
  double fc = model_score (s, m, c), fd = model_score (s, m, d);
  while (hi - lo > 1e-10 * (hi - 1.0))
    {
      if (fc <= fd)
        {
          hi = d, d = c, fd = fc;
          c = hi - ratio * (hi - lo);
          fc = model_score (s, m, c);
        }
      else
        {
          lo = c, c = d, fc = fd;
          d = lo + ratio * (hi - lo);
          fd = model_score (s, m, d);
        }
    }
  return fc <= fd ? (point) { c, fc, NAN } : (point) { d, fd, NAN };
}

/* How far the score may be from its minimum when the search stops (see
 * MODEL_GAIN_TOL). */
static double
score_tolerance (const search *s, const point *mid)
{
  double k = (mid->x - 1.0) * exp (mid->log_rdp);
  double t = MODEL_GAIN_TOL * (1.0 + k);
  return s->target == DPACCT_RDP_FOR_EPSILON ? t / (mid->x - 1.0) : t;
}

/* Narrows the bracket lo < mid < hi (mid scoring below both ends) by
 * exact evaluations where the model puts the minimum; `mid` receives the
 * best point found.  By quasi-convexity the minimum stays inside the
 * bracket as it shrinks.
 *
 * The search stops once the model has predicted its last exact value to
 * within the tolerance and promises no more than that below the best.
 * Brent's safeguard keeps a poor model (where the curve bends sharply,
 * say) from stalling: a step of the model longer than half the one before
 * the last, or a model that has not proved itself and promises nothing,
 * gives way to a golden-section step into the larger side. */
static void
model_search (search *s, point lo, point *mid, point hi)
{
  int trusted = 0;
  double last = INFINITY, before_last = INFINITY;
  for (int step = 0; step < MAX_MODEL_STEPS; step++)
    {
      if (hi.x - lo.x <= ORDER_REL_TOL * mid->x)
        return;
      double tol = score_tolerance (s, mid);
      model m = model_around (s, mid->x);
      point guess = { NAN, NAN, NAN };
      /* Keep off the bracket's ends, which are known not to be better. */
      double margin = 1e-3 * (hi.x - lo.x);
      if (m.n >= 2)
        guess = model_minimum (s, &m, lo.x + margin, hi.x - margin);
      double gain = mid->f - guess.f, move = fabs (guess.x - mid->x);
      if (!(gain > tol) && trusted)
        return;
      /* A model that promises nothing is checked at its minimum; one
       * that moves too far, or nowhere, gives way to golden section. */
      if ((gain > tol && !(move < 0.5 * before_last))
          || !(move > 1e-12 * mid->x))
        {
          double left = mid->x - lo.x, right = hi.x - mid->x;
          guess.x = left > right ? mid->x - GOLDEN_STEP * left
                                 : mid->x + GOLDEN_STEP * right;
          guess.f = m.n >= 2 ? model_score (s, &m, guess.x) : NAN;
          move = fabs (guess.x - mid->x);
        }
      before_last = last;
      last = move;
      point p = exact_at (s, guess.x);
      trusted = fabs (p.f - guess.f) <= tol;
      if (p.f < mid->f)
        {
          if (p.x < mid->x)
            hi = *mid;
          else
            lo = *mid;
          *mid = p;
        }
      else if (p.x < mid->x)
        lo = p;
      else
        hi = p;
    }
}

/* Grid order i as a point, from its RDP value in rdp if the grid search
 * evaluated it (else NaN there). */
static point
grid_point (const dpacct_rdp_grid *g, search *s, const double *rdp, size_t i)
{
  double a = g->orders[i];
  return isnan (rdp[i]) ? exact_at (s, a) : point_of (s, a, rdp[i]);
}

/* The grid order nearest `best` below it (above it when `up`) whose value
 * the grid search has; its neighbour when it has none there. */
static size_t
evaluated_neighbour (const dpacct_rdp_grid *g, const double *rdp, size_t best,
                     int up)
{
  if (up)
    {
      for (size_t i = best + 1; i < g->n; i++)
        if (!isnan (rdp[i]))
          return i;
      return best + 1;
    }
  for (size_t i = best; i-- > 0;)
    if (!isnan (rdp[i]))
      return i;
  return best - 1;
}

/* The continuous search from the grid's best order `best`. */
static int
search_orders (const dpacct_rdp_grid *g, search *s, const double *rdp,
               size_t best, dpacct_rdp_optimum *out)
{
  point mid = grid_point (g, s, rdp, best);
  s->worst = fabs (mid.f) + 1e6;
  /* Every order the grid evaluated is a node of the model. */
  for (size_t i = 0; i < g->n; i++)
    if (i != best && !isnan (rdp[i]))
      point_of (s, g->orders[i], rdp[i]);
  point lo = { 0, 0, NAN }, hi = { 0, 0, NAN };
  int lo_edge = 0, hi_edge = 0;
  /* The neighbours inside the grid first, so that widening can move mid. */
  if (best > 0)
    lo = grid_point (g, s, rdp, evaluated_neighbour (g, rdp, best, 0));
  if (best + 1 < g->n)
    hi = grid_point (g, s, rdp, evaluated_neighbour (g, rdp, best, 1));
  if (best == 0)
    lo_edge = widen (s, 0, &hi, &mid, &lo);
  if (best + 1 == g->n)
    hi_edge = widen (s, 1, &lo, &mid, &hi);
  if (!lo_edge && !hi_edge && mid.f < lo.f && mid.f < hi.f && lo.x < mid.x
      && mid.x < hi.x)
    model_search (s, lo, &mid, hi);
  out->order = mid.x;
  out->at_edge = lo_edge || hi_edge;
  out->value = s->target == DPACCT_RDP_FOR_EPSILON
               ? mid.f : fmax (exp (mid.f), nextafter (0.0, 1.0));
  return DPACCT_OK;
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
      /* Room for the grid's orders, the widening's (at most 32) and the
       * search's. */
      search s = { c, target, given, 0.0, NULL, 0,
                   g->n + 32 + MAX_MODEL_STEPS };
      s.known = malloc (s.capacity * sizeof *s.known);
      status = s.known == NULL
               ? DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate RDP orders")
               : search_orders (g, &s, rdp, best, out);
      free (s.known);
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
