"""Competent baselines: what a user who cares about speed writes in plain Numba in half an hour.

Every fastmf speed-up is stated against these kernels (the naive ones in ``baselines.py`` and
``bench_meanfield.py`` remain as further rows). Common to all of them:

* an inline xorshift64* generator (Vigna 2016), one 64-bit state per row (Ising) or per chain (mean field),
  seeded from one integer through splitmix64 (:func:`xorshift_states`); the top 32 bits of each output are the
  uniform draw, so results depend on the seed alone, not on the number of threads;
* acceptance by integer thresholds ``floor(min(1, exp(-beta dE)) 2**32)`` precomputed for every value dE can
  take (uint64 so that the certain move, 2**32, is representable): one load and one compare per update, no
  ``exp`` and no float conversion in the loop.

Kernels:

* :func:`ising_checkerboard_sweep`: int8 spins (L, M), checkerboard Metropolis, a 10-entry table indexed by
  ``(s nsum + 4) / 2 + 5 (s > 0)`` (five entries per spin sign; h = 0 makes the halves equal), ``prange``
  over the rows of a colour, neighbour indices without modulo in the inner loop;
* :func:`curie_weiss_sweeps`: sequential Metropolis with the magnetization maintained, O(1) per update;
* :func:`hopfield_sweeps`: sequential Metropolis with the P overlaps maintained, O(P) per update.
"""
import numba
import numpy as np
from numba import prange

__all__ = ["xorshift_states", "ising_thresholds", "ising_checkerboard_sweep", "lowrank_thresholds",
           "curie_weiss_sweeps", "hopfield_sweeps", "MAX_TABLE"]

#: Largest mean-field threshold table (entries, 8 bytes each) the baselines build; beyond it they refuse.
MAX_TABLE = 2 ** 22

_U12, _U25, _U27, _U32 = np.uint64(12), np.uint64(25), np.uint64(27), np.uint64(32)
_MULT = np.uint64(0x2545F4914F6CDD1D)


def xorshift_states(seed, n):
    """``n`` nonzero xorshift64* states from one seed: splitmix64 of ``seed * 2**32 + k``, k = 0..n-1.

    Parameters
    ----------
    seed : int
        ``0 <= seed < 2**32``.
    n : int
        Number of states (rows or chains).

    Returns
    -------
    ndarray of uint64, shape (n,)
    """
    with np.errstate(over="ignore"):  # uint64 arithmetic wraps, as intended
        z = (np.uint64(seed) << _U32) + np.arange(n, dtype=np.uint64) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> _U27)) * np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    z[z == 0] = 1  # the all-zero state is a fixed point of xorshift
    return z


@numba.njit(cache=True)
def _draw(x):
    """One xorshift64* step: the new state and a uniform 32-bit draw (the output's high half)."""
    x ^= x >> _U12
    x ^= x << _U25
    x ^= x >> _U27
    return x, (x * _MULT) >> _U32


def _thresholds(delta_e, beta):
    """``floor(min(1, exp(-beta dE)) 2**32)`` as uint64: a draw ``r < 2**32`` is accepted iff ``r < t``."""
    p = np.exp(-beta * np.maximum(np.asarray(delta_e, float), 0.0))
    return np.floor(p * 2.0 ** 32).astype(np.uint64)


# ----------------------------------------------------------------------------------------------
# 2D Ising, checkerboard.

def ising_thresholds(beta, J=1.0, h=0.0):
    """The 10 thresholds of the 2D Ising model: entry ``(s nsum + 4) // 2 + 5 (s > 0)``, for
    ``dE = 2 s (J nsum + h)``."""
    k = np.arange(5)
    s = np.repeat([-1, 1], 5)
    s_nsum = np.tile(2 * k - 4, 2)
    return _thresholds(2.0 * J * s_nsum + 2.0 * h * s, beta)


@numba.njit(cache=True)
def _ising_site(row, up, down, j, jl, jr, table, x):
    s = np.int64(row[j])
    nsum = np.int64(up[j]) + np.int64(down[j]) + np.int64(row[jl]) + np.int64(row[jr])
    x, r = _draw(x)
    # branch-free: the acceptance at T_c is hard to predict (measured 0.19 flips/ns against 0.11 with a branch)
    f = np.int64(r < table[((s * nsum + 4) >> 1) + 5 * ((s + 1) >> 1)])
    row[j] = s - 2 * s * f
    return x, f


@numba.njit(cache=True)
def _ising_row(row, up, down, first, table, x):
    """The sites ``first, first + 2, ...`` of one row; returns the new state and the accepted count."""
    M = row.shape[0]
    a = 0
    if first == 0:  # sites 0, 2, ..., M - 2: only site 0 wraps (left)
        x, f = _ising_site(row, up, down, 0, M - 1, 1, table, x)
        a += f
        for j in range(2, M, 2):
            x, f = _ising_site(row, up, down, j, j - 1, j + 1, table, x)
            a += f
    else:  # sites 1, 3, ..., M - 1: only site M - 1 wraps (right)
        for j in range(1, M - 1, 2):
            x, f = _ising_site(row, up, down, j, j - 1, j + 1, table, x)
            a += f
        x, f = _ising_site(row, up, down, M - 1, M - 2, 0, table, x)
        a += f
    return x, a


@numba.njit(parallel=True, cache=True)
def _ising_sweeps(spins, table, states, n_sweeps):
    L = spins.shape[0]
    total = 0
    for _ in range(n_sweeps):
        for colour in range(2):
            acc = 0
            for i in prange(L):
                x, a = _ising_row(spins[i], spins[i - 1 if i > 0 else L - 1], spins[i + 1 if i < L - 1 else 0],
                                  (i + colour) & 1, table, states[i])
                states[i] = x
                acc += a
            total += acc
    return total


def ising_checkerboard_sweep(spins2d, beta, J, h, states, n_sweeps, table=None):
    """Checkerboard Metropolis sweeps of the periodic 2D Ising model on int8 spins, in place.

    Parameters
    ----------
    spins2d : ndarray of int8, shape (L, M)
        +-1 spins, C-contiguous; L and M even (M >= 2). Updated in place.
    beta, J, h : float
        Inverse temperature, coupling and field (``E = -J sum_<ij> s_i s_j - h sum_i s_i``).
    states : ndarray of uint64, shape (L,)
        One xorshift64* state per row (:func:`xorshift_states`), advanced in place.
    n_sweeps : int
        Number of sweeps (both colours).
    table : ndarray of uint64, optional
        ``ising_thresholds(beta, J, h)``, to keep its construction out of timed loops.

    Returns
    -------
    int
        Number of accepted flips.
    """
    L, M = spins2d.shape
    if L % 2 or M % 2 or states.shape != (L,):
        raise ValueError("need even L, M and one state per row")
    table = ising_thresholds(beta, J, h) if table is None else table
    return int(_ising_sweeps(spins2d, table, states, int(n_sweeps)))


# ----------------------------------------------------------------------------------------------
# Curie-Weiss and Hopfield, sequential sweeps.
#
# A threshold table over every value the field can take is possible for any N: s * m (Curie-Weiss) or s * (xi_i . m)
# (Hopfield) is an integer in [-PN, PN], so 2 (2PN + 1) thresholds cover every (field, spin sign). The table is
# O(PN) memory but a chain only touches the entries near s*x ~ 0 +- O(sqrt(PN)), which stay in L1; a table load
# is ~1 ns where exp costs ~10 ns on half the updates. Tables beyond MAX_TABLE entries are refused rather than
# silently falling back to exp. Updates are branch-free, as in the Ising kernel: measured as fast as or faster than
# a branch on the acceptance (Hopfield P = 3: 0.118 against 0.103 updates/ns) and independent of the acceptance rate.

def lowrank_thresholds(beta, J, h, P, N):
    """Thresholds of ``E = -(J / 2N) sum_mu (xi^mu . s)**2 - h sum_i s_i``: entry ``2 (s x + PN) + (s > 0)``
    with ``x = xi_i . m`` (overlaps including site i), ``dE = (2J / N)(s x - P) + 2 h s``."""
    size = 2 * (2 * P * N + 1)
    if size > MAX_TABLE:
        raise ValueError(f"a {size}-entry threshold table (P N = {P * N}) is above MAX_TABLE = {MAX_TABLE}")
    sx = np.repeat(np.arange(-P * N, P * N + 1), 2)
    s = np.tile([-1, 1], 2 * P * N + 1)
    return _thresholds(2.0 * J / N * (sx - P) + 2.0 * h * s, beta)


@numba.njit(cache=True)
def _cw_chain(spins, m, table, x, n_sweeps):
    N = spins.shape[0]
    acc = 0
    for _ in range(n_sweeps):
        for i in range(N):
            s = np.int64(spins[i])
            x, r = _draw(x)
            f = np.int64(r < table[2 * (s * m + N) + ((s + 1) >> 1)])
            spins[i] = s - 2 * s * f
            m -= 2 * s * f
            acc += f
    return x, m, acc


@numba.njit(parallel=True, cache=True)
def _cw_sweeps(spins, magnetization, table, states, n_sweeps):
    total = 0
    for c in prange(spins.shape[0]):
        states[c], magnetization[c], acc = _cw_chain(spins[c], np.int64(magnetization[c]), table, states[c],
                                                     n_sweeps)
        total += acc
    return total


def curie_weiss_sweeps(spins, magnetization, beta, J, h, states, n_sweeps, table=None):
    """Sequential Metropolis sweeps of the Curie-Weiss model (``E = -(J / 2N) m**2 - h m``), O(1) per update.

    Parameters
    ----------
    spins : ndarray of int8, shape (n_chains, N)
        +-1 spins, updated in place; sites are visited in order 0..N-1.
    magnetization : ndarray of int64, shape (n_chains,)
        ``spins.sum(axis=1)``, maintained in place.
    beta, J, h : float
        Model parameters.
    states : ndarray of uint64, shape (n_chains,)
        One xorshift64* state per chain (:func:`xorshift_states`), advanced in place.
    n_sweeps : int
        Number of sweeps.
    table : ndarray of uint64, optional
        ``lowrank_thresholds(beta, J, h, 1, N)``, built once outside timed loops.

    Returns
    -------
    int
        Number of accepted flips.
    """
    N = spins.shape[1]
    table = lowrank_thresholds(beta, J, h, 1, N) if table is None else table
    return int(_cw_sweeps(spins, magnetization, table, states, int(n_sweeps)))


@numba.njit(cache=True)
def _hopfield_chain(spins, patterns_t, overlaps, table, x, n_sweeps):
    N, P = patterns_t.shape
    PN = P * N
    m = overlaps.copy()  # private copy: no false sharing between chains
    acc = 0
    for _ in range(n_sweeps):
        for i in range(N):
            s = np.int64(spins[i])
            field = np.int64(0)
            for mu in range(P):
                field += patterns_t[i, mu] * m[mu]
            x, r = _draw(x)
            f = np.int64(r < table[2 * (s * field + PN) + ((s + 1) >> 1)])
            spins[i] = s - 2 * s * f
            d = 2 * s * f
            for mu in range(P):
                m[mu] -= d * patterns_t[i, mu]
            acc += f
    for mu in range(P):
        overlaps[mu] = m[mu]
    return x, acc


@numba.njit(parallel=True, cache=True)
def _hopfield_sweeps(spins, patterns_t, overlaps, table, states, n_sweeps):
    total = 0
    for c in prange(spins.shape[0]):
        x, acc = _hopfield_chain(spins[c], patterns_t, overlaps[c], table, states[c], n_sweeps)
        states[c] = x
        total += acc
    return total


def hopfield_sweeps(spins, patterns_t, overlaps, beta, J, h, states, n_sweeps, table=None):
    """Sequential Metropolis sweeps of the Hopfield model with the overlaps maintained, O(P) per update.

    Parameters
    ----------
    spins : ndarray of int8, shape (n_chains, N)
        +-1 spins, updated in place; sites are visited in order 0..N-1.
    patterns_t : ndarray of int8, shape (N, P)
        The +-1 patterns transposed (row i: ``xi_i^mu`` for all mu, contiguous).
    overlaps : ndarray of int64, shape (n_chains, P)
        ``spins @ patterns_t``, maintained in place.
    beta, J, h : float
        Model parameters (``E = -(J / 2N) sum_mu (xi^mu . s)**2 - h sum_i s_i``).
    states : ndarray of uint64, shape (n_chains,)
        One xorshift64* state per chain, advanced in place.
    n_sweeps : int
        Number of sweeps.
    table : ndarray of uint64, optional
        ``lowrank_thresholds(beta, J, h, P, N)``, built once outside timed loops.

    Returns
    -------
    int
        Number of accepted flips.
    """
    N, P = patterns_t.shape
    table = lowrank_thresholds(beta, J, h, P, N) if table is None else table
    return int(_hopfield_sweeps(spins, patterns_t, overlaps, table, states, int(n_sweeps)))
