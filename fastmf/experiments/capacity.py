"""``fastmf reproduce capacity``: rate against bipartite mutual information as beta varies (Curie-Weiss data).

Exact Curie-Weiss data in the ordered phase (N = 10, beta J = 1.5: the two magnetized basins make the largest
bipartite mutual information 0.58 nats, at the half-half cut) train beta-VAEs with one latent at several beta. For each, the exact
capacity report (``fastmf.exact.capacity``) gives the rate R, the data's and the model's bipartite MI and
KL(data || model). The theory (docs/theory.rst): a factorized decoder satisfies I_model(A;B) <= I(X;Z) <= R, so
where R falls below I_data(A;B) the model cannot reproduce the data; expected: small beta keeps R above the
data's largest cut MI, and the beta = 1 VAE (the ELBO) has a small KL; large beta pushes R below it, the flagged
cuts appear and KL grows above its value at every beta whose rate is enough.
"""
import numpy as np

from ..exact import PairwiseModel, log_prob_table
from ..exact.capacity import capacity_report
from ..exact.info import states
from ..vae import VAE
from .report import Report, pyplot

__all__ = ["run"]


def run(out, quick=False, seed=0, printer=print):
    N, beta_J = 10, 1.5
    betas = (0.3, 1.0, 3.0, 30.0) if quick else (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
    n_samples = 20000 if quick else 60000
    epochs = 20 if quick else 40
    rep = Report(out, "Capacity: rate against bipartite mutual information (Curie-Weiss, beta-VAE)")
    rep.text(__doc__.split("\n\n", 1)[1].strip())
    data = log_prob_table(PairwiseModel.curie_weiss(N), beta_J)
    rng = np.random.default_rng(seed)
    spins = states(N)[rng.choice(len(data), size=n_samples, p=np.exp(data))]
    rows, results = [], []
    for b in betas:
        vae = VAE(latent_dim=1, hidden=(32,), beta=b, epochs=epochs, lr=3e-3, seed=seed, progress=False).fit(spins)

        def encoder(x, vae=vae):
            return vae.encode(np.asarray(x).astype(np.int8))
        cap = capacity_report(data, vae.fields, 1, encoder, check=False, prior=vae.prior_mixture())
        i_max = float(np.max(cap.mi_data))
        results.append({"beta": b, "rate": cap.rate, "max_mi_data": i_max, "kl": cap.kl_data_model,
                        "flagged": len(cap.flagged_cuts), "mi_xz_model": cap.mi_xz_model})
        rows.append((b, cap.rate, i_max, cap.kl_data_model, len(cap.flagged_cuts)))
        printer(f"beta = {b:6.1f}: R = {cap.rate:.4f}, max I_data = {i_max:.4f}, KL = {cap.kl_data_model:.4f}, "
                f"{len(cap.flagged_cuts)} cuts flagged")
    rep.table(["beta", "rate R (nats)", "max_cut I_data (nats)", "KL(data || model)", "cuts with R < I_data"], rows)
    low = [r for r in results if r["rate"] >= r["max_mi_data"]]
    high = [r for r in results if r["rate"] < r["max_mi_data"]]
    elbo = [r for r in results if r["beta"] == 1.0]
    rep.check("the ELBO (beta = 1) reproduces the data", bool(elbo) and elbo[0]["rate"] >= elbo[0]["max_mi_data"]
              and elbo[0]["kl"] < 0.05, "R >= max I_data and KL(data || model) < 0.05 nats at beta = 1",
              f"R {elbo[0]['rate']:.3f}, KL {elbo[0]['kl']:.3f}" if elbo else "beta = 1 not run")
    rep.text("R >= I_data(A;B) is necessary for a factorized decoder to reproduce the data, not sufficient: at "
             "beta != 1 the objective is not a bound on the likelihood (beta < 1 weights reconstruction over the "
             "prior, so the decoder's marginal is fitted less well), and a rate just above the largest cut MI leaves "
             "no margin. KL at every beta with R >= max I_data: "
             + (", ".join(f"beta {r['beta']}: R {r['rate']:.3f}, KL {r['kl']:.3f}" for r in low) or "none") + ".")
    rep.check("rate below the data's MI fails", bool(high) and min(r["kl"] for r in high) >
              (max(r["kl"] for r in low) if low else 0.0),
              "every beta with R < max I_data has a larger KL than every beta with R >= max I_data",
              ", ".join(f"beta {r['beta']}: R {r['rate']:.3f}, KL {r['kl']:.3f}" for r in high) or "no such beta")
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    bs = [r["beta"] for r in results]
    ax.semilogx(bs, [r["rate"] for r in results], "o-", label="rate R")
    ax.axhline(results[0]["max_mi_data"], color="k", ls="--", label="largest cut MI of the data")
    ax.semilogx(bs, [r["kl"] for r in results], "s-", label="KL(data || model)")
    ax.set_xlabel("beta (weight of the rate)")
    ax.set_ylabel("nats")
    ax.legend()
    rep.figure("capacity_rate_vs_mi", fig, "Rate and reconstruction error against beta; the dashed line is the "
               "data's largest bipartite mutual information")
    rep.write(N=N, beta_J=beta_J, results=results)
    return rep
