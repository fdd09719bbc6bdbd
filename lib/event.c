/* event.c - immutable event trees describing what a training run did. */
#include "dpacct/event.h"
#include "internal.h"

#include <math.h>
#include <stdlib.h>

struct dpacct_event
{
  dpacct_event_kind kind;
  double parameter;         /* sigma, b or q; NaN for composed kinds */
  uint64_t count;           /* self-composition count; 1 otherwise */
  uint64_t dimension;       /* Laplace-L2: coordinates; 1 otherwise */
  size_t n_children;
  dpacct_event **children;
};

static int
event_new (dpacct_event_kind kind, double parameter, uint64_t count,
           size_t n_children, dpacct_event **out)
{
  dpacct_event *e = calloc (1, sizeof *e);
  if (e == NULL)
    return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate an event");
  if (n_children > 0)
    {
      e->children = calloc (n_children, sizeof *e->children);
      if (e->children == NULL)
        {
          free (e);
          return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate an event");
        }
    }
  e->kind = kind;
  e->parameter = parameter;
  e->count = count;
  e->dimension = 1;
  e->n_children = n_children;
  *out = e;
  return DPACCT_OK;
}

void
dpacct_event_free (dpacct_event *event)
{
  if (event == NULL)
    return;
  for (size_t i = 0; i < event->n_children; i++)
    dpacct_event_free (event->children[i]);
  free (event->children);
  free (event);
}

int
dpacct_event_copy (const dpacct_event *event, dpacct_event **out)
{
  if (out == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL output pointer");
  *out = NULL;
  if (event == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL event");
  dpacct_event *e;
  int status = event_new (event->kind, event->parameter, event->count,
                          event->n_children, &e);
  if (status != DPACCT_OK)
    return status;
  e->dimension = event->dimension;
  for (size_t i = 0; i < event->n_children; i++)
    {
      status = dpacct_event_copy (event->children[i], &e->children[i]);
      if (status != DPACCT_OK)
        {
          dpacct_event_free (e);
          return status;
        }
    }
  *out = e;
  return DPACCT_OK;
}

static int
mechanism_alloc (dpacct_event_kind kind, double scale, dpacct_event **out)
{
  if (out == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL output pointer");
  *out = NULL;
  if (!(scale > 0.0) || !isfinite (scale))
    return DPACCT_FAIL (DPACCT_EDOM, "noise scale must be positive and finite");
  return event_new (kind, scale, 1, 0, out);
}

int
dpacct_event_gaussian_alloc (double sigma, dpacct_event **out)
{
  return mechanism_alloc (DPACCT_EVENT_GAUSSIAN, sigma, out);
}

int
dpacct_event_laplace_alloc (double b, dpacct_event **out)
{
  return mechanism_alloc (DPACCT_EVENT_LAPLACE, b, out);
}

int
dpacct_event_laplace_l2_alloc (double scale_over_clip, uint64_t dimension,
                               dpacct_event **out)
{
  if (out == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL output pointer");
  *out = NULL;
  if (dimension < 1 || dimension > DPACCT_MAX_DIMENSION)
    return DPACCT_FAIL (DPACCT_EDOM, "dimension must be in [1, 10^12]");
  int status = mechanism_alloc (DPACCT_EVENT_LAPLACE_L2, scale_over_clip,
                                out);
  if (status == DPACCT_OK)
    (*out)->dimension = dimension;
  return status;
}

/* A new event of KIND wrapping a copy of INNER. */
static int
wrap_alloc (dpacct_event_kind kind, double parameter, uint64_t count,
            const dpacct_event *inner, dpacct_event **out)
{
  dpacct_event *e;
  int status = event_new (kind, parameter, count, 1, &e);
  if (status != DPACCT_OK)
    return status;
  status = dpacct_event_copy (inner, &e->children[0]);
  if (status != DPACCT_OK)
    {
      dpacct_event_free (e);
      return status;
    }
  *out = e;
  return DPACCT_OK;
}

static int
sampled_alloc (dpacct_event_kind kind, double q, const dpacct_event *inner,
               dpacct_event **out)
{
  if (out == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL output pointer");
  *out = NULL;
  if (inner == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL event");
  if (!(q >= 0.0 && q <= 1.0))
    return DPACCT_FAIL (DPACCT_EDOM, "sampling rate must be in [0, 1]");
  return wrap_alloc (kind, q, 1, inner, out);
}

int
dpacct_event_poisson_alloc (double q, const dpacct_event *inner,
                            dpacct_event **out)
{
  return sampled_alloc (DPACCT_EVENT_POISSON_SAMPLED, q, inner, out);
}

int
dpacct_event_without_replacement_alloc (double q, const dpacct_event *inner,
                                        dpacct_event **out)
{
  return sampled_alloc (DPACCT_EVENT_SAMPLED_WITHOUT_REPLACEMENT, q, inner,
                        out);
}

int
dpacct_event_self_composed_alloc (const dpacct_event *inner, uint64_t count,
                                  dpacct_event **out)
{
  if (out == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL output pointer");
  *out = NULL;
  if (inner == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL event");
  if (count < 1 || count > DPACCT_MAX_COUNT)
    return DPACCT_FAIL (DPACCT_EDOM, "count must be in [1, 10^12]");
  return wrap_alloc (DPACCT_EVENT_SELF_COMPOSED, NAN, count, inner, out);
}

int
dpacct_event_sequence_alloc (const dpacct_event *const *events, size_t n,
                             dpacct_event **out)
{
  if (out == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL output pointer");
  *out = NULL;
  if (events == NULL || n == 0)
    return DPACCT_FAIL (DPACCT_EDOM, "a sequence needs at least one event");
  for (size_t i = 0; i < n; i++)
    if (events[i] == NULL)
      return DPACCT_FAIL (DPACCT_EINVAL, "NULL event in a sequence");
  dpacct_event *e;
  int status = event_new (DPACCT_EVENT_SEQUENCE, NAN, 1, n, &e);
  if (status != DPACCT_OK)
    return status;
  for (size_t i = 0; i < n; i++)
    {
      status = dpacct_event_copy (events[i], &e->children[i]);
      if (status != DPACCT_OK)
        {
          dpacct_event_free (e);
          return status;
        }
    }
  *out = e;
  return DPACCT_OK;
}

dpacct_event_kind
dpacct_event_get_kind (const dpacct_event *event)
{
  return event->kind;
}

double
dpacct_event_get_parameter (const dpacct_event *event)
{
  return event->parameter;
}

uint64_t
dpacct_event_get_count (const dpacct_event *event)
{
  return event->count;
}

uint64_t
dpacct_event_get_dimension (const dpacct_event *event)
{
  return event->dimension;
}

size_t
dpacct_event_get_n_children (const dpacct_event *event)
{
  return event->n_children;
}

const dpacct_event *
dpacct_event_get_child (const dpacct_event *event, size_t i)
{
  return i < event->n_children ? event->children[i] : NULL;
}

int
dpacct_dpsgd_event_alloc (double sigma, double q, uint64_t steps,
                          dpacct_sampling sampling, dpacct_event **out)
{
  if (out == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL output pointer");
  *out = NULL;
  if (sampling == DPACCT_SAMPLING_NONE && q != 1.0)
    return DPACCT_FAIL (DPACCT_EDOM, "an unsampled run has rate 1");
  dpacct_event *gauss = NULL, *step = NULL;
  int status = dpacct_event_gaussian_alloc (sigma, &gauss);
  if (status != DPACCT_OK)
    return status;
  switch (sampling)
    {
    case DPACCT_SAMPLING_POISSON:
      status = dpacct_event_poisson_alloc (q, gauss, &step);
      break;
    case DPACCT_SAMPLING_WITHOUT_REPLACEMENT:
      status = dpacct_event_without_replacement_alloc (q, gauss, &step);
      break;
    case DPACCT_SAMPLING_NONE:
      status = dpacct_event_copy (gauss, &step);
      break;
    default:
      status = DPACCT_FAIL (DPACCT_EDOM, "unknown sampling scheme");
    }
  if (status == DPACCT_OK)
    status = dpacct_event_self_composed_alloc (step, steps, out);
  dpacct_event_free (step);
  dpacct_event_free (gauss);
  return status;
}

int
dpacct_dpsgd_steps (uint64_t dataset_size, uint64_t batch_size, double epochs,
                    double *q, uint64_t *steps)
{
  if (q == NULL || steps == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL output pointer");
  *q = NAN;
  *steps = 0;
  if (batch_size < 1 || batch_size > dataset_size)
    return DPACCT_FAIL (DPACCT_EDOM,
                        "batch size must be in [1, dataset size]");
  if (!(epochs > 0.0) || !isfinite (epochs))
    return DPACCT_FAIL (DPACCT_EDOM, "epochs must be positive and finite");
  /* steps = ceil(epochs * N / B), computed in long double so that whole
   * epochs give exact step counts (3 epochs at q = 0.001 is 3000, not
   * 2999 as a truncating int(epochs / q) gives). */
  long double exact = (long double) epochs * (long double) dataset_size
                      / (long double) batch_size;
  long double rounded = ceill (exact - exact * 1e-15L);
  if (rounded < 1.0L)
    rounded = 1.0L;
  if (rounded > (long double) DPACCT_MAX_COUNT)
    return DPACCT_FAIL (DPACCT_EDOM, "more than 10^12 steps");
  *q = (double) batch_size / (double) dataset_size;
  *steps = (uint64_t) rounded;
  return DPACCT_OK;
}

const dpacct_event *
dpacct_event_mechanism (const dpacct_event *e, double *q)
{
  if (dpacct_event_get_kind (e) != DPACCT_EVENT_POISSON_SAMPLED)
    {
      *q = 1.0;
      return e;
    }
  *q = dpacct_event_get_parameter (e);
  return dpacct_event_get_child (e, 0);
}
