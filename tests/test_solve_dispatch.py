"""The library functions behind ``fastmf exact`` and ``fastmf decode``: :func:`fastmf.exact.solve` (counting or
enumeration) and :func:`fastmf.decode.decode_model` (the read-off by kind), their results and their argument
checks."""
import json

import numpy as np
import pytest

from fastmf.decode import DecodeResult, decode_model
from fastmf.exact import ExactSolution, PairwiseModel, enumerate_model, solve
from fastmf.exact import enumeration as en
from fastmf.exact import symmetric
from fastmf.models.lattice import LatticeModel
from fastmf.models.meanfield import CurieWeiss, GraphSpinGlass, Hopfield


# ------------------------------------------------------------------------------------------------ solve
def test_solve_enumerates_small_models():
    s = solve(LatticeModel(L=4), 0.4)
    assert isinstance(s, ExactSolution) and (s.N, s.q, s.method) == (16, 2, "enumerate")
    r = enumerate_model(PairwiseModel.ising_lattice(4, 4), 0.4)
    assert s.values["log_z"] == r.log_z and s.values["entropy"] == r.entropy and s.values["levels"] == r.method
    assert [k for k, _ in s.values["mi_profile"]] == list(range(1, 16))
    assert "mi_half_cuts" not in s.values
    # a PairwiseModel is taken as it is; profile None computes no cuts
    t = solve(PairwiseModel.ising_lattice(4, 4), 0.4, profile=None)
    assert t.values["log_z"] == s.values["log_z"] and "mi_profile" not in t.values and t.method == "enumerate"


def test_solve_counts_large_symmetric_models():
    s = solve(CurieWeiss(200), 1 / 0.9, profile="half")
    assert s.method == "count" and s.N == 200 and "mi_profile" not in s.values
    cw = symmetric.curie_weiss_info(200, 1 / 0.9)
    assert s.values["log_z"] == cw.log_z
    assert set(s.values["mi_half_cuts"]) == set(en.half_cuts(200))
    for cut in s.values["mi_half_cuts"].values():
        assert cut["I"] == pytest.approx(cw.mutual_information(100), abs=1e-12)
    json.dumps(s.values)                                      # plain JSON types


def test_solve_count_agrees_with_enumeration():
    model = Hopfield.random(12, 2, seed=3)
    counted = solve(model, 1 / 0.7, method="count", profile="half")
    enumerated = solve(model, 1 / 0.7, method="enumerate", profile="half")
    assert (counted.method, enumerated.method) == ("count", "enumerate")
    assert counted.values["log_z"] == pytest.approx(enumerated.values["log_z"], abs=1e-10)
    for name, cut in counted.values["mi_half_cuts"].items():
        assert cut["I"] == pytest.approx(enumerated.values["mi_half_cuts"][name]["I"], abs=1e-10)
    # auto: counting only above max_states
    assert solve(model, 1.0, max_states=2 ** 11, profile="none").method == "count"
    assert solve(model, 1.0, max_states=2 ** 12, profile="none").method == "enumerate"


@pytest.mark.parametrize("model, kwargs, message", [
    (LatticeModel(L=4), dict(method="count"), "counting applies"),
    (GraphSpinGlass.sk(30, seed=0), dict(max_states=2 ** 20), "estimated"),
    (LatticeModel(L=2), dict(method="exact"), "method must be"),
    (LatticeModel(L=2), dict(profile="random"), "profile must be"),
    (LatticeModel(L=2), dict(max_states=0), "max_states"),
    (LatticeModel(L=2), dict(max_states=2.0 ** 20), "max_states"),
    (LatticeModel(L=2), dict(beta=-1.0), "beta"),
    (LatticeModel(L=2), dict(beta=float("nan")), "beta"),
    (LatticeModel(L=2), dict(beta="hot"), "beta"),
])
def test_solve_bad_input(model, kwargs, message):
    kwargs = dict(kwargs)
    beta = kwargs.pop("beta", 1.0)
    with pytest.raises(ValueError, match=message):
        solve(model, beta, **kwargs)


def test_solve_rejects_other_objects():
    with pytest.raises(TypeError, match="cannot enumerate"):
        solve(object(), 1.0)


# ------------------------------------------------------------------------------------------------ decode_model
@pytest.fixture(scope="module")
def trained():
    """A small VAE on two-mode data (an ordered Curie-Weiss phase, roughly): 24 sites, one latent."""
    from fastmf.vae import VAE

    rng = np.random.default_rng(0)
    sign = np.where(rng.random((1500, 1)) < 0.7, 1, -1)
    spins = np.where(rng.random((1500, 24)) < 0.85, sign, -sign).astype(np.int8)
    vae = VAE(latent_dim=1, hidden=(16,), epochs=8, lr=3e-3, seed=0, dtype="float32", progress=False).fit(spins)
    return vae, spins


def test_decode_curie_weiss(trained, tmp_path):
    from fastmf.decode import curie_weiss_readoff, posterior_draws
    from fastmf.io.samples import SampleSet

    vae, spins = trained
    prior = decode_model(vae, "curie-weiss", seed=3)
    assert isinstance(prior, DecodeResult) and prior.latent_draws == "prior" and prior.arrays == {}
    ref = curie_weiss_readoff(vae, seed=3)
    assert prior.values == dict(beta_J=ref.beta_J, beta_h=ref.beta_h, method=ref.method,
                                fit_residual_rms=ref.residual_rms)
    # data as configurations, a SampleSet or a sample file: the same aggregate-posterior draws
    post = decode_model(vae, "curie-weiss", data=spins, seed=3)
    ref = curie_weiss_readoff(vae, seed=3, Z=posterior_draws(vae, spins, seed=3))
    assert post.values["beta_J"] == ref.beta_J and post.latent_draws.startswith("aggregate posterior")
    path = SampleSet(spins, {"model": "test"}).save(tmp_path / "data.npz")
    from_file = decode_model(vae, "curie-weiss", data=path, seed=3)
    assert from_file.values == post.values and from_file.latent_draws == f"aggregate posterior over {path}"
    summary = from_file.save(tmp_path / "out", model_file="vae.npz")
    assert list(summary)[:5] == ["kind", "model_file", "seed", "latent_dim", "latent_draws"]
    assert json.loads((tmp_path / "out" / "decoded.json").read_text()) == summary
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["decoded.json"]
    assert "model_file" not in from_file.summary()


def test_decode_hopfield_and_generic(trained, tmp_path):
    from fastmf.decode import generic_readoff, hopfield_readoff
    from fastmf.decode.effective import GeneralizedHopfield

    vae, _ = trained
    hop = decode_model(vae, "hopfield", n_patterns=1, seed=1)
    ref = hopfield_readoff(vae, 1, seed=1)
    np.testing.assert_array_equal(hop.arrays["patterns.npy"], ref.patterns.astype(np.int8))
    assert hop.values["n_patterns"] == 1 and hop.effective_model is None
    hop.save(tmp_path / "hop")
    assert np.load(tmp_path / "hop" / "patterns.npy").dtype == np.int8
    gen = decode_model(vae, "generic", seed=1)
    ref = GeneralizedHopfield.from_readoff(generic_readoff(vae, None, seed=1))
    assert isinstance(gen.effective_model, GeneralizedHopfield)
    np.testing.assert_array_equal(gen.effective_model.patterns, ref.patterns)
    summary = gen.save(tmp_path / "gen")
    assert sorted(p.name for p in (tmp_path / "gen").iterdir()) == ["decoded.json", "effective_model.npz",
                                                                     "fields.npy", "patterns.npy"]
    np.testing.assert_array_equal(np.load(tmp_path / "gen" / "fields.npy"), ref.fields)
    assert summary["effective_model"] == "effective_model.npz" and summary["n_patterns"] == gen.values["n_patterns"]


@pytest.mark.parametrize("kind, kwargs, message", [
    ("ising", {}, "kind must be one of"),
    ("curie-weiss", dict(seed=-1), "seed"),
    ("curie-weiss", dict(seed=1.5), "seed"),
    ("hopfield", dict(n_patterns=0), "n_patterns"),
    ("curie-weiss", dict(n_patterns=2), "n_patterns is used by"),
    ("hopfield", dict(data=np.ones((3, 24))), "data is used by"),
    ("generic", dict(axes=np.eye(3)), "axes are used by"),
    ("maier-saupe", {}, "needs the decoder's axes"),
])
def test_decode_bad_input(trained, kind, kwargs, message):
    with pytest.raises(ValueError, match=message):
        decode_model(trained[0], kind, **kwargs)


def test_decode_needs_a_vae():
    with pytest.raises(TypeError, match="VAE"):
        decode_model(object(), "curie-weiss")
