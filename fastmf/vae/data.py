"""Data formats of the VAE's decoders: validation, encoder inputs and decoder targets, and sampling.

* bernoulli, beta2: int ±1 spins (n, N) or lattice configurations (n, L, M); target ``x = (s + 1) / 2``.
* categorical: integer states ``0..q-1`` (uint8); encoder input one-hot.
* nematic: axis indices ``0..D-1`` or unit vectors (n, N, 3), assigned to the nearest axis (``u = -u``).
* gaussian: finite real values.
"""
import numpy as np

from ..io.files import check_memory
from . import sizes

__all__ = ["prepare", "check_axes", "decoder_means", "effective_fields", "draw"]


def check_axes(axes):
    a = np.asarray(axes, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 3 or len(a) < 2 or not np.isfinite(a).all() or \
            not np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-6):
        raise ValueError(f"axes must be an array (D >= 2, 3) of unit vectors, got shape {a.shape}")
    return a


def _sites_shape(vae, X, fitting):
    """(array, n, site shape) with the site shape checked against the fitted one."""
    X = np.asarray(X)
    vector = vae.decoder == "nematic" and X.dtype.kind == "f"
    site_shape = X.shape[1:-1] if vector else X.shape[1:]
    if X.ndim < 2 or len(X) == 0 or len(site_shape) not in (1, 2) or min(site_shape) < 1:
        expected = "(n, N, 3) or (n, L, M, 3)" if vector else "(n, N) or (n, L, M)"
        raise ValueError(f"data must be a non-empty array {expected}, got shape {X.shape}")
    if vector and X.shape[-1] != 3:
        raise ValueError(f"nematic vector data must have shape (n, N, 3), got {X.shape}")
    if vae.encoder == "conv" and len(site_shape) != 2:
        raise ValueError(f"the conv encoder needs lattice data (n, L, M), got shape {X.shape}")
    if fitting:
        vae.input_shape_ = tuple(int(s) for s in site_shape)
        vae.n_sites_ = int(np.prod(site_shape))
    elif tuple(site_shape) != tuple(vae.input_shape_):
        raise ValueError(f"data sites have shape {tuple(site_shape)}, the model was fitted on {vae.input_shape_}")
    return X, len(X), vector


def _check_memory(vae, X, q, vector, fitting):
    """Refuse (before allocating) the checks' temporaries, the encoder inputs and targets, and for a fit the
    training, that do not fit."""
    n = len(X)
    nbytes = sizes.data_bytes(vae, n, vae.n_sites_, q, vector) + X.nbytes + X.size
    if fitting:
        sizes.check_fit(vae, n, vae.input_shape_, q, nbytes)
    else:
        check_memory(nbytes, f"the encoder inputs of {n} configurations of {vae.n_sites_} sites")


def prepare(vae, X, fitting=False, floats=True):
    """``(encoder input (n, width), decoder target)`` in the model's dtype, after checking the data (and, before
    allocating, the memory: :mod:`fastmf.vae.sizes`). ``floats=False`` (Bernoulli decoders): ``(the int8 spins
    (n, N), None)``, without float copies of the data."""
    X, n, vector = _sites_shape(vae, X, fitting)
    dtype = np.dtype(vae.dtype)
    N = vae.n_sites_
    kind = vae.decoder
    if kind in ("bernoulli", "beta2"):
        _check_memory(vae, X, 2, False, fitting)
        if X.dtype.kind not in "iub" or not _all_pm1(X):
            raise ValueError(f"the {kind} decoder needs ±1 integer spins (for 0/1 data use 2 * x - 1)")
        if fitting:
            vae.n_states_, vae.data_kind_ = 2, "spins"
        if not floats:
            return X.reshape(n, N).astype(np.int8, copy=False), None
        s = X.reshape(n, N).astype(dtype)
        return s, (s + 1) / 2
    if kind == "gaussian":
        _check_memory(vae, X, 1, False, fitting)
        if X.dtype.kind not in "iuf" or not np.isfinite(X).all():
            raise ValueError("the gaussian decoder needs finite real data (no NaN or inf)")
        x = X.reshape(n, N).astype(dtype)
        if fitting:
            vae.n_states_, vae.data_kind_ = 1, "real"
        return x, x
    if kind == "nematic":
        _check_memory(vae, X, len(vae.axes), vector, fitting)
        if vector:
            u = X.reshape(n, N, 3).astype(np.float64)
            if not np.isfinite(u).all() or not np.allclose(np.linalg.norm(u, axis=2), 1, atol=1e-6):
                raise ValueError("nematic vector data must be finite unit vectors")
            states = np.argmax(np.abs(u @ vae.axes.T), axis=2)
        else:
            states = _integer_states(X, len(vae.axes), "axis index")
        q = len(vae.axes)
        if fitting:
            vae.n_states_, vae.data_kind_ = q, "vectors" if vector else "axes"
    else:
        if X.dtype.kind not in "iu":
            raise ValueError(f"the categorical decoder needs integer states, got dtype {X.dtype}")
        q = vae.n_states if vae.n_states is not None else (vae.n_states_ if not fitting else int(X.max()) + 1)
        states = _integer_states(X, max(q, 2), "state")
        _check_memory(vae, X, max(q, 2), False, fitting)
        if fitting:
            vae.n_states_, vae.data_kind_ = max(q, 2), "states"
        q = vae.n_states_
    states = states.reshape(n, N).astype(np.int64)
    onehot = np.zeros((n, N, q), dtype)
    np.put_along_axis(onehot, states[:, :, None], 1, axis=2)
    return onehot.reshape(n, N * q), states


def _all_pm1(X):
    """Every entry is -1 or +1 (``|x| == 1``; for int8, abs(-128) = -128 is rejected too)."""
    return bool(np.all(np.abs(X) == 1))


def _integer_states(X, q, what):
    if X.dtype.kind not in "iu" or X.min() < 0 or X.max() >= q:
        raise ValueError(f"{what}s must be integers in 0..{q - 1}")
    return X


def _sigmoid(g):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(g, np.float64)))


def _softmax(g):
    g = np.asarray(g, np.float64)
    e = np.exp(g - g.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def effective_fields(vae, out):
    if vae.decoder == "beta2":
        return _sigmoid(out["t"]) * np.asarray(out["h"], np.float64)
    if vae.decoder == "gaussian":
        return np.asarray(out["mean"], np.float64)
    return np.asarray(out["logits"], np.float64)


def decoder_means(vae, out):
    n = len(next(iter(out.values())))
    if vae.decoder in ("bernoulli", "beta2"):
        return _sigmoid(effective_fields(vae, out)).reshape((n,) + vae.input_shape_)
    if vae.decoder == "gaussian":
        return np.asarray(out["mean"], np.float64).reshape((n,) + vae.input_shape_)
    return _softmax(out["logits"]).reshape((n,) + vae.input_shape_ + (vae.n_states_,))


def draw(vae, out, rng):
    """Configurations drawn site by site from the decoder outputs (the data's format)."""
    n = len(next(iter(out.values())))
    shape = (n,) + vae.input_shape_
    if vae.decoder in ("bernoulli", "beta2"):
        p = _sigmoid(effective_fields(vae, out))
        return np.where(rng.random(p.shape) < p, 1, -1).astype(np.int8).reshape(shape)
    if vae.decoder == "gaussian":
        mean = np.asarray(out["mean"], np.float64)
        sd = np.exp(0.5 * np.asarray(out["logvar"], np.float64))
        return (mean + sd * rng.standard_normal(mean.shape)).reshape(shape)
    p = _softmax(out["logits"])
    u = rng.random(p.shape[:-1] + (1,))
    states = np.minimum((np.cumsum(p, axis=-1) < u).sum(axis=-1), p.shape[-1] - 1).astype(np.uint8)
    if vae.decoder == "nematic" and vae.data_kind_ == "vectors":
        return vae.axes[states].reshape(shape + (3,))
    return states.reshape(shape)

