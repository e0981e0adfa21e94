"""Exact population statistics of a mixture of independent neurons and of an enumerated table, against a brute-force
reference over all patterns, and against samples (with a power companion)."""
import itertools

import numpy as np
import pytest

from fastmf.decode.latent_model import LatentMeanField
from fastmf.stats import (compare_statistics, mixture_statistics, poisson_binomial_mixture, population_statistics,
                          table_statistics)


def _mixture(N=7, A=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.ones(A)), rng.uniform(0.02, 0.7, size=(A, N))


def _brute_force(w, q, idx):
    """Every pattern's probability by the product formula, then each statistic by its definition."""
    N = q.shape[1]
    x = np.array(list(itertools.product((0, 1), repeat=N)), dtype=float)          # (2^N, N)
    prob = np.array([sum(wk * np.prod(np.where(s > 0, qk, 1 - qk)) for wk, qk in zip(w, q)) for s in x])
    p = prob @ x
    d = x - p
    cov = np.einsum("s,si,sj->ij", prob, d, d)
    corr = cov / np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
    kappa = np.array([prob @ (d[:, i] * d[:, j] * d[:, k]) for i, j, k in idx])
    pk = np.array([prob[x.sum(axis=1) == K].sum() for K in range(N + 1)])
    return x, prob, p, cov, corr, kappa, pk


def _bit_order(x, prob):
    """The table in the order of table_statistics: pattern index with bit i set when neuron i spikes."""
    index = (x.astype(np.int64) << np.arange(x.shape[1])).sum(axis=1)
    table = np.zeros(len(prob))
    table[index] = prob
    return table


def test_mixture_and_table_statistics_match_brute_force():
    w, q = _mixture()
    st = mixture_statistics(w, q, triples="all", seed=0)
    x, prob, p, cov, corr, kappa, pk = _brute_force(w, q, st.triple_idx)
    tb = table_statistics(_bit_order(x, prob), triples="all", seed=0)
    for s in (st, tb):
        assert s.exact and s.n_bins == 0 and len(s.triple_idx) == 35
        np.testing.assert_allclose(s.rates, p, atol=1e-12)
        np.testing.assert_allclose(s.cov, cov, atol=1e-12)
        np.testing.assert_allclose(s.corr, corr, atol=1e-12)
        np.testing.assert_allclose(s.triplets, kappa, atol=1e-12)
        np.testing.assert_allclose(s.pk, pk, atol=1e-12)
        assert not s.rates_se.any() and not s.corr_se.any() and not s.pk_se.any()
    np.testing.assert_allclose(poisson_binomial_mixture(w, q), pk, atol=1e-12)


def test_latent_model_statistics_are_its_moments():
    rng = np.random.default_rng(2)
    m = LatentMeanField(rng.normal(-1, 0.3, 9), rng.normal(0, 0.8, (2, 9)), rng.normal(0, 1, (5, 2)), np.ones(5))
    st = m.statistics(triples=20, seed=1)
    np.testing.assert_allclose(st.rates, (1 + m.means()) / 2, atol=1e-12)
    C = m.second_moments()  # <s s> in spins: cov of spikes is a quarter of the spins' covariance
    mu = m.means()
    np.testing.assert_allclose(st.cov, (C - np.outer(mu, mu)) / 4, atol=1e-12)
    np.testing.assert_allclose(st.pk, m.spike_count_distribution(), atol=1e-12)


def test_exact_statistics_agree_with_samples_and_have_power():
    """Samples of the mixture agree with its exact statistics within their batch-means errors; the exact
    statistics of a slightly different mixture (one component's weight moved by 0.05) do not."""
    w, q = _mixture(N=10, A=3, seed=4)
    rng = np.random.default_rng(5)
    comp = rng.choice(len(w), size=200_000, p=w)
    x = rng.random((comp.size, q.shape[1])) < q[comp]
    data = population_statistics(x, n_batches=20, triples=50, seed=0)
    good = compare_statistics(data, mixture_statistics(w, q, triples=50, seed=0))
    # bounds: |z| <= 4 over 11 values of K; RMS z within 2 (about 1 expected; 20 batches, correlated entries)
    assert good["pk"]["max_abs_z"] < 4 and good["corr"]["rms_z"] < 2 and good["rates"]["rms_z"] < 2
    w_bad = w + np.array([0.05, -0.05, 0.0])
    bad = compare_statistics(data, mixture_statistics(w_bad, q, triples=50, seed=0))
    assert bad["pk"]["max_abs_z"] > 4 and bad["corr"]["rms_z"] > 3


def test_silent_neuron_has_nan_correlations():
    st = mixture_statistics([0.5, 0.5], [[0.0, 0.3, 0.2], [0.0, 0.6, 0.1]], triples="all")
    assert np.isnan(st.corr[0]).all() and np.isfinite(st.corr[1, 2])


@pytest.mark.parametrize("call, match", [
    (lambda: mixture_statistics([1.0], [[0.2, 1.5]]), "probabilities"),
    (lambda: mixture_statistics([1.0, 1.0], [[0.2, 0.5]]), "must match"),
    (lambda: mixture_statistics([-1.0], [[0.2, 0.5]]), "non-negative"),
    (lambda: mixture_statistics([1.0], [[np.nan, 0.5]]), "probabilities"),
    (lambda: table_statistics(np.ones(6)), "2\\*\\*N"),
    (lambda: table_statistics(np.zeros(8)), "positive sum"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_pk_is_compared_only_where_the_data_have_bins():
    """Data with 0, 1 or 3 spikes, never 2, and 10 bins with 4: P(K) is compared at K = 0, 1, 3 only (at least 20
    bins), so an exact model with P(2) > 0 gets finite z-scores; a model far from the data at those K is still
    flagged (power)."""
    rng = np.random.default_rng(3)
    rows = {0: [0, 0, 0, 0], 1: [1, 0, 0, 0], 3: [1, 1, 1, 0], 4: [1, 1, 1, 1]}
    K = rng.choice([0, 1, 3], size=4000, p=[0.5, 0.3, 0.2])
    K[::400] = 4
    x = np.array([rng.permutation(rows[k]) for k in K])
    data = population_statistics(x, n_batches=20, triples=0)
    assert data.pk_counts[2] == 0 and data.pk_counts[4] == 10
    model = mixture_statistics([1.0], [[0.25, 0.25, 0.25, 0.25]], triples=0)   # P(2) = 0.21 > 0
    c = compare_statistics(data, model)
    assert c["pk"]["k"] == [0, 1, 3] and c["pk"]["n_k"] == 3 and np.isfinite(c["pk"]["max_abs_z"])
    assert c["pk"]["max_abs_z"] > 10   # the independent model is far from these data at K = 0, 1, 3
    # a mixture of the data's own patterns (0, 1 or 3 spikes) reproduces their P(K): within the errors
    eye = np.eye(4)
    near = mixture_statistics(np.r_[0.5, np.full(4, 0.3 / 4), np.full(4, 0.2 / 4)],
                              np.vstack([np.zeros((1, 4)), eye, 1 - eye]), triples=0)
    assert compare_statistics(data, near)["pk"]["max_abs_z"] < 4
