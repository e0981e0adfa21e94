"""The CUDA C sources (``cuda/*.cu``, ``cuda/*.cuh``) and the tools that build them without a GPU.

Package-internal API of :mod:`fastmf.kernels.lattice_cupy`, which re-exports the public names:

* the sources: :data:`SOURCES`, :data:`KERNELS`, :func:`load_source`, :func:`kernel_source` (includes inlined,
  for NVRTC);
* the host emulation: :func:`build_emulation` compiles ``lattice.cu`` with ``cuda/host_emulation.h`` with the
  system C++ compiler (:func:`find_cxx`) into a shared library whose launcher loops over blocks and threads,
  and :func:`launch_emulated` calls one of its kernels through ctypes;
* ``nvcc --ptx`` (:func:`find_nvcc`, :func:`nvcc_ptx_compile`): checks that the sources compile for the
  device.

This module imports neither CuPy nor Numba-CUDA.
"""
import ctypes
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from importlib import resources

import numpy as np

__all__ = ["CXX_FLAGS", "KERNELS", "SOURCES", "CompilerNotFoundError", "build_emulation",
           "cache_dir", "find_cxx", "find_nvcc", "kernel_source", "launch_emulated", "load_source",
           "nvcc_ptx_compile"]

SOURCES = ("philox.cuh", "lattice.cu", "host_emulation.h")
KERNELS = ("fastmf_philox4x32_kernel", "fastmf_ising_checkerboard", "fastmf_potts_checkerboard")
# -ffp-contract=off: no FMA contraction, so the Potts heat-bath's double arithmetic rounds as on the CPU.
CXX_FLAGS = ("-std=c++14", "-O2", "-shared", "-fPIC", "-ffp-contract=off", "-Wno-unknown-pragmas")


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
# Host emulation (C++ compiler + ctypes): the kernels on the CPU, for tests without a GPU.

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


def cache_dir():
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
    cache = cache_dir()
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


def launch_emulated(lib, kernel, grid, block, args):
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
