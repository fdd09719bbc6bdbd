/* rdp_accountant.c - the RDP accountant: an RDP curve summed over the
 * composed events (rdp_curve.c), converted to (epsilon, delta) at the best
 * order (rdp_order.c): over real orders by default, over the orders given
 * when a list is given. */
#include "dpacct/accountant.h"
#include "dpacct/rdp.h"
#include "internal.h"
#include "rdp_curve.h"
#include "rdp_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the default order grid ------------------------------------------ */

/* Dense where the optimum moves fast with epsilon (orders near 1 for
 * large epsilon, quarter steps to 12), sparser beyond; the quadrature
 * orders among them cost nothing unless they flank the best cheap one. */
static const double default_orders[] = {
  1.02, 1.05, 1.1, 1.15, 1.2, 1.25, 1.3, 1.35, 1.4, 1.45, 1.5, 1.6, 1.7, 1.8,
  1.9, 2, 2.25, 2.5, 2.75, 3, 3.25, 3.5, 3.75, 4, 4.25, 4.5, 4.75, 5, 5.25,
  5.5, 5.75, 6, 6.25, 6.5, 6.75, 7, 7.25, 7.5, 7.75, 8, 8.25, 8.5, 8.75, 9,
  9.25, 9.5, 9.75, 10, 10.25, 10.5, 10.75, 11, 11.25, 11.5, 11.75, 12, 12.5,
  13, 13.5, 14, 14.5, 15, 15.5, 16, 16.5, 17, 17.5, 18, 18.5, 19, 19.5, 20,
  21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39,
  40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58,
  59, 60, 61, 62, 63, 64, 72, 80, 88, 96, 112, 128, 144, 160, 192, 224, 256,
  320, 384, 448, 512, 640, 768, 1024, 1280, 1536, 2048, 3072, 4096
};

void
dpacct_rdp_default_orders (const double **orders, size_t *n)
{
  *orders = default_orders;
  *n = sizeof default_orders / sizeof default_orders[0];
}

/* ---- state ------------------------------------------------------------ */

typedef struct
{
  dpacct_rdp_grid grid;
  dpacct_rdp_curve curve; /* everything composed so far */
} rdp_state;

static int
rdp_init (void *state, const dpacct_accountant_options *options)
{
  rdp_state *s = state;
  const double *orders, *given;
  size_t n;
  dpacct_accountant_options_get_doubles (options, "orders", &given, &n);
  orders = given;
  if (given == NULL)
    dpacct_rdp_default_orders (&orders, &n);
  /* The default grid is where the search over real orders starts; a
   * list of orders given restricts the search to that list. */
  int status = dpacct_rdp_grid_init (
      &s->grid, orders, n,
      (dpacct_neighbouring) dpacct_options_int (options, "neighbouring"),
      (int) dpacct_options_int (options, "certified"), given == NULL);
  if (status != DPACCT_OK)
    return status;
  status = dpacct_rdp_curve_init (&s->curve, &s->grid);
  if (status != DPACCT_OK)
    dpacct_rdp_grid_release (&s->grid);
  return status;
}

static void
rdp_release (void *state)
{
  rdp_state *s = state;
  dpacct_rdp_curve_release (&s->curve);
  dpacct_rdp_grid_release (&s->grid);
}

static int
rdp_copy (void *dest, const void *src)
{
  const rdp_state *from = src;
  rdp_state *to = dest;
  int status = dpacct_rdp_grid_copy (&to->grid, &from->grid);
  if (status != DPACCT_OK)
    return status;
  status = dpacct_rdp_curve_copy (&to->curve, &from->curve, &to->grid);
  if (status != DPACCT_OK)
    dpacct_rdp_grid_release (&to->grid);
  return status;
}

static int
rdp_supports (const void *state, const dpacct_event *e)
{
  const rdp_state *s = state;
  return dpacct_rdp_event_supported (&s->grid, e);
}

static int
rdp_compose (void *state, const dpacct_event *e, uint64_t count)
{
  rdp_state *s = state;
  int supported = dpacct_rdp_event_supported (&s->grid, e);
  if (supported != DPACCT_OK && supported != DPACCT_EUNSUP)
    return supported; /* a count past the limit */
  if (supported != DPACCT_OK)
    return DPACCT_FAIL (DPACCT_EUNSUP,
                        "event not supported by the RDP accountant");
  dpacct_rdp_curve add;
  int status = dpacct_rdp_curve_init (&add, &s->grid);
  if (status == DPACCT_OK)
    status = dpacct_rdp_curve_of_event (&s->grid, e, &add);
  for (size_t i = 0; status == DPACCT_OK && i < s->grid.n; i++)
    if (isnan (add.known[i]) || add.known[i] < 0.0)
      status = DPACCT_FAIL (DPACCT_ENUMERIC, "invalid RDP value");
  /* The state changes only here, all at once: compose is atomic. */
  if (status == DPACCT_OK)
    status = dpacct_rdp_curve_add (&s->curve, &add, count, &s->grid);
  dpacct_rdp_curve_release (&add);
  return status;
}

/* ---- conversion ------------------------------------------------------- */

static void
describe_order (const rdp_state *s, const dpacct_rdp_optimum *best,
                dpacct_bound *out)
{
  out->order = best->order;
  out->order_at_edge = best->at_edge;
  out->certified = s->grid.certified;
}

/* The bound below as a function of the RDP value r: non-decreasing in r
 * (each step is monotone and rounds upwards). */
static double
total_variation_of (double r)
{
  /* Rounded up: 1 - exp(-r) = -expm1(-r), then its square root. */
  return fmin (nextafter (sqrt (nextafter (-expm1 (-r), 1.0)), 2.0), 1.0);
}

/* Bretagnolle and Huber (1979, Lemma 2.1; see also Canonne 2022,
 * arXiv:2202.07198): TV(P, Q) <= sqrt(1 - exp(-KL(P || Q))).  KL is the
 * Renyi divergence of order 1, at most the RDP at any order (the
 * divergence grows with the order), and delta(epsilon) <= delta(0) = TV
 * for every epsilon >= 0.  So the curve's value at its smallest order
 * bounds delta everywhere; dp_accounting uses the same bound.  It matters
 * only for tiny RDP (below about delta^2).  Not in certified mode, whose
 * roundings it would need; +1 (no bound) when the value cannot be had,
 * since the bound is an improvement only.  *order: where it was taken.
 *
 * The callers only use the bound when it is at most `limit`, so the sum
 * over the curve's terms (a quadrature each) stops once it reaches an RDP
 * value whose bound exceeds `limit`: the partial sum is a lower bound on
 * the full one (rdp_curve.c), and the bound is monotone in it, so the
 * full sum's bound would exceed `limit` too.  The bound returned is then
 * that of the partial sum, still above `limit`. */
static double
total_variation_bound (const rdp_state *s, double limit, double *order)
{
  const dpacct_rdp_grid *g = &s->grid;
  double rdp = NAN;
  *order = NAN;
  if (g->certified)
    return 1.0;
  double stop = 4.0 * limit * limit; /* about where the bound is 2 limit */
  if (!(total_variation_of (stop) > limit))
    stop = INFINITY;
  if (g->continuous && !s->curve.grid_only)
    {
      *order = DPACCT_RDP_MIN_SEARCH_ORDER;
      if (dpacct_rdp_curve_value_at_until (&s->curve, *order, stop, &rdp)
          != DPACCT_OK)
        return 1.0;
    }
  else
    {
      size_t i = 0;
      while (i < g->n && !isfinite (s->curve.known[i]))
        i++;
      if (i == g->n || dpacct_rdp_curve_value_until (g, &s->curve, i, stop,
                                                     &rdp) != DPACCT_OK)
        return 1.0;
      *order = g->orders[i];
    }
  if (!(rdp >= 0.0))
    return 1.0;
  return total_variation_of (rdp);
}

static int
rdp_epsilon (const void *state, double delta, dpacct_bound *out)
{
  const rdp_state *s = state;
  dpacct_rdp_optimum best;
  int status = dpacct_rdp_optimise (&s->grid, &s->curve,
                                    DPACCT_RDP_FOR_EPSILON, delta, &best);
  if (status != DPACCT_OK)
    return status;
  describe_order (s, &best, out);
  out->upper = fmax (best.value, 0.0);
  double tv_order;
  if (out->upper > 0.0 && total_variation_bound (s, delta, &tv_order) <= delta)
    {
      out->upper = 0.0;
      out->order = tv_order;
      out->order_at_edge = 0;
    }
  if (s->curve.pure < out->upper)
    {
      /* Pure DP composition, the order-infinity end of the curve. */
      out->upper = s->curve.pure;
      out->order = INFINITY;
      out->order_at_edge = 0;
    }
  return DPACCT_OK;
}

static int
rdp_delta (const void *state, double epsilon, dpacct_bound *out)
{
  const rdp_state *s = state;
  dpacct_rdp_optimum best;
  int status = dpacct_rdp_optimise (&s->grid, &s->curve,
                                    DPACCT_RDP_FOR_DELTA, epsilon, &best);
  if (status != DPACCT_OK)
    return status;
  describe_order (s, &best, out);
  out->upper = fmin (best.value, 1.0);
  if (out->upper == 1.0)
    out->order_at_edge = 0; /* no order bounds anything: none is better */
  double tv_order, tv = total_variation_bound (s, out->upper, &tv_order);
  if (tv < out->upper)
    {
      out->upper = tv;
      out->order = tv_order;
      out->order_at_edge = 0;
    }
  if (s->curve.pure <= epsilon)
    {
      out->upper = 0.0;
      out->order = INFINITY;
      out->order_at_edge = 0;
    }
  return DPACCT_OK;
}

static const dpacct_setting rdp_settings[] = {
  { "orders", DPACCT_SETTING_DOUBLES, 1.0 + 0x1p-52, 1e6, 0 },
};

static const dpacct_accountant_type rdp_type = {
  .name = "rdp",
  .state_size = sizeof (rdp_state),
  .init = rdp_init,
  .release = rdp_release,
  .copy = rdp_copy,
  .supports = rdp_supports,
  .compose = rdp_compose,
  .epsilon = rdp_epsilon,
  .delta = rdp_delta,
  .settings = rdp_settings,
  .n_settings = sizeof rdp_settings / sizeof rdp_settings[0],
};

const dpacct_accountant_type *const dpacct_accountant_rdp = &rdp_type;
