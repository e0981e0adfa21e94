"""Compare a fitted or generative model with data through the low-order statistics of their configurations.

Spin data are +-1 configurations of shape ``(n, N)`` (``(n, L, M)`` is flattened to ``(n, L*M)``).
:func:`spin_statistics` computes, with plug-in standard errors (no bootstrap):

* means ``m_i = <s_i>``, SE ``sd_i / sqrt(n)``;
* connected correlations ``C_ij = <s_i s_j> - m_i m_j`` (a centred matrix product), SE
  ``sqrt((<x_i^2 x_j^2> - C_ij^2) / n)`` with ``x = s - m`` (asymptotic SE of a sample covariance);
* connected three-point correlations ``T_ijk = <x_i x_j x_k>`` (``i < j < k``) on all triples or a seeded
  random subset, SE from the influence function ``x_i x_j x_k - C_jk x_i - C_ik x_j - C_ij x_k``;
* the activity distribution ``P(K)``, ``K`` the number of +1 spins (magnetization ``(2K - N) / N``),
  binomial SE ``sqrt(P (1 - P) / n)``.

q-state data (integers ``0..q-1``, ``q > 2``) are one-hot encoded: ``means`` are then the one-site
marginals ``P_i(a)`` (shape ``(N, q)``) and ``corr`` the connected correlations of the indicators,
``P_ij(a, b) - P_i(a) P_j(b)``, indexed ``i * q + a``; triples and ``P(K)`` are not defined.

:func:`compare_samples` returns a :class:`ValidationReport`: for each statistic the RMS and largest absolute
difference, the Pearson correlation of data and model values and the RMS z-score
``(d - m) / sqrt(se_d^2 + se_m^2)`` (about 1 when both sample sets come from one distribution,
:func:`summarize_agreement`); the total variation and KL divergence between the ``P(K)``; optionally an
energy-histogram comparison (:func:`energy_comparison`). The comparison with the model's exact log-probability
table (:class:`ExactComparison`) is computed by :func:`exact_comparison` from a checked, normalised table;
:func:`fastmf.decode.validate.compare` checks and normalises the table with :mod:`fastmf.exact.info` and adds it
to the report.
"""
import dataclasses
import math

import numpy as np

from .moments import MAX_ALL_TRIPLES_N, activity_counts, triple_indices, triple_products

__all__ = ["MAX_ALL_TRIPLES_N", "EnergyComparison", "ExactComparison", "SpinStatistics", "StatComparison",
           "ValidationReport", "as_configs", "check_q", "compare_samples", "energy_comparison", "exact_comparison",
           "spin_statistics", "summarize_agreement"]


# ---------------------------------------------------------------------------------------------- input
def as_configs(samples, q=2, name="samples"):
    """Check a set of configurations and flatten it to one row per sample.

    Parameters
    ----------
    samples : array_like, shape (n, N) or (n, L, M)
        +-1 spins (any integer or float dtype) when ``q == 2``; integer states ``0..q-1`` otherwise.
    q : int
        Number of states per site (2: spins).
    name : str
        Name of the argument in error messages.

    Returns
    -------
    original : numpy.ndarray
        ``samples`` as an array, in the shape given.
    configs : numpy.ndarray
        ``(n, D)`` int8 configurations, ``D`` the number of sites.

    Raises
    ------
    ValueError
        For a wrong shape, an empty set, a non-numeric dtype or values outside the state set.
    """
    a = np.asarray(samples)
    if a.ndim not in (2, 3):
        raise ValueError(f"{name} must have shape (n, N) or (n, L, M), got {a.shape}")
    if a.shape[0] < 1 or a[0].size < 1:
        raise ValueError(f"{name} is empty: shape {a.shape}")
    if a.dtype == bool or not (np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
        raise ValueError(f"{name} must hold numbers, got dtype {a.dtype}")
    flat = a.reshape(a.shape[0], -1)
    if q == 2:
        if not np.all((flat == 1) | (flat == -1)):
            raise ValueError(f"{name} must hold +-1 spins only")
    elif not np.all((flat >= 0) & (flat < q) & (flat == np.round(flat))):
        raise ValueError(f"{name} must hold integer states 0..{q - 1} only")
    return a, flat.astype(np.int8)


def check_q(q):
    """Check a number of states per site.

    Parameters
    ----------
    q : int
        Number of states per site.

    Returns
    -------
    int
        ``q`` as a Python int.

    Raises
    ------
    ValueError
        Unless ``q`` is an integer (not a bool) in ``2..127``.
    """
    if isinstance(q, (bool, np.bool_)) or not isinstance(q, (int, np.integer)) or not 2 <= q <= 127:
        raise ValueError(f"q must be an integer in 2..127, got {q!r}")
    return int(q)


# ---------------------------------------------------------------------------------------------- statistics
@dataclasses.dataclass(frozen=True, eq=False)
class SpinStatistics:
    """Low-order statistics of one sample set (see :mod:`fastmf.stats.compare`); all SEs are plug-in.

    ``means`` has shape ``(N,)`` for spins and ``(N, q)`` (one-site marginals) for ``q > 2``; ``corr`` is the
    ``(D, D)`` connected correlation matrix, ``D = N`` (spins) or ``N * q``; ``triple_idx`` the ``(T, 3)``
    triples ``i < j < k`` of ``triples``; ``activity_probs`` the ``(N + 1,)`` ``P(K)``, ``K`` the number of +1
    spins (None for ``q > 2``). Each ``*_se`` is the standard error of the field it follows.
    """

    n_samples: int
    n_sites: int
    q: int
    means: np.ndarray
    means_se: np.ndarray
    corr: np.ndarray
    corr_se: np.ndarray
    triple_idx: np.ndarray
    triples: np.ndarray
    triples_se: np.ndarray
    activity_probs: np.ndarray = None
    activity_se: np.ndarray = None

    @property
    def magnetizations(self):
        """Magnetization per site ``(2K - N) / N`` of each ``P(K)`` bin (spins only)."""
        return None if self.q != 2 else (2.0 * np.arange(self.n_sites + 1) - self.n_sites) / self.n_sites

    @property
    def magnetization_probs(self):
        """``P(m)`` on :attr:`magnetizations`: the same numbers as :attr:`activity_probs`."""
        return self.activity_probs


def spin_statistics(samples, *, q=2, triples=1000, seed=0):
    """Means, connected two- and three-point correlations and ``P(K)``, with standard errors.

    Parameters
    ----------
    samples : array_like, shape (n, N) or (n, L, M)
        +-1 spins (any integer or float dtype) when ``q == 2``; integer states ``0..q-1`` otherwise.
    q : int
        Number of states per site (2: spins).
    triples : "all", int, (T, 3) int array or None
        Triples ``i < j < k`` for ``T_ijk`` (:func:`fastmf.stats.moments.triple_indices`): ``"all"``
        (N <= 40), a number of distinct random triples (all of them when the number reaches C(N, 3)), explicit
        indices, or None for none. Ignored (none) for ``q > 2``.
    seed : int
        Seed of the random triples (``numpy.random.default_rng``).

    Returns
    -------
    SpinStatistics
    """
    q = check_q(q)
    _, s = as_configs(samples, q, "samples")
    return _statistics(s, q, triples, seed)


def _statistics(s, q, triples, seed):
    n, N = s.shape
    x = s.astype(np.float64) if q == 2 else np.eye(q)[s].reshape(n, N * q)
    mu = x.mean(axis=0)
    xc = x - mu
    C = xc.T @ xc / n
    x2 = xc * xc
    corr_se = np.sqrt(np.maximum(x2.T @ x2 / n - C * C, 0.0) / n)
    means_se = np.sqrt(np.maximum(np.diag(C), 0.0) / n)
    idx = triple_indices(N, triples, seed) if q == 2 else np.empty((0, 3), np.int64)
    T = np.empty(len(idx))
    T_se = np.empty(len(idx))
    xt = np.ascontiguousarray(xc.T)
    for block, i, j, k, p in triple_products(xt, idx):
        T[block] = p.mean(axis=1)
        p -= C[j, k, None] * xt[i] + C[i, k, None] * xt[j] + C[i, j, None] * xt[k]   # influence function
        T_se[block] = p.std(axis=1) / math.sqrt(n)
    P = P_se = None
    if q == 2:
        P = activity_counts(s > 0) / n
        P_se = np.sqrt(P * (1 - P) / n)
    shape = (N,) if q == 2 else (N, q)
    return SpinStatistics(n, N, q, mu.reshape(shape), means_se.reshape(shape), C, corr_se, idx, T, T_se,
                          P, P_se)


# ---------------------------------------------------------------------------------------------- comparison
@dataclasses.dataclass(frozen=True)
class StatComparison:
    """Data-vs-model summary of one statistic over ``entries`` values (differences data - model).

    ``pearson`` is NaN when either side is constant; ``rms_z`` uses only entries with a positive combined SE.
    """

    entries: int
    rms_diff: float
    max_abs_diff: float
    pearson: float
    rms_z: float


def summarize_agreement(d, m, se_d, se_m):
    """Agreement of data values with model values of one statistic.

    Parameters
    ----------
    d, m : array_like
        Data and model values of the same entries (any shape; flattened).
    se_d, se_m : array_like
        Their standard errors (same size).

    Returns
    -------
    StatComparison
        RMS and largest absolute difference ``d - m``, Pearson correlation of ``d`` and ``m`` and RMS z-score
        ``(d - m) / sqrt(se_d^2 + se_m^2)`` over the entries with a positive combined SE; all NaN (and
        ``entries == 0``) for no entries.
    """
    d, m = np.ravel(d), np.ravel(m)
    if d.size == 0:
        return StatComparison(0, math.nan, math.nan, math.nan, math.nan)
    diff = d - m
    se = np.hypot(np.ravel(se_d), np.ravel(se_m))
    ok = se > 0
    rms_z = float(np.sqrt(np.mean((diff[ok] / se[ok]) ** 2))) if ok.any() else math.nan
    sd, sm = d.std(), m.std()
    pearson = float(np.mean((d - d.mean()) * (m - m.mean())) / (sd * sm)) if sd > 1e-14 and sm > 1e-14 \
        else math.nan
    return StatComparison(int(d.size), float(np.sqrt(np.mean(diff ** 2))), float(np.abs(diff).max()),
                          pearson, rms_z)


@dataclasses.dataclass(frozen=True, eq=False)
class EnergyComparison:
    """Energy histograms (probabilities per bin) of data and model on common ``edges``, mean energies with
    SE ``sd / sqrt(n)`` and the two-sample Kolmogorov-Smirnov statistic (the p-value assumes continuous
    energies and is conservative for discrete ones)."""

    edges: np.ndarray
    data_hist: np.ndarray
    model_hist: np.ndarray
    data_mean: float
    data_mean_se: float
    model_mean: float
    model_mean_se: float
    ks: float
    ks_pvalue: float


@dataclasses.dataclass(frozen=True)
class ExactComparison:
    """Checks against the model's exact distribution ``p`` (nats, per sample).

    ``entropy`` is ``H(p)``; ``data_nll = -<log p(x)>_data`` (the cross-entropy of the data under the model)
    and ``model_nll`` the same on the model samples, each with SE ``sd / sqrt(n)``. Their gaps to ``H(p)``,
    ``data_gap = data_nll - entropy`` and ``model_gap``, have expectation 0 when the samples are drawn from
    ``p`` (``data_gap = KL(data || p) + H(data) - H(p)`` in general), so ``gap / se`` is a z-score; they are
    +inf when a sample has ``p = 0``.
    """

    entropy: float
    data_nll: float
    data_nll_se: float
    model_nll: float
    model_nll_se: float
    data_gap: float
    model_gap: float


@dataclasses.dataclass(frozen=True, eq=False)
class ValidationReport:
    """Result of :func:`compare_samples` and :func:`fastmf.decode.validate.compare`; ``activity_*`` are None for
    ``q > 2``, ``energy``/``exact`` when not asked.

    ``activity_kl`` is ``KL(P_data(K) || P_model(K))`` in nats; where the data have mass and the model has
    none, the model's ``P(K)`` is floored at half a count (``0.5 / n_model``) and renormalised, so the KL is
    finite, and exactly 0 for identical sample sets.
    """

    data: SpinStatistics
    model: SpinStatistics
    means: StatComparison
    corr: StatComparison
    triples: StatComparison
    activity_tv: float = None
    activity_kl: float = None
    energy: EnergyComparison = None
    exact: ExactComparison = None

    def table(self):
        """A readable multi-line summary.

        Returns
        -------
        str
        """
        d, m = self.data, self.model
        head = ("statistic", "entries", "rms diff", "max |diff|", "pearson", "rms z")
        lines = [(f"ValidationReport: N = {d.n_sites}, q = {d.q}, n = {d.n_samples} (data), "
                  f"{m.n_samples} (model)"),
                 "{:<14}{:>9}{:>12}{:>12}{:>10}{:>9}".format(*head)]
        for label, c in (("means", self.means), ("C_ij (i<j)", self.corr), ("T_ijk", self.triples)):
            if c.entries:
                lines.append(f"{label:<14}{c.entries:>9d}{c.rms_diff:>12.4g}{c.max_abs_diff:>12.4g}"
                             f"{c.pearson:>10.4f}{c.rms_z:>9.3f}")
        if self.activity_tv is not None:
            lines.append(f"P(K): TV = {self.activity_tv:.4g}, KL(data||model) = {self.activity_kl:.4g} nats")
        if self.energy is not None:
            e = self.energy
            lines.append(f"energy: data {e.data_mean:.6g} +- {e.data_mean_se:.2g}, model {e.model_mean:.6g} "
                         f"+- {e.model_mean_se:.2g}, KS = {e.ks:.4g} (p = {e.ks_pvalue:.3g})")
        if self.exact is not None:
            x = self.exact
            lines.append(f"exact: H(model) = {x.entropy:.6g}; -<log p>_data = {x.data_nll:.6g} +- "
                         f"{x.data_nll_se:.2g} (gap {x.data_gap:.3g}); -<log p>_model = {x.model_nll:.6g} +- "
                         f"{x.model_nll_se:.2g} (gap {x.model_gap:.3g})")
        return "\n".join(lines)

    def __str__(self):
        return self.table()

    def to_dict(self, full=False):
        """JSON-ready dict (non-finite floats become None); ``P(K)`` and the energy histograms are always included.

        Parameters
        ----------
        full : bool
            Add the means, correlation matrices and triples of both sample sets.

        Returns
        -------
        dict
        """
        out = {"N": self.data.n_sites, "q": self.data.q, "n_data": self.data.n_samples,
               "n_model": self.model.n_samples, "means": _fields(self.means), "corr": _fields(self.corr),
               "triples": _fields(self.triples), "activity_tv": self.activity_tv,
               "activity_kl": self.activity_kl,
               "activity_probs": {"data": self.data.activity_probs, "model": self.model.activity_probs},
               "energy": _fields(self.energy), "exact": _fields(self.exact)}
        if full:
            out.update(data_statistics=_fields(self.data), model_statistics=_fields(self.model))
        return _jsonable(out)


def _fields(obj):
    return None if obj is None else {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


def _jsonable(v):
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_jsonable(x) for x in (v.tolist() if isinstance(v, np.ndarray) else v)]
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, np.integer):
        return int(v)
    return v


def _energies(energy, configs, n, name):
    e = np.asarray(energy(configs), np.float64)
    if e.shape != (n,) or not np.all(np.isfinite(e)):
        raise ValueError(f"energy must return {n} finite energies for the {name}, got shape {e.shape}")
    return e


def energy_comparison(energy, data, model, bins=40):
    """Energy histograms, mean energies and the KS statistic of data and model samples.

    Parameters
    ----------
    energy : callable
        ``energy(configs) -> (n,)`` finite energies, called with each sample set as given.
    data, model : array_like
        The two sample sets (first axis: samples).
    bins : int or str
        ``bins`` of :func:`numpy.histogram_bin_edges` over the pooled energies.

    Returns
    -------
    EnergyComparison
    """
    n_d, n_m = len(data), len(model)
    from scipy.stats import ks_2samp
    ed, em = _energies(energy, data, n_d, "data"), _energies(energy, model, n_m, "model samples")
    edges = np.histogram_bin_edges(np.concatenate([ed, em]), bins=bins)
    hd = np.histogram(ed, edges)[0] / n_d
    hm = np.histogram(em, edges)[0] / n_m
    ks = ks_2samp(ed, em)
    return EnergyComparison(edges, hd, hm, float(ed.mean()), float(ed.std() / math.sqrt(n_d)),
                            float(em.mean()), float(em.std() / math.sqrt(n_m)), float(ks.statistic),
                            float(ks.pvalue))


def _nll(log_p, s, q):
    digits = (s + 1) // 2 if q == 2 else s
    idx = digits.astype(np.int64) @ (q ** np.arange(s.shape[1], dtype=np.int64))
    v = -log_p[idx]
    if np.isposinf(v).any():
        return math.inf, math.nan
    return float(v.mean()), float(v.std() / math.sqrt(len(v)))


def exact_comparison(log_p, data_configs, model_configs, q=2):
    """Entropy of an exact distribution and the per-sample negative log-likelihood of two sample sets under it.

    Parameters
    ----------
    log_p : numpy.ndarray
        Normalised float64 log-probabilities, ``q**N`` entries in the order ``n = sum_i x_i q**i`` of
        :mod:`fastmf.exact.info` (``x_i = (s_i + 1) / 2`` for spins); checking and normalising it is the
        caller's job (:func:`fastmf.exact.info.check_log_probs`, :func:`fastmf.exact.info.normalize`).
    data_configs, model_configs : numpy.ndarray, shape (n, N)
        Configurations as returned by :func:`as_configs`.
    q : int
        States per site (2: spins).

    Returns
    -------
    ExactComparison
    """
    p = np.exp(log_p)
    H = float(-np.sum(p[p > 0] * log_p[p > 0]))
    (d, d_se), (m, m_se) = _nll(log_p, data_configs, q), _nll(log_p, model_configs, q)
    return ExactComparison(H, d, d_se, m, m_se, d - H, m - H)


def compare_samples(data, model_samples, energy=None, *, q=2, triples=1000, seed=0, energy_bins=40):
    """Compare data with samples of a model (fitted, generative or exact) through their statistics.

    Parameters
    ----------
    data, model_samples : array_like, shape (n, N) or (n, L, M)
        +-1 spins (``q == 2``) or integer states ``0..q-1``; the sample counts may differ, N may not.
    energy : callable, optional
        ``energy(configs) -> (n,)`` energies, called with each sample set in the shape it was given; adds an
        :class:`EnergyComparison` (histograms on ``energy_bins`` common bins, KS statistic).
    q : int
        States per site (2: spins).
    triples, seed
        Triples for ``T_ijk`` as in :func:`spin_statistics`; the same triples are used for both sets.
    energy_bins : int or str
        ``bins`` of :func:`numpy.histogram_bin_edges` over the pooled energies.

    Returns
    -------
    ValidationReport
        With ``exact`` None (:func:`fastmf.decode.validate.compare` adds it).
    """
    q = check_q(q)
    data_a, s_d = as_configs(data, q, "data")
    model_a, s_m = as_configs(model_samples, q, "model_samples")
    if s_d.shape[1] != s_m.shape[1]:
        raise ValueError(f"data have N = {s_d.shape[1]} sites, model samples N = {s_m.shape[1]}")
    if energy is not None and not callable(energy):
        raise ValueError("energy must be a callable configs -> energies")
    idx = triple_indices(s_d.shape[1], triples, seed) if q == 2 else None
    sd, sm = _statistics(s_d, q, idx, seed), _statistics(s_m, q, idx, seed)
    off = np.triu(np.ones((s_d.shape[1],) * 2, bool), 1)
    if q > 2:
        site = np.repeat(np.arange(s_d.shape[1]), q)
        off = site[:, None] < site[None, :]
    tv = kl = None
    if q == 2:
        P, Q = sd.activity_probs, sm.activity_probs
        tv = float(0.5 * np.abs(P - Q).sum())
        hole = (Q == 0) & (P > 0)
        Qf = np.where(hole, 0.5 / sm.n_samples, Q) / (1.0 + hole.sum() * 0.5 / sm.n_samples)
        kl = max(0.0, float(np.sum(P[P > 0] * np.log(P[P > 0] / Qf[P > 0]))))
    en = None if energy is None else energy_comparison(energy, data_a, model_a, energy_bins)
    return ValidationReport(
        sd, sm, summarize_agreement(sd.means, sm.means, sd.means_se, sm.means_se),
        summarize_agreement(sd.corr[off], sm.corr[off], sd.corr_se[off], sm.corr_se[off]),
        summarize_agreement(sd.triples, sm.triples, sd.triples_se, sm.triples_se), tv, kl, en)
