"""``fastmf demo``: the main job in one command.

1. The Hopfield reproduction (``fastmf reproduce hopfield --quick``): equilibrium samples of a Hopfield model,
   a VAE trained on them with ``fastmf train``'s defaults, the pattern matrix read off its decoder and checked
   against the truth, the generated samples checked against a fresh equilibrium set (energy two-sample
   statistic, basin weights, pair correlations, each against its floor) and their energy histogram printed next
   to the data's; report and figures in ``OUT/hopfield``.
2. The simulation check: the 2D Ising model (L x L, J = 1, h = 0) below, at and above T_c with the samplers that
   suit each regime, the sample files written, and the sampled energy per site compared with Kaufman's exact
   finite-lattice value (error bars from the samples' own autocorrelation).
"""
import pathlib

from . import stats
from .exact import kaufman
from .models.lattice import LatticeModel
from .sampling.simulate import simulate_lattice

__all__ = ["check_demo", "run_demo"]

RUNS = (("metropolis", 2.0), ("wolff", None), ("multispin", 3.0))  # None: T_c


def check_demo(L=32, backend="auto", n_samples=1000):
    """Refuse, before anything runs, what would make the demo fail late: an odd or too small lattice side (the
    checkerboard updates need even sides), an unknown backend, or samples above the memory limit.

    Raises
    ------
    ValueError
        With the reason (:class:`~fastmf.io.ResourceLimitError` for the memory estimate).
    """
    from .backends import resolve_backend
    from .io import check_memory

    if isinstance(L, bool) or not isinstance(L, int) or L < 2 or L % 2:
        raise ValueError(f"the demo's lattice side L must be an even integer >= 2 (checkerboard updates), got {L!r}")
    if backend not in ("auto", "cpu", "cuda", "cupy"):
        resolve_backend(backend)  # the message lists the backends
    # each run keeps its samples (int8 spins), stacks them once and computes per-sample observables
    check_memory(3 * n_samples * L * L + 64 * n_samples, f"the demo's {n_samples} samples of the {L}x{L} lattice")


def run_demo(out="fastmf-demo", L=32, seed=7, backend="auto", progress=True, n_samples=1000, printer=print):
    """Run the demo (``fastmf demo``): the quick Hopfield reproduction, then the 2D Ising simulation check.

    Parameters
    ----------
    out : str or path
        Output directory (created): ``hopfield/`` (report and figures) and the Ising sample files.
    L : int
        Linear size of the L x L Ising lattice.
    seed : int
        Seed of every run.
    backend : {"auto", "cpu", "cuda", "cupy"}
        Backend of the Metropolis run (the Wolff and multi-spin runs use the CPU).
    progress : bool
        Progress bars of the simulations.
    n_samples : int
        Samples per temperature.
    printer : callable
        Receives the output lines (default :func:`print`).

    Returns
    -------
    int
        0 when the Hopfield checks pass and every sampled energy agrees with Kaufman's within 4 standard
        errors, else 1.
    """
    check_demo(L, backend, n_samples)
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ok = _hopfield(out / "hopfield", seed, printer)
    printer("")
    return _ising(out, L, seed, backend, progress, n_samples, printer) if ok else 1


def _hopfield(out, seed, printer):
    from .experiments import run_experiment
    from .experiments.hopfield import SETTINGS

    N, P, T = SETTINGS[True][:3]
    printer(f"Hopfield model, N = {N}, P = {P} random patterns, T = {T}: simulate -> train a VAE -> read the "
            "patterns off its decoder")
    rep = run_experiment("hopfield", out, quick=True, seed=seed, printer=lambda *a: None)
    summary = rep.summary
    printer(f"{'check':<45} {'result':<6} found")
    for name, c in summary["checks"].items():
        printer(f"{name:<45} {'PASS' if c['passed'] else 'FAIL':<6} {c['found']}")
    printer(f"pattern overlaps {', '.join(f'{o:.3f}' for o in summary['overlaps'])}; report: {out / 'report.md'}")
    for line in energy_histogram_lines(**summary["energy_histogram"]):
        printer(line)
    return rep.passed


def energy_histogram_lines(edges, fresh, vae, rows=12, width=28):
    """The two energy histograms side by side as text: ``rows`` merged bins, bars scaled to the tallest."""
    import numpy as np

    edges, fresh, vae = (np.asarray(a, float) for a in (edges, fresh, vae))
    groups = np.array_split(np.arange(len(fresh)), min(rows, len(fresh)))
    f, v = (np.array([a[g].sum() for g in groups]) for a in (fresh, vae))
    top = max(f.max(), v.max(), 1e-300)
    lines = [f"{'energy':>16}  {'fresh equilibrium samples':<{width}}  VAE samples"]
    for g, a, b in zip(groups, f, v):
        lo, hi = edges[g[0]], edges[g[-1] + 1]
        lines.append(f"{lo:7.1f} .. {hi:5.1f}  {'#' * round(width * a / top):<{width}}  {'#' * round(width * b / top)}")
    return lines


def _ising(out, L, seed, backend, progress, n_samples, printer):
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
