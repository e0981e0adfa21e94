"""simulate_meanfield and `fastmf simulate <mean-field model>`: every model with every sampler that applies,
file contents, agreement of the samplers with exact counting, and bad input."""
import numpy as np
import pytest

from references import curie_weiss_counting

from fastmf.cli import main
from fastmf.models.meanfield import CurieWeiss, GraphSpinGlass, Hopfield, MaierSaupe, MeanFieldPotts
from fastmf.sampling.meanfield import simulate_meanfield
from fastmf.io.samples import load_samples

MODELS = {
    "curie-weiss": (CurieWeiss(24, h=0.1), 0.9, ("latent", "mcmc", "tempering")),
    "hopfield": (Hopfield.random(24, 2, seed=3), 0.6, ("latent", "mcmc", "tempering")),
    "potts": (MeanFieldPotts(18, 3, h=0.1), 0.5, ("latent", "mcmc", "tempering")),
    "maier-saupe": (MaierSaupe(12), 0.2, ("latent", "mcmc")),
    "maier-saupe-axes": (MaierSaupe(8, axes=np.eye(3)), 0.3, ("latent", "mcmc")),
    "sk": (GraphSpinGlass.sk(12, seed=2, h=0.1), 0.6, ("tempering", "mcmc")),
    "ea": (GraphSpinGlass.ea(12, degree=3, seed=2), 0.8, ("tempering", "mcmc")),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_sampler_runs_and_records_itself(name):
    model, T, samplers = MODELS[name]
    for sampler in samplers:
        s = simulate_meanfield(model, T, 60, seed=5, sampler=sampler, progress=False)
        assert s.spins.shape == (60,) + model.shape and s.spins.dtype == model.dtype
        assert s.metadata["sampler"] == sampler
        np.testing.assert_allclose(s["energy"], model.energy(s.spins))
    auto = simulate_meanfield(model, T, 20, seed=5, progress=False)
    assert auto.metadata["sampler"] == ("latent" if model.latent else "tempering")


@pytest.mark.parametrize("name,sampler", [("hopfield", "latent"), ("hopfield", "mcmc"), ("sk", "tempering")])
def test_reproducible_from_the_seed(name, sampler):
    model, T, _ = MODELS[name]
    a = simulate_meanfield(model, T, 40, seed=9, sampler=sampler, progress=False)
    b = simulate_meanfield(model, T, 40, seed=9, sampler=sampler, progress=False)
    c = simulate_meanfield(model, T, 40, seed=10, sampler=sampler, progress=False)
    np.testing.assert_array_equal(a.spins, b.spins)
    assert not np.array_equal(a.spins, c.spins)


def _energy_z(s, exact_mean_energy):
    """z of the sample mean energy against an exact mean, the standard error widened by the integrated
    autocorrelation time of the samples where the sampler reports one (independent samples: tau = 0.5)."""
    e = s["energy"]
    tau = max(0.5, s.metadata.get("tau_int_energy_of_samples") or 0.5)
    return (e.mean() - exact_mean_energy) / (e.std(ddof=1) / np.sqrt(len(e)) * np.sqrt(2 * tau))


@pytest.mark.parametrize("sampler", ["latent", "mcmc", "tempering"])
def test_curie_weiss_mean_energy_matches_counting(sampler):
    """All three samplers give the exact <E> of Curie-Weiss (N = 24, h != 0; binomial counting in
    tests/references.py) within 4 standard errors (two-sided 6e-5 for a normal mean). Power: the same samples
    are more than 4 standard errors from <E> at a temperature 5 % higher."""
    model, T = CurieWeiss(24, h=0.1), 0.9
    s = simulate_meanfield(model, T, 1500, seed=1, sampler=sampler, progress=False)
    assert abs(_energy_z(s, curie_weiss_counting(24, 1 / T, 1.0, 0.1)[2])) < 4
    assert abs(_energy_z(s, curie_weiss_counting(24, 1 / (1.05 * T), 1.0, 0.1)[2])) > 4


def test_hopfield_file_holds_patterns(tmp_path):
    out = tmp_path / "hop.npz"
    assert main(["simulate", "hopfield", "--N", "30", "--P", "2", "--T", "0.5", "--n-samples", "20", "--seed", "1",
                 "--out", str(out), "--no-progress"]) == 0
    s = load_samples(out)
    assert s.spins.shape == (20, 30) and s.spins.dtype == np.int8
    assert s["patterns"].shape == (2, 30) and s["patterns"].dtype == np.int8
    np.testing.assert_array_equal(s["patterns"], Hopfield.random(30, 2, seed=0).patterns)
    with np.load(out) as raw:
        assert raw["patterns"].shape == (2, 30)


def test_cli_patterns_file_and_axes_file(tmp_path):
    xi = Hopfield.random(20, 3, seed=4).patterns
    np.save(tmp_path / "xi.npy", xi)
    np.save(tmp_path / "axes.npy", np.eye(3))
    out = tmp_path / "a.npz"
    assert main(["simulate", "hopfield", "--N", "20", "--patterns", str(tmp_path / "xi.npy"), "--T", "0.5",
                 "--n-samples", "10", "--seed", "1", "--out", str(out), "--no-progress"]) == 0
    np.testing.assert_array_equal(load_samples(out)["patterns"], xi)
    assert main(["simulate", "maier-saupe", "--N", "10", "--axes", str(tmp_path / "axes.npy"), "--T", "0.3",
                 "--n-samples", "10", "--seed", "1", "--out", str(out), "--no-progress"]) == 0
    assert load_samples(out).spins.dtype == np.uint8


@pytest.mark.parametrize("argv,message", [
    (["hopfield", "--N", "10", "--P", "10"], "P < N"),
    (["potts", "--N", "10", "--q", "1"], "q must be >= 2"),
    (["curie-weiss", "--N", "10", "--J", "nan"], "finite"),
    (["hopfield", "--N", "10"], "--P"),
    (["sk", "--N", "10", "--sampler", "latent"], "no latent sampler"),
])
def test_bad_input(tmp_path, capsys, argv, message):
    out = tmp_path / "x.npz"
    try:
        rc = main(["simulate"] + argv + ["--T", "1", "--n-samples", "5", "--seed", "1", "--out", str(out),
                                        "--no-progress"])
    except SystemExit as exc:  # argparse-level errors
        rc = exc.code
    assert rc == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_bad_patterns_and_vectors():
    with pytest.raises(ValueError, match="-1 and \\+1"):
        Hopfield(np.zeros((2, 10), np.int8))
    with pytest.raises(ValueError, match="unit"):
        MaierSaupe(5, axes=np.ones((3, 3)))
    with pytest.raises(ValueError, match="> 0"):
        simulate_meanfield(CurieWeiss(10), -1.0, 5, seed=1)
