/* large_alloc.c - arrays of doubles for a composition's window, backed by
 * huge pages where the kernel gives them on request.
 *
 * A PLD window of millions of points is a fresh array on every rung of
 * the grid ladder (the window roughly doubles from rung to rung), and
 * each 4 KiB page of it costs a page fault on first touch: on a virtual
 * machine that was a third of a long run's time.  Transparent huge pages
 * in the kernel's "madvise" mode (Debian's default) make that one fault
 * per 2 MiB.  Elsewhere the advice is ignored and nothing changes.
 * Every array is aligned to 64 bytes at least, for FFTW's SIMD. */
#include "internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#define HUGE_PAGE ((size_t) 2 << 20)

double *
dpacct_alloc_doubles (size_t n)
{
  if (n > SIZE_MAX / sizeof (double) - HUGE_PAGE)
    return NULL;
  /* 64 bytes at least, so that FFTW can plan its widest SIMD for them;
   * aligned_alloc wants a multiple of the alignment. */
  size_t bytes = n * sizeof (double);
  size_t align = bytes < 2 * HUGE_PAGE ? 64 : HUGE_PAGE;
  size_t rounded = bytes == 0 ? align : (bytes + align - 1) / align * align;
  double *p = aligned_alloc (align, rounded);
#ifdef MADV_HUGEPAGE
  if (p != NULL && align == HUGE_PAGE)
    (void) madvise (p, rounded, MADV_HUGEPAGE);
#endif
  return p;
}
