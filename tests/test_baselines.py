"""The benchmark baselines (and fastmf's checkerboard sweep) sample the Ising model correctly.

On a 4 x 4 periodic lattice at T = 3 the mean energy per site is compared with its exact value from a
brute-force sum over all 2**16 states (references.all_configurations), within 4 standard errors (batch means
over a long chain, or independent replicas for fastmf; two-sided 6e-5 for a normal mean). Power: the same
estimates are more than 4 standard errors from the exact value at a temperature 5 % higher (each sampler's
estimate is a module fixture shared by the check and its companion).
"""
import functools
import importlib
import pathlib
import sys

import numpy as np
import pytest
from references import all_configurations

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


@functools.lru_cache(maxsize=1)
def _energies_of_all_states():
    return energy_per_site(all_configurations(L * L).reshape(-1, L, L))


def exact_energy_per_site(beta):
    """<E>/N on the 4 x 4 lattice by enumerating all 2**16 states."""
    e = _energies_of_all_states()
    w = np.exp(-beta * L * L * (e - e.min()))
    return float((w * e).sum() / w.sum())


def batch_mean(samples, n_batches=40):
    """Mean and standard error from ``n_batches`` batch means."""
    samples = np.asarray(samples)
    b = samples[: len(samples) // n_batches * n_batches].reshape(n_batches, -1).mean(axis=1)
    return b.mean(), b.std(ddof=1) / np.sqrt(n_batches)


def hot_start(seed, shape=(L, L)):
    return (2 * np.random.default_rng(seed).integers(0, 2, size=shape) - 1).astype(np.int8)


def test_exact_enumeration_sanity():
    # Infinite temperature: <E> = 0; zero temperature limit: ground state E/N = -2J.
    assert abs(exact_energy_per_site(1e-12)) < 1e-9
    assert exact_energy_per_site(20.0) == pytest.approx(-2.0, abs=1e-9)


def z_score(estimate, beta):
    """(sample mean - exact <E>/N at ``beta``) / standard error, for ``estimate = (mean, standard error)``."""
    mean, err = estimate
    return (mean - exact_energy_per_site(beta)) / err


@pytest.fixture(scope="module")
def numpy_estimate(baselines):
    rng = np.random.default_rng(1)
    spins = hot_start(2)
    baselines.numpy_checkerboard_sweep(spins, BETA, J, H, rng, 200)
    e = np.empty(16000)
    for t in range(e.size):
        baselines.numpy_checkerboard_sweep(spins, BETA, J, H, rng, 1)
        e[t] = energy_per_site(spins)
    assert np.all(np.abs(spins) == 1)
    return batch_mean(e)


@pytest.fixture(scope="module")
def numba_naive_estimate(baselines):
    baselines.seed_numba_random(3)
    spins = hot_start(4)
    baselines.numba_naive_checkerboard_sweep(spins, BETA, J, H, 200)
    e = np.empty(16000)
    for t in range(e.size):
        baselines.numba_naive_checkerboard_sweep(spins, BETA, J, H, 1)
        e[t] = energy_per_site(spins)
    assert np.all(np.abs(spins) == 1)
    return batch_mean(e)


@pytest.fixture(scope="module")
def fastmf_estimate():
    from fastmf.kernels.lattice_cpu import checkerboard_sweep
    spins = hot_start(5, (512, L, L))
    checkerboard_sweep(spins, BETA, J, H, seed=6, sweep=0, n_sweeps=200)
    e = np.zeros(spins.shape[0])
    n_meas = 40
    for t in range(n_meas):  # per-replica time average; replicas are independent
        checkerboard_sweep(spins, BETA, J, H, seed=6, sweep=200 + 5 * t, n_sweeps=5)
        e += energy_per_site(spins)
    e /= n_meas
    return e.mean(), e.std(ddof=1) / np.sqrt(e.size)


ESTIMATES = ["numpy_estimate", "numba_naive_estimate", "fastmf_estimate"]


@pytest.mark.parametrize("estimate", ESTIMATES)
def test_sampler_samples_boltzmann(estimate, request):
    z = z_score(request.getfixturevalue(estimate), BETA)
    assert abs(z) < 4, z


@pytest.mark.parametrize("estimate", ESTIMATES)
def test_power_temperature_five_percent_higher_is_rejected(estimate, request):
    z = z_score(request.getfixturevalue(estimate), BETA / 1.05)
    assert abs(z) > 4, z


def test_baselines_accept_count_matches_changes(baselines):
    # The returned count equals the number of sites that changed over one sweep (each flips at most once).
    spins = hot_start(7, (16, 16))
    before = spins.copy()
    acc = baselines.numpy_checkerboard_sweep(spins, 0.3, J, H, np.random.default_rng(0), 1)
    assert acc == np.count_nonzero(spins != before)
    before = spins.copy()
    acc = baselines.numba_naive_checkerboard_sweep(spins, 0.3, J, H, 1)
    assert acc == np.count_nonzero(spins != before)
