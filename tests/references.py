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


def generalized_hopfield_log_weights(fields, patterns):
    """``sum_i h_i s_i + (1/2N) sum_mu (sum_i xi_mu,i s_i)**2`` of every configuration (:func:`all_configurations`
    order), by plain loops: minus the energy of fastmf.decode.effective.GeneralizedHopfield (beta = 1)."""
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
    return log_w


def generalized_hopfield_probabilities(fields, patterns):
    """Boltzmann distribution ``P(s) ~ exp(sum_i h_i s_i + (1/2N) sum_mu (sum_i xi_mu,i s_i)**2)`` over every
    configuration (:func:`all_configurations` order), straight from the energy formula by plain loops."""
    log_w = generalized_hopfield_log_weights(fields, patterns)
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


# ---- exact tables, generalized Hopfield, Maier-Saupe latent (issue 19: Maier-Saupe / generalized-Hopfield /
#      enumeration helper). Textbook formulas with numpy/scipy only; nothing from fastmf. -----------------------

def digit_configurations(N, q=2):
    """Every configuration of N sites with q states as digits 0..q-1, int64 (q**N, N); row ``r = sum_i x_i q**i``
    (site 0 the least significant digit). For q = 2, ``x_i = (s_i + 1) / 2`` of :func:`all_configurations`."""
    r = np.arange(q ** N, dtype=np.int64)
    return (r[:, None] // (q ** np.arange(N, dtype=np.int64))) % q


def table_probabilities(log_w):
    """Normalised probabilities ``exp(log_w) / sum exp(log_w)`` of a table of log-weights (-inf allowed)."""
    lw = np.asarray(log_w, dtype=np.float64)
    w = np.exp(lw - lw.max())
    return w / w.sum()


def table_entropy(probs):
    """Shannon entropy ``-sum p log p`` (nats) of a probability table; zero entries contribute nothing."""
    p = np.asarray(probs, dtype=np.float64)
    p = p[p > 0]
    return float(-np.sum(p * np.log(p)))


def table_marginal(probs, N, sites, q=2):
    """Marginal of a full table on ``sites`` (in the given order) by summing p over the other sites:
    (q**len(sites),), indexed by ``sum_j x_{sites[j]} q**j``."""
    digits = digit_configurations(N, q)
    sub = np.zeros(q ** N, dtype=np.int64)
    for j, i in enumerate(sites):
        sub += digits[:, int(i)] * q ** j
    return np.bincount(sub, weights=np.asarray(probs, dtype=np.float64), minlength=q ** len(sites))


def table_subset_entropy(probs, N, sites, q=2):
    """Entropy of the marginal of ``sites`` (:func:`table_marginal`)."""
    return table_entropy(table_marginal(probs, N, sites, q))


def table_mutual_information(probs, N, A, q=2):
    """``I(A; B) = sum_x p(x) log(p(x) / (p_A(x_A) p_B(x_B)))`` (nats), B the complement of A, straight from the
    joint table: each state's probability against the product of its two marginals."""
    A = sorted({int(a) for a in A})
    B = [i for i in range(N) if i not in A]
    if not A or not B:
        return 0.0
    p = np.asarray(probs, dtype=np.float64)
    p = p / p.sum()
    digits = digit_configurations(N, q)
    ia = sum(digits[:, i] * q ** j for j, i in enumerate(A))
    ib = sum(digits[:, i] * q ** j for j, i in enumerate(B))
    pa = np.bincount(ia, weights=p, minlength=q ** len(A))
    pb = np.bincount(ib, weights=p, minlength=q ** len(B))
    nz = p > 0
    return float(np.sum(p[nz] * np.log(p[nz] / (pa[ia[nz]] * pb[ib[nz]]))))


def table_max_bipartition_mi(probs, N):
    """Largest ``I(A; B)`` over every bipartition (A holds site 0, B non-empty) of a binary table, by trying all."""
    return max(table_mutual_information(probs, N, [i for i in range(N) if m >> i & 1])
               for m in range(1, 2 ** N - 1, 2))


def generalized_hopfield_log_partition(fields, patterns):
    """``ln Z``, ``Z = sum_s exp(sum_i h_i s_i + (1/2N) sum_mu (sum_i xi_mu,i s_i)**2)`` over every +-1
    configuration, by plain loops (the energy of fastmf.decode.effective.GeneralizedHopfield, beta = 1)."""
    log_w = generalized_hopfield_log_weights(fields, patterns)
    top = max(log_w)
    return top + math.log(sum(math.exp(x - top) for x in log_w))


def watson_log_z1(lam, n_nodes=48):
    """``ln int_{S^2} exp(sum_k lam_k u_k**2) du`` (area element, total 4 pi) for eigenvalue triples (..., 3).

    Spherical coordinates about the third axis: the integrand is even in ``cos(theta)`` and has period pi in
    ``phi``, so Gauss-Legendre on ``cos(theta)`` in [0, 1] times the (spectrally accurate) periodic trapezoid
    rule on ``phi`` in [0, pi), each doubled. No Bessel functions, no eigenvalue ordering.
    """
    lam = np.asarray(lam, dtype=np.float64)
    x, w = np.polynomial.legendre.leggauss(n_nodes)
    ct, wt = 0.5 * (x + 1.0), 0.5 * w
    phi = np.pi * np.arange(n_nodes) / n_nodes
    st2 = 1.0 - ct * ct
    ux2 = (st2[:, None] * np.cos(phi)[None, :] ** 2).ravel()
    uy2 = (st2[:, None] * np.sin(phi)[None, :] ** 2).ravel()
    uz2 = np.repeat(ct * ct, n_nodes)
    weight = 4.0 * np.repeat(wt, n_nodes) * (np.pi / n_nodes)  # x2 (theta half) x2 (phi half)
    flat = lam.reshape(-1, 3)
    out = np.empty(len(flat))
    for a in range(0, len(flat), 512):
        b = flat[a:a + 512]
        ex = b[:, 0:1] * ux2 + b[:, 1:2] * uy2 + b[:, 2:3] * uz2
        top = ex.max(axis=1, keepdims=True)
        out[a:a + 512] = top[:, 0] + np.log(np.exp(ex - top) @ weight)
    return out.reshape(lam.shape[:-1])


def maier_saupe_latent_moments(beta_J, N, n_r=100, n_t=24):
    """``<Tr X**2>`` and ``<Tr Q_A**2>`` of the continuous Maier-Saupe model (``E = -(J/2N) sum_ij P2(u_i.u_j)``)
    from its Hubbard-Stratonovich latent ``p(X) ~ exp(-(beta J N/3) Tr X**2) Z1(beta J X)**N``.

    Weyl integration over symmetric traceless X: eigenvalues ``lam = r (cos t a + sin t b)`` with ``a = (2, -1,
    -1)/sqrt 6``, ``b = (0, 1, -1)/sqrt 2`` (Tr X**2 = r**2), measure ``r dr dt |(l1 - l2)(l1 - l3)(l2 - l3)|``,
    one of the six equal chambers ``t in [0, pi/3]``. Gauss-Legendre in r on ``[0, sqrt(3/2) + 16 sigma]``
    (sigma = sqrt(3 / (2 beta J N)): the prior width; the ordered peak lies at r <= sqrt(3/2)) and in t; Z1 by
    :func:`watson_log_z1`. ``Tr Q_A**2 = Tr X**2 - 15 / (2 beta J N)``: given the spins X is Gaussian about
    Q_A with variance 3 / (2 beta J N) in each of its 5 coordinates.
    """
    c = float(beta_J)
    sigma = math.sqrt(3.0 / (2.0 * c * N))
    r_max = math.sqrt(1.5) + 16.0 * sigma
    xr, wr = np.polynomial.legendre.leggauss(n_r)
    xt, wt = np.polynomial.legendre.leggauss(n_t)
    r = 0.5 * r_max * (xr + 1.0)
    t = (np.pi / 6.0) * (xt + 1.0)
    a = np.array([2.0, -1.0, -1.0]) / math.sqrt(6.0)
    b = np.array([0.0, 1.0, -1.0]) / math.sqrt(2.0)
    lam = r[:, None, None] * (np.cos(t)[None, :, None] * a + np.sin(t)[None, :, None] * b)
    vdm = np.abs((lam[..., 0] - lam[..., 1]) * (lam[..., 0] - lam[..., 2]) * (lam[..., 1] - lam[..., 2]))
    log_f = (np.log(r)[:, None] + np.log(vdm) - (c * N / 3.0) * (r * r)[:, None] + N * watson_log_z1(c * lam)
             + np.log(np.outer(wr, wt)))
    p = np.exp(log_f - log_f.max())
    p /= p.sum()
    tr_x2 = float(np.sum(p * (r * r)[:, None]))
    return {"tr_X2": tr_x2, "tr_Q2": tr_x2 - 15.0 / (2.0 * c * N)}


# ---- mean-field models, their kernels and tempering (issue 19: mean-field helper) --------------------------

__all__ += ["boltzmann_probabilities", "energy_levels", "lowrank_energy_naive", "lowrank_boltzmann",
            "all_potts_configurations", "potts_mf_energy_naive", "potts_mf_boltzmann", "compositions",
            "potts_mf_counting", "curie_weiss_counting", "glass_energy_naive", "glass_boltzmann"]


def boltzmann_probabilities(energies, beta):
    """``exp(-beta E) / Z`` of a list of energies, by plain Python (shifted by the lowest energy)."""
    e = [float(x) for x in energies]
    low = min(e)
    w = [math.exp(-beta * (x - low)) for x in e]
    total = sum(w)
    return np.array([x / total for x in w])


def energy_levels(energies, probs, decimals=9):
    """Distinct energies (equal when rounded to ``decimals``, to merge float ties; the first one met stands for
    its level) and their summed probabilities, sorted by energy."""
    acc, first = {}, {}
    for e, p in zip(energies, probs):
        key = round(float(e), decimals)
        first.setdefault(key, float(e))
        acc[key] = acc.get(key, 0.0) + float(p)
    keys = sorted(acc)
    return np.array([first[k] for k in keys]), np.array([acc[k] for k in keys])


def lowrank_energy_naive(s, patterns, J=1.0, h=0.0):
    """``E = -(J / 2N) sum_mu (sum_i xi_mu,i s_i)**2 - h sum_i s_i`` of one configuration, by plain loops."""
    N = len(s)
    e = -h * sum(int(x) for x in s)
    for row in patterns:
        m = sum(int(row[i]) * int(s[i]) for i in range(N))
        e -= J * m * m / (2.0 * N)
    return e


def lowrank_boltzmann(patterns, beta, J=1.0, h=0.0):
    """``(configs, overlaps, energies, probs)`` of the low-rank (Hopfield / Curie-Weiss) model over every
    configuration (:func:`all_configurations` order); ``overlaps[r, mu] = sum_i xi_mu,i s_i``. Plain loops."""
    pats = [[int(x) for x in row] for row in patterns]
    N = len(pats[0])
    configs = all_configurations(N)
    overlaps, energies = [], []
    for s in configs.tolist():
        overlaps.append([sum(row[i] * s[i] for i in range(N)) for row in pats])
        energies.append(lowrank_energy_naive(s, pats, J, h))
    probs = boltzmann_probabilities(energies, beta)
    return configs, np.array(overlaps, dtype=np.int64), np.array(energies), probs


def all_potts_configurations(N, q):
    """Every state vector of N sites with q states, int64 (q**N, N): row ``r`` has ``s_i`` = digit ``i`` of
    ``r`` in base q (site 0 the least significant). Built by plain loops."""
    rows = []
    for r in range(q ** N):
        rows.append([(r // q ** i) % q for i in range(N)])
    return np.array(rows, dtype=np.int64).reshape(q ** N, N)


def potts_mf_energy_naive(counts, N, J=1.0, h=0.0):
    """``E = -(J / 2N) sum_k n_k**2 - h n_0`` from the occupation numbers ``counts`` (a sequence)."""
    return -(J / (2.0 * N)) * sum(int(n) * int(n) for n in counts) - h * int(counts[0])


def potts_mf_boltzmann(N, q, beta, J=1.0, h=0.0):
    """``(states, counts, energies, probs)`` of the mean-field Potts model over all ``q**N`` states
    (:func:`all_potts_configurations` order), by plain loops."""
    states = all_potts_configurations(N, q)
    counts, energies = [], []
    for s in states.tolist():
        n = [0] * q
        for x in s:
            n[x] += 1
        counts.append(n)
        energies.append(potts_mf_energy_naive(n, N, J, h))
    probs = boltzmann_probabilities(energies, beta)
    return states, np.array(counts, dtype=np.int64), np.array(energies), probs


def compositions(N, q):
    """Every ``(n_0, ..., n_{q-1})`` of non-negative integers summing to N (lexicographic), by recursion."""
    if q == 1:
        return [(N,)]
    return [(n0,) + rest for n0 in range(N + 1) for rest in compositions(N - n0, q - 1)]


def potts_mf_counting(N, q, beta, J=1.0, h=0.0):
    """Mean-field Potts by counting from the textbook formula ``Z = sum_n N! / prod_k n_k! exp(-beta E(n))``,
    ``E(n) = -(J / 2N) sum_k n_k**2 - h n_0``, over every composition, in plain Python (``math.lgamma``).

    Returns a dict: ``log_z``; ``n0_probs`` and ``max_probs`` (N + 1,), the laws of ``n_0`` and of
    ``max_k n_k``; ``energies``, ``energy_probs``, the distinct energies and their probabilities.
    """
    terms = []
    for n in compositions(N, q):
        log_mult = math.lgamma(N + 1) - sum(math.lgamma(k + 1) for k in n)
        terms.append((n, log_mult - beta * potts_mf_energy_naive(n, N, J, h)))
    top = max(t for _, t in terms)
    total = sum(math.exp(t - top) for _, t in terms)
    n0, nmax, energies, probs = [0.0] * (N + 1), [0.0] * (N + 1), [], []
    for n, t in terms:
        p = math.exp(t - top) / total
        n0[n[0]] += p
        nmax[max(n)] += p
        energies.append(potts_mf_energy_naive(n, N, J, h))
        probs.append(p)
    levels, level_probs = energy_levels(energies, probs)
    return dict(log_z=top + math.log(total), n0_probs=np.array(n0), max_probs=np.array(nmax), energies=levels,
                energy_probs=level_probs)


def curie_weiss_counting(N, beta, J=1.0, h=0.0):
    """``(M, probs, mean_energy)`` of Curie-Weiss, ``E = -(J / 2N) M**2 - h M``, by binomial counting:
    ``P(M) ~ binom(N, (N + M) / 2) exp(-beta E(M))`` for ``M = -N, -N + 2, ..., N``, in plain Python."""
    Ms, logw, energies = [], [], []
    for up in range(N + 1):
        M = 2 * up - N
        e = -(J / (2.0 * N)) * M * M - h * M
        Ms.append(M)
        energies.append(e)
        logw.append(math.log(math.comb(N, up)) - beta * e)
    top = max(logw)
    w = [math.exp(x - top) for x in logw]
    total = sum(w)
    probs = [x / total for x in w]
    return np.array(Ms), np.array(probs), sum(p * e for p, e in zip(probs, energies))


def glass_energy_naive(s, couplings, fields):
    """``E = -sum_{i<j} J_ij s_i s_j - sum_i h_i s_i`` of one configuration (dense symmetric couplings, fields
    a sequence or a number), by plain loops."""
    N = len(s)
    h = [float(fields)] * N if np.ndim(fields) == 0 else [float(x) for x in fields]
    e = -sum(h[i] * int(s[i]) for i in range(N))
    for i in range(N):
        for j in range(i + 1, N):
            e -= float(couplings[i][j]) * int(s[i]) * int(s[j])
    return e


def glass_boltzmann(couplings, fields, beta):
    """``(configs, energies, probs)`` of the Ising glass with dense couplings over every configuration
    (:func:`all_configurations` order), by plain loops."""
    J = [[float(x) for x in row] for row in couplings]
    configs = all_configurations(len(J))
    energies = [glass_energy_naive(s, J, fields) for s in configs.tolist()]
    return configs, np.array(energies), boltzmann_probabilities(energies, beta)


# ---- periodic L x M lattices and their samplers' acceptance (issue 19: lattice helper) -------------------

__all__ += ["lattice_ising_energy", "lattice_ising_boltzmann", "lattice_distribution",
            "metropolis_threshold"]


def lattice_ising_energy(s, L, M, j_right, j_down, h):
    """``E = -sum_<ij> J_ij s_i s_j - h sum_i s_i`` of one periodic L x M configuration by plain loops.

    ``s`` is a flat sequence of ``L M`` spins, site ``(r, c)`` at ``r M + c``; ``j_right[r][c]`` couples
    ``(r, c)-(r, c+1 mod M)`` and ``j_down[r][c]`` couples ``(r, c)-(r+1 mod L, c)`` (2 L M bonds: for a
    side of 2 a pair of sites is joined twice).
    """
    e = 0.0
    for r in range(L):
        for c in range(M):
            here = s[r * M + c]
            e -= j_right[r][c] * here * s[r * M + (c + 1) % M]
            e -= j_down[r][c] * here * s[((r + 1) % L) * M + c]
            e -= h * here
    return e


def lattice_ising_boltzmann(L, M, beta, J=1.0, h=0.0, j_right=None, j_down=None):
    """Every configuration of a periodic L x M Ising lattice with its energy and Boltzmann probability.

    Returns ``(configs, energies, probs, log_z)``: ``configs`` (2**(L M), L M) in :func:`all_configurations`
    order (site ``(r, c)`` at column ``r M + c``), energies from :func:`lattice_ising_energy`, all by plain
    loops; uniform couplings ``J`` unless ``j_right`` / ``j_down`` (L x M nested sequences) are given.
    """
    def grid(given):
        if given is None:
            return [[float(J)] * M for _ in range(L)]
        return [[float(x) for x in row] for row in given]

    jr, jd = grid(j_right), grid(j_down)
    configs = all_configurations(L * M)
    energies = [lattice_ising_energy(s, L, M, jr, jd, float(h)) for s in configs.tolist()]
    log_w = [-beta * e for e in energies]
    top = max(log_w)
    w = [math.exp(x - top) for x in log_w]
    total = sum(w)
    return configs, np.array(energies), np.array([x / total for x in w]), top + math.log(total)


def lattice_distribution(values, probs):
    """``{value: summed probability}`` of a per-configuration observable (the values are the dict keys)."""
    out = {}
    for v, p in zip(values, probs):
        out[v] = out.get(v, 0.0) + float(p)
    return out


def metropolis_threshold(beta, delta_e):
    """The sampler's 32-bit acceptance threshold of a flip costing ``delta_e``, from the textbook rule: accept
    with ``p = min(1, exp(-beta dE))`` when a uniform 32-bit integer is below ``floor(p 2**32)`` (``2**32``
    when ``p = 1``)."""
    p = 1.0 if delta_e <= 0 else math.exp(-beta * delta_e)
    return 2 ** 32 if p >= 1 else int(math.floor(p * 2 ** 32))
