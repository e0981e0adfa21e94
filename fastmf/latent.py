"""Deprecated alias of fastmf.sampling.latent (moved in 0.2.0; this alias goes in 0.3.0)."""
import warnings

from .sampling.latent import *  # noqa: F401,F403

warnings.warn("fastmf.latent is deprecated; import from fastmf.sampling.latent instead", DeprecationWarning, stacklevel=2)
