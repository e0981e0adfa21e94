"""CPU checkerboard and sequential kernels against naive pure-Python references (bit for bit)."""
import math

import numba
import numpy as np
import pytest

from fastmf.kernels import lattice_cpu as lc
from fastmf.kernels.philox import STREAM_CHECKERBOARD, STREAM_SEQUENTIAL
from test_philox import naive_philox4x32


def naive_flip_probability(beta, delta_e, heatbath):
    if heatbath:
        return 1.0 / (1.0 + math.exp(beta * delta_e)) if beta * delta_e < 700 else 0.0
    return 1.0 if delta_e <= 0 else math.exp(-beta * delta_e)


def naive_threshold(p):
    return 2 ** 32 if p >= 1 else int(math.floor(p * 2 ** 32))


def naive_draw(seed, stream, site, replica, sweep, c3):
    return naive_philox4x32((site // 4, replica, sweep, c3), (seed, stream))[site % 4]


def naive_neighbours(row, col, L, M):
    return [((row - 1) % L, col), ((row + 1) % L, col), (row, (col - 1) % M), (row, (col + 1) % M)]


def naive_ising_update(s, r, row, col, beta, J, h, heatbath, u, jr=None, jd=None):
    L, M = s.shape[1:]
    if jr is None:
        field = J * sum(int(s[r, a, b]) for a, b in naive_neighbours(row, col, L, M)) + h
    else:
        field = (jr[row, col] * s[r, row, (col + 1) % M] + jr[row, (col - 1) % M] * s[r, row, (col - 1) % M]
                 + jd[row, col] * s[r, (row + 1) % L, col] + jd[(row - 1) % L, col] * s[r, (row - 1) % L, col] + h)
    delta_e = 2.0 * s[r, row, col] * field
    if u < naive_threshold(naive_flip_probability(beta, delta_e, heatbath)):
        s[r, row, col] = -s[r, row, col]
        return 1
    return 0


def naive_potts_update(s, r, row, col, q, beta, J, h, heatbath, u0, u1):
    L, M = s.shape[1:]
    nbrs = [int(s[r, a, b]) for a, b in naive_neighbours(row, col, L, M)]
    old = int(s[r, row, col])
    if heatbath:
        # same normalisation as the kernel table: divide by the largest table entry
        table = [beta * (J * n + h * d) for n in range(5) for d in range(2)]
        top = max(table)
        w = [math.exp(beta * (J * nbrs.count(k) + h * (k == 0)) - top) for k in range(q)]
        target = (u0 * 2.0 ** -32) * sum(w)
        acc, new = 0.0, q - 1
        for k in range(q):
            acc += w[k]
            if target < acc:
                new = k
                break
    else:
        new = (old + 1 + (u0 * (q - 1) >> 32)) % q
        delta_e = J * (nbrs.count(old) - nbrs.count(new)) + h * ((old == 0) - (new == 0))
        if not u1 < naive_threshold(naive_flip_probability(beta, delta_e, False)):
            new = old
    s[r, row, col] = new
    return int(new != old)


def naive_checkerboard_sweep(spins, beta, J, h, seed, sweep, heatbath=False, q=2, jr=None, jd=None):
    """One checkerboard sweep following the documented counter layout (philox.py, lattice_logic.py)."""
    R, L, M = spins.shape
    accepted = 0
    for colour in range(2):
        for r in range(R):
            for row in range(L):
                for col in range(M):
                    if (row + col) % 2 != colour:
                        continue
                    k = (row * M + col) // 2
                    u0 = naive_draw(seed, STREAM_CHECKERBOARD, k, r, sweep, colour)
                    if q == 2:
                        accepted += naive_ising_update(spins, r, row, col, beta, J, h, heatbath, u0, jr, jd)
                    else:
                        u1 = naive_draw(seed, STREAM_CHECKERBOARD, k, r, sweep, 2 + colour)
                        accepted += naive_potts_update(spins, r, row, col, q, beta, J, h, heatbath, u0, u1)
    return accepted


def naive_sequential_sweep(spins, beta, J, h, seed, sweep, heatbath=False):
    R, L, M = spins.shape
    accepted = 0
    for r in range(R):
        for k in range(L * M):
            row, col = divmod(k, M)
            u = naive_draw(seed, STREAM_SEQUENTIAL, k, r, sweep, 0)
            accepted += naive_ising_update(spins, r, row, col, beta, J, h, heatbath, u)
    return accepted


def random_spins(shape, seed=0):
    return np.random.default_rng(seed).choice(np.array([-1, 1], np.int8), size=shape)


@pytest.mark.parametrize("J,h,heatbath", [(1.0, 0.0, False), (-1.0, 0.0, False), (1.0, 0.3, False),
                                          (1.0, 0.0, True), (-0.7, -0.4, True)])
@pytest.mark.parametrize("shape", [(2, 4, 4), (1, 6, 10), (1, 2, 6)])
def test_ising_checkerboard_equals_naive(J, h, heatbath, shape):
    beta = 0.45
    fast = random_spins(shape, 1)
    slow = fast.copy()
    acc_fast = lc.checkerboard_sweep(fast, beta, J, h, seed=99, sweep=5, n_sweeps=3, heatbath=heatbath)
    acc_slow = sum(naive_checkerboard_sweep(slow, beta, J, h, 99, 5 + t, heatbath) for t in range(3))
    np.testing.assert_array_equal(fast, slow)
    assert acc_fast == acc_slow > 0


@pytest.mark.parametrize("heatbath", [False, True])
def test_quenched_checkerboard_equals_naive(heatbath):
    rng = np.random.default_rng(3)
    jr, jd = rng.standard_normal((2, 4, 6))
    fast = random_spins((2, 4, 6), 2)
    slow = fast.copy()
    acc = lc.quenched_checkerboard_sweep(fast, 0.8, jr, jd, 0.1, seed=5, sweep=0, n_sweeps=2, heatbath=heatbath)
    acc_slow = sum(naive_checkerboard_sweep(slow, 0.8, 0, 0.1, 5, t, heatbath, jr=jr, jd=jd) for t in range(2))
    np.testing.assert_array_equal(fast, slow)
    assert acc == acc_slow


def test_quenched_with_uniform_couplings_equals_uniform_kernel():
    a = random_spins((3, 6, 6), 4)
    b = a.copy()
    ones = np.ones((6, 6))
    lc.checkerboard_sweep(a, 0.4, 1.0, 0.2, seed=1, n_sweeps=4)
    lc.quenched_checkerboard_sweep(b, 0.4, ones, ones, 0.2, seed=1, n_sweeps=4)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("heatbath", [False, True])
def test_potts_checkerboard_equals_naive(heatbath):
    rng = np.random.default_rng(5)
    fast = rng.integers(0, 3, size=(2, 4, 6), dtype=np.uint8)
    slow = fast.copy()
    acc = lc.potts_checkerboard_sweep(fast, 3, 0.9, 1.0, 0.3, seed=8, sweep=2, n_sweeps=2, heatbath=heatbath)
    acc_slow = sum(naive_checkerboard_sweep(slow, 0.9, 1.0, 0.3, 8, 2 + t, heatbath, q=3) for t in range(2))
    np.testing.assert_array_equal(fast, slow)
    assert acc == acc_slow


@pytest.mark.parametrize("shape", [(2, 3, 5), (1, 4, 4)])
def test_sequential_equals_naive(shape):
    fast = random_spins(shape, 6)
    slow = fast.copy()
    acc = lc.sequential_sweep(fast, 0.5, 1.0, 0.1, seed=3, sweep=1, n_sweeps=2)
    acc_slow = sum(naive_sequential_sweep(slow, 0.5, 1.0, 0.1, 3, 1 + t) for t in range(2))
    np.testing.assert_array_equal(fast, slow)
    assert acc == acc_slow


def test_sweeps_compose_and_continue():
    """n_sweeps=4 equals four calls with consecutive sweep indices (what a resumed chain does)."""
    a = random_spins((2, 8, 8), 7)
    b = a.copy()
    lc.checkerboard_sweep(a, 0.44, seed=11, sweep=10, n_sweeps=4)
    for t in range(4):
        lc.checkerboard_sweep(b, 0.44, seed=11, sweep=10 + t)
    np.testing.assert_array_equal(a, b)


def test_replicas_are_independent_of_each_other():
    """Replica r's trajectory does not depend on how many replicas run beside it."""
    many = random_spins((5, 8, 8), 8)
    few = many[:2].copy()
    lc.checkerboard_sweep(many, 0.44, seed=2, n_sweeps=5)
    lc.checkerboard_sweep(few, 0.44, seed=2, n_sweeps=5)
    np.testing.assert_array_equal(few, many[:2])
    assert not np.array_equal(many[0], many[1])


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs 2 Numba threads")
@pytest.mark.parametrize("kernel", ["ising", "potts", "sequential"])
def test_result_independent_of_thread_count(kernel):
    results = []
    before = numba.get_num_threads()
    try:
        for threads in (1, 2):
            numba.set_num_threads(threads)
            if kernel == "potts":
                s = np.random.default_rng(1).integers(0, 4, size=(3, 16, 16), dtype=np.uint8)
                lc.potts_checkerboard_sweep(s, 4, 1.1, seed=4, n_sweeps=5)
            elif kernel == "ising":
                s = random_spins((3, 32, 16), 9)
                lc.checkerboard_sweep(s, 0.44, seed=4, n_sweeps=5)
            else:
                s = random_spins((3, 7, 9), 9)
                lc.sequential_sweep(s, 0.44, seed=4, n_sweeps=5)
            results.append(s)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(results[0], results[1])


# ------------------------------------------------------------------------------------------ bad input

def test_bad_dtype_shape_values():
    with pytest.raises(TypeError, match="int8"):
        lc.checkerboard_sweep(np.ones((4, 4)), 0.4, seed=0)
    with pytest.raises(ValueError, match="shape"):
        lc.checkerboard_sweep(np.ones((2, 2, 4, 4), np.int8), 0.4, seed=0)
    with pytest.raises(ValueError, match="-1 and \\+1"):
        lc.checkerboard_sweep(np.zeros((4, 4), np.int8), 0.4, seed=0)
    with pytest.raises(ValueError, match="C-contiguous"):
        lc.checkerboard_sweep(np.ones((4, 8), np.int8)[:, ::2], 0.4, seed=0)
    with pytest.raises(ValueError, match="states 0..2"):
        lc.potts_checkerboard_sweep(np.full((4, 4), 3, np.uint8), 3, 0.4, seed=0)
    with pytest.raises(ValueError, match="q"):
        lc.potts_checkerboard_sweep(np.zeros((4, 4), np.uint8), 1, 0.4, seed=0)


def test_odd_lattice_is_refused_with_reason():
    with pytest.raises(ValueError, match="non-bipartite"):
        lc.checkerboard_sweep(np.ones((5, 4), np.int8), 0.4, seed=0)


@pytest.mark.parametrize("beta", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_beta(beta):
    s = np.ones((4, 4), np.int8)
    with pytest.raises(ValueError, match="beta"):
        lc.checkerboard_sweep(s, beta, seed=0)
    np.testing.assert_array_equal(s, 1)  # nothing touched


@pytest.mark.parametrize("name", ["J", "h"])
def test_nan_parameters(name):
    s = np.ones((4, 4), np.int8)
    with pytest.raises(ValueError, match=name):
        lc.checkerboard_sweep(s, 0.4, seed=0, **{name: float("nan")})


def test_bad_couplings():
    s = np.ones((4, 4), np.int8)
    with pytest.raises(ValueError, match="j_right"):
        lc.quenched_checkerboard_sweep(s, 0.4, np.ones((4, 5)), np.ones((4, 4)), seed=0)
    bad = np.ones((4, 4))
    bad[1, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        lc.quenched_checkerboard_sweep(s, 0.4, np.ones((4, 4)), bad, seed=0)


def test_sweep_counter_range():
    with pytest.raises(ValueError, match="2\\*\\*32"):
        lc.checkerboard_sweep(np.ones((4, 4), np.int8), 0.4, seed=0, sweep=2 ** 32 - 1, n_sweeps=2)
