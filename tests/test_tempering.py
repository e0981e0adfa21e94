"""Parallel tempering: a naive reference of the exchange step (bit for bit), bookkeeping invariants, and the
exact energy distribution of an SK glass (N = 12) at the lowest temperature."""
import itertools
import math

import numpy as np
import pytest
from fastmf.kernels import tempering_cpu as tc
from fastmf.kernels.philox import STREAM_TEMPERING
from test_philox import naive_philox4x32

from fastmf import stats


def sk_csr(N, seed):
    rng = np.random.default_rng(seed)
    j = np.triu(rng.standard_normal((N, N)) / math.sqrt(N), 1)
    j = j + j.T
    rows, cols = np.nonzero(j)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=N))]).astype(np.int64)
    return indptr, cols.astype(np.int64), j[rows, cols]


def pm1(shape, seed):
    return np.random.default_rng(seed).choice(np.array([-1, 1], np.int8), size=shape)


def naive_step(model, configs, labels, betas, seed, step, n_sweeps):
    """Sweeps through the (separately tested) kernels, then exchanges written out with Python ints/floats."""
    K, n_ladders = configs.shape[:2]
    for k in range(K):
        arrays = model.arrays(configs[k])
        model.sweep(arrays, betas[k], seed=seed, sweep=(step * K + k) * n_sweeps, n_sweeps=n_sweeps,
                    heatbath=False)
        configs[k] = arrays[0]
    energies = np.array([model.energy(model.arrays(configs[k])) for k in range(K)])
    for k in range(step % 2, K - 1, 2):
        for ladder in range(n_ladders):
            u = naive_philox4x32((k, ladder, step, 0), (seed, STREAM_TEMPERING))[0]
            x = (betas[k] - betas[k + 1]) * (energies[k, ladder] - energies[k + 1, ladder])
            t = 2 ** 32 if x >= 0 else math.floor(math.exp(x) * 2 ** 32)
            if u < t:
                for a in (configs, labels, energies):
                    a[[k, k + 1], ladder] = a[[k + 1, k], ladder]


@pytest.mark.parametrize("kind", ["lowrank", "potts", "glass"])
def test_step_equals_naive(kind):
    K, L, N, seed = 4, 3, 10, 77
    betas = np.array([0.3, 0.6, 1.0, 1.6])
    if kind == "lowrank":
        model = tc.LowRankModel(pm1((2, N), 1), J=1.0, h=0.2)
        configs = pm1((K, L, N), 2)
    elif kind == "potts":
        model = tc.PottsMFModel(3, N, J=1.0, h=0.1)
        configs = np.random.default_rng(3).integers(0, 3, size=(K, L, N)).astype(np.uint8)
    else:
        model = tc.GlassModel(*sk_csr(N, 4), fields=0.1)
        configs = pm1((K, L, N), 5)
    state = tc.make_tempering_state(model, configs)
    ref, labels = configs.copy(), np.repeat(np.arange(K)[:, None], L, axis=1)
    total = 0
    for step in range(6):
        total += tc.tempering_step(model, state, betas, seed=seed, n_sweeps=2)
        naive_step(model, ref, labels, betas, seed, step, 2)
        np.testing.assert_array_equal(state.arrays[0], ref)
        np.testing.assert_array_equal(state.labels, labels)
    assert total == state.accepted.sum() > 0
    assert np.array_equal(state.attempted, [3 * L, 3 * L, 3 * L])  # pairs alternate even/odd over 6 steps
    # the maintained order parameters travelled with their configurations
    fresh = model.arrays(state.arrays[0])
    for a, b in zip(state.arrays[1:], fresh[1:]):
        np.testing.assert_allclose(a, b, atol=1e-12)
    assert np.all(np.sort(state.labels, axis=0) == np.arange(K)[:, None])


def test_argument_checks():
    model = tc.PottsMFModel(3, 6)
    state = tc.make_tempering_state(model, np.zeros((3, 2, 6), np.uint8))
    with pytest.raises(ValueError, match="betas"):
        tc.tempering_step(model, state, [1.0, 2.0], seed=1)
    with pytest.raises(ValueError, match="betas"):
        tc.tempering_step(model, state, [1.0, 0.0, 2.0], seed=1)
    with pytest.raises(ValueError, match="configs"):
        tc.make_tempering_state(model, np.zeros((3, 2, 5), np.uint8))
    with pytest.raises(ValueError, match="P < N"):
        tc.LowRankModel(pm1((6, 6), 0))


def test_sk_exact_energy_distribution_at_lowest_temperature():
    N, K, n_ladders = 12, 6, 600
    betas = np.linspace(0.4, 2.5, K)
    model = tc.GlassModel(*sk_csr(N, 11), fields=0.0)
    states = np.array(list(itertools.product([-1, 1], repeat=N)), np.int8)
    energies = model.energy(model.arrays(states))
    w = np.exp(-betas[-1] * (energies - energies.min()))
    levels, inverse = np.unique(np.round(energies, 9), return_inverse=True)
    probs = np.bincount(inverse, weights=w / w.sum())
    state = tc.make_tempering_state(model, pm1((K, n_ladders, N), 3))
    tc.tempering_run(model, state, betas, 60, seed=2024, n_sweeps=1)
    rate = state.acceptance
    assert np.all((rate > 0) & (rate < 1)), rate
    sampled = np.round(model.energy(tuple(a[-1] for a in state.arrays)), 9)
    idx = np.searchsorted(levels, sampled)
    assert np.allclose(levels[np.minimum(idx, len(levels) - 1)], sampled, atol=1e-7)
    counts = np.bincount(idx, minlength=len(levels))
    assert stats.chi_square_test(counts, probs)[2] > 1e-4
    # the local fields carried through 60 steps of exchanges still match a recomputation
    np.testing.assert_allclose(state.arrays[1], model.arrays(state.arrays[0])[1], atol=1e-9)
