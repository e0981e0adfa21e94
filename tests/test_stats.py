"""Autocorrelation times, error bars and chi-square tests."""
import math
import warnings

import numpy as np
import pytest
from scipy import stats as sps
from scipy.signal import lfilter

from fastmf import stats
from fastmf.exact.crosscheck import enumerate_ising


def naive_autocorrelation(x):
    n = len(x)
    d = x - x.mean()
    c = np.array([np.sum(d[: n - t] * d[t:]) / n for t in range(n)])
    return c / c[0]


def ar1(rho, n, seed):
    rng = np.random.default_rng(seed)
    x = lfilter([1.0], [1.0, -rho], rng.normal(size=n + 2000))
    return x[2000:]                         # drop the transient


def test_autocorrelation_vs_naive():
    x = ar1(0.7, 301, seed=1)
    assert np.allclose(stats.autocorrelation(x), naive_autocorrelation(x), atol=1e-12)


def test_tau_ar1():
    rho = 0.9
    x = ar1(rho, 1_000_000, seed=2)
    tau = stats.integrated_autocorr_time(x)
    assert tau == pytest.approx((1 + rho) / (2 * (1 - rho)), rel=0.05)
    mean, err, tau2 = stats.mean_and_error(x)
    exact_err = math.sqrt((1 + rho) / (1 - rho) / (1 - rho ** 2) / len(x))   # sigma^2 = 1/(1-rho^2)
    assert tau2 == tau
    assert err == pytest.approx(exact_err, rel=0.05)
    assert abs(mean) < 4 * exact_err
    assert stats.blocking_error(x) == pytest.approx(exact_err, rel=0.1)


def test_tau_white_noise_and_constant():
    x = np.random.default_rng(3).normal(size=100_000)
    assert stats.integrated_autocorr_time(x) == pytest.approx(0.5, abs=0.03)
    _, err, _ = stats.mean_and_error(x)
    assert err == pytest.approx(np.std(x) / math.sqrt(len(x)), rel=0.05)
    assert stats.blocking_error(x) == pytest.approx(np.std(x) / math.sqrt(len(x)), rel=0.05)
    assert stats.integrated_autocorr_time(np.full(50, 3.0)) == 0.5
    assert stats.mean_and_error(np.full(50, 3.0)) == (3.0, 0.0, 0.5)
    assert stats.blocking_error(np.full(64, 3.0)) == 0.0


def test_blocking_levels():
    x = ar1(0.95, 2 ** 17 + 5, seed=4)
    err, level, errs = stats.blocking_error(x, full_output=True)
    assert level > 3                       # correlated data need several blocking steps
    assert err == errs[level]
    assert errs[0] < err                   # the naive error underestimates


def test_tau_errors_and_warnings():
    with pytest.raises(ValueError, match="at least"):
        stats.integrated_autocorr_time(np.arange(5.0))
    with pytest.raises(ValueError, match="NaN"):
        stats.integrated_autocorr_time(np.array([1.0] * 10 + [np.nan]))
    with pytest.raises(ValueError, match="one-dimensional"):
        stats.integrated_autocorr_time(np.ones((10, 2, 2)))
    short = ar1(0.999, 40, seed=5)
    with pytest.warns(RuntimeWarning, match="too short"):
        stats.integrated_autocorr_time(short, warn_short=True)
    with pytest.warns(RuntimeWarning, match="too short"):
        stats.mean_and_error(short)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert stats.integrated_autocorr_time(short) > 1.0      # quiet by default
    with pytest.raises(ValueError):
        stats.blocking_error(np.arange(3.0))


def test_chi_square_null_is_uniform_and_alternative_is_rejected():
    p = np.array([0.001, 0.004, 0.05, 0.2, 0.3, 0.25, 0.15, 0.04, 0.005])
    rng = np.random.default_rng(6)
    pvals = np.array([stats.chi_square_test(rng.multinomial(2000, p), p)[2] for _ in range(300)])
    assert pvals.min() > 1e-4
    assert sps.kstest(pvals, "uniform").pvalue > 0.001
    wrong = np.roll(p, 1)
    stat, dof, pval = stats.chi_square_test(rng.multinomial(2000, wrong), p)
    assert pval < 1e-10 and dof >= 1


def test_chi_square_merging():
    # expected: 1, 2, 10, 3, 4 -> merged [1+2+10, 3+4] = [13, 7]
    p = np.array([1, 2, 10, 3, 4]) / 20.0
    obs = np.array([0, 3, 10, 4, 3])
    stat, dof, pval = stats.chi_square_test(obs, p, min_expected=5)
    assert dof == 1
    assert stat == pytest.approx((13 - 13) ** 2 / 13 + (7 - 7) ** 2 / 7)
    obs = np.array([2, 3, 5, 6, 4])
    stat, dof, pval = stats.chi_square_test(obs, p, min_expected=5)
    assert stat == pytest.approx((10 - 13) ** 2 / 13 + (10 - 7) ** 2 / 7)
    assert pval == pytest.approx(sps.chi2.sf(stat, 1))
    # an observation where p == 0 rejects
    assert stats.chi_square_test([5, 5, 1], [0.5, 0.5, 0.0], min_expected=1)[2] == 0.0
    with pytest.raises(ValueError, match="too few"):
        stats.chi_square_test([1, 1], [0.5, 0.5])
    with pytest.raises(ValueError, match="sum to 1"):
        stats.chi_square_test([10, 10], [0.5, 0.6])


def test_chi_square_from_samples_on_exact_ising():
    ex = enumerate_ising(3, 4, 0.35, J=1.0, h=0.1)
    rng = np.random.default_rng(8)
    mags = rng.choice(ex.magnetizations, size=20_000, p=ex.magnetization_probs)
    _, dof, pval = stats.chi_square_from_samples(mags, ex.magnetizations, ex.magnetization_probs)
    assert pval > 1e-3 and dof >= 5
    energies = rng.choice(ex.energies, size=20_000, p=ex.energy_probs)
    assert stats.chi_square_from_samples(energies, ex.energies, ex.energy_probs)[2] > 1e-3
    # the same samples against the h = 0 distribution are rejected
    ex0 = enumerate_ising(3, 4, 0.35, J=1.0, h=0.0)
    assert stats.chi_square_from_samples(mags, ex0.magnetizations, ex0.magnetization_probs)[2] < 1e-6
    # a value off the support rejects
    stat, _, pval = stats.chi_square_from_samples(np.append(mags, 1), ex.magnetizations, ex.magnetization_probs)
    assert pval == 0.0 and stat == math.inf


def test_samples_vs_exact_z():
    assert stats.samples_vs_exact_z(1.1, 0.05, 1.0) == pytest.approx(2.0)
    assert stats.samples_vs_exact_z(1.0, 0.0, 1.0) == 0.0
    assert stats.samples_vs_exact_z(0.9, 0.0, 1.0) == -math.inf
    with pytest.raises(ValueError):
        stats.samples_vs_exact_z(1.0, -1.0, 1.0)


def test_tau_of_several_chains():
    """Chains as columns: the averaged autocovariance gives tau_int of the process with far less noise than
    one chain, and a single column equals the 1D call."""
    chains = np.stack([ar1(0.9, 2000, seed=100 + k) for k in range(40)], axis=1)
    tau = stats.integrated_autocorr_time(chains)
    assert abs(tau - 9.5) < 0.05 * 9.5
    assert stats.integrated_autocorr_time(chains[:, :1]) == stats.integrated_autocorr_time(chains[:, 0])
    singles = [stats.integrated_autocorr_time(chains[:, k]) for k in range(40)]
    assert abs(tau - 9.5) < np.std(singles)   # better than a typical single-chain estimate


# ------------------------------------------------------------------------------------------ one comparison stack
def test_moment_helpers(monkeypatch):
    """Blocked triple products equal the direct ones; activity counts are the K histogram; the agreement
    summary of known values."""
    from fastmf.stats import moments
    rng = np.random.default_rng(0)
    xt = rng.normal(size=(8, 50))
    idx = stats.triple_indices(8, "all", 0)
    assert idx.shape == (56, 3) and np.all((idx[:, 0] < idx[:, 1]) & (idx[:, 1] < idx[:, 2]))
    monkeypatch.setattr(moments, "TRIPLE_BLOCK_ELEMENTS", 7 * 50)     # blocks of 7 triples
    blocks = list(stats.triple_products(xt, idx))
    assert len(blocks) == 8
    got = np.concatenate([p for _, _, _, _, p in blocks])
    assert np.array_equal(got, xt[idx[:, 0]] * xt[idx[:, 1]] * xt[idx[:, 2]])
    active = rng.random((200, 6)) < 0.3
    assert np.array_equal(stats.activity_counts(active), np.bincount(active.sum(1), minlength=7))
    c = stats.summarize_agreement(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0]), np.ones(3), np.zeros(3))
    assert c.entries == 3 and c.max_abs_diff == 1.0 and c.rms_diff == pytest.approx(math.sqrt(1 / 3))
    assert c.rms_z == pytest.approx(math.sqrt(1 / 3)) and 0.9 < c.pearson < 1
    assert math.isnan(stats.summarize_agreement([], [], [], []).rms_z)


def test_documented_paths_reexport_the_stack():
    """fastmf.decode.validate keeps compare and re-exports the records; fastmf.neural.stats is a deprecated alias
    of fastmf.stats.population (warns, same objects)."""
    import importlib
    import sys

    from fastmf.decode import validate
    for name in ("SpinStatistics", "StatComparison", "EnergyComparison", "ExactComparison", "ValidationReport",
                 "spin_statistics", "MAX_ALL_TRIPLES_N"):
        assert getattr(validate, name) is getattr(stats, name)
    sys.modules.pop("fastmf.neural.stats", None)
    with pytest.warns(DeprecationWarning, match="fastmf.neural.stats"):
        old = importlib.import_module("fastmf.neural.stats")
    for name in ("PopulationStatistics", "population_statistics", "compare_statistics"):
        assert getattr(old, name) is getattr(stats, name)
