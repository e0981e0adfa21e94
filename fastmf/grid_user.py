"""User functions as grid tasks: ``task = "package.module:function"`` (see :mod:`fastmf.grid`).

The function is imported by the client (to read its signature) and by every worker (to run it), so it must be
importable in both: an installed package, or a module on ``PYTHONPATH`` (a local cluster's workers inherit the
client's environment and ``sys.path``). Each task calls it with the point's parameters as keyword arguments::

    # examples/grids/user_functions.py
    def binder_cumulant(N: int, T: float, n_samples: int = 20000, seed: int = 0) -> dict:
        ...
        return {"binder": 1.0 - m4 / (3.0 * m2 ** 2), "abs_m": float(np.abs(m).mean())}

Its schema comes from its signature, checked before anything is submitted:

* every name in ``[fixed]`` and ``[grid]`` must be a parameter of the function (any name, with ``**kwargs``);
  a positional-only parameter cannot be given, and ``task`` is reserved;
* every parameter without a default must be given;
* each value of a parameter annotated ``int``, ``float``, ``str`` or ``bool`` is checked (an ``int`` is a
  ``float``, a ``bool`` is not an ``int``; a ``float`` must be finite); other annotations are not checked;
* the defaults that are plain numbers, strings or booleans are part of every task (and of its id: a new default
  reruns the tasks it changes); other defaults are left to the function.

The function must return a flat dict of numbers or strings (NumPy scalars are converted, booleans become 0 or
1); anything else fails that task, with a message naming the function and the offending entry, recorded like any
failing task. Its keys are the table's result columns, sorted, and may not repeat a parameter's name.
"""
import importlib
import inspect
import math
import numbers

import numpy as np

from .grid_params import Param

__all__ = ["call_user_function", "check_required", "flat_result", "function_schema", "load_function"]

_KINDS = {int: "int", float: "real", str: "text", bool: "bool"}


def load_function(spec, where="config"):
    """Import the function ``"package.module:function"``.

    Parameters
    ----------
    spec : str
        Module and function name, separated by a colon.
    where : str
        Where the spec comes from, named in the errors.

    Returns
    -------
    callable

    Raises
    ------
    ValueError
        A malformed spec, a module that cannot be imported (with the error), or a missing or non-callable name.
    """
    module, _, name = spec.partition(":")
    if not module or not name.isidentifier() or not all(p.isidentifier() for p in module.split(".")):
        raise ValueError(f"{where}: task {spec!r} must name a function as 'package.module:function'")
    try:
        mod = importlib.import_module(module)
    except Exception as exc:  # any error of the user's module: report it, do not crash the runner
        raise ValueError(f"{where}: task {spec!r}: cannot import module {module!r} ({type(exc).__name__}: {exc}); "
                         "it must be importable by the client and by every worker (an installed package, or on "
                         "PYTHONPATH)") from None
    fn = getattr(mod, name, None)
    if not callable(fn):
        raise ValueError(f"{where}: task {spec!r}: module {module!r} has no function {name!r}")
    return fn


def _param(p):
    kind = _KINDS.get(p.annotation, "any")
    default = None if p.default is inspect.Parameter.empty else p.default
    plain = isinstance(default, (bool, int, float, str)) and not (isinstance(default, float)
                                                                  and not math.isfinite(default))
    return Param(kind, default if plain else None, doc=f"annotated {p.annotation.__name__}" if kind != "any" else "",
                 implicit=not plain)


def function_schema(spec, where="config"):
    """A user function's schema, from its signature (see the module docstring).

    Parameters
    ----------
    spec : str
        ``"package.module:function"``.
    where : str
        Where the spec comes from, named in the errors.

    Returns
    -------
    allowed : dict
        Parameter name -> ``[Param]`` (kind ``"int"``, ``"real"``, ``"text"``, ``"bool"`` or ``"any"``).
    defaults : dict
        The defaults that are part of every task (plain numbers, strings, booleans).
    any_name : bool
        The function takes ``**kwargs``: a name that is not a parameter is accepted too.
    required : list of str
        The parameters without a default.
    """
    fn = load_function(spec, where)
    try:
        sig = inspect.signature(fn, eval_str=True)
    except (NameError, TypeError, SyntaxError):  # annotations that cannot be evaluated are not checked
        sig = inspect.signature(fn)
    allowed, defaults, required, any_name = {}, {}, [], False
    for p in sig.parameters.values():
        if p.kind == p.VAR_KEYWORD:
            any_name = True
        if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL, p.POSITIONAL_ONLY):
            continue
        if p.name == "task":
            raise ValueError(f"{where}: {spec} has a parameter named 'task', the name a grid task reserves")
        allowed[p.name] = [_param(p)]
        if p.default is inspect.Parameter.empty:
            required.append(p.name)
        elif not allowed[p.name][0].implicit:
            defaults[p.name] = p.default
    return allowed, defaults, any_name, required


def check_required(spec, given, where="config"):
    """Refuse a config that leaves a parameter without a default of the function ``spec`` out.

    Parameters
    ----------
    spec : str
        ``"package.module:function"``.
    given : set of str
        The names of ``[fixed]`` and ``[grid]``.
    where : str
        Where the config comes from, named in the errors.
    """
    missing = [n for n in function_schema(spec, where)[3] if n not in given]
    if missing:
        raise ValueError(f"{where}: {spec} has parameters without a default that the config does not give: "
                         f"{missing}; give them in [fixed] or [grid]")


def flat_result(result, what, reserved=()):
    """Check and convert a result to a flat dict of numbers or strings.

    Parameters
    ----------
    result : object
        What the task returned.
    what : str
        The task, named in the errors (e.g. ``"user function pkg.mod:f"``).
    reserved : iterable of str
        Names a result key may not take (the task's parameters).

    Returns
    -------
    dict
        Keys in their order; NumPy scalars as Python numbers, booleans as 0 or 1.

    Raises
    ------
    TypeError
        Not a dict, a key that is not a non-empty string or that repeats a parameter, a value that is not a
        number or a string.
    """
    if not isinstance(result, dict):
        raise TypeError(f"{what} returned {type(result).__name__}, expected a flat dict of numbers or strings")
    out, reserved = {}, set(reserved)
    for key, value in result.items():
        if not isinstance(key, str) or not key:
            raise TypeError(f"{what} returned the key {key!r}; result keys must be non-empty strings")
        if key in reserved:
            raise TypeError(f"{what} returned the key {key!r}, which is also a parameter of the task")
        if isinstance(value, (bool, np.bool_)):
            value = int(value)
        elif isinstance(value, numbers.Integral):
            value = int(value)
        elif isinstance(value, numbers.Real):
            value = float(value)
        elif not isinstance(value, str):
            raise TypeError(f"{what} returned {key!r}: {type(value).__name__} {value!r:.60}; a result is a flat "
                            "dict of numbers or strings")
        out[key] = value
    return out


def call_user_function(params):
    """Run a user-function task (on a worker).

    Parameters
    ----------
    params : dict
        The task: ``task`` (``"package.module:function"``) and the keyword arguments.

    Returns
    -------
    dict
        The function's result, checked by :func:`flat_result`.
    """
    spec = params["task"]
    kwargs = {k: v for k, v in params.items() if k != "task"}
    return flat_result(load_function(spec, "worker")(**kwargs), f"user function {spec}", kwargs)
