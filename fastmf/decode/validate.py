"""Validate a fitted or generative model against data through its low-order statistics.

:func:`compare` is :func:`fastmf.stats.compare.compare_samples` (means, connected two- and three-point
correlations, ``P(K)``, energy histograms; see :mod:`fastmf.stats.compare` for the statistics and their
standard errors) plus, given the model's exact log-probability table, the data's exact log-likelihood and its
entropy gap (:class:`~fastmf.stats.compare.ExactComparison`).

Placement: every statistic lives in :mod:`fastmf.stats` (layer 1); only this thin function lives here (layer 6),
because it checks and normalises the exact table with :func:`fastmf.exact.info.check_log_probs` and
:func:`fastmf.exact.info.normalize` (layer 4), the one definition of the table format; the numerics on the checked
table are :func:`fastmf.stats.compare.exact_comparison`. The records and :func:`spin_statistics` are re-exported
from :mod:`fastmf.stats` so that this documented path keeps working.
"""
import dataclasses

from ..exact.info import check_log_probs, normalize
from ..stats.compare import (MAX_ALL_TRIPLES_N, EnergyComparison, ExactComparison, SpinStatistics,
                             StatComparison, ValidationReport, as_configs, check_q, compare_samples,
                             exact_comparison, spin_statistics)

__all__ = ["MAX_ALL_TRIPLES_N", "EnergyComparison", "ExactComparison", "SpinStatistics", "StatComparison",
           "ValidationReport", "compare", "spin_statistics"]


def compare(data, model_samples, energy=None, exact_log_p=None, *, q=2, triples=1000, seed=0, energy_bins=40):
    """Compare data with samples of a model (fitted, generative or exact) through their statistics.

    Parameters
    ----------
    data, model_samples : array_like, shape (n, N) or (n, L, M)
        +-1 spins (``q == 2``) or integer states ``0..q-1``; the sample counts may differ, N may not.
    energy : callable, optional
        ``energy(configs) -> (n,)`` energies, called with each sample set in the shape it was given; adds an
        :class:`EnergyComparison` (histograms on ``energy_bins`` common bins, KS statistic).
    exact_log_p : array_like, optional
        The model's exact (unnormalised) log-probabilities, ``q**N`` entries in the :mod:`fastmf.exact.info`
        order ``n = sum_i x_i q**i`` (``x_i = (s_i + 1) / 2`` for spins); adds an :class:`ExactComparison`:
        the data's per-sample negative log-likelihood under the model against ``H(model)`` (and the same for
        the model samples, a check of the sampler). The KL between empirical histograms is deliberately not
        reported: with 2**N states it is dominated by unseen states.
    q : int
        States per site (2: spins).
    triples, seed
        Triples for ``T_ijk`` as in :func:`spin_statistics`; the same triples are used for both sets.
    energy_bins : int or str
        ``bins`` of :func:`numpy.histogram_bin_edges` over the pooled energies.

    Returns
    -------
    ValidationReport
    """
    report = compare_samples(data, model_samples, energy, q=q, triples=triples, seed=seed,
                             energy_bins=energy_bins)
    if exact_log_p is None:
        return report
    q = check_q(q)
    s_d, s_m = as_configs(data, q, "data")[1], as_configs(model_samples, q, "model_samples")[1]
    lp, N = check_log_probs(exact_log_p, q=q, name="exact_log_p")
    if N != s_d.shape[1]:
        raise ValueError(f"exact_log_p describes N = {N} sites (q = {q}), data have N = {s_d.shape[1]}")
    return dataclasses.replace(report, exact=exact_comparison(normalize(lp), s_d, s_m, q))
