"""Run the Numba-CUDA simulator tests (``tests/cudasim``) in their own pytest process.

``NUMBA_ENABLE_CUDASIM=1`` must be set before numba is imported, so it cannot be switched on inside this
session; a subprocess gets a clean interpreter.
"""
import os
import pathlib
import re
import subprocess
import sys

import pytest

TESTS = pathlib.Path(__file__).resolve().parent
MIN_PASSED = 115  # 119 tests under the simulator (lattice, mean-field, Maier-Saupe, VAE kernels)


def test_cudasim_suite():
    pytest.importorskip("numba.cuda", reason="numba-cuda (the CUDA simulator) is not installed")
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    cmd = [sys.executable, "-m", "pytest", str(TESTS / "cudasim"), "-q", "-p", "no:cacheprovider",
           "-o", "addopts="]
    proc = subprocess.run(cmd, cwd=TESTS.parent, env=env, capture_output=True, text=True, timeout=600)
    output = proc.stdout + proc.stderr
    summary = output.strip().splitlines()[-1] if output.strip() else ""
    passed = re.search(r"(\d+) passed", summary)
    assert proc.returncode == 0, f"simulator tests failed (exit {proc.returncode}):\n{output}"
    assert passed and int(passed.group(1)) >= MIN_PASSED, \
        f"expected at least {MIN_PASSED} passed simulator tests, got: {summary}\n{output}"
