"""``fastmf reproduce vae-kl``: KL(p_exact || p_VAE) of the whole configuration at small N, by the exact engine.

Five systems of N <= 16 spins with exact Boltzmann tables (counting for Curie-Weiss and Hopfield, enumeration for
the periodic 4 x 4 Ising lattice). 20 000 configurations drawn exactly from each table train a VAE with ``fastmf
train``'s default settings (the learned mixture prior, the cosine schedule, the mean-field decoder and 100 epochs
of ``fastmf.vae.TRAIN_DEFAULTS``; only latent_dim is chosen:
1 for Curie-Weiss, 2 otherwise). The VAE's own exact table (fastmf.exact.decoder, quadrature under the VAE's
learned prior) gives KL(p_exact || p_VAE) in nats, reported with the capacity report (rate R, I_model(X;Z),
I_q(X;Z), cut mutual informations). Targets: KL <= 0.01 nats for Curie-Weiss N = 12 at T = 0.8 and 1.2 and for
Hopfield N = 12, P = 2, T = 0.5. The Ising lattice at T = 3 is reported without a target; at T_c it is the
negative control: a conditionally independent decoder with two latents cannot hold the lattice's short-range
correlations, so KL is expected to stay well above 0.01.
"""
import time

import numpy as np

from ..exact import PairwiseModel, T_C, curie_weiss_exact, hopfield_exact, log_prob_table
from ..exact.capacity import capacity_report
from ..exact.decoder import log_prob_table as model_table
from ..exact.info import states
from ..vae import TRAIN_DEFAULTS, VAE
from .report import Report, pyplot

__all__ = ["CASES", "KL_TARGET", "QUICK_EPOCHS", "run"]

#: Target on KL(p_exact || p_VAE) in nats.
KL_TARGET = 0.01
#: Training configurations per case.
N_TRAIN = 20_000
#: ``--quick``: the same for every case (the full run uses the VAE's default epochs).
QUICK_EPOCHS = 40
#: (key, label, system, parameters, latent_dim, role): role "target" (KL <= KL_TARGET), "report" or "control".
CASES = (
    ("cw-T0.8", "Curie-Weiss N = 12, T = 0.8", "curie-weiss", {"N": 12, "T": 0.8}, 1, "target"),
    ("cw-T1.2", "Curie-Weiss N = 12, T = 1.2", "curie-weiss", {"N": 12, "T": 1.2}, 1, "target"),
    ("hopfield", "Hopfield N = 12, P = 2, T = 0.5", "hopfield", {"N": 12, "P": 2, "T": 0.5}, 2, "target"),
    ("ising-T3", "Ising 4 x 4, T = 3", "ising", {"L": 4, "T": 3.0}, 2, "report"),
    ("ising-Tc", "Ising 4 x 4, T = T_c", "ising", {"L": 4, "T": T_C}, 2, "control"),
)
# Model-table quadrature: nodes per dimension and prior component, n and 2 n (the change of KL is its error; the
# largest change of log p over all states is dominated by improbable states of steep decoders and says little
# about KL); Gauss-Hermite nodes per dimension for the rate and I_q(X;Z), also doubled. The same for every case.
_N_QUAD = {1: 64, 2: 8}
_N_QUAD_ENCODER = {1: 8, 2: 4}
# I_q(X;Z) costs O(S**2) in the S = 2**N states of the table: skipped above this N (the rate is still exact)
_MAX_N_ENCODER_MI = 12


def _counting_table(patterns, beta):
    """``log p(s)`` on every state of the Hopfield model (Curie-Weiss: one all-ones pattern) with ``ln Z`` by
    counting (:func:`fastmf.exact.hopfield_exact` / :func:`fastmf.exact.curie_weiss_exact`)."""
    P, N = patterns.shape
    s = states(N).astype(np.float64)
    energy = -np.sum((s @ patterns.T.astype(np.float64)) ** 2, axis=1) / (2.0 * N)
    log_z = curie_weiss_exact(N, beta).log_z if P == 1 else hopfield_exact(patterns, beta).log_z
    return -beta * energy - log_z


def _system(system, params, rng):
    """(exact table, N, enumeration cross-check |max diff| or None, description)."""
    beta = 1.0 / params["T"]
    if system == "ising":
        L = params["L"]
        return log_prob_table(PairwiseModel.ising_lattice(L), beta), L * L, None, "enumeration"
    N = params["N"]
    patterns = (np.ones((1, N), np.int8) if system == "curie-weiss"
                else np.where(rng.random((params["P"], N)) < 0.5, -1, 1).astype(np.int8))
    table = _counting_table(patterns, beta)
    model = PairwiseModel.curie_weiss(N) if system == "curie-weiss" else PairwiseModel.hopfield(patterns)
    diff = float(np.max(np.abs(table - log_prob_table(model, beta))))
    return table, N, diff, "counting"


def _case(k, quick, seed, printer):
    """Train and evaluate case ``CASES[k]``: (results dict, capacity report)."""
    key, label, system, params, d, role = CASES[k]
    rng = np.random.default_rng([seed, k])
    table, N, cross, how = _system(system, params, rng)
    X = states(N)[rng.choice(len(table), size=N_TRAIN, p=np.exp(table))]
    t0 = time.perf_counter()
    vae = VAE(latent_dim=d, seed=seed, progress=False, **{**TRAIN_DEFAULTS, **({"epochs": QUICK_EPOCHS} if quick
                                                                                else {})})
    epochs = vae.epochs
    vae.fit(X)
    t1 = time.perf_counter()
    prior = vae.prior_mixture()
    # the report's model table and KL use 2 n nodes (check=True); KL with n nodes gives the quadrature change
    cap = capacity_report(table, vae.fields, d, lambda x: vae.encode(np.asarray(x).astype(np.int8)),
                          prior=prior, n_quad=_N_QUAD[d], n_quad_encoder=_N_QUAD_ENCODER[d], check=True,
                          encoder_mi=N <= _MAX_N_ENCODER_MI and not quick)
    kl_coarse = model_table(vae.fields, N, d, prior=prior, n_quad=_N_QUAD[d]).kl_from(table)
    # what the learned prior buys: the same decoder under N(0, I)
    kl_normal = model_table(vae.fields, N, d, n_quad=2 * _N_QUAD[d]).kl_from(table)
    t2 = time.perf_counter()
    res = {"key": key, "label": label, "role": role, "N": N, "latent_dim": d, "T": float(params["T"]),
           "table": how, "counting_vs_enumeration": cross, "kl": float(cap.kl_data_model),
           "kl_quad_change": abs(float(cap.kl_data_model) - kl_coarse), "kl_normal_prior": float(kl_normal),
           "quad_error_log_p": cap.quad_error, "quad_error_mi": cap.quad_error_mi, "rate": float(cap.rate),
           "mi_xz_model": cap.mi_xz_model, "mi_xz_encoder": cap.mi_xz_encoder, "entropy_data": cap.entropy_data,
           "max_cut_mi_data": float(max(cap.mi_data)), "max_cut_mi_model": float(max(cap.mi_model)),
           "flagged_cuts": len(cap.flagged_cuts), "epochs": epochs, "epochs_run": len(vae.history_),
           "prior": cap.prior,
           "seconds_train": t1 - t0, "seconds_exact": t2 - t1}
    printer(f"{label}: KL(p_exact || p_VAE) = {res['kl']:.4g} nats, R = {res['rate']:.4f}, I_model(X;Z) = "
            f"{res['mi_xz_model']:.4f} (train {t1 - t0:.0f} s, exact {t2 - t1:.0f} s)")
    return res, cap


def run(out, quick=False, seed=0, printer=print):
    t0 = time.perf_counter()
    cases = [k for k, c in enumerate(CASES) if c[5] == "target" or not quick]
    epochs = QUICK_EPOCHS if quick else TRAIN_DEFAULTS["epochs"]
    rep = Report(out, "VAE against the exact distribution at small N: KL(p_exact || p_VAE)")
    rep.text(__doc__.split("\n\n", 1)[1].strip())
    rep.text(f"Settings: {N_TRAIN} training configurations per case (the VAE holds 10 % out for validation), VAE "
             f"defaults, {epochs} epochs for every case" + (" (--quick: the three target cases only, without "
                                                             "I_q(X;Z))." if quick else " (the default)."))
    results, caps = [], []
    for k in cases:
        res, cap = _case(k, quick, seed, printer)
        results.append(res)
        caps.append(cap)
    rep.table(["case", "N", "latent_dim", "KL (nats)", "KL quad change", "KL under N(0, I)", "R", "I_model(X;Z)",
               "I_q(X;Z)", "max cut I_data", "flagged cuts", "train (s)"],
              [(r["label"], r["N"], r["latent_dim"], r["kl"], r["kl_quad_change"], r["kl_normal_prior"], r["rate"],
                _g(r["mi_xz_model"]), _g(r["mi_xz_encoder"]), r["max_cut_mi_data"], r["flagged_cuts"],
                round(r["seconds_train"])) for r in results])
    rep.text("KL under N(0, I): the same trained decoder with the standard normal in place of its learned prior "
             "(not a trained model: it shows how much of the fit the prior carries).")
    cross = [r["counting_vs_enumeration"] for r in results if r["counting_vs_enumeration"] is not None]
    rep.check("counting and enumeration give the same exact tables", max(cross) < 1e-9,
              "max |log p difference| < 1e-9 (Curie-Weiss and Hopfield)", f"{max(cross):.2g}")
    rep.check("the VAE tables are converged", all(r["kl_quad_change"] < 0.1 * max(r["kl"], KL_TARGET)
                                                  for r in results),
              "the change of KL from n_quad to 2 n_quad nodes below a tenth of max(KL, target) in every case",
              ", ".join(f"{r['key']} {r['kl_quad_change']:.2g}" for r in results))
    for r in results:
        if r["role"] == "target":
            rep.check(f"{r['label']}: KL <= {KL_TARGET}", r["kl"] <= KL_TARGET, f"KL <= {KL_TARGET} nats",
                      f"{r['kl']:.4g} nats")
        elif r["role"] == "control":
            rep.check(f"{r['label']} (negative control) misses", r["kl"] > KL_TARGET,
                      f"KL > {KL_TARGET} nats (two latents cannot hold the lattice's correlations)",
                      f"{r['kl']:.4g} nats")
    rep.text()
    for r, cap in zip(results, caps):
        rep.text(f"**{r['label']}** ({r['table']} table, {r['epochs_run']} epochs):", "", "```", cap.table(), "```")
    _figure(rep, results)
    rep.write(settings={"n_train": N_TRAIN, "epochs": epochs,
                        "kl_target": KL_TARGET, "n_quad": _N_QUAD, "n_quad_encoder": _N_QUAD_ENCODER},
              results=results, seconds=time.perf_counter() - t0)
    return rep


def _g(x):
    return "n/a" if x is None else float(x)


def _figure(rep, results):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.8))
    colors = {"target": "tab:blue", "report": "tab:gray", "control": "tab:red"}
    x = np.arange(len(results))
    ax.bar(x, [r["kl"] for r in results], color=[colors[r["role"]] for r in results])
    ax.axhline(KL_TARGET, color="k", ls="--", label=f"target {KL_TARGET} nats")
    ax.set_yscale("log")
    ax.set_xticks(x, [r["label"].replace(", ", "\n", 1) for r in results], fontsize=7)
    ax.set_ylabel("KL(p_exact || p_VAE) (nats)")
    ax.legend()
    rep.figure("vae_kl", fig, "KL of the whole configuration per case (blue: targets, gray: reported, red: the "
               "negative control); dashed: the target")
