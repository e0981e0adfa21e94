"""Per-site update logic for fully connected ("mean-field") and graph models, written once for every backend.

:func:`build` compiles the plain-Python functions below with a given decorator: ``numba.njit`` for the CPU
kernels (``meanfield_cpu.py``) and ``numba.cuda.jit(device=True)`` for the Numba-CUDA kernels
(``meanfield_cuda.py``). The host-side argument checks and threshold tables at the bottom are NumPy and
shared by both, so every backend raises the same errors and integer models give bit-identical trajectories.

Models and maintained order parameters
--------------------------------------
* Low rank (Hopfield / Curie-Weiss), spins ``s`` int8 +-1 of shape (n_chains, N), patterns ``xi`` int8 +-1
  of shape (P, N): ``E = -(J / 2N) sum_mu M_mu**2 - h sum_i s_i`` with overlaps ``M_mu = xi^mu . s`` kept
  exactly in int64 (the self-coupling is included: it only adds the constant ``-J P / 2``). Flipping ``s_i``
  changes the energy by ``dE = (2J / N) (x - P) + 2 h s_i`` with the integer ``x = s_i sum_mu xi_i^mu M_mu``
  in ``[-PN, PN]``, so the acceptance threshold is a table lookup at index ``2 (x + PN) + (s_i + 1) / 2``.
* Mean-field Potts, states uint8 ``0..q-1``: ``E = -(J / 2N) sum_k n_k**2 - h n_0`` with counts ``n_k``
  kept in int64. Moving a site from state ``a`` to ``b`` changes the energy by
  ``dE = -(J / N) (n_b - n_a + 1) - h (delta_b0 - delta_a0)`` (counts before the move): Metropolis table
  index ``3 (n_b - n_a + N) + (delta_b0 - delta_a0 + 1)``. Heat-bath weights of state ``k`` are
  ``exp(beta (J n'_k / N + h delta_k0))`` with ``n'_k`` the counts without the site: table index
  ``2 n'_k + delta_k0``.
* Spin glass on a graph (CSR ``indptr``, ``indices``, ``weights``; symmetric, no self loops):
  ``E = -sum_{i<j} J_ij s_i s_j - sum_i h_i s_i`` with local fields ``g_i = sum_j J_ij s_j`` kept in float64
  (``h_i`` not included). ``dE = 2 s_i (g_i + h_i)``; the acceptance probability is computed with
  ``math.exp`` on the device, so only integer couplings (+-J) are bit-identical across backends.

Randomness
----------
Sites are updated in order ``i = 0 .. N-1``. Draw ``d`` (``DRAW_ACCEPT = 0``: acceptance or heat-bath,
``DRAW_PROPOSAL = 1``: Potts proposal) of site ``i`` of chain ``c`` in sweep ``t`` is word ``i % 4`` of
``Philox4x32((i // 4, c, t, d), (seed, STREAM_MEANFIELD))``. A move is accepted when the uint32 draw
``u < T`` with ``T = floor(p * 2**32)`` (``2**32``: always).
"""
from collections import OrderedDict
from functools import wraps
from types import SimpleNamespace

import numpy as np

from . import lattice_logic as _lattice_logic
from ._checks import check_array, check_pm1, check_q

__all__ = [
    "DRAW_ACCEPT",
    "DRAW_PROPOSAL",
    "MAX_TABLE_SIZE",
    "build",
    "lowrank_flip_table",
    "lowrank_table_size",
    "lowrank_tables",
    "potts_mf_heatbath_weights",
    "potts_mf_metropolis_table",
    "validate_glass",
    "validate_lowrank",
    "validate_potts_mf",
]

DRAW_ACCEPT = 0
DRAW_PROPOSAL = 1
MAX_TABLE_SIZE = 2 ** 22  # entries (32 MiB of uint64); above this the low-rank kernels use the float path


def build(jit, philox4x32):
    """Compile the mean-field logic with decorator ``jit`` on top of the matching ``philox4x32``."""

    base = _lattice_logic.build(jit, philox4x32)   # shared building blocks: one source for every kernel family
    select_word = base.select_word
    threshold_from_probability = base.threshold_from_probability
    float_threshold = base.float_threshold

    @jit
    def fill_draws(buf, n, c, sweep, draw, seed, stream):
        """Word ``i % 4`` of Philox((i // 4, c, sweep, draw)) into ``buf[i]`` for ``i < n`` (rounded up to a
        multiple of 4; ``buf`` needs ``n + 3`` entries). CPU only: a straight loop the compiler vectorises."""
        for g in range((n + 3) >> 2):
            x0, x1, x2, x3 = philox4x32(g, c, sweep, draw, seed, stream)
            buf[4 * g] = np.uint32(x0)
            buf[4 * g + 1] = np.uint32(x1)
            buf[4 * g + 2] = np.uint32(x2)
            buf[4 * g + 3] = np.uint32(x3)

    # ---------------------------------------------------------------- low rank (Hopfield, Curie-Weiss)
    @jit
    def lowrank_x(spins, c, i, patterns, overlaps):
        """``x = s_i sum_mu xi_i^mu M_mu`` (int64)."""
        x = np.int64(0)
        for mu in range(patterns.shape[0]):
            x += np.int64(patterns[mu, i]) * overlaps[c, mu]
        return x * np.int64(spins[c, i])

    @jit
    def lowrank_site(spins, c, i, patterns, overlaps, table, use_table, beta, J, h, heatbath, u):
        """Flip ``s_i`` of chain ``c`` when ``u < threshold``, updating the overlaps; returns 1 if flipped.

        With ``use_table`` the threshold is ``table[2 (x + PN) + (s_i + 1) / 2]`` (integer, bit-identical on
        every backend); otherwise it is computed in floating point from ``dE``."""
        P = patterns.shape[0]
        N = spins.shape[1]
        s = np.int64(spins[c, i])
        x = lowrank_x(spins, c, i, patterns, overlaps)
        if use_table:
            t = table[2 * (x + P * N) + ((s + 1) >> 1)]
        else:
            t = float_threshold((2.0 * J / N) * (x - P) + 2.0 * h * s, beta, heatbath)
        if np.uint64(u) < t:
            spins[c, i] = -s
            for mu in range(P):
                overlaps[c, mu] -= 2 * s * np.int64(patterns[mu, i])
            return 1
        return 0

    @jit
    def lowrank_group(spins, c, g, patterns, overlaps, table, use_table, beta, J, h, heatbath, seed, stream,
                      sweep):
        """Sites ``4g .. 4g+3`` (those below N) of chain ``c`` with one Philox call."""
        x0, x1, x2, x3 = philox4x32(g, c, sweep, 0, seed, stream)
        acc = 0
        for w in range(min(4, spins.shape[1] - 4 * g)):
            acc += lowrank_site(spins, c, 4 * g + w, patterns, overlaps, table, use_table, beta, J, h, heatbath,
                                select_word(x0, x1, x2, x3, w))
        return acc

    # ---------------------------------------------------------------- mean-field Potts
    @jit
    def potts_metropolis_site(states, c, i, counts, q, table, u_propose, u_accept):
        """Propose one of the q-1 other states uniformly (multiply-shift), accept against the table."""
        N = states.shape[1]
        old = np.int64(states[c, i])
        new = (old + 1 + np.int64((np.uint64(u_propose) * np.uint64(q - 1)) >> np.uint64(32))) % q
        dd = np.int64(new == 0) - np.int64(old == 0)
        if np.uint64(u_accept) < table[3 * (counts[c, new] - counts[c, old] + N) + dd + 1]:
            states[c, i] = new
            counts[c, old] -= 1
            counts[c, new] += 1
            return 1
        return 0

    @jit
    def potts_heatbath_site(states, c, i, counts, q, weights, u):
        """Draw the state of site i from its conditional distribution (same operation order as
        ``lattice_logic.potts_heatbath_site``); ``weights[2 n + d]`` as in the module docstring."""
        old = np.int64(states[c, i])
        total = 0.0
        for k in range(q):
            total += weights[2 * (counts[c, k] - np.int64(k == old)) + np.int64(k == 0)]
        target = (np.float64(u) * 2.0 ** -32) * total
        acc = 0.0
        new = q - 1
        for k in range(q):
            acc += weights[2 * (counts[c, k] - np.int64(k == old)) + np.int64(k == 0)]
            if target < acc:
                new = k
                break
        if new != old:
            states[c, i] = new
            counts[c, old] -= 1
            counts[c, new] += 1
            return 1
        return 0

    @jit
    def potts_site(states, c, i, counts, q, table, weights, heatbath, u0, u1):
        if heatbath:
            return potts_heatbath_site(states, c, i, counts, q, weights, u0)
        return potts_metropolis_site(states, c, i, counts, q, table, u1, u0)

    @jit
    def potts_group(states, c, g, counts, q, table, weights, heatbath, seed, stream, sweep):
        x0, x1, x2, x3 = philox4x32(g, c, sweep, 0, seed, stream)  # draw 0: acceptance / heat-bath
        y0, y1, y2, y3 = philox4x32(g, c, sweep, 1, seed, stream)  # draw 1: proposal
        acc = 0
        for w in range(min(4, states.shape[1] - 4 * g)):
            acc += potts_site(states, c, 4 * g + w, counts, q, table, weights, heatbath,
                              select_word(x0, x1, x2, x3, w), select_word(y0, y1, y2, y3, w))
        return acc

    # ---------------------------------------------------------------- spin glass on a graph (CSR)
    @jit
    def glass_site(spins, c, i, indptr, indices, weights, fields, local_fields, beta, heatbath, u):
        s = np.int64(spins[c, i])
        delta_e = 2.0 * s * (local_fields[c, i] + fields[i])
        if np.uint64(u) < float_threshold(delta_e, beta, heatbath):
            spins[c, i] = -s
            for k in range(indptr[i], indptr[i + 1]):
                local_fields[c, indices[k]] -= 2.0 * s * weights[k]
            return 1
        return 0

    @jit
    def glass_group(spins, c, g, indptr, indices, weights, fields, local_fields, beta, heatbath, seed, stream,
                    sweep):
        x0, x1, x2, x3 = philox4x32(g, c, sweep, 0, seed, stream)
        acc = 0
        for w in range(min(4, spins.shape[1] - 4 * g)):
            acc += glass_site(spins, c, 4 * g + w, indptr, indices, weights, fields, local_fields, beta, heatbath,
                              select_word(x0, x1, x2, x3, w))
        return acc

    return SimpleNamespace(
        select_word=select_word, threshold_from_probability=threshold_from_probability,
        float_threshold=float_threshold, fill_draws=fill_draws, lowrank_x=lowrank_x, lowrank_site=lowrank_site,
        lowrank_group=lowrank_group, potts_metropolis_site=potts_metropolis_site,
        potts_heatbath_site=potts_heatbath_site, potts_site=potts_site, potts_group=potts_group,
        glass_site=glass_site, glass_group=glass_group,
    )


# ----------------------------------------------------------------------------------------------
# Host-side validation shared by every backend (NumPy only; the consistency checks are exact: float64
# products of +-1 integers below 2**53).

def _spins2d(spins, dtype, name):
    if isinstance(spins, np.ndarray) and spins.ndim == 1:
        spins = spins[None]
    check_array(name, spins, dtype, (None, None))
    if spins.shape[1] < 2:
        raise ValueError(f"{name} must have at least 2 sites, got N={spins.shape[1]}")
    return spins


def validate_lowrank(spins, patterns, overlaps, check_values=True):
    """Check the low-rank arguments; return ``(spins 2D view, patterns int8, overlaps 2D view)``.

    ``spins`` int8 (n_chains, N) or (N,); ``patterns`` +-1 of shape (P, N) with ``1 <= P < N`` (any integer
    dtype; converted to int8); ``overlaps`` int64 (n_chains, P) equal to ``compute_overlaps(spins, patterns)``
    (checked when ``check_values``)."""
    spins = _spins2d(spins, np.int8, "spins")
    n_chains, N = spins.shape
    pat = np.asarray(patterns)
    if pat.ndim == 1:
        pat = pat[None]
    if pat.ndim != 2 or pat.shape[1] != N:
        raise ValueError(f"patterns must have shape (P, N) with N={N} (the number of sites), got {pat.shape}")
    if not np.issubdtype(pat.dtype, np.integer):
        raise TypeError(f"patterns must be an integer array of +-1, got dtype {pat.dtype.name}")
    check_pm1("patterns", pat)
    P = pat.shape[0]
    if not 1 <= P < N:
        raise ValueError(f"the number of patterns P must satisfy 1 <= P < N, got P={P}, N={N}")
    pat = np.ascontiguousarray(pat, dtype=np.int8)
    if isinstance(overlaps, np.ndarray) and overlaps.ndim == 1 and spins.shape[0] == 1:
        overlaps = overlaps[None]
    check_array("overlaps", overlaps, np.int64, (n_chains, P))
    if check_values:
        check_pm1("spins", spins)
        if not np.array_equal(overlaps, spins.astype(np.float64) @ pat.T.astype(np.float64)):
            raise ValueError("overlaps do not equal patterns . spins: initialise them with compute_overlaps()")
    return spins, pat, overlaps


def validate_potts_mf(states, counts, q, check_values=True):
    """Check the mean-field Potts arguments; return ``(q, states 2D view, counts 2D view)``."""
    q = check_q(q)
    states = _spins2d(states, np.uint8, "states")
    if isinstance(counts, np.ndarray) and counts.ndim == 1 and states.shape[0] == 1:
        counts = counts[None]
    check_array("counts", counts, np.int64, (states.shape[0], q))
    if check_values:
        if states.size and states.max() >= q:
            raise ValueError(f"states must contain Potts states 0..{q - 1}")
        if not np.array_equal(counts, (states[:, :, None] == np.arange(q)).sum(axis=1)):
            raise ValueError("counts do not equal the number of sites in each state: initialise them with "
                             "compute_counts()")
    return q, states, counts


def validate_glass(spins, indptr, indices, weights, fields, local_fields, check_values=True):
    """Check the spin-glass arguments; return ``(spins, indptr, indices, weights, fields, local_fields)``.

    ``fields`` may be a scalar (uniform field). With ``check_values`` the graph is checked to be symmetric
    with no self loops and ``local_fields`` to equal :func:`compute_local_fields` (to 1e-9 relative)."""
    spins = _spins2d(spins, np.int8, "spins")
    n_chains, N = spins.shape
    indptr, indices = np.asarray(indptr), np.asarray(indices)
    for name, arr in (("indptr", indptr), ("indices", indices)):
        if not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"{name} must be integers, got dtype {arr.dtype.name}")
    indptr = np.ascontiguousarray(indptr, dtype=np.int64)
    indices = np.ascontiguousarray(indices, dtype=np.int64)
    weights = np.ascontiguousarray(weights, dtype=np.float64)
    if indptr.shape != (N + 1,):
        raise ValueError(f"indptr must have shape (N + 1,) = ({N + 1},), got {indptr.shape}")
    if indices.ndim != 1 or weights.shape != indices.shape:
        raise ValueError(f"indices and weights must be 1-D of equal length, got {indices.shape}, {weights.shape}")
    if indptr[0] != 0 or indptr[-1] != len(indices) or np.any(np.diff(indptr) < 0):
        raise ValueError("indptr must start at 0, be non-decreasing and end at len(indices)")
    if indices.size and (indices.min() < 0 or indices.max() >= N):
        raise ValueError(f"indices must lie in [0, N) = [0, {N})")
    if not np.all(np.isfinite(weights)):
        raise ValueError("weights contain NaN or infinite couplings")
    fields = np.asarray(fields, dtype=np.float64)
    if fields.ndim == 0:
        fields = np.full(N, float(fields))
    fields = np.ascontiguousarray(fields)
    if fields.shape != (N,):
        raise ValueError(f"fields must be a scalar or have shape (N,) = ({N},), got {fields.shape}")
    if not np.all(np.isfinite(fields)):
        raise ValueError("fields contain NaN or infinite values")
    if isinstance(local_fields, np.ndarray) and local_fields.ndim == 1 and n_chains == 1:
        local_fields = local_fields[None]
    check_array("local_fields", local_fields, np.float64, (n_chains, N))
    if check_values:
        check_pm1("spins", spins)
        rows = np.repeat(np.arange(N), np.diff(indptr))
        if np.any(rows == indices):
            raise ValueError("the coupling graph must have no self loops (indices[k] == i in row i)")
        fwd = np.lexsort((indices, rows))
        bwd = np.lexsort((rows, indices))
        if not (np.array_equal(rows[fwd], indices[bwd]) and np.array_equal(indices[fwd], rows[bwd])
                and np.array_equal(weights[fwd], weights[bwd])):
            raise ValueError("the couplings must be symmetric: J_ij stored in row i must equal J_ji in row j")
        ref = np.zeros(spins.shape)
        for c, s in enumerate(spins):
            ref[c] = np.bincount(rows, weights=weights * s[indices], minlength=N)
        if not np.allclose(local_fields, ref, rtol=1e-9, atol=1e-9 * (1.0 + np.abs(weights).max(initial=0.0))):
            raise ValueError("local_fields do not equal sum_j J_ij s_j: initialise them with compute_local_fields()")
    return spins, indptr, indices, weights, fields, local_fields


# ----------------------------------------------------------------------------------------------
# Host-side tables (NumPy; shared by every backend so that thresholds are identical everywhere). Cached:
# tempering and chunked runs call the kernels again and again with the same parameters.


TABLE_CACHE_BYTES = 64 * 2 ** 20  # tables kept for reuse, in total; older ones are dropped first


def bounded_cache(fn):
    """Memoise a table builder (read-only results) while the cached tables hold at most TABLE_CACHE_BYTES:
    tempering and chunked runs call the kernels again and again with the same parameters, but a plain LRU of
    tables of up to 2**22 entries could hold gigabytes."""
    cache = OrderedDict()

    @wraps(fn)
    def wrapper(*args):
        if args in cache:
            cache.move_to_end(args)
            return cache[args]
        out = fn(*args)
        out.flags.writeable = False
        if out.nbytes <= TABLE_CACHE_BYTES // 4:
            cache[args] = out
            while sum(a.nbytes for a in cache.values()) > TABLE_CACHE_BYTES:
                cache.popitem(last=False)
        return out

    wrapper.cache_clear = cache.clear
    return wrapper


def _thresholds(p):
    """uint64 thresholds ``floor(p * 2**32)`` (``2**32`` where ``p >= 1``); as lattice_logic's."""
    t = np.floor(np.clip(p, 0.0, 1.0) * 4294967296.0).astype(np.uint64)
    t[p >= 1.0] = np.uint64(2 ** 32)
    return t


def _flip_probability(delta_e, beta, heatbath):
    if heatbath:
        return 0.5 * (1.0 - np.tanh(0.5 * beta * delta_e))  # 1 / (1 + exp(beta dE)) without overflow
    return np.exp(-beta * np.maximum(delta_e, 0.0))


def lowrank_table_size(P, N):
    """Number of entries of the low-rank threshold table: ``2 (2 P N + 1)``."""
    return 2 * (2 * int(P) * int(N) + 1)


@bounded_cache
def lowrank_flip_table(beta, J, h, P, N, heatbath):
    """Flip thresholds of the low-rank model indexed by ``2 (x + PN) + (s + 1) / 2`` (read-only uint64).

    ``dE = (2 J / N) (x - P) + 2 h s`` for ``x`` in ``[-PN, PN]`` and ``s = -1, +1``."""
    x = np.repeat(np.arange(-P * N, P * N + 1, dtype=np.float64), 2)
    s = np.tile(np.array([-1.0, 1.0]), 2 * P * N + 1)
    t = _thresholds(_flip_probability((2.0 * J / N) * (x - P) + 2.0 * h * s, beta, heatbath))
    return t


def lowrank_tables(beta, J, h, P, N, heatbath):
    """The low-rank thresholds as the kernels take them: the integer table, or the float path.

    Parameters
    ----------
    beta, J, h : float
        Inverse temperature, coupling and field.
    P, N : int
        Number of patterns and of sites.
    heatbath : bool
        Heat-bath instead of Metropolis acceptance.

    Returns
    -------
    table : ndarray of uint64
        :func:`lowrank_flip_table`, or a one-entry placeholder when the table would hold more than
        ``MAX_TABLE_SIZE`` entries (then trajectories are no longer guaranteed bit-identical across backends,
        because the device's ``exp`` may differ from the CPU's in the last bit).
    use_table : bool
        Whether ``table`` is the real table.
    """
    if lowrank_table_size(P, N) > MAX_TABLE_SIZE:
        return np.zeros(1, np.uint64), False
    return lowrank_flip_table(beta, J, h, P, N, bool(heatbath)), True


@bounded_cache
def potts_mf_metropolis_table(beta, J, h, N):
    """Acceptance thresholds indexed by ``3 (n_new - n_old + N) + (delta_new0 - delta_old0 + 1)``."""
    dn = np.repeat(np.arange(-N, N + 1, dtype=np.float64), 3)
    dd = np.tile(np.array([-1.0, 0.0, 1.0]), 2 * N + 1)
    delta_e = -(J / N) * (dn + 1.0) - h * dd
    t = _thresholds(np.exp(-beta * np.maximum(delta_e, 0.0)))
    return t


@bounded_cache
def potts_mf_heatbath_weights(beta, J, h, N):
    """Boltzmann factors ``exp(beta (J n / N + h d) - max)`` indexed by ``2 n + d``, ``n = 0..N``."""
    n = np.repeat(np.arange(N + 1, dtype=np.float64), 2)
    d = np.tile(np.array([0.0, 1.0]), N + 1)
    log_w = beta * (J * n / N + h * d)
    w = np.exp(log_w - log_w.max())
    return w
