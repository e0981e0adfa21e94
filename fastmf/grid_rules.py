"""The rules of a grid config that join several parameters (see :mod:`fastmf.grid_schema`).

Each value is checked on its own first (:class:`fastmf.grid_params.Param`); the rules here are the constraints
between parameters that the library would otherwise refuse on a worker: a Hopfield model needs ``P < N``, a
random regular graph ``degree < N`` with ``N * degree`` even, a checkerboard lattice even sides, Wolff and
multispin updates the uniform Ising model (Wolff also ``h = 0``), quenched lattice couplings ``q = 2``, the
trained and decoded Maier-Saupe model its discrete axes, a decoder the data it models, an enumeration at most
``max_states`` states, a VAE at least :data:`MIN_TRAIN_SAMPLES` samples, the normal prior one component. A rule is
checked over every combination of the values of the parameters it joins (a grid is their Cartesian product, so
each combination occurs in some task), never over the whole grid (whose size is checked first).

:func:`check_largest_task` estimates the memory of the grid's largest task, the sum of its stages'.
"""
import itertools
import math

from .grid_params import LEGACY_TRAIN, MODEL_PARAMS, STAGES, stage_values
from .io import check_memory

__all__ = ["MIN_TRAIN_SAMPLES", "check_largest_task", "check_rules"]

#: the fewest samples a chain trains a VAE on (a tenth, at least one, is held out for validation)
MIN_TRAIN_SAMPLES = 10
_CHECKERBOARD = ("metropolis", "heatbath", "multispin")


def _states(model, v):
    """States per site of the data: 2 for +-1 spins."""
    return v["q"] if model in ("potts", "ising2d") else (6 if model == "maier-saupe" else 2)


def _lattice(model, v):
    s, L, M = v["simulate.sampler"], v["L"], v["M"] or v["L"]
    if s in ("wolff", "multispin") and (v["q"] != 2 or v["disorder"] != "none"):
        return f"sampler {s!r} supports the Ising model (q = 2) with uniform couplings only"
    if s == "wolff" and (v["h"] != 0 or v["J"] == 0):
        return "Wolff cluster updates need h = 0 and J != 0"
    if s in _CHECKERBOARD and (L % 2 or M % 2):
        return f"sampler {s!r} updates a checkerboard, which needs even L and M (use 'wolff' for odd sides)"
    return None


def _decoder(model, v):
    d, q = v["train.decoder"], _states(model, v)
    fits = {"bernoulli": q == 2 and model != "maier-saupe", "beta2": q == 2 and model != "maier-saupe",
            "categorical": q > 2 or model == "maier-saupe", "nematic": model == "maier-saupe"}
    if d != "auto" and not fits[d]:
        return f"decoder {d!r} does not model the data of {model} (q = {q})"
    return None


def _decode(model, v):
    kind, d = v["decode.kind"], v["train.decoder"]
    if _states(model, v) != 2 and kind != "maier-saupe":
        return f"the {kind} read-off needs +-1 spins (q = 2)"
    if (kind == "maier-saupe") != (d in ("auto", "nematic")) and d != "auto":
        return f"the {kind} read-off needs the {'nematic' if kind == 'maier-saupe' else 'bernoulli'} decoder"
    return None


def _exact(model, v):
    n = v["L"] * (v["M"] or v["L"]) if model == "ising2d" else v["N"]
    counted = model in ("curie-weiss", "hopfield") and v["exact.method"] != "enumerate"
    q = _states(model, v)
    if not counted and n * math.log2(q) > math.log2(v["exact.max_states"]):
        return (f"enumerating {q}**{n} states exceeds max_states = {v['exact.max_states']} (raise exact.max_states, "
                "or count: method 'count' or 'auto' for Curie-Weiss and Hopfield)")
    return None


#: (models or None for all, stages of which one must be in the task or None, parameters joined, rule)
_RULES = [
    (("hopfield",), None, ("P", "N"), lambda m, v: "the Hopfield model needs P < N" if v["P"] >= v["N"] else None),
    (("ea",), None, ("N", "degree"), lambda m, v: (
        "a random regular graph needs degree < N and N * degree even"
        if v["degree"] >= v["N"] or v["N"] * v["degree"] % 2 else None)),
    (("ising2d",), None, ("q", "disorder"), lambda m, v: (
        "quenched couplings (disorder) need the Ising model, q = 2" if v["disorder"] != "none" and v["q"] != 2
        else None)),
    (("ising2d",), ("simulate",), ("simulate.sampler", "q", "disorder", "h", "J", "L", "M"), _lattice),
    (("maier-saupe",), ("exact", "train", "decode", "compare"), ("axes",), lambda m, v: (
        "exact, train, decode and compare need the discrete axes (axes = 'icosahedral'); continuous unit vectors "
        "are simulated only" if v["axes"] == "continuous" else None)),
    (None, ("train",), ("train.decoder", "q"), _decoder),
    (None, ("decode",), ("decode.kind", "train.decoder", "q"), _decode),
    (None, ("exact",), ("exact.method", "exact.max_states", "N", "L", "M", "q"), _exact),
    (None, ("train",), ("train.prior", "train.n_components"), lambda m, v: (
        "the normal prior has one component" if v["train.prior"] == "normal" and v["train.n_components"]
        not in (None, 1) else None)),
    (None, ("train",), ("simulate.n_samples",), lambda m, v: (
        f"a VAE trains on at least {MIN_TRAIN_SAMPLES} samples" if v["simulate.n_samples"] < MIN_TRAIN_SAMPLES
        else None)),
]


def _axis(values, model, chained, name):
    """``(label, values)`` of a parameter: ``"stage.name"`` resolves to the stage's own key, else the stage-less
    one, else the default; a parameter the model does not have is ``[None]``."""
    stage, _, short = name.rpartition(".")
    for key in ((name, short) if chained and stage else (short,)):
        if key in values:
            return key, values[key]
    params = STAGES[stage].params if stage else MODEL_PARAMS[model]
    return short, [params[short].default_for(model) if short in params else None]


def check_rules(task, model, values, given, where):
    """Refuse values that a rule joining parameters refuses (see the module docstring).

    Parameters
    ----------
    task : str or tuple of str
        The task: one stage, the legacy ``"train"`` or a chain.
    model : str
        The model.
    values : dict
        Name -> list of values (a fixed or default value as a list of one).
    given : set of str
        The names the config gives (only their values are named in a message).
    where : str
        Where the config comes from, named in the errors.

    Raises
    ------
    ValueError
        Naming the values and the rule, e.g. ``cw.toml: P = 20 with N = 16: the Hopfield model needs P < N``.
    """
    if task == "train":
        return
    stages = (task,) if isinstance(task, str) else task
    for models, needs, names, rule in _RULES:
        if (models is not None and model not in models) or (needs is not None and not set(needs) & set(stages)):
            continue
        axes = [_axis(values, model, isinstance(task, tuple), n) for n in names]
        for combo in itertools.product(*(a[1] for a in axes)):
            found = rule(model, dict(zip(names, combo)))
            if found:
                shown = [f"{label} = {value!r}" for (label, vals), value in zip(axes, combo)
                         if value is not None and label in given]
                raise ValueError(f"{where}: {' with '.join(shown) or 'the defaults'}: {found}")


def _largest(values):
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return max(numbers) if len(numbers) == len(values) else tuple(values)


def check_largest_task(task, model, values, where):
    """Refuse a grid whose largest task would not fit in memory (:func:`fastmf.io.check_memory`).

    The largest task takes the largest value of every size (a Cartesian grid has that task); the estimate is
    the sum of its stages' (:attr:`fastmf.grid_params.Stage.memory`).

    Parameters
    ----------
    task : str or tuple of str
        The task: one stage, the legacy ``"train"`` or a chain.
    model : str
        The model.
    values : dict
        Name -> list of values (a fixed or default value as a list of one).
    where : str
        Where the config comes from, named in the errors.

    Raises
    ------
    fastmf.io.ResourceLimitError
        Naming the largest task's sizes and the estimate.
    """
    largest = {k: _largest(v) for k, v in values.items()}
    if task == "train":
        nbytes, sizes = LEGACY_TRAIN.memory(model, largest), largest
    else:
        nbytes, sizes = 0, {}
        for stage in ((task,) if isinstance(task, str) else task):
            sizes = dict(stage_values(dict(largest, model=model), stage, isinstance(task, tuple)))
            if stage == "compare" and sizes.get("n_samples") is None:
                sizes["n_samples"] = stage_values(dict(largest, model=model), "simulate", True)["n_samples"]
            nbytes += STAGES[stage].memory(model, {k: v for k, v in sizes.items() if v is not None})
    shown = [k for k in ("N", "L", "M", "n_samples") if isinstance(sizes.get(k), int)]
    check_memory(nbytes, f"{where}: the largest task (" + ", ".join(f"{k} = {sizes[k]}" for k in shown) + ")")
