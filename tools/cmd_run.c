/* cmd_run.c - epsilon, delta and noise-for-epsilon for runs of several
 * phases: the bounds up to the end of each phase and of the whole run,
 * and the remaining budget (the noise of the one phase given as '?'). */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dpacct.h>

#include "commands.h"
#include "describe.h"
#include "options.h"
#include "output.h"
#include "run.h"

enum { N_FIELDS = 12, TITLE_SIZE = 160, WARNING_SIZE = 640 };

/* The rows of a report: one per phase and accountant, and the totals. */
typedef struct {
  out_answer *answers;
  out_field (*fields)[N_FIELDS];
  char (*titles)[TITLE_SIZE];
  size_t n, capacity;
  char warnings[CLI_MAX_ACCOUNTANTS][WARNING_SIZE];
} rows;

static int
rows_alloc (rows *r, size_t capacity)
{
  memset (r, 0, sizeof *r);
  r->answers = calloc (capacity, sizeof *r->answers);
  r->fields = calloc (capacity, sizeof *r->fields);
  r->titles = calloc (capacity, sizeof *r->titles);
  r->capacity = capacity;
  if (r->answers == NULL || r->fields == NULL || r->titles == NULL)
    {
      out_error ("out of memory for the report");
      return 1;
    }
  return 0;
}

static void
rows_free (rows *r)
{
  free (r->answers);
  free (r->fields);
  free (r->titles);
}

static const char *
mechanism_name (const cli_phase *p)
{
  return !p->laplace ? "gaussian" : p->dimension ? "laplace-l2"
                                                 : "laplace-l1";
}

/* The fields every row starts with: phase (for listed runs), accountant,
 * and for a phase its mechanism, noise, sampling, rate and steps (for the
 * total: the run's steps, the rest empty). */
static size_t
phase_fields (const cli_phases *r, const cli_phase *p, double noise,
              const dpacct_accountant_type *type, out_field *f)
{
  size_t n = 0;
  if (r->listed)
    f[n++] = out_text ("phase", NULL, p ? p->label : "total");
  f[n++] = out_text ("accountant", NULL, type->name);
  f[n++] = out_text ("mechanism", p ? "mechanism" : NULL,
                     p ? mechanism_name (p) : "");
  f[n++] = out_real ("noise", p ? (p->laplace ? "Laplace scale b"
                                              : "noise multiplier")
                                : NULL, OUT_REAL, p ? noise : NAN);
  f[n++] = out_real ("sampling_rate", p ? "sampling rate q" : NULL,
                     OUT_REAL, p ? p->run.q : NAN);
  f[n++] = out_count ("steps", p ? "steps" : "steps (all phases)",
                      p ? p->run.steps : r->total_steps);
  return n;
}

static void
add_row (rows *t, const cli_phases *r, size_t phase,
         const dpacct_accountant_type *type, size_t n_fields,
         const char *remark)
{
  out_answer *a = &t->answers[t->n];
  if (!r->listed)
    snprintf (t->titles[t->n], TITLE_SIZE, "%s", type->name);
  else if (phase < r->n)
    snprintf (t->titles[t->n], TITLE_SIZE, "%s, phase %s: up to its end",
              type->name, r->phases[phase].label);
  else
    snprintf (t->titles[t->n], TITLE_SIZE, "%s, the whole run", type->name);
  a->title = t->titles[t->n];
  a->fields = t->fields[t->n];
  a->n_fields = n_fields;
  a->remark = remark;
  a->warning = NULL;
  t->n++;
}

static void
print_rows (const char *command, const cli_assumptions *a, const rows *t,
            out_format format)
{
  out_report report = { command, a->fields, a->n, t->answers, t->n };
  out_print (stdout, format, &report);
}

/* An accountant of TYPE for the run, with its settings. */
static int
new_accountant (const cli_options *o, const dpacct_accountant_type *type,
                int upper_only, dpacct_accountant **out)
{
  dpacct_accountant_options settings;
  cli_accountant_options (o, &settings);
  dpacct_accountant_options_set_int (&settings, "upper-only",
                                     upper_only != 0);
  dpacct_accountant_options_set_int (&settings, "lap2-lower-bound",
                                     !upper_only);
  int status = dpacct_accountant_alloc (type, &settings, out);
  return status ? cli_library_failure (type, status, "an accountant") : 0;
}

/* Composes phase I (the '?' phase at NOISE) into ACC. */
static int
compose_phase (const cli_phases *r, size_t i, double noise,
               const dpacct_accountant_type *type, dpacct_accountant *acc)
{
  dpacct_event *e = NULL;
  int status = cli_phases_event (r, i, i + 1, r->n, noise, &e);
  if (status == DPACCT_OK)
    status = dpacct_accountant_compose (acc, e, 1);
  dpacct_event_free (e);
  if (status != DPACCT_OK)
    {
      char what[320], text[200];
      cli_phase_text (&r->phases[i], r->phases[i].unknown ? noise
                                                          : r->phases[i].noise,
                      text, sizeof text);
      snprintf (what, sizeof what, "%s accounting of phase %s (%s)",
                type->name, r->phases[i].label, text);
      return cli_library_failure (type, status, what);
    }
  return 0;
}

static int
query_failure (const dpacct_accountant_type *type, int status,
               const dpacct_bound *b, const char *what, double given)
{
  char text[128];
  if (status == DPACCT_OK && !isnan (b->upper))
    return 0;
  if (status == DPACCT_OK)
    {
      out_error ("numerical failure: the %s %s upper bound is NaN",
                 type->name, what);
      return 2;
    }
  snprintf (text, sizeof text, "%s %s at %g", type->name, what, given);
  return cli_library_failure (type, status, text);
}

/* Nonzero when the report has a row per phase: a listed run of at most
 * CLI_MAX_PHASE_ROWS phases (each row costs one more accounting of the
 * run up to it, seconds with pld). */
static int
phase_rows (const cli_phases *r)
{
  return r->listed && r->n <= CLI_MAX_PHASE_ROWS;
}

/* The total's warning: WARNING, and that the phases' rows were left out. */
static const char *
total_warning (const cli_phases *r, const char *warning, char *text)
{
  if (!r->listed || phase_rows (r))
    return warning;
  char own[WARNING_SIZE];
  snprintf (own, sizeof own, "%s", warning ? warning : "");
  snprintf (text, WARNING_SIZE, "rows per phase are shown for runs of at "
            "most %d phases (each costs one more accounting of the run); "
            "this one has %zu: the whole run only%s%.300s", CLI_MAX_PHASE_ROWS,
            r->n, own[0] ? "; " : "", own);
  return text;
}

/* ------------------------------------------------------------ bounds */

/* The row of phase I (r->n: the total) with bound B. */
static void
add_bound_row (const bound_command *c, rows *t, const cli_phases *r,
               size_t i, const dpacct_accountant_type *type,
               const dpacct_bound *b, double given)
{
  const cli_phase *p = i < r->n ? &r->phases[i] : NULL;
  out_field *f = t->fields[t->n];
  size_t n = phase_fields (r, p, p ? p->noise : NAN, type, f);
  f[n++] = out_real (c->lower_column, c->lower_label, OUT_LOWER, b->lower);
  f[n++] = out_real (c->upper_column, c->upper_label, OUT_UPPER, b->upper);
  f[n++] = out_real ("optimal_order", isnan (b->order) ? NULL
                     : "optimal order", OUT_REAL, b->order);
  f[n++] = out_real (c->given_name, NULL, OUT_REAL, given);
  add_row (t, r, i, type, n, b->certified ? "(certified)" : NULL);
}

int
cmd_phases_bound (const bound_command *c, cli_options *o)
{
  cli_phases r;
  rows t;
  cli_assumptions a;
  double given = c->given == OPT_DELTA ? o->delta : o->epsilon;
  int rc = cli_phases_resolve (o, &r);
  if (rc == 0 && r.unknown < r.n)
    rc = run_error (&r.spec, &r.spec.phases[r.unknown], RUN_N_KEYS,
                    "noise '?' is for noise-for-epsilon (the remaining "
                    "budget); %s needs every phase's noise", c->name);
  if (rc == 0)
    rc = rows_alloc (&t, o->n_accountants * (r.n + 1));
  if (rc)
    {
      cli_phases_free (&r);
      return rc;
    }
  for (size_t k = 0; k < o->n_accountants && rc == 0; k++)
    {
      const dpacct_accountant_type *type = o->accountants[k];
      dpacct_accountant *acc = NULL;
      dpacct_bound b;
      rc = new_accountant (o, type, 0, &acc);
      for (size_t i = 0; i < r.n && rc == 0; i++)
        {
          rc = compose_phase (&r, i, NAN, type, acc);
          /* A listed run has a row per phase, with the bounds up to its
           * end, and the total; the command line's one phase has one. */
          if (rc == 0 && (phase_rows (&r) || i + 1 == r.n))
            rc = query_failure (type, c->query (acc, given, &b), &b, c->name,
                                given);
          if (rc == 0 && phase_rows (&r))
            add_bound_row (c, &t, &r, i, type, &b, given);
          if (rc == 0 && i + 1 == r.n)
            {
              add_bound_row (c, &t, &r, r.listed ? r.n : 0, type, &b, given);
              t.answers[t.n - 1].warning
                = total_warning (&r, cmd_bound_warning (o, type, &b,
                                                        t.warnings[k],
                                                        WARNING_SIZE),
                                 t.warnings[k]);
            }
        }
      dpacct_accountant_free (acc);
    }
  if (rc == 0)
    {
      cli_describe_phases (o, &r, &a);
      cli_add_assumption (&a, out_real (c->given_name, c->given_name,
                                        OUT_REAL, given), o, c->given);
      print_rows (c->name, &a, &t, o->format);
    }
  rows_free (&t);
  cli_phases_free (&r);
  return rc;
}

/* ------------------------------------------------------------ remaining budget */

static int
make_run (double noise, void *context, dpacct_event **out)
{
  const cli_phases *r = context;
  return cli_phases_event (r, 0, r->n, r->n, noise, out);
}

/* The epsilon upper bound of every phase but the '?' one; 0 when there
 * are none. */
static int
spent_by_others (const cli_options *o, const cli_phases *r,
                 const dpacct_accountant_type *type, double *spent)
{
  dpacct_accountant *acc = NULL;
  dpacct_bound b;
  *spent = 0.0;
  if (r->n == 1)
    return 0;
  int rc = new_accountant (o, type, 1, &acc);
  for (size_t i = 0; i < r->n && rc == 0; i++)
    if (i != r->unknown)
      rc = compose_phase (r, i, NAN, type, acc);
  if (rc == 0)
    rc = query_failure (type, dpacct_accountant_epsilon (acc, o->delta, &b),
                        &b, "epsilon of the other phases", o->delta);
  dpacct_accountant_free (acc);
  if (rc == 0)
    *spent = b.upper;
  return rc;
}

static int
calibrate_unknown (const cli_options *o, const cli_phases *r,
                   const dpacct_accountant_type *type, dpacct_calibration *c)
{
  dpacct_accountant_options settings;
  dpacct_calibration_options calibration;
  cli_accountant_options (o, &settings);
  dpacct_accountant_options_set_int (&settings, "upper-only", 1);
  dpacct_calibration_options_init (&calibration);
  calibration.rel_tol = o->rel_tol;
  int status = dpacct_calibrate_noise (type, &settings, make_run, (void *) r,
                                       o->epsilon, o->delta, &calibration, c);
  const cli_phase *p = &r->phases[r->unknown];
  if (status == DPACCT_ERANGE)
    {
      out_error ("no %s in [%g, %g] for phase %s meets epsilon %g at delta "
                 "%g with the %s accountant", p->laplace ? "Laplace scale"
                 : "noise multiplier", calibration.noise_min,
                 calibration.noise_max, p->label, o->epsilon, o->delta,
                 type->name);
      return 1;
    }
  if (status != DPACCT_OK)
    {
      char what[192];
      snprintf (what, sizeof what, "the noise of phase %s for epsilon %g at "
                "delta %g with the %s accountant", p->label, o->epsilon,
                o->delta, type->name);
      return cli_library_failure (type, status, what);
    }
  return 0;
}

int
cmd_phases_noise (cli_options *o)
{
  cli_phases r;
  rows t;
  cli_assumptions a;
  int rc = cli_phases_resolve (o, &r);
  if (rc == 0 && r.unknown == r.n)
    {
      out_error ("noise-for-epsilon: give the noise of the phase to "
                 "calibrate as '?' (noise-multiplier or laplace-scale)");
      rc = 1;
    }
  if (rc == 0)
    rc = rows_alloc (&t, o->n_accountants * (r.n + 1));
  if (rc)
    {
      cli_phases_free (&r);
      return rc;
    }
  for (size_t k = 0; k < o->n_accountants && rc == 0; k++)
    {
      const dpacct_accountant_type *type = o->accountants[k];
      const cli_phase *unknown = &r.phases[r.unknown];
      dpacct_calibration cal;
      dpacct_accountant *acc = NULL;
      double spent;
      rc = spent_by_others (o, &r, type, &spent);
      if (rc == 0 && !(spent < o->epsilon))
        {
          char text[32];
          out_round_bound (spent, 1, text, sizeof text);
          out_error ("the phases other than %s already spend epsilon %s "
                     "(%s upper bound at delta %g), at or above the target "
                     "%g: no noise for phase %s can meet it",
                     unknown->label, text, type->name, o->delta, o->epsilon,
                     unknown->label);
          rc = 1;
        }
      if (rc == 0)
        rc = calibrate_unknown (o, &r, type, &cal);
      if (rc == 0)
        rc = new_accountant (o, type, 1, &acc);
      /* Each phase's row: the epsilon up to its end with the answer. */
      for (size_t i = 0; i <= r.n && rc == 0; i++)
        {
          dpacct_bound b;
          const cli_phase *p = i < r.n ? &r.phases[i] : NULL;
          if (p != NULL)
            {
              rc = compose_phase (&r, i, cal.noise, type, acc);
              if (rc == 0 && !phase_rows (&r))
                continue;
              if (rc == 0 && i + 1 < r.n)
                rc = query_failure (type, dpacct_accountant_epsilon (
                                              acc, o->delta, &b),
                                    &b, "epsilon", o->delta);
              if (i + 1 == r.n)
                b.upper = cal.epsilon_upper;
              if (rc)
                break;
            }
          else
            b.upper = cal.epsilon_upper;
          out_field *f = t.fields[t.n];
          size_t n = phase_fields (&r, p, p && !p->unknown ? p->noise
                                                           : cal.noise,
                                   type, f);
          if (p == NULL)
            f[r.listed ? 2 : 1] = out_text ("mechanism", NULL,
                                            mechanism_name (unknown));
          /* The calibrated noise, rounded up, stays on the safe side. */
          for (size_t j = 0; j < n; j++)
            if (strcmp (f[j].name, "noise") == 0 && p != NULL && p->unknown)
              f[j].kind = OUT_UPPER;
          f[n++] = out_text ("calibrated", p ? "calibrated here" : NULL,
                             (p == NULL || p->unknown) ? "yes" : "no");
          /* The calibrated noise, rounded up, stays on the safe side. */
          f[n++] = out_real ("calibrated_noise", p ? NULL
                             : "calibrated noise (phase ?)", OUT_UPPER,
                             cal.noise);
          f[n++] = out_real ("epsilon_upper", "epsilon upper bound",
                             OUT_UPPER, b.upper);
          f[n++] = out_real ("target_epsilon", NULL, OUT_REAL, o->epsilon);
          f[n++] = out_real ("delta", NULL, OUT_REAL, o->delta);
          add_row (&t, &r, i, type, n, NULL);
          if (p == NULL)
            t.answers[t.n - 1].warning = total_warning (&r, NULL,
                                                        t.warnings[k]);
        }
      dpacct_accountant_free (acc);
    }
  if (rc == 0)
    {
      cli_describe_phases (o, &r, &a);
      cli_add_assumption (&a, out_real ("target_epsilon", "target epsilon",
                                        OUT_REAL, o->epsilon), o, OPT_EPSILON);
      cli_add_assumption (&a, out_real ("delta", "delta", OUT_REAL, o->delta),
                          o, OPT_DELTA);
      cli_add_assumption (&a, out_real ("rel_tol", "relative tolerance",
                                        OUT_REAL, o->rel_tol), o, OPT_REL_TOL);
      print_rows ("noise-for-epsilon", &a, &t, o->format);
    }
  rows_free (&t);
  cli_phases_free (&r);
  return rc;
}
