"""Checkerboard (and sequential) Metropolis / heat-bath sweeps for 2D lattice models on the CPU (Numba).

Public functions take a user-owned spin array of shape ``(n_replicas, L, M)`` (or ``(L, M)``), update it
in place and return the number of accepted moves. Work is split over ``(replica, group)`` pairs with
``prange``; because every draw is a function of (seed, sweep, replica, site) alone, the result does not
depend on the number of threads.
"""
import numba
import numpy as np
from numba import prange

from . import lattice_logic as _ll
# validate_lattice and check_couplings are also public here (the sampler and the models use them).
from ._checks import (by_replica, check_couplings, check_q, check_real, check_sweep_args, n_chunks,
                      validate_lattice)
from .philox import STREAM_CHECKERBOARD, STREAM_SEQUENTIAL, philox4x32

__all__ = ["checkerboard_sweep", "potts_checkerboard_sweep", "quenched_checkerboard_sweep",
           "sequential_sweep", "ising_site", "neighbour_sum", "ising_flip_table",
           "potts_metropolis_table", "potts_heatbath_weights", "validate_lattice"]

_logic = _ll.build(numba.njit, philox4x32)
# Composable building blocks for users' own @njit code.
ising_site = _logic.ising_site
neighbour_sum = _logic.neighbour_sum
ising_group = _logic.ising_group
ising_rows = _logic.ising_rows
quenched_site = _logic.quenched_site
_select_word = _logic.select_word
quenched_group = _logic.quenched_group
potts_group = _logic.potts_group
potts_metropolis_site = _logic.potts_metropolis_site
potts_heatbath_site = _logic.potts_heatbath_site
ising_table_index = _logic.ising_table_index
ising_flip_table = _ll.ising_flip_table
potts_metropolis_table = _ll.potts_metropolis_table
potts_heatbath_weights = _ll.potts_heatbath_weights


# Two ways to spread the work, chosen by the wrapper: with at least as many replicas as threads, one
# parallel region runs whole chains per thread (no per-half-sweep synchronisation); otherwise each half-sweep
# is split over (replica, row) or (replica, group). The result is the same either way: every draw is fixed
# by its counter and sites of one colour do not interact.

@numba.njit(parallel=True, cache=True)
def _ising_sweeps(s16, thresholds, ranks, seed, stream, sweep0, n_sweeps, by_replica, n_chunks):
    """``s16``: the int8 lattice viewed as uint16 pairs (see :func:`ising_rows`)."""
    n_rep, L, half = s16.shape
    # Scratch rows (draws, row copy) per parallel chunk: allocated once per call, never per sweep. 64 unused
    # bytes end every row, so that two threads never write to the same cache line.
    n_scratch = n_rep if by_replica else n_chunks
    draws = np.empty((n_scratch, half + 8 + 16), np.uint32)
    ext = np.empty((n_scratch, half + 2 + 32), np.uint16)
    total = 0
    if by_replica:
        for r in prange(n_rep):
            acc = 0
            for t in range(n_sweeps):
                for colour in range(2):
                    acc += ising_rows(s16, r * L, (r + 1) * L, colour, thresholds, ranks, seed, stream,
                                      sweep0 + t, draws[r], ext[r])
            total += acc
        return total
    n_rows = n_rep * L
    for t in range(n_sweeps):
        for colour in range(2):
            acc = 0
            for c in prange(n_chunks):  # static chunks of (replica, row) pairs, one scratch row each
                acc += ising_rows(s16, c * n_rows // n_chunks, (c + 1) * n_rows // n_chunks, colour,
                                  thresholds, ranks, seed, stream, sweep0 + t, draws[c], ext[c])
            total += acc
    return total


@numba.njit(cache=True, inline="always")
def _group_update(kind, spins, r, g, colour, L, M, q, table, weights, j_right, j_down, h, beta, heatbath, seed,
                  stream, sweep):
    """One group of four same-colour sites: kind 1 = per-bond couplings (Ising), 2 = Potts."""
    if kind == 1:
        return quenched_group(spins, r, g, colour, L, M, j_right, j_down, h, beta, heatbath, seed, stream, sweep)
    return potts_group(spins, r, g, colour, L, M, q, table, weights, heatbath, seed, stream, sweep)


@numba.njit(parallel=True, cache=True)
def _group_sweeps(kind, spins, q, table, weights, j_right, j_down, h, beta, heatbath, seed, stream, sweep0,
                  n_sweeps, by_replica):
    n_rep, L, M = spins.shape
    n_groups = ((L * M) // 2 + 3) // 4
    total = 0
    if by_replica:
        for r in prange(n_rep):
            acc = 0
            for t in range(n_sweeps):
                for colour in range(2):
                    for g in range(n_groups):
                        acc += _group_update(kind, spins, r, g, colour, L, M, q, table, weights, j_right, j_down,
                                             h, beta, heatbath, seed, stream, sweep0 + t)
            total += acc
        return total
    for t in range(n_sweeps):
        for colour in range(2):
            acc = 0
            for idx in prange(n_rep * n_groups):
                r = idx // n_groups
                acc += _group_update(kind, spins, r, idx - r * n_groups, colour, L, M, q, table, weights, j_right,
                                     j_down, h, beta, heatbath, seed, stream, sweep0 + t)
            total += acc
    return total


@numba.njit(parallel=True, cache=True)
def _sequential_sweeps(spins, kind, q, table, weights, j_right, j_down, h, beta, heatbath, seed, stream,
                       sweep0, n_sweeps):
    """Raster-order sweeps (any L, M). Site k = row * M + col draws word k % 4 of
    Philox((k // 4, replica, sweep, 2 * draw), (seed, STREAM_SEQUENTIAL)). kind: 0 Ising, 1 quenched, 2 Potts."""
    n_rep, L, M = spins.shape
    total = 0
    for r in prange(n_rep):
        acc = 0
        for t in range(n_sweeps):
            sweep = sweep0 + t
            for k0 in range(0, L * M, 4):
                x0, x1, x2, x3 = philox4x32(k0 >> 2, r, sweep, 0, seed, stream)
                y0, y1, y2, y3 = philox4x32(k0 >> 2, r, sweep, 2, seed, stream)
                for w in range(min(4, L * M - k0)):
                    row = (k0 + w) // M
                    col = (k0 + w) - row * M
                    u0 = _select_word(x0, x1, x2, x3, w)
                    if kind == 0:
                        acc += ising_site(spins, r, row, col, L, M, table, u0)
                    elif kind == 1:
                        acc += quenched_site(spins, r, row, col, L, M, j_right, j_down, h, beta,
                                                    heatbath, u0)
                    elif heatbath:
                        acc += potts_heatbath_site(spins, r, row, col, L, M, q, weights, u0)
                    else:
                        acc += potts_metropolis_site(spins, r, row, col, L, M, q, table, u0,
                                                     _select_word(y0, y1, y2, y3, w))
        total += acc
    return total


# ----------------------------------------------------------------------------------------------
# Public array-in/array-out API.

def checkerboard_sweep(spins, beta, J=1.0, h=0.0, *, seed, sweep=0, n_sweeps=1, heatbath=False,
                       check_values=True):
    """Run ``n_sweeps`` checkerboard Metropolis (or heat-bath) sweeps of the Ising model in place.

    Parameters
    ----------
    spins : ndarray of int8, shape (n_replicas, L, M) or (L, M)
        +-1 spins, updated in place. ``L`` and ``M`` must be even.
    beta, J, h : float
        Inverse temperature (> 0), coupling (J > 0 ferromagnetic, J < 0 antiferromagnetic) and field.
    seed : int
        Philox key, ``0 <= seed < 2**32``.
    sweep : int
        Index of the first sweep (Philox counter c2): continue a chain by passing the next index.
    n_sweeps : int
        Number of full sweeps (both colours).
    heatbath : bool
        Heat-bath instead of Metropolis acceptance.

    Returns
    -------
    int
        Number of accepted flips.
    """
    spins3 = validate_lattice(spins, np.int8, check_values=check_values)
    beta, seed, sweep, n_sweeps = check_sweep_args(beta, seed, sweep, n_sweeps)
    J, h = check_real("J", J), check_real("h", h)
    thresholds, ranks = _ll.ising_rank_tables(ising_flip_table(beta, J, h, heatbath))
    return int(_ising_sweeps(spins3.view(np.uint16), thresholds, ranks, seed, STREAM_CHECKERBOARD, sweep,
                             n_sweeps, by_replica(len(spins3)), n_chunks()))


def quenched_checkerboard_sweep(spins, beta, j_right, j_down, h=0.0, *, seed, sweep=0, n_sweeps=1,
                                heatbath=False, check_values=True):
    """Checkerboard sweeps of an Ising model with per-bond couplings (e.g. +-J or Gaussian spin glass).

    ``j_right[row, col]`` couples (row, col) with (row, col + 1) and ``j_down[row, col]`` couples (row, col)
    with (row + 1, col), periodically; both have shape (L, M). Shared by all replicas.
    """
    spins3 = validate_lattice(spins, np.int8, check_values=check_values)
    beta, seed, sweep, n_sweeps = check_sweep_args(beta, seed, sweep, n_sweeps)
    j_right, j_down = check_couplings(j_right, j_down, spins3.shape[1:])
    no_table = np.zeros(1, np.uint64)
    return int(_group_sweeps(1, spins3, 2, no_table, np.zeros(1), j_right, j_down, check_real("h", h), beta,
                             bool(heatbath), seed, STREAM_CHECKERBOARD, sweep, n_sweeps, by_replica(len(spins3))))


def potts_checkerboard_sweep(states, q, beta, J=1.0, h=0.0, *, seed, sweep=0, n_sweeps=1, heatbath=False,
                             check_values=True):
    """Checkerboard sweeps of the q-state Potts model (uint8 states 0..q-1); ``h`` favours state 0."""
    q = check_q(q)
    spins3 = validate_lattice(states, np.uint8, q=q, check_values=check_values, name="states")
    beta, seed, sweep, n_sweeps = check_sweep_args(beta, seed, sweep, n_sweeps)
    J, h = check_real("J", J), check_real("h", h)
    no_bonds = np.zeros((1, 1))
    return int(_group_sweeps(2, spins3, q, potts_metropolis_table(beta, J, h), potts_heatbath_weights(beta, J, h),
                             no_bonds, no_bonds, h, beta, bool(heatbath), seed, STREAM_CHECKERBOARD, sweep, n_sweeps,
                             by_replica(len(spins3))))


def sequential_sweep(spins, beta, J=1.0, h=0.0, *, seed, sweep=0, n_sweeps=1, heatbath=False, q=2,
                     j_right=None, j_down=None, check_values=True):
    """Raster-order single-site sweeps for any lattice size (odd sides included); CPU only.

    Ising (int8, uniform ``J`` or per-bond ``j_right``/``j_down``) or Potts (uint8 with ``q`` states).
    Parallel over replicas only.
    """
    potts = isinstance(spins, np.ndarray) and spins.dtype == np.uint8
    q = check_q(q) if potts else 2
    spins3 = validate_lattice(spins, np.uint8 if potts else np.int8, checkerboard=False, q=q,
                              check_values=check_values)
    beta, seed, sweep, n_sweeps = check_sweep_args(beta, seed, sweep, n_sweeps)
    J, h = check_real("J", J), check_real("h", h)
    if j_right is not None or j_down is not None:
        if potts:
            raise ValueError("per-bond couplings are supported for Ising (int8) spins only")
        j_right, j_down = check_couplings(j_right, j_down, spins3.shape[1:])
        kind = 1
    else:
        j_right = j_down = np.zeros((1, 1))
        kind = 2 if potts else 0
    table = potts_metropolis_table(beta, J, h) if potts else ising_flip_table(beta, J, h, heatbath)
    return int(_sequential_sweeps(spins3, kind, q, table, potts_heatbath_weights(beta, J, h), j_right, j_down,
                                  h, beta, bool(heatbath), seed, STREAM_SEQUENTIAL, sweep, n_sweeps))

