"""Multi-spin-coded Metropolis: packing, bit-exact per-lane randomness against a naive reference, and
independence of the replicas."""
import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastmf.kernels import lattice_cpu as lc
from fastmf.kernels import multispin_cpu as ms
from fastmf.kernels.philox import STREAM_MULTISPIN
from test_philox import naive_philox4x32


def naive_lane_uniform(seed, k, word, sweep, colour, lane):
    """The 32-bit uniform of one lane, assembled from the 32 random bit planes (most significant first)."""
    u = 0
    for j in range(32):
        x = naive_philox4x32((k, word, sweep, 2 * (j // 2) + colour), (seed, STREAM_MULTISPIN))
        plane = (x[0] | (x[1] << 32)) if j % 2 == 0 else (x[2] | (x[3] << 32))
        u = (u << 1) | ((plane >> lane) & 1)
    return u


def naive_multispin_sweep(spins, beta, J, h, seed, sweep):
    """Scalar Metropolis where lane b of word w (replica 64 w + b) uses its own uniform u < T."""
    R, L, M = spins.shape
    table = lc.ising_flip_table(beta, J, h, heatbath=False)
    for colour in range(2):
        for r in range(R):
            w, lane = divmod(r, 64)
            for row in range(L):
                for col in range(M):
                    if (row + col) % 2 != colour:
                        continue
                    s = int(spins[r, row, col])
                    nsum = int(spins[r, (row - 1) % L, col]) + int(spins[r, (row + 1) % L, col]) + \
                        int(spins[r, row, (col - 1) % M]) + int(spins[r, row, (col + 1) % M])
                    t = int(table[5 * ((s + 1) // 2) + (nsum + 4) // 2])
                    if t >= 2 ** 32 or naive_lane_uniform(seed, (row * M + col) // 2, w, sweep, colour, lane) < t:
                        spins[r, row, col] = -s


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 130), st.integers(1, 3).map(lambda x: 2 * x), st.integers(2, 5), st.integers(0, 2 ** 31))
def test_pack_unpack_roundtrip(n_rep, L, M, seed):
    spins = np.random.default_rng(seed).choice(np.array([-1, 1], np.int8), size=(n_rep, L, M))
    packed = ms.pack_replicas(spins)
    assert packed.shape == (-(-n_rep // 64), L, M) and packed.dtype == np.uint64
    np.testing.assert_array_equal(ms.unpack_replicas(packed, n_rep), spins)
    # bit b of word w is replica 64 w + b, set for +1
    assert ((int(packed[0, 0, 0]) >> 0) & 1) == (spins[0, 0, 0] > 0)


@pytest.mark.parametrize("J,h", [(1.0, 0.0), (-1.0, 0.0), (1.0, 0.4), (0.6, -1.5)])
def test_equals_naive_per_lane_reference(J, h):
    """Every lane decides with its own 32-bit uniform: the kernel's early exit changes nothing."""
    rng = np.random.default_rng(1)
    spins = rng.choice(np.array([-1, 1], np.int8), size=(70, 2, 4))   # two words, the second partly used
    beta = 0.5
    packed = ms.pack_replicas(spins)
    ms.multispin_sweep(packed, beta, J, h, seed=17, sweep=3)
    slow = spins.copy()
    naive_multispin_sweep(slow, beta, J, h, 17, 3)
    np.testing.assert_array_equal(ms.unpack_replicas(packed, 70), slow)


def test_accepted_count_is_number_of_flipped_spins():
    spins = np.random.default_rng(2).choice(np.array([-1, 1], np.int8), size=(64, 8, 8))
    packed = ms.pack_replicas(spins)
    acc = ms.multispin_sweep(packed, 0.44, seed=1, sweep=0)
    # one sweep flips each spin at most once, but a site updated in colour 0 is not revisited
    after = ms.unpack_replicas(packed)
    assert acc == np.count_nonzero(after != spins)


def test_replicas_are_uncorrelated():
    """Sharing one random number across the 64 lanes would synchronise them; independent lanes do not.

    Start all 64 replicas in the same configuration at infinite-temperature-like T; after a few sweeps the
    pairwise overlap q_ab = sum_i s_i^a s_i^b / N of independent chains has mean 0 and sd 1/sqrt(N)."""
    L = 32
    packed = ms.pack_replicas(np.ones((64, L, L), np.int8))
    ms.multispin_sweep(packed, 0.05, seed=3, n_sweeps=20)
    s = ms.unpack_replicas(packed).reshape(64, -1).astype(np.float64)
    overlap = (s @ s.T) / s.shape[1]
    off = overlap[~np.eye(64, dtype=bool)]
    sd = 1 / np.sqrt(s.shape[1])
    assert abs(off.mean()) < 4 * sd / np.sqrt(64 * 63 / 2) + 0.01
    assert np.abs(off).max() < 6 * sd


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs 2 Numba threads")
def test_thread_count_independent():
    out = []
    before = numba.get_num_threads()
    try:
        for threads in (1, 2):
            numba.set_num_threads(threads)
            packed = ms.pack_replicas(np.random.default_rng(4).choice(np.array([-1, 1], np.int8), (128, 16, 16)))
            ms.multispin_sweep(packed, 0.44, seed=9, n_sweeps=4)
            out.append(packed)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(out[0], out[1])


def test_bad_input():
    with pytest.raises(TypeError, match="uint64"):
        ms.multispin_sweep(np.ones((1, 4, 4), np.int8), 0.4, seed=0)
    with pytest.raises(ValueError, match="even"):
        ms.multispin_sweep(np.ones((1, 5, 4), np.uint64), 0.4, seed=0)
    with pytest.raises(ValueError, match="beta"):
        ms.multispin_sweep(np.ones((1, 4, 4), np.uint64), -0.4, seed=0)
    with pytest.raises(ValueError, match="-1 and \\+1"):
        ms.pack_replicas(np.zeros((2, 4, 4), np.int8))
    with pytest.raises(ValueError, match="n_replicas"):
        ms.unpack_replicas(np.zeros((1, 4, 4), np.uint64), 65)
