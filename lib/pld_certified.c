/* pld_certified.c - a proved upper bound from certified pessimistic steps:
 * composition by direct convolution with every rounding bounded, and
 * delta(eps) summed in MPFR with directed rounding.
 *
 * Why this is an upper bound.  Let p be the exact connect-the-dots PLDs
 * (a pessimistic PLD: its composition's delta bounds the mechanism's) and
 * p~ >= p entrywise the certified steps (pld_certified_step.c).  Every
 * operation below is increasing in every mass: convolution of
 * non-negative vectors, moving mass to a higher loss or to +infinity
 * (which also keeps the exact PLD pessimistic, since delta(eps) =
 * sum p_l (1 - e^{eps - l})_+ grows with every loss), and delta itself.
 * Each is computed with its rounding error bounded from above, so the
 * result is at least the exact delta of a pessimistic PLD.
 *
 * The FFT is not used: its error is a fraction of the largest mass, not
 * of each one, and GSL's mixed-radix error constants are not proved.
 * Direct convolution costs n^2 per product, so the grid is kept to a few
 * thousand points by moving the ends' negligible mass (a set budget) up. */
#include "pld_internal.h"
#include "internal.h"

#include <math.h>
#include <mpfr.h>
#include <stdlib.h>
#include <string.h>

/* x moved past the rounding of the operation that produced it. */
static double
up (double x)
{
  return nextafter (x, INFINITY);
}

/* An upper bound on the exact sum of m non-negative products whose
 * computed sum (in any order, fused or not) is s.  Each term is off by at
 * most gamma_m = m u / (1 - m u) relatively (Higham, Accuracy and
 * Stability of Numerical Algorithms, 2nd ed., section 3.1), so the exact
 * sum is at most s / (1 - gamma_m) <= s (1 + 4 m u) for m u <= 1/4; the
 * absolute term covers products lost to underflow, even when flushed. */
static double
sum_bound (double s, size_t m)
{
  double factor = 1.0 + (double) (m + 1) * 0x1p-51; /* exact: 1 + 4(m+1)u */
  return up (up (s + (double) m * 0x1p-1021) * factor);
}

static double
total_mass (const pld_step *x)
{
  double s = 0.0;
  for (size_t k = 0; k < x->n; k++)
    s += x->mass[k];
  return sum_bound (s, x->n);
}

/* The composition of a and b: finite parts convolved, +infinity reached
 * from either.  Fails with ENOMEM past 2 max_points points. */
static int
convolve (const pld_step *a, const pld_step *b, size_t max_points,
          pld_step *out)
{
  size_t n = a->n + b->n - 1;
  if (n > 2 * max_points)
    return DPACCT_FAIL (DPACCT_ENOMEM, "a certified PLD needs more points "
                        "than the memory cap allows");
  double *mass = calloc (n, sizeof *mass);
  if (mass == NULL)
    return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate a certified PLD");
  for (size_t i = 0; i < a->n; i++)
    {
      double ai = a->mass[i];
      double *row = mass + i;
      for (size_t j = 0; j < b->n; j++)
        row[j] += ai * b->mass[j];
    }
  size_t terms = a->n < b->n ? a->n : b->n;
  for (size_t k = 0; k < n; k++)
    mass[k] = sum_bound (mass[k], terms);
  /* inf(a) |b| + inf(b) |a| + inf(a) inf(b), at most 1 exactly. */
  double inf = up (up (a->infinity * total_mass (b))
                   + up (b->infinity * total_mass (a)));
  inf = up (inf + up (a->infinity * b->infinity));
  out->h = a->h;
  out->first = a->first + b->first;
  out->n = n;
  out->mass = mass;
  out->infinity = fmin (inf, 1.0);
  return DPACCT_OK;
}

/* Moves up to `budget` of mass at each end: the lowest losses up to the
 * first point kept, the highest to +infinity. */
static void
trim (pld_step *x, double budget)
{
  size_t lo = 0, hi = x->n;
  double moved = 0.0;
  while (lo + 1 < hi && up (moved + x->mass[lo]) <= budget)
    moved = up (moved + x->mass[lo++]);
  x->mass[lo] = up (x->mass[lo] + moved);
  moved = 0.0;
  while (hi - 1 > lo && up (moved + x->mass[hi - 1]) <= budget)
    moved = up (moved + x->mass[--hi]);
  x->infinity = fmin (up (x->infinity + moved), 1.0);
  memmove (x->mass, x->mass + lo, (hi - lo) * sizeof *x->mass);
  x->first += (long) lo;
  x->n = hi - lo;
}

/* *acc = *acc composed with b, trimmed; b is kept unless it is acc. */
static int
compose_into (pld_step *acc, const pld_step *b, double budget,
              size_t max_points)
{
  pld_step r;
  int status = convolve (acc, b, max_points, &r);
  if (status != DPACCT_OK)
    return status;
  trim (&r, budget);
  dpacct_pld_step_release (acc);
  *acc = r;
  if (r.n > max_points)
    return DPACCT_FAIL (DPACCT_ENOMEM, "a certified PLD needs more points "
                        "than the memory cap allows");
  return DPACCT_OK;
}

static int
step_copy (const pld_step *from, pld_step *to)
{
  *to = *from;
  to->mass = malloc (from->n * sizeof *to->mass);
  if (to->mass == NULL)
    return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate a certified PLD");
  memcpy (to->mass, from->mass, from->n * sizeof *to->mass);
  return DPACCT_OK;
}

static unsigned
bit_length (uint64_t x)
{
  unsigned bits = 0;
  for (; x > 0; x >>= 1)
    bits++;
  return bits;
}

int
dpacct_pld_certified_compose (const pld_factor *f, size_t nf, double budget,
                              size_t max_points, pld_step *out)
{
  /* Each product trims at most its share of the budget at each end. */
  double products = 0.0;
  for (size_t j = 0; j < nf; j++)
    products += 2.0 * bit_length (f[j].count);
  double share = budget / (2.0 * products);
  out->h = f[0].step->h;
  out->first = 0;
  out->n = 1;
  out->infinity = 0.0;
  out->mass = malloc (sizeof *out->mass);
  if (out->mass == NULL)
    return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate a certified PLD");
  out->mass[0] = 1.0; /* no loss yet */
  int status = DPACCT_OK;
  for (size_t j = 0; status == DPACCT_OK && j < nf; j++)
    {
      /* Binary powering: square the step, multiply in the set bits. */
      pld_step power;
      status = step_copy (f[j].step, &power);
      for (uint64_t c = f[j].count; status == DPACCT_OK && c > 0; c >>= 1)
        {
          if (c & 1)
            status = compose_into (out, &power, share, max_points);
          if (status == DPACCT_OK && c > 1)
            status = compose_into (&power, &power, share, max_points);
        }
      dpacct_pld_step_release (&power);
    }
  if (status != DPACCT_OK)
    dpacct_pld_step_release (out);
  return status;
}

/* The first index whose loss is above eps (n when none is). */
static size_t
first_above (const pld_step *c, double eps)
{
  double pos = floor (eps / c->h) - (double) c->first + 1.0;
  size_t k = pos <= 0.0 ? 0 : pos >= (double) c->n ? c->n : (size_t) pos;
  /* The division rounds: settle the boundary on the exact losses. */
  while (k > 0 && (c->first + (long) k - 1) * c->h > eps)
    k--;
  while (k < c->n && !((c->first + (long) k) * c->h > eps))
    k++;
  return k;
}

/* delta(eps) in plain double, to find where to look. */
static double
delta_estimate (const pld_step *c, double eps)
{
  double sum = c->infinity;
  for (size_t k = first_above (c, eps); k < c->n; k++)
    sum += -expm1 (eps - (c->first + (long) k) * c->h) * c->mass[k];
  return sum;
}

/* delta(eps) = sum_k (1 - e^{eps - l_k})_+ m_k + m_inf, proved:
 * e^{eps - l_k} is bounded from below (rounded down, walked down the grid
 * by factors e^-h rounded down), the rest rounded up.  first_above
 * compares rounded losses, so the sum starts one point lower; a term whose
 * bound on 1 - e^{eps - l_k} is not positive is dropped (exactly 0). */
double
dpacct_pld_certified_delta (const pld_step *c, double eps)
{
  mpfr_t diff, ex, decay, coef, sum;
  mpfr_init2 (diff, 256); /* eps - (first + k) h: exact */
  mpfr_inits2 (64, ex, decay, coef, sum, (mpfr_ptr) 0);
  size_t k = first_above (c, eps);
  if (k > 0)
    k--;
  mpfr_set_d (sum, c->infinity, MPFR_RNDU);
  if (k < c->n)
    {
      mpfr_set_si (diff, c->first + (long) k, MPFR_RNDN);
      mpfr_mul_d (diff, diff, c->h, MPFR_RNDN);
      mpfr_d_sub (diff, eps, diff, MPFR_RNDN);
      mpfr_exp (ex, diff, MPFR_RNDD);
      mpfr_set_d (decay, -c->h, MPFR_RNDN);
      mpfr_exp (decay, decay, MPFR_RNDD);
    }
  for (; k < c->n; k++)
    {
      mpfr_ui_sub (coef, 1, ex, MPFR_RNDU);
      if (mpfr_sgn (coef) > 0)
        {
          mpfr_mul_d (coef, coef, c->mass[k], MPFR_RNDU);
          mpfr_add (sum, sum, coef, MPFR_RNDU);
        }
      mpfr_mul (ex, ex, decay, MPFR_RNDD);
    }
  double delta = mpfr_get_d (sum, MPFR_RNDU);
  mpfr_clears (diff, ex, decay, coef, sum, (mpfr_ptr) 0);
  return fmin (delta, 1.0);
}

/* The smallest eps found with a proved delta(eps) <= delta: bisection on
 * the estimate, then the proof, stepping up until it holds. */
double
dpacct_pld_certified_epsilon (const pld_step *c, double delta)
{
  double top = fmax ((c->first + (long) c->n) * c->h, 0.0);
  if (dpacct_pld_certified_delta (c, top) > delta)
    return INFINITY; /* +infinity alone is above delta */
  if (dpacct_pld_certified_delta (c, 0.0) <= delta)
    return 0.0;
  double lo = 0.0, hi = top;
  for (int i = 0; i < 200 && hi - lo > 1e-13 * fmax (1.0, hi); i++)
    {
      double mid = 0.5 * (lo + hi);
      if (delta_estimate (c, mid) > delta)
        lo = mid;
      else
        hi = mid;
    }
  for (double step = 1e-12 * fmax (1.0, hi);
       hi < top && dpacct_pld_certified_delta (c, hi) > delta; step *= 2.0)
    hi = fmin (hi + step, top);
  return hi;
}
