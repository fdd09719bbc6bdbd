/* internal.h - helpers shared by the library's modules; not installed. */
#ifndef DPACCT_INTERNAL_H
#define DPACCT_INTERNAL_H

#include "dpacct/status.h"

#include <stddef.h>
#include <stdint.h>

/* dpacct_error_report (dpacct/status.h) returns CODE, so that callers
 * can write `return DPACCT_FAIL (...)`. */
#define DPACCT_FAIL(code, message) \
  dpacct_error_report ((code), (message), __func__)

struct dpacct_event;

#include "dpacct/accountant.h"

/* A setting's value (its default when not set), for the types, which
 * read only the keys they declare: 0 or NaN for an unknown key. */
int64_t dpacct_options_int (const dpacct_accountant_options *options,
                            const char *key);
double dpacct_options_double (const dpacct_accountant_options *options,
                              const char *key);

/* The mechanism of a leaf event, with its Poisson sampling rate in *Q (1
 * when the event is not Poisson-sampled). */
const struct dpacct_event *dpacct_event_mechanism (
    const struct dpacct_event *e, double *q);

/* One leaf of an event tree, merged with every equal one (leaves.c):
 * a mechanism, its sampling and how many times it runs.  The neighbouring
 * relation is the accountant's, the same for every leaf. */
enum { DPACCT_LEAF_UNSAMPLED = -1 };
typedef struct
{
  const struct dpacct_event *event; /* the first such leaf, for its curve */
  int mechanism;      /* a dpacct_event_kind: Gaussian, Laplace, Laplace-L2 */
  double parameter;   /* sigma, b, or b/C */
  uint64_t dimension; /* Laplace-L2's d; 1 otherwise */
  int sampling;       /* DPACCT_EVENT_POISSON_SAMPLED,
                         DPACCT_EVENT_SAMPLED_WITHOUT_REPLACEMENT or
                         DPACCT_LEAF_UNSAMPLED */
  double rate;        /* the sampling rate; 1 unsampled */
  uint64_t count;     /* at most DPACCT_MAX_COUNT */
} dpacct_leaf;

typedef struct
{
  dpacct_leaf *leaves;
  size_t n, capacity;
} dpacct_leaf_list;

void dpacct_leaf_list_init (dpacct_leaf_list *list);
/* Whether two leaves are the same step (all but the count agree), as the
 * walk merges them. */
int dpacct_leaf_same (const dpacct_leaf *a, const dpacct_leaf *b);
void dpacct_leaf_list_release (dpacct_leaf_list *list);
/* Appends the leaves of E, run COUNT times, to LIST, merging equal ones;
 * every count on the way is checked against DPACCT_MAX_COUNT (EDOM).
 * Leaves sampled at rate 0 release nothing and are left out. */
int dpacct_event_leaves (const struct dpacct_event *e, uint64_t count,
                         dpacct_leaf_list *list);

/* An accountant's "can you compose this leaf": DPACCT_OK or
 * DPACCT_EUNSUP. */
typedef int (*dpacct_leaf_check) (const void *state, const dpacct_leaf *leaf);

/* Whether CHECK (with STATE) accepts every leaf of E: DPACCT_OK, its
 * first refusal, or the walk's own status (EDOM for counts past the
 * limit, ENOMEM).  *FIRST (FIRST may be NULL) is the event of the first
 * leaf refused, NULL when none was.  Every accountant's `supports` is
 * this walk with its own check, so no accountant walks the tree. */
int dpacct_event_leaves_check (const struct dpacct_event *e,
                               dpacct_leaf_check check, const void *state,
                               const struct dpacct_event **first);

/* Calibration's fast path (calibrate.c) for runs where few leaves change
 * with the noise, e.g. the one phase whose noise is asked for in a run of
 * many: a type may keep what the fixed leaves cost once, and bound each
 * run of them with new varying leaves cheaply.  Its bounds are valid
 * upper bounds, possibly less tight than the type's own. */
typedef struct dpacct_fixed_run dpacct_fixed_run;
typedef struct
{
  /* Whether it can serve accountants with these options at all. */
  int (*serves) (const dpacct_accountant_options *options);
  /* The epsilon upper bound at DELTA of the run of RUN's leaves (as
   * walked, in their order: bit for bit what the type's epsilon with
   * "upper-only" gives), which are the FIXED and VARYING leaves, into
   * *FIRST, and in *OUT what later runs with other varying leaves reuse,
   * or NULL when the fast path cannot serve this run.  Any status but
   * DPACCT_OK leaves the bound to the type itself. */
  int (*alloc) (const dpacct_accountant_options *options, double delta,
                const dpacct_leaf *run, size_t n_run,
                const dpacct_leaf *fixed, size_t n_fixed,
                const dpacct_leaf *varying, size_t n_varying,
                dpacct_fixed_run **out, dpacct_bound *first);
  /* A valid epsilon upper bound of the fixed leaves with these varying
   * ones; any status but DPACCT_OK (a window that no longer fits, an
   * unsupported leaf) leaves the bound to the type itself. */
  int (*epsilon) (dpacct_fixed_run *run, const dpacct_leaf *varying,
                  size_t n_varying, dpacct_bound *out);
  void (*free) (dpacct_fixed_run *run);
} dpacct_fixed_run_hook;

/* TYPE's fast path for calibration, or NULL (accountant.c). */
const dpacct_fixed_run_hook *dpacct_accountant_fixed_run (
    const dpacct_accountant_type *type);
extern const dpacct_fixed_run_hook dpacct_pld_fixed_run;

/* n doubles (uninitialised, freed with free), on huge pages where the
 * array is large and the kernel offers them (large_alloc.c); NULL when
 * memory is short. */
double *dpacct_alloc_doubles (size_t n);

/* out[i] = erfc(x[i]) for i < n, several at a time where the C library
 * has a vector erfc (erfc_many.c). */
void dpacct_erfc_many (const double *x, double *out, size_t n);

#endif
