"""Lattice observables against naive loops and exact enumeration."""
import itertools

import numpy as np
import pytest

from fastmf.models import observables as obs
from fastmf.exact.crosscheck import enumerate_ising


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


def test_exact_averages_over_all_states_3x3():
    """Observables on the list of all 512 states, Boltzmann-weighted, equal the enumeration."""
    L = M = 3
    beta, J, h = 0.45, 0.9, 0.15
    states = np.array(list(itertools.product((-1, 1), repeat=9)), dtype=np.int8).reshape(-1, L, M)
    e = obs.ising_energy(states, J=J, h=h)
    w = np.exp(-beta * (e - e.min()))
    p = w / w.sum()
    ex = enumerate_ising(L, M, beta, J=J, h=h)
    assert np.log(w.sum()) - beta * e.min() == pytest.approx(ex.log_z, rel=1e-12)
    assert np.sum(p * e) == pytest.approx(ex.mean_energy, rel=1e-12)
    m = obs.magnetization(states)
    assert np.sum(p * m) == pytest.approx(ex.mean_magnetization, rel=1e-12)
    assert np.sum(p * np.abs(obs.staggered_magnetization(states))) == pytest.approx(ex.mean_abs_staggered, rel=1e-12)
    # specific heat / susceptibility: exact population variance of a resampled ensemble
    rng = np.random.default_rng(7)
    idx = rng.choice(len(p), size=200_000, p=p)
    assert obs.specific_heat(e[idx], 1 / beta, 9) == pytest.approx(ex.specific_heat, rel=0.02)
    assert obs.susceptibility(m[idx], 1 / beta, 9) == pytest.approx(ex.susceptibility, rel=0.02)


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
