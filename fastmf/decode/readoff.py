"""Read microscopic mean-field parameters off a factorized Bernoulli decoder (DESIGN.md, "The theory").

A decoder maps latents Z (n, d), z ~ N(0, I), to logits G (n, N), ``p(s_i = +1 | z) = sigmoid(g_i(z))``: a
VAE-like object (``.fields``, ``.latent_dim``) or a callable plus ``latent_dim``. Logs are natural.

**Curie-Weiss** ``p(s) ~ exp(beta J M**2 / (2N) + beta h M)``: ``p(phi) ~ exp(-N [beta J phi**2 / 2 - ln 2cosh
beta (J phi + h)])``, all logits ``g = 2 beta (J phi + h)``, ``dphi/dg = 1/(2 beta J)`` constant, so (sign:
DESIGN.md's "+ N ln 2cosh" must read "-")::

    log q(g) - N ln 2cosh(g/2) = c - N (g/2 - beta h)**2 / (2 beta J) = a g**2 + b g + c',
    a = -N / (8 beta J),  b = N h / (2 J)   =>   beta J = -N / (8 a),  beta h = -b / (4 a)  (vertex g = 2 beta h).

:func:`curie_weiss_readoff` takes the site average gbar(z) as the latent field and estimates q "exact"ly (1-D
latent, gbar monotone: uniform g grid, z(g) by bisection, ``q = phi_N(z) |dz/dg|`` by finite differences in g,
resolving ordered-phase near-steps; weights = mass) or by "histogram" over prior draws (``log(k / (n dg)) +
1/(2k)``, Poisson bias-corrected, weights k = 1/var(log k), bias ``O(dg**2 / sigma_g**2)``); then weighted LS.

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
the map is invertible (``log q(u) = log phi_N(z) - log|det du/dz|``, central differences at prior draws).
Model-free, always: ``mean_fields = mean_z g / 2`` (= h when ``E phi = 0``, e.g. an odd latent map) and
``patterns = sigma_k v_k / (2 sqrt(n))``: ``g - gbar = 2 sum_k patterns_k phi_k`` with unit mean-square
coordinates over the draws (not the model's xi scale).
"""
import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..kernels.validation import check_int, check_real

__all__ = ["CurieWeissReadoff", "GenericReadoff", "HopfieldReadoff", "curie_weiss_readoff", "field_samples",
           "generic_readoff", "hopfield_readoff", "significant_directions"]

_ROWS = 1 << 15  # latent rows per decoder call
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


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
        Density-estimate points, log of the normalized density of g there, fit weights (sum 1).
    method : {"exact", "histogram"}
    N : int
    residual_rms, chi2_dof : float
        Weighted RMS residual (nats); Poisson chi-square per dof (histogram only, else None; ~1 if Curie-Weiss).
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


def _as_decoder(decoder, latent_dim):
    """``(fields callable, latent_dim)`` from a VAE-like object or a callable plus latent_dim."""
    if hasattr(decoder, "fields") and hasattr(decoder, "latent_dim"):
        d = check_int("decoder.latent_dim", decoder.latent_dim, 1)
        if latent_dim is not None and check_int("latent_dim", latent_dim, 1) != d:
            raise ValueError(f"latent_dim = {latent_dim} disagrees with decoder.latent_dim = {d}")
        return decoder.fields, d
    if not callable(decoder):
        raise TypeError(f"decoder must be callable or have .fields and .latent_dim, got {type(decoder).__name__}")
    if latent_dim is None:
        raise ValueError("latent_dim is required when decoder is a plain callable")
    return decoder, check_int("latent_dim", latent_dim, 1)


def _eval(fields, z, reduce=None):
    """Validated logits (n, N) at z, computed in row blocks; ``reduce`` maps each block."""
    out, N = [], None
    for s in range(0, len(z), _ROWS):
        g = np.asarray(fields(z[s:s + _ROWS]), dtype=np.float64)
        if g.ndim != 2 or g.shape[0] != len(z[s:s + _ROWS]) or g.shape[1] != (N or g.shape[1]):
            raise ValueError(f"decoder must map latents (n, d) to logits (n, N), got shape {g.shape}")
        if not np.isfinite(g).all():
            raise ValueError("decoder returned non-finite logits")
        N = g.shape[1]
        out.append(g if reduce is None else reduce(g))
    return np.concatenate(out)


def _rng(seed):
    if seed is None or isinstance(seed, (bool, np.bool_)):
        raise ValueError("seed must be an int, a sequence of ints or a numpy Generator (explicit randomness)")
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def field_samples(decoder, n_draws, seed=0, latent_dim=None, antithetic=False):
    """Prior latent draws and the decoder's fields at them.

    Parameters
    ----------
    decoder : callable or VAE-like
        ``Z (n, d) -> logits (n, N)``, or an object with ``.fields`` and ``.latent_dim``.
    n_draws : int
    seed : int or numpy.random.Generator
    latent_dim : int, optional
        Required for a plain callable.
    antithetic : bool
        Second half = minus the first (n_draws even): odd latent maps then average to exactly 0.

    Returns
    -------
    Z : ndarray (n_draws, latent_dim)
    G : ndarray (n_draws, N)
    """
    fields, d = _as_decoder(decoder, latent_dim)
    n = check_int("n_draws", n_draws, 1)
    if antithetic and n % 2:
        raise ValueError(f"antithetic sampling needs an even n_draws, got {n}")
    z = _rng(seed).standard_normal((n // 2 if antithetic else n, d))
    z = np.concatenate([z, -z]) if antithetic else z
    return z, _eval(fields, z)


def _wls(X, y, w):
    """Weighted least squares ``X beta ~ y``: (beta, weighted RMS residual)."""
    sw = np.sqrt(w / w.sum())
    beta = np.linalg.lstsq(X * sw[:, None], y * sw, rcond=None)[0]
    return beta, float(np.sqrt(np.sum((sw * (X @ beta - y)) ** 2)))


def _cw_exact(gbar_of, z_max, n_grid):
    """``(g, log q, weights)`` from the 1-D map z -> gbar; None when it is not monotone."""
    zs = np.linspace(-z_max, z_max, 4 * n_grid + 1)
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
    log_q = -0.5 * z[ok] ** 2 - _LOG_SQRT_2PI + np.log(dzdg[ok])
    return g[ok], log_q, np.exp(log_q)


def curie_weiss_readoff(decoder, N=None, n_draws=200_000, seed=0, latent_dim=None, method="auto",
                        n_bins=None, min_count=10, n_grid=2001, z_max=5.0):
    """Read ``beta J`` and ``beta h`` off a mean-field (all sites equal) Bernoulli decoder.

    Parameters
    ----------
    decoder, seed, latent_dim
        As in :func:`field_samples`; the site average ``gbar(z)`` of the logits is the latent field.
    N : int, optional
        System size in the formulas (default: the decoder's number of sites).
    n_draws : int
        Prior draws of the histogram (>= 100; 4096 of them give ``site_spread``).
    method : {"auto", "exact", "histogram"}
        "auto": "exact" when ``latent_dim == 1`` and gbar is monotone on ``[-z_max, z_max]``, else "histogram".
    n_bins, min_count : int
        Histogram bins (default ``clip(sqrt(n_draws), 50, 1000)``); bins with fewer draws than min_count are dropped.
    n_grid, z_max : int, float
        g grid points and latent range ``[-z_max, z_max]`` of the exact method.

    Returns
    -------
    CurieWeissReadoff
    """
    fields, d = _as_decoder(decoder, latent_dim)
    n_draws, min_count = check_int("n_draws", n_draws, 100), check_int("min_count", min_count, 2)
    n_grid, z_max = check_int("n_grid", n_grid, 101), check_real("z_max", z_max, positive=True)
    if method not in ("auto", "exact", "histogram"):
        raise ValueError(f"method must be 'auto', 'exact' or 'histogram', got {method!r}")
    rng = _rng(seed)
    z0 = rng.standard_normal((min(n_draws, 4096), d))
    G0 = _eval(fields, z0)
    N = G0.shape[1] if N is None else check_int("N", N, 1)
    spread = float(np.sqrt(np.mean((G0 - G0.mean(axis=1, keepdims=True)) ** 2)))
    site_mean = lambda G: G.mean(axis=1)
    exact = (_cw_exact(lambda zz: _eval(fields, zz.reshape(-1, 1), site_mean), z_max, n_grid)
             if method != "histogram" and d == 1 else None)
    if exact is None and method == "exact":
        raise ValueError(f"method='exact' needs latent_dim == 1 (got {d}) and a site-averaged field monotone in z")
    if exact is not None:
        method, (g, log_q, w) = "exact", exact
    else:
        method, gbar = "histogram", site_mean(G0)
        if n_draws > len(z0):
            gbar = np.concatenate([gbar, _eval(fields, rng.standard_normal((n_draws - len(z0), d)), site_mean)])
        if np.ptp(gbar) == 0:
            raise ValueError("the site-averaged field does not vary with z: nothing to read off")
        nb = int(np.clip(math.sqrt(n_draws), 50, 1000)) if n_bins is None else check_int("n_bins", n_bins, 5)
        k, edges = np.histogram(gbar, bins=nb)
        keep = k >= min_count
        if keep.sum() < 4:
            raise ValueError(f"fewer than 4 histogram bins hold >= {min_count} draws; raise n_draws or lower n_bins")
        w = k[keep].astype(np.float64)
        g = 0.5 * (edges[:-1] + edges[1:])[keep]
        log_q = np.log(w / (n_draws * np.diff(edges)[keep])) + 0.5 / w
    y = log_q - N * np.logaddexp(0.5 * g, -0.5 * g)
    X = np.stack([g * g, g, np.ones_like(g)], axis=1)
    coeffs, rms = _wls(X, y, w)
    chi2 = float(np.sum(w * (X @ coeffs - y) ** 2) / max(len(g) - 3, 1)) if method == "histogram" else None
    a, b = coeffs[0], coeffs[1]
    if a >= 0:
        warnings.warn("fitted quadratic is not concave (a >= 0): the decoder is not Curie-Weiss-like with J > 0",
                      RuntimeWarning, stacklevel=2)
    beta_J, beta_h = (-N / (8.0 * a), -b / (4.0 * a)) if a != 0 else (math.inf, math.nan)
    return CurieWeissReadoff(float(beta_J), float(beta_h), coeffs, g, log_q, w / w.sum(), method, N, rms, chi2,
                             spread)


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
        Prior draws for the SVD.
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
    tol, rng = check_real("tol", tol, positive=True), _rng(seed)
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


def _density_fit(fields, z, mean, V, eps=1e-4):
    """``(A, b, rms)`` of ``log q(u) - sum ln 2cosh(g/2) = -u^T A u / 2 + b^T u + c`` at draws z."""
    n, K = z.shape
    G, jac = _eval(fields, z), np.empty((n, K, K))
    for j in range(K):
        dz = eps * np.eye(K)[j]
        jac[:, :, j] = (_eval(fields, z + dz) - _eval(fields, z - dz)) @ V.T / (2.0 * eps)
    sign, logdet = np.linalg.slogdet(jac)
    u, ok = (G - mean) @ V.T, sign != 0
    y = -0.5 * np.sum(z * z, axis=1) - K * _LOG_SQRT_2PI - logdet - np.logaddexp(0.5 * G, -0.5 * G).sum(axis=1)
    iu = np.triu_indices(K)
    quad = u[:, iu[0]] * u[:, iu[1]] * np.where(iu[0] == iu[1], -0.5, -1.0)
    beta, rms = _wls(np.concatenate([quad, u, np.ones((n, 1))], axis=1)[ok], y[ok], np.ones(ok.sum()))
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
        Prior draws, in antithetic pairs ``(z, -z)`` (an odd number is rounded down).
    fit, n_fit : bool or None, int
        Fit the density (module docstring; default: when ``latent_dim == n_patterns``, which it needs) on n_fit
        prior draws (``2 latent_dim + 1`` decoder rows each).

    Returns
    -------
    GenericReadoff
    """
    fields, d = _as_decoder(decoder, latent_dim)
    n_draws, n_fit = check_int("n_draws", n_draws, 2), check_int("n_fit", n_fit, 10)
    rng = _rng(seed)
    _, G = field_samples(fields, n_draws - n_draws % 2, rng, d, antithetic=True)
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
    A, b, rms = _density_fit(fields, rng.standard_normal((n_fit, d)), mean, V)
    Ainv = np.linalg.pinv(A)
    ev, U = np.linalg.eigh(A)
    xi = 0.5 * math.sqrt(G.shape[1]) * (U / np.sqrt(ev)) @ U.T @ V if (ev > 0).all() else None
    return GenericReadoff(n_sig, K, s, mean / 2.0, pats, (mean + V.T @ (Ainv @ b)) / 2.0, 0.25 * V.T @ Ainv @ V,
                          xi, rms)
