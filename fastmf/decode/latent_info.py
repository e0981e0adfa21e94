"""Capacity of a latent mean-field model at any N: mutual informations by Monte Carlo over its exact samples.

A :class:`~fastmf.decode.latent_model.LatentMeanField` has exact i.i.d. samples and exact log-probabilities (of
every configuration and of every marginal), so an information that is an expectation of log-probabilities has an
unbiased Monte Carlo estimate whose standard error is the sample standard deviation over ``sqrt(n)``:

* :func:`bipartite_information`: ``I(A;B) = E[ln p(s) - ln p(s_A) - ln p(s_B)]`` for half-cuts of the sites;
* :func:`latent_information`: ``I(s;k) = H(k) - E[H(k | s)]``, the information the spins carry about the latent
  atom, the model's counterpart of a VAE's rate.

``docs/latent_model.rst`` has the relations to the VAE rate and to :mod:`fastmf.exact.capacity` (N <= 20).
Everything is in nats.
"""
import dataclasses

import numpy as np
from scipy.special import logsumexp

from ..exact.capacity import site_ranges
from ..io.files import check_memory
from ..kernels.validation import check_int
from .common import as_generator, log2cosh
from .latent_model import LatentMeanField

__all__ = ["InformationEstimate", "bipartite_information", "half_cuts", "latent_information"]

_CHUNK = 4096          # samples drawn per call of the sampler
_TABLE = 1 << 21       # entries of a (block, K) table of log-likelihoods (16 MiB)
_CUT_KINDS = ("contiguous", "random", "both")


@dataclasses.dataclass(frozen=True)
class InformationEstimate:
    """Monte Carlo estimates of mutual informations (nats) with their standard errors.

    Attributes
    ----------
    quantity : str
        ``"I(A;B)"`` (bipartite) or ``"I(s;atom)"`` (latent).
    labels : tuple of str
        One per row: the cut (``"contiguous"``, ``"random 1"``, ...; ``"cut 1"``, ... for explicit cuts) or
        ``"I(s;atom)"``.
    sites : tuple of tuple of int
        The A side of each cut (sorted; B is the complement); empty tuples for the latent information.
    mi : ndarray
        The estimates.
    se : ndarray
        Their standard errors (sample standard deviation / sqrt(n_samples); the samples are i.i.d.).
    n_samples : int
        Model samples used (the same samples for every row).
    N : int
        Sites of the model.
    extra : dict
        ``entropy`` and ``entropy_se`` (``H(s) = -E ln p(s)``) for bipartite estimates; ``atom_entropy``
        (``H(k)``, exact) for the latent information.
    """

    quantity: str
    labels: tuple
    sites: tuple
    mi: np.ndarray
    se: np.ndarray
    n_samples: int
    N: int
    extra: dict = dataclasses.field(default_factory=dict)

    def table(self):
        """A plain-text table: one row per cut (label, ``|A|``, the A side as ranges, MI and SE in nats)."""
        lines = [f"{self.quantity} of a latent mean-field model, N = {self.N}, {self.n_samples} exact samples (nats)",
                 f"{'row':<14}{'|A|':>5}  {'A':<24}{'MI':>12}{'SE':>12}"]
        for label, a, mi, se in zip(self.labels, self.sites, self.mi, self.se):
            ranges = site_ranges(a) if a else "-"
            ranges = ranges if len(ranges) <= 22 else ranges[:19] + "..."
            lines.append(f"{label:<14}{len(a) if a else '-':>5}  {ranges:<24}{mi:12.5f}{se:12.5f}")
        return "\n".join(lines)

    def __str__(self):
        return self.table()

    def to_dict(self):
        """JSON-serialisable form (lists and floats)."""
        return {"quantity": self.quantity, "labels": list(self.labels), "sites": [list(a) for a in self.sites],
                "mi": self.mi.tolist(), "se": self.se.tolist(), "n_samples": self.n_samples, "N": self.N,
                **{k: float(v) for k, v in self.extra.items()}}


def half_cuts(N, kind="contiguous", n_random=4, seed=0):
    """The A sides of half-cuts of N sites: ``"contiguous"`` (the first ``N // 2`` sites), ``"random"``
    (``n_random`` random subsets of ``N // 2`` sites drawn from the seed), or ``"both"`` (contiguous first).

    Returns
    -------
    labels : tuple of str
    cuts : tuple of tuple of int
    """
    N = check_int("N", N, 2)
    if kind not in _CUT_KINDS:
        raise ValueError(f"cuts must be one of {_CUT_KINDS} or a list of site-index arrays, got {kind!r}")
    labels, cuts = [], []
    if kind in ("contiguous", "both"):
        labels.append("contiguous")
        cuts.append(tuple(range(N // 2)))
    if kind in ("random", "both"):
        n_random = check_int("n_random", n_random, 1)
        rng = as_generator(seed)
        for j in range(n_random):
            labels.append(f"random {j + 1}")
            cuts.append(tuple(int(i) for i in np.sort(rng.permutation(N)[:N // 2])))
    return tuple(labels), tuple(cuts)


def bipartite_information(model, cuts="contiguous", n_samples=20_000, seed=0, n_random=4):
    """Bipartite mutual informations ``I(A;B)`` of a latent mean-field model by Monte Carlo over exact samples.

    ``I(A;B) = E[ln p(s) - ln p(s_A) - ln p(s_B)]`` with every log-probability exact (a finite mixture: the
    marginal of a block is the mixture of the atoms' block products), so the estimate is unbiased and its standard
    error is the sample standard deviation of the summand over ``sqrt(n_samples)``. Every cut uses the same samples.

    Parameters
    ----------
    model : LatentMeanField
    cuts : {"contiguous", "random", "both"} or sequence of array_like of int
        ``"contiguous"``: A = the first ``N // 2`` sites; ``"random"``: ``n_random`` random halves drawn from the
        seed; ``"both"``: the two; or explicit A sides (B is the complement; both non-empty).
    n_samples : int
        Model samples (>= 2).
    seed : int, sequence of int or numpy.random.Generator
        The random cuts and the samples come from independent streams spawned from it, so the samples (and the
        contiguous estimate) do not depend on which cuts are asked for; :func:`latent_information` with the same
        seed uses the same samples.
    n_random : int
        Random cuts for ``"random"`` / ``"both"``.

    Returns
    -------
    InformationEstimate
        ``extra`` holds the entropy ``H(s) = -E ln p(s)`` and its standard error.
    """
    _check_model(model)
    n = check_int("n_samples", n_samples, 2)
    cut_rng, sample_rng = as_generator(seed).spawn(2)
    labels, sites = _parse_cuts(cuts, model.N, n_random, cut_rng)
    masks = np.zeros((len(sites), model.N), bool)
    for j, a in enumerate(sites):
        masks[j, list(a)] = True
    a = _field_table(model, len(sites))
    log_w = np.log(np.maximum(model.weights, 1e-300))
    norm = log2cosh(a)                                                        # (K, N)
    off_all = log_w - norm.sum(axis=1)
    a_all = np.ascontiguousarray(a.T)
    cut_fields = [np.ascontiguousarray(a[:, m].T) for m in masks]
    cut_norms = [(log_w - norm[:, m].sum(axis=1), log_w - norm[:, ~m].sum(axis=1)) for m in masks]
    acc = _Moments(len(sites) + 1)
    for s in _sample_blocks(model, n, sample_rng):
        x = s @ a_all                                                         # s . a_k, (rows, K)
        full = _log_mixture(x + off_all)
        rows = [-full]
        for m, a_t, (off_a, off_b) in zip(masks, cut_fields, cut_norms):
            xa = s[:, m] @ a_t                                                # s_A . a_kA; s_B . a_kB = x - xa
            rows.append(full - _log_mixture(x - xa + off_b) - _log_mixture(xa + off_a))
        acc.add(np.array(rows))
    mean, se = acc.result()
    return InformationEstimate("I(A;B)", labels, sites, mean[1:], se[1:], n, model.N,
                               {"entropy": float(mean[0]), "entropy_se": float(se[0])})


def latent_information(model, n_samples=20_000, seed=0):
    """The information the spins carry about the latent atom, ``I(s;k) = H(k) - E_s[H(k | s)]``, by Monte Carlo.

    ``H(k) = -sum_k w_k ln w_k`` is exact; ``H(k | s)`` is the entropy of the exact posterior ``p(k | s)`` of each
    sample (the Rao-Blackwellised form of ``E[ln p(s | k) - ln p(s)]``: same mean, smaller variance); the standard
    error is the sample standard deviation over ``sqrt(n_samples)``.

    How it relates to a continuous latent and to a VAE's rate. The spins depend on the atom only through its field
    vector ``a_k = h + Xi^T z_k``, and ``k -> z_k -> a_k`` are deterministic maps, so
    ``I(s;k) = I(s;z) = I(s;a)`` exactly, for the model's own latent density ``rho = sum_k w_k delta(z - z_k)``
    (atoms at the same point simply merge). It is therefore not a bound but the model's ``I(s;z)``; for atoms
    that discretise a continuous density (a grid, or draws from a VAE's aggregate posterior) it converges to that
    continuous model's ``I(s;z)`` as the atoms refine, and it never exceeds ``min(H(k), H(s))``. It is the rate
    ``E_s KL(p(z | s) || rho)`` of a VAE with this decoder and prior, the exact posterior as its encoder and this
    model's samples as data, i.e. the rate at which the ELBO is tight; the rate of any Gaussian encoder trained on
    data the model reproduces is ``>= I_q(X;Z)`` (:mod:`fastmf.exact.capacity`). Every bipartite
    ``I(A;B) <= I(s;z)`` by data processing (``s_A <- z -> s_B``), the capacity criterion at any N.

    Parameters
    ----------
    model : LatentMeanField
    n_samples : int
        Model samples (>= 2).
    seed : int, sequence of int or numpy.random.Generator
        The samples are those :func:`bipartite_information` draws with the same seed.

    Returns
    -------
    InformationEstimate
        One row; ``extra["atom_entropy"]`` is ``H(k)``.
    """
    _check_model(model)
    n = check_int("n_samples", n_samples, 2)
    sample_rng = as_generator(seed).spawn(2)[1]
    a = _field_table(model)
    w = model.weights
    log_w = np.log(np.maximum(w, 1e-300))
    h_k = float(-np.sum(w[w > 0] * np.log(w[w > 0])))
    norm = log_w - log2cosh(a).sum(axis=1)
    acc = _Moments(1)
    for s in _sample_blocks(model, n, sample_rng):
        lc = norm + s @ a.T
        lp = lc - logsumexp(lc, axis=1, keepdims=True)                        # ln p(k | s)
        h_post = -np.sum(np.exp(lp) * lp, axis=1)
        acc.add((h_k - h_post)[None])
    mean, se = acc.result()
    return InformationEstimate("I(s;atom)", ("I(s;atom)",), ((),), mean, se, n, model.N, {"atom_entropy": h_k})


# ---------------------------------------------------------------------------------------------------- helpers
class _Moments:
    """Running mean and variance of rows of per-sample values, merged block by block (Chan et al.), so memory does
    not grow with the number of samples."""

    def __init__(self, rows):
        self.n, self.mean, self.m2 = 0, np.zeros(rows), np.zeros(rows)

    def add(self, values):
        nb = values.shape[1]
        mb = values.mean(axis=1)
        m2b = ((values - mb[:, None]) ** 2).sum(axis=1)
        delta, total = mb - self.mean, self.n + nb
        self.mean = self.mean + delta * nb / total
        self.m2 = self.m2 + m2b + delta ** 2 * self.n * nb / total
        self.n = total

    def result(self):
        return self.mean.copy(), np.sqrt(self.m2 / (self.n - 1) / self.n)


def _log_mixture(x):
    """``ln sum_k exp(x_k)`` per row, overwriting x (a log-sum-exp without scipy's overhead and copies)."""
    top = x.max(axis=1)
    x -= top[:, None]
    np.exp(x, out=x)
    return top + np.log(x.sum(axis=1))


def _check_model(model):
    if not isinstance(model, LatentMeanField):
        raise TypeError(f"model must be a fastmf.decode.latent_model.LatentMeanField, got {type(model).__name__}")


def _field_table(model, n_cuts=0):
    """The (K, N) field vectors, after checking the memory of the estimate: the field table, its per-site log
    normalisers and transpose, the cuts' copies of it, a block of samples and a few (rows, K) tables."""
    K, N = model.n_atoms, model.N
    check_memory(8 * (K * N * (3 + n_cuts) + 2 * _CHUNK * N + 4 * _rows(model) * (N + K)),
                 f"information estimates of a {K}-atom model of {N} sites")
    return model.field_vectors()


def _rows(model):
    """Samples per block: ``_CHUNK``, fewer for many atoms, so a (rows, K) table stays near ``_TABLE`` entries."""
    return max(1, min(_CHUNK, _TABLE // max(model.n_atoms, model.N)))


def _sample_blocks(model, n, rng):
    """Exact samples (float64) in blocks: drawn ``_CHUNK`` at a time from ``rng`` (so they depend on the seed alone,
    not on the model's size) and handed out in blocks of :func:`_rows`."""
    step = _rows(model)
    for lo in range(0, n, _CHUNK):
        s = model.sample(min(_CHUNK, n - lo), seed=rng).astype(np.float64)
        for b in range(0, len(s), step):
            yield s[b:b + step]


def _parse_cuts(cuts, N, n_random, rng):
    if N < 2:
        raise ValueError(f"a bipartite information needs N >= 2 sites, got N = {N}")
    if isinstance(cuts, str):
        return half_cuts(N, cuts, n_random, rng)
    if isinstance(cuts, bytes) or not hasattr(cuts, "__iter__"):
        raise ValueError(f"cuts must be one of {_CUT_KINDS} or a list of site-index arrays (the A sides), "
                         f"got {cuts!r}")
    labels, out = [], []
    for j, c in enumerate(cuts):
        a = np.asarray(c)
        if isinstance(c, (str, bytes)) or a.ndim != 1 or (a.size and a.dtype.kind not in "iu"):
            raise ValueError(f"each cut must be a 1-D array of integer site indices (the A side), got {c!r}")
        if a.size and (a.min() < 0 or a.max() >= N):
            raise ValueError(f"cut {j + 1} has site indices outside [0, {N}): {a.tolist()[:10]}")
        if np.unique(a).size != a.size:
            raise ValueError(f"cut {j + 1} repeats sites: {a.tolist()[:10]}")
        if a.size == 0 or a.size == N:
            raise ValueError(f"cut {j + 1} must leave both sides non-empty (0 < |A| < N = {N}), got |A| = {a.size}")
        labels.append(f"cut {j + 1}")
        out.append(tuple(int(i) for i in np.sort(a)))
    if not out:
        raise ValueError("cuts is empty")
    return tuple(labels), tuple(out)
