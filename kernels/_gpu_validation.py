"""Checks shared by the GPU wrappers (Numba-CUDA and CuPy) for arrays that are not NumPy arrays.

The CPU's :func:`~fastmf.kernels.lattice_cpu.validate_lattice` only takes NumPy arrays. For device arrays the
layout (dtype, shape, even sides) is checked by handing it an empty NumPy *proxy* of the same dtype and
side lengths, so every backend raises the same errors; the values are then checked on the device by the
caller (the data never travel to the host for a check).
"""
import numpy as np

from .lattice_cpu import validate_lattice


def device_lattice_shape(shape, dtype, c_contiguous, expected_dtype, q=2, name="spins"):
    """Validate the layout of a device spin array and return its 3D shape ``(n_replicas, L, M)``.

    Parameters
    ----------
    shape : tuple of int
        Shape of the device array: ``(L, M)`` or ``(n_replicas, L, M)``.
    dtype : numpy.dtype
        Its dtype.
    c_contiguous : bool
        Whether it is C-contiguous (it is updated in place, so no copy may be made).
    expected_dtype : numpy dtype-like
        ``int8`` (Ising) or ``uint8`` (Potts).
    q : int
        Number of Potts states (only used in messages).
    name : str
        Argument name used in error messages.

    Returns
    -------
    tuple of int
        ``(n_replicas, L, M)``.
    """
    shape = tuple(int(n) for n in shape)
    # Checks in the CPU's order: dtype, dimensions, contiguity, side lengths. Empty proxies (no memory)
    # of the same dtype let validate_lattice raise its own dtype and side-length errors.
    validate_lattice(np.empty((0, 2, 2), dtype=dtype), expected_dtype, q=q, check_values=False, name=name)
    if len(shape) not in (2, 3):
        raise ValueError(f"{name} must have shape (n_replicas, L, M) or (L, M), got {shape}")
    shape3 = (1,) + shape if len(shape) == 2 else shape
    if not c_contiguous:
        raise ValueError(f"{name} must be a writeable C-contiguous array (it is updated in place)")
    validate_lattice(np.empty((0,) + shape3[1:], dtype=dtype), expected_dtype, q=q, check_values=False,
                     name=name)
    return shape3

