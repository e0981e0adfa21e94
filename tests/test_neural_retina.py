"""Population statistics (fastmf.stats.population) and ``fastmf reproduce retina`` end to end: on synthetic data from a
planted latent mean-field model with a non-Gaussian latent density (exact samples), and on
../shared/data/spikes15.mat when present."""
import itertools
import json
import pathlib

import numpy as np
import pytest

from fastmf.cli import main
from fastmf.decode.latent_fit import principal_angles
from fastmf.decode.latent_model import LatentMeanField
from fastmf.neural import KPairwiseMaxEnt, PairwiseMaxEnt
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
    """Two latent directions, five atoms: a quiet and a weakly active cluster and a skewed tail."""
    rng = np.random.default_rng(seed)
    atoms = np.array([[-1.0, -0.5], [-0.8, 0.6], [1.5, 0.0], [0.6, 1.6], [0.2, 2.6]])
    return LatentMeanField(-0.9 + 0.2 * rng.standard_normal(N), 0.9 * rng.standard_normal((2, N)), atoms,
                           [0.45, 0.25, 0.15, 0.1, 0.05])


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
    model = LatentMeanField.load(out / "effective_model.npz")
    assert model.N == N and model.P == summary["chosen_directions"]
    assert LatentMeanField.load(out / "effective_model_P2.npz").P == 2
    assert PairwiseMaxEnt.load(out / "pairwise_model.npz").N == N
    assert KPairwiseMaxEnt.load(out / "kpairwise_model.npz").N == N
    for fig in summary["figures"]:
        data = (out / fig).read_bytes()
        assert data[:8] == PNG and len(data) > 2000
    return summary, model


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory):
    """The quick retina run on 20 000 exact samples of a planted N = 12 latent model (non-Gaussian density)."""
    planted = _planted()
    x = planted.sample(20000, seed=1)
    tmp_path = tmp_path_factory.mktemp("planted")
    np.save(tmp_path / "spikes.npy", (x > 0).astype(np.uint8))
    out = tmp_path / "out"
    rc = main(["reproduce", "retina", "--quick", "--data", str(tmp_path / "spikes.npy"), "--out", str(out)])
    return rc, out, planted, x


def test_retina_on_planted_latent_data(planted_run):
    """The chosen model has the planted two directions, its held-out likelihood is the truth's within error, and
    it meets every target (the correlation target: next test)."""
    rc, out, planted, x = planted_run
    summary, model = _check_outputs(out, 12)
    assert summary["n_train"] + summary["n_held_out"] == 20000
    assert summary["chosen_directions"] == 2
    assert principal_angles(model, planted).max() < 10.0
    # the fitted model on all 20 000 bins is within error of the truth (paired per-bin difference)
    d = model.log_prob(x) - planted.log_prob(x)
    assert abs(d.mean()) < 4 * d.std() / np.sqrt(len(d)) + 0.01
    ll, comp = summary["log_likelihood"], summary["comparison"]
    head = summary["headline"]
    assert ll[head]["mean"] > ll["generalized Hopfield"]["mean"]  # a non-Gaussian latent density: beyond quadratic
    assert ll[head]["minus_vae"]["mean"] > 0 and ll[head]["mean"] > ll["independent"]["mean"]
    g = comp[head]
    assert g["rates"]["pearson"] >= 0.99 and g["corr"]["pearson"] >= 0.8 and g["pk"]["max_abs_z"] <= 3.0
    checks = summary["checks"]
    assert all(c["passed"] for name, c in checks.items() if not name.startswith("pairwise correlations"))
    assert rc == (0 if summary["passed"] else 1)
    # exact statistics for the latent, generalized Hopfield, independent and (N <= 16) maximum-entropy models
    assert "Model statistics are exact (zero errors) but for VAE:" in (out / "report.md").read_text()


def test_retina_planted_correlation_target(planted_run):
    """With exact model statistics the latent model (the generator's form) fits the held-out correlations better
    than the pairwise model (measured: RMS 0.0146 against 0.0151; sampled statistics, 20 000 per model, had
    given 0.0160 against 0.0151, the latent model's sample noise deciding)."""
    summary = json.loads((planted_run[1] / "summary.json").read_text())
    assert summary["checks"][f"pairwise correlations ({summary['headline']})"]["passed"]


def test_retina_without_maxent_baselines(tmp_path, capsys):
    """``--maxent no`` (and ``auto`` above MAXENT_MAX_NEURONS): the run completes without the pairwise and K-pairwise
    fits, writes no files for them, says so in the report, and the correlation check falls back on the training
    data's RMS (never an easier bar)."""
    from fastmf.experiments.retina import MAXENT_MAX_NEURONS, maxent_skipped, run
    assert maxent_skipped("auto", MAXENT_MAX_NEURONS) == "" and maxent_skipped("yes", 10 * MAXENT_MAX_NEURONS) == ""
    assert f"above {MAXENT_MAX_NEURONS}" in maxent_skipped("auto", MAXENT_MAX_NEURONS + 1)
    assert "not asked for" in maxent_skipped("no", 12)
    x = _planted().sample(4000, seed=2)
    np.save(tmp_path / "spikes.npy", (x > 0).astype(np.uint8))
    out = tmp_path / "out"
    rc = main(["reproduce", "retina", "--quick", "--maxent", "no", "--data", str(tmp_path / "spikes.npy"), "--out",
               str(out)])
    summary = json.loads((out / "summary.json").read_text())
    assert rc == (0 if summary["passed"] else 1)
    assert not (out / "pairwise_model.npz").exists() and not (out / "kpairwise_model.npz").exists()
    assert "pairwise_model" not in summary["files"] and "not asked for" in summary["pairwise_fit"]["skipped"]
    assert not {"pairwise", "K-pairwise"} & (set(summary["comparison"]) | set(summary["log_likelihood"]))
    check = summary["checks"][f"pairwise correlations ({summary['headline']})"]
    training_rms = summary["comparison"]["training data (reference)"]["corr"]["rms_diff"]
    assert "no pairwise fit" in check["found"]
    assert check["passed"] == (summary["comparison"][summary["headline"]]["corr"]["rms_diff"] < training_rms and
                               summary["comparison"][summary["headline"]]["corr"]["pearson"] >= 0.8)
    assert "Maximum-entropy baselines not fitted" in (out / "report.md").read_text()
    capsys.readouterr()
    assert main(["reproduce", "capacity", "--quick", "--maxent", "no", "--out", str(tmp_path / "o")]) == 2
    assert "does not take maxent" in capsys.readouterr().err and not (tmp_path / "o").exists()
    with pytest.raises(SystemExit) as exc:
        main(["reproduce", "retina", "--quick", "--maxent", "maybe", "--out", str(tmp_path / "o")])
    assert exc.value.code == 2
    with pytest.raises(ValueError, match="maxent must be one of"):
        run(tmp_path / "o2", quick=True, data=tmp_path / "spikes.npy", maxent=True)


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


@pytest.fixture(scope="module")
def spikes15_run(tmp_path_factory):
    if not (SHARED / "spikes15.mat").is_file():
        pytest.skip("../shared/data/spikes15.mat not present")
    out = tmp_path_factory.mktemp("spikes15") / "out"
    rc = main(["reproduce", "retina", "--quick", "--out", str(out)])  # the default data file
    return rc, out


def test_retina_on_spikes15(spikes15_run):
    rc, out = spikes15_run
    summary, _ = _check_outputs(out, 15)
    assert summary["n_train"] + summary["n_held_out"] == 40000 and "spikes15.mat" in summary["data"]
    assert rc == (0 if summary["passed"] else 1)
    checks, head = summary["checks"], summary["headline"]
    for name in (f"firing rates ({head})", f"P(K) ({head})", f"held-out log-likelihood ({head})"):
        assert checks[name]["passed"], (name, checks[name]["found"])
    ll = summary["log_likelihood"]
    for model in ("pairwise", "K-pairwise", head):  # every model with structure beats the independent one
        assert ll[model]["mean"] > ll["independent"]["mean"]
    assert ll["VAE"]["mean"] > ll["independent"]["on_vae_bins"]  # the VAE's bound, on the same bins
    assert summary["comparison"]["independent"]["pk"]["max_abs_z"] > 5  # the P(K) check has power here


@pytest.mark.xfail(strict=True, reason="measured on the quick run (seed 0), exact model statistics: P = 2 chosen, "
                   "r = 0.814 and RMS 0.0180 against the pairwise model's 0.0145 (the full run chooses P = 5: r = 0.870, "
                   "RMS 0.0152 against 0.0145; the training data's own RMS, the ceiling, is 0.0142)")
def test_retina_spikes15_correlation_target(spikes15_run):
    summary = json.loads((spikes15_run[1] / "summary.json").read_text())
    assert summary["checks"][f"pairwise correlations ({summary['headline']})"]["passed"]


def _bistable_pairwise(N=20):
    """A ferromagnetic pairwise model with a silent and an active state separated by a high barrier (J N = 6):
    single-site chains do not cross between them in the sweeps below."""
    J = np.full((N, N), 0.3)
    np.fill_diagonal(J, 0.0)
    return PairwiseMaxEnt(np.full(N, -0.1), J)    # the silent state favoured


def _mean_rate_z(samples, data):
    """z of the samples' mean firing rate against the data's (binomial errors of both)."""
    p, q = samples.mean(), (data > 0).mean()
    return (p - q) / np.sqrt(p * (1 - p) / samples.size + q * (1 - q) / data.size + 1e-12)


def test_retina_maxent_samples_start_in_the_data_basin():
    from fastmf.experiments.retina_models import maxent_samples
    model = _bistable_pairwise()
    # data from the active state (chains started there): what a fitted retinal model is fitted to
    data = KPairwiseMaxEnt(model.h, model.J, np.zeros(model.N + 1)).sample(
        2000, seed=3, burn_in=200, thin=5, init=np.ones((8, model.N), np.int8))
    assert (data > 0).mean() > 0.8      # the active state
    z = _mean_rate_z(maxent_samples(model, 2000, 5, False, data), data)
    # bound 4: the samples' rate agrees with the data's within sampling error (autocorrelation is small here)
    assert abs(z) < 4
    # power: the same chains started silent (the old default) stay in the other state
    silent = -np.ones_like(data)
    assert abs(_mean_rate_z(maxent_samples(model, 2000, 5, False, silent), data)) > 4


def test_pairwise_bar_is_never_easier_than_a_converged_fit():
    """The correlation check's bar: the pairwise RMS when its fit converged; else no looser than the training
    data's RMS (what a converged pairwise model would reproduce)."""
    from fastmf.experiments.retina import pairwise_bar
    assert pairwise_bar(0.0145, 0.0142, True)[0] == 0.0145
    assert pairwise_bar(0.0485, 0.0217, False)[0] == 0.0217     # a poor, unconverged baseline: the stricter bar
    assert pairwise_bar(0.0200, 0.0217, False)[0] == 0.0200
    assert "not converged" in pairwise_bar(0.0485, 0.0217, False)[1]


def test_reach_note_only_when_the_training_data_miss_the_target_too():
    """A failed check says when the training data themselves miss its target against the held-out data (nothing
    fitted to them can meet it); nothing is added when the check passed or the training data meet the target."""
    from fastmf.experiments.retina import reach_note
    assert "out of reach" in reach_note(0.9849, 0.9848, 0.99)           # homogeneous rates: the ceiling is below
    assert "0.9848" in reach_note(0.9849, 0.9848, 0.99)
    assert reach_note(0.9849, 0.9950, 0.99) == ""                        # the model's own miss: no excuse given
    assert reach_note(0.9950, 0.9848, 0.99) == ""                        # passed
    assert reach_note(0.5, float("nan"), 0.8) == ""                      # no reference value
    assert reach_note(None, None, 0.8) == ""
    assert "out of reach" in reach_note(3.3, 4.37, 3.0, larger_is_better=False)   # P(K): smaller is better
    assert reach_note(3.3, 2.9, 3.0, larger_is_better=False) == ""
    assert reach_note(2.9, 4.37, 3.0, larger_is_better=False) == ""


def test_summary_json_is_strict(tmp_path):
    """summary.json has no NaN or Infinity tokens (undefined statistics are null), so strict parsers read it."""
    from fastmf.experiments.report import Report

    def refuse(token):
        raise ValueError(f"non-standard JSON token {token}")
    rep = Report(tmp_path / "r", "strict")
    rep.write(corr_r=float("nan"), values=np.array([1.0, np.inf, -np.inf]), scalar=np.float32(np.nan), ok=0.5,
              nested={"k": [np.float64(2.0), (np.nan, 1)]})
    text = (tmp_path / "r" / "summary.json").read_text()
    loaded = json.loads(text, parse_constant=refuse)
    assert loaded["corr_r"] is None and loaded["values"] == [1.0, None, None] and loaded["scalar"] is None
    assert loaded["ok"] == 0.5 and loaded["nested"] == {"k": [2.0, [None, 1]]}
    # the companion: Python's own encoder writes the NaN token, which the strict reader refuses
    with pytest.raises(ValueError, match="non-standard"):
        json.loads(json.dumps({"x": float("nan")}), parse_constant=refuse)
