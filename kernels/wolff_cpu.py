"""Wolff single-cluster updates for the 2D Ising model at h = 0 (CPU, Numba; parallel over replicas).

A cluster grows from a random seed site by breadth-first search: a neighbour j of cluster site i joins
with probability ``1 - exp(-2 beta |J|)`` when the bond is satisfied (``J s_i s_j > 0``); the whole cluster
is then flipped. This works for J > 0 and J < 0 and any L, M (odd sides included).

Draws: draw ``n`` of replica ``r`` in step ``t`` is word ``n % 4`` of
``Philox((n // 4, r, t, 0), (seed, STREAM_WOLFF))``; draw 0 picks the seed site, then one draw per
candidate bond in BFS order (neighbours in the order up, down, left, right).
"""
import numba
import numpy as np
from numba import prange

from ._checks import check_real, check_sweep_args, validate_lattice
from .lattice_logic import probability_to_threshold
from .philox import STREAM_WOLFF, bounded_from_u32, philox4x32

__all__ = ["wolff_step", "wolff_cluster"]


@numba.njit(cache=True)
def _next_draw(n, r, step, seed, block):
    """uint32 draw number n, refreshing the cached 4-word Philox block every fourth draw."""
    if n & 3 == 0:
        x0, x1, x2, x3 = philox4x32(n >> 2, r, step, 0, seed, STREAM_WOLFF)
        block[0] = x0
        block[1] = x1
        block[2] = x2
        block[3] = x3
    return block[n & 3]


@numba.njit(cache=True)
def wolff_cluster(spins, r, J, t_add, seed, step, visited, cluster, block):
    """Grow and flip one Wolff cluster in replica ``r``; returns its size.

    ``visited`` (uint8, L*M, all zero on entry and exit), ``cluster`` (int64, L*M) and ``block`` (uint64, 4)
    are caller-owned work arrays so that this building block allocates nothing.
    """
    _, L, M = spins.shape
    n_sites = L * M
    n_draw = 0
    i0 = bounded_from_u32(_next_draw(n_draw, r, step, seed, block), n_sites)
    n_draw += 1
    visited[i0] = 1
    cluster[0] = i0
    size = 1
    head = 0
    while head < size:
        i = cluster[head]
        head += 1
        row = i // M
        col = i - row * M
        si = np.int64(spins[r, row, col])
        for d in range(4):
            if d == 0:
                nr, nc = (L - 1 if row == 0 else row - 1), col
            elif d == 1:
                nr, nc = (0 if row == L - 1 else row + 1), col
            elif d == 2:
                nr, nc = row, (M - 1 if col == 0 else col - 1)
            else:
                nr, nc = row, (0 if col == M - 1 else col + 1)
            j = nr * M + nc
            if visited[j] == 0 and J * si * spins[r, nr, nc] > 0:
                u = _next_draw(n_draw, r, step, seed, block)
                n_draw += 1
                if u < t_add:
                    visited[j] = 1
                    cluster[size] = j
                    size += 1
    for c in range(size):
        i = cluster[c]
        row = i // M
        col = i - row * M
        spins[r, row, col] = -spins[r, row, col]
        visited[i] = 0
    return size


@numba.njit(parallel=True, cache=True)
def _wolff_steps(spins, J, t_add, seed, step0, n_steps):
    n_rep, L, M = spins.shape
    total = 0
    for r in prange(n_rep):
        visited = np.zeros(L * M, np.uint8)
        cluster = np.empty(L * M, np.int64)
        block = np.empty(4, np.uint64)
        acc = 0
        for t in range(n_steps):
            acc += wolff_cluster(spins, r, J, t_add, seed, step0 + t, visited, cluster, block)
        total += acc
    return total


def wolff_step(spins, beta, J=1.0, *, seed, step=0, n_steps=1, check_values=True):
    """Run ``n_steps`` Wolff cluster flips on every replica, in place (Ising, h = 0, uniform J).

    Parameters
    ----------
    spins : ndarray of int8, shape (n_replicas, L, M) or (L, M)
        +-1 spins; any L, M >= 2.
    beta, J : float
        Inverse temperature (> 0) and coupling (either sign, non-zero).
    seed, step, n_steps : int
        Philox key, index of the first step (counter c2), number of cluster flips per replica.

    Returns
    -------
    int
        Total number of spins flipped (sum of cluster sizes).
    """
    spins3 = validate_lattice(spins, np.int8, checkerboard=False, check_values=check_values)
    beta, seed, step, n_steps = check_sweep_args(beta, seed, step, n_steps)
    J = check_real("J", J)
    if J == 0:
        raise ValueError("Wolff updates need J != 0 (with J = 0 every spin is independent)")
    t_add = probability_to_threshold(np.array([-np.expm1(-2.0 * beta * abs(J))]))[0]
    return int(_wolff_steps(spins3, J, t_add, seed, step, n_steps))
