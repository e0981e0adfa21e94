"""Neural spike data: bit-packed binary rasters (:class:`SpikeRaster`) and loaders.

``load_spikes("rec.mat")`` reads a 0/1 or +-1 raster (or, with ``bin_width``, spike times) from MATLAB,
NumPy, HDF5 or text files; :func:`bin_spike_times` bins spike times held in memory; rasters are saved with
:meth:`SpikeRaster.save` and read back with :func:`load_raster`. See :mod:`.raster` and :mod:`.loaders`.
:func:`fit_pairwise_maxent` fits a pairwise maximum-entropy (Ising) model, :class:`PairwiseMaxEnt` (:mod:`.maxent`);
:func:`fit_kpairwise_maxent` the K-pairwise model :class:`KPairwiseMaxEnt` (:mod:`.kpairwise`);
:func:`log_partition_ais` and :func:`held_out_log_likelihood` give their ``ln Z`` and held-out likelihood
(:mod:`.log_partition`).
"""
from .loaders import SUPPORTED_EXTENSIONS, bin_spike_times, load_spikes
from .kpairwise import KPairwiseMaxEnt, fit_kpairwise_maxent
from .log_partition import held_out_log_likelihood, log_partition_ais
from .maxent import PairwiseMaxEnt, fit_pairwise_maxent
from ..io.raster import SpikeRaster, load_raster

__all__ = ["SUPPORTED_EXTENSIONS", "KPairwiseMaxEnt", "PairwiseMaxEnt", "SpikeRaster", "bin_spike_times",
           "fit_kpairwise_maxent", "fit_pairwise_maxent", "held_out_log_likelihood", "load_raster", "load_spikes",
           "log_partition_ais"]
