/* data.c - data sets for the reference trainer: gzip IDX files (as
 * Fashion-MNIST ships them), a plain CSV format for a user's own data, and
 * a seeded synthetic generator for tests.
 *
 * Readers never print: a fault is a status plus a message that names the
 * file and the byte offset (IDX) or line (CSV), so the tool can say where. */
#include "dpacct/train.h"
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <zlib.h>

int
dpacct_dataset_alloc (size_t n, size_t dim, size_t n_classes,
                      dpacct_dataset **out)
{
  if (out == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL output pointer");
  *out = NULL;
  if (n == 0 || dim == 0 || n_classes < 1 || n_classes > DPACCT_MAX_CLASSES
      || n > SIZE_MAX / sizeof (float) / dim)
    return DPACCT_FAIL (DPACCT_EDOM, "need n >= 1, dim >= 1 and 1 <= "
                                     "classes <= 256");
  dpacct_dataset *d = calloc (1, sizeof *d);
  if (d == NULL)
    return DPACCT_FAIL (DPACCT_ENOMEM, "out of memory");
  d->n = n;
  d->dim = dim;
  d->n_classes = n_classes;
  d->x = calloc (n * dim, sizeof *d->x);
  d->y = calloc (n, 1);
  if (d->x == NULL || d->y == NULL)
    {
      dpacct_dataset_free (d);
      return DPACCT_FAIL (DPACCT_ENOMEM, "out of memory for a data set");
    }
  *out = d;
  return DPACCT_OK;
}

void
dpacct_dataset_free (dpacct_dataset *data)
{
  if (data == NULL)
    return;
  free (data->x);
  free (data->y);
  free (data);
}

int
dpacct_dataset_subset (const dpacct_dataset *data, size_t first, size_t count,
                       dpacct_dataset **out)
{
  if (data == NULL || out == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL pointer");
  *out = NULL;
  if (count == 0 || first > data->n || count > data->n - first)
    return DPACCT_FAIL (DPACCT_EDOM, "subset outside the data set");
  int status = dpacct_dataset_alloc (count, data->dim, data->n_classes, out);
  if (status != DPACCT_OK)
    return status;
  memcpy ((*out)->x, data->x + first * data->dim,
          count * data->dim * sizeof *data->x);
  memcpy ((*out)->y, data->y + first, count);
  return DPACCT_OK;
}

int
dpacct_dataset_select_classes (const dpacct_dataset *data,
                               const unsigned *classes, size_t count,
                               dpacct_dataset **out)
{
  if (data == NULL || out == NULL || (classes == NULL && count > 0))
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL pointer");
  *out = NULL;
  unsigned char wanted[DPACCT_MAX_CLASSES] = { 0 };
  for (size_t k = 0; k < count; k++)
    {
      if (classes[k] >= data->n_classes)
        return DPACCT_FAIL (DPACCT_EDOM, "a selected class is not below "
                                         "the data set's classes");
      wanted[classes[k]] = 1;
    }
  size_t kept = 0;
  for (size_t i = 0; i < data->n; i++)
    kept += wanted[data->y[i]];
  if (kept == 0)
    return DPACCT_FAIL (DPACCT_EDOM, "no example has a selected class");
  int status = dpacct_dataset_alloc (kept, data->dim, data->n_classes, out);
  if (status != DPACCT_OK)
    return status;
  size_t j = 0;
  for (size_t i = 0; i < data->n; i++)
    if (wanted[data->y[i]])
      {
        memcpy ((*out)->x + j * data->dim, data->x + i * data->dim,
                data->dim * sizeof *data->x);
        (*out)->y[j++] = data->y[i];
      }
  return DPACCT_OK;
}

uint64_t
dpacct_dataset_fingerprint (const dpacct_dataset *data)
{
  uint64_t h = UINT64_C (14695981039346656037);
  const unsigned char *bytes[2] = { (const unsigned char *) data->x, data->y };
  size_t sizes[2] = { data->n * data->dim * sizeof *data->x, data->n };
  for (int part = 0; part < 2; part++)
    for (size_t i = 0; i < sizes[part]; i++)
      h = (h ^ bytes[part][i]) * UINT64_C (1099511628211);
  h ^= (uint64_t) data->n * 31 + data->dim;
  return h;
}

/* ------------------------------------------------------------ errors */

static int
fail_with (int code, char *error, size_t size, const char *format, ...)
  __attribute__ ((format (printf, 4, 5)));

static int
fail_with (int code, char *error, size_t size, const char *format, ...)
{
  char text[512];
  va_list ap;
  va_start (ap, format);
  vsnprintf (text, sizeof text, format, ap);
  va_end (ap);
  if (error != NULL && size > 0)
    snprintf (error, size, "%s", text);
  return DPACCT_FAIL (code, text);
}

/* ------------------------------------------------------------ IDX */

/* A gzip (or plain: zlib reads both) file and the offset reached. */
typedef struct {
  gzFile file;
  const char *path;
  uint64_t offset;
} reader;

static int
open_reader (reader *r, const char *path, char *error, size_t size)
{
  r->path = path;
  r->offset = 0;
  r->file = gzopen (path, "rb");
  if (r->file == NULL)
    return fail_with (DPACCT_EDOM, error, size, "%s: cannot open: %s", path,
                      errno ? strerror (errno) : "out of memory");
  gzbuffer (r->file, 1 << 17);
  return DPACCT_OK;
}

/* Reads exactly N bytes, or fails naming the offset where data ended. */
static int
read_exact (reader *r, void *buf, size_t n, const char *what, char *error,
            size_t size)
{
  unsigned char *p = buf;
  while (n > 0)
    {
      unsigned chunk = n > (1u << 30) ? 1u << 30 : (unsigned) n;
      int got = gzread (r->file, p, chunk);
      if (got <= 0)
        {
          int zerr;
          const char *msg = gzerror (r->file, &zerr);
          return fail_with (DPACCT_EDOM, error, size,
                            "%s: byte offset %llu: %s while reading %s",
                            r->path, (unsigned long long) r->offset,
                            got < 0 || zerr ? msg : "unexpected end of file",
                            what);
        }
      p += got;
      n -= (size_t) got;
      r->offset += (uint64_t) got;
    }
  return DPACCT_OK;
}

static uint32_t
big_endian (const unsigned char *b)
{
  return (uint32_t) b[0] << 24 | (uint32_t) b[1] << 16 | (uint32_t) b[2] << 8
         | b[3];
}

/* The most values one IDX item (an image) may have: 2^24. */
#define DPACCT_MAX_IDX_ITEM (1 << 24)

/* Room for CAPACITY rows in D (which holds fewer): the loaders grow a
 * data set as they read, never trusting a header's count. */
static int
grow_rows (dpacct_dataset *d, size_t capacity)
{
  if (capacity > SIZE_MAX / sizeof (float) / d->dim)
    return DPACCT_FAIL (DPACCT_ENOMEM, "data set too large");
  float *x = realloc (d->x, capacity * d->dim * sizeof *x);
  if (x == NULL)
    return DPACCT_FAIL (DPACCT_ENOMEM, "out of memory for a data set");
  d->x = x;
  unsigned char *y = realloc (d->y, capacity);
  if (y == NULL)
    return DPACCT_FAIL (DPACCT_ENOMEM, "out of memory for a data set");
  d->y = y;
  d->n = capacity;
  return DPACCT_OK;
}

/* The IDX header: magic 0x0000 08 NDIMS (unsigned bytes), then the
 * dimensions.  Returns the count and the product of the other dims. */
static int
read_idx_header (reader *r, int want_dims, uint32_t *count, size_t *item,
                 char *error, size_t size)
{
  unsigned char b[4];
  int status = read_exact (r, b, 4, "the IDX magic number", error, size);
  if (status)
    return status;
  if (b[0] != 0 || b[1] != 0 || b[2] != 0x08 || b[3] != want_dims)
    return fail_with (DPACCT_EDOM, error, size,
                      "%s: byte offset 0: not an IDX file of unsigned bytes "
                      "with %d dimensions (magic %02x%02x%02x%02x)", r->path,
                      want_dims, b[0], b[1], b[2], b[3]);
  *item = 1;
  for (int i = 0; i < want_dims; i++)
    {
      uint64_t at = r->offset;
      if ((status = read_exact (r, b, 4, "an IDX dimension", error, size)))
        return status;
      uint32_t d = big_endian (b);
      if (d == 0 || (i > 0 && d > 65536))
        return fail_with (DPACCT_EDOM, error, size,
                          "%s: byte offset %llu: bad IDX dimension %u",
                          r->path, (unsigned long long) at, d);
      if (i == 0)
        *count = d;
      else
        *item *= d;
      if (*item > DPACCT_MAX_IDX_ITEM)
        return fail_with (DPACCT_EDOM, error, size,
                          "%s: byte offset %llu: an item of more than %d "
                          "values", r->path, (unsigned long long) at,
                          DPACCT_MAX_IDX_ITEM);
    }
  return DPACCT_OK;
}

int
dpacct_dataset_read_idx (const char *images_path, const char *labels_path,
                         size_t max_examples, dpacct_dataset **out,
                         char *error, size_t error_size)
{
  if (images_path == NULL || labels_path == NULL || out == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL pointer");
  *out = NULL;
  reader im = { NULL, images_path, 0 }, lb = { NULL, labels_path, 0 };
  uint32_t n_images = 0, n_labels = 0;
  size_t pixels = 0, one = 0;
  unsigned char *row = NULL;
  dpacct_dataset *d = NULL;
  int status = open_reader (&im, images_path, error, error_size);
  if (!status)
    status = open_reader (&lb, labels_path, error, error_size);
  if (!status)
    status = read_idx_header (&im, 3, &n_images, &pixels, error, error_size);
  if (!status)
    status = read_idx_header (&lb, 1, &n_labels, &one, error, error_size);
  if (!status && n_images != n_labels)
    status = fail_with (DPACCT_EDOM, error, error_size,
                        "%s: byte offset 4: %u labels for the %u images of %s",
                        labels_path, n_labels, n_images, images_path);
  size_t n = n_images;
  if (max_examples > 0 && max_examples < n)
    n = max_examples;
  /* The header's counts are claims: memory grows with the examples
   * actually read, so a corrupt header gets an error at the end of the
   * data, not an allocation of what the file does not hold. */
  size_t capacity = n < 4096 ? n : 4096;
  if (!status)
    status = dpacct_dataset_alloc (capacity, pixels, 1, &d);
  if (!status && (row = malloc (pixels)) == NULL)
    status = DPACCT_FAIL (DPACCT_ENOMEM, "out of memory");
  unsigned max_label = 0;
  for (size_t i = 0; !status && i < n; i++)
    {
      if (i == capacity && (status = grow_rows (d, capacity = (n - i > capacity
                                                    ? 2 * capacity : n)))
                             != DPACCT_OK)
        break;
      status = read_exact (&lb, &d->y[i], 1, "the labels", error, error_size);
      if (!status && d->y[i] > max_label)
        max_label = d->y[i];
      if (!status)
        status = read_exact (&im, row, pixels, "the images", error,
                             error_size);
      for (size_t j = 0; !status && j < pixels; j++)
        d->x[i * pixels + j] = row[j] / 255.0f;
    }
  if (!status)
    d->n_classes = max_label + 1;
  free (row);
  if (im.file)
    gzclose (im.file);
  if (lb.file)
    gzclose (lb.file);
  if (status)
    dpacct_dataset_free (d);
  else
    *out = d;
  return status;
}

/* ------------------------------------------------------------ CSV */

/* Grows to hold one line of any length. */
typedef struct {
  char *text;
  size_t size;
} line_buffer;

/* Reads the next line into B; 1 when there was one, 0 at the end. */
static int
next_line (gzFile f, line_buffer *b, int *oom)
{
  size_t used = 0;
  *oom = 0;
  for (;;)
    {
      if (b->size - used < 2)
        {
          size_t size = b->size ? 2 * b->size : 4096;
          char *t = realloc (b->text, size);
          if (t == NULL)
            {
              *oom = 1;
              return 0;
            }
          b->text = t;
          b->size = size;
        }
      if (gzgets (f, b->text + used, (int) (b->size - used)) == NULL)
        return used > 0;
      used += strlen (b->text + used);
      if (used > 0 && b->text[used - 1] == '\n')
        return 1;
    }
}

/* Splits LINE into numbers (label first), at most CAP of them. */
static size_t
split_numbers (char *line, double *values, size_t cap, int *bad,
               size_t *bad_field)
{
  size_t n = 0;
  char *p = line;
  *bad = 0;
  for (;;)
    {
      while (*p == ' ' || *p == '\t')
        p++;
      if (*p == '\0' || *p == '\n' || *p == '\r')
        return n;
      char *end;
      errno = 0;
      double v = strtod (p, &end);
      if (end == p || errno == ERANGE || !isfinite (v))
        {
          *bad = 1;
          *bad_field = n + 1;
          return n;
        }
      if (n < cap)
        values[n] = v;
      n++;
      p = end;
      int blank = *p == ' ' || *p == '\t';
      while (*p == ' ' || *p == '\t')
        p++;
      if (*p == ',')
        p++;
      else if (!blank && *p != '\0' && *p != '\n' && *p != '\r')
        {
          *bad = 1;
          *bad_field = n;
          return n;
        }
    }
}

/* Rows parsed so far, grown geometrically. */
typedef struct {
  float *x;
  unsigned char *y;
  size_t n, cap, dim;
} rows;

static int
append_row (rows *r, const double *values)
{
  if (r->n == r->cap)
    {
      size_t cap = r->cap ? 2 * r->cap : 1024;
      float *x = realloc (r->x, cap * r->dim * sizeof *x);
      if (x == NULL)
        return 0;
      r->x = x;
      unsigned char *y = realloc (r->y, cap);
      if (y == NULL)
        return 0;
      r->y = y;
      r->cap = cap;
    }
  r->y[r->n] = (unsigned char) values[0];
  for (size_t j = 0; j < r->dim; j++)
    r->x[r->n * r->dim + j] = (float) values[j + 1];
  r->n++;
  return 1;
}

int
dpacct_dataset_read_csv (const char *path, size_t max_examples,
                         dpacct_dataset **out, char *error, size_t error_size)
{
  if (path == NULL || out == NULL)
    return DPACCT_FAIL (DPACCT_EINVAL, "NULL pointer");
  *out = NULL;
  reader f;
  int status = open_reader (&f, path, error, error_size);
  if (status)
    return status;
  line_buffer b = { NULL, 0 };
  rows r = { NULL, NULL, 0, 0, 0 };
  double *values = NULL;
  size_t cap = 0, line = 0, fields = 0, bad_field = 0;
  unsigned max_label = 0;
  int oom = 0, bad;
  while (!status && (max_examples == 0 || r.n < max_examples)
         && next_line (f.file, &b, &oom))
    {
      line++;
      char *p = b.text + strspn (b.text, " \t\r\n");
      if (*p == '\0' || *p == '#')
        continue;
      if (cap == 0)
        {
          /* The first row fixes the width: count its separators. */
          cap = 2;
          for (const char *s = p; *s; s++)
            cap += *s == ',' || *s == ' ' || *s == '\t';
          if ((values = malloc (cap * sizeof *values)) == NULL)
            {
              oom = 1;
              break;
            }
        }
      size_t got = split_numbers (p, values, cap, &bad, &bad_field);
      if (bad)
        status = fail_with (DPACCT_EDOM, error, error_size,
                            "%s: line %zu: field %zu is not a finite number",
                            path, line, bad_field);
      else if (fields == 0 && got < 2)
        status = fail_with (DPACCT_EDOM, error, error_size,
                            "%s: line %zu: need a label and at least one "
                            "feature", path, line);
      else if (fields != 0 && got != fields)
        status = fail_with (DPACCT_EDOM, error, error_size,
                            "%s: line %zu: %zu fields, but the first row "
                            "has %zu", path, line, got, fields);
      else if (!(values[0] >= 0 && values[0] <= 255
                 && values[0] == floor (values[0])))
        status = fail_with (DPACCT_EDOM, error, error_size,
                            "%s: line %zu: the label %g is not an integer "
                            "in [0, 255]", path, line, values[0]);
      if (status)
        break;
      if (fields == 0)
        {
          fields = got;
          r.dim = got - 1;
        }
      if (values[0] > max_label)
        max_label = (unsigned) values[0];
      if (!append_row (&r, values))
        oom = 1;
    }
  if (!status && oom)
    status = DPACCT_FAIL (DPACCT_ENOMEM, "out of memory reading a CSV file");
  if (!status)
    {
      int zerr;
      const char *msg = gzerror (f.file, &zerr);
      if (zerr != Z_OK && zerr != Z_BUF_ERROR)
        status = fail_with (DPACCT_EDOM, error, error_size,
                            "%s: line %zu: %s", path, line + 1, msg);
    }
  if (!status && r.n == 0)
    status = fail_with (DPACCT_EDOM, error, error_size,
                        "%s: line %zu: no examples in the file", path, line);
  dpacct_dataset *d = NULL;
  if (!status)
    status = dpacct_dataset_alloc (r.n, r.dim, max_label + 1, &d);
  if (!status)
    {
      memcpy (d->x, r.x, r.n * r.dim * sizeof *d->x);
      memcpy (d->y, r.y, r.n);
      *out = d;
    }
  free (r.x);
  free (r.y);
  free (values);
  free (b.text);
  gzclose (f.file);
  return status;
}

/* ------------------------------------------------------------ synthetic */

int
dpacct_dataset_synthetic (size_t n, size_t dim, size_t n_classes,
                          double separation, unsigned long seed,
                          dpacct_dataset **out)
{
  if (!(separation >= 0) || !isfinite (separation))
    return DPACCT_FAIL (DPACCT_EDOM, "separation must be finite and >= 0");
  int status = dpacct_dataset_alloc (n, dim, n_classes, out);
  if (status)
    return status;
  dpacct_dataset *d = *out;
  gsl_rng *rng = gsl_rng_alloc (gsl_rng_mt19937);
  double *centre = malloc (n_classes * dim * sizeof *centre);
  if (rng == NULL || centre == NULL)
    {
      gsl_rng_free (rng);
      free (centre);
      dpacct_dataset_free (d);
      *out = NULL;
      return DPACCT_FAIL (DPACCT_ENOMEM, "out of memory");
    }
  gsl_rng_set (rng, seed);
  /* Random directions scaled so that centres sit about SEPARATION apart. */
  for (size_t c = 0; c < n_classes; c++)
    for (size_t j = 0; j < dim; j++)
      centre[c * dim + j] = gsl_ran_gaussian (rng, 1.0) * separation
                            / sqrt (2.0 * dim);
  for (size_t i = 0; i < n; i++)
    {
      size_t c = gsl_rng_uniform_int (rng, n_classes);
      d->y[i] = (unsigned char) c;
      for (size_t j = 0; j < dim; j++)
        d->x[i * dim + j] = (float) (centre[c * dim + j]
                                     + gsl_ran_gaussian (rng, 1.0));
    }
  gsl_rng_free (rng);
  free (centre);
  return DPACCT_OK;
}
