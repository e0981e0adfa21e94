"""User functions for ``fastmf grid``: ``task = "user_functions:binder_cumulant"`` (see docs/grid.rst).

A grid task may be any function importable by the client and the workers, here from this directory on
``PYTHONPATH`` (local workers inherit it)::

    PYTHONPATH=examples/grids fastmf grid examples/grids/binder_cumulant.toml --workers 2

The function is called with the point's parameters as keyword arguments; its signature is the schema (the
config's names must be its parameters, the annotated types are checked before anything is submitted) and it
returns a flat dict of numbers or strings, one table column each.
"""
import numpy as np


def binder_cumulant(N: int, T: float, n_samples: int = 20000, seed: int = 0) -> dict:
    """The Binder cumulant ``U4 = 1 - <m^4> / (3 <m^2>^2)`` and ``<|m|>`` of the Curie-Weiss model of N spins at
    temperature T, from the exact latent sampler; the curves of several N cross near T_c = 1 (at the mean-field
    value U4* = 1 - Gamma(1/4)^4 / (24 pi^2) = 0.27 for N -> infinity)."""
    from fastmf.models.meanfield import CurieWeiss
    from fastmf.sampling.meanfield import simulate_meanfield
    spins = simulate_meanfield(CurieWeiss(N), T, n_samples, seed=seed, backend="cpu", progress=False).spins
    m = spins.mean(axis=1, dtype=np.float64)
    m2, m4 = np.mean(m ** 2), np.mean(m ** 4)
    return {"binder": 1.0 - m4 / (3.0 * m2 ** 2), "abs_m": float(np.abs(m).mean())}
