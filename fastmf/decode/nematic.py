r"""Read the Maier-Saupe (nematic) tensor and coupling off a factorized categorical decoder over fixed axes.

Conventions (those of :mod:`fastmf.exact.maier_saupe`)
------------------------------------------------------
Sites carry axes ``u_i`` from a fixed set ``n_d`` (D, 3), ``u == -u``; the order tensor of a configuration is
``Q_u = (1/N) sum_i (3 u_i u_i^T - I)/2`` and the nematic order ``S`` is its largest eigenvalue. The latent
(Hubbard-Stratonovich) representation is exact::

    p(X, {u_i}) ∝ exp(-(c N / 3) Tr X^2) prod_i exp(c u_i^T X u_i),     c = beta J,

with ``X`` symmetric traceless (5 dof): the decoder is categorical over the axes with logits
``c n_d^T X n_d`` (+ any constant). The decoder of a trained VAE is such a map ``z -> logits`` up to a
reparametrisation of the latent, so what can be read off is the *field tensor* ``A(z) = c X(z)``.

Read-off, per latent draw ``z ~ p(z)``
--------------------------------------
``p(z)`` is the decoder's latent prior (:mod:`fastmf.decode.prior`): a VAE's own (a learned mixture or the
standard normal), ``N(0, I)`` for a plain callable.

1. Logits ``l_id(z)`` (sites i, axes d); site-average ``l_d(z)`` (mean-field decoder: all sites alike).
2. Least squares over ``d`` of ``l_d = sum_k a_k n_d^T B_k n_d + b`` (``B_k`` a Frobenius-orthonormal basis of the
   symmetric traceless matrices): 6 unknowns, so ``D >= 6`` axes whose design matrix has rank 6 are required
   (checked). ``A = sum_k a_k B_k``. With ``D = 6`` the fit is exactly determined (zero residual by
   construction); with ``D > 6`` the relative residual measures how nematic the decoder is.
3. The decoder's own order tensor ``Q_dec(z) = (1/N) sum_i sum_d p_id(z) (3 n_d n_d^T - I)/2`` with
   ``p_id = softmax_d l_id``: ``S_field(z)`` is its largest eigenvalue (the mean-field order of that draw); and
   ``S_sample(z)``: the largest eigenvalue of ``Q_u`` for ``N`` sites drawn from the decoder at ``z`` (the
   finite-N order, directly comparable with the data's ``S``).

The coupling ``beta J`` (two estimators)
----------------------------------------
* ``beta_J`` (**exact at finite N**, the analogue of the quadratic principle): integration by parts in ``X``
  of the joint density, ``E[Tr(X grad_X ln p(X, u))] = -5``, with
  ``grad_X ln p = -(2cN/3) X + c sum_i (u_i u_i^T)_traceless`` and ``u^T X u = (2/3) Tr(X Q_u)`` (``X`` traceless),
  after averaging the sites given ``X`` gives ``E Tr X^2 - E Tr(X Q_dec(X)) = 15 / (2 c N)``. In terms of the
  read-off ``A = c X``::

      beta J = E[Tr A^2] / (E[Tr(A Q_dec)] + 15 / (2N)).

  Only expectations over the push-forward of the prior enter (the law of ``A`` under ``z ~ p(z)``), and that
  law does not change when the latent is reparametrised (``z -> z'`` with the prior carried along), so the
  estimator does not depend on the prior's form, only on the push-forward: it holds if the push-forward of the
  model's own prior is the model's ``p(X)`` (a well-trained VAE). The draws must therefore come from that
  prior; ``N(0, I)`` draws through a decoder trained with a learned prior read off a different ``p(X)``.
* ``beta_J_mf`` (mean-field saddle, N -> infinity): the saddle point satisfies ``X = Q_dec(c X)``, i.e. the field
  tensor is ``A = beta J Q_order`` (in this convention; writing the logits as ``(3/2) beta J n^T Q n`` instead
  would put the ``3/2`` in ``c``, not in the read-off of ``beta J``). Least squares over draws:
  ``beta_J_mf = E Tr(A Q_dec) / E Tr(Q_dec^2)``. Biased at finite N and meaningless in the isotropic phase
  (where both tensors are fluctuations); reported for comparison.
"""
import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq
from scipy.special import gammaln

from ..exact.maier_saupe import traceless_basis
from .prior import latent_prior

__all__ = ["NematicReadoff", "decoder_order_tensor", "expected_trace_Q2", "fit_field_tensor", "icosahedral_axes",
           "maier_saupe_readoff"]

#: Largest N of the exact composition sum behind ``beta_J_ml`` (memory ~ 8 N**3 bytes)
ML_MAX_N = 200


def icosahedral_axes():
    """The 6 axes (6, 3) through opposite vertices of a regular icosahedron (unit vectors, one per axis).

    All pairs make the same angle (``|n_d . n_e| = 1/sqrt5``), so ``P2(n_d . n_e) = -1/5`` for ``d != e`` and the
    Maier-Saupe model on these axes is exactly a q = 6 mean-field Potts model with coupling ``J' = 6J/5``.
    """
    g = (1.0 + math.sqrt(5.0)) / 2.0
    v = np.array([[0, 1, g], [0, 1, -g], [1, g, 0], [1, -g, 0], [g, 0, 1], [-g, 0, 1]], dtype=np.float64)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _design(axes):
    axes = np.asarray(axes, dtype=np.float64)
    if axes.ndim != 2 or axes.shape[1] != 3:
        raise ValueError(f"axes must have shape (D, 3), got {axes.shape}")
    if axes.shape[0] < 6:
        raise ValueError(f"the traceless tensor (5 dof) and a constant need D >= 6 axes, got D = {axes.shape[0]}")
    if not np.allclose(np.linalg.norm(axes, axis=1), 1.0, atol=1e-9):
        raise ValueError("axes must be unit vectors")
    B = traceless_basis()
    M = np.concatenate([np.einsum("da,kab,db->dk", axes, B, axes), np.ones((len(axes), 1))], axis=1)
    if np.linalg.matrix_rank(M) < 6:
        raise ValueError("the axes do not determine a traceless tensor (design matrix rank < 6)")
    return axes, B, M


def fit_field_tensor(logits, axes):
    """Least-squares fit of ``l_d = n_d^T A n_d + b`` over the axes for logits (..., D).

    Returns ``A`` (..., 3, 3) symmetric traceless, ``b`` (...,) and the relative residual (...,) (the rms of the
    residual over the rms of the centred logits; 0 when ``D = 6``).
    """
    axes, B, M = _design(axes)
    logits = np.asarray(logits, dtype=np.float64)
    if logits.shape[-1] != len(axes):
        raise ValueError(f"logits have {logits.shape[-1]} states but there are {len(axes)} axes")
    coef = np.linalg.lstsq(M, logits.reshape(-1, len(axes)).T, rcond=None)[0].T  # (n, 6)
    resid = logits.reshape(-1, len(axes)) - coef @ M.T
    centred = logits.reshape(-1, len(axes)) - logits.reshape(-1, len(axes)).mean(1, keepdims=True)
    rel = np.sqrt((resid ** 2).mean(1)) / np.maximum(np.sqrt((centred ** 2).mean(1)), 1e-300)
    A = np.einsum("nk,kab->nab", coef[:, :5], B)
    shape = logits.shape[:-1]
    return A.reshape(shape + (3, 3)), coef[:, 5].reshape(shape), rel.reshape(shape)


def decoder_order_tensor(logits, axes):
    """``Q_dec = mean_i sum_d softmax(l_i)_d (3 n_d n_d^T - I)/2`` for logits (n, N, D) -> (n, 3, 3)."""
    axes = np.asarray(axes, dtype=np.float64)
    logits = np.asarray(logits, dtype=np.float64)
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    T = (3.0 * np.einsum("da,db->dab", axes, axes) - np.eye(3)) / 2.0
    return np.einsum("nid,dab->nab", p, T) / logits.shape[1], p


def _order_gram(axes):
    """``G_de = Tr(T_d T_e)``, ``T_d = (3 n_d n_d^T - I)/2``: ``N**2 Tr Q_u**2 = sum_de n_d n_e G_de`` (counts n)."""
    c2 = (np.asarray(axes, dtype=np.float64) @ np.asarray(axes, dtype=np.float64).T) ** 2
    return (9.0 * c2 - 3.0) / 4.0


@functools.lru_cache(maxsize=8)
def _sum_of_squares_law(N, D):
    """Probability that ``sum_d n_d**2 = q`` (q = 0..N**2) for uniform multinomial counts n of N sites, D states.

    Dynamic programme over the states on (partial count, partial sum of squares); each count m carries the weight
    ``exp(m ln N!/N - ln m! - m ln D)``, whose product over the states is the multinomial probability and whose
    partial products stay below ``e**(N/e)`` (no overflow or harmful underflow for N <= ML_MAX_N).
    """
    m = np.arange(N + 1)
    w = np.exp(m * gammaln(N + 1) / N - gammaln(m + 1) - m * math.log(D))
    f = np.zeros((N + 1, N * N + 1))
    f[0, 0] = 1.0
    for _ in range(D):
        g = np.zeros_like(f)
        for k in range(N + 1):
            g[k:, k * k:] += w[k] * f[:N + 1 - k, :N * N + 1 - k * k]
        f = g
    return f[N]


def expected_trace_Q2(beta_J, N, axes):
    """Exact ``E[Tr Q_u**2]`` of the discrete-axes Maier-Saupe model at ``beta J`` (equiangular axes).

    ``p(u) ~ exp((beta J N / 3) Tr Q_u**2)`` (the latent integrated out). For equiangular axes (all ``|n_d . n_e|``
    equal for d != e, e.g. :func:`icosahedral_axes`) ``Tr Q_u**2`` depends on the counts only through
    ``sum_d n_d**2``, whose uniform-multinomial law is computed exactly; other axes or N > ML_MAX_N raise.
    """
    G = _order_gram(axes)
    off = G[~np.eye(len(G), dtype=bool)]
    if np.ptp(off) > 1e-9 or np.ptp(np.diag(G)) > 1e-9:
        raise ValueError("expected_trace_Q2 needs equiangular axes (all pairs at the same angle)")
    if not 1 <= int(N) <= ML_MAX_N:
        raise ValueError(f"expected_trace_Q2 supports 1 <= N <= {ML_MAX_N}, got N = {N}")
    N = int(N)
    law = _sum_of_squares_law(N, len(G))
    q = np.arange(law.size, dtype=np.float64)
    trq2 = ((G[0, 0] - off[0]) * q + off[0] * N * N) / (N * N)
    ok = law > 0
    logw = np.log(law[ok]) + beta_J * N / 3.0 * trq2[ok]
    p = np.exp(logw - logw.max())
    return float(p @ trq2[ok] / p.sum())


def _beta_J_ml(trA2, N, axes):
    """Maximum-likelihood ``beta J``: ``p(A) ~ exp(-N Tr A**2 / (3 c)) Z1(A)**N`` is an exponential family in
    ``Tr A**2``, so the fit matches ``E_c[Tr A**2] = c**2 E_c[Tr Q_u**2] + 15 c / (2N)`` (A given u is Gaussian
    about ``c Q_u`` with variance ``3c / (2N)`` in each of its 5 coordinates) to the draws' mean. nan where
    :func:`expected_trace_Q2` does not apply."""
    return _solve_beta_J(lambda c: c * c * expected_trace_Q2(c, N, axes) + 7.5 * c / N - trA2, N, axes)


def _beta_J_projection(trQ2, N, axes):
    """``beta J`` of the Maier-Saupe model closest to the decoder's samples, ``argmin_c KL(p_dec || p_c)``: the
    model is an exponential family in ``Tr Q_u**2``, so the fit matches ``E_c[Tr Q_u**2]`` to the samples' mean.
    nan where :func:`expected_trace_Q2` does not apply or the mean is outside the model's range."""
    return _solve_beta_J(lambda c: expected_trace_Q2(c, N, axes) - trQ2, N, axes)


def _solve_beta_J(moment, N, axes):
    """Root in c > 0 of the increasing ``moment(c)`` (bracket doubled up to 1e4); nan if none or no exact law."""
    try:
        expected_trace_Q2(1.0, N, axes)
    except ValueError:
        return float("nan")
    lo, hi = 1e-6, 1.0
    while moment(hi) < 0 and hi < 1e4:
        hi *= 2.0
    return float(brentq(moment, lo, hi, xtol=1e-10)) if moment(lo) <= 0 <= moment(hi) else float("nan")


@dataclass(frozen=True, eq=False)
class NematicReadoff:
    """Result of :func:`maier_saupe_readoff` (per-draw arrays have length ``n_draws``)."""

    A: np.ndarray            #: (n, 3, 3) field tensors ``c X(z)``
    Q_dec: np.ndarray        #: (n, 3, 3) the decoder's order tensors
    S_field: np.ndarray      #: (n,) largest eigenvalue of ``Q_dec`` (mean-field order per draw)
    S_sample: np.ndarray     #: (n,) ``S`` of N sites drawn from the decoder at each draw
    residual: np.ndarray     #: (n,) relative residual of the tensor fit
    beta_J: float            #: exact finite-N estimator (integration by parts)
    beta_J_mf: float         #: mean-field saddle estimator
    N: int
    beta_J_ml: float = float("nan")  #: maximum likelihood (equiangular axes, N <= ML_MAX_N; else nan)
    beta_J_proj: float = float("nan")  #: model fitted to the decoder's samples (same conditions)

    @property
    def S_mean(self):
        """``<S>`` of configurations generated by the decoder (finite N, comparable with the data)."""
        return float(self.S_sample.mean())

    @property
    def S_field_mean(self):
        return float(self.S_field.mean())

    def to_dict(self):
        return dict(beta_J=self.beta_J, beta_J_mf=self.beta_J_mf, beta_J_ml=self.beta_J_ml, beta_J_proj=self.beta_J_proj, S_mean=self.S_mean,
                    S_field_mean=self.S_field_mean, N=self.N, max_residual=float(self.residual.max()))


def _fields_fn(decoder_or_vae, latent_dim):
    if hasattr(decoder_or_vae, "fields"):
        return decoder_or_vae.fields, int(latent_dim or decoder_or_vae.latent_dim)
    if callable(decoder_or_vae):
        if latent_dim is None:
            raise ValueError("a plain callable decoder needs latent_dim")
        return decoder_or_vae, int(latent_dim)
    raise TypeError("decoder_or_vae must have .fields(Z) or be a callable Z -> logits (n, N, D)")


def maier_saupe_readoff(decoder_or_vae, axes, n_draws=4000, seed=0, latent_dim=None, batch=1024, Z=None):
    """Read the nematic field tensor, ``<S>`` and ``beta J`` off a categorical decoder over ``axes``.

    Parameters
    ----------
    decoder_or_vae : VAE (``decoder="nematic"`` or ``"categorical"``) or callable ``Z (n, k) -> logits (n, N, D)``
    axes : array (D, 3), D >= 6
    n_draws, seed : int
        Latent draws from the decoder's prior (a VAE's own, ``N(0, I)`` for a plain callable:
        :func:`fastmf.decode.prior.latent_prior`).
    latent_dim : int, optional
        Needed for a plain callable.
    Z : array (n, k), optional
        Latent draws to use instead of the prior, e.g. the aggregate posterior ``mu(x) + sigma(x) eps`` over the
        data: where a standard normal prior has holes between separated modes (ordered phase), its push-forward
        is not ``p(X)`` but the aggregate posterior approximates it.

    Returns
    -------
    NematicReadoff
    """
    fields, k = _fields_fn(decoder_or_vae, latent_dim)
    axes, _, _ = _design(axes)
    rng = np.random.default_rng(seed)
    Z = latent_prior(decoder_or_vae, k).sample(int(n_draws), rng) if Z is None else np.asarray(Z, np.float64)
    A, Qd, res, S_sample, trQu2 = [], [], [], [], []
    T = (3.0 * np.einsum("da,db->dab", axes, axes) - np.eye(3)) / 2.0
    N = None
    for s in range(0, len(Z), batch):
        L = np.asarray(fields(Z[s:s + batch]), dtype=np.float64)
        if L.ndim != 3 or L.shape[2] != len(axes):
            raise ValueError(f"decoder logits must have shape (n, N, {len(axes)}), got {L.shape}")
        N = L.shape[1]
        a, _, r = fit_field_tensor(L.mean(axis=1), axes)
        q, p = decoder_order_tensor(L, axes)
        cum = np.cumsum(p, axis=-1)
        u = rng.random(p.shape[:2] + (1,))
        idx = np.minimum((u > cum).sum(-1), len(axes) - 1)  # (n, N) axis draws
        counts = np.stack([(idx == d).sum(1) for d in range(len(axes))], axis=1) / N
        Qu = np.einsum("nd,dab->nab", counts, T)
        S_sample.append(np.linalg.eigvalsh(Qu)[:, -1])
        trQu2.append(np.einsum("nab,nab->n", Qu, Qu))
        A.append(a)
        Qd.append(q)
        res.append(r)
    A, Qd, res, S_sample, trQu2 = (np.concatenate(x) for x in (A, Qd, res, S_sample, trQu2))
    trA2 = np.einsum("nab,nab->n", A, A).mean()
    trAQ = np.einsum("nab,nab->n", A, Qd).mean()
    trQ2 = np.einsum("nab,nab->n", Qd, Qd).mean()
    beta_J = float(trA2 / (trAQ + 15.0 / (2.0 * N)))
    beta_J_mf = float(trAQ / trQ2) if trQ2 > 0 else float("nan")
    return NematicReadoff(A=A, Q_dec=Qd, S_field=np.linalg.eigvalsh(Qd)[:, -1], S_sample=S_sample, residual=res,
                          beta_J=beta_J, beta_J_mf=beta_J_mf, N=int(N), beta_J_ml=_beta_J_ml(trA2, int(N), axes),
                          beta_J_proj=_beta_J_projection(float(trQu2.mean()), int(N), axes))
