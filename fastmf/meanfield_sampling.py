"""Deprecated alias of fastmf.sampling.meanfield (moved in 0.2.0; this alias goes in 0.3.0)."""
import warnings

from .sampling.meanfield import SAMPLERS, MeanFieldSampler, TemperingSampler, simulate_meanfield  # noqa: F401

warnings.warn("fastmf.meanfield_sampling is deprecated; import from fastmf.sampling.meanfield instead", DeprecationWarning, stacklevel=2)
