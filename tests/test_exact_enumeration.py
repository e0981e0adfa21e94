"""Exact enumeration engine against brute force, closed forms, Kaufman and counting."""
import math

import numba
import numpy as np
import pytest
from references import (all_configurations, digit_configurations, table_entropy, table_marginal,
                        table_max_bipartition_mi, table_mutual_information)
from scipy.special import logsumexp

from fastmf.models import lattice, meanfield
from fastmf.exact import enumeration as en
from fastmf.exact import kaufman, symmetric
from fastmf.exact.meanfield import curie_weiss_exact
from fastmf.exact.pairwise import PairwiseModel


def naive_log_probs(model, beta):
    """Brute force: every configuration (tests/references.py, state index sum_i x_i q**i) and its energy from the
    model's direct O(N**2) formula (PairwiseModel.energy, checked against each fastmf model's own energy below)."""
    x = all_configurations(model.N) if model.spins else digit_configurations(model.N, model.q)
    E = model.energy(x)
    return -beta * E - logsumexp(-beta * E), E


def naive_mi(lp, A, q=2):
    """I(A; B) of a log-probability table from the joint table by the textbook sum (tests/references.py)."""
    return table_mutual_information(np.exp(lp), round(math.log(len(lp), q)), A, q)


def sym(a):
    a = np.triu(a, 1)
    return a + a.T


RNG = np.random.default_rng(2024)
MODELS = {
    "ising3x3": PairwiseModel.ising_lattice(3, 3, 1.0, 0.3),
    "ising2x4_double_bonds": PairwiseModel.ising_lattice(2, 4, -0.7, 0.2),
    "curie_weiss": PairwiseModel.curie_weiss(9, 1.2, 0.15),
    "hopfield": PairwiseModel.hopfield(RNG.choice([-1, 1], size=(2, 8)), 1.0, 0.1),
    "sk_gauss_float": PairwiseModel.ising(sym(RNG.normal(size=(9, 9))) / 3, RNG.normal(size=9) * 0.3),
    "sk_pm": PairwiseModel.ising(sym(RNG.choice([-1.0, 1.0], size=(8, 8))) / math.sqrt(8), 0.0),
    "potts_lattice": PairwiseModel.potts_lattice(2, 3, 3, 1.0, 0.2),
    "potts_mf": PairwiseModel.potts_mf(6, 3, 1.0, 0.3),
    "q3_random_float": PairwiseModel(K=sym(RNG.normal(size=(6, 6))), g=RNG.normal(size=(6, 3)), spins=False,
                                     ref=2),
    "q2_potts_ref0": PairwiseModel(K=sym(RNG.integers(-2, 3, size=(7, 7)).astype(float)),
                                   g=RNG.integers(-1, 2, size=(7, 2)).astype(float), spins=False, ref=0),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_thermodynamics_equal_brute_force(name):
    model = MODELS[name]
    beta = 0.8
    lp, E = naive_log_probs(model, beta)
    r = en.enumerate_model(model, beta)
    p = np.exp(lp)
    assert r.log_z == pytest.approx(logsumexp(-beta * E), abs=1e-11)
    assert r.mean_energy == pytest.approx(p @ E, abs=1e-10)
    assert r.energy_variance == pytest.approx(p @ (E - p @ E) ** 2, abs=1e-9)
    assert r.entropy == pytest.approx(table_entropy(p), abs=1e-10)
    assert r.ground_energy == pytest.approx(E.min(), abs=1e-12)
    x = digit_configurations(model.N, model.q)
    n_ref = (x == model.ref).sum(axis=1)
    np.testing.assert_allclose(r.n_ref_probs, np.bincount(n_ref, weights=p, minlength=model.N + 1), atol=1e-13)
    assert r.method == ("float weights" if "float" in name else "integer levels")


@pytest.mark.parametrize("name", list(MODELS))
def test_information_equal_brute_force(name):
    model = MODELS[name]
    beta, q, N = 0.8, model.q, model.N
    lp, _ = naive_log_probs(model, beta)
    for A in ([0], [1, 3], [0, 2, 4, 5], list(range(1, N))):
        assert en.mutual_information(model, beta, A) == pytest.approx(naive_mi(lp, A, q), abs=1e-11)
    for k, I in en.cut_profile(model, beta):
        assert I == pytest.approx(naive_mi(lp, list(range(k)), q), abs=1e-11)
    for sites in ([3], [0, 4], [1, 2, 5]):
        np.testing.assert_allclose(en.marginal(model, beta, sites), table_marginal(np.exp(lp), N, sites, q),
                                   atol=1e-14)
    np.testing.assert_allclose(en.log_prob_table(model, beta), lp, atol=1e-11)


def test_energy_conventions_equal_fastmf_models():
    """PairwiseModel.from_model keeps each model's own energy on every configuration."""
    rng = np.random.default_rng(3)
    cases = [
        (lattice.LatticeModel(3, 4, J=0.8, h=-0.2), lambda n: rng.choice([-1, 1], size=(n, 3, 4)).astype(np.int8)),
        (lattice.LatticeModel(2, 3, J=1.0, h=0.3, q=3), lambda n: rng.integers(0, 3, size=(n, 2, 3)).astype(np.uint8)),
        (lattice.LatticeModel.spin_glass(3, 3, kind="gaussian", h=0.1, seed=2),
         lambda n: rng.choice([-1, 1], size=(n, 3, 3)).astype(np.int8)),
        (meanfield.CurieWeiss(N=10, J=1.3, h=0.2), lambda n: rng.choice([-1, 1], size=(n, 10)).astype(np.int8)),
        (meanfield.Hopfield.random(N=10, P=3, seed=4, J=0.9, h=0.1),
         lambda n: rng.choice([-1, 1], size=(n, 10)).astype(np.int8)),
        (meanfield.MeanFieldPotts(N=7, q=4, J=1.1, h=0.4), lambda n: rng.integers(0, 4, size=(n, 7)).astype(np.uint8)),
        (meanfield.GraphSpinGlass.sk(9, h=0.2, seed=5), lambda n: rng.choice([-1, 1], size=(n, 9)).astype(np.int8)),
        (meanfield.GraphSpinGlass.ea(10, degree=3, seed=5), lambda n: rng.choice([-1, 1], size=(n, 10)).astype(np.int8)),
    ]
    for model, draw in cases:
        configs = draw(200)
        pw = PairwiseModel.from_model(model)
        np.testing.assert_allclose(pw.energy(configs.reshape(200, -1)), model.energy(configs), atol=1e-11)


def test_independent_spins_have_zero_mutual_information():
    model = PairwiseModel.ising(np.zeros((10, 10)), np.linspace(-1, 1, 10))
    for k, I in en.cut_profile(model, 1.3):
        assert abs(I) < 1e-13
    assert abs(en.mutual_information(model, 1.3, [0, 3, 7])) < 1e-13


@pytest.mark.parametrize("beta_j", [0.3, 1.0, -2.0])
def test_two_coupled_spins_closed_form(beta_j):
    """p(s1, s2) ~ exp(beta J s1 s2): I = ln 2 - H_b(sigma) with sigma = e^{bJ} / (e^{bJ} + e^{-bJ})."""
    model = PairwiseModel.ising(np.array([[0.0, beta_j], [beta_j, 0.0]]))
    sigma = math.exp(beta_j) / (math.exp(beta_j) + math.exp(-beta_j))
    expected = math.log(2) + sigma * math.log(sigma) + (1 - sigma) * math.log(1 - sigma)
    assert en.mutual_information(model, 1.0, [0]) == pytest.approx(expected, abs=1e-14)
    assert en.enumerate_model(model, 1.0).log_z == pytest.approx(math.log(4 * math.cosh(beta_j)), abs=1e-14)


@pytest.mark.parametrize("beta", [0.3, 0.4406868, 0.7])
def test_4x4_ising_log_z_equals_kaufman(beta):
    r = en.enumerate_model(PairwiseModel.ising_lattice(4, 4), beta)
    assert r.log_z == pytest.approx(kaufman.log_partition_function(4, 4, beta), abs=1e-11)


def test_curie_weiss_counting_equals_enumeration():
    N, beta, J, h = 14, 1.3, 1.0, 0.05
    model = PairwiseModel.curie_weiss(N, J, h)
    r = en.enumerate_model(model, beta)
    assert r.log_z == pytest.approx(curie_weiss_exact(N, beta, J, h).log_z, abs=1e-11)
    cw = symmetric.curie_weiss_info(N, beta, J, h)
    assert r.entropy == pytest.approx(cw.entropy, abs=1e-11)
    profile = cw.cut_profile()
    for k, I in en.cut_profile(model, beta):
        assert I == pytest.approx(profile[k], abs=1e-11)


def test_hopfield_site_types_equal_enumeration():
    patterns = np.random.default_rng(8).choice([-1, 1], size=(3, 13))
    beta = 1.4
    model = PairwiseModel.hopfield(patterns, 1.0, 0.1)
    hi = symmetric.hopfield_info(patterns, beta, 1.0, 0.1)
    assert en.enumerate_model(model, beta).log_z == pytest.approx(hi.log_z, abs=1e-11)
    for A in ([0, 5, 6], [1, 2, 3, 4, 9, 12]):
        assert en.mutual_information(model, beta, A) == pytest.approx(hi.mutual_information(A), abs=1e-11)


def test_mutual_information_invariant_under_relabelling():
    rng = np.random.default_rng(11)
    model = PairwiseModel.ising(sym(rng.normal(size=(11, 11))) / 2, rng.normal(size=11) * 0.2)
    perm = rng.permutation(11)
    relabelled = model.permuted(perm)  # site j of relabelled = site perm[j] of model
    inverse = np.argsort(perm)
    for A in ([0, 1, 2], [4, 7], [0, 3, 5, 8, 10]):
        I = en.mutual_information(model, 0.9, A)
        assert en.mutual_information(relabelled, 0.9, sorted(inverse[A].tolist())) == pytest.approx(I, abs=1e-12)


def test_half_and_random_cuts():
    model = MODELS["hopfield"]
    lp, _ = naive_log_probs(model, 0.8)
    for name, I in en.cut_profile(model, 0.8, kind="half", n_random=2, seed=1):
        A = en.half_cuts(model.N, 2, 1)[name]
        assert I == pytest.approx(naive_mi(lp, A), abs=1e-12)
    profile = en.cut_profile(model, 0.8, kind="random", n_random=2, seed=4)
    assert [k for k, _ in profile] == list(range(1, model.N)) and all(len(v) == 2 for _, v in profile)


def test_max_bipartition():
    model = MODELS["sk_pm"]
    I_max, A = en.max_bipartition(model, 1.1)
    lp, _ = naive_log_probs(model, 1.1)
    assert I_max == pytest.approx(naive_mi(lp, A), abs=1e-12)
    assert I_max == pytest.approx(table_max_bipartition_mi(np.exp(lp), model.N), abs=1e-12)


def test_results_do_not_depend_on_thread_count():
    most = numba.config.NUMBA_NUM_THREADS  # set_num_threads refuses more than this
    if most < 2:  # NUMBA_NUM_THREADS=1: a one-thread run would be compared with itself
        pytest.skip("one Numba thread available: nothing to compare a one-thread run with")
    model = PairwiseModel.ising(sym(np.random.default_rng(1).normal(size=(18, 18))), 0.1)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = (en.enumerate_model(model, 0.7).log_z, en.mutual_information(model, 0.7, [0, 4, 9]))
        numba.set_num_threads(most)
        two = (en.enumerate_model(model, 0.7).log_z, en.mutual_information(model, 0.7, [0, 4, 9]))
    finally:
        numba.set_num_threads(before)
    assert one == two


def test_larger_lattice_against_kaufman():
    """4 x 6 (2**24 states): the multi-chunk path with both block kinds."""
    beta = 0.42
    model = PairwiseModel.ising_lattice(4, 6)
    assert en.enumerate_model(model, beta).log_z == pytest.approx(kaufman.log_partition_function(4, 6, beta),
                                                                  abs=1e-10)
    profile = dict(en.cut_profile(model, beta))
    assert profile[6] == pytest.approx(profile[18], abs=1e-10)  # translation by one row (6 sites)
    assert all(I > 0 for I in profile.values())


def test_bad_input():
    with pytest.raises(ValueError, match=r"estimated .* s per pass .* MiB"):
        en.enumerate_model(PairwiseModel.curie_weiss(40), 1.0)
    with pytest.raises(ValueError, match="beta"):
        en.enumerate_model(PairwiseModel.curie_weiss(4), -1.0)
    with pytest.raises(ValueError, match="site indices"):
        en.mutual_information(PairwiseModel.curie_weiss(4), 1.0, [0, 7])
    with pytest.raises(ValueError, match="symmetric"):
        PairwiseModel(K=np.array([[0.0, 1.0], [0.0, 0.0]]), g=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="finite"):
        PairwiseModel.ising(np.array([[0.0, np.nan], [np.nan, 0.0]]))
    with pytest.raises(ValueError, match="N <= 16"):
        en.max_bipartition(PairwiseModel.curie_weiss(17), 1.0)
    with pytest.raises(TypeError, match="cannot enumerate"):
        en.enumerate_model(meanfield.MaierSaupe(N=4), 1.0)


def test_multi_chunk_float_and_integer_models_equal_brute_force():
    """N = 18: several chunks, blocks of 256 low configurations, both level kinds; MI and profile as well."""
    rng = np.random.default_rng(5)
    for model in (PairwiseModel.ising(sym(rng.normal(size=(18, 18))) / 4, rng.normal(size=18) * 0.2),
                  PairwiseModel.ising(sym(rng.choice([-1.0, 0.0, 1.0], size=(18, 18))), 0.5)):
        lp, E = naive_log_probs(model, 0.6)
        r = en.enumerate_model(model, 0.6)
        assert r.log_z == pytest.approx(logsumexp(-0.6 * E), abs=1e-10)
        assert r.mean_energy == pytest.approx(np.exp(lp) @ E, abs=1e-9)
        assert r.ground_energy == pytest.approx(E.min(), abs=1e-10)
        assert en.mutual_information(model, 0.6, [0, 5, 17]) == pytest.approx(naive_mi(lp, [0, 5, 17]), abs=1e-10)
        profile = en.cut_profile(model, 0.6)
        for k in (1, 9, 17):
            assert profile[k - 1][1] == pytest.approx(naive_mi(lp, list(range(k))), abs=1e-10)
