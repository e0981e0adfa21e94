"""``fastmf reproduce ising-phases``: a beta-VAE on mixed-phase 2D Ising data (FM, AFM, PM).

Equilibrium L x L configurations (Wolff clusters) from three phases: ferromagnetic (J = +1, T = 1.5),
antiferromagnetic (J = -1, T = 1.5) and paramagnetic (J = +1, T = 5), equal numbers of each, train beta-VAEs with a
two-dimensional latent at several beta (loss = distortion + beta * rate). Theory (docs/theory.rst): an intermediate (or small)
beta gives latents aligned with the magnetization m and the staggered magnetization m_s; a very large beta collapses
the latent (rate -> 0). The ordered phases each have two symmetry-related sectors (m = +-1 and m_s = +-1), so the
data hold five clusters ("sectors"): FM+, FM-, AFM+, AFM-, PM.

Measures: rate and distortion per beta (nats per configuration, on all the data); the per-axis correlation of the
posterior means with m and m_s, and the rotation-invariant multiple correlation (nothing aligns the latent axes
with m or m_s: a standard normal prior is isotropic, and a learned mixture prior sits wherever training puts it;
the multiple correlation R of a linear fit of m on (z1, z2) is the largest ``|r|`` of any direction in latent
space); phase separation as the nearest-centroid accuracy of the posterior means over the five sectors; the
first-moment isometry: the maximum mean discrepancy with the linear kernel
k(x, y) = x . y / N between two sectors is the squared distance between their mean configurations,
``D_ab = |<x>_a - <x>_b| / sqrt(N)``; it is compared with the distance between the sectors' latent centroids (Pearson r
over the ten sector pairs, and the best single scale factor). A beta^2-VAE (per-site inverse temperatures
beta_k(z) = sigmoid(t_k(z)) in (0, 1) times fields h_k(z)) is trained at beta = 1 and its temperatures and fields
are shown at the five sector centroids.
"""
import time

import numpy as np

from ..models.lattice import LatticeModel
from ..sampling.simulate import simulate_lattice
from ..vae import VAE, nets
from .report import Report, pyplot

__all__ = ["PHASES", "SETTINGS", "run"]

#: (name, J, T) of the three phases
PHASES = (("FM", 1.0, 1.5), ("AFM", -1.0, 1.5), ("PM", 1.0, 5.0))
SECTORS = ("FM+", "FM-", "AFM+", "AFM-", "PM")
#: (L, samples per phase, betas, epochs, hidden)
SETTINGS = {False: (32, 2000, (1.0, 10.0, 100.0, 2000.0), 30, (64,)),
            True: (16, 800, (1.0, 100.0), 15, (64,))}


def staggered_pattern(L, M=None):
    M = L if M is None else M
    return np.where(np.add.outer(np.arange(L), np.arange(M)) % 2 == 0, 1, -1).astype(np.int8)


def _sector_labels(phase, m, ms):
    """0..4 = FM+, FM-, AFM+, AFM-, PM (sign of m in FM, of m_s in AFM)."""
    lab = np.full(len(phase), 4)
    lab[(phase == 0) & (m >= 0)] = 0
    lab[(phase == 0) & (m < 0)] = 1
    lab[(phase == 1) & (ms >= 0)] = 2
    lab[(phase == 1) & (ms < 0)] = 3
    return lab


def _multiple_r(Z, y):
    A = np.column_stack([Z, np.ones(len(Z))])
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    fit = A @ coef
    return float(np.corrcoef(fit, y)[0, 1]) if np.std(fit) > 0 else 0.0


def _corr(a, b):
    return float(np.corrcoef(a, b)[0, 1]) if np.std(a) > 0 and np.std(b) > 0 else 0.0


def _nearest_centroid_accuracy(Z, lab, seed):
    """Centroids from a random half, accuracy on the other half."""
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(Z))
    tr, te = idx[: len(Z) // 2], idx[len(Z) // 2:]
    present = [k for k in range(len(SECTORS)) if np.any(lab[tr] == k)]
    cent = np.array([Z[tr][lab[tr] == k].mean(axis=0) for k in present])
    pred = np.array(present)[np.argmin(((Z[te][:, None, :] - cent[None]) ** 2).sum(-1), axis=1)]
    return float(np.mean(pred == lab[te]))


def _pair_distances(P):
    n = len(P)
    return np.array([np.linalg.norm(P[a] - P[b]) for a in range(n) for b in range(a + 1, n)])


def _montage(vae, lim=2.5, k=7):
    g = np.linspace(-lim, lim, k)
    Z = np.array([(x, y) for y in g[::-1] for x in g])
    imgs = vae.decode(Z)  # (k*k, L, M) P(s = +1)
    L, M = imgs.shape[1:]
    big = np.ones((k * (L + 1) - 1, k * (M + 1) - 1))
    for i in range(k):
        for j in range(k):
            big[i * (L + 1): i * (L + 1) + L, j * (M + 1): j * (M + 1) + M] = imgs[i * k + j]
    return big


def run(out, quick=False, seed=0, printer=print):
    L, n_per, betas, epochs, hidden = SETTINGS[bool(quick)]
    N = L * L
    rep = Report(out, f"Ising phases: beta-VAE on FM / AFM / PM configurations (L = {L})")
    rep.text(__doc__.split("\n\n", 1)[1].strip())
    t0 = time.perf_counter()
    X, phase = [], []
    for k, (_, J, T) in enumerate(PHASES):
        s = simulate_lattice(LatticeModel(L, L, J=J), T, n_per, seed=seed + 11 + k, method="wolff", progress=False)
        X.append(np.asarray(s.spins, np.int8))
        phase.append(np.full(n_per, k))
    X, phase = np.concatenate(X), np.concatenate(phase)
    stag = staggered_pattern(L)
    m = X.mean(axis=(1, 2), dtype=np.float64)
    ms = (X * stag).mean(axis=(1, 2), dtype=np.float64)
    sector = _sector_labels(phase, m, ms)
    means = np.array([X[sector == k].reshape(-1, N).mean(axis=0) for k in range(5)])
    d_data = _pair_distances(means) / np.sqrt(N)
    t1 = time.perf_counter()
    printer(f"ising-phases: {len(X)} configurations of {L}x{L} in {t1 - t0:.1f} s")

    results, vaes, latents = [], {}, {}
    for b in betas:
        vae = VAE(latent_dim=2, hidden=hidden, beta=b, epochs=epochs, lr=3e-3, dtype="float32", seed=seed,
                  progress=False).fit(X)
        mu, _ = vae.encode(X)
        rate = float(np.mean(vae.rate(X)))
        hist = vae.history_[-1]
        r_m = [_corr(mu[:, a], m) for a in range(2)]
        r_ms = [_corr(mu[:, a], ms) for a in range(2)]
        r_absm = [_corr(mu[:, a], np.abs(m)) for a in range(2)]
        cent = np.array([mu[sector == k].mean(axis=0) for k in range(5)])
        d_lat = _pair_distances(cent)
        scale = float(d_lat @ d_data / (d_data @ d_data))
        res = {"beta": b, "rate": rate, "distortion": float(hist["distortion"]),
               "val_distortion": float(hist.get("val_distortion", np.nan)),
               "r_m_axes": r_m, "r_ms_axes": r_ms, "r_abs_m_axes": r_absm,
               "R_m": _multiple_r(mu, m), "R_ms": _multiple_r(mu, ms),
               "centroid_accuracy": _nearest_centroid_accuracy(mu, sector, seed),
               "isometry_r": _corr(d_lat, d_data), "isometry_scale": scale,
               "isometry_rel_rms": float(np.sqrt(np.mean((d_lat - scale * d_data) ** 2)) /
                                         max(np.sqrt(np.mean(d_lat ** 2)), 1e-12)),
               "latent_distances": d_lat, "data_distances": d_data}
        results.append(res)
        vaes[b], latents[b] = vae, mu
        printer(f"beta = {b:7.1f}: R = {rate:.4f}, D = {res['distortion']:.2f}, |r| m {np.abs(r_m).max():.3f}, "
                f"m_s {np.abs(r_ms).max():.3f}, multiple R m {res['R_m']:.3f} m_s {res['R_ms']:.3f}, "
                f"accuracy {res['centroid_accuracy']:.3f}")
    t2 = time.perf_counter()

    vb2 = VAE(latent_dim=2, hidden=hidden, decoder="beta2", beta=1.0, epochs=epochs, lr=3e-3, dtype="float32",
              seed=seed, progress=False).fit(X)
    mu2, _ = vb2.encode(X)
    cent2 = np.array([mu2[sector == k].mean(axis=0) for k in range(5)])
    o2 = nets.decoder_outputs(vb2.theta_, vb2.layout_, cent2.astype(vb2.dtype), "beta2", vb2.n_sites_)
    beta_k = 1.0 / (1.0 + np.exp(-np.asarray(o2["t"], np.float64)))
    h_k = np.asarray(o2["h"], np.float64)
    b2 = {"rate": float(np.mean(vb2.rate(X))), "distortion": float(vb2.history_[-1]["distortion"]),
          "beta_k_mean": beta_k.mean(axis=1), "beta_k_min": float(beta_k.min()), "beta_k_max": float(beta_k.max()),
          "h_rms": np.sqrt((h_k ** 2).mean(axis=1)),
          "centroid_accuracy": _nearest_centroid_accuracy(mu2, sector, seed)}
    t3 = time.perf_counter()

    rep.table(["quantity", "value"], [
        ("lattice, samples", f"{L} x {L}, {n_per} per phase ({len(X)} in all), Wolff"),
        ("VAE", f"latent 2, hidden {hidden}, mlp encoder, Bernoulli decoder, {epochs} epochs"),
        ("time: simulate / beta-VAEs / beta^2-VAE", f"{t1 - t0:.1f} s / {t2 - t1:.1f} s / {t3 - t2:.1f} s"),
    ])
    rep.table(["beta", "rate R (nats)", "distortion (nats)", "max |r(z_a, m)|", "max |r(z_a, m_s)|",
               "multiple R (m)", "multiple R (m_s)", "5-sector centroid accuracy", "isometry r"],
              [(r["beta"], r["rate"], r["distortion"], float(np.max(np.abs(r["r_m_axes"]))),
                float(np.max(np.abs(r["r_ms_axes"]))), r["R_m"], r["R_ms"], r["centroid_accuracy"],
                r["isometry_r"]) for r in results])
    rep.text(f"beta^2-VAE (beta = 1): rate {b2['rate']:.3f}, distortion {b2['distortion']:.2f}, centroid accuracy "
             f"{b2['centroid_accuracy']:.3f}; mean inverse temperature per sector "
             + ", ".join(f"{s} {v:.3f}" for s, v in zip(SECTORS, b2["beta_k_mean"]))
             + f" (range {b2['beta_k_min']:.3f} .. {b2['beta_k_max']:.3f}); rms field per sector "
             + ", ".join(f"{s} {v:.2f}" for s, v in zip(SECTORS, b2["h_rms"])) + ".")

    # checks. Order-parameter alignment: the latent axes carry no meaning of their own, so the check is on the best
    # direction (multiple correlation); per-axis |r| are reported alongside.
    informative = [r for r in results if r["rate"] >= 0.1]
    best = max(informative, key=lambda r: min(r["R_m"], r["R_ms"]), default=None)
    rep.check("latent encodes m and m_s", best is not None and min(best["R_m"], best["R_ms"]) > 0.9,
              "at some beta with R >= 0.1 nats, a linear read-out of the posterior means has |r| > 0.9 with both m "
              "and m_s (the rotation-invariant multiple correlation; noise-free data would give ~1)",
              "no informative beta" if best is None else
              f"beta {best['beta']}: multiple R {best['R_m']:.3f} (m), {best['R_ms']:.3f} (m_s); per-axis max |r| "
              f"{np.max(np.abs(best['r_m_axes'])):.3f} (m), {np.max(np.abs(best['r_ms_axes'])):.3f} (m_s)")
    rep.check("phases separate in latent space",
              best is not None and best["centroid_accuracy"] > 0.9,
              "nearest-centroid accuracy > 0.9 over the five sectors (held-out half; chance is 0.2-0.33)",
              "no informative beta" if best is None else
              f"beta {best['beta']}: {best['centroid_accuracy']:.3f}")
    top = results[-1]
    rep.check("largest beta collapses the latent", top["rate"] < 0.1,
              "rate < 0.1 nats at the largest beta (the rate costs beta per nat, more than the distortion saved)",
              f"beta {top['beta']}: R = {top['rate']:.4f} nats")

    plt = pyplot()
    colors = ("tab:red", "tab:orange", "tab:blue", "tab:cyan", "tab:gray")
    fig, axes = plt.subplots(1, len(betas), figsize=(3.2 * len(betas), 3.4), squeeze=False)
    for ax, b in zip(axes[0], betas):
        ax.imshow(_montage(vaes[b]), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(f"beta = {b:g}")
        ax.set_xticks([])
        ax.set_yticks([])
    rep.figure("ising_phases_decoder_grid", fig, "Decoder means P(s = +1) on a 7 x 7 grid of latent points in "
               "[-2.5, 2.5]^2 (z1 right, z2 up), one panel per beta")
    fig, axes = plt.subplots(1, len(betas), figsize=(3.4 * len(betas), 3.4), squeeze=False)
    for ax, b in zip(axes[0], betas):
        mu = latents[b]
        for k, name in enumerate(SECTORS):
            sel = sector == k
            ax.scatter(mu[sel, 0], mu[sel, 1], s=3, c=colors[k], label=name, alpha=0.6)
        ax.set_title(f"beta = {b:g}")
        ax.set_xlabel("z1")
    axes[0][0].set_ylabel("z2")
    axes[0][0].legend(markerscale=4, fontsize=7)
    rep.figure("ising_phases_latent", fig, "Posterior means coloured by phase and sector (FM: red/orange, AFM: "
               "blue/cyan, PM: grey)")
    bsel = best["beta"] if best is not None else betas[0]
    mu = latents[bsel]
    fig, axes = plt.subplots(2, 2, figsize=(7, 6))
    for a in range(2):
        for j, (y, name) in enumerate(((m, "m"), (ms, "m_s"))):
            ax = axes[a][j]
            ax.scatter(y, mu[:, a], s=3, c=[colors[k] for k in sector], alpha=0.5)
            ax.set_xlabel(name)
            ax.set_ylabel(f"z{a + 1}")
            ax.set_title(f"r = {_corr(mu[:, a], y):+.3f}", fontsize=9)
    fig.tight_layout()
    rep.figure("ising_phases_order_parameters", fig, f"Latent coordinates against the magnetization m and the "
               f"staggered magnetization m_s (beta = {bsel:g})")
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    rb = next(r for r in results if r["beta"] == bsel)
    axes[0].scatter(rb["data_distances"], rb["latent_distances"], c="k")
    xx = np.linspace(0, rb["data_distances"].max() * 1.05, 2)
    axes[0].plot(xx, rb["isometry_scale"] * xx, "r--", label=f"scale {rb['isometry_scale']:.2f}")
    axes[0].set_xlabel("|<x>_a - <x>_b| / sqrt(N) (data, first moments)")
    axes[0].set_ylabel("|<z>_a - <z>_b| (posterior means)")
    axes[0].set_title(f"beta = {bsel:g}: Pearson r = {rb['isometry_r']:.3f}", fontsize=9)
    axes[0].legend()
    axes[1].semilogx([r["beta"] for r in results], [r["isometry_r"] for r in results], "o-")
    axes[1].set_xlabel("beta")
    axes[1].set_ylabel("Pearson r of the 10 sector distances")
    fig.tight_layout()
    rep.figure("ising_phases_isometry", fig, "First-moment (linear-kernel MMD) isometry: distances between the "
               "sectors' mean configurations against distances between their latent centroids")
    fig, axes = plt.subplots(2, 5, figsize=(12, 5.2))
    for k, name in enumerate(SECTORS):
        im0 = axes[0][k].imshow(beta_k[k].reshape(L, L), cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
        axes[0][k].set_title(f"{name}: beta_k", fontsize=9)
        v = np.abs(h_k).max()
        im1 = axes[1][k].imshow(h_k[k].reshape(L, L), cmap="RdBu_r", vmin=-v, vmax=v, interpolation="nearest")
        axes[1][k].set_title(f"{name}: h_k", fontsize=9)
        for ax in (axes[0][k], axes[1][k]):
            ax.set_xticks([])
            ax.set_yticks([])
    fig.colorbar(im0, ax=list(axes[0]), shrink=0.8)
    fig.colorbar(im1, ax=list(axes[1]), shrink=0.8)
    rep.figure("ising_phases_beta2", fig, "beta^2-VAE: per-site inverse temperatures beta_k = sigmoid(t_k) (top) "
               "and local fields h_k (bottom) at the latent centroid of each sector")
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    bs = [r["beta"] for r in results]
    ax.loglog(bs, [max(r["rate"], 1e-5) for r in results], "o-", label="rate R")
    ax.loglog(bs, [r["distortion"] for r in results], "s-", label="distortion")
    ax.set_xlabel("beta")
    ax.set_ylabel("nats per configuration")
    ax.legend()
    rep.figure("ising_phases_rate_distortion", fig, "Rate and distortion against beta")
    printer(f"ising-phases: {'PASS' if rep.passed else 'FAIL'} ({t3 - t0:.1f} s)")
    rep.write(L=L, n_per_phase=n_per, betas=list(betas), epochs=epochs,
              results=[{k: v for k, v in r.items()} for r in results], beta2=b2,
              seconds=time.perf_counter() - t0)
    return rep
