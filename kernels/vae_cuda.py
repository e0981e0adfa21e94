"""Decoder log-likelihoods of a factorized VAE and their gradients on the GPU (Numba-CUDA).

Same functions, arguments and results as :mod:`fastmf.kernels.vae_cpu` (per-row log-likelihoods (B,) and the
vector-Jacobian products of ``sum_b up[b] ll[b]``), plus a keyword ``block_size``:

* ``*_ll``: one block per batch row; its threads stride over the sites, each accumulates its sites in
  float64, and the block adds the partial sums by a shared-memory tree reduction (float64).
* ``*_grad``: one thread per (row, site) (categorical: the thread handles the q logits of its site).

The per-site math is in ``cuda.jit(device=True)`` functions; softplus and sigmoid are the numerically stable
formulas of :mod:`fastmf.kernels.vae_logic` that the CPU kernels compile too. Everything is
computed in float64; outputs have the dtype of the decoder output they belong to (float32 or float64), as on
the CPU. Results equal the CPU's up to rounding (the order of the per-row sum differs; ``exp`` / ``log`` on a
GPU may differ from the CPU's in the last bit).

Host or device arrays: every array argument may be a NumPy array or a device array (a Numba device array or
any object with ``__cuda_array_interface__``, e.g. a CuPy array; the simulator accepts only its own device
arrays). If *any* array argument is a device array, host arguments are copied to the device and the results
are Numba device arrays (zero-copy ``cupy.asarray(out)`` works on a real GPU); if all are host arrays, they are
copied in and the results come back as NumPy arrays. Device inputs are used in place (any strides).

This module imports ``numba.cuda`` (importing it needs no GPU); call its functions only when CUDA (or the
simulator, ``NUMBA_ENABLE_CUDASIM=1``) is available, see :func:`is_available`.
"""
import math

import numba
import numpy as np
from numba import cuda

from . import vae_logic as _vl
from ._checks import MAX_BLOCK, launch_config
from ._cuda_launch import block_sum, device_view, is_available

__all__ = ["DEFAULT_BLOCK_SIZE", "bernoulli_grad", "bernoulli_ll", "categorical_grad", "categorical_ll",
           "gaussian_grad", "gaussian_ll", "is_available", "tempered_grad", "tempered_ll"]

DEFAULT_BLOCK_SIZE = 128
_LOG_2PI = math.log(2.0 * math.pi)

# vae_logic's formulas, which vae_cpu compiles too (one source of truth for the overflow-safe forms).
_softplus = cuda.jit(device=True)(_vl.softplus)
_sigmoid = cuda.jit(device=True)(_vl.sigmoid)


# ----------------------------------------------------------------------------------------------
# Per-site math (float64 in, float64 out).

@cuda.jit(device=True)
def _bernoulli_term(g, x):
    return x * g - _softplus(g)


@cuda.jit(device=True)
def _tempered_term(h, t, x):
    return _bernoulli_term(_sigmoid(t) * h, x)


@cuda.jit(device=True)
def _gaussian_term(mu, v, x):
    d = x - mu
    return -0.5 * (d * d * math.exp(-v) + v + _LOG_2PI)


@cuda.jit(device=True)
def _max_and_sum(logits, b, i):
    """Max of the q logits of site (b, i) and ``sum_a exp(logits[a] - max)``, as on the CPU."""
    m = float(logits[b, i, 0])
    for a in range(1, logits.shape[2]):
        m = max(m, float(logits[b, i, a]))
    s = 0.0
    for a in range(logits.shape[2]):
        s += math.exp(float(logits[b, i, a]) - m)
    return m, s


@cuda.jit(device=True)
def _categorical_term(logits, b, i, x):
    m, s = _max_and_sum(logits, b, i)
    return float(logits[b, i, x]) - m - math.log(s)


@cuda.jit(device=True)
def _store_row_sum(acc, out, b):
    """Write the sum of ``acc`` over the threads of the block to ``out[b]`` (float64 block reduction); every
    thread of the block must call it."""
    scratch = cuda.shared.array(MAX_BLOCK, numba.float64)
    total = block_sum(acc, scratch)
    if cuda.threadIdx.x == 0:
        out[b] = total


# ----------------------------------------------------------------------------------------------
# Log-likelihood kernels: block b sums row b. Every kernel takes two decoder outputs ``(a, c)``, the data ``x``
# and ``out``; decoders with one output pass it twice (their site term ignores ``c``).

def _ll_kernel(site):
    """The kernel ``(a, c, x, out)`` that writes ``sum_i site(a, c, x, b, i)`` to ``out[b]``, one block per row."""
    @cuda.jit
    def kernel(a, c, x, out):
        b = cuda.blockIdx.x
        acc = 0.0
        for i in range(cuda.threadIdx.x, a.shape[1], cuda.blockDim.x):
            acc += site(a, c, x, b, i)
        _store_row_sum(acc, out, b)
    return kernel


@cuda.jit(device=True)
def _bernoulli_site(logits, _, x, b, i):
    return _bernoulli_term(float(logits[b, i]), float(x[b, i]))


@cuda.jit(device=True)
def _tempered_site(h, t, x, b, i):
    return _tempered_term(float(h[b, i]), float(t[b, i]), float(x[b, i]))


@cuda.jit(device=True)
def _categorical_site(logits, _, x, b, i):
    return _categorical_term(logits, b, i, x[b, i])


@cuda.jit(device=True)
def _gaussian_site(mean, logvar, x, b, i):
    return _gaussian_term(float(mean[b, i]), float(logvar[b, i]), float(x[b, i]))


_bernoulli_ll_kernel = _ll_kernel(_bernoulli_site)
_tempered_ll_kernel = _ll_kernel(_tempered_site)
_categorical_ll_kernel = _ll_kernel(_categorical_site)
_gaussian_ll_kernel = _ll_kernel(_gaussian_site)


# ----------------------------------------------------------------------------------------------
# Gradient kernels: thread k handles site (k // N, k % N).

@cuda.jit
def _bernoulli_grad_kernel(logits, x, up, out):
    k = cuda.grid(1)
    N = logits.shape[1]
    if k < logits.shape[0] * N:
        b, i = k // N, k % N
        out[b, i] = float(up[b]) * (float(x[b, i]) - _sigmoid(float(logits[b, i])))


@cuda.jit
def _tempered_grad_kernel(h, t, x, up, dh, dt):
    k = cuda.grid(1)
    N = h.shape[1]
    if k < h.shape[0] * N:
        b, i = k // N, k % N
        hb = float(h[b, i])
        beta = _sigmoid(float(t[b, i]))
        r = float(up[b]) * (float(x[b, i]) - _sigmoid(beta * hb))
        dh[b, i] = r * beta
        dt[b, i] = r * hb * beta * (1.0 - beta)


@cuda.jit
def _categorical_grad_kernel(logits, x, up, out):
    k = cuda.grid(1)
    N = logits.shape[1]
    if k < logits.shape[0] * N:
        b, i = k // N, k % N
        u = float(up[b])
        m, s = _max_and_sum(logits, b, i)
        xi = x[b, i]
        for a in range(logits.shape[2]):
            p = math.exp(float(logits[b, i, a]) - m) / s
            out[b, i, a] = u * ((1.0 if a == xi else 0.0) - p)


@cuda.jit
def _gaussian_grad_kernel(mean, logvar, x, up, dm, dv):
    k = cuda.grid(1)
    N = mean.shape[1]
    if k < mean.shape[0] * N:
        b, i = k // N, k % N
        iv = math.exp(-float(logvar[b, i]))
        d = float(x[b, i]) - float(mean[b, i])
        u = float(up[b])
        dm[b, i] = u * d * iv
        dv[b, i] = u * 0.5 * (d * d * iv - 1.0)


# ----------------------------------------------------------------------------------------------
# Host side.

def _inputs(names, arrays, n_float, ndim0=2):
    """Device views of ``arrays`` (host arrays copied in) and whether any input was a device array.

    The first ``n_float`` arrays are decoder outputs (float32 / float64) of the first one's shape (ndim
    ``ndim0``); the next must have that shape's first two axes ((B, N): the data ``x``); an optional last
    one is ``up`` (B,).
    """
    views = [device_view(a) for a in arrays]
    on_device = any(v is not None for v in views)
    devs = [v if v is not None else cuda.to_device(np.ascontiguousarray(a)) for a, v in zip(arrays, views)]
    shape = tuple(devs[0].shape)
    if len(shape) != ndim0:
        raise ValueError(f"{names[0]} must have {ndim0} dimensions, got shape {shape}")
    for name, d in zip(names[:n_float], devs[:n_float]):
        if d.dtype not in (np.float32, np.float64):
            raise TypeError(f"{name} must be float32 or float64, got {d.dtype}")
        if tuple(d.shape) != shape:
            raise ValueError(f"{name} must have shape {shape}, got {tuple(d.shape)}")
    expected = [shape[:2]] + ([shape[:1]] if len(devs) > n_float + 1 else [])
    for name, d, exp in zip(names[n_float:], devs[n_float:], expected):
        if tuple(d.shape) != exp:
            raise ValueError(f"{name} must have shape {exp}, got {tuple(d.shape)}")
    return devs, on_device


def _ll(kernel, names, arrays, n_float, block_size, ndim0=2):
    devs, on_device = _inputs(names, arrays, n_float, ndim0)
    B, N = devs[0].shape[:2]
    _, block = launch_config(N, block_size)  # validates block_size; block <= N (no idle threads)
    out = cuda.device_array(B, devs[0].dtype)
    outputs = devs[:n_float] if n_float == 2 else [devs[0], devs[0]]  # see the log-likelihood kernels
    if B:
        kernel[B, block](*outputs, devs[n_float], out)
    return out if on_device else out.copy_to_host()


def _grad(kernel, names, arrays, n_float, n_out, block_size, ndim0=2):
    devs, on_device = _inputs(names, arrays, n_float, ndim0)
    B, N = devs[0].shape[:2]
    grid, block = launch_config(B * N, block_size)
    outs = [cuda.device_array(d.shape, d.dtype) for d in devs[:n_out]]
    if B * N:
        kernel[grid, block](*devs, *outs)
    outs = outs if on_device else [o.copy_to_host() for o in outs]
    return outs[0] if n_out == 1 else tuple(outs)


def bernoulli_ll(logits, x, *, block_size=DEFAULT_BLOCK_SIZE):
    """``sum_i x_i g_i - softplus(g_i)`` per row; logits (B, N) float32/64, x (B, N) in {0, 1}. As
    :func:`fastmf.kernels.vae_cpu.bernoulli_ll`; ``block_size``: threads per row's block (1..1024)."""
    return _ll(_bernoulli_ll_kernel, ("logits", "x"), (logits, x), 1, block_size)


def bernoulli_grad(logits, x, up, *, block_size=DEFAULT_BLOCK_SIZE):
    """``up[b] (x - sigmoid(g))``, (B, N) in the logits' dtype."""
    return _grad(_bernoulli_grad_kernel, ("logits", "x", "up"), (logits, x, up), 1, 1, block_size)


def tempered_ll(h, t, x, *, block_size=DEFAULT_BLOCK_SIZE):
    """Bernoulli log-likelihood with logits ``sigmoid(t) h``; output in h's dtype."""
    return _ll(_tempered_ll_kernel, ("h", "t", "x"), (h, t, x), 2, block_size)


def tempered_grad(h, t, x, up, *, block_size=DEFAULT_BLOCK_SIZE):
    """``(dh, dt)`` = ``(r beta, r h beta (1 - beta))``, ``r = up[b] (x - sigmoid(beta h))``, ``beta =
    sigmoid(t)``; dh in h's dtype, dt in t's."""
    return _grad(_tempered_grad_kernel, ("h", "t", "x", "up"), (h, t, x, up), 2, 2, block_size)


def categorical_ll(logits, x, *, block_size=DEFAULT_BLOCK_SIZE):
    """``sum_i g[i, x_i] - logsumexp(g[i])`` per row; logits (B, N, q), x integer states (B, N) in 0..q-1
    (not checked, as on the CPU)."""
    return _ll(_categorical_ll_kernel, ("logits", "x"), (logits, x), 1, block_size, ndim0=3)


def categorical_grad(logits, x, up, *, block_size=DEFAULT_BLOCK_SIZE):
    """``up[b] (onehot(x) - softmax(g))``, (B, N, q) in the logits' dtype."""
    return _grad(_categorical_grad_kernel, ("logits", "x", "up"), (logits, x, up), 1, 1, block_size, ndim0=3)


def gaussian_ll(mean, logvar, x, *, block_size=DEFAULT_BLOCK_SIZE):
    """``-sum_i ((x - mu)^2 exp(-v) + v + log 2 pi) / 2`` per row; output in mean's dtype."""
    return _ll(_gaussian_ll_kernel, ("mean", "logvar", "x"), (mean, logvar, x), 2, block_size)


def gaussian_grad(mean, logvar, x, up, *, block_size=DEFAULT_BLOCK_SIZE):
    """``(dmean, dlogvar)`` = ``up[b] (d e^-v, (d^2 e^-v - 1) / 2)``, ``d = x - mu``; in mean's / logvar's
    dtype."""
    return _grad(_gaussian_grad_kernel, ("mean", "logvar", "x", "up"), (mean, logvar, x, up), 2, 2, block_size)
