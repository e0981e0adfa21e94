"""asv benchmarks of exact enumeration (``fastmf.exact.enumeration``) against a vectorised NumPy brute force.

Models (binary, N sites): a dense pairwise model with +-1 couplings and field 1/2 (integer levels) and one
with Gaussian couplings N(0, 1/N) and field 0.1 (float weights), the periodic 2D Ising lattice (4 x N/4) and Curie-Weiss, all with a
small field. Each computes ln Z, <E> and the magnetization distribution at beta = 0.4. The baseline builds
all configurations in blocks of 2**18, evaluates ``E = -s.J.s / 2 - h.s`` with matrix products, and
accumulates ``ln Z`` and ``<E>`` with a running log-sum-exp: what a competent NumPy user writes.
``ns_per_state`` (shared with ``report_exact.py``) times one whole call, never the first (compilation).
"""
import time

import numpy as np

from fastmf.exact import enumeration as en
from fastmf.exact.pairwise import PairwiseModel

BETA = 0.4
SIZES = (20, 24, 28)
KINDS = ("dense_pm", "dense_gauss", "lattice", "curie_weiss")
_BLOCK = 18


def make_model(kind, N, seed=0):
    rng = np.random.default_rng(seed)
    if kind == "curie_weiss":
        return PairwiseModel.curie_weiss(N, 1.0, 0.1)
    if kind == "lattice":
        return PairwiseModel.ising_lattice(4, N // 4, 1.0, 0.1)
    if kind == "dense_pm":  # +-1 couplings, field 1/2: integer levels (unit 1)
        a = np.triu(rng.choice([-1.0, 1.0], size=(N, N)), 1)
        return PairwiseModel.ising(a + a.T, 0.5)
    a = np.triu(rng.standard_normal((N, N)), 1)
    return PairwiseModel.ising((a + a.T) / np.sqrt(N), 0.1)


def numpy_brute_force(model, beta):
    """(ln Z, <E>) of a binary PairwiseModel by evaluating every configuration with NumPy."""
    N = model.N
    J = model.K / 2  # Ising couplings (K = 2J)
    h = (model.g[:, 1] - model.g[:, 0]) / 2
    # delta(x_i, x_j) = (1 + s_i s_j) / 2 and g[i, x_i] = (g0 + g1) / 2 + h_i s_i
    const = model.const - np.triu(J, 1).sum() - model.g.sum() / 2
    b = min(N, _BLOCK)
    low = ((np.arange(2 ** b)[:, None] >> np.arange(b)) & 1) * 2.0 - 1.0
    ref, z, e = -np.inf, 0.0, 0.0  # running sums of w = exp(-beta E - ref)
    for high in range(2 ** (N - b)):
        hs = ((high >> np.arange(N - b)) & 1) * 2.0 - 1.0
        s = np.concatenate([low, np.broadcast_to(hs, (len(low), N - b))], axis=1)
        E = const - 0.5 * np.einsum("ni,ni->n", s @ J, s) - s @ h
        a = -beta * E
        m = a.max()
        if m > ref:
            z, e = z * np.exp(ref - m), e * np.exp(ref - m)
            ref = m
        w = np.exp(a - ref)
        z += w.sum()
        e += w @ E
    return ref + np.log(z), e / z


def ns_per_state(fn, n_states, repeats=3):
    """Best wall time of ``fn()`` over ``repeats`` calls, in ns per state (the first call is not timed)."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best / n_states * 1e9


class Enumerate:
    params = (list(KINDS), [20, 24])
    param_names = ["model", "N"]
    timeout = 300

    def setup(self, kind, N):
        self.model = make_model(kind, N)
        en.enumerate_model(self.model, BETA)  # compile

    def time_enumerate(self, kind, N):
        en.enumerate_model(self.model, BETA)
