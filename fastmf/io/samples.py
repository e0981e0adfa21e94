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

__all__ = ["SampleSet", "atomic_savez", "atomic_write", "json_default", "load_samples", "read_npz"]

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


def read_npz(path, required, what):
    """Arrays and JSON metadata (``{}`` if absent) of a fastmf ``.npz`` file, with errors that name the file and
    the problem: FileNotFoundError if missing, ValueError for a ``.npy`` array, an unreadable or damaged archive,
    missing ``required`` arrays or metadata that is not a JSON object. ``what`` names the kind of file."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such {what} file: {str(path)!r}")
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise ValueError(f"cannot read {str(path)!r} as a .npz {what} file: {exc}") from exc
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ValueError(f"{str(path)!r} is a single .npy array, not a fastmf {what} file")
    try:
        with data:
            missing = [name for name in required if name not in data.files]
            if missing:
                raise ValueError(f"{str(path)!r} is not a fastmf {what} file: it has no "
                                 f"{', '.join(map(repr, missing))} array{'s' if len(missing) > 1 else ''} "
                                 f"(found {data.files})")
            arrays = {name: data[name] for name in data.files}
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise ValueError(f"cannot read {str(path)!r} as a .npz {what} file (damaged?): {exc}") from exc
    try:
        meta = json.loads(str(arrays.pop("metadata"))) if "metadata" in arrays else {}
    except json.JSONDecodeError as exc:
        raise ValueError(f"the metadata of {str(path)!r} is not valid JSON: {exc}") from exc
    if not isinstance(meta, dict):
        raise ValueError(f"the metadata of {str(path)!r} is not a JSON object")
    return arrays, meta


def load_samples(path):
    """Read a :class:`SampleSet` written by :meth:`SampleSet.save` (clear errors for other files)."""
    arrays, meta = read_npz(path, ("spins",), "sample")
    spins = arrays.pop("spins")
    extra = {name: arrays.pop(name) for name in meta.pop("extra_arrays", []) if name in arrays}
    return SampleSet(spins, meta, extra=extra, **arrays)


def json_default(obj):
    """``json.dumps(default=...)`` for NumPy scalars and arrays."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"metadata value of type {type(obj).__name__} is not JSON-serialisable")
