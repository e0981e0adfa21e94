"""Speed table of fastmf's Ising sweeps against the competent Numba, naive Numba and NumPy baselines, one process.

Usage::

    python benchmarks/report.py [--sizes 256,1024,4096] [--threads 1,2] [--quick] [--json FILE]

For every (L, threads) all implementations are compiled and warmed up first, then timed in interleaved
rounds (best of k, each run lasting at least ``--min-time`` seconds) so that load from other processes
hits them alike. Flips/ns counts spin-update attempts: ``L * L`` per sweep, ``64 * L * L`` for the
multi-spin path (one word plane of 64 replicas). Headline ratios and targets are against ``numba_competent``
(``benchmarks/competent.py``); the naive Numba and NumPy ratios are extra columns. NumPy is single-threaded: it
is measured once per L and that figure is the denominator of every "x numpy" ratio at that L.
"""
import argparse
import datetime
import json
import os
import pathlib
import platform
import sys

import numba
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from benchmarks.baselines import BETA_C, IMPLEMENTATIONS, LatticeRunner  # noqa: E402

TARGETS = (  # (label, implementation, baseline, factor)
    ("fastmf_scalar >= 2.5x numba_competent", "fastmf_scalar", "numba_competent", 2.5),
    ("fastmf_multispin >= 10x numba_competent", "fastmf_multispin", "numba_competent", 10.0),
    ("fastmf (best path) >= 100x numpy", "best", "numpy", 100.0),
)
#: ratio columns: every row's flips/ns over these baselines' at the same L (and threads, but for NumPy)
RATIO_BASES = ("numba_competent", "numba_naive", "numpy")


def machine_info():
    """CPU model, core count, library versions and date."""
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cpu": cpu, "logical_cores": os.cpu_count(), "numba_max_threads": numba.config.NUMBA_NUM_THREADS,
            "python": platform.python_version(), "numba": numba.__version__,
            "numpy": np.__version__,
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds")}


def measure(L, threads, impls, min_time, repeats, numpy_max_sweeps):
    """Best flips/ns of each implementation at one (L, threads); None where unavailable."""
    numba.set_num_threads(threads)
    runners, n_sweeps, best = {}, {}, {}
    for impl in impls:
        cap = numpy_max_sweeps if (impl == "numpy" and L >= 4096) else None
        try:
            runner = LatticeRunner(impl, L, beta=BETA_C, warmup=1 if cap else 3)
        except NotImplementedError as exc:
            print(f"  {impl}: n/a ({exc})", file=sys.stderr)
            continue
        runners[impl] = runner
        n_sweeps[impl] = runner.sweeps_for(min_time, cap)
        best[impl] = float("inf")
    for _ in range(repeats):  # interleaved rounds
        for impl, runner in runners.items():
            best[impl] = min(best[impl], runner.seconds_for(n_sweeps[impl]))
    return {impl: {"flips_per_ns": runners[impl].spins_per_sweep * n_sweeps[impl] / (best[impl] * 1e9),
                   "sweeps": n_sweeps[impl], "seconds": best[impl]} if impl in runners else None
            for impl in impls}


def _fmt(x, digits=3):
    return "n/a" if x is None else f"{x:.{digits}g}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="256,1024,4096")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--quick", action="store_true", help="shorter runs, fewer repeats")
    ap.add_argument("--repeats", type=int, default=None,
                    help="timed rounds per implementation (best is kept)")
    ap.add_argument("--min-time", type=float, default=None, help="seconds per timed run")
    ap.add_argument("--json", metavar="FILE", help="also save the numbers as JSON")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    thread_list = [int(t) for t in args.threads.split(",") if int(t) <= numba.config.NUMBA_NUM_THREADS]
    repeats = args.repeats or (3 if args.quick else 5)
    min_time = args.min_time or (0.1 if args.quick else 0.25)
    numpy_max_sweeps = 1 if args.quick else 2

    info = machine_info()
    rows = []
    for L in sizes:
        numpy_result = None
        for threads in thread_list:
            impls = [i for i in IMPLEMENTATIONS if i != "numpy" or numpy_result is None]
            print(f"measuring L={L}, threads={threads} ...", file=sys.stderr, flush=True)
            res = measure(L, threads, impls, min_time, repeats, numpy_max_sweeps)
            if "numpy" in res:
                numpy_result = res.pop("numpy")
                numpy_row = dict(L=L, threads=1, impl="numpy", **(numpy_result or {}))
            for impl in IMPLEMENTATIONS:
                if impl == "numpy":
                    continue
                r = res.get(impl)
                rows.append(dict(L=L, threads=threads, impl=impl, **(r or {"flips_per_ns": None})))
            if threads == thread_list[0]:
                rows.append(numpy_row)
        for row in rows:
            if row["L"] != L:
                continue
            fpn = row.get("flips_per_ns")
            for base in RATIO_BASES:
                ref = next((r.get("flips_per_ns") for r in rows if r["L"] == L and r["impl"] == base
                            and (base == "numpy" or r["threads"] == row["threads"])), None)
                row["x_" + base] = fpn / ref if fpn and ref else None
    try:
        info["threading_layer_used"] = numba.threading_layer()
    except ValueError:  # no parallel Numba kernel ran
        info["threading_layer_used"] = "none"

    # Targets, checked at every (L, threads) measured.
    verdicts = []
    for label, impl, base, factor in TARGETS:
        checks = []
        for L in sizes:
            for threads in thread_list:
                cand = [r for r in rows if r["L"] == L and r["threads"] == threads
                        and (r["impl"] == impl or (impl == "best" and r["impl"].startswith("fastmf")))]
                vals = [r["x_" + base] for r in cand if r.get("x_" + base) is not None]
                if vals:
                    checks.append((L, threads, max(vals)))
        met = [c for c in checks if c[2] >= factor]
        if not checks:
            status = "not measured"
        elif len(met) == len(checks):
            status = "met"
        elif met:
            status = f"partly met, MISSED at {len(checks) - len(met)}/{len(checks)} configurations"
        else:
            status = "MISSED"
        detail = ", ".join(f"L={L}/t={t}: {v:.2f}x" for L, t, v in checks)
        verdicts.append(dict(target=label, status=status, ratios=detail))

    lines = ["## Ising checkerboard Metropolis sweeps: flips/ns", "",
             f"- Machine: {info['cpu']}, {info['logical_cores']} logical cores "
             f"(Numba threads up to {info['numba_max_threads']}, "
             f"threading layer {info['threading_layer_used']})",
             f"- Software: Python {info['python']}, Numba {info['numba']}, NumPy {info['numpy']}",
             f"- Date: {info['date']}",
             f"- Model: 2D Ising, T = 2.269 (beta = {BETA_C}), J = 1, h = 0, hot start + warm-up sweeps; "
             f"best of {repeats} interleaved runs of >= {min_time} s (NumPy at L >= 4096: "
             f"{numpy_max_sweeps} sweep(s) per run)",
             "- flips/ns = spin-update attempts per ns; multispin: 64 replicas x L x L per sweep. "
             "NumPy is single-threaded and measured once per L.", "",
             "| L | threads | implementation | flips/ns | " + " | ".join(f"x {b}" for b in RATIO_BASES) + " |",
             "|---:|---:|---|---:|" + "---:|" * len(RATIO_BASES)]
    for r in rows:
        lines.append(f"| {r['L']} | {r['threads']} | {r['impl']} | {_fmt(r.get('flips_per_ns'))} | "
                     + " | ".join(_fmt(r.get("x_" + b)) for b in RATIO_BASES) + " |")
    lines += ["", "| target | status | ratios |", "|---|---|---|"]
    lines += [f"| {v['target']} | {v['status']} | {v['ratios']} |" for v in verdicts]
    print("\n".join(lines))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "settings": {"repeats": repeats, "min_time": min_time,
                                                     "numpy_max_sweeps_4096": numpy_max_sweeps,
                                                     "beta": BETA_C, "J": 1.0, "h": 0.0},
                       "rows": rows, "targets": verdicts}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
