"""The retina pipeline at scale: a synthetic recording of a few hundred neurons and 10^6 time bins.

    python benchmarks/retina_scale.py --neurons 300 --bins 1000000 --out /tmp/retina_scale [--full]

Writes ``DIR/data.npz`` (a bit-packed :class:`fastmf.neural.SpikeRaster`: exact samples of a planted latent
mean-field model with a non-Gaussian latent density, sparse like a retina: see :func:`planted_model`), then runs
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

# fastmf's classes are imported inside the functions: asv imports every module of benchmarks/ and instantiates,
# without arguments, every public class in its namespace that has a method named time_*, track_*, mem_*, ...
# (SpikeRaster.time_blocks made `asv check` fail with a TypeError).


def planted_model(n_neurons, seed=0, n_directions=3):
    """Sparse fields (mean -1.5, SD 0.3) and ``n_directions`` Gaussian directions (components of SD 0.3), with a
    non-Gaussian latent density: a quiet state (60 %), an active state (10 %) and a skewed cloud (30 %), 24 atoms
    in all. At N = 300 about 8 % of the neurons fire per bin and the correlation coefficients are retina-like
    (mean |rho| 0.04, the largest 0.5)."""
    from fastmf.decode.latent_model import LatentMeanField
    rng = np.random.default_rng(seed)
    P = int(n_directions)
    quiet = rng.normal(0.0, 0.3, (8, P))
    active = rng.normal(0.0, 0.3, (4, P)) + 4.0 * np.eye(P)[0]
    cloud = np.abs(rng.normal(0.0, 1.0, (12, P))) * np.array([1.0] + [2.0] * (P - 1))
    atoms = np.concatenate([quiet, active, cloud])
    weights = np.concatenate([np.full(8, 0.6 / 8), np.full(4, 0.1 / 4), np.full(12, 0.3 / 12)])
    return LatentMeanField(-1.5 + 0.3 * rng.standard_normal(n_neurons),
                           0.3 * rng.standard_normal((P, n_neurons)),
                           atoms, weights)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--neurons", type=int, default=300)
    ap.add_argument("--bins", type=int, default=1_000_000)
    ap.add_argument("--out", type=pathlib.Path, required=True)
    ap.add_argument("--full", action="store_true", help="the full (not --quick) retina settings")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    from fastmf.experiments import run_experiment
    from fastmf.neural import SpikeRaster
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    model = planted_model(args.neurons, args.seed)
    chunks = [np.packbits(model.sample(min(200_000, args.bins - a), seed=[args.seed, a]) > 0, axis=1)
              for a in range(0, args.bins, 200_000)]
    raster = SpikeRaster(np.concatenate(chunks), args.neurons, source="planted latent mean-field model")
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
