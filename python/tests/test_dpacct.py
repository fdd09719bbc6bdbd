"""The module's numbers: the same doubles as the command line, the
Accountant against one-shot calls, the library's event sequences and the
Gaussian's closed form, calibration's promises, and threads.

Run by `make check` (tests/python.test) with the module of the build tree;
DPACCT names the command-line tool, DPACCT_LIBRARY the shared library."""

import math
import os
import subprocess
import threading
import time
import unittest

import dpacct
import clib

DPACCT = os.environ.get("DPACCT")


def cli_tsv(*args):
    """The rows of `dpacct ARGS --format tsv`, as dicts of strings."""
    out = subprocess.run([DPACCT, *args, "--format", "tsv"], check=True,
                         capture_output=True, text=True).stdout
    lines = out.strip("\n").split("\n")
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"))) for line in lines[1:]]


def same(a, b):
    """Exactly the same double (NaN equals NaN)."""
    return a == b or (math.isnan(a) and math.isnan(b))


# (command-line arguments, keyword arguments of dpacct.epsilon)
EPSILON_RUNS = [
    (["--noise-multiplier", "1", "--sampling-rate", "0.01", "--steps",
      "1000"], dict(noise_multiplier=1.0, sample_rate=0.01, steps=1000)),
    (["--noise-multiplier", "1.1", "--sampling-rate", "0.004", "--steps",
      "10000", "--accountant", "rdp"],
     dict(noise_multiplier=1.1, sample_rate=0.004, steps=10000,
          accountant="rdp")),
    (["--noise-multiplier", "0.9", "--dataset-size", "60000", "--batch-size",
      "256", "--epochs", "3", "--delta", "1e-6", "--accountant", "rdp"],
     dict(noise_multiplier=0.9, dataset_size=60000, batch_size=256,
          epochs=3, delta=1e-6, accountant="rdp")),
    (["--noise-multiplier", "2", "--sampling-rate", "0.05", "--steps", "500",
      "--accountant", "rdp", "--orders", "2,4,8,16,32"],
     dict(noise_multiplier=2.0, sample_rate=0.05, steps=500,
          accountant="rdp", orders=[2, 4, 8, 16, 32])),
    (["--noise-multiplier", "1", "--sampling-rate", "0.01", "--steps", "100",
      "--neighbouring", "replace-one"],
     dict(noise_multiplier=1.0, sample_rate=0.01, steps=100,
          neighbouring="replace-one")),
    (["--noise-multiplier", "1.5", "--sampling-rate", "0.01", "--steps",
      "200", "--sampling", "without-replacement", "--neighbouring",
      "replace-one", "--accountant", "rdp"],
     dict(noise_multiplier=1.5, sample_rate=0.01, steps=200,
          sampling="without-replacement", neighbouring="replace-one",
          accountant="rdp")),
    (["--noise-multiplier", "0.8", "--sampling-rate", "0.02", "--steps",
      "300", "--pld-accuracy", "1e-2", "--max-points", "65536"],
     dict(noise_multiplier=0.8, sample_rate=0.02, steps=300,
          pld_accuracy=1e-2, max_points=65536)),
    (["--noise-multiplier", "1", "--sampling-rate", "0.01", "--steps", "100",
      "--accountant", "rdp", "--certified"],
     dict(noise_multiplier=1.0, sample_rate=0.01, steps=100,
          accountant="rdp", certified=True)),
    (["--laplace-scale", "2", "--clip", "1", "--dimension", "10",
      "--sampling-rate", "0.01", "--steps", "100", "--accountant", "lap2"],
     dict(laplace_scale=2.0, clip=1.0, dimension=10, sample_rate=0.01,
          steps=100, accountant="lap2")),
]


@unittest.skipUnless(DPACCT, "DPACCT (the command-line tool) is not set")
class SameAsCommandLine(unittest.TestCase):
    """Every function gives exactly the doubles the TSV prints (%.17g
    round-trips)."""

    def test_epsilon(self):
        for args, kwargs in EPSILON_RUNS:
            with self.subTest(args=args):
                (row,) = cli_tsv("epsilon", *args)
                b = dpacct.epsilon(**kwargs)
                self.assertEqual(b.accountant, row["accountant"])
                self.assertTrue(same(b.lower, float(row["epsilon_lower"])))
                self.assertTrue(same(b.upper, float(row["epsilon_upper"])))
                self.assertTrue(same(b.optimal_order,
                                     float(row["optimal_order"])))
                self.assertEqual(float(b), b.upper)

    def test_delta(self):
        for accountant in ("pld", "rdp"):
            with self.subTest(accountant=accountant):
                (row,) = cli_tsv("delta", "--noise-multiplier", "1.1",
                                 "--sampling-rate", "0.004", "--steps",
                                 "5000", "--epsilon", "1.5", "--accountant",
                                 accountant)
                b = dpacct.delta(noise_multiplier=1.1, sample_rate=0.004,
                                 steps=5000, epsilon=1.5,
                                 accountant=accountant)
                self.assertTrue(same(b.lower, float(row["delta_lower"])))
                self.assertTrue(same(b.upper, float(row["delta_upper"])))

    def test_noise_for_epsilon(self):
        runs = [
            (["--sampling-rate", "0.01", "--steps", "1000",
              "--accountant", "rdp"],
             dict(sample_rate=0.01, steps=1000, accountant="rdp")),
            (["--sampling-rate", "0.01", "--steps", "1000"],
             dict(sample_rate=0.01, steps=1000)),
            (["--dataset-size", "60000", "--batch-size", "256", "--epochs",
              "10", "--accountant", "rdp", "--rel-tol", "1e-4"],
             dict(dataset_size=60000, batch_size=256, epochs=10,
                  accountant="rdp", rel_tol=1e-4)),
            (["--sampling-rate", "0.01", "--steps", "100", "--accountant",
              "lap2", "--dimension", "10", "--clip", "0.5"],
             dict(sample_rate=0.01, steps=100, accountant="lap2",
                  dimension=10, clip=0.5)),
        ]
        for args, kwargs in runs:
            with self.subTest(args=args):
                (row,) = cli_tsv("noise-for-epsilon", "--epsilon", "3",
                                 "--delta", "1e-5", *args)
                c = dpacct.noise_for_epsilon(3, 1e-5, **kwargs)
                noise = row.get("noise_multiplier", row.get("laplace_scale"))
                self.assertEqual(c.noise, float(noise))
                self.assertEqual(c.epsilon_upper, float(row["epsilon_upper"]))
                self.assertEqual(c.steps, int(row["steps"]))
                self.assertEqual(c.sample_rate, float(row["sampling_rate"]))

    def test_cumulative_noise(self):
        rows = cli_tsv("cumulative-noise", "--epsilon", "1", "--dataset-size",
                       "10000", "--epochs", "2", "--batch-sizes",
                       "100,1000,10000", "--accountant", "rdp", "--clip",
                       "0.5", "--dimension", "1000")
        plan = dpacct.cumulative_noise(1, 10000, 2, [100, 1000, 10000],
                                       accountant="rdp", clip=0.5,
                                       dimension=1000)
        self.assertEqual(len(plan.rows), len(rows))
        for mine, theirs in zip(plan.rows, rows):
            for key in plan.columns:
                with self.subTest(batch_size=mine["batch_size"], key=key):
                    self.assertTrue(same(float(mine[key]),
                                         float(theirs[key])))
            self.assertEqual(int(mine["recommended"]),
                             int(theirs["recommended"]))
        self.assertEqual(plan.recommended_batch_size,
                         int(rows[0]["recommended_batch_size"]))
        self.assertEqual(plan.recommendation["reason"], rows[0]["reason"])

    def test_cumulative_noise_grid(self):
        rows = cli_tsv("cumulative-noise", "--epsilon", "2", "--dataset-size",
                       "5000", "--epochs", "1", "--batch-sizes", "500:5000",
                       "--accountant", "rdp")
        plan = dpacct.cumulative_noise(2, 5000, 1, (500, 5000),
                                       accountant="rdp")
        self.assertEqual([r["batch_size"] for r in plan.rows],
                         [int(r["batch_size"]) for r in rows])
        for mine, theirs in zip(plan.rows, rows):
            self.assertEqual(mine["noise_multiplier"],
                             float(theirs["noise_multiplier"]))


class AccountantTest(unittest.TestCase):

    def test_steps_equal_one_call(self):
        """T equal steps give exactly epsilon(steps=T)."""
        for accountant in ("pld", "rdp"):
            with self.subTest(accountant=accountant):
                a = dpacct.Accountant(accountant)
                for _ in range(2000):
                    a.step(noise_multiplier=1.1, sample_rate=0.004)
                self.assertEqual(len(a), 2000)
                self.assertEqual(a.history, [(1.1, 0.004, 2000)])
                b = dpacct.epsilon(noise_multiplier=1.1, sample_rate=0.004,
                                   steps=2000, delta=1e-5,
                                   accountant=accountant)
                lower, upper = a.get_bounds(delta=1e-5)
                self.assertTrue(same(lower, b.lower))
                self.assertEqual(upper, b.upper)
                self.assertEqual(a.get_epsilon(1e-5), b.upper)

    def test_history_merges_consecutive_steps(self):
        a = dpacct.Accountant()
        for sigma, q in [(1, .01)] * 3 + [(2, .01)] * 2 + [(1, .01)]:
            a.step(noise_multiplier=sigma, sample_rate=q)
        self.assertEqual(a.history,
                         [(1.0, .01, 3), (2.0, .01, 2), (1.0, .01, 1)])
        self.assertEqual(len(a), 6)

    @unittest.skipUnless(os.environ.get("DPACCT_LIBRARY"),
                         "DPACCT_LIBRARY is not set")
    def test_heterogeneous_steps_are_the_library_sequence(self):
        """Steps with changing noise and rate give exactly what the
        library gives for the event sequence, built here with ctypes."""
        lib = clib.load()
        phases = [(1.0, 0.01, 300), (2.0, 0.02, 200), (0.8, 0.01, 100)]
        for accountant in ("pld", "rdp"):
            with self.subTest(accountant=accountant):
                a = dpacct.Accountant(accountant, delta=1e-6)
                for sigma, q, steps in phases:
                    for _ in range(steps):
                        a.step(noise_multiplier=sigma, sample_rate=q)
                self.assertEqual(a.history, phases)
                lower, upper = clib.sequence_epsilon(lib, accountant, phases,
                                                     1e-6)
                mine = a.get_bounds()
                self.assertTrue(same(mine[0], lower))
                self.assertEqual(mine[1], upper)

    def test_unsampled_composition_is_one_gaussian(self):
        """Unsampled Gaussian steps compose to one Gaussian with
        1/sigma^2 = sum T_i / sigma_i^2, whose epsilon is known in closed
        form: PLD's bounds sandwich it, RDP's equals the single Gaussian's
        RDP bound."""
        phases = [(2.0, 1.0, 3), (4.0, 1.0, 8), (3.0, 1.0, 2)]
        mu = math.sqrt(sum(t / s ** 2 for s, _, t in phases))
        delta = 1e-5
        exact = gaussian_epsilon(mu, delta)
        a = dpacct.Accountant("pld")
        r = dpacct.Accountant("rdp")
        for sigma, q, steps in phases:
            for _ in range(steps):
                a.step(noise_multiplier=sigma, sample_rate=q)
                r.step(noise_multiplier=sigma, sample_rate=q)
        lower, upper = a.get_bounds(delta)
        self.assertLessEqual(lower, exact)
        self.assertGreaterEqual(upper, exact)
        self.assertLess(upper, exact * (1 + 2e-3))
        one = dpacct.epsilon(noise_multiplier=1 / mu, sample_rate=1.0,
                             steps=1, delta=delta, accountant="rdp")
        self.assertAlmostEqual(r.get_epsilon(delta), one.upper, delta=1e-9)
        self.assertGreaterEqual(r.get_epsilon(delta), exact)

    def test_state_dict_round_trip(self):
        a = dpacct.Accountant("pld", delta=1e-5)
        for sigma in (1.0, 1.0, 1.5, 1.5, 1.5):
            a.step(noise_multiplier=sigma, sample_rate=0.01)
        state = a.state_dict()
        b = dpacct.Accountant("pld")
        b.load_state_dict(state)
        self.assertEqual(b.history, a.history)
        self.assertEqual(len(b), len(a))
        self.assertEqual(b.state_dict(), state)
        self.assertEqual(b.get_bounds(), a.get_bounds())
        b.step(noise_multiplier=1.5, sample_rate=0.01)
        self.assertEqual(b.history[-1], (1.5, 0.01, 4))
        self.assertEqual(a.history[-1], (1.5, 0.01, 3))

    def test_loads_an_opacus_state_dict(self):
        a = dpacct.Accountant("rdp")
        a.load_state_dict({"history": [(1.0, 0.01, 50), (1.0, 0.01, 50)],
                           "mechanism": "prv"})
        self.assertEqual(a.history, [(1.0, 0.01, 100)])
        self.assertEqual(a.get_epsilon(1e-5),
                         dpacct.epsilon(1.0, 0.01, 100, 1e-5, "rdp").upper)

    def test_bad_state_dict_changes_nothing(self):
        a = dpacct.Accountant()
        a.step(noise_multiplier=1.0, sample_rate=0.01)
        for bad in (None, {}, {"history": [(1.0, 2.0, 3)]},
                    {"history": [(1.0, 0.01)]},
                    {"history": [(1.0, 0.01, 0)]},
                    {"history": [], "mechanism": "moments"},
                    {"history": [], "neighbouring": "replace-one"}):
            with self.subTest(state=bad):
                with self.assertRaises((ValueError, TypeError)):
                    a.load_state_dict(bad)
                self.assertEqual(a.history, [(1.0, 0.01, 1)])

    def test_empty_and_default_delta(self):
        a = dpacct.Accountant(delta=1e-5)
        self.assertEqual(a.get_epsilon(), 0.0)
        self.assertEqual(len(a), 0)
        with self.assertRaises(TypeError):
            dpacct.Accountant().get_epsilon()

    def test_opacus_hook(self):
        class Optimizer:
            noise_multiplier = 1.2
            accumulated_iterations = 2

        a = dpacct.Accountant()
        hook = a.get_optimizer_hook_fn(sample_rate=0.005)
        hook(Optimizer())
        hook(Optimizer())
        self.assertEqual(a.history, [(1.2, 0.01, 2)])


def gaussian_delta(mu, eps):
    """delta(eps) of mu-GDP (Dong, Roth, Su 2019)."""
    phi = lambda x: 0.5 * math.erfc(-x / math.sqrt(2))  # noqa: E731
    return phi(-eps / mu + mu / 2) - math.exp(eps) * phi(-eps / mu - mu / 2)


def gaussian_epsilon(mu, delta):
    """Its inverse, by bisection (delta decreases in eps)."""
    lo, hi = 0.0, 100.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if gaussian_delta(mu, mid) > delta:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


class CalibrationTest(unittest.TestCase):

    def test_get_noise_multiplier_safe_and_minimal(self):
        cases = [(3.0, 1e-5, 256 / 60000, 10, "pld"),
                 (1.0, 1e-5, 0.01, 2, "rdp"),
                 (8.0, 1e-6, 0.02, 3, "prv"),
                 (40.0, 1e-5, 0.05, 1, "rdp")]
        for target, delta, q, epochs, accountant in cases:
            with self.subTest(target=target, accountant=accountant):
                sigma = dpacct.get_noise_multiplier(
                    target_epsilon=target, target_delta=delta,
                    sample_rate=q, epochs=epochs, accountant=accountant,
                    epsilon_tolerance=0.01)
                eps = dpacct.epsilon(noise_multiplier=sigma, sample_rate=q,
                                     epochs=epochs, delta=delta,
                                     accountant=accountant).upper
                self.assertLessEqual(eps, target)
                self.assertGreaterEqual(eps, target - 0.01)

    def test_noise_below_is_above_target(self):
        c = dpacct.noise_for_epsilon(2.0, 1e-5, sample_rate=0.01, steps=500,
                                     accountant="rdp", rel_tol=1e-3)
        self.assertLessEqual(c.epsilon_upper, 2.0)
        self.assertLessEqual(c.noise, (1 + 1e-3) * c.noise_below)
        above = dpacct.epsilon(c.noise_below, 0.01, 500, 1e-5, "rdp").upper
        self.assertGreater(above, 2.0)
        self.assertEqual(float(c), c.noise)

    def test_epochs_round_up(self):
        """3 epochs at q = 0.001 are 3000 steps (opacus: 2999)."""
        c = dpacct.noise_for_epsilon(3.0, 1e-5, sample_rate=0.001, epochs=3,
                                     accountant="rdp")
        self.assertEqual(c.steps, 3000)


class ThreadsTest(unittest.TestCase):

    def test_four_threads_give_the_same_answers(self):
        runs = [(1.0 + 0.1 * i, 0.01, 200 + 50 * i) for i in range(6)]

        def work():
            out = []
            for sigma, q, steps in runs:
                b = dpacct.epsilon(sigma, q, steps, 1e-5)
                r = dpacct.epsilon(sigma, q, steps, 1e-5, "rdp")
                a = dpacct.Accountant("rdp")
                for _ in range(10):
                    a.step(noise_multiplier=sigma, sample_rate=q)
                out.append((b.lower, b.upper, r.upper, a.get_epsilon(1e-5)))
            return out

        expected = work()
        results = [None] * 4

        def run(i):
            results[i] = work()

        threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for r in results:
            self.assertEqual(r, expected)

    def test_gil_is_released(self):
        """While one thread calibrates (one long library call), the main
        thread keeps running Python: it sees the worker alive through most
        of the call.  Were the GIL held, it could run only after the call
        returned."""
        done, started = [], threading.Event()

        def calibrate():
            started.set()
            t = time.perf_counter()
            # About 0.3 s (q 0.001 needs fine PLD grids): long enough to
            # see, now that calibration needs fewer evaluations.
            dpacct.noise_for_epsilon(3.0, 1e-5, sample_rate=0.001,
                                     steps=10000)
            done.append(time.perf_counter() - t)

        worker = threading.Thread(target=calibrate)
        worker.start()
        started.wait()
        first = last = time.perf_counter()
        while worker.is_alive():
            last = time.perf_counter()
        worker.join()
        self.assertGreater(done[0], 0.05)
        self.assertGreater(last - first, 0.5 * done[0])


if __name__ == "__main__":
    unittest.main()
