/* cmd_bound.c - what "dpacct epsilon" and "dpacct delta" share: account
 * the run with each accountant asked for, query one side of the privacy
 * curve at the given value, and print one answer per accountant. */
#include <config.h>

#include <math.h>
#include <stdio.h>

#include <dpacct.h>

#include "commands.h"
#include "options.h"
#include "output.h"

const char *
cmd_edge_warning (const dpacct_bound *bound, char *text, size_t size)
{
  if (!bound->order_at_edge)
    return NULL;
  snprintf (text, size, "the optimal RDP order %g is at the edge of the "
            "order grid; pass --orders with a wider range", bound->order);
  return text;
}

const char *
cmd_bound_warning (const cli_options *options,
                   const dpacct_accountant_type *type,
                   const dpacct_bound *bound, char *text, size_t size)
{
  if (type != dpacct_accountant_pld)
    return cmd_edge_warning (bound, text, size);
  /* The library stops refining at the memory cap, with bounds that are
   * valid but wider than asked (the lower side is refined until the gap is
   * at most 10 times --pld-accuracy); say so rather than pass them off. */
  if ((options->given & OPT_BIT (OPT_PLD_INTERVAL)) || !isfinite (bound->upper))
    return NULL;
  if (isnan (bound->lower))
    {
      snprintf (text, size, "no pld lower bound fits the memory cap; try a "
                "larger --max-points");
      return text;
    }
  if (bound->upper - bound->lower
      <= 10.0 * options->pld_accuracy * bound->upper)
    return NULL;
  char lower[32], upper[32];
  out_round_bound (bound->lower, 0, lower, sizeof lower);
  out_round_bound (bound->upper, 1, upper, sizeof upper);
  snprintf (text, size, "the pld bounds [%s, %s] are further apart than "
            "10 times --pld-accuracy %g allows (the grid could not be "
            "refined further); try a larger --max-points", lower, upper,
            options->pld_accuracy);
  return text;
}

/* The value the command is given (delta for epsilon, and the reverse). */
static double
given_value (const bound_command *c, const cli_options *o)
{
  return c->given == OPT_DELTA ? o->delta : o->epsilon;
}

enum { N_FIELDS = 8 };

static int
print_bounds (const bound_command *c, const cli_options *o,
              const cli_run *run, const dpacct_bound *bounds)
{
  cli_assumptions a;
  out_field fields[CLI_MAX_ACCOUNTANTS][N_FIELDS];
  out_answer answers[CLI_MAX_ACCOUNTANTS];
  char warnings[CLI_MAX_ACCOUNTANTS][256];
  double given = given_value (c, o);
  cli_describe_run (o, run, 1, &a);
  cli_add_assumption (&a, out_real (c->given_name, c->given_name, OUT_REAL,
                                    given), o, c->given);
  for (size_t i = 0; i < o->n_accountants; i++)
    {
      const dpacct_bound *b = &bounds[i];
      out_field *f = fields[i];
      f[0] = out_text ("accountant", NULL, o->accountants[i]->name);
      f[1] = out_real (c->lower_column, c->lower_label, OUT_LOWER, b->lower);
      f[2] = out_real (c->upper_column, c->upper_label, OUT_UPPER, b->upper);
      f[3] = out_real ("optimal_order",
                       isnan (b->order) ? NULL : "optimal RDP order",
                       OUT_REAL, b->order);
      f[4] = out_real (c->given_name, NULL, OUT_REAL, given);
      f[5] = out_count ("steps", NULL, run->steps);
      f[6] = out_real ("sampling_rate", NULL, OUT_REAL, run->q);
      f[7] = out_real ("noise_multiplier", NULL, OUT_REAL,
                       o->noise_multiplier);
      out_answer answer = {
        o->accountants[i]->name, f, N_FIELDS,
        b->certified ? "(certified)" : NULL,
        cmd_bound_warning (o, o->accountants[i], b, warnings[i],
                           sizeof warnings[i])
      };
      answers[i] = answer;
    }
  out_report report = { c->name, a.fields, a.n, answers, o->n_accountants };
  out_print (stdout, o->format, &report);
  return 0;
}

/* The bound of the run by accountant TYPE, in *B. */
static int
bound_of (const bound_command *c, const cli_options *o, const cli_run *run,
          const dpacct_accountant_type *type, dpacct_bound *b)
{
  dpacct_accountant *accountant;
  int rc = cli_account_run (o, type, run, o->noise_multiplier, &accountant);
  if (rc)
    return rc;
  int status = c->query (accountant, given_value (c, o), b);
  dpacct_accountant_free (accountant);
  if (status != DPACCT_OK)
    {
      char what[64];
      snprintf (what, sizeof what, "%s %s at %s %g", type->name, c->name,
                c->given_name, given_value (c, o));
      return cli_library_failure (type, status, what);
    }
  if (isnan (b->upper))
    {
      out_error ("numerical failure: the %s %s upper bound is NaN",
                 type->name, c->name);
      return 2;
    }
  return 0;
}

int
cmd_run_bound (const bound_command *c, int argc, char **argv)
{
  cli_options o;
  cli_run run;
  dpacct_bound bounds[CLI_MAX_ACCOUNTANTS];
  int help, rc;
  if (cli_parse (argc, argv, c->options, &c->defaults, &o, &help))
    return 1;
  if (help)
    {
      cli_print_help (stdout, c->name, c->summary, c->options);
      return 0;
    }
  if ((rc = cli_resolve_run (&o, NULL, &run)))
    return rc;
  for (size_t i = 0; i < o.n_accountants; i++)
    if ((rc = bound_of (c, &o, &run, o.accountants[i], &bounds[i])))
      return rc;
  return print_bounds (c, &o, &run, bounds);
}
