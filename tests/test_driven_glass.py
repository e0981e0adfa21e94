"""Driven spin glass: work accounting against a naive energy, reproducibility, the switching schedule."""
import numpy as np
import pytest

from fastmf.models.driven_glass import DrivenGlass, random_drive
from fastmf.models.meanfield import GraphSpinGlass


def naive_energy(J, h, s):
    """``-sum_{i<j} J_ij s_i s_j - sum_i h_i s_i`` from the dense coupling matrix."""
    s = np.asarray(s, np.float64)
    return -0.5 * np.einsum("ci,ij,cj->c", s, J, s) - s @ h


def dense(glass):
    J = np.zeros((glass.N, glass.N))
    for i in range(glass.N):
        J[i, glass.indices[glass.indptr[i]:glass.indptr[i + 1]]] = glass.weights[glass.indptr[i]:glass.indptr[i + 1]]
    return J


@pytest.fixture(params=["sk", "sparse"])
def driven(request):
    glass = GraphSpinGlass.sk(24, seed=1) if request.param == "sk" else GraphSpinGlass.ea(24, degree=3, seed=1)
    return DrivenGlass(glass, T=0.7, drive=random_drive(4, 24, h0=0.8, seed=2), tau=5)


def test_work_accounting(driven):
    """The work recorded at each switch is the naive energy change of the configuration from the old field to the
    new one; the total energy change equals the work plus the heat, period by period and overall."""
    J = dense(driven.glass)
    state = driven.init_state(8, seed=3)
    e_start = naive_energy(J, driven.drive[state.field_index], state.spins)
    prev_field, prev_spins = state.field_index, state.spins.copy()
    rec = driven.run(state, 1)
    assert np.all(rec.work[0] == 0.0)   # a fresh state opens without a switch
    for _ in range(6):
        prev_field, prev_spins, e_before = state.field_index, state.spins.copy(), rec.energy[-1]
        rec = driven.run(state, 1)
        new = rec.field_index[0]
        assert new != prev_field
        expected = naive_energy(J, driven.drive[new], prev_spins) - naive_energy(J, driven.drive[prev_field],
                                                                                 prev_spins)
        assert np.allclose(rec.work[0], expected, atol=1e-9)
        assert np.allclose(rec.energy[0], e_before + rec.work[0] + rec.heat[0], atol=1e-9)
        assert np.allclose(rec.energy[0], naive_energy(J, driven.drive[new], state.spins), atol=1e-9)
    state2 = driven.init_state(8, seed=3)
    rec = driven.run(state2, 40)
    e_end = naive_energy(J, driven.drive[state2.field_index], state2.spins)
    assert np.allclose(e_end - e_start, rec.work.sum(axis=0) + rec.heat.sum(axis=0), atol=1e-8)
    assert np.any(rec.work != 0.0) and np.any(rec.heat < 0.0)


def test_reproducible_and_resumable(driven):
    a = driven.init_state(4, seed=5)
    ra = driven.run(a, 12, record_configs=True)
    b = driven.init_state(4, seed=5)
    rb1 = driven.run(b, 5, record_configs=True)
    rb2 = driven.run(b, 7, record_configs=True)                 # resumes with a switch
    assert np.array_equal(ra.field_index, np.concatenate([rb1.field_index, rb2.field_index]))
    assert np.array_equal(ra.configs, np.concatenate([rb1.configs, rb2.configs]))
    assert np.array_equal(ra.work, np.concatenate([rb1.work, rb2.work]))
    c = driven.init_state(4, seed=6)
    rc = driven.run(c, 12, record_configs=True)
    assert not np.array_equal(ra.configs, rc.configs)


def test_schedule_uses_every_field_and_never_repeats(driven):
    state = driven.init_state(1, seed=7)
    rec = driven.run(state, 400)
    idx = rec.field_index
    assert np.all(idx[1:] != idx[:-1])
    counts = np.bincount(idx, minlength=driven.K)
    # uniform among the other K - 1: each field ~ 400 / K = 100 times; 5 SD of a binomial is ~ 43
    assert np.all(np.abs(counts - 100) < 45), counts


def test_bad_input():
    glass = GraphSpinGlass.sk(10, seed=0)
    with pytest.raises(ValueError, match="drive must be"):
        DrivenGlass(glass, 1.0, np.ones((2, 9)), 5)
    with pytest.raises(ValueError, match="drive must be"):
        DrivenGlass(glass, 1.0, np.full((2, 10), np.nan), 5)
    with pytest.raises(ValueError, match="tau"):
        DrivenGlass(glass, 1.0, np.ones((2, 10)), 0)
    with pytest.raises(ValueError, match="temperature"):
        DrivenGlass(glass, -1.0, np.ones((2, 10)), 5)
    with pytest.raises(TypeError, match="GraphSpinGlass"):
        DrivenGlass("sk", 1.0, np.ones((2, 10)), 5)
    with pytest.raises(ValueError, match="field_index"):
        DrivenGlass(glass, 1.0, np.ones((2, 10)), 5).init_state(2, seed=0, field_index=2)
    with pytest.raises(ValueError, match="h0"):
        random_drive(2, 10, h0=0.0)


# ------------------------------------------------------------------------------------ bottleneck measures
def naive_roc_auc(negative, positive):
    """Fraction of (negative, positive) pairs ranked correctly, ties counting one half."""
    return np.mean([(p > n) + 0.5 * (p == n) for n in negative for p in positive])


def test_roc_auc_against_naive():
    from fastmf.experiments.driven_glass import roc_auc
    rng = np.random.default_rng(0)
    neg, pos = rng.integers(0, 6, 40).astype(float), rng.integers(1, 7, 30).astype(float)  # many ties
    auc, se = roc_auc(neg, pos)
    assert auc == pytest.approx(naive_roc_auc(neg, pos), abs=1e-12) and 0 < se < 0.1
    assert roc_auc([0.0, 1.0], [2.0, 3.0])[0] == 1.0 and roc_auc([2.0, 3.0], [0.0, 1.0])[0] == 0.0
    with pytest.raises(ValueError, match="at least one"):
        roc_auc([], [1.0])


def test_softmax_classifier_separates_clusters():
    from fastmf.experiments.driven_glass import softmax_classifier
    rng = np.random.default_rng(1)
    centres = 4.0 * rng.standard_normal((3, 5))
    y = rng.integers(0, 3, 600)
    Z = centres[y] + rng.standard_normal((600, 5))
    predict = softmax_classifier(Z[:400], y[:400], 3)
    assert np.mean(predict(Z[400:]) == y[400:]) > 0.97


TINY = dict(n_spins=32, temperature=0.3, h0=2.0, tau=5, n_fields=4, n_chains=4, n_train=40, n_sample=60,
            k_values=(2,), fractions=(0.5,), latent_dim=4, beta=1.0, epochs=20, n_probes=20, threshold=0.5)


def hadamard_fields(K, N, h0):
    """K mutually orthogonal +-h0 rows (Sylvester-Hadamard, N a power of 2)."""
    H = np.array([[1.0]])
    while len(H) < N:
        H = np.block([[H, H], [H, -H]])
    return h0 * H[1:K + 1]


def test_trivial_drive_is_classified_almost_perfectly():
    """Strong orthogonal fields (h0 = 2 against SK couplings of size 1/sqrt(N)) at T = 0.3: every configuration
    follows the field in force, so the latent tells the 4 fields apart."""
    from fastmf.experiments.driven_glass import field_classification_accuracy
    acc = field_classification_accuracy(GraphSpinGlass.sk(32, seed=0), hadamard_fields(4, 32, 2.0), TINY, seed=1)
    assert acc >= 0.95


def test_novelty_detection_beats_chance_on_a_planted_case():
    """Planted: a VAE trained on configurations under 2 strong orthogonal fields; probes switch adapted chains
    to the other familiar field or to an unfamiliar orthogonal one. The VAE loss of the configuration reached
    and the power at the switch both separate the two (AUC well above 0.5; the probes are deterministic given
    the seeds, and the margin is > 5 SE of the per-replica spread measured here)."""
    from fastmf.models.driven_glass import DrivenGlass
    from fastmf.experiments.driven_glass import _auc_over_chains, _vae, novelty_scores
    glass = GraphSpinGlass.sk(32, seed=0)
    H = hadamard_fields(6, 32, 1.0)
    driven = DrivenGlass(glass, 0.3, H[:2], 5)
    state = driven.init_state(6, seed=2)
    rec = driven.run(state, 100, record_configs=True)
    vae = _vae(TINY, rec.configs[20:].reshape(-1, 32), seed=3)
    power_f, power_u, loss_f, loss_u = novelty_scores(driven, state, vae, H[2:], 20, seed=4)
    assert power_f.shape == (20, 6)
    auc_vae, se_vae = _auc_over_chains(loss_f, loss_u)
    auc_power, se_power = _auc_over_chains(power_f, power_u)
    assert auc_vae > 0.75 and auc_vae - 0.5 > 3 * se_vae, (auc_vae, se_vae)
    assert auc_power > 0.5 and auc_power - 0.5 > 3 * se_power, (auc_power, se_power)


def test_reproduce_driven_glass_cli(tmp_path):
    import json

    from fastmf.cli import main
    out = tmp_path / "dg"
    rc = main(["reproduce", "driven-glass", "--quick", "--graph", "sparse", "--n-spins", "32", "--chains", "4",
               "--periods", "60", "--vae-beta", "2", "--latent-dim", "3",
               "--k-values", "2,4", "--h0", "1.0", "--temperature", "0.3", "--out", str(out)])
    summary = json.loads((out / "summary.json").read_text())
    # every target of the report is met on this small run (measured: work identity 2e-16, power 2.46 -> 2.03,
    # classification 0.983 +- 0.007, novelty spike 0.19 +- 0.02, AUC 0.992 +- 0.003), so the command succeeds
    failed = {k: c["found"] for k, c in summary["checks"].items() if not c["passed"]}
    assert not failed and summary["passed"] and rc == 0, failed
    assert set(summary["checks"]) == {"work accounting", "adaptation", "classification", "novelty spike in power",
                                      "novelty detection (VAE)"}
    assert summary["parameters"]["n_spins"] == 32 and summary["capacity"]["k"] == [2, 4]
    assert summary["parameters"]["graph"] == "sparse" and summary["parameters"]["beta"] == 2.0
    assert summary["parameters"]["latent_dim"] == 3
    assert summary["work_identity_error"] < 1e-10
    assert len(summary["figures"]) == 3 and all((out / f).stat().st_size > 2000 for f in summary["figures"])
    assert "Memory capacity" in (out / "report.md").read_text()
    with np.load(out / "dataset.npz") as data:
        assert data["train_configs"].shape[1] == 32 and set(np.unique(data["train_configs"])) <= {-1, 1}
        assert len(data["train_field"]) == len(data["train_configs"]) and data["drive_fields"].shape == (4, 32)
        assert data["held_out_field"].max() < 4 and data["work"].shape == (60, 4)
    assert main(["reproduce", "driven-glass", "--quick", "--k-values", "1,2", "--out", str(tmp_path / "x")]) == 2
    assert main(["reproduce", "capacity", "--quick", "--h0", "1.0", "--out", str(tmp_path / "y")]) == 2
