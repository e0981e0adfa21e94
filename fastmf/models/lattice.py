"""2D lattice models: Ising and q-state Potts on periodic L x M lattices (energies, parameters, validation),
and uniformly random configurations from the Philox initial-state stream."""
import dataclasses

import numpy as np

from .. import kernels as _k
from ..io.files import check_memory
from ..kernels.philox import STREAM_INIT, check_seed, philox4x32_array
from ..kernels.validation import check_int, check_real
from . import observables as _obs

__all__ = ["INIT_BYTES_PER_SITE", "LatticeModel", "random_configurations"]

#: Peak bytes per site of :func:`random_configurations` (Philox counters and words, the configuration).
INIT_BYTES_PER_SITE = 40
#: Peak bytes per site of :meth:`LatticeModel.spin_glass` (two coupling planes, drawn and checked).
_DISORDER_BYTES_PER_SITE = 64

@dataclasses.dataclass(frozen=True, eq=False)
class LatticeModel:
    """Ising or q-state Potts model on an ``L x M`` periodic square lattice.

    Ising: ``E = -sum_<ij> J_ij s_i s_j - h sum_i s_i`` with ``s = +-1`` (J > 0 ferromagnetic, J < 0
    antiferromagnetic); per-bond couplings ``j_right`` / ``j_down`` (shape (L, M)) replace ``J`` when given.
    Potts (``q > 2``): ``E = -J sum_<ij> delta(s_i, s_j) - h sum_i delta(s_i, 0)``, states ``0..q-1``.
    """

    L: int
    M: int = None
    J: float = 1.0
    h: float = 0.0
    q: int = 2
    j_right: np.ndarray = None
    j_down: np.ndarray = None
    disorder: str = None

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "L", check_int("L", self.L, 2))
        set_(self, "M", check_int("M", self.L if self.M is None else self.M, 2))
        set_(self, "J", check_real("J", self.J))
        set_(self, "h", check_real("h", self.h))
        set_(self, "q", check_int("q", self.q, 2, 255))
        if (self.j_right is None) != (self.j_down is None):
            raise ValueError("give both j_right and j_down (per-bond couplings) or neither")
        if self.j_right is not None:
            if self.q != 2:
                raise ValueError("per-bond couplings are supported for the Ising model (q = 2) only")
            jr, jd = _k.lattice_cpu.check_couplings(self.j_right, self.j_down, (self.L, self.M))
            jr.setflags(write=False)
            jd.setflags(write=False)
            set_(self, "j_right", jr)
            set_(self, "j_down", jd)

    @classmethod
    def spin_glass(cls, L, M=None, kind="pm", J=1.0, h=0.0, seed=0):
        """Edwards-Anderson model with quenched couplings: ``kind="pm"`` (+-J, equal odds) or ``"gaussian"``
        (mean 0, standard deviation J); drawn from ``numpy.random.Philox(seed)``."""
        M = L if M is None else M
        L, M = check_int("L", L, 2), check_int("M", M, 2)
        check_memory(_DISORDER_BYTES_PER_SITE * L * M, f"the quenched couplings of a {L} x {M} lattice")
        rng = np.random.Generator(np.random.Philox(check_seed(seed)))
        if kind == "pm":
            jr, jd = (J * rng.choice([-1.0, 1.0], size=(2, L, M)))
        elif kind == "gaussian":
            jr, jd = J * rng.standard_normal((2, L, M))
        else:
            raise ValueError(f"kind must be 'pm' or 'gaussian', got {kind!r}")
        return cls(L=L, M=M, J=J, h=h, j_right=jr, j_down=jd, disorder=f"{kind}(seed={seed})")

    @property
    def shape(self):
        return (self.L, self.M)

    @property
    def n_sites(self):
        return self.L * self.M

    @property
    def is_potts(self):
        return self.q > 2

    @property
    def quenched(self):
        return self.j_right is not None

    @property
    def name(self):
        return "potts2d" if self.is_potts else ("ea2d" if self.quenched else "ising2d")

    @property
    def dtype(self):
        return np.uint8 if self.is_potts else np.int8

    def energy(self, configs):
        """Total energy of each configuration of shape (n, L, M)."""
        if self.is_potts:
            return _obs.potts_energy(configs, J=self.J, h=self.h)
        return _obs.ising_energy(configs, J=self.J, h=self.h, j_right=self.j_right, j_down=self.j_down)

    def order_parameter(self, configs):
        """Magnetization per site (Ising) or the Potts order parameter, per configuration."""
        if self.is_potts:
            return _obs.potts_order_parameter(configs, self.q)
        return _obs.magnetization(configs)

    @property
    def order_parameter_name(self):
        return "order_parameter" if self.is_potts else "magnetization"

    def observables(self, configs):
        """Per-configuration observables whose autocorrelation sets the thinning of ``simulate``: energy and
        ``|m|`` and m (plus the staggered ``|m_s|`` when J < 0), or the Potts order parameter."""
        out = {"energy": self.energy(configs)}
        if self.is_potts:
            out["order"] = self.order_parameter(configs)
        else:
            m = _obs.magnetization(configs)
            out["abs_magnetization"] = np.abs(m)
            out["magnetization"] = m
            if self.J < 0:
                out["abs_staggered_magnetization"] = np.abs(_obs.staggered_magnetization(configs))
        return out

    def to_metadata(self):
        meta = {"model": self.name, "L": self.L, "M": self.M, "J": self.J, "h": self.h, "q": self.q}
        if self.quenched:
            meta["disorder"] = self.disorder or "user couplings"
        return meta


def random_configurations(n_replicas, shape, q, seed):
    """Uniformly random configurations from Philox stream ``STREAM_INIT``: site ``f`` (flat index) of replica
    ``r`` uses word ``f % 4`` of ``Philox((f // 4, r, 0, 0), (seed, STREAM_INIT))``; Ising spin +1 when the
    word is below 2**31, Potts state ``(word * q) >> 32``. Refused (:class:`fastmf.io.ResourceLimitError`) when
    the arrays would not fit in memory (:data:`INIT_BYTES_PER_SITE` bytes per site)."""
    n_sites = int(np.prod([int(s) for s in shape], dtype=object))
    check_memory(INIT_BYTES_PER_SITE * int(n_replicas) * n_sites,
                 f"random initial configurations of {n_replicas} x {n_sites} sites")
    n_groups = -(-n_sites // 4)
    g, r = np.meshgrid(np.arange(n_groups, dtype=np.uint64), np.arange(n_replicas, dtype=np.uint64))
    counters = np.stack([g.ravel(), r.ravel(), np.zeros(g.size, np.uint64), np.zeros(g.size, np.uint64)], axis=1)
    words = philox4x32_array(counters, np.array([[seed, STREAM_INIT]], np.uint64)).astype(np.uint64)
    words = words.reshape(n_replicas, n_groups * 4)[:, :n_sites]
    if q == 2:
        spins = np.where(words < 2 ** 31, 1, -1).astype(np.int8)
    else:
        spins = ((words * np.uint64(q)) >> np.uint64(32)).astype(np.uint8)
    return spins.reshape((n_replicas,) + tuple(shape))
