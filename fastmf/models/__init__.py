"""Models (layer 2): what a system is -- energies, parameters and their validation.

* :mod:`.lattice` -- Ising and q-state Potts models on periodic 2D lattices (uniform or quenched couplings).
* :mod:`.meanfield` -- fully connected models (Curie-Weiss, Hopfield, Potts, Maier-Saupe) and graph spin
  glasses (SK, sparse EA).
* :mod:`.driven_glass` -- a spin glass driven by switching fields, with work accounting.
* :mod:`.observables` -- energies and order parameters of lattice configurations.
* :mod:`.counting` -- counting primitives of the fully connected models (Curie-Weiss magnetization weights,
  Hopfield site types, Potts compositions) shared by the exact samplers and the exact results.
* :mod:`.nematic` -- Maier-Saupe primitives: order tensors, the single-site partition function and the latent
  density.
"""
from .driven_glass import DrivenGlass, random_drive
from .lattice import LatticeModel, random_configurations
from .meanfield import CurieWeiss, GraphSpinGlass, Hopfield, MaierSaupe, MeanFieldPotts

__all__ = ["CurieWeiss", "DrivenGlass", "GraphSpinGlass", "Hopfield", "LatticeModel", "MaierSaupe",
           "MeanFieldPotts", "random_configurations", "random_drive"]
