/* pld_internal.h - the pieces of the PLD accountant; not installed.
 *
 * A privacy-loss pair is one step of a mechanism in one direction: the
 * loss L = log(P(x)/Q(x)) with x ~ P.  Everything the PLD accountant needs
 * of it is the two tail functions P(L > eps) and Q(L > eps). */
#ifndef DPACCT_PLD_INTERNAL_H
#define DPACCT_PLD_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <fftw3.h>

#include "dpacct/accountant.h"
#include "internal.h"

typedef enum { PLD_GAUSSIAN, PLD_LAPLACE } pld_base;
/* remove: P = (1-q) M(0) + q M(1), Q = M(0);  add: P = M(0), Q = mixture;
 * opposite (sampled only): P = (1-q) M(0) + q M(1),
 * Q = (1-q) M(0) + q M(-1), an example at +1 replaced by one at -1. */
typedef enum { PLD_REMOVE, PLD_ADD, PLD_OPPOSITE } pld_direction;

typedef struct
{
  pld_base base;
  double scale;   /* sigma or b, already divided by the sensitivity */
  double q;       /* sampling rate; 1 = unsampled */
  pld_direction direction;
} pld_pair;

/* log P(L > eps) and log Q(L > eps). */
void dpacct_pld_pair_tails (const pld_pair *pair, double eps, double *log_p,
                            double *log_q);

/* The tails themselves at the n grid points e_i = (first + at[i]) h,
 * with the rate's logarithms taken once: P(L > e_i) in tail_p[i], and
 * Q(L > e_i) e^{e_i} (at most the former, and normal where Q(L > e_i)
 * alone would underflow) in scaled_q[i]. */
void dpacct_pld_pair_tails_grid (const pld_pair *pair, double h, long first,
                                 const size_t *at, size_t n, double *tail_p,
                                 double *scaled_q);

/* The largest loss of a Laplace pair, an atom; NaN for a Gaussian one. */
double dpacct_pld_pair_top_atom (const pld_pair *pair);

/* An interval [lo, hi] outside which the loss has P-probability below
 * e^-tail_log (lo may be the loss's finite infimum). */
void dpacct_pld_pair_range (const pld_pair *pair, double tail_log,
                            double *lo, double *hi);

/* A discretised step: masses at losses (first + k) h, k = 0..n-1, plus the
 * mass at +infinity.  Pessimistic steps dominate the pair (their
 * hockey-stick curve is above it everywhere), optimistic ones are
 * dominated by it. */
typedef struct
{
  double h;
  long first;
  size_t n;
  double *mass;
  double infinity;
} pld_step;

void dpacct_pld_step_release (pld_step *step);

/* Where a step is discretised: the n points (first + k) h, at whose
 * stations the pair's tails are taken.  Any stations (with both ends)
 * give a valid step of either kind (below), as cells between stations.
 * The stations are every stride-th point (and the last), and every point
 * inside a cell (e_a, e_b] whose P-mass m may move the composed delta at
 * `target` by more than e^refine_log: where log m + min(0, log_mgf -
 * tilt (target - e_b)) is above it (m times a Chernoff bound on the
 * other steps reaching the cell, given the composed log-MGF at the tilt).
 * A stride of 1 makes every point a station. */
typedef struct
{
  double h;
  long first;
  size_t n;
  size_t stride;
  double tilt, log_mgf, target, refine_log;
} pld_stations;

/* Every point of the grid. */
pld_stations dpacct_pld_stations_all (double h, long first, size_t n);

/* Connect the dots (Doroshenko et al. 2022): the mass of each grid
 * interval is split between its ends so that both P- and Q-mass are kept;
 * losses above the grid go to +infinity, below it to its first point. */
int dpacct_pld_step_pessimistic (const pld_pair *pair, const pld_stations *grid,
                                 pld_step *out);

/* A post-processing of the pair: the grid cells' masses pooled so that
 * each pool's loss lands on a grid point (or is rounded down to one). */
int dpacct_pld_step_optimistic (const pld_pair *pair, const pld_stations *grid,
                                pld_step *out);

/* Both of the above on one grid from one pass of the pair's tails (the
 * tails cost most of a step). */
int dpacct_pld_steps_both (const pld_pair *pair, const pld_stations *grid,
                           pld_step *optimistic, pld_step *pessimistic);

/* The pessimistic step with every mass (and the mass at +infinity) at
 * least the exact connect-the-dots one, proved by interval arithmetic in
 * MPFR; Gaussian pairs only (EUNSUP otherwise). */
int dpacct_pld_certified_step (const pld_pair *pair, double h, long first,
                               size_t n, pld_step *out);

/* Exponential tilting of a step's masses m_k = e^{log_mass[k]} at losses
 * c_k = (first + k) h (pld_tilt.c).  Terms below e^-cut of the largest
 * (cut = +Inf keeps all) leave the moments out; in log_mgf they are
 * dropped (an estimate, at most the true value) or each counted at
 * e^-cut of the largest (never below it: what a Chernoff bound needs). */
typedef enum { PLD_SMALL_DROPPED, PLD_SMALL_COUNTED } pld_small_terms;

typedef struct
{
  double log_mgf;   /* log sum_k m_k e^{theta c_k} */
  double mean, var; /* of the tilted, normalised distribution */
} pld_tilted;

/* The tilted moments of step S by THETA, given its log masses too, with
 * about one exponential per 32 points instead of one per point (and a
 * stated margin, so that counted small terms still leave log M above its
 * true value). */
void dpacct_pld_step_tilt_moments (const pld_step *s, const double *log_mass,
                                   double theta, double cut,
                                   pld_small_terms small, pld_tilted *out);

/* The log-MGFs of step S at m thetas (m at most PLD_MAX_TILTS), small
 * terms counted: each bit for bit what dpacct_pld_step_tilt_moments
 * gives, in one pass over the points instead of m. */
enum { PLD_MAX_TILTS = 8 };
void dpacct_pld_step_log_mgfs (const pld_step *s, const double *log_mass,
                               const double *theta, int m, double cut,
                               double *log_mgf);

/* The smallest tilt in [0, 1e6] at which `reached` holds (it must turn
 * true once and stay so as the tilt grows), found by bisection until the
 * bracket is within rel_tol of its top; either end of the bracket: where
 * the test holds (PLD_TILT_REACHED) or the last tilt where it failed
 * (PLD_TILT_SHORT).  0 when it holds at 0; about 1e6 when it does not
 * hold below that. */
typedef int pld_tilt_test (const void *context, double tilt);
typedef enum { PLD_TILT_REACHED, PLD_TILT_SHORT } pld_tilt_end;

double dpacct_pld_tilt_search (pld_tilt_test *reached, const void *context,
                               double rel_tol, pld_tilt_end end);

/* The root of f, increasing in the tilt and given with its derivative in
 * *slope, found by Newton's method kept inside the bracket it builds
 * (bisection where a step leaves it; steps out by 4 from 1 while there is
 * no slope): within about rel_tol of the root, on either side, where the
 * tilt search bisects to the same tolerance at several times the cost.
 * 0 when f(0) >= 0; 1e6 when f stays below 0 up to that.  For callers
 * that only centre (the side does not matter). */
typedef double pld_tilt_fn (const void *context, double tilt, double *slope);

double dpacct_pld_tilt_newton (pld_tilt_fn *f, const void *context,
                               double rel_tol);

/* One kind of step and how many times it is composed. */
typedef struct
{
  const pld_step *step;
  uint64_t count;
} pld_factor;

/* The composition of the factors; its delta(eps) and eps(delta) count
 * every error (FFT round-off, wrapped-around mass) on the side asked for:
 * added to delta for an upper bound, subtracted for a lower one, and left
 * out for an estimate (used only to choose the tilt). */
typedef enum { PLD_LOWER, PLD_ESTIMATE, PLD_UPPER } pld_side;

typedef struct
{
  double h;
  long first;        /* loss of mass[0] is first * h */
  size_t n;
  double *mass;      /* tilted masses: true = mass * exp(log_scale - tilt c) */
  double tilt, log_scale;
  double infinity;   /* composed mass at +infinity */
  /* Bounds on the errors in mass (tilted units): the FFT round-off in l2
   * (a sum of |error_k| w_k over any weights is at most roundoff times
   * the weights' l2 norm, far less than the l1 bound times their largest),
   * and the l1 mass that wraps around or lies outside the window. */
  double roundoff, wrapped;
  /* For each grid index j, over the losses c_k > c_j of the tilted masses
   * m_k: sum m_k e^{-tilt (c_k - c_j)} and sum m_k e^{-(tilt+1) (c_k - c_j)}
   * (times e^{log_scale - tilt c_j}, the untilted sum p_k and sum
   * p_k e^{c_j - c_k}). */
  double *above, *ratio;
} pld_composed;

/* FFTW's real-to-complex plan for one size (the inverse runs through it
 * too, see dpacct_pld_compose_finish), with the arrays it runs on
 * (dpacct_alloc_doubles): kept from one composition to the next of the same
 * size (their trigonometry costs a fair part of a transform).
 * Zero-initialise; release when done. */
typedef struct
{
  size_t n;
  fftw_plan forward;
  double *real;           /* n points */
  fftw_complex *spectrum; /* n/2 + 1 coefficients */
} pld_fft_plan;

void dpacct_pld_fft_plan_release (pld_fft_plan *plan);

/* `plan` may be NULL (tables made and freed here). */
int dpacct_pld_compose (const pld_factor *factors, size_t n_factors,
                        double tilt, size_t max_points, pld_fft_plan *plan,
                        pld_composed *out);
/* The same, with the factors' log masses already taken (NULL: none), which
 * it owns from then on (see dpacct_pld_prepare). */
int dpacct_pld_compose_logged (const pld_factor *factors, size_t n_factors,
                               double **log_mass, double tilt,
                               size_t max_points, pld_fft_plan *plan,
                               pld_composed *out);
void dpacct_pld_composed_release (pld_composed *c);

/* dpacct_pld_compose in parts, so that a caller can keep the transform of
 * factors that do not change and compose others into a copy of it
 * (pld_fixed_run.c).  A composition at tilt t is: prepare the factors
 * (their log masses, log-MGFs and the sums below), choose an FFT size n
 * and a window from the sums and a Chernoff bound, multiply the factors'
 * tilted transforms into one product, and finish (invert, unwrap, error
 * terms). */
typedef struct
{
  double mean, var;       /* of the tilted composed loss */
  double log_scale;       /* sum count log M(t) */
  double finite;          /* sum count log(1 - mass at +infinity) */
  double support, lowest; /* sum count (n - 1), sum count first */
  size_t widest;          /* the most points of one step */
  uint64_t total_count;
} pld_sums;

typedef struct
{
  const pld_factor *f;
  size_t nf;
  double tilt;
  double **log_mass; /* per factor, -Inf for empty points */
  double *log_m;     /* per factor, log M(tilt) */
} pld_prepared;

/* The factors' log masses (-Inf for empty points), one array per factor
 * in one block: a long run's are tens of MiB, taken afresh for every
 * composition, and one block sits on huge pages (dpacct_alloc_doubles),
 * where separate arrays each took a page fault per 4 KiB.  NULL when
 * memory is short; freed by dpacct_pld_log_masses_free. */
double **dpacct_pld_log_masses (const pld_factor *factors, size_t n_factors);
void dpacct_pld_log_masses_free (double **log_mass, size_t n_factors);

/* `log_mass`, if not NULL, is the factors' log masses (from
 * dpacct_pld_log_masses), already taken: the preparation owns it from
 * then on, even when it fails. */
int dpacct_pld_prepare (const pld_factor *factors, size_t n_factors,
                        double tilt, double **log_mass, pld_prepared *out,
                        pld_sums *sums);
void dpacct_pld_prepared_release (pld_prepared *p);
void dpacct_pld_sums_add (pld_sums *to, const pld_sums *from);

/* Chernoff bounds on the tilted composed mass outside a window, from the
 * exponents on a fixed grid of PLD_N_THETA thetas scaled by sd, computed
 * when first needed.  With a base (on whose thetas it then works), the
 * base's exponents (its factors') are added to its own: the base keeps
 * them from one composition to the next.  `p` must outlive it. */
enum { PLD_N_THETA = 37 };
typedef struct pld_chernoff
{
  const pld_prepared *p;
  struct pld_chernoff *base;
  double theta[PLD_N_THETA];
  double k[2][PLD_N_THETA]; /* [0]: down, [1]: up; NaN until computed */
  int best[2];              /* where the last search ended */
} pld_chernoff;

void dpacct_pld_chernoff_init (pld_chernoff *c, const pld_prepared *p,
                               double sd, pld_chernoff *base);
/* A bound on the tilted mass outside [mean - half, mean + half]: the
 * best the thetas give, or (enough > 0) the first one found at most
 * `enough`, where a caller needs no tighter one (each theta costs a pass
 * over every step). */
double dpacct_pld_chernoff_outside (pld_chernoff *c, double mean,
                                    double half, double enough);

/* How many grid points the window of a composition with these sums needs
 * (before any fitting of the whole support): centred on the tilted mean,
 * with the tilted mass outside it at most 1e-13 by BOUND; its half-width
 * and that mass in *HALF and *WRAPPED. */
double dpacct_pld_window_points (const pld_sums *sums, pld_chernoff *bound,
                                 double h, double *half, double *wrapped);

/* The smallest even 5-smooth number at least x (SIZE_MAX past 2^62). */
size_t dpacct_pld_fft_size (double x);
int dpacct_pld_fft_plan_for (pld_fft_plan *plan, size_t n);

/* Where a composition's circular window lies: n points from loss index
 * start, and a bound on the tilted mass outside it. */
typedef struct
{
  size_t n;
  long start;
  double wrapped;
} pld_window;

/* Powering by repeated squaring keeps its error bound up to 2^44
 * compositions in all (see dpacct_pld_compose). */
#define PLD_SQUARING_OK(total_count) ((total_count) <= ((uint64_t) 1 << 44))

/* Multiplies the tilted transforms of p's factors, each raised to its
 * count, into acc (n points, half-complex in GSL's layout; taken as all
 * ones when `fresh`), with the plan's arrays as scratch.  Returns the
 * bound on the round-off they add (tilted, l2). */
double dpacct_pld_transform_into (const pld_prepared *p, size_t n,
                                  const pld_fft_plan *tables, int squaring,
                                  double *acc, int fresh);

/* A factor's transform at its lowest coefficients only, from block
 * moments (pld_low_band.c): for an n-point window, scratch for factors of
 * up to `longest` points (their weights go into x), and the phase tables
 * (made when first used). */
typedef struct
{
  size_t n, shift;
  double *fine, *coarse; /* e^{-2 pi i m / n}, see make_phases */
  int phases_made;
  double *x, *moments;
} pld_low_band;

int dpacct_pld_low_band_init (pld_low_band *lb, size_t n, size_t longest);
void dpacct_pld_low_band_release (pld_low_band *lb);
/* Whether coefficients 0..band-1 of a factor of len points cost less
 * this way than by an n-point FFT. */
int dpacct_pld_low_band_cheaper (size_t len, size_t n, size_t band);
/* A bound on each coefficient's absolute error (in modulus), for weights
 * whose sum is at most `mass`; NaN when the band is too wide for it. */
double dpacct_pld_low_band_bound (size_t len, size_t n, size_t band,
                                  double mass);
/* Coefficients 0..band-1 of the n-point DFT of lb->x[0..len-1] (all >=
 * 0) at loss indices first, first + 1, ... (mod n), into out; only where
 * dpacct_pld_low_band_bound is a number. */
void dpacct_pld_low_band (pld_low_band *lb, size_t len, long first,
                          size_t band, fftw_complex *out);

/* Inverts acc (the product of every factor's transform) into *out with
 * its error terms; `error` is the sum of the transforms' round-off
 * bounds.  acc and work (n doubles each, malloc'ed) are taken over by
 * *out, also on failure. */
int dpacct_pld_compose_finish (double *acc, double *work,
                               const pld_fft_plan *tables,
                               const pld_window *w, double h, double tilt,
                               const pld_sums *sums, double error,
                               pld_composed *out);

double dpacct_pld_composed_delta (const pld_composed *c, double eps,
                                  pld_side side);
double dpacct_pld_composed_epsilon (const pld_composed *c, double delta,
                                    pld_side side);

/* The certified composition of certified steps, as a step whose masses
 * bound the exact composition's from above; at most `budget` of mass is
 * moved up (to a higher loss or +infinity) on the way, to keep the grid
 * short.  ENOMEM when it still needs more than max_points points. */
int dpacct_pld_certified_compose (const pld_factor *factors, size_t n_factors,
                                  double budget, size_t max_points,
                                  pld_step *out);
/* Proved upper bounds on delta(eps) and on eps(delta) of such a step. */
double dpacct_pld_certified_delta (const pld_step *c, double eps);
double dpacct_pld_certified_epsilon (const pld_step *c, double delta);

/* What chooses the stations of a run's steps (pld_stations): the tilt,
 * the composed log-MGF there, the epsilon and delta it was centred for
 * and the run's steps (a NaN tilt: every point). */
typedef struct
{
  double tilt, log_mgf, eps, delta, steps;
} pld_station_rule;

/* Steps and the factors that compose them (each pointing to its step),
 * with the pair each step discretises. */
typedef struct
{
  size_t n;
  pld_step *steps;
  pld_factor *factors;
  pld_pair *pairs;
} pld_step_list;

/* For calibration's fixed-grid evaluations (pld_fixed_run.c), from
 * pld_accountant.c: the grid and tilts of the upper bound's ladder, and
 * the pessimistic steps of the upper bound's pairs on such a grid. */
typedef struct
{
  double h;          /* the ladder's last rung */
  int directions;    /* 1, or 2 when the add direction differs */
  double tilt[2];    /* per direction (remove, add), its last tilt */
  double tail_log;   /* where the steps' grids end (see one_bound) */
  pld_station_rule stations[2]; /* what chose the last rung's stations */
  double upper[2];   /* per direction, its smallest upper bound on any rung */
  /* per direction, the steps the last rung built there, where it built
   * them on this grid with these stations (n = 0: none) */
  pld_step_list kept[2];
} pld_grid;

/* The epsilon upper bound at delta of the run of these leaves, as
 * pld_epsilon gives it with "upper-only", and its grid; DPACCT_EUNSUP
 * where that bound is more than the ladder of the leaves' pairs
 * (certified, or replace-one with sampling) or a leaf is unsupported. */
int dpacct_pld_fixed_grid (const dpacct_accountant_options *options,
                           const dpacct_leaf *leaves, size_t n, double delta,
                           dpacct_bound *out, pld_grid *grid);
/* The pessimistic steps of the leaves' upper-bound pairs in one direction
 * (add or remove) on the grid's last rung, with its stations, cut where
 * the tails are below e^-tail_log.  A step of the same pair in `donor`
 * (steps built on that grid with those stations, or NULL) is taken from
 * it instead of built again. */
int dpacct_pld_leaf_steps (const dpacct_accountant_options *options,
                           const dpacct_leaf *leaves, size_t n, int add,
                           const pld_grid *grid, pld_step_list *donor,
                           pld_step_list *out);
void dpacct_pld_step_list_release (pld_step_list *list);

/* [lower, upper] into *out, or ENUMERIC (both NaN) when the lower bound
 * is above the upper one by more than rounding. */
int dpacct_pld_bound_pair (double lower, double upper, dpacct_bound *out);

#endif
