/* cmd_cumulative_noise.c - "dpacct cumulative-noise": for each batch size,
 * the calibrated noise and the cumulative noise sigma*sqrt(T) that predicts
 * how well the run trains, and the batch size the plateau rule picks.
 * "dpacct plot" draws the same rows. */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <dpacct.h>

#include "cmd_sampler.h"
#include "commands.h"
#include "describe.h"
#include "run.h"
#include "options.h"
#include "output.h"

static const char summary[] =
  "For each candidate batch size B: the noise multiplier sigma calibrated\n"
  "to --epsilon over --epochs passes of --dataset-size examples, the\n"
  "cumulative noise sigma*sqrt(T), the per-step heuristics sigma*C/B and\n"
  "sigma/q, TAN and the GDP cross-check; then the recommended B: the\n"
  "smallest B whose cumulative noise is within (1 + tau) of the minimum\n"
  "and which has at least T_min steps, else B = E N / T_min.  --epsilon\n"
  "and --epochs take comma-separated lists.  Default --delta 1e-5.";

const cli_defaults cmd_plan_defaults = { 1e-5, NAN, 0, 0, NAN };

/* One accountant, epsilon and number of epochs: its rows and the rule. */
typedef struct {
  const dpacct_accountant_type *type;
  double epsilon, epochs;
  dpacct_plan_row *rows;
  size_t n;
  dpacct_plan_recommendation rec;
} plan_group;

typedef struct {
  plan_group *groups;
  size_t n_groups;
  dpacct_plan_row *storage;
} plan;

static void
plan_free (plan *p)
{
  free (p->groups);
  free (p->storage);
}

static const char *
reason_name (dpacct_plan_reason reason)
{
  return reason == DPACCT_PLAN_PLATEAU ? "plateau" : "min-steps";
}

static void
plan_options (const cli_options *o, const dpacct_accountant_type *type,
              double epsilon, double epochs, dpacct_plan_options *p)
{
  dpacct_plan_options_init (p);
  p->epsilon = epsilon;
  p->delta = o->delta;
  p->dataset_size = o->dataset_size;
  p->epochs = epochs;
  p->accountant = type;
  cli_accountant_options (o, &p->accountant_options);
  p->calibration.rel_tol = o->rel_tol;
  p->plateau_tolerance = o->plateau_tolerance;
  p->min_steps = o->min_steps;
  /* The rows are computed for C = 1; each --clip scales sigma*C/B. */
  p->clip = 1.0;
  p->dimension = o->dimension;
  p->spent = o->spent;
}

static int
compute_group (const cli_options *o, plan_group *g)
{
  dpacct_plan_options p;
  plan_options (o, g->type, g->epsilon, g->epochs, &p);
  int status = dpacct_plan_compute (&p, o->batch_sizes, o->n_batch_sizes,
                                    g->rows, &g->n, &g->rec);
  if (status != DPACCT_OK)
    {
      char what[192];
      snprintf (what, sizeof what, "the noise multipliers for epsilon %g at "
                "delta %g over %g epochs with the %s accountant", g->epsilon,
                o->delta, g->epochs, g->type->name);
      return cli_library_failure (g->type, status, what);
    }
  return 0;
}

static int
plan_compute (const cli_options *o, plan *p)
{
  size_t per_group = o->n_batch_sizes + 1;
  p->n_groups = o->n_accountants * o->n_epsilons * o->n_epochs;
  p->groups = calloc (p->n_groups, sizeof *p->groups);
  p->storage = calloc (p->n_groups * per_group, sizeof *p->storage);
  if (p->groups == NULL || p->storage == NULL)
    {
      out_error ("out of memory");
      return 2;
    }
  size_t k = 0;
  for (size_t a = 0; a < o->n_accountants; a++)
    for (size_t e = 0; e < o->n_epsilons; e++)
      for (size_t t = 0; t < o->n_epochs; t++, k++)
        {
          plan_group *g = &p->groups[k];
          g->type = o->accountants[a];
          g->epsilon = o->epsilons[e];
          g->epochs = o->epochs_list[t];
          g->rows = p->storage + k * per_group;
          int rc = compute_group (o, g);
          if (rc)
            return rc;
        }
  return 0;
}

/* ------------------------------------------------------------ assumptions */

enum { MAX_ASSUMPTIONS = 16 };

typedef struct {
  out_field fields[MAX_ASSUMPTIONS];
  size_t n;
  char orders[256];
} plan_assumptions;

static void
add (plan_assumptions *a, out_field f, const cli_options *o, cli_option_id id)
{
  if (!(o->given & OPT_BIT (id)))
    f.note = "(default)";
  if (a->n < MAX_ASSUMPTIONS)
    a->fields[a->n++] = f;
}

static void
describe (const cli_options *o, plan_assumptions *a)
{
  a->n = 0;
  add (a, out_text ("accountant", "accountant", o->accountant_name), o,
       OPT_ACCOUNTANT);
  a->fields[a->n++] = out_text ("mechanism", "mechanism", "gaussian");
  a->fields[a->n++] = out_text ("sampling", "sampling", "poisson");
  add (a, out_text ("neighbouring", "neighbouring relation",
                    cli_neighbouring_name (o->neighbouring)), o,
       OPT_NEIGHBOURING);
  add (a, out_real ("delta", "delta", OUT_REAL, o->delta), o, OPT_DELTA);
  a->fields[a->n++] = out_count ("dataset_size", "dataset size N",
                                 o->dataset_size);
  a->fields[a->n++] = out_text ("steps", "steps T",
                                "ceil(epochs * N / B), rounded up");
  /* The phases spent before the planned one (--run, --phase). */
  if (o->spent != NULL)
    add (a, out_text ("spent", "spent before the plan",
                      o->run_file ? o->run_file : "--phase"),
         o, o->run_file ? OPT_RUN : OPT_PHASE);
  out_field tau = out_real ("plateau_tolerance", "plateau tolerance tau",
                            OUT_REAL, o->plateau_tolerance);
  out_field t_min = out_count ("min_steps", "minimum steps T_min",
                               o->min_steps);
  add (a, tau, o, OPT_PLATEAU_TOLERANCE);
  add (a, t_min, o, OPT_MIN_STEPS);
  if (!(o->given & OPT_BIT (OPT_PLATEAU_TOLERANCE)))
    a->fields[a->n - 2].note = "(default: within 10 % of the minimum)";
  if (!(o->given & OPT_BIT (OPT_MIN_STEPS)))
    a->fields[a->n - 1].note
      = "(default, from ViT-Tiny on CIFAR-100; set it for your model)";
  if (o->dimension > 0)
    a->fields[a->n++] = out_count ("dimension", "model dimension d",
                                   o->dimension);
  add (a, out_real ("rel_tol", "calibration tolerance", OUT_REAL, o->rel_tol),
       o, OPT_REL_TOL);
  a->fields[a->n++] = out_text ("total_noise", "TAN",
                                "sigma / (q sqrt(T)), without sqrt(2)");
  if (cli_uses (o, dpacct_accountant_rdp))
    {
      cli_orders_text (o, a->orders, sizeof a->orders);
      a->fields[a->n++] = out_text ("orders", "RDP orders", a->orders);
    }
  if (cli_uses (o, dpacct_accountant_pld))
    add (a, out_real ("pld_accuracy", "PLD relative accuracy", OUT_REAL,
                      o->pld_accuracy), o, OPT_PLD_ACCURACY);
}

/* ------------------------------------------------------------ TSV, JSON */

enum { N_FIELDS = 23 };

static void
row_fields (const cli_options *o, const plan_group *g, double clip,
            size_t i, out_field *f)
{
  const dpacct_plan_row *r = &g->rows[i];
  const dpacct_plan_recommendation *rec = &g->rec;
  size_t k = 0;
  f[k++] = out_text ("accountant", NULL, g->type->name);
  f[k++] = out_real ("epsilon", NULL, OUT_REAL, g->epsilon);
  f[k++] = out_real ("delta", NULL, OUT_REAL, o->delta);
  f[k++] = out_real ("epochs", NULL, OUT_REAL, g->epochs);
  f[k++] = out_real ("clip", NULL, OUT_REAL, clip);
  f[k++] = out_count ("batch_size", NULL, r->batch_size);
  f[k++] = out_real ("sampling_rate", NULL, OUT_REAL, r->sampling_rate);
  f[k++] = out_count ("steps", NULL, r->steps);
  f[k++] = out_real ("noise_multiplier", NULL, OUT_UPPER,
                     r->noise_multiplier);
  f[k++] = out_real ("epsilon_upper", NULL, OUT_UPPER, r->epsilon_upper);
  f[k++] = out_real ("cumulative_noise", NULL, OUT_REAL, r->cumulative_noise);
  f[k++] = out_real ("per_step_noise", NULL, OUT_REAL,
                     r->per_step_noise * clip);
  f[k++] = out_real ("per_step_noise_norm", NULL, OUT_REAL,
                     r->per_step_noise_norm * clip);
  f[k++] = out_real ("effective_noise", NULL, OUT_REAL, r->effective_noise);
  f[k++] = out_real ("total_noise", NULL, OUT_REAL, r->total_noise);
  f[k++] = out_real ("gdp_mu", NULL, OUT_REAL, r->gdp_mu);
  f[k++] = out_real ("gdp_cumulative_noise", NULL, OUT_REAL,
                     r->gdp_cumulative_noise);
  f[k++] = out_count ("on_plateau", NULL, (uint64_t) r->on_plateau);
  f[k++] = out_count ("recommended", NULL, i == rec->row);
  f[k++] = out_text ("reason", NULL, reason_name (rec->reason));
  f[k++] = out_count ("recommended_batch_size", NULL, rec->batch_size);
  f[k++] = out_count ("per_step_choice", NULL, rec->per_step_choice);
  f[k++] = out_count ("effective_noise_choice", NULL,
                      rec->effective_noise_choice);
}

static int
print_rows (const cli_options *o, const plan *p,
            const plan_assumptions *a, out_format format, FILE *stream)
{
  size_t n = 0;
  for (size_t k = 0; k < p->n_groups; k++)
    n += p->groups[k].n * o->n_clips;
  out_field *fields = calloc (n * N_FIELDS, sizeof *fields);
  out_answer *answers = calloc (n, sizeof *answers);
  if (fields == NULL || answers == NULL)
    {
      free (fields);
      free (answers);
      out_error ("out of memory");
      return 2;
    }
  size_t j = 0;
  for (size_t k = 0; k < p->n_groups; k++)
    for (size_t c = 0; c < o->n_clips; c++)
      for (size_t i = 0; i < p->groups[k].n; i++, j++)
        {
          row_fields (o, &p->groups[k], o->clips[c], i, fields + j * N_FIELDS);
          out_answer answer = { NULL, fields + j * N_FIELDS, N_FIELDS, NULL,
                                NULL };
          answers[j] = answer;
        }
  out_report report = { "cumulative-noise", a->fields, a->n, answers, n };
  out_print (stream, format, &report);
  free (fields);
  free (answers);
  return 0;
}

/* ------------------------------------------------------------ table */

static void
print_group_table (const cli_options *o, const plan_group *g, double clip,
                   FILE *s)
{
  const dpacct_plan_recommendation *rec = &g->rec;
  char sigma[32];
  fprintf (s, "\nepsilon %g, %g epochs, C = %g (%s):\n", g->epsilon,
           g->epochs, clip, g->type->name);
  fprintf (s, "  %1s %10s %10s %8s %10s %13s %11s", "", "B", "q", "steps",
           "sigma", "sigma*sqrt(T)", "sigma*C/B");
  if (o->dimension > 0)
    fprintf (s, " %14s", "sigma*C*|d|/B");
  fprintf (s, " %10s %9s %7s %13s %s\n", "sigma/q", "TAN", "GDP mu",
           "GDP s*sqrt(T)", "plateau");
  for (size_t i = 0; i < g->n; i++)
    {
      const dpacct_plan_row *r = &g->rows[i];
      out_round_bound (r->noise_multiplier, 1, sigma, sizeof sigma);
      fprintf (s, "  %1s %10llu %10.4g %8llu %10s %13.5g %11.4g",
               i == rec->row ? "*" : "", (unsigned long long) r->batch_size,
               r->sampling_rate, (unsigned long long) r->steps, sigma,
               r->cumulative_noise, r->per_step_noise * clip);
      if (o->dimension > 0)
        fprintf (s, " %14.4g", r->per_step_noise_norm * clip);
      fprintf (s, " %10.4g %9.4g %7.4g %13.5g %s\n", r->effective_noise,
               r->total_noise, r->gdp_mu, r->gdp_cumulative_noise,
               r->on_plateau ? "yes" : "no");
    }
  fprintf (s, "  recommended batch size: %llu (", (unsigned long long)
           rec->batch_size);
  if (rec->reason == DPACCT_PLAN_PLATEAU)
    fprintf (s, "plateau: the smallest B whose sigma*sqrt(T) is within "
             "tau = %g of the minimum %.5g (at B = %llu) and that has at "
             "least T_min = %llu steps)\n", o->plateau_tolerance,
             rec->min_cumulative_noise,
             (unsigned long long) rec->min_batch_size,
             (unsigned long long) o->min_steps);
  else
    fprintf (s, "minimum steps: no B on the plateau (within tau = %g of the "
             "minimum %.5g, at B = %llu) has T_min = %llu steps, so B = "
             "floor(E N / T_min))\n", o->plateau_tolerance,
             rec->min_cumulative_noise,
             (unsigned long long) rec->min_batch_size,
             (unsigned long long) o->min_steps);
  fprintf (s, "  per-step heuristics would choose: B = %llu (sigma*C/B), "
           "B = %llu (sigma/q)\n", (unsigned long long) rec->per_step_choice,
           (unsigned long long) rec->effective_noise_choice);
}

static void
print_table (const cli_options *o, const plan *p, const plan_assumptions *a,
             FILE *stream)
{
  /* The report without answers prints the heading and the assumptions. */
  out_report report = { "cumulative-noise", a->fields, a->n, NULL, 0 };
  out_print (stream, OUT_TABLE, &report);
  for (size_t k = 0; k < p->n_groups; k++)
    for (size_t c = 0; c < o->n_clips; c++)
      print_group_table (o, &p->groups[k], o->clips[c], stream);
  fputs ("\nsigma is rounded up; * marks the recommended batch size.\n",
         stream);
}

/* ------------------------------------------------------------ command */

int
cmd_plan_check (cli_options *o)
{
  if (!(o->given & OPT_BIT (OPT_DATASET_SIZE)))
    {
      out_error ("%s: --dataset-size is required; try 'dpacct %s --help'",
                 o->command, o->command);
      return 1;
    }
  if (o->n_epochs == 0)
    {
      out_error ("%s: --epochs is required; try 'dpacct %s --help'",
                 o->command, o->command);
      return 1;
    }
  return cli_batch_sizes (o, o->dataset_size);
}

int
cmd_plan_print (const cli_options *o, out_format format, FILE *stream)
{
  plan p = { NULL, 0, NULL };
  plan_assumptions a;
  int rc = plan_compute (o, &p);
  if (rc == 0)
    {
      describe (o, &a);
      if (format == OUT_TABLE)
        print_table (o, &p, &a, stream);
      else
        rc = print_rows (o, &p, &a, format, stream);
    }
  plan_free (&p);
  return rc;
}

/* --run or --phase: the phases already spent; each row's noise is the
 * remaining budget's for the planned phase. */
static int
plan_after_phases (cli_options *o)
{
  cli_phases r;
  dpacct_event *spent = NULL;
  int rc = cli_phases_resolve (o, &r);
  if (rc == 0 && r.unknown < r.n)
    rc = run_error (&r.spec, &r.spec.phases[r.unknown], RUN_N_KEYS,
                    "cumulative-noise plans the phase after the run; every "
                    "phase of the run needs its noise");
  if (rc == 0)
    {
      int status = cli_phases_event (&r, 0, r.n, r.n, NAN, &spent);
      if (status != DPACCT_OK)
        rc = out_library_failure (status, "the spent phases");
    }
  if (rc == 0)
    {
      o->spent = spent;
      rc = cmd_plan_print (o, o->format, stdout);
      o->spent = NULL;
    }
  dpacct_event_free (spent);
  cli_phases_free (&r);
  return rc;
}

int
cmd_cumulative_noise (int argc, char **argv)
{
  cli_options o;
  int help, rc;
  /* --sampling: Poisson (the plan) or an epoch sampler (cmd_sampler.c);
   * --max-batch-size is allowed only so that the parser lets the epoch
   * samplers through (see check_sampler in options.c), and refused. */
  cli_option_mask allowed = CMD_PLAN_OPTIONS | OPT_BIT (OPT_SAMPLING)
                            | OPT_BIT (OPT_MAX_BATCH_SIZE);
  if (cli_parse_lists (argc, argv, allowed, CMD_PLAN_LISTS,
                       &cmd_plan_defaults, &o, &help))
    return 1;
  if (help)
    {
      cli_print_help (stdout, "cumulative-noise", summary,
                      allowed & ~OPT_BIT (OPT_MAX_BATCH_SIZE));
      return 0;
    }
  if (o.sampler == CLI_SAMPLER_EVENT && o.sampling != DPACCT_SAMPLING_POISSON)
    {
      out_error ("--sampling: not an option of 'dpacct cumulative-noise' "
                 "except poisson (the default), shuffle, shuffle-once and "
                 "balls-and-bins");
      return 1;
    }
  if (o.given & OPT_BIT (OPT_MAX_BATCH_SIZE))
    {
      out_error ("--max-batch-size: not an option of 'dpacct "
                 "cumulative-noise'");
      return 1;
    }
  if ((rc = cmd_plan_check (&o)))
    return rc;
  if (o.sampler != CLI_SAMPLER_EVENT && o.run_mode)
    {
      out_error ("--run/--phase: runs of several phases are Poisson-sampled "
                 "only, not with --sampling %s", cli_sampler_name (o.sampler));
      return 1;
    }
  if (o.sampler != CLI_SAMPLER_EVENT)
    return cmd_sampler_plan (&o);
  if (o.run_mode)
    return plan_after_phases (&o);
  return cmd_plan_print (&o, o.format, stdout);
}
