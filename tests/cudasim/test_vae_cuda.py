"""Numba-CUDA VAE decoder likelihood kernels under the CUDA simulator, compared with the CPU kernels.

Run only with ``NUMBA_ENABLE_CUDASIM=1`` (``tests/test_cudasim.py`` launches this directory in its own
process). Tiny batches (B <= 5, N <= 9, q <= 3): the simulator runs every thread as a Python thread. The
per-row sums are reduced in a different order than on the CPU, so results agree to rounding: relative
1e-12 in float64 and 1e-5 in float32 (measured against the largest magnitude of the reference).
"""
import os

import numpy as np
import pytest

if os.environ.get("NUMBA_ENABLE_CUDASIM") != "1":  # pragma: no cover - guarded by tests/conftest.py too
    pytest.skip("needs NUMBA_ENABLE_CUDASIM=1", allow_module_level=True)

from fastmf.kernels import vae_cpu as cpu  # noqa: E402
from fastmf.kernels import vae_cuda as gpu  # noqa: E402
from numba import cuda  # noqa: E402

B, N, Q = 5, 9, 3
RTOL = {np.float64: 1e-12, np.float32: 1e-5}
DTYPES = [np.float64, np.float32]


def _inputs(kind, dtype, seed=0):
    """Arguments of the ``kind`` log-likelihood (saturated logits, an all-equal categorical row) and ``up``."""
    rng = np.random.default_rng(seed)
    up = rng.normal(size=B).astype(dtype)
    x01 = rng.integers(0, 2, size=(B, N)).astype(dtype)
    if kind == "bernoulli":
        g = rng.normal(size=(B, N)) * 4
        g[0, :4] = [40.0, -40.0, 40.0, -40.0]
        x01[0, :4] = [1, 0, 0, 1]  # saturated both ways: log-likelihoods ~0 and ~-40
        return (g.astype(dtype), x01), up
    if kind == "tempered":
        h, t = rng.normal(size=(B, N)) * 4, rng.normal(size=(B, N)) * 2
        h[0, :3], t[0, :3] = [40.0, -40.0, 40.0], [40.0, 40.0, -40.0]
        return (h.astype(dtype), t.astype(dtype), x01), up
    if kind == "categorical":
        g = rng.normal(size=(B, N, Q)) * 3
        g[1] = 0.7  # every site of row 1: all-equal logits
        g[0, 0], g[0, 1] = [40.0, -40.0, 0.0], [-40.0, -40.0, 40.0]
        states = rng.integers(0, Q, size=(B, N)).astype(np.uint8)
        states[0, :2] = [0, 0]
        return (g.astype(dtype), states), up
    mean, logvar = rng.normal(size=(B, N)), rng.normal(size=(B, N))
    return (mean.astype(dtype), logvar.astype(dtype), rng.normal(size=(B, N)).astype(dtype)), up


KINDS = ["bernoulli", "tempered", "categorical", "gaussian"]
N_OUT = {"bernoulli": 1, "tempered": 2, "categorical": 1, "gaussian": 2}


def _close(got, ref, dtype):
    assert isinstance(got, np.ndarray)
    assert got.dtype == ref.dtype == dtype and got.shape == ref.shape
    assert np.all(np.isfinite(got))
    rtol = RTOL[dtype]
    np.testing.assert_allclose(got, ref, rtol=rtol, atol=rtol * max(np.max(np.abs(ref), initial=0.0), 1e-300))


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("kind", KINDS)
def test_ll_matches_cpu(kind, dtype):
    args, _ = _inputs(kind, dtype)
    ref = getattr(cpu, f"{kind}_ll")(*args)
    got = getattr(gpu, f"{kind}_ll")(*args)
    assert got.shape == (B,)
    _close(got, ref, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("kind", KINDS)
def test_grad_matches_cpu(kind, dtype):
    args, up = _inputs(kind, dtype, seed=1)
    ref = getattr(cpu, f"{kind}_grad")(*args, up)
    got = getattr(gpu, f"{kind}_grad")(*args, up)
    if N_OUT[kind] == 1:
        ref, got = (ref,), (got,)
    assert isinstance(got, tuple) and len(got) == len(ref) == N_OUT[kind]
    for g, r, a in zip(got, ref, args):
        assert g.shape == a.shape
        _close(g, r, dtype)


@pytest.mark.parametrize("block_size", [1, 2, 3, 1024])
@pytest.mark.parametrize("kind", ["bernoulli", "categorical"])
def test_block_size_override(kind, block_size):
    """Threads striding over several sites (1, 2, 3: non-power-of-two tree reductions) and a block size
    above the row length (clamped to N sites)."""
    args, up = _inputs(kind, np.float64, seed=2)
    _close(getattr(gpu, f"{kind}_ll")(*args, block_size=block_size), getattr(cpu, f"{kind}_ll")(*args),
           np.float64)
    _close(getattr(gpu, f"{kind}_grad")(*args, up, block_size=block_size),
           getattr(cpu, f"{kind}_grad")(*args, up), np.float64)


def test_saturated_and_equal_logits_values():
    (g, x), _ = _inputs("bernoulli", np.float64)
    one = gpu.bernoulli_ll(g[:1, :4], x[:1, :4])
    np.testing.assert_allclose(one, [-80.0], rtol=1e-12)  # two sites ~0, two sites -40 each
    (g, s), _ = _inputs("categorical", np.float64)
    np.testing.assert_allclose(gpu.categorical_ll(g, s)[1], -N * np.log(Q), rtol=1e-12)
    grad = gpu.categorical_grad(g, s, np.ones(B))
    np.testing.assert_allclose(grad.sum(axis=2), 0.0, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_device_inputs_give_device_outputs(kind):
    args, up = _inputs(kind, np.float32, seed=3)
    d_args = [cuda.to_device(a) for a in args]
    ll = getattr(gpu, f"{kind}_ll")(*d_args)
    assert not isinstance(ll, np.ndarray) and hasattr(ll, "copy_to_host")
    _close(ll.copy_to_host(), getattr(cpu, f"{kind}_ll")(*args), np.float32)
    # Mixed: device decoder outputs, host up -> device results.
    got = getattr(gpu, f"{kind}_grad")(*d_args, up)
    ref = getattr(cpu, f"{kind}_grad")(*args, up)
    got, ref = (got, ref) if N_OUT[kind] == 2 else ((got,), (ref,))
    for g, r in zip(got, ref):
        assert not isinstance(g, np.ndarray)
        _close(g.copy_to_host(), r, np.float32)


def test_mixed_dtypes_follow_each_output():
    (h, t, x), up = _inputs("tempered", np.float64, seed=4)
    t32 = t.astype(np.float32)
    dh, dt = gpu.tempered_grad(h, t32, x, up)
    rh, rt = cpu.tempered_grad(h, t32, x, up)
    _close(dh, rh, np.float64)
    _close(dt, rt, np.float32)
    assert gpu.tempered_ll(h.astype(np.float32), t, x).dtype == np.float32


def test_int64_states_and_strided_host_inputs():
    (g, s), up = _inputs("categorical", np.float64, seed=5)
    _close(gpu.categorical_ll(g, s.astype(np.int64)), cpu.categorical_ll(g, s), np.float64)
    (lg, x), up = _inputs("bernoulli", np.float64, seed=5)
    lg_t, x_t = np.asfortranarray(lg), np.asfortranarray(x)
    _close(gpu.bernoulli_grad(lg_t, x_t, up), cpu.bernoulli_grad(lg, x, up), np.float64)


def test_empty_batch_and_sites():
    assert gpu.bernoulli_ll(np.zeros((0, 4)), np.zeros((0, 4))).shape == (0,)
    np.testing.assert_array_equal(gpu.gaussian_ll(np.zeros((2, 0)), np.zeros((2, 0)), np.zeros((2, 0))), [0, 0])
    dm, dv = gpu.gaussian_grad(np.zeros((2, 0)), np.zeros((2, 0)), np.zeros((2, 0)), np.ones(2))
    assert dm.shape == dv.shape == (2, 0)
    assert gpu.categorical_grad(np.zeros((0, 3, 2)), np.zeros((0, 3), np.uint8), np.zeros(0)).shape == (0, 3, 2)


def test_validation_errors():
    g = np.zeros((2, 3))
    with pytest.raises(ValueError, match="shape"):
        gpu.bernoulli_ll(g, np.zeros((2, 4)))
    with pytest.raises(ValueError, match="up must have shape"):
        gpu.bernoulli_grad(g, g, np.zeros(3))
    with pytest.raises(ValueError, match="logvar must have shape"):
        gpu.gaussian_ll(g, np.zeros((3, 2)), g)
    with pytest.raises(ValueError, match="3 dimensions"):
        gpu.categorical_ll(g, g)
    with pytest.raises(TypeError, match="float32 or float64"):
        gpu.bernoulli_ll(g.astype(np.int64), g)
    with pytest.raises(ValueError, match="block_size"):
        gpu.bernoulli_ll(g, g, block_size=0)
