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
 * is not covered by the proof.  tests/check_lap2.c computes it at the
 * equal-spread gradient by quadrature for n = 1, 2 (to 1e-9) and on a
 * lattice for n = 5, 20, 100 (to 2e-3), and finds it below the bound above
 * on a grid of (rho, q, lambda), by 0.7 % at the closest (Mironov, Talwar
 * and Zhang 2019 prove the analogue for the Gaussian, the n -> infinity
 * limit).  For other n, and other gradients, that is checked, not proved;
 * no case was found where the larger of the two would have to be taken.
 *
 * "lap2-paper" sums the one-coordinate subsampled moments over the
 * majorization set (Lap2, Thm III.7).  It treats every coordinate as if it
 * had its own sampling coin, which DP-SGD does not: with q < 1 it can be
 * below the true moment, and its epsilon is then not a privacy bound. */
#include "dpacct/accountant.h"
#include "dpacct/lap2.h"
#include "internal.h"
#include "lap2_internal.h"
#include "rdp_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct
{
  int paper;      /* lap2-paper */
  int upper_tail; /* lap2-paper: the guaranteed-upper tail */
  unsigned max_order;
  double *alpha;  /* alpha[lambda - 1]: moments composed so far */
} lap2_state;

static int
init_common (lap2_state *s, const dpacct_accountant_options *o, int paper)
{
  if (o->neighbouring != DPACCT_ADD_REMOVE)
    return DPACCT_FAIL (DPACCT_EDOM, "the Lap2 accountants account "
                        "add/remove neighbours with Poisson sampling only");
  if (o->certified)
    return DPACCT_FAIL (DPACCT_EUNSUP, "the Lap2 accountants have no "
                        "certified (directed-rounding) mode");
  unsigned max_order = o->lap2_max_order;
  if (max_order == 0)
    max_order = paper ? DPACCT_LAP2_PAPER_DEFAULT_MAX_ORDER
                      : DPACCT_LAP2_DEFAULT_MAX_ORDER;
  if (max_order > DPACCT_LAP2_MAX_ORDER)
    return DPACCT_FAIL (DPACCT_EDOM, "Lap2 max order must be in [1, 10000]");
  s->alpha = calloc (max_order, sizeof *s->alpha);
  if (s->alpha == NULL)
    return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate a Lap2 accountant");
  s->paper = paper;
  s->upper_tail = paper && o->lap2_paper_upper_tail;
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
  return DPACCT_OK;
}

static int
lap2_supports (const void *state, const dpacct_event *e)
{
  switch (dpacct_event_get_kind (e))
    {
    case DPACCT_EVENT_LAPLACE_L2:
      return DPACCT_OK;
    case DPACCT_EVENT_POISSON_SAMPLED:
      return dpacct_event_get_kind (dpacct_event_get_child (e, 0))
                     == DPACCT_EVENT_LAPLACE_L2
                 ? DPACCT_OK
                 : DPACCT_EUNSUP;
    case DPACCT_EVENT_SELF_COMPOSED:
    case DPACCT_EVENT_SEQUENCE:
      for (size_t c = 0; c < dpacct_event_get_n_children (e); c++)
        if (lap2_supports (state, dpacct_event_get_child (e, c)) != DPACCT_OK)
          return DPACCT_EUNSUP;
      return DPACCT_OK;
    default:
      return DPACCT_EUNSUP;
    }
}

/* Adds WEIGHT times the moments of event E to ACC (length max_order). */
static int
add_event (const lap2_state *s, const dpacct_event *e, double weight,
           double *acc)
{
  dpacct_event_kind kind = dpacct_event_get_kind (e);
  if (kind == DPACCT_EVENT_SELF_COMPOSED || kind == DPACCT_EVENT_SEQUENCE)
    {
      double w = weight * (double) dpacct_event_get_count (e);
      for (size_t c = 0; c < dpacct_event_get_n_children (e); c++)
        {
          int status = add_event (s, dpacct_event_get_child (e, c), w, acc);
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
  double rho = 1.0 / dpacct_event_get_parameter (mech);
  uint64_t n = dpacct_event_get_dimension (mech);
  double *step = malloc (s->max_order * sizeof *step);
  if (step == NULL)
    return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate Lap2 moments");
  int status = s->paper ? dpacct_lap2_paper_curve (rho, n, q, s->upper_tail,
                                                   1, s->max_order, step)
                        : dpacct_lap2_joint_curve (rho, n, q, 1,
                                                   s->max_order, step);
  for (unsigned k = 0; status == DPACCT_OK && k < s->max_order; k++)
    {
      if (isnan (step[k]) || step[k] < 0.0)
        status = DPACCT_FAIL (DPACCT_ENUMERIC, "invalid Lap2 moment");
      else
        acc[k] += weight * step[k];
    }
  free (step);
  return status;
}

static int
lap2_compose (void *state, const dpacct_event *e, uint64_t count)
{
  lap2_state *s = state;
  if (lap2_supports (s, e) != DPACCT_OK)
    return DPACCT_FAIL (DPACCT_EUNSUP, "the Lap2 accountants support only "
                        "Laplace-L2 events, Poisson-sampled or not");
  double *add = calloc (s->max_order, sizeof *add);
  if (add == NULL)
    return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate Lap2 moments");
  int status = add_event (s, e, (double) count, add);
  /* The state changes only here, all at once: compose is atomic. */
  if (status == DPACCT_OK)
    for (unsigned k = 0; k < s->max_order; k++)
      s->alpha[k] += add[k];
  free (add);
  return status;
}

static void
set_order (const lap2_state *s, unsigned best, dpacct_bound *out)
{
  out->order = best;
  out->order_at_edge = best == s->max_order;
  out->certified = 0;
  /* The lower side (the PLD of the mechanism) is not computed here. */
  out->lower = NAN;
}

static int
lap2_epsilon (const void *state, double delta, dpacct_bound *out)
{
  const lap2_state *s = state;
  double best = INFINITY;
  unsigned arg = s->max_order;
  for (unsigned lambda = 1; lambda <= s->max_order; lambda++)
    {
      double eps = dpacct_rdp_epsilon_at_order (
          lambda + 1.0, s->alpha[lambda - 1] / lambda, delta);
      if (eps < best)
        {
          best = eps;
          arg = lambda;
        }
    }
  set_order (s, arg, out);
  out->upper = fmax (best, 0.0);
  return DPACCT_OK;
}

static int
lap2_delta (const void *state, double epsilon, dpacct_bound *out)
{
  const lap2_state *s = state;
  double best = INFINITY;
  unsigned arg = s->max_order;
  for (unsigned lambda = 1; lambda <= s->max_order; lambda++)
    {
      double d = dpacct_rdp_delta_at_order (
          lambda + 1.0, s->alpha[lambda - 1] / lambda, epsilon);
      if (d < best)
        {
          best = d;
          arg = lambda;
        }
    }
  set_order (s, arg, out);
  out->upper = fmin (best, 1.0);
  return DPACCT_OK;
}

static const dpacct_accountant_type lap2_type = {
  "lap2", sizeof (lap2_state), lap2_init, lap2_release, lap2_copy,
  lap2_supports, lap2_compose, lap2_epsilon, lap2_delta
};
static const dpacct_accountant_type lap2_paper_type = {
  "lap2-paper", sizeof (lap2_state), lap2_paper_init, lap2_release,
  lap2_copy, lap2_supports, lap2_compose, lap2_epsilon, lap2_delta
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
  lap2_run run = { clip, q, dimension, steps };
  return dpacct_calibrate_noise (type, accountant, make_lap2_event, &run,
                                 target_epsilon, delta, &scaled, result);
}
