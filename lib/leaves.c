/* leaves.c - the one walk over an event tree: every accountant composes
 * the merged leaves it yields (a mechanism, its sampling and how many
 * times it runs) instead of walking the tree itself, so counts are
 * checked against the same limit everywhere. */
#include "dpacct/event.h"
#include "internal.h"

#include <stdlib.h>
#include <string.h>

void
dpacct_leaf_list_init (dpacct_leaf_list *list)
{
  memset (list, 0, sizeof *list);
}

void
dpacct_leaf_list_release (dpacct_leaf_list *list)
{
  free (list->leaves);
  dpacct_leaf_list_init (list);
}

int
dpacct_leaf_same (const dpacct_leaf *a, const dpacct_leaf *b)
{
  return a->mechanism == b->mechanism && a->parameter == b->parameter
         && a->dimension == b->dimension && a->sampling == b->sampling
         && a->rate == b->rate;
}

static int
add_leaf (dpacct_leaf_list *list, const dpacct_leaf *leaf)
{
  for (size_t i = 0; i < list->n; i++)
    if (dpacct_leaf_same (&list->leaves[i], leaf))
      {
        if (list->leaves[i].count > DPACCT_MAX_COUNT - leaf->count)
          return DPACCT_FAIL (DPACCT_EDOM, "more than 10^12 compositions");
        list->leaves[i].count += leaf->count;
        return DPACCT_OK;
      }
  if (list->n == list->capacity)
    {
      size_t cap = list->capacity ? 2 * list->capacity : 8;
      dpacct_leaf *grown = realloc (list->leaves, cap * sizeof *grown);
      if (grown == NULL)
        return DPACCT_FAIL (DPACCT_ENOMEM, "cannot list an event's leaves");
      list->leaves = grown;
      list->capacity = cap;
    }
  list->leaves[list->n++] = *leaf;
  return DPACCT_OK;
}

int
dpacct_event_leaves (const dpacct_event *e, uint64_t count,
                     dpacct_leaf_list *list)
{
  if (count > DPACCT_MAX_COUNT)
    return DPACCT_FAIL (DPACCT_EDOM, "more than 10^12 compositions");
  dpacct_event_kind kind = dpacct_event_get_kind (e);
  if (kind == DPACCT_EVENT_SELF_COMPOSED || kind == DPACCT_EVENT_SEQUENCE)
    {
      uint64_t inner = dpacct_event_get_count (e);
      if (inner == 0 || count > DPACCT_MAX_COUNT / inner)
        return DPACCT_FAIL (DPACCT_EDOM, "more than 10^12 compositions");
      for (size_t c = 0; c < dpacct_event_get_n_children (e); c++)
        {
          int status = dpacct_event_leaves (dpacct_event_get_child (e, c),
                                            count * inner, list);
          if (status != DPACCT_OK)
            return status;
        }
      return DPACCT_OK;
    }
  dpacct_leaf leaf;
  const dpacct_event *mech = e;
  leaf.event = e;
  leaf.sampling = DPACCT_LEAF_UNSAMPLED;
  leaf.rate = 1.0;
  if (kind == DPACCT_EVENT_POISSON_SAMPLED
      || kind == DPACCT_EVENT_SAMPLED_WITHOUT_REPLACEMENT)
    {
      leaf.sampling = (int) kind;
      leaf.rate = dpacct_event_get_parameter (e);
      mech = dpacct_event_get_child (e, 0);
    }
  if (leaf.rate == 0.0)
    return DPACCT_OK; /* nothing released */
  leaf.mechanism = (int) dpacct_event_get_kind (mech);
  leaf.parameter = dpacct_event_get_parameter (mech);
  leaf.dimension = dpacct_event_get_dimension (mech);
  leaf.count = count;
  return add_leaf (list, &leaf);
}

int
dpacct_event_leaves_check (const dpacct_event *e, dpacct_leaf_check check,
                           const void *state, const dpacct_event **first)
{
  dpacct_leaf_list leaves;
  dpacct_leaf_list_init (&leaves);
  if (first != NULL)
    *first = NULL;
  int status = dpacct_event_leaves (e, 1, &leaves);
  for (size_t i = 0; status == DPACCT_OK && i < leaves.n; i++)
    if ((status = check (state, &leaves.leaves[i])) != DPACCT_OK
        && first != NULL)
      *first = leaves.leaves[i].event;
  dpacct_leaf_list_release (&leaves);
  return status;
}
