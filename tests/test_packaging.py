"""Packaging: the wheel holds every module, the CUDA sources and the console script; fastmf.kernels stands
alone; ``import fastmf`` is light and its lazy entry points (``fastmf.__all__``) all resolve.

The wheel is built from a copy of the working tree (tracked and untracked-but-not-ignored files, as
``git ls-files`` lists them) in ``tmp_path``, so the repository is not touched.
"""
import importlib.util
import os
import pathlib
import shutil
import subprocess
import sys
import sysconfig
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _source_files():
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             cwd=ROOT, capture_output=True, check=True, timeout=60).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"git ls-files is not usable here: {exc}")
    return [p for p in out.decode().split("\0") if p and (ROOT / p).is_file()]


def _source_packages():
    """Python files of the fastmf packages in the source tree, as their paths inside the wheel."""
    names = set()
    for p in _source_files():
        path = pathlib.PurePosixPath(p)
        if path.suffix != ".py" or "tests" in path.parts or "benchmarks" in path.parts:
            continue
        if path.parts[0] == "fastmf":
            names.add(str(path))
        elif path.parts[0] == "kernels":
            names.add(str(pathlib.PurePosixPath("fastmf", *path.parts)))
    return names


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    if importlib.util.find_spec("build") is None:
        pytest.skip("the 'build' package is not installed (pip install build)")
    try:
        from importlib.metadata import version
        setuptools_version = version("setuptools")
    except Exception:
        pytest.skip("setuptools is not installed")
    if int(setuptools_version.split(".")[0]) < 64:
        pytest.skip(f"setuptools>=64 is needed to build the wheel, found {setuptools_version}")
    if int(setuptools_version.split(".")[0]) < 70 and importlib.util.find_spec("wheel") is None:
        pytest.skip(f"setuptools {setuptools_version} needs the 'wheel' package to build a wheel without "
                    "isolation (pip install wheel)")

    src = tmp_path_factory.mktemp("src")
    for p in _source_files():
        (src / p).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / p, src / p)
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out)],
                          cwd=src, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    wheels = list(out.glob("fastmf-*.whl"))
    assert len(wheels) == 1, os.listdir(out)
    return wheels[0]


def test_wheel_contains_packages_cuda_sources_and_entry_point(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        entry_points = next((zf.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt")),
                            "")
    for required in ("fastmf/__init__.py", "fastmf/_version.py", "fastmf/kernels/__init__.py",
                     "fastmf/kernels/philox.py", "fastmf/cli.py"):
        assert required in names
    cuda = [p for p in _source_files() if p.startswith("kernels/cuda/") and p.endswith((".cu", ".cuh", ".h"))]
    assert any(p.endswith(".cu") for p in cuda), "no CUDA sources found in the source tree"
    missing = sorted(f"fastmf/{p}" for p in cuda if f"fastmf/{p}" not in names)
    assert not missing, f"CUDA sources missing from the wheel: {missing}"
    assert "[console_scripts]" in entry_points
    assert "fastmf = fastmf.cli:main" in [line.strip() for line in entry_points.splitlines()]
    assert not any(n.startswith(("tests/", "benchmarks/", "kernels/")) for n in names)


def test_wheel_contains_every_module_of_the_source_tree(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    expected = _source_packages()
    assert "fastmf/kernels/lattice_cpu.py" in expected
    missing = sorted(expected - names)
    assert not missing, f"modules missing from the wheel ([tool.setuptools] packages?): {missing}"


def test_wheel_works_without_the_source_tree(wheel, tmp_path):
    """Unpacked alone (no editable install, no repository on the path), the wheel's modules import and the
    CUDA sources are readable as package data."""
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(tmp_path / "site")
    env = dict(os.environ)
    # -S skips site-packages' .pth files (the editable install); the dependencies come from PYTHONPATH.
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path / "site"), sysconfig.get_paths()["purelib"],
                                         sysconfig.get_paths()["platlib"]])
    code = (
        "import fastmf, fastmf.cli, fastmf.sampling.simulate, fastmf.verify, fastmf.grid, fastmf.kernels\n"
        "from importlib import resources\n"
        "assert fastmf.__file__.startswith(%r), fastmf.__file__\n"
        "cuda = resources.files('fastmf.kernels').joinpath('cuda')\n"
        "names = sorted(p.name for p in cuda.iterdir())\n"
        "assert any(n.endswith('.cu') for n in names), names\n"
        "for n in names: assert cuda.joinpath(n).read_text(encoding='utf-8').strip(), n\n"
        "print('ok', names)\n" % str(tmp_path / "site"))
    proc = subprocess.run([sys.executable, "-S", "-c", code], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.startswith("ok")


def test_importing_fastmf_kernels_imports_no_other_fastmf_module(tmp_path):
    code = ("import fastmf.kernels, sys; "
            "print(' '.join(sorted(m for m in sys.modules if m.startswith('fastmf'))))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    modules = proc.stdout.split()
    assert "fastmf.kernels" in modules and "fastmf.kernels.philox" in modules
    allowed = ("fastmf", "fastmf._version", "fastmf.kernels")
    others = [m for m in modules if m not in allowed and not m.startswith("fastmf.kernels.")]
    assert not others, f"importing fastmf.kernels imported {others}"


def test_kernels_source_imports_nothing_from_the_rest_of_fastmf():
    """No module of kernels/ imports fastmf (absolute) or climbs out of the package (``from ..``)."""
    offenders = []
    for path in sorted((ROOT / "kernels").glob("*.py")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            stripped = line.strip()
            absolute = stripped.startswith(("import fastmf", "from fastmf")) and not \
                stripped.startswith(("import fastmf.kernels", "from fastmf.kernels"))
            if absolute or stripped.startswith("from .."):
                offenders.append(f"{path.name}:{n}: {stripped}")
    assert not offenders, offenders


# ------------------------------------------------------------------------------------------------ the facade
def test_every_public_name_of_fastmf_resolves():
    import fastmf

    assert len(set(fastmf.__all__)) == len(fastmf.__all__)
    missing = [name for name in fastmf.__all__ if getattr(fastmf, name, None) is None]
    assert not missing, f"fastmf.__all__ names that do not resolve: {missing}"
    assert set(fastmf.__all__) <= set(dir(fastmf))
    for name in ("LatticeModel", "simulate_lattice", "VAE", "enumerate_model", "GeneralizedHopfield", "compare"):
        assert name in fastmf.__all__
    from fastmf import exact, models
    assert fastmf.LatticeModel is models.LatticeModel and fastmf.enumerate_model is exact.enumerate_model
    assert fastmf.exact is exact
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        fastmf.no_such_name  # noqa: B018


def test_importing_fastmf_is_light(tmp_path):
    """``import fastmf`` loads neither Numba, SciPy nor the kernels (the entry points load on first use)."""
    code = ("import sys, fastmf\n"
            "heavy = [m for m in ('numba', 'scipy', 'autograd', 'fastmf.kernels') if m in sys.modules]\n"
            "print(' '.join(heavy) or 'light', ' '.join(sorted(m for m in sys.modules if m.startswith('fastmf'))))\n"
            "fastmf.LatticeModel\n"
            "print('fastmf.models' in sys.modules)\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    first, second = proc.stdout.splitlines()
    heavy, modules = first.split(" ", 1)
    assert heavy == "light", f"import fastmf imported {heavy}"
    assert modules.split() == ["fastmf", "fastmf._version"]
    assert second == "True"     # the entry point's module loads on first access
