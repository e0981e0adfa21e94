"""Safe file handling: atomic writes that respect the umask, clean-up of a killed run's temporaries, output
locations checked before any work, outputs removed when a command aborts, and size limits.

* :func:`atomic_write` writes through a temporary ``.NAME.PID.XXXX.tmp`` in the target directory and renames it
  into place; the file gets the mode a plain ``open`` would give (``0o666`` less the umask). Before writing it
  removes the temporaries of ``NAME`` left by killed runs: those whose owning process is gone, or that are older
  than :data:`STALE_TEMPORARY_SECONDS` (a day), so that a concurrent run's temporaries are never touched.
* :func:`check_output_file` / :func:`check_output_dir` refuse, before anything runs, an output whose directory
  does not exist or is not writable, a file output that is an existing directory, a directory output that is an
  existing file, and an output that would overwrite one of the inputs.
* :class:`OutputGuard` removes what a command created (files and directories) when it aborts.
* :func:`check_memory` refuses an allocation above :func:`memory_limit` (half the available memory unless the
  environment variable ``FASTMF_MAX_MEMORY`` says otherwise), with the estimate in the message.
"""
import os
import pathlib
import re
import shutil
import tempfile
import time

__all__ = ["STALE_TEMPORARY_SECONDS", "OutputGuard", "ResourceLimitError", "atomic_write", "check_memory",
           "check_output_dir", "check_output_file", "format_bytes", "memory_limit", "remove_stale_temporaries"]

#: Temporaries of a killed run older than this (seconds) are removed even if their process id is in use again.
STALE_TEMPORARY_SECONDS = 24 * 3600
#: Fraction of the available memory that one allocation may take by default.
MEMORY_FRACTION = 0.5


class ResourceLimitError(ValueError):
    """A request whose estimated memory or time is above the documented limit (refused before allocating)."""


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _pid_alive(pid):
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_stale_temporaries(directory, name):
    """Remove the temporaries ``.NAME.PID.*.tmp`` of killed runs in ``directory``.

    Parameters
    ----------
    directory : path-like
        Where the temporaries are.
    name : str
        The file name whose temporaries are looked for.

    Returns
    -------
    list of pathlib.Path
        The files removed: those whose process ``PID`` no longer runs, or older than
        :data:`STALE_TEMPORARY_SECONDS`. The current process's own temporaries are kept.
    """
    directory = pathlib.Path(directory)
    pattern = re.compile(r"^\." + re.escape(name) + r"\.(\d+)\.[^.]+\.tmp$")
    removed = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        m = pattern.match(entry.name)
        if not m or not entry.is_file(follow_symlinks=False):
            continue
        pid = int(m.group(1))
        try:
            old = now - entry.stat(follow_symlinks=False).st_mtime > STALE_TEMPORARY_SECONDS
        except OSError:
            continue
        if pid != os.getpid() and (old or not _pid_alive(pid)):
            try:
                os.unlink(entry.path)
                removed.append(pathlib.Path(entry.path))
            except OSError:
                pass
    return removed


def atomic_write(path, write):
    """Create or replace ``path`` atomically.

    Parameters
    ----------
    path : path-like
        The file to write; its directory must exist.
    write : callable
        ``write(fh)`` fills the binary file handle.

    Returns
    -------
    pathlib.Path
        ``path``. Nothing is left behind on failure (an interrupt included); the file's mode is
        ``0o666`` less the umask, as for a file created with ``open``.
    """
    path = pathlib.Path(path)
    directory = path.parent if str(path.parent) else pathlib.Path(".")
    if not directory.is_dir():
        raise FileNotFoundError(f"output directory {str(directory)!r} does not exist")
    if path.is_dir():
        raise IsADirectoryError(f"output {str(path)!r} is an existing directory, not a file")
    remove_stale_temporaries(directory, path.name)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:
        return pathlib.Path(a).resolve() == pathlib.Path(b).resolve()


def _check_writable_dir(directory, what):
    if not directory.exists():
        raise FileNotFoundError(f"{what}: directory {str(directory)!r} does not exist")
    if not directory.is_dir():
        raise NotADirectoryError(f"{what}: {str(directory)!r} is not a directory")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise PermissionError(f"{what}: directory {str(directory)!r} is not writable")


def check_output_file(path, *, inputs=(), suffix=".npz", what="output file"):
    """Check an output file's location before any work is done.

    Parameters
    ----------
    path : path-like
        The file to be written.
    inputs : sequence of path-like
        Files the command reads; the output must not be any of them.
    suffix : str or None
        Required file-name suffix (None: any).
    what : str
        Names the output in messages (e.g. ``"--checkpoint"``).

    Returns
    -------
    pathlib.Path
        ``path``. Raises ValueError (wrong suffix, the same file as an input), IsADirectoryError,
        FileNotFoundError (no such directory) or PermissionError (directory or file not writable).
    """
    path = pathlib.Path(path)
    if suffix is not None and path.suffix != suffix:
        raise ValueError(f"{what} must end in {suffix}, got {str(path)!r}")
    if path.is_dir():
        raise IsADirectoryError(f"{what} {str(path)!r} is an existing directory, not a file")
    _check_writable_dir(path.parent if str(path.parent) else pathlib.Path("."), what)
    if path.exists() and not os.access(path, os.W_OK):
        raise PermissionError(f"{what} {str(path)!r} exists and is not writable")
    for source in inputs:
        if source is not None and pathlib.Path(source).exists() and path.exists() and _same_file(path, source):
            raise ValueError(f"{what} {str(path)!r} is the input file {str(source)!r}; refusing to overwrite "
                             "an input (choose another output)")
    return path


def check_output_dir(path, *, inputs=(), names=(), what="output directory"):
    """Check an output directory before any work is done (it may exist; it is created later).

    Parameters
    ----------
    path : path-like
        The directory to be written into.
    inputs : sequence of path-like
        Files the command reads.
    names : sequence of str
        The file names the command writes into the directory; none of them may be one of ``inputs``.
    what : str
        Names the output in messages.

    Returns
    -------
    pathlib.Path
        ``path``. Raises NotADirectoryError (an existing file), FileNotFoundError (its parent does not exist),
        PermissionError (not writable) or ValueError (an output would replace an input).
    """
    path = pathlib.Path(path)
    if path.exists():
        if not path.is_dir():
            raise NotADirectoryError(f"{what} {str(path)!r} is an existing file, not a directory")
        if not os.access(path, os.W_OK | os.X_OK):
            raise PermissionError(f"{what} {str(path)!r} is not writable")
        for source in inputs:
            for name in names:
                target = path / name
                if source is not None and target.exists() and pathlib.Path(source).exists() and \
                        _same_file(target, source):
                    raise ValueError(f"{what} {str(path)!r} would overwrite the input file {str(source)!r} "
                                     "(choose another output directory)")
    else:
        _check_writable_dir(path.parent if str(path.parent) else pathlib.Path("."), what)
    return path


class OutputGuard:
    """Remove what a command created if it aborts.

    ``with OutputGuard() as guard: guard.directory(out); ...`` creates ``out`` (and its missing parents) and,
    when the block raises (KeyboardInterrupt included), removes the directories it created and the files that
    appeared in directories it was told about; files registered with :meth:`file` are removed too. A block
    that completes keeps everything.
    """

    def __init__(self):
        self._created_dirs = []
        self._watched = {}
        self._files = []

    def __enter__(self):
        return self

    def directory(self, path):
        """Create ``path`` if needed (parents too) and watch it; returns it as a :class:`pathlib.Path`."""
        path = pathlib.Path(path)
        missing = []
        p = path
        while not p.exists():
            missing.append(p)
            p = p.parent
        path.mkdir(parents=True, exist_ok=True)
        self._created_dirs.extend(reversed(missing))
        if path not in self._watched:
            self._watched[path] = set(os.listdir(path)) if not missing else set()
        return path

    def file(self, path):
        """Register ``path`` (that did not exist before) for removal on abort; returns it."""
        path = pathlib.Path(path)
        if not path.exists():
            self._files.append(path)
        return path

    def cleanup(self):
        """Remove the registered files, the new entries of watched directories and the directories created."""
        for f in self._files:
            if f.is_file() or f.is_symlink():
                f.unlink()
        for d, before in self._watched.items():
            if d.is_dir():
                for name in set(os.listdir(d)) - before:
                    target = d / name
                    if target.is_dir() and not target.is_symlink():
                        shutil.rmtree(target, ignore_errors=True)
                    else:
                        try:
                            target.unlink()
                        except OSError:
                            pass
        for d in reversed(self._created_dirs):
            shutil.rmtree(d, ignore_errors=True)

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.cleanup()
        return False


def format_bytes(n):
    """``n`` bytes in a short human form (``"3.2 GiB"``)."""
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} EiB"


def _parse_bytes(text):
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kKmMgGtT]?)(i?[bB])?\s*", text)
    if not m:
        raise ValueError(f"FASTMF_MAX_MEMORY must be a size such as 8G, 500M or 1000000000, got {text!r}")
    scale = {"": 1, "k": 2 ** 10, "m": 2 ** 20, "g": 2 ** 30, "t": 2 ** 40}[m.group(2).lower()]
    return int(float(m.group(1)) * scale)


def _available_memory():
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 8 * 2 ** 30


def memory_limit():
    """The largest allocation fastmf makes without refusing, in bytes.

    Returns
    -------
    int
        ``FASTMF_MAX_MEMORY`` if set (bytes, or with a K/M/G/T suffix), else half the available memory.
    """
    text = os.environ.get("FASTMF_MAX_MEMORY")
    if text:
        return _parse_bytes(text)
    return int(MEMORY_FRACTION * _available_memory())


def check_memory(nbytes, what):
    """Refuse a request whose estimated memory is above :func:`memory_limit`.

    Parameters
    ----------
    nbytes : int or float
        The estimate, in bytes (may exceed any real size: it is not allocated).
    what : str
        What needs it, for the message (e.g. ``"1e11 samples of 100 spins"``).

    Raises
    ------
    ResourceLimitError
        With the estimate and the limit in the message.
    """
    limit = memory_limit()
    if nbytes > limit:
        raise ResourceLimitError(
            f"{what} needs about {format_bytes(nbytes)} of memory, above the limit of {format_bytes(limit)} "
            f"(half the available memory; set FASTMF_MAX_MEMORY, e.g. FASTMF_MAX_MEMORY=64G, to change it)")
