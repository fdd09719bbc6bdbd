/* pld_accountant.c - the PLD accountant: privacy loss distributions,
 * pessimistic and optimistic, composed by FFT, giving epsilon and delta as
 * a [lower, upper] pair.
 *
 * Composing only records (mechanism, sampling, count) leaves; the grid is
 * chosen when a bound is asked for, from the requested accuracy: start
 * from an interval proportional to the spread of the composed loss and
 * refine it until upper - lower <= rel_accuracy * upper (or the memory
 * cap is reached, when the bounds are still valid, only wider). */
#include "dpacct/accountant.h"
#include "internal.h"
#include "pld_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct
{
  pld_base base;
  double scale; /* divided by the sensitivity already */
  double q;
  uint64_t count;
} leaf;

typedef struct
{
  dpacct_neighbouring neighbouring;
  double interval, rel_accuracy;
  size_t max_points;
  size_t n, capacity;
  leaf *leaves;
} pld_state;

static int
pld_init (void *state, const dpacct_accountant_options *o)
{
  pld_state *s = state;
  if (o->certified)
    return DPACCT_FAIL (DPACCT_EUNSUP,
                        "certified bounds are not available for PLD yet; "
                        "use the RDP accountant");
  if (!(o->pld_interval >= 0.0 && o->pld_interval <= 1.0))
    return DPACCT_FAIL (DPACCT_EDOM, "PLD interval must be in [0, 1]");
  if (!(o->pld_rel_accuracy >= 1e-6 && o->pld_rel_accuracy <= 0.5))
    return DPACCT_FAIL (DPACCT_EDOM, "PLD accuracy must be in [1e-6, 0.5]");
  if (o->pld_max_points < 1024)
    return DPACCT_FAIL (DPACCT_EDOM, "PLD memory cap below 1024 points");
  memset (s, 0, sizeof *s);
  s->neighbouring = o->neighbouring;
  s->interval = o->pld_interval;
  s->rel_accuracy = o->pld_rel_accuracy;
  s->max_points = o->pld_max_points;
  return DPACCT_OK;
}

static void
pld_release (void *state)
{
  free (((pld_state *) state)->leaves);
}

static int
pld_copy (void *dest, const void *src)
{
  const pld_state *from = src;
  pld_state *to = dest;
  *to = *from;
  to->leaves = NULL;
  if (from->n > 0)
    {
      to->leaves = malloc (from->n * sizeof *to->leaves);
      if (to->leaves == NULL)
        return DPACCT_FAIL (DPACCT_ENOMEM, "cannot copy a PLD accountant");
      memcpy (to->leaves, from->leaves, from->n * sizeof *to->leaves);
    }
  to->capacity = from->n;
  return DPACCT_OK;
}

/* ---- events into leaves ------------------------------------------------ */

static int
pld_supports (const void *state, const dpacct_event *e)
{
  const pld_state *s = state;
  switch (dpacct_event_get_kind (e))
    {
    case DPACCT_EVENT_GAUSSIAN:
    case DPACCT_EVENT_LAPLACE:
      return DPACCT_OK;
    case DPACCT_EVENT_POISSON_SAMPLED:
      {
        dpacct_event_kind base
          = dpacct_event_get_kind (dpacct_event_get_child (e, 0));
        if (base != DPACCT_EVENT_GAUSSIAN && base != DPACCT_EVENT_LAPLACE)
          return DPACCT_EUNSUP;
        return s->neighbouring == DPACCT_ADD_REMOVE ? DPACCT_OK : DPACCT_EUNSUP;
      }
    case DPACCT_EVENT_SAMPLED_WITHOUT_REPLACEMENT:
      return DPACCT_EUNSUP;
    case DPACCT_EVENT_SELF_COMPOSED:
    case DPACCT_EVENT_SEQUENCE:
      for (size_t c = 0; c < dpacct_event_get_n_children (e); c++)
        if (pld_supports (state, dpacct_event_get_child (e, c)) != DPACCT_OK)
          return DPACCT_EUNSUP;
      return DPACCT_OK;
    case DPACCT_EVENT_LAPLACE_L2:
      return DPACCT_EUNSUP; /* the Lap2 accountants' own */
    }
  return DPACCT_EUNSUP;
}

/* Appends the leaves of `e`, each run `count` times, to list/n. */
static int
collect (const pld_state *s, const dpacct_event *e, uint64_t count,
         leaf **list, size_t *n, size_t *capacity)
{
  dpacct_event_kind kind = dpacct_event_get_kind (e);
  if (kind == DPACCT_EVENT_SELF_COMPOSED || kind == DPACCT_EVENT_SEQUENCE)
    {
      uint64_t inner = dpacct_event_get_count (e);
      if (count > DPACCT_MAX_COUNT / inner)
        return DPACCT_FAIL (DPACCT_EDOM, "more than 10^12 compositions");
      for (size_t c = 0; c < dpacct_event_get_n_children (e); c++)
        {
          int status = collect (s, dpacct_event_get_child (e, c), count * inner,
                                list, n, capacity);
          if (status != DPACCT_OK)
            return status;
        }
      return DPACCT_OK;
    }
  double q = 1.0;
  const dpacct_event *mech = e;
  if (kind == DPACCT_EVENT_POISSON_SAMPLED)
    {
      q = dpacct_event_get_parameter (e);
      mech = dpacct_event_get_child (e, 0);
    }
  if (q == 0.0)
    return DPACCT_OK; /* nothing released */
  leaf l;
  l.base = dpacct_event_get_kind (mech) == DPACCT_EVENT_LAPLACE ? PLD_LAPLACE
                                                                : PLD_GAUSSIAN;
  /* Under replace-one a clipped sum moves by up to twice the clip. */
  l.scale = dpacct_event_get_parameter (mech)
            / (s->neighbouring == DPACCT_REPLACE_ONE ? 2.0 : 1.0);
  l.q = q;
  l.count = count;
  for (size_t i = 0; i < *n; i++)
    if ((*list)[i].base == l.base && (*list)[i].scale == l.scale
        && (*list)[i].q == l.q)
      {
        if ((*list)[i].count > DPACCT_MAX_COUNT - count)
          return DPACCT_FAIL (DPACCT_EDOM, "more than 10^12 compositions");
        (*list)[i].count += count;
        return DPACCT_OK;
      }
  if (*n == *capacity)
    {
      size_t cap = *capacity ? 2 * *capacity : 4;
      leaf *grown = realloc (*list, cap * sizeof *grown);
      if (grown == NULL)
        return DPACCT_FAIL (DPACCT_ENOMEM, "cannot grow a PLD accountant");
      *list = grown;
      *capacity = cap;
    }
  (*list)[(*n)++] = l;
  return DPACCT_OK;
}

static int
pld_compose (void *state, const dpacct_event *e, uint64_t count)
{
  pld_state *s = state;
  if (pld_supports (s, e) != DPACCT_OK)
    return DPACCT_FAIL (DPACCT_EUNSUP,
                        "event not supported by the PLD accountant");
  /* Work on a copy of the list, so that a failure changes nothing. */
  size_t n = s->n, capacity = s->n;
  leaf *list = NULL;
  if (n > 0)
    {
      list = malloc (n * sizeof *list);
      if (list == NULL)
        return DPACCT_FAIL (DPACCT_ENOMEM, "cannot grow a PLD accountant");
      memcpy (list, s->leaves, n * sizeof *list);
    }
  int status = collect (s, e, count, &list, &n, &capacity);
  if (status != DPACCT_OK)
    {
      free (list);
      return status;
    }
  free (s->leaves);
  s->leaves = list;
  s->n = n;
  s->capacity = capacity;
  return DPACCT_OK;
}

/* ---- bounds ------------------------------------------------------------ */

typedef enum { ASK_EPSILON, ASK_DELTA } question;

/* The steps of every leaf in one direction, on a grid of interval h. */
typedef struct
{
  size_t n;
  pld_step *steps;
  pld_factor *factors;
} step_set;

static void
step_set_release (step_set *set)
{
  for (size_t i = 0; i < set->n; i++)
    dpacct_pld_step_release (&set->steps[i]);
  free (set->steps);
  free (set->factors);
  set->steps = NULL;
  set->factors = NULL;
}

/* Each step's grid ends where the loss has P-probability below
 * e^-tail_log; beyond, the pessimistic step puts the mass at +infinity
 * (counted in delta), the optimistic one drops it. */
static int
step_set_build (const pld_state *s, pld_direction dir, double h,
                int pessimistic, double tail_log, step_set *set)
{
  set->n = 0;
  set->steps = calloc (s->n, sizeof *set->steps);
  set->factors = calloc (s->n, sizeof *set->factors);
  if (set->steps == NULL || set->factors == NULL)
    {
      step_set_release (set);
      return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate PLD steps");
    }
  for (size_t i = 0; i < s->n; i++)
    {
      pld_pair pair = { s->leaves[i].base, s->leaves[i].scale, s->leaves[i].q,
                        dir };
      double lo, hi;
      dpacct_pld_pair_range (&pair, tail_log, &lo, &hi);
      long first = (long) floor (lo / h) - 1;
      double points = ceil (hi / h) + 2 - first;
      if (points > (double) s->max_points)
        {
          step_set_release (set);
          return DPACCT_FAIL (DPACCT_ENOMEM,
                              "one step's PLD needs more points than the "
                              "memory cap allows");
        }
      int status = pessimistic
        ? dpacct_pld_step_pessimistic (&pair, h, first, (size_t) points,
                                       &set->steps[i])
        : dpacct_pld_step_optimistic (&pair, h, first, (size_t) points,
                                      &set->steps[i]);
      if (status != DPACCT_OK)
        {
          step_set_release (set);
          return status;
        }
      set->n++;
      set->factors[i].step = &set->steps[i];
      set->factors[i].count = s->leaves[i].count;
    }
  return DPACCT_OK;
}

/* Mean of the composed loss under the tilt (the derivative of the
 * composed log-MGF there). */
static double
tilted_mean (const step_set *set, double tilt)
{
  double mean = 0.0;
  for (size_t i = 0; i < set->n; i++)
    {
      const pld_step *st = &set->steps[i];
      double top = -INFINITY;
      for (size_t k = 0; k < st->n; k++)
        if (st->mass[k] > 0.0)
          top = fmax (top, log (st->mass[k]) + tilt * (st->first + (long) k) * st->h);
      double m0 = 0.0, m1 = 0.0;
      for (size_t k = 0; k < st->n; k++)
        if (st->mass[k] > 0.0)
          {
            double c = (st->first + (long) k) * st->h;
            double w = exp (log (st->mass[k]) + tilt * c - top);
            m0 += w;
            m1 += w * c;
          }
      mean += (double) set->factors[i].count * (m0 > 0.0 ? m1 / m0 : 0.0);
    }
  return mean;
}

/* The tilt that centres the composed loss at `eps` (the saddle point:
 * tilted mean = eps), by bisection; 0 when eps is below the mean. */
static double
tilt_for (const step_set *set, double eps)
{
  if (!isfinite (eps) || tilted_mean (set, 0.0) >= eps)
    return 0.0;
  double lo = 0.0, hi = 1.0;
  while (hi < 1e6 && tilted_mean (set, hi) < eps)
    lo = hi, hi *= 4.0;
  for (int i = 0; i < 40 && hi - lo > 1e-6 * hi; i++)
    {
      double mid = 0.5 * (lo + hi);
      if (tilted_mean (set, mid) < eps)
        lo = mid;
      else
        hi = mid;
    }
  return lo;
}

/* One bound (epsilon for `given` delta, or delta for `given` epsilon) of
 * one side in one direction on grid h.  *estimate is where epsilon
 * roughly lies (NaN: unknown yet, found here by an untilted pass); the
 * tilt centres the composition there. */
static int
one_bound (const pld_state *s, pld_direction dir, double h, int upper,
           question ask, double given, double *estimate, double *result)
{
  step_set set;
  /* Truncated tail mass, summed over all steps, stays below 1e-4 of the
   * delta asked for (1e-20 when delta is what is asked). */
  double steps = 0.0;
  for (size_t i = 0; i < s->n; i++)
    steps += (double) s->leaves[i].count;
  double budget = (ask == ASK_EPSILON ? 1e-4 * given : 1e-20) / steps;
  int status = step_set_build (s, dir, h, upper, fmin (-log (budget), 700.0),
                               &set);
  if (status != DPACCT_OK)
    return status;
  pld_composed c;
  if (ask == ASK_DELTA)
    *estimate = given;
  else if (isnan (*estimate))
    {
      status = dpacct_pld_compose (set.factors, set.n, 0.0, s->max_points, &c);
      if (status == DPACCT_OK)
        {
          *estimate = dpacct_pld_composed_epsilon (&c, given, PLD_ESTIMATE);
          dpacct_pld_composed_release (&c);
        }
    }
  if (status == DPACCT_OK)
    status = dpacct_pld_compose (set.factors, set.n, tilt_for (&set, *estimate),
                                 s->max_points, &c);
  if (status == DPACCT_OK)
    {
      pld_side side = upper ? PLD_UPPER : PLD_LOWER;
      *result = ask == ASK_EPSILON
                ? dpacct_pld_composed_epsilon (&c, given, side)
                : dpacct_pld_composed_delta (&c, given, side);
      /* A finer upper bound is a better centre for what follows. */
      if (ask == ASK_EPSILON && upper && isfinite (*result))
        *estimate = *result;
      dpacct_pld_composed_release (&c);
    }
  step_set_release (&set);
  return status;
}

/* Both sides, maximised over the directions that differ.  estimate[d]
 * carries each direction's rough epsilon from round to round. */
static int
bounds_on_grid (const pld_state *s, double h, question ask, double given,
                double *estimate, double *lower, double *upper)
{
  int sampled = 0;
  for (size_t i = 0; i < s->n; i++)
    sampled |= s->leaves[i].q < 1.0;
  *lower = *upper = 0.0;
  for (int d = 0; d < (sampled ? 2 : 1); d++)
    {
      double lo, up;
      pld_direction dir = d ? PLD_ADD : PLD_REMOVE;
      int status = one_bound (s, dir, h, 1, ask, given, &estimate[d], &up);
      if (status == DPACCT_OK)
        status = one_bound (s, dir, h, 0, ask, given, &estimate[d], &lo);
      if (status != DPACCT_OK)
        return status;
      *upper = fmax (*upper, up);
      *lower = fmax (*lower, lo);
    }
  return DPACCT_OK;
}

/* The first grid interval: a fraction of the composed loss's spread. */
static double
initial_interval (const pld_state *s)
{
  if (s->interval > 0.0)
    return s->interval;
  double var = 0.0;
  for (size_t i = 0; i < s->n; i++)
    {
      pld_pair pair = { s->leaves[i].base, s->leaves[i].scale, s->leaves[i].q,
                        PLD_REMOVE };
      double lo, hi;
      dpacct_pld_pair_range (&pair, 40.0, &lo, &hi);
      pld_step coarse;
      double h = (hi - lo) / 4000.0;
      if (dpacct_pld_step_pessimistic (&pair, h, (long) floor (lo / h) - 1,
                                       4003, &coarse) != DPACCT_OK)
        return 1e-3;
      double m1 = 0.0, m2 = 0.0;
      for (size_t k = 0; k < coarse.n; k++)
        {
          double c = (coarse.first + (long) k) * h;
          m1 += coarse.mass[k] * c;
          m2 += coarse.mass[k] * c * c;
        }
      dpacct_pld_step_release (&coarse);
      var += (double) s->leaves[i].count * fmax (m2 - m1 * m1, 0.0);
    }
  double h = 4.0 * s->rel_accuracy * sqrt (var);
  return fmin (fmax (h, 1e-6), 0.5);
}

/* The Laplace loss has atoms (at +-1/b, or their sampled images); a grid
 * point exactly on the upper atom keeps the optimistic PLD from losing a
 * whole interval's margin there.  Only the first Laplace leaf is aligned. */
static double
aligned (const pld_state *s, double h)
{
  for (size_t i = 0; i < s->n; i++)
    if (s->leaves[i].base == PLD_LAPLACE)
      {
        double q = s->leaves[i].q, b = s->leaves[i].scale;
        double atom = q >= 1.0 ? 1.0 / b : log1p (q * expm1 (1.0 / b));
        return atom / ceil (atom / h);
      }
  return h;
}

static int
bounds (const pld_state *s, question ask, double given, dpacct_bound *out)
{
  out->certified = 0;
  if (s->n == 0)
    {
      out->lower = out->upper = 0.0; /* nothing composed */
      return DPACCT_OK;
    }
  double h = initial_interval (s), lower = NAN, upper = NAN;
  double estimate[2] = { NAN, NAN };
  for (int round = 0; round < 8; round++)
    {
      double lo, up;
      if (s->interval == 0.0)
        h = aligned (s, h);
      int status = bounds_on_grid (s, h, ask, given, estimate, &lo, &up);
      if (status == DPACCT_ENOMEM && round > 0)
        break; /* the last grid's bounds stand: valid, only wider */
      if (status == DPACCT_ENOMEM && s->interval == 0.0 && h < 0.25)
        {
          /* Even the first grid is too fine for the cap: coarser bounds
           * are still bounds. */
          h *= 4.0;
          round--;
          continue;
        }
      if (status != DPACCT_OK)
        return status;
      lower = lo, upper = up;
      double gap = ask == ASK_EPSILON ? upper - lower
                   : (upper - lower) / fmax (upper, 1e-300);
      double scale = ask == ASK_EPSILON ? upper : 1.0;
      if (s->interval > 0.0 || !isfinite (upper) || upper == 0.0
          || gap <= s->rel_accuracy * scale)
        break;
      /* The gap shrinks at least like h^2 once the grid resolves the
       * step; aim below the target, by a factor 2 to 16 per round. */
      h *= fmin (fmax (0.7 * sqrt (s->rel_accuracy * scale / gap), 1.0 / 16.0),
                 0.5);
    }
  if (isnan (upper) || isnan (lower))
    return DPACCT_FAIL (DPACCT_ENUMERIC, "PLD bound is NaN");
  out->lower = fmin (lower, upper);
  out->upper = upper;
  return DPACCT_OK;
}

static int
pld_epsilon (const void *state, double delta, dpacct_bound *out)
{
  return bounds (state, ASK_EPSILON, delta, out);
}

static int
pld_delta (const void *state, double epsilon, dpacct_bound *out)
{
  return bounds (state, ASK_DELTA, epsilon, out);
}

static const dpacct_accountant_type pld_type = {
  .name = "pld",
  .state_size = sizeof (pld_state),
  .init = pld_init,
  .release = pld_release,
  .copy = pld_copy,
  .supports = pld_supports,
  .compose = pld_compose,
  .epsilon = pld_epsilon,
  .delta = pld_delta,
};

const dpacct_accountant_type *const dpacct_accountant_pld = &pld_type;
