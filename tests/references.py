"""Reference helpers shared by test modules, written without fastmf (not collected: no ``test_`` prefix)."""
import numpy as np
from scipy.interpolate import PchipInterpolator
from scipy.special import ndtri

__all__ = ["inverse_cdf_map"]


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
