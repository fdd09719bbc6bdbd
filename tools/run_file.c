/* run_file.c - reading the phases of a run from a TSV file or from
 * --phase options, with messages that point at the line and column. */
#include <config.h>

#include "run_file.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

typedef enum { KEY_REAL, KEY_INTEGER, KEY_NOISE, KEY_SAMPLING, KEY_TEXT }
key_kind;

/* Each key's values: the same ranges as the long option of that name
 * (options.c), and for the noise also '?'. */
typedef struct {
  const char *name;
  key_kind kind;
  double min, max;   /* reals: (min, max]; integers: [min, max] */
  const char *range; /* as printed */
} key_info;

static const key_info keys[RUN_N_KEYS] = {
  [RUN_STEPS] = { "steps", KEY_INTEGER, 1, 1e12, "an integer in [1, 1e12]" },
  [RUN_EPOCHS] = { "epochs", KEY_REAL, 0, 1e12, "in (0, 1e12]" },
  [RUN_NOISE_MULTIPLIER] = { "noise-multiplier", KEY_NOISE, 0, 1e6,
                             "in (0, 1e6], or ? (noise-for-epsilon)" },
  [RUN_LAPLACE_SCALE] = { "laplace-scale", KEY_NOISE, 0, 1e6,
                          "in (0, 1e6], or ? (noise-for-epsilon)" },
  [RUN_SAMPLING_RATE] = { "sampling-rate", KEY_REAL, 0, 1, "in (0, 1]" },
  [RUN_BATCH_SIZE] = { "batch-size", KEY_INTEGER, 1, 1e15,
                       "an integer in [1, 1e15]" },
  [RUN_DATASET_SIZE] = { "dataset-size", KEY_INTEGER, 1, 1e15,
                         "an integer in [1, 1e15]" },
  [RUN_SAMPLING] = { "sampling", KEY_SAMPLING, 0, 0,
                     "poisson, without-replacement or none" },
  [RUN_CLIP] = { "clip", KEY_REAL, 0, 1e6, "in (0, 1e6]" },
  [RUN_DIMENSION] = { "dimension", KEY_INTEGER, 1, 1e12,
                      "an integer in [1, 1e12]" },
  [RUN_NAME] = { "name", KEY_TEXT, 0, RUN_MAX_NAME - 1,
                 "at most 63 bytes of printable text" },
};

/* Keys that exclude each other within one phase. */
static const run_key exclusive[][2] = {
  { RUN_STEPS, RUN_EPOCHS },
  { RUN_NOISE_MULTIPLIER, RUN_LAPLACE_SCALE },
  { RUN_SAMPLING_RATE, RUN_BATCH_SIZE },
};

const char *
run_key_name (run_key key)
{
  return key < RUN_N_KEYS ? keys[key].name : "phase";
}

void
run_spec_init (run_spec *spec)
{
  memset (spec, 0, sizeof *spec);
}

void
run_spec_free (run_spec *spec)
{
  free (spec->phases);
  run_spec_init (spec);
}

int
run_error (const run_spec *spec, const run_phase *phase, run_key key,
           const char *format, ...)
{
  char message[1024];
  va_list ap;
  va_start (ap, format);
  vsnprintf (message, sizeof message, format, ap);
  va_end (ap);
  unsigned long column = key < RUN_N_KEYS ? phase->column[key] : 1;
  if (column == 0)
    column = 1;
  if (spec->from_options)
    out_error ("--phase %lu, column %lu: %s", phase->line, column, message);
  else
    out_error ("%s:%lu:%lu: %s", spec->source, phase->line, column, message);
  return 1;
}

/* ------------------------------------------------------------ values */

/* A finite number filling all of TEXT. */
static int
parse_number (const char *text, double *x)
{
  char *end;
  if (*text == '\0' || strchr (" \t\n\v\f\r", *text) != NULL)
    return 0;
  errno = 0;
  *x = strtod (text, &end);
  return *end == '\0' && errno == 0 && isfinite (*x);
}

static const char *const sampling_names[] = { "poisson",
                                              "without-replacement", "none" };
static const dpacct_sampling samplings[] = {
  DPACCT_SAMPLING_POISSON, DPACCT_SAMPLING_WITHOUT_REPLACEMENT,
  DPACCT_SAMPLING_NONE
};

/* Stores VALUE (NUL-terminated) as KEY of PHASE; 0, or 1 when it is out
 * of range. */
static int
store_value (run_phase *p, run_key key, const char *value)
{
  const key_info *k = &keys[key];
  double x = NAN;
  switch (k->kind)
    {
    case KEY_TEXT:
      if (strlen (value) > (size_t) k->max)
        return 1;
      for (const unsigned char *c = (const unsigned char *) value; *c; c++)
        if (*c < 0x20 || *c == 0x7f)
          return 1;
      strcpy (p->name, value);
      return 0;
    case KEY_SAMPLING:
      for (size_t i = 0; i < 3; i++)
        if (strcmp (value, sampling_names[i]) == 0)
          {
            p->sampling = samplings[i];
            return 0;
          }
      return 1;
    case KEY_NOISE:
      if (strcmp (value, "?") == 0)
        {
          p->unknown_noise = 1;
          return 0;
        }
      /* fall through */
    case KEY_REAL:
      if (!parse_number (value, &x) || !(x > k->min) || x > k->max)
        return 1;
      break;
    case KEY_INTEGER:
      if (!parse_number (value, &x) || x != floor (x) || x < k->min
          || x > k->max)
        return 1;
      break;
    }
  switch (key)
    {
    case RUN_STEPS:
      p->steps = (uint64_t) x;
      break;
    case RUN_BATCH_SIZE:
      p->batch_size = (uint64_t) x;
      break;
    case RUN_DATASET_SIZE:
      p->dataset_size = (uint64_t) x;
      break;
    case RUN_DIMENSION:
      p->dimension = (uint64_t) x;
      break;
    case RUN_EPOCHS:
      p->epochs = x;
      break;
    case RUN_NOISE_MULTIPLIER:
      p->noise_multiplier = x;
      break;
    case RUN_LAPLACE_SCALE:
      p->laplace_scale = x;
      break;
    case RUN_SAMPLING_RATE:
      p->sampling_rate = x;
      break;
    default:
      p->clip = x;
      break;
    }
  return 0;
}

/* Sets KEY of PHASE from the LEN bytes at VALUE, found at COLUMN; an
 * empty value leaves the key to the command line. */
static int
set_value (const run_spec *spec, run_phase *p, run_key key, const char *value,
           size_t len, unsigned long column)
{
  char text[128];
  if (len == 0)
    return 0;
  p->column[key] = column;
  if (p->set & RUN_BIT (key))
    return run_error (spec, p, key, "%s is given twice", keys[key].name);
  int bad = len >= sizeof text || memchr (value, '\0', len) != NULL;
  if (!bad)
    {
      memcpy (text, value, len);
      text[len] = '\0';
      bad = store_value (p, key, text);
    }
  if (bad)
    return run_error (spec, p, key, "%s '%.*s': must be %s", keys[key].name,
                      (int) (len < 40 ? len : 40), value, keys[key].range);
  p->set |= RUN_BIT (key);
  for (size_t i = 0; i < sizeof exclusive / sizeof exclusive[0]; i++)
    if ((p->set & RUN_BIT (exclusive[i][0]))
        && (p->set & RUN_BIT (exclusive[i][1])))
      return run_error (spec, p, key, "give %s or %s, not both",
                        keys[exclusive[i][0]].name,
                        keys[exclusive[i][1]].name);
  return 0;
}

static void
phase_init (run_phase *p, unsigned long line)
{
  memset (p, 0, sizeof *p);
  p->noise_multiplier = p->laplace_scale = p->sampling_rate = NAN;
  p->epochs = p->clip = NAN;
  p->sampling = DPACCT_SAMPLING_POISSON;
  p->line = line;
}

static int
append_phase (run_spec *spec, const run_phase *p)
{
  if (spec->n == RUN_MAX_PHASES)
    return run_error (spec, p, RUN_N_KEYS, "more than %d phases (the most "
                      "a run may have)", RUN_MAX_PHASES);
  if (spec->n == spec->capacity)
    {
      size_t cap = spec->capacity ? 2 * spec->capacity : 8;
      run_phase *grown = realloc (spec->phases, cap * sizeof *grown);
      if (grown == NULL)
        {
          out_error ("%s: out of memory reading the run", spec->source);
          return 1;
        }
      spec->phases = grown;
      spec->capacity = cap;
    }
  spec->phases[spec->n++] = *p;
  return 0;
}

/* ------------------------------------------------------------ TSV */

/* The column of KEY_NAME (LEN bytes), or RUN_N_KEYS. */
static run_key
key_of (const char *name, size_t len)
{
  for (int k = 0; k < RUN_N_KEYS; k++)
    if (strlen (keys[k].name) == len && memcmp (keys[k].name, name, len) == 0)
      return (run_key) k;
  return RUN_N_KEYS;
}

/* The fields of one line, split at tabs, with surrounding blanks trimmed. */
enum { MAX_FIELDS = RUN_N_KEYS };
typedef struct {
  const char *start[MAX_FIELDS + 1];
  size_t len[MAX_FIELDS + 1];
  unsigned long column[MAX_FIELDS + 1];
  size_t n; /* MAX_FIELDS + 1: too many */
} fields;

static void
split_line (const char *line, size_t len, fields *f)
{
  size_t at = 0;
  f->n = 0;
  for (;;)
    {
      size_t end = at;
      while (end < len && line[end] != '\t')
        end++;
      size_t a = at, b = end;
      while (a < b && (line[a] == ' ' || line[a] == '\r'))
        a++;
      while (b > a && (line[b - 1] == ' ' || line[b - 1] == '\r'))
        b--;
      if (f->n <= MAX_FIELDS)
        {
          f->start[f->n] = line + a;
          f->len[f->n] = b - a;
          f->column[f->n] = (unsigned long) a + 1;
          f->n++;
        }
      if (end >= len)
        return;
      at = end + 1;
    }
}

/* Nonzero when the line holds only blanks, or is a '#' comment. */
static int
skipped (const char *line, size_t len)
{
  size_t i = 0;
  while (i < len && strchr (" \t\r\v\f", line[i]) != NULL && line[i] != '\0')
    i++;
  return i == len || line[i] == '#';
}

typedef struct {
  const run_spec *spec;
  run_key columns[MAX_FIELDS];
  size_t n_columns;
} header;

static int
read_header (const run_spec *spec, const char *line, size_t len,
             unsigned long number, header *h)
{
  fields f;
  run_phase where;
  phase_init (&where, number);
  split_line (line, len, &f);
  h->n_columns = 0;
  for (size_t i = 0; i < f.n; i++)
    {
      where.column[RUN_NAME] = f.column[i];
      if (i == MAX_FIELDS)
        return run_error (spec, &where, RUN_NAME, "more than %d columns",
                          MAX_FIELDS);
      run_key key = key_of (f.start[i], f.len[i]);
      if (key == RUN_N_KEYS)
        {
          char known[256] = "";
          for (int k = 0; k < RUN_N_KEYS; k++)
            snprintf (known + strlen (known), sizeof known - strlen (known),
                      "%s%s", k ? ", " : "", keys[k].name);
          return run_error (spec, &where, RUN_NAME, "unknown column '%.*s'; "
                            "the columns are %s", (int) (f.len[i] < 40
                                                         ? f.len[i] : 40),
                            f.start[i], known);
        }
      for (size_t j = 0; j < i; j++)
        if (h->columns[j] == key)
          return run_error (spec, &where, RUN_NAME, "column %s appears twice",
                            keys[key].name);
      h->columns[h->n_columns++] = key;
    }
  return 0;
}

static int
read_row (run_spec *spec, const header *h, const char *line, size_t len,
          unsigned long number)
{
  fields f;
  run_phase p;
  phase_init (&p, number);
  split_line (line, len, &f);
  if (f.n != h->n_columns)
    {
      p.column[RUN_NAME] = f.n > h->n_columns ? f.column[h->n_columns]
                                               : (unsigned long) len + 1;
      return run_error (spec, &p, RUN_NAME, "%zu%s fields, but the header "
                        "names %zu columns", f.n > MAX_FIELDS ? MAX_FIELDS
                                                               : f.n,
                        f.n > MAX_FIELDS ? " or more" : "", h->n_columns);
    }
  for (size_t i = 0; i < f.n; i++)
    if (set_value (spec, &p, h->columns[i], f.start[i], f.len[i],
                   f.column[i]))
      return 1;
  return append_phase (spec, &p);
}

int
run_parse_tsv (const char *text, size_t size, const char *source,
               run_spec *spec)
{
  header h = { 0 };
  int have_header = 0;
  unsigned long number = 0;
  snprintf (spec->source, sizeof spec->source, "%s", source);
  spec->from_options = 0;
  /* A byte-order mark, as spreadsheets write it. */
  if (size >= 3 && memcmp (text, "\xef\xbb\xbf", 3) == 0)
    text += 3, size -= 3;
  for (size_t at = 0; at < size;)
    {
      const char *nl = memchr (text + at, '\n', size - at);
      size_t len = nl ? (size_t) (nl - (text + at)) : size - at;
      const char *line = text + at;
      at += len + 1;
      number++;
      if (skipped (line, len))
        continue;
      if (!have_header)
        {
          if (read_header (spec, line, len, number, &h))
            return 1;
          have_header = 1;
        }
      else if (read_row (spec, &h, line, len, number))
        return 1;
    }
  if (spec->n == 0)
    {
      run_phase where;
      phase_init (&where, number ? number : 1);
      return run_error (spec, &where, RUN_N_KEYS, "%s", have_header
                        ? "no phases after the header"
                        : "empty: a run file is a header of column names "
                          "and one line per phase");
    }
  return 0;
}

int
run_read_file (const char *path, run_spec *spec)
{
  int stdin_ = strcmp (path, "-") == 0;
  const char *source = stdin_ ? "<stdin>" : path;
  FILE *f = stdin_ ? stdin : fopen (path, "rb");
  if (f == NULL)
    {
      out_error ("--run %s: %s", path, strerror (errno));
      return 1;
    }
  size_t size = 0, capacity = 0;
  char *text = NULL;
  int rc = 0;
  for (;;)
    {
      if (size == capacity)
        {
          /* 64 MiB is far beyond RUN_MAX_PHASES lines of sane width. */
          capacity = capacity ? 2 * capacity : 65536;
          char *grown = capacity <= (64u << 20) ? realloc (text, capacity)
                                                 : NULL;
          if (grown == NULL)
            {
              out_error ("--run %s: too large (at most 64 MiB)", path);
              rc = 1;
              break;
            }
          text = grown;
        }
      size_t got = fread (text + size, 1, capacity - size, f);
      size += got;
      if (got == 0)
        {
          if (ferror (f))
            {
              out_error ("--run %s: read error", path);
              rc = 1;
            }
          break;
        }
    }
  if (!stdin_)
    fclose (f);
  if (rc == 0)
    rc = run_parse_tsv (text ? text : "", size, source, spec);
  free (text);
  return rc;
}

/* ------------------------------------------------------------ --phase */

int
run_parse_phase (const char *text, unsigned long index, run_spec *spec)
{
  run_phase p;
  phase_init (&p, index);
  snprintf (spec->source, sizeof spec->source, "--phase");
  spec->from_options = 1;
  const char *at = text;
  for (;;)
    {
      size_t len = strcspn (at, ",");
      const char *eq = memchr (at, '=', len);
      unsigned long column = (unsigned long) (at - text) + 1;
      run_key key = eq ? key_of (at, (size_t) (eq - at)) : RUN_N_KEYS;
      p.column[RUN_NAME] = column;
      if (key == RUN_N_KEYS)
        return run_error (spec, &p, RUN_NAME, "'%.*s': must be KEY=VALUE "
                          "with KEY a run-file column (steps, epochs, "
                          "noise-multiplier, laplace-scale, sampling-rate, "
                          "batch-size, dataset-size, sampling, clip, "
                          "dimension, name)", (int) (len < 40 ? len : 40), at);
      if (set_value (spec, &p, key, eq + 1, len - (size_t) (eq + 1 - at),
                     column))
        return 1;
      if (eq + 1 == at + len)
        return run_error (spec, &p, key, "%s: missing value",
                          keys[key].name);
      if (at[len] == '\0')
        break;
      at += len + 1;
    }
  return append_phase (spec, &p);
}
