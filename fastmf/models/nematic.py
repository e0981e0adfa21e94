"""Maier-Saupe (nematic) primitives: order tensors, the single-site partition function ``Z1`` and the latent
(Hubbard-Stratonovich) density.

``N`` unit vectors ``u_i`` (``u == -u``) with ``E = -(J / 2N) sum_{i,j} P2(u_i . u_j)``; ``Q_A = (1/N) sum_i
(3 u_i u_i^T - I)/2`` is the tensor order parameter and ``S`` its largest eigenvalue. The latent ``X``
(symmetric traceless 3x3) has the density ``p(X) ∝ exp(-(beta J N / 3) Tr X^2) Z1(beta J X)^N`` with
``Z1(B) = int_{S^2} exp(u^T B u) du`` (``sum_d exp(n_d^T B n_d)`` over ``D`` axes ``n_d`` in the discrete
variant). The derivation, the Bessel-function form of ``Z1`` and the exact moments built on these pieces are in
:mod:`fastmf.exact.maier_saupe`, which re-exports them; the latent samplers
(:mod:`fastmf.sampling.latent_maier_saupe`) use them directly.
"""
import functools
import math

import numpy as np
from scipy import special

__all__ = ["traceless_basis", "order_tensor", "order_parameter", "log_z1_eigs", "log_z1", "z1",
           "check_latent_params", "axes_log_weights", "latent_log_density", "eigs_from_polar", "vandermonde",
           "polar_grid"]

_E1 = np.array([2.0, -1.0, -1.0]) / math.sqrt(6.0)
_E2 = np.array([0.0, 1.0, -1.0]) / math.sqrt(2.0)


def traceless_basis():
    """Frobenius-orthonormal basis (5, 3, 3) of the symmetric traceless 3x3 matrices."""
    b = np.zeros((5, 3, 3))
    b[0] = np.diag([1.0, -1.0, 0.0]) / math.sqrt(2.0)
    b[1] = np.diag([1.0, 1.0, -2.0]) / math.sqrt(6.0)
    for k, (i, j) in enumerate([(0, 1), (0, 2), (1, 2)]):
        b[2 + k, i, j] = b[2 + k, j, i] = 1.0 / math.sqrt(2.0)
    return b


def order_tensor(u):
    """``Q = (1/N) sum_i (3 u_i u_i^T - I)/2`` for unit vectors ``u`` of shape (..., N, 3) -> (..., 3, 3)."""
    u = np.asarray(u, dtype=np.float64)
    A = np.einsum("...ia,...ib->...ab", u, u)
    return (3.0 * A / u.shape[-2] - np.eye(3)) / 2.0


def order_parameter(u):
    """Nematic order ``S``: the largest eigenvalue of :func:`order_tensor` (shape ``u.shape[:-2]``)."""
    return np.linalg.eigvalsh(order_tensor(u))[..., -1]


@functools.lru_cache(maxsize=16)
def _leggauss(n):
    """Gauss-Legendre nodes and weights on [-1, 1] (cached: computing them costs more than using them)."""
    x, w = np.polynomial.legendre.leggauss(n)
    x.flags.writeable = False
    w.flags.writeable = False
    return x, w


def log_z1_eigs(lam, n_nodes=128):
    """``ln Z1`` from the eigenvalues of ``B`` (..., 3), any order; see the module docstring."""
    lam = np.sort(np.asarray(lam, dtype=np.float64), axis=-1)
    l1, l2, l3 = lam[..., 0, None], lam[..., 1, None], lam[..., 2, None]
    kappa = l3 - l2
    t_lo = np.maximum(0.0, 1.0 - 50.0 / np.maximum(kappa, 1e-300))
    x, w = _leggauss(int(n_nodes))
    half = 0.5 * (1.0 - t_lo)
    t = t_lo + half * (x + 1.0)
    s = 1.0 - t * t
    f = np.exp(-kappa * s) * special.i0e(0.5 * (l2 - l1) * s)
    integral = 2.0 * half[..., 0] * (f @ w if f.ndim == 1 else np.einsum("...n,n->...", f, w))
    return math.log(2.0 * math.pi) + l3[..., 0] + np.log(integral)


def log_z1(B, n_nodes=128):
    """``ln int_{S^2} exp(u^T B u) du`` for symmetric ``B`` (..., 3, 3); ``du``: area element (total 4 pi)."""
    B = np.asarray(B, dtype=np.float64)
    if B.shape[-2:] != (3, 3):
        raise ValueError(f"B must have shape (..., 3, 3), got {B.shape}")
    if not np.all(np.isfinite(B)):
        raise ValueError("B contains NaN or infinite values")
    if not np.allclose(B, np.swapaxes(B, -1, -2), rtol=1e-12, atol=1e-12):
        raise ValueError("B must be symmetric")
    return log_z1_eigs(np.linalg.eigvalsh(B), n_nodes)


def z1(B, n_nodes=128):
    """``Z1(B) = int_{S^2} exp(u^T B u) du`` (see :func:`log_z1`)."""
    return np.exp(log_z1(B, n_nodes))


def check_latent_params(beta, J, N):
    """Validate the parameters of the Maier-Saupe latent representation.

    Parameters
    ----------
    beta : float
        Inverse temperature (> 0, finite).
    J : float
        Coupling (> 0: the Gaussian of the Hubbard-Stratonovich identity must be normalisable).
    N : int
        Number of sites (>= 1).

    Returns
    -------
    beta, J : float
    N : int

    Raises
    ------
    ValueError
        On a parameter out of range.
    """
    beta, J = float(beta), float(J)
    if not (math.isfinite(beta) and beta > 0):
        raise ValueError(f"beta must be > 0 and finite, got {beta}")
    if not (math.isfinite(J) and J > 0):
        raise ValueError(f"the latent representation needs J > 0 (a normalisable Gaussian), got J={J}")
    if isinstance(N, bool) or int(N) != N or N < 1:
        raise ValueError(f"N must be a positive integer, got {N!r}")
    return beta, J, int(N)


def axes_log_weights(X, axes, c):
    """Decoder logits ``c n_d^T X n_d`` (..., D) for latents ``X`` (..., 3, 3) and axes (D, 3)."""
    return c * np.einsum("da,...ab,db->...d", axes, X, axes)


def latent_log_density(X, beta, J, N, axes=None):
    """Unnormalised ``ln p(X) = -(beta J N/3) Tr X^2 + N ln Z1(beta J X)`` (axes: ``Z1 = sum_d e^{...}``).

    ``X`` (..., 3, 3) must be symmetric traceless (not checked here: hot path).
    """
    beta, J, N = check_latent_params(beta, J, N)
    X = np.asarray(X, dtype=np.float64)
    c = beta * J
    tr2 = np.einsum("...ab,...ab->...", X, X)
    if axes is None:
        lz = log_z1_eigs(np.linalg.eigvalsh(X) * c)
    else:
        lz = special.logsumexp(axes_log_weights(X, np.asarray(axes, np.float64), c), axis=-1)
    return -(c * N / 3.0) * tr2 + N * lz


def eigs_from_polar(r, t):
    """Eigenvalues ``r (cos t e1 + sin t e2)`` (..., 3) of a traceless matrix with ``Tr X^2 = r^2``."""
    r = np.asarray(r, dtype=np.float64)[..., None]
    t = np.asarray(t, dtype=np.float64)[..., None]
    return r * (np.cos(t) * _E1 + np.sin(t) * _E2)


def vandermonde(lam):
    """``|prod_{i<j} (lambda_i - lambda_j)|`` over the last axis (3 eigenvalues)."""
    lam = np.asarray(lam)
    return np.abs((lam[..., 0] - lam[..., 1]) * (lam[..., 0] - lam[..., 2]) * (lam[..., 1] - lam[..., 2]))


def polar_grid(beta, J, N, n_r, n_theta):
    """Gauss-Legendre nodes over the polar eigenvalue coordinates ``(r, t)`` and the normalised probabilities
    of the continuous model's latent ``p(X)`` there, on one Weyl chamber ``0 <= t <= pi/3``.

    ``r`` runs over ``[0, 1.3 + 14 sigma]`` with ``sigma = sqrt(3 / (2 beta J N))`` (the prior width per
    coordinate; the ordered peak lies at ``r <= sqrt(3/2)``). The weights include the measure ``r`` and the
    Vandermonde factor of the Weyl integration formula.

    Parameters
    ----------
    beta, J : float
        Inverse temperature and coupling (validated by the caller, ``beta J > 0``).
    N : int
        Number of sites.
    n_r, n_theta : int
        Gauss-Legendre nodes along ``r`` and ``t``.

    Returns
    -------
    R, T : ndarray, shape (n_r, n_theta)
        The nodes.
    lam : ndarray, shape (n_r, n_theta, 3)
        Eigenvalues of ``X`` at the nodes (:func:`eigs_from_polar`).
    p : ndarray, shape (n_r, n_theta)
        Probabilities (sum 1).
    """
    c = beta * J
    sigma = math.sqrt(3.0 / (2.0 * c * N))  # prior width per coordinate
    r_max = 1.3 + 14.0 * sigma  # the ordered peak lies at r <= sqrt(3/2) (S <= 1); the rest is Gaussian tail
    xr, wr = _leggauss(int(n_r))
    xt, wt = _leggauss(int(n_theta))
    r = 0.5 * r_max * (xr + 1.0)
    t = (math.pi / 6.0) * (xt + 1.0)
    R, T = np.meshgrid(r, t, indexing="ij")
    lam = eigs_from_polar(R, T)
    with np.errstate(divide="ignore"):
        logf = (np.log(R) + np.log(vandermonde(lam)) - (c * N / 3.0) * R * R
                + N * log_z1_eigs(c * lam) + np.log(np.outer(wr, wt)))
    p = np.exp(logf - logf.max())
    return R, T, lam, p / p.sum()
