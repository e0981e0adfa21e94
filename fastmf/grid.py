"""``fastmf grid CONFIG.toml``: a parameter grid of simulations and/or trainings on Dask, resumable and loss-free.

A config names a task, fixed parameters and a grid; every point of the grid (the Cartesian product of its lists)
is one independent task::

    task = "train"              # "simulate" or "train" (see TASKS)
    model = "curie-weiss"       # "simulate": "curie-weiss" or "sk"; "train": "curie-weiss"
    table = "results.csv"       # or "results.parquet" (needs pyarrow); in the output directory

    [fixed]
    N = 32
    n_samples = 4000

    [grid]
    T = [0.8, 1.0, 1.2]
    beta = [0.5, 1.0]
    seed = [0, 1, 2]

Execution: local processes by default (a ``dask.distributed.LocalCluster`` of ``n_workers`` single-threaded
worker processes), or any running Dask cluster given its scheduler address (``--scheduler tcp://host:port``).
Workers only compute; the client writes each result as it arrives, atomically, to ``OUT/tasks/<id>.json`` (the
id is a hash of the task's parameters, so workers need no shared filesystem). A re-run skips tasks whose result
file exists and holds the same parameters: a crash of the client loses at most the tasks in flight, and Dask
itself reruns the tasks of a worker that dies. A task that raises is recorded in ``OUT/tasks/<id>.error.txt``
with its traceback (retried by the next run) and does not stop the others. At the end every result is gathered,
in grid order, into one table (one row per task: its parameters, then its results) plus ``grid.json`` and one
figure per result column against the first grid parameter. Results depend on the parameters (the seed among
them) alone, so a resumed or redistributed run gives the same table as an uninterrupted one.

Named ``grid`` since a sweep is a Monte Carlo sweep in fastmf; ``fastmf.sweep``, ``fastmf sweep``,
:func:`run_sweep` and ``SweepConfig`` are deprecated aliases until 0.3.0.
"""
import dataclasses
import hashlib
import itertools
import json
import math
import pathlib
import sys
import time
import tomllib
import traceback
import warnings

import numpy as np

from .io.samples import atomic_write

__all__ = ["TASKS", "GridConfig", "load_config", "parse_config", "read_table", "run_grid", "run_sweep", "run_task",
           "task_id", "write_table"]

#: task kind -> (accepted models, parameters with defaults). Grid and fixed parameters must be among these.
TASKS = {
    "simulate": (("curie-weiss", "sk"), dict(N=32, T=1.0, h=0.0, n_samples=2000, seed=0, sampler="auto")),
    "train": (("curie-weiss",), dict(N=32, T=1.0, h=0.0, n_samples=4000, seed=0, beta=1.0, epochs=30,
                                     hidden=32, lr=3e-3)),
}
_TABLE_SUFFIXES = (".csv", ".parquet")


@dataclasses.dataclass(frozen=True)
class GridConfig:
    """A parsed grid config (see :func:`load_config`).

    Attributes
    ----------
    task : str
        The task kind, a key of :data:`TASKS`.
    model : str
        The model the task runs.
    table : str
        File name of the results table (``.csv`` or ``.parquet``) in the output directory.
    fixed : dict
        Parameters fixed for every task.
    grid : dict
        Parameter -> list of values, in config order (the first one is the figures' x axis).
    """

    task: str
    model: str
    table: str
    fixed: dict
    grid: dict

    def tasks(self):
        """Every grid point as a full parameter dict.

        Returns
        -------
        list of dict
            One dict per grid point, in grid order (the last grid parameter varies fastest): ``task``, ``model``
            and the parameters (the defaults of :data:`TASKS`, overridden by the fixed values, then the point).
        """
        defaults = TASKS[self.task][1]
        names = list(self.grid)
        out = []
        for values in itertools.product(*(self.grid[n] for n in names)):
            params = dict(defaults, **self.fixed, **dict(zip(names, values)))
            out.append(dict(task=self.task, model=self.model, **params))
        return out


def load_config(path):
    """Read and check a grid config (TOML).

    Parameters
    ----------
    path : str or path
        The ``.toml`` file.

    Returns
    -------
    GridConfig

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        Naming what is wrong: invalid TOML or a bad entry (see :func:`parse_config`).
    """
    path = pathlib.Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"grid config {str(path)!r} not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{str(path)!r} is not valid TOML: {exc}") from None
    return parse_config(raw, str(path))


def parse_config(raw, where="config"):
    """Check a grid config given as a dict (parsed TOML).

    Parameters
    ----------
    raw : dict
        Keys ``task``, ``model``, ``table``, ``fixed`` and ``grid`` (see the module docstring).
    where : str
        Where the config comes from, named in the errors.

    Returns
    -------
    GridConfig

    Raises
    ------
    ValueError
        Naming what is wrong (unknown keys or parameters, a bad table name, an empty or repeating grid, ...).
    """
    unknown = sorted(set(raw) - {"task", "model", "table", "fixed", "grid"})
    if unknown:
        raise ValueError(f"{where}: unknown keys {unknown}; expected task, model, table, [fixed], [grid]")
    task = raw.get("task")
    if task not in TASKS:
        raise ValueError(f"{where}: task must be one of {sorted(TASKS)}, got {task!r}")
    models, defaults = TASKS[task]
    model = raw.get("model", models[0])
    if model not in models:
        raise ValueError(f"{where}: task {task!r} takes model {' or '.join(models)}, got {model!r}")
    table = raw.get("table", "results.csv")
    if not isinstance(table, str) or pathlib.Path(table).suffix not in _TABLE_SUFFIXES or "/" in table:
        raise ValueError(f"{where}: table must be a file name ending in .csv or .parquet, got {table!r}")
    fixed, grid = raw.get("fixed", {}), raw.get("grid", {})
    if not isinstance(fixed, dict) or not isinstance(grid, dict):
        raise ValueError(f"{where}: [fixed] and [grid] must be tables")
    for section, values in (("fixed", fixed), ("grid", grid)):
        bad = sorted(set(values) - set(defaults))
        if bad:
            raise ValueError(f"{where}: [{section}] has unknown parameters {bad} for task {task!r}; known: "
                             f"{sorted(defaults)}")
    both = sorted(set(fixed) & set(grid))
    if both:
        raise ValueError(f"{where}: {both} given both in [fixed] and in [grid]")
    if not grid:
        raise ValueError(f"{where}: [grid] is empty: give at least one parameter with a list of values")
    for name, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ValueError(f"{where}: grid parameter {name!r} must be a non-empty list, got {values!r}")
        if len(set(map(repr, values))) != len(values):
            raise ValueError(f"{where}: grid parameter {name!r} repeats a value: {values}")
    return GridConfig(task, model, table, dict(fixed), {k: list(v) for k, v in grid.items()})


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
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return record if record.get("params") == params and "result" in record else None


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
    path = pathlib.Path(path)
    columns = list(rows[0]) if rows else []
    if path.suffix == ".parquet":
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise RuntimeError("a .parquet table needs pyarrow: pip install pyarrow (or use results.csv)") from None
        table = pa.table({c: [r[c] for r in rows] for c in columns})
        return atomic_write(path, lambda fh: pq.write_table(table, fh))
    import csv
    import io
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for r in rows:
        writer.writerow([repr(v) if isinstance(v, float) else v for v in (r[c] for c in columns)])
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
        import pyarrow.parquet as pq
        return pq.read_table(path).to_pydict()
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


# ------------------------------------------------------------------------------------------------ running
def _client(scheduler, n_workers):
    from dask.distributed import Client, LocalCluster
    if scheduler:
        return Client(scheduler, timeout="30s"), None
    import os
    n = n_workers or os.cpu_count() or 1
    # one thread per worker process; Numba and BLAS threads pinned to one as well (results do not depend on it)
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
                           host="127.0.0.1", env={"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                                                  "OPENBLAS_NUM_THREADS": "1"})
    return Client(cluster), cluster


def run_grid(config, out, *, scheduler=None, n_workers=None, client=None, printer=print, progress=False):
    """Run the tasks of ``config`` not yet done in ``out``; gather the table.

    Parameters
    ----------
    config : str, path or GridConfig
        The config file (see :func:`load_config`) or a parsed config.
    out : str or path
        Output directory (created): ``tasks/``, the table, ``grid.json`` and ``grid.png``.
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

    Returns
    -------
    dict
        The ``grid.json`` summary: counts of tasks (total, skipped as done, run, failed), the failures (id,
        parameters, traceback file), the table's path and the seconds taken.
    """
    from dask.distributed import as_completed
    from tqdm.auto import tqdm
    cfg = config if isinstance(config, GridConfig) else load_config(config)
    out = pathlib.Path(out)
    (out / "tasks").mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    tasks = cfg.tasks()
    records = {task_id(p): _done(out, p) for p in tasks}          # None: still to run
    todo = [p for p in tasks if records[task_id(p)] is None]
    printer(f"grid: {len(tasks)} tasks, {len(tasks) - len(todo)} already done, {len(todo)} to run")
    failures = []
    if todo:
        own = client is None
        cluster = None
        if own:
            client, cluster = _client(scheduler, n_workers)
        try:
            futures = {client.submit(run_task, p, key=f"fastmf-grid-{task_id(p)}", pure=False): p for p in todo}
            bar = tqdm(total=len(todo), desc="grid", unit="task", file=sys.stderr, disable=not progress)
            for future in as_completed(futures):
                p = futures[future]
                tid = task_id(p)
                try:
                    reply = future.result()
                except Exception as exc:  # the task never finished: e.g. its workers kept dying (KilledWorker)
                    reply = {"ok": False, "traceback": "".join(traceback.format_exception(exc))}
                if reply["ok"]:
                    records[tid] = dict(params=p, result=reply["result"], seconds=reply["seconds"])
                    _write_json(_result_path(out, tid), records[tid])
                    (out / "tasks" / f"{tid}.error.txt").unlink(missing_ok=True)
                else:
                    atomic_write(out / "tasks" / f"{tid}.error.txt",
                                 lambda fh, text=reply["traceback"]: fh.write(text.encode()))
                    failures.append(dict(id=tid, params=p, traceback=f"tasks/{tid}.error.txt"))
                    printer(f"grid: task {tid} failed ({_last_line(reply['traceback'])}); traceback in "
                            f"{out / 'tasks' / (tid + '.error.txt')}")
                bar.update(1)
            bar.close()
        finally:
            if own:
                client.close()
                if cluster is not None:
                    cluster.close()
    rows = []
    for p in tasks:
        record = records[task_id(p)]
        if record is not None:
            rows.append(dict({k: p[k] for k in cfg.grid}, **{k: p[k] for k in cfg.fixed}, **record["result"]))
    table = out / cfg.table
    if rows:
        write_table(table, rows)
        _figures(out, cfg, rows)
    summary = dict(tasks=len(tasks), skipped=len(tasks) - len(todo), ran=len(todo), failed=len(failures),
                   missing=len(tasks) - len(rows), failures=failures, table=cfg.table if rows else None,
                   task=cfg.task, model=cfg.model, grid=cfg.grid, fixed=cfg.fixed,
                   seconds=time.perf_counter() - t0)
    _write_json(out / "grid.json", summary)
    printer(f"grid: {len(rows)} of {len(tasks)} tasks in {table}" + (f"; {len(failures)} failed" if failures else ""))
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


def _figures(out, cfg, rows):
    """Each result column against the first grid parameter, one line per combination of the other grid
    parameters except ``seed`` (mean over seeds, SE bars when there are several)."""
    from .experiments.report import pyplot, save_png
    x_name = next(iter(cfg.grid))
    if not all(isinstance(r[x_name], (int, float)) for r in rows):
        return
    results = [c for c in rows[0] if c not in cfg.grid and c not in cfg.fixed and not c.endswith("_se")]
    groups = [g for g in cfg.grid if g not in (x_name, "seed")]
    plt = pyplot()
    n = len(results)
    cols = min(4, n)
    rows_ = -(-n // cols)
    fig, axs = plt.subplots(rows_, cols, figsize=(4.2 * cols, 3.4 * rows_), squeeze=False)
    for ax in axs.ravel()[n:]:
        ax.set_visible(False)
    for ax, col in zip(axs.ravel(), results):
        keys = sorted({tuple(r[g] for g in groups) for r in rows}, key=repr)
        for key in keys:
            sel = [r for r in rows if tuple(r[g] for g in groups) == key]
            xs = sorted({r[x_name] for r in sel})
            vals = [[r[col] for r in sel if r[x_name] == x] for x in xs]
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
