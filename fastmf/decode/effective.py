"""Effective models written from a decoder read-off, saved to a file and sampled.

The generalized Hopfield model of unknown data (``generic_readoff``) is
``P(s) ~ exp(sum_i h_i s_i + (1/2N) sum_mu (xi^mu . s)**2)`` with real patterns xi (P', N): an Ising model with
couplings ``J = Xi^T Xi / N`` (the diagonal only adds a constant) and fields h, in units where beta = 1. It is
sampled with the spin-glass (dense graph) kernels, since its patterns are real; ±1 patterns (a Hopfield read-off)
would use the Hopfield kernels of ``fastmf.meanfield.Hopfield`` instead.
"""
import dataclasses
import json

import numpy as np

from ..samples import atomic_savez

__all__ = ["GeneralizedHopfield"]


@dataclasses.dataclass(frozen=True, eq=False)
class GeneralizedHopfield:
    """``P(s) ~ exp(sum_i h_i s_i + (1/2N) sum_mu (xi^mu . s)**2)`` (beta = 1).

    Attributes
    ----------
    fields : ndarray (N,)
    patterns : ndarray (P, N), real
    """

    fields: np.ndarray
    patterns: np.ndarray

    def __post_init__(self):
        h = np.asarray(self.fields, np.float64)
        xi = np.asarray(self.patterns, np.float64)
        if h.ndim != 1 or xi.ndim != 2 or xi.shape[1] != h.size or not (np.isfinite(h).all() and
                                                                       np.isfinite(xi).all()):
            raise ValueError(f"need finite fields (N,) and patterns (P, N), got {h.shape} and {xi.shape}")
        object.__setattr__(self, "fields", h)
        object.__setattr__(self, "patterns", xi)

    @classmethod
    def from_readoff(cls, readoff):
        """From a :class:`~fastmf.decode.readoff.GenericReadoff`: the density-fit fields and patterns when the fit
        was made, else the mean fields and the scaled principal directions."""
        if readoff.fit_patterns is not None and readoff.fields is not None:
            return cls(readoff.fields, readoff.fit_patterns)
        return cls(readoff.mean_fields, readoff.patterns)

    @property
    def N(self):
        return self.fields.size

    def energy(self, configs):
        """``-sum h s - (1/2N) sum_mu (xi^mu . s)**2`` of configurations (n, N) of ±1."""
        s = np.asarray(configs, np.float64).reshape(len(configs), -1)
        return -s @ self.fields - 0.5 * np.sum((s @ self.patterns.T) ** 2, axis=1) / self.N

    def couplings(self):
        J = self.patterns.T @ self.patterns / self.N
        np.fill_diagonal(J, 0.0)
        return J

    def as_spin_glass(self):
        """The same distribution as a :class:`fastmf.meanfield.GraphSpinGlass` (dense couplings), at T = 1."""
        from ..meanfield import GraphSpinGlass
        return GraphSpinGlass._from_dense(self.couplings(), self.fields, "generalized-hopfield",
                                          {"N": self.N, "P": len(self.patterns)})

    def sample(self, n_samples, seed=0, sampler="tempering"):
        """Equilibrium samples (a :class:`~fastmf.samples.SampleSet`) by parallel tempering (or ``mcmc``)."""
        from ..meanfield_sampling import simulate_meanfield
        return simulate_meanfield(self.as_spin_glass(), 1.0, n_samples, seed=seed, sampler=sampler, progress=False)

    def save(self, path):
        """One ``.npz`` (atomic): ``fields``, ``patterns`` and a JSON description."""
        meta = {"model": "generalized-hopfield", "energy": "-sum h s - (1/2N) sum_mu (xi^mu . s)^2, beta = 1"}
        return atomic_savez(path, fields=self.fields, patterns=self.patterns, metadata=np.array(json.dumps(meta)))

    @classmethod
    def load(cls, path):
        with np.load(path, allow_pickle=False) as f:
            if "fields" not in f.files or "patterns" not in f.files:
                raise ValueError(f"{str(path)!r} is not a generalized Hopfield file (needs fields and patterns)")
            return cls(f["fields"], f["patterns"])
