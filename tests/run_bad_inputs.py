#!/usr/bin/env python
"""Run every row of tests/test_cli_bad_inputs.py as a real ``fastmf`` process; print the counts.

    python tests/run_bad_inputs.py [-v] [--repo REPO] [-k SUBSTRING]

(not collected by pytest: the same rows run in-process in tests/test_cli_bad_inputs.py; this script runs
them as real processes, for the counts of issue 16)

Each row runs in a fresh directory holding copies of every input; it counts as a clean error when the exit
status is the documented one, stderr is exactly one line ``fastmf: error: ...`` naming the problem, and there is
no traceback. Files left behind: anything new in the directory afterwards (outputs, temporaries); inputs changed:
any input whose bytes changed. One more case sends SIGINT to a running ``fastmf simulate`` (exit 130, one line
``fastmf: interrupted``, nothing left). Rows that need an unwritable directory are skipped when run as root (root
ignores permissions).
"""
import argparse
import importlib.util
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time


def load_table(repo):
    path = pathlib.Path(repo) / "tests" / "test_cli_bad_inputs.py"
    spec = importlib.util.spec_from_file_location("cli_bad_inputs_table", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_row(t, row, inputs, work, fastmf, timeout):
    d = work / row.id.replace("/", "__")
    shutil.copytree(inputs, d)
    os.chmod(d / "ro", 0o500)
    env = {k: v for k, v in os.environ.items() if k != "FASTMF_DEBUG"}
    env.update(row.env)
    before = t.snapshot(d)
    try:
        proc = subprocess.run([fastmf, *t.expand(row.argv, d)], capture_output=True, text=True, cwd=d, env=env,
                              timeout=timeout)
        status, out, err = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:
        status, out, err = "timeout", exc.stdout or "", exc.stderr or ""
        out = out.decode() if isinstance(out, bytes) else out
        err = err.decode() if isinstance(err, bytes) else err
    finally:
        os.chmod(d / "ro", 0o700)
    after = t.snapshot(d)
    shutil.rmtree(d, ignore_errors=True)
    return status, out, err, before, after


def sigint_case(work, fastmf):
    d = work / "sigint"
    d.mkdir()
    out = d / "big.npz"
    env = {k: v for k, v in os.environ.items() if k != "FASTMF_DEBUG"}
    proc = subprocess.Popen([fastmf, "simulate", "ising2d", "--L", "32", "--T", "2.3", "--n-samples", "200000",
                             "--thin", "10", "--seed", "1", "--backend", "cpu", "--no-progress", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=d, env=env)
    time.sleep(8.0)   # imports, the checks, then the simulation
    running = proc.poll() is None
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    left = os.listdir(d)
    return running, proc.returncode, stdout, stderr, left


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", default=str(pathlib.Path(__file__).resolve().parents[1]))
    ap.add_argument("-k", default="", help="only rows whose id contains this")
    ap.add_argument("-v", action="store_true", help="print every row's error line")
    ap.add_argument("--timeout", type=float, default=300)
    ns = ap.parse_args()
    t = load_table(ns.repo)
    fastmf = shutil.which("fastmf") or sys.exit("no fastmf executable on PATH")
    as_root = os.geteuid() == 0
    counts = dict(tried=0, clean=0, tracebacks=0, left_behind=0, inputs_changed=0, wrong_status=0,
                  bad_message=0, skipped=0)
    failures = []
    with tempfile.TemporaryDirectory(prefix="fastmf-bad-inputs-") as tmp:
        work = pathlib.Path(tmp)
        inputs = t.make_inputs(work / "inputs")
        gpu = t.gpu_usable()
        for row in t.ROWS:
            if ns.k not in row.id:
                continue
            if (row.perm and as_root) or (row.gpu and gpu):
                counts["skipped"] += 1
                if ns.v:
                    print(f"SKIP  {row.id}: {'root ignores permissions' if row.perm else 'a GPU is usable'}")
                continue
            counts["tried"] += 1
            status, out, err, before, after = run_row(t, row, inputs, work, fastmf, ns.timeout)
            problems = t.check_output(row, status, out, err)
            files = t.check_files(before, after)
            tb = "Traceback" in out + err
            counts["tracebacks"] += tb
            counts["left_behind"] += any(p.startswith("left behind") for p in files)
            counts["inputs_changed"] += any(p.startswith("inputs changed") for p in files)
            counts["wrong_status"] += status != row.status
            counts["bad_message"] += any(p.startswith(("message without", "not one error line")) for p in problems)
            clean = not problems
            counts["clean"] += clean
            if problems or files:
                failures.append((row.id, problems + files))
            if ns.v:
                line = next((x for x in err.splitlines() if x.startswith("fastmf: error:")), err.strip()[-200:])
                print(f"{'ok  ' if clean and not files else 'FAIL'}  [{status}] {row.id}: {line}")
        if not ns.k or "sigint" in ns.k:
            counts["tried"] += 1
            running, code, stdout, stderr, left = sigint_case(work, fastmf)
            ok = running and code == 130 and stderr == "fastmf: interrupted\n"
            counts["clean"] += ok
            counts["tracebacks"] += "Traceback" in stdout + stderr
            counts["left_behind"] += bool(left)
            counts["wrong_status"] += code != 130
            if not ok or left:
                failures.append(("sigint/simulate", [f"running={running} status={code} stderr={stderr!r} "
                                                     f"left={left}"]))
            if ns.v:
                print(f"{'ok  ' if ok and not left else 'FAIL'}  [{code}] sigint/simulate: {stderr.strip()!r}")
    for rid, problems in failures:
        print(f"FAILED {rid}: " + "; ".join(problems))
    print("cases tried {tried}, clean errors {clean}, tracebacks {tracebacks}, files left behind {left_behind}, "
          "inputs changed {inputs_changed}, wrong exit status {wrong_status}, message problems {bad_message}, "
          "skipped {skipped}".format(**counts))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
