"""Checkerboard Metropolis / heat-bath sweeps of 2D lattice models on the GPU (Numba-CUDA).

Same signatures, validation and results as :mod:`fastmf.kernels.lattice_cpu`: the per-group logic is
:mod:`fastmf.kernels.lattice_logic` compiled with ``cuda.jit(device=True)``, and every draw is a function of
(seed, sweep, replica, site) alone, so the trajectories equal the CPU's bit for bit (for the per-bond
``quenched`` model this holds for integer couplings such as +-J; real-valued couplings go through ``exp``,
whose GPU implementation may differ from the CPU's in the last bit).

One thread updates one group (four same-colour sites) of one replica; one launch per colour and sweep.

The wrappers take host NumPy arrays (copied to the device, updated there and copied back into the same
array) or device arrays: Numba device arrays, or any object with ``__cuda_array_interface__`` such as a
CuPy array, which are updated in place without a copy. This module imports ``numba.cuda``; import it only
when CUDA (or the simulator, ``NUMBA_ENABLE_CUDASIM=1``) is wanted.
"""
import numba
import numpy as np
from numba import cuda

from . import lattice_logic as _ll
from ._checks import (MAX_BLOCK, check_couplings, check_q, check_real, check_sweep_args, device_lattice_shape,
                      launch_config, validate_lattice)
from ._cuda_launch import block_sum, device_view, is_available
from .lattice_logic import ising_flip_table, potts_heatbath_weights, potts_metropolis_table
from .philox import STREAM_CHECKERBOARD, cuda_device_functions

__all__ = ["checkerboard_sweep", "quenched_checkerboard_sweep", "potts_checkerboard_sweep", "is_available",
           "ising_group", "quenched_group", "potts_group", "DEFAULT_BLOCK_SIZE"]

DEFAULT_BLOCK_SIZE = 128

_logic = _ll.build(cuda.jit(device=True), cuda_device_functions().philox4x32)
# Composable device functions for users' own @cuda.jit kernels.
ising_group = _logic.ising_group
quenched_group = _logic.quenched_group
potts_group = _logic.potts_group


# ----------------------------------------------------------------------------------------------
# Kernels. Each thread computes its accepted count; the block sums them in shared memory and one thread
# per block adds the sum to a single device counter (one atomic per block, not per thread).

@cuda.jit(device=True)
def _block_sum_into(acc, counter):
    scratch = cuda.shared.array(MAX_BLOCK, numba.int32)
    total = block_sum(acc, scratch)
    if cuda.threadIdx.x == 0 and total != 0:
        cuda.atomic.add(counter, 0, numba.int64(total))


@cuda.jit
def _ising_kernel(spins, table, seed, stream, sweep, colour, n_groups, counter):
    tid = cuda.grid(1)
    acc = 0
    if tid < spins.shape[0] * n_groups:
        r = tid // n_groups
        acc = ising_group(spins, r, tid - r * n_groups, colour, spins.shape[1], spins.shape[2], table, seed,
                          stream, sweep)
    _block_sum_into(acc, counter)  # every thread of the block must reach the barriers


@cuda.jit
def _quenched_kernel(spins, j_right, j_down, h, beta, heatbath, seed, stream, sweep, colour, n_groups, counter):
    tid = cuda.grid(1)
    acc = 0
    if tid < spins.shape[0] * n_groups:
        r = tid // n_groups
        acc = quenched_group(spins, r, tid - r * n_groups, colour, spins.shape[1], spins.shape[2], j_right,
                             j_down, h, beta, heatbath, seed, stream, sweep)
    _block_sum_into(acc, counter)


@cuda.jit
def _potts_kernel(spins, q, table, weights, heatbath, seed, stream, sweep, colour, n_groups, counter):
    tid = cuda.grid(1)
    acc = 0
    if tid < spins.shape[0] * n_groups:
        r = tid // n_groups
        acc = potts_group(spins, r, tid - r * n_groups, colour, spins.shape[1], spins.shape[2], q, table,
                          weights, heatbath, seed, stream, sweep)
    _block_sum_into(acc, counter)


@cuda.jit
def _out_of_range_kernel(flat, lo, hi, nonzero, flag):
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for i in range(start, flat.shape[0], stride):
        v = flat[i]
        if v < lo or v > hi or (nonzero and v == 0):
            flag[0] = 1  # benign race: every writer stores 1


# ----------------------------------------------------------------------------------------------
# Host helpers.

def _prepare_lattice(spins, dtype, q, check_values, name):
    """Validate ``spins``; return ``(device 3D array, host 3D view or None)``."""
    dev = device_view(spins)
    if dev is None:
        host = validate_lattice(spins, dtype, q=q, check_values=check_values, name=name)
        return None, host
    shape3 = device_lattice_shape(dev.shape, dev.dtype, dev.is_c_contiguous(), dtype, q=q, name=name)
    if check_values and dev.size:
        flat = dev.reshape(dev.size)
        flag = cuda.to_device(np.zeros(1, np.int32))
        blocks = min((dev.size + 255) // 256, 1024)
        if dtype == np.int8:
            _out_of_range_kernel[blocks, 256](flat, -1, 1, True, flag)
        else:
            _out_of_range_kernel[blocks, 256](flat, 0, q - 1, False, flag)
        if flag.copy_to_host()[0]:
            raise ValueError(f"{name} must contain only -1 and +1" if dtype == np.int8
                             else f"{name} must contain Potts states 0..{q - 1}")
    return (dev.reshape(*shape3) if dev.ndim == 2 else dev), None


def _run(kernel, spins, host, args_before, n_sweeps, sweep, block_size):
    """Launch ``kernel`` for every (sweep, colour); copy host data in and out; return accepted moves."""
    n_rep, L, M = (host if host is not None else spins).shape
    n_groups = ((L * M) // 2 + 3) // 4
    grid, block = launch_config(n_rep * n_groups, block_size)
    if n_rep == 0 or n_sweeps == 0:
        return 0
    d_spins = cuda.to_device(host) if host is not None else spins
    counter = cuda.to_device(np.zeros(1, np.int64))
    for t in range(n_sweeps):
        for colour in range(2):
            kernel[grid, block](d_spins, *args_before, STREAM_CHECKERBOARD, sweep + t, colour, n_groups,
                                counter)
    if host is not None:
        d_spins.copy_to_host(host)  # host is a view of the caller's array: updated in place
    return int(counter.copy_to_host()[0])


def _couplings(j_right, j_down, shape):
    """Host couplings are checked like the CPU's and copied; device couplings are used as they are."""
    if device_view(j_right) is None and device_view(j_down) is None:
        return [cuda.to_device(a) for a in check_couplings(j_right, j_down, shape)]
    out = []
    for name, arr in (("j_right", j_right), ("j_down", j_down)):
        dev = device_view(arr)
        if dev is None:
            dev = cuda.to_device(check_couplings(arr, arr, shape)[0])
        elif dev.dtype != np.float64 or tuple(dev.shape) != tuple(shape) or not dev.is_c_contiguous():
            raise ValueError(f"device {name} must be a C-contiguous float64 array of shape {shape}, got "
                             f"{dev.dtype} {tuple(dev.shape)}")
        out.append(dev)
    return out


# ----------------------------------------------------------------------------------------------
# Public API: same as lattice_cpu, plus ``block_size``.

def checkerboard_sweep(spins, beta, J=1.0, h=0.0, *, seed, sweep=0, n_sweeps=1, heatbath=False,
                       check_values=True, block_size=DEFAULT_BLOCK_SIZE):
    """Run ``n_sweeps`` checkerboard Metropolis (or heat-bath) sweeps of the Ising model on the GPU.

    Parameters
    ----------
    spins : ndarray or device array of int8, shape (n_replicas, L, M) or (L, M)
        +-1 spins, updated in place (host arrays are copied to the device and back). ``L``, ``M`` even.
    beta, J, h : float
        Inverse temperature (> 0), coupling (J < 0: antiferromagnet) and field.
    seed : int
        Philox key, ``0 <= seed < 2**32``.
    sweep : int
        Index of the first sweep (Philox counter c2).
    n_sweeps : int
        Number of full sweeps (both colours).
    heatbath : bool
        Heat-bath instead of Metropolis acceptance.
    check_values : bool
        Check that every spin is +-1 (on the device for device arrays).
    block_size : int
        Threads per block (1..1024).

    Returns
    -------
    int
        Number of accepted flips; identical to :func:`fastmf.kernels.lattice_cpu.checkerboard_sweep`.
    """
    d_spins, host = _prepare_lattice(spins, np.int8, 2, check_values, "spins")
    beta, seed, sweep, n_sweeps = check_sweep_args(beta, seed, sweep, n_sweeps)
    J, h = check_real("J", J), check_real("h", h)
    table = cuda.to_device(ising_flip_table(beta, J, h, heatbath))
    return _run(_ising_kernel, d_spins, host, (table, seed), n_sweeps, sweep, block_size)


def quenched_checkerboard_sweep(spins, beta, j_right, j_down, h=0.0, *, seed, sweep=0, n_sweeps=1,
                                heatbath=False, check_values=True, block_size=DEFAULT_BLOCK_SIZE):
    """Checkerboard sweeps of an Ising model with per-bond couplings on the GPU.

    ``j_right[row, col]`` couples (row, col) with (row, col + 1) and ``j_down[row, col]`` couples (row, col)
    with (row + 1, col), periodically; shape (L, M), float64, host or device arrays (device couplings are not
    checked for NaN). Other arguments as in :func:`checkerboard_sweep`.
    """
    d_spins, host = _prepare_lattice(spins, np.int8, 2, check_values, "spins")
    beta, seed, sweep, n_sweeps = check_sweep_args(beta, seed, sweep, n_sweeps)
    shape = (host if host is not None else d_spins).shape[1:]
    d_right, d_down = _couplings(j_right, j_down, shape)
    return _run(_quenched_kernel, d_spins, host,
                (d_right, d_down, check_real("h", h), beta, bool(heatbath), seed), n_sweeps, sweep, block_size)


def potts_checkerboard_sweep(states, q, beta, J=1.0, h=0.0, *, seed, sweep=0, n_sweeps=1, heatbath=False,
                             check_values=True, block_size=DEFAULT_BLOCK_SIZE):
    """Checkerboard sweeps of the q-state Potts model (uint8 states 0..q-1) on the GPU; ``h`` favours state 0.

    Arguments as in :func:`checkerboard_sweep`; returns the number of changed states (heat-bath) or accepted
    proposals (Metropolis), identical to the CPU's.
    """
    q = check_q(q)
    d_states, host = _prepare_lattice(states, np.uint8, q, check_values, "states")
    beta, seed, sweep, n_sweeps = check_sweep_args(beta, seed, sweep, n_sweeps)
    J, h = check_real("J", J), check_real("h", h)
    table = cuda.to_device(potts_metropolis_table(beta, J, h))
    weights = cuda.to_device(potts_heatbath_weights(beta, J, h))
    return _run(_potts_kernel, d_states, host, (q, table, weights, bool(heatbath), seed), n_sweeps, sweep,
                block_size)
