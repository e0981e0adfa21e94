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

__all__ = ["bernoulli_ll", "bernoulli_grad", "tempered_ll", "tempered_grad", "categorical_ll", "categorical_grad",
           "gaussian_ll", "gaussian_grad"]

_LOG_2PI = math.log(2.0 * math.pi)


@numba.njit(cache=True, inline="always")
def _softplus(g):
    """``log(1 + e^g)`` without overflow."""
    return max(g, 0.0) + math.log1p(math.exp(-abs(g)))


@numba.njit(cache=True, inline="always")
def _sigmoid(g):
    if g >= 0:
        return 1.0 / (1.0 + math.exp(-g))
    e = math.exp(g)
    return e / (1.0 + e)


@numba.njit(parallel=True, cache=True)
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


@numba.njit(parallel=True, cache=True)
def bernoulli_grad(logits, x, up):
    B, N = logits.shape
    out = np.empty_like(logits)
    for b in prange(B):
        u = np.float64(up[b])
        for i in range(N):
            out[b, i] = u * (x[b, i] - _sigmoid(np.float64(logits[b, i])))
    return out


@numba.njit(parallel=True, cache=True)
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


@numba.njit(parallel=True, cache=True)
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


@numba.njit(parallel=True, cache=True)
def categorical_ll(logits, x):
    B, N, q = logits.shape
    out = np.empty(B, logits.dtype)
    for b in prange(B):
        acc = 0.0
        for i in range(N):
            m = np.float64(logits[b, i, 0])
            for a in range(1, q):
                m = max(m, np.float64(logits[b, i, a]))
            s = 0.0
            for a in range(q):
                s += math.exp(np.float64(logits[b, i, a]) - m)
            acc += np.float64(logits[b, i, x[b, i]]) - m - math.log(s)
        out[b] = acc
    return out


@numba.njit(parallel=True, cache=True)
def categorical_grad(logits, x, up):
    B, N, q = logits.shape
    out = np.empty_like(logits)
    for b in prange(B):
        u = np.float64(up[b])
        for i in range(N):
            m = np.float64(logits[b, i, 0])
            for a in range(1, q):
                m = max(m, np.float64(logits[b, i, a]))
            s = 0.0
            for a in range(q):
                s += math.exp(np.float64(logits[b, i, a]) - m)
            for a in range(q):
                p = math.exp(np.float64(logits[b, i, a]) - m) / s
                out[b, i, a] = u * ((a == x[b, i]) - p)
    return out


@numba.njit(parallel=True, cache=True)
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


@numba.njit(parallel=True, cache=True)
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
