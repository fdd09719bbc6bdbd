/* replay.c - runs a fuzz harness on every file of the corpus folders
 * named on the command line, so that `make check` replays what fuzzing
 * found without needing a fuzzer.  A harness signals a bug by aborting. */
#include <config.h>

#include "fuzz.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
replay_file (const char *path)
{
  FILE *f = fopen (path, "rb");
  if (f == NULL)
    {
      perror (path);
      return 1;
    }
  size_t size = 0, capacity = 4096;
  uint8_t *data = malloc (capacity);
  size_t got;
  while (data != NULL && (got = fread (data + size, 1, capacity - size, f)) > 0)
    {
      size += got;
      if (size == capacity)
        {
          uint8_t *grown = realloc (data, capacity *= 2);
          if (grown == NULL)
            free (data);
          data = grown;
        }
    }
  fclose (f);
  if (data == NULL)
    {
      fprintf (stderr, "%s: out of memory\n", path);
      return 1;
    }
  LLVMFuzzerTestOneInput (data, size);
  free (data);
  return 0;
}

int
main (int argc, char **argv)
{
  size_t files = 0;
  int failed = 0;
  for (int i = 1; i < argc; i++)
    {
      DIR *dir = opendir (argv[i]);
      if (dir == NULL)
        {
          perror (argv[i]);
          return 1;
        }
      struct dirent *e;
      while ((e = readdir (dir)) != NULL)
        {
          if (e->d_name[0] == '.')
            continue;
          char path[4096];
          snprintf (path, sizeof path, "%s/%s", argv[i], e->d_name);
          failed |= replay_file (path);
          files++;
        }
      closedir (dir);
    }
  printf ("replayed %zu inputs\n", files);
  return failed || files == 0;
}
