"""Every sampler against exact results: enumeration (chi-square on energy and magnetization histograms of
independent replicas) and Kaufman's finite-lattice energy at L = 16 and 32 (4 standard errors from
independent replica means, which include the autocorrelation).

The enumeration is fastmf.exact.crosscheck, which shares no code with the samplers and is itself checked
against plain-loop brute force in test_lattice_enum.py. Each kind of check has a power companion that feeds it
a sampler at a temperature 4-5 % off and asserts that it fails."""
import numpy as np
import pytest

from fastmf.exact import crosscheck as lattice_enum, kaufman
from fastmf.models.lattice import LatticeModel
from fastmf.sampling.lattice import LatticeSampler
from fastmf.verify import P_FAIL, histogram_check, kaufman_energy_check

N_REPLICAS = 20000
SEED = 2024

CASES_4x4 = [  # (J, h, T)
    (1.0, 0.0, 2.5), (-1.0, 0.0, 2.0), (1.0, 0.3, 2.2), (-1.0, 0.5, 2.0),
]
CASES_3x5 = [(1.0, 0.2, 2.3), (-1.0, 0.3, 1.8), (1.0, 0.0, 2.0), (-1.0, 0.0, 1.5)]
POTTS_4x4 = dict(q=3, J=1.0, h=0.2, T=1.0)
GLASS_4x4 = dict(h=0.1, T=1.5, seed=3)


def _grid(methods, cases):
    """Every (method..., J, h, T) combination, Wolff only at h = 0: its clusters need h = 0."""
    return [m + c for m in methods for c in cases if m[0] != "wolff" or c[1] == 0]


def _histograms(sampler, exact):
    """The enumeration check of every test here (fastmf.verify.histogram_check): final states of N_REPLICAS
    independent chains, chi-square of the energy and of the magnetization (Potts: n_0) histograms against the
    exact distributions, each failing below p = 1e-4."""
    return histogram_check(sampler, exact, N_REPLICAS, 100 if sampler.method == "wolff" else 300, SEED)


def _assert_pass(results):
    for r in results:
        assert r.passed, f"{r.name}: {r.detail}"


def _p_value(result):
    return float(result.detail.split("p=")[1].split()[0])


@pytest.mark.parametrize("method,J,h,T", _grid([("metropolis",), ("heatbath",), ("multispin",), ("wolff",)],
                                               CASES_4x4))
def test_4x4_histograms(method, J, h, T):
    sampler = LatticeSampler(LatticeModel(L=4, J=J, h=h), T, method=method, backend="cpu")
    _assert_pass(_histograms(sampler, lattice_enum.enumerate_ising(4, 4, 1 / T, J, h)))


METHODS_3x5 = [("metropolis", "sequential"), ("heatbath", "sequential"), ("wolff", "checkerboard")]


@pytest.mark.parametrize("method,order,J,h,T", _grid(METHODS_3x5, CASES_3x5))
def test_3x5_histograms(method, order, J, h, T):
    sampler = LatticeSampler(LatticeModel(L=3, M=5, J=J, h=h), T, method=method, backend="cpu", order=order)
    _assert_pass(_histograms(sampler, lattice_enum.enumerate_ising(3, 5, 1 / T, J, h)))


@pytest.mark.parametrize("method", ["metropolis", "heatbath", "multispin"])
def test_3x5_checkerboard_is_refused(method):
    with pytest.raises(ValueError, match="non-bipartite"):
        LatticeSampler(LatticeModel(L=3, M=5), 2.0, method=method, backend="cpu")


@pytest.fixture(scope="module")
def potts_exact():
    """Exact 4 x 4, q = 3 Potts distributions at T = 1 (3**16 states: enumerated once for the module)."""
    c = POTTS_4x4
    return lattice_enum.enumerate_potts(4, 4, c["q"], 1 / c["T"], c["J"], c["h"], max_states=3 ** 16)


def _potts_sampler(method, T):
    c = POTTS_4x4
    return LatticeSampler(LatticeModel(L=4, q=c["q"], J=c["J"], h=c["h"]), T, method=method, backend="cpu")


@pytest.mark.parametrize("method", ["metropolis", "heatbath"])
def test_potts_4x4_histograms(method, potts_exact):
    _assert_pass(_histograms(_potts_sampler(method, POTTS_4x4["T"]), potts_exact))


def test_potts_histogram_check_has_power(potts_exact):
    """Power companion: a Potts sampler 5 % too hot fails the same check, on the n_0 histogram as well as on
    the energy."""
    results = _histograms(_potts_sampler("metropolis", POTTS_4x4["T"] * 1.05), potts_exact)
    assert all(not r.passed for r in results) and all(_p_value(r) < P_FAIL for r in results), \
        [r.detail for r in results]


def _glass(kind):
    return LatticeModel.spin_glass(4, kind=kind, h=GLASS_4x4["h"], seed=GLASS_4x4["seed"])


def _glass_exact(model):
    return lattice_enum.enumerate_ising(4, 4, 1 / GLASS_4x4["T"], h=GLASS_4x4["h"], j_right=model.j_right,
                                        j_down=model.j_down)


@pytest.mark.parametrize("kind", ["pm", "gaussian"])
@pytest.mark.parametrize("method", ["metropolis", "heatbath"])
def test_spin_glass_4x4_histograms(kind, method):
    model = _glass(kind)
    sampler = LatticeSampler(model, GLASS_4x4["T"], method=method, backend="cpu")
    _assert_pass(_histograms(sampler, _glass_exact(model)))


def test_spin_glass_histogram_check_has_power():
    """Power companion: a +-J spin-glass sampler 5 % too hot fails the same check. Its energy histogram is the
    sensitive one; the magnetization histogram alone moves too little at h = 0.1 to fail at this sample size
    (p ~ 2e-4), which the uniform-Ising companion below covers."""
    model = _glass("pm")
    results = _histograms(LatticeSampler(model, GLASS_4x4["T"] * 1.05, method="metropolis", backend="cpu"),
                          _glass_exact(model))
    assert not results[0].passed and _p_value(results[0]) < P_FAIL, results[0].detail


def test_histogram_check_detects_a_wrong_temperature():
    """The check has power: samples at T = 2.6 fail against the exact distribution at T = 2.5 (4 % off), on
    the energy histogram and on the magnetization histogram."""
    sampler = LatticeSampler(LatticeModel(L=4), 2.6, method="metropolis", backend="cpu")
    results = _histograms(sampler, lattice_enum.enumerate_ising(4, 4, 1 / 2.5))
    for r in results:
        assert not r.passed and _p_value(r) < P_FAIL, r.detail


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

