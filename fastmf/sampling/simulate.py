"""Equilibrium sample sets from lattice samplers, with thinning chosen from the measured autocorrelation.

Procedure (recorded in the metadata of every sample set):

1. ``n_replicas`` independent chains start hot (random spins from the seed) and run ``burn_in`` steps.
2. A pilot run measures the integrated autocorrelation time ``tau_int`` (Sokal windowing) of the energy and
   of the order parameters (``|m|`` and m, or the staggered ``|m_s|`` for J < 0; the Potts order parameter) from
   the autocovariance averaged over the replicas (much less noisy than that of the replica average); the
   pilot is doubled until it spans at least ``50 tau_int`` (or ``max_pilot_steps``).
   The pilot also counts as burn-in, so burn-in is at least ``50 tau_int`` when the pilot converged.
3. Samples are taken every ``thin = ceil(3 tau_int_max)`` steps (or the ``thin`` given), round-robin over the
   replicas, so consecutive samples of one chain have autocorrelation about ``exp(-3)`` or less. The signed
   magnetization is left out of ``tau_int_max`` when the pilot cannot resolve it (tunnelling below T_c:
   see ``_thinning_tau``); ``tau_excluded`` in the metadata says so.

Checkpoints (``checkpoint=PATH``): the state of the run (phase, chains, pilot records, samples so far) is
written atomically at least every ``checkpoint_every`` seconds of wall time (default 30) in every phase --
burn-in, pilot and production -- so a killed run loses at most about that much work. With a checkpoint each
phase runs in chunks of steps (their length adapts so that a chunk takes about a second, or a quarter of
``checkpoint_every`` when that is shorter) and the clock is read between chunks. The kernels draw every
random number by counter (seed, replica, sweep, draw), so a chain run in chunks, or resumed from a
checkpoint, is the chain of one uninterrupted call: a resumed run returns bit for bit what a run without a
checkpoint returns. The checkpoint is kept when the run completes: the same call then returns the same
samples at once (useful when writing the output failed); delete the file to run afresh.
"""
import json
import math
import os
import sys
import time

import numpy as np

from .. import stats as _stats
from ..io.files import check_memory
from ..io.samples import SampleSet, atomic_savez, read_npz
from ..kernels.validation import check_real
from .lattice import ChainState, LatticeSampler

__all__ = ["simulate_lattice", "measure_autocorrelation"]

#: Longest planned chunk of steps between two readings of the clock when checkpointing (seconds).
CHUNK_SECONDS = 1.0
_PHASES = ("burn-in", "pilot", "production", "done")
_FORMAT = 2          # checkpoint format; format 1 (fastmf <= 0.2) saved production progress only


def measure_autocorrelation(sampler, state, n_steps, progress=None, max_steps=20_000, *, records=None,
                            after_step=None):
    """Run a pilot from ``state`` (advanced in place); return ``(taus, steps, reliable)``: ``tau_int`` per
    observable (in the sampler's steps), the pilot length, and per observable whether the pilot spans at
    least 50 ``tau_int`` of it.

    A constant series (a frozen observable) has ``tau_int = 0.5``. The pilot doubles until every observable
    is reliable or the next doubling would pass ``max_steps``.

    ``records`` (list, extended in place) holds the observables of pilot steps already run, to continue an
    interrupted pilot whose current length is ``n_steps``; ``after_step(records, n_steps)`` is called after
    every step (checkpoints).
    """
    model = sampler.model
    records = [] if records is None else records
    total = len(records)
    while True:
        for _ in range(n_steps - total):
            sampler.run(state, 1)
            records.append(model.observables(state.spins))
            if progress is not None:
                progress.update(1)
            if after_step is not None:
                after_step(records, n_steps)
        total = n_steps
        taus = {}
        for name in records[0]:
            x = np.array([r[name] for r in records])   # (steps, replicas): replica-averaged autocovariance
            taus[name] = float(_stats.integrated_autocorr_time(x)) if np.ptp(x) > 0 else 0.5
        reliable = {name: total >= 50 * tau for name, tau in taus.items()}
        if all(reliable.values()) or 2 * total > max_steps:
            return taus, total, reliable
        n_steps = 2 * total
        if progress is not None:
            progress.total = (progress.total or 0) + n_steps - total
            progress.refresh()


def simulate_lattice(model, T, n_samples, *, seed, method="metropolis", backend="auto", order="checkerboard",
                     **kwargs):
    """Draw ``n_samples`` nearly independent equilibrium configurations of a :class:`LatticeModel`.

    Builds a :class:`LatticeSampler` (``method``, ``backend``, ``order``) and runs :func:`simulate_chains`;
    see there for the other arguments (``checkpoint``, ``checkpoint_every``, ...) and the returned
    :class:`SampleSet`.
    """
    return simulate_chains(LatticeSampler(model, T, method=method, backend=backend, order=order), n_samples,
                           seed=seed, **kwargs)


def simulate_chains(sampler, n_samples, *, seed, n_replicas=None, burn_in=200, thin=None, start="hot",
                    progress=None, checkpoint=None, checkpoint_every=30.0, pilot_steps=200, max_pilot_steps=20_000):
    """Draw ``n_samples`` nearly independent equilibrium configurations with a Markov-chain sampler.

    Parameters
    ----------
    sampler : LatticeSampler or any sampler with the same interface
        (``model``, ``init_state``, ``run``, ``describe``, ``step_unit``, ``method``; the model supplies
        ``energy``, ``observables``, ``order_parameter``, ``order_parameter_name``, ``shape`` and ``dtype``).
    n_samples : int
        Number of configurations returned.
    seed : int
        Seed of every random draw (``0 <= seed < 2**32``): the result depends on it alone.
    n_replicas : int, optional
        Independent chains; default ``min(32, max(1, n_samples // 50))`` (64 for ``multispin``).
    burn_in : int
        Steps discarded before the autocorrelation pilot (the pilot is discarded too).
    thin : int, optional
        Steps between samples of one chain; default ``ceil(3 tau_int_max)`` from the pilot.
    start : {"hot", "cold"}
    progress : bool, optional
        Progress bar on stderr; default: when stderr is a terminal.
    checkpoint : path, optional
        ``.npz`` file holding the state of the run: its phase (``"burn-in"``, ``"pilot"``, ``"production"``,
        ``"done"``) and progress, the chains, the pilot's records and the samples so far. Written atomically
        at least every ``checkpoint_every`` seconds in every phase, and when the run completes (the file is
        kept). If it exists when the run starts, the run resumes from it and returns bit for bit what an
        uninterrupted run without a checkpoint returns. A checkpoint of other arguments, or a file that is not
        a readable checkpoint, is refused with a ValueError naming the file. Samplers whose state is not a
        :class:`~fastmf.sampling.lattice.ChainState` (parallel tempering) cannot checkpoint.
    checkpoint_every : float
        Seconds of wall time between checkpoint writes (> 0, default 30); a kill loses at most about that.
        Writing a checkpoint takes time too (it holds the samples so far): the next write is due
        ``checkpoint_every`` seconds after the previous one ended.
    pilot_steps, max_pilot_steps : int
        First length of the autocorrelation pilot, and the cap of its doubling (``tau_reliable`` is False in
        the metadata when the cap stopped it before it spanned 50 tau_int).

    Returns
    -------
    SampleSet
        ``spins`` (n_samples, ...) plus per-sample ``energy``, the model's order parameter (e.g.
        ``magnetization``), ``replica`` and ``step``; metadata with burn-in, thinning and ``tau_int``.

    Raises
    ------
    fastmf.io.ResourceLimitError
        (a ValueError) before anything is allocated, when the chains and the samples would need more than
        :func:`fastmf.io.memory_limit`.

    Notes
    -----
    Samplers that carry floating-point running sums through a call of ``run`` (continuous Maier-Saupe spins,
    graph spin glasses with real couplings) recompute them from the spins at the start of each call; a chunk
    boundary can change a chain only through a uniform draw that falls within that rounding of its
    acceptance threshold. Lattice samplers and integer-valued mean-field sums are exact.
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
    model = sampler.model
    if n_replicas is None:
        n_replicas = 64 if sampler.method == "multispin" else min(32, max(1, n_samples // 50))
    for name, value, low in (("n_replicas", n_replicas, 1), ("burn_in", burn_in, 0), ("thin", thin, 1),
                             ("pilot_steps", pilot_steps, 8), ("max_pilot_steps", max_pilot_steps, 8)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer))
                                  or value < low):
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    checkpoint_every = check_real("checkpoint_every", checkpoint_every, positive=True)
    n_samples, n_replicas, burn_in = int(n_samples), int(n_replicas), int(burn_in)
    per_replica = -(-n_samples // n_replicas)
    _check_memory(sampler, n_samples, n_replicas, per_replica)
    args = dict(sampler=sampler.describe(), n_samples=n_samples, seed=int(seed), n_replicas=n_replicas,
                burn_in=burn_in, thin=thin, start=start, pilot_steps=int(pilot_steps),
                max_pilot_steps=int(max_pilot_steps))
    if progress is None:
        progress = sys.stderr.isatty()

    state = sampler.init_state(n_replicas, seed, start=start)
    if checkpoint is None:
        ck = _NoCheckpoint()
    elif not isinstance(state, ChainState):
        raise ValueError(f"checkpoints are not supported with the {sampler.method!r} sampler (its state is not a "
                         f"ChainState)")
    else:
        ck = _Checkpoint(checkpoint, checkpoint_every, args)
    buf = np.empty((per_replica,) + state.spins.shape, state.spins.dtype)   # (sample, replica, ...)
    resumed = ck.load(state, buf, burn_in=burn_in, per_replica=per_replica)
    phase = resumed.pop("phase") if resumed else "burn-in"
    bar = _progress_bar(progress, sampler.step_unit)

    if phase == "burn-in":
        done = resumed["burn_in_done"] if resumed else 0
        bar.total = burn_in + pilot_steps
        bar.update(done)
        ck.advance(sampler, state, burn_in - done, bar, lambda d: ("burn-in", {"burn_in_done": done + d}, {}))
        phase, resumed = "pilot", dict(records=[], pilot_target=int(pilot_steps))
    if phase == "pilot":
        records, target = resumed["records"], resumed["pilot_target"]
        if not bar.total:
            bar.total = target
            bar.update(len(records))
        taus, pilot_total, reliable = measure_autocorrelation(sampler, state, target, bar, max_pilot_steps,
                                                              records=records, after_step=ck.pilot_hook(state))
        thin_used = int(thin) if thin is not None else max(1, math.ceil(3 * _thinning_tau(taus, reliable)[0]))
        n_done = into = 0
    else:
        taus, pilot_total, reliable, thin_used, n_done, into = (
            resumed[k] for k in ("taus", "pilot_steps", "reliable", "thin", "n_collected", "into"))
    production = dict(taus=taus, pilot_steps=pilot_total, reliable=reliable, thin=thin_used)
    bar.total = (bar.total or 0) + (per_replica - n_done) * thin_used - into
    bar.refresh()
    for i in range(n_done, per_replica):
        ck.advance(sampler, state, thin_used - into, bar, lambda d, i=i, base=into: (
            "production", dict(production, n_collected=i, into=base + d), {"collected": buf[:i]}))
        into = 0
        buf[i] = state.spins
    if phase != "done":
        ck.save(state, "done", dict(production, n_collected=per_replica, into=0), {"collected": buf})
    bar.close()

    tau_max, excluded = _thinning_tau(taus, reliable)
    n_rep = state.n_replicas
    spins = buf.reshape((-1,) + buf.shape[2:])[:n_samples]      # round-robin order over the replicas
    replica = np.tile(np.arange(n_rep), per_replica)[:n_samples]
    first = burn_in + pilot_total
    step = (first + thin_used * np.repeat(np.arange(1, per_replica + 1), n_rep))[:n_samples]
    energy = model.energy(spins)
    order_param = model.order_parameter(spins)
    tau_samples = _sample_tau(energy, replica, n_rep)
    meta = dict(sampler.describe(), beta=sampler.beta, seed=int(seed), n_samples=n_samples,
                n_replicas=int(n_rep), start=start, burn_in=first, burn_in_initial=burn_in,
                pilot_steps=int(pilot_total), thin=int(thin_used), thin_from_tau=thin is None,
                tau_int={k: float(v) for k, v in taus.items()}, tau_int_max=tau_max, tau_excluded=excluded,
                tau_reliable=all(reliable[k] for k in taus if k not in excluded),
                tau_int_energy_of_samples=tau_samples,
                acceptance_rate=float(state.acceptance_rate), final_step=int(state.step))
    key = model.order_parameter_name
    return SampleSet(spins, meta, energy=energy, **{key: order_param}, replica=replica, step=step)


def _check_memory(sampler, n_samples, n_replicas, per_replica):
    """Refuse, before allocating, chains and samples above the memory limit (the samples buffer, the chains,
    the per-sample arrays; the end-of-run energies need temporaries on top of that)."""
    model = sampler.model
    shape, dtype = getattr(model, "shape", None), getattr(model, "dtype", None)
    if shape is None or dtype is None:
        return
    config = math.prod(shape) * np.dtype(dtype).itemsize
    n_configs = n_replicas * getattr(sampler, "n_temperatures", 1) + per_replica * n_replicas
    check_memory(n_configs * config + 32 * n_samples,
                 f"{n_samples} samples of {'x'.join(map(str, shape))} {np.dtype(dtype).name} spins from "
                 f"{n_replicas} chains")


def _thinning_tau(taus, reliable):
    """(largest tau_int used for thinning, observables left out).

    The signed magnetization (and any observable named ``signed_*``, e.g. Hopfield overlaps) is left out
    when the pilot could not resolve it: below T_c local updates
    tunnel between the two signs on times that grow exponentially with the lattice size (ergodicity
    breaking). Replicas start hot, so both signs are represented across replicas; its tau_int is still
    recorded. Every other observable is always used (flagged by ``tau_reliable`` when unresolved).
    """
    excluded = [k for k in taus if (k == "magnetization" or k.startswith("signed_")) and not reliable[k]]
    return float(max(v for k, v in taus.items() if k not in excluded)), excluded


def _sample_tau(energy, replica, n_rep):
    """tau_int of the energy along the thinned samples of each chain (about 0.5 when nearly independent)."""
    per_chain = [energy[replica == r] for r in range(n_rep)]
    length = min(len(x) for x in per_chain)
    if length < 20:
        return None
    x = np.stack([c[:length] for c in per_chain], axis=1)
    return float(_stats.integrated_autocorr_time(x)) if np.ptp(x) > 0 else 0.5


class _NoBar:
    total = 0

    def update(self, n=1):
        pass

    def refresh(self):
        pass

    def close(self):
        pass


def _progress_bar(enabled, unit):
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm
    return tqdm(total=0, unit=unit, desc="simulate", file=sys.stderr)


class _NoCheckpoint:
    """Runs each phase in one piece: exactly the calls of a run without a checkpoint."""

    def load(self, state, buf, **kw):
        return None

    def advance(self, sampler, state, n_steps, bar, snapshot):
        sampler.run(state, n_steps)
        bar.update(n_steps)

    def pilot_hook(self, state):
        return None

    def save(self, state, phase, info, arrays):
        pass


class _Checkpoint:
    """Writes the state of a run to ``path`` (atomically) when ``every`` seconds have passed since the last
    write ended, checked between chunks of steps. ``snapshot`` functions return ``(phase, info, arrays)``."""

    def __init__(self, path, every, args):
        self.path, self.every, self.args = path, every, args
        self.chunk = 1
        self.chunk_seconds = min(CHUNK_SECONDS, every / 4)
        self.last = time.monotonic()

    def advance(self, sampler, state, n_steps, bar, snapshot):
        """Run ``n_steps`` in chunks; ``snapshot(steps_done)`` describes the progress for a write."""
        done = 0
        while done < n_steps:
            k = min(self.chunk, n_steps - done)
            t0 = time.monotonic()
            sampler.run(state, k)
            elapsed = time.monotonic() - t0
            done += k
            bar.update(k)
            if k == self.chunk and elapsed < self.chunk_seconds / 2:
                self.chunk *= 2
            elif elapsed > self.chunk_seconds:
                self.chunk = max(1, self.chunk // 2)
            self.maybe_save(state, lambda: snapshot(done))

    def pilot_hook(self, state):
        def after_step(records, target):
            self.maybe_save(state, lambda: _pilot_snapshot(records, target))
        return after_step

    def maybe_save(self, state, snapshot):
        if time.monotonic() - self.last >= self.every:
            self.save(state, *snapshot())

    def save(self, state, phase, info, arrays):
        meta = dict(format=_FORMAT, args=self.args, phase=phase, seed=int(state.seed), step=int(state.step),
                    n_accepted=int(state.n_accepted), n_attempted=int(state.n_attempted), **info)
        atomic_savez(self.path, spins=state.spins, info=np.array(json.dumps(meta)), **arrays)
        self.last = time.monotonic()

    def load(self, state, buf, *, burn_in, per_replica):
        """Restore ``state`` (and the samples in ``buf``) from the checkpoint file; return the phase and its
        progress, or None when there is no file."""
        path, name = self.path, repr(str(self.path))
        if not os.path.lexists(path):
            return None
        if os.path.isdir(path):
            raise IsADirectoryError(f"checkpoint {name} is a directory")
        arrays, _ = read_npz(path, ("info", "spins"), "simulate checkpoint")
        try:
            info = json.loads(str(arrays["info"]))
        except json.JSONDecodeError:
            info = None
        if not isinstance(info, dict) or not isinstance(info.get("args"), dict):
            raise ValueError(f"{name} is not a fastmf simulate checkpoint: its 'info' is not a run description")
        now = json.loads(json.dumps(self.args))
        if info["args"] != now:
            raise ValueError(f"checkpoint {name} belongs to a different run ({_differences(info['args'], now)}); "
                             f"remove it or choose another checkpoint file")
        try:
            return _restore(info, arrays, state, buf, burn_in, per_replica)
        except KeyError as exc:
            raise ValueError(f"checkpoint {name} is damaged or inconsistent: it has no {exc.args[0]!r} entry") from None
        except (TypeError, ValueError, IndexError, AttributeError) as exc:
            raise ValueError(f"checkpoint {name} is damaged or inconsistent: {exc}") from None


def _differences(old, new, prefix=""):
    """``key: old -> new`` for the entries in which two run descriptions differ."""
    out = []
    for key in list(new) + [k for k in old if k not in new]:
        a, b = old.get(key, "absent"), new.get(key, "absent")
        if isinstance(a, dict) and isinstance(b, dict):
            out.append(_differences(a, b, f"{prefix}{key}."))
        elif a != b:
            out.append(f"{prefix}{key}: {a!r} in the checkpoint, {b!r} now")
    return "; ".join(x for x in out if x)


def _pilot_snapshot(records, target):
    names = list(records[0])
    return ("pilot", dict(pilot_target=target, pilot_names=names),
            {f"pilot_{j}": np.array([r[name] for r in records]) for j, name in enumerate(names)})


def _count(info, key, low=0, high=None):
    value = info[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        raise ValueError(f"{key} = {value!r} is out of range")
    return value


def _require(condition, message):
    if not condition:
        raise ValueError(message)


def _restore(info, arrays, state, buf, burn_in, per_replica):
    phase = info.get("phase", "production")
    _require(phase in _PHASES, f"unknown phase {phase!r}")
    spins = arrays["spins"]
    _require(spins.shape == state.spins.shape and spins.dtype == state.spins.dtype,
             f"its chains are {spins.dtype} {spins.shape}, expected {state.spins.dtype} {state.spins.shape}")
    _require(info["seed"] == state.seed, f"seed {info['seed']!r} is not the run's {state.seed}")
    step = _count(info, "step")
    state.spins[...] = spins
    state.step, state.n_accepted, state.n_attempted = step, _count(info, "n_accepted"), _count(info, "n_attempted")
    if phase == "burn-in":
        done = _count(info, "burn_in_done", 0, burn_in)
        _require(step == done, f"step {step} does not match {done} burn-in steps")
        return dict(phase=phase, burn_in_done=done)
    if phase == "pilot":
        names, target = info["pilot_names"], _count(info, "pilot_target", 1)
        _require(isinstance(names, list) and all(isinstance(n, str) for n in names), "bad pilot_names")
        columns = [arrays[f"pilot_{j}"] for j in range(len(names))]
        length = len(columns[0]) if columns else 0
        _require(all(c.ndim >= 1 and len(c) == length for c in columns) and length <= target,
                 "pilot records of unequal or excessive length")
        _require(step == burn_in + length, f"step {step} does not match {burn_in} + {length} pilot steps")
        records = [{n: c[t] for n, c in zip(names, columns)} for t in range(length)]
        return dict(phase=phase, records=records, pilot_target=target)
    thin, pilot_steps = _count(info, "thin", 1), _count(info, "pilot_steps", 1)
    collected = arrays["collected"]
    n_done = _count(info, "n_collected", 0, per_replica) if "n_collected" in info else len(collected)
    into = _count(info, "into", 0, thin) if "into" in info else 0
    _require(collected.shape == (n_done,) + state.spins.shape and collected.dtype == state.spins.dtype,
             f"its samples are {collected.dtype} {collected.shape}, expected {n_done} of {state.spins.shape}")
    _require(into == 0 or n_done < per_replica, f"{into} steps past the last sample")
    _require(step == burn_in + pilot_steps + thin * n_done + into, f"step {step} does not match the schedule")
    taus, reliable = info["taus"], info["reliable"]
    _require(isinstance(taus, dict) and isinstance(reliable, dict) and taus and set(taus) == set(reliable)
             and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in taus.values())
             and all(isinstance(v, bool) for v in reliable.values()), "bad tau_int records")
    buf[:n_done] = collected
    phase = "done" if n_done == per_replica else "production"
    return dict(phase=phase, taus=taus, pilot_steps=pilot_steps, reliable=reliable, thin=thin,
                n_collected=n_done, into=into)
