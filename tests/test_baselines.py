"""The benchmark baselines (and fastmf's checkerboard sweep) sample their models correctly.

On a 4 x 4 periodic lattice at T = 3 the mean energy per site is compared with its exact value from a
brute-force sum over all 2**16 states (references.all_configurations), within 4 standard errors (batch means
over a long chain, or independent replicas for fastmf; two-sided 6e-5 for a normal mean). Power: the same
estimates are more than 4 standard errors from the exact value at a temperature 5 % higher (each sampler's
estimate is a module fixture shared by the check and its companion); the competent kernel also with a field
(h = 0.3), through the magnetization. The competent Curie-Weiss and Hopfield kernels get the same check against
references.lowrank_boltzmann (N = 12 and N = 10, P = 2, h != 0 so that the sign-dependent half of their tables
is used), with time averages of 64 independent chains; their maintained magnetization and overlaps must equal
the recomputed ones.
"""
import contextlib
import functools
import importlib
import pathlib
import sys

import numba
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


@pytest.fixture(scope="module")
def competent():
    _load_baselines()
    return importlib.import_module("benchmarks.competent")


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


@contextlib.contextmanager
def one_thread():
    """One Numba thread: 16000 launches of a parallel kernel cost ~10 us each, not ~100 us on a busy machine."""
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(threads)


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
    with one_thread():
        for t in range(e.size):
            baselines.numba_naive_checkerboard_sweep(spins, BETA, J, H, 1)
            e[t] = energy_per_site(spins)
    assert np.all(np.abs(spins) == 1)
    return batch_mean(e)


def competent_series(competent, seed, h, observable):
    """Batch mean of ``observable`` over 16 000 single sweeps of the competent kernel (field h), after 200."""
    spins = hot_start(seed)
    states, table = competent.xorshift_states(seed + 1, L), competent.ising_thresholds(BETA, J, h)
    competent.ising_checkerboard_sweep(spins, BETA, J, h, states, 200, table)
    x = np.empty(16000)
    with one_thread():
        for t in range(x.size):
            competent.ising_checkerboard_sweep(spins, BETA, J, h, states, 1, table)
            x[t] = observable(spins)
    assert np.all(np.abs(spins) == 1)
    return batch_mean(x)


@pytest.fixture(scope="module")
def numba_competent_estimate(competent):
    return competent_series(competent, 8, H, energy_per_site)


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


ESTIMATES = ["numpy_estimate", "numba_naive_estimate", "numba_competent_estimate", "fastmf_estimate"]


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
    before = spins.copy()
    acc = baselines.ising_checkerboard_sweep(spins, 0.3, J, H, baselines.xorshift_states(1, 16), 1)
    assert acc == np.count_nonzero(spins != before)


H_FIELD = 0.3  # the competent kernel's field half of the table: <m> on 4 x 4 at T = 3


def exact_magnetization_per_site(beta, h=H_FIELD):
    s = all_configurations(L * L).reshape(-1, L, L).astype(np.int64)
    m = s.sum(axis=(1, 2))
    e = -J * (s * np.roll(s, 1, -1) + s * np.roll(s, 1, -2)).sum(axis=(1, 2)) - h * m
    w = np.exp(-beta * (e - e.min()))
    return float(w @ m / w.sum()) / (L * L)


@pytest.fixture(scope="module")
def competent_field_estimate(competent):
    return competent_series(competent, 15, H_FIELD, np.mean)


@pytest.mark.parametrize("factor", [1.0, 1.05])
def test_competent_ising_with_field(competent_field_estimate, factor):
    # |z| < 4 at the sampled temperature; power: |z| > 4 at a temperature 5 % higher
    mean, err = competent_field_estimate
    z = (mean - exact_magnetization_per_site(BETA / factor)) / err
    assert (abs(z) < 4) if factor == 1.0 else (abs(z) > 4), z


def test_competent_ising_depends_on_the_seed_alone(competent):
    # one generator per row: the same seed gives the same lattice whatever the thread count
    out = []
    for threads in sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)}):
        with one_thread():
            numba.set_num_threads(threads)
            spins = hot_start(10, (32, 32))
            competent.ising_checkerboard_sweep(spins, 0.44, J, H, competent.xorshift_states(11, 32), 5)
        out.append(spins)
    assert all(np.array_equal(out[0], o) for o in out)
    spins = hot_start(10, (32, 32))
    competent.ising_checkerboard_sweep(spins, 0.44, J, H, competent.xorshift_states(12, 32), 5)
    assert not np.array_equal(out[0], spins)


# ----------------------------------------------------------------------------------------------
# Competent Curie-Weiss and Hopfield kernels.

LOWRANK = {"curie_weiss": (np.ones((1, 12), np.int8), 1.0, 0.05),  # patterns, beta, h
           "hopfield": (np.random.default_rng(0).choice(np.array([-1, 1], np.int8), size=(2, 10)), 1.2, 0.1)}


def _lowrank_run(competent, model, beta, h, seed, n_sweeps, n_chains, measure=None):
    """Run the competent kernel from a random start; ``measure(spins)`` after each sweep when given."""
    patterns = LOWRANK[model][0]
    P, N = patterns.shape
    spins = np.random.default_rng(seed).choice(np.array([-1, 1], np.int8), size=(n_chains, N))
    states = competent.xorshift_states(seed, n_chains)
    patterns_t = np.ascontiguousarray(patterns.T)
    table = competent.lowrank_thresholds(beta, J, h, P, N)
    magnetization, overlaps = spins.sum(axis=1, dtype=np.int64), spins.astype(np.int64) @ patterns_t
    for _ in range(n_sweeps if measure else 1):
        if model == "curie_weiss":
            competent.curie_weiss_sweeps(spins, magnetization, beta, J, h, states, 1 if measure else n_sweeps, table)
        else:
            competent.hopfield_sweeps(spins, patterns_t, overlaps, beta, J, h, states, 1 if measure else n_sweeps,
                                      table)
        if measure:
            measure(spins)
    return spins, magnetization if model == "curie_weiss" else overlaps


def _lowrank_energy(spins, patterns, h):
    o = spins.astype(np.int64) @ patterns.T.astype(np.int64)
    return -(o ** 2).sum(axis=1) / (2.0 * spins.shape[1]) - h * spins.sum(axis=1)


@pytest.fixture(scope="module", params=sorted(LOWRANK))
def lowrank_estimate(request, competent):
    """(model, mean energy, standard error): time averages over 300 sweeps (after 100) of 64 independent chains."""
    model = request.param
    patterns, beta, h = LOWRANK[model]
    e, t = np.zeros(64), [0]

    def measure(spins):
        t[0] += 1
        if t[0] > 100:
            e[:] += _lowrank_energy(spins, patterns, h)
    with one_thread():
        _lowrank_run(competent, model, beta, h, 13, 400, 64, measure)
    e /= 300
    return model, e.mean(), e.std(ddof=1) / np.sqrt(e.size)


def _lowrank_z(estimate, beta):
    from references import lowrank_boltzmann
    model, mean, err = estimate
    patterns, _, h = LOWRANK[model]
    _, _, energies, probs = lowrank_boltzmann(patterns, beta, J, h)
    return (mean - float(probs @ energies)) / err


def test_competent_lowrank_samples_boltzmann(lowrank_estimate):
    z = _lowrank_z(lowrank_estimate, LOWRANK[lowrank_estimate[0]][1])
    assert abs(z) < 4, z


def test_competent_lowrank_power_temperature_five_percent_higher_is_rejected(lowrank_estimate):
    z = _lowrank_z(lowrank_estimate, LOWRANK[lowrank_estimate[0]][1] / 1.05)
    assert abs(z) > 4, z


@pytest.mark.parametrize("model", sorted(LOWRANK))
def test_competent_lowrank_order_parameters_are_maintained(competent, model):
    # beta = 0.8, h = 0: the benchmark's setting
    spins, kept = _lowrank_run(competent, model, 0.8, 0.0, 14, 50, 3)
    patterns = LOWRANK[model][0]
    recomputed = spins.astype(np.int64) @ patterns.T.astype(np.int64)
    assert np.array_equal(kept, recomputed[:, 0] if model == "curie_weiss" else recomputed)
