"""Sample sets: .npz round trip, plain-NumPy readability, atomic writes and clear errors."""
import json
import os

import numpy as np
import pytest

import fastmf
from fastmf.io.samples import SampleSet, atomic_savez, load_samples


def _spins(dtype, shape=(5, 3, 4), seed=0):
    rng = np.random.default_rng(seed)
    if dtype == np.int8:
        return rng.choice(np.array([-1, 1], np.int8), size=shape)
    if dtype == np.uint8:
        return rng.integers(0, 3, size=shape, dtype=np.uint8)
    return rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.float32, np.float64])
def test_round_trip_spins_metadata_and_per_sample_arrays(tmp_path, dtype):
    spins = _spins(dtype)
    meta = {"model": "ising2d", "L": 3, "M": 4, "T": 2.5, "tau_int": {"energy": 1.25, "magnetization": 3.5},
            "tags": ["a", "b"], "flag": True, "none": None,
            # NumPy scalars and arrays are converted to plain JSON values
            "np_float": np.float64(0.125), "np_int": np.int64(7), "np_array": np.arange(3)}
    energy = np.linspace(-10.0, 10.0, 5)
    replica = np.array([0, 1, 0, 1, 0], np.int64)
    ss = SampleSet(spins, meta, energy=energy, replica=replica)
    path = ss.save(tmp_path / "s.npz")
    assert path == tmp_path / "s.npz" and path.is_file()

    back = load_samples(path)
    assert back.spins.dtype == spins.dtype
    np.testing.assert_array_equal(back.spins, spins)
    assert len(back) == 5
    assert set(back.per_sample) == {"energy", "replica"}
    np.testing.assert_array_equal(back["energy"], energy)
    np.testing.assert_array_equal(back["replica"], replica)
    assert back["replica"].dtype == np.int64
    want = dict(meta, np_float=0.125, np_int=7, np_array=[0, 1, 2], fastmf_version=fastmf.__version__)
    assert back.metadata == want
    assert isinstance(back.metadata["np_int"], int)


def test_file_is_plain_npz_with_spins_and_json_metadata(tmp_path):
    spins = _spins(np.int8)
    SampleSet(spins, {"model": "ising2d", "seed": 3}, energy=np.zeros(5)).save(tmp_path / "plain.npz")
    with np.load(tmp_path / "plain.npz", allow_pickle=False) as data:
        assert set(data.files) == {"spins", "metadata", "energy"}
        assert data["spins"].dtype == np.int8
        np.testing.assert_array_equal(data["spins"], spins)
        meta = json.loads(str(data["metadata"]))
    assert meta == {"model": "ising2d", "seed": 3, "fastmf_version": fastmf.__version__}


def test_saving_a_loaded_set_gives_the_same_content(tmp_path):
    ss = SampleSet(_spins(np.uint8), {"q": 3}, order_parameter=np.arange(5.0))
    ss.save(tmp_path / "a.npz")
    load_samples(tmp_path / "a.npz").save(tmp_path / "b.npz")
    a, b = load_samples(tmp_path / "a.npz"), load_samples(tmp_path / "b.npz")
    np.testing.assert_array_equal(a.spins, b.spins)
    np.testing.assert_array_equal(a["order_parameter"], b["order_parameter"])
    assert a.metadata == b.metadata


def test_relative_path_in_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    SampleSet(_spins(np.int8), {}).save("rel.npz")
    assert os.listdir(tmp_path) == ["rel.npz"]
    assert load_samples("rel.npz").spins.shape == (5, 3, 4)


def test_successful_write_leaves_only_the_target(tmp_path):
    for i in range(3):  # overwriting too
        SampleSet(_spins(np.int8, seed=i), {"i": i}).save(tmp_path / "out.npz")
    assert os.listdir(tmp_path) == ["out.npz"]
    assert load_samples(tmp_path / "out.npz").metadata["i"] == 2


@pytest.mark.parametrize("exc", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_failed_write_leaves_no_partial_or_temporary_file(tmp_path, monkeypatch, exc):
    def broken(fh, **arrays):
        fh.write(b"PK\x03\x04 partial garbage")  # some bytes reach the temporary file first
        raise exc

    monkeypatch.setattr(np, "savez_compressed", broken)
    with pytest.raises(type(exc)):
        SampleSet(_spins(np.int8), {}).save(tmp_path / "x.npz")
    assert os.listdir(tmp_path) == []


def test_failed_overwrite_keeps_the_previous_file_intact(tmp_path, monkeypatch):
    old = _spins(np.int8, seed=1)
    SampleSet(old, {"version": "old"}).save(tmp_path / "x.npz")

    def broken(fh, **arrays):
        fh.write(b"garbage")
        raise OSError("no space left on device")

    monkeypatch.setattr(np, "savez_compressed", broken)
    with pytest.raises(OSError, match="no space"):
        SampleSet(_spins(np.int8, seed=2), {"version": "new"}).save(tmp_path / "x.npz")
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["x.npz"]
    back = load_samples(tmp_path / "x.npz")
    np.testing.assert_array_equal(back.spins, old)
    assert back.metadata["version"] == "old"


def test_unserialisable_metadata_is_refused_before_writing(tmp_path):
    with pytest.raises(TypeError, match="JSON"):
        SampleSet(_spins(np.int8), {"bad": object()}).save(tmp_path / "x.npz")
    assert os.listdir(tmp_path) == []


def test_wrong_suffix_is_refused(tmp_path):
    for name in ("x.npy", "x.txt", "x"):
        with pytest.raises(ValueError, match=r"must end in \.npz"):
            SampleSet(_spins(np.int8), {}).save(tmp_path / name)
    with pytest.raises(ValueError, match=r"must end in \.npz"):
        atomic_savez(tmp_path / "y.npz.bak", a=np.zeros(2))
    assert os.listdir(tmp_path) == []


def test_missing_directory_is_refused(tmp_path):
    target = tmp_path / "no" / "such" / "dir" / "x.npz"
    with pytest.raises(FileNotFoundError, match="does not exist") as info:
        SampleSet(_spins(np.int8), {}).save(target)
    assert str(tmp_path / "no" / "such" / "dir") in str(info.value)
    assert os.listdir(tmp_path) == []


def test_constructor_checks_shapes():
    with pytest.raises(ValueError, match=r"n_samples"):
        SampleSet(np.zeros(4, np.int8))
    with pytest.raises(ValueError, match="'energy' has"):
        SampleSet(np.zeros((4, 2, 2), np.int8), energy=np.zeros(3))


def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such sample file"):
        load_samples(tmp_path / "absent.npz")


def test_load_text_file_named_npz(tmp_path):
    (tmp_path / "text.npz").write_text("this is not an npz archive\n")
    with pytest.raises(ValueError, match=r"cannot read .*text\.npz.* as a \.npz sample file"):
        load_samples(tmp_path / "text.npz")


def test_load_truncated_npz(tmp_path):
    SampleSet(_spins(np.int8, shape=(50, 8, 8)), {}).save(tmp_path / "full.npz")
    data = (tmp_path / "full.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"cut\.npz"):
        load_samples(tmp_path / "cut.npz")


def test_load_npz_without_spins(tmp_path):
    np.savez(tmp_path / "other.npz", x=np.zeros(3), metadata=np.array("{}"))
    with pytest.raises(ValueError, match=r"not a fastmf sample file: it has no 'spins' array") as info:
        load_samples(tmp_path / "other.npz")
    assert "other.npz" in str(info.value) and "'x'" in str(info.value)


def test_load_npz_without_metadata_gives_empty_metadata(tmp_path):
    spins = _spins(np.int8)
    np.savez(tmp_path / "bare.npz", spins=spins)
    back = load_samples(tmp_path / "bare.npz")
    np.testing.assert_array_equal(back.spins, spins)
    assert back.metadata == {"fastmf_version": fastmf.__version__}


def test_load_npy_file_gives_a_clear_error(tmp_path):
    np.save(tmp_path / "arr.npy", np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"arr\.npy"):
        load_samples(tmp_path / "arr.npy")


def test_load_invalid_metadata_names_the_file(tmp_path):
    np.savez(tmp_path / "badmeta.npz", spins=_spins(np.int8), metadata=np.array("not json {"))
    with pytest.raises(ValueError, match=r"badmeta\.npz"):
        load_samples(tmp_path / "badmeta.npz")
