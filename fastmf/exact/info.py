"""Entropies and mutual information of a distribution known exactly on every configuration.

A distribution over N sites with q states each (q = 2 for spins) is a table ``log_p`` of ``q**N``
log-probabilities. State index convention, used by every function of :mod:`fastmf.exact`:

    ``n = sum_i x_i q**i``, site 0 the least significant digit; for spins ``x_i = (s_i + 1) / 2``,
    so ``s_i = +1`` is digit 1.

:func:`states` turns indices back into configurations. Everything is in nats. Tables need not be
normalised (they are, first, with a stable log-sum-exp).
"""
import numpy as np
from scipy.special import logsumexp

from ..kernels.info_cpu import subset_entropy_table
from ..kernels.validation import check_int

__all__ = ["normalize", "states", "entropy", "marginal", "subset_entropy", "mutual_information",
           "kl_divergence", "all_subset_entropies", "max_bipartition_mi", "check_log_probs", "check_subset",
           "MAX_ALL_SUBSETS_N"]

#: Largest N for :func:`all_subset_entropies` / :func:`max_bipartition_mi` (work 2 * 3**N).
MAX_ALL_SUBSETS_N = 16


def check_log_probs(log_p, q=2, name="log_p"):
    """``(log_p as float64, N)`` after checking the table has ``q**N`` finite-or-(-inf) entries."""
    a = np.asarray(log_p)
    if a.ndim != 1 or not np.issubdtype(a.dtype, np.floating) and not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"{name} must be a 1-D array of q**N log-probabilities, got shape {a.shape}, "
                         f"dtype {a.dtype}")
    a = a.astype(np.float64)
    N = int(round(np.log(len(a)) / np.log(q))) if len(a) > 1 else 0
    if len(a) == 0 or q ** N != len(a) or N < 1:
        raise ValueError(f"{name} must have q**N entries (q = {q}, N >= 1), got {len(a)}")
    if np.isnan(a).any() or np.isposinf(a).any():
        raise ValueError(f"{name} contains NaN or +inf")
    if np.isneginf(a).all():
        raise ValueError(f"{name} is -inf everywhere (zero total probability)")
    return a, N


def check_subset(sites, N, name="A"):
    """Sorted, unique site indices in ``0..N-1`` (a list, array or bitmask-free iterable)."""
    s = np.asarray(list(sites) if not isinstance(sites, np.ndarray) else sites)
    if s.size and not np.issubdtype(s.dtype, np.integer):
        raise ValueError(f"{name} must hold integer site indices, got dtype {s.dtype}")
    s = s.astype(np.int64).ravel()
    if s.size and (s.min() < 0 or s.max() >= N):
        raise ValueError(f"{name} must hold site indices in 0..{N - 1}, got {s.tolist()}")
    if len(np.unique(s)) != len(s):
        raise ValueError(f"{name} has repeated sites: {s.tolist()}")
    return np.sort(s)


def normalize(log_p):
    """``log_p - logsumexp(log_p)``."""
    a = np.asarray(log_p, np.float64)
    return a - logsumexp(a)


def states(N, q=2, spins=True):
    """All ``q**N`` configurations in index order, shape (q**N, N): int8 +-1 spins when ``q == 2`` and
    ``spins``, else uint8 digits."""
    N = check_int("N", N, 1)
    if q ** N > 1 << 26:
        raise ValueError(f"states(N={N}, q={q}) would hold {q ** N} rows; at most 2**26")
    n = np.arange(q ** N, dtype=np.int64)
    digits = (n[:, None] // q ** np.arange(N, dtype=np.int64)) % q
    if q == 2 and spins:
        return (2 * digits - 1).astype(np.int8)
    return digits.astype(np.uint8)


def _entropy_of_probs(p):
    p = p[p > 0]
    return float(-np.sum(p * np.log(p)))


def entropy(log_p):
    """Shannon entropy ``-sum p log p`` of the (normalised) table."""
    lp = normalize(log_p)
    p = np.exp(lp)
    support = p > 0  # states of probability 0 (log p = -inf) contribute 0
    return float(-np.sum(p[support] * lp[support]))


def marginal(log_p, sites, q=2):
    """Probabilities of the configurations of ``sites`` (sorted), indexed ``sum_j x_{sites[j]} q**j``."""
    lp, N = check_log_probs(log_p, q)
    s = check_subset(sites, N)
    p = np.exp(normalize(lp)).reshape((q,) * N)  # axis a holds site N - 1 - a
    keep = {N - 1 - int(i) for i in s}
    drop = tuple(a for a in range(N) if a not in keep)
    m = p.sum(axis=drop) if drop else p
    # remaining axes are the kept sites in decreasing order: ravel gives index sum x q**j, site order sorted
    return np.ascontiguousarray(m).ravel() if s.size else np.array([1.0])


def subset_entropy(log_p, sites, q=2):
    """Entropy of the marginal of ``sites``."""
    return _entropy_of_probs(marginal(log_p, sites, q))


def mutual_information(log_p, A, q=2):
    """``I(A; B) = H(A) + H(B) - H(A, B)`` for the bipartition A | complement (in nats, >= 0 up to
    rounding)."""
    lp, N = check_log_probs(log_p, q)
    a = check_subset(A, N)
    b = np.setdiff1d(np.arange(N), a)
    if a.size == 0 or b.size == 0:
        return 0.0
    return subset_entropy(lp, a, q) + subset_entropy(lp, b, q) - entropy(lp)


def kl_divergence(log_p, log_q):
    """``KL(p || q) = sum p (log p - log q)``; +inf when q = 0 where p > 0."""
    lp = normalize(log_p)
    lq = normalize(log_q)
    if lp.shape != lq.shape:
        raise ValueError(f"tables of different sizes: {lp.shape} and {lq.shape}")
    p = np.exp(lp)
    support = p > 0
    if np.any(np.isneginf(lq[support])):
        return float("inf")
    return float(np.sum(p[support] * (lp[support] - lq[support])))


def all_subset_entropies(log_p):
    """Entropies of the marginals of all ``2**N`` site subsets of a binary distribution, indexed by bitmask
    (bit i = site i); N <= 16."""
    lp, N = check_log_probs(log_p)
    if N > MAX_ALL_SUBSETS_N:
        raise ValueError(f"all_subset_entropies needs N <= {MAX_ALL_SUBSETS_N} (work 2 * 3**N), got N = {N}")
    return subset_entropy_table(np.exp(normalize(lp)), N)


def max_bipartition_mi(log_p):
    """``(I_max, A)``: the largest ``I(A; B)`` over all bipartitions of a binary distribution (N <= 16), with
    A (sorted sites, containing site 0) attaining it."""
    H = all_subset_entropies(log_p)
    N = int(np.log2(len(H)))
    full = (1 << N) - 1
    masks = np.arange(1, full, 2)  # A contains site 0; B = complement is non-empty
    mi = H[masks] + H[full ^ masks] - H[full]
    k = int(np.argmax(mi))
    A = [i for i in range(N) if masks[k] >> i & 1]
    return float(mi[k]), A
