"""Figures of ``fastmf reproduce retina``: every model's statistics against the held-out data, P(K), the held-out
log-likelihoods, and the headline latent model (its fields, directions and latent density)."""
import numpy as np

from .report import pyplot

__all__ = ["figures"]

_MARKERS = "os^vDxP*<>"


def figures(rep, stats_d, stats, model, ll):
    """Write the four figures of the report (``rep``: a :class:`~fastmf.experiments.report.Report`)."""
    plt = pyplot()
    _statistics(rep, plt, stats_d, stats)
    _pk(rep, plt, stats_d, stats)
    _likelihoods(rep, plt, ll)
    _model(rep, plt, model)


def _statistics(rep, plt, stats_d, stats):
    panels = [("firing probability per bin", lambda s: (s.rates, s.rates_se)),
              ("correlation coefficient", lambda s: s.pairs("corr")),
              ("covariance", lambda s: s.pairs("cov")),
              ("connected triplet", lambda s: (s.triplets, s.triplets_se))]
    fig, axs = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4))
    for ax, (label, get) in zip(axs, panels):
        d, _ = get(stats_d)
        for k, (name, s) in enumerate(stats.items()):
            ax.plot(d, get(s)[0], _MARKERS[k % len(_MARKERS)], ms=3, alpha=0.6, label=name)
        lim = [np.nanmin(d), np.nanmax(d)]
        ax.plot(lim, lim, "k--", lw=1)
        ax.set_xlabel(f"{label} (held-out data)")
        ax.set_ylabel("model")
    axs[0].legend(fontsize=7)
    fig.tight_layout()
    rep.figure("retina_statistics", fig, "Every model against the held-out data: firing rates, correlation "
               "coefficients, covariances and connected triplets")


def _pk(rep, plt, stats_d, stats):
    fig, ax = plt.subplots(figsize=(6, 4.2))
    K = np.arange(stats_d.pk.size)
    ok = stats_d.pk_counts > 0
    ax.errorbar(K[ok], stats_d.pk[ok], yerr=stats_d.pk_se[ok], fmt="ko", ms=4, label="held-out data")
    for name, s in stats.items():
        m = s.pk > 0
        ax.plot(K[m], s.pk[m], "-", label=name)
    ax.set_yscale("log")
    ax.set_xlabel("K (neurons spiking in the same bin)")
    ax.set_ylabel("P(K)")
    ax.legend(fontsize=7)
    rep.figure("retina_pk", fig, "P(K), the probability of K simultaneous spikes (log scale; data error bars: "
               "batch means over 20 contiguous blocks)")


def _likelihoods(rep, plt, ll):
    names = list(ll)
    mean = np.array([ll[n]["mean"] for n in names])
    se = np.array([ll[n]["se"] for n in names])
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(names) + 1.2))
    y = np.arange(len(names))
    ax.barh(y, mean - mean.min() + 0.02 * (np.ptp(mean) + 1e-9), left=mean.min() - 0.02 * (np.ptp(mean) + 1e-9),
            xerr=se, color="0.7", ecolor="k")
    ax.set_yticks(y, names, fontsize=8)
    ax.set_xlabel("held-out log-likelihood per bin (nats)")
    fig.tight_layout()
    rep.figure("retina_likelihood", fig, "Held-out log-likelihood per bin of every model (error bars: batch means, "
               "plus the ln Z error of the maximum-entropy models; the VAE's is its IWAE bound)")


def _model(rep, plt, model):
    c = model.canonical()
    fig, axs = plt.subplots(1, 3, figsize=(14, 3.6))
    axs[0].bar(np.arange(c.N), c.fields)
    axs[0].set_title("mean fields (h + Xi^T E[z])")
    for k in range(min(2, c.P)):
        axs[1].bar(np.arange(c.N) + 0.4 * k, c.directions[k], width=0.4, label=f"direction {k + 1}")
    axs[1].set_title("latent directions (orthonormal)")
    axs[1].legend(fontsize=7)
    for ax in axs[:2]:
        ax.set_xlabel("neuron")
    z = c.atoms[:, :2] if c.P >= 2 else np.column_stack([c.atoms[:, 0], np.zeros(c.n_atoms)])
    axs[2].scatter(z[:, 0], z[:, 1], s=2000 * c.weights, alpha=0.6)
    axs[2].set_xlabel("z_1")
    axs[2].set_ylabel("z_2" if c.P >= 2 else "")
    axs[2].set_title(f"latent density: {c.n_atoms} atoms (area ~ weight)")
    fig.tight_layout()
    rep.figure("retina_model", fig, f"The headline latent mean-field model (P = {model.P}) in canonical coordinates: "
               "mean fields, the first two directions and the latent atoms")
