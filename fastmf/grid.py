"""``fastmf grid CONFIG.toml``: a parameter grid of any pipeline on Dask, resumable and loss-free.

A config names a task, fixed parameters and a grid; every point of the grid (the Cartesian product of its lists)
is one independent task. A task is one stage, a chain of stages whose outputs feed the next on the worker, or a
user function::

    task = ["simulate", "train", "decode", "compare"]   # or "simulate", "exact", "pkg.module:function", ...
    model = "hopfield"          # every model of fastmf simulate (fastmf.grid_params.MODEL_PARAMS)
    table = "results.csv"       # or "results.parquet" (needs pyarrow); in the output directory
    keep = ["samples", "model"] # artifacts stored under OUT/tasks/<id>/ (default: results only)
    plot = [["train.rate", "decode.mean_overlap"]]   # the figure's panels (default: every result)
    # max_tasks = 200000        # the largest grid accepted (default: FASTMF_MAX_GRID_TASKS, else 100 000)

    [fixed]
    N = 64                      # model parameters are shared by every stage
    seed = 0                    # a stage-less name applies to every stage that takes it

    [fixed.train]               # or "train.epochs" = 30: one stage's own parameter
    epochs = 30

    [grid]
    T = [0.5, 1.0, 1.5]
    "train.beta" = [0.5, 1.0]

The stages (:mod:`fastmf.grid_stages`) are ``simulate``, ``exact``, ``train``, ``decode`` and ``compare``;
their parameters and the models they take are in :mod:`fastmf.grid_params`; ``task = "train"`` alone is the
one-latent Curie-Weiss pipeline of 0.1 (ids and columns unchanged). User functions: :mod:`fastmf.grid_user`.

Before anything is submitted (or any file written), the config is checked without expanding the grid
(:mod:`fastmf.grid_schema`, :mod:`fastmf.grid_rules`): every value of every axis and every fixed parameter
against the task's types and ranges, the rules joining parameters, the grid's size against
:data:`~fastmf.grid_schema.MAX_TASKS`, the largest task's memory, the output directory, and the Dask extra
(``pip install "fastmf[grid]"``). Tasks are generated one by one and submitted with a bounded number in flight,
so a large grid never sits in memory as a whole.

Execution: local processes by default (a ``dask.distributed.LocalCluster`` of ``n_workers`` single-threaded
worker processes), or any running Dask cluster given its scheduler address (``--scheduler tcp://host:port``).
Once the client is connected, every worker must run the client's code (:func:`fastmf.grid_workers.check_workers`:
fastmf's version and source hash, numpy, numba), else nothing is submitted. Workers compute; the client writes
each result as it arrives, atomically, to ``OUT/tasks/<id>.json`` (the id is a hash of the task's parameters).
A chain also records each finished stage under ``OUT/tasks/<id>/`` when the workers see the output directory
(:mod:`fastmf.grid_chain`), so that a resumed chain restarts at its first unfinished stage. A re-run skips tasks
whose result file exists and holds the same parameters (and whose kept artifacts exist): a crash of the client
loses at most the stages in flight, and Dask itself reruns the tasks of a worker that dies. A task that raises is
recorded in ``OUT/tasks/<id>.error.txt`` with its traceback (retried by the next run) and does not stop the
others. At the end every result is gathered, in grid order, into one table (one row per task: its grid
parameters in grid order, its fixed parameters in config order, then its results in the task's fixed order,
:func:`~fastmf.grid_schema.result_columns`: ``stage.key`` for a chain) plus ``grid.json`` and ``grid.png``
(:func:`fastmf.grid_table.draw_figure`). Results depend on the parameters (the seed among them) alone, and the
table is built from the stored results only, so a resumed or redistributed run writes the same table file, byte
for byte, as an uninterrupted one.

Named ``grid`` since a sweep is a Monte Carlo sweep in fastmf; ``fastmf.sweep``, ``fastmf sweep``,
:func:`run_sweep` and ``SweepConfig`` are deprecated aliases until 0.3.0.
"""
import contextlib
import hashlib
import itertools
import json
import os
import pathlib
import shutil
import sys
import time
import traceback
import warnings

from .grid_chain import read_record, run_task, write_record
from .grid_params import ARTIFACTS
from .grid_schema import (MAX_TASKS, MAX_TASKS_ENV, SCHEMAS, TASKS, GridConfig, GridTasks, grid_task_limit,
                          load_config, parse_config, result_columns)
from .grid_table import INSTALL_EXTRA, MissingExtraError, draw_figure, pyarrow_modules, read_table, write_columns, \
    write_table
from .io import atomic_write

__all__ = ["ARTIFACTS", "INSTALL_EXTRA", "MAX_TASKS", "MAX_TASKS_ENV", "SCHEMAS", "TASKS", "GridConfig",
           "GridTasks", "MissingExtraError", "grid_task_limit", "load_config", "parse_config", "read_table",
           "result_columns", "run_grid", "run_sweep", "run_task", "task_id", "write_table"]


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


# ------------------------------------------------------------------------------------------------ files
def _result_path(out, tid):
    return pathlib.Path(out) / "tasks" / f"{tid}.json"


def _done(out, params, keep=()):
    """The stored result of this task, or None (missing, unreadable, for other parameters, or without an
    artifact that ``keep`` asks for)."""
    tid = task_id(params)
    record = read_record(_result_path(out, tid))
    ok = record is not None and record.get("params") == params and isinstance(record.get("result"), dict)
    if ok and keep:
        ok = all((pathlib.Path(out) / "tasks" / tid / ARTIFACTS[a]).exists() for a in keep)
    return record if ok else None


def _store(out, tid, params, reply, keep):
    """Write a finished task: the kept files that came back (atomically), then its record, then remove what its
    directory holds besides the kept files (stage records and intermediate artifacts)."""
    task_dir = out / "tasks" / tid
    for rel, data in reply.get("files", {}).items():
        (task_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        atomic_write(task_dir / rel, lambda fh, data=data: fh.write(data))
    record = dict(params=params, result=reply["result"], seconds=reply["seconds"])
    if isinstance(params["task"], list) or keep:
        record.update(stages=reply.get("stages", {}), kept=reply.get("kept", []))
    write_record(_result_path(out, tid), record)
    if task_dir.is_dir():
        for entry in task_dir.iterdir():
            if entry.name in record.get("kept", ()):
                continue
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        if not any(task_dir.iterdir()):
            task_dir.rmdir()


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
        pyarrow_modules()


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


def _run_tasks(client, dd, out, cfg, pending, n_todo, printer, progress, max_in_flight):
    """Submit ``pending`` (an iterator of (grid index, task)) with at most ``max_in_flight`` futures at a time
    (default: four per worker thread, at least 16); write each result as it arrives. Returns the failures.

    A chain, or a task that keeps artifacts, gets its directory ``OUT/tasks/<id>`` (absolute, for workers whose
    working directory differs) and the artifacts to keep; any other task is ``run_task(params)`` alone."""
    from tqdm.auto import tqdm
    window = max_in_flight or max(16, 4 * sum(client.nthreads().values()))
    in_flight, failures = {}, []
    queue = dd.as_completed()

    def submit_next():
        for i, p in itertools.islice(pending, 1):
            args = (os.path.abspath(out / "tasks" / task_id(p)), cfg.keep) if cfg.chained or cfg.keep else ()
            future = client.submit(run_task, p, *args, key=f"fastmf-grid-{task_id(p)}", pure=False)
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
            _store(out, tid, p, reply, cfg.keep)
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
        record = _done(out, p, cfg.keep)
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
    done = bytearray(stored and _done(out, p, cfg.keep) is not None for p in tasks)
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
            _check_workers(client)                     # the same code everywhere, before anything is written
            created = [d for d in (out / "tasks", *out.parents, out) if not d.exists()]
            (out / "tasks").mkdir(parents=True, exist_ok=True)
            pending = ((i, p) for i, p in enumerate(tasks) if not done[i])
            try:
                failures = _run_tasks(client, dd, out, cfg, pending, n_todo, printer, progress, max_in_flight)
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
        write_columns(table, columns)
        draw_figure(out / "grid.png", columns, cfg.grid, list(cfg.grid) + list(cfg.fixed), cfg.plot)
    summary = dict(tasks=len(tasks), skipped=len(tasks) - n_todo, ran=n_todo, failed=len(failures),
                   missing=len(tasks) - n_rows, failures=failures, table=cfg.table if n_rows else None,
                   task=list(cfg.task) if cfg.chained else cfg.task, model=cfg.model, keep=list(cfg.keep),
                   grid=cfg.grid, fixed=cfg.fixed,
                   seconds=time.perf_counter() - t0)
    write_record(out / "grid.json", summary)
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


def _check_workers(client):
    """Refuse a cluster whose workers run other code (:func:`fastmf.grid_workers.check_workers`)."""
    from .grid_workers import check_workers
    check_workers(client)
