"""``fastmf verify``: the small exact checks of the verification ladder, runnable on any machine.

Statistical checks draw *independent* samples (one final configuration from each of many independent
replicas after a burn-in far longer than the relaxation time of these small lattices), so the chi-square
test needs no autocorrelation correction. A check fails when ``p < P_FAIL``: a correct sampler fails one
check with probability ``1e-4``. Sampled energies of larger lattices are compared with Kaufman's exact
value within 4 standard errors computed from independent replica means (which include autocorrelation).
"""
import dataclasses
import time

import numpy as np

from . import stats
from .backends import resolve_backend
from .exact import crosscheck as lattice_enum, kaufman  # verify's independent cross-check
from .kernels.philox import philox4x32_array
from .models.lattice import LatticeModel
from .sampling.lattice import LatticeSampler

__all__ = ["CheckResult", "run_verification", "histogram_check", "kaufman_energy_check", "philox_check",
           "P_FAIL", "KNOWN_ANSWERS"]

P_FAIL = 1e-4

KNOWN_ANSWERS = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


@dataclasses.dataclass
class CheckResult:
    name: str
    passed: bool
    detail: str
    seconds: float = 0.0


def philox_check():
    """Philox4x32-10 known-answer vectors of the randomness contract (docs/theory.rst) on the CPU."""
    counters = np.array([c for c, _, _ in KNOWN_ANSWERS], np.uint64)
    keys = np.array([k for _, k, _ in KNOWN_ANSWERS], np.uint64)
    got = philox4x32_array(counters, keys)
    want = np.array([a for _, _, a in KNOWN_ANSWERS], np.uint32)
    ok = bool(np.array_equal(got, want))
    return CheckResult("philox known answers (cpu)", ok, "3/3 vectors" if ok else f"got {got}, want {want}")


def independent_samples(sampler, n_replicas, n_steps, seed):
    """Final configurations of ``n_replicas`` independent chains after ``n_steps`` steps from a hot start."""
    state = sampler.init_state(n_replicas, seed)
    sampler.run(state, n_steps)
    return state.spins


def histogram_check(sampler, exact, n_replicas, n_steps, seed):
    """Chi-square tests of the energy and order-parameter histograms against an exact enumeration.

    Returns two :class:`CheckResult` (energy, then magnetization or Potts n_0).
    """
    model = sampler.model
    t0 = time.perf_counter()
    spins = independent_samples(sampler, n_replicas, n_steps, seed)
    energy = model.energy(spins)
    label = (f"{model.name} {model.L}x{model.M} J={model.J:g} h={model.h:g} q={model.q} T={sampler.T:g} "
             f"{sampler.method}/{sampler.order}/{sampler.backend}")
    results = []
    e_index = np.searchsorted(exact.energies, energy - 1e-7)
    if np.any(e_index >= len(exact.energies)) or not np.allclose(exact.energies[np.minimum(
            e_index, len(exact.energies) - 1)], energy, atol=1e-6):
        results.append(CheckResult(f"energy histogram {label}", False, "sampled an energy that has no state"))
    else:
        counts = np.bincount(e_index, minlength=len(exact.energies))
        stat, dof, p = stats.chi_square_test(counts, exact.energy_probs)
        results.append(CheckResult(f"energy histogram {label}", bool(p >= P_FAIL),
                                   f"chi2={stat:.1f} dof={dof} p={p:.3g} n={n_replicas}"))
    if model.is_potts:
        values, support, probs = (spins == 0).sum(axis=(1, 2)), exact.n0_values, exact.n0_probs
        what = "n0"
    else:
        values, support, probs = spins.sum(axis=(1, 2), dtype=np.int64), exact.magnetizations, \
            exact.magnetization_probs
        what = "magnetization"
    counts = np.array([(values == v).sum() for v in support])
    stat, dof, p = stats.chi_square_test(counts, probs)
    results.append(CheckResult(f"{what} histogram {label}", bool(p >= P_FAIL) and counts.sum() == len(values),
                               f"chi2={stat:.1f} dof={dof} p={p:.3g}"))
    for r in results:
        r.seconds = (time.perf_counter() - t0) / len(results)
    return results


def kaufman_energy_check(L, T, method, n_replicas, n_burn, n_steps, seed, backend="cpu", n_sigma=4.0):
    """Mean energy of an L x L Ising lattice against Kaufman's exact value, within ``n_sigma`` standard
    errors from independent replica means (each replica's time average: autocorrelation included)."""
    t0 = time.perf_counter()
    model = LatticeModel(L=L)
    sampler = LatticeSampler(model, T, method=method, backend=backend)
    state = sampler.init_state(n_replicas, seed)
    sampler.run(state, n_burn)
    sums = np.zeros(n_replicas)
    for _ in range(n_steps):
        sampler.run(state, 1)
        sums += model.energy(state.spins)
    means = sums / n_steps / model.n_sites
    estimate, stderr = means.mean(), means.std(ddof=1) / np.sqrt(n_replicas)
    exact = kaufman.energy_per_site(L, L, T)
    z = (estimate - exact) / stderr
    return CheckResult(f"Kaufman energy L={L} T={T:.4f} {method}/{backend}", bool(abs(z) <= n_sigma),
                       f"e={estimate:.5f}+-{stderr:.5f} exact={exact:.5f} z={z:+.2f}", time.perf_counter() - t0)


def _cases(quick):
    """(sampler arguments, lattice) of the enumeration checks."""
    cases = []
    methods = ("metropolis", "heatbath", "multispin", "wolff")
    for method in methods:
        cases.append((dict(J=1.0, h=0.0, T=2.5), method, "checkerboard", (4, 4)))
        if not quick:
            cases.append((dict(J=-1.0, h=0.0, T=2.0), method, "checkerboard", (4, 4)))
            if method != "wolff":
                cases.append((dict(J=1.0, h=0.3, T=2.2), method, "checkerboard", (4, 4)))
    for method in ("metropolis", "heatbath"):
        cases.append((dict(J=1.0, h=0.2, T=2.3), method, "sequential", (3, 5)))
    cases.append((dict(J=1.0, h=0.0, T=2.3), "wolff", "checkerboard", (3, 5)))
    if not quick:
        cases.append((dict(J=-1.0, h=0.0, T=1.8), "wolff", "checkerboard", (3, 5)))
    return cases


def run_verification(backend="auto", quick=False, seed=12345, printer=print):
    """Run every check, print a table, return True when all pass."""
    backend = resolve_backend(backend)
    results = [philox_check()]
    n_rep = 4000 if quick else 20000
    for kw, method, order, (L, M) in _cases(quick):
        be = backend if method in ("metropolis", "heatbath") and order == "checkerboard" else "cpu"
        model = LatticeModel(L=L, M=M, J=kw["J"], h=kw["h"])
        sampler = LatticeSampler(model, kw["T"], method=method, backend=be, order=order)
        exact = lattice_enum.enumerate_ising(L, M, 1.0 / kw["T"], kw["J"], kw["h"])
        results += histogram_check(sampler, exact, n_rep, 300 if method != "wolff" else 100, seed)
    other = "cuda" if backend == "cupy" else backend  # CUDA C has no per-bond couplings: Numba-CUDA for glasses
    if not quick:
        glass = LatticeModel.spin_glass(4, kind="pm", seed=3)
        exact = lattice_enum.enumerate_ising(4, 4, 1 / 1.5, j_right=glass.j_right, j_down=glass.j_down)
        for method in ("metropolis", "heatbath"):
            sampler = LatticeSampler(glass, 1.5, method=method, backend=other)
            results += histogram_check(sampler, exact, n_rep, 300, seed)
        potts = LatticeModel(L=4, M=4, q=3, J=1.0, h=0.2)
        exact = lattice_enum.enumerate_potts(4, 4, 3, 1.0, 1.0, 0.2, max_states=3 ** 16)
        for method in ("metropolis", "heatbath"):
            sampler = LatticeSampler(potts, 1.0, method=method, backend=backend)
            results += histogram_check(sampler, exact, n_rep, 300, seed)
    for T in (2.0, 3.0):
        z_exact = lattice_enum.enumerate_ising(4, 4, 1.0 / T).log_z
        z_k = kaufman.log_partition_function(4, 4, 1.0 / T)
        results.append(CheckResult(f"Kaufman log Z = enumeration, 4x4 T={T}", abs(z_k - z_exact) < 1e-9,
                                   f"{z_k:.12f} vs {z_exact:.12f}"))
    L = 16
    for T in (2.0, kaufman.T_C, 3.0):
        results.append(kaufman_energy_check(L, T, "wolff", 32, 500, 1000 if quick else 4000, seed))
        results.append(kaufman_energy_check(L, T, "metropolis", 32, 2000, 2000 if quick else 8000, seed,
                                            backend=backend))
    width = max(len(r.name) for r in results)
    for r in results:
        printer(f"{'PASS' if r.passed else 'FAIL'}  {r.name:<{width}}  {r.detail}")
    n_fail = sum(not r.passed for r in results)
    printer(f"{len(results) - n_fail} passed, {n_fail} failed")
    return n_fail == 0
