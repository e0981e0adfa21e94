"""Neural spike data: bit-packed binary rasters (:class:`SpikeRaster`) and loaders.

``load_spikes("rec.mat")`` reads a 0/1 or +-1 raster (or, with ``bin_width``, spike times) from MATLAB,
NumPy, HDF5 or text files; :func:`bin_spike_times` bins spike times held in memory; rasters are saved with
:meth:`SpikeRaster.save` and read back with :func:`load_raster`. See :mod:`.raster` and :mod:`.loaders`.
:func:`fit_pairwise_maxent` fits a pairwise maximum-entropy (Ising) model, :class:`PairwiseMaxEnt` (:mod:`.maxent`).
"""
from .loaders import SUPPORTED_EXTENSIONS, bin_spike_times, load_spikes
from .maxent import PairwiseMaxEnt, fit_pairwise_maxent
from ..io.raster import SpikeRaster, load_raster

__all__ = ["SUPPORTED_EXTENSIONS", "PairwiseMaxEnt", "SpikeRaster", "bin_spike_times", "fit_pairwise_maxent",
           "load_raster", "load_spikes"]
