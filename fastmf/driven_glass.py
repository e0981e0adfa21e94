"""Deprecated alias of fastmf.models.driven_glass (moved in 0.2.0; this alias goes in 0.3.0)."""
import warnings

from .models.driven_glass import DriveRecord, DrivenGlass, DrivenState, random_drive  # noqa: F401

warnings.warn("fastmf.driven_glass is deprecated; import from fastmf.models.driven_glass instead", DeprecationWarning, stacklevel=2)
