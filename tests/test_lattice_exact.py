"""Every sampler against exact results: enumeration (chi-square on energy and magnetization histograms of
independent replicas) and Kaufman's finite-lattice energy at L = 16 and 32 (4 standard errors from
independent replica means, which include the autocorrelation)."""
import numpy as np
import pytest

from fastmf.exact import crosscheck as lattice_enum, kaufman
from fastmf.models.lattice import LatticeModel
from fastmf.sampling.lattice import LatticeSampler
from fastmf.verify import histogram_check, kaufman_energy_check

N_REPLICAS = 20000
SEED = 2024

CASES_4x4 = [  # (J, h, T)
    (1.0, 0.0, 2.5), (-1.0, 0.0, 2.0), (1.0, 0.3, 2.2), (-1.0, 0.5, 2.0),
]


def _assert_pass(results):
    for r in results:
        assert r.passed, f"{r.name}: {r.detail}"


@pytest.mark.parametrize("method", ["metropolis", "heatbath", "multispin", "wolff"])
@pytest.mark.parametrize("J,h,T", CASES_4x4)
def test_4x4_histograms(method, J, h, T):
    if method == "wolff" and h != 0:
        pytest.skip("Wolff is defined for h = 0")
    sampler = LatticeSampler(LatticeModel(L=4, J=J, h=h), T, method=method, backend="cpu")
    exact = lattice_enum.enumerate_ising(4, 4, 1 / T, J, h)
    _assert_pass(histogram_check(sampler, exact, N_REPLICAS, 300 if method != "wolff" else 100, SEED))


@pytest.mark.parametrize("method,order", [("metropolis", "sequential"), ("heatbath", "sequential"),
                                          ("wolff", "checkerboard")])
@pytest.mark.parametrize("J,h,T", [(1.0, 0.2, 2.3), (-1.0, 0.3, 1.8), (1.0, 0.0, 2.0), (-1.0, 0.0, 1.5)])
def test_3x5_histograms(method, order, J, h, T):
    if method == "wolff" and h != 0:
        pytest.skip("Wolff is defined for h = 0")
    sampler = LatticeSampler(LatticeModel(L=3, M=5, J=J, h=h), T, method=method, backend="cpu", order=order)
    exact = lattice_enum.enumerate_ising(3, 5, 1 / T, J, h)
    _assert_pass(histogram_check(sampler, exact, N_REPLICAS, 300 if method != "wolff" else 100, SEED))


@pytest.mark.parametrize("method", ["metropolis", "heatbath", "multispin"])
def test_3x5_checkerboard_is_refused(method):
    with pytest.raises(ValueError, match="non-bipartite"):
        LatticeSampler(LatticeModel(L=3, M=5), 2.0, method=method, backend="cpu")


@pytest.mark.parametrize("method", ["metropolis", "heatbath"])
def test_potts_4x4_histograms(method):
    sampler = LatticeSampler(LatticeModel(L=4, q=3, J=1.0, h=0.2), 1.0, method=method, backend="cpu")
    exact = lattice_enum.enumerate_potts(4, 4, 3, 1.0, 1.0, 0.2, max_states=3 ** 16)
    _assert_pass(histogram_check(sampler, exact, N_REPLICAS, 300, SEED))


@pytest.mark.parametrize("kind", ["pm", "gaussian"])
@pytest.mark.parametrize("method", ["metropolis", "heatbath"])
def test_spin_glass_4x4_histograms(kind, method):
    model = LatticeModel.spin_glass(4, kind=kind, h=0.1, seed=3)
    sampler = LatticeSampler(model, 1.5, method=method, backend="cpu")
    exact = lattice_enum.enumerate_ising(4, 4, 1 / 1.5, h=0.1, j_right=model.j_right, j_down=model.j_down)
    _assert_pass(histogram_check(sampler, exact, N_REPLICAS, 300, SEED))


def test_histogram_check_detects_a_wrong_temperature():
    """The check has power: samples at T = 2.6 fail against the exact distribution at T = 2.5."""
    sampler = LatticeSampler(LatticeModel(L=4), 2.6, method="metropolis", backend="cpu")
    exact = lattice_enum.enumerate_ising(4, 4, 1 / 2.5)
    results = histogram_check(sampler, exact, N_REPLICAS, 300, SEED)
    assert not results[0].passed and "p=" in results[0].detail


KAUFMAN_T = [2.0, kaufman.T_C, 3.0]


@pytest.mark.parametrize("L", [16, 32])
@pytest.mark.parametrize("T", KAUFMAN_T)
@pytest.mark.parametrize("method,n_burn,n_steps", [("metropolis", 2000, 6000), ("heatbath", 2000, 6000),
                                                   ("multispin", 2000, 4000), ("wolff", 500, 3000)])
def test_energy_against_kaufman(L, T, method, n_burn, n_steps):
    n_rep = 64 if method == "multispin" else 32
    r = kaufman_energy_check(L, T, method, n_rep, n_burn, n_steps, SEED, backend="cpu", n_sigma=4.0)
    assert r.passed, r.detail


def test_kaufman_check_has_power():
    """4 standard errors is tight: a 1% error in temperature at T_c is detected."""
    L, T = 16, kaufman.T_C
    model = LatticeModel(L=L)
    sampler = LatticeSampler(model, T * 1.01, method="wolff", backend="cpu")
    state = sampler.init_state(32, SEED)
    sampler.run(state, 500)
    sums = np.zeros(32)
    for _ in range(3000):
        sampler.run(state, 1)
        sums += model.energy(state.spins)
    means = sums / 3000 / model.n_sites
    z = (means.mean() - kaufman.energy_per_site(L, L, T)) / (means.std(ddof=1) / np.sqrt(32))
    assert abs(z) > 4

