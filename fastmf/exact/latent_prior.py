"""The latent prior ``p(z)`` of a factorized-decoder model: ``N(0, I)`` or a mixture of diagonal Gaussians.

A prior is ``None`` (the standard normal) or a tuple of plain arrays ``(log_weights (K,), means (K, d),
logvars (K, d))``: ``p(z) = sum_k w_k N(z; m_k, diag exp(v_k))`` (a VAE's learned prior, e.g.
``fastmf.vae.VAE.prior_mixture()``; this layer takes the arrays, not the model). Here: validation, the
log-density (written independently of :mod:`fastmf.vae.priors`, which tests compare it with), draws, the
quadrature rule of the prior (the union over components of the standard rule shifted and scaled to each
component: exact to quadrature accuracy for any mixture), and the rate ``KL(q(z|x) || p(z))`` of Gaussian
encoder outputs. Derivations: ``docs/exact.rst``.
"""
import numpy as np
from scipy.special import logsumexp

from ..kernels.validation import check_int
from .quadrature import CHUNK, DEFAULT_N_QUAD, LOG_2PI, MAX_N_HERMITE, check_work, quadrature_rule

__all__ = ["DEFAULT_RATE_DRAWS", "check_prior", "draw_prior", "kl_to_prior", "mixture_log_density",
           "n_components", "prior_label", "prior_log_density", "prior_rule"]

#: Monte Carlo draws per encoder Gaussian for the rate against a mixture prior when quadrature is not used.
DEFAULT_RATE_DRAWS = 1000
# exp(+-lv) and exp(lv / 2) stay finite and nonzero inside this range
_MAX_ABS_LOGVAR = 700.0


def check_prior(prior, latent_dim=None):
    """A validated prior: None (``N(0, I)``) or ``(log_weights, means, logvars)``.

    Parameters
    ----------
    prior : None or tuple of three arrays
        ``log_weights`` (K,) (need not be normalised; ``-inf`` drops a component), ``means`` (K, d) and
        ``logvars`` (K, d), all finite (log-weights may be ``-inf``, not all of them).
    latent_dim : int, optional
        Expected latent dimension d.

    Returns
    -------
    None or tuple of ndarray
        Read-only float64 ``(log_weights, means, logvars)`` with the log-weights normalised
        (``logsumexp == 0``) and zero-weight components removed.

    Raises
    ------
    TypeError
        If ``prior`` is not None or a sequence of three arrays.
    ValueError
        On wrong shapes, non-finite values or weights that cannot be normalised.
    """
    if prior is None:
        return None
    if isinstance(prior, (str, bytes, dict)) or not isinstance(prior, (tuple, list)) or len(prior) != 3:
        raise TypeError("prior must be None (N(0, I)) or a tuple (log_weights (K,), means (K, d), logvars (K, d)), "
                        f"got {type(prior).__name__}")
    try:
        lw, m, lv = (np.array(a, dtype=np.float64) for a in prior)
    except (TypeError, ValueError):
        raise ValueError("prior (log_weights, means, logvars) must be numeric arrays") from None
    if lw.ndim != 1 or lw.size < 1 or m.ndim != 2 or m.shape[0] != lw.size or lv.shape != m.shape or m.shape[1] < 1:
        raise ValueError(f"prior must be (log_weights (K,), means (K, d), logvars (K, d)) with K, d >= 1, got shapes "
                         f"{lw.shape}, {m.shape}, {lv.shape}")
    if latent_dim is not None and m.shape[1] != latent_dim:
        raise ValueError(f"prior has latent dimension {m.shape[1]}, the model {latent_dim}")
    if np.isnan(lw).any() or np.isposinf(lw).any() or np.isneginf(lw).all():
        raise ValueError("prior log_weights must be finite or -inf, not all -inf (weights that normalise)")
    if not (np.isfinite(m).all() and np.isfinite(lv).all()):
        raise ValueError("prior means and logvars must be finite")
    if np.abs(lv).max() > _MAX_ABS_LOGVAR:
        raise ValueError(f"prior logvars must lie in [-{_MAX_ABS_LOGVAR:g}, {_MAX_ABS_LOGVAR:g}] (the variances "
                         "over- or underflow)")
    keep = np.isfinite(lw)
    lw, m, lv = lw[keep], m[keep], lv[keep]
    lw = lw - logsumexp(lw)
    for a in (lw, m, lv):
        a.setflags(write=False)
    return lw, m, lv


def n_components(prior):
    """Number of mixture components (1 for ``N(0, I)``) of a validated prior."""
    return 1 if prior is None else len(prior[0])


def prior_label(prior):
    """A short description of a validated prior for reports: ``"N(0, I)"``, ``"N(m, diag s^2)"`` or ``"mixture
    of K diagonal Gaussians"``."""
    if prior is None or (len(prior[0]) == 1 and not np.any(prior[1]) and not np.any(prior[2])):
        return "N(0, I)"
    if len(prior[0]) == 1:
        return "N(m, diag s^2)"
    return f"mixture of {len(prior[0])} diagonal Gaussians"


def mixture_log_density(z, log_weights, means, logvars):
    """``log sum_k w_k N(z; m_k, diag exp(v_k))`` per row of z (n, d), for normalised ``log_weights``.

    Parameters
    ----------
    z : ndarray, shape (n, d)
    log_weights : ndarray, shape (K,)
    means, logvars : ndarray, shape (K, d)

    Returns
    -------
    ndarray, shape (n,)
    """
    z = np.asarray(z, np.float64)
    K, d = means.shape
    inv_sd = np.exp(-0.5 * logvars)
    # log w_k - sum_j (log sigma_kj + log(2 pi) / 2)
    const = log_weights - 0.5 * logvars.sum(axis=1) - 0.5 * d * LOG_2PI
    out = np.empty(len(z))
    rows = max(1, CHUNK // (K * d))
    for s in range(0, len(z), rows):
        u = (z[s:s + rows, None, :] - means[None]) * inv_sd[None]  # standardised, (rows, K, d)
        out[s:s + rows] = logsumexp(const - 0.5 * np.sum(u * u, axis=2), axis=1)
    return out


def prior_log_density(z, prior):
    """``log p(z)`` over the last axis of z (..., d) under a validated prior (None: ``N(0, I)``)."""
    if prior is None:
        return -0.5 * np.sum(LOG_2PI + z ** 2, axis=-1)
    z = np.asarray(z, np.float64)
    return mixture_log_density(z.reshape(-1, z.shape[-1]), *prior).reshape(z.shape[:-1])


def draw_prior(rng, n, latent_dim, prior):
    """``n`` draws (n, latent_dim) of a validated prior from ``rng`` (a one-component prior uses exactly the
    normal draws of ``N(0, I)``, scaled and shifted)."""
    if prior is None:
        return rng.standard_normal((n, latent_dim))
    lw, m, lv = prior
    if len(lw) == 1:
        return m[0] + np.exp(0.5 * lv[0]) * rng.standard_normal((n, latent_dim))
    k = rng.choice(len(lw), size=n, p=np.exp(lw) / np.exp(lw).sum())
    return m[k] + np.exp(0.5 * lv[k]) * rng.standard_normal((n, latent_dim))


def prior_rule(latent_dim, n_quad, rule, prior):
    """Quadrature rule for ``E_{z ~ p(z)} f(z)``: :func:`~fastmf.exact.quadrature.quadrature_rule` for
    ``N(0, I)``; for a mixture the union over components k of that rule at ``z = m_k + sigma_k t`` with
    log-weights ``log w_k + log w(t)`` (``K n_quad**d`` nodes, weights summing to 1)."""
    t, lwt = quadrature_rule(latent_dim, n_quad, rule)
    if prior is None:
        return t, lwt
    lw, m, lv = prior
    z = m[:, None, :] + np.exp(0.5 * lv)[:, None, :] * t[None]
    return z.reshape(-1, latent_dim), (lw[:, None] + lwt[None, :]).ravel()


def kl_to_prior(mu, logvar, prior, n_quad=None, n_draws=None, rng=None, max_work=None):
    """``KL(N(mu, diag e^logvar) || p(z)) = -H[q] - E_q log p(z)`` per row, for a mixture prior.

    ``E_q log p(z)`` by a product Gauss-Hermite rule centred and scaled on each q (``n_quad`` per dimension;
    default :data:`~fastmf.exact.quadrature.DEFAULT_N_QUAD` for d <= 3) or, with ``n_draws``, by Monte Carlo.

    Parameters
    ----------
    mu, logvar : ndarray, shape (S, d)
        Encoder Gaussians.
    prior : tuple
        A validated mixture prior (:func:`check_prior`; not None).
    n_quad : int, optional
        Gauss-Hermite nodes per dimension (ignored with ``n_draws``).
    n_draws : int, optional
        Monte Carlo draws per row instead of quadrature.
    rng : numpy.random.Generator, optional
        For the Monte Carlo draws.
    max_work : int, optional
        Cap on ``S * nodes * K`` (see :func:`~fastmf.exact.quadrature.check_work`).

    Returns
    -------
    kl : ndarray, shape (S,)
    var : ndarray, shape (S,)
        Variance of each Monte Carlo estimate (zeros for quadrature).
    """
    S, d = mu.shape
    K = n_components(prior)
    if n_draws is None:
        if n_quad is None and d not in DEFAULT_N_QUAD:
            raise ValueError(f"the rate by quadrature with latent_dim = {d} > 3 needs an explicit n_quad")
        n = check_int("n_quad", DEFAULT_N_QUAD[d] if n_quad is None else n_quad, 1, MAX_N_HERMITE)
        t, lwt = quadrature_rule(d, n)
        M = len(t)
    else:
        M = check_int("n_draws", n_draws, 2)
    if max_work is not None:
        check_work(S * M * K, max_work, f"the rate against a {K}-component prior with {M} nodes or draws per "
                   f"Gaussian for {S} Gaussians")
    neg_h = -0.5 * np.sum(logvar + 1.0 + LOG_2PI, axis=1)
    sd = np.exp(0.5 * logvar)
    kl, var = np.empty(S), np.zeros(S)
    rows = max(1, CHUNK // (M * K * d))
    for s in range(0, S, rows):
        e = slice(s, min(S, s + rows))
        eps = t[None] if n_draws is None else rng.standard_normal((e.stop - s, M, d))
        z = mu[e, None, :] + sd[e, None, :] * eps
        lp = mixture_log_density(z.reshape(-1, d), *prior).reshape(-1, M)
        if n_draws is None:
            kl[e] = neg_h[e] - lp @ np.exp(lwt)
        else:
            kl[e] = neg_h[e] - lp.mean(axis=1)
            var[e] = lp.var(axis=1, ddof=1) / M
    return kl, var
