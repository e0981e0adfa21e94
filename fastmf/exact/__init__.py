"""Exact results: Kaufman's finite-lattice Ising partition function, Onsager's infinite-lattice
energy, exact enumeration of small Ising and Potts lattices, mean-field models by counting
(:mod:`.meanfield`) and the Maier-Saupe latent theory (:mod:`.maier_saupe`)."""
from .kaufman import (BETA_C, T_C, energy_per_site, energy_variance, free_energy_per_site,
                      log_partition_function, mean_energy, onsager_energy_per_site,
                      onsager_free_energy_per_site, specific_heat)
from .lattice_enum import IsingEnumeration, PottsEnumeration, enumerate_ising, enumerate_potts
from .meanfield import curie_weiss_exact, hopfield_exact, potts_mf_exact

__all__ = ["BETA_C", "T_C", "energy_per_site", "energy_variance", "free_energy_per_site",
           "log_partition_function", "mean_energy", "onsager_energy_per_site",
           "onsager_free_energy_per_site", "specific_heat", "IsingEnumeration", "PottsEnumeration",
           "enumerate_ising", "enumerate_potts", "curie_weiss_exact", "hopfield_exact", "potts_mf_exact"]
