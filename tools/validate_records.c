/* validate_records.c - the runs table of "dpacct validate": one TSV row
 * per run, written by a shard and read back by --merge.  The columns are
 * a table, so that the writer and the parser cannot drift apart; numbers
 * are written with 17 significant digits, so that a merge recomputes the
 * checks from the same values. */
#include <config.h>

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"

typedef enum { COL_SIZE, COL_U64, COL_UNSIGNED, COL_INT, COL_REAL, COL_NAME }
column_type;

static const char *const clipping_names[] = { "flat", "normalised",
                                              "automatic", NULL };
static const char *const trainable_names[] = { "all", "bias", "head", NULL };
static const char *const noise_names[] = { "gaussian", "laplace", NULL };

typedef struct {
  const char *name;
  column_type type;
  size_t offset;
  const char *const *names; /* COL_NAME */
} column;

#define COL(field, type) { #field, type, offsetof (validate_run, field), NULL }
#define NAMED(field, names) \
  { #field, COL_NAME, offsetof (validate_run, field), names }

static const column columns[] = {
  COL (index, COL_SIZE),
  NAMED (family, validate_family_names),
  COL (epsilon, COL_REAL),
  COL (batch, COL_U64),
  COL (epochs, COL_REAL),
  COL (rate, COL_REAL),
  COL (clip, COL_REAL),
  NAMED (clipping, clipping_names),
  NAMED (trainable, trainable_names),
  NAMED (noise, noise_names),
  COL (pretrained, COL_INT),
  COL (seed, COL_UNSIGNED),
  COL (variant, COL_INT),
  COL (accuracy, COL_REAL),
  COL (steps, COL_U64),
  COL (sigma, COL_REAL),
  COL (params, COL_U64),
  COL (noise_std, COL_REAL),
  COL (noise_predicted, COL_REAL),
  COL (noise_sumsq, COL_REAL),
  COL (clip_fraction, COL_REAL),
  COL (weight_hard, COL_REAL),
  COL (weight_easy, COL_REAL),
  COL (norm_q10, COL_REAL),
  COL (norm_q50, COL_REAL),
  COL (norm_q90, COL_REAL),
  COL (seconds, COL_REAL),
  COL (epsilon_lower, COL_REAL),
  COL (epsilon_claimed, COL_REAL),
  COL (ghost_seconds, COL_REAL),
  COL (materialised_seconds, COL_REAL),
  COL (ghost_bytes, COL_REAL),
  COL (materialised_bytes, COL_REAL),
};
enum { N_COLUMNS = sizeof columns / sizeof columns[0] };

const char validate_runs_header[] = "index\tfamily";

static void
write_header (FILE *stream)
{
  for (size_t c = 0; c < N_COLUMNS; c++)
    fprintf (stream, "%s%s", c ? "\t" : "", columns[c].name);
  fputc ('\n', stream);
}

static void
write_cell (FILE *stream, const validate_run *r, const column *c)
{
  const char *p = (const char *) r + c->offset;
  switch (c->type)
    {
    case COL_SIZE:
      fprintf (stream, "%zu", *(const size_t *) p);
      break;
    case COL_U64:
      fprintf (stream, "%llu", (unsigned long long) *(const uint64_t *) p);
      break;
    case COL_UNSIGNED:
      fprintf (stream, "%u", *(const unsigned *) p);
      break;
    case COL_INT:
      fprintf (stream, "%d", *(const int *) p);
      break;
    case COL_REAL:
      fprintf (stream, "%.17g", *(const double *) p);
      break;
    case COL_NAME:
      fputs (c->names[*(const int *) p], stream);
      break;
    }
}

void
validate_runs_write (FILE *stream, const validate_grid *g)
{
  write_header (stream);
  for (size_t i = 0; i < g->n_runs; i++)
    {
      const validate_run *r = &g->runs[i];
      if (!r->done)
        continue;
      for (size_t c = 0; c < N_COLUMNS; c++)
        {
          if (c)
            fputc ('\t', stream);
          write_cell (stream, r, &columns[c]);
        }
      fputc ('\n', stream);
    }
}

static int
parse_cell (const char *text, validate_run *r, const column *c)
{
  char *p = (char *) r + c->offset, *end;
  switch (c->type)
    {
    case COL_NAME:
      for (int k = 0; c->names[k]; k++)
        if (strcmp (text, c->names[k]) == 0)
          {
            *(int *) p = k;
            return 0;
          }
      return 1;
    case COL_REAL:
      *(double *) p = strtod (text, &end);
      return *end != '\0' || end == text;
    default:
      {
        if (*text == '-' && c->type != COL_INT)
          return 1;
        long long v = strtoll (text, &end, 10);
        if (*end != '\0' || end == text)
          return 1;
        if (c->type == COL_SIZE)
          *(size_t *) p = (size_t) v;
        else if (c->type == COL_U64)
          *(uint64_t *) p = (uint64_t) v;
        else if (c->type == COL_UNSIGNED)
          *(unsigned *) p = (unsigned) v;
        else
          *(int *) p = (int) v;
        return 0;
      }
    }
}

int
validate_run_parse (const char *line, validate_run *r, char *error,
                    size_t error_size)
{
  memset (r, 0, sizeof *r);
  const char *start = line;
  for (size_t c = 0; c < N_COLUMNS; c++)
    {
      const char *tab = strchr (start, '\t');
      size_t len = tab ? (size_t) (tab - start) : strcspn (start, "\r\n");
      char cell[64];
      if ((tab == NULL) != (c == N_COLUMNS - 1) || len >= sizeof cell)
        {
          snprintf (error, error_size, "expected %d tab-separated columns",
                    (int) N_COLUMNS);
          return 1;
        }
      memcpy (cell, start, len);
      cell[len] = '\0';
      if (parse_cell (cell, r, &columns[c]))
        {
          snprintf (error, error_size, "column %zu (%s): bad value '%s'",
                    c + 1, columns[c].name, cell);
          return 1;
        }
      start = tab ? tab + 1 : start + len;
    }
  r->done = 1;
  return 0;
}
