"""asv benchmarks of refusals and of one exact profile that must stay fast (moved here from the tests, which do
not time anything): a billion-point parameter grid refused before a single task exists, a sample set above the
memory limit refused before allocating, the exact Curie-Weiss cut-MI profile at N = 2000 and the 4 x 4 lattice
enumerations.
"""
import os
import pathlib
import tempfile

#: 1000 x 1000 x 1000 points (the limit is 100 000 tasks)
HUGE = 'task = "simulate"\n[grid]\nT = [{T}]\nN = [{N}]\nseed = [{seed}]\n'.format(
    T=", ".join(str(0.5 + i / 1000) for i in range(1000)), N=", ".join(str(i) for i in range(2, 1002)),
    seed=", ".join(str(i) for i in range(1000)))


class _Refused:
    """A client that is never asked for anything: the grid is refused first."""

    def submit(self, *args, **kwargs):
        raise RuntimeError("a task was submitted")

    def nthreads(self):
        return {}


class Refusals:
    timeout = 60

    def setup(self):
        self.dir = tempfile.TemporaryDirectory()
        self.cfg = pathlib.Path(self.dir.name) / "huge.toml"
        self.cfg.write_text(HUGE)
        self.time_samples_above_memory_refused()    # imports and compiles outside the timing

    def teardown(self):
        self.dir.cleanup()

    def time_billion_point_grid_refused(self):
        from fastmf.grid import run_grid
        try:
            run_grid(self.cfg, pathlib.Path(self.dir.name) / "out", client=_Refused(), printer=lambda *a: None)
        except ValueError:
            return
        raise RuntimeError("the grid was not refused")

    def time_samples_above_memory_refused(self):
        from fastmf.io import ResourceLimitError
        from fastmf.models.lattice import LatticeModel
        from fastmf.sampling.simulate import simulate_lattice
        try:
            simulate_lattice(LatticeModel(L=8), 2.6, 10 ** 11, seed=1, backend="cpu",
                             checkpoint=os.path.join(self.dir.name, "ck.npz"))
        except ResourceLimitError:
            return
        raise RuntimeError("the sample set was not refused")


class CurieWeissCutProfile:
    timeout = 120
    params = [0.5, 2.0]
    param_names = ["beta_J"]

    def setup(self, beta_j):
        from fastmf.exact.symmetric import curie_weiss_info
        curie_weiss_info(20, beta_j).cut_profile()    # compiled outside the timing

    def time_cut_profile_n2000(self, beta_j):
        from fastmf.exact.symmetric import curie_weiss_info
        curie_weiss_info(2000, beta_j).cut_profile()


class LatticeEnumeration4x4:
    timeout = 60

    def setup(self):
        from fastmf.exact.crosscheck import enumerate_ising, enumerate_potts
        self.ising, self.potts = enumerate_ising, enumerate_potts
        enumerate_ising(4, 4, 0.3, h=0.1)     # compiled outside the timing
        enumerate_potts(4, 4, 2, 0.5)

    def time_ising_4x4(self):
        self.ising(4, 4, 0.3, h=0.1)

    def time_potts_q2_4x4(self):
        self.potts(4, 4, 2, 0.5)
