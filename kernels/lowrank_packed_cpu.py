"""Sequential sweeps of low-rank (Hopfield) models with 2 <= P <= 8 patterns on the CPU, the overlaps packed
into one or two 64-bit integers (Numba): P <= 6 for N <= 174 761, P = 7, 8 for N <= 2047 (see
:func:`packed_layout`). Called by :func:`fastmf.kernels.meanfield_cpu.lowrank_sweep`; equal, flip for flip,
to :func:`~fastmf.kernels.meanfield_cpu.lowrank_site`.

The packing. The patterns are split into K = 1 or 2 groups of at most ``G`` patterns (a smaller group is
padded with zero patterns). A group's overlaps go into one word ``M = sum_g m_g 2**(1 + w g)`` with field
width ``w = ceil(63 / G)``. With the per-site word ``Q_i = sum_g B[g, i] 2**(w (G - 1 - g))``, where
``B = 2 s xi``, the product ``M Q_i`` (mod 2**64) holds ``sum_g B[g, i] m_g`` in its top ``64 - S`` bits,
``S = 1 + w (G - 1)``: the terms ``m_g B[h, i]`` with g > h land beyond bit 63, those with g < h stay below
``2**(S-1)`` in magnitude (see :func:`packed_max_n`), so adding ``2**(S-1)`` and shifting right by S
(arithmetic) extracts the sum exactly. A flip subtracts ``Bp_i = sum_g B[g, i] 2**(1 + w g)`` from M.

Why. The serial dependency of a sweep runs through the overlaps: site i's table index needs them, and
site i's flip changes them. Packed, the path per site is one multiply, an add and a shift instead of P
multiplies and an add tree, and the overlaps occupy one or two registers (the old P-register version
spilled to the stack). Sites go in pairs (both candidate thresholds of the second site are loaded while
the first's is), and the flip masks pass through :func:`~fastmf.kernels._opaque.opaque` so the compiler
keeps the updates arithmetic rather than branching on them: the speed then does not depend on the
acceptance rate (about 2.6 ns per update at P = 3 on the development machine, N = 100 to 10 000).
"""
import numba
import numpy as np

from . import meanfield_logic as _ml
from ._opaque import opaque
from .philox import philox4x32

_fill_draws = _ml.build(numba.njit, philox4x32).fill_draws
_U1 = np.uint64(1)


def _width(G):
    return -(-63 // G)


def packed_max_n(G):
    """Largest N for which a word of G patterns is exact: the extracted sum (``|.| <= 2GN``) must fit in the
    top ``63 - S`` bits, and the terms below it, at most ``2N (G-1) 2**(S-w) (1 + 2**(1-w))``, must stay under
    ``2**(S-1)``. G = 2: 2**28 - 1, 3: 174 761, 4: 2047."""
    w = _width(G)
    S = 1 + w * (G - 1)
    n = 2 ** (63 - S) // (2 * G) - 1
    while n > 0 and 4 * n * (G - 1) * (1 + 2.0 ** (1 - w)) >= 2 ** w:
        n //= 2
    return n


def packed_layout(P, N):
    """``(K, G)``: the number of words and patterns per word for P patterns of N sites, or None when no
    packing is exact (then the generic loop runs)."""
    for K in (1, 2):
        G = -(-P // K)
        if G >= 2 and G <= 4 and N <= packed_max_n(G):
            return K, G
    return None


@numba.njit(cache=True)
def packed_rows(patterns, K, G):
    """Per-site constant words for spin +1, shape (N, 4 K): ``[Q, Bp]`` of each word, then
    ``sum_mu B[mu, i] B[mu, i+1]`` (0 for the last site). A spin s_i multiplies Q and Bp by s_i and the last
    by ``s_i s_{i+1}``."""
    P, N = patterns.shape
    w = -(-63 // G)
    rows = np.zeros((N, 4 * K), np.int64)
    for i in range(N):
        for mu in range(P):
            k, g = divmod(mu, G)
            x = 2 * np.int64(patterns[mu, i])
            rows[i, 2 * k] += x << (w * (G - 1 - g))
            rows[i, 2 * k + 1] += x << (1 + w * g)
            if i + 1 < N:
                rows[i, 2 * K] += 2 * x * np.int64(patterns[mu, i + 1])
    return rows


@numba.njit(cache=True, inline="always")
def _row(rows, i, col, two):
    """``rows[i, col]`` of the flattened rows, the row length a compile-time constant (8 or 4)."""
    return rows[i * np.uint64(8 if two else 4) + np.uint64(col)]


@numba.njit(cache=True, inline="always")
def _extract(M, q, S, bias):
    """``sum_g B[g, i] m_g`` of one word (q = s_i Q_i; the multiply wraps modulo 2**64)."""
    return (np.int64(np.uint64(M) * np.uint64(q)) + bias) >> S


@numba.njit(cache=True, inline="always")
def _index(Ma, Mb, rows, i, s, S, bias, off, two):
    """Table index ``2 s_i h_i + 2PN + (s_i + 1) / 2`` of site i (unsigned: no negative-index wraparound).
    ``opaque`` stops the compiler from reassociating ``M (s Q)`` into ``(M s) Q``, two multiplies on the
    serial path."""
    x = _extract(Ma, opaque(_row(rows, i, 0, two) * s), S, bias)
    if two:
        x += _extract(Mb, opaque(_row(rows, i, 2, two) * s), S, bias)
    return np.uint64(x + off + (s >> 1))


@numba.njit(cache=True, inline="always")
def _move(Ma, Mb, rows, i, s, k, two):
    """Overlap words after site i flips (k = -1) or not (k = 0)."""
    Ma -= (_row(rows, i, 1, two) * s) & k
    if two:
        Mb -= (_row(rows, i, 3, two) * s) & k
    return Ma, Mb


@numba.njit(cache=True, inline="always")
def _pair(sp, rows, buf, table, i, Ma, Mb, S, bias, off, two):
    """Sites i, i+1: (flips, Ma, Mb). Site i+1's index moves by ``-s_i s_{i+1} d_i`` if site i flips, so
    both of its candidate thresholds are loaded while site i's is, and the one used is selected without a
    branch."""
    i1 = i + _U1
    s0 = np.int64(sp[i])
    s1 = np.int64(sp[i1])
    j0 = _index(Ma, Mb, rows, i, s0, S, bias, off, two)
    j1 = _index(Ma, Mb, rows, i1, s1, S, bias, off, two)
    u0 = np.uint64(buf[i])
    u1 = np.uint64(buf[i1])
    k0 = opaque(-np.int64(u0 < table[j0]))
    f1a = -np.int64(u1 < table[j1])
    f1b = -np.int64(u1 < table[j1 - np.uint64(_row(rows, i, 4 if two else 2, two) * (s0 * s1))])
    k1 = opaque(f1a ^ ((f1a ^ f1b) & k0))  # site i flipped (k0 = -1): f1b, else f1a
    Ma, Mb = _move(Ma, Mb, rows, i, s0, k0, two)
    Ma, Mb = _move(Ma, Mb, rows, i1, s1, k1, two)
    sp[i] = (s0 ^ k0) - k0
    sp[i1] = (s1 ^ k1) - k1
    return -(k0 + k1), Ma, Mb


@numba.njit(cache=True, inline="always")
def _pack(overlaps, c, k, G, w):
    M = np.int64(0)
    P = overlaps.shape[1]
    for g in range(G):
        if k * G + g < P:
            M += overlaps[c, k * G + g] << (1 + w * g)
    return M


@numba.njit(cache=True, inline="always")
def _unpack(M, overlaps, c, k, G, w):
    r = M >> 1  # field g is m_g, sign-extended from w bits
    P = overlaps.shape[1]
    for g in range(G):
        m = (r << (64 - w)) >> (64 - w)
        if k * G + g < P:
            overlaps[c, k * G + g] = m
        r = (r - m) >> w


@numba.njit(cache=True, inline="always")
def _chain(spins, c, rows, G, overlaps, table, buf, seed, stream, sweep0, n_sweeps, two):
    N = spins.shape[1]
    P = overlaps.shape[1]
    w = -(-63 // G)
    S = 1 + w * (G - 1)
    bias = np.int64(1) << (S - 1)
    off = 2 * P * N + 1
    Ma = _pack(overlaps, c, 0, G, w)
    Mb = _pack(overlaps, c, 1, G, w) if two else np.int64(0)
    sp = spins[c]
    acc = 0
    for t in range(n_sweeps):
        _fill_draws(buf, N, c, sweep0 + t, 0, seed, stream)
        for i in range(np.uint64(0), np.uint64(N - 1), np.uint64(2)):
            a, Ma, Mb = _pair(sp, rows, buf, table, i, Ma, Mb, S, bias, off, two)
            acc += a
        if N & 1:  # odd N: the last site alone
            i = np.uint64(N - 1)
            s = np.int64(sp[i])
            k = opaque(-np.int64(np.uint64(buf[i]) < table[_index(Ma, Mb, rows, i, s, S, bias, off, two)]))
            Ma, Mb = _move(Ma, Mb, rows, i, s, k, two)
            sp[i] = (s ^ k) - k
            acc -= k
    _unpack(Ma, overlaps, c, 0, G, w)
    if two:
        _unpack(Mb, overlaps, c, 1, G, w)
    return acc


@numba.njit(cache=True)
def packed_chain(spins, c, rows, G, overlaps, table, buf, seed, stream, sweep0, n_sweeps):
    """All sweeps of chain c; ``rows`` from :func:`packed_rows` (K = rows.shape[1] // 4 words); ``buf`` holds
    N + 3 uint32. Returns the number of flips."""
    flat = rows.reshape(rows.size)
    if rows.shape[1] == 8:  # two words: a compile-time constant in each inlined copy
        return _chain(spins, c, flat, G, overlaps, table, buf, seed, stream, sweep0, n_sweeps, True)
    return _chain(spins, c, flat, G, overlaps, table, buf, seed, stream, sweep0, n_sweeps, False)
