"""Kaufman's finite-lattice Ising partition function against brute force, enumeration and Onsager."""
import math

import numpy as np
import pytest

from fastmf.exact import kaufman
from fastmf.exact.crosscheck import enumerate_ising
from references import lattice_ising_boltzmann

T_LIST = [1.5, kaufman.T_C, 3.5]


def naive_log_z(L, M, beta, J=1.0):
    """Pure-Python brute force over all 2**(L M) states, 2 L M bonds (tests/references.py)."""
    return lattice_ising_boltzmann(L, M, beta, J=J)[3]


@pytest.mark.parametrize("L,M", [(3, 3), (2, 3), (2, 2)])
@pytest.mark.parametrize("J", [1.0, -0.8])
def test_log_z_vs_naive(L, M, J):
    for T in T_LIST:
        if J < 0 and L % 2 and M % 2:
            with pytest.raises(ValueError, match="both sides odd"):
                kaufman.log_partition_function(L, M, 1.0 / T, J)
            continue
        assert kaufman.log_partition_function(L, M, 1.0 / T, J) == pytest.approx(
            naive_log_z(L, M, 1.0 / T, J), rel=1e-13, abs=1e-12)


@pytest.mark.parametrize("L,M", [(4, 4), (3, 5), (2, 6), (3, 4), (4, 3), (4, 5)])
@pytest.mark.parametrize("J", [1.0, -1.0])
@pytest.mark.parametrize("T", T_LIST)
def test_against_enumeration(L, M, J, T):
    if J < 0 and L % 2 and M % 2:
        with pytest.raises(ValueError):
            kaufman.mean_energy(L, M, T, J)
        return
    ex = enumerate_ising(L, M, 1.0 / T, J=J)
    assert kaufman.log_partition_function(L, M, 1.0 / T, J) == pytest.approx(ex.log_z, rel=1e-12)
    assert kaufman.mean_energy(L, M, T, J) == pytest.approx(ex.mean_energy, rel=1e-11)
    assert kaufman.energy_per_site(L, M, T, J) == pytest.approx(ex.energy_per_site, rel=1e-11)
    assert kaufman.energy_variance(L, M, T, J) == pytest.approx(ex.energy_variance, rel=1e-10)
    assert kaufman.specific_heat(L, M, T, J) == pytest.approx(ex.specific_heat, rel=1e-10)
    assert kaufman.free_energy_per_site(L, M, T, J) == pytest.approx(-T * ex.log_z / (L * M), rel=1e-12)


def test_onsager_large_lattice():
    for T in [1.0, 1.5, 2.0, 2.6, 3.5, 10.0]:
        e = kaufman.energy_per_site(512, 512, T)
        assert abs(e - kaufman.onsager_energy_per_site(T)) < 1e-8
        if T > kaufman.T_C:   # below T_c, ln Z carries the ln 2 of the two ordered states
            assert kaufman.free_energy_per_site(512, 512, T) == pytest.approx(
                kaufman.onsager_free_energy_per_site(T), rel=1e-10)
    assert kaufman.onsager_energy_per_site(kaufman.T_C) == pytest.approx(-math.sqrt(2.0), rel=1e-14)
    # at T_c the finite-size correction is O(1/L)
    assert abs(kaufman.energy_per_site(512, 512, kaufman.T_C) + math.sqrt(2.0)) < 0.005
    # AFM and J scaling of the infinite-lattice energy
    assert kaufman.onsager_energy_per_site(3.0, J=-2.0) == pytest.approx(2.0 * kaufman.onsager_energy_per_site(1.5))


def test_specific_heat_peak_grows_logarithmically():
    c = [kaufman.specific_heat(L, L, kaufman.T_C) for L in (16, 32, 64, 128)]
    d = np.diff(c)
    # C(T_c) ~ (8/pi) K_c^2 ln L: increments per doubling approach (8/pi) K_c^2 ln 2 = 0.3434
    assert np.all(d > 0)
    assert d[-1] == pytest.approx(8 / math.pi * kaufman.BETA_C ** 2 * math.log(2.0), rel=0.01)


@pytest.mark.parametrize("T", [2.0, kaufman.T_C, 2.4])
def test_derivatives_vs_finite_differences(T):
    L, M = 64, 48
    b, h = 1.0 / T, 1e-5
    f = [kaufman.log_partition_function(L, M, b + k * h) for k in (-1, 0, 1)]
    assert -kaufman.mean_energy(L, M, T) == pytest.approx((f[2] - f[0]) / (2 * h), rel=1e-7)
    e = [kaufman.mean_energy(L, M, 1.0 / (b + k * h)) for k in (-1, 1)]
    assert kaufman.energy_variance(L, M, T) == pytest.approx(-(e[1] - e[0]) / (2 * h), rel=1e-7)


def test_smooth_through_tc():
    e0 = kaufman.energy_per_site(32, 32, kaufman.T_C)
    c0 = kaufman.specific_heat(32, 32, kaufman.T_C)
    for d in (1e-15, 1e-12, -1e-12, 1e-10):
        assert kaufman.energy_per_site(32, 32, kaufman.T_C + d) == pytest.approx(e0, rel=1e-9)
        assert kaufman.specific_heat(32, 32, kaufman.T_C + d) == pytest.approx(c0, rel=1e-8)


def test_limits_and_scaling():
    assert kaufman.mean_energy(8, 6, 0.02) == pytest.approx(-2 * 48)
    assert kaufman.mean_energy(8, 6, 0.02, J=-1.0) == pytest.approx(-2 * 48)
    assert kaufman.specific_heat(8, 6, 0.02) == pytest.approx(0.0, abs=1e-12)
    # high T: <E> = -2 N J^2 beta + O(beta^3) for L, M > 2
    T = 1e3
    assert kaufman.mean_energy(6, 5, T) == pytest.approx(-2 * 30 / T, rel=1e-5)
    assert kaufman.log_partition_function(6, 5, 0.0) == pytest.approx(30 * math.log(2))
    assert kaufman.log_partition_function(5, 5, 0.7, J=0.0) == pytest.approx(25 * math.log(2))
    # <E>(T, J) = J <E>(T/J, 1)
    assert kaufman.mean_energy(6, 4, 3.0, J=1.7) == pytest.approx(1.7 * kaufman.mean_energy(6, 4, 3.0 / 1.7))
    assert kaufman.mean_energy(6, 4, 2.0) == pytest.approx(kaufman.mean_energy(4, 6, 2.0), rel=1e-13)


@pytest.mark.parametrize("bad", [dict(L=1), dict(L=2.0), dict(M=True), dict(T=0.0), dict(T=-1.0),
                                 dict(T=math.inf), dict(T=math.nan), dict(J=math.nan)])
def test_validation(bad):
    args = dict(L=4, M=4, T=2.0, J=1.0)
    args.update(bad)
    with pytest.raises((ValueError, TypeError)):
        kaufman.mean_energy(args["L"], args["M"], args["T"], args["J"])


def test_validation_beta():
    with pytest.raises(ValueError):
        kaufman.log_partition_function(4, 4, -0.1)
    with pytest.raises(ValueError):
        kaufman.onsager_energy_per_site(0.0)
