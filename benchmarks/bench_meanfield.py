"""asv benchmarks of Curie-Weiss and Hopfield sweeps: fastmf's ``lowrank_sweep`` against two Numba baselines.

* ``competent`` (:mod:`benchmarks.competent`): what a user who cares about speed writes: the magnetization
  (Curie-Weiss, O(1) per update) or the P overlaps (Hopfield, O(P)) maintained, an integer threshold table over
  every value of the field, an inline xorshift64* generator per chain. Headline ratios are against it.
* ``naive`` (:func:`naive_hopfield_sweeps`): no maintained order parameters: for every update the local field
  ``sum_j J_ij s_j`` with ``J_ij = (J / N) sum_mu xi_i^mu xi_j^mu`` is recomputed from the pattern matrix (the
  overlaps ``xi^mu . s`` in an O(PN) inner loop that Numba vectorises), then accepted with
  ``np.random.random()`` and ``np.exp``.

All run the same schedule as fastmf: sequential Metropolis sweeps (sites 0..N-1 in order) of 2 chains
(``prange`` over chains), beta = 0.8, J = 1, h = 0, from a random start; Curie-Weiss is the one-pattern model
with ``xi = (1, ..., 1)`` (what ``lowrank_sweep`` documents). Compiled and warmed up in ``setup``. Updates/ns
counts single-site update attempts; :func:`updates_per_ns` is shared with ``report_meanfield.py``.
"""
import time

import numba
import numpy as np
from numba import prange

from .competent import curie_weiss_sweeps, hopfield_sweeps, lowrank_thresholds, xorshift_states

BETA = 0.8
SIZES = (100, 1000, 10000)
PATTERNS = (1, 3, 10)
IMPLEMENTATIONS = ("fastmf", "competent", "naive")
MODELS = ("curie_weiss", "hopfield")


@numba.njit(parallel=True, cache=True)
def naive_hopfield_sweeps(spins, patterns, beta, J, h, n_sweeps, n_sites):
    """Metropolis sweeps over the first ``n_sites`` sites, recomputing the local field per update (O(PN))."""
    n_chains, N = spins.shape
    P = patterns.shape[0]
    accepted = 0
    for c in prange(n_chains):
        acc = 0
        for _ in range(n_sweeps):
            for i in range(n_sites):
                field = 0
                for mu in range(P):
                    m = 0
                    for j in range(N):
                        m += patterns[mu, j] * spins[c, j]
                    field += patterns[mu, i] * m
                s = spins[c, i]
                # dE of flipping s_i with the self-coupling included: (2J/N)(s_i field - P) + 2 h s_i
                delta_e = 2.0 * J / N * (s * field - P) + 2.0 * h * s
                if delta_e <= 0.0 or np.random.random() < np.exp(-beta * delta_e):
                    spins[c, i] = -s
                    acc += 1
        accepted += acc
    return accepted


@numba.njit(cache=True)
def _seed_numba_random(seed):
    np.random.seed(seed)


class MeanFieldRunner:
    """One implementation on ``n_chains`` chains of N spins, compiled and warmed up.

    Parameters
    ----------
    impl : str
        One of :data:`IMPLEMENTATIONS`.
    N, P : int
        Spins and patterns (``P`` is ignored for Curie-Weiss: one pattern of ones).
    model : str
        ``"hopfield"`` (P random +-1 patterns) or ``"curie_weiss"``.
    n_chains, seed : int
        Chains (run by ``prange``) and the seed of patterns, start and generators.
    """

    def __init__(self, impl, N, P=1, model="hopfield", n_chains=2, seed=1):
        from fastmf.kernels.meanfield_cpu import compute_overlaps, lowrank_sweep
        if impl not in IMPLEMENTATIONS or model not in MODELS:
            raise ValueError(f"impl in {IMPLEMENTATIONS}, model in {MODELS}; got {impl!r}, {model!r}")
        rng = np.random.default_rng(seed)
        P = 1 if model == "curie_weiss" else P
        self.impl, self.model, self.N, self.P = impl, model, N, P
        self.patterns = (np.ones((1, N), np.int8) if model == "curie_weiss"
                         else rng.choice(np.array([-1, 1], np.int8), size=(P, N)))
        self.spins = rng.choice(np.array([-1, 1], np.int8), size=(n_chains, N))
        self.overlaps = compute_overlaps(self.spins, self.patterns)  # (n_chains, P) int64
        self._lowrank = lowrank_sweep
        self.sweep_index = 0
        if impl == "competent":
            self._states = xorshift_states(seed, n_chains)
            self._table = lowrank_thresholds(BETA, 1.0, 0.0, P, N)
            self._patterns_t = np.ascontiguousarray(self.patterns.T)
            self._magnetization = self.overlaps[:, 0].copy() if model == "curie_weiss" else None
        _seed_numba_random(seed)
        self.run(1, n_sites=min(N, 50))  # compile and warm up

    def run(self, n_sweeps, n_sites=None):
        """``n_sweeps`` sweeps; the naive kernel may stop after ``n_sites`` sites (its sweeps of N = 10^4 take
        seconds); returns the number of update attempts."""
        if self.impl == "fastmf":
            self._lowrank(self.spins, self.patterns, self.overlaps, BETA, seed=7, sweep=self.sweep_index,
                          n_sweeps=n_sweeps, check_values=False)
            self.sweep_index += n_sweeps
        elif self.impl == "competent" and self.model == "curie_weiss":
            curie_weiss_sweeps(self.spins, self._magnetization, BETA, 1.0, 0.0, self._states, n_sweeps, self._table)
        elif self.impl == "competent":
            hopfield_sweeps(self.spins, self._patterns_t, self.overlaps, BETA, 1.0, 0.0, self._states, n_sweeps,
                            self._table)
        else:
            n_sites = self.N if n_sites is None else n_sites
            naive_hopfield_sweeps(self.spins, self.patterns, BETA, 1.0, 0.0, n_sweeps, n_sites)
            return n_sweeps * n_sites * len(self.spins)
        return n_sweeps * self.N * len(self.spins)


def updates_per_ns(runner, min_time=0.2, repeats=3):
    """Best update attempts per ns over ``repeats`` runs of at least ``min_time`` seconds each."""
    # size one run: grow the work until it lasts min_time
    n_sweeps, n_sites = 1, None
    if runner.impl == "naive":
        n_sites = max(1, min(runner.N, int(2e8 / (runner.P * runner.N * len(runner.spins)))))
    while True:
        t = time.perf_counter()
        runner.run(n_sweeps, n_sites)
        if time.perf_counter() - t >= min_time / 4 or n_sweeps > 1e7:
            break
        n_sweeps *= 4
    best = 0.0
    for _ in range(repeats):
        t = time.perf_counter()
        updates = 0
        while time.perf_counter() - t < min_time:
            updates += runner.run(n_sweeps, n_sites)
        best = max(best, updates / ((time.perf_counter() - t) * 1e9))
    return best


def _sites(impl, N):
    """Sites per timed sweep: the naive kernel stops after 1000 of them."""
    return min(N, 1000) if impl == "naive" else None


class HopfieldSweep:
    """Single-thread (per-core) speed per N, P and implementation."""

    params = (SIZES, PATTERNS, IMPLEMENTATIONS)
    param_names = ("N", "P", "impl")
    timeout = 600

    def setup(self, N, P, impl):
        numba.set_num_threads(1)
        self.runner = MeanFieldRunner(impl, N, P)

    def time_sweep(self, N, P, impl):
        """One sweep (the naive kernel: at most 1000 sites of it)."""
        self.runner.run(1, _sites(impl, N))

    def track_updates_per_ns(self, N, P, impl):
        return updates_per_ns(self.runner)

    track_updates_per_ns.unit = "updates/ns"


class CurieWeissSweep:
    """Single-thread (per-core) speed per N and implementation."""

    params = (SIZES, IMPLEMENTATIONS)
    param_names = ("N", "impl")
    timeout = 600

    def setup(self, N, impl):
        numba.set_num_threads(1)
        self.runner = MeanFieldRunner(impl, N, model="curie_weiss")

    def time_sweep(self, N, impl):
        """One sweep (the naive kernel: at most 1000 sites of it)."""
        self.runner.run(1, _sites(impl, N))

    def track_updates_per_ns(self, N, impl):
        return updates_per_ns(self.runner)

    track_updates_per_ns.unit = "updates/ns"
