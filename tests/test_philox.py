"""Philox4x32-10: known answers (DESIGN.md), the @njit building blocks and draw helpers."""
import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastmf.kernels import philox
from fastmf.verify import KNOWN_ANSWERS

MASK = 0xFFFFFFFF


def naive_philox4x32(counter, key):
    """Textbook Philox4x32-10 on Python ints (Salmon et al. 2011)."""
    c = list(counter)
    k0, k1 = key
    for r in range(10):
        if r:
            k0 = (k0 + 0x9E3779B9) & MASK
            k1 = (k1 + 0xBB67AE85) & MASK
        p0 = 0xD2511F53 * c[0]
        p1 = 0xCD9E8D57 * c[2]
        c = [((p1 >> 32) ^ c[1] ^ k0) & MASK, p1 & MASK, ((p0 >> 32) ^ c[3] ^ k1) & MASK, p0 & MASK]
    return tuple(c)


@pytest.mark.parametrize("counter,key,expected", KNOWN_ANSWERS)
def test_known_answers_naive_and_njit(counter, key, expected):
    assert naive_philox4x32(counter, key) == expected
    assert tuple(int(x) for x in philox.philox4x32(*counter, *key)) == expected
    assert tuple(philox.philox4x32_array([counter], [key])[0]) == expected


def test_known_answers_in_user_njit_code():
    @numba.njit
    def user(c0, c1, c2, c3, k0, k1):
        return philox.philox_word(c0, c1, c2, c3, k0, k1, 3)

    for counter, key, expected in KNOWN_ANSWERS:
        assert user(*counter, *key) == expected[3]


def test_known_answers_pure_python_source():
    # The same source is compiled for CUDA; as plain Python it must agree too.
    for counter, key, expected in KNOWN_ANSWERS:
        assert tuple(int(x) for x in philox._philox4x32(*counter, *key)) == expected


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, MASK), min_size=6, max_size=6))
def test_njit_matches_naive(words):
    got = tuple(int(x) for x in philox.philox4x32(*words))
    assert got == naive_philox4x32(words[:4], words[4:])


def test_draw_helpers():
    @numba.njit
    def draws(n):
        out = np.empty((n, 3))
        for i in range(n):
            u = philox.philox_word(i, 0, 0, 0, 42, 7, i % 4)
            out[i, 0] = philox.uniform_from_u32(u)
            out[i, 1] = philox.uniform_open_from_u32(u)
            out[i, 2] = philox.bounded_from_u32(u, 10)
        return out

    d = draws(20000)
    assert d[:, 0].min() >= 0 and d[:, 0].max() < 1
    assert d[:, 1].min() > 0 and d[:, 1].max() < 1
    assert set(np.unique(d[:, 2])) == set(range(10))
    # uniformity: mean 1/2 within 5 standard errors, bounded draws near-equal counts
    assert abs(d[:, 0].mean() - 0.5) < 5 * np.sqrt(1 / 12 / len(d))
    counts = np.bincount(d[:, 2].astype(int), minlength=10)
    assert np.all(np.abs(counts - 2000) < 5 * np.sqrt(2000))
    assert philox.uniform_from_u32(np.uint64(0)) == 0.0
    assert philox.uniform_from_u32(np.uint64(MASK)) == MASK / 2 ** 32


@pytest.mark.parametrize("bad", [-1, 2 ** 32, 1.5, "3", None, True])
def test_check_seed_rejects(bad):
    with pytest.raises((ValueError, TypeError), match="seed"):
        philox.check_seed(bad)


def test_streams_are_distinct():
    streams = [getattr(philox, name) for name in philox.__all__ if name.startswith("STREAM_")]
    # Each stream is a distinct small integer; a new stream takes the next free number.
    assert sorted(streams) == list(range(1, len(streams) + 1))
    assert philox.STREAM_KPAIRWISE == 10
