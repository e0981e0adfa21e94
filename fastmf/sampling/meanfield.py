"""Samplers for the models of :mod:`fastmf.models.meanfield` and :func:`simulate_meanfield`.

* :class:`MeanFieldSampler`: single-site Metropolis / heat-bath chains (order parameters maintained by the
  kernels, so an update costs O(1) or O(P)); rotation moves for continuous Maier-Saupe spins.
* :class:`TemperingSampler`: parallel tempering over a geometric temperature ladder; its chains are the
  ladders and the configurations returned are those at the target temperature.
* exact latent samplers (:mod:`fastmf.sampling.latent`, :mod:`fastmf.sampling.latent_maier_saupe`).

Both chain samplers present the interface of :class:`fastmf.sampling.lattice.LatticeSampler` (``init_state``,
``run``, ``describe``), so :func:`fastmf.sampling.simulate.simulate_chains` thins them by their measured
autocorrelation exactly as it does lattice chains.
"""
import dataclasses
import json

import numpy as np

from . import latent as _latent
from . import latent_hopfield as _latent_hopfield
from . import latent_maier_saupe as _latent_ms
from ..backends import resolve_backend
from ..io.files import check_memory
from ..kernels import maier_saupe_cpu as _ms
from ..kernels import meanfield_cpu as _mf
from ..kernels import tempering_cpu as _pt
from ..kernels.philox import STREAM_INIT, check_seed, philox4x32_array
from ..kernels.validation import check_int, check_real
from .lattice import ChainState
from ..models.counting import MAX_STATES, potts_n_states
from ..models.lattice import random_configurations
from ..models.meanfield import CurieWeiss, GraphSpinGlass, Hopfield, MaierSaupe, MeanFieldPotts
from ..io.samples import SampleSet
from .simulate import simulate_chains

__all__ = ["LadderState", "MeanFieldSampler", "TemperingSampler", "simulate_meanfield", "SAMPLERS"]

SAMPLERS = ("auto", "latent", "mcmc", "tempering")


def _random_unit_vectors(n, N, seed):
    """Uniform unit vectors (n, N, 3) from Philox stream STREAM_INIT (Gaussian by Box-Muller, normalised)."""
    g = np.arange(n * N * 2, dtype=np.uint64)
    counters = np.stack([g, np.zeros_like(g), np.full_like(g, 1), np.zeros_like(g)], axis=1)
    w = philox4x32_array(counters, [[seed, STREAM_INIT]]).astype(np.float64).reshape(n * N, 8)
    u = (w + 0.5) / 2.0 ** 32
    r = np.sqrt(-2.0 * np.log(u[:, 0:3]))
    v = r * np.cos(2.0 * np.pi * u[:, 3:6])
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return v.reshape(n, N, 3)


#: Peak bytes per unit vector of :func:`_random_unit_vectors` (Philox counters and words, Box-Muller).
_BYTES_PER_UNIT_VECTOR = 350


def _initial(model, n, seed, start):
    if start not in ("hot", "cold"):
        raise ValueError(f"start must be 'hot' or 'cold', got {start!r}")
    if isinstance(model, MaierSaupe) and model.axes is None:
        check_memory((_BYTES_PER_UNIT_VECTOR if start == "hot" else 24) * n * model.N,
                     f"{n} initial configurations of {model.N} unit vectors")
        if start == "cold":
            return np.tile(np.array([0.0, 0.0, 1.0]), (n, model.N, 1))
        return _random_unit_vectors(n, model.N, seed)
    if start == "cold":
        check_memory(n * model.N, f"{n} initial configurations of {model.N} sites")
        return np.full((n, model.N), 1 if model.dtype == np.int8 else 0, model.dtype)
    q = model.q if isinstance(model, MeanFieldPotts) else (len(model.axes) if isinstance(model, MaierSaupe) else 2)
    return random_configurations(n, (model.N,), q, seed)


@dataclasses.dataclass(frozen=True, eq=False)
class MeanFieldSampler:
    """Single-site chains of a mean-field or graph model at temperature ``T``.

    ``method``: ``"metropolis"`` or ``"heatbath"`` (``"rotation"``, Metropolis with rotation moves of size
    ``step``, for continuous Maier-Saupe spins). Sequential sweeps; one step = one sweep. ``backend``:
    ``"cpu"`` or ``"cuda"`` (the Numba-CUDA kernels, one chain per thread; same trajectories for integer
    couplings), ``"auto"`` picks ``"cuda"`` when a GPU is usable.
    """

    model: object
    T: float
    method: str = "heatbath"
    backend: str = "auto"
    step: float = 0.5

    def __post_init__(self):
        object.__setattr__(self, "T", check_real("temperature T", self.T, positive=True))
        continuous = isinstance(self.model, MaierSaupe) and self.model.axes is None
        allowed = ("rotation",) if continuous else ("metropolis", "heatbath")
        if self.method not in allowed:
            raise ValueError(f"method must be one of {allowed} for {self.model.name}, got {self.method!r}")
        backend = resolve_backend(self.backend)
        if backend == "cupy":
            raise ValueError("backend='cupy' (CUDA C) covers the 2D lattice kernels; use backend='cuda'")
        object.__setattr__(self, "backend", backend)

    @property
    def beta(self):
        return 1.0 / self.T

    step_unit = "sweep"

    def describe(self):
        d = self.model.to_metadata()
        d.update(T=self.T, sampler="mcmc", method=self.method, backend=self.backend, step_unit="sweep")
        return json.loads(json.dumps(d))

    def init_state(self, n_replicas, seed, start="hot"):
        seed = check_seed(seed)
        return ChainState(spins=_initial(self.model, check_int("n_replicas", n_replicas, 1), seed, start),
                          seed=seed)

    def run(self, state, n_steps):
        """Advance every chain by ``n_steps`` sweeps in place (order parameters rebuilt from the spins, so the
        state is just the configurations and counters)."""
        m, s, heat = self.model, state.spins, self.method == "heatbath"
        kw = dict(seed=state.seed, sweep=state.step, n_sweeps=n_steps, check_values=False)
        if n_steps == 0:
            return state
        if self.backend == "cuda":
            from ..kernels import maier_saupe_cuda as ms_kernels, meanfield_cuda as mf_kernels
        else:
            ms_kernels, mf_kernels = _ms, _mf
        if isinstance(m, (CurieWeiss, Hopfield)):
            acc = mf_kernels.lowrank_sweep(s, m.patterns, _mf.compute_overlaps(s, m.patterns), self.beta, m.J, m.h,
                                    heatbath=heat, **kw)
        elif isinstance(m, MeanFieldPotts):
            acc = mf_kernels.potts_mf_sweep(s, _mf.compute_counts(s, m.q), m.q, self.beta, m.J, m.h, heatbath=heat, **kw)
        elif isinstance(m, GraphSpinGlass):
            acc = mf_kernels.glass_sweep(s, m.indptr, m.indices, m.weights, m.fields, m.local_fields(s), self.beta,
                                  heatbath=heat, **kw)
        elif m.axes is None:
            acc = ms_kernels.ms_rotation_sweep(s, _ms.ms_tensor(s), self.beta, m.J, step=self.step, **kw)
        else:
            acc = ms_kernels.ms_axes_sweep(s, m.axes, _ms.axes_counts(s, len(m.axes)), self.beta, m.J, heatbath=heat,
                                    **kw)
        state.step += n_steps
        state.n_accepted += int(acc)
        state.n_attempted += n_steps * state.n_replicas * m.N
        return state


class LadderState:
    """Chain-state view of parallel-tempering ladders: ``spins`` are the configurations at the target
    (lowest) temperature of each ladder.

    Made by :meth:`TemperingSampler.init_state` or :meth:`TemperingSampler.state_from_configs`.

    Parameters
    ----------
    tstate : fastmf.kernels.tempering_cpu.TemperingState
        The ladders (``arrays[0]`` holds the configurations, shape (n_temperatures, n_replicas, ...)).
    seed : int
        Philox key of the run.
    """

    def __init__(self, tstate, seed):
        self.tempering = tstate
        self.seed = seed
        self.n_accepted = 0
        self.n_attempted = 0

    @property
    def spins(self):
        return self.tempering.arrays[0][-1]

    @property
    def n_replicas(self):
        return self.spins.shape[0]

    @property
    def step(self):
        return self.tempering.step

    @property
    def acceptance_rate(self):
        return self.n_accepted / self.n_attempted if self.n_attempted else float("nan")


@dataclasses.dataclass(frozen=True, eq=False)
class TemperingSampler:
    """Parallel tempering between ``T_max`` and the target ``T`` (geometric ladder of ``n_temperatures``);
    one step = ``n_sweeps`` heat-bath sweeps at every temperature, then exchanges of neighbours."""

    model: object
    T: float
    n_temperatures: int = 16
    T_max: float = None
    n_sweeps: int = 1
    method: str = "tempering"

    def __post_init__(self):
        object.__setattr__(self, "T", check_real("temperature T", self.T, positive=True))
        check_int("n_temperatures", self.n_temperatures, 2)
        m = self.model
        if isinstance(m, (CurieWeiss, Hopfield)):
            kernel = _pt.LowRankModel(m.patterns, m.J, m.h)
        elif isinstance(m, MeanFieldPotts):
            kernel = _pt.PottsMFModel(m.q, m.N, m.J, m.h)
        elif isinstance(m, GraphSpinGlass):
            kernel = _pt.GlassModel(m.indptr, m.indices, m.weights, m.fields)
        else:
            raise ValueError(f"parallel tempering is not available for {m.name}; use sampler='latent' or 'mcmc'")
        object.__setattr__(self, "_kernel", kernel)
        t_max = self.T_max if self.T_max is not None else max(2.0 * self.T, 2.0 * _energy_scale(m))
        t_max = check_real("T_max", t_max, positive=True)
        if t_max <= self.T:
            raise ValueError(f"T_max must exceed T, got T_max={t_max}, T={self.T}")
        object.__setattr__(self, "T_max", t_max)

    @property
    def betas(self):
        """Increasing inverse temperatures; the last one is the target 1/T."""
        return 1.0 / np.geomspace(self.T_max, self.T, self.n_temperatures)

    step_unit = "tempering step"

    @property
    def beta(self):
        return 1.0 / self.T

    def describe(self):
        d = self.model.to_metadata()
        d.update(T=self.T, sampler="tempering", method="heatbath", n_temperatures=self.n_temperatures,
                 T_max=self.T_max, sweeps_per_step=self.n_sweeps, step_unit=self.step_unit)
        return json.loads(json.dumps(d))

    def init_state(self, n_replicas, seed, start="hot"):
        seed = check_seed(seed)
        n = check_int("n_replicas", n_replicas, 1)
        configs = _initial(self.model, self.n_temperatures * n, seed, start)
        configs = configs.reshape((self.n_temperatures, n) + configs.shape[1:])
        return LadderState(_pt.make_tempering_state(self._kernel, configs), seed)

    def state_from_configs(self, configs, seed, step=0):
        """Ladders started from given configurations (e.g. to carry chains over between runs).

        Parameters
        ----------
        configs : ndarray, shape (n_temperatures, n_replicas, ...)
            Configuration at each temperature (lowest last) of each ladder.
        seed : int
            Philox key of the run.
        step : int
            Tempering step counter to continue from (the draws depend on it).

        Returns
        -------
        LadderState
        """
        tstate = _pt.make_tempering_state(self._kernel, configs)
        tstate.step = step
        return LadderState(tstate, seed)

    def run(self, state, n_steps):
        _pt.tempering_run(self._kernel, state.tempering, self.betas, n_steps, seed=state.seed,
                          n_sweeps=self.n_sweeps, heatbath=True)
        state.n_accepted = int(state.tempering.accepted.sum())
        state.n_attempted = int(state.tempering.attempted.sum())
        return state


def _energy_scale(model):
    if isinstance(model, GraphSpinGlass):
        degree = np.diff(model.indptr).mean()
        return float(np.sqrt(np.mean(model.weights ** 2) * degree)) if len(model.weights) else 1.0
    return abs(getattr(model, "J", 1.0)) or 1.0


def _latent_bytes(model, n_samples):
    """Estimated peak memory of the latent sampler of ``model`` and of the observables stored with its samples."""
    N = model.N
    if isinstance(model, CurieWeiss):
        return _latent.curie_weiss_bytes(N, n_samples)
    if isinstance(model, Hopfield):
        return _latent_hopfield.hopfield_bytes(N, model.P, n_samples) + 8 * n_samples * (N + model.P)
    if isinstance(model, MeanFieldPotts):
        return _latent.potts_mf_bytes(N, model.q, n_samples) if potts_n_states(N, model.q) <= MAX_STATES else 0
    if isinstance(model, MaierSaupe):
        n_axes = None if model.axes is None else len(model.axes)
        return _latent_ms.maier_saupe_bytes(N, n_samples, n_axes) + (0 if n_axes is None else 32 * n_samples * N)
    return 0


def _latent_samples(model, T, n_samples, seed):
    beta = 1.0 / T
    if isinstance(model, CurieWeiss):
        return _latent.sample_curie_weiss(model.N, beta, model.J, model.h, n_samples=n_samples, seed=seed)
    if isinstance(model, Hopfield):
        return _latent_hopfield.sample_hopfield(model.patterns, beta, model.J, model.h, n_samples=n_samples, seed=seed)
    if isinstance(model, MeanFieldPotts):
        return _latent.sample_potts_mf(model.N, model.q, beta, model.J, model.h, n_samples=n_samples, seed=seed)
    if isinstance(model, MaierSaupe):
        if model.axes is None:
            return _latent_ms.sample_maier_saupe(beta, model.J, model.N, n_samples, seed=seed), {}
        return _latent_ms.sample_maier_saupe_axes(model.axes, beta, model.J, model.N, n_samples, seed=seed), {}
    raise ValueError(f"no latent sampler for {model.name}: use sampler='tempering' or 'mcmc'")


def simulate_meanfield(model, T, n_samples, *, seed, sampler="auto", method=None, backend="auto", progress=None,
                       **kwargs):
    """Equilibrium samples of a model of :mod:`fastmf.models.meanfield` (see its docstring for the samplers).

    Parameters
    ----------
    model : CurieWeiss, Hopfield, MeanFieldPotts, MaierSaupe or GraphSpinGlass
    T : float
        Temperature (> 0).
    n_samples, seed : int
    sampler : {"auto", "latent", "mcmc", "tempering"}
    method : str, optional
        Single-site update of ``"mcmc"`` (default heat-bath; ``"rotation"`` for continuous Maier-Saupe).
    backend : {"auto", "cpu", "cuda"}
        Where ``"mcmc"`` chains run (latent samplers and tempering run on the CPU).
    **kwargs
        Passed to :func:`fastmf.sampling.simulate.simulate_chains` for ``"mcmc"`` and ``"tempering"`` (``n_replicas``,
        ``burn_in``, ``thin``, ...); ``n_temperatures``, ``T_max`` and ``n_sweeps`` configure tempering.

    Returns
    -------
    SampleSet
        ``spins`` (n_samples, N) (or (n_samples, N, 3)), per-sample ``energy`` and order parameter, metadata
        naming the sampler; Hopfield sets also hold ``patterns`` (P, N) int8.

    Raises
    ------
    fastmf.io.ResourceLimitError
        Before any work, when the sampler's tables, its output and the observables (latent samplers), or the
        initial replicas (chains), would not fit in memory (:func:`fastmf.io.memory_limit`; override with the
        environment variable ``FASTMF_MAX_MEMORY``).
    """
    T = check_real("temperature T", T, positive=True)
    n_samples = check_int("n_samples", n_samples, 1)
    seed = check_seed(seed)
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {', '.join(SAMPLERS)}, got {sampler!r}")
    if sampler == "auto":
        sampler = "latent" if model.latent else "tempering"
    if sampler != "mcmc" and backend not in ("auto", "cpu"):
        raise ValueError(f"sampler={sampler!r} runs on the CPU; backend={backend!r} applies to sampler='mcmc'")
    if sampler == "latent":
        check_memory(_latent_bytes(model, n_samples),
                     f"latent sampling of {n_samples} samples of {model.name} N={model.N} (with their observables)")
        configs, info = _latent_samples(model, T, n_samples, seed)
        meta = dict(model.to_metadata(), T=T, beta=1.0 / T, sampler="latent", seed=seed, n_samples=n_samples,
                    latent_info=json.loads(json.dumps(info, default=_jsonable)))
        samples = SampleSet(configs, meta, energy=model.energy(configs),
                            **{model.order_parameter_name: model.order_parameter(configs)})
    else:
        if sampler == "tempering":
            pt_keys = ("n_temperatures", "T_max", "n_sweeps")
            chain = TemperingSampler(model, T, **{k: kwargs.pop(k) for k in pt_keys if k in kwargs})
            if kwargs.get("checkpoint") is not None:
                raise ValueError("checkpoints are not supported with sampler='tempering' yet")
        else:
            default = "rotation" if isinstance(model, MaierSaupe) and model.axes is None else "heatbath"
            chain = MeanFieldSampler(model, T, method=method or default, backend=backend)
        samples = simulate_chains(chain, n_samples, seed=seed, progress=progress, **kwargs)
    if isinstance(model, Hopfield):
        samples.extra["patterns"] = np.array(model.patterns)
    return samples


def _jsonable(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)
