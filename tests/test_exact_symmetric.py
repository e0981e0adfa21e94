"""Exact information quantities of permutation-symmetric models (fastmf.exact.symmetric) against brute-force
enumeration, symmetry checks and large-N asymptotics."""
import math

import numpy as np
import pytest
from references import (all_configurations, table_entropy, table_marginal, table_mutual_information,
                        table_probabilities, table_subset_entropy)
from scipy.optimize import brentq
from scipy.special import logsumexp

from fastmf.exact.symmetric import MAX_PROFILE_N, curie_weiss_info, hopfield_info

LN2 = math.log(2.0)


# ---- brute force over all 2**N states, in the info.py index convention n = sum_i x_i 2**i ----------------
# (states from references.all_configurations; entropies, marginals and mutual information from the joint table by
# the textbook sums of tests/references.py, not fastmf.exact.info)

def naive_spins(N):
    """All 2**N configurations (rows) as +-1, row n has s_i = 2 * bit_i(n) - 1."""
    return all_configurations(N)


def naive_cw(N, beta, J, h):
    """``(log-weight table, energies, M)`` of the Curie-Weiss model."""
    M = naive_spins(N).sum(axis=1)
    E = -(J / (2 * N)) * M.astype(float) ** 2 - h * M
    return -beta * E, E, M


def naive_hopfield(xi, beta, J, h):
    """``(log-weight table, energies, overlaps (2**N, P), magnetization)`` of the Hopfield model."""
    N = xi.shape[1]
    s = naive_spins(N)
    ov = s @ xi.T.astype(np.int64)
    E = -(J / (2 * N)) * np.sum(ov.astype(float) ** 2, axis=1) - h * s.sum(axis=1)
    return -beta * E, E, ov, s.sum(axis=1)


def naive_moments(lw, E):
    p = np.exp(lw - logsumexp(lw))
    mean = np.sum(p * E)
    return p, mean, np.sum(p * (E - mean) ** 2)


def popcount(j):
    return np.array([bin(int(x)).count("1") for x in np.atleast_1d(j)])


CW_CASES = [(10, 0.7, 1.0, 0.0), (11, 1.6, 1.0, 0.15), (12, 0.9, -1.3, -0.4), (12, 0.0, 1.0, 0.5),
            (12, 2.5, 1.0, 0.0)]


# ---- Curie-Weiss against brute force ----------------------------------------------------------------------

@pytest.mark.parametrize("N,beta,J,h", CW_CASES)
def test_cw_thermodynamics_brute_force(N, beta, J, h):
    lw, E, M = naive_cw(N, beta, J, h)
    p, mean_e, var_e = naive_moments(lw, E)
    cw = curie_weiss_info(N, beta, J, h)
    assert cw.log_z == pytest.approx(logsumexp(lw), abs=1e-10)
    assert cw.entropy == pytest.approx(table_entropy(p), abs=1e-10)
    assert cw.mean_energy == pytest.approx(mean_e, abs=1e-10)
    assert cw.energy_variance == pytest.approx(var_e, abs=1e-10)
    assert cw.heat_capacity == pytest.approx(beta ** 2 * var_e, abs=1e-10)
    m = M / N
    for got, want in [(cw.mean_m, m), (cw.mean_abs_m, np.abs(m)), (cw.mean_m2, m ** 2), (cw.mean_m4, m ** 4)]:
        assert got == pytest.approx(np.sum(p * want), abs=1e-12)
    if beta > 0:
        assert cw.free_energy == pytest.approx(-logsumexp(lw) / beta, abs=1e-10)
    else:
        assert cw.free_energy == -math.inf
    # the Gibbs entropy is also the k = N subset entropy of the information engine
    assert cw.subset_entropy(N) == pytest.approx(cw.entropy, abs=1e-10)


@pytest.mark.parametrize("N,beta,J,h", CW_CASES)
def test_cw_mutual_information_brute_force(N, beta, J, h):
    p = table_probabilities(naive_cw(N, beta, J, h)[0])
    cw = curie_weiss_info(N, beta, J, h)
    prof = cw.cut_profile()
    assert prof.shape == (N + 1,) and prof[0] == 0.0 and prof[N] == 0.0
    rng = np.random.default_rng(N)
    for k in range(1, N):
        want = table_mutual_information(p, N, range(k))
        assert cw.mutual_information(k) == pytest.approx(want, abs=1e-10)
        assert prof[k] == pytest.approx(want, abs=1e-10)
        assert cw.subset_entropy(k) == pytest.approx(table_subset_entropy(p, N, range(k)), abs=1e-10)
        A = rng.choice(N, size=k, replace=False)          # any k sites: permutation symmetry
        assert table_mutual_information(p, N, A) == pytest.approx(want, abs=1e-10)
    assert cw.mutual_information(0) == 0.0 and cw.mutual_information(N) == 0.0


@pytest.mark.parametrize("N,beta,J,h", CW_CASES[:3])
def test_cw_subset_marginal_brute_force(N, beta, J, h):
    p = table_probabilities(naive_cw(N, beta, J, h)[0])
    cw = curie_weiss_info(N, beta, J, h)
    rng = np.random.default_rng(0)
    for k in range(N + 1):
        sm = cw.subset_marginal(k)
        assert sm.count_probs.shape == (k + 1,) and sm.count_probs.sum() == pytest.approx(1.0, abs=1e-12)
        for sites in (np.arange(k), np.sort(rng.choice(N, size=k, replace=False))):
            want = table_marginal(p, N, sites)
            ups = popcount(np.arange(len(want)))
            np.testing.assert_allclose(sm.config_probs[ups], want, rtol=1e-10, atol=1e-14)
            np.testing.assert_allclose(sm.config_log_probs[ups], np.log(want), rtol=0, atol=1e-10)
            np.testing.assert_allclose(sm.count_probs, np.bincount(ups, weights=want, minlength=k + 1),
                                       rtol=1e-10, atol=1e-14)


# ---- Hopfield against brute force -------------------------------------------------------------------------

HOP_CASES = [(10, 2, 0, 1.2, 1.0, 0.0), (12, 2, 1, 2.0, 1.0, 0.1), (11, 3, 2, 0.8, -0.7, 0.3),
             (12, 3, 3, 1.5, 1.0, 0.0)]


def _patterns(P, N, seed):
    return np.random.default_rng(seed).choice(np.array([-1, 1], np.int8), size=(P, N))


@pytest.mark.parametrize("N,P,seed,beta,J,h", HOP_CASES)
def test_hopfield_thermodynamics_brute_force(N, P, seed, beta, J, h):
    xi = _patterns(P, N, seed)
    lw, E, ov, mag = naive_hopfield(xi, beta, J, h)
    p, mean_e, var_e = naive_moments(lw, E)
    hp = hopfield_info(xi, beta, J, h)
    assert (hp.N, hp.P) == (N, P)
    assert hp.n_states == math.prod(int(c) + 1 for c in hp.type_counts)
    assert hp.log_z == pytest.approx(logsumexp(lw), abs=1e-10)
    assert hp.free_energy == pytest.approx(-logsumexp(lw) / beta, abs=1e-10)
    assert hp.entropy == pytest.approx(table_entropy(p), abs=1e-10)
    assert hp.subset_entropy(range(N)) == pytest.approx(hp.entropy, abs=1e-10)
    assert hp.mean_energy == pytest.approx(mean_e, abs=1e-10)
    assert hp.energy_variance == pytest.approx(var_e, abs=1e-9)
    np.testing.assert_allclose(hp.mean_abs_overlaps, p @ np.abs(ov / N), atol=1e-12)
    np.testing.assert_allclose(hp.mean_overlap_sq, p @ (ov / N) ** 2, atol=1e-12)
    assert hp.mean_m == pytest.approx(np.sum(p * mag) / N, abs=1e-12)


@pytest.mark.parametrize("N,P,seed,beta,J,h", HOP_CASES)
def test_hopfield_mutual_information_brute_force(N, P, seed, beta, J, h):
    xi = _patterns(P, N, seed)
    p = table_probabilities(naive_hopfield(xi, beta, J, h)[0])
    hp = hopfield_info(xi, beta, J, h)
    prof = hp.cut_profile()
    assert prof.shape == (N + 1,) and prof[0] == 0.0 and prof[N] == 0.0
    for k in range(1, N):
        want = table_mutual_information(p, N, range(k))
        assert prof[k] == pytest.approx(want, abs=1e-10)
        assert hp.mutual_information(list(range(k))) == pytest.approx(want, abs=1e-10)
    # non-contiguous subsets, among them ones that split a site type between A and B
    rng = np.random.default_rng(seed + 100)
    split = [t for t in range(len(hp.type_counts)) if hp.type_counts[t] >= 2][0]
    i, j = np.flatnonzero(hp.site_type == split)[:2]
    others = [int(x) for x in np.flatnonzero(hp.site_type != split)[::2]]
    subsets = [[int(i)], [int(i), int(j)], [int(i)] + others]
    subsets += [rng.choice(N, size=rng.integers(1, N), replace=False) for _ in range(6)]
    for A in subsets:
        assert hp.mutual_information(A) == pytest.approx(table_mutual_information(p, N, A), abs=1e-10)
        assert hp.subset_entropy(A) == pytest.approx(table_subset_entropy(p, N, np.sort(A)), abs=1e-10)
    assert hp.mutual_information([]) == 0.0 and hp.mutual_information(range(N)) == 0.0


# ---- symmetries and cross-model consistency ---------------------------------------------------------------

def test_cw_mi_symmetric_in_k_and_profile_matches_direct():
    N = 301
    cw = curie_weiss_info(N, 1.3, 1.0, 0.05)
    prof = cw.cut_profile()
    direct = np.array([cw.mutual_information(k) for k in range(N + 1)])
    np.testing.assert_allclose(direct, direct[::-1], rtol=0, atol=1e-11)
    np.testing.assert_allclose(prof, prof[::-1], rtol=0, atol=1e-11)
    np.testing.assert_allclose(prof, direct, rtol=0, atol=1e-10)   # two independent algorithms


def test_hopfield_mi_invariant_under_site_relabelling():
    N, P = 40, 2
    xi = _patterns(P, N, 7)
    rng = np.random.default_rng(8)
    perm = rng.permutation(N)                       # new site j is old site perm[j]
    hp = hopfield_info(xi, 1.7, 1.0, 0.05)
    hq = hopfield_info(xi[:, perm], 1.7, 1.0, 0.05)
    assert hq.log_z == pytest.approx(hp.log_z, abs=1e-10)
    assert hq.entropy == pytest.approx(hp.entropy, abs=1e-10)
    inverse = np.argsort(perm)
    for _ in range(4):
        A = rng.choice(N, size=rng.integers(1, N), replace=False)
        assert hq.mutual_information(inverse[A]) == pytest.approx(hp.mutual_information(A), abs=1e-10)
    # the half-line cuts of the relabelled model are the cuts {perm[0..k-1]} of the original one
    prof = hq.cut_profile()
    for k in (1, 9, 20, 33):
        assert prof[k] == pytest.approx(hp.mutual_information(perm[:k]), abs=1e-10)


def test_hopfield_single_pattern_equals_curie_weiss():
    N, beta, h = 30, 1.4, 0.1
    cw = curie_weiss_info(N, beta, 1.0, h)
    hp = hopfield_info(np.ones((1, N), np.int8), beta, 1.0, h)
    for name in ("log_z", "entropy", "mean_energy", "energy_variance", "mean_m"):
        assert getattr(hp, name) == pytest.approx(getattr(cw, name), abs=1e-10)
    np.testing.assert_allclose(hp.cut_profile(), cw.cut_profile(), rtol=0, atol=1e-10)
    # at h = 0 a random pattern is a gauge transform s_i -> xi_i s_i: I(A) = I_CW(|A|)
    cw0 = curie_weiss_info(N, beta, 1.0, 0.0)
    hg = hopfield_info(_patterns(1, N, 3), beta, 1.0, 0.0)
    rng = np.random.default_rng(4)
    for _ in range(4):
        A = rng.choice(N, size=rng.integers(1, N), replace=False)
        assert hg.mutual_information(A) == pytest.approx(cw0.mutual_information(len(A)), abs=1e-10)


# ---- large N ----------------------------------------------------------------------------------------------

def _gaussian_mi(x, bJ, m_star):
    """MI of (M_A, M_B) for |A| = xN in the Gaussian (Laplace) approximation inside one phase of magnetization
    m_star: the precision matrix of (M_A, M_B) is diag(1/(x s2), 1/((1-x) s2)) / N - (bJ / N) [[1,1],[1,1]],
    s2 = 1 - m_star**2, so I = -1/2 ln(1 - rho**2), rho**2 = bJ**2 / ((1/(x s2) - bJ) (1/((1-x) s2) - bJ))."""
    s2 = 1.0 - m_star ** 2
    return -0.5 * np.log1p(-bJ ** 2 / ((1 / (x * s2) - bJ) * (1 / ((1 - x) * s2) - bJ)))


def test_cw_large_n_cut_profile():
    N = 2000
    # (its time: benchmarks/bench_limits.py, about 0.4 s per profile here)
    cw_para = curie_weiss_info(N, 0.5)
    para = cw_para.cut_profile()
    cw_ord = curie_weiss_info(N, 2.0)
    ordered = cw_ord.cut_profile()
    hot = curie_weiss_info(N, 0.01).cut_profile()
    for prof in (para, ordered, hot):
        assert prof.shape == (N + 1,) and np.all(np.isfinite(prof)) and np.all(prof >= 0)
        np.testing.assert_allclose(prof, prof[::-1], rtol=0, atol=1e-10)
    # The Laplace approximation is exact up to O(1/N): the observed max |I - I_gauss| over k in [N/10, 9N/10]
    # is 0.17/N (beta J = 0.5), 0.08/N (beta J = 2), 4e-5/N (beta J = 0.01), halving with each doubling
    # of N from 500 to 4000; 0.5/N leaves a factor 3 of margin.
    ks = np.arange(N // 10, 9 * N // 10 + 1)
    m_star = brentq(lambda m: m - math.tanh(2.0 * m), 0.5, 1.0)
    np.testing.assert_allclose(para[ks], _gaussian_mi(ks / N, 0.5, 0.0), rtol=0, atol=0.5 / N)
    np.testing.assert_allclose(hot[ks], _gaussian_mi(ks / N, 0.01, 0.0), rtol=0, atol=0.5 / N)
    # ordered phase: the two halves share the sign of m exactly (ln 2; the +-m_star peaks overlap only with
    # weight exp(-O(N))) plus the Gaussian fluctuation term inside one phase (0.0041 at the half cut)
    np.testing.assert_allclose(ordered[ks], LN2 + _gaussian_mi(ks / N, 2.0, m_star), rtol=0, atol=0.5 / N)
    assert abs(ordered[N // 2] - LN2) < 0.01
    # high temperature: I(N/2) -> (beta J)**2 / 8 + O(beta**3) -> 0
    assert hot[N // 2] < 2e-5 < para[N // 2]
    # the direct O(k (N-k)) sums agree with the O(N**2) profile chain, and the subset entropy of all sites
    # is the Gibbs entropy
    for k in (1, 7, N // 2):
        assert cw_ord.mutual_information(k) == pytest.approx(ordered[k], abs=1e-9)
    assert cw_ord.subset_entropy(N) == pytest.approx(cw_ord.entropy, rel=1e-12)
    assert 0 < cw_ord.entropy < N * LN2


def test_cw_large_n_thermodynamics():
    cw = curie_weiss_info(100_000, 2.0)
    assert np.isfinite(cw.log_z) and cw.entropy > 0
    m_star = brentq(lambda m: m - math.tanh(2.0 * m), 0.5, 1.0)
    assert cw.mean_abs_m == pytest.approx(m_star, abs=1e-3)
    assert cw.mean_m == pytest.approx(0.0, abs=1e-9)   # +-m symmetric up to summation rounding
    sm = cw.subset_marginal(2)                       # two spins: aligned with probability (1 + <s_i s_j>) / 2
    assert sm.count_probs[0] == pytest.approx(sm.count_probs[2])
    assert sm.count_probs[0] + sm.count_probs[2] == pytest.approx((1 + m_star ** 2) / 2, abs=1e-3)


# ---- bad input --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [(0, 1.0), (2.5, 1.0), (True, 1.0), ("10", 1.0), (10, -0.1), (10, math.inf),
                                  (10, math.nan), (10, "hot"), (10, 1.0, math.nan), (10, 1.0, 1.0, math.inf)])
def test_cw_bad_input(args):
    with pytest.raises(ValueError):
        curie_weiss_info(*args)


def test_cw_bad_cut_and_limits():
    cw = curie_weiss_info(200, 1.0)
    for k in (-1, 201, 1.5, None):
        with pytest.raises(ValueError):
            cw.mutual_information(k)
        with pytest.raises(ValueError):
            cw.subset_marginal(k)
    with pytest.raises(ValueError, match="max_work"):
        cw.mutual_information(100, max_work=1000)
    with pytest.raises(ValueError, match="max_n"):
        cw.cut_profile(max_n=100)
    with pytest.raises(ValueError, match="max_n"):
        curie_weiss_info(MAX_PROFILE_N + 1, 1.0).cut_profile()


@pytest.mark.parametrize("patterns", [np.zeros((2, 10)), np.ones((2, 2, 5)), np.ones((10, 10)),
                                      np.full((1, 10), 2), [["a"] * 10], np.ones((0, 10))])
def test_hopfield_bad_patterns(patterns):
    with pytest.raises(ValueError):
        hopfield_info(patterns, 1.0)


def test_hopfield_bad_input_and_limits():
    xi = _patterns(2, 12, 0)
    for beta in (-1.0, math.inf, math.nan):
        with pytest.raises(ValueError):
            hopfield_info(xi, beta)
    hp = hopfield_info(xi, 1.0)
    for A in ([12], [-1], [0, 0], [0.5]):
        with pytest.raises(ValueError):
            hp.mutual_information(A)
    with pytest.raises(ValueError, match=f"{hp.n_states}"):
        hopfield_info(xi, 1.0, max_states=hp.n_states - 1)
    with pytest.raises(ValueError):
        hopfield_info(xi, 1.0, max_states=0)
