"""ln Z by annealed importance sampling and the held-out log-likelihood of max-ent models.

Checked against the plain-loop enumeration of tests/references.py at N = 12; each check has a power companion:
the exact ln Z of the model with J 5 % off must lie many standard errors from the same estimate.
"""
import numba
import numpy as np
import pytest

from fastmf.neural import KPairwiseMaxEnt, PairwiseMaxEnt, held_out_log_likelihood, log_partition_ais
from fastmf.neural.log_partition import log_partition_exact
from references import kpairwise_enumerate, kpairwise_log_weight

N = 12


def _models():
    rng = np.random.default_rng(11)
    A = np.triu(rng.normal(0.0, 0.5, (N, N)), 1)
    h, J = rng.normal(-0.8, 0.4, N), A + A.T
    V = 1.0 * (np.cos(1.5 * np.arange(N + 1)) - 1.0)
    uniform = 2.5 / N * (1.0 - np.eye(N))    # Curie-Weiss at beta = 2.5: two states, 60 % / 40 %
    return {"pairwise": (h, J, np.zeros(N + 1)), "kpairwise": (h, J, V),
            "bistable": (np.full(N, -0.02), uniform, np.zeros(N + 1))}


@pytest.mark.parametrize("name", ["pairwise", "kpairwise", "bistable"])
def test_ais_matches_enumeration_and_rejects_j_five_percent_off(name):
    h, J, V = _models()[name]
    model = PairwiseMaxEnt(h, J) if name != "kpairwise" else KPairwiseMaxEnt(h, J, V)
    log_z, stderr, info = log_partition_ais(model, n_chains=256, n_steps=2000, seed=3, full_output=True)
    exact = kpairwise_enumerate(h, J, V)[0]
    assert abs(log_z - exact) < 4 * stderr, (log_z, exact, stderr)
    assert stderr < 0.05 and info["ess"] > 50
    wrong = kpairwise_enumerate(h, 1.05 * J, V)[0]
    assert abs(log_z - wrong) > 4 * stderr, (log_z, wrong, stderr)
    assert log_partition_exact(model) == pytest.approx(exact, abs=1e-9)


def test_ais_depends_on_seed_not_threads():
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("one Numba thread available: nothing to compare")
    h, J, V = _models()["kpairwise"]
    model = KPairwiseMaxEnt(h, J, V)
    old = numba.get_num_threads()
    try:
        runs = []
        for threads in (1, 2):
            numba.set_num_threads(threads)
            runs.append(log_partition_ais(model, n_chains=70, n_steps=1200, seed=5))
    finally:
        numba.set_num_threads(old)
    assert runs[0] == runs[1]
    assert log_partition_ais(model, n_chains=70, n_steps=1200, seed=6) != runs[0]


def test_held_out_log_likelihood_exact_and_with_given_log_z():
    h, J, V = _models()["kpairwise"]
    model = KPairwiseMaxEnt(h, J, V)
    spins = model.sample(2000, seed=1, burn_in=200, thin=2)
    log_z, _ = kpairwise_enumerate(h, J, V)
    per_bin = np.array([kpairwise_log_weight(list(s), h, J, V) for s in spins]) - log_z
    out = held_out_log_likelihood(model, spins, n_batches=10)
    assert out["log_z_method"] == "exact" and out["n_bins"] == 2000
    assert out["mean_log_likelihood"] == pytest.approx(per_bin.mean(), abs=1e-9)
    batch_means = per_bin.reshape(10, 200).mean(axis=1)
    assert out["stderr_data"] == pytest.approx(batch_means.std(ddof=1) / np.sqrt(10), rel=1e-9)
    given = held_out_log_likelihood(model, (spins + 1) // 2, log_z=(log_z + 0.1, 0.05), n_batches=10)
    assert given["mean_log_likelihood"] == pytest.approx(out["mean_log_likelihood"] - 0.1, abs=1e-9)
    assert given["stderr"] == pytest.approx(np.hypot(out["stderr_data"], 0.05))



def test_held_out_log_likelihood_tells_the_generating_model_from_one_without_v():
    h, J, V = _models()["kpairwise"]
    model = KPairwiseMaxEnt(h, J, V)
    spins = model.sample(80000, seed=2, burn_in=200, thin=2)
    right = held_out_log_likelihood(model, spins)
    wrong = held_out_log_likelihood(PairwiseMaxEnt(h, J), spins)
    gap = right["mean_log_likelihood"] - wrong["mean_log_likelihood"]
    assert gap > 4 * np.hypot(right["stderr"], wrong["stderr"])
    # the gap is the KL divergence of the two models, estimated from the sample
    p, q = np.exp(model.exact_log_probs()), np.exp(PairwiseMaxEnt(h, J).exact_log_probs())
    assert gap == pytest.approx(np.sum(p * np.log(p / q)), abs=4 * np.hypot(right["stderr"], wrong["stderr"]))


def test_held_out_log_likelihood_through_ais():
    rng = np.random.default_rng(2)
    n = 17                                           # above the enumeration limit of held_out_log_likelihood
    A = np.triu(rng.normal(0.0, 0.3, (n, n)), 1)
    model = PairwiseMaxEnt(rng.normal(-1.0, 0.3, n), A + A.T)
    spins = model.sample(1000, seed=1, sampler="mcmc", burn_in=100, thin=2)
    out = held_out_log_likelihood(model, spins, n_chains=64, n_steps=600, seed=1)
    assert out["log_z_method"] == "ais" and 0 < out["log_z_stderr"] < 0.05
    assert abs(out["log_z"] - log_partition_exact(model)) < 4 * out["log_z_stderr"]
    assert out["stderr"] >= out["stderr_data"]


def test_errors():
    h, J, V = _models()["pairwise"]
    model = PairwiseMaxEnt(h, J)
    with pytest.raises(TypeError, match="PairwiseMaxEnt or KPairwiseMaxEnt"):
        log_partition_ais(object())
    with pytest.raises(ValueError):
        log_partition_ais(model, n_chains=1)
    spins = -np.ones((30, N), np.int8)
    with pytest.raises(ValueError, match="neurons"):
        held_out_log_likelihood(model, spins[:, :5])
    with pytest.raises(ValueError, match="n_batches"):
        held_out_log_likelihood(model, spins, n_batches=31)
    with pytest.raises(ValueError, match="log_z"):
        held_out_log_likelihood(model, spins, log_z=(1.0, -1.0))
    with pytest.raises(ValueError, match="log_z"):
        held_out_log_likelihood(model, spins, log_z=[1.0, 2.0, 3.0])
