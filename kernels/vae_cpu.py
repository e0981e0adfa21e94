"""Decoder log-likelihoods of a factorized VAE and their gradients: fused, batched Numba kernels (CPU).

Each ``*_ll`` returns the log-likelihood of every sample, ``sum_i log p(x_i | decoder outputs)`` (shape (B,)),
in one pass over the batch x sites; each ``*_grad`` returns the gradient of ``sum_b up[b] ll[b]`` with respect
to the decoder outputs (the vector-Jacobian product that autograd needs), again in one pass. Rows run in
parallel (``prange``); sums over sites accumulate in float64 whatever the input dtype (float32 or float64),
and outputs have the dtype of the decoder outputs.

* Bernoulli, ``x in {0, 1}``, logits g: ``x g - softplus(g)``; gradient ``x - sigmoid(g)``.
* Tempered Bernoulli (beta^2-VAE): logits ``g = beta h`` with ``beta = sigmoid(t)`` in (0, 1) per site.
* Categorical, ``x in 0..q-1``, logits (B, N, q): ``g[x] - logsumexp(g)``; gradient ``onehot(x) - softmax(g)``.
* Gaussian, real x, mean mu and log-variance v: ``-((x - mu)**2 exp(-v) + v + log 2 pi) / 2``.
"""
import math

import numba
import numpy as np
from numba import prange

from . import vae_logic as _vl
from ._fastmath import softplus_parts

__all__ = ["bernoulli_ll", "bernoulli_ll_resid", "bernoulli_grad", "tempered_ll", "tempered_grad",
           "categorical_ll", "categorical_grad", "gaussian_ll", "gaussian_grad", "adam_update", "tanh_backward"]

_LOG_2PI = math.log(2.0 * math.pi)


# The per-site formulas of vae_logic, shared with the GPU kernels (vae_cuda).
_softplus = numba.njit(cache=True, inline="always", error_model="numpy")(_vl.softplus)
_sigmoid = numba.njit(cache=True, inline="always", error_model="numpy")(_vl.sigmoid)


@numba.njit(parallel=True, cache=True, error_model="numpy")
def bernoulli_ll(logits, x):
    B, N = logits.shape
    out = np.empty(B, logits.dtype)
    for b in prange(B):
        acc = 0.0
        for i in range(N):
            g = np.float64(logits[b, i])
            acc += x[b, i] * g - _softplus(g)
        out[b] = acc
    return out


@numba.njit(cache=True, inline="always", error_model="numpy")
def _bernoulli_row(logits, x, out, resid, terms, b, pm1):
    """Row b: the per-site terms and residuals in one loop without a reduction (so it vectorises), then the
    row sum with eight float64 partial sums in a fixed order. ``pm1``: x holds ±1 spins, target (x + 1) / 2."""
    one = logits.dtype.type(1)
    zero = logits.dtype.type(0)
    half = logits.dtype.type(0.5)
    n = np.uint64(logits.shape[1])
    for i in range(n):
        g = logits[b, i]
        xi = (x[b, i] + one) * half if pm1 else x[b, i]
        e, lp = softplus_parts(g)  # float32: vectorisable polynomials (kernels._fastmath)
        terms[b, i] = xi * g - (max(g, zero) + lp)
        resid[b, i] = xi - (one / (one + e) if g >= zero else e / (one + e))
    out[b] = _row_sum(terms, b, n)


@numba.njit(cache=True, inline="always", error_model="numpy")
def _row_sum(a, b, n):
    acc = np.zeros(8)
    m = n - n % np.uint64(8)
    for i in range(np.uint64(0), m, np.uint64(8)):
        for k in range(8):
            acc[k] += a[b, i + np.uint64(k)]
    for i in range(m, n):
        acc[0] += a[b, i]
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))


@numba.njit(cache=True, inline="always", error_model="numpy")
def _bernoulli_any(logits, x, out, resid, terms, b, pm1):
    if pm1:  # literal flags below: each compiled loop has one kind of target
        _bernoulli_row(logits, x, out, resid, terms, b, True)
    else:
        _bernoulli_row(logits, x, out, resid, terms, b, False)


@numba.njit(parallel=True, cache=True, error_model="numpy")
def _bernoulli_ll_resid_parallel(logits, x, pm1):
    out, resid, terms = np.empty(logits.shape[0], logits.dtype), np.empty_like(logits), np.empty_like(logits)
    for b in prange(logits.shape[0]):
        _bernoulli_any(logits, x, out, resid, terms, b, pm1)
    return out, resid


@numba.njit(cache=True, error_model="numpy")
def _bernoulli_ll_resid_serial(logits, x, pm1):
    out, resid, terms = np.empty(logits.shape[0], logits.dtype), np.empty_like(logits), np.empty_like(logits)
    for b in range(logits.shape[0]):
        _bernoulli_any(logits, x, out, resid, terms, b, pm1)
    return out, resid


# Below this many elements a parallel region costs more to start than it saves (and, with BLAS threads
# spinning on the same cores, far more).
PARALLEL_MIN_SIZE = 1 << 16


def bernoulli_ll_resid(logits, x, pm1=False):
    """``(ll, target - sigmoid(logits))``: the log-likelihood and, from the same ``exp``, the per-site gradient.
    The target is x (0/1), or ``(x + 1) / 2`` for ±1 spins with ``pm1=True``."""
    kernel = _bernoulli_ll_resid_parallel if logits.size >= PARALLEL_MIN_SIZE else _bernoulli_ll_resid_serial
    return kernel(logits, x, bool(pm1))


@numba.njit(parallel=True, cache=True, error_model="numpy")
def bernoulli_grad(logits, x, up):
    B, N = logits.shape
    out = np.empty_like(logits)
    for b in prange(B):
        u = np.float64(up[b])
        for i in range(N):
            out[b, i] = u * (x[b, i] - _sigmoid(np.float64(logits[b, i])))
    return out


@numba.njit(parallel=True, cache=True, error_model="numpy")
def tempered_ll(h, t, x):
    B, N = h.shape
    out = np.empty(B, h.dtype)
    for b in prange(B):
        acc = 0.0
        for i in range(N):
            g = _sigmoid(np.float64(t[b, i])) * np.float64(h[b, i])
            acc += x[b, i] * g - _softplus(g)
        out[b] = acc
    return out


@numba.njit(parallel=True, cache=True, error_model="numpy")
def tempered_grad(h, t, x, up):
    """Gradients with respect to h and t of ``sum_b up[b] ll[b]``: ``r beta`` and ``r h beta (1 - beta)`` with
    ``r = x - sigmoid(beta h)``."""
    B, N = h.shape
    dh = np.empty_like(h)
    dt = np.empty_like(t)
    for b in prange(B):
        u = np.float64(up[b])
        for i in range(N):
            hb = np.float64(h[b, i])
            beta = _sigmoid(np.float64(t[b, i]))
            r = u * (x[b, i] - _sigmoid(beta * hb))
            dh[b, i] = r * beta
            dt[b, i] = r * hb * beta * (1.0 - beta)
    return dh, dt


@numba.njit(cache=True, inline="always", error_model="numpy")
def _max_and_sum(logits, b, i, q):
    """``(m, sum_a exp(g_a - m))`` over the q logits of site i of row b, m their maximum (stable softmax)."""
    m = np.float64(logits[b, i, 0])
    for a in range(1, q):
        m = max(m, np.float64(logits[b, i, a]))
    s = 0.0
    for a in range(q):
        s += math.exp(np.float64(logits[b, i, a]) - m)
    return m, s


@numba.njit(parallel=True, cache=True, error_model="numpy")
def categorical_ll(logits, x):
    B, N, q = logits.shape
    out = np.empty(B, logits.dtype)
    for b in prange(B):
        acc = 0.0
        for i in range(N):
            m, s = _max_and_sum(logits, b, i, q)
            acc += np.float64(logits[b, i, x[b, i]]) - m - math.log(s)
        out[b] = acc
    return out


@numba.njit(parallel=True, cache=True, error_model="numpy")
def categorical_grad(logits, x, up):
    B, N, q = logits.shape
    out = np.empty_like(logits)
    for b in prange(B):
        u = np.float64(up[b])
        for i in range(N):
            m, s = _max_and_sum(logits, b, i, q)
            for a in range(q):
                p = math.exp(np.float64(logits[b, i, a]) - m) / s
                out[b, i, a] = u * ((a == x[b, i]) - p)
    return out


@numba.njit(parallel=True, cache=True, error_model="numpy")
def gaussian_ll(mean, logvar, x):
    B, N = mean.shape
    out = np.empty(B, mean.dtype)
    for b in prange(B):
        acc = 0.0
        for i in range(N):
            v = np.float64(logvar[b, i])
            d = np.float64(x[b, i]) - np.float64(mean[b, i])
            acc -= 0.5 * (d * d * math.exp(-v) + v + _LOG_2PI)
        out[b] = acc
    return out


@numba.njit(parallel=True, cache=True, error_model="numpy")
def gaussian_grad(mean, logvar, x, up):
    B, N = mean.shape
    dm = np.empty_like(mean)
    dv = np.empty_like(logvar)
    for b in prange(B):
        u = np.float64(up[b])
        for i in range(N):
            iv = math.exp(-np.float64(logvar[b, i]))
            d = np.float64(x[b, i]) - np.float64(mean[b, i])
            dm[b, i] = u * d * iv
            dv[b, i] = u * 0.5 * (d * d * iv - 1.0)
    return dm, dv


@numba.njit(cache=True, inline="always", error_model="numpy")
def _adam_range(p, g, m, v, lr_t, b1, b2, c2, eps, i0, i1):
    """Adam on elements i0..i1-1; returns how many gradients there were not finite (those elements then hold
    garbage: the caller restores the parameters)."""
    t = p.dtype.type
    beta1, beta2, c = t(b1), t(b2), t(c2)
    lr = t(lr_t)
    e = t(eps)
    bad = 0
    for i in range(np.uint64(i0), np.uint64(i1)):  # unsigned: no negative-index code, the loop vectorises
        gi = g[i]
        bad += not (abs(gi) < np.inf)  # NaN or inf
        mi = beta1 * m[i] + (t(1) - beta1) * gi
        vi = beta2 * v[i] + (t(1) - beta2) * gi * gi
        m[i] = mi
        v[i] = vi
        p[i] -= lr * mi / (math.sqrt(vi / c) + e)
    return bad


@numba.njit(parallel=True, cache=True, error_model="numpy")
def _adam_parallel(p, g, m, v, lr_t, b1, b2, c2, eps):
    n_chunks = 64
    bad = np.zeros(n_chunks, np.int64)
    for k in prange(n_chunks):
        bad[k] = _adam_range(p, g, m, v, lr_t, b1, b2, c2, eps, k * p.size // n_chunks,
                             (k + 1) * p.size // n_chunks)
    return bad.sum()


@numba.njit(cache=True, error_model="numpy")
def _adam_serial(p, g, m, v, lr_t, b1, b2, c2, eps):
    return _adam_range(p, g, m, v, lr_t, b1, b2, c2, eps, 0, p.size)


def adam_update(p, g, m, v, lr_t, b1, b2, c2, eps):
    """One Adam step in place on flat arrays (element-wise, so the result does not depend on the split):
    ``m = b1 m + (1 - b1) g``, ``v = b2 v + (1 - b2) g**2``, ``p -= lr_t m / (sqrt(v / c2) + eps)`` with the
    first bias correction folded into ``lr_t``; arithmetic in the parameters' dtype. ``error_model="numpy"``
    (no division-by-zero branch) lets the loop vectorise. Returns True if every gradient was finite."""
    kernel = _adam_parallel if p.size >= PARALLEL_MIN_SIZE else _adam_serial
    return kernel(p, g, m, v, lr_t, b1, b2, c2, eps) == 0


@numba.njit(cache=True, error_model="numpy")
def tanh_backward(g, h):
    """``(g (1 - h**2), column sums of it)`` in one pass: the gradient through ``h = tanh(a)`` and the bias
    gradient of the layer."""
    out = np.empty_like(g)
    col = np.zeros(g.shape[1], g.dtype)
    one = g.dtype.type(1)
    for b in range(g.shape[0]):
        for j in range(np.uint64(g.shape[1])):
            v = g[b, j] * (one - h[b, j] * h[b, j])
            out[b, j] = v
            col[j] += v
    return out, col
