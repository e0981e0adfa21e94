"""Speed table of fastmf's Curie-Weiss and Hopfield sweeps against the competent and naive Numba baselines.

Usage::

    python benchmarks/report_meanfield.py [--sizes 100,1000,10000] [--patterns 1,3,10]
                                          [--models curie_weiss,hopfield] [--repeats 5]

Single Numba thread (figures are per core), 2 chains, beta = 0.8, sequential Metropolis sweeps, one process.
For every row all three implementations are compiled first, then timed in interleaved rounds, best of
``--repeats`` (the machine may be shared). The headline ratio is fastmf over the competent baseline (order
parameters maintained, threshold table, inline xorshift64*: ``benchmarks/competent.py``); the ratio over the
naive O(N)-per-update kernel is an extra column. Targets (stated when first set, against the naive kernel):
>= 20x it at N = 1000 (Hopfield), and <= 3 ns per update at P <= 3.
"""
import argparse
import pathlib
import sys

import numba

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from benchmarks.bench_meanfield import IMPLEMENTATIONS, MeanFieldRunner, updates_per_ns  # noqa: E402
from benchmarks.report import machine_info  # noqa: E402


def _rows(models, patterns, sizes):
    """(model, P, N) to measure: Curie-Weiss once per N (P = 1), Hopfield per P < N."""
    for model in models:
        for P in ([1] if model == "curie_weiss" else patterns):
            for N in sizes:
                if P < N:
                    yield model, P, N


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100,1000,10000")
    ap.add_argument("--patterns", default="1,3,10")
    ap.add_argument("--models", default="curie_weiss,hopfield")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--min-time", type=float, default=0.2)
    args = ap.parse_args(argv)
    numba.set_num_threads(1)
    info = machine_info()
    print(f"# {info['cpu']}, numba {info['numba']}, numpy {info['numpy']}, {info['date']}; 1 thread, 2 chains")
    print(f"{'model':>11} {'P':>3} {'N':>6} {'fastmf upd/ns':>14} {'ns/update':>10} {'competent upd/ns':>17} "
          f"{'naive upd/ns':>13} {'x competent':>12} {'x naive':>8}")
    results = {}
    rows = _rows(args.models.split(","), [int(x) for x in args.patterns.split(",")],
                 [int(x) for x in args.sizes.split(",")])
    for model, P, N in rows:
        runners = {impl: MeanFieldRunner(impl, N, P, model) for impl in IMPLEMENTATIONS}
        best = {impl: 0.0 for impl in runners}
        for _ in range(args.repeats):  # interleaved so that load from other processes hits all alike
            for impl, runner in runners.items():
                best[impl] = max(best[impl], updates_per_ns(runner, args.min_time, repeats=1))
        results[model, P, N] = best
        print(f"{model:>11} {P:>3} {N:>6} {best['fastmf']:>14.3f} {1 / best['fastmf']:>10.2f} "
              f"{best['competent']:>17.3f} {best['naive']:>13.4f} {best['fastmf'] / best['competent']:>11.2f}x "
              f"{best['fastmf'] / best['naive']:>7.0f}x", flush=True)
    print("fastmf / competent (headline): " + ", ".join(
        f"{m} P={P} N={N}: {b['fastmf'] / b['competent']:.2f}x" for (m, P, N), b in sorted(results.items())))
    hop = {(P, N): b for (m, P, N), b in sorted(results.items()) if m == "hopfield"}
    if hop:
        print("targets:")
        for (P, N), b in hop.items():
            if N == 1000:
                r = b["fastmf"] / b["naive"]
                print(f"  Hopfield P={P} N=1000 >= 20x naive: {'met' if r >= 20 else 'MISSED'} ({r:.0f}x)")
        for (P, N), b in hop.items():
            if P <= 3:
                print(f"  Hopfield P={P} N={N} <= 3 ns/update: {'met' if 1 / b['fastmf'] <= 3 else 'MISSED'} "
                      f"({1 / b['fastmf']:.2f} ns)")
    return results


if __name__ == "__main__":
    main()
