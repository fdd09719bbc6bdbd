/* validate_merge.c - "dpacct validate --merge FILES...": rebuild the grid
 * from the first line of shard outputs, fill in its runs from their rows,
 * and refuse a run that is missing, given twice, or not the grid's. */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"

/* "# dpacct validate shard I/N grid quick seed S clips C1,C2,..." */
static int
parse_first_line (const char *file, const char *line, validate_grid *g)
{
  char kind[16], clips_text[1024];
  unsigned long seed;
  unsigned i, n;
  if (sscanf (line, "# dpacct validate shard %u/%u grid %15s seed %lu clips "
              "%1023s", &i, &n, kind, &seed, clips_text) != 5
      || (strcmp (kind, "quick") != 0 && strcmp (kind, "full") != 0))
    {
      out_error ("--merge %s, line 1: not the output of 'dpacct validate "
                 "--shard I/N'", file);
      return 1;
    }
  double clips[VALIDATE_MAX_LIST];
  size_t n_clips = 0;
  for (char *s = strtok (clips_text, ","); s && n_clips < VALIDATE_MAX_LIST;
       s = strtok (NULL, ","))
    clips[n_clips++] = strtod (s, NULL);
  return validate_grid_make (strcmp (kind, "quick") == 0, seed, clips,
                             n_clips, g);
}

/* The settings part of a first line: all shards of one grid share it. */
static const char *
settings (const char *line)
{
  const char *p = strstr (line, " grid ");
  return p ? p : line;
}

static int
same_job (const validate_run *a, const validate_run *b)
{
  return a->family == b->family && a->batch == b->batch
         && a->seed == b->seed && a->variant == b->variant
         && a->trainable == b->trainable && a->noise == b->noise
         && a->clipping == b->clipping && a->pretrained == b->pretrained
         && (a->epsilon == b->epsilon
             || (isnan (a->epsilon) && isnan (b->epsilon)))
         && (a->clip == b->clip || (isnan (a->clip) && isnan (b->clip)));
}

static int
read_shard (const char *file, FILE *f, validate_grid *g, char *first)
{
  char line[8192], error[200];
  if (fgets (line, sizeof line, f) == NULL)
    {
      out_error ("--merge %s: empty file", file);
      return 1;
    }
  if (*first == '\0')
    {
      int rc = parse_first_line (file, line, g);
      if (rc)
        return rc;
      snprintf (first, 1024, "%.1000s", settings (line));
    }
  else if (strcmp (settings (line), first) != 0)
    {
      out_error ("--merge %s, line 1: a shard of another grid (%.*s)", file,
                 (int) strcspn (settings (line) + 1, "\n"),
                 settings (line) + 1);
      return 1;
    }
  if (fgets (line, sizeof line, f) == NULL
      || strncmp (line, validate_runs_header, strlen (validate_runs_header)))
    {
      out_error ("--merge %s, line 2: expected the header of the runs table",
                 file);
      return 1;
    }
  for (size_t number = 3; fgets (line, sizeof line, f); number++)
    {
      validate_run r;
      if (validate_run_parse (line, &r, error, sizeof error))
        {
          out_error ("--merge %s, line %zu: %s", file, number, error);
          return 1;
        }
      if (r.index >= g->n_runs || !same_job (&r, &g->runs[r.index]))
        {
          out_error ("--merge %s, line %zu: run %zu is not the grid's", file,
                     number, r.index);
          return 1;
        }
      if (g->runs[r.index].done)
        {
          out_error ("--merge %s, line %zu: run %zu was already given", file,
                     number, r.index);
          return 1;
        }
      g->runs[r.index] = r;
    }
  return 0;
}

int
validate_merge (char *const *files, size_t n_files, validate_grid *g)
{
  char first[1024] = "";
  memset (g, 0, sizeof *g);
  for (size_t k = 0; k < n_files; k++)
    {
      FILE *f = fopen (files[k], "r");
      if (f == NULL)
        {
          out_error ("--merge %s: cannot read it", files[k]);
          return 1;
        }
      int rc = read_shard (files[k], f, g, first);
      fclose (f);
      if (rc)
        return rc;
    }
  size_t missing = 0, first_missing = 0;
  for (size_t i = g->n_runs; i-- > 0;)
    if (!g->runs[i].done)
      missing++, first_missing = i;
  if (missing)
    {
      out_error ("--merge: %zu of the grid's %zu runs are in no file (the "
                 "first: run %zu); give every shard I/N for I = 1..N",
                 missing, g->n_runs, first_missing);
      return 1;
    }
  return 0;
}
