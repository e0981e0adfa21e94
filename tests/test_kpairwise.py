"""K-pairwise maximum-entropy model: the heat-bath kernel, KPairwiseMaxEnt and fit_kpairwise_maxent.

References are the plain loops of tests/references.py (nothing from fastmf); every statistical check has a power
companion at the same sample size.
"""
import numba
import numpy as np
import pytest

from fastmf.kernels.kpairwise_cpu import (kpairwise_ais, kpairwise_init, kpairwise_log_weights, kpairwise_state,
                                          kpairwise_sweep)
from fastmf.kernels.philox import STREAM_KPAIRWISE, philox4x32_array
from fastmf.neural import KPairwiseMaxEnt, PairwiseMaxEnt, fit_kpairwise_maxent, fit_pairwise_maxent
from fastmf.stats.mcmc import chi_square_test
from references import kpairwise_enumerate, kpairwise_heatbath_site, kpairwise_log_weight


def _planted(N, seed, v_amp=1.5, j_sd=0.4, h_mean=0.0):
    rng = np.random.default_rng(seed)
    A = np.triu(rng.normal(0.0, j_sd, (N, N)), 1)
    V = v_amp * (np.cos(2.0 * np.arange(N + 1)) - 1.0)
    return rng.normal(h_mean, 0.3, N), A + A.T, V


def _state_index(spins):
    return ((np.asarray(spins) > 0) * (1 << np.arange(spins.shape[1]))).sum(axis=1)


def _chi2_p(spins, probs):
    counts = np.bincount(_state_index(spins), minlength=probs.size).astype(float)
    return chi_square_test(counts, probs)[2]


# ---------------------------------------------------------------------------------------------- kernel
def test_sweep_equals_reference_site_updates():
    h, J, V = _planted(5, 1)
    spins = kpairwise_init(np.zeros(5), 3, seed=4)
    start = spins.copy()
    lf, k = kpairwise_state(spins, J)
    kpairwise_sweep(spins, J, h, V, lf, k, seed=9, sweep=2, n_sweeps=2, scale=0.7)
    for c in range(3):
        s = [int(x) for x in start[c]]
        for t in (2, 3):
            for i in range(5):
                u = philox4x32_array([i // 4, c, t, 0], [9, STREAM_KPAIRWISE])[0, i % 4] / 2.0 ** 32
                kpairwise_heatbath_site(s, i, h, J, V, 0.7, u)
        assert s == spins[c].tolist()
    lf2, k2 = kpairwise_state(spins, J)
    np.testing.assert_allclose(lf, lf2, atol=1e-12)
    np.testing.assert_array_equal(k, k2)
    ref = [kpairwise_log_weight(list(x), h, J, V) for x in spins]
    np.testing.assert_allclose(kpairwise_log_weights(spins, J, h, V), ref, rtol=1e-12)


def test_results_depend_on_seed_not_threads():
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("one Numba thread available: nothing to compare")
    h, J, V = _planted(7, 2)
    out = []
    old = numba.get_num_threads()
    try:
        for threads in (1, 2):
            numba.set_num_threads(threads)
            spins = kpairwise_init(h, 8, seed=3)
            lf, k = kpairwise_state(spins, J)
            kpairwise_sweep(spins, J, h, V, lf, k, seed=3, n_sweeps=50)
            log_w, _ = kpairwise_ais(J, h, V, np.zeros(7), np.linspace(0, 1, 30), 8, seed=3)
            out.append((spins, log_w, KPairwiseMaxEnt(h, J, V).sample(40, seed=5, burn_in=20)))
    finally:
        numba.set_num_threads(old)
    for a, b in zip(*out):
        np.testing.assert_array_equal(a, b)
    spins = kpairwise_init(h, 8, seed=4)
    assert not np.array_equal(spins, kpairwise_init(h, 8, seed=3))


def test_v_zero_samples_the_pairwise_model():
    """Independent chains (one sample each) against fastmf.exact's enumeration of the pairwise model; power:
    the same samples reject J 5 % off."""
    h, J, _ = _planted(6, 3, j_sd=0.6, h_mean=-0.6)
    spins = KPairwiseMaxEnt(h, J, np.zeros(7)).sample(20000, seed=1, burn_in=100, thin=1, n_chains=20000)
    assert _chi2_p(spins, np.exp(PairwiseMaxEnt(h, J).exact_log_probs())) > 1e-3
    assert _chi2_p(spins, np.exp(PairwiseMaxEnt(h, 1.05 * J).exact_log_probs())) < 1e-3


def test_sample_matches_enumeration_and_rejects_wrong_parameters():
    """Independent chains against the plain-loop enumeration: all 64 states, and P(K) (which only V changes);
    power: the same samples reject J 5 % off (states) and V 5 % off (P(K))."""
    h, J, V = _planted(6, 4)
    model = KPairwiseMaxEnt(h, J, V)
    spins = model.sample(40000, seed=2, burn_in=100, thin=1, n_chains=40000)
    _, probs = kpairwise_enumerate(h, J, V)
    assert _chi2_p(spins, probs) > 1e-3
    assert _chi2_p(spins, kpairwise_enumerate(h, 1.05 * J, V)[1]) < 1e-3
    k_obs = np.bincount((spins > 0).sum(axis=1), minlength=7).astype(float)
    k_of_state = np.array([bin(k).count("1") for k in range(64)])
    assert chi_square_test(k_obs, np.bincount(k_of_state, weights=probs))[2] > 1e-3
    wrong_v = kpairwise_enumerate(h, J, 1.05 * V)[1]
    assert chi_square_test(k_obs, np.bincount(k_of_state, weights=wrong_v))[2] < 1e-3
    np.testing.assert_allclose(model.exact_log_probs(), np.log(probs), atol=1e-10)
    chained = model.sample(3000, seed=2)                     # default chains, burn-in and thinning
    assert chained.shape == (3000, 6) and chained.dtype == np.int8
    assert _chi2_p(chained, probs) > 1e-3


# ---------------------------------------------------------------------------------------------- model
def test_model_validation_gauge_energy_and_files(tmp_path):
    h, J, V = _planted(5, 5)
    m = KPairwiseMaxEnt(h, J, V + 2.0)
    assert m.V[0] == 0 and np.allclose(m.V, V) and not m.V.flags.writeable
    s = np.array([[1, -1, 1, 1, -1], [-1, -1, -1, -1, -1]])
    np.testing.assert_allclose(m.energy(s), [-kpairwise_log_weight(list(x), h, J, V) for x in s])
    path = m.save(tmp_path / "k.npz")
    back = KPairwiseMaxEnt.load(path)
    for a in ("h", "J", "V"):
        np.testing.assert_array_equal(getattr(back, a), getattr(m, a))
    PairwiseMaxEnt(h, J).save(tmp_path / "p.npz")
    with pytest.raises(ValueError, match="K-pairwise"):
        KPairwiseMaxEnt.load(tmp_path / "p.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError):
        KPairwiseMaxEnt.load(tmp_path / "junk.npz")
    with pytest.raises(ValueError, match="V must have shape"):
        KPairwiseMaxEnt(h, J, V[:-1])
    with pytest.raises(ValueError, match="finite"):
        KPairwiseMaxEnt(h, J, np.full(6, np.nan))
    with pytest.raises(ValueError, match="symmetric"):
        KPairwiseMaxEnt(h, J + np.triu(np.ones((5, 5)), 1), V)
    with pytest.raises(ValueError, match="spins"):
        m.energy(np.zeros((2, 5)))
    with pytest.raises(TypeError):
        m.sample(10, seed=-1 + 0.5)
    with pytest.raises(ValueError, match="do not match"):
        kpairwise_sweep(s.astype(np.int8), J, h, V, np.zeros((2, 5)), np.zeros(2, np.int64), seed=0)


# ---------------------------------------------------------------------------------------------- fits
def _pk_z(model, data):
    """z of P(K) (K >= 1 with >= 20 bins) of a model's exact distribution against the data."""
    k_of_state = np.array([bin(k).count("1") for k in range(2 ** model.N)])
    pk_model = np.bincount(k_of_state, weights=np.exp(model.exact_log_probs()), minlength=model.N + 1)
    counts = np.bincount((data > 0).sum(axis=1), minlength=model.N + 1)
    pk, n = counts / len(data), len(data)
    use = (counts >= 20) & (np.arange(model.N + 1) >= 1)
    return (pk_model - pk)[use] / np.sqrt(pk[use] * (1 - pk[use]) / n)


def test_exact_fit_matches_moments_and_pk_where_pairwise_does_not():
    h, J, V = _planted(8, 6)
    data = KPairwiseMaxEnt(h, J, V).sample(20000, seed=3, burn_in=100, thin=1, n_chains=20000)
    model, info = fit_kpairwise_maxent(data, method="auto")
    assert info["method"] == "exact" and info["converged"] and info["rms_z"] < 0.05
    probs = np.exp(model.exact_log_probs())
    S = np.array([[1 if (k >> i) & 1 else -1 for i in range(8)] for k in range(256)])
    np.testing.assert_allclose(probs @ S, data.mean(axis=0), atol=1e-3)     # the l2 = 1e-4 shift only
    assert np.abs(_pk_z(model, data)).max() < 0.5
    pairwise, _ = fit_pairwise_maxent(data)
    pairwise_as_k = KPairwiseMaxEnt(pairwise.h, pairwise.J, np.zeros(9))
    assert np.abs(_pk_z(pairwise_as_k, data)).max() > 5           # power: the pairwise model misses P(K)


@pytest.mark.parametrize("learner", ["gradient", "reweighted"])
def test_mcmc_fit_converges_and_agrees_with_exact_fit(learner):
    h, J, V = _planted(8, 7)
    data = KPairwiseMaxEnt(h, J, V).sample(20000, seed=4, burn_in=100, thin=1, n_chains=20000)
    exact, _ = fit_kpairwise_maxent(data, method="exact")
    model, info = fit_kpairwise_maxent(data, method="mcmc", seed=1, max_iter=300, learner=learner)
    assert info["converged"] and info["rms_z"] <= 1.0 and info["iterations"] < 300 and info["learner"] == learner
    assert info["model_to_data_variance"] <= 1.0      # certified at the data's precision
    assert set(info) >= {"max_abs_error_means", "max_abs_error_pairs", "max_abs_error_pk", "max_z", "history",
                         "start"}
    z = _pk_z(model, data)
    assert np.sqrt(np.mean(z ** 2)) < 2.0
    p, q = np.exp(exact.exact_log_probs()), np.exp(model.exact_log_probs())
    assert 0.5 * np.abs(p - q).sum() < 0.03
    assert info["start"]["method"] == "exact"
    start, _ = fit_pairwise_maxent(data)          # power: the V = 0 start is far from the exact fit
    assert 0.5 * np.abs(p - np.exp(start.exact_log_probs())).sum() > 0.1


def test_bistable_data_terminates_and_reports():
    rng = np.random.default_rng(8)
    N, n = 12, 4000
    active = rng.random(n) < 0.3
    x = np.where(active[:, None], rng.random((n, N)) < 0.8, rng.random((n, N)) < 0.03)
    model, info = fit_kpairwise_maxent(x.astype(np.uint8), method="mcmc", max_iter=15, seed=2, n_chains=20)
    assert info["iterations"] == 15 and not info["converged"] and "bistable" in info["note"]
    assert len(info["history"]) == 15 and np.isfinite(model.V).all()
    # an unconverged fit returns its best step, with that step's errors (the last one if none was better)
    rms = [r["rms_z"] for r in info["history"]]
    assert info["rms_z"] == min(rms) and rms[info["returned_step"] - 1] == min(rms)


def test_fit_argument_errors():
    data = (np.random.default_rng(0).random((50, 4)) < 0.3).astype(int)
    with pytest.raises(ValueError, match="method"):
        fit_kpairwise_maxent(data, method="pseudolikelihood")
    with pytest.raises(ValueError, match="learner must be one of"):
        fit_kpairwise_maxent(data, learner="newton")
    with pytest.raises(ValueError, match="l2 = 0"):
        fit_kpairwise_maxent(data, l2=0)
    with pytest.raises(TypeError, match="start"):
        fit_kpairwise_maxent(data, start="pairwise")
    with pytest.raises(ValueError, match="start has N"):
        fit_kpairwise_maxent(data, start=PairwiseMaxEnt(np.zeros(3), np.zeros((3, 3))))
    with pytest.raises(ValueError):
        fit_kpairwise_maxent(np.full((50, 4), 0.5))


def _ladder_z(h, J, V_sampled, V_exact, sampler):
    """max |z| of the means and P(K) of LearningChains' sample of (h, J, V_sampled) against the exact ones of
    (h, J, V_exact); errors from the spread of 64 independent chains (ladders)."""
    from fastmf.neural.maxent_learning import LearningChains
    N = h.size
    p = np.exp(KPairwiseMaxEnt(h, J, V_exact).exact_log_probs())
    S = 2 * ((np.arange(2 ** N)[:, None] >> np.arange(N)) & 1) - 1
    exact = np.concatenate([p @ S, np.bincount((S > 0).sum(axis=1), weights=p, minlength=N + 1)])
    chains = LearningChains(sampler, -np.ones((1, N), np.int8), np.ones(1), 64, 5)
    cfg = chains.sample(h, J, 500, 2, burn_in=50, V=V_sampled)
    assert cfg.shape == (64, 500, N) and chains.step == 50 + 1000      # the Philox step counter carries over
    per = np.concatenate([cfg.mean(axis=1), np.stack([np.bincount(k, minlength=N + 1) for k in (cfg > 0).sum(axis=2)])
                          / cfg.shape[1]], axis=1)
    se = per.std(axis=0, ddof=1) / np.sqrt(len(per))
    use = se > 0
    return float(np.abs((per.mean(axis=0) - exact)[use] / se[use]).max())


@pytest.mark.parametrize("sampler", ["heatbath", "tempering"])
def test_learning_chains_sample_the_kpairwise_model(sampler):
    """The chains the reweighted learner samples with: plain heat-bath chains, and tempering ladders (the kernel's
    scale with the fields scaled, exchanges of neighbours), both against enumeration; power: a potential moved by 0.3
    at one K."""
    h, J, V = _planted(8, 3, j_sd=0.6)
    assert _ladder_z(h, J, V, V, sampler) < 4.5
    assert _ladder_z(h, J, V + 0.3 * (np.arange(9) == 3), V, sampler) > 6
