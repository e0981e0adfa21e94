"""Tests of fastmf.stats.compare and fastmf.decode.validate: statistics against naive loops, z-score behaviour,
P(K), energies."""
import json
import math

import numpy as np
import pytest

from fastmf.decode.validate import compare
from fastmf.exact.info import states
from fastmf.sampling.latent import sample_curie_weiss
from fastmf.models.meanfield import CurieWeiss
from fastmf.stats import MAX_ALL_TRIPLES_N, spin_statistics


# ------------------------------------------------------------------------------------------ naive loops
def naive_means(s):
    n, N = s.shape
    return [sum(float(s[a, i]) for a in range(n)) / n for i in range(N)]


def naive_corr(s):
    n, N = s.shape
    m = naive_means(s)
    C = np.zeros((N, N))
    for i in range(N):
        for j in range(N):
            C[i, j] = sum(float(s[a, i]) * s[a, j] for a in range(n)) / n - m[i] * m[j]
    return C


def naive_triple(s, i, j, k):
    """Third joint cumulant from raw moments: <ijk> - <ij><k> - <ik><j> - <jk><i> + 2 <i><j><k>."""
    n = s.shape[0]

    def mom(*c):
        return sum(math.prod(float(s[a, x]) for x in c) for a in range(n)) / n

    return (mom(i, j, k) - mom(i, j) * mom(k) - mom(i, k) * mom(j) - mom(j, k) * mom(i)
            + 2 * mom(i) * mom(j) * mom(k))


def independent_spins(p_up, n, seed):
    rng = np.random.default_rng(seed)
    return np.where(rng.random((n, len(p_up))) < p_up, 1, -1).astype(np.int8)


@pytest.fixture(scope="module")
def cw():
    """Curie-Weiss N = 12 samples: two sets at beta = 0.8, one at beta = 1.3."""
    a = sample_curie_weiss(12, 0.8, n_samples=4000, seed=1)[0]
    b = sample_curie_weiss(12, 0.8, n_samples=3000, seed=2)[0]
    c = sample_curie_weiss(12, 1.3, n_samples=3000, seed=3)[0]
    return a, b, c


# ------------------------------------------------------------------------------------------ statistics
def test_statistics_equal_naive_loops():
    s = sample_curie_weiss(7, 0.9, h=0.15, n_samples=250, seed=5)[0]
    st = spin_statistics(s, triples="all")
    np.testing.assert_allclose(st.means, naive_means(s), atol=1e-12)
    np.testing.assert_allclose(st.corr, naive_corr(s), atol=1e-12)
    assert st.triple_idx.shape == (35, 3) and np.all(np.diff(st.triple_idx, axis=1) > 0)
    for t in (0, 7, 20, 34):
        i, j, k = st.triple_idx[t]
        assert st.triples[t] == pytest.approx(naive_triple(s, i, j, k), abs=1e-12)
    K = [sum(int(x > 0) for x in row) for row in s]
    np.testing.assert_allclose(st.activity_probs, [K.count(k) / len(s) for k in range(8)])
    np.testing.assert_allclose(st.magnetizations, (2 * np.arange(8) - 7) / 7)
    np.testing.assert_allclose(st.means_se, np.sqrt((1 - st.means ** 2) / len(s)), atol=1e-12)
    np.testing.assert_allclose(st.activity_se, np.sqrt(st.activity_probs * (1 - st.activity_probs) / len(s)))


def test_lattice_shape_flattened_and_float_spins():
    s = sample_curie_weiss(12, 0.7, n_samples=200, seed=2)[0]
    a = spin_statistics(s, triples=50, seed=3)
    b = spin_statistics(s.reshape(200, 3, 4).astype(np.float32), triples=50, seed=3)
    np.testing.assert_array_equal(a.triple_idx, b.triple_idx)
    np.testing.assert_allclose(a.corr, b.corr)
    np.testing.assert_allclose(a.triples, b.triples)


def test_random_triples_distinct_and_seeded():
    s = independent_spins(np.full(60, 0.5), 50, 0)
    a = spin_statistics(s, triples=200, seed=7)
    b = spin_statistics(s, triples=200, seed=7)
    c = spin_statistics(s, triples=200, seed=8)
    assert a.triple_idx.shape == (200, 3)
    assert len(np.unique(a.triple_idx, axis=0)) == 200 and np.all(np.diff(a.triple_idx, axis=1) > 0)
    np.testing.assert_array_equal(a.triple_idx, b.triple_idx)
    assert not np.array_equal(a.triple_idx, c.triple_idx)
    assert spin_statistics(s[:, :5], triples=1000).triple_idx.shape == (10, 3)  # capped at C(5, 3)
    big = spin_statistics(independent_spins(np.full(300, 0.5), 20, 1), triples=100)   # rejection path
    assert len(np.unique(big.triple_idx, axis=0)) == 100
    assert spin_statistics(s, triples=None).triples.shape == (0,)


@pytest.mark.parametrize("beta, h", [(1.5, 0.1), (1.5, 0.0)])
def test_standard_errors_calibrated(beta, h):
    """Across 500 independent replicates the spread of each estimate matches its mean reported SE (3% noise).

    The ensembles are chosen so that the centring terms matter: the uncentred SE sd(x_i x_j x_k) / sqrt(n) of
    T_ijk would be ~45% too large at h = 0.1, and sqrt(<x_i^2 x_j^2> / n) for C_ij ~22% too large at h = 0.
    """
    reps, n = 500, 400
    s = sample_curie_weiss(6, beta, h=h, n_samples=reps * n, seed=11)[0].reshape(reps, n, 6)
    idx = np.array([[0, 1, 2]])
    sts = [spin_statistics(x, triples=idx) for x in s]
    for est, se in ((lambda t: t.means[0], lambda t: t.means_se[0]),
                    (lambda t: t.corr[0, 1], lambda t: t.corr_se[0, 1]),
                    (lambda t: t.triples[0], lambda t: t.triples_se[0]),
                    (lambda t: t.activity_probs[3], lambda t: t.activity_se[3])):
        spread = np.std([est(t) for t in sts], ddof=1)
        assert spread == pytest.approx(np.mean([se(t) for t in sts]), rel=0.12)


# ------------------------------------------------------------------------------------------ compare
def test_same_distribution_z_scores_small_other_biases_large():
    p = np.linspace(0.2, 0.8, 25)
    a, b = independent_spins(p, 4000, 1), independent_spins(p, 3000, 2)
    same = compare(a, b, triples=500, seed=0)
    for c in (same.means, same.corr, same.triples):
        assert 0.5 < c.rms_z < 1.5
    assert same.means.pearson > 0.95
    other = compare(a, independent_spins(np.clip(p + 0.08, 0, 1), 3000, 3), triples=500)
    assert other.means.rms_z > 5 and other.means.max_abs_diff > 0.1
    assert other.corr.rms_z < 1.5          # independent spins both sides: no correlations to tell apart


def test_curie_weiss_other_temperature_detected(cw):
    a, b, c = cw
    same, other = compare(a, b, triples="all"), compare(a, c, triples="all")
    for comp in (same.means, same.corr, same.triples):
        assert comp.rms_z < 1.6
    assert same.activity_tv < 0.08
    assert other.corr.rms_z > 8 and other.corr.rms_diff > 5 * same.corr.rms_diff
    assert other.activity_tv > 4 * same.activity_tv and other.activity_kl > 10 * same.activity_kl


def test_activity_tv_kl():
    s = independent_spins(np.full(6, 0.5), 500, 4)
    r = compare(s, s[::-1].copy())
    assert r.activity_tv == 0.0 and r.activity_kl == 0.0
    up, down = np.ones((10, 6), np.int8), -np.ones((30, 6), np.int8)
    r = compare(up, down)
    assert r.activity_tv == pytest.approx(1.0)
    assert r.activity_kl == pytest.approx(-math.log((0.5 / 30) / (1 + 0.5 / 30)))   # floored model P(K)
    d = np.array([[1, 1], [1, -1], [-1, -1], [-1, -1]], np.int8)     # K: 2, 1, 0, 0
    m = np.array([[1, 1], [1, -1], [1, -1], [-1, -1]], np.int8)      # K: 2, 1, 1, 0
    r = compare(d, m)
    P, Q = np.array([.5, .25, .25]), np.array([.25, .5, .25])
    assert r.activity_tv == pytest.approx(0.25)
    assert r.activity_kl == pytest.approx(np.sum(P * np.log(P / Q)))


def test_energy_histograms_curie_weiss(cw):
    a, b, c = cw
    E = CurieWeiss(12).energy
    same, other = compare(a, b, energy=E).energy, compare(a, c, energy=E).energy
    assert same.data_hist.sum() == pytest.approx(1) and same.model_hist.sum() == pytest.approx(1)
    assert len(same.edges) == len(same.data_hist) + 1 == 41
    assert same.ks < 0.05 and same.ks_pvalue > 0.01
    assert abs(same.data_mean - same.model_mean) < 4 * math.hypot(same.data_mean_se, same.model_mean_se)
    assert other.ks > 0.2 and other.ks_pvalue < 1e-10
    assert other.model_mean < other.data_mean - 10 * other.model_mean_se
    seen = []
    r = compare(a.reshape(-1, 3, 4), b.reshape(-1, 3, 4),
                energy=lambda x: seen.append(x.shape) or E(x.reshape(len(x), -1)))
    assert seen == [(4000, 3, 4), (3000, 3, 4)] and r.energy.ks == same.ks


def test_exact_log_p_gaps():
    N = 8
    cwm = CurieWeiss(N)
    log_p = lambda beta: -beta * cwm.energy(states(N))  # unnormalised table
    data = sample_curie_weiss(N, 1.1, n_samples=3000, seed=9)[0]
    model = sample_curie_weiss(N, 1.1, n_samples=2000, seed=10)[0]
    ok = compare(data, model, exact_log_p=log_p(1.1)).exact
    assert abs(ok.data_gap) < 4 * ok.data_nll_se and abs(ok.model_gap) < 4 * ok.model_nll_se
    assert 0 < ok.entropy < N * math.log(2)
    bad = compare(data, model, exact_log_p=log_p(0.3)).exact        # data too ordered for this model
    assert abs(bad.data_gap) > 10 * bad.data_nll_se    # either sign: KL(data || p) + H(data) - H(p)


def test_q_state_marginals():
    rng = np.random.default_rng(3)
    q, N = 3, 5
    probs = np.array([0.2, 0.3, 0.5])
    a = rng.choice(q, size=(3000, N), p=probs).astype(np.uint8)
    b = rng.choice(q, size=(3000, N), p=probs).astype(np.uint8)
    c = rng.choice(q, size=(3000, N), p=[0.3, 0.3, 0.4]).astype(np.uint8)
    st = spin_statistics(a, q=q)
    naive = np.array([[np.mean(a[:, i] == k) for k in range(q)] for i in range(N)])
    np.testing.assert_allclose(st.means, naive)
    assert st.corr.shape == (N * q, N * q) and st.triples.shape == (0,) and st.activity_probs is None
    pij = np.mean((a[:, 1] == 2) & (a[:, 3] == 0))
    assert st.corr[1 * q + 2, 3 * q + 0] == pytest.approx(pij - naive[1, 2] * naive[3, 0])
    same, other = compare(a, b, q=q), compare(a, c, q=q)
    assert same.means.rms_z < 1.6 and same.corr.rms_z < 1.6 and same.corr.entries == 10 * q * q
    assert other.means.rms_z > 5 and same.activity_tv is None


def test_report_table_and_json(cw):
    a, b, _ = cw
    r = compare(a, b, energy=CurieWeiss(12).energy, exact_log_p=-0.8 * CurieWeiss(12).energy(states(12)),
                triples=100)
    text = str(r)
    for key in ("means", "C_ij", "T_ijk", "P(K)", "energy", "exact"):
        assert key in text
    d = json.loads(json.dumps(r.to_dict(full=True), allow_nan=False))
    assert d["N"] == 12 and d["triples"]["entries"] == 100 and len(d["activity_probs"]["data"]) == 13
    assert len(d["data_statistics"]["corr"]) == 12 and "exact" in d and "energy" in d


# ------------------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize("bad", [
    np.zeros((5, 4), np.int8),                 # 0 is not a spin
    np.ones((0, 4), np.int8),                  # no samples
    np.ones(4, np.int8),                       # 1-D
    np.ones((5, 4), bool),                     # booleans
    np.array([["a", "b"]]),                    # strings
    np.ones((2, 2, 2, 2), np.int8),            # 4-D
])
def test_bad_samples(bad):
    with pytest.raises(ValueError):
        spin_statistics(bad)


def test_bad_arguments():
    s = independent_spins(np.full(6, 0.5), 20, 0)
    with pytest.raises(ValueError, match="sites"):
        compare(s, s[:, :5])
    with pytest.raises(ValueError, match="N <="):
        spin_statistics(np.ones((3, MAX_ALL_TRIPLES_N + 1), np.int8), triples="all")
    for t in ("some", -1, np.array([[0, 0, 1]]), np.array([[0, 1, 6]]), np.zeros((2, 2), int), 1.5):
        with pytest.raises(ValueError):
            spin_statistics(s, triples=t)
    with pytest.raises(ValueError, match="q"):
        spin_statistics(s, q=1)
    with pytest.raises(ValueError, match="states"):
        spin_statistics(np.full((3, 2), 3), q=3)
    with pytest.raises(ValueError, match="energy"):
        compare(s, s, energy=lambda x: np.zeros(3))
    with pytest.raises(ValueError, match="energy"):
        compare(s, s, energy=5)
    with pytest.raises(ValueError):
        compare(s, s, exact_log_p=np.zeros(2 ** 5))         # table for N = 5, data N = 6
    with pytest.raises(ValueError):
        compare(s, s, exact_log_p=np.zeros(48))             # not a power of 2
