/* pld_low_band.c - a factor's lowest DFT coefficients from block moments.
 *
 * A long composition's product of transforms vanishes at all but its
 * lowest frequencies (see dpacct_pld_transform_into), and at those a
 * factor's transform turns slowly from one grid point to the next.  In a
 * block of P points around index c, with t = u / (P/2) in [-1, 1) for
 * the point at c + u and a = pi k P / n for coefficient k,
 *
 *   sum_u x_u e^{-2 pi i k (c + u) / n}
 *     = e^{-2 pi i k c / n} sum_m (-i a)^m / m! mu_m,  mu_m = sum_u x_u t^m,
 *
 * and while a <= 1/2 the terms past m = 14 add at most 2.3e-17 of the
 * block's mass.  So `band` coefficients cost a pass over the points for
 * the blocks' moments and band x blocks short sums, where an FFT costs
 * n log n whatever the band.  The error bound is worked out in
 * dpacct_pld_low_band_bound. */
#include "pld_internal.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

/* The series' last term is (-i a)^ORDER / ORDER!, for a <= MAX_A; each
 * moment sums SUB points at a time, then the blocks' sub-sums. */
enum { ORDER = 14, SUB = 16 };
static const double MAX_A = 0.5;

/* The block size: the largest power of two P >= 2 with pi (band - 1) P / n
 * <= MAX_A, and no larger than the first power of two at or past len (one
 * block); 0 when even P = 2 is too wide. */
static size_t
block_size (size_t len, size_t n, size_t band)
{
  double top = M_PI * (double) (band > 1 ? band - 1 : 1) / (double) n;
  size_t p = 2;
  if (top * 2.0 > MAX_A)
    return 0;
  while (p < len && top * (double) (2 * p) <= MAX_A)
    p *= 2;
  return p;
}

int
dpacct_pld_low_band_cheaper (size_t len, size_t n, size_t band)
{
  size_t p = block_size (len, n, band);
  if (p == 0 || band == 0)
    return 0;
  double blocks = ceil ((double) len / (double) p);
  /* Costs measured on one core (ns): the moments about 6.5 a point, each
   * coefficient about 100 and each of its blocks 4.2 more; an n-point
   * real FFT by FFTW about 0.14 n log2 n. */
  double direct = 6.5 * (double) len + (double) band * (100.0 + 4.2 * blocks);
  double fft = 0.14 * (double) n * log2 ((double) n);
  return direct < fft;
}

/* With gamma_j = j u / (1 - j u), X_b the block's mass (every |mu_m| is
 * at most X_b, as |t| <= 1) and a <= A = MAX_A:
 * - a is computed within gamma_3 of pi k P / n, which moves each e^{-i a
 *   t} by at most gamma_3 a;
 * - x t^m is within gamma_m of itself, and a^m / m! (by a product and a
 *   quotient from the one before) within gamma_2m: weighted by a^m / m!,
 *   at most 3 u a e^a in all;
 * - each moment sums SUB points, then at most P/SUB sub-sums: within
 *   gamma_{SUB + P/SUB} of X_b; the even and odd parts are dot products
 *   of at most ORDER/2 + 1 terms, within gamma_{ORDER/2+2} of their
 *   terms' moduli, which sum to at most e^a X_b;
 * - the terms past ORDER add at most a^(ORDER+1) / (ORDER+1)! X_b;
 * - the block's phase is the product of two table entries, each within
 *   12 u of itself in both parts (see phase), so within 37 u; its product
 *   with the block's sum adds sqrt 5 u (Brent, Percival and Zimmermann
 *   2007), and the sum over the blocks gamma_blocks of the terms, each at
 *   most X_b (1 + 1e-12) in modulus.
 * The X_b sum to the mass; the bound doubles the first-order sum, which
 * covers the second-order terms with room to spare. */
double
dpacct_pld_low_band_bound (size_t len, size_t n, size_t band, double mass)
{
  size_t p = block_size (len, n, band);
  if (p == 0 || band == 0 || len == 0)
    return NAN;
  double u = DBL_EPSILON / 2.0, blocks = ceil ((double) len / (double) p);
  double truncation = 1.0;
  for (int m = 1; m <= ORDER + 1; m++)
    truncation *= MAX_A / m;
  double per_mass = exp (MAX_A) * (SUB + (double) p / SUB + ORDER / 2 + 2.0
                                   + 6.0 * MAX_A)
                    + 40.0 + blocks;
  return mass * (2.0 * per_mass * u + truncation);
}

/* e^{-2 pi i m / n}, each part within 12 u: the angle is reduced to
 * [-pi, pi] exactly (on integers), its three roundings (2 pi, the
 * product, the quotient) move it by at most 3.2 u pi, and cos and sin
 * are within an ulp. */
static void
phase (size_t m, size_t n, double *out)
{
  double r = 2 * m > n ? (double) m - (double) n : (double) m;
  double angle = -2.0 * M_PI * r / (double) n;
  out[0] = cos (angle);
  out[1] = sin (angle);
}

int
dpacct_pld_low_band_init (pld_low_band *lb, size_t n, size_t longest)
{
  lb->n = n;
  lb->shift = 1;
  while (((size_t) 1 << (2 * lb->shift)) < n)
    lb->shift++;
  size_t fine = (size_t) 1 << lb->shift, coarse = (n >> lb->shift) + 1;
  lb->fine = malloc (2 * (fine + coarse) * sizeof *lb->fine);
  lb->coarse = lb->fine != NULL ? lb->fine + 2 * fine : NULL;
  lb->x = malloc ((longest + 1) * sizeof *lb->x);
  lb->moments = malloc (((longest + 1) / 2 + 1) * (ORDER + 1)
                        * sizeof *lb->moments);
  lb->phases_made = 0;
  if (lb->fine == NULL || lb->x == NULL || lb->moments == NULL)
    {
      dpacct_pld_low_band_release (lb);
      return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate low-band scratch");
    }
  return DPACCT_OK;
}

void
dpacct_pld_low_band_release (pld_low_band *lb)
{
  free (lb->fine), free (lb->x), free (lb->moments);
  lb->fine = lb->coarse = lb->x = lb->moments = NULL;
}

/* The two phase tables: e^{-2 pi i m / n} = coarse[m >> shift] times
 * fine[m mod 2^shift], some 2 sqrt(n) entries each taken once. */
static void
make_phases (pld_low_band *lb)
{
  size_t fine = (size_t) 1 << lb->shift, coarse = (lb->n >> lb->shift) + 1;
  for (size_t i = 0; i < fine; i++)
    phase (i % lb->n, lb->n, lb->fine + 2 * i);
  for (size_t i = 0; i < coarse; i++)
    phase ((i << lb->shift) % lb->n, lb->n, lb->coarse + 2 * i);
  lb->phases_made = 1;
}

void
dpacct_pld_low_band (pld_low_band *lb, size_t len, long first, size_t band,
                     fftw_complex *out)
{
  size_t n = lb->n, p = block_size (len, n, band);
  size_t blocks = (len + p - 1) / p, half = p / 2;
  size_t mask = ((size_t) 1 << lb->shift) - 1;
  double scale = 1.0 / (double) half; /* a power of two: t is exact */
  const double *x = lb->x;
  if (!lb->phases_made)
    make_phases (lb);
  /* Block b's moments at moments[b (ORDER + 1) + m], about its centre
   * b p + half (counted from x's first point). */
  for (size_t b = 0; b < blocks; b++)
    {
      double *mu = lb->moments + b * (ORDER + 1);
      for (int m = 0; m <= ORDER; m++)
        mu[m] = 0.0;
      size_t end = (b + 1) * p < len ? (b + 1) * p : len;
      for (size_t from = b * p; from < end; from += SUB)
        {
          double sub[ORDER + 1] = { 0.0 };
          size_t to = from + SUB < end ? from + SUB : end;
          for (size_t i = from; i < to; i++)
            {
              double t = ((double) i - (double) (b * p + half)) * scale;
              double power = x[i];
              for (int m = 0; m <= ORDER; m++)
                {
                  sub[m] += power;
                  power *= t;
                }
            }
          for (int m = 0; m <= ORDER; m++)
            mu[m] += sub[m];
        }
    }
  /* The first block's centre as an index mod n. */
  long r = (first + (long) half) % (long) n;
  size_t centre = (size_t) (r < 0 ? r + (long) n : r);
  for (size_t k = 0; k < band; k++)
    {
      double a = M_PI * (double) (k * p) / (double) n;
      double coef[ORDER + 1];
      coef[0] = 1.0;
      for (int m = 1; m <= ORDER; m++)
        coef[m] = coef[m - 1] * a / m;
      /* Block b's centre times k, mod n: k c0 and then k p a block. */
      size_t at = (size_t) (((uint64_t) k * centre) % n);
      size_t stride = (size_t) (((uint64_t) k * p) % n);
      double re = 0.0, im = 0.0;
      for (size_t b = 0; b < blocks; b++)
        {
          /* (-i a)^m is a^m, -i a^m, -a^m, i a^m for m = 0, 1, 2, 3 mod 4. */
          const double *mu = lb->moments + b * (ORDER + 1);
          double even = 0.0, odd = 0.0;
          for (int m = 0; m <= ORDER; m += 2)
            even += (m % 4 == 0 ? coef[m] : -coef[m]) * mu[m];
          for (int m = 1; m <= ORDER; m += 2)
            odd += (m % 4 == 1 ? -coef[m] : coef[m]) * mu[m];
          const double *c = lb->coarse + 2 * (at >> lb->shift);
          const double *f = lb->fine + 2 * (at & mask);
          double fr = c[0] * f[0] - c[1] * f[1];
          double fi = c[0] * f[1] + c[1] * f[0];
          re += fr * even - fi * odd;
          im += fr * odd + fi * even;
          at += stride;
          if (at >= n)
            at -= n;
        }
      out[k][0] = re;
      out[k][1] = im;
    }
}
