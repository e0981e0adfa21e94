"""``fastmf grid CONFIG.toml``: a parameter grid of simulations and/or trainings on Dask, resumable and loss-free.

A config names a task, fixed parameters and a grid; every point of the grid (the Cartesian product of its lists)
is one independent task::

    task = "train"              # "simulate" or "train" (see TASKS)
    model = "curie-weiss"       # "simulate": "curie-weiss" or "sk"; "train": "curie-weiss"
    table = "results.csv"       # or "results.parquet" (needs pyarrow); in the output directory
    # max_tasks = 200000        # the largest grid accepted (default: FASTMF_MAX_GRID_TASKS, else 100 000)

    [fixed]
    N = 32
    n_samples = 4000

    [grid]
    T = [0.8, 1.0, 1.2]
    beta = [0.5, 1.0]
    seed = [0, 1, 2]

Before anything is submitted (or any file written), the config is checked without expanding the grid
(:mod:`fastmf.grid_schema`): every value of every axis and every fixed parameter against the task's types and
ranges, the grid's size against :data:`~fastmf.grid_schema.MAX_TASKS`, the largest task's memory, the output
directory, and the Dask extra (``pip install "fastmf[grid]"``). Tasks are generated one by one and submitted with
a bounded number in flight, so a large grid never sits in memory as a whole.

Execution: local processes by default (a ``dask.distributed.LocalCluster`` of ``n_workers`` single-threaded
worker processes), or any running Dask cluster given its scheduler address (``--scheduler tcp://host:port``).
Workers only compute; the client writes each result as it arrives, atomically, to ``OUT/tasks/<id>.json`` (the
id is a hash of the task's parameters, so workers need no shared filesystem). A re-run skips tasks whose result
file exists and holds the same parameters: a crash of the client loses at most the tasks in flight, and Dask
itself reruns the tasks of a worker that dies. A task that raises is recorded in ``OUT/tasks/<id>.error.txt``
with its traceback (retried by the next run) and does not stop the others. At the end every result is gathered,
in grid order, into one table (one row per task: its grid parameters in grid order, its fixed parameters in
config order, then its results in the task's fixed order, :func:`~fastmf.grid_schema.result_columns`) plus
``grid.json`` and one figure per result column against the first grid parameter. Results depend on the
parameters (the seed among them) alone, and the table is built from the stored results only, so a resumed or
redistributed run writes the same table file, byte for byte, as an uninterrupted one.

Named ``grid`` since a sweep is a Monte Carlo sweep in fastmf; ``fastmf.sweep``, ``fastmf sweep``,
:func:`run_sweep` and ``SweepConfig`` are deprecated aliases until 0.3.0.
"""
import contextlib
import hashlib
import itertools
import json
import math
import os
import pathlib
import sys
import time
import traceback
import warnings

import numpy as np

from .grid_schema import (MAX_TASKS, MAX_TASKS_ENV, SCHEMAS, TASKS, GridConfig, GridTasks, grid_task_limit,
                          load_config, parse_config, result_columns)
from .io import atomic_write

__all__ = ["INSTALL_EXTRA", "MAX_TASKS", "MAX_TASKS_ENV", "SCHEMAS", "TASKS", "GridConfig", "GridTasks",
           "MissingExtraError", "grid_task_limit", "load_config", "parse_config", "read_table", "result_columns",
           "run_grid", "run_sweep", "run_task", "task_id", "write_table"]

#: How to install what ``fastmf grid`` needs beyond fastmf (Dask and pyarrow); ``sweep`` is the extra's old name.
INSTALL_EXTRA = 'pip install "fastmf[grid]"'


class MissingExtraError(ImportError, RuntimeError):
    """An optional dependency of ``fastmf grid`` (Dask, or pyarrow for a Parquet table) is not installed; the
    message names the extra to install (:data:`INSTALL_EXTRA`). Both an ImportError and a RuntimeError."""


def task_id(params):
    """Stable id of a task: a hash of its parameters.

    Parameters
    ----------
    params : dict
        The task's parameters (JSON-serialisable).

    Returns
    -------
    str
        16 hex digits of the SHA-256 of the parameters as JSON with sorted keys.
    """
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]


# ------------------------------------------------------------------------------------------------ tasks
def _simulate(p):
    from .models.meanfield import CurieWeiss, GraphSpinGlass
    from .sampling.meanfield import simulate_meanfield
    model = CurieWeiss(int(p["N"]), h=float(p["h"])) if p["model"] == "curie-weiss" else \
        GraphSpinGlass.sk(int(p["N"]), h=float(p["h"]), seed=int(p["seed"]))
    out = simulate_meanfield(model, float(p["T"]), int(p["n_samples"]), seed=int(p["seed"]), sampler=p["sampler"],
                             backend="cpu", progress=False)
    spins = np.asarray(out.spins, np.float64)
    energy = model.energy(out.spins) / model.N
    abs_m = np.abs(spins.mean(axis=1))
    n = len(spins)
    # plain standard errors: the samplers return (nearly) independent samples (thinned by their tau_int)
    return spins, dict(energy_per_spin=float(energy.mean()),
                       energy_per_spin_se=float(energy.std(ddof=1) / math.sqrt(n)),
                       abs_m=float(abs_m.mean()), abs_m_se=float(abs_m.std(ddof=1) / math.sqrt(n)))


def _train(p):
    from .decode.common import posterior_draws
    from .decode.curie_weiss import curie_weiss_readoff
    from .exact.symmetric import curie_weiss_info
    from .vae import VAE
    spins, results = _simulate(dict(p, sampler="auto"))
    x = spins.astype(np.int8)
    vae = VAE(latent_dim=1, hidden=(int(p["hidden"]),), beta=float(p["beta"]), epochs=int(p["epochs"]),
              lr=float(p["lr"]), dtype="float32", seed=int(p["seed"]), progress=False).fit(x)
    ro = curie_weiss_readoff(vae, Z=posterior_draws(vae, x, seed=int(p["seed"])), seed=int(p["seed"]))
    info = curie_weiss_info(int(p["N"]), 1.0 / float(p["T"]), h=float(p["h"]))
    results.update(rate=float(np.mean(vae.rate(x))), elbo=float(np.mean(vae.elbo(x))),
                   mi_half_cut=float(info.mutual_information(int(p["N"]) // 2)),
                   beta_J_readoff=float(ro.beta_J), beta_h_readoff=float(ro.beta_h),
                   beta_J_true=1.0 / float(p["T"]))
    return spins, results


def run_task(params):
    """Run one task (on a worker).

    Parameters
    ----------
    params : dict
        A task of :meth:`GridConfig.tasks`.

    Returns
    -------
    dict
        ``{"ok": True, "result": {...}, "seconds": s}`` or, if it raised, ``{"ok": False, "traceback": "..."}``
        (the worker's own traceback text).
    """
    t0 = time.perf_counter()
    try:
        _, result = (_simulate if params["task"] == "simulate" else _train)(params)
        return {"ok": True, "result": result, "seconds": time.perf_counter() - t0}
    except Exception:
        return {"ok": False, "traceback": traceback.format_exc()}


# ------------------------------------------------------------------------------------------------ files
def _result_path(out, tid):
    return pathlib.Path(out) / "tasks" / f"{tid}.json"


def _done(out, params):
    """The stored result of this task, or None (missing, unreadable or for other parameters)."""
    path = _result_path(out, task_id(params))
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):  # missing or unreadable; JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None
    ok = isinstance(record, dict) and record.get("params") == params and isinstance(record.get("result"), dict)
    return record if ok else None


def _write_json(path, obj):
    atomic_write(path, lambda fh: fh.write(json.dumps(obj, sort_keys=True, indent=1).encode()))


def write_table(path, rows):
    """Write rows to a CSV or Parquet table (by suffix), atomically.

    Parameters
    ----------
    path : str or path
        ``.csv`` or ``.parquet`` (needs pyarrow) file.
    rows : list of dict
        Flat dicts with the same keys (the columns, in the first row's order).

    Returns
    -------
    pathlib.Path
        The file written.
    """
    return _write_columns(path, {c: [r[c] for r in rows] for c in (rows[0] if rows else ())})


def _pyarrow():
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError as exc:
        raise MissingExtraError(f"a .parquet table needs pyarrow, which is not installed ({exc}): {INSTALL_EXTRA} "
                                "(or pip install pyarrow), or use a .csv table") from None
    return pyarrow, pyarrow.parquet


def _write_columns(path, columns):
    """Write ``{column: values}`` (in the dict's order; None is an empty cell) as CSV or Parquet, atomically."""
    path = pathlib.Path(path)
    if path.suffix == ".parquet":
        pa, pq = _pyarrow()
        table = pa.table(columns)
        return atomic_write(path, lambda fh: pq.write_table(table, fh))
    import csv
    import io
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(list(columns))
    for row in zip(*columns.values()):
        writer.writerow([repr(v) if isinstance(v, float) else v for v in row])
    return atomic_write(path, lambda fh: fh.write(buf.getvalue().encode()))


def read_table(path):
    """Read a table written by :func:`write_table`.

    Parameters
    ----------
    path : str or path
        ``.csv`` or ``.parquet`` file.

    Returns
    -------
    dict
        Column name -> list of values (numbers parsed from CSV).
    """
    path = pathlib.Path(path)
    if path.suffix == ".parquet":
        return _pyarrow()[1].read_table(path).to_pydict()
    import csv
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    out = {c: [] for c in rows[0]}
    for row in rows[1:]:
        for c, v in zip(rows[0], row):
            try:
                v = int(v)
            except ValueError:
                try:
                    v = float(v)
                except ValueError:
                    pass
            out[c].append(v)
    return out


def _check_outputs(out, cfg, config):
    """Refuse, before anything runs, an output directory that cannot take the results."""
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"grid output {str(out)!r} is an existing file, not a directory")
    existing = next(p for p in itertools.chain([out], out.parents) if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise PermissionError(f"grid output {str(out)!r}: {str(existing)!r} is not a writable directory")
    if (out / "tasks").exists() and not (out / "tasks").is_dir():
        raise NotADirectoryError(f"grid output {str(out / 'tasks')!r} is an existing file, not a directory")
    for name in (cfg.table, "grid.json", "grid.png"):
        target = out / name
        if target.is_dir():
            raise IsADirectoryError(f"grid output {str(target)!r} is an existing directory, not a file")
        if not isinstance(config, GridConfig) and target.exists() and os.path.samefile(target, config):
            raise ValueError(f"grid output {str(target)!r} would replace the config {str(config)!r}")
    if cfg.table.endswith(".parquet"):
        _pyarrow()


# ------------------------------------------------------------------------------------------------ running
def _distributed():
    try:
        import dask.distributed
    except ImportError as exc:
        raise MissingExtraError(f"fastmf grid runs on Dask, which is not installed ({exc}): {INSTALL_EXTRA} (the "
                                "extra was called 'sweep' before 0.2.0)") from None
    return dask.distributed


def _client(dd, scheduler, n_workers):
    if scheduler:
        try:
            return dd.Client(scheduler, timeout="30s"), None
        except (OSError, TimeoutError) as exc:
            raise RuntimeError(f"could not connect to the Dask scheduler {scheduler!r}: {exc}") from None
    n = n_workers or os.cpu_count() or 1
    # one thread per worker process; Numba and BLAS threads pinned to one as well (results do not depend on it)
    cluster = dd.LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
                              host="127.0.0.1", env={"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                                                     "OPENBLAS_NUM_THREADS": "1"})
    return dd.Client(cluster), cluster


def _run_tasks(client, dd, out, pending, n_todo, printer, progress, max_in_flight):
    """Submit ``pending`` (an iterator of (grid index, task)) with at most ``max_in_flight`` futures at a time
    (default: four per worker thread, at least 16); write each result as it arrives. Returns the failures."""
    from tqdm.auto import tqdm
    window = max_in_flight or max(16, 4 * sum(client.nthreads().values()))
    in_flight, failures = {}, []
    queue = dd.as_completed()

    def submit_next():
        for i, p in itertools.islice(pending, 1):
            future = client.submit(run_task, p, key=f"fastmf-grid-{task_id(p)}", pure=False)
            in_flight[future.key] = (i, p)
            queue.add(future)

    for _ in range(window):
        submit_next()
    bar = tqdm(total=n_todo, desc="grid", unit="task", file=sys.stderr, disable=not progress)
    for future in queue:
        i, p = in_flight.pop(future.key)
        tid = task_id(p)
        try:
            reply = future.result()
        except Exception as exc:  # the task never finished: e.g. its workers kept dying (KilledWorker)
            reply = {"ok": False, "traceback": "".join(traceback.format_exception(exc))}
        future.release()
        if reply["ok"]:
            _write_json(_result_path(out, tid), dict(params=p, result=reply["result"], seconds=reply["seconds"]))
            (out / "tasks" / f"{tid}.error.txt").unlink(missing_ok=True)
        else:
            atomic_write(out / "tasks" / f"{tid}.error.txt",
                         lambda fh, text=reply["traceback"]: fh.write(text.encode()))
            failures.append((i, dict(id=tid, params=p, traceback=f"tasks/{tid}.error.txt")))
            printer(f"grid: task {tid} failed ({_last_line(reply['traceback'])}); traceback in "
                    f"{out / 'tasks' / (tid + '.error.txt')}")
        bar.update(1)
        submit_next()
    bar.close()
    return [f for _, f in sorted(failures, key=lambda x: x[0])]


def _gather(out, cfg, tasks):
    """The table's columns from the stored results, in grid order: grid parameters, fixed parameters, results
    (in :func:`result_columns` order; a result missing from a record is None)."""
    params = list(cfg.grid) + list(cfg.fixed)
    columns = {name: [] for name in params}
    results = {}
    n = 0
    for p in tasks:
        record = _done(out, p)
        if record is None:
            continue
        for name in params:
            columns[name].append(p[name])
        for key in record["result"].keys() | results.keys():
            results.setdefault(key, [None] * n).append(record["result"].get(key))
        n += 1
    columns.update((key, results[key]) for key in result_columns(cfg.task, results))
    return columns, n


def run_grid(config, out, *, scheduler=None, n_workers=None, client=None, printer=print, progress=False,
             max_in_flight=None):
    """Run the tasks of ``config`` not yet done in ``out``; gather the table.

    Parameters
    ----------
    config : str, path or GridConfig
        The config file (see :func:`load_config`) or a parsed config (checked again).
    out : str or path
        Output directory (created, parents too): ``tasks/``, the table, ``grid.json`` and ``grid.png``.
    scheduler : str, optional
        Address of a running Dask scheduler; default: a local cluster of ``n_workers`` processes.
    n_workers : int, optional
        Worker processes of the local cluster (default: the CPU count).
    client : dask.distributed.Client, optional
        Use this client instead (tests, notebooks).
    printer : callable
        Receives the progress lines (default :func:`print`).
    progress : bool
        tqdm progress bar on stderr.
    max_in_flight : int, optional
        Most tasks submitted and not yet collected at any time (default: four per worker thread, at least 16).

    Returns
    -------
    dict
        The ``grid.json`` summary: counts of tasks (total, skipped as done, run, failed), the failures (id,
        parameters, traceback file), the table's path and the seconds taken.

    Raises
    ------
    ValueError, TypeError, FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError
        A bad config (see :func:`parse_config`) or output directory, before anything is submitted or written.
    MissingExtraError
        Dask (or pyarrow for a Parquet table) is not installed, before anything is written.
    """
    if max_in_flight is not None and (isinstance(max_in_flight, bool) or not isinstance(max_in_flight, int)
                                      or max_in_flight < 1):
        raise ValueError(f"max_in_flight must be a positive integer, got {max_in_flight!r}")
    cfg = parse_config(config.raw()) if isinstance(config, GridConfig) else load_config(config)
    out = pathlib.Path(out)
    _check_outputs(out, cfg, config)
    t0 = time.perf_counter()
    tasks = cfg.tasks()
    stored = (out / "tasks").is_dir()
    done = bytearray(stored and _done(out, p) is not None for p in tasks)
    n_todo = len(tasks) - sum(done)
    dd = _distributed() if n_todo else None            # Dask is needed only to run tasks
    printer(f"grid: {len(tasks)} tasks, {len(tasks) - n_todo} already done, {n_todo} to run")
    failures = []
    if n_todo:
        own = client is None
        cluster = None
        if own:
            client, cluster = _client(dd, scheduler, n_workers)
        try:
            created = [d for d in (out / "tasks", *out.parents, out) if not d.exists()]
            (out / "tasks").mkdir(parents=True, exist_ok=True)
            pending = ((i, p) for i, p in enumerate(tasks) if not done[i])
            try:
                failures = _run_tasks(client, dd, out, pending, n_todo, printer, progress, max_in_flight)
            except BaseException:  # interrupted: keep the results written, remove the directories left empty
                for d in sorted(created, key=lambda d: -len(d.parts)):
                    with contextlib.suppress(OSError):
                        d.rmdir()
                raise
        finally:
            if own:
                client.close()
                if cluster is not None:
                    cluster.close()
    columns, n_rows = _gather(out, cfg, tasks)
    table = out / cfg.table
    if n_rows:
        _write_columns(table, columns)
        _figures(out, cfg, columns)
    summary = dict(tasks=len(tasks), skipped=len(tasks) - n_todo, ran=n_todo, failed=len(failures),
                   missing=len(tasks) - n_rows, failures=failures, table=cfg.table if n_rows else None,
                   task=cfg.task, model=cfg.model, grid=cfg.grid, fixed=cfg.fixed,
                   seconds=time.perf_counter() - t0)
    _write_json(out / "grid.json", summary)
    printer(f"grid: {n_rows} of {len(tasks)} tasks in {table}" + (f"; {len(failures)} failed" if failures else ""))
    return summary


def run_sweep(*args, **kwargs):
    """Deprecated alias of :func:`run_grid` (removed in 0.3.0): the same arguments and result."""
    warnings.warn("run_sweep is deprecated; use fastmf.grid.run_grid", DeprecationWarning, stacklevel=2)
    return run_grid(*args, **kwargs)


def __getattr__(name):
    if name == "SweepConfig":  # deprecated alias (removed in 0.3.0)
        warnings.warn("SweepConfig is deprecated; use fastmf.grid.GridConfig", DeprecationWarning, stacklevel=2)
        return GridConfig
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _last_line(text):
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no traceback"


def _figures(out, cfg, columns):
    """Each result column against the first grid parameter, one line per combination of the other grid
    parameters except ``seed`` (mean over seeds, SE bars when there are several)."""
    from .experiments.report import pyplot, save_png
    x_name = next(iter(cfg.grid))
    xcol = columns[x_name]
    if not all(isinstance(x, (int, float)) for x in xcol):
        return
    results = [c for c in columns if c not in cfg.grid and c not in cfg.fixed and not c.endswith("_se")]
    groups = [g for g in cfg.grid if g not in (x_name, "seed")]
    row_keys = list(zip(*(columns[g] for g in groups))) if groups else [()] * len(xcol)
    keys = sorted(set(row_keys), key=repr)
    plt = pyplot()
    n = len(results)
    cols = min(4, n)
    rows_ = -(-n // cols)
    fig, axs = plt.subplots(rows_, cols, figsize=(4.2 * cols, 3.4 * rows_), squeeze=False)
    for ax in axs.ravel()[n:]:
        ax.set_visible(False)
    for ax, col in zip(axs.ravel(), results):
        by_key = {}                                   # key -> x -> values, in grid order
        for key, x, v in zip(row_keys, xcol, columns[col]):
            if v is not None:
                by_key.setdefault(key, {}).setdefault(x, []).append(v)
        for key in keys:
            sel = by_key.get(key, {})
            xs = sorted(sel)
            vals = [sel[x] for x in xs]
            mean = [float(np.mean(v)) for v in vals]
            se = [float(np.std(v, ddof=1) / math.sqrt(len(v))) if len(v) > 1 else 0.0 for v in vals]
            label = ", ".join(f"{g} = {k}" for g, k in zip(groups, key)) or None
            ax.errorbar(xs, mean, yerr=se, fmt="o-", ms=3, label=label)
        ax.set_xlabel(x_name)
        ax.set_ylabel(col)
        if groups:
            ax.legend(fontsize=7)
    fig.tight_layout()
    save_png(fig, out / "grid.png", dpi=100)
