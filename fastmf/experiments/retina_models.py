"""The models of ``fastmf reproduce retina``, fitted on the training bins, and their held-out log-likelihoods.

Every model is fitted on the same training part of the raster (the sampled maximum-entropy learners, N > 16, on a
stated random subsample of it): the VAE, the latent mean-field models read off its decoder and refined by exact
maximum likelihood (the number of directions chosen on a validation part of the training blocks), the generalized
Hopfield model (the quadratic case), the pairwise and K-pairwise maximum-entropy models and the independent model.
"""
import math

import numpy as np

from ..decode import readoff
from ..decode.effective import GeneralizedHopfield, fit_generalized_hopfield
from ..decode.latent_fit import fit_latent_model
from ..decode.latent_select import select_n_atoms, select_n_directions
from ..decode.latent_model import LatentMeanField
from ..neural.kpairwise import KPairwiseMaxEnt, fit_kpairwise_maxent
from ..neural.log_partition import held_out_log_likelihood
from ..neural.maxent import fit_pairwise_maxent
from ..stats import batch_means, mixture_statistics, table_statistics
from ..vae import VAE

__all__ = ["EPOCH_BINS", "EXACT_SAMPLE_N", "VALIDATION_FRACTION", "as_latent", "exact_statistics",
           "fit_latent_models", "fit_maxent_models", "generalized_hopfield", "held_out_log_likelihoods",
           "independent_log_prob", "has_exact_statistics", "maxent_samples", "subsample", "train_vae"]

#: the VAE's epochs are for up to this many training bins; longer data get proportionally fewer (at least 2)
EPOCH_BINS = 100_000
#: share of the training blocks held back to choose the number of latent directions (then refitted on all)
VALIDATION_FRACTION = 0.125
#: contiguous batches of the held-out bins behind every log-likelihood error bar
N_BATCHES = 20


def subsample(X, n_max, seed):
    """At most ``n_max`` rows of X drawn without replacement (kept in time order), keyed by ``seed``."""
    if len(X) <= n_max:
        return X
    return X[np.sort(np.random.default_rng(seed).choice(len(X), int(n_max), replace=False))]


def train_vae(X, cfg, seed, progress):
    """The VAE (latent dimension ``cfg.max_directions``, the largest number of read-off directions)."""
    epochs = max(2, round(cfg.epochs * min(1.0, EPOCH_BINS / X.shape[0])))
    vae = VAE(latent_dim=cfg.max_directions, hidden=cfg.hidden, epochs=epochs, dtype="float32", seed=seed,
              progress=progress).fit(X)
    return vae, epochs


def fit_latent_models(fit_part, valid, X, vae, cfg, seed):
    """Choose the number of directions on the validation part ``valid`` of the training blocks (fitting on
    ``fit_part``), then the number of atoms of the chosen and of the two-direction model (doubling from
    ``cfg.n_atoms`` up to ``cfg.max_atoms``), then refit both on every training bin X (started from the
    validation-stage fits).

    Returns
    -------
    selection : dict
        :func:`fastmf.decode.latent_select.select_n_directions`'s result (every P, its validation
        log-likelihood), with ``atoms``: ``{P: select_n_atoms's result}`` for the refitted P.
    models : dict
        ``{P: (LatentMeanField, info)}`` for the chosen P and P = 2.
    """
    fit_x = subsample(fit_part.to_spins(), cfg.select_bins, seed)
    xv = valid.to_spins()
    sel = select_n_directions(fit_x, xv, max_directions=cfg.max_directions, vae=vae, n_atoms=cfg.n_atoms, seed=seed)
    sel["atoms"], models = {}, {}
    for P in sorted({sel["chosen"], 2}):
        sel["atoms"][P] = select_n_atoms(fit_x, xv, sel["fits"][P][0], max_atoms=cfg.max_atoms, seed=seed)
        start = sel["atoms"][P]["fits"][sel["atoms"][P]["chosen"]][0]
        models[P] = fit_latent_model(X, start=start, seed=seed)
    return sel, models


def generalized_hopfield(vae, X, seed):
    """The quadratic case: the read-off's two directions, fields and scale by maximum likelihood."""
    ro = readoff.generic_readoff(vae, n_patterns=2, seed=seed)
    decoded = GeneralizedHopfield.from_readoff(ro)
    gh, info = fit_generalized_hopfield(X, ro.patterns, decoded.fields, decoded.patterns)
    iu = np.triu_indices(gh.N, 1)
    info["decoder_coupling_scale"] = float(np.sum(decoded.couplings()[iu] * gh.couplings()[iu]) /
                                           np.sum(gh.couplings()[iu] ** 2))
    info["n_significant"] = ro.n_significant
    info["singular_values"] = ro.singular_values[:6]
    return gh, info


def fit_maxent_models(X, cfg, seed, progress):
    """Pairwise and K-pairwise maximum-entropy models on the training bins: all of them for the exact fits
    (N <= 16), a random subsample of ``cfg.maxent_bins`` for the sampled ones, whose convergence criterion asks
    for a model sample as precise as the data (its cost grows with the number of bins). Above N = 16 the pairwise
    model is learned by reweighted maximum likelihood on parallel-tempering ladders (Boltzmann learning
    oscillates on the bistable fits of retinal data), for at most ``cfg.maxent_steps`` steps each, its sample per
    ladder bounded by ``cfg.maxent_keep`` configurations; the K-pairwise model, from the pairwise fit, by the same
    learner on tempering ladders with the count potential, ``cfg.kpairwise_sweeps / 10`` configurations per ladder
    and step at most (the cost of a step; Boltzmann steps random-walk on a noisy sample: ``docs/neural.rst``)."""
    exact = X.shape[1] <= 16
    Xs = X if exact else subsample(X, cfg.maxent_bins, seed + 2)
    sampled = {} if exact else dict(max_iter=cfg.maxent_steps, learner="reweighted", sampler="tempering",
                                    max_sweeps_per_iter=cfg.maxent_keep)
    pairwise, pw_info = fit_pairwise_maxent(Xs, seed=seed, progress=progress, **sampled)
    kpw, kp_info = fit_kpairwise_maxent(Xs, seed=seed, start=pairwise, progress=progress,
                                        **({} if exact else dict(max_iter=cfg.maxent_steps, learner="reweighted",
                                                                 max_sweeps_per_iter=cfg.kpairwise_sweeps)))
    pw_info["n_bins_fitted"] = kp_info["n_bins_fitted"] = len(Xs)
    return (pairwise, pw_info), (kpw, kp_info)


def independent_log_prob(rates, X):
    """``ln P(s)`` per bin of the independent model with spike probabilities ``rates`` (clipped to keep silent
    neurons finite)."""
    p = np.clip(np.asarray(rates, np.float64), 1e-6, 1 - 1e-6)
    return np.where(X > 0, np.log(p), np.log1p(-p)).sum(axis=1)


def _row(values, **extra):
    mean, se = batch_means(values, min(N_BATCHES, len(values)))
    return dict(mean=mean, se=se, **extra)


def held_out_log_likelihoods(Xh, latent, gh, rates, vae, maxent, cfg, seed, progress):
    """Held-out log-likelihood per bin (nats) of every model, with batch-means standard errors.

    Exact for the latent models, the generalized Hopfield model (grid log Z) and the independent model; the
    VAE's is its IWAE bound with ``cfg.iwae_k`` draws on a random subsample of ``cfg.iwae_bins`` held-out bins
    (the latent models are evaluated on the same bins for a paired difference); the maximum-entropy models'
    through an annealed-importance-sampling estimate of ln Z whose error is added to the batch-means error.
    """
    rows = np.sort(np.random.default_rng([seed, 7]).choice(len(Xh), min(len(Xh), cfg.iwae_bins), replace=False))
    exact = {name: m.log_prob(Xh) for name, m in latent.items()}
    exact["generalized Hopfield"] = gh.log_prob(Xh)
    exact["independent"] = independent_log_prob(rates, Xh)
    out = {name: _row(v, method="exact (grid ln Z)" if name == "generalized Hopfield" else "exact",
                      on_vae_bins=float(np.mean(v[rows]))) for name, v in exact.items()}
    iwae = vae.iwae(Xh[rows].astype(np.int8), k=cfg.iwae_k, seed=seed)
    out["VAE"] = _row(iwae, method=f"IWAE bound, k = {cfg.iwae_k}, on {len(rows)} random held-out bins")
    for name in latent:
        out[name]["minus_vae"] = _row(exact[name][rows] - iwae, method="paired, the VAE's bins")
    for name, model in maxent.items():
        r = held_out_log_likelihood(model, Xh, n_batches=N_BATCHES, seed=seed, progress=progress)
        out[name] = dict(mean=r["mean_log_likelihood"], se=r["stderr"], log_z=r["log_z"], log_z_se=r["log_z_stderr"],
                         method="exact ln Z" if r["log_z_method"] == "exact" else
                         f"AIS estimate of ln Z ({r['log_z']:.3f} +- {r['log_z_stderr']:.3f})")
    for r in out.values():
        r["bits_per_bin"] = r["mean"] / math.log(2.0)
    return out


#: largest N whose maximum-entropy models are sampled exactly from their enumerated table (else by MCMC)
EXACT_SAMPLE_N = 16


def maxent_samples(model, n, seed, progress, starts):
    """Samples of a pairwise or K-pairwise model, spike = True: i.i.d. from the exact table for N <= 16; above,
    the same heat-bath chains for both (:meth:`KPairwiseMaxEnt.sample`, the pairwise model as V = 0): 64 chains
    started on training bins ``starts`` (+-1, drawn with the seed, so in the data's basin: a bistable fit started
    silent or at random stays in the wrong state), 2000 sweeps of burn-in, then every 20th sweep. A fitted model
    that has not converged can be bistable, with autocorrelation times that made automatic thinning (or parallel
    tempering) run for hours at N = 160; the batch-means errors of the statistics still see the correlation that
    is left."""
    if model.N > EXACT_SAMPLE_N:
        chains = model if isinstance(model, KPairwiseMaxEnt) else KPairwiseMaxEnt(model.h, model.J,
                                                                                 np.zeros(model.N + 1))
        init = starts[np.random.default_rng([seed, 13]).choice(len(starts), size=min(64, n))]
        return chains.sample(n, seed=seed, burn_in=2000, thin=20, init=init, progress=progress) > 0
    lp = model.exact_log_probs()
    states = np.random.default_rng([seed, 11]).choice(lp.size, size=n, p=np.exp(lp - np.logaddexp.reduce(lp)))
    return (states[:, None] >> np.arange(model.N)) & 1 == 1     # bit i set: neuron i spikes


def has_exact_statistics(model):
    """Whether :func:`exact_statistics` computes this model's statistics (else they come from its samples)."""
    return isinstance(model, (LatentMeanField, np.ndarray)) or model.N <= EXACT_SAMPLE_N


def exact_statistics(model, triples, seed):
    """Exact population statistics (zero errors) of a latent mean-field model (a finite mixture), the independent
    model (its spike probabilities, an array) or a maximum-entropy model of N <= 16 (its enumerated table)."""
    if isinstance(model, LatentMeanField):
        return model.statistics(triples=triples, seed=seed)
    if isinstance(model, np.ndarray):
        return mixture_statistics([1.0], model[None, :], triples=triples, seed=seed)
    lp = model.exact_log_probs()
    return table_statistics(np.exp(lp - np.logaddexp.reduce(lp)), triples=triples, seed=seed)


def as_latent(gh):
    """A generalized Hopfield model as a (grid) latent mean-field model, for exact sampling."""
    return LatentMeanField.from_generalized_hopfield(gh)
