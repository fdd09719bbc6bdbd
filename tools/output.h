/* output.h - how dpacct prints its answers and its diagnostics.
 *
 * A command describes its report as two lists of named fields, the
 * assumptions it used and the answer row, and this module prints them as a
 * table for people, TSV for scripts or JSON. */
#ifndef DPACCT_TOOL_OUTPUT_H
#define DPACCT_TOOL_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum { OUT_TABLE, OUT_TSV, OUT_JSON } out_format;

typedef enum {
  OUT_TEXT,  /* a string */
  OUT_COUNT, /* an unsigned integer */
  OUT_REAL,  /* a plain number */
  OUT_LOWER, /* a lower bound: rounded down in the table, NaN = unknown */
  OUT_UPPER  /* an upper bound: rounded up in the table, may be +Inf */
} out_kind;

typedef struct {
  const char *name;  /* TSV column and JSON key */
  const char *label; /* table label; NULL: not shown in the table */
  out_kind kind;
  const char *text;  /* OUT_TEXT: the value; numbers: what the table shows
                        instead of a NaN (NULL: the usual) */
  uint64_t count;
  double real;
  const char *note;  /* table only, printed after the value; may be NULL */
} out_field;

/* One answer: a TSV row, a JSON result. */
typedef struct {
  const char *title;       /* table heading when there are several; or NULL */
  const out_field *fields;
  size_t n_fields;
  const char *remark;      /* table only, e.g. "(certified)"; may be NULL */
  const char *warning;     /* also printed to stderr; may be NULL */
} out_answer;

/* Every answer has the same field names, in the same order (the TSV
 * header is that of the first). */
typedef struct {
  const char *command;
  const out_field *assumptions;
  size_t n_assumptions;
  const out_answer *answers;
  size_t n_answers;
} out_report;

void out_print (FILE *stream, out_format format, const out_report *report);

/* Field constructors, so that commands read as lists. */
out_field out_text (const char *name, const char *label, const char *text);
out_field out_count (const char *name, const char *label, uint64_t count);
out_field out_real (const char *name, const char *label, out_kind kind,
                    double value);

/* The shortest decimal (15, 16 or 17 significant digits, %g style: "0.8",
 * "1e-05") that strtod reads back as exactly X, in BUF; "nan", "inf" and
 * "-inf" for the others.  Returns what snprintf returns.  Exact on read-back,
 * so it is safe for bounds of either side. */
int out_shortest (double x, char *buf, size_t size);

/* X rounded to 6 significant digits toward +Inf (UP nonzero) or -Inf, as
 * text in BUF; "inf" and "nan" pass through. */
void out_round_bound (double x, int up, char *buf, size_t size);

/* Diagnostics: one line on stderr, prefixed "dpacct: ". */
void out_error (const char *format, ...)
  __attribute__ ((format (printf, 1, 2)));

/* Reports a failed library call made for WHAT and returns the exit status:
 * 1 when the request cannot be met (EDOM, EUNSUP, ERANGE), 2 otherwise. */
int out_library_failure (int status, const char *what);
/* The same, with HINT (what the user may do) after the message; an
 * exhausted memory cap (ENOMEM) is then a request that cannot be met. */
int out_library_failure_hint (int status, const char *what,
                              const char *hint);

/* Remembers the library's message of its last error, for the line above. */
void out_install_error_hook (void);

#endif
