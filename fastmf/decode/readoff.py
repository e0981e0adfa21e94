"""Read microscopic mean-field parameters off a factorized Bernoulli decoder (DESIGN.md, "The theory").

A decoder maps latents Z (n, d) to logits G (n, N), ``p(s_i = +1 | z) = sigmoid(g_i(z))``, z ~ N(0, I): a
VAE-like object (``.fields``, ``.latent_dim``) or a callable plus ``latent_dim``. Logs are natural.

**Curie-Weiss** ``p(s) ~ exp(beta J M**2 / (2N) + beta h M)``: ``p(phi) ~ exp(-N [beta J phi**2 / 2 - ln 2cosh
beta (J phi + h)])``, all logits ``g = 2 beta (J phi + h)``. As ``dphi/dg = 1/(2 beta J)`` is constant (sign:
DESIGN.md's "+ N ln 2cosh" must read "-")::

    log q(g) - N ln 2cosh(g/2) = c - N (g/2 - beta h)**2 / (2 beta J) = a g**2 + b g + c',
    a = -N / (8 beta J),  b = N h / (2 J)   =>   beta J = -N / (8 a),  beta h = -b / (4 a)  (vertex g = 2 beta h).

:func:`curie_weiss_readoff` takes the site average ``gbar(z)`` as the latent field and estimates q either
``"exact"`` (1-D latent, gbar monotone: on a uniform g grid, z(g) by bisection on the decoder and ``q(g) =
phi_N(z) |dz/dg|`` by finite differences in g, which resolve the near-step of an ordered-phase decoder; weights
= probability mass per point) or by ``"histogram"`` of gbar over prior draws (bins with >= ``min_count``
draws, ``log(k / (n dg)) + 1/(2k)`` with the first-order Poisson bias correction, weights k = 1/var(log k);
binning bias ``O(dg**2 / sigma_g**2)``). The quadratic is fitted by weighted least squares.

**Hopfield** ``p(s) ~ exp(beta/(2N) sum_mu (xi_mu . s)**2 + beta h . s)``: ``g(z) = 2 beta (h + Xi^T phi(z))``.
Centring the logits over prior draws removes the field (and any mean of phi); the top P right singular vectors
V (P, N) span the patterns. :func:`hopfield_readoff` finds the +-1 vectors of that span by alternating
projection ``x <- sign(V^T V x)`` from random starts ``sign(c V)``: patterns are fixed points at distance
``|x - V^T V x|**2 / N = 0`` from the span, spurious mixtures (``sign(xi1 + xi2 + xi3)``) fixed points at a
finite distance. The closest P linearly independent fixed points (distinct up to sign) are kept; known patterns
are matched by the Hungarian algorithm on ``|xi_hat . xi| / N``.

**Generalized Hopfield** ``P(s) ~ exp(sum_i h_i s_i + (1/2N) sum_mu (xi_mu . s)**2)``, real xi (beta absorbed):
``g = 2 h + 2 Xi^T phi``, ``p(phi) ~ exp(-N |phi|**2 / 2 + sum_i ln 2cosh(g_i / 2))``. With ``u = V (g - gbar)``
(coordinates in the K-dim span), ``log q(u) - sum_i ln 2cosh(g_i/2) = -u^T A u / 2 + b^T u + c``, whence::

    J_ij = (1/N) sum_mu xi_i^mu xi_j^mu = (1/4) V^T A^{-1} V,   h = (gbar + V^T A^{-1} b) / 2,
    Xi = (sqrt(N) / 2) A^{-1/2} V   (one gauge: Xi is defined up to a rotation; J and h are not).

(Curie-Weiss: ``J_ij = beta J / N``, ``h_i = beta h``.) :func:`generic_readoff` fits it when latent_dim = K
(``log q(u) = log phi_N(z) - log|det du/dz|``, Jacobian by central differences at prior draws; needs an
invertible map). Always reported, model-free: ``mean_fields = mean_z g / 2`` (= h when ``E phi = 0``, e.g. an
odd latent map) and ``patterns = sigma_k v_k / (2 sqrt(n))``, the scale at which ``g - gbar = 2 sum_k
patterns_k phi_k`` with unit mean-square coordinates over the draws (not the model's xi scale).
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
        ``-N / (8 a)`` and ``-b / (4 a)``.
    coeffs : ndarray (3,)
        ``(a, b, c)`` of the fit ``a g**2 + b g + c ~ log q(g) - N ln 2cosh(g/2)``.
    g, log_q, weights : ndarray
        Points of the density estimate, log of the normalized density of g there, fit weights (sum 1).
    method : {"exact", "histogram"}
    N : int
    residual_rms : float
        Weighted RMS residual of the fit (nats).
    chi2_dof : float or None
        Poisson chi-square per degree of freedom (histogram; ~1 for a Curie-Weiss decoder).
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

    def quadratic(self, g):
        """The fitted ``a g**2 + b g + c`` at g."""
        a, b, c = self.coeffs
        g = np.asarray(g, dtype=np.float64)
        return (a * g + b) * g + c


@dataclass(frozen=True, eq=False)
class HopfieldReadoff:
    """Result of :func:`hopfield_readoff`.

    Attributes
    ----------
    patterns : ndarray of int8 (P, N)
        +-1 patterns, strongest latent direction first, site 0 = +1.
    singular_values : ndarray
        Of the centred logit matrix over the draws.
    residuals : ndarray (P,)
        ``|x - V^T V x|**2 / N`` (0 for a pattern exactly in the span).
    mean_field : ndarray (N,)
        Mean logit over the draws.
    match, signs, overlaps : ndarray or None
        With true patterns T: ``patterns[k] ~ signs[k] T[match[k]]``, ``overlaps[k] = |patterns[k] . T[match[k]]| / N``.
    fraction_recovered : float or None
        Fraction of matched entries equal after the sign flip.
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
    singular_values : ndarray
    mean_fields : ndarray (N,)
        Mean logit / 2 over the draws.
    patterns : ndarray (n_patterns, N)
        ``sigma_k v_k / (2 sqrt(n))``.
    fields, couplings, fit_patterns : ndarray or None
        Density fit only: ``h`` (N,), ``J`` (N, N), ``Xi`` with ``J = Xi^T Xi / N`` (None unless A > 0).
    fit_residual_rms : float or None
        RMS residual of the density fit (nats).
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


# ---- decoder plumbing ----------------------------------------------------------------------------------

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
    """Logits at z (validated (n, N), finite), called in row blocks; ``reduce`` maps each block."""
    out, N = [], None
    for s in range(0, len(z), _ROWS):
        zz = z[s:s + _ROWS]
        g = np.asarray(fields(zz), dtype=np.float64)
        if g.ndim != 2 or g.shape[0] != len(zz) or (N is not None and g.shape[1] != N):
            raise ValueError(f"decoder must map latents of shape {zz.shape} to logits of shape (n, N), got "
                             f"shape {g.shape}")
        if not np.isfinite(g).all():
            raise ValueError("decoder returned non-finite logits")
        N = g.shape[1]
        out.append(g if reduce is None else reduce(g))
    return np.concatenate(out)


def _rng(seed):
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, (bool, np.bool_)):
        raise ValueError("seed must be an int, a sequence of ints or a numpy Generator (explicit randomness)")
    return np.random.default_rng(seed)


def field_samples(decoder, n_draws, seed=0, latent_dim=None, antithetic=False):
    """Prior latent draws and the decoder's fields at them.

    Parameters
    ----------
    decoder : callable or VAE-like
        ``Z (n, d) -> logits (n, N)``, or an object with ``.fields`` and ``.latent_dim``.
    n_draws : int
        Number of draws (even when ``antithetic``).
    seed : int or numpy.random.Generator
    latent_dim : int, optional
        Required for a plain callable.
    antithetic : bool
        Second half = minus the first: odd latent maps then average to exactly 0.

    Returns
    -------
    Z : ndarray, shape (n_draws, latent_dim)
    G : ndarray, shape (n_draws, N)
    """
    fields, d = _as_decoder(decoder, latent_dim)
    n = check_int("n_draws", n_draws, 1)
    if antithetic and n % 2:
        raise ValueError(f"antithetic sampling needs an even n_draws, got {n}")
    rng = _rng(seed)
    if antithetic:
        z = rng.standard_normal((n // 2, d))
        z = np.concatenate([z, -z])
    else:
        z = rng.standard_normal((n, d))
    return z, _eval(fields, z)


def _log2cosh(x):
    a = np.abs(x)
    return a + np.log1p(np.exp(-2.0 * a))


def _wls(X, y, w):
    """Weighted least squares ``X beta ~ y``; returns (beta, weighted RMS residual)."""
    sw = np.sqrt(w / w.sum())
    beta = np.linalg.lstsq(X * sw[:, None], y * sw, rcond=None)[0]
    return beta, float(np.sqrt(np.sum((sw * (X @ beta - y)) ** 2)))


# ---- Curie-Weiss -----------------------------------------------------------------------------------------

def _cw_exact(gbar_of, z_max, n_grid):
    """``(g, log q, mass weights)`` from the 1-D monotone map z -> gbar; None when not monotone."""
    zs = np.linspace(-z_max, z_max, 4 * n_grid + 1)
    gs = gbar_of(zs)
    dg = np.diff(gs)
    sgn = 1.0 if dg.sum() >= 0 else -1.0
    if np.any(sgn * dg < -1e-12 * (np.ptp(gs) + 1.0)) or np.ptp(gs) == 0:
        return None
    t = sgn * gs
    t = np.maximum.accumulate(t)
    g = np.linspace(gs.min(), gs.max(), n_grid + 2)[1:-1]
    k = np.clip(np.searchsorted(t, sgn * g), 1, len(zs) - 1)
    lo, hi = zs[k - 1], zs[k]
    for _ in range(48):  # bracket width 2.5e-3 / 2**48
        mid = 0.5 * (lo + hi)
        below = sgn * gbar_of(mid) < sgn * g
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    z = 0.5 * (lo + hi)
    dzdg = np.abs(np.gradient(z, g))
    ok = dzdg > 0
    g, z, dzdg = g[ok], z[ok], dzdg[ok]
    log_q = -0.5 * z * z - _LOG_SQRT_2PI + np.log(dzdg)
    return g, log_q, np.exp(log_q)


def curie_weiss_readoff(decoder, N=None, n_draws=200_000, seed=0, latent_dim=None, method="auto",
                        n_bins=None, min_count=10, n_grid=2001, z_max=5.0):
    """Read ``beta J`` and ``beta h`` off a mean-field (all sites equal) Bernoulli decoder.

    Parameters
    ----------
    decoder : callable or VAE-like
        ``Z (n, d) -> logits (n, N_sites)``; the site average ``gbar(z)`` is the latent field.
    N : int, optional
        System size in the formulas (default: the decoder's number of sites).
    n_draws : int
        Prior draws for the histogram (and 4096 of them for ``site_spread``).
    seed : int or numpy.random.Generator
    latent_dim : int, optional
        Required for a plain callable.
    method : {"auto", "exact", "histogram"}
        "auto": "exact" when ``latent_dim == 1`` and ``gbar`` is monotone on ``[-z_max, z_max]``, else
        "histogram". "exact" on a non-monotone decoder raises ValueError.
    n_bins : int, optional
        Histogram bins over the range of the draws (default ``min(1000, max(50, sqrt(n_draws)))``).
    min_count : int
        Least number of draws in a histogram bin used by the fit (>= 2).
    n_grid : int
        g grid points of the exact method (>= 101).
    z_max : float
        Latent range ``[-z_max, z_max]`` of the exact method.

    Returns
    -------
    CurieWeissReadoff
    """
    fields, d = _as_decoder(decoder, latent_dim)
    n_draws = check_int("n_draws", n_draws, 100)
    min_count = check_int("min_count", min_count, 2)
    n_grid = check_int("n_grid", n_grid, 101)
    z_max = check_real("z_max", z_max, positive=True)
    if method not in ("auto", "exact", "histogram"):
        raise ValueError(f"method must be 'auto', 'exact' or 'histogram', got {method!r}")
    if method == "exact" and d != 1:
        raise ValueError(f"method='exact' needs latent_dim == 1, got {d}")
    rng = _rng(seed)
    z0 = rng.standard_normal((min(n_draws, 4096), d))
    G0 = _eval(fields, z0)
    N_sites = G0.shape[1]
    N = N_sites if N is None else check_int("N", N, 1)
    spread = float(np.sqrt(np.mean((G0 - G0.mean(axis=1, keepdims=True)) ** 2)))
    exact = None
    if method != "histogram" and d == 1:
        exact = _cw_exact(lambda zz: _eval(fields, np.asarray(zz, np.float64).reshape(-1, 1),
                                           lambda G: G.mean(axis=1)), z_max, n_grid)
        if exact is None and method == "exact":
            raise ValueError("method='exact' needs a site-averaged field monotone in z; use 'histogram'")
    chi2 = None
    if exact is not None:
        method = "exact"
        g, log_q, w = exact
    else:
        method = "histogram"
        gbar = G0.mean(axis=1)
        if n_draws > len(z0):
            gbar = np.concatenate([gbar, _eval(fields, rng.standard_normal((n_draws - len(z0), d)),
                                               lambda G: G.mean(axis=1))])
        nb = int(min(1000, max(50, math.sqrt(n_draws)))) if n_bins is None else check_int("n_bins", n_bins, 5)
        if np.ptp(gbar) == 0:
            raise ValueError("the site-averaged field does not vary with z: nothing to read off")
        k, edges = np.histogram(gbar, bins=nb)
        keep = k >= min_count
        if keep.sum() < 4:
            raise ValueError(f"fewer than 4 histogram bins hold >= {min_count} draws; raise n_draws or lower n_bins")
        k = k[keep].astype(np.float64)
        g = 0.5 * (edges[:-1] + edges[1:])[keep]
        log_q = np.log(k / (n_draws * np.diff(edges)[keep])) + 0.5 / k
        w = k
    y = log_q - N * _log2cosh(0.5 * g)
    X = np.stack([g * g, g, np.ones_like(g)], axis=1)
    coeffs, rms = _wls(X, y, w)
    if chi2 is None and method == "histogram":
        chi2 = float(np.sum(w * (X @ coeffs - y) ** 2) / max(len(g) - 3, 1))
    a, b = coeffs[0], coeffs[1]
    if a >= 0:
        warnings.warn("fitted quadratic is not concave (a >= 0): the decoder is not Curie-Weiss-like with J > 0",
                      RuntimeWarning, stacklevel=2)
    beta_J = -N / (8.0 * a) if a != 0 else math.inf
    beta_h = -b / (4.0 * a) if a != 0 else math.nan
    return CurieWeissReadoff(float(beta_J), float(beta_h), coeffs, g, log_q, w / w.sum(), method, N,
                             rms, chi2, spread)


# ---- latent directions, Hopfield -------------------------------------------------------------------------

def significant_directions(singular_values, rtol=None):
    """Number of significant latent directions in a singular-value spectrum.

    Parameters
    ----------
    singular_values : array_like, 1-D
        Non-negative singular values (any order; sorted descending here).
    rtol : float, optional
        If given, count ``s > rtol * s_max``. Otherwise the largest-gap rule: the k maximizing
        ``log(s_k / s_{k+1})`` (1-based), with every value floored at ``1e-12 s_max`` and a floor appended, so
        an exactly rank-k spectrum gives k and a gapless one can give all directions.

    Returns
    -------
    int
    """
    s = np.asarray(singular_values, dtype=np.float64)
    if s.ndim != 1 or s.size == 0 or not np.isfinite(s).all() or (s < 0).any():
        raise ValueError("singular_values must be a non-empty 1-D array of finite non-negative numbers")
    s = np.sort(s)[::-1]
    if s[0] == 0:
        return 0
    if rtol is not None:
        rtol = check_real("rtol", rtol, positive=True)
        return int(np.sum(s > rtol * s[0]))
    t = np.append(np.maximum(s, 1e-12 * s[0]), 1e-12 * s[0])
    return int(np.argmax(np.log(t[:-1] / t[1:]))) + 1


def _svd(G):
    mean = G.mean(axis=0)
    _, s, Vt = np.linalg.svd(G - mean, full_matrices=False)
    return mean, s, Vt


def _sign_basis(V, P, rng, tol, n_restarts):
    """Up to P independent, distinct-up-to-sign +-1 vectors close to span(V rows), and their residuals."""
    N = V.shape[1]
    cands = {}
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
        if nr * nr / N > 0.05:
            basis = np.vstack([basis, resid / nr])
            out.append(x)
            res_out.append(r)
            if len(out) == P:
                break
    return np.array(out).reshape(-1, N), np.array(res_out)


def _match(patterns, true_patterns):
    T = np.asarray(true_patterns)
    if T.ndim != 2 or T.shape[1] != patterns.shape[1] or not np.isin(T, (-1, 1)).all():
        raise ValueError(f"true_patterns must be a +-1 array of shape (P, {patterns.shape[1]}), got shape "
                         f"{T.shape}")
    O = patterns.astype(np.float64) @ T.T.astype(np.float64) / patterns.shape[1]
    rows, cols = linear_sum_assignment(-np.abs(O))
    match = np.full(len(patterns), -1)
    match[rows] = cols
    signs = np.where(O[rows, cols] >= 0, 1, -1)
    overlaps = np.abs(O[rows, cols])
    frac = float(np.mean(patterns[rows] == signs[:, None] * T[cols]))
    sg = np.zeros(len(patterns), dtype=int)
    sg[rows] = signs
    ov = np.zeros(len(patterns))
    ov[rows] = overlaps
    return match, sg, ov, frac


def hopfield_readoff(decoder, P=None, n_draws=4000, seed=0, true_patterns=None, latent_dim=None, tol=0.05,
                     n_restarts=4096):
    """Recover +-1 Hopfield patterns from the span of a decoder's logits.

    Parameters
    ----------
    decoder : callable or VAE-like
    P : int, optional
        Number of patterns (default: :func:`significant_directions` of the spectrum).
    n_draws : int
        Prior draws for the SVD (>= 2).
    seed : int or numpy.random.Generator
        Draws and the random starts of the sign search.
    true_patterns : array_like, shape (P', N), optional
        Known +-1 patterns to match (order and sign) and score.
    latent_dim : int, optional
        Required for a plain callable.
    tol : float
        A fixed point with residual ``|x - V^T V x|**2 / N`` below tol counts as a pattern; fewer than P such
        points gives a RuntimeWarning (the best remaining fixed points fill in).
    n_restarts : int
        Most random starts of the alternating projection (in batches of 256).

    Returns
    -------
    HopfieldReadoff
    """
    n_draws = check_int("n_draws", n_draws, 2)
    tol = check_real("tol", tol, positive=True)
    n_restarts = check_int("n_restarts", n_restarts, 1)
    rng = _rng(seed)
    _, G = field_samples(decoder, n_draws, rng, latent_dim)
    mean, s, Vt = _svd(G)
    P = significant_directions(s) if P is None else check_int("P", P, 1, len(s))
    if P == 0:
        raise ValueError("the decoder's logits do not vary with z: no patterns")
    pats, res = _sign_basis(Vt[:P], P, rng, tol, n_restarts)
    if len(pats) < P or (res >= tol).any():
        warnings.warn(f"found {int(np.sum(res < tol))} of {P} +-1 vectors within tol = {tol} of the span",
                      RuntimeWarning, stacklevel=2)
    coef = (G - mean) @ np.linalg.pinv(pats)  # latent coordinates, strongest first
    order = np.argsort(-coef.std(axis=0), kind="stable")
    pats, res = pats[order].astype(np.int8), res[order]
    m = sg = ov = frac = None
    if true_patterns is not None:
        m, sg, ov, frac = _match(pats, true_patterns)
    return HopfieldReadoff(pats, s, res, mean, m, sg, ov, frac)


# ---- generalized Hopfield --------------------------------------------------------------------------------

def _density_fit(fields, z, mean, V, eps=1e-4):
    """``(A, b, rms)`` of ``log q(u) - sum ln 2cosh(g/2) = -u^T A u / 2 + b^T u + c`` at draws z."""
    n, K = z.shape
    G = _eval(fields, z)
    jac = np.empty((n, K, K))
    for j in range(K):
        dz = np.zeros(K)
        dz[j] = eps
        jac[:, :, j] = (_eval(fields, z + dz) - _eval(fields, z - dz)) @ V.T / (2.0 * eps)
    sign, logdet = np.linalg.slogdet(jac)
    ok = sign != 0
    u = (G - mean) @ V.T
    y = -0.5 * np.sum(z * z, axis=1) - K * _LOG_SQRT_2PI - logdet - _log2cosh(0.5 * G).sum(axis=1)
    iu = np.triu_indices(K)
    quad = u[:, iu[0]] * u[:, iu[1]] * np.where(iu[0] == iu[1], -0.5, -1.0)
    X = np.concatenate([quad, u, np.ones((n, 1))], axis=1)
    beta, rms = _wls(X[ok], y[ok], np.ones(ok.sum()))
    A = np.zeros((K, K))
    A[iu] = beta[:len(iu[0])]
    A = A + np.triu(A, 1).T
    return A, beta[len(iu[0]):len(iu[0]) + K], rms


def generic_readoff(decoder, n_patterns=None, n_draws=4000, seed=0, latent_dim=None, fit=None, n_fit=4000):
    """Generalized Hopfield read-off: fields, real patterns and number of significant latent directions.

    Parameters
    ----------
    decoder : callable or VAE-like
    n_patterns : int, optional
        Directions to keep (default: the number of significant directions).
    n_draws : int
        Prior draws (even: antithetic pairs ``z, -z``).
    seed : int or numpy.random.Generator
    latent_dim : int, optional
        Required for a plain callable.
    fit : bool, optional
        Fit the density (couplings and fields, see the module docstring). Default: when ``latent_dim ==
        n_patterns``; True with another latent_dim raises ValueError.
    n_fit : int
        Prior draws of the density fit (each costs ``2 latent_dim + 1`` decoder rows).

    Returns
    -------
    GenericReadoff
    """
    fields, d = _as_decoder(decoder, latent_dim)
    n_draws = check_int("n_draws", n_draws, 2)
    n_fit = check_int("n_fit", n_fit, 10)
    rng = _rng(seed)
    _, G = field_samples(fields, n_draws - n_draws % 2, rng, d, antithetic=True)
    mean, s, Vt = _svd(G)
    n_sig = significant_directions(s)
    K = n_sig if n_patterns is None else check_int("n_patterns", n_patterns, 1, len(s))
    pats = s[:K, None] * Vt[:K] / (2.0 * math.sqrt(len(G)))
    if fit is None:
        fit = K == d and K > 0
    if not fit:
        return GenericReadoff(n_sig, K, s, mean / 2.0, pats)
    if K != d:
        raise ValueError(f"the density fit needs latent_dim == n_patterns, got {d} and {K}")
    V = Vt[:K]
    A, b, rms = _density_fit(fields, rng.standard_normal((n_fit, d)), mean, V)
    Ainv = np.linalg.inv(A)
    h = (mean + V.T @ (Ainv @ b)) / 2.0
    J = 0.25 * V.T @ Ainv @ V
    ev, U = np.linalg.eigh(A)
    xi = 0.5 * math.sqrt(G.shape[1]) * (U / np.sqrt(ev)) @ U.T @ V if (ev > 0).all() else None
    return GenericReadoff(n_sig, K, s, mean / 2.0, pats, h, J, xi, rms)
