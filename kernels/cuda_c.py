"""The CUDA C kernels (``cuda/*.cu``): sources, CuPy launchers, and a host emulation for tests without a GPU.

Three ways to run the same ``cuda/lattice.cu``:

* on a GPU through CuPy (``cupy_*`` functions): NVRTC compiles the source at run time (``RawModule``);
* on the CPU through a *host emulation* (``emulated_*``): the system C++ compiler builds ``lattice.cu``
  with ``cuda/host_emulation.h`` into a shared library whose launcher loops over blocks and threads;
  it is loaded with ctypes. This is how the CUDA C logic is tested without a GPU;
* ``nvcc --ptx`` (:func:`nvcc_ptx_compile`) checks that the sources compile for the device.

Argument preparation (validation, thresholds, grid, the exact kernel arguments) is written once against an
array module ``xp`` (:func:`prepare_ising`, :func:`prepare_potts`) and shared by the CuPy and emulated
paths, so the tests exercise the CuPy glue with ``xp = numpy``.

Kernels covered: Ising (Metropolis and heat-bath, both through the 10-entry threshold table), Potts
(Metropolis through the 27-entry table, heat-bath through the 10 Boltzmann weights) and a Philox
known-answer kernel. The per-bond (quenched) model is Numba-only (:mod:`fastmf.kernels.lattice_cuda`).
"""
import ctypes
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from importlib import resources

import numpy as np

from ._gpu_validation import device_lattice_shape
from .validation import check_real
from .lattice_cpu import (_check_q, check_sweep_args, ising_flip_table, potts_heatbath_weights,
                          potts_metropolis_table, validate_lattice)
from .philox import STREAM_CHECKERBOARD

__all__ = ["SOURCES", "KERNELS", "load_source", "kernel_source", "prepare_ising", "prepare_potts",
           "cupy_checkerboard_sweep", "cupy_potts_checkerboard_sweep", "cupy_philox4x32",
           "emulated_checkerboard_sweep", "emulated_potts_checkerboard_sweep", "emulated_philox4x32",
           "build_emulation", "find_cxx", "find_nvcc", "nvcc_ptx_compile", "CompilerNotFoundError",
           "DEFAULT_BLOCK_SIZE"]

SOURCES = ("philox.cuh", "lattice.cu", "host_emulation.h")
KERNELS = ("fastmf_philox4x32_kernel", "fastmf_ising_checkerboard", "fastmf_potts_checkerboard")
DEFAULT_BLOCK_SIZE = 128
_MAX_GRID = 2 ** 31 - 1
# Without FMA contraction the Potts heat-bath's double arithmetic rounds exactly as on the CPU.
NVRTC_OPTIONS = ("-std=c++14", "--fmad=false")
CXX_FLAGS = ("-std=c++14", "-O2", "-shared", "-fPIC", "-ffp-contract=off", "-Wno-unknown-pragmas")

_INSTALL_HINT = 'install the GPU extra (pip install "fastmf[cuda]") or use backend="cpu"'


class CompilerNotFoundError(RuntimeError):
    """No C++ compiler was found for the host emulation build."""


# ----------------------------------------------------------------------------------------------
# Sources.

def load_source(name):
    """Text of ``cuda/<name>`` (package data of ``fastmf.kernels``), e.g. ``load_source("lattice.cu")``."""
    if name not in SOURCES:
        raise ValueError(f"unknown CUDA source {name!r}; expected one of {SOURCES}")
    return resources.files(__package__).joinpath("cuda", name).read_text(encoding="utf-8")


_INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*"([^"]+)"[ \t]*$', re.MULTILINE)


def kernel_source(name="lattice.cu"):
    """``name`` with its local ``#include "..."`` lines replaced by the files' text (for NVRTC, which cannot
    see package data inside a wheel or zip)."""
    seen = set()

    def expand(text):
        def repl(match):
            inc = match.group(1)
            if inc in seen:  # include guards make repeats empty anyway
                return ""
            seen.add(inc)
            return expand(load_source(inc))
        return _INCLUDE.sub(repl, text)

    return expand(load_source(name))


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


def _launch_shape(n_threads, block_size):
    if isinstance(block_size, bool) or not isinstance(block_size, (int, np.integer)) or not 1 <= block_size <= 1024:
        raise ValueError(f"block_size must be an integer in [1, 1024], got {block_size!r}")
    block = min(int(block_size), max(n_threads, 1))
    grid = (n_threads + block - 1) // block
    if grid > _MAX_GRID:
        raise ValueError(f"too many (replica, group) pairs for one launch: {n_threads}")
    return grid, block


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
    grid, block = _launch_shape(_counts(spins3.shape), block_size)
    n_rep, L, M = spins3.shape
    table = xp.asarray(ising_flip_table(beta, J, h, heatbath))
    head = (spins3, table, np.int32(n_rep), np.int32(L), np.int32(M))
    return LaunchPlan("fastmf_ising_checkerboard", grid, block, n_sweeps, sweep, spins3,
                      xp.zeros(1, dtype=np.uint64), head, seed)


def prepare_potts(states, q, beta, J=1.0, h=0.0, *, seed, sweep=0, n_sweeps=1, heatbath=False, check_values=True,
                  block_size=DEFAULT_BLOCK_SIZE, xp=np):
    """Validate and build the :class:`LaunchPlan` of ``fastmf_potts_checkerboard`` (arrays of module ``xp``)."""
    q = _check_q(q)
    spins3 = _check_xp_lattice(states, np.uint8, q, check_values, "states", xp)
    beta, seed, sweep, n_sweeps = check_sweep_args(beta, seed, sweep, n_sweeps)
    J, h = check_real("J", J), check_real("h", h)
    grid, block = _launch_shape(_counts(spins3.shape), block_size)
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


def _to_cupy(spins):
    """(device array, host view or None): NumPy input travels to the GPU and back."""
    cupy = _cupy()
    if isinstance(spins, np.ndarray):
        return cupy.asarray(spins), spins
    return spins, None


def cupy_checkerboard_sweep(spins, beta, J=1.0, h=0.0, *, seed, sweep=0, n_sweeps=1, heatbath=False,
                            check_values=True, block_size=DEFAULT_BLOCK_SIZE):
    """Ising checkerboard sweeps with the CUDA C kernel through CuPy; same contract as
    :func:`fastmf.kernels.lattice_cpu.checkerboard_sweep` (NumPy input is copied to the GPU and back, CuPy
    input is updated in place). Raises RuntimeError without CuPy or a GPU."""
    cupy = _cupy()
    if isinstance(spins, np.ndarray):  # validate on the host before paying for the transfer
        host = validate_lattice(spins, np.int8, check_values=check_values)
        plan = prepare_ising(cupy.asarray(host), beta, J, h, seed=seed, sweep=sweep, n_sweeps=n_sweeps,
                             heatbath=heatbath, check_values=False, block_size=block_size, xp=cupy)
        return _run_cupy(plan, host)
    plan = prepare_ising(spins, beta, J, h, seed=seed, sweep=sweep, n_sweeps=n_sweeps, heatbath=heatbath,
                         check_values=check_values, block_size=block_size, xp=cupy)
    return _run_cupy(plan, None)


def cupy_potts_checkerboard_sweep(states, q, beta, J=1.0, h=0.0, *, seed, sweep=0, n_sweeps=1, heatbath=False,
                                  check_values=True, block_size=DEFAULT_BLOCK_SIZE):
    """Potts checkerboard sweeps with the CUDA C kernel through CuPy (see :func:`cupy_checkerboard_sweep`)."""
    cupy = _cupy()
    if isinstance(states, np.ndarray):
        host = validate_lattice(states, np.uint8, q=_check_q(q), check_values=check_values, name="states")
        plan = prepare_potts(cupy.asarray(host), q, beta, J, h, seed=seed, sweep=sweep, n_sweeps=n_sweeps,
                             heatbath=heatbath, check_values=False, block_size=block_size, xp=cupy)
        return _run_cupy(plan, host)
    plan = prepare_potts(states, q, beta, J, h, seed=seed, sweep=sweep, n_sweeps=n_sweeps, heatbath=heatbath,
                         check_values=check_values, block_size=block_size, xp=cupy)
    return _run_cupy(plan, None)


def cupy_philox4x32(counters, keys):
    """Philox4x32-10 of ``counters`` (n, 4) and ``keys`` (n, 2) on the GPU -> (n, 4) uint32 NumPy array."""
    cupy = _cupy()
    counters, keys, n = _philox_inputs(counters, keys)
    out = cupy.empty((n, 4), dtype=np.uint32)
    if n:
        fn = _cupy_module().get_function("fastmf_philox4x32_kernel")
        fn(((n + 127) // 128,), (128,), (cupy.asarray(counters), cupy.asarray(keys), out, np.int64(n)))
    return cupy.asnumpy(out)


# ----------------------------------------------------------------------------------------------
# Host emulation (C++ compiler + ctypes).

_EMULATION_DRIVER = '#include "host_emulation.h"\n#include "lattice.cu"\n' + "".join(
    f"FASTMF_EMULATE({k})\n" for k in KERNELS)
_emulation_cache = {}
_CTYPES = {np.dtype(np.int32): ctypes.c_int32, np.dtype(np.uint32): ctypes.c_uint32,
           np.dtype(np.int64): ctypes.c_int64, np.dtype(np.uint64): ctypes.c_uint64}


def find_cxx():
    """Path of the C++ compiler: ``$CXX``, else the first of c++, g++, clang++ on PATH, else None."""
    env = os.environ.get("CXX")
    if env:  # may carry flags, e.g. "ccache g++"; honoured only when its program exists
        return env if shutil.which(env.split()[0]) else None
    for name in ("c++", "g++", "clang++"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _cache_dir():
    """``$FASTMF_CACHE_DIR``, else ``$XDG_CACHE_HOME/fastmf`` or ``~/.cache/fastmf``; the temp dir if unwritable."""
    base = os.environ.get("FASTMF_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "fastmf")
    for path in (base, os.path.join(tempfile.gettempdir(), f"fastmf-{os.getuid() if hasattr(os, 'getuid') else 0}")):
        try:
            os.makedirs(path, exist_ok=True)
            if os.access(path, os.W_OK):
                return path
        except OSError:
            continue
    raise RuntimeError("no writable cache directory for the host emulation build; set FASTMF_CACHE_DIR")


def build_emulation(cxx=None, timeout=120):
    """Build (once; cached by a hash of the sources, compiler and flags) and load the host emulation library.

    Returns the ``ctypes.CDLL``. The library exports ``fastmf_emu_<kernel>(grid, block, void **args)`` for each
    name in :data:`KERNELS`. Raises :class:`CompilerNotFoundError` without a C++ compiler and RuntimeError when
    the build fails.
    """
    cxx = cxx or find_cxx()
    if not cxx:
        raise CompilerNotFoundError("no C++ compiler found (tried $CXX, c++, g++, clang++): the host emulation of "
                                    "the CUDA C kernels needs one")
    sources = {name: load_source(name) for name in SOURCES}
    digest = hashlib.sha256()
    for part in (cxx, *CXX_FLAGS, _EMULATION_DRIVER, *(sources[n] for n in SOURCES), sys.platform):
        digest.update(part.encode() + b"\0")
    key = digest.hexdigest()[:16]
    if key in _emulation_cache:
        return _emulation_cache[key]
    suffix = ".dll" if sys.platform == "win32" else ".so"
    cache = _cache_dir()
    target = os.path.join(cache, f"fastmf_cuda_emulation_{key}{suffix}")
    if not os.path.exists(target):
        with tempfile.TemporaryDirectory(dir=cache, prefix="build-") as tmp:
            for name, text in sources.items():
                with open(os.path.join(tmp, name), "w", encoding="utf-8") as f:
                    f.write(text)
            driver = os.path.join(tmp, "emulation.cpp")
            with open(driver, "w", encoding="utf-8") as f:
                f.write(_EMULATION_DRIVER)
            out = os.path.join(tmp, "lib" + suffix)
            cmd = [*cxx.split(), *CXX_FLAGS, "-I", tmp, driver, "-o", out]
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
            except subprocess.TimeoutExpired as exc:
                raise RuntimeError(f"host emulation build timed out after {timeout} s: {' '.join(cmd)}") from exc
            if proc.returncode != 0:
                raise RuntimeError(f"host emulation build failed ({' '.join(cmd)}):\n{proc.stderr}")
            os.replace(out, target)  # atomic: concurrent builders never see a half-written library
    lib = ctypes.CDLL(target)
    for name in KERNELS:
        fn = getattr(lib, "fastmf_emu_" + name)
        fn.argtypes = (ctypes.c_uint, ctypes.c_uint, ctypes.POINTER(ctypes.c_void_p))
        fn.restype = ctypes.c_int
    _emulation_cache[key] = lib
    return lib


def _launch_emulated(lib, kernel, grid, block, args):
    """Call the emulated launcher with ``args`` as a ``void *[]`` (arrays by data pointer, scalars by dtype)."""
    holders = []
    for a in args:
        if isinstance(a, np.ndarray):
            if not a.flags.c_contiguous:
                raise ValueError("emulated kernels need C-contiguous arrays")
            holders.append(ctypes.c_void_p(a.ctypes.data))
        else:
            holders.append(_CTYPES[np.asarray(a).dtype](a))
    argv = (ctypes.c_void_p * len(holders))(*(ctypes.addressof(x) for x in holders))
    rc = getattr(lib, "fastmf_emu_" + kernel)(grid, block, argv)
    if rc:
        raise RuntimeError(f"emulated launch of {kernel} failed (grid={grid}, block={block})")


def _run_emulated(plan):
    lib = build_emulation()
    if plan.grid:
        for t in range(plan.n_sweeps):
            for colour in range(2):
                _launch_emulated(lib, plan.kernel, plan.grid, plan.block, plan.args(t, colour))
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
        _launch_emulated(build_emulation(), "fastmf_philox4x32_kernel", (n + block_size - 1) // block_size,
                         block_size, (counters, keys, out, np.int64(n)))
    return out


# ----------------------------------------------------------------------------------------------
# nvcc.

def find_nvcc():
    """Path of nvcc: on PATH, else under ``$CUDA_HOME``/``$CUDA_PATH``/``/usr/local/cuda``; None if absent."""
    path = shutil.which("nvcc")
    if path:
        return path
    for root in (os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"), "/usr/local/cuda"):
        if root and os.path.isfile(os.path.join(root, "bin", "nvcc")):
            return os.path.join(root, "bin", "nvcc")
    return None


def _nvcc_arch(nvcc, timeout):
    """The lowest virtual architecture this nvcc supports (``compute_75`` for CUDA 13)."""
    try:
        proc = subprocess.run([nvcc, "--list-gpu-arch"], capture_output=True, text=True, timeout=timeout)
        archs = sorted(re.findall(r"compute_(\d+)\b", proc.stdout), key=int)
        if archs:
            return f"compute_{archs[0]}"
    except (OSError, subprocess.TimeoutExpired):
        pass
    return "compute_75"


def nvcc_ptx_compile(path, arch=None, timeout=120, extra_flags=()):
    """Compile a CUDA source file to PTX with ``nvcc --ptx`` and return the PTX text.

    Parameters
    ----------
    path : str or path-like
        A ``.cu`` (or ``.cuh``, compiled as CUDA) file; its directory is on the include path.
    arch : str, optional
        ``-arch`` value, default: the lowest ``compute_XX`` this nvcc lists.
    timeout : float
        Seconds before the compilation is abandoned (RuntimeError).

    Raises
    ------
    FileNotFoundError
        nvcc is not installed.
    RuntimeError
        Compilation failed or timed out (the message holds nvcc's output).
    """
    nvcc = find_nvcc()
    if nvcc is None:
        raise FileNotFoundError("nvcc not found (PATH, $CUDA_HOME, /usr/local/cuda)")
    path = os.fspath(path)
    arch = arch or _nvcc_arch(nvcc, timeout)
    with tempfile.TemporaryDirectory(prefix="fastmf-ptx-") as tmp:
        out = os.path.join(tmp, "out.ptx")
        cmd = [nvcc, "--ptx", f"-arch={arch}", "-std=c++14", "--fmad=false", "-I", os.path.dirname(path) or ".",
               *extra_flags, "-o", out]
        cmd += ["-x", "cu", path] if not path.endswith(".cu") else [path]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(f"nvcc timed out after {timeout} s: {' '.join(cmd)}") from exc
        if proc.returncode != 0:
            raise RuntimeError(f"nvcc failed ({' '.join(cmd)}):\n{proc.stdout}{proc.stderr}")
        with open(out, encoding="utf-8") as f:
            return f.read()
