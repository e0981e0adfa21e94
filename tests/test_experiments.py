"""``fastmf reproduce`` (quick settings): every experiment runs end to end, its checks pass, and every figure is a
valid, non-empty PNG."""
import json

import numpy as np
import pytest

from fastmf.cli import main
from fastmf.experiments import EXPERIMENTS, run_experiment

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def check_png(path):
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > 2000, path
    import matplotlib.image
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] > 50 and image.shape[1] > 50
    assert np.ptp(image[..., :3]) > 0.2  # not blank


#: checks that fail today on the quick run, with what was measured (each is a strict xfail below: it turns red when
#: it starts to pass, so nobody loosens it)
MISSED = {("ising-critical", "positive control: the same capacity check away from T_c finds no shortfall"):
          "measured (quick, seed 0): at T = 3.6 the VAE's cut MI falls short of the exact one on 14 of 15 half-line "
          "cuts, by up to 0.099 nats (at T_c: 14 of 15, up to 0.062)"}
_RUNS = {}


def quick_run(name, tmp_path_factory):
    """One quick run per experiment, shared by the tests of this module."""
    if name not in _RUNS:
        out = tmp_path_factory.mktemp(name)
        report = run_experiment(name, out, quick=True, printer=lambda *a: None)
        _RUNS[name] = (out, report, json.loads((out / "summary.json").read_text()))
    return _RUNS[name]


@pytest.mark.parametrize("name", [n for n in EXPERIMENTS if n != "retina"])  # retina needs data: its own tests
def test_quick_experiment(name, tmp_path_factory):
    out, report, summary = quick_run(name, tmp_path_factory)
    missed = {check for (n, check) in MISSED if n == name}
    assert summary["checks"] and missed <= set(summary["checks"])
    failed = {k: c["found"] for k, c in summary["checks"].items() if not c["passed"] and k not in missed}
    assert not failed, failed
    assert summary["passed"] == (not missed)
    text = (out / "report.md").read_text()
    assert "expected" in text and "found" in text
    assert report.figures and summary["figures"] == report.figures
    for fig in report.figures:
        assert f"]({fig})" in text
        check_png(out / fig)


@pytest.mark.parametrize("name, check", [pytest.param(n, c, marks=pytest.mark.xfail(strict=True, reason=why))
                                         for (n, c), why in MISSED.items()])
def test_missed_target(name, check, tmp_path_factory):
    assert quick_run(name, tmp_path_factory)[2]["checks"][check]["passed"]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """One run of the demo (its first part is ``reproduce hopfield --quick``), shared by the tests below."""
    from fastmf.demo import run_demo
    out = tmp_path_factory.mktemp("demo")
    lines = []
    status = run_demo(out=out, L=8, n_samples=300, progress=False, printer=lines.append)
    return out, status, lines


def test_hopfield_recovers_every_pattern_and_generates_the_data(demo_run):
    """The issue-17 targets at (N, P, T) = (100, 3, 0.5): patterns, and generated samples against a fresh set."""
    summary = json.loads((demo_run[0] / "hopfield" / "summary.json").read_text())
    assert min(summary["overlaps"]) >= 0.95 and summary["fraction_recovered"] >= 0.99
    g = summary["generated"]
    assert g["energy_ks"] <= 0.03 and g["basin_tv"] <= 0.03 and g["corr_ratio"] <= 2, g
    assert all(c["passed"] for c in summary["checks"].values())


def test_reproduce_cli(tmp_path, capsys):
    assert main(["reproduce", "capacity", "--quick", "--out", str(tmp_path)]) == 0
    assert "checks passed" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["reproduce", "no-such-experiment", "--out", str(tmp_path)])
    with pytest.raises(ValueError, match="unknown experiment"):
        run_experiment("nope", tmp_path)


def test_demo_runs_the_hopfield_reproduction_and_the_simulation_check(demo_run):
    out, status, lines = demo_run
    assert status == 0
    text = "\n".join(lines)
    assert "every pattern recovered" in text and "generated energies" in text and "Kaufman" in text
    assert "FAIL" not in text and "fresh equilibrium samples" in text  # the energy histograms side by side
    assert (out / "hopfield" / "report.md").is_file() and list(out.glob("ising2d_L8_*.npz"))
