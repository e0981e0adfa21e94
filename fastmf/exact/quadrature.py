"""Numerics of a standard-normal latent shared by the decoder likelihood (:mod:`fastmf.exact.decoder`) and the
capacity report (:mod:`fastmf.exact.capacity`): product quadrature rules, validated decoder and encoder calls in
row blocks, and the cap on the work of a table.
"""
import math

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy.special import logsumexp

from ..kernels.validation import check_int

__all__ = ["CHUNK", "DEFAULT_MAX_WORK", "DEFAULT_N_QUAD", "LOG_2PI", "MAX_N_HERMITE", "MAX_N_TRAPEZOID",
           "call_decoder", "call_encoder", "check_work", "quadrature_rule"]

#: Default quadrature nodes per latent dimension (product rule: n**d nodes).
DEFAULT_N_QUAD = {1: 64, 2: 32, 3: 16}
#: Default cap on ``2**N * (number of nodes or samples)`` (table entries evaluated).
DEFAULT_MAX_WORK = 1 << 31
#: Largest trapezoid rule per dimension.
MAX_N_TRAPEZOID = 4096
#: Largest Gauss-Hermite rule per dimension (numpy's ``hermegauss`` overflows beyond it).
MAX_N_HERMITE = 350
_TRAP_HALF_WIDTH = 10.0
#: Entries per temporary block (16 MiB of float64): large tables are computed in blocks of this size.
CHUNK = 1 << 21
_ROWS = 1 << 16  # rows per decoder / encoder call
_RATE = 5e7  # rough entries per second, for error messages
#: ``ln 2 pi``.
LOG_2PI = math.log(2.0 * math.pi)


def check_work(work, max_work, what):
    """Refuse a computation of more than ``max_work`` table entries, with an estimate of its time.

    Parameters
    ----------
    work : int or float
        Table entries the computation would evaluate.
    max_work : int or float
        The cap.
    what : str
        Description of the computation, for the message.

    Raises
    ------
    ValueError
        If ``work > max_work``.
    """
    if work > max_work:
        raise ValueError(f"{what}: {work:.3g} table entries, more than max_work = {max_work:.3g} (about "
                         f"{work / _RATE:.3g} s at ~5e7 entries/s; memory is chunked to {CHUNK * 8 >> 20} MiB "
                         f"blocks). Use fewer nodes/samples, method='importance', or raise max_work.")


def call_decoder(decoder, z, N):
    """Validated decoder logits, calling the decoder in row blocks.

    Parameters
    ----------
    decoder : callable
        ``z (n, d) -> logits (n, N)``.
    z : ndarray, shape (n, d)
        Latents.
    N : int
        Number of sites.

    Returns
    -------
    ndarray, shape (n, N)

    Raises
    ------
    ValueError
        If the decoder returns a wrong shape or non-finite logits.
    """
    out = []
    for s in range(0, len(z), _ROWS):
        zz = z[s:s + _ROWS]
        g = np.asarray(decoder(zz), dtype=np.float64)
        if g.shape != (len(zz), N):
            raise ValueError(f"decoder must map z of shape (n, latent_dim) = {zz.shape} to logits of shape "
                             f"(n, N) = {(len(zz), N)}, got shape {g.shape}")
        if not np.isfinite(g).all():
            raise ValueError("decoder returned non-finite logits (NaN or +-inf)")
        out.append(g)
    return np.concatenate(out) if out else np.empty((0, N))


def call_encoder(encoder, x, latent_dim=None):
    """Validated encoder output for +-1 configurations, computed in row blocks.

    Parameters
    ----------
    encoder : callable
        ``x (n, N) float64 -> (mu, logvar)``, each of shape (n, latent_dim).
    x : ndarray, shape (n, N)
        Configurations.
    latent_dim : int, optional
        Expected latent dimension (default: that of the first block).

    Returns
    -------
    mu, logvar : ndarray, shape (n, latent_dim)

    Raises
    ------
    ValueError
        If the encoder returns something else than a pair of (n, latent_dim) finite arrays.
    """
    mus, lvs = [], []
    for s in range(0, len(x), _ROWS):
        xx = np.ascontiguousarray(x[s:s + _ROWS], dtype=np.float64)
        res = encoder(xx)
        if not isinstance(res, (tuple, list)) or len(res) != 2:
            raise ValueError("encoder(x) must return a pair (mu, logvar)")
        mu, lv = (np.asarray(r, dtype=np.float64) for r in res)
        d = latent_dim if latent_dim is not None else (mu.shape[1] if mu.ndim == 2 else -1)
        if mu.shape != (len(xx), d) or lv.shape != mu.shape or d < 1:
            raise ValueError(f"encoder must map x of shape {xx.shape} to mu and logvar of shape (n, latent_dim)"
                             f"{'' if latent_dim is None else ' = ' + str((len(xx), latent_dim))}, got "
                             f"{mu.shape} and {lv.shape}")
        if not (np.isfinite(mu).all() and np.isfinite(lv).all()):
            raise ValueError("encoder returned non-finite mu or logvar")
        latent_dim = d
        mus.append(mu)
        lvs.append(lv)
    return np.concatenate(mus), np.concatenate(lvs)


def quadrature_rule(latent_dim, n_quad, rule="hermite"):
    """Product rule for ``E_{z ~ N(0, I_d)} f(z)`` with ``n_quad`` points per dimension.

    ``rule="hermite"``: Gauss-Hermite (best for smooth f). ``rule="trapezoid"``: uniform grid on
    ``[-10, 10]`` with Gaussian weights (exponentially convergent too, and uses its nodes better when f is steep,
    i.e. when ``n_quad`` must be large: prefer it beyond ~100 nodes per dimension).

    Parameters
    ----------
    latent_dim : int
        Dimension ``d`` of the latent.
    n_quad : int
        Nodes per dimension (at most :data:`MAX_N_HERMITE` for Gauss-Hermite, :data:`MAX_N_TRAPEZOID` for the
        trapezoid rule).
    rule : {"hermite", "trapezoid"}

    Returns
    -------
    z : ndarray, shape (M, latent_dim)
        Nodes (``M = n_quad**latent_dim`` less any whose weight underflows).
    log_w : ndarray, shape (M,)
        Log-weights, normalised so that ``sum exp(log_w) == 1``.
    """
    d = check_int("latent_dim", latent_dim, 1)
    n = check_int("n_quad", n_quad, 2 if rule == "trapezoid" else 1,
                  MAX_N_TRAPEZOID if rule == "trapezoid" else MAX_N_HERMITE)
    if rule == "hermite":
        t, w = hermegauss(n)
        keep = w > 0
        t, lw1 = t[keep], np.log(w[keep])
    elif rule == "trapezoid":
        t = np.linspace(-_TRAP_HALF_WIDTH, _TRAP_HALF_WIDTH, n)
        lw1 = -0.5 * t ** 2
        lw1[[0, -1]] -= math.log(2.0)
    else:
        raise ValueError(f"rule must be 'hermite' or 'trapezoid', got {rule!r}")
    grids = np.meshgrid(*([t] * d), indexing="ij")
    lws = np.meshgrid(*([lw1] * d), indexing="ij")
    z = np.stack([g.ravel() for g in grids], axis=1)
    lw = np.sum([g.ravel() for g in lws], axis=0)
    return z, lw - logsumexp(lw)
