"""Lattice observables against naive loops and a plain-loop enumeration of every state (references.py)."""
import numpy as np
import pytest

from fastmf.models import observables as obs
from references import lattice_ising_boltzmann


def naive_ising_energy(s, jr, jd, h):
    L, M = s.shape
    e = 0.0
    for r in range(L):
        for c in range(M):
            e -= jr[r, c] * s[r, c] * s[r, (c + 1) % M] + jd[r, c] * s[r, c] * s[(r + 1) % L, c] + h * s[r, c]
    return e


def naive_potts_energy(s, J, h):
    L, M = s.shape
    e = 0.0
    for r in range(L):
        for c in range(M):
            e -= J * (int(s[r, c] == s[r, (c + 1) % M]) + int(s[r, c] == s[(r + 1) % L, c])) + h * int(s[r, c] == 0)
    return e


def naive_staggered(s):
    L, M = s.shape
    return sum((-1) ** (r + c) * int(s[r, c]) for r in range(L) for c in range(M)) / (L * M)


def naive_potts_order(s, q):
    n = s.size
    counts = [int(np.sum(s == k)) for k in range(q)]
    return (q * max(counts) / n - 1) / (q - 1)


SHAPES = [(2, 2), (2, 5), (3, 4), (5, 3), (6, 6)]


@pytest.mark.parametrize("L,M", SHAPES)
def test_ising_energy_vs_naive(L, M):
    rng = np.random.default_rng(L * 10 + M)
    spins = rng.choice(np.array([-1, 1], dtype=np.int8), size=(7, L, M))
    jr, jd = rng.normal(size=(L, M)), rng.normal(size=(L, M))
    e = obs.ising_energy(spins, J=0.7, h=-0.3)
    e_q = obs.ising_energy(spins, h=0.2, j_right=jr, j_down=jd)
    assert e.shape == (7,) and e.dtype == np.float64
    for k in range(7):
        assert e[k] == pytest.approx(naive_ising_energy(spins[k], np.full((L, M), 0.7), np.full((L, M), 0.7), -0.3))
        assert e_q[k] == pytest.approx(naive_ising_energy(spins[k], jr, jd, 0.2))
        assert obs.ising_energy(spins[k], J=0.7, h=-0.3) == pytest.approx(e[k])     # single lattice
        assert obs.magnetization(spins[k]) == pytest.approx(spins[k].sum() / (L * M))
        assert obs.staggered_magnetization(spins)[k] == pytest.approx(naive_staggered(spins[k]))
    assert np.allclose(obs.abs_magnetization(spins), np.abs(spins.sum(axis=(1, 2))) / (L * M))


@pytest.mark.parametrize("L,M", SHAPES)
@pytest.mark.parametrize("q", [2, 3, 5])
def test_potts_vs_naive(L, M, q):
    rng = np.random.default_rng(100 * q + L * 10 + M)
    states = rng.integers(0, q, size=(6, L, M), dtype=np.uint8)
    e = obs.potts_energy(states, J=1.1, h=0.4)
    m = obs.potts_order_parameter(states, q)
    occ = obs.potts_occupations(states, q)
    for k in range(6):
        assert e[k] == pytest.approx(naive_potts_energy(states[k], 1.1, 0.4))
        assert m[k] == pytest.approx(naive_potts_order(states[k], q))
        assert occ[k].tolist() == [int(np.sum(states[k] == a)) for a in range(q)]
    assert obs.potts_order_parameter(np.zeros((L, M), np.uint8), q) == pytest.approx(1.0)


def test_ground_states():
    up = np.ones((1, 4, 6), dtype=np.int8)
    assert obs.ising_energy(up)[0] == -48.0
    neel = (1 - 2 * ((np.arange(4)[:, None] + np.arange(6)[None, :]) % 2)).astype(np.int8)[None]
    assert obs.ising_energy(neel, J=-1.0)[0] == -48.0
    assert obs.staggered_magnetization(neel)[0] == 1.0
    assert obs.magnetization(neel)[0] == 0.0
    assert obs.potts_energy(np.zeros((2, 3), np.uint8), J=2.0, h=1.0) == -2.0 * 12 - 6.0


L3, BETA3, J3, H3 = 3, 0.45, 0.9, 0.15
N_RESAMPLE = 200_000


@pytest.fixture(scope="module")
def states_3x3():
    """Every 3 x 3 state (references.all_configurations), its energy and magnetization by the functions under
    test, and the reference: Boltzmann probabilities and ln Z by plain loops (tests/references.py)."""
    configs, e_ref, p_ref, log_z = lattice_ising_boltzmann(L3, L3, BETA3, J=J3, h=H3)
    states = configs.astype(np.int8).reshape(-1, L3, L3)
    return states, obs.ising_energy(states, J=J3, h=H3), obs.magnetization(states), e_ref, p_ref, log_z


def test_exact_averages_over_all_states_3x3(states_3x3):
    """Observables on the list of all 512 states, Boltzmann-weighted, equal the plain-loop reference."""
    states, e, m, e_ref, p_ref, log_z = states_3x3
    np.testing.assert_allclose(e, e_ref, rtol=0, atol=1e-12)     # 27 terms of size <= 1: summation order
    w = np.exp(-BETA3 * (e - e.min()))
    p = w / w.sum()
    assert np.log(w.sum()) - BETA3 * e.min() == pytest.approx(log_z, rel=1e-12)
    np.testing.assert_allclose(p, p_ref, rtol=1e-12)
    sign = np.array([(-1) ** (i // L3 + i % L3) for i in range(L3 * L3)])
    stag_ref = np.abs(states.reshape(len(states), -1) @ sign) / (L3 * L3)
    assert np.sum(p * m) == pytest.approx(float(np.sum(p_ref * states.reshape(len(states), -1).mean(axis=1))),
                                          rel=1e-12)
    assert np.sum(p * np.abs(obs.staggered_magnetization(states))) == pytest.approx(
        float(np.sum(p_ref * stag_ref)), rel=1e-12)


def _resampled_fluctuation_z(states_3x3, beta_samples):
    """The specific-heat and susceptibility check: draw N_RESAMPLE independent states from the Boltzmann
    distribution at ``beta_samples`` (plain-loop reference), estimate C and chi at the nominal temperature
    with the functions under test, and return their z-scores against the exact C and chi at BETA3.

    Each estimate is ``scale * var(x)`` of independent draws, so its standard error is the textbook
    ``scale * sqrt((m4 - m2**2) / n)`` from the sample's own central moments (iid: no autocorrelation)."""
    states, e, m, e_ref, p_ref, _ = states_3x3
    n_sites = L3 * L3
    mag_ref = states.reshape(len(states), -1).sum(axis=1) / n_sites
    exact_c = BETA3 ** 2 * float(np.sum(p_ref * (e_ref - np.sum(p_ref * e_ref)) ** 2)) / n_sites
    exact_chi = BETA3 * n_sites * float(np.sum(p_ref * (mag_ref - np.sum(p_ref * mag_ref)) ** 2))
    p_draw = lattice_ising_boltzmann(L3, L3, beta_samples, J=J3, h=H3)[2]
    idx = np.random.default_rng(7).choice(len(p_draw), size=N_RESAMPLE, p=p_draw)
    z = {}
    for name, x, estimate, exact, scale in (
            ("C", e[idx], obs.specific_heat(e[idx], 1 / BETA3, n_sites), exact_c, BETA3 ** 2 / n_sites),
            ("chi", m[idx], obs.susceptibility(m[idx], 1 / BETA3, n_sites), exact_chi, BETA3 * n_sites)):
        d = x - x.mean()
        se = scale * np.sqrt((np.mean(d ** 4) - np.mean(d ** 2) ** 2) / len(x))
        z[name] = (estimate - exact) / se
    return z


def test_specific_heat_and_susceptibility_of_exact_samples(states_3x3):
    """Resampled exact states give C and chi within 4 standard errors (a normal |z| > 4 has p = 6e-5)."""
    z = _resampled_fluctuation_z(states_3x3, BETA3)
    assert all(abs(v) <= 4.0 for v in z.values()), z


def test_specific_heat_and_susceptibility_check_has_power(states_3x3):
    """Power companion: states drawn at a temperature 5 % too high (beta / 1.05) fail the same check, on C and
    on chi. (5 % colder moves chi too little to see at this n: z = 2.5.)"""
    z = _resampled_fluctuation_z(states_3x3, BETA3 / 1.05)
    assert all(abs(v) > 4.0 for v in z.values()), z


def test_specific_heat_susceptibility_formulas():
    x = np.array([1.0, 2.0, 4.0, 7.0])
    assert obs.specific_heat(x, 2.0, 3) == pytest.approx(np.var(x) / (3 * 4.0))
    assert obs.susceptibility(x, 2.0, 3) == pytest.approx(3 * np.var(x) / 2.0)


def test_validation():
    with pytest.raises(ValueError, match="only \\+1 and -1"):
        obs.ising_energy(np.zeros((2, 3, 3), np.int8))
    with pytest.raises(ValueError, match="shape"):
        obs.magnetization(np.ones(5, np.int8))
    with pytest.raises(TypeError):
        obs.potts_energy(np.zeros((2, 3, 3), np.float32))
    with pytest.raises(ValueError):
        obs.potts_order_parameter(np.full((2, 3, 3), 3, np.uint8), 3)
    with pytest.raises(ValueError):
        obs.ising_energy(np.ones((1, 3, 3), np.int8), j_right=np.ones((3, 3)))
    with pytest.raises(ValueError):
        obs.ising_energy(np.ones((1, 3, 3), np.int8), j_right=np.ones((3, 4)), j_down=np.ones((3, 4)))
    with pytest.raises(ValueError):
        obs.specific_heat([1.0, 2.0], 0.0, 4)
    with pytest.raises(ValueError):
        obs.susceptibility([[1.0, 2.0]], 1.0, 4)
    with pytest.raises(TypeError):
        obs.magnetization(np.array([[True, False], [True, True]]))
