"""Argument checks shared by every public entry point (kernels and the rest of fastmf).

Each returns the value converted to a plain Python ``float`` or ``int``, or raises ``TypeError`` (wrong
kind of value) or ``ValueError`` (out of range) with a message naming the argument and what was expected.

This is the public path of :func:`check_real` and :func:`check_int` for the rest of fastmf. They are
defined, with every other argument check of the kernels, in the private module ``fastmf.kernels._checks``
and re-exported here unchanged.
"""
from ._checks import check_int, check_real

__all__ = ["check_real", "check_int"]
