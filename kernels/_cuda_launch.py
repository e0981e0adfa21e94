"""Launch helpers shared by the Numba-CUDA kernel modules (package-internal API).

* :func:`is_available`: whether Numba-CUDA can run kernels here;
* :func:`device_view`: a Numba device array viewing a device array of any library (or None for host data);
* :func:`block_sum`: the one block reduction of the GPU kernels (a shared-memory tree, any block size), used
  with an int32 scratch by the lattice kernels (accepted moves) and a float64 one by the VAE likelihoods.

Grid and block sizes come from :func:`fastmf.kernels._checks.launch_config`, which the CuPy module shares.
This module imports ``numba.cuda``; import it only when CUDA (or the simulator, ``NUMBA_ENABLE_CUDASIM=1``)
is wanted.
"""
import numba
from numba import cuda

__all__ = ["block_sum", "device_view", "is_available"]


def is_available():
    """True when Numba-CUDA can run kernels: a usable GPU, or the CUDA simulator."""
    try:
        if not cuda.is_available():
            return False
        if getattr(numba.config, "ENABLE_CUDASIM", 0) or not hasattr(cuda, "list_devices"):
            return True
        return len(cuda.list_devices()) > 0
    except Exception:  # driver errors: treat as "no GPU"
        return False


def device_view(arr):
    """A Numba device array viewing ``arr``, or None when ``arr`` is not a device array.

    Numba's own (and the simulator's) device arrays are returned as they are; other objects with
    ``__cuda_array_interface__`` (CuPy, PyTorch, ...) get a zero-copy view.
    """
    if getattr(arr, "__cuda_ndarray__", False):
        return arr
    if hasattr(arr, "__cuda_array_interface__"):
        if not hasattr(cuda, "as_cuda_array"):
            raise TypeError("the CUDA simulator cannot use foreign device arrays; pass a NumPy array or an array "
                            "from numba.cuda.to_device")
        return cuda.as_cuda_array(arr)
    return None


@cuda.jit(device=True)
def block_sum(acc, scratch):
    """Sum of ``acc`` over the threads of the block, by a tree reduction in ``scratch``.

    ``scratch`` is a shared array of at least ``blockDim.x`` entries (the caller allocates it with
    ``cuda.shared.array(MAX_BLOCK, dtype)``; its dtype is the type of the sum). Every thread of the block must
    call this function (it holds barriers); every thread gets the sum.
    """
    t = cuda.threadIdx.x
    n = cuda.blockDim.x
    scratch[t] = acc
    cuda.syncthreads()
    stride = 1
    while stride < n:
        stride *= 2
    stride //= 2
    while stride > 0:  # tree reduction for any block size
        if t < stride and t + stride < n:
            scratch[t] += scratch[t + stride]
        cuda.syncthreads()
        stride //= 2
    return scratch[0]
