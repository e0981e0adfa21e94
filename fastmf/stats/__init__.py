"""Statistics (layer 1): autocorrelation times, error bars, goodness of fit, and data-vs-model comparisons.

See :doc:`/architecture` for the layer rules. :mod:`.mcmc` holds the Monte Carlo error analysis; the one
statistics stack for comparing data with a model is :mod:`.moments` (triples, triple products, ``P(K)``
counts, shared by the two below), :mod:`.compare` (spin or q-state configurations: :func:`spin_statistics`,
:func:`compare_samples`, the comparison records and :func:`summarize_agreement`) and :mod:`.population` (spike
rasters read in batches, batch-means errors: :func:`population_statistics`, :func:`compare_statistics`), with
:mod:`.exact_population` for the exact statistics of a model known as a mixture or a table. The
comparison with an exact log-probability table is added by :func:`fastmf.decode.validate.compare`, above
:mod:`fastmf.exact`, which checks the table.
"""
from .compare import (EnergyComparison, ExactComparison, SpinStatistics, StatComparison, ValidationReport,
                      as_configs, check_q, compare_samples, energy_comparison, exact_comparison, spin_statistics,
                      summarize_agreement)
from .mcmc import (MIN_LENGTH, RELIABLE_LENGTH, autocorrelation, batch_means, blocking_error, chi_square_from_samples,
                   chi_square_test, integrated_autocorr_time, mean_and_error, samples_vs_exact_z)
from .moments import MAX_ALL_TRIPLES_N, activity_counts, triple_indices, triple_products
from .population import PopulationStatistics, compare_statistics, population_statistics
from .exact_population import mixture_statistics, poisson_binomial_mixture, table_statistics

__all__ = ["MAX_ALL_TRIPLES_N", "MIN_LENGTH", "RELIABLE_LENGTH", "EnergyComparison", "ExactComparison",
           "PopulationStatistics", "SpinStatistics", "StatComparison", "ValidationReport", "activity_counts",
           "as_configs", "autocorrelation", "batch_means", "blocking_error", "check_q", "chi_square_from_samples",
           "chi_square_test", "compare_samples", "compare_statistics", "energy_comparison", "exact_comparison",
           "integrated_autocorr_time", "mean_and_error", "mixture_statistics", "poisson_binomial_mixture",
           "population_statistics", "samples_vs_exact_z",
           "spin_statistics", "summarize_agreement", "table_statistics", "triple_indices", "triple_products"]
