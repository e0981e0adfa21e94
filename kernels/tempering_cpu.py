"""Parallel tempering (replica exchange) over the mean-field and graph kernels.

A *ladder* is one configuration per inverse temperature ``betas[0..K-1]``; several independent ladders run
side by side. The state is a set of arrays of shape ``(K, n_ladders, ...)``: slot ``[k, l]`` holds the
configuration (and its maintained order parameter) currently at temperature ``k`` of ladder ``l``. A step

1. runs ``n_sweeps`` sweeps of the model's kernel at every temperature (one kernel call per temperature,
   parallel over ladders), and
2. attempts exchanges between neighbouring temperatures ``(k, k+1)`` with ``k % 2 == step % 2`` (even and odd
   pairs alternate), accepted with probability ``min(1, exp((beta_k - beta_{k+1}) (E_k - E_{k+1})))``; an
   accepted exchange swaps the two configurations and their order parameters (O(N), negligible next to the
   sweeps), and the replica labels, so that round trips can be followed.

Randomness (the contract of docs/theory.rst)
--------------------------------------------
* Sweeps at temperature ``k`` in step ``n`` use the kernels' own draws (``STREAM_MEANFIELD``, chain index =
  ladder) with sweep indices ``(n * K + k) * n_sweeps + j``, ``j < n_sweeps``: every temperature and step has
  its own counters, so temperatures never share draws.
* The exchange of pair ``(k, k+1)`` of ladder ``l`` in step ``n`` draws word 0 of
  ``Philox4x32((k, l, n, 0), (seed, STREAM_TEMPERING))`` and accepts when ``u < floor(p * 2**32)``.

A run therefore depends on the seed alone, not on the thread count.

Models
------
:class:`LowRankModel`, :class:`PottsMFModel` and :class:`GlassModel` adapt the kernels of
:mod:`fastmf.kernels.meanfield_cpu`. Any object with the same three methods works (``arrays``, ``sweep``,
``energy``), e.g. one wrapping the Numba-CUDA kernels.
"""
import math

import numpy as np

from . import meanfield_cpu as mc
from ._checks import check_int, check_pm1, check_real
from .philox import STREAM_TEMPERING, check_seed, philox4x32_array

__all__ = [
    "GlassModel",
    "LowRankModel",
    "PottsMFModel",
    "TemperingState",
    "make_tempering_state",
    "swap_thresholds",
    "tempering_run",
    "tempering_step",
]


class LowRankModel:
    """Hopfield / Curie-Weiss model for tempering: arrays ``(spins int8, overlaps int64)``."""

    def __init__(self, patterns, J=1.0, h=0.0):
        pat = np.atleast_2d(np.asarray(patterns))
        _, self.patterns, _ = mc.validate_lowrank(np.ones((0, pat.shape[-1]), np.int8), pat,
                                                  np.zeros((0, pat.shape[0]), np.int64), False)
        self.J, self.h = check_real("J", J), check_real("h", h)
        self.n_sites = self.patterns.shape[1]

    def arrays(self, configs):
        """``(spins, overlaps)`` from configurations of shape (..., N)."""
        spins = np.ascontiguousarray(configs, dtype=np.int8)
        flat = spins.reshape(-1, self.n_sites)
        mc.validate_lowrank(flat, self.patterns, mc.compute_overlaps(flat, self.patterns))
        return spins, mc.compute_overlaps(flat, self.patterns).reshape(spins.shape[:-1] + (-1,))

    def sweep(self, arrays, beta, *, seed, sweep, n_sweeps, heatbath):
        return mc.lowrank_sweep(arrays[0], self.patterns, arrays[1], beta, self.J, self.h, seed=seed, sweep=sweep,
                                n_sweeps=n_sweeps, heatbath=heatbath, check_values=False)

    def energy(self, arrays):
        spins, overlaps = arrays
        mag = spins.sum(axis=-1, dtype=np.int64) if self.h != 0.0 else 0.0
        return mc.lowrank_energy(overlaps, mag, self.n_sites, self.J, self.h)


class PottsMFModel:
    """Mean-field Potts model for tempering: arrays ``(states uint8, counts int64)``."""

    def __init__(self, q, N, J=1.0, h=0.0):
        self.q = check_int("q (number of Potts states)", q, 2, 255)
        self.n_sites = check_int("N", N, 2)
        self.J, self.h = check_real("J", J), check_real("h", h)

    def arrays(self, configs):
        states = np.ascontiguousarray(configs, dtype=np.uint8)
        flat = states.reshape(-1, self.n_sites)
        counts = mc.compute_counts(flat, self.q)
        mc.validate_potts_mf(flat, counts, self.q)
        return states, counts.reshape(states.shape[:-1] + (self.q,))

    def sweep(self, arrays, beta, *, seed, sweep, n_sweeps, heatbath):
        return mc.potts_mf_sweep(arrays[0], arrays[1], self.q, beta, self.J, self.h, seed=seed, sweep=sweep,
                                 n_sweeps=n_sweeps, heatbath=heatbath, check_values=False)

    def energy(self, arrays):
        return mc.potts_mf_energy(arrays[1], self.n_sites, self.J, self.h)


class GlassModel:
    """Ising spin glass on a CSR graph for tempering: arrays ``(spins int8, local_fields float64)``."""

    def __init__(self, indptr, indices, weights, fields=0.0):
        N = len(indptr) - 1
        _, self.indptr, self.indices, self.weights, self.fields, _ = mc.validate_glass(
            np.ones((1, N), np.int8), indptr, indices, weights, fields,
            mc.compute_local_fields(np.ones((1, N), np.int8), indptr, indices, weights))
        self.n_sites = N

    def arrays(self, configs):
        spins = np.ascontiguousarray(configs, dtype=np.int8)
        flat = spins.reshape(-1, self.n_sites)
        check_pm1("spins", flat)
        lf = mc.compute_local_fields(flat, self.indptr, self.indices, self.weights)
        return spins, lf.reshape(spins.shape)

    def sweep(self, arrays, beta, *, seed, sweep, n_sweeps, heatbath):
        return mc.glass_sweep(arrays[0], self.indptr, self.indices, self.weights, self.fields, arrays[1], beta,
                              seed=seed, sweep=sweep, n_sweeps=n_sweeps, heatbath=heatbath, check_values=False)

    def energy(self, arrays):
        return mc.glass_energy(arrays[0], arrays[1], self.fields)


class TemperingState:
    """Configurations of every ladder and their bookkeeping.

    Attributes
    ----------
    arrays : tuple of ndarray, each of shape (K, n_ladders, ...)
        Configuration and maintained order parameter per (temperature, ladder) slot.
    labels : ndarray of int64, shape (K, n_ladders)
        Replica id at each slot (``k`` at the start): follows exchanges.
    attempted, accepted : ndarray of int64, shape (K - 1,)
        Exchange attempts and acceptances per neighbouring pair, summed over ladders.
    step : int
        Index of the next step (Philox counter).
    """

    def __init__(self, arrays, step=0):
        self.arrays = tuple(arrays)
        K, n_ladders = self.arrays[0].shape[:2]
        self.labels = np.repeat(np.arange(K, dtype=np.int64)[:, None], n_ladders, axis=1)
        self.attempted = np.zeros(max(K - 1, 0), np.int64)
        self.accepted = np.zeros(max(K - 1, 0), np.int64)
        self.step = int(step)

    @property
    def acceptance(self):
        """Exchange acceptance rate per neighbouring pair (NaN where never attempted)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.accepted / self.attempted


def make_tempering_state(model, configs):
    """State for ``configs`` of shape (K, n_ladders, N) (or (K, N): one ladder)."""
    configs = np.asarray(configs)
    if configs.ndim == 2:
        configs = configs[:, None]
    if configs.ndim != 3 or configs.shape[2] != model.n_sites:
        raise ValueError(f"configs must have shape (n_temperatures, n_ladders, N={model.n_sites}), "
                         f"got {configs.shape}")
    return TemperingState(model.arrays(configs))


def _check_betas(betas, K):
    betas = np.asarray(betas, dtype=np.float64)
    if betas.shape != (K,):
        raise ValueError(f"betas must have shape ({K},) (one per temperature slot), got {betas.shape}")
    if not np.all(np.isfinite(betas)) or np.any(betas <= 0):
        raise ValueError("betas must be finite and > 0")
    return betas


def swap_thresholds(betas, energies, k):
    """uint64 thresholds ``floor(min(1, exp((b_k - b_{k+1}) (E_k - E_{k+1}))) * 2**32)`` for every ladder."""
    out = np.empty(energies.shape[1], np.uint64)
    for l, (ea, eb) in enumerate(zip(energies[k], energies[k + 1])):
        x = (betas[k] - betas[k + 1]) * (ea - eb)
        out[l] = 2 ** 32 if x >= 0.0 else (int(math.exp(x) * 4294967296.0) if x > -745.0 else 0)
    return out


def tempering_step(model, state, betas, *, seed, n_sweeps=1, heatbath=False):
    """One tempering step (sweeps at every temperature, then exchanges); returns the accepted exchanges.

    Parameters
    ----------
    model : LowRankModel, PottsMFModel, GlassModel or compatible
    state : TemperingState
        Updated in place (``state.step`` is incremented).
    betas : array_like, shape (K,)
        Inverse temperature of each slot (usually increasing).
    seed : int
        Philox key for both the sweeps and the exchanges.
    n_sweeps : int
        Sweeps per temperature between exchange attempts.
    heatbath : bool
        Heat-bath instead of Metropolis sweeps.
    """
    seed = check_seed(seed)
    n_sweeps = check_int("n_sweeps", n_sweeps, 1)
    K, n_ladders = state.arrays[0].shape[:2]
    betas = _check_betas(betas, K)
    step = state.step
    if (step + 1) * K * n_sweeps > 2 ** 32 or step >= 2 ** 32:
        raise ValueError("tempering step too large for the 32-bit Philox sweep counter")
    for k in range(K):
        model.sweep(tuple(a[k] for a in state.arrays), betas[k], seed=seed, sweep=(step * K + k) * n_sweeps,
                    n_sweeps=n_sweeps, heatbath=heatbath)
    energies = np.asarray(model.energy(state.arrays), dtype=np.float64)
    n_accepted = 0
    for k in range(step % 2, K - 1, 2):
        counters = np.zeros((n_ladders, 4), np.uint64)
        counters[:, 0] = k
        counters[:, 1] = np.arange(n_ladders)
        counters[:, 2] = step
        u = philox4x32_array(counters, [[seed, STREAM_TEMPERING]])[:, 0].astype(np.uint64)
        swap = np.flatnonzero(u < swap_thresholds(betas, energies, k))
        for a in state.arrays + (state.labels, energies):
            a[k, swap], a[k + 1, swap] = a[k + 1, swap].copy(), a[k, swap].copy()
        state.attempted[k] += n_ladders
        state.accepted[k] += len(swap)
        n_accepted += len(swap)
    state.step = step + 1
    return n_accepted


def tempering_run(model, state, betas, n_steps, *, seed, n_sweeps=1, heatbath=False, observe=None):
    """Run ``n_steps`` tempering steps; ``observe(state)``, when given, is called after each step.

    Returns the number of accepted exchanges."""
    total = 0
    for _ in range(check_int("n_steps", n_steps, 0)):
        total += tempering_step(model, state, betas, seed=seed, n_sweeps=n_sweeps, heatbath=heatbath)
        if observe is not None:
            observe(state)
    return total
