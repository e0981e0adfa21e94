"""``fastmf compare A.npz B.npz``: each statistic against the sampling floor (halves of A).

The null check (two independent equilibrium sets of one model: every ratio to the floor below 3) has its power
companions at the same sample size: a temperature 5 % off (the energy Kolmogorov-Smirnov ratio above 3) and a
Hopfield basin removed from B (the basin total variation far above the floor). The basin weights are checked
against labels written by hand, the KS statistic against SciPy, the model rebuilt from each kind of sample
file against the energies ``simulate`` stored.

Thresholds: the floor of the KS row is the mean KS statistic of halves of A, about 0.87 sqrt(1/n_A + 1/n_B)
after scaling; a ratio above 3 means sqrt(n_A n_B / (n_A + n_B)) KS > 2.6, which the Kolmogorov distribution
gives with probability 2 exp(-2 * 2.6^2) ~ 3e-6. Over 20 null pairs of the Hopfield sets below every ratio of
every row stayed under 2.3 (means 0.88-1.01); a 5 % temperature shift gave energy ratios of at least 6.2 (mean
7.2-7.3, 8 pairs each of Hopfield and Curie-Weiss). Removing one of four basins of weight ~1/4 gives a basin TV
~0.25 against a floor of about (1/2) 4 sqrt(2 (1/4)(3/4) / pi) sqrt(1/4000 + 1/3000) ~ 0.017: a ratio ~15
(measured 13-21; threshold 8, far above the null's 2.3).
"""
import json
import os
import re

import numpy as np
import pytest
from scipy.stats import ks_2samp

from fastmf.cli import main
from fastmf.io import SampleSet
from fastmf.models.meanfield import CurieWeiss, Hopfield, MeanFieldPotts
from fastmf.sampling.meanfield import simulate_meanfield
from fastmf.stats.two_sample import (basin_labels, basin_weights, compare_two_samples, floor_scale, half_splits,
                                     ks_statistic, order_histogram)

N_SAMPLES = 4000
HOPFIELD = Hopfield.random(40, 2, seed=1)
CURIE_WEISS = CurieWeiss(32)


def _run(argv):
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Sample files: two equilibrium sets and one 5 % hotter, of a Hopfield and a Curie-Weiss model."""
    d = tmp_path_factory.mktemp("compare")
    out = {}
    for name, model, T in (("hop", HOPFIELD, 0.5), ("cw", CURIE_WEISS, 0.8)):
        for tag, t, seed in (("a", T, 11), ("b", T, 12), ("hot", 1.05 * T, 13)):
            path = d / f"{name}_{tag}.npz"
            simulate_meanfield(model, t, N_SAMPLES, seed=seed, progress=False).save(path)
            out[f"{name}_{tag}"] = path
    hb = simulate_meanfield(HOPFIELD, 0.5, N_SAMPLES, seed=12, progress=False)
    keep = basin_labels(hb.spins, HOPFIELD.patterns) != 0       # all configurations of basin +xi^1 dropped
    out["hop_no_basin"] = d / "hop_no_basin.npz"
    SampleSet(hb.spins[keep], {"model": "vae"}).save(out["hop_no_basin"])   # no model of its own
    out["dir"] = d
    return out


def _compare(capsys, a, b, *extra, out=None):
    """Run the command (200 triples instead of 1000 to keep the tests fast) and read its JSON report."""
    argv = ["compare", str(a), str(b), "--triples", "200", *extra] + (["--out", str(out)] if out else [])
    assert _run(argv) == 0
    text = capsys.readouterr().out
    report = json.loads(out.read_text()) if out else None
    return text, report


def _ratios(report):
    return {r["name"]: r["ratio"] for r in report["rows"]}


# ------------------------------------------------------------------------------------------ null and power


@pytest.mark.parametrize("name", ["hop", "cw"])
def test_independent_equilibrium_sets_sit_at_the_floor(name, files, capsys, tmp_path):
    _, report = _compare(capsys, files[f"{name}_a"], files[f"{name}_b"], out=tmp_path / "r.json")
    ratios = _ratios(report)
    expected = {"means", "C_ij", "T_ijk", "P(M)", "energy"} | ({"basins"} if name == "hop" else set())
    assert set(ratios) == expected
    assert all(0 < r < 3 for r in ratios.values()), ratios
    if name == "cw":
        assert "basins" in report["skipped"] and "Hopfield" in report["skipped"]["basins"]


@pytest.mark.parametrize("name", ["hop", "cw"])
def test_power_temperature_five_percent_off(name, files, capsys, tmp_path):
    """The same check as above, B 5 % hotter: the energy distribution is flagged."""
    _, report = _compare(capsys, files[f"{name}_a"], files[f"{name}_hot"], out=tmp_path / "r.json")
    assert _ratios(report)["energy"] > 3, report["rows"]
    assert report["notes"] == [f"the metadata of A and B differ in T ({report['a']['metadata']['T']!r} vs "
                               f"{report['b']['metadata']['T']!r})"]


def test_power_one_basin_removed(files, capsys, tmp_path):
    """B without the configurations of one basin (and without model metadata: the model comes from A)."""
    _, report = _compare(capsys, files["hop_a"], files["hop_no_basin"], out=tmp_path / "r.json")
    basins = next(r for r in report["rows"] if r["name"] == "basins")
    assert basins["ratio"] > 8 and basins["value"] > 0.2, basins
    assert report["details"]["basins"]["b"][0] == 0.0


# ------------------------------------------------------------------------------------------ report and JSON


def test_json_matches_the_printed_table_and_depends_on_the_seed_alone(files, capsys, tmp_path):
    text, report = _compare(capsys, files["hop_a"], files["hop_b"], "--seed", "3", out=tmp_path / "r.json")
    rows = {r["name"]: r for r in report["rows"]}
    printed = {}
    for line in text.splitlines():
        m = re.match(r"^(\S+) \(([^)]+)\)\s+(\S+)\s+(\S+)\s+(\S+)", line)
        if m:
            printed[m[1]] = [m[3], m[4], m[5]]
    assert set(printed) == set(rows)
    for name, numbers in printed.items():      # the JSON's numbers, rounded as the table prints them
        r = rows[name]
        assert numbers == [f"{r['value']:.4g}", f"{r['floor']:.4g}", f"{r['ratio']:.3g}"], (name, numbers, r)
    assert report["seed"] == 3 and report["n_splits"] == 16 and report["n_halves"] == [2000, 2000]
    assert report["floor_scale"] == pytest.approx(np.sqrt((2 / N_SAMPLES) / (4 / N_SAMPLES)))
    assert report["model"]["metadata"]["model"] == "hopfield" and report["a"]["n_samples"] == N_SAMPLES
    _, again = _compare(capsys, files["hop_a"], files["hop_b"], "--seed", "3", out=tmp_path / "r2.json")
    assert again["rows"] == report["rows"]
    _, other = _compare(capsys, files["hop_a"], files["hop_b"], "--seed", "4", out=tmp_path / "r3.json")
    assert other["rows"] != report["rows"]
    assert sorted(os.listdir(tmp_path)) == ["r.json", "r2.json", "r3.json"]      # no temporaries


def test_no_model_skips_energy_and_basins_and_model_option_supplies_it(files, capsys, tmp_path):
    text, report = _compare(capsys, files["hop_no_basin"], files["hop_b"], out=tmp_path / "r.json")
    assert {"energy", "basins"} <= set(report["skipped"]) and report["model"] is None
    assert "energy: skipped (no model known" in text and "--model" in text
    assert {r["name"] for r in report["rows"]} == {"means", "C_ij", "T_ijk", "P(M)"}
    _, report = _compare(capsys, files["hop_no_basin"], files["hop_b"], "--model", str(files["hop_a"]),
                         out=tmp_path / "r2.json")
    assert {"energy", "basins"} <= {r["name"] for r in report["rows"]}
    assert report["model"]["source"] == str(files["hop_a"])


def test_q_state_files(tmp_path, capsys):
    model = MeanFieldPotts(20, q=3)
    for tag, seed in (("a", 1), ("b", 2)):
        simulate_meanfield(model, 0.5, 1000, seed=seed, progress=False).save(tmp_path / f"{tag}.npz")
    text, report = _compare(capsys, tmp_path / "a.npz", tmp_path / "b.npz", "--splits", "4",
                            out=tmp_path / "r.json")
    assert {r["name"] for r in report["rows"]} == {"means", "C_ij", "P(n_max)", "energy"}
    assert "T_ijk" in report["skipped"] and report["format"] == {"kind": "states", "q": 3}
    assert all(r["ratio"] < 3 for r in report["rows"]), report["rows"]


# ------------------------------------------------------------------------------------------ refusals


@pytest.fixture(scope="module")
def odd_files(files):
    d = files["dir"]
    rng = np.random.default_rng(5)

    def pm(*shape):
        return np.where(rng.random(shape) < 0.5, -1, 1).astype(np.int8)
    SampleSet(pm(100, 32), {"model": "vae"}).save(d / "n32.npz")
    SampleSet(pm(100, 4, 10), {"model": "vae"}).save(d / "lattice_4x10.npz")
    SampleSet(rng.integers(0, 3, (100, 40)).astype(np.uint8), {"model": "potts", "N": 40, "q": 3, "J": 1.0,
                                                              "h": 0.0}).save(d / "potts40.npz")
    SampleSet(pm(3, 40), {"model": "vae"}).save(d / "three.npz")
    SampleSet(rng.standard_normal((100, 40)), {}).save(d / "gauss.npz")
    np.savez(d / "nospins.npz", foo=np.arange(3))
    return d


@pytest.mark.parametrize("args, message", [
    (["{hop_a}", "{cw_a}"], "not the same system"),
    (["{hop_a}", "{d}/lattice_4x10.npz"], "shape"),
    (["{hop_a}", "{d}/potts40.npz"], "q-state"),
    (["{d}/three.npz", "{hop_a}"], "at least 4"),
    (["{hop_a}", "{d}/nospins.npz"], "not a fastmf sample file"),
    (["{hop_a}", "{d}/gauss.npz"], "continuous"),
    (["{hop_no_basin}", "{hop_b}", "--model", "{cw_a}"], "not the same system"),
    (["{hop_no_basin}", "{hop_b}", "--model", "{d}/n32.npz"], "names no model"),
    (["{hop_a}", "{hop_b}", "--out", "{d}/report.npz"], ".json"),
    (["{hop_a}", "{hop_b}", "--out", "{d}/missing/r.json"], "does not exist"),
    (["{hop_a}", "{hop_b}", "--splits", "0"], "integer from 1"),
])
def test_refusals_exit_2_and_leave_nothing(args, message, files, odd_files, capsys):
    d = files["dir"]
    names = {k: str(v) for k, v in files.items()}
    argv = ["compare"] + [a.format(d=d, **names) for a in args]
    if "--out" not in argv:
        argv += ["--out", str(d / "report.json")]
    before = sorted(os.listdir(d))
    assert _run(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("fastmf: error:") and message in err, err
    assert "Traceback" not in err and sorted(os.listdir(d)) == before


# ------------------------------------------------------------------------------------------ the building blocks


def test_basin_labels_by_hand():
    xi = np.array([[1, 1, 1, 1, 1], [1, 1, -1, -1, 1]])
    configs = np.array([
        [1, 1, 1, 1, 1],        # overlaps (5, 1): pattern 1, +       -> 0
        [-1, -1, -1, -1, -1],   # (-5, -1): pattern 1, -              -> 1
        [1, 1, -1, -1, 1],      # (1, 5): pattern 2, +                -> 2
        [-1, -1, 1, 1, -1],     # (-1, -5): pattern 2, -              -> 3
        [1, 1, -1, 1, 1],       # (3, 3): a tie goes to pattern 1, +  -> 0
        [-1, -1, 1, -1, -1],    # (-3, -3): tie, pattern 1, -         -> 1
        [-1, 1, -1, -1, 1],     # (-1, 3): pattern 2, +               -> 2
        [1, -1, 1, 1, -1],      # (1, -3): pattern 2, -               -> 3
        [1, -1, 1, -1, 1],      # (1, 1): tie, pattern 1, +           -> 0
    ])
    np.testing.assert_array_equal(basin_labels(configs, xi), [0, 1, 2, 3, 0, 1, 2, 3, 0])
    np.testing.assert_allclose(basin_weights(configs, xi), [3 / 9, 2 / 9, 2 / 9, 2 / 9])
    np.testing.assert_array_equal(basin_labels(configs.reshape(9, 1, 5), xi), basin_labels(configs, xi))
    with pytest.raises(ValueError, match="patterns"):
        basin_labels(configs, xi[:, :4])


def test_ks_statistic_against_scipy_with_ties():
    rng = np.random.default_rng(0)
    for x, y in ((rng.integers(0, 5, 300), rng.integers(0, 6, 200)), (rng.normal(size=50), rng.normal(1, 1, 70))):
        assert ks_statistic(x, y) == pytest.approx(ks_2samp(x, y).statistic, abs=1e-12)
    assert ks_statistic([1, 2, 3], [1, 2, 3]) == 0.0 and ks_statistic([0, 0], [1]) == 1.0


def test_floor_scale_splits_and_histograms():
    assert floor_scale(100, 100, 50, 50) == pytest.approx(np.sqrt(0.5))
    assert floor_scale(1000, 250, 500, 500) == pytest.approx(np.sqrt((1e-3 + 4e-3) / 4e-3))
    splits = half_splits(9, 3, seed=2)
    for i, j in splits:
        assert (len(i), len(j)) == (4, 5) and sorted(np.concatenate([i, j])) == list(range(9))
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(splits, half_splits(9, 3, seed=2)))
    assert not all(np.array_equal(a[0], b[0]) for a, b in zip(splits, half_splits(9, 3, seed=3)))
    np.testing.assert_array_equal(order_histogram(np.array([[1, 1, -1], [-1, -1, -1]]), 2), [1, 0, 1, 0])
    np.testing.assert_array_equal(order_histogram(np.array([[0, 1, 2], [2, 2, 0]]), 3), [0, 1, 1, 0])


def test_library_refusals():
    a = np.ones((10, 5), np.int8)
    with pytest.raises(ValueError, match="sites"):
        compare_two_samples(a, np.ones((10, 6), np.int8))
    with pytest.raises(ValueError, match="at least 4"):
        compare_two_samples(a[:3], a)
    with pytest.raises(ValueError, match="both"):
        compare_two_samples(a, a, energy_a=np.zeros(10))
    with pytest.raises(ValueError, match="finite"):
        compare_two_samples(a, a, energy_a=np.full(10, np.nan), energy_b=np.zeros(10))


@pytest.mark.parametrize("argv", [
    ["curie-weiss", "--N", "8"], ["hopfield", "--N", "8", "--P", "2"], ["potts", "--N", "8", "--q", "3"],
])
def test_model_rebuilt_from_metadata_gives_the_stored_energies(argv, tmp_path, capsys):
    """The model of a mean-field simulate file, rebuilt from its metadata, gives the energies simulate stored."""
    from fastmf._cli_compare import model_from_metadata
    from fastmf.io import load_samples

    path = tmp_path / "s.npz"
    assert _run(["simulate", *argv, "--T", "2.5", "--h", "0.3", "--J", "0.9", "--n-samples", "40",
                 "--seed", "1", "--no-progress", "--out", str(path)]) == 0
    samples = load_samples(path)
    model, _ = model_from_metadata(samples.metadata, samples.extra, "s.npz")
    np.testing.assert_allclose(model.energy(samples.spins), samples["energy"], rtol=1e-12, atol=1e-9)
    assert tuple(model.shape) == samples.spins.shape[1:]


@pytest.mark.parametrize("kwargs", [dict(L=4, M=6, J=0.9, h=0.3), dict(L=4, q=3, J=0.9, h=0.3), "spin-glass"])
def test_lattice_model_rebuilt_from_the_metadata_simulate_writes(kwargs):
    """Lattice files: the metadata of ``simulate_lattice`` (its sampler's description, the sampling seed on top)
    rebuild the model, quenched couplings included (no chains are run: their kernels take long to compile)."""
    from fastmf._cli_compare import model_from_metadata
    from fastmf.models.lattice import LatticeModel, random_configurations
    from fastmf.sampling.lattice import LatticeSampler

    model = (LatticeModel.spin_glass(4, 6, kind="gaussian", J=0.9, h=0.3, seed=5) if kwargs == "spin-glass"
             else LatticeModel(**kwargs))
    meta = dict(LatticeSampler(model, 2.5, backend="cpu").describe(), seed=1)
    rebuilt, _ = model_from_metadata(meta, {}, "s.npz")
    configs = random_configurations(50, model.shape, model.q, 3)
    np.testing.assert_allclose(rebuilt.energy(configs), model.energy(configs), rtol=1e-12, atol=1e-12)
    assert rebuilt.shape == model.shape
