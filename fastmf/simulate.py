"""Deprecated alias of fastmf.sampling.simulate (moved in 0.2.0; this alias goes in 0.3.0)."""
import warnings

from .sampling.simulate import measure_autocorrelation, simulate_chains, simulate_lattice  # noqa: F401

warnings.warn("fastmf.simulate is deprecated; import from fastmf.sampling.simulate instead", DeprecationWarning, stacklevel=2)
