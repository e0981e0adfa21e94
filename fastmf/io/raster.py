"""Bit-packed binary spike rasters: :class:`SpikeRaster` and its ``.npz`` file format.

A raster is ``n_bins`` time bins x ``n_neurons`` neurons of 0/1 (spike in the bin or not), stored with
``np.packbits`` along the neuron axis: a uint8 array ``packed`` of shape ``(n_bins, ceil(n_neurons / 8))``,
so 10^6 bins x 300 neurons take 38 MB instead of 300 MB. Everything that reads the raster (rates, counts,
slices, subsets) works on blocks of bins, so the unpacked raster never has to exist in memory at once.

File format (``numpy.load`` reads it without fastmf): ``packed`` (uint8), ``shape`` (int64 ``[n_bins,
n_neurons]``) and ``metadata``, a JSON string (source, orientation, bin_width, notes, fastmf version).
"""
import json
import math
import types
import zipfile
import zlib

import numpy as np

from .._version import __version__
from .samples import atomic_savez, json_default, read_npz

__all__ = ["ENCODINGS", "ORIENTATIONS", "RASTER_FORMAT", "SpikeRaster", "load_raster", "read_saved_raster"]

ORIENTATIONS = ("time_x_neurons", "neurons_x_time")
ENCODINGS = ("01", "pm1")
#: The ``format`` entry of the metadata of a saved raster.
RASTER_FORMAT = "fastmf.SpikeRaster"
# Bytes of unpacked (uint8) raster handled per block; tests shrink it to exercise the block boundaries.
_CHUNK_BYTES = 1 << 22
# Number of set bits of every byte value (population count by table look-up).
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def _chunk_bins(n_neurons):
    return max(1, _CHUNK_BYTES // max(1, n_neurons))


def _fmt_value(v):
    v = v.item() if isinstance(v, np.generic) else v
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


def _time_major(array, orientation):
    """The 2-D ``array`` as a (bins, neurons) view (no copy), with the orientation it was read in."""
    array = np.asarray(array)
    if array.ndim != 2:
        hint = " (pass bin_width to read spike times)" if array.ndim == 1 else ""
        raise ValueError(f"a spike raster needs 2 dimensions (bins x neurons), got a {array.ndim}-D array of "
                         f"shape {array.shape}{hint}")
    if array.dtype.kind not in "biuf":
        raise ValueError(f"expected a numeric or boolean spike raster, got dtype {array.dtype}")
    if orientation == "auto":
        # Recordings have far more time bins than neurons: the long axis is time.
        orientation = "time_x_neurons" if array.shape[0] >= array.shape[1] else "neurons_x_time"
    elif orientation not in ORIENTATIONS:
        raise ValueError(f"orientation must be 'auto', 'time_x_neurons' or 'neurons_x_time', "
                         f"got {orientation!r}")
    view = array if orientation == "time_x_neurons" else array.T
    if view.shape[0] == 0 or view.shape[1] == 0:
        raise ValueError(f"the spike raster is empty: {view.shape[0]} bins x {view.shape[1]} neurons "
                         f"(array shape {array.shape}, {orientation})")
    return view, orientation


def _nonbinary_error(view, bad, start, encoding):
    """ValueError naming the values found in ``view`` and the first bad one (mask ``bad`` of the block that
    starts at bin ``start``). Only reached on failure, so the full ``np.unique`` is affordable."""
    i, j = np.argwhere(bad)[0]
    values = np.unique(view[np.isfinite(view)] if view.dtype.kind == "f" else view)
    shown = ", ".join(_fmt_value(v) for v in values[:10]) + (", ..." if values.size > 10 else "")
    want = {"01": "0/1", "pm1": "+-1"}.get(encoding, "0/1 or +-1")
    return ValueError(f"expected binary spikes {want}, found values {{{shown}}} "
                      f"(first non-binary at bin {start + i}, neuron {j}: {_fmt_value(view[start + i, j])})")


def _pack(view, encoding):
    """Check that the (bins, neurons) ``view`` is binary in ``encoding`` ('auto', '01' or 'pm1') and bit-pack
    it block by block. Returns ``(packed, encoding found)``; spike = 1 (0/1) or +1 (+-1), so both encodings
    pack ``view == 1``."""
    if encoding not in ("auto",) + ENCODINGS:
        raise ValueError(f"encoding must be 'auto', '01' or 'pm1', got {encoding!r}")
    n_bins, n_neurons = view.shape
    packed = np.empty((n_bins, (n_neurons + 7) // 8), dtype=np.uint8)
    seen_zero = seen_minus = False
    step = _chunk_bins(n_neurons)
    for start in range(0, n_bins, step):
        block = view[start:start + step]
        if block.dtype == bool:
            spikes = block
        else:
            if block.dtype.kind == "f" and np.isnan(block).any():
                i, j = np.argwhere(np.isnan(block))[0]
                raise ValueError(f"the spike raster contains NaN at bin {start + i}, neuron {j}")
            spikes = block == 1
            zero, minus = block == 0, block == -1
            if encoding == "01":
                ok = spikes | zero
            elif encoding == "pm1":
                ok = spikes | minus
            else:
                ok = spikes | zero | minus
            if not ok.all():
                raise _nonbinary_error(view, ~ok, start, encoding)
            seen_zero = seen_zero or bool(zero.any())
            seen_minus = seen_minus or bool(minus.any())
        packed[start:start + step] = np.packbits(spikes, axis=1)
    if seen_zero and seen_minus:
        raise ValueError("expected binary spikes 0/1 or +-1, found values {-1, 0, 1}: the 0/1 and +-1 "
                         "encodings are mixed")
    found = "bool" if view.dtype == bool else ("pm1" if seen_minus else "01")
    return packed, found


class SpikeRaster:
    """An immutable binary raster of ``n_bins`` time bins x ``n_neurons`` neurons, bit-packed.

    Parameters
    ----------
    packed : array_like of uint8, shape (n_bins, ceil(n_neurons / 8))
        ``np.packbits(raster01, axis=1)``; the padding bits of the last byte must be 0. It is copied.
    n_neurons : int
    source : str
        Where the raster came from (a file path, "array", ...).
    orientation : str
        How the input was laid out: "time_x_neurons", "neurons_x_time" or "spike_times" (binned spike
        times).
    bin_width : float or None
        Width of a time bin, in the units of the spike times, when known.
    notes : dict, optional
        JSON-serialisable facts from loading (encoding, variable, multi_spike_bins, split blocks, ...).

    Notes
    -----
    Build one with :meth:`from_binary` or :func:`fastmf.neural.load_spikes`. The raster is read-only:
    ``packed`` is a read-only array and attributes cannot be reassigned.
    """

    def __init__(self, packed, n_neurons, *, source="array", orientation="time_x_neurons", bin_width=None,
                 notes=None):
        packed = np.array(packed, dtype=np.uint8, copy=True, order="C")
        self._init(packed, n_neurons, source, orientation, bin_width, notes)

    def _init(self, packed, n_neurons, source, orientation, bin_width, notes):
        n_neurons = int(n_neurons)
        n_bytes = (max(n_neurons, 0) + 7) // 8
        if packed.ndim != 2 or n_neurons < 1 or packed.shape[0] < 1 or packed.shape[1] != n_bytes:
            raise ValueError(f"packed must have shape (n_bins, ceil(n_neurons / 8)) = (n_bins, {n_bytes}) "
                             f"with n_bins, n_neurons >= 1, got {packed.shape} for n_neurons = {n_neurons}")
        pad = 8 * packed.shape[1] - n_neurons
        # Population counts add up every set bit, so stray padding bits would count as spikes.
        if pad and packed.size and np.any(packed[:, -1] & np.uint8((1 << pad) - 1)):
            raise ValueError(f"the {pad} padding bits of the last byte of packed must be 0")
        if orientation not in ORIENTATIONS + ("spike_times",):
            raise ValueError(f"orientation must be one of {ORIENTATIONS + ('spike_times',)}, "
                             f"got {orientation!r}")
        if bin_width is not None:
            bin_width = float(bin_width)
            if not (math.isfinite(bin_width) and bin_width > 0):
                raise ValueError(f"bin_width must be a positive number, got {bin_width}")
        packed.flags.writeable = False
        for name, value in (("packed", packed), ("n_neurons", n_neurons), ("n_bins", packed.shape[0]),
                            ("source", str(source)), ("orientation", orientation), ("bin_width", bin_width),
                            ("notes", types.MappingProxyType(dict(notes or {}))), ("_counts", None)):
            object.__setattr__(self, name, value)

    @classmethod
    def from_packed(cls, packed, n_neurons, *, source="array", orientation="time_x_neurons", bin_width=None,
                    notes=None):
        """Build from a freshly made packed array without copying it (it becomes read-only).

        Parameters
        ----------
        packed : ndarray of uint8, shape (n_bins, ceil(n_neurons / 8))
            Owned by the raster from now on (a C-contiguous uint8 array is not copied).
        n_neurons : int
        source, orientation, bin_width, notes :
            As in :class:`SpikeRaster`.

        Returns
        -------
        SpikeRaster
        """
        self = cls.__new__(cls)
        self._init(np.ascontiguousarray(packed, dtype=np.uint8), n_neurons, source, orientation, bin_width, notes)
        return self

    def __setattr__(self, name, value):
        raise AttributeError(f"SpikeRaster is immutable: cannot set {name!r}")

    def __delattr__(self, name):
        raise AttributeError(f"SpikeRaster is immutable: cannot delete {name!r}")

    @classmethod
    def from_binary(cls, array, *, orientation="time_x_neurons", source="array", bin_width=None,
                    encoding="auto"):
        """Pack a 2-D 0/1, +-1 or boolean array.

        Parameters
        ----------
        array : array_like, 2-D
            The raster; a spike is 1 (0/1 encoding), +1 (+-1 encoding) or True.
        orientation : {"time_x_neurons", "neurons_x_time", "auto"}
            Layout of ``array``; "auto" takes the longer axis as time.
        source : str
        bin_width : float or None
        encoding : {"auto", "01", "pm1"}
            "auto" accepts 0/1 or +-1 (not a mix); the others force one.

        Raises
        ------
        ValueError
            For arrays that are not 2-D, empty, not binary (naming the values found and the first bad
            position) or contain NaN (naming its position).
        """
        asked = orientation
        view, orientation = _time_major(array, orientation)
        packed, found = _pack(view, encoding)
        notes = {"encoding": found, "orientation_detected": asked == "auto"}
        return cls.from_packed(packed, view.shape[1], source=source, orientation=orientation,
                               bin_width=bin_width, notes=notes)

    def __len__(self):
        return self.n_bins

    def __repr__(self):
        return (f"SpikeRaster(n_bins={self.n_bins}, n_neurons={self.n_neurons}, source={self.source!r}, "
                f"orientation={self.orientation!r}, bin_width={self.bin_width})")

    def _replace(self, packed, n_neurons=None, **notes):
        return SpikeRaster.from_packed(packed, self.n_neurons if n_neurons is None else n_neurons,
                                       source=self.source, orientation=self.orientation, bin_width=self.bin_width,
                                       notes=dict(self.notes, **notes))

    def with_notes(self, **notes):
        """The same raster (sharing its bits) with entries added to ``notes``.

        Parameters
        ----------
        **notes
            JSON-serialisable facts to record.

        Returns
        -------
        SpikeRaster
        """
        return self._replace(self.packed, **notes)

    # -- reading -------------------------------------------------------------------------------------------

    def to_binary(self, start=0, stop=None):
        """Bins ``start:stop`` (Python slice rules) as a uint8 0/1 array of shape (bins, n_neurons); only
        those bins are unpacked."""
        return np.unpackbits(self.packed[start:stop], axis=1, count=self.n_neurons)

    def to_spins(self, start=0, stop=None):
        """Bins ``start:stop`` as int8 +-1 spins (spike = +1), shape (bins, n_neurons)."""
        spins = self.to_binary(start, stop).view(np.int8)
        spins *= 2
        spins -= 1
        return spins

    def _blocks(self):
        step = _chunk_bins(self.n_neurons)
        return ((s, min(s + step, self.n_bins)) for s in range(0, self.n_bins, step))

    def spike_counts(self):
        """Number of bins with a spike, per neuron: int64 array (n_neurons,), computed block by block."""
        if self._counts is None:
            counts = np.zeros(self.n_neurons, dtype=np.int64)
            for s, e in self._blocks():
                counts += self.to_binary(s, e).sum(axis=0, dtype=np.int64)
            counts.flags.writeable = False
            object.__setattr__(self, "_counts", counts)  # cached: the raster never changes
        return self._counts.copy()

    def firing_rates(self):
        """Probability of a spike per bin, per neuron: float64 array (n_neurons,)."""
        return self.spike_counts() / self.n_bins

    def population_counts(self):
        """K, the number of neurons spiking in each bin: int64 array (n_bins,). Counted on the packed bytes
        (bit counts by table look-up), so nothing is unpacked."""
        counts = np.empty(self.n_bins, dtype=np.int64)
        step = max(1, _CHUNK_BYTES // max(1, self.packed.shape[1]))
        for s in range(0, self.n_bins, step):
            counts[s:s + step] = _POPCOUNT[self.packed[s:s + step]].sum(axis=1, dtype=np.int64)
        return counts

    def diagnostics(self):
        """Summary dict: ``n_bins``, ``n_neurons``, ``mean_rate`` (spikes per bin per neuron), ``min_rate``,
        ``max_rate``, ``silent_neurons`` (never spike), ``always_on_neurons`` (spike in every bin),
        ``multi_spike_bins`` (bins where a neuron had more than one spike before binarisation; 0 unless
        the raster was binned from spike times) and ``bin_width``."""
        counts = self.spike_counts()
        rates = counts / self.n_bins
        return {"n_bins": self.n_bins, "n_neurons": self.n_neurons,
                "mean_rate": float(rates.mean()), "min_rate": float(rates.min()),
                "max_rate": float(rates.max()),
                "silent_neurons": np.flatnonzero(counts == 0).tolist(),
                "always_on_neurons": np.flatnonzero(counts == self.n_bins).tolist(),
                "multi_spike_bins": int(self.notes.get("multi_spike_bins", 0)), "bin_width": self.bin_width}

    # -- deriving ------------------------------------------------------------------------------------------

    def time_blocks(self, n_blocks):
        """``n_blocks`` contiguous ``(start, stop)`` bin ranges covering the raster, sizes within one bin."""
        n_blocks = int(n_blocks)
        if not 1 <= n_blocks <= self.n_bins:
            raise ValueError(f"n_blocks must be between 1 and n_bins = {self.n_bins}, got {n_blocks}")
        edges = np.arange(n_blocks + 1, dtype=np.int64) * self.n_bins // n_blocks
        return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]

    def split(self, held_out_fraction=0.2, n_blocks=10, seed=0):
        """Split into ``(train, held_out)`` rasters by contiguous time blocks.

        The raster is cut into ``n_blocks`` contiguous blocks (:meth:`time_blocks`) and
        ``round(held_out_fraction * n_blocks)`` of them (at least 1, at most ``n_blocks - 1``), chosen by
        ``np.random.default_rng(seed)``, are held out. Whole blocks, rather than scattered bins, keep
        autocorrelated neighbours of a test bin out of the training set. The result depends on the
        arguments only. Each part lists its blocks, in the parent's bin coordinates and time order, in
        ``notes["blocks"]`` (the seams between them are not contiguous in time).
        """
        if not 0 < held_out_fraction < 1:
            raise ValueError(f"held_out_fraction must be in (0, 1), got {held_out_fraction}")
        blocks = self.time_blocks(n_blocks)
        if len(blocks) < 2:
            raise ValueError("split needs n_blocks >= 2")
        n_held = min(max(round(held_out_fraction * len(blocks)), 1), len(blocks) - 1)
        held = set(np.random.default_rng(seed).choice(len(blocks), size=n_held, replace=False).tolist())
        parts = []
        for name, chosen in (("train", [b for i, b in enumerate(blocks) if i not in held]),
                             ("held_out", [b for i, b in enumerate(blocks) if i in held])):
            packed = np.concatenate([self.packed[a:b] for a, b in chosen])
            parts.append(self._replace(packed, split=name, blocks=[list(b) for b in chosen], split_seed=seed,
                                       n_blocks=len(blocks)))
        return parts[0], parts[1]

    def subset(self, neurons):
        """A raster of the chosen neurons only, in the given order.

        ``neurons`` is a sequence of indices (negative ones count from the end) or a boolean mask of length
        ``n_neurons``; the original indices are kept in ``notes["neurons"]``.
        """
        idx = np.asarray(neurons)
        if idx.dtype == bool:
            if idx.shape != (self.n_neurons,):
                raise ValueError(f"a boolean neuron mask must have length {self.n_neurons}, "
                                 f"got shape {idx.shape}")
            idx = np.flatnonzero(idx)
        idx = idx.reshape(-1)
        if idx.size == 0:
            raise ValueError("subset needs at least one neuron")
        if idx.dtype.kind not in "iu":
            raise ValueError(f"neurons must be integer indices or a boolean mask, got dtype {idx.dtype}")
        if idx.min() < -self.n_neurons or idx.max() >= self.n_neurons:
            raise ValueError(f"neuron indices must lie in [-{self.n_neurons}, {self.n_neurons}), "
                             f"got {idx.tolist()}")
        idx = idx % self.n_neurons
        if np.unique(idx).size != idx.size:
            raise ValueError(f"neuron indices repeat: {idx.tolist()}")
        packed = np.empty((self.n_bins, (idx.size + 7) // 8), dtype=np.uint8)
        for s, e in self._blocks():
            packed[s:e] = np.packbits(self.to_binary(s, e)[:, idx], axis=1)
        return self._replace(packed, idx.size, neurons=idx.tolist())

    # -- files ---------------------------------------------------------------------------------------------

    def save(self, path):
        """Write the raster to ``path`` (.npz) atomically; returns the path. Read it with :func:`load_raster`
        (or :func:`fastmf.neural.load_spikes`)."""
        meta = json.dumps({"format": RASTER_FORMAT, "fastmf_version": __version__, "source": self.source,
                           "orientation": self.orientation, "bin_width": self.bin_width,
                           "notes": dict(self.notes)}, sort_keys=True, default=json_default)
        return atomic_savez(path, packed=self.packed, shape=np.array([self.n_bins, self.n_neurons], np.int64),
                            metadata=np.array(meta))


def load_raster(path):
    """Read a :class:`SpikeRaster` written by :meth:`SpikeRaster.save`: ValueError naming the file and the
    problem for any other file (another fastmf file, an empty, damaged or non-``.npz`` one, metadata fields of
    the wrong type, arrays of the wrong shape or dtype), FileNotFoundError when there is none."""
    arrays, meta = read_npz(path, ("packed", "shape", "metadata"), "spike raster")
    where = repr(str(path))
    if meta.get("format", RASTER_FORMAT) != RASTER_FORMAT:
        raise ValueError(f"{where} holds format {meta.get('format')!r}, not a fastmf spike raster "
                         f"({RASTER_FORMAT!r})")
    packed, shape = arrays["packed"], arrays["shape"]
    if shape.shape != (2,) or shape.dtype.kind not in "iu" or packed.ndim != 2 or packed.dtype != np.uint8 \
            or packed.shape[0] != shape[0]:
        raise ValueError(f"{where} is damaged: shape {shape.tolist()} ({shape.dtype}) does not match packed "
                         f"{packed.shape} ({packed.dtype}); a raster has packed uint8 (n_bins, ceil(n_neurons / 8)) "
                         "and shape [n_bins, n_neurons]")
    types = {"source": (str,), "orientation": (str,), "bin_width": (int, float, type(None)),
             "notes": (dict, type(None))}
    for name, allowed in types.items():
        value = meta.get(name)
        if name in meta and (not isinstance(value, allowed) or isinstance(value, bool)):
            raise ValueError(f"{where} is damaged: the metadata field {name!r} has the wrong type "
                             f"({type(value).__name__})")
    try:
        return SpikeRaster.from_packed(packed, int(shape[1]), source=meta.get("source", str(path)),
                                       orientation=meta.get("orientation", "time_x_neurons"),
                                       bin_width=meta.get("bin_width"), notes=meta.get("notes"))
    except ValueError as exc:
        raise ValueError(f"{where} is not a valid spike raster: {exc}") from None


def read_saved_raster(path):
    """A raster file written by :meth:`SpikeRaster.save`, read back as is; None for any other ``.npz`` file.

    Parameters
    ----------
    path : str or path-like
        A ``.npz`` file.

    Returns
    -------
    SpikeRaster or None
        None also for an unreadable file (the caller's general reader then reports the problem).
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            is_raster = ({"packed", "shape", "metadata"} <= set(data.files)
                         and RASTER_FORMAT in str(data["metadata"]))
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error):
        return None
    return load_raster(path) if is_raster else None
