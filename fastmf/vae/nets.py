"""The VAE as small pure functions over an explicit parameter dict (HIPS autograd style).

Parameters are a flat dict ``name -> array``: ``enc{k}.W/b`` (encoder hidden layers, input -> hidden), ``head.W/b``
(the Gaussian posterior: columns ``[mu | logvar]``), ``dec{k}.W/b`` (decoder hidden layers), and the decoder
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

from . import layers as ly
from . import likelihood as lk
from . import priors as pr

__all__ = ["init_params", "param_shapes", "Layout", "encoder_output", "encode", "decoder_outputs", "log_likelihood", "kl_normal",
           "prior_mixture", "loss", "batch_report", "DECODERS"]

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
    mu_W, mu_b = _dense(rng, width, latent_dim, dtype)
    lv_W, lv_b = _dense(rng, width, latent_dim, dtype, scale=0.1)
    p["head.W"], p["head.b"] = np.concatenate([mu_W, lv_W], axis=1), np.concatenate([mu_b, lv_b])
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


def param_shapes(n_in, n_sites, n_states, latent_dim, hidden, decoder_hidden, decoder, trunk=None):
    """The names and shapes of the parameters :func:`init_params` makes, in its order, without allocating them.

    Parameters
    ----------
    n_in, n_sites, n_states, latent_dim, hidden, decoder_hidden, decoder
        As for :func:`init_params`.
    trunk : dict, optional
        ``{name: shape}`` of the trunk parameters that come first (e.g. the convolutional layers).

    Returns
    -------
    dict
        ``{name: shape}``; the number of parameters is the sum of the products of the shapes.
    """
    p = dict(trunk or {})
    width = n_in
    for k, n in enumerate(hidden):
        p[f"enc{k}.W"], p[f"enc{k}.b"] = (width, n), (n,)
        width = n
    p["head.W"], p["head.b"] = (width, 2 * latent_dim), (2 * latent_dim,)
    width = latent_dim
    for k, n in enumerate(decoder_hidden):
        p[f"dec{k}.W"], p[f"dec{k}.b"] = (width, n), (n,)
        width = n
    p["out.W"], p["out.b"] = (width, n_sites * n_states), (n_sites * n_states,)
    if decoder == "beta2":
        p["temp.W"], p["temp.b"] = (width, n_sites), (n_sites,)
    if decoder == "gaussian":
        p["logvar_x"] = (n_sites,)
    return p


class Layout:
    """Where each named parameter lives in the flat vector ``theta`` (training differentiates with respect to
    ``theta`` alone, so the gradient is one vector and the optimizer one fused pass)."""

    def __init__(self, params):
        self.slots = {}
        off = 0
        for name, value in params.items():
            self.slots[name] = (off, tuple(value.shape))
            off += value.size
        self.size = off
        self._layers = {}

    def pack(self, params, dtype):
        theta = np.empty(self.size, dtype)
        for name, (off, shape) in self.slots.items():
            theta[off:off + int(np.prod(shape))] = np.asarray(params[name]).ravel()
        return theta

    def views(self, theta):
        return {name: theta[off:off + int(np.prod(shape))].reshape(shape) for name, (off, shape) in
                self.slots.items()}

    def layers(self, names, all_tanh=False):
        """The ``mlp`` description of dense layers ``names`` (prefixes of ``.W`` / ``.b``): tanh after each layer
        but the last (after every layer with ``all_tanh``). Cached."""
        key = (tuple(names), all_tanh)
        if key not in self._layers:
            self._layers[key] = self._make_layers(names, all_tanh)
        return self._layers[key]

    def _make_layers(self, names, all_tanh):
        out = []
        for k, name in enumerate(names):
            w_off, (n_in, n_out) = self.slots[f"{name}.W"]
            b_off, _ = self.slots[f"{name}.b"]
            out.append((w_off, n_in, n_out, b_off, all_tanh or k < len(names) - 1))
        return tuple(out)

    def count(self, prefix):
        k = 0
        while f"{prefix}{k}.W" in self.slots:
            k += 1
        return k

    def take(self, theta, name):
        off, shape = self.slots[name]
        return ly.take(theta, off, shape)


class _Taken:
    """``params[name]`` for a trunk (e.g. the conv layers): slices of theta through the ``take`` primitive."""

    def __init__(self, theta, layout):
        self.theta, self.layout = theta, layout

    def __getitem__(self, name):
        return self.layout.take(self.theta, name)


def encoder_output(theta, layout, x, trunk=None):
    """``[mu | logvar]`` (B, 2 latent_dim): trunk (optional), tanh hidden layers, linear head."""
    h = trunk(_Taken(theta, layout), x) if trunk is not None else x
    names = [f"enc{k}" for k in range(layout.count("enc"))] + ["head"]
    return ly.mlp(theta, h, layout.layers(names))


def encode(theta, layout, x, trunk=None):
    """Posterior mean and log-variance (B, latent_dim)."""
    o = encoder_output(theta, layout, x, trunk)
    d = o.shape[1] // 2
    return o[:, :d], o[:, d:]


def _decoder_names(layout):
    return [f"dec{k}" for k in range(layout.count("dec"))]


def decoder_outputs(theta, layout, z, decoder, n_sites):
    """The decoder heads for latents z (B, d): a dict with ``logits`` (bernoulli, categorical, nematic),
    ``h`` and ``t`` (beta2), or ``mean`` and ``logvar`` (gaussian)."""
    hidden = _decoder_names(layout)
    if decoder in ("bernoulli", "categorical", "nematic"):
        out = ly.mlp(theta, z, layout.layers(hidden + ["out"]))
        if decoder == "bernoulli":
            return {"logits": out}
        return {"logits": anp.reshape(out, (out.shape[0], n_sites, -1))}
    h = ly.mlp(theta, z, layout.layers(hidden, all_tanh=True)) if hidden else z
    out = ly.mlp(theta, h, layout.layers(["out"]))
    if decoder == "beta2":
        return {"h": out, "t": ly.mlp(theta, h, layout.layers(["temp"]))}
    return {"mean": out, "logvar": out * 0 + layout.take(theta, "logvar_x")}


def log_likelihood(outputs, x, decoder):
    """Per-sample ``log p(x | z)`` (B,) through the fused kernels; x is the decoder's target array."""
    if decoder == "bernoulli":
        return ly.bernoulli_ll(outputs["logits"], x)
    if decoder == "beta2":
        return lk.tempered_ll(outputs["h"], outputs["t"], x)
    if decoder in ("categorical", "nematic"):
        return lk.categorical_ll(outputs["logits"], x)
    return lk.gaussian_ll(outputs["mean"], outputs["logvar"], x)


kl_normal = ly.kl_normal  # the rate per sample (B,)


def prior_mixture(theta, layout, prior, trunk=None):
    """The prior as a mixture ``(logits (K,), means (K, d), logvars (K, d))`` (differentiable in theta):
    ``mog`` reads its parameters, ``vamp`` its weights and the encoder's posteriors at its pseudo-inputs; ``normal``
    is one standard component."""
    if prior == "mog":
        return tuple(layout.take(theta, f"prior.{n}") for n in ("logits", "means", "logvars"))
    if prior == "vamp":
        mu, logvar = encode(theta, layout, layout.take(theta, "prior.pseudo"), trunk)
        return layout.take(theta, "prior.logits"), mu, logvar
    d = layout.slots["head.b"][1][0] // 2
    dtype = theta.dtype if hasattr(theta, "dtype") else getval(theta).dtype
    return np.zeros(1, dtype), np.zeros((1, d), dtype), np.zeros((1, d), dtype)


def loss(theta, layout, x_in, x, eps, beta, decoder, n_sites, trunk=None, report=None, prior="normal"):
    """Mean over the batch of ``distortion + beta * rate`` (``-log p(x|z)`` with one reparameterised z; the rate
    analytic for the normal prior, else ``-H[q] - log p(z)`` at the same z, :mod:`.priors`). ``report``, a dict,
    receives the batch means of ``rate`` and ``distortion`` and, with a learned prior, ``rate_sq`` (the mean
    square of the per-sample rate estimates, for its Monte Carlo error). For the Bernoulli decoder x may be
    None: the target is taken from the ±1 encoder input."""
    o = encoder_output(theta, layout, x_in, trunk)
    z = None
    if decoder == "bernoulli":  # three nodes: encoder, decoder + likelihood, objective
        ll = ly.decode_bernoulli(theta, o, eps, x_in, layout.layers(_decoder_names(layout) + ["out"]))
    else:
        z = ly.reparameterize(o, eps)
        ll = log_likelihood(decoder_outputs(theta, layout, z, decoder, n_sites), x, decoder)
    if prior == "normal":
        if report is not None:
            batch_report(report, getval(o), getval(ll))
        return ly.objective(ll, o, beta)
    z = ly.reparameterize(o, eps) if z is None else z
    logp = pr.log_density(z, *prior_mixture(theta, layout, prior, trunk))
    if report is not None:
        batch_report(report, getval(o), getval(ll), getval(logp))
    return pr.objective(ll, o, logp, beta)


def batch_report(report, o, ll, logp=None, rate=None):
    """:func:`loss`'s ``report`` from the encoder output ``o``, the log-likelihoods ``ll`` and, with a learned
    prior, ``log p(z)`` (plain arrays); ``rate``: the per-row rate (the KL, or its estimate) when already computed."""
    if logp is None:
        report["rate"] = float(np.mean(ly.kl_rows(o) if rate is None else rate))
    else:
        r = pr.rate_rows(o, logp) if rate is None else rate
        report["rate"], report["rate_sq"] = float(np.mean(r)), float(np.mean(r * r))
    report["distortion"] = -float(np.mean(ll))
