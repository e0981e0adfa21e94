"""Sampling (layer 3): Markov chains and their explicit states, exact latent samplers, tempering.

* :mod:`.lattice` -- :class:`LatticeSampler` and :class:`ChainState` (checkerboard, sequential, Wolff,
  multi-spin).
* :mod:`.meanfield` -- chains for fully connected and graph models, parallel tempering,
  :func:`simulate_meanfield`.
* :mod:`.latent`, :mod:`.latent_maier_saupe` -- exact samplers through the Hubbard-Stratonovich latent.
* :mod:`.simulate` -- thinning by measured autocorrelation, checkpoints: :func:`simulate_lattice`.
"""
from .lattice import METHODS, ChainState, LatticeSampler
from .meanfield import SAMPLERS, MeanFieldSampler, TemperingSampler, simulate_meanfield
from .simulate import simulate_chains, simulate_lattice

__all__ = ["METHODS", "SAMPLERS", "ChainState", "LatticeSampler", "MeanFieldSampler", "TemperingSampler",
           "simulate_chains", "simulate_lattice", "simulate_meanfield"]
