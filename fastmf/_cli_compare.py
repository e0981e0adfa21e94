"""``fastmf compare A.npz B.npz``: two sample files of one system compared statistic by statistic against the
sampling floor (application layer; the statistics are :func:`fastmf.stats.two_sample.compare_two_samples`).

This module reads and checks the files, rebuilds the model of A (or of ``--model``) from the metadata that
``fastmf simulate`` writes, computes the energies, prints the table and writes the JSON report. Used by
:mod:`fastmf.cli` (:func:`add_compare_parser`, :func:`run`); the command is described in ``docs/compare.rst``.
"""
import dataclasses
import json
import re

from . import _cli_checks as checks
from ._version import __version__

__all__ = ["DEFAULT_SPLITS", "DEFAULT_TRIPLES", "add_compare_parser", "model_from_metadata", "run",
           "spin_format"]

#: half-splits of A that the floor is averaged over, by default
DEFAULT_SPLITS = 16
#: random triples of the three-point row, by default
DEFAULT_TRIPLES = 1000
#: metadata keys shown for each file (what system and state it describes)
_SHOWN = ("model", "N", "L", "M", "q", "P", "J", "h", "T", "sampler", "seed", "disorder", "couplings", "degree")
#: metadata keys that say which system and state a simulate file samples (differences are noted)
_SYSTEM = ("model", "N", "L", "M", "q", "P", "J", "h", "pattern_seed", "disorder", "couplings", "degree", "axes",
           "T")


def add_compare_parser(sub):
    """Add the ``compare`` subcommand to the subparsers ``sub`` of :func:`fastmf.cli.build_parser`.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The subcommands of ``fastmf``.

    Returns
    -------
    argparse.ArgumentParser
    """
    p = sub.add_parser("compare", help="compare two sample files of one system, each statistic against the "
                       "sampling floor (two halves of A)",
                       description="Means, pair and three-point correlations, P(M) (or P(n_max) for q-state "
                       "data), energies under the model (Kolmogorov-Smirnov) and Hopfield basin weights of A and "
                       "B, each next to its floor: the same statistic between two random halves of A, averaged "
                       "over --splits splits and rescaled by sqrt((1/n_A + 1/n_B) / (1/n_1 + 1/n_2)) to the "
                       "sizes of A and B (see docs/compare.rst). A ratio near 1 is what two sets of one "
                       "distribution give.")
    p.add_argument("a", type=checks.path, metavar="A.npz", help="sample file A (the reference; its halves give "
                   "the floor)")
    p.add_argument("b", type=checks.path, metavar="B.npz", help="sample file B of the same system")
    p.add_argument("--model", type=checks.path, metavar="SAMPLES.npz", help="take the model (patterns, J, h, "
                   "lattice) from this sample file's metadata instead of A's")
    p.add_argument("--out", type=checks.path, metavar="REPORT.json", help="write the report as JSON")
    p.add_argument("--seed", type=checks.nonnegative_int, default=0, help="seed of the splits and the triples")
    p.add_argument("--splits", type=checks.int_range(1, 1000), default=DEFAULT_SPLITS,
                   help=f"random half-splits of A the floor is averaged over (default {DEFAULT_SPLITS})")
    p.add_argument("--triples", type=checks.nonnegative_int, default=DEFAULT_TRIPLES,
                   help=f"random triples of the three-point row (default {DEFAULT_TRIPLES}; 0: none)")
    return p


# ------------------------------------------------------------------------------------------ the files


def spin_format(spins, metadata, name):
    """What kind of configurations a sample file holds.

    Parameters
    ----------
    spins : numpy.ndarray
        The file's ``spins``.
    metadata : dict
        Its metadata (``q``, ``axes`` and ``model`` declare a number of states).
    name : str
        The file, for messages.

    Returns
    -------
    kind : {"spins", "states"}
        +-1 spins, or integer states ``0..q-1``.
    q_data : int
        2 for spins; for states, one more than the largest state found.
    q_declared : int or None
        The number of states the metadata declares (states only).

    Raises
    ------
    ValueError
        Continuous or other values, or states beyond the declared number.
    """
    import numpy as np

    if spins.dtype.kind not in "biuf":
        raise ValueError(f"{name} holds {spins.dtype} spins, not numbers")
    if spins.size == 0:
        raise ValueError(f"{name} holds no configurations (spins of shape {spins.shape})")
    if spins.ndim not in (2, 3):
        raise ValueError(f"{name} has configurations of shape {spins.shape[1:]}; compare takes discrete spins of "
                         "shape (n, N) or (n, L, M) (continuous unit vectors are not supported)")
    if spins.dtype.kind == "f" and not np.all(spins == np.round(spins)):
        raise ValueError(f"{name} holds continuous values; compare takes +-1 spins or integer states 0..q-1")
    lo, hi = spins.min(), spins.max()
    if lo < 0 or (hi == 1 and lo == 1 and spins.dtype.kind in "if"):
        if not np.all((spins == 1) | (spins == -1)):
            raise ValueError(f"{name} mixes negative values with values other than +-1; expected +-1 spins or "
                             "states 0..q-1")
        return "spins", 2, None
    declared = None
    if metadata.get("model") in ("potts", "potts2d") and isinstance(metadata.get("q"), int):
        declared = metadata["q"]
    elif metadata.get("model") == "maier-saupe" and isinstance(metadata.get("axes"), list):
        declared = len(metadata["axes"])
    q_data = max(2, int(hi) + 1)
    if declared is not None and q_data > declared:
        raise ValueError(f"{name} holds state {int(hi)}, beyond the q = {declared} states its metadata declares")
    return "states", q_data, declared


def model_from_metadata(metadata, extra, name):
    """The model that a sample file written by ``fastmf simulate`` describes, rebuilt from its metadata.

    Parameters
    ----------
    metadata : dict
        The file's metadata.
    extra : dict
        Its extra arrays (``patterns`` of Hopfield sets).
    name : str
        The file, for messages.

    Returns
    -------
    model : object or None
        A :class:`~fastmf.models.meanfield.CurieWeiss`, :class:`~fastmf.models.meanfield.Hopfield`,
        :class:`~fastmf.models.meanfield.MeanFieldPotts`, discretised
        :class:`~fastmf.models.meanfield.MaierSaupe` or :class:`~fastmf.models.lattice.LatticeModel`; None when
        the metadata names no model that can be rebuilt.
    why : str
        What the model is, or why there is none.

    Raises
    ------
    ValueError
        Metadata that name a model but whose parameters are missing or invalid.
    """
    from .models import meanfield as mf
    from .models.lattice import LatticeModel

    kind = metadata.get("model")
    try:
        if kind == "curie-weiss":
            model = mf.CurieWeiss(metadata["N"], J=metadata["J"], h=metadata["h"])
        elif kind == "hopfield":
            if "patterns" in extra:
                model = mf.Hopfield(extra["patterns"], J=metadata["J"], h=metadata["h"])
            elif metadata.get("pattern_seed") is not None:
                model = mf.Hopfield.random(metadata["N"], metadata["P"], seed=metadata["pattern_seed"],
                                           J=metadata["J"], h=metadata["h"])
            else:
                return None, f"{name} is a Hopfield set without its patterns"
        elif kind == "potts":
            model = mf.MeanFieldPotts(metadata["N"], q=metadata["q"], J=metadata["J"], h=metadata["h"])
        elif kind == "maier-saupe":
            if metadata.get("axes") is None:
                return None, f"{name} holds continuous Maier-Saupe spins"
            model = mf.MaierSaupe(metadata["N"], J=metadata["J"], axes=metadata["axes"])
        elif kind in ("ising2d", "potts2d"):
            model = LatticeModel(L=metadata["L"], M=metadata["M"], J=metadata["J"], h=metadata["h"],
                                 q=metadata["q"])
        elif kind == "ea2d":
            found = re.fullmatch(r"(pm|gaussian)\(seed=(\d+)\)", str(metadata.get("disorder")))
            if not found:
                return None, f"the couplings of {name} are not recorded (disorder {metadata.get('disorder')!r})"
            model = LatticeModel.spin_glass(metadata["L"], metadata["M"], kind=found[1], J=metadata["J"],
                                            h=metadata["h"], seed=int(found[2]))
        elif kind in ("sk", "ea"):
            return None, (f"{name} does not record the seed of its {kind} couplings (its 'seed' is the sampling "
                          "seed)")
        else:
            return None, f"{name} names no model fastmf can rebuild (model {kind!r})"
    except KeyError as exc:
        raise ValueError(f"the {kind} metadata of {name} lack the parameter {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        raise ValueError(f"the {kind} metadata of {name} are invalid: {exc}") from None
    return model, f"{kind} from {name}"


def _load(path, what):
    from .io import load_samples

    samples = load_samples(path)
    return samples, f"{what} {str(path)!r}"


def _model_format(model):
    """("spins", 2) or ("states", q): the configurations a model's energy takes."""
    if model.name in ("potts", "potts2d"):
        return "states", model.q
    if model.name == "maier-saupe":
        return "states", len(model.axes)
    return "spins", 2


def _resolve_format(a, b, name_a, name_b, model, name_m):
    """(kind, q) of the two files (and the model): refuses files of different systems."""
    if a.spins.shape[1:] != b.spins.shape[1:]:
        raise ValueError(f"{name_a} has configurations of shape {a.spins.shape[1:]}, {name_b} of shape "
                         f"{b.spins.shape[1:]}: not the same system")
    if len(a) < 4:
        raise ValueError(f"{name_a} has {len(a)} samples; the floor needs at least 4 (two halves of 2)")
    fa, fb = spin_format(a.spins, a.metadata, name_a), spin_format(b.spins, b.metadata, name_b)
    words = {"spins": "+-1 spins", "states": "q-state integers 0..q-1"}
    if fa[0] != fb[0]:
        raise ValueError(f"{name_a} holds {words[fa[0]]}, {name_b} {words[fb[0]]}: not the same system")
    declared = {name_a: fa[2], name_b: fb[2]}
    if model is not None:
        if tuple(model.shape) != a.spins.shape[1:]:
            raise ValueError(f"the model of {name_m} has sites of shape {tuple(model.shape)}, the configurations "
                             f"of {name_a} {a.spins.shape[1:]}: not the same system")
        kind, q_model = _model_format(model)
        if kind != fa[0]:
            raise ValueError(f"the model of {name_m} takes {words[kind]}, {name_a} holds {words[fa[0]]}: not the "
                             "same system")
        declared[f"the model of {name_m}"] = q_model if kind == "states" else None
    if fa[0] == "spins":
        return "spins", 2
    declared = {k: v for k, v in declared.items() if v is not None}
    if len(set(declared.values())) > 1:
        raise ValueError("different numbers of states: " + ", ".join(f"{k} q = {v}" for k, v in declared.items())
                         + ": not the same system")
    q = next(iter(declared.values())) if declared else max(fa[1], fb[1])
    if max(fa[1], fb[1]) > q:
        raise ValueError(f"{name_a if fa[1] > q else name_b} holds states beyond the q = {q} states declared")
    return "states", q


def _differences(a, b):
    """The system and state parameters in which the metadata of two simulate files differ (a note, not a
    refusal: comparing e.g. two temperatures is a use of the command)."""
    import numpy as np

    if a.metadata.get("model") is None or b.metadata.get("model") is None or "vae" in (a.metadata["model"],
                                                                                     b.metadata["model"]):
        return []
    found = [f"{k} ({a.metadata[k]!r} vs {b.metadata[k]!r})" for k in _SYSTEM
             if k in a.metadata and k in b.metadata and a.metadata[k] != b.metadata[k]]
    pa, pb = a.extra.get("patterns"), b.extra.get("patterns")
    if pa is not None and pb is not None and (pa.shape != pb.shape or not np.array_equal(pa, pb)):
        found.append("patterns")
    return found


def _summary(samples, name):
    return {"file": name, "n_samples": len(samples), "shape": list(samples.spins.shape[1:]),
            "metadata": {k: samples.metadata[k] for k in _SHOWN if k in samples.metadata}}


# ------------------------------------------------------------------------------------------ the command


def run(args):
    """Run ``fastmf compare`` on parsed arguments (see :func:`add_compare_parser`).

    Parameters
    ----------
    args : argparse.Namespace

    Returns
    -------
    int
        0: the report was printed (and written). Refusals raise ValueError (exit status 2).
    """
    import numpy as np

    from .io import atomic_write, json_default
    from .stats.two_sample import compare_two_samples

    if args.out is not None:
        checks.output_file(args.out, "--out", inputs=(args.a, args.b, args.model), suffix=".json")
    a, name_a = _load(args.a, "A")
    b, name_b = _load(args.b, "B")
    if args.model is not None:
        source, name_m = _load(args.model, "--model")
        model, why = model_from_metadata(source.metadata, source.extra, name_m)
        if model is None:
            raise ValueError(f"--model: {why}")
    else:
        name_m = name_a
        model, why = model_from_metadata(a.metadata, a.extra, name_a)
    kind, q = _resolve_format(a, b, name_a, name_b, model, name_m)
    spins_a, spins_b = a.spins, b.spins
    if kind == "states" and q == 2:     # two states 0/1 are compared as spins +1/-1 (the same statistics)
        spins_a, spins_b = 1 - 2 * spins_a.astype(np.int8), 1 - 2 * spins_b.astype(np.int8)
    energies = {}
    if model is not None:
        energies = {"energy_a": model.energy(a.spins), "energy_b": model.energy(b.spins)}
    patterns = model.patterns if model is not None and model.name == "hopfield" else None
    report = compare_two_samples(spins_a, spins_b, q=q, patterns=patterns, triples=args.triples or None,
                                 n_splits=args.splits, seed=args.seed, **energies)
    skipped = dict(report.skipped)
    if model is None:
        skipped["energy"] = f"no model known: {why}; give --model SAMPLES.npz"
    if patterns is None:
        skipped["basins"] = "Hopfield models only" if model is not None else "no model known"
    report = dataclasses.replace(report, skipped=skipped)
    print(f"A: {str(args.a)!r} ({len(a)} samples); B: {str(args.b)!r} ({len(b)} samples)")
    print(f"model: {why}" if model is not None else "model: none")
    print(report.table())
    notes = [f"the metadata of A and B differ in {', '.join(d)}" for d in [_differences(a, b)] if d]
    for note in notes:
        print(f"note: {note}")
    if args.out is not None:
        out = {"command": "fastmf compare", "fastmf_version": __version__, "a": _summary(a, str(args.a)),
               "b": _summary(b, str(args.b)),
               "model": None if model is None else {"source": str(args.model or args.a), "description": why,
                                                    "metadata": model.to_metadata()},
               "format": {"kind": kind, "q": q}, **report.to_dict(), "notes": notes}
        out = json.loads(json.dumps(out, default=json_default), parse_constant=lambda name: None)  # NaN: null
        text = json.dumps(out, indent=1, allow_nan=False)
        atomic_write(args.out, lambda fh: fh.write((text + "\n").encode()))
        print(f"wrote {args.out}")
    return 0
