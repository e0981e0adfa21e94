"""Argument checks and work splitting shared by the kernel modules (package-internal API).

Every public kernel validates its arguments here, so that all backends (CPU, Numba-CUDA, CuPy and the host
emulation of the CUDA C kernels) raise the same ``TypeError`` / ``ValueError`` with the same message for the
same mistake. Each check returns the value converted (a plain ``float`` or ``int``, or the array as the
kernel wants it) or raises, with a message that names the argument and says what was expected.

* scalars: :func:`check_real`, :func:`check_int` (public as :mod:`fastmf.kernels.validation`, which the rest
  of fastmf imports), :func:`check_q`, :func:`check_sweep_args`, :func:`check_sweep_scalars`;
* arrays: :func:`validate_lattice` (NumPy lattices), :func:`device_lattice_shape` (the same checks for device
  arrays), :func:`check_couplings`, :func:`check_inplace`, :func:`check_array`, :func:`check_pm1`;
* work splitting: :func:`by_replica` and :func:`n_chunks` (CPU ``prange`` chunks), :func:`launch_config`
  (GPU grid and block sizes, :data:`MAX_BLOCK`).

This module imports no GPU library: the CuPy module uses it without Numba-CUDA. The Numba-CUDA launch
helpers are in :mod:`fastmf.kernels._cuda_launch`.
"""
import math

import numba
import numpy as np

from .philox import check_seed

__all__ = ["MAX_BLOCK", "by_replica", "check_array", "check_couplings", "check_inplace", "check_int", "check_pm1",
           "check_q", "check_real", "check_sweep_args", "check_sweep_scalars", "device_lattice_shape",
           "launch_config", "n_chunks", "validate_lattice"]

MAX_BLOCK = 1024  # CUDA's limit on threads per block; also sizes the shared scratch of the block reduction


# ----------------------------------------------------------------------------------------------
# Scalars.

def check_real(name, value, positive=False, nonnegative=False):
    """A finite real number, optionally restricted to ``> 0`` or ``>= 0``.

    Parameters
    ----------
    name : str
        Argument name used in error messages.
    value : object
        The value to check (a bool is refused).
    positive : bool
        Require ``value > 0``.
    nonnegative : bool
        Require ``value >= 0``.

    Returns
    -------
    float
        ``float(value)``.

    Raises
    ------
    TypeError
        ``value`` is not a real number.
    ValueError
        ``value`` is NaN, infinite or out of range.
    """
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
    """An integer (not a bool) within ``[minimum, maximum]`` where given.

    Parameters
    ----------
    name : str
        Argument name used in error messages.
    value : object
        The value to check: a Python or NumPy integer.
    minimum, maximum : int, optional
        Inclusive bounds.

    Returns
    -------
    int
        ``int(value)``.

    Raises
    ------
    TypeError
        ``value`` is not an integer.
    ValueError
        ``value`` is out of range.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_q(q):
    """The number of Potts states: an integer in ``[2, 255]`` (states are stored as uint8)."""
    return check_int("q (number of Potts states)", q, 2, 255)


def _sweep_range(sweep, n_sweeps):
    """``(sweep, n_sweeps)`` as ints, checked to keep every sweep index in ``[0, 2**32)``."""
    if int(sweep) < 0 or int(n_sweeps) < 0 or int(sweep) + int(n_sweeps) > 2 ** 32:
        raise ValueError(f"sweep indices must lie in [0, 2**32) (Philox counter word c2), got sweep={sweep}, "
                         f"n_sweeps={n_sweeps}")
    return int(sweep), int(n_sweeps)


def check_sweep_args(beta, seed, sweep, n_sweeps):
    """``(beta, seed, sweep, n_sweeps)`` checked: ``beta > 0``, a Philox seed, sweep indices below ``2**32``."""
    beta = check_real("beta", beta, positive=True)
    seed = check_seed(seed)
    return (beta, seed) + _sweep_range(sweep, n_sweeps)


def check_sweep_scalars(beta, J, seed, sweep, n_sweeps):
    """``(beta, J, seed, sweep, n_sweeps)`` checked as by :func:`check_sweep_args`, with ``J`` real and the
    sweep indices required to be integers (the Maier-Saupe kernels)."""
    beta = check_real("beta", beta, positive=True)  # beta = 1/T: T <= 0 or NaN is refused here
    J = check_real("J", J)
    seed = check_seed(seed)
    sweep = check_int("sweep", sweep, minimum=0)
    n_sweeps = check_int("n_sweeps", n_sweeps, minimum=0)
    return (beta, J, seed) + _sweep_range(sweep, n_sweeps)


# ----------------------------------------------------------------------------------------------
# Arrays.

@numba.njit(cache=True)
def _all_in_range(spins, lo, hi, pm1):
    """True when every entry is in [lo, hi] (and non-zero when ``pm1``); no allocation."""
    flat = spins.ravel()
    for i in range(flat.size):
        v = flat[i]
        if v < lo or v > hi or (pm1 and v == 0):
            return False
    return True


def validate_lattice(spins, dtype, checkerboard=True, q=2, check_values=True, name="spins"):
    """Check a spin array and return it as a 3D ``(n_replicas, L, M)`` view (no copy).

    Parameters
    ----------
    spins : ndarray, shape (n_replicas, L, M) or (L, M)
        Writeable, C-contiguous NumPy array (it is updated in place by the kernels).
    dtype : numpy dtype-like
        ``int8`` (Ising spins +-1) or ``uint8`` (Potts states ``0..q-1``).
    checkerboard : bool
        Require even side lengths (checkerboard updates need a bipartite lattice).
    q : int
        Number of Potts states (checks the values of uint8 arrays).
    check_values : bool
        Check the values (+-1, or ``0..q-1``); O(size).
    name : str
        Argument name used in error messages.

    Returns
    -------
    ndarray, shape (n_replicas, L, M)
        A view of ``spins``.

    Raises
    ------
    TypeError
        Not a NumPy array, or the wrong dtype.
    ValueError
        Wrong number of dimensions, not writeable C-contiguous, sides below 2 (or odd for checkerboard
        updates), or values out of range.
    """
    if not isinstance(spins, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array, got {type(spins).__name__}")
    if spins.dtype != dtype:
        raise TypeError(f"{name} must have dtype {np.dtype(dtype).name}, got {spins.dtype.name} "
                        f"(Ising spins are int8 +-1, Potts states uint8 0..q-1)")
    if spins.ndim == 2:
        spins = spins[None]
    if spins.ndim != 3:
        raise ValueError(f"{name} must have shape (n_replicas, L, M) or (L, M), got {spins.shape}")
    if not spins.flags.c_contiguous or not spins.flags.writeable:
        raise ValueError(f"{name} must be a writeable C-contiguous array (it is updated in place)")
    _, L, M = spins.shape
    if L < 2 or M < 2:
        raise ValueError(f"lattice sides must be at least 2, got L={L}, M={M}")
    if checkerboard and (L % 2 or M % 2):
        raise ValueError(
            f"checkerboard updates need even L and M, got L={L}, M={M}: with periodic boundaries an odd "
            f"side makes the lattice non-bipartite, so two neighbouring sites would have the same colour and be "
            f"updated simultaneously, which breaks detailed balance. Use the sequential (raster) sweep or Wolff.")
    if check_values:
        if dtype == np.int8 and not _all_in_range(spins, -1, 1, True):
            raise ValueError(f"{name} must contain only -1 and +1")
        if dtype == np.uint8 and not _all_in_range(spins, 0, q - 1, False):
            raise ValueError(f"{name} must contain Potts states 0..{q - 1}")
    return spins


def device_lattice_shape(shape, dtype, c_contiguous, expected_dtype, q=2, name="spins"):
    """Validate the layout of a device spin array (not a NumPy array) and return its 3D shape.

    :func:`validate_lattice` only takes NumPy arrays. For device arrays the layout (dtype, shape, even sides)
    is checked by handing it an empty NumPy *proxy* of the same dtype and side lengths, so every backend
    raises the same errors; the caller then checks the values on the device (the data never travel to the
    host for a check).

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


def check_couplings(j_right, j_down, shape):
    """Per-bond couplings of an ``L x M`` lattice as C-contiguous float64 arrays of shape ``shape``.

    Parameters
    ----------
    j_right, j_down : array_like, shape (L, M)
        Finite couplings of each site to its right and lower neighbour.
    shape : tuple of int
        ``(L, M)``.

    Returns
    -------
    list of ndarray
        ``[j_right, j_down]`` as float64.
    """
    out = []
    for name, arr in (("j_right", j_right), ("j_down", j_down)):
        arr = np.ascontiguousarray(arr, dtype=np.float64)
        if arr.shape != shape:
            raise ValueError(f"{name} must have shape {shape} (one coupling per bond), got {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} contains NaN or infinite couplings")
        out.append(arr)
    return out


def check_inplace(name, arr, dtype, ndim):
    """Check that ``arr`` is a writeable C-contiguous NumPy array of ``dtype`` with ``ndim`` dimensions."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array, got {type(arr).__name__}")
    if arr.dtype != np.dtype(dtype):
        raise TypeError(f"{name} must have dtype {np.dtype(dtype).name}, got {arr.dtype.name}")
    if arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {arr.shape}")
    if not (arr.flags.c_contiguous and arr.flags.writeable):
        raise ValueError(f"{name} must be a writeable C-contiguous array (it is updated in place)")


def check_array(name, arr, dtype, ndim_shape, writeable=True):
    """A C-contiguous NumPy array of ``dtype`` and shape ``ndim_shape`` (None entries: any length); returned."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array, got {type(arr).__name__}")
    if arr.dtype != dtype:
        raise TypeError(f"{name} must have dtype {np.dtype(dtype).name}, got {arr.dtype.name}")
    if arr.ndim != len(ndim_shape) or any(n is not None and n != m for n, m in zip(ndim_shape, arr.shape)):
        want = "(" + ", ".join("*" if n is None else str(n) for n in ndim_shape) + ")"
        raise ValueError(f"{name} must have shape {want}, got {arr.shape}")
    if not arr.flags.c_contiguous or (writeable and not arr.flags.writeable):
        raise ValueError(f"{name} must be a {'writeable ' if writeable else ''}C-contiguous array"
                         f"{' (it is updated in place)' if writeable else ''}")
    return arr


def check_pm1(name, arr):
    """Check that every entry of ``arr`` is -1 or +1."""
    if arr.size and not np.all((arr == 1) | (arr == -1)):
        raise ValueError(f"{name} must contain only -1 and +1")


# ----------------------------------------------------------------------------------------------
# Work splitting.

def by_replica(n_replicas):
    """Whether to run whole chains per thread (enough replicas to keep every CPU thread busy)."""
    return n_replicas >= numba.get_num_threads()


def n_chunks():
    """Parallel chunks per half-sweep when splitting rows: a few per CPU thread for load balance."""
    return 4 * numba.get_num_threads()


def launch_config(n_threads, block_size, max_grid=None):
    """``(grid, block)`` for one GPU thread per work item: ``block_size`` checked and cut to ``n_threads``.

    Parameters
    ----------
    n_threads : int
        Number of work items (one thread each).
    block_size : int
        Requested threads per block, ``1..MAX_BLOCK``.
    max_grid : int, optional
        Largest number of blocks one launch may have (checked when given).

    Returns
    -------
    tuple of int
        ``(grid, block)``: ``block = min(block_size, max(n_threads, 1))`` (tiny problems get no idle threads)
        and ``grid = ceil(n_threads / block)``.
    """
    if isinstance(block_size, bool) or not isinstance(block_size, (int, np.integer)) \
            or not 1 <= block_size <= MAX_BLOCK:
        raise ValueError(f"block_size must be an integer in [1, {MAX_BLOCK}], got {block_size!r}")
    block = min(int(block_size), max(n_threads, 1))
    grid = (n_threads + block - 1) // block
    if max_grid is not None and grid > max_grid:
        raise ValueError(f"too many (replica, group) pairs for one launch: {n_threads}")
    return grid, block
