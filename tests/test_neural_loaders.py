"""Spike rasters: bit-packed storage against naive unpacked references, blocked train/held-out splits, the
.npz round trip, every load_spikes path (MATLAB v5 and v7.3, NumPy, HDF5, text, spike times) and clear
errors for bad files and values."""
import json
import math
import pathlib
import warnings
from fractions import Fraction

import numpy as np
import pytest
import scipy.io
import scipy.sparse

import fastmf.io.raster as raster_mod
from fastmf.neural import SUPPORTED_EXTENSIONS, SpikeRaster, bin_spike_times, load_raster, load_spikes

h5py = pytest.importorskip("h5py")

SPIKES15 = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data" / "spikes15.mat"


def _binary(n_bins, n_neurons, p=0.3, seed=0):
    return (np.random.default_rng(seed).random((n_bins, n_neurons)) < p).astype(np.uint8)


def _lively(n_bins, n_neurons, seed=0):
    """A random raster in which every neuron spikes in some bins but not all (no degenerate warnings)."""
    b = _binary(n_bins, n_neurons, seed=seed)
    b[0], b[1] = 1, 0
    return b


def naive_firing_rates(b):
    return b.astype(np.float64).mean(axis=0)


def naive_population_counts(b):
    return np.array([int(sum(row)) for row in b.tolist()])


def naive_bin(spike_lists, bin_width, t_start, n_bins):
    """Bin k covers [t_start + k w, t_start + (k + 1) w), in exact rational arithmetic on the decimal values
    (so 0.3 is in bin 3 of 0.1-wide bins), one spike at a time."""
    out = np.zeros((n_bins, len(spike_lists)), np.uint8)
    t0, w = Fraction(repr(float(t_start))), Fraction(repr(float(bin_width)))
    for j, times in enumerate(spike_lists):
        for t in times:
            k = math.floor((Fraction(repr(float(t))) - t0) / w)
            if 0 <= k < n_bins:
                out[k, j] = 1
    return out


def _write_v73(path, variables):
    """A MATLAB v7.3 file as MATLAB writes it: HDF5 after a 512-byte user block with the MATLAB header,
    arrays stored column-major (h5py sees the transpose), cell arrays as references into #refs#.
    ``variables`` maps name -> ndarray (MATLAB shape), scipy sparse matrix (a sparse logical) or list of 1-D
    arrays (a 1 x n cell array)."""
    with h5py.File(path, "w", userblock_size=512) as fh:
        refs = fh.create_group("#refs#")
        for name, value in variables.items():
            if scipy.sparse.issparse(value):  # compressed sparse columns of the MATLAB-shaped matrix
                csc = scipy.sparse.csc_matrix(value)
                grp = fh.create_group(name)
                grp.attrs["MATLAB_class"] = np.bytes_(b"logical")
                grp.attrs["MATLAB_sparse"] = np.uint64(csc.shape[0])
                grp.create_dataset("data", data=csc.data.astype(np.uint8))
                grp.create_dataset("ir", data=csc.indices.astype(np.uint64))
                grp.create_dataset("jc", data=csc.indptr.astype(np.uint64))
            elif isinstance(value, list):
                cell_refs = []
                for i, vec in enumerate(value):
                    vec = np.asarray(vec, np.float64).reshape(1, -1)  # MATLAB row vector
                    el = refs.create_dataset(f"{name}_{i}", data=vec.T)
                    el.attrs["MATLAB_class"] = np.bytes_(b"double")
                    cell_refs.append(el.ref)
                ds = fh.create_dataset(name, data=np.array(cell_refs, dtype=h5py.ref_dtype).reshape(-1, 1))
                ds.attrs["MATLAB_class"] = np.bytes_(b"cell")
            else:
                ds = fh.create_dataset(name, data=np.ascontiguousarray(value.T))
                ds.attrs["MATLAB_class"] = np.bytes_(b"logical" if value.dtype == bool else b"double")
    header = (b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 "
              b"HDF5 schema 1.00 .")
    header = header.ljust(116) + b"\0" * 8 + b"\x00\x02" + b"IM"
    with open(path, "r+b") as fh:
        fh.write(header.ljust(512, b"\0"))


# -- SpikeRaster ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n_neurons", [1, 7, 8, 9, 13, 17, 64])
def test_packed_round_trip_random_rasters(n_neurons):
    b = _binary(53, n_neurons, seed=n_neurons)
    r = SpikeRaster.from_binary(b)
    assert r.packed.dtype == np.uint8 and r.packed.shape == (53, (n_neurons + 7) // 8)
    assert (r.n_bins, r.n_neurons, len(r)) == (53, n_neurons, 53)
    np.testing.assert_array_equal(r.packed, np.packbits(b, axis=1))
    out = r.to_binary()
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, b)
    spins = r.to_spins()
    assert spins.dtype == np.int8
    np.testing.assert_array_equal(spins, 2 * b.astype(np.int8) - 1)
    np.testing.assert_array_equal(r.to_binary(5, 17), b[5:17])
    np.testing.assert_array_equal(r.to_spins(40), 2 * b[40:].astype(np.int8) - 1)
    np.testing.assert_array_equal(r.to_binary(-3), b[-3:])


def test_rates_and_counts_match_naive_across_many_blocks(monkeypatch):
    b = _binary(301, 21, p=0.2, seed=4)
    r = SpikeRaster.from_binary(b)
    want_rates, want_counts = naive_firing_rates(b), naive_population_counts(b)
    np.testing.assert_allclose(r.firing_rates(), want_rates, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(r.population_counts(), want_counts)
    monkeypatch.setattr(raster_mod, "_CHUNK_BYTES", 50)  # 2 bins per block
    fresh = SpikeRaster.from_binary(b)
    np.testing.assert_array_equal(fresh.to_binary(), b)
    np.testing.assert_allclose(fresh.firing_rates(), want_rates, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(fresh.population_counts(), want_counts)
    np.testing.assert_array_equal(fresh.spike_counts(), b.sum(axis=0))


def test_slices_and_statistics_never_unpack_the_whole_raster(monkeypatch):
    b = _binary(400, 10, seed=1)
    r = SpikeRaster.from_binary(b)
    rows = []
    real = np.unpackbits

    def spy(a, *args, **kwargs):
        rows.append(a.shape[0])
        return real(a, *args, **kwargs)

    monkeypatch.setattr(raster_mod, "_CHUNK_BYTES", 300)  # 30 bins per block
    monkeypatch.setattr(np, "unpackbits", spy)
    np.testing.assert_array_equal(r.to_binary(100, 110), b[100:110])
    assert rows == [10]
    rows.clear()
    rates = r.firing_rates()
    sub = r.subset([3, 1])
    r.population_counts()
    assert rows and max(rows) <= 30
    np.testing.assert_allclose(rates, naive_firing_rates(b))
    np.testing.assert_array_equal(sub.to_binary(), b[:, [3, 1]])


def test_raster_is_immutable_and_independent_of_the_callers_array():
    b = _binary(20, 9)
    packed = np.packbits(b, axis=1)
    r = SpikeRaster(packed, 9, source="x")
    packed[:] = 0
    np.testing.assert_array_equal(r.to_binary(), b)
    with pytest.raises(AttributeError, match="immutable"):
        r.n_neurons = 3
    with pytest.raises(ValueError):
        r.packed[0, 0] = 1
    with pytest.raises(TypeError):
        r.notes["x"] = 1


def test_constructor_rejects_bad_packed_arrays():
    with pytest.raises(ValueError, match="padding bits"):
        SpikeRaster(np.full((3, 2), 0xFF, np.uint8), 9)
    with pytest.raises(ValueError, match="shape"):
        SpikeRaster(np.zeros((3, 2), np.uint8), 17)
    with pytest.raises(ValueError, match="orientation"):
        SpikeRaster(np.zeros((3, 1), np.uint8), 8, orientation="sideways")


def test_from_binary_orientations_and_encodings():
    b = _binary(30, 4, seed=2)
    wide = SpikeRaster.from_binary(b.T, orientation="auto")
    assert wide.orientation == "neurons_x_time" and wide.notes["orientation_detected"] is True
    np.testing.assert_array_equal(wide.to_binary(), b)
    forced = SpikeRaster.from_binary(b.T, orientation="neurons_x_time")
    assert forced.notes["orientation_detected"] is False
    np.testing.assert_array_equal(forced.to_binary(), b)
    as_is = SpikeRaster.from_binary(b.T)  # default time_x_neurons: 4 bins of 30 neurons
    assert (as_is.n_bins, as_is.n_neurons) == (4, 30)
    pm = SpikeRaster.from_binary(2 * b.astype(np.int64) - 1)
    assert pm.notes["encoding"] == "pm1"
    np.testing.assert_array_equal(pm.to_binary(), b)
    boolean = SpikeRaster.from_binary(b.astype(bool))
    assert boolean.notes["encoding"] == "bool"
    np.testing.assert_array_equal(boolean.to_binary(), b)
    floats = SpikeRaster.from_binary(b.astype(np.float32), encoding="01")
    np.testing.assert_array_equal(floats.to_binary(), b)
    with pytest.raises(ValueError, match=r"expected binary spikes 0/1, found values \{-1, 1\}"):
        SpikeRaster.from_binary(2 * b.astype(np.int8) - 1, encoding="01")
    with pytest.raises(ValueError, match=r"expected binary spikes \+-1"):
        SpikeRaster.from_binary(b, encoding="pm1")


def test_time_blocks_are_contiguous_and_cover_the_raster():
    r = SpikeRaster.from_binary(_binary(103, 5))
    blocks = r.time_blocks(10)
    assert blocks[0][0] == 0 and blocks[-1][1] == 103
    assert all(a[1] == b[0] for a, b in zip(blocks, blocks[1:]))
    assert {b - a for a, b in blocks} <= {10, 11}
    for bad in (0, 104):
        with pytest.raises(ValueError, match="n_blocks"):
            r.time_blocks(bad)


def test_split_is_a_seeded_partition_into_contiguous_blocks():
    b = _binary(1000, 6, seed=3)
    r = SpikeRaster.from_binary(b)
    np.random.seed(123)  # the split must not depend on the global RNG
    train, held = r.split(held_out_fraction=0.3, n_blocks=10, seed=7)
    np.random.seed(999)
    train2, held2 = r.split(held_out_fraction=0.3, n_blocks=10, seed=7)
    assert held.notes["blocks"] == held2.notes["blocks"] and train.notes["blocks"] == train2.notes["blocks"]
    np.testing.assert_array_equal(held.packed, held2.packed)
    assert len(held.notes["blocks"]) == 3 and len(train.notes["blocks"]) == 7
    bins_train = np.concatenate([np.arange(a, e) for a, e in train.notes["blocks"]])
    bins_held = np.concatenate([np.arange(a, e) for a, e in held.notes["blocks"]])
    assert len(train) + len(held) == 1000
    np.testing.assert_array_equal(np.sort(np.concatenate([bins_train, bins_held])), np.arange(1000))
    assert set(map(tuple, held.notes["blocks"])) <= set(r.time_blocks(10))  # whole, contiguous blocks
    np.testing.assert_array_equal(train.to_binary(), b[bins_train])
    np.testing.assert_array_equal(held.to_binary(), b[bins_held])
    others = {tuple(map(tuple, r.split(0.3, 10, seed=s)[1].notes["blocks"])) for s in range(8)}
    assert len(others) > 1  # the seed does choose the blocks
    with pytest.raises(ValueError, match="held_out_fraction"):
        r.split(held_out_fraction=1.0)


def test_subset_selects_neurons_in_order():
    b = _binary(40, 11, seed=5)
    r = SpikeRaster.from_binary(b)
    sub = r.subset([10, 2, -1 + 11 - 10])
    assert sub.n_neurons == 3 and sub.notes["neurons"] == [10, 2, 0]
    np.testing.assert_array_equal(sub.to_binary(), b[:, [10, 2, 0]])
    mask = np.zeros(11, bool)
    mask[[1, 5]] = True
    np.testing.assert_array_equal(r.subset(mask).to_binary(), b[:, [1, 5]])
    with pytest.raises(ValueError, match="repeat"):
        r.subset([1, 1])
    with pytest.raises(ValueError, match="lie in"):
        r.subset([11])


def test_diagnostics_name_silent_and_always_on_neurons():
    b = _binary(50, 6, seed=6)
    b[:, 2] = 0
    b[:, 4] = 1
    d = SpikeRaster.from_binary(b).diagnostics()
    assert d["silent_neurons"] == [2] and d["always_on_neurons"] == [4]
    assert (d["n_bins"], d["n_neurons"], d["multi_spike_bins"]) == (50, 6, 0)
    assert d["mean_rate"] == pytest.approx(b.mean())
    assert d["max_rate"] == 1.0 and d["min_rate"] == 0.0


def test_save_and_load_round_trip(tmp_path):
    r = bin_spike_times([[0.1, 0.15, 2.0], [1.2]], 0.5, t_start=0.0, n_neurons=3, source="rec")
    path = r.save(tmp_path / "r.npz")
    back = load_raster(path)
    np.testing.assert_array_equal(back.packed, r.packed)
    assert (back.n_neurons, back.source, back.orientation, back.bin_width) == (3, "rec", "spike_times", 0.5)
    assert dict(back.notes) == dict(r.notes)
    with np.load(path) as data:  # plain NumPy reads it
        assert data["shape"].tolist() == [r.n_bins, 3]
        assert json.loads(str(data["metadata"]))["format"] == "fastmf.SpikeRaster"
    with pytest.warns(UserWarning, match="silent"):
        again = load_spikes(path)
    np.testing.assert_array_equal(again.packed, r.packed)
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match="not a fastmf spike raster"):
        load_raster(tmp_path / "other.npz")
    with pytest.raises(FileNotFoundError):
        load_raster(tmp_path / "missing.npz")


# -- load_spikes: formats ------------------------------------------------------------------------------------

def test_mat_v5_neurons_by_time_is_read_time_major(tmp_path):
    b = _lively(120, 7)
    scipy.io.savemat(tmp_path / "rec.mat", {"raster": b.T.astype(np.float64), "dt": 0.02})
    r = load_spikes(tmp_path / "rec.mat")
    assert r.orientation == "neurons_x_time" and r.notes["variable"] == "raster"
    assert r.source == str(tmp_path / "rec.mat")
    np.testing.assert_array_equal(r.to_binary(), b)
    with pytest.warns(UserWarning, match="always on"):  # 7 bins: some of the 120 "neurons" are constant
        forced = load_spikes(tmp_path / "rec.mat", variable="raster", orientation="time_x_neurons")
    assert (forced.n_bins, forced.n_neurons) == (7, 120)
    np.testing.assert_array_equal(forced.to_binary(), b.T)


def test_mat_v73_written_like_matlab(tmp_path):
    b = _lively(200, 6, seed=8)
    path = tmp_path / "rec73.mat"
    _write_v73(path, {"spk": b.T.astype(bool)})  # MATLAB variable is 6 x 200 (neurons x time)
    assert path.read_bytes()[:19] == b"MATLAB 7.3 MAT-file"
    with h5py.File(path, "r") as fh:
        assert fh["spk"].shape == (200, 6)  # what h5py alone shows
    r = load_spikes(path)
    assert r.orientation == "neurons_x_time" and r.notes["encoding"] == "bool"
    np.testing.assert_array_equal(r.to_binary(), b)
    with pytest.warns(UserWarning, match="silent"):  # MATLAB's own layout: 6 bins x 200 neurons
        forced = load_spikes(path, orientation="time_x_neurons")
    assert (forced.n_bins, forced.n_neurons) == (6, 200)


def test_sparse_mat_v5_and_v73(tmp_path):
    b = _lively(150, 9, seed=13)
    scipy.io.savemat(tmp_path / "sp5.mat", {"spk": scipy.sparse.csc_matrix(b.T.astype(np.float64))})
    r = load_spikes(tmp_path / "sp5.mat")
    assert r.notes["encoding"] == "bool" and r.orientation == "neurons_x_time"
    np.testing.assert_array_equal(r.to_binary(), b)
    _write_v73(tmp_path / "sp73.mat", {"spk": scipy.sparse.csc_matrix(b.T), "dt": np.array([[0.01]])})
    r73 = load_spikes(tmp_path / "sp73.mat")
    assert r73.notes["variable"] == "spk" and (r73.n_bins, r73.n_neurons) == (150, 9)
    np.testing.assert_array_equal(r73.to_binary(), b)
    bad = b.T.astype(np.float64)
    bad[4, 20] = 3.0
    scipy.io.savemat(tmp_path / "bad.mat", {"spk": scipy.sparse.csc_matrix(bad)})
    with pytest.raises(ValueError, match=r"found values \{0, 1, 3\} \(first non-binary at bin 20, neuron 4"):
        load_spikes(tmp_path / "bad.mat")


def test_npy_npz_and_hdf5(tmp_path):
    b = _lively(90, 5, seed=9)
    np.save(tmp_path / "a.npy", b)
    np.testing.assert_array_equal(load_spikes(tmp_path / "a.npy").to_binary(), b)
    np.savez(tmp_path / "one.npz", spikes=b, dt=np.float64(0.01))
    np.testing.assert_array_equal(load_spikes(tmp_path / "one.npz").to_binary(), b)
    np.savez(tmp_path / "two.npz", a=b, b=b[:, :3])
    r = load_spikes(tmp_path / "two.npz", variable="b")
    np.testing.assert_array_equal(r.to_binary(), b[:, :3])
    with h5py.File(tmp_path / "rec.h5", "w") as fh:
        fh.create_dataset("session/raster", data=b.astype(np.int8) * 2 - 1)
        fh.create_dataset("session/meta", data=np.arange(1))
    r = load_spikes(tmp_path / "rec.h5")
    assert r.notes["variable"] == "session/raster" and r.notes["encoding"] == "pm1"
    np.testing.assert_array_equal(r.to_binary(), b)
    again = load_spikes(tmp_path / "rec.h5", variable="session/raster")
    np.testing.assert_array_equal(again.packed, r.packed)


def test_text_files_csv_with_header_tsv_and_whitespace(tmp_path):
    b = _lively(40, 4, seed=10)
    rows = "\n".join(",".join(map(str, row)) for row in b)
    (tmp_path / "r.csv").write_text("n0,n1,n2,n3\n" + rows + "\n")
    np.testing.assert_array_equal(load_spikes(tmp_path / "r.csv").to_binary(), b)
    (tmp_path / "r.tsv").write_text("\n".join("\t".join(map(str, row)) for row in b))
    np.testing.assert_array_equal(load_spikes(tmp_path / "r.tsv").to_binary(), b)
    pm = 2 * b.T.astype(int) - 1  # neurons x time, +-1, whitespace, with a comment line
    (tmp_path / "r.txt").write_text("# recorded\n" + "\n".join("  ".join(map(str, row)) for row in pm))
    r = load_spikes(tmp_path / "r.txt")
    assert r.orientation == "neurons_x_time" and r.notes["encoding"] == "pm1"
    np.testing.assert_array_equal(r.to_binary(), b)


# -- load_spikes: spike times --------------------------------------------------------------------------------

def test_spike_times_cell_array_in_mat_v5_matches_naive_binning(tmp_path):
    rng = np.random.default_rng(11)
    spikes = [np.sort(rng.uniform(0.0, 5.0, n)) for n in (30, 12, 0, 25)]
    cells = np.empty(4, dtype=object)
    cells[:] = [s.reshape(1, -1) if s.size else np.zeros((0, 0)) for s in spikes]
    scipy.io.savemat(tmp_path / "st.mat", {"st": cells})
    with pytest.warns(UserWarning, match=r"silent\): 2"):
        r = load_spikes(tmp_path / "st.mat", bin_width=0.05, t_start=0.0, t_stop=5.0)
    assert (r.n_bins, r.n_neurons, r.orientation, r.bin_width) == (100, 4, "spike_times", 0.05)
    np.testing.assert_array_equal(r.to_binary(), naive_bin(spikes, 0.05, 0.0, 100))
    assert r.notes["multi_spike_bins"] == sum(
        int(np.sum(np.bincount(np.floor(s / 0.05).astype(int)) > 1)) for s in spikes if s.size)


def test_spike_times_cell_array_in_mat_v73(tmp_path):
    spikes = [np.array([0.5, 1.25, 3.0]), np.array([0.0, 2.5]), np.array([1.0, 1.1, 1.2])]
    _write_v73(tmp_path / "st73.mat", {"st": spikes})
    r = load_spikes(tmp_path / "st73.mat", bin_width=0.5)
    assert r.n_bins == 7 and r.n_neurons == 3  # t_start = 0 (earliest), last spike 3.0 in the last bin
    np.testing.assert_array_equal(r.to_binary(), naive_bin(spikes, 0.5, 0.0, 7))
    assert r.notes["multi_spike_bins"] == 1 and r.notes["merged_spikes"] == 2
    assert r.diagnostics()["multi_spike_bins"] == 1


def test_two_column_csv_spike_times_with_edge_times_and_extra_neurons(tmp_path):
    ids = [0, 1, 0, 2, 1, 0, 2]
    times = [0.0, 0.1, 0.3, 1.7, 0.31, 0.2, 0.3]  # 0.3 / 0.1 = 2.9999999999999996, while 17 * 0.1 > 1.7
    (tmp_path / "st.csv").write_text("neuron,time\n" + "\n".join(f"{i},{t!r}" for i, t in zip(ids, times)))
    with pytest.warns(UserWarning, match=r"silent\): 3"):
        r = load_spikes(tmp_path / "st.csv", bin_width=0.1, n_neurons=4)
    assert (r.n_bins, r.n_neurons) == (18, 4)
    b = r.to_binary()
    assert b[3].tolist() == [1, 1, 1, 0] and b[17].tolist() == [0, 0, 1, 0] and b[16].sum() == 0
    assert r.notes["multi_spike_bins"] == 0 and r.notes["n_spikes"] == 7
    per_neuron = [[t for i, t in zip(ids, times) if i == j] for j in range(4)]
    np.testing.assert_array_equal(b, naive_bin(per_neuron, 0.1, 0.0, 18))


def test_vectorised_binning_matches_naive_loop_on_random_times():
    rng = np.random.default_rng(12)
    spikes = [rng.uniform(1.0, 4.0, rng.integers(0, 40)).round(2) for _ in range(9)]  # many on bin edges
    r = bin_spike_times(spikes, 0.05, t_start=1.0, t_stop=3.5)
    assert r.n_bins == 50
    np.testing.assert_array_equal(r.to_binary(), naive_bin([s[s < 3.5] for s in spikes], 0.05, 1.0, 50))
    assert r.notes["dropped_spikes"] == sum(int(np.sum(s >= 3.5)) for s in spikes)
    pairs = np.array([(j, t) for j, s in enumerate(spikes) for t in s])
    np.testing.assert_array_equal(bin_spike_times(pairs, 0.05, t_start=1.0, t_stop=3.5, n_neurons=9).packed,
                                  r.packed)


@pytest.mark.parametrize("times, bin_width, match", [
    ([[0.1, -0.5]], 0.1, r"must be >= 0, found -0.5 \(neuron 0, spike 1\)"),
    ([[0.1], [0.2, np.nan]], 0.1, r"must be finite, found nan \(neuron 1, spike 1\)"),
    ([[0.1]], 0.0, "bin_width must be a positive number"),
    ([[0.1]], -1.0, "bin_width must be a positive number"),
    (np.array([[0.5, 1.0], [1.0, 2.0]]), 0.1, "neuron_id column"),
])
def test_bad_spike_times(times, bin_width, match):
    with pytest.raises(ValueError, match=match):
        bin_spike_times(times, bin_width)


def test_bad_bin_width_fails_before_reading(tmp_path):
    np.save(tmp_path / "t.npy", np.array([0.1, 0.2]))
    with pytest.raises(ValueError, match="bin_width must be a positive number"):
        load_spikes(tmp_path / "t.npy", bin_width=0)


# -- load_spikes: bad input ----------------------------------------------------------------------------------

def test_non_binary_values_name_the_values_and_first_position(tmp_path):
    a = np.zeros((40, 5), np.int64)
    a[::3, 1] = 1
    a[17, 3] = 2
    np.save(tmp_path / "bad.npy", a)
    msg = (r"expected binary spikes 0/1 or \+-1, found values \{0, 1, 2\} "
           r"\(first non-binary at bin 17, neuron 3")
    with pytest.raises(ValueError, match=msg):
        load_spikes(tmp_path / "bad.npy")
    mixed = np.ones((10, 3))
    mixed[2, 0], mixed[5, 1] = 0, -1
    np.save(tmp_path / "mixed.npy", mixed)
    with pytest.raises(ValueError, match="mixed"):
        load_spikes(tmp_path / "mixed.npy")


def test_nan_empty_and_one_dimensional_inputs(tmp_path):
    a = np.zeros((30, 4))
    a[12, 2] = np.nan
    np.save(tmp_path / "nan.npy", a)
    with pytest.raises(ValueError, match="NaN at bin 12, neuron 2"):
        load_spikes(tmp_path / "nan.npy")
    np.save(tmp_path / "empty.npy", np.zeros((0, 5)))
    with pytest.raises(ValueError, match="empty: 0 bins x 5 neurons"):
        load_spikes(tmp_path / "empty.npy", orientation="time_x_neurons")
    np.save(tmp_path / "noneur.npy", np.zeros((5, 0)))
    with pytest.raises(ValueError, match="empty: 5 bins x 0 neurons"):
        load_spikes(tmp_path / "noneur.npy")
    np.save(tmp_path / "vec.npy", np.array([0, 1, 1, 0]))
    with pytest.raises(ValueError, match="needs 2 dimensions.*bin_width"):
        load_spikes(tmp_path / "vec.npy")
    (tmp_path / "blank.csv").write_text("\n\n")
    with pytest.raises(ValueError, match="no data"):
        load_spikes(tmp_path / "blank.csv")


def test_missing_unknown_and_corrupt_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.mat"):
        load_spikes(tmp_path / "nope.mat")
    (tmp_path / "x.xyz").write_text("1 0")
    with pytest.raises(ValueError, match=r"unknown spike file type '\.xyz'.*\.mat, \.npy, \.npz"):
        load_spikes(tmp_path / "x.xyz")
    junk = bytes(range(256)) * 8
    for name, fmt in [("c.mat", "as a MATLAB v4/v5 .mat"), ("c.npz", r"as a \.npz file"),
                      ("c.npy", r"as a \.npy file"), ("c.h5", "as an HDF5 file"),
                      ("c.csv", "as delimited text")]:
        (tmp_path / name).write_bytes(junk)
        with pytest.raises(ValueError, match=fmt):
            load_spikes(tmp_path / name)
    # A v7.3 header whose HDF5 part is damaged: scipy declines it, h5py cannot open it.
    (tmp_path / "bad73.mat").write_bytes(b"MATLAB 7.3 MAT-file".ljust(124) + b"\x00\x02IM" + junk)
    with pytest.raises(ValueError, match="v7.3"):
        load_spikes(tmp_path / "bad73.mat")


def test_variable_selection_errors(tmp_path):
    b = _lively(50, 3)
    scipy.io.savemat(tmp_path / "two.mat", {"a": b, "c": b[:, :2]})
    with pytest.raises(ValueError, match=r"more than one 2-D numeric array.*'a' \(numeric 50x3\).*'c'"):
        load_spikes(tmp_path / "two.mat")
    with pytest.raises(ValueError, match="has no variable 'zz'"):
        load_spikes(tmp_path / "two.mat", variable="zz")
    cells = np.empty(2, dtype=object)
    cells[:] = [np.array([[0.1, 0.2]]), np.array([[0.3]])]
    scipy.io.savemat(tmp_path / "cell.mat", {"st": cells})
    with pytest.raises(ValueError, match="pass bin_width"):
        load_spikes(tmp_path / "cell.mat")
    objects = np.empty(2, dtype=object)
    objects[:] = [np.zeros(2), np.zeros(3)]
    np.save(tmp_path / "obj.npy", objects, allow_pickle=True)
    with pytest.raises(ValueError, match="object array, which fastmf does not load"):
        load_spikes(tmp_path / "obj.npy", bin_width=1.0)
    np.save(tmp_path / "one.npy", b)
    with pytest.raises(ValueError, match="variable= applies"):
        load_spikes(tmp_path / "one.npy", variable="x")


def test_degenerate_neurons_warn_or_raise(tmp_path):
    b = _lively(60, 5)
    b[:, 1] = 0
    b[:, 3] = 1
    np.save(tmp_path / "deg.npy", b)
    with pytest.warns(UserWarning, match=r"silent\): 1; .*always on\): 3"):
        r = load_spikes(tmp_path / "deg.npy")
    assert r.n_neurons == 5
    assert r.diagnostics()["silent_neurons"] == [1] and r.diagnostics()["always_on_neurons"] == [3]
    with pytest.raises(ValueError, match=r"silent\): 1.*allow_degenerate=False"):
        load_spikes(tmp_path / "deg.npy", allow_degenerate=False)
    np.save(tmp_path / "ok.npy", _lively(60, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_spikes(tmp_path / "ok.npy", allow_degenerate=False)


def test_supported_extensions_are_listed_and_matched_case_insensitively(tmp_path):
    assert set(SUPPORTED_EXTENSIONS) == {".mat", ".npy", ".npz", ".h5", ".hdf5", ".txt", ".csv", ".tsv"}
    (tmp_path / "x.dat").write_text("1 0")
    with pytest.raises(ValueError, match="unknown spike file type") as info:
        load_spikes(tmp_path / "x.dat")
    assert all(ext in str(info.value) for ext in SUPPORTED_EXTENSIONS)
    b = _lively(20, 3)
    np.save(tmp_path / "r.npy", b)
    (tmp_path / "r.npy").rename(tmp_path / "R.NPY")
    np.testing.assert_array_equal(load_spikes(tmp_path / "R.NPY").to_binary(), b)


def test_shared_spikes15_mat():
    if not SPIKES15.is_file():
        pytest.skip(f"{SPIKES15} is absent")
    r = load_spikes(SPIKES15)
    assert (r.n_bins, r.n_neurons) == (40000, 15)
    assert r.notes["variable"] == "spikes15" and r.notes["encoding"] in ("01", "bool")
    assert set(np.unique(r.to_binary(0, 1000)).tolist()) <= {0, 1}
    rates = r.firing_rates()
    assert np.all((rates > 0) & (rates < 0.5))
    with h5py.File(SPIKES15, "r") as fh:  # h5py shows time x neurons already for this file
        np.testing.assert_array_equal(r.to_binary(), fh["spikes15"][()])
