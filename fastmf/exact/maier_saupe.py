r"""Exact theory of the Maier-Saupe (nematic) model through its latent (Hubbard-Stratonovich) representation.

Model and order parameters
--------------------------
``N`` unit vectors ``u_i`` (``u == -u``) with ``E = -(J / 2N) sum_{i,j} P2(u_i . u_j)``,
``P2(x) = (3x^2 - 1)/2`` (self terms included). With ``A = sum_i u_i u_i^T`` the tensor order parameter is
``Q_A = (1/N) sum_i (3 u_i u_i^T - I)/2 = (3A/N - I)/2`` (symmetric, traceless); ``S`` is its largest
eigenvalue (0 isotropic, 1 perfect order). The discrete variant restricts ``u_i`` to ``D`` given unit
axes ``n_d``.

Derivation of the latent representation
---------------------------------------
1. ``Tr A = N``, so ``Tr A^2 = (N^2/9) Tr (2 Q_A + I)^2 = (N^2/9)(4 Tr Q_A^2 + 3)`` and
   ``sum_ij P2(u_i . u_j) = (3/2) Tr A^2 - N^2/2 = (2N^2/3) Tr Q_A^2``. The Boltzmann weight is therefore
   ``exp(-beta E) = exp((beta J N / 3) Tr Q_A^2)``: a Gaussian in the 5-dimensional traceless part of ``A``
   only (the trace is the constant ``N``).
2. Gaussian (Hubbard-Stratonovich) identity over symmetric traceless ``X`` (5 dof, Lebesgue measure in a
   Frobenius-orthonormal basis), valid for ``beta J > 0``::

       exp((bJN/3) Tr Q_A^2) = C int dX exp(-(bJN/3) Tr X^2 + (2 bJN/3) Tr(X Q_A)),

   because ``-(bJN/3) Tr (X - Q_A)^2`` integrates to a constant ``1/C`` independent of ``Q_A``.
3. ``Tr X = 0`` gives ``Tr(X Q_A) = (3 / 2N) sum_i u_i^T X u_i``, so the linear term is
   ``beta J sum_i u_i^T X u_i``: the sites decouple given ``X``. The joint density is

       p(X, {u_i}) ∝ exp(-(beta J N / 3) Tr X^2) prod_i exp(c u_i^T X u_i),      c = beta J,

   hence the decoder ``p(u_i | X) ∝ exp(c u^T X u)`` (a Bingham distribution; categorical over the axes with
   logits ``c n_d^T X n_d`` in the discrete variant) and the latent marginal

       p(X) ∝ exp(-(beta J N / 3) Tr X^2) Z1(c X)^N,      Z1(B) = int_{S^2} exp(u^T B u) du

   (``Z1 -> sum_d exp(n_d^T B n_d)`` for axes). ``Q`` of the brief is this ``X``.
4. Given ``{u_i}``, ``X`` is Gaussian with mean ``Q_A`` and variance ``3 / (2 beta J N)`` per coordinate, so
   ``<Tr Q_A^2> = <Tr X^2>_{p(X)} - 15 / (2 beta J N)`` exactly, and ``<X> = <Q_A>``.
5. ``p(X)`` of the continuous model is invariant under ``X -> R X R^T``; it depends on the eigenvalues
   ``lambda = r (cos(t) e1 + sin(t) e2)`` with ``e1 = (2, -1, -1)/sqrt6``, ``e2 = (0, 1, -1)/sqrt2`` (so
   ``Tr X^2 = r^2``). With the Weyl measure ``dX ∝ |prod_{i<j}(lambda_i - lambda_j)| dlambda dR`` the 5-dim
   integral becomes a 2-dim one over ``r >= 0`` and one chamber ``0 <= t <= pi/3`` (``r dr dt`` times the
   Vandermonde), done here by Gauss-Legendre quadrature (:func:`latent_moments`).

The primitives (order tensors, ``Z1``, the latent density and the quadrature grid) live in
:mod:`fastmf.models.nematic`, which the samplers use too; they are re-exported here.

Single-site partition function
------------------------------
In the eigenbasis of ``B`` (eigenvalues ``l1 <= l2 <= l3``), the azimuthal integral is a Bessel function:
``Z1 = 2 pi e^{l3} int_{-1}^{1} exp(-(l3 - l2)(1 - t^2)) I0e((l2 - l1)(1 - t^2)/2) dt`` with ``I0e`` the
scaled Bessel function; the integrand is bounded by 1 and is computed by Gauss-Legendre on ``[t_lo, 1]``,
the range where its bound ``exp(-(l3 - l2)(1 - t))`` exceeds ``e^-50`` (so that a sharp peak at ``t = 1`` is
resolved for any concentration; tested against Watson's ``1F1`` up to ``l3 - l2 = 10^5``).

Mean field (N -> infinity)
--------------------------
The saddle point of ``p(X)`` with the uniaxial ``X = S diag(-1/2, -1/2, 1)`` gives the free energy per site
(units of kT, relative to the isotropic state) ``g(S) = beta J S^2 / 2 - ln <exp(beta J S P2(cos theta))>``
and the self-consistency ``S = <P2>_S``. The first-order nematic-isotropic transition (``g(S*) = g(0)``) is at
``beta J = 4.5415`` (``T_NI = 0.2202 J``) with ``S = 0.4289`` (:func:`mean_field_transition`).
"""
import itertools
import math

import numpy as np
from scipy import optimize, special

from ..models.nematic import (axes_log_weights, check_latent_params, eigs_from_polar, latent_log_density, log_z1,
                              log_z1_eigs, order_parameter, order_tensor, polar_grid, traceless_basis, vandermonde,
                              z1)

__all__ = ["order_tensor", "order_parameter", "log_z1", "log_z1_eigs", "z1", "latent_log_density",
           "latent_moments", "mean_field_free_energy", "mean_field_self_consistency", "mean_field_order",
           "mean_field_transition", "enumerate_axes", "axes_log_weights", "traceless_basis",
           "eigs_from_polar", "vandermonde"]


def latent_moments(beta, J, N, n_r=256, n_theta=64):
    """Exact (quadrature) moments of the latent ``X`` of the continuous model and of ``Q_A``.

    Returns
    -------
    dict
        ``tr_X2``: ``<Tr X^2>``; ``tr_Q2``: ``<Tr Q_A^2> = <Tr X^2> - 15/(2 beta J N)`` (item 4 of the module
        docstring); ``lambda_max``: ``<largest eigenvalue of X>``; ``p_ordered``: probability of
        ``r > sqrt(3/2)/2`` (the latent weight of the nematic-like region, for diagnostics).
    """
    beta, J, N = check_latent_params(beta, J, N)
    R, T, lam, p = polar_grid(beta, J, N, n_r, n_theta)
    tr_x2 = float(np.sum(p * R * R))
    return dict(tr_X2=tr_x2, tr_Q2=tr_x2 - 15.0 / (2.0 * beta * J * N),
                lambda_max=float(np.sum(p * lam.max(-1))),
                p_ordered=float(np.sum(p[R > 0.5 * math.sqrt(1.5)])))


# ----------------------------------------------------------------------------------------------
# Mean field (N -> infinity).

_GL_X, _GL_W = np.polynomial.legendre.leggauss(200)
_T01 = 0.5 * (_GL_X + 1.0)        # nodes on [0, 1]: the integrands are even in cos(theta)
_W01 = 0.5 * _GL_W
_P2 = 1.5 * _T01 ** 2 - 0.5


def _log_mean_exp_p2(a):
    """``ln <exp(a P2(cos theta))>`` over the sphere, for an array ``a``."""
    a = np.asarray(a, dtype=np.float64)[..., None]
    m = np.where(a > 0, a, -0.5 * a)  # max of a * P2 over [-1/2, 1]
    return m[..., 0] + np.log(np.exp(a * _P2 - m) @ _W01)


def mean_field_free_energy(S, beta_J):
    """``g(S) = beta J S^2 / 2 - ln <exp(beta J S P2)>`` per site in units of kT, ``g(0) = 0``."""
    S = np.asarray(S, dtype=np.float64)
    return 0.5 * beta_J * S * S - _log_mean_exp_p2(beta_J * S)


def mean_field_self_consistency(S, beta_J):
    """``<P2(cos theta)>`` under ``exp(beta J S P2)``; a solution has ``S = <P2>``."""
    a = np.asarray(beta_J * np.asarray(S, dtype=np.float64))[..., None]
    m = np.where(a > 0, a, -0.5 * a)
    w = np.exp(a * _P2 - m)
    return (w @ (_W01 * _P2)) / (w @ _W01)


def mean_field_order(beta_J):
    """Equilibrium mean-field ``S(beta J)``: the global minimiser of :func:`mean_field_free_energy` among the
    isotropic ``S = 0`` and the largest (nematic) root of ``S = <P2>_S``."""
    beta_J = float(beta_J)
    grid = np.linspace(0.02, 1.0, 197)
    h = mean_field_self_consistency(grid, beta_J) - grid
    idx = np.nonzero(np.sign(h[:-1]) != np.sign(h[1:]))[0]
    if idx.size == 0:
        return 0.0
    k = idx[-1]
    s_star = optimize.brentq(lambda s: float(mean_field_self_consistency(s, beta_J)) - s, grid[k],
                             grid[k + 1], xtol=1e-14)
    return s_star if mean_field_free_energy(s_star, beta_J) < 0.0 else 0.0


def mean_field_transition():
    """First-order nematic-isotropic transition ``(beta J_c, S_c)`` from ``g(S*) = g(0)``.

    About (4.5415, 0.4289), i.e. ``T_NI = 0.2202 J``.
    """
    def s_nematic(bj):
        grid = np.linspace(0.1, 1.0, 91)
        h = mean_field_self_consistency(grid, bj) - grid
        k = np.nonzero(np.sign(h[:-1]) != np.sign(h[1:]))[0][-1]
        return optimize.brentq(lambda s: float(mean_field_self_consistency(s, bj)) - s, grid[k], grid[k + 1],
                               xtol=1e-15)

    bjc = optimize.brentq(lambda bj: float(mean_field_free_energy(s_nematic(bj), bj)), 4.5, 5.0, xtol=1e-13)
    return bjc, s_nematic(bjc)


# ----------------------------------------------------------------------------------------------
# Discrete axes: exact enumeration over the occupation counts (the energy depends on the counts only).

def enumerate_axes(axes, N, beta, J=1.0):
    """Exact distribution of the axis counts ``c`` (each config weighted, multinomial multiplicity included).

    ``E(c) = -(J / 2N) sum_{d,e} c_d c_e P2(n_d . n_e)``; there are ``C(N + D - 1, D - 1)`` count vectors.

    Returns
    -------
    counts : ndarray of int64, shape (K, D)
    probabilities : ndarray, shape (K,)
    """
    axes = np.asarray(axes, dtype=np.float64)
    D = axes.shape[0]
    beta, J = float(beta), float(J)
    P = 1.5 * (axes @ axes.T) ** 2 - 0.5
    comps = [c for c in itertools.product(range(N + 1), repeat=D - 1) if sum(c) <= N]
    counts = np.array([list(c) + [N - sum(c)] for c in comps], dtype=np.int64)
    log_mult = special.gammaln(N + 1) - special.gammaln(counts + 1).sum(axis=1)
    energy = -(J / (2.0 * N)) * np.einsum("kd,de,ke->k", counts, P, counts)
    logw = log_mult - beta * energy
    p = np.exp(logw - logw.max())
    return counts, p / p.sum()
