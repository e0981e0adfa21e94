"""Deprecated alias of fastmf.stats.population (moved in 0.2.0; this alias goes in 0.3.0)."""
import warnings

from ..stats.population import PopulationStatistics, compare_statistics, population_statistics  # noqa: F401

__all__ = ["PopulationStatistics", "compare_statistics", "population_statistics"]

warnings.warn("fastmf.neural.stats is deprecated; import from fastmf.stats (fastmf.stats.population) instead",
              DeprecationWarning, stacklevel=2)
