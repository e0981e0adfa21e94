"""Two sample sets of one system compared statistic by statistic, each against its sampling floor: the same
statistic between two random halves of the first set, rescaled to the sizes of the two sets. Means, pair and
three-point correlations (RMS differences), the magnetization distribution and Hopfield basin weights (total
variation), energies (Kolmogorov-Smirnov); the definitions and the scaling are in ``docs/compare.rst``.
"""
import dataclasses
import json
import math

import numpy as np

from ..io.files import check_memory
from ..io.samples import json_default
from .compare import as_configs, spin_statistics, summarize_agreement
from .moments import TRIPLE_BLOCK_ELEMENTS, triple_indices

__all__ = ["TwoSampleReport", "TwoSampleRow", "basin_labels", "basin_weights", "compare_two_samples",
           "comparison_bytes", "floor_scale", "half_splits", "ks_statistic", "order_histogram",
           "total_variation"]


# ---------------------------------------------------------------------------------------------- building blocks
def half_splits(n, n_splits, seed):
    """Seeded random splits of ``n`` samples into two halves.

    Parameters
    ----------
    n : int
        Number of samples (at least 4).
    n_splits : int
        Number of independent splits (at least 1).
    seed : int
        Seed (``numpy.random.default_rng([seed, 1])``): the splits depend on it alone.

    Returns
    -------
    list of (numpy.ndarray, numpy.ndarray)
        Sorted index arrays of sizes ``n // 2`` and ``n - n // 2``, disjoint, covering ``0..n-1``.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 4:
        raise ValueError(f"need at least 4 samples to split into halves, got {n!r}")
    if isinstance(n_splits, bool) or not isinstance(n_splits, (int, np.integer)) or n_splits < 1:
        raise ValueError(f"n_splits must be a positive integer, got {n_splits!r}")
    rng = np.random.default_rng([int(seed), 1])
    out = []
    for _ in range(int(n_splits)):
        perm = rng.permutation(int(n))
        out.append((np.sort(perm[:n // 2]), np.sort(perm[n // 2:])))
    return out


def floor_scale(n_a, n_b, n_1, n_2):
    """Factor that carries a statistic between sets of sizes ``n_1``, ``n_2`` to sets of sizes ``n_a``, ``n_b``.

    ``sqrt((1/n_a + 1/n_b) / (1/n_1 + 1/n_2))``: the standard deviation of a difference of two independent
    sample averages scales as ``sqrt(1/n_a + 1/n_b)``, and so (to leading order in the sample sizes) do RMS
    differences of means and correlations, the Kolmogorov-Smirnov statistic and total variations between
    histograms (``docs/compare.rst``). Halves of A (``n_1 = n_2 = n_a / 2``) give
    ``sqrt((1/n_a + 1/n_b) / (4/n_a))``: 1/sqrt(2) when ``n_b = n_a``.

    Parameters
    ----------
    n_a, n_b : int
        Sizes of the two sets compared.
    n_1, n_2 : int
        Sizes of the two halves the floor was measured on.

    Returns
    -------
    float
    """
    for name, v in (("n_a", n_a), ("n_b", n_b), ("n_1", n_1), ("n_2", n_2)):
        if not v >= 1:
            raise ValueError(f"{name} must be >= 1, got {v!r}")
    return math.sqrt((1.0 / n_a + 1.0 / n_b) / (1.0 / n_1 + 1.0 / n_2))


def ks_statistic(x, y):
    """Two-sample Kolmogorov-Smirnov statistic ``sup_t |F_x(t) - F_y(t)|`` of the empirical distributions.

    Exact with ties (both right-continuous empirical CDFs are evaluated at every observed value).

    Parameters
    ----------
    x, y : array_like
        Two non-empty one-dimensional samples of finite numbers.

    Returns
    -------
    float
        In ``[0, 1]``.
    """
    x, y = np.sort(np.ravel(np.asarray(x, np.float64))), np.sort(np.ravel(np.asarray(y, np.float64)))
    if x.size == 0 or y.size == 0:
        raise ValueError("the Kolmogorov-Smirnov statistic needs two non-empty samples")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("the Kolmogorov-Smirnov statistic needs finite values")
    v = np.concatenate([x, y])
    fx = np.searchsorted(x, v, side="right") / x.size
    fy = np.searchsorted(y, v, side="right") / y.size
    return float(np.max(np.abs(fx - fy)))


def total_variation(p, q):
    """Total variation distance ``(1/2) sum_k |p_k - q_k|`` between two probability vectors of one length."""
    p, q = np.asarray(p, np.float64), np.asarray(q, np.float64)
    if p.shape != q.shape:
        raise ValueError(f"probability vectors of different shapes {p.shape} and {q.shape}")
    return float(0.5 * np.abs(p - q).sum())


def order_histogram(configs, q=2):
    """Counts of the order variable per configuration: the number ``K`` of +1 spins (``q == 2``, spins +-1;
    the magnetization is ``2K - N``) or the largest state count ``max_k n_k`` (``q > 2``, states 0..q-1).

    Parameters
    ----------
    configs : numpy.ndarray, shape (n, N)
        Configurations as returned by :func:`fastmf.stats.compare.as_configs`.
    q : int
        States per site (2: +-1 spins).

    Returns
    -------
    numpy.ndarray
        ``(N + 1,)`` int64 counts over the values ``0..N``.
    """
    s = np.asarray(configs)
    n, N = s.shape
    if q == 2:
        value = (s > 0).sum(axis=1)
    else:
        value = np.zeros(n, np.int64)
        for k in range(q):
            value = np.maximum(value, (s == k).sum(axis=1))
    return np.bincount(value.astype(np.int64), minlength=N + 1)


def basin_labels(spins, patterns):
    """Hopfield basin of each configuration: the nearest pattern and its sign.

    The basin of ``s`` is ``2 mu + (xi^mu . s < 0)`` with ``mu = argmax_nu |xi^nu . s|``: labels ``2 mu`` (the
    pattern) and ``2 mu + 1`` (its reversal). Ties in ``|xi^nu . s|`` go to the lowest ``mu``, a zero overlap to
    the sign +.

    Parameters
    ----------
    spins : array_like, shape (n, N) or (n, L, M)
        +-1 configurations.
    patterns : array_like, shape (P, N)
        +-1 patterns (``N`` sites, flattened like the configurations).

    Returns
    -------
    numpy.ndarray
        ``(n,)`` int64 labels in ``0..2P-1``.
    """
    _, s = as_configs(spins, 2, "spins")
    xi = np.asarray(patterns)
    if xi.ndim != 2 or xi.shape[1] != s.shape[1] or xi.shape[0] < 1:
        raise ValueError(f"patterns must have shape (P, {s.shape[1]}), got {xi.shape}")
    if not np.all((xi == 1) | (xi == -1)):
        raise ValueError("patterns must hold +-1 only")
    overlaps = s.astype(np.float64) @ xi.T.astype(np.float64)    # integers, exact in float64
    mu = np.argmax(np.abs(overlaps), axis=1)
    negative = overlaps[np.arange(len(mu)), mu] < 0
    return 2 * mu.astype(np.int64) + negative


def basin_weights(spins, patterns):
    """Fractions of the configurations in each of the ``2P`` Hopfield basins (:func:`basin_labels`).

    Parameters
    ----------
    spins : array_like, shape (n, N) or (n, L, M)
        +-1 configurations.
    patterns : array_like, shape (P, N)
        +-1 patterns.

    Returns
    -------
    numpy.ndarray
        ``(2P,)`` weights summing to 1, ordered ``xi^1, -xi^1, xi^2, -xi^2, ...``.
    """
    labels = basin_labels(spins, patterns)
    return np.bincount(labels, minlength=2 * np.shape(patterns)[0]) / len(labels)


def comparison_bytes(n_a, n_b, n_sites, q=2):
    """Estimated peak memory (bytes) of :func:`compare_two_samples`.

    Parameters
    ----------
    n_a, n_b : int
        Sample counts.
    n_sites : int
        Sites per configuration.
    q : int
        States per site (the correlations of ``q > 2`` states are taken between one-hot indicators).

    Returns
    -------
    float
    """
    d = float(n_sites) * (q if q > 2 else 1)
    # spin_statistics of one set: the encoded, centred and squared data and a transposed copy (n x d each), the
    # d x d moment and error matrices of both sets compared; the basin overlaps; two blocks of triple products
    return (8.0 * (4.0 * max(n_a, n_b) * d + 8.0 * d * d) + 16.0 * (n_a + n_b) * n_sites
            + 16.0 * TRIPLE_BLOCK_ELEMENTS)


# ---------------------------------------------------------------------------------------------- the report
@dataclasses.dataclass(frozen=True)
class TwoSampleRow:
    """One statistic of :func:`compare_two_samples`.

    ``value`` is the statistic between A and B; ``floor`` the mean of the same statistic over the half-splits of
    A, times ``scale`` (:func:`floor_scale`), and ``floor_sd`` the standard deviation over the splits, scaled
    alike (NaN for one split); ``ratio = value / floor``. ``rms_z`` and ``rms_z_halves`` (moment rows only) are
    the RMS z-scores of :func:`fastmf.stats.compare.summarize_agreement` between A and B and between the halves
    (mean over the splits): each is about 1 for one distribution, whatever the sample sizes, so it is not
    rescaled. ``halves`` holds the unscaled statistic of each split.
    """

    name: str
    measure: str
    entries: int
    value: float
    floor: float
    floor_sd: float
    ratio: float
    rms_z: float = math.nan
    rms_z_halves: float = math.nan
    halves: tuple = ()


@dataclasses.dataclass(frozen=True, eq=False)
class TwoSampleReport:
    """Result of :func:`compare_two_samples`: the rows, the sizes, and per-statistic details.

    ``skipped`` maps a statistic left out to the reason; ``details`` holds the distributions behind the rows
    (``order``: the two histograms; ``energy``: means and standard deviations; ``basins``: the two weight
    vectors).
    """

    n_a: int
    n_b: int
    n_halves: tuple
    n_sites: int
    q: int
    n_splits: int
    seed: int
    scale: float
    rows: tuple
    skipped: dict
    details: dict

    def row(self, name):
        """The row called ``name`` (KeyError when absent)."""
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(name)

    def table(self):
        """The rows as a text table: statistic, A vs B, floor, ratio, RMS z (A vs B and halves of A).

        Returns
        -------
        str
        """
        n1, n2 = self.n_halves
        lines = [f"N = {self.n_sites} sites, q = {self.q}; n_A = {self.n_a}, n_B = {self.n_b}; floor: halves of A "
                 f"({n1} + {n2}), mean of {self.n_splits} split{'s' if self.n_splits > 1 else ''} "
                 f"(seed {self.seed}), scaled by {self.scale:.4g} to n_A vs n_B",
                 f"{'statistic':<26}{'A vs B':>11}{'floor':>11}{'ratio':>9}{'rms z':>9}{'(halves)':>10}"]
        for r in self.rows:
            label = f"{r.name} ({r.measure})"
            z = "" if math.isnan(r.rms_z) else f"{r.rms_z:>9.3f}{r.rms_z_halves:>10.3f}"
            lines.append(f"{label:<26}{r.value:>11.4g}{r.floor:>11.4g}{r.ratio:>9.3g}{z}")
        for name, why in self.skipped.items():
            lines.append(f"{name}: skipped ({why})")
        return "\n".join(lines)

    def __str__(self):
        return self.table()

    def to_dict(self):
        """JSON-ready dict (non-finite numbers become None).

        Returns
        -------
        dict
        """
        out = {"n_a": self.n_a, "n_b": self.n_b, "n_halves": list(self.n_halves), "n_sites": self.n_sites,
               "q": self.q, "n_splits": self.n_splits, "seed": self.seed, "floor_scale": self.scale,
               "rows": [dataclasses.asdict(r) for r in self.rows], "skipped": dict(self.skipped),
               "details": self.details}
        # through JSON text: arrays and NumPy scalars as lists and numbers, NaN and infinities as None
        return json.loads(json.dumps(out, default=json_default), parse_constant=lambda name: None)


def _row(name, measure, entries, value, halves, scale, z=(math.nan, ())):
    halves = tuple(float(h) for h in halves)
    mean = float(np.mean(halves))
    floor = mean * scale
    sd = float(np.std(halves, ddof=1)) * scale if len(halves) > 1 else math.nan
    ratio = value / floor if floor > 0 else (math.nan if value == 0 else math.inf)
    z_ab, z_halves = z
    return TwoSampleRow(name, measure, int(entries), float(value), floor, sd, float(ratio), float(z_ab),
                        float(np.mean(z_halves)) if len(z_halves) else math.nan, halves)


def _energies(e, n, name):
    e = np.asarray(e, np.float64)
    if e.shape != (n,) or not np.all(np.isfinite(e)):
        raise ValueError(f"{name} must be {n} finite energies, got shape {e.shape}")
    return e


# ---------------------------------------------------------------------------------------------- the comparison
def compare_two_samples(a, b, *, q=2, energy_a=None, energy_b=None, patterns=None, triples=1000, n_splits=16,
                        seed=0):
    """Compare two sample sets of one system, each statistic against its sampling floor.

    Parameters
    ----------
    a, b : array_like, shape (n, N) or (n, L, M)
        The sets A and B: +-1 spins (``q == 2``) or integer states ``0..q-1``; the sample counts may differ
        (A needs at least 4: it is split in halves), the sites may not.
    q : int
        States per site (2: +-1 spins).
    energy_a, energy_b : array_like, optional
        The energy of each configuration of A and of B under one model (both or neither): adds the
        Kolmogorov-Smirnov row ``energy``.
    patterns : array_like, shape (P, N), optional
        Hopfield patterns (+-1, ``q == 2``): adds the row ``basins``, the total variation between the basin
        weights (:func:`basin_weights`).
    triples : int or None
        Number of seeded random triples ``i < j < k`` for the three-point row (all of them when there are
        fewer; None: no three-point row), as in :func:`fastmf.stats.moments.triple_indices`. ``q > 2``: no
        triples.
    n_splits : int
        Random half-splits of A the floor is averaged over.
    seed : int
        Seed of the triples and the splits: the report depends on it and the data alone.

    Returns
    -------
    TwoSampleReport
        Rows ``means``, ``C_ij``, ``T_ijk`` (RMS differences), ``P(M)`` or ``P(n_max)`` (total variation),
        ``energy`` (KS) and ``basins`` (total variation), those that apply.

    Raises
    ------
    ValueError
        Configurations of different sizes or outside the state set, fewer than 4 samples in A, energies of the
        wrong shape or not finite, patterns of the wrong shape, or sizes above :func:`fastmf.io.memory_limit`.
    """
    _, sa = as_configs(a, q, "A")
    _, sb = as_configs(b, q, "B")
    n_a, n_b, N = sa.shape[0], sb.shape[0], sa.shape[1]
    if sb.shape[1] != N:
        raise ValueError(f"A has {N} sites per configuration, B has {sb.shape[1]}")
    if n_a < 4:
        raise ValueError(f"A has {n_a} samples; the floor needs at least 4 (two halves of 2)")
    if (energy_a is None) != (energy_b is None):
        raise ValueError("give the energies of both sets, or neither")
    if patterns is not None and q != 2:
        raise ValueError("Hopfield basins need +-1 spins (q = 2)")
    check_memory(comparison_bytes(n_a, n_b, N, q), f"the comparison of {n_a} and {n_b} configurations of {N} sites")
    splits = half_splits(n_a, n_splits, seed)
    n_1, n_2 = len(splits[0][0]), len(splits[0][1])
    scale = floor_scale(n_a, n_b, n_1, n_2)
    idx = triple_indices(N, triples, seed) if q == 2 else None

    rows, skipped, details = [], {}, {}
    rows += _moment_rows(sa, sb, splits, q, idx, seed, scale)
    if q != 2:
        skipped["T_ijk"] = "connected three-point correlations are defined for +-1 spins only"
    elif len(idx) == 0:
        skipped["T_ijk"] = "no triples (fewer than 3 sites, or none asked for)"

    name = "P(M)" if q == 2 else "P(n_max)"
    ha, hb = order_histogram(sa, q), order_histogram(sb, q)
    halves = [total_variation(order_histogram(sa[i], q) / len(i), order_histogram(sa[j], q) / len(j))
              for i, j in splits]
    rows.append(_row(name, "total variation", N + 1, total_variation(ha / n_a, hb / n_b), halves, scale))
    details["order"] = {"variable": "K = number of +1 spins, M = 2K - N" if q == 2 else "n_max = max_k n_k",
                        "a": ha / n_a, "b": hb / n_b}

    if energy_a is not None:
        ea, eb = _energies(energy_a, n_a, "energy_a"), _energies(energy_b, n_b, "energy_b")
        halves = [ks_statistic(ea[i], ea[j]) for i, j in splits]
        rows.append(_row("energy", "KS", 1, ks_statistic(ea, eb), halves, scale))
        details["energy"] = {"mean_a": ea.mean(), "mean_b": eb.mean(), "sd_a": ea.std(), "sd_b": eb.std()}
    else:
        skipped["energy"] = "no energies given"

    if patterns is not None:
        la, lb = basin_labels(sa, patterns), basin_labels(sb, patterns)
        k = 2 * np.shape(patterns)[0]

        def w(labels):
            return np.bincount(labels, minlength=k) / len(labels)
        halves = [total_variation(w(la[i]), w(la[j])) for i, j in splits]
        rows.append(_row("basins", "total variation", k, total_variation(w(la), w(lb)), halves, scale))
        details["basins"] = {"order": "xi^1, -xi^1, xi^2, -xi^2, ...", "a": w(la), "b": w(lb)}
    else:
        skipped["basins"] = "no Hopfield patterns given"
    return TwoSampleReport(n_a, n_b, (n_1, n_2), N, q, len(splits), int(seed), scale, tuple(rows), skipped,
                           details)


def _moment_rows(sa, sb, splits, q, idx, seed, scale):
    """Rows ``means``, ``C_ij`` (pairs of different sites) and ``T_ijk`` (when there are triples)."""
    N = sa.shape[1]
    off = np.triu(np.ones((N, N), bool), 1)
    if q > 2:
        site = np.repeat(np.arange(N), q)
        off = site[:, None] < site[None, :]
    tri = idx if idx is not None and len(idx) else None

    def compare(x, y):
        sx = spin_statistics(x, q=q, triples=tri, seed=seed)
        sy = spin_statistics(y, q=q, triples=tri, seed=seed)
        out = [summarize_agreement(sx.means, sy.means, sx.means_se, sy.means_se),
               summarize_agreement(sx.corr[off], sy.corr[off], sx.corr_se[off], sy.corr_se[off])]
        if tri is not None:
            out.append(summarize_agreement(sx.triples, sy.triples, sx.triples_se, sy.triples_se))
        return out
    ab = compare(sa, sb)
    halves = [compare(sa[i], sa[j]) for i, j in splits]
    rows = []
    for k, name in enumerate(("means", "C_ij", "T_ijk")[:len(ab)]):
        rows.append(_row(name, "rms diff", ab[k].entries, ab[k].rms_diff, [h[k].rms_diff for h in halves], scale,
                         (ab[k].rms_z, [h[k].rms_z for h in halves])))
    return rows
