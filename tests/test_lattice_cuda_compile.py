"""Type and lower the Numba-CUDA lattice kernels for a real GPU, without a GPU.

The CUDA simulator runs kernels as Python, so it cannot catch what only the CUDA compiler rejects (an
unsupported NumPy function, a bad atomic type). Here each kernel goes through Numba-CUDA's typing and
lowering to LLVM IR for compute capability 7.5 (no driver, NVVM or NVRTC needed). This uses Numba-CUDA
internals (``compile_cuda`` and the device query in ``numba.cuda.dispatcher``), so it runs in a subprocess
and skips when those internals are missing.
"""
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import sys
    from types import SimpleNamespace
    try:
        from numba import types
        import numba.cuda.dispatcher as disp
        from numba.cuda.compiler import compile_cuda
        disp.get_current_device  # noqa: B018 - the internal this check relies on
    except (ImportError, AttributeError) as exc:
        print("SKIP", exc)
        sys.exit(0)
    # Device functions are compiled for the "current device": pretend there is one.
    disp.get_current_device = lambda: SimpleNamespace(compute_capability=(7, 5))
    from fastmf.kernels import lattice_cuda as lc
    assert isinstance(lc.is_available(), bool)

    i8, u8, i32, i64, f8, b1 = types.int8, types.uint8, types.int32, types.int64, types.float64, types.boolean
    C = lambda t, n: types.Array(t, n, "C")
    sigs = {
        "_ising_kernel": (C(i8, 3), C(types.uint64, 1), i64, i64, i64, i64, i64, C(i64, 1)),
        "_potts_kernel": (C(u8, 3), i64, C(types.uint64, 1), C(f8, 1), b1, i64, i64, i64, i64, i64, C(i64, 1)),
        "_quenched_kernel": (C(i8, 3), C(f8, 2), C(f8, 2), f8, f8, b1, i64, i64, i64, i64, i64, C(i64, 1)),
        "_out_of_range_kernel": (C(i8, 1), i64, i64, b1, C(i32, 1)),
    }
    name = sys.argv[1]
    cres = compile_cuda(getattr(lc, name).py_func, types.void, sigs[name], cc=(7, 5))
    print("OK", name, len(cres.library.get_llvm_str()))
""")


def _lower(name):
    pytest.importorskip("numba.cuda")
    proc = subprocess.run([sys.executable, "-c", SCRIPT, name], capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    if proc.stdout.startswith("SKIP"):
        pytest.skip(f"Numba-CUDA internals changed: {proc.stdout.strip()}")
    return proc.returncode, out


@pytest.mark.parametrize("name", ["_ising_kernel", "_potts_kernel", "_out_of_range_kernel"])
def test_kernel_lowers_for_gpu(name):
    rc, out = _lower(name)
    assert rc == 0 and f"OK {name}" in out, out


def test_quenched_kernel_lowers_for_gpu():
    rc, out = _lower("_quenched_kernel")
    assert rc == 0 and "OK _quenched_kernel" in out, out
