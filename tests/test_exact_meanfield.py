"""Exact mean-field results by counting (fastmf.exact.meanfield) against brute-force enumeration (every state
from tests/references.py, energies written out here), and the counting references of tests/references.py
against the same enumeration."""
import numpy as np
import pytest
from references import all_configurations, all_potts_configurations, curie_weiss_counting, potts_mf_counting
from scipy.optimize import brentq
from scipy.special import logsumexp

from fastmf.exact.meanfield import (curie_weiss_exact, hopfield_exact, potts_compositions, potts_mf_exact,
                                    site_types)


# ---- brute force over all 2**N (q**N) states --------------------------------------------------------

def _dist(values, logw):
    """Distinct values (rows) and their probabilities."""
    p = np.exp(logw - logsumexp(logw))
    uv, inv = np.unique(values, axis=0, return_inverse=True)
    return uv, np.bincount(inv.ravel(), weights=p)


def _energy_dist(E, logw):
    keys = np.round(E / 1e-9).astype(np.int64)
    _, first, inv = np.unique(keys, return_index=True, return_inverse=True)
    p = np.exp(logw - logsumexp(logw))
    return E[first], np.bincount(inv.ravel(), weights=p)


def _hopfield_brute(xi, beta, J, h):
    N = xi.shape[1]
    s = all_configurations(N)
    ov = s @ xi.T.astype(np.int64)
    E = -(J / (2 * N)) * np.sum(ov.astype(float) ** 2, axis=1) - h * s.sum(axis=1)
    return ov, s.sum(axis=1), E, -beta * E


# ---- Curie-Weiss -------------------------------------------------------------------------------------

@pytest.mark.parametrize("N,beta,J,h", [(1, 0.7, 1.0, 0.3), (9, 1.4, 1.0, 0.2), (14, 0.6, -1.3, -0.4),
                                        (14, 2.5, 1.0, 0.0), (12, 0.0, 1.0, 0.5)])
def test_curie_weiss_equals_brute_force(N, beta, J, h):
    s = all_configurations(N)
    M = s.sum(axis=1)
    E = -(J / (2 * N)) * M.astype(float) ** 2 - h * M
    logw = -beta * E
    ex = curie_weiss_exact(N, beta, J, h)
    assert ex.log_z == pytest.approx(logsumexp(logw), rel=1e-12, abs=1e-12)
    uv, p = _dist(M, logw)
    np.testing.assert_array_equal(uv, ex.magnetizations)
    np.testing.assert_allclose(ex.probs, p, rtol=1e-10, atol=1e-300)
    w = np.exp(logw - logsumexp(logw))
    assert ex.mean_energy == pytest.approx(np.sum(w * E), rel=1e-10, abs=1e-12)
    assert ex.mean_abs_m == pytest.approx(np.sum(w * np.abs(M)) / N, rel=1e-10, abs=1e-14)
    assert ex.mean_m2 == pytest.approx(np.sum(w * M ** 2) / N ** 2, rel=1e-10)
    assert ex.energy_variance == pytest.approx(np.sum(w * E ** 2) - np.sum(w * E) ** 2, rel=1e-8, abs=1e-10)


def test_curie_weiss_large_n_matches_mean_field():
    # N = 4000 deep in the ordered phase: <|m|> is the root of m = tanh(beta J m) up to O(1/N)
    beta = 2.0
    ex = curie_weiss_exact(4000, beta)
    assert np.isfinite(ex.log_z) and ex.probs.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(ex.probs, ex.probs[::-1], rtol=1e-9)   # h = 0: M <-> -M
    m_star = brentq(lambda m: m - np.tanh(beta * m), 0.1, 1.0)
    assert ex.mean_abs_m == pytest.approx(m_star, abs=1e-3)
    # free energy per site -> the mean-field value -(ln 2cosh(beta m) - beta m^2 / 2)
    f_mf = -(np.log(2 * np.cosh(beta * m_star)) - beta * m_star ** 2 / 2)
    assert -ex.log_z / 4000 == pytest.approx(f_mf, abs=2e-3)


# ---- Hopfield ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("P,N,beta,J,h,seed", [(2, 12, 1.7, 1.0, 0.0, 0), (2, 13, 0.8, 1.5, 0.3, 1),
                                               (3, 14, 1.2, 1.0, -0.2, 2), (3, 11, 3.0, 0.7, 0.1, 3)])
def test_hopfield_equals_brute_force(P, N, beta, J, h, seed):
    xi = np.random.default_rng(seed).choice(np.array([-1, 1], np.int8), size=(P, N))
    ov, mag, E, logw = _hopfield_brute(xi, beta, J, h)
    ex = hopfield_exact(xi, beta, J, h)
    assert ex.log_z == pytest.approx(logsumexp(logw), rel=1e-12)
    uo, po = _dist(ov, logw)
    np.testing.assert_array_equal(ex.overlaps, uo)
    np.testing.assert_allclose(ex.overlap_probs, po, rtol=1e-10, atol=1e-300)
    um, pm = _dist(mag, logw)
    np.testing.assert_allclose(ex.magnetization_probs[(um + N) // 2], pm, rtol=1e-10)
    ue, pe = _energy_dist(E, logw)
    np.testing.assert_allclose(ex.energies, ue, rtol=1e-12)
    np.testing.assert_allclose(ex.energy_probs, pe, rtol=1e-10, atol=1e-300)
    types, counts, index = site_types(xi)
    np.testing.assert_array_equal(types[index].T, xi)
    assert ex.n_states == np.prod(counts + 1)


def test_hopfield_one_pattern_is_curie_weiss():
    # gauge s_i -> xi_i s_i maps one-pattern Hopfield (h = 0) onto Curie-Weiss
    xi = np.random.default_rng(5).choice(np.array([-1, 1], np.int8), size=(1, 300))
    ex = hopfield_exact(xi, 1.3, J=0.9)
    cw = curie_weiss_exact(300, 1.3, J=0.9)
    assert ex.log_z == pytest.approx(cw.log_z, rel=1e-12)
    np.testing.assert_allclose(ex.overlap_probs, cw.probs, rtol=1e-9, atol=1e-300)


def test_hopfield_too_large_reports_size():
    xi = np.random.default_rng(0).choice(np.array([-1, 1], np.int8), size=(3, 200))
    with pytest.raises(ValueError, match=r"prod_t \(c_t \+ 1\) = .*e\+"):
        hopfield_exact(xi, 1.0)


@pytest.mark.parametrize("bad,match", [(np.zeros((2, 10)), r"\+1 and -1"),
                                       (np.ones((10, 10)), "P < N"),
                                       (np.full((2, 10), np.nan), "finite")])
def test_hopfield_rejects_bad_patterns(bad, match):
    with pytest.raises(ValueError, match=match):
        hopfield_exact(bad, 1.0)


# ---- mean-field Potts --------------------------------------------------------------------------------

def _potts_brute_force(N, q, beta, J, h):
    """Occupations, energies and log-weights of every one of the q**N states, from the energy formula."""
    st = all_potts_configurations(N, q)
    occ = np.stack([(st == k).sum(axis=1) for k in range(q)], axis=1)
    E = -(J / (2 * N)) * np.sum(occ.astype(float) ** 2, axis=1) - h * occ[:, 0]
    return occ, E, -beta * E


@pytest.mark.parametrize("N,q,beta,J,h", [(8, 3, 1.3, 1.0, 0.25), (10, 3, 3.0, 1.0, 0.0), (6, 4, 2.0, 0.8, -0.3)])
def test_potts_equals_brute_force(N, q, beta, J, h):
    occ, E, logw = _potts_brute_force(N, q, beta, J, h)
    ex = potts_mf_exact(N, q, beta, J, h)
    assert ex.log_z == pytest.approx(logsumexp(logw), rel=1e-12)
    u0, p0 = _dist(occ[:, 0], logw)
    np.testing.assert_allclose(ex.n0_probs[u0], p0, rtol=1e-10)
    umax, pmax = _dist(occ.max(axis=1), logw)
    np.testing.assert_allclose(ex.max_occupation_probs[umax], pmax, rtol=1e-10)
    assert ex.max_occupation_probs.sum() == pytest.approx(1.0)
    ue, pe = _energy_dist(E, logw)
    np.testing.assert_allclose(ex.energies, ue, rtol=1e-12)
    np.testing.assert_allclose(ex.energy_probs, pe, rtol=1e-10)


def test_potts_two_states_is_curie_weiss():
    # q = 2: sum_k n_k^2 = (N^2 + M^2) / 2 with M = n_0 - n_1, so Potts(J, h) = CW(J/2, h/2) + const
    N, beta, J, h = 500, 1.7, 1.2, 0.05
    po = potts_mf_exact(N, 2, beta, J, h)
    cw = curie_weiss_exact(N, beta, J / 2, h / 2)
    assert po.log_z == pytest.approx(cw.log_z + beta * (J * N / 4 + h * N / 2), rel=1e-12)
    np.testing.assert_allclose(po.n0_probs, cw.probs, rtol=1e-9, atol=1e-300)


def test_potts_compositions_and_limits():
    c = potts_compositions(5, 3)
    assert c.shape == (21, 3) and np.all(c.sum(axis=1) == 5) and len(np.unique(c, axis=0)) == 21
    with pytest.raises(ValueError, match="binom"):
        potts_mf_exact(3000, 4, 1.0)
    with pytest.raises(ValueError, match="q must be >= 2"):
        potts_mf_exact(10, 1, 1.0)
    with pytest.raises(ValueError, match="finite"):
        curie_weiss_exact(10, float("nan"))


# ---- the counting references used by the sampler tests (tests/references.py) ----------------------------

@pytest.mark.parametrize("N,q,beta,J,h", [(8, 3, 1.3, 1.0, 0.25), (6, 4, 2.0, 0.8, -0.3),
                                         (9, 2, 1.1, 1.2, 0.1)])
def test_potts_counting_reference_equals_enumeration(N, q, beta, J, h):
    occ, E, logw = _potts_brute_force(N, q, beta, J, h)
    ref = potts_mf_counting(N, q, beta, J, h)
    assert ref["log_z"] == pytest.approx(logsumexp(logw), rel=1e-12)
    u0, p0 = _dist(occ[:, 0], logw)
    np.testing.assert_allclose(ref["n0_probs"][u0], p0, rtol=1e-10)
    umax, pmax = _dist(occ.max(axis=1), logw)
    np.testing.assert_allclose(ref["max_probs"][umax], pmax, rtol=1e-10)
    assert ref["max_probs"].sum() == pytest.approx(1.0)
    ue, pe = _energy_dist(E, logw)
    np.testing.assert_allclose(ref["energies"], ue, rtol=1e-12)
    np.testing.assert_allclose(ref["energy_probs"], pe, rtol=1e-10)


@pytest.mark.parametrize("N,beta,J,h", [(1, 0.7, 1.0, 0.3), (11, 1.4, 1.0, 0.2), (12, 0.6, -1.3, -0.4)])
def test_curie_weiss_counting_reference_equals_enumeration(N, beta, J, h):
    M = all_configurations(N).sum(axis=1)
    E = -(J / (2 * N)) * M.astype(float) ** 2 - h * M
    logw = -beta * E
    support, probs, mean_energy = curie_weiss_counting(N, beta, J, h)
    uv, p = _dist(M, logw)
    np.testing.assert_array_equal(support, uv)
    np.testing.assert_allclose(probs, p, rtol=1e-10)
    assert mean_energy == pytest.approx(np.sum(np.exp(logw - logsumexp(logw)) * E), rel=1e-10)
