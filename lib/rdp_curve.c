/* rdp_curve.c - the RDP curve of an event, and sums of curves.
 *
 * Supported: Gaussian and Laplace (either relation); Poisson sampling of
 * either (add/remove); sampling without replacement of either
 * (replace-one); self-composition and sequences of those.  Under
 * replace-one one example moves a clipped sum by up to twice the clipping
 * bound, so the mechanisms' sensitivity is 2 there. */
#include "rdp_curve.h"
#include "dpacct/rdp.h"
#include "internal.h"
#include "rdp_internal.h"
#include "rdp_mpfr.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- grid ------------------------------------------------------------- */

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

int
dpacct_rdp_grid_init (dpacct_rdp_grid *g, const double *orders, size_t n,
                      dpacct_neighbouring neighbouring, int certified,
                      int continuous)
{
  if (n == 0 || n > 100000)
    return DPACCT_FAIL (DPACCT_EDOM, "need 1 to 100000 RDP orders");
  for (size_t i = 0; i < n; i++)
    if (!(orders[i] > 1.0) || !(orders[i] <= 1e6))
      return DPACCT_FAIL (DPACCT_EDOM, "RDP orders must be in (1, 10^6]");
  g->orders = malloc (n * sizeof *g->orders);
  g->deferred = malloc (n);
  if (g->orders == NULL || g->deferred == NULL)
    {
      dpacct_rdp_grid_release (g);
      return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate RDP orders");
    }
  memcpy (g->orders, orders, n * sizeof *orders);
  qsort (g->orders, n, sizeof *g->orders, compare_doubles);
  g->n = 0;
  g->max_integer_order = 0;
  for (size_t i = 0; i < n; i++)
    {
      double a = g->orders[i];
      if (g->n > 0 && a == g->orders[g->n - 1])
        continue;
      int integer = a == floor (a);
      if (integer)
        g->max_integer_order = (int) a;
      /* Certified bounds skip fractional orders and sum exactly at large
       * ones, so they defer nothing. */
      g->deferred[g->n] = !certified
                          && (!integer || a > DPACCT_RDP_MAX_SUM_ORDER);
      g->orders[g->n++] = a;
    }
  g->neighbouring = neighbouring;
  g->certified = certified != 0;
  /* Certified values exist at integer orders only. */
  g->continuous = continuous && !certified;
  return DPACCT_OK;
}

void
dpacct_rdp_grid_release (dpacct_rdp_grid *g)
{
  free (g->orders);
  free (g->deferred);
  g->orders = NULL;
  g->deferred = NULL;
}

int
dpacct_rdp_grid_copy (dpacct_rdp_grid *dest, const dpacct_rdp_grid *src)
{
  return dpacct_rdp_grid_init (dest, src->orders, src->n, src->neighbouring,
                               src->certified, src->continuous);
}

/* ---- curves ----------------------------------------------------------- */

int
dpacct_rdp_curve_init (dpacct_rdp_curve *c, const dpacct_rdp_grid *g)
{
  c->known = calloc (g->n, sizeof *c->known);
  c->pure = 0.0;
  c->n_terms = c->capacity = 0;
  c->terms = NULL;
  c->grid_only = 0;
  if (c->known == NULL)
    return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate an RDP curve");
  return DPACCT_OK;
}

void
dpacct_rdp_curve_release (dpacct_rdp_curve *c)
{
  free (c->known);
  free (c->terms);
  c->known = NULL;
  c->terms = NULL;
}

static int
reserve_terms (dpacct_rdp_curve *c, size_t n)
{
  if (n <= c->capacity)
    return DPACCT_OK;
  size_t capacity = n < 4 ? 4 : 2 * n;
  dpacct_rdp_term *t = realloc (c->terms, capacity * sizeof *t);
  if (t == NULL)
    return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate RDP terms");
  c->terms = t;
  c->capacity = capacity;
  return DPACCT_OK;
}

int
dpacct_rdp_curve_copy (dpacct_rdp_curve *dest, const dpacct_rdp_curve *src,
                       const dpacct_rdp_grid *g)
{
  int status = dpacct_rdp_curve_init (dest, g);
  if (status == DPACCT_OK)
    status = reserve_terms (dest, src->n_terms);
  if (status != DPACCT_OK)
    {
      dpacct_rdp_curve_release (dest);
      return status;
    }
  memcpy (dest->known, src->known, g->n * sizeof *dest->known);
  if (src->n_terms > 0)
    memcpy (dest->terms, src->terms, src->n_terms * sizeof *dest->terms);
  dest->n_terms = src->n_terms;
  dest->pure = src->pure;
  dest->grid_only = src->grid_only;
  return DPACCT_OK;
}

/* Rounds a non-negative value up by one ulp in certified mode, which
 * covers the round-to-nearest error of the operation that produced it. */
static double
round_up (const dpacct_rdp_grid *g, double x)
{
  return g->certified && isfinite (x) ? nextafter (x, INFINITY) : x;
}

/* a + count * b, rounded up in certified mode. */
static double
add_scaled (const dpacct_rdp_grid *g, double a, double b, uint64_t count)
{
  return round_up (g, a + round_up (g, (double) count * b));
}

int
dpacct_rdp_curve_add (dpacct_rdp_curve *sum, const dpacct_rdp_curve *add,
                      uint64_t count, const dpacct_rdp_grid *g)
{
  /* Allocate first, so that a failure leaves sum as it was. */
  int status = reserve_terms (sum, sum->n_terms + add->n_terms);
  if (status != DPACCT_OK)
    return status;
  for (size_t i = 0; i < g->n; i++)
    sum->known[i] = add_scaled (g, sum->known[i], add->known[i], count);
  sum->pure = add_scaled (g, sum->pure, add->pure, count);
  sum->grid_only |= add->grid_only;
  for (size_t t = 0; t < add->n_terms; t++)
    {
      dpacct_rdp_term term = add->terms[t];
      term.weight *= (double) count;
      size_t j = 0;
      while (j < sum->n_terms && !(sum->terms[j].kind == term.kind
                                   && sum->terms[j].q == term.q
                                   && sum->terms[j].scale == term.scale))
        j++;
      if (j == sum->n_terms)
        sum->terms[sum->n_terms++] = term;
      else
        sum->terms[j].weight += term.weight;
    }
  return DPACCT_OK;
}

int
dpacct_rdp_curve_value (const dpacct_rdp_grid *g, const dpacct_rdp_curve *c,
                        size_t i, double *value)
{
  return dpacct_rdp_curve_value_until (g, c, i, INFINITY, value);
}

/* Every part of a sum below is non-negative (known values are checked
 * when composed, and each term is a weight >= 0 times an RDP value), and
 * adding a non-negative double never makes a rounded sum smaller: so a
 * partial sum is a lower bound on the full one, and a caller that only
 * asks whether the value exceeds `stop` gets the same answer from it. */
int
dpacct_rdp_curve_value_until (const dpacct_rdp_grid *g,
                              const dpacct_rdp_curve *c, size_t i, double stop,
                              double *value)
{
  double v = c->known[i];
  for (size_t t = 0; t < c->n_terms && !(v > stop); t++)
    {
      if (c->terms[t].kind != DPACCT_RDP_TERM_SAMPLED_GAUSSIAN)
        continue; /* in known already */
      double r;
      int status = dpacct_rdp_sampled_gaussian (c->terms[t].q, c->terms[t].scale,
                                                g->orders[i], &r);
      if (status != DPACCT_OK)
        {
          *value = NAN;
          return status;
        }
      v += c->terms[t].weight * r;
    }
  *value = v;
  return DPACCT_OK;
}

static int
term_rdp (const dpacct_rdp_term *t, double alpha, double *rdp)
{
  switch (t->kind)
    {
    case DPACCT_RDP_TERM_GAUSSIAN:
      return dpacct_rdp_gaussian (t->scale, alpha, rdp);
    case DPACCT_RDP_TERM_LAPLACE:
      return dpacct_rdp_laplace (t->scale, alpha, rdp);
    case DPACCT_RDP_TERM_SAMPLED_GAUSSIAN:
      return dpacct_rdp_sampled_gaussian (t->q, t->scale, alpha, rdp);
    }
  return DPACCT_FAIL (DPACCT_EUNSUP, "unknown RDP term");
}

int
dpacct_rdp_curve_value_at (const dpacct_rdp_curve *c, double alpha,
                           double *value)
{
  return dpacct_rdp_curve_value_at_until (c, alpha, INFINITY, value);
}

int
dpacct_rdp_curve_value_at_until (const dpacct_rdp_curve *c, double alpha,
                                 double stop, double *value)
{
  *value = NAN;
  if (c->grid_only)
    return DPACCT_FAIL (DPACCT_EUNSUP, "this RDP curve is known on its grid only");
  double v = 0.0;
  for (size_t t = 0; t < c->n_terms && !(v > stop); t++)
    {
      double r;
      int status = term_rdp (&c->terms[t], alpha, &r);
      if (status != DPACCT_OK)
        return status;
      v += c->terms[t].weight * r;
    }
  *value = v;
  return DPACCT_OK;
}

/* ---- RDP of one event ------------------------------------------------- */

/* Sensitivity of a clipped sum under the grid's relation. */
static double
sensitivity (const dpacct_rdp_grid *g)
{
  return g->neighbouring == DPACCT_REPLACE_ONE ? 2.0 : 1.0;
}

static int
mechanism_curve (const dpacct_rdp_grid *g, const dpacct_event *e,
                 dpacct_rdp_curve *out)
{
  double scale = dpacct_event_get_parameter (e) / sensitivity (g);
  int laplace = dpacct_event_get_kind (e) == DPACCT_EVENT_LAPLACE;
  int status = reserve_terms (out, 1);
  if (status != DPACCT_OK)
    return status;
  out->terms[0] = (dpacct_rdp_term) {
    laplace ? DPACCT_RDP_TERM_LAPLACE : DPACCT_RDP_TERM_GAUSSIAN, 1.0, scale, 1.0
  };
  out->n_terms = 1;
  out->pure = laplace ? round_up (g, 1.0 / scale) : INFINITY;
  for (size_t i = 0; i < g->n; i++)
    {
      double a = g->orders[i];
      status = laplace ? dpacct_rdp_laplace (scale, a, &out->known[i])
                       : dpacct_rdp_gaussian (scale, a, &out->known[i]);
      if (status != DPACCT_OK)
        return status;
      out->known[i] = round_up (g, out->known[i]);
    }
  return DPACCT_OK;
}

/* Certified subsampled Gaussian: MPFR with rounding up at integer orders;
 * other orders bound nothing (+Inf). */
static void
certified_sampled_gaussian (const dpacct_rdp_grid *g, double q, double sigma,
                            double *out)
{
  mpfr_t log_a;
  mpfr_init2 (log_a, 128);
  for (size_t i = 0; i < g->n; i++)
    {
      double a = g->orders[i];
      if (a != floor (a))
        {
          out[i] = INFINITY;
          continue;
        }
      dpacct_mpfr_sampled_gaussian_log_a (log_a, q, sigma, (unsigned long) a,
                                          MPFR_RNDU);
      mpfr_div_d (log_a, log_a, a - 1.0, MPFR_RNDU);
      out[i] = mpfr_get_d (log_a, MPFR_RNDU);
    }
  mpfr_clear (log_a);
}

/* One term, evaluated when the conversion asks for an order (rdp_order.c
 * asks for few): the exact binomial sums at integer orders up to
 * DPACCT_RDP_MAX_SUM_ORDER, quadrature at the others.  `copies` sampled
 * Gaussians at sigma are composed.  Nothing goes into `known`: a run of a
 * thousand distinct phases would otherwise pay every integer order up to
 * DPACCT_RDP_MAX_SUM_ORDER for every phase, where the best order is
 * often below 10. */
static int
sampled_gaussian_curve (const dpacct_rdp_grid *g, double q, double sigma,
                        double copies, dpacct_rdp_curve *out)
{
  int status = reserve_terms (out, 1);
  if (status != DPACCT_OK)
    return status;
  for (size_t i = 0; i < g->n; i++)
    out->known[i] = 0.0;
  out->terms[0] = (dpacct_rdp_term) { DPACCT_RDP_TERM_SAMPLED_GAUSSIAN, q,
                                      sigma, copies };
  out->n_terms = 1;
  return DPACCT_OK;
}

/* RDP of the base mechanism at integer orders 0..max (entries 0, 1
 * unused), and its pure-DP epsilon, for the general sampling bounds. */
static int
base_rdp_table (const dpacct_rdp_grid *g, const dpacct_event *base,
                double **table)
{
  int max = g->max_integer_order;
  *table = calloc ((size_t) max + 1, sizeof **table);
  if (*table == NULL)
    return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate an RDP table");
  double scale = dpacct_event_get_parameter (base) / sensitivity (g);
  int laplace = dpacct_event_get_kind (base) == DPACCT_EVENT_LAPLACE;
  for (int j = 2; j <= max; j++)
    {
      int status = laplace ? dpacct_rdp_laplace (scale, j, &(*table)[j])
                           : dpacct_rdp_gaussian (scale, j, &(*table)[j]);
      if (status != DPACCT_OK)
        {
          free (*table);
          *table = NULL;
          return status;
        }
    }
  return DPACCT_OK;
}

/* A sampled mechanism at integer orders through a general bound; other
 * orders bound nothing (+Inf).  base_pure is the base's pure epsilon. */
static int
general_sampled_curve (const dpacct_rdp_grid *g, const dpacct_event *e,
                       double base_pure, dpacct_rdp_curve *out)
{
  const dpacct_event *base = dpacct_event_get_child (e, 0);
  double q = dpacct_event_get_parameter (e);
  int poisson = dpacct_event_get_kind (e) == DPACCT_EVENT_POISSON_SAMPLED;
  double *table;
  int status = base_rdp_table (g, base, &table);
  for (size_t i = 0; status == DPACCT_OK && i < g->n; i++)
    {
      double a = g->orders[i];
      if (a != floor (a))
        out->known[i] = INFINITY;
      else if (poisson)
        status = dpacct_rdp_poisson_general (q, table, a, &out->known[i]);
      else
        status = dpacct_rdp_without_replacement_general (q, table, base_pure, a,
                                                         &out->known[i]);
    }
  free (table);
  return status;
}

static int
sampled_curve (const dpacct_rdp_grid *g, const dpacct_event *e,
               dpacct_rdp_curve *out)
{
  const dpacct_event *base = dpacct_event_get_child (e, 0);
  double q = dpacct_event_get_parameter (e);
  int poisson = dpacct_event_get_kind (e) == DPACCT_EVENT_POISSON_SAMPLED;
  if (q == 0.0)
    return DPACCT_OK; /* out is the zero curve */
  int status = mechanism_curve (g, base, out);
  if (status != DPACCT_OK || q == 1.0)
    return status;
  out->n_terms = 0; /* the base's term; the sampled one replaces it */
  /* Amplification of pure DP by either sampling scheme (Balle, Barthe and
   * Gaboardi 2018): log(1 + q (e^eps - 1)). */
  double base_pure = out->pure;
  out->pure = round_up (g, log1p (q * expm1 (base_pure)));
  if (!poisson || dpacct_event_get_kind (base) == DPACCT_EVENT_LAPLACE)
    {
      out->grid_only = 1;
      return general_sampled_curve (g, e, base_pure, out);
    }
  /* Replace-one with Poisson sampling is dominated by one removal and
   * one addition at noise multiplier sigma / sqrt 2 (the proof is at
   * leaf_pairs in pld_accountant.c; Renyi divergences are jointly
   * quasi-convex and add over products), and the addition's RDP is at
   * most the removal's (Mironov, Talwar and Zhang 2019). */
  double sigma = dpacct_event_get_parameter (base), copies = 1.0;
  if (g->neighbouring == DPACCT_REPLACE_ONE)
    sigma /= M_SQRT2, copies = 2.0;
  if (g->certified)
    {
      out->grid_only = 1;
      certified_sampled_gaussian (g, q, sigma, out->known);
      for (size_t i = 0; i < g->n; i++)
        out->known[i] *= copies; /* exact: a power of two */
      return DPACCT_OK;
    }
  return sampled_gaussian_curve (g, q, sigma, copies, out);
}

/* The curve of a composition: the sum of its merged leaves' curves, each
 * times its count (the walk is dpacct_event_leaves, shared by every
 * accountant, so equal leaves cost one curve). */
static int
composed_curve (const dpacct_rdp_grid *g, const dpacct_event *e,
                dpacct_rdp_curve *out)
{
  dpacct_leaf_list leaves;
  dpacct_leaf_list_init (&leaves);
  int status = dpacct_event_leaves (e, 1, &leaves);
  for (size_t i = 0; status == DPACCT_OK && i < leaves.n; i++)
    {
      dpacct_rdp_curve child;
      status = dpacct_rdp_curve_init (&child, g);
      if (status == DPACCT_OK)
        status = dpacct_rdp_curve_of_event (g, leaves.leaves[i].event,
                                            &child);
      if (status == DPACCT_OK)
        status = dpacct_rdp_curve_add (out, &child, leaves.leaves[i].count,
                                       g);
      dpacct_rdp_curve_release (&child);
    }
  dpacct_leaf_list_release (&leaves);
  return status;
}

int
dpacct_rdp_curve_of_event (const dpacct_rdp_grid *g, const dpacct_event *e,
                           dpacct_rdp_curve *out)
{
  switch (dpacct_event_get_kind (e))
    {
    case DPACCT_EVENT_GAUSSIAN:
    case DPACCT_EVENT_LAPLACE:
      return mechanism_curve (g, e, out);
    case DPACCT_EVENT_POISSON_SAMPLED:
    case DPACCT_EVENT_SAMPLED_WITHOUT_REPLACEMENT:
      return sampled_curve (g, e, out);
    case DPACCT_EVENT_SELF_COMPOSED:
    case DPACCT_EVENT_SEQUENCE:
      return composed_curve (g, e, out);
    case DPACCT_EVENT_LAPLACE_L2:
      break; /* the Lap2 accountants' own */
    }
  return DPACCT_FAIL (DPACCT_EUNSUP, "unknown event kind");
}

int
dpacct_rdp_leaf_supported (const void *grid, const dpacct_leaf *leaf)
{
  const dpacct_rdp_grid *g = grid;
  int base = leaf->mechanism;
  if (base != DPACCT_EVENT_GAUSSIAN && base != DPACCT_EVENT_LAPLACE)
    return DPACCT_EUNSUP; /* Laplace-L2 is the Lap2 accountants' own */
  if (leaf->sampling == DPACCT_LEAF_UNSAMPLED)
    /* Certified bounds cover the Gaussian mechanism only. */
    return g->certified && base != DPACCT_EVENT_GAUSSIAN ? DPACCT_EUNSUP
                                                          : DPACCT_OK;
  int poisson = leaf->sampling == DPACCT_EVENT_POISSON_SAMPLED;
  /* Poisson sampling under add/remove, and for the Gaussian under
   * replace-one too; without replacement under replace-one. */
  if (!poisson && g->neighbouring != DPACCT_REPLACE_ONE)
    return DPACCT_EUNSUP;
  if (poisson && g->neighbouring == DPACCT_REPLACE_ONE
      && base != DPACCT_EVENT_GAUSSIAN)
    return DPACCT_EUNSUP;
  if (g->certified && !(poisson && base == DPACCT_EVENT_GAUSSIAN))
    return DPACCT_EUNSUP;
  return DPACCT_OK;
}

int
dpacct_rdp_event_supported (const dpacct_rdp_grid *g, const dpacct_event *e)
{
  return dpacct_event_leaves_check (e, dpacct_rdp_leaf_supported, g, NULL);
}
