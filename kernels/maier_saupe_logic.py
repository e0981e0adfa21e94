"""Single-site update logic for the Maier-Saupe (nematic) model, written once for every Numba backend.

:func:`build` compiles the plain-Python functions below with a given decorator: ``numba.njit`` for the CPU
kernels (``maier_saupe_cpu.py``) and ``numba.cuda.jit(device=True)`` for the Numba-CUDA kernels
(``maier_saupe_cuda.py``), so both run the same floating-point operations in the same order. The host-side
helpers (:func:`ms_tensor`, :func:`axes_counts`, :func:`axes_gram`) and argument checks at the bottom are
NumPy and shared by both, so every backend raises the same errors.

Model
-----
``N`` unit vectors ``u_i`` (``u == -u``), ``E = -(J / 2N) sum_{i,j} P2(u_i . u_j)`` with
``P2(x) = (3x^2 - 1)/2`` (self terms included). With ``A = sum_i u_i u_i^T`` (3x3, kept up to date in
place), ``sum_ij P2(u_i . u_j) = (3/2) Tr(A^2) - N^2/2``, so replacing ``u`` by ``v`` at one site changes the
energy by

    dE = -(3J / 4N) [2 (v^T A v - u^T A u) + 2 - 2 (u . v)^2]        (A before the move),

an O(1) update. The discrete variant puts each site on one of ``D`` unit axes ``n_d``; with counts ``c_d`` and
the Gram table ``G[d, e] = (n_d . n_e)^2`` the log-weight of axis ``d`` for site ``i`` given the others is
``(3 beta J / 2N) sum_e c'_e G[d, e]`` (``c'`` the counts without site ``i``).

Random numbers (Philox4x32-10, one call per site and draw; ``c3`` is the draw number)
-------------------------------------------------------------------------------------
Rotation moves, site ``i`` of chain ``r`` in sweep ``t``, key ``(seed, STREAM_ROTATION)``:

* ``Philox((i, r, t, 0))`` -> words ``w0..w3``: Box-Muller Gaussians
  ``g0, g1 = sqrt(-2 ln U0) (cos, sin)(2 pi U1)`` and ``g2 = sqrt(-2 ln U2) cos(2 pi U3)`` with
  ``U0 = (w0 + 1/2) / 2^32``, ``U2 = (w2 + 1/2) / 2^32`` (open interval, safe for ``log``) and
  ``U1 = w1 / 2^32``, ``U3 = w3 / 2^32``; the proposal ``v = (u + step g) / |u + step g|`` is symmetric
  (the density of ``v`` given ``u`` depends on ``u . v`` only);
* ``Philox((i, r, t, 1))`` word 0 -> acceptance uniform ``w / 2^32``: accept when ``dE <= 0`` or
  ``U < exp(-beta dE)``.

Discrete axes, key ``(seed, STREAM_MEANFIELD)``, ``Philox((i, r, t, 0))``: heat-bath uses ``U = w0 / 2^32``
(inverse CDF over the axes); Metropolis proposes axis ``(s + 1 + floor(w0 (D - 1) / 2^32)) mod D`` (a uniform
other axis) and accepts with ``U = w1 / 2^32``.
"""
from types import SimpleNamespace

import math

import numpy as np

from ._checks import check_inplace, check_real, check_sweep_scalars

__all__ = ["UNIT_TOL", "axes_counts", "axes_gram", "build", "ms_tensor", "validate_axes_args",
           "validate_rotation_args"]

UNIT_TOL = 1e-9  # tolerance of the unit-norm checks of spins and axes
_TWO_M32 = 2.0 ** -32
_TWO_PI = 2.0 * math.pi


def build(jit, philox4x32):
    """Compile the Maier-Saupe logic with decorator ``jit`` on top of the matching ``philox4x32``."""

    @jit
    def gaussians3(x0, x1, x2, x3):
        """Three standard normals from four uint32 words by Box-Muller (mapping in the module docstring)."""
        r01 = math.sqrt(-2.0 * math.log((np.float64(x0) + 0.5) * _TWO_M32))
        a1 = _TWO_PI * (np.float64(x1) * _TWO_M32)
        r2 = math.sqrt(-2.0 * math.log((np.float64(x2) + 0.5) * _TWO_M32))
        a3 = _TWO_PI * (np.float64(x3) * _TWO_M32)
        return r01 * math.cos(a1), r01 * math.sin(a1), r2 * math.cos(a3)

    @jit
    def quad_form(A, r, x, y, z):
        """``w^T A[r] w`` for ``w = (x, y, z)``."""
        return (x * (A[r, 0, 0] * x + A[r, 0, 1] * y + A[r, 0, 2] * z)
                + y * (A[r, 1, 0] * x + A[r, 1, 1] * y + A[r, 1, 2] * z)
                + z * (A[r, 2, 0] * x + A[r, 2, 1] * y + A[r, 2, 2] * z))

    @jit
    def rotation_site(u, A, r, i, n_sites, beta, J, step, seed, stream, sweep):
        """One Metropolis rotation move of site ``i`` of chain ``r``; returns 1 if accepted."""
        x0, x1, x2, x3 = philox4x32(i, r, sweep, 0, seed, stream)
        g0, g1, g2 = gaussians3(x0, x1, x2, x3)
        a0 = u[r, i, 0]
        a1 = u[r, i, 1]
        a2 = u[r, i, 2]
        w0 = a0 + step * g0
        w1 = a1 + step * g1
        w2 = a2 + step * g2
        norm = math.sqrt(w0 * w0 + w1 * w1 + w2 * w2)
        if norm == 0.0:  # measure zero; rejecting keeps the move symmetric
            return 0
        v0 = w0 / norm
        v1 = w1 / norm
        v2 = w2 / norm
        dq = quad_form(A, r, v0, v1, v2) - quad_form(A, r, a0, a1, a2)
        c = a0 * v0 + a1 * v1 + a2 * v2
        d_e = -(3.0 * J / (4.0 * n_sites)) * (2.0 * dq + 2.0 - 2.0 * c * c)
        if d_e > 0.0:
            y0, y1, y2, y3 = philox4x32(i, r, sweep, 1, seed, stream)
            if np.float64(y0) * _TWO_M32 >= math.exp(-beta * d_e):
                return 0
        uo = (a0, a1, a2)
        vn = (v0, v1, v2)
        for a in range(3):
            for b in range(3):
                A[r, a, b] = A[r, a, b] - uo[a] * uo[b] + vn[a] * vn[b]
        u[r, i, 0] = v0
        u[r, i, 1] = v1
        u[r, i, 2] = v2
        return 1

    @jit
    def rotation_chain(u, A, r, beta, J, step, seed, stream, sweep0, n_sweeps):
        """``n_sweeps`` sequential sweeps (sites 0..N-1) of chain ``r``; returns the accepted count."""
        n_sites = u.shape[1]
        acc = 0
        for t in range(n_sweeps):
            for i in range(n_sites):
                acc += rotation_site(u, A, r, i, n_sites, beta, J, step, seed, stream, sweep0 + t)
        return acc

    @jit
    def axis_field(counts, G, r, d, old, D):
        """``sum_e c'_e G[d, e]`` with ``c'`` the counts of chain ``r`` without one site on axis ``old``."""
        s = 0.0
        for e in range(D):
            c = counts[r, e] - (1 if e == old else 0)
            s += np.float64(c) * G[d, e]
        return s

    @jit
    def axes_site(states, counts, G, r, i, n_sites, beta, J, heatbath, seed, stream, sweep):
        """Heat-bath or Metropolis update of the axis index of site ``i``; returns 1 if it changed."""
        D = G.shape[0]
        x0, x1, x2, x3 = philox4x32(i, r, sweep, 0, seed, stream)
        old = np.int64(states[r, i])
        coef = 1.5 * beta * J / n_sites
        if heatbath:
            # Three passes (max, normaliser, inverse CDF) instead of a scratch array: no per-site allocation,
            # which also keeps the function usable as a CUDA device function.
            lmax = -np.inf
            for d in range(D):
                lw = coef * axis_field(counts, G, r, d, old, D)
                if lw > lmax:
                    lmax = lw
            total = 0.0
            for d in range(D):
                total += math.exp(coef * axis_field(counts, G, r, d, old, D) - lmax)
            target = (np.float64(x0) * _TWO_M32) * total
            new = D - 1
            cum = 0.0
            for d in range(D):
                cum += math.exp(coef * axis_field(counts, G, r, d, old, D) - lmax)
                if target < cum:
                    new = d
                    break
        else:
            new = (old + 1 + np.int64((np.uint64(x0) * np.uint64(D - 1)) >> np.uint64(32))) % D
            x = coef * (axis_field(counts, G, r, new, old, D) - axis_field(counts, G, r, old, old, D))
            if x < 0.0 and np.float64(x1) * _TWO_M32 >= math.exp(x):
                new = old
        if new == old:
            return 0
        counts[r, old] -= 1
        counts[r, new] += 1
        states[r, i] = new
        return 1

    @jit
    def axes_chain(states, counts, G, r, beta, J, heatbath, seed, stream, sweep0, n_sweeps):
        """``n_sweeps`` sequential sweeps of chain ``r`` of the discrete-axes model; returns the changes."""
        n_sites = states.shape[1]
        acc = 0
        for t in range(n_sweeps):
            for i in range(n_sites):
                acc += axes_site(states, counts, G, r, i, n_sites, beta, J, heatbath, seed, stream,
                                 sweep0 + t)
        return acc

    return SimpleNamespace(gaussians3=gaussians3, quad_form=quad_form, rotation_site=rotation_site,
                           rotation_chain=rotation_chain, axis_field=axis_field, axes_site=axes_site,
                           axes_chain=axes_chain)


# ----------------------------------------------------------------------------------------------
# Host-side helpers and argument checks (NumPy), shared by maier_saupe_cpu and maier_saupe_cuda.

def ms_tensor(u):
    """``A = sum_i u_i u_i^T`` for spins ``u`` of shape (n_chains, N, 3) -> (n_chains, 3, 3)."""
    u = np.asarray(u, dtype=np.float64)
    return np.einsum("ria,rib->rab", u, u)


def axes_gram(axes):
    """``G[d, e] = (n_d . n_e)^2`` for unit axes (D, 3)."""
    axes = np.asarray(axes, dtype=np.float64)
    return np.ascontiguousarray((axes @ axes.T) ** 2)


def axes_counts(states, D):
    """Counts ``c[r, d]`` of sites on axis ``d`` in chain ``r`` (int64, shape (n_chains, D))."""
    states = np.asarray(states)
    out = np.zeros((states.shape[0], D), np.int64)
    for d in range(D):
        out[:, d] = np.count_nonzero(states == d, axis=1)
    return out


def validate_rotation_args(u, A, beta, J, step, seed, sweep, n_sweeps, check_values=True):
    """Check the arguments of :func:`~fastmf.kernels.maier_saupe_cpu.ms_rotation_sweep`; returns the
    converted scalars ``(step, beta, J, seed, sweep, n_sweeps)``."""
    check_inplace("u", u, np.float64, 3)
    check_inplace("A", A, np.float64, 3)
    if u.shape[2] != 3 or u.shape[1] < 1:
        raise ValueError(f"u must have shape (n_chains, N, 3) with N >= 1, got {u.shape}")
    if A.shape != (u.shape[0], 3, 3):
        raise ValueError(f"A must have shape (n_chains, 3, 3) = {(u.shape[0], 3, 3)}, got {A.shape}")
    step = check_real("step", step, positive=True)
    scalars = check_sweep_scalars(beta, J, seed, sweep, n_sweeps)
    if check_values:
        if not np.all(np.isfinite(u)):
            raise ValueError("u contains NaN or infinite values")
        norms = np.sqrt(np.einsum("ria,ria->ri", u, u))
        if np.any(np.abs(norms - 1.0) > UNIT_TOL):
            raise ValueError(f"u must hold unit vectors (|u| - 1 within {UNIT_TOL}); worst |u| = "
                             f"{norms.ravel()[np.argmax(np.abs(norms - 1.0))]!r}")
        if not np.all(np.isfinite(A)):
            raise ValueError("A contains NaN or infinite values")
        dev = np.max(np.abs(A - ms_tensor(u))) if u.size else 0.0
        if dev > 1e-6 * max(1, u.shape[1]):
            raise ValueError(f"A must equal sum_i u_i u_i^T (see ms_tensor); max deviation {dev:.3g}")
    return (step,) + scalars


def validate_axes_args(states, axes, counts, beta, J, seed, sweep, n_sweeps, check_values=True):
    """Check the arguments of :func:`~fastmf.kernels.maier_saupe_cpu.ms_axes_sweep`; returns ``(axes, G)``
    (:func:`axes_gram`) and the converted scalars ``(beta, J, seed, sweep, n_sweeps)``."""
    check_inplace("states", states, np.uint8, 2)
    check_inplace("counts", counts, np.int64, 2)
    axes = np.ascontiguousarray(axes, dtype=np.float64)
    if axes.ndim != 2 or axes.shape[1] != 3 or not 2 <= axes.shape[0] <= 256:
        raise ValueError(f"axes must have shape (D, 3) with 2 <= D <= 256, got {axes.shape}")
    if not np.all(np.isfinite(axes)):
        raise ValueError("axes contain NaN or infinite values")
    norms = np.linalg.norm(axes, axis=1)
    if np.any(np.abs(norms - 1.0) > UNIT_TOL):
        raise ValueError(f"axes must be unit vectors (|n| - 1 within {UNIT_TOL}); norms {norms}")
    D = axes.shape[0]
    if states.shape[1] < 1:
        raise ValueError(f"states must have shape (n_chains, N) with N >= 1, got {states.shape}")
    if counts.shape != (states.shape[0], D):
        raise ValueError(f"counts must have shape (n_chains, D) = {(states.shape[0], D)}, got {counts.shape}")
    scalars = check_sweep_scalars(beta, J, seed, sweep, n_sweeps)
    if check_values:
        if states.size and int(states.max()) >= D:
            raise ValueError(f"states must hold axis indices 0..{D - 1}")
        if not np.array_equal(counts, axes_counts(states, D)):
            raise ValueError("counts must equal the number of sites on each axis (see axes_counts)")
    return (axes, axes_gram(axes)) + scalars
