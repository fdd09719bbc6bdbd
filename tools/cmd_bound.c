/* cmd_bound.c - what "dpacct epsilon" and "dpacct delta" share: account
 * the run with each accountant asked for, query one side of the privacy
 * curve at the given value, and print one answer per accountant. */
#include <config.h>

#include <math.h>
#include <stdio.h>

#include <dpacct.h>

#include "cmd_sampler.h"
#include "commands.h"
#include "describe.h"
#include "options.h"
#include "output.h"

const char *
cmd_edge_warning (const dpacct_bound *bound, char *text, size_t size)
{
  if (!bound->order_at_edge)
    return NULL;
  if (bound->order <= DPACCT_RDP_MIN_SEARCH_ORDER
      || bound->order >= DPACCT_RDP_MAX_SEARCH_ORDER)
    snprintf (text, size, "the optimal RDP order %g is at the end of the "
              "orders searched (1.001 to 1e6); the bound holds, but an order "
              "beyond might give a smaller one", bound->order);
  else
    snprintf (text, size, "the optimal RDP order %g is at the edge of the "
              "order grid; pass --orders with a wider range", bound->order);
  return text;
}

const char *
cmd_bound_warning (const cli_options *options,
                   const dpacct_accountant_type *type,
                   const dpacct_bound *bound, char *text, size_t size)
{
  if (cli_is_lap2 (type))
    {
      if (!bound->order_at_edge)
        return NULL;
      snprintf (text, size, "the optimal moment order %g is the largest "
                "(--max-order); pass a larger --max-order", bound->order);
      return text;
    }
  /* Accountants that refine a grid to an accuracy (those that read
   * "pld-rel-accuracy") say when they stopped short of it; the others
   * when their order is at the edge of those searched. */
  if (!dpacct_accountant_type_takes (type, "pld-rel-accuracy"))
    return cmd_edge_warning (bound, text, size);
  /* The library stops refining at the memory cap, with bounds that are
   * valid but wider than asked (the lower side is refined until the gap is
   * at most 10 times --pld-accuracy); say so rather than pass them off. */
  /* A certified upper bound comes from its own, coarser grid: the gap to
   * the plain lower bound says nothing about the refinement. */
  if ((options->given & OPT_BIT (OPT_PLD_INTERVAL)) || !isfinite (bound->upper)
      || bound->certified)
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
  /* There the two ends come from different pairs (see dpacct(1)). */
  if (options->neighbouring == DPACCT_REPLACE_ONE
      && options->sampling == DPACCT_SAMPLING_POISSON)
    {
      snprintf (text, size, "under replace-one with Poisson sampling the "
                "pld upper bound %s is proved and the lower bound %s is the "
                "worst pair of datasets known (examples at +C and -C); the "
                "truth lies between, and a finer grid does not close "
                "the gap", upper, lower);
      return text;
    }
  /* Name what stopped the refinement: only the memory cap has a knob. */
  if (bound->limit == DPACCT_PLD_LIMIT_MEMORY)
    snprintf (text, size, "the pld bounds [%s, %s] are further apart than "
              "10 times --pld-accuracy %g allows (the memory cap stopped the "
              "grid's refinement); a larger --max-points would narrow them",
              lower, upper, options->pld_accuracy);
  else
    snprintf (text, size, "the pld bounds [%s, %s] are further apart than "
              "10 times --pld-accuracy %g allows (finer grids stopped "
              "narrowing them); no setting would narrow them further", lower,
              upper, options->pld_accuracy);
  return text;
}

/* The value the command is given (delta for epsilon, and the reverse). */
static double
given_value (const bound_command *c, const cli_options *o)
{
  return c->given == OPT_DELTA ? o->delta : o->epsilon;
}

enum { N_FIELDS = 14, WARNING_SIZE = 640 };

/* --compare-gaussian: the Gaussian noise multiplier with the same epsilon
 * and the per-coordinate variances of both noises, appended to F. */
static size_t
comparison_fields (const cli_options *o, double sigma, out_field *f)
{
  double laplace_var = 2.0 * o->laplace_scale * o->laplace_scale;
  double gauss_std = sigma * o->clip;
  f[0] = out_real ("gaussian_noise_multiplier",
                   "Gaussian noise mult. (rdp)", OUT_REAL,
                   sigma);
  f[1] = out_real ("gaussian_std", "Gaussian std sigma*C", OUT_REAL,
                   gauss_std);
  f[2] = out_real ("laplace_variance", "Laplace variance 2b^2", OUT_REAL,
                   laplace_var);
  f[3] = out_real ("gaussian_variance", "Gaussian variance",
                   OUT_REAL, gauss_std * gauss_std);
  return 4;
}

/* The answer's fields: accountant, bounds, order, given value, run, and
 * the noise (sigma; or b, C, n and the Gaussian comparison). */
static size_t
answer_fields (const bound_command *c, const cli_options *o,
               const cli_run *run, const dpacct_bound *b,
               const dpacct_accountant_type *type, double sigma,
               out_field *f)
{
  const char *order_label = isnan (b->order) ? NULL
                            : cli_is_lap2 (type)
                                ? "optimal moment order lambda"
                                : "optimal RDP order";
  size_t n = 0;
  f[n++] = out_text ("accountant", NULL, type->name);
  f[n++] = out_real (c->lower_column, c->lower_label, OUT_LOWER, b->lower);
  f[n++] = out_real (c->upper_column, c->upper_label, OUT_UPPER, b->upper);
  f[n++] = out_real ("optimal_order", order_label, OUT_REAL, b->order);
  f[n++] = out_real (c->given_name, NULL, OUT_REAL, given_value (c, o));
  f[n++] = out_count ("steps", NULL, run->steps);
  f[n++] = out_real ("sampling_rate", NULL, OUT_REAL, run->q);
  if (!o->laplace)
    {
      f[n++] = out_real ("noise_multiplier", NULL, OUT_REAL,
                         o->noise_multiplier);
      return n;
    }
  f[n++] = out_real ("laplace_scale", NULL, OUT_REAL, o->laplace_scale);
  f[n++] = out_real ("clip", NULL, OUT_REAL, o->clip);
  f[n++] = out_count ("dimension", NULL, o->dimension);
  if (o->compare_gaussian)
    n += comparison_fields (o, sigma, f + n);
  return n;
}

static int
print_bounds (const bound_command *c, const cli_options *o,
              const cli_run *run, const dpacct_bound *bounds,
              const double *sigmas, char (*warnings)[WARNING_SIZE])
{
  cli_assumptions a;
  out_field fields[CLI_MAX_ACCOUNTANTS][N_FIELDS];
  out_answer answers[CLI_MAX_ACCOUNTANTS];
  char note[512];
  const char *poisson = cmd_sampler_poisson_note (o, note, sizeof note);
  double given = given_value (c, o);
  cli_describe_run (o, run, 1, &a);
  cli_add_assumption (&a, out_real (c->given_name, c->given_name, OUT_REAL,
                                    given), o, c->given);
  for (size_t i = 0; i < o->n_accountants; i++)
    {
      const dpacct_bound *b = &bounds[i];
      size_t n = answer_fields (c, o, run, b, o->accountants[i], sigmas[i],
                                fields[i]);
      out_answer answer = {
        o->accountants[i]->name, fields[i], n,
        b->certified ? "(certified)" : poisson,
        warnings[i][0] ? warnings[i] : NULL
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
  int rc = cli_account_run (o, type, run,
                            o->laplace ? o->laplace_scale : o->noise_multiplier,
                            &accountant);
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

/* The warning of the paper's figure, always, when q < 1: it is not a
 * privacy bound, and how far below the proved bound of the same run
 * (lap2's, computed here) it falls. */
static int
paper_warning (const bound_command *c, const cli_options *o,
               const cli_run *run, const dpacct_accountant_type *type,
               const dpacct_bound *paper, char *text, size_t size)
{
  dpacct_bound sound;
  cli_options upper_only = *o; /* the warning needs lap2's upper side */
  upper_only.want_lower = 0;
  int rc = bound_of (c, &upper_only, run, dpacct_accountant_type_proved (type),
                     &sound);
  if (rc)
    return rc;
  cmd_paper_warning (run->q, c->upper_column, paper->upper, sound.upper,
                     text, size);
  return 0;
}

void
cmd_paper_warning (double q, const char *what, double paper, double sound,
                   char *text, size_t size)
{
  char mine[32], theirs[32];
  out_round_bound (paper, 1, theirs, sizeof theirs);
  out_round_bound (sound, 1, mine, sizeof mine);
  int n = snprintf (text, size, "lap2-paper is NOT a privacy guarantee at "
                    "sampling rate %g < 1 (it treats every coordinate as "
                    "sampled on its own); ", q);
  if (n < 0 || (size_t) n >= size)
    return;
  if (paper < sound)
    snprintf (text + n, size - n, "its %s %s is %.3g%% below lap2's %s for "
              "the same run", what, theirs, 100.0 * (sound - paper) / sound,
              mine);
  else
    snprintf (text + n, size - n, "its %s %s happens to be at or above "
              "lap2's %s (a proved bound) for the same run", what, theirs,
              mine);
}

/* The warnings of each answer, in WARNINGS. */
static int
make_warnings (const bound_command *c, const cli_options *o,
               const cli_run *run, const dpacct_bound *bounds,
               char (*warnings)[WARNING_SIZE])
{
  for (size_t i = 0; i < o->n_accountants; i++)
    {
      char edge[256], paper[384] = "";
      const char *w = cmd_bound_warning (o, o->accountants[i], &bounds[i],
                                         edge, sizeof edge);
      int rc;
      const dpacct_accountant_type *type = o->accountants[i];
      if (dpacct_accountant_type_proved (type) != type && run->q < 1.0
          && (rc = paper_warning (c, o, run, type, &bounds[i], paper,
                                  sizeof paper)))
        return rc;
      snprintf (warnings[i], WARNING_SIZE, "%s%s%s", paper,
                paper[0] && w ? "; " : "", w ? w : "");
    }
  return 0;
}

int
cmd_run_bound (const bound_command *c, int argc, char **argv)
{
  cli_options o;
  cli_run run;
  dpacct_bound bounds[CLI_MAX_ACCOUNTANTS];
  double sigmas[CLI_MAX_ACCOUNTANTS];
  char warnings[CLI_MAX_ACCOUNTANTS][WARNING_SIZE];
  int help, rc;
  if (cli_parse (argc, argv, c->options, &c->defaults, &o, &help))
    return 1;
  if (help)
    {
      cli_print_help (stdout, c->name, c->summary, c->options);
      return 0;
    }
  if (cmd_sampler_owns (&o) && o.run_mode)
    {
      out_error ("--run/--phase: runs of several phases are Poisson-sampled "
                 "(or unsampled) only, not with --sampling %s or "
                 "--max-batch-size", o.sampler != CLI_SAMPLER_EVENT
                 ? cli_sampler_name (o.sampler) : cli_sampling_name (o.sampling));
      return 1;
    }
  if (cmd_sampler_owns (&o))
    return cmd_sampler_bound (c, &o);
  if (o.run_mode)
    return cmd_phases_bound (c, &o);
  if ((rc = cli_resolve_run (&o, NULL, &run)))
    return rc;
  o.want_lower = 1; /* lap2's lower side: the PLD of a post-processing */
  for (size_t i = 0; i < o.n_accountants; i++)
    {
      if ((rc = bound_of (c, &o, &run, o.accountants[i], &bounds[i]))
          || (rc = cmd_sampler_wor_lower (c, &o, &run, &bounds[i])))
        return rc;
      sigmas[i] = NAN;
      if (o.compare_gaussian
          && (rc = cli_gaussian_for_epsilon (&o, &run, bounds[i].upper,
                                             &sigmas[i])))
        return rc;
    }
  if ((rc = make_warnings (c, &o, &run, bounds, warnings)))
    return rc;
  return print_bounds (c, &o, &run, bounds, sigmas, warnings);
}
