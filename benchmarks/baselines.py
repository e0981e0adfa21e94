"""Baseline Ising samplers and the measurement harness shared by the asv suite and ``report.py``.

Three baselines, written without fastmf:

* ``numba_competent`` (:func:`benchmarks.competent.ising_checkerboard_sweep`): what a user who cares about
  speed writes: int8 spins, a 10-entry integer threshold table, an inline xorshift64* state per row,
  ``prange`` over rows, no modulo in the inner loop. Every headline speed-up is a ratio against it;
* :func:`numba_naive_checkerboard_sweep`: a straightforward ``@njit(parallel=True)`` kernel with
  ``prange`` over rows, modulo neighbours, ``np.random.random()`` and ``np.exp`` per site;
* :func:`numpy_checkerboard_sweep`: vectorised NumPy checkerboard Metropolis (``np.roll`` neighbour
  sums, one mask per colour, ``rng.random`` per site, ``np.exp``).

:class:`LatticeRunner` wraps these and the fastmf kernels behind one interface (hot start, compile,
``run(n_sweeps)``, spin updates per sweep) so that every implementation is timed the same way.
"""
import math
import time

import numba
import numpy as np
from numba import prange

from .competent import ising_checkerboard_sweep, ising_thresholds, xorshift_states

__all__ = ["numpy_checkerboard_sweep", "numba_naive_checkerboard_sweep", "seed_numba_random",
           "IMPLEMENTATIONS", "BETA_C", "LatticeRunner", "multispin_module", "flips_per_ns"]

BETA_C = 0.4407  # T = 2.269 ~ T_c of the 2D Ising model
IMPLEMENTATIONS = ("fastmf_scalar", "fastmf_multispin", "numba_competent", "numba_naive", "numpy")


# ----------------------------------------------------------------------------------------------
# Baselines.

def _colour_masks(shape):
    """Boolean masks of the two checkerboard colours ``(row + col) % 2`` for an (L, M) lattice."""
    rows, cols = np.indices(shape)
    even = (rows + cols) % 2 == 0
    return even, ~even


def numpy_checkerboard_sweep(spins2d, beta, J, h, rng, n_sweeps):
    """Plain NumPy checkerboard Metropolis sweeps of the 2D Ising model, in place.

    Parameters
    ----------
    spins2d : ndarray of int8, shape (L, M)
        +-1 spins with periodic boundaries; L and M even. Updated in place.
    beta, J, h : float
        Inverse temperature, coupling and field (``E = -J sum s_i s_j - h sum s_i``).
    rng : numpy.random.Generator
        Source of the uniform draws (one per site per half-sweep).
    n_sweeps : int
        Number of sweeps (both colours).

    Returns
    -------
    int
        Number of accepted flips.
    """
    masks = _colour_masks(spins2d.shape)
    accepted = 0
    for _ in range(n_sweeps):
        for mask in masks:
            s = spins2d
            # int8 neighbour sum, |nsum| <= 4
            nsum = np.roll(s, 1, 0) + np.roll(s, -1, 0) + np.roll(s, 1, 1) + np.roll(s, -1, 1)
            delta_e = 2.0 * s * (J * nsum + h)
            flip = mask & ((delta_e <= 0.0) | (rng.random(s.shape) < np.exp(-beta * delta_e)))
            spins2d[flip] *= -1
            accepted += int(np.count_nonzero(flip))
    return accepted


@numba.njit(parallel=True, cache=True)
def _naive_sweeps(spins, beta, J, h, n_sweeps):
    L, M = spins.shape
    total = 0
    for _ in range(n_sweeps):
        for colour in range(2):
            acc = 0
            for i in prange(L):
                for j in range((i + colour) % 2, M, 2):
                    s = spins[i, j]
                    nsum = (spins[(i - 1) % L, j] + spins[(i + 1) % L, j]
                            + spins[i, (j - 1) % M] + spins[i, (j + 1) % M])
                    delta_e = 2.0 * s * (J * nsum + h)
                    if delta_e <= 0.0 or np.random.random() < np.exp(-beta * delta_e):
                        spins[i, j] = -s
                        acc += 1
            total += acc
    return total


def numba_naive_checkerboard_sweep(spins2d, beta, J, h, n_sweeps):
    """Straightforward Numba checkerboard Metropolis sweeps of the 2D Ising model, in place.

    ``prange`` over rows within each colour, modulo neighbours, Numba's ``np.random.random()`` (per-thread
    state; see :func:`seed_numba_random`) and ``np.exp`` per site.

    Parameters
    ----------
    spins2d : ndarray of int8, shape (L, M)
        +-1 spins with periodic boundaries; L and M even. Updated in place.
    beta, J, h : float
        Inverse temperature, coupling and field.
    n_sweeps : int
        Number of sweeps (both colours).

    Returns
    -------
    int
        Number of accepted flips.
    """
    return int(_naive_sweeps(spins2d, float(beta), float(J), float(h), int(n_sweeps)))


@numba.njit
def _seed(seed):
    np.random.seed(seed)


def seed_numba_random(seed):
    """Seed Numba's generator of the calling thread (parallel workers keep their own states)."""
    _seed(int(seed))


# ----------------------------------------------------------------------------------------------
# Harness.

def multispin_module():
    """``fastmf.kernels.multispin_cpu`` when it provides the multi-spin API, else ``None``."""
    try:
        from fastmf.kernels import multispin_cpu as ms
    except ImportError:
        return None
    if not all(hasattr(ms, name) for name in ("pack_replicas", "unpack_replicas", "multispin_sweep")):
        return None
    return ms


class LatticeRunner:
    """One implementation on an L x L lattice, hot-started, compiled and warmed up, ready to be timed.

    Parameters
    ----------
    impl : str
        One of :data:`IMPLEMENTATIONS`.
    L : int
        Lattice side (even).
    beta, J, h : float
        Model parameters (default: critical temperature, J = 1, h = 0).
    seed : int
        Seed of the hot start and of every generator.
    warmup : int
        Sweeps run after the hot start (the first call also compiles the Numba kernels).

    Attributes
    ----------
    spins_per_sweep : int
        Spin updates per sweep: ``L * L``, or ``64 * L * L`` for the multi-spin path (one word plane of
        64 replicas).

    Raises
    ------
    NotImplementedError
        When ``impl`` is ``"fastmf_multispin"`` and the multi-spin kernels are not available.
    """

    def __init__(self, impl, L, beta=BETA_C, J=1.0, h=0.0, seed=12345, warmup=3):
        if impl not in IMPLEMENTATIONS:
            raise ValueError(f"impl must be one of {IMPLEMENTATIONS}, got {impl!r}")
        self.impl, self.L, self.beta, self.J, self.h, self.seed = impl, int(L), float(beta), J, h, seed
        rng = np.random.default_rng(seed)
        self.sweep = 0
        if impl == "fastmf_multispin":
            ms = multispin_module()
            if ms is None:
                raise NotImplementedError("fastmf.kernels.multispin_cpu (multispin_sweep) is not available")
            self._ms = ms
            # Hot start of 64 replicas: random bits are random +-1 spins in every replica.
            self.state = rng.integers(0, 2 ** 64, size=(1, L, L), dtype=np.uint64, endpoint=False)
            self.spins_per_sweep = 64 * L * L
        else:
            self.state = 2 * rng.integers(0, 2, size=(L, L), dtype=np.int8) - 1
            self.spins_per_sweep = L * L
        if impl == "numpy":
            self._rng = np.random.default_rng(seed + 1)
        if impl == "numba_naive":
            seed_numba_random(seed + 1)
        if impl == "numba_competent":
            self._states = xorshift_states(seed + 1, L)
            self._table = ising_thresholds(self.beta, J, h)
        if impl in ("fastmf_scalar", "fastmf_multispin"):
            from fastmf.kernels import lattice_cpu  # noqa: F401  (import cost kept out of timings)
        self.run(max(1, warmup))

    def run(self, n_sweeps):
        """Run ``n_sweeps`` sweeps in place; returns the accepted count."""
        n = int(n_sweeps)
        if self.impl == "fastmf_scalar":
            from fastmf.kernels.lattice_cpu import checkerboard_sweep
            acc = checkerboard_sweep(self.state, self.beta, self.J, self.h, seed=self.seed, sweep=self.sweep,
                                     n_sweeps=n)
        elif self.impl == "fastmf_multispin":
            acc = self._ms.multispin_sweep(self.state, self.beta, self.J, self.h, seed=self.seed,
                                           sweep=self.sweep, n_sweeps=n)
        elif self.impl == "numba_competent":
            acc = ising_checkerboard_sweep(self.state, self.beta, self.J, self.h, self._states, n, self._table)
        elif self.impl == "numba_naive":
            acc = numba_naive_checkerboard_sweep(self.state, self.beta, self.J, self.h, n)
        else:
            acc = numpy_checkerboard_sweep(self.state, self.beta, self.J, self.h, self._rng, n)
        self.sweep += n
        return acc

    def seconds_for(self, n_sweeps):
        """Wall time (s) of ``run(n_sweeps)``."""
        t0 = time.perf_counter()
        self.run(n_sweeps)
        return time.perf_counter() - t0

    def sweeps_for(self, min_time, max_sweeps=None):
        """Number of sweeps that takes at least ``min_time`` seconds (from a one-sweep probe)."""
        t1 = self.seconds_for(1)
        n = max(1, math.ceil(min_time / max(t1, 1e-9)))
        return n if max_sweeps is None else min(n, max_sweeps)


def flips_per_ns(runner, min_time=0.2, repeats=3, max_sweeps=None):
    """Best-of-``repeats`` spin updates per nanosecond, each repeat running at least ``min_time`` seconds
    (unless capped by ``max_sweeps``). Returns ``(flips_per_ns, n_sweeps, best_seconds)``."""
    n = runner.sweeps_for(min_time, max_sweeps)
    best = min(runner.seconds_for(n) for _ in range(repeats))
    return runner.spins_per_sweep * n / (best * 1e9), n, best
