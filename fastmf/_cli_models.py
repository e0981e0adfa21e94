"""Models of the ``fastmf`` command line (application layer): built from the parsed arguments of ``simulate``
and ``exact``, with ``.npy`` inputs (patterns, axes) read with one-line errors. Used by :mod:`fastmf.cli` only."""
__all__ = ["lattice_model", "load_npy", "meanfield_model"]


def load_npy(path, what):
    """Read a ``.npy`` array of numbers.

    Parameters
    ----------
    path : pathlib.Path
        The file.
    what : str
        What it holds (e.g. ``"axes"``), named in the errors.

    Returns
    -------
    numpy.ndarray
        The array: finite numbers (no pickles, no object arrays).

    Raises
    ------
    FileNotFoundError, IsADirectoryError
        No such file, or a directory.
    ValueError
        A file that is not a ``.npy`` array of finite numbers (what it is instead, when it can tell).
    """
    import numpy as np

    from .io import ResourceLimitError, check_memory

    name = str(path)
    if path.is_dir():
        raise IsADirectoryError(f"{what} file {name!r} is a directory, not a .npy file")
    if not path.is_file():
        raise FileNotFoundError(f"{what} file {name!r} does not exist")
    with open(path, "rb") as fh:
        magic = fh.read(6)
    if magic != b"\x93NUMPY":
        kind = ("an empty file" if not magic else "a .npz archive (give a .npy array)" if magic[:4] == b"PK\x03\x04"
                else "not a NumPy array file")
        raise ValueError(f"{what} file {name!r} is {kind}; expected a .npy array of numbers")
    try:
        with open(path, "rb") as fh:  # the declared size, before anything is allocated
            version = np.lib.format.read_magic(fh)
            shape, _, dtype = (np.lib.format.read_array_header_1_0 if version == (1, 0) else
                               np.lib.format.read_array_header_2_0)(fh)
        check_memory(dtype.itemsize * float(np.prod(shape, dtype=float)), f"the {what} array in {name!r}")
        array = np.load(path, allow_pickle=False)
    except ValueError as exc:
        if isinstance(exc, ResourceLimitError):
            raise
        if "pickle" in str(exc):
            raise ValueError(f"{what} file {name!r} holds Python objects, not numbers; expected a .npy array of "
                             "numbers (fastmf does not load pickled data)") from None
        raise ValueError(f"{what} file {name!r} is damaged or truncated (expected a .npy array of numbers)") from None
    except (OSError, EOFError, SyntaxError, UnicodeDecodeError):
        raise ValueError(f"{what} file {name!r} is damaged or truncated (expected a .npy array of numbers)") from None
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{what} file {name!r} holds {array.dtype} values, not real numbers")
    if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
        raise ValueError(f"{what} file {name!r} holds NaN or infinite values")
    return array


def meanfield_model(args):
    """The fully connected or graph model named by ``args.model``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments of ``fastmf simulate`` / ``fastmf exact`` for curie-weiss, hopfield, maier-saupe,
        potts, sk or ea.

    Returns
    -------
    CurieWeiss, Hopfield, MaierSaupe, MeanFieldPotts or GraphSpinGlass
    """
    from .models import meanfield as mf

    if args.model == "curie-weiss":
        return mf.CurieWeiss(args.N, J=args.J, h=args.h)
    if args.model == "hopfield":
        if args.patterns is not None:
            xi = load_npy(args.patterns, "patterns")
            if xi.ndim != 2 or xi.shape[1] != args.N:
                raise ValueError(f"patterns must have shape (P, N={args.N}), got {xi.shape}")
            return mf.Hopfield(xi, J=args.J, h=args.h)
        if args.P is None:
            raise ValueError("give --P (random patterns) or --patterns FILE.npy")
        return mf.Hopfield.random(args.N, args.P, seed=args.pattern_seed, J=args.J, h=args.h)
    if args.model == "maier-saupe":
        return mf.MaierSaupe(args.N, J=args.J, axes=None if args.axes is None else load_npy(args.axes, "axes"))
    if args.model == "potts":
        return mf.MeanFieldPotts(args.N, q=args.q, J=args.J, h=args.h)
    if args.model == "sk":
        return mf.GraphSpinGlass.sk(args.N, J=args.J, h=args.h, couplings=args.couplings, seed=args.disorder_seed)
    return mf.GraphSpinGlass.ea(args.N, degree=args.degree, J=args.J, h=args.h, couplings=args.couplings,
                                seed=args.disorder_seed)


def lattice_model(args):
    """The lattice model of ``fastmf simulate ising2d`` / ``fastmf exact ising2d``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments: ``L``, ``M``, ``J``, ``h``, ``q``, ``disorder``, ``disorder_seed``.

    Returns
    -------
    LatticeModel
        Uniform couplings, or an Edwards-Anderson spin glass when ``args.disorder`` is set.
    """
    from .models.lattice import LatticeModel

    if args.disorder:
        return LatticeModel.spin_glass(args.L, args.M, kind=args.disorder, J=args.J, h=args.h,
                                       seed=args.disorder_seed)
    return LatticeModel(L=args.L, M=args.M, J=args.J, h=args.h, q=args.q)
