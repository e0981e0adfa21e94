"""Deprecated alias of fastmf.grid (moved in 0.2.0; this alias goes in 0.3.0)."""
import warnings

from .grid import *  # noqa: F401,F403
from .grid import load_config, read_table, run_sweep, run_task, write_table  # noqa: F401

warnings.warn("fastmf.sweep is deprecated; import from fastmf.grid instead", DeprecationWarning, stacklevel=2)
