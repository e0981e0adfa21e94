"""Numba kernels of :mod:`fastmf.exact.info`: the entropies of all marginals of a binary distribution."""
import numpy as np
from numba import njit

__all__ = ["plogp", "subset_entropy_table"]


@njit(cache=True)
def plogp(table):
    """Entropy ``-sum p ln p`` of a table of probabilities (zeros skipped).

    Parameters
    ----------
    table : ndarray of float64, 1-D

    Returns
    -------
    float
    """
    h = 0.0
    for x in table:
        if x > 0:
            h -= x * np.log(x)
    return h


@njit(cache=True)
def subset_entropy_table(p, N):
    """Entropies ``H[S]`` of the marginals of every site subset ``S`` (a bitmask) of a binary distribution.

    Depth-first over the removed set R = {r_1 < ... < r_d} (children remove a larger site), so each marginal is
    computed once, from its parent's table by summing out one site: total work 2 * 3**N; one buffer per depth.

    Parameters
    ----------
    p : ndarray of float64, shape (2**N,)
        Normalised probabilities, state index ``sum_i x_i 2**i``.
    N : int
        Number of sites.

    Returns
    -------
    ndarray of float64, shape (2**N,)
        ``H[S]`` indexed by bitmask (bit i = site i).
    """
    H = np.zeros(1 << N)
    offsets = np.zeros(N + 2, np.int64)
    for d in range(N + 1):
        offsets[d + 1] = offsets[d] + (1 << (N - d))
    buf = np.empty(offsets[N + 1])
    buf[:1 << N] = p
    full = (1 << N) - 1
    H[full] = plogp(p)
    mask = np.zeros(N + 1, np.int64)
    nxt = np.zeros(N + 1, np.int64)
    mask[0] = full
    d = 0
    while d >= 0:
        j = nxt[d]
        if j >= N:
            d -= 1
            continue
        nxt[d] = j + 1
        t = j - d  # site j is the t-th remaining site (all removed sites are below j)
        m = 1 << (N - d - 1)
        src = offsets[d]
        dst = offsets[d + 1]
        low = (1 << t) - 1
        for idx in range(m):
            base = ((idx >> t) << (t + 1)) | (idx & low)
            buf[dst + idx] = buf[src + base] + buf[src + base + (1 << t)]
        mask[d + 1] = mask[d] & ~(1 << j)
        H[mask[d + 1]] = plogp(buf[dst:dst + m])
        d += 1
        nxt[d] = j + 1
    return H
