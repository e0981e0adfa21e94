"""The benchmark baselines (and fastmf's checkerboard sweep) sample the Ising model correctly.

On a 4 x 4 periodic lattice at T = 3 the mean energy per site is compared with its exact value from a
brute-force sum over all 2**16 states, within 4 standard errors (batch means over a long chain, or
independent replicas for fastmf).
"""
import importlib
import pathlib
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
L = 4
BETA = 1.0 / 3.0
J, H = 1.0, 0.0


def _load_baselines():
    # Import under the same name as benchmarks/report.py does: Numba's on-disk cache records the module
    # name, so a second name for the same file would make the other's cache entries unloadable.
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module("benchmarks.baselines")


@pytest.fixture(scope="module")
def baselines():
    return _load_baselines()


def energy_per_site(spins):
    """E / N of int8 spins of shape (..., L, M), periodic: ``E = -J sum_<ij> s_i s_j - h sum_i s_i``."""
    s = spins.astype(np.int64)
    bonds = s * np.roll(s, 1, -1) + s * np.roll(s, 1, -2)
    n = s.shape[-1] * s.shape[-2]
    return (-J * bonds.sum(axis=(-1, -2)) - H * s.sum(axis=(-1, -2))) / n


def exact_energy_per_site(beta):
    """<E>/N on the 4 x 4 lattice by enumerating all 2**16 states."""
    states = np.arange(2 ** (L * L), dtype=np.int64)
    bits = (states[:, None] >> np.arange(L * L)) & 1
    spins = (2 * bits - 1).reshape(-1, L, L)
    e = energy_per_site(spins)
    w = np.exp(-beta * L * L * (e - e.min()))
    return float((w * e).sum() / w.sum())


def batch_mean(samples, n_batches=40):
    """Mean and standard error from ``n_batches`` batch means."""
    samples = np.asarray(samples)
    b = samples[: len(samples) // n_batches * n_batches].reshape(n_batches, -1).mean(axis=1)
    return b.mean(), b.std(ddof=1) / np.sqrt(n_batches)


def hot_start(seed, shape=(L, L)):
    return (2 * np.random.default_rng(seed).integers(0, 2, size=shape) - 1).astype(np.int8)


@pytest.fixture(scope="module")
def exact():
    return exact_energy_per_site(BETA)


def test_exact_enumeration_sanity():
    # Infinite temperature: <E> = 0; zero temperature limit: ground state E/N = -2J.
    assert abs(exact_energy_per_site(1e-12)) < 1e-9
    assert exact_energy_per_site(20.0) == pytest.approx(-2.0, abs=1e-9)


def test_numpy_baseline_samples_boltzmann(baselines, exact):
    rng = np.random.default_rng(1)
    spins = hot_start(2)
    baselines.numpy_checkerboard_sweep(spins, BETA, J, H, rng, 200)
    e = np.empty(16000)
    for t in range(e.size):
        baselines.numpy_checkerboard_sweep(spins, BETA, J, H, rng, 1)
        e[t] = energy_per_site(spins)
    mean, err = batch_mean(e)
    assert np.all(np.abs(spins) == 1)
    assert abs(mean - exact) < 4 * err, (mean, err, exact)


def test_numba_naive_baseline_samples_boltzmann(baselines, exact):
    baselines.seed_numba_random(3)
    spins = hot_start(4)
    baselines.numba_naive_checkerboard_sweep(spins, BETA, J, H, 200)
    e = np.empty(16000)
    for t in range(e.size):
        baselines.numba_naive_checkerboard_sweep(spins, BETA, J, H, 1)
        e[t] = energy_per_site(spins)
    mean, err = batch_mean(e)
    assert np.all(np.abs(spins) == 1)
    assert abs(mean - exact) < 4 * err, (mean, err, exact)


def test_fastmf_checkerboard_samples_boltzmann(exact):
    from fastmf.kernels.lattice_cpu import checkerboard_sweep
    spins = hot_start(5, (512, L, L))
    checkerboard_sweep(spins, BETA, J, H, seed=6, sweep=0, n_sweeps=200)
    e = np.zeros(spins.shape[0])
    n_meas = 40
    for t in range(n_meas):  # per-replica time average; replicas are independent
        checkerboard_sweep(spins, BETA, J, H, seed=6, sweep=200 + 5 * t, n_sweeps=5)
        e += energy_per_site(spins)
    e /= n_meas
    mean, err = e.mean(), e.std(ddof=1) / np.sqrt(e.size)
    assert abs(mean - exact) < 4 * err, (mean, err, exact)


def test_baselines_accept_count_matches_changes(baselines):
    # The returned count equals the number of sites that changed over one sweep (each flips at most once).
    spins = hot_start(7, (16, 16))
    before = spins.copy()
    acc = baselines.numpy_checkerboard_sweep(spins, 0.3, J, H, np.random.default_rng(0), 1)
    assert acc == np.count_nonzero(spins != before)
    before = spins.copy()
    acc = baselines.numba_naive_checkerboard_sweep(spins, 0.3, J, H, 1)
    assert acc == np.count_nonzero(spins != before)
