"""What a grid config may say (see :mod:`fastmf.grid`), checked before anything is submitted.

* :data:`SCHEMAS`: for each task kind, the models it runs, its parameters (type, range, default) and the order of
  its result columns. Every value of every grid axis and every fixed parameter is checked against them, value by
  value along each axis (the grid is never expanded): ``N = -5``, ``T = "hot"``, ``seed = 1.5`` or an unknown
  parameter are refused with a message naming the parameter, the value and what is expected.
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

from .io import check_memory

__all__ = ["MAX_CONFIG_BYTES", "MAX_TASKS", "MAX_TASKS_ENV", "SCHEMAS", "TASKS", "GridConfig", "GridTasks", "Param",
           "TaskSchema", "grid_task_limit", "load_config", "parse_config", "result_columns"]

#: The largest grid run without an explicit ``max_tasks`` (config) or ``FASTMF_MAX_GRID_TASKS`` (environment).
MAX_TASKS = 100_000
#: Environment variable that overrides :data:`MAX_TASKS` (a positive integer) when the config sets no ``max_tasks``.
MAX_TASKS_ENV = "FASTMF_MAX_GRID_TASKS"
#: The largest config file read (bytes); the axes of the largest allowed grid take far less.
MAX_CONFIG_BYTES = 16 * 2 ** 20
_TABLE_SUFFIXES = (".csv", ".parquet")
_KEYS = ("task", "model", "table", "max_tasks", "fixed", "grid")


@dataclasses.dataclass(frozen=True)
class Param:
    """One parameter of a task.

    Attributes
    ----------
    kind : {"int", "real", "choice"}
        An integer (not a bool), a finite real number (an integer is accepted and kept as given) or one of
        ``choices``.
    default : object
        The value when the config does not give one.
    minimum : float, optional
        Lower bound (inclusive unless ``strict``).
    strict : bool
        The lower bound itself is excluded.
    maximum : int, optional
        Upper bound (inclusive).
    choices : tuple or dict
        The allowed values of a ``"choice"``, or model -> allowed values.
    doc : str
        What it is, for messages.
    """

    kind: str
    default: object
    minimum: float = None
    strict: bool = False
    maximum: int = None
    choices: object = ()
    doc: str = ""

    def expected(self, model):
        """What a value must be, in words (for messages)."""
        if self.kind == "choice":
            choices = self.choices.get(model, ()) if isinstance(self.choices, dict) else self.choices
            text = "one of " + ", ".join(map(repr, choices)) + (f" for model {model!r}" if isinstance(
                self.choices, dict) and set(choices) != set().union(*self.choices.values()) else "")
        else:
            text = "an integer" if self.kind == "int" else "a finite real number"
            if self.minimum is not None:
                text += f" {'>' if self.strict else '>='} {self.minimum}"
            if self.maximum is not None:
                text += f" and <= {self.maximum}"
        return text + (f" ({self.doc})" if self.doc else "")

    def check(self, value, model):
        """``None`` when ``value`` is allowed for ``model``, else the exception class to raise (TypeError for a
        value of the wrong type, ValueError for one out of range)."""
        if self.kind == "choice":
            choices = self.choices.get(model, ()) if isinstance(self.choices, dict) else self.choices
            return None if isinstance(value, str) and value in choices else \
                (ValueError if isinstance(value, str) else TypeError)
        number = (int,) if self.kind == "int" else (int, float)
        if isinstance(value, bool) or not isinstance(value, number):
            return TypeError
        if isinstance(value, float) and not math.isfinite(value):
            return ValueError
        if self.minimum is not None and (value <= self.minimum if self.strict else value < self.minimum):
            return ValueError
        return ValueError if self.maximum is not None and value > self.maximum else None


@dataclasses.dataclass(frozen=True)
class TaskSchema:
    """A task kind: the models it runs, its parameters (in task order) and its result columns (in table order).

    Attributes
    ----------
    models : tuple of str
        The accepted models, the default first.
    params : dict
        Name -> :class:`Param`.
    results : tuple of str
        The result columns, in the order of the table (a result key not listed follows them, sorted).
    memory : callable
        ``memory(model, N, n_samples)``: a lower estimate of one task's memory in bytes.
    """

    models: tuple
    params: dict
    results: tuple
    memory: object


def _simulate_memory(model, N, n):
    return 17 * N * n + (16 * N * N if model == "sk" else 0)    # int8 + float64 spins, energies; SK couplings


def _train_memory(model, N, n):
    return _simulate_memory(model, N, n) + 13 * N * n          # int8 copy, float32 inputs and reconstructions


_COMMON = dict(N=Param("int", 32, 2, doc="number of spins"), T=Param("real", 1.0, 0, True, doc="temperature"),
               h=Param("real", 0.0, doc="field"))
_SEED = Param("int", 0, 0, maximum=2 ** 32 - 1, doc="random seed")
_OBSERVABLES = ("energy_per_spin", "energy_per_spin_se", "abs_m", "abs_m_se")
_SAMPLERS = ("auto", "latent", "mcmc", "tempering")

#: task kind -> :class:`TaskSchema`.
SCHEMAS = {
    "simulate": TaskSchema(
        ("curie-weiss", "sk"),
        dict(_COMMON, n_samples=Param("int", 2000, 2, doc="samples; standard errors need two"), seed=_SEED,
             sampler=Param("choice", "auto", choices={"curie-weiss": _SAMPLERS,
                                                      "sk": ("auto", "mcmc", "tempering")})),
        _OBSERVABLES, _simulate_memory),
    "train": TaskSchema(
        ("curie-weiss",),
        dict(_COMMON, n_samples=Param("int", 4000, 100, doc="samples; the read-off needs 100"), seed=_SEED,
             beta=Param("real", 1.0, 0, doc="the VAE's KL weight"), epochs=Param("int", 30, 1, doc="epochs"),
             hidden=Param("int", 32, 1, doc="hidden units"), lr=Param("real", 3e-3, 0, True, doc="learning rate")),
        _OBSERVABLES + ("rate", "elbo", "mi_half_cut", "beta_J_readoff", "beta_h_readoff", "beta_J_true"),
        _train_memory),
}
#: task kind -> (accepted models, parameters with defaults), from :data:`SCHEMAS`.
TASKS = {task: (s.models, {name: p.default for name, p in s.params.items()}) for task, s in SCHEMAS.items()}


def result_columns(task, keys):
    """The result columns of a table, in a fixed order: the task's own (:attr:`TaskSchema.results`), then any
    other key sorted, so that a table does not depend on how its results were obtained (fresh or resumed).

    Parameters
    ----------
    task : str
        A key of :data:`SCHEMAS`.
    keys : iterable of str
        The result keys present.

    Returns
    -------
    list of str
    """
    keys = set(keys)
    known = SCHEMAS[task].results
    return [k for k in known if k in keys] + sorted(keys - set(known))


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
        self._head = dict(task=config.task, model=config.model)
        self._base = dict(TASKS[config.task][1], **config.fixed)
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
    max_tasks : int, optional
        The config's own limit on the number of tasks (see :func:`grid_task_limit`).
    """

    task: str
    model: str
    table: str
    fixed: dict
    grid: dict
    max_tasks: int = None

    @property
    def size(self):
        """The number of tasks (grid points)."""
        return math.prod(len(v) for v in self.grid.values())

    def tasks(self):
        """Every grid point as a full parameter dict, made on demand.

        Returns
        -------
        GridTasks
            A sequence of dicts, in grid order (the last grid parameter varies fastest): ``task``, ``model`` and
            the parameters (the defaults of :data:`TASKS`, overridden by the fixed values, then the point).
        """
        return GridTasks(self)

    def raw(self):
        """The config as a dict, as :func:`parse_config` takes it."""
        raw = dict(task=self.task, model=self.model, table=self.table, fixed=self.fixed, grid=self.grid)
        return raw if self.max_tasks is None else dict(raw, max_tasks=self.max_tasks)


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


def _check_value(schema, model, name, value, where):
    param = schema.params[name]
    error = param.check(value, model)
    if error is not None:
        hint = " (a list of values belongs in [grid])" if isinstance(value, list) and "[fixed]" in where else ""
        raise error(f"{where} = {value!r}: {name} must be {param.expected(model)}, got {type(value).__name__} "
                    f"{value!r}{hint}")


def parse_config(raw, where="config"):
    """Check a grid config given as a dict (parsed TOML), without expanding the grid.

    Parameters
    ----------
    raw : dict
        Keys ``task``, ``model``, ``table``, ``max_tasks``, ``fixed`` and ``grid`` (see :mod:`fastmf.grid`).
    where : str
        Where the config comes from, named in the errors.

    Returns
    -------
    GridConfig

    Raises
    ------
    ValueError, TypeError
        Naming what is wrong: unknown keys or parameters, a bad table name, an empty, repeating or non-list axis,
        a value of the wrong type (TypeError) or out of range (each value of each axis is checked), a grid of
        more tasks than :func:`grid_task_limit`, a task above the memory limit.
    """
    if not isinstance(raw, dict):
        raise TypeError(f"{where}: a grid config is a table (dict), got {type(raw).__name__}")
    unknown = sorted(set(raw) - set(_KEYS))
    if unknown:
        raise ValueError(f"{where}: unknown keys {unknown}; expected task, model, table, max_tasks, [fixed], [grid]")
    task = raw.get("task")
    if not isinstance(task, str) or task not in SCHEMAS:
        raise ValueError(f"{where}: task must be one of {sorted(SCHEMAS)}, got {task!r}")
    schema = SCHEMAS[task]
    model = raw.get("model", schema.models[0])
    if not isinstance(model, str) or model not in schema.models:
        raise ValueError(f"{where}: task {task!r} takes model {' or '.join(schema.models)}, got {model!r}")
    table = raw.get("table", "results.csv")
    if not isinstance(table, str) or pathlib.Path(table).suffix not in _TABLE_SUFFIXES or "/" in table \
            or "\\" in table:
        raise ValueError(f"{where}: table must be a file name ending in .csv or .parquet, got {table!r}")
    limit = grid_task_limit(raw.get("max_tasks"), where)
    fixed, grid = raw.get("fixed", {}), raw.get("grid", {})
    if not isinstance(fixed, dict) or not isinstance(grid, dict):
        raise ValueError(f"{where}: [fixed] and [grid] must be tables")
    for section, values in (("fixed", fixed), ("grid", grid)):
        bad = sorted(set(values) - set(schema.params))
        if bad:
            raise ValueError(f"{where}: [{section}] has unknown parameters {bad} for task {task!r}; known: "
                             f"{sorted(schema.params)}")
    both = sorted(set(fixed) & set(grid))
    if both:
        raise ValueError(f"{where}: {both} given both in [fixed] and in [grid]")
    if not grid:
        raise ValueError(f"{where}: [grid] is empty: give at least one parameter with a list of values")
    for name, value in fixed.items():
        _check_value(schema, model, name, value, f"{where}: [fixed] {name}")
    for name, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ValueError(f"{where}: grid parameter {name!r} must be a non-empty list, got {values!r}")
        for i, value in enumerate(values):
            _check_value(schema, model, name, value, f"{where}: [grid] {name}[{i}]")
        if len(set(map(repr, values))) != len(values):
            raise ValueError(f"{where}: grid parameter {name!r} repeats a value: {values}")
    size = math.prod(len(v) for v in grid.values())
    if size > limit:
        shape = " x ".join(f"{len(v)} {k}" for k, v in grid.items())
        raise ValueError(f"{where}: the grid has {size:,} tasks ({shape}), above the limit of {limit:,}; make it "
                         f"smaller, or raise the limit with max_tasks = N in the config or {MAX_TASKS_ENV}=N")
    largest = {k: max([fixed.get(k, schema.params[k].default)] + grid.get(k, [])) for k in ("N", "n_samples")}
    check_memory(schema.memory(model, largest["N"], largest["n_samples"]),
                 f"{where}: the largest task (N = {largest['N']}, n_samples = {largest['n_samples']})")
    return GridConfig(task, model, table, dict(fixed), {k: list(v) for k, v in grid.items()}, raw.get("max_tasks"))
