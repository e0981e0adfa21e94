"""Monte Carlo samplers of 2D lattice models: an immutable description plus an explicit state.

>>> model = LatticeModel(L=16, J=1.0, h=0.0)
>>> sampler = LatticeSampler(model, T=2.5, method="metropolis")
>>> state = sampler.init_state(n_replicas=8, seed=7)
>>> state = sampler.run(state, n_steps=100)      # doctest: +SKIP

The state (spins, seed, next step index, acceptance counters) is all there is to a chain: saving it with
:meth:`ChainState.save` and continuing from :meth:`ChainState.load` reproduces an uninterrupted run bit
for bit.
"""
import dataclasses
import json
import numbers

import numpy as np

from .. import kernels as _k
from ..backends import resolve_backend
from ..io.files import check_memory
from ..io.samples import atomic_savez, read_npz
from ..kernels.philox import check_seed
from ..kernels.validation import check_int, check_real
from ..models.lattice import INIT_BYTES_PER_SITE, LatticeModel, random_configurations

__all__ = ["LatticeSampler", "ChainState", "METHODS"]

METHODS = ("metropolis", "heatbath", "wolff", "multispin")

@dataclasses.dataclass
class ChainState:
    """The explicit state of ``n_replicas`` chains: what gets checkpointed.

    Attributes
    ----------
    spins : ndarray, shape (n_replicas, L, M)
        int8 +-1 (Ising) or uint8 states (Potts), on the host.
    seed : int
        Philox key of every draw of these chains.
    step : int
        Index of the next sweep (or Wolff cluster step): the Philox counter c2 it will use.
    n_accepted, n_attempted : int
        Accepted single-spin moves (flipped spins for Wolff) and attempted ones.
    """

    spins: np.ndarray
    seed: int
    step: int = 0
    n_accepted: int = 0
    n_attempted: int = 0

    @property
    def n_replicas(self):
        return self.spins.shape[0]

    @property
    def acceptance_rate(self):
        return self.n_accepted / self.n_attempted if self.n_attempted else float("nan")

    def copy(self):
        return dataclasses.replace(self, spins=self.spins.copy())

    def save(self, path, sampler=None):
        """Checkpoint to ``path`` (.npz, atomic). The sampler description, if given, is stored for checks."""
        meta = json.dumps({"seed": self.seed, "step": self.step, "n_accepted": self.n_accepted,
                           "n_attempted": self.n_attempted,
                           "sampler": sampler.describe() if sampler is not None else None})
        return atomic_savez(path, spins=self.spins, state=np.array(meta))

    @classmethod
    def load(cls, path, sampler=None):
        """Read a checkpoint; with ``sampler``, check that it was written by the same description.

        Raises ValueError naming the file and the problem for anything but a checkpoint written by
        :meth:`save` (another fastmf file, a damaged or truncated one, wrong metadata types, spins of the wrong
        dtype or shape), and FileNotFoundError when there is no such file.
        """
        arrays, meta = read_npz(path, ("spins", "state"), "chain checkpoint", meta_key="state")
        where = repr(str(path))
        for name in ("seed", "step", "n_accepted", "n_attempted"):
            value = meta.get(name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
                raise ValueError(f"{where} is damaged: its state field {name!r} should be a non-negative integer, "
                                 f"found {value!r}")
        described = meta.get("sampler")
        if described is not None and not isinstance(described, dict):
            raise ValueError(f"{where} is damaged: its state field 'sampler' should be a JSON object or null")
        spins = arrays["spins"]
        if spins.ndim < 2 or spins.shape[0] < 1 or spins.dtype not in (np.int8, np.uint8, np.float64):
            raise ValueError(f"{where} is damaged: spins of shape {spins.shape} and dtype {spins.dtype} are not "
                             "the configurations of a chain (n_replicas, ...) of int8, uint8 or float64")
        if sampler is not None and described is not None and described != sampler.describe():
            raise ValueError(f"checkpoint {where} was written by a different sampler:\n  {described}\n"
                             f"now:\n  {sampler.describe()}")
        return cls(spins=spins, seed=meta["seed"], step=meta["step"], n_accepted=meta["n_accepted"],
                   n_attempted=meta["n_attempted"])


@dataclasses.dataclass(frozen=True, eq=False)
class LatticeSampler:
    """Immutable description of a Monte Carlo sampler for a :class:`LatticeModel` at temperature ``T``.

    Parameters
    ----------
    model : LatticeModel
    T : float
        Temperature (> 0); ``beta = 1 / T``.
    method : {"metropolis", "heatbath", "wolff", "multispin"}
        Single-spin checkerboard Metropolis or heat-bath; Wolff clusters (Ising, h = 0, uniform J; one step
        is one cluster flip); multi-spin-coded Metropolis (Ising, uniform J; 64 replicas per word, CPU).
    backend : {"auto", "cpu", "cuda", "cupy"}
        ``"cuda"`` runs the Numba-CUDA kernels, ``"cupy"`` the CUDA C kernels (uniform Ising and Potts).
    order : {"checkerboard", "sequential"}
        Site order of single-spin methods. Checkerboard needs even L and M; the sequential (raster) order
        works for any size, on the CPU.
    """

    model: LatticeModel
    T: float
    method: str = "metropolis"
    backend: str = "auto"
    order: str = "checkerboard"

    def __post_init__(self):
        if not isinstance(self.model, LatticeModel):
            raise TypeError(f"model must be a LatticeModel, got {type(self.model).__name__}")
        object.__setattr__(self, "T", check_real("temperature T", self.T, positive=True))
        if self.method not in METHODS:
            raise ValueError(f"unknown method {self.method!r}; expected one of {', '.join(METHODS)}")
        if self.order not in ("checkerboard", "sequential"):
            raise ValueError(f"order must be 'checkerboard' or 'sequential', got {self.order!r}")
        m = self.model
        if self.method in ("wolff", "multispin"):
            if m.is_potts or m.quenched:
                raise ValueError(f"method {self.method!r} supports the Ising model with uniform J only")
            if self.method == "wolff" and m.h != 0:
                raise ValueError("Wolff cluster updates need h = 0 (the field does not factor over clusters)")
        if self.method == "wolff" and m.J == 0:
            raise ValueError("Wolff updates need J != 0")
        checkerboard = self.method == "multispin" or (self.method in ("metropolis", "heatbath")
                                                       and self.order == "checkerboard")
        if checkerboard and (m.L % 2 or m.M % 2):
            raise ValueError(
                f"{self.method} with checkerboard updates needs even L and M, got {m.L}x{m.M}: with periodic "
                f"boundaries an odd side makes the lattice non-bipartite, so neighbouring sites would share a colour "
                f"and be updated at the same time, breaking detailed balance. Use order='sequential' or "
                f"method='wolff'.")
        backend = resolve_backend(self.backend)
        if backend != "cpu":
            if self.method in ("wolff", "multispin") or self.order == "sequential":
                raise ValueError(f"method={self.method!r} with order={self.order!r} runs on the CPU only; "
                                 f"use backend='cpu'")
            if backend == "cupy" and m.quenched:
                raise ValueError("backend='cupy' (CUDA C) covers uniform Ising and Potts models; use backend='cuda' "
                                 "for per-bond couplings")
        object.__setattr__(self, "backend", backend)

    @property
    def beta(self):
        return 1.0 / self.T

    @property
    def step_unit(self):
        return "cluster" if self.method == "wolff" else "sweep"

    def describe(self):
        """JSON-able description (stored with checkpoints and sample files)."""
        d = self.model.to_metadata()
        d.update(T=self.T, sampler=self.method, backend=self.backend, order=self.order, step_unit=self.step_unit)
        return json.loads(json.dumps(d))

    def init_state(self, n_replicas, seed, start="hot"):
        """A new :class:`ChainState`: ``start="hot"`` (random spins from the seed) or ``"cold"`` (all +1 / 0).
        Refused (:class:`fastmf.io.ResourceLimitError`) when the replicas would not fit in memory."""
        seed = check_seed(seed)
        if isinstance(n_replicas, bool) or not isinstance(n_replicas, (int, np.integer)) or n_replicas < 1:
            raise ValueError(f"n_replicas must be a positive integer, got {n_replicas!r}")
        m = self.model
        check_memory(n_replicas * m.n_sites * (INIT_BYTES_PER_SITE if start == "hot" else 2),
                     f"{n_replicas} replicas of the {m.L} x {m.M} lattice")
        if start == "cold":
            spins = np.full((n_replicas,) + m.shape, 0 if m.is_potts else 1, m.dtype)
        elif start == "hot":
            spins = random_configurations(n_replicas, m.shape, m.q, seed)
        else:
            raise ValueError(f"start must be 'hot' or 'cold', got {start!r}")
        return ChainState(spins=spins, seed=seed)

    def run(self, state, n_steps):
        """Advance every replica of ``state`` by ``n_steps`` sweeps (or cluster steps), in place; returns it."""
        m = self.model
        if state.spins.shape[1:] != m.shape or state.spins.dtype != m.dtype:
            raise ValueError(f"state spins {state.spins.dtype} {state.spins.shape} do not match the model "
                             f"({np.dtype(m.dtype).name}, (n_replicas, {m.L}, {m.M}))")
        if n_steps == 0:
            return state
        kw = dict(seed=state.seed, n_sweeps=n_steps, check_values=False)
        heat = self.method == "heatbath"
        if self.method == "wolff":
            acc = _k.wolff_step(state.spins, self.beta, m.J, seed=state.seed, step=state.step, n_steps=n_steps,
                                check_values=False)
        elif self.method == "multispin":
            packed = _k.pack_replicas(state.spins)
            acc = _k.multispin_sweep(packed, self.beta, m.J, m.h, seed=state.seed, sweep=state.step,
                                     n_sweeps=n_steps, n_replicas=state.n_replicas)
            state.spins[...] = _k.unpack_replicas(packed, state.n_replicas)
        elif self.order == "sequential":
            jr = {} if not m.quenched else dict(j_right=m.j_right, j_down=m.j_down)
            acc = _k.sequential_sweep(state.spins, self.beta, m.J, m.h, heatbath=heat, q=m.q, sweep=state.step,
                                      **jr, **kw)
        else:
            mod = self._kernel_module()
            if m.is_potts:
                acc = mod.potts_checkerboard_sweep(state.spins, m.q, self.beta, m.J, m.h, heatbath=heat,
                                                   sweep=state.step, **kw)
            elif m.quenched:
                acc = mod.quenched_checkerboard_sweep(state.spins, self.beta, m.j_right, m.j_down, m.h,
                                                      heatbath=heat, sweep=state.step, **kw)
            else:
                acc = mod.checkerboard_sweep(state.spins, self.beta, m.J, m.h, heatbath=heat, sweep=state.step,
                                             **kw)
        state.step += n_steps
        state.n_accepted += acc
        state.n_attempted += n_steps * state.n_replicas * (m.n_sites if self.method != "wolff" else 1)
        return state

    def _kernel_module(self):
        if self.backend == "cpu":
            return _k.lattice_cpu
        if self.backend == "cuda":
            from ..kernels import lattice_cuda
            return lattice_cuda
        from ..kernels import lattice_cupy
        return lattice_cupy
