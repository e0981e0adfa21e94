"""Numba kernels of the lattice enumerator that ``fastmf verify`` uses as its independent cross-check
(:mod:`fastmf.exact.crosscheck`): Gray-code scans of small periodic Ising lattices and odometer scans of Potts
lattices, visiting every state once and storing nothing per state.

Conventions: ``E = -sum_<ij> J_ij s_i s_j - h sum_i s_i`` over the ``2 L M`` nearest-neighbour bonds
(``jr[r, c]`` couples ``(r, c)-(r, c+1 mod M)``, ``jd[r, c]`` couples ``(r, c)-(r+1 mod L, c)``); Potts bonds
count ``delta(s_i, s_j)``.
"""
import numpy as np
from numba import njit, types
from numba.typed import Dict

__all__ = ["ising_min_energy", "ising_scan", "potts_scan"]


@njit(cache=True, inline="always")
def _neighbours(k, L, M):
    """Row, column, and the periodic right, left, down and up neighbour indices of flat site ``k``."""
    r = k // M
    c = k % M
    return r, c, (0 if c == M - 1 else c + 1), (M - 1 if c == 0 else c - 1), (0 if r == L - 1 else r + 1), \
        (L - 1 if r == 0 else r - 1)


@njit(cache=True)
def _ising_flip_delta(s, k, L, M, jr, jd):
    """Change of the bond energy ``-sum J s s`` when spin ``k`` flips."""
    r, c, cr, cl, rd, ru = _neighbours(k, L, M)
    f = (jr[r, c] * s[r * M + cr] + jr[r, cl] * s[r * M + cl]
         + jd[r, c] * s[rd * M + c] + jd[ru, c] * s[ru * M + c])
    return 2.0 * s[k] * f


@njit(cache=True)
def ising_min_energy(L, M, jr, jd, h):
    """Pass 1 of the Ising enumeration: the ground-state energy (all spins start at +1; Gray-code order).

    Parameters
    ----------
    L, M : int
        Lattice rows and columns (periodic, ``L M <= 62``).
    jr, jd : ndarray of float64, shape (L, M)
        Right and down bond couplings.
    h : float
        Field.

    Returns
    -------
    float
    """
    n = L * M
    s = np.ones(n, dtype=np.int64)
    ej = -(jr.sum() + jd.sum())
    mag = n
    emin = ej - h * mag
    for i in range(1, 1 << n):
        k = 0
        while not (i >> k) & 1:
            k += 1
        ej += _ising_flip_delta(s, k, L, M, jr, jd)
        s[k] = -s[k]
        mag += 2 * s[k]
        e = ej - h * mag
        if e < emin:
            emin = e
    return emin


@njit(cache=True)
def ising_scan(L, M, jr, jd, h, beta, emin, bin_width):
    """Pass 2 of the Ising enumeration: Boltzmann weights ``exp(-beta (E - emin))`` accumulated per energy bin,
    per total magnetization and per staggered magnetization (index ``(m + N) / 2``), in Gray-code order.

    Parameters
    ----------
    L, M, jr, jd, h :
        As in :func:`ising_min_energy`.
    beta : float
        Inverse temperature.
    emin : float
        The ground-state energy (keeps the weights <= 1).
    bin_width : float
        Energies are binned on this grid.

    Returns
    -------
    e_val : ndarray
        First energy met in each bin.
    e_w : ndarray
        Weight of each bin.
    e_cnt : ndarray of int64
        States in each bin.
    w_mag, w_stag : ndarray, shape (L M + 1,)
        Weights per magnetization and per staggered magnetization.
    """
    n = L * M
    s = np.ones(n, dtype=np.int64)
    stag = np.empty(n, dtype=np.int64)
    for k in range(n):
        stag[k] = 1 - 2 * (((k // M) + (k % M)) & 1)
    ej = -(jr.sum() + jd.sum())
    mag = n
    smag = stag.sum()
    w_mag = np.zeros(n + 1)
    w_stag = np.zeros(n + 1)
    index = Dict.empty(key_type=types.int64, value_type=types.int64)
    cap = 1024
    e_val = np.empty(cap)
    e_w = np.empty(cap)
    e_cnt = np.empty(cap, dtype=np.int64)
    n_e = 0
    i = 0
    while True:
        e = ej - h * mag
        w = np.exp(-beta * (e - emin))
        w_mag[(mag + n) >> 1] += w
        w_stag[(smag + n) >> 1] += w
        key = np.int64(np.round(e / bin_width))
        if key in index:
            slot = index[key]
        else:
            if n_e == cap:
                cap *= 2
                e_val2 = np.empty(cap)
                e_w2 = np.empty(cap)
                e_cnt2 = np.empty(cap, dtype=np.int64)
                e_val2[:n_e] = e_val[:n_e]
                e_w2[:n_e] = e_w[:n_e]
                e_cnt2[:n_e] = e_cnt[:n_e]
                e_val, e_w, e_cnt = e_val2, e_w2, e_cnt2
            slot = n_e
            index[key] = slot
            e_val[slot] = e
            e_w[slot] = 0.0
            e_cnt[slot] = 0
            n_e += 1
        e_w[slot] += w
        e_cnt[slot] += 1
        i += 1
        if i == (1 << n):
            break
        k = 0
        while not (i >> k) & 1:
            k += 1
        ej += _ising_flip_delta(s, k, L, M, jr, jd)
        s[k] = -s[k]
        mag += 2 * s[k]
        smag += 2 * s[k] * stag[k]
    return e_val[:n_e], e_w[:n_e], e_cnt[:n_e], w_mag, w_stag


@njit(cache=True)
def _potts_equal_neighbours(s, k, L, M, state):
    """Number of the four neighbours of site ``k`` in ``state`` (double bonds count twice)."""
    r, c, cr, cl, rd, ru = _neighbours(k, L, M)
    return ((s[r * M + cr] == state) + (s[r * M + cl] == state)
            + (s[rd * M + c] == state) + (s[ru * M + c] == state))


@njit(cache=True)
def potts_scan(L, M, q):
    """Count the states of a q-state Potts lattice by (satisfied bonds, sites in state 0, largest occupation),
    visiting them in odometer order.

    Parameters
    ----------
    L, M : int
        Lattice rows and columns (periodic, >= 2).
    q : int
        Number of states.

    Returns
    -------
    ndarray of int64, shape (2 L M + 1, L M + 1, L M + 1)
    """
    n = L * M
    counts = np.zeros((2 * n + 1, n + 1, n + 1), dtype=np.int64)
    s = np.zeros(n, dtype=np.int64)
    occ = np.zeros(q, dtype=np.int64)
    occ[0] = n
    n_eq = 2 * n
    while True:
        nmax = 0
        for a in range(q):
            if occ[a] > nmax:
                nmax = occ[a]
        counts[n_eq, occ[0], nmax] += 1
        # odometer increment: site k goes old -> new, lower sites wrap q-1 -> 0
        k = 0
        while k < n:
            old = s[k]
            new = old + 1 if old < q - 1 else 0
            n_eq += _potts_equal_neighbours(s, k, L, M, new) - _potts_equal_neighbours(s, k, L, M, old)
            # a site is never its own neighbour (L, M >= 2), so the counts above are consistent
            s[k] = new
            occ[old] -= 1
            occ[new] += 1
            if new != 0:
                break
            k += 1
        if k == n:
            break
    return counts
