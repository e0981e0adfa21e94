"""Files (layer 1): atomic writes, output checks, size limits, the one ``.npz`` reader, JSON defaults and
fastmf's file formats (:class:`SampleSet`, :class:`SpikeRaster`)."""
from .files import (OutputGuard, ResourceLimitError, atomic_write, check_memory, check_output_dir,
                    check_output_file, memory_limit)
from .raster import SpikeRaster, load_raster
from .samples import SampleSet, atomic_savez, json_default, load_samples, read_npz

__all__ = ["OutputGuard", "ResourceLimitError", "SampleSet", "SpikeRaster", "atomic_savez", "atomic_write",
           "check_memory", "check_output_dir", "check_output_file", "json_default", "load_raster", "load_samples",
           "memory_limit", "read_npz"]
