"""Sequential sweeps of mean-field and graph models on the GPU (Numba-CUDA): one chain per thread.

Same signatures, validation and results as :mod:`fastmf.kernels.meanfield_cpu`: the per-site logic is
:mod:`fastmf.kernels.meanfield_logic` compiled with ``cuda.jit(device=True)`` and the thresholds come from the
same host tables, so low-rank and Potts trajectories equal the CPU's bit for bit (spin glasses: for integer
couplings; real couplings go through ``exp``, whose GPU result may differ in the last bit, and so does the
low-rank float path used when the table would exceed ``MAX_TABLE_SIZE``).

A thread runs all sweeps of its chain (the sites of a chain are updated in order, so there is no
parallelism inside a chain); launch many chains to fill the GPU. The wrappers take host NumPy arrays (copied
to the device and back into the same arrays) or device arrays (Numba device arrays, or objects with
``__cuda_array_interface__`` such as CuPy arrays) for the configuration and its order parameter, which are
then updated in place; for device arrays only the layout is checked, not the values. This module imports
``numba.cuda``: import it only when CUDA (or the simulator, ``NUMBA_ENABLE_CUDASIM=1``) is wanted.
"""
import numpy as np
from numba import cuda

from . import meanfield_logic as _ml
from ._checks import check_real, check_sweep_args, launch_config
from ._cuda_launch import device_view, is_available
from .meanfield_logic import lowrank_tables, validate_glass, validate_lowrank, validate_potts_mf
from .philox import STREAM_MEANFIELD, cuda_device_functions

__all__ = [
    "DEFAULT_BLOCK_SIZE",
    "glass_group",
    "glass_sweep",
    "is_available",
    "lowrank_group",
    "lowrank_sweep",
    "potts_group",
    "potts_mf_sweep",
]

DEFAULT_BLOCK_SIZE = 64

_logic = _ml.build(cuda.jit(device=True), cuda_device_functions().philox4x32)
# Composable device functions for users' own @cuda.jit kernels.
lowrank_group = _logic.lowrank_group
potts_group = _logic.potts_group
glass_group = _logic.glass_group


# ----------------------------------------------------------------------------------------------
# Kernels: thread c runs every sweep of chain c, four sites per Philox call; one atomic add per thread.

@cuda.jit
def _lowrank_kernel(spins, patterns, overlaps, table, use_table, beta, J, h, heatbath, seed, stream, sweep0,
                    n_sweeps, counter):
    c = cuda.grid(1)
    if c < spins.shape[0]:
        acc = 0
        for t in range(n_sweeps):
            for g in range((spins.shape[1] + 3) // 4):
                acc += lowrank_group(spins, c, g, patterns, overlaps, table, use_table, beta, J, h, heatbath, seed,
                                     stream, sweep0 + t)
        cuda.atomic.add(counter, 0, acc)


@cuda.jit
def _potts_kernel(states, counts, q, table, weights, heatbath, seed, stream, sweep0, n_sweeps, counter):
    c = cuda.grid(1)
    if c < states.shape[0]:
        acc = 0
        for t in range(n_sweeps):
            for g in range((states.shape[1] + 3) // 4):
                acc += potts_group(states, c, g, counts, q, table, weights, heatbath, seed, stream, sweep0 + t)
        cuda.atomic.add(counter, 0, acc)


@cuda.jit
def _glass_kernel(spins, indptr, indices, weights, fields, local_fields, beta, heatbath, seed, stream, sweep0,
                  n_sweeps, counter):
    c = cuda.grid(1)
    if c < spins.shape[0]:
        acc = 0
        for t in range(n_sweeps):
            for g in range((spins.shape[1] + 3) // 4):
                acc += glass_group(spins, c, g, indptr, indices, weights, fields, local_fields, beta, heatbath, seed,
                                   stream, sweep0 + t)
        cuda.atomic.add(counter, 0, acc)


# ----------------------------------------------------------------------------------------------
# Host helpers.

def _state_arrays(pairs):
    """``pairs``: (name, array, dtype). All host NumPy arrays -> None (validate on the host); all device
    arrays -> their 2D device views after layout checks; a mix is an error."""
    views = [device_view(a) for _, a, _ in pairs]
    if all(v is None for v in views):
        return None
    if any(v is None for v in views):
        raise TypeError(f"{' and '.join(n for n, _, _ in pairs)} must be all host (NumPy) or all device arrays")
    out = []
    for (name, _, dtype), v in zip(pairs, views):
        if v.dtype != dtype or not v.is_c_contiguous():
            raise TypeError(f"device {name} must be a C-contiguous {np.dtype(dtype).name} array, got {v.dtype}")
        if v.ndim == 1:
            v = v.reshape(1, v.shape[0])
        if v.ndim != 2:
            raise ValueError(f"device {name} must have shape (n_chains, ...), got {tuple(v.shape)}")
        out.append(v)
    if out[0].shape[0] != out[1].shape[0]:
        raise ValueError(f"{pairs[0][0]} and {pairs[1][0]} must have the same number of chains")
    return out


def _run(kernel, host_state, dev_state, make_args, n_sweeps, block_size):
    """Copy host state in, launch one thread per chain with ``make_args(device state)``, copy the state back;
    returns the accepted moves."""
    n_chains = (host_state if host_state is not None else dev_state)[0].shape[0]
    grid, block = launch_config(n_chains, block_size)
    if n_chains == 0 or n_sweeps == 0:
        return 0
    d_state = [cuda.to_device(a) for a in host_state] if host_state is not None else dev_state
    counter = cuda.to_device(np.zeros(1, np.int64))
    kernel[grid, block](*make_args(d_state), counter)
    if host_state is not None:
        for h, d in zip(host_state, d_state):
            d.copy_to_host(h)  # h is a view of the caller's array: updated in place
    return int(counter.copy_to_host()[0])


# ----------------------------------------------------------------------------------------------
# Public API: as meanfield_cpu, plus ``block_size``.

def lowrank_sweep(spins, patterns, overlaps, beta, J=1.0, h=0.0, *, seed, sweep=0, n_sweeps=1, heatbath=False,
                  check_values=True, block_size=DEFAULT_BLOCK_SIZE):
    """Low-rank (Hopfield / Curie-Weiss) sweeps on the GPU, one chain per thread.

    Arguments and result as :func:`fastmf.kernels.meanfield_cpu.lowrank_sweep` (bit-identical), plus
    ``block_size`` (threads per block, 1..1024). ``spins`` and ``overlaps`` may be device arrays.
    """
    dev = _state_arrays([("spins", spins, np.int8), ("overlaps", overlaps, np.int64)])
    if dev is None:
        spins, patterns, overlaps = validate_lowrank(spins, patterns, overlaps, check_values)
        host = (spins, overlaps)
        P, N = patterns.shape
    else:
        N = dev[0].shape[1]
        _, patterns, _ = validate_lowrank(np.ones((0, N), np.int8), patterns,
                                               np.zeros((0, np.atleast_2d(patterns).shape[0]), np.int64), False)
        P = patterns.shape[0]
        if dev[1].shape[1] != P:
            raise ValueError(f"device overlaps must have shape (n_chains, {P}), got {tuple(dev[1].shape)}")
        host = None
    beta, seed, sweep, n_sweeps = check_sweep_args(beta, seed, sweep, n_sweeps)
    J, h = check_real("J", J), check_real("h", h)
    table, use_table = lowrank_tables(beta, J, h, P, N, heatbath)
    d_pat, d_table = cuda.to_device(patterns), cuda.to_device(np.array(table))

    def make_args(st):
        return (st[0], d_pat, st[1], d_table, bool(use_table), beta, J, h, bool(heatbath), seed, STREAM_MEANFIELD,
                sweep, n_sweeps)
    return _run(_lowrank_kernel, host, dev, make_args, n_sweeps, block_size)


def potts_mf_sweep(states, counts, q, beta, J=1.0, h=0.0, *, seed, sweep=0, n_sweeps=1, heatbath=False,
                   check_values=True, block_size=DEFAULT_BLOCK_SIZE):
    """Mean-field Potts sweeps on the GPU; as :func:`fastmf.kernels.meanfield_cpu.potts_mf_sweep`."""
    dev = _state_arrays([("states", states, np.uint8), ("counts", counts, np.int64)])
    if dev is None:
        q, states, counts = validate_potts_mf(states, counts, q, check_values)
        host, N = (states, counts), states.shape[1]
    else:
        q = validate_potts_mf(np.zeros((0, 2), np.uint8), np.zeros((0, int(q)), np.int64), q, False)[0]
        if dev[1].shape[1] != q:
            raise ValueError(f"device counts must have shape (n_chains, {q}), got {tuple(dev[1].shape)}")
        host, N = None, dev[0].shape[1]
    beta, seed, sweep, n_sweeps = check_sweep_args(beta, seed, sweep, n_sweeps)
    J, h = check_real("J", J), check_real("h", h)
    d_table = cuda.to_device(np.array(_ml.potts_mf_metropolis_table(beta, J, h, N)))
    d_weights = cuda.to_device(np.array(_ml.potts_mf_heatbath_weights(beta, J, h, N)))

    def make_args(st):
        return (st[0], st[1], q, d_table, d_weights, bool(heatbath), seed, STREAM_MEANFIELD, sweep, n_sweeps)
    return _run(_potts_kernel, host, dev, make_args, n_sweeps, block_size)


def glass_sweep(spins, indptr, indices, weights, fields, local_fields, beta, *, seed, sweep=0, n_sweeps=1,
                heatbath=False, check_values=True, block_size=DEFAULT_BLOCK_SIZE):
    """Spin-glass sweeps on the GPU; as :func:`fastmf.kernels.meanfield_cpu.glass_sweep` (bit-identical for
    integer couplings). The graph is given as host arrays."""
    dev = _state_arrays([("spins", spins, np.int8), ("local_fields", local_fields, np.float64)])
    if dev is None:
        spins, indptr, indices, weights, fields, local_fields = validate_glass(
            spins, indptr, indices, weights, fields, local_fields, check_values)
        host = (spins, local_fields)
    else:
        N = dev[0].shape[1]
        _, indptr, indices, weights, fields, _ = validate_glass(
            np.ones((1, N), np.int8), indptr, indices, weights, fields, np.zeros((1, N)), False)
        host = None
    beta, seed, sweep, n_sweeps = check_sweep_args(beta, seed, sweep, n_sweeps)
    graph = [cuda.to_device(a) for a in (indptr, indices, weights, fields)]

    def make_args(st):
        return (st[0], *graph, st[1], beta, bool(heatbath), seed, STREAM_MEANFIELD, sweep, n_sweeps)
    return _run(_glass_kernel, host, dev, make_args, n_sweeps, block_size)
