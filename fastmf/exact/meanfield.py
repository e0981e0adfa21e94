"""Exact results for fully connected ("mean-field") models by counting, at any N.

A fully connected model's energy depends on the configuration only through a few order parameters, so
the sum over ``2**N`` (or ``q**N``) states collapses to a sum over order-parameter values weighted by
their multiplicities (binomial / multinomial coefficients). Everything is done in log space (``lgamma``
and a stable log-sum-exp), so ``N`` in the thousands is fine.

Conventions (shared with the samplers, ``fastmf.sampling.latent``; the counting primitives live in
``fastmf.models.counting`` and are re-exported here):

* Curie-Weiss, ``s = +-1``: ``E = -(J / 2N) M**2 - h M`` with ``M = sum_i s_i``.
* Hopfield, patterns ``xi`` int8 ``+-1`` of shape (P, N): ``E = -(J / 2N) sum_mu (xi^mu . s)**2 - h sum_i s_i``
  (the self-coupling is kept: it adds the constant ``-J P / 2`` and leaves the distribution unchanged).
  Sites with the same pattern column ``xi_i`` ("site type" ``t``, ``c_t`` sites) are interchangeable, so
  the state is the vector of up-counts ``u_t`` in ``0..c_t``: ``prod_t (c_t + 1)`` states of weight
  ``prod_t binom(c_t, u_t) exp(-beta E)``.
* Mean-field Potts, states ``0..q-1``: ``E = -(J / 2N) sum_k n_k**2 - h n_0`` with occupations ``n_k``:
  ``binom(N + q - 1, q - 1)`` compositions of weight ``N! / prod_k n_k! exp(-beta E)``.
"""
import math
from dataclasses import dataclass

import numpy as np

from ..kernels.validation import check_int, check_real
from ..models.counting import (MAX_STATES, curie_weiss_log_weights, log_binom, log_sum_exp, potts_compositions,
                               potts_log_weights, potts_n_states, site_types)

__all__ = ["CurieWeissExact", "HopfieldExact", "PottsMFExact", "curie_weiss_exact", "hopfield_exact",
           "potts_mf_exact", "site_types", "potts_compositions", "potts_log_weights", "potts_n_states", "MAX_STATES"]

_CHUNK = 1 << 20
_ENERGY_BIN = 1e-9


def _group_energies(energies, weights):
    """Sum weights over equal energies (binned on a ``1e-9`` grid, as in ``fastmf.exact.crosscheck``)."""
    keys = np.round(np.asarray(energies) / _ENERGY_BIN).astype(np.int64)
    uk, first, inv = np.unique(keys, return_index=True, return_inverse=True)
    w = np.bincount(inv.ravel(), weights=weights, minlength=uk.size)
    return np.asarray(energies)[first], w / w.sum()


def _check_common(N, beta, J, h):
    return (check_int("N", N, 1), check_real("beta", beta, nonnegative=True), check_real("J", J),
            check_real("h", h))


def _mean(values, probs):
    return float(np.sum(values * probs))


# --------------------------------------------------------------------------------------------------
# Curie-Weiss
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CurieWeissExact:
    """Exact Curie-Weiss distribution of the total magnetization ``M``.

    Attributes
    ----------
    N, beta, J, h : size, inverse temperature, coupling, field.
    log_z : float
        ``ln Z`` (sum over all ``2**N`` configurations).
    magnetizations : ndarray of int64
        ``M = -N, -N+2, ..., N``.
    log_probs, probs : ndarray
        ``ln P(M)`` and ``P(M)``.
    energies : ndarray
        ``E(M)`` for each entry of ``magnetizations``.
    """

    N: int
    beta: float
    J: float
    h: float
    log_z: float
    magnetizations: np.ndarray
    log_probs: np.ndarray
    probs: np.ndarray
    energies: np.ndarray

    @property
    def mean_energy(self):
        """``<E>`` (total)."""
        return _mean(self.energies, self.probs)

    @property
    def energy_variance(self):
        return _mean((self.energies - self.mean_energy) ** 2, self.probs)

    @property
    def mean_abs_m(self):
        """``<|m|>`` with ``m = M / N``."""
        return _mean(np.abs(self.magnetizations) / self.N, self.probs)

    @property
    def mean_m(self):
        return _mean(self.magnetizations / self.N, self.probs)

    @property
    def mean_m2(self):
        """``<m**2>``."""
        return _mean((self.magnetizations / self.N) ** 2, self.probs)


def curie_weiss_exact(N, beta, J=1.0, h=0.0):
    """Exact Curie-Weiss results by counting: ``P(M) = binom(N, (N+M)/2) exp(-beta E(M)) / Z``.

    Parameters
    ----------
    N : int
        Number of spins (>= 1; any size, the cost is O(N)).
    beta : float
        Inverse temperature (>= 0).
    J, h : float
        Coupling and field, ``E = -(J / 2N) M**2 - h M``.

    Returns
    -------
    CurieWeissExact
    """
    N, beta, J, h = _check_common(N, beta, J, h)
    M, E, logw = curie_weiss_log_weights(N, beta, J, h)
    log_z = log_sum_exp(logw)
    log_p = logw - log_z
    return CurieWeissExact(N=N, beta=beta, J=J, h=h, log_z=log_z, magnetizations=M, log_probs=log_p,
                           probs=np.exp(log_p), energies=E)


# --------------------------------------------------------------------------------------------------
# Hopfield
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class HopfieldExact:
    """Exact Hopfield distributions, summed over site-type up-counts.

    Attributes
    ----------
    N, P, beta, J, h : sizes and parameters.
    log_z : float
    overlaps : ndarray of int64, shape (K, P)
        Distinct overlap vectors ``M_mu = xi^mu . s`` (lexicographic order).
    overlap_probs : ndarray, shape (K,)
    magnetizations, magnetization_probs : ndarray
        ``sum_i s_i = -N..N`` step 2 and its distribution.
    energies, energy_probs : ndarray
        Distinct total energies (ascending, ``1e-9`` grid) and their probabilities.
    n_states : int
        Number of up-count vectors summed, ``prod_t (c_t + 1)``.
    """

    N: int
    P: int
    beta: float
    J: float
    h: float
    log_z: float
    overlaps: np.ndarray
    overlap_probs: np.ndarray
    magnetizations: np.ndarray
    magnetization_probs: np.ndarray
    energies: np.ndarray
    energy_probs: np.ndarray
    n_states: int

    @property
    def mean_energy(self):
        return _mean(self.energies, self.energy_probs)

    @property
    def mean_abs_overlaps(self):
        """``<|M_mu|> / N`` for each pattern."""
        return np.abs(self.overlaps / self.N).T @ self.overlap_probs


def hopfield_exact(patterns, beta, J=1.0, h=0.0, max_states=MAX_STATES):
    """Exact Hopfield results by enumerating the up-counts of each site type.

    Parameters
    ----------
    patterns : array_like of +-1, shape (P, N)
        ``P < N`` patterns.
    beta : float
        Inverse temperature (>= 0).
    J, h : float
        ``E = -(J / 2N) sum_mu (xi^mu . s)**2 - h sum_i s_i``.
    max_states : int
        Refuse when ``prod_t (c_t + 1)`` exceeds this (the cost is linear in it).

    Returns
    -------
    HopfieldExact
    """
    types, counts, _ = site_types(patterns)
    P, N = np.shape(np.atleast_2d(patterns))
    _, beta, J, h = _check_common(N, beta, J, h)
    max_states = check_int("max_states", max_states, 1)
    radices = counts + 1
    n_states = math.prod(int(r) for r in radices)
    if n_states > max_states:
        raise ValueError(f"Hopfield counting needs prod_t (c_t + 1) = {n_states:.3g} up-count states "
                         f"({len(counts)} site types for N={N}, P={P}), above max_states={max_states}; "
                         "use fewer patterns or sites, or the latent sampler")
    if (P + 1) * math.log2(N + 1) >= 62:
        raise ValueError(f"overlap vectors of N={N}, P={P} do not fit a 64-bit key")
    lbin = [log_binom(float(c), np.arange(c + 1.0)) for c in counts]
    xi_t = types.astype(np.int64)                       # (T, P)
    place = (N + 1) ** np.arange(P + 1, dtype=np.int64)  # key = sum_mu idx_mu (N+1)^mu + idx_mag (N+1)^P

    def chunks():
        for start in range(0, n_states, _CHUNK):
            idx = np.arange(start, min(start + _CHUNK, n_states), dtype=np.int64)
            u = np.empty((idx.size, len(counts)), np.int64)
            for t, r in enumerate(radices):               # mixed-radix digits: the up-counts
                u[:, t] = idx % r
                idx //= r
            m = 2 * u - counts                               # magnetization of each type
            M = m @ xi_t                                     # (n, P) overlaps
            mag = m.sum(axis=1)
            E = -(J / (2.0 * N)) * np.sum(M.astype(np.float64) ** 2, axis=1) - h * mag
            logw = sum(lbin[t][u[:, t]] for t in range(len(counts))) - beta * E
            key = ((M + N) // 2) @ place[:P] + ((mag + N) // 2) * place[P]
            yield key, logw

    # two passes: the maximum first, so that exp never overflows or underflows wholesale
    lmax = max(float(lw.max()) for _, lw in chunks())
    keys, sums = [], []
    for key, logw in chunks():
        uk, inv = np.unique(key, return_inverse=True)
        keys.append(uk)
        sums.append(np.bincount(inv.ravel(), weights=np.exp(logw - lmax), minlength=uk.size))
    uk, inv = np.unique(np.concatenate(keys), return_inverse=True)
    w = np.bincount(inv.ravel(), weights=np.concatenate(sums), minlength=uk.size)
    z_rel = w.sum()
    p = w / z_rel
    digits = (uk[:, None] // place[None, :]) % (N + 1)
    M = 2 * digits[:, :P] - N
    mag = 2 * digits[:, P] - N
    E = -(J / (2.0 * N)) * np.sum(M.astype(np.float64) ** 2, axis=1) - h * mag
    ov, ov_inv = np.unique(M, axis=0, return_inverse=True)
    ov_p = np.bincount(ov_inv.ravel(), weights=p, minlength=len(ov))
    mags = np.arange(-N, N + 1, 2, dtype=np.int64)
    mag_p = np.bincount((mag + N) // 2, weights=p, minlength=N + 1)
    energies, e_p = _group_energies(E, p)
    return HopfieldExact(N=N, P=P, beta=beta, J=J, h=h, log_z=float(np.log(z_rel) + lmax),
                         overlaps=ov.astype(np.int64), overlap_probs=ov_p, magnetizations=mags,
                         magnetization_probs=mag_p, energies=energies, energy_probs=e_p,
                         n_states=n_states)


# --------------------------------------------------------------------------------------------------
# Mean-field Potts
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PottsMFExact:
    """Exact mean-field Potts distributions over occupation vectors.

    Attributes
    ----------
    N, q, beta, J, h : size, number of states and parameters.
    log_z : float
    n0_probs : ndarray, shape (N+1,)
        ``P(n_0 = k)``, ``k = 0..N``.
    max_occupation_probs : ndarray, shape (N+1,)
        ``P(max_k n_k = k)``.
    energies, energy_probs : ndarray
        Distinct total energies (ascending) and their probabilities.
    """

    N: int
    q: int
    beta: float
    J: float
    h: float
    log_z: float
    n0_probs: np.ndarray
    max_occupation_probs: np.ndarray
    energies: np.ndarray
    energy_probs: np.ndarray

    @property
    def mean_energy(self):
        return _mean(self.energies, self.energy_probs)

    @property
    def mean_order_parameter(self):
        """``<(q max_k n_k / N - 1) / (q - 1)>`` (0 disordered, 1 ordered)."""
        k = np.arange(self.N + 1)
        return _mean((self.q * k / self.N - 1.0) / (self.q - 1.0), self.max_occupation_probs)


def potts_mf_exact(N, q, beta, J=1.0, h=0.0, max_states=MAX_STATES):
    """Exact mean-field Potts results by summing over occupation vectors.

    Parameters
    ----------
    N : int
        Number of sites (>= 1).
    q : int
        Number of states (>= 2).
    beta : float
        Inverse temperature (>= 0).
    J, h : float
        ``E = -(J / 2N) sum_k n_k**2 - h n_0``.
    max_states : int
        Refuse when ``binom(N + q - 1, q - 1)`` exceeds this.

    Returns
    -------
    PottsMFExact
    """
    N, beta, J, h = _check_common(N, beta, J, h)
    q = check_int("q", q, 2)
    max_states = check_int("max_states", max_states, 1)
    n_states = potts_n_states(N, q)
    if n_states > max_states:
        raise ValueError(f"mean-field Potts counting needs binom(N+q-1, q-1) = {n_states:.3g} occupation "
                         f"vectors for N={N}, q={q}, above max_states={max_states}; use a smaller N or q")
    # one block per n_0 keeps memory at binom(N+q-2, q-2) rows
    blocks = []
    for n0 in range(N + 1):
        rest = potts_compositions(N - n0, q - 1)
        occ = np.column_stack([np.full(len(rest), n0), rest])
        logw, E = potts_log_weights(occ, N, beta, J, h)
        blocks.append((n0, occ.max(axis=1), logw, E))
    lmax = max(float(b[2].max()) for b in blocks)
    n0_w = np.zeros(N + 1)
    max_w = np.zeros(N + 1)
    es, ws = [], []
    for n0, mx, logw, E in blocks:
        w = np.exp(logw - lmax)
        n0_w[n0] = w.sum()
        max_w += np.bincount(mx, weights=w, minlength=N + 1)
        es.append(E)
        ws.append(w)
    z_rel = n0_w.sum()
    energies, e_p = _group_energies(np.concatenate(es), np.concatenate(ws) / z_rel)
    return PottsMFExact(N=N, q=q, beta=beta, J=J, h=h, log_z=float(np.log(z_rel) + lmax),
                        n0_probs=n0_w / z_rel, max_occupation_probs=max_w / z_rel,
                        energies=energies, energy_probs=e_p)
