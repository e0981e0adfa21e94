"""simulate checkpoints protect the work in every phase: a run killed during burn-in, the pilot or production
resumes from its last checkpoint and returns bit for bit what an uninterrupted run without a checkpoint
returns; checkpoints are written by wall time; damaged files are refused with a message naming them."""
import json
import math
import os
import signal
import subprocess
import sys
import time
import tracemalloc
import types

import numpy as np
import pytest

from fastmf.cli import main
from fastmf.io import ResourceLimitError
from fastmf.models.lattice import LatticeModel
from fastmf.models.meanfield import GraphSpinGlass
from fastmf.sampling import simulate as sim
from fastmf.sampling.lattice import LatticeSampler
from fastmf.sampling.meanfield import TemperingSampler
from fastmf.sampling.simulate import simulate_chains, simulate_lattice


def _info(path):
    with np.load(path, allow_pickle=False) as data:
        return json.loads(str(data["info"]))


def _assert_same_samples(a, b):
    np.testing.assert_array_equal(a.spins, b.spins)
    assert a.spins.dtype == b.spins.dtype
    assert json.dumps(a.metadata, sort_keys=True) == json.dumps(b.metadata, sort_keys=True)
    assert list(a.per_sample) == list(b.per_sample)
    for name in a.per_sample:
        np.testing.assert_array_equal(a[name], b[name])


def _assert_same_files(a, b):
    """Two sample files hold the same arrays, byte for byte, and the same metadata."""
    with np.load(a, allow_pickle=False) as x, np.load(b, allow_pickle=False) as y:
        assert sorted(x.files) == sorted(y.files)
        for name in x.files:
            assert x[name].dtype == y[name].dtype and x[name].shape == y[name].shape, name
            assert x[name].tobytes() == y[name].tobytes(), name


# ---------------------------------------------------------------------------------------------------------
# (a) The command line, killed with SIGKILL during burn-in.

def _burn_in_lasting(seconds):
    """Burn-in sweeps of the test's chains (L=8, 2 replicas) that take about ``seconds`` here."""
    sampler = LatticeSampler(LatticeModel(L=8), 2.6, backend="cpu")
    state = sampler.init_state(2, seed=3)
    sampler.run(state, 100)                                            # compiled / loaded from the cache
    t0 = time.perf_counter()
    sampler.run(state, 20_000)
    per_sweep = max(time.perf_counter() - t0, 1e-6) / 20_000
    return int(min(max(seconds / per_sweep, 50_000), 50_000_000))


def _cli(out, burn_in, *extra):
    return [sys.executable, "-m", "fastmf.cli", "simulate", "ising2d", "--L", "8", "--T", "2.6", "--n-samples", "20",
            "--n-replicas", "2", "--thin", "2", "--burn-in", str(burn_in), "--seed", "3", "--backend", "cpu",
            "--no-progress", "--out", str(out), *extra]


def test_cli_run_killed_during_burn_in_resumes_bit_for_bit(tmp_path):
    burn_in = _burn_in_lasting(2.0)
    ck, out, ref = tmp_path / "ck.npz", tmp_path / "out.npz", tmp_path / "ref.npz"
    command = _cli(out, burn_in, "--checkpoint", str(ck), "--checkpoint-every", "0.2")

    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, f"the run ended before it was killed: {proc.stderr.read().decode()}"
            assert time.monotonic() < deadline, "no checkpoint appeared"
            if ck.exists():
                info = _info(ck)
                assert info["phase"] == "burn-in", f"burn-in ended before a checkpoint was seen: {info['phase']}"
                if info["burn_in_done"] > 0:
                    break
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    info = _info(ck)
    assert info["phase"] == "burn-in" and 0 < info["burn_in_done"] < burn_in
    assert not out.exists()

    resumed = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert main(_cli(ref, burn_in)[3:]) == 0                             # the same command, in this process
    _assert_same_files(out, ref)
    assert _info(ck)["phase"] == "done"                                # kept: a rerun returns at once
    assert sorted(os.listdir(tmp_path)) == ["ck.npz", "out.npz", "ref.npz"]   # no temporaries left


# ---------------------------------------------------------------------------------------------------------
# (b) Interrupted in each phase (in-process), resumed from the last checkpoint.

_KW = dict(seed=11, n_replicas=3, burn_in=60, thin=5, pilot_steps=8, max_pilot_steps=64, backend="cpu",
           progress=False)
_STOP_AT = {
    "burn-in": lambda info: info["phase"] == "burn-in" and info["burn_in_done"] == 25,
    "pilot": lambda info: info["phase"] == "pilot" and info["pilot_target"] == 32 and info["step"] == 60 + 20,
    "production": lambda info: info["phase"] == "production" and info["n_collected"] == 3 and info["into"] == 5,
    "production-mid-sample": lambda info: info["phase"] == "production" and info["n_collected"] == 4
    and info["into"] == 2,
}


def _run_counting_steps(monkeypatch, call):
    steps = []
    original = LatticeSampler.run

    def counting(self, state, n_steps):
        steps.append(n_steps)
        return original(self, state, n_steps)

    monkeypatch.setattr(LatticeSampler, "run", counting)
    try:
        return call(), sum(steps)
    finally:
        monkeypatch.setattr(LatticeSampler, "run", original)


@pytest.mark.parametrize("where", sorted(_STOP_AT))
def test_run_interrupted_in_each_phase_resumes_bit_for_bit(tmp_path, monkeypatch, where):
    model = LatticeModel(L=6)
    reference = simulate_lattice(model, 2.6, 24, **_KW)
    ck = tmp_path / "ck.npz"
    original = sim._Checkpoint.save

    def interrupt(self, state, phase, info, arrays):
        original(self, state, phase, info, arrays)
        if _STOP_AT[where](_info(ck)):
            raise KeyboardInterrupt

    monkeypatch.setattr(sim._Checkpoint, "save", interrupt)
    with pytest.raises(KeyboardInterrupt):
        simulate_lattice(model, 2.6, 24, checkpoint=ck, checkpoint_every=1e-9, **_KW)
    monkeypatch.setattr(sim._Checkpoint, "save", original)
    saved = _info(ck)
    assert _STOP_AT[where](saved)
    assert sorted(os.listdir(tmp_path)) == ["ck.npz"]

    resumed, steps = _run_counting_steps(monkeypatch, lambda: simulate_lattice(model, 2.6, 24, checkpoint=ck,
                                                                                checkpoint_every=1e-9, **_KW))
    _assert_same_samples(resumed, reference)
    assert steps == reference.metadata["final_step"] - saved["step"]      # nothing done twice
    assert _info(ck)["phase"] == "done"

    again, steps = _run_counting_steps(monkeypatch, lambda: simulate_lattice(model, 2.6, 24, checkpoint=ck, **_KW))
    assert steps == 0                                                     # a finished checkpoint runs nothing
    _assert_same_samples(again, reference)


def test_interrupted_twice_in_different_phases(tmp_path, monkeypatch):
    model = LatticeModel(L=6)
    reference = simulate_lattice(model, 2.6, 24, **_KW)
    ck = tmp_path / "ck.npz"
    original = sim._Checkpoint.save
    for where in ("burn-in", "production-mid-sample"):
        def interrupt(self, state, phase, info, arrays, where=where):
            original(self, state, phase, info, arrays)
            if _STOP_AT[where](_info(ck)):
                raise KeyboardInterrupt
        monkeypatch.setattr(sim._Checkpoint, "save", interrupt)
        with pytest.raises(KeyboardInterrupt):
            simulate_lattice(model, 2.6, 24, checkpoint=ck, checkpoint_every=1e-9, **_KW)
    monkeypatch.setattr(sim._Checkpoint, "save", original)
    _assert_same_samples(simulate_lattice(model, 2.6, 24, checkpoint=ck, **_KW), reference)


def test_checkpoints_are_written_by_wall_time_in_every_phase(tmp_path, monkeypatch):
    """A clock that advances 0.5 s per reading: with checkpoint_every=10, a write every ~20 readings, in every
    phase, and never two writes less than 10 (fake) seconds apart."""
    model = LatticeModel(L=6)
    reference = simulate_lattice(model, 2.6, 24, **_KW)
    now = [0.0]

    def monotonic():
        now[0] += 0.5
        return now[0]

    monkeypatch.setattr(sim, "time", types.SimpleNamespace(monotonic=monotonic))
    writes = []
    original = sim._Checkpoint.save

    def record(self, state, phase, info, arrays):
        writes.append((phase, now[0]))
        original(self, state, phase, info, arrays)

    monkeypatch.setattr(sim._Checkpoint, "save", record)
    samples = simulate_lattice(model, 2.6, 24, checkpoint=tmp_path / "ck.npz", checkpoint_every=10, **_KW)
    _assert_same_samples(samples, reference)
    assert {phase for phase, _ in writes} == {"burn-in", "pilot", "production", "done"}
    times = [t for phase, t in writes if phase != "done"]
    assert all(b - a >= 10 for a, b in zip(times, times[1:]))


def test_default_interval_writes_only_the_finished_run(tmp_path, monkeypatch):
    writes = []
    original = sim._Checkpoint.save

    def record(self, state, phase, info, arrays):
        writes.append(phase)
        original(self, state, phase, info, arrays)

    monkeypatch.setattr(sim._Checkpoint, "save", record)
    simulate_lattice(LatticeModel(L=6), 2.6, 24, checkpoint=tmp_path / "ck.npz", **_KW)
    assert writes == ["done"]


@pytest.mark.parametrize("method", ["metropolis", "heatbath", "wolff", "multispin"])
def test_chunked_burn_in_and_thinning_give_the_chain_of_one_call(tmp_path, monkeypatch, method):
    """The chunks that checkpointing cuts the phases into (single steps, or growing ones of about a
    millisecond) do not change the chain (counter-based draws). Writes are skipped here (chunking only)."""
    monkeypatch.setattr(sim._Checkpoint, "save", lambda self, *args: None)
    for every, burn_in in ((1e-9, 300), (0.004, 3000)):
        kw = dict(_KW, burn_in=burn_in, thin=17, method=method)
        reference = simulate_lattice(LatticeModel(L=8), 2.4, 20, **kw)
        chunked = simulate_lattice(LatticeModel(L=8), 2.4, 20, checkpoint=tmp_path / f"{every}.npz",
                                   checkpoint_every=every, **kw)
        _assert_same_samples(chunked, reference)


# ---------------------------------------------------------------------------------------------------------
# (c) Files that are not a checkpoint of this run.

def _checkpoint(tmp_path, name="good.npz", **kw):
    path = tmp_path / name
    simulate_lattice(LatticeModel(L=4), 2.6, 8, seed=1, n_replicas=2, burn_in=10, thin=2, backend="cpu",
                     progress=False, checkpoint=path, **kw)
    return path


def _rewrite(tmp_path, name, change):
    """A copy of a finished checkpoint with ``change(info, arrays)`` applied."""
    with np.load(_checkpoint(tmp_path), allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    info = json.loads(str(arrays.pop("info")))
    change(info, arrays)
    path = tmp_path / name
    np.savez(path, info=np.array(json.dumps(info)), **arrays)
    return path


def _damaged(tmp_path, kind):
    path = tmp_path / "bad.npz"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "random-bytes":
        path.write_bytes(np.random.default_rng(0).bytes(4000))
    elif kind == "text":
        path.write_text("not a checkpoint\n")
    elif kind == "npy":
        with open(path, "wb") as fh:
            np.save(fh, np.zeros(3))
    elif kind == "truncated":
        data = _checkpoint(tmp_path).read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif kind == "sample-file":
        simulate_lattice(LatticeModel(L=4), 2.6, 8, seed=1, backend="cpu", progress=False).save(path)
    elif kind == "chain-checkpoint":
        sampler = LatticeSampler(LatticeModel(L=4), 2.6, backend="cpu")
        sampler.init_state(2, seed=1).save(path, sampler)
    elif kind == "object-array":
        np.savez(path, info=np.array([{"a": 1}], dtype=object), spins=np.zeros((2, 4, 4), np.int8))
    elif kind == "info-not-json":
        return _raw_info(path, "{oops")
    elif kind == "info-a-list":
        return _raw_info(path, "[1, 2]")
    elif kind == "no-collected":
        return _rewrite(tmp_path, "bad.npz", lambda info, arrays: arrays.pop("collected"))
    elif kind == "wrong-spins-shape":
        return _rewrite(tmp_path, "bad.npz", lambda info, arrays: arrays.update(spins=np.ones((2, 4, 5), np.int8)))
    elif kind == "inconsistent-step":
        return _rewrite(tmp_path, "bad.npz", lambda info, arrays: info.update(step=info["step"] + 1))
    elif kind == "unknown-phase":
        return _rewrite(tmp_path, "bad.npz", lambda info, arrays: info.update(phase="warm-up"))
    elif kind == "negative-counter":
        return _rewrite(tmp_path, "bad.npz", lambda info, arrays: info.update(n_accepted=-1))
    elif kind == "taus-wrong-type":
        return _rewrite(tmp_path, "bad.npz", lambda info, arrays: info.update(taus=[1.0]))
    elif kind == "pilot-records-missing":
        return _rewrite(tmp_path, "bad.npz", lambda info, arrays: info.update(
            phase="pilot", pilot_target=8, pilot_names=["energy"], step=10 + 3))
    return path


def _raw_info(path, text):
    np.savez(path, info=np.array(text), spins=np.ones((2, 4, 4), np.int8), collected=np.ones((1, 2, 4, 4), np.int8))
    return path


_KINDS = ["empty", "random-bytes", "text", "npy", "truncated", "sample-file", "chain-checkpoint", "object-array",
          "info-not-json", "info-a-list", "no-collected", "wrong-spins-shape", "inconsistent-step", "unknown-phase",
          "negative-counter", "taus-wrong-type", "pilot-records-missing"]


@pytest.mark.parametrize("kind", _KINDS)
def test_a_damaged_checkpoint_is_refused_naming_the_file(tmp_path, kind):
    path = _damaged(tmp_path, kind)
    before = path.read_bytes()
    listing = sorted(os.listdir(tmp_path))
    with pytest.raises(ValueError) as info:
        simulate_lattice(LatticeModel(L=4), 2.6, 8, seed=1, n_replicas=2, burn_in=10, thin=2, backend="cpu",
                         progress=False, checkpoint=path)
    assert str(path) in str(info.value)
    assert "Traceback" not in str(info.value) and "allow_pickle" not in str(info.value)
    assert path.read_bytes() == before and sorted(os.listdir(tmp_path)) == listing


def test_the_command_line_refuses_a_damaged_checkpoint_in_one_line(tmp_path, capsys):
    ck, out = _damaged(tmp_path, "truncated"), tmp_path / "out.npz"
    before = ck.read_bytes()
    code = main(["simulate", "ising2d", "--L", "4", "--T", "2.6", "--n-samples", "8", "--seed", "1", "--backend",
                 "cpu", "--no-progress", "--checkpoint", str(ck), "--checkpoint-every", "1", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and str(ck) in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists() and ck.read_bytes() == before


def test_a_checkpoint_of_other_arguments_is_refused(tmp_path):
    path = _checkpoint(tmp_path)
    with pytest.raises(ValueError, match="belongs to a different run"):
        simulate_lattice(LatticeModel(L=4), 2.6, 8, seed=2, n_replicas=2, burn_in=10, thin=2, backend="cpu",
                         progress=False, checkpoint=path)


def test_a_format_1_checkpoint_still_resumes(tmp_path, monkeypatch):
    """fastmf 0.2 checkpoints (production progress only, no phase) resume to the same samples."""
    model = LatticeModel(L=6)
    reference = simulate_lattice(model, 2.6, 24, **_KW)
    ck = tmp_path / "ck.npz"
    original = sim._Checkpoint.save

    def interrupt(self, state, phase, info, arrays):
        original(self, state, phase, info, arrays)
        if _STOP_AT["production"](_info(ck)):
            raise KeyboardInterrupt

    monkeypatch.setattr(sim._Checkpoint, "save", interrupt)
    with pytest.raises(KeyboardInterrupt):
        simulate_lattice(model, 2.6, 24, checkpoint=ck, checkpoint_every=1e-9, **_KW)
    monkeypatch.setattr(sim._Checkpoint, "save", original)
    with np.load(ck, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    info = json.loads(str(arrays.pop("info")))
    for key in ("format", "phase", "n_collected", "into"):
        info.pop(key)
    # format 1 was written right after a sample was taken: the state's spins are the last sample
    arrays["collected"] = np.concatenate([arrays["collected"], arrays["spins"][None]])
    np.savez(ck, info=np.array(json.dumps(info)), **arrays)
    _assert_same_samples(simulate_lattice(model, 2.6, 24, checkpoint=ck, **_KW), reference)


# ---------------------------------------------------------------------------------------------------------
# Arguments and sizes refused before any work.

@pytest.mark.parametrize("every,error", [(0, ValueError), (-1.0, ValueError), (math.nan, ValueError),
                                         (math.inf, ValueError), ("soon", TypeError), (True, TypeError)])
def test_bad_checkpoint_interval(tmp_path, every, error):
    with pytest.raises(error, match="checkpoint_every"):
        simulate_lattice(LatticeModel(L=4), 2.6, 8, seed=1, backend="cpu", checkpoint=tmp_path / "ck.npz",
                         checkpoint_every=every)
    assert os.listdir(tmp_path) == []


def test_tempering_cannot_checkpoint(tmp_path):
    sampler = TemperingSampler(GraphSpinGlass.sk(8, seed=1), 0.8, n_temperatures=3)
    with pytest.raises(ValueError, match="checkpoints are not supported"):
        simulate_chains(sampler, 8, seed=1, checkpoint=tmp_path / "ck.npz", progress=False)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("n_samples,limit", [(10 ** 11, None), (10 ** 6, "1M")])
def test_samples_above_the_memory_limit_are_refused_before_allocating(tmp_path, monkeypatch, n_samples, limit):
    if limit:
        monkeypatch.setenv("FASTMF_MAX_MEMORY", limit)
    # before allocating: the traced peak stays far below the refused size (no timing here: benchmarks/bench_limits.py)
    tracemalloc.start()
    with pytest.raises(ResourceLimitError, match=f"{n_samples} samples of 8x8 int8 spins.*FASTMF_MAX_MEMORY"):
        simulate_lattice(LatticeModel(L=8), 2.6, n_samples, seed=1, backend="cpu", checkpoint=tmp_path / "ck.npz")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 16 * 2 ** 20 and os.listdir(tmp_path) == [], peak


def test_the_memory_estimate_leaves_ordinary_runs_alone(monkeypatch):
    monkeypatch.setenv("FASTMF_MAX_MEMORY", "1M")        # 1000 samples of 8x8 spins: about 100 KB
    samples = simulate_lattice(LatticeModel(L=8), 2.6, 1000, seed=1, n_replicas=4, burn_in=10, thin=1,
                               backend="cpu", progress=False)
    assert samples.spins.shape == (1000, 8, 8)
