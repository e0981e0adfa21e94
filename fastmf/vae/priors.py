"""Latent priors of the VAE: the standard normal and two learned mixtures, as pure functions.

Every prior is a mixture of diagonal Gaussians ``p(z) = sum_k w_k N(z; m_k, diag e^{v_k})``:

* ``normal``: one component, ``N(0, I)`` (no parameters; the rate has a closed form);
* ``mog``: K components with learned logits ``prior.logits`` (K,), means ``prior.means`` (K, d) and log-variances
  ``prior.logvars`` (K, d);
* ``vamp``: the VampPrior (Tomczak & Welling, AISTATS 2018), ``p(z) = sum_k w_k q(z | u_k)``: the encoder's
  posteriors at K learned pseudo-inputs ``prior.pseudo`` (K, width of the encoder input), started at K random
  training configurations. Unlike the paper's uniform ``w_k = 1/K`` the weights are learned (``prior.logits``):
  with uniform weights the modes of the prior carry multiples of 1/K, and the measured basin weights of generated
  Hopfield samples were off by a total variation of 0.19.

With a learned prior the rate ``KL(q(z|x) || p(z)) = -H[q(z|x)] - E_q log p(z)`` has the entropy in closed form and
``E_q log p(z)`` estimated at the reparameterised draw of the distortion term (one draw per sample in training).
:func:`log_density` is one autograd primitive over fused kernels with a hand-written VJP (a chain of small NumPy
operations over (B, K, d) arrays cost ten times the arithmetic). Why a learned prior and how the default was chosen:
``docs/priors.rst``.
"""
import math

import numpy as np
from autograd.extend import defvjp_argnums, primitive

from ..kernels import vae_cpu as _k

__all__ = ["PRIORS", "DEFAULT_COMPONENTS", "prior_shapes", "init_prior", "log_density", "neg_entropy",
           "objective", "rate_rows", "draw", "log_weights"]

PRIORS = ("normal", "mog", "vamp")
#: Components of the learned priors unless ``n_components`` is given.
DEFAULT_COMPONENTS = {"normal": 1, "mog": 32, "vamp": 32}
LOG_2PI = math.log(2 * math.pi)


def prior_shapes(prior, n_components, latent_dim, n_inputs):
    """``{name: shape}`` of the prior's parameters (empty for ``normal``); ``n_inputs`` is the width of the
    encoder's input (the pseudo-inputs of ``vamp`` live there)."""
    K, d = n_components, latent_dim
    if prior == "mog":
        return {"prior.logits": (K,), "prior.means": (K, d), "prior.logvars": (K, d)}
    if prior == "vamp":
        return {"prior.logits": (K,), "prior.pseudo": (K, n_inputs)}
    return {}


def init_prior(rng, prior, n_components, latent_dim, x_in, dtype):
    """Fresh prior parameters: ``mog`` means drawn from N(0, I), unit variances, equal weights; ``vamp``
    pseudo-inputs at K training inputs drawn without replacement (with replacement if there are fewer)."""
    K, d = n_components, latent_dim
    if prior == "mog":
        return {"prior.logits": np.zeros(K, dtype), "prior.means": rng.standard_normal((K, d)).astype(dtype),
                "prior.logvars": np.zeros((K, d), dtype)}
    if prior == "vamp":
        rows = rng.choice(len(x_in), size=K, replace=len(x_in) < K)
        return {"prior.logits": np.zeros(K, dtype), "prior.pseudo": np.array(x_in[rows], dtype=dtype)}
    return {}


def _lse(a, axis=None):
    """``log sum exp`` along ``axis`` (plain NumPy: scipy's costs more than the arithmetic on small arrays)."""
    m = np.max(a, axis=axis, keepdims=True)
    return np.squeeze(m, axis=axis) + np.log(np.sum(np.exp(a - m), axis=axis))


# The responsibilities of the forward pass for the VJP maker, which autograd calls right after the forward pass of
# the same node (keyed by the output's id; one entry: nothing builds up).
_stash = {}


def _forward(z, logits, means, logvars):
    out = np.empty(len(z), np.result_type(z, logits, means, logvars))
    resp = np.empty((len(z), len(logits)))
    _k.mixture_logpdf(z, logits, means, logvars, out, resp)
    return out, resp


@primitive
def log_density(z, logits, means, logvars):
    """``log p(z)`` per row (B,) of the mixture with weights ``softmax(logits)``, means (K, d) and log-variances
    (K, d) (a fused kernel, :func:`fastmf.kernels.vae_cpu.mixture_logpdf`)."""
    ans, resp = _forward(z, logits, means, logvars)
    _stash["log_density"] = (id(ans), resp)
    return ans


def log_density_vjp(argnums, ans, args, kwargs):
    key, resp = _stash.pop("log_density", (None, None))
    if key != id(ans):
        resp = _forward(*args)[1]

    def vjp(g):
        grads = tuple(np.empty(np.shape(a), np.asarray(a).dtype) for a in args)
        _k.mixture_logpdf_grad(*args, resp, g, *grads)
        return tuple(grads[k] for k in argnums)
    return vjp


defvjp_argnums(log_density, log_density_vjp)


def neg_entropy(logvar):
    """``-H[N(mu, diag e^logvar)]`` per row: ``-0.5 sum (logvar + 1 + log 2 pi)``."""
    return -0.5 * np.sum(logvar + 1.0 + LOG_2PI, axis=1)


@primitive
def objective(ll, o, logp, beta, rate=None):
    """``mean(beta (-H[q] - log p(z)) - ll)``: the beta-VAE loss with a learned prior, ``o = [mu | logvar]`` and
    ``logp`` the prior's log-density at the reparameterised draw (``rate``: ``-H[q] - log p(z)`` per row when
    already computed)."""
    return np.mean(beta * (rate_rows(o, logp) if rate is None else rate) - ll)


def rate_rows(o, logp):
    """The per-sample rate estimate ``-H[q(z|x)] - log p(z)`` of ``o = [mu | logvar]`` at the draws of ``logp``."""
    return neg_entropy(o[:, o.shape[1] // 2:]) - logp


def prior_objective_vjp(argnums, ans, args, kwargs):
    ll, o, logp, beta = args[:4]
    n, d = len(ll), o.shape[1] // 2

    def vjp(g):
        out = []
        for a in argnums:
            if a == 0:
                out.append(np.full(n, -g / n, ll.dtype))
            elif a == 1:
                go = np.zeros_like(o)
                go[:, d:] = -0.5 * g * beta / n
                out.append(go)
            elif a == 2:
                out.append(np.full(n, -g * beta / n, logp.dtype))
            else:
                out.append(np.sum(neg_entropy(o[:, d:]) - logp) * g / n)
        return tuple(out)
    return vjp


defvjp_argnums(objective, prior_objective_vjp)


def log_weights(logits):
    """Normalised log-weights of the components."""
    logits = np.asarray(logits, np.float64)
    return logits - _lse(logits)


def draw(rng, n, logw, means, logvars):
    """``n`` draws of the mixture (components by weight, then Gaussian), float64 (n, d)."""
    K, d = means.shape
    k = rng.choice(K, size=n, p=np.exp(log_weights(logw))) if K > 1 else np.zeros(n, np.int64)
    return means[k] + np.exp(0.5 * logvars[k]) * rng.standard_normal((n, d))
