"""dpacct.Accountant: an accountant with the interface of opacus's.

It records what was run (history) and accounts it, when asked, with the
library: all the history as one event sequence, each entry a run of equal
steps composed by count.  So get_epsilon after 10,000 equal steps costs
one library call, not 10,000.
"""

from . import _core
from ._api import Bound, _choice, _count, _real, _settings, _NEIGHBOURING, \
    _fail

__all__ = ["Accountant"]


class Accountant:
    """Tracks the privacy of a DP-SGD run as it trains.

    A drop-in for opacus's accountants (RDPAccountant, PRVAccountant)::

        accountant = dpacct.Accountant()            # PLD, add/remove
        for batch in loader:
            ...
            accountant.step(noise_multiplier=sigma, sample_rate=q)
        eps = accountant.get_epsilon(delta=1e-5)    # the upper bound
        lower, upper = accountant.get_bounds(delta=1e-5)

    accountant: 'pld' (default), 'rdp' (upper bound only); opacus's 'prv'
    means 'pld'.  delta: the default delta of get_epsilon and get_bounds.
    neighbouring: 'add-remove' (default) or 'replace-one'.  certified,
    orders, pld_accuracy, pld_interval, max_points: as in dpacct.epsilon.

    ``history`` is a list of (noise_multiplier, sample_rate, steps), equal
    consecutive steps merged; ``len(accountant)`` is the number of steps.
    Steps with different noise or sampling rate compose exactly (the
    library's event sequences).  ``state_dict()`` and
    ``load_state_dict()`` checkpoint the history.  An instance is not
    meant to be stepped from several threads at once; get_epsilon releases
    the GIL, so several accountants can account in parallel.
    """

    def __init__(self, accountant="pld", delta=None,
                 neighbouring="add-remove", *, certified=False, orders=None,
                 pld_accuracy=None, pld_interval=None, max_points=None):
        self._settings = _settings(accountant, neighbouring, certified,
                                   orders, pld_interval, pld_accuracy,
                                   max_points, None, False)
        if self._settings[0].startswith("lap2"):
            raise ValueError("Accountant accounts Gaussian noise: use 'pld' "
                             "or 'rdp' (dpacct.epsilon takes lap2 runs)")
        self.delta = None if delta is None else _real("delta", delta)
        self.neighbouring = neighbouring
        self.history = []
        self._cache = None

    @property
    def accountant(self):
        """The accountant's name: 'pld' or 'rdp'."""
        return self._settings[0]

    def mechanism(self):
        """The accountant's name (opacus's accountants have mechanism())."""
        return self._settings[0]

    def step(self, *, noise_multiplier, sample_rate):
        """Records one step of DP-SGD with Gaussian noise of multiplier
        ``noise_multiplier`` (std / clipping bound) and Poisson sampling at
        ``sample_rate``.  A step equal to the previous one only increments
        its count.  Raises TypeError or ValueError (with the library's
        message) for a step it cannot account."""
        history = self.history
        if history:
            sigma, q, steps = history[-1]
            if sigma == noise_multiplier and q == sample_rate:
                history[-1] = (sigma, q, steps + 1)
                return
        sigma = noise_multiplier if type(noise_multiplier) is float \
            else _real("noise_multiplier", noise_multiplier)
        q = sample_rate if type(sample_rate) is float \
            else _real("sample_rate", sample_rate)
        _core.check_step(sigma, q)
        history.append((sigma, q, 1))

    def __len__(self):
        """The number of steps recorded."""
        return sum(entry[2] for entry in self.history)

    def _delta(self, delta):
        if delta is None:
            if self.delta is None:
                raise TypeError("missing delta (give it here or to "
                                "Accountant(delta=...))")
            return self.delta
        return _real("delta", delta)

    def get_bound(self, delta=None):
        """The Bound on epsilon at ``delta`` of every step recorded (an
        empty history has epsilon 0)."""
        d = self._delta(delta)
        if not self.history:
            return Bound(0.0, 0.0, self.accountant)
        key = (tuple(self.history), d)
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        try:
            lower, upper, certified, order, edge = _core.bound(
                0, d, self._settings, 0, self.history, 1.0, 1)
        except (ValueError, ArithmeticError) as error:
            raise _fail(error, f"the {self.accountant} epsilon of "
                        f"{len(self)} steps in {len(self.history)} runs "
                        f"at delta {d}") from None
        bound = Bound(lower, upper, self.accountant, order, certified, edge)
        self._cache = (key, bound)
        return bound

    def get_epsilon(self, delta=None, *, alphas=None, eps_error=None,
                    delta_error=None):
        """The epsilon upper bound at ``delta`` (opacus's get_epsilon;
        opacus's ``alphas``, ``eps_error`` and ``delta_error`` are accepted
        and ignored: dpacct's orders and accuracy are set in the
        constructor)."""
        return self.get_bound(delta).upper

    def get_bounds(self, delta=None):
        """(lower, upper) bounds on epsilon at ``delta``; the lower bound
        is NaN for the RDP accountant."""
        bound = self.get_bound(delta)
        return bound.lower, bound.upper

    def get_privacy_spent(self, *, delta=None, alphas=None):
        """(epsilon upper bound, optimal RDP order), as opacus's
        RDPAccountant returns them (the order is NaN for PLD)."""
        bound = self.get_bound(delta)
        return bound.upper, bound.optimal_order

    def get_optimizer_hook_fn(self, sample_rate):
        """The hook opacus's DPOptimizer calls after each step."""
        def hook_fn(optim):
            self.step(noise_multiplier=optim.noise_multiplier,
                      sample_rate=sample_rate * optim.accumulated_iterations)
        return hook_fn

    def state_dict(self, destination=None):
        """The accountant's state for a checkpoint: its ``history``, its
        ``mechanism`` (the accountant's name, as opacus stores it),
        ``delta`` and ``neighbouring``.  Fills DESTINATION if given."""
        if destination is None:
            destination = {}
        destination["history"] = list(self.history)
        destination["mechanism"] = self.accountant
        destination["delta"] = self.delta
        destination["neighbouring"] = self.neighbouring
        return destination

    def load_state_dict(self, state_dict):
        """Restores the history of a state_dict() (also one of opacus's
        accountants: the history says what was run, whichever accountant
        recorded it).  Each entry is checked; consecutive equal entries are
        merged.  Raises ValueError for a state it cannot load, leaving
        the accountant unchanged."""
        if not hasattr(state_dict, "keys") or "history" not in state_dict:
            raise ValueError("state_dict must be a mapping with a 'history' "
                             "(and 'mechanism') key")
        mechanism = state_dict.get("mechanism", self.accountant)
        if mechanism not in ("pld", "rdp", "prv", "gdp"):
            raise ValueError(f"state_dict of mechanism {mechanism!r} cannot "
                             f"be loaded (pld, rdp, or opacus's prv, gdp)")
        neighbouring = state_dict.get("neighbouring", self.neighbouring)
        if neighbouring is not None:
            _choice("neighbouring", neighbouring, _NEIGHBOURING)
            if neighbouring != self.neighbouring:
                raise ValueError(f"state_dict is for {neighbouring} "
                                 f"neighbours, this accountant for "
                                 f"{self.neighbouring}")
        history = []
        for entry in state_dict["history"]:
            try:
                sigma, q, steps = entry
            except (TypeError, ValueError):
                raise ValueError(f"history entry {entry!r} is not "
                                 f"(noise_multiplier, sample_rate, steps)") \
                    from None
            sigma = _real("noise_multiplier", sigma)
            q = _real("sample_rate", q)
            steps = _count("steps", steps)
            _core.check_step(sigma, q)
            if not 1 <= steps <= _core.MAX_COUNT:
                raise ValueError(f"history entry {entry!r}: steps must be "
                                 f"in [1, 10^12]")
            if history and history[-1][:2] == (sigma, q):
                history[-1] = (sigma, q, history[-1][2] + steps)
            else:
                history.append((sigma, q, steps))
        delta = state_dict.get("delta", self.delta)
        self.delta = None if delta is None else _real("delta", delta)
        self.history = history
        self._cache = None

    def __repr__(self):
        return (f"Accountant({self.accountant!r}, {len(self)} steps in "
                f"{len(self.history)} runs)")


Accountant.__module__ = "dpacct"
