"""fastmf.kernels: array-in/array-out Numba kernels (CPU and CUDA) and composable building blocks.

This package imports nothing else from fastmf, so other simulators can use it alone.
"""
from .philox import (philox4x32, philox_word, uniform_from_u32, uniform_open_from_u32, bounded_from_u32,
                     philox4x32_array, check_seed)
