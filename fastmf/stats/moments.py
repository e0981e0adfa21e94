"""Building blocks shared by the spin and the population statistics: triples, triple products, ``P(K)`` counts.

Both :mod:`fastmf.stats.compare` (spin configurations, plug-in errors) and :mod:`fastmf.stats.population` (spike
rasters read in batches, batch-means errors) estimate connected three-point correlations on the same sets of
site triples ``i < j < k`` and the distribution of the number of active units; the triples
(:func:`triple_indices`), the blocked products ``x_i x_j x_k`` (:func:`triple_products`) and the activity counts
(:func:`activity_counts`) are computed here, once. The one- and two-point moments differ by design: the spin
statistics centre the data first (one pass over data held in memory), the population statistics accumulate raw
sums chunk by chunk (a raster of 10^6 bins is never unpacked at once).
"""
import numpy as np

__all__ = ["MAX_ALL_TRIPLES_N", "TRIPLE_BLOCK_ELEMENTS", "activity_counts", "triple_indices", "triple_products"]

#: Largest N for ``triples="all"`` (C(40, 3) = 9880 triples).
MAX_ALL_TRIPLES_N = 40
#: Elements (triples x samples) per block of :func:`triple_products`.
TRIPLE_BLOCK_ELEMENTS = 1 << 22


def triple_indices(N, triples, seed):
    """Sorted site triples ``i < j < k``: all, a seeded random subset, explicit ones, or none.

    Parameters
    ----------
    N : int
        Number of sites.
    triples : "all", int, (T, 3) int array or None
        ``"all"`` (needs ``N <= MAX_ALL_TRIPLES_N``); a number of distinct random triples, uniform over all
        C(N, 3) (all of them when the number reaches C(N, 3)); explicit indices (each row is sorted); or None
        for no triples.
    seed : int or None
        Seed of the random subset (``numpy.random.default_rng``).

    Returns
    -------
    numpy.ndarray
        ``(T, 3)`` int64 array, each row ``i < j < k``.

    Raises
    ------
    ValueError
        For an unknown string, a negative number, ``"all"`` with too many sites, or an array that is not
        ``(T, 3)`` integers of three distinct sites in ``0..N-1``.
    """
    total = N * (N - 1) * (N - 2) // 6
    if triples is None:
        return np.empty((0, 3), np.int64)
    if isinstance(triples, str):
        if triples != "all":
            raise ValueError(f"triples must be 'all', None, an int or a (T, 3) array, got {triples!r}")
        if N > MAX_ALL_TRIPLES_N:
            raise ValueError(f"triples='all' needs N <= {MAX_ALL_TRIPLES_N}, got N = {N}; pass a number")
        return _all_triples(N)
    if isinstance(triples, (int, np.integer)) and not isinstance(triples, (bool, np.bool_)):
        m = int(triples)
        if m < 0:
            raise ValueError(f"triples must be >= 0, got {m}")
        if m >= total:
            return _all_triples(N)
        rng = np.random.default_rng(seed)
        if total <= 1 << 21:
            t = _all_triples(N)
            return t[np.sort(rng.choice(total, m, replace=False))]
        found = np.empty((0, 3), np.int64)
        while len(found) < m:  # rejection (uniform over triples): distinct sites, first of duplicates kept
            d = np.sort(rng.integers(0, N, size=(2 * m, 3)), axis=1)
            found = np.concatenate([found, d[(d[:, 0] < d[:, 1]) & (d[:, 1] < d[:, 2])]])
            found = found[np.sort(np.unique(found, axis=0, return_index=True)[1])]
        return np.unique(found[:m], axis=0)
    t = np.asarray(triples)
    if t.ndim != 2 or t.shape[1] != 3 or (t.size and not np.issubdtype(t.dtype, np.integer)):
        raise ValueError(f"triples array must be integer with shape (T, 3), got {t.shape} {t.dtype}")
    t = np.sort(t.astype(np.int64), axis=1)
    if t.size and (t.min() < 0 or t.max() >= N or np.any(t[:, 0] == t[:, 1]) or np.any(t[:, 1] == t[:, 2])):
        raise ValueError(f"triples must hold three distinct site indices in 0..{N - 1}")
    return t


def _all_triples(N):
    i, j, k = np.meshgrid(np.arange(N), np.arange(N), np.arange(N), indexing="ij")
    keep = (i < j) & (j < k)
    return np.column_stack([i[keep], j[keep], k[keep]]).astype(np.int64)


def triple_products(xt, idx):
    """Products ``x_i x_j x_k`` of the triples ``idx``, sample by sample, in blocks of bounded size.

    Parameters
    ----------
    xt : numpy.ndarray, shape (N, n)
        One row per site, one column per sample (the transposed data; C-contiguous is fastest).
    idx : numpy.ndarray, shape (T, 3)
        Site triples, e.g. from :func:`triple_indices`.

    Yields
    ------
    block : slice
        The triples of this block, ``idx[block]``.
    i, j, k : numpy.ndarray
        Their site indices.
    products : numpy.ndarray, shape (len(i), n)
        ``xt[i] * xt[j] * xt[k]``, a new array the caller may modify; at most about
        :data:`TRIPLE_BLOCK_ELEMENTS` elements.
    """
    step = max(1, TRIPLE_BLOCK_ELEMENTS // xt.shape[1])
    for a in range(0, len(idx), step):
        i, j, k = idx[a:a + step].T
        yield slice(a, a + step), i, j, k, xt[i] * xt[j] * xt[k]


def activity_counts(active):
    """How many samples have ``K`` active units, for ``K = 0..N``.

    Parameters
    ----------
    active : array_like, shape (n, N)
        Bool or 0/1 activity (a +1 spin, a spike) of each unit in each sample.

    Returns
    -------
    numpy.ndarray
        ``(N + 1,)`` int64 counts; divided by ``n`` they are ``P(K)``.
    """
    active = np.asarray(active)
    return np.bincount(active.sum(axis=1).astype(np.int64), minlength=active.shape[1] + 1)
