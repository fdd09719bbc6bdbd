/* pld_certified_step.c - one Gaussian step's pessimistic PLD with every
 * mass rounded up, proved: the tails P(L > e) and Q(L > e) are evaluated
 * in interval arithmetic on MPFR (each operation rounded outwards, so the
 * exact value lies in the interval), and each connect-the-dots mass is
 * bounded from above by its formula over those intervals.
 *
 * Masses at least the exact connect-the-dots masses are all that the
 * certified composition needs: composition and delta(eps) are sums of
 * non-negative terms, increasing in every mass. */
#include "pld_internal.h"
#include "internal.h"

#include <math.h>
#include <mpfr.h>
#include <stdlib.h>

/* Enough that the intervals' widths (a few dozen roundings of 2^-64,
 * amplified by at most e^700 in e^{e_k} Q(L > e_k)) stay far below any
 * mass that matters; their width is in the bound, not assumed. */
enum { TAIL_PRECISION = 64 };

typedef struct
{
  mpfr_t lo, hi;
} interval;

static void
iv_init (interval *x)
{
  mpfr_inits2 (TAIL_PRECISION, x->lo, x->hi, (mpfr_ptr) 0);
}

static void
iv_clear (interval *x)
{
  mpfr_clears (x->lo, x->hi, (mpfr_ptr) 0);
}

static void
iv_set_d (interval *x, double v)
{
  mpfr_set_d (x->lo, v, MPFR_RNDD); /* exact: 160 >= 53 bits */
  mpfr_set_d (x->hi, v, MPFR_RNDU);
}

static void
iv_add (interval *r, const interval *a, const interval *b)
{
  mpfr_add (r->lo, a->lo, b->lo, MPFR_RNDD);
  mpfr_add (r->hi, a->hi, b->hi, MPFR_RNDU);
}

/* r = a - b; r may alias a, not b. */
static void
iv_sub (interval *r, const interval *a, const interval *b)
{
  mpfr_sub (r->lo, a->lo, b->hi, MPFR_RNDD);
  mpfr_sub (r->hi, a->hi, b->lo, MPFR_RNDU);
}

/* r = a * c for an exact double c (any sign). */
static void
iv_mul_d (interval *r, const interval *a, double c)
{
  if (c >= 0.0)
    {
      mpfr_mul_d (r->lo, a->lo, c, MPFR_RNDD);
      mpfr_mul_d (r->hi, a->hi, c, MPFR_RNDU);
    }
  else
    {
      mpfr_t t;
      mpfr_init2 (t, TAIL_PRECISION);
      mpfr_mul_d (t, a->hi, c, MPFR_RNDD);
      mpfr_mul_d (r->hi, a->lo, c, MPFR_RNDU);
      mpfr_swap (r->lo, t);
      mpfr_clear (t);
    }
}

/* r = a * b for non-negative a and b. */
static void
iv_mul_nonneg (interval *r, const interval *a, const interval *b)
{
  mpfr_mul (r->lo, a->lo, b->lo, MPFR_RNDD);
  mpfr_mul (r->hi, a->hi, b->hi, MPFR_RNDU);
}

/* r = f(a) for f increasing, taking (value, argument, rounding). */
typedef int increasing_fn (mpfr_ptr, mpfr_srcptr, mpfr_rnd_t);

static void
iv_increasing (interval *r, const interval *a, increasing_fn *f)
{
  f (r->lo, a->lo, MPFR_RNDD);
  f (r->hi, a->hi, MPFR_RNDU);
}

/* r = P(X > z) = erfc(z / sqrt 2) / 2 for a standard normal X: decreasing
 * in z.  r must not alias z. */
static void
iv_normal_upper (interval *r, const interval *z, const interval *inv_sqrt2)
{
  interval t;
  iv_init (&t);
  /* z / sqrt 2 with the right end of 1/sqrt 2 for each sign of z. */
  mpfr_mul (t.lo, z->lo,
            mpfr_sgn (z->lo) >= 0 ? inv_sqrt2->lo : inv_sqrt2->hi, MPFR_RNDD);
  mpfr_mul (t.hi, z->hi,
            mpfr_sgn (z->hi) >= 0 ? inv_sqrt2->hi : inv_sqrt2->lo, MPFR_RNDU);
  mpfr_erfc (r->lo, t.hi, MPFR_RNDD);
  mpfr_erfc (r->hi, t.lo, MPFR_RNDU);
  mpfr_div_2ui (r->lo, r->lo, 1, MPFR_RNDD);
  mpfr_div_2ui (r->hi, r->hi, 1, MPFR_RNDU);
  iv_clear (&t);
}

/* x = -x, in place; negation is exact. */
static void
iv_neg (interval *x)
{
  mpfr_swap (x->lo, x->hi);
  mpfr_neg (x->lo, x->lo, MPFR_RNDD);
  mpfr_neg (x->hi, x->hi, MPFR_RNDU);
}

static void
iv_copy (interval *r, const interval *a)
{
  mpfr_set (r->lo, a->lo, MPFR_RNDD);
  mpfr_set (r->hi, a->hi, MPFR_RNDU);
}

/* The constants of one pair, as intervals. */
typedef struct
{
  interval q, one_minus_q, log_q, half_over_s, inv_sqrt2;
  double s;
} pair_constants;

static void
constants_init (pair_constants *c, const pld_pair *pair)
{
  iv_init (&c->q), iv_init (&c->one_minus_q), iv_init (&c->log_q);
  iv_init (&c->half_over_s), iv_init (&c->inv_sqrt2);
  c->s = pair->scale;
  iv_set_d (&c->q, pair->q);
  mpfr_ui_sub (c->one_minus_q.lo, 1, c->q.hi, MPFR_RNDD);
  mpfr_ui_sub (c->one_minus_q.hi, 1, c->q.lo, MPFR_RNDU);
  iv_increasing (&c->log_q, &c->q, mpfr_log);
  mpfr_set_d (c->half_over_s.lo, 0.5, MPFR_RNDD);
  mpfr_div_d (c->half_over_s.lo, c->half_over_s.lo, c->s, MPFR_RNDD);
  mpfr_set_d (c->half_over_s.hi, 0.5, MPFR_RNDU);
  mpfr_div_d (c->half_over_s.hi, c->half_over_s.hi, c->s, MPFR_RNDU);
  mpfr_set_d (c->inv_sqrt2.lo, 0.5, MPFR_RNDD);
  mpfr_sqrt (c->inv_sqrt2.lo, c->inv_sqrt2.lo, MPFR_RNDD);
  mpfr_set_d (c->inv_sqrt2.hi, 0.5, MPFR_RNDU);
  mpfr_sqrt (c->inv_sqrt2.hi, c->inv_sqrt2.hi, MPFR_RNDU);
}

static void
constants_clear (pair_constants *c)
{
  iv_clear (&c->q), iv_clear (&c->one_minus_q), iv_clear (&c->log_q);
  iv_clear (&c->half_over_s), iv_clear (&c->inv_sqrt2);
}

/* Base tails at threshold theta of the base loss l = (2x - 1)/(2 s^2):
 * M0(l > theta) = Pbar(s theta + 1/(2s)) and
 * M1(l > theta) = Pbar(s theta - 1/(2s)); `below` gives M(l < theta)
 * instead, by the symmetry Pbar(-z). */
static void
base_tails (const pair_constants *c, const interval *theta, int below,
            interval *m0, interval *m1)
{
  interval z;
  iv_init (&z);
  iv_mul_d (&z, theta, c->s);
  iv_add (&z, &z, &c->half_over_s);
  if (below)
    iv_neg (&z);
  iv_normal_upper (m0, &z, &c->inv_sqrt2);
  iv_mul_d (&z, theta, c->s);
  iv_sub (&z, &z, &c->half_over_s);
  if (below)
    iv_neg (&z);
  iv_normal_upper (m1, &z, &c->inv_sqrt2);
  iv_clear (&z);
}

/* r = (1-q) a + q b. */
static void
mix (const pair_constants *c, const interval *a, const interval *b,
     interval *r)
{
  interval t;
  iv_init (&t);
  iv_mul_nonneg (&t, &c->q, b);
  iv_mul_nonneg (r, &c->one_minus_q, a);
  iv_add (r, r, &t);
  iv_clear (&t);
}

/* Enclosures of P(L > e) and Q(L > e) at the exact loss e.  With
 * sampling, L > e iff the base loss passes theta = log((e^{+-e} - 1 + q)/q)
 * (see pld_pair.c); where the logarithm's argument may be <= 0 its end
 * is -infinity, which MPFR carries through to tails of 1 or 0. */
static void
tails (const pld_pair *pair, const pair_constants *c, mpfr_srcptr e,
       interval *p, interval *q)
{
  interval theta, m0, m1;
  iv_init (&theta), iv_init (&m0), iv_init (&m1);
  int remove = pair->direction == PLD_REMOVE;
  mpfr_set (theta.lo, e, MPFR_RNDD);
  mpfr_set (theta.hi, e, MPFR_RNDU);
  if (!remove)
    iv_neg (&theta); /* add: L = -l' with l' the mixture's loss */
  if (pair->q < 1.0)
    {
      iv_increasing (&theta, &theta, mpfr_expm1);
      iv_add (&theta, &theta, &c->q);
      if (mpfr_sgn (theta.lo) < 0)
        mpfr_set_zero (theta.lo, 1);
      if (mpfr_sgn (theta.hi) < 0)
        mpfr_set_zero (theta.hi, 1);
      iv_increasing (&theta, &theta, mpfr_log); /* log 0 = -Inf */
      iv_sub (&theta, &theta, &c->log_q);
    }
  if (remove)
    {
      /* L > e iff l > theta: Q = M0, P = (1-q) M0 + q M1. */
      base_tails (c, &theta, 0, &m0, &m1);
      iv_copy (q, &m0);
      mix (c, &m0, &m1, p);
    }
  else
    {
      /* L > e iff l < theta: P = M0, Q = (1-q) M0 + q M1. */
      base_tails (c, &theta, 1, &m0, &m1);
      iv_copy (p, &m0);
      mix (c, &m0, &m1, q);
    }
  iv_clear (&theta), iv_clear (&m0), iv_clear (&m1);
}

/* Adds the upper end of x (clamped to [0, cap]) to *sum, rounding up. */
static void
add_upper (mpfr_t sum, const interval *x, mpfr_srcptr cap)
{
  if (mpfr_sgn (x->hi) <= 0)
    return;
  if (mpfr_cmp (x->hi, cap) < 0)
    mpfr_add (sum, sum, x->hi, MPFR_RNDU);
  else
    mpfr_add (sum, sum, cap, MPFR_RNDU);
}

int
dpacct_pld_certified_step (const pld_pair *pair, double h, long first,
                           size_t n, pld_step *out)
{
  if (pair->base != PLD_GAUSSIAN)
    return DPACCT_FAIL (DPACCT_EUNSUP,
                        "certified PLD bounds cover Gaussian noise only");
  if (pair->direction == PLD_OPPOSITE) /* a lower bound's pair only */
    return DPACCT_FAIL (DPACCT_EUNSUP,
                        "certified PLD steps are add or remove pairs");
  out->h = h;
  out->first = first;
  out->n = n;
  out->infinity = 0.0;
  out->mass = calloc (n, sizeof *out->mass);
  mpfr_t *sum = malloc (n * sizeof *sum);
  if (out->mass == NULL || sum == NULL)
    {
      free (sum);
      dpacct_pld_step_release (out);
      return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate a PLD");
    }
  for (size_t k = 0; k < n; k++)
    {
      mpfr_init2 (sum[k], TAIL_PRECISION);
      mpfr_set_zero (sum[k], 1);
    }
  pair_constants c;
  constants_init (&c, pair);
  /* e^{-h} and 1 - e^{-h}, the connect-the-dots weights. */
  interval e_minus_h, one_minus, pa, qa, pb, qb, pm, am, part, t;
  interval *intervals[] = { &e_minus_h, &one_minus, &pa, &qa, &pb, &qb,
                            &pm, &am, &part, &t };
  for (size_t i = 0; i < sizeof intervals / sizeof *intervals; i++)
    iv_init (intervals[i]);
  mpfr_t e, e_next;
  mpfr_inits2 (2 * TAIL_PRECISION, e, e_next, (mpfr_ptr) 0);
  iv_set_d (&t, -h);
  iv_increasing (&e_minus_h, &t, mpfr_exp);
  mpfr_ui_sub (one_minus.lo, 1, e_minus_h.hi, MPFR_RNDD);
  mpfr_ui_sub (one_minus.hi, 1, e_minus_h.lo, MPFR_RNDU);
  /* Grid losses e_k = (first + k) h, exact at this precision. */
  mpfr_set_si (e, first, MPFR_RNDN);
  mpfr_mul_d (e, e, h, MPFR_RNDN);
  tails (pair, &c, e, &pa, &qa);
  /* Below the grid, raised to its first point: P(L <= e_0). */
  mpfr_ui_sub (sum[0], 1, pa.lo, MPFR_RNDU);
  for (size_t k = 0; k + 1 < n; k++)
    {
      mpfr_set_si (e_next, first + (long) k + 1, MPFR_RNDN);
      mpfr_mul_d (e_next, e_next, h, MPFR_RNDN);
      tails (pair, &c, e_next, &pb, &qb);
      /* pm = P-mass of (e_k, e_k+1], am = e^{e_k} times its Q-mass. */
      iv_sub (&pm, &pa, &pb);
      iv_sub (&am, &qa, &qb);
      if (mpfr_sgn (am.lo) < 0)
        mpfr_set_zero (am.lo, 1); /* a mass: never negative */
      mpfr_set (t.lo, e, MPFR_RNDD);
      mpfr_set (t.hi, e, MPFR_RNDU);
      iv_increasing (&t, &t, mpfr_exp);
      iv_mul_nonneg (&am, &am, &t);
      /* Upper end: (pm - am) / (1 - e^-h); lower end: the rest,
       * (am - e^-h pm) / (1 - e^-h).  Each is at most pm exactly. */
      iv_sub (&part, &pm, &am);
      mpfr_div (part.hi, part.hi, one_minus.lo, MPFR_RNDU);
      add_upper (sum[k + 1], &part, pm.hi);
      if (mpfr_sgn (pm.lo) < 0)
        mpfr_set_zero (pm.lo, 1);
      iv_mul_nonneg (&t, &e_minus_h, &pm);
      iv_sub (&part, &am, &t);
      mpfr_div (part.hi, part.hi, one_minus.lo, MPFR_RNDU);
      add_upper (sum[k], &part, pm.hi);
      mpfr_swap (pa.lo, pb.lo), mpfr_swap (pa.hi, pb.hi);
      mpfr_swap (qa.lo, qb.lo), mpfr_swap (qa.hi, qb.hi);
      mpfr_swap (e, e_next);
    }
  /* Above the grid: +infinity. */
  out->infinity = mpfr_get_d (pa.hi, MPFR_RNDU);
  for (size_t k = 0; k < n; k++)
    {
      out->mass[k] = mpfr_get_d (sum[k], MPFR_RNDU);
      mpfr_clear (sum[k]);
    }
  free (sum);
  mpfr_clears (e, e_next, (mpfr_ptr) 0);
  for (size_t i = 0; i < sizeof intervals / sizeof *intervals; i++)
    iv_clear (intervals[i]);
  constants_clear (&c);
  return DPACCT_OK;
}
