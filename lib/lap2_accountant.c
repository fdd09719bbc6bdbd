/* lap2_accountant.c - the Lap2 accountants: Laplace noise of scale b on
 * every one of n coordinates of a sum of per-example gradients clipped to
 * L2 norm C, Poisson sampling at rate q, add/remove neighbours; moments at
 * the integer orders lambda = 1..lambda_max summed over steps and
 * converted to (epsilon, delta) at the best order.
 *
 * "lap2" (the sound bound).  Claim: for every gradient g with
 * ||g||_2 <= C, the add-direction moment of one step satisfies
 *   alpha(lambda) <= log sum_eta c_eta F(rho / sqrt(n), eta)^n,
 *   c_eta = binom(lambda+1, eta) (1-q)^(lambda+1-eta) q^eta, rho = C/b,
 * with equality at g = (C/sqrt(n))(1, ..., 1).
 * Proof.  The other examples' gradients shift both outputs alike, so the
 * pair is mu0 = product of Laplace(0, b) and mu = (1-q) mu0 + q mu1, mu1
 * the same shifted by g.  Expanding (mu/mu0)^(lambda+1) binomially,
 *   E_mu0[(mu/mu0)^(lambda+1)] = sum_eta c_eta E_mu0[(mu1/mu0)^eta]
 *                              = sum_eta c_eta prod_i F(|g_i|/b, eta),
 * as the coordinates are independent.  Every c_eta >= 0, so it suffices
 * to maximise each product alone, i.e. sum_i psi(u_i) with
 * u_i = (g_i/b)^2, sum_i u_i <= rho^2, psi(u) = G(sqrt u),
 * G(t) = log F(t, eta).  For eta <= 1, G = 0.  For eta >= 2, with
 * m = 2 eta - 1 and E = e^(m t),
 *   G'(t) = eta (eta-1) h(t),  h(t) = (E - 1) / (eta E + eta - 1),
 *   h'(t) = m^2 E / (eta E + eta - 1)^2,
 * and d/dE [E / (eta E + eta - 1)^2] has the sign of eta - 1 - eta E < 0
 * for E >= 1, so h' falls with t: h is concave with h(0) = 0, h(t)/t is
 * non-increasing, and so is G'(t)/t = 2 psi'(u).  Thus psi is concave, and
 * increasing (G' >= 0).  By Jensen, sum_i psi(u_i) <= n psi(mean u)
 * <= n psi(rho^2 / n), the point g = (C/sqrt(n))(1, ..., 1) making every
 * product maximal at once.  The bound is therefore attained: exact for the
 * worst case.  Steps compose by adding moments (adaptive composition of
 * RDP; they may differ), and (epsilon, delta) follows by Balle et al.
 * 2020, Thm 21 at Renyi order lambda + 1.  QED.
 * Consequences: n psi(rho^2/n) is non-decreasing in n (psi concave,
 * psi(0) = 0) and tends to rho^2 psi'(0) = eta (eta-1) rho^2 / 2: the
 * bound never exceeds the Poisson-subsampled Gaussian moment with
 * sigma = b / C (tests/check_lap2.c checks both).
 * The remove direction, E_mu[(mu0/mu)^(lambda+1)] = E_mu0[(mu/mu0)^-lambda],
 * is not covered by the proof, and the equal spread is not always its
 * worst gradient (n = 2, q 0.01, b/C 0.5, lambda 128: 9 degrees from an
 * axis is 1.2 % above it).  What the accountant needs, and what is checked
 * (not proved), is sup over g of the remove moment <= the add moment at the
 * equal spread.  tests/check_lap2.c checks it by quadrature at the equal
 * spread for n = 1, 2 and on a lattice for n = 5, 20, 100, and over
 * gradients on the sphere for n = 2 (angles, and inside it too) and 3
 * (octant directions).  The margin is positive in every case checked but can be
 * small: about 2e-5 relative at lambda 1, q 0.001, b/C 10.  Mironov,
 * Talwar and Zhang 2019 prove the analogue for the Gaussian (the
 * n -> infinity limit); for Laplace no case was found where the larger of
 * the two would have to be taken.
 *
 * "lap2-paper" sums the one-coordinate subsampled moments over the
 * majorization set (Lap2, Thm III.7).  It treats every coordinate as if it
 * had its own sampling coin, which DP-SGD does not: with q < 1 it can be
 * below the true moment, and its epsilon is then not a privacy bound. */
#include "dpacct/accountant.h"
#include "dpacct/lap2.h"
#include "internal.h"
#include "lap2_internal.h"
#include "pld_internal.h"
#include "rdp_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct
{
  int paper;      /* lap2-paper */
  int upper_tail; /* lap2-paper: the guaranteed-upper tail */
  int lower;      /* lap2: compute the lower side too */
  unsigned max_order;
  double *alpha;  /* alpha[lambda - 1]: moments composed so far */
  /* lap2: the kinds of step composed so far, for the lower side. */
  size_t n_leaves;
  dpacct_lap2_leaf *leaves;
} lap2_state;

static int
init_common (lap2_state *s, const dpacct_accountant_options *o, int paper)
{
  if (dpacct_options_int (o, "neighbouring") != DPACCT_ADD_REMOVE)
    return DPACCT_FAIL (DPACCT_EDOM, "the Lap2 accountants account "
                        "add/remove neighbours with Poisson sampling only");
  if (dpacct_options_int (o, "certified"))
    return DPACCT_FAIL (DPACCT_EUNSUP, "the Lap2 accountants have no "
                        "certified (directed-rounding) mode");
  unsigned max_order = (unsigned) dpacct_options_int (o, "lap2-max-order");
  if (max_order == 0 || !dpacct_accountant_options_is_set (o, "lap2-max-order"))
    max_order = (unsigned) dpacct_accountant_type_default (
        paper ? dpacct_accountant_lap2_paper : dpacct_accountant_lap2,
        "lap2-max-order");
  if (max_order > DPACCT_LAP2_MAX_ORDER)
    return DPACCT_FAIL (DPACCT_EDOM, "Lap2 max order must be in [1, 10000]");
  s->alpha = calloc (max_order, sizeof *s->alpha);
  if (s->alpha == NULL)
    return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate a Lap2 accountant");
  s->paper = paper;
  s->upper_tail = paper && dpacct_options_int (o, "lap2-paper-upper-tail");
  s->lower = !paper && dpacct_options_int (o, "lap2-lower-bound");
  s->n_leaves = 0;
  s->leaves = NULL;
  s->max_order = max_order;
  return DPACCT_OK;
}

static int
lap2_init (void *state, const dpacct_accountant_options *options)
{
  return init_common (state, options, 0);
}

static int
lap2_paper_init (void *state, const dpacct_accountant_options *options)
{
  return init_common (state, options, 1);
}

static void
lap2_release (void *state)
{
  lap2_state *s = state;
  free (s->alpha);
  free (s->leaves);
}

static int
lap2_copy (void *dest, const void *src)
{
  const lap2_state *from = src;
  lap2_state *to = dest;
  *to = *from;
  to->alpha = malloc (from->max_order * sizeof *to->alpha);
  if (to->alpha == NULL)
    return DPACCT_FAIL (DPACCT_ENOMEM, "cannot copy a Lap2 accountant");
  memcpy (to->alpha, from->alpha, from->max_order * sizeof *to->alpha);
  to->leaves = NULL;
  if (from->n_leaves > 0)
    {
      to->leaves = malloc (from->n_leaves * sizeof *to->leaves);
      if (to->leaves == NULL)
        {
          free (to->alpha);
          return DPACCT_FAIL (DPACCT_ENOMEM, "cannot copy a Lap2 accountant");
        }
      memcpy (to->leaves, from->leaves, from->n_leaves * sizeof *to->leaves);
    }
  return DPACCT_OK;
}

/* Laplace noise on L2-clipped sums, unsampled or Poisson-sampled. */
static int
lap2_supports_leaf (const void *state, const dpacct_leaf *leaf)
{
  (void) state;
  return leaf->mechanism == DPACCT_EVENT_LAPLACE_L2
                 && leaf->sampling != DPACCT_EVENT_SAMPLED_WITHOUT_REPLACEMENT
             ? DPACCT_OK : DPACCT_EUNSUP;
}

static int
lap2_supports (const void *state, const dpacct_event *e)
{
  return dpacct_event_leaves_check (e, lap2_supports_leaf, state, NULL);
}

/* A grown copy of the leaves with LEAF merged in (by count). */
typedef struct
{
  size_t n, capacity;
  dpacct_lap2_leaf *list;
} leaf_list;

static int
leaf_add (leaf_list *l, dpacct_lap2_leaf leaf)
{
  for (size_t i = 0; i < l->n; i++)
    if (l->list[i].rho == leaf.rho && l->list[i].q == leaf.q
        && l->list[i].dimension == leaf.dimension)
      {
        if (l->list[i].count > DPACCT_MAX_COUNT - leaf.count)
          return DPACCT_FAIL (DPACCT_EDOM, "more than 10^12 compositions");
        l->list[i].count += leaf.count;
        return DPACCT_OK;
      }
  if (l->n == l->capacity)
    {
      size_t cap = l->capacity ? 2 * l->capacity : 4;
      dpacct_lap2_leaf *grown = realloc (l->list, cap * sizeof *grown);
      if (grown == NULL)
        return DPACCT_FAIL (DPACCT_ENOMEM, "cannot grow a Lap2 accountant");
      l->list = grown;
      l->capacity = cap;
    }
  l->list[l->n++] = leaf;
  return DPACCT_OK;
}

/* Adds the moments of event E, run COUNT times, to ACC (length
 * max_order), and its merged leaves to LEAVES (when not NULL).  Equal
 * leaves are merged by the shared walk (dpacct_event_leaves) first, so
 * each step's moments are computed once and every count is checked. */
static int
add_event (const lap2_state *s, const dpacct_event *e, uint64_t count,
           double *acc, leaf_list *leaves)
{
  dpacct_leaf_list walked;
  dpacct_leaf_list_init (&walked);
  int status = dpacct_event_leaves (e, count, &walked);
  double *step = status == DPACCT_OK ? malloc (s->max_order * sizeof *step)
                                     : NULL;
  if (status == DPACCT_OK && step == NULL)
    status = DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate Lap2 moments");
  for (size_t i = 0; status == DPACCT_OK && i < walked.n; i++)
    {
      const dpacct_leaf *w = &walked.leaves[i];
      double rho = 1.0 / w->parameter, q = w->rate;
      uint64_t n = w->dimension;
      if (leaves != NULL)
        {
          dpacct_lap2_leaf leaf = { rho, n, q, w->count };
          status = leaf_add (leaves, leaf);
        }
      if (status == DPACCT_OK)
        status = s->paper ? dpacct_lap2_paper_curve (rho, n, q, s->upper_tail,
                                                     1, s->max_order, step)
                          : dpacct_lap2_joint_curve (rho, n, q, 1,
                                                     s->max_order, step);
      for (unsigned k = 0; status == DPACCT_OK && k < s->max_order; k++)
        {
          if (isnan (step[k]) || step[k] < 0.0)
            status = DPACCT_FAIL (DPACCT_ENUMERIC, "invalid Lap2 moment");
          else
            acc[k] += (double) w->count * step[k];
        }
    }
  free (step);
  dpacct_leaf_list_release (&walked);
  return status;
}

static int
lap2_compose (void *state, const dpacct_event *e, uint64_t count)
{
  lap2_state *s = state;
  int supported = lap2_supports (s, e);
  if (supported != DPACCT_OK && supported != DPACCT_EUNSUP)
    return supported; /* a count past the limit */
  if (supported != DPACCT_OK)
    return DPACCT_FAIL (DPACCT_EUNSUP, "the Lap2 accountants support only "
                        "Laplace-L2 events, Poisson-sampled or not");
  double *add = calloc (s->max_order, sizeof *add);
  leaf_list leaves = { s->n_leaves, s->n_leaves, NULL };
  if (add == NULL)
    return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate Lap2 moments");
  int status = DPACCT_OK;
  if (s->lower && s->n_leaves > 0)
    {
      leaves.list = malloc (s->n_leaves * sizeof *leaves.list);
      if (leaves.list == NULL)
        status = DPACCT_FAIL (DPACCT_ENOMEM, "cannot grow a Lap2 accountant");
      else
        memcpy (leaves.list, s->leaves, s->n_leaves * sizeof *leaves.list);
    }
  if (status == DPACCT_OK)
    status = add_event (s, e, count, add, s->lower ? &leaves : NULL);
  /* The state changes only here, all at once: compose is atomic. */
  if (status == DPACCT_OK)
    {
      for (unsigned k = 0; k < s->max_order; k++)
        s->alpha[k] += add[k];
      if (s->lower)
        {
          free (s->leaves);
          s->leaves = leaves.list;
          s->n_leaves = leaves.n;
          leaves.list = NULL;
        }
    }
  free (leaves.list);
  free (add);
  return status;
}

static void
set_order (const lap2_state *s, unsigned best, dpacct_bound *out)
{
  out->order = best;
  out->order_at_edge = best == s->max_order;
  out->certified = 0;
  out->lower = NAN; /* unless lower_side computes it */
}

/* The lower side, for lap2 when asked (lap2_lower.c): NaN when it cannot
 * be computed. */
static int
lower_side (const lap2_state *s, int ask_delta, double given, double centre,
            dpacct_bound *out)
{
  if (!s->lower)
    return DPACCT_OK;
  double lower;
  int status = dpacct_lap2_lower_bound (s->leaves, s->n_leaves, ask_delta,
                                        given, centre, (size_t) 1 << 22,
                                        &lower);
  /* A lower end above the upper one by more than rounding is reported as a
   * numerical failure, never lowered into a plausible pair. */
  if (status == DPACCT_OK && !isnan (lower))
    {
      dpacct_bound pair;
      status = dpacct_pld_bound_pair (lower, out->upper, &pair);
      out->lower = pair.lower;
    }
  return status;
}

/* The smallest of CONVERT(order, RDP at that order, GIVEN) over the
 * orders lambda + 1, lambda = 1..max_order; *ARG is the lambda attaining
 * it.  CONVERT is the RDP-to-epsilon or RDP-to-delta conversion. */
static double
best_over_orders (const lap2_state *s,
                  double (*convert) (double, double, double), double given,
                  unsigned *arg)
{
  double best = INFINITY;
  *arg = s->max_order;
  for (unsigned lambda = 1; lambda <= s->max_order; lambda++)
    {
      double x = convert (lambda + 1.0, s->alpha[lambda - 1] / lambda, given);
      if (x < best)
        {
          best = x;
          *arg = lambda;
        }
    }
  return best;
}

static int
lap2_epsilon (const void *state, double delta, dpacct_bound *out)
{
  const lap2_state *s = state;
  unsigned arg;
  double best = best_over_orders (s, dpacct_rdp_epsilon_at_order, delta, &arg);
  set_order (s, arg, out);
  out->upper = fmax (best, 0.0);
  return lower_side (s, 0, delta, out->upper, out);
}

static int
lap2_delta (const void *state, double epsilon, dpacct_bound *out)
{
  const lap2_state *s = state;
  unsigned arg;
  double best = best_over_orders (s, dpacct_rdp_delta_at_order, epsilon, &arg);
  set_order (s, arg, out);
  out->upper = fmin (best, 1.0);
  return lower_side (s, 1, epsilon, epsilon, out);
}

/* lap2-max-order 0 also means the default. */
static const dpacct_setting lap2_settings[] = {
  { "lap2-max-order", DPACCT_SETTING_INT, 0, DPACCT_LAP2_MAX_ORDER,
    DPACCT_LAP2_DEFAULT_MAX_ORDER },
  { "lap2-lower-bound", DPACCT_SETTING_INT, 0, 1, 0 },
};
static const dpacct_setting lap2_paper_settings[] = {
  { "lap2-max-order", DPACCT_SETTING_INT, 0, DPACCT_LAP2_MAX_ORDER,
    DPACCT_LAP2_PAPER_DEFAULT_MAX_ORDER },
  { "lap2-paper-upper-tail", DPACCT_SETTING_INT, 0, 1, 0 },
};

static const dpacct_accountant_type lap2_type = {
  "lap2", sizeof (lap2_state), lap2_init, lap2_release, lap2_copy,
  lap2_supports, lap2_compose, lap2_epsilon, lap2_delta, NULL, NULL,
  lap2_settings, sizeof lap2_settings / sizeof lap2_settings[0]
};
static const dpacct_accountant_type lap2_paper_type = {
  "lap2-paper", sizeof (lap2_state), lap2_paper_init, lap2_release,
  lap2_copy, lap2_supports, lap2_compose, lap2_epsilon, lap2_delta, NULL,
  NULL, lap2_paper_settings,
  sizeof lap2_paper_settings / sizeof lap2_paper_settings[0]
};
const dpacct_accountant_type *const dpacct_accountant_lap2 = &lap2_type;
const dpacct_accountant_type *const dpacct_accountant_lap2_paper
  = &lap2_paper_type;

/* ---- events and calibration ------------------------------------------ */

int
dpacct_lap2_event_alloc (double scale_over_clip, uint64_t dimension, double q,
                         uint64_t steps, dpacct_event **out)
{
  if (out == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL output pointer");
  *out = NULL;
  if (!(q > 0.0 && q <= 1.0))
    return DPACCT_FAIL (DPACCT_EDOM, "sampling rate must be in (0, 1]");
  dpacct_event *mech = NULL, *step = NULL;
  int status = dpacct_event_laplace_l2_alloc (scale_over_clip, dimension,
                                              &mech);
  if (status == DPACCT_OK)
    status = dpacct_event_poisson_alloc (q, mech, &step);
  if (status == DPACCT_OK)
    status = dpacct_event_self_composed_alloc (step, steps, out);
  dpacct_event_free (step);
  dpacct_event_free (mech);
  return status;
}

typedef struct
{
  double clip, q;
  uint64_t dimension, steps;
} lap2_run;

static int
make_lap2_event (double b, void *context, dpacct_event **out)
{
  const lap2_run *run = context;
  return dpacct_lap2_event_alloc (b / run->clip, run->dimension, run->q,
                                  run->steps, out);
}

int
dpacct_lap2_scale_for_epsilon (const dpacct_accountant_type *type,
                               const dpacct_accountant_options *accountant,
                               double clip, uint64_t dimension, double q,
                               uint64_t steps, double target_epsilon,
                               double delta,
                               const dpacct_calibration_options *options,
                               dpacct_calibration *result)
{
  if (result == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL output pointer");
  if (!(clip > 0.0) || !isfinite (clip))
    {
      result->noise = result->epsilon_upper = result->noise_below = NAN;
      result->evaluations = 0;
      return DPACCT_FAIL (DPACCT_EDOM, "clip must be positive and finite");
    }
  /* The search range is for b/C, which alone decides epsilon. */
  dpacct_calibration_options scaled;
  if (options == NULL)
    dpacct_calibration_options_init (&scaled);
  else
    scaled = *options;
  scaled.noise_min *= clip;
  scaled.noise_max *= clip;
  /* Only the upper side decides; the lower one would cost seconds. */
  dpacct_accountant_options settings;
  if (accountant == NULL)
    dpacct_accountant_options_init (&settings);
  else
    settings = *accountant;
  dpacct_accountant_options_set_int (&settings, "lap2-lower-bound", 0);
  accountant = &settings;
  lap2_run run = { clip, q, dimension, steps };
  return dpacct_calibrate_noise (type, accountant, make_lap2_event, &run,
                                 target_epsilon, delta, &scaled, result);
}
