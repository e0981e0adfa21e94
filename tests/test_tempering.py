"""Parallel tempering: a naive reference of the exchange step (bit for bit), bookkeeping invariants, and the
exact energy distribution of an SK glass (N = 12) at the lowest temperature.

Energies in the references are the plain loops of tests/references.py (nothing from fastmf)."""
import math

import numpy as np
import pytest
from fastmf.kernels import tempering_cpu as tc
from fastmf.kernels.philox import STREAM_TEMPERING
from references import glass_boltzmann, glass_energy_naive, lowrank_energy_naive, potts_mf_energy_naive
from test_philox import naive_philox4x32

from fastmf import stats


def sk_dense(N, seed):
    rng = np.random.default_rng(seed)
    j = np.triu(rng.standard_normal((N, N)) / math.sqrt(N), 1)
    return j + j.T


def sk_csr(N, seed):
    j = sk_dense(N, seed)
    rows, cols = np.nonzero(j)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=N))]).astype(np.int64)
    return indptr, cols.astype(np.int64), j[rows, cols]


def pm1(shape, seed):
    return np.random.default_rng(seed).choice(np.array([-1, 1], np.int8), size=shape)


def naive_step(model, energy, configs, labels, betas, seed, step, n_sweeps):
    """Sweeps through the (separately tested) kernels, then exchanges written out with Python ints/floats;
    ``energy(config)`` is a plain-loop energy of one configuration (tests/references.py)."""
    K, n_ladders = configs.shape[:2]
    for k in range(K):
        arrays = model.arrays(configs[k])
        model.sweep(arrays, betas[k], seed=seed, sweep=(step * K + k) * n_sweeps, n_sweeps=n_sweeps,
                    heatbath=False)
        configs[k] = arrays[0]
    energies = np.array([[energy(c.tolist()) for c in configs[k]] for k in range(K)])
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
        patterns = pm1((2, N), 1)
        model = tc.LowRankModel(patterns, J=1.0, h=0.2)
        configs = pm1((K, L, N), 2)

        def energy(s):
            return lowrank_energy_naive(s, patterns, 1.0, 0.2)
    elif kind == "potts":
        model = tc.PottsMFModel(3, N, J=1.0, h=0.1)
        configs = np.random.default_rng(3).integers(0, 3, size=(K, L, N)).astype(np.uint8)

        def energy(s):
            return potts_mf_energy_naive([s.count(k) for k in range(3)], N, 1.0, 0.1)
    else:
        model = tc.GlassModel(*sk_csr(N, 4), fields=0.1)
        configs = pm1((K, L, N), 5)

        def energy(s, dense=sk_dense(N, 4)):
            return glass_energy_naive(s, dense, 0.1)
    state = tc.make_tempering_state(model, configs)
    ref, labels = configs.copy(), np.repeat(np.arange(K)[:, None], L, axis=1)
    total = 0
    for step in range(6):
        total += tc.tempering_step(model, state, betas, seed=seed, n_sweeps=2)
        naive_step(model, energy, ref, labels, betas, seed, step, 2)
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


def _chi2_p_energies(sampled, levels, probs):
    """Chi-square p of sampled energies against the exact law on the distinct ``levels`` (sorted)."""
    idx = np.searchsorted(levels, sampled)
    assert np.allclose(levels[np.minimum(idx, len(levels) - 1)], sampled, atol=1e-7)
    return stats.chi_square_test(np.bincount(idx, minlength=len(levels)), probs)[2]


def test_sk_exact_energy_distribution_at_lowest_temperature():
    """The lowest-temperature slot of 12000 independent ladders after 60 steps against the exact energy law.
    Sample size: at beta = 2.5 a 5 % temperature error moves <E> by 0.08 standard deviations of E, so the
    chi-square needs many samples to see it (power 0.03 at 600 ladders, 0.94 at 8000, 0.998 at 12000, from
    multinomial draws of the exact law). Power companion: the law at beta 5 % higher."""
    N, K, n_ladders = 12, 6, 12000
    betas = np.linspace(0.4, 2.5, K)
    dense = sk_dense(N, 11)
    model = tc.GlassModel(*sk_csr(N, 11), fields=0.0)
    configs, energies, probs = glass_boltzmann(dense, 0.0, betas[-1])
    wrong = glass_boltzmann(dense, 0.0, 1.05 * betas[-1])[2]
    levels, inverse = np.unique(np.round(energies, 9), return_inverse=True)
    state = tc.make_tempering_state(model, pm1((K, n_ladders, N), 3))
    tc.tempering_run(model, state, betas, 60, seed=2024, n_sweeps=1)
    rate = state.acceptance
    assert np.all((rate > 0) & (rate < 1)), rate
    index = ((state.arrays[0][-1] > 0).astype(np.int64) << np.arange(N)).sum(axis=1)  # row of configs
    sampled = np.round(energies[index], 9)
    assert _chi2_p_energies(sampled, levels, np.bincount(inverse, weights=probs)) > 1e-4
    # power: the same samples against the law at beta 5 % higher
    assert _chi2_p_energies(sampled, levels, np.bincount(inverse, weights=wrong)) < 1e-4
    # the local fields carried through 60 steps of exchanges still match a recomputation
    np.testing.assert_allclose(state.arrays[1], model.arrays(state.arrays[0])[1], atol=1e-9)
