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

A run can checkpoint (``checkpoint=PATH``, atomic) and, if interrupted, resume from it bit for bit.
"""
import json
import math
import os
import sys

import numpy as np

from .. import stats as _stats
from .lattice import ChainState, LatticeSampler
from ..io.samples import SampleSet, atomic_savez

__all__ = ["simulate_lattice", "measure_autocorrelation"]



def measure_autocorrelation(sampler, state, n_steps, progress=None, max_steps=20_000):
    """Run a pilot from ``state`` (advanced in place); return ``(taus, steps, reliable)``: ``tau_int`` per
    observable (in the sampler's steps), the pilot length, and per observable whether the pilot spans at
    least 50 ``tau_int`` of it.

    A constant series (a frozen observable) has ``tau_int = 0.5``. The pilot doubles until every observable
    is reliable or the next doubling would pass ``max_steps``.
    """
    model = sampler.model
    records = []
    total = 0
    while True:
        for _ in range(n_steps - total):
            sampler.run(state, 1)
            records.append(model.observables(state.spins))
            if progress is not None:
                progress.update(1)
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
    see there for the other arguments and the returned :class:`SampleSet`.
    """
    return simulate_chains(LatticeSampler(model, T, method=method, backend=backend, order=order), n_samples,
                           seed=seed, **kwargs)


def simulate_chains(sampler, n_samples, *, seed, n_replicas=None, burn_in=200, thin=None, start="hot",
                    progress=None, checkpoint=None, checkpoint_every=100, pilot_steps=200, max_pilot_steps=20_000):
    """Draw ``n_samples`` nearly independent equilibrium configurations with a Markov-chain sampler.

    Parameters
    ----------
    sampler : LatticeSampler or any sampler with the same interface
        (``model``, ``init_state``, ``run``, ``describe``, ``step_unit``, ``method``; the model supplies
        ``energy``, ``observables``, ``order_parameter`` and ``order_parameter_name``).
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
        ``.npz`` file written atomically every ``checkpoint_every`` samples per replica; if it exists when
        the run starts (same arguments), the run resumes from it and returns what an uninterrupted run would.
    pilot_steps, max_pilot_steps : int
        First length of the autocorrelation pilot, and the cap of its doubling (``tau_reliable`` is False in
        the metadata when the cap stopped it before it spanned 50 tau_int).

    Returns
    -------
    SampleSet
        ``spins`` (n_samples, ...) plus per-sample ``energy``, the model's order parameter (e.g.
        ``magnetization``), ``replica`` and ``step``; metadata with burn-in, thinning and ``tau_int``.
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
    model = sampler.model
    if n_replicas is None:
        n_replicas = 64 if sampler.method == "multispin" else min(32, max(1, n_samples // 50))
    for name, value, low in (("n_replicas", n_replicas, 1), ("burn_in", burn_in, 0), ("thin", thin, 1),
                             ("checkpoint_every", checkpoint_every, 1),
                             ("pilot_steps", pilot_steps, 8), ("max_pilot_steps", max_pilot_steps, 8)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer))
                                  or value < low):
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    per_replica = -(-n_samples // n_replicas)
    args = dict(sampler=sampler.describe(), n_samples=int(n_samples), seed=int(seed), n_replicas=int(n_replicas),
                burn_in=int(burn_in), thin=thin, start=start, pilot_steps=int(pilot_steps),
                max_pilot_steps=int(max_pilot_steps))
    if progress is None:
        progress = sys.stderr.isatty()
    bar = _progress_bar(progress, sampler.step_unit)

    resumed = _load_checkpoint(checkpoint, args)
    if resumed is None:
        state = sampler.init_state(n_replicas, seed, start=start)
        bar.total = burn_in + pilot_steps
        sampler.run(state, burn_in)
        bar.update(burn_in)
        taus, pilot_steps, reliable = measure_autocorrelation(sampler, state, pilot_steps, bar, max_pilot_steps)
        thin_used = int(thin) if thin is not None else max(1, math.ceil(3 * _thinning_tau(taus, reliable)[0]))
        collected = []
    else:
        state, collected, taus, pilot_steps, reliable, thin_used = resumed
    bar.total = (bar.total or 0) + (per_replica - len(collected)) * thin_used
    bar.refresh()
    for i in range(len(collected), per_replica):
        sampler.run(state, thin_used)
        collected.append(state.spins.copy())
        bar.update(thin_used)
        if checkpoint is not None and ((i + 1) % checkpoint_every == 0 or i + 1 == per_replica):
            _save_checkpoint(checkpoint, args, state, sampler, collected, taus, pilot_steps, reliable, thin_used)
    bar.close()

    tau_max, excluded = _thinning_tau(taus, reliable)
    stacked = np.stack(collected, axis=1)                       # (replica, sample, L, M)
    n_rep = state.n_replicas
    spins = np.swapaxes(stacked, 0, 1).reshape((-1,) + stacked.shape[2:])[:n_samples]   # round-robin order
    replica = np.tile(np.arange(n_rep), per_replica)[:n_samples]
    first = int(burn_in) + pilot_steps
    step = (first + thin_used * np.repeat(np.arange(1, per_replica + 1), n_rep))[:n_samples]
    energy = model.energy(spins)
    order_param = model.order_parameter(spins)
    tau_samples = _sample_tau(energy, replica, n_rep)
    meta = dict(sampler.describe(), beta=sampler.beta, seed=int(seed), n_samples=int(n_samples),
                n_replicas=int(n_rep), start=start, burn_in=first, burn_in_initial=int(burn_in),
                pilot_steps=int(pilot_steps), thin=int(thin_used), thin_from_tau=thin is None,
                tau_int={k: float(v) for k, v in taus.items()}, tau_int_max=tau_max, tau_excluded=excluded,
                tau_reliable=all(reliable[k] for k in taus if k not in excluded),
                tau_int_energy_of_samples=tau_samples,
                acceptance_rate=float(state.acceptance_rate), final_step=int(state.step))
    key = model.order_parameter_name
    return SampleSet(spins, meta, energy=energy, **{key: order_param}, replica=replica, step=step)


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


def _save_checkpoint(path, args, state, sampler, collected, taus, pilot_steps, reliable, thin_used):
    info = json.dumps(dict(args=args, seed=state.seed, step=state.step, n_accepted=state.n_accepted,
                           n_attempted=state.n_attempted, taus=taus, pilot_steps=pilot_steps, reliable=reliable,
                           thin=thin_used))
    atomic_savez(path, spins=state.spins, collected=np.stack(collected), info=np.array(info))


def _load_checkpoint(path, args):
    if path is None or not os.path.exists(path):
        return None
    with np.load(path, allow_pickle=False) as data:
        if "info" not in data.files:
            raise ValueError(f"{str(path)!r} is not a simulate checkpoint")
        info = json.loads(str(data["info"]))
        spins, collected = data["spins"].copy(), list(data["collected"].copy())
    if info["args"] != json.loads(json.dumps(args)):
        raise ValueError(f"checkpoint {str(path)!r} belongs to a different run: {info['args']} vs {args}")
    state = ChainState(spins=spins, seed=info["seed"], step=info["step"], n_accepted=info["n_accepted"],
                       n_attempted=info["n_attempted"])
    return state, collected, info["taus"], info["pilot_steps"], info["reliable"], info["thin"]
