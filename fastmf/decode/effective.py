"""Effective models written from a decoder read-off, fitted to data, saved to a file and sampled.

The generalized Hopfield model of unknown data (``generic_readoff``) is
``P(s) ~ exp(sum_i h_i s_i + (1/2N) sum_mu (xi^mu . s)**2)`` with real patterns xi (P', N): an Ising model with
couplings ``J = Xi^T Xi / N`` (the diagonal only adds a constant) and fields h, in units where beta = 1. It is
sampled with the spin-glass (dense graph) kernels, since its patterns are real; ±1 patterns (a Hopfield read-off)
would use the Hopfield kernels of ``fastmf.models.meanfield.Hopfield`` instead.

The decoder fixes the pattern *directions* (the span of its fields over latent draws) far better than their
scale: a trained VAE sharpens or blurs the latent distribution, and the scale read off the decoder's density can
be off by tens of per cent (1.5x on planted N = 20 data), which for an attractor model changes which states are
typical. :func:`fit_generalized_hopfield` therefore keeps the read-off directions and fits the fields and the
patterns within their span by exact maximum likelihood on the data. For P <= 2 patterns the partition function is
a P-dimensional integral (Hubbard-Stratonovich)::

    Z = (N / 2 pi)^(P/2) int dphi exp(-N |phi|^2 / 2) prod_i 2 cosh(h_i + xi_i . phi),

evaluated on a grid (the integrand is smooth and its peaks have width ~ 1/sqrt(N), resolved by the grid); the
log-likelihood is concave in (h, J) and its gradient is data moments minus model moments.

Whether the decoder's directions are the right ones can be checked exactly for N <= 16:
:func:`fit_generalized_hopfield_exact` maximises the likelihood over the whole family (fields and every pattern
component free, no span constraint) by enumerating the 2**N states. The likelihood is not concave in the patterns,
so that fit starts from a given model (e.g. the span fit) and finds the nearest local maximum; the gap between the
two log-likelihoods is what the span constraint costs.
"""
import dataclasses
import json
import math

import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp

from ..io.samples import atomic_savez, identify_npz, read_npz
from .common import log2cosh

__all__ = ["GeneralizedHopfield", "fit_generalized_hopfield", "fit_generalized_hopfield_exact",
           "MAX_EXACT_FIT_N"]

#: Largest N for :func:`fit_generalized_hopfield_exact` (every L-BFGS step touches all 2**N states).
MAX_EXACT_FIT_N = 16


@dataclasses.dataclass(frozen=True, eq=False)
class GeneralizedHopfield:
    """``P(s) ~ exp(sum_i h_i s_i + (1/2N) sum_mu (xi^mu . s)**2)`` (beta = 1).

    Attributes
    ----------
    fields : ndarray (N,)
    patterns : ndarray (P, N), real
    """

    fields: np.ndarray
    patterns: np.ndarray

    def __post_init__(self):
        h = np.asarray(self.fields, np.float64)
        xi = np.asarray(self.patterns, np.float64)
        if h.ndim != 1 or xi.ndim != 2 or xi.shape[1] != h.size or not (np.isfinite(h).all() and
                                                                       np.isfinite(xi).all()):
            raise ValueError(f"need finite fields (N,) and patterns (P, N), got {h.shape} and {xi.shape}")
        object.__setattr__(self, "fields", h)
        object.__setattr__(self, "patterns", xi)

    @classmethod
    def from_readoff(cls, readoff):
        """From a :class:`~fastmf.decode.readoff.GenericReadoff`: the density-fit fields and patterns when the fit
        was made, else the mean fields and the scaled principal directions."""
        if readoff.fit_patterns is not None and readoff.fields is not None:
            return cls(readoff.fields, readoff.fit_patterns)
        return cls(readoff.mean_fields, readoff.patterns)

    @property
    def N(self):
        return self.fields.size

    def energy(self, configs):
        """``-sum h s - (1/2N) sum_mu (xi^mu . s)**2`` of configurations (n, N) of ±1."""
        s = np.asarray(configs, np.float64).reshape(len(configs), -1)
        return -s @ self.fields - 0.5 * np.sum((s @ self.patterns.T) ** 2, axis=1) / self.N

    def couplings(self):
        J = self.patterns.T @ self.patterns / self.N
        np.fill_diagonal(J, 0.0)
        return J

    def as_spin_glass(self):
        """The same distribution as a :class:`fastmf.models.meanfield.GraphSpinGlass` (dense couplings), at T = 1."""
        from ..models.meanfield import GraphSpinGlass
        return GraphSpinGlass.from_dense(self.couplings(), self.fields, "generalized-hopfield",
                                          {"N": self.N, "P": len(self.patterns)})

    def sample(self, n_samples, seed=0, sampler="tempering", progress=False):
        """Equilibrium samples (a :class:`~fastmf.io.samples.SampleSet`) by parallel tempering (or ``mcmc``); a tqdm
        progress bar on stderr with ``progress``."""
        from ..sampling.meanfield import simulate_meanfield
        return simulate_meanfield(self.as_spin_glass(), 1.0, n_samples, seed=seed, sampler=sampler,
                                  progress=bool(progress))

    def sample_latent(self, n_samples, seed=0, n_grid=None, chunk=65_536):
        """Independent samples (int8 +-1, shape (n_samples, N)) through the Hubbard-Stratonovich latent, P <= 2.

        ``P(s) = int dphi w(phi) prod_i P(s_i | phi)`` with ``P(s_i = +1 | phi) = 1 / (1 + exp(-2 (h_i +
        xi_i . phi)))`` and ``w(phi) ~ exp(-N |phi|^2 / 2) prod_i 2 cosh(h_i + xi_i . phi)``: phi is drawn from
        ``w`` on a grid (uniform within the drawn cell), then every spin independently. No Markov chain, so
        no autocorrelation and no trapping in one of several states; the only approximation is the grid's
        (``n_grid`` points per latent dimension, default 2001 for P = 1 and 401 for P = 2, each cell much
        narrower than w's peaks, of width ~ 1/sqrt(N)). Cheap enough for 10^6 bins of hundreds of neurons.
        The result depends on the seed alone.
        """
        N = self.N
        n_samples = int(n_samples)
        if n_samples < 1:
            raise ValueError(f"n_samples must be >= 1, got {n_samples}")
        width, grid = self._latent_grid(n_grid)
        w = _log_partition(self.fields, self.patterns, grid)[1]
        rng = np.random.default_rng(seed)
        out = np.empty((n_samples, N), np.int8)
        for a in range(0, n_samples, int(chunk)):
            b = min(a + int(chunk), n_samples)
            phi = grid[:, rng.choice(w.size, size=b - a, p=w)] + width * (rng.random((len(grid), b - a)) - 0.5)
            field = self.fields + phi.T @ self.patterns                          # (b - a, N)
            up = rng.random((b - a, N)) * (1.0 + np.exp(-2.0 * field)) < 1.0     # P(+1) = 1 / (1 + e^{-2 field})
            out[a:b] = np.where(up, 1, -1)
        return out

    def _latent_grid(self, n_grid):
        """(cell width, product grid (P, n_grid**P)) of the Hubbard-Stratonovich integral."""
        P, N = self.patterns.shape
        if P > 2:
            raise ValueError(f"the latent integral is done on a grid for P <= 2 patterns, this model has P = {P}")
        n_grid = (2001 if P == 1 else 401) if n_grid is None else int(n_grid)
        if n_grid < 3:
            raise ValueError(f"n_grid must be >= 3, got {n_grid}")
        reach = np.abs(self.patterns).mean(axis=1).max() + 10.0 / math.sqrt(N)   # |phi*| <= mean |xi|
        axis, grid = _grid(reach, n_grid, P)
        return axis[1] - axis[0], grid

    def latent_density(self, n_grid=None):
        """The Hubbard-Stratonovich latent density on a grid, P <= 2: points (G, P) and probabilities (G,),
        ``w(phi) ~ exp(-N |phi|^2 / 2) prod_i 2 cosh(h_i + xi_i . phi)`` (``n_grid`` points per dimension,
        default 2001 for P = 1 and 401 for P = 2, cells much narrower than w's peaks of width ~ 1/sqrt(N))."""
        grid = self._latent_grid(n_grid)[1]
        return grid.T.copy(), _log_partition(self.fields, self.patterns, grid)[1]

    def log_partition(self, n_grid=None):
        """``ln Z`` by the Hubbard-Stratonovich integral on a grid (P <= 2),
        ``Z = (N / 2 pi)^(P/2) int dphi exp(-N |phi|^2 / 2) prod_i 2 cosh(h_i + xi_i . phi)``."""
        width, grid = self._latent_grid(n_grid)
        P = len(self.patterns)
        return float(_log_partition(self.fields, self.patterns, grid)[0] + P * math.log(width) +
                     0.5 * P * math.log(self.N / (2.0 * math.pi)))

    def log_prob(self, configs, n_grid=None):
        """Exact ``ln P(s)`` (up to the grid of :meth:`log_partition`) of configurations (n, N) of +-1."""
        return -self.energy(configs) - self.log_partition(n_grid)

    def save(self, path):
        """One ``.npz`` (atomic): ``fields``, ``patterns`` and a JSON description."""
        meta = {"model": "generalized-hopfield", "energy": "-sum h s - (1/2N) sum_mu (xi^mu . s)^2, beta = 1"}
        return atomic_savez(path, fields=self.fields, patterns=self.patterns, metadata=np.array(json.dumps(meta)))

    @classmethod
    def load(cls, path):
        """Read a model written by :meth:`save`: ValueError naming the file and the problem for any other file
        (another fastmf file, an empty, damaged or non-``.npz`` one, wrong metadata, arrays of the wrong shape or
        type, NaN or infinite values), FileNotFoundError when there is none."""
        arrays, meta = read_npz(path, ("fields", "patterns"), "generalized Hopfield")
        if meta and meta.get("model") != "generalized-hopfield":
            kind = identify_npz(set(arrays) | {"metadata"}, {"metadata": meta})
            raise ValueError(f"{str(path)!r} is {kind or 'another kind of file'} (model "
                             f"{meta.get('model')!r}), not a fastmf generalized Hopfield file")
        fields, patterns = arrays["fields"], arrays["patterns"]
        if fields.dtype.kind not in "iuf" or patterns.dtype.kind not in "iuf":
            raise ValueError(f"{str(path)!r} is damaged: fields and patterns must be real numbers, found dtypes "
                             f"{fields.dtype} and {patterns.dtype}")
        try:
            return cls(fields, patterns)
        except ValueError as exc:
            raise ValueError(f"{str(path)!r} is not a valid generalized Hopfield file: {exc}") from None


def _grid(reach, n_grid, P):
    """The axis and the product grid (P, n_grid**P) of the latent integral over ``[-reach, reach]**P``."""
    axis = np.linspace(-reach, reach, n_grid)
    return axis, np.array(np.meshgrid(*(axis,) * P, indexing="ij")).reshape(P, -1)


def _log_partition(h, xi, grid):
    """``log Z`` and the model means ``<s_i>`` and ``<s_i phi>`` on the product grid (P, G**P points)."""
    N = h.size
    a = h[:, None] + xi.T @ grid                                   # (N, G**P)
    logw = -0.5 * N * np.sum(grid * grid, axis=0) + np.sum(log2cosh(a), axis=0)
    lz = logsumexp(logw)
    w = np.exp(logw - lz)
    t = np.tanh(a)
    return lz, w, t, t @ w, (t * w) @ grid.T                        # (), (G**P,), (N, G**P), (N,), (N, P)


def fit_generalized_hopfield(spins, directions, fields=None, patterns=None, *, n_grid=None, max_iter=500):
    """Maximum-likelihood generalized Hopfield model with patterns in a given span (P <= 2).

    Parameters
    ----------
    spins : array (n, N) of +-1
        Training data.
    directions : array (P, N)
        Pattern directions (e.g. a read-off's patterns); the fitted patterns are ``A @ V`` with V an orthonormal
        basis of their span and A (P, P) fitted.
    fields, patterns : array, optional
        Starting point (default: independent-model fields, the directions scaled to unit mean square).
    n_grid : int, optional
        Grid points per latent dimension (default 2001 for P = 1, 201 for P = 2).
    max_iter : int

    Returns
    -------
    (GeneralizedHopfield, dict)
        The model and a summary: log-likelihood per sample, iterations, convergence, largest gradient, and the
        grid's edge mass (must be negligible).
    """
    s = np.asarray(spins, dtype=np.float64)
    if s.ndim != 2 or s.shape[0] < 2 or not np.isin(s, (-1.0, 1.0)).all():
        raise ValueError(f"spins must be a (n >= 2, N) array of +-1, got shape {s.shape}")
    n, N = s.shape
    D = np.atleast_2d(np.asarray(directions, dtype=np.float64))
    if D.shape[1] != N or not 1 <= D.shape[0] <= 2 or not np.isfinite(D).all():
        raise ValueError(f"directions must be (P <= 2, {N}) finite, got {D.shape}")
    V = np.linalg.qr(D.T)[0].T                                       # (P, N) orthonormal rows
    P = V.shape[0]
    m = s.mean(axis=0)
    C = (s @ V.T).T @ (s @ V.T) / n                                  # E[(V s)(V s)^T], (P, P)
    h0 = np.arctanh(np.clip(m, -0.999, 0.999)) if fields is None else np.asarray(fields, np.float64)
    xi0 = D * math.sqrt(N) / np.linalg.norm(D, axis=1, keepdims=True) if patterns is None else \
        np.asarray(patterns, np.float64)
    A0 = xi0 @ V.T                                                   # (P, P): xi0 projected on the span
    n_grid = (2001 if P == 1 else 201) if n_grid is None else int(n_grid)
    reach = 2.0 * np.abs(A0).sum() / math.sqrt(N) + 10.0 / math.sqrt(N)  # |phi*| <= rms(xi); margin for width
    axis, grid = _grid(reach, n_grid, P)

    def negloglik(theta):
        h, A = theta[:N], theta[N:].reshape(P, P)
        lz, _, _, mean_s, mean_sphi = _log_partition(h, A @ V, grid)
        ll = h @ m + 0.5 * np.sum((A.T @ A) * C) / N - lz            # + const (grid cell, (N/2pi)^(P/2))
        grad_h = m - mean_s
        grad_A = A @ C / N - mean_sphi.T @ V.T                       # d/dA of the data term and of log Z
        return -ll, -np.concatenate([grad_h, grad_A.ravel()])

    res = minimize(negloglik, np.concatenate([h0, A0.ravel()]), jac=True, method="L-BFGS-B",
                   options={"maxiter": int(max_iter), "gtol": 1e-9})
    h, A = res.x[:N], res.x[N:].reshape(P, P)
    lz, w, _, _, _ = _log_partition(h, A @ V, grid)
    edge = np.isclose(np.abs(grid), reach).any(axis=0)
    const = P * math.log(axis[1] - axis[0]) + 0.5 * P * math.log(N / (2.0 * math.pi))
    info = {"log_likelihood_per_sample": float(-res.fun - const), "iterations": int(res.nit),
            "converged": bool(res.success), "max_gradient": float(np.abs(res.jac).max()),
            "grid_edge_mass": float(w[edge].sum()), "n_grid": n_grid, "P": P}
    return GeneralizedHopfield(h, A @ V), info


def fit_generalized_hopfield_exact(spins, start, *, max_iter=3000):
    """Maximum-likelihood generalized Hopfield model over the whole family (fields and patterns free), N <= 16.

    Exact: the partition function and the model moments are sums over all 2**N states. The log-likelihood
    ``h . <s> + (1/2N) sum_mu xi^mu . <s s^T> xi^mu - ln Z`` is not concave in the patterns, so the fit climbs
    from ``start`` (e.g. :func:`fit_generalized_hopfield`'s span fit) to the nearest local maximum.

    Parameters
    ----------
    spins : array (n, N) of +-1
    start : GeneralizedHopfield
        Starting point; its number of patterns is kept.
    max_iter : int

    Returns
    -------
    (GeneralizedHopfield, dict)
        The model and a summary: log-likelihood per sample (exact, the same normalisation as
        :func:`fit_generalized_hopfield`'s), the start's, iterations, convergence, largest gradient.
    """
    from ..exact.enumeration import all_spins
    s = np.asarray(spins, dtype=np.float64)
    if s.ndim != 2 or s.shape[0] < 2 or not np.isin(s, (-1.0, 1.0)).all():
        raise ValueError(f"spins must be a (n >= 2, N) array of +-1, got shape {s.shape}")
    n, N = s.shape
    if not isinstance(start, GeneralizedHopfield) or start.N != N:
        raise ValueError(f"start must be a GeneralizedHopfield with N = {N}")
    if N > MAX_EXACT_FIT_N:
        raise ValueError(f"the exact fit enumerates 2**N states: N = {N} exceeds {MAX_EXACT_FIT_N}")
    P = len(start.patterns)
    S = all_spins(N)
    keys = ((s > 0).astype(np.int64) << np.arange(N)).sum(axis=1)   # all_spins' row index of each bin
    freq = np.bincount(keys, minlength=2 ** N) / n

    def negloglik(theta):
        h, xi = theta[:N], theta[N:].reshape(P, N)
        proj = S @ xi.T                                               # (2**N, P)
        logw = S @ h + 0.5 * np.sum(proj * proj, axis=1) / N
        lz = logsumexp(logw)
        resid = freq - np.exp(logw - lz)                              # data minus model probabilities
        grad = np.concatenate([S.T @ resid, ((proj * resid[:, None]).T @ S).ravel() / N])
        return lz - freq @ logw, -grad

    theta0 = np.concatenate([start.fields, start.patterns.ravel()])
    f0 = negloglik(theta0)[0]
    res = minimize(negloglik, theta0, jac=True, method="L-BFGS-B",
                   options={"maxiter": int(max_iter), "gtol": 1e-8, "ftol": 1e-15})
    model = GeneralizedHopfield(res.x[:N], res.x[N:].reshape(P, N))
    info = {"log_likelihood_per_sample": float(-res.fun), "start_log_likelihood_per_sample": float(-f0),
            "iterations": int(res.nit), "converged": bool(res.success),
            "max_gradient": float(np.abs(res.jac).max()), "P": P}
    return model, info
