"""``fastmf reproduce ising-critical``: the negative control, the 2D Ising model across T_c.

A factorized-decoder VAE is a finite-size mean-field model (docs/theory.rst): x_A <- z -> x_B, so its correlations across
any cut are bounded by its rate. Short-range critical data carry mutual information that grows with the boundary
length, so a VAE with a small latent cannot reproduce the 2D Ising critical singularity. Here: at each temperature
an L x L periodic Ising lattice is sampled (Wolff), one VAE (latent 2) is trained per temperature, and the energy per
site and the specific heat C = Var(E) / (N T^2) of the VAE's generated samples and of the data are compared with
Kaufman's exact finite-lattice results. Error bars: the standard error of the mean energy per site with the samples'
integrated autocorrelation time (sqrt(2 tau / n) * std), and for C the bootstrap standard error.
Expected: the data agree with Kaufman; the VAE misses the specific-heat peak at T_c by more than it misses C away
from T_c. A capacity report on a 4 x 4 lattice at T_c (exact enumeration of the data distribution, so the cut
mutual informations carry no plug-in bias) lists the half-line cuts, the rate R, and I_model(A;B) against
I_data(A;B); the same comparison at temperatures on both sides of T_c, with the exact KL(Boltzmann || model),
shows whether the VAE fails for lack of rate (R < I_data(A;B) on some cut) or in the local structure within
each side (cut information matched, KL large): the report states which it finds.
Each negative check has a positive control, the same check at the highest temperature, which must find agreement:
a VAE that missed everywhere would otherwise pass. Measured (quick, seed 0): C passes it at T = 3.4 (miss 17 %),
the cut MI does not (the model falls short on 14 of 15 cuts at T = 3.6), so the capacity shortfall at T_c is not
specific to criticality and the report fails.
"""
import time

import numpy as np

from ..exact import PairwiseModel, info, kaufman, log_prob_table
from ..exact.capacity import capacity_report
from ..exact.decoder import log_prob_table as dec_table
from ..models.lattice import LatticeModel
from ..sampling.simulate import simulate_lattice
from ..vae import VAE
from .report import Report, pyplot

__all__ = ["CAPACITY_TEMPERATURES", "SETTINGS", "run"]

#: (L, temperatures, samples per temperature, epochs, hidden)
SETTINGS = {False: (16, (1.6, 2.0, 2.15, kaufman.T_C, 2.4, 2.6, 3.0, 3.6), 5000, 40, (64,)),
            True: (8, (1.8, kaufman.T_C, 2.8, 3.4), 3000, 20, (64,))}

#: temperatures of the 4 x 4 capacity reports (T_c among them)
CAPACITY_TEMPERATURES = {False: (1.6, 2.0, kaufman.T_C, 2.6, 3.6), True: (1.6, kaufman.T_C, 3.6)}


def _c_missed(r):
    """The VAE misses the exact specific heat: by more than 4 combined bootstrap standard errors and 20 %."""
    return r["c_vae_abs_err"] > max(4 * float(np.hypot(r["c_vae_se"], r["c_data_se"])), 0.2 * r["c_exact"])


def _shortfalls(mi_data, mi_model):
    """How far the model's cut MI falls below the data's, on the cuts where it does (the capacity check)."""
    return [d - mo for d, mo in zip(mi_data, mi_model) if mo < d]


def _c_of(E, N, T):
    return float(np.var(E) / (N * T * T))


def _boot_se(E, N, T, rng, n_boot=200):
    idx = rng.integers(0, len(E), size=(n_boot, len(E)))
    return float(np.std([_c_of(E[i], N, T) for i in idx]))


def _half_cut(cuts, N):
    """Index of the cut with |A| = N/2 (else the largest)."""
    return max(range(len(cuts)), key=lambda k: (len(cuts[k]) == N // 2, len(cuts[k])))


def _capacity_at(T, quick, epochs, seed, Lc=4):
    """Wolff samples of the Lc x Lc lattice at T, a VAE trained on them, its capacity report and the exact cut MI."""
    table = log_prob_table(PairwiseModel.ising_lattice(Lc), 1.0 / T)
    cs = simulate_lattice(LatticeModel(Lc, Lc), T, 4000 if quick else 8000, seed=seed, method="wolff",
                          progress=False)
    X = np.asarray(cs.spins, np.int8).reshape(len(cs.spins), Lc * Lc)
    vae = VAE(latent_dim=2, hidden=(32,), beta=1.0, epochs=2 * epochs, lr=3e-3, seed=seed, progress=False).fit(X)
    # 8 nodes per dimension per prior component (32 components): the 4x4 tables' KL is converged to ~2e-4 there
    # (docs/experiments/vae_kl.rst), and the default 32 made each table 2^31 evaluations
    cap = capacity_report(X, vae.fields, 2, lambda x: vae.encode(np.asarray(x).astype(np.int8)), check=False,
                          n_quad=8, n_quad_encoder=8, prior=vae.prior_mixture())
    mi_exact = [float(info.mutual_information(table, a)) for a in cap.cuts]
    hk = _half_cut(cap.cuts, Lc * Lc)
    return {"T": float(T), "report": cap, "mi_exact": mi_exact, "data": X, "half_data": mi_exact[hk],
            "half_model": float(cap.mi_model[hk]), "half_shortfall": mi_exact[hk] - float(cap.mi_model[hk]),
            "rate": float(cap.rate), "kl_exact": float(dec_table(vae.fields, Lc * Lc, 2, n_quad=8,
                                                     prior=vae.prior_mixture()).kl_from(table))}


def run(out, quick=False, seed=0, printer=print):
    L, temps, n_samples, epochs, hidden = SETTINGS[bool(quick)]
    N = L * L
    rep = Report(out, f"Ising critical: a VAE against Kaufman's exact 2D Ising results (L = {L})")
    rep.text(__doc__.split("\n\n", 1)[1].strip())
    t0 = time.perf_counter()
    model = LatticeModel(L, L, J=1.0)
    rng = np.random.default_rng(seed)
    rows, results = [], []
    for k, T in enumerate(temps):
        s = simulate_lattice(model, T, n_samples, seed=seed + 101 + k, method="wolff", progress=False)
        X = np.asarray(s.spins, np.int8)
        E = np.asarray(model.energy(X), np.float64)
        tau = float(s.metadata.get("tau_int_energy_of_samples", 0.5) or 0.5)
        vae = VAE(latent_dim=2, hidden=hidden, beta=1.0, epochs=epochs, lr=3e-3, dtype="float32", seed=seed,
                  progress=False).fit(X)
        G = vae.sample(n_samples, seed=seed + 7 + k)
        Eg = np.asarray(model.energy(G), np.float64)
        e_ex, c_ex = kaufman.energy_per_site(L, L, T), kaufman.specific_heat(L, L, T)
        e_d, e_g = E.mean() / N, Eg.mean() / N
        se_d = E.std() / N * np.sqrt(max(2 * tau, 1.0) / len(E))
        se_g = Eg.std() / N / np.sqrt(len(Eg))
        r = {"T": float(T), "e_exact": e_ex, "c_exact": c_ex, "e_data": e_d, "e_data_se": se_d,
             "z_data": (e_d - e_ex) / se_d, "c_data": _c_of(E, N, T), "c_data_se": _boot_se(E, N, T, rng),
             "e_vae": e_g, "e_vae_se": se_g, "c_vae": _c_of(Eg, N, T), "c_vae_se": _boot_se(Eg, N, T, rng),
             "rate": float(np.mean(vae.rate(X))), "tau_int_energy": tau}
        r["c_vae_abs_err"] = abs(r["c_vae"] - c_ex)
        r["c_vae_rel_err"] = r["c_vae_abs_err"] / c_ex
        results.append(r)
        rows.append((T, e_ex, f"{e_d:.4f} +- {se_d:.4f}", r["z_data"], e_g, c_ex,
                     f"{r['c_data']:.3f} +- {r['c_data_se']:.3f}", f"{r['c_vae']:.3f} +- {r['c_vae_se']:.3f}",
                     r["rate"]))
        printer(f"T = {T:.3f}: e exact {e_ex:.4f} data {e_d:.4f} (z {r['z_data']:+.2f}) VAE {e_g:.4f}; "
                f"C exact {c_ex:.3f} data {r['c_data']:.3f} VAE {r['c_vae']:.3f}; R {r['rate']:.2f}")
    t1 = time.perf_counter()
    rep.table(["T", "e exact", "e data", "z (data)", "e VAE", "C exact", "C data", "C VAE", "rate R"], rows)

    # capacity on 4 x 4: at T_c in detail, and the half-cut shortfall across temperatures
    caps = [_capacity_at(T, quick, epochs, seed + 3 + k) for k, T in enumerate(CAPACITY_TEMPERATURES[bool(quick)])]
    ck = int(np.argmin([abs(c["T"] - kaufman.T_C) for c in caps]))
    cap, mi_exact, Xc = caps[ck]["report"], caps[ck]["mi_exact"], caps[ck]["data"]
    t2 = time.perf_counter()
    rep.text(f"Capacity report, 4 x 4 periodic Ising at T_c (data: {len(Xc)} Wolff samples, their empirical "
             "distribution; the VAE is trained on them):", "", "```", cap.table(), "```",
             "The plug-in I_data(A;B) of the samples is biased upward (DESIGN / fastmf.exact.capacity); the exact "
             "cut MI from enumeration is: " + ", ".join(f"|A| = {len(a)}: {v:.4f}" for a, v in zip(cap.cuts,
                                                                                                   mi_exact)))
    rep.table(["T", "I_data(A;B) half cut (exact)", "I_model(A;B)", "shortfall", "rate R", "I_model(X;Z)",
               "KL(Boltzmann || model) (exact)"],
              [(f"{c['T']:.3f}", c["half_data"], c["half_model"], c["half_shortfall"], c["report"].rate,
                c["report"].mi_xz_model, c["kl_exact"]) for c in caps])
    shortfall = _shortfalls(mi_exact, cap.mi_model)
    hk = _half_cut(cap.cuts, cap.N)

    rep.check("data agree with Kaufman", all(abs(r["z_data"]) < 4 for r in results),
              "|z| < 4 at every T for the data's energy per site (error bar: std * sqrt(2 tau_int / n))",
              ", ".join(f"T {r['T']:.3f}: z {r['z_data']:+.2f}" for r in results))
    ic = int(np.argmin([abs(r["T"] - kaufman.T_C) for r in results]))
    away = [r for i, r in enumerate(results) if i != ic]
    peak = results[ic]
    miss_away = max(r["c_vae_abs_err"] for r in away)
    rep.check("VAE misses the specific heat at T_c", _c_missed(peak),
              "|C_VAE(T_c) - C_exact(T_c)| > 4 bootstrap standard errors and > 20 % of C_exact",
              f"C exact {peak['c_exact']:.3f}, VAE {peak['c_vae']:.3f} +- {peak['c_vae_se']:.3f} "
              f"(miss {peak['c_vae_abs_err']:.3f}, {100 * peak['c_vae_rel_err']:.0f} %)")
    # positive control: the same check away from T_c (the highest temperature, deep in the paramagnet) must find
    # agreement, or the miss at T_c says nothing about criticality
    hot = max(away, key=lambda r: r["T"])
    rep.check("positive control: the same specific-heat check away from T_c finds agreement", not _c_missed(hot),
              f"at T = {hot['T']:.2f}: |C_VAE - C_exact| <= 4 bootstrap standard errors or <= 20 % of C_exact",
              f"C exact {hot['c_exact']:.3f}, VAE {hot['c_vae']:.3f} +- {hot['c_vae_se']:.3f} "
              f"(miss {hot['c_vae_abs_err']:.3f}, {100 * hot['c_vae_rel_err']:.0f} %)")
    rep.check("data reproduce the specific-heat peak",
              abs(peak["c_data"] - peak["c_exact"]) < 4 * peak["c_data_se"],
              "|C_data(T_c) - C_exact(T_c)| < 4 bootstrap standard errors (the Monte Carlo data do carry the peak)",
              f"C exact {peak['c_exact']:.3f}, data {peak['c_data']:.3f} +- {peak['c_data_se']:.3f}")
    larger = peak["c_vae_abs_err"] > miss_away
    rep.text("Is the VAE's miss larger at T_c than away from it? " + ("Yes" if larger else "No, not in this run")
             + f": |C_VAE - C_exact| is {peak['c_vae_abs_err']:.3f} at T_c and at most {miss_away:.3f} elsewhere ("
             + ", ".join(f"T {r['T']:.2f}: {r['c_vae_abs_err']:.3f} ({100 * r['c_vae_rel_err']:.0f} %)"
                         for r in results) + ")."
             + ("" if larger else " Below T_c the generated samples mix the two magnetized sectors through "
                "latents between them that the prior still gives mass (the centre of a standard normal prior; a "
                "learned mixture can leave some), which decode to weakly magnetized configurations and inflate "
                "Var(E) beyond the exact value: the VAE fails there too, "
                "for a different reason (the latent prior), so this comparison does not isolate the critical "
                "failure; the capacity section below says what fails at a size where everything is exact."))
    worst_kl = max(caps, key=lambda c: c["kl_exact"])
    limited = [c for c in caps if c["report"].rate < max(c["mi_exact"])]  # exact MI (the plug-in is biased up)
    rep.text("Across temperatures (4 x 4, table above): the rate exceeds the largest exact cut MI of the data "
             + ("at every T, so no cut is rate-limited at this size" if not limited else
                "except at T = " + ", ".join(f"{c['T']:.2f}" for c in limited))
             + "; the half-cut I_model(A;B) is within "
             + f"{max(abs(c['half_shortfall']) for c in caps):.3f} nats of the exact I_data(A;B) at every T. The "
             "exact KL(Boltzmann || model) is largest at T = " + f"{worst_kl['T']:.2f} ({worst_kl['kl_exact']:.3f} nats; "
             + ", ".join(f"T {c['T']:.2f}: {c['kl_exact']:.3f}" for c in caps) + "). Where the rate is not "
             "binding, what the VAE misses is local, short-range structure within each side (the nearest-neighbour "
             "correlations that set the energy), which a factorized decoder with a 2-d latent cannot represent and "
             "which carries little information across a cut. The rate-limited failure (R < I_data(A;B), cut "
             "information growing with the boundary) needs boundaries longer than exact enumeration reaches "
             "(N <= 24); it is not demonstrated here.")
    hot_cap = max(caps, key=lambda c: c["T"])
    short_hot = _shortfalls(hot_cap["mi_exact"], hot_cap["report"].mi_model)
    rep.check("capacity: the model's cut MI falls short of the data's at T_c", len(shortfall) > 0,
              "I_model(A;B) < I_data(A;B) (exact) on at least one half-line cut",
              f"{len(shortfall)} of {len(cap.cuts)} cuts short; half cut: I_data exact {mi_exact[hk]:.4f} "
              f"(plug-in {cap.mi_data[hk]:.4f}), "
              f"I_model {cap.mi_model[hk]:.4f}, R {cap.rate:.3f}; {len(cap.flagged_cuts)} cuts with R < I_data; "
              f"KL(data || model) {cap.kl_data_model:.4f}")
    rep.check("positive control: the same capacity check away from T_c finds no shortfall", not short_hot,
              f"at T = {hot_cap['T']:.2f}: I_model(A;B) >= I_data(A;B) (exact) on every half-line cut",
              f"{len(short_hot)} of {len(hot_cap['mi_exact'])} cuts short" +
              (f", by up to {max(short_hot):.4f} nats" if short_hot else ""))

    plt = pyplot()
    Tf = np.linspace(min(temps) - 0.1, max(temps) + 0.1, 200)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    axes[0].plot(Tf, [kaufman.energy_per_site(L, L, t) for t in Tf], "k-", label=f"Kaufman L = {L}")
    Ts = [r["T"] for r in results]
    axes[0].errorbar(Ts, [r["e_data"] for r in results], yerr=[r["e_data_se"] for r in results], fmt="o",
                     label="data (Wolff)")
    axes[0].errorbar(Ts, [r["e_vae"] for r in results], yerr=[r["e_vae_se"] for r in results], fmt="s",
                     label="VAE samples")
    axes[0].set_xlabel("T")
    axes[0].set_ylabel("energy per site")
    axes[1].plot(Tf, [kaufman.specific_heat(L, L, t) for t in Tf], "k-", label=f"Kaufman L = {L}")
    axes[1].errorbar(Ts, [r["c_data"] for r in results], yerr=[r["c_data_se"] for r in results], fmt="o",
                     label="data (Wolff)")
    axes[1].errorbar(Ts, [r["c_vae"] for r in results], yerr=[r["c_vae_se"] for r in results], fmt="s",
                     label="VAE samples")
    axes[1].set_xlabel("T")
    axes[1].set_ylabel("specific heat per site")
    for ax in axes:
        ax.axvline(kaufman.T_C, color="gray", ls=":")
        ax.legend(fontsize=8)
    fig.tight_layout()
    rep.figure("ising_critical_energy_heat", fig, "Energy per site and specific heat of the data and of the VAE's "
               "samples against Kaufman's exact finite-lattice curves (dotted: T_c)")
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    sizes = [len(a) for a in cap.cuts]
    ax.plot(sizes, mi_exact, "o-", label="I_data(A;B) (exact)")
    ax.plot(sizes, cap.mi_data, "^:", label="I_data(A;B) (plug-in, samples)")
    ax.plot(sizes, cap.mi_model, "s-", label="I_model(A;B)")
    ax.axhline(cap.rate, color="k", ls="--", label="rate R")
    ax.set_xlabel("|A| (first sites, row-major)")
    ax.set_ylabel("nats")
    ax.legend(fontsize=8)
    rep.figure("ising_critical_capacity", fig, "4 x 4 Ising at T_c: cut mutual information of the data and of the "
               "VAE against its rate")
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    Tc_ = [c["T"] for c in caps]
    ax.plot(Tc_, [c["half_data"] for c in caps], "o-", label="I_data(A;B) half cut (exact)")
    ax.plot(Tc_, [c["half_model"] for c in caps], "s-", label="I_model(A;B) half cut")
    ax.plot(Tc_, [c["report"].rate for c in caps], "k--", label="rate R")
    ax.axvline(kaufman.T_C, color="gray", ls=":")
    ax.set_xlabel("T")
    ax.set_ylabel("nats")
    ax.legend(fontsize=8)
    rep.figure("ising_critical_capacity_vs_T", fig, "4 x 4 Ising: half-cut mutual information of the data (exact) "
               "and of the VAE, and its rate, across T (dotted: T_c)")
    printer(f"ising-critical: {'PASS' if rep.passed else 'FAIL'} ({t2 - t0:.1f} s)")
    rep.write(L=L, temperatures=list(temps), n_samples=n_samples, epochs=epochs, results=results,
              capacity=cap.to_dict(),
              capacity_vs_T=[{k: v for k, v in c.items() if k not in ("report", "data", "mi_exact")} for c in caps], seconds=time.perf_counter() - t0, seconds_sweep=t1 - t0,
              seconds_capacity=t2 - t1)
    return rep
