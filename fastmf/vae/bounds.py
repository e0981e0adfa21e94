"""The rate, the ELBO and the IWAE bound of a fitted VAE under its own prior (:meth:`fastmf.vae.VAE.rate`,
``elbo``, ``iwae``).

For the normal prior the rate is the closed-form ``KL(N(mu, sigma^2) || N(0, I))``; for a learned prior it is
``-H[q(z|x)] - E_q log p(z)``, the entropy exact and the expectation a Monte Carlo mean over reparameterised draws,
reported with its standard error.
"""
import numpy as np

from ..kernels.validation import check_int
from . import nets
from . import priors as pr

__all__ = ["rate", "elbo", "iwae"]

_CHUNK = 1 << 18


def _posterior(vae, X):
    vae._check_fitted()
    x_in, x = vae._prepare(X)
    mu, logvar = (np.asarray(a, np.float64) for a in nets.encode(vae.theta_, vae.layout_, x_in, vae._trunk()))
    return x, mu, logvar


def _log_lik(vae, z, x):
    out = nets.decoder_outputs(vae.theta_, vae.layout_, z.astype(vae.dtype), vae.decoder, vae.n_sites_)
    return np.asarray(nets.log_likelihood(out, x, vae.decoder), np.float64)


def _log_q(e, logvar):
    return -0.5 * np.sum(e * e + logvar + pr.LOG_2PI, axis=1)


def rate(vae, X, n_draws=64, seed=0, return_stderr=False):
    """Per-sample ``KL(q(z|x) || p(z))`` (n,) and, with ``return_stderr``, its Monte Carlo standard error (n,)."""
    _, mu, logvar = _posterior(vae, X)
    if vae.prior == "normal":
        kl = np.asarray(nets.kl_normal(mu, logvar), np.float64)
        return (kl, np.zeros_like(kl)) if return_stderr else kl
    n_draws = check_int("n_draws", n_draws, 2)
    rng = np.random.default_rng(check_int("seed", seed, 0))
    mix = vae.prior_mixture()
    logp = np.empty((n_draws, len(mu)))
    step = max(1, _CHUNK // max(1, len(mu) * len(mix[0])))  # draws per pass: bounded (draws, n, K, d) arrays
    for j in range(0, n_draws, step):
        m = min(step, n_draws - j)
        z = mu + np.exp(0.5 * logvar) * rng.standard_normal((m,) + mu.shape)
        logp[j:j + m] = pr.log_density(z.reshape(-1, mu.shape[1]), *mix).reshape(m, len(mu))
    kl = pr.neg_entropy(logvar) - logp.mean(axis=0)
    return (kl, logp.std(axis=0, ddof=1) / np.sqrt(n_draws)) if return_stderr else kl


def elbo(vae, X, n_draws=1, seed=0):
    """Per-sample ELBO (beta = 1) averaged over ``n_draws`` reparameterised draws."""
    x, mu, logvar = _posterior(vae, X)
    rng = np.random.default_rng(check_int("seed", seed, 0))
    n_draws = check_int("n_draws", n_draws, 1)
    mix = None if vae.prior == "normal" else vae.prior_mixture()
    total = 0.0
    for _ in range(n_draws):
        e = rng.standard_normal(mu.shape)
        z = mu + np.exp(0.5 * logvar) * e
        total = total + _log_lik(vae, z, x)
        if mix is not None:  # the same draw estimates the rate
            total = total + pr.log_density(z, *mix) - _log_q(e, logvar)
    kl = np.asarray(nets.kl_normal(mu, logvar), np.float64) if mix is None else 0.0
    return total / n_draws - kl


def iwae(vae, X, k=100, seed=0):
    """Importance-weighted bound on ``log p(x)`` per sample with k posterior draws."""
    x, mu, logvar = _posterior(vae, X)
    rng = np.random.default_rng(check_int("seed", seed, 0))
    mix = vae.prior_mixture()
    terms = np.empty((check_int("k", k, 1), len(x)))
    for j in range(k):
        e = rng.standard_normal(mu.shape)
        z = mu + np.exp(0.5 * logvar) * e
        terms[j] = _log_lik(vae, z, x) + pr.log_density(z, *mix) - _log_q(e, logvar)
    m = terms.max(axis=0)
    return m + np.log(np.mean(np.exp(terms - m), axis=0))
