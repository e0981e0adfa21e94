"""Deprecated alias of fastmf.models.lattice and fastmf.sampling.lattice (moved in 0.2.0; this alias goes in 0.3.0)."""
import warnings

from .models.lattice import *  # noqa: F401,F403
from .models.lattice import LatticeModel, random_configurations  # noqa: F401
from .sampling.lattice import METHODS, ChainState, LatticeSampler  # noqa: F401

warnings.warn("fastmf.lattice is deprecated; import from fastmf.models.lattice and fastmf.sampling.lattice instead", DeprecationWarning, stacklevel=2)
