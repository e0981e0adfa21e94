"""Per-site formulas of the VAE decoder likelihoods, written once for every Numba backend.

Plain Python functions of float64 scalars: :mod:`fastmf.kernels.vae_cpu` compiles them with ``numba.njit``
and :mod:`fastmf.kernels.vae_cuda` with ``numba.cuda.jit(device=True)``, so both backends evaluate the same
overflow-safe forms.
"""
import math

__all__ = ["sigmoid", "softplus"]


def softplus(g):
    """``log(1 + e^g)`` without overflow.

    Parameters
    ----------
    g : float
        A logit.

    Returns
    -------
    float
        ``max(g, 0) + log1p(exp(-|g|))``.
    """
    return max(g, 0.0) + math.log1p(math.exp(-abs(g)))


def sigmoid(g):
    """``1 / (1 + e^-g)`` without overflow.

    Parameters
    ----------
    g : float
        A logit.

    Returns
    -------
    float
        The logistic function of ``g``, through ``exp`` of a non-positive number only.
    """
    if g >= 0:
        return 1.0 / (1.0 + math.exp(-g))
    e = math.exp(g)
    return e / (1.0 + e)
