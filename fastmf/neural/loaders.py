"""Read spike data from files into a :class:`~fastmf.io.raster.SpikeRaster`.

:func:`load_spikes` reads binary rasters (0/1, +-1 or boolean) or spike times from MATLAB (v4/v5 through
``scipy.io.loadmat``, v7.3 through ``h5py``), NumPy (``.npy``, ``.npz``), HDF5 (``.h5``, ``.hdf5``) and
delimited text (``.txt``, ``.csv``, ``.tsv``) files (the readers are in :mod:`fastmf.neural.formats`).
:func:`bin_spike_times` bins spike times in memory.
"""
import math
import pathlib
import warnings

import numpy as np

from ..io.raster import SpikeRaster
from .formats import SUPPORTED_EXTENSIONS, cell_vectors, read_spike_file

__all__ = ["SUPPORTED_EXTENSIONS", "bin_spike_times", "load_spikes"]

# Spike times this close (in bins) below a bin edge count as on the edge (float rounding of t / w).
_EDGE_TOL = 1e-6
# More bins than this is almost surely a bin_width in the wrong unit (e.g. ms given for s).
_MAX_BINS = 1 << 31


# -- spike times ---------------------------------------------------------------------------------------------

def _check_times(times, where):
    bad = ~np.isfinite(times)
    if bad.any():
        raise ValueError(f"spike times must be finite, found {times[bad][0]} {where(np.flatnonzero(bad)[0])}")
    if times.size and times.min() < 0:
        raise ValueError(f"spike times must be >= 0, found {times.min()} {where(int(np.argmin(times)))}")


def bin_spike_times(spike_times, bin_width, *, t_start=None, t_stop=None, n_neurons=None,
                    source="spike times"):
    """Bin spike times into a binary :class:`SpikeRaster`.

    Parameters
    ----------
    spike_times : sequence of 1-D arrays, array of shape (n_spikes, 2) or 1-D array
        Per-neuron spike-time vectors (neuron i = element i), or rows ``(neuron_id, time)`` with integer
        ids >= 0 used as 0-based neuron indices (a (2, n_spikes) array is read as its transpose), or the
        spike times of a single neuron.
    bin_width : float
        Bin k covers ``[t_start + k * bin_width, t_start + (k + 1) * bin_width)``; a time less than 1e-6
        bin below an edge counts as on it, so that e.g. 0.3 s falls in bin 3 of 0.1 s bins although
        0.3 / 0.1 = 2.9999999999999996 in floating point.
    t_start : float, optional
        Start of the first bin; default the earliest spike. Earlier spikes are dropped.
    t_stop : float, optional
        End of the window (spikes at or after it are dropped; the last bin may be partial); default the
        last spike, which falls in the last bin.
    n_neurons : int, optional
        Number of neurons, when the last ones never spike; default the number of vectors or max id + 1.
    source : str

    Returns
    -------
    SpikeRaster
        A neuron spiking twice in a bin gets a single 1; ``notes["multi_spike_bins"]`` counts those
        (bin, neuron) cells and ``notes["merged_spikes"]`` the spikes lost; ``notes["dropped_spikes"]``
        counts spikes outside the window.
    """
    bin_width = float(bin_width)
    if not (math.isfinite(bin_width) and bin_width > 0):
        raise ValueError(f"bin_width must be a positive number, got {bin_width}")
    arr = None if isinstance(spike_times, (list, tuple)) else np.asarray(spike_times)
    if arr is None or arr.dtype == object:
        vectors = cell_vectors(list(spike_times) if arr is None else arr.ravel(), source)
        ids = np.repeat(np.arange(len(vectors)), [v.size for v in vectors])
        times = np.concatenate(vectors) if vectors else np.zeros(0)
        offsets = np.cumsum([0] + [v.size for v in vectors])
        n_min = len(vectors)

        def where(k):
            i = int(np.searchsorted(offsets, k, side="right")) - 1
            return f"(neuron {i}, spike {k - offsets[i]})"
    elif arr.dtype.kind not in "biuf":
        raise ValueError(f"spike times must be numeric, got dtype {arr.dtype}")
    elif arr.ndim == 1:
        ids, times, n_min = np.zeros(arr.size, np.int64), arr.astype(np.float64), 1

        def where(k):
            return f"(spike {k})"
    elif arr.ndim == 2 and 2 in arr.shape:
        pairs = arr if arr.shape[1] == 2 else arr.T
        raw_ids, times = pairs[:, 0], pairs[:, 1].astype(np.float64)
        if not np.all(np.isfinite(raw_ids)) or np.any(raw_ids < 0) or np.any(raw_ids != np.round(raw_ids)):
            raise ValueError("the neuron_id column of (neuron_id, time) spike rows must hold integers >= 0")
        ids = raw_ids.astype(np.int64)
        n_min = int(ids.max()) + 1 if ids.size else 0

        def where(k):
            return f"(row {k}, neuron {ids[k]})"
    else:
        raise ValueError(f"spike times must be per-neuron vectors, a (n_spikes, 2) array of (neuron_id, "
                         f"time) rows or a 1-D vector, got an array of shape {arr.shape}")
    _check_times(times, where)
    n_neurons = n_min if n_neurons is None else int(n_neurons)
    if n_neurons < max(n_min, 1):
        raise ValueError(f"n_neurons = {n_neurons} but the spike times name {n_min} neurons")

    t_start = (float(times.min()) if times.size else 0.0) if t_start is None else float(t_start)
    if not math.isfinite(t_start) or (t_stop is not None and not math.isfinite(float(t_stop))):
        raise ValueError(f"t_start and t_stop must be finite, got {t_start} and {t_stop}")
    if t_stop is None and not np.any(times >= t_start):
        raise ValueError(f"no spikes at or after t_start = {t_start} and no t_stop: cannot size the raster")
    if t_stop is not None and not float(t_stop) > t_start:
        raise ValueError(f"t_stop = {t_stop} must be greater than t_start = {t_start}")
    x = (times - t_start) / bin_width  # position in bins
    # A time on an edge (t = t_start + k w in decimal, e.g. 0.3 s in 0.1 s bins) can divide to k - 4e-16;
    # snapping values within _EDGE_TOL below an edge onto it puts such spikes in the bin they start.
    k = np.floor(x + _EDGE_TOL).astype(np.int64)
    keep = k >= 0
    if t_stop is None:
        n_bins = int(k[keep].max()) + 1
    else:
        span = (float(t_stop) - t_start) / bin_width
        n_bins = max(1, math.ceil(span - _EDGE_TOL))
        keep &= x + _EDGE_TOL < span  # the last bin may be partial: it ends at t_stop
    if n_bins > _MAX_BINS:
        raise ValueError(f"bin_width = {bin_width} gives {n_bins} bins: is it in the units of the spike "
                         f"times?")
    keep &= k < n_bins
    key = k[keep] * n_neurons + ids[keep]
    cells, counts = np.unique(key, return_counts=True)  # sorted by (bin, neuron)
    n_bytes = (n_neurons + 7) // 8
    bins, neurons = cells // n_neurons, cells % n_neurons
    byte = bins * n_bytes + neurons // 8
    bit = (0x80 >> (neurons % 8)).astype(np.int64)
    # The (bin, neuron) cells are distinct, so summing their bits per byte is a bitwise OR.
    packed = np.zeros(n_bins * n_bytes, dtype=np.uint8)
    if cells.size:
        starts = np.flatnonzero(np.r_[True, byte[1:] != byte[:-1]])
        packed[byte[starts]] = np.add.reduceat(bit, starts).astype(np.uint8)
    notes = {"encoding": "spike_times", "t_start": t_start,
             "t_stop": None if t_stop is None else float(t_stop),
             "n_spikes": int(times.size), "dropped_spikes": int(times.size - keep.sum()),
             "multi_spike_bins": int(np.sum(counts > 1)), "merged_spikes": int(np.sum(counts - 1))}
    return SpikeRaster.from_packed(packed.reshape(n_bins, n_bytes), n_neurons, source=source,
                                   orientation="spike_times", bin_width=bin_width, notes=notes)


# -- entry point ---------------------------------------------------------------------------------------------

def load_spikes(path, *, variable=None, orientation="auto", encoding="auto", bin_width=None, t_start=None,
                t_stop=None, n_neurons=None, allow_degenerate=True):
    """Read a spike raster, or spike times to bin, from a file.

    Parameters
    ----------
    path : str or path-like
        ``.mat`` (MATLAB v4/v5 or v7.3), ``.npy``, ``.npz``, ``.h5``/``.hdf5``, ``.txt``/``.csv``/``.tsv``
        (comma, tab or whitespace delimited, optional header line of column names). A ``.npz`` written by
        :meth:`SpikeRaster.save` is read back as is.
    variable : str, optional
        The array to read (MATLAB variable, ``.npz`` key, HDF5 dataset path). Default: the file's only 2-D
        numeric array (or, with ``bin_width``, its only cell array or numeric array).
    orientation : {"auto", "time_x_neurons", "neurons_x_time"}
        Layout of a raster; "auto" takes the longer axis as time. MATLAB v7.3 arrays are read with
        MATLAB's shape (h5py alone would give the transpose).
    encoding : {"auto", "01", "pm1"}
        Spike values: 0/1 or -1/+1 (spike = 1); booleans are accepted.
    bin_width : float, optional
        If given, the data are spike times: a cell array (one vector per neuron), a (n_spikes, 2) array of
        (neuron_id, time) rows (0-based integer ids) or one neuron's vector; see :func:`bin_spike_times`.
    t_start, t_stop, n_neurons :
        Binning window and neuron count for spike times (see :func:`bin_spike_times`).
    allow_degenerate : bool
        Silent (never spiking) and always-on neurons are kept with a UserWarning naming them; False
        raises ValueError instead.

    Returns
    -------
    SpikeRaster
        ``notes`` records the variable, the encoding found and whether the orientation was detected.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        Unknown extension, unreadable (damaged) file, ambiguous or missing variable, non-binary values,
        NaN, empty or 1-D raster, bad spike times, or degenerate neurons with ``allow_degenerate=False``.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such spike file: {str(path)!r}")
    if bin_width is not None:
        bin_width = float(bin_width)
        if not (math.isfinite(bin_width) and bin_width > 0):  # fail before reading a large file
            raise ValueError(f"bin_width must be a positive number, got {bin_width}")
    name, data = read_spike_file(path, variable, bin_width is not None)
    if name is None:
        raster = data
    elif bin_width is not None:
        raster = bin_spike_times(data, bin_width, t_start=t_start, t_stop=t_stop, n_neurons=n_neurons,
                                 source=str(path))
        raster = raster.with_notes(variable=name)
    else:
        if isinstance(data, np.ndarray) and data.ndim == 1:
            raise ValueError(f"{name!r} in {str(path)!r} is 1-D (length {data.size}): a spike raster needs 2 "
                             f"dimensions (bins x neurons); pass bin_width= if it holds spike times")
        raster = SpikeRaster.from_binary(data, orientation=orientation, encoding=encoding, source=str(path))
        raster = raster.with_notes(variable=name)
    _check_degenerate(raster, allow_degenerate)
    return raster


def _fmt_indices(idx, limit=20):
    idx = [int(i) for i in idx]
    text = ", ".join(map(str, idx[:limit]))
    return text + (f", ... ({len(idx)} in all)" if len(idx) > limit else "")


def _check_degenerate(raster, allow_degenerate):
    diag = raster.diagnostics()
    parts = []
    if diag["silent_neurons"]:
        parts.append(f"neurons never spiking (silent): {_fmt_indices(diag['silent_neurons'])}")
    if diag["always_on_neurons"]:
        parts.append(f"neurons spiking in every bin (always on): {_fmt_indices(diag['always_on_neurons'])}")
    if not parts:
        return
    message = f"{raster.source}: " + "; ".join(parts)
    if not allow_degenerate:
        raise ValueError(message + " (allow_degenerate=False)")
    warnings.warn(message + "; they are kept (see SpikeRaster.diagnostics())", UserWarning, stacklevel=3)
