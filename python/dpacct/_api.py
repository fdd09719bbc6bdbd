"""The functions of dpacct: bounds, calibration and planning.

Each function checks the types of its arguments, hands plain numbers to the
C half (dpacct._core), which calls libdpacct exactly as the ``dpacct``
command does, and wraps what comes back.  The library checks the values.
"""

import math

from . import _core

__all__ = ["Bound", "Calibration", "Plan", "epsilon", "delta",
           "noise_for_epsilon", "get_noise_multiplier", "cumulative_noise"]

ACCOUNTANTS = ("pld", "rdp", "lap2", "lap2-paper")
# opacus's names for its accountants, and what stands for them here.
OPACUS_ACCOUNTANTS = {"prv": "pld"}
_NEIGHBOURING = {"add-remove": 0, "replace-one": 1}
_SAMPLING = {"poisson": 0, "without-replacement": 1, "none": 2}
_QUERY_EPSILON, _QUERY_DELTA = 0, 1


# ------------------------------------------------------------ arguments

def _real(name, value):
    """VALUE as a float; TypeError naming NAME unless it is a real number.
    Strings are refused even though float() would parse them."""
    if isinstance(value, (str, bytes, bytearray)) or value is None:
        raise TypeError(f"{name} must be a real number, not "
                        f"{type(value).__name__}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, not "
                        f"{type(value).__name__}") from None
    except OverflowError:
        raise ValueError(f"{name} is too large for a double") from None


def _count(name, value):
    """VALUE as an int (by __index__, so 1e4 is refused); the library
    checks its range."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, not bool")
    try:
        return int(value.__index__())
    except (AttributeError, TypeError):
        raise TypeError(f"{name} must be an integer, not "
                        f"{type(value).__name__}") from None


def _flag(name, value):
    """VALUE as a bool; only bools (and the ints 0 and 1) are taken."""
    if isinstance(value, bool) or (type(value) is int and value in (0, 1)):
        return bool(value)
    raise TypeError(f"{name} must be a bool, not {type(value).__name__}")


def _choice(name, value, allowed):
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    if value not in allowed:
        raise ValueError(f"{name} must be one of "
                         f"{', '.join(repr(a) for a in allowed)}, "
                         f"not {value!r}")
    return allowed[value] if isinstance(allowed, dict) else value


def _accountant_name(value):
    if isinstance(value, str) and value in OPACUS_ACCOUNTANTS:
        return OPACUS_ACCOUNTANTS[value]
    if value == "gdp":
        raise ValueError("accountant 'gdp' (opacus's Gaussian DP) is a "
                         "central-limit approximation, not a bound; use "
                         "'pld' (or 'rdp')")
    return _choice("accountant", value, ACCOUNTANTS)


def _settings(accountant, neighbouring, certified, orders, pld_interval,
              pld_accuracy, max_points, max_order, lap2_lower):
    """The tuple dpacct._core reads the accountant's settings from; None
    keeps the library's default."""
    if orders is not None:
        if isinstance(orders, (str, bytes)):
            raise TypeError("orders must be a sequence of real numbers")
        try:
            orders = tuple(_real("orders", a) for a in orders)
        except TypeError as error:
            if "orders" in str(error):
                raise
            raise TypeError("orders must be a sequence of real numbers") \
                from None
    return (_accountant_name(accountant),
            _choice("neighbouring", neighbouring, _NEIGHBOURING),
            _flag("certified", certified), orders,
            None if pld_interval is None else _real("pld_interval",
                                                    pld_interval),
            None if pld_accuracy is None else _real("pld_accuracy",
                                                    pld_accuracy),
            None if max_points is None else _count("max_points", max_points),
            None if max_order is None else _count("max_order", max_order),
            _flag("lower", lap2_lower))


def _run(sample_rate, steps, epochs, dataset_size, batch_size):
    """(q, steps) from sample_rate and steps, sample_rate and epochs, or
    dataset_size, batch_size and epochs (steps = ceil(epochs N / B), as
    the library rounds them)."""
    if dataset_size is not None or batch_size is not None:
        if dataset_size is None or batch_size is None or epochs is None:
            raise TypeError("give dataset_size, batch_size and epochs "
                            "together")
        if sample_rate is not None or steps is not None:
            raise TypeError("give either sample_rate with steps (or "
                            "epochs), or dataset_size, batch_size and epochs")
        return _core.dpsgd_steps(_count("dataset_size", dataset_size),
                                 _count("batch_size", batch_size),
                                 _real("epochs", epochs))
    if sample_rate is None:
        raise TypeError("missing sample_rate (or dataset_size and "
                        "batch_size)")
    q = _real("sample_rate", sample_rate)
    if (steps is None) == (epochs is None):
        raise TypeError("give exactly one of steps and epochs")
    if steps is not None:
        return q, _count("steps", steps)
    return q, _steps_for_epochs(_real("epochs", epochs), q)


def _steps_for_epochs(epochs, q):
    """ceil(epochs / q), rounded up as the library rounds epochs * N / B:
    a quotient within 1e-15 above an integer is that integer, so that 3
    epochs at q = 0.001 are 3000 steps (opacus truncates to 2999)."""
    if not (epochs > 0 and math.isfinite(epochs)):
        raise ValueError(f"epochs must be positive and finite, not {epochs}")
    if not (0 < q <= 1):
        raise ValueError(f"sample_rate must be in (0, 1] with epochs, "
                         f"not {q}")
    exact = epochs / q
    return max(1, math.ceil(exact - exact * 1e-15))


def _fail(error, what):
    """ERROR again, its message prefixed with WHAT was being computed."""
    return type(error)(f"cannot compute {what}: {error}")


# ------------------------------------------------------------ results

class Bound:
    """A bound on epsilon (at a delta) or on delta (at an epsilon).

    ``lower`` and ``upper`` are bounds in the named direction: the truth
    lies in [lower, upper].  ``lower`` is NaN where the accountant gives
    no lower bound (RDP).  ``float(bound)`` is ``upper``, the safe number.
    ``accountant`` names the accountant; ``optimal_order`` is the RDP order
    (or Lap2 moment order) attaining ``upper``, NaN for PLD;
    ``certified`` says that ``upper`` was proved with directed rounding;
    ``order_at_edge`` warns that the optimal order is the grid's first or
    last (widen ``orders``).
    """

    __slots__ = ("lower", "upper", "accountant", "optimal_order",
                 "certified", "order_at_edge", "quantity")

    def __init__(self, lower, upper, accountant, optimal_order=math.nan,
                 certified=False, order_at_edge=False, quantity="epsilon"):
        self.lower = lower
        self.upper = upper
        self.accountant = accountant
        self.optimal_order = optimal_order
        self.certified = certified
        self.order_at_edge = order_at_edge
        self.quantity = quantity

    def __float__(self):
        return self.upper

    def __iter__(self):
        """(lower, upper), so that ``lo, hi = dpacct.epsilon(...)``."""
        return iter((self.lower, self.upper))

    def __repr__(self):
        extra = "" if math.isnan(self.optimal_order) \
            else f", optimal_order={self.optimal_order!r}"
        cert = ", certified=True" if self.certified else ""
        return (f"Bound({self.quantity} in [{self.lower!r}, {self.upper!r}],"
                f" accountant={self.accountant!r}{extra}{cert})")


class Calibration:
    """The result of a calibration: ``noise`` (the noise multiplier sigma,
    or the Laplace scale b for lap2 accountants) whose ``epsilon_upper`` is
    at most the target; ``noise_below``, a smaller noise whose epsilon
    upper bound is above the target (so the answer is minimal to within
    noise / noise_below); ``steps`` and ``sample_rate`` of the run;
    ``evaluations`` of the accountant.  ``float(c)`` is ``noise``."""

    __slots__ = ("noise", "epsilon_upper", "noise_below", "evaluations",
                 "accountant", "steps", "sample_rate")

    def __init__(self, noise, epsilon_upper, noise_below, evaluations,
                 accountant, steps, sample_rate):
        self.noise = noise
        self.epsilon_upper = epsilon_upper
        self.noise_below = noise_below
        self.evaluations = evaluations
        self.accountant = accountant
        self.steps = steps
        self.sample_rate = sample_rate

    @property
    def noise_multiplier(self):
        """The noise (sigma for Gaussian noise)."""
        return self.noise

    def __float__(self):
        return self.noise

    def __repr__(self):
        return (f"Calibration(noise={self.noise!r}, epsilon_upper="
                f"{self.epsilon_upper!r}, accountant={self.accountant!r}, "
                f"steps={self.steps}, sample_rate={self.sample_rate!r})")


PLAN_COLUMNS = ("batch_size", "sampling_rate", "steps", "noise_multiplier",
                "epsilon_upper", "cumulative_noise", "per_step_noise",
                "per_step_noise_norm", "effective_noise", "total_noise",
                "gdp_mu", "gdp_cumulative_noise", "on_plateau")


class Plan:
    """The cumulative-noise table: ``rows`` is a list of dicts, one per
    batch size (keys in ``columns``, the same numbers as the TSV of
    ``dpacct cumulative-noise``), ``recommendation`` a dict with the
    recommended ``batch_size``, its ``reason`` ('plateau' or 'min-steps'),
    the plateau's floor and the per-step heuristics' choices.  Iterating
    over a Plan gives its rows; ``len(plan)`` is their number."""

    __slots__ = ("rows", "recommendation", "columns")

    def __init__(self, rows, recommendation):
        self.rows = rows
        self.recommendation = recommendation
        self.columns = PLAN_COLUMNS

    @property
    def recommended_batch_size(self):
        """The batch size the plateau rule recommends."""
        return self.recommendation["batch_size"]

    def __iter__(self):
        return iter(self.rows)

    def __len__(self):
        return len(self.rows)

    def __repr__(self):
        return (f"Plan({len(self.rows)} rows, recommended batch size "
                f"{self.recommended_batch_size})")


# ------------------------------------------------------------ functions

def _bound(query, value, noise, name, sample_rate, steps, epochs,
           dataset_size, batch_size, accountant, neighbouring, sampling,
           certified, orders, pld_accuracy, pld_interval, max_points,
           max_order, clip, dimension, lower):
    q, t = _run(sample_rate, steps, epochs, dataset_size, batch_size)
    settings = _settings(accountant, neighbouring, certified, orders,
                         pld_interval, pld_accuracy, max_points, max_order,
                         lower)
    lap2 = settings[0].startswith("lap2")
    what = (f"the {settings[0]} {('epsilon', 'delta')[query]} of {t} steps "
            f"({name} {noise}, sample rate {q})")
    try:
        lo, up, cert, order, edge = _core.bound(
            query, value, settings, _choice("sampling", sampling, _SAMPLING),
            ((noise, q, t),), _real("clip", clip) if lap2 else 1.0,
            _count("dimension", dimension) if lap2 else 1)
    except (ValueError, ArithmeticError) as error:
        raise _fail(error, what) from None
    return Bound(lo, up, settings[0], order, cert, edge,
                 ("epsilon", "delta")[query])


def _noise(noise_multiplier, laplace_scale):
    if laplace_scale is not None:
        if noise_multiplier is not None:
            raise TypeError("give noise_multiplier or laplace_scale, not both")
        return _real("laplace_scale", laplace_scale), "laplace scale"
    if noise_multiplier is None:
        raise TypeError("missing noise_multiplier (or laplace_scale)")
    return _real("noise_multiplier", noise_multiplier), "noise multiplier"


def _check_lap2(accountant, laplace_scale, clip, dimension):
    lap2 = _accountant_name(accountant).startswith("lap2")
    if laplace_scale is not None and not lap2:
        raise ValueError("laplace_scale needs accountant='lap2' (or "
                         "'lap2-paper')")
    if lap2 and laplace_scale is None:
        raise TypeError(f"accountant {accountant!r} accounts Laplace noise: "
                        f"give laplace_scale (not noise_multiplier)")
    if lap2 and dimension is None:
        raise TypeError(f"accountant {accountant!r} needs dimension (the "
                        f"number of coordinates the noise is added to)")


def epsilon(noise_multiplier=None, sample_rate=None, steps=None,
            delta=1e-5, accountant="pld", *, epochs=None, dataset_size=None,
            batch_size=None, neighbouring="add-remove", sampling="poisson",
            certified=False, orders=None, pld_accuracy=None,
            pld_interval=None, max_points=None, laplace_scale=None, clip=1.0,
            dimension=None, max_order=None, lower=True):
    """Bound the epsilon of a DP-SGD run at DELTA.

    The run is ``steps`` steps at ``sample_rate`` q (Poisson sampling by
    default), or ``epochs`` passes at ``sample_rate`` (steps =
    ceil(epochs / q)), or ``dataset_size`` N, ``batch_size`` B and
    ``epochs`` (steps = ceil(epochs N / B)).  Gaussian noise with
    ``noise_multiplier`` sigma (noise std / clipping bound C); or, with
    ``accountant='lap2'``, Laplace noise of scale ``laplace_scale`` on each
    of ``dimension`` coordinates of sums clipped to L2 norm ``clip``.

    accountant: 'pld' (default: lower and upper bound), 'rdp' (upper only),
    'lap2', 'lap2-paper'; opacus's 'prv' means 'pld'.
    neighbouring: 'add-remove' (default) or 'replace-one'.
    sampling: 'poisson' (default), 'without-replacement' (rdp), 'none'.
    certified: prove the upper bound with directed rounding (MPFR).
    orders: RDP orders (default: the library's 139-order grid).
    pld_accuracy, pld_interval, max_points: the PLD grid (library defaults
    1e-3, chosen, 2**22).  max_order: lap2's largest moment order.
    lower: lap2 also computes its lower bound (seconds).

    Returns a Bound: ``.lower``, ``.upper``, ``.accountant``,
    ``.optimal_order``; ``float(bound)`` is the upper bound.  Raises
    TypeError for arguments of the wrong type, ValueError for values the
    library refuses (with its message), ArithmeticError when the
    computation fails numerically.

    Example: ``dpacct.epsilon(noise_multiplier=1.1, sample_rate=0.004,
    steps=10000, delta=1e-5)``.
    """
    noise, name = _noise(noise_multiplier, laplace_scale)
    _check_lap2(accountant, laplace_scale, clip, dimension)
    return _bound(_QUERY_EPSILON, _real("delta", delta), noise, name,
                  sample_rate, steps, epochs, dataset_size, batch_size,
                  accountant, neighbouring, sampling, certified, orders,
                  pld_accuracy, pld_interval, max_points, max_order, clip,
                  dimension, lower)


def delta(noise_multiplier=None, sample_rate=None, steps=None, epsilon=None,
          accountant="pld", *, epochs=None, dataset_size=None,
          batch_size=None, neighbouring="add-remove", sampling="poisson",
          certified=False, orders=None, pld_accuracy=None, pld_interval=None,
          max_points=None, laplace_scale=None, clip=1.0, dimension=None,
          max_order=None, lower=True):
    """Bound the delta of a DP-SGD run at EPSILON.

    Takes the run and the settings of :func:`epsilon` and returns a Bound
    on delta (``float(bound)`` is its upper bound).
    """
    noise, name = _noise(noise_multiplier, laplace_scale)
    _check_lap2(accountant, laplace_scale, clip, dimension)
    if epsilon is None:
        raise TypeError("missing epsilon (the delta is bounded at it)")
    return _bound(_QUERY_DELTA, _real("epsilon", epsilon), noise, name,
                  sample_rate, steps, epochs, dataset_size, batch_size,
                  accountant, neighbouring, sampling, certified, orders,
                  pld_accuracy, pld_interval, max_points, max_order, clip,
                  dimension, lower)


def noise_for_epsilon(target_epsilon, target_delta=1e-5, sample_rate=None,
                      steps=None, epochs=None, accountant="pld", *,
                      dataset_size=None, batch_size=None,
                      neighbouring="add-remove", sampling="poisson",
                      certified=False, orders=None, pld_accuracy=None,
                      pld_interval=None, max_points=None, rel_tol=None,
                      max_iterations=None, clip=1.0, dimension=None,
                      max_order=None):
    """The smallest noise whose epsilon upper bound is at most the target.

    The run as in :func:`epsilon` (``steps`` or ``epochs`` at
    ``sample_rate``, or ``dataset_size``, ``batch_size`` and ``epochs``).
    With a Gaussian accountant the noise is the noise multiplier sigma;
    with ``accountant='lap2'`` (and ``dimension``, ``clip``) it is the
    Laplace scale b.  ``rel_tol`` (default 1e-3): the answer is at most
    (1 + rel_tol) times the smallest such noise; ``max_iterations``
    (default 200) bounds Brent's iterations (ArithmeticError beyond).

    Returns a Calibration (``float(c)`` is the noise); its
    ``epsilon_upper`` has been computed and is at most target_epsilon.
    """
    q, t = _run(sample_rate, steps, epochs, dataset_size, batch_size)
    settings = _settings(accountant, neighbouring, certified, orders,
                         pld_interval, pld_accuracy, max_points, max_order,
                         False)
    lap2 = settings[0].startswith("lap2")
    if lap2 and dimension is None:
        raise TypeError(f"accountant {accountant!r} needs dimension")
    target = _real("target_epsilon", target_epsilon)
    what = (f"the {settings[0]} noise for epsilon {target} over {t} steps at "
            f"sample rate {q}")
    try:
        noise, eps, below, evaluations = _core.calibrate(
            settings, _choice("sampling", sampling, _SAMPLING), q, t, target,
            _real("target_delta", target_delta),
            None if rel_tol is None else _real("rel_tol", rel_tol),
            None if max_iterations is None
            else _count("max_iterations", max_iterations),
            _real("clip", clip) if lap2 else 1.0,
            _count("dimension", dimension) if lap2 else 1)
    except (ValueError, ArithmeticError) as error:
        raise _fail(error, what) from None
    return Calibration(noise, eps, below, evaluations, settings[0], t, q)


def get_noise_multiplier(*, target_epsilon, target_delta, sample_rate,
                         epochs=None, steps=None, accountant="pld",
                         epsilon_tolerance=0.01, alphas=None, eps_error=None,
                         delta_error=None, **kwargs):
    """The noise multiplier for a target epsilon, with opacus's names.

    A drop-in for ``opacus.accountants.utils.get_noise_multiplier``: the
    returned sigma's epsilon upper bound is at most ``target_epsilon`` and
    at least ``target_epsilon - epsilon_tolerance`` (unless sigma is the
    smallest the search allows), so it is minimal within the tolerance.
    Steps from epochs are ceil(epochs / sample_rate) (opacus truncates).
    accountant: 'pld' (default; opacus's 'prv' means the same) or 'rdp'.
    opacus's ``alphas``, ``eps_error`` and ``delta_error`` are accepted and
    ignored; other keywords go to :func:`noise_for_epsilon`.  Returns a
    float.
    """
    tolerance = _real("epsilon_tolerance", epsilon_tolerance)
    if not (tolerance > 0 and math.isfinite(tolerance)):
        raise ValueError(f"epsilon_tolerance must be positive and finite, "
                         f"not {tolerance}")
    target = _real("target_epsilon", target_epsilon)
    # The library's tolerance is on sigma; tighten it until the epsilon
    # reached is within the tolerance below the target.
    rel_tol = 1e-3
    while True:
        c = noise_for_epsilon(target, target_delta, sample_rate, steps=steps,
                              epochs=epochs, accountant=accountant,
                              rel_tol=rel_tol, **kwargs)
        if c.epsilon_upper >= target - tolerance or rel_tol <= 1e-9:
            return c.noise
        rel_tol /= 30


def cumulative_noise(epsilon, dataset_size, epochs, batch_sizes=None,
                     delta=1e-5, accountant="pld", *, clip=1.0,
                     dimension=None, plateau_tolerance=None, min_steps=None,
                     neighbouring="add-remove", sampling="poisson",
                     certified=False, orders=None, pld_accuracy=None,
                     pld_interval=None, max_points=None, rel_tol=None):
    """Which batch size?  The cumulative-noise table for one epsilon.

    For each batch size B (``batch_sizes``: a list, or a pair (first,
    last) for the grid first, 2 first, ..., last; default (64,
    dataset_size)), sigma is calibrated to (epsilon, delta) over
    ``epochs`` passes of ``dataset_size`` examples, with the cumulative
    noise sigma*sqrt(T) (Rehn et al. 2025) beside the per-step heuristics
    sigma*C/B and sigma/q, TAN and the GDP cross-check; then the rule picks
    the smallest B within (1 + plateau_tolerance) of the minimum cumulative
    noise that has at least min_steps steps (defaults 0.1 and 20).

    Returns a Plan: ``.rows`` (a list of dicts, the same numbers as the TSV
    of ``dpacct cumulative-noise``) and ``.recommendation``.
    """
    n = _count("dataset_size", dataset_size)
    if batch_sizes is None:
        batch_sizes = (1 if n < 64 else 64, n)
        grid = True
    else:
        grid = (isinstance(batch_sizes, tuple) and len(batch_sizes) == 2)
    if isinstance(batch_sizes, (str, bytes)):
        raise TypeError("batch_sizes must be a list of integers or a pair "
                        "(first, last)")
    try:
        sizes = [_count("batch_sizes", b) for b in batch_sizes]
    except TypeError as error:
        if "batch_sizes" in str(error):
            raise
        raise TypeError("batch_sizes must be a list of integers or a pair "
                        "(first, last)") from None
    settings = _settings(accountant, neighbouring, certified, orders,
                         pld_interval, pld_accuracy, max_points, None, False)
    eps = _real("epsilon", epsilon)
    e = _real("epochs", epochs)
    c = _real("clip", clip)
    what = (f"the {settings[0]} plan for epsilon {eps} over {e} epochs of "
            f"{n} examples")
    try:
        if grid:
            sizes = _core.batch_grid(*sizes)
        for b in sizes:
            if not 1 <= b <= n:
                raise ValueError(f"batch size {b} must be in [1, {n}] (the "
                                 f"dataset size)")
        rows, rec = _core.plan(
            settings, _choice("sampling", sampling, _SAMPLING), eps,
            _real("delta", delta), n, e, sizes,
            None if rel_tol is None else _real("rel_tol", rel_tol),
            None if plateau_tolerance is None
            else _real("plateau_tolerance", plateau_tolerance),
            None if min_steps is None else _count("min_steps", min_steps),
            0 if dimension is None else _count("dimension", dimension))
    except (ValueError, ArithmeticError) as error:
        raise _fail(error, what) from None
    table = []
    for row in rows:
        d = dict(zip(PLAN_COLUMNS, row))
        # As the command line: the rows are computed for C = 1 and the
        # per-step noise scaled by the clip.
        d["per_step_noise"] = d["per_step_noise"] * c
        d["per_step_noise_norm"] = d["per_step_noise_norm"] * c
        d["clip"] = c
        table.append(d)
    keys = ("batch_size", "row", "reason", "min_cumulative_noise",
            "min_batch_size", "plateau_bound", "per_step_choice",
            "effective_noise_choice")
    recommendation = dict(zip(keys, rec))
    for i, d in enumerate(table):
        d["recommended"] = i == recommendation["row"]
    return Plan(table, recommendation)


for _f in (epsilon, delta, noise_for_epsilon, get_noise_multiplier,
           cumulative_noise, Bound, Calibration, Plan):
    _f.__module__ = "dpacct"
del _f
