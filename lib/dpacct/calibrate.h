/* dpacct/calibrate.h - the smallest noise whose epsilon meets a target.
 *
 * Works for any accountant type and any event family parameterised by one
 * noise level: bracket, Brent (GSL), verify, step to the safe side. */
#ifndef DPACCT_CALIBRATE_H
#define DPACCT_CALIBRATE_H

#include <stdint.h>

#include "accountant.h"
#include "event.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  double rel_tol;     /* answer <= (1 + rel_tol) * smallest noise; 1e-3 */
  double noise_min;   /* search range; [1e-3, 1e6] */
  double noise_max;
  unsigned max_iter;  /* Brent iterations; 200 */
  /* Where the search starts (0: at 1).  A good guess only saves work:
   * the answer is verified either way. */
  double noise_guess;
} dpacct_calibration_options;

void dpacct_calibration_options_init (dpacct_calibration_options *options);

typedef struct {
  double noise;         /* the calibrated noise: epsilon_upper <= target */
  double epsilon_upper; /* the epsilon upper bound that noise reaches */
  double noise_below;   /* a noise whose epsilon upper bound is above target */
  unsigned evaluations; /* accountant evaluations spent */
  /* The accountant's whole bound at `noise` (upper = epsilon_upper, its
   * optimal order and whether it is on the grid's edge, certified), so
   * that callers need not account the answer again. */
  dpacct_bound bound;
} dpacct_calibration;

/* Builds the event of a run with the given noise level. */
typedef int dpacct_event_maker (double noise, void *context,
                                dpacct_event **out);

/* The smallest noise in [noise_min, noise_max] (to rel_tol) whose epsilon
 * upper bound at `delta` is at most `target_epsilon`.  DPACCT_ERANGE when
 * even noise_max does not reach the target.  Without a noise_guess the
 * search starts where the type's guide (dpacct_accountant_type.guide)
 * lands. */
int dpacct_calibrate_noise (const dpacct_accountant_type *type,
                            const dpacct_accountant_options *accountant,
                            dpacct_event_maker *make_event, void *context,
                            double target_epsilon, double delta,
                            const dpacct_calibration_options *options,
                            dpacct_calibration *result);

/* DP-SGD: the noise multiplier sigma for `steps` steps at sampling rate q. */
int dpacct_noise_for_epsilon (const dpacct_accountant_type *type,
                              const dpacct_accountant_options *accountant,
                              double q, uint64_t steps,
                              dpacct_sampling sampling,
                              double target_epsilon, double delta,
                              const dpacct_calibration_options *options,
                              dpacct_calibration *result);

#ifdef __cplusplus
}
#endif
#endif
