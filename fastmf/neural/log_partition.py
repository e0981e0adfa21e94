"""``ln Z`` of pairwise and K-pairwise maximum-entropy models by annealed importance sampling (AIS), and their
held-out log-likelihood per bin with an error bar.

:func:`log_partition_ais` anneals from an independent model, whose ``ln Z`` is known, to the target along the
straight line in parameter space; every intermediate is a K-pairwise model, so the heat-bath kernel
:func:`fastmf.kernels.kpairwise_cpu.kpairwise_ais` makes the transitions. :func:`held_out_log_likelihood` uses it
(or enumeration for N <= 16). The estimator, its error bar and the schedule are derived in ``docs/neural.rst``.
"""
import time

import numpy as np
import scipy.special

from ..io.raster import SpikeRaster
from ..kernels.kpairwise_cpu import kpairwise_ais, kpairwise_init, kpairwise_measure, kpairwise_state, kpairwise_sweep
from ..kernels.philox import check_seed
from ..kernels.validation import check_int
from .kpairwise import KPairwiseMaxEnt
from .maxent import PairwiseMaxEnt

__all__ = ["log_partition_ais", "held_out_log_likelihood", "log_partition_exact", "DEFAULT_AIS_CHAINS",
           "DEFAULT_AIS_STEPS", "MAX_ENUMERATED_N"]

#: Defaults of :func:`log_partition_ais`: about 10 s for the N = 160 salamander model on one core, stderr < 0.01.
DEFAULT_AIS_CHAINS = 256
DEFAULT_AIS_STEPS = 16_000
#: :func:`held_out_log_likelihood` enumerates ``ln Z`` up to this N.
MAX_ENUMERATED_N = 16
_BATCH = 64                        # chains per kernel call (results do not depend on it)
_PILOT_CHAINS, _PILOT_BURN, _PILOT_MEASURE = 64, 200, 300
_SEGMENTS, _UNIFORM_SHARE = 100, 0.1
# Philox chain indices of the pilot runs, apart from the main run's 0 .. n_chains - 1
_PILOT_CHAIN0, _SCHEDULE_CHAIN0 = 2 ** 31, 2 ** 31 + 2 ** 30


def _parameters(model):
    if isinstance(model, KPairwiseMaxEnt):
        return model.J, model.h, model.V
    if isinstance(model, PairwiseMaxEnt):
        return model.J, model.h, np.zeros(model.N + 1)
    raise TypeError(f"model must be a PairwiseMaxEnt or KPairwiseMaxEnt, got {type(model).__name__}")


def log_partition_exact(model):
    """``ln Z`` by enumeration of all ``2**N`` states (N <= 20) of a PairwiseMaxEnt or KPairwiseMaxEnt."""
    _parameters(model)
    silent = -np.ones(model.N, np.int8)
    return float(-model.energy(silent)[0] - model.exact_log_probs()[0])


def _start_fields(J, h, V, seed):
    """Fields of the independent start: ``arctanh`` of the means of short target chains started from draws of
    ``exp(h . s)`` (so a symmetric bistable target gives chains in both states), clipped to ``|m| <= 0.999``."""
    spins = kpairwise_init(h, _PILOT_CHAINS, seed=seed, chain0=_PILOT_CHAIN0)
    lf, k = kpairwise_state(spins, J)
    kpairwise_sweep(spins, J, h, V, lf, k, seed=seed, chain0=_PILOT_CHAIN0, n_sweeps=_PILOT_BURN, check_values=False)
    spikes = kpairwise_measure(spins, J, h, V, lf, k, seed=seed, chain0=_PILOT_CHAIN0, sweep=_PILOT_BURN,
                               n_sweeps=_PILOT_MEASURE)[0]
    m = 2 * spikes.sum(axis=0) / (_PILOT_CHAINS * _PILOT_MEASURE) - 1
    return np.arctanh(np.clip(m, -0.999, 0.999))


def _schedule(J, h, V, h0, n_steps, seed):
    """``betas`` with a density of steps proportional to the spread (between pilot chains) of the increments of
    ``ln w`` on a uniform pilot schedule, plus a uniform 10 %: steps go where the weights lose precision."""
    if n_steps < 10 * _SEGMENTS:
        return np.linspace(0.0, 1.0, n_steps + 1)
    per = max(20, n_steps // (8 * _SEGMENTS))
    _, _, trace = kpairwise_ais(J, h, V, h0, np.linspace(0.0, 1.0, per * _SEGMENTS + 1), _PILOT_CHAINS, seed=seed,
                                chain0=_SCHEDULE_CHAIN0, trace_every=per)
    spread = np.diff(trace, axis=1, prepend=0.0).std(axis=0)
    density = (1 - _UNIFORM_SHARE) * spread / max(spread.mean(), 1e-300) + _UNIFORM_SHARE
    cdf = np.concatenate([[0.0], np.cumsum(density)])
    betas = np.interp(np.linspace(0.0, cdf[-1], n_steps + 1), cdf, np.linspace(0.0, 1.0, _SEGMENTS + 1))
    betas[0], betas[-1] = 0.0, 1.0
    return np.maximum.accumulate(betas)


def log_partition_ais(model, *, n_chains=DEFAULT_AIS_CHAINS, n_steps=DEFAULT_AIS_STEPS, seed=0, progress=False,
                      full_output=False):
    """``ln Z`` of a pairwise or K-pairwise max-ent model by annealed importance sampling, with its standard error.

    Path: ``exp(b (1/2 s^T J s + V[K]) + (h0 + b (h - h0)) . s)``, ``b`` from 0 to 1 in ``n_steps`` steps, one
    heat-bath sweep per step; ``h0 = arctanh <s>`` from short target chains. The schedule puts steps where a
    pilot run (64 chains, ~1/8 of the steps) saw the weights spread. ``stderr`` is the delta-method error of
    ``ln mean(w)``: ``std(w) / (sqrt(n_chains) mean(w))``; it assumes the weights have a finite variance, which
    fails when the chains miss a state of the target that holds much weight (a bistable model whose second state
    single-site chains never reach): check ``ess`` (``full_output``) and compare two seeds.

    Parameters
    ----------
    model : PairwiseMaxEnt or KPairwiseMaxEnt
    n_chains : int
        Independent annealing chains (>= 2).
    n_steps : int
        Annealing steps (>= 1).
    seed : int
        Philox key: the result depends on the arguments alone, not on the number of threads.
    progress : bool
        tqdm progress bar on stderr (over batches of 64 chains).
    full_output : bool
        Also return a dict: ``log_w`` (per chain), ``ess`` (``(sum w)^2 / sum w^2``), ``log_z0``, ``h0``, ``betas``,
        ``seconds``.

    Returns
    -------
    log_z : float
    stderr : float
    info : dict
        Only with ``full_output``.
    """
    J, h, V = _parameters(model)
    n_chains = check_int("n_chains", n_chains, 2, 2 ** 30)
    n_steps = check_int("n_steps", n_steps, 1, 2 ** 31)
    seed = check_seed(seed)
    t0 = time.perf_counter()
    h0 = _start_fields(J, h, V, seed)
    betas = _schedule(J, h, V, h0, n_steps, seed)
    from tqdm.auto import tqdm
    log_w = np.empty(n_chains)
    with tqdm(total=n_chains, desc="AIS chains", disable=not progress) as bar:
        for c0 in range(0, n_chains, _BATCH):
            c1 = min(n_chains, c0 + _BATCH)
            log_w[c0:c1] = kpairwise_ais(J, h, V, h0, betas, c1 - c0, seed=seed, chain0=c0)[0]
            bar.update(c1 - c0)
    log_z0 = float(np.sum(np.logaddexp(h0, -h0)))       # ln prod_i 2 cosh(h0_i)
    w = np.exp(log_w - log_w.max())
    log_z = log_z0 + float(scipy.special.logsumexp(log_w) - np.log(n_chains))
    stderr = float(w.std(ddof=1) / (np.sqrt(n_chains) * w.mean()))
    if not full_output:
        return log_z, stderr
    return log_z, stderr, dict(log_w=log_w, ess=float(w.sum() ** 2 / (w ** 2).sum()), log_z0=log_z0, h0=h0,
                               betas=betas, seconds=time.perf_counter() - t0)


def _log_z(model, log_z, kwargs):
    if log_z is None:
        if model.N <= MAX_ENUMERATED_N:
            return log_partition_exact(model), 0.0, "exact"
        return (*log_partition_ais(model, **kwargs), "ais")
    if np.ndim(log_z) == 0:
        value, err = log_z, 0.0
    elif np.shape(log_z) == (2,):
        value, err = log_z
    else:
        raise ValueError(f"log_z must be a number or a pair (log_z, stderr), got {log_z!r}")
    value, err = float(value), float(err)
    if not (np.isfinite(value) and np.isfinite(err) and err >= 0):
        raise ValueError(f"log_z must be finite with a non-negative standard error, got {log_z!r}")
    return value, err, "given"


def held_out_log_likelihood(model, spins, *, log_z=None, n_batches=20, seed=0, n_chains=DEFAULT_AIS_CHAINS,
                            n_steps=DEFAULT_AIS_STEPS, progress=False):
    """Mean log-likelihood per bin (nats) of held-out data under a max-ent model, with its standard error.

    ``ln P(s) = -E(s) - ln Z``. The data's error comes from batch means over ``n_batches`` contiguous blocks of
    bins (so it includes autocorrelation); the total ``stderr`` adds that of ``ln Z`` in quadrature.

    Parameters
    ----------
    model : PairwiseMaxEnt or KPairwiseMaxEnt
    spins : SpikeRaster or array_like, shape (n_bins, N)
        +-1 or 0/1 (spike = +1 or 1), bins in time order.
    log_z : float or (float, float), optional
        ``ln Z`` (with its standard error); None: enumeration for N <= 16, :func:`log_partition_ais` above.
    n_batches : int
        Contiguous blocks (>= 2, at most the number of bins).
    seed, n_chains, n_steps, progress :
        Passed to :func:`log_partition_ais`.

    Returns
    -------
    dict
        ``mean_log_likelihood``, ``stderr``, ``stderr_data``, ``log_z``, ``log_z_stderr``, ``log_z_method``
        ("exact", "ais" or "given"), ``n_bins``, ``n_batches``.
    """
    _parameters(model)
    raster = spins if isinstance(spins, SpikeRaster) else SpikeRaster.from_binary(np.asarray(spins),
                                                                                   orientation="time_x_neurons")
    if raster.n_neurons != model.N:
        raise ValueError(f"spins have {raster.n_neurons} neurons, the model {model.N}")
    n_batches = check_int("n_batches", n_batches, 2, raster.n_bins)
    value, err, how = _log_z(model, log_z, dict(n_chains=n_chains, n_steps=n_steps, seed=seed, progress=progress))
    edges = np.linspace(0, raster.n_bins, n_batches + 1).astype(np.int64)
    sums = np.zeros(n_batches)
    step = max(1, 2 ** 22 // model.N)
    for start in range(0, raster.n_bins, step):       # block by block: never all bins unpacked at once
        stop = min(start + step, raster.n_bins)
        log_f = -model.energy(raster.to_spins(start, stop))
        batch = np.searchsorted(edges, np.arange(start, stop), side="right") - 1
        sums += np.bincount(batch, weights=log_f, minlength=n_batches)
    means = sums / np.diff(edges)
    stderr_data = float(means.std(ddof=1) / np.sqrt(n_batches))
    return dict(mean_log_likelihood=float(sums.sum() / raster.n_bins - value),
                stderr=float(np.hypot(stderr_data, err)), stderr_data=stderr_data, log_z=value, log_z_stderr=err,
                log_z_method=how, n_bins=raster.n_bins, n_batches=n_batches)
