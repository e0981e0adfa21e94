"""File formats of spike data: one reader per format, and one rule that picks the spike data in a file.

Every reader lists the file's variables as ``{name: _Item}`` (MATLAB v4/v5 through ``scipy.io.loadmat``, v7.3
and HDF5 through ``h5py``, NumPy ``.npy``/``.npz``, delimited text), so that one rule picks the array for all
formats (:func:`read_spike_file`): ``variable`` if given, else the single candidate (a 2-D numeric array; for
spike times also cell arrays and vectors), else an error listing the candidates.
:func:`fastmf.neural.load_spikes` turns the data into a :class:`~fastmf.io.raster.SpikeRaster`.
"""
import math
import warnings
import zipfile
import zlib

import numpy as np

from ..io.raster import read_saved_raster

__all__ = ["SUPPORTED_EXTENSIONS", "cell_vectors", "read_spike_file"]

#: File extensions :func:`read_spike_file` reads.
SUPPORTED_EXTENSIONS = (".mat", ".npy", ".npz", ".h5", ".hdf5", ".txt", ".csv", ".tsv")
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_MATLAB_NUMERIC = {"double", "single", "logical", "int8", "uint8", "int16", "uint16", "int32", "uint32",
                   "int64", "uint64"}


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


def cell_vectors(cells, label):
    """Per-neuron spike-time vectors from the elements of a cell / object array.

    Parameters
    ----------
    cells : sequence
        One element per neuron, each convertible to a numeric array.
    label : str
        Name of the array, for messages.

    Returns
    -------
    list of ndarray of float64
        One 1-D vector of spike times per neuron.

    Raises
    ------
    ValueError
        If an element is not numeric.
    """
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
                                lambda v=value, n=name: cell_vectors(v.ravel(order="F"), n))
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
            return cell_vectors(cells, name)

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


def read_spike_file(path, variable, want_times):
    """Read the spike data of a file: the array (or cell array) chosen by ``variable`` or the single candidate.

    Parameters
    ----------
    path : pathlib.Path
        A file with one of :data:`SUPPORTED_EXTENSIONS`.
    variable : str or None
        The variable to read (MATLAB variable, ``.npz`` key, HDF5 dataset path); None: the only candidate (a 2-D
        numeric array, or with ``want_times`` also a cell array or vector).
    want_times : bool
        Whether the data are spike times (a ``bin_width`` was given).

    Returns
    -------
    name : str or None
        The variable read; None for a raster file written by :meth:`SpikeRaster.save`.
    data : ndarray, list of ndarray or SpikeRaster
        The array, the per-neuron spike-time vectors of a cell array, or the saved raster.

    Raises
    ------
    ValueError
        Unknown extension, unreadable file, or an ambiguous, missing or unusable variable.
    """
    ext = path.suffix.lower()
    if ext not in _READERS:
        raise ValueError(f"unknown spike file type {ext or '(no extension)'!r} for {str(path)!r}; supported: "
                         f"{', '.join(SUPPORTED_EXTENSIONS)}")
    if variable is not None and ext in (".npy", ".txt", ".csv", ".tsv"):
        raise ValueError(f"a {ext} file holds a single array: variable= applies to .mat, .npz and HDF5 "
                         f"files only")
    if ext == ".npz":
        raster = read_saved_raster(path)
        if raster is not None:
            return None, raster
    return _select(_READERS[ext](path), variable, want_times, path)
