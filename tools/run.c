/* run.c - run resolution: phases filled in from the command line, their
 * events, and the accountants that can compose them (the library says
 * which, and why not). */
#include <config.h>

#include "run.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

void
cli_phases_free (cli_phases *r)
{
  run_spec_free (&r->spec);
  free (r->phases);
  memset (r, 0, sizeof *r);
}

/* ------------------------------------------------------------ the command line's run */

static int
run_from_rate (const cli_options *o, cli_run *run)
{
  int have_rate = (o->given & OPT_BIT (OPT_SAMPLING_RATE)) != 0;
  if (!(o->given & OPT_BIT (OPT_STEPS)))
    {
      out_error ("%s: --sampling-rate needs --steps", o->command);
      return 1;
    }
  if (!have_rate && o->sampling != DPACCT_SAMPLING_NONE)
    {
      out_error ("%s: --steps needs --sampling-rate (or --sampling none)",
                 o->command);
      return 1;
    }
  run->q = have_rate ? o->sampling_rate : 1.0;
  run->steps = o->steps;
  return 0;
}

static int
run_from_epochs (const cli_options *o, const cli_defaults *d, cli_run *run)
{
  run->dataset_size = (o->given & OPT_BIT (OPT_DATASET_SIZE))
                          ? o->dataset_size : d ? d->dataset_size : 0;
  run->batch_size = (o->given & OPT_BIT (OPT_BATCH_SIZE)) ? o->batch_size
                    : d ? d->batch_size : 0;
  run->epochs = (o->given & OPT_BIT (OPT_EPOCHS)) ? o->epochs
                : d ? d->epochs : NAN;
  if (run->dataset_size == 0 || run->batch_size == 0 || isnan (run->epochs))
    {
      out_error ("%s: the run is missing: give --sampling-rate Q and --steps "
                 "T, or --dataset-size N, --batch-size B and --epochs E",
                 o->command);
      return 1;
    }
  if (run->batch_size > run->dataset_size)
    {
      out_error ("--batch-size %llu: must be an integer in [1, %llu] (the "
                 "--dataset-size)", (unsigned long long) run->batch_size,
                 (unsigned long long) run->dataset_size);
      return 1;
    }
  if (o->sampling == DPACCT_SAMPLING_NONE
      && run->batch_size != run->dataset_size)
    {
      out_error ("--sampling none: needs --batch-size equal to "
                 "--dataset-size (every step sees every example)");
      return 1;
    }
  run->from_epochs = 1;
  int status = dpacct_dpsgd_steps (run->dataset_size, run->batch_size,
                                   run->epochs, &run->q, &run->steps);
  return status ? out_library_failure (status, "the number of steps") : 0;
}

/* --steps with --dataset-size N and --batch-size B: q = B/N, a run that
 * stopped mid-epoch. */
static int
run_from_batch_steps (const cli_options *o, cli_run *run)
{
  cli_option_mask both = OPT_BIT (OPT_DATASET_SIZE) | OPT_BIT (OPT_BATCH_SIZE);
  if ((o->given & both) != both)
    {
      out_error ("%s: --steps with --%s needs --%s too (q = B/N)", o->command,
                 (o->given & OPT_BIT (OPT_BATCH_SIZE)) ? "batch-size"
                                                        : "dataset-size",
                 (o->given & OPT_BIT (OPT_BATCH_SIZE)) ? "dataset-size"
                                                        : "batch-size");
      return 1;
    }
  if (o->batch_size > o->dataset_size)
    {
      out_error ("--batch-size %llu: must be an integer in [1, %llu] (the "
                 "--dataset-size)", (unsigned long long) o->batch_size,
                 (unsigned long long) o->dataset_size);
      return 1;
    }
  if (o->sampling == DPACCT_SAMPLING_NONE && o->batch_size != o->dataset_size)
    {
      out_error ("--sampling none: needs --batch-size equal to "
                 "--dataset-size (every step sees every example)");
      return 1;
    }
  run->dataset_size = o->dataset_size;
  run->batch_size = o->batch_size;
  run->from_batch = 1;
  run->q = (double) o->batch_size / (double) o->dataset_size;
  run->steps = o->steps;
  return 0;
}

int
cli_resolve_run (const cli_options *options, const cli_defaults *defaults,
                 cli_run *run)
{
  cli_option_mask rate_form = OPT_BIT (OPT_SAMPLING_RATE) | OPT_BIT (OPT_STEPS);
  memset (run, 0, sizeof *run);
  run->epochs = NAN;
  if ((options->given & OPT_BIT (OPT_STEPS))
      && (options->given & (OPT_BIT (OPT_DATASET_SIZE)
                            | OPT_BIT (OPT_BATCH_SIZE))))
    return run_from_batch_steps (options, run);
  if ((options->given & rate_form)
      || (options->sampling == DPACCT_SAMPLING_NONE
          && (options->given & OPT_BIT (OPT_STEPS))))
    return run_from_rate (options, run);
  return run_from_epochs (options, defaults, run);
}

/* ------------------------------------------------------------ one phase */

static int
given (const cli_options *o, cli_option_id id)
{
  return (o->given & OPT_BIT (id)) != 0;
}

/* The noise of phase P: its own, else the command line's. */
static int
resolve_noise (const cli_options *o, const run_spec *s, const run_phase *p,
               cli_phase *out)
{
  if (p->set & RUN_BIT (RUN_NOISE_MULTIPLIER))
    out->laplace = 0, out->noise = p->noise_multiplier;
  else if (p->set & RUN_BIT (RUN_LAPLACE_SCALE))
    out->laplace = 1, out->noise = p->laplace_scale;
  else if (given (o, OPT_NOISE_MULTIPLIER))
    out->laplace = 0, out->noise = o->noise_multiplier;
  else if (given (o, OPT_LAPLACE_SCALE))
    out->laplace = 1, out->noise = o->laplace_scale;
  else
    return run_error (s, p, RUN_N_KEYS, "phase %s has no noise: give the "
                      "column noise-multiplier or laplace-scale, or the "
                      "option", out->label);
  out->unknown = p->unknown_noise;
  out->clip = (p->set & RUN_BIT (RUN_CLIP)) ? p->clip : o->clip;
  out->dimension = (p->set & RUN_BIT (RUN_DIMENSION)) ? p->dimension
                   : given (o, OPT_DIMENSION) ? o->dimension : 0;
  return 0;
}

/* The sampling rate and the steps of phase P. */
static int
resolve_length (const cli_options *o, const run_spec *s, const run_phase *p,
                cli_phase *out)
{
  cli_run *run = &out->run;
  int own_length = (p->set & (RUN_BIT (RUN_STEPS) | RUN_BIT (RUN_EPOCHS))) != 0;
  int own_rate = (p->set & (RUN_BIT (RUN_SAMPLING_RATE)
                            | RUN_BIT (RUN_BATCH_SIZE))) != 0;
  uint64_t steps = 0;
  double epochs = NAN, q = NAN;
  memset (run, 0, sizeof *run);
  run->epochs = NAN;
  if (own_length)
    steps = p->steps, epochs = (p->set & RUN_BIT (RUN_EPOCHS)) ? p->epochs
                                                               : NAN;
  else if (given (o, OPT_STEPS))
    steps = o->steps;
  else if (given (o, OPT_EPOCHS))
    epochs = o->epochs;
  else
    return run_error (s, p, RUN_N_KEYS, "phase %s has no length: give the "
                      "column steps or epochs, or the option", out->label);
  uint64_t b = 0, n = (p->set & RUN_BIT (RUN_DATASET_SIZE)) ? p->dataset_size
                      : given (o, OPT_DATASET_SIZE) ? o->dataset_size : 0;
  if (own_rate)
    {
      if (p->set & RUN_BIT (RUN_SAMPLING_RATE))
        q = p->sampling_rate;
      else
        b = p->batch_size;
    }
  else if (given (o, OPT_SAMPLING_RATE))
    q = o->sampling_rate;
  else if (given (o, OPT_BATCH_SIZE))
    b = o->batch_size;
  else if (out->sampling == DPACCT_SAMPLING_NONE)
    q = 1.0;
  if (b != 0 || !isnan (epochs))
    {
      if (b == 0 || n == 0)
        return run_error (s, p, isnan (epochs) ? RUN_BATCH_SIZE : RUN_EPOCHS,
                          "phase %s: %s needs batch-size and dataset-size "
                          "(q = B/N)", out->label,
                          isnan (epochs) ? "batch-size" : "epochs");
      if (b > n)
        return run_error (s, p, RUN_BATCH_SIZE, "phase %s: batch-size %llu "
                          "is above the dataset-size %llu", out->label,
                          (unsigned long long) b, (unsigned long long) n);
      run->batch_size = b;
      run->dataset_size = n;
      q = (double) b / (double) n;
    }
  if (isnan (q))
    return run_error (s, p, RUN_N_KEYS, "phase %s has no sampling rate: give "
                      "the column sampling-rate or batch-size (with "
                      "dataset-size), or the option", out->label);
  if (out->sampling == DPACCT_SAMPLING_NONE && q != 1.0)
    return run_error (s, p, RUN_SAMPLING, "phase %s: sampling none needs "
                      "rate 1 (batch-size = dataset-size), not %g",
                      out->label, q);
  if (!isnan (epochs))
    {
      run->epochs = epochs;
      run->from_epochs = 1;
      int status = dpacct_dpsgd_steps (n, b, epochs, &q, &steps);
      if (status != DPACCT_OK)
        return run_error (s, p, RUN_EPOCHS, "phase %s: epochs %g at q = %g "
                          "make more than 1e12 steps", out->label, epochs, q);
    }
  else
    run->from_batch = b != 0;
  run->q = q;
  run->steps = steps;
  return 0;
}

static int
resolve_phase (const cli_options *o, const run_spec *s, const run_phase *p,
               size_t index, cli_phase *out)
{
  memset (out, 0, sizeof *out);
  if (p->name[0])
    snprintf (out->label, sizeof out->label, "%s", p->name);
  else
    snprintf (out->label, sizeof out->label, "%zu", index + 1);
  out->sampling = (p->set & RUN_BIT (RUN_SAMPLING)) ? p->sampling
                                                    : o->sampling;
  return resolve_noise (o, s, p, out) || resolve_length (o, s, p, out);
}

/* The one run of the command line, as a phase. */
static int
command_line_phase (const cli_options *o, cli_phase *out)
{
  memset (out, 0, sizeof *out);
  snprintf (out->label, sizeof out->label, "1");
  out->sampling = o->sampling;
  out->laplace = !given (o, OPT_NOISE_MULTIPLIER);
  out->noise = out->laplace ? o->laplace_scale : o->noise_multiplier;
  out->clip = o->clip;
  out->dimension = given (o, OPT_DIMENSION) ? o->dimension : 0;
  if (isnan (out->noise))
    {
      out_error ("%s: --noise-multiplier or --laplace-scale is required; "
                 "try 'dpacct %s --help'", o->command, o->command);
      return 1;
    }
  return cli_resolve_run (o, NULL, &out->run);
}

/* ------------------------------------------------------------ events */

/* One step's mechanism: Gaussian noise, Laplace noise on an L2-clipped
 * sum in d dimensions, or (no dimension) on an L1-clipped sum. */
static int
mechanism_event (const cli_phase *p, double noise, dpacct_event **out)
{
  if (!p->laplace)
    return dpacct_event_gaussian_alloc (noise, out);
  if (p->dimension > 0)
    return dpacct_event_laplace_l2_alloc (noise / p->clip, p->dimension, out);
  return dpacct_event_laplace_alloc (noise / p->clip, out);
}

static int
phase_event (const cli_phase *p, double noise, dpacct_event **out)
{
  if (!p->laplace)
    return dpacct_dpsgd_event_alloc (noise, p->run.q, p->run.steps,
                                     p->sampling, out);
  dpacct_event *mech = NULL, *step = NULL;
  int status = mechanism_event (p, noise, &mech);
  if (status == DPACCT_OK)
    switch (p->sampling)
      {
      case DPACCT_SAMPLING_WITHOUT_REPLACEMENT:
        status = dpacct_event_without_replacement_alloc (p->run.q, mech,
                                                         &step);
        break;
      case DPACCT_SAMPLING_NONE:
        status = dpacct_event_copy (mech, &step);
        break;
      default:
        status = dpacct_event_poisson_alloc (p->run.q, mech, &step);
      }
  if (status == DPACCT_OK)
    status = dpacct_event_self_composed_alloc (step, p->run.steps, out);
  dpacct_event_free (step);
  dpacct_event_free (mech);
  return status;
}

int
cli_phases_event (const cli_phases *r, size_t first, size_t last, size_t skip,
                  double unknown_noise, dpacct_event **out)
{
  size_t n = 0;
  int status = DPACCT_OK;
  dpacct_event **events = calloc (last > first ? last - first : 1,
                                  sizeof *events);
  *out = NULL;
  if (events == NULL)
    return DPACCT_ENOMEM;
  for (size_t i = first; i < last && status == DPACCT_OK; i++)
    if (i != skip)
      {
        const cli_phase *p = &r->phases[i];
        status = phase_event (p, p->unknown ? unknown_noise : p->noise,
                              &events[n]);
        n += status == DPACCT_OK;
      }
  if (status == DPACCT_OK && n == 1)
    *out = events[0], events[0] = NULL;
  else if (status == DPACCT_OK)
    status = dpacct_event_sequence_alloc ((const dpacct_event *const *) events,
                                          n, out);
  for (size_t i = 0; i < n; i++)
    dpacct_event_free (events[i]);
  free (events);
  return status;
}

void
cli_phase_text (const cli_phase *p, double noise, char *buf, size_t size)
{
  char mechanism[96];
  if (!p->laplace)
    snprintf (mechanism, sizeof mechanism, "Gaussian noise multiplier %g",
              noise);
  else if (p->dimension > 0)
    snprintf (mechanism, sizeof mechanism, "Laplace scale %g, L2 clip %g, "
              "dimension %llu", noise, p->clip,
              (unsigned long long) p->dimension);
  else
    snprintf (mechanism, sizeof mechanism, "Laplace scale %g, L1 clip %g",
              noise, p->clip);
  snprintf (buf, size, "%s, %s sampling at rate %g, %llu steps", mechanism,
            cli_sampling_name (p->sampling), p->run.q,
            (unsigned long long) p->run.steps);
}

/* ------------------------------------------------------------ accountants */

/* Nonzero when every phase is Laplace noise on an L2-clipped sum (lap2's
 * kind of run). */
static int
all_laplace_l2 (const cli_phases *r)
{
  for (size_t i = 0; i < r->n; i++)
    if (!r->phases[i].laplace || r->phases[i].dimension == 0)
      return 0;
  return 1;
}

/* Whether TYPE can compose the whole run (the '?' noise at 1), and if not
 * the library's reason, naming the first phase it cannot, in WHY. */
static int
can_compose (const cli_options *o, const cli_phases *r,
             const dpacct_accountant_type *type, char *why, size_t size,
             size_t *phase_index)
{
  dpacct_accountant_options settings;
  cli_accountant_options (o, &settings);
  for (size_t i = 0; i < r->n; i++)
    {
      dpacct_event *e = NULL;
      char reason[320], phase[200];
      int status = cli_phases_event (r, i, i + 1, r->n, 1.0, &e);
      if (status == DPACCT_OK)
        status = dpacct_accountant_explain (type, &settings, e, reason,
                                            sizeof reason);
      dpacct_event_free (e);
      if (status != DPACCT_OK)
        {
          *phase_index = i;
          cli_phase_text (&r->phases[i], r->phases[i].noise, phase,
                          sizeof phase);
          /* A cut message still names the phase and the accountant. */
          int w = r->listed
                      ? snprintf (why, size, "phase %s (%s): %s",
                                  r->phases[i].label, phase,
                                  reason[0] ? reason
                                            : dpacct_strerror (status))
                      : 0;
          if (!r->listed)
            w = snprintf (why, size, "%s", reason[0] ? reason
                                                      : dpacct_strerror (status));
          (void) w;
          return status;
        }
    }
  return DPACCT_OK;
}

/* The accountants: as named; "all": every one that can compose the run;
 * none named: lap2 for a run of Laplace on L2-clipped sums only, else
 * pld, or rdp for what only it answers (certified bounds, orders,
 * sampling without replacement). */
static int
settle_accountants (cli_options *o, const cli_phases *r)
{
  char why[1024];
  size_t at = 0;
  /* Fixed-size batches imply replace-one, as on the command line. */
  for (size_t i = 0; i < r->n; i++)
    if (!given (o, OPT_NEIGHBOURING)
        && r->phases[i].sampling == DPACCT_SAMPLING_WITHOUT_REPLACEMENT)
      o->neighbouring = DPACCT_REPLACE_ONE;
  if (o->accountant_name == NULL)
    {
      int rdp = o->certified || given (o, OPT_ORDERS)
                || o->sampling == DPACCT_SAMPLING_WITHOUT_REPLACEMENT;
      for (size_t i = 0; i < r->n; i++)
        rdp |= r->phases[i].sampling == DPACCT_SAMPLING_WITHOUT_REPLACEMENT;
      const char *name = all_laplace_l2 (r) ? "lap2" : rdp ? "rdp" : "pld";
      o->accountants[0] = dpacct_accountant_type_by_name (name);
      o->accountant_name = name;
      o->n_accountants = 1;
    }
  else if (o->n_accountants == 0) /* all */
    {
      const dpacct_accountant_type *type;
      char first_why[1024] = "";
      for (size_t i = 0; (type = dpacct_accountant_type_at (i)) != NULL
                         && o->n_accountants < CLI_MAX_ACCOUNTANTS; i++)
        if (can_compose (o, r, type, why, sizeof why, &at) == DPACCT_OK)
          o->accountants[o->n_accountants++] = type;
        else if (first_why[0] == '\0')
          snprintf (first_why, sizeof first_why, "%s", why);
      if (o->n_accountants == 0)
        {
          out_error ("no accountant can compose this run; %s", first_why);
          return 1;
        }
    }
  if (cli_check_accountants (o))
    return 1;
  for (size_t i = 0; i < o->n_accountants; i++)
    {
      int status = can_compose (o, r, o->accountants[i], why, sizeof why,
                                &at);
      if (status != DPACCT_OK && r->listed)
        return run_error (&r->spec, &r->spec.phases[at], RUN_N_KEYS, "%s",
                          why);
      if (status != DPACCT_OK)
        {
          out_error ("%s", why);
          return 1;
        }
    }
  return 0;
}

/* ------------------------------------------------------------ the run */

static int
read_phases (const cli_options *o, run_spec *spec)
{
  if (o->run_file != NULL)
    return run_read_file (o->run_file, spec);
  for (size_t i = 0; i < o->n_phase_texts; i++)
    if (run_parse_phase (o->phase_texts[i], i + 1, spec))
      return 1;
  return 0;
}

int
cli_phases_resolve (cli_options *o, cli_phases *r)
{
  memset (r, 0, sizeof *r);
  run_spec_init (&r->spec);
  r->listed = (o->given & OPT_RUNS) != 0;
  if (r->listed && read_phases (o, &r->spec))
    return 1;
  size_t n = r->listed ? r->spec.n : 1;
  r->phases = calloc (n, sizeof *r->phases);
  if (r->phases == NULL)
    {
      out_error ("out of memory for %zu phases", n);
      return 1;
    }
  r->n = n;
  r->unknown = n;
  for (size_t i = 0; i < n; i++)
    {
      cli_phase *p = &r->phases[i];
      if (r->listed ? resolve_phase (o, &r->spec, &r->spec.phases[i], i, p)
                    : command_line_phase (o, p))
        return 1;
      if (p->unknown)
        {
          if (r->unknown != n)
            return run_error (&r->spec, &r->spec.phases[i],
                              p->laplace ? RUN_LAPLACE_SCALE
                                         : RUN_NOISE_MULTIPLIER,
                              "a second phase with noise '?': only one "
                              "phase's noise can be calibrated");
          r->unknown = i;
        }
      r->total_steps += p->run.steps;
    }
  return settle_accountants (o, r);
}
