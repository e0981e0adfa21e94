"""Exhaustive enumeration of q-state models with pairwise couplings (Numba, CPU).

Model: ``x_i in 0..q-1``, level ``L(x) = -sum_{i<j} K_ij delta(x_i, x_j) - sum_i g[i, x_i]`` (the caller maps
its energy to ``E = unit * L + const``; Ising spins are q = 2 with ``K = 2J``, ``g[i] = (-h_i, h_i)``). K is
given as a symmetric CSR graph (``indptr``, ``indices``, ``weights``).

Order: the ``q**N`` states are cut into chunks of ``q**c`` states that share their high digits (sites
``c..N-1``, in odometer order of the chunk index); inside a chunk the low c digits follow the reflected q-ary
Gray code, so one site changes per step and the level is updated from maintained local fields: O(degree)
per step, or O(1) for "uniform" (all-to-all, equal K, site-independent g) models, whose level depends on
the state counts only. The digit changed at step m -> m+1 is the number of trailing zeros of m+1 in base q,
and every aligned run of ``q**k`` steps keeps the digits ``k..N-1`` fixed: that is what lets the entropy of
the high sites be accumulated block by block without storing the distribution.

Work is split over a fixed number of groups of consecutive chunks (``prange``), each with its own
accumulators, combined in a fixed order: results do not depend on the number of threads.

Two kernels share the walk: :func:`level_histogram` counts states per (level, number of sites in the
reference state), integer and temperature-free (integer levels only); :func:`weighted_pass` accumulates
Boltzmann weights (``wtab[L - L_lo]`` for integer levels, ``exp(-beta_u (L - L_ref))`` otherwise) with
optional marginal table of the low sites, block entropies of the high sites, or the full table.
"""
import numba
import numpy as np
from numba import prange
from numba.cpython.unsafe.numbers import trailing_zeros

__all__ = ["level_histogram", "min_level", "weighted_pass"]


# Walk modes: the general q-state update, and three special cases whose steps are a few instructions. Kernels
# take the mode as the length of a tuple ``kind = (0,) * mode``: a tuple's length is part of its type, so the
# mode is a constant in the compiled code and each mode gets its own loop without the others' branches (an
# integer argument, even ``numba.literally``, left them in and made the walk 3-10 times slower).
GENERIC, BINARY, UNIFORM_BINARY, UNIFORM = 0, 1, 2, 3


@numba.njit(cache=True, inline="always")
def _tz_q(r, q):
    t = 0
    while r % q == 0:
        r //= q
        t += 1
    return t


@numba.njit(cache=True, inline="always")
def _tz(r, q, mode):
    """Trailing zeros of r >= 1 in base q: the digit that changes at Gray step r."""
    if mode == GENERIC:
        return _tz_q(r, q)
    if mode == UNIFORM:
        return _tz_q(r, q)
    return np.int64(trailing_zeros(np.uint64(r)))


@numba.njit(cache=True)
def _init_chunk(chunk, c, N, q, ref, indptr, indices, K, g, lv, x, o, F, counts, mode):
    """State at the start of ``chunk``: low c digits 0 (directions +1), high digits from the chunk index.
    Fills the local fields and returns ``(level, n_ref)``. Local fields: ``F[j q + a] = sum_k K_jk [x_k = a]``
    (GENERIC); ``F[j] = sum_k K_jk (2 x_k - 1) + g[j, 1] - g[j, 0]`` (BINARY: a flip of j from a to
    b = 1 - a changes the level by ``-(2b - 1) F[j]``); state counts (UNIFORM); ``lv[n_ref]`` (UNIFORM_BINARY)."""
    r = chunk
    for i in range(N):
        o[i] = 1
        if i < c:
            x[i] = 0
        else:
            x[i] = r % q
            r //= q
    level = g[0, 0] * 0  # the dtype of the model (int64 levels or float64)
    n_ref = 0
    counts[:] = 0
    for i in range(N):
        counts[x[i]] += 1
    if mode == UNIFORM_BINARY:
        return lv[counts[ref]], counts[ref]
    if mode == UNIFORM:
        for a in range(q):
            level -= g[0, a] * counts[a]
            if len(K):
                level -= K[0] * (counts[a] * (counts[a] - 1) // 2)
        return level, counts[ref]
    F[:] = 0
    for j in range(N):
        a = x[j]
        level -= g[j, a]
        n_ref += a == ref
        for e in range(indptr[j], indptr[j + 1]):
            k = indices[e]
            if mode == BINARY:
                F[j] += K[e] * (2 * x[k] - 1)
            else:
                F[j * q + x[k]] += K[e]
            if k > j and x[k] == a:
                level -= K[e]
        if mode == BINARY:
            F[j] += g[j, 1] - g[j, 0]
    return level, n_ref


@numba.njit(cache=True, inline="always")
def _step(t, m, q, ref, indptr, indices, K, g, lv, x, o, F, counts, level, n_ref, mode):
    """Step m of the chunk: move digit t one step along its direction; returns ``(level, n_ref, old, new)``.
    Binary: the new value of bit t is bit t of the Gray code ``m ^ (m >> 1)`` (no state kept in memory)."""
    if mode == UNIFORM_BINARY:
        b = ((m ^ (m >> 1)) >> t) & 1
        n_ref += 2 * (b == ref) - 1
        return lv[np.uint64(n_ref)], n_ref, 1 - b, b
    if mode == BINARY:
        b = ((m ^ (m >> 1)) >> t) & 1
        n_ref += 2 * (b == ref) - 1
        sgn = 2 * b - 1
        level -= sgn * F[t]
        for e in range(indptr[t], indptr[t + 1]):
            F[indices[e]] += 2 * sgn * K[e]
        return level, n_ref, 1 - b, b
    a = x[t]
    b = a + o[t]
    x[t] = b
    if b == 0 or b == q - 1:
        o[t] = -o[t]
    if mode == UNIFORM:
        level += K[0] * ((counts[a] - 1) - counts[b]) - (g[0, b] - g[0, a])
        counts[a] -= 1
        counts[b] += 1
    else:
        level -= (F[t * q + b] - F[t * q + a]) + (g[t, b] - g[t, a])
        for e in range(indptr[t], indptr[t + 1]):
            j = indices[e] * q
            F[j + a] -= K[e]
            F[j + b] += K[e]
    n_ref += (b == ref) - (a == ref)
    return level, n_ref, a, b


@numba.njit(cache=True)
def _group_bounds(grp, n_groups, n_chunks):
    return grp * n_chunks // n_groups, (grp + 1) * n_chunks // n_groups


_LOW_BITS = 8


@numba.njit(cache=True)
def _low_tables(n_low, ref, indptr, indices, K):
    """For the low sites 0..n_low-1 and each subset Y (bitmask) of them: ``pair[Y] = sum_{i<j in Y} 2 K_ij``
    and ``dn[Y]``, the change of n_ref when the sites of Y go from 0 to 1."""
    n = 1 << n_low
    pair = np.zeros(n, K.dtype)
    dn = np.zeros(n, np.int64)
    for Y in range(n):
        for i in range(n_low):
            if Y >> i & 1:
                dn[Y] += 1 if ref == 1 else -1
                for e in range(indptr[i], indptr[i + 1]):
                    j = indices[e]
                    if j < i and Y >> j & 1:
                        pair[Y] += 2 * K[e]
    return pair, dn


@numba.njit(cache=True, inline="always")
def _subset_sums(F, n_low, S):
    """``S[Y] = sum_{i in Y} F[i]`` for every subset Y of the low sites, in ``2**n_low`` adds."""
    S[0] = 0
    for i in range(n_low):
        fi = F[i]
        half = 1 << i
        for Y in range(half):
            S[Y + half] = S[Y] + fi


@numba.njit(cache=True, inline="always")
def _next_block(u, n_low, ref, indptr, indices, K, g, lv, x, o, F, counts, level, n_ref, S):
    """Block u of a binary chunk: for u > 0 flip the high bit that the Gray code of ``u << n_low`` changes
    (low bits stay 0), then fill ``S[Y] = sum_{i in Y} F_i``; returns ``(level, n_ref)`` of the block's first
    state."""
    if u > 0:
        level, n_ref, a, b = _step(n_low + np.int64(trailing_zeros(np.uint64(u))), u << n_low, 2, ref, indptr,
                                   indices, K, g, lv, x, o, F, counts, level, n_ref, BINARY)
    _subset_sums(F, n_low, S)
    return level, n_ref


@numba.njit(cache=True, inline="always")
def _binary_blocks(c, n_low, ref, indptr, indices, K, F, pair, dn, S, hist, level, n_ref, L_lo, width):
    """Histogram one chunk of a binary model by blocks of its ``2**n_low`` low configurations: the outer Gray
    walk moves bits n_low..c-1 (low bits 0); the levels of a block are then ``level - sum_{i in Y} F_i -
    pair[Y]`` (flipping i from 0 to 1 costs ``-F_i``, and each earlier flipped neighbour j adds ``2 K_ij`` to
    it), a subset-sum table built in ``2**n_low`` adds: no serial dependency between states."""
    nb = 1 << n_low
    for u in range(1 << (c - n_low)):
        level, n_ref = _next_block(u, n_low, ref, indptr, indices, K, K, K, K, K, F, K, level, n_ref, S)
        base = (level - L_lo) * width + n_ref
        for Y in range(nb):
            hist[np.uint64(base - (S[Y] + pair[Y]) * width + dn[Y])] += 1


@numba.njit(parallel=True, cache=True)
def level_histogram(N, q, c, ref, indptr, indices, K, g, lv, kind, L_lo, n_levels, n_groups):
    """Number of states per (level - L_lo, n_ref), summed over groups: int64 array (n_levels, N + 1).
    Integer K and g only."""
    mode = len(kind)  # a compile-time constant: each kind of walk compiles to its own loop
    n_chunks = q ** (N - c)
    chunk_len = q ** c
    width = N + 1
    out = np.zeros((n_groups, n_levels * width), np.int64)
    n_low = min(c, _LOW_BITS)
    for grp in prange(n_groups):
        x = np.zeros(N, np.int64)
        o = np.ones(N, np.int64)
        F = np.zeros(N * q, K.dtype)
        counts = np.zeros(q, np.int64)
        hist = out[grp]
        c0, c1 = _group_bounds(grp, n_groups, n_chunks)
        if mode == BINARY:
            pair, dn = _low_tables(n_low, ref, indptr, indices, K)
            S = np.zeros(1 << n_low, K.dtype)
        for chunk in range(c0, c1):
            level, n_ref = _init_chunk(chunk, c, N, q, ref, indptr, indices, K, g, lv, x, o, F, counts, mode)
            if mode == BINARY:
                _binary_blocks(c, n_low, ref, indptr, indices, K, F, pair, dn, S, hist, level, n_ref, L_lo,
                               width)
                continue
            for m in range(1, chunk_len):
                hist[np.uint64((level - L_lo) * width + n_ref)] += 1
                level, n_ref, a, b = _step(_tz(m, q, mode), m, q, ref, indptr, indices, K, g, lv, x, o, F, counts,
                                           level, n_ref, mode)
            hist[np.uint64((level - L_lo) * width + n_ref)] += 1
    return out.sum(axis=0).reshape(n_levels, width)


@numba.njit(parallel=True, cache=True)
def min_level(N, q, c, ref, indptr, indices, K, g, lv, kind, n_groups):
    """Lowest level over all states (the reference of float-level weights)."""
    mode = len(kind)  # a compile-time constant: each kind of walk compiles to its own loop
    n_chunks = q ** (N - c)
    chunk_len = q ** c
    out = np.zeros(n_groups, K.dtype)
    for grp in prange(n_groups):
        x = np.zeros(N, np.int64)
        o = np.ones(N, np.int64)
        F = np.zeros(N * q, K.dtype)
        counts = np.zeros(q, np.int64)
        c0, c1 = _group_bounds(grp, n_groups, n_chunks)
        best = _init_chunk(c0, c, N, q, ref, indptr, indices, K, g, lv, x, o, F, counts, mode)[0]
        bits = min(c, _LOW_BITS)
        pair, dn = _low_tables(bits if mode == BINARY else 0, ref, indptr, indices, K)
        Sb = np.zeros(1 << bits, K.dtype)
        for chunk in range(c0, c1):
            level, n_ref = _init_chunk(chunk, c, N, q, ref, indptr, indices, K, g, lv, x, o, F, counts, mode)
            best = min(best, level)
            if mode == BINARY:  # by blocks of the low sites, as level_histogram
                for u in range(1 << (c - bits)):
                    level, n_ref = _next_block(u, bits, ref, indptr, indices, K, g, lv, x, o, F, counts, level,
                                               n_ref, Sb)
                    for Y in range(1 << bits):
                        best = min(best, level - (Sb[Y] + pair[Y]))
                continue
            for m in range(1, chunk_len):
                level, n_ref, a, b = _step(_tz(m, q, mode), m, q, ref, indptr, indices, K, g, lv, x, o, F, counts,
                                           level, n_ref, mode)
                best = min(best, level)
        out[grp] = best
    return out.min()


@numba.njit(cache=True, inline="always")
def _weight(level, wtab, L_lo, beta_u, L_ref, use_table):
    if use_table:
        return wtab[np.int64(level) - L_lo]
    return np.exp(-beta_u * (level - L_ref))


@numba.njit(parallel=True, cache=True)
def weighted_pass(N, q, c, ref, indptr, indices, K, g, lv, kind, wtab, L_lo, beta_u, L_ref, n_low, track,
                  want_full, n_groups):
    """Boltzmann-weighted sums over all states, weight ``w = wtab[L - L_lo]`` if ``len(wtab)`` else
    ``exp(-beta_u (L - L_ref))``.

    Returns ``(Z, sum w L, sum w L**2, hist_ref, low_table, S_in, chunk_totals, full)``, the first six per
    group (first axis):

    * ``hist_ref[n]``: weight of the states with n sites in the reference state;
    * ``low_table[y]``: marginal weight of the low ``n_low`` digits, ``y = sum_{i < n_low} x_i q**i``;
    * ``S_in[k]`` for ``track[k]`` and ``1 <= k <= c``: ``sum_B W_B log W_B`` over the blocks of digits
      ``k..N-1`` (their marginal weights); ``chunk_totals`` gives the levels k > c to the caller;
    * ``full[n]`` (if ``want_full``): ``log w`` of state n (plain index ``sum x_i q**i``).
    """
    mode = len(kind)  # a compile-time constant: each kind of walk compiles to its own loop
    n_chunks = q ** (N - c)
    chunk_len = q ** c
    use_table = len(wtab) > 0
    Z = np.zeros(n_groups)
    ZL = np.zeros(n_groups)
    ZL2 = np.zeros(n_groups)
    hist = np.zeros((n_groups, N + 1))
    low = np.zeros((n_groups, q ** n_low))
    S = np.zeros((n_groups, c + 1))
    totals = np.zeros(n_chunks)
    full = np.zeros(q ** N if want_full else 0)
    for grp in prange(n_groups):
        x = np.zeros(N, np.int64)
        o = np.ones(N, np.int64)
        F = np.zeros(N * q, K.dtype)
        counts = np.zeros(q, np.int64)
        acc = np.zeros(c + 2)
        powers = np.ones(N, np.int64)
        for i in range(1, N):
            powers[i] = powers[i - 1] * q
        c0, c1 = _group_bounds(grp, n_groups, n_chunks)
        # thermodynamics only, binary: by blocks of the low sites (as level_histogram), no walk state per state
        blocks = mode == BINARY and n_low == 0 and not want_full and not track.any()
        bits = min(c, _LOW_BITS)
        pair, dn = _low_tables(bits if blocks else 0, ref, indptr, indices, K)
        Sb = np.zeros(1 << bits, K.dtype)
        for chunk in range(c0, c1):
            level, n_ref = _init_chunk(chunk, c, N, q, ref, indptr, indices, K, g, lv, x, o, F, counts, mode)
            if blocks:
                z = 0.0
                zl = 0.0
                zl2 = 0.0
                for u in range(1 << (c - bits)):
                    level, n_ref = _next_block(u, bits, ref, indptr, indices, K, g, lv, x, o, F, counts, level,
                                               n_ref, Sb)
                    for Y in range(1 << bits):
                        lY = level - (Sb[Y] + pair[Y])
                        w = _weight(lY, wtab, L_lo, beta_u, L_ref, use_table)
                        lf = np.float64(lY)
                        z += w
                        zl += w * lf
                        zl2 += w * lf * lf
                        hist[grp, n_ref + dn[Y]] += w
                totals[chunk] = z
                Z[grp] += z
                ZL[grp] += zl
                ZL2[grp] += zl2
                continue
            y = 0
            idx = 0
            for i in range(N):
                idx += x[i] * powers[i]
                if i < n_low:
                    y += x[i] * powers[i]
            z = 0.0
            zl = 0.0
            zl2 = 0.0
            for m in range(1, chunk_len + 1):
                w = _weight(level, wtab, L_lo, beta_u, L_ref, use_table)
                lf = np.float64(level)
                z += w
                zl += w * lf
                zl2 += w * lf * lf
                hist[grp, n_ref] += w
                if n_low > 0:
                    low[grp, y] += w
                if want_full:  # log w (the table holds exactly exp of this)
                    full[idx] = -beta_u * (level - L_ref)
                acc[1] += w
                t = _tz(m, q, mode)  # the digit that changes next; levels 1..t of blocks are complete
                for k in range(1, min(t, c) + 1):
                    wk = acc[k]
                    if track[k] and wk > 0:
                        S[grp, k] += wk * np.log(wk)
                    acc[k + 1] += wk
                    acc[k] = 0.0
                if m == chunk_len:
                    break
                level, n_ref, a, b = _step(t, m, q, ref, indptr, indices, K, g, lv, x, o, F, counts, level, n_ref,
                                           mode)
                idx += (b - a) * powers[t]
                if t < n_low:
                    y += (b - a) * powers[t]
            totals[chunk] = acc[c + 1] if c > 0 else acc[1]
            acc[:] = 0.0
            Z[grp] += z
            ZL[grp] += zl
            ZL2[grp] += zl2
    # per group: the caller combines them in a fixed order (a sum here would become a parallel reduction whose
    # order depends on the number of threads)
    return Z, ZL, ZL2, hist, low, S, totals, full
