"""Deprecated alias of fastmf.models.meanfield (moved in 0.2.0; this alias goes in 0.3.0)."""
import warnings

from .models.meanfield import CurieWeiss, GraphSpinGlass, Hopfield, MaierSaupe, MeanFieldPotts  # noqa: F401

warnings.warn("fastmf.meanfield is deprecated; import from fastmf.models.meanfield instead", DeprecationWarning, stacklevel=2)
