/* pld_compose.c - composition of discretised PLDs by FFT, and the delta
 * and epsilon of the result with every numerical error bounded.
 *
 * The masses are exponentially tilted first (Koskela et al. 2020 use the
 * same device for their error analysis): m_k e^{lambda c_k} / M(lambda).
 * Composition commutes with tilting, the tilted steps are probability
 * vectors, and a tilt that centres the result near the epsilon asked for
 * makes FFT round-off relative to the delta there instead of to 1.
 * Self-composition raises each transform to its count (Fourier powering);
 * mass outside the circular window is bounded by a Chernoff bound. */
#include "pld_internal.h"
#include "internal.h"
#include "logmath.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

void
dpacct_pld_composed_release (pld_composed *c)
{
  free (c->mass);
  free (c->above);
  free (c->ratio);
  c->mass = c->above = c->ratio = NULL;
}

/* Tail sums from the top, so that delta at any loss costs O(1).  Relative
 * to grid point j they are A_j = sum_{k>j} m_k e^{-tilt (c_k - c_j)} and
 * R_j = sum_{k>j} m_k e^{-(tilt+1) (c_k - c_j)}, so each step down is a
 * multiply and an add: A_j = e^{-tilt h} (A_{j+1} + m_{j+1}).  The tilt is
 * never negative, so neither overflows. */
static int
tail_sums (pld_composed *c, double *spare)
{
  c->above = spare; /* n doubles the composition no longer needs */
  c->ratio = dpacct_alloc_doubles (c->n);
  if (c->above == NULL || c->ratio == NULL)
    return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate PLD tail sums");
  double a = 0.0, r = 0.0;
  double decay_a = exp (-c->tilt * c->h), decay_r = exp (-(c->tilt + 1.0) * c->h);
  for (size_t j = c->n; j-- > 0;)
    {
      c->above[j] = a;
      c->ratio[j] = r;
      /* FFT round-off can leave tiny negative masses: dropped here, and
       * covered by the error bound. */
      double m = c->mass[j] > 0.0 ? c->mass[j] : 0.0;
      a = decay_a * (a + m);
      r = decay_r * (r + m);
    }
  return DPACCT_OK;
}

/* The Chernoff exponents of the tilted composition on a fixed grid of
 * theta: k(i, up) = sum count (log M(tilt + theta_i) - log M(tilt)), and
 * likewise at tilt - theta_i going down.  The thetas span 2^-8 to 2^10
 * over the standard deviation, in factors of sqrt 2 (the window is as
 * wide as the best theta's bound makes it): near-Gaussian sums want theta about
 * half / var, sums with a heavy tail of single large losses (small
 * sampling rates) want much smaller ones.  Each exponent costs a pass over
 * every step, so they are computed when first needed (and a base's
 * exponents, kept across compositions, once for all of them). */
void
dpacct_pld_chernoff_init (pld_chernoff *c, const pld_prepared *p, double sd,
                          pld_chernoff *base)
{
  c->p = p;
  c->base = base;
  for (int i = 0; i < PLD_N_THETA; i++)
    {
      c->theta[i] = base != NULL ? base->theta[i]
                                 : exp2 (0.5 * (i - 16)) / sd;
      c->k[0][i] = c->k[1][i] = NAN;
    }
  /* theta = 8 / sd: a Gaussian's at 8 sd */
  c->best[0] = base != NULL ? base->best[0] : 22;
  c->best[1] = base != NULL ? base->best[1] : 22;
}

/* Exponents (up and down, i) and, in the same pass over the steps, those
 * of its neighbours not computed yet: the search that asks for one
 * asks for them next.  Each step's log M is log sum_k m_k e^{theta c_k}
 * with the terms below e^-40 of the largest counted at e^-40 each, so it
 * is never below the true value (the Chernoff bound rests on it). */
static void
chernoff_exponents (pld_chernoff *c, int i)
{
  const pld_prepared *p = c->p;
  double at[PLD_MAX_TILTS], k[PLD_MAX_TILTS], log_mgf[PLD_MAX_TILTS];
  int side[PLD_MAX_TILTS], index[PLD_MAX_TILTS], m = 0;
  for (int s = 0; s < 2; s++)
    for (int j = i - 1; j <= i + 1; j++)
      if (j >= 0 && j < PLD_N_THETA && isnan (c->k[s][j]))
        {
          side[m] = s, index[m] = j, k[m] = 0.0;
          at[m++] = p->tilt + (s ? c->theta[j] : -c->theta[j]);
        }
  for (size_t j = 0; j < p->nf; j++)
    {
      dpacct_pld_step_log_mgfs (p->f[j].step, p->log_mass[j], at, m, 40.0,
                                log_mgf);
      for (int t = 0; t < m; t++)
        k[t] += (double) p->f[j].count * (log_mgf[t] - p->log_m[j]);
    }
  for (int t = 0; t < m; t++)
    c->k[side[t]][index[t]] = k[t];
}

static double
chernoff_exponent (pld_chernoff *c, int up, int i)
{
  if (isnan (c->k[up][i]))
    chernoff_exponents (c, i);
  return c->base != NULL ? c->k[up][i] + chernoff_exponent (c->base, up, i)
                         : c->k[up][i];
}

/* log of the Chernoff bound on the tilted mass beyond `edge` (above it
 * when up, below it when not) at theta_i; +Inf (no bound) if not a
 * number, so that the search passes it by. */
static double
chernoff_log_bound (pld_chernoff *c, int up, int i, double edge)
{
  double b = chernoff_exponent (c, up, i)
             + (up ? -c->theta[i] * edge : c->theta[i] * edge);
  return isnan (b) ? INFINITY : b;
}

/* The best log bound over the thetas on one side.  K is convex, so the
 * bound is unimodal in theta: walk from where the last search ended
 * while it improves (any theta gives a bound, so stopping early is only
 * ever less tight), or until it is at most `enough`. */
static double
best_log_bound (pld_chernoff *c, int up, double edge, double enough)
{
  int i = c->best[up];
  double b = chernoff_log_bound (c, up, i, edge);
  for (int dir = 1; dir >= -1 && !(b <= enough); dir -= 2)
    {
      int moved = 0;
      while (i + dir >= 0 && i + dir < PLD_N_THETA && !(b <= enough))
        {
          double next = chernoff_log_bound (c, up, i + dir, edge);
          if (!(next < b))
            break;
          b = next;
          i += dir;
          moved = 1;
        }
      if (moved)
        break;
    }
  c->best[up] = i;
  return fmin (b, 0.0);
}

/* Chernoff bound on the tilted mass outside [mean - half, mean + half]. */
double
dpacct_pld_chernoff_outside (pld_chernoff *c, double mean, double half,
                             double enough)
{
  double side = enough > 0.0 ? log (0.5 * enough) : -INFINITY;
  return exp (best_log_bound (c, 1, mean + half, side))
         + exp (best_log_bound (c, 0, mean - half, side));
}

double **
dpacct_pld_log_masses (const pld_factor *f, size_t nf)
{
  size_t total = 0;
  for (size_t j = 0; j < nf; j++)
    total += f[j].step->n;
  /* One slot more, for the block (log_mass[0] may be empty). */
  double **log_mass = malloc ((nf + 1) * sizeof *log_mass);
  double *block = log_mass != NULL ? dpacct_alloc_doubles (total) : NULL;
  if (block == NULL)
    {
      free (log_mass);
      return NULL;
    }
  log_mass[nf] = block;
  for (size_t j = 0; j < nf; j++)
    {
      const pld_step *st = f[j].step;
      double *lm = log_mass[j] = block;
      block += st->n;
      for (size_t k = 0; k < st->n; k++)
        lm[k] = st->mass[k] > 0.0 ? log (st->mass[k]) : -INFINITY;
    }
  return log_mass;
}

void
dpacct_pld_log_masses_free (double **log_mass, size_t nf)
{
  if (log_mass != NULL)
    free (log_mass[nf]);
  free (log_mass);
}

void
dpacct_pld_prepared_release (pld_prepared *p)
{
  dpacct_pld_log_masses_free (p->log_mass, p->nf);
  free (p->log_m);
  p->log_mass = NULL;
  p->log_m = NULL;
}

/* The factors' log masses, their log-MGFs at the tilt, and the sums over
 * them that size a composition's window. */
int
dpacct_pld_prepare (const pld_factor *f, size_t nf, double tilt,
                    double **log_mass, pld_prepared *out, pld_sums *sums)
{
  out->f = f;
  out->nf = nf;
  out->tilt = tilt;
  out->log_m = malloc (nf * sizeof *out->log_m);
  out->log_mass = log_mass != NULL ? log_mass : dpacct_pld_log_masses (f, nf);
  if (out->log_m == NULL || out->log_mass == NULL)
    {
      dpacct_pld_prepared_release (out);
      return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate a PLD composition");
    }
  memset (sums, 0, sizeof *sums);
  sums->widest = 1;
  for (size_t j = 0; j < nf; j++)
    {
      const pld_step *st = f[j].step;
      double count = (double) f[j].count;
      pld_tilted t;
      dpacct_pld_step_tilt_moments (st, out->log_mass[j], tilt, 40.0,
                                    PLD_SMALL_COUNTED, &t);
      out->log_m[j] = t.log_mgf;
      sums->mean += count * t.mean;
      sums->var += count * t.var;
      sums->log_scale += count * out->log_m[j];
      sums->finite += count * log1p (-st->infinity);
      sums->widest = st->n > sums->widest ? st->n : sums->widest;
      sums->total_count += f[j].count;
    }
  for (size_t j = 0; j < nf; j++)
    {
      sums->support += (double) f[j].count * (double) (f[j].step->n - 1);
      sums->lowest += (double) f[j].count * (double) f[j].step->first;
    }
  return DPACCT_OK;
}

void
dpacct_pld_sums_add (pld_sums *to, const pld_sums *from)
{
  to->mean += from->mean;
  to->var += from->var;
  to->log_scale += from->log_scale;
  to->finite += from->finite;
  to->support += from->support;
  to->lowest += from->lowest;
  to->widest = from->widest > to->widest ? from->widest : to->widest;
  to->total_count += from->total_count;
}

/* The smallest even 5-smooth number (2^a 3^b 5^c, a >= 1) at least x:
 * GSL's mixed-radix FFT has fast butterflies for these factors, and they
 * pad far less than powers of two. */
size_t
dpacct_pld_fft_size (double x)
{
  if (!(x < 0x1p62))
    return SIZE_MAX;
  size_t best = SIZE_MAX;
  for (size_t p2 = 2; p2 < best; p2 *= 2)
    for (size_t p23 = p2; p23 < best; p23 *= 3)
      for (size_t p235 = p23; p235 < best; p235 *= 5)
        if ((double) p235 >= x)
          {
            best = p235;
            break;
          }
  return best;
}

/* Where loss index c lands in a circular window of n points: c mod n,
 * in [0, n). */
static size_t
wrap_index (long c, size_t n)
{
  long r = c % (long) n;
  return (size_t) (r < 0 ? r + (long) n : r);
}

/* Real and imaginary part of coefficient k of a half-complex array in
 * GSL's mixed-radix layout (re at 2k - 1, im at 2k; for even n the
 * Nyquist term is real, at n - 1). */
static void
hc_get (const double *a, size_t n, size_t k, double *re, double *im)
{
  if (k == 0)
    *re = a[0], *im = 0.0;
  else if (2 * k == n)
    *re = a[n - 1], *im = 0.0;
  else
    *re = a[2 * k - 1], *im = a[2 * k];
}

static void
hc_set (double *a, size_t n, size_t k, double re, double im)
{
  if (k == 0)
    a[0] = re;
  else if (2 * k == n)
    a[n - 1] = re;
  else
    a[2 * k - 1] = re, a[2 * k] = im;
}

/* z^count in polar form, z = (re, im), for counts too large for
 * repeated squaring's error bound (see dpacct_pld_compose).  Most
 * frequencies of a long composition decay below the smallest double, and
 * are skipped before the trigonometry. */
static void
complex_power_polar (double re, double im, uint64_t count, double *out_re,
                     double *out_im)
{
  double r2 = re * re + im * im;
  double log_mag = (double) count * 0.5 * log (r2);
  if (!(r2 > 0.0) || log_mag < -746.0)
    {
      *out_re = *out_im = 0.0;
      return;
    }
  double mag = exp (log_mag);
  double angle = fmod ((double) count * atan2 (im, re), 2.0 * M_PI);
  *out_re = mag * cos (angle);
  *out_im = mag * sin (angle);
}

/* z^count by repeated squaring: a few complex products instead of a
 * logarithm, an arc tangent and a sine and cosine.  Each product has
 * relative error at most sqrt(5) u (Brent, Percival and Zimmermann 2007),
 * so z^count comes out within relative (1 + sqrt(5) u)^(count-1) - 1 of
 * the exact power of the given z. */
static void
complex_power_squaring (double re, double im, uint64_t count, double *out_re,
                        double *out_im)
{
  double pr = 1.0, pi = 0.0;
  for (;;)
    {
      if (count & 1)
        {
          double r = pr * re - pi * im;
          pi = pr * im + pi * re;
          pr = r;
        }
      count >>= 1;
      if (count == 0)
        break;
      double r = re * re - im * im;
      im = 2.0 * re * im;
      re = r;
    }
  *out_re = pr;
  *out_im = pi;
}

/* FFTW's planner is not thread-safe (its plans' execution is): every
 * plan is made and destroyed under this lock. */
static pthread_mutex_t planner = PTHREAD_MUTEX_INITIALIZER;

void
dpacct_pld_fft_plan_release (pld_fft_plan *plan)
{
  if (plan->forward != NULL)
    {
      pthread_mutex_lock (&planner);
      fftw_destroy_plan (plan->forward);
      pthread_mutex_unlock (&planner);
    }
  free (plan->real);
  free (plan->spectrum);
  memset (plan, 0, sizeof *plan);
}

/* Makes `plan` one for size n, keeping it when it is.  FFTW_ESTIMATE
 * plans without trial runs (they would cost more than the transforms
 * they save in one composition). */
int
dpacct_pld_fft_plan_for (pld_fft_plan *plan, size_t n)
{
  if (plan->n == n && plan->forward != NULL)
    return DPACCT_OK;
  dpacct_pld_fft_plan_release (plan);
  if (n > (size_t) INT_MAX)
    return DPACCT_FAIL (DPACCT_ENOMEM, "FFT size past FFTW's int sizes");
  /* FFTW runs on any alignment; it plans for the one these arrays have. */
  plan->real = dpacct_alloc_doubles (n);
  plan->spectrum = (fftw_complex *) dpacct_alloc_doubles (2 * (n / 2 + 1));
  if (plan->real != NULL && plan->spectrum != NULL)
    {
      pthread_mutex_lock (&planner);
      plan->forward = fftw_plan_dft_r2c_1d ((int) n, plan->real,
                                            plan->spectrum,
                                            FFTW_ESTIMATE
                                            | FFTW_PRESERVE_INPUT);
      pthread_mutex_unlock (&planner);
    }
  if (plan->forward == NULL)
    {
      dpacct_pld_fft_plan_release (plan);
      return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate FFT tables");
    }
  plan->n = n;
  return DPACCT_OK;
}

double
dpacct_pld_window_points (const pld_sums *sums, pld_chernoff *bound,
                          double h, double *half, double *wrapped)
{
  /* Centred on the tilted mean, wide enough that the mass outside it is
   * below 1e-13 of the (tilted, unit) total; grown in steps of 5 %. */
  *half = 8.0 * (sqrt (sums->var) + h);
  *wrapped = 1.0;
  for (int i = 0; i < 400; i++, *half *= 1.05)
    {
      *wrapped = dpacct_pld_chernoff_outside (bound, sums->mean, *half,
                                              1e-13);
      if (*wrapped <= 1e-13)
        break;
    }
  return fmax (2.0 * *half / h, (double) sums->widest) + 2.0;
}

/* The window of a composition with these sums (see dpacct_pld_compose):
 * its FFT size, first loss index and the tilted mass outside it. */
static int
choose_window (const pld_sums *sums, pld_chernoff *bound, double h,
               const pld_fft_plan *plan, size_t max_points, pld_window *w)
{
  double mean = sums->mean, half, wrapped;
  double points = dpacct_pld_window_points (sums, bound, h, &half, &wrapped);
  /* A composition narrower than that window (few steps) fits whole: its
   * window is its support, and nothing wraps. */
  double support = sums->support + 1.0;
  int whole = support <= points;
  if (whole)
    points = support, wrapped = 0.0;
  size_t n = dpacct_pld_fft_size (points);
  /* A kept plan serves if it is up to a quarter larger (a wider window
   * only leaves more room), or up to an eighth smaller if the narrower
   * window leaves at most 1e-11 outside: new tables cost about as much as
   * a transform. */
  if (plan != NULL && plan->n >= n && plan->n <= n + n / 4)
    n = plan->n;
  else if (plan != NULL && !whole && plan->n < n && plan->n >= n - n / 8
           && (double) plan->n >= (double) sums->widest + 2.0)
    {
      double narrower = 0.5 * ((double) plan->n - 2.0) * h;
      double outside = dpacct_pld_chernoff_outside (bound, mean, narrower,
                                                    1e-11);
      if (outside <= 1e-11)
        n = plan->n, half = narrower, wrapped = outside;
    }
  if (n > max_points)
    return DPACCT_FAIL (DPACCT_ENOMEM,
                        "the PLD grid needs more points than the memory "
                        "cap allows");
  w->n = n;
  w->start = whole ? (long) sums->lowest : (long) floor ((mean - half) / h);
  w->wrapped = wrapped;
  return DPACCT_OK;
}

/* FFT error, norm-wise: a few u per stage, and there are at most log2(n)
 * stages of butterflies of radix 2 to 5; relative to the transform's l2
 * norm, sqrt(n) |w|_2.  FFTW splits these 5-smooth sizes the same way
 * (Cooley-Tukey steps whose codelets are straight-line DFTs of the
 * factors, with twiddles computed accurately), so the same per-stage
 * model holds; its measured errors are far below it (FFTW's accuracy
 * benchmarks, and the round trips in check_pld). */
static double
fft_gamma (size_t n)
{
  return 10.0 * log2 ((double) n) * (DBL_EPSILON / 2.0);
}

/* Factor j's tilted weight at point k, m_k e^(tilt c_k h) / M(tilt). */
static double
tilted_weight (const pld_prepared *p, size_t j, size_t k)
{
  const pld_step *s = p->f[j].step;
  if (!(s->mass[k] > 0.0))
    return 0.0;
  long c = s->first + (long) k;
  return exp (p->log_mass[j][k] + p->tilt * c * s->h - p->log_m[j]);
}

/* One past the highest coefficient of acc that is not 0. */
static size_t
live_band (const double *acc, size_t n)
{
  for (size_t k = n / 2 + 1; k-- > 0;)
    {
      double re, im;
      hc_get (acc, n, k, &re, &im);
      if (re != 0.0 || im != 0.0)
        return k + 1;
    }
  return 0;
}

/* A product coefficient of modulus below LIVE_CUT is set to 0 (and stays
 * 0): each coefficient is cut at most once and the later factors only
 * shrink it, so the cuts move the inverse transform's output by at most
 * LIVE_CUT in l2 (dpacct_pld_compose_finish counts it).  The band that
 * stays live is then where the composition so far is not yet smooth,
 * a few dozen coefficients after some hundred factors. */
static const double LIVE_CUT = 1e-25;

/* Factor j's transform at coefficients below `band` into the plan's
 * spectrum, and the bound on its error as the composition's output
 * round-off (l2 over the output: frequency-domain l2 over sqrt(n)).
 * From block moments (lb; NULL: never) where that costs less than an FFT
 * and its bound, each of 2 band - 1 coefficients (with the conjugates)
 * within dpacct_pld_low_band_bound, is no larger than the FFT's: so the
 * composition's error term never grows by it.  The weights are taken
 * once, into lb->x when it is tried. */
static double
factor_transform (const pld_prepared *p, size_t j, size_t n, size_t band,
                  const pld_fft_plan *tables, pld_low_band *lb)
{
  const pld_step *s = p->f[j].step;
  double norm2 = 0.0;
  int weighed = lb != NULL && dpacct_pld_low_band_cheaper (s->n, n, band);
  if (weighed)
    {
      double mass = 0.0;
      for (size_t k = 0; k < s->n; k++)
        {
          double w = tilted_weight (p, j, k);
          lb->x[k] = w;
          mass += w;
          norm2 += w * w;
        }
      /* The sum of s->n terms >= 0 is within gamma_{s->n} of itself. */
      mass *= 1.0 + (double) s->n * DBL_EPSILON;
      double e = dpacct_pld_low_band_bound (s->n, n, band, mass)
                 * sqrt (2.0 * (double) band / (double) n);
      if (e <= fft_gamma (n) * sqrt (norm2))
        {
          dpacct_pld_low_band (lb, s->n, s->first, band, tables->spectrum);
          return e;
        }
    }
  /* The transform keeps its input (FFTW_PRESERVE_INPUT), so after the
   * window is cleared once, each factor clears only its own support: a
   * whole window per factor was most of the memory traffic of a long run. */
  double *real = tables->real;
  size_t first = wrap_index (s->first, n), pos = first;
  for (size_t k = 0; k < s->n; k++, pos = pos + 1 == n ? 0 : pos + 1)
    {
      double w = weighed ? lb->x[k] : tilted_weight (p, j, k);
      real[pos] += w;
      if (!weighed)
        norm2 += w * w;
    }
  fftw_execute (tables->forward);
  pos = first;
  for (size_t k = 0; k < s->n; k++, pos = pos + 1 == n ? 0 : pos + 1)
    real[pos] = 0.0;
  return fft_gamma (n) * sqrt (norm2);
}

double
dpacct_pld_transform_into (const pld_prepared *p, size_t n,
                           const pld_fft_plan *tables, int squaring,
                           double *acc, int fresh)
{
  /* The round-off in l2 over the output masses.  An inverse transform
   * divides l2 norms by sqrt(n), so each frequency-domain l2 bound below
   * counts over sqrt(n); powering multiplies each coefficient's error by
   * at most the count.  Only the coefficients below `live` can be other
   * than 0 (a long composition's product vanishes at all but its lowest
   * frequencies), so only those are transformed and multiplied. */
  double error = 0.0;
  size_t live = fresh ? n / 2 + 1 : live_band (acc, n), longest = 0;
  for (size_t j = 0; j < p->nf; j++)
    longest = p->f[j].step->n > longest ? p->f[j].step->n : longest;
  /* Scratch for the low band (none if short of memory: the FFT then; and
   * none for a lone fresh factor, whose band is the whole spectrum). */
  pld_low_band low_band;
  int low = (p->nf > 1 || !fresh)
            && dpacct_pld_low_band_init (&low_band, n, longest) == DPACCT_OK;
  memset (tables->real, 0, n * sizeof *tables->real);
  for (size_t j = 0; j < p->nf && live > 0; j++)
    {
      uint64_t count = p->f[j].count;
      error += (double) count
               * factor_transform (p, j, n, live, tables,
                                   low ? &low_band : NULL);
      /* Raise to the count and multiply into the accumulated transform.
       * A coefficient whose power is below e^-745 in modulus (|z|^2 below
       * `vanishes`) is set to 0, as is a product below LIVE_CUT, and an
       * accumulated 0 stays 0 whatever is multiplied into it. */
      double vanishes = exp (-1490.0 / (double) count);
      size_t band = live;
      live = 0;
      for (size_t k = 0; k < band; k++)
        {
          double re, im, pr, pi, ar = 1.0, ai = 0.0;
          if (j > 0 || !fresh)
            {
              hc_get (acc, n, k, &ar, &ai);
              if (ar == 0.0 && ai == 0.0)
                continue;
            }
          re = tables->spectrum[k][0], im = tables->spectrum[k][1];
          if (!(re * re + im * im >= vanishes))
            pr = pi = 0.0;
          else if (squaring)
            complex_power_squaring (re, im, count, &pr, &pi);
          else
            complex_power_polar (re, im, count, &pr, &pi);
          double r = ar * pr - ai * pi;
          pi = ar * pi + ai * pr;
          if (r * r + pi * pi < LIVE_CUT * LIVE_CUT)
            r = pi = 0.0;
          hc_set (acc, n, k, r, pi);
          if (r != 0.0 || (pi != 0.0 && k > 0 && 2 * k < n))
            live = k + 1;
        }
    }
  if (low)
    dpacct_pld_low_band_release (&low_band);
  return error;
}

int
dpacct_pld_compose_finish (double *acc, double *work,
                           const pld_fft_plan *tables, const pld_window *w,
                           double h, double tilt, const pld_sums *sums,
                           double error, pld_composed *out)
{
  size_t n = w->n;
  double u = DBL_EPSILON / 2.0;
  /* The inverse by the forward plan (no second plan to make): for the
   * transform X = a + ib of real masses x (a even, b odd in k), the real
   * sequence Y = a + b has DFT Z with n x_j = Re Z_j + Im Z_j, and Z_{n-j}
   * = conj(Z_j) gives the upper half (the Hartley transform's identity). */
  double *real = tables->real;
  for (size_t k = 0; k <= n / 2; k++)
    {
      double a, b;
      hc_get (acc, n, k, &a, &b);
      real[k] = a + b;
      if (k > 0 && 2 * k < n)
        real[n - k] = a - b;
    }
  fftw_execute (tables->forward);
  /* Powering error u (1 + 2 pi T) per unit coefficient, and the inverse
   * transform's, gamma times the output's l2 norm (at most its l1 norm,
   * 1; |Y|_2 = |X|_2), with the sums a + b, Re + Im and the division by n
   * (3u relative), and the coefficients cut (LIVE_CUT). */
  error += 8.0 * u * (1.0 + 2.0 * M_PI * (double) sums->total_count)
           + fft_gamma (n) + 3.0 * u + LIVE_CUT;
  /* Unwrap from the window's first index. */
  double *mass = work, scale = (double) n;
  const fftw_complex *z = tables->spectrum;
  size_t at = wrap_index (w->start, n);
  for (size_t i = 0; i < n; i++)
    {
      size_t j = at + i < n ? at + i : at + i - n;
      mass[i] = 2 * j <= n ? (z[j][0] + z[j][1]) / scale
                           : (z[n - j][0] - z[n - j][1]) / scale;
    }
  out->h = h;
  out->first = w->start;
  out->n = n;
  out->mass = mass;
  out->tilt = tilt;
  out->log_scale = sums->log_scale;
  out->infinity = -expm1 (sums->finite);
  out->roundoff = error;
  out->wrapped = w->wrapped;
  /* acc, free now, holds the tail sums (a new array of this size costs
   * its page faults, a fair part of a large composition's time). */
  int status = tail_sums (out, acc);
  if (status != DPACCT_OK)
    dpacct_pld_composed_release (out);
  return status;
}

int
dpacct_pld_compose (const pld_factor *f, size_t nf, double tilt,
                    size_t max_points, pld_fft_plan *plan, pld_composed *out)
{
  return dpacct_pld_compose_logged (f, nf, NULL, tilt, max_points, plan, out);
}

int
dpacct_pld_compose_logged (const pld_factor *f, size_t nf, double **log_mass,
                           double tilt, size_t max_points, pld_fft_plan *plan,
                           pld_composed *out)
{
  memset (out, 0, sizeof *out);
  double h = f[0].step->h;
  pld_prepared p;
  pld_sums sums;
  int status = dpacct_pld_prepare (f, nf, tilt, log_mass, &p, &sums);
  if (status != DPACCT_OK)
    return status;
  pld_chernoff bound;
  pld_window w;
  dpacct_pld_chernoff_init (&bound, &p, sqrt (sums.var) + h, NULL);
  status = choose_window (&sums, &bound, h, plan, max_points, &w);
  if (status != DPACCT_OK)
    {
      dpacct_pld_prepared_release (&p);
      return status;
    }
  size_t n = w.n;
  double *acc = dpacct_alloc_doubles (n), *work = dpacct_alloc_doubles (n);
  pld_fft_plan own = { 0, NULL, NULL, NULL };
  pld_fft_plan *tables = plan != NULL ? plan : &own;
  if (acc == NULL || work == NULL
      || dpacct_pld_fft_plan_for (tables, n) != DPACCT_OK)
    {
      dpacct_pld_prepared_release (&p);
      free (acc), free (work);
      dpacct_pld_fft_plan_release (&own);
      return DPACCT_FAIL (DPACCT_ENOMEM, "cannot allocate a PLD composition");
    }
  /* Repeated squaring, with the powers' products and those into the
   * accumulated transform (total_count - 1 in all, each within sqrt(5) u
   * relative), errs by at most (1 + sqrt(5) u)^total_count - 1 <= 2 sqrt(5)
   * u total_count relative to coefficients of modulus at most 1 (for
   * total_count below 2^44), within the polar powering's bound in
   * dpacct_pld_compose_finish; zeroing powers below e^-745 and subnormal
   * products add less than 1e-300, far below that bound's constant 8 u. */
  double error = dpacct_pld_transform_into (
      &p, n, tables, PLD_SQUARING_OK (sums.total_count), acc, 1);
  dpacct_pld_prepared_release (&p);
  status = dpacct_pld_compose_finish (acc, work, tables, &w, h, tilt, &sums,
                                      error, out);
  dpacct_pld_fft_plan_release (&own);
  return status;
}

/* An upper bound on sum_{i=1}^{m} e^{-2 tilt i h} (1 - e^{-i h})^2, the
 * squared l2 norm of delta's weights on the m grid points above a loss
 * (in units of the weight e^{-tilt c_j} there): the smaller of the sum
 * with (1 - e^{-ih})^2 <= (ih)^2 taken to infinity, h^2 x (1 + x) /
 * (1 - x)^3 with x = e^{-2 tilt h}, and the sum with it <= 1.  Both are
 * free of cancellation, and within a small factor of the sum for a tilt
 * above 1 and below 1 respectively. */
static double
weights_l2_squared (const pld_composed *c, double m)
{
  double a = 2.0 * c->tilt * c->h;
  if (!(a > 0.0))
    return m;
  double one_minus_x = -expm1 (-a), x = exp (-a);
  double quadratic = c->h * c->h * x * (1.0 + x)
                     / (one_minus_x * one_minus_x * one_minus_x);
  double flat = x * -expm1 (-a * m) / one_minus_x;
  return fmin (quadratic, flat);
}

/* The bound on how far the FFT's errors move delta at eps, either way:
 * the round-off, sum_k |r_k| w_k <= |r|_2 |w|_2 over the window's points
 * above eps with w_k = e^{S - tilt c_k} (1 - e^{eps - c_k}) (at most
 * their values at c_j <= eps, the grid point below), and the mass outside
 * the window or wrapped into it, whose weight is at most e^{S - tilt eps}. */
static double
error_at (const pld_composed *c, double eps)
{
  double pos = floor (eps / c->h - (double) c->first);
  double wrapped = c->wrapped > 0.0
                   ? exp (log (c->wrapped) + c->log_scale - c->tilt * eps)
                   : 0.0;
  if (!(c->roundoff > 0.0) || pos >= (double) c->n - 1.0)
    return wrapped;
  double cj, l2;
  if (pos < 0.0) /* every point's weight is at most e^{S - tilt c_0} */
    cj = (double) c->first * c->h, l2 = sqrt ((double) c->n);
  else
    cj = ((double) c->first + pos) * c->h,
    l2 = sqrt (weights_l2_squared (c, (double) c->n - 1.0 - pos));
  return exp (log (c->roundoff * l2) + c->log_scale - c->tilt * cj) + wrapped;
}

/* The finite part of delta at eps >= the grid's first loss:
 * sum_{c_k > eps} p_k (1 - e^{eps - c_k}) = A_j - e^{eps - c_j} R_j for
 * c_j <= eps < c_j+1. */
static double
finite_delta (const pld_composed *c, double eps)
{
  double pos = eps / c->h - (double) c->first;
  if (pos < 0.0)
    pos = 0.0; /* below the window: counted as at its first point */
  if (pos >= (double) c->n)
    return 0.0;
  size_t j = (size_t) pos;
  double cj = (c->first + (long) j) * c->h;
  double above = c->above[j], ratio = c->ratio[j];
  if (!(above > 0.0))
    return 0.0;
  double la = log (above) + c->log_scale - c->tilt * cj;
  double lr = ratio > 0.0 ? log (ratio / above) + (eps - cj) : -INFINITY;
  return exp (la) * -expm1 (fmin (lr, 0.0));
}

double
dpacct_pld_composed_delta (const pld_composed *c, double eps, pld_side side)
{
  double finite = finite_delta (c, eps);
  double err = side == PLD_ESTIMATE ? 0.0 : error_at (c, eps);
  double delta = side == PLD_UPPER ? finite + c->infinity + err
                 : side == PLD_LOWER ? finite - err
                 : finite + c->infinity;
  return fmin (fmax (delta, 0.0), 1.0);
}

/* Any eps with delta_upper(eps) <= delta bounds the true epsilon from
 * above, and any eps with delta_lower(eps) > delta bounds it from below
 * (the true delta decreases in eps).  delta_upper decreases, so bisection
 * finds the smallest such point; delta_lower need not (its error term
 * grows as eps falls), so its search starts from the estimate and walks
 * down to a point above delta before bisecting. */
static double
bisect (const pld_composed *c, double delta, pld_side side, double lo,
        double hi)
{
  for (int i = 0; i < 200 && hi - lo > 1e-13 * fmax (1.0, hi); i++)
    {
      double mid = 0.5 * (lo + hi);
      if (dpacct_pld_composed_delta (c, mid, side) > delta)
        lo = mid;
      else
        hi = mid;
    }
  return side == PLD_LOWER ? lo : hi;
}

/* Where the upper bound on delta falls to `delta` above the window's top
 * loss: no composed mass and no round-off lies there, so delta is the
 * mass at +infinity plus the outside mass's term W e^{S - tilt eps},
 * which the tilt makes decrease; +Inf when it cannot fall that far. */
static double
beyond_window (const pld_composed *c, double delta, double top)
{
  if (!(c->infinity < delta))
    return INFINITY;
  if (!(c->wrapped > 0.0))
    return top;
  if (!(c->tilt > 0.0))
    return INFINITY;
  double eps = (log (c->wrapped) + c->log_scale - log (delta - c->infinity))
               / c->tilt;
  /* The rounding of the few operations above is covered by the margin. */
  eps = fmax (eps * (1.0 + 1e-12) + 1e-12, top);
  return isfinite (eps) ? eps : INFINITY;
}

double
dpacct_pld_composed_epsilon (const pld_composed *c, double delta,
                             pld_side side)
{
  double top = fmax ((c->first + (long) c->n) * c->h, 0.0);
  if (side != PLD_LOWER)
    {
      if (dpacct_pld_composed_delta (c, 0.0, side) <= delta)
        return 0.0;
      if (dpacct_pld_composed_delta (c, top, side) > delta)
        return beyond_window (c, delta, top);
      return bisect (c, delta, side, 0.0, top);
    }
  double estimate = dpacct_pld_composed_epsilon (c, delta, PLD_ESTIMATE);
  double hi = isfinite (estimate) ? estimate : top, lo = hi, step = c->h;
  while (lo > 0.0 && dpacct_pld_composed_delta (c, lo, side) <= delta)
    {
      hi = lo;
      lo = fmax (lo - step, 0.0);
      step *= 2.0;
    }
  if (dpacct_pld_composed_delta (c, lo, side) <= delta)
    return 0.0; /* no point is certainly above delta */
  return bisect (c, delta, side, lo, hi);
}
