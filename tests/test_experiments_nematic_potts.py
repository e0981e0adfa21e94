"""Nematic read-off (hand-built decoders with known tensor and beta J) and the quick Maier-Saupe and Potts
experiments end to end."""

import numpy as np
import pytest

from fastmf.decode.nematic import (_beta_J_ml, _beta_J_projection, decoder_order_tensor, expected_trace_Q2,
                                   fit_field_tensor, icosahedral_axes, maier_saupe_readoff)
from fastmf.exact.maier_saupe import axes_log_weights, order_parameter, traceless_basis


def _axes12():
    g = (1.0 + np.sqrt(5.0)) / 2.0  # 6 icosahedral + 6 more generic axes: an over-determined fit
    extra = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1], [1, -1, 0.3], [0.2, g, -1]], float)
    return np.concatenate([icosahedral_axes(), extra / np.linalg.norm(extra, axis=1, keepdims=True)])


@pytest.mark.parametrize("axes", [icosahedral_axes(), _axes12()], ids=["6 axes", "12 axes"])
def test_tensor_recovered_exactly(axes):
    """A decoder built from a known linear map z -> X(z) and a known beta J: A(z) = beta J X(z) exactly."""
    N, bj = 7, 3.7
    W = np.random.default_rng(0).standard_normal((5, 5)) * 0.3
    B = traceless_basis()

    def X_of(Z):
        return np.einsum("nk,kab->nab", Z @ W, B)

    def decoder(Z):
        L = axes_log_weights(X_of(Z), axes, bj) + Z[:, :1] * 0.7  # arbitrary per-draw constant
        return np.repeat(L[:, None, :], N, axis=1)

    r = maier_saupe_readoff(decoder, axes, n_draws=300, seed=1, latent_dim=5)
    Z = np.random.default_rng(1).standard_normal((300, 5))
    np.testing.assert_allclose(r.A, bj * X_of(Z), atol=1e-10)
    assert r.residual.max() < 1e-10 and r.N == N
    Q, _ = decoder_order_tensor(decoder(Z), axes)
    np.testing.assert_allclose(r.S_field, np.linalg.eigvalsh(Q)[:, -1], atol=1e-12)
    # S convention = fastmf.exact.maier_saupe: a one-hot decoder yields the order parameter of that configuration
    u = axes[np.arange(N) % len(axes)]
    onehot = np.full((1, N, len(axes)), -1e3)
    onehot[0, np.arange(N), np.arange(N) % len(axes)] = 0.0
    Q1, _ = decoder_order_tensor(onehot, axes)
    assert abs(np.linalg.eigvalsh(Q1)[0, -1] - order_parameter(u)) < 1e-9
    with pytest.raises(ValueError, match="D >= 6"):
        fit_field_tensor(np.zeros((2, 5)), axes[:5])


def test_mean_field_saddle_decoder_gives_beta_J_exactly():
    """A decoder whose every draw is a self-consistent saddle point X* = Q_dec(beta J X*) (any of the 6 ordered
    states): the mean-field ratio estimator returns beta J exactly and S_field is the saddle's S."""
    axes, bj, N = icosahedral_axes(), 4.2, 5
    T = (3.0 * np.einsum("da,db->dab", axes, axes) - np.eye(3)) / 2.0
    X = T[0].copy()
    for _ in range(500):
        X, _ = decoder_order_tensor(axes_log_weights(X, axes, bj)[None, None], axes)
        X = X[0]
    rot = [T[d] * 0 for d in range(6)]
    for d in range(6):  # the same saddle along axis d (the 6 axes are equivalent)
        s = np.linalg.eigvalsh(X)[-1]
        rot[d] = s * T[d]
    rot = np.array(rot)

    def decoder(Z):
        k = (np.abs(Z[:, 0] * 1000).astype(int)) % 6
        return np.repeat(axes_log_weights(rot[k], axes, bj)[:, None, :], N, axis=1)

    r = maier_saupe_readoff(decoder, axes, n_draws=200, seed=0, latent_dim=1)
    assert abs(r.beta_J_mf - bj) < 1e-9
    np.testing.assert_allclose(r.S_field, np.linalg.eigvalsh(X)[-1], atol=1e-9)


@pytest.mark.parametrize("bj", [2.5, 4.5])
def test_exact_latent_decoder_gives_beta_J(bj):
    """A decoder whose latent push-forward is the exact p(X) (quantile lookup into exact latent samples): the
    finite-N identity returns beta J up to Monte Carlo error, in both phases, and <S> of the data."""
    from scipy.stats import norm

    from fastmf.sampling.latent_maier_saupe import sample_axes_given_latent, sample_latent
    axes, N = icosahedral_axes(), 12
    X = sample_latent(bj, 1.0, N, 6000, seed=3, axes=axes)

    def decoder(Z):
        k = np.minimum((norm.cdf(Z[:, 0]) * len(X)).astype(int), len(X) - 1)
        return np.repeat(axes_log_weights(X[k], axes, bj)[:, None, :], N, axis=1)

    r = maier_saupe_readoff(decoder, axes, n_draws=6000, seed=4, latent_dim=1)
    assert abs(r.beta_J - bj) / bj < 0.03
    assert abs(r.beta_J_ml - bj) / bj < 0.03 and abs(r.beta_J_proj - bj) / bj < 0.03
    states = sample_axes_given_latent(X, axes, bj, N, seed=5)
    S_data = order_parameter(axes[states.astype(int)]).mean()
    assert abs(r.S_mean - S_data) < 0.02


def naive_expected_trace_Q2(beta_J, N, axes):
    """Brute force over all D**N configurations: p(u) ~ exp((beta J N / 3) Tr Q_u**2)."""
    import itertools
    T = (3.0 * np.einsum("da,db->dab", axes, axes) - np.eye(3)) / 2.0
    tr = []
    for u in itertools.product(range(len(axes)), repeat=N):
        Q = T[list(u)].mean(axis=0)
        tr.append(np.sum(Q * Q))
    tr = np.array(tr)
    w = np.exp(beta_J * N / 3.0 * (tr - tr.max()))
    return float(w @ tr / w.sum())


@pytest.mark.parametrize("bj,N", [(0.5, 3), (3.0, 5), (6.0, 5)])
def test_expected_trace_Q2_against_brute_force(bj, N):
    axes = icosahedral_axes()
    assert expected_trace_Q2(bj, N, axes) == pytest.approx(naive_expected_trace_Q2(bj, N, axes), rel=1e-10)


def test_maximum_likelihood_beta_J_inverts_the_exact_moments():
    axes, N = icosahedral_axes(), 40
    for bj in (1.0, 3.0, 4.5):
        trq2 = expected_trace_Q2(bj, N, axes)
        assert _beta_J_projection(trq2, N, axes) == pytest.approx(bj, rel=1e-8)
        assert _beta_J_ml(bj * bj * trq2 + 7.5 * bj / N, N, axes) == pytest.approx(bj, rel=1e-8)
    with pytest.raises(ValueError, match="equiangular"):
        expected_trace_Q2(1.0, 10, _axes12())
    with pytest.raises(ValueError, match="N <="):
        expected_trace_Q2(1.0, 10_000, axes)
    assert np.isnan(_beta_J_ml(1.0, 10, _axes12())) and np.isnan(_beta_J_projection(-1.0, 10, axes))
