"""Counting primitives of the fully connected models (Curie-Weiss, Hopfield, mean-field Potts).

A fully connected model's energy depends on the configuration only through a few order parameters, so its
distribution is a sum over order-parameter values weighted by their multiplicities (binomial / multinomial
coefficients), in log space. These are the small pieces that both the exact samplers
(:mod:`fastmf.sampling.latent`) and the exact results (:mod:`fastmf.exact.meanfield`) are built on;
arguments are assumed validated by the caller.

Conventions:

* Curie-Weiss, ``s = +-1``: ``E = -(J / 2N) M**2 - h M`` with ``M = sum_i s_i``.
* Hopfield, patterns ``xi`` int8 ``+-1`` of shape (P, N); sites with the same pattern column ``xi_i`` (a
  "site type") are interchangeable.
* Mean-field Potts, states ``0..q-1``: ``E = -(J / 2N) sum_k n_k**2 - h n_0`` with occupations ``n_k``.
"""
import math

import numpy as np
from scipy.special import gammaln

__all__ = ["MAX_STATES", "log_sum_exp", "log_binom", "curie_weiss_log_weights", "check_patterns", "site_types",
           "potts_compositions", "potts_log_weights", "potts_n_states"]

#: Largest number of order-parameter states summed unless ``max_states`` is raised (about 1-5 s).
MAX_STATES = 20_000_000


def log_sum_exp(a):
    """Stable ``ln sum exp(a)`` of an array.

    Parameters
    ----------
    a : ndarray
        Log weights (finite maximum).

    Returns
    -------
    float
    """
    amax = np.max(a)
    return float(amax + np.log(np.sum(np.exp(a - amax))))


def log_binom(n, k):
    """``ln binom(n, k)`` through ``gammaln`` (elementwise, real arguments).

    Parameters
    ----------
    n, k : float or ndarray
        ``0 <= k <= n``.

    Returns
    -------
    float or ndarray
    """
    return gammaln(n + 1.0) - gammaln(k + 1.0) - gammaln(n - k + 1.0)


def curie_weiss_log_weights(N, beta, J, h):
    """Unnormalised log weights of the Curie-Weiss magnetization ``M``.

    ``ln w(M) = ln binom(N, (N + M) / 2) - beta E(M)`` with ``E = -(J / 2N) M**2 - h M``; normalise with
    :func:`log_sum_exp`.

    Parameters
    ----------
    N : int
        Number of spins (>= 1).
    beta, J, h : float
        Inverse temperature, coupling and field.

    Returns
    -------
    magnetizations : ndarray of int64
        ``M = -N, -N+2, ..., N``.
    energies : ndarray
        ``E(M)``.
    log_weights : ndarray
        ``ln w(M)``.
    """
    M = np.arange(-N, N + 1, 2, dtype=np.int64)
    E = -(J / (2.0 * N)) * M.astype(np.float64) ** 2 - h * M
    return M, E, log_binom(float(N), (N + M) / 2.0) - beta * E


def check_patterns(patterns):
    """Validate Hopfield patterns.

    Parameters
    ----------
    patterns : array_like of +-1, shape (P, N) or (N,)
        ``1 <= P < N`` patterns (a single pattern may be given as a vector).

    Returns
    -------
    ndarray of int8, shape (P, N)

    Raises
    ------
    ValueError
        On a wrong shape, a value other than +-1, or ``P >= N``.
    """
    xi = np.asarray(patterns)
    if xi.ndim == 1:
        xi = xi[None, :]
    if xi.ndim != 2 or xi.shape[0] < 1 or xi.shape[1] < 1:
        raise ValueError(f"patterns must have shape (P, N) with P, N >= 1, got {np.shape(patterns)}")
    if not np.issubdtype(xi.dtype, np.number) or not np.all(np.isfinite(xi)):
        raise ValueError("patterns must be finite numbers equal to +1 or -1")
    if not np.all((xi == 1) | (xi == -1)):
        raise ValueError("patterns must contain only +1 and -1")
    P, N = xi.shape
    if P >= N:
        raise ValueError(f"need fewer patterns than sites (P < N), got P={P}, N={N}")
    return xi.astype(np.int8)


def site_types(patterns):
    """Group sites by their pattern column.

    Parameters
    ----------
    patterns : array_like of +-1, shape (P, N)
        Hopfield patterns (validated by :func:`check_patterns`).

    Returns
    -------
    types : ndarray of int8, shape (T, P)
        The distinct columns ``xi_i`` (rows).
    counts : ndarray of int64, shape (T,)
        Number of sites of each type.
    index : ndarray of int64, shape (N,)
        The type of each site.
    """
    xi = check_patterns(patterns)
    types, index, counts = np.unique(xi.T, axis=0, return_inverse=True, return_counts=True)
    return types, counts.astype(np.int64), index.ravel().astype(np.int64)


def potts_compositions(n, parts):
    """All compositions of ``n`` into ``parts`` non-negative parts.

    Parameters
    ----------
    n : int
        Total (>= 0).
    parts : int
        Number of parts (>= 1).

    Returns
    -------
    ndarray of int64, shape (binom(n + parts - 1, parts - 1), parts)
        Rows in lexicographic order of the first parts (the last part is the remainder).
    """
    rows = np.zeros((1, 0), np.int64)
    rem = np.array([n], np.int64)
    for _ in range(parts - 1):
        reps = rem + 1
        first = np.repeat(rows, reps, axis=0)
        # for each parent row, values 0..rem: position minus the start of its block
        starts = np.repeat(np.cumsum(reps) - reps, reps)
        vals = np.arange(reps.sum(), dtype=np.int64) - starts
        rows = np.column_stack([first, vals])
        rem = np.repeat(rem, reps) - vals
    return np.column_stack([rows, rem])


def potts_log_weights(occ, N, beta, J, h):
    """Log weights and energies of mean-field Potts occupation vectors.

    Parameters
    ----------
    occ : array_like of int, shape (K, q)
        Occupation vectors (rows summing to ``N``).
    N : int
        Number of sites.
    beta, J, h : float
        Inverse temperature, coupling and field (``E = -(J / 2N) sum_k n_k**2 - h n_0``).

    Returns
    -------
    log_weights : ndarray, shape (K,)
        ``ln(N! / prod_k n_k!) - beta E``.
    energies : ndarray, shape (K,)
    """
    occ = np.asarray(occ, np.int64)
    E = -(J / (2.0 * N)) * np.sum(occ.astype(np.float64) ** 2, axis=1) - h * occ[:, 0]
    logm = gammaln(N + 1.0) - np.sum(gammaln(occ + 1.0), axis=1)
    return logm - beta * E, E


def potts_n_states(N, q):
    """Number of mean-field Potts occupation vectors.

    Parameters
    ----------
    N : int
        Number of sites.
    q : int
        Number of states.

    Returns
    -------
    int
        ``binom(N + q - 1, q - 1)``.
    """
    return math.comb(N + q - 1, q - 1)
