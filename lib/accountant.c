/* accountant.c - the accountant protocol: dispatch to a type's functions,
 * argument checks shared by every type, and the atomic compose. */
#include "dpacct/accountant.h"
#include "internal.h"

#include <math.h>
#include <mpfr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dpacct_accountant
{
  const dpacct_accountant_type *type;
  void *state;
};

/* ---- settings by key ------------------------------------------------- */

/* What dpacct_accountant_options holds: the values set, each under its
 * setting's key; unset keys read as their defaults. */
typedef struct
{
  const dpacct_setting *setting;
  union
  {
    int64_t i;
    double d;
    struct
    {
      const double *values;
      size_t n;
    } list;
  } value;
} slot;

enum { MAX_SLOTS = 15 };

typedef struct
{
  size_t n;
  slot slots[MAX_SLOTS];
} settings_held;

_Static_assert (sizeof (settings_held) <= sizeof (dpacct_accountant_options),
                "dpacct_accountant_options has room for the settings held");

/* Read by every type. */
static const dpacct_setting common_settings[] = {
  { "neighbouring", DPACCT_SETTING_INT, DPACCT_ADD_REMOVE, DPACCT_REPLACE_ONE,
    DPACCT_ADD_REMOVE },
  { "certified", DPACCT_SETTING_INT, 0, 1, 0 },
  { "upper-only", DPACCT_SETTING_INT, 0, 1, 0 },
};
enum { N_COMMON = sizeof common_settings / sizeof common_settings[0] };

/* Every type, in the order "all" reports them. */
static const dpacct_accountant_type *const *const known_types[] = {
  &dpacct_accountant_rdp,
  &dpacct_accountant_pld,
  &dpacct_accountant_lap2,
  &dpacct_accountant_lap2_paper,
};
enum { N_KNOWN_TYPES = sizeof known_types / sizeof known_types[0] };

const dpacct_accountant_type *
dpacct_accountant_type_at (size_t i)
{
  return i < N_KNOWN_TYPES ? *known_types[i] : NULL;
}

/* The types with a fast path for calibration (internal.h). */
static const struct
{
  const dpacct_accountant_type *const *type;
  const dpacct_fixed_run_hook *hook;
} fixed_run_hooks[] = {
  { &dpacct_accountant_pld, &dpacct_pld_fixed_run },
};

const dpacct_fixed_run_hook *
dpacct_accountant_fixed_run (const dpacct_accountant_type *type)
{
  for (size_t i = 0; i < sizeof fixed_run_hooks / sizeof *fixed_run_hooks;
       i++)
    if (*fixed_run_hooks[i].type == type)
      return fixed_run_hooks[i].hook;
  return NULL;
}

static const dpacct_setting *
setting_in (const dpacct_setting *table, size_t n, const char *key)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp (table[i].key, key) == 0)
      return &table[i];
  return NULL;
}

/* The setting named KEY: a common one or one a type declares. */
static const dpacct_setting *
find_setting (const char *key)
{
  if (key == NULL)
    return NULL;
  const dpacct_setting *found = setting_in (common_settings, N_COMMON, key);
  for (size_t t = 0; found == NULL && t < N_KNOWN_TYPES; t++)
    found = setting_in ((*known_types[t])->settings,
                        (*known_types[t])->n_settings, key);
  return found;
}

int
dpacct_accountant_type_takes (const dpacct_accountant_type *type,
                              const char *key)
{
  return type != NULL && key != NULL
         && (setting_in (common_settings, N_COMMON, key) != NULL
             || setting_in (type->settings, type->n_settings, key) != NULL);
}

double
dpacct_accountant_type_default (const dpacct_accountant_type *type,
                                const char *key)
{
  if (type == NULL || key == NULL)
    return NAN;
  const dpacct_setting *s = setting_in (common_settings, N_COMMON, key);
  if (s == NULL)
    s = setting_in (type->settings, type->n_settings, key);
  return s != NULL ? s->default_value : NAN;
}

const dpacct_accountant_type *
dpacct_accountant_type_proved (const dpacct_accountant_type *type)
{
  return type == dpacct_accountant_lap2_paper ? dpacct_accountant_lap2 : type;
}

void
dpacct_accountant_options_init (dpacct_accountant_options *options)
{
  memset (options, 0, sizeof *options);
}

/* The slot of KEY's setting in OPTIONS, a new one if ADD, or NULL; the
 * setting, checked to be of KIND, in *SETTING. */
static int
slot_for (const dpacct_accountant_options *options, const char *key,
          dpacct_setting_kind kind, int add, const dpacct_setting **setting,
          slot **out)
{
  *out = NULL;
  if (options == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL accountant options");
  *setting = find_setting (key);
  if (*setting == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "no accountant reads this setting");
  if ((*setting)->kind != kind)
    return DPACCT_FAIL (DPACCT_EINVAL, "setting of another kind");
  settings_held *held = (settings_held *) (void *) options;
  if (held->n > MAX_SLOTS)
    return DPACCT_FAIL (DPACCT_EINVAL, "accountant options not initialised "
                        "(dpacct_accountant_options_init)");
  for (size_t i = 0; i < held->n; i++)
    if (held->slots[i].setting == *setting)
      {
        *out = &held->slots[i];
        return DPACCT_OK;
      }
  if (!add)
    return DPACCT_OK;
  if (held->n == MAX_SLOTS)
    return DPACCT_FAIL (DPACCT_ENOMEM, "too many accountant settings");
  *out = &held->slots[held->n++];
  (*out)->setting = *setting;
  return DPACCT_OK;
}

/* DPACCT_OK, or DPACCT_EDOM with a message naming the key and its range
 * (in a per-thread buffer: the handler sees it during the call). */
static int
in_range (const dpacct_setting *setting, double x)
{
  static _Thread_local char message[160];
  if (x >= setting->min && x <= setting->max)
    return DPACCT_OK;
  snprintf (message, sizeof message, "accountant setting %s must be in "
            "[%.17g, %.17g]", setting->key, setting->min, setting->max);
  return DPACCT_FAIL (DPACCT_EDOM, message);
}

int
dpacct_accountant_options_set_int (dpacct_accountant_options *options,
                                   const char *key, int64_t value)
{
  const dpacct_setting *setting;
  slot *sl;
  int status = slot_for (options, key, DPACCT_SETTING_INT, 0, &setting, &sl);
  if (status != DPACCT_OK)
    return status;
  if ((status = in_range (setting, (double) value)) != DPACCT_OK)
    return status;
  if (sl == NULL
      && (status = slot_for (options, key, DPACCT_SETTING_INT, 1, &setting,
                             &sl)) != DPACCT_OK)
    return status;
  sl->value.i = value;
  return DPACCT_OK;
}

int
dpacct_accountant_options_set_double (dpacct_accountant_options *options,
                                      const char *key, double value)
{
  const dpacct_setting *setting;
  slot *sl;
  int status = slot_for (options, key, DPACCT_SETTING_DOUBLE, 0, &setting,
                         &sl);
  if (status != DPACCT_OK)
    return status;
  if ((status = in_range (setting, value)) != DPACCT_OK)
    return status;
  if (sl == NULL
      && (status = slot_for (options, key, DPACCT_SETTING_DOUBLE, 1, &setting,
                             &sl)) != DPACCT_OK)
    return status;
  sl->value.d = value;
  return DPACCT_OK;
}

int
dpacct_accountant_options_set_doubles (dpacct_accountant_options *options,
                                       const char *key, const double *values,
                                       size_t n)
{
  const dpacct_setting *setting;
  slot *sl;
  int status = slot_for (options, key, DPACCT_SETTING_DOUBLES, 0, &setting,
                         &sl);
  if (status != DPACCT_OK)
    return status;
  if (values == NULL || n == 0 || n > 100000)
    return DPACCT_FAIL (DPACCT_EDOM, "an accountant list setting takes 1 "
                        "to 100000 values");
  for (size_t i = 0; i < n; i++)
    if ((status = in_range (setting, values[i])) != DPACCT_OK)
      return status;
  if (sl == NULL
      && (status = slot_for (options, key, DPACCT_SETTING_DOUBLES, 1,
                             &setting, &sl)) != DPACCT_OK)
    return status;
  sl->value.list.values = values;
  sl->value.list.n = n;
  return DPACCT_OK;
}

int
dpacct_accountant_options_get_int (const dpacct_accountant_options *options,
                                   const char *key, int64_t *value)
{
  const dpacct_setting *setting;
  slot *sl;
  int status = slot_for (options, key, DPACCT_SETTING_INT, 0, &setting, &sl);
  if (status == DPACCT_OK)
    *value = sl != NULL ? sl->value.i : (int64_t) setting->default_value;
  return status;
}

int
dpacct_accountant_options_get_double (const dpacct_accountant_options *options,
                                      const char *key, double *value)
{
  const dpacct_setting *setting;
  slot *sl;
  int status = slot_for (options, key, DPACCT_SETTING_DOUBLE, 0, &setting,
                         &sl);
  if (status == DPACCT_OK)
    *value = sl != NULL ? sl->value.d : setting->default_value;
  return status;
}

int
dpacct_accountant_options_get_doubles (
    const dpacct_accountant_options *options, const char *key,
    const double **values, size_t *n)
{
  const dpacct_setting *setting;
  slot *sl;
  int status = slot_for (options, key, DPACCT_SETTING_DOUBLES, 0, &setting,
                         &sl);
  *values = status == DPACCT_OK && sl != NULL ? sl->value.list.values : NULL;
  *n = status == DPACCT_OK && sl != NULL ? sl->value.list.n : 0;
  return status;
}

int
dpacct_accountant_options_is_set (const dpacct_accountant_options *options,
                                  const char *key)
{
  const dpacct_setting *setting = find_setting (key);
  const settings_held *held = (const settings_held *) (const void *) options;
  for (size_t i = 0; options != NULL && setting != NULL && i < held->n
                     && i < MAX_SLOTS; i++)
    if (held->slots[i].setting == setting)
      return 1;
  return 0;
}

int64_t
dpacct_options_int (const dpacct_accountant_options *options, const char *key)
{
  int64_t value = 0;
  dpacct_accountant_options_get_int (options, key, &value);
  return value;
}

double
dpacct_options_double (const dpacct_accountant_options *options,
                       const char *key)
{
  double value = NAN;
  dpacct_accountant_options_get_double (options, key, &value);
  return value;
}

/* ---- types ------------------------------------------------------------- */

const dpacct_accountant_type *
dpacct_accountant_type_by_name (const char *name)
{
  if (name == NULL)
    return NULL;
  for (size_t i = 0; i < N_KNOWN_TYPES; i++)
    if (strcmp ((*known_types[i])->name, name) == 0)
      return *known_types[i];
  return NULL;
}

int
dpacct_accountant_alloc (const dpacct_accountant_type *type,
                         const dpacct_accountant_options *options,
                         dpacct_accountant **out)
{
  if (out == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL output pointer");
  *out = NULL;
  if (type == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL accountant type");
  dpacct_accountant_options defaults;
  if (options == NULL)
    {
      dpacct_accountant_options_init (&defaults);
      options = &defaults;
    }
  if (((const settings_held *) (const void *) options)->n > MAX_SLOTS)
    return DPACCT_FAIL (DPACCT_EINVAL, "accountant options not initialised "
                        "(dpacct_accountant_options_init)");
  dpacct_accountant *acc = malloc (sizeof *acc);
  void *state = calloc (1, type->state_size);
  if (acc == NULL || state == NULL)
    {
      free (acc);
      free (state);
      return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate an accountant");
    }
  int status = type->init (state, options);
  if (status != DPACCT_OK)
    {
      free (state);
      free (acc);
      return status;
    }
  acc->type = type;
  acc->state = state;
  *out = acc;
  return DPACCT_OK;
}

void
dpacct_accountant_free (dpacct_accountant *accountant)
{
  if (accountant == NULL)
    return;
  accountant->type->release (accountant->state);
  free (accountant->state);
  free (accountant);
}

int
dpacct_accountant_copy (const dpacct_accountant *accountant,
                        dpacct_accountant **out)
{
  if (out == NULL || accountant == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL accountant");
  *out = NULL;
  dpacct_accountant *acc = malloc (sizeof *acc);
  void *state = calloc (1, accountant->type->state_size);
  if (acc == NULL || state == NULL)
    {
      free (acc);
      free (state);
      return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate an accountant");
    }
  int status = accountant->type->copy (state, accountant->state);
  if (status != DPACCT_OK)
    {
      free (state);
      free (acc);
      return status;
    }
  acc->type = accountant->type;
  acc->state = state;
  *out = acc;
  return DPACCT_OK;
}

const char *
dpacct_accountant_name (const dpacct_accountant *accountant)
{
  return accountant->type->name;
}

int
dpacct_accountant_supports (const dpacct_accountant *accountant,
                            const dpacct_event *event)
{
  if (accountant == NULL || event == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL accountant or event");
  return accountant->type->supports (accountant->state, event);
}

/* MPFR keeps per-thread caches of constants (log 2, pi) that are lost
 * when a thread ends; the certified paths use MPFR, so a call leaves
 * none behind.  Freeing empty caches costs next to nothing. */
static int
without_mpfr_caches (int status)
{
  mpfr_free_cache2 (MPFR_FREE_LOCAL_CACHE);
  return status;
}

int
dpacct_accountant_compose (dpacct_accountant *accountant,
                           const dpacct_event *event, uint64_t count)
{
  if (accountant == NULL || event == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL accountant or event");
  if (count < 1 || count > DPACCT_MAX_COUNT)
    return DPACCT_FAIL (DPACCT_EDOM, "count must be in [1, 10^12]");
  return without_mpfr_caches (accountant->type->compose (accountant->state,
                                                         event, count));
}

static void
bound_unknown (dpacct_bound *out)
{
  out->lower = NAN;
  out->upper = NAN;
  out->certified = 0;
  out->order = NAN;
  out->order_at_edge = 0;
  out->limit = DPACCT_PLD_LIMIT_NONE;
}

int
dpacct_accountant_epsilon (const dpacct_accountant *accountant, double delta,
                           dpacct_bound *out)
{
  if (out == NULL || accountant == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL accountant or output");
  bound_unknown (out);
  if (!(delta > 0.0 && delta < 1.0))
    return DPACCT_FAIL (DPACCT_EDOM, "delta must be in (0, 1)");
  return without_mpfr_caches (accountant->type->epsilon (accountant->state,
                                                         delta, out));
}

int
dpacct_accountant_epsilon_split (const dpacct_accountant *accountant,
                                 double delta_upper, double delta_lower,
                                 dpacct_bound *out)
{
  if (out == NULL || accountant == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL accountant or output");
  bound_unknown (out);
  if (!(delta_upper > 0.0 && delta_upper <= delta_lower && delta_lower < 1.0))
    return DPACCT_FAIL (DPACCT_EDOM, "deltas must satisfy 0 < delta_upper "
                                     "<= delta_lower < 1");
  if (accountant->type->epsilon_split != NULL)
    return without_mpfr_caches (accountant->type->epsilon_split (
        accountant->state, delta_upper, delta_lower, out));
  dpacct_bound at_lower;
  int status = dpacct_accountant_epsilon (accountant, delta_upper, out);
  if (status == DPACCT_OK && delta_lower != delta_upper)
    status = dpacct_accountant_epsilon (accountant, delta_lower, &at_lower);
  if (status == DPACCT_OK && delta_lower != delta_upper)
    out->lower = at_lower.lower;
  if (status != DPACCT_OK)
    bound_unknown (out);
  return status;
}

int
dpacct_accountant_delta (const dpacct_accountant *accountant, double epsilon,
                         dpacct_bound *out)
{
  if (out == NULL || accountant == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL accountant or output");
  bound_unknown (out);
  if (!(epsilon >= 0.0) || !isfinite (epsilon))
    return DPACCT_FAIL (DPACCT_EDOM, "epsilon must be finite and >= 0");
  return without_mpfr_caches (accountant->type->delta (accountant->state,
                                                       epsilon, out));
}

/* ---- can it, and why not ---------------------------------------------- */

/* ACC's own check of one leaf, for dpacct_event_leaves_check. */
static int
type_supports_leaf (const void *acc, const dpacct_leaf *leaf)
{
  const dpacct_accountant *a = acc;
  return a->type->supports (a->state, leaf->event);
}

/* The first leaf (a mechanism, with its sampling) of E that ACC cannot
 * compose, or NULL. */
static const dpacct_event *
first_unsupported (const dpacct_accountant *acc, const dpacct_event *e)
{
  const dpacct_event *first = NULL;
  if (dpacct_event_leaves_check (e, type_supports_leaf, acc, &first)
      != DPACCT_OK && first == NULL)
    first = e; /* the walk itself refused it (a count past the limit) */
  return first;
}

/* "Gaussian noise", "Laplace noise on an L2-clipped sum in 10
 * dimensions", ..., with its sampling, in BUF. */
static void
describe_leaf (const dpacct_event *leaf, char *buf, size_t size)
{
  dpacct_event_kind kind = dpacct_event_get_kind (leaf);
  const dpacct_event *mech = leaf;
  const char *sampling = "";
  if (kind == DPACCT_EVENT_POISSON_SAMPLED)
    sampling = ", Poisson-sampled", mech = dpacct_event_get_child (leaf, 0);
  else if (kind == DPACCT_EVENT_SAMPLED_WITHOUT_REPLACEMENT)
    sampling = " sampled without replacement",
    mech = dpacct_event_get_child (leaf, 0);
  switch (dpacct_event_get_kind (mech))
    {
    case DPACCT_EVENT_GAUSSIAN:
      snprintf (buf, size, "Gaussian noise%s", sampling);
      break;
    case DPACCT_EVENT_LAPLACE:
      snprintf (buf, size, "Laplace noise on an L1-clipped sum%s", sampling);
      break;
    case DPACCT_EVENT_LAPLACE_L2:
      snprintf (buf, size, "Laplace noise on an L2-clipped sum in %llu "
                "dimensions%s",
                (unsigned long long) dpacct_event_get_dimension (mech),
                sampling);
      break;
    default:
      snprintf (buf, size, "this event");
    }
}

int
dpacct_accountant_explain (const dpacct_accountant_type *type,
                           const dpacct_accountant_options *options,
                           const dpacct_event *event, char *why, size_t size)
{
  dpacct_accountant *acc = NULL;
  char leaf_text[160];
  if (why != NULL && size > 0)
    why[0] = '\0';
  if (event == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL event");
  int status = dpacct_accountant_alloc (type, options, &acc);
  if (status != DPACCT_OK)
    {
      if (why != NULL && size > 0)
        snprintf (why, size, "the %s accountant does not take these "
                  "settings", type != NULL ? type->name : "(NULL)");
      return status;
    }
  const dpacct_event *leaf = first_unsupported (acc, event);
  if (leaf == NULL)
    {
      dpacct_accountant_free (acc);
      return DPACCT_OK;
    }
  if (why != NULL && size > 0)
    {
      dpacct_accountant_options defaults;
      if (options == NULL)
        {
          dpacct_accountant_options_init (&defaults);
          options = &defaults;
        }
      describe_leaf (leaf, leaf_text, sizeof leaf_text);
      snprintf (why, size, "the %s accountant cannot account %s (%s "
                "neighbours%s)", type->name, leaf_text,
                dpacct_options_int (options, "neighbouring")
                        == DPACCT_REPLACE_ONE
                    ? "replace-one" : "add/remove",
                dpacct_options_int (options, "certified") ? ", certified"
                                                          : "");
    }
  dpacct_accountant_free (acc);
  return DPACCT_EUNSUP;
}
