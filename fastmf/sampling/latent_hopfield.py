"""Hopfield samples through the Hubbard-Stratonovich latent (latent MCMC, then spins given the latent).

Single-spin Monte Carlo of the Hopfield model at low temperature is stuck in one of its symmetric basins
(``+-xi^mu``) for a time exponential in ``N``. The latent ``phi`` in ``R^P`` avoids that.
With ``E = -(J/2N) sum_mu M_mu**2 - h sum s``, ``M_mu = xi^mu . s`` and ``J > 0``, the Gaussian identity
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
are thinned by ``ceil(10 tau)`` (``THIN_FACTOR``). The compiled loops are in
:mod:`fastmf.kernels.latent_cpu`.

Randomness (Philox4x32-10, key ``(seed, STREAM_LATENT)``; counter ``(c0, c1, c2, c3)``; ``c2`` is the phase;
phases 0 and 1 belong to the exact samplers of :mod:`fastmf.sampling.latent`):

* phase 2, latent chain ``c`` at step ``t`` (burn-in, pilot and production numbered consecutively):
  ``Philox((t, c, 2, 0))`` = acceptance uniforms (walk, flip, global flip, swap); ``Philox((t, c, 2, 1))`` =
  flip index, swap pair, and in word 3 the coins (bits 0-3) that decide whether each jump is proposed;
  ``Philox((t, c, 2, 2))`` = mode pair and mode-jump acceptance uniform; ``Philox((t, c, 2, 3 + g))`` = walk
  normals ``4g..4g+3`` (Box-Muller). Step ``t = 0`` is not a step: its normals give the initial latent
  ``Normal(0, 1/(N beta J))`` of each chain;
* phase 3, Hopfield spin ``j`` of sample ``i`` given its latent: word ``j mod 4`` of
  ``Philox((j div 4, i, 3, 0))``.

Sample ``i`` of the Hopfield sampler is kept state ``i div n_chains`` of chain ``i mod n_chains``.
"""
import math
import warnings

import numpy as np

from ..io.files import check_memory
from ..kernels.latent_cpu import (PHASE_MCMC, hopfield_spins, latent_log_density, path_log_density,
                                  run_latent_chains)
from ..kernels.philox import STREAM_LATENT, check_seed, philox4x32_array
from ..kernels.validation import check_int, check_real
from ..models.counting import check_patterns, site_types
from ..stats import integrated_autocorr_time

__all__ = ["sample_hopfield", "hopfield_latent_log_density", "hopfield_bytes", "THIN_FACTOR", "MODE_SEARCH_MAX_P"]

_TARGET_WALK_ACCEPT = (0.25, 0.5)
#: Latent states kept ``ceil(THIN_FACTOR * tau)`` steps apart. Latent steps are cheap next to drawing N
#: spins, and 2 tau left a measurable correlation in rare-event counts (chi-square inflated ~1.5x), so 5.
THIN_FACTOR = 10.0  # one kept state per 10 tau of the latent chain (5 left a hint of residual correlation)
#: Up to this many patterns the mode search also starts from the mixture points ``{-1, 0, 1}**P``.
MODE_SEARCH_MAX_P = 5


def hopfield_bytes(N, P, n_samples, n_chains=8, pilot_steps=4000):
    """Estimated peak memory (bytes) of :func:`sample_hopfield`: the site types (a sorted copy of the patterns),
    the patterns as floats for the spin draws, the pilot and production latent paths and the (n_samples, N)
    int8 output."""
    return 24 * N * P + 24 * N + 8 * P * (n_chains * pilot_steps + 2 * n_samples + n_chains) + n_samples * N


def hopfield_latent_log_density(phi, patterns, beta, J=1.0, h=0.0):
    """``ln p(phi)`` of the Hopfield latent up to an additive constant.

    Parameters
    ----------
    phi : array_like, shape (P,) or (n, P)
        Latents.
    patterns : array_like of +-1, shape (P, N)
    beta, J, h : float
        Inverse temperature, coupling and field.

    Returns
    -------
    ndarray, shape (n,)
        ``-N beta J |phi|**2 / 2 + sum_i ln 2cosh(beta (J xi_i . phi + h))`` (n = 1 for one latent).
    """
    types, counts, _ = site_types(patterns)
    xi_t = types.astype(np.float64)
    c_t = counts.astype(np.float64)
    N = int(counts.sum())
    phi = np.atleast_2d(np.asarray(phi, np.float64))
    return np.array([latent_log_density(p, xi_t, c_t, N, float(beta), float(J), float(h)) for p in phi])


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
    obs.append(path_log_density(path, *args).T)
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

    Raises
    ------
    fastmf.io.ResourceLimitError
        Before any work, when :func:`hopfield_bytes` is above :func:`fastmf.io.memory_limit`.
    """
    xi = check_patterns(patterns)
    P, N = xi.shape
    beta, J, h = check_real("beta", beta, positive=True), check_real("J", J), check_real("h", h)
    n_samples, seed = check_int("n_samples", n_samples, 1), check_seed(seed)
    if J <= 0:
        raise ValueError(f"the Hopfield latent sampler needs J > 0 (a real Hubbard-Stratonovich field), got {J}")
    n_chains = check_int("n_chains", n_chains, 1)
    burn_in = check_int("burn_in", burn_in, 0)
    pilot_steps = check_int("pilot_steps", pilot_steps, 16)
    thin_factor = check_real("thin_factor", thin_factor, positive=True)
    check_memory(hopfield_bytes(N, P, n_samples, n_chains, pilot_steps),
                 f"Hopfield latent sampling of {n_samples} samples of N={N} spins, P={P}")
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
    ctr[:, :, 2] = PHASE_MCMC
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
        run_latent_chains(phi, *args, scale * unit, modes, seed, STREAM_LATENT, t, steps, steps,
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
        run_latent_chains(phi, *args, scale * unit, modes, seed, STREAM_LATENT, t, steps, thin, out, acc, tried)
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
    hopfield_spins(latent, xi.astype(np.float64), beta, J, h, seed, STREAM_LATENT, spins)
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
