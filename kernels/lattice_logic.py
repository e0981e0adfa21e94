"""Per-site and per-group update logic for 2D lattice models, written once for every Numba backend.

:func:`build` compiles the plain-Python functions below with a given decorator: ``numba.njit`` for the
CPU kernels (``lattice_cpu.py``) and ``numba.cuda.jit(device=True)`` for the Numba-CUDA kernels
(``lattice_cuda.py``). The CUDA C version (``cuda/lattice.cu``) follows the same steps line by line.

Conventions
-----------
* Spins are ``spins[replica, row, col]`` on an ``L x M`` periodic square lattice: int8 +-1 for Ising,
  uint8 states ``0..q-1`` for Potts.
* Energies: Ising ``E = -sum_<ij> J_ij s_i s_j - h sum_i s_i``; Potts ``E = -J sum_<ij> delta(s_i, s_j)
  - h sum_i delta(s_i, 0)``.
* Checkerboard: colour ``c = (row + col) % 2``; within a colour, site ``k = (row * M + col) // 2``
  (``M`` even). A *group* is four consecutive sites ``k = 4g .. 4g+3`` of one colour; one Philox call
  per draw serves the whole group (see ``philox.py`` for the counter layout).
* Integer-threshold tables: a move is accepted when the uint32 draw ``u < T`` (``T = 2**32``: always).
  Ising table index ``5 * (s + 1) / 2 + (S + 4) / 2`` with ``S`` the sum of the four neighbours; Potts
  Metropolis index ``3 * (n_old - n_new + 4) + (d_old - d_new + 1)`` with ``n`` the number of
  neighbours in a state and ``d = delta(state, 0)``.
"""
import sys
from types import SimpleNamespace

import math

import numpy as np

_ONE64 = np.uint64(1)
_BIG_ENDIAN = int(sys.byteorder == "big")  # which byte of a uint16 pair is the even column


def build(jit, philox4x32):
    """Compile the lattice logic with decorator ``jit`` on top of the matching ``philox4x32``."""

    @jit
    def up(row, L):
        return L - 1 if row == 0 else row - 1

    @jit
    def down(row, L):
        return 0 if row == L - 1 else row + 1

    @jit
    def neighbour_sum(spins, r, row, col, L, M):
        """Sum of the four nearest neighbours (int) of an int8 +-1 lattice."""
        return (np.int64(spins[r, up(row, L), col]) + np.int64(spins[r, down(row, L), col])
                + np.int64(spins[r, row, up(col, M)]) + np.int64(spins[r, row, down(col, M)]))

    @jit
    def ising_table_index(s, nsum):
        """Index into a 10-entry Ising threshold table for spin ``s`` and neighbour sum ``nsum``."""
        return 5 * ((np.int64(s) + 1) >> 1) + ((nsum + 4) >> 1)

    @jit
    def ising_site(spins, r, row, col, L, M, table, u):
        """Flip spin (row, col) when ``u < table[index]``; returns 1 if flipped."""
        s = spins[r, row, col]
        if np.uint64(u) < table[ising_table_index(s, neighbour_sum(spins, r, row, col, L, M))]:
            spins[r, row, col] = -s
            return 1
        return 0

    @jit
    def local_field_quenched(spins, r, row, col, L, M, j_right, j_down, h):
        """sum_j J_ij s_j + h with per-bond couplings: ``j_right[row, col]`` couples (row, col)-(row, col+1)
        and ``j_down[row, col]`` couples (row, col)-(row+1, col)."""
        lc = up(col, M)
        ur = up(row, L)
        return (j_right[row, col] * spins[r, row, down(col, M)] + j_right[row, lc] * spins[r, row, lc]
                + j_down[row, col] * spins[r, down(row, L), col] + j_down[ur, col] * spins[r, ur, col] + h)

    @jit
    def threshold_from_probability(p):
        """uint32 acceptance threshold ``floor(p * 2**32)``, ``2**32`` for ``p >= 1``."""
        if p >= 1.0:
            return np.uint64(4294967296)
        if p <= 0.0:
            return np.uint64(0)
        return np.uint64(p * 4294967296.0)

    @jit
    def float_threshold(delta_e, beta, heatbath):
        """Threshold of a flip costing ``delta_e``: Metropolis ``min(1, e^{-beta dE})`` or heat-bath
        ``1 / (1 + e^{beta dE})``; ``math.exp`` (not ``np.exp``) so that it also lowers for CUDA."""
        if heatbath:
            x = beta * delta_e
            p = 0.0 if x > 700.0 else 1.0 / (1.0 + math.exp(x))  # guard exp's overflow
        elif delta_e <= 0.0:
            p = 1.0
        else:
            p = math.exp(-beta * delta_e)
        return threshold_from_probability(p)

    @jit
    def quenched_site(spins, r, row, col, L, M, j_right, j_down, h, beta, heatbath, u):
        """Metropolis or heat-bath flip with per-bond couplings (float thresholds)."""
        s = spins[r, row, col]
        delta_e = 2.0 * s * local_field_quenched(spins, r, row, col, L, M, j_right, j_down, h)
        if np.uint64(u) < float_threshold(delta_e, beta, heatbath):
            spins[r, row, col] = -s
            return 1
        return 0

    @jit
    def potts_count(spins, r, row, col, L, M, state):
        """Number of the four neighbours in Potts state ``state``."""
        return (np.int64(spins[r, up(row, L), col] == state) + np.int64(spins[r, down(row, L), col] == state)
                + np.int64(spins[r, row, up(col, M)] == state) + np.int64(spins[r, row, down(col, M)] == state))

    @jit
    def potts_metropolis_site(spins, r, row, col, L, M, q, table, u_propose, u_accept):
        """Propose one of the q-1 other states uniformly, accept with the integer threshold table."""
        old = np.int64(spins[r, row, col])
        new = (old + 1 + np.int64((np.uint64(u_propose) * np.uint64(q - 1)) >> np.uint64(32))) % q
        n_old = potts_count(spins, r, row, col, L, M, old)
        n_new = potts_count(spins, r, row, col, L, M, new)
        d_old = np.int64(old == 0)
        d_new = np.int64(new == 0)
        if np.uint64(u_accept) < table[3 * (n_old - n_new + 4) + (d_old - d_new + 1)]:
            spins[r, row, col] = new
            return 1
        return 0

    @jit
    def potts_heatbath_site(spins, r, row, col, L, M, q, weights, u):
        """Draw the new state from its conditional distribution; ``weights[2 n + d]`` is the Boltzmann
        factor of a state with ``n`` equal neighbours and ``d = delta(state, 0)``."""
        total = 0.0
        for state in range(q):
            total += weights[2 * potts_count(spins, r, row, col, L, M, state) + np.int64(state == 0)]
        target = (np.float64(u) * 2.0 ** -32) * total
        old = spins[r, row, col]
        acc = 0.0
        new = q - 1
        for state in range(q):
            acc += weights[2 * potts_count(spins, r, row, col, L, M, state) + np.int64(state == 0)]
            if target < acc:
                new = state
                break
        spins[r, row, col] = new
        return np.int64(new != old)

    @jit
    def group_site(g, w, colour, L, M):
        """(row, col) of site k = 4 g + w of colour ``colour``; row = -1 past the last site."""
        half = M // 2
        k = 4 * g + w
        if k >= L * half:
            return -1, -1
        row = k // half
        return row, 2 * (k - row * half) + ((row + colour) & 1)

    @jit
    def select_word(x0, x1, x2, x3, w):
        if w == 0:
            return x0
        if w == 1:
            return x1
        if w == 2:
            return x2
        return x3

    @jit
    def fill_row_draws(buf, row, half, r, sweep, colour, seed, stream):
        """Draw word 0 of every site of one colour in one row into ``buf`` (a straight loop over Philox calls
        that the compiler vectorises); returns the index in ``buf`` of the row's first site."""
        k0 = row * half
        g0 = k0 >> 2
        n_calls = ((k0 + half - 1) >> 2) - g0 + 1
        for i in range(n_calls):
            x0, x1, x2, x3 = philox4x32(g0 + i, r, sweep, colour, seed, stream)
            buf[4 * i] = np.uint32(x0)
            buf[4 * i + 1] = np.uint32(x1)
            buf[4 * i + 2] = np.uint32(x2)
            buf[4 * i + 3] = np.uint32(x3)
        return k0 & 3

    # The CPU row update works on the lattice viewed as uint16 pairs (columns 2j, 2j+1): the sites of one
    # colour are one byte of every pair of a row, so all loads are contiguous, and every value is cast back to
    # 8 or 32 bits after each operation (Numba widens integer arithmetic to 64 bits): LLVM then holds 16 sites
    # in one AVX-512 register. ``odd`` (the column parity) is a closure constant, so the shifts are constants
    # too. The threshold is not looked up (that would be a vector gather): ``u < T[k]`` is decided by ranks,
    # ``level(u) < rank[k]`` (see :func:`ising_rank_tables`).
    def _half_row(odd):
        sh = np.uint16(8 * (odd ^ _BIG_ENDIAN))  # the updated sites: low byte of a pair for even columns
        osh = np.uint16(8) - sh                  # their row neighbours, of the other colour

        @jit
        def half_row(s16, r, row, ru, rd, half, draws, first, ext, thresholds, ranks):
            """Update the sites of column parity ``odd`` in row ``row`` with ``draws[first + j]``. ``ext``
            receives a copy of the row with its wrap-around pairs at both ends (reads from the copy, writes
            to the lattice: no loop-carried dependence, no edge case in the loop). Returns the flip count."""
            one = np.uint64(1)
            ext[0] = s16[r, row, half - 1]
            ext[half + 1] = s16[r, row, 0]
            for i in range(half):
                ext[np.uint64(i) + one] = s16[r, row, np.uint64(i)]
            acc = np.int32(0)
            for i in range(half):
                j = np.uint64(i)
                pair = ext[j + one]
                left = ext[j] if odd == 0 else pair  # column 2j + odd - 1
                right = pair if odd == 0 else ext[j + np.uint64(2)]  # column 2j + odd + 1
                s = np.int8(pair >> sh)
                # Sum of four +-1 bytes modulo 256, then sign-extended: exact since |sum| <= 4.
                vertical = np.uint8(np.uint8(s16[r, ru, j] >> sh) + np.uint8(s16[r, rd, j] >> sh))
                nsum = np.int32(np.int8(np.uint8(np.uint8(left >> osh) + np.uint8(right >> osh)) + vertical))
                u = draws[np.uint64(first) + j]
                level = np.int32(0)
                for t in thresholds:
                    level = np.int32(level + np.int32(u > t))
                packed = ranks[1] if s > 0 else ranks[0]
                # rank[k]: the 4-bit field e = (nsum + 4) / 2 of the packed ranks of spin s
                rank = np.int32((packed >> (np.uint32(np.int32(2) * nsum + np.int32(8)) & np.uint32(31)))
                                & np.uint32(15))
                flip = level < rank
                s16[r, row, j] = pair ^ np.uint16(np.uint16(0xFE if flip else 0) << sh)  # 0xFE ^ s = -s
                acc = np.int32(acc + np.int32(flip))
            return acc

        return half_row

    half_row_even = _half_row(0)
    half_row_odd = _half_row(1)

    @jit
    def ising_rows(s16, begin, end, colour, thresholds, ranks, seed, stream, sweep, draws, ext):
        """Update the colour-``colour`` sites of rows ``begin .. end - 1`` of the flattened lattice (row
        ``replica * L + row``) with the draws of :func:`ising_group` (same counters); returns the flip count.

        ``s16`` is the int8 lattice viewed as uint16, shape ``(n_replicas, L, M // 2)``; ``thresholds`` and
        ``ranks`` come from :func:`ising_rank_tables`; scratch: ``draws`` uint32 of length ``M // 2 + 8`` and
        ``ext`` uint16 of length ``M // 2 + 2``. One call covers many rows: per-call costs (reference counts
        of the array arguments) stay out of the row loop.
        """
        L = s16.shape[1]
        half = s16.shape[2]
        acc = 0
        r = begin // L
        row = begin - r * L
        for _ in range(begin, end):
            first = fill_row_draws(draws, row, half, r, sweep, colour, seed, stream)
            ru = up(row, L)
            rd = down(row, L)
            if (row + colour) & 1:
                acc += half_row_odd(s16, r, row, ru, rd, half, draws, first, ext, thresholds, ranks)
            else:
                acc += half_row_even(s16, r, row, ru, rd, half, draws, first, ext, thresholds, ranks)
            row += 1
            if row == L:
                row = 0
                r += 1
        return acc

    # The group updates: one Philox call per draw serves four same-colour sites.
    @jit
    def ising_group(spins, r, g, colour, L, M, table, seed, stream, sweep):
        x0, x1, x2, x3 = philox4x32(g, r, sweep, colour, seed, stream)
        accepted = 0
        for w in range(4):
            row, col = group_site(g, w, colour, L, M)
            if row >= 0:
                accepted += ising_site(spins, r, row, col, L, M, table, select_word(x0, x1, x2, x3, w))
        return accepted

    @jit
    def quenched_group(spins, r, g, colour, L, M, j_right, j_down, h, beta, heatbath, seed, stream, sweep):
        x0, x1, x2, x3 = philox4x32(g, r, sweep, colour, seed, stream)
        accepted = 0
        for w in range(4):
            row, col = group_site(g, w, colour, L, M)
            if row >= 0:
                accepted += quenched_site(spins, r, row, col, L, M, j_right, j_down, h, beta, heatbath,
                                          select_word(x0, x1, x2, x3, w))
        return accepted

    @jit
    def potts_group(spins, r, g, colour, L, M, q, table, weights, heatbath, seed, stream, sweep):
        x0, x1, x2, x3 = philox4x32(g, r, sweep, colour, seed, stream)        # draw 0
        y0, y1, y2, y3 = philox4x32(g, r, sweep, 2 + colour, seed, stream)    # draw 1
        accepted = 0
        for w in range(4):
            row, col = group_site(g, w, colour, L, M)
            if row < 0:
                continue
            u0 = select_word(x0, x1, x2, x3, w)
            if heatbath:
                accepted += potts_heatbath_site(spins, r, row, col, L, M, q, weights, u0)
            else:
                accepted += potts_metropolis_site(spins, r, row, col, L, M, q, table, u0,
                                                  select_word(y0, y1, y2, y3, w))
        return accepted

    return SimpleNamespace(
        up=up, down=down, neighbour_sum=neighbour_sum, ising_table_index=ising_table_index,
        ising_site=ising_site, local_field_quenched=local_field_quenched,
        threshold_from_probability=threshold_from_probability, float_threshold=float_threshold,
        quenched_site=quenched_site,
        potts_count=potts_count, potts_metropolis_site=potts_metropolis_site,
        potts_heatbath_site=potts_heatbath_site, group_site=group_site, select_word=select_word,
        ising_group=ising_group, ising_rows=ising_rows, fill_row_draws=fill_row_draws,
        half_row_even=half_row_even, half_row_odd=half_row_odd,
        quenched_group=quenched_group, potts_group=potts_group,
    )


# ----------------------------------------------------------------------------------------------
# Host-side tables (NumPy; shared by every backend so that thresholds are identical everywhere).

_TWO32 = 2 ** 32


def probability_to_threshold(p):
    """uint64 thresholds ``floor(p * 2**32)`` (``2**32`` where ``p >= 1``) for an array of probabilities."""
    p = np.asarray(p, dtype=np.float64)
    t = np.floor(np.clip(p, 0.0, 1.0) * float(_TWO32)).astype(np.uint64)
    t[p >= 1.0] = np.uint64(_TWO32)
    return t


def ising_flip_table(beta, J, h, heatbath):
    """10 flip thresholds indexed by ``5 * (s + 1) / 2 + (S + 4) / 2`` (see module docstring)."""
    s = np.repeat([-1.0, 1.0], 5)
    nsum = np.tile(np.arange(-4.0, 5.0, 2.0), 2)
    delta_e = 2.0 * s * (J * nsum + h)
    if heatbath:
        p = 0.5 * (1.0 - np.tanh(0.5 * beta * delta_e))  # 1 / (1 + exp(beta dE)), overflow-free
    else:
        p = np.exp(-beta * np.maximum(delta_e, 0.0))
    return probability_to_threshold(p)


def ising_rank_tables(table):
    """The Ising thresholds in the form the CPU row kernel compares: ``(thresholds, ranks)``.

    ``u < T[k]`` (uint32 ``u``, ``0 <= T <= 2**32``) is decided without looking ``T[k]`` up:
    with ``t_1 < ... < t_D`` the distinct entries strictly between 0 and ``2**32``,
    ``level(u) = #{i : t_i <= u}`` and ``rank[k] = #{i : t_i <= T[k]}`` (0 for ``T = 0``, ``D + 1`` for
    ``T = 2**32``), ``u < T[k]`` if and only if ``level(u) < rank[k]``.

    Returns
    -------
    thresholds : tuple of numpy.uint32
        ``t_i - 1`` (the kernel counts ``u > t_i - 1``), padded with ``2**32 - 1`` (never counted) to 2, 5
        or 10 entries: one compiled kernel per length, the shortest for Metropolis at ``h = 0``.
    ranks : tuple of two numpy.uint32
        ``rank[5 s' + e]`` in bits ``4e .. 4e + 3`` of ``ranks[s']``, with ``s' = (s + 1) / 2`` and
        ``e = (S + 4) / 2`` (the index of :func:`ising_flip_table`).
    """
    T = np.asarray(table, np.uint64)
    t = np.unique(T[(T > 0) & (T < _TWO32)])
    rank = np.searchsorted(t, T, side="right")
    rank[T == 0] = 0
    rank[T >= _TWO32] = len(t) + 1
    n = next(n for n in (2, 5, 10) if n >= len(t))
    thresholds = np.full(n, _TWO32 - 1, np.uint32)
    thresholds[:len(t)] = t - 1
    ranks = tuple(np.uint32(sum(int(rank[5 * sp + e]) << (4 * e) for e in range(5))) for sp in range(2))
    return tuple(thresholds), ranks


def potts_metropolis_table(beta, J, h):
    """27 acceptance thresholds indexed by ``3 * (n_old - n_new + 4) + (d_old - d_new + 1)``."""
    dn = np.repeat(np.arange(-4, 5), 3).astype(np.float64)      # n_old - n_new
    dd = np.tile(np.arange(-1, 2), 9).astype(np.float64)        # d_old - d_new
    delta_e = J * dn + h * dd
    return probability_to_threshold(np.exp(-beta * np.maximum(delta_e, 0.0)))


def potts_heatbath_weights(beta, J, h):
    """10 Boltzmann factors ``exp(beta (J n + h d) - max)`` indexed by ``2 n + d``."""
    n = np.repeat(np.arange(5), 2).astype(np.float64)
    d = np.tile(np.arange(2), 5).astype(np.float64)
    log_w = beta * (J * n + h * d)
    return np.exp(log_w - log_w.max())
