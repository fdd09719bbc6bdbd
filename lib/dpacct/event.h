/* dpacct/event.h - events: what a training run did, for any accountant.
 *
 * An event is an immutable tree: a mechanism (Gaussian, Laplace) wrapped in
 * a sampling scheme, self-composed, or a sequence of events.  Constructors
 * copy the events they wrap, so the caller keeps ownership of its own. */
#ifndef DPACCT_EVENT_H
#define DPACCT_EVENT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  DPACCT_EVENT_GAUSSIAN,            /* noise std / L2 sensitivity = sigma */
  DPACCT_EVENT_LAPLACE,             /* scale / L1 sensitivity = b */
  DPACCT_EVENT_POISSON_SAMPLED,     /* each example kept with probability q */
  DPACCT_EVENT_SAMPLED_WITHOUT_REPLACEMENT, /* fixed batch, rate q = B/N */
  DPACCT_EVENT_SELF_COMPOSED,       /* one event run `count` times */
  DPACCT_EVENT_SEQUENCE,            /* several events, one after another */
  DPACCT_EVENT_LAPLACE_L2           /* i.i.d. Laplace on each of d coordinates
                                       of an L2-clipped sum: scale / C = b/C */
} dpacct_event_kind;

typedef struct dpacct_event dpacct_event;

/* Largest accepted count of a self-composition (and of accountant
 * compositions): 10^12 steps. */
#define DPACCT_MAX_COUNT UINT64_C(1000000000000)

/* Mechanisms.  sigma and b must be positive and finite. */
int dpacct_event_gaussian_alloc (double sigma, dpacct_event **out);
int dpacct_event_laplace_alloc (double b, dpacct_event **out);
/* Laplace noise of scale b on every one of `dimension` coordinates of a
 * sum of gradients clipped to L2 norm C (Lap2): scale_over_clip = b / C,
 * positive and finite; dimension in [1, DPACCT_MAX_DIMENSION].  Only the
 * Lap2 accountants support it. */
#define DPACCT_MAX_DIMENSION UINT64_C(1000000000000)
int dpacct_event_laplace_l2_alloc (double scale_over_clip, uint64_t dimension,
                                   dpacct_event **out);

/* Sampling.  q in [0, 1]; the inner event is copied. */
int dpacct_event_poisson_alloc (double q, const dpacct_event *inner,
                                dpacct_event **out);
int dpacct_event_without_replacement_alloc (double q,
                                            const dpacct_event *inner,
                                            dpacct_event **out);

/* Composition.  count in [1, DPACCT_MAX_COUNT]; n >= 1 events. */
int dpacct_event_self_composed_alloc (const dpacct_event *inner,
                                      uint64_t count, dpacct_event **out);
int dpacct_event_sequence_alloc (const dpacct_event *const *events,
                                 size_t n, dpacct_event **out);

int dpacct_event_copy (const dpacct_event *event, dpacct_event **out);
void dpacct_event_free (dpacct_event *event); /* NULL: no-op */

/* Inspection, for accountants and tools. */
dpacct_event_kind dpacct_event_get_kind (const dpacct_event *event);
/* sigma, b, b/C (Laplace-L2) or q; NaN for composed kinds. */
double dpacct_event_get_parameter (const dpacct_event *event);
/* count of a self-composition; 1 otherwise. */
uint64_t dpacct_event_get_count (const dpacct_event *event);
/* dimension of a Laplace-L2 mechanism; 1 otherwise. */
uint64_t dpacct_event_get_dimension (const dpacct_event *event);
/* Number of wrapped events: 1 (sampled, self-composed), n (sequence), 0. */
size_t dpacct_event_get_n_children (const dpacct_event *event);
const dpacct_event *dpacct_event_get_child (const dpacct_event *event,
                                            size_t i);

/* The event of a DP-SGD run: `steps` Poisson-sampled (or without
 * replacement, or unsampled when q = 1 and sampling is NONE) Gaussian steps. */
typedef enum {
  DPACCT_SAMPLING_POISSON,
  DPACCT_SAMPLING_WITHOUT_REPLACEMENT,
  DPACCT_SAMPLING_NONE
} dpacct_sampling;

int dpacct_dpsgd_event_alloc (double sigma, double q, uint64_t steps,
                              dpacct_sampling sampling, dpacct_event **out);

/* Steps of a run of `epochs` passes over `dataset_size` examples with
 * expected batch size `batch_size`: q = batch_size / dataset_size and
 * steps = ceil(epochs / q), rounded up so that the accounted run is never
 * shorter than the one trained.  Requires 1 <= batch_size <= dataset_size,
 * epochs > 0 and steps <= DPACCT_MAX_COUNT. */
int dpacct_dpsgd_steps (uint64_t dataset_size, uint64_t batch_size,
                        double epochs, double *q, uint64_t *steps);

#ifdef __cplusplus
}
#endif
#endif
