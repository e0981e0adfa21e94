"""Helpers of the Ising experiments (the quick end-to-end runs are in ``test_experiments.py``)."""

import numpy as np
import pytest

from fastmf.experiments import ising_phases


def test_ising_phases_helpers():
    stag = ising_phases.staggered_pattern(4)
    assert stag.sum() == 0 and stag[0, 0] == 1 and stag[0, 1] == -1 and stag[1, 0] == -1
    phase = np.array([0, 0, 1, 1, 2])
    lab = ising_phases._sector_labels(phase, np.array([0.9, -0.9, 0.0, 0.0, 0.0]),
                                      np.array([0.0, 0.0, 0.8, -0.8, 0.1]))
    assert lab.tolist() == [0, 1, 2, 3, 4]
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((500, 2))
    y = 2 * Z[:, 0] - Z[:, 1]
    assert ising_phases._multiple_r(Z, y) == pytest.approx(1.0)
