"""asv benchmarks of 2D Ising checkerboard Metropolis sweeps: fastmf kernels against the baselines (the competent
Numba kernel of ``competent.py``, the naive Numba kernel and NumPy; see ``baselines.py``).

Every implementation runs at T = 2.269 (beta = 0.4407), J = 1, h = 0 from a hot start, on an L x L lattice
(the multi-spin path: one word plane of 64 replicas). Kernels are compiled in ``setup``.
"""
import numba
import numpy as np

from .baselines import BETA_C, IMPLEMENTATIONS, LatticeRunner, flips_per_ns

SIZES = (256, 1024, 4096)
THREADS = (1, 2)
# A NumPy sweep of 4096 x 4096 takes seconds: cap the sweeps of track_flips_per_ns there.
MAX_SWEEPS = {("numpy", 4096): 2}


def _runner(L, threads, impl):
    """Compiled, warmed-up runner, or NotImplementedError (asv: skipped) for impossible combinations."""
    if threads > numba.config.NUMBA_NUM_THREADS:
        raise NotImplementedError(f"only {numba.config.NUMBA_NUM_THREADS} Numba threads available")
    if impl == "numpy" and threads != 1:
        raise NotImplementedError("the NumPy baseline is single-threaded")
    numba.set_num_threads(threads)
    return LatticeRunner(impl, L, warmup=1 if (impl, L) in MAX_SWEEPS else 3)


class LatticeSweep:
    """Sweep speed per lattice size, Numba thread count and implementation."""

    params = (SIZES, THREADS, IMPLEMENTATIONS)
    param_names = ("L", "threads", "impl")
    timeout = 600

    def setup(self, L, threads, impl):
        self.runner = _runner(L, threads, impl)

    def time_sweep(self, L, threads, impl):
        """One full sweep (both colours)."""
        self.runner.run(1)

    def track_flips_per_ns(self, L, threads, impl):
        """Spin updates per nanosecond: best of 3 runs of at least 0.2 s each."""
        return flips_per_ns(self.runner, min_time=0.2, repeats=3, max_sweeps=MAX_SWEEPS.get((impl, L)))[0]

    track_flips_per_ns.unit = "flips/ns"


class SweepMemory:
    """Peak memory of one fastmf scalar sweep of a 4096 x 4096 lattice allocated in setup (16 MiB of int8
    spins). ``peakmem_setup_only_4096`` is the same process without the sweep: the difference is what a
    sweep allocates: per call only the 10-entry threshold table and one row of draws per parallel chunk
    (about 16 KiB at L = 4096), nothing per sweep."""

    timeout = 300

    def setup(self):
        from fastmf.kernels.lattice_cpu import checkerboard_sweep
        self.sweep = checkerboard_sweep
        checkerboard_sweep(np.ones((8, 8), np.int8), BETA_C, seed=1)  # compile
        rng = np.random.default_rng(12345)
        self.spins = (2 * rng.integers(0, 2, size=(4096, 4096), dtype=np.int8) - 1).astype(np.int8)

    def peakmem_sweep_4096(self):
        self.sweep(self.spins, BETA_C, seed=1, check_values=False)

    def peakmem_setup_only_4096(self):
        pass
