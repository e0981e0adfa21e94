"""Read microscopic mean-field parameters off a factorized Bernoulli decoder (docs/theory.rst).

A decoder maps latents Z (n, d) to logits G (n, N), ``p(s_i = +1 | z) = sigmoid(g_i(z))``: a VAE-like object
(``.fields``, ``.latent_dim``) or a callable plus ``latent_dim``. Latents are drawn from the decoder's prior
p(z) (:mod:`fastmf.decode.prior`): a VAE's own (a learned mixture or the standard normal), ``N(0, I)`` for a
plain callable; the model is the push-forward of p(z), and every formula below is about that push-forward.
Logs are natural.

**Curie-Weiss**: :func:`curie_weiss_readoff` (:mod:`fastmf.decode.curie_weiss`) fits ``beta J`` and ``beta h`` to the
distribution of the site-averaged field.

**Hopfield** ``p(s) ~ exp(beta/(2N) sum_mu (xi_mu . s)**2 + beta h . s)``: ``g(z) = 2 beta (h + Xi^T phi(z))``.
Centring the logits over prior draws removes the field; the top P right singular vectors V (P, N) span the
patterns. :func:`hopfield_readoff` iterates ``x <- sign(V^T V x)`` from random starts ``sign(c V)``: patterns
are fixed points at distance ``|x - V^T V x|**2 / N = 0``, spurious mixtures (``sign(xi1 + xi2 + xi3)``) at a
finite one; the closest P independent ones are kept, and matched to known patterns by the Hungarian algorithm.

**Generalized Hopfield** ``P(s) ~ exp(h . s + (1/2N) sum_mu (xi_mu . s)**2)``, real xi (beta absorbed):
``g = 2 h + 2 Xi^T phi``, ``p(phi) ~ exp(-N |phi|**2 / 2 + sum_i ln 2cosh(g_i / 2))``. With ``u = V (g - gbar)``
the coordinates in the K-dim span, ``log q(u) - sum_i ln 2cosh(g_i/2) = -u^T A u / 2 + b^T u + c``, whence::

    J_ij = (1/N) sum_mu xi_i^mu xi_j^mu = (1/4) V^T A^{-1} V,   h = (gbar + V^T A^{-1} b) / 2,
    Xi = (sqrt(N) / 2) A^{-1/2} V   (one gauge: Xi is defined up to a rotation; J and h are not).

(Curie-Weiss: ``J_ij = beta J / N``, ``h_i = beta h``.) :func:`generic_readoff` fits it when latent_dim = K and
the map is invertible (``log q(u) = log p(z) - log|det du/dz|`` with p the latent prior's density, central
differences at prior draws). Model-free, always: ``mean_fields = mean_z g / 2`` (= h when ``E phi = 0``, e.g. an
odd latent map under a prior symmetric in z -> -z, where the draws are antithetic) and
``patterns = sigma_k v_k / (2 sqrt(n))``: ``g - gbar = 2 sum_k patterns_k phi_k`` with unit mean-square
coordinates over the draws (not the model's xi scale). The Hopfield span is that of the logits over the draws:
draws from another prior (N(0, I) for a learned-prior VAE) also visit latents the model gives no mass, whose
logits need not lie in the patterns' span.
"""
import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..kernels.validation import check_int, check_real
from .common import (as_decoder, as_generator, evaluate_fields, field_samples, log2cosh, posterior_draws,
                     weighted_least_squares)
from .curie_weiss import CurieWeissReadoff, curie_weiss_readoff
from .prior import latent_prior

__all__ = ["CurieWeissReadoff", "GenericReadoff", "HopfieldReadoff", "curie_weiss_readoff", "field_samples",
           "generic_readoff", "hopfield_readoff", "posterior_draws", "significant_directions"]


@dataclass(frozen=True, eq=False)
class HopfieldReadoff:
    """Result of :func:`hopfield_readoff`.

    Attributes
    ----------
    patterns : ndarray of int8 (P, N)
        +-1 patterns, strongest latent direction first, site 0 = +1.
    singular_values, mean_field : ndarray
        Of the centred logit matrix over the draws; mean logit (N,).
    residuals : ndarray (P,)
        ``|x - V^T V x|**2 / N`` (0 for a pattern exactly in the span).
    match, signs, overlaps, fraction_recovered : ndarray, float or None
        With true patterns T: ``patterns[k] ~ signs[k] T[match[k]]``, ``overlaps[k] = |patterns[k] .
        T[match[k]]| / N``, fraction of matched entries equal after the sign flip.
    """
    patterns: np.ndarray
    singular_values: np.ndarray
    residuals: np.ndarray
    mean_field: np.ndarray
    match: np.ndarray | None = None
    signs: np.ndarray | None = None
    overlaps: np.ndarray | None = None
    fraction_recovered: float | None = None


@dataclass(frozen=True, eq=False)
class GenericReadoff:
    """Result of :func:`generic_readoff`.

    Attributes
    ----------
    n_significant, n_patterns : int
        Significant latent directions (:func:`significant_directions`) and directions kept.
    singular_values, mean_fields, patterns : ndarray
        Spectrum; mean logit / 2 (N,); ``sigma_k v_k / (2 sqrt(n))`` (n_patterns, N).
    fields, couplings, fit_patterns, fit_residual_rms : ndarray, float or None
        Density fit only: ``h`` (N,), ``J`` (N, N), ``Xi`` with ``J = Xi^T Xi / N`` (None unless A > 0), RMS
        residual (nats).
    """
    n_significant: int
    n_patterns: int
    singular_values: np.ndarray
    mean_fields: np.ndarray
    patterns: np.ndarray
    fields: np.ndarray | None = None
    couplings: np.ndarray | None = None
    fit_patterns: np.ndarray | None = None
    fit_residual_rms: float | None = None


def significant_directions(singular_values, rtol=None, floor=1e-3):
    """Number of significant latent directions in a singular-value spectrum.

    Parameters
    ----------
    singular_values : array_like, 1-D
        Non-negative (any order).
    rtol : float, optional
        Count ``s > rtol * s_max``. Default: the largest-gap rule, the k maximizing ``log(s_k / s_{k+1})``
        (1-based) over the values floored at ``floor * s_max`` with one floor appended (a rank-k spectrum gives
        k, a gapless one all directions above the floor).
    floor : float
        Relative noise floor in (0, 1): weaker directions are noise (a trained float32 network's spectrum
        decays smoothly to ~1e-8, which must not out-gap the physical gap).

    Returns
    -------
    int
    """
    s = np.asarray(singular_values, dtype=np.float64)
    if s.ndim != 1 or s.size == 0 or not np.isfinite(s).all() or (s < 0).any():
        raise ValueError("singular_values must be a non-empty 1-D array of finite non-negative numbers")
    floor = check_real("floor", floor, positive=True)
    if floor >= 1:
        raise ValueError(f"floor must be in (0, 1), got {floor}")
    s = np.sort(s)[::-1]
    if s[0] == 0:
        return 0
    if rtol is not None:
        return int(np.sum(s > check_real("rtol", rtol, positive=True) * s[0]))
    t = np.append(np.maximum(s, floor * s[0]), floor * s[0])
    return int(np.argmax(np.log(t[:-1] / t[1:]))) + 1


def _sign_basis(V, P, rng, tol, n_restarts):
    """Up to P independent, distinct (up to sign) +-1 fixed points closest to span(V), and their residuals."""
    N, cands = V.shape[1], {}
    for _ in range(max(1, n_restarts // 256)):
        X = np.where(rng.standard_normal((256, V.shape[0])) @ V >= 0, 1.0, -1.0)
        for _ in range(200):
            Xn = np.where((X @ V.T) @ V >= 0, 1.0, -1.0)
            if np.array_equal(Xn, X):
                break
            X = Xn
        X *= np.where(X[:, :1] >= 0, 1.0, -1.0)  # site 0 = +1
        res = np.sum((X - (X @ V.T) @ V) ** 2, axis=1) / N
        for x, r in zip(X, res):
            cands.setdefault(x.tobytes(), (r, x))
        if sum(r < tol for r, _ in cands.values()) >= P:
            break
    basis, out, res_out = np.zeros((0, N)), [], []
    for r, x in sorted(cands.values(), key=lambda t: t[0]):
        resid = x - basis.T @ (basis @ x)
        nr = np.linalg.norm(resid)
        if nr * nr / N > 0.05 and len(out) < P:
            basis = np.vstack([basis, resid / nr])
            out.append(x)
            res_out.append(r)
    return np.array(out).reshape(-1, N), np.array(res_out)


def _match(pats, true_patterns):
    T = np.asarray(true_patterns)
    if T.ndim != 2 or T.shape[1] != pats.shape[1] or not np.isin(T, (-1, 1)).all():
        raise ValueError(f"true_patterns must be a +-1 array of shape (P, {pats.shape[1]}), got shape {T.shape}")
    O = pats.astype(np.float64) @ T.T.astype(np.float64) / pats.shape[1]
    rows, cols = linear_sum_assignment(-np.abs(O))
    match, signs, overlaps = np.full(len(pats), -1), np.zeros(len(pats), dtype=int), np.zeros(len(pats))
    match[rows], signs[rows], overlaps[rows] = cols, np.where(O[rows, cols] >= 0, 1, -1), np.abs(O[rows, cols])
    frac = float(np.mean(pats[rows] == signs[rows, None] * T[cols]))
    return match, signs, overlaps, frac


def hopfield_readoff(decoder, P=None, n_draws=4000, seed=0, true_patterns=None, latent_dim=None, tol=0.05,
                     n_restarts=4096):
    """Recover +-1 Hopfield patterns from the span of a decoder's logits.

    Parameters
    ----------
    decoder, seed, latent_dim
        As in :func:`field_samples` (seed also drives the random starts of the sign search).
    P : int, optional
        Number of patterns (default: :func:`significant_directions` of the spectrum).
    n_draws : int
        Prior draws for the SVD (the decoder's own prior: :func:`field_samples`).
    true_patterns : array_like (P', N), optional
        Known +-1 patterns to match (order and sign) and score.
    tol, n_restarts : float, int
        Fixed points with ``|x - V^T V x|**2 / N < tol`` count as patterns (fewer than P warn; the closest other
        fixed points fill in); most random starts (batches of 256).

    Returns
    -------
    HopfieldReadoff
    """
    n_draws, n_restarts = check_int("n_draws", n_draws, 2), check_int("n_restarts", n_restarts, 1)
    tol, rng = check_real("tol", tol, positive=True), as_generator(seed)
    _, G = field_samples(decoder, n_draws, rng, latent_dim)
    mean = G.mean(axis=0)
    _, s, Vt = np.linalg.svd(G - mean, full_matrices=False)
    P = significant_directions(s) if P is None else check_int("P", P, 1, len(s))
    if P == 0:
        raise ValueError("the decoder's logits do not vary with z: no patterns")
    pats, res = _sign_basis(Vt[:P], P, rng, tol, n_restarts)
    if len(pats) < P or (res >= tol).any():
        warnings.warn(f"found {int(np.sum(res < tol))} of {P} +-1 vectors within tol = {tol} of the span",
                      RuntimeWarning, stacklevel=2)
    order = np.argsort(-((G - mean) @ np.linalg.pinv(pats)).std(axis=0), kind="stable")  # strongest first
    pats, res = pats[order].astype(np.int8), res[order]
    matched = (None,) * 4 if true_patterns is None else _match(pats, true_patterns)
    return HopfieldReadoff(pats, s, res, mean, *matched)


def _density_fit(fields, prior, z, mean, V, eps=1e-4):
    """``(A, b, rms)`` of ``log q(u) - sum ln 2cosh(g/2) = -u^T A u / 2 + b^T u + c`` at draws z of ``prior``."""
    n, K = z.shape
    G, jac = evaluate_fields(fields, z), np.empty((n, K, K))
    for j in range(K):
        dz = eps * np.eye(K)[j]
        jac[:, :, j] = (evaluate_fields(fields, z + dz) - evaluate_fields(fields, z - dz)) @ V.T / (2.0 * eps)
    sign, logdet = np.linalg.slogdet(jac)
    u, ok = (G - mean) @ V.T, sign != 0
    y = prior.log_density(z) - logdet - log2cosh(0.5 * G).sum(axis=1)
    iu = np.triu_indices(K)
    quad = u[:, iu[0]] * u[:, iu[1]] * np.where(iu[0] == iu[1], -0.5, -1.0)
    X = np.concatenate([quad, u, np.ones((n, 1))], axis=1)
    beta, rms = weighted_least_squares(X[ok], y[ok], np.ones(ok.sum()))
    A = np.zeros((K, K))
    A[iu] = A[iu[::-1]] = beta[:len(iu[0])]
    return A, beta[len(iu[0]):len(iu[0]) + K], rms


def generic_readoff(decoder, n_patterns=None, n_draws=4000, seed=0, latent_dim=None, fit=None, n_fit=4000):
    """Generalized Hopfield read-off: fields, real patterns, number of significant latent directions.

    Parameters
    ----------
    decoder, seed, latent_dim
        As in :func:`field_samples`.
    n_patterns : int, optional
        Directions kept (default: the number of significant directions).
    n_draws : int
        Prior draws; in antithetic pairs ``(z, -z)`` (an odd number rounded down) when the prior is symmetric
        under ``z -> -z`` (``N(0, I)``), independent draws for a learned prior (pairs would draw from its mirror
        image too).
    fit, n_fit : bool or None, int
        Fit the density (module docstring; default: when ``latent_dim == n_patterns``, which it needs) on n_fit
        prior draws (``2 latent_dim + 1`` decoder rows each), with the prior's log density.

    Returns
    -------
    GenericReadoff
    """
    fields, d = as_decoder(decoder, latent_dim)
    n_draws, n_fit = check_int("n_draws", n_draws, 2), check_int("n_fit", n_fit, 10)
    rng, prior = as_generator(seed), latent_prior(decoder, d)
    if prior.is_symmetric:  # antithetic pairs: an odd latent map averages to exactly 0
        z = prior.sample(n_draws // 2, rng)
        z = np.concatenate([z, -z])
    else:
        z = prior.sample(n_draws, rng)
    G = evaluate_fields(fields, z)
    mean = G.mean(axis=0)
    _, s, Vt = np.linalg.svd(G - mean, full_matrices=False)
    n_sig = significant_directions(s)
    K = n_sig if n_patterns is None else check_int("n_patterns", n_patterns, 1, len(s))
    pats = s[:K, None] * Vt[:K] / (2.0 * math.sqrt(len(G)))
    if not (K == d and K > 0 if fit is None else fit):
        return GenericReadoff(n_sig, K, s, mean / 2.0, pats)
    if K != d:
        raise ValueError(f"the density fit needs latent_dim == n_patterns, got {d} and {K}")
    V = Vt[:K]
    A, b, rms = _density_fit(fields, prior, prior.sample(n_fit, rng), mean, V)
    Ainv = np.linalg.pinv(A)
    ev, U = np.linalg.eigh(A)
    xi = 0.5 * math.sqrt(G.shape[1]) * (U / np.sqrt(ev)) @ U.T @ V if (ev > 0).all() else None
    return GenericReadoff(n_sig, K, s, mean / 2.0, pats, (mean + V.T @ (Ainv @ b)) / 2.0, 0.25 * V.T @ Ainv @ V,
                          xi, rms)
