"""Exact results.

* :mod:`.kaufman` -- Kaufman's finite-lattice Ising partition function, Onsager's infinite-lattice results;
* :mod:`.crosscheck` -- density of states of small Ising and Potts lattices: ``fastmf verify``'s independent
  cross-check of the general enumerator;
* :mod:`.meanfield` -- Curie-Weiss, Hopfield and mean-field Potts thermodynamics by counting;
* :mod:`.maier_saupe` -- the Maier-Saupe latent theory;
* :mod:`.pairwise`, :mod:`.enumeration` -- any finite pairwise model (lattice, fully connected, spin glass,
  q-state) by Gray-code enumeration: ln Z, entropy, moments, marginals, bipartite mutual information, cut
  profiles and the maximum over bipartitions;
* :mod:`.symmetric` -- the same information quantities for Curie-Weiss and Hopfield at large N by counting;
* :mod:`.info` -- entropies and mutual information of a distribution given on every state;
* :mod:`.decoder`, :mod:`.capacity` -- factorized-decoder (VAE) models: exact likelihood, KL, model mutual
  information, rate, I(X;Z), and the capacity report (their quadrature in :mod:`.quadrature`, the latent prior,
  N(0, I) or a mixture of diagonal Gaussians, in :mod:`.latent_prior`).
"""
from .crosscheck import IsingEnumeration, PottsEnumeration, enumerate_ising, enumerate_potts
from .enumeration import (EnumerationResult, all_spins, cut_profile, enumerate_model, log_prob_table, marginal,
                          max_bipartition, mutual_information)
from .kaufman import (BETA_C, T_C, energy_per_site, energy_variance, free_energy_per_site,
                      log_partition_function, mean_energy, onsager_energy_per_site,
                      onsager_free_energy_per_site, specific_heat)
from .meanfield import curie_weiss_exact, hopfield_exact, potts_mf_exact
from .pairwise import PairwiseModel
from .solver import ExactSolution, solve

__all__ = ["all_spins", "BETA_C", "T_C", "energy_per_site", "energy_variance", "free_energy_per_site",
           "log_partition_function", "mean_energy", "onsager_energy_per_site",
           "onsager_free_energy_per_site", "specific_heat", "IsingEnumeration", "PottsEnumeration",
           "enumerate_ising", "enumerate_potts", "curie_weiss_exact", "hopfield_exact", "potts_mf_exact",
           "PairwiseModel", "EnumerationResult", "enumerate_model", "marginal", "mutual_information", "cut_profile",
           "log_prob_table", "max_bipartition", "ExactSolution", "solve"]
