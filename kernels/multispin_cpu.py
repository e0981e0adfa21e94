"""Multi-spin-coded checkerboard Metropolis for the 2D Ising model, with independent randomness per spin.

64 replicas are packed into one uint64 per site (bit ``b`` of ``packed[w, row, col]`` is replica
``64 w + b``; a set bit is spin +1). Neighbour alignment is counted with bitwise adders, so one pass over a
word updates 64 spins.

Independent random numbers for every spin
-----------------------------------------
Sharing one random number across the 64 replicas would correlate them. Instead every lane compares *its
own* uniform 32-bit number ``u`` with the threshold ``T`` of its energy class (the same integer
thresholds as the scalar kernels: accept when ``u < T``). The bits of the 64 uniforms are produced one bit
plane at a time, most significant first: random word ``R_j`` holds bit ``31 - j`` of all 64 uniforms. A lane
is decided at the first bit where its ``u`` differs from ``T`` (``u < T`` iff that bit of ``T`` is 1), so
the comparison is exact, and the expected number of bit planes for 64 lanes is only about
``log2(64) + 2 = 8`` instead of 32. Lanes still tied after 32 planes have ``u == T`` and are rejected.

Random words: bit planes ``2 p`` and ``2 p + 1`` of site ``k = (row * M + col) // 2`` (colour
``(row + col) % 2``) in word plane ``w`` and sweep ``t`` are the low and high 64 bits of
``Philox((k, w, t, 2 p + colour), (seed, STREAM_MULTISPIN))``.

Speed: the first ``N_PRE_PLANES`` planes of every site of a row are drawn in one straight loop that the
compiler vectorises, and the decision over them is unrolled; only sites with a lane still tied after them
draw more planes, lazily. (The draws themselves are fixed by their counters, so this changes no result.)

Metropolis only: with any J and h at most five of the ten (spin, aligned-neighbour) classes have an
acceptance probability below one, which is what the kernel assumes.
"""
import numba
import numpy as np
from numba import prange

from ._checks import by_replica, check_real, check_sweep_args, n_chunks
from .lattice_logic import ising_flip_table
from .philox import STREAM_MULTISPIN, philox4x32

__all__ = ["pack_replicas", "unpack_replicas", "multispin_sweep", "multispin_class_thresholds"]

_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)
_ONE = np.uint64(1)
_ZERO = np.uint64(0)
_S32 = np.uint64(32)
_MAX_CLASSES = 5
# Bit planes drawn ahead for every site (even). With 64 lanes about 8 planes are needed on average, so most
# sites never call Philox inside the lane-decision loop.
N_PRE_PLANES = 8


@numba.njit(cache=True, inline="always")
def popcount64(x):
    """Number of set bits of a uint64 (SWAR)."""
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return np.int64((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


@numba.njit(cache=True, inline="always")
def _class_mask(s, b0, b1, b2, spin_up, aligned):
    """Lanes whose aligned-neighbour count equals ``aligned`` and whose spin is up (``spin_up`` = 1), down (0)
    or either (2)."""
    if aligned == 4:
        m = b2
    else:
        m = ~b2
        m &= b1 if aligned >= 2 else ~b1
        m &= b0 if aligned & 1 else ~b0
    if spin_up == 2:  # both spin values share this threshold (h = 0)
        return m
    return m & (s if spin_up else ~s)


@numba.njit(cache=True, inline="always")
def _plane_bit(t, j):
    """All-ones if bit (31 - j) of threshold t is set, else zero."""
    return _ZERO - ((t >> np.uint64(31 - j)) & _ONE)


@numba.njit(cache=True, inline="always")
def _threshold_plane(m0, m1, m2, m3, m4, cls_t, j):
    """Bit (31 - j) of each lane's threshold, from the masks of the (at most five) undecided classes."""
    return ((m0 & _plane_bit(cls_t[0], j)) | (m1 & _plane_bit(cls_t[1], j)) | (m2 & _plane_bit(cls_t[2], j))
            | (m3 & _plane_bit(cls_t[3], j)) | (m4 & _plane_bit(cls_t[4], j)))


@numba.njit(cache=True, inline="always")
def fill_planes(planes, k0, half, w, sweep, colour, seed):
    """The first ``N_PRE_PLANES`` random bit planes of every site of a row half, in one straight loop of
    Philox calls (vectorised by the compiler); later planes are drawn lazily by :func:`multispin_site`."""
    for j in range(half):
        for p in range(N_PRE_PLANES // 2):
            x0, x1, x2, x3 = philox4x32(k0 + j, w, sweep, 2 * p + colour, seed, STREAM_MULTISPIN)
            planes[j, 2 * p] = x0 | (x1 << _S32)
            planes[j, 2 * p + 1] = x2 | (x3 << _S32)


@numba.njit(cache=True, inline="always")
def multispin_site(s, n1, n2, n3, n4, cls_up, cls_aligned, cls_t, n_cls, k, w, sweep, colour, seed, planes):
    """New packed word for one site: Metropolis with an independent uniform per lane (see module doc).
    ``planes`` holds the site's first ``N_PRE_PLANES`` bit planes."""
    a1 = ~(s ^ n1)
    a2 = ~(s ^ n2)
    a3 = ~(s ^ n3)
    a4 = ~(s ^ n4)
    s1 = a1 ^ a2
    c1 = a1 & a2
    s2 = a3 ^ a4
    c2 = a3 & a4
    b0 = s1 ^ s2
    c3 = s1 & s2
    b1 = c1 ^ c2 ^ c3
    b2 = c1 & c2
    m0 = _class_mask(s, b0, b1, b2, cls_up[0], cls_aligned[0]) if n_cls > 0 else _ZERO
    m1 = _class_mask(s, b0, b1, b2, cls_up[1], cls_aligned[1]) if n_cls > 1 else _ZERO
    m2 = _class_mask(s, b0, b1, b2, cls_up[2], cls_aligned[2]) if n_cls > 2 else _ZERO
    m3 = _class_mask(s, b0, b1, b2, cls_up[3], cls_aligned[3]) if n_cls > 3 else _ZERO
    m4 = _class_mask(s, b0, b1, b2, cls_up[4], cls_aligned[4]) if n_cls > 4 else _ZERO
    undecided = m0 | m1 | m2 | m3 | m4
    flip = ~undecided  # every other class is always accepted
    for j in range(N_PRE_PLANES):  # fixed trip count, no early exit: unrolled and branch-free
        tb = _threshold_plane(m0, m1, m2, m3, m4, cls_t, j)
        diff = (planes[j] ^ tb) & undecided
        flip |= diff & tb
        undecided &= ~diff
    r_hi = _ZERO
    j = N_PRE_PLANES
    while undecided != _ZERO and j < 32:  # rare: some lane still tied with its threshold
        if j & 1 == 0:
            x0, x1, x2, x3 = philox4x32(k, w, sweep, 2 * (j >> 1) + colour, seed, STREAM_MULTISPIN)
            rand = x0 | (x1 << _S32)
            r_hi = x2 | (x3 << _S32)
        else:
            rand = r_hi
        tb = _threshold_plane(m0, m1, m2, m3, m4, cls_t, j)
        diff = (rand ^ tb) & undecided
        flip |= diff & tb
        undecided &= ~diff
        j += 1
    return s ^ flip, flip


@numba.njit(cache=True, inline="always")
def _multispin_row(packed, w, row, colour, cls_up, cls_aligned, cls_t, n_cls, seed, sweep, planes, count_mask):
    _, L, M = packed.shape
    half = M // 2
    fill_planes(planes, row * half, half, w, sweep, colour, seed)
    ru = L - 1 if row == 0 else row - 1
    rd = 0 if row == L - 1 else row + 1
    off = (row + colour) & 1
    accepted = 0
    for j in range(half):
        col = 2 * j + off
        cl = M - 1 if col == 0 else col - 1
        cr = 0 if col == M - 1 else col + 1
        new, flip = multispin_site(packed[w, row, col], packed[w, ru, col], packed[w, rd, col], packed[w, row, cl],
                                   packed[w, row, cr], cls_up, cls_aligned, cls_t, n_cls, row * half + j, w, sweep,
                                   colour, seed, planes[j])
        packed[w, row, col] = new
        accepted += popcount64(flip & count_mask)
    return accepted


@numba.njit(parallel=True, cache=True)
def _multispin_sweeps(packed, cls_up, cls_aligned, cls_t, n_cls, seed, sweep0, n_sweeps, by_word, n_chunks,
                      last_mask):
    """``last_mask``: the lanes of the last word that hold real replicas (only their flips are counted)."""
    n_words, L, M = packed.shape
    # Pre-drawn bit planes of one row per parallel chunk: allocated once per call, never per sweep.
    planes = np.empty((n_words if by_word else n_chunks, M // 2, N_PRE_PLANES), np.uint64)
    total = 0
    if by_word:  # whole word planes per thread: one parallel region (see lattice_cpu)
        for w in prange(n_words):
            acc = 0
            for t in range(n_sweeps):
                for colour in range(2):
                    for row in range(L):
                        acc += _multispin_row(packed, w, row, colour, cls_up, cls_aligned, cls_t, n_cls, seed,
                                              sweep0 + t, planes[w], last_mask if w == n_words - 1 else _ALL)
            total += acc
        return total
    n_rows = n_words * L
    for t in range(n_sweeps):
        for colour in range(2):
            acc = 0
            for c in prange(n_chunks):
                for idx in range(c * n_rows // n_chunks, (c + 1) * n_rows // n_chunks):
                    w = idx // L
                    acc += _multispin_row(packed, w, idx - w * L, colour, cls_up, cls_aligned, cls_t, n_cls, seed,
                                          sweep0 + t, planes[c], last_mask if w == n_words - 1 else _ALL)
            total += acc
    return total


def multispin_class_thresholds(beta, J, h):
    """The (spin_up, aligned, threshold) triples of the Metropolis classes that are not always accepted.

    Thresholds are those of :func:`fastmf.kernels.lattice_cpu.ising_flip_table` (``u < T`` accepts), so the
    multi-spin and scalar paths sample the same chain law.
    """
    table = ising_flip_table(beta, J, h, heatbath=False)
    up, aligned, thr = [], [], []
    for a in range(5):
        # s S = 2a - 4: for s = +1, S = 2a - 4; for s = -1, S = 4 - 2a.
        t_down, t_up = table[4 - a], table[5 + a]
        if t_down == t_up < 2 ** 32:   # one class for both spins (always so at h = 0): fewer masks per site
            up.append(2)
            aligned.append(a)
            thr.append(t_up)
            continue
        for spin_up, t in ((0, t_down), (1, t_up)):
            if t < 2 ** 32:
                up.append(spin_up)
                aligned.append(a)
                thr.append(t)
    if len(thr) > _MAX_CLASSES:  # impossible for Metropolis (at most five classes have dE > 0)
        raise AssertionError(f"{len(thr)} Metropolis classes below acceptance 1")
    pad = _MAX_CLASSES - len(thr)
    return (np.array(up + [0] * pad, np.int64), np.array(aligned + [0] * pad, np.int64),
            np.array(thr + [0] * pad, np.uint64), len(thr))


def pack_replicas(spins):
    """Pack int8 +-1 spins of shape (R, L, M) into uint64 (ceil(R / 64), L, M); missing replicas are +1."""
    spins = np.asarray(spins)
    if spins.dtype != np.int8 or spins.ndim != 3:
        raise TypeError(f"expected int8 spins of shape (n_replicas, L, M), got {spins.dtype} {spins.shape}")
    if not np.all(np.abs(spins) == 1):
        raise ValueError("spins must contain only -1 and +1")
    n_rep, L, M = spins.shape
    n_words = -(-n_rep // 64)
    bits = np.ones((n_words * 64, L, M), np.uint8)
    bits[:n_rep] = spins > 0
    bits = bits.reshape(n_words, 64, L, M).transpose(0, 2, 3, 1)           # (w, L, M, 64)
    return np.packbits(bits, axis=-1, bitorder="little").view(np.uint64)[..., 0].copy()


def unpack_replicas(packed, n_replicas=None):
    """Inverse of :func:`pack_replicas`: int8 spins of shape (n_replicas, L, M)."""
    packed = np.ascontiguousarray(packed)
    if packed.dtype != np.uint64 or packed.ndim != 3:
        raise TypeError(f"expected uint64 packed spins of shape (n_words, L, M), got {packed.dtype} {packed.shape}")
    n_words, L, M = packed.shape
    n_replicas = n_words * 64 if n_replicas is None else int(n_replicas)
    if not 0 < n_replicas <= n_words * 64:
        raise ValueError(f"n_replicas must be in [1, {n_words * 64}], got {n_replicas}")
    bits = np.unpackbits(packed[..., None].view(np.uint8), axis=-1, bitorder="little")  # (w, L, M, 64)
    spins = bits.transpose(0, 3, 1, 2).reshape(n_words * 64, L, M)[:n_replicas]
    return (2 * spins.astype(np.int8) - 1)


def multispin_sweep(packed, beta, J=1.0, h=0.0, *, seed, sweep=0, n_sweeps=1, n_replicas=None):
    """Run ``n_sweeps`` multi-spin-coded checkerboard Metropolis sweeps in place.

    Parameters
    ----------
    packed : ndarray of uint64, shape (n_words, L, M)
        64 replicas per word (see :func:`pack_replicas`); ``L`` and ``M`` even.
    beta, J, h : float
        Inverse temperature (> 0), coupling and field.
    seed, sweep, n_sweeps : int
        Philox key, index of the first sweep, number of sweeps.
    n_replicas : int, optional
        Number of real replicas (default ``64 * n_words``); padding lanes beyond it evolve (they cannot
        influence the others) but their flips are not counted.

    Returns
    -------
    int
        Number of accepted single-spin flips summed over the real replicas.
    """
    if not isinstance(packed, np.ndarray) or packed.dtype != np.uint64 or packed.ndim != 3:
        raise TypeError("packed must be a uint64 array of shape (n_words, L, M); see pack_replicas")
    if not packed.flags.c_contiguous or not packed.flags.writeable:
        raise ValueError("packed must be a writeable C-contiguous array (it is updated in place)")
    _, L, M = packed.shape
    if L < 2 or M < 2 or L % 2 or M % 2:
        raise ValueError(f"multi-spin checkerboard updates need even L, M >= 2, got L={L}, M={M} (an odd periodic "
                         f"side makes the lattice non-bipartite)")
    beta, seed, sweep, n_sweeps = check_sweep_args(beta, seed, sweep, n_sweeps)
    n_words = packed.shape[0]
    n_replicas = 64 * n_words if n_replicas is None else int(n_replicas)
    if not 64 * (n_words - 1) < n_replicas <= 64 * n_words:
        raise ValueError(f"n_replicas must be in ({64 * (n_words - 1)}, {64 * n_words}] for {n_words} words, "
                         f"got {n_replicas}")
    last_lanes = n_replicas - 64 * (n_words - 1)
    last_mask = _ALL if last_lanes == 64 else np.uint64((1 << last_lanes) - 1)
    cls_up, cls_aligned, cls_t, n_cls = multispin_class_thresholds(beta, check_real("J", J),
                                                                   check_real("h", h))
    return int(_multispin_sweeps(packed, cls_up, cls_aligned, cls_t, n_cls, seed, sweep, n_sweeps,
                                 by_replica(packed.shape[0]), n_chunks(), last_mask))
