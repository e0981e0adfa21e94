"""``fastmf reproduce hopfield``: the full Hopfield pattern matrix read off a trained VAE, and generated samples
that reproduce the data.

Equilibrium samples of a Hopfield model with P random patterns below the retrieval transition (the exact latent
sampler, so every basin and both signs appear) train a VAE with P latent dimensions and the default settings of
``fastmf train`` (a learned mixture prior and the mean-field Bernoulli decoder, docs/priors.rst). Its decoder fields live in the
P-dimensional span of the patterns (docs/theory.rst), so the read-off (``fastmf.decode.readoff.hopfield_readoff``)
recovers the patterns up to order and sign. The generated samples are compared with a fresh, independent
equilibrium set of the same size: the energy Kolmogorov-Smirnov statistic, the total variation of the basin
weights (nearest pattern and sign) and the RMS difference of the pairwise correlations C_ij, each next to its
floor, the same statistic between the training set and the fresh set. Targets (issue 17): every overlap
``|xi_hat . xi| / N >= 0.95``, >= 99 % of the entries recovered, energy KS <= 0.03, basin TV <= 0.03, C_ij RMS
difference <= 2x the floor.
"""
import time

import numpy as np

from ..decode import readoff
from ..models.meanfield import Hopfield
from ..sampling.meanfield import simulate_meanfield
from ..stats.two_sample import basin_weights, compare_two_samples, ks_statistic, total_variation
from ..vae import TRAIN_DEFAULTS, VAE
from .report import Report, pyplot

__all__ = ["run", "SETTINGS", "generated_sample_checks"]

#: (N, P, T, n_samples) of the full and quick runs (training, generated and fresh sets of n_samples each); the
#: VAE uses fastmf train's defaults. T_R ~ 1 for P << N.
SETTINGS = {False: (200, 4, 0.5, 20000), True: (100, 3, 0.5, 20000)}


def _pair_correlations(s):
    s = np.asarray(s, np.float64)
    x = s - s.mean(axis=0)
    c = x.T @ x / len(s)
    return c[np.triu_indices(s.shape[1], 1)]


def generated_sample_checks(model, train, fresh, generated):
    """The generated-sample statistics of issue 17 against a fresh equilibrium set, each with its floor (the
    training set against the fresh set).

    Returns
    -------
    dict
        ``energy_ks``, ``basin_tv``, ``corr_rms`` and their ``*_floor`` values, and ``corr_ratio``.
    """
    e_fresh = model.energy(fresh)
    c_fresh = _pair_correlations(fresh)
    w_fresh = basin_weights(fresh, model.patterns)
    out = {}
    for key, s in (("", generated), ("_floor", train)):
        out["energy_ks" + key] = ks_statistic(model.energy(s), e_fresh)
        out["basin_tv" + key] = total_variation(basin_weights(s, model.patterns), w_fresh)
        out["corr_rms" + key] = float(np.sqrt(np.mean((_pair_correlations(s) - c_fresh) ** 2)))
    out["corr_ratio"] = out["corr_rms"] / out["corr_rms_floor"]
    return out


def run(out, quick=False, seed=0, printer=print):
    N, P, T, n_samples = SETTINGS[bool(quick)]
    rep = Report(out, f"Hopfield: the pattern matrix read off a VAE (N = {N}, P = {P}, T = {T})")
    rep.text(__doc__.split("\n\n", 1)[1].strip())
    t0 = time.perf_counter()
    model = Hopfield.random(N, P, seed=seed)
    samples = simulate_meanfield(model, T, n_samples, seed=seed + 1, progress=False)
    fresh = simulate_meanfield(model, T, n_samples, seed=seed + 3, progress=False).spins
    t1 = time.perf_counter()
    vae = VAE(latent_dim=P, dtype="float32", seed=seed, progress=False, **TRAIN_DEFAULTS).fit(samples.spins)
    t2 = time.perf_counter()
    found = readoff.hopfield_readoff(vae, P, seed=seed, true_patterns=model.patterns)
    generated = vae.sample(n_samples, seed=seed + 2)
    g = generated_sample_checks(model, samples.spins, fresh, generated)
    val = compare_two_samples(fresh, generated, energy_a=model.energy(fresh), energy_b=model.energy(generated),
                              patterns=model.patterns, n_splits=4, seed=seed)
    t3 = time.perf_counter()
    overlaps = np.asarray(found.overlaps, dtype=float)
    fraction = float(found.fraction_recovered)
    last = vae.history_[-1]
    rep.table(["quantity", "value"], [
        ("sites N, patterns P, temperature T", f"{N}, {P}, {T}"),
        ("samples (exact latent sampler)", f"{n_samples} training, {n_samples} fresh "
                                           f"({samples.metadata.get('sampler')}), {n_samples} generated"),
        ("VAE", f"latent {P}, encoder hidden {vae.hidden}, decoder hidden {vae.decoder_hidden or 'none (mean-field)'}, "
                f"{vae.epochs} epochs, {vae.prior} prior ({vae.n_components} "
                f"components), final rate {last['rate']:.3f} +- {last.get('rate_se', 0):.3f}, "
                f"distortion {last['distortion']:.3f}"),
        ("pattern overlaps |xi_hat . xi| / N", ", ".join(f"{o:.3f}" for o in overlaps)),
        ("entries recovered", f"{100 * fraction:.2f} %"),
        ("time: simulate / train / decode + validate", f"{t1 - t0:.1f} s / {t2 - t1:.1f} s / {t3 - t2:.1f} s"),
    ])
    rep.check("every pattern recovered", bool(overlaps.min() >= 0.95), "every overlap >= 0.95",
              f"smallest overlap {overlaps.min():.3f}")
    rep.check("entries recovered", fraction >= 0.99, ">= 99 % of the P x N entries", f"{100 * fraction:.2f} %")
    rep.check("generated energies", g["energy_ks"] <= 0.03, "Kolmogorov-Smirnov statistic against a fresh "
              "equilibrium set <= 0.03", f"{g['energy_ks']:.4f} (floor, training vs fresh: {g['energy_ks_floor']:.4f})")
    rep.check("generated basin weights", g["basin_tv"] <= 0.03, "total variation of the weights of the 2P basins "
              "(nearest pattern and sign) <= 0.03", f"{g['basin_tv']:.4f} (floor {g['basin_tv_floor']:.4f})")
    rep.check("generated pair correlations", g["corr_ratio"] <= 2, "RMS difference of C_ij <= 2x the floor",
              f"{g['corr_rms']:.4f} = {g['corr_ratio']:.2f}x the floor {g['corr_rms_floor']:.4f}")
    rep.text("Generated samples against the fresh equilibrium set, each statistic against the floor of two halves "
             "of the fresh set (fastmf compare):", "", "```", val.table(), "```")
    plt = pyplot()
    fig, axes = plt.subplots(2, 1, figsize=(8, 3.2), sharex=True)
    axes[0].imshow(model.patterns, aspect="auto", cmap="gray", interpolation="nearest")
    axes[0].set_ylabel("true")
    matched = np.zeros_like(model.patterns)
    for k, (m, sign) in enumerate(zip(found.match, found.signs)):  # patterns[k] ~ sign * true[match[k]]
        matched[m] = sign * found.patterns[k]
    axes[1].imshow(matched, aspect="auto", cmap="gray", interpolation="nearest")
    axes[1].set_ylabel("read off")
    axes[1].set_xlabel("site")
    rep.figure("hopfield_patterns", fig, "True patterns (top) and the patterns read off the decoder, matched in "
               "order and sign (bottom)")
    fig, ax = plt.subplots(figsize=(6, 3.5))
    epochs_axis = [h["epoch"] for h in vae.history_]
    ax.plot(epochs_axis, [h["rate"] for h in vae.history_], label="rate")
    ax.plot(epochs_axis, [h["distortion"] for h in vae.history_], label="distortion")
    ax.set_xlabel("epoch")
    ax.set_ylabel("nats per sample")
    ax.legend()
    rep.figure("hopfield_training", fig, "Rate and distortion during training")
    fig, ax = plt.subplots(figsize=(6, 3.5))
    edges = np.histogram_bin_edges(np.concatenate([model.energy(fresh), model.energy(generated)]), bins=40)
    hists = {}
    for s, label in ((fresh, "fresh equilibrium samples"), (generated, "VAE samples")):
        hists[label] = ax.hist(model.energy(s), bins=edges, histtype="step", label=label)[0] / len(s)
    ax.set_xlabel("energy")
    ax.legend()
    rep.figure("hopfield_energy", fig, f"Energy histograms of fresh equilibrium samples and of the VAE's samples "
               f"(KS = {g['energy_ks']:.3f})")
    printer(f"hopfield N={N} P={P} T={T}: overlaps {', '.join(f'{o:.3f}' for o in overlaps)}, "
            f"{100 * fraction:.2f} % of entries recovered")
    rep.write(N=N, P=P, T=T, overlaps=overlaps, fraction_recovered=fraction, generated=g, validation=val.to_dict(),
              energy_histogram={"edges": edges, "fresh": hists["fresh equilibrium samples"],
                                "vae": hists["VAE samples"]})
    return rep
