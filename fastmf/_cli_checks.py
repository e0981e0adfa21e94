"""Checks and error handling of the ``fastmf`` command line (application layer; used by :mod:`fastmf.cli` only).

* argparse types with ranges (:func:`int_range`, :func:`float_bound`, ...): a bad value is refused in one line
  before anything runs;
* output locations checked before any work (:func:`output_file`, :func:`output_dir`), an output that is one of
  the inputs refused, and the same file given as two outputs refused (:func:`distinct`);
* :func:`keep_checkpoint_if_interrupted`: a checkpoint this run created is removed when the run fails, and kept
  when it is interrupted (it exists to protect work);
* the exit-code convention (:func:`error_status`): 2 for usage errors, 1 for failures of the work, 130 for Ctrl-C,
  143 for SIGTERM (:class:`Terminated`, handled as an interrupt), and :func:`debug_requested` (``--debug`` or
  ``FASTMF_DEBUG=1``: the traceback is shown instead).
"""
import _thread
import argparse
import contextlib
import os
import pathlib
import signal
import threading
import warnings

__all__ = ["DEBUG_ENV", "DECODE_FILES", "GRID_FILES", "HeldWarnings", "REPRODUCE_FILES", "USAGE_ERRORS",
           "check_arguments", "debug_requested", "distinct", "error_status", "finite_float", "float_bound",
           "interrupt_handler", "interrupts_survive_compilation", "Terminated",
           "gpu_backend_usable", "int_list", "int_range", "keep_checkpoint_if_interrupted", "nonnegative_float",
           "nonnegative_int", "out_file", "output_dir", "output_file", "positive_float", "positive_int",
           "temperature", "widths"]

#: environment variable that, set to 1, shows the traceback of an error (as ``--debug`` does)
DEBUG_ENV = "FASTMF_DEBUG"
#: exceptions that mean the input was refused (exit status 2); ResourceLimitError is a ValueError
USAGE_ERRORS = (ValueError, TypeError, FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError,
                FileExistsError)
#: files each directory-output command writes (an input of that name in the directory would be replaced)
DECODE_FILES = ("decoded.json", "patterns.npy", "fields.npy", "effective_model.npz")
REPRODUCE_FILES = ("report.md", "summary.json", "dataset.npz", "effective_model.npz", "model_samples.npz")
GRID_FILES = ("grid.json", "grid.png", "results.csv", "results.parquet")

# ------------------------------------------------------------------------------------------ argparse types


def int_range(minimum, maximum=None, what=None):
    """argparse type: an integer in ``[minimum, maximum]`` (``maximum`` None: no upper bound)."""
    if what is None:
        what = (f"an integer >= {minimum}" if maximum is None else f"an integer from {minimum} to {maximum}")

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
        return value
    return parse


positive_int = int_range(1, what="a positive integer")
nonnegative_int = int_range(0, what="an integer >= 0")


def finite_float(text):
    """argparse type: a finite number."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def float_bound(minimum, strict, what):
    """argparse type: a finite number above ``minimum`` (``strict``: > minimum, else >=)."""
    def parse(text):
        value = finite_float(text)
        if value < minimum or (strict and value == minimum):
            raise argparse.ArgumentTypeError(f"{what}, got {text!r}")
        return value
    return parse


nonnegative_float = float_bound(0.0, False, "expected a number >= 0")
positive_float = float_bound(0.0, True, "expected a number > 0")
_positive_temperature = float_bound(0.0, True, "temperature must be > 0")


def temperature(text):
    """argparse type: a temperature T > 0 whose inverse 1/T is finite."""
    value = _positive_temperature(text)
    if 1.0 / value == float("inf"):
        raise argparse.ArgumentTypeError(f"temperature must be > 0 with a finite 1/T, got {text!r}")
    return value


def widths(text):
    """argparse type: positive integers separated by commas; ``","`` or ``""`` is the empty tuple."""
    try:
        return tuple(positive_int(t) for t in text.split(",") if t.strip())
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected positive integers separated by commas, got {text!r}") from None


def int_list(text):
    """argparse type: one or more positive integers separated by commas."""
    values = widths(text)
    if not values:
        raise argparse.ArgumentTypeError(f"expected positive integers separated by commas, got {text!r}")
    return values


def path(text):
    """argparse type: a file or directory name; an empty one is refused (it would silently mean the current
    directory)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a file or directory name, got an empty string")
    return pathlib.Path(text)


def out_file(text):
    """argparse type: a ``.npz`` output file name (its location is checked before the work, see
    :func:`output_file`)."""
    path = pathlib.Path(text)
    if path.suffix != ".npz":
        raise argparse.ArgumentTypeError(f"output file must end in .npz, got {text!r}")
    return path


# ------------------------------------------------------------------------------------------ outputs, before any work


def _same_path(a, b):
    """Whether ``a`` and ``b`` name the same file (existing or not)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def distinct(first, second, what_first, what_second):
    """Refuse two outputs (or an output and an input) that name the same file, existing or not."""
    if first is not None and second is not None and _same_path(first, second):
        raise ValueError(f"{what_first} and {what_second} are the same file {str(first)!r}; give two different "
                         "files")


def output_file(path, what, inputs=(), suffix=".npz"):
    """:func:`fastmf.io.check_output_file`, refusing the inputs that exist (``inputs``: paths or None)."""
    from .io import check_output_file

    return check_output_file(path, inputs=[p for p in inputs if p is not None], suffix=suffix, what=what)


def output_dir(path, what, inputs=(), names=()):
    """:func:`fastmf.io.check_output_dir` (``inputs``: paths or None)."""
    from .io import check_output_dir

    return check_output_dir(path, inputs=[p for p in inputs if p is not None], names=names, what=what)


def gpu_backend_usable(backend):
    """Refuse a GPU backend (``cuda``, ``cupy``) asked for where no GPU is usable: a usage error."""
    if backend in ("cuda", "cupy"):
        from .backends import resolve_backend
        try:
            resolve_backend(backend)
        except RuntimeError as exc:
            raise ValueError(str(exc)) from None


@contextlib.contextmanager
def keep_checkpoint_if_interrupted(path):
    """A checkpoint file that this run creates is removed if the run is refused (a usage error), and kept if it
    is interrupted (Ctrl-C) or the work fails (a numerical failure, a failed write of the output): it exists to
    protect the work done so far, and rerunning the command resumes from it. A checkpoint that existed before (a
    resumed run) is never removed."""
    created = path is not None and not os.path.lexists(path)
    try:
        yield
    except USAGE_ERRORS:
        if created and os.path.isfile(path):
            os.unlink(path)
        raise


def check_arguments(parser, args):
    """Refusals that involve several arguments, as argument errors (one line, exit status 2), and a GPU backend
    asked for where none is usable."""
    if args.command == "train" and not args.hidden and not args.mean_field:
        parser.exit(2, "fastmf: error: argument --hidden: an empty list of hidden widths gives a network with no "
                    "hidden layer; give widths (e.g. --hidden 256) or ask for it with --mean-field (see 'fastmf "
                    "train --help')\n")
    if getattr(args, "backend", None) in ("cuda", "cupy") and args.command in ("simulate", "demo"):
        gpu_backend_usable(args.backend)


# ------------------------------------------------------------------------------------------ exit status


def debug_requested(argv):
    """``(debug, argv without --debug)``: ``--debug`` anywhere before ``--``, or ``FASTMF_DEBUG`` set to 1."""
    end = argv.index("--") if "--" in argv else len(argv)
    flag = "--debug" in argv[:end]
    rest = [a for a in argv[:end] if a != "--debug"] + argv[end:]
    env = os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no", "off")
    return flag or env, rest


#: modules whose frames on the stack defer a Ctrl-C: numba's compiler calls llvmlite back through ctypes, and a
#: KeyboardInterrupt raised inside a ctypes callback is printed ("Exception ignored") and dropped
_DEFER_IN = ("llvmlite",)


def _in_callback_module(frame):
    while frame is not None:
        if frame.f_globals.get("__name__", "").startswith(_DEFER_IN):
            return True
        frame = frame.f_back
    return False


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, a batch scheduler's time limit): an interrupt like Ctrl-C, so that what the command
    created is removed and a checkpoint kept the same way; the command line exits with 143 (128 + 15)."""


def interrupt_handler(signum, frame, retry=None):
    """SIGINT and SIGTERM handler of the command line: KeyboardInterrupt (:class:`Terminated` for SIGTERM), unless
    the signal arrived inside llvmlite (during a JIT compilation), where it would be dropped; then the signal is
    asked again 50 ms later (``_thread.interrupt_main(signum)``, or ``retry`` in tests) until it can be raised
    where it propagates."""
    if _in_callback_module(frame):
        timer = threading.Timer(0.05, retry or (lambda: _thread.interrupt_main(signum)))
        timer.daemon = True
        timer.start()
        return
    raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt


#: the signals :func:`interrupts_survive_compilation` handles, with the handler it expects to find in place
_HANDLED = ((signal.SIGINT, signal.default_int_handler), (signal.SIGTERM, signal.SIG_DFL))


@contextlib.contextmanager
def interrupts_survive_compilation():
    """Install :func:`interrupt_handler` for SIGINT and SIGTERM (in the main thread, for each signal whose
    default handler is in place: one set to be ignored stays ignored) and restore the previous handlers
    afterwards. Without it, Ctrl-C during the first (compiling) call of a kernel could be swallowed and the
    command ran to its end, and SIGTERM killed the process at once, leaving its partial outputs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    installed = [(sig, default) for sig, default in _HANDLED if signal.getsignal(sig) is default]
    for sig, _ in installed:
        signal.signal(sig, interrupt_handler)
    try:
        yield
    finally:
        for sig, default in installed:
            signal.signal(sig, default)


class HeldWarnings:
    """Hold back the warnings of a command (``with HeldWarnings(debug):``): shown when it returns (a status), or on
    an error under ``debug``; dropped when it raises without ``debug`` (an error or Ctrl-C: the one-line message
    says what went wrong, e.g. the overflow warnings before a FloatingPointError)."""

    def __init__(self, debug):
        self.debug = debug
        self._catch = warnings.catch_warnings(record=True)
        self._held = []

    def __enter__(self):
        self._held = self._catch.__enter__()
        return self

    def __exit__(self, exc_type, exc, tb):
        self._catch.__exit__(exc_type, exc, tb)
        if exc_type is None or self.debug:
            for w in self._held:
                warnings.showwarning(w.message, w.category, w.filename, w.lineno, w.file, w.line)
        return False


def _one_line(exc):
    text = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    return text or type(exc).__name__


def error_status(exc):
    """``(exit status, message)`` of an exception that ended a command.

    2 for usage errors (:data:`USAGE_ERRORS`: the input was refused), 1 for failures of the work (RuntimeError,
    FloatingPointError, MemoryError, other OSError, a missing optional module) and for anything unexpected,
    which is called an internal error. The message is one line.
    """
    text = _one_line(exc)
    if isinstance(exc, USAGE_ERRORS):
        return 2, text
    if isinstance(exc, MemoryError):
        return 1, (f"out of memory ({text}); use smaller sizes (fastmf refuses requests above FASTMF_MAX_MEMORY, "
                   "by default half the available memory, where it can estimate them)")
    if isinstance(exc, (RuntimeError, FloatingPointError, OSError, ImportError)):
        return 1, text
    return 1, (f"internal error ({type(exc).__name__}: {text}); rerun with --debug (or {DEBUG_ENV}=1) to see the "
               "traceback, and please report it")
