"""The VAE as small pure functions over an explicit parameter dict (HIPS autograd style).

Parameters are a flat dict ``name -> array``: ``enc{k}.W/b`` (encoder hidden layers, input -> hidden), ``mu.W/b``
and ``logvar.W/b`` (the Gaussian posterior heads), ``dec{k}.W/b`` (decoder hidden layers), and the decoder
heads below. Hidden layers use ``tanh``. ``z = mu + exp(logvar / 2) eps`` with ``eps`` drawn by the caller.

Decoders (the output ``heads`` of the last decoder layer, ``h``):

* ``bernoulli``: ``out.W/b`` -> logits g (B, N), the effective fields of a mean-field model (``p(s_i = +1 | z) =
  sigmoid(g_i)``, x = (s + 1) / 2);
* ``beta2``: fields ``out.W/b`` and a temperature branch ``temp.W/b``: logits ``sigmoid(t) h`` with the per-site
  inverse temperature ``beta_k = sigmoid(t_k)`` in (0, 1) (beta^2-VAE);
* ``categorical``: ``out.W/b`` -> logits (B, N, q) (q-state data, softmax over the states of each site);
* ``nematic``: categorical over a fixed set of D axes (logits (B, N, D));
* ``gaussian``: means ``out.W/b`` (B, N) and a learned per-site log-variance ``logvar_x`` (N,).

With ``decoder_hidden = ()`` (``mean_field=True`` in :class:`~fastmf.vae.VAE`) the heads are affine in z:
the mean-field decoder whose weights are the couplings to read off.
"""
import autograd.numpy as anp
import numpy as np
from autograd.tracer import getval

from . import likelihood as lk

__all__ = ["init_params", "encode", "decoder_outputs", "log_likelihood", "kl_normal", "loss", "DECODERS"]

DECODERS = ("bernoulli", "beta2", "categorical", "nematic", "gaussian")


def _dense(rng, n_in, n_out, dtype, scale=1.0):
    W = rng.standard_normal((n_in, n_out)) * (scale / np.sqrt(n_in))
    return W.astype(dtype), np.zeros(n_out, dtype)


def init_params(rng, n_in, n_sites, n_states, latent_dim, hidden, decoder_hidden, decoder, dtype, trunk=None):
    """Fresh parameters. ``n_in``: encoder input width (or the trunk's output width when ``trunk`` params, e.g. a
    convolutional encoder, come first); ``n_states``: q for categorical / nematic (1 otherwise)."""
    p = {}
    if trunk is not None:
        p.update(trunk)
    width = n_in
    for k, n in enumerate(hidden):
        p[f"enc{k}.W"], p[f"enc{k}.b"] = _dense(rng, width, n, dtype)
        width = n
    p["mu.W"], p["mu.b"] = _dense(rng, width, latent_dim, dtype)
    p["logvar.W"], p["logvar.b"] = _dense(rng, width, latent_dim, dtype, scale=0.1)
    width = latent_dim
    for k, n in enumerate(decoder_hidden):
        p[f"dec{k}.W"], p[f"dec{k}.b"] = _dense(rng, width, n, dtype)
        width = n
    p["out.W"], p["out.b"] = _dense(rng, width, n_sites * n_states, dtype)
    if decoder == "beta2":
        p["temp.W"], p["temp.b"] = _dense(rng, width, n_sites, dtype, scale=0.1)
    if decoder == "gaussian":
        p["logvar_x"] = np.zeros(n_sites, dtype)
    return p


def _n_layers(params, prefix):
    k = 0
    while f"{prefix}{k}.W" in params:
        k += 1
    return k


def encode(params, x, trunk=None):
    """Posterior mean and log-variance (B, latent_dim) of encoder inputs x (B, n_in); ``trunk(params, x)`` first
    when given (e.g. the convolutional layers)."""
    h = trunk(params, x) if trunk is not None else x
    for k in range(_n_layers(params, "enc")):
        h = anp.tanh(anp.dot(h, params[f"enc{k}.W"]) + params[f"enc{k}.b"])
    return anp.dot(h, params["mu.W"]) + params["mu.b"], anp.dot(h, params["logvar.W"]) + params["logvar.b"]


def decoder_outputs(params, z, decoder, n_sites):
    """The decoder heads for latents z (B, d): a dict with ``logits`` (bernoulli, categorical, nematic),
    ``h`` and ``t`` (beta2), or ``mean`` and ``logvar`` (gaussian)."""
    h = z
    for k in range(_n_layers(params, "dec")):
        h = anp.tanh(anp.dot(h, params[f"dec{k}.W"]) + params[f"dec{k}.b"])
    out = anp.dot(h, params["out.W"]) + params["out.b"]
    if decoder == "bernoulli":
        return {"logits": out}
    if decoder == "beta2":
        return {"h": out, "t": anp.dot(h, params["temp.W"]) + params["temp.b"]}
    if decoder in ("categorical", "nematic"):
        return {"logits": anp.reshape(out, (out.shape[0], n_sites, -1))}
    return {"mean": out, "logvar": out * 0 + params["logvar_x"]}


def log_likelihood(outputs, x, decoder):
    """Per-sample ``log p(x | z)`` (B,) through the fused kernels; x is the decoder's target array."""
    if decoder == "bernoulli":
        return lk.bernoulli_ll(outputs["logits"], x)
    if decoder == "beta2":
        return lk.tempered_ll(outputs["h"], outputs["t"], x)
    if decoder in ("categorical", "nematic"):
        return lk.categorical_ll(outputs["logits"], x)
    return lk.gaussian_ll(outputs["mean"], outputs["logvar"], x)


def kl_normal(mu, logvar):
    """``KL(N(mu, diag e^logvar) || N(0, I))`` per sample (B,): the rate."""
    return 0.5 * anp.sum(mu * mu + anp.exp(logvar) - 1.0 - logvar, axis=1)


def loss(params, x_in, x, eps, beta, decoder, n_sites, trunk=None, report=None):
    """Mean over the batch of ``distortion + beta * rate`` (``-log p(x|z)`` with one reparameterised z, and the
    analytic KL). ``report``, a dict, receives the batch means of ``rate`` and ``distortion`` (values only)."""
    mu, logvar = encode(params, x_in, trunk)
    z = mu + anp.exp(0.5 * logvar) * eps
    distortion = -log_likelihood(decoder_outputs(params, z, decoder, n_sites), x, decoder)
    rate = kl_normal(mu, logvar)
    if report is not None:
        report["rate"] = float(np.mean(getval(rate)))
        report["distortion"] = float(np.mean(getval(distortion)))
    return anp.mean(distortion + beta * rate)
