"""Decoder log-likelihoods as autograd primitives: forward and backward are the fused Numba kernels of
:mod:`fastmf.kernels.vae_cpu` (the hot path: batch x sites), everything else is differentiated by autograd.

Each function returns the per-sample log-likelihood (B,); data arrays (``x``) are constants (no gradient).
"""
from autograd.extend import defvjp, primitive

from ..kernels import vae_cpu as _k

__all__ = ["tempered_ll", "categorical_ll", "gaussian_ll"]  # Bernoulli: fastmf.vae.layers.bernoulli_ll


@primitive
def tempered_ll(h, t, x):
    """Bernoulli with logits ``sigmoid(t) h`` (the beta^2-VAE's per-site inverse temperature in (0, 1))."""
    return _k.tempered_ll(h, t, x)


defvjp(tempered_ll,
       lambda ans, h, t, x: lambda up: _k.tempered_grad(h, t, x, up)[0],
       lambda ans, h, t, x: lambda up: _k.tempered_grad(h, t, x, up)[1])


@primitive
def categorical_ll(logits, x):
    """``sum_i g[i, x_i] - logsumexp(g[i])``; logits (B, N, q), x integer states (B, N)."""
    return _k.categorical_ll(logits, x)


defvjp(categorical_ll, lambda ans, logits, x: lambda up: _k.categorical_grad(logits, x, up))


@primitive
def gaussian_ll(mean, logvar, x):
    """Gaussian log-density of x with the given mean and log-variance (all (B, N))."""
    return _k.gaussian_ll(mean, logvar, x)


defvjp(gaussian_ll,
       lambda ans, mean, logvar, x: lambda up: _k.gaussian_grad(mean, logvar, x, up)[0],
       lambda ans, mean, logvar, x: lambda up: _k.gaussian_grad(mean, logvar, x, up)[1])
