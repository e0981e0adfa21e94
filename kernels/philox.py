"""Counter-based Philox4x32-10 random numbers, shared by every backend.

The randomness contract (docs/theory.rst)
-----------------------------------------
Every random number in fastmf is a pure function of ``(seed, stream, counter)``:

``Philox4x32-10(counter=(c0, c1, c2, c3), key=(k0, k1)) -> (x0, x1, x2, x3)`` (four uint32 words),
with ``k0 = seed`` (``0 <= seed < 2**32``) and ``k1 = stream`` (one of the ``STREAM_*`` constants: which
algorithm is drawing). The counter words say *what* the draw is for:

* ``c0``: site (or chain) group: site index ``k`` div 4; word ``k mod 4`` of the output belongs to site ``k``;
* ``c1``: replica (chain) index;
* ``c2``: sweep (or step) index;
* ``c3``: ``2 * draw + colour``: draw number ``d`` for that site in that sweep (0 for the first uint32,
  1 for the second, ...), and the checkerboard colour (0 where it does not apply). Kernels without
  colours that were written after this layout (mean-field and graph sweeps, Maier-Saupe moves: see
  ``meanfield_logic.py`` and ``maier_saupe_logic.py``) use ``c3 = draw``; each stream keeps one layout.

For checkerboard lattice sweeps the site index ``k`` is the index *within the colour sublattice*,
``k = (row * M + col) // 2`` with ``colour = (row + col) % 2``, so one Philox call serves four sites
that are updated in the same half-sweep. Algorithms with a variable number of draws per step (Wolff)
number their draws sequentially: draw ``n`` of replica ``r`` in step ``t`` is word ``n mod 4`` of
``Philox((n div 4, r, t, 0), (seed, STREAM_WOLFF))``.

Because a draw depends on nothing else, a result is independent of thread count, block size,
backend and chunking. Integer-coupling models compare a uint32 draw with integer thresholds
(``u < T`` with ``T = floor(p * 2**32)``, ``T = 2**32`` meaning "always"), so CPU, Numba-CUDA and
CUDA C give bit-identical trajectories.

Building blocks
---------------
The functions below are written once as plain Python over 64-bit unsigned integers and compiled
twice: ``philox4x32`` etc. are ``@njit`` functions that a user's Numba code can call, and
:func:`cuda_device_functions` returns the same logic as Numba-CUDA device functions. The CUDA C
version is ``cuda/philox.cuh``.
"""
from types import SimpleNamespace

import numba
import numpy as np

__all__ = [
    "PHILOX_M0", "PHILOX_M1", "PHILOX_W0", "PHILOX_W1",
    "STREAM_INIT", "STREAM_CHECKERBOARD", "STREAM_SEQUENTIAL", "STREAM_WOLFF", "STREAM_MULTISPIN",
    "STREAM_MEANFIELD", "STREAM_TEMPERING", "STREAM_LATENT", "STREAM_ROTATION", "STREAM_KPAIRWISE",
    "philox4x32", "philox_word", "uniform_from_u32", "uniform_open_from_u32", "bounded_from_u32",
    "philox4x32_array", "check_seed", "cuda_device_functions",
]

PHILOX_M0 = 0xD2511F53
PHILOX_M1 = 0xCD9E8D57
PHILOX_W0 = 0x9E3779B9  # golden ratio
PHILOX_W1 = 0xBB67AE85  # sqrt(3) - 1

# Stream identifiers (key word k1): one per algorithm so that no two algorithms share draws.
STREAM_INIT = 1
STREAM_CHECKERBOARD = 2
STREAM_SEQUENTIAL = 3
STREAM_WOLFF = 4
STREAM_MULTISPIN = 5
STREAM_MEANFIELD = 6   # single-site updates of fully connected / graph models
STREAM_TEMPERING = 7   # replica-exchange decisions of parallel tempering
STREAM_LATENT = 8      # latent (Hubbard-Stratonovich) samplers
STREAM_ROTATION = 9    # continuous (Maier-Saupe) rotation moves
STREAM_KPAIRWISE = 10  # heat-bath sweeps and annealed importance sampling of K-pairwise max-ent models

_U32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_M0 = np.uint64(PHILOX_M0)
_M1 = np.uint64(PHILOX_M1)
_W0 = np.uint64(PHILOX_W0)
_W1 = np.uint64(PHILOX_W1)
_TWO_M32 = 2.0 ** -32


def _philox4x32(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 on 32-bit values held in uint64 (the high halves are ignored)."""
    c0 = np.uint64(c0) & _U32
    c1 = np.uint64(c1) & _U32
    c2 = np.uint64(c2) & _U32
    c3 = np.uint64(c3) & _U32
    k0 = np.uint64(k0) & _U32
    k1 = np.uint64(k1) & _U32
    for r in range(10):
        if r > 0:
            k0 = (k0 + _W0) & _U32
            k1 = (k1 + _W1) & _U32
        p0 = _M0 * c0
        p1 = _M1 * c2
        n0 = (p1 >> _S32) ^ c1 ^ k0
        n2 = (p0 >> _S32) ^ c3 ^ k1
        c1 = p1 & _U32
        c3 = p0 & _U32
        c0 = n0
        c2 = n2
    return c0, c1, c2, c3


def _uniform_from_u32(u):
    """Uniform float64 in [0, 1) from a uint32 draw (exactly ``u / 2**32``)."""
    return np.float64(u) * _TWO_M32


def _uniform_open_from_u32(u):
    """Uniform float64 in (0, 1) from a uint32 draw: ``(u + 0.5) / 2**32`` (safe for ``log``)."""
    return (np.float64(u) + 0.5) * _TWO_M32


def _bounded_from_u32(u, n):
    """Integer in [0, n) from a uint32 draw by multiply-shift (bias below n / 2**32)."""
    return np.int64((np.uint64(u) * np.uint64(n)) >> _S32)


_SOURCES = dict(philox4x32=_philox4x32, uniform_from_u32=_uniform_from_u32,
                uniform_open_from_u32=_uniform_open_from_u32, bounded_from_u32=_bounded_from_u32)

_cpu_jit = numba.njit(cache=True, inline="always")
philox4x32 = _cpu_jit(_philox4x32)
uniform_from_u32 = _cpu_jit(_uniform_from_u32)
uniform_open_from_u32 = _cpu_jit(_uniform_open_from_u32)
bounded_from_u32 = _cpu_jit(_bounded_from_u32)


@numba.njit(cache=True, inline="always")
def philox_word(c0, c1, c2, c3, k0, k1, word):
    """Word ``word`` (0..3) of ``Philox4x32-10((c0, c1, c2, c3), (k0, k1))`` as uint64."""
    x0, x1, x2, x3 = philox4x32(c0, c1, c2, c3, k0, k1)
    if word == 0:
        return x0
    if word == 1:
        return x1
    if word == 2:
        return x2
    return x3


@numba.njit(cache=True)
def _philox_array(counters, keys, out):
    for i in range(counters.shape[0]):
        x0, x1, x2, x3 = philox4x32(counters[i, 0], counters[i, 1], counters[i, 2], counters[i, 3],
                                    keys[i, 0], keys[i, 1])
        out[i, 0] = x0
        out[i, 1] = x1
        out[i, 2] = x2
        out[i, 3] = x3


def philox4x32_array(counters, keys):
    """Vectorised Philox4x32-10: ``counters`` (n, 4) and ``keys`` (n, 2) uint32 -> (n, 4) uint32."""
    counters = np.atleast_2d(np.asarray(counters, dtype=np.uint64))
    keys = np.atleast_2d(np.asarray(keys, dtype=np.uint64))
    if counters.shape[1] != 4 or keys.shape[1] != 2:
        raise ValueError(f"expected counters of shape (n, 4) and keys (n, 2), got {counters.shape}, {keys.shape}")
    n = max(counters.shape[0], keys.shape[0])
    counters = np.broadcast_to(counters, (n, 4))
    keys = np.broadcast_to(keys, (n, 2))
    out = np.empty((counters.shape[0], 4), np.uint64)
    _philox_array(np.ascontiguousarray(counters), np.ascontiguousarray(keys), out)
    return out.astype(np.uint32)


def check_seed(seed):
    """Validate a seed for the Philox key: an integer with ``0 <= seed < 2**32``; returns ``int``."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer in [0, 2**32), got {seed!r} of type {type(seed).__name__}")
    seed = int(seed)
    if not 0 <= seed < 2 ** 32:
        raise ValueError(f"seed must satisfy 0 <= seed < 2**32 (it is the Philox key word k0), got {seed}")
    return seed


_cuda_cache = {}


def cuda_device_functions():
    """The same building blocks compiled as Numba-CUDA device functions (imports numba.cuda lazily).

    Returns a namespace with ``philox4x32``, ``uniform_from_u32``, ``uniform_open_from_u32`` and
    ``bounded_from_u32``, callable from a user's ``@cuda.jit`` kernels.
    """
    if "ns" not in _cuda_cache:
        from numba import cuda

        dev = cuda.jit(device=True)
        _cuda_cache["ns"] = SimpleNamespace(**{name: dev(fn) for name, fn in _SOURCES.items()})
    return _cuda_cache["ns"]
