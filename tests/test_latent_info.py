"""Monte Carlo mutual informations of the latent mean-field model (fastmf.decode.latent_info) against the exact
values of the full naive probability table (tests/references.py), with a power companion."""
import json

import numpy as np
import pytest
from references import latent_mixture_posterior, latent_mixture_probabilities, mutual_information_table

from fastmf.decode.latent_info import InformationEstimate, bipartite_information, half_cuts, latent_information
from fastmf.decode.latent_model import LatentMeanField
from fastmf.io.files import ResourceLimitError

N_SAMPLES = 20_000
TOL = 4.0            # standard errors


def _model(N=10, scale=1.0):
    rng = np.random.default_rng(5)
    return LatentMeanField(rng.normal(0.0, 0.3, N), scale * rng.normal(0.0, 1.0, (2, N)), rng.normal(0.0, 1.0, (3, 2)),
                           [0.5, 0.3, 0.2])


def _exact_latent_information(m):
    p = latent_mixture_probabilities(m.fields, m.directions, m.atoms, m.weights)
    post = latent_mixture_posterior(m.fields, m.directions, m.atoms, m.weights)
    w = m.weights
    return float(-np.sum(w * np.log(w)) + np.sum(p * np.sum(post * np.log(post), axis=1)))


@pytest.fixture(scope="module")
def exact():
    m = _model()
    p = latent_mixture_probabilities(m.fields, m.directions, m.atoms, m.weights)
    return m, p


CUTS = [[0, 1, 2, 3, 4], [0, 2, 4, 6, 8], [3], [1, 2, 5, 6, 7, 8, 9]]


def test_bipartite_estimates_agree_with_exact_and_power(exact):
    m, p = exact
    est = bipartite_information(m, cuts=CUTS, n_samples=N_SAMPLES, seed=1)
    truth = np.array([mutual_information_table(p, m.N, a) for a in CUTS])
    assert est.sites == tuple(tuple(a) for a in CUTS) and est.n_samples == N_SAMPLES
    assert np.all(np.abs(est.mi - truth) < TOL * est.se), (est.mi, truth, est.se)
    entropy = -np.sum(p * np.log(p))
    assert abs(est.extra["entropy"] - entropy) < TOL * est.extra["entropy_se"]
    # power: the estimate for a model whose coupling directions are 10 % stronger is rejected against the
    # original's exact values, cut by cut, at the same sample size
    wrong = bipartite_information(_model(scale=1.1), cuts=CUTS, n_samples=N_SAMPLES, seed=1)
    big = [i for i, a in enumerate(CUTS) if len(a) > 1]     # a single site carries too little to tell
    assert np.all(np.abs(wrong.mi[big] - truth[big]) > TOL * wrong.se[big]), (wrong.mi, truth, wrong.se)


def test_named_cuts(exact):
    m, p = exact
    est = bipartite_information(m, cuts="both", n_samples=N_SAMPLES, seed=2, n_random=2)
    assert est.labels == ("contiguous", "random 1", "random 2")
    assert est.sites[0] == (0, 1, 2, 3, 4) and all(len(a) == 5 for a in est.sites)
    assert est.sites[1] != est.sites[2]
    truth = np.array([mutual_information_table(p, m.N, a) for a in est.sites])
    assert np.all(np.abs(est.mi - truth) < TOL * est.se)
    # the samples do not depend on the cuts asked for: the contiguous row is the same alone
    alone = bipartite_information(m, cuts="contiguous", n_samples=N_SAMPLES, seed=2)
    assert alone.mi[0] == est.mi[0] and alone.se[0] == est.se[0]
    assert bipartite_information(m, cuts="random", n_samples=100, seed=2, n_random=2).sites == est.sites[1:]
    assert half_cuts(m.N, "random", 2, np.random.default_rng(2).spawn(2)[0])[1] == est.sites[1:]


def test_latent_information_agrees_with_exact_and_bounds_every_cut(exact):
    m, p = exact
    truth = _exact_latent_information(m)
    est = latent_information(m, n_samples=N_SAMPLES, seed=1)
    assert est.labels == ("I(s;atom)",) and est.extra["atom_entropy"] == pytest.approx(-np.sum(m.weights *
                                                                                               np.log(m.weights)))
    assert abs(est.mi[0] - truth) < TOL * est.se[0], (est.mi, truth, est.se)
    wrong = latent_information(_model(scale=1.1), n_samples=N_SAMPLES, seed=1)
    assert abs(wrong.mi[0] - truth) > TOL * wrong.se[0], (wrong.mi, truth, wrong.se)
    # data processing, s_A <- atom -> s_B: every bipartite I(A;B) <= I(s;atom), exactly
    assert max(mutual_information_table(p, m.N, a) for a in CUTS) < truth


def test_independent_and_two_atom_models():
    rng = np.random.default_rng(3)
    h, xi = rng.normal(0.0, 0.5, 8), rng.normal(0.0, 1.0, (1, 8))
    one = LatentMeanField(h, xi, [[0.7]], [1.0])             # a single atom: independent spins
    est, lat = bipartite_information(one, "both", 5000, seed=0), latent_information(one, 5000, seed=0)
    assert np.all(np.abs(est.mi) < 1e-10) and np.all(est.se < 1e-10)
    assert lat.mi[0] == 0.0 and lat.extra["atom_entropy"] == 0.0
    two = LatentMeanField(h, xi, [[-1.0], [1.0]], [0.5, 0.5])
    est = bipartite_information(two, "contiguous", 5000, seed=0)
    assert est.mi[0] > 10 * est.se[0]
    p = latent_mixture_probabilities(two.fields, two.directions, two.atoms, two.weights)
    assert abs(est.mi[0] - mutual_information_table(p, 8, range(4))) < TOL * est.se[0]


def test_reproducible_by_seed_and_table(exact):
    m, _ = exact
    a = bipartite_information(m, "both", 3000, seed=7, n_random=2)
    b = bipartite_information(m, "both", 3000, seed=7, n_random=2)
    np.testing.assert_array_equal(a.mi, b.mi)
    np.testing.assert_array_equal(a.se, b.se)
    c = bipartite_information(m, "both", 3000, seed=np.random.default_rng(7), n_random=2)
    np.testing.assert_array_equal(a.mi, c.mi)
    assert not np.array_equal(a.mi, bipartite_information(m, "both", 3000, seed=8, n_random=2).mi)
    assert latent_information(m, 3000, seed=7).mi[0] == latent_information(m, 3000, seed=7).mi[0]
    text = a.table()
    assert "contiguous" in text and "random 2" in text and f"{a.mi[0]:.5f}" in text and f"{a.se[1]:.5f}" in text
    assert "0-4" in text and "nats" in text
    assert json.loads(json.dumps(a.to_dict()))["labels"][0] == "contiguous"
    assert isinstance(latent_information(m, 10, seed=0), InformationEstimate)


def test_bad_inputs(exact, monkeypatch):
    m, _ = exact
    with pytest.raises(TypeError, match="LatentMeanField"):
        bipartite_information(m.fields, n_samples=10)
    with pytest.raises(TypeError, match="LatentMeanField"):
        latent_information("model", n_samples=10)
    for cuts in ("halves", 3, [], [[0, 10]], [[0, 0, 1]], [[]], [list(range(10))], [[0.5, 1.0]], [[[0, 1]]],
                 ["01"]):
        with pytest.raises(ValueError, match="cut"):
            bipartite_information(m, cuts=cuts, n_samples=10)
    for n in (0, 1, 2.5, "100"):
        with pytest.raises((ValueError, TypeError), match="n_samples"):
            bipartite_information(m, n_samples=n)
        with pytest.raises((ValueError, TypeError), match="n_samples"):
            latent_information(m, n_samples=n)
    with pytest.raises(ValueError, match="seed"):
        bipartite_information(m, n_samples=10, seed=None)
    with pytest.raises(ValueError, match="n_random"):
        bipartite_information(m, cuts="random", n_samples=10, n_random=0)
    with pytest.raises(ValueError, match="N >= 2"):
        bipartite_information(LatentMeanField([0.1], [[1.0]], [[0.0]], [1.0]), n_samples=10)
    # a request too big for memory is refused before anything is allocated
    monkeypatch.setenv("FASTMF_MAX_MEMORY", "1M")
    big = LatentMeanField(np.zeros(300), np.ones((1, 300)), np.zeros((2000, 1)), np.ones(2000))
    with pytest.raises(ResourceLimitError, match="2000-atom model of 300 sites"):
        bipartite_information(big, n_samples=10)
    with pytest.raises(ResourceLimitError, match="2000-atom"):
        latent_information(big, n_samples=10)
