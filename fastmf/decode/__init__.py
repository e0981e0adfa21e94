"""Decode: read mean-field parameters (Curie-Weiss couplings, Hopfield patterns, generalized Hopfield fields and
couplings) off a factorized decoder (:mod:`fastmf.decode.readoff`), and the latent mean-field model of unknown data
(:mod:`fastmf.decode.latent_model`: exact at any N; fitted and read off a VAE by
:mod:`fastmf.decode.latent_fit`, its size chosen by :mod:`fastmf.decode.latent_select`; its capacity by
:mod:`fastmf.decode.latent_info`)."""
from .dispatch import DecodeResult, decode_model
from .latent_fit import fit_latent_model, latent_model_from_vae, readoff_latent_model
from .latent_select import select_n_atoms, select_n_directions, split_atoms
from .latent_info import bipartite_information, latent_information
from .latent_model import LatentMeanField
from .readoff import (
    CurieWeissReadoff,
    GenericReadoff,
    HopfieldReadoff,
    curie_weiss_readoff,
    field_samples,
    generic_readoff,
    hopfield_readoff,
    posterior_draws,
    significant_directions,
)

__all__ = ["CurieWeissReadoff", "GenericReadoff", "HopfieldReadoff", "curie_weiss_readoff", "field_samples",
           "generic_readoff", "hopfield_readoff", "posterior_draws", "significant_directions", "DecodeResult",
           "decode_model", "LatentMeanField", "fit_latent_model", "latent_model_from_vae", "readoff_latent_model",
           "select_n_atoms", "select_n_directions", "split_atoms", "bipartite_information", "latent_information"]
