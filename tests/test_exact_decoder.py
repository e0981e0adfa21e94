"""Exact likelihood of factorized-decoder models (fastmf.exact.decoder) against direct numerical integration."""
import itertools
import math

import numpy as np
import pytest
from references import all_configurations, table_max_bipartition_mi, table_mutual_information
from scipy.integrate import dblquad, quad
from scipy.special import expit, log_expit, logsumexp

from fastmf.exact.decoder import (DEFAULT_N_QUAD, ModelTable, curie_weiss_decoder,
                                  generative_mutual_information, linear_decoder, log_prob_table,
                                  quadrature_rule)

# ---- naive references: direct integration, one state at a time --------------------------------------

def _x01(N):
    """All states as {0,1} rows in index order (site 0 least significant): references.all_configurations."""
    return ((all_configurations(N) + 1) // 2).astype(float)


def naive_lik(decoder, x, z):
    """p(x | z) for one state x in {0,1}^N and one z."""
    p1 = expit(np.asarray(decoder(np.atleast_2d(z)), float)[0])
    return float(np.prod(np.where(x == 1, p1, 1.0 - p1)))


def naive_log_prob_1d(decoder, N, L=12.0):
    def f(z, x):
        return math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi) * naive_lik(decoder, x, [z])
    return np.array([math.log(quad(f, -L, L, args=(x,), epsabs=0, epsrel=1e-12, limit=400)[0]) for x in _x01(N)])


def naive_log_prob_2d(decoder, N, idx, L=9.0):
    """log p(x) for the states with indices ``idx`` (dblquad is slow: a few states only)."""
    def f(z2, z1, x):
        return math.exp(-0.5 * (z1 * z1 + z2 * z2)) / (2 * math.pi) * naive_lik(decoder, x, [z1, z2])
    return np.array([math.log(dblquad(f, -L, L, -L, L, args=(x,), epsabs=0, epsrel=1e-11)[0])
                     for x in _x01(N)[idx]])


def grid_log_prob(decoder, N, d, L=9.0, n=181):
    """log p(x) of every state on a dense tensor trapezoid grid over [-L, L]**d (N(0, I) weight), by direct sums.
    The integrand is analytic in a strip about the real axis, so the rule converges geometrically (measured
    against L = 10, n = 301: equal to 2e-15 for the decoders used here); not fastmf's nodes or weights."""
    g = np.linspace(-L, L, n)
    Z = np.stack(np.meshgrid(*(g,) * d, indexing="ij"), axis=-1).reshape(-1, d)
    G = np.asarray(decoder(Z), float)                                     # (grid, N) logits
    X = _x01(N)
    lp = logsumexp(X @ log_expit(G).T + (1 - X) @ log_expit(-G).T - 0.5 * np.sum(Z * Z, axis=1), axis=1)
    return lp - logsumexp(lp)


def naive_kl(log_p, log_q):
    """KL(p || q) = sum_x p(x) (log p(x) - log q(x)) of two normalised log tables."""
    return float(np.sum(np.exp(log_p) * (log_p - log_q)))


def naive_entropy(p):
    p = p[p > 0]
    return -float(np.sum(p * np.log(p)))


def naive_mi_xz_1d(decoder, N, L=12.0):
    """H(X) - int phi(z) sum_i h(sigmoid g_i(z)) dz by scipy quad."""
    hx = naive_entropy(np.exp(naive_log_prob_1d(decoder, N, L)))

    def hcond(z):
        p = expit(np.asarray(decoder(np.array([[z]])), float)[0])
        return math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi) * float(-np.sum(p * np.log(p) + (1 - p) * np.log1p(-p)))
    return hx - quad(hcond, -L, L, epsabs=1e-14, limit=400)[0]


def mlp_decoder(N, d, seed, hidden=5, scale=1.0):
    rng = np.random.default_rng(seed)
    W1, b1 = scale * rng.normal(size=(hidden, d)), rng.normal(size=hidden)
    W2, b2 = scale * rng.normal(size=(N, hidden)), 0.5 * rng.normal(size=N)
    return lambda z: np.tanh(np.asarray(z) @ W1.T + b1) @ W2.T + b2


def naive_curie_weiss(N, beta, J, h):
    s = 2 * _x01(N) - 1
    M = s.sum(axis=1)
    lw = beta * J / (2 * N) * M ** 2 + beta * h * M
    return lw - logsumexp(lw)


# ---- quadrature against direct integration ----------------------------------------------------------

def test_quadrature_rule_integrates_moments():
    for rule, n in (("hermite", 16), ("trapezoid", 61)):
        z, lw = quadrature_rule(2, n, rule)
        w = np.exp(lw)
        assert z.shape == (n * n, 2) and abs(w.sum() - 1) < 1e-14
        assert abs(w @ z[:, 0] ** 2 - 1) < 1e-12 and abs(w @ (z[:, 0] ** 2 * z[:, 1] ** 4) - 3) < 1e-11
        assert abs(w @ np.cos(z[:, 1]) - math.exp(-0.5)) < 1e-12


def test_quadrature_matches_quad_1d():
    N = 4
    smooth = mlp_decoder(N, 1, 0, scale=0.7)  # default nodes suffice for a gentle decoder
    t = log_prob_table(smooth, N, 1)
    assert t.method == "quadrature" and t.n_quad == DEFAULT_N_QUAD[1]
    assert np.max(np.abs(t.log_p - naive_log_prob_1d(smooth, N))) < 1e-8
    assert abs(np.exp(t.log_p).sum() - 1) < 1e-12
    steeper = mlp_decoder(N, 1, 1)  # ~1e-4 at 40 Gauss-Hermite nodes: more nodes, either rule
    ref = naive_log_prob_1d(steeper, N)
    for t in (log_prob_table(steeper, N, 1, n_quad=160, check=True),
              log_prob_table(steeper, N, 1, tol=1e-10, rule="trapezoid")):
        assert t.quad_error <= 1e-7
        assert np.max(np.abs(t.log_p - ref)) < 1e-8


def test_quadrature_matches_dblquad_2d():
    N = 3
    dec = mlp_decoder(N, 2, 3, scale=0.5)
    idx = [0, 3, 6]
    ref = naive_log_prob_2d(dec, N, idx)
    t = log_prob_table(dec, N, 2, n_quad=40, check=True)
    assert t.n_quad == 80 and t.rule == "hermite" and t.quad_error < 1e-6
    assert np.max(np.abs(t.log_p[idx] - ref)) < 1e-8
    t = log_prob_table(dec, N, 2, n_quad=80, rule="trapezoid")
    assert np.max(np.abs(t.log_p[idx] - ref)) < 1e-8
    assert abs(log_prob_table(dec, N, 2).log_p[idx] - ref).max() < 1e-5  # the default 32 nodes per dimension


def test_steep_decoder_convergence_check_and_tol():
    N = 5
    rng = np.random.default_rng(4)
    dec = linear_decoder(6.0 * rng.normal(size=(N, 1)), rng.normal(size=N))  # slopes up to 10
    ref = naive_log_prob_1d(dec, N)
    coarse = log_prob_table(dec, N, 1, check=True)
    assert coarse.quad_error > 0.01  # the check notices that 40 (and 80) Gauss-Hermite nodes are not enough
    assert np.max(np.abs(coarse.log_p - ref)) <= coarse.quad_error  # and the estimate is conservative
    fine = log_prob_table(dec, N, 1, n_quad=40, tol=1e-10, rule="trapezoid")
    assert fine.quad_error <= 1e-10 and fine.n_quad >= 320
    assert np.max(np.abs(fine.log_p - ref)) < 1e-8
    with pytest.warns(RuntimeWarning, match="not converged"):
        log_prob_table(dec, N, 1, n_quad=4, tol=1e-14, max_work=2 ** N * 64)


def test_generative_mi_matches_quad():
    N = 4
    dec = mlp_decoder(N, 1, 5)
    est = generative_mutual_information(dec, N, 1, n_quad=160, check=True)
    assert abs(est.value - naive_mi_xz_1d(dec, N)) < 1e-8 and est.quad_error < 1e-8
    assert float(est) == est.value


def test_curie_weiss_decoder_reproduces_curie_weiss():
    N, beta, J, h = 6, 0.6, 1.0, 0.1
    t = log_prob_table(curie_weiss_decoder(N, beta, J, h), N, 1, n_quad=80)
    assert np.max(np.abs(t.log_p - naive_curie_weiss(N, beta, J, h))) < 1e-4


# ---- structural properties ---------------------------------------------------------------------------

@pytest.mark.parametrize("d", [1, 2, 4])
def test_z_independent_decoder_gives_independent_sites(d):
    N = 5
    b = np.array([0.3, -1.0, 2.0, 0.0, -0.4])
    t = log_prob_table(lambda z: np.tile(b, (len(z), 1)), N, d, n_samples=50, seed=0)
    x = _x01(N)
    exact = np.sum(x * b - np.logaddexp(0, b), axis=1)
    assert np.max(np.abs(t.log_p - exact)) < 1e-12
    for k in range(1, N):
        assert abs(t.mutual_information(range(k))) < 1e-12
    assert abs(table_max_bipartition_mi(np.exp(t.log_p), N)) < 1e-12
    if d <= 3:
        assert abs(t.mutual_information_xz().value) < 1e-12
    else:
        assert t.method == "importance" and np.max(t.stderr) < 1e-6


def _random_decoders():
    for seed, (N, d) in enumerate(itertools.product((6, 7), (1, 2))):
        rng = np.random.default_rng(100 + seed)
        yield N, d, linear_decoder(1.5 * rng.normal(size=(N, d)), rng.normal(size=N))
        yield N, d, mlp_decoder(N, d, 200 + seed, scale=1.5)


def test_inequality_chain_and_kl_on_random_decoders():
    tables = []
    for N, d, dec in _random_decoders():
        t = log_prob_table(dec, N, d)
        ixz = t.mutual_information_xz().value
        assert 0 <= ixz <= t.entropy() + 1e-12
        # every bipartition, not just the half-line cuts: I_model(A;B) <= I_model(X;Z)
        p = np.exp(t.log_p)
        assert table_max_bipartition_mi(p, N) <= ixz + 1e-10
        for k in range(1, N):  # the table's MI is the textbook sum over its states (rounding: 1e-12)
            assert t.mutual_information(range(k)) == pytest.approx(table_mutual_information(p, N, range(k)),
                                                                   abs=1e-12)
        assert abs(t.kl_from(t.log_p)) < 1e-12
        tables.append(t)
    for a, b in zip(tables[:-2], tables[2:]):  # same N two apart
        if a.N == b.N:  # KL(a || b) is the textbook sum over the states of the two tables, not the reverse one
            assert b.kl_from(a.log_p) == pytest.approx(naive_kl(a.log_p, b.log_p), abs=1e-12)
            assert abs(naive_kl(a.log_p, b.log_p) - naive_kl(b.log_p, a.log_p)) > 0.1


def test_kl_between_unrelated_decoders_equals_the_exact_value():
    """KL(p_a || p_b) of unrelated linear decoders (d = 1 against d = 2, same N) from tables converged to 1e-9 in
    log p (trapezoid, tol) against the textbook KL of independent dense-grid tables (grid_log_prob). Measured
    agreement 1e-15; bound 1e-8 (the tables' tolerance twice, plus margin). Measured KL(a || b) = 1.860 (N = 6)
    and 2.599 (N = 7), the reverse KL 2.058 and 2.840: a swapped or mis-normalised KL fails."""
    decs = [(N, d, dec) for k, (N, d, dec) in enumerate(_random_decoders()) if k % 2 == 0]  # the linear ones
    for (N, d1, dec1), (N2, d2, dec2) in zip(decs[::2], decs[1::2]):
        assert N == N2 and (d1, d2) == (1, 2)
        a = log_prob_table(dec1, N, d1, tol=1e-9, rule="trapezoid")
        b = log_prob_table(dec2, N, d2, tol=1e-9, rule="trapezoid")
        exact = naive_kl(grid_log_prob(dec1, N, d1), grid_log_prob(dec2, N, d2))
        assert exact > 1.0  # unrelated decoders: far apart
        assert b.kl_from(a.log_p) == pytest.approx(exact, abs=1e-8)


def test_quadrature_table_matches_info_convention():
    """Site 0 is the least significant bit: a decoder favouring only site 0 shifts odd indices."""
    N = 3
    t = log_prob_table(lambda z: np.tile([5.0, -5.0, -5.0], (len(z), 1)), N, 1)
    assert int(np.argmax(t.log_p)) == 1
    assert np.array_equal(all_configurations(N)[1], [1, -1, -1])


# ---- importance sampling -----------------------------------------------------------------------------

def _z0_decoder(N, seed):
    """A d = 4 decoder that depends on z[0] only: exact value by 1-D quadrature."""
    inner = mlp_decoder(N, 1, seed, scale=1.2)
    return (lambda z: inner(np.asarray(z)[:, :1])), inner


@pytest.fixture(scope="module")
def importance_runs():
    """20 importance-sampling tables (2000 prior draws each) of a d = 4 decoder that reads z[0] only."""
    N = 6
    dec4, dec1 = _z0_decoder(N, 7)
    return N, dec1, [log_prob_table(dec4, N, 4, n_samples=2000, seed=seed) for seed in range(20)]


def _importance_check(runs, exact):
    """(max |z|, mean z**2) of the tables' log p against ``exact`` in units of their standard errors."""
    zs = np.array([(t.log_p - exact) / t.stderr for t in runs])
    return np.max(np.abs(zs)), np.mean(zs ** 2)


def test_importance_sampling_agrees_within_error_bars(importance_runs):
    N, dec1, runs = importance_runs
    for t in runs:
        assert t.method == "importance" and t.n_samples == 2000
        assert abs(logsumexp(t.log_p)) < 1e-12  # shared prior samples: the table sums to 1
    zmax, z2 = _importance_check(runs, naive_log_prob_1d(dec1, N))
    assert zmax < 5.0  # 5 sigma over 20 x 64 z-scores: false alarm ~ 7e-4
    assert 0.4 < z2 < 2.0  # honest error bars: z-scores of unit variance


def test_power_importance_check_rejects_a_5_percent_wider_latent(importance_runs):
    """The same tables against the exact 1-D model with z ~ N(0, 1.05**2) (latent temperature 5 % off): both
    parts of the check fail (measured max |z| = 5.6, mean z**2 = 2.85)."""
    N, dec1, runs = importance_runs
    zmax, z2 = _importance_check(runs, naive_log_prob_1d(lambda z: dec1(1.05 * np.asarray(z)), N))
    assert zmax > 5.0 and z2 > 2.0


@pytest.fixture(scope="module")
def proposal_runs():
    """Importance-sampling tables (12 000 draws) of a d = 4 decoder that reads z[0] only, with per-state Gaussian
    proposals (as arrays and as an encoder-like callable, same seed) and with one shared Gaussian proposal."""
    N = 5
    dec4, dec1 = _z0_decoder(N, 8)

    def enc(x):  # an encoder-like proposal: mean depends on x through z[0]
        mu = np.zeros((len(x), 4))
        mu[:, 0] = 0.3 * x.mean(axis=1)
        return mu, np.full((len(x), 4), 0.2)

    mu, lv = enc(all_configurations(N).astype(float))
    runs = [log_prob_table(dec4, N, 4, n_samples=12_000, seed=1, proposal=(mu, lv)),
            log_prob_table(dec4, N, 4, n_samples=12_000, seed=1, proposal=enc),
            log_prob_table(dec4, N, 4, n_samples=12_000, seed=2, proposal=(np.full(4, 0.1), np.full(4, 0.3)))]
    return N, dec1, runs


def test_importance_with_gaussian_proposals(proposal_runs):
    N, dec1, runs = proposal_runs
    exact = naive_log_prob_1d(dec1, N)
    for t in runs:
        assert np.max(np.abs(t.log_p - exact) / t.stderr) < 5.0  # 5 sigma over 32 states: false alarm 2e-5
    assert np.array_equal(runs[0].log_p, runs[1].log_p)  # same seed, same proposal


def test_power_proposal_check_rejects_a_5_percent_wider_latent(proposal_runs):
    """Each run against the exact 1-D model with z ~ N(0, 1.05**2) (latent temperature 5 % off): measured max |z|
    = 6.0, 6.0, 6.7 (12 000 draws; at 3000, 4.0 and 3.3 would not show it)."""
    N, dec1, runs = proposal_runs
    wrong = naive_log_prob_1d(lambda z: dec1(1.05 * np.asarray(z)), N)
    for t in runs:
        assert np.max(np.abs(t.log_p - wrong) / t.stderr) > 5.0


def test_importance_is_reproducible_with_seed():
    dec4, _ = _z0_decoder(4, 9)
    a = log_prob_table(dec4, 4, 4, n_samples=500, seed=np.random.default_rng(3))
    b = log_prob_table(dec4, 4, 4, n_samples=500, seed=3)
    assert np.array_equal(a.log_p, b.log_p) and np.array_equal(a.stderr, b.stderr)


# ---- bad input ---------------------------------------------------------------------------------------

def test_bad_input_raises_clear_errors():
    dec = linear_decoder(np.ones((3, 1)), np.zeros(3))
    with pytest.raises(ValueError, match="latent_dim must be >= 1"):
        log_prob_table(dec, 3, 0)
    with pytest.raises(ValueError, match="N must be >= 1"):
        log_prob_table(dec, 0, 1)
    with pytest.raises(ValueError, match=r"logits of shape \(n, N\)"):
        log_prob_table(dec, 4, 1)
    with pytest.raises(ValueError, match="non-finite logits"):
        log_prob_table(lambda z: np.full((len(z), 3), np.nan), 3, 1)
    with pytest.raises(ValueError, match="method must be"):
        log_prob_table(dec, 3, 1, method="laplace")
    with pytest.raises(ValueError, match="explicit n_quad"):
        log_prob_table(lambda z: np.zeros((len(z), 3)), 3, 4, method="quadrature")
    with pytest.raises(ValueError, match="max_work"):
        log_prob_table(dec, 3, 1, n_quad=40, max_work=100)
    with pytest.raises(ValueError, match="proposal"):
        log_prob_table(lambda z: np.zeros((len(z), 3)), 3, 4, proposal=(np.zeros(3), np.zeros(3)))
    with pytest.raises(ValueError, match="too large"):
        log_prob_table(dec, 40, 1)
    with pytest.raises(TypeError, match="callable"):
        log_prob_table("decoder", 3, 1)
    with pytest.raises(ValueError, match="W of shape"):
        linear_decoder(np.ones(3), np.zeros(3))
    t = log_prob_table(lambda z: np.zeros((len(z), 3)), 3, 4, n_samples=10, seed=0)
    with pytest.raises(ValueError, match="quadrature table"):
        t.mutual_information_xz()
    with pytest.raises(ValueError, match="N = 2"):
        t.kl_from(np.zeros(4))
    assert isinstance(t, ModelTable)
    with pytest.raises(ValueError):
        t.log_p[0] = 1.0  # read-only
