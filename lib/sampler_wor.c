/* sampler_wor.c - a lower bound for fixed-size batches drawn each step
 * (sampling without replacement, replace-one).
 *
 * Every other example contributes -1 and the target flips from +1 to -1:
 * each batch sum is -B plus 2 when the target is drawn (probability q =
 * B/N), against -B.  That is the Poisson-subsampled Gaussian "remove" pair
 * at noise sigma/2 and rate q, fresh each step; the swapped datasets give
 * the "add" pair.  The PLD accountant's lower end of that run is therefore
 * a lower bound for this sampler. */
#include "dpacct/sampler.h"
#include "dpacct/event.h"
#include "internal.h"

#include <math.h>

int
dpacct_without_replacement_lower (double sigma, double q, uint64_t steps,
                                  int want_delta, double given,
                                  const dpacct_accountant_options *options,
                                  double *lower)
{
  *lower = NAN;
  if (!(sigma > 0.0) || !isfinite (sigma) || !(q > 0.0) || !(q <= 1.0)
      || steps < 1)
    return DPACCT_FAIL (DPACCT_EDOM, "sigma positive, q in (0, 1], steps >= 1");
  dpacct_accountant_options o;
  if (options != NULL)
    o = *options;
  else
    dpacct_accountant_options_init (&o);
  /* The pld accountant reads none of the rdp settings (orders). */
  dpacct_accountant_options_set_int (&o, "neighbouring", DPACCT_ADD_REMOVE);
  dpacct_accountant_options_set_int (&o, "upper-only", 0);
  dpacct_accountant_options_set_int (&o, "certified", 0);
  dpacct_event *event;
  int status = dpacct_dpsgd_event_alloc (0.5 * sigma, q, steps,
                                         q < 1.0 ? DPACCT_SAMPLING_POISSON
                                                 : DPACCT_SAMPLING_NONE,
                                         &event);
  if (status != DPACCT_OK)
    return status;
  dpacct_accountant *a;
  status = dpacct_accountant_alloc (dpacct_accountant_pld, &o, &a);
  if (status == DPACCT_OK)
    {
      status = dpacct_accountant_compose (a, event, 1);
      dpacct_bound b;
      if (status == DPACCT_OK)
        status = want_delta ? dpacct_accountant_delta (a, given, &b)
                            : dpacct_accountant_epsilon (a, given, &b);
      if (status == DPACCT_OK)
        *lower = b.lower;
      dpacct_accountant_free (a);
    }
  dpacct_event_free (event);
  return status;
}
