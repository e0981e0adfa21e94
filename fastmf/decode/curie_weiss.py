"""Curie-Weiss read-off: ``beta J`` and ``beta h`` from a mean-field Bernoulli decoder (docs/theory.rst).

``p(s) ~ exp(beta J M**2 / (2N) + beta h M)``: ``p(phi) ~ exp(-N [beta J phi**2 / 2 - ln 2cosh beta (J phi +
h)])``, all logits ``g = 2 beta (J phi + h)``, ``dphi/dg = 1/(2 beta J)`` constant, so (note the sign: minus
``N ln 2cosh(g/2)``)::

    log q(g) - N ln 2cosh(g/2) = c - N (g/2 - beta h)**2 / (2 beta J) = a g**2 + b g + c',
    a = -N / (8 beta J),  b = N h / (2 J)   =>   beta J = -N / (8 a),  beta h = -b / (4 a)  (vertex g = 2 beta h).

The site average gbar(z) of the logits is the latent field. Three ways to fit this quadratic principle:

* "moments" (default): maximum likelihood. ``q(g) ~ exp(a g**2 + b g + N ln 2cosh(g/2))`` is an exponential
  family with sufficient statistics ``(g**2, g)``, so the maximum-likelihood ``(a, b)`` match ``E g**2`` and
  ``E g`` of the decoder's field (a convex problem, solved on a grid in g). It uses where the probability mass
  is, not the shape of the density: in an ordered phase a trained VAE reproduces each basin's magnetization and
  weight but not the width of its field peak (fluctuations inside a basin cost rate for little likelihood), and
  density-shape fits of such collapsed peaks fail (beta h = -0.11 for 0.007 at N = 256, T = 0.7), while the
  moments keep beta J and beta h (0.5 % and 4 % there, with aggregate-posterior draws).
* "exact": least squares on the log density for a 1-D latent with gbar monotone: uniform g grid, z(g) by
  bisection, ``q = p(z) |dz/dg|`` (p the latent prior's density) by finite differences in g (weights = mass).
* "histogram": least squares on a histogram of prior draws (``log(k / (n dg)) + 1/(2k)``, Poisson
  bias-corrected, weights k = 1/var(log k)).

The draws: by default the decoder's latent prior (:mod:`fastmf.decode.prior`: a VAE's own, learned or standard;
``N(0, I)`` for a plain callable), by quadrature over its components for a 1-D latent with "moments". Every
formula above is about the push-forward ``q(g)`` of that prior, whatever it is. The push-forward of a standard
normal prior under-weights a minority basin (prior holes: 0.8 % instead of 4.5 % in the example above), which
biases beta h; pass ``Z=posterior_draws(vae, data)`` (:func:`fastmf.decode.common.posterior_draws`) to use the
aggregate posterior over the training data instead (a learned prior should agree with it).
"""
import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp

from ..kernels.validation import check_int, check_real
from .common import as_decoder, as_generator, evaluate_fields, log2cosh, weighted_least_squares
from .prior import latent_prior

__all__ = ["CurieWeissReadoff", "curie_weiss_readoff"]

_METHODS = ("auto", "moments", "exact", "histogram")


@dataclass(frozen=True, eq=False)
class CurieWeissReadoff:
    """Result of :func:`curie_weiss_readoff`.

    Attributes
    ----------
    beta_J, beta_h : float
        ``-N / (8 a)``, ``-b / (4 a)``.
    coeffs : ndarray (3,)
        ``(a, b, c)``: fit ``np.polyval(coeffs, g)`` of ``log q(g) - N ln 2cosh(g/2)``.
    g, log_q, weights : ndarray
        Density-estimate points, log of the normalized density of g there, fit weights (sum 1); for "moments"
        a weighted histogram of the draws (a diagnostic: the fit does not use it).
    method : {"moments", "exact", "histogram"}
    N : int
    residual_rms, chi2_dof : float
        Weighted RMS residual (nats) of the density estimate about the fit; Poisson chi-square per dof
        (histogram only, else None; ~1 if Curie-Weiss).
    moments : ndarray (2,)
        ``(E g**2, E g)`` of the site-averaged field over the draws (the sufficient statistics).
    site_spread : float
        RMS of ``g_i - gbar`` over sites and draws (0 for an exactly mean-field decoder).
    """
    beta_J: float
    beta_h: float
    coeffs: np.ndarray
    g: np.ndarray
    log_q: np.ndarray
    weights: np.ndarray
    method: str
    N: int
    residual_rms: float
    chi2_dof: float | None
    site_spread: float
    moments: np.ndarray


def _cw_exact(gbar_of, prior, z_max, n_grid):
    """``(g, log q, weights)`` from the 1-D map z -> gbar under the 1-D ``prior``; None when it is not monotone."""
    zs = np.linspace(*prior.support_1d(z_max), 4 * n_grid + 1)
    gs = gbar_of(zs)
    sgn = 1.0 if gs[-1] >= gs[0] else -1.0
    if np.any(sgn * np.diff(gs) < -1e-12 * (np.ptp(gs) + 1.0)) or np.ptp(gs) == 0:
        return None
    g = np.linspace(gs.min(), gs.max(), n_grid + 2)[1:-1]
    k = np.clip(np.searchsorted(np.maximum.accumulate(sgn * gs), sgn * g), 1, len(zs) - 1)
    lo, hi = zs[k - 1], zs[k]
    for _ in range(48):  # brackets shrink by 2**-48
        mid = 0.5 * (lo + hi)
        below = sgn * gbar_of(mid) < sgn * g
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    z, dzdg = 0.5 * (lo + hi), np.abs(np.gradient(0.5 * (lo + hi), g))
    ok = dzdg > 0
    log_q = prior.log_density(z[ok].reshape(-1, 1)) + np.log(dzdg[ok])
    return g[ok], log_q, np.exp(log_q)


def _moments_fit(g, w, N, n_grid=20001):
    """Maximum-likelihood ``(a, b, c)`` of ``q(g) ~ exp(a g**2 + b g + N ln 2cosh(g/2))`` for weighted draws."""
    w = w / w.sum()
    T = np.array([w @ (g * g), w @ g])
    sd = math.sqrt(max(T[0] - T[1] ** 2, 0.0))
    G = 1.5 * np.abs(g).max() + 5.0 * sd + 1e-3
    grid = np.linspace(-G, G, n_grid)
    base, feats = N * log2cosh(0.5 * grid), np.stack([grid * grid, grid])
    scale = np.array([N / 8.0, N / 2.0])  # theta = scale * t: t = (-1 / beta J, beta h / beta J) is O(1)

    def nll(t):
        e = (scale * t) @ feats + base
        A = logsumexp(e)
        p = np.exp(e - A)
        return (A - (scale * t) @ T) / N, scale * (feats @ p - T) / N
    res = minimize(nll, np.array([-1.0, 0.0]), jac=True, method="BFGS", options={"gtol": 1e-12, "maxiter": 1000})
    a, b = scale * res.x
    c = -logsumexp(a * grid * grid + b * grid + base) - math.log(grid[1] - grid[0])
    return np.array([a, b, c]), T


def _weighted_histogram(g, w, n_bins):
    k, edges = np.histogram(g, bins=n_bins, weights=w / w.sum())
    keep = k > 0
    centres = 0.5 * (edges[:-1] + edges[1:])
    return centres[keep], np.log(k[keep] / np.diff(edges)[keep]), k[keep]


def curie_weiss_readoff(decoder, N=None, n_draws=200_000, seed=0, latent_dim=None, method="auto", Z=None,
                        n_bins=None, min_count=10, n_grid=2001, z_max=5.0):
    """Read ``beta J`` and ``beta h`` off a mean-field (all sites equal) Bernoulli decoder.

    Parameters
    ----------
    decoder : callable or VAE-like
        ``Z (n, d) -> logits (n, N)``, or an object with ``.fields`` and ``.latent_dim``; the site average
        ``gbar(z)`` of the logits is the latent field. A VAE (with ``sample_latents``) is read over its own
        latent prior, anything else over ``N(0, I)`` (:func:`fastmf.decode.prior.latent_prior`).
    N : int, optional
        System size in the formulas (default: the decoder's number of sites).
    n_draws : int
        Prior draws (>= 100) for "histogram", and for "moments" when the latent is not 1-D (a 1-D latent uses
        quadrature over the prior's components); 4096 of them give ``site_spread``.
    seed : int or numpy.random.Generator
    latent_dim : int, optional
        Required for a plain callable.
    method : {"auto", "moments", "exact", "histogram"}
        See the module docstring; "auto" is "moments".
    Z : array (n, d), optional
        Latent draws to use instead of the prior (e.g. the aggregate posterior from
        :func:`fastmf.decode.common.posterior_draws`); "moments" and "histogram" only.
    n_bins, min_count : int
        Histogram bins (default ``clip(sqrt(n_draws), 50, 1000)``); bins with fewer draws than min_count are dropped.
    n_grid, z_max : int, float
        g grid points of the exact method, and its latent range: every prior component out to ``z_max``
        standard deviations (``[-z_max, z_max]`` for ``N(0, 1)``).

    Returns
    -------
    CurieWeissReadoff
    """
    fields, d = as_decoder(decoder, latent_dim)
    n_draws, min_count = check_int("n_draws", n_draws, 100), check_int("min_count", min_count, 2)
    n_grid, z_max = check_int("n_grid", n_grid, 101), check_real("z_max", z_max, positive=True)
    if method not in _METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, _METHODS))}, got {method!r}")
    method = "moments" if method == "auto" else method
    rng = as_generator(seed)
    if Z is not None:
        Z = np.asarray(Z, dtype=np.float64)
        if Z.ndim != 2 or Z.shape[1] != d or len(Z) < 100 or not np.isfinite(Z).all():
            raise ValueError(f"Z must be finite latent draws of shape (n >= 100, {d}), got {Z.shape}")
        if method == "exact":
            raise ValueError("method='exact' integrates over the prior; it does not take draws Z")
    prior = latent_prior(decoder, d)
    z0 = prior.sample(min(n_draws, 4096), rng) if Z is None else Z[:4096]
    G0 = evaluate_fields(fields, z0)
    N = G0.shape[1] if N is None else check_int("N", N, 1)
    spread = float(np.sqrt(np.mean((G0 - G0.mean(axis=1, keepdims=True)) ** 2)))
    site_mean = lambda G: G.mean(axis=1)
    nb = int(np.clip(math.sqrt(n_draws), 50, 1000)) if n_bins is None else check_int("n_bins", n_bins, 5)
    chi2 = None
    if method == "exact":
        exact = (_cw_exact(lambda zz: evaluate_fields(fields, zz.reshape(-1, 1), site_mean), prior, z_max,
                           n_grid) if d == 1 else None)
        if exact is None:
            raise ValueError(f"method='exact' needs latent_dim == 1 (got {d}) and a site-averaged field monotone "
                             "in z")
        g, log_q, w = exact
    else:
        if Z is not None:
            gbar, wd = evaluate_fields(fields, Z, site_mean), np.ones(len(Z))
        elif method == "moments" and d == 1:  # quadrature: the prior's moments without sampling error
            zq, wd = prior.quadrature_1d()
            gbar = evaluate_fields(fields, zq.reshape(-1, 1), site_mean)
        else:
            gbar = site_mean(G0)
            if n_draws > len(z0):
                z_more = prior.sample(n_draws - len(z0), rng)
                gbar = np.concatenate([gbar, evaluate_fields(fields, z_more, site_mean)])
            wd = np.ones(len(gbar))
        if np.ptp(gbar) == 0:
            raise ValueError("the site-averaged field does not vary with z: nothing to read off")
        if method == "moments":
            coeffs, moments = _moments_fit(gbar, wd, N)
            g, log_q, w = _weighted_histogram(gbar, wd, nb)
        else:
            k, edges = np.histogram(gbar, bins=nb)
            keep = k >= min_count
            if keep.sum() < 4:
                raise ValueError(f"fewer than 4 histogram bins hold >= {min_count} draws; raise n_draws or lower "
                                 "n_bins")
            w = k[keep].astype(np.float64)
            g = 0.5 * (edges[:-1] + edges[1:])[keep]
            log_q = np.log(w / (len(gbar) * np.diff(edges)[keep])) + 0.5 / w
    y = log_q - N * log2cosh(0.5 * g)
    X = np.stack([g * g, g, np.ones_like(g)], axis=1)
    if method == "moments":
        rms = float(np.sqrt(np.sum(w / w.sum() * (X @ coeffs - y) ** 2)))
    else:
        coeffs, rms = weighted_least_squares(X, y, w)
        if method == "histogram":
            chi2 = float(np.sum(w * (X @ coeffs - y) ** 2) / max(len(g) - 3, 1))
        wn = w / w.sum()
        moments = np.array([wn @ (g * g), wn @ g])
    a, b = coeffs[0], coeffs[1]
    if a >= 0:
        warnings.warn("fitted quadratic is not concave (a >= 0): the decoder is not Curie-Weiss-like with J > 0",
                      RuntimeWarning, stacklevel=2)
    beta_J, beta_h = (-N / (8.0 * a), -b / (4.0 * a)) if a != 0 else (math.inf, math.nan)
    return CurieWeissReadoff(float(beta_J), float(beta_h), coeffs, g, log_q, w / w.sum(), method, N, rms, chi2,
                             spread, moments)
