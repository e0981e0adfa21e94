"""Independent cross-check of ``fastmf verify``: a second, lattice-specific enumerator of small periodic
L x M Ising and Potts lattices.

The general engine for exact results is :mod:`fastmf.exact.enumeration` (any pairwise model, Gray-code order,
:mod:`fastmf.kernels.enumerate_cpu`). This module is deliberately a separate implementation, written for
lattices only (its own loops in :mod:`fastmf.kernels.lattice_enum_cpu`, its own energy bookkeeping), so that
:mod:`fastmf.verify` can check the samplers and Kaufman's formula against ground truth that shares no code
with the general engine. Every state is visited once by a compiled (Numba) loop; nothing is stored per state.

Conventions (the same as ``fastmf.kernels``):

* Ising, ``s = +-1``: ``E = -sum_<ij> J_ij s_i s_j - h sum_i s_i`` over the ``2 L M`` nearest-neighbour
  bonds; ``j_right[r, c]`` couples ``(r, c)-(r, c+1 mod M)`` and ``j_down[r, c]`` couples
  ``(r, c)-(r+1 mod L, c)``. For ``L = 2`` or ``M = 2`` a pair of sites is joined by two bonds.
* Potts, states ``0..q-1``: ``E = -J sum_<ij> delta(s_i, s_j) - h sum_i delta(s_i, 0)``.

Ising states are visited in Gray-code order (one spin flip per step, incremental energy update);
Potts states in odometer order. Ising energies are binned on a grid of ``1e-9`` (so float couplings
give unique energies up to that resolution); Potts energies are exact because the Potts density of
states is accumulated as integer counts over (number of satisfied bonds, number of sites in state 0,
largest state occupation), which also gives the results at any ``beta`` without re-enumerating.
"""
from dataclasses import dataclass

import numpy as np

from ..kernels.lattice_enum_cpu import ising_min_energy, ising_scan, potts_scan
from ..kernels.validation import check_int, check_real

__all__ = ["IsingEnumeration", "PottsEnumeration", "enumerate_ising", "enumerate_potts",
           "MAX_ISING_SITES", "MAX_POTTS_STATES"]

#: Largest number of Ising sites enumerated unless ``max_sites`` is raised (2**24 states, ~1-2 s).
MAX_ISING_SITES = 24
#: Largest number of Potts states ``q**N`` enumerated unless ``max_states`` is raised (4x4 q=3:
#: 3**16 = 4.3e7 states, about 1 s).
MAX_POTTS_STATES = 50_000_000

_ENERGY_BIN = 1e-9


def _check_side(name, value):
    return check_int(name, value, 2)


def _check_real(name, value, positive=False):
    return check_real(name, value, nonnegative=positive)


def _logsumexp(a):
    a = np.asarray(a, dtype=np.float64)
    amax = a.max()
    return amax + np.log(np.sum(np.exp(a - amax)))


def _moments(values, probs):
    mean = float(np.sum(values * probs))
    var = float(np.sum((values - mean) ** 2 * probs))
    return mean, var


# --------------------------------------------------------------------------------------------------
# Ising
# --------------------------------------------------------------------------------------------------

class _EnergyMoments:
    """Energy moments shared by the enumeration results (fields L, M, beta, energies, energy_probs)."""

    @property
    def n_sites(self):
        return self.L * self.M

    @property
    def mean_energy(self):
        """``<E>`` (total)."""
        return _moments(self.energies, self.energy_probs)[0]

    @property
    def energy_variance(self):
        """``Var(E)`` (total)."""
        return _moments(self.energies, self.energy_probs)[1]

    @property
    def energy_per_site(self):
        return self.mean_energy / self.n_sites

    @property
    def specific_heat(self):
        """Per site, ``beta**2 Var(E) / N``."""
        return self.beta ** 2 * self.energy_variance / self.n_sites


@dataclass(frozen=True)
class IsingEnumeration(_EnergyMoments):
    """Exact equilibrium distributions of an L x M Ising lattice at inverse temperature ``beta``.

    Attributes
    ----------
    L, M, beta, h : lattice size, inverse temperature and field.
    log_z : float
        ``ln Z``.
    energies : ndarray
        Unique total energies (ascending; float couplings binned on a ``1e-9`` grid).
    energy_probs : ndarray
        ``P(E)`` for each entry of ``energies``.
    energy_degeneracy : ndarray of int64
        Number of states in each energy bin (the density of states).
    magnetizations : ndarray of int64
        Total magnetization values ``sum_i s_i = -N, -N+2, ..., N``.
    magnetization_probs : ndarray
        ``P(sum_i s_i)``.
    staggered_magnetizations : ndarray of int64
        Values of ``sum_i (-1)**(r+c) s_i`` (``-N..N`` step 2).
    staggered_probs : ndarray
        Their probabilities.
    """

    L: int
    M: int
    beta: float
    h: float
    log_z: float
    energies: np.ndarray
    energy_probs: np.ndarray
    energy_degeneracy: np.ndarray
    magnetizations: np.ndarray
    magnetization_probs: np.ndarray
    staggered_magnetizations: np.ndarray
    staggered_probs: np.ndarray

    @property
    def mean_magnetization(self):
        """``<sum_i s_i> / N``."""
        return float(np.sum(self.magnetizations * self.magnetization_probs)) / self.n_sites

    @property
    def mean_abs_magnetization(self):
        """``<|sum_i s_i|> / N``."""
        return float(np.sum(np.abs(self.magnetizations) * self.magnetization_probs)) / self.n_sites

    @property
    def mean_abs_staggered(self):
        """``<|sum_i (-1)**(r+c) s_i|> / N``."""
        return float(np.sum(np.abs(self.staggered_magnetizations) * self.staggered_probs)) / self.n_sites

    @property
    def susceptibility(self):
        """Per site, ``beta N Var(m)`` with ``m = sum_i s_i / N``."""
        var = _moments(self.magnetizations / self.n_sites, self.magnetization_probs)[1]
        return self.beta * self.n_sites * var


def enumerate_ising(L, M, beta, J=1.0, h=0.0, j_right=None, j_down=None, max_sites=MAX_ISING_SITES):
    """Enumerate all ``2**(L M)`` states of the periodic L x M Ising model.

    Parameters
    ----------
    L, M : int
        Lattice rows and columns (>= 2).
    beta : float
        Inverse temperature (>= 0).
    J : float
        Uniform coupling, used when ``j_right`` and ``j_down`` are not given.
    h : float
        Uniform field.
    j_right, j_down : array_like, shape (L, M), optional
        Per-bond couplings (both or neither).
    max_sites : int
        Refuse larger lattices (the cost is ``2**(L M)``).

    Returns
    -------
    IsingEnumeration
    """
    L = _check_side("L", L)
    M = _check_side("M", M)
    beta = _check_real("beta", beta, positive=True)
    h = _check_real("h", h)
    n = L * M
    if n > max_sites:
        raise ValueError(f"{L}x{M} = {n} sites exceeds max_sites={max_sites} (2**N states)")
    if (j_right is None) != (j_down is None):
        raise ValueError("give both j_right and j_down, or neither")
    if j_right is None:
        J = _check_real("J", J)
        jr = np.full((L, M), J)
        jd = np.full((L, M), J)
    else:
        jr = np.ascontiguousarray(j_right, dtype=np.float64)
        jd = np.ascontiguousarray(j_down, dtype=np.float64)
        if jr.shape != (L, M) or jd.shape != (L, M):
            raise ValueError(f"j_right and j_down must have shape {(L, M)}, got {jr.shape}, {jd.shape}")
        if not (np.all(np.isfinite(jr)) and np.all(np.isfinite(jd))):
            raise ValueError("couplings must be finite")
    emin = ising_min_energy(L, M, jr, jd, h)
    e_val, e_w, e_cnt, w_mag, w_stag = ising_scan(L, M, jr, jd, h, beta, emin, _ENERGY_BIN)
    z_rel = e_w.sum()
    order = np.argsort(e_val)
    mags = np.arange(-n, n + 1, 2, dtype=np.int64)
    return IsingEnumeration(
        L=L, M=M, beta=beta, h=h,
        log_z=float(np.log(z_rel) - beta * emin),
        energies=e_val[order].copy(),
        energy_probs=e_w[order] / z_rel,
        energy_degeneracy=e_cnt[order].copy(),
        magnetizations=mags,
        magnetization_probs=w_mag / w_mag.sum(),
        staggered_magnetizations=mags.copy(),
        staggered_probs=w_stag / w_stag.sum(),
    )


# --------------------------------------------------------------------------------------------------
# Potts
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PottsEnumeration(_EnergyMoments):
    """Exact equilibrium distributions of an L x M q-state Potts lattice.

    The order parameter is ``m = (q max_k n_k / N - 1) / (q - 1)`` with ``n_k`` the number of sites in
    state ``k``: 0 for a perfectly balanced configuration (when ``q`` divides ``N``), 1 for an ordered
    one. It is the value returned by :func:`fastmf.models.observables.potts_order_parameter`.

    Attributes
    ----------
    L, M, q, beta, J, h : lattice, number of states, inverse temperature, coupling, field.
    log_z : float
        ``ln Z``.
    energies, energy_probs, energy_degeneracy : ndarray
        Unique total energies ``-J n_eq - h n_0`` (ascending), their probabilities and counts of states.
    n0_values, n0_probs : ndarray
        Number of sites in state 0 (``0..N``) and its distribution.
    order_values, order_probs : ndarray
        Values of the order parameter ``m`` (ascending) and their probabilities.
    max_occupation_values : ndarray of int64
        ``max_k n_k`` for each entry of ``order_values``.
    density_of_states : ndarray of int64, shape (2N+1, N+1, N+1)
        Number of states with ``n_eq`` satisfied bonds, ``n_0`` sites in state 0 and largest
        occupation ``max_k n_k`` (independent of ``beta``).
    """

    L: int
    M: int
    q: int
    beta: float
    J: float
    h: float
    log_z: float
    energies: np.ndarray
    energy_probs: np.ndarray
    energy_degeneracy: np.ndarray
    n0_values: np.ndarray
    n0_probs: np.ndarray
    order_values: np.ndarray
    order_probs: np.ndarray
    max_occupation_values: np.ndarray
    density_of_states: np.ndarray

    @property
    def mean_order_parameter(self):
        return float(np.sum(self.order_values * self.order_probs))


def enumerate_potts(L, M, q, beta, J=1.0, h=0.0, max_states=MAX_POTTS_STATES):
    """Enumerate all ``q**(L M)`` states of the periodic L x M q-state Potts model.

    Parameters
    ----------
    L, M : int
        Lattice rows and columns (>= 2).
    q : int
        Number of states (2..255).
    beta : float
        Inverse temperature (>= 0).
    J, h : float
        Coupling and field on state 0.
    max_states : int
        Refuse larger enumerations.

    Returns
    -------
    PottsEnumeration
    """
    L = _check_side("L", L)
    M = _check_side("M", M)
    q = _check_side("q", q)
    if q > 255:
        raise ValueError(f"q must be <= 255 (uint8 states), got {q}")
    beta = _check_real("beta", beta, positive=True)
    J = _check_real("J", J)
    h = _check_real("h", h)
    n = L * M
    if q ** n > max_states:
        raise ValueError(f"{q}**{n} states exceeds max_states={max_states}")
    counts = potts_scan(L, M, q)
    n_eq, n0, nmax = np.nonzero(counts)
    c = counts[n_eq, n0, nmax].astype(np.float64)
    energy = -J * n_eq - h * n0
    logw = np.log(c) - beta * energy
    log_z = _logsumexp(logw)
    p = np.exp(logw - log_z)

    # Energy: group equal (n_eq, n0) -> energy; bin on the same 1e-9 grid as the Ising enumeration.
    keys = np.round(energy / _ENERGY_BIN).astype(np.int64)
    ukeys, inv = np.unique(keys, return_inverse=True)
    e_probs = np.bincount(inv, weights=p, minlength=len(ukeys))
    e_deg = np.bincount(inv, weights=counts[n_eq, n0, nmax], minlength=len(ukeys)).astype(np.int64)
    e_vals = np.zeros(len(ukeys))
    e_vals[inv] = energy  # equal within a bin up to rounding
    n0_probs = np.bincount(n0, weights=p, minlength=n + 1)
    mx_probs = np.bincount(nmax, weights=p, minlength=n + 1)
    mx_vals = np.nonzero(np.bincount(nmax, minlength=n + 1))[0]
    return PottsEnumeration(
        L=L, M=M, q=q, beta=beta, J=J, h=h, log_z=float(log_z),
        energies=e_vals, energy_probs=e_probs, energy_degeneracy=e_deg,
        n0_values=np.arange(n + 1, dtype=np.int64), n0_probs=n0_probs,
        order_values=(q * mx_vals / n - 1.0) / (q - 1.0), order_probs=mx_probs[mx_vals],
        max_occupation_values=mx_vals.astype(np.int64),
        density_of_states=counts,
    )
