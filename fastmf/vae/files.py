"""Reading the VAE's files with the checks of :func:`fastmf.io.read_npz`: a saved model (:meth:`VAE.save`) and a
training checkpoint (``VAE.fit(..., checkpoint=FILE)``).

Every problem is a ValueError that names the file and what is wrong with it: an empty, truncated or random file,
a ``.npy`` array or a pickle (never unpickled), another fastmf file (``x.npz is a fastmf sample file, not a
fastmf VAE model``), missing arrays or metadata fields, fields of the wrong JSON type, settings that
:class:`~fastmf.vae.VAE` refuses, parameters whose names or shapes do not match the settings, and parameters
that are NaN or infinite (such a model would generate garbage: all -1 spins).
"""
import numbers

import numpy as np

from ..io.files import ResourceLimitError
from ..io.samples import identify_npz, read_npz
from .sizes import expected_shapes

__all__ = ["FORMAT", "DATA_KINDS", "read_model", "read_checkpoint"]

#: The ``format`` field of a saved model's metadata.
FORMAT = "fastmf-vae-1"
#: The data kind stored with a model, by decoder (:mod:`fastmf.vae.data`).
DATA_KINDS = {"bernoulli": ("spins",), "beta2": ("spins",), "gaussian": ("real",), "categorical": ("states",),
              "nematic": ("axes", "vectors")}


def _where(path):
    return repr(str(path))


def _field(meta, name, types, path, what):
    if name not in meta:
        raise ValueError(f"{_where(path)} is damaged: its metadata has no {name!r} field (not a complete "
                         f"{what})")
    value = meta[name]
    if not isinstance(value, types) or isinstance(value, bool) and bool not in _as_tuple(types):
        raise ValueError(f"{_where(path)} is damaged: the metadata field {name!r} should be "
                         f"{_type_names(types)}, found {type(value).__name__} {_short(value)}")
    return value


def _as_tuple(types):
    return types if isinstance(types, tuple) else (types,)


def _type_names(types):
    names = {dict: "a JSON object", list: "a JSON list", str: "a string", numbers.Integral: "an integer",
             numbers.Real: "a number"}
    return " or ".join(names.get(t, t.__name__) for t in _as_tuple(types))


def _short(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _wrong_kind(path, arrays, meta, meta_key, expected):
    kind = identify_npz(set(arrays) | {meta_key}, {meta_key: meta})
    if kind:
        return f"{_where(path)} is {kind}, not {expected}"
    return f"{_where(path)} is not {expected} (format {meta.get('format')!r})"


def _check_history(history, path):
    if not all(isinstance(r, dict) for r in history):
        raise ValueError(f"{_where(path)} is damaged: the metadata field 'history' should be a list of JSON objects")
    return history


def _check_data(vae, data, path):
    """``(input_shape, n_states, data_kind)`` of the ``data`` metadata, checked against the settings."""
    shape = _field(data, "input_shape", list, path, "fastmf VAE model")
    n_states = _field(data, "n_states", numbers.Integral, path, "fastmf VAE model")
    kind = _field(data, "data_kind", str, path, "fastmf VAE model")
    if not 1 <= len(shape) <= 2 or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 1
                                           for s in shape):
        raise ValueError(f"{_where(path)} is damaged: data input_shape should be (N,) or (L, M) of positive "
                         f"integers, found {_short(shape)}")
    if vae.encoder == "conv" and len(shape) != 2:
        raise ValueError(f"{_where(path)} is damaged: a conv encoder needs lattice data (L, M), found input_shape "
                         f"{shape}")
    if kind not in DATA_KINDS[vae.decoder]:
        raise ValueError(f"{_where(path)} is damaged: data_kind {kind!r} does not go with the {vae.decoder} decoder "
                         f"(expected {' or '.join(DATA_KINDS[vae.decoder])})")
    expected_q = {"bernoulli": 2, "beta2": 2, "gaussian": 1}.get(vae.decoder)
    if vae.decoder == "nematic":
        expected_q = len(vae.axes)
    if (expected_q is not None and n_states != expected_q) or not 1 <= n_states <= 255:
        raise ValueError(f"{_where(path)} is damaged: n_states {n_states} does not go with the {vae.decoder} decoder")
    return tuple(int(s) for s in shape), int(n_states), kind


def _check_array(name, value, shape, dtype, path, what):
    if value.shape != tuple(shape) or value.dtype != dtype:
        raise ValueError(f"{_where(path)} is damaged: {what} {name!r} has shape {value.shape} and dtype "
                         f"{value.dtype}, the settings need {tuple(shape)} and {np.dtype(dtype).name}")
    if value.dtype.kind == "f" and not np.isfinite(value).all():
        raise ValueError(f"{_where(path)} holds NaN or infinite values in {what} {name!r}: the model is broken "
                         "(diverged training?) and is refused")


def read_model(cls, path):
    """A :class:`~fastmf.vae.VAE` (``cls``) from a file written by :meth:`~fastmf.vae.VAE.save`, fully checked.

    Parameters
    ----------
    cls : type
        The VAE class.
    path : path-like

    Returns
    -------
    vae : VAE
        Made from the stored settings (not yet fitted).
    params : dict
        The parameter arrays by name (checked against the settings: names, shapes, dtype, finite).
    history : list of dict
    metadata : dict
        The user's metadata stored with the model.
    data_format : tuple
        ``(input_shape, n_states, data_kind)``.
    """
    arrays, meta = read_npz(path, ("meta",), "VAE model", meta_key="meta")
    if meta.get("format") != FORMAT:
        raise ValueError(_wrong_kind(path, arrays, meta, "meta", "a fastmf VAE model"))
    hyper = _field(meta, "hyper", dict, path, "fastmf VAE model")
    data = _field(meta, "data", dict, path, "fastmf VAE model")
    history = meta.get("history", [])
    if not isinstance(history, list):
        _field(meta, "history", list, path, "fastmf VAE model")
    _check_history(history, path)
    metadata = meta.get("metadata", {})
    if not isinstance(metadata, dict):
        raise ValueError(f"{_where(path)} is damaged: the metadata field 'metadata' should be a JSON object")
    vae = settings(cls, hyper, path)
    input_shape, n_states, kind = _check_data(vae, data, path)
    params = {k[2:]: v for k, v in arrays.items() if k.startswith("p:")}
    expected = expected_shapes(vae, input_shape, n_states)
    if set(params) != set(expected):
        missing, extra = sorted(set(expected) - set(params)), sorted(set(params) - set(expected))
        raise ValueError(f"{_where(path)} is damaged: its parameters do not match its settings"
                         + (f" (missing {missing})" if missing else "") + (f" (unexpected {extra})" if extra else ""))
    for name, value in params.items():
        _check_array(name, value, expected[name], np.dtype(vae.dtype), path, "parameter")
    return vae, params, history, metadata, (input_shape, n_states, kind)


def settings(cls, hyper, path):
    """A VAE made from the stored settings ``hyper`` (ValueError naming the file when they are refused)."""
    from .model import HYPER
    unknown = sorted(set(hyper) - set(HYPER))
    if unknown:
        raise ValueError(f"{_where(path)} is damaged or from a newer fastmf: unknown settings {unknown}")
    hyper = {"prior": "normal", "lr_schedule": "constant", **hyper}  # files from before learned priors
    try:
        return cls(**{k: v for k, v in hyper.items() if k != "n_states"}, n_states=hyper.get("n_states"))
    except ResourceLimitError:
        raise
    except (TypeError, ValueError) as exc:
        raise ValueError(f"the settings stored in {_where(path)} are invalid: {exc}") from None


def read_checkpoint(vae, path, opt_state, hyper, data_meta):
    """The state of an interrupted :meth:`~fastmf.vae.VAE.fit` from its checkpoint, fully checked.

    Parameters
    ----------
    vae : VAE
        The estimator being fitted (its fresh ``theta_`` gives the expected shape and dtype).
    path : path-like
    opt_state : dict
        The optimizer's fresh state (expected names, shapes and dtypes).
    hyper, data_meta : dict
        The estimator's settings and data format as JSON, to compare with the checkpoint's.

    Returns
    -------
    meta : dict
        ``next_epoch``, ``rng``, ``history``, ``best_loss``, ``best_epoch`` (checked types).
    arrays : dict
        ``theta``, the optimizer arrays ``o:*`` and optionally ``best`` (checked shapes, finite).
    """
    what = "VAE training checkpoint"
    arrays, meta = read_npz(path, ("meta", "theta"), what, meta_key="meta")
    stored_hyper = _field(meta, "hyper", dict, path, what)
    stored_data = _field(meta, "data", dict, path, what)
    same = {k: v for k, v in stored_hyper.items() if k != "epochs"}  # more epochs may be asked for
    mine = {k: v for k, v in hyper.items() if k != "epochs"}
    if same != mine or stored_data != data_meta:
        raise ValueError(f"checkpoint {_where(path)} was written with other settings or data; delete it or use "
                         "another path")
    for name, types in (("next_epoch", numbers.Integral), ("rng", dict), ("history", list),
                        ("best_loss", numbers.Real), ("best_epoch", numbers.Integral)):
        _field(meta, name, types, path, what)
    _check_history(meta["history"], path)
    if meta["next_epoch"] < 0:
        raise ValueError(f"{_where(path)} is damaged: next_epoch is {meta['next_epoch']}")
    theta = vae.theta_
    _check_array("theta", arrays["theta"], theta.shape, theta.dtype, path, "array")
    if "best" in arrays:
        _check_array("best", arrays["best"], theta.shape, theta.dtype, path, "array")
    stored = {k[2:] for k in arrays if k.startswith("o:")}
    if stored != set(opt_state):
        raise ValueError(f"{_where(path)} is damaged: its optimizer state {sorted(stored)} does not match the "
                         f"optimizer's {sorted(opt_state)}")
    for name, value in opt_state.items():
        _check_array("o:" + name, arrays["o:" + name], value.shape, value.dtype, path, "optimizer array")
    try:
        np.random.default_rng().bit_generator.state = meta["rng"]
    except (TypeError, ValueError, KeyError) as exc:
        raise ValueError(f"{_where(path)} is damaged: its random-generator state is invalid ({exc})") from None
    return meta, arrays
