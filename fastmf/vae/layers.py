"""Fused layers of the VAE as autograd primitives with hand-written vector-Jacobian products.

autograd composes the model; these primitives replace chains of small operations, each of which would cost
autograd a node in the forward pass and a VJP call in the backward pass (on a batch of 128 the bookkeeping of
~140 such nodes, not the arithmetic, dominated a training step). The parameters live in one flat vector
``theta``; layers read their weights as views of it, and their VJPs return ``SparseObject`` gradients that
add into a single zero vector, so the gradient arrives flat for the optimizer. Every VJP is tested against
the one autograd derives from the plain NumPy expression (``tests/test_vae.py``).

* ``mlp(theta, x, layers)``: dense layers ``h <- h W + b`` with tanh where flagged;
* ``take(theta, offset, shape)``: a parameter array (for the conv trunk and per-site constants);
* ``reparameterize(o, eps)``: ``z = mu + exp(logvar / 2) eps`` with ``o = [mu | logvar]``;
* ``bernoulli_ll(logits, x)``: the fused kernel, which also returns ``x - sigmoid(logits)`` for the backward
  pass (one ``exp`` per site in total);
* ``decode_bernoulli(theta, o, eps, spins, layers)``: reparameterisation, decoder layers and Bernoulli
  likelihood in one node (the training path of the default decoder);
* ``objective(ll, o, beta)``: ``mean(beta KL - ll)`` with the KL of ``o = [mu | logvar]``.
"""
import autograd.numpy as anp
import numpy as np
from autograd.extend import SparseObject, defvjp_argnums, primitive, vspace

from ..kernels import vae_cpu as _k

__all__ = ["mlp", "take", "reparameterize", "kl_normal", "kl_rows", "bernoulli_ll", "decode_bernoulli", "objective"]

# Values handed from a primitive's forward pass to its VJP maker, which autograd calls right after the forward
# pass of the same node (keyed by the output's id; one entry per primitive: nothing builds up).
_stash = {}


def _put(key, ans, value):
    _stash[key] = (id(ans), value)


def _get(key, ans):
    entry = _stash.pop(key, None)
    return entry[1] if entry is not None and entry[0] == id(ans) else None


def _sparse(theta, pieces):
    """A gradient for theta holding ``pieces`` (offset, flat array), added in place by autograd."""
    def mut_add(A):
        for off, v in pieces:
            A[off:off + v.size] += v
        return A
    return SparseObject(vspace(theta), mut_add)


def _mlp_forward(theta, x, layers):
    acts = [x]
    h = x
    for w_off, n_in, n_out, b_off, tanh in layers:
        a = h @ theta[w_off:w_off + n_in * n_out].reshape(n_in, n_out)
        a += theta[b_off:b_off + n_out]
        if tanh:
            np.tanh(a, out=a)
        acts.append(a)
        h = a
    return h, acts


@primitive
def mlp(theta, x, layers):
    h, acts = _mlp_forward(theta, x, layers)
    _put("mlp", h, acts)
    return h


def _mlp_vjp(argnums, ans, args, kwargs, acts=None):
    theta, x, layers = args
    if acts is None:
        acts = _get("mlp", ans)
    if acts is None:
        acts = _mlp_forward(theta, x, layers)[1]

    def mlp_backward(g):
        pieces = []
        for k in range(len(layers) - 1, -1, -1):
            w_off, n_in, n_out, b_off, tanh = layers[k]
            if tanh:
                g, g_b = _k.tanh_backward(g, acts[k + 1])
            else:
                g_b = g.sum(axis=0)
            if 0 in argnums:
                pieces.append((w_off, (acts[k].T @ g).ravel()))
                pieces.append((b_off, g_b))
            if k > 0 or 1 in argnums:
                g = g @ theta[w_off:w_off + n_in * n_out].reshape(n_in, n_out).T
        return tuple(_sparse(theta, pieces) if a == 0 else g for a in argnums)
    return mlp_backward


defvjp_argnums(mlp, _mlp_vjp)


@primitive
def take(theta, offset, shape):
    return theta[offset:offset + int(np.prod(shape))].reshape(shape)


defvjp_argnums(take, lambda argnums, ans, args, kwargs:
               lambda g: (_sparse(args[0], [(args[1], np.ravel(g))]),))


def _split(o):
    d = o.shape[1] // 2
    return o[:, :d], o[:, d:]


@primitive
def reparameterize(o, eps):
    mu, logvar = _split(o)
    return mu + np.exp(0.5 * logvar) * eps


def _reparameterize_vjp(argnums, ans, args, kwargs):
    o, eps = args
    sd = np.exp(0.5 * _split(o)[1])
    return lambda g: tuple(np.concatenate([g, 0.5 * g * sd * eps], axis=1) if a == 0 else g * sd for a in argnums)


defvjp_argnums(reparameterize, _reparameterize_vjp)


def kl_normal(mu, logvar):
    """``KL(N(mu, diag e^logvar) || N(0, I))`` per row (B,): the rate (plain or autograd NumPy arrays)."""
    return 0.5 * anp.sum(mu * mu + anp.exp(logvar) - 1.0 - logvar, axis=1)


def kl_rows(o):
    """:func:`kl_normal` of ``o = [mu | logvar]``."""
    return kl_normal(*_split(o))


@primitive
def bernoulli_ll(logits, x):
    """``sum_i x_i g_i - softplus(g_i)`` (x in {0, 1}), with the residual ``x - sigmoid(g)`` kept for the VJP."""
    ll, r = _k.bernoulli_ll_resid(logits, x)
    _put("bernoulli", ll, r)
    return ll


def _bernoulli_vjp(argnums, ans, args, kwargs):
    r = _get("bernoulli", ans)
    if r is None:
        r = _k.bernoulli_ll_resid(*args)[1]
    return lambda g: (r * g[:, None].astype(r.dtype),)


defvjp_argnums(bernoulli_ll, _bernoulli_vjp)


def _decode_forward(theta, o, eps, spins, layers):
    mu, logvar = _split(o)
    sd = np.exp(0.5 * logvar)
    z = mu + sd * eps
    logits, acts = _mlp_forward(theta, z, layers)
    ll, r = _k.bernoulli_ll_resid(logits, spins, pm1=True)
    return ll, (sd, acts, r)


@primitive
def decode_bernoulli(theta, o, eps, spins, layers):
    """The Bernoulli decoder path in one node: ``z = mu + exp(logvar / 2) eps`` from ``o = [mu | logvar]``, the
    decoder layers, and ``log p(spins | z)`` for ±1 spins (B,). One node instead of four: on small models
    autograd's per-node bookkeeping costs as much as the arithmetic."""
    ll, saved = _decode_forward(theta, o, eps, spins, layers)
    _put("decode", ll, saved)
    return ll


def _decode_vjp(argnums, ans, args, kwargs):
    theta, o, eps, spins, layers = args
    saved = _get("decode", ans)
    if saved is None:
        saved = _decode_forward(theta, o, eps, spins, layers)[1]
    sd, acts, r = saved
    backward = _mlp_vjp((0, 1), None, (theta, acts[0], layers), {}, acts)

    def vjp(g):
        g_theta, g_z = backward(r * g[:, None].astype(r.dtype))
        return tuple(g_theta if a == 0 else np.concatenate([g_z, 0.5 * g_z * sd * eps], axis=1) for a in argnums)
    return vjp


defvjp_argnums(decode_bernoulli, _decode_vjp)


@primitive
def objective(ll, o, beta):
    """``mean(beta KL(o) - ll)``: the beta-VAE loss of the batch, with the KL of ``o = [mu | logvar]``."""
    return np.mean(beta * kl_rows(o) - ll)


def _objective_vjp(argnums, ans, args, kwargs):
    ll, o, beta = args
    n = len(ll)
    mu, logvar = _split(o)

    def vjp(g):
        out = []
        for a in argnums:
            if a == 0:
                out.append(np.full(n, -g / n, ll.dtype))
            elif a == 1:
                out.append((g * beta / n) * np.concatenate([mu, 0.5 * (np.exp(logvar) - 1)], axis=1))
            else:
                out.append(np.sum(kl_rows(o)) * g / n)
        return tuple(out)
    return vjp


defvjp_argnums(objective, _objective_vjp)
