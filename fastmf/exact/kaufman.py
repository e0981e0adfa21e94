"""Kaufman's exact partition function of the periodic L x M Ising model at zero field.

B. Kaufman, Phys. Rev. 76, 1232 (1949); in the form of A. E. Ferdinand and M. E. Fisher,
Phys. Rev. 185, 832 (1969) and P. D. Beale, Phys. Rev. Lett. 76, 78 (1996). For ``m`` rows of ``n``
spins with coupling ``K1`` along the rows and ``K2`` between rows (``K2 > 0``):

    Z = 1/2 (2 sinh 2K2)^(mn/2) (Z1 + Z2 + Z3 + Z4),
    Z1 = prod_{k=0}^{n-1} 2 cosh(m g_{2k+1} / 2),   Z2 = prod 2 sinh(m g_{2k+1} / 2),
    Z3 = prod_{k=0}^{n-1} 2 cosh(m g_{2k} / 2),     Z4 = prod 2 sinh(m g_{2k} / 2),
    cosh g_l = cosh 2K1 cosh 2K2* - sinh 2K1 sinh 2K2* cos(pi l / n),   tanh K2* = exp(-2 K2).

``g_l > 0`` except for the two special modes, which keep their sign: ``g_0 = 2 (K1 - K2*)`` (for the
isotropic model ``g_0 = 2K + ln tanh K``, negative above ``T_c``, which makes ``Z4`` negative) and
``g_n = 2 (K1 + K2*)`` (negative only for an antiferromagnetic ``K1`` along an odd row).

Numerics: everything is carried in log space with signs; the derivatives with respect to ``beta``
(mean energy and its variance) are analytic, propagated as second-order Taylor jets. Factors
``2 sinh x`` with small ``|x|`` (``g_0`` near ``T_c``) are multiplied out explicitly, so the result
is smooth through ``T_c`` (where ``g_0 = 0`` and ``Z4 = 0``). The variance is accumulated as a central
moment over the four terms, so it does not suffer the ``O(N)`` cancellation of ``<E^2> - <E>^2``.

Conventions: ``E = -J sum_<ij> s_i s_j`` over the ``2 L M`` bonds of the torus (for ``L = 2`` or
``M = 2`` a pair of sites is joined twice, as in the simulation kernels). ``J < 0`` is mapped to
``|J|`` by the gauge ``s -> (-1)^(r+c) s`` when both sides are even; with exactly one odd side the
frustrated antiferromagnet is handled by the anisotropic formula (``K1 = beta J`` along the odd side,
``K2 = beta |J|`` along the even side after gauging alternate rows); both sides odd with ``J < 0``
raises ``ValueError``.
"""
import math

import numpy as np
from scipy.special import ellipk

from ..kernels.validation import check_int, check_real

__all__ = ["T_C", "BETA_C", "log_partition_function", "free_energy_per_site", "mean_energy",
           "energy_per_site", "energy_variance", "specific_heat", "onsager_energy_per_site",
           "onsager_free_energy_per_site"]

#: Critical temperature of the square-lattice Ising model for J = 1 (k_B = 1).
T_C = 2.0 / math.log(1.0 + math.sqrt(2.0))
#: Critical inverse temperature ``ln(1 + sqrt 2) / 2``.
BETA_C = 1.0 / T_C

_SMALL = 0.5  # sinh factors with |x| below this are multiplied out explicitly


# --------------------------------------------------------------------------------------------------
# Second-order jets: (value, d/dbeta, d^2/dbeta^2), elementwise on numpy arrays.
# --------------------------------------------------------------------------------------------------

class _Jet:
    __slots__ = ("v", "d1", "d2")

    def __init__(self, v, d1=0.0, d2=0.0):
        self.v, self.d1, self.d2 = v, d1, d2

    def chain(self, f, fp, fpp):
        """``F(self)`` from ``F``, ``F'`` and ``F''`` evaluated at ``self.v``."""
        return _Jet(f, fp * self.d1, fpp * self.d1 ** 2 + fp * self.d2)

    def __add__(self, o):
        if isinstance(o, _Jet):
            return _Jet(self.v + o.v, self.d1 + o.d1, self.d2 + o.d2)
        return _Jet(self.v + o, self.d1, self.d2)

    __radd__ = __add__

    def __neg__(self):
        return _Jet(-self.v, -self.d1, -self.d2)

    def __sub__(self, o):
        return self + (-o)

    def __mul__(self, o):
        if isinstance(o, _Jet):
            return _Jet(self.v * o.v, self.v * o.d1 + self.d1 * o.v,
                        self.v * o.d2 + 2.0 * self.d1 * o.d1 + self.d2 * o.v)
        return _Jet(self.v * o, self.d1 * o, self.d2 * o)

    __rmul__ = __mul__


def _jsinh(x):
    s, c = np.sinh(x.v), np.cosh(x.v)
    return x.chain(s, c, s)


def _jdual(k):
    """``K* = -ln(tanh K) / 2 = artanh(exp(-2K))`` for ``K > 0``."""
    t = math.exp(-2.0 * k.v)
    val = 0.5 * (math.log1p(t) - math.log1p(-t))
    s2 = -math.expm1(-4.0 * k.v) / (2.0 * t)  # sinh 2K without overflow
    c2 = (1.0 + math.exp(-4.0 * k.v)) / (2.0 * t)
    return k.chain(val, -1.0 / s2, 2.0 * c2 / s2 ** 2)


def _jlog2sinh2(k):
    """``ln(2 sinh 2K)`` for ``K > 0``."""
    e = math.exp(-4.0 * k.v)
    val = 2.0 * k.v + math.log1p(-e)
    coth = (1.0 + e) / (1.0 - e)
    inv_sinh2 = 4.0 * e / (1.0 - e) ** 2
    return k.chain(val, 2.0 * coth, -4.0 * inv_sinh2)


def _jarccosh1p(u):
    """``arccosh(1 + u)`` for ``u > 0``."""
    w = np.sqrt(u.v * (u.v + 2.0))
    return u.chain(np.log1p(u.v + w), 1.0 / w, -(u.v + 1.0) / w ** 3)


# --------------------------------------------------------------------------------------------------
# The four Kaufman terms
# --------------------------------------------------------------------------------------------------

def _term(x, hyper):
    """One product ``prod_k 2 cosh(x_k)`` or ``prod_k 2 sinh(x_k)`` (``x`` a jet of arrays).

    Returns ``(log|P|, sign P, g, r, Q)``: ``P`` is the product of the regular factors,
    ``g = P'/P``, ``r = P''/P - g**2``, and ``Q = (Q, Q', Q'')`` the product of the small sinh factors.
    """
    xv, x1, x2 = (np.broadcast_to(np.asarray(a, dtype=np.float64), np.shape(x.v)) for a in (x.v, x.d1, x.d2))
    q = np.array([1.0, 0.0, 0.0])
    if hyper == "sinh":
        small = np.abs(xv) < _SMALL
        for v, a1, a2 in zip(xv[small], x1[small], x2[small]):
            s0, s1, s2 = 2.0 * math.sinh(v), 2.0 * math.cosh(v) * a1, 2.0 * (math.sinh(v) * a1 ** 2 + math.cosh(v) * a2)
            q = np.array([q[0] * s0, q[0] * s1 + q[1] * s0, q[0] * s2 + 2.0 * q[1] * s1 + q[2] * s0])
        xv, x1, x2 = xv[~small], x1[~small], x2[~small]
    ax = np.abs(xv)
    e = np.exp(-2.0 * ax)
    if hyper == "cosh":
        logp = np.sum(ax + np.log1p(e))
        sign = 1.0
        t = np.tanh(xv)
        one_minus_t2 = 4.0 * e / (1.0 + e) ** 2          # 1 - tanh^2 = sech^2
    else:
        logp = np.sum(ax + np.log1p(-e))
        sign = float(np.prod(np.sign(xv)))
        t = 1.0 / np.tanh(xv)
        one_minus_t2 = -4.0 * e / (1.0 - e) ** 2         # 1 - coth^2 = -csch^2
    g = np.sum(x1 * t)
    r = np.sum(x2 * t + x1 ** 2 * one_minus_t2)
    return logp, sign, g, r, q


def _kaufman(m, n, beta, j1, j2):
    """``(ln Z, d ln Z / d beta, d^2 ln Z / d beta^2)`` for ``m`` rows of ``n`` spins, coupling ``j1``
    along rows and ``j2 > 0`` between rows."""
    k1 = _Jet(beta * j1, j1, 0.0)
    k2 = _Jet(beta * j2, j2, 0.0)
    k2s = _jdual(k2)
    # cosh g_l - 1 as a sum of non-negative terms (no cancellation near g_l = 0)
    half = np.pi * np.arange(2 * n) / (2 * n)          # theta_l / 2 for l = 0 .. 2n-1
    s2k1 = _jsinh(2.0 * k1)
    s2k2s = _jsinh(2.0 * k2s)
    if j1 >= 0:
        a = _jsinh(k1 - k2s)
        u = 2.0 * (a * a) + 2.0 * (s2k1 * s2k2s) * np.sin(half) ** 2
    else:
        a = _jsinh(k1 + k2s)
        u = 2.0 * (a * a) + (-2.0) * (s2k1 * s2k2s) * np.cos(half) ** 2
    special = np.zeros(2 * n, dtype=bool)
    special[0] = True
    special[n] = True
    u = _Jet(np.where(special, 1.0, u.v), np.where(special, 0.0, u.d1), np.where(special, 0.0, u.d2))
    gam = _jarccosh1p(u)
    g0 = 2.0 * (k1 - k2s)
    gn = 2.0 * (k1 + k2s)
    gv, gd1, gd2 = (np.array(a, dtype=np.float64) for a in (gam.v, gam.d1, gam.d2))
    for idx, gs in ((0, g0), (n, gn)):
        gv[idx], gd1[idx], gd2[idx] = gs.v, gs.d1, gs.d2
    x = _Jet(0.5 * m * gv, 0.5 * m * gd1, 0.5 * m * gd2)
    odd = _Jet(x.v[1::2], x.d1[1::2], x.d2[1::2])
    even = _Jet(x.v[0::2], x.d1[0::2], x.d2[0::2])
    terms = [_term(odd, "cosh"), _term(odd, "sinh"), _term(even, "cosh"), _term(even, "sinh")]

    amax = max(t[0] for t in terms)
    ew = [t[1] * math.exp(t[0] - amax) for t in terms]
    s0 = sum(w * t[4][0] for w, t in zip(ew, terms))
    if not s0 > 0:
        raise FloatingPointError("Kaufman sum is not positive (numerical breakdown)")
    gbar = sum(w * (t[2] * t[4][0] + t[4][1]) for w, t in zip(ew, terms)) / s0
    c2 = 0.0
    for w, (_, _, g, r, q) in zip(ew, terms):
        d = g - gbar
        c2 += w * ((r + d * d) * q[0] + 2.0 * d * q[1] + q[2])
    c2 /= s0
    pref = _jlog2sinh2(k2)
    npairs = 0.5 * m * n
    log_z = -math.log(2.0) + npairs * pref.v + amax + math.log(s0)
    return log_z, npairs * pref.d1 + gbar, npairs * pref.d2 + c2


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------

def _check_side(name, value):
    return check_int(name, value, 2)


def _check_temperature(T):
    return check_real("T", T, positive=True)


def _derivatives(L, M, beta, J):
    """``(ln Z, d ln Z/d beta, d^2 ln Z/d beta^2)`` for the isotropic model, any sign of ``J``."""
    L = _check_side("L", L)
    M = _check_side("M", M)
    beta = check_real("beta", beta)
    J = check_real("J", J)
    if beta < 0:
        raise ValueError(f"beta must be >= 0, got {beta}")
    if beta == 0.0 or J == 0.0:
        # free spins; distinct bonded pairs are uncorrelated (a double bond is one pair of coupling 2J)
        return L * M * math.log(2.0), 0.0, _double_bond_variance(L, M) * J * J
    if J > 0:
        return _kaufman(L, M, beta, J, J)
    if L % 2 == 0 and M % 2 == 0:
        return _kaufman(L, M, beta, -J, -J)
    if L % 2 == 0:      # M odd: rows of M spins, AFM along rows, gauge alternate rows
        return _kaufman(L, M, beta, J, -J)
    if M % 2 == 0:      # L odd: transpose
        return _kaufman(M, L, beta, J, -J)
    raise ValueError(f"J < 0 on a lattice with both sides odd ({L}x{M}) is not supported")


def _double_bond_variance(L, M):
    """``Var(E) / J^2`` at ``beta = 0``: sum over distinct site pairs of (bond multiplicity)^2."""
    return float(L * M * ((2 if M == 2 else 1) + (2 if L == 2 else 1)))


def log_partition_function(L, M, beta, J=1.0):
    """``ln Z`` of the periodic L x M Ising model at zero field.

    Parameters
    ----------
    L, M : int
        Lattice rows and columns (>= 2).
    beta : float
        Inverse temperature (>= 0, finite).
    J : float
        Uniform coupling (``J < 0``: antiferromagnet; not supported when both sides are odd).

    Returns
    -------
    float
    """
    return _derivatives(L, M, beta, J)[0]


def free_energy_per_site(L, M, T, J=1.0):
    """``-T ln Z / (L M)``."""
    T = _check_temperature(T)
    return -T * _derivatives(L, M, 1.0 / T, J)[0] / (L * M)


def mean_energy(L, M, T, J=1.0):
    """Total mean energy ``<E> = -d ln Z / d beta`` at temperature ``T``."""
    T = _check_temperature(T)
    return -_derivatives(L, M, 1.0 / T, J)[1]


def energy_per_site(L, M, T, J=1.0):
    """``<E> / (L M)``."""
    return mean_energy(L, M, T, J) / (L * M)


def energy_variance(L, M, T, J=1.0):
    """Total energy variance ``Var(E) = d^2 ln Z / d beta^2``."""
    T = _check_temperature(T)
    return max(_derivatives(L, M, 1.0 / T, J)[2], 0.0)  # clip rounding below 0 deep in the ground state


def specific_heat(L, M, T, J=1.0):
    """Specific heat per site ``C = Var(E) / (N T^2)``."""
    T = _check_temperature(T)
    return energy_variance(L, M, T, J) / (L * M * T * T)


def _onsager_k(T, J):
    T = _check_temperature(T)
    J = abs(check_real("J", J))
    if J == 0:
        raise ValueError("J must be non-zero")
    return J / T, J


def onsager_energy_per_site(T, J=1.0):
    """Energy per site of the infinite square lattice (Onsager):

    ``u = -J coth 2K [1 + (2/pi)(2 tanh^2 2K - 1) K(k)]``, ``k = 2 sinh 2K / cosh^2 2K``,
    ``K = |J|/T`` (the antiferromagnet has the same energy), ``K(k)`` the complete elliptic integral of
    the first kind (``scipy.special.ellipk(k**2)``). At ``T_c`` it equals ``-sqrt(2) |J|``.
    """
    K, J = _onsager_k(T, J)
    t2 = math.tanh(2.0 * K) ** 2
    k = 2.0 * math.sinh(2.0 * K) / math.cosh(2.0 * K) ** 2
    m = min(k * k, 1.0)
    if m == 1.0 or 2.0 * t2 - 1.0 == 0.0:
        return -math.sqrt(2.0) * J
    return -J / math.tanh(2.0 * K) * (1.0 + 2.0 / math.pi * (2.0 * t2 - 1.0) * ellipk(m))


def onsager_free_energy_per_site(T, J=1.0, n_points=4096):
    """Free energy per site of the infinite lattice, ``-T [ln(2 cosh 2K) + (1/2pi) int_0^pi
    ln((1 + sqrt(1 - k^2 sin^2 t)) / 2) dt]``.

    The integrand is periodic and analytic for ``T != T_c``, so the midpoint rule with ``n_points``
    nodes converges exponentially (at ``T_c`` the integrand has a logarithmic kink and the error is
    about ``1e-7`` for the default).
    """
    K, J = _onsager_k(T, J)
    k = 2.0 * math.sinh(2.0 * K) / math.cosh(2.0 * K) ** 2
    t = np.pi * (np.arange(n_points) + 0.5) / n_points
    integ = np.pi * np.mean(np.log(0.5 * (1.0 + np.sqrt(np.maximum(0.0, 1.0 - (k * np.sin(t)) ** 2)))))
    return -T * (math.log(2.0 * math.cosh(2.0 * K)) + integ / (2.0 * math.pi))
