"""Maier-Saupe (nematic) Monte Carlo sweeps on the CPU (Numba): continuous rotation moves and discrete axes.

Conventions (see :mod:`fastmf.kernels.maiersaupe_logic` for the energy, the O(1) update and the Philox
counter layout): ``E = -(J / 2N) sum_{i,j} P2(u_i . u_j)``; continuous spins are float64 unit vectors of
shape ``(n_chains, N, 3)`` with the tensor ``A = sum_i u_i u_i^T`` of shape ``(n_chains, 3, 3)`` maintained
in place; discrete spins are uint8 axis indices of shape ``(n_chains, N)`` into ``axes`` (D, 3) with counts
``(n_chains, D)`` int64 maintained in place. Chains run in parallel (``prange``), sites sequentially; every
draw is a function of (seed, sweep, chain, site) alone, so results do not depend on the number of threads.

``A`` is updated incrementally, so it drifts from ``sum_i u_i u_i^T`` by rounding (~1e-16 N per move); call
:func:`ms_tensor` now and then (e.g. between calls) to refresh it on very long runs.
"""
import numba
import numpy as np
from numba import prange

from . import maiersaupe_logic as _ml
from .philox import STREAM_MEANFIELD, STREAM_ROTATION, check_seed, philox4x32
from .validation import check_int, check_real

__all__ = ["ms_rotation_sweep", "ms_axes_sweep", "ms_tensor", "axes_counts", "axes_gram",
           "validate_rotation_args", "validate_axes_args", "rotation_site", "axes_site"]

UNIT_TOL = 1e-9

_logic = _ml.build(numba.njit, philox4x32)
# Composable building blocks for users' own @njit code.
rotation_site = _logic.rotation_site
axes_site = _logic.axes_site
_rotation_chain = _logic.rotation_chain
_axes_chain = _logic.axes_chain


@numba.njit(parallel=True, cache=True)
def _rotation_sweeps(u, A, beta, J, step, seed, stream, sweep0, n_sweeps):
    n_chains = u.shape[0]
    total = 0
    for r in prange(n_chains):
        total += _rotation_chain(u, A, r, beta, J, step, seed, stream, sweep0, n_sweeps)
    return total


@numba.njit(parallel=True, cache=True)
def _axes_sweeps(states, counts, G, beta, J, heatbath, seed, stream, sweep0, n_sweeps):
    n_chains = states.shape[0]
    total = 0
    for r in prange(n_chains):
        total += _axes_chain(states, counts, G, r, beta, J, heatbath, seed, stream, sweep0, n_sweeps)
    return total


# ----------------------------------------------------------------------------------------------
# Helpers and validation (shared with maiersaupe_cuda).

def ms_tensor(u):
    """``A = sum_i u_i u_i^T`` for spins ``u`` of shape (n_chains, N, 3) -> (n_chains, 3, 3)."""
    u = np.asarray(u, dtype=np.float64)
    return np.einsum("ria,rib->rab", u, u)


def axes_gram(axes):
    """``G[d, e] = (n_d . n_e)^2`` for unit axes (D, 3)."""
    axes = np.asarray(axes, dtype=np.float64)
    return np.ascontiguousarray((axes @ axes.T) ** 2)


def axes_counts(states, D):
    """Counts ``c[r, d]`` of sites on axis ``d`` in chain ``r`` (int64, shape (n_chains, D))."""
    states = np.asarray(states)
    out = np.zeros((states.shape[0], D), np.int64)
    for d in range(D):
        out[:, d] = np.count_nonzero(states == d, axis=1)
    return out


def _check_inplace(name, arr, dtype, ndim):
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array, got {type(arr).__name__}")
    if arr.dtype != np.dtype(dtype):
        raise TypeError(f"{name} must have dtype {np.dtype(dtype).name}, got {arr.dtype.name}")
    if arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {arr.shape}")
    if not (arr.flags.c_contiguous and arr.flags.writeable):
        raise ValueError(f"{name} must be a writeable C-contiguous array (it is updated in place)")


def _check_sweep(beta, J, seed, sweep, n_sweeps):
    beta = check_real("beta", beta, positive=True)  # beta = 1/T: T <= 0 or NaN is refused here
    J = check_real("J", J)
    seed = check_seed(seed)
    sweep = check_int("sweep", sweep, minimum=0)
    n_sweeps = check_int("n_sweeps", n_sweeps, minimum=0)
    if sweep + n_sweeps > 2 ** 32:
        raise ValueError(f"sweep indices must lie in [0, 2**32) (Philox counter word c2), got sweep={sweep}, "
                         f"n_sweeps={n_sweeps}")
    return beta, J, seed, sweep, n_sweeps


def validate_rotation_args(u, A, beta, J, step, seed, sweep, n_sweeps, check_values=True):
    """Check the arguments of :func:`ms_rotation_sweep`; returns the converted scalars."""
    _check_inplace("u", u, np.float64, 3)
    _check_inplace("A", A, np.float64, 3)
    if u.shape[2] != 3 or u.shape[1] < 1:
        raise ValueError(f"u must have shape (n_chains, N, 3) with N >= 1, got {u.shape}")
    if A.shape != (u.shape[0], 3, 3):
        raise ValueError(f"A must have shape (n_chains, 3, 3) = {(u.shape[0], 3, 3)}, got {A.shape}")
    step = check_real("step", step, positive=True)
    scalars = _check_sweep(beta, J, seed, sweep, n_sweeps)
    if check_values:
        if not np.all(np.isfinite(u)):
            raise ValueError("u contains NaN or infinite values")
        norms = np.sqrt(np.einsum("ria,ria->ri", u, u))
        if np.any(np.abs(norms - 1.0) > UNIT_TOL):
            raise ValueError(f"u must hold unit vectors (|u| - 1 within {UNIT_TOL}); worst |u| = "
                             f"{norms.ravel()[np.argmax(np.abs(norms - 1.0))]!r}")
        if not np.all(np.isfinite(A)):
            raise ValueError("A contains NaN or infinite values")
        dev = np.max(np.abs(A - ms_tensor(u))) if u.size else 0.0
        if dev > 1e-6 * max(1, u.shape[1]):
            raise ValueError(f"A must equal sum_i u_i u_i^T (see ms_tensor); max deviation {dev:.3g}")
    return (step,) + scalars


def validate_axes_args(states, axes, counts, beta, J, seed, sweep, n_sweeps, check_values=True):
    """Check the arguments of :func:`ms_axes_sweep`; returns ``(axes, G)`` and the converted scalars."""
    _check_inplace("states", states, np.uint8, 2)
    _check_inplace("counts", counts, np.int64, 2)
    axes = np.ascontiguousarray(axes, dtype=np.float64)
    if axes.ndim != 2 or axes.shape[1] != 3 or not 2 <= axes.shape[0] <= 256:
        raise ValueError(f"axes must have shape (D, 3) with 2 <= D <= 256, got {axes.shape}")
    if not np.all(np.isfinite(axes)):
        raise ValueError("axes contain NaN or infinite values")
    norms = np.linalg.norm(axes, axis=1)
    if np.any(np.abs(norms - 1.0) > UNIT_TOL):
        raise ValueError(f"axes must be unit vectors (|n| - 1 within {UNIT_TOL}); norms {norms}")
    D = axes.shape[0]
    if states.shape[1] < 1:
        raise ValueError(f"states must have shape (n_chains, N) with N >= 1, got {states.shape}")
    if counts.shape != (states.shape[0], D):
        raise ValueError(f"counts must have shape (n_chains, D) = {(states.shape[0], D)}, got {counts.shape}")
    scalars = _check_sweep(beta, J, seed, sweep, n_sweeps)
    if check_values:
        if states.size and int(states.max()) >= D:
            raise ValueError(f"states must hold axis indices 0..{D - 1}")
        if not np.array_equal(counts, axes_counts(states, D)):
            raise ValueError("counts must equal the number of sites on each axis (see axes_counts)")
    return (axes, axes_gram(axes)) + scalars


# ----------------------------------------------------------------------------------------------
# Public array-in/array-out API.

def ms_rotation_sweep(u, A, beta, J=1.0, *, step=0.5, seed, sweep=0, n_sweeps=1, check_values=True):
    """Run ``n_sweeps`` sequential Metropolis sweeps of rotation moves of the Maier-Saupe model in place.

    Parameters
    ----------
    u : ndarray of float64, shape (n_chains, N, 3)
        Unit vectors, updated in place.
    A : ndarray of float64, shape (n_chains, 3, 3)
        ``sum_i u_i u_i^T`` of each chain (:func:`ms_tensor`), updated in place.
    beta, J : float
        Inverse temperature (> 0) and coupling.
    step : float
        Proposal width: ``u' = normalize(u + step g)``, ``g`` a 3D standard Gaussian (> 0).
    seed : int
        Philox key, ``0 <= seed < 2**32``.
    sweep : int
        Index of the first sweep (Philox counter word c2); continue a run with ``sweep += n_sweeps``.
    n_sweeps : int
        Number of sweeps.
    check_values : bool
        Check unit norms and ``A`` against ``u`` (O(N) per chain); off to skip on hot paths.

    Returns
    -------
    int
        Number of accepted moves.
    """
    step, beta, J, seed, sweep, n_sweeps = validate_rotation_args(u, A, beta, J, step, seed, sweep, n_sweeps,
                                                                  check_values)
    if n_sweeps == 0 or u.shape[0] == 0:
        return 0
    return int(_rotation_sweeps(u, A, beta, J, step, seed, STREAM_ROTATION, sweep, n_sweeps))


def ms_axes_sweep(states, axes, counts, beta, J=1.0, *, seed, sweep=0, n_sweeps=1, heatbath=False,
                  check_values=True):
    """Run ``n_sweeps`` sequential sweeps of the discrete-axes Maier-Saupe model in place.

    Parameters
    ----------
    states : ndarray of uint8, shape (n_chains, N)
        Axis index of each site, updated in place.
    axes : array_like, shape (D, 3)
        Unit axes ``n_d`` (2 <= D <= 256).
    counts : ndarray of int64, shape (n_chains, D)
        Number of sites on each axis (:func:`axes_counts`), updated in place.
    beta, J : float
        Inverse temperature (> 0) and coupling.
    seed, sweep, n_sweeps : int
        As in :func:`ms_rotation_sweep`.
    heatbath : bool
        Draw each site from its conditional distribution over the D axes; otherwise Metropolis with a
        uniformly proposed other axis.
    check_values : bool
        Check the axis indices and the counts.

    Returns
    -------
    int
        Number of sites whose axis changed.
    """
    axes, G, beta, J, seed, sweep, n_sweeps = validate_axes_args(states, axes, counts, beta, J, seed, sweep,
                                                                 n_sweeps, check_values)
    if n_sweeps == 0 or states.shape[0] == 0:
        return 0
    return int(_axes_sweeps(states, counts, G, beta, J, bool(heatbath), seed, STREAM_MEANFIELD,
                            sweep, n_sweeps))
