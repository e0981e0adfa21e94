"""Multi-spin-coded Metropolis: packing, bit-exact per-lane randomness against a naive reference, and
independence of the replicas."""
import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastmf.kernels import multispin_cpu as ms
from fastmf.kernels.philox import STREAM_MULTISPIN
from references import metropolis_threshold
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
    """Scalar Metropolis where lane b of word w (replica 64 w + b) uses its own uniform u < T, the threshold T
    from the textbook rule (references.metropolis_threshold), not from the kernels' table."""
    R, L, M = spins.shape
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
                    t = metropolis_threshold(beta, 2.0 * s * (J * nsum + h))
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


L_OVERLAP, BETA_OVERLAP, SWEEPS_OVERLAP, SEED_OVERLAP = 128, 0.1, 40, 3


def _lanes_after_common_start(n_lanes):
    """``n_lanes`` lanes (one word) started in the same all-up configuration, after SWEEPS_OVERLAP sweeps."""
    packed = ms.pack_replicas(np.ones((n_lanes, L_OVERLAP, L_OVERLAP), np.int8))
    ms.multispin_sweep(packed, BETA_OVERLAP, seed=SEED_OVERLAP, n_sweeps=SWEEPS_OVERLAP)
    return ms.unpack_replicas(packed, n_lanes)


@pytest.fixture(scope="module")
def lanes_64():
    return _lanes_after_common_start(64)


def _mean_overlap_z(spins):
    """z of the mean pairwise overlap q_ab = sum_i s_i^a s_i^b / N over all R (R - 1) / 2 lane pairs.

    Per site, x_i = ((sum_a s_i^a)**2 - R) / (R (R - 1)) is the mean of s_i^a s_i^b over pairs, so mean(q) =
    mean_i x_i. Its standard error comes from the sample itself: the means of 32 blocks of 4 rows, nearly
    independent because the spatial correlation at beta = 0.1 is about tanh(0.1) = 0.1 per lattice step."""
    R, L, M = spins.shape
    col = spins.sum(axis=0).astype(np.float64)
    x = (col ** 2 - R) / (R * (R - 1))
    blocks = x.reshape(32, -1).mean(axis=1)
    return x.mean() / (blocks.std(ddof=1) / np.sqrt(blocks.size) + 1e-15)   # 1e-15: float floor only


def test_replicas_are_uncorrelated(lanes_64):
    """Sharing one random number across the 64 lanes would synchronise them; independent lanes do not.

    All 64 lanes start in the same configuration at a high temperature (beta = 0.1, L = 128). Metropolis with
    flip probabilities near 1 forgets the common start only after some sweeps, and that memory is a real
    overlap (at beta = 0.05 after 20 sweeps, the old setting, the mean overlap was still 16 standard errors
    above 0; at beta = 0.1 it is 13 after 10 sweeps and about 0 after 20), so 40 sweeps are run. Independent
    lanes then have mean overlap 0 within 4 standard errors (t with 31 d.o.f.: p = 4e-4), and each pair's
    |q_ab| < 6 / sqrt(N) (2016 nearly Gaussian pairs: p ~ 4e-6)."""
    s = lanes_64.reshape(64, -1).astype(np.float64)
    assert abs(_mean_overlap_z(lanes_64)) <= 4.0
    overlap = (s @ s.T) / s.shape[1]
    off = overlap[~np.eye(64, dtype=bool)]
    assert np.abs(off).max() < 6 / np.sqrt(s.shape[1])


def test_uncorrelated_lanes_check_has_power(lanes_64):
    """Power companion: 3 of the 64 lanes (5 %) driven by the random numbers of 3 others (a seed collision:
    those lanes of a second run with the same seed and start) fail the mean-overlap check."""
    collided = _lanes_after_common_start(3)
    np.testing.assert_array_equal(collided, lanes_64[:3])    # the same random numbers give the same chains
    wrong = np.concatenate([lanes_64[:61], collided])
    assert _mean_overlap_z(wrong) > 4.0


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
