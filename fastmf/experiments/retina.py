"""``fastmf reproduce retina``: a latent mean-field model of a neural population read off a VAE and refined by exact
maximum likelihood, against held-out data, the VAE itself and the maximum-entropy baselines.

Data: a binary raster (``--data FILE``, any format of :func:`fastmf.neural.load_spikes`; by default
``../shared/data/spikes15.mat`` when present), or ``--salamander160``: samples of the N = 160 pairwise model of
salamander retina in ``../shared/data`` (a realistic generator, not a recording). The raster is split by contiguous
time blocks into training and held-out parts (so autocorrelated neighbours of a held-out bin are not trained on);
one of 8 blocks of the training part is held back again to choose the number of latent directions.

Models (:mod:`fastmf.experiments.retina_models`), all fitted on the training part: a VAE with P_max = 6 latents
(Bernoulli decoder); the **latent mean-field model** ``p(s) = sum_k w_k prod_i e^{a_ki s_i} / 2cosh(a_ki)``, ``a_k =
h + Xi^T z_k`` (:class:`fastmf.decode.latent_model.LatentMeanField`), read off the decoder (fields and P directions
from the span of its fields, the latent density from the aggregate posterior as weighted atoms) and refined by exact
maximum likelihood, with P = 1..6 chosen by the validation log-likelihood; the two-direction model (the paper's
claim) is always reported as its own row; the generalized Hopfield model (the quadratic case, a Gaussian latent
potential; fields and scale in the read-off's two directions by maximum likelihood); the pairwise and K-pairwise
maximum-entropy models (on at most ``maxent_bins`` random training bins; by default not above
:data:`MAXENT_MAX_NEURONS` neurons, ``maxent``); and the independent model. Every model is
compared with the held-out data on firing rates, covariances and correlation coefficients, connected triplets and
P(K), the probability of K simultaneous spikes (:mod:`fastmf.stats.population`; the data's error bars are batch
means over 20 contiguous blocks fixed in advance, which include autocorrelation). A model's statistics are exact
wherever its distribution is known (the latent, generalized Hopfield and independent models are finite mixtures, the
maximum-entropy models of N <= 16 are enumerated: :mod:`fastmf.stats.exact_population`), so no sampling noise of the
model enters the differences; the VAE and the maximum-entropy models above N = 16 are sampled. The held-out log-
likelihood per bin is given for every model: exact for the latent, generalized Hopfield and independent models, the
IWAE bound (k = 1000) for the VAE, and an annealed-importance-sampling estimate of ln Z for the maximum-entropy
models. The capacity at any N is the bipartite mutual information of the fitted latent model (Monte Carlo over its
exact samples with exact log-probabilities) next to the VAE's rate; for N <= 20 the full run also gives the exact
capacity report of the VAE. The training data themselves, compared with the held-out data the same way, show how
well any model can do.

Targets (checks on the headline latent model, the same for every data file): firing rates with correlation >= 0.99;
correlation coefficients with correlation >= 0.8 and an RMS error below the pairwise model's, or, when its fit did
not converge or was not fitted, below the smaller of its and the training data's (:func:`pairwise_bar`; not required on
``--salamander160``, whose generator is itself a pairwise model); P(K) within 3 standard errors (data and, for a
sampled model, model combined) at every K where the data have at least 20 bins; held-out log-likelihood at least the
VAE's IWAE bound on the same bins. Files: ``effective_model.npz`` (the headline latent model,
:meth:`LatentMeanField.load`), ``effective_model_P2.npz`` (the two-direction model), ``model_samples.npz`` (exact
samples of the headline model, :func:`fastmf.io.samples.load_samples`), ``pairwise_model.npz`` and
``kpairwise_model.npz`` (when fitted).
"""
import collections
import pathlib
import time

import numpy as np

from ..decode.latent_info import bipartite_information, latent_information
from ..io.samples import SampleSet
from ..neural import SpikeRaster, load_spikes
from ..stats import compare_statistics, population_statistics
from . import retina_models as rm
from .report import Report
from .retina_figures import figures

__all__ = ["MAXENT_CHOICES", "MAXENT_MAX_NEURONS", "SETTINGS", "Settings", "default_data_dir",
           "maxent_skipped", "pairwise_bar", "reach_note", "run"]

#: the settings of the full and the quick run. epochs: for up to 10^5 training bins (longer data get
#: proportionally fewer, at least 2); n_model: samples per model; salamander_bins: samples drawn for
#: --salamander160; maxent_steps: learning steps of the maximum-entropy fits for N > 16; maxent_keep: the
#: largest sample per tempering ladder and step of the pairwise learner and kpairwise_sweeps / 10 that of the
#: K-pairwise one (their cost per step: the K-pairwise argument max_sweeps_per_iter); max_directions: the largest
#: P tried (and the VAE's latent dimension); n_atoms, max_atoms: the first and the largest number of atoms of the
#: latent density (doubled while the validation likelihood resolves the gain); select_bins: fitting bins of the
#: model-selection stage;
#: maxent_bins: random training bins the maximum-entropy models are fitted on; iwae_k, iwae_bins: the VAE's IWAE
#: draws and held-out bins; mi_samples, n_cuts: the capacity estimate
Settings = collections.namedtuple("Settings", "epochs hidden n_model triples salamander_bins maxent_steps "
                                  "maxent_keep kpairwise_sweeps max_directions n_atoms max_atoms select_bins "
                                  "maxent_bins iwae_k iwae_bins mi_samples n_cuts")
SETTINGS = {False: Settings(60, (64,), 100_000, 2000, 200_000, 300, 640, 5000, 6, 32, 256, 100_000, 20_000, 1000,
                            5000, 20_000, 8),
            True: Settings(15, (32,), 20_000, 500, 20_000, 100, 40, 160, 6, 32, 256, 20_000, 20_000, 1000, 1000, 5000,
                           4)}
#: targets of the headline latent model (see the module docstring)
TARGET_RATES, TARGET_CORR, TARGET_PK_Z, MIN_COUNT = 0.99, 0.8, 3.0, 20


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


#: fewest neurons: connected triplets need three neurons (and P < N directions)
MIN_NEURONS = 3
#: the statistics' error bars are batch means over this many batches (of the training and held-out parts)
N_BATCHES = 20


def _check_raster(raster, described, seed):
    """Refuse, before training, a raster the experiment cannot analyse; returns the training, held-out, fitting
    and validation parts."""
    if raster.n_neurons < MIN_NEURONS:
        raise ValueError(f"reproduce retina needs at least {MIN_NEURONS} neurons (connected triplets need three), "
                         f"got {raster.n_neurons} in {described}")
    parts = raster.split(held_out_fraction=0.2, n_blocks=10, seed=seed) if raster.n_bins >= 80 else None
    if parts is not None:
        parts += parts[0].split(held_out_fraction=rm.VALIDATION_FRACTION, n_blocks=8, seed=seed + 1)
    if parts is None or min(p.n_bins for p in parts) < N_BATCHES:
        got = (", ".join(f"{p.n_bins} {name}" for p, name in zip(parts, ("training", "held-out", "fitting",
                                                                           "validation"))) + " bins"
               if parts is not None else f"{raster.n_bins} bins")
        raise ValueError(f"reproduce retina needs at least {N_BATCHES} bins in the held-out part and in the "
                         f"validation part of the training blocks (error bars over {N_BATCHES} batches; 10 time "
                         f"blocks, 2 held out; 1 of 8 training blocks for validation), got {got} in {described}: "
                         f"use a raster of at least {10 * N_BATCHES} bins")
    return parts


def run(out, quick=False, seed=0, printer=print, data=None, variable=None, salamander160=False, progress=False,
        maxent="auto"):
    cfg = SETTINGS[bool(quick)]
    t0 = time.perf_counter()
    if maxent not in MAXENT_CHOICES:
        raise ValueError(f"maxent must be one of {MAXENT_CHOICES}, got {maxent!r}")
    raster, described = _load(data, variable, salamander160, cfg.salamander_bins, seed, printer)
    train, held, fit_part, valid = _check_raster(raster, described, seed)  # before anything is written or trained
    skip_maxent = maxent_skipped(maxent, raster.n_neurons)
    cfg = cfg._replace(max_directions=min(cfg.max_directions, raster.n_neurons - 1))
    rep = Report(out, f"Retina: a latent mean-field model read off a VAE (N = {raster.n_neurons})")
    rep.text(__doc__.split("\n\n", 1)[1].split("\n\nTargets")[0].strip())
    diag = raster.diagnostics()
    rep.text(f"Data: {described}. Mean firing probability per bin {diag['mean_rate']:.4f} (range "
             f"{diag['min_rate']:.4f} to {diag['max_rate']:.4f}); silent neurons {diag['silent_neurons']}, "
             f"always-on neurons {diag['always_on_neurons']}. Split by 10 contiguous time blocks: {train.n_bins} "
             f"training bins ({fit_part.n_bins} for fitting and {valid.n_bins} for validation in the model "
             f"selection), {held.n_bins} held-out bins (blocks {held.notes['blocks']}).")
    X, Xh = train.to_spins(), held.to_spins()
    printer(f"retina: training a {cfg.max_directions}-latent VAE on {X.shape[0]} bins x {X.shape[1]} neurons")
    vae, epochs = rm.train_vae(X, cfg, seed, progress)
    t_vae = time.perf_counter()

    printer("retina: latent mean-field models (P = 1 to %d) read off the VAE and refined" % cfg.max_directions)
    sel, latent_fits = rm.fit_latent_models(fit_part, valid, X, vae, cfg, seed)
    P = sel["chosen"]
    head = f"latent mean-field, P = {P}"
    latent = {head: latent_fits[P][0]}
    if P != 2:
        latent["latent mean-field, P = 2"] = latent_fits[2][0]
    _selection_table(rep, sel, latent_fits, P)
    latent[head].save(rep.out / "effective_model.npz")
    latent_fits[2][0].save(rep.out / "effective_model_P2.npz")
    gh, gh_info = rm.generalized_hopfield(vae, X, seed)
    rep.text(f"Generalized Hopfield model (the quadratic case): the read-off's two directions with fields and scale "
             f"by maximum likelihood ({gh_info['log_likelihood_per_sample']:.4f} nats per training bin); the "
             f"couplings its decoder density implied were {gh_info['decoder_coupling_scale']:.2f} x the fitted "
             "ones.")

    maxent_models = {}
    if skip_maxent:
        pw_info = kp_info = {"skipped": skip_maxent}
        rep.text(f"Maximum-entropy baselines not fitted: {skip_maxent}.")
    else:
        printer("retina: pairwise and K-pairwise maximum-entropy models")
        (pairwise, pw_info), (kpw, kp_info) = rm.fit_maxent_models(X, cfg, seed, progress)
        pairwise.save(rep.out / "pairwise_model.npz")
        kpw.save(rep.out / "kpairwise_model.npz")
        maxent_models = {"pairwise": pairwise, "K-pairwise": kpw}
        _maxent_text(rep, pw_info, kp_info)
    t_fit = time.perf_counter()

    printer("retina: held-out log-likelihoods and capacity")
    rates = train.firing_rates()
    ll = rm.held_out_log_likelihoods(Xh, latent, gh, rates, vae, maxent_models, cfg, seed, progress)
    _likelihood_table(rep, ll, head)
    capacity = _capacity(rep, latent[head], vae, X, Xh, cfg, seed, exact=not quick)

    printer("retina: statistics of the held-out data and of every model")
    head_samples = latent[head].sample(cfg.n_model, seed=[seed, 1])
    SampleSet(head_samples, {"model": "latent-mean-field", "P": P, "n_atoms": latent[head].n_atoms,
                             "sampler": "exact (atom, then independent spins)", "seed": seed}
              ).save(rep.out / "model_samples.npz")
    # exact statistics wherever the distribution is known (a sample's noise would add to every difference);
    # samples (cfg.n_model each) for the VAE and the maximum-entropy models above N = 16
    models = {**latent, "generalized Hopfield": rm.as_latent(gh), "VAE": vae, **maxent_models, "independent": rates}
    stats_d = population_statistics(held, n_batches=N_BATCHES, triples=cfg.triples, seed=seed, progress=progress,
                                    desc="held-out data")
    stats, sampled = {}, []
    for name, model in models.items():
        if name != "VAE" and rm.has_exact_statistics(model):
            stats[name] = rm.exact_statistics(model, cfg.triples, seed)
            continue
        sampled.append(name)
        x = (vae.sample(cfg.n_model, seed=seed + 3) > 0 if name == "VAE" else
             rm.maxent_samples(model, cfg.n_model, seed + (2 if name == "pairwise" else 5), progress, X))
        stats[name] = population_statistics(x, n_batches=N_BATCHES, triples=cfg.triples, seed=seed,
                                            progress=progress, desc=name)
    t_models = time.perf_counter()
    comp = {k: compare_statistics(stats_d, s, min_count=MIN_COUNT) for k, s in stats.items()}
    # the training part against the held-out part: how well any model fitted to it can do (finite data,
    # non-stationarity between time blocks)
    comp["training data (reference)"] = compare_statistics(
        stats_d, population_statistics(train, n_batches=N_BATCHES, triples=cfg.triples, seed=seed,
                                       progress=progress, desc="training data"), min_count=MIN_COUNT)
    _statistics_table(rep, comp)
    _checks(rep, comp, ll, head, salamander160, bool(pw_info.get("converged")), skip_maxent)
    figures(rep, stats_d, stats, latent[head], ll)
    t_end = time.perf_counter()
    rep.text(f"VAE: latent {cfg.max_directions}, hidden {cfg.hidden}, {epochs} epochs. Model statistics are exact "
             f"(zero errors) but for {', '.join(sampled)}: {cfg.n_model} samples each. Time: VAE {t_vae - t0:.1f} s, "
             f"model fits {t_fit - t_vae:.1f} s, likelihoods, capacity, samples and statistics {t_models - t_fit:.1f} "
             f"s, comparison and figures {t_end - t_models:.1f} s.")
    rep.write(data=described, n_neurons=raster.n_neurons, n_train=train.n_bins, n_held_out=held.n_bins,
              diagnostics=diag, settings=cfg._asdict(), chosen_directions=P, headline=head,
              selection={k: v for k, v in sel.items() if k not in ("fits", "atoms")}, atoms=_atoms_summary(sel),
              refinement=_refinements(sel),
              latent_fits={str(k): v[1] for k, v in latent_fits.items()}, log_likelihood=ll, capacity=capacity,
              comparison=comp, pairwise_fit=pw_info, kpairwise_fit=kp_info, gh_fit=gh_info,
              files={"effective_model": "effective_model.npz", "effective_model_P2": "effective_model_P2.npz",
                     "model_samples": "model_samples.npz",
                     **({} if skip_maxent else {"pairwise_model": "pairwise_model.npz",
                                                "kpairwise_model": "kpairwise_model.npz"})},
              seconds=t_end - t0)
    return rep


def _refinements(sel):
    """What the refinement changed for every P (JSON-able: the read-off models themselves left out)."""
    return {P: {k: v for k, v in info.get("refinement", {}).items() if k != "readoff"}
            for P, (_, info) in sel["fits"].items()}


def _atoms_summary(sel):
    """The atom selection of every refitted P (JSON-able: validation records without the models)."""
    return {P: dict(chosen=a["chosen"], best=a["best"], rule=a["rule"],
                    validation={K: {k: v for k, v in r.items() if k != "block_means"}
                                for K, r in a["validation"].items()}) for P, a in sel["atoms"].items()}


def _selection_table(rep, sel, fits, P):
    ref = _refinements(sel)
    nan = float("nan")
    rows = [(p, r["log_likelihood"], f"{r['diff_to_best']:+.4f} +- {r['diff_se']:.4f}",
             ref[p].get("readoff_log_likelihood", nan), ref[p].get("log_likelihood", nan),
             ref[p].get("max_principal_angle_deg", nan), ref[p].get("mean_field_rms_change", nan),
             ref[p].get("spread_ratio", nan)) for p, r in sorted(sel["validation"].items())]
    rep.text(f"Number of latent directions P, chosen on the validation blocks ({sel['rule']}): P = {P}. Each P is "
             "read off the VAE (fields and directions from its decoder's span, the latent density from the "
             "aggregate posterior as weighted atoms) and refined by exact maximum likelihood on the fitting "
             "blocks; the columns say what the refinement changed.")
    rep.table(["P", "validation log-likelihood (nats/bin)", "minus the best (paired SE)", "read-off: fitting "
               "log-lik.", "refined: fitting log-lik.", "max principal angle read-off/refined (deg)",
               "mean field RMS change", "spread refined / read-off"], rows)
    rows = [(p, K, r["log_likelihood"], f"{r['diff_to_best']:+.4f} +- {r['diff_se']:.4f}",
             "chosen" if K == a["chosen"] else "") for p, a in sorted(sel["atoms"].items())
            for K, r in sorted(a["validation"].items())]
    rule = next(iter(sel["atoms"].values()))["rule"]
    rep.text(f"Number of atoms of the latent density for the refitted P ({rule}; each doubling starts from the "
             "smaller fit with its atoms split):")
    rep.table(["P", "atoms", "validation log-likelihood (nats/bin)", "minus the best (paired SE)", ""], rows)
    rows = [(p, model.n_atoms, info["log_likelihood_per_bin"], info["iterations"],
             "yes" if info["converged"] else "NO", info.get("seconds", nan))
            for p, (model, info) in sorted(fits.items())]
    rep.text("The chosen and the two-direction models refitted on every training bin (exact maximum likelihood, "
             "started from the fits above):")
    rep.table(["P", "atoms", "log-likelihood per training bin", "iterations", "converged", "seconds"], rows)


def _maxent_text(rep, pw_info, kp_info):
    rows = []
    for name, info in (("pairwise", pw_info), ("K-pairwise", kp_info)):
        how = info.get("method") + (f" ({info['learner']}, {info['sampler']})" if "learner" in info else "")
        rows.append((name, how, info.get("n_bins_fitted"), info.get("iterations"),
                     "yes" if info.get("converged") else "NO", info.get("rms_z", float("nan")),
                     info.get("max_z", float("nan")), info.get("max_abs_error_means", float("nan")),
                     info.get("max_abs_error_pairs", float("nan")), info.get("max_abs_error_pk", float("nan"))))
    rep.text("Maximum-entropy fits and their moment errors (z: (model - data) / combined sampling error):")
    rep.table(["model", "method", "bins", "iterations", "converged", "rms z", "max z", "max error means",
               "max error pairs", "max error P(K)"], rows)


def _likelihood_table(rep, ll, head):
    rows = [(name, r["mean"], r["se"], r["bits_per_bin"], r.get("on_vae_bins", ""), r["method"])
            for name, r in ll.items()]
    rep.text("Held-out log-likelihood per bin (nats; SE: batch means over 20 contiguous blocks, plus the ln Z "
             "error for the maximum-entropy models; the VAE's IWAE bound is on a random subset of the held-out "
             "bins, on which the exact models are given too):")
    rep.table(["model", "log-likelihood", "SE", "bits per bin", "on the VAE's bins", "how"], rows)
    d = ll[head]["minus_vae"]
    rep.text(f"{head} minus the VAE's IWAE bound on the same held-out bins: {d['mean']:+.4f} +- {d['se']:.4f} nats "
             "per bin.")


def _capacity(rep, model, vae, X, Xh, cfg, seed, exact):
    rate = vae.rate(rm.subsample(Xh, 20_000, seed))
    cap = {"vae_rate_train": float(np.mean(vae.rate(rm.subsample(X, 20_000, seed)))),
           "vae_rate_held_out": float(np.mean(rate)), "vae_rate_held_out_se": float(np.std(rate) / np.sqrt(len(rate)))}
    mi = bipartite_information(model, cuts="both", n_random=cfg.n_cuts, n_samples=cfg.mi_samples, seed=seed)
    li = latent_information(model, n_samples=cfg.mi_samples, seed=seed)
    # the capacity criterion: a model whose rate is below a cut's mutual information cannot reproduce it
    flagged = [lab for lab, m, s in zip(mi.labels, mi.mi, mi.se) if m - 2 * s > cap["vae_rate_held_out"]]
    cap.update(bipartite=mi.to_dict(), latent_information=li.to_dict(), flagged_cuts=flagged,
               max_cut_mi=float(mi.mi.max()))
    rep.text(f"Capacity at N = {model.N} (the headline latent model, {cfg.mi_samples} exact samples): the bipartite "
             f"mutual information of half-cuts, and the information its spins carry about the latent, "
             f"I(s; z) = {li.mi[0]:.3f} +- {li.se[0]:.3f} nats, next to the VAE's rate R = "
             f"{cap['vae_rate_held_out']:.3f} nats (held out; {cap['vae_rate_train']:.3f} on training bins). "
             f"Cuts whose information exceeds R by more than 2 SE (the VAE could not carry them): "
             f"{', '.join(flagged) or 'none'}.", "", "```", mi.table(), "```")
    if exact and X.shape[1] <= 20:  # the exact report costs ~15 s at N = 15 with 6 latents: full runs only
        from ..exact.capacity import capacity_report
        try:  # 8 x 8 Gauss-Hermite nodes per encoder Gaussian keep I_q(X;Z) within the work limit
            exact = capacity_report(X, vae.fields, vae.latent_dim, lambda x: vae.encode(np.asarray(x).astype(np.int8)),
                                    check=False, n_quad_encoder=8, prior=vae.prior_mixture())
            cap.update(exact_max_cut_mi_data=float(max(exact.mi_data)), exact_max_cut_mi_vae=float(max(exact.mi_model)))
            rep.text("Exact capacity report of the VAE (training data, N <= 20):", "", "```", exact.table(), "```")
        except ValueError as exc:  # too many distinct patterns or latents for the exact quadrature
            rep.text(f"Exact capacity report skipped: {exc}")
    return cap


def _statistics_table(rep, comp):
    rows = [(name, c["rates"]["pearson"], c["rates"]["rms_diff"], c["corr"]["pearson"], c["corr"]["rms_diff"],
             c["cov"]["pearson"], c["triplets"]["pearson"], f"{c['pk']['within_2se']} / {c['pk']['n_k']}",
             f"{c['pk']['within_3se']} / {c['pk']['n_k']}", c["pk"]["max_abs_z"]) for name, c in comp.items()]
    min_count = next(iter(comp.values()))["pk"]["min_count"]
    rep.table(["model", "rates: r", "rates: rms", "corr. coeff.: r", "corr. coeff.: rms", "cov: r", "triplets: r",
               f"P(K) within 2 SE (K with >= {min_count} data bins)", "P(K) within 3 SE", "P(K) max |z|"], rows)


#: ``run(maxent=...)``: fit the maximum-entropy baselines always ("yes"), never ("no"), or up to
#: MAXENT_MAX_NEURONS neurons ("auto")
MAXENT_CHOICES = ("auto", "yes", "no")
#: above this many neurons "auto" skips the baselines: at N = 300 they ended unconverged with held-out likelihoods
#: below the independent model's after 10-20 minutes, and at N = 1000 one learning step took 11-160 s (docs)
MAXENT_MAX_NEURONS = 400


def maxent_skipped(choice, n_neurons):
    """Why the maximum-entropy baselines are not fitted (words for the report), or "" when they are."""
    if choice == "no":
        return "not asked for (maxent = 'no')"
    if choice == "auto" and n_neurons > MAXENT_MAX_NEURONS:
        return (f"N = {n_neurons} is above {MAXENT_MAX_NEURONS} neurons, where their sampled fits are slow (hours at "
                f"N = 1000) and end unconverged (at N = 300 already below the independent model's held-out "
                f"likelihood); --maxent yes, or maxent='yes', fits them anyway")
    return ""


def pairwise_bar(pairwise_rms, training_rms, converged):
    """The correlation RMS error the headline model must beat: the pairwise model's when its fit converged; else
    the smaller of its and the training data's (a converged pairwise model reproduces the correlation coefficients
    of the bins it is fitted on, so an unconverged, worse fit must not make the comparison easier). No pairwise
    fit (``pairwise_rms`` None: the baselines were skipped): the training data's."""
    if pairwise_rms is None:
        return training_rms, f"no pairwise fit: bar the training data's {training_rms:.4f}"
    if converged:
        return pairwise_rms, f"pairwise {pairwise_rms:.4f}"
    return min(pairwise_rms, training_rms), (f"pairwise {pairwise_rms:.4f}, not converged: bar min(pairwise, "
                                             f"training data {training_rms:.4f})")


def reach_note(found, training, target, larger_is_better=True):
    """Words for a failed check whose target the training data themselves miss against the held-out data (e.g.
    rates r on a population of nearly equal rates, whose spread is within their sampling noise): then no model
    fitted to them can be expected to meet it, and the report says so next to the (still failed) check. Empty
    when the check passed (``found`` meets ``target``) or the training data meet it."""
    def meets(v):
        return v is not None and np.isfinite(v) and (v >= target if larger_is_better else v <= target)
    if meets(found) or training is None or not np.isfinite(training) or meets(training):
        return ""
    return (f"; the training data themselves give {training:.4f} against the held-out data, so this target is out "
            f"of reach of any model fitted to them on this raster")


def _checks(rep, comp, ll, head, salamander160, pairwise_converged, skip_maxent):
    g, tr = comp[head], comp["training data (reference)"]
    rep.check(f"firing rates ({head})", g["rates"]["pearson"] >= TARGET_RATES,
              f"correlation with held-out rates >= {TARGET_RATES}",
              f"{g['rates']['pearson']:.4f}" + reach_note(g["rates"]["pearson"], tr["rates"]["pearson"], TARGET_RATES))
    bar, words = pairwise_bar(None if skip_maxent else comp["pairwise"]["corr"]["rms_diff"], tr["corr"]["rms_diff"],
                              pairwise_converged)
    beat = salamander160 or g["corr"]["rms_diff"] < bar
    rep.check(f"pairwise correlations ({head})", g["corr"]["pearson"] >= TARGET_CORR and beat,
              f"correlation of the correlation coefficients >= {TARGET_CORR}" +
              ("" if salamander160 else ", RMS error below the pairwise model's (below the training data's too "
                                        "when the pairwise fit did not converge or was not fitted)"),
              f"r = {g['corr']['pearson']:.3f}, RMS {g['corr']['rms_diff']:.4f} ({words})" +
              reach_note(g["corr"]["pearson"], tr["corr"]["pearson"], TARGET_CORR))
    rep.check(f"P(K) ({head})", g["pk"]["max_abs_z"] <= TARGET_PK_Z,
              f"|z| <= {TARGET_PK_Z} at every K with >= {MIN_COUNT} data bins ({g['pk']['n_k']} values of K up to "
              f"{g['pk']['k_max']})",
              f"max |z| {g['pk']['max_abs_z']:.2f}; within 2 SE at {g['pk']['within_2se']} of {g['pk']['n_k']}" +
              reach_note(g["pk"]["max_abs_z"], tr["pk"]["max_abs_z"], TARGET_PK_Z,
                         larger_is_better=False))
    d = ll[head]["minus_vae"]
    rep.check(f"held-out log-likelihood ({head})", d["mean"] >= 0.0,
              "at least the VAE's IWAE bound (k = 1000) on the same held-out bins",
              f"{ll[head]['on_vae_bins']:.4f} vs {ll['VAE']['mean']:.4f} nats per bin on those bins; paired "
              f"difference {d['mean']:+.4f} +- {d['se']:.4f}")
