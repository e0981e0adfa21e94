"""Exact and latent-space samplers for fully connected models (Curie-Weiss, Hopfield, mean-field Potts).

Single-spin Monte Carlo of a fully connected model at low temperature is stuck in one of its symmetric
basins (``+-m`` for Curie-Weiss, ``+-xi^mu`` for Hopfield) for a time exponential in ``N``. These
samplers avoid that:

* Curie-Weiss and mean-field Potts: exact i.i.d. samples. The order parameter (``M`` or the occupation
  vector) is drawn from its exact distribution by counting (``fastmf.exact.meanfield``, inverse CDF on
  53-bit uniforms), then the sites are assigned uniformly at random given it (partial Fisher-Yates).
* Hopfield: the Hubbard-Stratonovich latent ``phi`` in ``R^P``. With ``E = -(J/2N) sum_mu M_mu**2 - h sum s``,
  ``M_mu = xi^mu . s`` and ``J > 0``, the Gaussian identity
  ``exp(a M**2 / 2) = (2 pi a)**-1/2 int dx exp(-x**2 / 2a + x M)`` with ``a = beta J / N`` and
  ``x = beta J phi_mu`` gives the joint density

      ``p(s, phi) ∝ exp(-N beta J |phi|**2 / 2 + beta sum_i s_i (J xi_i . phi + h))``

  whose ``s``-marginal is the Hopfield distribution. Summing out ``s``:

      ``p(phi) ∝ exp(-N beta J |phi|**2 / 2) prod_i 2 cosh(beta (J xi_i . phi + h))``

  and given ``phi`` the spins are independent with ``P(s_i = +1 | phi) = sigmoid(2 beta (J xi_i . phi + h))``
  (and ``phi | s ~ Normal(M / N, 1 / (N beta J))``: hence the walk scale ``1/sqrt(N beta J)``). ``ln p(phi)``
  is a sum over site types (distinct pattern columns), so it is cheap. ``phi`` is sampled by Metropolis
  MCMC with five moves per step: a Gaussian random walk of scale ``step_scale / sqrt(N beta J)`` (the
  factor tuned during burn-in only), and three deterministic involutions accepted with the density ratio
  (volume-preserving, so the ratio is the whole Metropolis-Hastings factor): a sign flip
  ``phi_mu -> -phi_mu`` (random ``mu``), the global flip ``phi -> -phi``, and a swap ``phi_mu <-> phi_nu``
  (random pair); and a mode jump ``phi -> phi + m_b - m_a`` for a random ordered pair of the mean-field
  modes ``m_k`` (the saddle points reached from ``+-e_mu``; the proposal is symmetric because the pair
  ``(b, a)`` is as likely as ``(a, b)``), which carries the small overlaps with the other patterns along
  where a bare swap or flip would not (random patterns). Each jump is proposed with probability 1/2, so
  that an always-accepted one does not make the chain periodic. The jumps visit all the basins. A pilot run
  measures the integrated autocorrelation time ``tau`` of the latent chain (several independent chains,
  ``fastmf.stats.integrated_autocorr_time``); the production chains
  are thinned by ``ceil(10 tau)`` (``THIN_FACTOR``).

Randomness (Philox4x32-10, key ``(seed, STREAM_LATENT)``; counter ``(c0, c1, c2, c3)``; ``c2`` is the phase):

* phase 0, order-parameter draw of sample ``i``: ``Philox((0, i, 0, 0))``; words 0, 1 make the 53-bit uniform
  for ``M`` (Curie-Weiss) or ``n_0`` (Potts), words 2, 3 the one for the rest of the Potts occupation vector;
* phase 1, site assignment of sample ``i``: Fisher-Yates step ``j`` uses word ``j mod 4`` of
  ``Philox((j div 4, i, 1, 0))`` (an index in ``[j, N)`` by multiply-shift, bias below ``N / 2**32``);
* phase 2, latent chain ``c`` at step ``t`` (burn-in, pilot and production numbered consecutively):
  ``Philox((t, c, 2, 0))`` = acceptance uniforms (walk, flip, global flip, swap); ``Philox((t, c, 2, 1))`` =
  flip index, swap pair, and in word 3 the coins (bits 0-3) that decide whether each jump is proposed;
  ``Philox((t, c, 2, 2))`` = mode pair and mode-jump acceptance uniform; ``Philox((t, c, 2, 3 + g))`` = walk
  normals ``4g..4g+3`` (Box-Muller). Step ``t = 0`` is not a step: its normals give the initial latent
  ``Normal(0, 1/(N beta J))`` of each chain;
* phase 3, Hopfield spin ``j`` of sample ``i`` given its latent: word ``j mod 4`` of ``Philox((j div 4, i, 3, 0))``.

Sample ``i`` of the Hopfield sampler is kept state ``i div n_chains`` of chain ``i mod n_chains``.
"""
import math
import warnings

import numpy as np
from numba import njit
from scipy.special import logsumexp

from ..exact.meanfield import (MAX_STATES, _check_patterns, curie_weiss_exact, potts_compositions,
                               potts_log_weights, potts_n_states, site_types)
from ..kernels.philox import (STREAM_LATENT, bounded_from_u32, check_seed, philox4x32, philox4x32_array,
                              uniform_from_u32, uniform_open_from_u32)
from ..kernels.validation import check_int, check_real
from ..stats import integrated_autocorr_time

__all__ = ["sample_curie_weiss", "sample_hopfield", "sample_potts_mf", "hopfield_latent_log_density", "THIN_FACTOR"]

_PHASE_ORDER, _PHASE_ASSIGN, _PHASE_MCMC, _PHASE_SPINS = 0, 1, 2, 3
_TARGET_WALK_ACCEPT = (0.25, 0.5)
#: Latent states kept ``ceil(THIN_FACTOR * tau)`` steps apart. Latent steps are cheap next to drawing N
#: spins, and 2 tau left a measurable correlation in rare-event counts (chi-square inflated ~1.5x), so 5.
THIN_FACTOR = 10.0  # one kept state per 10 tau of the latent chain (5 left a hint of residual correlation)
#: Up to this many patterns the mode search also starts from the mixture points ``{-1, 0, 1}**P``.
MODE_SEARCH_MAX_P = 5


# --------------------------------------------------------------------------------------------------
# Shared pieces: validated arguments, 53-bit uniforms, inverse CDF, random site assignment
# --------------------------------------------------------------------------------------------------

def _check_args(beta, J, h, n_samples, seed):
    return (check_real("beta", beta, positive=True), check_real("J", J), check_real("h", h),
            check_int("n_samples", n_samples, 1), check_seed(seed))


def _order_uniforms(n, seed):
    """Two 53-bit uniforms in [0, 1) per sample from ``Philox((0, i, 0, 0))`` (phase 0)."""
    ctr = np.zeros((n, 4), np.uint64)      # c0 = 0, c2 = _PHASE_ORDER = 0, c3 = 0
    ctr[:, 1] = np.arange(n, dtype=np.uint64)
    w = philox4x32_array(ctr, np.array([[seed, STREAM_LATENT]], np.uint64)).astype(np.uint64)
    u = ((w[:, 0::2] >> np.uint64(5)) * np.uint64(1 << 26) + (w[:, 1::2] >> np.uint64(6))).astype(np.float64)
    return u * 2.0 ** -53


def _inverse_cdf(logw, u):
    """Indices drawn with probabilities ``∝ exp(logw)``; zero-weight entries are never chosen."""
    p = np.exp(logw - np.max(logw))
    cdf = np.cumsum(p)
    return np.minimum(np.searchsorted(cdf, u * cdf[-1], side="right"), len(cdf) - 1)


@njit(cache=True)
def _assign_groups(counts, labels, seed, stream, out):
    """Row ``i`` of ``out`` gets ``counts[i, g]`` sites of label ``labels[g]``, placed uniformly at random
    by a partial Fisher-Yates shuffle (the last group takes the sites left)."""
    n, G = counts.shape
    N = out.shape[1]
    perm = np.empty(N, np.int64)
    for i in range(n):
        for k in range(N):
            perm[k] = k
        pos = 0
        x0 = x1 = x2 = x3 = np.uint64(0)
        for g in range(G - 1):
            for _ in range(counts[i, g]):
                if pos % 4 == 0:
                    x0, x1, x2, x3 = philox4x32(pos // 4, i, _PHASE_ASSIGN, 0, seed, stream)
                w = pos % 4
                u = x0 if w == 0 else (x1 if w == 1 else (x2 if w == 2 else x3))
                r = pos + bounded_from_u32(u, N - pos)
                tmp = perm[pos]
                perm[pos] = perm[r]
                perm[r] = tmp
                out[i, perm[pos]] = labels[g]
                pos += 1
        for k in range(pos, N):
            out[i, perm[k]] = labels[G - 1]


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
    """
    N = check_int("N", N, 1)
    beta, J, h, n_samples, seed = _check_args(beta, J, h, n_samples, seed)
    ex = curie_weiss_exact(N, beta, J, h)
    u = _order_uniforms(n_samples, seed)[:, 0]
    up = (ex.magnetizations[_inverse_cdf(ex.log_probs, u)] + N) // 2
    counts = np.column_stack([up, N - up]).astype(np.int64)
    spins = np.empty((n_samples, N), np.int8)
    _assign_groups(counts, np.array([1, -1], np.int8), seed, STREAM_LATENT, spins)
    info = dict(sampler="curie_weiss_exact", model="curie_weiss", N=N, beta=beta, J=J, h=h, seed=seed,
                n_samples=n_samples, tau=0.5, thinning=1, log_z=ex.log_z)
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
    _assign_groups(occ, np.arange(q, dtype=np.uint8), seed, STREAM_LATENT, states)
    info = dict(sampler="potts_mf_exact", model="potts_mf", N=N, q=q, beta=beta, J=J, h=h, seed=seed,
                n_samples=n_samples, tau=0.5, thinning=1, log_z=float(logsumexp(n0_logw)))
    return states, info


# --------------------------------------------------------------------------------------------------
# Hopfield: latent (Hubbard-Stratonovich) MCMC, then spins given the latent
# --------------------------------------------------------------------------------------------------

@njit(cache=True)
def _log2cosh(a):
    a = abs(a)
    return a + math.log1p(math.exp(-2.0 * a))


@njit(cache=True)
def _log_density(phi, xi_t, c_t, N, beta, J, h):
    """``ln p(phi)`` up to a constant: ``-N beta J |phi|**2 / 2 + sum_t c_t ln 2cosh(beta (J xi_t . phi + h))``."""
    s = 0.0
    for mu in range(phi.shape[0]):
        s += phi[mu] * phi[mu]
    s *= -0.5 * N * beta * J
    for t in range(xi_t.shape[0]):
        a = 0.0
        for mu in range(phi.shape[0]):
            a += xi_t[t, mu] * phi[mu]
        s += c_t[t] * _log2cosh(beta * (J * a + h))
    return s


@njit(cache=True)
def _run_chains(phi, xi_t, c_t, N, beta, J, h, scale, modes, seed, stream, t0, n_steps, thin, out, acc, tried):
    """Advance every chain (rows of ``phi``, updated in place) by ``n_steps`` steps from step ``t0``; store
    every ``thin``-th state in ``out[c, k]``; count accepted / tried moves per kind in ``acc`` / ``tried``."""
    C, P = phi.shape
    K = modes.shape[0]
    n_groups = (P + 3) // 4
    z = np.empty(4 * n_groups)
    y = np.empty(P)
    for c in range(C):
        x = phi[c].copy()
        lp = _log_density(x, xi_t, c_t, N, beta, J, h)
        for s in range(n_steps):
            t = t0 + s
            a0, a1, a2, a3 = philox4x32(t, c, _PHASE_MCMC, 0, seed, stream)
            b0, b1, b2, b3 = philox4x32(t, c, _PHASE_MCMC, 1, seed, stream)
            d0, d1, a4, _ = philox4x32(t, c, _PHASE_MCMC, 2, seed, stream)
            for g in range(n_groups):
                w0, w1, w2, w3 = philox4x32(t, c, _PHASE_MCMC, 3 + g, seed, stream)
                r0 = math.sqrt(-2.0 * math.log(uniform_open_from_u32(w0)))
                r1 = math.sqrt(-2.0 * math.log(uniform_open_from_u32(w2)))
                z[4 * g] = r0 * math.cos(2.0 * math.pi * uniform_from_u32(w1))
                z[4 * g + 1] = r0 * math.sin(2.0 * math.pi * uniform_from_u32(w1))
                z[4 * g + 2] = r1 * math.cos(2.0 * math.pi * uniform_from_u32(w3))
                z[4 * g + 3] = r1 * math.sin(2.0 * math.pi * uniform_from_u32(w3))
            for kind in range(5):
                # each jump move is proposed only when its coin (bit kind-1 of b3) says so: a jump that is
                # always accepted would otherwise make the chain periodic (e.g. swap every step)
                if kind > 0 and (b3 >> np.uint64(kind - 1)) & np.uint64(1) == 0:
                    continue
                if kind == 0:                       # Gaussian random walk
                    for mu in range(P):
                        y[mu] = x[mu] + scale * z[mu]
                    u = a0
                elif kind == 1:                     # flip one component
                    mu0 = bounded_from_u32(b0, P)
                    for mu in range(P):
                        y[mu] = x[mu]
                    y[mu0] = -x[mu0]
                    u = a1
                elif kind == 2:                     # global flip (the same as kind 1 when P == 1)
                    if P == 1:
                        continue
                    for mu in range(P):
                        y[mu] = -x[mu]
                    u = a2
                elif kind == 3:                     # swap two components
                    if P == 1:
                        continue
                    m1 = bounded_from_u32(b1, P)
                    m2 = bounded_from_u32(b2, P - 1)
                    if m2 >= m1:
                        m2 += 1
                    for mu in range(P):
                        y[mu] = x[mu]
                    y[m1] = x[m2]
                    y[m2] = x[m1]
                    u = a3
                else:                               # translate by the difference of two mean-field modes
                    if K < 2:
                        continue
                    k1 = bounded_from_u32(d0, K)
                    k2 = bounded_from_u32(d1, K - 1)
                    if k2 >= k1:
                        k2 += 1
                    for mu in range(P):
                        y[mu] = x[mu] + modes[k2, mu] - modes[k1, mu]
                    u = a4
                ly = _log_density(y, xi_t, c_t, N, beta, J, h)
                tried[c, kind] += 1
                if math.log(uniform_open_from_u32(u)) < ly - lp:
                    for mu in range(P):
                        x[mu] = y[mu]
                    lp = ly
                    acc[c, kind] += 1
            if (s + 1) % thin == 0:
                out[c, (s + 1) // thin - 1, :] = x
        phi[c] = x


@njit(cache=True)
def _hopfield_spins(phi, xi, beta, J, h, seed, stream, out):
    """``out[i, j] = +1`` with probability ``sigmoid(2 beta (J xi_j . phi_i + h))`` (phase-3 draws)."""
    n, N = out.shape
    P = phi.shape[1]
    x0 = x1 = x2 = x3 = np.uint64(0)
    for i in range(n):
        for j in range(N):
            if j % 4 == 0:
                x0, x1, x2, x3 = philox4x32(j // 4, i, _PHASE_SPINS, 0, seed, stream)
            w = j % 4
            u = x0 if w == 0 else (x1 if w == 1 else (x2 if w == 2 else x3))
            a = 0.0
            for mu in range(P):
                a += xi[mu, j] * phi[i, mu]
            p_up = 1.0 / (1.0 + math.exp(-2.0 * beta * (J * a + h)))
            out[i, j] = 1 if uniform_from_u32(u) < p_up else -1


def hopfield_latent_log_density(phi, patterns, beta, J=1.0, h=0.0):
    """``ln p(phi)`` of the Hopfield latent up to an additive constant, for ``phi`` of shape (P,) or (n, P)."""
    types, counts, _ = site_types(patterns)
    xi_t = types.astype(np.float64)
    c_t = counts.astype(np.float64)
    N = int(counts.sum())
    phi = np.atleast_2d(np.asarray(phi, np.float64))
    return np.array([_log_density(p, xi_t, c_t, N, float(beta), float(J), float(h)) for p in phi])


@njit(cache=True)
def _path_log_density(path, xi_t, c_t, N, beta, J, h):
    out = np.empty(path.shape[:2])
    for c in range(path.shape[0]):
        for k in range(path.shape[1]):
            out[c, k] = _log_density(path[c, k], xi_t, c_t, N, beta, J, h)
    return out


def _mean_field_modes(xi_t, c_t, N, beta, J, h, iterations=500):
    """Distinct maxima of ``p(phi)`` reached by the mean-field (saddle-point) iteration
    ``phi <- (1/N) sum_t c_t xi_t tanh(beta (J xi_t . phi + h))``, shape (K, P), started from every nonzero
    point of ``{-1, 0, 1}**P`` when ``P <= MODE_SEARCH_MAX_P`` (retrieval and mixture states), else from
    ``+-e_mu``. They only set the jump vectors of the mode-jump move: their accuracy and completeness
    affect efficiency, never correctness."""
    P = xi_t.shape[1]
    if P <= MODE_SEARCH_MAX_P:
        grid = np.array(np.meshgrid(*[[-1.0, 0.0, 1.0]] * P, indexing="ij")).reshape(P, -1).T
        starts = grid[np.any(grid != 0, axis=1)]
    else:
        starts = np.concatenate([np.eye(P), -np.eye(P)])
    phi = starts.copy()
    for _ in range(iterations):
        phi = np.tanh(beta * (J * phi @ xi_t.T + h)) @ (c_t[:, None] * xi_t) / N
    return np.ascontiguousarray(np.unique(np.round(phi, 6), axis=0))


def _latent_observables(path, args):
    """Series whose autocorrelation sets the thinning, each of shape (n, n_chains): every ``phi_mu`` (sign of
    the basin), every ``phi_mu**2`` (which pattern is retrieved), ``|phi|**2``, ``max_mu |phi_mu|`` and
    ``ln p(phi)`` (excursions into the tails, which make the rare excited spin states)."""
    obs = [path[:, :, mu].T for mu in range(path.shape[2])]
    obs += [path[:, :, mu].T ** 2 for mu in range(path.shape[2])]
    obs.append(np.sum(path ** 2, axis=2).T)
    obs.append(np.max(np.abs(path), axis=2).T)
    obs.append(_path_log_density(path, *args).T)
    return obs


def sample_hopfield(patterns, beta, J=1.0, h=0.0, *, n_samples, seed, n_chains=8, burn_in=2000,
                    pilot_steps=4000, thin_factor=THIN_FACTOR):
    """Hopfield samples through the Hubbard-Stratonovich latent (see the module docstring).

    Parameters
    ----------
    patterns : array_like of +-1, shape (P, N)
        ``1 <= P < N`` patterns.
    beta : float
        Inverse temperature (> 0).
    J : float
        Coupling (> 0: the latent representation needs a ferromagnetic Hebbian coupling).
    h : float
        Uniform field.
    n_samples : int
    seed : int
    n_chains : int
        Independent latent chains (their autocovariances are averaged when measuring ``tau``).
    burn_in : int
        Steps per chain discarded; the walk scale is tuned during them only.
    pilot_steps : int
        Steps per chain used to measure ``tau`` (not part of the output).
    thin_factor : float
        Keep one latent state every ``ceil(thin_factor * tau)`` steps (default ``THIN_FACTOR`` = 10).

    Returns
    -------
    spins : ndarray of int8, shape (n_samples, N)
    info : dict
        ``sampler``, ``model``, parameters, ``n_chains``, ``burn_in``, ``pilot_steps``, ``step_scale``
        (walk step in units of ``1/sqrt(N beta J)``), ``tau`` (latent tau in steps, the largest over
        ``tau_per_observable``), ``thinning`` (``ceil(thin_factor tau)``), ``tau_reliable`` (pilot >= 50 tau),
        ``tau_thinned`` (of the kept production states, ~0.5 when the thinning works), ``acceptance``
        (production acceptance per move kind) and ``latent`` (the (n_samples, P) latents used).
    """
    xi = _check_patterns(patterns)
    P, N = xi.shape
    beta, J, h, n_samples, seed = _check_args(beta, J, h, n_samples, seed)
    if J <= 0:
        raise ValueError(f"the Hopfield latent sampler needs J > 0 (a real Hubbard-Stratonovich field), got {J}")
    n_chains = check_int("n_chains", n_chains, 1)
    burn_in = check_int("burn_in", burn_in, 0)
    pilot_steps = check_int("pilot_steps", pilot_steps, 16)
    thin_factor = check_real("thin_factor", thin_factor, positive=True)
    types, counts, _ = site_types(xi)
    xi_t = np.ascontiguousarray(types, np.float64)
    c_t = counts.astype(np.float64)
    unit = 1.0 / math.sqrt(N * beta * J)
    kinds = ("walk", "flip", "global_flip", "swap", "mode_jump")
    args = (xi_t, c_t, float(N), beta, J, h)
    modes = _mean_field_modes(*args)

    # start every chain at Normal(0, 1/(N beta J)) per component (the paramagnetic width), from the walk
    # normals of step 0 (phase 2): the chain steps themselves are numbered from t = 1
    g = np.arange((P + 3) // 4)
    ctr = np.zeros((n_chains, len(g), 4), np.uint64)
    ctr[:, :, 1] = np.arange(n_chains)[:, None]
    ctr[:, :, 2] = _PHASE_MCMC
    ctr[:, :, 3] = 3 + g[None, :]
    w = philox4x32_array(ctr.reshape(-1, 4), np.array([[seed, STREAM_LATENT]], np.uint64))
    w = w.reshape(n_chains, len(g), 4).astype(np.float64)
    r = np.sqrt(-2.0 * np.log((w[..., 0::2] + 0.5) * 2.0 ** -32))      # Box-Muller, as in the kernel
    ang = 2.0 * np.pi * w[..., 1::2] * 2.0 ** -32
    z = np.stack([r * np.cos(ang), r * np.sin(ang)], axis=-1).reshape(n_chains, -1)
    phi = np.ascontiguousarray(z[:, :P] * unit)
    t = 1
    scale = 1.0
    window = 100
    while t - 1 < burn_in:                   # burn-in with walk-scale tuning
        steps = min(window, burn_in - (t - 1))
        acc = np.zeros((n_chains, 5), np.int64)
        tried = np.zeros((n_chains, 5), np.int64)
        _run_chains(phi, *args, scale * unit, modes, seed, STREAM_LATENT, t, steps, steps,
                    np.empty((n_chains, 1, P)), acc, tried)
        t += steps
        rate = acc[:, 0].sum() / max(tried[:, 0].sum(), 1)
        if rate < _TARGET_WALK_ACCEPT[0]:
            scale *= 0.7
        elif rate > _TARGET_WALK_ACCEPT[1]:
            scale *= 1.3

    def run(steps, thin):
        out = np.empty((n_chains, steps // thin, P))
        acc = np.zeros((n_chains, 5), np.int64)
        tried = np.zeros((n_chains, 5), np.int64)
        _run_chains(phi, *args, scale * unit, modes, seed, STREAM_LATENT, t, steps, thin, out, acc, tried)
        return out, acc, tried

    path, _, _ = run(pilot_steps, 1)
    t += pilot_steps
    taus = [integrated_autocorr_time(o) for o in _latent_observables(path, args)]
    tau = max(taus)
    thin = max(1, math.ceil(thin_factor * tau))
    if pilot_steps < 50 * tau:
        warnings.warn(f"sample_hopfield: the pilot run ({pilot_steps} steps) is shorter than 50 tau = "
                      f"{50 * tau:.0f}; tau (and so the thinning) may be underestimated: raise pilot_steps",
                      RuntimeWarning, stacklevel=2)
    n_keep = -(-n_samples // n_chains)
    kept, acc, tried = run(n_keep * thin, thin)
    t += n_keep * thin
    latent = np.ascontiguousarray(kept.transpose(1, 0, 2).reshape(-1, P)[:n_samples])
    spins = np.empty((n_samples, N), np.int8)
    _hopfield_spins(latent, xi.astype(np.float64), beta, J, h, seed, STREAM_LATENT, spins)
    tau_thinned = (max(integrated_autocorr_time(o) for o in _latent_observables(kept, args))
                   if n_keep >= 8 else float("nan"))
    acceptance = {k: float(acc[:, i].sum() / tried[:, i].sum()) if tried[:, i].sum() else float("nan")
                  for i, k in enumerate(kinds)}
    info = dict(sampler="hopfield_latent_mcmc", model="hopfield", N=N, P=P, beta=beta, J=J, h=h, seed=seed,
                n_samples=n_samples, n_chains=n_chains, burn_in=burn_in, pilot_steps=pilot_steps,
                step_scale=scale, tau=tau, tau_per_observable=taus, thinning=thin,
                thin_factor=thin_factor, tau_reliable=bool(pilot_steps >= 50 * tau), tau_thinned=tau_thinned,
                acceptance=acceptance, n_steps=t, modes=modes, latent=latent)
    return spins, info
