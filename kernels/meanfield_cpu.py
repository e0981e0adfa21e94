"""Sequential Metropolis / heat-bath sweeps of mean-field and graph models on the CPU (Numba).

Each update costs O(P) (low rank), O(q) (Potts) or O(degree) (graphs), not O(N): the kernels maintain the
order parameters (overlaps, counts, local fields) alongside the configuration. Chains run in parallel
(``prange``); every draw is a function of (seed, sweep, chain, site) alone (see ``meanfield_logic``), so the
result does not depend on the number of threads, and equals the Numba-CUDA kernels' bit for bit for the
integer models.

Public functions update the spins (or states) and the order parameters in place and return the number of
accepted moves.

Speed (low rank): the draws of a sweep are generated first in a vectorised loop; the site loop is then a
serial dependency through the overlaps. For P = 1 the overlap lives in a register and the table is indexed by
it (``_cw_chain``); for 2 <= P <= 6 (and N within :func:`~fastmf.kernels.lowrank_packed_cpu.packed_max_n`) the
overlaps are packed into one or two 64-bit words (:mod:`fastmf.kernels.lowrank_packed_cpu`). Both go by pairs
of sites, branch-free. Larger P uses a plain loop over a private copy of the overlaps. All paths make the
same decisions as :func:`lowrank_site` (tested bit for bit).
"""
import numba
import numpy as np
from numba import prange

from . import meanfield_logic as _ml
from ._checks import check_real, check_sweep_args
from .lowrank_packed_cpu import packed_chain, packed_layout, packed_rows
from .meanfield_logic import lowrank_tables, validate_glass, validate_lowrank, validate_potts_mf
from .philox import STREAM_MEANFIELD, philox4x32

__all__ = [
    "compute_counts",
    "compute_local_fields",
    "compute_overlaps",
    "glass_energy",
    "glass_site",
    "glass_sweep",
    "lowrank_energy",
    "lowrank_site",
    "lowrank_sweep",
    "lowrank_tables",
    "potts_mf_energy",
    "potts_mf_sweep",
    "potts_site",
    "validate_glass",
    "validate_lowrank",
    "validate_potts_mf",
]

_logic = _ml.build(numba.njit, philox4x32)
# Composable building blocks for users' own @njit code.
lowrank_site = _logic.lowrank_site
potts_site = _logic.potts_site
glass_site = _logic.glass_site
_fill_draws = _logic.fill_draws


# ----------------------------------------------------------------------------------------------
# Kernels: one chain per prange iteration; the draws of a sweep are generated first (vectorised), then the
# sites are updated in order.

@numba.njit(cache=True, inline="always")
def _cw_pair(spins, c, i, pat, mu, table_m, u0, u1):
    """Sites i, i+1 of a one-pattern chain; ``mu = 4 (m + N)`` (unsigned: no negative-index wraparound).

    Speed: the overlap after site i is either m or m - 2 sig_i, so both candidate thresholds of site i+1 are
    loaded while site i's is; the serial dependency per pair is then one load, two compares and a select
    (the trajectory is exactly the site-by-site one)."""
    s0 = np.int64(spins[c, i])
    s1 = np.int64(spins[c, i + 1])
    g0 = s0 * np.int64(pat[0, i])
    g1 = s1 * np.int64(pat[0, i + 1])
    o1 = np.uint64((g1 + 1) + ((s1 + 1) >> 1))
    f0 = np.uint64(u0) < table_m[mu + np.uint64((g0 + 1) + ((s0 + 1) >> 1))]
    f1a = np.uint64(u1) < table_m[mu + o1]
    f1b = np.uint64(u1) < table_m[mu - np.uint64(8 * g0) + o1]
    f1 = f1b if f0 else f1a
    k0 = -np.int64(f0)
    k1 = -np.int64(f1)
    spins[c, i] = s0 - (2 * s0 & k0)
    spins[c, i + 1] = s1 - (2 * s1 & k1)
    return np.int64(f0) + np.int64(f1), np.uint64((8 * g0) & k0) + np.uint64((8 * g1) & k1)


@numba.njit(cache=True)
def _cw_chain(spins, c, pat, overlaps, table_m, buf, seed, stream, sweep0, n_sweeps):
    """All sweeps of one chain with P = 1 (Curie-Weiss or one Hopfield pattern): the overlap stays in a
    register, the update is branch-free and the table is indexed by the overlap itself
    (:func:`lowrank_table_by_overlap`). Equal, flip for flip, to :func:`lowrank_site`."""
    N = spins.shape[1]
    mu = np.uint64(4 * (overlaps[c, 0] + N))
    acc = 0
    for t in range(n_sweeps):
        _fill_draws(buf, N, c, sweep0 + t, 0, seed, stream)
        for i in range(0, N - 1, 2):
            a, d = _cw_pair(spins, c, i, pat, mu, table_m, buf[i], buf[i + 1])
            acc += a
            mu -= d
        if N & 1:  # odd N: the last site alone
            s = np.int64(spins[c, N - 1])
            g = s * np.int64(pat[0, N - 1])
            f = np.uint64(buf[N - 1]) < table_m[mu + np.uint64((g + 1) + ((s + 1) >> 1))]
            k = -np.int64(f)
            spins[c, N - 1] = s - (2 * s & k)
            mu -= np.uint64((8 * g) & k)
            acc += np.int64(f)
    overlaps[c, 0] = np.int64(mu >> np.uint64(2)) - N
    return acc


@numba.njit(parallel=True, cache=True)
def _lowrank_sweeps(spins, patterns, rows, G, overlaps, table, table_m, use_table, beta, J, h, heatbath, seed, stream,
                    sweep0, n_sweeps):
    n_chains, N = spins.shape
    P = patterns.shape[0]
    PN = P * N
    total = 0
    for c in prange(n_chains):
        buf = np.empty(N + 3, np.uint32)
        acc = 0
        if P == 1 and use_table:
            acc = _cw_chain(spins, c, patterns, overlaps, table_m, buf, seed, stream, sweep0, n_sweeps)
        elif use_table and len(rows) == N:
            acc = packed_chain(spins, c, rows, G, overlaps, table, buf, seed, stream, sweep0, n_sweeps)
        elif use_table:
            # no packing: a private copy of the overlaps, updated branch-free (no mispredicted branches at
            # acceptance rates near 1/2).
            m = overlaps[c].copy()
            for t in range(n_sweeps):
                _fill_draws(buf, N, c, sweep0 + t, 0, seed, stream)
                for i in range(N):
                    s = np.int64(spins[c, i])
                    x = np.int64(0)
                    for mu in range(P):
                        x += np.int64(patterns[mu, i]) * m[mu]
                    flip = np.int64(np.uint64(buf[i]) < table[2 * (s * x + PN) + ((s + 1) >> 1)])
                    spins[c, i] = s - 2 * s * flip
                    d = (2 * s) & -flip
                    for mu in range(P):
                        m[mu] -= d * np.int64(patterns[mu, i])
                    acc += flip
            overlaps[c] = m
        else:
            for t in range(n_sweeps):
                _fill_draws(buf, N, c, sweep0 + t, 0, seed, stream)
                for i in range(N):
                    acc += lowrank_site(spins, c, i, patterns, overlaps, table, use_table, beta, J, h, heatbath,
                                        buf[i])
        total += acc
    return total


@numba.njit(parallel=True, cache=True)
def _potts_sweeps(states, counts, q, table, weights, heatbath, seed, stream, sweep0, n_sweeps):
    n_chains, N = states.shape
    total = 0
    for c in prange(n_chains):
        buf0 = np.empty(N + 3, np.uint32)
        buf1 = np.empty(N + 3, np.uint32)
        acc = 0
        for t in range(n_sweeps):
            _fill_draws(buf0, N, c, sweep0 + t, 0, seed, stream)
            if not heatbath:
                _fill_draws(buf1, N, c, sweep0 + t, 1, seed, stream)
            for i in range(N):
                acc += potts_site(states, c, i, counts, q, table, weights, heatbath, buf0[i], buf1[i])
        total += acc
    return total


@numba.njit(parallel=True, cache=True)
def _glass_sweeps(spins, indptr, indices, weights, fields, local_fields, beta, heatbath, seed, stream, sweep0,
                  n_sweeps):
    n_chains, N = spins.shape
    total = 0
    for c in prange(n_chains):
        buf = np.empty(N + 3, np.uint32)
        acc = 0
        for t in range(n_sweeps):
            _fill_draws(buf, N, c, sweep0 + t, 0, seed, stream)
            for i in range(N):
                acc += glass_site(spins, c, i, indptr, indices, weights, fields, local_fields, beta, heatbath,
                                  buf[i])
        total += acc
    return total


@numba.njit(parallel=True, cache=True)
def _overlaps(spins, patterns, out):
    for c in prange(spins.shape[0]):
        for mu in range(patterns.shape[0]):
            m = np.int64(0)
            for i in range(spins.shape[1]):
                m += np.int64(spins[c, i]) * np.int64(patterns[mu, i])
            out[c, mu] = m


@numba.njit(parallel=True, cache=True)
def _local_fields(spins, indptr, indices, weights, out):
    for c in prange(spins.shape[0]):
        for i in range(spins.shape[1]):
            g = 0.0
            for k in range(indptr[i], indptr[i + 1]):
                g += weights[k] * spins[c, indices[k]]
            out[c, i] = g


# ----------------------------------------------------------------------------------------------
# Order parameters and energies.

def compute_overlaps(spins, patterns):
    """Overlaps ``M[c, mu] = sum_i xi^mu_i s[c, i]`` as int64 of shape (n_chains, P)."""
    spins = np.ascontiguousarray(np.atleast_2d(spins), dtype=np.int8)
    patterns = np.ascontiguousarray(np.atleast_2d(patterns), dtype=np.int8)
    out = np.empty((spins.shape[0], patterns.shape[0]), np.int64)
    _overlaps(spins, patterns, out)
    return out


def compute_counts(states, q):
    """Counts ``n[c, k]`` of sites in each Potts state, int64 of shape (n_chains, q)."""
    states = np.atleast_2d(states)
    out = np.zeros((states.shape[0], int(q)), np.int64)
    for k in range(int(q)):
        out[:, k] = (states == k).sum(axis=1)
    return out


def compute_local_fields(spins, indptr, indices, weights):
    """Local fields ``g[c, i] = sum_j J_ij s[c, j]`` (float64, external field not included)."""
    spins = np.ascontiguousarray(np.atleast_2d(spins), dtype=np.int8)
    out = np.empty(spins.shape, np.float64)
    _local_fields(spins, np.ascontiguousarray(indptr, dtype=np.int64), np.ascontiguousarray(indices, dtype=np.int64),
                  np.ascontiguousarray(weights, dtype=np.float64), out)
    return out


def lowrank_energy(overlaps, magnetization, N, J=1.0, h=0.0):
    """``E = -(J / 2N) sum_mu M_mu**2 - h M`` per chain (``magnetization`` = sum_i s_i; any if h = 0)."""
    m2 = (np.asarray(overlaps, dtype=np.float64) ** 2).sum(axis=-1)
    return -(J / (2.0 * N)) * m2 - h * np.asarray(magnetization, dtype=np.float64)


def potts_mf_energy(counts, N, J=1.0, h=0.0):
    """``E = -(J / 2N) sum_k n_k**2 - h n_0`` per chain."""
    counts = np.asarray(counts, dtype=np.float64)
    return -(J / (2.0 * N)) * (counts ** 2).sum(axis=-1) - h * counts[..., 0]


def glass_energy(spins, local_fields, fields):
    """``E = -1/2 sum_i s_i g_i - sum_i h_i s_i`` per chain."""
    s = np.asarray(spins, dtype=np.float64)
    return -0.5 * (s * local_fields).sum(axis=-1) - (s * np.asarray(fields, dtype=np.float64)).sum(axis=-1)


# ----------------------------------------------------------------------------------------------
# Public array-in/array-out API.

_NO_TABLE = np.zeros(1, np.uint64)
_NO_ROWS = np.zeros((0, 4), np.int64)


@_ml.bounded_cache
def lowrank_table_by_overlap(beta, J, h, N, heatbath):
    """The P = 1 table re-indexed by the overlap ``m``: the same entries, so the same trajectories."""
    table = _ml.lowrank_flip_table(beta, J, h, 1, N, heatbath)
    # entry 4 (m + N) + (sig + 1) + (s + 1) / 2 holds table[2 (sig m + N) + (s + 1) / 2], sig = s xi_i = +-1
    m = np.arange(-N, N + 1)
    out = np.empty((2 * N + 1, 2, 2), np.uint64)
    for a, sig in enumerate((-1, 1)):
        for b in range(2):
            out[:, a, b] = table[2 * (sig * m + N) + b]
    return out.ravel()


def lowrank_sweep(spins, patterns, overlaps, beta, J=1.0, h=0.0, *, seed, sweep=0, n_sweeps=1, heatbath=False,
                  check_values=True):
    """Sequential Metropolis (or heat-bath) sweeps of the Hopfield / Curie-Weiss model in O(P) per update.

    ``E = -(J / 2N) sum_mu (xi^mu . s)**2 - h sum_i s_i``; Curie-Weiss is ``patterns = np.ones((1, N))``.

    Parameters
    ----------
    spins : ndarray of int8, shape (n_chains, N) or (N,)
        +-1 spins, updated in place.
    patterns : array_like of +-1, shape (P, N), ``1 <= P < N``
        Shared by all chains.
    overlaps : ndarray of int64, shape (n_chains, P)
        ``xi . s`` (from :func:`compute_overlaps`), kept exact in place.
    beta, J, h : float
        Inverse temperature (> 0), coupling and uniform field.
    seed : int
        Philox key, ``0 <= seed < 2**32``.
    sweep : int
        Index of the first sweep (Philox counter c2): continue a chain by passing the next index.
    n_sweeps : int
        Number of sweeps over all N sites.
    heatbath : bool
        Heat-bath instead of Metropolis acceptance.
    check_values : bool
        Check spins and patterns are +-1 and overlaps are consistent (O(n_chains P N)).

    Returns
    -------
    int
        Number of accepted flips.

    Notes
    -----
    Thresholds come from an integer table of ``2 (2PN + 1)`` entries; beyond ``MAX_TABLE_SIZE`` (2**22)
    entries the kernel computes them in floating point instead (see :func:`lowrank_tables`).

    Sequential-scan Metropolis accepts every move with ``dE <= 0``; for small systems with ``h = 0`` this
    makes the sweep periodic and reducible (eigenvalues -1 and a degenerate 1 of the sweep matrix, see the
    tests), so time averages of one chain are fine but independent chains from a uniform start do not
    converge to the Boltzmann distribution. Use ``heatbath=True`` (always aperiodic) for exact small-N work.
    """
    spins, patterns, overlaps = validate_lowrank(spins, patterns, overlaps, check_values)
    beta, seed, sweep, n_sweeps = check_sweep_args(beta, seed, sweep, n_sweeps)
    J, h = check_real("J", J), check_real("h", h)
    P, N = patterns.shape
    table, use_table = lowrank_tables(beta, J, h, P, N, heatbath)
    table_m = lowrank_table_by_overlap(beta, J, h, N, bool(heatbath)) if use_table and P == 1 else _NO_TABLE
    layout = packed_layout(P, N) if use_table and P >= 2 else None
    rows, G = (packed_rows(patterns, *layout), layout[1]) if layout else (_NO_ROWS, 0)
    return int(_lowrank_sweeps(spins, patterns, rows, G, overlaps, table, table_m, use_table, beta, J, h, bool(heatbath),
                               seed, STREAM_MEANFIELD, sweep, n_sweeps))


def potts_mf_sweep(states, counts, q, beta, J=1.0, h=0.0, *, seed, sweep=0, n_sweeps=1, heatbath=False,
                   check_values=True):
    """Sequential sweeps of the mean-field q-state Potts model, ``E = -(J / 2N) sum_k n_k**2 - h n_0``.

    ``states`` uint8 (n_chains, N) and ``counts`` int64 (n_chains, q) (from :func:`compute_counts`) are
    updated in place. Metropolis proposes one of the q-1 other states uniformly; heat-bath draws the new
    state from its conditional distribution. Other arguments as in :func:`lowrank_sweep`. Returns the number
    of changed sites.
    """
    q, states, counts = validate_potts_mf(states, counts, q, check_values)
    beta, seed, sweep, n_sweeps = check_sweep_args(beta, seed, sweep, n_sweeps)
    J, h = check_real("J", J), check_real("h", h)
    N = states.shape[1]
    return int(_potts_sweeps(states, counts, q, _ml.potts_mf_metropolis_table(beta, J, h, N),
                             _ml.potts_mf_heatbath_weights(beta, J, h, N), bool(heatbath), seed, STREAM_MEANFIELD,
                             sweep, n_sweeps))


def glass_sweep(spins, indptr, indices, weights, fields, local_fields, beta, *, seed, sweep=0, n_sweeps=1,
                heatbath=False, check_values=True):
    """Sequential sweeps of an Ising spin glass on a graph, ``E = -sum_{i<j} J_ij s_i s_j - sum_i h_i s_i``.

    Parameters
    ----------
    spins : ndarray of int8, shape (n_chains, N)
        Updated in place.
    indptr, indices, weights : CSR couplings (int64 (N + 1,), int64, float64)
        Symmetric, no self loops; shared by all chains (SK: complete graph; EA: random regular graph).
    fields : float or ndarray of float64, shape (N,)
        External fields ``h_i``.
    local_fields : ndarray of float64, shape (n_chains, N)
        ``sum_j J_ij s_j`` (from :func:`compute_local_fields`), updated in place.

    Other arguments as in :func:`lowrank_sweep`. Acceptance probabilities are computed in floating point
    with ``exp``: trajectories are bit-identical across backends for integer couplings (+-J) only, and local
    fields of real couplings drift from a recomputation by rounding (recompute them now and then).
    """
    spins, indptr, indices, weights, fields, local_fields = validate_glass(spins, indptr, indices, weights, fields,
                                                                           local_fields, check_values)
    beta, seed, sweep, n_sweeps = check_sweep_args(beta, seed, sweep, n_sweeps)
    return int(_glass_sweeps(spins, indptr, indices, weights, fields, local_fields, beta, bool(heatbath), seed,
                             STREAM_MEANFIELD, sweep, n_sweeps))
