"""Exact population statistics of a model whose distribution is known: a finite mixture of independent neurons
(:func:`mixture_statistics`), or a table of the probabilities of all ``2**N`` spike patterns
(:func:`table_statistics`).

They return the same :class:`~fastmf.stats.population.PopulationStatistics` as
:func:`~fastmf.stats.population.population_statistics` (same units and triples for the same N and seed), with
``exact=True`` and zero standard errors, so :func:`~fastmf.stats.population.compare_statistics` measures a model
against the data without the noise of a finite model sample: an estimate from samples adds its own sampling
error to every difference (to the RMS errors, too) and widens every standard error.
"""
import numpy as np

from .moments import triple_indices
from .population import PopulationStatistics

__all__ = ["mixture_statistics", "poisson_binomial_mixture", "table_statistics"]

_TABLE_ROWS = 2048  # patterns per block of the table sums (the triple products are (rows, T))


def poisson_binomial_mixture(weights, spike_probs):
    """``P(K)``, K = 0..N, of a mixture of independent neurons: ``sum_k w_k PoissonBinomial(K; q_k)``.

    Parameters
    ----------
    weights : array_like (A,)
        Mixture weights (non-negative, summing to one).
    spike_probs : array_like (A, N)
        Spike probability of each neuron in each component.

    Returns
    -------
    numpy.ndarray (N + 1,)
    """
    q = np.asarray(spike_probs, np.float64)
    A, N = q.shape
    dist = np.zeros((A, N + 1))
    dist[:, 0] = 1.0
    for i in range(N):  # add neuron i: one pass per neuron over the components' distributions
        dist[:, 1:i + 2] = dist[:, 1:i + 2] * (1.0 - q[:, i:i + 1]) + dist[:, :i + 1] * q[:, i:i + 1]
        dist[:, 0] *= 1.0 - q[:, i]
    return np.asarray(weights, np.float64) @ dist


def _exact(N, idx, p, m2, kappa, pk):
    """PopulationStatistics from exact moments (zero errors; ``n_bins = n_batches = 0``)."""
    cov = m2 - np.outer(p, p)
    var = p * (1.0 - p)
    np.fill_diagonal(cov, var)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / np.sqrt(np.outer(var, var))
    corr[np.outer(var, var) <= 0] = np.nan  # a silent or always-on neuron, as in the data's statistics
    zero = np.zeros_like
    return PopulationStatistics(0, N, 0, p, zero(p), cov, zero(cov), corr, zero(corr), idx, kappa, zero(kappa), pk,
                                zero(pk), np.zeros(N + 1, np.int64), exact=True)


def _check_probs(probs, what):
    if not np.isfinite(probs).all() or (probs < 0).any() or (probs > 1).any():
        raise ValueError(f"{what} must be finite probabilities in [0, 1]")


def mixture_statistics(weights, spike_probs, *, triples=2000, seed=0):
    """Exact statistics of ``p(x) = sum_k w_k prod_i q_ki^x_i (1 - q_ki)^(1 - x_i)`` (x = 0/1, spike = 1).

    Within a component the neurons are independent, so every centred moment is a weighted sum over the
    components: ``cov_ij = sum_k w_k (q_ki - p_i)(q_kj - p_j)`` (i != j), ``kappa_ijk = sum_k w_k (q_ki - p_i)
    (q_kj - p_j)(q_kk - p_k)``, and ``P(K)`` is the mixture of the components' Poisson-binomial distributions.

    Parameters
    ----------
    weights : array_like (A,)
        Component weights (non-negative, positive sum; normalised here).
    spike_probs : array_like (A, N)
        Spike probabilities of the neurons in each component.
    triples, seed
        As in :func:`~fastmf.stats.population.population_statistics` (the same seed gives the same triples).

    Returns
    -------
    PopulationStatistics
        With ``exact=True`` and zero standard errors.
    """
    q = np.atleast_2d(np.asarray(spike_probs, np.float64))
    w = np.asarray(weights, np.float64).reshape(-1)
    if q.ndim != 2 or w.shape != (q.shape[0],) or q.shape[1] < 1:
        raise ValueError(f"weights (A,) and spike_probs (A, N) must match, got {w.shape} and {q.shape}")
    _check_probs(q, "spike_probs")
    if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise ValueError("weights must be finite and non-negative with a positive sum")
    w = w / w.sum()
    N = q.shape[1]
    idx = triple_indices(N, triples, seed)
    p = w @ q
    d = q - p
    m2 = (d * w[:, None]).T @ d + np.outer(p, p)
    i, j, k = idx.T if len(idx) else (np.empty(0, np.int64),) * 3
    kappa = (d[:, i] * d[:, j] * d[:, k] * w[:, None]).sum(axis=0)
    return _exact(N, idx, p, m2, kappa, poisson_binomial_mixture(w, q))


def table_statistics(probs, *, triples=2000, seed=0):
    """Exact statistics of a distribution given on all ``2**N`` spike patterns (pattern index with bit i set:
    neuron i spikes), e.g. an enumerated maximum-entropy model.

    Parameters
    ----------
    probs : array_like (2**N,)
        Probabilities (non-negative, positive sum; normalised here).
    triples, seed
        As in :func:`~fastmf.stats.population.population_statistics`.

    Returns
    -------
    PopulationStatistics
        With ``exact=True`` and zero standard errors.
    """
    pr = np.asarray(probs, np.float64).reshape(-1)
    N = int(pr.size).bit_length() - 1
    if N < 1 or pr.size != 1 << N:
        raise ValueError(f"probs must hold 2**N values (N >= 1), got {pr.size}")
    if not np.isfinite(pr).all() or (pr < 0).any() or pr.sum() <= 0:
        raise ValueError("probs must be finite and non-negative with a positive sum")
    pr = pr / pr.sum()
    idx = triple_indices(N, triples, seed)
    p, m2, pk = np.zeros(N), np.zeros((N, N)), np.zeros(N + 1)
    for a in range(0, pr.size, _TABLE_ROWS):
        x = ((np.arange(a, min(a + _TABLE_ROWS, pr.size))[:, None] >> np.arange(N)) & 1).astype(np.float64)
        w = pr[a:a + len(x)]
        p += w @ x
        m2 += (x * w[:, None]).T @ x
        pk += np.bincount(x.sum(axis=1).astype(np.int64), weights=w, minlength=N + 1)
    kappa = np.zeros(len(idx))
    i, j, k = idx.T if len(idx) else (np.empty(0, np.int64),) * 3
    for a in range(0, pr.size, _TABLE_ROWS):  # second pass: centred with the exact rates
        d = ((np.arange(a, min(a + _TABLE_ROWS, pr.size))[:, None] >> np.arange(N)) & 1) - p
        kappa += pr[a:a + len(d)] @ (d[:, i] * d[:, j] * d[:, k])
    return _exact(N, idx, p, m2, kappa, pk)
