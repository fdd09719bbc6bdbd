/* describe.c - the assumptions block that every accounting command
 * echoes: what was assumed, and which values were defaults. */
#include <config.h>

#include "describe.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void
cli_add_assumption (cli_assumptions *a, out_field f,
                    const cli_options *options, cli_option_id id)
{
  if (!(options->given & OPT_BIT (id)))
    f.note = "(default)";
  if (a->n < CLI_MAX_ASSUMPTIONS)
    a->fields[a->n++] = f;
}

static void
describe_steps (const cli_options *o, const cli_run *run, cli_assumptions *a)
{
  out_field steps = out_count ("steps", "steps", run->steps);
  if (!run->from_epochs)
    {
      steps.note = "(given)";
      a->fields[a->n++] = out_text ("steps_from", NULL, "steps");
      if (run->from_batch)
        {
          a->fields[a->n++] = out_count ("dataset_size", "dataset size N",
                                         run->dataset_size);
          a->fields[a->n++] = out_count ("batch_size", "batch size B (q = B/N)",
                                         run->batch_size);
        }
      a->fields[a->n++] = steps;
      return;
    }
  steps.note = "(= ceil(epochs / q), rounded up)";
  a->fields[a->n++] = out_text ("steps_from", NULL, "epochs");
  cli_add_assumption (a, out_count ("dataset_size", "dataset size N",
                                    run->dataset_size), o, OPT_DATASET_SIZE);
  cli_add_assumption (a, out_count ("batch_size", "batch size B",
                                    run->batch_size), o, OPT_BATCH_SIZE);
  cli_add_assumption (a, out_real ("epochs", "epochs", OUT_REAL,
                                   run->epochs), o, OPT_EPOCHS);
  a->fields[a->n++] = steps;
}

/* The PLD grid: interval (NaN, shown "automatic", when chosen from the
 * accuracy), accuracy and memory cap. */
static void
describe_pld (const cli_options *o, cli_assumptions *a)
{
  out_field interval = out_real ("pld_interval", "PLD grid interval",
                                 OUT_REAL, o->pld_interval);
  if (!(o->pld_interval > 0))
    {
      interval.real = NAN;
      interval.text = "automatic";
    }
  cli_add_assumption (a, interval, o, OPT_PLD_INTERVAL);
  cli_add_assumption (a, out_real ("pld_accuracy", "PLD relative accuracy",
                                   OUT_REAL, o->pld_accuracy),
                      o, OPT_PLD_ACCURACY);
  cli_add_assumption (a, out_count ("max_points", "PLD max grid points",
                                    o->max_points), o, OPT_MAX_POINTS);
}

/* Laplace scale (WITH_NOISE), clip, dimension, largest moment order. */
static void
describe_laplace (const cli_options *o, int with_noise, cli_assumptions *a)
{
  if (with_noise)
    a->fields[a->n++] = out_real ("laplace_scale",
                                  "Laplace scale b",
                                  OUT_REAL, o->laplace_scale);
  cli_add_assumption (a, out_real ("clip", "L2 clip C", OUT_REAL, o->clip), o,
                      OPT_CLIP);
  a->fields[a->n++] = out_count ("dimension", "dimension n", o->dimension);
  out_field order = out_count ("max_order", "largest moment order",
                               o->max_order);
  if (o->max_order == 0)
    {
      /* Each accountant's own default, as the library states it. */
      const char *key = "lap2-max-order";
      size_t used = 0;
      a->max_orders[0] = '\0';
      for (size_t i = 0; i < o->n_accountants; i++)
        if (dpacct_accountant_type_takes (o->accountants[i], key)
            && used < sizeof a->max_orders)
          {
            int n = snprintf (a->max_orders + used,
                              sizeof a->max_orders - used, "%s%.0f (%s)",
                              used ? ", " : "",
                              dpacct_accountant_type_default (
                                  o->accountants[i], key),
                              o->accountants[i]->name);
            used += n > 0 ? (size_t) n : 0;
          }
      order.real = NAN;
      if (used == 0)
        return; /* no accountant here has moment orders */
      if (o->n_accountants == 1)
        order.count = (uint64_t) dpacct_accountant_type_default (
            o->accountants[0], key);
      else
        {
          order.kind = OUT_TEXT;
          order.text = a->max_orders;
        }
    }
  cli_add_assumption (a, order, o, OPT_MAX_ORDER);
}

/* The assumptions' first field: the accountant, with the list of those
 * that answer when there are several (or when LIST_ALL and "all" was
 * asked), or "(default)" when none was named. */
static void
describe_accountant (const cli_options *o, int list_all, cli_assumptions *a)
{
  out_field accountant = out_text ("accountant", "accountant",
                                   o->accountant_name);
  a->accountants[0] = '\0';
  if (o->n_accountants > 1
      || (list_all && strcmp (o->accountant_name, "all") == 0))
    {
      for (size_t i = 0; i < o->n_accountants; i++)
        {
          size_t used = strlen (a->accountants);
          snprintf (a->accountants + used, sizeof a->accountants - used,
                    "%s%s", i ? ", " : "(", o->accountants[i]->name);
        }
      strncat (a->accountants, ")",
               sizeof a->accountants - strlen (a->accountants) - 1);
      accountant.note = a->accountants;
    }
  else if (!(o->given & OPT_BIT (OPT_ACCOUNTANT)))
    accountant.note = "(default)";
  a->fields[a->n++] = accountant;
}

/* The accountants' settings: the orders where one reads them, whether
 * upper bounds are certified, and the PLD grid where one reads it. */
static void
describe_settings (const cli_options *o, cli_assumptions *a)
{
  if (cli_takes (o, "orders"))
    {
      cli_orders_text (o, a->orders, sizeof a->orders);
      a->fields[a->n++] = out_text ("orders", "RDP orders", a->orders);
    }
  a->fields[a->n++] = out_text ("certified", "certified upper bounds",
                                o->certified ? "yes" : "no");
  if (cli_takes (o, "pld-rel-accuracy"))
    describe_pld (o, a);
}

void
cli_describe_run (const cli_options *o, const cli_run *run, int with_noise,
                  cli_assumptions *a)
{
  a->n = 0;
  describe_accountant (o, 0, a);
  a->fields[a->n++] = out_text ("mechanism", "mechanism",
                                o->laplace ? "laplace-l2" : "gaussian");
  if (with_noise && !o->laplace)
    a->fields[a->n++] = out_real ("noise_multiplier",
                                  "noise multiplier (std / C)", OUT_REAL,
                                  o->noise_multiplier);
  if (o->laplace)
    describe_laplace (o, with_noise, a);
  a->fields[a->n++] = out_text ("sampling", "sampling",
                                cli_sampling_name (o->sampling));
  a->fields[a->n++] = out_real ("sampling_rate", "sampling rate q", OUT_REAL,
                                run->q);
  cli_add_assumption (a, out_text ("neighbouring", "neighbouring relation",
                                   cli_neighbouring_name (o->neighbouring)),
                      o, OPT_NEIGHBOURING);
  describe_steps (o, run, a);
  describe_settings (o, a);
}

void
cli_orders_text (const cli_options *options, char *buf, size_t size)
{
  if (options->n_orders == 0)
    {
      const double *orders;
      size_t n;
      dpacct_rdp_default_orders (&orders, &n);
      /* Certified bounds and sampling without replacement stay on the
       * grid's integer orders (see dpacct(1)). */
      if (options->certified
          || options->sampling == DPACCT_SAMPLING_WITHOUT_REPLACEMENT)
        snprintf (buf, size, "default grid (%zu orders)", n);
      else
        snprintf (buf, size, "real orders 1.001 to 1e6 (from the default "
                  "grid of %zu)", n);
      return;
    }
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < options->n_orders && used + 1 < size; i++)
    {
      int w = snprintf (buf + used, size - used, "%s%g", i ? "," : "",
                        options->orders[i]);
      if (w < 0 || (size_t) w >= size - used)
        {
          snprintf (buf + used, size - used, ",...");
          break;
        }
      used += (size_t) w;
    }
}

void
cli_describe_phases (const cli_options *o, const cli_phases *r,
                     cli_assumptions *a)
{
  a->n = 0;
  describe_accountant (o, 1, a);
  a->fields[a->n++] = out_text ("run", "run", r->listed ? r->spec.source
                                                        : "command line");
  a->fields[a->n++] = out_count ("phases", "phases", r->n);
  a->fields[a->n++] = out_count ("steps", "steps (all phases)",
                                 r->total_steps);
  cli_add_assumption (a, out_text ("neighbouring", "neighbouring relation",
                                   cli_neighbouring_name (o->neighbouring)),
                      o, OPT_NEIGHBOURING);
  describe_settings (o, a);
}
