"""The K-pairwise maximum-entropy model of binary neural data (Tkačik et al., PLoS Comput Biol 10, e1003408 (2014)):
:class:`KPairwiseMaxEnt` and its fitter :func:`fit_kpairwise_maxent`.

``P(s) ~ exp(1/2 s^T J s + h^T s + V[K])`` over ``s in {-1, +1}^N`` (spike = +1), ``K`` the number of spikes, ``V``
of ``N + 1`` entries in the gauge ``V[0] = 0``; ``V = 0`` is :class:`~fastmf.neural.maxent.PairwiseMaxEnt`. It
matches the data's means, pair moments and spike-count distribution ``P(K)``. Sampling and the Boltzmann learning
of ``method="mcmc"`` use the heat-bath kernel :mod:`fastmf.kernels.kpairwise_cpu`; the derivation (gauge,
convexity, regularisation of unseen ``K``) is in ``docs/neural.rst``.
"""
import collections
import dataclasses
import json
import math

import numpy as np
import scipy.optimize
import scipy.special

from .._version import __version__
from ..exact.enumeration import all_spins
from ..io.files import check_memory
from ..io.raster import SpikeRaster
from ..io.samples import atomic_savez, read_npz
from ..kernels.kpairwise_cpu import kpairwise_init, kpairwise_measure, kpairwise_state, kpairwise_sweep
from ..kernels.philox import check_seed
from ..kernels.validation import check_int, check_real
from ..stats.mcmc import integrated_autocorr_time
from .maxent import MAX_EXACT_FIT_N, MAX_EXACT_N, PairwiseMaxEnt, fit_pairwise_maxent
from .maxent_learning import MIN_K_COUNT, moment_errors, pk_tested, progress_bar
from .maxent_reweighted import reweighted_learning

__all__ = ["KPairwiseMaxEnt", "fit_kpairwise_maxent", "KPAIRWISE_METHODS", "MIN_K_COUNT"]

KPAIRWISE_METHODS = ("auto", "exact", "mcmc")
LEARNERS = ("gradient", "reweighted")
_FORMAT = "fastmf.KPairwiseMaxEnt"
_ENERGY = "-(1/2 s^T J s + h^T s + V[K]), s = +-1, spike = +1, K = number of spikes, V[0] = 0"
_AUTO_EXACT_N = 16
_MAX_SWEEPS = 5000
_MAX_THIN = 10_000
_PATIENCE = 5       # learning steps without a new best rms_z before a noisy sample is doubled


@dataclasses.dataclass(frozen=True, eq=False)
class KPairwiseMaxEnt:
    """``P(s) ~ exp(1/2 s^T J s + h^T s + V[K])`` over ``s in {-1, +1}^N``, ``K = #{i: s_i = +1}``.

    Attributes
    ----------
    h : ndarray, shape (N,)
        Fields (read-only copy).
    J : ndarray, shape (N, N)
        Couplings: symmetric within 1e-10 (stored exactly symmetrised), zero diagonal (read-only copy).
    V : ndarray, shape (N + 1,)
        Potential on the spike count, stored in the gauge ``V[0] = 0`` (``V - V[0]``: the same distribution).
    """

    h: np.ndarray
    J: np.ndarray
    V: np.ndarray

    def __post_init__(self):
        pair = PairwiseMaxEnt(self.h, self.J)          # validates h and J
        V = np.array(self.V, dtype=np.float64)
        if V.shape != (pair.N + 1,):
            raise ValueError(f"V must have shape (N + 1,) = ({pair.N + 1},) to match h, got {V.shape}")
        if not np.isfinite(V).all():
            raise ValueError("V must be finite (no NaN or inf)")
        V = V - V[0]
        V.setflags(write=False)
        for name, value in (("h", pair.h), ("J", pair.J), ("V", V)):
            object.__setattr__(self, name, value)

    @property
    def N(self):
        return self.h.size

    def pairwise(self):
        """The pairwise part ``(h, J)`` as a :class:`~fastmf.neural.maxent.PairwiseMaxEnt` (V dropped)."""
        return PairwiseMaxEnt(self.h, self.J)

    def energy(self, spins):
        """``E(s) = -(1/2 s^T J s + h^T s + V[K])`` of configurations (n, N) (or one (N,)) of +-1: float64 (n,)."""
        pair = self.pairwise()
        e = pair.energy(spins)
        k = (np.asarray(spins).reshape(e.size, self.N) > 0).sum(axis=1)
        return e - self.V[k]

    def sample(self, n_samples, *, seed, burn_in=1000, thin=None, n_chains=None, init="silent", progress=False):
        """Configurations from heat-bath chains: int8 +-1 of shape (n_samples, N), a function of the arguments.

        ``n_chains`` chains (default ``min(64, n_samples)``) start from ``init``, run ``burn_in`` sweeps, then give
        one configuration every ``thin`` sweeps each (row ``t n_chains + c`` is chain ``c`` at its ``t``-th
        sample). ``thin=None``: ``ceil(3 tau)``, ``tau`` the integrated autocorrelation time of ``K`` over the
        chains in the second half of the burn-in (1 if that is under 8 sweeps), at most 10 000.

        Single-site chains do not cross a high barrier. Retinal models can have a metastable all-firing state
        of negligible weight (the salamander160 model: ~1e-4 of Z, yet a quarter of chains started at K ~ N/2
        fall into it), so chains start silent (all -1) by default; for a model whose weight is elsewhere pass
        ``init="independent"`` (exact draws of ``exp(h . s)``) or configurations, and check the samples' P(K).

        Parameters
        ----------
        n_samples : int
        seed : int
            ``0 <= seed < 2**32`` (Philox key of the chains).
        burn_in : int
        thin : int, optional
        n_chains : int, optional
        init : {"silent", "independent"} or array_like of +-1, shape (n_chains, N)
        progress : bool
            tqdm progress bar on stderr.
        """
        n_samples = check_int("n_samples", n_samples, 1)
        burn_in = check_int("burn_in", burn_in, 0)
        seed = check_seed(seed)
        spins = self._init_chains(init, n_chains, n_samples, seed)
        n_chains = spins.shape[0]
        check_memory(n_samples * self.N + 16 * n_chains * self.N, f"{n_samples} samples of {self.N} spins")
        lf, k = kpairwise_state(spins, self.J)
        args = (self.J, self.h, self.V, lf, k)
        half = burn_in // 2 if thin is None else 0      # the second half of the burn-in traces K for thin
        kpairwise_sweep(spins, *args, seed=seed, sweep=0, n_sweeps=burn_in - half, check_values=False)
        trace = np.empty((half, n_chains))
        for t in range(burn_in - half, burn_in):
            kpairwise_sweep(spins, *args, seed=seed, sweep=t, check_values=False)
            trace[t - burn_in + half] = k
        if thin is None:
            thin = 1 if half < 8 else min(_MAX_THIN, math.ceil(3 * integrated_autocorr_time(trace)))
        thin = check_int("thin", thin, 1)
        n_rounds = -(-n_samples // n_chains)
        out = np.empty((n_rounds, n_chains, self.N), np.int8)
        sweep = burn_in
        bar = progress_bar(progress, n_rounds, "kpairwise sample")
        for r in range(n_rounds):
            kpairwise_sweep(spins, *args, seed=seed, sweep=sweep, n_sweeps=thin, check_values=False)
            out[r], sweep = spins, sweep + thin
            bar.update(1)
        bar.close()
        return out.reshape(-1, self.N)[:n_samples].copy()

    def _init_chains(self, init, n_chains, n_samples, seed):
        if isinstance(init, str):
            n_chains = check_int("n_chains", min(64, n_samples) if n_chains is None else n_chains, 1)
            if init == "silent":
                return -np.ones((n_chains, self.N), np.int8)
            if init == "independent":
                return kpairwise_init(self.h, n_chains, seed=seed)
            raise ValueError(f"init must be 'silent', 'independent' or configurations, got {init!r}")
        spins = np.array(init)
        if spins.ndim != 2 or spins.shape[1] != self.N or not np.isin(spins, (-1, 1)).all():
            raise ValueError(f"init configurations must be +-1 of shape (n_chains, {self.N}), got shape "
                             f"{spins.shape}")
        if n_chains is not None and n_chains != spins.shape[0]:
            raise ValueError(f"n_chains = {n_chains} but init holds {spins.shape[0]} configurations")
        return np.ascontiguousarray(spins, dtype=np.int8)

    def exact_log_probs(self):
        """``ln P(s)`` of all ``2**N`` states (N <= 20), entry ``k`` the state with ``s_i = +1`` where bit ``i`` of
        ``k`` is set (as :meth:`PairwiseMaxEnt.exact_log_probs`)."""
        if self.N > MAX_EXACT_N:
            raise ValueError(f"exact_log_probs enumerates 2**N states: N = {self.N} exceeds {MAX_EXACT_N}")
        idx = np.arange(2 ** self.N, dtype=np.int64)
        k = np.zeros(idx.size, np.int64)
        for i in range(self.N):
            k += (idx >> i) & 1
        lp = self.pairwise().exact_log_probs() + self.V[k]
        return lp - scipy.special.logsumexp(lp)

    def to_dict(self):
        """JSON-serialisable: ``model``, ``N``, ``energy`` (the convention), ``h``, ``J`` and ``V`` as lists."""
        return {"model": "kpairwise-maxent", "N": self.N, "energy": _ENERGY, "h": self.h.tolist(),
                "J": self.J.tolist(), "V": self.V.tolist()}

    def save(self, path):
        """Write ``h``, ``J``, ``V`` and a JSON ``metadata`` string to ``path`` (.npz) atomically; returns path."""
        meta = {"format": _FORMAT, "fastmf_version": __version__, "N": self.N, "energy": _ENERGY}
        return atomic_savez(path, h=self.h, J=self.J, V=self.V, metadata=np.array(json.dumps(meta, sort_keys=True)))

    @classmethod
    def load(cls, path):
        """Read a model written by :meth:`save` (ValueError naming the problem for any other file)."""
        arrays, meta = read_npz(path, ("h", "J", "V", "metadata"), "K-pairwise max-ent model")
        if meta.get("format") != _FORMAT:
            raise ValueError(f"{str(path)!r} holds format {meta.get('format')!r}, not {_FORMAT!r}")
        if any(arrays[x].dtype.kind not in "iuf" for x in ("h", "J", "V")):
            raise ValueError(f"{str(path)!r} is damaged: h, J and V must be real numbers")
        try:
            return cls(arrays["h"], arrays["J"], arrays["V"])
        except ValueError as exc:
            raise ValueError(f"{str(path)!r} is not a valid K-pairwise max-ent model: {exc}") from None


# ---------------------------------------------------------------------------------------------- data
# distinct patterns (m, N) of +-1 with their counts; n bins; <s_i>; <s_i s_j>; P(K) and its counts (N + 1,)
_KData = collections.namedtuple("_KData", "raster patterns counts n means pairs pk k_counts")


def _data(data):
    if not isinstance(data, SpikeRaster):
        arr = np.asarray(data)
        if arr.dtype == object or arr.dtype.kind not in "biuf":
            raise ValueError(f"data must be a SpikeRaster or a numeric (n, N) array of +-1 or 0/1, "
                             f"got dtype {arr.dtype}")
        data = SpikeRaster.from_binary(arr, orientation="time_x_neurons")
    if data.n_neurons < 2 or data.n_bins < 2:
        raise ValueError(f"a K-pairwise model needs at least 2 neurons and 2 time bins, got {data.n_bins} bins x "
                         f"{data.n_neurons} neurons")
    packed, counts = np.unique(data.packed, axis=0, return_counts=True)
    S = 2.0 * np.unpackbits(packed, axis=1, count=data.n_neurons) - 1
    p = counts / data.n_bins
    k_counts = np.bincount(((S > 0).sum(axis=1)), weights=counts, minlength=data.n_neurons + 1)
    return _KData(data, S, counts.astype(np.float64), data.n_bins, p @ S, (S.T * p) @ S, k_counts / data.n_bins,
                  k_counts)


# ---------------------------------------------------------------------------------------------- exact
def _fit_exact(d, l2, max_iter, tol, x0):
    N = d.means.size
    if N > MAX_EXACT_FIT_N:
        raise ValueError(f"method='exact' enumerates 2**N states: N = {N} exceeds {MAX_EXACT_FIT_N}; "
                         f"use method='mcmc'")
    S, iu = all_spins(N), np.triu_indices(N, 1)
    ks = (S > 0).sum(axis=1)
    n_j = iu[0].size
    target = np.concatenate([d.means, d.pairs[iu], d.pk[1:]])

    def moments(theta):
        J = np.zeros((N, N))
        J[iu] = theta[N:N + n_j]
        J = J + J.T
        logw = 0.5 * np.einsum("ki,ki->k", S @ J, S) + S @ theta[:N] + np.concatenate([[0.0], theta[N + n_j:]])[ks]
        log_z = scipy.special.logsumexp(logw)
        p = np.exp(logw - log_z)
        return p @ S, (S.T * p) @ S, np.bincount(ks, weights=p, minlength=N + 1), log_z, J

    def objective(theta):   # convex: ln Z - theta . <features>_data + l2/2 |theta|^2
        m, C, pk, log_z, _ = moments(theta)
        grad = np.concatenate([m, C[iu], pk[1:]]) - target + l2 * theta
        return log_z - theta @ target + 0.5 * l2 * theta @ theta, grad

    res = scipy.optimize.minimize(objective, x0, jac=True, method="L-BFGS-B",
                                  options=dict(maxiter=max_iter, gtol=tol, ftol=0.0, maxcor=30))
    m, C, pk, _, J = moments(res.x)
    grad = float(np.abs(res.jac).max())   # a line search stalled by rounding below 10 tol counts as converged
    info = dict(iterations=int(res.nit), converged=bool(res.success or grad <= 10 * tol), message=str(res.message),
                max_abs_gradient=grad, **moment_errors(d, m, C, pk=pk))
    return res.x[:N], J, np.concatenate([[0.0], res.x[N + n_j:]]), info


# ---------------------------------------------------------------------------------------------- mcmc
def _measure(spins, model_args, sweep, n_sweeps, seed):
    """Per-chain means (c, N), pair moments (c, N, N) and P(K) (c, N + 1) over ``n_sweeps`` sweeps, from the
    spike and co-spike counts of :func:`~fastmf.kernels.kpairwise_cpu.kpairwise_measure`:
    ``<s_i s_j> = 1 - 2 <x_i> - 2 <x_j> + 4 <x_i x_j>`` with ``x = (s + 1) / 2``."""
    ones, both, hist = kpairwise_measure(spins, *model_args, seed=seed, sweep=sweep, n_sweeps=n_sweeps)
    x, xx = ones / n_sweeps, both / n_sweeps
    xx = xx + xx.transpose(0, 2, 1)
    idx = np.arange(x.shape[1])
    xx[:, idx, idx] = x
    pairs = 1 - 2 * x[:, :, None] - 2 * x[:, None, :] + 4 * xx
    return 2 * x - 1, pairs, hist / n_sweeps


def _fit_mcmc(d, l2, max_iter, tol, seed, n_chains, h, J, progress, max_sweeps, lr=0.3, lr_v=0.5):
    """Boltzmann learning: momentum steps on ``(g, J)`` in the centred coordinates of
    :func:`~fastmf.neural.maxent_learning.boltzmann_learning` (``h = g - J mu``) and a step on ``V`` preconditioned
    by ``1 / max(P_data(K), P_model(K), MIN_K_COUNT / n)`` (``V[K] += log(P_data / P_model)`` to first order: the
    exact Fisher information of the one-hot features, up to a rank-one term)."""
    N, mu = d.means.size, d.means
    iu = np.triu_indices(N, 1)
    rows = np.random.default_rng(seed).choice(len(d.counts), size=n_chains, p=d.counts / d.n)
    spins = np.ascontiguousarray(d.patterns[rows], dtype=np.int8)     # started on data patterns
    lf, kc = kpairwise_state(spins, J)
    V, sweeps, sweep = np.zeros(N + 1), 10, 0
    cov_data = d.pairs - np.outer(mu, mu)
    var_data = np.maximum(np.concatenate([1 - mu ** 2, 1 - d.pairs[iu] ** 2, d.pk * (1 - d.pk)]), 1.0 / d.n) / d.n
    tested = np.concatenate([np.ones(N + iu[0].size, bool), pk_tested(d)])
    vel_g, vel_J, best, stalled, diverging, lr0 = np.zeros(N), np.zeros((N, N)), (np.inf, h, J, V), 0, 0, lr
    kept = (np.inf,)            # the step with the smallest rms_z of all: returned if learning ends worse
    floor = MIN_K_COUNT / d.n
    history, converged = [], False
    bar = progress_bar(progress, max_iter, "kpairwise mcmc")
    for it in range(1, max_iter + 1):
        lf[:], kc[:] = kpairwise_state(spins, J)                     # parameters changed: fields recomputed
        cm, cC, cK = _measure(spins, (J, h, V, lf, kc), sweep, sweeps, seed)
        sweep += sweeps
        m, C, pk = cm.mean(axis=0), cC.mean(axis=0), cK.mean(axis=0)
        var_model = np.concatenate([cm.var(axis=0, ddof=1), cC[:, iu[0], iu[1]].var(axis=0, ddof=1),
                                    cK.var(axis=0, ddof=1)]) / n_chains
        errors = moment_errors(d, m, C, var_model, pk=pk)
        ratio = float(np.median((var_model / var_data)[tested]))
        errors.update(n_model_samples=n_chains * sweeps, model_to_data_variance=ratio)
        rms = errors["rms_z"]
        history.append(dict(iteration=it, sweeps=sweeps, rms_z=rms, max_z=errors["max_z"],
                            model_to_data_variance=ratio, learning_rate=lr))
        bar.set_postfix(rms_z=f"{rms:.3g}", sweeps=sweeps)
        bar.update(1)
        converged = rms <= tol and ratio <= 1.0
        if rms < kept[0]:
            kept = (rms, h, J, V, errors, it)
        if converged or it == max_iter:
            break
        diverging = diverging + 1 if rms > 3 * best[0] + tol else 0
        if diverging >= 3 and lr > lr0 / 64:   # (not one noisy spike) back to the best parameters, smaller steps
            _, h, J, V = best
            lr, lr_v, vel_g, vel_J, diverging = lr / 2, lr_v / 2, np.zeros(N), np.zeros((N, N)), 0
            continue
        stalled = stalled + 1 if rms >= best[0] else 0
        if rms < best[0]:
            best = (rms, h, J, V)
        if sweeps < max_sweeps and ((rms <= 2 * tol and ratio > 0.5) or (ratio > 1 and stalled >= _PATIENCE)):
            # at the noise floor of this sample, or stuck with a sample noisier than the data: measure longer
            sweeps, best, stalled = min(2 * sweeps, max_sweeps), (np.inf, h, J, V), 0
        cov_model = C - np.outer(m, mu) - np.outer(mu, m) + np.outer(mu, mu)
        grad_J = cov_data - cov_model - l2 * (J - np.outer(h, mu) - np.outer(mu, h))
        np.fill_diagonal(grad_J, 0.0)
        vel_g = 0.9 * vel_g + lr * (mu - m - l2 * h)
        vel_J = 0.9 * vel_J + lr * (grad_J + grad_J.T) / 2
        step_v = lr_v * (d.pk - pk - l2 * V) / np.maximum(np.maximum(d.pk, pk), floor)
        J, V = J + vel_J, V + step_v - step_v[0]
        h = h + vel_g - vel_J @ mu
    bar.close()
    returned = it
    if not converged and kept[0] < rms:   # ended worse than an earlier step (a bistable fit can run away)
        _, h, J, V, errors, returned = kept
    info = dict(iterations=it, converged=converged, history=history, n_chains=n_chains, returned_step=returned,
                **errors)
    if not converged and ratio > 1:
        info["note"] = (f"not converged with the chains disagreeing beyond the data's sampling error at "
                        f"{sweeps} sweeps per step (model_to_data_variance = {ratio:.3g}): the model is likely "
                        f"bistable, and single-site chains cannot balance its states")
    return h, J, V, info


# ---------------------------------------------------------------------------------------------- public
def fit_kpairwise_maxent(data, *, method="auto", l2=1e-4, max_iter=None, tol=None, seed=0, n_chains=100, start=None,
                         max_sweeps_per_iter=_MAX_SWEEPS, learner="gradient", progress=False):
    """Fit ``P(s) ~ exp(1/2 s^T J s + h^T s + V[K])`` to binary data by L2-regularised maximum likelihood.

    Parameters
    ----------
    data : SpikeRaster or array_like, shape (n_bins, N)
        +-1 or 0/1 (spike = +1 or 1), not mixed; at least 2 bins and 2 neurons.
    method : {"auto", "exact", "mcmc"}
        "exact" (N <= 18; "auto" up to N = 16): L-BFGS on the convex regularised negative log-likelihood with
        moments from all ``2**N`` states. "mcmc": Boltzmann learning with ``n_chains`` persistent heat-bath chains
        (started on data patterns) from the pairwise fit with ``V = 0``.
    l2 : float
        Penalty ``(l2/2)(|h|^2 + sum_{i<j} J_ij^2 + sum_{K>=1} V[K]^2)`` on the per-bin log-likelihood. It keeps
        ``V[K]`` finite at spike counts the data never show (there ``P_model(K) = -l2 V[K]``), so ``l2 = 0`` is
        refused unless every K occurs.
    max_iter : int, optional
        L-BFGS iterations ("exact", default 2000) or learning steps ("mcmc", default 2000).
    tol : float, optional
        "exact": tolerance on the largest gradient component (default 1e-9). "mcmc": stop once the rms of the
        standardised errors ``(model - data) / sqrt(var_data + var_model)`` of the means, pairs and P(K) (K >= 1
        seen in at least :data:`MIN_K_COUNT` bins) is at most ``tol`` (default 1.0) with the model's sampling
        variance (median ratio) at most the data's.
    seed : int
        Seed of the chains ("mcmc") and of the pairwise start: the result depends on the arguments alone.
    n_chains : int
        "mcmc": persistent chains (>= 2); the sweeps per step start at 10 and double at the noise floor (up to
        ``max_sweeps_per_iter``).
    max_sweeps_per_iter : int
        "mcmc": the most sweeps per learning step (>= 10, default 5000): it bounds the cost of a step; a smaller
        one can leave the fit short of ``tol``.
    learner : {"gradient", "reweighted"}
        "mcmc": Boltzmann learning (momentum steps on the sampled moments), or reweighted maximum likelihood
        (:func:`~fastmf.neural.maxent_reweighted.reweighted_learning` with the potential: one trust-region L-BFGS
        step per sample of ``n_chains`` parallel-tempering ladders of 8 replicas, configurations 2 ladder steps
        apart, the sample growing at its noise floor up to ``max_sweeps_per_iter / 10`` configurations per ladder
        and step). Boltzmann steps on a noisy sample random-walk: on 50 neurons of the salamander160 generator
        they ran from rms z 1.1 to 8-48 in 300 steps, where the reweighted learner converges; the ladders keep a
        bistable fit's metastable state in the sample (``docs/neural.rst``).
    start : PairwiseMaxEnt, optional
        Starting ``(h, J)`` (with ``V = 0``); default :func:`fit_pairwise_maxent` on the same data ("mcmc") or
        zeros ("exact").
    progress : bool
        tqdm progress bar on stderr.

    Returns
    -------
    model : KPairwiseMaxEnt
    info : dict
        ``method``, ``iterations``, ``converged``, ``n_bins``, ``N``, ``l2``, ``seed``, the moment errors
        ``max_abs_error_means``, ``max_abs_error_pairs``, ``max_abs_error_pk``, ``rms_z``, ``max_z``, ``n_pk_tested``
        (exact moments for "exact", sampled for "mcmc"); "mcmc" adds ``history`` (one record per step),
        ``n_chains`` and ``start`` (how the pairwise start was obtained). A bistable model (a silent and an active
        state) can leave single-site chains unable to balance the two states: learning then stops at ``max_iter``
        with ``converged = False``, and ``note`` says so when the chains disagree beyond the data's error. An
        unconverged "mcmc" fit returns the parameters of its step with the smallest ``rms_z`` (``returned_step``,
        with that step's moment errors) when learning ended worse than that.
    """
    if method not in KPAIRWISE_METHODS:
        raise ValueError(f"method must be one of {', '.join(KPAIRWISE_METHODS)}, got {method!r}")
    if learner not in LEARNERS:
        raise ValueError(f"learner must be one of {', '.join(LEARNERS)}, got {learner!r}")
    if start is not None and not isinstance(start, PairwiseMaxEnt):
        raise TypeError(f"start must be a PairwiseMaxEnt or None, got {type(start).__name__}")
    l2 = check_real("l2", l2, nonnegative=True)
    seed = check_seed(seed)
    d = _data(data)
    N = d.means.size
    if start is not None and start.N != N:
        raise ValueError(f"start has N = {start.N}, the data {N} neurons")
    if l2 == 0 and np.any(d.k_counts == 0):
        raise ValueError("l2 = 0 has no finite solution: the data never show K = "
                         f"{np.flatnonzero(d.k_counts == 0)[:5].tolist()}... spikes (V[K] -> -inf); use l2 > 0")
    if method == "auto":
        method = "exact" if N <= _AUTO_EXACT_N else "mcmc"
    max_iter = check_int("max_iter", 2000 if max_iter is None else max_iter, 1)
    tol = check_real("tol", (1e-9 if method == "exact" else 1.0) if tol is None else tol, positive=True)
    if method == "exact":
        iu = np.triu_indices(N, 1)
        x0 = np.zeros(2 * N + iu[0].size)
        if start is not None:
            x0[:N], x0[N:N + iu[0].size] = start.h, start.J[iu]
        h, J, V, info = _fit_exact(d, l2, max_iter, tol, x0)
    else:
        n_chains = check_int("n_chains", n_chains, 2)
        check_memory(6 * 8 * n_chains * N * N, f"the pair moments of {n_chains} chains of {N} neurons")
        if start is None:
            start, sinfo = fit_pairwise_maxent(d.raster, l2=l2, seed=seed, progress=progress)
            start_info = {k: sinfo[k] for k in ("method", "converged", "iterations", "rms_z") if k in sinfo}
        else:
            start_info = {"method": "given"}
        max_sweeps = check_int("max_sweeps_per_iter", max_sweeps_per_iter, 10)
        if learner == "gradient":
            h, J, V, info = _fit_mcmc(d, l2, max_iter, tol, seed, n_chains, start.h.copy(), start.J.copy(), progress,
                                      max_sweeps)
        else:   # stored configurations 2 ladder steps apart: at first 10 per ladder, at most max_sweeps / 10
            h, J, V, info = reweighted_learning(d, start.h.copy(), start.J.copy(), l2, max_iter, tol, seed, n_chains,
                                                min(10, max_sweeps // 10), progress, "tempering",
                                                max_keep=max_sweeps // 10, V=np.zeros(N + 1))
        info["learner"] = learner
        info["start"] = start_info
    info = dict(method=method, n_bins=d.n, N=N, l2=l2, seed=seed, **info)
    return KPairwiseMaxEnt(h, J, V), info
