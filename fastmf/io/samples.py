"""Sample sets: configurations plus metadata, saved atomically as ``.npz``.

File format (``numpy.load`` reads it without fastmf):

* ``spins``: the configurations, shape ``(n_samples, ...)``: int8 +-1 for Ising-type spins, uint8 states
  for Potts; float arrays for continuous spins.
* ``metadata``: a JSON string (model, parameters, sampler, seed, burn-in, thinning, autocorrelation
  time, fastmf version, ...).
* optional per-sample arrays (``energy``, ``magnetization``, ``replica``, ``step``, ...).

Files are written compressed (deflate) to a temporary file in the target directory and renamed into
place, so an interrupted write never leaves a truncated file behind. Binary spins are stored as int8 so
that ``np.load(f)["spins"]`` is directly usable; deflate brings them close to their bit-packed size.
"""
import json
import pathlib
import zipfile
import zlib

import numpy as np

from .._version import __version__
from .files import atomic_write

__all__ = ["SampleSet", "atomic_savez", "atomic_write", "identify_npz", "json_default", "load_samples", "read_npz"]

_RESERVED = ("spins", "metadata")


def atomic_savez(path, **arrays):
    """Write ``arrays`` to ``path`` (``.npz``, compressed) atomically (:func:`atomic_write`)."""
    path = pathlib.Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"output file must end in .npz, got {str(path)!r}")
    return atomic_write(path, lambda fh: np.savez_compressed(fh, **arrays))


class SampleSet:
    """Configurations ``spins`` (n_samples, ...) with a metadata dict, optional per-sample arrays and optional
    ``extra`` arrays of any shape (e.g. the Hopfield ``patterns``), all saved in the same file."""

    def __init__(self, spins, metadata=None, extra=None, **per_sample):
        spins = np.asarray(spins)
        if spins.ndim < 2:
            raise ValueError(f"spins must have shape (n_samples, ...), got {spins.shape}")
        self.spins = spins
        self.metadata = dict(metadata or {})
        self.metadata.setdefault("fastmf_version", __version__)
        self.per_sample = {}
        for name, values in per_sample.items():
            values = np.asarray(values)
            if values.shape[:1] != spins.shape[:1]:
                raise ValueError(f"per-sample array {name!r} has {values.shape[:1]} rows, expected {spins.shape[0]}")
            if name in _RESERVED:
                raise ValueError(f"{name!r} is reserved")
            self.per_sample[name] = values
        self.extra = {name: np.asarray(values) for name, values in (extra or {}).items()}
        if set(self.extra) & (set(self.per_sample) | set(_RESERVED)):
            raise ValueError(f"extra array names clash with per-sample or reserved names: {sorted(self.extra)}")

    def __len__(self):
        return self.spins.shape[0]

    def __getitem__(self, name):
        return self.per_sample[name] if name in self.per_sample else self.extra[name]

    def __repr__(self):
        return (f"SampleSet(n_samples={len(self)}, shape={self.spins.shape[1:]}, dtype={self.spins.dtype}, "
                f"model={self.metadata.get('model')!r})")

    def save(self, path):
        """Write the set to ``path`` (.npz) atomically; returns the path."""
        meta = dict(self.metadata, extra_arrays=sorted(self.extra)) if self.extra else self.metadata
        meta = json.dumps(meta, sort_keys=True, default=json_default)
        return atomic_savez(path, spins=self.spins, metadata=np.array(meta), **self.per_sample, **self.extra)


#: The first bytes of a ``.npz`` (zip) archive (a local file header, or the end record of an empty archive).
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
#: The first bytes of a ``.npy`` array file.
_NPY_MAGIC = b"\x93NUMPY"
#: The JSON string arrays that fastmf files keep their metadata in (by file kind).
_META_NAMES = ("metadata", "meta", "state", "info")


def _json_text(value):
    """The JSON text of a 0-d string array, else None."""
    value = np.asarray(value)
    return str(value) if value.ndim == 0 and value.dtype.kind in "US" else None


def identify_npz(names, meta=None):
    """What kind of fastmf file an archive with the arrays ``names`` is, for messages.

    Parameters
    ----------
    names : iterable of str
        The array names in the archive.
    meta : dict, optional
        ``{array name: parsed JSON}`` of its metadata arrays (``metadata``, ``meta``, ``state``, ``info``); a
        file with one that is not given here (it could not be read) is not identified.

    Returns
    -------
    str or None
        E.g. ``"a fastmf sample file"``, ``"a fastmf VAE model"``, ``"a VAE training checkpoint"``; None when the
        file is none of fastmf's kinds.
    """
    names, meta = set(names), dict(meta or {})
    if any(name in names and name not in meta for name in _META_NAMES):
        return None  # its metadata cannot be read: a damaged file, whatever its array names say
    vae_meta = meta.get("meta") if isinstance(meta.get("meta"), dict) else {}
    raster_meta = meta.get("metadata") if isinstance(meta.get("metadata"), dict) else {}
    if "meta" in names and vae_meta.get("format") == "fastmf-vae-1":
        return "a fastmf VAE model"
    if {"meta", "theta"} <= names:
        return "a VAE training checkpoint"
    if {"spins", "state"} <= names:
        return "a fastmf chain checkpoint"
    if {"spins", "info"} <= names:
        return "a fastmf simulate checkpoint"
    if {"packed", "shape"} <= names or raster_meta.get("format") == "fastmf.SpikeRaster":
        return "a fastmf spike raster"
    if {"h", "J"} <= names:
        return "a pairwise max-ent model"
    if {"fields", "patterns"} <= names:
        return "a generalized Hopfield model"
    if "spins" in names:
        return "a fastmf sample file"
    return None


def _not_an_archive(path, what):
    """A message for a file that is not a zip archive (checked from its first bytes), else None."""
    with open(path, "rb") as fh:
        head = fh.read(8)
    prefix = f"cannot read {str(path)!r} as a .npz {what} file: "
    if not head:
        return prefix + "the file is empty (0 bytes), not a .npz archive"
    if head.startswith(_NPY_MAGIC):
        return prefix + ("it is not a .npz archive (it is a single .npy array); fastmf writes its files as .npz "
                         "archives")
    if not any(head.startswith(m) for m in _ZIP_MAGIC):
        return prefix + "it is not a .npz archive (not a zip file)"
    return None


def _read_member(data, name, path, what):
    try:
        value = data[name]
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "Object arrays" in str(exc):
            raise ValueError(f"array {name!r} of {str(path)!r} holds Python objects (pickled data), which fastmf "
                             f"never loads: not a fastmf {what} file") from None
        raise ValueError(f"cannot read array {name!r} of {str(path)!r} as a .npz {what} file (damaged?): "
                         f"{exc}") from exc
    if not isinstance(value, np.ndarray):  # NumPy hands back the raw bytes of a member that is no .npy
        raise ValueError(f"member {name!r} of {str(path)!r} is not a NumPy array: not a fastmf {what} file")
    return value


def read_npz(path, required, what, *, meta_key="metadata"):
    """Arrays and JSON metadata of a fastmf ``.npz`` file, with errors that name the file and the problem.

    Parameters
    ----------
    path : path-like
        The file.
    required : sequence of str
        Arrays the file must hold (``meta_key`` may be one of them).
    what : str
        The kind of file expected, for messages (``"sample"``, ``"VAE model"``, ...).
    meta_key : str
        The array holding the JSON metadata (a string); ``{}`` when the file has none.

    Returns
    -------
    arrays : dict
        Every array but the metadata, by name.
    meta : dict
        The parsed metadata.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        An empty file, a file that is not a ``.npz`` archive (a ``.npy`` array, a text or pickle file: they are
        never unpickled), a damaged archive, an array of Python objects, missing ``required`` arrays (the
        message says what kind of fastmf file it is instead, when it is one), or metadata that is not a JSON
        object.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        if path.is_dir():
            raise IsADirectoryError(f"{what} file {str(path)!r} is a directory, not a .npz file")
        raise FileNotFoundError(f"no such {what} file: {str(path)!r}")
    problem = _not_an_archive(path, what)
    if problem:
        raise ValueError(problem)
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise ValueError(f"cannot read {str(path)!r} as a .npz {what} file (damaged or truncated?): {exc}") from exc
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ValueError(f"{str(path)!r} is a single .npy array, not a fastmf {what} file")
    try:
        with data:
            missing = [name for name in required if name not in data.files]
            if missing:
                raise ValueError(_missing_message(data, path, what, missing))
            arrays = {name: _read_member(data, name, path, what) for name in data.files}
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError) as exc:
        raise ValueError(f"cannot read {str(path)!r} as a .npz {what} file (damaged or truncated?): "
                         f"{exc}") from exc
    if meta_key not in arrays:
        return arrays, {}
    text = _json_text(arrays.pop(meta_key))
    if text is None:
        raise ValueError(f"the {meta_key!r} array of {str(path)!r} is not a JSON string: not a fastmf {what} file")
    try:
        meta = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the metadata of {str(path)!r} is not valid JSON: {exc}") from exc
    if not isinstance(meta, dict):
        raise ValueError(f"the metadata of {str(path)!r} is not a JSON object (found a JSON "
                         f"{type(meta).__name__}): not a fastmf {what} file")
    return arrays, meta


def _parse_meta_arrays(get, names):
    """``{name: parsed JSON}`` of the metadata arrays among ``names`` that can be read (``get(name)`` reads one)."""
    meta = {}
    for name in _META_NAMES:
        if name in names:
            try:
                text = _json_text(get(name))
                if text is not None:
                    meta[name] = json.loads(text)
            except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error):
                pass
    return meta


def _missing_message(data, path, what, missing):
    """The message for an archive without the ``missing`` arrays: what it lacks, and what it is instead."""
    kind = identify_npz(data.files, _parse_meta_arrays(data.__getitem__, data.files))
    s = "s" if len(missing) > 1 else ""
    lacks = f"it has no {', '.join(map(repr, missing))} array{s} (found {data.files})"
    if kind:
        return f"{str(path)!r} is {kind}, not a fastmf {what} file ({lacks})"
    return f"{str(path)!r} is not a fastmf {what} file: {lacks}"


def load_samples(path):
    """Read a :class:`SampleSet` written by :meth:`SampleSet.save` (clear errors for other files)."""
    arrays, meta = read_npz(path, ("spins",), "sample")
    kind = identify_npz(set(arrays) | {"metadata"}, {**_parse_meta_arrays(arrays.get, arrays), "metadata": meta})
    if kind not in (None, "a fastmf sample file"):
        raise ValueError(f"{str(path)!r} is {kind}, not a fastmf sample file")
    extra_names = meta.pop("extra_arrays", [])
    if not isinstance(extra_names, list) or not all(isinstance(n, str) for n in extra_names):
        raise ValueError(f"the metadata of {str(path)!r} is damaged: 'extra_arrays' must be a list of names, "
                         f"got {extra_names!r}")
    spins = arrays.pop("spins")
    extra = {name: arrays.pop(name) for name in extra_names if name in arrays}
    try:
        return SampleSet(spins, meta, extra=extra, **arrays)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{str(path)!r} is not a valid fastmf sample file: {exc}") from exc


def json_default(obj):
    """``json.dumps(default=...)`` for NumPy scalars and arrays."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"metadata value of type {type(obj).__name__} is not JSON-serialisable")
