"""The latent mean-field model: a finite mixture of independent-spin models whose fields lie in a P-dimensional
affine subspace, ``p(s) = sum_k w_k prod_i exp(a_ki s_i) / 2cosh(a_ki)`` with ``a_k = h + Xi^T z_k``.

The atoms ``z_k`` (K, P) and weights ``w_k`` are the latent density rho; the fields h (N,) and directions Xi
(P, N) map it to per-site fields. Because the model is a finite mixture, everything is exact at any N: the
log-probability of a configuration, the marginal of any subset of sites, the moments, the distribution of the
number of spikes, and i.i.d. samples (draw an atom, then every spin). The generalized Hopfield model
(:class:`fastmf.decode.effective.GeneralizedHopfield`) is the case of a Gaussian potential, a grid mixture here
(:meth:`LatentMeanField.from_generalized_hopfield`); ``docs/latent_model.rst`` has the derivation. Spins are
+-1 with spike = +1.
"""
import dataclasses
import json

import numpy as np

from .._version import __version__
from ..io.files import check_memory
from ..io.samples import atomic_savez, identify_npz, read_npz
from ..kernels.validation import check_int
from ..stats.exact_population import mixture_statistics, poisson_binomial_mixture
from .common import as_generator, log2cosh

__all__ = ["LatentMeanField", "as_spins"]

_FORMAT = "fastmf.LatentMeanField"
_FORMULA = "p(s) = sum_k w_k prod_i exp(a_ki s_i) / (2 cosh a_ki), a_k = h + Xi^T z_k, s = +-1 (spike = +1)"
_ROWS = 8192  # configurations per block of the (rows, K) log-likelihood table ...
_TABLE = 1 << 21  # ... and at most about this many entries in it (16 MiB)


def as_spins(configs, N=None, what="configs"):
    """Validated configurations as a float64 (n, N) array of +-1 (one configuration (N,) becomes (1, N))."""
    s = np.asarray(configs)
    s = s.reshape(1, -1) if s.ndim == 1 else s
    if s.ndim != 2 or (N is not None and s.shape[1] != N) or s.shape[1] < 1:
        want = f"(n, {N}) (or ({N},))" if N is not None else "(n, N)"
        raise ValueError(f"{what} must have shape {want}, got {np.shape(configs)}")
    if s.dtype == object or s.dtype.kind not in "biuf" or not np.isin(s, (-1, 1)).all():
        raise ValueError(f"{what} must be +-1 (spike = +1); convert 0/1 rasters with 2 x - 1")
    return s.astype(np.float64)


@dataclasses.dataclass(frozen=True, eq=False)
class LatentMeanField:
    """``p(s) = sum_k w_k prod_i exp(a_ki s_i) / 2cosh(a_ki)``, ``a_k = h + Xi^T z_k``.

    Attributes
    ----------
    fields : ndarray (N,)
        h.
    directions : ndarray (P, N)
        Xi, the latent directions (rows).
    atoms : ndarray (K, P)
        The latent points z_k.
    weights : ndarray (K,)
        Their probabilities (normalised on construction; zero weights allowed).
    """

    fields: np.ndarray
    directions: np.ndarray
    atoms: np.ndarray
    weights: np.ndarray

    def __post_init__(self):
        h = np.array(self.fields, dtype=np.float64)
        xi = np.array(self.directions, dtype=np.float64)
        z = np.array(self.atoms, dtype=np.float64)
        w = np.array(self.weights, dtype=np.float64)
        if h.ndim != 1 or h.size < 1:
            raise ValueError(f"fields must be a 1-D array of N >= 1 values, got shape {h.shape}")
        if xi.ndim != 2 or xi.shape[1] != h.size or xi.shape[0] < 1:
            raise ValueError(f"directions must have shape (P >= 1, N = {h.size}), got {xi.shape}")
        if z.ndim != 2 or z.shape[1] != xi.shape[0] or z.shape[0] < 1:
            raise ValueError(f"atoms must have shape (K >= 1, P = {xi.shape[0]}), got {z.shape}")
        if w.shape != (z.shape[0],):
            raise ValueError(f"weights must have shape (K,) = ({z.shape[0]},), got {w.shape}")
        for name, a in (("fields", h), ("directions", xi), ("atoms", z), ("weights", w)):
            if not np.isfinite(a).all():
                raise ValueError(f"{name} must be finite (no NaN or inf)")
        if (w < 0).any() or w.sum() <= 0:
            raise ValueError("weights must be non-negative with a positive sum")
        w = w / w.sum()
        for name, a in (("fields", h), ("directions", xi), ("atoms", z), ("weights", w)):
            a.setflags(write=False)
            object.__setattr__(self, name, a)

    # ------------------------------------------------------------------------------------------ shape
    @property
    def N(self):
        return self.fields.size

    @property
    def P(self):
        return self.directions.shape[0]

    @property
    def n_atoms(self):
        return self.atoms.shape[0]

    def field_vectors(self):
        """The atoms' per-site fields ``a_k = h + Xi^T z_k``, shape (K, N)."""
        return self.fields + self.atoms @ self.directions

    def canonical(self):
        """The same distribution with orthonormal directions and latent mean zero (the freedom z -> A z + b fixed):
        directions V (orthonormal rows spanning Xi's), fields ``h + Xi^T E[z]`` (the mean field vector) and
        atoms ``(z - E[z]) Xi V^T``. Directions of zero norm are dropped (at least one is kept)."""
        zbar = self.weights @ self.atoms
        u, sv, vt = np.linalg.svd(self.directions, full_matrices=False)
        keep = max(1, int(np.sum(sv > 1e-12 * max(sv.max(), 1e-300))))
        V = vt[:keep]
        return LatentMeanField(self.fields + zbar @ self.directions, V, (self.atoms - zbar) @ self.directions @ V.T,
                               self.weights)

    # ------------------------------------------------------------------------------------------ exact
    def _log_components(self, s, sites):
        """``log w_k + log p(s_sites | z_k)`` for configurations s (n, |sites|): (n, K)."""
        a = self.field_vectors()[:, sites]                                   # (K, m)
        return np.log(np.maximum(self.weights, 1e-300)) - log2cosh(a).sum(axis=1) + s @ a.T

    def log_prob(self, configs, sites=None):
        """Exact ``ln p(s)`` of configurations (n, N) of +-1, float64 (n,).

        With ``sites`` (indices into the N sites), configs are (n, len(sites)) and the result is the exact
        marginal ``ln p(s_sites)`` (the other sites summed out, which for an independent-spin component is just
        leaving them out).
        """
        idx = np.arange(self.N) if sites is None else _sites(sites, self.N)
        s = as_spins(configs, idx.size)
        rows = max(1, min(_ROWS, _TABLE // self.n_atoms))                    # many atoms: fewer rows per block
        check_memory(8 * min(len(s), rows) * (self.n_atoms + idx.size), "the latent model's log-probabilities")
        out = np.empty(len(s))
        for a in range(0, len(s), rows):
            out[a:a + rows] = _logsumexp_rows(self._log_components(s[a:a + rows], idx))
        return out

    def posterior(self, configs):
        """``p(k | s)``, the atoms' posterior probabilities given configurations (n, N): (n, K)."""
        s = as_spins(configs, self.N)
        check_memory(24 * len(s) * self.n_atoms, "the latent model's posterior probabilities")
        lc = self._log_components(s, np.arange(self.N))
        return np.exp(lc - _logsumexp_rows(lc.copy())[:, None])

    def log_likelihood(self, configs):
        """Mean exact log-likelihood per configuration (nats)."""
        return float(np.mean(self.log_prob(configs)))

    def means(self):
        """Exact ``<s_i>``, shape (N,)."""
        return self.weights @ np.tanh(self.field_vectors())

    def second_moments(self):
        """Exact ``<s_i s_j>``, shape (N, N) (ones on the diagonal)."""
        t = np.tanh(self.field_vectors())
        C = (t * self.weights[:, None]).T @ t
        np.fill_diagonal(C, 1.0)
        return C

    def spike_count_distribution(self):
        """Exact P(K), K = 0..N spikes (sites at +1): a weighted sum of the atoms' Poisson-binomial
        distributions (one pass over the sites per atom)."""
        return poisson_binomial_mixture(self.weights, 0.5 * (1.0 + np.tanh(self.field_vectors())))

    def statistics(self, triples=2000, seed=0):
        """Exact population statistics (rates, covariances, correlation coefficients, connected triplets and
        P(K) in spike units, zero errors): :func:`fastmf.stats.exact_population.mixture_statistics`."""
        return mixture_statistics(self.weights, 0.5 * (1.0 + np.tanh(self.field_vectors())), triples=triples,
                                  seed=seed)

    def sample(self, n_samples, seed=0, return_atoms=False, chunk=65_536):
        """Exact i.i.d. configurations, int8 +-1 (n_samples, N): an atom from the weights, then each spin with
        ``P(s_i = +1) = 1 / (1 + exp(-2 a_ki))``. No Markov chain. The result depends on the seed alone
        (an int or a ``numpy.random.Generator``); ``return_atoms`` also returns the atoms' indices (n_samples,)."""
        n = check_int("n_samples", n_samples, 1)
        check_memory(n * self.N + 8 * n, "the latent model's samples")
        rng = as_generator(seed)
        a = self.field_vectors()
        k = rng.choice(self.n_atoms, size=n, p=self.weights)
        out = np.empty((n, self.N), np.int8)
        for lo in range(0, n, int(chunk)):
            hi = min(lo + int(chunk), n)
            up = rng.random((hi - lo, self.N)) * (1.0 + np.exp(-2.0 * a[k[lo:hi]])) < 1.0
            out[lo:hi] = np.where(up, 1, -1)
        return (out, k) if return_atoms else out

    # ------------------------------------------------------------------------------------------ other forms
    @classmethod
    def from_generalized_hopfield(cls, model, n_grid=None):
        """The generalized Hopfield model ``P(s) ~ exp(h.s + (1/2N) sum_mu (xi^mu . s)^2)`` (P <= 2) as a latent
        mean-field model: its Hubbard-Stratonovich density on a grid (``n_grid`` points per dimension,
        :meth:`fastmf.decode.effective.GeneralizedHopfield.latent_density`), exact up to the grid."""
        points, weights = model.latent_density(n_grid)
        keep = weights > 1e-14 * weights.max()
        return cls(model.fields, model.patterns, points[keep], weights[keep])

    # ------------------------------------------------------------------------------------------ files
    def to_dict(self):
        """JSON-serialisable description: the formula and every array as lists."""
        return {"model": "latent-mean-field", "formula": _FORMULA, "N": self.N, "P": self.P,
                "n_atoms": self.n_atoms, "fields": self.fields.tolist(), "directions": self.directions.tolist(),
                "atoms": self.atoms.tolist(), "weights": self.weights.tolist()}

    def save(self, path):
        """Write ``fields``, ``directions``, ``atoms``, ``weights`` and a JSON ``metadata`` string (.npz,
        atomically); returns the path. :meth:`load` reads it back."""
        meta = {"format": _FORMAT, "model": "latent-mean-field", "fastmf_version": __version__, "formula": _FORMULA,
                "N": self.N, "P": self.P, "n_atoms": self.n_atoms}
        return atomic_savez(path, fields=self.fields, directions=self.directions, atoms=self.atoms,
                            weights=self.weights, metadata=np.array(json.dumps(meta, sort_keys=True)))

    @classmethod
    def load(cls, path):
        """Read a model written by :meth:`save`: ValueError naming the file and the problem for any other file,
        FileNotFoundError when there is none."""
        names = ("fields", "directions", "atoms", "weights")
        arrays, meta = read_npz(path, names + ("metadata",), "latent mean-field model")
        if meta.get("format") != _FORMAT:
            kind = identify_npz(set(arrays) | {"metadata"}, {"metadata": meta})
            raise ValueError(f"{str(path)!r} is {kind or 'another kind of file'} (format {meta.get('format')!r}), "
                             f"not a fastmf latent mean-field model")
        bad = [k for k in names if arrays[k].dtype.kind not in "iuf"]
        if bad:
            raise ValueError(f"{str(path)!r} is damaged: {', '.join(bad)} must be real numbers")
        try:
            return cls(*(arrays[k] for k in names))
        except ValueError as exc:
            raise ValueError(f"{str(path)!r} is not a valid latent mean-field model: {exc}") from None


def _logsumexp_rows(x):
    """``logsumexp(x, axis=1)`` of a finite table, overwriting x (scipy's is ~20x slower on wide tables)."""
    top = x.max(axis=1)
    x -= top[:, None]
    np.exp(x, out=x)
    return top + np.log(x.sum(axis=1))


def _sites(sites, N):
    idx = np.asarray(sites)
    if idx.ndim != 1 or idx.size < 1 or idx.dtype.kind not in "iu":
        raise ValueError(f"sites must be a non-empty 1-D array of site indices, got {np.shape(sites)} "
                         f"({idx.dtype})")
    if idx.min() < 0 or idx.max() >= N or np.unique(idx).size != idx.size:
        raise ValueError(f"sites must be distinct indices in [0, {N}), got {idx.tolist()[:10]}")
    return idx.astype(np.int64)
