"""``fastmf reproduce hopfield``: the full Hopfield pattern matrix read off a trained VAE.

Equilibrium samples of a Hopfield model with P random patterns below the retrieval transition (the exact latent
sampler, so every basin and both signs appear) train a VAE with P latent dimensions and a Bernoulli decoder.
Its decoder fields live in the P-dimensional span of the patterns (docs/theory.rst), so the read-off
(``fastmf.decode.readoff.hopfield_readoff``) recovers the patterns up to order and sign. Expected (the issue's
targets): every pattern overlap ``|xi_hat . xi| / N >= 0.95`` and >= 99 % of the entries recovered; the generated
samples reproduce the data's means, correlations and energy histogram (``fastmf.stats.compare``).
"""
import time

import numpy as np

from ..decode import readoff
from ..models.meanfield import Hopfield
from ..sampling.meanfield import simulate_meanfield
from ..stats import compare_samples
from ..vae import VAE
from .report import Report, pyplot

__all__ = ["run", "SETTINGS"]

#: (N, P, T, n_samples, epochs, hidden) of the full and quick runs; T_R ~ 1 for P << N.
SETTINGS = {False: (200, 4, 0.5, 40000, 40, (128,)), True: (100, 3, 0.5, 12000, 25, (64,))}


def run(out, quick=False, seed=0, printer=print):
    N, P, T, n_samples, epochs, hidden = SETTINGS[bool(quick)]
    rep = Report(out, f"Hopfield: the pattern matrix read off a VAE (N = {N}, P = {P}, T = {T})")
    rep.text(__doc__.split("\n\n", 1)[1].strip())
    t0 = time.perf_counter()
    model = Hopfield.random(N, P, seed=seed)
    samples = simulate_meanfield(model, T, n_samples, seed=seed + 1, progress=False)
    t1 = time.perf_counter()
    vae = VAE(latent_dim=P, hidden=hidden, epochs=epochs, lr=3e-3, dtype="float32", seed=seed,
              progress=False).fit(samples.spins)
    t2 = time.perf_counter()
    found = readoff.hopfield_readoff(vae, P, seed=seed, true_patterns=model.patterns)
    generated = vae.sample(n_samples, seed=seed + 2)
    val = compare_samples(samples.spins, generated, energy=model.energy, seed=seed)
    t3 = time.perf_counter()
    overlaps = np.asarray(found.overlaps, dtype=float)
    fraction = float(found.fraction_recovered)
    rep.table(["quantity", "value"], [
        ("sites N, patterns P, temperature T", f"{N}, {P}, {T}"),
        ("samples (exact latent sampler)", f"{n_samples} ({samples.metadata.get('sampler')})"),
        ("VAE", f"latent {P}, hidden {hidden}, {epochs} epochs, final rate {vae.history_[-1]['rate']:.3f}, "
                f"distortion {vae.history_[-1]['distortion']:.3f}"),
        ("pattern overlaps |xi_hat . xi| / N", ", ".join(f"{o:.3f}" for o in overlaps)),
        ("entries recovered", f"{100 * fraction:.2f} %"),
        ("time: simulate / train / decode + validate", f"{t1 - t0:.1f} s / {t2 - t1:.1f} s / {t3 - t2:.1f} s"),
    ])
    rep.check("every pattern recovered", bool(overlaps.min() >= 0.95), "every overlap >= 0.95",
              f"smallest overlap {overlaps.min():.3f}")
    rep.check("entries recovered", fraction >= 0.99, ">= 99 % of the P x N entries", f"{100 * fraction:.2f} %")
    rep.check("correlation structure of generated samples", bool(val.corr.pearson > 0.95),
              "Pearson correlation > 0.95 between the data's and the generated pairwise correlations C_ij",
              f"{val.corr.pearson:.4f} (rms difference {val.corr.rms_diff:.3f})")
    e = val.energy
    rep.text(f"Generated samples: mean energy {e.model_mean:.2f} against the data's {e.data_mean:.2f} "
             f"(KS = {e.ks:.3f}). A gap here means the decoder's fields are weaker than the model's: the patterns "
             "(the directions) are right, their scale (the temperature) is underfitted by this small VAE; the "
             "read-off does not depend on it.")
    rep.text("Validation of the generated samples against the data:", "", "```", val.table(), "```")
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
    centers = 0.5 * (e.edges[1:] + e.edges[:-1])
    ax.step(centers, e.data_hist, where="mid", label="data")
    ax.step(centers, e.model_hist, where="mid", label="VAE samples")
    ax.set_xlabel("energy")
    ax.legend()
    rep.figure("hopfield_energy", fig, "Energy histograms of the data and of the VAE's samples")
    printer(f"hopfield N={N} P={P} T={T}: overlaps {', '.join(f'{o:.3f}' for o in overlaps)}, "
            f"{100 * fraction:.2f} % of entries recovered")
    rep.write(N=N, P=P, T=T, overlaps=overlaps, fraction_recovered=fraction, validation=val.to_dict())
    return rep
