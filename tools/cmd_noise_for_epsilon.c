/* cmd_noise_for_epsilon.c - "dpacct noise-for-epsilon": the smallest noise
 * multiplier whose epsilon upper bound meets a target. */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <dpacct.h>

#include "commands.h"
#include "describe.h"
#include "options.h"
#include "output.h"

#define NOISE_OPTIONS \
  (OPT_COMMON | OPT_BIT (OPT_EPSILON) | OPT_BIT (OPT_DELTA) \
   | OPT_BIT (OPT_REL_TOL) | OPT_BIT (OPT_COMPARE_GAUSSIAN) | OPT_RUNS)

static const char summary[] =
  "Find the smallest noise multiplier (with --accountant lap2 or lap2-paper:\n"
  "the smallest Laplace scale b for --clip C and --dimension N) whose\n"
  "epsilon upper bound is at most --epsilon.  Defaults: --epsilon 3\n"
  "--delta 1e-5 --dataset-size 60000 --batch-size 256 --epochs 10.";

/* A realistic run (MNIST-sized), so that the command alone answers. */
static const cli_defaults defaults = { 1e-5, 3.0, 60000, 256, 10.0 };

enum { N_FIELDS = 13 };

/* One calibration: its result, the warning about its order (and, for
 * lap2-paper, about what it is), and the Gaussian to compare with. */
typedef struct {
  dpacct_calibration result;
  char text[640];
  const char *warning;
  double gaussian_sigma;
} calibrated;

/* Laplace runs: the scale b in place of sigma, then C, n and, with
 * --compare-gaussian, the Gaussian with the same epsilon upper bound. */
static size_t
laplace_fields (const cli_options *o, const cli_run *run,
                const calibrated *c, out_field *f)
{
  double b = c->result.noise, gauss_std = c->gaussian_sigma * o->clip;
  size_t n = 0;
  f[n++] = out_real ("laplace_scale", "Laplace scale b", OUT_UPPER, b);
  f[n++] = out_real ("epsilon_upper", "epsilon upper bound reached",
                     OUT_UPPER, c->result.epsilon_upper);
  f[n++] = out_real ("target_epsilon", NULL, OUT_REAL, o->epsilon);
  f[n++] = out_real ("delta", NULL, OUT_REAL, o->delta);
  f[n++] = out_count ("steps", NULL, run->steps);
  f[n++] = out_real ("sampling_rate", NULL, OUT_REAL, run->q);
  f[n++] = out_real ("clip", NULL, OUT_REAL, o->clip);
  f[n++] = out_count ("dimension", NULL, o->dimension);
  if (!o->compare_gaussian)
    return n;
  f[n++] = out_real ("gaussian_noise_multiplier",
                     "Gaussian noise mult. (rdp)",
                     OUT_REAL, c->gaussian_sigma);
  f[n++] = out_real ("gaussian_std", "Gaussian std sigma*C", OUT_REAL,
                     gauss_std);
  f[n++] = out_real ("laplace_variance", "Laplace variance 2b^2", OUT_REAL,
                     2.0 * b * b);
  f[n++] = out_real ("gaussian_variance", "Gaussian variance",
                     OUT_REAL, gauss_std * gauss_std);
  return n;
}

static int
print_noise (const cli_options *o, const cli_run *run, const calibrated *c)
{
  cli_assumptions a;
  out_field fields[CLI_MAX_ACCOUNTANTS][N_FIELDS];
  out_answer answers[CLI_MAX_ACCOUNTANTS];
  cli_describe_run (o, run, 0, &a);
  cli_add_assumption (&a, out_real ("target_epsilon", "target epsilon",
                                    OUT_REAL, o->epsilon), o, OPT_EPSILON);
  cli_add_assumption (&a, out_real ("delta", "delta", OUT_REAL, o->delta), o,
                      OPT_DELTA);
  cli_add_assumption (&a, out_real ("rel_tol", "relative tolerance",
                                    OUT_REAL, o->rel_tol), o, OPT_REL_TOL);
  for (size_t i = 0; i < o->n_accountants; i++)
    {
      out_field *f = fields[i];
      if (o->laplace)
        {
          f[0] = out_text ("accountant", NULL, o->accountants[i]->name);
          out_answer answer = {
            o->accountants[i]->name, f, 1 + laplace_fields (o, run, &c[i],
                                                            f + 1),
            NULL, c[i].warning
          };
          answers[i] = answer;
          continue;
        }
      /* Rounding the noise up keeps it on the safe side of the target. */
      f[0] = out_text ("accountant", NULL, o->accountants[i]->name);
      f[1] = out_real ("noise_multiplier", "noise multiplier (std / C)",
                       OUT_UPPER, c[i].result.noise);
      f[2] = out_real ("epsilon_upper", "epsilon upper bound reached",
                       OUT_UPPER, c[i].result.epsilon_upper);
      f[3] = out_real ("target_epsilon", NULL, OUT_REAL, o->epsilon);
      f[4] = out_real ("delta", NULL, OUT_REAL, o->delta);
      f[5] = out_count ("steps", NULL, run->steps);
      f[6] = out_real ("sampling_rate", NULL, OUT_REAL, run->q);
      out_answer answer = {
        o->accountants[i]->name, f, 7,
        o->certified ? "(certified)" : NULL, c[i].warning
      };
      answers[i] = answer;
    }
  out_report report = { "noise-for-epsilon", a.fields, a.n, answers,
                        o->n_accountants };
  out_print (stdout, o->format, &report);
  return 0;
}

/* The epsilon bound of the run at NOISE under TYPE. */
static int
bound_at (const cli_options *o, const dpacct_accountant_type *type,
          const cli_run *run, double noise, dpacct_bound *bound)
{
  dpacct_accountant *accountant;
  int rc = cli_account_run (o, type, run, noise, &accountant);
  if (rc)
    return rc;
  int status = dpacct_accountant_epsilon (accountant, o->delta, bound);
  dpacct_accountant_free (accountant);
  if (status != DPACCT_OK)
    return cli_library_failure (type, status,
                                "epsilon of the calibrated noise");
  return 0;
}

/* The warning about the calibrated noise's bound (carried by the
 * calibration): its optimal order on the edge of the grid; and for
 * lap2-paper at q < 1 what lap2 says of the same scale. */
static int
edge_warning (const cli_options *o, const dpacct_accountant_type *type,
              const cli_run *run, calibrated *c)
{
  dpacct_bound sound;
  const dpacct_bound *bound = &c->result.bound;
  char edge[256];
  const char *w;
  int rc;
  c->warning = NULL;
  if (!cli_is_lap2 (type))
    {
      c->warning = cmd_edge_warning (bound, c->text, sizeof c->text);
      return 0;
    }
  w = cmd_bound_warning (o, type, bound, edge, sizeof edge);
  const dpacct_accountant_type *proved = dpacct_accountant_type_proved (type);
  if (proved == type || run->q >= 1.0)
    {
      if (w != NULL)
        c->warning = strcpy (c->text, w);
      return 0;
    }
  if ((rc = bound_at (o, proved, run, c->result.noise, &sound)))
    return rc;
  char paper[480];
  cmd_paper_warning (run->q, "epsilon_upper at this scale", bound->upper,
                     sound.upper, paper, sizeof paper);
  snprintf (c->text, sizeof c->text, "%s%s%s", paper, w ? "; " : "",
            w ? w : "");
  c->warning = c->text;
  return 0;
}

static int
calibrate (const cli_options *o, const dpacct_accountant_type *type,
           const cli_run *run, dpacct_calibration *c)
{
  dpacct_accountant_options settings;
  dpacct_calibration_options calibration;
  cli_accountant_options (o, &settings);
  dpacct_calibration_options_init (&calibration);
  calibration.rel_tol = o->rel_tol;
  int status = cli_is_lap2 (type)
                   ? dpacct_lap2_scale_for_epsilon (
                       type, &settings, o->clip, o->dimension, run->q,
                       run->steps, o->epsilon, o->delta, &calibration, c)
                   : dpacct_noise_for_epsilon (type, &settings, run->q,
                                               run->steps, o->sampling,
                                               o->epsilon, o->delta,
                                               &calibration, c);
  if (status != DPACCT_OK)
    {
      char what[192];
      if (cli_is_lap2 (type))
        snprintf (what, sizeof what, "a Laplace scale in [%g, %g] (clip %g) "
                  "for epsilon %g at delta %g with the %s accountant",
                  calibration.noise_min * o->clip,
                  calibration.noise_max * o->clip, o->clip, o->epsilon,
                  o->delta, type->name);
      else
        snprintf (what, sizeof what, "a noise multiplier in [%g, %g] for "
                  "epsilon %g at delta %g with the %s accountant",
                  calibration.noise_min, calibration.noise_max, o->epsilon,
                  o->delta, type->name);
      return cli_library_failure (type, status, what);
    }
  if (isnan (c->noise) || isnan (c->epsilon_upper))
    {
      out_error ("numerical failure: the calibrated %s noise multiplier is "
                 "NaN", type->name);
      return 2;
    }
  return 0;
}

int
cmd_noise_for_epsilon (int argc, char **argv)
{
  cli_options o;
  cli_run run;
  calibrated results[CLI_MAX_ACCOUNTANTS];
  int help, rc;
  if (cli_parse (argc, argv, NOISE_OPTIONS, &defaults, &o, &help))
    return 1;
  if (help)
    {
      cli_print_help (stdout, "noise-for-epsilon", summary, NOISE_OPTIONS);
      return 0;
    }
  if (o.run_mode)
    return cmd_phases_noise (&o);
  if ((rc = cli_resolve_run (&o, &defaults, &run)))
    return rc;
  for (size_t i = 0; i < o.n_accountants; i++)
    {
      results[i].gaussian_sigma = NAN;
      if ((rc = calibrate (&o, o.accountants[i], &run, &results[i].result))
          || (rc = edge_warning (&o, o.accountants[i], &run, &results[i])))
        return rc;
      if (o.compare_gaussian
          && (rc = cli_gaussian_for_epsilon (&o, &run,
                                             results[i].result.epsilon_upper,
                                             &results[i].gaussian_sigma)))
        return rc;
    }
  return print_noise (&o, &run, results);
}
