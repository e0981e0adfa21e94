"""Wolff cluster updates against a naive breadth-first reference (bit for bit)."""
import math
from collections import deque

import numba
import numpy as np
import pytest

from fastmf.kernels import wolff_cpu as wc
from fastmf.kernels.philox import STREAM_WOLFF
from test_philox import naive_philox4x32


def naive_wolff_step(spins, r, beta, J, seed, step):
    L, M = spins.shape[1:]
    p_add = -math.expm1(-2 * beta * abs(J))
    t_add = 2 ** 32 if p_add >= 1 else int(math.floor(p_add * 2 ** 32))
    n = 0

    def draw():
        nonlocal n
        u = naive_philox4x32((n // 4, r, step, 0), (seed, STREAM_WOLFF))[n % 4]
        n += 1
        return u

    start = (draw() * (L * M)) >> 32
    in_cluster = {start}
    queue = deque([start])
    while queue:
        i = queue.popleft()
        row, col = divmod(i, M)
        for nr, nc in (((row - 1) % L, col), ((row + 1) % L, col), (row, (col - 1) % M), (row, (col + 1) % M)):
            j = nr * M + nc
            if j not in in_cluster and J * spins[r, row, col] * spins[r, nr, nc] > 0:
                if draw() < t_add:
                    in_cluster.add(j)
                    queue.append(j)
    for i in in_cluster:
        row, col = divmod(i, M)
        spins[r, row, col] = -spins[r, row, col]
    return len(in_cluster)


@pytest.mark.parametrize("L,M,J,T", [(4, 4, 1.0, 2.3), (3, 5, 1.0, 1.5), (3, 5, -1.0, 2.0), (6, 4, -0.5, 0.8)])
def test_equals_naive(L, M, J, T):
    spins = np.random.default_rng(0).choice(np.array([-1, 1], np.int8), size=(3, L, M))
    slow = spins.copy()
    total = wc.wolff_step(spins, 1 / T, J, seed=21, step=4, n_steps=6)
    total_slow = sum(naive_wolff_step(slow, r, 1 / T, J, 21, 4 + t) for r in range(3) for t in range(6))
    np.testing.assert_array_equal(spins, slow)
    assert total == total_slow


def test_low_temperature_flips_whole_ordered_lattice():
    spins = np.ones((1, 8, 8), np.int8)
    assert wc.wolff_step(spins, 10.0, seed=0) == 64
    np.testing.assert_array_equal(spins, -1)


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs 2 Numba threads")
def test_thread_count_independent():
    out = []
    before = numba.get_num_threads()
    try:
        for threads in (1, 2):
            numba.set_num_threads(threads)
            s = np.ones((4, 12, 12), np.int8)
            wc.wolff_step(s, 0.44, seed=5, n_steps=30)
            out.append(s)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(out[0], out[1])


def test_bad_input():
    with pytest.raises(ValueError, match="J != 0"):
        wc.wolff_step(np.ones((4, 4), np.int8), 0.4, 0.0, seed=0)
    with pytest.raises(ValueError, match="beta"):
        wc.wolff_step(np.ones((4, 4), np.int8), 0.0, seed=0)
    with pytest.raises(TypeError, match="int8"):
        wc.wolff_step(np.ones((4, 4), np.int16), 0.4, seed=0)
