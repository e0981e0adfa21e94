"""The documentation builds with no warnings: ``python -m sphinx -W -b html docs <tmp>``.

Sphinx and numpydoc are in the ``test`` extra, so this runs in CI rather than skipping. The HTML output and the
doctrees go under ``tmp_path``; the only thing written in the checkout is the API stubs in
``docs/api/generated/`` (regenerated at every build, ignored by git).
"""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_sphinx_build_has_no_warnings(tmp_path):
    cmd = [sys.executable, "-m", "sphinx", "-W", "-b", "html", "docs", str(tmp_path / "html"),
           "-d", str(tmp_path / "doctrees")]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, f"sphinx failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}"
    assert (tmp_path / "html" / "index.html").is_file()
    assert (tmp_path / "html" / "api" / "generated" / "fastmf.kernels.html").is_file()
