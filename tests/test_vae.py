"""The lean VAE: hand-written likelihood gradients against pure autograd, training, files, resume, errors."""
import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad, value_and_grad
from autograd.scipy.special import logsumexp

from fastmf.exact.meanfield import curie_weiss_exact
from fastmf.sampling.latent import sample_curie_weiss
from fastmf.vae import VAE, nets, priors
from fastmf.vae import layers as ly
from fastmf.vae import likelihood as lk
from fastmf.vae.step import DenseBernoulliStep


# ------------------------------------------------------------------------------ naive (pure autograd) references
def naive_bernoulli(g, x):
    return anp.sum(x * g - anp.logaddexp(0.0, g), axis=1)


def naive_tempered(h, t, x):
    return naive_bernoulli(h / (1.0 + anp.exp(-t)), x)


def naive_categorical(g, x):
    onehot = np.eye(g.shape[2])[x]
    return anp.sum(anp.sum(onehot * g, axis=2) - logsumexp(g, axis=2), axis=1)


def naive_gaussian(mean, logvar, x):
    return -0.5 * anp.sum((x - mean) ** 2 * anp.exp(-logvar) + logvar + np.log(2 * np.pi), axis=1)


def rel_err(a, b):
    return np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300)


RNG = np.random.default_rng(0)
B, N, Q = 7, 11, 4


def _cases():
    x01 = RNG.integers(0, 2, size=(B, N)).astype(np.float64)
    g = RNG.normal(size=(B, N)) * 4
    g[0, :3] = [40.0, -40.0, 0.0]  # saturated logits stay finite
    states = RNG.integers(0, Q, size=(B, N))
    return [
        ("bernoulli", ly.bernoulli_ll, naive_bernoulli, (g, x01), 1),
        ("tempered", lk.tempered_ll, naive_tempered, (g, RNG.normal(size=(B, N)) * 2, x01), 2),
        ("categorical", lk.categorical_ll, naive_categorical, (RNG.normal(size=(B, N, Q)) * 3, states), 1),
        ("gaussian", lk.gaussian_ll, naive_gaussian, (RNG.normal(size=(B, N)), RNG.normal(size=(B, N)),
                                                      RNG.normal(size=(B, N))), 2),
    ]


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c[0])
def test_likelihood_kernels_and_gradients_equal_autograd(case):
    name, fast, naive, args, n_diff = case
    up = RNG.normal(size=B)
    np.testing.assert_allclose(fast(*args), naive(*args), rtol=1e-12, atol=1e-12)
    for k in range(n_diff):
        g_fast = grad(lambda a: anp.sum(up * fast(*args[:k], a, *args[k + 1:])))(args[k])
        g_naive = grad(lambda a: anp.sum(up * naive(*args[:k], a, *args[k + 1:])))(args[k])
        assert rel_err(g_fast, g_naive) <= 1e-8, (name, k)


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c[0])
def test_float32_kernels_track_float64(case):
    name, fast, naive, args, n_diff = case
    args32 = tuple(a.astype(np.float32) if a.dtype == np.float64 else a for a in args)
    out = fast(*args32)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, fast(*args), rtol=1e-5, atol=1e-4)


def naive_loss(params, x_in, x, eps, beta, decoder, n_sites, trunk=None):
    """The beta-VAE loss in plain autograd.numpy on the parameter dict (no fused primitives)."""
    h = trunk(params, x_in) if trunk is not None else x_in
    k = 0
    while f"enc{k}.W" in params:
        h = anp.tanh(anp.dot(h, params[f"enc{k}.W"]) + params[f"enc{k}.b"])
        k += 1
    o = anp.dot(h, params["head.W"]) + params["head.b"]
    d = o.shape[1] // 2
    mu, logvar = o[:, :d], o[:, d:]
    h = mu + anp.exp(0.5 * logvar) * eps
    k = 0
    while f"dec{k}.W" in params:
        h = anp.tanh(anp.dot(h, params[f"dec{k}.W"]) + params[f"dec{k}.b"])
        k += 1
    out = anp.dot(h, params["out.W"]) + params["out.b"]
    if decoder == "bernoulli":
        ll = naive_bernoulli(out, x)
    elif decoder == "beta2":
        ll = naive_tempered(out, anp.dot(h, params["temp.W"]) + params["temp.b"], x)
    elif decoder == "categorical":
        ll = naive_categorical(anp.reshape(out, (out.shape[0], n_sites, -1)), x)
    else:
        ll = naive_gaussian(out, out * 0 + params["logvar_x"], x)
    kl = 0.5 * anp.sum(mu * mu + anp.exp(logvar) - 1.0 - logvar, axis=1)
    return anp.mean(-ll + beta * kl)


@pytest.mark.parametrize("decoder, mean_field, conv", [("bernoulli", False, False), ("bernoulli", True, False),
                                                       ("beta2", False, False), ("categorical", False, False),
                                                       ("gaussian", False, False), ("bernoulli", False, True)])
def test_whole_loss_gradient_equals_pure_autograd(decoder, mean_field, conv):
    """The gradient of the full beta-VAE loss through the fused primitives and kernels (with respect to the
    flat parameter vector) equals the one autograd derives from the plain expression."""
    from fastmf.vae.conv import conv_apply, conv_init
    rng = np.random.default_rng(3)
    q = 3 if decoder == "categorical" else 1
    shape = (4, 3)  # N = 12 sites for the conv case
    n = 12 if conv else N
    trunk = trunk_params = None
    if conv:
        layers, n_in = conv_init(rng, shape, (2, 3))
        trunk_params = {f"conv{k}.{w}": layer[w] for k, layer in enumerate(layers) for w in ("W", "b")}

        def trunk(p, x):
            return conv_apply([{"W": p[f"conv{k}.W"], "b": p[f"conv{k}.b"]} for k in range(2)], x, shape)
    else:
        n_in = n * q
    params = nets.init_params(rng, n_in, n, q, 2, (8,), () if mean_field else (8,), decoder, np.float64,
                              trunk_params)
    for k in params:
        params[k] = params[k] + 0.1 * rng.normal(size=params[k].shape)
    if decoder == "categorical":
        x = rng.integers(0, q, size=(B, n))
        x_in = np.eye(q)[x].reshape(B, n * q)
    elif decoder == "gaussian":
        x = x_in = rng.normal(size=(B, n))
    else:
        x_in = rng.choice([-1.0, 1.0], size=(B, n))
        x = (x_in + 1) / 2
    eps = rng.normal(size=(B, 2))
    layout = nets.Layout(params)
    theta = layout.pack(params, np.float64)
    value = nets.loss(theta, layout, x_in, x, eps, 1.7, decoder, n, trunk)
    assert value == pytest.approx(naive_loss(params, x_in, x, eps, 1.7, decoder, n, trunk), rel=1e-12)
    fast = grad(nets.loss)(theta, layout, x_in, x, eps, 1.7, decoder, n, trunk)
    slow = layout.pack(grad(naive_loss)(params, x_in, x, eps, 1.7, decoder, n, trunk), np.float64)
    assert rel_err(fast, slow) <= 1e-8


# ------------------------------------------------------------------------------ training against exact results
def model_magnetization_distribution(vae, n_quad=200):
    """Exact P(M) of the trained generative model (one latent): at each Gauss-Hermite node z of each component of
    the prior mixture the sites are independent Bernoulli(p_i(z)), so M follows a Poisson-binomial law (dynamic
    programming), then the nodes are summed with their weights."""
    t, w = np.polynomial.hermite_e.hermegauss(n_quad)
    logw, means, logvars = vae.prior_mixture()
    z = (means[:, :1] + np.exp(0.5 * logvars[:, :1]) * t[None, :]).ravel()
    w = (np.exp(logw)[:, None] * (w / w.sum())[None, :]).ravel()
    n_quad = len(z)
    p = vae.decode(z[:, None]).reshape(n_quad, -1)
    N = p.shape[1]
    dist = np.zeros((n_quad, N + 1))
    dist[:, 0] = 1.0
    for i in range(N):
        dist[:, 1:] = dist[:, 1:] * (1 - p[:, i:i + 1]) + dist[:, :-1] * p[:, i:i + 1]
        dist[:, 0] *= 1 - p[:, i]
    return w @ dist  # index = number of up spins, M = 2 n - N


def kl(p, q):
    m = p > 0
    return float(np.sum(p[m] * np.log(p[m] / q[m])))


@pytest.fixture(scope="module")
def curie_weiss_vae():
    N, beta = 32, 1.2
    spins = sample_curie_weiss(N, beta, n_samples=20000, seed=1)[0]
    vae = VAE(latent_dim=1, hidden=(64,), epochs=25, lr=3e-3, seed=0).fit(spins)
    return vae, N, beta


def test_vae_reproduces_curie_weiss_magnetization(curie_weiss_vae):
    """Exact KL(P_exact(M) || P_model(M)) of the trained one-latent VAE, N = 32, beta J = 1.2 (ordered phase,
    two peaks). Threshold: the KL between Curie-Weiss at beta and at 1.05 beta (0.032 nats), i.e. the VAE's
    magnetization law must be closer to the truth than a Curie-Weiss model 5 % off in temperature (measured:
    0.015 nats, like a model 3.5 % off). For scale, the training set's own empirical histogram is at 7e-4 and
    the affine (mean-field) decoder, whose fields are Gaussian in z and so cannot be bimodal, at 0.07."""
    vae, N, beta = curie_weiss_vae
    exact = curie_weiss_exact(N, beta).probs
    model = model_magnetization_distribution(vae)
    assert abs(model.sum() - 1) < 1e-9
    threshold = kl(exact, curie_weiss_exact(N, 1.05 * beta).probs)
    assert 0.02 < threshold < 0.05
    assert kl(exact, model) < threshold
    # the generated samples agree too (sampling noise of 20000 draws: ~ N / (2 n) = 8e-4)
    gen = vae.sample(20000, seed=5)
    hist = np.bincount((gen.sum(axis=1) + N) // 2, minlength=N + 1) / len(gen)
    assert kl(exact, np.maximum(hist, 1e-12)) < 0.03


def test_history_reports_rate_and_distortion(curie_weiss_vae):
    vae = curie_weiss_vae[0]
    h = vae.history_
    assert len(h) == 25 and all({"rate", "distortion", "val_rate", "val_distortion"} <= set(r) for r in h)
    assert h[-1]["distortion"] < h[0]["distortion"]
    assert 0.3 < h[-1]["rate"] < 3.0  # one latent carrying the magnetization: about ln(sqrt(N)) nats
    x = sample_curie_weiss(32, 1.2, n_samples=500, seed=9)[0]
    assert np.mean(vae.iwae(x, k=50)) >= np.mean(vae.elbo(x)) - 0.05
    # the rate under the model's (learned) prior: -H[q] - E_q log p(z), here with draws made by hand
    mu, lv = vae.encode(x[:40])
    z = mu + np.exp(0.5 * lv) * np.random.default_rng(1).standard_normal((2000, 40, 1))
    by_hand = -0.5 * np.sum(lv + 1 + np.log(2 * np.pi), axis=1) - np.mean(
        vae.log_prior(z.reshape(-1, 1)).reshape(2000, 40), axis=0)
    rate, se = vae.rate(x[:40], n_draws=2000, seed=2, return_stderr=True)
    assert np.all(np.abs(rate - by_hand) < 5 * np.sqrt(2) * se)


def test_save_load_round_trip(curie_weiss_vae, tmp_path):
    vae = curie_weiss_vae[0]
    vae.save(tmp_path / "m.npz")
    back = VAE.load(tmp_path / "m.npz")
    x = sample_curie_weiss(32, 1.2, n_samples=50, seed=2)[0]
    for a, b in zip(vae.encode(x), back.encode(x)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(vae.sample(40, seed=1), back.sample(40, seed=1))
    assert back.history_ == vae.history_
    (tmp_path / "bad.npz").write_bytes(b"not a file")
    with pytest.raises(ValueError, match=r"bad\.npz.* not a \.npz archive"):
        VAE.load(tmp_path / "bad.npz")


# resuming a checkpoint bit for bit, with every prior and dtype: tests/test_vae_priors.py


def test_nan_stops_with_last_good_parameters():
    x = sample_curie_weiss(16, 1.1, n_samples=300, seed=4)[0]
    vae = VAE(latent_dim=1, hidden=(8,), epochs=3, seed=0, lr=1e300, optimizer="sgd")
    with pytest.raises(FloatingPointError, match="non-finite"):
        vae.fit(x)
    assert all(np.isfinite(v).all() for v in vae.params_.values())


@pytest.mark.parametrize("decoder", ["categorical", "gaussian", "beta2", "nematic"])
def test_other_decoders_train(decoder):
    rng = np.random.default_rng(1)
    axes = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1.0]])
    if decoder == "categorical":
        x = np.repeat(rng.integers(0, 3, size=(400, 1)), 10, axis=1).astype(np.uint8)  # polarized states
    elif decoder == "gaussian":
        x = rng.normal(size=(400, 1)) + 0.1 * rng.normal(size=(400, 10))
    elif decoder == "nematic":
        x = axes[np.repeat(rng.integers(0, 3, size=(400, 1)), 10, axis=1)] * rng.choice([-1, 1], (400, 10, 1))
    else:
        x = np.repeat(rng.choice([-1, 1], size=(400, 1)), 10, axis=1).astype(np.int8)
    vae = VAE(latent_dim=2, hidden=(16,), decoder=decoder, axes=axes if decoder == "nematic" else None,
              epochs=15, lr=1e-2, seed=1).fit(x)
    assert vae.history_[-1]["distortion"] < 0.7 * vae.history_[0]["distortion"]
    s = vae.sample(5, seed=0)
    assert s.shape == (5,) + x.shape[1:]
    assert s.dtype == {"categorical": np.uint8, "gaussian": np.float64, "beta2": np.int8,
                       "nematic": np.float64}[decoder]
    if decoder == "beta2":
        t = vae.fields(np.zeros((3, 2)))
        assert t.shape == (3, 10)


@pytest.mark.parametrize("make, message", [
    (lambda: VAE().fit(np.array([[0, 1, 1]], np.int8)), "±1"),
    (lambda: VAE().fit(np.array([[1.0, -1.0]])), "±1"),
    (lambda: VAE(decoder="gaussian").fit(np.array([[np.nan, 1.0]])), "finite"),
    (lambda: VAE().fit(np.zeros((0, 5), np.int8)), "non-empty"),
    (lambda: VAE(latent_dim=0), "latent_dim"),
    (lambda: VAE(decoder="poisson"), "decoder"),
    (lambda: VAE(decoder="nematic"), "axes"),
    (lambda: VAE(decoder="categorical", n_states=3).fit(np.array([[0, 5]], np.uint8)), "0..2"),
    (lambda: VAE().encode(np.ones((2, 3), np.int8)), "not fitted"),
])
def test_bad_input(make, message):
    with pytest.raises((ValueError, RuntimeError), match=message):
        make()


def test_conv_encoder_on_lattice_data():
    rng = np.random.default_rng(2)
    up = np.ones((100, 8, 8), np.int8)
    x = np.concatenate([up, -up, rng.choice(np.array([-1, 1], np.int8), size=(100, 8, 8))])
    vae = VAE(latent_dim=2, hidden=(16,), encoder="conv", conv_channels=(4, 8), epochs=8, lr=3e-3, seed=0).fit(x)
    assert vae.history_[-1]["distortion"] < vae.history_[0]["distortion"]
    assert vae.sample(3).shape == (3, 8, 8)
    mu, _ = vae.encode(x[:2])
    assert mu.shape == (2, 2)
    with pytest.raises(ValueError, match="lattice data"):
        VAE(encoder="conv").fit(np.ones((5, 9), np.int8))


def test_parallel_and_serial_kernels_agree_bitwise():
    from fastmf.kernels import vae_cpu as k
    rng = np.random.default_rng(8)
    for dtype in (np.float32, np.float64):
        g = (rng.normal(size=(300, 400)) * 3).astype(dtype)  # 120 000 >= PARALLEL_MIN_SIZE elements
        x = rng.integers(0, 2, size=g.shape).astype(dtype)
        assert g.size >= k.PARALLEL_MIN_SIZE
        for a, b in zip(k._bernoulli_ll_resid_parallel(g, x, False), k._bernoulli_ll_resid_serial(g, x, False)):
            np.testing.assert_array_equal(a, b)
        for a, b in zip(k.bernoulli_ll_resid(g, 2 * x - 1, pm1=True), k.bernoulli_ll_resid(g, x)):
            np.testing.assert_array_equal(a, b)  # ±1 spins read as (s + 1) / 2
        ll, r = k.bernoulli_ll_resid(g, x)
        np.testing.assert_allclose(ll, k.bernoulli_ll(g, x), rtol=1e-5 if dtype == np.float32 else 1e-13)
        np.testing.assert_allclose(r, k.bernoulli_grad(g, x, np.ones(300, dtype)), atol=1e-6)
        p1, p2 = (rng.normal(size=70000).astype(dtype) for _ in range(2))
        state = [p1.copy(), np.zeros_like(p1), np.zeros_like(p1)]
        other = [p1.copy(), np.zeros_like(p1), np.zeros_like(p1)]
        k._adam_parallel(state[0], p2, state[1], state[2], 1e-3, 0.9, 0.999, 0.001, 1e-8)
        k._adam_serial(other[0], p2, other[1], other[2], 1e-3, 0.9, 0.999, 0.001, 1e-8)
        for a, b in zip(state, other):
            np.testing.assert_array_equal(a, b)


def test_early_stopping_keeps_the_best_parameters():
    x = sample_curie_weiss(16, 1.1, n_samples=400, seed=6)[0]
    # a constant step size: with the cosine schedule the steps depend on the number of epochs asked for
    vae = VAE(latent_dim=1, hidden=(16,), epochs=200, lr=3e-2, patience=2, seed=0, lr_schedule="constant").fit(x)
    h = vae.history_
    best = min(range(len(h)), key=lambda k: h[k]["val_loss"])
    assert len(h) < 200 and len(h) - 1 - best == 2  # stopped two epochs after the best validation loss
    ref = VAE(latent_dim=1, hidden=(16,), epochs=best + 1, lr=3e-2, seed=0, lr_schedule="constant").fit(x)
    np.testing.assert_array_equal(vae.theta_, ref.theta_)  # the parameters of the best epoch


# The autograd-free training step of the default model (fastmf.vae.step) returns autograd's loss, report and
# gradient bit for bit (an independent reference: autograd differentiates the same loss).
@pytest.mark.parametrize("prior", ["normal", "mog", "vamp"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("N, B, hidden, dec_hidden", [(300, 128, (32,), (32,)), (30, 17, (8, 5), ()),
                                                      (40, 6, (16,), (8,))])  # B = K: separate buffers
def test_fused_step_equals_autograd_bitwise(prior, dtype, N, B, hidden, dec_hidden):
    rng = np.random.default_rng(1)
    spins = rng.choice(np.array([-1, 1], np.int8), size=(200, N))
    x_in = spins.astype(dtype)
    params = nets.init_params(rng, N, N, 1, 2, hidden, dec_hidden, "bernoulli", dtype)
    params.update(priors.init_prior(rng, prior, 6, 2, x_in, dtype))
    layout = nets.Layout(params)
    theta = layout.pack(params, dtype) + (0.1 * rng.normal(size=layout.size)).astype(dtype)
    step = DenseBernoulliStep(layout, prior, spins)
    for _ in range(2):  # the second call reuses the step's arrays
        idx = rng.permutation(200)[:B]
        eps = rng.normal(size=(B, 2)).astype(dtype)
        want_report, got_report = {}, {}
        want, want_grad = value_and_grad(nets.loss)(theta, layout, x_in[idx], None, eps, 0.8, "bernoulli", N, None,
                                                    want_report, prior)
        got, got_grad = step(theta, idx, eps, 0.8, got_report)
        assert got == want and got.dtype == want.dtype and got_report == want_report
        np.testing.assert_array_equal(got_grad, want_grad)
