"""The library's public boundary refuses bad input cleanly (issue 16), table-driven by class:

* sizes: requests whose memory (or, for exact counting, work) estimate is above the documented limit raise
  :class:`fastmf.io.ResourceLimitError` (a ValueError) before allocating, with the estimate in the message;
  ``FASTMF_MAX_MEMORY`` lowers the limit so that the refusals are tested cheaply;
* files: models, checkpoints, rasters and sample files that are empty, truncated, random, not ``.npz`` (a
  pickled ``.npy`` too: never loaded, and NumPy's "allow_pickle" text is not passed on), of another fastmf kind,
  missing arrays or metadata fields, with metadata of the wrong JSON type, or holding NaN parameters: a
  ValueError naming the file and the problem, never EOFError / BadZipFile / KeyError / AttributeError;
* input shapes and settings of the VAE: (n, 2, 2, 4) data, ``hidden=()``, ``epochs=0``, a diverging ``lr``.

Every refusal leaves nothing behind (the directory holds what it held before, byte for byte). The power
checks at the end show that valid inputs still work, with the same results.
"""
import json
import os
import zipfile

import numpy as np
import pytest

from fastmf.decode.effective import GeneralizedHopfield
from fastmf.exact.solver import solve
from fastmf.io import ResourceLimitError, SampleSet, SpikeRaster, load_raster, load_samples, read_npz
from fastmf.models.lattice import LatticeModel
from fastmf.models.meanfield import CurieWeiss, GraphSpinGlass, Hopfield, MaierSaupe, MeanFieldPotts
from fastmf.neural.maxent import PairwiseMaxEnt
from fastmf.sampling.latent import sample_curie_weiss, sample_potts_mf
from fastmf.sampling.latent_hopfield import sample_hopfield
from fastmf.sampling.latent_maier_saupe import sample_maier_saupe, sample_maier_saupe_axes
from fastmf.sampling.lattice import ChainState, LatticeSampler
from fastmf.sampling.meanfield import MeanFieldSampler, TemperingSampler, simulate_meanfield
from fastmf.vae import VAE

BAD_TYPES = (EOFError, KeyError, AttributeError, zipfile.BadZipFile, IndexError)


def _spins(n=120, N=8, seed=0):
    rng = np.random.default_rng(seed)
    return np.where(rng.random((n, N)) < 0.5, 1, -1).astype(np.int8)


def _snapshot(directory):
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


# ------------------------------------------------------------------------------------------------ sizes
SIZE_CASES = [
    # (name, limit, call, message substring)
    ("lattice huge L", None, lambda: LatticeSampler(LatticeModel(200_000), 2.0, backend="cpu").init_state(1, 0),
     "200000 x 200000 lattice"),
    ("lattice many replicas", None,
     lambda: LatticeSampler(LatticeModel(8), 2.0, backend="cpu").init_state(10 ** 10, 0), "10000000000 replicas"),
    ("lattice cold start", "1M",
     lambda: LatticeSampler(LatticeModel(1024), 2.0, backend="cpu").init_state(2, 0, start="cold"), "replicas"),
    ("spin-glass couplings", None, lambda: LatticeModel.spin_glass(10 ** 6), "quenched couplings"),
    ("curie-weiss N", None, lambda: simulate_meanfield(CurieWeiss(10 ** 10), 1.0, 10, seed=0), "N=10000000000"),
    ("curie-weiss n_samples", None, lambda: simulate_meanfield(CurieWeiss(100), 1.0, 10 ** 11, seed=0),
     "100000000000 samples"),
    ("potts n_samples", None, lambda: simulate_meanfield(MeanFieldPotts(100), 1.0, 10 ** 11, seed=0), "samples"),
    ("maier-saupe N", None, lambda: simulate_meanfield(MaierSaupe(10 ** 10), 1.0, 10, seed=0), "maier-saupe"),
    ("maier-saupe axes", "1M", lambda: simulate_meanfield(MaierSaupe(10 ** 4, axes=np.eye(3)), 1.0, 100, seed=0),
     "maier-saupe"),
    ("hopfield patterns", None, lambda: Hopfield.random(10 ** 10, 2), "2 x 10000000000 sites"),
    ("hopfield n_samples", "1M", lambda: simulate_meanfield(Hopfield.random(100, 2), 1.0, 10 ** 5, seed=0),
     "hopfield"),
    ("sk couplings", None, lambda: GraphSpinGlass.sk(10 ** 6), "SK model"),
    ("ea couplings", None, lambda: GraphSpinGlass.ea(10 ** 6), "Edwards-Anderson"),
    ("mcmc replicas", "1M",
     lambda: MeanFieldSampler(CurieWeiss(10 ** 4), 1.0, backend="cpu").init_state(100, 0), "initial configurations"),
    ("tempering ladders", "1M", lambda: TemperingSampler(CurieWeiss(10 ** 4), 1.0).init_state(10, 0),
     "initial configurations"),
    ("unit vectors", "1M",
     lambda: MeanFieldSampler(MaierSaupe(10 ** 4), 1.0, method="rotation", backend="cpu").init_state(10, 0),
     "unit vectors"),
    ("latent table curie-weiss", None, lambda: sample_curie_weiss(10 ** 10, 1.0, n_samples=1, seed=0),
     "Curie-Weiss sampling"),
    ("latent potts", "1M", lambda: sample_potts_mf(300, 3, 1.0, n_samples=10 ** 4, seed=0), "Potts sampling"),
    ("latent hopfield", "1M", lambda: sample_hopfield(np.ones((1, 100), np.int8), 1.0, n_samples=10 ** 5, seed=0),
     "Hopfield latent sampling"),
    ("latent maier-saupe", "1M", lambda: sample_maier_saupe(1.0, 1.0, 100, 10 ** 4, seed=0), "Maier-Saupe"),
    ("latent maier-saupe axes", "1M", lambda: sample_maier_saupe_axes(np.eye(3), 1.0, 1.0, 100, 10 ** 4, seed=0),
     "Maier-Saupe"),
    ("vae latent_dim", None, lambda: VAE(latent_dim=10 ** 8), "latent_dim=100000000"),
    ("vae hidden", None, lambda: VAE(hidden=(10 ** 10,)), "hidden=[10000000000]"),
    ("vae fit", "1M", lambda: VAE(hidden=(64,), epochs=1).fit(_spins(2000, 100)), "training a VAE"),
    ("vae fit conv", "1M", lambda: VAE(encoder="conv", hidden=(64,), epochs=1).fit(
        _spins(1000, 256).reshape(1000, 16, 16)), "training a VAE"),
    ("exact count work", None, lambda: solve(CurieWeiss(10 ** 10), 1.0, profile="none"), "table operations"),
    ("exact count memory", "1M", lambda: solve(CurieWeiss(10 ** 6), 1.0, profile="none"), "counting curie-weiss"),
    ("exact count max_work", None, lambda: solve(CurieWeiss(1000), 1.0, profile="none", max_work=100),
     "max_work=100"),
    ("exact count profile", None, lambda: solve(CurieWeiss(10 ** 6), 1.0), "contiguous mutual-information"),
    ("exact half cut", None, lambda: solve(CurieWeiss(10 ** 6), 1.0, profile="half"), "half-half"),
    ("exact enumeration huge", None, lambda: solve(LatticeModel(200_000), 1.0), "states exceeds max_states"),
    ("exact enumeration cap", None, lambda: solve(LatticeModel(24), 1.0, max_states=10 ** 400), "cap of 2**62"),
    ("exact enumeration potts", None, lambda: solve(MeanFieldPotts(10 ** 10), 1.0), "3**10000000000"),
]


@pytest.mark.parametrize("name, limit, call, message", SIZE_CASES, ids=[c[0] for c in SIZE_CASES])
def test_sizes_are_refused_before_allocating(name, limit, call, message, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    if limit is not None:
        monkeypatch.setenv("FASTMF_MAX_MEMORY", limit)
    with pytest.raises(ResourceLimitError, match="needs|states exceeds") as info:
        call()
    assert isinstance(info.value, ValueError)
    assert message in str(info.value)
    assert os.listdir(tmp_path) == []


def test_vae_sample_size_is_refused(tmp_path):
    vae = VAE(hidden=(8,), latent_dim=1, epochs=1).fit(_spins())
    with pytest.raises(ResourceLimitError, match=r"sampling 100000000000 configurations .* needs about"):
        vae.sample(10 ** 11)


def test_memory_limit_names_the_override(monkeypatch):
    monkeypatch.setenv("FASTMF_MAX_MEMORY", "1M")
    with pytest.raises(ResourceLimitError, match="FASTMF_MAX_MEMORY"):
        LatticeSampler(LatticeModel(1024), 2.0, backend="cpu").init_state(4, 0)
    monkeypatch.setenv("FASTMF_MAX_MEMORY", "64G")
    assert LatticeSampler(LatticeModel(1024), 2.0, backend="cpu").init_state(4, 0).spins.shape == (4, 1024, 1024)


# ------------------------------------------------------------------------------------------------ files
@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """One valid file of every kind, and the bad files made from them."""
    d = tmp_path_factory.mktemp("files")
    x = _spins()
    vae = VAE(hidden=(8,), latent_dim=1, epochs=2, seed=1).fit(x, checkpoint=d / "ckpt.npz")
    vae.save(d / "vae.npz")
    SampleSet(x, {"model": "test"}).save(d / "samples.npz")
    sampler = LatticeSampler(LatticeModel(4), 2.0, backend="cpu")
    sampler.init_state(2, seed=1).save(d / "chain.npz", sampler)
    GeneralizedHopfield(np.zeros(4), np.ones((1, 4))).save(d / "gh.npz")
    PairwiseMaxEnt(np.zeros(3), np.zeros((3, 3))).save(d / "maxent.npz")
    SpikeRaster.from_binary(np.eye(3)).save(d / "raster.npz")
    whole = (d / "vae.npz").read_bytes()
    (d / "empty.npz").write_bytes(b"")
    (d / "truncated.npz").write_bytes(whole[: len(whole) // 2])
    (d / "random.npz").write_bytes(np.random.default_rng(0).bytes(4000))
    (d / "zipjunk.npz").write_bytes(b"PK\x03\x04" + np.random.default_rng(1).bytes(4000))
    (d / "text.npz").write_text("hello\n")
    np.save(d / "pickled.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    (d / "pickled_npy.npz").write_bytes((d / "pickled.npy").read_bytes())
    every = ("meta", "theta", "spins", "state", "fields", "patterns", "h", "J", "metadata", "packed", "shape")
    np.savez(d / "objects.npz", **{name: np.array([{"a": 1}], dtype=object) for name in every})
    with zipfile.ZipFile(d / "plainzip.npz", "w") as z:
        for name in every:
            z.writestr(f"{name}.npy", "not an array")
    return d


def _rewrite(src, dst, key, change):
    """Copy the .npz ``src`` to ``dst`` with the JSON of array ``key`` (or the arrays) changed by ``change``."""
    with np.load(src, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(str(arrays[key]))
    out = change(meta, arrays)
    arrays[key] = np.array(json.dumps(meta if out is None else out))
    np.savez(dst, **arrays)
    return dst


def _vae_fit_checkpoint(path):
    return VAE(hidden=(8,), latent_dim=1, epochs=3, seed=1).fit(_spins(), checkpoint=path)


LOADERS = {
    "vae": (VAE.load, "VAE model"),
    "checkpoint": (_vae_fit_checkpoint, "VAE training checkpoint"),
    "chain": (ChainState.load, "chain checkpoint"),
    "effective": (GeneralizedHopfield.load, "generalized Hopfield"),
    "maxent": (PairwiseMaxEnt.load, "pairwise max-ent model"),
    "raster": (load_raster, "spike raster"),
    "samples": (load_samples, "sample"),
}
GENERIC_FILES = [
    ("empty.npz", "empty (0 bytes)"),
    ("truncated.npz", "truncated"),
    ("random.npz", "not a .npz archive (not a zip file)"),
    ("zipjunk.npz", "damaged or truncated"),
    ("text.npz", "not a .npz archive (not a zip file)"),
    ("pickled.npy", "not a .npz archive (it is a single .npy array)"),
    ("pickled_npy.npz", "not a .npz archive (it is a single .npy array)"),
    ("objects.npz", "holds Python objects"),
    ("plainzip.npz", "not a NumPy array"),
]
WRONG_KIND = {  # a valid file of another kind -> what the message says it is
    "vae": ("samples.npz", "is a fastmf sample file, not a fastmf VAE model"),
    "checkpoint": ("vae.npz", "is a fastmf VAE model, not a fastmf VAE training checkpoint"),
    "chain": ("samples.npz", "is a fastmf sample file, not a fastmf chain checkpoint"),
    "effective": ("maxent.npz", "is a pairwise max-ent model, not a fastmf generalized Hopfield"),
    "maxent": ("raster.npz", "is a fastmf spike raster, not a fastmf pairwise max-ent model"),
    "raster": ("vae.npz", "is a fastmf VAE model, not a fastmf spike raster"),
    "samples": ("chain.npz", "is a fastmf chain checkpoint, not a fastmf sample file"),
}
FILE_CASES = [(loader, name, message) for loader in LOADERS for name, message in GENERIC_FILES] + \
    [(loader, name, message) for loader, (name, message) in WRONG_KIND.items()]
FILE_CASES.append(("vae", "ckpt.npz", "is a VAE training checkpoint, not a fastmf VAE model"))


def _expect_clean_error(call, path, message, directory, exc_type=ValueError):
    before = _snapshot(directory)
    with pytest.raises(Exception) as info:
        call(path)
    assert isinstance(info.value, exc_type) and not isinstance(info.value, BAD_TYPES), repr(info.value)
    text = str(info.value)
    assert message in text, text
    assert path.name in text and "allow_pickle" not in text
    assert _snapshot(directory) == before


@pytest.mark.parametrize("loader, name, message", FILE_CASES, ids=[f"{c[0]}-{c[1]}" for c in FILE_CASES])
def test_bad_files_give_a_clean_error(files, loader, name, message, tmp_path):
    call, _ = LOADERS[loader]
    path = tmp_path / name
    path.write_bytes((files / name).read_bytes())
    _expect_clean_error(call, path, message, tmp_path)


@pytest.mark.parametrize("loader", [name for name in LOADERS if name != "checkpoint"])  # fit starts afresh
def test_missing_file(loader, tmp_path):
    call, what = LOADERS[loader]
    _expect_clean_error(call, tmp_path / "absent.npz", f"no such {what} file", tmp_path, FileNotFoundError)


def _vae_meta_cases():
    def set_(path, value):
        def change(meta, arrays):
            target = meta
            for k in path[:-1]:
                target = target[k]
            target[path[-1]] = value
        return change

    def pop(path):
        def change(meta, arrays):
            target = meta
            for k in path[:-1]:
                target = target[k]
            del target[path[-1]]
        return change

    def arrays_(fn):
        def change(meta, arrays):
            fn(arrays)
        return change

    return [
        ("meta is a list", lambda meta, arrays: [1, 2], "not a JSON object (found a JSON list)"),
        ("meta is a string", lambda meta, arrays: "x", "not a JSON object"),
        ("no format", pop(["format"]), "is not a fastmf VAE model (format None)"),
        ("hyper is a list", set_(["hyper"], [1]), "'hyper' should be a JSON object"),
        ("no hyper", pop(["hyper"]), "has no 'hyper' field"),
        ("latent_dim is a string", set_(["hyper", "latent_dim"], "2"), "latent_dim must be an integer"),
        ("hidden is a number", set_(["hyper", "hidden"], 5), "hidden"),
        ("decoder unknown", set_(["hyper", "decoder"], "poisson"), "decoder must be one of"),
        ("unknown setting", set_(["hyper", "colour"], "red"), "unknown settings ['colour']"),
        ("no data", pop(["data"]), "has no 'data' field"),
        ("data is a list", set_(["data"], []), "'data' should be a JSON object"),
        ("input_shape is a string", set_(["data", "input_shape"], "8"), "'input_shape' should be a JSON list"),
        ("input_shape too long", set_(["data", "input_shape"], [2, 2, 2]), "input_shape should be (N,) or (L, M)"),
        ("input_shape mismatch", set_(["data", "input_shape"], [9]), "parameter 'enc0.W' has shape"),
        ("n_states wrong", set_(["data", "n_states"], 3), "n_states 3 does not go"),
        ("data_kind wrong", set_(["data", "data_kind"], "states"), "data_kind 'states' does not go"),
        ("history is a dict", set_(["history"], {}), "'history' should be a JSON list"),
        ("history of numbers", set_(["history"], [1, 2]), "list of JSON objects"),
        ("metadata is a list", set_(["metadata"], []), "'metadata' should be a JSON object"),
        ("NaN parameters", arrays_(lambda a: a["p:out.W"].fill(np.nan)), "NaN or infinite values in parameter"),
        ("inf parameters", arrays_(lambda a: a["p:enc0.b"].fill(np.inf)), "NaN or infinite values in parameter"),
        ("missing parameter", arrays_(lambda a: a.pop("p:out.b")), "missing ['out.b']"),
        ("extra parameter", arrays_(lambda a: a.update({"p:extra": np.zeros(2)})), "unexpected ['extra']"),
        ("integer parameter", arrays_(lambda a: a.update({"p:out.b": a["p:out.b"].astype(np.int64)})), "dtype int64"),
        ("wrong shape", arrays_(lambda a: a.update({"p:out.b": np.zeros(3)})), "'out.b' has shape (3,)"),
    ]


VAE_META_CASES = _vae_meta_cases()


@pytest.mark.parametrize("name, change, message", VAE_META_CASES, ids=[c[0] for c in VAE_META_CASES])
def test_damaged_vae_models_are_refused(files, name, change, message, tmp_path):
    path = _rewrite(files / "vae.npz", tmp_path / "model.npz", "meta", change)
    _expect_clean_error(VAE.load, path, message, tmp_path)


CHECKPOINT_CASES = [
    ("next_epoch is a string", lambda m, a: m.update(next_epoch="1"), "'next_epoch' should be an integer"),
    ("negative next_epoch", lambda m, a: m.update(next_epoch=-1), "next_epoch is -1"),
    ("rng is a list", lambda m, a: m.update(rng=[]), "'rng' should be a JSON object"),
    ("rng is wrong", lambda m, a: m.update(rng={"bit_generator": "MT19937"}), "random-generator state is invalid"),
    ("history is a string", lambda m, a: m.update(history="x"), "'history' should be a JSON list"),
    ("best_loss is a string", lambda m, a: m.update(best_loss="low"), "'best_loss' should be a number"),
    ("no hyper", lambda m, a: m.pop("hyper"), "has no 'hyper' field"),
    ("other settings", lambda m, a: m["hyper"].update(lr=0.5), "other settings"),
    ("NaN theta", lambda m, a: a["theta"].fill(np.nan), "NaN or infinite values in array 'theta'"),
    ("short theta", lambda m, a: a.update(theta=a["theta"][:3]), "'theta' has shape (3,)"),
    ("missing optimizer array", lambda m, a: (a.pop("o:t"), None)[1], "optimizer state"),
    ("optimizer of wrong shape", lambda m, a: a.update({"o:m:theta": np.zeros(2)}), "'o:m:theta' has shape"),
]


@pytest.mark.parametrize("name, change, message", CHECKPOINT_CASES, ids=[c[0] for c in CHECKPOINT_CASES])
def test_damaged_training_checkpoints_are_refused(files, name, change, message, tmp_path):
    path = _rewrite(files / "ckpt.npz", tmp_path / "ckpt.npz", "meta", change)
    _expect_clean_error(_vae_fit_checkpoint, path, message, tmp_path)


OTHER_CASES = [
    ("chain.npz", ChainState.load, "state", lambda m, a: m.update(step="3"), "'step' should be a non-negative"),
    ("chain.npz", ChainState.load, "state", lambda m, a: [1], "not a JSON object"),
    ("chain.npz", ChainState.load, "state", lambda m, a: m.update(sampler=[1]), "'sampler' should be"),
    ("chain.npz", ChainState.load, "state", lambda m, a: a.update(spins=np.zeros(3)), "spins of shape (3,)"),
    ("gh.npz", GeneralizedHopfield.load, "metadata", lambda m, a: m.update(model="other"), "model 'other'"),
    ("gh.npz", GeneralizedHopfield.load, "metadata", lambda m, a: a["patterns"].fill(np.nan), "finite"),
    ("gh.npz", GeneralizedHopfield.load, "metadata", lambda m, a: a.update(fields=np.zeros(2)), "patterns (P, N)"),
    ("gh.npz", GeneralizedHopfield.load, "metadata", lambda m, a: a.update(fields=np.array(["a"] * 4)), "dtypes"),
    ("maxent.npz", PairwiseMaxEnt.load, "metadata", lambda m, a: a["J"].fill(np.inf), "must be finite"),
    ("maxent.npz", PairwiseMaxEnt.load, "metadata", lambda m, a: a.update(h=np.array(["x"] * 3)), "dtypes"),
    ("maxent.npz", PairwiseMaxEnt.load, "metadata", lambda m, a: {"format": 5}, "holds format 5"),
    ("raster.npz", load_raster, "metadata", lambda m, a: m.update(bin_width="wide"), "'bin_width' has the wrong"),
    ("raster.npz", load_raster, "metadata", lambda m, a: m.update(notes=[1]), "'notes' has the wrong type"),
    ("raster.npz", load_raster, "metadata", lambda m, a: a.update(shape=np.array([3.0, 3.0])), "is damaged"),
    ("raster.npz", load_raster, "metadata", lambda m, a: a.update(packed=a["packed"].astype(float)), "damaged"),
    ("samples.npz", load_samples, "metadata", lambda m, a: m.update(extra_arrays=5), "'extra_arrays'"),
    ("samples.npz", load_samples, "metadata", lambda m, a: a.update(spins=np.zeros(3)), "spins must have shape"),
]


@pytest.mark.parametrize("source, loader, key, change, message", OTHER_CASES,
                         ids=[f"{c[0]}-{c[4]}" for c in OTHER_CASES])
def test_damaged_files_of_other_kinds_are_refused(files, source, loader, key, change, message, tmp_path):
    path = _rewrite(files / source, tmp_path / source, key, change)
    _expect_clean_error(loader, path, message, tmp_path)


def test_read_npz_never_unpickles(files, tmp_path, monkeypatch):
    import pickle

    def no_pickles(*args, **kwargs):
        raise AssertionError("pickle.load called")
    monkeypatch.setattr(pickle, "load", no_pickles)
    monkeypatch.setattr(pickle, "loads", no_pickles)
    for name in ("pickled.npy", "pickled_npy.npz", "objects.npz"):
        with pytest.raises(ValueError) as info:
            read_npz(files / name, (), "test")
        assert "allow_pickle" not in str(info.value)


# ------------------------------------------------------------------------------------------------ VAE inputs
VAE_INPUT_CASES = [
    ("(n, 2, 2, 4) spins", dict(), lambda: np.ones((20, 2, 2, 4), np.int8), ValueError,
     "(n, N) or (n, L, M), got shape (20, 2, 2, 4)"),
    ("(n, 2, 2, 2, 3) vectors", dict(decoder="nematic", axes=np.eye(3)), lambda: np.ones((20, 2, 2, 2, 3)),
     ValueError, "(n, N, 3) or (n, L, M, 3)"),
    ("(n,) spins", dict(), lambda: np.ones(20, np.int8), ValueError, "(n, N) or (n, L, M)"),
    ("empty data", dict(), lambda: np.ones((0, 4), np.int8), ValueError, "non-empty"),
    ("conv on (n, N)", dict(encoder="conv"), lambda: _spins(), ValueError, "conv encoder needs lattice data"),
]


@pytest.mark.parametrize("name, settings, data, exc, message", VAE_INPUT_CASES, ids=[c[0] for c in VAE_INPUT_CASES])
def test_vae_input_shapes(name, settings, data, exc, message, tmp_path):
    with pytest.raises(exc) as info:
        VAE(hidden=(8,), epochs=1, **settings).fit(data(), checkpoint=tmp_path / "c.npz")
    assert message in str(info.value)
    assert os.listdir(tmp_path) == []


VAE_SETTING_CASES = [
    ("hidden=()", dict(hidden=()), "hidden=() leaves the encoder"),
    ("hidden=[]", dict(hidden=[]), "mean_field=True"),
    ("epochs=0", dict(epochs=0), "epochs must be >= 1"),
    ("epochs=-1", dict(epochs=-1), "epochs must be >= 1"),
    ("hidden with 0", dict(hidden=(8, 0)), "positive integers"),
    ("lr=0", dict(lr=0.0), "lr"),
    ("lr=inf", dict(lr=float("inf")), "lr"),
]


@pytest.mark.parametrize("name, settings, message", VAE_SETTING_CASES, ids=[c[0] for c in VAE_SETTING_CASES])
def test_vae_settings_are_refused(name, settings, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("=", "=")):
        VAE(**settings)


def test_hidden_empty_is_meaningful_with_mean_field(tmp_path):
    vae = VAE(hidden=(), mean_field=True, latent_dim=1, epochs=1).fit(_spins())
    assert vae.hidden == () and vae.decoder_hidden == ()
    assert "enc0.W" not in vae.params_ and "dec0.W" not in vae.params_
    vae.save(tmp_path / "m.npz")
    assert VAE.load(tmp_path / "m.npz").hidden == ()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("optimizer, batch_size", [("adam", 32), ("adam", 1000), ("sgd", 32)])
def test_diverging_lr_raises_floating_point_error_and_writes_nothing(optimizer, batch_size, tmp_path):
    with pytest.raises(FloatingPointError, match="smaller lr"):
        VAE(hidden=(8,), lr=1e30, epochs=2, optimizer=optimizer, batch_size=batch_size).fit(
            _spins(), checkpoint=tmp_path / "c.npz")
    assert os.listdir(tmp_path) == []


def test_a_model_with_nan_parameters_is_not_saved(tmp_path):
    vae = VAE(hidden=(8,), latent_dim=1, epochs=1).fit(_spins())
    vae.theta_[0] = np.nan
    with pytest.raises(FloatingPointError, match="NaN or infinite"):
        vae.save(tmp_path / "m.npz")
    assert os.listdir(tmp_path) == []


# ------------------------------------------------------------------------------------------------ power
def test_valid_inputs_still_work(tmp_path, monkeypatch):
    monkeypatch.setenv("FASTMF_MAX_MEMORY", "2G")
    x = _spins(300, 12, seed=3)
    vae = VAE(hidden=(16,), latent_dim=2, epochs=3, seed=2).fit(x, checkpoint=tmp_path / "ckpt.npz")
    vae.save(tmp_path / "vae.npz", metadata={"source": "test"})
    back = VAE.load(tmp_path / "vae.npz")
    np.testing.assert_array_equal(back.theta_, vae.theta_)
    np.testing.assert_array_equal(back.sample(50, seed=4), vae.sample(50, seed=4))
    assert back.metadata_ == {"source": "test"} and back.history_ == vae.history_
    resumed = VAE(hidden=(16,), latent_dim=2, epochs=3, seed=2).fit(x, checkpoint=tmp_path / "ckpt.npz")
    np.testing.assert_array_equal(resumed.theta_, vae.theta_)           # the finished checkpoint resumes as is
    # a lattice simulation's state round trip, and the latent samplers
    sampler = LatticeSampler(LatticeModel(8), 2.5, backend="cpu")
    state = sampler.run(sampler.init_state(3, seed=5), 10)
    state.save(tmp_path / "chain.npz", sampler)
    again = ChainState.load(tmp_path / "chain.npz", sampler)
    assert (again.step, again.n_accepted) == (state.step, state.n_accepted)
    np.testing.assert_array_equal(again.spins, state.spins)
    cw = simulate_meanfield(CurieWeiss(40), 0.9, 200, seed=1)
    assert cw.spins.shape == (200, 40) and cw.metadata["sampler"] == "latent"
    M = cw.spins.astype(np.int64).sum(axis=1)
    np.testing.assert_array_equal(cw["energy"], -(1.0 / 80) * M.astype(float) ** 2)
    cw.save(tmp_path / "cw.npz")
    np.testing.assert_array_equal(load_samples(tmp_path / "cw.npz").spins, cw.spins)
    assert simulate_meanfield(MeanFieldPotts(20, 3), 1.0, 50, seed=0).spins.shape == (50, 20)
    assert simulate_meanfield(Hopfield.random(30, 2, seed=1), 0.8, 40, seed=0).spins.shape == (40, 30)
    # exact results by counting and by enumeration
    assert solve(CurieWeiss(500), 1.0, profile="half").method == "count"
    assert solve(LatticeModel(4), 0.4, profile="none").method == "enumerate"
    # the other model files
    GeneralizedHopfield(np.zeros(4), np.ones((1, 4))).save(tmp_path / "gh.npz")
    assert GeneralizedHopfield.load(tmp_path / "gh.npz").N == 4
    PairwiseMaxEnt(np.zeros(3), np.zeros((3, 3))).save(tmp_path / "me.npz")
    assert PairwiseMaxEnt.load(tmp_path / "me.npz").N == 3
    SpikeRaster.from_binary(np.eye(3), bin_width=0.02).save(tmp_path / "r.npz")
    assert load_raster(tmp_path / "r.npz").bin_width == 0.02
