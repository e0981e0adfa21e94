"""Files (layer 1): atomic writes, the one ``.npz`` reader, JSON defaults and fastmf's file formats
(:class:`SampleSet`, :class:`SpikeRaster`)."""
from .raster import SpikeRaster, load_raster
from .samples import SampleSet, atomic_savez, atomic_write, json_default, load_samples, read_npz

__all__ = ["SampleSet", "SpikeRaster", "atomic_savez", "atomic_write", "json_default", "load_raster",
           "load_samples", "read_npz"]
