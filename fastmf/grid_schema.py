"""What a grid config may say (see :mod:`fastmf.grid`), checked before anything is submitted.

* The task: one stage (``"simulate"``, ``"exact"``), a chain of stages (``["simulate", "train", "decode",
  "compare"]``: each stage must follow the stages that give what it needs), the legacy ``"train"`` pipeline, or a
  user function ``"package.module:function"`` (:mod:`fastmf.grid_user`).
* Every value of every grid axis and every fixed parameter is checked against the task's parameters
  (:mod:`fastmf.grid_params`: types, ranges, the models each value allows), value by value along each axis (the
  grid is never expanded): ``N = -5``, ``T = "hot"``, ``seed = 1.5`` or an unknown parameter are refused with a
  message naming the parameter, the value and what is expected. The few rules that join parameters (Hopfield
  ``P < N``, a checkerboard lattice needs even sides, ...) are checked over the values of the axes they join.
* :data:`MAX_TASKS`: grids of more tasks are refused at once, the grid's size in the message. The limit is the
  config's ``max_tasks`` if given, else the environment variable ``FASTMF_MAX_GRID_TASKS``, else 100 000.
* :class:`GridConfig` generates its tasks lazily (:class:`GridTasks`, a sequence computed point by point).
* The largest task's memory is estimated and refused above :func:`fastmf.io.memory_limit`.
"""
import collections.abc
import dataclasses
import itertools
import math
import operator
import os
import pathlib
import re
import tomllib

from .grid_params import ARTIFACTS, LEGACY_TRAIN, MODEL_PARAMS, MODELS, STAGES, Param, Stage, TaskSchema, task_schema
from .grid_rules import check_largest_task, check_rules

__all__ = ["ARTIFACTS", "MAX_CONFIG_BYTES", "MAX_TASKS", "MAX_TASKS_ENV", "SCHEMAS", "TASKS", "GridConfig",
           "GridTasks", "Param", "Stage", "TaskSchema", "grid_task_limit", "is_user_task", "load_config",
           "parse_config", "result_columns"]

#: The largest grid run without an explicit ``max_tasks`` (config) or ``FASTMF_MAX_GRID_TASKS`` (environment).
MAX_TASKS = 100_000
#: Environment variable that overrides :data:`MAX_TASKS` (a positive integer) when the config sets no ``max_tasks``.
MAX_TASKS_ENV = "FASTMF_MAX_GRID_TASKS"
#: The largest config file read (bytes); the axes of the largest allowed grid take far less.
MAX_CONFIG_BYTES = 16 * 2 ** 20
_TABLE_SUFFIXES = (".csv", ".parquet")
_KEYS = ("task", "model", "table", "max_tasks", "keep", "plot", "fixed", "grid")
#: task kind given alone -> its schema: a :class:`~fastmf.grid_params.Stage` (its parameters besides the model's)
#: or, for ``"train"``, the legacy pipeline's :class:`~fastmf.grid_params.TaskSchema`
SCHEMAS = {"simulate": STAGES["simulate"], "exact": STAGES["exact"], "train": LEGACY_TRAIN}
#: task kind given alone -> (accepted models, parameters with defaults for the first model)
TASKS = {name: ((s.models,) + (task_schema(name, s.models[0])[1],)) for name, s in SCHEMAS.items()}


def is_user_task(task):
    """Whether a config's task names a user function.

    Parameters
    ----------
    task : object
        The task.

    Returns
    -------
    bool
        ``task`` is a string ``"package.module:function"``.
    """
    return isinstance(task, str) and ":" in task


def result_columns(task, keys):
    """The result columns of a table, in a fixed order, so that a table does not depend on how its results were
    obtained (fresh or resumed): a stage's own results (:attr:`Stage.results`) then its other keys sorted, stage
    by stage for a chain (``"stage.key"``); a user function's keys sorted.

    Parameters
    ----------
    task : str or tuple of str
        The config's task.
    keys : iterable of str
        The result keys present.

    Returns
    -------
    list of str
    """
    keys = set(keys)
    if is_user_task(task):
        return sorted(keys)
    if isinstance(task, str):
        known = SCHEMAS[task].results
        return [k for k in known if k in keys] + sorted(keys - set(known))
    out = []
    for stage in task:
        own = [f"{stage}.{k}" for k in STAGES[stage].results]
        out += [k for k in own if k in keys] + sorted(k for k in keys - set(own) if k.startswith(stage + "."))
    return out + sorted(keys - set(out))


def grid_task_limit(max_tasks=None, where="config"):
    """The largest number of tasks a grid may have.

    Parameters
    ----------
    max_tasks : int, optional
        The config's ``max_tasks``; when absent, ``FASTMF_MAX_GRID_TASKS`` or :data:`MAX_TASKS`.
    where : str
        Names the config in messages.

    Returns
    -------
    int
    """
    if max_tasks is not None:
        if isinstance(max_tasks, bool) or not isinstance(max_tasks, int) or max_tasks < 1:
            raise ValueError(f"{where}: max_tasks must be a positive integer, got {max_tasks!r}")
        return max_tasks
    text = os.environ.get(MAX_TASKS_ENV, "").strip()
    if not text:
        return MAX_TASKS
    try:
        limit = int(text)
    except ValueError:
        limit = 0
    if limit < 1:
        raise ValueError(f"{MAX_TASKS_ENV}={text!r}: expected a positive integer (the largest grid, in tasks)")
    return limit


class GridTasks(collections.abc.Sequence):
    """The tasks of a grid, made on demand: iterating walks the Cartesian product, ``tasks[i]`` computes point
    ``i`` (grid order: the last grid parameter varies fastest), ``len`` is the product of the axes' lengths.
    Nothing is stored but the axes.

    Parameters
    ----------
    config : GridConfig
        The grid.
    """

    def __init__(self, config):
        self._head = dict(task=list(config.task) if isinstance(config.task, tuple) else config.task)
        if config.model is not None:
            self._head["model"] = config.model
        self._base = dict(config.defaults(), **config.fixed)
        self._names = list(config.grid)
        self._axes = [list(config.grid[n]) for n in self._names]
        self._len = math.prod(len(a) for a in self._axes)

    def __len__(self):
        return self._len

    def _make(self, values):
        return dict(self._head, **dict(self._base, **dict(zip(self._names, values))))

    def __iter__(self):
        return map(self._make, itertools.product(*self._axes))

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._len))]
        i = operator.index(index)
        i += self._len if i < 0 else 0
        if not 0 <= i < self._len:
            raise IndexError(f"task index {index} out of range for a grid of {self._len} tasks")
        values = []
        for axis in reversed(self._axes):
            i, r = divmod(i, len(axis))
            values.append(axis[r])
        return self._make(reversed(values))


@dataclasses.dataclass(frozen=True)
class GridConfig:
    """A parsed grid config (see :func:`load_config`).

    Attributes
    ----------
    task : str or tuple of str
        A stage alone (``"simulate"``, ``"exact"``), ``"train"`` (the legacy pipeline), a chain of stages (a
        tuple) or a user function ``"package.module:function"``.
    model : str or None
        The model the stages run (None for a user function).
    table : str
        File name of the results table (``.csv`` or ``.parquet``) in the output directory.
    fixed : dict
        Parameters fixed for every task (a chain's stage parameters as ``"stage.name"``).
    grid : dict
        Parameter -> list of values, in config order (the first one is the figures' x axis).
    max_tasks : int, optional
        The config's own limit on the number of tasks (see :func:`grid_task_limit`).
    keep : tuple of str
        The artifacts stored under ``OUT/tasks/<id>/`` (keys of :data:`~fastmf.grid_params.ARTIFACTS`).
    plot : tuple
        The result columns drawn, each a name or a tuple of names drawn in one panel (empty: every column).
    """

    task: object
    model: str
    table: str
    fixed: dict
    grid: dict
    max_tasks: int = None
    keep: tuple = ()
    plot: tuple = ()

    @property
    def size(self):
        """The number of tasks (grid points)."""
        return math.prod(len(v) for v in self.grid.values())

    @property
    def chained(self):
        """Whether the task is a chain of stages (its results are named ``"stage.key"``)."""
        return isinstance(self.task, tuple)

    def defaults(self):
        """The parameters every task holds when the config does not give them (a chain's ``"stage.name"`` is
        left out when ``name`` or ``"stage.name"`` is given)."""
        if is_user_task(self.task):
            from .grid_user import function_schema
            return function_schema(self.task)[1]
        given = set(self.fixed) | set(self.grid)
        return {k: v for k, v in task_schema(self.task, self.model)[1].items()
                if k not in given and k.split(".", 1)[-1] not in given}

    def tasks(self):
        """Every grid point as a full parameter dict, made on demand.

        Returns
        -------
        GridTasks
            A sequence of dicts, in grid order (the last grid parameter varies fastest): ``task`` (a list for a
            chain), ``model`` (not for a user function) and the parameters (the defaults, overridden by the
            fixed values, then the point).
        """
        return GridTasks(self)

    def raw(self):
        """The config as a dict, as :func:`parse_config` takes it."""
        raw = dict(task=list(self.task) if self.chained else self.task, table=self.table, fixed=self.fixed,
                   grid=self.grid)
        extra = dict(model=self.model, max_tasks=self.max_tasks, keep=list(self.keep),
                     plot=[list(p) if isinstance(p, tuple) else p for p in self.plot])
        return dict(raw, **{k: v for k, v in extra.items() if v not in (None, [])})


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
    FileNotFoundError, IsADirectoryError, PermissionError
        The file is missing, a directory or unreadable.
    ValueError
        Naming what is wrong: invalid TOML (with the line) or a bad entry (see :func:`parse_config`).
    """
    path = pathlib.Path(path)
    if path.exists() and not path.is_dir() and not path.is_file():
        raise ValueError(f"grid config {str(path)!r} is not a regular file")
    if path.is_file() and path.stat().st_size > MAX_CONFIG_BYTES:
        raise ValueError(f"grid config {str(path)!r} has {path.stat().st_size:,} bytes, more than a grid config "
                         f"may have ({MAX_CONFIG_BYTES:,})")
    try:
        text = path.read_bytes().decode()
    except FileNotFoundError:
        raise FileNotFoundError(f"grid config {str(path)!r} not found") from None
    except IsADirectoryError:
        raise IsADirectoryError(f"grid config {str(path)!r} is a directory, not a TOML file") from None
    except PermissionError:
        raise PermissionError(f"grid config {str(path)!r} is not readable (permission denied)") from None
    except UnicodeDecodeError:
        raise ValueError(f"grid config {str(path)!r} is not valid TOML: not UTF-8 text") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        at = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
        if at:
            where = f"line {at[1]}, column {at[2]}"
        else:
            at = re.search(r"\s*\(at end of document\)$", message)
            where = f"line {text.count(chr(10)) + (not text.endswith(chr(10)))} (the end of the file)"
        message = message[:at.start()] if at else message
        raise ValueError(f"grid config {str(path)!r} is not valid TOML: {where}: {message}") from None
    return parse_config(raw, str(path))


def _check_value(params, model, name, value, where):
    for param in params:
        error = param.check(value, model)
        if error is not None:
            hint = " (a list of values belongs in [grid])" if isinstance(value, list) and "[fixed]" in where \
                and param.kind != "widths" else ""
            raise error(f"{where} = {value!r}: {name} must be {param.expected(model)}, got {type(value).__name__} "
                        f"{value!r}{hint}")


def _parse_task(task, where):
    """The task as GridConfig holds it: a string (one stage, ``"train"``, a user function) or a tuple (a chain)."""
    kinds = sorted(SCHEMAS)
    if isinstance(task, list):
        if not task or not all(isinstance(s, str) for s in task):
            raise ValueError(f"{where}: a chain of stages is a non-empty list of stage names, got {task!r}")
        unknown = [s for s in task if s not in STAGES]
        if unknown:
            raise ValueError(f"{where}: task has unknown stages {unknown}; the stages are {list(STAGES)}")
        if len(set(task)) != len(task):
            raise ValueError(f"{where}: task {task!r} repeats a stage")
        for i, stage in enumerate(task):
            for need in STAGES[stage].needs:
                if not any(STAGES[s].gives == need for s in task[:i]):
                    giver = next(s for s, st in STAGES.items() if st.gives == need)
                    raise ValueError(f"{where}: stage {stage!r} needs the {need} of an earlier stage: put "
                                     f"{giver!r} before it in the task, e.g. task = {_example(stage)}")
        return tuple(task)
    if isinstance(task, str) and (task in SCHEMAS or is_user_task(task)):
        return task
    if task in STAGES:
        raise ValueError(f"{where}: stage {task!r} needs the output of earlier stages: give a chain, e.g. "
                         f"task = {_example(task)}")
    raise ValueError(f"{where}: task must be one of {kinds}, a chain of stages such as {_example('compare')}, or "
                     f"a user function 'package.module:function', got {task!r}")


def _example(stage):
    chain = ["simulate", "train", "decode", "compare"]
    return str(chain[:chain.index(stage) + 1] if stage in chain else chain)


def _parse_model(raw, task, where):
    if is_user_task(task):
        if "model" in raw:
            raise ValueError(f"{where}: model is for the built-in stages; a user function takes its parameters "
                             "in [fixed] and [grid]")
        return None
    stages = [SCHEMAS[task]] if isinstance(task, str) else [STAGES[s] for s in task]
    models = [m for m in (stages[0].models if task == "train" else MODELS) if all(m in s.models for s in stages)]
    model = raw.get("model", models[0])
    if not isinstance(model, str) or model not in models:
        raise ValueError(f"{where}: task {task if isinstance(task, str) else list(task)!r} takes model "
                         f"{' or '.join(models)}, got {model!r}")
    return model


def _flatten(section, values, task, where):
    """A section with its stage sub-tables (``[fixed.train]``) as ``"stage.name"`` keys."""
    if not isinstance(values, dict):
        raise ValueError(f"{where}: [fixed] and [grid] must be tables")
    out = {}
    for key, value in values.items():
        if not isinstance(value, dict):
            pairs = [(key, value)]
        elif isinstance(task, tuple) and key in task:
            pairs = [(f"{key}.{k}", v) for k, v in value.items()]
        else:
            raise ValueError(f"{where}: [{section}.{key}] is not a stage of the task; stage tables need a chain "
                             f"of stages (task = {_example('compare')})")
        for name, v in pairs:
            if name in out:
                raise ValueError(f"{where}: [{section}] gives {name!r} twice")
            out[name] = v
    return out


def _unknown(section, names, allowed, task, model, where):
    bad = sorted(set(names) - set(allowed))
    if not bad:
        return
    shared = [n.split(".", 1)[1] for n in bad if model and n.split(".", 1)[-1] in MODEL_PARAMS[model]]
    hint = (f"; {shared[0]} is a parameter of the model, shared by every stage: give it without a stage"
            if shared else "")
    what = f"task {task if isinstance(task, str) else list(task)!r}" + (f" and model {model!r}" if model else "")
    raise ValueError(f"{where}: [{section}] has unknown parameters {bad} for {what}; known: {sorted(allowed)}"
                     f"{hint}")


def _parse_keep_plot(raw, task, where):
    keep = raw.get("keep", [])
    if not isinstance(keep, list) or not all(isinstance(k, str) for k in keep) or len(set(keep)) != len(keep):
        raise ValueError(f"{where}: keep must be a list of distinct artifact names, got {keep!r}")
    if keep and (is_user_task(task) or task == "train"):
        raise ValueError(f"{where}: keep applies to the stages; task {task!r} keeps its results only (chain the "
                         f"stages to keep their files: task = {_example('compare')})")
    stages = (task,) if isinstance(task, str) else task
    offered = [STAGES[s].artifact for s in stages if s in STAGES]
    bad = [k for k in keep if k not in offered]
    if bad:
        raise ValueError(f"{where}: keep = {keep!r}: {bad[0]!r} is not an artifact of this task; it offers "
                         f"{offered} (of {list(ARTIFACTS)})")
    plot = raw.get("plot", [])
    panels = [p if isinstance(p, list) else [p] for p in plot] if isinstance(plot, list) else None
    if panels is None or not all(p and all(isinstance(c, str) for c in p) for p in panels):
        raise ValueError(f"{where}: plot must be a list of result columns (a list of columns: one panel), got "
                         f"{plot!r}")
    if not is_user_task(task):
        known = SCHEMAS[task].results if isinstance(task, str) else [f"{s}.{k}" for s in task
                                                                     for k in STAGES[s].results]
        bad = [c for p in panels for c in p if c not in known]
        if bad:
            raise ValueError(f"{where}: plot names {bad[0]!r}, not a result column of this task; its columns: "
                             f"{list(known)}")
    return tuple(keep), tuple(tuple(p) if len(p) > 1 else p[0] for p in panels)


def parse_config(raw, where="config"):
    """Check a grid config given as a dict (parsed TOML), without expanding the grid.

    Parameters
    ----------
    raw : dict
        Keys ``task``, ``model``, ``table``, ``max_tasks``, ``keep``, ``plot``, ``fixed`` and ``grid`` (see
        :mod:`fastmf.grid`).
    where : str
        Where the config comes from, named in the errors.

    Returns
    -------
    GridConfig

    Raises
    ------
    ValueError, TypeError
        Naming what is wrong: unknown keys, stages or parameters, a chain whose stage lacks its input, a user
        function that cannot be imported or whose required parameters are missing, a bad table name, an empty,
        repeating or non-list axis, a value of the wrong type (TypeError) or out of range (each value of each
        axis is checked), values that a rule joining parameters refuses, a grid of more tasks than
        :func:`grid_task_limit`, a task above the memory limit.
    """
    if not isinstance(raw, dict):
        raise TypeError(f"{where}: a grid config is a table (dict), got {type(raw).__name__}")
    unknown = sorted(set(raw) - set(_KEYS))
    if unknown:
        raise ValueError(f"{where}: unknown keys {unknown}; expected task, model, table, max_tasks, keep, plot, "
                         "[fixed], [grid]")
    task = _parse_task(raw.get("task"), where)
    model = _parse_model(raw, task, where)
    table = raw.get("table", "results.csv")
    if not isinstance(table, str) or pathlib.Path(table).suffix not in _TABLE_SUFFIXES or "/" in table \
            or "\\" in table:
        raise ValueError(f"{where}: table must be a file name ending in .csv or .parquet, got {table!r}")
    limit = grid_task_limit(raw.get("max_tasks"), where)
    fixed, grid = (_flatten(s, raw.get(s, {}), task, where) for s in ("fixed", "grid"))
    if is_user_task(task):
        from .grid_user import function_schema
        allowed, _, any_name, _ = function_schema(task, where)
    else:
        (allowed, _), any_name = task_schema(task, model), False
    for section, values in (("fixed", fixed), ("grid", grid)):
        if not any_name:
            _unknown(section, values, allowed, task, model, where)
    both = sorted(set(fixed) & set(grid))
    if both:
        raise ValueError(f"{where}: {both} given both in [fixed] and in [grid]")
    if not grid:
        raise ValueError(f"{where}: [grid] is empty: give at least one parameter with a list of values")
    for name, value in fixed.items():
        _check_value(allowed.get(name, ()), model, name, value, f"{where}: [fixed] {name}")
    for name, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ValueError(f"{where}: grid parameter {name!r} must be a non-empty list, got {values!r}")
        for i, value in enumerate(values):
            _check_value(allowed.get(name, ()), model, name, value, f"{where}: [grid] {name}[{i}]")
        if len(set(map(repr, values))) != len(values):
            raise ValueError(f"{where}: grid parameter {name!r} repeats a value: {values}")
    keep, plot = _parse_keep_plot(raw, task, where)
    cfg = GridConfig(task, model, table, dict(fixed), {k: list(v) for k, v in grid.items()}, raw.get("max_tasks"),
                     keep, plot)
    if is_user_task(task):
        from .grid_user import check_required
        check_required(cfg.task, set(fixed) | set(grid), where)
    size = cfg.size
    if size > limit:
        shape = " x ".join(f"{len(v)} {k}" for k, v in grid.items())
        raise ValueError(f"{where}: the grid has {size:,} tasks ({shape}), above the limit of {limit:,}; make it "
                         f"smaller, or raise the limit with max_tasks = N in the config or {MAX_TASKS_ENV}=N")
    if not is_user_task(task):
        values = dict({k: [v] for k, v in dict(cfg.defaults(), **fixed).items()}, **grid)
        check_rules(task, model, values, set(fixed) | set(grid), where)
        check_largest_task(task, model, values, where)
    return cfg
