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
#include "internal.h"

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

/* The Gaussian pair's standard normal arguments at base loss theta:
 * M0(l > theta) = P(X > z[0]) and M1(l > theta) = P(X > z[1]) (above
 * theta when `above`; below it, with the signs turned, when not).
 * Whether both tails are normal doubles (erfc below 25). */
static int
gaussian_args (const pld_pair *p, double theta, int above, double z[2])
{
  double s = p->scale, x = s * s * theta + 0.5;
  z[0] = above ? x / s : -x / s;
  z[1] = above ? (x - 1.0) / s : -(x - 1.0) / s;
  return z[0] < 25.0 * M_SQRT2 && z[1] < 25.0 * M_SQRT2;
}

/* For the Gaussian pair at base loss theta: M0(l > theta) in *t0 and the
 * mixture (1-q) M0 + q M1 of the two in *t_mix (above theta when
 * `above`, below it when not), as logarithms: where gaussian_args says
 * they are past normal doubles.  (Within them, from erfc in
 * gaussian_from_erfc.) */
static void
gaussian_log_tails (const rate_logs *r, const double z[2],
                    double *t0, double *t_mix)
{
  *t0 = log_normal_upper (z[0]);
  *t_mix = mixture (r, *t0, log_normal_upper (z[1]));
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

/* A sampled pair (q < 1, remove or add) at eps: the base loss theta
 * where L crosses eps, and inner = e^{+-eps} - 1 + q, whose sum with
 * 1 - q is e^eps (remove) or e^-eps (add).  Remove: L = log(1 - q + q
 * e^l) > eps iff l > log((e^eps - 1 + q) / q); add: L = -log(1 - q + q
 * e^l) > eps iff l < log((e^-eps - 1 + q) / q).  No threshold (NaN)
 * when inner <= 0: eps is below every loss (remove) or above it (add). */
static double
sampled_threshold (const pld_pair *p, const rate_logs *r, double eps,
                   double *inner)
{
  int remove = p->direction == PLD_REMOVE;
  *inner = (remove ? expm1 (eps) : expm1 (-eps)) + p->q;
  if (*inner <= 0.0)
    return NAN;
  return remove ? remove_threshold (p->q, r, eps, *inner)
                : log (*inner) - r->lq;
}

/* A sampled Gaussian pair's tails at eps from erfc at its two arguments
 * (e[i] = erfc(z[i] / sqrt 2), see gaussian_args): P(L > eps) and Q(L >
 * eps) e^eps, as they stand. */
static void
gaussian_from_erfc (const pld_pair *p, double inner, const double e[2],
                    double *tp, double *tq)
{
  double q = p->q, t0 = 0.5 * e[0];
  double mix = 0.5 * ((1.0 - q) * e[0] + q * e[1]);
  if (p->direction == PLD_REMOVE)
    *tp = mix, *tq = t0 * (inner + (1.0 - q)); /* e^eps */
  else
    *tp = t0, *tq = mix / (inner + (1.0 - q)); /* e^-eps */
}

/* Whether a pair's tails on a grid come from a sampled Gaussian's erfc
 * (so many at a time, see dpacct_pld_pair_tails_grid). */
static int
sampled_gaussian (const pld_pair *p)
{
  return p->base == PLD_GAUSSIAN && p->q < 1.0
         && p->direction != PLD_OPPOSITE;
}

/* P(L > eps) and Q(L > eps) into *tp and *tq: as they stand, Q's
 * times e^eps (1), or as their logarithms (0). */
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
  int remove = p->direction == PLD_REMOVE;
  double inner, theta = sampled_threshold (p, r, eps, &inner);
  if (inner <= 0.0)
    {
      *tp = *tq = remove ? 0.0 : -INFINITY; /* logs of 1 and of 0 */
      return 0;
    }
  if (p->base == PLD_GAUSSIAN)
    {
      double z[2], e[2];
      if (gaussian_args (p, theta, remove, z))
        {
          e[0] = erfc (z[0] / M_SQRT2), e[1] = erfc (z[1] / M_SQRT2);
          gaussian_from_erfc (p, inner, e, tp, tq);
          return 1;
        }
      if (remove)
        gaussian_log_tails (r, z, tq, tp);
      else
        gaussian_log_tails (r, z, tp, tq);
      return 0;
    }
  if (remove)
    {
      *tq = base_upper (p, 0, theta);
      *tp = mixture (r, *tq, base_upper (p, 1, theta));
    }
  else
    {
      *tp = base_lower (p, 0, theta);
      *tq = mixture (r, *tp, base_lower (p, 1, theta));
    }
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

/* The tails at one grid point, as they stand. */
static void
linear_tails_at (const pld_pair *p, const rate_logs *r, double eps,
                 double *tail_p, double *scaled_q)
{
  double tp, tq;
  if (tails_at (p, r, eps, &tp, &tq))
    *tail_p = tp, *scaled_q = tq;
  else
    *tail_p = exp (tp), *scaled_q = exp (tq + eps);
}

/* Grid points taken at a time by the sampled Gaussian's batches. */
enum { BATCH = 128 };

void
dpacct_pld_pair_tails_grid (const pld_pair *p, double h, long first,
                            const size_t *at, size_t n, double *tail_p,
                            double *scaled_q)
{
  rate_logs r = rate_logs_of (p->q);
  if (!sampled_gaussian (p))
    {
      for (size_t i = 0; i < n; i++)
        linear_tails_at (p, &r, (first + (long) at[i]) * h, &tail_p[i],
                         &scaled_q[i]);
      return;
    }
  /* The two erfc a point for a batch of points at once (dpacct_erfc_many),
   * from the same arguments and by the same formulas as tails_at; a point
   * outside normal doubles (or past every loss) from tails_at itself. */
  double z[2][BATCH], e[2][BATCH], inner[BATCH];
  int in_range[BATCH];
  int remove = p->direction == PLD_REMOVE;
  for (size_t from = 0; from < n; from += BATCH)
    {
      size_t m = n - from < BATCH ? n - from : BATCH;
      for (size_t i = 0; i < m; i++)
        {
          double eps = (first + (long) at[from + i]) * h, zi[2];
          double theta = sampled_threshold (p, &r, eps, &inner[i]);
          in_range[i] = inner[i] > 0.0 && gaussian_args (p, theta, remove,
                                                         zi);
          z[0][i] = in_range[i] ? zi[0] / M_SQRT2 : 0.0;
          z[1][i] = in_range[i] ? zi[1] / M_SQRT2 : 0.0;
        }
      dpacct_erfc_many (z[0], e[0], m);
      dpacct_erfc_many (z[1], e[1], m);
      for (size_t i = 0; i < m; i++)
        {
          size_t k = from + i;
          if (in_range[i])
            gaussian_from_erfc (p, inner[i], (double[2]) { e[0][i], e[1][i] },
                                &tail_p[k], &scaled_q[k]);
          else
            linear_tails_at (p, &r, (first + (long) at[k]) * h, &tail_p[k],
                             &scaled_q[k]);
        }
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
