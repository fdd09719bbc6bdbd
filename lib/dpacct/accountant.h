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

/* Settings of an accountant: an opaque object of fixed size, so that it
 * lives on the stack or inside another struct (dpacct_plan_options), read
 * and written by key only.  Each accountant type declares the settings it
 * reads (dpacct_accountant_type.settings), so a new accountant adds keys,
 * never fields.  Initialise with dpacct_accountant_options_init (every
 * setting at its default), then set what you need:
 *
 *   dpacct_accountant_options o;
 *   dpacct_accountant_options_init (&o);
 *   dpacct_accountant_options_set_int (&o, "neighbouring",
 *                                      DPACCT_REPLACE_ONE);
 *   dpacct_accountant_options_set_double (&o, "pld-rel-accuracy", 1e-4);
 *
 * Keys every type reads:
 *   "neighbouring"  int: DPACCT_ADD_REMOVE (default) or DPACCT_REPLACE_ONE
 *   "certified"     int 0/1: upper bounds certified (MPFR, directed
 *                   rounding); default 0
 *   "upper-only"    int 0/1: only the upper side is wanted (lower is NaN);
 *                   calibration sets it, since only the upper bound decides
 * rdp:
 *   "orders"        doubles, each in (1, 10^6], 1 to 100000 of them: the
 *                   RDP orders (default: the type's grid, searched over real
 *                   orders too).  Borrowed: keep the array alive until the
 *                   accountant is allocated (it copies them).
 * lap2, lap2-paper:
 *   "lap2-max-order"         int in [0, 10000]: the largest moment order
 *                            lambda (0 or unset: the type's default,
 *                            dpacct_accountant_type_default: 2048 for
 *                            lap2, 512 for lap2-paper)
 *   "lap2-paper-upper-tail"  int 0/1: lap2-paper charges the coordinates
 *                            past the exact head at a guaranteed upper bound
 *                            instead of a quadrature estimate
 *   "lap2-lower-bound"       int 0/1: lap2 also computes the lower side,
 *                            from the PLD of a post-processing (seconds
 *                            rather than milliseconds; default 0: NaN)
 * pld:
 *   "pld-interval"      double in [0, 1]: the loss grid's interval (0, the
 *                       default: chosen from the accuracy)
 *   "pld-rel-accuracy"  double in [1e-6, 0.5], default 1e-3: the grid is
 *                       refined until the upper bound is within half of it
 *                       of the exact value (estimated from its h^2
 *                       convergence), and the lower until upper - lower <=
 *                       10 times it times upper
 *   "pld-max-points"    int in [1024, 2^62], default 2^22 (about 64 MiB of
 *                       work arrays): the most grid points one FFT may use
 *
 * A setter returns DPACCT_OK; DPACCT_EINVAL for a NULL argument, a key no
 * type reads, or a key of another kind (an int key set as a double); or
 * DPACCT_EDOM for a value out of the key's range, and then changes
 * nothing.  Types still refuse settings they cannot honour when an
 * accountant is allocated (the lap2 ones: replace-one, certified). */
typedef struct
{
  uint64_t opaque_[64]; /* private: use the functions below */
} dpacct_accountant_options;

void dpacct_accountant_options_init (dpacct_accountant_options *options);
int dpacct_accountant_options_set_int (dpacct_accountant_options *options,
                                       const char *key, int64_t value);
int dpacct_accountant_options_set_double (dpacct_accountant_options *options,
                                          const char *key, double value);
int dpacct_accountant_options_set_doubles (dpacct_accountant_options *options,
                                           const char *key,
                                           const double *values, size_t n);
/* The value of KEY (its default when not set); DPACCT_EINVAL for an
 * unknown key or one of another kind.  get_doubles gives NULL and 0 for a
 * list not set. */
int dpacct_accountant_options_get_int (
    const dpacct_accountant_options *options, const char *key, int64_t *value);
int dpacct_accountant_options_get_double (
    const dpacct_accountant_options *options, const char *key, double *value);
int dpacct_accountant_options_get_doubles (
    const dpacct_accountant_options *options, const char *key,
    const double **values, size_t *n);
/* Nonzero when KEY was set (even to its default). */
int dpacct_accountant_options_is_set (const dpacct_accountant_options *options,
                                      const char *key);

/* One setting a type reads: its key, kind, allowed range (of each element
 * for a list) and default (ints and doubles). */
typedef enum
{
  DPACCT_SETTING_INT,
  DPACCT_SETTING_DOUBLE,
  DPACCT_SETTING_DOUBLES
} dpacct_setting_kind;

typedef struct
{
  const char *key;
  dpacct_setting_kind kind;
  double min, max;
  double default_value;
} dpacct_setting;

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
  /* The settings it reads besides the common ones ("neighbouring",
   * "certified", "upper-only"). */
  const dpacct_setting *settings;
  size_t n_settings;
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

/* Nonzero when TYPE reads the setting KEY (the common ones included). */
int dpacct_accountant_type_takes (const dpacct_accountant_type *type,
                                  const char *key);

/* The value TYPE uses for the setting KEY when it is not set; NaN when
 * TYPE does not read KEY.  (A getter of an unset key answers with the
 * default of the first type that reads it.) */
double dpacct_accountant_type_default (const dpacct_accountant_type *type,
                                       const char *key);

/* The type whose answers are privacy bounds for the events TYPE accounts:
 * TYPE itself, except for a type whose figure is not a privacy bound when
 * the sampling rate is below 1 (lap2-paper), where it is the proved one
 * to show beside that figure (lap2). */
const dpacct_accountant_type *
dpacct_accountant_type_proved (const dpacct_accountant_type *type);

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
