/* output.c - table, TSV and JSON output, and diagnostics, for dpacct. */
#include <config.h>

#include "output.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <dpacct.h>

enum { LABEL_WIDTH = 28 };

out_field
out_text (const char *name, const char *label, const char *text)
{
  out_field f = { name, label, OUT_TEXT, text, 0, 0.0, NULL };
  return f;
}

out_field
out_count (const char *name, const char *label, uint64_t count)
{
  out_field f = { name, label, OUT_COUNT, NULL, count, 0.0, NULL };
  return f;
}

out_field
out_real (const char *name, const char *label, out_kind kind, double value)
{
  out_field f = { name, label, kind, NULL, 0, value, NULL };
  return f;
}

/* ------------------------------------------------------------ rounding */

int
out_shortest (double x, char *buf, size_t size)
{
  if (!isfinite (x))
    return snprintf (buf, size, "%s",
                     isnan (x) ? "nan" : x > 0 ? "inf" : "-inf");
  /* A normal double has 15 to 17 significant decimal digits: a decimal
   * of 15 digits or fewer that reads back as X is what %.15g prints (X lies
   * within half an ulp of it, well inside half a unit of the 15th digit),
   * so 15, 16, 17 in turn give the shortest.  Subnormals have fewer digits
   * (5e-324), so they start from one.  %g drops trailing zeros. */
  char text[32];
  for (int digits = fabs (x) < DBL_MIN ? 1 : 15; digits < 17; digits++)
    {
      snprintf (text, sizeof text, "%.*g", digits, x);
      if (strtod (text, NULL) == x)
        return snprintf (buf, size, "%s", text);
    }
  return snprintf (buf, size, "%.17g", x);
}

/* Nonzero when the decimal in TEXT equals X exactly.  A double's exact
 * decimal expansion has at most 767 significant digits, so %.766e is exact
 * and we only have to compare digits. */
static int
decimal_is_exact (double x, const char *text)
{
  char exact[800];
  snprintf (exact, sizeof exact, "%.766e", x);
  const char *e_text = strchr (text, 'e');
  const char *e_exact = strchr (exact, 'e');
  if (e_text == NULL || e_exact == NULL || strcmp (e_text, e_exact) != 0)
    return 0;
  size_t n = (size_t) (e_text - text);
  if (strncmp (text, exact, n) != 0)
    return 0;
  for (const char *p = exact + n; p < e_exact; p++)
    if (*p != '0')
      return 0;
  return 1;
}

/* Nonzero when the decimal TEXT, read back as VALUE, lies on the safe
 * side of X.  When VALUE == X the decimal may still be off by half an ulp,
 * so only an exact decimal counts then. */
static int
on_safe_side (double x, int up, const char *text, double value)
{
  if (value == x)
    return decimal_is_exact (x, text);
  return up ? value > x : value < x;
}

void
out_round_bound (double x, int up, char *buf, size_t size)
{
  if (!isfinite (x))
    {
      snprintf (buf, size, "%s", isnan (x) ? "nan" : x > 0 ? "inf" : "-inf");
      return;
    }
  char text[32];
  snprintf (text, sizeof text, "%.5e", x);
  double value = strtod (text, NULL);
  if (!on_safe_side (x, up, text, value))
    {
      /* One unit in the sixth significant digit of what was printed. */
      int exponent = atoi (strchr (text, 'e') + 1);
      double unit = pow (10.0, exponent - 5);
      snprintf (text, sizeof text, "%.5e", up ? value + unit : value - unit);
      value = strtod (text, NULL);
    }
  /* VALUE is the double nearest a 6-digit decimal, so %.6g gives back
   * exactly those digits, in a friendlier form. */
  snprintf (buf, size, "%.6g", value);
}

/* ------------------------------------------------------------ table */

static void
table_value (FILE *stream, const out_field *f)
{
  char buf[64];
  if (f->kind != OUT_TEXT && f->text != NULL && isnan (f->real))
    {
      fputs (f->text, stream);
      return;
    }
  switch (f->kind)
    {
    case OUT_TEXT:
      fputs (f->text, stream);
      break;
    case OUT_COUNT:
      fprintf (stream, "%" PRIu64, f->count);
      break;
    case OUT_REAL:
      fprintf (stream, "%.6g", f->real);
      break;
    case OUT_LOWER:
      if (isnan (f->real))
        fputs ("not available from this accountant", stream);
      else
        {
          out_round_bound (f->real, 0, buf, sizeof buf);
          fputs (buf, stream);
        }
      break;
    case OUT_UPPER:
      out_round_bound (f->real, 1, buf, sizeof buf);
      fputs (buf, stream);
      break;
    }
}

static void
table_fields (FILE *stream, const out_field *fields, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      if (fields[i].label == NULL)
        continue;
      fprintf (stream, "  %-*s ", LABEL_WIDTH, fields[i].label);
      table_value (stream, &fields[i]);
      if (fields[i].note != NULL)
        fprintf (stream, " %s", fields[i].note);
      fputc ('\n', stream);
    }
}

static void
print_table (FILE *stream, const out_report *r)
{
  fprintf (stream, "dpacct %s\n\nassumptions:\n", r->command);
  table_fields (stream, r->assumptions, r->n_assumptions);
  for (size_t i = 0; i < r->n_answers; i++)
    {
      const out_answer *a = &r->answers[i];
      if (r->n_answers > 1 && a->title != NULL)
        fprintf (stream, "\nanswer (%s):\n", a->title);
      else
        fputs ("\nanswer:\n", stream);
      table_fields (stream, a->fields, a->n_fields);
      if (a->remark != NULL)
        fprintf (stream, "  %s\n", a->remark);
    }
  for (size_t i = 0; i < r->n_answers; i++)
    if (r->answers[i].warning != NULL)
      fprintf (stream, "\nwarning: %s\n", r->answers[i].warning);
}

/* ------------------------------------------------------------ TSV */

/* A text in a TSV cell: tab, newline, carriage return and backslash are
 * written as \t, \n, \r and \\, so a cell never splits a row. */
static void
tsv_text (FILE *stream, const char *s)
{
  for (; *s; s++)
    switch (*s)
      {
      case '\t':
        fputs ("\\t", stream);
        break;
      case '\n':
        fputs ("\\n", stream);
        break;
      case '\r':
        fputs ("\\r", stream);
        break;
      case '\\':
        fputs ("\\\\", stream);
        break;
      default:
        fputc (*s, stream);
      }
}

static void
tsv_value (FILE *stream, const out_field *f)
{
  switch (f->kind)
    {
    case OUT_TEXT:
      tsv_text (stream, f->text);
      break;
    case OUT_COUNT:
      fprintf (stream, "%" PRIu64, f->count);
      break;
    default:
      {
        /* The shortest decimal that reads back as the same double, so
         * an echoed input reads as it was typed. */
        char buf[32];
        out_shortest (f->real, buf, sizeof buf);
        fputs (buf, stream);
      }
      break;
    }
}

static void
print_tsv (FILE *stream, const out_report *r)
{
  if (r->n_answers == 0)
    return;
  const out_answer *first = &r->answers[0];
  for (size_t i = 0; i < first->n_fields; i++)
    {
      if (i)
        fputc ('\t', stream);
      tsv_text (stream, first->fields[i].name);
    }
  fputc ('\n', stream);
  for (size_t k = 0; k < r->n_answers; k++)
    {
      const out_answer *a = &r->answers[k];
      for (size_t i = 0; i < a->n_fields; i++)
        {
          if (i)
            fputc ('\t', stream);
          tsv_value (stream, &a->fields[i]);
        }
      fputc ('\n', stream);
    }
}

/* ------------------------------------------------------------ JSON */

/* Length of the valid UTF-8 sequence at S (1 to 4 bytes), or 0. */
static size_t
utf8_sequence (const unsigned char *s)
{
  unsigned c = s[0];
  size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3
               : (c >> 3) == 30 ? 4 : 0;
  unsigned long cp = len <= 1 ? c : c & (0x7fu >> len);
  for (size_t i = 1; i < len; i++)
    {
      if ((s[i] & 0xc0) != 0x80)
        return 0;
      cp = (cp << 6) | (s[i] & 0x3f);
    }
  static const unsigned long smallest[] = { 0, 0, 0x80, 0x800, 0x10000 };
  if (len == 0 || cp < smallest[len] || cp > 0x10ffff
      || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return len;
}

/* A JSON string: quotes, backslashes and control characters escaped,
 * and each byte that is not part of valid UTF-8 (JSON's encoding)
 * replaced by U+FFFD. */
static void
json_string (FILE *stream, const char *s)
{
  fputc ('"', stream);
  const unsigned char *p = (const unsigned char *) s;
  while (*p)
    {
      size_t len = utf8_sequence (p);
      if (len == 0)
        {
          fputs ("\\ufffd", stream);
          p++;
        }
      else if (*p == '"' || *p == '\\')
        fprintf (stream, "\\%c", *p++);
      else if (*p < 0x20)
        fprintf (stream, "\\u%04x", *p++);
      else
        {
          fwrite (p, 1, len, stream);
          p += len;
        }
    }
  fputc ('"', stream);
}

static void
json_value (FILE *stream, const out_field *f)
{
  if (f->kind == OUT_TEXT)
    json_string (stream, f->text);
  else if (f->kind == OUT_COUNT)
    fprintf (stream, "%" PRIu64, f->count);
  else if (isnan (f->real))
    fputs ("null", stream); /* JSON has no NaN */
  else if (isinf (f->real))
    json_string (stream, f->real > 0 ? "inf" : "-inf"); /* nor Inf */
  else
    {
      char buf[32];
      out_shortest (f->real, buf, sizeof buf);
      fputs (buf, stream);
    }
}

static void
json_object (FILE *stream, const out_field *fields, size_t n,
             const char *indent)
{
  fputs ("{\n", stream);
  for (size_t i = 0; i < n; i++)
    {
      fprintf (stream, "%s  ", indent);
      json_string (stream, fields[i].name);
      fputs (": ", stream);
      json_value (stream, &fields[i]);
      fputs (i + 1 < n ? ",\n" : "\n", stream);
    }
  fprintf (stream, "%s}", indent);
}

static void
print_json (FILE *stream, const out_report *r)
{
  fputs ("{\n  \"command\": ", stream);
  json_string (stream, r->command);
  fputs (",\n  \"assumptions\": ", stream);
  json_object (stream, r->assumptions, r->n_assumptions, "  ");
  fputs (",\n  \"results\": [", stream);
  for (size_t k = 0; k < r->n_answers; k++)
    {
      fputs (k ? ",\n    " : "\n    ", stream);
      json_object (stream, r->answers[k].fields, r->answers[k].n_fields,
                   "    ");
    }
  fputs ("\n  ]\n}\n", stream);
}

void
out_print (FILE *stream, out_format format, const out_report *report)
{
  for (size_t i = 0; i < report->n_answers; i++)
    if (report->answers[i].warning != NULL)
      out_error ("warning: %s", report->answers[i].warning);
  switch (format)
    {
    case OUT_TABLE:
      print_table (stream, report);
      break;
    case OUT_TSV:
      print_tsv (stream, report);
      break;
    case OUT_JSON:
      print_json (stream, report);
      break;
    }
}

/* ------------------------------------------------------------ errors */

/* The tool is single-threaded, so remembering the last error is enough. */
static int last_library_code;
static char last_library_message[256];

static void
remember_library_error (int code, const char *message, const char *where)
{
  (void) where;
  last_library_code = code;
  snprintf (last_library_message, sizeof last_library_message, "%s",
            message != NULL ? message : "");
  /* Diagnostics must stay on one line. */
  for (char *p = last_library_message; *p; p++)
    if (*p == '\n')
      *p = ' ';
}

void
out_install_error_hook (void)
{
  dpacct_set_error_handler (remember_library_error);
}

void
out_error (const char *format, ...)
{
  va_list ap;
  fputs ("dpacct: ", stderr);
  va_start (ap, format);
  vfprintf (stderr, format, ap);
  va_end (ap);
  fputc ('\n', stderr);
}

int
out_library_failure (int status, const char *what)
{
  return out_library_failure_hint (status, what, NULL);
}

int
out_library_failure_hint (int status, const char *what, const char *hint)
{
  /* The library's own message says more, if it is about this failure. */
  const char *detail = last_library_code == status && *last_library_message
                           ? last_library_message : NULL;
  if (status == DPACCT_EDOM || status == DPACCT_EUNSUP
      || status == DPACCT_ERANGE || (status == DPACCT_ENOMEM && hint))
    {
      out_error ("cannot compute %s: %s%s%s%s%s", what,
                 dpacct_strerror (status), detail ? ": " : "",
                 detail ? detail : "", hint ? "; " : "", hint ? hint : "");
      return 1;
    }
  out_error ("numerical failure: %s: %s", what,
             detail ? detail : dpacct_strerror (status));
  return 2;
}
