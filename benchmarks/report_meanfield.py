"""Speed table of fastmf's O(P) Hopfield sweeps against the O(N)-per-update Numba baseline, one process.

Usage::

    python benchmarks/report_meanfield.py [--sizes 100,1000,10000] [--patterns 1,3,10] [--repeats 5]

Single Numba thread (figures are per core), 2 chains, beta = 0.8, Metropolis. For every (P, N) both
implementations are compiled first, then timed in interleaved rounds, best of ``--repeats`` (the machine may
be shared). Targets: >= 20x the baseline at N = 1000, and <= 3 ns per update at P <= 3.
"""
import argparse
import pathlib
import sys

import numba

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from benchmarks.bench_meanfield import HopfieldRunner, updates_per_ns
from benchmarks.report import machine_info


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100,1000,10000")
    ap.add_argument("--patterns", default="1,3,10")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--min-time", type=float, default=0.2)
    args = ap.parse_args(argv)
    numba.set_num_threads(1)
    info = machine_info()
    print(f"# {info['cpu']}, numba {info['numba']}, numpy {info['numpy']}, {info['date']}; 1 thread")
    print(f"{'P':>3} {'N':>6} {'fastmf upd/ns':>14} {'ns/update':>10} {'baseline upd/ns':>16} {'speed-up':>9}")
    results = {}
    for P in (int(x) for x in args.patterns.split(",")):
        for N in (int(x) for x in args.sizes.split(",")):
            if P >= N:
                continue
            runners = {impl: HopfieldRunner(impl, N, P) for impl in ("fastmf", "baseline")}
            best = {impl: 0.0 for impl in runners}
            for _ in range(args.repeats):  # interleaved so that load from other processes hits both alike
                for impl, runner in runners.items():
                    best[impl] = max(best[impl], updates_per_ns(runner, args.min_time, repeats=1))
            results[P, N] = best
            print(f"{P:>3} {N:>6} {best['fastmf']:>14.3f} {1 / best['fastmf']:>10.2f} {best['baseline']:>16.4f} "
                  f"{best['fastmf'] / best['baseline']:>8.0f}x", flush=True)
    if (1, 1000) in results or (3, 1000) in results:
        print("targets:")
        for (P, N), b in sorted(results.items()):
            if N == 1000:
                print(f"  P={P} N=1000 speed-up >= 20x: {'met' if b['fastmf'] / b['baseline'] >= 20 else 'MISSED'}")
        for (P, N), b in sorted(results.items()):
            if P <= 3:
                print(f"  P={P} N={N} <= 3 ns/update: {'met' if 1 / b['fastmf'] <= 3 else 'MISSED'} "
                      f"({1 / b['fastmf']:.2f} ns)")
    return results


if __name__ == "__main__":
    main()
