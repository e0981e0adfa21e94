"""Driven spin glass: work accounting against a naive energy, reproducibility, the switching schedule."""
import numpy as np
import pytest

from fastmf.driven_glass import DrivenGlass, random_drive
from fastmf.meanfield import GraphSpinGlass


def naive_energy(J, h, s):
    """``-sum_{i<j} J_ij s_i s_j - sum_i h_i s_i`` from the dense coupling matrix."""
    s = np.asarray(s, np.float64)
    return -0.5 * np.einsum("ci,ij,cj->c", s, J, s) - s @ h


def dense(glass):
    J = np.zeros((glass.N, glass.N))
    for i in range(glass.N):
        J[i, glass.indices[glass.indptr[i]:glass.indptr[i + 1]]] = glass.weights[glass.indptr[i]:glass.indptr[i + 1]]
    return J


@pytest.fixture(params=["sk", "sparse"])
def driven(request):
    glass = GraphSpinGlass.sk(24, seed=1) if request.param == "sk" else GraphSpinGlass.ea(24, degree=3, seed=1)
    return DrivenGlass(glass, T=0.7, drive=random_drive(4, 24, h0=0.8, seed=2), tau=5)


def test_work_accounting(driven):
    """The work recorded at each switch is the naive energy change of the configuration from the old field to the
    new one; the total energy change equals the work plus the heat, period by period and overall."""
    J = dense(driven.glass)
    state = driven.init_state(8, seed=3)
    e_start = naive_energy(J, driven.drive[state.field_index], state.spins)
    prev_field, prev_spins = state.field_index, state.spins.copy()
    rec = driven.run(state, 1)
    assert np.all(rec.work[0] == 0.0)   # a fresh state opens without a switch
    for _ in range(6):
        prev_field, prev_spins, e_before = state.field_index, state.spins.copy(), rec.energy[-1]
        rec = driven.run(state, 1)
        new = rec.field_index[0]
        assert new != prev_field
        expected = naive_energy(J, driven.drive[new], prev_spins) - naive_energy(J, driven.drive[prev_field],
                                                                                 prev_spins)
        assert np.allclose(rec.work[0], expected, atol=1e-9)
        assert np.allclose(rec.energy[0], e_before + rec.work[0] + rec.heat[0], atol=1e-9)
        assert np.allclose(rec.energy[0], naive_energy(J, driven.drive[new], state.spins), atol=1e-9)
    state2 = driven.init_state(8, seed=3)
    rec = driven.run(state2, 40)
    e_end = naive_energy(J, driven.drive[state2.field_index], state2.spins)
    assert np.allclose(e_end - e_start, rec.work.sum(axis=0) + rec.heat.sum(axis=0), atol=1e-8)
    assert np.any(rec.work != 0.0) and np.any(rec.heat < 0.0)


def test_reproducible_and_resumable(driven):
    a = driven.init_state(4, seed=5)
    ra = driven.run(a, 12, record_configs=True)
    b = driven.init_state(4, seed=5)
    rb1 = driven.run(b, 5, record_configs=True)
    rb2 = driven.run(b, 7, record_configs=True)                 # resumes with a switch
    assert np.array_equal(ra.field_index, np.concatenate([rb1.field_index, rb2.field_index]))
    assert np.array_equal(ra.configs, np.concatenate([rb1.configs, rb2.configs]))
    assert np.array_equal(ra.work, np.concatenate([rb1.work, rb2.work]))
    c = driven.init_state(4, seed=6)
    rc = driven.run(c, 12, record_configs=True)
    assert not np.array_equal(ra.configs, rc.configs)


def test_schedule_uses_every_field_and_never_repeats(driven):
    state = driven.init_state(1, seed=7)
    rec = driven.run(state, 400)
    idx = rec.field_index
    assert np.all(idx[1:] != idx[:-1])
    counts = np.bincount(idx, minlength=driven.K)
    # uniform among the other K - 1: each field ~ 400 / K = 100 times; 5 SD of a binomial is ~ 43
    assert np.all(np.abs(counts - 100) < 45), counts


def test_bad_input():
    glass = GraphSpinGlass.sk(10, seed=0)
    with pytest.raises(ValueError, match="drive must be"):
        DrivenGlass(glass, 1.0, np.ones((2, 9)), 5)
    with pytest.raises(ValueError, match="drive must be"):
        DrivenGlass(glass, 1.0, np.full((2, 10), np.nan), 5)
    with pytest.raises(ValueError, match="tau"):
        DrivenGlass(glass, 1.0, np.ones((2, 10)), 0)
    with pytest.raises(ValueError, match="temperature"):
        DrivenGlass(glass, -1.0, np.ones((2, 10)), 5)
    with pytest.raises(TypeError, match="GraphSpinGlass"):
        DrivenGlass("sk", 1.0, np.ones((2, 10)), 5)
    with pytest.raises(ValueError, match="field_index"):
        DrivenGlass(glass, 1.0, np.ones((2, 10)), 5).init_state(2, seed=0, field_index=2)
    with pytest.raises(ValueError, match="h0"):
        random_drive(2, 10, h0=0.0)
