"""Read spike data from files into a :class:`~fastmf.io.raster.SpikeRaster`.

:func:`load_spikes` reads binary rasters (0/1, +-1 or boolean) or spike times from MATLAB (v4/v5 through
``scipy.io.loadmat``, v7.3 through ``h5py``), NumPy (``.npy``, ``.npz``), HDF5 (``.h5``, ``.hdf5``) and
delimited text (``.txt``, ``.csv``, ``.tsv``) files. :func:`bin_spike_times` bins spike times in memory.

Every reader lists the file's variables as ``{name: _Item}`` so that one rule picks the array for all
formats: ``variable`` if given, else the single candidate (a 2-D numeric array; for spike times also cell
arrays and vectors), else an error listing the candidates.
"""
import math
import pathlib
import warnings
import zipfile
import zlib

import numpy as np

from ..io.raster import SpikeRaster, _fmt_indices

__all__ = ["SUPPORTED_EXTENSIONS", "bin_spike_times", "load_spikes"]

SUPPORTED_EXTENSIONS = (".mat", ".npy", ".npz", ".h5", ".hdf5", ".txt", ".csv", ".tsv")
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_MATLAB_NUMERIC = {"double", "single", "logical", "int8", "uint8", "int16", "uint16", "int32", "uint32",
                   "int64", "uint64"}
# Spike times this close (in bins) below a bin edge count as on the edge (float rounding of t / w).
_EDGE_TOL = 1e-6
# More bins than this is almost surely a bin_width in the wrong unit (e.g. ms given for s).
_MAX_BINS = 1 << 31


class _Item:
    """A variable of a file: ``kind`` ("numeric", "cell" or a description of something unusable), its shape,
    and ``read()`` returning an ndarray (numeric) or a list of 1-D arrays (cell)."""

    def __init__(self, kind, shape, read):
        self.kind, self.shape, self.read = kind, tuple(int(n) for n in shape), read

    def describe(self):
        return f"{self.kind} {'x'.join(map(str, self.shape))}".strip()


def _numeric_item(array):
    array = np.asarray(array)
    kind = "numeric" if array.dtype.kind in "biuf" else f"{array.dtype} array"
    return _Item(kind, array.shape, lambda: array)


def _cell_vectors(cells, label):
    """Per-neuron spike-time vectors from the elements of a cell / object array."""
    out = []
    for i, cell in enumerate(cells):
        arr = np.asarray(cell)
        if arr.dtype.kind not in "biuf":
            raise ValueError(f"{label}: element {i} of the cell array is not numeric spike times "
                             f"(dtype {arr.dtype})")
        out.append(arr.astype(np.float64).reshape(-1))
    return out


# -- format readers: path -> {name: _Item} ----------------------------------------------------------------

def _read_mat(path):
    import scipy.io
    import scipy.sparse
    if _is_hdf5(path):
        return _read_hdf5(path, matlab=True)
    try:
        data = scipy.io.loadmat(str(path))
    except NotImplementedError:  # a v7.3 header without an HDF5 signature where expected: h5py reports
        return _read_hdf5(path, matlab=True)
    except MemoryError:
        raise
    except Exception as exc:  # scipy raises many types (MatReadError, ValueError, TypeError, zlib.error, ...)
        raise ValueError(f"cannot read {str(path)!r} as a MATLAB v4/v5 .mat file (tried scipy.io.loadmat; "
                         f"damaged or not a .mat file?): {exc}") from exc
    items = {}
    for name, value in data.items():
        if name.startswith("__"):  # __header__, __version__, __globals__
            continue
        if isinstance(value, np.ndarray) and value.dtype == object:
            # MATLAB linear indexing is column-major: cell k is value.ravel(order="F")[k].
            items[name] = _Item("cell", value.shape,
                                lambda v=value, n=name: _cell_vectors(v.ravel(order="F"), n))
        elif isinstance(value, np.ndarray) and value.dtype.names:
            items[name] = _Item("struct", value.shape, None)
        elif scipy.sparse.issparse(value):
            items[name] = _Item("numeric", value.shape, lambda v=value: _dense(v))
        else:
            items[name] = _numeric_item(value)
    return items


def _dense(matrix):
    """A MATLAB sparse matrix as a dense array: boolean (1 byte per entry) when its stored values are all 1,
    else float so that validation can name the bad values."""
    values = matrix.tocsr().data
    if np.all(values == 1):
        return matrix.astype(bool).toarray()
    return matrix.toarray()


def _is_hdf5(path):
    # MATLAB v7.3 puts the HDF5 superblock after a 512-byte user block; HDF5 also allows 1024, 2048, ...
    with open(path, "rb") as fh:
        head = fh.read(4096)
    return any(head[i:i + 8] == _HDF5_SIGNATURE for i in (0, 512, 1024, 2048))


def _read_hdf5(path, matlab=False):
    """Datasets of an HDF5 file (nested paths as "group/dataset"). MATLAB stores arrays column-major, so
    h5py sees MATLAB's arrays transposed: those of a .mat file (``matlab=True``) or carrying a MATLAB_class
    attribute are transposed back, so that shapes read as in MATLAB (e.g. 15 x 40000)."""
    try:
        import h5py
    except ImportError as exc:  # pragma: no cover - h5py is a dependency
        raise ImportError("reading HDF5 and MATLAB v7.3 files needs h5py (pip install h5py)") from exc
    fmt = "a MATLAB v7.3 .mat file (HDF5, via h5py)" if matlab else "an HDF5 file (via h5py)"

    def opened():
        try:
            return h5py.File(path, "r")
        except OSError as exc:
            raise ValueError(f"cannot read {str(path)!r} as {fmt} (damaged or not HDF5?): {exc}") from exc

    def read(name, flip):
        with opened() as fh:
            ds = fh[name]
            if isinstance(ds, h5py.Group):  # MATLAB sparse: compressed columns (data, ir, jc), MATLAB shape
                import scipy.sparse
                jc = ds["jc"][()].astype(np.int64)
                ir = ds["ir"][()].astype(np.int64) if "ir" in ds else np.zeros(0, np.int64)  # absent if all 0
                data = ds["data"][()] if "data" in ds else np.ones(ir.size)
                shape = (int(ds.attrs["MATLAB_sparse"]), jc.size - 1)
                return _dense(scipy.sparse.csc_matrix((data, ir, jc), shape=shape))
            if ds.dtype != h5py.ref_dtype:
                return ds[()].T if flip else ds[()]
            # Cells of a MATLAB cell array are references into #refs#; the C order of the h5py view is
            # MATLAB's column-major cell order.
            cells = [np.zeros(0) if fh[ref].attrs.get("MATLAB_empty", 0) else fh[ref][()]
                     for ref in ds[()].reshape(-1)]
            return _cell_vectors(cells, name)

    items, sparse = {}, []

    def visit(name, obj):
        if name.split("/")[0].startswith("#") or any(name.startswith(g + "/") for g in sparse):
            return  # #refs#, #subsystem# and the parts of sparse matrices are not variables
        cls = obj.attrs.get("MATLAB_class", b"")
        cls = cls.decode() if isinstance(cls, bytes) else str(cls)
        if isinstance(obj, h5py.Group):
            if "MATLAB_sparse" in obj.attrs and "jc" in obj:
                sparse.append(name)
                shape = (int(obj.attrs["MATLAB_sparse"]), obj["jc"].shape[0] - 1)
                items[name] = _Item("numeric", shape, lambda: read(name, False))
            return
        flip = matlab or bool(cls)
        shape = tuple(reversed(obj.shape)) if flip else obj.shape
        if obj.dtype == h5py.ref_dtype or cls == "cell":
            items[name] = _Item("cell", shape, lambda: read(name, flip))
        elif obj.attrs.get("MATLAB_empty", 0):  # MATLAB stores the dimensions of an empty array as its data
            items[name] = _Item("numeric", (0, 0), lambda: np.zeros((0, 0)))
        elif obj.dtype.kind in "biuf" and (not cls or cls in _MATLAB_NUMERIC):
            items[name] = _Item("numeric", shape, lambda: read(name, flip))
        else:
            items[name] = _Item(cls or str(obj.dtype), shape, None)

    with opened() as fh:
        fh.visititems(visit)
    return items


def _read_npy_npz(path):
    fmt = ".npz" if path.suffix.lower() == ".npz" else ".npy"
    with open(path, "rb") as fh:
        magic = fh.read(6)
    # np.load takes anything else for a pickle; say plainly that the file is not NumPy's.
    if magic != b"\x93NUMPY" and not magic.startswith(b"PK"):
        raise ValueError(f"cannot read {str(path)!r} as a {fmt} file: it has neither the .npy header nor the "
                         f"zip signature of .npz (damaged, or another format?)")
    pickled = ("holds an object array, which fastmf does not load (unpickling can run arbitrary code); store "
               "spike times as a (n_spikes, 2) array of (neuron_id, time) rows")
    try:
        data = np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise ValueError(f"{str(path)!r} {pickled}") from exc
        raise ValueError(f"cannot read {str(path)!r} as a {fmt} file (damaged?): {exc}") from exc
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise ValueError(f"cannot read {str(path)!r} as a {fmt} file (damaged?): {exc}") from exc
    if not isinstance(data, np.lib.npyio.NpzFile):
        return {path.stem: _numeric_item(data)}
    items = {}
    try:
        with data:
            for name in data.files:
                try:
                    items[name] = _numeric_item(data[name])
                except ValueError as exc:  # object arrays need pickle
                    if "allow_pickle" not in str(exc):
                        raise
                    items[name] = _Item("object array (not loaded: it needs unpickling)", (), None)
    except (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error) as exc:
        raise ValueError(f"cannot read {str(path)!r} as a .npz file (damaged?): {exc}") from exc
    return items


def _read_text(path):
    first = None
    try:
        with open(path, encoding="utf-8") as fh:
            for line_no, line in enumerate(fh):
                if line.strip() and not line.lstrip().startswith("#"):
                    first = line
                    break
    except UnicodeDecodeError as exc:
        raise ValueError(f"cannot read {str(path)!r} as delimited text: not UTF-8 text ({exc})") from exc
    if first is None:
        raise ValueError(f"the text file {str(path)!r} holds no data")
    # Sniff the delimiter on the first line: comma, then tab, else runs of whitespace.
    delimiter = "," if "," in first else "\t" if "\t" in first else None
    # A first line with a non-numeric field is a header of column names (skiprows counts every line).
    skip = line_no + 1 if any(f.strip() and not _is_number(f) for f in first.split(delimiter)) else 0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # loadtxt warns on empty input; we raise instead
            array = np.loadtxt(path, delimiter=delimiter, skiprows=skip, ndmin=2, comments="#",
                               encoding="utf-8")
    except ValueError as exc:
        name = {",": "comma", "\t": "tab", None: "whitespace"}[delimiter]
        raise ValueError(f"cannot read {str(path)!r} as {name}-delimited numbers: {exc}") from exc
    return {path.stem: _numeric_item(array)}


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


_READERS = {".mat": _read_mat, ".npy": _read_npy_npz, ".npz": _read_npy_npz, ".h5": _read_hdf5,
            ".hdf5": _read_hdf5, ".txt": _read_text, ".csv": _read_text, ".tsv": _read_text}


def _is_candidate(item, want_times):
    if item.kind == "cell":
        return want_times
    if item.kind != "numeric" or math.prod(item.shape) <= 1:  # scalars are parameters, not data
        return False
    return want_times or len(item.shape) == 2


def _select(items, variable, want_times, path):
    """The data of ``variable``, or of the single candidate, from the reader's ``items``."""
    listing = ", ".join(f"{n!r} ({it.describe()})" for n, it in items.items()) or "nothing"
    if variable is not None:
        if variable not in items:
            raise ValueError(f"{str(path)!r} has no variable {variable!r}; it holds {listing}")
        name = variable
    elif len(items) == 1:  # .npy, text or a one-variable file: validation explains what is wrong with it
        name = next(iter(items))
    else:
        found = [n for n, it in items.items() if _is_candidate(it, want_times)]
        what = "spike-time (cell array or numeric)" if want_times else "2-D numeric"
        if len(found) != 1:
            reason = "no" if not found else "more than one"
            hint = "" if found or want_times or not any(it.kind == "cell" for it in items.values()) else \
                " (cell arrays hold spike times: pass bin_width to bin them)"
            raise ValueError(f"{str(path)!r} holds {reason} {what} array{hint}; pass variable= to choose "
                             f"one of {listing}")
        name = found[0]
    item = items[name]
    if item.read is None or (item.kind == "cell" and not want_times):
        hint = " (a cell array holds spike times: pass bin_width to bin them)" if item.kind == "cell" else ""
        raise ValueError(f"variable {name!r} of {str(path)!r} ({item.describe()}) is not spike data{hint}")
    return name, item.read()


def _load_file(path, variable, want_times):
    ext = path.suffix.lower()
    if ext not in _READERS:
        raise ValueError(f"unknown spike file type {ext or '(no extension)'!r} for {str(path)!r}; supported: "
                         f"{', '.join(SUPPORTED_EXTENSIONS)}")
    if variable is not None and ext in (".npy", ".txt", ".csv", ".tsv"):
        raise ValueError(f"a {ext} file holds a single array: variable= applies to .mat, .npz and HDF5 "
                         f"files only")
    if ext == ".npz":
        raster = _saved_raster(path)
        if raster is not None:
            return None, raster
    return _select(_READERS[ext](path), variable, want_times, path)


def _saved_raster(path):
    """A raster file written by :meth:`SpikeRaster.save`, read back as is; None for other .npz files."""
    from ..io.raster import _FORMAT, load_raster
    try:
        with np.load(path, allow_pickle=False) as data:
            is_raster = ({"packed", "shape", "metadata"} <= set(data.files)
                         and _FORMAT in str(data["metadata"]))
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error):  # the general reader reports it
        return None
    return load_raster(path) if is_raster else None


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
        vectors = _cell_vectors(list(spike_times) if arr is None else arr.ravel(), source)
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
    return SpikeRaster._wrap(packed.reshape(n_bins, n_bytes), n_neurons, source=source,
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
    name, data = _load_file(path, variable, bin_width is not None)
    if name is None:
        raster = data
    elif bin_width is not None:
        raster = bin_spike_times(data, bin_width, t_start=t_start, t_stop=t_stop, n_neurons=n_neurons,
                                 source=str(path))
        raster = raster._replace(raster.packed, variable=name)
    else:
        if isinstance(data, np.ndarray) and data.ndim == 1:
            raise ValueError(f"{name!r} in {str(path)!r} is 1-D (length {data.size}): a spike raster needs 2 "
                             f"dimensions (bins x neurons); pass bin_width= if it holds spike times")
        raster = SpikeRaster.from_binary(data, orientation=orientation, encoding=encoding, source=str(path))
        raster = raster._replace(raster.packed, variable=name)
    _check_degenerate(raster, allow_degenerate)
    return raster


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
