"""Exact and latent samplers of fully connected models (fastmf.sampling.latent) against exact counting.

The Curie-Weiss and Potts samplers invert fastmf's counting tables, so they are checked against the counting
of tests/references.py (binomial and multinomial sums from the textbook formulas, nothing from fastmf). Every
statistical check has a power companion at the same sample size: a temperature 5 % off, a basin 5 % more
likely than its mirror, or a missing basin must fail the same check."""
import numpy as np
import pytest
from references import curie_weiss_counting, potts_mf_counting

from fastmf.exact.meanfield import hopfield_exact
from fastmf.sampling.latent import THIN_FACTOR, sample_curie_weiss, sample_hopfield, sample_potts_mf
from fastmf.stats import chi_square_from_samples, chi_square_test

ALPHA = 1e-3   # the seeds are fixed, so a pass is deterministic; the level guards against a lucky seed

# Two orthogonal patterns with all four site types equally populated: flipping either pattern or swapping
# them is an exact symmetry, so the four retrieval basins (+-xi^1, +-xi^2) are exactly equally likely.
SYMMETRIC = np.array([[1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1],
                      [1, 1, 1, -1, -1, -1, 1, 1, 1, -1, -1, -1]], np.int8)


# ---- Curie-Weiss -------------------------------------------------------------------------------------

def _cw_p(M, N, beta, h=0.0):
    """Chi-square p of sampled magnetizations against the reference law of Curie-Weiss at (beta, h)."""
    support, probs, _ = curie_weiss_counting(N, beta, 1.0, h)
    return chi_square_from_samples(M, support, probs)[2]


@pytest.mark.parametrize("N,n_samples", [(50, 20000), (500, 20000)])
@pytest.mark.parametrize("T", [0.8, 1.0, 1.25])
def test_curie_weiss_matches_exact(N, n_samples, T):
    spins, info = sample_curie_weiss(N, 1.0 / T, n_samples=n_samples, seed=11)
    assert spins.dtype == np.int8 and spins.shape == (n_samples, N)
    M = spins.sum(axis=1, dtype=np.int64)
    assert _cw_p(M, N, 1.0 / T) > ALPHA
    # power: the same samples are rejected against a temperature 5 % higher
    assert _cw_p(M, N, 1.0 / (1.05 * T)) < ALPHA
    assert info["sampler"] == "curie_weiss_exact" and info["thinning"] == 1


def _site_uniformity_p(spins, site_probs):
    """Chi-square p of how often each site is up against ``site_probs`` (given M the up sites are uniform;
    sampling without replacement within a sample only lowers the variance, so the multinomial test is
    conservative)."""
    return chi_square_test((spins > 0).sum(axis=0), site_probs)[2]


def test_curie_weiss_field_and_site_uniformity():
    N, beta, h = 50, 1.5, 0.05
    spins, _ = sample_curie_weiss(N, beta, h=h, n_samples=20000, seed=3)
    M = spins.sum(axis=1, dtype=np.int64)
    assert _cw_p(M, N, beta, h) > ALPHA
    assert _cw_p(M, N, 1.05 * beta, h) < ALPHA            # power: beta 5 % off
    assert _site_uniformity_p(spins, np.full(N, 1.0 / N)) > ALPHA
    # power: half of the sites up 5 % more often than the other half (a field on those sites)
    tilted = np.where(np.arange(N) < N // 2, 1.05, 1.0)
    assert _site_uniformity_p(spins, tilted / tilted.sum()) < ALPHA


# ---- Hopfield ----------------------------------------------------------------------------------------

def _overlap_keys(ov, N):
    return (ov[:, 0] + N) * (2 * N + 1) + (ov[:, 1] + N) if ov.shape[1] == 2 else \
        ((ov[:, 0] + N) * (2 * N + 1) + (ov[:, 1] + N)) * (2 * N + 1) + (ov[:, 2] + N)


def _check_hopfield(xi, beta, h, n_samples, seed):
    N = xi.shape[1]
    spins, info = sample_hopfield(xi, beta, h=h, n_samples=n_samples, seed=seed)
    ex = hopfield_exact(xi, beta, h=h)
    ov = spins.astype(np.int64) @ xi.T.astype(np.int64)
    E = -(1.0 / (2 * N)) * np.sum(ov.astype(float) ** 2, axis=1) - h * spins.sum(axis=1)
    p_energy = chi_square_from_samples(E, ex.energies, ex.energy_probs)[2]
    p_overlap = chi_square_from_samples(_overlap_keys(ov, N), _overlap_keys(ex.overlaps, N),
                                        ex.overlap_probs)[2]
    return spins, info, ov, p_energy, p_overlap


def _single_spin_basins(xi, beta, sweeps, seed):
    """Basins visited by a plain single-spin Metropolis chain started in +xi^1 (the baseline that is stuck)."""
    rng = np.random.default_rng(seed)
    N = xi.shape[1]
    s = xi[0].astype(np.int64).copy()
    ov = xi.astype(np.int64) @ s
    seen = set()
    for _ in range(sweeps):
        for i in range(N):
            dO = -2 * s[i] * xi[:, i]
            dE = -(1.0 / (2 * N)) * np.sum((ov + dO) ** 2 - ov ** 2)
            if dE <= 0 or rng.random() < np.exp(-beta * dE):
                s[i] = -s[i]
                ov = ov + dO
        mu = int(np.argmax(np.abs(ov)))
        seen.add((mu, int(np.sign(ov[mu]))))
    return seen


def test_hopfield_latent_visits_all_basins_where_single_spin_is_stuck():
    # T = 0.2: leaving a retrieval state costs Delta E = 3 (about e^-15); single-spin chains stay put
    beta = 1 / 0.2
    assert len(_single_spin_basins(SYMMETRIC, beta, 2000, 0)) == 1   # stuck in +xi^1
    _, info, ov, p_energy, p_overlap = _check_hopfield(SYMMETRIC, beta, 0.0, 20000, 7)
    assert p_energy > ALPHA and p_overlap > ALPHA
    # the four retrieval basins: largest |M_mu| and its sign (exact ties between patterns left out)
    tie = np.abs(ov[:, 0]) == np.abs(ov[:, 1])
    mu = np.argmax(np.abs(ov), axis=1)
    basin = (2 * mu + (ov[np.arange(len(ov)), mu] > 0))[~tie]
    counts = np.bincount(basin, minlength=4)
    assert np.all(counts > 0)
    assert chi_square_test(counts, np.full(4, 0.25))[2] > ALPHA
    # power: a field along xi^1 that makes +xi^1 5 % more likely and -xi^1 5 % less likely (basins 1 and 0)
    assert chi_square_test(counts, np.array([0.95, 1.05, 1.0, 1.0]) / 4)[2] < ALPHA
    assert info["sampler"] == "hopfield_latent_mcmc" and info["tau_reliable"]
    assert info["thinning"] == int(np.ceil(THIN_FACTOR * info["tau"]))
    assert info["tau_thinned"] < 0.75                      # kept latents are nearly independent
    for kind in ("walk", "flip", "global_flip", "swap", "mode_jump"):
        assert 0.0 < info["acceptance"][kind] <= 1.0
    assert info["latent"].shape == (20000, 2)


@pytest.mark.parametrize("P,N,T,h,seed", [(2, 12, 0.5, 0.1, 1), (3, 13, 0.6, 0.0, 2), (3, 12, 1.5, -0.2, 3)])
def test_hopfield_random_patterns_match_exact(P, N, T, h, seed):
    xi = np.random.default_rng(seed).choice(np.array([-1, 1], np.int8), size=(P, N))
    _, info, _, p_energy, p_overlap = _check_hopfield(xi, 1 / T, h, 12000, 100 + seed)
    assert p_energy > ALPHA and p_overlap > ALPHA, info


def _laplace_basin_weights(xi, beta):
    """Weights of the retrieval basins of pattern mu (both signs) by the Laplace approximation of p(phi)
    around the mean-field solution phi = (1/N) sum_i xi_i tanh(beta xi_i . phi) started at e_mu."""
    P, N = xi.shape
    x = xi.astype(float)
    logw = []
    for mu in range(P):
        phi = np.eye(P)[mu]
        for _ in range(500):
            phi = x @ np.tanh(beta * (x.T @ phi)) / N
        a = beta * (x.T @ phi)
        log_p = -N * beta * phi @ phi / 2 + np.sum(np.logaddexp(a, -a))
        hess = N * beta * np.eye(P) - beta ** 2 * (x / np.cosh(a) ** 2) @ x.T
        logw.append(log_p - 0.5 * np.linalg.slogdet(hess)[1])
    w = np.exp(np.array(logw) - max(logw))
    return w / w.sum()


def _basin_z(basin, weights, n_batches=50):
    """Per-basin z of the sampled basin frequencies against ``weights``, each standard error from
    ``n_batches`` batch means of the basin indicator (the samples are in chain-time order, so a batch holds
    consecutive thinned steps of every chain and the batch means absorb what correlation thinning leaves)."""
    ind = (np.asarray(basin)[:, None] == np.arange(len(weights))).astype(float)
    b = ind[: len(ind) // n_batches * n_batches].reshape(n_batches, -1, len(weights)).mean(axis=1)
    return (ind.mean(axis=0) - weights) / (b.std(axis=0, ddof=1) / np.sqrt(n_batches))


@pytest.fixture(scope="module")
def large_n_basins():
    # N = 2000, P = 4 random patterns at T = 0.5: crosstalk makes the retrieval basins unequal (0.022 to 0.69)
    xi = np.random.default_rng(1).choice(np.array([-1, 1], np.int8), size=(4, 2000))
    spins, info = sample_hopfield(xi, 2.0, n_samples=10000, seed=4)
    basin = np.abs(spins.astype(np.int64) @ xi.T.astype(np.int64)).argmax(axis=1)
    return basin, info, _laplace_basin_weights(xi, 2.0)


def test_hopfield_large_n_basin_weights(large_n_basins):
    """Sampled basin frequencies against the Laplace approximation of p(phi), every basin within 4 standard
    errors (4 basins: two-sided 6e-5 each for a normal mean). The Laplace error is O(1/N): importance sampling
    of the exact 4-D latent integral around each mode moves the weights by < 5e-5, 30 times below the
    smallest standard error (~1.6e-3)."""
    basin, info, expected = large_n_basins
    assert expected.min() > 0.01 and expected.max() < 0.8
    z = _basin_z(basin, expected)
    assert np.all(np.abs(z) < 4), z
    assert info["tau_reliable"] and len(info["modes"]) == 8
    assert info["acceptance"]["mode_jump"] > 0.02


def test_hopfield_large_n_basin_weights_power_missing_basin(large_n_basins):
    """Power, same samples and check: the weights of a sampler that never visits the smallest basin (~2 %)."""
    basin, _, expected = large_n_basins
    missing = np.where(np.arange(4) == np.argmin(expected), 0.0, expected)
    assert np.any(np.abs(_basin_z(basin, missing / missing.sum())) > 4)


def test_hopfield_single_chain_not_periodic():
    # regression: an always-accepted swap proposed every step made the pattern identity alternate with
    # period 2, so a single chain thinned by an even number kept one pattern forever
    spins, info = sample_hopfield(SYMMETRIC, 5.0, n_samples=4000, seed=2, n_chains=1)
    ov = spins.astype(np.int64) @ SYMMETRIC.T.astype(np.int64)
    keep = np.abs(ov[:, 0]) != np.abs(ov[:, 1])
    first = (np.abs(ov[:, 0]) > np.abs(ov[:, 1]))[keep].astype(float)
    assert abs(first.mean() - 0.5) < 0.04
    assert abs(np.corrcoef(first[:-1], first[1:])[0, 1]) < 0.1


def test_hopfield_warns_short_pilot():
    with pytest.warns(RuntimeWarning, match="pilot"):
        sample_hopfield(SYMMETRIC, 2.0, n_samples=50, seed=0, burn_in=100, pilot_steps=16)


def test_hopfield_has_power():
    # samples at T = 0.5 pass against the exact law at T = 0.5 and are rejected at T = 0.525 (5 % off)
    xi = SYMMETRIC
    spins, _ = sample_hopfield(xi, 2.0, n_samples=12000, seed=5)
    ov = spins.astype(np.int64) @ xi.T.astype(np.int64)
    E = -(1.0 / 24) * np.sum(ov.astype(float) ** 2, axis=1)
    for T, passes in ((0.5, True), (0.525, False)):
        ex = hopfield_exact(xi, 1 / T)
        assert (chi_square_from_samples(E, ex.energies, ex.energy_probs)[2] > ALPHA) == passes, T


# ---- mean-field Potts --------------------------------------------------------------------------------

def _potts_p(occ, N, h, ref):
    """Chi-square p of n_0, of max_k n_k and of the energy of sampled occupations against the reference
    counting ``ref`` (references.potts_mf_counting)."""
    support = np.arange(N + 1)
    E = -(1.0 / (2 * N)) * np.sum(occ.astype(float) ** 2, axis=1) - h * occ[:, 0]
    return (chi_square_from_samples(occ[:, 0], support, ref["n0_probs"])[2],
            chi_square_from_samples(occ.max(axis=1), support, ref["max_probs"])[2],
            chi_square_from_samples(E, ref["energies"], ref["energy_probs"])[2])


@pytest.mark.parametrize("N,q,beta,h", [(30, 3, 1.5, 0.1), (20, 4, 2.5, 0.0)])
def test_potts_matches_exact(N, q, beta, h):
    states, info = sample_potts_mf(N, q, beta, h=h, n_samples=20000, seed=4)
    assert states.dtype == np.uint8 and states.shape == (20000, N) and states.max() < q
    occ = np.stack([(states == k).sum(axis=1) for k in range(q)], axis=1)
    ref = potts_mf_counting(N, q, beta, 1.0, h)
    assert min(_potts_p(occ, N, h, ref)) > ALPHA
    # power: each of the three laws rejects the same samples at a temperature 5 % higher
    assert max(_potts_p(occ, N, h, potts_mf_counting(N, q, beta / 1.05, 1.0, h))) < ALPHA
    assert info["log_z"] == pytest.approx(ref["log_z"], rel=1e-12)


# ---- reproducibility and validation ------------------------------------------------------------------

@pytest.mark.parametrize("sampler,args", [(sample_curie_weiss, (40, 1.1)), (sample_potts_mf, (15, 3, 1.2)),
                                          (sample_hopfield, (SYMMETRIC, 2.0))])
def test_same_seed_same_samples(sampler, args):
    kw = dict(n_samples=300)
    if sampler is sample_hopfield:
        kw.update(burn_in=200, pilot_steps=400)
    a, _ = sampler(*args, seed=9, **kw)
    b, _ = sampler(*args, seed=9, **kw)
    c, _ = sampler(*args, seed=10, **kw)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("call,exc,match", [
    (lambda: sample_curie_weiss(10, 0.0, n_samples=5, seed=0), ValueError, "beta must be > 0"),
    (lambda: sample_curie_weiss(10, -1.0, n_samples=5, seed=0), ValueError, "beta must be > 0"),
    (lambda: sample_curie_weiss(10, float("nan"), n_samples=5, seed=0), ValueError, "finite"),
    (lambda: sample_curie_weiss(10, 1.0, n_samples=0, seed=0), ValueError, "n_samples"),
    (lambda: sample_curie_weiss(10, 1.0, n_samples=5, seed=-1), ValueError, "seed"),
    (lambda: sample_hopfield(np.zeros((2, 10)), 1.0, n_samples=5, seed=0), ValueError, r"\+1 and -1"),
    (lambda: sample_hopfield(np.ones((10, 10)), 1.0, n_samples=5, seed=0), ValueError, "P < N"),
    (lambda: sample_hopfield(SYMMETRIC, 1.0, J=-1.0, n_samples=5, seed=0), ValueError, "J > 0"),
    (lambda: sample_hopfield(SYMMETRIC, 1.0, h=float("nan"), n_samples=5, seed=0), ValueError, "finite"),
    (lambda: sample_potts_mf(10, 1, 1.0, n_samples=5, seed=0), ValueError, "q must be >= 2"),
    (lambda: sample_potts_mf(3000, 4, 1.0, n_samples=5, seed=0), ValueError, "tempering"),
])
def test_validation(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
