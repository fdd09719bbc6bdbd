/* options.c - parsing and checking of dpacct's command-line options, and
 * the accountant and assumptions they describe. */
#include <config.h>

#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* What each option is called, takes and allows; used by the parser, the
 * error messages and --help alike, so they cannot disagree. */
typedef struct {
  const char *name;
  const char *meta;  /* NULL: a flag */
  const char *range; /* allowed values, as printed */
  const char *help;
} option_info;

static const option_info option_table[OPT_N] = {
  [OPT_NOISE_MULTIPLIER] = { "noise-multiplier", "S", "in (0, 1e6]",
    "noise std divided by the clipping bound C" },
  [OPT_SAMPLING_RATE] = { "sampling-rate", "Q", "in (0, 1]",
    "probability that an example is in a batch" },
  [OPT_STEPS] = { "steps", "T", "an integer in [1, 1e12]",
    "number of training steps" },
  [OPT_DELTA] = { "delta", "D", "in (0, 1)", "target delta" },
  [OPT_EPSILON] = { "epsilon", "E", "in (0, 1e6]", "target epsilon" },
  [OPT_DATASET_SIZE] = { "dataset-size", "N", "an integer in [1, 1e15]",
    "number of training examples" },
  [OPT_BATCH_SIZE] = { "batch-size", "B",
    "an integer in [1, N] (N the --dataset-size)",
    "(expected) batch size; q = B/N" },
  [OPT_EPOCHS] = { "epochs", "E", "in (0, 1e12]",
    "passes over the data; steps = ceil(E / q)" },
  [OPT_ACCOUNTANT] = { "accountant", "NAME",
    "rdp, pld, lap2, lap2-paper or all",
    "privacy accountant: pld (default), rdp, or all of them; for Laplace\n"
    "                             noise lap2 (default), lap2-paper, or all" },
  [OPT_ORDERS] = { "orders", "LIST",
    "a comma-separated list of at most 1000 orders, each in (1, 1e6]",
    "RDP orders to search (default: real orders from the library's grid); rdp only" },
  [OPT_CERTIFIED] = { "certified", NULL, "",
    "prove upper bounds with MPFR and directed rounding; Gaussian noise" },
  [OPT_NEIGHBOURING] = { "neighbouring", "REL", "add-remove or replace-one",
    "neighbouring relation (default add-remove; replace-one without replacement)" },
  [OPT_SAMPLING] = { "sampling", "SCHEME",
    "poisson, without-replacement or none (or shuffle, shuffle-once, balls-and-bins)",
    "how batches are drawn (default poisson)" },
  [OPT_FORMAT] = { "format", "FMT", "table, tsv or json",
    "output format (default table)" },
  [OPT_REL_TOL] = { "rel-tol", "X", "in [1e-9, 0.1]",
    "relative tolerance of the calibrated noise (default 1e-3)" },
  [OPT_PLD_INTERVAL] = { "pld-interval", "H", "in (0, 1]",
    "PLD loss grid interval (default: automatic, from --pld-accuracy)" },
  [OPT_PLD_ACCURACY] = { "pld-accuracy", "A", "in [1e-6, 0.5]",
    "PLD: refine until upper - lower <= A * upper (default 1e-3)" },
  [OPT_MAX_POINTS] = { "max-points", "N", "an integer in [1024, 1e12]",
    "PLD memory cap: grid points per FFT (default 4194304)" },
  [OPT_BATCH_SIZES] = { "batch-sizes", "LIST",
    "a comma-separated list of at most 256 integers in [1, N], or a range "
    "FIRST:LAST with 1 <= FIRST <= LAST <= N (N the --dataset-size)",
    "candidate batch sizes; FIRST:LAST is FIRST, 2 FIRST, 4 FIRST, ..., LAST "
    "(default 64:N)" },
  [OPT_CLIP] = { "clip", "LIST",
    "a comma-separated list of at most 64 values, each in (0, 1e6]",
    "clipping bound(s) C (default 1): a list for cumulative-noise and "
    "train, one value elsewhere" },
  [OPT_DIMENSION] = { "dimension", "D", "an integer in [1, 1e12]",
    "model dimension d: the coordinates that get Laplace noise (lap2), or "
    "for the per-step noise's norm sigma*C*sqrt(d)/B" },
  [OPT_PLATEAU_TOLERANCE] = { "plateau-tolerance", "TAU", "in [0, 10]",
    "plateau: cumulative noise within (1 + TAU) of its minimum (default 0.1)" },
  [OPT_MIN_STEPS] = { "min-steps", "T", "an integer in [1, 1e12]",
    "fewest steps a useful run takes (default 20)" },
  [OPT_OUTPUT] = { "output", "FILE",
    "a file name ending in .png, .svg, .pdf or .tsv",
    "the image to write (its extension picks the format), or its data (.tsv)" },
  [OPT_DATA] = { "data", "SET", "fashion-mnist or a CSV file",
    "training data: fashion-mnist, or FILE (label,x1,...,xd per line)" },
  [OPT_TEST_DATA] = { "test-data", "FILE", "a CSV file",
    "test data (default: the last fifth of --data FILE)" },
  [OPT_PUBLIC_SIZE] = { "public-size", "N", "an integer in [2, 1e9]",
    "examples at the start of the data that fit the features (public)" },
  [OPT_FEATURES] = { "features", "K", "an integer in [1, 4096], or raw",
    "principal components kept as features (default 256, at most d);\n"
    "                             raw: the inputs themselves (--model mlp)" },
  [OPT_CACHE_DIR] = { "cache-dir", "DIR", "a directory",
    "where fitted features are cached (default ~/.cache/dpacct)" },
  [OPT_CLIPPING] = { "clipping", "KIND", "flat, normalised or automatic",
    "per-example clipping (default flat)" },
  [OPT_LEARNING_RATE] = { "learning-rate", "LR", "in (0, 1e6]",
    "step size (default 0.5 for sgd, 0.01 for adam)" },
  [OPT_OPTIMIZER] = { "optimizer", "NAME", "sgd or adam",
    "sgd (with --momentum) or adam (default sgd)" },
  [OPT_MOMENTUM] = { "momentum", "M", "in [0, 1)",
    "SGD momentum (default 0.9)" },
  [OPT_SAMPLING_SEED] = { "sampling-seed", "S",
    "an integer in [0, 4294967295]", "seed of the Poisson sampling" },
  [OPT_NOISE_SEED] = { "noise-seed", "S", "an integer in [0, 4294967295]",
    "seed of the noise" },
  [OPT_SEED] = { "seed", "S", "an integer in [0, 4294967295]",
    "seed from which every run's seeds are derived" },
  [OPT_VARIANT] = { "variant", "NAME", "correct, half-noise or no-clipping",
    "trainer to audit: correct, or deliberately broken (default correct)" },
  [OPT_PAIRS] = { "pairs", "N", "an integer in [100, 1e7]",
    "runs with and without the canary, each (default 50000)" },
  [OPT_QUICK] = { "quick", NULL, "",
    "the small slice of the grid that make check runs" },
  [OPT_SHARD] = { "shard", "I/N", "I/N with 1 <= I <= N <= 10000",
    "run the I-th of N interleaved parts of the grid" },
  [OPT_REPORT_DIR] = { "report-dir", "DIR", "a directory",
    "write the report table, grid rows and figures there" },
  [OPT_NOISE] = { "noise", "KIND", "gaussian or laplace",
    "noise on the clipped sum (default gaussian; laplace: the\n"
    "                             scale b calibrated by lap2)" },
  [OPT_LAPLACE_SCALE] = { "laplace-scale", "B", "in (0, 1e6]",
    "Laplace noise scale b on each coordinate (lap2 accountants)" },
  [OPT_MAX_ORDER] = { "max-order", "L", "an integer in [1, 10000]",
    "largest moment order (default 2048 for lap2, 512 for lap2-paper)" },
  [OPT_MODEL] = { "model", "NAME", "head or mlp",
    "what trains: the softmax head (default) or an MLP\n"
    "                             (features -> hidden -> classes)" },
  [OPT_TRAINABLE] = { "trainable", "SET", "all, bias or head",
    "what of the MLP trains: all, the biases (DP-BiTFiT) or\n"
    "                             the last layer (default all)" },
  [OPT_HIDDEN] = { "hidden", "N", "an integer in [1, 4096]",
    "hidden units of the MLP (default 256)" },
  [OPT_TOKENS] = { "tokens", "T", "an integer in [1, 4096] dividing the features",
    "read an example as T tokens through one shared first\n"
    "                             layer (--model mlp; default 1)" },
  [OPT_PRETRAIN_EPOCHS] = { "pretrain-epochs", "E", "an integer in [0, 1000]",
    "non-private epochs on the public part before the private\n"
    "                             run (--model mlp; default 0: no warm start)" },
  [OPT_PUBLIC_CLASSES] = { "public-classes", "LIST",
    "comma-separated labels or ranges FIRST-LAST in [0, 255]",
    "the labels the warm start sees (default all; e.g. 0-4)" },
  [OPT_COMPARE_GAUSSIAN] = { "compare-gaussian", NULL, "",
    "also show the Gaussian noise (rdp) with the same epsilon, and both "
    "variances" },
  [OPT_MAX_BATCH_SIZE] = { "max-batch-size", "B",
    "an integer in [1, 1e15]",
    "Poisson batches capped at B examples (needs --dataset-size)" },
  [OPT_SAMPLER] = { "sampler", "NAME", "poisson or shuffle",
    "how the trainer draws batches (default poisson)" },
  [OPT_RUN] = { "run", "FILE", "a TSV run file, or - for standard input",
    "the run's phases, one per line (see dpacct(1), \"Runs with\n"
    "                             several phases\")" },
  [OPT_PHASE] = { "phase", "SPEC", "KEY=VALUE,... with the run file's "
    "columns as keys; at most 256 of them",
    "one phase of the run (repeat for each phase, in order)" },
  [OPT_HELP] = { "help", NULL, "", "print this help and exit" },
};

enum { LONG_OPTION_BASE = 256 };

/* ------------------------------------------------------------ messages */

static int
bad_value (cli_option_id id, const char *value)
{
  out_error ("--%s %s: must be %s", option_table[id].name,
             *value ? value : "''", option_table[id].range);
  return 1;
}

/* ------------------------------------------------------------ numbers */

/* A finite double filling all of TEXT (no blanks, no trailing junk). */
static int
parse_finite (const char *text, double *x)
{
  char *end;
  if (*text == '\0' || strchr (" \t\n\v\f\r", *text) != NULL)
    return 0;
  errno = 0;
  *x = strtod (text, &end);
  return *end == '\0' && errno == 0 && isfinite (*x);
}

static int
parse_real (cli_option_id id, const char *text, double lo, int lo_open,
            double hi, int hi_open, double *x)
{
  if (!parse_finite (text, x) || (lo_open ? *x <= lo : *x < lo)
      || (hi_open ? *x >= hi : *x > hi))
    return bad_value (id, text);
  return 0;
}

/* An integer in [MIN, MAX], written as digits or as an exact double such
 * as 1e4. */
static int
parse_integer (cli_option_id id, const char *text, uint64_t min,
               uint64_t max, uint64_t *n)
{
  if (text[0] != '\0' && strspn (text, "0123456789") == strlen (text))
    {
      errno = 0;
      unsigned long long v = strtoull (text, NULL, 10);
      if (errno != 0 || v < min || v > max)
        return bad_value (id, text);
      *n = (uint64_t) v;
      return 0;
    }
  double x;
  if (!parse_finite (text, &x) || x != floor (x) || x < (double) min
      || x > (double) max)
    return bad_value (id, text);
  *n = (uint64_t) x;
  return 0;
}

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* A comma-separated list of orders; sorted so the grid's edges are its
 * first and last entries. */
static int
parse_orders (const char *text, cli_options *o)
{
  size_t n = 0;
  const char *p = text;
  for (;;)
    {
      size_t len = strcspn (p, ",");
      char item[64];
      double x;
      if (n == CLI_MAX_ORDERS || len == 0 || len >= sizeof item)
        return bad_value (OPT_ORDERS, text);
      memcpy (item, p, len);
      item[len] = '\0';
      if (!parse_finite (item, &x) || !(x > 1) || x > 1e6)
        return bad_value (OPT_ORDERS, text);
      o->orders[n++] = x;
      if (p[len] == '\0')
        break;
      p += len + 1;
    }
  qsort (o->orders, n, sizeof o->orders[0], compare_doubles);
  o->n_orders = n;
  return 0;
}

/* ------------------------------------------------------------ names */

/* The index of TEXT in the NAMES, or -1. */
static int
lookup_name (const char *text, const char *const *names, int n)
{
  for (int i = 0; i < n; i++)
    if (strcmp (text, names[i]) == 0)
      return i;
  return -1;
}

/* Whether TYPE composes one unsampled step of Gaussian noise (LAPLACE_L2
 * 0) or of Laplace noise on an L2-clipped sum (1): asked of the library. */
static int
composes (const dpacct_accountant_type *type, int laplace_l2)
{
  dpacct_event *step = NULL;
  int status = laplace_l2 ? dpacct_event_laplace_l2_alloc (1.0, 1, &step)
                          : dpacct_event_gaussian_alloc (1.0, &step);
  int yes = status == DPACCT_OK && type != NULL
            && dpacct_accountant_explain (type, NULL, step, NULL, 0)
                   == DPACCT_OK;
  dpacct_event_free (step);
  return yes;
}

int
cli_is_lap2 (const dpacct_accountant_type *type)
{
  /* An accountant of Laplace noise on L2-clipped sums is one that
   * composes such a step and no Gaussian one. */
  return composes (type, 1) && !composes (type, 0);
}

/* "all": every accountant the library provides that composes the run's
 * kind of noise, in the library's order, known once all the options are
 * read. */
static void
select_all (cli_options *o)
{
  const dpacct_accountant_type *type;
  o->n_accountants = 0;
  for (size_t i = 0; (type = dpacct_accountant_type_at (i)) != NULL; i++)
    if (composes (type, o->laplace) && o->n_accountants < CLI_MAX_ACCOUNTANTS)
      o->accountants[o->n_accountants++] = type;
}

/* Sets the accountants of O to NAME: one the library provides, or "all"
 * of them (resolved by apply_defaults).  Returns 0, or -1 for an unknown
 * name. */
static int
select_accountants (const char *name, cli_options *o)
{
  o->n_accountants = 0;
  if (strcmp (name, "all") == 0)
    {
      o->accountant_name = "all";
      return 0;
    }
  const dpacct_accountant_type *type = dpacct_accountant_type_by_name (name);
  if (type == NULL)
    return -1;
  o->accountant_name = type->name;
  o->accountants[o->n_accountants++] = type;
  return 0;
}

static int
parse_accountant (const char *text, cli_options *o)
{
  if (select_accountants (text, o) == 0)
    return 0;
  char known[128] = "";
  const dpacct_accountant_type *type;
  for (size_t i = 0; (type = dpacct_accountant_type_at (i)) != NULL; i++)
    {
      strncat (known, type->name, sizeof known - strlen (known) - 1);
      strncat (known, ", ", sizeof known - strlen (known) - 1);
    }
  strncat (known, "all", sizeof known - strlen (known) - 1);
  out_error ("--accountant %s: unknown accountant; available: %s", text,
             known);
  return 1;
}

int
cli_takes (const cli_options *options, const char *key)
{
  for (size_t i = 0; i < options->n_accountants; i++)
    if (dpacct_accountant_type_takes (options->accountants[i], key))
      return 1;
  return 0;
}

int
cli_uses (const cli_options *options, const dpacct_accountant_type *type)
{
  for (size_t i = 0; i < options->n_accountants; i++)
    if (options->accountants[i] == type)
      return 1;
  return 0;
}

static const char *const neighbouring_names[] = { "add-remove",
                                                   "replace-one" };
static const char *const sampling_names[] = { "poisson",
                                              "without-replacement", "none",
                                              "shuffle", "shuffle-once",
                                              "balls-and-bins" };
static const char *const format_names[] = { "table", "tsv", "json" };

const char *
cli_neighbouring_name (dpacct_neighbouring neighbouring)
{
  return neighbouring_names[neighbouring == DPACCT_REPLACE_ONE];
}

const char *
cli_sampler_name (cli_sampler sampler)
{
  return sampler == CLI_SAMPLER_EVENT ? "event"
         : sampling_names[2 + (int) sampler];
}

const char *
cli_sampling_name (dpacct_sampling sampling)
{
  switch (sampling)
    {
    case DPACCT_SAMPLING_WITHOUT_REPLACEMENT:
      return sampling_names[1];
    case DPACCT_SAMPLING_NONE:
      return sampling_names[2];
    default:
      return sampling_names[0];
    }
}

static int
parse_choice (cli_option_id id, const char *text, const char *const *names,
              int n, int *choice)
{
  *choice = lookup_name (text, names, n);
  return *choice < 0 ? bad_value (id, text) : 0;
}

static int
parse_enums (cli_option_id id, const char *text, cli_options *o)
{
  int c, rc;
  switch (id)
    {
    case OPT_NEIGHBOURING:
      rc = parse_choice (id, text, neighbouring_names, 2, &c);
      o->neighbouring = c == 1 ? DPACCT_REPLACE_ONE : DPACCT_ADD_REMOVE;
      return rc;
    case OPT_SAMPLING:
      rc = parse_choice (id, text, sampling_names, 6, &c);
      o->sampler = c >= 3 ? (cli_sampler) (c - 2) : CLI_SAMPLER_EVENT;
      o->sampling = c == 1   ? DPACCT_SAMPLING_WITHOUT_REPLACEMENT
                    : c == 2 ? DPACCT_SAMPLING_NONE
                             : DPACCT_SAMPLING_POISSON;
      return rc;
    default:
      rc = parse_choice (id, text, format_names, 3, &c);
      o->format = c == 1 ? OUT_TSV : c == 2 ? OUT_JSON : OUT_TABLE;
      return rc;
    }
}

/* ------------------------------------------------------------ lists */

/* Options that only ever take lists. */
#define OPT_ALWAYS_LISTS (OPT_BIT (OPT_BATCH_SIZES) | OPT_BIT (OPT_CLIP))

static int
bad_list (cli_option_id id, const char *text)
{
  if (OPT_ALWAYS_LISTS & OPT_BIT (id))
    return bad_value (id, text);
  out_error ("--%s %s: must be a comma-separated list of at most %d values, "
             "each %s", option_table[id].name, *text ? text : "''",
             CLI_MAX_LIST, option_table[id].range);
  return 1;
}

/* One item of a list, without messages: 0 when it is in the option's
 * range. */
static int
list_item (cli_option_id id, const char *item, double *x, uint64_t *n)
{
  if (!parse_finite (item, x))
    return 1;
  switch (id)
    {
    case OPT_EPSILON:
    case OPT_CLIP:
      return !(*x > 0 && *x <= 1e6);
    case OPT_EPOCHS:
      return !(*x > 0 && *x <= 1e12);
    case OPT_STEPS:
    case OPT_BATCH_SIZES:
      if (*x != floor (*x) || *x < 1
          || *x > (id == OPT_STEPS ? (double) DPACCT_MAX_COUNT : 1e15))
        return 1;
      *n = (uint64_t) *x;
      return 0;
    default:
      return 1;
    }
}

/* A comma-separated list of the values option ID takes, into REALS or
 * COUNTS (whichever is not NULL), at most CAPACITY of them. */
static int
parse_list (cli_option_id id, const char *text, double *reals,
            uint64_t *counts, size_t capacity, size_t *n)
{
  const char *p = text;
  *n = 0;
  for (;;)
    {
      size_t len = strcspn (p, ",");
      char item[64];
      double x;
      uint64_t count = 0;
      if (*n == capacity || len == 0 || len >= sizeof item)
        return bad_list (id, text);
      memcpy (item, p, len);
      item[len] = '\0';
      if (list_item (id, item, &x, &count))
        return bad_list (id, text);
      if (reals != NULL)
        reals[*n] = x;
      else
        counts[*n] = count;
      ++*n;
      if (p[len] == '\0')
        return 0;
      p += len + 1;
    }
}

/* --batch-sizes: a list, or a range FIRST:LAST kept for cli_batch_sizes. */
static int
parse_batch_sizes (const char *text, cli_options *o)
{
  const char *colon = strchr (text, ':');
  o->batch_first = o->batch_last = 0;
  o->n_batch_sizes = 0;
  if (colon == NULL)
    return parse_list (OPT_BATCH_SIZES, text, NULL, o->batch_sizes,
                       CLI_MAX_BATCH_SIZES, &o->n_batch_sizes);
  char first[64];
  size_t len = (size_t) (colon - text);
  double x;
  if (len == 0 || len >= sizeof first)
    return bad_value (OPT_BATCH_SIZES, text);
  memcpy (first, text, len);
  first[len] = '\0';
  if (list_item (OPT_BATCH_SIZES, first, &x, &o->batch_first)
      || list_item (OPT_BATCH_SIZES, colon + 1, &x, &o->batch_last)
      || o->batch_first > o->batch_last)
    return bad_value (OPT_BATCH_SIZES, text);
  return 0;
}

/* The values of an option that COMMAND takes as a list. */
static int
parse_list_value (cli_option_id id, const char *text, cli_options *o)
{
  int rc;
  switch (id)
    {
    case OPT_EPSILON:
      rc = parse_list (id, text, o->epsilons, NULL, CLI_MAX_LIST,
                       &o->n_epsilons);
      o->epsilon = o->epsilons[0];
      return rc;
    case OPT_EPOCHS:
      rc = parse_list (id, text, o->epochs_list, NULL, CLI_MAX_LIST,
                       &o->n_epochs);
      o->epochs = o->epochs_list[0];
      return rc;
    case OPT_STEPS:
      rc = parse_list (id, text, NULL, o->steps_list, CLI_MAX_LIST,
                       &o->n_steps);
      o->steps = o->steps_list[0];
      return rc;
    case OPT_CLIP:
      rc = parse_list (id, text, o->clips, NULL, CLI_MAX_LIST, &o->n_clips);
      o->clip = o->clips[0];
      return rc;
    default:
      return parse_batch_sizes (text, o);
    }
}

int
cli_batch_sizes (cli_options *o, uint64_t dataset_size)
{
  if (o->n_batch_sizes == 0)
    {
      uint64_t first = o->batch_first, last = o->batch_last;
      if (first == 0)
        first = dataset_size < 64 ? 1 : 64, last = dataset_size;
      if (last > dataset_size)
        {
          out_error ("--batch-sizes %llu:%llu: the range must end at most at "
                     "the --dataset-size %llu", (unsigned long long) first,
                     (unsigned long long) last,
                     (unsigned long long) dataset_size);
          return 1;
        }
      int status = dpacct_plan_batch_grid (first, last, o->batch_sizes,
                                           CLI_MAX_BATCH_SIZES,
                                           &o->n_batch_sizes);
      if (status != DPACCT_OK)
        return out_library_failure (status, "the --batch-sizes range");
      return 0;
    }
  for (size_t i = 0; i < o->n_batch_sizes; i++)
    if (o->batch_sizes[i] > dataset_size)
      {
        out_error ("--batch-sizes: %llu is too large: each batch size must "
                   "be an integer in [1, %llu] (the --dataset-size)",
                   (unsigned long long) o->batch_sizes[i],
                   (unsigned long long) dataset_size);
        return 1;
      }
  return 0;
}

/* ------------------------------------------------------------ parsing */

/* ------------------------------------------------------------ trainer */

static const char *const clipping_names[] = { "flat", "normalised",
                                              "automatic" };
static const char *const optimizer_names[] = { "sgd", "adam" };
static const char *const variant_names[] = { "correct", "half-noise",
                                             "no-clipping" };
static const char *const noise_names[] = { "gaussian", "laplace" };
static const char *const model_names[] = { "head", "mlp" };
static const char *const trainable_names[] = { "all", "bias", "head" };

/* --shard I/N. */
static int
parse_shard (const char *text, cli_options *o)
{
  unsigned long long i, n;
  int used = 0;
  if (sscanf (text, "%llu/%llu%n", &i, &n, &used) != 2
      || text[used] != '\0' || !isdigit ((unsigned char) text[0])
      || i < 1 || i > n || n > 10000)
    return bad_value (OPT_SHARD, text);
  o->shard_index = i;
  o->shard_count = n;
  return 0;
}

/* --public-classes 0-4,7: labels and ranges, each label once. */
static int
parse_public_classes (const char *text, cli_options *o)
{
  unsigned char seen[256] = { 0 };
  const char *p = text;
  o->n_public_classes = 0;
  o->public_classes_text = text;
  for (;;)
    {
      char *end;
      if (!isdigit ((unsigned char) *p))
        return bad_value (OPT_PUBLIC_CLASSES, text);
      unsigned long first = strtoul (p, &end, 10), last = first;
      if (*end == '-')
        {
          p = end + 1;
          if (!isdigit ((unsigned char) *p))
            return bad_value (OPT_PUBLIC_CLASSES, text);
          last = strtoul (p, &end, 10);
        }
      if (first > last || last > 255)
        return bad_value (OPT_PUBLIC_CLASSES, text);
      for (unsigned long c = first; c <= last; c++)
        if (!seen[c])
          {
            seen[c] = 1;
            o->public_classes[o->n_public_classes++] = (unsigned) c;
          }
      if (*end == '\0')
        return 0;
      if (*end != ',')
        return bad_value (OPT_PUBLIC_CLASSES, text);
      p = end + 1;
    }
}

static int
parse_trainer_value (cli_option_id id, const char *text, cli_options *o)
{
  switch (id)
    {
    case OPT_DATA:
    case OPT_TEST_DATA:
    case OPT_CACHE_DIR:
    case OPT_REPORT_DIR:
      if (*text == '\0')
        return bad_value (id, text);
      *(id == OPT_DATA ? &o->data : id == OPT_TEST_DATA ? &o->test_data
        : id == OPT_CACHE_DIR ? &o->cache_dir : &o->report_dir) = text;
      return 0;
    case OPT_PUBLIC_SIZE:
      return parse_integer (id, text, 2, UINT64_C (1000000000),
                            &o->public_size);
    case OPT_FEATURES:
      if (strcmp (text, "raw") == 0)
        {
          o->raw_features = 1;
          o->features = 0;
          return 0;
        }
      o->raw_features = 0;
      return parse_integer (id, text, 1, 4096, &o->features);
    case OPT_CLIPPING:
      return parse_choice (id, text, clipping_names, 3, &o->clipping);
    case OPT_LEARNING_RATE:
      return parse_real (id, text, 0, 1, 1e6, 0, &o->learning_rate);
    case OPT_OPTIMIZER:
      return parse_choice (id, text, optimizer_names, 2, &o->optimizer);
    case OPT_MOMENTUM:
      return parse_real (id, text, 0, 0, 1, 1, &o->momentum);
    case OPT_SAMPLING_SEED:
      return parse_integer (id, text, 0, UINT32_MAX, &o->sampling_seed);
    case OPT_NOISE_SEED:
      return parse_integer (id, text, 0, UINT32_MAX, &o->noise_seed);
    case OPT_SEED:
      return parse_integer (id, text, 0, UINT32_MAX, &o->seed);
    case OPT_VARIANT:
      return parse_choice (id, text, variant_names, 3, &o->variant);
    case OPT_PAIRS:
      return parse_integer (id, text, 100, 10000000, &o->pairs);
    case OPT_QUICK:
      o->quick = 1;
      return 0;
    case OPT_SHARD:
      return parse_shard (text, o);
    case OPT_NOISE:
      return parse_choice (id, text, noise_names, 2, &o->noise);
    case OPT_MODEL:
      return parse_choice (id, text, model_names, 2, &o->model);
    case OPT_TRAINABLE:
      return parse_choice (id, text, trainable_names, 3, &o->trainable);
    case OPT_HIDDEN:
      return parse_integer (id, text, 1, 4096, &o->hidden);
    case OPT_TOKENS:
      return parse_integer (id, text, 1, 4096, &o->tokens);
    case OPT_PRETRAIN_EPOCHS:
      return parse_integer (id, text, 0, 1000, &o->pretrain_epochs);
    case OPT_PUBLIC_CLASSES:
      return parse_public_classes (text, o);
    default:
      return bad_value (id, text);
    }
}

const char *
cli_clipping_name (int clipping)
{
  return clipping_names[clipping >= 0 && clipping < 3 ? clipping : 0];
}

const char *
cli_optimizer_name (int optimizer)
{
  return optimizer_names[optimizer == 1];
}

const char *
cli_variant_name (int variant)
{
  return variant_names[variant >= 0 && variant < 3 ? variant : 0];
}

const char *
cli_trainable_name (int trainable)
{
  return trainable_names[trainable >= 0 && trainable < 3 ? trainable : 0];
}

const char *
cli_noise_name (int noise)
{
  return noise_names[noise == 1];
}

static int
parse_value (cli_option_id id, const char *text, cli_options *o)
{
  if ((o->lists | OPT_ALWAYS_LISTS) & OPT_BIT (id))
    return parse_list_value (id, text, o);
  switch (id)
    {
    case OPT_NOISE_MULTIPLIER:
      return parse_real (id, text, 0, 1, 1e6, 0, &o->noise_multiplier);
    case OPT_SAMPLING_RATE:
      return parse_real (id, text, 0, 1, 1, 0, &o->sampling_rate);
    case OPT_STEPS:
      return parse_integer (id, text, 1, DPACCT_MAX_COUNT, &o->steps);
    case OPT_DELTA:
      return parse_real (id, text, 0, 1, 1, 1, &o->delta);
    case OPT_EPSILON:
      return parse_real (id, text, 0, 1, 1e6, 0, &o->epsilon);
    case OPT_DATASET_SIZE:
      return parse_integer (id, text, 1, UINT64_C (1000000000000000),
                            &o->dataset_size);
    case OPT_BATCH_SIZE:
      return parse_integer (id, text, 1, UINT64_C (1000000000000000),
                            &o->batch_size);
    case OPT_EPOCHS:
      return parse_real (id, text, 0, 1, 1e12, 0, &o->epochs);
    case OPT_ACCOUNTANT:
      return parse_accountant (text, o);
    case OPT_ORDERS:
      return parse_orders (text, o);
    case OPT_REL_TOL:
      return parse_real (id, text, 1e-9, 0, 0.1, 0, &o->rel_tol);
    case OPT_PLD_INTERVAL:
      return parse_real (id, text, 0, 1, 1, 0, &o->pld_interval);
    case OPT_PLD_ACCURACY:
      return parse_real (id, text, 1e-6, 0, 0.5, 0, &o->pld_accuracy);
    case OPT_MAX_POINTS:
      return parse_integer (id, text, 1024, UINT64_C (1000000000000),
                            &o->max_points);
    case OPT_DIMENSION:
      return parse_integer (id, text, 1, DPACCT_MAX_DIMENSION, &o->dimension);
    case OPT_PLATEAU_TOLERANCE:
      return parse_real (id, text, 0, 0, 10, 0, &o->plateau_tolerance);
    case OPT_MIN_STEPS:
      return parse_integer (id, text, 1, DPACCT_MAX_COUNT, &o->min_steps);
    case OPT_OUTPUT:
      o->output = text;
      return 0;
    case OPT_LAPLACE_SCALE:
      return parse_real (id, text, 0, 1, 1e6, 0, &o->laplace_scale);
    case OPT_MAX_BATCH_SIZE:
      return parse_integer (id, text, 1, UINT64_C (1000000000000000),
                            &o->max_batch_size);
    case OPT_SAMPLER:
      {
        static const char *const names[] = { "poisson", "shuffle" };
        int c, rc = parse_choice (id, text, names, 2, &c);
        o->train_shuffle = c == 1;
        return rc;
      }
    case OPT_MAX_ORDER:
      {
        uint64_t order;
        int rc = parse_integer (id, text, 1, DPACCT_LAP2_MAX_ORDER, &order);
        o->max_order = (unsigned) order;
        return rc;
      }
    case OPT_COMPARE_GAUSSIAN:
      o->compare_gaussian = 1;
      return 0;
    case OPT_CERTIFIED:
      o->certified = 1;
      return 0;
    case OPT_RUN:
      if (*text == '\0')
        return bad_value (id, text);
      o->run_file = text;
      return 0;
    case OPT_PHASE:
      if (o->n_phase_texts == CLI_MAX_PHASE_OPTIONS)
        return bad_value (id, text);
      o->phase_texts[o->n_phase_texts++] = text;
      return 0;
    case OPT_NEIGHBOURING:
    case OPT_SAMPLING:
    case OPT_FORMAT:
      return parse_enums (id, text, o);
    default:
      return parse_trainer_value (id, text, o);
    }
}

static void
set_initial_values (cli_options *o, const char *command)
{
  memset (o, 0, sizeof *o);
  o->command = command;
  o->noise_multiplier = o->sampling_rate = o->delta = o->epsilon = NAN;
  o->epochs = NAN;
  o->laplace_scale = NAN;
  o->clip = 1.0;
  o->accountant_name = NULL; /* chosen by apply_defaults */
  o->neighbouring = DPACCT_ADD_REMOVE;
  o->sampling = DPACCT_SAMPLING_POISSON;
  o->format = OUT_TABLE;
  dpacct_calibration_options calibration;
  dpacct_calibration_options_init (&calibration);
  o->rel_tol = calibration.rel_tol;
  dpacct_accountant_options accounting;
  dpacct_accountant_options_init (&accounting);
  int64_t max_points = 0;
  dpacct_accountant_options_get_double (&accounting, "pld-interval",
                                        &o->pld_interval);
  dpacct_accountant_options_get_double (&accounting, "pld-rel-accuracy",
                                        &o->pld_accuracy);
  dpacct_accountant_options_get_int (&accounting, "pld-max-points",
                                     &max_points);
  o->max_points = (uint64_t) max_points;
  o->plateau_tolerance = DPACCT_PLAN_DEFAULT_PLATEAU_TOLERANCE;
  o->min_steps = DPACCT_PLAN_DEFAULT_MIN_STEPS;
  o->clips[0] = 1.0;
  o->n_clips = 1;
}

static void
fill_long_options (struct option *longopts)
{
  for (int i = 0; i < OPT_N; i++)
    {
      longopts[i].name = option_table[i].name;
      longopts[i].has_arg = option_table[i].meta ? required_argument
                                                 : no_argument;
      longopts[i].flag = NULL;
      longopts[i].val = LONG_OPTION_BASE + i;
    }
  memset (&longopts[OPT_N], 0, sizeof longopts[OPT_N]);
}

/* The message for getopt's '?' and ':' returns. */
static int
getopt_failure (int c, char **argv, const char *command)
{
  if (c == ':' && optopt >= LONG_OPTION_BASE)
    out_error ("--%s: missing value (must be %s)",
               option_table[optopt - LONG_OPTION_BASE].name,
               option_table[optopt - LONG_OPTION_BASE].range);
  else if (optopt > 0 && optopt < LONG_OPTION_BASE)
    out_error ("unknown option '-%c'; try 'dpacct %s --help'", optopt,
               command);
  else
    out_error ("unknown or ambiguous option '%s'; try 'dpacct %s --help'",
               argv[optind - 1], command);
  return 1;
}

/* ------------------------------------------------------------ checks */

/* The epoch samplers are accounted by the commands that take
 * --max-batch-size (their sampler options) and nowhere else. */
static int
check_sampler (const cli_options *o, cli_option_mask allowed)
{
  if (o->sampler != CLI_SAMPLER_EVENT
      && !(allowed & OPT_BIT (OPT_MAX_BATCH_SIZE)))
    {
      out_error ("--sampling %s: only epsilon, delta and cumulative-noise "
                 "account this sampler", cli_sampler_name (o->sampler));
      return 1;
    }
  return 0;
}

static int
check_contradictions (const cli_options *o)
{
  /* The rate is --sampling-rate or B/N, the length --steps or --epochs
   * (which needs B and N); --steps with B and N is a run stopped
   * mid-epoch. */
  cli_option_mask batch_form = OPT_BIT (OPT_DATASET_SIZE)
                               | OPT_BIT (OPT_BATCH_SIZE);
  if (((o->given & OPT_BIT (OPT_SAMPLING_RATE))
       && (o->given & (batch_form | OPT_BIT (OPT_EPOCHS))))
      || ((o->given & OPT_BIT (OPT_STEPS)) && (o->given & OPT_BIT (OPT_EPOCHS))))
    {
      out_error ("give the run either as --sampling-rate and --steps or as "
                 "--dataset-size, --batch-size and --epochs, not both");
      return 1;
    }
  if ((o->given & OPT_BIT (OPT_RUN)) && (o->given & OPT_BIT (OPT_PHASE)))
    {
      out_error ("give the run either as --run FILE or as --phase options, "
                 "not both");
      return 1;
    }
  if (o->sampling == DPACCT_SAMPLING_NONE
      && (o->given & OPT_BIT (OPT_SAMPLING_RATE)) && o->sampling_rate != 1)
    {
      out_error ("--sampling none: contradicts --sampling-rate %g "
                 "(without sampling the rate is 1)", o->sampling_rate);
      return 1;
    }
  if (o->sampling == DPACCT_SAMPLING_WITHOUT_REPLACEMENT
      && (o->given & OPT_BIT (OPT_NEIGHBOURING))
      && o->neighbouring == DPACCT_ADD_REMOVE)
    {
      out_error ("--sampling without-replacement: contradicts --neighbouring "
                 "add-remove (fixed-size batches imply replace-one)");
      return 1;
    }
  return 0;
}

/* Takes an absent --delta or --epsilon from DEFAULTS; NaN there means the
 * option is required. */
static int
apply_default (const cli_options *o, cli_option_mask allowed, cli_option_id id,
               double fallback, double *value)
{
  if (!(allowed & OPT_BIT (id)) || (o->given & OPT_BIT (id)))
    return 0;
  if (isnan (fallback))
    {
      out_error ("%s: --%s is required; try 'dpacct %s --help'", o->command,
                 option_table[id].name, o->command);
      return 1;
    }
  *value = fallback;
  return 0;
}

/* Laplace options with a Gaussian accountant, or the reverse, and what
 * the Lap2 accountants do not model. */
static int
check_lap2 (const cli_options *o)
{
  cli_option_mask laplace_only = OPT_BIT (OPT_LAPLACE_SCALE)
                                 | OPT_BIT (OPT_CLIP) | OPT_BIT (OPT_DIMENSION)
                                 | OPT_BIT (OPT_MAX_ORDER)
                                 | OPT_BIT (OPT_COMPARE_GAUSSIAN);
  for (size_t i = 0; i < o->n_accountants; i++)
    if (!cli_is_lap2 (o->accountants[i]))
      {
        for (int id = 0; id < OPT_N; id++)
          if ((o->given & laplace_only & OPT_BIT (id)))
            {
              out_error ("--%s applies to Laplace noise and the lap2 "
                         "accountants (the accountant is %s); add "
                         "--accountant lap2", option_table[id].name,
                         o->accountants[i]->name);
              return 1;
            }
      }
  if (o->given & OPT_BIT (OPT_NOISE_MULTIPLIER))
    {
      out_error ("--noise-multiplier applies to Gaussian noise (rdp, pld); "
                 "the %s accountant takes --laplace-scale and --clip",
                 o->accountant_name);
      return 1;
    }
  if (o->certified)
    {
      out_error ("--certified is available for Gaussian noise only (rdp, "
                 "pld; the accountant is %s)", o->accountant_name);
      return 1;
    }
  if (o->sampling == DPACCT_SAMPLING_WITHOUT_REPLACEMENT
      || o->neighbouring == DPACCT_REPLACE_ONE)
    {
      out_error ("the %s accountant accounts Poisson sampling (or none) and "
                 "add-remove neighbours only", o->accountant_name);
      return 1;
    }
  return 0;
}

const char *
cli_option_name (cli_option_id id)
{
  return option_table[id].name;
}

static int check_accountants (const cli_options *o);

int
cli_check_accountants (const cli_options *o)
{
  return check_accountants (o);
}

/* The options that are one accountant setting each, and its key: an
 * option no accountant chosen reads is refused, naming one that does. */
static const struct
{
  cli_option_id id;
  const char *key;
} setting_options[] = {
  { OPT_ORDERS, "orders" },
  { OPT_PLD_INTERVAL, "pld-interval" },
  { OPT_PLD_ACCURACY, "pld-rel-accuracy" },
  { OPT_MAX_POINTS, "pld-max-points" },
};

/* The first type the library provides that reads KEY (NULL: none). */
static const dpacct_accountant_type *
type_taking (const char *key)
{
  const dpacct_accountant_type *type;
  for (size_t i = 0; (type = dpacct_accountant_type_at (i)) != NULL; i++)
    if (dpacct_accountant_type_takes (type, key))
      return type;
  return NULL;
}

/* The first accountant chosen that cannot compose one step of Gaussian
 * noise sampled without replacement under its settings, and the first
 * type that can under replace-one, both asked of the library; 0 when
 * every one can. */
static int
sampling_refused (const cli_options *o, const dpacct_accountant_type **refuses,
                  const dpacct_accountant_type **instead)
{
  dpacct_accountant_options settings;
  dpacct_event *step = NULL;
  *refuses = *instead = NULL;
  if (o->sampling != DPACCT_SAMPLING_WITHOUT_REPLACEMENT
      || dpacct_dpsgd_event_alloc (1.0, 0.5, 1, o->sampling, &step)
             != DPACCT_OK)
    return 0;
  cli_accountant_options (o, &settings);
  for (size_t i = 0; i < o->n_accountants && *refuses == NULL; i++)
    if (!cli_is_lap2 (o->accountants[i])
        && dpacct_accountant_explain (o->accountants[i], &settings, step,
                                      NULL, 0) == DPACCT_EUNSUP)
      *refuses = o->accountants[i];
  /* Sampling without replacement is accounted under replace-one. */
  dpacct_accountant_options_set_int (&settings, "neighbouring",
                                     DPACCT_REPLACE_ONE);
  const dpacct_accountant_type *type;
  for (size_t i = 0; *refuses != NULL
                     && (type = dpacct_accountant_type_at (i)) != NULL
                     && *instead == NULL; i++)
    if (dpacct_accountant_explain (type, &settings, step, NULL, 0)
        == DPACCT_OK)
      *instead = type;
  dpacct_event_free (step);
  return *refuses != NULL && *instead != NULL;
}

/* What the accountants chosen cannot do, said before any computing. */
static int
check_accountants (const cli_options *o)
{
  const dpacct_accountant_type *refuses, *instead;
  if (sampling_refused (o, &refuses, &instead))
    {
      out_error ("the %s accountant does not support sampling without "
                 "replacement; use --accountant %s", refuses->name,
                 instead->name);
      return 1;
    }
  for (size_t i = 0; i < sizeof setting_options / sizeof setting_options[0];
       i++)
    {
      const dpacct_accountant_type *reader
        = type_taking (setting_options[i].key);
      if (!(o->given & OPT_BIT (setting_options[i].id)) || reader == NULL
          || cli_takes (o, setting_options[i].key))
        continue;
      out_error ("--%s applies to the %s accountant only (the accountant is "
                 "%s); add --accountant %s or --accountant all",
                 option_table[setting_options[i].id].name, reader->name,
                 o->accountant_name, reader->name);
      return 1;
    }
  return 0;
}

/* A Laplace run's privacy depends on the model's dimension, which has no
 * sensible default. */
static int
apply_required_dimension (const cli_options *o)
{
  if (o->given & OPT_BIT (OPT_DIMENSION))
    return 0;
  out_error ("%s: --dimension is required with the %s accountant; try "
             "'dpacct %s --help'", o->command, o->accountant_name, o->command);
  return 1;
}

/* The kind of noise: Laplace when a lap2 accountant is named or a Laplace
 * option given, then lap2 (the sound one) is the default accountant and
 * "all" means the Lap2 ones.  Conflicts between the kinds are reported
 * here, before a required-option message could mislead. */
static int
choose_noise (cli_options *o, cli_option_mask allowed)
{
  /* Commands that account Laplace runs take the order limit (and the
   * scale, unless they calibrate it); the others never switch. */
  if (!(allowed & (OPT_BIT (OPT_LAPLACE_SCALE) | OPT_BIT (OPT_MAX_ORDER))))
    {
      if (o->n_accountants == 0) /* --accountant all */
        select_all (o);
      return 0;
    }
  cli_option_mask laplace_options = OPT_BIT (OPT_LAPLACE_SCALE)
                                    | OPT_BIT (OPT_CLIP)
                                    | OPT_BIT (OPT_DIMENSION)
                                    | OPT_BIT (OPT_MAX_ORDER)
                                    | OPT_BIT (OPT_COMPARE_GAUSSIAN);
  o->laplace = (o->given & laplace_options) != 0;
  for (size_t i = 0; i < o->n_accountants; i++)
    if (cli_is_lap2 (o->accountants[i]))
      o->laplace = 1;
  if (o->laplace && !(o->given & OPT_BIT (OPT_ACCOUNTANT)))
    select_accountants ("lap2", o);
  if (o->n_accountants == 0) /* --accountant all */
    select_all (o);
  if (o->laplace && o->n_clips > 1)
    {
      out_error ("--clip: a Laplace run takes one clipping bound, not %zu",
                 o->n_clips);
      return 1;
    }
  return o->laplace && check_lap2 (o);
}

/* Runs with phases, and Laplace noise named with rdp or pld: run.c
 * settles the accountants and the noise once the phases are known. */
static int
wants_run_mode (const cli_options *o)
{
  if (o->given & OPT_RUNS)
    return 1;
  if (!(o->given & OPT_BIT (OPT_LAPLACE_SCALE))
      || (o->given & OPT_BIT (OPT_NOISE_MULTIPLIER))
      || !(o->given & OPT_BIT (OPT_ACCOUNTANT)) || o->n_accountants == 0)
    return 0;
  for (size_t i = 0; i < o->n_accountants; i++)
    if (cli_is_lap2 (o->accountants[i]))
      return 0;
  return 1;
}

static int
apply_defaults (cli_options *o, cli_option_mask allowed, const cli_defaults *d)
{
  o->run_mode = wants_run_mode (o);
  if (o->run_mode)
    {
      if (!(o->given & OPT_BIT (OPT_NEIGHBOURING))
          && o->sampling == DPACCT_SAMPLING_WITHOUT_REPLACEMENT)
        o->neighbouring = DPACCT_REPLACE_ONE;
      if (o->n_clips > 1)
        {
          out_error ("--clip: a run takes one clipping bound, not %zu",
                     o->n_clips);
          return 1;
        }
      return apply_default (o, allowed, OPT_EPSILON, d->epsilon, &o->epsilon)
             || apply_default (o, allowed, OPT_DELTA, d->delta, &o->delta);
    }
  /* PLD by default, the tight one; RDP where only it can answer (an
   * order grid, sampling without replacement) and for certified bounds,
   * which RDP proves in a fraction of a second and PLD in seconds. */
  if (!(o->given & OPT_BIT (OPT_ACCOUNTANT)))
    {
      int rdp = o->certified || (o->given & OPT_BIT (OPT_ORDERS))
                || o->sampling == DPACCT_SAMPLING_WITHOUT_REPLACEMENT;
      select_accountants (rdp ? "rdp" : "pld", o);
    }
  if (!(o->given & OPT_BIT (OPT_NEIGHBOURING))
      && o->sampling == DPACCT_SAMPLING_WITHOUT_REPLACEMENT)
    o->neighbouring = DPACCT_REPLACE_ONE;
  if (choose_noise (o, allowed))
    return 1;
  if (o->laplace)
    return apply_default (o, allowed, OPT_LAPLACE_SCALE, NAN,
                          &o->laplace_scale)
           || apply_required_dimension (o)
           || apply_default (o, allowed, OPT_EPSILON, d->epsilon, &o->epsilon)
           || apply_default (o, allowed, OPT_DELTA, d->delta, &o->delta);
  return apply_default (o, allowed, OPT_NOISE_MULTIPLIER, NAN,
                        &o->noise_multiplier)
         || apply_default (o, allowed, OPT_EPSILON, d->epsilon, &o->epsilon)
         || apply_default (o, allowed, OPT_DELTA, d->delta, &o->delta);
}

int
cli_parse (int argc, char **argv, cli_option_mask allowed,
           const cli_defaults *defaults, cli_options *options, int *help)
{
  return cli_parse_lists (argc, argv, allowed, 0, defaults, options, help);
}

int
cli_parse_lists (int argc, char **argv, cli_option_mask allowed,
                 cli_option_mask lists, const cli_defaults *defaults,
                 cli_options *options, int *help)
{
  struct option longopts[OPT_N + 1];
  int c;
  set_initial_values (options, argv[0]);
  options->lists = lists;
  fill_long_options (longopts);
  *help = 0;
  opterr = 0; /* we print our own, one-line messages */
  optind = 0; /* GNU getopt: a full restart, forgetting any earlier scan */
  /* '+': stop at the first non-option, which is then an error; ':': tell
   * a missing value from an unknown option. */
  while ((c = getopt_long (argc, argv, "+:", longopts, NULL)) != -1)
    {
      if (c < LONG_OPTION_BASE)
        return getopt_failure (c, argv, options->command);
      cli_option_id id = (cli_option_id) (c - LONG_OPTION_BASE);
      if (!(allowed & OPT_BIT (id)))
        {
          out_error ("--%s: not an option of 'dpacct %s'; try 'dpacct %s "
                     "--help'", option_table[id].name, options->command,
                     options->command);
          return 1;
        }
      if (id == OPT_HELP)
        {
          *help = 1;
          return 0;
        }
      if (parse_value (id, optarg, options))
        return 1;
      options->given |= OPT_BIT (id);
    }
  if (optind < argc)
    {
      out_error ("unexpected argument '%s'; try 'dpacct %s --help'",
                 argv[optind], options->command);
      return 1;
    }
  if (check_contradictions (options) || check_sampler (options, allowed)
      || apply_defaults (options, allowed, defaults)
      || (!options->run_mode && check_accountants (options)))
    return 1;
  /* A list option left to its default is a list of one. */
  if ((lists & OPT_BIT (OPT_EPSILON)) && options->n_epsilons == 0
      && !isnan (options->epsilon))
    options->epsilons[options->n_epsilons++] = options->epsilon;
  if ((lists & OPT_BIT (OPT_EPOCHS)) && options->n_epochs == 0)
    {
      if (!(options->given & OPT_BIT (OPT_EPOCHS)) && defaults != NULL)
        options->epochs = defaults->epochs;
      if (!isnan (options->epochs))
        options->epochs_list[options->n_epochs++] = options->epochs;
    }
  return 0;
}

/* ------------------------------------------------------------ helpers */

void
cli_accountant_options (const cli_options *options,
                        dpacct_accountant_options *out)
{
  /* The parser checked every value against the ranges the library
   * takes, so no setter refuses one. */
  dpacct_accountant_options_init (out);
  dpacct_accountant_options_set_int (out, "neighbouring",
                                     options->neighbouring);
  dpacct_accountant_options_set_int (out, "certified",
                                     options->certified != 0);
  dpacct_accountant_options_set_double (out, "pld-interval",
                                        options->pld_interval);
  dpacct_accountant_options_set_double (out, "pld-rel-accuracy",
                                        options->pld_accuracy);
  dpacct_accountant_options_set_int (out, "pld-max-points",
                                     options->max_points > INT64_MAX
                                         ? INT64_MAX
                                         : (int64_t) options->max_points);
  dpacct_accountant_options_set_int (out, "lap2-max-order",
                                     options->max_order);
  dpacct_accountant_options_set_int (out, "lap2-lower-bound",
                                     options->want_lower != 0);
  if (options->n_orders > 0)
    dpacct_accountant_options_set_doubles (out, "orders", options->orders,
                                           options->n_orders);
}

void
cli_print_help (FILE *stream, const char *command, const char *summary,
                cli_option_mask allowed)
{
  fprintf (stream, "Usage: dpacct %s [OPTION]...\n%s\n\nOptions:\n", command,
           summary);
  for (int i = 0; i < OPT_N; i++)
    {
      char left[48];
      const option_info *info = &option_table[i];
      if (!(allowed & OPT_BIT (i)))
        continue;
      snprintf (left, sizeof left, "--%s%s%s", info->name,
                info->meta ? " " : "", info->meta ? info->meta : "");
      fprintf (stream, "  %-24s %s\n", left, info->help);
      if (info->meta)
        fprintf (stream, "  %-24s   (%s)\n", "", info->range);
    }
  if (allowed & OPT_BIT (OPT_SAMPLING_RATE))
    fputs ("\nRun either as --sampling-rate Q --steps T, or as --dataset-size "
           "N\n--batch-size B --epochs E.  See dpacct(1).\n", stream);
  else
    fputs ("\nSee dpacct(1).\n", stream);
}

/* ------------------------------------------------------------ accounting */

int
cli_library_failure (const dpacct_accountant_type *type, int status,
                     const char *what)
{
  /* The accountants with a memory cap say how to lift it. */
  if (status == DPACCT_ENOMEM
      && dpacct_accountant_type_takes (type, "pld-max-points"))
    return out_library_failure_hint (status, what,
                                     "raise --max-points, or loosen "
                                     "--pld-accuracy or --pld-interval");
  return out_library_failure (status, what);
}

int
cli_account_run (const cli_options *options,
                 const dpacct_accountant_type *type, const cli_run *run,
                 double noise, dpacct_accountant **out)
{
  dpacct_accountant_options settings;
  dpacct_event *event = NULL;
  dpacct_accountant *accountant = NULL;
  cli_accountant_options (options, &settings);
  int status = cli_is_lap2 (type)
                   ? dpacct_lap2_event_alloc (noise / options->clip,
                                              options->dimension, run->q,
                                              run->steps, &event)
                   : dpacct_dpsgd_event_alloc (noise, run->q, run->steps,
                                               options->sampling, &event);
  if (status == DPACCT_OK)
    status = dpacct_accountant_alloc (type, &settings, &accountant);
  /* The event already holds all the steps, so it is composed once. */
  if (status == DPACCT_OK)
    status = dpacct_accountant_compose (accountant, event, 1);
  dpacct_event_free (event);
  if (status != DPACCT_OK)
    {
      char what[256];
      dpacct_accountant_free (accountant);
      if (cli_is_lap2 (type))
        snprintf (what, sizeof what,
                  "%s accounting of %llu %s-sampled Laplace steps (scale "
                  "%g, clip %g, dimension %llu, sampling rate %g)",
                  type->name, (unsigned long long) run->steps,
                  cli_sampling_name (options->sampling), noise,
                  options->clip, (unsigned long long) options->dimension,
                  run->q);
      else
        snprintf (what, sizeof what,
                  "%s accounting of %llu %s-sampled Gaussian steps (noise "
                  "multiplier %g, sampling rate %g, %s)",
                  type->name, (unsigned long long) run->steps,
                  cli_sampling_name (options->sampling), noise, run->q,
                  cli_neighbouring_name (options->neighbouring));
      return cli_library_failure (type, status, what);
    }
  *out = accountant;
  return 0;
}

int
cli_gaussian_for_epsilon (const cli_options *options, const cli_run *run,
                          double epsilon, double *sigma)
{
  dpacct_calibration c;
  dpacct_calibration_options calibration;
  dpacct_calibration_options_init (&calibration);
  calibration.rel_tol = options->rel_tol;
  *sigma = NAN;
  if (!(epsilon > 0.0) || !isfinite (epsilon))
    return 0; /* no Gaussian to compare with: shown as nan */
  int status = dpacct_noise_for_epsilon (
      dpacct_accountant_rdp, NULL, run->q, run->steps,
      run->q < 1.0 ? DPACCT_SAMPLING_POISSON : DPACCT_SAMPLING_NONE, epsilon,
      options->delta, &calibration, &c);
  if (status == DPACCT_ERANGE)
    return 0; /* beyond the search range: nan, not a failure */
  if (status != DPACCT_OK)
    {
      char what[128];
      snprintf (what, sizeof what, "the Gaussian noise multiplier for "
                "epsilon %g (--compare-gaussian)", epsilon);
      return out_library_failure (status, what);
    }
  *sigma = c.noise;
  return 0;
}
