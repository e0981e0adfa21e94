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
from ._fastmath import exp_nonpos, softplus_parts

__all__ = ["bernoulli_ll", "bernoulli_ll_resid", "bernoulli_grad", "tempered_ll", "tempered_grad",
           "categorical_ll", "categorical_grad", "gaussian_ll", "gaussian_grad", "adam_update", "tanh_backward",
           "tanh_backward_into",
           "mixture_logpdf", "mixture_logpdf_grad", "normal_kl_parts", "gather_rows",
           "reparam_grad_add"]

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
def _bernoulli_row(logits, x, bias, out, resid, terms, b, pm1):
    """Row b: the per-site terms and residuals in one loop without a reduction (so it vectorises), then the
    row sum with eight float64 partial sums in a fixed order. ``pm1``: x holds ±1 spins, target (x + 1) / 2.
    ``bias``: empty, or added to the logits (the output layer's bias, added here rather than in a pass of its
    own)."""
    one = logits.dtype.type(1)
    zero = logits.dtype.type(0)
    half = logits.dtype.type(0.5)
    n = np.uint64(logits.shape[1])
    biased = bias.shape[0] > 0
    for i in range(n):
        g = logits[b, i] + bias[i] if biased else logits[b, i]
        xi = (x[b, i] + one) * half if pm1 else x[b, i]
        e, lp = softplus_parts(g)  # float32: vectorisable polynomials (kernels._fastmath)
        terms[b, i] = xi * g - (max(g, zero) + lp)
        resid[b, i] = xi - (one if g >= zero else e) / (one + e)  # one division: the sigmoid's branches share it
    out[b] = _row_sum(terms, b, n)


@numba.njit(cache=True, inline="always", error_model="numpy")
def _row_sum(a, b, n):
    """Row b's sum with eight float64 partial sums (locals, not an array: no allocation per row)."""
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = 0.0
    m = n - n % np.uint64(8)
    for i in range(np.uint64(0), m, np.uint64(8)):
        a0 += a[b, i]
        a1 += a[b, i + np.uint64(1)]
        a2 += a[b, i + np.uint64(2)]
        a3 += a[b, i + np.uint64(3)]
        a4 += a[b, i + np.uint64(4)]
        a5 += a[b, i + np.uint64(5)]
        a6 += a[b, i + np.uint64(6)]
        a7 += a[b, i + np.uint64(7)]
    for i in range(m, n):
        a0 += a[b, i]
    return ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))


@numba.njit(cache=True, inline="always", error_model="numpy")
def _bernoulli_any(logits, x, bias, out, resid, terms, b, pm1):
    if pm1:  # literal flags below: each compiled loop has one kind of target
        _bernoulli_row(logits, x, bias, out, resid, terms, b, True)
    else:
        _bernoulli_row(logits, x, bias, out, resid, terms, b, False)


@numba.njit(parallel=True, cache=True, error_model="numpy")
def _bernoulli_parallel_into(logits, x, pm1, bias, out, resid, terms):
    for b in prange(logits.shape[0]):
        _bernoulli_any(logits, x, bias, out, resid, terms, b, pm1)


@numba.njit(cache=True, error_model="numpy")
def _bernoulli_serial_into(logits, x, pm1, bias, out, resid, terms):
    for b in range(logits.shape[0]):
        _bernoulli_any(logits, x, bias, out, resid, terms, b, pm1)


def _ll_resid_buffers(logits):
    return np.empty(logits.shape[0], logits.dtype), np.empty_like(logits), np.empty_like(logits)


def _bernoulli_ll_resid_parallel(logits, x, pm1):
    out = _ll_resid_buffers(logits)
    _bernoulli_parallel_into(logits, x, pm1, logits[0, :0], *out)
    return out[:2]


def _bernoulli_ll_resid_serial(logits, x, pm1):
    out = _ll_resid_buffers(logits)
    _bernoulli_serial_into(logits, x, pm1, logits[0, :0], *out)
    return out[:2]


# Below this many elements a parallel region costs more to start than it saves (and, with BLAS threads
# spinning on the same cores, far more).
PARALLEL_MIN_SIZE = 1 << 16


def _parallel(size):
    """Whether to run the parallel kernel: a large array and more than one thread (on one thread the parallel
    region only costs; the serial kernel gives the same bits)."""
    return size >= PARALLEL_MIN_SIZE and numba.get_num_threads() > 1


def bernoulli_ll_resid(logits, x, pm1=False, out=None, bias=None):
    """``(ll, target - sigmoid(logits))``: the log-likelihood and, from the same ``exp``, the per-site gradient.
    The target is x (0/1), or ``(x + 1) / 2`` for ±1 spins with ``pm1=True``. ``out``: optional preallocated
    ``(ll (B,), residual, scratch)`` (the last two shaped like ``logits``), reused across calls. ``bias`` (N,):
    the logits are ``logits + bias`` (rounded as NumPy's sum)."""
    out = _ll_resid_buffers(logits) if out is None else out
    kernel = _bernoulli_parallel_into if _parallel(logits.size) else _bernoulli_serial_into
    kernel(logits, x, bool(pm1), logits[0, :0] if bias is None else bias, *out)
    return out[0], out[1]


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
    kernel = _adam_parallel if _parallel(p.size) else _adam_serial
    return kernel(p, g, m, v, lr_t, b1, b2, c2, eps) == 0


@numba.njit(cache=True, error_model="numpy")
def tanh_backward_into(g, h, col):
    """``g <- g (1 - h**2)`` in place and ``col`` <- its column sums (summed over rows in order), in one pass: the
    gradient through ``h = tanh(a)`` and the bias gradient of the layer."""
    one = g.dtype.type(1)
    col[:] = 0
    for b in range(g.shape[0]):
        for j in range(np.uint64(g.shape[1])):
            v = g[b, j] * (one - h[b, j] * h[b, j])
            g[b, j] = v
            col[j] += v


@numba.njit(cache=True, error_model="numpy")
def tanh_backward(g, h):
    """``(g (1 - h**2), column sums of it)`` as new arrays (:func:`tanh_backward_into`)."""
    out = g.copy()
    col = np.empty(g.shape[1], g.dtype)
    tanh_backward_into(out, h, col)
    return out, col


@numba.njit(cache=True, error_model="numpy")
def gather_rows(src, rows, out):
    """``out[r] = src[rows[r]]`` converted to out's dtype: a minibatch of float inputs gathered from int8 spins
    (a quarter of the memory traffic of gathering their float copies)."""
    for r in range(rows.shape[0]):
        i = rows[r]
        for j in range(src.shape[1]):
            out[r, j] = src[i, j]


@numba.njit(cache=True, error_model="numpy")
def reparam_grad_add(g_z, sd, eps, g_o):
    """``g_o += [g_z | g_z sd eps / 2]``: the gradient through ``z = mu + sd eps`` (``sd = exp(logvar / 2)``) with
    respect to ``o = [mu | logvar]``, added in place, each element rounded as the NumPy expression
    ``0.5 * g_z * sd * eps`` rounds it."""
    d = g_z.shape[1]
    half = g_o.dtype.type(0.5)
    for b in range(g_z.shape[0]):
        for j in range(d):
            g = g_z[b, j]
            g_o[b, j] += g
            g_o[b, d + j] += ((half * g) * sd[b, j]) * eps[b, j]


@numba.njit(cache=True, error_model="numpy")
def normal_kl_parts(o, e, scale, terms, grad):
    """For ``o = [mu | logvar]`` (B, 2d) and ``e = exp(logvar)``: ``terms = mu**2 + e - 1 - logvar`` (B, d), whose
    row sums halved are ``KL(N(mu, e) || N(0, I))``, and ``grad = scale [mu | (e - 1) / 2]``, ``scale`` times the
    KL's gradient with respect to o; in o's dtype, each element rounded as the NumPy expressions round it."""
    d = o.shape[1] // 2
    one = o.dtype.type(1)
    half = o.dtype.type(0.5)
    for b in range(o.shape[0]):
        for j in range(d):
            mu = o[b, j]
            ej = e[b, j]
            terms[b, j] = ((mu * mu + ej) - one) - o[b, d + j]
            grad[b, j] = scale * mu
            grad[b, d + j] = scale * (half * (ej - one))


@numba.njit(cache=True, error_model="numpy")
def _mixture_setup(logits, means, logvars):
    """Log-weights ``log softmax(logits)``, the means and precisions ``exp(-v)`` transposed to (d, K) (the loops over
    the components vectorise) and the constants ``log w_k - (sum_j v_kj + d log 2 pi) / 2``, float64."""
    K, d = logvars.shape
    m = -np.inf
    for k in range(K):
        m = max(m, np.float64(logits[k]))
    s = 0.0
    for k in range(K):
        s += math.exp(np.float64(logits[k]) - m)
    logw = np.empty(K)
    mean_t = np.empty((d, K))
    prec_t = np.empty((d, K))
    const = np.empty(K)
    for k in range(K):
        logw[k] = np.float64(logits[k]) - (m + math.log(s))
        acc = 0.0
        for j in range(d):
            v = np.float64(logvars[k, j])
            mean_t[j, k] = means[k, j]
            prec_t[j, k] = math.exp(-v)
            acc += v
        const[k] = logw[k] - 0.5 * (acc + d * _LOG_2PI)
    return logw, mean_t, prec_t, const


@numba.njit(cache=True, error_model="numpy")
def mixture_logpdf(z, logits, means, logvars, out, resp):
    """``log p(z_b)`` (into ``out`` (B,)) of the mixture ``sum_k softmax(logits)_k N(z; means_k, diag
    exp(logvars_k))``, and the responsibilities ``p(k | z_b)`` (into ``resp`` (B, K), float64) that
    :func:`mixture_logpdf_grad` needs. float64 arithmetic, stable log-sum-exp, sums in a fixed order."""
    B, d = z.shape
    K = np.uint64(logits.shape[0])
    _, mean_t, prec_t, const = _mixture_setup(logits, means, logvars)
    one = z.dtype.type(1)
    for b in range(B):
        a = resp[b]
        a[:] = 0.0
        for j in range(d):
            zj = np.float64(z[b, j])
            for k in range(K):
                t = zj - mean_t[j, k]
                a[k] += t * t * prec_t[j, k]
        m = -np.inf
        for k in range(K):
            a[k] = const[k] - 0.5 * a[k]
            m = max(m, a[k])
        for k in range(K):
            a[k] = exp_nonpos(a[k] - m, one)  # float32 models: a vectorised float32 exp
        s = 0.0
        for k in range(K):
            s += a[k]
        out[b] = m + math.log(s)
        for k in range(K):
            a[k] /= s


@numba.njit(cache=True, error_model="numpy")
def mixture_logpdf_grad(z, logits, means, logvars, resp, g, gz, glogits, gmeans, glogvars):
    """Gradients of ``sum_b g_b log p(z_b)`` (:func:`mixture_logpdf`, whose ``resp`` it takes) with respect to z,
    the logits, the means and the log-variances, written into the last four arrays (float64 sums)."""
    B, d = z.shape
    K = np.uint64(logits.shape[0])
    logw, mean_t, prec_t, _ = _mixture_setup(logits, means, logvars)
    gl = np.zeros(K)
    gm = np.zeros((d, K))
    gv = np.zeros((d, K))
    r = np.empty(K)
    g_total = 0.0
    for b in range(B):
        gb = np.float64(g[b])
        g_total += gb
        for k in range(K):
            r[k] = resp[b, k] * gb
            gl[k] += r[k]
        for j in range(d):
            zj = np.float64(z[b, j])
            acc = 0.0
            for k in range(K):
                t = zj - mean_t[j, k]
                u = r[k] * t * prec_t[j, k]  # r (z - m) / var
                gm[j, k] += u
                gv[j, k] += u * t
                acc += u
            gz[b, j] = -acc
    for k in range(K):
        glogits[k] = gl[k] - g_total * math.exp(logw[k])
        for j in range(d):
            gmeans[k, j] = gm[j, k]
            glogvars[k, j] = 0.5 * (gv[j, k] - gl[k])
