"""The latent prior a read-off integrates over: the model's own, or ``N(0, I)`` for a hand-written decoder.

A read-off is an expectation over the push-forward of the decoder's latent prior (docs/theory.rst). A VAE (an
object with ``sample_latents`` and ``prior_mixture``, :class:`fastmf.vae.VAE`) brings its prior, a mixture of
diagonal Gaussians ``p(z) = sum_k w_k N(z; m_k, diag s_k**2)`` (the standard normal: one component at 0); a plain
callable ``Z -> logits`` with an explicit ``latent_dim`` is read over ``N(0, I)``. :class:`LatentPrior` holds the
mixture and gives what the read-offs need from it: draws (the model's own sampler where there is one), the log
density, a quadrature rule for a 1-D latent (one Gaussian trapezoid rule per component, weighted by ``w_k``),
the range of a 1-D latent, and whether the prior is symmetric under ``z -> -z`` (antithetic draws are valid only
then).
"""
import math
from dataclasses import dataclass

import numpy as np

from ..exact.latent_prior import check_prior, draw_prior, mixture_log_density

__all__ = ["LatentPrior", "latent_prior"]

_LOG_2PI = math.log(2.0 * math.pi)
#: Nodes per component of the 1-D quadrature, on ``m_k + s_k [-8, 8]`` (spacing 1e-3 s_k: robust to the sharp
#: steps a trained decoder has between basins, where a Gauss-Hermite rule of moderate order is not).
QUADRATURE_NODES = 16001


@dataclass(frozen=True, eq=False)
class LatentPrior:
    """A mixture of diagonal Gaussians over the latent, and the model that draws from it.

    Attributes
    ----------
    log_weights : ndarray (K,)
        Normalised log-weights.
    means, logvars : ndarray (K, d)
        Component means and log-variances.
    model : object or None
        The model whose ``sample_latents(n, rng)`` draws from this prior (None: draws are made here).
    """

    log_weights: np.ndarray
    means: np.ndarray
    logvars: np.ndarray
    model: object = None

    @classmethod
    def standard(cls, latent_dim):
        """``N(0, I)`` in ``latent_dim`` dimensions."""
        return cls(np.zeros(1), np.zeros((1, latent_dim)), np.zeros((1, latent_dim)))

    @property
    def latent_dim(self):
        return self.means.shape[1]

    @property
    def is_standard(self):
        """True for ``N(0, I)`` exactly (one component at 0 with unit variances)."""
        return len(self.means) == 1 and not self.means.any() and not self.logvars.any()

    @property
    def is_symmetric(self):
        """True when ``p(-z) = p(z)``: every component has a mirror image ``(w, -m, v)`` (to 1e-12)."""
        K = len(self.means)
        used = np.zeros(K, dtype=bool)
        for k in range(K):
            near = (np.abs(self.means + self.means[k]).max(axis=1) <= 1e-12) & \
                   (np.abs(self.logvars - self.logvars[k]).max(axis=1) <= 1e-12) & \
                   (np.abs(self.log_weights - self.log_weights[k]) <= 1e-12) & ~used
            if not near.any():
                return False
            used[np.argmax(near)] = True
        return True

    def sample(self, n, rng):
        """``n`` draws (n, d), float64: the model's ``sample_latents`` when there is a model, else
        ``rng.standard_normal`` for ``N(0, I)`` or component-then-Gaussian draws of the mixture."""
        if self.model is not None:
            z = np.asarray(self.model.sample_latents(n, rng), dtype=np.float64)
            if z.shape != (n, self.latent_dim) or not np.isfinite(z).all():
                raise ValueError(f"sample_latents must return finite latents of shape ({n}, {self.latent_dim}), "
                                 f"got {z.shape}")
            return z
        return draw_prior(rng, n, self.latent_dim,
                          None if self.is_standard else (self.log_weights, self.means, self.logvars))

    def log_density(self, z):
        """``log p(z)`` (n,) at latents z (n, d)."""
        z = np.asarray(z, dtype=np.float64)
        if self.is_standard:  # the closed form, exactly as for N(0, I)
            return -0.5 * np.sum(z * z, axis=1) - 0.5 * self.latent_dim * _LOG_2PI
        return mixture_log_density(z, self.log_weights, self.means, self.logvars)

    def quadrature_1d(self, n_nodes=QUADRATURE_NODES, reach=8.0):
        """Nodes and weights (summing to 1) of ``E f(z)`` for a 1-D latent: the union over components of the
        trapezoid rule of ``N(m_k, s_k**2)`` on ``m_k + s_k [-reach, reach]``, each carrying ``w_k``."""
        if self.latent_dim != 1:
            raise ValueError(f"quadrature needs a 1-D latent, got latent_dim = {self.latent_dim}")
        x = np.linspace(-reach, reach, n_nodes)
        rule = np.exp(-0.5 * x * x)
        rule /= rule.sum()
        w = np.exp(self.log_weights)
        w /= w.sum()
        s = np.exp(0.5 * self.logvars[:, 0])
        nodes = (self.means[:, :1] + s[:, None] * x).ravel()
        return nodes, (w[:, None] * rule).ravel()

    def support_1d(self, z_max):
        """``(lo, hi)``: the 1-D latent range that holds every component out to ``z_max`` standard deviations."""
        s = np.exp(0.5 * self.logvars[:, 0])
        return float(np.min(self.means[:, 0] - z_max * s)), float(np.max(self.means[:, 0] + z_max * s))


def latent_prior(decoder, latent_dim):
    """The prior a read-off of ``decoder`` integrates over.

    Parameters
    ----------
    decoder : callable or VAE-like
        An object with ``sample_latents`` (a VAE) brings its own prior: ``prior_mixture()`` gives the mixture
        and ``sample_latents(n, rng)`` the draws. Anything else (a plain callable, an object with only
        ``.fields`` and ``.latent_dim``) is read over ``N(0, I)``.
    latent_dim : int
        The decoder's latent dimension (checked against the mixture's).

    Returns
    -------
    LatentPrior
    """
    if not hasattr(decoder, "sample_latents"):
        return LatentPrior.standard(latent_dim)
    if not hasattr(decoder, "prior_mixture"):
        raise TypeError(f"{type(decoder).__name__} has sample_latents but no prior_mixture(): a read-off needs the "
                        "prior as a mixture (log_weights, means, logvars)")
    try:
        logw, means, logvars = check_prior(tuple(decoder.prior_mixture()), latent_dim)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{type(decoder).__name__}.prior_mixture() is not a latent prior of dimension "
                         f"{latent_dim}: {exc}") from None
    return LatentPrior(logw, means, logvars, decoder)
