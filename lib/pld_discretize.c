/* pld_discretize.c - one mechanism step as masses on a loss grid, as an
 * upper (pessimistic) and a lower (optimistic) approximation.
 *
 * Both rest on the hockey-stick curve delta(t) = P(L > e) - t Q(L > e),
 * t = e^e, which is convex in t, starts at delta(0) = 1 and has slope
 * -Q(L > e).  A PLD with masses w_k at losses e_k has the curve
 * sum_k w_k (1 - t e^{-e_k})_+ + w_inf, piecewise linear with kinks at the
 * t_k = e^{e_k}; a curve above the true one everywhere makes a pair that
 * dominates the mechanism, one below it a dominated pair, and composition
 * keeps both orders.  The optimistic step is built as a post-processing
 * of the pair, which is below it by the data-processing inequality. */
#include "pld_internal.h"
#include "internal.h"

#include <math.h>
#include <stdlib.h>

void
dpacct_pld_step_release (pld_step *step)
{
  free (step->mass);
  step->mass = NULL;
}

pld_stations
dpacct_pld_stations_all (double h, long first, size_t n)
{
  pld_stations g = { h, first, n, 1, 0.0, 0.0, 0.0, 0.0 };
  return g;
}

/* Whether the cell between points a and b, whose P-tails are p_a and
 * p_b, is split into every point (see pld_stations). */
static int
cell_matters (const pld_stations *g, size_t b, double p_a, double p_b)
{
  double m = p_a - p_b;
  double e_b = (g->first + (long) b) * g->h;
  return m > 0.0
         && log (m) + fmin (0.0, g->log_mgf - g->tilt * (g->target - e_b))
              > g->refine_log;
}

/* The stations (*at, *m of them) and the tails there, P(L > e_k) and
 * Q(L > e_k) e^{e_k} (see dpacct_pld_pair_tails_grid): first at every
 * stride-th point, then inside every cell that matters. */
static int
grid_tails (const pld_pair *pair, const pld_stations *g, size_t **at,
            size_t *m, double **tail_p, double **scaled_q)
{
  size_t n = g->n, stride = g->stride > 1 ? g->stride : 1;
  size_t coarse = (n - 1 + stride - 1) / stride + 1;
  *at = malloc (n * sizeof **at);
  *tail_p = malloc (n * sizeof **tail_p);
  *scaled_q = malloc (n * sizeof **scaled_q);
  if (stride == 1 && *at != NULL && *tail_p != NULL && *scaled_q != NULL)
    {
      /* Every point: straight into place, without the coarse pass. */
      for (size_t k = 0; k < n; k++)
        (*at)[k] = k;
      dpacct_pld_pair_tails_grid (pair, g->h, g->first, *at, n, *tail_p,
                                  *scaled_q);
      *m = n;
      return DPACCT_OK;
    }
  size_t *c_at = calloc (coarse, sizeof *c_at);
  double *c_p = malloc (2 * coarse * sizeof *c_p), *c_q = c_p + coarse;
  if (*at == NULL || *tail_p == NULL || *scaled_q == NULL || c_at == NULL
      || c_p == NULL)
    {
      free (*at), free (*tail_p), free (*scaled_q), free (c_at), free (c_p);
      return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate a PLD grid");
    }
  for (size_t i = 0; i < coarse; i++)
    c_at[i] = i + 1 < coarse ? i * stride : n - 1;
  dpacct_pld_pair_tails_grid (pair, g->h, g->first, c_at, coarse, c_p, c_q);
  size_t out = 0;
  for (size_t i = 0; i < coarse; i++)
    {
      size_t a = c_at[i];
      double tp = c_p[i], sq = c_q[i];
      if (i > 0 && a - (*at)[out - 1] > 1
          && cell_matters (g, a, (*tail_p)[out - 1], tp))
        {
          size_t from = (*at)[out - 1] + 1, k = out;
          for (size_t p = from; p < a; p++)
            (*at)[out++] = p;
          dpacct_pld_pair_tails_grid (pair, g->h, g->first, *at + k, a - from,
                                      *tail_p + k, *scaled_q + k);
        }
      (*at)[out] = a, (*tail_p)[out] = tp, (*scaled_q)[out] = sq;
      out++;
    }
  free (c_at), free (c_p);
  *m = out;
  return DPACCT_OK;
}

/* The step's stations and the tails there, P(L > e_k) in p and
 * Q(L > e_k) e^{e_k} in q. */
typedef struct
{
  size_t *at, m;
  double *p, *q;
} station_tails;

static void
station_tails_release (station_tails *t)
{
  free (t->at), free (t->p), free (t->q);
}

static int
step_alloc (double h, long first, size_t n, pld_step *out)
{
  out->h = h;
  out->first = first;
  out->n = n;
  out->infinity = 0.0;
  out->mass = calloc (n, sizeof *out->mass);
  if (out->mass == NULL)
    return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate a PLD");
  return DPACCT_OK;
}

/* An empty step on the grid, and the pair's tails at its stations. */
static int
step_start (const pld_pair *pair, const pld_stations *g, pld_step *out,
            station_tails *t)
{
  int status = step_alloc (g->h, g->first, g->n, out);
  if (status == DPACCT_OK
      && (status = grid_tails (pair, g, &t->at, &t->m, &t->p, &t->q))
           != DPACCT_OK)
    dpacct_pld_step_release (out);
  return status;
}

/* 1 - e^{-(e_next - e_k)} for the cell between stations i and i + 1
 * (span_1 for a one-point cell, the common case, taken once). */
static double
cell_span (const station_tails *t, size_t i, double h, double span_1)
{
  size_t points = t->at[i + 1] - t->at[i];
  return points == 1 ? span_1 : -expm1 (-(double) points * h);
}

/* The Q-mass of the cell between stations i and i + 1 times e^{e_k} at
 * its lower end, given its cell_span. */
static double
scaled_q_mass (const station_tails *t, size_t i, double span)
{
  return t->q[i] - t->q[i + 1] * (1.0 - span);
}

/* The pessimistic step from the pair's tails at its stations. */
static void
pessimistic_from_tails (const station_tails *t, pld_step *out)
{
  double h = out->h;
  const double *tp = t->p;
  /* Below the grid: raised to its first point (raising a loss only
   * raises the curve). */
  out->mass[0] = 1.0 - tp[0];
  double one_minus_e_minus_h = -expm1 (-h);
  for (size_t i = 0; i + 1 < t->m; i++)
    {
      size_t k = t->at[i], next = t->at[i + 1];
      /* P- and Q-mass of the interval (e_k, e_next], split between its
       * ends so that both are kept: the curve then interpolates the true
       * one at every station and is linear (above it, as the curve is
       * convex) in between. */
      double pm = tp[i] - tp[i + 1];
      double span = cell_span (t, i, h, one_minus_e_minus_h);
      double qm_scaled = scaled_q_mass (t, i, span);
      double upper = (pm - qm_scaled) / span;
      upper = fmin (fmax (upper, 0.0), fmax (pm, 0.0));
      out->mass[k] += fmax (pm, 0.0) - upper;
      out->mass[next] += upper;
    }
  /* Above the grid: +infinity. */
  out->infinity = tp[t->m - 1];
}

typedef void tails_filler (const station_tails *t, pld_step *out);

/* The step on the grid, filled from the pair's tails there by FILL. */
static int
step_from_tails (const pld_pair *pair, const pld_stations *g,
                 tails_filler *fill, pld_step *out)
{
  station_tails t;
  int status = step_start (pair, g, out, &t);
  if (status != DPACCT_OK)
    return status;
  fill (&t, out);
  station_tails_release (&t);
  return DPACCT_OK;
}

int
dpacct_pld_step_pessimistic (const pld_pair *pair, const pld_stations *g,
                             pld_step *out)
{
  return step_from_tails (pair, g, pessimistic_from_tails, out);
}

/* Dropping mass only lowers the curve, so the far tails (up to `most` at
 * each end) go: they would otherwise stretch the composed support, and
 * with it the FFT window, to count times the grid's ends. */
static void
drop_far_tails (pld_step *out, double most)
{
  for (int end = 0; end < 2; end++)
    {
      double dropped = 0.0;
      for (size_t i = 0; i < out->n; i++)
        {
          size_t k = end ? out->n - 1 - i : i;
          if (dropped + out->mass[k] > most)
            break;
          dropped += out->mass[k];
          out->mass[k] = 0.0;
        }
    }
}

/* The optimistic step by pooling, a post-processing of the pair and so
 * dominated by it.  Each cell (e_k, e_next] between neighbouring stations
 * is an atom with its P- and Q-mass (x -> the cell of its loss is a
 * post-processing, whatever the cells), a coin
 * may split an atom in proportion, and atoms may be pooled.  Sweeping up
 * the loss axis, atoms join a pool until its loss log(P/Q) would pass
 * the grid point it aims at (the first at or above where it started);
 * the fraction of the next atom that puts it exactly there completes it,
 * a mass at that point, and the rest starts the next pool.  A pool loses
 * only its inner spread, so the composed loss keeps its drift to second
 * order in h where rounding every loss down to the grid shifts it by up
 * to h a step.  (Where a cell holds most of the mass, as the bulk near 0
 * at small sampling rates, its pool takes the tail it needs; on a grid
 * coarser than that bulk the bound is poor, and refining the grid mends
 * it.)  Pools aim at e_k + MERGE_SLACK and sit at e_k, so that rounding in
 * the masses does not lift a pool above its true loss; the last pool
 * goes down to the grid point at or below its loss, and lowering a loss
 * only lowers the curve.
 *
 * A pool that cannot reach its target goes down at once, as the last one
 * does, and the atoms after it pool on their own: one that lacks more
 * P-mass than POOL_OUT_OF_REACH times the excess P(L > e_j) - e^{e_t}
 * Q(L > e_j) of every atom from the next one (cell j) up.  The bulk near
 * 0 at small sampling rates, whose loss is far below one cell, aims at
 * e_1 = h > 0 and is such a pool; it used to swallow every atom above it,
 * the tail that carries delta with them, and the lower bound was 0 on
 * every grid coarser than the bulk.  (A pool aiming at 0 with all the
 * mass below 0 still takes the whole tail: the tail exactly completes it.
 * Only grids finer than the bulk mend that.)
 *
 * Going down keeps the bound.  The pool's first atom (part) lies below
 * its target and the atoms it took after it above (their cells are above
 * the first's), so the share of the first that they lift to the target
 * exactly, pooled with them, is a pool as above (settle); the rest of the
 * first atom goes to the grid point at or below its own loss.  That is
 * lowering losses pointwise, mass at loss l moved to l' <= l (a coupling
 * of the two steps with L' <= L), which lowers the composed delta at every
 * eps: it is E[(1 - e^{eps - L_1 - ... - L_T})_+] over independent steps,
 * nondecreasing in each L_i, and the composition uses nothing else of the
 * masses.  So the result stays below the post-processed pair's curve, and
 * so below the mechanism's. */
enum { MERGE_NONE = -1 };
#define MERGE_SLACK 1e-12
/* A pool gives up when it lacks more than this times the excess left:
 * well clear of 1, where a pool aiming at loss 0 with everything below it
 * sits (the rest completes it exactly, so rounding alone would decide). */
#define POOL_OUT_OF_REACH 3.0

/* Q-masses are kept scaled by e^{e_k} for a nearby grid point e_k, since
 * at high losses they underflow where the P-masses do not. */
typedef struct
{
  double h;
  size_t n;
  double *mass;
  double pool_p, pool_q; /* pool_q: Q-mass times e^{e_target} */
  double start_p, start_q; /* of the atom (part) that started the pool */
  long target; /* the grid index the pool aims at, or MERGE_NONE */
  const double *tail_p, *scaled_q; /* the tails at the stations */
  const size_t *at; /* the stations' grid indices */
  size_t stations;
} merger;

/* The excess over the target of the atoms from station `cell`'s cell up,
 * in P-mass: P(L > e_at[cell]) - e^{e_target + SLACK} Q(L > e_at[cell]). */
static double
excess_from (const merger *m, long cell)
{
  double above = (double) (m->target - (long) m->at[cell]) * m->h;
  return m->tail_p[cell] - m->scaled_q[cell] * exp (above + MERGE_SLACK);
}

/* Q-mass scaled by e^{e_ref} rescaled to e^{e_to}. */
static double
rescale (const merger *m, double q_scaled, long ref, long to)
{
  return q_scaled > 0.0 ? q_scaled * exp ((double) (to - ref) * m->h) : 0.0;
}

/* The pool, placed at the grid point at or below its loss (dropped below
 * the grid). */
static void
round_down (merger *m)
{
  if (m->target == MERGE_NONE || !(m->pool_p > 0.0))
    return;
  double loss = m->pool_q > 0.0 ? log (m->pool_p) - log (m->pool_q) : INFINITY;
  double k = floor (loss / m->h) + (double) m->target;
  if (k >= 0.0)
    m->mass[k > (double) (m->n - 1) ? m->n - 1 : (size_t) k] += m->pool_p;
  m->target = MERGE_NONE;
}

/* The pool, given up short of its target: the atoms it took after its
 * first lie above the target (their cells are above the first's), so with
 * the share of the first atom that they can lift there they make a pool
 * exactly at the target; the rest of the first atom goes down
 * (round_down). */
static void
settle (merger *m)
{
  double r = exp (MERGE_SLACK);
  double above_p = m->pool_p - m->start_p, above_q = m->pool_q - m->start_q;
  double excess = above_p - r * above_q, lack = r * m->start_q - m->start_p;
  double share = excess > 0.0 && lack > 0.0 ? fmin (excess / lack, 1.0) : 0.0;
  m->mass[m->target] += fmax (above_p, 0.0) + share * m->start_p;
  m->pool_p = (1.0 - share) * m->start_p;
  m->pool_q = (1.0 - share) * m->start_q;
  round_down (m);
  m->target = MERGE_NONE;
}

/* Adds the atom of station `cell`'s cell (-1: below the grid) with
 * P-mass p and Q-mass q e^{-e_ref}, ref = at[max(cell, 0)]; cells in
 * increasing order.  A pool aims at the lowest grid point e_k with
 * e_k + SLACK at or above its first atom's loss, which lies in (e_ref,
 * e_next] (next: the next station's grid index): clamped to those two,
 * so that rounding in a nearly empty cell cannot aim a pool far off. */
static void
merge_atom (merger *m, long cell, double p, double q)
{
  long ref = cell < 0 ? 0 : (long) m->at[cell];
  p = fmax (p, 0.0), q = fmax (q, 0.0);
  while (p > 0.0)
    {
      if (m->target == MERGE_NONE)
        {
          long high = cell + 1 < (long) m->stations ? (long) m->at[cell + 1]
                                                    : (long) m->n - 1;
          long t = high;
          if (q > 0.0)
            {
              double k = ceil ((log (p) - log (q) - MERGE_SLACK) / m->h)
                         + (double) ref;
              t = k <= (double) ref ? ref : k >= (double) high ? high : (long) k;
            }
          m->target = t;
          m->pool_p = m->start_p = p;
          m->pool_q = m->start_q = rescale (m, q, ref, t);
          return;
        }
      double r = exp (MERGE_SLACK);
      /* How far the atom lies above the target, and the pool below it,
       * in P-mass. */
      double over = p - r * rescale (m, q, ref, m->target);
      double room = r * m->pool_q - m->pool_p;
      double left = over <= room && cell >= 0 && m->target < (long) m->n - 1
                    ? excess_from (m, cell) : NAN;
      if (left > 0.0 && room > POOL_OUT_OF_REACH * left)
        {
          settle (m); /* it can no longer reach its target */
          continue;
        }
      if (over <= room || m->target == (long) m->n - 1)
        {
          m->pool_p += p, m->pool_q += rescale (m, q, ref, m->target);
          return;
        }
      double theta = room > 0.0 ? room / over : 0.0;
      m->mass[m->target] += m->pool_p + theta * p;
      p *= 1.0 - theta, q *= 1.0 - theta;
      m->target = MERGE_NONE;
    }
}

/* The optimistic step from the pair's tails at its stations. */
static void
optimistic_from_tails (const station_tails *t, pld_step *out)
{
  double h = out->h;
  long first = out->first;
  size_t n = out->n, last = t->m - 1;
  const double *tp = t->p;
  merger m = { h, n, out->mass, 0.0, 0.0, 0.0, 0.0, MERGE_NONE, tp, t->q,
               t->at, t->m };
  merge_atom (&m, -1, 1.0 - tp[0], exp (first * h) - t->q[0]);
  double span_1 = -expm1 (-h);
  for (size_t i = 0; i < last; i++)
    merge_atom (&m, (long) i, tp[i] - tp[i + 1],
                scaled_q_mass (t, i, cell_span (t, i, h, span_1)));
  merge_atom (&m, (long) last, tp[last], t->q[last]);
  round_down (&m);
  /* At most 1e-25, and no more than the grid already leaves out (which
   * the caller sized to the delta asked for). */
  drop_far_tails (out, fmin (1e-25, tp[last]));
}

int
dpacct_pld_step_optimistic (const pld_pair *pair, const pld_stations *g,
                            pld_step *out)
{
  return step_from_tails (pair, g, optimistic_from_tails, out);
}

int
dpacct_pld_steps_both (const pld_pair *pair, const pld_stations *g,
                       pld_step *optimistic, pld_step *pessimistic)
{
  station_tails t;
  int status = step_start (pair, g, optimistic, &t);
  if (status != DPACCT_OK)
    return status;
  status = step_alloc (g->h, g->first, g->n, pessimistic);
  if (status == DPACCT_OK)
    {
      optimistic_from_tails (&t, optimistic);
      pessimistic_from_tails (&t, pessimistic);
    }
  else
    dpacct_pld_step_release (optimistic);
  station_tails_release (&t);
  return status;
}
