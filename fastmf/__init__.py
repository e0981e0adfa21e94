"""fastmf: fast many-body spin simulation, lean VAEs and exact mean-field read-off.

The entry points a user needs are attributes of the package, imported on first use (PEP 562), so that
``import fastmf`` stays fast and loads neither Numba, SciPy nor the kernels::

    import fastmf
    samples = fastmf.simulate_lattice(fastmf.LatticeModel(L=16), 2.5, 1000, seed=0)
    vae = fastmf.VAE(latent_dim=1).fit(samples.spins)

The subpackages (``fastmf.models``, ``fastmf.sampling``, ``fastmf.exact``, ...) are attributes as well; see the
architecture page of the documentation for what each layer holds.
"""
import importlib

from ._version import __version__

#: public name -> module it lives in (imported on first access)
_ENTRY_POINTS = {
    # models (layer 2)
    **dict.fromkeys(["LatticeModel", "CurieWeiss", "Hopfield", "MeanFieldPotts", "MaierSaupe", "GraphSpinGlass",
                     "DrivenGlass"], "fastmf.models"),
    # sampling (layer 3)
    **dict.fromkeys(["LatticeSampler", "ChainState", "simulate_lattice", "simulate_meanfield"], "fastmf.sampling"),
    # files (layer 1) and spike data (layer 7)
    **dict.fromkeys(["SampleSet", "load_samples", "SpikeRaster"], "fastmf.io"),
    "load_spikes": "fastmf.neural",
    # exact results (layer 4)
    **dict.fromkeys(["enumerate_model", "PairwiseModel"], "fastmf.exact"),
    "capacity_report": "fastmf.exact.capacity",
    # the VAE (layer 5)
    **dict.fromkeys(["VAE", "load_vae"], "fastmf.vae"),
    # read-offs, effective models and validation (layer 6)
    **dict.fromkeys(["curie_weiss_readoff", "hopfield_readoff", "generic_readoff"], "fastmf.decode"),
    "maier_saupe_readoff": "fastmf.decode.nematic",
    "GeneralizedHopfield": "fastmf.decode.effective",
    "compare": "fastmf.decode.validate",
}

#: subpackages and application modules, attributes of the package once accessed
_SUBMODULES = ("kernels", "io", "stats", "backends", "models", "sampling", "exact", "vae", "decode", "neural",
               "experiments", "grid")

__all__ = ["__version__", *_ENTRY_POINTS, *_SUBMODULES]


def __getattr__(name):
    """Import an entry point or a subpackage on first access (PEP 562)."""
    if name in _ENTRY_POINTS:
        value = getattr(importlib.import_module(_ENTRY_POINTS[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value       # later accesses skip this function
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
