"""Heat-bath sweeps and annealed importance sampling of the K-pairwise maximum-entropy model on the CPU (Numba).

``P(s) ~ exp(a (1/2 s^T J s + V[K]) + h^T s)`` over ``s in {-1, +1}^N``, ``K`` the number of ``s_i = +1`` (spikes),
dense symmetric ``J`` with a zero diagonal, ``V`` of ``N + 1`` entries; ``a`` (``scale``) is 1 for the model
itself and the annealing parameter for :func:`kpairwise_ais`. ``V = 0`` is the pairwise model.

Each chain carries its local fields ``(J s)_i`` and spike count ``K``, updated when a spin flips (O(N) per flip),
so a site update is O(1). Sites are visited in order, chains run in parallel (``prange``); the draw of site ``i``
of chain ``c`` in sweep ``t`` is word ``i mod 4`` of ``Philox((i div 4, c, t, 0), (seed, STREAM_KPAIRWISE))``
(draw 1, ``c3 = 1``, initialises the chains of :func:`kpairwise_ais`), so results depend on the seed alone, not on
the number of threads. Acceptance is computed in floating point; local fields of real couplings are recomputed
at the start of every :func:`kpairwise_ais` chain and drift only by rounding in :func:`kpairwise_sweep`.

Public: :func:`kpairwise_sweep` (sweeps), :func:`kpairwise_measure` (sweeps counting spikes, co-spikes and K after
each), :func:`kpairwise_ais` (annealed importance sampling from an independent model), :func:`kpairwise_init`
(exact draws of an independent model), :func:`kpairwise_state`, :func:`kpairwise_log_weights`,
:func:`validate_kpairwise`, the ``@njit`` building block :func:`kpairwise_site`, and
:class:`KPairwiseTemperingModel` (the model in the interface of :func:`~fastmf.kernels.tempering_cpu.tempering_step`).
"""
import math

import numba
import numpy as np
from numba import prange

from ._checks import check_array, check_int, check_pm1, check_sweep_args
from .philox import STREAM_KPAIRWISE, check_seed, philox4x32, uniform_from_u32

__all__ = ["kpairwise_site", "kpairwise_sweep", "kpairwise_measure", "kpairwise_ais", "kpairwise_init",
           "kpairwise_state", "kpairwise_log_weights", "validate_kpairwise", "KPairwiseTemperingModel"]


# ----------------------------------------------------------------------------------------------
# Building blocks.

@numba.njit(cache=True, inline="always")
def _site(spins, c, i, J, field, V, scale, local_fields, counts, u):
    """Heat-bath update of site ``i`` of chain ``c`` with the total field ``field`` (already interpolated);
    returns 1 if the spin flipped."""
    s = np.int64(spins[c, i])
    k_rest = counts[c] - (s + 1) // 2                 # spikes among the other sites
    x = 2.0 * (scale * local_fields[c, i] + field) + scale * (V[k_rest + 1] - V[k_rest])
    up = uniform_from_u32(u) < 1.0 / (1.0 + math.exp(-x))   # P(s_i = +1 | rest) = sigmoid(x)
    new = np.int64(1) if up else np.int64(-1)
    if new == s:
        return 0
    spins[c, i] = new
    counts[c] = k_rest + (new + 1) // 2
    d = 2.0 * new
    for j in range(spins.shape[1]):
        local_fields[c, j] += d * J[i, j]
    return 1


@numba.njit(cache=True, inline="always")
def kpairwise_site(spins, c, i, J, h, V, scale, local_fields, counts, u):
    """Heat-bath update of site ``i`` of chain ``c`` (a building block for users' ``@njit`` code).

    Sets ``s_i = +1`` when ``u / 2**32 < sigmoid(2 (scale (J s)_i + h_i) + scale (V[K' + 1] - V[K']))``, ``K'``
    the spikes among the other sites, else ``-1``; updates ``local_fields[c]`` and ``counts[c]``. Returns 1 if
    the spin flipped.
    """
    return _site(spins, c, i, J, h[i], V, scale, local_fields, counts, u)


@numba.njit(cache=True, inline="always")
def _fill(buf, n, c, sweep, draw, seed, stream):
    for g in range((n + 3) >> 2):
        x0, x1, x2, x3 = philox4x32(g, c, sweep, draw, seed, stream)
        buf[4 * g], buf[4 * g + 1], buf[4 * g + 2], buf[4 * g + 3] = x0, x1, x2, x3


@numba.njit(cache=True, inline="always")
def _init_chain(spins, c, h0, buf, seed, stream, chain0):
    """Exact draw of the independent model ``exp(h0 . s)`` (draw 1 of sweep 0)."""
    _fill(buf, spins.shape[1], chain0 + c, 0, 1, seed, stream)
    for i in range(spins.shape[1]):
        spins[c, i] = 1 if uniform_from_u32(buf[i]) < 1.0 / (1.0 + math.exp(-2.0 * h0[i])) else -1


@numba.njit(cache=True)
def _chain_state(spins, c, J, local_fields, counts):
    N = spins.shape[1]
    k = 0
    for j in range(N):
        local_fields[c, j] = 0.0
    for i in range(N):
        if spins[c, i] > 0:
            k += 1
        for j in range(N):
            local_fields[c, j] += J[j, i] * spins[c, i]
    counts[c] = k


@numba.njit(parallel=True, cache=True)
def _states(spins, J, local_fields, counts):
    for c in prange(spins.shape[0]):
        _chain_state(spins, c, J, local_fields, counts)


@numba.njit(parallel=True, cache=True)
def _sweeps(spins, J, h, V, scale, local_fields, counts, seed, stream, chain0, sweep0, n_sweeps):
    n_chains, N = spins.shape
    total = 0
    for c in prange(n_chains):
        buf = np.empty(N + 3, np.uint32)
        acc = 0
        for t in range(n_sweeps):
            _fill(buf, N, chain0 + c, sweep0 + t, 0, seed, stream)
            for i in range(N):
                acc += _site(spins, c, i, J, h[i], V, scale, local_fields, counts, buf[i])
        total += acc
    return total


@numba.njit(parallel=True, cache=True)
def _measure(spins, J, h, V, local_fields, counts, seed, stream, chain0, sweep0, n_sweeps, ones, both, hist):
    n_chains, N = spins.shape
    for c in prange(n_chains):
        buf = np.empty(N + 3, np.uint32)
        active = np.empty(N, np.int64)
        for t in range(n_sweeps):
            _fill(buf, N, chain0 + c, sweep0 + t, 0, seed, stream)
            for i in range(N):
                _site(spins, c, i, J, h[i], V, 1.0, local_fields, counts, buf[i])
            # spikes are sparse: count co-spiking pairs over the K active sites only (K^2 / 2, not N^2 / 2)
            k = 0
            for i in range(N):
                if spins[c, i] > 0:
                    active[k] = i
                    k += 1
            hist[c, k] += 1
            for a in range(k):
                ia = active[a]
                ones[c, ia] += 1
                for b in range(a + 1, k):
                    both[c, ia, active[b]] += 1


@numba.njit(parallel=True, cache=True)
def _init(spins, h0, seed, stream, chain0):
    n_chains, N = spins.shape
    for c in prange(n_chains):
        buf = np.empty(N + 3, np.uint32)
        _init_chain(spins, c, h0, buf, seed, stream, chain0)


@numba.njit(parallel=True, cache=True)
def _ais(spins, J, h0, dh, V, betas, seed, stream, chain0, local_fields, counts, log_w, trace, stride):
    n_chains, N = spins.shape
    n_steps = betas.size - 1
    for c in prange(n_chains):
        buf = np.empty(N + 3, np.uint32)
        _init_chain(spins, c, h0, buf, seed, stream, chain0)
        _chain_state(spins, c, J, local_fields, counts)
        e = 0.0                # dh . s + 1/2 s^T J s, updated at each flip (O(1) per step)
        for i in range(N):
            e += spins[c, i] * (dh[i] + 0.5 * local_fields[c, i])
        lw = 0.0
        for k in range(1, n_steps + 1):
            # ln f_k(s) - ln f_{k-1}(s) = (b_k - b_{k-1}) (dh . s + 1/2 s^T J s + V[K])
            lw += (betas[k] - betas[k - 1]) * (e + V[counts[c]])
            if k % stride == 0 and k // stride <= trace.shape[1]:
                trace[c, k // stride - 1] = lw
            if k < n_steps:   # the transition leaving f_k invariant
                b = betas[k]
                _fill(buf, N, chain0 + c, k, 0, seed, stream)
                for i in range(N):
                    if _site(spins, c, i, J, h0[i] + b * dh[i], V, b, local_fields, counts, buf[i]):
                        # (J s)_i does not change when s_i flips (J_ii = 0)
                        e += 2.0 * spins[c, i] * (dh[i] + local_fields[c, i])
        log_w[c] = lw


@numba.njit(parallel=True, cache=True)
def _log_weights(spins, J, h, V, out):
    for n in prange(spins.shape[0]):
        N = spins.shape[1]
        k = 0
        e = 0.0
        for i in range(N):
            si = np.float64(spins[n, i])
            k += spins[n, i] > 0
            g = 0.0
            for j in range(N):
                g += J[i, j] * spins[n, j]
            e += si * (h[i] + 0.5 * g)
        out[n] = e + V[k]


# ----------------------------------------------------------------------------------------------
# Host side.

def validate_kpairwise(J, h, V, check_values=True):
    """Check the parameters; return ``(J, h, V)`` as C-contiguous float64.

    Shapes ``J`` (N, N), ``h`` (N,), ``V`` (N + 1,); with ``check_values`` (O(N^2)) also finite values and ``J``
    symmetric within 1e-10 with a zero diagonal.
    """
    J = np.ascontiguousarray(J, dtype=np.float64)
    h = np.ascontiguousarray(h, dtype=np.float64)
    V = np.ascontiguousarray(V, dtype=np.float64)
    if h.ndim != 1 or h.size < 1:
        raise ValueError(f"h must be 1-D with N >= 1 entries, got shape {h.shape}")
    N = h.size
    if J.shape != (N, N):
        raise ValueError(f"J must have shape (N, N) = ({N}, {N}), got {J.shape}")
    if V.shape != (N + 1,):
        raise ValueError(f"V must have shape (N + 1,) = ({N + 1},), got {V.shape}")
    if not check_values:
        return J, h, V
    if not (np.isfinite(J).all() and np.isfinite(h).all() and np.isfinite(V).all()):
        raise ValueError("J, h and V must be finite (no NaN or inf)")
    if np.abs(J - J.T).max() > 1e-10 or np.any(np.diag(J) != 0):
        raise ValueError("J must be symmetric (within 1e-10) with a zero diagonal")
    return J, h, V


def _spins(spins, N):
    check_array("spins", spins, np.int8, (None, N))
    check_pm1("spins", spins)
    return spins


def _chain0(chain0, n_chains):
    chain0 = check_int("chain0", chain0, minimum=0)
    if chain0 + n_chains > 2 ** 32:
        raise ValueError(f"chain0 + n_chains must be at most 2**32 (the Philox chain counter), got "
                         f"{chain0} + {n_chains}")
    return chain0


def kpairwise_state(spins, J):
    """Local fields ``(J s)`` (float64 (c, N)) and spike counts ``K`` (int64 (c,)) of chains ``spins`` (int8)."""
    J = np.ascontiguousarray(J, dtype=np.float64)
    spins = _spins(spins, J.shape[0])
    local_fields = np.empty(spins.shape, np.float64)
    counts = np.empty(spins.shape[0], np.int64)
    _states(spins, J, local_fields, counts)
    return local_fields, counts


def kpairwise_init(h0, n_chains, *, seed, chain0=0):
    """Chains drawn exactly from the independent model ``P(s) ~ exp(h0 . s)``: int8 (n_chains, N).

    Chain ``c`` uses draw 1 of sweep 0 of Philox chain ``chain0 + c`` (the start of :func:`kpairwise_ais`).
    """
    h0 = np.ascontiguousarray(h0, dtype=np.float64)
    if h0.ndim != 1 or h0.size < 1 or not np.isfinite(h0).all():
        raise ValueError(f"h0 must be a finite 1-D array, got shape {h0.shape}")
    n_chains = check_int("n_chains", n_chains, minimum=1)
    spins = np.empty((n_chains, h0.size), np.int8)
    _init(spins, h0, check_seed(seed), STREAM_KPAIRWISE, _chain0(chain0, n_chains))
    return spins


def kpairwise_sweep(spins, J, h, V, local_fields, counts, *, seed, sweep=0, n_sweeps=1, scale=1.0, chain0=0,
                    check_values=True):
    """Sequential heat-bath sweeps of ``P(s) ~ exp(scale (1/2 s^T J s + V[K]) + h^T s)``.

    Parameters
    ----------
    spins : ndarray of int8, shape (n_chains, N)
        +-1, updated in place.
    J, h, V : ndarray
        Couplings (N, N), fields (N,), count potential (N + 1,) (see :func:`validate_kpairwise`).
    local_fields, counts : ndarray
        ``J s`` (float64 (n_chains, N)) and ``K`` (int64 (n_chains,)) from :func:`kpairwise_state`, updated in
        place.
    seed : int
        Philox key, ``0 <= seed < 2**32``.
    sweep, n_sweeps : int
        Index of the first sweep (the Philox counter) and the number of sweeps.
    scale : float
        Multiplies ``J`` and ``V`` (> 0).
    chain0 : int
        Philox chain index of row 0 (rows of one run split over calls keep their draws).
    check_values : bool
        Check the values of ``J``, ``h``, ``V``, ``spins`` and that ``local_fields`` and ``counts`` agree with
        ``spins`` (O(n_chains N^2)); False checks shapes and dtypes only.

    Returns
    -------
    int
        Number of spins flipped.
    """
    J, h, V = validate_kpairwise(J, h, V, check_values)
    spins = _spins(spins, h.size) if check_values else check_array("spins", spins, np.int8, (None, h.size))
    check_array("local_fields", local_fields, np.float64, spins.shape)
    check_array("counts", counts, np.int64, spins.shape[:1])
    scale, seed, sweep, n_sweeps = check_sweep_args(scale, seed, sweep, n_sweeps)
    chain0 = _chain0(chain0, spins.shape[0])
    if check_values:
        lf, k = kpairwise_state(spins, J)
        if not np.array_equal(k, counts) or not np.allclose(lf, local_fields, rtol=1e-9, atol=1e-9):
            raise ValueError("local_fields / counts do not match spins: recompute them with kpairwise_state")
    return int(_sweeps(spins, J, h, V, scale, local_fields, counts, seed, STREAM_KPAIRWISE, chain0, sweep,
                       n_sweeps))


def kpairwise_measure(spins, J, h, V, local_fields, counts, *, seed, sweep=0, n_sweeps=1, chain0=0):
    """Heat-bath sweeps of ``P(s) ~ exp(1/2 s^T J s + h^T s + V[K])`` (as :func:`kpairwise_sweep`, the same
    draws), measuring after each sweep.

    Parameters
    ----------
    spins, J, h, V, local_fields, counts, seed, sweep, n_sweeps, chain0 :
        As in :func:`kpairwise_sweep` (the values are not checked).

    Returns
    -------
    spikes : ndarray of int64, shape (n_chains, N)
        Sweeps after which ``s_i = +1``, per chain.
    co_spikes : ndarray of int64, shape (n_chains, N, N)
        Sweeps after which ``s_i = s_j = +1`` (upper triangle ``i < j``; zero elsewhere).
    k_hist : ndarray of int64, shape (n_chains, N + 1)
        Sweeps after which ``K`` spins were +1.
    """
    J, h, V = validate_kpairwise(J, h, V, check_values=False)
    check_array("spins", spins, np.int8, (None, h.size))
    check_array("local_fields", local_fields, np.float64, spins.shape)
    check_array("counts", counts, np.int64, spins.shape[:1])
    _, seed, sweep, n_sweeps = check_sweep_args(1.0, seed, sweep, n_sweeps)
    c, N = spins.shape
    chain0 = _chain0(chain0, c)
    ones, both, hist = np.zeros((c, N), np.int64), np.zeros((c, N, N), np.int64), np.zeros((c, N + 1), np.int64)
    _measure(spins, J, h, V, local_fields, counts, seed, STREAM_KPAIRWISE, chain0, sweep, n_sweeps, ones, both, hist)
    return ones, both, hist


def kpairwise_ais(J, h, V, h0, betas, n_chains, *, seed, chain0=0, trace_every=0):
    """Annealed importance sampling from ``exp(h0 . s)`` to ``exp(1/2 s^T J s + h . s + V[K])``.

    Step ``k`` is the K-pairwise model ``(b_k J, h0 + b_k (h - h0), b_k V)``; each chain starts with an exact
    draw of the independent model (:func:`kpairwise_init`), then for ``k = 1 .. n_steps`` adds
    ``(b_k - b_{k-1}) (ln f_1 - ln f_0)(s)`` to ``ln w`` and (for ``k < n_steps``) makes one heat-bath sweep at
    ``b_k`` (Philox sweep counter ``k``).

    Parameters
    ----------
    J, h, V : ndarray
        The target (see :func:`validate_kpairwise`).
    h0 : ndarray, shape (N,)
        Fields of the independent start.
    betas : ndarray, shape (n_steps + 1,)
        Non-decreasing, ``betas[0] = 0``, ``betas[-1] = 1``.
    n_chains : int
    seed : int
    chain0 : int
        Philox chain index of the first chain.
    trace_every : int
        If > 0, also return ``ln w`` after every ``trace_every`` steps (for schedules and diagnostics).

    Returns
    -------
    log_w : ndarray, shape (n_chains,)
        ``ln w``: ``mean(w) prod_i 2 cosh(h0_i)`` estimates ``Z`` without bias.
    spins : ndarray of int8, shape (n_chains, N)
        The chains' final states.
    trace : ndarray, shape (n_chains, n_steps // trace_every)
        Only with ``trace_every``: the partial ``ln w`` after steps ``trace_every, 2 trace_every, ...``.
    """
    J, h, V = validate_kpairwise(J, h, V)
    h0 = np.ascontiguousarray(h0, dtype=np.float64)
    betas = np.ascontiguousarray(betas, dtype=np.float64)
    if h0.shape != h.shape or not np.isfinite(h0).all():
        raise ValueError(f"h0 must be finite with shape {h.shape}, got {h0.shape}")
    if betas.ndim != 1 or betas.size < 2 or betas[0] != 0 or betas[-1] != 1 or np.any(np.diff(betas) < 0):
        raise ValueError("betas must be 1-D, non-decreasing, from 0 to 1, with at least 2 entries")
    if betas.size > 2 ** 32:
        raise ValueError("at most 2**32 - 1 annealing steps (the Philox sweep counter)")
    n_chains = check_int("n_chains", n_chains, minimum=1)
    chain0, seed = _chain0(chain0, n_chains), check_seed(seed)
    every = check_int("trace_every", trace_every, minimum=0)
    spins = np.empty((n_chains, h.size), np.int8)
    lf, counts, log_w = np.empty(spins.shape), np.empty(n_chains, np.int64), np.empty(n_chains)
    trace = np.zeros((n_chains, (betas.size - 1) // every if every else 0))
    _ais(spins, J, h0, h - h0, V, betas, seed, STREAM_KPAIRWISE, chain0, lf, counts, log_w, trace, max(every, 1))
    return (log_w, spins, trace) if every else (log_w, spins)


def kpairwise_log_weights(spins, J, h, V):
    """``1/2 s^T J s + h . s + V[K]`` of configurations ``spins`` (int8 (n, N)): float64 (n,)."""
    J, h, V = validate_kpairwise(J, h, V)
    spins = _spins(np.ascontiguousarray(spins), h.size)
    out = np.empty(spins.shape[0])
    _log_weights(spins, J, h, V, out)
    return out


class KPairwiseTemperingModel:
    """The K-pairwise model for parallel tempering (:func:`fastmf.kernels.tempering_cpu.tempering_step`): arrays
    ``(spins int8, local fields float64, counts int64)``; at inverse temperature ``beta`` the heat-bath sweeps
    sample ``exp(beta (1/2 s^T J s + h^T s + V[K]))`` (the kernel's ``scale`` with the fields scaled too), and the
    energy is ``-(1/2 s^T J s + h^T s + V[K])``. Heat-bath only."""

    def __init__(self, J, h, V):
        self.J, self.h, self.V = (np.ascontiguousarray(a, dtype=np.float64) for a in (J, h, V))
        self.n_sites = self.h.size

    def arrays(self, configs):
        spins = np.ascontiguousarray(configs, dtype=np.int8)
        lf, kc = kpairwise_state(spins.reshape(-1, self.n_sites), self.J)
        return spins, lf.reshape(spins.shape), kc.reshape(spins.shape[:-1])

    def sweep(self, arrays, beta, *, seed, sweep, n_sweeps, heatbath):
        if not heatbath:
            raise ValueError("the K-pairwise kernel has heat-bath sweeps only")
        return kpairwise_sweep(arrays[0], self.J, beta * self.h, self.V, arrays[1], arrays[2], seed=seed,
                               sweep=sweep, n_sweeps=n_sweeps, scale=beta, check_values=False)

    def energy(self, arrays):
        spins, lf, kc = arrays
        return -(0.5 * np.einsum("...i,...i->...", spins, lf) + spins @ self.h + self.V[kc])
