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

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct
{
  pld_base base;
  double scale; /* the noise multiplier (sigma or b over the clip) */
  double q;
  uint64_t count;
} leaf;

typedef struct
{
  dpacct_neighbouring neighbouring;
  double interval, rel_accuracy;
  size_t max_points;
  int upper_only, certified;
  size_t n, capacity;
  leaf *leaves;
} pld_state;

static int
pld_init (void *state, const dpacct_accountant_options *o)
{
  pld_state *s = state;
  /* The ranges were checked when they were set (pld_settings). */
  memset (s, 0, sizeof *s);
  s->neighbouring
    = (dpacct_neighbouring) dpacct_options_int (o, "neighbouring");
  s->interval = dpacct_options_double (o, "pld-interval");
  s->rel_accuracy = dpacct_options_double (o, "pld-rel-accuracy");
  s->max_points = (size_t) dpacct_options_int (o, "pld-max-points");
  s->upper_only = (int) dpacct_options_int (o, "upper-only");
  s->certified = dpacct_options_int (o, "certified") != 0;
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

/* Gaussian and Laplace steps (Gaussian only when certified), unsampled
 * or Poisson-sampled. */
static int
pld_supports_leaf (const void *state, const dpacct_leaf *step)
{
  const pld_state *s = state;
  if (step->sampling == DPACCT_EVENT_SAMPLED_WITHOUT_REPLACEMENT)
    return DPACCT_EUNSUP;
  if (step->mechanism == DPACCT_EVENT_GAUSSIAN)
    return DPACCT_OK;
  return step->mechanism == DPACCT_EVENT_LAPLACE && !s->certified
             ? DPACCT_OK : DPACCT_EUNSUP;
}

static int
pld_supports (const void *state, const dpacct_event *e)
{
  return dpacct_event_leaves_check (e, pld_supports_leaf, state, NULL);
}

/* Appends the walked leaves w[0..nw) to list/n, merging equal ones. */
static int
add_leaves (const dpacct_leaf *w, size_t nw, leaf **list, size_t *n,
            size_t *capacity)
{
  int status = DPACCT_OK;
  for (size_t k = 0; status == DPACCT_OK && k < nw; k++)
    {
      leaf l;
      size_t i;
      l.base = w[k].mechanism == DPACCT_EVENT_LAPLACE ? PLD_LAPLACE
                                                      : PLD_GAUSSIAN;
      l.scale = w[k].parameter;
      l.q = w[k].rate;
      l.count = w[k].count;
      for (i = 0; i < *n; i++)
        if ((*list)[i].base == l.base && (*list)[i].scale == l.scale
            && (*list)[i].q == l.q)
          break;
      if (i < *n)
        {
          if ((*list)[i].count > DPACCT_MAX_COUNT - l.count)
            status = DPACCT_FAIL (DPACCT_EDOM, "more than 10^12 compositions");
          else
            (*list)[i].count += l.count;
          continue;
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
    }
  return status;
}

/* Appends the leaves of `e`, each run `count` times, to list/n, merging
 * equal ones (the walk is dpacct_event_leaves, shared by every
 * accountant). */
static int
collect (const pld_state *s, const dpacct_event *e, uint64_t count,
         leaf **list, size_t *n, size_t *capacity)
{
  dpacct_leaf_list walked;
  (void) s;
  dpacct_leaf_list_init (&walked);
  int status = dpacct_event_leaves (e, count, &walked);
  if (status == DPACCT_OK)
    status = add_leaves (walked.leaves, walked.n, list, n, capacity);
  dpacct_leaf_list_release (&walked);
  return status;
}

static int
pld_compose (void *state, const dpacct_event *e, uint64_t count)
{
  pld_state *s = state;
  int supported = pld_supports (s, e);
  if (supported != DPACCT_OK && supported != DPACCT_EUNSUP)
    return supported; /* a count past the limit */
  if (supported != DPACCT_OK)
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

/* ---- the pairs of a leaf ---------------------------------------------- */

/* The pairs whose composition stands for one step of a leaf: for the
 * upper bound a pair that dominates the step, for the lower bound one
 * that a pair of neighbouring datasets attains.
 *
 * Under add/remove both are the one pair in direction `dir`.  Under
 * replace-one a clipped sum moves by up to 2C, so an unsampled step is
 * the pair at sensitivity 2.  With Poisson sampling (the upper bound is
 * also capped by group privacy, see group_upper):
 *
 * - Upper: the batch S of the other examples is drawn independently of
 *   whether the replaced one is in, so M(D) = E_S [(1-q) N(f_S, s^2 I) +
 *   q N(f_S + a, s^2 I)] and M(D') likewise with b, |a|, |b| <= 1 (in
 *   units of C).  Hockey-stick divergences are jointly convex and shift
 *   invariant, so the pair P_a = (1-q) N(0) + q N(a) against P_b bounds
 *   it.  The map x -> A x + Z, A = [a b] / sqrt 2 (|A|^2 <= (|a|^2 +
 *   |b|^2) / 2 <= 1), Z ~ N(0, s^2 (I - A A')), sends N(0), N(sqrt2 e1),
 *   N(sqrt2 e2) to N(0), N(a), N(b); by post-processing P_a against P_b
 *   is dominated by M x N(0) against N(0) x M, M = (1-q) N(0, s^2) +
 *   q N(sqrt 2, s^2).  That product is one remove step composed with one
 *   add step at noise multiplier s / sqrt 2, and it is symmetric, so one
 *   direction covers both.  Dominating pairs compose (Zhu, Dong and Wang
 *   2022).  Laplace noise is not preserved by such maps: no pair is
 *   known for it (0 pairs), and group privacy alone bounds it.
 * - Lower: an example at +C e1 replaced by one at -C e1, all others
 *   clipped to 0, gives the opposite pair (1-q) M(0) + q M(+-1) in every
 *   step.  Koskela et al. 2020 account replace-one by that pair (newer
 *   dp_accounting versions seem to as well); we know no proof that it
 *   dominates, so it sets the lower end only, and the gap between the
 *   ends includes that doubt.  A numerical search over two unit
 *   contributions at angles from 30 to 175 degrees (one step) found
 *   none that leaks more, so the lower end is probably the truth. */
static size_t
leaf_pairs (const pld_state *s, const leaf *l, pld_direction dir, int upper,
            pld_pair pairs[2])
{
  if (s->neighbouring == DPACCT_ADD_REMOVE)
    {
      pairs[0] = (pld_pair) { l->base, l->scale, l->q, dir };
      return 1;
    }
  if (l->q >= 1.0)
    {
      pairs[0] = (pld_pair) { l->base, l->scale / 2.0, 1.0, PLD_REMOVE };
      return 1;
    }
  if (!upper)
    {
      pairs[0] = (pld_pair) { l->base, l->scale, l->q, PLD_OPPOSITE };
      return 1;
    }
  if (l->base != PLD_GAUSSIAN)
    return 0;
  pairs[0] = (pld_pair) { PLD_GAUSSIAN, l->scale / M_SQRT2, l->q, PLD_REMOVE };
  pairs[1] = pairs[0];
  pairs[1].direction = PLD_ADD;
  return 2;
}

/* The pairs of a leaf that say most about its loss: the upper bound's,
 * or the lower bound's where the upper has none. */
static size_t
leaf_pairs_any (const pld_state *s, const leaf *l, pld_pair pairs[2])
{
  size_t n = leaf_pairs (s, l, PLD_REMOVE, 1, pairs);
  return n > 0 ? n : leaf_pairs (s, l, PLD_REMOVE, 0, pairs);
}

/* Whether every leaf has a proved dominating pair. */
static int
dominating_pairs_known (const pld_state *s)
{
  pld_pair pairs[2];
  for (size_t i = 0; i < s->n; i++)
    if (leaf_pairs (s, &s->leaves[i], PLD_REMOVE, 1, pairs) == 0)
      return 0;
  return 1;
}

/* Whether the lower bound comes from other pairs than the upper one. */
static int
lower_from_witness (const pld_state *s)
{
  if (s->neighbouring != DPACCT_REPLACE_ONE)
    return 0;
  for (size_t i = 0; i < s->n; i++)
    if (s->leaves[i].q < 1.0)
      return 1;
  return 0;
}

/* ---- bounds ------------------------------------------------------------ */

typedef enum { ASK_EPSILON, ASK_DELTA } question;

/* The steps of every leaf in one direction, on a grid of interval h. */
typedef pld_step_list step_set;

static void
step_set_release (step_set *set)
{
  for (size_t i = 0; set->steps != NULL && i < set->n; i++)
    dpacct_pld_step_release (&set->steps[i]);
  free (set->steps);
  free (set->factors);
  free (set->pairs);
  set->steps = NULL;
  set->factors = NULL;
  set->pairs = NULL;
}

/* Whether two pairs are the same mechanism in the same direction. */
static int
same_pair (const pld_pair *a, const pld_pair *b)
{
  return a->base == b->base && a->scale == b->scale && a->q == b->q
         && a->direction == b->direction;
}

/* Moves donor's step of `pair` (built on the same grid, stations and
 * tail cut) into *out; 0 if it has none. */
static int
take_step (step_set *donor, const pld_pair *pair, pld_step *out)
{
  for (size_t k = 0; donor != NULL && k < donor->n; k++)
    {
      const pld_pair *p = &donor->pairs[k];
      if (donor->steps[k].mass != NULL && same_pair (p, pair))
        {
          *out = donor->steps[k];
          donor->steps[k].mass = NULL;
          return 1;
        }
    }
  return 0;
}

/* How a step is discretised: dpacct_pld_step_pessimistic,
 * dpacct_pld_step_optimistic or certified_step. */
typedef int step_builder (const pld_pair *pair, const pld_stations *grid,
                          pld_step *out);

/* The certified step takes its tails at every point. */
static int
certified_step (const pld_pair *pair, const pld_stations *grid,
                pld_step *out)
{
  return dpacct_pld_certified_step (pair, grid->h, grid->first, grid->n, out);
}

/* Which cells of a step may be STATION_STRIDE points wide instead of
 * one (see pld_stations; the tails there cost most of a step, and most
 * of a step's points lie in its far tails, whose range is set by the tail
 * it cuts, where its mass is tiny).  A cell of P-mass m moves a loss up
 * by at most w = STATION_STRIDE h, which raises the step's curve by at
 * most m w, and so the composed delta at eps by at most m w times the
 * probability that the other steps' loss reaches eps from the cell's top
 * e_b, at most e^{K(t) - t (eps - e_b)} for the composed log-MGF K at any
 * tilt t >= 0 (Chernoff; each step's log-MGF there is >= 0).  So a cell
 * stays coarse when that times the run's steps T is at most
 * STATION_SHARE of delta (a fixed share, not one of the accuracy asked
 * for: every accuracy's rungs are the same, so a tighter one's bounds are
 * never wider; at most 1e-7 of delta is far below the 1e-6 finest
 * rel_accuracy's effect on epsilon); the tilt and K are those the
 * upper side composed with on the rung before (none: every point is a
 * station).  Only the accuracy is at stake: any stations give a valid
 * step. */
enum { STATION_STRIDE = 16 };
#define STATION_SHARE 1e-7

static pld_stations
step_stations (double h, long first, size_t n, const pld_station_rule *rule)
{
  pld_stations g = dpacct_pld_stations_all (h, first, n);
  if (rule != NULL && isfinite (rule->tilt) && rule->tilt >= 0.0
      && isfinite (rule->log_mgf) && isfinite (rule->eps) && rule->delta > 0.0)
    {
      g.stride = STATION_STRIDE;
      g.tilt = rule->tilt;
      g.log_mgf = rule->log_mgf;
      g.target = rule->eps;
      g.refine_log = log (STATION_SHARE * rule->delta
                          / (rule->steps * STATION_STRIDE * h));
    }
  return g;
}

/* A pair's range for a tail cut (dpacct_pld_pair_range), kept: it does
 * not depend on the grid, and a long run's ranges (each a search of some
 * ninety tails) were 4 % of it, taken again on every rung. */
typedef struct
{
  pld_pair pair;
  double tail_log, lo, hi; /* tail_log NaN: none */
} pair_range;

static void
range_of (pair_range *kept, const pld_pair *pair, double tail_log,
          double *lo, double *hi)
{
  if (kept != NULL && kept->tail_log == tail_log
      && same_pair (&kept->pair, pair))
    {
      *lo = kept->lo, *hi = kept->hi;
      return;
    }
  dpacct_pld_pair_range (pair, tail_log, lo, hi);
  if (kept != NULL)
    *kept = (pair_range) { *pair, tail_log, *lo, *hi };
}

/* Each step's grid ends where the loss has P-probability below
 * e^-tail_log; beyond, the pessimistic steps put the mass at +infinity
 * (counted in delta), the optimistic one drops it.  The pairs are the
 * leaves' for the upper bound or for the lower one.  ENOMEM when a step
 * needs more than max_points points.  With `optimistic_too` (pessimistic
 * steps for the upper bound only), where the upper bound's pairs are the
 * lower's, the optimistic steps on the same grids are built there from
 * the same tails (which cost most of a step); elsewhere it is left
 * empty.  `ranges` (NULL, or one per step) keeps each step's range. */
static int
step_set_fill (const pld_state *s, pld_direction dir, int upper, double h,
               step_builder *build, double tail_log,
               const pld_station_rule *rule, size_t max_points, step_set *set,
               step_set *optimistic_too, step_set *donor, pair_range *ranges)
{
  step_set *sets[2] = { set, optimistic_too };
  int n_sets = 1;
  if (optimistic_too != NULL)
    {
      memset (optimistic_too, 0, sizeof *optimistic_too);
      n_sets = 2;
      for (size_t i = 0; n_sets == 2 && i < s->n; i++)
        {
          pld_pair low[2], up[2];
          size_t n_low = leaf_pairs (s, &s->leaves[i], dir, 0, low);
          size_t n_up = leaf_pairs (s, &s->leaves[i], dir, 1, up);
          for (size_t j = 0; n_sets == 2 && j < n_low; j++)
            if (n_up != n_low || !same_pair (&up[j], &low[j]))
              n_sets = 1;
        }
    }
  int status = DPACCT_OK;
  for (int m = 0; m < n_sets; m++)
    {
      sets[m]->n = 0;
      sets[m]->steps = calloc (2 * s->n, sizeof *sets[m]->steps);
      sets[m]->factors = calloc (2 * s->n, sizeof *sets[m]->factors);
      sets[m]->pairs = calloc (2 * s->n, sizeof *sets[m]->pairs);
      if (sets[m]->steps == NULL || sets[m]->factors == NULL
          || sets[m]->pairs == NULL)
        status = DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate PLD steps");
    }
  for (size_t i = 0; status == DPACCT_OK && i < s->n; i++)
    {
      pld_pair pairs[2];
      size_t n_pairs = leaf_pairs (s, &s->leaves[i], dir, upper, pairs);
      for (size_t j = 0; status == DPACCT_OK && j < n_pairs; j++)
        {
          double lo, hi;
          range_of (ranges != NULL ? &ranges[set->n] : NULL, &pairs[j],
                    tail_log, &lo, &hi);
          long first = (long) floor (lo / h) - 1;
          double points = ceil (hi / h) + 2 - first;
          if (points > (double) max_points)
            {
              status = DPACCT_FAIL (DPACCT_ENOMEM,
                                    "one step's PLD needs more points than "
                                    "the memory cap allows");
              break;
            }
          pld_step *step = &set->steps[set->n];
          pld_stations g = step_stations (h, first, (size_t) points, rule);
          pld_step *twin = n_sets == 2 ? &optimistic_too->steps[set->n]
                                       : NULL;
          if (twin != NULL)
            status = dpacct_pld_steps_both (&pairs[j], &g, twin, step);
          else if (!take_step (donor, &pairs[j], step))
            status = build (&pairs[j], &g, step);
          if (status != DPACCT_OK)
            break;
          for (int m = 0; m < n_sets; m++)
            {
              size_t k = sets[m]->n++;
              sets[m]->pairs[k] = pairs[j];
              sets[m]->factors[k].step = &sets[m]->steps[k];
              sets[m]->factors[k].count = s->leaves[i].count;
            }
        }
    }
  for (int m = 0; status != DPACCT_OK && m < n_sets; m++)
    step_set_release (sets[m]);
  return status;
}

static int
step_set_build (const pld_state *s, pld_direction dir, int upper, double h,
                step_builder *build, double tail_log,
                const pld_station_rule *rule, size_t max_points, step_set *set)
{
  return step_set_fill (s, dir, upper, h, build, tail_log, rule, max_points,
                        set, NULL, NULL, NULL);
}

/* Mean of the composed loss under the tilt (the derivative of the
 * composed log-MGF there), the composed log-MGF itself in *log_mgf and
 * its variance (the mean's derivative in the tilt) in *var;
 * log_mass[i] holds step i's log masses.  Terms below e^-40 of the
 * largest do not move the mean. */
static double
tilted_mean (const step_set *set, double *const *log_mass, double tilt,
             double *log_mgf, double *var)
{
  double mean = 0.0;
  *log_mgf = *var = 0.0;
  for (size_t i = 0; i < set->n; i++)
    {
      const pld_step *st = &set->steps[i];
      pld_tilted t;
      dpacct_pld_step_tilt_moments (st, log_mass[i], tilt, 40.0,
                                    PLD_SMALL_DROPPED, &t);
      double count = (double) set->factors[i].count;
      mean += count * t.mean;
      *var += count * t.var;
      *log_mgf += count * t.log_mgf;
    }
  return mean;
}

/* What a tilt search tests: the steps, their log masses and the target
 * (an epsilon, or the log of a tail probability). */
typedef struct
{
  const step_set *set;
  double *const *log_mass;
  double target;
} tilt_goal;

/* The tilted mean less the target; its derivative is the variance. */
static double
mean_above (const void *context, double tilt, double *slope)
{
  const tilt_goal *g = context;
  double k;
  return tilted_mean (g->set, g->log_mass, tilt, &k, slope) - g->target;
}

/* How far the Chernoff estimate of P(L > m) at the tilted mean m,
 * exp(K(tilt) - tilt m), has fallen below the target (its log): K - tilt m
 * decreases in the tilt, with derivative -tilt var. */
static double
tail_below (const void *context, double tilt, double *slope)
{
  const tilt_goal *g = context;
  double k, var, m = tilted_mean (g->set, g->log_mass, tilt, &k, &var);
  *slope = tilt * var;
  return g->target - (k - tilt * m);
}

/* The centre need not be exact (the error bounds use the tilt taken), so
 * tilts are searched to 1e-3, by Newton's method: each try is a pass over
 * every step with an exponential per point. */
static double
smallest_tilt (const step_set *set, double *const *log_mass, pld_tilt_fn *f,
               double target)
{
  tilt_goal goal = { set, log_mass, target };
  return dpacct_pld_tilt_newton (f, &goal, 1e-3);
}

/* The tilt that centres the composed loss at `eps` (the saddle point:
 * tilted mean = eps); 0 when eps is below the mean, or when memory runs
 * short (an untilted composition is still correct). */
static double
tilt_for (const step_set *set, double *const *log_mass, double eps)
{
  if (!isfinite (eps) || log_mass == NULL)
    return 0.0;
  return smallest_tilt (set, log_mass, mean_above, eps);
}

/* Where epsilon for `delta` roughly lies, without composing: the tilted
 * mean at the saddle point whose Chernoff estimate of the tail is delta.
 * It only centres the first composition; NaN when memory runs short. */
static double
saddle_estimate (const step_set *set, double *const *log_mass, double delta)
{
  if (log_mass == NULL)
    return NAN;
  double k, var, tilt = smallest_tilt (set, log_mass, tail_below, log (delta));
  return tilted_mean (set, log_mass, tilt, &k, &var);
}

/* The number of steps composed on the side that composes more (a
 * replace-one sampled Gaussian leaf composes two per step for the upper
 * bound, one for the lower). */
static double
total_steps (const pld_state *s)
{
  double steps = 0.0;
  for (size_t i = 0; i < s->n; i++)
    {
      pld_pair pairs[2];
      size_t up = leaf_pairs (s, &s->leaves[i], PLD_REMOVE, 1, pairs);
      size_t low = leaf_pairs (s, &s->leaves[i], PLD_REMOVE, 0, pairs);
      steps += (double) s->leaves[i].count * (double) (up > low ? up : low);
    }
  return steps;
}

/* How many directions to maximise over: 2 when the add direction differs
 * from the remove one; under replace-one the pairs are symmetric. */
static int
directions (const pld_state *s)
{
  if (s->neighbouring == DPACCT_REPLACE_ONE)
    return 1;
  for (size_t i = 0; i < s->n; i++)
    if (s->leaves[i].q < 1.0)
      return 2;
  return 1;
}

/* Steps held for later, with what they were built on: grid h (0: none),
 * tail cut and stations. */
typedef struct
{
  step_set set;
  double h, tail_log;
  pld_station_rule stations;
} held_steps;

static void
held_release (held_steps *held)
{
  step_set_release (&held->set);
  held->set.n = 0;
  held->h = 0.0;
}

/* Whether `held` holds steps built on these. */
static int
held_matches (const held_steps *held, double h, double tail_log,
              const pld_station_rule *stations)
{
  return held->h > 0.0 && held->h == h && held->tail_log == tail_log
         && memcmp (&held->stations, stations, sizeof *stations) == 0;
}

/* What each direction carries from grid to grid: where its composition
 * is centred, a rough epsilon (NaN: unknown yet, then the saddle-point
 * estimate, then the last upper bound), the tilt that the upper side
 * chose for it (NaN: none yet) and the one the lower side centres on
 * (the upper side's on the rung before, or its own when there is none);
 * its smallest upper bound so far, on any grid (+Inf: none yet); and the
 * FFT plans of each side's last composition. */
typedef struct
{
  double estimate[2];
  double tilt[2], lower_tilt[2];
  double upper[2];
  double upper_h[2]; /* the grid the upper side last ran on (0: none) */
  /* Each side's own (not shared: a kept plan can widen the window, see
   * choose_window, so a shared one would make the upper bound depend on
   * whether the lower side ran, and calibration's upper-only bound would
   * differ from the full answer's). */
  pld_fft_plan plan[2][2]; /* [upper][direction] */
  double delta_tail_log; /* where the steps' grids end, asked for a tiny
                          * delta (see one_bound; 0: not yet) */
  /* The optimistic steps that the upper side built from its tails for
   * the lower side on the same rung (step_set_fill); the upper side builds
   * them only when lower_follows says the lower side runs on the rung,
   * asking with the same target. */
  held_steps spare[2];
  int lower_follows;
  /* What chooses the steps' stations (step_stations), from the upper
   * side's composition on the rung before (a NaN tilt or eps: none yet,
   * every point a station), and what the rung uses, per direction (taken
   * when it starts, see rung_start): both sides of a rung use the same,
   * whether the lower side runs or not. */
  pld_station_rule stations[2], used_stations[2];
  /* With `keep`, each direction's last upper steps (see
   * dpacct_pld_fixed_grid). */
  int keep;
  held_steps kept[2];
  /* Each step's range, per side and direction (NULL until needed). */
  pair_range *ranges[2][2]; /* [upper][direction] */
} centring;

/* Nothing known yet: no estimate, tilt or upper bound, no tables. */
static void
centring_init (centring *at)
{
  memset (at, 0, sizeof *at);
  for (int d = 0; d < 2; d++)
    {
      at->estimate[d] = at->tilt[d] = at->lower_tilt[d] = NAN;
      at->stations[d].tilt = at->used_stations[d].tilt = NAN;
      at->upper[d] = INFINITY;
    }
}

/* A new rung: its steps' stations, and the lower side's centre, are
 * those the upper side left on the rung before; steps it built for a
 * lower side that did not run are dropped. */
static void
rung_start (centring *at)
{
  for (int d = 0; d < 2; d++)
    {
      at->used_stations[d] = at->stations[d];
      at->lower_tilt[d] = at->tilt[d];
      held_release (&at->spare[d]);
    }
}

/* The ranges kept for one side in direction d, one per step (2 per leaf
 * at most); NULL when memory is short (then each is searched again). */
static pair_range *
ranges_for (const pld_state *s, centring *at, int d, int upper)
{
  pair_range **r = &at->ranges[upper][d];
  if (*r == NULL && (*r = malloc (2 * s->n * sizeof **r)) != NULL)
    for (size_t i = 0; i < 2 * s->n; i++)
      (*r)[i].tail_log = NAN;
  return *r;
}

static void
centring_release (centring *at)
{
  for (int side = 0; side < 2; side++)
    for (int d = 0; d < 2; d++)
      dpacct_pld_fft_plan_release (&at->plan[side][d]);
  for (int d = 0; d < 2; d++)
    {
      held_release (&at->spare[d]);
      held_release (&at->kept[d]);
      free (at->ranges[0][d]), free (at->ranges[1][d]);
      at->ranges[0][d] = at->ranges[1][d] = NULL;
    }
}

/* One side of the bound in one direction on grid h, each step's grid
 * ending where its tail is below e^-tail_log; *infinity is the composed
 * mass at +infinity (a part of an upper delta).  With `twin` (upper side
 * only), the lower side's steps are built from the same tails and kept
 * in at->spare for it. */
static int
bound_with_tails (const pld_state *s, pld_direction dir, double h, int upper,
                  question ask, double given, double tail_log, int twin,
                  centring *at, double *result, double *infinity)
{
  int d = dir == PLD_ADD;
  step_set set;
  int status = DPACCT_OK;
  held_steps *spare = &at->spare[d];
  const pld_station_rule *stations = &at->used_stations[d];
  if (!upper && held_matches (spare, h, tail_log, stations))
    {
      set = spare->set; /* the upper side's tails, already made steps */
      memset (&spare->set, 0, sizeof spare->set);
      spare->h = 0.0;
    }
  else
    {
      if (twin || !upper)
        held_release (spare); /* replaced, or not on this grid */
      if (upper)
        held_release (&at->kept[d]); /* not this rung's */
      status = step_set_fill (s, dir, upper, h,
                              upper ? dpacct_pld_step_pessimistic
                                    : dpacct_pld_step_optimistic,
                              tail_log, stations, s->max_points, &set,
                              twin ? &spare->set : NULL, NULL,
                              ranges_for (s, at, d, upper));
      if (status == DPACCT_OK && spare->set.steps != NULL)
        *spare = (held_steps) { spare->set, h, tail_log, *stations };
    }
  if (status != DPACCT_OK)
    return status;
  pld_composed c;
  /* Taken once, for the centring and the composition (which frees them;
   * NULL when memory is short: it takes them again). */
  double **log_mass = dpacct_pld_log_masses (set.factors, set.n);
  if (ask == ASK_DELTA)
    at->estimate[d] = given;
  else if (isnan (at->estimate[d]))
    at->estimate[d] = saddle_estimate (&set, log_mass, given);
  /* The optimistic steps' far tails are cut, which skews their tilted
   * mean; the pessimistic steps place the centre better for both. */
  double *tilt = upper ? &at->tilt[d] : &at->lower_tilt[d];
  if (upper || isnan (*tilt))
    *tilt = tilt_for (&set, log_mass, at->estimate[d]);
  status = dpacct_pld_compose_logged (set.factors, set.n, log_mass, *tilt,
                                      s->max_points, &at->plan[upper][d], &c);
  if (status == DPACCT_OK && upper && ask == ASK_EPSILON)
    at->stations[d] = (pld_station_rule) { at->tilt[d], c.log_scale, NAN,
                                           given, total_steps (s) };
  if (status == DPACCT_OK)
    {
      pld_side side = upper ? PLD_UPPER : PLD_LOWER;
      *result = ask == ASK_EPSILON
                ? dpacct_pld_composed_epsilon (&c, given, side)
                : dpacct_pld_composed_delta (&c, given, side);
      *infinity = c.infinity;
      dpacct_pld_composed_release (&c);
    }
  if (status == DPACCT_OK && upper && at->keep)
    {
      at->kept[d] = (held_steps) { set, h, tail_log, *stations };
    }
  else
    step_set_release (&set);
  return status;
}

/* Where each step's grid ends at first (see one_bound): the log of the
 * inverse of the tail cut off. */
static double
tail_cut (const pld_state *s, question ask, double given)
{
  return fmin (-log ((ask == ASK_EPSILON ? 1e-4 * given : 1e-20)
                     / total_steps (s)), 700.0);
}

/* One side of the bound (epsilon for `given` delta, or delta for `given`
 * epsilon) in one direction on grid h.  Each step's grid ends where its
 * tail is below 1e-4 of the delta asked for over the steps (1e-20 over
 * the steps when delta is asked).  The pessimistic steps count the cut
 * tails at +infinity, in delta: asked for delta, where they make most of
 * the upper bound (a tiny delta), the tails are cut to 1e-4 of the rest
 * of it, and from there on on every rung (at most e^-700 a step). */
static int
one_bound (const pld_state *s, pld_direction dir, double h, int upper,
           question ask, double given, int twin, centring *at,
           double *result)
{
  double steps = total_steps (s);
  double tail_log = tail_cut (s, ask, given), lowers = tail_log;
  if (ask == ASK_DELTA && upper)
    tail_log = fmax (tail_log, at->delta_tail_log);
  double infinity = 0.0;
  /* Only steps that end where the lower side's do are built for it. */
  int status = bound_with_tails (s, dir, h, upper, ask, given, tail_log,
                                 twin && tail_log == lowers, at, result,
                                 &infinity);
  while (status == DPACCT_OK && ask == ASK_DELTA && upper
         && infinity > 1e-3 * *result && tail_log < 700.0)
    {
      double rest = fmax (*result - infinity, 1e-300), finer = *result;
      tail_log = fmin (fmax (-log (1e-4 * rest / steps), tail_log + 10.0),
                       700.0);
      status = bound_with_tails (s, dir, h, upper, ask, given, tail_log, 0,
                                 at, &finer, &infinity);
      if (status == DPACCT_ENOMEM)
        {
          status = DPACCT_OK; /* the bound with the shorter grid stands */
          break;
        }
      *result = fmin (*result, finer);
      at->delta_tail_log = tail_log;
    }
  return status;
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
        pld_pair pairs[2];
        leaf_pairs_any (s, &s->leaves[i], pairs);
        double atom = dpacct_pld_pair_top_atom (&pairs[0]);
        return atom / ceil (atom / h);
      }
  return h;
}

/* The upper side in direction d on grid h (it lowers at->upper[d]); with
 * `twin`, building the lower side's steps too (see bound_with_tails). */
static int
upper_in (const pld_state *s, int d, double h, question ask, double given,
          int twin, centring *at)
{
  double v = 0.0;
  int status = one_bound (s, d ? PLD_ADD : PLD_REMOVE, h, 1, ask, given,
                          twin, at, &v);
  if (status == DPACCT_OK)
    {
      at->upper[d] = fmin (at->upper[d], v);
      at->upper_h[d] = h;
    }
  return status;
}

/* One side on grid h, maximised over the directions that differ.  The
 * direction with the larger upper bound so far goes first; the other is
 * skipped when its upper bound so far (valid on any grid) is already at
 * most the value found: then neither its upper nor its lower bound can
 * raise the maximum.  At small sampling rates one direction dominates,
 * and this halves the work.  When the other direction's upper bound is
 * within 5 % above the value (on the lower side: above the lower bound
 * found, where its lower bound would cost a whole rung and often be 0),
 * its upper bound on a grid twice as coarse (if still finer than its
 * last) is tried first: it often brings it under, for half the cost. */
static int
side_on_grid (const pld_state *s, double h, int upper, question ask,
              double given, centring *at, double *value)
{
  int n_dir = directions (s);
  int first = n_dir == 2 && at->upper[1] > at->upper[0];
  *value = 0.0;
  for (int k = 0; k < n_dir; k++)
    {
      int d = k == 0 ? first : !first;
      double coarse = aligned (s, 2.0 * h);
      if (k > 0 && at->upper[d] > *value
          && at->upper[d] <= 1.05 * *value && coarse < at->upper_h[d]
          && s->interval == 0.0)
        {
          /* no twin: the lower side's steps are on grid h */
          int status = upper_in (s, d, coarse, ask, given, 0, at);
          if (status != DPACCT_OK && status != DPACCT_ENOMEM)
            return status;
        }
      if (k > 0 && at->upper[d] <= *value)
        continue;
      double v = 0.0;
      int status = upper ? upper_in (s, d, h, ask, given, at->lower_follows,
                                     at)
                         : one_bound (s, d ? PLD_ADD : PLD_REMOVE, h, 0, ask,
                                      given, 0, at, &v);
      if (status != DPACCT_OK)
        return status;
      *value = fmax (*value, upper ? at->upper[d] : v);
    }
  if (upper && n_dir == 2)
    *value = fmax (*value, fmin (at->upper[0], at->upper[1]));
  return DPACCT_OK;
}

/* The standard deviation of the composed loss (of a coarse pessimistic
 * discretisation of leaf_pairs_any in the remove direction); NaN when
 * memory is short.  The sum stops once it reaches `cap` (a caller whose
 * use of it saturates there; then the result is at least cap): a long
 * run's leaves cost a coarse step each (5 % of a 1000-phase run). */
static double
composed_spread (const pld_state *s, double cap)
{
  double var = 0.0;
  for (size_t i = 0; i < s->n && !(var >= cap * cap); i++)
    {
      pld_pair pairs[2];
      size_t n_pairs = leaf_pairs_any (s, &s->leaves[i], pairs);
      for (size_t j = 0; j < n_pairs; j++)
        {
          double lo, hi;
          dpacct_pld_pair_range (&pairs[j], 40.0, &lo, &hi);
          pld_step coarse;
          double h = (hi - lo) / 1000.0;
          pld_stations g = dpacct_pld_stations_all (h, (long) floor (lo / h)
                                                         - 1, 1003);
          if (dpacct_pld_step_pessimistic (&pairs[j], &g, &coarse)
              != DPACCT_OK)
            return NAN;
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
    }
  return sqrt (var);
}

/* Where the witness pairs' lower bound starts when no upper bound's
 * ladder goes before it: a fraction of the composed loss's spread. */
static double
witness_start (const pld_state *s)
{
  double h = 16.0 * s->rel_accuracy
             * composed_spread (s, 0.51 / (16.0 * s->rel_accuracy));
  return isnan (h) ? 1e-3 : fmin (fmax (h, 1e-6), 0.5);
}

/* Where the grid ladder starts: coarse (each rung costs in inverse
 * proportion to its interval, so the coarse ones cost little), a fraction
 * of the larger of the composed loss's spread and a rough epsilon (the
 * saddle-point estimate on a coarse discretisation): few steps at a small
 * sampling rate have a tiny spread and an epsilon set by one step's tail.
 * It does not depend on the accuracy asked for, so that every accuracy
 * climbs the same ladder (see refine). */
static double
ladder_start (const pld_state *s, question ask, double given)
{
  /* From 1.25 on, the start is the coarsest, 0.5, whatever else (1.3:
   * clear of rounding at the edge). */
  double spread = composed_spread (s, 1.3);
  double scale = isnan (spread) ? 0.0 : spread;
  double eps = ask == ASK_DELTA ? given : NAN;
  /* A spread that already sets the coarsest start leaves the epsilon
   * estimate nothing to raise (a 1000-phase run: a tenth of its time). */
  if (ask == ASK_EPSILON && !(0.4 * spread >= 0.5))
    {
      double tail_log = tail_cut (s, ASK_EPSILON, given);
      double widest = 0.0;
      for (size_t i = 0; i < s->n; i++)
        {
          pld_pair pairs[2];
          size_t n_pairs = leaf_pairs_any (s, &s->leaves[i], pairs);
          for (size_t j = 0; j < n_pairs; j++)
            {
              double lo, hi;
              dpacct_pld_pair_range (&pairs[j], tail_log, &lo, &hi);
              widest = fmax (widest, hi - lo);
            }
        }
      step_set set;
      if (widest > 0.0
          && step_set_build (s, PLD_REMOVE, dominating_pairs_known (s),
                             widest / 2000.0, dpacct_pld_step_pessimistic,
                             tail_log, NULL, 8192, &set) == DPACCT_OK)
        {
          double **log_mass = dpacct_pld_log_masses (set.factors, set.n);
          eps = saddle_estimate (&set, log_mass, given);
          dpacct_pld_log_masses_free (log_mass, set.n);
          step_set_release (&set);
        }
    }
  if (isfinite (eps))
    scale = fmax (scale, eps);
  double h = fmax (0.4 * spread, 0.05 * scale);
  return isfinite (h) && h > 0.0 ? fmin (fmax (h, 1e-6), 0.5) : 1e-3;
}

/* The finest grid that fitted the memory cap so far (NaN: none) and the
 * coarsest that did not (0: none). */
typedef struct
{
  double fitted, failed;
} grid_bracket;

/* The next grid for a lower bound: `want`, unless that is no coarser
 * than a grid that did not fit the cap; then halfway (geometrically)
 * between that one and the finest that fitted, and 0 when that is within
 * 20 % of the one that fitted (nothing left worth trying). */
static double
next_grid (const pld_state *s, const grid_bracket *b, double want)
{
  if (want > b->failed)
    return aligned (s, want);
  if (isnan (b->fitted))
    return 0.0;
  double mid = sqrt (b->fitted * b->failed);
  return mid > 0.8 * b->fitted ? 0.0 : aligned (s, mid);
}

/* The order p of the upper bound's convergence, U(h) = U* + c h^p, seen
 * over two refinements: by d1 from h0 to h1 = h0 / r1, and then by d2 to
 * h2 = h1 / r2, so that d1 / d2 = r2^p (r1^p - 1) / (r2^p - 1); held to
 * [1, 2].  Connect-the-dots converges like h^2 once the grid resolves the
 * steps' losses, and more slowly on coarser grids; with one refinement
 * only (d1 NaN), 1, which overstates how far the bound still is. */
static double
convergence_order (double d1, double r1, double d2, double r2)
{
  if (!(d1 > 0.0 && d2 > 0.0))
    return isnan (d1) ? 1.0 : 2.0; /* no change: converged */
  double target = log (d1 / d2), lo = 1.0, hi = 2.0;
  for (int i = 0; i < 30; i++)
    {
      double p = 0.5 * (lo + hi);
      double f = p * log (r2) + log (expm1 (p * log (r1)))
                 - log (expm1 (p * log (r2)));
      if (f < target) /* the seen ratio asks for a higher order */
        lo = p;
      else
        hi = p;
    }
  return 0.5 * (lo + hi);
}

/* Why the refinement ended, and the rungs' bounds so far. */
typedef struct
{
  double upper, lower;    /* the best of every rung (NaN: none yet) */
  double start, h;        /* the first rung's interval and the last's */
  int limit;              /* DPACCT_PLD_LIMIT_* */
} ladder;

/* Both bounds from the leaves' pairs on a ladder of grids, from
 * ladder_start down.  Each rung's bounds are valid, and the best of all
 * rungs stand.  The upper bound converges like h^p, so two rungs estimate
 * how far it still is above the exact value, excess(h2) = (U(h1) -
 * U(h2)) / ((h1/h2)^p - 1), p from convergence_order; it is done when
 * that is at most rel_accuracy/2 of it, and the lower bound when upper -
 * lower is at most 10 rel_accuracy of the upper.
 *
 * The rungs do not depend on the accuracy asked for, only on the bounds
 * found: a jump aims the excess at 2.5 % and then at 0.05 % of the upper
 * bound (at most 8-fold), and then the interval halves.  The lower side
 * joins at the first rung whose excess is at most 25 % (every accuracy's
 * rung is at or past it) and is then computed on every rung until it is
 * done (the last rungs, the finest, cost most, and a rung that only the
 * upper side needs costs half), on the centre the upper side chose on the
 * rung before; the upper side is computed on every rung, so that its
 * rungs and bound are those it has alone (upper_only, as calibration
 * asks) or tighter.  So a tighter accuracy climbs the same ladder
 * further, with the lower side on every rung that a looser one has it
 * on, and its bounds are never wider.  A rung too fine for the memory
 * cap is backed off from (next_grid); the climb ends when nothing is
 * left to try there (the best bounds stand, wider than asked:
 * DPACCT_PLD_LIMIT_MEMORY).  The lower side gives up when two rungs in a
 * row narrow their own gap by less than 1 % once the lower bound is above
 * 0, and the climb then ends when the upper side is done
 * (DPACCT_PLD_LIMIT_NO_GAIN). */
static int
refine (const pld_state *s, question ask, double given, double given_lower,
        int want_lower, centring *at, ladder *out)
{
  enum { MAX_RUNGS = 24 };
  double h = s->interval > 0.0 ? s->interval
                               : aligned (s, ladder_start (s, ask, given));
  double prev_h = NAN, excess = INFINITY, gap = INFINITY, rung_gap = INFINITY;
  double prev_d = NAN, prev_r = NAN;
  int lower_on = s->interval > 0.0, lower_done = !want_lower, stalled = 0;
  int lower_stuck = 0;
  double zero_h = 0.0; /* the last rung whose lower bound was 0 (0: none) */
  int status = DPACCT_OK;
  grid_bracket tried = { NAN, 0.0 };
  int share_tails = want_lower && given == given_lower;
  out->upper = out->lower = NAN;
  out->start = out->h = h;
  out->limit = DPACCT_PLD_LIMIT_NONE;
  for (int rung = 0, coarser = 0; rung < MAX_RUNGS && h > 0.0; rung++)
    {
      double u = NAN, lo = NAN;
      lower_on = !lower_done && !lower_stuck
                 && (lower_on || excess <= 0.25 * out->upper);
      /* A lower bound of 0 (the grid too coarse for the bulk of a step's
       * loss) stays 0 on a rung less than 8 times finer, and the lower
       * side cannot be done on a rung whose upper excess alone is above
       * its 1 % gap: there it sits the rung out.  The rule reads only the
       * bounds found, not the accuracy, so every accuracy skips the same
       * rungs. */
      int hopeless = zero_h > 0.0 && h > zero_h / 8.0
                     && excess > 0.032 * out->upper;
      /* The upper side is computed on every rung, even where the lower
       * one is still 0: so its rungs, and its bound, are those it has
       * when it is asked for alone (calibration), or tighter.  It goes
       * first, so that the lower side skips a direction whose upper bound
       * on this rung is already at most the lower bound found (at small
       * sampling rates the add direction's, which costs as much as the
       * other's); it builds the lower side's steps from the same tails,
       * and the lower side centres on the tilt of the rung before. */
      rung_start (at);
      at->lower_follows = share_tails && lower_on && !hopeless;
      status = side_on_grid (s, h, 1, ask, given, at, &u);
      if (status == DPACCT_OK && lower_on && !hopeless)
        status = side_on_grid (s, h, 0, ask, given_lower, at, &lo);
      if (status == DPACCT_ENOMEM && isnan (out->upper)
          && s->interval == 0.0 && h < 0.25 && coarser++ < 8)
        {
          h *= 4.0; /* even the first rung is too fine for the cap */
          out->start = h;
          rung--;
          continue;
        }
      if (status == DPACCT_ENOMEM && !isnan (out->upper)
          && s->interval == 0.0)
        {
          /* Back off towards the finest rung that fitted. */
          out->limit = DPACCT_PLD_LIMIT_MEMORY;
          tried.failed = h;
          h = next_grid (s, &tried, h);
          continue;
        }
      if (status != DPACCT_OK)
        return status;
      tried.fitted = h;
      if (!isnan (out->upper) && h < prev_h)
        {
          double d = fmax (out->upper - u, 0.0), r = prev_h / h;
          excess = d / (pow (r, convergence_order (prev_d, prev_r, d, r))
                        - 1.0);
          prev_d = d, prev_r = r;
        }
      out->upper = isnan (out->upper) ? u : fmin (out->upper, u);
      out->h = prev_h = h;
      if (ask == ASK_EPSILON && isfinite (u) && u > 0.0)
        at->estimate[0] = at->estimate[1] = u; /* a better centre */
      if (!isfinite (out->upper) || out->upper == 0.0)
        {
          out->lower = out->upper == 0.0 ? 0.0 : NAN;
          out->limit = DPACCT_PLD_LIMIT_NONE;
          return DPACCT_OK;
        }
      double upper = out->upper;
      if (!isnan (lo))
        {
          out->lower = isnan (out->lower) ? lo : fmax (out->lower, lo);
          gap = upper - out->lower;
          /* A stall is the rung's own gap not narrowing: the best bounds
           * can stand still while a finer rung's catch up with a lucky
           * coarse one (Laplace atoms).  A lower bound of 0 (the grid far
           * too coarse for the lower side: one step's loss within a cell
           * of 0) is no stall either. */
          double own = u - lo;
          stalled = lo > 0.0 && own > 0.99 * rung_gap ? stalled + 1 : 0;
          rung_gap = lo > 0.0 ? own : INFINITY;
          zero_h = lo > 0.0 ? 0.0 : h;
        }
      /* The stations' epsilon must not be above the true one (or cells
       * that matter would stay coarse): once the excess is known to a
       * few per cent, the upper bound less twice the excess. */
      for (int d = 0; d < 2; d++)
        at->stations[d].eps = excess <= 0.25 * upper ? upper - 2.0 * excess
                                                      : NAN;
      int upper_done = excess <= 0.5 * s->rel_accuracy * upper;
      lower_done = lower_done || gap <= 10.0 * s->rel_accuracy * upper;
      /* Two stalled rungs end the lower side (its bound stands, short of
       * the accuracy), not the climb: the upper side goes on to its own
       * end, so that a tighter accuracy, whose lower side may stall where
       * a looser one's was already done, still climbs at least as far. */
      lower_stuck = lower_stuck || (!lower_done && stalled >= 2);
      if (s->interval > 0.0 || (upper_done && (lower_done || lower_stuck)))
        {
          out->limit = s->interval > 0.0 || lower_done
                         ? DPACCT_PLD_LIMIT_NONE : DPACCT_PLD_LIMIT_NO_GAIN;
          return DPACCT_OK;
        }
      double aim = excess > 0.025 * upper ? 0.025 * upper
                   : excess > 5e-4 * upper ? 5e-4 * upper : 0.0;
      double ratio = aim > 0.0 && isfinite (excess)
                       ? fmin (fmax (0.9 * sqrt (aim / excess), 1.0 / 8.0), 0.5)
                     : 0.5;
      h = next_grid (s, &tried, h * ratio);
    }
  if (isnan (out->upper))
    return status == DPACCT_OK ? DPACCT_FAIL (DPACCT_ENOMEM, "no PLD grid "
                                              "fits the memory cap")
                               : status;
  if (out->limit == DPACCT_PLD_LIMIT_NONE)
    out->limit = DPACCT_PLD_LIMIT_NO_GAIN; /* out of rungs */
  return DPACCT_OK;
}

/* The lower bound from the witness pairs (leaf_pairs), from grid h on:
 * their gap to the upper bound is not the grid's, so the grid is halved
 * until that raises the bound by at most 3 rel_accuracy of itself (the
 * optimistic side converges roughly like h^2, so a third of that is what
 * is left), and quartered while the bound is 0; a grid that does not fit
 * the memory cap is backed off from.  They are centred on their own;
 * every grid's bound is valid. */
static int
witness_lower (const pld_state *s, question ask, double given, double h,
               double *lower)
{
  centring own;
  centring_init (&own);
  grid_bracket tried = { NAN, 0.0 };
  int status = DPACCT_OK;
  *lower = NAN;
  for (int round = 0; round < 10 && h > 0.0; round++)
    {
      double lo;
      status = side_on_grid (s, h, 0, ask, given, &own, &lo);
      if (status == DPACCT_ENOMEM)
        {
          tried.failed = h;
          h = next_grid (s, &tried, h);
          continue;
        }
      if (status != DPACCT_OK)
        break;
      tried.fitted = h;
      double gain = isnan (*lower) ? INFINITY : lo - *lower;
      *lower = isnan (*lower) ? lo : fmax (*lower, lo);
      if (s->interval > 0.0
          || (*lower > 0.0 && gain <= 3.0 * s->rel_accuracy * *lower))
        break;
      /* A lower bound of 0 says the grid is far too coarse for the pair
       * (small noise: a narrow bulk and a long tail). */
      h = next_grid (s, &tried, *lower > 0.0 ? 0.5 * h : 0.25 * h);
    }
  centring_release (&own);
  return status == DPACCT_ENOMEM ? DPACCT_OK : status;
}

/* The certified composition's grid is short: direct convolution costs
 * its square. */
enum { CERTIFIED_MAX_POINTS = 1 << 14 };

/* The certified bound in one direction on grid h; `budget` is the mass
 * that the steps' cut tails, and separately the composition's trimming,
 * may move up. */
static int
certified_one (const pld_state *s, pld_direction dir, double h, question ask,
               double given, double budget, size_t max_points, double *result)
{
  step_set set;
  int status = step_set_build (s, dir, 1, h, certified_step,
                               fmin (-log (budget / total_steps (s)), 700.0),
                               NULL, max_points, &set);
  if (status != DPACCT_OK)
    return status;
  pld_step c;
  status = dpacct_pld_certified_compose (set.factors, set.n, budget,
                                         max_points, &c);
  if (status == DPACCT_OK)
    {
      *result = ask == ASK_EPSILON ? dpacct_pld_certified_epsilon (&c, given)
                                   : dpacct_pld_certified_delta (&c, given);
      dpacct_pld_step_release (&c);
    }
  step_set_release (&set);
  return status;
}

/* The certified upper bound, on its own grid: the plain bound's grid h,
 * coarsened until the composition fits its cap.  `plain` is the plain
 * upper bound, which sets how much mass may be moved up: 1e-4 of the
 * delta at stake, half by the steps' cut tails, half by trimming. */
static int
certified_upper (const pld_state *s, question ask, double given, double h,
                 double plain, double *upper)
{
  double at_stake = ask == ASK_EPSILON ? given : plain;
  double budget = fmax (0.5e-4 * at_stake, 1e-30);
  size_t cap = s->max_points < CERTIFIED_MAX_POINTS ? s->max_points
                                                    : CERTIFIED_MAX_POINTS;
  /* Trimmed as it is, the composition spans about 14 standard deviations
   * (more with a heavy upper tail: then a coarser grid is tried). */
  double spread = composed_spread (s, INFINITY);
  if (isfinite (spread))
    h = fmax (h, 14.0 * spread / (double) cap);
  for (int round = 0; round < 16; round++, h *= 2.0)
    {
      int status = DPACCT_OK;
      *upper = 0.0;
      for (int d = 0; status == DPACCT_OK && d < directions (s); d++)
        {
          double v = 0.0;
          status = certified_one (s, d ? PLD_ADD : PLD_REMOVE, h, ask, given,
                                  budget, cap, &v);
          *upper = fmax (*upper, v);
        }
      if (status != DPACCT_ENOMEM)
        return status;
    }
  return DPACCT_FAIL (DPACCT_ENOMEM,
                      "no grid fits the certified PLD composition's cap");
}

/* The pair [lower, upper] into *out.  Both sides are proved, so a lower
 * bound above the upper one by more than rounding (1e-9 of the upper:
 * the searches stop within 1e-13, and the sides' error terms are rounded
 * to the safe side) is a numerical failure to report, not to hide by
 * lowering it; within rounding the lower side is lowered to the upper. */
int
dpacct_pld_bound_pair (double lower, double upper, dpacct_bound *out)
{
  out->lower = out->upper = NAN;
  if (isnan (upper))
    return DPACCT_FAIL (DPACCT_ENUMERIC, "PLD bound is NaN");
  if (lower - upper > 1e-9 * fabs (upper))
    return DPACCT_FAIL (DPACCT_ENUMERIC,
                        "PLD lower bound above its upper bound");
  out->lower = isnan (lower) ? NAN : fmin (lower, upper);
  out->upper = upper;
  return DPACCT_OK;
}

/* The bounds from the leaves' pairs (leaf_pairs): the upper pairs on the
 * ladder of refine, and the lower bound with them, or, under replace-one
 * with sampling, from the witness pairs on a ladder of their own from the
 * same start. */
static int
pair_bounds (const pld_state *s, question ask, double given,
             double given_lower, dpacct_bound *out)
{
  out->certified = 0;
  out->limit = DPACCT_PLD_LIMIT_NONE;
  if (s->n == 0)
    {
      out->lower = out->upper = 0.0; /* nothing composed */
      return DPACCT_OK;
    }
  centring at;
  centring_init (&at);
  int witness = lower_from_witness (s);
  ladder lad;
  int status = refine (s, ask, given, given_lower, !s->upper_only && !witness,
                       &at, &lad);
  centring_release (&at);
  double upper = lad.upper, lower = lad.lower;
  if (status == DPACCT_OK && witness && !s->upper_only && isfinite (upper)
      && upper > 0.0)
    status = witness_lower (s, ask, given_lower, lad.h, &lower);
  if (status == DPACCT_OK && s->certified && isfinite (upper))
    {
      status = certified_upper (s, ask, given, lad.h, upper, &upper);
      out->certified = 1;
    }
  if (status != DPACCT_OK)
    return status;
  out->limit = lad.limit;
  return dpacct_pld_bound_pair (lower, upper, out);
}

/* Replace-one by group privacy over add/remove: D -> D0 (the replaced
 * example removed) -> D' (its replacement added) are two add/remove
 * neighbours, so (e1, d1) and (e2, d2) for add/remove (either direction,
 * the whole composition) give (e1 + e2, d1 + e^e1 d2) for replace-one:
 * P(E) <= e^e1 P0(E) + d1 <= e^(e1+e2) P'(E) + e^e1 d2 + d1.  It beats
 * the product pair at small sigma, where that pair's sqrt 2 costs most.
 * For epsilon, delta is split in halves (d1 = delta/2, d2 = delta/2
 * e^-e1), for delta, epsilon is; the 1e-12 margins cover the rounding of
 * the few operations on the bounds. */
static int
group_upper (const pld_state *s, question ask, double given, double *upper)
{
  pld_state add_remove = *s;
  add_remove.neighbouring = DPACCT_ADD_REMOVE;
  add_remove.upper_only = 1;
  dpacct_bound b;
  if (ask == ASK_DELTA)
    {
      int status = pair_bounds (&add_remove, ASK_DELTA, 0.5 * given,
                                0.5 * given, &b);
      *upper = fmin (b.upper * (1.0 + exp (0.5 * given)) * (1.0 + 1e-12),
                     1.0);
      return status;
    }
  int status = pair_bounds (&add_remove, ASK_EPSILON, 0.5 * given,
                            0.5 * given, &b);
  double e1 = b.upper, d2 = 0.5 * given * exp (-e1) * (1.0 - 1e-12);
  *upper = INFINITY;
  if (status != DPACCT_OK || !isfinite (e1) || !(d2 >= DBL_MIN))
    return status;
  status = pair_bounds (&add_remove, ASK_EPSILON, d2, d2, &b);
  if (status == DPACCT_OK)
    *upper = nextafter (e1 + b.upper, INFINITY);
  return status;
}

/* Under replace-one with Poisson sampling two proved upper bounds are at
 * hand, the product pair's and group privacy's, and the smaller stands;
 * the lower bound is the witness pairs'.  Where there is no product pair
 * (Laplace noise) or its wider steps do not fit the memory cap, group
 * privacy answers alone. */
static int
bounds (const pld_state *s, question ask, double given, double given_lower,
        dpacct_bound *out)
{
  int status = dominating_pairs_known (s)
                   ? pair_bounds (s, ask, given, given_lower, out)
                                          : DPACCT_EUNSUP;
  if (!lower_from_witness (s)
      || (status != DPACCT_OK && status != DPACCT_ENOMEM
          && status != DPACCT_EUNSUP))
    return status;
  if (status != DPACCT_OK)
    {
      out->upper = INFINITY;
      out->lower = NAN;
      out->certified = s->certified;
      if (!s->upper_only)
        {
          status = witness_lower (s, ask, given_lower,
                                  aligned (s, witness_start (s)),
                                  &out->lower);
          if (status != DPACCT_OK)
            return status;
        }
    }
  double group;
  status = group_upper (s, ask, given, &group);
  if (status == DPACCT_ENOMEM && isfinite (out->upper))
    return DPACCT_OK; /* the product pair's bound stands */
  if (status != DPACCT_OK)
    return status;
  return dpacct_pld_bound_pair (out->lower, fmin (out->upper, group), out);
}

static int
pld_epsilon (const void *state, double delta, dpacct_bound *out)
{
  return bounds (state, ASK_EPSILON, delta, delta, out);
}

/* Upper side at delta_upper and lower side at delta_lower, on one ladder
 * (each rung's compositions serve both): what a caller that shifts delta
 * the two ways (capped Poisson batches) would otherwise pay twice. */
static int
pld_epsilon_split (const void *state, double delta_upper, double delta_lower,
                   dpacct_bound *out)
{
  return bounds (state, ASK_EPSILON, delta_upper, delta_lower, out);
}

static int
pld_delta (const void *state, double epsilon, dpacct_bound *out)
{
  return bounds (state, ASK_DELTA, epsilon, epsilon, out);
}

/* ---- for calibration's fixed-grid evaluations (pld_fixed_run.c) ----- */

/* A state with these settings composing leaves a[0..na) and b[0..nb),
 * each checked as pld_supports checks events. */
static int
state_of_leaves (const dpacct_accountant_options *o, const dpacct_leaf *a,
                 size_t na, const dpacct_leaf *b, size_t nb, pld_state *s)
{
  pld_init (s, o);
  for (size_t i = 0; i < na + nb; i++)
    if (pld_supports_leaf (s, i < na ? &a[i] : &b[i - na]) != DPACCT_OK)
      return DPACCT_EUNSUP;
  int status = add_leaves (a, na, &s->leaves, &s->n, &s->capacity);
  if (status == DPACCT_OK)
    status = add_leaves (b, nb, &s->leaves, &s->n, &s->capacity);
  return status;
}

int
dpacct_pld_fixed_grid (const dpacct_accountant_options *o,
                       const dpacct_leaf *leaves, size_t n, double delta,
                       dpacct_bound *out, pld_grid *grid)
{
  pld_state s;
  int status = state_of_leaves (o, leaves, n, NULL, 0, &s);
  /* Where pld_epsilon is more than the pairs' ladder, or has no ladder. */
  if (status == DPACCT_OK
      && (s.n == 0 || s.certified || !dominating_pairs_known (&s)
          || lower_from_witness (&s)))
    status = DPACCT_EUNSUP;
  if (status != DPACCT_OK)
    {
      pld_release (&s);
      return status;
    }
  s.upper_only = 1;
  centring at;
  centring_init (&at);
  at.keep = 1;
  ladder lad;
  status = refine (&s, ASK_EPSILON, delta, delta, 0, &at, &lad);
  grid->h = lad.h;
  grid->directions = directions (&s);
  grid->tail_log = tail_cut (&s, ASK_EPSILON, delta);
  for (int d = 0; d < 2; d++)
    {
      grid->tilt[d] = at.tilt[d];
      grid->stations[d] = at.used_stations[d];
      grid->upper[d] = at.upper[d];
      /* The last rung's steps, where they are what dpacct_pld_leaf_steps
       * would build: the fixed leaves' product takes them. */
      memset (&grid->kept[d], 0, sizeof grid->kept[d]);
      if (status == DPACCT_OK
          && held_matches (&at.kept[d], grid->h, grid->tail_log,
                           &grid->stations[d]))
        {
          grid->kept[d] = at.kept[d].set;
          memset (&at.kept[d].set, 0, sizeof at.kept[d].set);
        }
    }
  centring_release (&at);
  pld_release (&s);
  if (status != DPACCT_OK)
    return status;
  out->certified = 0;
  out->order = NAN;
  out->order_at_edge = 0;
  out->limit = lad.limit;
  return dpacct_pld_bound_pair (NAN, lad.upper, out);
}

int
dpacct_pld_leaf_steps (const dpacct_accountant_options *o,
                       const dpacct_leaf *leaves, size_t n, int add,
                       const pld_grid *grid, pld_step_list *donor,
                       pld_step_list *out)
{
  pld_state s;
  memset (out, 0, sizeof *out);
  int status = state_of_leaves (o, leaves, n, NULL, 0, &s);
  if (status == DPACCT_OK)
    status = step_set_fill (&s, add ? PLD_ADD : PLD_REMOVE, 1, grid->h,
                            dpacct_pld_step_pessimistic, grid->tail_log,
                            &grid->stations[add != 0], s.max_points, out, NULL,
                            donor, NULL);
  pld_release (&s);
  if (status != DPACCT_OK)
    out->n = 0;
  return status;
}

void
dpacct_pld_step_list_release (pld_step_list *list)
{
  step_set_release (list);
  list->n = 0;
}

static const dpacct_accountant_type pld_type;

/* Calibration's guide: a certified PLD bound costs seconds and lies just
 * above the plain one (asked to the caller's tolerance, since the two
 * roots are that close); the plain bound at accuracy 0.05 costs
 * milliseconds and lies a few per cent above the default one; RDP's
 * (milliseconds too) lies further above, by up to a third at small
 * sampling rates. */
static const dpacct_accountant_type *
pld_guide (const dpacct_accountant_options *o, double rel_tol,
           dpacct_accountant_options *guide, double *guide_tol)
{
  *guide = *o;
  *guide_tol = 1e-2;
  if (dpacct_options_int (guide, "certified"))
    {
      dpacct_accountant_options_set_int (guide, "certified", 0);
      *guide_tol = rel_tol;
      return &pld_type;
    }
  if (dpacct_options_double (guide, "pld-interval") == 0.0
      && dpacct_options_double (guide, "pld-rel-accuracy") < 0.05)
    {
      dpacct_accountant_options_set_double (guide, "pld-rel-accuracy", 0.05);
      return &pld_type;
    }
  return dpacct_accountant_rdp;
}

static const dpacct_setting pld_settings[] = {
  { "pld-interval", DPACCT_SETTING_DOUBLE, 0.0, 1.0, 0.0 },
  { "pld-rel-accuracy", DPACCT_SETTING_DOUBLE, 1e-6, 0.5, 1e-3 },
  { "pld-max-points", DPACCT_SETTING_INT, 1024, 0x1p62, 0x1p22 },
};

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
  .guide = pld_guide,
  .epsilon_split = pld_epsilon_split,
  .settings = pld_settings,
  .n_settings = sizeof pld_settings / sizeof pld_settings[0],
};

const dpacct_accountant_type *const dpacct_accountant_pld = &pld_type;
