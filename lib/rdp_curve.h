/* rdp_curve.h - RDP curves over an order grid, partly evaluated; not
 * installed.
 *
 * Most RDP values are cheap (closed forms, binomial sums).  The
 * subsampled Gaussian at fractional and very large orders needs
 * quadrature, so a curve evaluates it only at the orders the conversion
 * asks for.  A curve also keeps every contribution as a term with a
 * closed form in the order, so that it can be evaluated at any real
 * order, unless a contribution is known at the grid's integer orders
 * only (the general sampling bounds, certified values). */
#ifndef DPACCT_RDP_CURVE_H
#define DPACCT_RDP_CURVE_H

#include <stddef.h>
#include <stdint.h>

#include "dpacct/accountant.h"
#include "dpacct/event.h"
#include "dpacct/rdp.h"
#include "internal.h"

/* The orders and the accounting conventions a curve is computed under. */
typedef struct
{
  size_t n;
  double *orders;          /* ascending, distinct */
  unsigned char *deferred; /* 1 where a subsampled Gaussian needs quadrature */
  int max_integer_order;
  dpacct_neighbouring neighbouring;
  int certified;           /* every value rounded up; no deferred terms */
  int continuous;          /* search real orders beyond the grid too */
} dpacct_rdp_grid;

typedef enum
{
  DPACCT_RDP_TERM_GAUSSIAN,        /* scale: the noise over the sensitivity */
  DPACCT_RDP_TERM_LAPLACE,         /* scale: b over the sensitivity */
  DPACCT_RDP_TERM_SAMPLED_GAUSSIAN /* Poisson-subsampled, add/remove */
} dpacct_rdp_term_kind;

/* weight times the RDP of one mechanism, at every order. */
typedef struct
{
  dpacct_rdp_term_kind kind;
  double q, scale, weight;
} dpacct_rdp_term;

typedef struct
{
  double *known;           /* value at each order, less the subsampled
                              Gaussian terms (evaluated when asked) */
  double pure;             /* pure-DP epsilon, the order-infinity limit */
  size_t n_terms, capacity;
  dpacct_rdp_term *terms;  /* every contribution, unless grid_only */
  int grid_only;           /* some contribution is known on the grid only */
} dpacct_rdp_curve;

/* continuous: also search real orders around the grid's best one (ignored
 * when certified). */
int dpacct_rdp_grid_init (dpacct_rdp_grid *grid, const double *orders,
                          size_t n, dpacct_neighbouring neighbouring,
                          int certified, int continuous);
void dpacct_rdp_grid_release (dpacct_rdp_grid *grid);
int dpacct_rdp_grid_copy (dpacct_rdp_grid *dest, const dpacct_rdp_grid *src);

/* A zero curve (nothing composed). */
int dpacct_rdp_curve_init (dpacct_rdp_curve *curve, const dpacct_rdp_grid *grid);
void dpacct_rdp_curve_release (dpacct_rdp_curve *curve);
int dpacct_rdp_curve_copy (dpacct_rdp_curve *dest, const dpacct_rdp_curve *src,
                           const dpacct_rdp_grid *grid);

/* Structural support of one leaf (GRID: a dpacct_rdp_grid), and of every
 * leaf of an event: DPACCT_OK or DPACCT_EUNSUP. */
int dpacct_rdp_leaf_supported (const void *grid, const dpacct_leaf *leaf);
int dpacct_rdp_event_supported (const dpacct_rdp_grid *grid,
                                const dpacct_event *event);

/* The curve of one run of `event`, into an initialised zero curve. */
int dpacct_rdp_curve_of_event (const dpacct_rdp_grid *grid,
                               const dpacct_event *event,
                               dpacct_rdp_curve *out);

/* sum += count * add.  On failure (ENOMEM) sum is unchanged. */
int dpacct_rdp_curve_add (dpacct_rdp_curve *sum, const dpacct_rdp_curve *add,
                          uint64_t count, const dpacct_rdp_grid *grid);

/* The full value at order i: known plus the subsampled Gaussian terms,
 * evaluated there (a binomial sum, or quadrature where deferred). */
int dpacct_rdp_curve_value (const dpacct_rdp_grid *grid,
                            const dpacct_rdp_curve *curve, size_t i,
                            double *value);

/* The value at any real order alpha > 1, from the terms; DPACCT_EUNSUP
 * for a grid_only curve. */
int dpacct_rdp_curve_value_at (const dpacct_rdp_curve *curve, double alpha,
                               double *value);

/* The same two, except that they may stop summing once the sum exceeds
 * `stop`: *value is then a lower bound on the value, above `stop`. */
int dpacct_rdp_curve_value_until (const dpacct_rdp_grid *grid,
                                  const dpacct_rdp_curve *curve, size_t i,
                                  double stop, double *value);
int dpacct_rdp_curve_value_at_until (const dpacct_rdp_curve *curve,
                                     double alpha, double stop, double *value);

/* ---- the best order (rdp_order.c) ---------------------------------------- */

typedef enum
{
  DPACCT_RDP_FOR_EPSILON, /* given a delta */
  DPACCT_RDP_FOR_DELTA    /* given an epsilon */
} dpacct_rdp_target;

typedef struct
{
  double value;   /* the smallest epsilon or delta found */
  double order;   /* where */
  int at_edge;    /* order is the first or last of the orders searched */
} dpacct_rdp_optimum;

/* Minimises the conversion of `curve` over the grid's orders and, when the
 * grid is continuous and the curve is not grid_only, over real orders
 * around the best of them (Brent's method), going beyond the grid's ends
 * when the optimum lies there. */
int dpacct_rdp_optimise (const dpacct_rdp_grid *grid,
                         const dpacct_rdp_curve *curve,
                         dpacct_rdp_target target, double given,
                         dpacct_rdp_optimum *out);

#endif
