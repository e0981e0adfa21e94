"""Argument checks shared by every public entry point (kernels and the rest of fastmf).

Each returns the value converted to a plain Python ``float`` or ``int``, or raises ``TypeError`` (wrong
kind of value) or ``ValueError`` (out of range) with a message naming the argument and what was expected.
"""
import math

import numpy as np

__all__ = ["check_real", "check_int"]


def check_real(name, value, positive=False, nonnegative=False):
    """A finite real number; ``positive``: > 0, ``nonnegative``: >= 0."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {value!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if positive and v <= 0:
        raise ValueError(f"{name} must be > 0, got {v}")
    if nonnegative and v < 0:
        raise ValueError(f"{name} must be >= 0, got {v}")
    return v


def check_int(name, value, minimum=None, maximum=None):
    """An integer (not a bool) within ``[minimum, maximum]`` where given."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value
