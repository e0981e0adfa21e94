"""Generalized Hopfield model: energy, save/load, the maximum-likelihood fit in a given pattern span and the exact
fit over the whole family."""
import math

import numpy as np
import pytest
from references import all_configurations, generalized_hopfield_log_partition, generalized_hopfield_probabilities

from fastmf.decode.effective import (GeneralizedHopfield, _log_partition, fit_generalized_hopfield,
                                     fit_generalized_hopfield_exact)


def naive_log_partition(model):
    """ln Z by plain loops over all 2**N configurations, from the textbook energy (tests/references.py)."""
    return generalized_hopfield_log_partition(model.fields, model.patterns)


def naive_probabilities(model):
    """P(s) of every configuration in references.all_configurations order (row r: s_i = +1 where bit i of r)."""
    return generalized_hopfield_probabilities(model.fields, model.patterns)


def state_index(s):
    """Row of references.all_configurations holding each configuration of ``s`` (n, N)."""
    return ((np.asarray(s) > 0).astype(np.int64) << np.arange(s.shape[1])).sum(axis=1)


def naive_log_likelihood(model, s):
    """Mean ln P(s) of the samples under the exact (plain-loop) table of ``model``."""
    return float(np.mean(np.log(naive_probabilities(model))[state_index(s)]))


def _planted(N=8, P=2, seed=0):
    rng = np.random.default_rng(seed)
    return GeneralizedHopfield(-0.6 + 0.3 * rng.standard_normal(N), 1.2 * rng.choice([-1.0, 1.0], size=(P, N)))


def _exact_samples(model, n, seed):
    """n independent draws from the exact (plain-loop) table. The states are listed site 0 most significant,
    -1 before +1 (itertools.product order, that of the draws these tests were written with: the fits below stop
    on a gradient tolerance, which depends on the particular sample)."""
    s = all_configurations(model.N)[:, ::-1].astype(np.int8)
    return s[np.random.default_rng(seed).choice(len(s), size=n, p=naive_probabilities(model)[state_index(s)])]


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
    c = all_configurations(model.N)
    assert np.allclose(naive_probabilities(fit) @ c, s.mean(axis=0), atol=1e-5)
    # the log-likelihood it reports is the exact one
    exact_ll = naive_log_likelihood(fit, s)
    assert info["log_likelihood_per_sample"] == pytest.approx(exact_ll, abs=1e-6)


def test_fit_corrects_a_wrong_scale():
    """Starting from patterns 1.5 x too strong (what a decoder's density implied on planted data) the fit brings
    the likelihood up to that of the truth's neighbourhood."""
    model = _planted(seed=3)
    s = _exact_samples(model, 20_000, seed=4)
    fit, info = fit_generalized_hopfield(s, model.patterns, fields=model.fields, patterns=1.5 * model.patterns)
    true_ll = naive_log_likelihood(model, s)
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
    true_ll = naive_log_likelihood(model, s)
    wrong = np.vstack([model.patterns[0], np.random.default_rng(7).standard_normal(model.N)])
    span, span_info = fit_generalized_hopfield(s, wrong)
    free, info = fit_generalized_hopfield_exact(s, span)
    assert info["converged"] and info["max_gradient"] < 1e-5
    assert info["start_log_likelihood_per_sample"] == pytest.approx(span_info["log_likelihood_per_sample"], abs=1e-9)
    assert span_info["log_likelihood_per_sample"] < true_ll - 0.01       # the wrong span costs likelihood ...
    assert info["log_likelihood_per_sample"] >= true_ll - 1e-9           # ... the free fit wins it back
    iu = np.triu_indices(model.N, 1)
    assert np.abs(free.couplings()[iu] - model.couplings()[iu]).max() < 0.05
    exact_ll = naive_log_likelihood(free, s)
    assert info["log_likelihood_per_sample"] == pytest.approx(exact_ll, abs=1e-9)
    right, right_info = fit_generalized_hopfield(s, model.patterns)
    _, again = fit_generalized_hopfield_exact(s, right)
    gain = again["log_likelihood_per_sample"] - right_info["log_likelihood_per_sample"]
    assert 0.0 <= gain < 2e-3  # ~ (number of extra parameters) / (2 n) = 16 / 80000


def test_energy_is_the_textbook_formula():
    """GeneralizedHopfield.energy against -h.s - (1/2N) sum_mu (xi^mu . s)^2 by plain loops (tests/references.py):
    the same Boltzmann table."""
    model = _planted(N=8, P=2, seed=8)
    c = all_configurations(model.N)
    logp = -model.energy(c)
    np.testing.assert_allclose(np.exp(logp - logp.max()) / np.exp(logp - logp.max()).sum(),
                               naive_probabilities(model), rtol=1e-12, atol=0)


@pytest.fixture(scope="module", params=[1, 2])
def latent_draws(request):
    """200 000 latent samples of a planted N = 8 model (P = 1 or 2)."""
    model = _planted(N=8, P=request.param, seed=8)
    s = model.sample_latent(200_000, seed=9)
    assert s.shape == (200_000, 8) and s.dtype == np.int8
    assert np.array_equal(s, model.sample_latent(200_000, seed=9))
    return model, s


def _chi2_excess(s, probs):
    """(chi2 - dof) / sqrt(2 dof) of the state counts against the table ``probs`` (states with expected count >= 5;
    references.all_configurations order)."""
    observed = np.bincount(state_index(s), minlength=len(probs))
    expected = probs * len(s)
    ok = expected >= 5
    chi2 = np.sum((observed[ok] - expected[ok]) ** 2 / expected[ok])
    dof = ok.sum() - 1
    return (chi2 - dof) / math.sqrt(2 * dof)


def test_latent_sampling_matches_brute_force(latent_draws):
    """200 000 latent samples against the exact distribution over the 256 states: a chi-square statistic within
    5 SD of its mean for the degrees of freedom."""
    model, s = latent_draws
    assert abs(_chi2_excess(s, naive_probabilities(model))) < 5


@pytest.mark.parametrize("what", ["couplings", "fields"])
def test_power_latent_sampling_check_rejects_a_5_percent_error(latent_draws, what):
    """The same samples against the exact table with the couplings J = xi^T xi / N 5 % larger (patterns x
    sqrt(1.05)) or the fields 5 % larger: measured excess 74 / 173 (P = 1 / 2, couplings), 110 / 105 (fields)
    SD."""
    model, s = latent_draws
    wrong = (GeneralizedHopfield(model.fields, math.sqrt(1.05) * model.patterns) if what == "couplings"
             else GeneralizedHopfield(1.05 * model.fields, model.patterns))
    assert abs(_chi2_excess(s, naive_probabilities(wrong))) > 5


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
