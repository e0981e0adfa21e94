"""Adam and SGD with explicit state (a dict of arrays and a step count), updated in place, so that training
checkpoints and resumes bit for bit.

``state = adam_init(params)``; ``adam_step(params, grads, state, lr)`` updates ``params`` and ``state`` in
place and returns whether every gradient was finite (checked in the same pass). Arithmetic runs in the parameters' dtype (float32 or float64).
"""
import numpy as np

from ..kernels import vae_cpu as _k

__all__ = ["adam_init", "adam_step", "sgd_init", "sgd_step", "OPTIMIZERS"]


def adam_init(params):
    return {"t": np.zeros((), np.int64), **{f"m:{k}": np.zeros_like(v) for k, v in params.items()},
            **{f"v:{k}": np.zeros_like(v) for k, v in params.items()}}


def adam_step(params, grads, state, lr, b1=0.9, b2=0.999, eps=1e-8):
    """Returns False if a gradient was not finite (the parameters are then damaged: restore them)."""
    state["t"] += 1
    t = int(state["t"])
    c1 = 1.0 - b1 ** t
    c2 = 1.0 - b2 ** t
    finite = True
    for k, p in params.items():  # one fused pass per array (kernels.vae_cpu.adam_update)
        g = np.ascontiguousarray(grads[k], dtype=p.dtype)
        finite &= _k.adam_update(p.reshape(-1), g.reshape(-1), state[f"m:{k}"].reshape(-1),
                                 state[f"v:{k}"].reshape(-1), lr / c1, b1, b2, c2, eps)
    return finite


def sgd_init(params):
    return {"t": np.zeros((), np.int64)}


def sgd_step(params, grads, state, lr):
    state["t"] += 1
    finite = True
    for k, p in params.items():
        finite &= bool(np.isfinite(np.sum(grads[k])))
        p -= p.dtype.type(lr) * grads[k]
    return finite


OPTIMIZERS = {"adam": (adam_init, adam_step), "sgd": (sgd_init, sgd_step)}
