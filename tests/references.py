"""Reference helpers shared by test modules, written without fastmf (not collected: no ``test_`` prefix)."""
import math

import numpy as np
from scipy.interpolate import PchipInterpolator
from scipy.special import ndtri

__all__ = ["all_configurations", "generalized_hopfield_probabilities", "inverse_cdf_map",
           "latent_mixture_posterior", "latent_mixture_probabilities", "marginal_probabilities",
           "mutual_information_table", "kpairwise_enumerate", "kpairwise_heatbath_site", "kpairwise_log_weight"]


def inverse_cdf_map(log_density, lo, hi, n_grid=8001):
    """phi(z) = F^{-1}(Phi(z)) pushing N(0, 1) to the 1-D density exp(log_density) on [lo, hi]."""
    phi = np.linspace(lo, hi, n_grid)
    ld = log_density(phi)
    dens = np.exp(ld - ld.max())
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]))])
    cdf, sf = cum / cum[-1], 1.0 - cum / cum[-1]
    ok = (cdf > 1e-300) & (sf > 1e-300)
    zg = np.where(cdf < 0.5, ndtri(np.clip(cdf, 1e-300, 1.0)), -ndtri(np.clip(sf, 1e-300, 1.0)))[ok]
    ph = phi[ok]
    inc = np.concatenate([[True], np.diff(zg) > 1e-12])
    f = PchipInterpolator(zg[inc], ph[inc])
    a, b = zg[inc][0], zg[inc][-1]
    return lambda z: f(np.clip(z, a, b))


# ---- enumeration of every configuration (issue 19: one shared helper) ----------------------------------------

def all_configurations(N):
    """Every +-1 configuration of N sites, an int64 array (2**N, N).

    Row ``r`` has ``s_i = +1`` exactly where bit ``i`` of ``r`` is set (``r = sum_i [s_i = +1] 2**i``, site 0 the
    least significant bit), the state order of :mod:`fastmf.exact`'s tables. Built by plain loops.
    """
    rows = []
    for r in range(2 ** N):
        rows.append([1 if (r >> i) & 1 else -1 for i in range(N)])
    return np.array(rows, dtype=np.int64).reshape(2 ** N, N)


def latent_mixture_probabilities(fields, directions, atoms, weights):
    """``p(s) = sum_k w_k prod_i exp(a_ki s_i) / (2 cosh a_ki)``, ``a_ki = h_i + sum_p z_kp Xi_pi``, for every
    configuration in :func:`all_configurations` order (2**N,), by plain loops with ``math.exp`` / ``math.cosh``;
    the weights are normalised here."""
    h = [float(x) for x in fields]
    xi = [[float(x) for x in row] for row in directions]
    z = [[float(x) for x in row] for row in atoms]
    w = [float(x) for x in weights]
    total = sum(w)
    N, K, P = len(h), len(w), len(xi)
    a = [[h[i] + sum(z[k][p] * xi[p][i] for p in range(P)) for i in range(N)] for k in range(K)]
    probs = []
    for s in all_configurations(N).tolist():
        p = 0.0
        for k in range(K):
            term = w[k] / total
            for i in range(N):
                term *= math.exp(a[k][i] * s[i]) / (2.0 * math.cosh(a[k][i]))
            p += term
        probs.append(p)
    return np.array(probs)


def latent_mixture_posterior(fields, directions, atoms, weights):
    """``p(k | s)`` for every configuration (:func:`all_configurations` order) and atom: (2**N, K), by Bayes'
    rule with the component likelihoods computed by plain loops."""
    K = len(weights)
    joint = np.array([latent_mixture_probabilities(fields, directions, [atoms[k]], [1.0]) * float(weights[k])
                      for k in range(K)]).T
    return joint / joint.sum(axis=1, keepdims=True)


def generalized_hopfield_probabilities(fields, patterns):
    """Boltzmann distribution ``P(s) ~ exp(sum_i h_i s_i + (1/2N) sum_mu (sum_i xi_mu,i s_i)**2)`` over every
    configuration (:func:`all_configurations` order), straight from the energy formula by plain loops."""
    h = [float(x) for x in fields]
    xi = [[float(x) for x in row] for row in patterns]
    N = len(h)
    log_w = []
    for s in all_configurations(N).tolist():
        e = sum(h[i] * s[i] for i in range(N))
        for row in xi:
            m = sum(row[i] * s[i] for i in range(N))
            e += m * m / (2.0 * N)
        log_w.append(e)
    top = max(log_w)
    w = [math.exp(x - top) for x in log_w]
    total = sum(w)
    return np.array([x / total for x in w])


def marginal_probabilities(probs, N, sites):
    """Marginal of a full table (:func:`all_configurations` order) on ``sites`` by summing over the others:
    (2**len(sites),), indexed by ``sum_j [s_sites[j] = +1] 2**j`` (the same order for the sub-configuration)."""
    sites = [int(i) for i in sites]
    out = [0.0] * (2 ** len(sites))
    for r, p in enumerate(probs):
        sub = sum(((r >> i) & 1) << j for j, i in enumerate(sites))
        out[sub] += float(p)
    return np.array(out)


def mutual_information_table(probs, N, A):
    """Exact ``I(A; B)`` (nats) of a full table, B the complement of A, from the marginals by summation."""
    B = [i for i in range(N) if i not in set(int(a) for a in A)]
    pa, pb = marginal_probabilities(probs, N, A), marginal_probabilities(probs, N, B)
    mi = 0.0
    for r, p in enumerate(probs):
        if p > 0:
            ia = sum(((r >> i) & 1) << j for j, i in enumerate(A))
            ib = sum(((r >> i) & 1) << j for j, i in enumerate(B))
            mi += p * math.log(p / (pa[ia] * pb[ib]))
    return mi


def kpairwise_log_weight(s, h, J, V):
    """``1/2 s^T J s + h . s + V[K]`` of one +-1 configuration ``s`` (a sequence), by plain loops."""
    n = len(s)
    total = V[sum(1 for x in s if x > 0)]
    for i in range(n):
        total += h[i] * s[i]
        for j in range(i + 1, n):
            total += J[i][j] * s[i] * s[j]
    return total


def kpairwise_enumerate(h, J, V):
    """``(ln Z, probs)`` of ``P(s) ~ exp(1/2 s^T J s + h . s + V[K])`` over all ``2**N`` states by plain loops;
    ``probs[k]`` is the state with ``s_i = +1`` where bit ``i`` of ``k`` is set."""
    n = len(h)
    logw = []
    for k in range(2 ** n):
        s = [1 if (k >> i) & 1 else -1 for i in range(n)]
        logw.append(kpairwise_log_weight(s, h, J, V))
    top = max(logw)
    w = [np.exp(x - top) for x in logw]
    z = sum(w)
    return top + float(np.log(z)), np.array([x / z for x in w])


def kpairwise_heatbath_site(s, i, h, J, V, scale, u):
    """One heat-bath update of site ``i`` of the +-1 list ``s`` (changed in place) with a uniform ``u`` in [0, 1):
    ``s_i = +1`` when ``u < P(s_i = +1 | rest)`` of ``exp(scale (1/2 s^T J s + V[K]) + h . s)``."""
    up, down = list(s), list(s)
    up[i], down[i] = 1, -1

    def logw(x):
        return scale * kpairwise_log_weight(x, [0.0] * len(x), J, V) + sum(hh * xx for hh, xx in zip(h, x))

    p_up = 1.0 / (1.0 + np.exp(logw(down) - logw(up)))
    s[i] = 1 if u < p_up else -1
    return s
