"""Exact and latent samplers of fully connected models (fastmf.sampling.latent) against exact counting."""
import numpy as np
import pytest

from fastmf.exact.meanfield import curie_weiss_exact, hopfield_exact, potts_mf_exact
from fastmf.sampling.latent import THIN_FACTOR, sample_curie_weiss, sample_hopfield, sample_potts_mf
from fastmf.stats import chi_square_from_samples, chi_square_test

ALPHA = 1e-3   # the seeds are fixed, so a pass is deterministic; the level guards against a lucky seed

# Two orthogonal patterns with all four site types equally populated: flipping either pattern or swapping
# them is an exact symmetry, so the four retrieval basins (+-xi^1, +-xi^2) are exactly equally likely.
SYMMETRIC = np.array([[1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1],
                      [1, 1, 1, -1, -1, -1, 1, 1, 1, -1, -1, -1]], np.int8)


# ---- Curie-Weiss -------------------------------------------------------------------------------------

@pytest.mark.parametrize("N,n_samples", [(50, 20000), (500, 20000)])
@pytest.mark.parametrize("T", [0.8, 1.0, 1.25])
def test_curie_weiss_matches_exact(N, n_samples, T):
    spins, info = sample_curie_weiss(N, 1.0 / T, n_samples=n_samples, seed=11)
    assert spins.dtype == np.int8 and spins.shape == (n_samples, N)
    M = spins.sum(axis=1, dtype=np.int64)
    ex = curie_weiss_exact(N, 1.0 / T)
    _, _, p = chi_square_from_samples(M, ex.magnetizations, ex.probs)
    assert p > ALPHA
    # power: the same samples are rejected against a temperature only a few percent off
    wrong = curie_weiss_exact(N, 1.0 / (T * (1.1 if N == 50 else 1.03)))
    assert chi_square_from_samples(M, wrong.magnetizations, wrong.probs)[2] < 1e-6
    assert info["sampler"] == "curie_weiss_exact" and info["thinning"] == 1


def test_curie_weiss_field_and_site_uniformity():
    N, beta, h = 50, 1.5, 0.05
    spins, _ = sample_curie_weiss(N, beta, h=h, n_samples=20000, seed=3)
    ex = curie_weiss_exact(N, beta, h=h)
    assert chi_square_from_samples(spins.sum(axis=1, dtype=np.int64), ex.magnetizations, ex.probs)[2] > ALPHA
    # given M the up sites are uniform: every site is up equally often (sampling without replacement
    # within a sample only lowers the variance, so the multinomial test is conservative)
    ups = (spins > 0).sum(axis=0)
    assert chi_square_test(ups, np.full(N, 1.0 / N))[2] > ALPHA


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


def test_hopfield_large_n_basin_weights():
    # N = 2000, P = 4 random patterns at T = 0.5: crosstalk makes the retrieval basins unequal (0.02 to
    # 0.69); the sampled frequencies match the Laplace approximation of p(phi) (its error is O(1/N))
    xi = np.random.default_rng(1).choice(np.array([-1, 1], np.int8), size=(4, 2000))
    spins, info = sample_hopfield(xi, 2.0, n_samples=10000, seed=4)
    ov = np.abs(spins.astype(np.int64) @ xi.T.astype(np.int64))
    freq = np.bincount(ov.argmax(axis=1), minlength=4) / len(ov)
    expected = _laplace_basin_weights(xi, 2.0)
    assert expected.min() > 0.01 and expected.max() < 0.8
    np.testing.assert_allclose(freq, expected, atol=0.02)
    assert info["tau_reliable"] and len(info["modes"]) == 8
    assert info["acceptance"]["mode_jump"] > 0.02


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
    # samples at T = 0.5 are rejected against the exact distribution at T = 0.6
    xi = SYMMETRIC
    spins, _ = sample_hopfield(xi, 2.0, n_samples=12000, seed=5)
    ov = spins.astype(np.int64) @ xi.T.astype(np.int64)
    wrong = hopfield_exact(xi, 1 / 0.6)
    E = -(1.0 / 24) * np.sum(ov.astype(float) ** 2, axis=1)
    assert chi_square_from_samples(E, wrong.energies, wrong.energy_probs)[2] < 1e-6


# ---- mean-field Potts --------------------------------------------------------------------------------

@pytest.mark.parametrize("N,q,beta,h", [(30, 3, 1.5, 0.1), (20, 4, 2.5, 0.0)])
def test_potts_matches_exact(N, q, beta, h):
    states, info = sample_potts_mf(N, q, beta, h=h, n_samples=20000, seed=4)
    assert states.dtype == np.uint8 and states.shape == (20000, N) and states.max() < q
    ex = potts_mf_exact(N, q, beta, h=h)
    occ = np.stack([(states == k).sum(axis=1) for k in range(q)], axis=1)
    support = np.arange(N + 1)
    assert chi_square_from_samples(occ[:, 0], support, ex.n0_probs)[2] > ALPHA
    assert chi_square_from_samples(occ.max(axis=1), support, ex.max_occupation_probs)[2] > ALPHA
    E = -(1.0 / (2 * N)) * np.sum(occ.astype(float) ** 2, axis=1) - h * occ[:, 0]
    assert chi_square_from_samples(E, ex.energies, ex.energy_probs)[2] > ALPHA
    assert info["log_z"] == pytest.approx(ex.log_z, rel=1e-12)


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
