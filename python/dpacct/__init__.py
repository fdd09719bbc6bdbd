"""dpacct: differential-privacy accounting for DP-SGD, from Python.

A thin skin over the C library libdpacct (the same numbers as the
``dpacct`` command, to the last bit).  Every epsilon is a bound that says
its side: ``lower`` <= the truth <= ``upper``, and ``float()`` of a
result is the safe (upper) number.  A calibrated noise never gives more
than the target epsilon.

How private is this run?

    b = dpacct.epsilon(noise_multiplier=1.1, sample_rate=0.004,
                       steps=10000, delta=1e-5)
    b.lower, b.upper

How much noise for epsilon 3?  (opacus's names and signature)

    sigma = dpacct.get_noise_multiplier(target_epsilon=3,
        target_delta=1e-5, sample_rate=256 / 60000, epochs=10)

In a training loop, in place of an opacus accountant:

    accountant = dpacct.Accountant()
    accountant.step(noise_multiplier=sigma, sample_rate=q)  # each step
    accountant.get_epsilon(delta=1e-5)

Which batch size?  ``dpacct.cumulative_noise(epsilon, dataset_size,
epochs)``.  Laplace noise on L2-clipped gradients:
``dpacct.epsilon(laplace_scale=b, clip=C, dimension=d, accountant='lap2',
...)``.

Accountants: 'pld' (default; lower and upper bound), 'rdp' (upper), 'lap2'
and 'lap2-paper' (Laplace).  Errors: TypeError for arguments of the wrong
type, ValueError for values the library refuses (with its message),
ArithmeticError for a numerical failure.  Accounting releases the GIL.
See also the man pages dpacct(1) and libdpacct(3).
"""

# The package may be split between pythondir (these files) and pyexecdir
# (the extension) when they differ; this joins them.
__path__ = __import__("pkgutil").extend_path(__path__, __name__)

from ._api import (Bound, Calibration, Plan, epsilon, delta,  # noqa: E402
                   noise_for_epsilon, get_noise_multiplier,
                   cumulative_noise, ACCOUNTANTS)
from ._accountant import Accountant  # noqa: E402

__all__ = ["epsilon", "delta", "noise_for_epsilon", "get_noise_multiplier",
           "cumulative_noise", "Accountant", "Bound", "Calibration", "Plan",
           "ACCOUNTANTS"]
