"""The asv suite in benchmarks/ stays importable: ``asv check --python=same`` passes and discovers the benchmarks.

asv imports every module of the benchmark package (the report scripts too) and instantiates, without arguments,
every public class in a module's namespace that has a method named ``time_*``, ``track_*``, ``mem_*``,
``peakmem_*`` or ``timeraw_*``: a fastmf class imported into a benchmark module can break discovery (it did:
``SpikeRaster.time_blocks``). Nothing is timed here.
"""
import json
import pathlib
import subprocess
import sys

import pytest

pytest.importorskip("asv", reason="asv is not installed (it is in the `test` and `bench` extras)")

ROOT = pathlib.Path(__file__).resolve().parents[1]
TIMEOUT = 120  # seconds per asv command (a few seconds on an idle machine)

EXPECTED = {
    "bench_lattice.LatticeSweep.time_sweep",
    "bench_lattice.LatticeSweep.track_flips_per_ns",
    "bench_lattice.SweepMemory.peakmem_sweep_4096",
    "bench_meanfield.HopfieldSweep.time_sweep",
    "bench_meanfield.HopfieldSweep.track_updates_per_ns",
    "bench_meanfield.CurieWeissSweep.track_updates_per_ns",
    "bench_exact.Enumerate.time_enumerate",
    "bench_limits.Refusals.time_billion_point_grid_refused",
    "bench_limits.Refusals.time_samples_above_memory_refused",
    "bench_limits.CurieWeissCutProfile.time_cut_profile_n2000",
    "bench_limits.LatticeEnumeration4x4.time_ising_4x4",
    "bench_limits.LatticeEnumeration4x4.time_potts_q2_4x4",
    "bench_vae.TrainVAE.time_epoch",
}
BENCHMARK_MODULES = {"bench_lattice", "bench_meanfield", "bench_exact", "bench_limits", "bench_vae"}


def _run(*args):
    if not (ROOT / "asv.conf.json").exists():
        pytest.skip("not a source checkout (no asv.conf.json)")
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT)


def test_asv_check_passes():
    r = _run("asv", "check", "--python=same")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "No problems found" in r.stdout, r.stdout + r.stderr


def test_asv_discovers_the_benchmarks(tmp_path):
    # the discovery step of `asv check` / `asv run` (asv's own entry point), which writes the list it found
    out = tmp_path / "benchmarks.json"
    r = _run("asv.benchmark", "discover", str(ROOT / "benchmarks"), str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    names = {b["name"] for b in json.loads(out.read_text())}
    assert EXPECTED <= names, sorted(EXPECTED - names)
    # nothing from the report scripts or from classes they import
    assert {n.split(".")[0] for n in names} <= BENCHMARK_MODULES, sorted(names)
