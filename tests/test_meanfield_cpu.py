"""Mean-field and graph kernels (CPU): naive pure-Python references bit for bit, maintained order parameters,
exact enumeration, detailed balance of the update rules, thread-count independence and argument checks.

The exact laws (enumeration, stationary distributions) come from tests/references.py: plain loops over every
state with the energy written out there, nothing from fastmf. Every chi-square has a power companion on the
same samples (the law at beta 5 % higher, or the fields 5 % larger, must be rejected at the same level)."""
import itertools
import math

import numba
import numpy as np
import pytest
from fastmf.kernels import meanfield_cpu as mc
from fastmf.kernels import meanfield_logic as ml
from fastmf.kernels.philox import STREAM_MEANFIELD
from references import glass_boltzmann, lowrank_boltzmann, potts_mf_boltzmann
from test_philox import naive_philox4x32

from fastmf import stats

TWO32 = 2 ** 32


def naive_draw(seed, i, c, t, d):
    return naive_philox4x32((i // 4, c, t, d), (seed, STREAM_MEANFIELD))[i % 4]


def naive_threshold(p):
    return TWO32 if p >= 1 else math.floor(p * TWO32) if p > 0 else 0


def naive_p(beta, delta_e, heatbath):
    if heatbath:
        return 1.0 / (1.0 + math.exp(beta * delta_e)) if beta * delta_e < 700 else 0.0
    return 1.0 if delta_e <= 0 else math.exp(-beta * delta_e)


def pm1(shape, seed):
    return np.random.default_rng(seed).choice(np.array([-1, 1], np.int8), size=shape)


# ------------------------------------------------------------------------------------------ naive sweeps

def naive_lowrank_sweep(spins, patterns, beta, J, h, seed, t, heatbath):
    n_chains, N = spins.shape
    P = len(patterns)
    accepted = 0
    for c in range(n_chains):
        for i in range(N):
            s = int(spins[c, i])
            M = [sum(int(patterns[mu, j]) * int(spins[c, j]) for j in range(N)) for mu in range(P)]
            x = s * sum(int(patterns[mu, i]) * M[mu] for mu in range(P))
            delta_e = (2.0 * J / N) * (x - P) + 2.0 * h * s
            if naive_draw(seed, i, c, t, 0) < naive_threshold(naive_p(beta, delta_e, heatbath)):
                spins[c, i] = -s
                accepted += 1
    return accepted


def naive_potts_sweep(states, q, beta, J, h, seed, t, heatbath):
    n_chains, N = states.shape
    n = np.arange(N + 1, dtype=np.float64)
    log_w = np.stack([beta * (J * n / N + h * 0.0), beta * (J * n / N + h * 1.0)], axis=1).ravel()
    weights = np.exp(log_w - log_w.max())  # the documented host table, index 2 n + d
    accepted = 0
    for c in range(n_chains):
        for i in range(N):
            counts = [int((states[c] == k).sum()) for k in range(q)]
            old = int(states[c, i])
            u0, u1 = naive_draw(seed, i, c, t, 0), naive_draw(seed, i, c, t, 1)
            if heatbath:
                w = [weights[2 * (counts[k] - (k == old)) + (k == 0)] for k in range(q)]
                target = (u0 * 2.0 ** -32) * sum(w)
                acc, new = 0.0, q - 1
                for k in range(q):
                    acc += w[k]
                    if target < acc:
                        new = k
                        break
            else:
                new = (old + 1 + (u1 * (q - 1) >> 32)) % q
                delta_e = -(J / N) * (counts[new] - counts[old] + 1) - h * ((new == 0) - (old == 0))
                if not u0 < naive_threshold(naive_p(beta, delta_e, False)):
                    new = old
            states[c, i] = new
            accepted += new != old
    return accepted


def naive_glass_sweep(spins, dense, fields, lf, beta, seed, t, heatbath):
    """Maintains local fields in the kernel's order (CSR = increasing j) so that float couplings match too."""
    n_chains, N = spins.shape
    accepted = 0
    for c in range(n_chains):
        for i in range(N):
            s = int(spins[c, i])
            delta_e = 2.0 * s * (lf[c, i] + fields[i])
            if naive_draw(seed, i, c, t, 0) < naive_threshold(naive_p(beta, delta_e, heatbath)):
                spins[c, i] = -s
                for j in range(N):
                    if dense[i, j] != 0:
                        lf[c, j] -= 2.0 * s * dense[i, j]
                accepted += 1
    return accepted


def dense_to_csr(dense):
    N = len(dense)
    indptr, indices, weights = [0], [], []
    for i in range(N):
        for j in range(N):
            if dense[i, j] != 0:
                indices.append(j)
                weights.append(dense[i, j])
        indptr.append(len(indices))
    return np.array(indptr, np.int64), np.array(indices, np.int64), np.array(weights, np.float64)


def sk_couplings(N, seed, pm=False):
    rng = np.random.default_rng(seed)
    j = (rng.choice([-1.0, 1.0], size=(N, N)) if pm else rng.standard_normal((N, N))) / math.sqrt(N)
    j = np.triu(j, 1)
    return j + j.T


# ------------------------------------------------------------------------------------------ bit for bit

@pytest.mark.parametrize("P, N, J, h, heatbath", [(1, 9, 1.0, 0.0, False), (1, 10, 1.0, 0.3, True),
                                                  (1, 7, -1.0, -0.2, False), (2, 9, 1.0, 0.2, False),
                                                  (3, 10, 1.5, 0.0, True), (4, 11, 1.0, 0.1, False),
                                                  (5, 12, 1.0, -0.1, True), (6, 13, 1.0, 0.2, False),
                                                  (8, 14, 1.0, 0.0, True), (9, 11, 1.0, 0.1, False),
                                                  (3, 301, 1.0, 0.1, False)])
def test_lowrank_equals_naive(P, N, J, h, heatbath):
    patterns = np.ones((1, N), np.int8) if (P == 1 and J < 0) else pm1((P, N), P + N)
    fast = pm1((2, N), 1)
    slow = fast.copy()
    overlaps = mc.compute_overlaps(fast, patterns)
    acc = mc.lowrank_sweep(fast, patterns, overlaps, 0.7, J, h, seed=17, sweep=3, n_sweeps=2, heatbath=heatbath)
    acc_slow = sum(naive_lowrank_sweep(slow, patterns, 0.7, J, h, 17, 3 + t, heatbath) for t in range(2))
    np.testing.assert_array_equal(fast, slow)
    np.testing.assert_array_equal(overlaps, mc.compute_overlaps(fast, patterns))
    assert acc == acc_slow > 0


# ------------------------------------------------------------------------ packed overlaps (2 <= P <= 8)

@pytest.mark.parametrize("G", [2, 3, 4])
def test_packed_extraction_exact_at_its_limit(G):
    """The packed dot product is exact for every extreme overlap vector at N = packed_max_n(G), and the
    limit is not vacuous: at a few times that N some extreme vector comes out wrong."""
    from fastmf.kernels import lowrank_packed_cpu as lp

    def wrap64(x):  # the kernel's words are int64 modulo 2**64
        x &= 2 ** 64 - 1
        return x - 2 ** 64 if x >= 2 ** 63 else x

    def wrong_cases(N):
        w = lp._width(G)
        S = 1 + w * (G - 1)
        bias = np.int64(1) << np.int64(S - 1)
        bad = 0
        for m in itertools.product([-N, -N + 1, 0, N - 1, N], repeat=G):
            M = sum(int(mg) << (1 + w * g) for g, mg in enumerate(m))
            for b in itertools.product([-2, 2], repeat=G):
                q = sum(bg << (w * (G - 1 - g)) for g, bg in enumerate(b))
                got = lp._extract(np.int64(wrap64(M)), np.int64(q), np.int64(S), bias)
                bad += int(got) != sum(x * y for x, y in zip(m, b))
        return bad

    n_max = lp.packed_max_n(G)
    assert n_max >= {2: 2 ** 27, 3: 10 ** 5, 4: 2000}[G]
    assert wrong_cases(n_max) == 0
    assert wrong_cases(8 * (n_max + 1)) > 0


@pytest.mark.parametrize("P, N", [(4, 2047), (4, 2048), (8, 2047), (6, 3001)])
def test_packed_kernel_equals_generic_loop_at_extreme_overlaps(P, N):
    """Chains started on a pattern (overlap N, the largest field values) at low temperature, at the edge of
    the one-word (P = 4, N = 2047) and two-word layouts: the packed kernel makes the generic loop's decisions
    bit for bit (the generic loop equals the naive sweep, see test_lowrank_equals_naive)."""
    from fastmf.kernels.lowrank_packed_cpu import packed_layout
    patterns = pm1((P, N), N)
    spins = np.stack([patterns[0], -patterns[P - 1], pm1(N, 3)])
    generic = spins.copy()
    overlaps = mc.compute_overlaps(spins, patterns)
    ov_generic = overlaps.copy()
    assert packed_layout(P, N) is not None
    acc = mc.lowrank_sweep(spins, patterns, overlaps, 3.0, 1.0, 0.1, seed=5, sweep=2, n_sweeps=3)
    table, _ = mc.lowrank_tables(3.0, 1.0, 0.1, P, N, False)
    acc_generic = mc._lowrank_sweeps(generic, patterns, mc._NO_ROWS, 0, ov_generic, table, mc._NO_TABLE, True,
                                     3.0, 1.0, 0.1, False, 5, mc.STREAM_MEANFIELD, 2, 3)
    np.testing.assert_array_equal(spins, generic)
    np.testing.assert_array_equal(overlaps, ov_generic)
    np.testing.assert_array_equal(overlaps, mc.compute_overlaps(spins, patterns))
    assert acc == acc_generic > 0
    assert abs(overlaps[0, 0]) > 0.9 * N  # still near the pattern: large fields were exercised


@pytest.mark.parametrize("P", [1, 2])
def test_lowrank_float_path_equals_naive(P, monkeypatch):
    """Past MAX_TABLE_SIZE the thresholds are computed in floating point with the same formula."""
    monkeypatch.setattr(ml, "MAX_TABLE_SIZE", 4)
    patterns = pm1((P, 8), 5)
    fast = pm1((2, 8), 2)
    slow = fast.copy()
    overlaps = mc.compute_overlaps(fast, patterns)
    assert not mc.lowrank_tables(0.6, 1.0, 0.1, P, 8, False)[1]
    acc = mc.lowrank_sweep(fast, patterns, overlaps, 0.6, 1.0, 0.1, seed=3, n_sweeps=2)
    assert acc == sum(naive_lowrank_sweep(slow, patterns, 0.6, 1.0, 0.1, 3, t, False) for t in range(2))
    np.testing.assert_array_equal(fast, slow)


@pytest.mark.parametrize("heatbath", [False, True])
@pytest.mark.parametrize("q, N, h", [(3, 7, 0.4), (4, 9, -0.3)])
def test_potts_mf_equals_naive(heatbath, q, N, h):
    fast = np.random.default_rng(q).integers(0, q, size=(2, N)).astype(np.uint8)
    slow = fast.copy()
    counts = mc.compute_counts(fast, q)
    acc = mc.potts_mf_sweep(fast, counts, q, 0.9, 1.3, h, seed=8, sweep=1, n_sweeps=2, heatbath=heatbath)
    acc_slow = sum(naive_potts_sweep(slow, q, 0.9, 1.3, h, 8, 1 + t, heatbath) for t in range(2))
    np.testing.assert_array_equal(fast, slow)
    np.testing.assert_array_equal(counts, mc.compute_counts(fast, q))
    assert acc == acc_slow > 0


@pytest.mark.parametrize("pm, heatbath", [(True, False), (False, False), (False, True)])
def test_glass_equals_naive(pm, heatbath):
    N = 9
    dense = sk_couplings(N, 4, pm)
    if pm:
        dense = np.round(dense * math.sqrt(N))  # +-1 integer couplings: local fields stay exact
    fields = np.linspace(-0.3, 0.3, N)
    indptr, indices, weights = dense_to_csr(dense)
    fast = pm1((2, N), 6)
    slow = fast.copy()
    lf = mc.compute_local_fields(fast, indptr, indices, weights)
    lf_slow = lf.copy()
    acc = mc.glass_sweep(fast, indptr, indices, weights, fields, lf, 0.8, seed=2, sweep=5, n_sweeps=2,
                         heatbath=heatbath)
    acc_slow = sum(naive_glass_sweep(slow, dense, fields, lf_slow, 0.8, 2, 5 + t, heatbath) for t in range(2))
    np.testing.assert_array_equal(fast, slow)
    np.testing.assert_array_equal(lf, lf_slow)
    assert acc == acc_slow > 0
    ref = mc.compute_local_fields(fast, indptr, indices, weights)
    if pm:
        np.testing.assert_array_equal(lf, ref)
    else:
        np.testing.assert_allclose(lf, ref, atol=1e-12)


def test_order_parameters_stay_exact_over_long_runs():
    rng = np.random.default_rng(0)
    for P, N in ((1, 101), (3, 64)):
        patterns = pm1((P, N), N)
        s = pm1((3, N), 1)
        ov = mc.compute_overlaps(s, patterns)
        mc.lowrank_sweep(s, patterns, ov, 0.9, 1.0, 0.05, seed=1, n_sweeps=200, check_values=False)
        np.testing.assert_array_equal(ov, mc.compute_overlaps(s, patterns))
    st = rng.integers(0, 5, size=(3, 50)).astype(np.uint8)
    cn = mc.compute_counts(st, 5)
    mc.potts_mf_sweep(st, cn, 5, 1.5, seed=1, n_sweeps=200, check_values=False)
    np.testing.assert_array_equal(cn, mc.compute_counts(st, 5))


def test_sweeps_compose_and_chains_independent():
    patterns = pm1((2, 20), 3)
    a = pm1((4, 20), 4)
    b = a.copy()
    oa, ob = mc.compute_overlaps(a, patterns), mc.compute_overlaps(b, patterns)
    mc.lowrank_sweep(a, patterns, oa, 0.5, seed=9, sweep=10, n_sweeps=3)
    for t in range(3):
        mc.lowrank_sweep(b[:2], patterns, ob[:2], 0.5, seed=9, sweep=10 + t)
    np.testing.assert_array_equal(a[:2], b[:2])


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs 2 Numba threads")
def test_result_independent_of_thread_count():
    before = numba.get_num_threads()
    results = []
    indptr, indices, weights = dense_to_csr(sk_couplings(16, 1))
    try:
        for threads in (1, 2):
            numba.set_num_threads(threads)
            s = pm1((5, 16), 2)
            mc.lowrank_sweep(s, np.ones((1, 16), np.int8), mc.compute_overlaps(s, np.ones((1, 16))), 0.9,
                             seed=4, n_sweeps=5)
            st = np.random.default_rng(1).integers(0, 3, size=(5, 16)).astype(np.uint8)
            mc.potts_mf_sweep(st, mc.compute_counts(st, 3), 3, 1.1, seed=4, n_sweeps=5)
            g = pm1((5, 16), 3)
            mc.glass_sweep(g, indptr, indices, weights, 0.0, mc.compute_local_fields(g, indptr, indices, weights),
                           1.0, seed=4, n_sweeps=5)
            results.append((s, st, g))
    finally:
        numba.set_num_threads(before)
    for x, y in zip(*results):
        np.testing.assert_array_equal(x, y)


# ------------------------------------------------------------------------------------------ exact enumeration

ALPHA = 1e-4  # the seeds are fixed, so a pass is deterministic; the level guards against a lucky seed


def state_index(spins):
    """Row of references.all_configurations holding each +-1 configuration (bit i set where s_i = +1)."""
    return ((np.asarray(spins) > 0).astype(np.int64) << np.arange(np.shape(spins)[1])).sum(axis=1)


def potts_index(states, q):
    """Row of references.all_potts_configurations holding each state vector (digit i in base q = s_i)."""
    return (np.asarray(states, np.int64) * q ** np.arange(np.shape(states)[1])).sum(axis=1)


def chi2_p(values, exact_values, exact_probs):
    """p-value of a chi-square test of sampled ``values`` (rows) against the exact distribution."""
    keys, inverse = np.unique(np.round(exact_values, 9), axis=0, return_inverse=True)
    probs = np.bincount(inverse.ravel(), weights=exact_probs, minlength=len(keys))
    merged, where = np.unique(np.concatenate([keys, np.round(values, 9)]), axis=0, return_inverse=True)
    assert len(merged) == len(keys), "sampled a value that no state has"
    counts = np.bincount(where.ravel()[len(keys):], minlength=len(keys))
    return stats.chi_square_test(counts, probs)[2]


# 8000 independent chains, 60 sweeps each, one sample per chain. Sample size: with 4000 chains some cases
# missed beta 5 % off (power 0.6-0.9 in multinomial draws from the exact law); with 8000 every companion's
# power is >= 0.99 at ALPHA.
@pytest.mark.parametrize("P, N, J, h, beta, heatbath", [(2, 12, 1.0, 0.15, 1.4, False), (2, 12, 1.0, 0.0, 1.4, True),
                                                        (2, 11, 1.0, 0.1, 1.2, True),
                                                        (1, 12, 1.0, 0.3, 0.9, False), (1, 12, 1.0, 0.3, 0.9, True)])
def test_lowrank_exact_distribution(P, N, J, h, beta, heatbath):
    patterns = np.ones((1, N), np.int8) if P == 1 else pm1((P, N), 11)
    _, ov, energies, probs = lowrank_boltzmann(patterns, beta, J, h)
    wrong = lowrank_boltzmann(patterns, 1.05 * beta, J, h)[3]
    s = pm1((8000, N), 5)
    o = mc.compute_overlaps(s, patterns)
    mc.lowrank_sweep(s, patterns, o, beta, J, h, seed=21, n_sweeps=60, heatbath=heatbath)
    e = energies[state_index(s)]
    assert chi2_p(e, energies, probs) > ALPHA
    assert chi2_p(o.astype(float), ov.astype(float), probs) > ALPHA  # the overlaps the kernel maintained
    # power: the same samples against the law at beta 5 % higher
    assert chi2_p(e, energies, wrong) < ALPHA
    assert chi2_p(o.astype(float), ov.astype(float), wrong) < ALPHA


@pytest.mark.parametrize("heatbath", [False, True])
def test_potts_mf_exact_distribution(heatbath):
    """As above (8000 chains: power 0.6-0.9 at 4000, 1.0 at 8000)."""
    q, N, J, h, beta = 3, 8, 1.0, 0.2, 2.0
    _, cn, energies, probs = potts_mf_boltzmann(N, q, beta, J, h)
    wrong = potts_mf_boltzmann(N, q, 1.05 * beta, J, h)[3]
    st = np.random.default_rng(2).integers(0, q, size=(8000, N)).astype(np.uint8)
    c = mc.compute_counts(st, q)
    mc.potts_mf_sweep(st, c, q, beta, J, h, seed=5, n_sweeps=60, heatbath=heatbath)
    e = energies[potts_index(st, q)]
    assert chi2_p(e, energies, probs) > ALPHA
    assert chi2_p(c.astype(float), cn.astype(float), probs) > ALPHA  # the counts the kernel maintained
    # power: the same samples against the law at beta 5 % higher
    assert chi2_p(e, energies, wrong) < ALPHA
    assert chi2_p(c.astype(float), cn.astype(float), wrong) < ALPHA


@pytest.mark.parametrize("heatbath", [False, True])
def test_sk_exact_distribution(heatbath):
    """SK at beta = 1.5 with fields 0.5 and 16000 chains: there the energy law rejects beta 5 % off and the
    magnetization law rejects fields 5 % off with power >= 0.99 (multinomial draws from the exact law; at
    beta = 1, h = 0.1 and 4000 chains the power was below 0.3 for both)."""
    N, beta = 10, 1.5
    dense = sk_couplings(N, 7)
    fields = np.full(N, 0.5)
    indptr, indices, weights = dense_to_csr(dense)
    configs, energies, probs = glass_boltzmann(dense, fields, beta)
    wrong_beta = glass_boltzmann(dense, fields, 1.05 * beta)[2]
    wrong_field = glass_boltzmann(dense, 1.05 * fields, beta)[2]
    s = pm1((16000, N), 9)
    lf = mc.compute_local_fields(s, indptr, indices, weights)
    mc.glass_sweep(s, indptr, indices, weights, fields, lf, beta, seed=3, n_sweeps=60, heatbath=heatbath)
    e = energies[state_index(s)]
    M, M_all = s.sum(axis=1).astype(float), configs.sum(axis=1).astype(float)
    assert chi2_p(e, energies, probs) > ALPHA
    assert chi2_p(M, M_all, probs) > ALPHA
    # power: the same samples against beta 5 % higher (energy) and fields 5 % larger (magnetization)
    assert chi2_p(e, energies, wrong_beta) < ALPHA
    assert chi2_p(M, M_all, wrong_field) < ALPHA


# ------------------------------------------------------------------------------------------ detailed balance

def sweep_matrix(site_matrices):
    out = np.eye(len(site_matrices[0]))
    for k in site_matrices:
        out = out @ k
    return out


def check_balance(site_matrices, pi):
    """Each site update is reversible, the sweep keeps pi; returns the second eigenvalue modulus of the sweep."""
    for k in site_matrices:
        np.testing.assert_allclose(k.sum(axis=1), 1.0, atol=1e-12)
        flux = pi[:, None] * k
        np.testing.assert_allclose(flux, flux.T, atol=1e-9)
    sweep = sweep_matrix(site_matrices)
    np.testing.assert_allclose(pi @ sweep, pi, atol=1e-9)
    ev = np.sort(np.abs(np.linalg.eigvals(sweep)))[::-1]
    assert abs(ev[0] - 1) < 1e-9
    return ev[1]


def lowrank_site_matrices(patterns, beta, J, h, heatbath):
    P, N = patterns.shape
    states, ov, _, pi = lowrank_boltzmann(patterns, beta, J, h)  # pi: the reference's Boltzmann law
    table = ml.lowrank_flip_table(beta, J, h, P, N, heatbath).astype(np.float64) / TWO32
    index = {tuple(s): k for k, s in enumerate(states)}
    mats = []
    for i in range(N):
        k = np.zeros((len(states), len(states)))
        for a, s in enumerate(states):
            x = int(s[i]) * int(patterns[:, i] @ ov[a])
            p = table[2 * (x + P * N) + (int(s[i]) + 1) // 2]
            t = s.copy()
            t[i] = -t[i]
            k[a, index[tuple(t)]] += p
            k[a, a] += 1 - p
        mats.append(k)
    return mats, pi


@pytest.mark.parametrize("heatbath", [False, True])
def test_lowrank_detailed_balance_from_tables(heatbath):
    """One-site transition matrices from the kernel's own threshold table (acceptance T / 2**32)."""
    patterns = np.array([[1, 1, -1, 1], [1, -1, -1, 1]], np.int8)
    mats, pi = lowrank_site_matrices(patterns, 1.3, 1.0, 0.25, heatbath)
    assert check_balance(mats, pi) < 1 - 1e-6  # ergodic and aperiodic


def test_sequential_metropolis_without_field_is_not_ergodic():
    """Documented limitation: with h = 0, Metropolis moves with dE <= 0 are certain, and the sequential
    sweep of a small low-rank model has eigenvalues -1 and a degenerate 1 (periodic, reducible): use heat-bath
    (or h != 0) for exact small-N sampling. Heat-bath on the same system mixes."""
    patterns = pm1((2, 6), 11)
    assert check_balance(*lowrank_site_matrices(patterns, 1.4, 1.0, 0.0, False)) > 1 - 1e-9
    assert check_balance(*lowrank_site_matrices(patterns, 1.4, 1.0, 0.0, True)) < 1 - 1e-6


@pytest.mark.parametrize("heatbath", [False, True])
def test_potts_mf_detailed_balance_from_tables(heatbath):
    q, N, beta, J, h = 3, 4, 1.7, 1.0, 0.4
    states, cn, _, pi = potts_mf_boltzmann(N, q, beta, J, h)  # pi: the reference's Boltzmann law
    table = ml.potts_mf_metropolis_table(beta, J, h, N).astype(np.float64) / TWO32
    weights = ml.potts_mf_heatbath_weights(beta, J, h, N)
    index = {tuple(s): k for k, s in enumerate(states)}
    mats = []
    for i in range(N):
        k = np.zeros((len(states), len(states)))
        for a, s in enumerate(states):
            old = int(s[i])
            w = np.array([weights[2 * (cn[a, b] - (b == old)) + (b == 0)] for b in range(q)])
            for new in range(q):
                if new == old:
                    continue
                if heatbath:
                    p = w[new] / w.sum()
                else:
                    p = table[3 * (cn[a, new] - cn[a, old] + N) + (new == 0) - (old == 0) + 1] / (q - 1)
                t = s.copy()
                t[i] = new
                k[a, index[tuple(t)]] += p
                k[a, a] -= p
            k[a, a] += 1
        mats.append(k)
    assert check_balance(mats, pi) < 1 - 1e-6


# ------------------------------------------------------------------------------------------ argument checks

def test_validation_errors():
    s = pm1((2, 6), 0)
    pat = pm1((2, 6), 1)
    ov = mc.compute_overlaps(s, pat)
    with pytest.raises(ValueError, match="-1 and \\+1"):
        mc.lowrank_sweep(s, pat * 0, ov, 1.0, seed=1)
    with pytest.raises(ValueError, match="P < N"):
        mc.lowrank_sweep(s, pm1((6, 6), 1), mc.compute_overlaps(s, pm1((6, 6), 1)), 1.0, seed=1)
    with pytest.raises(ValueError, match="shape"):
        mc.lowrank_sweep(s, pat, ov[:1], 1.0, seed=1)
    with pytest.raises(ValueError, match="compute_overlaps"):
        mc.lowrank_sweep(s, pat, ov + 2, 1.0, seed=1)
    with pytest.raises(TypeError, match="int8"):
        mc.lowrank_sweep(s.astype(np.int16), pat, ov, 1.0, seed=1)
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="beta"):
            mc.lowrank_sweep(s, pat, ov, bad, seed=1)
    with pytest.raises(ValueError, match="h"):
        mc.lowrank_sweep(s, pat, ov, 1.0, h=float("nan"), seed=1)
    st = np.zeros((2, 5), np.uint8)
    with pytest.raises(ValueError, match="q"):
        mc.potts_mf_sweep(st, mc.compute_counts(st, 1), 1, 1.0, seed=1)
    with pytest.raises(ValueError, match="compute_counts"):
        mc.potts_mf_sweep(st, mc.compute_counts(st, 3) + 1, 3, 1.0, seed=1)
    with pytest.raises(ValueError, match="0..2"):
        mc.potts_mf_sweep(st + 3, mc.compute_counts(st, 3), 3, 1.0, seed=1)
    dense = sk_couplings(5, 0)
    indptr, indices, weights = dense_to_csr(dense)
    g = pm1((1, 5), 0)
    lf = mc.compute_local_fields(g, indptr, indices, weights)
    w2 = weights.copy()
    w2[0] += 1.0
    with pytest.raises(ValueError, match="symmetric"):
        mc.glass_sweep(g, indptr, indices, w2, 0.0, lf, 1.0, seed=1)
    with pytest.raises(ValueError, match="self loops"):
        i2 = indices.copy()
        i2[0] = 0
        mc.glass_sweep(g, indptr, i2, weights, 0.0, lf, 1.0, seed=1)
    with pytest.raises(ValueError, match="NaN"):
        mc.glass_sweep(g, indptr, indices, weights * np.nan, 0.0, lf, 1.0, seed=1)
    with pytest.raises(ValueError, match="compute_local_fields"):
        mc.glass_sweep(g, indptr, indices, weights, 0.0, lf + 1.0, 1.0, seed=1)
