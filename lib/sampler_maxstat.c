/* sampler_maxstat.c - the largest batch sum as a test statistic.
 *
 * Under the shuffling pair (and the balls-and-bins one) the released
 * batch sums are P = (1/K) sum_t N(a e_t, s^2 I) against Q = the same
 * with b; their largest coordinate M has the closed-form CDFs
 * Phi((m - a)/s) Phi(m/s)^{K-1}.  Where the target is left out of the
 * epoch with probability 1 - w (the last partial batch dropped), both
 * sides are mixed with N(0, s^2 I) and the CDFs with Phi(m/s)^K, weights
 * 1 - w and w.  M is a post-processing of the release,
 * and so is M binned into cells: the PLD of the binned M, with every loss
 * rounded down, is dominated by the pair's and composes into a lower
 * bound on the run's epsilon. */
#include "sampler_internal.h"
#include "internal.h"
#include "logmath.h"

#include <math.h>
#include <stdlib.h>

/* Mass below e^-MAXSTAT_TAIL at either end of M goes into one end cell. */
#define MAXSTAT_TAIL 70.0
/* A cell of M is CELL_FACTOR * sqrt(h) * s^2 wide: the loss moves by
 * about 1/s^2 per unit of m, and binning costs second order in the
 * loss's spread within a cell. */
#define CELL_FACTOR 0.2

void
dpacct_maxstat_log_cdf (double sigma, uint64_t k, double shift, double keep,
                        double m, double *log_cdf, double *log_sf)
{
  double l0 = dpacct_log_phi (m / sigma);
  double ls = dpacct_log_phi ((m - shift) / sigma);
  /* log((1 - w) Phi(m/s) + w Phi((m - a)/s)): near 1 from the two upper
   * tails (no cancellation, so the survival function below keeps its
   * relative accuracy), elsewhere by log-sum-exp. */
  if (keep < 1.0 && ls > -0.5)
    ls = log1p (-((1.0 - keep) * -expm1 (l0) + keep * -expm1 (ls)));
  else if (keep < 1.0)
    {
      double a = log1p (-keep) + l0, b = log (keep) + ls;
      double top = fmax (a, b);
      ls = top + log1p (exp (fmin (a, b) - top));
    }
  double lf = ls + (double) (k - 1) * l0;
  *log_cdf = lf;
  *log_sf = lf < 0.0 ? log (-expm1 (lf)) : -INFINITY;
}

/* P(m1 < M <= m2) from the end where both tails are small. */
static double
cell_mass (double lf1, double ls1, double lf2, double ls2)
{
  if (lf2 < -M_LN2)
    return lf1 < lf2 ? exp (lf2) * -expm1 (lf1 - lf2) : 0.0;
  return ls2 < ls1 ? exp (ls1) * -expm1 (ls2 - ls1) : 0.0;
}

/* The m where log P(M <= m) (or log P(M > m)) under `shift` crosses
 * -MAXSTAT_TAIL, by bisection. */
static double
tail_point (double sigma, uint64_t k, double shift, double keep, int upper)
{
  double lo = -1.0, hi = 1.0 + shift;
  double lf, ls;
  for (;;)
    {
      dpacct_maxstat_log_cdf (sigma, k, shift, keep, lo, &lf, &ls);
      if (lf < -MAXSTAT_TAIL)
        break;
      lo = 2.0 * lo - 1.0;
    }
  for (;;)
    {
      dpacct_maxstat_log_cdf (sigma, k, shift, keep, hi, &lf, &ls);
      if (ls < -MAXSTAT_TAIL)
        break;
      hi = 2.0 * hi + 1.0;
    }
  for (int i = 0; i < 100 && hi - lo > 1e-9 * (1.0 + fabs (hi)); i++)
    {
      double mid = 0.5 * (lo + hi);
      dpacct_maxstat_log_cdf (sigma, k, shift, keep, mid, &lf, &ls);
      int beyond = upper ? ls < -MAXSTAT_TAIL : !(lf < -MAXSTAT_TAIL);
      if (beyond)
        hi = mid;
      else
        lo = mid;
    }
  return upper ? hi : lo;
}

typedef struct
{
  double loss, mass;
} cell;

static int
by_loss (const void *a, const void *b)
{
  double x = ((const cell *) a)->loss, y = ((const cell *) b)->loss;
  return (x > y) - (x < y);
}

/* The losses below which, and above which, the cells hold at most
 * e^-MAXSTAT_TAIL of P's mass (*lo and *hi stay where the cut would
 * cross).  By sorted loss: the loss is not monotone in m once the target
 * may be left out (it returns to 0 in the lower tail). */
static int
loss_cuts (const double *p, const double *loss, size_t cells, double *lo,
           double *hi)
{
  cell *c = malloc (cells * sizeof *c);
  if (c == NULL)
    return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate max-statistic cells");
  size_t n = 0;
  for (size_t i = 0; i < cells; i++)
    if (p[i] > 0.0)
      c[n].loss = loss[i], c[n++].mass = p[i];
  qsort (c, n, sizeof *c, by_loss);
  double tail = exp (-MAXSTAT_TAIL), cum = 0.0;
  size_t a = 0, b = n;
  while (a < n && cum + c[a].mass <= tail)
    cum += c[a++].mass;
  cum = 0.0;
  while (b > a + 1 && cum + c[b - 1].mass <= tail)
    cum += c[--b].mass;
  if (a < b)
    *lo = c[a].loss, *hi = c[b - 1].loss;
  free (c);
  return DPACCT_OK;
}

/* A relative margin taken off every loss before it is rounded down: the
 * cells' masses are differences computed to about 1e-13 relative. */
#define LOSS_MARGIN 1e-9

int
dpacct_maxstat_step (double sigma, uint64_t k, double shift_p,
                     double shift_q, double keep, double h, pld_step *out)
{
  out->mass = NULL;
  out->n = 0;
  if (!(sigma > 0.0) || k < 1 || !(h > 0.0) || !(shift_p > shift_q)
      || !(keep > 0.0) || !(keep <= 1.0))
    return DPACCT_FAIL (DPACCT_EDOM, "bad max-statistic pair");
  /* Q's lower tail is the heavier (shift_q < shift_p), P's upper one. */
  double m_lo = tail_point (sigma, k, shift_q, keep, 0);
  double m_hi = tail_point (sigma, k, shift_p, keep, 1);
  double width = CELL_FACTOR * sqrt (h) * sigma * sigma;
  size_t cells = (size_t) ceil ((m_hi - m_lo) / width) + 2;
  if (cells > ((size_t) 1 << 26))
    return DPACCT_FAIL (DPACCT_ENOMEM, "too many max-statistic cells");
  double *p = malloc (cells * sizeof *p), *loss = malloc (cells * sizeof *loss);
  if (p == NULL || loss == NULL)
    {
      free (p), free (loss);
      return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate max-statistic cells");
    }
  /* Cell 0 is (-Inf, m_lo], the last (m_hi', +Inf). */
  double pf1 = -INFINITY, ps1 = 0.0, qf1 = -INFINITY, qs1 = 0.0;
  double lo_loss = INFINITY, hi_loss = -INFINITY;
  for (size_t i = 0; i < cells; i++)
    {
      double pf2 = 0.0, ps2 = -INFINITY, qf2 = 0.0, qs2 = -INFINITY;
      if (i + 1 < cells)
        {
          double m = m_lo + (double) i * width;
          dpacct_maxstat_log_cdf (sigma, k, shift_p, keep, m, &pf2, &ps2);
          dpacct_maxstat_log_cdf (sigma, k, shift_q, keep, m, &qf2, &qs2);
        }
      double pm = cell_mass (pf1, ps1, pf2, ps2);
      double qm = cell_mass (qf1, qs1, qf2, qs2);
      p[i] = pm;
      if (pm > 0.0)
        {
          double l = qm > 0.0 ? log (pm) - log (qm) : 800.0;
          l -= LOSS_MARGIN * (1.0 + fabs (l));
          loss[i] = l;
          lo_loss = fmin (lo_loss, l);
          hi_loss = fmax (hi_loss, l);
        }
      pf1 = pf2, ps1 = ps2, qf1 = qf2, qs1 = qs2;
    }
  /* The grid: losses of cells with P-mass beyond e^-MAXSTAT_TAIL cut at
   * either end (dropped below, merged down into the top point above). */
  double floor_loss = lo_loss, ceil_loss = hi_loss;
  int status = loss_cuts (p, loss, cells, &floor_loss, &ceil_loss);
  if (status != DPACCT_OK)
    {
      free (p), free (loss);
      return status;
    }
  long first = (long) floor (floor_loss / h);
  long last = (long) floor (ceil_loss / h);
  size_t n = (size_t) (last - first + 1);
  out->mass = calloc (n, sizeof *out->mass);
  if (out->mass == NULL)
    {
      free (p), free (loss);
      return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate a PLD step");
    }
  for (size_t i = 0; i < cells; i++)
    {
      if (!(p[i] > 0.0))
        continue;
      double idx = floor (loss[i] / h);
      if (idx < (double) first)
        continue;                 /* dropped: lowers delta */
      long j = idx > (double) last ? last : (long) idx; /* merged down */
      out->mass[j - first] += p[i];
    }
  free (p), free (loss);
  out->h = h;
  out->first = first;
  out->n = n;
  out->infinity = 0.0;
  return DPACCT_OK;
}
