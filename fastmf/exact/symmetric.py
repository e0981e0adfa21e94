"""Exact thermodynamics and information quantities of permutation-symmetric spin models by counting.

Curie-Weiss (``E = -(J / 2N) M**2 - h M``, ``M = sum_i s_i``) and Hopfield
(``E = -(J / 2N) sum_mu (xi^mu . s)**2 - h sum_i s_i``, patterns ``xi`` +-1 of shape (P, N), self-coupling
kept) as in :mod:`fastmf.exact.meanfield`. Everything is in nats.

Sites of equal pattern column (a "site type" ``t`` with ``c_t`` sites; Curie-Weiss has one type) are
interchangeable, so the Boltzmann weight of a configuration depends only on the up-counts ``u_t``, and
given the up-counts of a subset ``A`` its configuration is uniform. Hence ``I(x_A; x_B) = I(u^A; u^B)``
and every marginal entropy follows from the marginal law of the up-counts.

Method. Let ``w(u) = exp(-beta E(u))`` and, for a subset ``A`` with per-type counts ``c^A``
(``c^B = c - c^A``),

    ``g_A(a) = ln E_{b ~ Bin(c^B, 1/2)} [w(a + b)] - ln max w``   (binomial average over the B counts).

Then a configuration ``x_A`` with up-counts ``a`` has probability ``2**-|A| exp(g_A(a) - g_0)`` with
``g_0 = g_{empty set}`` (``ln Z = N ln 2 + ln max w + g_0``), so

    ``H(x_A) = |A| ln 2 + g_0 - <g_A>_A``   and   ``I(A; B) = g_0 - <g_A>_A - <g_B>_B + <g_V>_V``

(``<.>_A`` over the up-count law of ``A``, ``V`` all sites). The ``|A| ln 2`` terms cancel analytically and
the ``g`` are O(beta N) rather than O(N ln 2 + beta N), which keeps the differences accurate. Moving one
site of type ``t`` from ``A`` to ``B`` is one Pascal step ``g(a) <- ln((e^{g(a)} + e^{g(a + e_t)}) / 2)``,
so a whole cut profile is a chain of such steps: O(N**2) for Curie-Weiss, at most
``2 N prod_t (c_t + 1)`` for Hopfield.

Costs and limits (``ValueError`` beyond them, with the count):

* :func:`curie_weiss_info`: O(N), any N. ``mutual_information(k)``, ``subset_marginal(k)``,
  ``subset_entropy(k)``: a direct binomial sum over a ``(k + 1) x (N - k + 1)`` grid in row blocks (memory
  ~10**6 entries), refused above ``max_work`` = :data:`MAX_PAIR_WORK` grid entries (the half cut of
  N = 20000, ~ 3 s).
  ``cut_profile()``: N Pascal steps of length <= N + 1, refused for N > :data:`MAX_PROFILE_N` (~ 3 s there).
* :func:`hopfield_info`: the full up-count grid ``prod_t (c_t + 1)`` <= ``max_states`` =
  :data:`HOPFIELD_MAX_STATES` (also passed to :func:`~fastmf.exact.meanfield.hopfield_exact`); each mutual
  information or subset entropy costs at most ``N`` Pascal steps on that grid, a cut profile ``2 N``.
"""
import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from scipy.special import gammaln, logsumexp

from ..kernels.validation import check_int, check_real
from .info import check_subset
from .meanfield import curie_weiss_exact, hopfield_exact, site_types

__all__ = ["CurieWeissInfo", "HopfieldInfo", "SubsetMarginal", "curie_weiss_info", "hopfield_info",
           "MAX_PAIR_WORK", "MAX_PROFILE_N", "HOPFIELD_MAX_STATES"]

#: Largest ``(k + 1) (N - k + 1)`` grid for the direct Curie-Weiss subset sums
#: (the half cut of N = 20000, ~ 3 s).
MAX_PAIR_WORK = 120_000_000
#: Largest N for :meth:`CurieWeissInfo.cut_profile` (O(N**2) work, ~ 3 s at the limit).
MAX_PROFILE_N = 20_000
#: Default largest Hopfield up-count grid ``prod_t (c_t + 1)``.
HOPFIELD_MAX_STATES = 2_000_000

_LN2 = math.log(2.0)
_BLOCK = 1 << 20


def _as_value_error(check, *args, **kw):
    """The shared validators raise TypeError for wrong types; this module reports every bad input as
    ValueError."""
    try:
        return check(*args, **kw)
    except TypeError as e:
        raise ValueError(str(e)) from None


def _check_params(beta, J, h):
    return (_as_value_error(check_real, "beta", beta, nonnegative=True), _as_value_error(check_real, "J", J),
            _as_value_error(check_real, "h", h))


def _mean(values, probs):
    return float(np.sum(values * probs))


def _weighted_g(log_mult, g, g0):
    """``<g>`` under ``p = exp(log_mult + g - g0)`` (renormalised against rounding) and ``p``."""
    p = np.exp(log_mult + g - g0)
    return float(np.sum(p * g) / np.sum(p)), p


def _pascal_step(g, axis=0):
    """Move one site of the type ``axis`` from A to B: ``g(a) <- ln((e^g(a) + e^g(a+1)) / 2)``."""
    g = np.moveaxis(g, axis, 0)
    return np.moveaxis(np.logaddexp(g[:-1], g[1:]) - _LN2, 0, axis)


# --------------------------------------------------------------------------------------------------
# Curie-Weiss
# --------------------------------------------------------------------------------------------------

class SubsetMarginal(NamedTuple):
    """Marginal law of ``k`` sites of a Curie-Weiss model (any ``k`` sites: the model is symmetric).

    ``count_probs[a]``: P(a of the k spins are up), ``a = 0..k``. ``config_log_probs[a]`` /
    ``config_probs[a]``: probability of each single configuration of the k spins with ``a`` up
    (``count_probs[a] / binom(k, a)``).
    """

    count_probs: np.ndarray
    config_log_probs: np.ndarray
    config_probs: np.ndarray


@dataclass(frozen=True)
class CurieWeissInfo:
    """Exact Curie-Weiss thermodynamics and information quantities (see :func:`curie_weiss_info`).

    Attributes
    ----------
    N, beta, J, h : size and parameters.
    log_z : float
        ``ln Z``.
    free_energy : float
        ``-ln Z / beta`` (``-inf`` at ``beta == 0``).
    entropy : float
        Gibbs entropy of the configuration distribution, ``ln Z + beta <E>``.
    mean_energy, energy_variance : float
        ``<E>`` and ``Var E`` (total, not per site).
    mean_m, mean_abs_m, mean_m2, mean_m4 : float
        Moments of ``m = M / N``.
    magnetizations, probs : ndarray
        ``M = -N, -N+2, ..., N`` and ``P(M)``.
    """

    N: int
    beta: float
    J: float
    h: float
    log_z: float
    free_energy: float
    entropy: float
    mean_energy: float
    energy_variance: float
    mean_m: float
    mean_abs_m: float
    mean_m2: float
    mean_m4: float
    magnetizations: np.ndarray = field(repr=False)
    probs: np.ndarray = field(repr=False)
    _g: np.ndarray = field(repr=False, compare=False)       # g_V(u) = ln w(u) - max ln w, u = 0..N
    _g0: float = field(repr=False, compare=False)
    _g_full_mean: float = field(repr=False, compare=False)  # <g_V>_V
    _lgam: np.ndarray = field(repr=False, compare=False)    # ln n!, n = 0..N

    @property
    def heat_capacity(self):
        """``beta**2 Var E`` (total)."""
        return self.beta ** 2 * self.energy_variance

    def _log_binom(self, n, a):
        return self._lgam[n] - self._lgam[a] - self._lgam[n - a]

    def _check_k(self, k):
        return _as_value_error(check_int, "k", k, 0, self.N)

    def _g_subset(self, k, max_work):
        """``g_A(a)``, ``a = 0..k``, for ``|A| = k`` by the direct binomial sum over the B counts."""
        N = self.N
        n = N - k
        max_work = _as_value_error(check_int, "max_work", max_work, 1)
        work = (k + 1) * (n + 1)
        if work > max_work:
            raise ValueError(f"Curie-Weiss subset sums for N={N}, k={k} need a ({k + 1} x {n + 1}) = "
                             f"{work:.3g} grid, above max_work={max_work:.3g}; use cut_profile() (O(N**2) "
                             "for all k) or raise max_work")
        lb = self._log_binom(n, np.arange(n + 1)) - n * _LN2
        out = np.empty(k + 1)
        rows = max(1, _BLOCK // (n + 1))
        b = np.arange(n + 1)
        for start in range(0, k + 1, rows):
            a = np.arange(start, min(start + rows, k + 1))
            out[a] = logsumexp(lb[None, :] + self._g[a[:, None] + b[None, :]], axis=1)
        return out

    def _mean_g(self, k, g):
        return _weighted_g(self._log_binom(k, np.arange(k + 1)) - k * _LN2, g, self._g0)

    def subset_marginal(self, k, max_work=MAX_PAIR_WORK):
        """Exact marginal law of any ``k`` sites; O(k (N - k)).

        Returns
        -------
        SubsetMarginal
            ``count_probs`` (P(a up spins), a = 0..k), ``config_log_probs`` and ``config_probs``
            (probability of one configuration with ``a`` up spins).
        """
        k = self._check_k(k)
        g = self._g_subset(k, max_work)
        lq = g - self._g0 - k * _LN2
        counts = np.exp(lq + self._log_binom(k, np.arange(k + 1)))
        return SubsetMarginal(counts / counts.sum(), lq, np.exp(lq))

    def subset_entropy(self, k, max_work=MAX_PAIR_WORK):
        """Entropy ``H(x_A)`` of any ``k`` sites; O(k (N - k))."""
        k = self._check_k(k)
        return k * _LN2 + self._g0 - self._mean_g(k, self._g_subset(k, max_work))[0]

    def mutual_information(self, k, max_work=MAX_PAIR_WORK):
        """``I(x_A; x_B)`` for ``|A| = k`` (any k sites against the rest); 0 for k = 0 or N.

        Equal to ``I(M_A; M_B)``; computed as ``H(x_A) + H(x_B) - S`` from the two exact marginals, cost
        ``2 (k + 1) (N - k + 1)`` (refused above ``max_work`` grid entries). Clipped at 0 against rounding.
        """
        k = self._check_k(k)
        if k in (0, self.N):
            return 0.0
        ea = self._mean_g(k, self._g_subset(k, max_work))[0]
        eb = self._mean_g(self.N - k, self._g_subset(self.N - k, max_work))[0]
        return max(0.0, self._g0 - ea - eb + self._g_full_mean)

    def cut_profile(self, max_n=MAX_PROFILE_N):
        """``I(k)`` for every cut size, as an array of length ``N + 1`` (``I[0] = I[N] = 0``).

        One chain of N Pascal steps from ``g_V`` down to ``g_0``: O(N**2) work, O(N) memory; refused for
        ``N > max_n``. Clipped at 0 against rounding.
        """
        max_n = _as_value_error(check_int, "max_n", max_n, 1)
        N = self.N
        if N > max_n:
            raise ValueError(f"cut_profile for N={N} needs {N * (N + 1) // 2:.3g} Pascal-step entries, above "
                             f"max_n={max_n} (~N**2/2 work); use mutual_information(k) for single cuts or "
                             "raise max_n")
        means = np.empty(N + 1)
        means[N] = self._g_full_mean
        means[0] = self._g0
        g = self._g
        for k in range(N - 1, 0, -1):
            g = _pascal_step(g)
            means[k] = self._mean_g(k, g)[0]
        prof = self._g0 - means - means[::-1] + self._g_full_mean
        prof[0] = prof[N] = 0.0
        return np.maximum(prof, 0.0)


def curie_weiss_info(N, beta, J=1.0, h=0.0):
    """Exact Curie-Weiss thermodynamics and mutual information by counting.

    Parameters
    ----------
    N : int
        Number of spins (>= 1). The thermodynamics is O(N) for any N; see the methods for their costs.
    beta : float
        Inverse temperature (finite, >= 0).
    J, h : float
        ``E = -(J / 2N) M**2 - h M``.

    Returns
    -------
    CurieWeissInfo
        With methods ``mutual_information(k)``, ``cut_profile()``, ``subset_marginal(k)`` and
        ``subset_entropy(k)``.
    """
    N = _as_value_error(check_int, "N", N, 1)
    beta, J, h = _check_params(beta, J, h)
    ex = curie_weiss_exact(N, beta, J, h)
    lw = -beta * ex.energies
    g = lw - lw.max()
    lgam = gammaln(np.arange(N + 1) + 1.0)
    lb = lgam[N] - lgam - lgam[::-1] - N * _LN2
    g0 = float(logsumexp(lb + g))
    g_full_mean = _weighted_g(lb, g, g0)[0]
    m = ex.magnetizations / N
    mean_e = ex.mean_energy
    return CurieWeissInfo(N=N, beta=beta, J=J, h=h, log_z=ex.log_z,
                          free_energy=-ex.log_z / beta if beta > 0 else -math.inf,
                          entropy=ex.log_z + beta * mean_e, mean_energy=mean_e,
                          energy_variance=ex.energy_variance, mean_m=_mean(m, ex.probs),
                          mean_abs_m=_mean(np.abs(m), ex.probs), mean_m2=_mean(m ** 2, ex.probs),
                          mean_m4=_mean(m ** 4, ex.probs), magnetizations=ex.magnetizations, probs=ex.probs,
                          _g=g, _g0=g0, _g_full_mean=g_full_mean, _lgam=lgam)


# --------------------------------------------------------------------------------------------------
# Hopfield
# --------------------------------------------------------------------------------------------------

def _log_binom_grid(counts, lgam):
    """``sum_t ln binom(counts_t, a_t)`` on the grid ``prod_t (counts_t + 1)``."""
    T = len(counts)
    out = np.zeros(tuple(int(c) + 1 for c in counts))
    for t, c in enumerate(counts):
        a = np.arange(c + 1)
        shape = [1] * T
        shape[t] = c + 1
        out = out + (lgam[c] - lgam[a] - lgam[c - a]).reshape(shape)
    return out


@dataclass(frozen=True)
class HopfieldInfo:
    """Exact Hopfield thermodynamics and information quantities (see :func:`hopfield_info`).

    Attributes
    ----------
    N, P, beta, J, h : sizes and parameters.
    log_z, free_energy, entropy, mean_energy, energy_variance : float
        As in :class:`CurieWeissInfo` (``entropy = ln Z + beta <E>``).
    mean_abs_overlaps, mean_overlap_sq : ndarray, shape (P,)
        ``<|m_mu|>`` and ``<m_mu**2>`` with ``m_mu = xi^mu . s / N``.
    mean_m : float
        ``<sum_i s_i> / N``.
    type_counts : ndarray of int64, shape (T,)
        ``c_t``; ``site_type`` (shape (N,)) gives each site's type (as in
        :func:`~fastmf.exact.meanfield.site_types`).
    n_states : int
        ``prod_t (c_t + 1)``.
    exact : HopfieldExact
        The distributions of :func:`~fastmf.exact.meanfield.hopfield_exact` (overlaps, magnetization,
        energy).
    """

    N: int
    P: int
    beta: float
    J: float
    h: float
    log_z: float
    free_energy: float
    entropy: float
    mean_energy: float
    energy_variance: float
    mean_abs_overlaps: np.ndarray
    mean_overlap_sq: np.ndarray
    mean_m: float
    type_counts: np.ndarray = field(repr=False)
    site_type: np.ndarray = field(repr=False)
    n_states: int
    exact: object = field(repr=False, compare=False)
    _g: np.ndarray = field(repr=False, compare=False)       # g_V on the full up-count grid
    _g0: float = field(repr=False, compare=False)
    _g_full_mean: float = field(repr=False, compare=False)
    _lgam: np.ndarray = field(repr=False, compare=False)

    @property
    def heat_capacity(self):
        return self.beta ** 2 * self.energy_variance

    def _counts_of(self, A):
        A = check_subset(A, self.N)
        return np.bincount(self.site_type[A], minlength=len(self.type_counts)).astype(np.int64)

    def _g_subset(self, counts_a):
        """``g_A`` for a subset with per-type counts ``counts_a``: remove the B sites by Pascal steps."""
        g = self._g
        for t, nb in enumerate(self.type_counts - counts_a):
            for _ in range(int(nb)):
                g = _pascal_step(g, t)
        return g

    def _mean_g(self, counts_a, g):
        lb = _log_binom_grid(counts_a, self._lgam) - int(counts_a.sum()) * _LN2
        return _weighted_g(lb, g, self._g0)[0]

    def subset_entropy(self, A):
        """Entropy ``H(x_A)`` of the sites ``A`` (any iterable of distinct site indices)."""
        ca = self._counts_of(A)
        return int(ca.sum()) * _LN2 + self._g0 - self._mean_g(ca, self._g_subset(ca))

    def mutual_information(self, A):
        """``I(x_A; x_B)`` for the sites ``A`` against the rest (0 when ``A`` is empty or all sites).

        Equal to ``I(u^A; u^B)`` of the per-type up-counts; at most N Pascal steps on the up-count grid.
        Clipped at 0 against rounding.
        """
        ca = self._counts_of(A)
        cb = self.type_counts - ca
        if ca.sum() == 0 or cb.sum() == 0:
            return 0.0
        ea = self._mean_g(ca, self._g_subset(ca))
        eb = self._mean_g(cb, self._g_subset(cb))
        return max(0.0, self._g0 - ea - eb + self._g_full_mean)

    def cut_profile(self):
        """``I(k)`` for the half-line cuts ``A = {0..k-1}``: an array of length ``N + 1``
        (``I[0] = I[N] = 0``).

        Two chains of N Pascal steps (prefixes shrinking from the right, suffixes from the left), each on
        at most ``n_states`` entries.
        """
        N, g0, gm = self.N, self._g0, self._g_full_mean
        pre = np.empty(N + 1)    # <g_A> for A = {0..k-1}
        suf = np.empty(N + 1)    # <g_B> for B = {k..N-1}
        pre[N], pre[0], suf[0], suf[N] = gm, g0, gm, g0
        g, ca = self._g, self.type_counts.copy()
        for i in range(N - 1, 0, -1):
            t = self.site_type[i]
            g = _pascal_step(g, t)
            ca[t] -= 1
            pre[i] = self._mean_g(ca, g)
        g, cb = self._g, self.type_counts.copy()
        for i in range(N - 1):
            t = self.site_type[i]
            g = _pascal_step(g, t)
            cb[t] -= 1
            suf[i + 1] = self._mean_g(cb, g)
        prof = g0 - pre - suf + gm
        prof[0] = prof[N] = 0.0
        return np.maximum(prof, 0.0)


def hopfield_info(patterns, beta, J=1.0, h=0.0, max_states=HOPFIELD_MAX_STATES):
    """Exact Hopfield thermodynamics and mutual information by counting per site type.

    Parameters
    ----------
    patterns : array_like of +-1, shape (P, N)
        ``P < N`` patterns.
    beta : float
        Inverse temperature (finite, >= 0).
    J, h : float
        ``E = -(J / 2N) sum_mu (xi^mu . s)**2 - h sum_i s_i``.
    max_states : int
        Refuse when the up-count grid ``prod_t (c_t + 1)`` exceeds this (memory 8 bytes per state; each
        mutual information costs at most N passes over it).

    Returns
    -------
    HopfieldInfo
        With methods ``mutual_information(A)``, ``subset_entropy(A)`` and ``cut_profile()``.
    """
    try:
        types, counts, index = site_types(patterns)
    except (TypeError, ValueError) as e:
        raise ValueError(str(e)) from None
    P, N = types.shape[1], len(index)
    beta, J, h = _check_params(beta, J, h)
    max_states = _as_value_error(check_int, "max_states", max_states, 1)
    n_states = math.prod(int(c) + 1 for c in counts)
    if n_states > max_states:
        raise ValueError(f"Hopfield counting needs prod_t (c_t + 1) = {n_states:.3g} up-count states "
                         f"({len(counts)} site types, N={N}, P={P}), above max_states={max_states}; "
                         "use fewer patterns or sites")
    ex = hopfield_exact(patterns, beta, J, h, max_states=max_states)
    # energy on the full up-count grid: m_t = 2 u_t - c_t broadcast along axis t
    T = len(counts)
    grid = tuple(int(c) + 1 for c in counts)
    m = [(2 * np.arange(c + 1) - c).reshape([c + 1 if s == t else 1 for s in range(T)])
         for t, c in enumerate(counts)]
    E = -h * sum(m, np.zeros(grid))
    for mu in range(P):
        E -= (J / (2.0 * N)) * sum((int(types[t, mu]) * m[t] for t in range(T)), np.zeros(grid)) ** 2
    lw = -beta * E
    g = lw - lw.max()
    lgam = gammaln(np.arange(N + 1) + 1.0)
    lb = _log_binom_grid(counts, lgam) - N * _LN2
    g0 = float(logsumexp(lb + g))
    g_full_mean = _weighted_g(lb, g, g0)[0]
    mean_e = ex.mean_energy
    ov = ex.overlaps / N
    return HopfieldInfo(N=N, P=P, beta=beta, J=J, h=h, log_z=ex.log_z,
                        free_energy=-ex.log_z / beta if beta > 0 else -math.inf,
                        entropy=ex.log_z + beta * mean_e, mean_energy=mean_e,
                        energy_variance=_mean((ex.energies - mean_e) ** 2, ex.energy_probs),
                        mean_abs_overlaps=np.abs(ov).T @ ex.overlap_probs,
                        mean_overlap_sq=(ov ** 2).T @ ex.overlap_probs,
                        mean_m=_mean(ex.magnetizations / N, ex.magnetization_probs),
                        type_counts=counts, site_type=index, n_states=n_states, exact=ex,
                        _g=g, _g0=g0, _g_full_mean=g_full_mean, _lgam=lgam)
