"""``fastmf reproduce``: the paper's experiments end to end (simulate -> train -> capacity -> decode -> validate),
each writing ``report.md``, ``summary.json`` and PNG figures into one directory.

Available: ``capacity`` (rate against bipartite MI as beta varies), ``hopfield`` (the full pattern matrix read off
a trained VAE), ``curie-weiss`` (beta J and beta h read off across T_c), ``maier-saupe`` (nematic order and beta J
across the isotropic-nematic transition, discrete axes), ``potts-multinomial`` (q = 3 phases, categorical decoder),
``ising-phases`` (beta-VAE study of FM, AFM and PM lattice data, and the beta^2-VAE), ``ising-critical`` (the
negative control across T_c), ``vae-kl`` (KL(p_exact || p_VAE) of the whole configuration at N <= 16), ``retina`` (a generalized Hopfield model of a neural population, from data) and
``driven-glass`` (absorbed work and beta-VAE bottleneck measures of a spin glass driven by switching fields).
"""
import importlib

__all__ = ["EXPERIMENTS", "run_experiment"]

#: name -> module with ``run(out, quick=False, seed=0, printer=print) -> Report``
EXPERIMENTS = {"capacity": "capacity", "hopfield": "hopfield", "curie-weiss": "curie_weiss", "maier-saupe": "maier_saupe",
               "potts-multinomial": "potts_multinomial", "ising-phases": "ising_phases",
               "ising-critical": "ising_critical", "vae-kl": "vae_kl", "retina": "retina",
               "driven-glass": "driven_glass"}
#: experiments that take options beyond quick/seed (name -> accepted keywords)
OPTIONS = {"retina": ("data", "variable", "salamander160", "progress", "maxent"),
           "driven-glass": ("graph", "n_spins", "temperature", "h0", "tau", "n_fields", "n_chains", "n_train",
                            "k_values", "beta", "latent_dim")}


def run_experiment(name, out, quick=False, seed=0, printer=print, **options):
    """Run experiment ``name`` into directory ``out``; returns its :class:`~fastmf.experiments.report.Report`.
    ``options`` (e.g. ``data=`` for ``retina``) go to experiments that accept them (:data:`OPTIONS`)."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; available: {', '.join(EXPERIMENTS)}")
    unknown = sorted(set(options) - set(OPTIONS.get(name, ())))
    if unknown:
        raise ValueError(f"experiment {name!r} does not take {', '.join(unknown)}")
    module = importlib.import_module(f".{EXPERIMENTS[name]}", __name__)
    return module.run(out, quick=quick, seed=seed, printer=printer, **options)
