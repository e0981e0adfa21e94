"""Statistics for Monte Carlo output: autocorrelation times, error bars, goodness of fit.

Convention: the integrated autocorrelation time is ``tau_int = 1/2 + sum_{t>=1} rho(t)``, so that the
variance of the mean of ``n`` correlated samples is ``2 tau_int sigma^2 / n`` (``tau_int = 1/2`` for
independent samples).
"""
import math
import warnings

import numpy as np
from scipy import stats as _sps

__all__ = ["autocorrelation", "integrated_autocorr_time", "mean_and_error", "batch_means", "blocking_error",
           "chi_square_test", "chi_square_from_samples", "samples_vs_exact_z"]

#: Shortest series accepted by :func:`integrated_autocorr_time` and :func:`blocking_error`.
MIN_LENGTH = 8
#: :func:`integrated_autocorr_time` warns when the series is shorter than this many ``tau_int``.
RELIABLE_LENGTH = 50


def _series(x, name="x", chains=False):
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 1 and not (chains and a.ndim == 2):
        raise ValueError(f"{name} must be one-dimensional{' (or (n, n_chains))' if chains else ''}, "
                         f"got shape {a.shape}")
    if a.shape[0] < MIN_LENGTH:
        raise ValueError(f"{name} has {a.shape[0]} samples; at least {MIN_LENGTH} are needed")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return a


def autocorrelation(x):
    """Normalized autocorrelation ``rho(t)``, ``t = 0..n-1`` (FFT, biased estimator ``/n``).

    ``x`` is one series of shape (n,), or ``n_chains`` independent chains of the same process as columns
    of shape (n, n_chains): their autocovariances (each about its own mean) are averaged, which is far
    less noisy than the autocorrelation of the chain average. A constant series returns ``[1, 0, 0, ...]``.
    """
    a = _series(x, chains=True)
    n = a.shape[0]
    d = a - a.mean(axis=0)
    nfft = 1 << (2 * n - 1).bit_length()
    f = np.fft.rfft(d, nfft, axis=0)
    acov = np.fft.irfft(f * np.conj(f), nfft, axis=0)[:n]
    if acov.ndim == 2:
        acov = acov.mean(axis=1)
    if acov[0] <= 0.0 or not np.isfinite(acov[0]):
        rho = np.zeros(n)
        rho[0] = 1.0
        return rho
    return acov / acov[0]


def integrated_autocorr_time(x, c=5.0, warn_short=False):
    """Integrated autocorrelation time with Sokal's automatic windowing.

    ``tau(W) = 1/2 + sum_{t=1}^{W} rho(t)``; the window is the smallest ``W`` with ``W >= c tau(W)``.

    Parameters
    ----------
    x : array_like, shape (n,) or (n, n_chains)
        A time series (``n >= 8``), or independent chains as columns (see :func:`autocorrelation`).
    c : float
        Window factor (4-10; larger is less biased and noisier).
    warn_short : bool
        Issue a ``RuntimeWarning`` when the series is shorter than ``RELIABLE_LENGTH * tau_int``
        (50 ``tau_int``): the estimate is then unreliable and biased low. Off by default so that
        pilot runs that check the length themselves stay quiet.

    Returns
    -------
    float
        ``tau_int`` (0.5 for a constant or uncorrelated series).
    """
    c = float(c)
    if not (math.isfinite(c) and c > 0):
        raise ValueError(f"c must be positive, got {c}")
    rho = autocorrelation(x)
    if not np.any(rho[1:]):
        return 0.5
    taus = 0.5 + np.cumsum(rho[1:])          # tau(W) for W = 1..n-1
    w = np.arange(1, rho.size)
    # the biased estimator makes tau(n-1) = 0, so a window always exists
    tau = float(taus[np.argmax(w >= c * taus)])
    if warn_short and rho.size < RELIABLE_LENGTH * tau:  # rho.size is the series length n
        warnings.warn(f"integrated_autocorr_time: series of {rho.size} samples is shorter than "
                      f"{RELIABLE_LENGTH} tau_int = {RELIABLE_LENGTH * tau:.0f}; the estimate is too short "
                      "to be reliable (biased low)", RuntimeWarning, stacklevel=2)
    return tau


def mean_and_error(x, c=5.0):
    """Mean, its standard error ``sqrt(2 tau_int var / n)`` and ``tau_int``.

    Warns (``RuntimeWarning``) when the series is shorter than 50 ``tau_int``.

    Returns
    -------
    (mean, stderr, tau_int) : tuple of float
    """
    a = _series(x)
    tau = integrated_autocorr_time(a, c=c, warn_short=True)
    var = float(np.var(a, ddof=1))
    return float(a.mean()), math.sqrt(2.0 * tau * var / a.size), tau


def batch_means(x, n_batches=20):
    """Mean of a series and its standard error from ``n_batches`` contiguous batches (the batches fixed in
    advance: ``k n // n_batches``), which includes the autocorrelation when batches are longer than it.

    Returns
    -------
    (mean, stderr) : tuple of float
    """
    a = np.asarray(x, dtype=np.float64).ravel()
    n_batches = int(n_batches)
    if not 2 <= n_batches <= a.size or not np.isfinite(a).all():
        raise ValueError(f"batch means need a finite series of at least n_batches = {n_batches} >= 2 values, got "
                         f"{a.size}")
    edges = np.arange(n_batches + 1) * a.size // n_batches
    means = np.add.reduceat(a, edges[:-1]) / np.diff(edges)
    return float(a.mean()), float(np.std(means, ddof=1) / math.sqrt(n_batches))


def blocking_error(x, alpha=0.01, full_output=False):
    """Standard error of the mean by blocking (Flyvbjerg & Petersen, J. Chem. Phys. 91, 461 (1989)).

    The series is halved repeatedly (pairs averaged; an odd last element is dropped). The level is
    chosen automatically as in M. Jonsson, Phys. Rev. E 98, 043304 (2018): the first level ``k`` at
    which ``M_k = sum_{j>=k} n_j (gamma_j / sigma_j^2)^2`` (``gamma_j`` the lag-1 autocovariance of
    the level-``j`` blocks) is below the ``1 - alpha`` chi-square quantile with as many degrees of
    freedom as levels summed.

    Parameters
    ----------
    x : array_like, shape (n,)
    alpha : float
        Test level.
    full_output : bool
        Also return ``(level, errors)``, the chosen level and the error estimate at every level.

    Returns
    -------
    float, or (float, int, ndarray)
    """
    a = _series(x)
    levels_err, stat = [], []
    while a.size >= 2:
        n = a.size
        d = a - a.mean()
        var = float(np.mean(d * d))
        gamma = float(np.mean(d[:-1] * d[1:])) if n > 1 else 0.0
        levels_err.append(math.sqrt(var / (n - 1)))
        stat.append(n * (gamma / var) ** 2 if var > 0 else 0.0)
        a = 0.5 * (a[0:n - n % 2:2] + a[1:n - n % 2:2])
    errs = np.array(levels_err)
    if errs[0] == 0.0:
        return (0.0, 0, errs) if full_output else 0.0
    m_k = np.cumsum(np.array(stat)[::-1])[::-1]
    dof = np.arange(len(stat), 0, -1)
    ok = m_k < _sps.chi2.ppf(1.0 - alpha, dof)
    if np.any(ok):
        k = int(np.argmax(ok))
    else:
        k = len(errs) - 1
        warnings.warn("blocking_error: no level passed the decorrelation test; use more data",
                      RuntimeWarning, stacklevel=2)
    return (float(errs[k]), k, errs) if full_output else float(errs[k])


def chi_square_test(observed_counts, expected_probabilities, min_expected=5.0, ddof=0):
    """Pearson chi-square goodness-of-fit test with merging of sparse bins.

    Adjacent bins (in the given order) are merged left to right until each merged bin expects at
    least ``min_expected`` counts; a remainder at the end joins the last merged bin. Observed counts in
    a bin of probability exactly 0 make the statistic infinite (p = 0).

    Parameters
    ----------
    observed_counts : array_like of int, shape (k,)
    expected_probabilities : array_like, shape (k,)
        Non-negative, summing to 1 (to 1e-6).
    min_expected : float
    ddof : int
        Extra degrees of freedom to subtract (fitted parameters).

    Returns
    -------
    (statistic, dof, p_value) : (float, int, float)
    """
    obs = np.asarray(observed_counts, dtype=np.float64)
    p = np.asarray(expected_probabilities, dtype=np.float64)
    if obs.ndim != 1 or obs.shape != p.shape:
        raise ValueError(f"observed_counts and expected_probabilities must be 1-D of equal length, "
                         f"got {obs.shape} and {p.shape}")
    if np.any(obs < 0) or np.any(p < 0) or not np.all(np.isfinite(p)):
        raise ValueError("counts and probabilities must be non-negative and finite")
    if abs(p.sum() - 1.0) > 1e-6:
        raise ValueError(f"expected_probabilities must sum to 1, got {p.sum()!r}")
    total = obs.sum()
    if total <= 0:
        raise ValueError("no observations")
    exp = total * p
    merged_o, merged_e = [], []
    acc_o = acc_e = 0.0
    impossible = bool(np.any((p == 0) & (obs > 0)))
    for o, e in zip(obs, exp):
        acc_o += o
        acc_e += e
        if acc_e >= min_expected:
            merged_o.append(acc_o)
            merged_e.append(acc_e)
            acc_o = acc_e = 0.0
    if acc_e > 0 or acc_o > 0:
        if merged_e:
            merged_o[-1] += acc_o
            merged_e[-1] += acc_e
        else:
            merged_o.append(acc_o)
            merged_e.append(acc_e)
    dof = len(merged_e) - 1 - int(ddof)
    if dof < 1:
        raise ValueError(f"only {len(merged_e)} bin(s) with >= {min_expected} expected counts: "
                         "too few samples for a chi-square test")
    if impossible:
        return math.inf, dof, 0.0
    mo, me = np.array(merged_o), np.array(merged_e)
    stat = float(np.sum((mo - me) ** 2 / me))
    return stat, dof, float(_sps.chi2.sf(stat, dof))


def chi_square_from_samples(values, support, probabilities, min_expected=5.0, atol=1e-8):
    """Chi-square test of samples against an exact discrete distribution.

    Parameters
    ----------
    values : array_like
        Samples (e.g. total magnetizations or energies); each must equal a support point to ``atol``.
    support : array_like, shape (k,)
        Distinct support points (any order).
    probabilities : array_like, shape (k,)
        Their probabilities.

    Returns
    -------
    (statistic, dof, p_value)
        A sample off the support gives ``(inf, dof, 0.0)``.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    s = np.asarray(support, dtype=np.float64)
    p = np.asarray(probabilities, dtype=np.float64)
    if s.ndim != 1 or s.shape != p.shape:
        raise ValueError("support and probabilities must be 1-D of equal length")
    order = np.argsort(s)
    s, p = s[order], p[order]
    if np.any(np.diff(s) <= atol):
        raise ValueError("support points must be distinct (further apart than atol)")
    idx = np.clip(np.searchsorted(s, v), 1, max(len(s) - 1, 1))
    left = s[idx - 1]
    right = s[np.minimum(idx, len(s) - 1)]
    nearest = np.where(np.abs(v - left) <= np.abs(v - right), idx - 1, np.minimum(idx, len(s) - 1))
    on_support = np.abs(v - s[nearest]) <= atol * np.maximum(1.0, np.abs(v))
    counts = np.bincount(nearest[on_support], minlength=len(s)).astype(np.float64)
    if not np.all(on_support):
        # samples off the support: impossible under the exact distribution
        stat, dof, _ = chi_square_test(counts if counts.sum() > 0 else p * len(v), p, min_expected)
        return math.inf, dof, 0.0
    return chi_square_test(counts, p, min_expected)


def samples_vs_exact_z(sample_mean, stderr, exact):
    """``z = (sample_mean - exact) / stderr``; ``stderr = 0`` gives 0 when equal, else ``+-inf``."""
    diff = float(sample_mean) - float(exact)
    stderr = float(stderr)
    if stderr < 0 or not math.isfinite(stderr):
        raise ValueError(f"stderr must be non-negative and finite, got {stderr}")
    if stderr == 0.0:
        return 0.0 if diff == 0.0 else math.copysign(math.inf, diff)
    return diff / stderr
