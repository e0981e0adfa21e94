"""Numba-CUDA lattice kernels under the CUDA simulator, compared bit for bit with the CPU kernels.

Run only with ``NUMBA_ENABLE_CUDASIM=1`` (``tests/test_cudasim.py`` launches this directory in its own
process). The simulator runs every thread as a Python thread, so the lattices are tiny.
"""
import os
import re

import numpy as np
import pytest

if os.environ.get("NUMBA_ENABLE_CUDASIM") != "1":  # pragma: no cover - guarded by tests/conftest.py too
    pytest.skip("needs NUMBA_ENABLE_CUDASIM=1", allow_module_level=True)

from numba import cuda  # noqa: E402

from fastmf.kernels import lattice_cpu as cpu  # noqa: E402
from fastmf.kernels import lattice_cuda as gpu  # noqa: E402
from fastmf.kernels.philox import cuda_device_functions  # noqa: E402

SHAPES = [(2, 4, 4), (1, 6, 8), (1, 6, 6)]  # 6x6: 18 sites per colour, the last group is partial
PHILOX_KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


def ising_spins(shape, seed=0):
    return np.random.default_rng(seed).choice(np.array([-1, 1], np.int8), size=shape)


def potts_states(shape, q, seed=0):
    return np.random.default_rng(seed).integers(0, q, size=shape).astype(np.uint8)


def test_is_available():
    assert gpu.is_available()


def test_philox_known_answers_device_function():
    philox4x32 = cuda_device_functions().philox4x32

    @cuda.jit
    def kernel(counters, keys, out):
        i = cuda.grid(1)
        if i < counters.shape[0]:
            x0, x1, x2, x3 = philox4x32(counters[i, 0], counters[i, 1], counters[i, 2], counters[i, 3],
                                        keys[i, 0], keys[i, 1])
            out[i, 0] = x0
            out[i, 1] = x1
            out[i, 2] = x2
            out[i, 3] = x3

    counters = np.array([c for c, _, _ in PHILOX_KAT], np.uint64)
    keys = np.array([k for _, k, _ in PHILOX_KAT], np.uint64)
    out = np.zeros((3, 4), np.uint64)
    kernel[1, 4](counters, keys, out)
    np.testing.assert_array_equal(out, np.array([x for _, _, x in PHILOX_KAT], np.uint64))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("J, h, heatbath", [(1.0, 0.0, False), (1.0, 0.0, True), (-1.0, 0.0, False),
                                            (-1.0, 0.35, True), (1.0, -0.4, False)])
def test_ising_bit_identical(shape, J, h, heatbath):
    spins = ising_spins(shape, seed=shape[2])
    ref, out = spins.copy(), spins.copy()
    kwargs = dict(seed=12345, sweep=7, n_sweeps=2, heatbath=heatbath)
    n_ref = cpu.checkerboard_sweep(ref, 0.45, J, h, **kwargs)
    n_out = gpu.checkerboard_sweep(out, 0.45, J, h, block_size=3, **kwargs)  # several blocks, last one partial
    assert n_out == n_ref > 0
    np.testing.assert_array_equal(out, ref)


def test_ising_device_arrays_in_place_and_2d():
    spins = ising_spins((6, 8), seed=3)
    ref = spins.copy()
    n_ref = cpu.checkerboard_sweep(ref, 0.3, seed=1, n_sweeps=2)
    d = cuda.to_device(spins)                    # 2D device array: a single replica
    assert gpu.checkerboard_sweep(d, 0.3, seed=1, n_sweeps=2) == n_ref
    np.testing.assert_array_equal(d.copy_to_host(), ref)
    np.testing.assert_array_equal(spins, ising_spins((6, 8), seed=3))  # the host original is untouched


def test_continuing_a_chain_equals_one_call():
    spins = ising_spins((2, 4, 4), seed=5)
    one, two = spins.copy(), spins.copy()
    n_one = gpu.checkerboard_sweep(one, 0.5, seed=9, sweep=0, n_sweeps=2)
    n_two = gpu.checkerboard_sweep(two, 0.5, seed=9, sweep=0) + gpu.checkerboard_sweep(two, 0.5, seed=9, sweep=1)
    assert n_one == n_two
    np.testing.assert_array_equal(one, two)


@pytest.mark.parametrize("couplings", ["pm", "gauss"])
@pytest.mark.parametrize("heatbath", [False, True])
def test_quenched_bit_identical(couplings, heatbath):
    shape = (2, 4, 4)
    rng = np.random.default_rng(7)
    if couplings == "pm":
        j_right, j_down = (rng.choice([-1.0, 1.0], size=shape[1:]) for _ in range(2))
    else:
        j_right, j_down = (rng.normal(size=shape[1:]) for _ in range(2))
    spins = ising_spins(shape, seed=8)
    ref, out = spins.copy(), spins.copy()
    kwargs = dict(seed=77, sweep=3, n_sweeps=2, heatbath=heatbath)
    n_ref = cpu.quenched_checkerboard_sweep(ref, 0.8, j_right, j_down, 0.1, **kwargs)
    n_out = gpu.quenched_checkerboard_sweep(out, 0.8, j_right, j_down, 0.1, **kwargs)
    assert n_out == n_ref > 0
    np.testing.assert_array_equal(out, ref)


def test_quenched_device_couplings():
    rng = np.random.default_rng(2)
    j_right, j_down = rng.normal(size=(6, 8)), rng.normal(size=(6, 8))
    spins = ising_spins((1, 6, 8), seed=2)
    ref = spins.copy()
    n_ref = cpu.quenched_checkerboard_sweep(ref, 1.1, j_right, j_down, seed=4, n_sweeps=2)
    d = cuda.to_device(spins)
    n = gpu.quenched_checkerboard_sweep(d, 1.1, cuda.to_device(j_right), cuda.to_device(j_down), seed=4,
                                        n_sweeps=2)
    assert n == n_ref
    np.testing.assert_array_equal(d.copy_to_host(), ref)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("q, h, heatbath", [(3, 0.0, False), (4, 0.3, False), (3, 0.2, True), (5, 0.0, True)])
def test_potts_bit_identical(shape, q, h, heatbath):
    states = potts_states(shape, q, seed=q)
    ref, out = states.copy(), states.copy()
    kwargs = dict(seed=2024, sweep=1, n_sweeps=2, heatbath=heatbath)
    n_ref = cpu.potts_checkerboard_sweep(ref, q, 0.9, 1.0, h, **kwargs)
    n_out = gpu.potts_checkerboard_sweep(out, q, 0.9, 1.0, h, **kwargs)
    assert n_out == n_ref > 0
    np.testing.assert_array_equal(out, ref)


def test_potts_device_array():
    states = potts_states((2, 4, 4), 3, seed=1)
    ref = states.copy()
    n_ref = cpu.potts_checkerboard_sweep(ref, 3, 1.2, seed=6, n_sweeps=2)
    d = cuda.to_device(states)
    assert gpu.potts_checkerboard_sweep(d, 3, 1.2, seed=6, n_sweeps=2) == n_ref
    np.testing.assert_array_equal(d.copy_to_host(), ref)


def test_zero_sweeps_and_zero_replicas():
    spins = ising_spins((2, 4, 4))
    before = spins.copy()
    assert gpu.checkerboard_sweep(spins, 0.4, seed=0, n_sweeps=0) == 0
    np.testing.assert_array_equal(spins, before)
    assert gpu.checkerboard_sweep(np.ones((0, 4, 4), np.int8), 0.4, seed=0) == 0


def _same_error(cpu_call, gpu_call):
    """The GPU wrapper raises the CPU's exception type and message."""
    with pytest.raises((TypeError, ValueError)) as ref:
        cpu_call()
    with pytest.raises(type(ref.value), match=re.escape(str(ref.value))):
        gpu_call()


@pytest.mark.parametrize("make", [
    lambda: np.ones((4, 4), np.int16),                     # dtype
    lambda: np.ones((4, 5), np.int8),                      # odd side
    lambda: np.ones((2, 2, 4, 4), np.int8),                # ndim
    lambda: np.zeros((4, 4), np.int8),                     # values
    lambda: np.ones((8, 8), np.int8)[::2, ::2],            # not contiguous
])
def test_validation_matches_cpu_host_arrays(make):
    _same_error(lambda: cpu.checkerboard_sweep(make(), 0.4, seed=0),
                lambda: gpu.checkerboard_sweep(make(), 0.4, seed=0))


@pytest.mark.parametrize("make", [
    lambda: np.ones((4, 4), np.int16),
    lambda: np.ones((4, 6, 5), np.int8),
    lambda: np.ones((2, 2, 4, 4), np.int8),
    lambda: np.zeros((4, 4), np.int8),
    lambda: np.full((2, 4, 4), 2, np.int8),
])
def test_validation_matches_cpu_device_arrays(make):
    _same_error(lambda: cpu.checkerboard_sweep(make(), 0.4, seed=0),
                lambda: gpu.checkerboard_sweep(cuda.to_device(make()), 0.4, seed=0))


@pytest.mark.parametrize("kwargs", [dict(beta=0.0), dict(beta=float("nan")), dict(seed=-1), dict(seed=2 ** 32),
                                    dict(seed=1.5), dict(sweep=-1), dict(J="x")])
def test_argument_errors_match_cpu(kwargs):
    args = dict(beta=0.4, seed=0) | kwargs
    _same_error(lambda: cpu.checkerboard_sweep(ising_spins((4, 4)), **args),
                lambda: gpu.checkerboard_sweep(ising_spins((4, 4)), **args))


def test_potts_and_quenched_errors_match_cpu():
    states = potts_states((4, 4), 3)
    _same_error(lambda: cpu.potts_checkerboard_sweep(states.copy(), 1, 0.5, seed=0),
                lambda: gpu.potts_checkerboard_sweep(states.copy(), 1, 0.5, seed=0))
    _same_error(lambda: cpu.potts_checkerboard_sweep(states.copy(), 2, 0.5, seed=0),     # state 2 with q=2
                lambda: gpu.potts_checkerboard_sweep(cuda.to_device(states), 2, 0.5, seed=0))
    spins, bad = ising_spins((4, 4)), np.ones((4, 6))
    _same_error(lambda: cpu.quenched_checkerboard_sweep(spins.copy(), 0.5, bad, bad, seed=0),
                lambda: gpu.quenched_checkerboard_sweep(spins.copy(), 0.5, bad, bad, seed=0))
    with pytest.raises(ValueError, match="device j_right"):
        gpu.quenched_checkerboard_sweep(spins.copy(), 0.5, cuda.to_device(np.ones((4, 4), np.float32)),
                                        np.ones((4, 4)), seed=0)


@pytest.mark.parametrize("block_size", [0, 1025, 2.0, True])
def test_block_size_checked(block_size):
    with pytest.raises(ValueError, match="block_size"):
        gpu.checkerboard_sweep(ising_spins((4, 4)), 0.4, seed=0, block_size=block_size)
