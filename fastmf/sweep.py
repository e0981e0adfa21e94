"""Deprecated alias of :mod:`fastmf.grid` (renamed in 0.2.0: a sweep is a Monte Carlo sweep; this alias goes in
0.3.0). ``run_sweep`` and ``SweepConfig`` are the old names of :func:`fastmf.grid.run_grid` and
:class:`fastmf.grid.GridConfig`."""
import warnings

from .grid import *  # noqa: F401,F403
from .grid import GridConfig as SweepConfig  # noqa: F401
from .grid import TASKS, load_config, parse_config, read_table, run_sweep, run_task, task_id, write_table  # noqa: F401

warnings.warn("fastmf.sweep is deprecated; import from fastmf.grid instead", DeprecationWarning, stacklevel=2)
