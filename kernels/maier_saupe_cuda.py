"""Maier-Saupe sweeps on the GPU (Numba-CUDA): one chain per thread.

Same signatures, validation and results as :mod:`fastmf.kernels.maier_saupe_cpu`: the per-site logic is
:mod:`fastmf.kernels.maier_saupe_logic` compiled with ``cuda.jit(device=True)`` and every draw is a function of
(seed, sweep, chain, site) alone. Under the CUDA simulator the trajectories equal the CPU's bit for bit; on a
real GPU ``exp``/``log``/``cos`` may differ from the CPU's libm in the last bit, which can (rarely) flip an
acceptance decision, so compare statistics there.

Each thread runs all ``n_sweeps`` sweeps of its chain in one launch: chains are independent and the sites of a
chain are updated sequentially (the energy couples every pair of sites), so no synchronisation is needed.
The wrappers take host NumPy arrays (copied to the device and back into the same arrays) or Numba device
arrays (updated in place; only their layout is checked, their values are not). This module imports
``numba.cuda``; import it only when CUDA (or the simulator, ``NUMBA_ENABLE_CUDASIM=1``) is wanted.
"""
import numpy as np
from numba import cuda

from . import maier_saupe_logic as _ml
from ._checks import check_real, check_sweep_scalars, launch_config
from .maier_saupe_logic import UNIT_TOL, axes_gram, validate_axes_args, validate_rotation_args
from .philox import STREAM_MEANFIELD, STREAM_ROTATION, cuda_device_functions

__all__ = ["ms_rotation_sweep", "ms_axes_sweep", "rotation_site", "axes_site", "DEFAULT_BLOCK_SIZE",
           "UNIT_TOL", "axes_gram"]

DEFAULT_BLOCK_SIZE = 64

_logic = _ml.build(cuda.jit(device=True), cuda_device_functions().philox4x32)
# Composable device functions for users' own @cuda.jit kernels.
rotation_site = _logic.rotation_site
axes_site = _logic.axes_site
_rotation_chain = _logic.rotation_chain
_axes_chain = _logic.axes_chain


@cuda.jit
def _rotation_kernel(u, A, beta, J, step, seed, stream, sweep0, n_sweeps, accepted):
    r = cuda.grid(1)
    if r < u.shape[0]:
        accepted[r] = _rotation_chain(u, A, r, beta, J, step, seed, stream, sweep0, n_sweeps)


@cuda.jit
def _axes_kernel(states, counts, G, beta, J, heatbath, seed, stream, sweep0, n_sweeps, accepted):
    r = cuda.grid(1)
    if r < states.shape[0]:
        accepted[r] = _axes_chain(states, counts, G, r, beta, J, heatbath, seed, stream, sweep0, n_sweeps)


def _is_device(arr):
    return bool(getattr(arr, "__cuda_ndarray__", False))


def _check_device(name, arr, dtype, ndim):
    if arr.dtype != np.dtype(dtype):
        raise TypeError(f"{name} must have dtype {np.dtype(dtype).name}, got {arr.dtype.name}")
    if arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {arr.shape}")
    if not arr.is_c_contiguous():
        raise ValueError(f"{name} must be a C-contiguous array (it is updated in place)")


def _launch(kernel, arrays, scalars, n_chains, block_size):
    """Copy host arrays in (device arrays as they are), launch, copy back; returns the accepted total."""
    dev = [a if _is_device(a) else cuda.to_device(a) for a in arrays]
    accepted = cuda.to_device(np.zeros(max(n_chains, 1), np.int64))
    grid, block = launch_config(n_chains, block_size)
    kernel[grid, block](*dev, *scalars, accepted)
    for host, d in zip(arrays, dev):
        if not _is_device(host):
            d.copy_to_host(host)
    return int(accepted.copy_to_host()[:n_chains].sum())


def ms_rotation_sweep(u, A, beta, J=1.0, *, step=0.5, seed, sweep=0, n_sweeps=1, check_values=True,
                      block_size=DEFAULT_BLOCK_SIZE):
    """GPU version of :func:`fastmf.kernels.maier_saupe_cpu.ms_rotation_sweep` (same arguments and result).

    ``u`` and ``A`` may be NumPy arrays or Numba device arrays (``check_values`` applies to NumPy arrays).
    """
    if _is_device(u) or _is_device(A):
        _check_device("u", u, np.float64, 3)
        _check_device("A", A, np.float64, 3)
        if u.shape[2] != 3 or A.shape != (u.shape[0], 3, 3):
            raise ValueError(f"u must have shape (n_chains, N, 3) and A (n_chains, 3, 3), got {u.shape}, "
                             f"{A.shape}")
        step = check_real("step", step, positive=True)
        beta, J, seed, sweep, n_sweeps = check_sweep_scalars(beta, J, seed, sweep, n_sweeps)
    else:
        step, beta, J, seed, sweep, n_sweeps = validate_rotation_args(u, A, beta, J, step, seed, sweep,
                                                                      n_sweeps, check_values)
    if n_sweeps == 0 or u.shape[0] == 0:
        return 0
    return _launch(_rotation_kernel, [u, A], (beta, J, step, seed, STREAM_ROTATION, sweep, n_sweeps),
                   u.shape[0], block_size)


def ms_axes_sweep(states, axes, counts, beta, J=1.0, *, seed, sweep=0, n_sweeps=1, heatbath=False,
                  check_values=True, block_size=DEFAULT_BLOCK_SIZE):
    """GPU version of :func:`fastmf.kernels.maier_saupe_cpu.ms_axes_sweep` (same arguments and result).

    ``states`` and ``counts`` may be NumPy arrays or Numba device arrays; ``axes`` is a host array.
    """
    if _is_device(states) or _is_device(counts):
        _check_device("states", states, np.uint8, 2)
        _check_device("counts", counts, np.int64, 2)
        # Host proxies of the right shapes let the CPU validator check axes, shapes and scalars.
        proxy_s = np.zeros(states.shape, np.uint8)
        proxy_c = np.zeros(counts.shape, np.int64)
        axes, G, beta, J, seed, sweep, n_sweeps = validate_axes_args(proxy_s, axes, proxy_c, beta, J, seed,
                                                                     sweep, n_sweeps, check_values=False)
    else:
        axes, G, beta, J, seed, sweep, n_sweeps = validate_axes_args(states, axes, counts, beta, J, seed,
                                                                     sweep, n_sweeps, check_values)
    if n_sweeps == 0 or states.shape[0] == 0:
        return 0
    return _launch(_axes_kernel, [states, counts, cuda.to_device(G)],
                   (beta, J, bool(heatbath), seed, STREAM_MEANFIELD, sweep, n_sweeps), states.shape[0],
                   block_size)

