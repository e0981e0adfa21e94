"""``fastmf grid``: config checks, and real runs on a dask.distributed LocalCluster on loopback (scheduler and
worker processes): resuming, a failing task, a worker killed mid-run, and a client killed mid-run; the deprecated
``fastmf sweep`` command and ``fastmf.sweep`` module."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

from fastmf.cli import main  # noqa: E402
from fastmf.grid import GridConfig, load_config, parse_config, read_table, run_grid, run_task, task_id  # noqa: E402

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
])
def test_bad_configs(raw, match):
    with pytest.raises(ValueError, match=match):
        parse_config(raw)


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


def test_failed_task_is_reported_and_the_others_finish(tmp_path, cluster):
    _, client = cluster
    cfg = tmp_path / "fail.toml"
    cfg.write_text('task = "simulate"\n[fixed]\nn_samples = 200\n[grid]\nN = [1, 8, 16]\n')
    out = tmp_path / "out"
    summary = run_grid(cfg, out, client=client, printer=lambda *a: None)
    assert summary["failed"] == 1 and summary["missing"] == 1 and summary["ran"] == 3
    failure = summary["failures"][0]
    assert failure["params"]["N"] == 1
    text = (out / failure["traceback"]).read_text()
    assert "Traceback" in text and "ValueError" in text
    assert table_of(out)["N"] == [8, 16]
    assert json.loads((out / "grid.json").read_text())["failed"] == 1


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
