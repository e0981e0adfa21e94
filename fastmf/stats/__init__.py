"""Statistics (layer 1): autocorrelation times, error bars, goodness of fit, and data-vs-model comparisons.

See :doc:`/architecture` for the layer rules. :mod:`.mcmc` holds the Monte Carlo error analysis.
"""
from .mcmc import (MIN_LENGTH, RELIABLE_LENGTH, autocorrelation, blocking_error, chi_square_from_samples,
                   chi_square_test, integrated_autocorr_time, mean_and_error, samples_vs_exact_z)

__all__ = ["MIN_LENGTH", "RELIABLE_LENGTH", "autocorrelation", "blocking_error", "chi_square_from_samples",
           "chi_square_test", "integrated_autocorr_time", "mean_and_error", "samples_vs_exact_z"]
