"""The high-level sampler and simulate() on backend="cuda" (Numba-CUDA under the simulator) give exactly the
CPU results: the randomness contract holds end to end."""
import os

import numpy as np
import pytest

if os.environ.get("NUMBA_ENABLE_CUDASIM") != "1":  # pragma: no cover - guarded by tests/conftest.py too
    pytest.skip("needs NUMBA_ENABLE_CUDASIM=1", allow_module_level=True)

from fastmf.backends import resolve_backend  # noqa: E402
from fastmf.models.lattice import LatticeModel
from fastmf.sampling.lattice import LatticeSampler  # noqa: E402
from fastmf.sampling.simulate import simulate_lattice  # noqa: E402

MODELS = [LatticeModel(L=4, J=1.0, h=0.2), LatticeModel(L=4, M=6, J=-1.0), LatticeModel(L=4, q=3, h=0.1),
          LatticeModel.spin_glass(4, kind="pm", seed=2)]


def test_auto_stays_on_cpu_under_the_simulator():
    assert resolve_backend("auto") == "cpu"
    assert resolve_backend("cuda") == "cuda"


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name + str(m.shape))
@pytest.mark.parametrize("method", ["metropolis", "heatbath"])
def test_sampler_cuda_equals_cpu(model, method):
    states = []
    for backend in ("cpu", "cuda"):
        sampler = LatticeSampler(model, 1.7, method=method, backend=backend)
        state = sampler.init_state(2, seed=11)
        sampler.run(state, 3)
        states.append(state)
    np.testing.assert_array_equal(states[0].spins, states[1].spins)
    assert states[0].n_accepted == states[1].n_accepted and states[0].step == states[1].step == 3


def test_simulate_cuda_equals_cpu():
    model = LatticeModel(L=4)
    out = [simulate_lattice(model, 3.0, 8, seed=5, backend=b, n_replicas=2, burn_in=5, thin=2, progress=False,
                            pilot_steps=8, max_pilot_steps=8)
           for b in ("cpu", "cuda")]
    np.testing.assert_array_equal(out[0].spins, out[1].spins)
    assert out[1].metadata["backend"] == "cuda"


def test_meanfield_chains_cuda_equal_cpu():
    from fastmf.models.meanfield import Hopfield, MeanFieldPotts
    from fastmf.sampling.meanfield import MeanFieldSampler

    for model in (Hopfield.random(12, 2, seed=1, h=0.1), MeanFieldPotts(10, 3)):
        states = []
        for backend in ("cpu", "cuda"):
            sampler = MeanFieldSampler(model, 0.7, method="heatbath", backend=backend)
            state = sampler.init_state(2, seed=4)
            sampler.run(state, 2)
            states.append(state)
        np.testing.assert_array_equal(states[0].spins, states[1].spins)
        assert states[0].n_accepted == states[1].n_accepted
