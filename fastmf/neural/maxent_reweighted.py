"""Reweighted maximum likelihood for the pairwise and K-pairwise max-ent fits of :mod:`fastmf.neural.maxent` and
:mod:`fastmf.neural.kpairwise`: persistent chains sample the current model, and each step minimises the negative
log-likelihood with ``ln Z`` estimated by importance reweighting that sample, inside a trust region
(:func:`reweighted_learning`).
"""
import numpy as np
import scipy.optimize
import scipy.special

from .maxent_learning import LearningChains, moment_errors, pk_tested, progress_bar

__all__ = ["reweighted_learning"]

#: reweighted learning: stored configurations per chain and step (at most), configurations one step reweights (at
#: most; evenly thinned beyond), steps between stored configurations, and the trust region: the effective sample
#: size of the reweighted sample at least _ESS_MIN of its size, the log-weight of the all-silent and all-firing
#: configurations (relative to the sample's mean) changed by at most _PROBE_MAX per step. 16384 reweighted
#: configurations: stored ones 2 tempering steps apart are correlated, and at N = 160 a larger set made the L-BFGS
#: steps cost ~4x more (45 s instead of ~10 s per step) for no faster descent.
_MAX_KEEP, _MAX_REWEIGHT, _THIN = 2560, 16384, {"heatbath": 10, "tempering": 2}
_ESS_MIN, _PROBE_MAX, _RHO_MIN, _MAX_TRIES = 0.5, 2.0, 0.01, 6


def _sample_moments(cfg, block=8, with_pk=False):
    """Means and pair moments of the stored configurations ``cfg`` (c, L, N), and the sampling variance of the means
    (N,) and pair moments ``i < j`` from the spread between the c independent chains (autocorrelation included);
    ``with_pk``: also P(K) (N + 1,), its variance appended to the others."""
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
    var = [cm.var(axis=0, ddof=1), var_pairs]
    if not with_pk:
        return cm.mean(axis=0), C, np.concatenate(var) / c
    ks = (cfg > 0).sum(axis=2)
    ck = np.stack([np.bincount(k, minlength=N + 1) for k in ks]) / L
    return cm.mean(axis=0), C, np.concatenate(var + [ck.var(axis=0, ddof=1)]) / c, ck.mean(axis=0)


def _feature_scale(d):
    """Standard deviation of each centred feature ``(s_i - mu_i)``, ``(s_i - mu_i)(s_j - mu_j)`` (i < j) in the
    data, floored at ``1/sqrt(n)``: the learner's coordinates are the parameters times these."""
    w, y = d.counts / d.n, d.patterns - d.means
    cov = (y.T * w) @ y
    y2 = y * y
    iu = np.triu_indices(d.means.size, 1)
    var = np.concatenate([np.diag(cov), ((y2.T * w) @ y2 - cov ** 2)[iu]])
    return np.sqrt(np.maximum(var, 1.0 / d.n)), cov


def _reweighted_step(y, counts, d, cov_data, h, J, l2, scale, rho, probes, pot=None):
    """One proximal step of importance-reweighted maximum likelihood on distinct model configurations ``y``
    (centred, with ``counts``): minimise over ``x`` (the change of the centred parameters times ``scale``)

    ``ln sum_t c_t e^{a_t(x)} - x . <f>_data / scale + l2/2 |theta + delta|^2 + rho/2 |x|^2``,

    ``a_t`` the change of configuration t's log-weight, i.e. the negative log-likelihood with ``ln Z`` estimated by
    reweighting the sample. ``pot = (k, V)``: the K-pairwise model, ``k`` the spike counts of ``y`` and ``V`` the
    potential (its changes at K >= 1 follow the couplings in ``x``; the probes are all-silent and all-firing).
    Returns the changes of the fields, couplings and potential (None without ``pot``), the effective sample size
    of the reweighted sample (a fraction of its size), the largest change of a probe's log-weight relative to the
    sample mean, and the L-BFGS iterations."""
    mu, N = d.means, d.means.size
    iu = np.triu_indices(N, 1)
    n_mp = N + iu[0].size
    logc, M = np.log(counts), counts.sum()
    kt, V = pot if pot is not None else (None, None)
    k_probes = np.array([0, N])

    def unpack(x):
        delta = x / scale
        D = np.zeros((N, N))
        D[iu] = delta[N:n_mp]
        return delta[:N], D + D.T, None if pot is None else np.concatenate([[0.0], delta[n_mp:]])

    def logits(z, dg, D, dV, k):
        a = z @ dg + 0.5 * np.einsum("ti,ti->t", z @ D, z)
        return a if dV is None else a + dV[k]

    def objective(x):
        dg, D, dV = unpack(x)
        a = logits(y, dg, D, dV, kt) + logc
        lse = scipy.special.logsumexp(a)
        w = np.exp(a - lse)
        Jn, hn = J + D, h + dg - D @ mu
        f = (lse - np.log(M) - np.sum(D[iu] * cov_data[iu]) + 0.5 * rho * x @ x
             + 0.5 * l2 * (hn @ hn + np.sum(Jn[iu] ** 2)))
        grad_J = (y.T * w) @ y - cov_data + l2 * (Jn - np.outer(hn, mu) - np.outer(mu, hn))
        grad = [w @ y + l2 * hn, grad_J[iu]]
        if pot is not None:     # the data term -dV . P_data(K), and the penalty on V (K >= 1)
            Vn = V + dV
            f += 0.5 * l2 * np.sum(Vn[1:] ** 2) - dV @ d.pk
            grad.append(np.bincount(kt, weights=w, minlength=N + 1)[1:] - d.pk[1:] + l2 * Vn[1:])
        return f, np.concatenate(grad) / scale + rho * x

    # gradient tolerance: a tenth of the data's standard error on every moment
    res = scipy.optimize.minimize(objective, np.zeros(scale.size), jac=True, method="L-BFGS-B",
                                  options=dict(maxiter=200, gtol=0.1 / np.sqrt(d.n), ftol=0.0, maxcor=20))
    dg, D, dV = unpack(res.x)
    a = logits(y, dg, D, dV, kt)
    ess = float(np.exp(2 * scipy.special.logsumexp(a + logc) - scipy.special.logsumexp(2 * a + logc)) / M)
    probe = float(np.abs(logits(probes, dg, D, dV, k_probes) - counts @ a / M).max())
    return dg, D, dV, ess, probe, int(res.nit)


def reweighted_learning(d, h, J, l2, max_iter, tol, seed, n_chains, keep, progress, sampler, start_info=None,
                        max_keep=_MAX_KEEP, V=None):
    """Maximum likelihood by importance reweighting of persistent chains, one proximal L-BFGS step per sample.

    Each step samples the current model (``keep`` configurations per chain,
    :meth:`~fastmf.neural.maxent_learning.LearningChains.sample`), measures the moment errors, and minimises the
    negative log-likelihood with ``ln Z(theta + delta) - ln Z(theta)`` estimated by reweighting that sample, plus a
    proximal term ``rho/2 |x|^2`` (``x``: the change of the centred parameters of
    :func:`~fastmf.neural.maxent_learning.boltzmann_learning`, each times its feature's standard deviation in the
    data). L-BFGS takes
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
        As for :func:`~fastmf.neural.maxent_learning.boltzmann_learning`.
    keep : int
        Stored configurations per chain in the first step (2 tempering steps or 10 heat-bath sweeps apart).
    max_keep : int
        The most stored configurations per chain and step (default 2560): it bounds the cost of a step.
    V : ndarray (N + 1,), optional
        The K-pairwise model's spike-count potential (start), learnt with ``(h, J)`` to match ``d.pk`` too
        (sampled by the K-pairwise kernel, :meth:`~fastmf.neural.maxent_learning.LearningChains.sample`; ``d``
        also has ``pk`` and ``k_counts``; P(K) joins the moment errors as in
        :func:`~fastmf.neural.maxent_learning.moment_errors`).

    Returns
    -------
    h, J : ndarray
    V : ndarray
        Only when ``V`` is given (gauge ``V[0] = 0``).
    info : dict
        As for :func:`~fastmf.neural.maxent_learning.boltzmann_learning`, with ``learner = "reweighted"`` and, per
        step in ``history``, ``rho``, the effective sample size ``ess`` and ``lbfgs_iterations``.
    """
    N, mu = d.means.size, d.means
    iu = np.triu_indices(N, 1)
    pot = V is not None
    chains = LearningChains(sampler, d.patterns, d.counts / d.n, n_chains, seed)
    scale, cov_data = _feature_scale(d)
    var_data = np.maximum(np.concatenate([1 - mu ** 2, 1 - d.pairs[iu] ** 2]), 1.0 / d.n) / d.n
    tested = np.ones(var_data.size, bool)
    if pot:     # P(K), K >= 1: scale and variance of the one-hot features, tested where the data have the bins
        var_k = np.maximum(d.pk * (1 - d.pk), 1.0 / d.n)
        scale = np.concatenate([scale, np.sqrt(var_k[1:])])
        var_data = np.concatenate([var_data, var_k / d.n])
        tested = np.concatenate([tested, pk_tested(d)])
        V = np.asarray(V, np.float64) - V[0]
    probes = np.stack([-np.ones(N), np.ones(N)]) - mu
    thin, rho, best = _THIN[sampler], 1.0, (np.inf, h, J, V)
    history, converged = [], False
    bar = progress_bar(progress, max_iter)
    for it in range(1, max_iter + 1):
        cfg = chains.sample(h, J, keep, thin, burn_in=max(thin, keep * thin // 4), V=V)
        m, C, var_model, *pk = _sample_moments(cfg, with_pk=pot)
        errors = dict(moment_errors(d, m, C, var_model, pk=pk[0] if pot else None), n_model_samples=n_chains * keep,
                      model_to_data_variance=float(np.median((var_model / var_data)[tested])))
        rms, ratio = errors["rms_z"], errors["model_to_data_variance"]
        record = dict(iteration=it, keep=keep, rho=rho, rms_z=rms, max_z=errors["max_z"], model_to_data_variance=ratio)
        history.append(record)
        bar.set_postfix(rms_z=f"{rms:.3g}", keep=keep)
        bar.update(1)
        converged = rms <= tol and ratio <= 1.0
        if converged or it == max_iter:
            break
        if rms > 3 * best[0] + tol:     # the step made things much worse: undo it, with a tighter trust region
            _, h, J, V = best
            rho *= 16
            record["undone"] = True
            continue
        if rms < best[0]:
            best = (rms, h, J, V)
        every = -(-cfg.shape[1] * n_chains // _MAX_REWEIGHT)    # ceil: at most _MAX_REWEIGHT configurations
        stored = cfg[:, ::every].reshape(-1, N)
        rows, counts = np.unique(np.packbits(stored > 0, axis=1), axis=0, return_counts=True)
        bits = np.unpackbits(rows, axis=1, count=N)
        y = bits.astype(np.float64) * 2 - 1 - mu
        for tries in range(1, _MAX_TRIES + 1):
            dg, D, dV, ess, probe, nit = _reweighted_step(y, counts.astype(np.float64), d, cov_data, h, J, l2, scale,
                                                          rho, probes, (bits.sum(axis=1), V) if pot else None)
            if ess >= _ESS_MIN and probe <= _PROBE_MAX:
                break
            if tries == _MAX_TRIES:   # still too far: shrink the last step into the trust region
                shrink = min(1.0, _PROBE_MAX / probe, np.sqrt(np.log(1 / _ESS_MIN) / max(np.log(1 / ess), 1e-12)))
                dg, D, dV = dg * shrink, D * shrink, None if dV is None else dV * shrink
            else:
                rho *= 4
        J, h = J + D, h + dg - D @ mu     # the step was taken in the centred fields g = h + J mu
        V = V + dV if pot else None
        record.update(ess=ess, probe=probe, lbfgs_iterations=nit, tries=tries)
        if tries == 1:
            rho = max(rho / 4, _RHO_MIN)
        if rms <= 2 * tol and ratio > 0.5 and keep < max_keep:   # at the noise of this sample: a larger one
            keep = int(min(max_keep, np.ceil(keep * min(4.0, max(2.0, ratio / 0.5)))))
            best = (np.inf, h, J, V)    # rms_z at a larger sample is not comparable with the best so far
    bar.close()
    info = dict(iterations=it, converged=converged, history=history, n_chains=n_chains, sampler=sampler,
                learner="reweighted", final_rho=rho, **(start_info or {}), **errors)
    return (h, J, V, info) if pot else (h, J, info)
