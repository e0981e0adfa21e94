"""Pairwise q-state models in the one form the exact enumerator walks.

``E(x) = const - sum_{i<j} K_ij delta(x_i, x_j) - sum_i g[i, x_i]`` with ``x_i in 0..q-1``. Ising spins are
q = 2 with ``x_i = (s_i + 1) / 2``: ``-J s_i s_j = -2J delta(x_i, x_j) + J`` and ``-h s_i`` is ``g[i] = (-h, h)``.
Every model of fastmf with a finite state space maps to this form with its own energy convention kept
(``PairwiseModel.energy`` equals the model's ``energy`` on every configuration; tested):

* Ising on a periodic L x M lattice (uniform J or per-bond ``j_right`` / ``j_down``, sites ``r M + c``);
* Potts on a lattice, ``E = -J sum delta - h sum delta(s_i, 0)``;
* Curie-Weiss and Hopfield, ``E = -(J/2N) sum_mu (xi^mu . s)**2 - h sum s`` (self-coupling kept: it is the
  constant ``-J P / 2``), and mean-field Potts ``-(J/2N) sum_k n_k**2 - h n_0``;
* SK / EA spin glasses (``fastmf.models.meanfield.GraphSpinGlass``), and any symmetric J with fields.
"""
import dataclasses

import numpy as np

from ..kernels.validation import check_int, check_real

__all__ = ["PairwiseModel"]


def _lattice_bonds(L, M):
    """(i, j, kind) of the 2 L M bonds of a periodic lattice: kind 0 right, 1 down; bond (r, c) first."""
    r, c = np.divmod(np.arange(L * M), M)
    right = r * M + (c + 1) % M
    down = ((r + 1) % L) * M + c
    return np.arange(L * M), right, down


@dataclasses.dataclass(frozen=True, eq=False)
class PairwiseModel:
    """``E(x) = const - sum_{i<j} K_ij delta(x_i, x_j) - sum_i g[i, x_i]``.

    Attributes
    ----------
    K : ndarray, shape (N, N)
        Symmetric couplings, zero diagonal.
    g : ndarray, shape (N, q)
        Site terms.
    const : float
    spins : bool
        q = 2 states reported as spins ``s = 2x - 1`` (configurations int8 +-1; magnetization ``2 n_1 - N``).
    ref : int
        The state whose occupation ``n_ref`` is the order parameter tracked exactly (1 for spins: ``n_1``;
        0 for Potts: ``n_0``).
    name : str
    params : dict
        What built it (for reports).
    """

    K: np.ndarray
    g: np.ndarray
    const: float = 0.0
    spins: bool = True
    ref: int = 1
    name: str = "pairwise"
    params: dict = None

    def __post_init__(self):
        K = np.array(self.K, dtype=np.float64)
        g = np.array(self.g, dtype=np.float64)
        if K.ndim != 2 or K.shape[0] != K.shape[1] or K.shape[0] < 1:
            raise ValueError(f"K must be a square (N, N) matrix with N >= 1, got shape {K.shape}")
        N = K.shape[0]
        if g.ndim != 2 or g.shape[0] != N or g.shape[1] < 2:
            raise ValueError(f"g must have shape (N, q) = ({N}, q >= 2), got {g.shape}")
        if not (np.isfinite(K).all() and np.isfinite(g).all()):
            raise ValueError("couplings and fields must be finite (no NaN or inf)")
        if not np.allclose(K, K.T, rtol=0, atol=1e-12 * max(1.0, np.abs(K).max())) or np.any(np.diag(K) != 0):
            raise ValueError("K must be symmetric with a zero diagonal")
        q = g.shape[1]
        if self.spins and q != 2:
            raise ValueError(f"spins=True needs q = 2, got q = {q}")
        ref = check_int("ref", self.ref, 0, q - 1)
        K = (K + K.T) / 2
        for name, value in (("K", K), ("g", g)):
            value.setflags(write=False)
            object.__setattr__(self, name, value)
        object.__setattr__(self, "const", check_real("const", self.const))
        object.__setattr__(self, "ref", ref)
        object.__setattr__(self, "params", dict(self.params or {}))

    # ------------------------------------------------------------------------------------ constructors
    @classmethod
    def ising(cls, J, h=0.0, name="ising", params=None):
        """Ising spins ``E = -sum_{i<j} J_ij s_i s_j - sum_i h_i s_i`` for a symmetric J (N, N)."""
        J = np.array(J, dtype=np.float64)
        if J.ndim != 2 or J.shape[0] != J.shape[1]:
            raise ValueError(f"J must be a square (N, N) matrix, got shape {J.shape}")
        N = J.shape[0]
        h = np.broadcast_to(np.asarray(h, np.float64), (N,))
        J = np.where(np.eye(N, dtype=bool), 0.0, J)
        return cls(K=2 * J, g=np.stack([-h, h], axis=1), const=float(np.triu(J, 1).sum()), spins=True, ref=1,
                   name=name, params=params)

    @classmethod
    def ising_lattice(cls, L, M=None, J=1.0, h=0.0, j_right=None, j_down=None):
        """Periodic L x M Ising lattice (the convention of :class:`fastmf.models.lattice.LatticeModel`)."""
        L = check_int("L", L, 2)
        M = check_int("M", L if M is None else M, 2)
        J = check_real("J", J)
        jr = np.full((L, M), J) if j_right is None else np.asarray(j_right, np.float64)
        jd = np.full((L, M), J) if j_down is None else np.asarray(j_down, np.float64)
        if jr.shape != (L, M) or jd.shape != (L, M):
            raise ValueError(f"j_right and j_down must have shape ({L}, {M})")
        site, right, down = _lattice_bonds(L, M)
        Jm = np.zeros((L * M, L * M))
        np.add.at(Jm, (site, right), jr.ravel())
        np.add.at(Jm, (site, down), jd.ravel())
        return cls.ising(Jm + Jm.T, h, name="ising2d", params=dict(L=L, M=M, J=J, h=check_real("h", h)))

    @classmethod
    def potts_lattice(cls, L, M=None, q=3, J=1.0, h=0.0):
        """Periodic L x M Potts lattice, ``E = -J sum_<ij> delta(s_i, s_j) - h sum_i delta(s_i, 0)``."""
        L = check_int("L", L, 2)
        M = check_int("M", L if M is None else M, 2)
        q = check_int("q", q, 2, 255)
        J, h = check_real("J", J), check_real("h", h)
        site, right, down = _lattice_bonds(L, M)
        K = np.zeros((L * M, L * M))
        np.add.at(K, (site, right), J)
        np.add.at(K, (site, down), J)
        g = np.zeros((L * M, q))
        g[:, 0] = h
        return cls(K=K + K.T, g=g, spins=False, ref=0, name="potts2d", params=dict(L=L, M=M, q=q, J=J, h=h))

    @classmethod
    def curie_weiss(cls, N, J=1.0, h=0.0):
        """Curie-Weiss ``E = -(J/2N) M**2 - h M`` (self-coupling kept: constant ``-J/2``)."""
        return cls.hopfield(np.ones((1, check_int("N", N, 1)), np.int8), J, h, name="curie-weiss")

    @classmethod
    def hopfield(cls, patterns, J=1.0, h=0.0, name="hopfield"):
        """Hopfield ``E = -(J/2N) sum_mu (xi^mu . s)**2 - h sum_i s_i`` (constant ``-J P / 2`` kept)."""
        xi = np.asarray(patterns)
        if xi.ndim != 2 or xi.size == 0 or not np.isin(xi, (-1, 1)).all():
            raise ValueError(f"patterns must be a (P, N) array of +-1, got shape {xi.shape}")
        P, N = xi.shape
        J, h = check_real("J", J), check_real("h", h)
        x = xi.astype(np.float64)
        model = cls.ising((J / N) * (x.T @ x), h, name=name,
                          params=dict(N=N, P=P, J=J, h=h) if name == "hopfield" else dict(N=N, J=J, h=h))
        return dataclasses.replace(model, const=model.const - J * P / 2)

    @classmethod
    def potts_mf(cls, N, q=3, J=1.0, h=0.0):
        """Mean-field Potts ``E = -(J/2N) sum_k n_k**2 - h n_0`` (constant ``-J/2`` from the self-term)."""
        N, q = check_int("N", N, 1), check_int("q", q, 2, 255)
        J, h = check_real("J", J), check_real("h", h)
        g = np.zeros((N, q))
        g[:, 0] = h
        K = np.full((N, N), J / N)
        np.fill_diagonal(K, 0.0)
        return cls(K=K, g=g, const=-J / 2, spins=False, ref=0, name="potts", params=dict(N=N, q=q, J=J, h=h))

    @classmethod
    def from_model(cls, model):
        """Map a fastmf model object (LatticeModel, CurieWeiss, Hopfield, MeanFieldPotts, GraphSpinGlass)."""
        from ..models import lattice, meanfield
        if isinstance(model, lattice.LatticeModel):
            if model.is_potts:
                return cls.potts_lattice(model.L, model.M, model.q, model.J, model.h)
            return cls.ising_lattice(model.L, model.M, model.J, model.h, model.j_right, model.j_down)
        if isinstance(model, meanfield.CurieWeiss):
            return cls.curie_weiss(model.N, model.J, model.h)
        if isinstance(model, meanfield.Hopfield):
            return cls.hopfield(model.patterns, model.J, model.h)
        if isinstance(model, meanfield.MeanFieldPotts):
            return cls.potts_mf(model.N, model.q, model.J, model.h)
        if isinstance(model, meanfield.GraphSpinGlass):
            N = len(model.indptr) - 1
            J = np.zeros((N, N))
            rows = np.repeat(np.arange(N), np.diff(model.indptr))
            J[rows, model.indices] = model.weights
            return cls.ising(J, model.fields, name=model.name, params=dict(model.description or {}))
        raise TypeError(f"cannot enumerate a {type(model).__name__}: give a fastmf model with a finite state "
                        "space or a PairwiseModel")

    # ------------------------------------------------------------------------------------ properties
    @property
    def N(self):
        return self.K.shape[0]

    @property
    def q(self):
        return self.g.shape[1]

    @property
    def uniform(self):
        """All pairs coupled equally and the same site terms everywhere (energy depends on counts only)."""
        N = self.N
        if N < 2:
            return False
        off = self.K[~np.eye(N, dtype=bool)]
        return bool(np.all(off == off[0]) and off[0] != 0 and np.all(self.g == self.g[0]))

    def digits(self, configs):
        """Configurations (n, N) as digits 0..q-1 (spins +-1 -> 0/1), validated."""
        x = np.asarray(configs)
        if x.ndim != 2 or x.shape[1] != self.N:
            raise ValueError(f"configurations must have shape (n, {self.N}), got {x.shape}")
        if self.spins:
            if not np.isin(x, (-1, 1)).all():
                raise ValueError("spin configurations must be +-1")
            return ((x.astype(np.int64) + 1) // 2).astype(np.int64)
        if not ((x >= 0) & (x < self.q)).all():
            raise ValueError(f"states must lie in 0..{self.q - 1}")
        return x.astype(np.int64)

    def energy(self, configs):
        """Energy of each configuration (n, N): direct O(N**2) evaluation (a reference for tests)."""
        x = self.digits(configs)
        same = (x[:, :, None] == x[:, None, :]).astype(np.float64)
        pair = 0.5 * np.einsum("nij,ij->n", same, self.K)
        site = self.g[np.arange(self.N)[None, :], x].sum(axis=1)
        return self.const - pair - site

    def permuted(self, order):
        """The same model with site ``j`` of the result = site ``order[j]`` of this one."""
        order = np.asarray(order, np.int64)
        if sorted(order.tolist()) != list(range(self.N)):
            raise ValueError(f"order must be a permutation of 0..{self.N - 1}")
        return dataclasses.replace(self, K=self.K[np.ix_(order, order)], g=self.g[order])
