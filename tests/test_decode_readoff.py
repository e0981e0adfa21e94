"""Read-off of mean-field parameters (fastmf.decode.readoff) from hand-built decoders of known parameters.

Tolerances. The exact (1-D) Curie-Weiss read-off is limited by the decoder's own tabulation (monotone cubic on
4001 points, ~1e-4 in log p) and by finite differences: measured ~1e-5 relative, asserted 1e-3. The histogram
read-off is statistical: for a nearly Gaussian peak ``d(beta J)/beta J ~ (1 - beta J) sqrt(2/n)``, ~0.3% at
n = 2e5 (measured 1e-4 - 2e-3), asserted 1% for beta J and 1% of beta J for beta h (relative error of beta h is
meaningless at h = 0). Hopfield patterns from exact decoders are exact: all entries, overlaps 1.
"""
import math
import warnings

import numpy as np
import pytest
from references import inverse_cdf_map
from scipy.special import ndtri

from fastmf.decode import (curie_weiss_readoff, field_samples, generic_readoff, hopfield_readoff,
                           posterior_draws, significant_directions)
from fastmf.exact.decoder import curie_weiss_decoder


def _log2cosh(x):
    a = np.abs(x)
    return a + np.log1p(np.exp(-2.0 * a))


def _gen_hopfield_block(h, xi, block):
    """phi_mu density of the generalized Hopfield model when pattern mu lives on sites ``block == mu`` only."""
    N = len(h)

    def logd(phi, mu):
        m = block == mu
        return -N * phi ** 2 / 2 + _log2cosh(h[m][None, :] + phi[:, None] * xi[m][None, :]).sum(axis=1)
    return logd


def _hopfield_decoder(P, N, beta, seed, field=0.0):
    """g = 2 beta (xi^T phi(z) + h), phi = tanh(A z) + 0.2 A z (invertible, odd)."""
    rng = np.random.default_rng(seed)
    xi = rng.choice(np.array([-1, 1], dtype=np.int8), size=(P, N))
    A = rng.standard_normal((P, P)) / math.sqrt(P) + np.eye(P)
    h = field * rng.standard_normal(N)

    def dec(z):
        u = z @ A.T
        return 2.0 * beta * ((np.tanh(u) + 0.2 * u) @ xi + h)
    return dec, xi, h


class _VAELike:
    def __init__(self, fields, latent_dim):
        self.fields, self.latent_dim = fields, latent_dim


# ---- Curie-Weiss -----------------------------------------------------------------------------------------

CW_CASES = [(100, 0.5, 0.0), (100, 0.8, 0.1), (64, 1.2, -0.05), (100, 1.5, 0.0), (100, 1.5, 0.02)]


@pytest.mark.parametrize("N,beta,h", CW_CASES)
def test_curie_weiss_moments_default(N, beta, h):
    """Maximum likelihood (moment matching) by quadrature over a 1-D prior: exact up to grids (measured 2e-6)."""
    dec = curie_weiss_decoder(N, beta, 1.0, h)
    r = curie_weiss_readoff(dec, latent_dim=1)
    assert r.method == "moments" and r.N == N and r.chi2_dof is None
    assert r.beta_J == pytest.approx(beta, rel=1e-4)
    assert abs(r.beta_h - beta * h) < 1e-4 * beta
    assert r.weights.sum() == pytest.approx(1.0)
    # the fitted family reproduces the sufficient statistics it was fitted to
    grid = np.linspace(-3 * beta - 1, 3 * beta + 1, 40001)
    logq = np.polyval(r.coeffs, grid) + N * _log2cosh(grid / 2)
    q = np.exp(logq - logq.max())
    q /= q.sum()
    assert np.allclose([q @ grid ** 2, q @ grid], r.moments, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("N,beta,h", CW_CASES)
def test_curie_weiss_exact_path(N, beta, h):
    dec = curie_weiss_decoder(N, beta, 1.0, h)
    r = curie_weiss_readoff(dec, latent_dim=1, method="exact")
    assert r.method == "exact" and r.N == N and r.chi2_dof is None
    assert r.beta_J == pytest.approx(beta, rel=1e-3)
    assert abs(r.beta_h - beta * h) < 1e-3 * beta
    assert r.site_spread < 1e-12 and r.residual_rms < 1e-3
    assert r.weights.sum() == pytest.approx(1.0)
    assert np.allclose(np.polyval(r.coeffs, r.g), r.log_q - N * _log2cosh(r.g / 2), atol=1e-2)


@pytest.mark.parametrize("N,beta,h", [(100, 0.8, 0.1), (100, 1.5, 0.02), (64, 0.5, 0.0)])
def test_curie_weiss_histogram_path_2d_latent(N, beta, h):
    dec = curie_weiss_decoder(N, beta, 1.0, h)
    r = curie_weiss_readoff(lambda z: dec(z[:, :1]), latent_dim=2, n_draws=200_000, seed=1, method="histogram")
    assert r.method == "histogram"
    assert r.beta_J == pytest.approx(beta, rel=1e-2)
    assert abs(r.beta_h - beta * h) < 1e-2 * beta
    assert 0.7 < r.chi2_dof < 1.4  # Poisson-consistent fit


def test_curie_weiss_vae_like_object_and_N_override():
    dec = curie_weiss_decoder(50, 0.7, 1.0, 0.05)
    r = curie_weiss_readoff(_VAELike(dec, 1), method="exact")
    assert r.beta_J == pytest.approx(0.7, rel=1e-3)
    r2 = curie_weiss_readoff(_VAELike(dec, 1), N=100, method="exact")  # N enters the formulas only
    assert r2.N == 100 and r2.beta_J != pytest.approx(0.7, rel=1e-2)
    flipped = curie_weiss_readoff(lambda z: dec(-z), latent_dim=1, method="exact")  # decreasing map
    assert flipped.method == "exact" and flipped.beta_J == pytest.approx(r.beta_J, rel=1e-6)
    assert flipped.beta_h == pytest.approx(r.beta_h, rel=1e-5)
    hist = curie_weiss_readoff(dec, latent_dim=1, method="histogram", n_draws=100_000, seed=2)
    assert hist.beta_J == pytest.approx(0.7, rel=1e-2)


def test_curie_weiss_non_monotone_falls_back_to_histogram():
    def dec(z):  # g = z**2 (non-monotone): "auto" uses the histogram, "exact" refuses
        return np.repeat(z[:, :1] ** 2, 10, axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # not Curie-Weiss-like: the fit may be convex
        r = curie_weiss_readoff(dec, latent_dim=1, n_draws=20_000, method="histogram")
    assert r.method == "histogram"
    with pytest.raises(ValueError, match="monotone"):
        curie_weiss_readoff(dec, latent_dim=1, method="exact")


def test_curie_weiss_moments_2d_latent_prior_draws():
    """Monte Carlo moments over prior draws: statistical error ~ (1 - beta J) sqrt(2/n) ~ 1e-3 at n = 2e5."""
    dec = curie_weiss_decoder(100, 0.8, 1.0, 0.1)
    r = curie_weiss_readoff(lambda z: dec(z[:, 1:]), latent_dim=2, n_draws=200_000, seed=3)
    assert r.method == "moments"
    assert r.beta_J == pytest.approx(0.8, rel=1e-2) and abs(r.beta_h - 0.08) < 1e-2 * 0.8


def _collapsed_decoder(N, beta, h):
    """Exact Curie-Weiss basin weights and mean fields, but every basin's field peak collapsed to a point:
    what a trained VAE learns in the ordered phase (see fastmf.decode.curie_weiss)."""
    dec = curie_weiss_decoder(N, beta, 1.0, h)
    z = np.linspace(-8, 8, 160001)
    w = np.exp(-z * z / 2)
    w /= w.sum()
    g = dec(z.reshape(-1, 1)).mean(axis=1)
    w_minus = w[g < 0].sum()
    g_minus, g_plus = (w * g)[g < 0].sum() / w_minus, (w * g)[g > 0].sum() / (1 - w_minus)

    def collapsed(Z, z_cut=ndtri(w_minus)):  # the prior puts mass Phi(z_cut) on the minority basin
        step = 0.5 * (1 + np.tanh((Z[:, :1] - z_cut) / 0.01))
        return np.repeat(g_minus + (g_plus - g_minus) * step, N, axis=1)
    return collapsed, w_minus


def test_curie_weiss_moments_survive_collapsed_basins():
    """N = 256, T = 0.7, h = 1.28/N (minority basin 4.7 %). Dropping the within-basin field variance biases E g**2
    by -Var/E g**2 ~ -1 %, so beta J within 1 % (measured -0.27 %) and beta h within 5 % (measured 1.8 %); the
    density-shape fits fail on the same decoder (histogram: beta J off by a factor ~20; exact: beta h off 80 %)."""
    N, beta, h = 256, 1 / 0.7, 1.28 / 256
    collapsed, w_minus = _collapsed_decoder(N, beta, h)
    assert 0.03 < w_minus < 0.07
    r = curie_weiss_readoff(collapsed, latent_dim=1)
    assert r.beta_J == pytest.approx(beta, rel=1e-2)
    assert r.beta_h == pytest.approx(beta * h, rel=0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        hist = curie_weiss_readoff(collapsed, latent_dim=1, method="histogram")
        exact = curie_weiss_readoff(collapsed, latent_dim=1, method="exact")
    assert abs(hist.beta_J / beta - 1) > 0.5
    assert abs(exact.beta_h / (beta * h) - 1) > 0.5


class _EncoderVAE(_VAELike):
    def __init__(self, fields, mu, logvar):
        super().__init__(fields, mu.shape[1])
        self._mu, self._logvar = mu, logvar

    def encode(self, X):
        return self._mu[: len(X)], self._logvar[: len(X)]


def test_curie_weiss_posterior_draws_weight_basins_like_the_data():
    """The prior under-weights a basin whose latents sit in the prior's tail; posterior draws over the data
    restore the data's weights, and beta h with them."""
    N, beta, h = 256, 1 / 0.7, 1.28 / 256
    collapsed, w_minus = _collapsed_decoder(N, beta, h)
    n = 20_000
    n_minus = int(round(w_minus * n))
    # a "trained" VAE whose decoder's minority basin is z < -2.5 (prior mass 0.6 %, not 4.7 %) and whose
    # encoder puts minority configurations at z = -3
    mu = np.where(np.arange(n) < n_minus, -3.0, 0.5).reshape(-1, 1)
    vae = _EncoderVAE(lambda Z: collapsed(Z, z_cut=-2.5), mu, np.full((n, 1), np.log(0.01)))
    Z = posterior_draws(vae, np.zeros((n, N)), seed=4)
    assert Z.shape == (n, 1) and np.array_equal(Z, posterior_draws(vae, np.zeros((n, N)), seed=4))
    assert np.mean(Z[:, 0] < -2.5) == pytest.approx(n_minus / n, abs=1e-3)
    prior = curie_weiss_readoff(vae, seed=5)
    post = curie_weiss_readoff(vae, Z=Z, seed=5)
    assert post.beta_J == pytest.approx(beta, rel=2e-2)
    assert post.beta_h == pytest.approx(beta * h, rel=0.1)
    assert abs(prior.beta_h / (beta * h) - 1) > 0.5
    assert posterior_draws(vae, np.zeros((n, N)), n_draws=2 * n, seed=4).shape == (2 * n, 1)
    with pytest.raises(TypeError, match="encode"):
        posterior_draws(collapsed, np.zeros((3, N)))
    with pytest.raises(ValueError, match="Z must be"):
        curie_weiss_readoff(vae, Z=Z[:10])
    with pytest.raises(ValueError, match="does not take draws"):
        curie_weiss_readoff(vae, Z=Z, method="exact")


# ---- Hopfield --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("P,N,field", [(2, 100, 0.0), (3, 150, 0.3), (5, 200, 0.0), (5, 100, 0.2)])
def test_hopfield_patterns_recovered_exactly(P, N, field):
    dec, xi, _ = _hopfield_decoder(P, N, 1.3, seed=10 * P + N, field=field)
    r = hopfield_readoff(dec, latent_dim=P, true_patterns=xi, seed=3)
    assert r.patterns.shape == (P, N) and r.patterns.dtype == np.int8
    assert np.all(r.patterns[:, 0] == 1)
    assert sorted(r.match.tolist()) == list(range(P))
    assert np.allclose(r.overlaps, 1.0) and r.fraction_recovered == 1.0
    assert np.array_equal(r.patterns, r.signs[:, None] * xi[r.match])
    assert r.residuals.max() < 1e-20
    assert significant_directions(r.singular_values) == P


def test_hopfield_with_given_P_and_noise():
    P, N = 3, 120
    dec, xi, _ = _hopfield_decoder(P, N, 1.0, seed=7)
    W = np.random.default_rng(8).standard_normal((P, N))
    r = hopfield_readoff(lambda z: dec(z) + 0.3 * np.sin(z @ W), P=P, latent_dim=P, true_patterns=xi, seed=1)
    assert r.fraction_recovered == 1.0 and r.residuals.max() < 0.05


# ---- generic / generalized Hopfield ----------------------------------------------------------------------

@pytest.mark.parametrize("P", [1, 2, 4])
def test_generic_significant_directions_and_mean_fields(P):
    N, beta = 80, 1.1
    dec, xi, h = _hopfield_decoder(P, N, beta, seed=P, field=0.4)
    r = generic_readoff(dec, latent_dim=P, fit=False, n_draws=2000, seed=0)
    assert r.n_significant == P and r.n_patterns == P and r.fields is None
    assert np.allclose(r.mean_fields, beta * h, atol=1e-12)  # odd latent map + antithetic draws
    # patterns span the +-1 patterns, and g - gbar = 2 sum_k patterns_k phi_k with unit mean-square phi_k
    Q = np.linalg.qr(r.patterns.T)[0]
    assert np.allclose(Q @ (Q.T @ xi.T), xi.T, atol=1e-9)
    _, G = field_samples(dec, 2000, 0, latent_dim=P, antithetic=True)
    phi = np.linalg.lstsq(2 * r.patterns.T, (G - G.mean(0)).T, rcond=None)[0]
    assert np.allclose(np.mean(phi ** 2, axis=1), 1.0)


def test_generic_density_fit_curie_weiss():
    N, bJ, bh = 60, 0.8, 0.1
    r = generic_readoff(curie_weiss_decoder(N, bJ, 1.0, bh / bJ), latent_dim=1, n_fit=2000)
    assert r.n_significant == 1
    assert np.allclose(r.couplings, bJ / N, rtol=1e-4)
    assert np.allclose(r.fields, bh, atol=1e-4)
    assert np.allclose(np.abs(r.fit_patterns), math.sqrt(bJ), rtol=1e-4)


@pytest.mark.parametrize("P", [1, 2, 3])
def test_generic_density_fit_generalized_hopfield(P):
    """Real patterns on disjoint site blocks: p(phi) factorizes, so phi = (F_mu^{-1}(Phi(z'_mu))) with z' = R z
    (a rotation keeps N(0, I)) is the exact latent decoder. Fields and couplings must come back."""
    N = 60
    rng = np.random.default_rng(P)
    block = np.arange(N) % P
    xi = 0.6 + 0.5 * rng.random(N)  # site i belongs to pattern block[i]
    h = 0.3 * rng.standard_normal(N)
    logd = _gen_hopfield_block(h, xi, block)
    maps = [inverse_cdf_map(lambda p, mu=mu: logd(p, mu), -3.0, 3.0) for mu in range(P)]
    R = np.linalg.qr(rng.standard_normal((P, P)))[0]

    def dec(z):
        zr = z @ R.T
        phi = np.stack([maps[mu](zr[:, mu]) for mu in range(P)], axis=1)
        return 2.0 * (h + xi * phi[:, block])

    r = generic_readoff(dec, latent_dim=P, n_draws=2000, n_fit=2000, seed=4)
    Xi = np.zeros((P, N))
    Xi[block, np.arange(N)] = xi
    assert r.n_significant == P
    J = Xi.T @ Xi / N
    assert np.abs(r.couplings - J).max() < 1e-4 * np.abs(J).max()  # measured ~3e-6
    assert np.allclose(r.fields, h, atol=1e-5)  # measured ~1e-7
    assert np.allclose(r.fit_patterns.T @ r.fit_patterns / N, r.couplings)
    assert r.fit_residual_rms < 1e-2


def test_significant_directions_rules():
    assert significant_directions([5.0, 3.0, 1e-14, 0.0]) == 2
    assert significant_directions([4.0, 3.0, 2.0]) == 3  # gapless: all
    assert significant_directions([0.0, 0.0]) == 0
    assert significant_directions([1.0, 0.5, 0.01], rtol=0.1) == 2
    assert significant_directions([0.1, 10.0, 9.0]) == 2  # sorted; 0.1 is a 90x gap
    assert significant_directions([0.1, 10.0, 9.0], floor=0.1) == 2
    assert significant_directions([8.0, 10.0, 9.0], floor=0.1) == 3  # gapless above the floor: all
    # a trained float32 network: signal gap 37x at 2, smooth decay, then a rounding floor 1e-8 (not a direction)
    spectrum = np.concatenate([[1.0, 0.9], 0.024 * 0.8 ** np.arange(30), np.full(28, 1.5e-8)])
    assert significant_directions(spectrum) == 2


def test_field_samples_shapes_and_seed():
    dec, _, _ = _hopfield_decoder(2, 30, 1.0, seed=0)
    z, G = field_samples(dec, 10, seed=5, latent_dim=2)
    _, G2 = field_samples(_VAELike(dec, 2), 10, seed=5)
    assert z.shape == (10, 2) and G.shape == (10, 30)
    assert np.array_equal(G, G2)
    za, _ = field_samples(dec, 10, seed=5, latent_dim=2, antithetic=True)
    assert np.array_equal(za[5:], -za[:5])


# ---- bad input -------------------------------------------------------------------------------------------

def test_bad_inputs():
    dec = curie_weiss_decoder(20, 0.5)
    with pytest.raises(ValueError, match="latent_dim is required"):
        field_samples(dec, 10)
    with pytest.raises(TypeError, match="callable"):
        field_samples(3.0, 10, latent_dim=1)
    with pytest.raises(ValueError, match="disagrees"):
        field_samples(_VAELike(dec, 1), 10, latent_dim=2)
    with pytest.raises(ValueError, match="shape"):
        field_samples(lambda z: np.zeros(len(z)), 10, latent_dim=1)
    with pytest.raises(ValueError, match="non-finite"):
        field_samples(lambda z: np.full((len(z), 3), np.nan), 10, latent_dim=1)
    with pytest.raises(ValueError, match="even"):
        field_samples(dec, 11, latent_dim=1, antithetic=True)
    with pytest.raises(ValueError, match="seed"):
        field_samples(dec, 10, seed=None, latent_dim=1)
    with pytest.raises(ValueError, match="n_draws"):
        field_samples(dec, 0, latent_dim=1)
    with pytest.raises(TypeError):
        field_samples(dec, 2.5, latent_dim=1)
    with pytest.raises(ValueError, match="method"):
        curie_weiss_readoff(dec, latent_dim=1, method="kde")
    with pytest.raises(ValueError, match="latent_dim == 1"):
        curie_weiss_readoff(lambda z: dec(z[:, :1]), latent_dim=2, method="exact")
    with pytest.raises(ValueError, match="does not vary"):
        curie_weiss_readoff(lambda z: np.zeros((len(z), 4)), latent_dim=2, n_draws=1000)
    with pytest.raises(ValueError, match="z_max"):
        curie_weiss_readoff(dec, latent_dim=1, z_max=-1.0)
    with pytest.raises(ValueError, match="singular_values"):
        significant_directions([1.0, -1.0])
    with pytest.raises(ValueError, match="singular_values"):
        significant_directions([])
    with pytest.raises(ValueError, match="floor"):
        significant_directions([1.0], floor=1.0)
    with pytest.raises(ValueError, match="do not vary"):
        hopfield_readoff(lambda z: np.ones((len(z), 5)), latent_dim=1, n_draws=50)
    hdec, xi, _ = _hopfield_decoder(2, 40, 1.0, seed=1)
    with pytest.raises(ValueError, match="true_patterns"):
        hopfield_readoff(hdec, latent_dim=2, true_patterns=xi[:, :10])
    with pytest.raises(ValueError, match="true_patterns"):
        hopfield_readoff(hdec, latent_dim=2, true_patterns=2 * xi)
    with pytest.raises(ValueError, match="P must be"):
        hopfield_readoff(hdec, P=0, latent_dim=2)
    with pytest.raises(ValueError, match="latent_dim == n_patterns"):
        generic_readoff(hdec, n_patterns=1, latent_dim=2, fit=True)
