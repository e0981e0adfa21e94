"""Backend selection: ``"cpu"``, ``"cuda"`` (Numba-CUDA kernels), ``"cupy"`` (CUDA C kernels through CuPy)
or ``"auto"`` (``"cuda"`` when a GPU is usable, else ``"cpu"``)."""
import os

BACKENDS = ("auto", "cpu", "cuda", "cupy")


def gpu_available():
    """True when Numba-CUDA is installed and sees a GPU (or the CUDA simulator is enabled)."""
    try:
        from numba import cuda
    except Exception:  # numba-cuda not installed, or a broken CUDA installation
        return False
    try:
        return bool(cuda.is_available())
    except Exception:
        return False


def resolve_backend(backend):
    """Validate ``backend`` and return the concrete one (``"auto"`` resolved).

    Raises
    ------
    ValueError
        Unknown backend name.
    RuntimeError
        A GPU backend was asked for and no GPU is usable.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; expected one of {', '.join(BACKENDS)}")
    if backend == "auto":
        simulated = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
        return "cuda" if gpu_available() and not simulated else "cpu"
    if backend in ("cuda", "cupy") and not gpu_available():
        raise RuntimeError(
            f"backend={backend!r} was requested but no CUDA GPU is usable here (numba.cuda.is_available() is "
            f"False or numba-cuda is not installed). Install the GPU extras with `pip install fastmf[cuda]` on a "
            f"machine with an NVIDIA GPU, or use backend='cpu' / 'auto'.")
    return backend
