"""Rate, encoder mutual information and the capacity report (fastmf.exact.capacity) against naive references."""
import dataclasses
import json
import math

import numpy as np
import pytest
from references import all_configurations, table_entropy, table_probabilities
from scipy.integrate import quad
from scipy.special import logsumexp

from fastmf.exact.capacity import (CapacityReport, capacity_report, data_distribution,
                                   empirical_log_prob_table, encoder_mutual_information, half_line_cuts, rate)
from fastmf.exact.decoder import curie_weiss_decoder, linear_decoder, log_prob_table

# ---- naive references --------------------------------------------------------------------------------

def _spins(N):
    """All +-1 states in index order (site 0 least significant): references.all_configurations."""
    return all_configurations(N).astype(float)


def naive_rate(encoder, log_p):
    N = round(math.log2(len(log_p)))
    p = np.exp(log_p - logsumexp(log_p))
    total = 0.0
    for x, px in zip(_spins(N), p):
        mu, lv = (np.asarray(a)[0] for a in encoder(x[None, :]))
        total += px * sum(0.5 * (m * m + math.exp(v) - 1.0 - v) for m, v in zip(mu, lv))
    return total


def naive_encoder_mi_1d(encoder, log_p, L=15.0):
    """sum_x p(x) int q(z|x) log(q(z|x) / q(z)) dz by scipy quad, d = 1."""
    N = round(math.log2(len(log_p)))
    p = np.exp(log_p - logsumexp(log_p))
    mu, lv = encoder(_spins(N))
    mu, sd = mu[:, 0], np.exp(0.5 * lv[:, 0])

    def logq(z):
        return logsumexp(-0.5 * ((z - mu) / sd) ** 2 - np.log(sd) - 0.5 * math.log(2 * math.pi), b=p)

    total = 0.0
    for a in np.flatnonzero(p > 0):
        def f(z, a=a):
            lqa = -0.5 * ((z - mu[a]) / sd[a]) ** 2 - math.log(sd[a]) - 0.5 * math.log(2 * math.pi)
            return math.exp(lqa) * (lqa - logq(z))
        total += p[a] * quad(f, mu[a] - L * sd[a], mu[a] + L * sd[a], epsabs=1e-13, epsrel=1e-12, limit=400)[0]
    return total


def naive_encoder_mi_grid_2d(encoder, log_p, L=8.0, n=801):
    """The same on a dense 2-D trapezoid grid (smooth, rapidly decaying integrand: spectrally accurate)."""
    N = round(math.log2(len(log_p)))
    p = np.exp(log_p - logsumexp(log_p))
    mu, lv = encoder(_spins(N))
    g = np.linspace(-L, L, n)
    Z = np.stack(np.meshgrid(g, g, indexing="ij"), axis=-1).reshape(-1, 2)
    logc = np.array([-0.5 * np.sum((Z - m) ** 2 / np.exp(v) + v + math.log(2 * math.pi), axis=1)
                     for m, v in zip(mu, lv)])  # (S, grid)
    logq = logsumexp(logc, b=p[:, None], axis=0)
    h = (g[1] - g[0]) ** 2
    return float(sum(p[a] * np.sum(np.exp(logc[a]) * (logc[a] - logq)) * h for a in range(len(p)) if p[a] > 0))


def naive_mi(log_p, A):
    """I(A;B) by explicit marginal dictionaries."""
    N = round(math.log2(len(log_p)))
    p = np.exp(log_p - logsumexp(log_p))
    B = [i for i in range(N) if i not in A]
    pa, pb = {}, {}
    for s, ps in zip(_spins(N), p):
        ka, kb = tuple(s[A]), tuple(s[B])
        pa[ka] = pa.get(ka, 0.0) + ps
        pb[kb] = pb.get(kb, 0.0) + ps
    return sum(ps * math.log(ps / (pa[tuple(s[A])] * pb[tuple(s[B])])) for s, ps in zip(_spins(N), p) if ps > 0)


def naive_curie_weiss(N, beta):
    M = _spins(N).sum(axis=1)
    lw = beta / (2 * N) * M ** 2
    return lw - logsumexp(lw)


def random_encoder(N, d, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    C, c0 = scale * rng.normal(size=(N, d)), rng.normal(size=d)
    E, e0 = 0.3 * rng.normal(size=(N, d)), rng.normal(size=d) - 1.0
    return lambda x: (np.asarray(x) @ C + c0, np.asarray(x) @ E + e0)


def blind_encoder(m=0.5, v=-0.2):
    """q(z|x) independent of x: I_q = 0, R = KL(N(m, e^v) || N(0, 1))."""
    return lambda x: (np.full((len(x), 1), m), np.full((len(x), 1), v))


def random_table(N, seed, temp=1.0):
    return np.random.default_rng(seed).normal(size=2 ** N) * temp


# ---- data, rate, encoder MI --------------------------------------------------------------------------

def test_empirical_table_and_data_distribution():
    s = np.array([[1, -1], [1, -1], [-1, -1], [1, 1]], dtype=np.int8)
    lp = empirical_log_prob_table(s)
    assert np.allclose(np.exp(lp), [0.25, 0.5, 0.0, 0.25])  # index sum x_i 2**i, site 0 least significant
    lp2, N, samples = data_distribution(s)
    assert N == 2 and samples is not None and np.array_equal(lp2, lp)
    lp3, N3, none = data_distribution(np.log([0.1, 0.2, 0.3, 0.4]) + 5.0)
    assert N3 == 2 and none is None and abs(logsumexp(lp3)) < 1e-14


def test_rate_matches_naive_table_and_samples():
    N = 5
    enc = random_encoder(N, 2, 0)
    lp = random_table(N, 1)
    assert abs(rate(enc, lp).value - naive_rate(enc, lp)) < 1e-12
    assert rate(enc, lp).stderr == 0.0
    s = np.random.default_rng(2).choice([-1, 1], size=(400, N)).astype(np.int8)
    r = rate(enc, s, latent_dim=2)
    mu, lv = enc(s.astype(float))
    kl = 0.5 * np.sum(mu ** 2 + np.exp(lv) - 1 - lv, axis=1)
    assert abs(r.value - kl.mean()) < 1e-12 and abs(r.stderr - kl.std(ddof=1) / 20.0) < 1e-12
    # the sample mean is the exact rate of the empirical distribution
    assert abs(r.value - rate(enc, empirical_log_prob_table(s)).value) < 1e-12


def test_encoder_mi_matches_quad_1d():
    N = 4
    for seed in (0, 1):
        enc = random_encoder(N, 1, seed)
        lp = random_table(N, 10 + seed)
        est = encoder_mutual_information(enc, lp, check=True)  # 64 -> 128 nodes
        err = abs(est.value - naive_encoder_mi_1d(enc, lp))
        assert err < 1e-8 and err <= est.quad_error < 1e-6


def test_encoder_mi_matches_grid_2d():
    N = 3
    enc = random_encoder(N, 2, 3, scale=0.7)
    lp = random_table(N, 4)
    est = encoder_mutual_information(enc, lp, check=True)  # 32 -> 64 nodes per dimension
    err = abs(est.value - naive_encoder_mi_grid_2d(enc, lp))
    assert err < 1e-8 and err <= est.quad_error < 1e-5


def test_encoder_mi_bounds_on_random_encoders():
    for seed in range(4):
        for d in (1, 2):
            N = 6
            enc = random_encoder(N, d, 20 + seed, scale=1.5)
            lp = random_table(N, 30 + seed, temp=2.0)
            iq = encoder_mutual_information(enc, lp).value
            R = rate(enc, lp).value
            assert 0.0 <= iq <= R + 1e-9
            assert iq <= table_entropy(table_probabilities(lp)) + 1e-12


def test_blind_encoder_has_zero_mi():
    lp = random_table(4, 5)
    m, v = 0.5, -0.2
    enc = blind_encoder(m, v)
    assert abs(encoder_mutual_information(enc, lp).value) < 1e-12
    assert abs(rate(enc, lp).value - 0.5 * (m * m + math.exp(v) - 1 - v)) < 1e-14


# ---- the capacity report -----------------------------------------------------------------------------

def _two_state_data(N):
    """All up or all down with probability 1/2: I(A;B) = log 2 for every cut."""
    lp = np.full(2 ** N, -np.inf)
    lp[0] = lp[-1] = math.log(0.5)
    return lp


def test_report_flags_cuts_for_a_near_zero_rate_encoder():
    N = 6
    data = _two_state_data(N)
    dec = linear_decoder(np.full((N, 1), 4.0), np.zeros(N))
    rep = capacity_report(data, dec, 1, blind_encoder(1e-3, -1e-3))
    assert isinstance(rep, CapacityReport)
    assert rep.cuts == half_line_cuts(N) and rep.flagged_cuts == rep.cuts and not rep.can_reproduce
    for a, m in zip(rep.cuts, rep.mi_data):
        assert abs(m - math.log(2)) < 1e-12 and abs(m - naive_mi(data, list(a))) < 1e-12
    assert rep.rate < 1e-5 and rep.mi_xz_encoder < 1e-12
    assert rep.chain_holds and all(rep.dpi_holds) and rep.rate_bound_holds
    model = log_prob_table(dec, N, 1, check=True)  # the report's table (check=True by default)
    for a, m in zip(rep.cuts, rep.mi_model):
        assert abs(m - naive_mi(model.log_p, list(a))) < 1e-12
    text = rep.table()
    assert "R < I_data" in text and "cannot reproduce" in text and str(rep) == text
    assert len(text.splitlines()) == 5 + len(rep.cuts) + 1


def test_report_on_low_temperature_curie_weiss():
    N, beta = 8, 1.5
    data = naive_curie_weiss(N, beta)
    dec = curie_weiss_decoder(N, beta)
    low = capacity_report(data, dec, 1, blind_encoder(0.0, -1e-4), n_quad=64)
    assert low.flagged_cuts == low.cuts  # zero rate: nothing can be reproduced
    high = capacity_report(data, dec, 1, lambda x: (3.0 * x.mean(axis=1, keepdims=True),
                                                    np.full((len(x), 1), -4.0)), n_quad=64)
    assert high.flagged_cuts == () and high.can_reproduce and high.chain_holds
    assert high.rate > max(high.mi_data) and high.mi_xz_encoder <= high.rate
    assert high.mi_xz_encoder <= high.entropy_data + 1e-12
    for a, m in zip(high.cuts, high.mi_data):
        assert abs(m - naive_mi(data, list(a))) < 1e-10


def test_report_with_samples_explicit_cuts_and_json():
    N = 6
    rng = np.random.default_rng(0)
    data = _two_state_data(N)
    idx = rng.choice(2 ** N, size=2000, p=np.exp(data))
    samples = all_configurations(N).astype(np.int8)[idx]

    def enc(x):
        return 2.0 * x.mean(axis=1, keepdims=True) + 0.5, np.full((len(x), 1), -3.0)

    cuts = [[0, 2, 4], (5,), np.array([1, 3])]
    rep = capacity_report(samples, linear_decoder(np.full((N, 1), 4.0), np.zeros(N)), 1, enc, cuts=cuts)
    assert rep.n_data_samples == 2000 and rep.rate_stderr > 0
    assert rep.cuts == ((0, 2, 4), (5,), (1, 3)) and rep.flagged_cuts == ()
    assert "0,2,4|1,3,5" in rep.table()
    d = json.loads(rep.to_json())
    assert d["cuts"] == [[0, 2, 4], [5], [1, 3]] and d["n_data_samples"] == 2000
    assert d["flagged_cuts"] == [] and isinstance(d["dpi_holds"][0], bool)
    with pytest.raises(dataclasses.FrozenInstanceError):
        rep.rate = 0.0


def test_report_importance_sampling_for_large_latent_dim():
    N = 4
    rng = np.random.default_rng(1)
    W = rng.normal(size=(N, 4))
    enc = random_encoder(N, 4, 3)
    rep = capacity_report(random_table(N, 2), linear_decoder(W, np.zeros(N)), 4, enc, n_samples=500, seed=0)
    assert rep.method == "importance" and rep.mi_xz_model is None and rep.chain_holds is None
    assert rep.quad_error is None and abs(rep.rate - naive_rate(enc, random_table(N, 2))) < 1e-12
    # with explicit nodes the product rule runs in d = 4 too (6**4 nodes), and the chain is checked
    rep4 = capacity_report(random_table(N, 2), linear_decoder(0.3 * W, np.zeros(N)), 4, enc, n_quad=6, check=False)
    assert rep4.method == "quadrature" and rep4.chain_holds
    assert "n/a" in rep.table()
    assert json.loads(rep.to_json())["mi_xz_encoder"] is None


# ---- bad input ---------------------------------------------------------------------------------------

def test_bad_input_raises_clear_errors():
    N = 4
    dec = linear_decoder(np.ones((N, 1)), np.zeros(N))
    enc = blind_encoder()
    lp = random_table(N, 0)
    with pytest.raises(ValueError, match="0/1 bits"):
        capacity_report(np.zeros((10, N), dtype=np.int8), dec, 1, enc)
    with pytest.raises(ValueError, match="1-D log-probability table"):
        capacity_report(np.zeros((2, 2, 2)), dec, 1, enc)
    with pytest.raises(ValueError, match="q\\*\\*N entries"):
        capacity_report(np.zeros(6), dec, 1, enc)
    with pytest.raises(ValueError, match="NaN"):
        rate(enc, np.full(16, np.nan))
    with pytest.raises(ValueError, match="both sides non-empty"):
        capacity_report(lp, dec, 1, enc, cuts=[[0, 1, 2, 3]])
    with pytest.raises(ValueError, match="site indices in 0..3"):
        capacity_report(lp, dec, 1, enc, cuts=[[0, 7]])
    with pytest.raises(ValueError, match="repeated"):
        capacity_report(lp, dec, 1, enc, cuts=[[1, 1]])
    with pytest.raises(ValueError, match="list of site"):
        capacity_report(lp, dec, 1, enc, cuts=[3])
    with pytest.raises(ValueError, match="N >= 2"):
        capacity_report(np.zeros(2), linear_decoder(np.ones((1, 1)), np.zeros(1)), 1, enc)
    with pytest.raises(ValueError, match=r"shape \(n, latent_dim\) = \(16, 2\)"):
        capacity_report(lp, linear_decoder(np.ones((N, 2)), np.zeros(N)), 2, enc)
    with pytest.raises(ValueError, match="non-finite mu"):
        rate(lambda x: (np.full((len(x), 1), np.nan), np.zeros((len(x), 1))), lp)
    with pytest.raises(ValueError, match="pair"):
        rate(lambda x: np.zeros((len(x), 1)), lp)
    with pytest.raises(ValueError, match="tol must be >= 0"):
        capacity_report(lp, dec, 1, enc, tol=-1.0)
    with pytest.raises(ValueError, match="explicit n_quad"):
        encoder_mutual_information(lambda x: (np.zeros((len(x), 4)), np.zeros((len(x), 4))), lp)
    with pytest.raises(TypeError, match="callable"):
        rate(None, lp)
