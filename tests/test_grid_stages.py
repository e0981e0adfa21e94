"""``fastmf grid`` beyond its 0.1 tasks (issue 21): chained stages simulate -> train -> decode -> compare on a real
dask.distributed LocalCluster, artifacts on request, a chain resumed at its first unfinished stage (after a failed
stage, and after the client is killed with SIGKILL), user functions ``package.module:function`` (this module is
one: the workers import it from ``PYTHONPATH``), and the refusal of bad values along an axis before anything is
submitted or written; the stages' physics where a brute force checks it."""
import json
import math
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

import fastmf.grid_stages  # noqa: E402
from fastmf.cli import main  # noqa: E402
from fastmf.grid import load_config, parse_config, read_table, run_grid, run_task, task_id  # noqa: E402
from fastmf.grid_user import flat_result  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

#: a tiny chain: Hopfield N = 12, P = 2, 200 samples, a VAE of 2 epochs, the pattern read-off, the comparison
CHAIN = """
task = ["simulate", "train", "decode", "compare"]
model = "hopfield"
keep = {keep}
plot = [["train.rate", "decode.mean_overlap"], "compare.energy_ratio"]

[fixed]
N = 12
P = 2
n_samples = 200

[fixed.train]
epochs = 2
hidden = 8

[fixed.compare]
splits = 2
triples = 50

[grid]
T = [0.5, 1.0]
seed = [0, 1]
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def quiet(*args):
    pass


def toy_field(N: int, T: float, seed: int = 0, label: str = "toy", n_samples: int = 500):
    """A user function: N independent spins in a unit field at temperature T, sampled; the exact mean energy per
    spin is -tanh(1/T)."""
    rng = np.random.default_rng(seed)
    spins = np.where(rng.random((n_samples, N)) < 1 / (1 + math.exp(-2 / T)), 1, -1)
    return {"energy": -float(spins.mean()), "exact": -math.tanh(1 / T), "kind": label, "sites": np.int64(N)}


def not_a_dict(N: int = 2):
    """A user function that breaks the contract (returns a list)."""
    return [N]


class NoSubmit:
    """A client that fails the test if anything is submitted to it."""

    def submit(self, *args, **kwargs):
        raise AssertionError("a task was submitted")

    def nthreads(self):
        return {}


@pytest.fixture(scope="module")
def cluster():
    """Two single-threaded worker processes that can import this module (it holds the user functions)."""
    from distributed import Client, LocalCluster
    path = os.pathsep.join(p for p in (HERE, os.environ.get("PYTHONPATH")) if p)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0",
                      env={"NUMBA_NUM_THREADS": "1", "PYTHONPATH": path}) as c, Client(c) as client:
        yield c, client


@pytest.fixture(scope="module")
def reference(cluster, tmp_path_factory):
    """The chain run undisturbed, keeping samples and models."""
    tmp = tmp_path_factory.mktemp("reference")
    cfg = write(tmp, "chain.toml", CHAIN.format(keep='["samples", "model"]'))
    summary = run_grid(cfg, tmp / "out", client=cluster[1], printer=quiet)
    return cfg, tmp / "out", summary


def records(out):
    return {p.stem: json.loads(p.read_text()) for p in (out / "tasks").glob("*.json")}


# ------------------------------------------------------------------------------------------ chains
def test_chain_runs_every_stage_and_keeps_the_artifacts(reference):
    """Each row holds the prefixed results of every stage; the kept samples and model are readable files of that
    task, nothing else is left in its directory; a second run skips every task."""
    from fastmf.io import load_samples
    from fastmf.vae import VAE
    cfg, out, summary = reference
    assert summary["ran"] == 4 and summary["missing"] == 0 and summary["failed"] == 0
    table = read_table(out / "results.csv")
    assert table["T"] == [0.5, 0.5, 1.0, 1.0] and table["train.epochs"] == [2] * 4
    for column in ("simulate.energy_per_spin", "simulate.order", "train.rate", "decode.mean_overlap",
                   "decode.fraction_recovered", "compare.energy", "compare.energy_ratio", "compare.basins_ratio"):
        assert all(np.isfinite(table[column])), column
    assert np.mean(table["simulate.order"][:2]) > np.mean(table["simulate.order"][2:])   # retrieval at low T
    header = (out / "results.csv").read_text().splitlines()[0].split(",")
    assert header[:8] == ["T", "seed", "N", "P", "n_samples", "train.epochs", "train.hidden", "compare.splits"]
    stages = [c.split(".")[0] for c in header[9:]]
    assert stages == sorted(stages, key=["simulate", "train", "decode", "compare"].index)
    for tid, rec in records(out).items():
        assert sorted(os.listdir(out / "tasks" / tid)) == ["model.npz", "samples.npz"]
        assert rec["kept"] == ["samples.npz", "model.npz"] and not any(s["resumed"] for s in rec["stages"].values())
        samples = load_samples(out / "tasks" / tid / "samples.npz")
        assert samples.spins.shape == (200, 12) and VAE.load(out / "tasks" / tid / "model.npz").latent_dim == 2
    assert (out / "grid.png").stat().st_size > 5000
    assert run_grid(cfg, out, client=NoSubmit(), printer=quiet)["skipped"] == 4


def test_resume_after_a_failed_stage_restarts_at_it(cluster, reference, tmp_path, monkeypatch):
    """A chain whose third stage fails keeps the records of the first two; the rerun (on the cluster, without
    keep) reads them instead of recomputing, leaves no file of the task behind and writes the undisturbed table,
    byte for byte."""
    cfg = write(tmp_path, "chain.toml", CHAIN.format(keep="[]"))
    out = tmp_path / "out"
    first = load_config(cfg).tasks()[0]
    task_dir = out / "tasks" / task_id(first)
    (out / "tasks").mkdir(parents=True)

    def crash(ctx, values):
        raise RuntimeError("planted crash of stage 3")

    monkeypatch.setitem(fastmf.grid_stages.STAGE_FUNCTIONS, "decode", crash)
    reply = run_task(first, str(task_dir), ())
    assert not reply["ok"] and "planted crash" in reply["traceback"]
    assert sorted(os.listdir(task_dir)) == ["model.npz", "samples.npz", "simulate.json", "train.json"]
    monkeypatch.undo()
    summary = run_grid(cfg, out, client=cluster[1], printer=quiet)
    assert summary["ran"] == 4 and summary["missing"] == 0
    resumed = {s: v["resumed"] for s, v in records(out)[task_id(first)]["stages"].items()}
    assert resumed == {"simulate": True, "train": True, "decode": False, "compare": False}
    assert all(p.is_file() and p.suffix == ".json" for p in (out / "tasks").iterdir())   # no task directory
    assert (out / "results.csv").read_bytes() == (reference[1] / "results.csv").read_bytes()


def test_without_a_shared_filesystem_the_kept_files_come_back(tmp_path):
    """A worker that does not see the output directory runs the task in a temporary directory and returns the
    kept files with the result (the client writes them); nothing is written where it looked."""
    from fastmf.io import load_samples
    params = parse_config({"task": "simulate", "keep": ["samples"], "fixed": {"N": 8, "n_samples": 50},
                           "grid": {"T": [1.0]}}).tasks()[0]
    reply = run_task(params, str(tmp_path / "elsewhere" / "tasks" / task_id(params)), ("samples",))
    assert reply["ok"] and reply["kept"] == ["samples.npz"] and list(reply["files"]) == ["samples.npz"]
    (tmp_path / "copy.npz").write_bytes(reply["files"]["samples.npz"])
    assert load_samples(tmp_path / "copy.npz").spins.shape == (50, 8)
    assert not (tmp_path / "elsewhere").exists()


def test_client_killed_mid_chain_resumes_to_the_same_table(cluster, reference, tmp_path):
    """The process running the chain grid is killed (SIGKILL) once a stage is recorded; the rerun finishes it
    without recomputing the recorded stages (their kept samples keep their modification times) and writes the
    undisturbed table, byte for byte."""
    c, client = cluster
    cfg = write(tmp_path, "chain.toml", CHAIN.format(keep='["samples"]'))
    out = tmp_path / "out"
    code = textwrap.dedent(f"""
        from fastmf.cli import main
        main(["grid", {str(cfg)!r}, "--out", {str(out)!r}, "--scheduler", {c.scheduler_address!r}, "--no-progress"])
    """)
    with open(tmp_path / "stderr.txt", "w") as err:
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=err)
    try:
        t0 = time.time()
        while not list(out.glob("tasks/*/simulate.json")) and proc.poll() is None and time.time() - t0 < 120:
            time.sleep(0.02)
    finally:
        proc.kill()
        proc.wait()
    recorded = {p.parent / "samples.npz": (p.parent / "samples.npz").stat().st_mtime_ns
                for p in out.glob("tasks/*/simulate.json")}
    done = len(list(out.glob("tasks/*.json")))
    assert recorded and done < 4, (tmp_path / "stderr.txt").read_text()[-2000:]
    summary = run_grid(cfg, out, client=client, printer=quiet)
    assert summary["skipped"] == done and summary["missing"] == 0
    assert {p: p.stat().st_mtime_ns for p in recorded} == recorded
    assert (out / "results.csv").read_bytes() == (reference[1] / "results.csv").read_bytes()
    assert all(sorted(os.listdir(d)) == ["samples.npz"] for d in (out / "tasks").iterdir() if d.is_dir())


# ------------------------------------------------------------------------------------------ user functions
USER = """
task = "test_grid_stages:{name}"
[fixed]
label = "field"
[grid]
T = [0.5, 2.0]
N = [4, 8]
"""


def test_user_function_grid(cluster, tmp_path):
    """The function runs on the workers with each point's parameters; its results (numbers and strings, a NumPy
    integer converted) are the table's columns, sorted; one that returns a list fails with a clear message."""
    _, client = cluster
    out = tmp_path / "out"
    summary = run_grid(write(tmp_path, "user.toml", USER.format(name="toy_field")), out, client=client,
                       printer=quiet)
    assert summary["ran"] == 4 and summary["missing"] == 0
    table = read_table(out / "results.csv")
    assert list(table) == ["T", "N", "label", "energy", "exact", "kind", "sites"]
    assert table["sites"] == [4, 8, 4, 8] and table["kind"] == ["field"] * 4
    assert np.allclose(table["energy"], table["exact"], atol=0.1)
    rec = json.loads(next((out / "tasks").glob("*.json")).read_text())
    assert rec["params"]["n_samples"] == 500 and rec["params"]["seed"] == 0          # the function's defaults
    bad = run_grid(write(tmp_path, "bad.toml", 'task = "test_grid_stages:not_a_dict"\n[grid]\nN = [2, 3]\n'),
                   tmp_path / "bad", client=client, printer=quiet)
    assert bad["failed"] == 2 and bad["missing"] == 2
    text = (tmp_path / "bad" / bad["failures"][0]["traceback"]).read_text()
    assert "user function test_grid_stages:not_a_dict returned list, expected a flat dict" in text


def test_flat_result_checks_and_converts():
    out = flat_result({"a": np.float32(0.5), "b": np.int64(3), "c": True, "d": "x"}, "f")
    assert out == {"a": 0.5, "b": 3, "c": 1, "d": "x"} and type(out["b"]) is int and type(out["a"]) is float
    for bad, match in (([1], "returned list"), ({"a": [1]}, "'a': list"), ({1: 2}, "key 1"),
                       ({"N": 1}, "also a parameter")):
        with pytest.raises(TypeError, match=match):
            flat_result(bad, "f", reserved=("N",))


# ------------------------------------------------------------------------------------------ refusals
REFUSED = [
    (CHAIN.format(keep="[]").replace("epochs = 2\n", "")
     .replace("seed = [0, 1]", 'seed = [0, 1]\n"train.epochs" = [2, 0]'),
     ValueError, r"\[grid\] train.epochs\[1\] = 0: train.epochs must be an integer >= 1"),
    (CHAIN.format(keep="[]").replace("seed = [0, 1]", "seed = [0, 1.5]"), TypeError, r"seed\[1\] = 1.5"),
    (CHAIN.format(keep="[]").replace("P = 2", "P = 12"), ValueError, "P = 12 with N = 12: .*needs P < N"),
    (CHAIN.format(keep='["decoded", "exact"]'), ValueError, "'exact' is not an artifact of this task"),
    (CHAIN.format(keep="[]").replace('"simulate", "train"', '"train", "simulate"'), ValueError,
     "stage 'train' needs the samples of an earlier stage"),
    (CHAIN.format(keep="[]").replace("n_samples = 200", "\"simulate.T\" = 1.0"), ValueError,
     "T is a parameter of the model, shared by every stage"),
    (USER.format(name="toy_field").replace("T = [0.5, 2.0]", 'T = [0.5, "hot"]'), TypeError,
     r"\[grid\] T\[1\] = 'hot': T must be a finite real number \(annotated float\)"),
    (USER.format(name="toy_field").replace("N = [4, 8]", "N = [4, 8.5]"), TypeError, "N must be an integer"),
    (USER.format(name="toy_field").replace("N = [4, 8]", "size = [4, 8]"), ValueError,
     r"unknown parameters \['size'\]"),
    (USER.format(name="toy_field").replace("N = [4, 8]", "seed = [0, 1]"), ValueError,
     r"without a default that the config does not give: \['N'\]"),
    (USER.format(name="missing_function"), ValueError, "has no function 'missing_function'"),
    (USER.format(name="toy_field").replace("test_grid_stages", "no_such_module_here"), ValueError,
     "cannot import module 'no_such_module_here'"),
]


@pytest.mark.parametrize("text, error, match", REFUSED)
def test_bad_grids_are_refused_before_anything_is_submitted(tmp_path, capsys, text, error, match):
    """A bad value anywhere along an axis (or a bad chain, artifact or user function) is refused by run_grid
    before a task is submitted, and by the CLI with one line and exit status 2; no output directory appears."""
    cfg = write(tmp_path, "bad.toml", text)
    out = tmp_path / "out"
    with pytest.raises(error, match=match):
        run_grid(cfg, out, client=NoSubmit(), printer=quiet)
    assert main(["grid", str(cfg), "--out", str(out), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and "bad.toml" in err
    assert not out.exists()


def test_workers_are_checked_before_anything_is_written(tmp_path, monkeypatch):
    """run_grid asks fastmf.grid_workers.check_workers about the client's workers before it creates the output
    directory or submits a task."""
    import fastmf.grid_workers
    seen = []

    def refuse(client):
        seen.append(client)
        raise fastmf.grid_workers.WorkerMismatchError("worker tcp://10.0.0.7:1: numpy 1.0 != client's 2.0", {})

    monkeypatch.setattr(fastmf.grid_workers, "check_workers", refuse)
    client = NoSubmit()
    with pytest.raises(fastmf.grid_workers.WorkerMismatchError, match="tcp://10.0.0.7"):
        run_grid(write(tmp_path, "user.toml", USER.format(name="toy_field")), tmp_path / "out", client=client,
                 printer=quiet)
    assert seen == [client] and not (tmp_path / "out").exists()


# ------------------------------------------------------------------------------------------ the stages
def test_legacy_task_ids_are_unchanged():
    """The ids of 0.1 configs (computed with its code) are those of this one: their output directories resume."""
    cfg = parse_config({"task": "simulate", "fixed": {"N": 16, "n_samples": 400}, "grid": {"T": [0.8], "seed": [0]}})
    sk = parse_config({"task": "simulate", "model": "sk", "fixed": {"N": 16, "n_samples": 400},
                       "grid": {"T": [0.8, 1.2], "seed": [0, 1, 2]}})
    train = parse_config({"task": "train", "grid": {"T": [0.8, 1.2], "beta": [0.5, 1.0]}})
    assert [task_id(cfg.tasks()[0]), task_id(sk.tasks()[5]), task_id(train.tasks()[3])] == \
        ["040c375d3134201a", "d249809d04e6c504", "0bbf0959f5af915d"]


def test_exact_maier_saupe_matches_brute_force():
    """The icosahedral Maier-Saupe model solved as a 6-state Potts model (J' = 6J/5, shifted energies) gives the
    log partition function, mean energy and half-cut mutual information of a brute force over its 6**4 states."""
    from fastmf.exact.info import mutual_information, states
    N, T, J = 4, 0.7, 1.3
    ctx = fastmf.grid_stages.StageContext(dict(task="exact", model="maier-saupe", N=N, T=T, J=J), False)
    got = fastmf.grid_stages.STAGE_FUNCTIONS["exact"](ctx, ctx.values("exact"))
    model = ctx.model()
    configs = states(N, 6)
    logw = -model.energy(configs) / T
    log_z = np.logaddexp.reduce(logw)
    p = np.exp(logw - log_z)
    assert math.isclose(got["log_z"], log_z, rel_tol=1e-10)
    assert math.isclose(got["mean_energy"], float(p @ model.energy(configs)), rel_tol=1e-10)
    assert math.isclose(got["mi_half"], mutual_information(logw - log_z, [0, 1], q=6), rel_tol=1e-8)
    assert got["solver"] == "enumerate" and "order_parameter" not in got
