"""Observables of 2D lattice configurations (NumPy, vectorized over samples).

Configurations have shape ``(n, L, M)`` (a single ``(L, M)`` lattice is also accepted and gives
scalars). Conventions are those of ``fastmf.kernels``: periodic boundaries, ``2 L M`` bonds
(for ``L = 2`` or ``M = 2`` a pair of sites is joined by two bonds),

* Ising, ``s = +-1``: ``E = -sum_<ij> J_ij s_i s_j - h sum_i s_i``, with per-bond couplings
  ``j_right[r, c]`` on ``(r, c)-(r, c+1 mod M)`` and ``j_down[r, c]`` on ``(r, c)-(r+1 mod L, c)``;
* Potts, states ``0..q-1``: ``E = -J sum_<ij> delta(s_i, s_j) - h sum_i delta(s_i, 0)``.
"""
import numpy as np

__all__ = ["ising_energy", "potts_energy", "magnetization", "abs_magnetization",
           "staggered_magnetization", "potts_order_parameter", "potts_occupations",
           "specific_heat", "susceptibility"]


def _as_lattices(x, name, ising):
    """Return ``(array of shape (n, L, M), was_single)``; check dtype, shape and values."""
    a = np.asarray(x)
    if a.ndim not in (2, 3):
        raise ValueError(f"{name} must have shape (n, L, M) or (L, M), got {a.shape}")
    single = a.ndim == 2
    if single:
        a = a[None]
    if a.shape[1] < 2 or a.shape[2] < 2:
        raise ValueError(f"lattice sides must be >= 2, got {a.shape[1:]}")
    if ising:
        if not (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
            raise TypeError(f"{name} must be an integer (int8) or float array of +-1, got dtype {a.dtype}")
        if a.size and not np.all(np.abs(a) == 1):
            raise ValueError(f"{name} must contain only +1 and -1")
    else:
        if not np.issubdtype(a.dtype, np.integer):
            raise TypeError(f"{name} must be an integer (uint8) array of Potts states, got dtype {a.dtype}")
        if a.size and a.min() < 0:
            raise ValueError(f"{name} must contain non-negative state indices")
    return a, single


def _out(v, single):
    return v[0] if single else v


def _check_couplings(j, shape, name):
    j = np.asarray(j, dtype=np.float64)
    if j.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {j.shape}")
    return j


def ising_energy(spins, J=1.0, h=0.0, j_right=None, j_down=None):
    """Total Ising energy of each configuration.

    Parameters
    ----------
    spins : array_like, shape (n, L, M) or (L, M)
        Spins ``+-1`` (int8 preferred).
    J : float
        Uniform coupling, used when ``j_right``/``j_down`` are not given.
    h : float
        Uniform field.
    j_right, j_down : array_like, shape (L, M), optional
        Per-bond couplings (both or neither).

    Returns
    -------
    ndarray of float64, shape (n,), or float for a single lattice.
    """
    s, single = _as_lattices(spins, "spins", ising=True)
    s = s.astype(np.int64, copy=False)
    right = s * np.roll(s, -1, axis=2)
    down = s * np.roll(s, -1, axis=1)
    if (j_right is None) != (j_down is None):
        raise ValueError("give both j_right and j_down, or neither")
    if j_right is None:
        bond = -float(J) * (right.sum(axis=(1, 2)) + down.sum(axis=(1, 2))).astype(np.float64)
    else:
        jr = _check_couplings(j_right, s.shape[1:], "j_right")
        jd = _check_couplings(j_down, s.shape[1:], "j_down")
        bond = -(np.einsum("nij,ij->n", right.astype(np.float64), jr)
                 + np.einsum("nij,ij->n", down.astype(np.float64), jd))
    e = bond - float(h) * s.sum(axis=(1, 2))
    return _out(e, single)


def potts_energy(states, J=1.0, h=0.0):
    """Total Potts energy ``-J sum_<ij> delta(s_i, s_j) - h sum_i delta(s_i, 0)`` of each configuration.

    Parameters
    ----------
    states : array_like of int, shape (n, L, M) or (L, M)
    J, h : float

    Returns
    -------
    ndarray of float64, shape (n,), or float for a single lattice.
    """
    s, single = _as_lattices(states, "states", ising=False)
    n_eq = ((s == np.roll(s, -1, axis=2)).sum(axis=(1, 2)) + (s == np.roll(s, -1, axis=1)).sum(axis=(1, 2)))
    e = -float(J) * n_eq - float(h) * (s == 0).sum(axis=(1, 2))
    return _out(e.astype(np.float64), single)


def magnetization(spins):
    """Magnetization per site ``sum_i s_i / N`` of each configuration."""
    s, single = _as_lattices(spins, "spins", ising=True)
    return _out(s.sum(axis=(1, 2), dtype=np.int64) / (s.shape[1] * s.shape[2]), single)


def abs_magnetization(spins):
    """``|sum_i s_i| / N`` of each configuration."""
    return np.abs(magnetization(spins))


def staggered_magnetization(spins):
    """Staggered magnetization per site ``sum_{r,c} (-1)**(r+c) s_{rc} / N`` (the Neel order parameter;
    on odd sides the checkerboard sign pattern is not periodic, the definition is applied as written)."""
    s, single = _as_lattices(spins, "spins", ising=True)
    L, M = s.shape[1:]
    sign = 1 - 2 * ((np.arange(L)[:, None] + np.arange(M)[None, :]) & 1)
    return _out(np.einsum("nij,ij->n", s.astype(np.int64), sign) / (L * M), single)


def potts_occupations(states, q):
    """Number of sites in each state, shape ``(n, q)`` (or ``(q,)`` for a single lattice)."""
    s, single = _as_lattices(states, "states", ising=False)
    q = int(q)
    if q < 2:
        raise ValueError(f"q must be >= 2, got {q}")
    if s.size and s.max() >= q:
        raise ValueError(f"states must be < q = {q}")
    flat = s.reshape(s.shape[0], -1).astype(np.int64)
    counts = np.zeros((s.shape[0], q), dtype=np.int64)
    np.add.at(counts, (np.repeat(np.arange(s.shape[0]), flat.shape[1]), flat.ravel()), 1)
    return _out(counts, single)


def potts_order_parameter(states, q):
    """Potts order parameter ``m = (q max_k n_k / N - 1) / (q - 1)``.

    ``n_k`` is the number of sites in state ``k``: ``m = 1`` for an ordered lattice and ``m = 0`` for a
    perfectly balanced one (its minimum is ``(q ceil(N/q)/N - 1)/(q - 1) >= 0``). This is the quantity
    whose distribution :func:`fastmf.exact.enumerate_potts` returns.
    """
    counts = potts_occupations(states, q)
    n = np.asarray(states).shape[-1] * np.asarray(states).shape[-2]
    return (q * counts.max(axis=-1) / n - 1.0) / (q - 1.0)


def _samples_1d(x, name):
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {a.shape}")
    if a.size < 2:
        raise ValueError(f"{name} needs at least 2 samples")
    return a


def _check_positive(name, v):
    v = float(v)
    if not (np.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be positive and finite, got {v}")
    return v


def specific_heat(energies, T, n_sites):
    """Specific heat per site ``Var(E) / (N T^2)`` from total energies (population variance).

    Parameters
    ----------
    energies : array_like, shape (n,)
        Total energies of equilibrium samples.
    T : float
        Temperature.
    n_sites : int
        Number of sites ``N``.
    """
    e = _samples_1d(energies, "energies")
    T = _check_positive("T", T)
    n_sites = _check_positive("n_sites", n_sites)
    return float(np.var(e) / (n_sites * T * T))


def susceptibility(magnetizations, T, n_sites):
    """Susceptibility per site ``N Var(m) / T`` from per-site magnetizations ``m`` (population variance).

    Pass ``|m|`` to get the finite-lattice estimator ``N (<m^2> - <|m|>^2) / T`` used below ``T_c``.
    """
    m = _samples_1d(magnetizations, "magnetizations")
    T = _check_positive("T", T)
    n_sites = _check_positive("n_sites", n_sites)
    return float(n_sites * np.var(m) / T)
