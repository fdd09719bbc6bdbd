/* fuzz_loaders.c - fuzz harness for the data loaders (CSV, IDX, gzip).
 *
 * The first byte picks the format; for IDX the next two bytes say where
 * the input splits into the images file and the labels file.  The files
 * go to a private temporary folder.  A loader must accept or reject each
 * input with a message, never crash, over-read, leak or try to allocate
 * what the file cannot hold. */
#include <config.h>

#include "fuzz.h"

#include <dpacct.h>
#include <dpacct/train.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char folder[64], file_a[96], file_b[96];

static void
remove_folder (void)
{
  unlink (file_a);
  unlink (file_b);
  rmdir (folder);
}

static int
write_file (const char *path, const uint8_t *data, size_t size)
{
  FILE *f = fopen (path, "wb");
  if (f == NULL)
    return 1;
  int bad = fwrite (data, 1, size, f) != size;
  return fclose (f) != 0 || bad;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (folder[0] == '\0')
    {
      snprintf (folder, sizeof folder, "/tmp/dpacct-fuzz-XXXXXX");
      if (mkdtemp (folder) == NULL)
        abort ();
      snprintf (file_a, sizeof file_a, "%s/a", folder);
      snprintf (file_b, sizeof file_b, "%s/b", folder);
      atexit (remove_folder);
    }
  if (size < 3)
    return 0;
  dpacct_dataset *set = NULL;
  char error[256];
  if (data[0] & 1)
    {
      if (write_file (file_a, data + 1, size - 1) == 0)
        dpacct_dataset_read_csv (file_a, 1000, &set, error, sizeof error);
    }
  else
    {
      size_t split = ((size_t) data[1] << 8 | data[2]) % (size - 2);
      if (write_file (file_a, data + 3, split) == 0
          && write_file (file_b, data + 3 + split, size - 3 - split) == 0)
        dpacct_dataset_read_idx (file_a, file_b, 1000, &set, error,
                                 sizeof error);
    }
  dpacct_dataset_free (set);
  return 0;
}
