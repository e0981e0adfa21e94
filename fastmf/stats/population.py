"""Population statistics of binary spike data, with error bars that include autocorrelation.

Units are spikes (0/1), the convention of neural data: firing probability per bin ``p_i``, covariance
``cov_ij = <x_i x_j> - p_i p_j``, correlation coefficient ``rho_ij = cov_ij / sqrt(var_i var_j)``, connected
triplet ``kappa_ijk = <(x_i - p_i)(x_j - p_j)(x_k - p_k)>`` and ``P(K)``, the probability that K neurons spike in
the same bin.

Error bars by batch means: the bins are cut into ``n_batches`` contiguous batches, each statistic is computed per
batch and its standard error is ``std(batch values) / sqrt(n_batches)``. For a recording, neighbouring bins are
correlated (bursts, slow drifts), which the plug-in binomial error ignores; batches much longer than the
correlation time are nearly independent, so batch means carry the autocorrelation into the error bar. Samples of
a model drawn independently can use ``n_batches`` the same way (the estimate is then close to the plug-in one).
Everything is accumulated over chunks of bins from raw moments, so a bit-packed raster of 10^6 bins is never
unpacked at once.
"""
import dataclasses
import math
import sys

import numpy as np

from ..io.raster import SpikeRaster
from .compare import summarize_agreement
from .moments import activity_counts, triple_indices, triple_products

__all__ = ["PopulationStatistics", "compare_statistics", "population_statistics"]

_CHUNK_BINS = 1 << 16


@dataclasses.dataclass(frozen=True, eq=False)
class PopulationStatistics:
    """Statistics of one data or sample set and their batch-means standard errors (see the module docstring), or
    a model's exact statistics (``exact=True``, zero errors, ``n_bins = n_batches = 0``)."""

    n_bins: int
    n_neurons: int
    n_batches: int
    rates: np.ndarray           # (N,)
    rates_se: np.ndarray
    cov: np.ndarray             # (N, N)
    cov_se: np.ndarray
    corr: np.ndarray            # (N, N) correlation coefficients (nan for a silent or always-on neuron)
    corr_se: np.ndarray
    triple_idx: np.ndarray      # (T, 3), i < j < k
    triplets: np.ndarray        # (T,)
    triplets_se: np.ndarray
    pk: np.ndarray              # (N + 1,) P(K)
    pk_se: np.ndarray
    pk_counts: np.ndarray       # (N + 1,) number of bins with K spikes
    exact: bool = False         # exact values of a model (zero errors, no bins): :mod:`.exact_population`

    def pairs(self, name):
        """Upper-triangle (i < j) values and standard errors of ``"cov"`` or ``"corr"``.

        Parameters
        ----------
        name : {"cov", "corr"}

        Returns
        -------
        values, se : numpy.ndarray
            ``(N (N - 1) / 2,)`` arrays in :func:`numpy.triu_indices` order.
        """
        iu = np.triu_indices(self.n_neurons, 1)
        return getattr(self, name)[iu], getattr(self, name + "_se")[iu]


def _as_source(data):
    """``(n_bins, n_neurons, chunk reader)`` for a SpikeRaster or a 2-D 0/1 or +-1 array."""
    if isinstance(data, SpikeRaster):
        return data.n_bins, data.n_neurons, lambda a, b: data.to_binary(a, b)
    x = np.asarray(data)
    if x.ndim != 2 or 0 in x.shape:
        raise ValueError(f"spike data must be a SpikeRaster or a non-empty 2-D array (bins, neurons), got shape "
                         f"{x.shape}")
    values = np.unique(x)
    if np.isin(values, (0, 1)).all():
        return x.shape[0], x.shape[1], lambda a, b: x[a:b]
    if np.isin(values, (-1, 1)).all():
        return x.shape[0], x.shape[1], lambda a, b: (x[a:b] > 0)
    raise ValueError(f"spike data must be 0/1 or +-1, found values {values[:10].tolist()}")


def _moments(read, a, b, idx, N):
    """Raw sums over bins a:b: (n, sum x, sum x x^T, sum x_i x_j x_k over idx, K histogram)."""
    s1, s2, s3 = np.zeros(N), np.zeros((N, N)), np.zeros(len(idx))
    hist = np.zeros(N + 1, np.int64)
    for c in range(a, b, _CHUNK_BINS):
        x = np.asarray(read(c, min(c + _CHUNK_BINS, b)), dtype=np.float32)
        s1 += x.sum(axis=0, dtype=np.float64)
        s2 += (x.T @ x).astype(np.float64)  # counts < 2**24 per chunk: exact in float32
        # 0/1 products summed in float64: exact counts, whatever the blocking
        if len(idx):
            for block, _, _, _, p in triple_products(np.ascontiguousarray(x.T), idx):
                s3[block] += p.sum(axis=1, dtype=np.float64)
        hist += activity_counts(x)
    return b - a, s1, s2, s3, hist


def _from_moments(n, s1, s2, s3, hist, idx):
    p = s1 / n
    m2 = s2 / n
    cov = m2 - np.outer(p, p)
    var = np.diag(cov).copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / np.sqrt(np.outer(var, var))
    i, j, k = idx.T if len(idx) else (np.empty(0, np.int64),) * 3
    kappa = s3 / n - p[i] * m2[j, k] - p[j] * m2[i, k] - p[k] * m2[i, j] + 2 * p[i] * p[j] * p[k]
    return p, cov, corr, kappa, hist / n


def population_statistics(data, *, n_batches=20, triples=2000, seed=0, progress=False, desc="statistics"):
    """Firing rates, covariances, correlation coefficients, connected triplets and ``P(K)`` with batch-means
    standard errors.

    Parameters
    ----------
    data : SpikeRaster or array_like, shape (n_bins, n_neurons)
        A raster, or an array of 0/1 or +-1 (spike = 1 / +1).
    n_batches : int
        Contiguous batches for the standard errors (>= 2; each at least one bin).
    triples : int
        Number of random neuron triples ``i < j < k`` (all of them when C(N, 3) is smaller; chosen by
        :func:`fastmf.stats.moments.triple_indices`, as in :func:`fastmf.stats.compare.spin_statistics`).
    seed : int
        Seed of the triples (the same seed gives the same triples for data and models of the same N).
    progress : bool
        tqdm progress bar over the batches on stderr, labelled ``desc``.

    Returns
    -------
    PopulationStatistics
    """
    n, N, read = _as_source(data)
    n_batches = int(n_batches)
    if not 2 <= n_batches <= n:
        raise ValueError(f"n_batches must be between 2 and the number of bins ({n}), got {n_batches}")
    idx = triple_indices(N, int(triples), seed)
    edges = np.arange(n_batches + 1) * n // n_batches
    from tqdm.auto import tqdm
    parts = [_moments(read, int(a), int(b), idx, N) for a, b in
             tqdm(list(zip(edges[:-1], edges[1:])), desc=desc, unit="batch", file=sys.stderr, disable=not progress)]
    total = [sum(p[k] for p in parts) for k in range(5)]
    full = _from_moments(*total, idx)
    per = [_from_moments(*p, idx) for p in parts]
    se = [np.std(np.stack([b[k] for b in per]), axis=0, ddof=1) / math.sqrt(n_batches) for k in range(5)]
    return PopulationStatistics(n, N, n_batches, full[0], se[0], full[1], se[1], full[2], se[2], idx, full[3],
                                se[3], full[4], se[4], total[4])


def _agreement(d, m, se_d, se_m):
    ok = np.isfinite(d) & np.isfinite(m)  # correlation coefficients of silent neurons are nan
    return dataclasses.asdict(summarize_agreement(d[ok], m[ok], se_d[ok], se_m[ok]))


def compare_statistics(data, model, *, min_count=20):
    """Agreement of a model's statistics with the data's (both :class:`PopulationStatistics`, same triples).

    Parameters
    ----------
    data, model : PopulationStatistics
        Statistics of the data and of the model samples, with the same neurons and triples (same N and seed).
    min_count : int
        ``P(K)`` is compared at every K where the data have at least this many bins with K spikes (and only
        there).

    Returns
    -------
    dict
        For ``rates``, ``cov``, ``corr`` and ``triplets`` the fields of
        :class:`fastmf.stats.compare.StatComparison` (:func:`fastmf.stats.compare.summarize_agreement` over the
        finite entries: Pearson correlation, RMS and largest difference, RMS z-score: difference over the
        combined standard error); for ``pk``, the K where the data have at least ``min_count`` bins (``k``,
        the largest ``k_max``), the z-score of each such K, how many lie within 1, 2 and 3 standard errors, and
        the largest ``|z|``.

    Raises
    ------
    ValueError
        When the neurons or triples differ.
    """
    if data.n_neurons != model.n_neurons or not np.array_equal(data.triple_idx, model.triple_idx):
        raise ValueError("data and model statistics must have the same neurons and triples (same N and seed)")
    out = {"rates": _agreement(data.rates, model.rates, data.rates_se, model.rates_se)}
    for name in ("cov", "corr"):
        d, sd = data.pairs(name)
        m, sm = model.pairs(name)
        out[name] = _agreement(d, m, sd, sm)
    out["triplets"] = _agreement(data.triplets, model.triplets, data.triplets_se, model.triplets_se)
    K = np.nonzero(data.pk_counts >= min_count)[0]   # only where the data resolve P(K): a K below or between
    k_max = int(K.max()) if K.size else -1            # them has a zero error bar (no bins), and an exact model's z
    se = np.hypot(data.pk_se[K], model.pk_se[K])      # would be infinite there
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(se > 0, (model.pk[K] - data.pk[K]) / se, np.where(model.pk[K] == data.pk[K], 0.0, np.inf))
    out["pk"] = {"k_max": k_max, "k": K.tolist(), "min_count": int(min_count), "z": z.tolist(),
                 "within_1se": int(np.sum(np.abs(z) <= 1)), "within_2se": int(np.sum(np.abs(z) <= 2)),
                 "within_3se": int(np.sum(np.abs(z) <= 3)),
                 "n_k": int(K.size), "max_abs_z": float(np.abs(z).max()) if K.size else math.nan}
    return out
