"""libdpacct called directly with ctypes, beside the module: the tests'
second path into the library, which shares no code with dpacct._core.

DPACCT_LIBRARY names the shared library (the build tree's
.libs/libdpacct.so under `make check`)."""

import ctypes
import os


class BoundStruct(ctypes.Structure):
    """dpacct_bound, <dpacct/accountant.h>."""
    _fields_ = [("lower", ctypes.c_double), ("upper", ctypes.c_double),
                ("certified", ctypes.c_int), ("order", ctypes.c_double),
                ("order_at_edge", ctypes.c_int)]


def load():
    """The library, or None when DPACCT_LIBRARY is not set."""
    path = os.environ.get("DPACCT_LIBRARY")
    if not path:
        return None
    lib = ctypes.CDLL(path)
    p = ctypes.c_void_p
    pp = ctypes.POINTER(ctypes.c_void_p)
    lib.dpacct_accountant_type_by_name.restype = p
    lib.dpacct_accountant_type_by_name.argtypes = [ctypes.c_char_p]
    lib.dpacct_accountant_options_init.argtypes = [p]
    lib.dpacct_event_gaussian_alloc.argtypes = [ctypes.c_double, pp]
    lib.dpacct_event_poisson_alloc.argtypes = [ctypes.c_double, p, pp]
    lib.dpacct_event_self_composed_alloc.argtypes = [p, ctypes.c_uint64, pp]
    lib.dpacct_event_sequence_alloc.argtypes = [pp, ctypes.c_size_t, pp]
    lib.dpacct_event_free.argtypes = [p]
    lib.dpacct_dpsgd_event_alloc.argtypes = [ctypes.c_double, ctypes.c_double,
                                             ctypes.c_uint64, ctypes.c_int,
                                             pp]
    lib.dpacct_accountant_alloc.argtypes = [p, p, pp]
    lib.dpacct_accountant_compose.argtypes = [p, p, ctypes.c_uint64]
    lib.dpacct_accountant_epsilon.argtypes = [p, ctypes.c_double,
                                              ctypes.POINTER(BoundStruct)]
    lib.dpacct_accountant_free.argtypes = [p]
    return lib


def _check(status):
    if status != 0:
        raise RuntimeError(f"libdpacct status {status}")


def sequence_epsilon(lib, accountant, phases, delta):
    """The epsilon bound of the run PHASES [(sigma, q, steps), ...], each a
    self-composed Poisson-sampled Gaussian, all in one event sequence, by
    ACCOUNTANT ('pld' or 'rdp') with default options: (lower, upper)."""
    keep = []

    def new():
        e = ctypes.c_void_p()
        keep.append(e)
        return e

    try:
        events = []
        for sigma, q, steps in phases:
            g, s, c = new(), new(), new()
            _check(lib.dpacct_event_gaussian_alloc(sigma, ctypes.byref(g)))
            _check(lib.dpacct_event_poisson_alloc(q, g, ctypes.byref(s)))
            _check(lib.dpacct_event_self_composed_alloc(s, steps,
                                                        ctypes.byref(c)))
            events.append(c.value)
        array = (ctypes.c_void_p * len(events))(*events)
        run = new()
        _check(lib.dpacct_event_sequence_alloc(array, len(events),
                                               ctypes.byref(run)))
        options = ctypes.create_string_buffer(1024)  # larger than the struct
        lib.dpacct_accountant_options_init(options)
        acc = ctypes.c_void_p()
        _check(lib.dpacct_accountant_alloc(
            lib.dpacct_accountant_type_by_name(accountant.encode()), options,
            ctypes.byref(acc)))
        try:
            _check(lib.dpacct_accountant_compose(acc, run, 1))
            bound = BoundStruct()
            _check(lib.dpacct_accountant_epsilon(acc, delta,
                                                 ctypes.byref(bound)))
        finally:
            lib.dpacct_accountant_free(acc)
        return bound.lower, bound.upper
    finally:
        for e in keep:
            lib.dpacct_event_free(e)


def dpsgd_epsilon(lib, accountant, sigma, q, steps, delta):
    """The epsilon bound of `steps` Poisson-sampled Gaussian steps, as the
    command line computes it (dpacct_dpsgd_event_alloc, composed once):
    (lower, upper)."""
    event, acc = ctypes.c_void_p(), ctypes.c_void_p()
    options = ctypes.create_string_buffer(1024)
    lib.dpacct_accountant_options_init(options)
    try:
        _check(lib.dpacct_dpsgd_event_alloc(sigma, q, steps, 0,
                                            ctypes.byref(event)))
        _check(lib.dpacct_accountant_alloc(
            lib.dpacct_accountant_type_by_name(accountant.encode()), options,
            ctypes.byref(acc)))
        _check(lib.dpacct_accountant_compose(acc, event, 1))
        bound = BoundStruct()
        _check(lib.dpacct_accountant_epsilon(acc, delta, ctypes.byref(bound)))
        return bound.lower, bound.upper
    finally:
        lib.dpacct_accountant_free(acc)
        lib.dpacct_event_free(event)
