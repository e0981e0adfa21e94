"""``fastmf reproduce vae-kl --quick``: KL(p_exact || p_VAE) of the whole configuration for the three target cases
(Curie-Weiss N = 12 at T = 0.8 and 1.2, Hopfield N = 12, P = 2, T = 0.5), VAE defaults, exact tables."""
import json

import pytest

from fastmf.experiments import run_experiment
from fastmf.experiments.vae_kl import KL_TARGET

TARGETS = ("cw-T0.8", "cw-T1.2", "hopfield")


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("vae_kl")
    report = run_experiment("vae-kl", out, quick=True, printer=lambda *a: None)
    summary = json.loads((out / "summary.json").read_text())
    return report, summary, {r["key"]: r for r in summary["results"]}


@pytest.mark.parametrize("key", TARGETS)
def test_target_kl_is_met(quick, key):
    r = quick[2][key]
    assert r["kl"] <= KL_TARGET, f"{r['label']}: KL = {r['kl']:.4g} nats"
    assert r["kl"] > 0 and r["kl_quad_change"] < 0.1 * KL_TARGET  # a converged table, not a degenerate zero


@pytest.mark.parametrize("key", TARGETS)
def test_power_the_same_decoder_under_the_standard_normal_misses(quick, key):
    # the same exact check on a slightly wrong model (the trained decoder without its learned prior) fails
    r = quick[2][key]
    assert r["kl_normal_prior"] > KL_TARGET, f"{r['label']}: KL under N(0, I) = {r['kl_normal_prior']:.4g}"


def test_report_checks_and_capacity_numbers(quick):
    report, summary, res = quick
    assert summary["passed"] and report.passed
    checks = summary["checks"]
    assert checks["counting and enumeration give the same exact tables"]["passed"]
    assert checks["the VAE tables are converged"]["passed"]
    assert set(res) == set(TARGETS)  # --quick: the target cases only
    for r in res.values():
        assert r["prior"] == "mixture of 32 diagonal Gaussians"  # the default prior, followed by the exact engine
        assert r["epochs"] == summary["settings"]["epochs"]  # the same epochs everywhere
        # the rate is an upper bound on what a faithful model must carry across any cut
        assert r["rate"] >= r["max_cut_mi_data"] and r["flagged_cuts"] == 0
        assert r["mi_xz_model"] >= r["max_cut_mi_model"] - 1e-6  # data processing in the model
    text = (report.out / "report.md").read_text()
    assert "Capacity report: N = 12" in text and "prior: mixture of 32 diagonal Gaussians" in text
    assert (report.out / "vae_kl.png").stat().st_size > 2000
