"""Speed table of exact enumeration against a vectorised NumPy brute force, one process.

Usage::

    python benchmarks/report_exact.py [--sizes 20,24,28] [--models dense_pm,dense_gauss,lattice,curie_weiss]
                                      [--threads 1] [--numpy-max-n 28] [--n30]

ns per state per core: one whole ``enumerate_model`` call (ln Z, <E>, Var E, magnetization distribution)
divided by 2**N, times the number of threads; best of 3 after a compiling call. The NumPy baseline
(``bench_exact.numpy_brute_force``) is single-threaded and computes ln Z and <E>; it is run once per
(model, N) up to ``--numpy-max-n``, and both results are checked against each other. Target: <= 2 ns per
state per core for the lattice and Curie-Weiss models. ``--n30`` also times N = 30 (lattice 5 x 6, Curie-Weiss
and dense +-1) on all threads.
"""
import argparse
import pathlib
import sys
import time

import numba

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from benchmarks.bench_exact import BETA, KINDS, make_model, ns_per_state, numpy_brute_force  # noqa: E402
from benchmarks.report import machine_info  # noqa: E402
from fastmf.exact import enumeration as en  # noqa: E402
from fastmf.exact.pairwise import PairwiseModel  # noqa: E402

TARGET_NS = 2.0
TARGET_MODELS = ("lattice", "curie_weiss")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="20,24,28")
    ap.add_argument("--models", default=",".join(KINDS))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--numpy-max-n", type=int, default=28)
    ap.add_argument("--n30", action="store_true")
    args = ap.parse_args(argv)
    numba.set_num_threads(args.threads)
    info = machine_info()
    print(f"# {info['cpu']}, numba {info['numba']}, numpy {info['numpy']}, {info['date']}; "
          f"{args.threads} thread(s), beta = {BETA}")
    print(f"{'model':>12} {'N':>3} {'method':>15} {'fastmf ns/state/core':>21} {'numpy ns/state':>15} {'speed-up':>9}")
    misses = []
    for kind in args.models.split(","):
        for N in (int(n) for n in args.sizes.split(",")):
            model = make_model(kind, N)
            result = {}

            def run(model=model, result=result):
                result["r"] = en.enumerate_model(model, BETA)
            ns = ns_per_state(run, 2 ** N) * args.threads
            r = result["r"]
            numpy_ns = ratio = "-"
            if N <= args.numpy_max_n:
                t = time.perf_counter()
                log_z, mean_e = numpy_brute_force(model, BETA)
                numpy_ns = (time.perf_counter() - t) / 2 ** N * 1e9
                if abs(log_z - r.log_z) > 1e-8 * max(1.0, abs(log_z)) or abs(mean_e - r.mean_energy) > 1e-7:
                    raise SystemExit(f"{kind} N={N}: NumPy and fastmf disagree: {log_z} vs {r.log_z}")
                ratio = f"{numpy_ns / ns:.0f}x"
                numpy_ns = f"{numpy_ns:.1f}"
            print(f"{kind:>12} {N:>3} {r.method:>15} {ns:>21.2f} {numpy_ns:>15} {ratio:>9}")
            if kind in TARGET_MODELS and ns > TARGET_NS:
                misses.append(f"{kind} N={N}: {ns:.2f} ns")
    print(f"target <= {TARGET_NS} ns/state/core for {', '.join(TARGET_MODELS)}: "
          + ("met" if not misses else "MISSED: " + "; ".join(misses)))
    if args.n30:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        for name, model in (("lattice 5x6", PairwiseModel.ising_lattice(5, 6, 1.0, 0.1)),
                            ("curie_weiss", make_model("curie_weiss", 30)), ("dense_pm", make_model("dense_pm", 30))):
            en.enumerate_model(make_model("curie_weiss", 12) if name == "curie_weiss" else model, BETA)
            t = time.perf_counter()
            r = en.enumerate_model(model, BETA)
            dt = time.perf_counter() - t
            print(f"N = 30 {name}: {dt:.2f} s on {numba.get_num_threads()} threads ({r.method}), ln Z = {r.log_z:.6f}")


if __name__ == "__main__":
    main()
