/* slow_audit.c - `make check-audit-slow`: the audit catches the trainer
 * that adds half its calibrated noise, on the head and on the network, at
 * epsilon 2 with 50,000 pairs (several CPU seconds each; too slow for make
 * check under valgrind, and 2,000 pairs do not have the power: the lower
 * bound is then about 1.5).  Exits 1 when a broken trainer passes for
 * correct or the correct one is caught. */
#include <dpacct.h>
#include <dpacct/train.h>

#include <stdio.h>

int
main (void)
{
  int failures = 0;
  for (int model = 0; model < 2; model++)
    for (int variant = 0; variant < 2; variant++)
      {
        dpacct_audit_options a;
        dpacct_audit_result r;
        dpacct_audit_options_init (&a);
        a.model = model ? DPACCT_MODEL_MLP : DPACCT_MODEL_HEAD;
        a.variant = variant ? DPACCT_AUDIT_HALF_NOISE : DPACCT_AUDIT_CORRECT;
        a.pairs = 50000;
        int status = dpacct_audit_run (&a, &r);
        int caught = status == DPACCT_OK
                     && r.epsilon_lower > r.epsilon_claimed;
        int ok = status == DPACCT_OK && caught == variant;
        printf ("%-5s %-10s audited %.4f claimed %.4f: %s\n",
                model ? "mlp" : "head", variant ? "half-noise" : "correct",
                r.epsilon_lower, r.epsilon_claimed, ok ? "ok" : "FAIL");
        failures += !ok;
      }
  return failures ? 1 : 0;
}
