/* dpacct/accountant.h - the accountant protocol shared by every accountant.
 *
 * An accountant is created from a type (RDP today; PLD and Lap2 plug in as
 * further types), composes events, and answers epsilon(delta) and
 * delta(epsilon) as bounds that state their side. */
#ifndef DPACCT_ACCOUNTANT_H
#define DPACCT_ACCOUNTANT_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  DPACCT_ADD_REMOVE,  /* datasets differ by adding or removing one example */
  DPACCT_REPLACE_ONE  /* datasets differ by replacing one example */
} dpacct_neighbouring;

/* Settings of an accountant.  Initialise with dpacct_accountant_options_init,
 * then change what you need; fields a type does not use are ignored. */
typedef struct {
  dpacct_neighbouring neighbouring;
  /* RDP orders (all > 1), or NULL for the type's default grid.  Copied. */
  const double *orders;
  size_t n_orders;
  /* Nonzero: upper bounds are certified (MPFR, directed rounding). */
  int certified;
  /* Lap2: the largest moment order lambda (orders are 1..lap2_max_order;
   * 0: 2048 for lap2, 512 for lap2-paper), and, for lap2-paper, nonzero to
   * charge the coordinates past the exact head at a guaranteed upper
   * bound instead of a quadrature estimate. */
  unsigned lap2_max_order;
  int lap2_paper_upper_tail;
  /* lap2: nonzero to also compute the lower side, from the PLD of a
   * post-processing of the mechanism (seconds rather than milliseconds;
   * default 0: lower is NaN).  Calibration never computes it. */
  int lap2_lower_bound;
  /* PLD: the loss grid's interval (0: chosen from rel_accuracy), the
   * accuracy asked of the bounds (default 1e-3: the grid is refined until
   * the upper bound is within rel_accuracy / 2 of the exact value, as
   * estimated from its h^2 convergence, and the lower bound until
   * upper - lower <= 10 rel_accuracy * upper), and the most grid points one
   * FFT may use (default 2^22, about 64 MiB of work arrays). */
  double pld_interval;
  double pld_rel_accuracy;
  size_t pld_max_points;
  /* Nonzero: only the upper side is wanted (lower is NaN); calibration
   * sets it, since only the upper bound decides. */
  int upper_only;
} dpacct_accountant_options;

void dpacct_accountant_options_init (dpacct_accountant_options *options);

/* A bound on epsilon (for a given delta) or on delta (for a given epsilon).
 * Each side is a bound in the named direction; a side the accountant
 * cannot bound is NaN (only ever the lower side).  +Inf is a valid upper
 * bound ("no finite guarantee"). */
typedef struct {
  double lower;
  double upper;
  int certified;     /* upper was proved with directed rounding */
  double order;      /* RDP: the order attaining upper; Lap2: the moment
                        order lambda (Renyi order lambda + 1); NaN
                        otherwise */
  int order_at_edge; /* RDP: that order is the first or last of the orders
                        given, or the end of the range searched over real
                        orders; Lap2: it is the largest order */
  int limit;         /* PLD: why the grid's refinement ended before the
                        accuracy asked for was reached (the bounds are
                        valid, only wider): DPACCT_PLD_LIMIT_* */
} dpacct_bound;

/* dpacct_bound.limit: none; the memory cap (--max-points) stopped it, and
 * a larger one would refine further; finer grids stopped narrowing the
 * bounds, and no setting would help. */
enum
{
  DPACCT_PLD_LIMIT_NONE = 0,
  DPACCT_PLD_LIMIT_MEMORY = 1,
  DPACCT_PLD_LIMIT_NO_GAIN = 2
};

typedef struct dpacct_accountant dpacct_accountant;

/* What a type provides.  State is an opaque block of `state_size` bytes. */
typedef struct dpacct_accountant_type {
  const char *name;
  size_t state_size;
  int (*init) (void *state, const dpacct_accountant_options *options);
  void (*release) (void *state);
  int (*copy) (void *dest, const void *src);
  /* DPACCT_OK or DPACCT_EUNSUP (or EDOM for invalid events). */
  int (*supports) (const void *state, const dpacct_event *event);
  /* Must leave the state untouched unless it returns DPACCT_OK. */
  int (*compose) (void *state, const dpacct_event *event, uint64_t count);
  int (*epsilon) (const void *state, double delta, dpacct_bound *out);
  int (*delta) (const void *state, double epsilon, dpacct_bound *out);
  /* Optional (NULL: none).  Where calibration with OPTIONS starts: a
   * cheaper type (or this one with cheaper settings) whose calibrated
   * noise lies just above this one's, its settings in *GUIDE_OPTIONS and
   * the relative tolerance to ask of it in *GUIDE_TOL (REL_TOL is the
   * caller's); NULL for none.  A guide only saves evaluations: the answer
   * is verified with this type either way. */
  const struct dpacct_accountant_type *(*guide) (
      const dpacct_accountant_options *options, double rel_tol,
      dpacct_accountant_options *guide_options, double *guide_tol);
  /* Optional (NULL: two epsilon queries).  The upper side at delta_upper
   * and the lower side at delta_lower (>= delta_upper) in one query. */
  int (*epsilon_split) (const void *state, double delta_upper,
                        double delta_lower, dpacct_bound *out);
} dpacct_accountant_type;

extern const dpacct_accountant_type *const dpacct_accountant_rdp;
extern const dpacct_accountant_type *const dpacct_accountant_pld;
/* Laplace noise on L2-clipped sums (events from
 * dpacct_event_laplace_l2_alloc): "lap2", the sound joint moments bound,
 * and "lap2-paper", the published coordinate-wise sum, which is not a
 * privacy bound when the sampling rate is below 1 (see dpacct/lap2.h). */
extern const dpacct_accountant_type *const dpacct_accountant_lap2;
extern const dpacct_accountant_type *const dpacct_accountant_lap2_paper;

/* NULL when no type has that name ("rdp", "pld", "lap2", "lap2-paper"). */
const dpacct_accountant_type *dpacct_accountant_type_by_name (const char *name);

/* The I-th type the library provides (rdp, pld, lap2, lap2-paper), or
 * NULL past the last: "every accountant" without naming one. */
const dpacct_accountant_type *dpacct_accountant_type_at (size_t i);

/* Can an accountant of TYPE with OPTIONS compose EVENT, and if not, why?
 * DPACCT_OK, or DPACCT_EUNSUP (DPACCT_EDOM for bad options or event) with
 * one line in WHY (SIZE bytes, may be 0) that names the accountant and
 * the first part of the event it cannot account, e.g. "the pld
 * accountant cannot account Gaussian noise sampled without replacement
 * (replace-one)". */
int dpacct_accountant_explain (const dpacct_accountant_type *type,
                               const dpacct_accountant_options *options,
                               const dpacct_event *event, char *why,
                               size_t size);

int dpacct_accountant_alloc (const dpacct_accountant_type *type,
                             const dpacct_accountant_options *options,
                             dpacct_accountant **out);
void dpacct_accountant_free (dpacct_accountant *accountant); /* NULL: no-op */
int dpacct_accountant_copy (const dpacct_accountant *accountant,
                            dpacct_accountant **out);
const char *dpacct_accountant_name (const dpacct_accountant *accountant);

int dpacct_accountant_supports (const dpacct_accountant *accountant,
                                const dpacct_event *event);
/* Adds `count` runs of `event`; atomic: on failure nothing changes. */
int dpacct_accountant_compose (dpacct_accountant *accountant,
                               const dpacct_event *event, uint64_t count);
/* delta in (0, 1). */
int dpacct_accountant_epsilon (const dpacct_accountant *accountant,
                               double delta, dpacct_bound *out);
/* epsilon >= 0 and finite. */
/* out->upper: an upper bound on epsilon at delta_upper; out->lower: a
 * lower bound on epsilon at delta_lower; 0 < delta_upper <= delta_lower
 * < 1.  One composition where the type can (PLD), two queries otherwise. */
int dpacct_accountant_epsilon_split (const dpacct_accountant *accountant,
                                     double delta_upper, double delta_lower,
                                     dpacct_bound *out);
int dpacct_accountant_delta (const dpacct_accountant *accountant,
                             double epsilon, dpacct_bound *out);

#ifdef __cplusplus
}
#endif
#endif
