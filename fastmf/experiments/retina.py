"""``fastmf reproduce retina``: a two-latent VAE of a neural population, and the generalized Hopfield model read
off its decoder, against held-out data and two baselines.

Data: a binary raster (``--data FILE``, any format of :func:`fastmf.neural.load_spikes`; by default
``../shared/data/spikes15.mat`` when present), or ``--salamander160``: samples of the N = 160 pairwise model of
salamander retina in ``../shared/data`` (a realistic generator, not a recording). The raster is split by
contiguous time blocks into training and held-out parts (so autocorrelated neighbours of a held-out bin are not
trained on). A VAE with two latents and a Bernoulli decoder is trained on the training part; its rate and, for
N <= 20, the exact capacity report are given. The read-off (``fastmf.decode.readoff.generic_readoff`` with two
patterns) gives per-site fields and two real pattern directions; the generalized Hopfield model
``P(s) ~ exp(sum_i h_i s_i + (1/2N) sum_mu (xi^mu . s)^2)`` (spins s = +-1, spike = +1) with patterns in their
span gets its fields and scale by exact maximum likelihood on the training data
(``fastmf.decode.effective.fit_generalized_hopfield``: the decoder fixes the directions better than the scale), and is sampled
(parallel tempering) and compared with the held-out data, as are the VAE's own samples, a pairwise maximum-entropy
(Ising) model fitted to the same training data (at most 20 000 random bins of it: Boltzmann learning matches
moments to the data's precision, which at 10^6 bins would take ~10^6 model samples per step) and the independent
model (the training firing rates). Long recordings train the VAE for fewer epochs (the epochs are for 10^5 bins),
so the number of gradient steps stays about the same. On a terminal every stage shows a progress bar.
Statistics (spike units, :mod:`fastmf.stats.population`): firing rates, covariances and correlation coefficients,
connected triplets, and P(K), the probability of K simultaneous spikes; the data's error bars are batch means over
contiguous batches (they include autocorrelation). The training data themselves, compared with the held-out
data the same way, show how well any model fitted to them can do. For N <= 16 the whole generalized Hopfield
family is also fitted exactly (every pattern component free, 2^N states enumerated) from the span fit: the
likelihood it gains measures what the decoder's directions miss, and its own comparison with the held-out data
shows which misses belong to the model class rather than to the read-off.

Targets (reported as checks, the same for every data file): the generalized Hopfield model reproduces the firing
rates with correlation >= 0.99; the pairwise correlation coefficients with correlation >= 0.8 and a smaller RMS
error than the independent model; P(K) within 3 standard errors (data and model combined) at every K where the
data have at least 20 bins (2 standard errors is reported too: with ~10 values of K one beyond 2 SE is expected by
chance about a third of the time); for N <= 16, the decoder's span loses at most 5 % of the model's
log-likelihood gain over the independent model.
"""
import pathlib
import time

import numpy as np

from ..decode import readoff
from ..decode.effective import (MAX_EXACT_FIT_N, GeneralizedHopfield, fit_generalized_hopfield,
                                fit_generalized_hopfield_exact)
from ..neural import SpikeRaster, load_spikes
from ..stats import compare_statistics, population_statistics
from ..vae import VAE
from .report import Report, pyplot

__all__ = ["SETTINGS", "default_data_dir", "run"]

#: (VAE epochs, hidden, model samples, triples, salamander bins, pairwise learning steps for N > 16) of the full
#: and quick runs. The epochs are for up to 10^5 training bins; longer data get proportionally fewer (at least 2),
#: so the number of gradient steps stays about the same.
SETTINGS = {False: (60, (64,), 100_000, 2000, 200_000, 1000), True: (15, (32,), 20_000, 500, 20_000, 100)}
_EPOCH_BINS = 100_000
#: the pairwise baseline is fitted on at most this many (random) training bins
PAIRWISE_MAX_BINS = 20_000
#: targets of the generalized Hopfield model (see the module docstring)
TARGET_RATES, TARGET_CORR, TARGET_PK_Z, MIN_COUNT = 0.99, 0.8, 3.0, 20
#: largest share of the model's likelihood gain over the independent model that the read-off span may lose
TARGET_SPAN_LOSS = 0.05


def default_data_dir():
    """``shared/data`` beside the repository (or beside the working directory); None when absent."""
    for base in (pathlib.Path(__file__).resolve().parents[2].parent, pathlib.Path.cwd().parent):
        path = base / "shared" / "data"
        if path.is_dir():
            return path
    return None


def _load(data, variable, salamander160, n_bins, seed, printer):
    """The raster and a description of where it came from."""
    if salamander160:
        if data is not None:
            raise ValueError("give either --data or --salamander160, not both")
        from ..neural.maxent import PairwiseMaxEnt
        d = default_data_dir()
        if d is None or not (d / "salamander160_h.npy").is_file():
            raise FileNotFoundError("--salamander160 needs ../shared/data/salamander160_{h,J}.npy beside the "
                                    "repository")
        model = PairwiseMaxEnt(np.load(d / "salamander160_h.npy"), np.load(d / "salamander160_J.npy"))
        printer(f"sampling {n_bins} configurations of the N = 160 pairwise model ...")
        spins = model.sample(n_bins, seed=seed + 17)
        return SpikeRaster.from_binary(spins, encoding="pm1", source="salamander160 pairwise model"), \
            f"{n_bins} samples of the salamander160 pairwise model (../shared/data)"
    if data is None:
        d = default_data_dir()
        if d is None or not (d / "spikes15.mat").is_file():
            raise FileNotFoundError("no data: pass --data FILE or --salamander160 (../shared/data/spikes15.mat "
                                    "not found)")
        data = d / "spikes15.mat"
    raster = load_spikes(data, variable=variable)
    return raster, f"{data} ({raster.n_bins} bins x {raster.n_neurons} neurons, read as {raster.orientation})"


#: fewest neurons: the read-off takes two pattern directions, and connected triplets need three neurons
MIN_NEURONS = 3
#: the statistics' error bars are batch means over this many batches (of the training and held-out parts)
N_BATCHES = 20


def _check_raster(raster, described, seed):
    """Refuse, before training, a raster the experiment cannot analyse; returns the ``(train, held)`` split."""
    if raster.n_neurons < MIN_NEURONS:
        raise ValueError(f"reproduce retina needs at least {MIN_NEURONS} neurons (the read-off takes two pattern "
                         f"directions; connected triplets need three), got {raster.n_neurons} in {described}")
    parts = raster.split(held_out_fraction=0.2, n_blocks=10, seed=seed) if raster.n_bins >= 10 else None
    if parts is None or min(p.n_bins for p in parts) < N_BATCHES:
        got = (f"{parts[0].n_bins} training and {parts[1].n_bins} held-out bins" if parts is not None else
               f"{raster.n_bins} bins")
        raise ValueError(f"reproduce retina needs at least {N_BATCHES} bins in both the training and the held-out "
                         f"part (error bars over {N_BATCHES} batches; 10 time blocks, 2 held out), got {got} in "
                         f"{described}: use a raster of at least {10 * N_BATCHES // 2} bins")
    return parts


def _independent(rates, n, seed):
    return (np.random.default_rng(seed).random((n, rates.size)) < rates).astype(np.uint8)


def run(out, quick=False, seed=0, printer=print, data=None, variable=None, salamander160=False, progress=False):
    epochs, hidden, n_model, n_triples, n_salamander, pairwise_steps = SETTINGS[bool(quick)]
    t0 = time.perf_counter()
    raster, described = _load(data, variable, salamander160, n_salamander, seed, printer)
    train, held = _check_raster(raster, described, seed)  # before anything is written or trained
    rep = Report(out, f"Retina: a generalized Hopfield model read off a two-latent VAE (N = {raster.n_neurons})")
    rep.text(__doc__.split("\n\n", 1)[1].strip())
    diag = raster.diagnostics()
    rep.text(f"Data: {described}. Mean firing probability per bin {diag['mean_rate']:.4f} (range "
             f"{diag['min_rate']:.4f} to {diag['max_rate']:.4f}); silent neurons {diag['silent_neurons']}, "
             f"always-on neurons {diag['always_on_neurons']}. Split by 10 contiguous time blocks: {train.n_bins} "
             f"training bins, {held.n_bins} held-out bins (blocks {held.notes['blocks']}).")
    X = train.to_spins()
    epochs = max(2, round(epochs * min(1.0, _EPOCH_BINS / X.shape[0])))
    printer(f"retina: training a 2-latent VAE on {X.shape[0]} bins x {X.shape[1]} neurons ({epochs} epochs)")
    vae = VAE(latent_dim=2, hidden=hidden, epochs=epochs, lr=3e-3, dtype="float32", seed=seed,
              progress=progress).fit(X)
    t_train = time.perf_counter()
    Xh = held.to_spins()
    rate_held = float(np.mean(vae.rate(Xh)))
    capacity = {"rate_train": float(vae.history_[-1]["rate"]), "rate_held_out": rate_held,
                "elbo_held_out": float(np.mean(vae.elbo(Xh)))}
    cap = None
    if raster.n_neurons <= 20:
        from ..exact.capacity import capacity_report
        try:  # 8 x 8 Gauss-Hermite nodes per encoder Gaussian keep I_q(X;Z) within the work limit
            cap = capacity_report(X, vae.fields, 2, lambda x: vae.encode(np.asarray(x).astype(np.int8)),
                                  check=False, n_quad_encoder=8, prior=vae.prior_mixture())
        except ValueError as exc:  # too many distinct patterns for the exact encoder information
            rep.text(f"Capacity report skipped: {exc}")
    if cap is not None:
        capacity.update(max_cut_mi_data=float(max(cap.mi_data)), max_cut_mi_model=float(max(cap.mi_model)),
                        mi_xz_model=cap.mi_xz_model, kl_data_model=cap.kl_data_model,
                        flagged_cuts=len(cap.flagged_cuts))
        rep.text("Capacity report (training data, exact model table):", "", "```", cap.table(), "```")
    elif raster.n_neurons > 20:
        rep.text(f"Capacity: rate R = {capacity['rate_train']:.3f} nats (training), {rate_held:.3f} (held out); the "
                 "exact capacity report needs N <= 20 (a table of 2^N states).")

    ro = readoff.generic_readoff(vae, n_patterns=2, seed=seed)
    decoded = GeneralizedHopfield.from_readoff(ro)
    # the decoder's directions, with fields and scale by exact maximum likelihood (fastmf.decode.effective)
    gh, gh_fit = fit_generalized_hopfield(X, ro.patterns, decoded.fields, decoded.patterns)
    iu = np.triu_indices(gh.N, 1)
    scale = float(np.sum(decoded.couplings()[iu] * gh.couplings()[iu]) / np.sum(gh.couplings()[iu] ** 2))
    rep.text(f"Read-off: {ro.n_significant} significant latent directions (singular values "
             f"{', '.join(f'{v:.3g}' for v in ro.singular_values[:4])}). Fields and patterns in the span of the two "
             f"read-off directions fitted by maximum likelihood (log-likelihood {gh_fit['log_likelihood_per_sample']:.4f} "
             f"nats per bin, {gh_fit['iterations']} iterations); the couplings the decoder's density implied were "
             f"{scale:.2f} x the fitted ones.")
    gh.save(rep.out / "effective_model.npz")
    best = _whole_family(rep, X, gh, gh_fit) if raster.n_neurons <= MAX_EXACT_FIT_N else None
    printer(f"retina: sampling the generalized Hopfield model ({n_model} samples)")
    gh_samples = gh.sample(n_model, seed=seed + 1, progress=progress)
    gh_samples.save(rep.out / "model_samples.npz")

    from ..neural.maxent import fit_pairwise_maxent
    printer("retina: fitting the pairwise maximum-entropy model")
    # Boltzmann learning matches the moments to the data's own precision, which at 10^6 bins takes ~10^6 model
    # samples per step; the baseline is fitted on at most PAIRWISE_MAX_BINS random training bins instead
    rows = np.sort(np.random.default_rng([seed, 2]).choice(len(X), PAIRWISE_MAX_BINS, replace=False)) \
        if len(X) > PAIRWISE_MAX_BINS else slice(None)
    pairwise, pw_info = fit_pairwise_maxent(X[rows], seed=seed, progress=progress,
                                            max_iter=None if raster.n_neurons <= 16 else pairwise_steps)
    printer("retina: sampling the pairwise model and the VAE")
    models = {"generalized Hopfield": np.asarray(gh_samples.spins) > 0,
              "pairwise (Ising)": pairwise.sample(n_model, seed=seed + 2, progress=progress) > 0,
              "VAE": vae.sample(n_model, seed=seed + 3) > 0,
              "independent": _independent(train.firing_rates(), n_model, seed + 4)}
    if best is not None:
        models["generalized Hopfield, whole family (exact ML)"] = np.asarray(
            best[0].sample(n_model, seed=seed + 5, progress=progress).spins) > 0
    t_models = time.perf_counter()
    printer("retina: statistics of the held-out data and of every model")
    stats_d = population_statistics(held, n_batches=20, triples=n_triples, seed=seed, progress=progress,
                                    desc="held-out data")
    stats = {k: population_statistics(v, n_batches=20, triples=n_triples, seed=seed, progress=progress, desc=k)
             for k, v in models.items()}
    comp = {k: compare_statistics(stats_d, s, min_count=MIN_COUNT) for k, s in stats.items()}
    # the training part itself against the held-out part: how well any model fitted to it can do (finite data,
    # non-stationarity between time blocks)
    comp["training data (reference)"] = compare_statistics(
        stats_d, population_statistics(train, n_batches=20, triples=n_triples, seed=seed, progress=progress,
                                       desc="training data"), min_count=MIN_COUNT)
    rows = []
    for name, c in comp.items():
        rows.append((name, c["rates"]["pearson"], c["rates"]["rms_diff"], c["corr"]["pearson"], c["corr"]["rms_diff"],
                     c["cov"]["pearson"], c["triplets"]["pearson"],
                     f"{c['pk']['within_2se']} / {c['pk']['n_k']}", c["pk"]["max_abs_z"]))
    rep.table(["model", "rates: r", "rates: rms", "corr. coeff.: r", "corr. coeff.: rms", "cov: r", "triplets: r",
               f"P(K) within 2 SE (K <= {comp['VAE']['pk']['k_max']})", "P(K) max |z|"], rows)
    g, ind = comp["generalized Hopfield"], comp["independent"]
    rep.check("firing rates (generalized Hopfield)", g["rates"]["pearson"] >= TARGET_RATES,
              f"correlation with held-out rates >= {TARGET_RATES}", f"{g['rates']['pearson']:.4f}")
    rep.check("pairwise correlations (generalized Hopfield)",
              g["corr"]["pearson"] >= TARGET_CORR and g["corr"]["rms_diff"] < ind["corr"]["rms_diff"],
              f"correlation of the correlation coefficients >= {TARGET_CORR}, RMS error below the independent "
              "model's", f"r = {g['corr']['pearson']:.3f}, RMS {g['corr']['rms_diff']:.4f} (independent "
              f"{ind['corr']['rms_diff']:.4f})")
    rep.check("P(K) (generalized Hopfield)", g["pk"]["max_abs_z"] <= TARGET_PK_Z,
              f"|z| <= {TARGET_PK_Z} at every K <= {g['pk']['k_max']} (data >= {MIN_COUNT} bins)",
              f"max |z| {g['pk']['max_abs_z']:.2f}; within 2 SE at {g['pk']['within_2se']} of {g['pk']['n_k']}")
    _figures(rep, stats_d, stats, ro, gh)
    t_end = time.perf_counter()
    fit_state = ""
    if pw_info.get("method") == "mcmc":
        fit_state = (f" ({pw_info['iterations']} learning steps; moments rms z {pw_info['rms_z']:.2f}: " +
                     ("converged)" if pw_info["converged"] else "NOT converged, so the pairwise row is not the "
                      "maximum-entropy model; bistable models are hard to learn, see fit_pairwise_maxent)"))
    rep.text(f"VAE: latent 2, hidden {hidden}, {epochs} epochs. Pairwise model: {pw_info.get('method')} "
             f"fit{fit_state}. "
             f"{n_model} samples per model. Time: training {t_train - t0:.1f} s, models {t_models - t_train:.1f} s, "
             f"statistics {t_end - t_models:.1f} s.")
    rep.write(data=described, n_neurons=raster.n_neurons, n_train=train.n_bins, n_held_out=held.n_bins,
              diagnostics=diag, capacity=capacity, comparison=comp, pairwise_fit=pw_info, gh_fit=gh_fit,
              decoder_coupling_scale=scale, gh_whole_family_fit=None if best is None else best[1],
              readoff={"n_significant": ro.n_significant, "singular_values": ro.singular_values[:6],
                       "fields": gh.fields, "patterns": gh.patterns},
              files={"model_samples": "model_samples.npz", "effective_model": "effective_model.npz"},
              seconds=t_end - t0)
    return rep


def _whole_family(rep, X, gh, gh_fit):
    """Exact maximum likelihood over the whole generalized Hopfield family (N <= 16), started from the span fit:
    how much likelihood the decoder's two directions leave on the table, against what the model gains over the
    independent one."""
    free, info = fit_generalized_hopfield_exact(X, gh)
    p = np.clip((1 + X.mean(axis=0)) / 2, 1e-12, 1 - 1e-12)
    ll_ind = float(np.sum(p * np.log(p) + (1 - p) * np.log(1 - p)))
    gain = info["log_likelihood_per_sample"] - gh_fit["log_likelihood_per_sample"]
    structure = gh_fit["log_likelihood_per_sample"] - ll_ind
    info.update(independent_log_likelihood_per_sample=ll_ind, gain_over_span_fit=gain,
                span_fit_gain_over_independent=structure)
    rep.text(f"Whole-family check (exact, 2^{X.shape[1]} states): freeing every pattern component raises the training "
             f"log-likelihood from {gh_fit['log_likelihood_per_sample']:.5f} to {info['log_likelihood_per_sample']:.5f}"
             f" nats per bin (+{gain:.5f}); the span fit itself gains {structure:.4f} over the independent model "
             f"({ll_ind:.4f}). The whole-family model is sampled and compared below as well: where it misses a "
             "statistic too, the miss belongs to the model class, not to the read-off.")
    rep.check("read-off directions (whole-family likelihood)", gain <= TARGET_SPAN_LOSS * structure,
              f"the span of the decoder's two directions loses at most {TARGET_SPAN_LOSS:.0%} of the generalized "
              "Hopfield model's likelihood gain over the independent model",
              f"loses {gain:.5f} of {structure:.4f} nats per bin ({gain / structure:.1%})")
    return free, info


def _figures(rep, stats_d, stats, ro, gh):
    plt = pyplot()
    panels = [("rates", "firing probability per bin", lambda s: (s.rates, s.rates_se)),
              ("corr", "correlation coefficient", lambda s: s.pairs("corr")),
              ("cov", "covariance", lambda s: s.pairs("cov")),
              ("triplets", "connected triplet", lambda s: (s.triplets, s.triplets_se))]
    fig, axs = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4))
    for ax, (_, label, get) in zip(axs, panels):
        d, _ = get(stats_d)
        for k, (name, s) in enumerate(stats.items()):
            ax.plot(d, get(s)[0], "os^vDx"[k % 6], ms=3, alpha=0.6, label=name)
        lim = [np.nanmin(d), np.nanmax(d)]
        ax.plot(lim, lim, "k--", lw=1)
        ax.set_xlabel(f"{label} (held-out data)")
        ax.set_ylabel("model")
    axs[0].legend(fontsize=7)
    fig.tight_layout()
    rep.figure("retina_statistics", fig, "Model against held-out data: firing rates, correlation coefficients, "
               "covariances and connected triplets")
    fig, ax = plt.subplots(figsize=(5.5, 4))
    K = np.arange(stats_d.pk.size)
    ok = stats_d.pk_counts > 0
    ax.errorbar(K[ok], stats_d.pk[ok], yerr=stats_d.pk_se[ok], fmt="ko", ms=4, label="held-out data")
    for name, s in stats.items():
        m = s.pk > 0
        ax.plot(K[m], s.pk[m], "-", label=name)
    ax.set_yscale("log")
    ax.set_xlabel("K (neurons spiking in the same bin)")
    ax.set_ylabel("P(K)")
    ax.legend(fontsize=8)
    rep.figure("retina_pk", fig, "P(K), the probability of K simultaneous spikes (log scale; data error bars: "
               "batch means)")
    fig, axs = plt.subplots(1, 3, figsize=(13, 3.4))
    axs[0].bar(np.arange(gh.N), gh.fields)
    axs[0].set_title("fields h_i")
    for k in range(min(2, len(gh.patterns))):
        axs[k + 1].bar(np.arange(gh.N), gh.patterns[k])
        axs[k + 1].set_title(f"pattern {k + 1}")
    for ax in axs:
        ax.set_xlabel("neuron")
    fig.tight_layout()
    rep.figure("retina_patterns", fig, f"Read-off: fields and the two patterns of the generalized Hopfield model "
               f"(significant latent directions: {ro.n_significant})")
