"""The retina pipeline at scale: a synthetic recording of a few hundred neurons and 10^6 time bins.

    python benchmarks/retina_scale.py --neurons 300 --bins 1000000 --out /tmp/retina_scale [--full]

Writes ``DIR/data.npz`` (a bit-packed :class:`fastmf.neural.SpikeRaster`: exact samples of a planted two-pattern
generalized Hopfield model drawn through its latent, sparse like a retina: see :func:`planted_model`), then runs
the retina experiment on it (``fastmf reproduce retina --data DIR/data.npz [--quick]``, with progress bars) into
``DIR/report`` and prints the time of each stage and the peak memory. Not an asv benchmark: it takes minutes, and
its point is that the whole pipeline (loading, splitting, VAE training, read-off, fits, sampling, statistics) runs
at this size on 2 cores.
"""
import argparse
import pathlib
import resource
import time

import numpy as np

from fastmf.decode.effective import GeneralizedHopfield
from fastmf.experiments import run_experiment
from fastmf.neural import SpikeRaster


def planted_model(n_neurons, seed=0):
    """Two Gaussian patterns (components of SD 1.5) on sparse fields (mean -1.3): at N = 300 about 12 % of the
    neurons fire per bin, and the correlation coefficients are retina-like (mean |rho| ~ 0.02, the largest
    ~ 0.3). Patterns of one sign (assemblies) were tried: in the +-1 convention they freeze their members
    silent (the all-silent state is the pattern's own -xi state), which leaves no correlations at all."""
    rng = np.random.default_rng(seed)
    return GeneralizedHopfield(-1.3 + 0.3 * rng.standard_normal(n_neurons), 1.5 * rng.standard_normal((2, n_neurons)))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--neurons", type=int, default=300)
    ap.add_argument("--bins", type=int, default=1_000_000)
    ap.add_argument("--out", type=pathlib.Path, required=True)
    ap.add_argument("--full", action="store_true", help="the full (not --quick) retina settings")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    model = planted_model(args.neurons, args.seed)
    chunks = [np.packbits(model.sample_latent(min(200_000, args.bins - a), seed=[args.seed, a]) > 0, axis=1)
              for a in range(0, args.bins, 200_000)]
    raster = SpikeRaster(np.concatenate(chunks), args.neurons, source="planted generalized Hopfield")
    path = raster.save(args.out / "data.npz")
    t1 = time.perf_counter()
    print(f"data: {raster.n_bins} bins x {raster.n_neurons} neurons, mean rate {raster.firing_rates().mean():.4f}, "
          f"{path.stat().st_size / 2**20:.1f} MiB packed; {t1 - t0:.1f} s")
    rep = run_experiment("retina", args.out / "report", quick=not args.full, seed=args.seed, data=str(path),
                         progress=True)
    t2 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"retina pipeline: {t2 - t1:.1f} s; peak memory {peak:.2f} GiB; report in {args.out / 'report'}")
    return rep


if __name__ == "__main__":
    main()
