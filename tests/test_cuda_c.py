"""CUDA C kernels (fastmf.kernels.lattice_cupy) without a GPU: host emulation vs the CPU kernels, nvcc --ptx, and
the CuPy glue with NumPy."""
import re
import shutil
import sys
from importlib import resources

import numpy as np
import pytest

from fastmf.kernels import _cuda_c
from fastmf.kernels import lattice_cupy
from fastmf.kernels import lattice_cpu as cpu
from fastmf.kernels.philox import philox4x32_array

PHILOX_KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]
# 6x6 and 10x6: a half-row of 3 sites, so groups straddle rows and the last group is partial.
SHAPES = [(3, 6, 6), (2, 4, 4), (1, 6, 8), (2, 10, 6), (1, 16, 16)]


@pytest.fixture(scope="module")
def emulation(tmp_path_factory):
    """The host emulation library, built into a temporary cache dir (skip without a C++ compiler)."""
    if lattice_cupy.find_cxx() is None:
        pytest.skip("no C++ compiler: the host emulation cannot be built")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FASTMF_CACHE_DIR", str(tmp_path_factory.mktemp("fastmf_cache")))
        yield lattice_cupy.build_emulation()


def ising_spins(shape, seed=0):
    return np.random.default_rng(seed).choice(np.array([-1, 1], np.int8), size=shape)


def potts_states(shape, q, seed=0):
    return np.random.default_rng(seed).integers(0, q, size=shape).astype(np.uint8)


# ----------------------------------------------------------------------------------------------
# Host emulation.

def test_philox_known_answers(emulation):
    counters = [c for c, _, _ in PHILOX_KAT]
    keys = [k for _, k, _ in PHILOX_KAT]
    np.testing.assert_array_equal(lattice_cupy.emulated_philox4x32(counters, keys),
                                  np.array([x for _, _, x in PHILOX_KAT], np.uint32))


def test_philox_matches_python_on_random_inputs(emulation):
    rng = np.random.default_rng(0)
    counters = rng.integers(0, 2 ** 32, size=(257, 4), dtype=np.uint64)
    keys = rng.integers(0, 2 ** 32, size=(257, 2), dtype=np.uint64)
    np.testing.assert_array_equal(lattice_cupy.emulated_philox4x32(counters, keys), philox4x32_array(counters, keys))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("J, h, heatbath", [(1.0, 0.0, False), (1.0, 0.0, True), (-1.0, 0.0, False),
                                            (-1.0, 0.3, True), (1.0, -0.5, False), (0.7, 0.2, True)])
def test_ising_bit_identical(emulation, shape, J, h, heatbath):
    spins = ising_spins(shape, seed=sum(shape))
    ref, out = spins.copy(), spins.copy()
    kwargs = dict(seed=987654321, sweep=11, n_sweeps=3, heatbath=heatbath)
    n_ref = cpu.checkerboard_sweep(ref, 0.44, J, h, **kwargs)
    n_out = lattice_cupy.emulated_checkerboard_sweep(out, 0.44, J, h, block_size=5, **kwargs)
    assert n_out == n_ref > 0
    np.testing.assert_array_equal(out, ref)


@pytest.mark.parametrize("block_size", [1, 3, 32, 128, 1024])
def test_result_independent_of_block_size(emulation, block_size):
    spins = ising_spins((2, 10, 6), seed=4)
    ref, out = spins.copy(), spins.copy()
    n_ref = cpu.checkerboard_sweep(ref, 0.3, seed=5, n_sweeps=2)
    assert lattice_cupy.emulated_checkerboard_sweep(out, 0.3, seed=5, n_sweeps=2, block_size=block_size) == n_ref
    np.testing.assert_array_equal(out, ref)


def test_ising_2d_input_updated_in_place(emulation):
    spins = ising_spins((6, 6), seed=1)
    ref = spins.copy()
    n_ref = cpu.checkerboard_sweep(ref, 0.6, seed=3, n_sweeps=4)
    assert lattice_cupy.emulated_checkerboard_sweep(spins, 0.6, seed=3, n_sweeps=4) == n_ref
    np.testing.assert_array_equal(spins, ref)
    assert lattice_cupy.emulated_checkerboard_sweep(spins, 0.6, seed=3, n_sweeps=0) == 0
    assert lattice_cupy.emulated_checkerboard_sweep(np.ones((0, 4, 4), np.int8), 0.6, seed=3) == 0


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("q, J, h, heatbath", [(3, 1.0, 0.0, False), (4, 1.0, 0.3, False), (2, -1.0, 0.1, False),
                                               (3, 1.0, 0.2, True), (5, 1.0, 0.0, True), (7, -0.5, 0.4, True)])
def test_potts_bit_identical(emulation, shape, q, J, h, heatbath):
    states = potts_states(shape, q, seed=q + shape[1])
    ref, out = states.copy(), states.copy()
    kwargs = dict(seed=31337, sweep=2, n_sweeps=3, heatbath=heatbath)
    n_ref = cpu.potts_checkerboard_sweep(ref, q, 0.9, J, h, **kwargs)
    n_out = lattice_cupy.emulated_potts_checkerboard_sweep(out, q, 0.9, J, h, block_size=7, **kwargs)
    assert n_out == n_ref > 0
    np.testing.assert_array_equal(out, ref)


def test_validation_matches_cpu(emulation):
    for bad in (np.ones((4, 4), np.int16), np.ones((4, 5), np.int8), np.zeros((4, 4), np.int8)):
        with pytest.raises((TypeError, ValueError)) as ref:
            cpu.checkerboard_sweep(bad.copy(), 0.4, seed=0)
        with pytest.raises(type(ref.value), match=re.escape(str(ref.value))):
            lattice_cupy.emulated_checkerboard_sweep(bad.copy(), 0.4, seed=0)
    with pytest.raises(ValueError, match="q"):
        lattice_cupy.emulated_potts_checkerboard_sweep(potts_states((4, 4), 2), 300, 0.4, seed=0)
    with pytest.raises(ValueError, match="block_size"):
        lattice_cupy.emulated_checkerboard_sweep(ising_spins((4, 4)), 0.4, seed=0, block_size=2048)


def test_emulated_launch_rejects_bad_block(emulation):
    out = np.zeros((1, 4), np.uint32)
    with pytest.raises(RuntimeError, match="emulated launch"):
        lattice_cupy.launch_emulated(emulation, "fastmf_philox4x32_kernel", 1, 0,
                                (np.zeros((1, 4), np.uint32), np.zeros((1, 2), np.uint32), out, np.int64(1)))


def test_build_is_cached(emulation, tmp_path, monkeypatch):
    assert lattice_cupy.build_emulation() is emulation
    # A fresh cache dir with another (equivalent) compiler string builds a new library file atomically.
    monkeypatch.setenv("FASTMF_CACHE_DIR", str(tmp_path))
    cxx = lattice_cupy.find_cxx() + " "
    lib = lattice_cupy.build_emulation(cxx=cxx)
    files = [p.name for p in tmp_path.iterdir()]
    assert len(files) == 1 and files[0].startswith("fastmf_cuda_emulation_")
    assert lattice_cupy.build_emulation(cxx=cxx) is lib


def test_missing_compiler_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(_cuda_c, "find_cxx", lambda: None)  # where build_emulation looks
    with pytest.raises(lattice_cupy.CompilerNotFoundError, match="C\\+\\+ compiler"):
        lattice_cupy.build_emulation()


# ----------------------------------------------------------------------------------------------
# Sources and nvcc.

def test_load_source_and_inlining():
    text = lattice_cupy.load_source("lattice.cu")
    assert '#include "philox.cuh"' in text and "fastmf_ising_checkerboard" in text
    inlined = lattice_cupy.kernel_source("lattice.cu")
    assert "#include \"philox.cuh\"" not in inlined
    assert inlined.count("void fastmf_philox4x32(") == 1
    with pytest.raises(ValueError, match="unknown CUDA source"):
        lattice_cupy.load_source("nope.cu")


def _cuda_files():
    folder = resources.files("fastmf.kernels").joinpath("cuda")
    return sorted(p.name for p in folder.iterdir() if p.name.endswith((".cu", ".cuh")))


@pytest.mark.skipif(lattice_cupy.find_nvcc() is None, reason="nvcc is not installed")
@pytest.mark.parametrize("name", _cuda_files())
def test_nvcc_ptx_compiles(name):
    with resources.as_file(resources.files("fastmf.kernels").joinpath("cuda", name)) as path:
        ptx = lattice_cupy.nvcc_ptx_compile(path, timeout=120)
    assert ".version" in ptx
    if name == "lattice.cu":
        for kernel in lattice_cupy.KERNELS:
            assert re.search(rf"\.entry\s+{kernel}\s*\(", ptx), kernel


def test_nvcc_missing_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(_cuda_c, "find_nvcc", lambda: None)  # where nvcc_ptx_compile looks
    with pytest.raises(FileNotFoundError, match="nvcc"):
        lattice_cupy.nvcc_ptx_compile("lattice.cu")


# ----------------------------------------------------------------------------------------------
# CuPy glue, run with NumPy.

_C_TYPES = {"signed char*": ("ptr", np.int8), "unsigned char*": ("ptr", np.uint8),
            "fastmf_u64*": ("ptr", np.uint64), "double*": ("ptr", np.float64), "fastmf_u32*": ("ptr", np.uint32),
            "int": ("scalar", np.int32), "fastmf_u32": ("scalar", np.uint32), "long long": ("scalar", np.int64)}


def _kernel_signature(name):
    """[(kind, dtype)] of a kernel's parameters, parsed from lattice.cu."""
    text = lattice_cupy.load_source("lattice.cu")
    params = re.search(rf"__global__\s+void\s+{name}\s*\(([^)]*)\)", text).group(1)
    out = []
    for p in params.split(","):
        p = re.sub(r"\b(const|__restrict__)\b", " ", p)
        p = re.sub(r"\s*\*\s*", "* ", p)
        ctype = " ".join(p.split()[:-1])  # drop the parameter name
        out.append(_C_TYPES[ctype])
    return out


def _assert_args_match(args, signature):
    assert len(args) == len(signature)
    for a, (kind, dtype) in zip(args, signature):
        assert isinstance(a, np.ndarray) == (kind == "ptr")
        assert np.asarray(a).dtype == dtype


def test_prepared_arguments_match_kernel_signatures():
    spins = ising_spins((3, 6, 6))
    plan = lattice_cupy.prepare_ising(spins, 0.4, -1.0, 0.2, seed=5, sweep=9, n_sweeps=2, heatbath=True, block_size=4)
    _assert_args_match(plan.args(1, 1), _kernel_signature(plan.kernel))
    assert plan.args(1, 1)[-3:-1] == (np.uint32(10), np.int32(1))     # sweep + t, colour
    np.testing.assert_array_equal(plan.args(0, 0)[1], cpu.ising_flip_table(0.4, -1.0, 0.2, True))
    assert plan.args(0, 0)[0].base is spins or plan.args(0, 0)[0] is spins  # a view: updated in place
    n_threads = 3 * ((36 // 2 + 3) // 4)
    assert (plan.grid, plan.block) == ((n_threads + 3) // 4, 4)

    states = potts_states((2, 4, 4), 3)
    plan = lattice_cupy.prepare_potts(states, 3, 0.9, 1.0, 0.1, seed=5, heatbath=False)
    _assert_args_match(plan.args(0, 0), _kernel_signature(plan.kernel))
    np.testing.assert_array_equal(plan.args(0, 0)[1], cpu.potts_metropolis_table(0.9, 1.0, 0.1))
    np.testing.assert_array_equal(plan.args(0, 0)[2], cpu.potts_heatbath_weights(0.9, 1.0, 0.1))
    assert (plan.grid, plan.block) == (1, 4)  # tiny lattice: one block of exactly the threads needed


def test_philox_kernel_signature():
    sig = _kernel_signature("fastmf_philox4x32_kernel")
    assert sig == [("ptr", np.uint32), ("ptr", np.uint32), ("ptr", np.uint32), ("scalar", np.int64)]


class FakeDeviceArray:
    """A NumPy array dressed as a device array: what the CuPy path sees (no ndarray isinstance)."""

    def __init__(self, a):
        self._a = a
        self.shape, self.dtype, self.size, self.flags = a.shape, a.dtype, a.size, a.flags
        self.__cuda_array_interface__ = {"shape": a.shape, "typestr": a.dtype.str, "data": (0, False),
                                         "strides": None, "version": 3}

    def __array__(self, dtype=None, copy=None):
        return self._a

    def min(self):
        return self._a.min()

    def max(self):
        return self._a.max()

    def reshape(self, shape):
        return self._a.reshape(shape)


@pytest.mark.parametrize("make", [
    lambda: np.ones((4, 4), np.int16), lambda: np.ones((4, 6, 5), np.int8), lambda: np.ones((2, 2, 4, 4), np.int8),
    lambda: np.zeros((4, 4), np.int8), lambda: np.full((2, 4, 4), 2, np.int8), lambda: np.ones((8, 8), np.int8)[:, ::2],
])
def test_device_validation_matches_cpu(make):
    with pytest.raises((TypeError, ValueError)) as ref:
        cpu.checkerboard_sweep(make(), 0.4, seed=0)
    with pytest.raises(type(ref.value), match=re.escape(str(ref.value))):
        lattice_cupy.prepare_ising(FakeDeviceArray(make()), 0.4, seed=0, xp=np)


def test_device_path_plan_equals_host_path_plan():
    spins = ising_spins((2, 6, 8))
    host = lattice_cupy.prepare_ising(spins, 0.5, seed=1, sweep=3)
    dev = lattice_cupy.prepare_ising(FakeDeviceArray(spins), 0.5, seed=1, sweep=3, xp=np)
    for a, b in zip(host.args(0, 1), dev.args(0, 1)):
        np.testing.assert_array_equal(a, b)
    assert (host.grid, host.block) == (dev.grid, dev.block)
    states = potts_states((4, 4), 3)
    with pytest.raises(ValueError, match="Potts states 0..1"):
        lattice_cupy.prepare_potts(FakeDeviceArray(states), 2, 0.5, seed=0, xp=np)
    assert lattice_cupy.prepare_potts(FakeDeviceArray(states), 3, 0.5, seed=0, xp=np).spins.shape == (1, 4, 4)


def test_cupy_module_has_the_cpu_signatures():
    """lattice_cupy is a drop-in for lattice_cpu in LatticeSampler: same names, same arguments (+ block_size)."""
    import inspect
    for name in ("checkerboard_sweep", "potts_checkerboard_sweep"):
        cpu_params = list(inspect.signature(getattr(cpu, name)).parameters.values())
        gpu_params = list(inspect.signature(getattr(lattice_cupy, name)).parameters.values())
        assert gpu_params[:len(cpu_params)] == cpu_params
        assert [p.name for p in gpu_params[len(cpu_params):]] == ["block_size"]


def test_cupy_missing_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # makes "import cupy" raise ImportError
    for call in (lambda: lattice_cupy.checkerboard_sweep(ising_spins((4, 4)), 0.4, seed=0),
                 lambda: lattice_cupy.potts_checkerboard_sweep(potts_states((4, 4), 3), 3, 0.4, seed=0),
                 lambda: lattice_cupy.philox4x32_array([0, 0, 0, 0], [0, 0])):
        with pytest.raises(RuntimeError, match=re.escape('fastmf[cuda]') + ".*backend=\"cpu\""):
            call()


@pytest.mark.skipif(shutil.which("nvidia-smi") is None, reason="no NVIDIA GPU")
def test_cupy_on_gpu_when_present():  # pragma: no cover - runs only on a machine with a GPU and CuPy
    pytest.importorskip("cupy")
    spins = ising_spins((3, 6, 6))
    ref, out = spins.copy(), spins.copy()
    assert lattice_cupy.checkerboard_sweep(out, 0.44, seed=1, n_sweeps=3) == \
        cpu.checkerboard_sweep(ref, 0.44, seed=1, n_sweeps=3)
    np.testing.assert_array_equal(out, ref)
    states = potts_states((2, 8, 8), 4)
    ref, out = states.copy(), states.copy()
    for hb in (False, True):
        assert lattice_cupy.potts_checkerboard_sweep(out, 4, 0.9, seed=2, heatbath=hb) == \
            cpu.potts_checkerboard_sweep(ref, 4, 0.9, seed=2, heatbath=hb)
        np.testing.assert_array_equal(out, ref)
    counters = [c for c, _, _ in PHILOX_KAT]
    keys = [k for _, k, _ in PHILOX_KAT]
    np.testing.assert_array_equal(lattice_cupy.philox4x32_array(counters, keys), [x for _, _, x in PHILOX_KAT])
