/* pld_pair.c - tail functions of the privacy loss of one mechanism step.
 *
 * Base mechanisms M(0), M(1) with sensitivity 1 and base loss
 * l(x) = log(M1(x)/M0(x)): Gaussian N(0, s^2) vs N(1, s^2), where
 * l = (2x - 1)/(2 s^2); Laplace Lap(0, b) vs Lap(1, b), where
 * l = (|x| - |x - 1|)/b.  Poisson sampling with rate q mixes M(1) into
 * M(0); both directions of add/remove are pairs of their own, and so is
 * the pair of an example at +1 replaced by one at -1. */
#include "pld_internal.h"
#include "logmath.h"

#include <math.h>

/* log P(X > z) for a standard normal X, accurate in both tails. */
static double
log_normal_upper (double z)
{
  return dpacct_log_erfc (z / M_SQRT2) - M_LN2;
}

/* log M_which(l > theta) and log M_which(l < theta). */
static double
base_upper (const pld_pair *p, int which, double theta)
{
  double s = p->scale;
  if (p->base == PLD_GAUSSIAN)
    {
      double x = s * s * theta + 0.5;
      return log_normal_upper ((x - which) / s);
    }
  if (theta < -1.0 / s)
    return 0.0;
  if (theta >= 1.0 / s)
    return -INFINITY;
  double x = (theta * s + 1.0) / 2.0; /* in [0, 1) */
  return which == 0 ? -M_LN2 - x / s : log1p (-0.5 * exp ((x - 1.0) / s));
}

static double
base_lower (const pld_pair *p, int which, double theta)
{
  double s = p->scale;
  if (p->base == PLD_GAUSSIAN)
    {
      double x = s * s * theta + 0.5;
      return log_normal_upper (-(x - which) / s);
    }
  if (theta <= -1.0 / s)
    return -INFINITY;
  if (theta > 1.0 / s)
    return 0.0;
  double x = (theta * s + 1.0) / 2.0;
  return which == 0 ? log1p (-0.5 * exp (-x / s)) : -M_LN2 + (x - 1.0) / s;
}

/* log q and log(1 - q) of a pair's sampling rate, taken once for a whole
 * grid of tails rather than at every point. */
typedef struct
{
  double lq, l1q;
} rate_logs;

static rate_logs
rate_logs_of (double q)
{
  rate_logs r = { log (q), log1p (-q) };
  return r;
}

/* log of the mixture (1-q) M0 + q M1 of two log probabilities. */
static double
mixture (const rate_logs *r, double log_m0, double log_m1)
{
  return dpacct_log_add (r->l1q + log_m0, r->lq + log_m1);
}

/* For the Gaussian pair at base loss theta: M0(l > theta) in *t0 and the
 * mixture (1-q) M0 + q M1 of the two in *t_mix (above theta when
 * `above`, below it when not).  While both tails are normal doubles they
 * come as they stand (1), and the mixture costs no transcendental call;
 * beyond, as logarithms (0).  The tails cost most of a step. */
static int
gaussian_tails (const pld_pair *p, const rate_logs *r, double theta,
                int above, double *t0, double *t_mix)
{
  double s = p->scale, x = s * s * theta + 0.5;
  double z0 = above ? x / s : -x / s, z1 = above ? (x - 1.0) / s
                                                  : -(x - 1.0) / s;
  if (z0 < 25.0 * M_SQRT2 && z1 < 25.0 * M_SQRT2)
    {
      double e0 = erfc (z0 / M_SQRT2), e1 = erfc (z1 / M_SQRT2);
      *t0 = 0.5 * e0;
      *t_mix = 0.5 * ((1.0 - p->q) * e0 + p->q * e1);
      return 1;
    }
  *t0 = log_normal_upper (z0);
  *t_mix = mixture (r, *t0, log_normal_upper (z1));
  return 0;
}

/* The opposite pair's loss is increasing in x: with c = (1-q)/q e^{1/(2s^2)},
 * L(x) = log((c + e^{x/s^2}) / (c + e^{-x/s^2})), which is eps at
 * x = s^2 (eps/2 + asinh(c sinh(eps/2))).  The asinh is taken from
 * logarithms, since c overflows for small s. */
static double
opposite_crossing (const pld_pair *p, const rate_logs *r, double eps)
{
  double s2 = p->scale * p->scale;
  if (eps == 0.0 || p->q >= 1.0)
    return 0.5 * s2 * eps;
  double half = 0.5 * fabs (eps);
  double log_y = r->l1q - r->lq + 0.5 / s2 /* log c */
                 + half + log1p (-exp (-2.0 * half)) - M_LN2;
  double w = log_y > 20.0 ? M_LN2 + log_y : asinh (exp (log_y));
  return s2 * copysign (half + w, eps);
}

/* log P(X > u) for X ~ Lap(0, s). */
static double
laplace_log_sf (double u, double s)
{
  return u >= 0.0 ? -M_LN2 - u / s : log1p (-0.5 * exp (u / s));
}

/* The Laplace opposite pair's loss is odd and nondecreasing in x: for x
 * in [0, 1], L(x) = log((1-q) + q e^{(2x-1)/s}) - A with
 * A = log((1-q) + q e^{-1/s}), and it stays at L(1) = top beyond.  For
 * |eps| <= top, the x where it reaches eps; *top set either way. */
static double
laplace_opposite_crossing (const pld_pair *p, const rate_logs *r, double eps,
                           double *top)
{
  double s = p->scale, lq = r->lq, l1q = r->l1q;
  double a = dpacct_log_add (l1q, lq - 1.0 / s);
  *top = dpacct_log_add (l1q, lq + 1.0 / s) - a;
  double e = fmin (fabs (eps), *top);
  /* e^{e + A} - (1-q) = (1-q) expm1(e) + q e^{e - 1/s} */
  double inner = dpacct_log_add (e > 0.0 ? l1q + log (expm1 (e)) : -INFINITY,
                                 lq + e - 1.0 / s);
  double x = fmin (fmax (0.5 * (s * (inner - lq) + 1.0), 0.0), 1.0);
  return copysign (x, eps);
}

/* log P(L > eps), log Q(L > eps) of the opposite pair, and log P(L < eps). */
static void
opposite_tails (const pld_pair *p, const rate_logs *r, double eps,
                double *log_p, double *log_q)
{
  double s = p->scale;
  if (p->base == PLD_LAPLACE)
    {
      double top, x = laplace_opposite_crossing (p, r, eps, &top);
      if (eps >= top)
        *log_p = *log_q = -INFINITY;
      else if (eps < -top)
        *log_p = *log_q = 0.0;
      else
        {
          double both = laplace_log_sf (x, s);
          *log_p = mixture (r, both, laplace_log_sf (x - 1.0, s));
          *log_q = mixture (r, both, laplace_log_sf (x + 1.0, s));
        }
      return;
    }
  double x = opposite_crossing (p, r, eps);
  double both = log_normal_upper (x / s);
  *log_p = mixture (r, both, log_normal_upper ((x - 1.0) / s));
  *log_q = mixture (r, both, log_normal_upper ((x + 1.0) / s));
}

static double
opposite_below (const pld_pair *p, const rate_logs *r, double eps)
{
  double s = p->scale;
  if (p->base == PLD_LAPLACE)
    {
      double top, x = laplace_opposite_crossing (p, r, eps, &top);
      if (eps > top)
        return 0.0;
      if (eps <= -top)
        return -INFINITY;
      /* P(X < x) = P(-X > -x), and -X ~ (1-q) Lap(0) + q Lap(-1). */
      return mixture (r, laplace_log_sf (-x, s),
                      laplace_log_sf (1.0 - x, s));
    }
  double x = opposite_crossing (p, r, eps);
  return mixture (r, log_normal_upper (-x / s),
                  log_normal_upper (-(x - 1.0) / s));
}

/* log((e^eps - 1 + q) / q), given inner = e^eps - 1 + q > 0; from eps
 * itself where e^eps would overflow (the range search doubles eps far
 * out, and a NaN there would never end it). */
static double
remove_threshold (double q, const rate_logs *r, double eps, double inner)
{
  if (eps > 1.0)
    return eps + log1p ((q - 1.0) * exp (-eps)) - r->lq;
  return log (inner) - r->lq;
}

/* P(L > eps) and Q(L > eps) into *tp and *tq: as they stand, Q's
 * times e^eps (1; e^eps comes from the threshold's own expm1), or as
 * their logarithms (0). */
static int
tails_at (const pld_pair *p, const rate_logs *r, double eps, double *tp,
          double *tq)
{
  double q = p->q;
  if (p->direction == PLD_OPPOSITE)
    {
      opposite_tails (p, r, eps, tp, tq);
      return 0;
    }
  if (q >= 1.0)
    {
      if (p->direction == PLD_REMOVE)
        {
          *tp = base_upper (p, 1, eps);
          *tq = base_upper (p, 0, eps);
        }
      else /* L = -l, so L > eps iff l < -eps */
        {
          *tp = base_lower (p, 0, -eps);
          *tq = base_lower (p, 1, -eps);
        }
      return 0;
    }
  if (p->direction == PLD_REMOVE)
    {
      /* L = log(1 - q + q e^l) > eps iff l > log((e^eps - 1 + q) / q). */
      double inner = expm1 (eps) + q;
      if (inner <= 0.0)
        {
          *tp = *tq = 0.0;
          return 0;
        }
      double theta = remove_threshold (q, r, eps, inner);
      if (p->base == PLD_GAUSSIAN)
        {
          if (!gaussian_tails (p, r, theta, 1, tq, tp))
            return 0;
          *tq *= inner + (1.0 - q); /* e^eps */
          return 1;
        }
      *tq = base_upper (p, 0, theta);
      *tp = mixture (r, *tq, base_upper (p, 1, theta));
      return 0;
    }
  /* L = -log(1 - q + q e^l) > eps iff l < log((e^-eps - 1 + q) / q). */
  double inner = expm1 (-eps) + q;
  if (inner <= 0.0)
    {
      *tp = *tq = -INFINITY;
      return 0;
    }
  double theta = log (inner) - r->lq;
  if (p->base == PLD_GAUSSIAN)
    {
      if (!gaussian_tails (p, r, theta, 0, tp, tq))
        return 0;
      *tq /= inner + (1.0 - q); /* e^-eps */
      return 1;
    }
  *tp = base_lower (p, 0, theta);
  *tq = mixture (r, *tp, base_lower (p, 1, theta));
  return 0;
}

void
dpacct_pld_pair_tails (const pld_pair *p, double eps, double *log_p,
                       double *log_q)
{
  rate_logs r = rate_logs_of (p->q);
  if (tails_at (p, &r, eps, log_p, log_q))
    *log_p = log (*log_p), *log_q = log (*log_q) - eps;
}

void
dpacct_pld_pair_tails_grid (const pld_pair *p, double h, long first,
                            const size_t *at, size_t n, double *tail_p,
                            double *scaled_q)
{
  rate_logs r = rate_logs_of (p->q);
  for (size_t i = 0; i < n; i++)
    {
      double eps = (first + (long) at[i]) * h, tp, tq;
      if (tails_at (p, &r, eps, &tp, &tq))
        tail_p[i] = tp, scaled_q[i] = tq;
      else
        tail_p[i] = exp (tp), scaled_q[i] = exp (tq + eps);
    }
}

/* log P(L < eps), for the lower end of the range. */
static double
log_p_below (const pld_pair *p, double eps)
{
  double q = p->q;
  rate_logs lr = rate_logs_of (q), *r = &lr;
  if (p->direction == PLD_OPPOSITE)
    return opposite_below (p, r, eps);
  if (q >= 1.0)
    return p->direction == PLD_REMOVE ? base_lower (p, 1, eps)
                                      : base_upper (p, 0, -eps);
  if (p->direction == PLD_REMOVE)
    {
      double inner = expm1 (eps) + q;
      if (inner <= 0.0)
        return -INFINITY;
      double theta = remove_threshold (q, r, eps, inner);
      return mixture (r, base_lower (p, 0, theta), base_lower (p, 1, theta));
    }
  double inner = expm1 (-eps) + q;
  if (inner <= 0.0)
    return 0.0;
  return base_upper (p, 0, log (inner) - r->lq);
}

double
dpacct_pld_pair_top_atom (const pld_pair *p)
{
  double s = p->scale, top;
  if (p->base != PLD_LAPLACE)
    return NAN;
  if (p->direction == PLD_OPPOSITE)
    {
      rate_logs r = rate_logs_of (p->q);
      laplace_opposite_crossing (p, &r, 0.0, &top);
      return top;
    }
  if (p->q >= 1.0)
    return 1.0 / s;
  return p->direction == PLD_REMOVE ? log1p (p->q * expm1 (1.0 / s))
                                    : -log1p (p->q * expm1 (-1.0 / s));
}

void
dpacct_pld_pair_range (const pld_pair *p, double tail_log, double *lo,
                       double *hi)
{
  double log_p, log_q;
  /* Upper end: double until the upper tail is small, then bisect. */
  double a = 0.0, b = 1.0;
  for (int i = 0; i < 200; i++)
    {
      dpacct_pld_pair_tails (p, b, &log_p, &log_q);
      if (log_p < -tail_log)
        break;
      a = b;
      b *= 2.0;
    }
  for (int i = 0; i < 40; i++)
    {
      double m = 0.5 * (a + b);
      dpacct_pld_pair_tails (p, m, &log_p, &log_q);
      if (log_p < -tail_log)
        b = m;
      else
        a = m;
    }
  *hi = b;
  a = 0.0, b = -1.0;
  for (int i = 0; i < 200; i++)
    {
      if (log_p_below (p, b) < -tail_log)
        break;
      a = b;
      b *= 2.0;
    }
  for (int i = 0; i < 40; i++)
    {
      double m = 0.5 * (a + b);
      if (log_p_below (p, m) < -tail_log)
        b = m;
      else
        a = m;
    }
  *lo = b;
}
