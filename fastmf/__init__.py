"""fastmf: fast many-body spin simulation, lean VAEs and exact mean-field read-off."""
from ._version import __version__

__all__ = ["__version__"]
