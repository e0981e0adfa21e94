"""Exact i.i.d. samplers of fully connected models: Curie-Weiss and mean-field Potts.

Single-spin Monte Carlo of a fully connected model at low temperature is stuck in one of its symmetric
basins for a time exponential in ``N``. These samplers avoid that: the order parameter (``M`` or the
occupation vector) is drawn from its exact distribution by counting (:mod:`fastmf.models.counting`, inverse
CDF on 53-bit uniforms), then the sites are assigned uniformly at random given it (partial Fisher-Yates).
The Hopfield model is sampled through its Hubbard-Stratonovich latent (:mod:`fastmf.sampling.latent_hopfield`,
re-exported here).

Randomness (Philox4x32-10, key ``(seed, STREAM_LATENT)``; counter ``(c0, c1, c2, c3)``; ``c2`` is the phase):

* phase 0, order-parameter draw of sample ``i``: ``Philox((0, i, 0, 0))``; words 0, 1 make the 53-bit uniform
  for ``M`` (Curie-Weiss) or ``n_0`` (Potts), words 2, 3 the one for the rest of the Potts occupation vector;
* phase 1, site assignment of sample ``i``: Fisher-Yates step ``j`` uses word ``j mod 4`` of
  ``Philox((j div 4, i, 1, 0))`` (an index in ``[j, N)`` by multiply-shift, bias below ``N / 2**32``);
* phases 2 and 3: the Hopfield latent chains and spins (:mod:`fastmf.sampling.latent_hopfield`).
"""
import math

import numpy as np
from scipy.special import logsumexp

from ..io.files import check_memory
from ..kernels.latent_cpu import assign_groups
from ..kernels.philox import STREAM_LATENT, check_seed, philox4x32_array
from ..kernels.validation import check_int, check_real
from ..models.counting import (MAX_STATES, curie_weiss_log_weights, log_sum_exp, potts_compositions,
                               potts_log_weights, potts_n_states)
from .latent_hopfield import THIN_FACTOR, hopfield_latent_log_density, sample_hopfield

__all__ = ["sample_curie_weiss", "sample_hopfield", "sample_potts_mf", "hopfield_latent_log_density",
           "THIN_FACTOR", "curie_weiss_bytes", "potts_mf_bytes"]

#: Peak bytes per sample of the order-parameter draw (Philox counters and words, uniforms, indices, counts).
_BYTES_PER_DRAW = 200


def curie_weiss_bytes(N, n_samples):
    """Estimated peak memory (bytes) of :func:`sample_curie_weiss`: the table of the N + 1 magnetizations and
    their log weights, the per-sample draws, the site permutation and the (n_samples, N) int8 output."""
    return 100 * (N + 1) + _BYTES_PER_DRAW * n_samples + 8 * N + n_samples * N


def potts_mf_bytes(N, q, n_samples):
    """Estimated peak memory (bytes) of :func:`sample_potts_mf`: its largest table of occupation vectors (one
    value of ``n_0``: ``binom(N + q - 2, q - 2)`` rows), the per-sample draws and the uint8 output."""
    block = math.comb(N + q - 2, q - 2)
    return 40 * q * block + 8 * (N + 1) + (_BYTES_PER_DRAW + 16 * q) * n_samples + 8 * N + n_samples * N


# --------------------------------------------------------------------------------------------------
# Shared pieces: validated arguments, 53-bit uniforms, inverse CDF
# --------------------------------------------------------------------------------------------------

def _check_args(beta, J, h, n_samples, seed):
    return (check_real("beta", beta, positive=True), check_real("J", J), check_real("h", h),
            check_int("n_samples", n_samples, 1), check_seed(seed))


def _order_uniforms(n, seed):
    """Two 53-bit uniforms in [0, 1) per sample from ``Philox((0, i, 0, 0))`` (phase 0)."""
    ctr = np.zeros((n, 4), np.uint64)      # c0 = 0, c2 = PHASE_ORDER = 0, c3 = 0
    ctr[:, 1] = np.arange(n, dtype=np.uint64)
    w = philox4x32_array(ctr, np.array([[seed, STREAM_LATENT]], np.uint64)).astype(np.uint64)
    u = ((w[:, 0::2] >> np.uint64(5)) * np.uint64(1 << 26) + (w[:, 1::2] >> np.uint64(6))).astype(np.float64)
    return u * 2.0 ** -53


def _inverse_cdf(logw, u):
    """Indices drawn with probabilities ``∝ exp(logw)``; zero-weight entries are never chosen."""
    p = np.exp(logw - np.max(logw))
    cdf = np.cumsum(p)
    return np.minimum(np.searchsorted(cdf, u * cdf[-1], side="right"), len(cdf) - 1)


# --------------------------------------------------------------------------------------------------
# Curie-Weiss
# --------------------------------------------------------------------------------------------------

def sample_curie_weiss(N, beta, J=1.0, h=0.0, *, n_samples, seed):
    """Exact i.i.d. Curie-Weiss samples: ``M`` by inverse CDF of its exact distribution, then which sites
    are up uniformly at random.

    Parameters
    ----------
    N : int
        Number of spins (>= 1).
    beta : float
        Inverse temperature (> 0).
    J, h : float
        ``E = -(J / 2N) M**2 - h M``.
    n_samples : int
        Number of configurations (>= 1).
    seed : int
        Philox key, ``0 <= seed < 2**32``.

    Returns
    -------
    spins : ndarray of int8, shape (n_samples, N)
    info : dict
        ``sampler``, ``model``, parameters, ``tau`` (0.5: independent), ``thinning`` (1), ``log_z``.

    Raises
    ------
    fastmf.io.ResourceLimitError
        Before allocating, when :func:`curie_weiss_bytes` is above :func:`fastmf.io.memory_limit`.
    """
    N = check_int("N", N, 1)
    beta, J, h, n_samples, seed = _check_args(beta, J, h, n_samples, seed)
    check_memory(curie_weiss_bytes(N, n_samples), f"exact Curie-Weiss sampling of {n_samples} samples of N={N} spins")
    M, _, logw = curie_weiss_log_weights(N, beta, J, h)
    log_z = log_sum_exp(logw)
    u = _order_uniforms(n_samples, seed)[:, 0]
    up = (M[_inverse_cdf(logw - log_z, u)] + N) // 2
    counts = np.column_stack([up, N - up]).astype(np.int64)
    spins = np.empty((n_samples, N), np.int8)
    assign_groups(counts, np.array([1, -1], np.int8), seed, STREAM_LATENT, spins)
    info = dict(sampler="curie_weiss_exact", model="curie_weiss", N=N, beta=beta, J=J, h=h, seed=seed,
                n_samples=n_samples, tau=0.5, thinning=1, log_z=log_z)
    return spins, info


# --------------------------------------------------------------------------------------------------
# Mean-field Potts
# --------------------------------------------------------------------------------------------------

def sample_potts_mf(N, q, beta, J=1.0, h=0.0, *, n_samples, seed, max_states=MAX_STATES):
    """Exact i.i.d. mean-field Potts samples: the occupation vector by counting, then a random assignment.

    ``n_0`` is drawn from its exact marginal, then ``(n_1, ..., n_{q-1})`` from the exact conditional given
    ``n_0`` (both by inverse CDF), then the states are placed on uniformly random sites.

    Parameters
    ----------
    N : int
        Number of sites (>= 1).
    q : int
        Number of states (>= 2).
    beta : float
        Inverse temperature (> 0).
    J, h : float
        ``E = -(J / 2N) sum_k n_k**2 - h n_0``.
    n_samples : int
    seed : int
    max_states : int
        Refuse when the number of occupation vectors ``binom(N + q - 1, q - 1)`` exceeds this (q <= 4 is
        feasible up to N of a few thousand).

    Returns
    -------
    states : ndarray of uint8, shape (n_samples, N)
    info : dict

    Raises
    ------
    ValueError
        Above ``max_states`` occupation vectors; :class:`fastmf.io.ResourceLimitError` when
        :func:`potts_mf_bytes` is above :func:`fastmf.io.memory_limit` (both before any work).
    """
    N = check_int("N", N, 1)
    q = check_int("q", q, 2, 255)
    beta, J, h, n_samples, seed = _check_args(beta, J, h, n_samples, seed)
    max_states = check_int("max_states", max_states, 1)
    n_states = potts_n_states(N, q)
    if n_states > max_states:
        raise ValueError(f"exact mean-field Potts sampling counts binom(N+q-1, q-1) = {n_states:.3g} "
                         f"occupation vectors for N={N}, q={q}, above max_states={max_states}; use "
                         "single-site Monte Carlo with parallel tempering for this size")
    check_memory(potts_mf_bytes(N, q, n_samples), f"exact mean-field Potts sampling of {n_samples} samples of "
                                                  f"N={N} sites, q={q}")

    def block(n0):
        rest = potts_compositions(N - n0, q - 1)
        occ = np.column_stack([np.full(len(rest), n0, np.int64), rest])
        return occ, potts_log_weights(occ, N, beta, J, h)[0]

    n0_logw = np.array([logsumexp(block(n0)[1]) for n0 in range(N + 1)])
    u = _order_uniforms(n_samples, seed)
    n0 = _inverse_cdf(n0_logw, u[:, 0])
    occ = np.empty((n_samples, q), np.int64)
    for v in np.unique(n0):
        rows = np.nonzero(n0 == v)[0]
        occ_v, logw_v = block(int(v))
        occ[rows] = occ_v[_inverse_cdf(logw_v, u[rows, 1])]
    states = np.empty((n_samples, N), np.uint8)
    assign_groups(occ, np.arange(q, dtype=np.uint8), seed, STREAM_LATENT, states)
    info = dict(sampler="potts_mf_exact", model="potts_mf", N=N, q=q, beta=beta, J=J, h=h, seed=seed,
                n_samples=n_samples, tau=0.5, thinning=1, log_z=float(logsumexp(n0_logw)))
    return states, info
