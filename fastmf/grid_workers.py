"""Same code on every worker: refuse a Dask cluster whose workers run another fastmf, numpy or numba.

A grid's results depend on the parameters and the seed alone only if every worker runs the same code. The
version string of fastmf does not change between commits, so the fingerprint of an installation
(:func:`code_fingerprint`) holds, besides the versions of fastmf, numpy, numba and Python, a SHA-256 over the
source files of the installed package (:func:`source_hash`: the ``.py`` files of ``fastmf`` and of its kernel
package ``fastmf.kernels``, and the CUDA sources the kernels compile). :func:`check_workers` computes the
fingerprint on every worker of a client (with the worker's own installed copy of this module) and raises
:class:`WorkerMismatchError`, naming each worker and what differs, when one does not match the client's::

    from dask.distributed import Client
    from fastmf.grid_workers import check_workers

    client = Client("tcp://scheduler:8786")
    check_workers(client)      # WorkerMismatchError: 1 of 4 Dask workers ... tcp://10.0.0.7:40123: numpy ...

Python versions are compared by major.minor (the patch level changes neither pickles nor results).
"""
import functools
import hashlib
import importlib.metadata
import importlib.util
import pathlib
import platform
import sys

from ._version import __version__

__all__ = ["WorkerMismatchError", "NoWorkersError", "code_fingerprint", "source_hash", "compare_fingerprints",
           "mismatch_message", "check_workers"]

#: suffixes of the hashed source files: Python, and the CUDA C sources of ``fastmf.kernels`` (package data)
SOURCE_SUFFIXES = (".py", ".cu", ".cuh", ".h")

#: how many worker addresses one line of the error names (the others are counted)
_MAX_NAMED = 5


class WorkerMismatchError(RuntimeError):
    """Some Dask workers do not run the client's code (fastmf source, numpy, numba or Python).

    Attributes
    ----------
    mismatches : dict
        ``{worker address: [difference, ...]}`` for each mismatched worker, each difference one phrase such as
        ``"numpy 2.1.0 != client's 2.2.1"``.
    """

    def __init__(self, message, mismatches):
        super().__init__(message)
        self.mismatches = mismatches


class NoWorkersError(RuntimeError):
    """The Dask cluster has no worker to check (and none to run the tasks)."""


def _package_dir(name):
    """Directory of the installed package ``name``, found without importing it (``fastmf.kernels`` is a
    top-level ``kernels/`` directory in a source checkout, ``fastmf/kernels/`` in a wheel)."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"cannot locate the installed package {name!r} to fingerprint its source")
    return pathlib.Path(spec.origin).resolve().parent


def _source_files(root, prefix, skip=None):
    """``[(relative posix path with prefix, path)]`` of the source files under ``root``, ``skip`` excluded."""
    files = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if (path.suffix not in SOURCE_SUFFIXES or "__pycache__" in rel.parts or not path.is_file()
                or (skip is not None and path.is_relative_to(skip))):
            continue
        files.append((f"{prefix}/{rel.as_posix()}", path))
    return files


def source_hash(package_dir, kernels_dir):
    """SHA-256 (hex) over the source files of fastmf and fastmf.kernels, independent of where they lie.

    Parameters
    ----------
    package_dir : str or path
        The ``fastmf`` package directory.
    kernels_dir : str or path
        The ``fastmf.kernels`` package directory: inside ``package_dir`` (an installed wheel) or elsewhere
        (the top-level ``kernels/`` of an editable install); the same files give the same hash either way.

    Returns
    -------
    str
        64 hex digits over the sorted relative paths (``fastmf/...``, ``fastmf/kernels/...``) and contents of
        every file with a suffix in :data:`SOURCE_SUFFIXES`; ``__pycache__`` is ignored.
    """
    package_dir, kernels_dir = pathlib.Path(package_dir).resolve(), pathlib.Path(kernels_dir).resolve()
    files = (_source_files(package_dir, "fastmf", skip=kernels_dir)
             + _source_files(kernels_dir, "fastmf/kernels"))
    digest = hashlib.sha256()
    for rel, path in sorted(files):
        data = path.read_bytes()
        # the lengths delimit each path and content, so that no two file sets give the same byte stream
        digest.update(f"{len(rel)}:{rel}:{len(data)}:".encode())
        digest.update(data)
    return digest.hexdigest()


def _installed_version(name):
    """Version of the module ``name`` this process runs: its ``__version__`` once imported, else the installed
    distribution's (importing numba only to read its version would cost a fifth of a second)."""
    module = sys.modules.get(name)
    if module is not None and getattr(module, "__version__", None):
        return str(module.__version__)
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


@functools.lru_cache(maxsize=1)
def _fingerprint():
    return (("fastmf", __version__),
            ("source_sha256", source_hash(_package_dir("fastmf"), _package_dir("fastmf.kernels"))),
            ("numpy", _installed_version("numpy")),
            ("numba", _installed_version("numba")),
            ("python", platform.python_version()))


def code_fingerprint():
    """What this process runs: versions of fastmf, numpy, numba and Python, and a hash of fastmf's source.

    Computed once per process (the source is hashed as it is on disk at the first call).

    Returns
    -------
    dict
        ``fastmf``, ``source_sha256`` (see :func:`source_hash`, over the installed ``fastmf`` and
        ``fastmf.kernels`` found by the import system), ``numpy``, ``numba`` and ``python`` (version strings).
    """
    return dict(_fingerprint())


def compare_fingerprints(client_fp, worker_fp):
    """Differences of a worker's fingerprint from the client's, one phrase each.

    Parameters
    ----------
    client_fp, worker_fp : dict
        Results of :func:`code_fingerprint`.

    Returns
    -------
    list of str
        Empty when they match, else e.g. ``"fastmf source hash 1a2b3c4d5e6f != client's 5e6f7a8b9c0d"``,
        ``"numpy 2.1.0 != client's 2.2.1"``, ``"python 3.12.1 != client's 3.11.7"`` (Pythons are compared by
        major.minor); a key the worker lacks reads ``"numba missing (client's 0.61.0)"``.
    """
    diffs = []
    for key, theirs in client_fp.items():
        label = "fastmf source hash" if key == "source_sha256" else key
        if key not in worker_fp:
            diffs.append(f"{label} missing (client's {theirs})")
            continue
        ours = worker_fp[key]
        if key == "python":
            same = str(ours).split(".")[:2] == str(theirs).split(".")[:2]
        else:
            same = ours == theirs
        if not same:
            if key == "source_sha256":   # 12 hex digits tell two sources apart; 64 only crowd the line
                ours, theirs = str(ours)[:12], str(theirs)[:12]
            diffs.append(f"{label} {ours} != client's {theirs}")
    return diffs


def _describe(fp):
    return (f"fastmf {fp['fastmf']}, source hash {fp['source_sha256'][:12]}, numpy {fp['numpy']}, "
            f"numba {fp['numba']}, python {fp['python']}")


def check_workers(client, *, timeout=30.0):
    """Raise unless every worker of ``client`` runs the client's fastmf (version and source), numpy and numba.

    Each worker computes :func:`code_fingerprint` with its own installed fastmf (``client.run``); a worker
    whose fastmf lacks this module, or where the fingerprint fails, counts as mismatched. Workers that join
    after the check are not checked.

    Parameters
    ----------
    client : dask.distributed.Client
        A connected client.
    timeout : float
        Seconds to wait for a first worker to join the scheduler.

    Returns
    -------
    dict
        The client's fingerprint (every worker has the same).

    Raises
    ------
    NoWorkersError
        No worker joined within ``timeout`` seconds.
    WorkerMismatchError
        Some workers differ; the message names each (grouped by what differs) and what differs, one line
        per group. Both errors are RuntimeErrors: ``fastmf grid`` reports them with exit status 1.
    """
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout >= 0:
        raise ValueError(f"timeout must be a number of seconds >= 0, got {timeout!r}")
    mine = code_fingerprint()
    try:
        client.wait_for_workers(1, timeout=max(timeout, 1e-3))  # Dask reads a timeout of 0 as "none"
    except TimeoutError:
        raise NoWorkersError(f"the Dask scheduler {client.scheduler.address} has no workers (none joined "
                             f"within {timeout:g} s); start workers or give a scheduler that has "
                             "some") from None
    results = client.run(code_fingerprint, on_error="return")
    if not results:
        raise NoWorkersError(f"the Dask scheduler {client.scheduler.address} has no workers")
    mismatches = {}
    for address, fp in sorted(results.items()):
        if isinstance(fp, BaseException):
            msg = " ".join(str(fp).split())
            if type(fp) is not Exception:   # Dask wraps an unpickling error in a plain Exception naming it
                msg = f"{type(fp).__name__}: {msg}" if msg else type(fp).__name__
            diffs = [f"could not compute its fingerprint ({msg}), is the same fastmf installed there?"]
        elif not isinstance(fp, dict):
            diffs = [f"returned {type(fp).__name__} for its fingerprint"]
        else:
            diffs = compare_fingerprints(mine, fp)
        if diffs:
            mismatches[address] = diffs
    if mismatches:
        raise WorkerMismatchError(mismatch_message(mine, mismatches, len(results)), mismatches)
    return mine


def mismatch_message(client_fp, mismatches, n_workers):
    """The text of :class:`WorkerMismatchError`: one line for the client, one per group of workers with the
    same differences (at most five addresses named, the others counted), one with the remedy.

    Parameters
    ----------
    client_fp : dict
        The client's :func:`code_fingerprint`.
    mismatches : dict
        ``{worker address: [difference, ...]}`` (see :func:`compare_fingerprints`), not empty.
    n_workers : int
        How many workers were checked.

    Returns
    -------
    str
    """
    groups = {}
    for address, diffs in sorted(mismatches.items()):
        groups.setdefault(tuple(diffs), []).append(address)
    lines = [f"{len(mismatches)} of {n_workers} Dask workers do not run the client's code "
             f"({_describe(client_fp)})"]
    for diffs, addresses in groups.items():
        named = ", ".join(addresses[:_MAX_NAMED])
        more = f" and {len(addresses) - _MAX_NAMED} more" if len(addresses) > _MAX_NAMED else ""
        lines.append(f"worker{'s' if len(addresses) > 1 else ''} {named}{more}: {', '.join(diffs)}")
    lines.append("install the client's fastmf (the same commit), numpy and numba on every worker")
    return "\n".join(lines)
