"""Adam and SGD with explicit state (a dict of arrays and a step count), updated in place, so that training
checkpoints and resumes bit for bit.

``state = adam_init(params)``; ``adam_step(params, grads, state, lr)`` updates ``params`` and ``state`` in
place. Arithmetic runs in the parameters' dtype (float32 or float64).
"""
import numpy as np

__all__ = ["adam_init", "adam_step", "sgd_init", "sgd_step", "OPTIMIZERS"]


def adam_init(params):
    return {"t": np.zeros((), np.int64), **{f"m:{k}": np.zeros_like(v) for k, v in params.items()},
            **{f"v:{k}": np.zeros_like(v) for k, v in params.items()}}


def adam_step(params, grads, state, lr, b1=0.9, b2=0.999, eps=1e-8):
    state["t"] += 1
    t = int(state["t"])
    c1 = 1.0 - b1 ** t
    c2 = 1.0 - b2 ** t
    for k, p in params.items():
        g = grads[k]
        m = state[f"m:{k}"]
        v = state[f"v:{k}"]
        dt = p.dtype.type
        m *= dt(b1)
        m += dt(1.0 - b1) * g
        v *= dt(b2)
        v += dt(1.0 - b2) * (g * g)
        p -= dt(lr / c1) * m / (np.sqrt(v / dt(c2)) + dt(eps))


def sgd_init(params):
    return {"t": np.zeros((), np.int64)}


def sgd_step(params, grads, state, lr):
    state["t"] += 1
    for k, p in params.items():
        p -= p.dtype.type(lr) * grads[k]


OPTIMIZERS = {"adam": (adam_init, adam_step), "sgd": (sgd_init, sgd_step)}
