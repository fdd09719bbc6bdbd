#!/usr/bin/env python3
"""How much the Python module costs over the library (make bench-python).

1. dpacct.epsilon, PLD, sigma 1, q 0.01, 10^4 steps, delta 1e-5, against
   the same library calls made directly through ctypes (interleaved; the
   fastest of each), and the same for a call that costs the library almost
   nothing (RDP, q 1, 1 step), which shows the wrapper's own time.
2. Accountant.step: a repeated step (merged into the history) and a step
   that changes the noise every time (a new history entry, checked).
3. Accountant.get_epsilon after 10^4 equal steps against one
   dpacct.epsilon call for the same run (composition by count).

DPACCT_LIBRARY names libdpacct.so; PYTHONPATH must reach the module."""

import os
import sys
import time
import timeit

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "tests"))
import clib  # noqa: E402
import dpacct  # noqa: E402


def fastest(function, repeat):
    """The least CPU time of REPEAT calls (CPU time, not wall time: the
    machines this runs on are often shared)."""
    best = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        function()
        best = min(best, time.process_time() - t)
    return best


def interleaved(a, b, repeat):
    """The fastest time of A and of B, measured in turns."""
    best_a = best_b = float("inf")
    for _ in range(repeat):
        best_a = min(best_a, fastest(a, 1))
        best_b = min(best_b, fastest(b, 1))
    return best_a, best_b


def main():
    lib = clib.load()
    if lib is None:
        sys.exit("bench.py: set DPACCT_LIBRARY to libdpacct.so")
    run = (1.0, 0.01, 10000, 1e-5)
    assert dpacct.epsilon(*run).upper == clib.dpsgd_epsilon(lib, "pld", *run)[1]
    py, c = interleaved(lambda: dpacct.epsilon(*run),
                        lambda: clib.dpsgd_epsilon(lib, "pld", *run), 30)
    print(f"epsilon, PLD, sigma 1, q 0.01, 1e4 steps: Python {py * 1e3:.3f} "
          f"ms, C (ctypes) {c * 1e3:.3f} ms, overhead "
          f"{100 * (py - c) / c:+.2f} %")
    tiny = (2.0, 1.0, 1, 1e-5)
    def tiny_py():
        for _ in range(100):
            dpacct.epsilon(*tiny, accountant="rdp")

    def tiny_c():
        for _ in range(100):
            clib.dpsgd_epsilon(lib, "rdp", *tiny)

    py, c = interleaved(tiny_py, tiny_c, 50)
    py, c = py / 100, c / 100
    print(f"epsilon, RDP, q 1, 1 step (the wrapper's own cost): Python "
          f"{py * 1e6:.1f} us, C (ctypes) {c * 1e6:.1f} us")

    a = dpacct.Accountant()
    n = 1000000
    t = min(timeit.repeat(
        lambda: a.step(noise_multiplier=1.0, sample_rate=0.01), number=n,
        repeat=3, timer=time.process_time)) / n
    print(f"Accountant.step, a repeated step: {t * 1e6:.3f} us")
    sigmas = [1.0 + 1e-9 * i for i in range(100000)]
    b = dpacct.Accountant()
    t = time.process_time()
    for s in sigmas:
        b.step(noise_multiplier=s, sample_rate=0.01)
    t = (time.process_time() - t) / len(sigmas)
    print(f"Accountant.step, a new noise each step: {t * 1e6:.3f} us")

    acc = dpacct.Accountant(delta=1e-5)
    for _ in range(10000):
        acc.step(noise_multiplier=1.0, sample_rate=0.01)

    def get_epsilon():
        acc._cache = None  # measure the accounting, not the cache
        return acc.get_epsilon()

    g, e = interleaved(get_epsilon, lambda: dpacct.epsilon(*run), 30)
    print(f"get_epsilon after 1e4 equal steps: {g * 1e3:.3f} ms; one "
          f"dpacct.epsilon call: {e * 1e3:.3f} ms (ratio {g / e:.3f})")


if __name__ == "__main__":
    main()
