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


def _weight(theta, w_off, n_in, n_out):
    return theta[w_off:w_off + n_in * n_out].reshape(n_in, n_out)


def mlp_forward(theta, x, layers, out=None):
    """Activations ``[x, h1, ..., output]``; ``out``: optional preallocated arrays for the layers' outputs (the
    same arithmetic, written in place)."""
    acts = [x]
    h = x
    for k, (w_off, n_in, n_out, b_off, tanh) in enumerate(layers):
        a = np.matmul(h, _weight(theta, w_off, n_in, n_out), out=None if out is None else out[k])
        a += theta[b_off:b_off + n_out]
        if tanh:
            np.tanh(a, out=a)
        acts.append(a)
        h = a
    return h, acts


class _Pieces(list):
    """Where :func:`mlp_backward` puts the parameter gradients for autograd: (offset, flat array) pairs."""

    def matmul(self, off, a, b):
        self.append((off, (a @ b).ravel()))

    def bias(self, off, n, dtype):
        return np.empty(n, dtype)

    def add(self, off, v):
        self.append((off, v))


def mlp_backward(theta, acts, layers, g, sink, input_grad, overwrite=False):
    """Back through dense layers from the output gradient ``g``: each weight gradient goes to
    ``sink.matmul(offset, a, b)`` (the product ``a @ b``), each bias gradient is written into ``sink.bias(offset,
    n, dtype)`` and handed to ``sink.add(offset, array)``; returns the gradient with respect to the input
    (``input_grad``) or None. ``overwrite``: ``g`` may be overwritten (the intermediate gradients always are)."""
    for k in range(len(layers) - 1, -1, -1):
        w_off, n_in, n_out, b_off, tanh = layers[k]
        g_b = sink.bias(b_off, n_out, g.dtype) if sink is not None else np.empty(n_out, g.dtype)
        if tanh:
            g = g if overwrite or k < len(layers) - 1 else g.copy()
            _k.tanh_backward_into(g, acts[k + 1], g_b)
        else:
            np.sum(g, axis=0, out=g_b)
        if sink is not None:
            sink.matmul(w_off, acts[k].T, g)
            sink.add(b_off, g_b)
        if k > 0 or input_grad:
            g = g @ _weight(theta, w_off, n_in, n_out).T
    return g if input_grad else None


@primitive
def mlp(theta, x, layers):
    h, acts = mlp_forward(theta, x, layers)
    _put("mlp", h, acts)
    return h


def _mlp_vjp(argnums, ans, args, kwargs, acts=None):
    theta, x, layers = args
    if acts is None:
        acts = _get("mlp", ans)
    if acts is None:
        acts = mlp_forward(theta, x, layers)[1]

    def vjp(g):
        pieces = _Pieces() if 0 in argnums else None
        g_x = mlp_backward(theta, acts, layers, g, pieces, 1 in argnums)
        return tuple(_sparse(theta, pieces) if a == 0 else g_x for a in argnums)
    return vjp


defvjp_argnums(mlp, _mlp_vjp)


@primitive
def take(theta, offset, shape):
    return theta[offset:offset + int(np.prod(shape))].reshape(shape)


defvjp_argnums(take, lambda argnums, ans, args, kwargs:
               lambda g: (_sparse(args[0], [(args[1], np.ravel(g))]),))


def split_params(o):
    d = o.shape[1] // 2
    return o[:, :d], o[:, d:]


@primitive
def reparameterize(o, eps):
    mu, logvar = split_params(o)
    return mu + np.exp(0.5 * logvar) * eps


def _reparameterize_vjp(argnums, ans, args, kwargs):
    o, eps = args
    sd = np.exp(0.5 * split_params(o)[1])
    return lambda g: tuple(np.concatenate([g, 0.5 * g * sd * eps], axis=1) if a == 0 else g * sd for a in argnums)


defvjp_argnums(reparameterize, _reparameterize_vjp)


def kl_normal(mu, logvar):
    """``KL(N(mu, diag e^logvar) || N(0, I))`` per row (B,): the rate (plain or autograd NumPy arrays)."""
    return 0.5 * anp.sum(mu * mu + anp.exp(logvar) - 1.0 - logvar, axis=1)


def kl_rows(o):
    """:func:`kl_normal` of ``o = [mu | logvar]``."""
    return kl_normal(*split_params(o))


def kl_rows_and_grad(o, scale):
    """``(kl_rows(o), scale * d kl_rows(o).sum() / do)`` in one pass over o (plain arrays; bit for bit the NumPy
    expressions of :func:`kl_normal` and its gradient)."""
    d = o.shape[1] // 2
    terms, grad = np.empty((len(o), d), o.dtype), np.empty_like(o)
    _k.normal_kl_parts(o, np.exp(o[:, d:]), o.dtype.type(scale), terms, grad)
    return 0.5 * np.sum(terms, axis=1), grad


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


def decode_forward(theta, o, eps, spins, layers, out=None):
    """``(ll, (sd, activations, residual))``; ``out``: optional preallocated arrays (``mlp``'s layer outputs, then
    the likelihood kernel's, :func:`fastmf.kernels.vae_cpu.bernoulli_ll_resid`)."""
    mu, logvar = split_params(o)
    sd = np.exp(0.5 * logvar)
    z = mu + sd * eps
    h, acts = mlp_forward(theta, z, layers[:-1], out)
    w_off, n_in, n_out, b_off, _ = layers[-1]
    a = np.matmul(h, _weight(theta, w_off, n_in, n_out), out=None if out is None else out[len(layers) - 1])
    # the output layer's bias is added in the likelihood kernel's pass (the backward pass does not read the logits)
    ll, r = _k.bernoulli_ll_resid(a, spins, pm1=True, out=None if out is None else out[len(layers):],
                                  bias=theta[b_off:b_off + n_out])
    return ll, (sd, acts + [a], r)


def decode_backward(theta, saved, eps, layers, g, sink, add_to=None):
    """The gradient with respect to ``o`` of ``sum_b g_b ll_b``; the parameters' gradients go to ``sink`` (see
    :func:`mlp_backward`). ``add_to``: an array the gradient is added to in place (and then the saved arrays
    are overwritten: one backward pass only)."""
    sd, acts, r = saved
    g_r = np.multiply(r, g[:, None].astype(r.dtype), out=None if add_to is None else r)
    g_z = mlp_backward(theta, acts, layers, g_r, sink, True, overwrite=True)
    if add_to is not None:
        _k.reparam_grad_add(g_z, sd, eps, add_to)
        return add_to
    return np.concatenate([g_z, 0.5 * g_z * sd * eps], axis=1)


@primitive
def decode_bernoulli(theta, o, eps, spins, layers):
    """The Bernoulli decoder path in one node: ``z = mu + exp(logvar / 2) eps`` from ``o = [mu | logvar]``, the
    decoder layers, and ``log p(spins | z)`` for ±1 spins (B,). One node instead of four: on small models
    autograd's per-node bookkeeping costs as much as the arithmetic."""
    ll, saved = decode_forward(theta, o, eps, spins, layers)
    _put("decode", ll, saved)
    return ll


def _decode_vjp(argnums, ans, args, kwargs):
    theta, o, eps, spins, layers = args
    saved = _get("decode", ans)
    if saved is None:
        saved = decode_forward(theta, o, eps, spins, layers)[1]

    def vjp(g):
        pieces = _Pieces()
        g_o = decode_backward(theta, saved, eps, layers, g, pieces)
        return tuple(_sparse(theta, pieces) if a == 0 else g_o for a in argnums)
    return vjp


defvjp_argnums(decode_bernoulli, _decode_vjp)


@primitive
def objective(ll, o, beta, kl=None):
    """``mean(beta KL(o) - ll)``: the beta-VAE loss of the batch, with the KL of ``o = [mu | logvar]`` (``kl``: the
    KL per row when already computed)."""
    return np.mean(beta * (kl_rows(o) if kl is None else kl) - ll)


def objective_vjp(argnums, ans, args, kwargs):
    ll, o, beta = args[:3]
    n = len(ll)

    def vjp(g):
        out = []
        for a in argnums:
            if a == 0:
                out.append(np.full(n, -g / n, ll.dtype))
            elif a == 1:
                out.append(kl_rows_and_grad(o, g * beta / n)[1])
            else:
                out.append(np.sum(kl_rows(o)) * g / n)
        return tuple(out)
    return vjp


defvjp_argnums(objective, objective_vjp)
