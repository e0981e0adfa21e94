"""Convolutional encoder trunk for 2D lattice spin configurations (periodic boundaries), HIPS-autograd ready.

The lattice is a torus, so every convolution wraps around: output site ``(i, j)`` of a layer with kernel
``k`` and stride ``s`` reads the input sites

    ``((i * s + a - r) mod H, (j * s + b - r) mod W)``,  ``a, b = 0 .. k - 1``,  ``r = (k - 1) // 2``

(centred for odd ``k``; one more offset after the centre than before it for even ``k``). The output of a
layer is ``ceil(H / s) x ceil(W / s)``; stacking layers halves the lattice at each one for ``s = 2``.

Implementation (im2col). For each ``(H, W, C_in, kernel, stride)`` an integer gather table
``idx[p, q]`` (``p``: output site, ``q``: column of the weight matrix) is built once and cached
(:func:`im2col_indices`, ``functools.lru_cache``). A layer is then one gather ``cols = x[:, idx]`` and one
matrix product ``cols @ W.T + b``, followed by the activation. The gather is an autograd primitive whose
vector-Jacobian product is the matching scatter-add (``np.bincount``, several times faster than the
``np.add.at`` that autograd would use for fancy indexing); the scatter's own VJP is the gather, so higher
derivatives work too.

Layouts (documented choices):

* activations are **channels-last** and flattened per sample: feature ``(i, j, c)`` of an ``H x W x C``
  layer is column ``(i * W + j) * C + c``. The single-channel input ``(n, L, M)`` is therefore just
  ``x.reshape(n, L * M)``, and the trunk's output ``(n, out_dim)`` with ``out_dim = H_out * W_out * C_last``
  is in this order;
* weights are **channels-first** like PyTorch's ``(C_out, C_in, k, k)``, flattened:
  ``W[o, c * k * k + a * k + b]`` multiplies input channel ``c`` at kernel offset ``(a, b)``.

Parameters are a list of ``{"W": (C_out, C_in * k * k), "b": (C_out,)}`` dicts, one per layer (a pytree that
``autograd.grad`` and the optimizers in ``autograd.misc.optimizers`` accept).
"""
import functools
import math
from typing import NamedTuple

import autograd.numpy as anp
import numpy as np
from autograd.extend import defvjp, primitive
from autograd.tracer import getval

from ..kernels.validation import check_int, check_real

__all__ = ["conv_apply", "conv_init", "conv_output_shapes", "im2col_indices"]


# --------------------------------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------------------------------
def _check_geometry(kernel, stride):
    return check_int("kernel", kernel, minimum=1), check_int("stride", stride, minimum=1)


def _check_input_shape(input_shape):
    try:
        shape = tuple(input_shape)
    except TypeError:
        raise ValueError(f"input_shape must be a pair (L, M), got {input_shape!r}") from None
    if len(shape) != 2:
        raise ValueError(f"input_shape must be a pair (L, M), got {input_shape!r}")
    return tuple(check_int(f"input_shape[{i}]", v, minimum=1) for i, v in enumerate(shape))


def conv_output_shapes(input_shape, n_layers, stride=2):
    """Spatial shapes after each layer.

    Parameters
    ----------
    input_shape : tuple of int
        Lattice shape ``(L, M)``.
    n_layers : int
        Number of convolution layers.
    stride : int, optional
        Stride of every layer.

    Returns
    -------
    list of tuple of int
        ``[(L, M), (ceil(L / s), ceil(M / s)), ...]``, ``n_layers + 1`` entries.
    """
    h, w = _check_input_shape(input_shape)
    stride = check_int("stride", stride, minimum=1)
    shapes = [(h, w)]
    for _ in range(check_int("n_layers", n_layers, minimum=0)):
        h, w = -(-h // stride), -(-w // stride)
        shapes.append((h, w))
    return shapes


# --------------------------------------------------------------------------------------------------
# im2col gather table (cached) and the gather / scatter-add primitives
# --------------------------------------------------------------------------------------------------
class Im2col(NamedTuple):
    """Cached gather table of one layer geometry.

    Attributes
    ----------
    idx : ndarray of intp, shape (P, C_in * k * k), read-only
        ``idx[p, q]`` = flattened channels-last input column read by output site ``p`` (row-major over the
        ``H_out x W_out`` output) for weight column ``q``.
    flat : ndarray of intp, shape (P * C_in * k * k,), read-only
        ``idx.ravel()``.
    n_in : int
        Input features per sample, ``H * W * C_in``.
    out_hw : tuple of int
        ``(H_out, W_out)``.
    """

    idx: np.ndarray
    flat: np.ndarray
    n_in: int
    out_hw: tuple


@functools.lru_cache(maxsize=64)
def im2col_indices(height, width, channels, kernel, stride):
    """Gather table of a periodic convolution, built once per geometry.

    Parameters
    ----------
    height, width, channels : int
        Input lattice ``H x W`` with ``C_in`` channels (channels-last, flattened per sample).
    kernel, stride : int
        Square kernel size ``k`` and stride ``s`` (both >= 1).

    Returns
    -------
    Im2col
        ``idx[p, c * k * k + a * k + b] = (((i*s + a - r) % H) * W + (j*s + b - r) % W) * C_in + c`` for
        output site ``p = i * W_out + j``, ``r = (k - 1) // 2``. Arrays are read-only (shared by the cache).
    """
    height = check_int("height", height, minimum=1)
    width = check_int("width", width, minimum=1)
    channels = check_int("channels", channels, minimum=1)
    kernel, stride = _check_geometry(kernel, stride)
    h_out, w_out = -(-height // stride), -(-width // stride)
    r = (kernel - 1) // 2
    offs = np.arange(kernel) - r
    rows = (np.arange(h_out)[:, None] * stride + offs[None, :]) % height  # (H_out, k)
    cols = (np.arange(w_out)[:, None] * stride + offs[None, :]) % width  # (W_out, k)
    # axes: (i, j, c, a, b)
    site = rows[:, None, None, :, None] * width + cols[None, :, None, None, :]
    idx = site * channels + np.arange(channels)[None, None, :, None, None]
    idx = np.ascontiguousarray(idx.reshape(h_out * w_out, channels * kernel * kernel), dtype=np.intp)
    flat = idx.ravel()
    idx.setflags(write=False)
    flat.setflags(write=False)
    return Im2col(idx, flat, height * width * channels, (h_out, w_out))


@primitive
def _gather(x, table):
    """``(n, n_in) -> (n, P * K)``: ``x[:, table.flat]``."""
    return np.take(x, table.flat, axis=1)


@primitive
def _scatter_add(g, table):
    """Adjoint of :func:`_gather`: ``(n, P * K) -> (n, n_in)``, summing the entries that share a source."""
    n = g.shape[0]
    keys = (np.arange(n, dtype=np.intp)[:, None] * table.n_in + table.flat[None, :]).ravel()
    out = np.bincount(keys, weights=np.ravel(g), minlength=n * table.n_in)
    return out.reshape(n, table.n_in).astype(g.dtype, copy=False)


defvjp(_gather, lambda ans, x, table: lambda g: _scatter_add(g, table))
defvjp(_scatter_add, lambda ans, g, table: lambda h: _gather(h, table))


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------
def conv_init(rng, input_shape, channels=(16, 32), kernel=3, stride=2, dtype=np.float64, init_scale=1.0):
    """Random parameters of the periodic convolutional trunk.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the initial weights.
    input_shape : tuple of int
        Lattice shape ``(L, M)`` (one input channel).
    channels : sequence of int, optional
        Output channels of each layer (at least one layer).
    kernel, stride : int, optional
        Square kernel size and stride of every layer (>= 1).
    dtype : numpy dtype, optional
        Floating dtype of the parameters (``float64`` or ``float32``); inputs are cast to it.
    init_scale : float, optional
        Weights are ``Normal(0, init_scale**2 / fan_in)`` with ``fan_in = C_in * k * k`` (LeCun / Glorot
        fan-in scaling: unit pre-activation variance for unit-variance inputs such as +-1 spins, the
        right regime for ``tanh``; use ``sqrt(2)`` for He scaling with ReLU). Biases start at zero.

    Returns
    -------
    params : list of dict
        ``[{"W": (C_out, C_in * k * k), "b": (C_out,)}, ...]``, weights channels-first flattened.
    out_dim : int
        Flattened feature size of :func:`conv_apply`'s output, ``H_out * W_out * channels[-1]``.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    input_shape = _check_input_shape(input_shape)
    kernel, stride = _check_geometry(kernel, stride)
    init_scale = check_real("init_scale", init_scale, positive=True)
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"dtype must be a floating dtype, got {dtype}")
    if isinstance(channels, (str, bytes)) or not hasattr(channels, "__iter__"):
        raise ValueError(f"channels must be a sequence of positive ints, got {channels!r}")
    channels = [check_int(f"channels[{i}]", c, minimum=1) for i, c in enumerate(channels)]
    if not channels:
        raise ValueError("channels must name at least one layer")
    params, c_in = [], 1
    for c_out in channels:
        fan_in = c_in * kernel * kernel
        w = rng.standard_normal((c_out, fan_in)) * (init_scale / math.sqrt(fan_in))
        params.append({"W": w.astype(dtype), "b": np.zeros(c_out, dtype=dtype)})
        c_in = c_out
    h, w = conv_output_shapes(input_shape, len(channels), stride)[-1]
    return params, h * w * channels[-1]


def _check_params(params, kernel):
    params = getval(params)  # unbox a traced list (autograd SequenceBox) / dicts
    if not isinstance(params, (list, tuple)) or not params:
        raise ValueError("params must be a non-empty list of {'W', 'b'} dicts (see conv_init)")
    c_in, k2 = 1, kernel * kernel
    for i, layer in enumerate(params):
        try:
            layer = getval(layer)
            w_shape, b_shape = np.shape(getval(layer["W"])), np.shape(getval(layer["b"]))
        except (TypeError, KeyError, IndexError):
            raise ValueError(f"params[{i}] must be a dict with keys 'W' and 'b'") from None
        if len(w_shape) != 2 or w_shape[1] != c_in * k2:
            raise ValueError(f"params[{i}]['W'] must have shape (C_out, {c_in} * {kernel}**2 = {c_in * k2}) "
                             f"for kernel={kernel}, got {w_shape}")
        if b_shape != (w_shape[0],):
            raise ValueError(f"params[{i}]['b'] must have shape ({w_shape[0]},), got {b_shape}")
        c_in = w_shape[0]


def conv_apply(params, x, input_shape, kernel=3, stride=2, activation=anp.tanh):
    """Features of a batch of lattice configurations: stacked periodic convolutions, flattened.

    Parameters
    ----------
    params : list of dict
        From :func:`conv_init` (with the same ``kernel``; ``stride`` must match too).
    x : array_like, shape (n, L, M) or (n, L * M)
        Configurations (e.g. +-1 spins), finite. Plain arrays are cast to the weights' dtype; autograd
        boxes (differentiating with respect to ``x``) are used as they are.
    input_shape : tuple of int
        Lattice shape ``(L, M)``.
    kernel, stride : int, optional
        Kernel size and stride of every layer (>= 1).
    activation : callable or None, optional
        Elementwise nonlinearity applied after every layer (an autograd-differentiable function, default
        ``anp.tanh``); ``None`` for linear layers.

    Returns
    -------
    ndarray, shape (n, out_dim)
        Channels-last flattened features of the last layer: column ``(i * W_out + j) * C_last + c``.

    Raises
    ------
    ValueError
        Bad ``kernel`` / ``stride`` / ``input_shape``, ``x`` of the wrong shape or with non-finite values,
        or parameters inconsistent with ``kernel``.
    """
    kernel, stride = _check_geometry(kernel, stride)
    height, width = _check_input_shape(input_shape)
    _check_params(params, kernel)
    xv = getval(x)
    if x is xv:  # raw data, not being differentiated: make it an array of the parameters' dtype
        dtype = np.result_type(getval(getval(params)[0]["W"]), np.float32)
        x = xv = np.asarray(x, dtype=dtype)
    shape = np.shape(xv)
    as_grid = len(shape) == 3 and shape[1:] == (height, width)
    as_flat = len(shape) == 2 and shape[1] == height * width
    if not (as_grid or as_flat):
        raise ValueError(f"x must have shape (n, {height}, {width}) or (n, {height * width}) for "
                         f"input_shape={(height, width)}, got {shape}")
    if not np.all(np.isfinite(xv)):
        raise ValueError("x contains non-finite values")
    n = shape[0]
    h = anp.reshape(x, (n, height * width))
    c_in = 1
    for layer in params:
        table = im2col_indices(height, width, c_in, kernel, stride)
        w = layer["W"]
        c_out = np.shape(getval(w))[0]
        n_sites = table.idx.shape[0]
        cols = anp.reshape(_gather(h, table), (n * n_sites, c_in * kernel * kernel))
        h = anp.dot(cols, anp.transpose(w)) + layer["b"]
        if activation is not None:
            h = activation(h)
        h = anp.reshape(h, (n, n_sites * c_out))
        (height, width), c_in = table.out_hw, c_out
    return h
