"""Fully connected ("mean-field") and graph models, their Markov-chain samplers, and ``simulate_meanfield``.

Conventions (energies; configurations have shape (n, N), or (n, N, 3) for continuous Maier-Saupe):

* :class:`CurieWeiss`: ``E = -(J/2N) M**2 - h M``, ``M = sum_i s_i``, spins int8 +-1.
* :class:`Hopfield`: ``E = -(J/2N) sum_mu (xi^mu . s)**2 - h sum_i s_i`` with patterns ``xi`` int8 +-1 of
  shape (P, N). The self-coupling is *included*; it only adds the constant ``-J P / 2``, so the Boltzmann
  distribution is the one without it, and every exact result here uses this same energy.
* :class:`MeanFieldPotts`: ``E = -(J/2N) sum_k n_k**2 - h n_0``, states uint8 ``0..q-1``.
* :class:`MaierSaupe`: ``E = -(J/2N) sum_ij P2(u_i . u_j)`` (self terms included), unit vectors ``u ~ -u``
  (float64), or axis indices (uint8) into a given set of unit axes for the discretised variant.
* :class:`GraphSpinGlass`: ``E = -sum_{i<j} J_ij s_i s_j - sum_i h_i s_i`` on a CSR graph: the
  Sherrington-Kirkpatrick model (complete graph, ``J_ij ~ N(0, J**2 / N)`` or ``+-J / sqrt(N)``) and the
  sparse Edwards-Anderson model (random regular graph of degree ``c``, ``+-J`` or Gaussian couplings).

Samplers (``simulate_meanfield(..., sampler=...)``): ``"latent"`` draws exact i.i.d. equilibrium samples
through the Hubbard-Stratonovich latent (Curie-Weiss, Hopfield, mean-field Potts, Maier-Saupe): every
symmetric basin is represented. ``"tempering"`` runs parallel tempering; ``"mcmc"`` plain single-site
chains (which stay in one basin at low temperature). ``"auto"`` (the default) is the latent sampler where
it applies and tempering otherwise. The sampler that made a file is recorded in its metadata.
"""
import dataclasses
import math

import numpy as np

from ..io.files import check_memory
from ..kernels import maier_saupe_cpu as _ms
from ..kernels import meanfield_cpu as _mf
from ..kernels.philox import check_seed
from ..kernels.validation import check_int, check_real
from .lattice import random_configurations

__all__ = ["CurieWeiss", "Hopfield", "MeanFieldPotts", "MaierSaupe", "GraphSpinGlass"]


#: Peak bytes per (i, j) pair of the dense coupling matrices that :meth:`GraphSpinGlass.sk` and
#: :meth:`GraphSpinGlass.ea` build (draw, symmetrise, find the nonzero entries).
_DENSE_BYTES_PER_PAIR = 48


class _Model:
    """Shared behaviour: observables for thinning, metadata."""

    dtype = np.int8
    latent = True          # has an exact latent sampler
    order_parameter_name = "magnetization"

    @property
    def shape(self):
        return (self.N,)

    def observables(self, configs):
        out = {"energy": self.energy(configs)}
        m = np.asarray(self.order_parameter(configs), dtype=np.float64)
        if m.ndim == 1:
            out["abs_order"] = np.abs(m)
            out["signed_order"] = m
        else:  # several overlaps: the largest |m_mu| and each signed one
            out["abs_order"] = np.abs(m).max(axis=1)
            for mu in range(m.shape[1]):
                out[f"signed_order_{mu}"] = m[:, mu]
        return out

    def to_metadata(self):
        meta = {"model": self.name, "N": self.N}
        meta.update({k: v for k, v in self._params().items()})
        return meta

    def _params(self):
        return {}


def _binary(configs, N):
    s = np.asarray(configs)
    if s.ndim != 2 or s.shape[1] != N:
        raise ValueError(f"configurations must have shape (n, {N}), got {s.shape}")
    return s.astype(np.int64)


def _magnetization(configs, N):
    """``sum_i s_i`` per configuration (int64), without an int64 copy of the configurations."""
    s = np.asarray(configs)
    if s.ndim != 2 or s.shape[1] != N:
        raise ValueError(f"configurations must have shape (n, {N}), got {s.shape}")
    return s.sum(axis=1, dtype=np.int64)


@dataclasses.dataclass(frozen=True, eq=False)
class CurieWeiss(_Model):
    """Curie-Weiss model ``E = -(J/2N) M**2 - h M``."""

    N: int
    J: float = 1.0
    h: float = 0.0
    name = "curie-weiss"

    def __post_init__(self):
        object.__setattr__(self, "N", check_int("N", self.N, 2))
        object.__setattr__(self, "J", check_real("J", self.J))
        object.__setattr__(self, "h", check_real("h", self.h))

    @property
    def patterns(self):
        return np.ones((1, self.N), np.int8)

    def energy(self, configs):
        M = _magnetization(configs, self.N)
        return -(self.J / (2.0 * self.N)) * M.astype(np.float64) ** 2 - self.h * M

    def order_parameter(self, configs):
        return _magnetization(configs, self.N) / self.N

    def _params(self):
        return {"J": self.J, "h": self.h}


@dataclasses.dataclass(frozen=True, eq=False)
class Hopfield(_Model):
    """Hopfield model with patterns ``xi`` (P, N) of +-1, ``1 <= P < N`` (see the module docstring)."""

    patterns: np.ndarray
    J: float = 1.0
    h: float = 0.0
    pattern_seed: int = None
    name = "hopfield"
    order_parameter_name = "overlaps"

    def __post_init__(self):
        xi = np.asarray(self.patterns)
        if xi.ndim != 2:
            raise ValueError(f"patterns must have shape (P, N), got {xi.shape}")
        if not np.all((xi == 1) | (xi == -1)):
            raise ValueError("patterns must contain only -1 and +1")
        if not 1 <= xi.shape[0] < xi.shape[1]:
            raise ValueError(f"need 1 <= P < N patterns, got P={xi.shape[0]}, N={xi.shape[1]}")
        xi = np.ascontiguousarray(xi, dtype=np.int8)
        xi.setflags(write=False)
        object.__setattr__(self, "patterns", xi)
        object.__setattr__(self, "J", check_real("J", self.J))
        object.__setattr__(self, "h", check_real("h", self.h))

    @classmethod
    def random(cls, N, P, seed=0, J=1.0, h=0.0):
        """``P`` random +-1 patterns of length ``N`` from the Philox generator keyed by ``seed``."""
        N, P = check_int("N", N, 2), check_int("P", P, 1)
        xi = random_configurations(P, (N,), 2, check_seed(seed))
        return cls(xi, J=J, h=h, pattern_seed=int(seed))

    @property
    def N(self):
        return self.patterns.shape[1]

    @property
    def P(self):
        return self.patterns.shape[0]

    def energy(self, configs):
        s = _binary(configs, self.N)
        overlaps = s @ self.patterns.T.astype(np.int64)
        return _mf.lowrank_energy(overlaps, s.sum(axis=1), self.N, self.J, self.h)

    def order_parameter(self, configs):
        return (_binary(configs, self.N) @ self.patterns.T.astype(np.int64)) / self.N

    def _params(self):
        return {"P": self.P, "J": self.J, "h": self.h, "pattern_seed": self.pattern_seed}


@dataclasses.dataclass(frozen=True, eq=False)
class MeanFieldPotts(_Model):
    """Mean-field q-state Potts model ``E = -(J/2N) sum_k n_k**2 - h n_0``."""

    N: int
    q: int = 3
    J: float = 1.0
    h: float = 0.0
    name = "potts"
    dtype = np.uint8
    order_parameter_name = "order_parameter"

    def __post_init__(self):
        object.__setattr__(self, "N", check_int("N", self.N, 2))
        object.__setattr__(self, "q", check_int("q", self.q, 2, 255))
        object.__setattr__(self, "J", check_real("J", self.J))
        object.__setattr__(self, "h", check_real("h", self.h))

    def counts(self, configs):
        s = np.asarray(configs)
        if s.ndim != 2 or s.shape[1] != self.N:
            raise ValueError(f"configurations must have shape (n, {self.N}), got {s.shape}")
        return _mf.compute_counts(s, self.q)

    def energy(self, configs):
        return _mf.potts_mf_energy(self.counts(configs), self.N, self.J, self.h)

    def order_parameter(self, configs):
        """``(q max_k n_k / N - 1) / (q - 1)``: 0 balanced, 1 ordered."""
        return (self.q * self.counts(configs).max(axis=1) / self.N - 1.0) / (self.q - 1.0)

    def observables(self, configs):
        return {"energy": self.energy(configs), "order": self.order_parameter(configs),
                "signed_n0": self.counts(configs)[:, 0].astype(np.float64)}

    def _params(self):
        return {"q": self.q, "J": self.J, "h": self.h}


@dataclasses.dataclass(frozen=True, eq=False)
class MaierSaupe(_Model):
    """Maier-Saupe nematic model of N unit vectors (``axes=None``) or of axis indices into ``axes`` (D, 3)."""

    N: int
    J: float = 1.0
    axes: np.ndarray = None
    name = "maier-saupe"
    order_parameter_name = "S"

    def __post_init__(self):
        object.__setattr__(self, "N", check_int("N", self.N, 2))
        object.__setattr__(self, "J", check_real("J", self.J))
        if self.axes is not None:
            axes = np.ascontiguousarray(self.axes, dtype=np.float64)
            if axes.ndim != 2 or axes.shape[1] != 3 or not 2 <= axes.shape[0] <= 255:
                raise ValueError(f"axes must have shape (D, 3) with 2 <= D <= 255, got {axes.shape}")
            if not np.allclose(np.linalg.norm(axes, axis=1), 1.0, atol=1e-9):
                raise ValueError("axes must be unit vectors")
            axes.setflags(write=False)
            object.__setattr__(self, "axes", axes)

    @property
    def dtype(self):
        return np.float64 if self.axes is None else np.uint8

    @property
    def shape(self):
        return (self.N, 3) if self.axes is None else (self.N,)

    def vectors(self, configs):
        c = np.asarray(configs)
        if self.axes is not None:
            return self.axes[c.astype(np.int64)]
        return c

    def tensor(self, configs):
        """``A = sum_i u_i u_i^T`` per configuration, (n, 3, 3)."""
        return _ms.ms_tensor(self.vectors(configs))

    def energy(self, configs):
        A = self.tensor(configs)
        return -(self.J / (2.0 * self.N)) * (1.5 * np.einsum("nab,nab->n", A, A) - 0.5 * self.N ** 2)

    def order_parameter(self, configs):
        Q = (3.0 * self.tensor(configs) / self.N - np.eye(3)) / 2.0
        return np.linalg.eigvalsh(Q)[:, -1]

    def observables(self, configs):
        return {"energy": self.energy(configs), "S": self.order_parameter(configs)}

    def _params(self):
        return {"J": self.J, "axes": None if self.axes is None else self.axes.tolist()}


@dataclasses.dataclass(frozen=True, eq=False)
class GraphSpinGlass(_Model):
    """Ising spin glass on a CSR graph (symmetric weights, no self loops) with site fields."""

    indptr: np.ndarray
    indices: np.ndarray
    weights: np.ndarray
    fields: np.ndarray
    name: str = "sk"
    description: dict = None
    latent = False

    def __post_init__(self):
        N = len(self.indptr) - 1
        fields = np.broadcast_to(np.asarray(self.fields, dtype=np.float64), (N,)).copy()
        ones = np.ones((1, N), np.int8)
        lf = _mf.compute_local_fields(ones, self.indptr, self.indices, self.weights) if N > 0 else np.zeros((1, 0))
        _, ip, ix, w, f, _ = _mf.validate_glass(ones, self.indptr, self.indices, self.weights, fields, lf)
        for name, value in (("indptr", ip), ("indices", ix), ("weights", w), ("fields", f)):
            value = np.array(value)
            value.setflags(write=False)
            object.__setattr__(self, name, value)

    @classmethod
    def sk(cls, N, J=1.0, h=0.0, couplings="gaussian", seed=0):
        """Sherrington-Kirkpatrick: all pairs, ``J_ij ~ N(0, J**2/N)`` or ``+-J/sqrt(N)``."""
        N = check_int("N", N, 2)
        check_memory(_DENSE_BYTES_PER_PAIR * N * N, f"the dense couplings of an SK model of N={N} spins")
        rng = np.random.Generator(np.random.Philox(check_seed(seed)))
        W = _draw_couplings(rng, couplings, (N, N), J / math.sqrt(N))
        W = np.triu(W, 1)
        W = W + W.T
        return cls.from_dense(W, h, "sk", dict(N=N, J=J, h=h, couplings=couplings, seed=seed))

    @classmethod
    def ea(cls, N, degree=3, J=1.0, h=0.0, couplings="pm", seed=0):
        """Sparse Edwards-Anderson on a random ``degree``-regular graph (configuration model, resampled until
        simple), couplings ``+-J`` or ``N(0, J**2)``."""
        N, degree = check_int("N", N, 2), check_int("degree", degree, 1)
        if degree >= N or (N * degree) % 2:
            raise ValueError(f"a {degree}-regular graph on N={N} sites needs degree < N and N*degree even")
        check_memory(_DENSE_BYTES_PER_PAIR * N * N, f"the coupling matrix of an Edwards-Anderson graph of N={N} "
                                                    "sites (built dense)")
        rng = np.random.Generator(np.random.Philox(check_seed(seed)))
        for _ in range(1000):
            stubs = rng.permutation(np.repeat(np.arange(N), degree)).reshape(-1, 2)
            a, b = stubs.min(axis=1), stubs.max(axis=1)
            if np.all(a != b) and len(set(zip(a.tolist(), b.tolist()))) == len(a):
                break
        else:
            raise RuntimeError("could not draw a simple random regular graph; try another seed")
        W = np.zeros((N, N))
        W[a, b] = _draw_couplings(rng, couplings, len(a), J)
        W = W + W.T
        return cls.from_dense(W, h, "ea", dict(N=N, degree=degree, J=J, h=h, couplings=couplings, seed=seed))

    @classmethod
    def from_dense(cls, W, h, name, description):
        """A graph spin glass from a dense symmetric coupling matrix (zero entries are left out of the graph).

        Parameters
        ----------
        W : ndarray, shape (N, N)
            Symmetric couplings with a zero diagonal.
        h : float or ndarray, shape (N,)
            Site fields.
        name : str
            Model name (``to_metadata()["model"]``).
        description : dict
            Metadata describing how the model was made.

        Returns
        -------
        GraphSpinGlass
        """
        rows, cols = np.nonzero(W)
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=W.shape[0]))]).astype(np.int64)
        return cls(indptr, cols.astype(np.int64), W[rows, cols], h, name=name, description=description)

    @property
    def N(self):
        return len(self.indptr) - 1

    def local_fields(self, configs):
        return _mf.compute_local_fields(np.asarray(configs, np.int8), self.indptr, self.indices, self.weights)

    def energy(self, configs):
        s = np.asarray(configs, np.int8)
        return _mf.glass_energy(s, self.local_fields(s), self.fields)

    def order_parameter(self, configs):
        return _binary(configs, self.N).sum(axis=1) / self.N

    def to_metadata(self):
        return dict({"model": self.name}, **(self.description or {"N": self.N}))


def _draw_couplings(rng, kind, size, scale):
    if kind == "gaussian":
        return scale * rng.standard_normal(size)
    if kind == "pm":
        return scale * rng.choice([-1.0, 1.0], size=size)
    raise ValueError(f"couplings must be 'gaussian' or 'pm', got {kind!r}")
