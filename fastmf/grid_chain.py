"""One grid task on its worker: a user function, the legacy ``train`` pipeline, or a chain of stages run in one
process, each stage's output (samples, trained VAE) fed to the next (see :mod:`fastmf.grid`).

Files. A chain, or a task that keeps artifacts, works in its task directory ``OUT/tasks/<id>/`` when the worker
sees the output directory (a shared filesystem; always so for a local cluster), else in a temporary directory
whose kept files travel back to the client with the result. After each stage but the last, a chain records the
stage, atomically and in this order: what the stages after it need (``samples.npz``: :meth:`SampleSet.save`,
``model.npz``: :meth:`VAE.save`), then ``<stage>.json`` (the task's parameters, the stage's results and seconds).
A resumed task (the client was killed, a worker died, a later stage failed) restarts at its first stage without a
valid record, reading what it needs from those files. The next stage always reads its input back from the file
just written (also in an uninterrupted run), so a resumed chain computes exactly what an uninterrupted one does.
When the task completes, the client writes its record ``OUT/tasks/<id>.json`` and removes every file of the task
directory that ``keep`` does not name (and the directory when empty).
"""
import contextlib
import json
import pathlib
import tempfile
import time
import traceback

from .grid_params import ARTIFACTS, STAGES
from .grid_stages import STAGE_FUNCTIONS, StageContext, legacy_train
from .grid_user import call_user_function, flat_result
from .io import atomic_write

__all__ = ["read_record", "run_chain", "run_task", "write_record"]

#: what each stage gives, its file, how it is written and read back
_FILES = {"samples": ("samples.npz", "samples"), "model": ("model.npz", "vae")}


def write_record(path, obj):
    """Write a JSON record atomically (sorted keys, so that equal records are equal files).

    Parameters
    ----------
    path : str or path
        The file.
    obj : dict
        JSON-serialisable.
    """
    atomic_write(path, lambda fh: fh.write(json.dumps(obj, sort_keys=True, indent=1).encode()))


def read_record(path):
    """A JSON record, or None when it is missing, unreadable or not a dict.

    Parameters
    ----------
    path : str or path
        The file.

    Returns
    -------
    dict or None
    """
    try:
        record = json.loads(pathlib.Path(path).read_text())
    except (OSError, ValueError):  # missing or unreadable; JSONDecodeError and UnicodeDecodeError are ValueErrors
        return None
    return record if isinstance(record, dict) else None


def _load(kind, path):
    if kind == "samples":
        from .io import load_samples
        return load_samples(path)
    from .vae import VAE
    return VAE.load(path)


def _save(ctx, chain, i):
    """Write what stage ``chain[i]`` gives when a later stage needs it or ``keep`` asks for it; a later stage
    gets it read back from the file."""
    kind = STAGES[chain[i]].gives
    if kind not in _FILES:
        return
    name, attr = _FILES[kind]
    needed = any(kind in STAGES[s].needs for s in chain[i + 1:])
    if needed or STAGES[chain[i]].artifact in ctx.keep:
        getattr(ctx, attr).save(ctx.workdir / name)
        if needed:
            setattr(ctx, attr, _load(kind, ctx.workdir / name))


def _resume(ctx, chain, results, stages):
    """The index of the first stage of ``chain`` without a valid record in ``ctx.workdir`` (filling ``results``
    and ``stages`` with the recorded ones and ``ctx`` with what the later stages need); 0 when anything needed
    cannot be read."""
    start = 0
    for stage in chain[:-1]:
        rec = read_record(ctx.workdir / f"{stage}.json")
        kept = STAGES[stage].artifact not in ctx.keep or (ctx.workdir / ARTIFACTS[STAGES[stage].artifact]).exists()
        if not (rec and rec.get("params") == ctx.params and rec.get("stage") == stage
                and isinstance(rec.get("result"), dict) and kept):
            break
        results[stage] = rec["result"]
        stages[stage] = dict(seconds=rec.get("seconds"), resumed=True)
        start += 1
    try:
        for kind, (name, attr) in _FILES.items():
            if any(STAGES[s].gives == kind for s in chain[:start]) and \
                    any(kind in STAGES[s].needs for s in chain[start:]):
                setattr(ctx, attr, _load(kind, ctx.workdir / name))
    except (OSError, ValueError):          # a damaged or missing file: start again from the first stage
        results.clear()
        stages.clear()
        return 0
    return start


def _files(workdir, names):
    """``{relative path: bytes}`` of the files and directories ``names`` under ``workdir``."""
    out = {}
    for name in names:
        path = workdir / name
        for f in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if f.is_file():
                out[f.relative_to(workdir).as_posix()] = f.read_bytes()
    return out


def run_chain(params, task_dir=None, keep=()):
    """Run the stages of a task (one stage or a chain), resuming at the first unfinished one.

    Parameters
    ----------
    params : dict
        The task (``task``: a stage name or a list of stages).
    task_dir : str, optional
        ``OUT/tasks/<id>``: records and artifacts go there when its parent exists (see the module docstring).
    keep : tuple of str
        The artifacts to keep (keys of :data:`~fastmf.grid_params.ARTIFACTS`).

    Returns
    -------
    result : dict
        The stages' results, ``"stage.key"`` for a chain, the stage's own keys for one stage.
    extra : dict
        ``stages`` (per stage: seconds, whether it was resumed from its record), ``kept`` (the artifact files),
        and ``files`` (``{path: bytes}`` of the kept files when they were written in a temporary directory).
    """
    chained = not isinstance(params["task"], str)
    chain = list(params["task"]) if chained else [params["task"]]
    shared = task_dir is not None and pathlib.Path(task_dir).parent.is_dir()
    with contextlib.ExitStack() as stack:
        if shared:
            workdir = pathlib.Path(task_dir)
            workdir.mkdir(exist_ok=True)
        else:
            workdir = pathlib.Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fastmf-grid-")))
        ctx = StageContext(params, chained, workdir, tuple(keep))
        results, stages = {}, {}
        start = _resume(ctx, chain, results, stages) if shared and len(chain) > 1 else 0
        for i in range(start, len(chain)):
            stage, t0 = chain[i], time.perf_counter()
            results[stage] = flat_result(STAGE_FUNCTIONS[stage](ctx, ctx.values(stage)), f"stage {stage!r}")
            _save(ctx, chain, i)
            stages[stage] = dict(seconds=time.perf_counter() - t0, resumed=False)
            if shared and i < len(chain) - 1:
                write_record(workdir / f"{stage}.json", dict(params=params, stage=stage, result=results[stage],
                                                             seconds=stages[stage]["seconds"]))
        kept = [ARTIFACTS[a] for a in keep]
        extra = dict(stages=stages, kept=kept, **({} if shared else {"files": _files(workdir, kept)}))
    if not chained:
        return results[chain[0]], extra
    return {f"{s}.{k}": v for s in chain for k, v in results[s].items()}, extra


def run_task(params, task_dir=None, keep=()):
    """Run one task (on a worker).

    Parameters
    ----------
    params : dict
        A task of :meth:`fastmf.grid_schema.GridConfig.tasks`.
    task_dir : str, optional
        The task's directory ``OUT/tasks/<id>`` (absolute): stages and kept artifacts are recorded there when
        the worker sees it (see :func:`run_chain`).
    keep : tuple of str
        The artifacts to keep.

    Returns
    -------
    dict
        ``{"ok": True, "result": {...}, "seconds": s}`` (a stage task adds ``stages``, ``kept`` and maybe
        ``files``: see :func:`run_chain`) or, if it raised, ``{"ok": False, "traceback": "..."}`` (the worker's own
        traceback text).
    """
    t0 = time.perf_counter()
    try:
        task, extra = params["task"], {}
        if isinstance(task, str) and ":" in task:
            result = call_user_function(params)
        elif task == "train":
            result = flat_result(legacy_train(params), "task 'train'")
        else:
            result, extra = run_chain(params, task_dir, keep)
        return dict(ok=True, result=result, seconds=time.perf_counter() - t0, **extra)
    except Exception:
        return {"ok": False, "traceback": traceback.format_exc()}
