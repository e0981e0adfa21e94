"""The Ising experiments (``ising_phases``: beta-VAE on FM / AFM / PM data; ``ising_critical``: the negative
control across T_c) run end to end with quick settings: their checks pass and every figure is a valid PNG."""
import json
import time

import numpy as np
import pytest

from fastmf.experiments import ising_critical, ising_phases

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def check_png(path):
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > 2000, path
    import matplotlib.image
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] > 50 and image.shape[1] > 50, path
    assert np.ptp(image[..., :3]) > 0.2, path  # not blank


@pytest.mark.parametrize("module", [ising_phases, ising_critical], ids=["ising_phases", "ising_critical"])
def test_quick_ising_experiment(module, tmp_path):
    t0 = time.perf_counter()
    report = module.run(tmp_path, quick=True, seed=0, printer=lambda *a: None)
    seconds = time.perf_counter() - t0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["passed"], {k: c for k, c in summary["checks"].items() if not c["passed"]}
    assert summary["checks"] and all(c["passed"] for c in summary["checks"].values())
    text = (tmp_path / "report.md").read_text()
    assert "expected" in text and "found" in text
    assert report.figures and summary["figures"] == report.figures
    for fig in report.figures:
        assert f"]({fig})" in text
        check_png(tmp_path / fig)
    assert seconds < 120, f"quick run took {seconds:.0f} s"


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
