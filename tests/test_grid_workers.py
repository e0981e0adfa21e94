"""Same code on every worker (:mod:`fastmf.grid_workers`): the source hash follows every source file of fastmf
and fastmf.kernels wherever they are installed; the comparison names what differs; and on real Dask worker
processes, started with a copy of the package first on their PYTHONPATH, the check refuses the worker whose
copy was modified (and the one whose fastmf cannot compute a fingerprint) by address, while an unmodified copy
and a plain LocalCluster pass."""
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

import fastmf  # noqa: E402
from fastmf.grid_workers import (NoWorkersError, WorkerMismatchError, check_workers,  # noqa: E402
                                 code_fingerprint, compare_fingerprints, mismatch_message,
                                 source_hash)

PACKAGE = Path(fastmf.__file__).resolve().parent
KERNELS = Path(importlib.util.find_spec("fastmf.kernels").origin).resolve().parent
_IGNORE = shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc")


def copy_package(root):
    """The installed fastmf as a wheel lays it out: ``root/fastmf``, the kernels in ``fastmf/kernels``."""
    shutil.copytree(PACKAGE, root / "fastmf", ignore=_IGNORE)
    shutil.copytree(KERNELS, root / "fastmf" / "kernels", ignore=_IGNORE)
    return root / "fastmf"


def append(path, text="\n# changed on this worker only\n"):
    with open(path, "a") as f:
        f.write(text)


# ------------------------------------------------------------------------------------------------ no Dask
def test_compare_fingerprints_names_each_difference():
    client = code_fingerprint()
    assert compare_fingerprints(client, dict(client)) == []
    assert compare_fingerprints(client, {**client, "numpy": "2.1.0"}) == [
        f"numpy 2.1.0 != client's {client['numpy']}"]
    other = "0123456789ab" + "f" * 52
    assert compare_fingerprints(client, {**client, "source_sha256": other, "numba": "0.59.0"}) == [
        f"fastmf source hash 0123456789ab != client's {client['source_sha256'][:12]}",
        f"numba 0.59.0 != client's {client['numba']}"]
    major, minor, _ = client["python"].split(".")
    assert compare_fingerprints(client, {**client, "python": f"{major}.{minor}.999"}) == []
    assert compare_fingerprints(client, {**client, "python": f"{major}.{int(minor) + 1}.0"}) == [
        f"python {major}.{int(minor) + 1}.0 != client's {client['python']}"]
    worker = dict(client)
    del worker["fastmf"]
    assert compare_fingerprints(client, worker) == [f"fastmf missing (client's {fastmf.__version__})"]


def test_mismatch_message_groups_workers_by_what_differs():
    client = code_fingerprint()
    numpy = [f"numpy 2.1.0 != client's {client['numpy']}"]
    mismatches = {f"tcp://10.0.0.{i}:8000": numpy for i in range(7)}
    mismatches["tcp://10.0.1.0:8000"] = ["numba 0.59.0 != client's 0.61.0",
                                         "python 3.12.1 != client's 3.11.7"]
    lines = mismatch_message(client, mismatches, 9).splitlines()
    assert lines[0].startswith("8 of 9 Dask workers do not run the client's code (fastmf ")
    assert lines[1:] == [
        "workers tcp://10.0.0.0:8000, tcp://10.0.0.1:8000, tcp://10.0.0.2:8000, tcp://10.0.0.3:8000, "
        f"tcp://10.0.0.4:8000 and 2 more: {numpy[0]}",
        "worker tcp://10.0.1.0:8000: numba 0.59.0 != client's 0.61.0, python 3.12.1 != client's 3.11.7",
        "install the client's fastmf (the same commit), numpy and numba on every worker"]


def test_code_fingerprint_describes_this_process():
    import numba
    fp = code_fingerprint()
    assert fp == dict(fastmf=fastmf.__version__, source_sha256=source_hash(PACKAGE, KERNELS),
                      numpy=np.__version__, numba=numba.__version__,
                      python=".".join(map(str, sys.version_info[:3])))
    assert len(fp["source_sha256"]) == 64
    fp["numpy"] = "0"                     # the cached fingerprint is not the caller's to change
    assert code_fingerprint()["numpy"] == np.__version__


def test_source_hash_follows_every_source_file_wherever_installed(tmp_path):
    installed = source_hash(PACKAGE, KERNELS)
    pkg = copy_package(tmp_path)
    # the kernels inside the package directory (a wheel) or beside it (this editable install): the same hash
    assert source_hash(pkg, pkg / "kernels") == installed
    (pkg / "__pycache__").mkdir(exist_ok=True)
    (pkg / "__pycache__" / "stale.py").write_text("x = 1\n")
    (pkg / "notes.txt").write_text("not source\n")
    assert source_hash(pkg, pkg / "kernels") == installed
    hashes = {installed}
    for path in (pkg / "grid.py", pkg / "kernels" / "philox.py", pkg / "kernels" / "cuda" / "lattice.cu"):
        original = path.read_bytes()
        append(path)
        hashes.add(source_hash(pkg, pkg / "kernels"))
        path.write_bytes(original)
    (pkg / "io" / "new_module.py").write_text("")     # a new, empty file counts too
    hashes.add(source_hash(pkg, pkg / "kernels"))
    assert len(hashes) == 5


# ------------------------------------------------------------------------------------------ real workers
def _start_worker(address, name, pythonpath, log):
    """A ``dask worker`` process (no nanny) whose ``import fastmf`` finds the copy under ``pythonpath`` and
    nothing else: ``-S`` skips the ``.pth`` files, among them the editable install's import hook (which would
    find a module missing from the copy in this checkout), and the site directories of this Python come after
    the copy on its PYTHONPATH. Run from the copy, since ``python -m`` puts the working directory first."""
    site_dirs = [p for p in sys.path if p.endswith("-packages")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(pythonpath), *site_dirs]),
           "NUMBA_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-S", "-m", "distributed.cli.dask_worker", address,
                             "--name", name, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                             "--host", "127.0.0.1", "--death-timeout", "30"],
                            cwd=pythonpath, env=env, stdout=log, stderr=subprocess.STDOUT)


@pytest.fixture(scope="module")
def copied_workers(tmp_path_factory):
    """A scheduler in this process and three worker processes, each importing its own copy of fastmf: the same
    source ("same"), one kernel file with a comment appended ("modified"), and one without this module
    ("stripped"). Yields the client, ``{name: worker address}`` and ``{name: copy's package dir}``."""
    from distributed import Client, LocalCluster
    root = tmp_path_factory.mktemp("workers")
    copies = {name: copy_package(root / name) for name in ("same", "modified", "stripped")}
    append(copies["modified"] / "kernels" / "philox.py")
    (copies["stripped"] / "grid_workers.py").unlink()
    procs = []
    with LocalCluster(n_workers=0, processes=True, host="127.0.0.1", dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        try:
            for name, pkg in copies.items():
                log = open(root / f"{name}.log", "w")
                procs.append((_start_worker(cluster.scheduler_address, name, pkg.parent, log), log))
            client.wait_for_workers(len(copies), timeout=60)
            addresses = {w["name"]: a for a, w in client.scheduler_info(n_workers=-1)["workers"].items()}
            yield client, addresses, copies
        finally:
            for proc, log in procs:
                proc.terminate()
            for proc, log in procs:
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=15)
                log.close()


def test_check_workers_refuses_a_worker_running_a_modified_copy(copied_workers):
    client, addresses, copies = copied_workers
    # each worker imports its own copy (not this checkout)
    files = client.run(eval, "__import__('fastmf').__file__")
    assert ({files[addresses[name]] for name in copies}
            == {str(pkg / "__init__.py") for pkg in copies.values()})

    with pytest.raises(WorkerMismatchError) as info:
        check_workers(client, timeout=10)
    exc = info.value
    assert isinstance(exc, RuntimeError)
    mine = code_fingerprint()["source_sha256"][:12]
    theirs = source_hash(copies["modified"], copies["modified"] / "kernels")[:12]
    assert theirs != mine
    assert set(exc.mismatches) == {addresses["modified"], addresses["stripped"]}   # the same copy passes
    assert exc.mismatches[addresses["modified"]] == [f"fastmf source hash {theirs} != client's {mine}"]
    [stripped] = exc.mismatches[addresses["stripped"]]
    assert "could not compute its fingerprint" in stripped and "fastmf.grid_workers" in stripped
    lines = str(exc).splitlines()
    assert lines[0] == ("2 of 3 Dask workers do not run the client's code (fastmf {fastmf}, source hash {h}, "
                        "numpy {numpy}, numba {numba}, python {python})").format(h=mine, **code_fingerprint())
    assert f"worker {addresses['modified']}: fastmf source hash {theirs} != client's {mine}" in lines
    assert addresses["same"] not in str(exc)


def test_check_workers_passes_on_a_local_cluster():
    from distributed import Client, LocalCluster
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=":0") as cluster, Client(cluster) as client:
        assert check_workers(client) == code_fingerprint()


def test_check_workers_refuses_a_cluster_without_workers():
    from distributed import Client, LocalCluster
    with LocalCluster(n_workers=0, processes=True, host="127.0.0.1", dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        t0 = time.perf_counter()
        with pytest.raises(NoWorkersError, match=r"has no workers \(none joined within 0.2 s\)"):
            check_workers(client, timeout=0.2)
        assert time.perf_counter() - t0 < 5
        with pytest.raises(NoWorkersError):
            check_workers(client, timeout=0)
        with pytest.raises(ValueError, match="timeout must be a number of seconds >= 0, got -1"):
            check_workers(client, timeout=-1)
    assert issubclass(NoWorkersError, RuntimeError) and issubclass(WorkerMismatchError, RuntimeError)
