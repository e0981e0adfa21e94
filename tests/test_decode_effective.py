"""Generalized Hopfield model: energy, save/load, the maximum-likelihood fit in a given pattern span and the exact
fit over the whole family."""
import itertools
import math

import numpy as np
import pytest

from fastmf.decode.effective import (GeneralizedHopfield, _log_partition, fit_generalized_hopfield,
                                     fit_generalized_hopfield_exact)


def naive_log_partition(model):
    """Brute force over all 2**N configurations."""
    s = np.array(list(itertools.product((-1.0, 1.0), repeat=model.N)))
    return float(np.logaddexp.reduce(-model.energy(s)))


def _planted(N=8, P=2, seed=0):
    rng = np.random.default_rng(seed)
    return GeneralizedHopfield(-0.6 + 0.3 * rng.standard_normal(N), 1.2 * rng.choice([-1.0, 1.0], size=(P, N)))


def _exact_samples(model, n, seed):
    s = np.array(list(itertools.product((-1, 1), repeat=model.N)), dtype=np.int8)
    logp = -model.energy(s)
    p = np.exp(logp - logp.max())
    return s[np.random.default_rng(seed).choice(len(s), size=n, p=p / p.sum())]


@pytest.mark.parametrize("P", [1, 2])
def test_grid_partition_function_matches_brute_force(P):
    model = _planted(N=8, P=P)
    axis = np.linspace(-6.0, 6.0, 1201 if P == 2 else 4001)  # the integrand is < e**-40 of its peak beyond 6
    grid = np.array(np.meshgrid(*(axis,) * P, indexing="ij")).reshape(P, -1)
    lz = _log_partition(model.fields, model.patterns, grid)[0]
    lz += P * math.log(axis[1] - axis[0]) + 0.5 * P * math.log(model.N / (2 * math.pi))
    assert lz == pytest.approx(naive_log_partition(model), abs=1e-9)


def test_fit_recovers_planted_model_and_matches_moments():
    """Exact samples (n = 40000) of a planted N = 8, P = 2 model; directions given with 20 % noise added only to
    the scale (the span is exact). At the maximum the model's <s_i> equals the data's (stationarity, to the
    gradient tolerance); couplings come back within the statistical error (~1/sqrt(n) per moment, amplified by
    the inverse Fisher information: a 0.05 bound is ~5 standard errors here)."""
    model = _planted()
    s = _exact_samples(model, 40_000, seed=1)
    fit, info = fit_generalized_hopfield(s, 1.2 * model.patterns)
    assert info["converged"] and info["max_gradient"] < 1e-5 and info["grid_edge_mass"] < 1e-12
    iu = np.triu_indices(model.N, 1)
    assert np.abs(fit.couplings()[iu] - model.couplings()[iu]).max() < 0.05
    assert np.abs(fit.fields - model.fields).max() < 0.05
    # stationarity: model means (brute force) equal the data means
    c = np.array(list(itertools.product((-1.0, 1.0), repeat=model.N)))
    p = np.exp(-fit.energy(c) - naive_log_partition(fit))
    assert np.allclose(p @ c, s.mean(axis=0), atol=1e-5)
    # the log-likelihood it reports is the exact one
    exact_ll = float(np.mean(-fit.energy(s)) - naive_log_partition(fit))
    assert info["log_likelihood_per_sample"] == pytest.approx(exact_ll, abs=1e-6)


def test_fit_corrects_a_wrong_scale():
    """Starting from patterns 1.5 x too strong (what a decoder's density implied on planted data) the fit brings
    the likelihood up to that of the truth's neighbourhood."""
    model = _planted(seed=3)
    s = _exact_samples(model, 20_000, seed=4)
    fit, info = fit_generalized_hopfield(s, model.patterns, fields=model.fields, patterns=1.5 * model.patterns)
    true_ll = float(np.mean(-model.energy(s)) - naive_log_partition(model))
    assert info["log_likelihood_per_sample"] >= true_ll - 1e-9  # the maximum is at least as good as the truth
    scale = np.sum(fit.couplings() * model.couplings()) / np.sum(model.couplings() ** 2)
    assert abs(scale - 1.0) < 0.05


def test_exact_fit_frees_the_directions():
    """The span fit given a wrong direction (pattern 2 replaced by a random vector) is stuck in that span; the exact
    whole-family fit climbs from it to the truth's likelihood and recovers the planted couplings. Started at the
    maximum of a correct span, it moves by no more than the statistical error (the span fit was already
    optimal)."""
    model = _planted(seed=5)
    s = _exact_samples(model, 40_000, seed=6)
    true_ll = float(np.mean(-model.energy(s)) - naive_log_partition(model))
    wrong = np.vstack([model.patterns[0], np.random.default_rng(7).standard_normal(model.N)])
    span, span_info = fit_generalized_hopfield(s, wrong)
    free, info = fit_generalized_hopfield_exact(s, span)
    assert info["converged"] and info["max_gradient"] < 1e-5
    assert info["start_log_likelihood_per_sample"] == pytest.approx(span_info["log_likelihood_per_sample"], abs=1e-9)
    assert span_info["log_likelihood_per_sample"] < true_ll - 0.01       # the wrong span costs likelihood ...
    assert info["log_likelihood_per_sample"] >= true_ll - 1e-9           # ... the free fit wins it back
    iu = np.triu_indices(model.N, 1)
    assert np.abs(free.couplings()[iu] - model.couplings()[iu]).max() < 0.05
    exact_ll = float(np.mean(-free.energy(s)) - naive_log_partition(free))
    assert info["log_likelihood_per_sample"] == pytest.approx(exact_ll, abs=1e-9)
    right, right_info = fit_generalized_hopfield(s, model.patterns)
    _, again = fit_generalized_hopfield_exact(s, right)
    gain = again["log_likelihood_per_sample"] - right_info["log_likelihood_per_sample"]
    assert 0.0 <= gain < 2e-3  # ~ (number of extra parameters) / (2 n) = 16 / 80000


@pytest.mark.parametrize("P", [1, 2])
def test_latent_sampling_matches_brute_force(P):
    """200 000 latent samples of a planted N = 8 model against the exact distribution over its 256 states: a
    chi-square statistic (states with expected count >= 5) within 5 SD of its mean for the degrees of freedom."""
    model = _planted(N=8, P=P, seed=8)
    s = model.sample_latent(200_000, seed=9)
    assert s.shape == (200_000, 8) and s.dtype == np.int8
    assert np.array_equal(s, model.sample_latent(200_000, seed=9))
    c = np.array(list(itertools.product((-1.0, 1.0), repeat=model.N)))
    p = np.exp(-model.energy(c) - naive_log_partition(model))
    keys = ((s > 0).astype(np.int64) * (2 ** np.arange(model.N)[::-1])).sum(axis=1)  # itertools order
    observed = np.bincount(keys, minlength=len(c))
    expected = p * len(s)
    ok = expected >= 5
    chi2 = np.sum((observed[ok] - expected[ok]) ** 2 / expected[ok])
    dof = ok.sum() - 1
    assert abs(chi2 - dof) < 5 * math.sqrt(2 * dof), (chi2, dof)


def test_fit_bad_input():
    with pytest.raises(ValueError, match="spins"):
        fit_generalized_hopfield(np.zeros((10, 4)), np.ones((1, 4)))
    with pytest.raises(ValueError, match="directions"):
        fit_generalized_hopfield(np.ones((10, 4)), np.ones((3, 4)))
    with pytest.raises(ValueError, match="directions"):
        fit_generalized_hopfield(np.ones((10, 4)), np.ones((1, 5)))
    with pytest.raises(ValueError, match="start"):
        fit_generalized_hopfield_exact(np.ones((10, 4)), GeneralizedHopfield(np.zeros(5), np.ones((1, 5))))
    with pytest.raises(ValueError, match="exceeds"):
        fit_generalized_hopfield_exact(np.ones((10, 17)), GeneralizedHopfield(np.zeros(17), np.ones((1, 17))))


def test_save_load_round_trip(tmp_path):
    model = _planted()
    model.save(tmp_path / "gh.npz")
    back = GeneralizedHopfield.load(tmp_path / "gh.npz")
    assert np.array_equal(back.fields, model.fields) and np.array_equal(back.patterns, model.patterns)
    np.savez(tmp_path / "other.npz", spins=np.ones((2, 3)))
    with pytest.raises(ValueError, match="is a fastmf sample file, not a fastmf generalized Hopfield file"):
        GeneralizedHopfield.load(tmp_path / "other.npz")
    with pytest.raises(ValueError, match="patterns"):
        GeneralizedHopfield(np.ones(3), np.ones(2))
