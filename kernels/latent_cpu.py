"""Numba kernels of the exact latent samplers of fully connected models (:mod:`fastmf.sampling.latent`,
:mod:`fastmf.sampling.latent_hopfield`): random site assignment given an order parameter, and the
Hubbard-Stratonovich latent chains of the Hopfield model with the spins drawn given the latent.

Randomness: Philox4x32-10 keyed by ``(seed, stream)``, counter ``(c0, c1, phase, c3)``; the phases are
:data:`PHASE_ORDER` (order-parameter draws, made in NumPy by the caller), :data:`PHASE_ASSIGN`,
:data:`PHASE_MCMC` and :data:`PHASE_SPINS` (see the sampler modules for the words used in each).
"""
import math

import numpy as np
from numba import njit

from .philox import bounded_from_u32, philox4x32, uniform_from_u32, uniform_open_from_u32

__all__ = ["PHASE_ORDER", "PHASE_ASSIGN", "PHASE_MCMC", "PHASE_SPINS", "assign_groups", "log2cosh",
           "latent_log_density", "path_log_density", "run_latent_chains", "hopfield_spins"]

#: Philox phase (counter word 2) of the order-parameter draws.
PHASE_ORDER = 0
#: Philox phase of the random site assignment (:func:`assign_groups`).
PHASE_ASSIGN = 1
#: Philox phase of the latent chains (:func:`run_latent_chains`).
PHASE_MCMC = 2
#: Philox phase of the spins drawn given the latent (:func:`hopfield_spins`).
PHASE_SPINS = 3


@njit(cache=True)
def assign_groups(counts, labels, seed, stream, out):
    """Place ``counts[i, g]`` sites of label ``labels[g]`` uniformly at random in row ``i`` of ``out``.

    A partial Fisher-Yates shuffle; the last group takes the sites left. Step ``j`` of row ``i`` uses word
    ``j mod 4`` of ``Philox((j div 4, i, PHASE_ASSIGN, 0))``.

    Parameters
    ----------
    counts : ndarray of int64, shape (n, G)
        Sites per group of each row (each row sums to ``out.shape[1]``).
    labels : ndarray, shape (G,)
        The value written for each group (same dtype as ``out``).
    seed, stream : int
        Philox key.
    out : ndarray, shape (n, N)
        Filled in place.
    """
    n, G = counts.shape
    N = out.shape[1]
    perm = np.empty(N, np.int64)
    for i in range(n):
        for k in range(N):
            perm[k] = k
        pos = 0
        x0 = x1 = x2 = x3 = np.uint64(0)
        for g in range(G - 1):
            for _ in range(counts[i, g]):
                if pos % 4 == 0:
                    x0, x1, x2, x3 = philox4x32(pos // 4, i, PHASE_ASSIGN, 0, seed, stream)
                w = pos % 4
                u = x0 if w == 0 else (x1 if w == 1 else (x2 if w == 2 else x3))
                r = pos + bounded_from_u32(u, N - pos)
                tmp = perm[pos]
                perm[pos] = perm[r]
                perm[r] = tmp
                out[i, perm[pos]] = labels[g]
                pos += 1
        for k in range(pos, N):
            out[i, perm[k]] = labels[G - 1]


@njit(cache=True)
def log2cosh(a):
    """``ln 2cosh(a)``, stable for any real ``a``.

    Parameters
    ----------
    a : float

    Returns
    -------
    float
    """
    a = abs(a)
    return a + math.log1p(math.exp(-2.0 * a))


@njit(cache=True)
def latent_log_density(phi, xi_t, c_t, N, beta, J, h):
    """Hopfield latent log density up to a constant.

    ``ln p(phi) = -N beta J |phi|**2 / 2 + sum_t c_t ln 2cosh(beta (J xi_t . phi + h))``.

    Parameters
    ----------
    phi : ndarray, shape (P,)
        The latent.
    xi_t : ndarray of float64, shape (T, P)
        Site types (distinct pattern columns).
    c_t : ndarray of float64, shape (T,)
        Sites of each type.
    N, beta, J, h : float
        Number of sites, inverse temperature, coupling and field.

    Returns
    -------
    float
    """
    s = 0.0
    for mu in range(phi.shape[0]):
        s += phi[mu] * phi[mu]
    s *= -0.5 * N * beta * J
    for t in range(xi_t.shape[0]):
        a = 0.0
        for mu in range(phi.shape[0]):
            a += xi_t[t, mu] * phi[mu]
        s += c_t[t] * log2cosh(beta * (J * a + h))
    return s


@njit(cache=True)
def run_latent_chains(phi, xi_t, c_t, N, beta, J, h, scale, modes, seed, stream, t0, n_steps, thin, out, acc,
                      tried):
    """Advance every Hopfield latent chain by ``n_steps`` Metropolis steps from step ``t0``.

    Each step proposes, in order, a Gaussian walk, a one-component flip, a global flip, a swap of two
    components and a jump between two mean-field modes (the last four each only when its coin, a bit of
    word 3 of ``Philox((t, c, PHASE_MCMC, 1))``, says so); see :mod:`fastmf.sampling.latent_hopfield`.

    Parameters
    ----------
    phi : ndarray, shape (C, P)
        One latent per chain, updated in place.
    xi_t, c_t, N, beta, J, h :
        As in :func:`latent_log_density`.
    scale : float
        Standard deviation of the walk step.
    modes : ndarray, shape (K, P)
        Mean-field modes (jump vectors are their differences).
    seed, stream : int
        Philox key.
    t0 : int
        Index of the first step (counter word 0).
    n_steps, thin : int
        Steps to run; every ``thin``-th state is stored.
    out : ndarray, shape (C, n_steps // thin, P)
        Stored states.
    acc, tried : ndarray of int64, shape (C, 5)
        Accepted / tried moves per kind, incremented.
    """
    C, P = phi.shape
    K = modes.shape[0]
    n_groups = (P + 3) // 4
    z = np.empty(4 * n_groups)
    y = np.empty(P)
    for c in range(C):
        x = phi[c].copy()
        lp = latent_log_density(x, xi_t, c_t, N, beta, J, h)
        for s in range(n_steps):
            t = t0 + s
            a0, a1, a2, a3 = philox4x32(t, c, PHASE_MCMC, 0, seed, stream)
            b0, b1, b2, b3 = philox4x32(t, c, PHASE_MCMC, 1, seed, stream)
            d0, d1, a4, _ = philox4x32(t, c, PHASE_MCMC, 2, seed, stream)
            for g in range(n_groups):
                w0, w1, w2, w3 = philox4x32(t, c, PHASE_MCMC, 3 + g, seed, stream)
                r0 = math.sqrt(-2.0 * math.log(uniform_open_from_u32(w0)))
                r1 = math.sqrt(-2.0 * math.log(uniform_open_from_u32(w2)))
                z[4 * g] = r0 * math.cos(2.0 * math.pi * uniform_from_u32(w1))
                z[4 * g + 1] = r0 * math.sin(2.0 * math.pi * uniform_from_u32(w1))
                z[4 * g + 2] = r1 * math.cos(2.0 * math.pi * uniform_from_u32(w3))
                z[4 * g + 3] = r1 * math.sin(2.0 * math.pi * uniform_from_u32(w3))
            for kind in range(5):
                # each jump move is proposed only when its coin (bit kind-1 of b3) says so: a jump that is
                # always accepted would otherwise make the chain periodic (e.g. swap every step)
                if kind > 0 and (b3 >> np.uint64(kind - 1)) & np.uint64(1) == 0:
                    continue
                if kind == 0:                       # Gaussian random walk
                    for mu in range(P):
                        y[mu] = x[mu] + scale * z[mu]
                    u = a0
                elif kind == 1:                     # flip one component
                    mu0 = bounded_from_u32(b0, P)
                    for mu in range(P):
                        y[mu] = x[mu]
                    y[mu0] = -x[mu0]
                    u = a1
                elif kind == 2:                     # global flip (the same as kind 1 when P == 1)
                    if P == 1:
                        continue
                    for mu in range(P):
                        y[mu] = -x[mu]
                    u = a2
                elif kind == 3:                     # swap two components
                    if P == 1:
                        continue
                    m1 = bounded_from_u32(b1, P)
                    m2 = bounded_from_u32(b2, P - 1)
                    if m2 >= m1:
                        m2 += 1
                    for mu in range(P):
                        y[mu] = x[mu]
                    y[m1] = x[m2]
                    y[m2] = x[m1]
                    u = a3
                else:                               # translate by the difference of two mean-field modes
                    if K < 2:
                        continue
                    k1 = bounded_from_u32(d0, K)
                    k2 = bounded_from_u32(d1, K - 1)
                    if k2 >= k1:
                        k2 += 1
                    for mu in range(P):
                        y[mu] = x[mu] + modes[k2, mu] - modes[k1, mu]
                    u = a4
                ly = latent_log_density(y, xi_t, c_t, N, beta, J, h)
                tried[c, kind] += 1
                if math.log(uniform_open_from_u32(u)) < ly - lp:
                    for mu in range(P):
                        x[mu] = y[mu]
                    lp = ly
                    acc[c, kind] += 1
            if (s + 1) % thin == 0:
                out[c, (s + 1) // thin - 1, :] = x
        phi[c] = x


@njit(cache=True)
def hopfield_spins(phi, xi, beta, J, h, seed, stream, out):
    """Hopfield spins given the latent: ``out[i, j] = +1`` with probability
    ``sigmoid(2 beta (J xi_j . phi_i + h))``.

    Spin ``j`` of sample ``i`` uses word ``j mod 4`` of ``Philox((j div 4, i, PHASE_SPINS, 0))``.

    Parameters
    ----------
    phi : ndarray, shape (n, P)
        Latents.
    xi : ndarray of float64, shape (P, N)
        Patterns.
    beta, J, h : float
    seed, stream : int
        Philox key.
    out : ndarray of int8, shape (n, N)
        Filled in place with +-1.
    """
    n, N = out.shape
    P = phi.shape[1]
    x0 = x1 = x2 = x3 = np.uint64(0)
    for i in range(n):
        for j in range(N):
            if j % 4 == 0:
                x0, x1, x2, x3 = philox4x32(j // 4, i, PHASE_SPINS, 0, seed, stream)
            w = j % 4
            u = x0 if w == 0 else (x1 if w == 1 else (x2 if w == 2 else x3))
            a = 0.0
            for mu in range(P):
                a += xi[mu, j] * phi[i, mu]
            p_up = 1.0 / (1.0 + math.exp(-2.0 * beta * (J * a + h)))
            out[i, j] = 1 if uniform_from_u32(u) < p_up else -1


@njit(cache=True)
def path_log_density(path, xi_t, c_t, N, beta, J, h):
    """:func:`latent_log_density` of every state of a path.

    Parameters
    ----------
    path : ndarray, shape (C, K, P)
        ``K`` latents of each of ``C`` chains.
    xi_t, c_t, N, beta, J, h :
        As in :func:`latent_log_density`.

    Returns
    -------
    ndarray, shape (C, K)
    """
    out = np.empty(path.shape[:2])
    for c in range(path.shape[0]):
        for k in range(path.shape[1]):
            out[c, k] = latent_log_density(path[c, k], xi_t, c_t, N, beta, J, h)
    return out
