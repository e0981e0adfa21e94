"""Moment matching for the pairwise max-ent fits of :mod:`fastmf.neural.maxent`: the errors of a model's
moments against the data's; persistent chains (heat-bath chains or parallel-tempering ladders of
:mod:`fastmf.sampling.meanfield`) that sample the model being fitted; and two learners on them, reweighted
maximum likelihood (:func:`reweighted_learning`) and Boltzmann learning (:func:`boltzmann_learning`, the default).
"""
import sys

import numpy as np
import scipy.optimize
import scipy.special

__all__ = ["moment_errors", "chain_moments", "LearningChains", "boltzmann_learning", "reweighted_learning"]

_MAX_SWEEPS = 5000
#: reweighted learning: stored configurations per chain and step (at most), configurations one step reweights (at
#: most; evenly thinned beyond), steps between stored configurations, and the trust region: the effective sample
#: size of the reweighted sample at least _ESS_MIN of its size, the log-weight of the all-silent and all-firing
#: configurations (relative to the sample's mean) changed by at most _PROBE_MAX per step. 16384 reweighted
#: configurations: stored ones 2 tempering steps apart are correlated, and at N = 160 a larger set made the L-BFGS
#: steps cost ~4x more (45 s instead of ~10 s per step) for no faster descent.
_MAX_KEEP, _MAX_REWEIGHT, _THIN = 2560, 16384, {"heatbath": 10, "tempering": 2}
_ESS_MIN, _PROBE_MAX, _RHO_MIN, _MAX_TRIES = 0.5, 2.0, 0.01, 6


def moment_errors(d, mean, pairs, var_model=None):
    """Errors of the model's means and pair moments against the data's.

    The largest absolute errors, and the standardised ones ``z = diff / sqrt(var_data + var_model)``,
    ``var_data = (1 - x**2) / n`` (floored at 1/n**2 so moments at +-1 keep a finite scale).

    Parameters
    ----------
    d : namedtuple
        The data: ``n`` (bins), ``means`` (N,) and ``pairs`` (N, N).
    mean, pairs : ndarray
        The model's means (N,) and pair moments (N, N).
    var_model : ndarray, optional
        Sampling variance of the model's moments (means, then the pairs ``i < j``).

    Returns
    -------
    dict
        ``max_abs_error_means``, ``max_abs_error_pairs``, ``rms_z``, ``max_z``.
    """
    iu = np.triu_indices(d.means.size, 1)
    x = np.concatenate([d.means, d.pairs[iu]])
    diff = np.concatenate([mean, pairs[iu]]) - x
    var = np.maximum(1 - x ** 2, 1.0 / d.n) / d.n + (0.0 if var_model is None else var_model)
    z = diff / np.sqrt(var)
    return {"max_abs_error_means": float(np.abs(diff[:d.means.size]).max()),
            "max_abs_error_pairs": float(np.abs(diff[d.means.size:]).max()),
            "rms_z": float(np.sqrt(np.mean(z ** 2))), "max_z": float(np.abs(z).max())}


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

    def sample(self, h, J, n_keep, thin, burn_in=0):
        """Run the chains on the model ``(h, J)``: ``burn_in`` steps, then ``n_keep`` configurations ``thin`` steps
        apart (steps: heat-bath sweeps, or tempering steps of one sweep per temperature).

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
    bar = _progress(progress, max_iter)
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


# ---------------------------------------------------------------------------------------- reweighted learning
def _sample_moments(cfg, block=8):
    """Means and pair moments of the stored configurations ``cfg`` (c, L, N), and the sampling variance of the means
    (N,) and pair moments ``i < j`` from the spread between the c independent chains (autocorrelation included)."""
    c, L, N = cfg.shape
    iu = np.triu_indices(N, 1)
    cm = cfg.mean(axis=1, dtype=np.float64)
    s1, s2 = np.zeros((N, N)), np.zeros((N, N))
    for b in range(0, c, block):
        x = cfg[b:b + block].astype(np.float64)
        pairs = np.matmul(x.transpose(0, 2, 1), x) / L
        s1 += pairs.sum(axis=0)
        s2 += (pairs ** 2).sum(axis=0)
    C = s1 / c
    var_pairs = np.maximum(s2 / c - C ** 2, 0.0)[iu] * c / (c - 1)
    return cm.mean(axis=0), C, np.concatenate([cm.var(axis=0, ddof=1), var_pairs]) / c


def _feature_scale(d):
    """Standard deviation of each centred feature ``(s_i - mu_i)``, ``(s_i - mu_i)(s_j - mu_j)`` (i < j) in the
    data, floored at ``1/sqrt(n)``: the learner's coordinates are the parameters times these."""
    w, y = d.counts / d.n, d.patterns - d.means
    cov = (y.T * w) @ y
    y2 = y * y
    iu = np.triu_indices(d.means.size, 1)
    var = np.concatenate([np.diag(cov), ((y2.T * w) @ y2 - cov ** 2)[iu]])
    return np.sqrt(np.maximum(var, 1.0 / d.n)), cov


def _reweighted_step(y, counts, d, cov_data, h, J, l2, scale, rho, probes):
    """One proximal step of importance-reweighted maximum likelihood on distinct model configurations ``y``
    (centred, with ``counts``): minimise over ``x`` (the change of the centred parameters times ``scale``)

    ``ln sum_t c_t e^{a_t(x)} - x . <f>_data / scale + l2/2 |theta + delta|^2 + rho/2 |x|^2``,

    ``a_t`` the change of configuration t's log-weight, i.e. the negative log-likelihood with ``ln Z`` estimated by
    reweighting the sample. Returns the changes of the fields and couplings, the effective sample size of the
    reweighted sample (a fraction of its size), the largest change of a probe's log-weight relative to the sample
    mean, and the L-BFGS iterations."""
    mu, N = d.means, d.means.size
    iu = np.triu_indices(N, 1)
    logc, M = np.log(counts), counts.sum()

    def unpack(x):
        delta = x / scale
        D = np.zeros((N, N))
        D[iu] = delta[N:]
        return delta[:N], D + D.T

    def logits(z, dg, D):
        return z @ dg + 0.5 * np.einsum("ti,ti->t", z @ D, z)

    def objective(x):
        dg, D = unpack(x)
        a = logits(y, dg, D) + logc
        lse = scipy.special.logsumexp(a)
        w = np.exp(a - lse)
        Jn, hn = J + D, h + dg - D @ mu
        f = (lse - np.log(M) - np.sum(D[iu] * cov_data[iu]) + 0.5 * rho * x @ x
             + 0.5 * l2 * (hn @ hn + np.sum(Jn[iu] ** 2)))
        grad_J = (y.T * w) @ y - cov_data + l2 * (Jn - np.outer(hn, mu) - np.outer(mu, hn))
        return f, np.concatenate([w @ y + l2 * hn, grad_J[iu]]) / scale + rho * x

    # gradient tolerance: a tenth of the data's standard error on every moment
    res = scipy.optimize.minimize(objective, np.zeros(scale.size), jac=True, method="L-BFGS-B",
                                  options=dict(maxiter=200, gtol=0.1 / np.sqrt(d.n), ftol=0.0, maxcor=20))
    dg, D = unpack(res.x)
    a = logits(y, dg, D)
    ess = float(np.exp(2 * scipy.special.logsumexp(a + logc) - scipy.special.logsumexp(2 * a + logc)) / M)
    probe = float(np.abs(logits(probes, dg, D) - counts @ a / M).max())
    return dg, D, ess, probe, int(res.nit)


def reweighted_learning(d, h, J, l2, max_iter, tol, seed, n_chains, keep, progress, sampler, start_info=None,
                        max_keep=_MAX_KEEP):
    """Maximum likelihood by importance reweighting of persistent chains, one proximal L-BFGS step per sample.

    Each step samples the current model (``keep`` configurations per chain, :meth:`LearningChains.sample`),
    measures the moment errors, and minimises the negative log-likelihood with ``ln Z(theta + delta) - ln Z(theta)``
    estimated by reweighting that sample, plus a proximal term ``rho/2 |x|^2`` (``x``: the change of the centred
    parameters of :func:`boltzmann_learning`, each times its feature's standard deviation in the data). L-BFGS takes
    the curvature of the reweighted sample, so the stiff collective direction of a bistable model (the one that
    moves weight between a silent and an active state) gets a Newton-sized step instead of an oscillation. Trust
    region: ``rho`` is multiplied by 4 until the reweighted sample keeps an effective size of half its size and
    the log-weights of the all-silent and all-firing configurations (which the sample may not contain, but which a
    small coherent change of many couplings makes dominant) move by at most 2 relative to the sample mean; it is
    halved after an easy step. A step whose errors exceed three times the best since the sample last grew is
    undone (``rho`` times 16). The sample grows (times ``model variance / data variance / 0.5``, 2 to 4, up to
    ``max_keep`` configurations per chain) when ``rms_z <= 2 tol``.

    Parameters
    ----------
    d, h, J, l2, max_iter, tol, seed, n_chains, progress, sampler, start_info :
        As for :func:`boltzmann_learning`.
    keep : int
        Stored configurations per chain in the first step (2 tempering steps or 10 heat-bath sweeps apart).
    max_keep : int
        The most stored configurations per chain and step (default 2560): it bounds the cost of a step.

    Returns
    -------
    h, J : ndarray
    info : dict
        As for :func:`boltzmann_learning`, with ``learner = "reweighted"`` and, per step in ``history``, ``rho``,
        the effective sample size ``ess`` and ``lbfgs_iterations``.
    """
    N, mu = d.means.size, d.means
    iu = np.triu_indices(N, 1)
    chains = LearningChains(sampler, d.patterns, d.counts / d.n, n_chains, seed)
    scale, cov_data = _feature_scale(d)
    var_data = np.maximum(np.concatenate([1 - mu ** 2, 1 - d.pairs[iu] ** 2]), 1.0 / d.n) / d.n
    probes = np.stack([-np.ones(N), np.ones(N)]) - mu
    thin, rho, best = _THIN[sampler], 1.0, (np.inf, h, J)
    history, converged = [], False
    bar = _progress(progress, max_iter)
    for it in range(1, max_iter + 1):
        cfg = chains.sample(h, J, keep, thin, burn_in=max(thin, keep * thin // 4))
        m, C, var_model = _sample_moments(cfg)
        errors = dict(moment_errors(d, m, C, var_model), n_model_samples=n_chains * keep,
                      model_to_data_variance=float(np.median(var_model / var_data)))
        rms, ratio = errors["rms_z"], errors["model_to_data_variance"]
        record = dict(iteration=it, keep=keep, rho=rho, rms_z=rms, max_z=errors["max_z"], model_to_data_variance=ratio)
        history.append(record)
        bar.set_postfix(rms_z=f"{rms:.3g}", keep=keep)
        bar.update(1)
        converged = rms <= tol and ratio <= 1.0
        if converged or it == max_iter:
            break
        if rms > 3 * best[0] + tol:     # the step made things much worse: undo it, with a tighter trust region
            _, h, J = best
            rho *= 16
            record["undone"] = True
            continue
        if rms < best[0]:
            best = (rms, h, J)
        every = -(-cfg.shape[1] * n_chains // _MAX_REWEIGHT)    # ceil: at most _MAX_REWEIGHT configurations
        stored = cfg[:, ::every].reshape(-1, N)
        rows, counts = np.unique(np.packbits(stored > 0, axis=1), axis=0, return_counts=True)
        y = np.unpackbits(rows, axis=1, count=N).astype(np.float64) * 2 - 1 - mu
        for tries in range(1, _MAX_TRIES + 1):
            dg, D, ess, probe, nit = _reweighted_step(y, counts.astype(np.float64), d, cov_data, h, J, l2, scale, rho,
                                                      probes)
            if ess >= _ESS_MIN and probe <= _PROBE_MAX:
                break
            if tries == _MAX_TRIES:   # still too far: shrink the last step into the trust region
                shrink = min(1.0, _PROBE_MAX / probe, np.sqrt(np.log(1 / _ESS_MIN) / max(np.log(1 / ess), 1e-12)))
                dg, D = dg * shrink, D * shrink
            else:
                rho *= 4
        J, h = J + D, h + dg - D @ mu     # the step was taken in the centred fields g = h + J mu
        record.update(ess=ess, probe=probe, lbfgs_iterations=nit, tries=tries)
        if tries == 1:
            rho = max(rho / 4, _RHO_MIN)
        if rms <= 2 * tol and ratio > 0.5 and keep < max_keep:   # at the noise of this sample: a larger one
            keep = int(min(max_keep, np.ceil(keep * min(4.0, max(2.0, ratio / 0.5)))))
            best = (np.inf, h, J)    # rms_z at a larger sample is not comparable with the best so far
    bar.close()
    info = dict(iterations=it, converged=converged, history=history, n_chains=n_chains, sampler=sampler,
                learner="reweighted", final_rho=rho, **(start_info or {}), **errors)
    return h, J, info


def _progress(enabled, total):
    from tqdm.auto import tqdm
    return tqdm(total=total, desc="maxent mcmc", unit="it", file=sys.stderr, disable=not enabled)
