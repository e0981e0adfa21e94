"""The latent mean-field model (fastmf.decode.latent_model) against naive enumeration (tests/references.py): exact
log-probabilities, marginals, moments, P(K), posterior, the sampler (chi-square with a power companion), the
generalized Hopfield model as a grid mixture, the canonical gauge, files and bad inputs."""
import json
import os

import numpy as np
import pytest
from references import (all_configurations, generalized_hopfield_probabilities, latent_mixture_posterior,
                        latent_mixture_probabilities, marginal_probabilities)

from fastmf.decode.effective import GeneralizedHopfield
from fastmf.decode.latent_model import LatentMeanField
from fastmf.io.samples import SampleSet
from fastmf.stats import chi_square_test

ALPHA = 1e-3   # the seeds are fixed, so a pass is deterministic; the level guards against a lucky seed


def _model(N, P, K, seed, zero_weight=False):
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.2, 1.0, K)
    if zero_weight:
        w[-1] = 0.0
    return LatentMeanField(rng.normal(0.0, 0.5, N), rng.normal(0.0, 0.8, (P, N)), rng.normal(0.0, 1.0, (K, P)), w)


MODELS = {"N12 P1 K2": (12, 1, 2, 1, False), "N9 P2 K5 (a zero weight)": (9, 2, 5, 2, True),
          "N7 P3 K4": (7, 3, 4, 3, False)}


@pytest.fixture(scope="module", params=list(MODELS))
def case(request):
    m = _model(*MODELS[request.param])
    return m, latent_mixture_probabilities(m.fields, m.directions, m.atoms, m.weights)


def _index(spins):
    """Row index in all_configurations order: sum_i [s_i = +1] 2**i."""
    return ((np.asarray(spins) > 0).astype(np.int64) << np.arange(spins.shape[1])).sum(axis=1)


# ---- exact quantities against enumeration --------------------------------------------------------------------

def test_log_prob_matches_enumeration(case):
    m, p = case
    s = all_configurations(m.N)
    np.testing.assert_allclose(m.log_prob(s), np.log(p), rtol=0, atol=1e-12)
    assert m.log_prob(s[5]).shape == (1,) and m.log_prob(s[5])[0] == pytest.approx(np.log(p[5]), abs=1e-12)
    assert m.log_likelihood(s[:3]) == pytest.approx(np.mean(np.log(p[:3])), abs=1e-12)


def test_marginals_of_random_site_subsets(case):
    m, p = case
    rng = np.random.default_rng(7)
    for size in (1, 2, m.N // 2, m.N - 1):
        sites = rng.permutation(m.N)[:size]              # unsorted on purpose
        sub = all_configurations(size)
        np.testing.assert_allclose(m.log_prob(sub, sites=sites), np.log(marginal_probabilities(p, m.N, sites)),
                                   rtol=0, atol=1e-12)


def test_moments_spike_counts_and_posterior(case):
    m, p = case
    s = all_configurations(m.N)
    np.testing.assert_allclose(m.means(), s.T @ p, rtol=0, atol=1e-12)
    np.testing.assert_allclose(m.second_moments(), (s.T * p) @ s, rtol=0, atol=1e-12)
    pk = np.array([p[(s > 0).sum(axis=1) == k].sum() for k in range(m.N + 1)])
    np.testing.assert_allclose(m.spike_count_distribution(), pk, rtol=0, atol=1e-12)
    post = latent_mixture_posterior(m.fields, m.directions, m.atoms, m.weights)
    np.testing.assert_allclose(m.posterior(s), post, rtol=0, atol=1e-12)


# ---- the sampler ----------------------------------------------------------------------------------------------

def _perturbed(m, what):
    h, w = m.fields.copy(), m.weights.copy()
    if what == "weight":
        w[0] *= 1.05
    else:                                                  # the field with the largest effect on its spin's mean
        i = int(np.argmax(np.abs(m.fields) / np.cosh(m.fields) ** 2))
        h[i] *= 1.05
    return latent_mixture_probabilities(h, m.directions, m.atoms, w)


def test_sampler_matches_exact_probabilities_with_power():
    # atoms far enough apart that a 5 % change of one weight changes the distribution (random atoms can overlap)
    rng = np.random.default_rng(11)
    m = LatentMeanField(rng.normal(0.0, 0.5, 8), rng.normal(0.0, 1.0, (2, 8)), [[1.5, 0.0], [0.0, 1.5], [-1.0, -1.0]],
                        [0.5, 0.3, 0.2])
    p = latent_mixture_probabilities(m.fields, m.directions, m.atoms, m.weights)
    n = 600_000
    s, k = m.sample(n, seed=4, return_atoms=True)
    assert s.dtype == np.int8 and s.shape == (n, 8) and k.shape == (n,)
    counts = np.bincount(_index(s), minlength=256)
    assert chi_square_test(counts, p)[2] > ALPHA
    assert chi_square_test(np.bincount(k, minlength=3), m.weights)[2] > ALPHA
    # power: the same samples are rejected against a model with one weight, or one field, 5 % off
    for what in ("weight", "field"):
        assert chi_square_test(counts, _perturbed(m, what))[2] < 1e-6, what


def test_sampler_reproducible_by_seed():
    m = _model(6, 1, 2, 0)
    a = m.sample(1000, seed=3)
    np.testing.assert_array_equal(a, m.sample(1000, seed=3))
    np.testing.assert_array_equal(a, m.sample(1000, seed=np.random.default_rng(3)))
    np.testing.assert_array_equal(a, m.sample(1000, seed=3, chunk=7))  # the result does not depend on the chunk
    assert not np.array_equal(a, m.sample(1000, seed=4))


# ---- other forms ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("N,P", [(10, 1), (8, 2)])
def test_from_generalized_hopfield_equals_its_boltzmann_distribution(N, P):
    rng = np.random.default_rng(N + P)
    gh = GeneralizedHopfield(rng.normal(0.0, 0.3, N), rng.normal(0.0, 1.3, (P, N)))
    m = LatentMeanField.from_generalized_hopfield(gh)
    s = all_configurations(N)
    exact = np.log(generalized_hopfield_probabilities(gh.fields, gh.patterns))
    np.testing.assert_allclose(m.log_prob(s), exact, rtol=0, atol=1e-9)
    # the comparison can tell: patterns 5 % stronger are far outside that tolerance
    wrong = np.log(generalized_hopfield_probabilities(gh.fields, 1.05 * gh.patterns))
    assert np.abs(m.log_prob(s) - wrong).max() > 0.05


def test_canonical_keeps_the_distribution():
    m = _model(9, 3, 5, 8)
    # a redundant direction (the sum of the others): the canonical form has two
    xi = np.vstack([m.directions[:2], m.directions[0] + m.directions[1]])
    m = LatentMeanField(m.fields, xi, m.atoms, m.weights)
    c = m.canonical()
    s = all_configurations(9)
    np.testing.assert_allclose(c.log_prob(s), m.log_prob(s), rtol=0, atol=1e-12)
    assert c.P == 2
    np.testing.assert_allclose(c.directions @ c.directions.T, np.eye(2), atol=1e-12)
    np.testing.assert_allclose(c.weights @ c.atoms, 0.0, atol=1e-12)


def test_gauge_z_to_Az_plus_b():
    m = _model(8, 2, 4, 9)
    A, b = np.array([[2.0, 0.5], [-0.3, 1.5]]), np.array([0.7, -1.1])
    xi = np.linalg.solve(A.T, m.directions)                 # Xi' = A^-T Xi
    g = LatentMeanField(m.fields - b @ xi, xi, m.atoms @ A.T + b, m.weights)
    s = all_configurations(8)
    np.testing.assert_allclose(g.log_prob(s), m.log_prob(s), rtol=0, atol=1e-12)
    np.testing.assert_allclose(g.canonical().field_vectors(), m.canonical().field_vectors(), atol=1e-10)


# ---- files ----------------------------------------------------------------------------------------------------

def test_save_load_round_trip(tmp_path):
    m = _model(7, 2, 3, 5)
    path = m.save(tmp_path / "model.npz")
    back = LatentMeanField.load(path)
    for name in ("fields", "directions", "atoms", "weights"):
        np.testing.assert_array_equal(getattr(back, name), getattr(m, name))
    with np.load(path) as f:                               # plain NumPy can read it, no pickles
        meta = json.loads(str(f["metadata"]))
    assert meta["format"] == "fastmf.LatentMeanField" and meta["N"] == 7
    assert json.loads(json.dumps(m.to_dict()))["n_atoms"] == 3


def test_save_is_atomic(tmp_path, monkeypatch):
    path = _model(5, 1, 2, 0).save(tmp_path / "m.npz")

    def broken(*args, **kwargs):
        raise OSError("no space left on device")

    monkeypatch.setattr(np, "savez_compressed", broken)
    with pytest.raises(OSError, match="no space"):
        _model(6, 1, 2, 1).save(path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["m.npz"]               # no temporary left, the old file intact
    assert LatentMeanField.load(path).N == 5


def _write_npz(path, **arrays):
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)
    return path


def test_load_bad_files(tmp_path):
    good = _model(5, 1, 2, 0)
    with pytest.raises(FileNotFoundError):
        LatentMeanField.load(tmp_path / "none.npz")
    gh = GeneralizedHopfield(np.zeros(4), np.ones((1, 4))).save(tmp_path / "gh.npz")
    with pytest.raises(ValueError, match="gh.npz' is a generalized Hopfield"):
        LatentMeanField.load(gh)
    SampleSet(np.ones((3, 4), np.int8), {}).save(tmp_path / "spins.npz")
    with pytest.raises(ValueError, match="spins.npz' is a fastmf sample file"):
        LatentMeanField.load(tmp_path / "spins.npz")
    raw = good.save(tmp_path / "good.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(raw[:len(raw) // 2])
    with pytest.raises(ValueError, match="cut.npz"):
        LatentMeanField.load(tmp_path / "cut.npz")
    (tmp_path / "text.npz").write_text("fields,directions\n1,2\n")
    with pytest.raises(ValueError, match="text.npz"):
        LatentMeanField.load(tmp_path / "text.npz")
    meta = np.array(json.dumps({"format": "fastmf.LatentMeanField"}))
    arrays = {k: getattr(good, k) for k in ("fields", "directions", "atoms", "weights")}
    bad = {"shape": dict(arrays, directions=np.ones((1, 4))),
           "nan": dict(arrays, weights=np.array([np.nan, 1.0])),
           "negative": dict(arrays, weights=np.array([-0.5, 1.0])),
           "text": dict(arrays, atoms=np.array([["a"], ["b"]]))}
    for name, content in bad.items():
        path = _write_npz(tmp_path / f"{name}.npz", metadata=meta, **content)
        with pytest.raises(ValueError, match=f"{name}.npz"):
            LatentMeanField.load(path)
    with pytest.raises(ValueError, match="missing|weights"):
        LatentMeanField.load(_write_npz(tmp_path / "missing.npz", metadata=meta, fields=good.fields))


# ---- bad inputs -----------------------------------------------------------------------------------------------

def test_bad_inputs():
    m = _model(4, 1, 2, 0)
    s = all_configurations(4)
    with pytest.raises(ValueError, match="2 x - 1"):
        m.log_prob((s > 0).astype(int))                    # 0/1 bits
    for bad in (s[:, :3], np.ones((2, 2, 4)), np.ones((3, 5))):
        with pytest.raises(ValueError, match="shape"):
            m.log_prob(bad)
    with pytest.raises(ValueError, match="shape"):
        m.posterior(s[:, :3])
    for sites in ([4], [0, 0], [-1], [], [[0, 1]], [0.5]):
        with pytest.raises(ValueError, match="sites"):
            m.log_prob(s[:, :max(1, np.size(sites))], sites=sites)
    with pytest.raises(ValueError, match="non-negative"):
        LatentMeanField(np.zeros(4), np.ones((1, 4)), np.zeros((2, 1)), [0.5, -0.1])
    with pytest.raises(ValueError, match="non-negative"):
        LatentMeanField(np.zeros(4), np.ones((1, 4)), np.zeros((2, 1)), [0.0, 0.0])
    with pytest.raises(ValueError, match="finite"):
        LatentMeanField([0.0, np.nan, 0.0, 0.0], np.ones((1, 4)), np.zeros((2, 1)), [1, 1])
    with pytest.raises(ValueError, match="directions"):
        LatentMeanField(np.zeros(4), np.ones((1, 3)), np.zeros((2, 1)), [1, 1])
    with pytest.raises(ValueError, match="atoms"):
        LatentMeanField(np.zeros(4), np.ones((2, 4)), np.zeros((2, 1)), [1, 1])
    with pytest.raises(ValueError, match="weights"):
        LatentMeanField(np.zeros(4), np.ones((1, 4)), np.zeros((2, 1)), [1, 1, 1])
    with pytest.raises(ValueError, match="n_samples"):
        m.sample(0)
    with pytest.raises(ValueError, match="seed"):
        m.sample(5, seed=None)
