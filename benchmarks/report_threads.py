"""Two-thread scaling of fastmf's parallel paths: the speed on 2 threads over the speed on 1, one process.

Usage::

    python benchmarks/report_threads.py [--threads 2] [--repeats 8] [--min-time 0.3]

Paths (issue targets: >= 1.8x on 2 cores): the scalar checkerboard Ising sweep at L = 1024 (T_c), the O(P) Hopfield
sweep at N = 1000, P = 3 with 2 chains (beta = 0.8), and exact enumeration of all 2^26 states of a dense +-1 and a
dense Gaussian 26-spin model (ln Z, <E>, Var E and the magnetization distribution). Every kernel is compiled and
warmed up on both thread counts first; the rounds alternate 1 and 2 threads (so load from other processes hits both
alike), and each figure is the best of ``--repeats``. Run it on an idle machine: a parallel region waits for its
slowest thread, so a busy core costs the 2-thread figure far more than the 1-thread one.
"""
import argparse
import pathlib
import sys
import time

import numba

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from benchmarks.baselines import BETA_C, LatticeRunner, flips_per_ns  # noqa: E402
from benchmarks.bench_exact import BETA, make_model  # noqa: E402
from benchmarks.bench_meanfield import MeanFieldRunner, updates_per_ns  # noqa: E402
from benchmarks.report import machine_info  # noqa: E402

TARGET = 1.8


def _enumeration(kind, N):
    """Enumeration as a rate: states per ns of one ``enumerate_model`` call (compiled by the caller)."""
    from fastmf.exact import enumeration as en
    model = make_model(kind, N)

    def rate(min_time):
        n, t0 = 0, time.perf_counter()
        while True:
            en.enumerate_model(model, BETA)
            n += 1
            dt = time.perf_counter() - t0
            if dt >= min_time:
                return n * 2 ** N / (dt * 1e9)
    return rate


def _paths(min_time):
    lattice = LatticeRunner("fastmf_scalar", 1024, beta=BETA_C)
    hopfield = MeanFieldRunner("fastmf", 1000, P=3, model="hopfield", n_chains=2)
    return {
        "Ising checkerboard, L = 1024 (flips/ns)": lambda: flips_per_ns(lattice, min_time, repeats=1)[0],
        "Hopfield N = 1000, P = 3, 2 chains (updates/ns)": lambda: updates_per_ns(hopfield, min_time, repeats=1),
        "enumeration, dense +-1 N = 26 (states/ns)": (lambda r=_enumeration("dense_pm", 26): r(min_time)),
        "enumeration, dense Gaussian N = 26 (states/ns)": (lambda r=_enumeration("dense_gauss", 26): r(min_time)),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=8)
    ap.add_argument("--min-time", type=float, default=0.3)
    args = ap.parse_args(argv)
    if not 2 <= args.threads <= numba.config.NUMBA_NUM_THREADS:
        raise SystemExit(f"--threads must be from 2 to {numba.config.NUMBA_NUM_THREADS} (this machine's Numba "
                         f"threads), got {args.threads}")
    info = machine_info()
    print(f"# {info['cpu']}, {info['logical_cores']} logical cores, numba {info['numba']}, {info['date']}")
    paths = _paths(args.min_time)
    counts = (1, args.threads)
    for t in counts:               # compile and warm up every kernel on both thread counts (not timed)
        numba.set_num_threads(t)
        for measure in paths.values():
            measure()
    print(f"{'path':<50} {'1 thread':>10} {f'{args.threads} threads':>10} {'scaling':>8}")
    results = {}
    for name, measure in paths.items():
        best = dict.fromkeys(counts, 0.0)
        for _ in range(args.repeats):
            for t in counts:
                numba.set_num_threads(t)
                best[t] = max(best[t], measure())
        results[name] = best[args.threads] / best[1]
        print(f"{name:<50} {best[1]:>10.3f} {best[args.threads]:>10.3f} {results[name]:>7.2f}x", flush=True)
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    if args.threads == 2:
        for name, s in results.items():
            print(f"  {name.split(' (')[0]} >= {TARGET}x on 2 threads: {'met' if s >= TARGET else 'MISSED'} "
                  f"({s:.2f}x)")
    return results


if __name__ == "__main__":
    main()
