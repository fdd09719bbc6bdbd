/* erfc_many.c - erfc of many arguments at once.
 *
 * The PLD's Gaussian tails take two erfc a grid point, most of a
 * discretisation's time.  glibc's vector erfc (libmvec, x86-64, glibc
 * 2.35 on) takes four at a time with AVX2, or two with SSE, at a fifth
 * and a half of the scalar erfc's time, within 2 ulp of MPFR's erfc from
 * -6 to 27 where the scalar one is within 3 (check_pld holds both to 4).
 * Without libmvec, the scalar erfc. */
#include <config.h>

#include "internal.h"

#include <math.h>
#include <stddef.h>

#if defined HAVE_MVEC_ERFC && defined __x86_64__ && defined __GNUC__
#include <immintrin.h>

__m128d _ZGVbN2v_erfc (__m128d x);
__attribute__ ((target ("avx2"))) __m256d _ZGVdN4v_erfc (__m256d x);

/* The last few through a padded vector too, so that every value comes
 * from the same function whatever its place in the array. */
__attribute__ ((target ("avx2"))) static void
erfc_by_four (const double *x, double *out, size_t n)
{
  size_t i = 0;
  for (; i + 4 <= n; i += 4)
    _mm256_storeu_pd (out + i, _ZGVdN4v_erfc (_mm256_loadu_pd (x + i)));
  if (i < n)
    {
      double in[4] = { 0.0 }, last[4];
      for (size_t k = i; k < n; k++)
        in[k - i] = x[k];
      _mm256_storeu_pd (last, _ZGVdN4v_erfc (_mm256_loadu_pd (in)));
      for (size_t k = i; k < n; k++)
        out[k] = last[k - i];
    }
}

static void
erfc_by_two (const double *x, double *out, size_t n)
{
  size_t i = 0;
  for (; i + 2 <= n; i += 2)
    _mm_storeu_pd (out + i, _ZGVbN2v_erfc (_mm_loadu_pd (x + i)));
  if (i < n)
    {
      double last[2];
      _mm_storeu_pd (last, _ZGVbN2v_erfc (_mm_set_pd (0.0, x[i])));
      out[i] = last[0];
    }
}

void
dpacct_erfc_many (const double *x, double *out, size_t n)
{
  if (__builtin_cpu_supports ("avx2"))
    erfc_by_four (x, out, n);
  else
    erfc_by_two (x, out, n);
}
#else
void
dpacct_erfc_many (const double *x, double *out, size_t n)
{
  for (size_t i = 0; i < n; i++)
    out[i] = erfc (x[i]);
}
#endif
