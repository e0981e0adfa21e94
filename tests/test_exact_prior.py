"""The exact engine under a mixture latent prior (fastmf.exact.latent_prior, decoder, capacity) against independent
references: scipy quad per state, a dense grid, closed-form Gaussian KL, and Monte Carlo with error bars."""
import math

import numpy as np
import pytest
from references import all_configurations
from scipy.integrate import quad
from scipy.special import expit, logsumexp

from fastmf.exact.capacity import capacity_report, rate
from fastmf.exact.decoder import generative_mutual_information, linear_decoder, log_prob_table
from fastmf.exact.latent_prior import check_prior, mixture_log_density, prior_rule

LOG_2PI = math.log(2 * math.pi)
STANDARD = {1: (np.zeros(1), np.zeros((1, 1)), np.zeros((1, 1))),
            2: (np.zeros(1), np.zeros((1, 2)), np.zeros((1, 2))),
            4: (np.zeros(1), np.zeros((1, 4)), np.zeros((1, 4)))}
# a well separated, unequal 1-D mixture: weights 0.3 / 0.7, means -2 / 1.5, variances 0.3 / 0.6
W1, M1, V1 = np.array([0.3, 0.7]), np.array([-2.0, 1.5]), np.array([0.3, 0.6])
PRIOR_1D = (np.log(W1), M1[:, None], np.log(V1)[:, None])


# ---- naive references ---------------------------------------------------------------------------------

def _x01(N):
    """All states as {0,1} rows in index order (site 0 least significant): references.all_configurations."""
    return ((all_configurations(N) + 1) // 2).astype(float)


def _naive_mixture_pdf(z, w, m, v):
    """Mixture density at one point z (d,), component by component (m, v of shape (K, d))."""
    return sum(wk * math.prod(math.exp(-0.5 * (zj - mj) ** 2 / vj) / math.sqrt(2 * math.pi * vj)
                              for zj, mj, vj in zip(z, mk, vk))
               for wk, mk, vk in zip(w, m, v))


def _lik(decoder, x, z):
    p1 = expit(np.asarray(decoder(np.atleast_2d(z)), float)[0])
    return float(np.prod(np.where(x == 1, p1, 1.0 - p1)))


def _mlp(N, d, seed, hidden=4, scale=1.0):
    rng = np.random.default_rng(seed)
    W1_, b1 = scale * rng.normal(size=(hidden, d)), rng.normal(size=hidden)
    W2_, b2 = scale * rng.normal(size=(N, hidden)), 0.5 * rng.normal(size=N)
    return lambda z: np.tanh(np.asarray(z) @ W1_.T + b1) @ W2_.T + b2


def naive_log_prob_mixture_1d(decoder, N):
    """log p(x) = log int sum_k w_k N(z; m_k, v_k) p(x|z) dz by scipy quad, one state at a time."""
    def f(z, x):
        return _naive_mixture_pdf(np.array([z]), W1, M1[:, None], V1[:, None]) * _lik(decoder, x, [z])
    return np.array([math.log(quad(f, -14, 14, args=(x,), points=list(M1), epsabs=0, epsrel=1e-12, limit=400)[0])
                     for x in _x01(N)])


def _random_encoder(N, d, seed, scale=0.8):
    rng = np.random.default_rng(seed)
    A, c = scale * rng.normal(size=(d, N)), 0.3 * rng.normal(size=d)
    B, e = 0.3 * rng.normal(size=(d, N)), -1.0 + 0.3 * rng.normal(size=d)
    return lambda x: (np.asarray(x) @ A.T + c, np.asarray(x) @ B.T + e)


# ---- the mixture density, validation and the rule ------------------------------------------------------

def test_mixture_log_density_matches_the_vae_and_a_naive_sum():
    from fastmf.vae.priors import log_density  # the VAE's own implementation: a second, independent one
    rng = np.random.default_rng(0)
    K, d = 5, 3
    lw = np.log(rng.dirichlet(np.ones(K)))
    m, lv = rng.normal(size=(K, d)), 0.5 * rng.normal(size=(K, d))
    z = 2.0 * rng.normal(size=(200, d))
    ours = mixture_log_density(z, lw, m, lv)
    assert np.allclose(ours, log_density(z, lw, m, lv), rtol=0, atol=1e-12)
    naive = np.log([_naive_mixture_pdf(zz, np.exp(lw), m, np.exp(lv)) for zz in z[:20]])
    assert np.allclose(ours[:20], naive, rtol=0, atol=1e-12)
    # far in the tails the log-sum-exp stays finite where the naive density underflows
    assert np.isfinite(mixture_log_density(np.full((1, d), 60.0), lw, m, lv)).all()


def test_check_prior_normalises_drops_zero_weights_and_refuses_bad_input():
    lw, m, lv = check_prior(([0.0, np.log(3.0), -np.inf], np.zeros((3, 2)), np.zeros((3, 2))), 2)
    assert np.allclose(np.exp(lw), [0.25, 0.75]) and m.shape == (2, 2) and not lw.flags.writeable
    assert check_prior(None, 3) is None
    good = (np.zeros(2), np.zeros((2, 1)), np.zeros((2, 1)))
    with pytest.raises(TypeError, match="tuple"):
        check_prior("mog", 1)
    with pytest.raises(TypeError, match="tuple"):
        check_prior(good[:2], 1)
    with pytest.raises(ValueError, match="shapes"):
        check_prior((np.zeros(2), np.zeros((3, 1)), np.zeros((3, 1))), 1)
    with pytest.raises(ValueError, match="shapes"):
        check_prior((np.zeros(2), np.zeros((2, 1)), np.zeros((2, 2))), 1)
    with pytest.raises(ValueError, match="latent dimension 1, the model 2"):
        check_prior(good, 2)
    with pytest.raises(ValueError, match="normalise"):
        check_prior((np.full(2, -np.inf),) + good[1:], 1)
    with pytest.raises(ValueError, match="normalise"):
        check_prior((np.array([0.0, np.nan]),) + good[1:], 1)
    with pytest.raises(ValueError, match="finite"):
        check_prior((good[0], np.array([[0.0], [np.inf]]), good[2]), 1)
    with pytest.raises(ValueError, match="logvars must lie"):
        check_prior((good[0], good[1], np.array([[0.0], [800.0]])), 1)
    with pytest.raises(ValueError, match="numeric"):
        check_prior((good[0], [["a"], ["b"]], good[2]), 1)
    dec = linear_decoder(np.ones((3, 1)), np.zeros(3))
    with pytest.raises(TypeError, match="prior must be None"):
        log_prob_table(dec, 3, 1, prior="mog")
    with pytest.raises(ValueError, match="latent dimension"):
        log_prob_table(dec, 3, 1, prior=STANDARD[2])
    with pytest.raises(ValueError, match="latent dimension"):
        rate(lambda x: (np.zeros((len(x), 1)), np.zeros((len(x), 1))), np.zeros(8), prior=STANDARD[2])
    with pytest.raises(ValueError, match="max_work"):
        log_prob_table(dec, 3, 1, prior=PRIOR_1D, n_quad=40, max_work=500)  # 2 components x 40 nodes x 8 states


def test_prior_rule_integrates_mixture_moments():
    z, lw = prior_rule(1, 20, "hermite", check_prior(PRIOR_1D, 1))
    w = np.exp(lw)
    assert abs(w.sum() - 1) < 1e-14
    mean = W1 @ M1
    assert abs(w @ z[:, 0] - mean) < 1e-13
    assert abs(w @ z[:, 0] ** 2 - W1 @ (V1 + M1 ** 2)) < 1e-12


# ---- the likelihood table under a mixture prior --------------------------------------------------------

def test_quadrature_with_mixture_prior_matches_quad_1d():
    N = 4
    dec = _mlp(N, 1, 4)
    t = log_prob_table(dec, N, 1, prior=PRIOR_1D, check=True)
    ref = naive_log_prob_mixture_1d(dec, N)
    assert np.max(np.abs(t.log_p - ref)) < 1e-8
    assert abs(logsumexp(t.log_p)) < 1e-12  # the table sums to 1
    assert t.prior == "mixture of 2 diagonal Gaussians" and t.quad_error < 1e-6
    # power: the same decoder under N(0, I) is a different model, far outside the tolerance
    assert np.max(np.abs(log_prob_table(dec, N, 1).log_p - ref)) > 1e-2


def test_generative_mi_with_mixture_prior_matches_quad_1d():
    N = 4
    dec = _mlp(N, 1, 4)
    p = np.exp(naive_log_prob_mixture_1d(dec, N))
    hx = -float(np.sum(p * np.log(p)))

    def hcond(z):
        q = expit(np.asarray(dec(np.array([[z]])), float)[0])
        pz = _naive_mixture_pdf(np.array([z]), W1, M1[:, None], V1[:, None])
        return pz * float(-np.sum(q * np.log(q) + (1 - q) * np.log1p(-q)))
    ref = hx - quad(hcond, -14, 14, points=list(M1), epsabs=1e-14, limit=400)[0]
    got = generative_mutual_information(dec, N, 1, prior=PRIOR_1D, check=True)
    assert abs(got.value - ref) < 1e-9 and got.quad_error < 1e-6


def test_quadrature_with_mixture_prior_matches_dense_grid_2d():
    N = 3
    dec = _mlp(N, 2, 5)
    w, m = np.array([0.6, 0.4]), np.array([[-1.0, 0.5], [1.2, -0.8]])
    v = np.array([[0.5, 0.3], [0.4, 0.8]])
    t = log_prob_table(dec, N, 2, prior=(np.log(w), m, np.log(v)), check=True)
    g = np.linspace(-8, 8, 801)
    Z = np.stack(np.meshgrid(g, g, indexing="ij"), axis=-1).reshape(-1, 2)
    pz = sum(wk * np.exp(-0.5 * np.sum((Z - mk) ** 2 / vk, axis=1)) / (2 * math.pi * math.sqrt(vk.prod()))
             for wk, mk, vk in zip(w, m, v))
    p1 = expit(dec(Z))
    ref = np.array([np.log(np.sum(pz * np.prod(np.where(x == 1, p1, 1 - p1), axis=1)) * (g[1] - g[0]) ** 2)
                    for x in _x01(N)])
    assert np.max(np.abs(t.log_p - ref)) < 1e-7
    assert abs(logsumexp(t.log_p)) < 1e-12


@pytest.mark.parametrize("d,kw", [(1, {}), (2, {}), (1, {"rule": "trapezoid", "n_quad": 200}),
                                  (2, {"check": True}), (4, {"n_samples": 500, "seed": 3}),
                                  (4, {"n_samples": 500, "seed": 3, "proposal": (np.full(4, 0.1), np.full(4, -0.5))})])
def test_standard_component_reproduces_the_normal_prior_bit_for_bit(d, kw):
    N = 5
    dec = _mlp(N, d, 6)
    a, b = log_prob_table(dec, N, d, **kw), log_prob_table(dec, N, d, prior=STANDARD[d], **kw)
    assert a.prior == b.prior == "N(0, I)"
    if "proposal" in kw:  # log p(z) by the mixture's log-sum-exp: equal to rounding
        assert np.allclose(a.log_p, b.log_p, rtol=0, atol=1e-12)
        assert np.allclose(a.stderr, b.stderr, rtol=1e-10, atol=0)
    else:  # the same nodes and weights, or the same draws
        assert np.array_equal(a.log_p, b.log_p)
        assert a.cond_entropy == b.cond_entropy if d <= 2 else np.array_equal(a.stderr, b.stderr)


def _z0_decoder(N, seed):
    """A decoder that reads only z[0]: the same function for d = 4 and for the 1-D marginal model."""
    rng = np.random.default_rng(seed)
    W, b = 1.2 * rng.normal(size=N), 0.4 * rng.normal(size=N)
    return lambda z: np.tanh(np.asarray(z)[:, :1]) * W * 2.0 + b


def _z_scores_4d(prior4, n_samples, seed, N=4, **kw):
    """IS of the 4-D model under prior4 against quadrature of the 1-D marginal model (the truth is PRIOR_4D's)."""
    dec = _z0_decoder(N, 11)
    lw, m, lv = PRIOR_4D
    exact = log_prob_table(dec, N, 1, prior=(lw, m[:, :1], lv[:, :1]), n_quad=128).log_p
    t = log_prob_table(dec, N, 4, n_samples=n_samples, seed=seed, prior=prior4, **kw)
    return (t.log_p - exact) / t.stderr


PRIOR_4D = (np.log([0.35, 0.65]), np.array([[-1.5, 0.3, -0.2, 1.0], [1.0, -0.5, 0.4, 0.0]]),
            np.log(np.array([[0.4, 1.0, 0.5, 2.0], [0.7, 0.3, 1.5, 1.0]])))


def test_importance_sampling_from_a_mixture_prior_agrees_with_quadrature():
    z = _z_scores_4d(PRIOR_4D, 20_000, seed=1)
    assert np.max(np.abs(z)) < 4.0
    # a shared Gaussian proposal (not the prior): the weights carry p(z) / proposal(z)
    z2 = _z_scores_4d(PRIOR_4D, 20_000, seed=2, proposal=(np.zeros(4), np.full(4, 0.7)))
    assert np.max(np.abs(z2)) < 4.0
    # per-state proposals
    z3 = _z_scores_4d(PRIOR_4D, 4000, seed=3, proposal=(np.zeros((16, 4)), np.full((16, 4), 0.7)))
    assert np.max(np.abs(z3)) < 4.0


def test_importance_power_a_slightly_wrong_prior_fails_the_same_check():
    lw, m, lv = PRIOR_4D
    wrong = (np.log([0.42, 0.58]), m, lv)  # weights 0.35/0.65 -> 0.42/0.58 in the used direction
    assert np.max(np.abs(_z_scores_4d(wrong, 20_000, seed=1))) > 4.0
    shifted = (lw, m + np.array([0.25, 0, 0, 0]), lv)
    assert np.max(np.abs(_z_scores_4d(shifted, 20_000, seed=1))) > 4.0


# ---- the rate under a mixture prior --------------------------------------------------------------------

def _kl_gauss(mq, vq, mp, vp):
    """KL(N(mq, vq) || N(mp, vp)) of diagonal Gaussians, summed over dimensions."""
    return 0.5 * np.sum((vq + (mq - mp) ** 2) / vp - 1.0 + np.log(vp) - np.log(vq), axis=-1)


def test_rate_one_component_prior_matches_the_closed_form():
    N, d = 5, 2
    enc = _random_encoder(N, d, 1)
    data = np.random.default_rng(2).normal(size=2 ** N)
    p = np.exp(data - logsumexp(data))
    mp, vp = np.array([0.4, -0.7]), np.array([0.5, 2.0])
    mu, lv = enc(2 * _x01(N) - 1)
    ref = float(p @ _kl_gauss(mu, np.exp(lv), mp, vp))
    got = rate(enc, data, prior=(np.zeros(1), mp[None], np.log(vp)[None]))
    assert abs(got.value - ref) < 1e-12 and got.stderr == 0.0
    # the standard component against the closed form of prior=None
    assert abs(rate(enc, data, prior=STANDARD[2]).value - rate(enc, data).value) < 1e-12
    # samples: the sample mean of the per-sample closed form, with its standard error
    s = (2 * _x01(N) - 1)[np.random.default_rng(3).choice(2 ** N, size=300, p=p)]
    kl = _kl_gauss(*(lambda a: (a[0], np.exp(a[1])))(enc(s)), mp, vp)
    got_s = rate(enc, s, prior=(np.zeros(1), mp[None], np.log(vp)[None]))
    assert abs(got_s.value - kl.mean()) < 1e-12
    assert abs(got_s.stderr - kl.std(ddof=1) / math.sqrt(len(kl))) < 1e-12


def test_rate_mixture_prior_matches_quad_1d():
    N = 4
    enc = _random_encoder(N, 1, 4)
    data = np.random.default_rng(5).normal(size=2 ** N)
    p = np.exp(data - logsumexp(data))
    mu, lv = enc(2 * _x01(N) - 1)
    ref = 0.0
    for pk, m, v in zip(p, mu[:, 0], np.exp(lv[:, 0])):
        def f(z, m=m, v=v):
            lq = -0.5 * (z - m) ** 2 / v - 0.5 * math.log(2 * math.pi * v)
            return math.exp(lq) * (lq - math.log(_naive_mixture_pdf(np.array([z]), W1, M1[:, None], V1[:, None])))
        ref += pk * quad(f, m - 14 * math.sqrt(v), m + 14 * math.sqrt(v), epsabs=1e-14, epsrel=1e-12, limit=400)[0]
    got = rate(enc, data, prior=PRIOR_1D, check=True)
    # log p(z) of well separated narrow components converges slowly (complex zeros of p near the real axis):
    # the reported change from n_quad to 2 n_quad bounds the error of the returned, finer, value
    assert abs(got.value - ref) < min(got.quad_error, 1e-5)


def test_rate_monte_carlo_agrees_with_quadrature_and_has_power():
    N, d = 4, 4
    enc = _random_encoder(N, d, 6, scale=0.5)
    data = np.random.default_rng(7).normal(size=2 ** N)
    exact = rate(enc, data, prior=PRIOR_4D, n_quad=8).value  # quadrature on q(z|x), 8**4 nodes
    mc = rate(enc, data, prior=PRIOR_4D, n_draws=2000, seed=0)
    assert mc.stderr > 0 and abs(mc.value - exact) < 4 * mc.stderr
    assert mc.value == rate(enc, data, prior=PRIOR_4D, n_draws=2000, seed=0).value  # the seed alone
    # power: the same estimate against the rate under a slightly different prior
    lw, m, lv = PRIOR_4D
    off = rate(enc, data, prior=(lw, m + 0.05, lv), n_quad=8).value
    assert abs(mc.value - off) > 4 * mc.stderr


# ---- the capacity report -------------------------------------------------------------------------------

def test_capacity_report_follows_and_labels_the_prior():
    N = 5
    dec, enc = _mlp(N, 1, 8), _random_encoder(N, 1, 9)
    data = np.random.default_rng(10).normal(size=2 ** N)
    rep = capacity_report(data, dec, 1, enc, prior=PRIOR_1D)
    model = log_prob_table(dec, N, 1, prior=PRIOR_1D, check=True)
    assert rep.prior == "mixture of 2 diagonal Gaussians" and "prior: mixture of 2" in rep.table()
    assert abs(rep.kl_data_model - model.kl_from(data)) < 1e-12
    assert abs(rep.rate - rate(enc, data, prior=PRIOR_1D, check=True).value) < 1e-12
    assert abs(rep.mi_xz_model - model.mutual_information_xz().value) < 1e-12
    assert rep.chain_holds and rep.to_dict()["prior"] == rep.prior
    base = capacity_report(data, dec, 1, enc)
    assert base.prior == "N(0, I)" and abs(base.kl_data_model - rep.kl_data_model) > 1e-3
    same = capacity_report(data, dec, 1, enc, prior=STANDARD[1])
    assert same.kl_data_model == base.kl_data_model and abs(same.rate - base.rate) < 1e-12
    skipped = capacity_report(data, dec, 1, enc, prior=PRIOR_1D, encoder_mi=False)
    assert skipped.mi_xz_encoder is None and skipped.chain_holds is None and skipped.rate == rep.rate


def test_capacity_report_importance_path_with_mixture_prior():
    dec4 = _z0_decoder(4, 12)
    enc = _random_encoder(4, 4, 13, scale=0.5)
    data = np.random.default_rng(14).normal(size=16)
    a = capacity_report(data, dec4, 4, enc, prior=PRIOR_4D, n_samples=2000, seed=5)
    b = capacity_report(data, dec4, 4, enc, prior=PRIOR_4D, n_samples=2000, seed=5)
    assert a.method == "importance" and a.rate_stderr > 0 and a.rate == b.rate
    assert a.kl_data_model == b.kl_data_model and a.mi_xz_encoder is None


# ---- end to end: a trained VAE with a learned prior ----------------------------------------------------

@pytest.fixture(scope="module")
def mog_vae():
    from fastmf.vae import VAE
    rng = np.random.default_rng(0)
    N = 6
    signs = np.where(rng.random(4000) < 0.3, -1, 1)
    X = np.where(rng.random((4000, N)) < 0.85, signs[:, None], -signs[:, None]).astype(np.int8)
    vae = VAE(latent_dim=1, hidden=(16,), epochs=4, prior="mog", n_components=3, seed=0, progress=False).fit(X)
    return vae, N


def _vae_z_scores(vae, N, prior, n=200_000):
    """The exact table under ``prior`` against Monte Carlo p(x) = mean_z p(x|z) over the VAE's own prior draws."""
    t = log_prob_table(vae.fields, N, 1, prior=prior)
    z = vae.sample_latents(n, seed=1)
    p1 = expit(vae.fields(z))                                 # (n, N)
    X = _x01(N)
    lik = np.exp(np.log(p1) @ X.T + np.log1p(-p1) @ (1 - X).T)  # (n, 2**N) p(x|z)
    mean, se = lik.mean(axis=0), lik.std(axis=0, ddof=1) / math.sqrt(n)
    return (np.exp(t.log_p) - mean) / se


def test_exact_table_of_a_mog_vae_matches_its_generative_monte_carlo(mog_vae):
    vae, N = mog_vae
    assert np.max(np.abs(_vae_z_scores(vae, N, vae.prior_mixture()))) < 4.0


def test_power_the_standard_normal_table_of_the_same_vae_fails(mog_vae):
    vae, N = mog_vae
    assert np.max(np.abs(_vae_z_scores(vae, N, None))) > 4.0
