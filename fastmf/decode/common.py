"""Latent draws and decoder evaluation shared by the read-offs (:mod:`fastmf.decode.readoff`,
:mod:`fastmf.decode.curie_weiss`, :mod:`fastmf.decode.nematic`). Prior draws come from the decoder's own latent
prior (:mod:`fastmf.decode.prior`): a VAE's learned mixture, ``N(0, I)`` for a plain callable."""
import math

import numpy as np

from ..kernels.validation import check_int
from .prior import latent_prior

__all__ = ["LOG_SQRT_2PI", "as_decoder", "as_generator", "evaluate_fields", "field_samples", "log2cosh",
           "posterior_draws", "weighted_least_squares"]

_ROWS = 1 << 15  # latent rows per decoder call
#: ``ln sqrt(2 pi)``, the log normaliser of a standard normal density.
LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def log2cosh(x):
    """``ln 2cosh(x)``, stable for any x (the per-site log partition function of a +-1 spin in field x)."""
    return np.logaddexp(x, -x)


def as_decoder(decoder, latent_dim):
    """The decoder's field map and latent dimension, from a VAE-like object or a callable plus ``latent_dim``.

    Parameters
    ----------
    decoder : callable or VAE-like
        ``Z (n, d) -> logits (n, N)``, or an object with ``.fields`` and ``.latent_dim``.
    latent_dim : int or None
        Required for a plain callable; checked against ``decoder.latent_dim`` otherwise.

    Returns
    -------
    fields : callable
    latent_dim : int
    """
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


def evaluate_fields(fields, z, reduce=None):
    """Validated decoder logits at ``z``, computed in row blocks.

    Parameters
    ----------
    fields : callable
        ``Z (n, d) -> logits (n, N)``.
    z : ndarray, shape (n, d)
        Latents.
    reduce : callable, optional
        Applied to each block of logits (e.g. a site mean) before concatenation.

    Returns
    -------
    ndarray
        The logits (n, N), or the reduced blocks concatenated.

    Raises
    ------
    ValueError
        If the decoder returns a wrong shape or non-finite logits.
    """
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


def as_generator(seed):
    """A NumPy generator from an explicit seed (``None`` is refused: randomness must be explicit).

    Parameters
    ----------
    seed : int, sequence of int or numpy.random.Generator
        A generator is returned as is.

    Returns
    -------
    numpy.random.Generator
    """
    if seed is None or isinstance(seed, (bool, np.bool_)):
        raise ValueError("seed must be an int, a sequence of ints or a numpy Generator (explicit randomness)")
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def field_samples(decoder, n_draws, seed=0, latent_dim=None, antithetic=False):
    """Prior latent draws and the decoder's fields at them.

    Parameters
    ----------
    decoder : callable or VAE-like
        ``Z (n, d) -> logits (n, N)``, or an object with ``.fields`` and ``.latent_dim``. A VAE (an object with
        ``sample_latents``) is drawn from its own prior (:func:`fastmf.decode.prior.latent_prior`); anything
        else from ``N(0, I)``.
    n_draws : int
    seed : int or numpy.random.Generator
    latent_dim : int, optional
        Required for a plain callable.
    antithetic : bool
        Second half = minus the first (n_draws even): odd latent maps then average to exactly 0. Valid only for
        a prior symmetric under ``z -> -z`` (``N(0, I)``); refused for any other.

    Returns
    -------
    Z : ndarray (n_draws, latent_dim)
    G : ndarray (n_draws, N)
    """
    fields, d = as_decoder(decoder, latent_dim)
    n = check_int("n_draws", n_draws, 1)
    if antithetic and n % 2:
        raise ValueError(f"antithetic sampling needs an even n_draws, got {n}")
    prior = latent_prior(decoder, d)
    if antithetic and not prior.is_symmetric:
        raise ValueError("antithetic draws (z, -z) need a prior symmetric under z -> -z; this model's learned "
                         "prior is not")
    z = prior.sample(n // 2 if antithetic else n, as_generator(seed))
    z = np.concatenate([z, -z]) if antithetic else z
    return z, evaluate_fields(fields, z)


def posterior_draws(vae, data, n_draws=None, seed=0):
    """Draws of the aggregate posterior ``q(z) = mean_x q(z | x)`` over ``data``: ``mu(x) + sigma(x) eps``.

    Where the data have separated modes (an ordered phase), the push-forward of a standard normal prior
    under-weights the rarer modes (the prior has "holes" between the posterior clusters), and read-offs from
    prior draws inherit that error; a learned prior (:mod:`fastmf.vae.priors`) is fitted to the aggregate
    posterior and closes most of them. The aggregate posterior puts each mode at its weight in the data, which
    makes it the reference for prior draws.

    Parameters
    ----------
    vae : fitted VAE (has ``.encode``)
    data : array (n, ...)
        Configurations in the format the VAE was trained on.
    n_draws : int, optional
        Total draws (default: one per configuration); configurations are cycled in order.
    seed : int or numpy.random.Generator

    Returns
    -------
    ndarray (n_draws, latent_dim)
    """
    if not hasattr(vae, "encode"):
        raise TypeError(f"posterior draws need a VAE with .encode, got {type(vae).__name__}")
    mu, logvar = vae.encode(data)
    n = len(mu) if n_draws is None else check_int("n_draws", n_draws, 1)
    rows = np.arange(n) % len(mu)
    return mu[rows] + np.exp(0.5 * logvar[rows]) * as_generator(seed).standard_normal((n, mu.shape[1]))


def weighted_least_squares(X, y, w):
    """Weighted least squares ``X beta ~ y``.

    Parameters
    ----------
    X : ndarray, shape (n, k)
    y : ndarray, shape (n,)
    w : ndarray, shape (n,)
        Non-negative weights (normalised to sum 1).

    Returns
    -------
    beta : ndarray, shape (k,)
    rms : float
        Weighted RMS residual.
    """
    sw = np.sqrt(w / w.sum())
    beta = np.linalg.lstsq(X * sw[:, None], y * sw, rcond=None)[0]
    return beta, float(np.sqrt(np.sum((sw * (X @ beta - y)) ** 2)))


