"""Models (layer 2): what a system is -- energies, parameters and their validation.

* :mod:`.lattice` -- Ising and q-state Potts models on periodic 2D lattices (uniform or quenched couplings).
* :mod:`.meanfield` -- fully connected models (Curie-Weiss, Hopfield, Potts, Maier-Saupe) and graph spin
  glasses (SK, sparse EA).
* :mod:`.driven_glass` -- a spin glass driven by switching fields, with work accounting.
* :mod:`.observables` -- energies and order parameters of lattice configurations.
"""
from .driven_glass import DrivenGlass, random_drive
from .lattice import LatticeModel, random_configurations
from .meanfield import CurieWeiss, GraphSpinGlass, Hopfield, MaierSaupe, MeanFieldPotts

__all__ = ["CurieWeiss", "DrivenGlass", "GraphSpinGlass", "Hopfield", "LatticeModel", "MaierSaupe",
           "MeanFieldPotts", "random_configurations", "random_drive"]
