/* internal.h - helpers shared by the library's modules; not installed. */
#ifndef DPACCT_INTERNAL_H
#define DPACCT_INTERNAL_H

#include "dpacct/status.h"

/* dpacct_error_report (dpacct/status.h) returns CODE, so that callers
 * can write `return DPACCT_FAIL (...)`. */
#define DPACCT_FAIL(code, message) \
  dpacct_error_report ((code), (message), __func__)

struct dpacct_event;

/* The mechanism of a leaf event, with its Poisson sampling rate in *Q (1
 * when the event is not Poisson-sampled). */
const struct dpacct_event *dpacct_event_mechanism (
    const struct dpacct_event *e, double *q);

#endif
