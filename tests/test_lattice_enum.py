"""Exact enumeration of small Ising and Potts lattices against brute force: plain loops over every Ising state
(tests/references.py) and itertools over every Potts state."""
import itertools
import math
from collections import defaultdict

import numpy as np
import pytest

from fastmf.exact.crosscheck import enumerate_ising, enumerate_potts
from references import lattice_distribution, lattice_ising_boltzmann


def naive_ising(L, M, beta, jr, jd, h):
    """Brute force (tests/references.py, plain loops over every state): ln Z, dicts {E: p}, {sum s: p},
    {staggered sum: p}, and <E>, Var(E)."""
    configs, energies, probs, log_z = lattice_ising_boltzmann(L, M, beta, h=h, j_right=jr, j_down=jd)
    sign = [(-1) ** (i // M + i % M) for i in range(L * M)]
    pe = lattice_distribution([round(float(e), 8) for e in energies], probs)
    pm = lattice_distribution([sum(s) for s in configs.tolist()], probs)
    ps = lattice_distribution([sum(a * b for a, b in zip(sign, s)) for s in configs.tolist()], probs)
    e_mean = sum(float(p) * float(e) for p, e in zip(probs, energies))
    e_var = sum(float(p) * (float(e) - e_mean) ** 2 for p, e in zip(probs, energies))
    return log_z, pe, pm, ps, e_mean, e_var


def naive_potts(L, M, q, beta, J, h):
    """Brute force: ln Z, {E: p}, {n0: p}, {order parameter: p}."""
    logw, rec = [], []
    n = L * M
    for st in itertools.product(range(q), repeat=n):
        n_eq = sum((st[r * M + c] == st[r * M + (c + 1) % M]) + (st[r * M + c] == st[((r + 1) % L) * M + c])
                   for r in range(L) for c in range(M))
        n0 = st.count(0)
        e = -J * n_eq - h * n0
        nmax = max(st.count(k) for k in range(q))
        logw.append(-beta * e)
        rec.append((round(e, 8), n0, round((q * nmax / n - 1) / (q - 1), 10)))
    a = max(logw)
    w = [math.exp(x - a) for x in logw]
    z = sum(w)
    pe, pn, po = defaultdict(float), defaultdict(float), defaultdict(float)
    for wi, (e, n0, o) in zip(w, rec):
        pe[e] += wi / z
        pn[n0] += wi / z
        po[o] += wi / z
    return a + math.log(z), pe, pn, po


def _assert_dist(values, probs, ref, key=lambda v: v):
    got = {key(v): p for v, p in zip(values, probs) if p > 0}
    assert set(got) == {k for k, p in ref.items() if p > 0}
    for k, p in ref.items():
        assert got.get(k, 0.0) == pytest.approx(p, rel=1e-10, abs=1e-15)


RNG = np.random.default_rng(12345)
ISING_CASES = [
    ("uniform", 3, 3, 0.4, 1.0, 0.0, None),
    ("afm_field", 3, 3, 0.9, -0.7, 0.3, None),
    ("double_bonds", 2, 3, 0.6, 1.0, -0.2, None),
    ("pm_j", 3, 3, 0.8, None, 0.25, (RNG.choice([-1.0, 1.0], (3, 3)), RNG.choice([-1.0, 1.0], (3, 3)))),
    ("gauss_j", 3, 3, 1.3, None, -0.1, (RNG.normal(size=(3, 3)), RNG.normal(size=(3, 3)))),
]


@pytest.mark.parametrize("name,L,M,beta,J,h,couplings", ISING_CASES, ids=[c[0] for c in ISING_CASES])
def test_ising_vs_bruteforce(name, L, M, beta, J, h, couplings):
    if couplings is None:
        jr = jd = np.full((L, M), J)
        ex = enumerate_ising(L, M, beta, J=J, h=h)
    else:
        jr, jd = couplings
        ex = enumerate_ising(L, M, beta, h=h, j_right=jr, j_down=jd)
    log_z, pe, pm, ps, e_mean, e_var = naive_ising(L, M, beta, jr.tolist(), jd.tolist(), h)
    assert ex.log_z == pytest.approx(log_z, rel=1e-12)
    _assert_dist(ex.energies, ex.energy_probs, pe, key=lambda e: round(e, 8))
    _assert_dist(ex.magnetizations, ex.magnetization_probs, pm, key=int)
    _assert_dist(ex.staggered_magnetizations, ex.staggered_probs, ps, key=int)
    for p in (ex.energy_probs, ex.magnetization_probs, ex.staggered_probs):
        assert p.sum() == pytest.approx(1.0, abs=1e-12)
        assert np.all(p >= 0)
    assert ex.energy_degeneracy.sum() == 2 ** (L * M)
    assert np.all(np.diff(ex.energies) > 0)
    assert ex.mean_energy == pytest.approx(e_mean, rel=1e-10)
    assert ex.energy_variance == pytest.approx(e_var, rel=1e-9)
    assert ex.specific_heat == pytest.approx(beta ** 2 * e_var / (L * M), rel=1e-9)


def test_ising_4x4_known_values_and_symmetry():
    ex = enumerate_ising(4, 4, 0.0)
    assert ex.log_z == pytest.approx(16 * math.log(2))
    # density of states of the 4x4 torus: E = -32 (2 states), -24 (32), -20 (64), ...
    assert ex.energies[:3].tolist() == [-32.0, -24.0, -20.0]
    assert ex.energy_degeneracy[:3].tolist() == [2, 32, 64]
    ex = enumerate_ising(4, 4, 0.5)
    p = ex.magnetization_probs
    assert np.allclose(p, p[::-1], rtol=1e-13)              # h = 0: P(m) = P(-m)
    assert ex.mean_magnetization == pytest.approx(0.0, abs=1e-14)
    assert ex.mean_abs_magnetization > 0.9
    afm = enumerate_ising(4, 4, 0.5, J=-1.0)                 # gauge: P_AFM(staggered) = P_FM(m)
    assert np.allclose(afm.staggered_probs, ex.magnetization_probs, rtol=1e-12)
    assert np.allclose(afm.energy_probs, ex.energy_probs, rtol=1e-12)
    assert ex.susceptibility == pytest.approx(
        0.5 * 16 * np.sum((ex.magnetizations / 16.0) ** 2 * p), rel=1e-12)


def test_ising_low_temperature_no_overflow():
    ex = enumerate_ising(3, 4, 200.0, J=1.0, h=0.5)
    assert ex.log_z == pytest.approx(-200.0 * (-24 - 6), rel=1e-12)
    assert ex.magnetization_probs[-1] == pytest.approx(1.0)


def test_ising_validation():
    with pytest.raises(ValueError, match="max_sites"):
        enumerate_ising(5, 5, 0.3)
    with pytest.raises(ValueError):
        enumerate_ising(3, 3, 0.3, j_right=np.ones((3, 3)))
    with pytest.raises(ValueError):
        enumerate_ising(3, 3, 0.3, j_right=np.ones((3, 4)), j_down=np.ones((3, 4)))
    with pytest.raises(ValueError):
        enumerate_ising(1, 3, 0.3)
    with pytest.raises(TypeError):
        enumerate_ising(3.0, 3, 0.3)
    with pytest.raises(ValueError):
        enumerate_ising(3, 3, -0.3)


@pytest.mark.parametrize("L,M,q,beta,J,h", [(2, 3, 3, 0.7, 1.0, 0.3), (3, 3, 2, 0.5, -1.2, -0.4),
                                           (2, 2, 4, 1.1, 1.0, 0.0)])
def test_potts_vs_bruteforce(L, M, q, beta, J, h):
    ex = enumerate_potts(L, M, q, beta, J=J, h=h)
    log_z, pe, pn, po = naive_potts(L, M, q, beta, J, h)
    assert ex.log_z == pytest.approx(log_z, rel=1e-12)
    _assert_dist(ex.energies, ex.energy_probs, pe, key=lambda e: round(e, 8))
    _assert_dist(ex.n0_values, ex.n0_probs, pn, key=int)
    _assert_dist(ex.order_values, ex.order_probs, po, key=lambda o: round(o, 10))
    for p in (ex.energy_probs, ex.n0_probs, ex.order_probs):
        assert p.sum() == pytest.approx(1.0, abs=1e-12)
    assert ex.density_of_states.sum() == q ** (L * M)
    assert ex.energy_degeneracy.sum() == q ** (L * M)


def test_potts_q2_is_ising():
    # -J delta(s, s') = -J/2 - (J/2) s s': Z_Potts(J) = exp(beta J N) Z_Ising(J/2) on 2N bonds
    beta, J = 0.8, 1.3
    pot = enumerate_potts(4, 4, 2, beta, J=J)
    ising = enumerate_ising(4, 4, beta, J=J / 2)
    assert pot.log_z == pytest.approx(beta * J * 16 + ising.log_z, rel=1e-13)
    assert pot.specific_heat == pytest.approx(ising.specific_heat, rel=1e-10)
    # n0 = (N + m) / 2
    assert np.allclose(pot.n0_probs, ising.magnetization_probs, rtol=1e-12)
    # order parameter m_Potts = |m_Ising| / N
    assert pot.mean_order_parameter == pytest.approx(ising.mean_abs_magnetization, rel=1e-12)


def test_potts_validation():
    # (the time of 4 x 4 enumerations: benchmarks/bench_limits.py)
    with pytest.raises(ValueError, match="max_states"):
        enumerate_potts(4, 4, 4, 0.5)
    with pytest.raises(ValueError):
        enumerate_potts(3, 3, 1, 0.5)
