/* fuzz_output.c - fuzz harness for the table, TSV and JSON writers.
 *
 * Builds a report from the input (field names, labels and texts from its
 * NUL-separated pieces, numbers from its raw bytes: NaN, infinities and
 * subnormals included), prints it in every format, and checks that the
 * TSV is a rectangle and the JSON is well-formed JSON in valid UTF-8: a
 * text that breaks either is a bug in the writers, not in the input. */
#include <config.h>

#include "fuzz.h"
#include "output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_FIELDS = 6, MAX_ANSWERS = 3, MAX_PIECES = 32 };

/* Input bytes, handed out in order; zeros once used up. */
typedef struct
{
  const uint8_t *data;
  size_t size, at;
} reader;

static uint8_t
next_byte (reader *r)
{
  return r->at < r->size ? r->data[r->at++] : 0;
}

static double
next_double (reader *r)
{
  uint8_t bytes[sizeof (double)] = { 0 };
  for (size_t i = 0; i < sizeof bytes; i++)
    bytes[i] = next_byte (r);
  double x;
  memcpy (&x, bytes, sizeof x); /* any bits: NaN, Inf, subnormals */
  return x;
}

static uint64_t
next_count (reader *r)
{
  uint64_t x = 0;
  for (size_t i = 0; i < sizeof x; i++)
    x = (x << 8) | next_byte (r);
  return x;
}

/* ---- a JSON checker: RFC 8259 values, strings in valid UTF-8 ---- */

typedef struct
{
  const char *s;
  size_t n, at;
} json_in;

static void
skip_space (json_in *j)
{
  while (j->at < j->n && strchr (" \t\n\r", j->s[j->at]) != NULL)
    j->at++;
}

static int json_value_ok (json_in *j, int depth);

/* Length of the UTF-8 sequence at P (at most N bytes), 0 when invalid. */
static size_t
utf8_length (const unsigned char *p, size_t n)
{
  unsigned c = p[0];
  size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3
               : (c >> 3) == 30 ? 4 : 0;
  if (len == 0 || len > n)
    return 0;
  unsigned long cp = len == 1 ? c : c & (0x7f >> len);
  for (size_t i = 1; i < len; i++)
    {
      if ((p[i] & 0xc0) != 0x80)
        return 0;
      cp = (cp << 6) | (p[i] & 0x3f);
    }
  static const unsigned long smallest[] = { 0, 0, 0x80, 0x800, 0x10000 };
  if (cp < smallest[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return len;
}

static int
json_string_ok (json_in *j)
{
  if (j->at >= j->n || j->s[j->at] != '"')
    return 0;
  j->at++;
  while (j->at < j->n)
    {
      unsigned char c = (unsigned char) j->s[j->at];
      if (c == '"')
        {
          j->at++;
          return 1;
        }
      if (c < 0x20)
        return 0;
      if (c == '\\')
        {
          if (j->at + 1 >= j->n)
            return 0;
          char e = j->s[j->at + 1];
          if (e == 'u')
            {
              for (size_t i = 2; i < 6; i++)
                if (j->at + i >= j->n
                    || strchr ("0123456789abcdefABCDEF", j->s[j->at + i])
                         == NULL)
                  return 0;
              j->at += 6;
            }
          else if (strchr ("\"\\/bfnrt", e) != NULL && e != '\0')
            j->at += 2;
          else
            return 0;
          continue;
        }
      size_t len = utf8_length ((const unsigned char *) j->s + j->at,
                                j->n - j->at);
      if (len == 0)
        return 0;
      j->at += len;
    }
  return 0;
}

static int
json_number_ok (json_in *j)
{
  size_t start = j->at;
  if (j->at < j->n && j->s[j->at] == '-')
    j->at++;
  if (j->at >= j->n || !(j->s[j->at] >= '0' && j->s[j->at] <= '9'))
    return 0;
  if (j->s[j->at] == '0')
    j->at++;
  else
    while (j->at < j->n && j->s[j->at] >= '0' && j->s[j->at] <= '9')
      j->at++;
  if (j->at < j->n && j->s[j->at] == '.')
    {
      j->at++;
      size_t digits = j->at;
      while (j->at < j->n && j->s[j->at] >= '0' && j->s[j->at] <= '9')
        j->at++;
      if (j->at == digits)
        return 0;
    }
  if (j->at < j->n && (j->s[j->at] == 'e' || j->s[j->at] == 'E'))
    {
      j->at++;
      if (j->at < j->n && (j->s[j->at] == '+' || j->s[j->at] == '-'))
        j->at++;
      size_t digits = j->at;
      while (j->at < j->n && j->s[j->at] >= '0' && j->s[j->at] <= '9')
        j->at++;
      if (j->at == digits)
        return 0;
    }
  return j->at > start;
}

static int
json_members_ok (json_in *j, char close, int object, int depth)
{
  j->at++;
  skip_space (j);
  if (j->at < j->n && j->s[j->at] == close)
    {
      j->at++;
      return 1;
    }
  for (;;)
    {
      skip_space (j);
      if (object)
        {
          if (!json_string_ok (j))
            return 0;
          skip_space (j);
          if (j->at >= j->n || j->s[j->at] != ':')
            return 0;
          j->at++;
        }
      if (!json_value_ok (j, depth + 1))
        return 0;
      skip_space (j);
      if (j->at < j->n && j->s[j->at] == ',')
        {
          j->at++;
          continue;
        }
      if (j->at < j->n && j->s[j->at] == close)
        {
          j->at++;
          return 1;
        }
      return 0;
    }
}

static int
json_value_ok (json_in *j, int depth)
{
  skip_space (j);
  if (depth > 16 || j->at >= j->n)
    return 0;
  char c = j->s[j->at];
  if (c == '{')
    return json_members_ok (j, '}', 1, depth);
  if (c == '[')
    return json_members_ok (j, ']', 0, depth);
  if (c == '"')
    return json_string_ok (j);
  for (size_t i = 0; i < 3; i++)
    {
      static const char *const words[] = { "true", "false", "null" };
      size_t len = strlen (words[i]);
      if (j->n - j->at >= len && strncmp (j->s + j->at, words[i], len) == 0)
        {
          j->at += len;
          return 1;
        }
    }
  return json_number_ok (j);
}

static void
check_json (const char *s, size_t n)
{
  json_in j = { s, n, 0 };
  int ok = json_value_ok (&j, 0);
  skip_space (&j);
  if (!ok || j.at != n)
    {
      fprintf (stderr, "invalid JSON at byte %zu:\n%.*s\n", j.at, (int) n, s);
      abort ();
    }
}

/* Every TSV line has as many tabs as the header, and there is one line
 * per answer after it. */
static void
check_tsv (const char *s, size_t n, size_t answers)
{
  size_t lines = 0, tabs = 0, header_tabs = 0;
  for (size_t i = 0; i < n; i++)
    {
      if (s[i] == '\t')
        tabs++;
      else if (s[i] == '\n')
        {
          if (lines == 0)
            header_tabs = tabs;
          else if (tabs != header_tabs)
            {
              fprintf (stderr, "TSV line %zu has %zu tabs, header %zu:\n%.*s\n",
                       lines + 1, tabs, header_tabs, (int) n, s);
              abort ();
            }
          lines++;
          tabs = 0;
        }
    }
  if (lines != answers + 1 || (n > 0 && s[n - 1] != '\n'))
    {
      fprintf (stderr, "TSV has %zu lines for %zu answers:\n%.*s\n", lines,
               answers, (int) n, s);
      abort ();
    }
}

/* The texts, handed out in turn (the order of calls within one
 * expression does not matter: any text will do). */
typedef struct
{
  const char *pieces[MAX_PIECES];
  size_t n, next;
} texts;

static const char *
next_text (texts *t)
{
  return t->pieces[t->next++ % t->n];
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  reader r = { data, size, 0 };
  size_t n_fields = 1 + next_byte (&r) % MAX_FIELDS;
  size_t n_answers = 1 + next_byte (&r) % MAX_ANSWERS;
  /* Texts: the NUL-separated pieces of a copy of the rest. */
  char *rest = calloc (size + 1, 1);
  if (rest == NULL)
    return 0;
  memcpy (rest, data + (r.at < size ? r.at : size),
          size - (r.at < size ? r.at : size));
  texts t = { .n = 0, .next = 0 };
  size_t rest_len = size - (r.at < size ? r.at : size);
  for (size_t i = 0; i <= rest_len && t.n < MAX_PIECES;)
    {
      t.pieces[t.n++] = rest + i;
      i += strlen (rest + i) + 1;
    }
  out_field assumptions[MAX_FIELDS], fields[MAX_ANSWERS][MAX_FIELDS];
  out_answer answers[MAX_ANSWERS];
  for (size_t i = 0; i < n_fields; i++)
    {
      assumptions[i] = out_text (next_text (&t), next_text (&t), next_text (&t));
      assumptions[i].note = (next_byte (&r) & 1) ? next_text (&t) : NULL;
    }
  for (size_t a = 0; a < n_answers; a++)
    {
      for (size_t i = 0; i < n_fields; i++)
        {
          const char *name = a == 0 ? next_text (&t) : fields[0][i].name;
          uint8_t kind = next_byte (&r) % 5;
          out_field *f = &fields[a][i];
          if (kind == OUT_TEXT)
            *f = out_text (name, next_text (&t), next_text (&t));
          else if (kind == OUT_COUNT)
            *f = out_count (name, next_text (&t), next_count (&r));
          else
            {
              *f = out_real (name, next_text (&t), (out_kind) kind,
                             next_double (&r));
              if (next_byte (&r) & 1)
                f->text = next_text (&t);
            }
        }
      answers[a].title = next_text (&t);
      answers[a].fields = fields[a];
      answers[a].n_fields = n_fields;
      answers[a].remark = (next_byte (&r) & 1) ? next_text (&t) : NULL;
      answers[a].warning = NULL; /* goes to stderr, not checked */
    }
  out_report report = { next_text (&t), assumptions, n_fields, answers,
                        n_answers };
  for (int format = OUT_TABLE; format <= OUT_JSON; format++)
    {
      char *text = NULL;
      size_t len = 0;
      FILE *stream = open_memstream (&text, &len);
      if (stream == NULL)
        break;
      out_print (stream, (out_format) format, &report);
      fclose (stream);
      if (format == OUT_TSV)
        check_tsv (text, len, n_answers);
      else if (format == OUT_JSON)
        check_json (text, len);
      free (text);
    }
  free (rest);
  return 0;
}
