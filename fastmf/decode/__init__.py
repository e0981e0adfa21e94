"""Decode: read mean-field parameters (Curie-Weiss couplings, Hopfield patterns, generalized Hopfield fields and
couplings) off a factorized decoder. See :mod:`fastmf.decode.readoff`."""
from .dispatch import DecodeResult, decode_model
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
           "decode_model"]
