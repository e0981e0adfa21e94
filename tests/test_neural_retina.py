"""Population statistics (fastmf.stats.population) and ``fastmf reproduce retina`` end to end: on synthetic data with a
planted two-pattern generalized Hopfield structure (exact samples), and on ../shared/data/spikes15.mat when
present."""
import itertools
import json
import pathlib

import numpy as np
import pytest

from fastmf.cli import main
from fastmf.decode.effective import GeneralizedHopfield
from fastmf.neural import SpikeRaster
from fastmf.io.samples import load_samples
from fastmf.stats import compare_statistics, population_statistics

SHARED = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"
PNG = b"\x89PNG\r\n\x1a\n"


def naive_statistics(x):
    """Plain numpy on the unpacked 0/1 array: rates, covariance, correlation coefficients, P(K)."""
    x = x.astype(np.float64)
    p = x.mean(0)
    cov = (x - p).T @ (x - p) / len(x)
    corr = cov / np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
    pk = np.bincount(x.sum(1).astype(int), minlength=x.shape[1] + 1) / len(x)
    return p, cov, corr, pk


def _planted(N=12, seed=0):
    rng = np.random.default_rng(seed)
    return GeneralizedHopfield(-1.0 + 0.2 * rng.standard_normal(N), 1.3 * rng.choice([-1.0, 1.0], size=(2, N)))


def _exact_samples(model, n, seed):
    s = np.array(list(itertools.product((-1, 1), repeat=model.N)), dtype=np.int8)
    logp = -model.energy(s)
    p = np.exp(logp - logp.max())
    return s[np.random.default_rng(seed).choice(len(s), size=n, p=p / p.sum())]


def test_population_statistics_against_naive():
    rng = np.random.default_rng(1)
    x = (rng.random((5000, 9)) < np.linspace(0.05, 0.4, 9)).astype(np.uint8)
    x[:, 1] |= x[:, 0]  # a correlated pair
    st = population_statistics(x, n_batches=10, triples=84)
    p, cov, corr, pk = naive_statistics(x)
    assert np.allclose(st.rates, p) and np.allclose(st.cov, cov) and np.allclose(st.corr, corr)
    assert np.allclose(st.pk, pk) and st.pk_counts.sum() == 5000 and len(st.triple_idx) == 84
    i, j, k = st.triple_idx[5]
    xc = x.astype(float) - p
    assert st.triplets[5] == pytest.approx(np.mean(xc[:, i] * xc[:, j] * xc[:, k]))
    # the same from a bit-packed raster and from +-1 spins
    packed = population_statistics(SpikeRaster.from_binary(x), n_batches=10, triples=84)
    spins = population_statistics(2 * x.astype(np.int8) - 1, n_batches=10, triples=84)
    for other in (packed, spins):
        assert np.allclose(other.cov, st.cov) and np.allclose(other.pk_se, st.pk_se)


def test_batch_means_error_bars_see_autocorrelation():
    """Bins repeated 10 times in a row (strong autocorrelation): the batch-means SE of a rate is ~sqrt(10) x the
    binomial one; for independent bins the two agree."""
    rng = np.random.default_rng(2)
    iid = (rng.random((20000, 3)) < 0.2).astype(np.uint8)
    slow = np.repeat(iid[:2000], 10, axis=0)
    binom = np.sqrt(0.2 * 0.8 / 20000)
    se_iid = population_statistics(iid, n_batches=40).rates_se.mean()
    se_slow = population_statistics(slow, n_batches=40).rates_se.mean()
    assert 0.7 < se_iid / binom < 1.3
    assert 2.2 < se_slow / binom < 4.4


def test_compare_statistics_and_bad_input():
    rng = np.random.default_rng(3)
    a = (rng.random((4000, 6)) < 0.3).astype(np.uint8)
    b = (rng.random((4000, 6)) < 0.3).astype(np.uint8)
    c = compare_statistics(population_statistics(a), population_statistics(b))
    assert c["rates"]["entries"] == 6 and c["cov"]["entries"] == 15 and c["pk"]["k_max"] >= 3
    assert c["pk"]["max_abs_z"] < 5  # same law
    with pytest.raises(ValueError, match="same neurons"):
        compare_statistics(population_statistics(a), population_statistics(b[:, :5]))
    with pytest.raises(ValueError, match="0/1 or"):
        population_statistics(np.full((10, 3), 2))
    with pytest.raises(ValueError, match="n_batches"):
        population_statistics(a, n_batches=1)


def _check_outputs(out, N):
    summary = json.loads((out / "summary.json").read_text())
    samples = load_samples(out / "model_samples.npz")
    assert samples.spins.shape[1] == N and set(np.unique(samples.spins)) <= {-1, 1}
    gh = GeneralizedHopfield.load(out / "effective_model.npz")
    assert gh.N == N and gh.patterns.shape == (2, N)
    for fig in summary["figures"]:
        data = (out / fig).read_bytes()
        assert data[:8] == PNG and len(data) > 2000
    return summary, gh


def test_retina_on_planted_two_pattern_data(tmp_path, capsys):
    """Exact samples of a planted N = 12 generalized Hopfield model: the read-off + maximum-likelihood model
    recovers the planted couplings and meets the targets."""
    planted = _planted()
    x = (_exact_samples(planted, 20000, seed=1) > 0).astype(np.uint8)
    np.save(tmp_path / "spikes.npy", x)
    out = tmp_path / "out"
    rc = main(["reproduce", "retina", "--quick", "--data", str(tmp_path / "spikes.npy"), "--out", str(out)])
    summary, gh = _check_outputs(out, 12)
    iu = np.triu_indices(12, 1)
    r = np.corrcoef(gh.couplings()[iu], planted.couplings()[iu])[0, 1]
    assert r > 0.95
    g = summary["comparison"]["generalized Hopfield"]
    assert g["rates"]["pearson"] >= 0.99 and g["corr"]["pearson"] >= 0.8
    assert g["corr"]["rms_diff"] < summary["comparison"]["independent"]["corr"]["rms_diff"]
    assert rc == (0 if summary["passed"] else 1)
    assert summary["n_train"] + summary["n_held_out"] == 20000
    # planted in the model class: freeing the patterns gains next to nothing over the read-off span (N = 12)
    whole = summary["gh_whole_family_fit"]
    assert whole["converged"] and 0.0 <= whole["gain_over_span_fit"] < 0.05 * whole["span_fit_gain_over_independent"]
    assert "generalized Hopfield, whole family (exact ML)" in summary["comparison"]


def test_retina_bad_input(tmp_path, capsys):
    assert main(["reproduce", "retina", "--quick", "--data", str(tmp_path / "missing.mat"), "--out",
                 str(tmp_path / "o")]) == 2
    assert "missing.mat" in capsys.readouterr().err
    np.save(tmp_path / "bad.npy", np.full((100, 5), 3))
    assert main(["reproduce", "retina", "--quick", "--data", str(tmp_path / "bad.npy"), "--out",
                 str(tmp_path / "o")]) == 2
    assert "binary" in capsys.readouterr().err
    assert main(["reproduce", "capacity", "--quick", "--data", str(tmp_path / "bad.npy"), "--out",
                 str(tmp_path / "o")]) == 2
    assert "does not take" in capsys.readouterr().err


@pytest.mark.skipif(not (SHARED / "spikes15.mat").is_file(), reason="../shared/data/spikes15.mat not present")
def test_retina_on_spikes15(tmp_path):
    out = tmp_path / "out"
    main(["reproduce", "retina", "--quick", "--out", str(out)])  # the default data file
    summary, _ = _check_outputs(out, 15)
    assert summary["n_train"] + summary["n_held_out"] == 40000 and "spikes15.mat" in summary["data"]
    assert np.isfinite(summary["capacity"]["rate_held_out"]) and summary["capacity"]["rate_held_out"] > 0
    for model in ("generalized Hopfield", "pairwise (Ising)", "VAE", "independent",
                  "generalized Hopfield, whole family (exact ML)"):
        assert summary["comparison"][model]["rates"]["pearson"] > 0.9
    assert summary["gh_whole_family_fit"]["gain_over_span_fit"] >= 0.0
