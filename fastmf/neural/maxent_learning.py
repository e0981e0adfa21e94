"""Moment matching for the pairwise max-ent fits of :mod:`fastmf.neural.maxent`: the errors of a model's
moments against the data's (P(K) too, for the K-pairwise model); persistent chains (heat-bath chains or
parallel-tempering ladders of :mod:`fastmf.sampling.meanfield`, heat-bath chains of the K-pairwise kernel) that
sample the model being fitted; and Boltzmann learning on them (:func:`boltzmann_learning`, the default; the other
learner, reweighted maximum likelihood, is :mod:`fastmf.neural.maxent_reweighted`).
"""
import sys

import numpy as np

__all__ = ["MIN_K_COUNT", "pk_tested", "moment_errors", "chain_moments", "LearningChains", "boltzmann_learning",
           "progress_bar"]

#: P(K) enters the moment errors (rms_z) only at K >= 1 seen in at least this many data bins
MIN_K_COUNT = 20


def pk_tested(d):
    """Boolean mask over K = 0..N of the P(K) entries a fit is tested on: K >= 1 (K = 0 follows from the others)
    seen in at least :data:`MIN_K_COUNT` of the data's bins ``d.k_counts``."""
    return (d.k_counts >= MIN_K_COUNT) & (np.arange(d.k_counts.size) >= 1)

_MAX_SWEEPS = 5000


def moment_errors(d, mean, pairs, var_model=None, pk=None):
    """Errors of the model's means and pair moments (and spike-count distribution) against the data's.

    The largest absolute errors, and the standardised ones ``z = diff / sqrt(var_data + var_model)``,
    ``var_data = (1 - x**2) / n`` (floored at 1/n**2 so moments at +-1 keep a finite scale).

    Parameters
    ----------
    d : namedtuple
        The data: ``n`` (bins), ``means`` (N,) and ``pairs`` (N, N).
    mean, pairs : ndarray
        The model's means (N,) and pair moments (N, N).
    var_model : ndarray, optional
        Sampling variance of the model's moments (means, then the pairs ``i < j``, then P(K) for K = 0..N when
        ``pk`` is given).
    pk : ndarray (N + 1,), optional
        The model's P(K): its errors against ``d.pk`` (``d.k_counts`` data bins per K) join ``rms_z`` and
        ``max_z`` at K >= 1 with at least :data:`MIN_K_COUNT` data bins, ``var_data = P(K)(1 - P(K)) / n``.

    Returns
    -------
    dict
        ``max_abs_error_means``, ``max_abs_error_pairs``, ``rms_z``, ``max_z``; with ``pk`` also
        ``max_abs_error_pk`` and ``n_pk_tested``.
    """
    N = d.means.size
    iu = np.triu_indices(N, 1)
    n_mp = N + iu[0].size
    x = np.concatenate([d.means, d.pairs[iu]])
    diff = np.concatenate([mean, pairs[iu]]) - x
    var = np.maximum(1 - x ** 2, 1.0 / d.n) / d.n + (0.0 if var_model is None else var_model[:n_mp])
    z = diff / np.sqrt(var)
    out = {"max_abs_error_means": float(np.abs(diff[:N]).max()), "max_abs_error_pairs": float(np.abs(diff[N:]).max()),
           "rms_z": float(np.sqrt(np.mean(z ** 2))), "max_z": float(np.abs(z).max())}
    if pk is None:
        return out
    use = np.flatnonzero(pk_tested(d))
    var = np.maximum(d.pk[use] * (1 - d.pk[use]), 1.0 / d.n) / d.n
    if var_model is not None:
        var = var + var_model[n_mp:][use]
    zk = (pk[use] - d.pk[use]) / np.sqrt(var)
    total = (np.sum(z ** 2) + np.sum(zk ** 2)) / (n_mp + use.size)
    return dict(out, max_abs_error_pk=float(np.abs(pk - d.pk).max()), rms_z=float(np.sqrt(total)),
                max_z=float(max(out["max_z"], np.abs(zk).max(initial=0.0))), n_pk_tested=int(use.size))


def chain_moments(sampler, state, n_sweeps, block=32):
    """Run ``n_sweeps`` sweeps (steps) of ``sampler``, measuring after each.

    Chains are independent, so the spread of their means gives an error bar that includes the autocorrelation
    within a chain.

    Parameters
    ----------
    sampler : MeanFieldSampler or TemperingSampler
        Anything with ``run(state, n_steps)``.
    state : chain state
        Advanced in place; ``state.spins`` (c, N) are measured.
    n_sweeps : int
    block : int
        Measurements buffered per reduction.

    Returns
    -------
    means : ndarray, shape (c, N)
    pairs : ndarray, shape (c, N, N)
    """
    c, N = state.spins.shape
    s1, s2 = np.zeros((c, N)), np.zeros((c, N, N))
    buf = np.empty((c, min(block, n_sweeps), N))
    for start in range(0, n_sweeps, block):
        b = min(block, n_sweeps - start)
        for k in range(b):
            sampler.run(state, 1)
            buf[:, k] = state.spins
        x = buf[:, :b]
        s1 += x.sum(axis=1)
        s2 += x.transpose(0, 2, 1) @ x
    return s1 / n_sweeps, s2 / n_sweeps


class LearningChains:
    """Persistent chains of the model being fitted, rebuilt on the current parameters at every learning step.

    ``"heatbath"``: one single-site chain per ``n_chains``. ``"tempering"``: ``n_chains`` parallel-tempering
    ladders (``n_temperatures`` heat-bath replicas each, measured at the lowest temperature, T = 1): a fitted
    retinal model can be bistable (a silent and an active state), and single-site chains then report the
    moments of the state they sit in, so learning balances the wrong distribution. The configurations of every
    replica and the Philox step counter carry over between steps: the result depends on the seed alone.

    Parameters
    ----------
    sampler : {"heatbath", "tempering"}
    patterns : ndarray, shape (m, N)
        Distinct data patterns (+-1) the chains start on.
    weights : ndarray, shape (m,)
        Their frequencies (the starts are drawn with them, keyed by ``seed``).
    n_chains : int
        Chains (ladders).
    seed : int
    n_temperatures : int
        Temperatures per ladder ("tempering").
    """

    def __init__(self, sampler, patterns, weights, n_chains, seed, n_temperatures=8):
        from ..sampling.lattice import ChainState
        self.sampler, self.seed, self.n_temperatures = sampler, seed, n_temperatures
        shape = (n_chains,) if sampler == "heatbath" else (n_temperatures, n_chains)
        # started on data patterns (drawn with the seed): already in the data's basin
        rows = np.random.default_rng(seed).choice(len(patterns), size=shape, p=weights)
        configs = np.ascontiguousarray(patterns[rows], dtype=np.int8)
        self.state = ChainState(spins=configs, seed=seed) if sampler == "heatbath" else None
        self.configs, self.step = configs, 0

    def moments(self, h, J, n_sweeps):
        """Run the chains on the model ``(h, J)`` for ``n_sweeps`` and measure (see :func:`chain_moments`).

        Parameters
        ----------
        h : ndarray, shape (N,)
        J : ndarray, shape (N, N)
        n_sweeps : int

        Returns
        -------
        means : ndarray, shape (n_chains, N)
        pairs : ndarray, shape (n_chains, N, N)
        """
        from ..models.meanfield import GraphSpinGlass
        from ..sampling.meanfield import MeanFieldSampler, TemperingSampler
        model = GraphSpinGlass.from_dense(J, h, "pairwise-maxent", {"N": h.size})
        if self.sampler == "heatbath":
            return chain_moments(MeanFieldSampler(model, 1.0, method="heatbath", backend="cpu"), self.state,
                                 n_sweeps)
        ladder = TemperingSampler(model, 1.0, n_temperatures=self.n_temperatures)
        state = ladder.state_from_configs(self.configs, self.seed, step=self.step)
        out = chain_moments(ladder, state, n_sweeps)
        self.configs, self.step = state.tempering.arrays[0], state.tempering.step
        return out

    def sample(self, h, J, n_keep, thin, burn_in=0, V=None):
        """Run the chains on the model ``(h, J)`` (with the spike-count potential ``V``: the K-pairwise model):
        ``burn_in`` steps, then ``n_keep`` configurations ``thin`` steps apart (steps:
        heat-bath sweeps, or tempering steps of one sweep per temperature).

        Returns
        -------
        ndarray of int8, shape (n_chains, n_keep, N)
            The configurations at T = 1.
        """
        from ..io.files import check_memory
        from ..models.meanfield import GraphSpinGlass
        from ..sampling.meanfield import MeanFieldSampler, TemperingSampler
        c, N = self.configs.shape[-2:]
        check_memory(c * n_keep * N, f"{c} x {n_keep} stored configurations of {N} neurons")
        if V is not None:
            return self._sample_kpairwise(h, J, V, n_keep, thin, burn_in)
        model = GraphSpinGlass.from_dense(J, h, "pairwise-maxent", {"N": h.size})
        if self.sampler == "heatbath":
            run, state = MeanFieldSampler(model, 1.0, method="heatbath", backend="cpu"), self.state
        else:
            run = TemperingSampler(model, 1.0, n_temperatures=self.n_temperatures)
            state = run.state_from_configs(self.configs, self.seed, step=self.step)
        if burn_in:
            run.run(state, burn_in)
        out = np.empty((c, n_keep, N), np.int8)
        for k in range(n_keep):
            run.run(state, thin)
            out[:, k] = state.spins
        if self.sampler != "heatbath":
            self.configs, self.step = state.tempering.arrays[0], state.tempering.step
        return out

    def _sample_kpairwise(self, h, J, V, n_keep, thin, burn_in):
        """:meth:`sample` of the K-pairwise model with the heat-bath kernel of :mod:`fastmf.kernels.kpairwise_cpu`:
        one chain per row ("heatbath"), or ladders ("tempering": :func:`fastmf.kernels.tempering_cpu.tempering_step`
        on :class:`~fastmf.kernels.kpairwise_cpu.KPairwiseTemperingModel`) at the inverse temperatures of the
        pairwise part's :class:`~fastmf.sampling.meanfield.TemperingSampler`. The step counter (the Philox sweep or
        tempering step index) carries over between calls."""
        from ..kernels.kpairwise_cpu import KPairwiseTemperingModel
        from ..kernels.tempering_cpu import make_tempering_state, tempering_run
        from ..models.meanfield import GraphSpinGlass
        from ..sampling.meanfield import TemperingSampler
        model = KPairwiseTemperingModel(J, h, V)
        ladder = self.sampler != "heatbath"
        if ladder:
            betas = TemperingSampler(GraphSpinGlass.from_dense(J, h, "pairwise-maxent", {"N": h.size}), 1.0,
                                     n_temperatures=self.n_temperatures).betas
            state = make_tempering_state(model, self.configs)
            state.step = self.step
        else:
            arrays = model.arrays(self.configs)
        c, N = self.configs.shape[-2:]
        out = np.empty((c, n_keep, N), np.int8)
        for k in range(-1, n_keep):
            n = burn_in if k < 0 else thin
            if ladder:
                tempering_run(model, state, betas, n, seed=self.seed, heatbath=True)
            elif n:    # plain chains: the kernel runs the sweeps in one call
                model.sweep(arrays, 1.0, seed=self.seed, sweep=self.step, n_sweeps=n, heatbath=True)
                self.step += n
            if k >= 0:
                out[:, k] = state.arrays[0][-1] if ladder else arrays[0]
        self.configs = state.arrays[0] if ladder else arrays[0]
        if ladder:
            self.step = state.step
        return out


def boltzmann_learning(d, h, J, l2, max_iter, tol, seed, n_chains, sweeps_per_iter, learning_rate, progress,
                       sampler, start_info=None, max_sweeps=_MAX_SWEEPS):
    """Boltzmann learning of a pairwise max-ent model in centred coordinates.

    ``P ~ exp(1/2 (s - mu)^T J (s - mu) + g^T (s - mu))``, ``mu`` the data means (``h = g - J mu``). For sparse
    data ``s_i s_j`` is strongly correlated with ``s_i`` and ``s_j``, which makes the likelihood badly conditioned
    in ``(h, J)``; the centred features are nearly uncorrelated, so gradient steps with momentum converge much
    faster (Ferrari, Phys. Rev. E 94, 023301 (2016)). Dividing each step by the feature's variance (diagonal
    Newton) was tried: it amplifies the sampling noise of rare pairs and diverges.

    Parameters
    ----------
    d : namedtuple
        The data: ``patterns`` (distinct +-1 rows), ``counts``, ``n`` (bins), ``means``, ``pairs``.
    h, J : ndarray
        Starting fields (N,) and couplings (N, N).
    l2 : float
        L2 penalty on ``(h, J)``.
    max_iter : int
        Learning steps.
    tol : float
        Stop once ``rms_z <= tol`` with the model's sampling variance at most the data's.
    seed : int
        Seed of the chains (:class:`LearningChains`).
    n_chains, sweeps_per_iter : int
        Persistent chains (ladders); sweeps per step at first (doubled at the noise floor).
    learning_rate : float
        Step size (halved when the errors blow up).
    progress : bool
        tqdm progress bar on stderr.
    sampler : {"heatbath", "tempering"}
        The chains (see :class:`LearningChains`).
    start_info : dict, optional
        Entries about the starting point, copied into ``info``.
    max_sweeps : int
        The most sweeps per step (the doubling stops there).

    Returns
    -------
    h, J : ndarray
        The learnt parameters.
    info : dict
        ``iterations``, ``converged``, ``history`` (one record per step), ``n_chains``, ``sampler``,
        ``final_learning_rate``, the entries of ``start_info`` and the final moment errors
        (:func:`moment_errors`).
    """
    N, mu, w = d.means.size, d.means, d.counts / d.n
    cov_data = d.pairs - np.outer(mu, mu)
    chains = LearningChains(sampler, d.patterns, w, n_chains, seed)
    # The sample per step doubles whenever the errors reach its own noise, until the model's sampling variance
    # (from the spread between chains, so autocorrelation included) is below half the data's: then
    # rms_z <= tol certifies agreement at the data's precision.
    sweeps = sweeps_per_iter
    iu = np.triu_indices(N, 1)
    var_data = np.maximum(np.concatenate([1 - mu ** 2, 1 - d.pairs[iu] ** 2]), 1.0 / d.n) / d.n
    lr, vel_g, vel_J = learning_rate, np.zeros(N), np.zeros((N, N))
    best = (np.inf, h, J)
    history, converged, halvings = [], False, 0
    bar = progress_bar(progress, max_iter)
    for it in range(1, max_iter + 1):
        cm, cC = chains.moments(h, J, sweeps)
        m, C = cm.mean(axis=0), cC.mean(axis=0)
        var_model = np.concatenate([cm.var(axis=0, ddof=1), cC[:, iu[0], iu[1]].var(axis=0, ddof=1)])
        var_model /= n_chains
        errors = dict(moment_errors(d, m, C, var_model), n_model_samples=n_chains * sweeps,
                      model_to_data_variance=float(np.median(var_model / var_data)))
        rms = errors["rms_z"]
        history.append(dict(iteration=it, sweeps=sweeps, learning_rate=lr, rms_z=rms, max_z=errors["max_z"],
                            model_to_data_variance=errors["model_to_data_variance"]))
        bar.set_postfix(rms_z=f"{rms:.3g}", sweeps=sweeps)
        bar.update(1)
        converged = rms <= tol and errors["model_to_data_variance"] <= 1.0
        if converged or it == max_iter:  # the reported errors belong to the returned parameters
            break
        if rms > 3 * best[0] + tol and halvings < 6:  # diverging: back to the best parameters, half the step
            _, h, J = best  # (at most six times: chains trapped in a wrong state keep the errors high at any step)
            lr, vel_g, vel_J, halvings = lr / 2, np.zeros(N), np.zeros((N, N)), halvings + 1
            continue
        if rms < best[0]:
            best = (rms, h, J)
        if rms <= 2 * tol and errors["model_to_data_variance"] > 0.5:  # at the noise floor of this sample
            sweeps = min(2 * sweeps, max_sweeps)
            best = (np.inf, h, J)   # rms_z at a larger sample is not comparable with the best so far
        cov_model = C - np.outer(m, mu) - np.outer(mu, m) + np.outer(mu, mu)
        grad_J = cov_data - cov_model - l2 * (J - np.outer(h, mu) - np.outer(mu, h))  # penalty on (h, J)
        np.fill_diagonal(grad_J, 0.0)
        vel_g = 0.9 * vel_g + lr * (mu - m - l2 * h)
        vel_J = 0.9 * vel_J + lr * (grad_J + grad_J.T) / 2
        J = J + vel_J
        h = h + vel_g - vel_J @ mu  # g += vel_g with g = h + J mu
    bar.close()
    info = dict(iterations=it, converged=converged, history=history, n_chains=n_chains, sampler=sampler,
                final_learning_rate=lr, **(start_info or {}), **errors)
    return h, J, info


def progress_bar(enabled, total, desc="maxent mcmc"):
    """A tqdm progress bar of ``total`` learning steps on stderr (disabled unless ``enabled``)."""
    from tqdm.auto import tqdm
    return tqdm(total=total, desc=desc, unit="it", file=sys.stderr, disable=not enabled)
