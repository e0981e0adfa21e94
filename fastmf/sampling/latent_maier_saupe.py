"""Independent samples of the Maier-Saupe model through its latent (Hubbard-Stratonovich) representation.

The joint density ``p(X, {u_i}) ∝ exp(-(beta J N/3) Tr X^2) prod_i exp(beta J u_i^T X u_i)`` (derived in
:mod:`fastmf.exact.maier_saupe`; primitives in :mod:`fastmf.models.nematic`) is sampled in two stages:

1. the 5-dim latent ``X`` (symmetric traceless) by Markov chain Monte Carlo on
   ``p(X) ∝ exp(-(beta J N/3) Tr X^2) Z1(beta J X)^N``: a Gaussian random-walk Metropolis step in a
   Frobenius-orthonormal basis followed by a rotation move ``X -> R X R^T`` with ``R`` Haar-uniform on SO(3).
   For the continuous model ``p(X)`` is rotation invariant, so the rotation move is always accepted and the
   director is redrawn uniformly at every step; for discrete axes it is a symmetric Metropolis proposal,
   followed by a uniformly chosen rotation of the axes' own symmetry group (:func:`axes_symmetry_group`),
   always accepted, which moves the chain between symmetry-related nematic modes. Modes that no symmetry
   relates (an irregular set of axes at strong coupling) are crossed only by the walk: use more chains there.
   The chains start from the exact (quadrature) distribution of the eigenvalues where it is available (the
   continuous model: both modes of the first-order transition get their right weights from the start) and
   from the Gaussian prior otherwise; after a burn-in (the first half tunes the step to ~30 % acceptance, the
   second half measures the integrated autocorrelation time ``tau`` of ``Tr X^2`` and of the 5 coordinates),
   they are thinned every ``ceil(2 tau)`` steps;
2. each ``u_i`` independently given ``X``: Bingham ``p(u | X) ∝ exp(beta J u^T X u)`` by rejection from the
   angular central Gaussian envelope of Kent, Ganeiber & Mardia (2018) (measured acceptance 53-80 %), or a
   categorical draw over the axes with logits ``beta J n_d^T X n_d``.

Random numbers: Philox4x32-10 with key ``(seed, STREAM_LATENT)``; chain ``k``, step ``t``: counters
``(t, k, 0, 0..2)`` (words: 6 Box-Muller normals of which 5 are used, the walk's acceptance uniform, the
rotation's acceptance uniform, 4 normals for the random unit quaternion; ``(t, k, 0, 3)`` word 0 picks the
axes-symmetry move); initial state of chain ``k``:
``(0, k, 1, 0..1)``; decoder draw of site ``i`` of sample ``s``: attempt ``a`` uses ``(i, s, 2 + a, 0..1)``
(Bingham) and the categorical draw ``(i, s, 2, 0)`` word 0. Everything depends on the seed and the arguments,
never on the hardware.
"""
import math

import numpy as np

from ..io.files import check_memory
from ..kernels.philox import STREAM_LATENT, check_seed, philox4x32_array
from ..kernels.validation import check_int, check_real
from ..models.nematic import axes_log_weights, latent_log_density, polar_grid, traceless_basis
from ..stats import integrated_autocorr_time

__all__ = ["sample_latent", "sample_bingham", "sample_axes_given_latent", "sample_maier_saupe",
           "sample_maier_saupe_axes", "haar_rotations", "axes_symmetry_group", "maier_saupe_bytes"]

_TWO_M32 = 2.0 ** -32
_BASIS = traceless_basis()


def _draws(c0, c1, c2, c3, seed):
    """Philox words (n, 4) as float64 for counter arrays (broadcast)."""
    n = max(np.size(c0), np.size(c1), np.size(c2), np.size(c3))
    ctr = np.empty((n, 4), np.uint64)
    for k, c in enumerate((c0, c1, c2, c3)):
        ctr[:, k] = np.broadcast_to(np.asarray(c, np.uint64), (n,))
    return philox4x32_array(ctr, np.array([[seed, STREAM_LATENT]], np.uint64)).astype(np.float64)


def _box_muller(w_a, w_b):
    """Two normals per pair of uint32 words (as floats): ``sqrt(-2 ln U) (cos, sin)(2 pi V)``."""
    rad = np.sqrt(-2.0 * np.log((w_a + 0.5) * _TWO_M32))
    ang = 2.0 * math.pi * (w_b * _TWO_M32)
    return rad * np.cos(ang), rad * np.sin(ang)


def haar_rotations(words):
    """Haar-uniform rotations (n, 3, 3) from four uint32 words per row (a normalised Gaussian quaternion)."""
    a, b = _box_muller(words[:, 0], words[:, 1])
    c, d = _box_muller(words[:, 2], words[:, 3])
    q = np.stack([a, b, c, d], axis=1)
    w, x, y, z = (q / np.linalg.norm(q, axis=1, keepdims=True)).T
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], axis=1),
        np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], axis=1),
        np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], axis=1)], axis=1)


def _frame(a, b):
    e1 = a / np.linalg.norm(a)
    e2 = b - (b @ e1) * e1
    e2 = e2 / np.linalg.norm(e2)
    return np.stack([e1, e2, np.cross(e1, e2)], axis=1)


def axes_symmetry_group(axes):
    """Proper rotations ``R`` (G, 3, 3) that map the set of axes onto itself up to sign (``R n_d = +-n_e``).

    ``p(X)`` of the discrete model is invariant under ``X -> R X R^T`` for these, so a uniformly chosen one is
    an always-accepted move that carries the latent chain between symmetric nematic modes (e.g. the 24 cube
    rotations for three orthogonal axes), which a random walk can only cross over a barrier ~ exp(N).
    A rotation is fixed by where it sends two non-parallel axes: all images among the axes are tried.
    """
    axes = np.asarray(axes, dtype=np.float64)
    others = np.nonzero(np.abs(np.abs(axes[1:] @ axes[0]) - 1.0) > 1e-6)[0]
    if others.size == 0:  # all axes parallel: only the identity is needed
        return np.eye(3)[None]
    b = 1 + others[0]
    cos_ab = axes[0] @ axes[b]
    f1 = _frame(axes[0], axes[b])
    found = []
    for c in range(len(axes)):
        for d in range(len(axes)):
            for sc, sd in ((1.0, 1.0), (1.0, -1.0), (-1.0, 1.0), (-1.0, -1.0)):
                if c == d or abs((sc * axes[c]) @ (sd * axes[d]) - cos_ab) > 1e-7:
                    continue
                R = _frame(sc * axes[c], sd * axes[d]) @ f1.T
                if np.all(np.max(np.abs(axes @ R.T @ axes.T), axis=1) > 1.0 - 1e-7) and \
                        not any(np.allclose(R, F, atol=1e-7) for F in found):
                    found.append(R)
    return np.array(found)


def maier_saupe_bytes(N, n_samples, n_axes=None, n_chains=32, burn_in=400):
    """Estimated peak memory (bytes) of :func:`sample_maier_saupe` (``n_axes=None``) or
    :func:`sample_maier_saupe_axes` (``n_axes`` axes): the latent chains and their trace, the latents, and per
    sample and site the Bingham rejection draws and the (n_samples, N, 3) output (about 350 bytes), or the
    categorical draw over the axes and the uint8 output."""
    latent = 72 * (n_samples + n_chains) + 48 * burn_in * n_chains
    per_site = 350 if n_axes is None else 130 + n_axes
    return latent + per_site * n_samples * N


def _check(beta, J, N, n_samples, seed, axes):
    beta = check_real("beta", beta, positive=True)
    J = check_real("J", J, positive=True)
    N = check_int("N", N, minimum=1)
    n_samples = check_int("n_samples", n_samples, minimum=0)
    seed = check_seed(seed)
    if axes is not None:
        axes = np.ascontiguousarray(axes, dtype=np.float64)
        if axes.ndim != 2 or axes.shape[1] != 3 or not 2 <= axes.shape[0] <= 256:
            raise ValueError(f"axes must have shape (D, 3) with 2 <= D <= 256, got {axes.shape}")
        if not np.all(np.isfinite(axes)) or np.any(np.abs(np.linalg.norm(axes, axis=1) - 1.0) > 1e-9):
            raise ValueError("axes must be finite unit vectors")
    return beta, J, N, n_samples, seed, axes


def _check_size(N, n_samples, n_axes, n_chains, burn_in):
    N, n_samples = check_int("N", N, minimum=1), check_int("n_samples", n_samples, minimum=0)
    n_chains, burn_in = check_int("n_chains", n_chains, minimum=1), check_int("burn_in", burn_in, minimum=0)
    check_memory(maier_saupe_bytes(N, n_samples, n_axes, n_chains, burn_in),
                 f"Maier-Saupe latent sampling of {n_samples} samples of N={N} sites")


def _check_matrices(name, M):
    M = np.asarray(M, dtype=np.float64)
    if M.ndim != 3 or M.shape[1:] != (3, 3):
        raise ValueError(f"{name} must have shape (n, 3, 3), got {M.shape}")
    if not np.all(np.isfinite(M)):
        raise ValueError(f"{name} contains NaN or infinite values")
    if not np.allclose(M, np.swapaxes(M, 1, 2), rtol=1e-12, atol=1e-12):
        raise ValueError(f"{name} must hold symmetric matrices")
    return M


def _initial_latents(beta, J, N, n_chains, seed, axes):
    """Start states: exact eigenvalue distribution (continuous model) or the Gaussian prior (axes)."""
    k = np.arange(n_chains)
    w0 = _draws(0, k, 1, 0, seed)
    w1 = _draws(0, k, 1, 1, seed)
    if axes is None:
        R, T, lam, p = polar_grid(beta, J, N, 96, 32)
        cdf = np.cumsum(p.ravel())
        idx = np.minimum(np.searchsorted(cdf, w0[:, 0] * _TWO_M32 * cdf[-1], side="right"), cdf.size - 1)
        rot = haar_rotations(w1)
        return np.einsum("kab,kb,kcb->kac", rot, lam.reshape(-1, 3)[idx], rot)
    sigma = math.sqrt(3.0 / (2.0 * beta * J * N))
    g = np.concatenate(_box_muller(w0[:, 0], w0[:, 1]) + _box_muller(w0[:, 2], w0[:, 3])
                       + _box_muller(w1[:, 0], w1[:, 1]), axis=0).reshape(6, n_chains)[:5].T
    return sigma * np.einsum("kj,jab->kab", g, _BASIS)


def _mcmc(X, logp, beta, J, N, axes, seed, t0, n_steps, step, record, group=None):
    """``n_steps`` latent steps for all chains from step index ``t0``; returns X, logp, acceptance, trace."""
    n_chains = X.shape[0]
    k = np.arange(n_chains)
    acc = np.zeros(n_chains)
    trace = np.empty((n_steps, n_chains, 6)) if record else None
    for t in range(t0, t0 + n_steps):
        wa, wb, wr = (_draws(t, k, 0, j, seed) for j in range(3))
        g = np.stack(_box_muller(wa[:, 0], wa[:, 1]) + _box_muller(wa[:, 2], wa[:, 3])
                     + _box_muller(wb[:, 0], wb[:, 1]), axis=1)[:, :5]
        Xp = X + step * np.einsum("kj,jab->kab", g, _BASIS)
        lp = latent_log_density(Xp, beta, J, N, axes)
        ok = np.log(wb[:, 2] * _TWO_M32 + 1e-300) < lp - logp
        X = np.where(ok[:, None, None], Xp, X)
        logp = np.where(ok, lp, logp)
        acc += ok
        rot = haar_rotations(wr)
        Xr = np.einsum("kab,kbc,kdc->kad", rot, X, rot)
        if axes is None:  # p(X) is rotation invariant: always accepted
            X = Xr
        else:
            lp = latent_log_density(Xr, beta, J, N, axes)
            ok = np.log(wb[:, 3] * _TWO_M32 + 1e-300) < lp - logp
            X = np.where(ok[:, None, None], Xr, X)
            logp = np.where(ok, lp, logp)
            if group is not None and len(group) > 1:  # symmetry of the axes: p(X) unchanged, always accepted
                ws = _draws(t, k, 0, 3, seed)[:, 0]
                g = group[np.minimum((ws * len(group) * _TWO_M32).astype(np.int64), len(group) - 1)]
                X = np.einsum("kab,kbc,kdc->kad", g, X, g)
        X = 0.5 * (X + np.swapaxes(X, 1, 2))  # keep exactly symmetric against rounding
        if record:
            trace[t - t0, :, 0] = np.einsum("kab,kab->k", X, X)
            trace[t - t0, :, 1:] = np.einsum("kab,jab->kj", X, _BASIS)
    return X, logp, acc / max(n_steps, 1), trace


def sample_latent(beta, J, N, n_samples, *, seed, axes=None, n_chains=32, burn_in=400, return_info=False):
    """Samples of the latent ``X`` (symmetric traceless 3x3) from ``p(X)`` by thinned MCMC (module docstring).

    Parameters
    ----------
    beta, J : float
        Inverse temperature and coupling (both > 0).
    N : int
        Number of sites.
    n_samples : int
        Number of latent samples.
    seed : int
        Philox key, ``0 <= seed < 2**32``.
    axes : array_like (D, 3), optional
        Discrete axes; None for the continuous model.
    n_chains : int
        Parallel chains (vectorised); sample ``s`` comes from chain ``s % n_chains``.
    burn_in : int
        Burn-in steps (even; the first half tunes the step size, the second half measures ``tau``).
    return_info : bool
        Also return a dict with ``step``, ``acceptance``, ``tau`` and ``thin``.

    Returns
    -------
    ndarray, shape (n_samples, 3, 3)
    """
    beta, J, N, n_samples, seed, axes = _check(beta, J, N, n_samples, seed, axes)
    n_chains = check_int("n_chains", n_chains, minimum=1)
    burn_in = check_int("burn_in", burn_in, minimum=20)
    X = _initial_latents(beta, J, N, n_chains, seed, axes)
    group = None if axes is None else axes_symmetry_group(axes)
    logp = latent_log_density(X, beta, J, N, axes)
    step = math.sqrt(3.0 / (2.0 * beta * J * N))  # the prior width: about right in the isotropic phase
    t, half = 0, burn_in // 2
    for _ in range(10):  # tuning blocks: deterministic, finished before any sample is kept
        X, logp, acc, _ = _mcmc(X, logp, beta, J, N, axes, seed, t, half // 10, step, False, group)
        t += half // 10
        step *= math.exp(float(acc.mean()) - 0.3)
    X, logp, acc, trace = _mcmc(X, logp, beta, J, N, axes, seed, t, burn_in - t, step, True, group)
    t = burn_in
    # tau of Tr X^2 and of the coordinates, averaged over chains (replica-averaged autocovariance)
    tau = max(integrated_autocorr_time(trace[:, :, j]) for j in range(6)) if trace.shape[0] > 8 else 1.0
    thin = max(1, int(math.ceil(2.0 * tau)))
    per_chain = -(-n_samples // n_chains)
    out = np.empty((per_chain, n_chains, 3, 3))
    accs = []
    for m in range(per_chain):
        X, logp, acc, _ = _mcmc(X, logp, beta, J, N, axes, seed, t, thin, step, False, group)
        t += thin
        out[m] = X
        accs.append(acc.mean())
    samples = out.reshape(-1, 3, 3)[:n_samples]
    if return_info:
        return samples, dict(step=step, acceptance=float(np.mean(accs)) if accs else float("nan"),
                             tau=float(tau), thin=thin)
    return samples


def sample_bingham(B, N, *, seed, sample_offset=0, max_attempts=10000):
    """``N`` independent unit vectors from ``p(u) ∝ exp(u^T B_s u)`` for each matrix ``B_s`` (n, 3, 3).

    Rejection from the angular central Gaussian envelope (Kent, Ganeiber & Mardia 2018): in the eigenbasis
    with ``A = lambda_max I - B >= 0``, ``b`` solves ``sum_k 1 / (b + 2 A_k) = 1``, proposals ``y ~ N(0,
    diag(1/Omega))`` with ``Omega = 1 + 2A/b``, ``x = y/|y|``, accepted when
    ``U < exp(-x^T A x) (x^T Omega x)^{3/2} exp((3 - b)/2) (b/3)^{3/2}``.

    Returns
    -------
    ndarray, shape (n, N, 3)
    """
    B = _check_matrices("B", B)
    N = check_int("N", N, minimum=0)
    seed = check_seed(seed)
    sample_offset = check_int("sample_offset", sample_offset, minimum=0)
    n = B.shape[0]
    lam, vec = np.linalg.eigh(B)
    A = lam[:, -1:] - lam  # (n, 3), >= 0
    lo, hi = np.ones(n), np.full(n, 3.0)
    for _ in range(60):  # bisection for b in [1, 3]: sum 1/(b + 2A) is decreasing in b
        mid = 0.5 * (lo + hi)
        big = np.sum(1.0 / (mid[:, None] + 2.0 * A), axis=1) > 1.0
        lo, hi = np.where(big, mid, lo), np.where(big, hi, mid)
    b = 0.5 * (lo + hi)
    omega = 1.0 + 2.0 * A / b[:, None]
    log_m = (3.0 - b) / 2.0 + 1.5 * np.log(b / 3.0)
    out = np.empty((n, N, 3))
    s_idx, i_idx = np.meshgrid(np.arange(n), np.arange(N), indexing="ij")
    s_idx, i_idx = s_idx.ravel(), i_idx.ravel()
    for a in range(max_attempts):
        if s_idx.size == 0:
            break
        w0 = _draws(i_idx, s_idx + sample_offset, 2 + a, 0, seed)
        w1 = _draws(i_idx, s_idx + sample_offset, 2 + a, 1, seed)
        z = np.stack(_box_muller(w0[:, 0], w0[:, 1]) + _box_muller(w0[:, 2], w0[:, 3]), axis=1)[:, :3]
        y = z / np.sqrt(omega[s_idx])
        x = y / np.linalg.norm(y, axis=1, keepdims=True)
        x2 = x * x
        log_ratio = (-np.sum(A[s_idx] * x2, axis=1) + 1.5 * np.log(np.sum(omega[s_idx] * x2, axis=1))
                     + log_m[s_idx])
        ok = np.log(w1[:, 0] * _TWO_M32 + 1e-300) < log_ratio
        out[s_idx[ok], i_idx[ok]] = np.einsum("kab,kb->ka", vec[s_idx[ok]], x[ok])
        s_idx, i_idx = s_idx[~ok], i_idx[~ok]
    else:
        if s_idx.size:
            raise RuntimeError("Bingham rejection sampler did not finish (max_attempts reached)")
    return out


def sample_axes_given_latent(X, axes, c, N, *, seed, sample_offset=0):
    """Axis indices (n, N) uint8 drawn from ``p(s = d | X) ∝ exp(c n_d^T X n_d)`` by inverse CDF."""
    X = _check_matrices("X", X)
    _, _, N, _, seed, axes = _check(1.0, 1.0, N, 0, seed, axes)
    sample_offset = check_int("sample_offset", sample_offset, minimum=0)
    logits = axes_log_weights(X, axes, check_real("c", c))
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    cdf = np.cumsum(p, axis=1)
    n = logits.shape[0]
    s_idx, i_idx = np.meshgrid(np.arange(n), np.arange(N), indexing="ij")
    u = _draws(i_idx.ravel(), s_idx.ravel() + sample_offset, 2, 0, seed)[:, 0] * _TWO_M32
    target = (u.reshape(n, N) * cdf[:, -1:])
    idx = np.sum(target[:, :, None] >= cdf[:, None, :], axis=2)
    return np.minimum(idx, logits.shape[1] - 1).astype(np.uint8)


def sample_maier_saupe(beta, J, N, n_samples, *, seed, n_chains=32, burn_in=400, return_latent=False):
    """Independent configurations (n_samples, N, 3) of the continuous Maier-Saupe model via the latent.

    With ``return_latent`` also returns the latent samples ``X`` (n_samples, 3, 3). Refused before any work
    (:class:`fastmf.io.ResourceLimitError`) when :func:`maier_saupe_bytes` is above the memory limit.
    """
    _check_size(N, n_samples, None, n_chains, burn_in)
    X = sample_latent(beta, J, N, n_samples, seed=seed, n_chains=n_chains, burn_in=burn_in)
    u = sample_bingham(float(beta) * float(J) * X, int(N), seed=seed)
    return (u, X) if return_latent else u


def sample_maier_saupe_axes(axes, beta, J, N, n_samples, *, seed, n_chains=32, burn_in=400,
                            return_latent=False):
    """Independent configurations (n_samples, N) uint8 of the discrete-axes model via the latent (refused before
    any work when :func:`maier_saupe_bytes` is above the memory limit)."""
    _check_size(N, n_samples, max(1, np.size(axes) // 3), n_chains, burn_in)
    X = sample_latent(beta, J, N, n_samples, seed=seed, axes=axes, n_chains=n_chains, burn_in=burn_in)
    states = sample_axes_given_latent(X, axes, float(beta) * float(J), int(N), seed=seed)
    return (states, X) if return_latent else states
