"""The ``fastmf`` command line: simulate writes a sample file; bad input exits 2 and writes nothing."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import fastmf
from fastmf.backends import gpu_available
from fastmf.cli import main
from fastmf.io.samples import load_samples


def _simulate_args(out, *extra, L="8", T="2.6", n="100"):
    return ["simulate", "ising2d", "--L", L, "--T", T, "--n-samples", n, "--seed", "7", "--out", str(out),
            "--no-progress", *extra]


def _run(argv):
    """main(argv) -> exit status, whether it returned or raised SystemExit (argparse)."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


def test_simulate_writes_a_sample_file(tmp_path, capsys):
    out = tmp_path / "f.npz"
    assert _run(_simulate_args(out, "--backend", "cpu")) == 0
    stdout = capsys.readouterr().out
    assert "wrote 100 samples" in stdout and str(out) in stdout
    assert os.listdir(tmp_path) == ["f.npz"]
    with np.load(out, allow_pickle=False) as data:       # plain NumPy reads it
        assert data["spins"].shape == (100, 8, 8) and data["spins"].dtype == np.int8
        meta = json.loads(str(data["metadata"]))
    assert (meta["model"], meta["L"], meta["M"], meta["T"], meta["seed"]) == ("ising2d", 8, 8, 2.6, 7)
    assert (meta["sampler"], meta["backend"], meta["n_samples"]) == ("metropolis", "cpu", 100)
    assert meta["fastmf_version"] == fastmf.__version__
    assert set(np.unique(load_samples(out).spins)) == {-1, 1}


def test_simulate_is_reproducible_and_matches_the_library(tmp_path, capsys):
    from fastmf.models.lattice import LatticeModel
    from fastmf.sampling.simulate import simulate_lattice

    assert _run(_simulate_args(tmp_path / "a.npz", "--backend", "cpu", "--J", "-1", "--h", "0.5")) == 0
    ref = simulate_lattice(LatticeModel(L=8, J=-1.0, h=0.5), 2.6, 100, seed=7, backend="cpu")
    got = load_samples(tmp_path / "a.npz")
    np.testing.assert_array_equal(got.spins, ref.spins)
    assert got.metadata == ref.metadata


def test_simulate_potts(tmp_path):
    out = tmp_path / "p.npz"
    assert _run(_simulate_args(out, "--q", "3", "--backend", "cpu", T="1.0")) == 0
    ss = load_samples(out)
    assert ss.spins.shape == (100, 8, 8) and ss.spins.dtype == np.uint8
    assert ss.spins.max() <= 2 and ss.metadata["model"] == "potts2d" and ss.metadata["q"] == 3


@pytest.mark.parametrize("sampler", ["wolff", "multispin", "heatbath"])
def test_simulate_samplers(tmp_path, sampler):
    out = tmp_path / "s.npz"
    assert _run(_simulate_args(out, "--sampler", sampler, "--backend", "cpu")) == 0
    ss = load_samples(out)
    assert ss.spins.shape == (100, 8, 8) and ss.spins.dtype == np.int8
    assert ss.metadata["sampler"] == sampler
    assert ss.metadata["step_unit"] == ("cluster" if sampler == "wolff" else "sweep")


def test_simulate_options(tmp_path):
    out = tmp_path / "o.npz"
    extra = ["--M", "6", "--order", "sequential", "--n-replicas", "3", "--burn-in", "10", "--thin", "4",
             "--backend", "cpu"]
    assert _run(_simulate_args(out, *extra, L="5", n="30")) == 0
    md = load_samples(out).metadata
    assert (md["L"], md["M"], md["order"], md["n_replicas"], md["thin"]) == (5, 6, "sequential", 3, 4)
    assert md["burn_in_initial"] == 10 and md["thin_from_tau"] is False


def test_simulate_spin_glass_and_checkpoint(tmp_path):
    out, ck = tmp_path / "g.npz", tmp_path / "ck.npz"
    extra = ["--disorder", "gaussian", "--disorder-seed", "4", "--checkpoint", str(ck), "--backend", "cpu"]
    assert _run(_simulate_args(out, *extra, n="40", T="1.5")) == 0
    first = load_samples(out)
    assert first.metadata["model"] == "ea2d" and first.metadata["disorder"] == "gaussian(seed=4)"
    assert ck.is_file()
    out.unlink()
    assert _run(_simulate_args(out, *extra, n="40", T="1.5")) == 0   # resumes from the finished checkpoint
    np.testing.assert_array_equal(load_samples(out).spins, first.spins)


BAD_INPUT = {
    "T=0": (["--T", "0"], "temperature must be > 0"),
    "T<0": (["--T", "-1"], "temperature must be > 0"),
    "J=nan": (["--J", "nan"], "finite"),
    "h=inf": (["--h", "inf"], "finite"),
    "odd L": (["--L", "5"], "even"),
    "q=1": (["--q", "1"], "q must be"),
    "n-samples=0": (["--n-samples", "0"], "positive integer"),
    "seed<0": (["--seed", "-3"], "integer >= 0"),
    "backend": (["--backend", "bogus"], "invalid choice: 'bogus'"),
    "sampler": (["--sampler", "bogus"], "invalid choice: 'bogus'"),
    "wolff with h": (["--sampler", "wolff", "--h", "0.5"], "h = 0"),
    "multispin potts": (["--sampler", "multispin", "--q", "3"], "uniform J only"),
}


def _bad_cases():
    cases = dict(BAD_INPUT)
    cases["no .npz"] = (["--out", "OUT/f.txt"], "must end in .npz")
    cases["missing dir"] = (["--out", "OUT/missing/f.npz"], "does not exist")
    return cases


def _bad_argv(tmp_path, extra):
    argv = _simulate_args(tmp_path / "f.npz", "--backend", "cpu")
    extra = [e.replace("OUT", str(tmp_path)) for e in extra]
    # later options override earlier ones (argparse keeps the last value)
    return argv + extra


@pytest.mark.parametrize("case", sorted(_bad_cases()))
def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys, case):
    extra, message = _bad_cases()[case]
    assert _run(_bad_argv(tmp_path, extra)) == 2
    err = capsys.readouterr().err
    error_lines = [line for line in err.splitlines() if "error:" in line]
    assert len(error_lines) == 1, err
    assert message in error_lines[0]
    assert os.listdir(tmp_path) == []


def test_odd_lattice_message_explains_why(tmp_path, capsys):
    assert _run(_bad_argv(tmp_path, ["--L", "5"])) == 2
    err = capsys.readouterr().err
    assert err.startswith("fastmf: error:") and "bipartite" in err and "sequential" in err


@pytest.mark.parametrize("case", sorted(_bad_cases()))
def test_bad_input_message_is_one_line(tmp_path, capsys, case):
    """cli.py's docstring: "Errors in the arguments are reported in one line (exit status 2)"."""
    extra, _ = _bad_cases()[case]
    assert _run(_bad_argv(tmp_path, extra)) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize("backend", ["cuda", "cupy"])
def test_gpu_backend_without_gpu(tmp_path, capsys, backend):
    if gpu_available():
        pytest.skip("a GPU is usable here")
    assert _run(_simulate_args(tmp_path / "f.npz", "--backend", backend)) == 2
    err = capsys.readouterr().err
    assert err.startswith("fastmf: error:") and "cpu" in err and len(err.strip().splitlines()) == 1
    assert os.listdir(tmp_path) == []


def test_version(capsys):
    assert _run(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"fastmf {fastmf.__version__}"


def test_missing_command_exits_2(capsys):
    assert _run([]) == 2
    assert "required" in capsys.readouterr().err


def test_python_dash_m_fastmf_cli(tmp_path):
    """``python -m fastmf.cli`` works as a program (a subprocess; exit status and file)."""
    out = tmp_path / "m.npz"
    argv = _simulate_args(out, "--backend", "cpu", n="20")
    proc = subprocess.run([sys.executable, "-m", "fastmf.cli", *argv], capture_output=True, text=True,
                          cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "wrote 20 samples" in proc.stdout
    with np.load(out) as data:
        assert data["spins"].shape == (20, 8, 8) and data["spins"].dtype == np.int8
    bad = subprocess.run([sys.executable, "-m", "fastmf.cli", *_simulate_args(tmp_path / "x.npz", L="5")],
                         capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert bad.returncode == 2 and "fastmf: error:" in bad.stderr
    assert sorted(os.listdir(tmp_path)) == ["m.npz"]


@pytest.mark.slow
def test_verify_quick_passes(capsys):
    assert _run(["verify", "--quick", "--backend", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "passed" in out and " 0 failed" in out
    assert "FAIL " not in out


# ------------------------------------------------------------------------------------------ fastmf exact

def test_exact_json_matches_the_library(capsys):
    from fastmf.exact import enumeration as en, kaufman
    from fastmf.exact.pairwise import PairwiseModel

    assert main(["exact", "ising2d", "--L", "4", "--T", "2.5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["method"] == "enumerate" and out["N"] == 16
    assert out["log_z"] == pytest.approx(kaufman.log_partition_function(4, 4, 1 / 2.5), abs=1e-11)
    model = PairwiseModel.ising_lattice(4, 4)
    assert [k for k, _ in out["mi_profile"]] == list(range(1, 16))
    for k, I in out["mi_profile"]:
        assert I == pytest.approx(en.mutual_information(model, 0.4, range(k)), abs=1e-12)
    r = en.enumerate_model(model, 0.4)
    assert out["entropy"] == pytest.approx(r.entropy) and out["mean_energy"] == pytest.approx(r.mean_energy)


def test_exact_counts_large_mean_field_models(capsys):
    from fastmf.exact import symmetric

    assert main(["exact", "curie-weiss", "--N", "500", "--T", "0.9", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["method"] == "count" and len(out["mi_profile"]) == 499
    cw = symmetric.curie_weiss_info(500, 1 / 0.9)
    assert out["mi_profile"][249][1] == pytest.approx(cw.mutual_information(250), abs=1e-10)
    assert main(["exact", "hopfield", "--N", "14", "--P", "2", "--T", "0.7", "--method", "count",
                 "--profile", "half", "--json"]) == 0
    counted = json.loads(capsys.readouterr().out)
    assert main(["exact", "hopfield", "--N", "14", "--P", "2", "--T", "0.7", "--profile", "half", "--json"]) == 0
    enumerated = json.loads(capsys.readouterr().out)
    assert enumerated["method"] == "enumerate"
    assert counted["log_z"] == pytest.approx(enumerated["log_z"], abs=1e-10)
    for name, cut in counted["mi_half_cuts"].items():
        assert cut["I"] == pytest.approx(enumerated["mi_half_cuts"][name]["I"], abs=1e-10)


@pytest.mark.parametrize("argv, message", [
    (["exact", "sk", "--N", "40", "--T", "1"], "estimated"),
    (["exact", "sk", "--N", "10", "--T", "1", "--method", "count"], "counting applies"),
    (["exact", "potts", "--N", "6", "--q", "1", "--T", "1"], "q"),
])
def test_exact_bad_input(argv, message, capsys):
    assert _run(argv) == 2  # q = 1 is refused by argparse (SystemExit), the others by the library
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


# ------------------------------------------------------------------------------------------ fastmf train / generate

def test_train_and_generate(tmp_path, capsys):
    from fastmf.vae import VAE

    data = tmp_path / "cw.npz"
    assert main(["simulate", "curie-weiss", "--N", "16", "--T", "0.9", "--n-samples", "600", "--seed", "1",
                 "--out", str(data), "--no-progress"]) == 0
    model = tmp_path / "vae.npz"
    argv = ["train", str(data), "--latent-dim", "1", "--hidden", "16", "--epochs", "3", "--seed", "4", "--out",
            str(model), "--no-progress"]
    assert main(argv) == 0
    vae = VAE.load(model)
    assert vae.latent_dim == 1 and vae.hidden == (16,) and len(vae.history_) == 3
    assert vae.metadata_["training_metadata"]["model"] == "curie-weiss"
    again = tmp_path / "again.npz"
    assert main(argv[:-2] + [str(again), "--no-progress"]) == 0  # same seed: the same model
    np.testing.assert_array_equal(VAE.load(again).theta_, vae.theta_)
    out = tmp_path / "gen.npz"
    assert main(["generate", str(model), "--n-samples", "50", "--seed", "3", "--out", str(out)]) == 0
    gen = load_samples(out)
    assert gen.spins.shape == (50, 16) and gen.spins.dtype == np.int8 and gen.metadata["sampler"] == "vae"
    np.testing.assert_array_equal(gen.spins, vae.sample(50, seed=3))


@pytest.mark.parametrize("argv, message", [
    (["train", "missing.npz", "--latent-dim", "1", "--seed", "0", "--out", "m.npz"], "no such sample file"),
    (["train", "x.npz", "--latent-dim", "1", "--seed", "0", "--out", "m.npz", "--hidden", "8,0"], "positive"),
    (["generate", "nothing.npz", "--n-samples", "3", "--seed", "0", "--out", "g.npz"], "no such VAE model file"),
])
def test_train_generate_bad_input(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) if "--hidden" in argv else _nullcontext():
        assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "m.npz").exists() and not (tmp_path / "g.npz").exists()


def _nullcontext():
    import contextlib
    return contextlib.nullcontext()


# ------------------------------------------------------------------------------------------ fastmf decode

def test_decode_hopfield_and_generic(tmp_path, capsys):
    from fastmf.models.meanfield import Hopfield
    from fastmf.sampling.meanfield import simulate_meanfield
    from fastmf.vae import VAE

    model = Hopfield.random(60, 2, seed=5)
    spins = simulate_meanfield(model, 0.5, 6000, seed=1, progress=False).spins
    VAE(latent_dim=2, hidden=(32,), epochs=20, lr=3e-3, seed=0, dtype="float32").fit(spins).save(tmp_path / "m.npz")
    out = tmp_path / "hop"
    assert main(["decode", str(tmp_path / "m.npz"), "--kind", "hopfield", "--n-patterns", "2", "--out", str(out)]) == 0
    decoded = json.loads((out / "decoded.json").read_text())
    patterns = np.load(out / "patterns.npy")
    assert decoded["n_patterns"] == 2 and patterns.shape == (2, 60) and patterns.dtype == np.int8
    overlaps = np.abs(patterns @ model.patterns.T.astype(int)) / 60
    assert sorted(overlaps.max(axis=1)) == [1.0, 1.0]  # both patterns, exactly, up to order and sign
    gen = tmp_path / "gen"
    assert main(["decode", str(tmp_path / "m.npz"), "--kind", "generic", "--out", str(gen)]) == 0
    decoded = json.loads((gen / "decoded.json").read_text())
    assert decoded["n_significant"] == 2
    from fastmf.decode.effective import GeneralizedHopfield
    eff = GeneralizedHopfield.load(gen / "effective_model.npz")
    assert eff.patterns.shape[1] == 60 and np.load(gen / "patterns.npy").shape == eff.patterns.shape
    capsys.readouterr()
    assert main(["decode", str(tmp_path / "m.npz"), "--kind", "maier-saupe", "--out", str(tmp_path / "ms")]) == 2
    assert "axes" in capsys.readouterr().err


def test_decode_curie_weiss_with_posterior_draws(tmp_path, capsys):
    """Ordered phase (N = 64, T = 0.8, h = 0.02: minority basin ~8 %). With --data the read-off draws latents
    from the aggregate posterior; beta J = 1.25 comes back within 10 % (the experiment's tolerance)."""
    data, model = tmp_path / "cw.npz", tmp_path / "vae.npz"
    assert main(["simulate", "curie-weiss", "--N", "64", "--T", "0.8", "--h", "0.02", "--n-samples", "6000",
                 "--seed", "1", "--out", str(data), "--no-progress"]) == 0
    # fastmf train's defaults (the mean-field decoder, 100 epochs): 20 epochs read beta J 0.82 with that decoder
    assert main(["train", str(data), "--latent-dim", "1", "--hidden", "32", "--seed", "0",
                 "--out", str(model), "--no-progress"]) == 0
    assert main(["decode", str(model), "--kind", "curie-weiss", "--data", str(data), "--out", str(tmp_path / "d")]) == 0
    decoded = json.loads((tmp_path / "d" / "decoded.json").read_text())
    assert decoded["method"] == "moments" and decoded["latent_draws"].startswith("aggregate posterior")
    assert decoded["beta_J"] == pytest.approx(1.25, rel=0.1)
    capsys.readouterr()
    assert main(["decode", str(model), "--kind", "hopfield", "--data", str(data), "--out", str(tmp_path / "h")]) == 2
    assert "data is used by" in capsys.readouterr().err and not (tmp_path / "h").exists()


def test_decode_maier_saupe(tmp_path, capsys):
    from fastmf.decode.nematic import icosahedral_axes
    from fastmf.models.meanfield import MaierSaupe
    from fastmf.sampling.meanfield import simulate_meanfield
    from fastmf.vae import VAE

    axes = icosahedral_axes()
    data = simulate_meanfield(MaierSaupe(N=16, J=1.0, axes=axes), 1 / 2.5, 2000, seed=1, progress=False).spins
    VAE(latent_dim=2, hidden=(16,), decoder="nematic", axes=axes, epochs=5, seed=0).fit(data).save(tmp_path / "m.npz")
    assert main(["decode", str(tmp_path / "m.npz"), "--kind", "maier-saupe", "--out", str(tmp_path / "ms")]) == 0
    decoded = json.loads((tmp_path / "ms" / "decoded.json").read_text())
    # the command writes exactly what the library's read-off gives for the same file and seed (its accuracy is
    # checked on decoders with a known beta J in test_experiments_nematic_potts.py)
    from fastmf.decode import decode_model
    ref = decode_model(VAE.load(tmp_path / "m.npz"), "maier-saupe", seed=0).values
    for key in ("S", "beta_J", "beta_J_identity", "beta_J_ml", "beta_J_proj", "beta_J_mf"):
        assert decoded[key] == pytest.approx(ref[key], rel=1e-12, abs=1e-15), key
    # icosahedral axes and N = 16: the projection estimator's exact law applies, so it is the one reported
    assert decoded["beta_J_method"] == "projection" and decoded["beta_J"] == decoded["beta_J_proj"]
    assert 0 <= decoded["S"] <= 1 and decoded["latent_draws"] == "prior"
