/* bench.c - timings of the accountants and calibration (`make bench`).
 *
 * Prints the median and worst time per epsilon over a grid like the one
 * the peers were timed on (sigma 0.5..10, q 1e-4..1, steps 1..1e5), the
 * time per epsilon at 1e5 steps, the time per calibration, PLD's time and
 * gap over a sweep of small sampling rates and sigma < 1, and the time
 * of a cumulative-noise plan of 20 batch sizes x 5 epsilons.  Timing
 * belongs here, not in the tests. */
#include <dpacct.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* The process's CPU time: the library is single-threaded, and CPU time
 * leaves out what other work on a shared machine takes from it. */
static double
now (void)
{
  struct timespec t;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int
compare (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* Seconds for one epsilon: build the event, compose, convert. */
static double
time_epsilon_with (const dpacct_accountant_type *type,
                   const dpacct_accountant_options *options, double sigma,
                   double q, uint64_t steps, double *eps)
{
  double start = now ();
  dpacct_event *e;
  dpacct_accountant *acc;
  dpacct_bound b;
  if (dpacct_dpsgd_event_alloc (sigma, q, steps, DPACCT_SAMPLING_POISSON, &e)
      || dpacct_accountant_alloc (type, options, &acc)
      || dpacct_accountant_compose (acc, e, 1)
      || dpacct_accountant_epsilon (acc, 1e-5, &b))
    {
      fprintf (stderr, "bench: accountant failed\n");
      exit (2);
    }
  dpacct_accountant_free (acc);
  dpacct_event_free (e);
  *eps = b.upper;
  return now () - start;
}

/* Seconds for one Lap2 epsilon at b/C = 1, delta 1e-5: event, compose
 * (all orders 1..max_order), convert. */
static double
time_lap2 (const dpacct_accountant_type *type, uint64_t n, double q,
           uint64_t steps, unsigned max_order, double *eps)
{
  double start = now ();
  dpacct_accountant_options o;
  dpacct_accountant_options_init (&o);
  dpacct_accountant_options_set_int (&o, "lap2-max-order", max_order);
  dpacct_event *e;
  dpacct_accountant *acc;
  dpacct_bound b;
  if (dpacct_lap2_event_alloc (1.0, n, q, steps, &e)
      || dpacct_accountant_alloc (type, &o, &acc)
      || dpacct_accountant_compose (acc, e, 1)
      || dpacct_accountant_epsilon (acc, 1e-5, &b))
    {
      fprintf (stderr, "bench: Lap2 accountant failed\n");
      exit (2);
    }
  dpacct_accountant_free (acc);
  dpacct_event_free (e);
  *eps = b.upper;
  return now () - start;
}

static double
time_epsilon (double sigma, double q, uint64_t steps, double *eps)
{
  return time_epsilon_with (dpacct_accountant_rdp, NULL, sigma, q, steps, eps);
}

/* A plan of 20 batch sizes (64 .. 50000, ratio about sqrt 2) x 5
 * epsilons (0.5 .. 8) for N = 50,000, E = 8, delta = 1e-5: 100
 * calibrations.  PLD_ACCURACY 0: the accountant's default. */
static void
bench_plan (const dpacct_accountant_type *type, double pld_accuracy)
{
  const double epsilons[] = { 0.5, 1, 2, 4, 8 };
  uint64_t batches[20];
  for (int k = 0; k < 19; k++)
    batches[k] = (uint64_t) (64 * pow (2, k / 2.0) + 0.5);
  batches[19] = 50000;
  dpacct_plan_options o;
  dpacct_plan_options_init (&o);
  o.accountant = type;
  o.dataset_size = 50000;
  o.epochs = 8;
  if (pld_accuracy > 0)
    dpacct_accountant_options_set_double (&o.accountant_options,
                                          "pld-rel-accuracy", pld_accuracy);
  double start = now (), slowest = 0;
  for (int i = 0; i < 5; i++)
    {
      dpacct_plan_row rows[21];
      size_t n;
      dpacct_plan_recommendation rec;
      double t = now ();
      o.epsilon = epsilons[i];
      if (dpacct_plan_compute (&o, batches, 20, rows, &n, &rec))
        {
          fprintf (stderr, "bench: plan failed\n");
          exit (2);
        }
      t = now () - t;
      slowest = t > slowest ? t : slowest;
    }
  printf ("%s plan, 20 batch sizes x 5 epsilons (N 50000, 8 epochs%s): "
          "%.3f s in all, slowest epsilon %.3f s\n", type->name,
          pld_accuracy > 0 ? ", PLD accuracy 0.05" : "", now () - start,
          slowest);
  fflush (stdout);
}

/* A uniform draw in [0, 1) from a 64-bit LCG (Knuth's MMIX constants):
 * the sweep's points are the same on every machine. */
static double
uniform (uint64_t *state)
{
  *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double) (*state >> 11) * 0x1p-53;
}

/* The PLD at small sampling rates and small noise (issue 14): n points
 * drawn log-uniformly over q 1e-5..1e-3, delta 1e-12..1e-6, steps
 * 1..1e6 and uniformly over sigma 0.5..1, each timed (event, compose,
 * both bounds), with the gap and RDP's upper bound beside it.  With
 * `verbose` every point is printed (to find the hard ones). */
static void
bench_pld_sweep (int n, int verbose)
{
  uint64_t seed = 14;
  double *times = malloc (n * sizeof *times), worst_gap = 0.0;
  int wide = 0, above_rdp = 0;
  for (int i = 0; i < n; i++)
    {
      double q = 1e-5 * pow (100.0, uniform (&seed));
      double sigma = 0.5 + 0.5 * uniform (&seed);
      double delta = 1e-12 * pow (1e6, uniform (&seed));
      uint64_t steps = (uint64_t) floor (pow (1e6, uniform (&seed)) + 0.5);
      double start = now ();
      dpacct_event *e;
      dpacct_accountant *pld, *rdp;
      dpacct_bound b, r;
      if (dpacct_dpsgd_event_alloc (sigma, q, steps, DPACCT_SAMPLING_POISSON,
                                    &e)
          || dpacct_accountant_alloc (dpacct_accountant_pld, NULL, &pld)
          || dpacct_accountant_compose (pld, e, 1)
          || dpacct_accountant_epsilon (pld, delta, &b))
        {
          fprintf (stderr, "bench: PLD failed at sigma %g, q %g, %llu "
                   "steps, delta %g\n", sigma, q, (unsigned long long) steps,
                   delta);
          exit (2);
        }
      times[i] = now () - start;
      if (dpacct_accountant_alloc (dpacct_accountant_rdp, NULL, &rdp)
          || dpacct_accountant_compose (rdp, e, 1)
          || dpacct_accountant_epsilon (rdp, delta, &r))
        exit (2);
      dpacct_accountant_free (pld);
      dpacct_accountant_free (rdp);
      dpacct_event_free (e);
      double gap = b.upper - b.lower;
      int too_wide = !(gap <= 0.01 * b.upper || gap <= 1e-3);
      wide += too_wide;
      above_rdp += !(b.upper <= r.upper);
      worst_gap = fmax (worst_gap, b.upper > 0 ? gap / b.upper : 0.0);
      if (verbose)
        printf ("%.17g %.17g %llu %.17g  [%.9g, %.9g] gap %.2e rdp %.6g  "
                "%.3f s%s\n", sigma, q, (unsigned long long) steps, delta,
                b.lower, b.upper, gap / b.upper, r.upper, times[i],
                too_wide ? "  WIDE" : "");
    }
  qsort (times, n, sizeof *times, compare);
  printf ("PLD epsilon at small rates (%d points: q 1e-5..1e-3, sigma "
          "0.5..1, delta 1e-12..1e-6, steps 1..1e6):\n  median %.3f s, "
          "90th percentile %.3f s, max %.3f s; gap at most %.2e of upper, "
          "%d wider than 1 %% and 1e-3, %d above RDP\n", n, times[n / 2],
          times[(9 * n) / 10], times[n - 1], worst_gap, wide, above_rdp);
  fflush (stdout);
  free (times);
}

/* The samplers of dpacct/sampler.h (issue 18): shuffle at K = 1000, E = 5;
 * balls-and-bins at one epoch, K = 10; capped against plain Poisson. */
static int
bench_samplers (void)
{
  dpacct_epoch_run run = { 1.0, 1000, 5 };
  dpacct_bound b;
  double start = now ();
  if (dpacct_sampler_epsilon (DPACCT_SAMPLER_SHUFFLE, &run, 1e-5, NULL, &b))
    return 2;
  printf ("shuffle [lower, upper], sigma 1, K 1000, E 5, delta 1e-5: "
          "[%.4f, %.4f] in %.3f s\n", b.lower, b.upper, now () - start);
  dpacct_epoch_run balls = { 1.0, 10, 1 };
  start = now ();
  if (dpacct_sampler_epsilon (DPACCT_SAMPLER_BALLS_AND_BINS, &balls, 1e-5,
                              NULL, &b))
    return 2;
  printf ("balls-and-bins one epoch, sigma 1, K 10, delta 1e-5: "
          "[%.4f, %.4f] in %.3f s\n", b.lower, b.upper, now () - start);
  dpacct_epoch_run balls5 = { 1.0, 10, 5 };
  start = now ();
  if (dpacct_sampler_epsilon (DPACCT_SAMPLER_BALLS_AND_BINS, &balls5, 1e-5,
                              NULL, &b))
    return 2;
  printf ("balls-and-bins 5 epochs (pessimistic PLD), sigma 1, K 10, "
          "delta 1e-5: [%.4f, %.4f] in %.3f s\n", b.lower, b.upper,
          now () - start);
  /* Capped: sigma 1, N 60000, B 600 (q 0.01), 1000 steps, cap 800. */
  dpacct_event *e;
  dpacct_accountant *acc;
  double lx;
  start = now ();
  if (dpacct_dpsgd_event_alloc (1.0, 0.01, 1000, DPACCT_SAMPLING_POISSON, &e)
      || dpacct_accountant_alloc (dpacct_accountant_pld, NULL, &acc)
      || dpacct_accountant_compose (acc, e, 1)
      || dpacct_accountant_epsilon (acc, 1e-5, &b))
    return 2;
  double plain = now () - start, plain_eps = b.upper;
  dpacct_accountant_free (acc);
  start = now ();
  if (dpacct_accountant_alloc (dpacct_accountant_pld, NULL, &acc)
      || dpacct_accountant_compose (acc, e, 1)
      || dpacct_capped_poisson_log_excess (60001, 0.01, 800, 1000, &lx)
      || dpacct_capped_poisson_epsilon (acc, lx, 1e-5, &b))
    return 2;
  double capped = now () - start;
  dpacct_accountant_free (acc);
  dpacct_event_free (e);
  printf ("capped Poisson, sigma 1, N 60000, q 0.01, 1000 steps, cap 800, "
          "delta 1e-5: [%.4f, %.4f] in %.3f s (Poisson %.4f in %.3f s)\n",
          b.lower, b.upper, capped, plain_eps, plain);
  return 0;
}

/* ---- a run of 1000 phases ---------------------------------------------- */

enum { RUN_PHASES = 1000, RUN_STEPS = 100, UNKNOWN_PHASE = 500 };

/* Phase i: noise and rate change every phase (sigma 0.8..1.2, q
 * 0.001..0.01), 100 Poisson-sampled steps. */
static int
make_phases (double unknown_sigma, void *context, dpacct_event **out)
{
  dpacct_event *events[RUN_PHASES];
  int status = DPACCT_OK;
  size_t n = 0;
  (void) context;
  for (size_t i = 0; i < RUN_PHASES && status == DPACCT_OK; i++, n++)
    {
      double sigma = i == UNKNOWN_PHASE && unknown_sigma > 0
                         ? unknown_sigma : 0.8 + 0.4 * i / RUN_PHASES;
      double q = 0.001 + 0.009 * i / RUN_PHASES;
      status = dpacct_dpsgd_event_alloc (sigma, q, RUN_STEPS,
                                         DPACCT_SAMPLING_POISSON, &events[i]);
    }
  if (status == DPACCT_OK)
    status = dpacct_event_sequence_alloc ((const dpacct_event *const *) events,
                                          n, out);
  for (size_t i = 0; i < n; i++)
    dpacct_event_free (events[i]);
  return status;
}

static int
bench_run_bound (const dpacct_accountant_type *type, double *seconds,
                 dpacct_bound *b)
{
  dpacct_event *e;
  dpacct_accountant *acc;
  double start = now ();
  int status = make_phases (0, NULL, &e);
  if (status == DPACCT_OK)
    status = dpacct_accountant_alloc (type, NULL, &acc);
  if (status == DPACCT_OK)
    {
      status = dpacct_accountant_compose (acc, e, 1);
      if (status == DPACCT_OK)
        status = dpacct_accountant_epsilon (acc, 1e-5, b);
      dpacct_accountant_free (acc);
    }
  dpacct_event_free (e);
  *seconds = now () - start;
  return status;
}

/* "bench runs": the 1000-phase run of issue 15 with rdp, pld (both
 * bounds) and the calibration of one phase's noise with pld, and the
 * process's peak memory. */
static int
bench_runs (void)
{
  dpacct_bound b;
  double t;
  if (bench_run_bound (dpacct_accountant_rdp, &t, &b))
    return 2;
  printf ("1000-phase run (sigma 0.8..1.2, q 1e-3..1e-2, 100 Poisson steps "
          "each, delta 1e-5):\n  rdp upper %.6f in %.3f s\n", b.upper, t);
  if (bench_run_bound (dpacct_accountant_pld, &t, &b))
    return 2;
  printf ("  pld [%.6f, %.6f] in %.2f s\n", b.lower, b.upper, t);
  /* At the run's own bound the answer is the noise it was built with,
   * where the first evaluation lands; 2e-4 below it (one phase of 1000
   * moves epsilon by about 5e-4 of itself), the answer lies elsewhere and
   * is bounded again by the accountant itself. */
  const double targets[] = { b.upper, (1.0 - 2e-4) * b.upper };
  for (int i = 0; i < 2; i++)
    {
      dpacct_calibration c;
      double start = now ();
      if (dpacct_calibrate_noise (dpacct_accountant_pld, NULL, make_phases,
                                  NULL, targets[i], 1e-5, NULL, &c))
        return 2;
      printf ("  pld calibration of phase %d's noise for epsilon %.4f: sigma "
              "%.4f in %.2f s (%u evaluations)\n", UNKNOWN_PHASE, targets[i],
              c.noise, now () - start, c.evaluations);
    }
  struct rusage usage;
  getrusage (RUSAGE_SELF, &usage);
  printf ("  peak memory (resident) %.0f MiB\n", usage.ru_maxrss / 1024.0);
  return 0;
}

int
main (int argc, char **argv)
{
  /* "bench pld-sweep [N]": the small-rate sweep alone, point by point. */
  if (argc > 1 && strcmp (argv[1], "pld-sweep") == 0)
    {
      bench_pld_sweep (argc > 2 ? atoi (argv[2]) : 40, 1);
      return 0;
    }
  if (argc > 1 && strcmp (argv[1], "runs") == 0)
    return bench_runs ();
  /* "bench samplers": the batch samplers alone (issue 18). */
  if (argc > 1 && strcmp (argv[1], "samplers") == 0)
    return bench_samplers ();
  /* "bench plan": only the plans (the PLD ones take minutes). */
  if (argc > 1 && strcmp (argv[1], "plan") == 0)
    {
      bench_plan (dpacct_accountant_rdp, 0);
      bench_plan (dpacct_accountant_pld, 0.05);
      bench_plan (dpacct_accountant_pld, 0);
      return 0;
    }
  const double sigmas[] = { 0.5, 0.8, 1, 1.5, 2, 5, 10 };
  const double qs[] = { 1e-4, 1e-3, 4e-3, 1e-2, 0.1, 1 };
  const uint64_t steps[] = { 1, 10, 100, 1000, 10000, 100000 };
  const double *orders;
  size_t n_orders;
  dpacct_rdp_default_orders (&orders, &n_orders);
  double times[7 * 6 * 6], eps;
  size_t n = 0;
  for (size_t i = 0; i < 7; i++)
    for (size_t j = 0; j < 6; j++)
      for (size_t k = 0; k < 6; k++)
        times[n++] = time_epsilon (sigmas[i], qs[j], steps[k], &eps);
  qsort (times, n, sizeof *times, compare);
  printf ("RDP epsilon, %zu-point grid, real orders from the default grid of "
          "%zu:\n"
          "  median %.3f ms, 90th percentile %.3f ms, max %.3f ms\n",
          n, n_orders, 1e3 * times[n / 2], 1e3 * times[(9 * n) / 10],
          1e3 * times[n - 1]);

  double single[25];
  for (int r = 0; r < 25; r++)
    single[r] = time_epsilon (1.1, 0.004, 100000, &eps);
  qsort (single, 25, sizeof *single, compare);
  printf ("RDP epsilon, sigma 1.1, q 0.004, 1e5 steps, delta 1e-5: "
          "%.6f in %.3f ms (median of 25)\n", eps, 1e3 * single[12]);

  const double targets[] = { 0.5, 1, 3, 8 };
  const double cal_q[] = { 1e-3, 1e-2, 0.1 };
  double cal[12];
  size_t m = 0;
  for (size_t i = 0; i < 4; i++)
    for (size_t j = 0; j < 3; j++)
      {
        dpacct_calibration r;
        double start = now ();
        if (dpacct_noise_for_epsilon (dpacct_accountant_rdp, NULL, cal_q[j],
                                      (uint64_t) (10 / cal_q[j]),
                                      DPACCT_SAMPLING_POISSON, targets[i],
                                      1e-5, NULL, &r))
          {
            fprintf (stderr, "bench: calibration failed\n");
            return 2;
          }
        cal[m++] = now () - start;
      }
  qsort (cal, m, sizeof *cal, compare);
  printf ("RDP calibration (epsilon 0.5..8, q 1e-3..0.1, 10 epochs, "
          "rel. tol. 1e-3): median %.3f ms, max %.3f ms\n",
          1e3 * cal[m / 2], 1e3 * cal[m - 1]);

  double lap2[25];
  for (int r = 0; r < 25; r++)
    lap2[r] = time_lap2 (dpacct_accountant_lap2, 100000000, 0.01, 10000, 2048,
                         &eps);
  qsort (lap2, 25, sizeof *lap2, compare);
  printf ("Lap2 epsilon, n 1e8, b/C 1, q 0.01, 1e4 steps, orders 1..2048, "
          "delta 1e-5: %.6f in %.1f ms (median of 25)\n", eps, 1e3 * lap2[12]);
  double paper = time_lap2 (dpacct_accountant_lap2_paper, 1000000000, 0.01,
                            10000, 512, &eps);
  printf ("Lap2-paper epsilon, n 1e9, b/C 1, q 0.01, 1e4 steps, orders "
          "1..512: %.6f in %.1f ms\n", eps, 1e3 * paper);
  dpacct_calibration lc;
  double lstart = now ();
  if (dpacct_lap2_scale_for_epsilon (dpacct_accountant_lap2, NULL, 1.0,
                                     100000000, 0.01, 10000, 3.0, 1e-5, NULL,
                                     &lc))
    {
      fprintf (stderr, "bench: Lap2 calibration failed\n");
      return 2;
    }
  printf ("Lap2 calibration, epsilon 3, n 1e8, q 0.01, 1e4 steps: b/C %.4f "
          "in %.0f ms (%u evaluations)\n", lc.noise, 1e3 * (now () - lstart),
          lc.evaluations);

  double pld[5];
  for (int r = 0; r < 5; r++)
    pld[r] = time_epsilon_with (dpacct_accountant_pld, NULL, 1.0, 0.01, 10000,
                                &eps);
  qsort (pld, 5, sizeof *pld, compare);
  printf ("PLD epsilon, sigma 1, q 0.01, 1e4 steps, delta 1e-5: upper %.6f "
          "in %.1f ms (median of 5)\n", eps, 1e3 * pld[2]);
  dpacct_accountant_options replace;
  dpacct_accountant_options_init (&replace);
  dpacct_accountant_options_set_int (&replace, "neighbouring",
                                     DPACCT_REPLACE_ONE);
  for (int r = 0; r < 5; r++)
    pld[r] = time_epsilon_with (dpacct_accountant_pld, &replace, 1.0, 0.01,
                                10000, &eps);
  qsort (pld, 5, sizeof *pld, compare);
  printf ("PLD epsilon, same run under replace-one (product pair, group "
          "privacy and the +-C pair): upper %.6f in %.1f ms (median of 5)\n",
          eps, 1e3 * pld[2]);
  dpacct_accountant_options certified;
  dpacct_accountant_options_init (&certified);
  dpacct_accountant_options_set_int (&certified, "certified", 1);
  double cert_time = time_epsilon_with (dpacct_accountant_pld, &certified, 1.0,
                                        0.01, 10000, &eps);
  printf ("PLD certified epsilon, same run: upper %.6f in %.2f s\n", eps,
          cert_time);
  cert_time = time_epsilon_with (dpacct_accountant_pld, &certified, 1.1,
                                 0.004, 1000, &eps);
  printf ("PLD certified epsilon, sigma 1.1, q 0.004, 1000 steps: upper %.6f "
          "in %.2f s\n", eps, cert_time);
  dpacct_calibration r;
  double start = now ();
  if (dpacct_noise_for_epsilon (dpacct_accountant_pld, NULL, 0.001, 1000,
                                DPACCT_SAMPLING_POISSON, 0.5, 1e-5, NULL, &r))
    {
      fprintf (stderr, "bench: PLD calibration failed\n");
      return 2;
    }
  printf ("PLD calibration, epsilon 0.5, delta 1e-5, q 0.001, 1000 steps: "
          "sigma %.4f in %.2f s\n", r.noise, now () - start);
  bench_pld_sweep (40, 0);
  bench_plan (dpacct_accountant_rdp, 0);
  puts ("(PLD plans: ./tests/bench plan; the small-rate sweep point by "
        "point: ./tests/bench pld-sweep [N]; the 1000-phase run: "
        "./tests/bench runs)");
  return bench_samplers ();
}
