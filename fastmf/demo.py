"""``fastmf demo``: the main job in one command.

Simulates the 2D Ising model (L x L, J = 1, h = 0) below, at and above T_c with the samplers that suit each
regime, writes the sample files, and compares the sampled energy per site with Kaufman's exact
finite-lattice value (error bars from the samples' own autocorrelation).
"""
import pathlib


from . import stats
from .exact import kaufman
from .lattice import LatticeModel
from .simulate import simulate_lattice

__all__ = ["run_demo"]

RUNS = (("metropolis", 2.0), ("wolff", None), ("multispin", 3.0))  # None: T_c


def run_demo(out="fastmf-demo", L=32, seed=7, backend="auto", progress=True, n_samples=1000, printer=print):
    """Run the demo; returns 0 when every sampled energy agrees with Kaufman within 4 standard errors."""
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model = LatticeModel(L=L)
    printer(f"2D Ising model, {L}x{L} periodic, J=1, h=0; exact energies from Kaufman (1949)")
    printer(f"{'sampler':<11} {'T':>7} {'samples':>7} {'tau_int':>8} {'thin':>5} {'<E>/N':>18} "
            f"{'exact':>9} {'z':>6}  file")
    ok = True
    for method, T in RUNS:
        T = kaufman.T_C if T is None else T
        be = backend if method == "metropolis" else "cpu"
        samples = simulate_lattice(model, T, n_samples, seed=seed, method=method, backend=be, progress=progress)
        path = samples.save(out / f"ising2d_L{L}_T{T:.3f}_{method}.npz")
        e = samples["energy"] / model.n_sites
        mean, err, _ = stats.mean_and_error(e)
        exact = kaufman.energy_per_site(L, L, T)
        z = (mean - exact) / err
        ok &= abs(z) <= 4
        meta = samples.metadata
        printer(f"{method:<11} {T:7.4f} {len(samples):7d} {meta['tau_int_max']:8.2f} {meta['thin']:5d} "
                f"{mean:9.5f}+-{err:.5f} {exact:9.5f} {z:+6.2f}  {path}")
    printer("all sampled energies agree with the exact values (|z| <= 4)" if ok else
            "DISAGREEMENT with the exact values (|z| > 4)")
    return 0 if ok else 1
