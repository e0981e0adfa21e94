"""``fastmf grid``: config checks (every value of every axis, the grid-size limit, lazy tasks, config and output
files, the missing Dask extra) that refuse before anything is submitted or written, and real runs on a
dask.distributed LocalCluster on loopback (scheduler and worker processes): resuming (byte-identical tables),
streamed submission, a failing task, a worker killed mid-run, and a client killed mid-run; the deprecated
``fastmf sweep`` command and ``fastmf.sweep`` module."""
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
import tracemalloc
import warnings

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

import fastmf.grid  # noqa: E402
from fastmf.cli import main  # noqa: E402
from fastmf.grid import (MAX_TASKS, GridConfig, MissingExtraError, load_config, parse_config, read_table,  # noqa: E402
                         run_grid, run_task, task_id)

CONFIG = """
task = "simulate"
model = "{model}"
table = "{table}"

[fixed]
N = {N}
n_samples = {n}

[grid]
T = [0.8, 1.2]
seed = [0, 1, 2]
"""


def write_config(tmp_path, name="cw.toml", table="results.csv", N=16, n=400, model="curie-weiss"):
    path = tmp_path / name
    path.write_text(CONFIG.format(table=table, N=N, n=n, model=model))
    return path


#: tasks of about a second each (SK glass, parallel tempering), so that kills land while tasks are in flight
SLOW = dict(N=32, n=2000, model="sk")


@pytest.fixture(scope="module")
def cluster():
    """Two single-threaded worker processes and a scheduler, all on 127.0.0.1."""
    from distributed import Client, LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=":0", env={"NUMBA_NUM_THREADS": "1"}) as c, Client(c) as client:
        yield c, client


def table_of(out, name="results.csv"):
    return read_table(out / name)


def quiet(*args):
    pass


class NoSubmit:
    """A client that fails the test if anything is submitted to it."""

    def submit(self, *args, **kwargs):
        raise AssertionError("a task was submitted")

    def nthreads(self):
        return {}


def contents(path):
    """Every path under ``path`` (relative), or None if it does not exist."""
    return sorted(str(p.relative_to(path)) for p in path.rglob("*")) if path.exists() else None


# ------------------------------------------------------------------------------------------------ config
@pytest.mark.parametrize("raw, match", [
    ({"task": "fit", "grid": {"T": [1.0]}}, "task must be one of"),
    ({"task": "train", "model": "sk", "grid": {"T": [1.0]}}, "takes model"),
    ({"task": "simulate", "grid": {"T": [1.0]}, "colour": 1}, "unknown keys"),
    ({"task": "simulate", "grid": {"T": [1.0]}, "table": "out.xlsx"}, "table must be"),
    ({"task": "simulate", "grid": {"temperature": [1.0]}}, "unknown parameters"),
    ({"task": "simulate", "grid": {}}, "grid\\] is empty"),
    ({"task": "simulate", "grid": {"T": 1.0}}, "non-empty list"),
    ({"task": "simulate", "grid": {"T": [1.0, 1.0]}}, "repeats"),
    ({"task": "simulate", "grid": {"T": [1.0]}, "fixed": {"T": 2.0}}, "both"),
    ({"task": "simulate", "grid": {"T": [1.0]}, "max_tasks": 0}, "max_tasks must be a positive integer"),
    ({"task": "simulate", "grid": {"T": [1.0]}, "max_tasks": "many"}, "max_tasks must be a positive integer"),
])
def test_bad_configs(raw, match):
    with pytest.raises(ValueError, match=match):
        parse_config(raw)


#: (task, section, parameter, bad value, exception, words of the expected type or range); every value is checked
#: on its own, in [fixed] and at any position of a [grid] axis
BAD_VALUES = [
    ("simulate", "N", -5, ValueError, "an integer >= 2"),
    ("simulate", "N", 1, ValueError, "an integer >= 2"),
    ("simulate", "N", 16.0, TypeError, "an integer"),
    ("simulate", "N", True, TypeError, "an integer"),
    ("simulate", "N", "16", TypeError, "an integer"),
    ("simulate", "T", "hot", TypeError, "a finite real number > 0"),
    ("simulate", "T", 0.0, ValueError, "> 0"),
    ("simulate", "T", -1, ValueError, "> 0"),
    ("simulate", "T", float("nan"), ValueError, "finite"),
    ("simulate", "h", float("inf"), ValueError, "finite"),
    ("simulate", "seed", 1.5, TypeError, "an integer"),
    ("simulate", "seed", -1, ValueError, ">= 0"),
    ("simulate", "seed", 2 ** 32, ValueError, "<= 4294967295"),
    ("simulate", "n_samples", 1, ValueError, ">= 2"),
    ("simulate", "sampler", "fast", ValueError, "one of 'auto', 'latent', 'mcmc', 'tempering'"),
    ("simulate", "sampler", 3, TypeError, "one of"),
    ("train", "epochs", 0, ValueError, ">= 1"),
    ("train", "hidden", -3, ValueError, ">= 1"),
    ("train", "lr", 0, ValueError, "> 0"),
    ("train", "beta", -0.5, ValueError, ">= 0"),
    ("train", "n_samples", 50, ValueError, ">= 100"),
    ("train", "T", [1.0], TypeError, "a finite real number"),
]


@pytest.mark.parametrize("task, name, value, error, expected", BAD_VALUES)
@pytest.mark.parametrize("section", ["fixed", "grid"])
def test_every_value_is_checked(task, name, value, error, expected, section):
    """The message names the parameter, the value and what is expected; a grid axis is checked value by value
    (the bad value last, after good ones), so no task is ever made."""
    good = {"N": 8, "T": 1.0, "h": 0.0, "seed": 0, "n_samples": 200, "sampler": "auto", "epochs": 1, "hidden": 2,
            "lr": 0.01, "beta": 1.0}[name]
    other = "h" if name != "h" else "T"
    grid = {name: [good, value]} if section == "grid" else {other: [0.5, 1.0]}
    raw = {"task": task, "grid": grid, "fixed": {name: value} if section == "fixed" else {}}
    with pytest.raises(error) as info:
        parse_config(raw, "cw.toml")
    text = str(info.value)
    assert "cw.toml" in text and f"{name}" in text and repr(value) in text and expected in text, text
    assert (f"[grid] {name}[1]" if section == "grid" else f"[fixed] {name}") in text


def test_model_specific_values_and_hints():
    with pytest.raises(ValueError, match="sampler must be one of 'auto', 'mcmc', 'tempering' for model 'sk'"):
        parse_config({"task": "simulate", "model": "sk", "grid": {"sampler": ["tempering", "latent"]}})
    parse_config({"task": "simulate", "model": "curie-weiss", "grid": {"sampler": ["tempering", "latent"]}})
    with pytest.raises(TypeError, match=r"a list of values belongs in \[grid\]"):
        parse_config({"task": "simulate", "fixed": {"N": [16, 32]}, "grid": {"T": [1.0]}})
    # integers are fine where a real number is expected, and are kept as given (the task ids do not change)
    cfg = parse_config({"task": "simulate", "fixed": {"T": 1}, "grid": {"h": [0, 0.5]}})
    assert cfg.tasks()[0]["T"] == 1 and isinstance(cfg.tasks()[0]["T"], int)


def test_task_memory_is_checked(monkeypatch):
    monkeypatch.setenv("FASTMF_MAX_MEMORY", "1G")
    with pytest.raises(ValueError, match="largest task \\(N = 100000, n_samples = 100000\\).*memory"):
        parse_config({"task": "simulate", "fixed": {"n_samples": 100000}, "grid": {"N": [16, 100000]}})


def test_config_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        load_config(tmp_path / "missing.toml")
    (tmp_path / "bad.toml").write_text("task = [unclosed")
    with pytest.raises(ValueError, match="not valid TOML"):
        load_config(tmp_path / "bad.toml")
    cfg = load_config(write_config(tmp_path))
    tasks = cfg.tasks()
    assert [(t["T"], t["seed"]) for t in tasks] == [(0.8, 0), (0.8, 1), (0.8, 2), (1.2, 0), (1.2, 1), (1.2, 2)]
    assert all(t["N"] == 16 and t["n_samples"] == 400 and t["task"] == "simulate" for t in tasks)
    assert len({task_id(t) for t in tasks}) == 6 and task_id(dict(tasks[0])) == task_id(tasks[0])
    assert main(["grid", str(tmp_path / "bad.toml")]) == 2


@pytest.mark.parametrize("text, match", [
    ('task = "simulate"\n[grid]\nT = [1.0, 2.0\nseed = [0]\n', "not valid TOML: line 4, column"),
    ('task = "simulate"\n[grid]\nT = [1.0, 2.0', "not valid TOML: line 3 \\(the end of the file\\)"),
    ('task = "simulate"\ntask = "train"\n', "not valid TOML: line 2"),
    (b"\x89PNG\r\n\x1a\n\x00\xff", "not valid TOML: not UTF-8 text"),
])
def test_bad_toml_names_the_file_and_line(tmp_path, capsys, text, match):
    path = tmp_path / "bad.toml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(ValueError, match=match) as info:
        load_config(path)
    assert str(path) in str(info.value)
    assert main(["grid", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "not valid TOML" in err and "Traceback" not in err and not (tmp_path / "out").exists()


def test_config_that_is_not_a_file(tmp_path, capsys):
    (tmp_path / "cfg.toml").mkdir()
    with pytest.raises(IsADirectoryError, match="is a directory"):
        load_config(tmp_path / "cfg.toml")
    with pytest.raises(IsADirectoryError, match="is a directory"):
        run_grid(tmp_path / "cfg.toml", tmp_path / "out", client=NoSubmit(), printer=quiet)
    assert main(["grid", str(tmp_path / "cfg.toml")]) == 2
    err = capsys.readouterr().err
    assert "is a directory" in err and "Traceback" not in err
    assert contents(tmp_path) == ["cfg.toml"]
    with pytest.raises(ValueError, match="not a regular file"):
        load_config("/dev/zero")                         # never read: it has no end
    big = tmp_path / "big.toml"
    with open(big, "wb") as fh:
        fh.truncate(17 * 2 ** 20)
    with pytest.raises(ValueError, match="more than a grid config may have"):
        load_config(big)


HUGE = 'task = "simulate"\n[grid]\nT = [{T}]\nN = [{N}]\nseed = [{seed}]\n'.format(
    T=", ".join(str(0.5 + i / 1000) for i in range(1000)), N=", ".join(str(i) for i in range(2, 1002)),
    seed=", ".join(str(i) for i in range(1000)))


def test_a_billion_point_grid_is_refused_at_once(tmp_path, capsys):
    """1000 x 1000 x 1000 points: refused with the grid's size in the message, without making a single task
    (little memory), nothing submitted, nothing written; the CLI exits 2 in one line."""
    cfg = tmp_path / "huge.toml"
    cfg.write_text(HUGE)
    out = tmp_path / "out"
    tracemalloc.start()
    with pytest.raises(ValueError, match="1,000,000,000 tasks .*above the limit of 100,000") as info:
        run_grid(cfg, out, client=NoSubmit(), printer=quiet)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # no task was made: a billion of them would take hundreds of GB (its time: benchmarks/bench_limits.py)
    assert peak < 20e6, peak
    assert "max_tasks" in str(info.value) and "FASTMF_MAX_GRID_TASKS" in str(info.value)
    assert main(["grid", str(cfg), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "1,000,000,000 tasks" in err[0]
    assert contents(tmp_path) == ["huge.toml"]


def test_grid_limit_overrides_and_lazy_tasks(tmp_path, monkeypatch):
    """FASTMF_MAX_GRID_TASKS sets the limit unless the config has max_tasks; an allowed grid of a billion points
    is a lazy sequence: its length, any task by index and a walk from the start cost nothing."""
    raw = {"task": "simulate", "grid": {"T": [0.8, 1.2], "seed": [0, 1, 2]}}
    assert MAX_TASKS == 100_000 and parse_config(raw).size == 6
    monkeypatch.setenv("FASTMF_MAX_GRID_TASKS", "5")
    with pytest.raises(ValueError, match="the grid has 6 tasks \\(2 T x 3 seed\\), above the limit of 5"):
        parse_config(raw)
    assert parse_config(dict(raw, max_tasks=6)).size == 6
    monkeypatch.setenv("FASTMF_MAX_GRID_TASKS", "lots")
    with pytest.raises(ValueError, match="FASTMF_MAX_GRID_TASKS='lots': expected a positive integer"):
        parse_config(raw)
    monkeypatch.delenv("FASTMF_MAX_GRID_TASKS")
    cfg_file = tmp_path / "huge.toml"
    cfg_file.write_text("max_tasks = 1_000_000_000\n" + HUGE)
    tracemalloc.start()
    cfg = load_config(cfg_file)
    tasks = cfg.tasks()
    first = list(itertools.islice(tasks, 1001))
    last, middle = tasks[-1], tasks[123_456_789]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(tasks) == cfg.size == 10 ** 9 and peak < 20e6
    assert [(t["T"], t["N"], t["seed"]) for t in first[:2]] == [(0.5, 2, 0), (0.5, 2, 1)]
    assert (first[1000]["N"], first[1000]["seed"]) == (3, 0)
    assert (last["T"], last["N"], last["seed"]) == (1.499, 1001, 999)
    assert (middle["T"], middle["N"], middle["seed"]) == (0.5 + 123 / 1000, 2 + 456, 789)
    small = load_config(write_config(tmp_path)).tasks()
    assert list(small) == [small[i] for i in range(len(small))] == small[:] and small[-1] == small[5]
    with pytest.raises(IndexError):
        small[6]


BAD_RUNS = [
    ("[fixed]\nN = -5\n[grid]\nT = [1.0]\n", ValueError, "N = -5: N must be an integer >= 2"),
    ('[grid]\nT = [1.0, "hot"]\n', TypeError, "T\\[1\\] = 'hot': T must be a finite real number > 0"),
    ("[grid]\nseed = [0, 1.5]\n", TypeError, "seed\\[1\\] = 1.5: seed must be an integer"),
    ("[grid]\ntemperature = [1.0]\n", ValueError, "unknown parameters \\['temperature'\\]"),
    ("[grid]\nT = []\n", ValueError, "'T' must be a non-empty list"),
    ("[grid]\nT = 1.0\n", ValueError, "'T' must be a non-empty list"),
    ("max_tasks = 1\n[grid]\nT = [1.0, 2.0]\n", ValueError, "2 tasks \\(2 T\\), above the limit of 1"),
]


@pytest.mark.parametrize("body, error, match", BAD_RUNS)
@pytest.mark.parametrize("existing_out", [False, True])
def test_bad_values_are_refused_before_anything_is_submitted(tmp_path, capsys, body, error, match, existing_out):
    """run_grid refuses before submitting a task (the client fails the test if one is) or writing a file; the
    CLI exits 2 with one line; the output directory is not created, or stays empty when it exists."""
    cfg = tmp_path / "bad.toml"
    cfg.write_text('task = "simulate"\n' + body)
    out = tmp_path / "out"
    if existing_out:
        out.mkdir()
    with pytest.raises(error, match=match):
        run_grid(cfg, out, client=NoSubmit(), printer=quiet)
    assert main(["grid", str(cfg), "--out", str(out), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and "bad.toml" in err
    assert contents(out) == ([] if existing_out else None) and cfg.read_text() == 'task = "simulate"\n' + body


def test_bad_output_locations_are_refused_before_anything_runs(tmp_path):
    cfg = write_config(tmp_path)
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="existing file"):
        run_grid(cfg, tmp_path / "file", client=NoSubmit(), printer=quiet)
    (tmp_path / "out" / "results.csv").mkdir(parents=True)
    with pytest.raises(IsADirectoryError, match="results.csv.*existing directory"):
        run_grid(cfg, tmp_path / "out", client=NoSubmit(), printer=quiet)
    (tmp_path / "out2").mkdir()
    (tmp_path / "out2" / "tasks").write_text("x")
    with pytest.raises(NotADirectoryError, match="tasks.*existing file"):
        run_grid(cfg, tmp_path / "out2", client=NoSubmit(), printer=quiet)
    assert contents(tmp_path) == ["cw.toml", "file", "out", "out/results.csv", "out2", "out2/tasks"]


def test_missing_dask_names_the_extra(tmp_path, cluster, monkeypatch, capsys):
    """Without Dask: a clear error naming the extra (an ImportError and a RuntimeError: exit status 1), nothing
    written; a grid whose tasks are all done still gathers its table without Dask. Likewise pyarrow for a
    Parquet table, refused before anything runs."""
    _, client = cluster
    cfg = write_config(tmp_path)
    done = tmp_path / "done"
    run_grid(cfg, done, client=client, printer=quiet)
    reference = (done / "results.csv").read_bytes()
    (done / "results.csv").unlink()
    for name in ("dask.distributed", "distributed"):
        monkeypatch.setitem(sys.modules, name, None)
    out = tmp_path / "out"
    with pytest.raises(MissingExtraError, match='pip install "fastmf\\[grid\\]"') as info:
        run_grid(cfg, out, printer=quiet)
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, ImportError)
    assert main(["grid", str(cfg), "--out", str(out), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert 'pip install "fastmf[grid]"' in err and "Traceback" not in err and "ModuleNotFoundError" not in err
    assert not out.exists()
    assert run_grid(cfg, done, printer=quiet)["skipped"] == 6 and (done / "results.csv").read_bytes() == reference
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(MissingExtraError, match="needs pyarrow.*fastmf\\[grid\\]"):
        run_grid(write_config(tmp_path, "pq.toml", table="results.parquet"), out, printer=quiet)
    assert not out.exists()


def test_run_task_reports_its_traceback():
    reply = run_task(dict(task="simulate", model="curie-weiss", N=1, T=1.0, h=0.0, n_samples=10, seed=0,
                          sampler="auto"))
    assert not reply["ok"] and "Traceback" in reply["traceback"] and "N" in reply["traceback"]


def test_train_task_results():
    """One "train" task (Curie-Weiss, N = 16, T = 0.8): simulate, a one-latent VAE, its rate and ELBO, the
    read-off and the exact half-cut mutual information, all finite; beta J read off within 25 % of 1/T."""
    reply = run_task(dict(task="train", model="curie-weiss", N=16, T=0.8, h=0.0, n_samples=3000, seed=0, beta=1.0,
                          epochs=15, hidden=16, lr=3e-3))
    assert reply["ok"], reply.get("traceback")
    r = reply["result"]
    assert set(r) >= {"rate", "elbo", "mi_half_cut", "beta_J_readoff", "beta_h_readoff", "abs_m", "energy_per_spin"}
    assert all(np.isfinite(v) for v in r.values())
    assert r["rate"] > 0 and r["mi_half_cut"] > 0 and abs(r["beta_J_readoff"] / r["beta_J_true"] - 1) < 0.25


# ------------------------------------------------------------------------------------------------ runs
def test_grid_table_resume_and_parquet(tmp_path, cluster):
    _, client = cluster
    cfg = write_config(tmp_path)
    out = tmp_path / "out"
    first = run_grid(cfg, out, client=client, printer=lambda *a: None)
    assert first["ran"] == 6 and first["skipped"] == 0 and first["missing"] == 0
    table = table_of(out)
    assert table["T"] == [0.8, 0.8, 0.8, 1.2, 1.2, 1.2] and table["seed"] == [0, 1, 2, 0, 1, 2]
    assert np.mean(table["abs_m"][:3]) > np.mean(table["abs_m"][3:])     # ordered below T_c = 1
    assert (out / "grid.png").stat().st_size > 2000
    again = run_grid(cfg, out, client=client, printer=lambda *a: None)
    assert again["ran"] == 0 and again["skipped"] == 6 and table_of(out) == table
    # the same results as a Parquet table (the finished tasks are reused: nothing is recomputed)
    pq = write_config(tmp_path, "cw_pq.toml", table="results.parquet")
    summary = run_grid(pq, out, client=client, printer=lambda *a: None)
    assert summary["skipped"] == 6 and table_of(out, "results.parquet") == table
    # a result file for other parameters (e.g. edited by hand) does not count as done
    rec = out / "tasks" / f"{task_id(load_config(cfg).tasks()[0])}.json"
    data = json.loads(rec.read_text())
    data["params"]["n_samples"] = 1
    rec.write_text(json.dumps(data))
    assert run_grid(cfg, out, client=client, printer=lambda *a: None)["ran"] == 1 and table_of(out) == table


def test_failed_task_is_reported_and_the_others_finish(tmp_path, cluster, monkeypatch):
    """A task that raises on its worker is reported with its traceback and the others finish. The config check
    refuses every value a model refuses, so the failure is planted: the task N = 8 runs, on the worker, with N = 1
    (the function submitted is pickled by value, the worker's fastmf is untouched)."""
    _, client = cluster

    def planted(params):
        from fastmf.grid import run_task
        return run_task(dict(params, N=1) if params["N"] == 8 else params)

    monkeypatch.setattr(fastmf.grid, "run_task", planted)
    cfg = tmp_path / "fail.toml"
    cfg.write_text('task = "simulate"\n[fixed]\nn_samples = 200\n[grid]\nN = [4, 8, 16]\n')
    out = tmp_path / "out"
    summary = run_grid(cfg, out, client=client, printer=lambda *a: None)
    assert summary["failed"] == 1 and summary["missing"] == 1 and summary["ran"] == 3
    failure = summary["failures"][0]
    assert failure["params"]["N"] == 8
    text = (out / failure["traceback"]).read_text()
    assert "Traceback" in text and "ValueError" in text and "N must be" in text
    assert table_of(out)["N"] == [4, 16]
    assert json.loads((out / "grid.json").read_text())["failed"] == 1
    monkeypatch.undo()                                     # the next run retries the failed task, and it succeeds
    again = run_grid(cfg, out, client=client, printer=lambda *a: None)
    assert again["ran"] == 1 and again["missing"] == 0 and not (out / failure["traceback"]).exists()
    assert table_of(out)["N"] == [4, 8, 16]


class CountingClient:
    """Passes submissions to a real client and records how many tasks were in flight at each submission (those
    submitted whose result or error file is not yet written: the runner writes it before it submits more)."""

    def __init__(self, client, out):
        self.client, self.out, self.in_flight = client, out, []

    def __getattr__(self, name):            # the rest (the workers' check) goes to the real client
        return getattr(self.client, name)

    def nthreads(self):
        return self.client.nthreads()

    def submit(self, *args, **kwargs):
        finished = len(list((self.out / "tasks").glob("*.json"))) + len(list((self.out / "tasks").glob("*.txt")))
        self.in_flight.append(len(self.in_flight) - finished)
        return self.client.submit(*args, **kwargs)


def test_submission_streams_with_bounded_futures(tmp_path, cluster):
    """At most max_in_flight tasks are submitted and not yet collected; the table is that of a run with no bound."""
    _, client = cluster
    cfg = write_config(tmp_path)
    reference = tmp_path / "reference"
    run_grid(cfg, reference, client=client, printer=quiet)
    out = tmp_path / "out"
    for bad in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match="max_in_flight must be a positive integer"):
            run_grid(cfg, out, client=NoSubmit(), printer=quiet, max_in_flight=bad)
    counting = CountingClient(client, out)
    summary = run_grid(cfg, out, client=counting, printer=quiet, max_in_flight=2)
    assert summary["ran"] == 6 and summary["missing"] == 0 and len(counting.in_flight) == 6
    assert max(counting.in_flight) == 1                   # the one in flight when the next is submitted
    assert (out / "results.csv").read_bytes() == (reference / "results.csv").read_bytes()


class InterruptingClient(CountingClient):
    """Ctrl-C (KeyboardInterrupt) at submission number ``at`` (0-based)."""

    def __init__(self, client, out, at):
        super().__init__(client, out)
        self.at = at

    def submit(self, *args, **kwargs):
        if len(self.in_flight) == self.at:
            raise KeyboardInterrupt
        return super().submit(*args, **kwargs)


def test_interrupted_run_keeps_its_results_and_leaves_no_empty_directory(tmp_path, cluster):
    """Ctrl-C before the first result leaves nothing (the directories it made are removed); Ctrl-C later keeps
    the results written (and the directory), and the resumed run writes the undisturbed table, byte for byte."""
    _, client = cluster
    cfg = write_config(tmp_path)
    reference = tmp_path / "reference"
    run_grid(cfg, reference, client=client, printer=quiet)
    out = tmp_path / "new" / "out"
    with pytest.raises(KeyboardInterrupt):
        run_grid(cfg, out, client=InterruptingClient(client, out, 0), printer=quiet)
    assert not (tmp_path / "new").exists()
    with pytest.raises(KeyboardInterrupt):
        run_grid(cfg, out, client=InterruptingClient(client, out, 2), printer=quiet, max_in_flight=1)
    assert len(list((out / "tasks").glob("*.json"))) == 2 and contents(out) == ["tasks"] + [
        f"tasks/{p.name}" for p in sorted((out / "tasks").glob("*.json"))]
    summary = run_grid(cfg, out, client=client, printer=quiet)
    assert summary["skipped"] == 2 and summary["ran"] == 4
    assert (out / "results.csv").read_bytes() == (reference / "results.csv").read_bytes()


def test_resumed_grid_writes_byte_identical_tables(tmp_path, cluster):
    """Run a grid undisturbed into A; copy it to B, delete some task results (a partial run), resume B: the CSV
    and Parquet tables and the figure are identical byte for byte, and grid.json differs only in its counts and
    time. The resumed table is built from stored results (JSON with sorted keys) and fresh ones alike."""
    _, client = cluster
    for table in ("results.csv", "results.parquet"):
        cfg = write_config(tmp_path, f"cw_{table[8:]}.toml", table=table)
        a, b = tmp_path / f"A_{table}", tmp_path / f"B_{table}"
        run_grid(cfg, a, client=client, printer=quiet)
        shutil.copytree(a, b)
        for path in sorted((b / "tasks").glob("*.json"))[::2]:
            path.unlink()
        (b / table).unlink()
        summary = run_grid(cfg, b, client=client, printer=quiet)
        assert summary["ran"] == 3 and summary["skipped"] == 3 and summary["missing"] == 0
        for name in (table, "grid.png"):
            assert (a / name).read_bytes() == (b / name).read_bytes(), name
        timing = ("seconds", "skipped", "ran")
        ja, jb = (json.loads((d / "grid.json").read_text()) for d in (a, b))
        assert {k: v for k, v in ja.items() if k not in timing} == {k: v for k, v in jb.items() if k not in timing}
        # every result reread from the stored files (nothing run): still the same bytes
        assert run_grid(cfg, b, client=NoSubmit(), printer=quiet)["ran"] == 0
        assert (a / table).read_bytes() == (b / table).read_bytes()
    header = (tmp_path / "A_results.csv" / "results.csv").read_text().splitlines()[0]
    assert header == "T,seed,N,n_samples,energy_per_spin,energy_per_spin_se,abs_m,abs_m_se"


def _wait_for_results(out, count, timeout=120):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if len(list((out / "tasks").glob("*.json"))) >= count:
            return
        time.sleep(0.05)
    raise TimeoutError(f"fewer than {count} results after {timeout} s")


def test_worker_killed_mid_run_gives_the_same_table(tmp_path, cluster):
    """A worker process is killed (SIGKILL) while the grid runs: its nanny restarts it, Dask reruns the tasks it
    held, and the run ends with the table of an undisturbed run."""
    _, client = cluster
    cfg = write_config(tmp_path, **SLOW)
    reference = tmp_path / "reference"
    run_grid(cfg, reference, client=client, printer=lambda *a: None)
    out = tmp_path / "out"
    result = {}
    thread = threading.Thread(target=lambda: result.update(run_grid(cfg, out, client=client,
                                                                      printer=lambda *a: None)))
    pids = client.run(os.getpid)
    thread.start()
    _wait_for_results(out, 1)
    victim = sorted(pids.values())[0]
    os.kill(victim, signal.SIGKILL)
    assert len(list((out / "tasks").glob("*.json"))) < 6             # killed while tasks were still to run
    thread.join(timeout=300)
    assert not thread.is_alive() and result["missing"] == 0 and result["failed"] == 0
    assert victim not in client.run(os.getpid).values()                    # it really died (and was replaced)
    assert table_of(out) == table_of(reference)
    assert (out / "results.csv").read_bytes() == (reference / "results.csv").read_bytes()


def test_client_killed_mid_run_resumes_to_the_same_table(tmp_path, cluster):
    """The process running the grid is killed (SIGKILL) after some results are written; a new run skips them,
    runs the rest and writes the table of an undisturbed run. The killed client used the same cluster, so no
    worker process is orphaned."""
    c, client = cluster
    cfg = write_config(tmp_path, **SLOW)
    reference = tmp_path / "reference"
    run_grid(cfg, reference, client=client, printer=lambda *a: None)
    out = tmp_path / "out"
    code = textwrap.dedent(f"""
        from fastmf.cli import main
        main(["grid", {str(cfg)!r}, "--out", {str(out)!r}, "--scheduler", {c.scheduler_address!r}])
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_results(out, 2)
    finally:
        proc.kill()
        proc.wait()
    done = len(list((out / "tasks").glob("*.json")))
    assert done < 6
    summary = run_grid(cfg, out, client=client, printer=lambda *a: None)
    assert summary["skipped"] == done >= 2 and summary["ran"] == 6 - done and summary["missing"] == 0
    assert table_of(out) == table_of(reference)
    assert (out / "results.csv").read_bytes() == (reference / "results.csv").read_bytes()    # the same file


def test_cli_grid_local_processes(tmp_path):
    cfg = write_config(tmp_path)
    assert main(["grid", str(cfg), "--workers", "2", "--no-progress"]) == 0
    assert len(table_of(tmp_path / "cw_grid")["T"]) == 6
    assert json.loads((tmp_path / "cw_grid" / "grid.json").read_text())["missing"] == 0
    assert main(["grid", str(cfg), "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"]) == 2


def test_deprecated_sweep_command_and_module(tmp_path, cluster, capsys):
    """``fastmf sweep`` prints one deprecation line on stderr and runs ``fastmf grid`` (same default output);
    the ``fastmf.sweep`` module, ``run_sweep`` and ``SweepConfig`` still work, with DeprecationWarnings."""
    import importlib

    c, client = cluster
    cfg = write_config(tmp_path)
    reference = tmp_path / "reference"
    run_grid(cfg, reference, client=client, printer=lambda *a: None)
    capsys.readouterr()
    assert main(["sweep", str(cfg), "--scheduler", c.scheduler_address, "--no-progress"]) == 0
    err = [line for line in capsys.readouterr().err.splitlines() if "deprecated" in line]
    assert len(err) == 1 and "fastmf grid" in err[0]
    assert table_of(tmp_path / "cw_grid") == table_of(reference)
    sys.modules.pop("fastmf.sweep", None)
    with pytest.warns(DeprecationWarning, match="fastmf.grid"):
        sweep = importlib.import_module("fastmf.sweep")
    assert sweep.run_grid is run_grid and sweep.load_config is load_config and sweep.SweepConfig is GridConfig
    with pytest.warns(DeprecationWarning, match="run_grid"):
        summary = sweep.run_sweep(cfg, reference, client=client, printer=lambda *a: None)
    assert summary["skipped"] == 6 and summary["ran"] == 0
    import fastmf.grid
    with pytest.warns(DeprecationWarning, match="GridConfig"):
        assert fastmf.grid.SweepConfig is GridConfig
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert isinstance(load_config(cfg), GridConfig)
