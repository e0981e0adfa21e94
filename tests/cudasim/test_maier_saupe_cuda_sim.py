"""Numba-CUDA Maier-Saupe kernels under the CUDA simulator, compared bit for bit with the CPU kernels.

Run only with ``NUMBA_ENABLE_CUDASIM=1`` (``tests/test_cudasim.py`` launches this directory in its own
process).
"""
import os

import numpy as np
import pytest

if os.environ.get("NUMBA_ENABLE_CUDASIM") != "1":  # pragma: no cover - guarded by tests/conftest.py too
    pytest.skip("needs NUMBA_ENABLE_CUDASIM=1", allow_module_level=True)

from numba import cuda  # noqa: E402

from fastmf.kernels import maier_saupe_cpu as cpu  # noqa: E402
from fastmf.kernels import maier_saupe_cuda as gpu  # noqa: E402


def unit_vectors(shape, seed=0):
    u = np.random.default_rng(seed).normal(size=shape + (3,))
    return u / np.linalg.norm(u, axis=-1, keepdims=True)


@pytest.mark.parametrize("beta", [2.0, 7.0])
def test_rotation_sweep_equals_cpu(beta):
    u = unit_vectors((3, 5))
    A = cpu.ms_tensor(u)
    u2, A2 = u.copy(), A.copy()
    acc_cpu = cpu.ms_rotation_sweep(u, A, beta, 1.0, step=0.7, seed=11, sweep=4, n_sweeps=2)
    acc_gpu = gpu.ms_rotation_sweep(u2, A2, beta, 1.0, step=0.7, seed=11, sweep=4, n_sweeps=2, block_size=2)
    assert acc_cpu == acc_gpu > 0
    np.testing.assert_array_equal(u, u2)
    np.testing.assert_array_equal(A, A2)


def test_rotation_sweep_device_arrays():
    u = unit_vectors((2, 4), seed=1)
    A = cpu.ms_tensor(u)
    du, dA = cuda.to_device(u), cuda.to_device(A)
    acc_gpu = gpu.ms_rotation_sweep(du, dA, 3.0, seed=5)
    acc_cpu = cpu.ms_rotation_sweep(u, A, 3.0, seed=5)
    assert acc_cpu == acc_gpu
    np.testing.assert_array_equal(du.copy_to_host(), u)


@pytest.mark.parametrize("heatbath", [False, True])
def test_axes_sweep_equals_cpu(heatbath):
    axes = unit_vectors((4,), seed=2)
    states = np.random.default_rng(3).integers(0, 4, size=(3, 6)).astype(np.uint8)
    counts = cpu.axes_counts(states, 4)
    s2, c2 = states.copy(), counts.copy()
    acc_cpu = cpu.ms_axes_sweep(states, axes, counts, 3.0, seed=9, sweep=1, n_sweeps=2, heatbath=heatbath)
    acc_gpu = gpu.ms_axes_sweep(s2, axes, c2, 3.0, seed=9, sweep=1, n_sweeps=2, heatbath=heatbath)
    assert acc_cpu == acc_gpu > 0
    np.testing.assert_array_equal(states, s2)
    np.testing.assert_array_equal(counts, c2)


def test_gpu_validation_matches_cpu():
    u = unit_vectors((1, 3))
    A = cpu.ms_tensor(u)
    with pytest.raises(ValueError, match="unit"):
        gpu.ms_rotation_sweep(u * 1.01, A, 1.0, seed=0)
    with pytest.raises(ValueError, match="beta"):
        gpu.ms_rotation_sweep(u, A, -1.0, seed=0)
    with pytest.raises(ValueError, match="block_size"):
        gpu.ms_rotation_sweep(u, A, 1.0, seed=0, block_size=0)
