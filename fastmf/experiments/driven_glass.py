"""``fastmf reproduce driven-glass``: what a driven spin glass "learns", measured by absorbed work and by the
bottleneck of a beta-VAE trained on its configurations.

Model (:mod:`fastmf.models.driven_glass`): an SK spin glass of N spins (``J_ij ~ N(0, 1/N)``; ``graph="sparse"``: a random
3-regular graph with couplings +-1/sqrt(3), the same local-field scale) at temperature T, driven by
K random site-field vectors of magnitude h0, one at a time, switched every tau Metropolis sweeps to another one
at random; n_chains replicas of the same glass feel the same drive. The work absorbed at a switch is
``W = -(h' - h) . s``; the absorbed power is ``W / tau``. Defaults (T = 0.05, h0 = 0.4, tau = 10): deep in the glass
phase with fields weaker than the couplings. A scan at N = 128 (T 0.05-0.3, h0 0.15-0.6) found the glass adapts
(less work per switch as the drive goes on, more at a switch into an unfamiliar field) only at low T and h0 <~ 0.4:
stronger fields realign the spins at every switch whatever came before. Weaker fields (h0 = 0.2) adapt more but
leave too little trace in the configurations to tell the fields apart (held-out accuracy near chance); h0 = 0.4
shows all the effects.

Stages:

1. *Adaptation*: the drive for ``n_train`` periods; absorbed power against time (log-binned).
2. *Datasets*: after adaptation, the configuration at the end of each period for ``n_sample`` periods, labelled
   by the field in force; the first 70 % of periods train, the last 30 % are held out (split in time). The main
   dataset is written to ``dataset.npz`` (configurations and field labels of both parts, the drive's fields and
   seed, and the work and field schedule of the adaptation stage).
3. *Classification*: a beta-VAE (``latent_dim`` latents, ``beta``) on the training configurations; a multinomial
   logistic regression on the encoder means predicts the field in force; accuracy on held-out configurations.
4. *Memory capacity*: the same for drives of K = 2, 4, 8, ... fields; the first K whose accuracy above chance,
   ``(accuracy - 1/K) / (1 - 1/K)``, falls below ``threshold`` (default 0.5: halfway from chance to perfect) is
   reported.
5. *Discrimination*: drives of two fields A and B, B equal to A except for a fraction f of components (flipped);
   accuracy of telling them apart against f.
6. *Novelty detection*: from adapted states, the field is switched either to another familiar field or to an
   unfamiliar one (probes that leave the driven chains alone). Two detectors score each probe: the VAE's loss
   (negative ELBO) on the configuration reached tau sweeps after the switch, and the work absorbed at the
   switch (the power spike). ROC curves and AUC (Mann-Whitney) for both; chance is 0.5.

Error bars: over the n_chains replicas (independent noise, same glass and drive), so they include the
autocorrelation along each chain.
"""
import math
import time

import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp

from ..models.driven_glass import DrivenGlass, random_drive
from ..kernels.validation import check_int, check_real
from ..models.meanfield import GraphSpinGlass
from ..io.samples import atomic_savez
from ..vae import VAE
from .report import Report, pyplot

__all__ = ["DEFAULTS", "QUICK", "field_classification_accuracy", "novelty_scores", "roc_auc", "run",
           "softmax_classifier"]

#: full-run parameters (``fastmf reproduce driven-glass``); options of the same names override them
DEFAULTS = dict(graph="sk", n_spins=256, temperature=0.05, h0=0.4, tau=10, n_fields=4, n_chains=32, n_train=2000,
                n_sample=400, k_values=(2, 4, 8, 16, 32), fractions=(0.02, 0.05, 0.1, 0.2, 0.5), latent_dim=8,
                beta=1.0, epochs=40, n_probes=100, threshold=0.5)
#: ``--quick`` (a few minutes on 2 cores)
QUICK = dict(DEFAULTS, n_spins=128, n_chains=16, n_train=1000, n_sample=250, k_values=(2, 4, 8, 16),
             fractions=(0.05, 0.1, 0.2, 0.5), epochs=25, n_probes=60)


def roc_auc(negative, positive):
    """Area under the ROC curve of scores that should be larger for ``positive`` (Mann-Whitney U / (n0 n1), ties
    counted one half) and its standard error (Hanley & McNeil 1982)."""
    a, b = np.asarray(negative, np.float64).ravel(), np.asarray(positive, np.float64).ravel()
    if not (len(a) and len(b)):
        raise ValueError("need at least one negative and one positive score")
    from scipy.stats import rankdata
    ranks = rankdata(np.concatenate([a, b]))
    auc = (ranks[len(a):].sum() - len(b) * (len(b) + 1) / 2) / (len(a) * len(b))
    q1, q2 = auc / (2 - auc), 2 * auc ** 2 / (1 + auc)
    var = (auc * (1 - auc) + (len(b) - 1) * (q1 - auc ** 2) + (len(a) - 1) * (q2 - auc ** 2)) / (len(a) * len(b))
    return float(auc), float(math.sqrt(max(var, 0.0)))


def _roc_curve(negative, positive):
    thresholds = np.unique(np.concatenate([negative, positive]))[::-1]
    fpr = np.array([0.0] + [np.mean(negative >= t) for t in thresholds])
    tpr = np.array([0.0] + [np.mean(positive >= t) for t in thresholds])
    return fpr, tpr


def softmax_classifier(Z, y, n_classes, l2=1e-3):
    """Multinomial logistic regression on standardised features; returns ``predict(Z) -> labels``."""
    Z, y = np.asarray(Z, np.float64), np.asarray(y, np.int64)
    mean, std = Z.mean(axis=0), Z.std(axis=0) + 1e-12
    X = np.hstack([(Z - mean) / std, np.ones((len(Z), 1))])
    onehot = np.eye(n_classes)[y]

    def loss(w):
        W = w.reshape(X.shape[1], n_classes)
        logits = X @ W
        logp = logits - logsumexp(logits, axis=1, keepdims=True)
        grad = X.T @ (np.exp(logp) - onehot) / len(X) + l2 * W
        return -np.sum(onehot * logp) / len(X) + 0.5 * l2 * np.sum(W * W), grad.ravel()

    W = minimize(loss, np.zeros(X.shape[1] * n_classes), jac=True, method="L-BFGS-B").x.reshape(X.shape[1], -1)
    return lambda Zn: np.argmax(np.hstack([(np.asarray(Zn) - mean) / std, np.ones((len(Zn), 1))]) @ W, axis=1)


def _dataset(driven, p, seed):
    """Adapt for n_train periods, then record n_sample periods; (train X, y), (held-out X, y), state, records."""
    state = driven.init_state(p["n_chains"], seed=seed)
    adapt = driven.run(state, p["n_train"])
    rec = driven.run(state, p["n_sample"], record_configs=True)
    labels = np.repeat(rec.field_index[:, None], p["n_chains"], axis=1)
    cut = int(0.7 * p["n_sample"])
    X = rec.configs.reshape(-1, driven.N)
    y = labels.ravel()
    n_train = cut * p["n_chains"]
    return (X[:n_train], y[:n_train]), (X[n_train:], y[n_train:]), state, adapt


def _vae(p, X, seed):
    return VAE(latent_dim=p["latent_dim"], hidden=(64,), beta=p["beta"], epochs=p["epochs"], lr=3e-3,
               dtype="float32", seed=seed, progress=False).fit(X)


def field_classification_accuracy(glass, fields, p, seed):
    """Held-out accuracy of predicting the field in force from a beta-VAE latent (parameters ``p`` as
    :data:`DEFAULTS`): drive, record, train the VAE and the classifier on the first 70 % of periods, test on the
    rest."""
    driven = DrivenGlass(glass, p["temperature"], fields, p["tau"])
    (Xt, yt), (Xh, yh), _, _ = _dataset(driven, p, seed)
    vae = _vae(p, Xt, seed)
    predict = softmax_classifier(vae.encode(Xt)[0], yt, len(fields))
    return float(np.mean(predict(vae.encode(Xh)[0]) == yh))


def novelty_scores(driven, state, vae, unfamiliar, n_probes, seed):
    """Probe adapted states: before each probe the drive runs one more period (advancing ``state``); then the
    field is switched (on copies) to another familiar field or to ``unfamiliar[trial]``. Returns the absorbed
    power at the switch and the VAE loss (negative ELBO) of the configuration tau sweeps later, each of shape
    (n_probes, n_chains): ``(power_familiar, power_unfamiliar, loss_familiar, loss_unfamiliar)``."""
    scores = {"familiar": ([], []), "unfamiliar": ([], [])}
    for trial in range(n_probes):
        driven.run(state, 1)
        others = [k for k in range(driven.K) if k != state.field_index] or [state.field_index]
        for kind, field in (("familiar", driven.drive[others[trial % len(others)]]),
                            ("unfamiliar", unfamiliar[trial % len(unfamiliar)])):
            work, configs = driven.probe(state, field, seed=(seed + 2 * trial + (kind == "unfamiliar")) % 2**32)
            scores[kind][0].append(work / driven.tau)
            scores[kind][1].append(-vae.elbo(configs, seed=trial))
    # probes along one chain are correlated, chains are not: error bars go over chains
    return tuple(np.array(scores[k][i]) for i in (0, 1) for k in ("familiar", "unfamiliar"))


def _power_curve(work, tau, n_bins=24):
    """Log-binned mean absorbed power (over chains and switches in a bin) and its SE over chains."""
    t = np.arange(1, len(work) + 1)
    edges = np.unique(np.geomspace(1, len(work) + 1, n_bins).astype(int))
    mids, mean, se = [], [], []
    for a, b in zip(edges[:-1], edges[1:]):
        per_chain = work[a - 1:b - 1].mean(axis=0) / tau
        mids.append(math.sqrt(t[a - 1] * t[b - 2]))
        mean.append(per_chain.mean())
        se.append(per_chain.std(ddof=1) / math.sqrt(len(per_chain)))
    return np.array(mids), np.array(mean), np.array(se)


def run(out, quick=False, seed=0, printer=print, **options):
    p = dict(QUICK if quick else DEFAULTS)
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"driven-glass does not take {', '.join(unknown)}")
    p.update({k: v for k, v in options.items() if v is not None})
    _check_parameters(p)
    t0 = time.perf_counter()
    N, K, tau = p["n_spins"], p["n_fields"], p["tau"]
    rep = Report(out, f"Driven spin glass: absorbed work and what a beta-VAE bottleneck learns (N = {N})")
    rep.text(__doc__.split("\n\n", 1)[1].strip())
    rep.text("Parameters: " + ", ".join(f"{k} = {v}" for k, v in p.items()) + f"; seed {seed}.")
    glass = GraphSpinGlass.sk(N, seed=seed) if p["graph"] == "sk" else \
        GraphSpinGlass.ea(N, degree=3, J=1 / math.sqrt(3), couplings="pm", seed=seed)
    fields = random_drive(K, N, p["h0"], seed=seed + 1)
    driven = DrivenGlass(glass, p["temperature"], fields, tau)

    # 1. adaptation and 2. the dataset
    printer(f"driven-glass: adapting N = {N} spins to K = {K} fields ({p['n_train']} periods of {tau} sweeps)")
    (Xt, yt), (Xh, yh), state, adapt = _dataset(driven, p, seed + 2)
    # the dataset, labelled by the field in force and by the drive (its fields and the seed that drew them)
    atomic_savez(rep.out / "dataset.npz", train_configs=Xt, train_field=yt, held_out_configs=Xh,
                 held_out_field=yh, drive_fields=fields, drive_seed=np.int64(seed + 1),
                 work=adapt.work, field_schedule=adapt.field_index)
    w = adapt.work[1:]
    n_early = 5   # the unadapted glass: the decrease is fastest over the first few switches
    early, late = w[:n_early].mean(axis=0) / tau, w[-len(w) // 10:].mean(axis=0) / tau
    energy_check = _work_identity(driven, p, seed + 2)
    rep.text(f"Absorbed power (work per sweep, mean over {p['n_chains']} replicas +- SE): first {n_early} switches "
             f"{early.mean():.4f} +- {_se(early):.4f}, last {len(w) // 10} switches {late.mean():.4f} +- "
             f"{_se(late):.4f}.")
    rep.check("work accounting", energy_check < 1e-8,
              "energy change over a run = work at the switches + heat during the sweeps (relative error < 1e-8)",
              f"largest relative error {energy_check:.2e}")
    rep.check("adaptation", early.mean() - late.mean() > 3 * math.hypot(_se(early), _se(late)),
              "absorbed power decreases from the first switches to the last (by > 3 SE)",
              f"{early.mean():.4f} -> {late.mean():.4f}")

    # 3. classification of the field in force
    printer(f"driven-glass: beta-VAE on {len(Xt)} configurations")
    vae = _vae(p, Xt, seed)
    predict = softmax_classifier(vae.encode(Xt)[0], yt, K)
    acc = float(np.mean(predict(vae.encode(Xh)[0]) == yh))
    acc_se = math.sqrt(acc * (1 - acc) / len(yh))
    rep.check("classification", acc - 1.0 / K > 3 * max(acc_se, 1.0 / len(yh)),
              f"the field in force predicted from the latent on held-out configurations above chance (1/{K})",
              f"accuracy {acc:.3f} +- {acc_se:.3f} on {len(yh)} configurations")

    # 4. memory capacity, 5. discrimination
    capacity = []
    for k in p["k_values"]:
        printer(f"driven-glass: memory capacity, K = {k}")
        capacity.append(field_classification_accuracy(glass, random_drive(k, N, p["h0"], seed=seed + 10 + k), p,
                                                      seed + 10 + k))
    above_chance = [(a - 1.0 / k) / (1.0 - 1.0 / k) for k, a in zip(p["k_values"], capacity)]
    below = [k for k, a in zip(p["k_values"], above_chance) if a < p["threshold"]]
    k_star = below[0] if below else None
    discrimination = []
    rng = np.random.default_rng([seed, 5])
    for f in p["fractions"]:
        printer(f"driven-glass: discrimination, fraction {f}")
        a = fields[0]
        b = a.copy()
        flip = rng.choice(N, max(1, round(f * N)), replace=False)
        b[flip] *= -1
        discrimination.append(field_classification_accuracy(glass, np.vstack([a, b]), p, seed + 100 + int(1000 * f)))
    rep.table(["K fields", "accuracy", "chance", "accuracy above chance"],
              [(k, a, 1.0 / k, c) for k, a, c in zip(p["k_values"], capacity, above_chance)])
    rep.text(f"Memory capacity: first K with accuracy above chance below {p['threshold']}: "
             f"{k_star if k_star is not None else 'none of ' + str(list(p['k_values']))}.")
    rep.table(["fraction of components differing", "accuracy (chance 0.5)"], list(zip(p["fractions"],
                                                                                        discrimination)))

    # 6. novelty detection
    printer("driven-glass: novelty probes")
    unfamiliar = random_drive(p["n_probes"], N, p["h0"], seed=seed + 6)
    power_f, power_u, loss_f, loss_u = novelty_scores(driven, state, vae, unfamiliar, p["n_probes"], seed + 7)
    auc_vae, auc_power = _auc_over_chains(loss_f, loss_u), _auc_over_chains(power_f, power_u)
    rep.table(["detector", "ROC AUC", "SE (over replicas)"], [("VAE loss (negative ELBO)", *auc_vae),
                                                             ("absorbed power", *auc_power)])
    diff = power_u.mean(axis=0) - power_f.mean(axis=0)
    rep.check("novelty spike in power", diff.mean() > 3 * _se(diff),
              "from adapted states, the power absorbed at a switch into an unfamiliar field exceeds that at a switch "
              "into a familiar one (by > 3 SE over replicas)", f"familiar {power_f.mean():.4f}, unfamiliar "
              f"{power_u.mean():.4f} (difference {diff.mean():.4f} +- {_se(diff):.4f})")
    rep.check("novelty detection (VAE)", auc_vae[0] - 0.5 > 3 * auc_vae[1],
              "ROC AUC of the VAE loss above chance (0.5) by > 3 SE", f"{auc_vae[0]:.3f} +- {auc_vae[1]:.3f}")

    _figures(rep, adapt, tau, p, capacity, discrimination, (loss_f.ravel(), loss_u.ravel()),
             (power_f.ravel(), power_u.ravel()), auc_vae, auc_power)
    rep.write(parameters=p, seed=seed, power={"early": early, "late": late, "probe_familiar": power_f.mean(axis=0),
                                              "probe_unfamiliar": power_u.mean(axis=0)},
              classification_accuracy=acc, capacity={"k": p["k_values"], "accuracy": capacity,
                                                     "accuracy_above_chance": above_chance, "k_below": k_star},
              discrimination={"fraction": p["fractions"], "accuracy": discrimination},
              novelty={"auc_vae": auc_vae, "auc_power": auc_power}, work_identity_error=energy_check,
              seconds=time.perf_counter() - t0)
    return rep


def _check_parameters(p):
    if p["graph"] not in ("sk", "sparse"):
        raise ValueError(f"graph must be 'sk' or 'sparse', got {p['graph']!r}")
    for name in ("n_spins", "tau", "n_sample", "n_probes", "epochs", "latent_dim"):
        check_int(name, p[name], 1)
    check_int("n_train (periods)", p["n_train"], 20)   # the first 5 switches against the last 10 %
    check_int("n_chains", p["n_chains"], 2)      # error bars are over replicas
    check_int("n_fields", p["n_fields"], 2)
    if p["n_sample"] < 4:
        raise ValueError(f"n_sample must be >= 4 (70 % train, 30 % held out), got {p['n_sample']}")
    for k in p["k_values"]:
        check_int("every K in k_values", k, 2)
    for name in ("temperature", "h0", "beta", "threshold"):
        check_real(name, p[name], positive=True)
    if not all(0.0 < f <= 1.0 for f in p["fractions"]):
        raise ValueError(f"fractions must lie in (0, 1], got {p['fractions']}")


def _auc_over_chains(negative, positive):
    """Pooled ROC AUC of (n_probes, n_chains) scores, with the SE from the spread of the per-chain AUCs."""
    per_chain = [roc_auc(negative[:, c], positive[:, c])[0] for c in range(negative.shape[1])]
    return roc_auc(negative, positive)[0], _se(per_chain)


def _se(x):
    return float(np.std(x, ddof=1) / math.sqrt(len(x)))


def _work_identity(driven, p, seed, n_periods=50):
    """Largest relative error of ``E_end - E_start = sum W + sum Q`` over a short fresh run."""
    state = driven.init_state(p["n_chains"], seed=seed)
    e0 = driven.energy(state.spins, state.field_index)
    rec = driven.run(state, n_periods)
    e1 = driven.energy(state.spins, state.field_index)
    total = rec.work.sum(axis=0) + rec.heat.sum(axis=0)
    return float(np.max(np.abs(e1 - e0 - total) / (np.abs(e1 - e0) + np.abs(rec.work).sum(axis=0) + 1e-300)))


def _figures(rep, adapt, tau, p, capacity, discrimination, losses, powers, auc_vae, auc_power):
    plt = pyplot()
    fig, axs = plt.subplots(1, 2, figsize=(11, 4))
    t, m, se = _power_curve(adapt.work[1:], tau)
    axs[0].errorbar(t, m, yerr=se, fmt="o-", ms=3, label="switches of the drive")
    for power, label, style in ((powers[0], "probe: into a familiar field", "g--"),
                                (powers[1], "probe: into an unfamiliar field", "r--")):
        axs[0].axhline(power.mean(), color=style[0], ls="--", label=label + " (after adaptation)")
    axs[0].set_xscale("log")
    axs[0].set_xlabel("switch number")
    axs[0].set_ylabel("absorbed power (work per sweep)")
    axs[0].legend(fontsize=7)
    bins = np.linspace(min(powers[0].min(), powers[1].min()), max(powers[0].max(), powers[1].max()), 40)
    axs[1].hist(powers[0], bins, alpha=0.6, color="g", label="familiar")
    axs[1].hist(powers[1], bins, alpha=0.6, color="r", label="unfamiliar")
    axs[1].set_xlabel("absorbed power at the switch")
    axs[1].legend(fontsize=8)
    fig.tight_layout()
    rep.figure("driven_power", fig, "Absorbed power: adaptation to the drive (mean over replicas, SE bars) and the "
               "spike at a switch into an unfamiliar field")
    fig, axs = plt.subplots(1, 2, figsize=(10, 3.8))
    axs[0].plot(p["k_values"], capacity, "o-", label="beta-VAE latent")
    axs[0].plot(p["k_values"], [1.0 / k for k in p["k_values"]], "k--", label="chance")
    axs[0].set_xscale("log", base=2)
    axs[0].set_xlabel("K (fields in the drive)")
    axs[0].set_ylabel("held-out accuracy")
    axs[0].legend(fontsize=8)
    axs[1].plot(p["fractions"], discrimination, "o-")
    axs[1].axhline(0.5, color="k", ls="--")
    axs[1].set_xscale("log")
    axs[1].set_xlabel("fraction of components that differ")
    axs[1].set_ylabel("accuracy (A vs B)")
    fig.tight_layout()
    rep.figure("driven_capacity", fig, "Memory capacity (accuracy against K) and discrimination (two fields "
               "differing in a fraction of components)")
    fig, ax = plt.subplots(figsize=(4.5, 4.2))
    for (neg, pos), (auc, _), label in ((losses, auc_vae, "VAE loss"), (powers, auc_power, "absorbed power")):
        fpr, tpr = _roc_curve(neg, pos)
        ax.plot(fpr, tpr, label=f"{label} (AUC {auc:.3f})")
    ax.plot([0, 1], [0, 1], "k--", lw=0.8)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.legend(fontsize=8)
    rep.figure("driven_roc", fig, "Novelty detection: ROC curves of the VAE loss and of the absorbed power "
               "(unfamiliar vs familiar field switches)")
