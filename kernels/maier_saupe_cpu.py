"""Maier-Saupe (nematic) Monte Carlo sweeps on the CPU (Numba): continuous rotation moves and discrete axes.

Conventions (see :mod:`fastmf.kernels.maier_saupe_logic` for the energy, the O(1) update and the Philox
counter layout): ``E = -(J / 2N) sum_{i,j} P2(u_i . u_j)``; continuous spins are float64 unit vectors of
shape ``(n_chains, N, 3)`` with the tensor ``A = sum_i u_i u_i^T`` of shape ``(n_chains, 3, 3)`` maintained
in place; discrete spins are uint8 axis indices of shape ``(n_chains, N)`` into ``axes`` (D, 3) with counts
``(n_chains, D)`` int64 maintained in place. Chains run in parallel (``prange``), sites sequentially; every
draw is a function of (seed, sweep, chain, site) alone, so results do not depend on the number of threads.

``A`` is updated incrementally, so it drifts from ``sum_i u_i u_i^T`` by rounding (~1e-16 N per move); call
:func:`ms_tensor` now and then (e.g. between calls) to refresh it on very long runs.
"""
import numba
from numba import prange

from . import maier_saupe_logic as _ml
# The host-side helpers and checks live in maier_saupe_logic (shared with maier_saupe_cuda); public here too.
from .maier_saupe_logic import (UNIT_TOL, axes_counts, axes_gram, ms_tensor, validate_axes_args,  # noqa: F401
                                validate_rotation_args)
from .philox import STREAM_MEANFIELD, STREAM_ROTATION, philox4x32

__all__ = ["ms_rotation_sweep", "ms_axes_sweep", "ms_tensor", "axes_counts", "axes_gram",
           "validate_rotation_args", "validate_axes_args", "rotation_site", "axes_site"]

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
