"""Checkerboard sweeps of 2D lattice models with the CUDA C kernels (``cuda/*.cu``) through CuPy.

:func:`checkerboard_sweep` and :func:`potts_checkerboard_sweep` have the names, arguments and results of
:mod:`fastmf.kernels.lattice_cpu` (plus ``block_size``): NVRTC compiles ``cuda/lattice.cu`` at run time
(``RawModule``) and every draw is a function of (seed, sweep, replica, site) alone, so the trajectories equal
the CPU's bit for bit. The per-bond (quenched) model is Numba-only (:mod:`fastmf.kernels.lattice_cuda`).

The same ``cuda/lattice.cu`` also runs without a GPU, which is how its logic is tested:

* through a *host emulation* (``emulated_*`` functions): the system C++ compiler builds ``lattice.cu`` with
  ``cuda/host_emulation.h`` into a shared library whose launcher loops over blocks and threads; it is
  loaded with ctypes (:func:`build_emulation`);
* ``nvcc --ptx`` (:func:`nvcc_ptx_compile`) checks that the sources compile for the device.

Argument preparation (validation, thresholds, grid, the exact kernel arguments) is written once against an
array module ``xp`` (:func:`prepare_ising`, :func:`prepare_potts`) and shared by the CuPy and emulated
paths, so the tests exercise the CuPy glue with ``xp = numpy``.

Kernels covered: Ising (Metropolis and heat-bath, both through the 10-entry threshold table), Potts
(Metropolis through the 27-entry table, heat-bath through the 10 Boltzmann weights) and a Philox
known-answer kernel (:func:`philox4x32_array`). This module needs no Numba-CUDA; CuPy is imported only when a
CuPy function is called.
"""
from dataclasses import dataclass

import numpy as np

from ._checks import check_q, check_real, check_sweep_args, device_lattice_shape, launch_config, validate_lattice
# The sources and the GPU-free toolchain (host emulation, nvcc) live in _cuda_c and are public here too.
from ._cuda_c import (KERNELS, SOURCES, CompilerNotFoundError, build_emulation, find_cxx, find_nvcc,  # noqa: F401
                      kernel_source, launch_emulated, load_source, nvcc_ptx_compile)
from .lattice_logic import ising_flip_table, potts_heatbath_weights, potts_metropolis_table
from .philox import STREAM_CHECKERBOARD

__all__ = ["checkerboard_sweep", "potts_checkerboard_sweep", "philox4x32_array", "NVRTC_OPTIONS",
           "SOURCES", "KERNELS", "load_source", "kernel_source", "LaunchPlan", "prepare_ising", "prepare_potts",
           "emulated_checkerboard_sweep", "emulated_potts_checkerboard_sweep", "emulated_philox4x32",
           "build_emulation", "find_cxx", "find_nvcc", "nvcc_ptx_compile", "CompilerNotFoundError",
           "DEFAULT_BLOCK_SIZE"]

DEFAULT_BLOCK_SIZE = 128
# Without FMA contraction the Potts heat-bath's double arithmetic rounds exactly as on the CPU.
NVRTC_OPTIONS = ("-std=c++14", "--fmad=false")
_MAX_GRID = 2 ** 31 - 1

_INSTALL_HINT = 'install the GPU extra (pip install "fastmf[cuda]") or use backend="cpu"'


# ----------------------------------------------------------------------------------------------
# Argument preparation, shared by CuPy and the host emulation (written against ``xp``).

@dataclass
class LaunchPlan:
    """Everything needed to launch one kernel for every (sweep, colour).

    ``args(t, colour)`` returns the kernel's argument tuple for sweep ``sweep + t``: arrays of ``xp`` and
    NumPy scalars whose dtypes are the kernel's parameter types (CuPy passes them by dtype; the emulation
    converts them to ctypes).
    """
    kernel: str
    grid: int
    block: int
    n_sweeps: int
    sweep: int
    spins: object        # 3D view of the caller's array (xp)
    counter: object      # xp.zeros(1, uint64): accepted moves
    head: tuple          # arguments before (seed, stream, sweep, colour, counter)
    seed: int

    def args(self, t, colour):
        return self.head + (np.uint32(self.seed), np.uint32(STREAM_CHECKERBOARD), np.uint32(self.sweep + t),
                            np.int32(colour), self.counter)


def _check_xp_lattice(spins, dtype, q, check_values, name, xp):
    """Validate a spin array of module ``xp`` (NumPy arrays get the CPU's checks); return the 3D view."""
    if isinstance(spins, np.ndarray):
        return validate_lattice(spins, dtype, q=q, check_values=check_values, name=name)
    if not hasattr(spins, "__cuda_array_interface__") and xp is not np:
        raise TypeError(f"{name} must be a NumPy or CuPy array, got {type(spins).__name__}")
    shape3 = device_lattice_shape(spins.shape, np.dtype(spins.dtype), bool(spins.flags.c_contiguous), dtype,
                                  q=q, name=name)
    if check_values and spins.size and not _values_ok(spins, dtype, q, xp):
        raise ValueError(f"{name} must contain only -1 and +1" if dtype == np.int8
                         else f"{name} must contain Potts states 0..{q - 1}")
    return spins.reshape(shape3)


def _values_ok(spins, dtype, q, xp):
    """Value check by reductions (no full-size temporaries): +-1 for int8, < q for uint8."""
    if dtype == np.int8:
        return (int(xp.count_nonzero(spins)) == spins.size and int(spins.min()) >= -1 and int(spins.max()) <= 1)
    return int(spins.max()) < q


def _counts(shape3):
    n_rep, L, M = shape3
    return n_rep * (((L * M) // 2 + 3) // 4)


def prepare_ising(spins, beta, J=1.0, h=0.0, *, seed, sweep=0, n_sweeps=1, heatbath=False, check_values=True,
                  block_size=DEFAULT_BLOCK_SIZE, xp=np):
    """Validate and build the :class:`LaunchPlan` of ``fastmf_ising_checkerboard`` (arrays of module ``xp``)."""
    spins3 = _check_xp_lattice(spins, np.int8, 2, check_values, "spins", xp)
    beta, seed, sweep, n_sweeps = check_sweep_args(beta, seed, sweep, n_sweeps)
    J, h = check_real("J", J), check_real("h", h)
    grid, block = launch_config(_counts(spins3.shape), block_size, max_grid=_MAX_GRID)
    n_rep, L, M = spins3.shape
    table = xp.asarray(ising_flip_table(beta, J, h, heatbath))
    head = (spins3, table, np.int32(n_rep), np.int32(L), np.int32(M))
    return LaunchPlan("fastmf_ising_checkerboard", grid, block, n_sweeps, sweep, spins3,
                      xp.zeros(1, dtype=np.uint64), head, seed)


def prepare_potts(states, q, beta, J=1.0, h=0.0, *, seed, sweep=0, n_sweeps=1, heatbath=False, check_values=True,
                  block_size=DEFAULT_BLOCK_SIZE, xp=np):
    """Validate and build the :class:`LaunchPlan` of ``fastmf_potts_checkerboard`` (arrays of module ``xp``)."""
    q = check_q(q)
    spins3 = _check_xp_lattice(states, np.uint8, q, check_values, "states", xp)
    beta, seed, sweep, n_sweeps = check_sweep_args(beta, seed, sweep, n_sweeps)
    J, h = check_real("J", J), check_real("h", h)
    grid, block = launch_config(_counts(spins3.shape), block_size, max_grid=_MAX_GRID)
    n_rep, L, M = spins3.shape
    table = xp.asarray(potts_metropolis_table(beta, J, h))
    weights = xp.asarray(potts_heatbath_weights(beta, J, h))
    head = (spins3, table, weights, np.int32(n_rep), np.int32(L), np.int32(M), np.int32(q),
            np.int32(bool(heatbath)))
    return LaunchPlan("fastmf_potts_checkerboard", grid, block, n_sweeps, sweep, spins3,
                      xp.zeros(1, dtype=np.uint64), head, seed)


def _philox_inputs(counters, keys):
    counters = np.atleast_2d(np.asarray(counters, dtype=np.uint64))
    keys = np.atleast_2d(np.asarray(keys, dtype=np.uint64))
    if counters.shape[1:] != (4,) or keys.shape[1:] != (2,) or counters.ndim != 2 or keys.ndim != 2:
        raise ValueError(f"expected counters of shape (n, 4) and keys (n, 2), got {counters.shape}, {keys.shape}")
    n = max(counters.shape[0], keys.shape[0])
    counters = np.ascontiguousarray(np.broadcast_to(counters, (n, 4)).astype(np.uint32))
    keys = np.ascontiguousarray(np.broadcast_to(keys, (n, 2)).astype(np.uint32))
    return counters, keys, n


# ----------------------------------------------------------------------------------------------
# CuPy.

_cupy_cache = {}


def _cupy():
    """Import CuPy and check for a GPU, or raise a RuntimeError that says what to do."""
    try:
        import cupy
    except ImportError as exc:
        raise RuntimeError(f"the CUDA backend needs CuPy and an NVIDIA GPU: {_INSTALL_HINT}") from exc
    try:
        n_devices = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDARuntimeError without a driver
        raise RuntimeError(f"CuPy found no usable CUDA GPU ({exc}): {_INSTALL_HINT}") from exc
    if n_devices == 0:
        raise RuntimeError(f"CuPy found no CUDA GPU: {_INSTALL_HINT}")
    return cupy


def _cupy_module():
    """The compiled RawModule of ``lattice.cu`` (one per device, compiled once per process)."""
    cupy = _cupy()
    key = cupy.cuda.runtime.getDevice()
    if key not in _cupy_cache:
        _cupy_cache[key] = cupy.RawModule(code=kernel_source("lattice.cu"), options=NVRTC_OPTIONS)
    return _cupy_cache[key]


def _run_cupy(plan, host_out):
    cupy = _cupy()
    fn = _cupy_module().get_function(plan.kernel)
    if plan.grid:
        for t in range(plan.n_sweeps):
            for colour in range(2):
                fn((plan.grid,), (plan.block,), plan.args(t, colour))
    if host_out is not None:
        plan.spins.get(out=host_out)  # back into the caller's NumPy array
    return int(cupy.asnumpy(plan.counter)[0])


def checkerboard_sweep(spins, beta, J=1.0, h=0.0, *, seed, sweep=0, n_sweeps=1, heatbath=False,
                       check_values=True, block_size=DEFAULT_BLOCK_SIZE):
    """Run ``n_sweeps`` checkerboard Metropolis (or heat-bath) sweeps of the Ising model with the CUDA C kernel.

    Same arguments and result as :func:`fastmf.kernels.lattice_cpu.checkerboard_sweep`, plus ``block_size``.

    Parameters
    ----------
    spins : ndarray or cupy.ndarray of int8, shape (n_replicas, L, M) or (L, M)
        +-1 spins (``L``, ``M`` even), updated in place: a NumPy array is validated on the host, copied to
        the GPU and back; a CuPy array is updated on the device (``check_values`` then runs there).
    beta, J, h, seed, sweep, n_sweeps, heatbath, check_values
        As in :func:`fastmf.kernels.lattice_cpu.checkerboard_sweep`.
    block_size : int
        Threads per block (1..1024); does not change the result.

    Returns
    -------
    int
        Number of accepted flips, equal to the CPU kernel's (the spins too, bit for bit).

    Raises
    ------
    RuntimeError
        CuPy is not installed or sees no GPU.
    """
    cupy = _cupy()
    if isinstance(spins, np.ndarray):  # validate on the host before paying for the transfer
        host = validate_lattice(spins, np.int8, check_values=check_values)
        plan = prepare_ising(cupy.asarray(host), beta, J, h, seed=seed, sweep=sweep, n_sweeps=n_sweeps,
                             heatbath=heatbath, check_values=False, block_size=block_size, xp=cupy)
        return _run_cupy(plan, host)
    plan = prepare_ising(spins, beta, J, h, seed=seed, sweep=sweep, n_sweeps=n_sweeps, heatbath=heatbath,
                         check_values=check_values, block_size=block_size, xp=cupy)
    return _run_cupy(plan, None)


def potts_checkerboard_sweep(states, q, beta, J=1.0, h=0.0, *, seed, sweep=0, n_sweeps=1, heatbath=False,
                             check_values=True, block_size=DEFAULT_BLOCK_SIZE):
    """Checkerboard sweeps of the q-state Potts model with the CUDA C kernel; ``h`` favours state 0.

    Same arguments and result as :func:`fastmf.kernels.lattice_cpu.potts_checkerboard_sweep`, plus
    ``block_size``.

    Parameters
    ----------
    states : ndarray or cupy.ndarray of uint8, shape (n_replicas, L, M) or (L, M)
        Potts states ``0..q-1``, updated in place (NumPy arrays are copied to the GPU and back).
    q : int
        Number of states (2..255).
    beta, J, h, seed, sweep, n_sweeps, heatbath, check_values, block_size
        As in :func:`checkerboard_sweep`.

    Returns
    -------
    int
        Number of changed states (heat-bath) or accepted proposals (Metropolis); identical to the CPU's.

    Raises
    ------
    RuntimeError
        CuPy is not installed or sees no GPU.
    """
    cupy = _cupy()
    if isinstance(states, np.ndarray):
        host = validate_lattice(states, np.uint8, q=check_q(q), check_values=check_values, name="states")
        plan = prepare_potts(cupy.asarray(host), q, beta, J, h, seed=seed, sweep=sweep, n_sweeps=n_sweeps,
                             heatbath=heatbath, check_values=False, block_size=block_size, xp=cupy)
        return _run_cupy(plan, host)
    plan = prepare_potts(states, q, beta, J, h, seed=seed, sweep=sweep, n_sweeps=n_sweeps, heatbath=heatbath,
                         check_values=check_values, block_size=block_size, xp=cupy)
    return _run_cupy(plan, None)


def philox4x32_array(counters, keys):
    """Philox4x32-10 on the GPU by the CUDA C kernel; as :func:`fastmf.kernels.philox.philox4x32_array`.

    Parameters
    ----------
    counters : array_like of uint32, shape (n, 4)
        Counter words (rows broadcast against ``keys``).
    keys : array_like of uint32, shape (n, 2)
        Key words.

    Returns
    -------
    ndarray of uint32, shape (n, 4)
        The output words, on the host.

    Raises
    ------
    RuntimeError
        CuPy is not installed or sees no GPU.
    """
    cupy = _cupy()
    counters, keys, n = _philox_inputs(counters, keys)
    out = cupy.empty((n, 4), dtype=np.uint32)
    if n:
        fn = _cupy_module().get_function("fastmf_philox4x32_kernel")
        fn(((n + 127) // 128,), (128,), (cupy.asarray(counters), cupy.asarray(keys), out, np.int64(n)))
    return cupy.asnumpy(out)


# ----------------------------------------------------------------------------------------------
# Host emulation (the library is built by fastmf.kernels._cuda_c).

def _run_emulated(plan):
    lib = build_emulation()
    if plan.grid:
        for t in range(plan.n_sweeps):
            for colour in range(2):
                launch_emulated(lib, plan.kernel, plan.grid, plan.block, plan.args(t, colour))
    return int(plan.counter[0])


def emulated_checkerboard_sweep(spins, beta, J=1.0, h=0.0, *, seed, sweep=0, n_sweeps=1, heatbath=False,
                                check_values=True, block_size=DEFAULT_BLOCK_SIZE):
    """Run the CUDA C Ising kernel on the CPU through the host emulation (NumPy ``spins``, updated in place).

    Same arguments and result as :func:`fastmf.kernels.lattice_cpu.checkerboard_sweep`; for tests.
    """
    plan = prepare_ising(spins, beta, J, h, seed=seed, sweep=sweep, n_sweeps=n_sweeps, heatbath=heatbath,
                         check_values=check_values, block_size=block_size, xp=np)
    return _run_emulated(plan)


def emulated_potts_checkerboard_sweep(states, q, beta, J=1.0, h=0.0, *, seed, sweep=0, n_sweeps=1, heatbath=False,
                                      check_values=True, block_size=DEFAULT_BLOCK_SIZE):
    """Run the CUDA C Potts kernel on the CPU through the host emulation (see :func:`emulated_checkerboard_sweep`)."""
    plan = prepare_potts(states, q, beta, J, h, seed=seed, sweep=sweep, n_sweeps=n_sweeps, heatbath=heatbath,
                         check_values=check_values, block_size=block_size, xp=np)
    return _run_emulated(plan)


def emulated_philox4x32(counters, keys, block_size=32):
    """Philox4x32-10 through the emulated ``fastmf_philox4x32_kernel`` -> (n, 4) uint32."""
    counters, keys, n = _philox_inputs(counters, keys)
    out = np.zeros((n, 4), dtype=np.uint32)
    if n:
        launch_emulated(build_emulation(), "fastmf_philox4x32_kernel", (n + block_size - 1) // block_size,
                         block_size, (counters, keys, out, np.int64(n)))
    return out
