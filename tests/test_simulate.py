"""simulate_lattice and the explicit chain state: shapes, metadata, thinning, reproducibility, checkpoints.

Small lattices (8 x 8, 5 x 7) and a few hundred samples; the physics itself is checked against exact
results elsewhere (enumeration, Kaufman). Here a sample set is also rebuilt from its metadata alone by
running the chains by hand, which checks that burn-in, thinning and round-robin order are what is recorded.
"""
import json
import math
import os

import numba
import numpy as np
import pytest

import fastmf
from fastmf.backends import gpu_available
from fastmf.sampling.lattice import ChainState, LatticeSampler
from fastmf.models.lattice import LatticeModel
from fastmf.sampling.simulate import simulate_lattice
from fastmf.stats import integrated_autocorr_time


REQUIRED_KEYS = {"model", "L", "M", "J", "h", "q", "T", "sampler", "backend", "seed", "burn_in", "thin",
                 "tau_int", "tau_int_max", "fastmf_version", "step_unit", "n_replicas"}


# ---------------------------------------------------------------------------------------------------------
# Independent reference formulas (periodic boundaries).

def ising_energy(spins, J=1.0, h=0.0, j_right=None, j_down=None):
    s = spins.astype(np.float64)
    jr = J if j_right is None else j_right
    jd = J if j_down is None else j_down
    right = (jr * s * np.roll(s, -1, axis=2)).sum(axis=(1, 2))
    down = (jd * s * np.roll(s, -1, axis=1)).sum(axis=(1, 2))
    return -(right + down) - h * s.sum(axis=(1, 2))


def potts_energy(states, J=1.0, h=0.0):
    same = (states == np.roll(states, -1, axis=2)).sum(axis=(1, 2)) + \
        (states == np.roll(states, -1, axis=1)).sum(axis=(1, 2))
    return -J * same - h * (states == 0).sum(axis=(1, 2))


def check_per_sample(ss, model):
    """Per-sample arrays agree with the spins; replica/step follow the recorded round-robin thinning."""
    md = ss.metadata
    n, R, thin = len(ss), md["n_replicas"], md["thin"]
    if model.is_potts:
        np.testing.assert_allclose(ss["energy"], potts_energy(ss.spins, model.J, model.h), atol=1e-9)
        assert "order_parameter" in ss.per_sample
    else:
        np.testing.assert_allclose(ss["energy"], ising_energy(ss.spins, model.J, model.h, model.j_right,
                                                               model.j_down), atol=1e-9)
        np.testing.assert_allclose(ss["magnetization"], ss.spins.mean(axis=(1, 2), dtype=np.float64))
    i = np.arange(n)
    np.testing.assert_array_equal(ss["replica"], i % R)
    np.testing.assert_array_equal(ss["step"], md["burn_in"] + thin * (i // R + 1))
    assert md["final_step"] == md["burn_in"] + thin * math.ceil(n / R)


def rebuild_from_metadata(ss, model):
    """Run the chains by hand with the recorded seed, burn-in and thinning: must give the same spins."""
    md = ss.metadata
    sampler = LatticeSampler(model, md["T"], method=md["sampler"], backend="cpu", order=md["order"])
    state = sampler.init_state(md["n_replicas"], md["seed"], start=md["start"])
    sampler.run(state, md["burn_in"])   # initial burn-in and pilot, in one call
    per_replica = math.ceil(len(ss) / md["n_replicas"])
    frames = []
    for _ in range(per_replica):
        sampler.run(state, md["thin"])
        frames.append(state.spins.copy())
    return np.stack(frames).reshape((-1,) + model.shape)[:len(ss)]


# ---------------------------------------------------------------------------------------------------------
# Shapes, dtypes, metadata.

def test_ising_shapes_dtypes_and_metadata():
    model = LatticeModel(L=8)
    ss = simulate_lattice(model, 2.6, 200, seed=7, backend="cpu")
    assert ss.spins.shape == (200, 8, 8) and ss.spins.dtype == np.int8
    assert set(np.unique(ss.spins)) == {-1, 1}
    md = ss.metadata
    assert REQUIRED_KEYS <= set(md)
    assert (md["model"], md["L"], md["M"], md["J"], md["h"], md["q"]) == ("ising2d", 8, 8, 1.0, 0.0, 2)
    assert (md["T"], md["sampler"], md["backend"], md["seed"]) == (2.6, "metropolis", "cpu", 7)
    assert md["step_unit"] == "sweep" and md["fastmf_version"] == fastmf.__version__
    assert md["n_replicas"] == 4 and md["n_samples"] == 200            # default min(32, max(1, n // 50))
    assert set(md["tau_int"]) == {"energy", "abs_magnetization", "magnetization"}
    assert md["tau_int_max"] == max(md["tau_int"].values())
    assert 0.0 < md["acceptance_rate"] < 1.0
    check_per_sample(ss, model)


def test_auto_backend_is_recorded_as_the_concrete_one():
    ss = simulate_lattice(LatticeModel(L=4), 2.6, 10, seed=1, burn_in=0)
    real_gpu = gpu_available() and os.environ.get("NUMBA_ENABLE_CUDASIM") != "1"
    assert ss.metadata["backend"] == ("cuda" if real_gpu else "cpu")


def test_potts_shapes_dtypes_and_metadata():
    model = LatticeModel(L=8, q=3, J=1.0, h=0.1)
    ss = simulate_lattice(model, 1.2, 200, seed=3, backend="cpu")
    assert ss.spins.shape == (200, 8, 8) and ss.spins.dtype == np.uint8
    assert set(np.unique(ss.spins)) <= {0, 1, 2}
    md = ss.metadata
    assert REQUIRED_KEYS <= set(md)
    assert (md["model"], md["q"], md["h"]) == ("potts2d", 3, 0.1)
    assert set(md["tau_int"]) == {"energy", "order"}
    check_per_sample(ss, model)


def test_antiferromagnet_tracks_the_staggered_magnetization():
    ss = simulate_lattice(LatticeModel(L=8, J=-1.0), 2.0, 50, seed=2, backend="cpu")
    assert "abs_staggered_magnetization" in ss.metadata["tau_int"]
    assert ss.metadata["J"] == -1.0


def test_rectangular_lattice():
    model = LatticeModel(L=4, M=6)
    ss = simulate_lattice(model, 2.6, 30, seed=5, backend="cpu")
    assert ss.spins.shape == (30, 4, 6) and (ss.metadata["L"], ss.metadata["M"]) == (4, 6)
    check_per_sample(ss, model)


# ---------------------------------------------------------------------------------------------------------
# Burn-in and thinning.

def test_thin_defaults_to_three_tau_int_max_and_burn_in_includes_the_pilot():
    ss = simulate_lattice(LatticeModel(L=8), 2.6, 100, seed=4, burn_in=50, backend="cpu")
    md = ss.metadata
    assert md["thin_from_tau"] is True
    assert md["thin"] == max(1, math.ceil(3 * md["tau_int_max"]))
    assert md["burn_in_initial"] == 50
    assert md["burn_in"] == 50 + md["pilot_steps"]
    assert md["pilot_steps"] >= 200
    if md["tau_reliable"]:
        assert md["pilot_steps"] >= 50 * md["tau_int_max"]
    check_per_sample(ss, LatticeModel(L=8))


def test_user_thin_is_honoured():
    model = LatticeModel(L=8)
    ss = simulate_lattice(model, 2.6, 60, seed=4, burn_in=10, thin=5, n_replicas=3, backend="cpu")
    md = ss.metadata
    assert md["thin"] == 5 and md["thin_from_tau"] is False
    assert md["burn_in"] == 10 + md["pilot_steps"]
    np.testing.assert_array_equal(np.diff(ss["step"][::3]), 5)
    check_per_sample(ss, model)


@pytest.mark.parametrize("model,T,method,order", [
    (LatticeModel(L=8), 2.6, "metropolis", "checkerboard"),
    (LatticeModel(L=8), 2.6, "wolff", "checkerboard"),
    (LatticeModel(L=8), 2.6, "multispin", "checkerboard"),
    (LatticeModel(L=6, q=3), 1.0, "heatbath", "checkerboard"),
    (LatticeModel(L=5, M=7, h=0.2), 2.4, "heatbath", "sequential"),
], ids=["metropolis", "wolff", "multispin", "potts-heatbath", "sequential-5x7"])
def test_samples_are_the_chain_states_the_metadata_describes(model, T, method, order):
    ss = simulate_lattice(model, T, 70, seed=21, method=method, order=order, n_replicas=3, burn_in=7,
                          backend="cpu")
    np.testing.assert_array_equal(ss.spins, rebuild_from_metadata(ss, model))


# Thinning keeps every ceil(3 tau_int_max)-th state, so consecutive samples of one chain should have
# autocorrelation about exp(-3) = 0.05 in the slowest observable (the magnetization, tau_int ~ 9 sweeps here)
# and tau_int = 1/2 + sum_k exp(-3 k) = 0.552 along the samples.
TAU_THINNED = 0.5 + math.exp(-3) / (1 - math.exp(-3))


def _thinned_tau_bound(n):
    """TAU_THINNED + 4 standard errors of a tau_int estimate from ``n`` samples, when the claim holds:
    Sokal's var(tau) = 2 (2 W + 1) tau**2 / n with the window W = 3 that c = 5 gives at tau = 0.55."""
    return TAU_THINNED + 4 * TAU_THINNED * math.sqrt(2 * (2 * 3 + 1) / n)


def _thinned_taus(ss):
    """tau_int along the samples of energy, |m| and m, the 4 chains as independent columns."""
    chains = [ss["replica"] == r for r in range(ss.metadata["n_replicas"])]
    return {name: integrated_autocorr_time(np.stack([x[c] for c in chains], axis=1))
            for name, x in (("energy", ss["energy"]), ("|m|", np.abs(ss["magnetization"])),
                            ("m", ss["magnetization"]))}


def _thinned_8x8(thin=None):
    return simulate_lattice(LatticeModel(L=8), 2.6, 1600, seed=9, n_replicas=4, backend="cpu", thin=thin)


@pytest.fixture(scope="module")
def thinned_8x8():
    return _thinned_8x8()


def test_thinned_samples_of_one_chain_are_nearly_independent(thinned_8x8):
    """tau_int along each chain's samples (energy, |m| and m) is TAU_THINNED within 4 standard errors (1600
    samples in 4 chains: bound 0.76; independent samples would give 0.5)."""
    ss = thinned_8x8
    md = ss.metadata
    for r in range(4):
        assert (ss["replica"] == r).sum() == 400
    taus = _thinned_taus(ss)
    assert md["tau_int_energy_of_samples"] == pytest.approx(taus["energy"], rel=1e-12)
    assert max(taus.values()) < _thinned_tau_bound(len(ss)), taus


def test_thinned_tau_check_has_power(thinned_8x8):
    """Power companion: the same chains thinned every tau_int_max instead of every 3 tau_int_max (expected
    tau_int along the samples ~1.1) fail the same bound."""
    taus = _thinned_taus(_thinned_8x8(thin=math.ceil(thinned_8x8.metadata["tau_int_max"])))
    assert max(taus.values()) >= _thinned_tau_bound(1600), taus


def _lag1_within_chains(x, replica, n_rep):
    mu, var = x.mean(), x.var()
    pairs = [(x[replica == r][:-1], x[replica == r][1:]) for r in range(n_rep)]
    a = np.concatenate([p[0] for p in pairs])
    b = np.concatenate([p[1] for p in pairs])
    return float(np.mean((a - mu) * (b - mu)) / var)


# exp(-3) = 0.05; with ~1570 within-chain pairs the standard error of the lag-1 estimate is ~0.025, so 0.15
# leaves 4 standard errors.
LAG1_BOUND = 0.15


def _lag1_of_samples(ss):
    """Lag-1 autocorrelation within chains of energy, |m| and m."""
    R, rep, m = ss.metadata["n_replicas"], ss["replica"], ss["magnetization"]
    return {name: _lag1_within_chains(x, rep, R) for name, x in (("energy", ss["energy"]), ("|m|", np.abs(m)),
                                                                   ("m", m))}


@pytest.fixture(scope="module")
def lag1_runs():
    return {(method, seed): simulate_lattice(LatticeModel(L=8), 2.6, 1600, seed=seed, method=method,
                                             backend="cpu")
            for method in ("metropolis", "heatbath") for seed in (1, 2, 3, 4, 5, 6)}


def test_consecutive_samples_have_autocorrelation_about_exp_minus_3(lag1_runs):
    """Module docstring: "consecutive samples of one chain have autocorrelation about exp(-3) or less", for
    every tracked observable, below LAG1_BOUND."""
    worst = {(method, seed, name): v for (method, seed), ss in lag1_runs.items()
             for name, v in _lag1_of_samples(ss).items()}
    bad = {k: round(v, 3) for k, v in worst.items() if v >= LAG1_BOUND}
    assert not bad, f"lag-1 autocorrelation of thinned samples >= {LAG1_BOUND}: {bad}"


def test_lag1_check_has_power(lag1_runs):
    """Power companion: one of those runs thinned every 1.5 tau_int_max instead of 3 (half the recorded thin;
    expected lag-1 exp(-1.5) = 0.22 in m) fails the same check."""
    thin = lag1_runs[("metropolis", 1)].metadata["thin"] // 2
    ss = simulate_lattice(LatticeModel(L=8), 2.6, 1600, seed=1, method="metropolis", backend="cpu", thin=thin)
    assert max(_lag1_of_samples(ss).values()) >= LAG1_BOUND


# ---------------------------------------------------------------------------------------------------------
# Reproducibility.

def test_same_seed_same_samples_different_seed_different_samples():
    model = LatticeModel(L=8)
    a = simulate_lattice(model, 2.6, 100, seed=5, backend="cpu")
    b = simulate_lattice(model, 2.6, 100, seed=5, backend="cpu")
    c = simulate_lattice(model, 2.6, 100, seed=6, backend="cpu")
    np.testing.assert_array_equal(a.spins, b.spins)
    assert a.metadata == b.metadata
    assert not np.array_equal(a.spins, c.spins)


@pytest.mark.parametrize("method", ["metropolis", "heatbath", "wolff", "multispin"])
def test_result_does_not_depend_on_the_thread_count(method):
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has a single thread here")
    model = LatticeModel(L=8)
    before = numba.get_num_threads()
    try:
        runs = []
        for n in (1, 2):
            numba.set_num_threads(n)
            runs.append(simulate_lattice(model, 2.6, 64, seed=13, method=method, n_replicas=8, backend="cpu"))
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(runs[0].spins, runs[1].spins)
    assert runs[0].metadata == runs[1].metadata


# ---------------------------------------------------------------------------------------------------------
# Every method and model.

@pytest.mark.parametrize("method,order,L,M", [
    ("metropolis", "checkerboard", 8, 8),
    ("heatbath", "checkerboard", 8, 8),
    ("wolff", "checkerboard", 8, 8),
    ("multispin", "checkerboard", 8, 8),
    ("metropolis", "sequential", 5, 7),
    ("heatbath", "sequential", 5, 7),
    ("wolff", "checkerboard", 5, 7),
])
def test_every_ising_method(method, order, L, M):
    model = LatticeModel(L=L, M=M)
    ss = simulate_lattice(model, 2.6, 100, seed=8, method=method, order=order, backend="cpu")
    assert ss.spins.shape == (100, L, M) and ss.spins.dtype == np.int8
    assert set(np.unique(ss.spins)) == {-1, 1}
    md = ss.metadata
    assert (md["sampler"], md["order"], md["L"], md["M"]) == (method, order, L, M)
    assert md["step_unit"] == ("cluster" if method == "wolff" else "sweep")
    assert md["n_replicas"] == (64 if method == "multispin" else 2)
    assert md["acceptance_rate"] > 0
    check_per_sample(ss, model)


@pytest.mark.parametrize("method,order,L,M", [
    ("metropolis", "checkerboard", 6, 6),
    ("heatbath", "checkerboard", 6, 6),
    ("heatbath", "sequential", 5, 7),
])
def test_potts_methods(method, order, L, M):
    model = LatticeModel(L=L, M=M, q=4, h=0.2)
    ss = simulate_lattice(model, 0.9, 60, seed=8, method=method, order=order, backend="cpu")
    assert ss.spins.shape == (60, L, M) and ss.spins.dtype == np.uint8
    assert ss.spins.max() <= 3
    check_per_sample(ss, model)


@pytest.mark.parametrize("kind", ["pm", "gaussian"])
@pytest.mark.parametrize("method", ["metropolis", "heatbath"])
def test_spin_glass(kind, method):
    model = LatticeModel.spin_glass(6, kind=kind, seed=3)
    assert model.quenched and model.j_right.shape == (6, 6)
    if kind == "pm":
        assert set(np.unique(model.j_right)) == {-1.0, 1.0}
    ss = simulate_lattice(model, 1.5, 60, seed=4, method=method, backend="cpu")
    md = ss.metadata
    assert md["model"] == "ea2d" and md["disorder"] == f"{kind}(seed=3)"
    assert ss.spins.dtype == np.int8
    check_per_sample(ss, model)   # energies with the per-bond couplings
    again = LatticeModel.spin_glass(6, kind=kind, seed=3)
    np.testing.assert_array_equal(again.j_down, model.j_down)


# ---------------------------------------------------------------------------------------------------------
# ChainState checkpoints.

@pytest.mark.parametrize("model,method,order,n_rep", [
    (LatticeModel(L=8), "metropolis", "checkerboard", 3),
    (LatticeModel(L=8, h=0.3), "heatbath", "checkerboard", 3),
    (LatticeModel(L=8), "wolff", "checkerboard", 3),
    (LatticeModel(L=8), "multispin", "checkerboard", 64),
    (LatticeModel(L=5, M=7), "metropolis", "sequential", 2),
    (LatticeModel(L=6, q=3), "heatbath", "checkerboard", 2),
    (LatticeModel.spin_glass(6, seed=1), "metropolis", "checkerboard", 2),
], ids=["metropolis", "heatbath-h", "wolff", "multispin", "sequential", "potts", "spin-glass"])
def test_chain_state_save_load_continues_bit_for_bit(tmp_path, model, method, order, n_rep):
    sampler = LatticeSampler(model, 2.0, method=method, order=order, backend="cpu")
    whole = sampler.init_state(n_rep, seed=99)
    sampler.run(whole, 20)

    part = sampler.init_state(n_rep, seed=99)
    sampler.run(part, 10)
    part.save(tmp_path / "chain.npz", sampler)
    assert os.listdir(tmp_path) == ["chain.npz"]
    resumed = ChainState.load(tmp_path / "chain.npz", sampler)
    assert resumed.step == 10 and resumed.seed == 99
    np.testing.assert_array_equal(resumed.spins, part.spins)
    sampler.run(resumed, 10)

    assert resumed.spins.dtype == whole.spins.dtype
    np.testing.assert_array_equal(resumed.spins, whole.spins)
    assert (resumed.step, resumed.n_accepted, resumed.n_attempted) == \
        (whole.step, whole.n_accepted, whole.n_attempted)
    assert not np.array_equal(whole.spins, sampler.init_state(n_rep, seed=99).spins)


def test_multispin_with_padding_lanes_keeps_the_spins_bit_for_bit():
    sampler = LatticeSampler(LatticeModel(L=8), 2.6, method="multispin", backend="cpu")
    a, b = sampler.init_state(3, seed=5), sampler.init_state(3, seed=5)
    sampler.run(a, 20)
    sampler.run(b, 10)
    sampler.run(b, 10)
    np.testing.assert_array_equal(a.spins, b.spins)


def test_multispin_acceptance_counts_do_not_depend_on_how_the_run_is_split():
    sampler = LatticeSampler(LatticeModel(L=8), 2.6, method="multispin", backend="cpu")
    a, b = sampler.init_state(3, seed=5), sampler.init_state(3, seed=5)
    sampler.run(a, 20)
    sampler.run(b, 10)
    sampler.run(b, 10)
    assert (a.n_accepted, a.n_attempted) == (b.n_accepted, b.n_attempted)


def test_chain_state_load_refuses_other_samplers_and_other_files(tmp_path):
    sampler = LatticeSampler(LatticeModel(L=8), 2.0, backend="cpu")
    state = sampler.init_state(2, seed=1)
    state.save(tmp_path / "c.npz", sampler)
    other = LatticeSampler(LatticeModel(L=8), 2.5, backend="cpu")
    with pytest.raises(ValueError, match="different sampler"):
        ChainState.load(tmp_path / "c.npz", other)
    np.savez(tmp_path / "not.npz", spins=state.spins)
    with pytest.raises(ValueError, match="not a fastmf chain checkpoint"):
        ChainState.load(tmp_path / "not.npz")


def test_run_refuses_a_state_of_another_model():
    sampler = LatticeSampler(LatticeModel(L=8), 2.0, backend="cpu")
    state = LatticeSampler(LatticeModel(L=6), 2.0, backend="cpu").init_state(2, seed=1)
    with pytest.raises(ValueError, match="do not match the model"):
        sampler.run(state, 1)


# ---------------------------------------------------------------------------------------------------------
# simulate_lattice checkpoints.

class _Interrupted(Exception):
    pass


def _checkpoint_info(path):
    with np.load(path, allow_pickle=False) as data:
        return json.loads(str(data["info"]))


def test_interrupted_run_resumes_from_its_checkpoint_bit_for_bit(tmp_path, monkeypatch):
    model = LatticeModel(L=8)
    kw = dict(seed=11, n_replicas=4, burn_in=20, backend="cpu")
    reference = simulate_lattice(model, 2.6, 40, **kw)                  # 10 samples per replica
    ck = tmp_path / "ck.npz"
    original = LatticeSampler.run
    seen = {"resume_steps": 0}

    def flaky(self, state, n_steps):                                      # interrupted after 4 samples per replica
        if ck.exists():
            info = _checkpoint_info(ck)
            if info["phase"] == "production" and info["n_collected"] == 4:
                raise _Interrupted
        return original(self, state, n_steps)

    monkeypatch.setattr(LatticeSampler, "run", flaky)
    with pytest.raises(_Interrupted):
        simulate_lattice(model, 2.6, 40, checkpoint=ck, checkpoint_every=1e-9, **kw)
    assert sorted(os.listdir(tmp_path)) == ["ck.npz"]                     # no temporary files
    info = _checkpoint_info(ck)
    with np.load(ck) as data:
        assert data["collected"].shape[0] == 4 and info["into"] >= 1

    def counting(self, state, n_steps):
        seen["resume_steps"] += n_steps
        return original(self, state, n_steps)

    monkeypatch.setattr(LatticeSampler, "run", counting)
    resumed = simulate_lattice(model, 2.6, 40, checkpoint=ck, checkpoint_every=1e-9, **kw)
    assert seen["resume_steps"] == reference.metadata["final_step"] - info["step"]   # no second burn-in or pilot
    np.testing.assert_array_equal(resumed.spins, reference.spins)
    assert resumed.metadata == reference.metadata
    assert set(resumed.per_sample) == set(reference.per_sample)
    for name in reference.per_sample:
        np.testing.assert_array_equal(resumed[name], reference[name])

    # a finished checkpoint resumes to the same result without running anything
    seen["resume_steps"] = 0
    again = simulate_lattice(model, 2.6, 40, checkpoint=ck, **kw)
    assert seen["resume_steps"] == 0
    np.testing.assert_array_equal(again.spins, reference.spins)


def test_checkpoint_of_other_arguments_is_refused(tmp_path):
    model = LatticeModel(L=4)
    ck = tmp_path / "ck.npz"
    simulate_lattice(model, 2.6, 8, seed=1, n_replicas=2, burn_in=0, backend="cpu", checkpoint=ck)
    assert ck.is_file()
    for change in (dict(seed=2), dict(T=2.7), dict(n_samples=10), dict(thin=3), dict(method="heatbath")):
        args = dict(model=model, T=2.6, n_samples=8, seed=1, n_replicas=2, burn_in=0, backend="cpu")
        args.update(change)
        with pytest.raises(ValueError, match="belongs to a different run"):
            simulate_lattice(checkpoint=ck, **args)
    np.savez(tmp_path / "other.npz", spins=np.ones((2, 4, 4), np.int8))
    with pytest.raises(ValueError, match="not a fastmf simulate checkpoint"):
        simulate_lattice(model, 2.6, 8, seed=1, backend="cpu", checkpoint=tmp_path / "other.npz")


# ---------------------------------------------------------------------------------------------------------
# Invalid input.

@pytest.mark.parametrize("T", [0, 0.0, -1.0])
def test_non_positive_temperature(T):
    with pytest.raises(ValueError, match=r"T must be > 0"):
        simulate_lattice(LatticeModel(L=4), T, 10, seed=1, backend="cpu")


@pytest.mark.parametrize("T,exc", [(float("nan"), ValueError), (float("inf"), ValueError),
                                   ("hot", TypeError)])
def test_non_finite_temperature(T, exc):
    with pytest.raises(exc, match="T must be"):
        simulate_lattice(LatticeModel(L=4), T, 10, seed=1, backend="cpu")


@pytest.mark.parametrize("field", ["J", "h"])
def test_nan_couplings(field):
    with pytest.raises(ValueError, match=f"{field} must be finite"):
        LatticeModel(L=4, **{field: float("nan")})


@pytest.mark.parametrize("L,M", [(5, 5), (4, 7)])
@pytest.mark.parametrize("method", ["metropolis", "heatbath", "multispin"])
def test_odd_side_with_checkerboard(L, M, method):
    with pytest.raises(ValueError, match="even") as info:
        simulate_lattice(LatticeModel(L=L, M=M), 2.5, 10, seed=1, method=method, backend="cpu")
    assert "bipartite" in str(info.value)


@pytest.mark.parametrize("q,error,message", [(1, ValueError, "q must be >= 2"), (0, ValueError, "q must be >= 2"),
                                             (256, ValueError, "q must be <= 255"),
                                             (2.5, TypeError, "q must be an integer"),
                                             (True, TypeError, "q must be an integer")])
def test_bad_q(q, error, message):
    with pytest.raises(error, match=message):
        LatticeModel(L=4, q=q)


@pytest.mark.parametrize("L,error,message", [(1, ValueError, "L must be >= 2"), (0, ValueError, "L must be >= 2"),
                                             (4.0, TypeError, "L must be an integer"),
                                             (True, TypeError, "L must be an integer")])
def test_bad_size(L, error, message):
    with pytest.raises(error, match=message):
        LatticeModel(L=L)


@pytest.mark.parametrize("n", [0, -3, 2.0, True])
def test_bad_n_samples(n):
    with pytest.raises(ValueError, match="n_samples must be a positive integer"):
        simulate_lattice(LatticeModel(L=4), 2.5, n, seed=1, backend="cpu")


@pytest.mark.parametrize("name,value", [("burn_in", -1), ("thin", 0), ("thin", 2.5)])
def test_bad_schedule(name, value):
    with pytest.raises(ValueError, match=f"{name} must be an integer"):
        simulate_lattice(LatticeModel(L=4), 2.5, 10, seed=1, backend="cpu", **{name: value})


def test_bad_seed():
    for seed in (-1, 2 ** 32):
        with pytest.raises(ValueError, match="seed"):
            simulate_lattice(LatticeModel(L=4), 2.5, 10, seed=seed, backend="cpu")


def test_bad_n_replicas_in_the_sampler():
    with pytest.raises(ValueError, match="n_replicas must be a positive integer"):
        LatticeSampler(LatticeModel(L=4), 2.5, backend="cpu").init_state(0, seed=1)


def test_bad_n_replicas():
    for n_rep in (0, -2):
        with pytest.raises(ValueError, match="n_replicas"):
            simulate_lattice(LatticeModel(L=4), 2.5, 10, seed=1, n_replicas=n_rep, backend="cpu")


def test_unknown_method_backend_order_start():
    model = LatticeModel(L=4)
    with pytest.raises(ValueError, match="unknown method 'gibbs'"):
        simulate_lattice(model, 2.5, 10, seed=1, method="gibbs", backend="cpu")
    with pytest.raises(ValueError, match="unknown backend 'gpu'"):
        simulate_lattice(model, 2.5, 10, seed=1, backend="gpu")
    with pytest.raises(ValueError, match="order must be"):
        simulate_lattice(model, 2.5, 10, seed=1, order="random", backend="cpu")
    with pytest.raises(ValueError, match="start must be"):
        simulate_lattice(model, 2.5, 10, seed=1, start="warm", backend="cpu")


@pytest.mark.parametrize("backend", ["cuda", "cupy"])
def test_gpu_backend_without_gpu(backend):
    if gpu_available():
        pytest.skip("a GPU is usable here")
    with pytest.raises(RuntimeError, match="cpu"):
        simulate_lattice(LatticeModel(L=4), 2.5, 10, seed=1, backend=backend)


def test_wolff_needs_zero_field_and_nonzero_coupling():
    with pytest.raises(ValueError, match="h = 0"):
        simulate_lattice(LatticeModel(L=4, h=0.1), 2.5, 10, seed=1, method="wolff", backend="cpu")
    with pytest.raises(ValueError, match="J != 0"):
        simulate_lattice(LatticeModel(L=4, J=0.0), 2.5, 10, seed=1, method="wolff", backend="cpu")


@pytest.mark.parametrize("method", ["wolff", "multispin"])
def test_cluster_and_multispin_refuse_potts_and_spin_glasses(method):
    for model in (LatticeModel(L=4, q=3), LatticeModel.spin_glass(4, seed=0)):
        with pytest.raises(ValueError, match="Ising model with uniform J only"):
            simulate_lattice(model, 2.5, 10, seed=1, method=method, backend="cpu")


def test_bad_spin_glass_kind():
    with pytest.raises(ValueError, match="kind must be"):
        LatticeModel.spin_glass(4, kind="uniform")
