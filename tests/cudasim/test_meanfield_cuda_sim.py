"""Numba-CUDA mean-field kernels under the CUDA simulator, compared bit for bit with the CPU kernels.

Run only with ``NUMBA_ENABLE_CUDASIM=1`` (``tests/test_cudasim.py`` launches this directory in its own
process). The simulator runs every thread as a Python thread: tiny systems (N <= 16, 2-3 chains, 2 sweeps).
"""
import os

import numpy as np
import pytest

if os.environ.get("NUMBA_ENABLE_CUDASIM") != "1":  # pragma: no cover - guarded by tests/conftest.py too
    pytest.skip("needs NUMBA_ENABLE_CUDASIM=1", allow_module_level=True)

from fastmf.kernels import meanfield_cpu as cpu
from fastmf.kernels import meanfield_cuda as gpu
from fastmf.kernels import meanfield_logic as ml
from numba import cuda

KW = {"seed": 4242, "sweep": 3, "n_sweeps": 2}


def pm1(shape, seed):
    return np.random.default_rng(seed).choice(np.array([-1, 1], np.int8), size=shape)


@pytest.mark.parametrize("P, N, h, heatbath", [(1, 13, 0.2, False), (2, 16, 0.0, True), (3, 10, -0.3, False)])
def test_lowrank_bit_identical(P, N, h, heatbath):
    patterns = pm1((P, N), N)
    s = pm1((3, N), P)
    ref, out = s.copy(), s.copy()
    o_ref, o_out = cpu.compute_overlaps(ref, patterns), cpu.compute_overlaps(out, patterns)
    n_ref = cpu.lowrank_sweep(ref, patterns, o_ref, 0.8, 1.0, h, heatbath=heatbath, **KW)
    n_out = gpu.lowrank_sweep(out, patterns, o_out, 0.8, 1.0, h, heatbath=heatbath, block_size=2, **KW)
    assert n_out == n_ref > 0
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(o_out, o_ref)


def test_lowrank_float_path_and_device_arrays(monkeypatch):
    monkeypatch.setattr(ml, "MAX_TABLE_SIZE", 4)  # force the float path (exp on both sides)
    patterns = pm1((2, 8), 1)
    s = pm1((2, 8), 2)
    ref = s.copy()
    o_ref = cpu.compute_overlaps(ref, patterns)
    n_ref = cpu.lowrank_sweep(ref, patterns, o_ref, 0.6, 1.0, 0.1, **KW)
    d_s, d_o = cuda.to_device(s), cuda.to_device(cpu.compute_overlaps(s, patterns))
    assert gpu.lowrank_sweep(d_s, patterns, d_o, 0.6, 1.0, 0.1, **KW) == n_ref
    np.testing.assert_array_equal(d_s.copy_to_host(), ref)
    np.testing.assert_array_equal(d_o.copy_to_host(), o_ref)


@pytest.mark.parametrize("heatbath", [False, True])
def test_potts_mf_bit_identical(heatbath):
    st = np.random.default_rng(3).integers(0, 3, size=(2, 11)).astype(np.uint8)
    ref, out = st.copy(), st.copy()
    c_ref, c_out = cpu.compute_counts(ref, 3), cpu.compute_counts(out, 3)
    n_ref = cpu.potts_mf_sweep(ref, c_ref, 3, 1.2, 1.0, 0.3, heatbath=heatbath, **KW)
    assert gpu.potts_mf_sweep(out, c_out, 3, 1.2, 1.0, 0.3, heatbath=heatbath, **KW) == n_ref > 0
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(c_out, c_ref)


@pytest.mark.parametrize("heatbath", [False, True])
def test_glass_pm_j_bit_identical(heatbath):
    N = 10
    rng = np.random.default_rng(5)
    dense = np.triu(rng.choice([-1.0, 1.0], size=(N, N)), 1)
    dense = dense + dense.T
    rows, cols = np.nonzero(dense)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=N))]).astype(np.int64)
    indices, weights = cols.astype(np.int64), dense[rows, cols]
    s = pm1((2, N), 7)
    ref, out = s.copy(), s.copy()
    lf_ref = cpu.compute_local_fields(ref, indptr, indices, weights)
    lf_out = lf_ref.copy()
    n_ref = cpu.glass_sweep(ref, indptr, indices, weights, 0.5, lf_ref, 0.7, heatbath=heatbath, **KW)
    assert gpu.glass_sweep(out, indptr, indices, weights, 0.5, lf_out, 0.7, heatbath=heatbath, **KW) == n_ref > 0
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(lf_out, lf_ref)


def test_same_validation_errors_as_cpu():
    s = pm1((2, 6), 0)
    with pytest.raises(ValueError, match="P < N"):
        gpu.lowrank_sweep(s, pm1((6, 6), 1), np.zeros((2, 6), np.int64), 1.0, seed=1)
    with pytest.raises(ValueError, match="beta"):
        gpu.potts_mf_sweep(np.zeros((1, 4), np.uint8), np.array([[4, 0, 0]]), 3, float("nan"), seed=1)
