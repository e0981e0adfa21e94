"""Maier-Saupe (nematic) model: CPU sweeps against naive references, the latent (Hubbard-Stratonovich) theory
and sampler against quadrature, MCMC and exact enumeration, and argument validation."""
import math

import numpy as np
import pytest

from fastmf.kernels import maier_saupe_cpu as ms
from fastmf.kernels.philox import STREAM_MEANFIELD, STREAM_ROTATION, philox4x32

TWO_M32 = 2.0 ** -32


def unit_vectors(shape, seed=0):
    u = np.random.default_rng(seed).normal(size=shape + (3,))
    return u / np.linalg.norm(u, axis=-1, keepdims=True)


# ----------------------------------------------------------------------------------------------
# Naive references: plain Python, the documented draws and the same floating-point operations.

def naive_rotation(u, A, beta, J, step, seed, sweep0, n_sweeps):
    n_chains, N, _ = u.shape
    acc = 0
    for r in range(n_chains):
        for t in range(sweep0, sweep0 + n_sweeps):
            for i in range(N):
                w = [float(x) for x in philox4x32(i, r, t, 0, seed, STREAM_ROTATION)]
                r01 = math.sqrt(-2.0 * math.log((w[0] + 0.5) * TWO_M32))
                r2 = math.sqrt(-2.0 * math.log((w[2] + 0.5) * TWO_M32))
                a1, a3 = 2.0 * math.pi * (w[1] * TWO_M32), 2.0 * math.pi * (w[3] * TWO_M32)
                g = (r01 * math.cos(a1), r01 * math.sin(a1), r2 * math.cos(a3))
                old = [float(x) for x in u[r, i]]
                wv = [old[k] + step * g[k] for k in range(3)]
                nrm = math.sqrt(wv[0] * wv[0] + wv[1] * wv[1] + wv[2] * wv[2])
                new = [x / nrm for x in wv]

                def qf(x):
                    return sum(x[a] * (A[r, a, 0] * x[0] + A[r, a, 1] * x[1] + A[r, a, 2] * x[2])
                               for a in range(3))
                dq = qf(new) - qf(old)
                c = old[0] * new[0] + old[1] * new[1] + old[2] * new[2]
                d_e = -(3.0 * J / (4.0 * N)) * (2.0 * dq + 2.0 - 2.0 * c * c)
                if d_e > 0.0:
                    y = float(philox4x32(i, r, t, 1, seed, STREAM_ROTATION)[0])
                    if y * TWO_M32 >= math.exp(-beta * d_e):
                        continue
                for a in range(3):
                    for b in range(3):
                        A[r, a, b] = A[r, a, b] - old[a] * old[b] + new[a] * new[b]
                u[r, i] = new
                acc += 1
    return acc


def naive_axes(states, axes, counts, beta, J, heatbath, seed, sweep0, n_sweeps):
    n_chains, N = states.shape
    D = len(axes)
    G = (axes @ axes.T) ** 2
    coef = 1.5 * beta * J / N
    acc = 0
    for r in range(n_chains):
        for t in range(sweep0, sweep0 + n_sweeps):
            for i in range(N):
                x = [int(v) for v in philox4x32(i, r, t, 0, seed, STREAM_MEANFIELD)]
                old = int(states[r, i])
                rest = counts[r].copy()
                rest[old] -= 1

                def field(d):
                    s = 0.0
                    for e in range(D):
                        s += float(rest[e]) * G[d, e]
                    return s
                if heatbath:
                    lw = [coef * field(d) for d in range(D)]
                    m = max(lw)
                    w = [math.exp(v - m) for v in lw]
                    target = x[0] * TWO_M32 * sum(w)
                    cum, new = 0.0, D - 1
                    for d in range(D):
                        cum += w[d]
                        if target < cum:
                            new = d
                            break
                else:
                    new = (old + 1 + ((x[0] * (D - 1)) >> 32)) % D
                    dl = coef * (field(new) - field(old))
                    if dl < 0.0 and x[1] * TWO_M32 >= math.exp(dl):
                        new = old
                if new != old:
                    counts[r, old] -= 1
                    counts[r, new] += 1
                    states[r, i] = new
                    acc += 1
    return acc


@pytest.mark.parametrize("beta,step", [(1.0, 0.3), (8.0, 1.5)])
def test_rotation_sweep_matches_naive(beta, step):
    u = unit_vectors((2, 7))
    A = ms.ms_tensor(u)
    u2, A2 = u.copy(), A.copy()
    acc = ms.ms_rotation_sweep(u, A, beta, 1.3, step=step, seed=77, sweep=3, n_sweeps=3)
    acc2 = naive_rotation(u2, A2, beta, 1.3, step, 77, 3, 3)
    assert acc == acc2 > 0
    np.testing.assert_array_equal(u, u2)
    np.testing.assert_array_equal(A, A2)
    np.testing.assert_allclose(A, ms.ms_tensor(u), atol=1e-13)
    np.testing.assert_allclose(np.linalg.norm(u, axis=2), 1.0, atol=1e-14)


@pytest.mark.parametrize("heatbath", [False, True])
def test_axes_sweep_matches_naive(heatbath):
    axes = unit_vectors((5,), seed=4)
    states = np.random.default_rng(1).integers(0, 5, size=(3, 9)).astype(np.uint8)
    counts = ms.axes_counts(states, 5)
    s2, c2 = states.copy(), counts.copy()
    acc = ms.ms_axes_sweep(states, axes, counts, 4.0, 1.0, seed=5, sweep=2, n_sweeps=3, heatbath=heatbath)
    acc2 = naive_axes(s2, axes, c2, 4.0, 1.0, heatbath, 5, 2, 3)
    assert acc == acc2 > 0
    np.testing.assert_array_equal(states, s2)
    np.testing.assert_array_equal(counts, c2)
    np.testing.assert_array_equal(counts, ms.axes_counts(states, 5))


def test_sweeps_continue_like_one_call():
    u = unit_vectors((2, 6), seed=3)
    A = ms.ms_tensor(u)
    u2, A2 = u.copy(), A.copy()
    a = ms.ms_rotation_sweep(u, A, 3.0, seed=1, n_sweeps=4)
    b = ms.ms_rotation_sweep(u2, A2, 3.0, seed=1, n_sweeps=2)
    b += ms.ms_rotation_sweep(u2, A2, 3.0, seed=1, sweep=2, n_sweeps=2)
    assert a == b
    np.testing.assert_array_equal(u, u2)


def test_rotation_bad_inputs():
    u = unit_vectors((2, 4))
    A = ms.ms_tensor(u)
    with pytest.raises(ValueError, match="unit vectors"):
        ms.ms_rotation_sweep(u * (1 + 1e-7), A, 1.0, seed=0)
    bad = u.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        ms.ms_rotation_sweep(bad, A, 1.0, seed=0)
    with pytest.raises(ValueError, match="beta"):
        ms.ms_rotation_sweep(u, A, 0.0, seed=0)
    with pytest.raises(ValueError, match="beta"):
        ms.ms_rotation_sweep(u, A, -2.0, seed=0)
    with pytest.raises(ValueError, match="finite"):
        ms.ms_rotation_sweep(u, A, float("nan"), seed=0)
    with pytest.raises(ValueError, match="step"):
        ms.ms_rotation_sweep(u, A, 1.0, step=0.0, seed=0)
    with pytest.raises(ValueError, match="shape"):
        ms.ms_rotation_sweep(u, A[:1], 1.0, seed=0)
    with pytest.raises(ValueError, match="dimensions"):
        ms.ms_rotation_sweep(u[0], A, 1.0, seed=0)
    with pytest.raises(TypeError, match="float64"):
        ms.ms_rotation_sweep(u.astype(np.float32), A, 1.0, seed=0)
    with pytest.raises(ValueError, match="sum_i"):
        ms.ms_rotation_sweep(u, A + 0.1, 1.0, seed=0)
    with pytest.raises(ValueError, match="seed"):
        ms.ms_rotation_sweep(u, A, 1.0, seed=-1)


def test_axes_bad_inputs():
    axes = np.eye(3)
    states = np.zeros((2, 4), np.uint8)
    counts = ms.axes_counts(states, 3)
    with pytest.raises(ValueError, match="unit"):
        ms.ms_axes_sweep(states, axes * 2, counts, 1.0, seed=0)
    with pytest.raises(ValueError, match="shape"):
        ms.ms_axes_sweep(states, axes[:, :2], counts, 1.0, seed=0)
    with pytest.raises(ValueError, match="counts"):
        ms.ms_axes_sweep(states, axes, counts + 1, 1.0, seed=0)
    with pytest.raises(ValueError, match="shape"):
        ms.ms_axes_sweep(states, axes, np.zeros((2, 2), np.int64), 1.0, seed=0)
    with pytest.raises(ValueError, match="axis indices"):
        ms.ms_axes_sweep(states + 3, axes, counts, 1.0, seed=0)
    with pytest.raises(TypeError, match="uint8"):
        ms.ms_axes_sweep(states.astype(np.int64), axes, counts, 1.0, seed=0)
    with pytest.raises(ValueError, match="beta"):
        ms.ms_axes_sweep(states, axes, counts, -1.0, seed=0)
    with pytest.raises(ValueError, match="NaN"):
        ms.ms_axes_sweep(states, np.full((3, 3), np.nan), counts, 1.0, seed=0)


# ----------------------------------------------------------------------------------------------
# Exact theory: Z1 quadrature, mean field, latent quadrature.

from scipy import special  # noqa: E402

from fastmf.sampling import latent_maier_saupe as lat  # noqa: E402
from fastmf.exact import maier_saupe as ex  # noqa: E402
from fastmf.stats import chi_square_from_samples  # noqa: E402
from references import digit_configurations, maier_saupe_latent_moments  # noqa: E402


def test_z1_analytic_limits():
    assert ex.log_z1(np.zeros((3, 3))) == pytest.approx(math.log(4 * math.pi), rel=1e-14)
    assert ex.log_z1(2.5 * np.eye(3)) == pytest.approx(math.log(4 * math.pi) + 2.5, rel=1e-14)
    for kappa in [0.3, 4.0, 60.0, 500.0, -2.0, -200.0]:  # Watson: 4 pi 1F1(1/2; 3/2; kappa)
        exact = math.log(4 * math.pi * special.hyp1f1(0.5, 1.5, kappa))
        assert ex.log_z1_eigs([0.0, 0.0, kappa]) == pytest.approx(exact, rel=1e-11, abs=1e-11)
    # huge concentration: Laplace asymptotics 4 pi e^k / (2k) (1 + 1/(2k) + ...)
    k = 1e5
    laplace = math.log(2 * math.pi / k) + k + math.log1p(0.5 / k)
    assert ex.log_z1_eigs([0.0, 0.0, k]) == pytest.approx(laplace, rel=1e-12)


@pytest.fixture(scope="module")
def z1_monte_carlo():
    """A random symmetric B and the Monte Carlo estimate (mean, standard error) of Z1(B) = 4 pi <exp(u^T B u)>
    over 400 000 uniform unit vectors."""
    rng = np.random.default_rng(5)
    B = rng.normal(size=(3, 3))
    B = B + B.T
    u = unit_vectors((400000,), seed=6)
    f = np.exp(np.einsum("na,ab,nb->n", u, B, u))
    return B, 4 * math.pi * f.mean(), 4 * math.pi * f.std() / math.sqrt(f.size)


def _z1_z(z1_monte_carlo, scale):
    """z of the quadrature Z1(scale B) against the Monte Carlo estimate of Z1(B)."""
    B, mc, err = z1_monte_carlo
    return (ex.z1(scale * B) - mc) / err


def test_z1_rotation_invariance_and_monte_carlo(z1_monte_carlo):
    B = z1_monte_carlo[0]
    R = np.linalg.qr(np.random.default_rng(7).normal(size=(3, 3)))[0]
    assert ex.log_z1(R @ B @ R.T) == pytest.approx(ex.log_z1(B), rel=1e-12)
    assert abs(_z1_z(z1_monte_carlo, 1.0)) < 5  # 5 sigma: a false alarm ~ 6e-7
    # batched evaluation equals the scalar one
    np.testing.assert_allclose(ex.log_z1(np.stack([B, 2 * B])), [ex.log_z1(B), ex.log_z1(2 * B)], rtol=1e-13)


def test_power_z1_monte_carlo_rejects_a_5_percent_temperature_error(z1_monte_carlo):
    """The same 5-sigma check against Z1 at a temperature 5 % off (B -> 1.05 B): measured z = 63."""
    assert abs(_z1_z(z1_monte_carlo, 1.05)) > 5


def test_z1_bad_inputs():
    with pytest.raises(ValueError, match="symmetric"):
        ex.log_z1(np.triu(np.ones((3, 3))))
    with pytest.raises(ValueError, match="NaN"):
        ex.log_z1(np.full((3, 3), np.nan))
    with pytest.raises(ValueError, match="shape"):
        ex.log_z1(np.zeros((2, 2)))


BINGHAM_LAM = np.array([-1.0, 0.5, 4.0])


@pytest.fixture(scope="module")
def bingham_draws():
    """40 000 Bingham draws for B = R diag(BINGHAM_LAM) R^T, and R."""
    R = np.linalg.qr(np.random.default_rng(2).normal(size=(3, 3)))[0]
    B = R @ np.diag(BINGHAM_LAM) @ R.T
    return lat.sample_bingham(np.repeat(B[None], 100, 0), 400, seed=3).reshape(-1, 3), R


def _bingham_z(bingham_draws, lam):
    """z-scores of the sample <u_k^2> (eigenbasis of B) against d ln Z1 / d lambda_k at the eigenvalues lam."""
    u, R = bingham_draws
    y2 = (u @ R) ** 2
    z = []
    for k in range(3):
        d = np.zeros(3)
        d[k] = 1e-5
        expect = (ex.log_z1_eigs(lam + d) - ex.log_z1_eigs(lam - d)) / 2e-5
        z.append((y2[:, k].mean() - expect) / (y2[:, k].std() / math.sqrt(len(y2))))
    return np.array(z)


def test_bingham_sampler_matches_z1_derivatives(bingham_draws):
    """<u_k^2> = d ln Z1 / d lambda_k in the eigenbasis; the sampler is also rotated correctly."""
    np.testing.assert_allclose(np.linalg.norm(bingham_draws[0], axis=1), 1.0, atol=1e-12)
    assert np.max(np.abs(_bingham_z(bingham_draws, BINGHAM_LAM))) < 5  # 5 sigma on each of 3 moments


def test_power_bingham_check_rejects_a_5_percent_temperature_error(bingham_draws):
    """The same draws against the moments at eigenvalues 5 % larger (temperature 5 % lower): measured max |z| =
    10.9."""
    assert np.max(np.abs(_bingham_z(bingham_draws, 1.05 * BINGHAM_LAM))) > 5


def test_mean_field_transition():
    bjc, sc = ex.mean_field_transition()
    assert bjc == pytest.approx(4.5415, abs=5e-4)     # T_NI = 0.2202 J
    assert 1 / bjc == pytest.approx(0.2202, abs=1e-4)
    assert sc == pytest.approx(0.4289, abs=5e-4)
    assert ex.mean_field_free_energy(sc, bjc) == pytest.approx(0.0, abs=1e-10)
    assert ex.mean_field_order(bjc - 0.01) == 0.0
    s = ex.mean_field_order(bjc + 0.01)
    assert s > 0.42 and ex.mean_field_self_consistency(s, bjc + 0.01) == pytest.approx(s, abs=1e-12)
    assert ex.mean_field_order(20.0) == pytest.approx(1 - 1 / 20.0, abs=0.006)  # S ~ 1 - T / J at low T


def test_latent_moments_exact_small_n():
    # N = 1: Tr Q^2 = 3/2 exactly; N = 2: 3/4 + (3/4) <P2(x)> under exp(beta J P2(x) / 2), x uniform
    assert ex.latent_moments(2.0, 1.0, 1)["tr_Q2"] == pytest.approx(1.5, rel=1e-9)
    x, w = np.polynomial.legendre.leggauss(200)
    p2 = 1.5 * x * x - 0.5
    for bj in [1.0, 6.0]:
        wt = w * np.exp(bj * p2 / 2)
        expect = 0.75 + 0.75 * (wt @ p2) / wt.sum()
        assert ex.latent_moments(bj, 1.0, 2)["tr_Q2"] == pytest.approx(expect, rel=1e-9)
    # weak coupling: random unit vectors give 3/(2N), corrected by 1/(1 - beta J / 5) to first order
    assert ex.latent_moments(0.02, 1.0, 10)["tr_Q2"] == pytest.approx(0.15 / (1 - 0.004), rel=2e-3)
    with pytest.raises(ValueError, match="J > 0"):
        ex.latent_moments(1.0, -1.0, 5)


# ----------------------------------------------------------------------------------------------
# Statistics: rotation-move MCMC vs the latent quadrature and the latent sampler; axes vs enumeration.

N_MC = 30
MC_CASES = [(3.5, 0.8), (6.5, 0.5)]  # beta J above (isotropic) and below (nematic) T_NI; proposal width


@pytest.fixture(scope="module")
def mcmc_runs():
    """Means of Tr Q^2 and S over 32 independent rotation-move chains (errors from the chain scatter)."""
    out = {}
    for bj, step in MC_CASES:
        u = unit_vectors((32, N_MC), seed=10)
        A = ms.ms_tensor(u)
        ms.ms_rotation_sweep(u, A, bj, step=step, seed=21, n_sweeps=200)
        trq, s = [], []
        for k in range(500):
            ms.ms_rotation_sweep(u, A, bj, step=step, seed=21, sweep=200 + 2 * k, n_sweeps=2,
                                 check_values=False)
            Q = (3.0 * A / N_MC - np.eye(3)) / 2.0
            trq.append(np.einsum("kab,kab->k", Q, Q))
            s.append(np.linalg.eigvalsh(Q)[:, -1])
        np.testing.assert_allclose(A, ms.ms_tensor(u), atol=1e-10)  # the maintained tensor has not drifted
        out[bj] = {name: (np.mean(v, axis=0).mean(), np.mean(v, axis=0).std(ddof=1) / math.sqrt(32))
                   for name, v in (("tr_Q2", trq), ("S", s))}
    return out


#: beta J 5 % off: the slightly wrong input of the power companions
WRONG = 1.05


def _latent_stats(bj):
    """Means and standard errors of Tr Q^2, S and Tr X^2 over 2000 independent latent-sampler configurations."""
    u, X = lat.sample_maier_saupe(bj, 1.0, N_MC, 2000, seed=8, return_latent=True)
    Q = ex.order_tensor(u)
    vals = dict(tr_Q2=np.einsum("kab,kab->k", Q, Q), S=np.linalg.eigvalsh(Q)[:, -1],
                tr_X2=np.einsum("kab,kab->k", X, X))
    return {k: (v.mean(), v.std(ddof=1) / math.sqrt(v.size)) for k, v in vals.items()}


@pytest.fixture(scope="module")
def latent_runs():
    return {bj: _latent_stats(bj) for bj, _ in MC_CASES}


@pytest.fixture(scope="module")
def latent_runs_wrong():
    """The latent sampler run at beta J 5 % too large (the companions' slightly wrong sampler)."""
    return {bj: _latent_stats(WRONG * bj) for bj, _ in MC_CASES}


@pytest.fixture(scope="module")
def quadrature():
    """Independent quadrature of the latent moments (tests/references.py: its own Z1 and grid), at beta J and at
    beta J 5 % too large."""
    return {(bj, f): maier_saupe_latent_moments(f * bj, N_MC) for bj, _ in MC_CASES for f in (1.0, WRONG)}


@pytest.mark.parametrize("bj,N", [(3.5, 30), (6.5, 30), (4.5, 30), (1.0, 2), (6.0, 2), (5.0, 10)])
def test_latent_moments_equal_an_independent_quadrature(bj, N):
    """fastmf's quadrature (Bessel-function Z1, its own nodes and range) against tests/references.py's (Z1 over the
    sphere node by node, other nodes and range): both resolve the integrals to ~1e-13 (measured 8e-14), so 1e-10
    is rounding plus margin."""
    ref = maier_saupe_latent_moments(bj, N)
    got = ex.latent_moments(bj, 1.0, N)
    assert got["tr_X2"] == pytest.approx(ref["tr_X2"], rel=1e-10)
    assert got["tr_Q2"] == pytest.approx(ref["tr_Q2"], rel=1e-10)


def _mcmc_z(mcmc_runs, bj, exact):
    """z of the rotation-move MCMC mean of Tr Q^2 (errors from the scatter of 32 chains) against ``exact``."""
    mean, err = mcmc_runs[bj]["tr_Q2"]
    return (mean - exact) / err


@pytest.mark.parametrize("bj", [c[0] for c in MC_CASES])
def test_rotation_mcmc_matches_latent_quadrature(mcmc_runs, quadrature, bj):
    assert abs(_mcmc_z(mcmc_runs, bj, quadrature[bj, 1.0]["tr_Q2"])) < 4  # 4 sigma: false alarm 6e-5 per case


@pytest.mark.parametrize("bj", [c[0] for c in MC_CASES])
def test_power_rotation_mcmc_check_rejects_a_5_percent_coupling_error(mcmc_runs, quadrature, bj):
    """The same MCMC means against the quadrature at beta J 5 % too large: measured z = -14.5 (3.5), -21.2 (6.5)."""
    assert abs(_mcmc_z(mcmc_runs, bj, quadrature[bj, WRONG]["tr_Q2"])) > 4


def _latent_z(latent, mcmc_runs, quadrature, bj):
    """z-scores of the latent sampler's moments: Tr X^2 and Tr Q^2 against the quadrature at ``bj``, S against the
    rotation-move MCMC at ``bj`` (two-sample)."""
    exact = quadrature[bj, 1.0]
    z = {name: (latent[name][0] - exact[name]) / latent[name][1] for name in ("tr_X2", "tr_Q2")}
    (m1, e1), (m2, e2) = mcmc_runs[bj]["S"], latent["S"]
    z["S"] = (m1 - m2) / math.hypot(e1, e2)
    return z


@pytest.mark.parametrize("bj", [c[0] for c in MC_CASES])
def test_latent_sampler_matches_quadrature_and_mcmc(mcmc_runs, latent_runs, quadrature, bj):
    z = _latent_z(latent_runs[bj], mcmc_runs, quadrature, bj)
    assert all(abs(v) < 4 for v in z.values()), z  # 4 sigma each: false alarm 2e-4 over the 3 checks
    # ordered below T_NI, disordered (finite-size S ~ N^-1/2) above
    m1 = mcmc_runs[bj]["S"][0]
    assert (m1 > 0.7) if bj > 4.6 else (m1 < 0.4)


@pytest.mark.parametrize("bj", [c[0] for c in MC_CASES])
def test_power_latent_sampler_at_a_5_percent_wrong_coupling_fails_each_check(mcmc_runs, latent_runs_wrong,
                                                                             quadrature, bj):
    """The latent sampler run at 1.05 beta J, same size, fed to the same three checks: each fails (measured z:
    Tr X^2 5.4 / 9.7, Tr Q^2 8.3 / 16.9, S -7.5 / -13.8 at beta J = 3.5 / 6.5)."""
    z = _latent_z(latent_runs_wrong[bj], mcmc_runs, quadrature, bj)
    assert all(abs(v) > 4 for v in z.values()), z


def test_latent_sampler_reproducible_and_seeded():
    a = lat.sample_maier_saupe(5.0, 1.0, 6, 40, seed=3, n_chains=8, burn_in=40)
    b = lat.sample_maier_saupe(5.0, 1.0, 6, 40, seed=3, n_chains=8, burn_in=40)
    c = lat.sample_maier_saupe(5.0, 1.0, 6, 40, seed=4, n_chains=8, burn_in=40)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    np.testing.assert_allclose(np.linalg.norm(a, axis=2), 1.0, atol=1e-12)
    with pytest.raises(ValueError, match="J"):
        lat.sample_maier_saupe(1.0, -1.0, 6, 4, seed=0)
    with pytest.raises(ValueError, match="beta"):
        lat.sample_latent(-1.0, 1.0, 6, 4, seed=0)
    with pytest.raises(ValueError, match="axes"):
        lat.sample_latent(1.0, 1.0, 6, 4, seed=0, axes=np.ones((3, 3)))


AXES_D3 = np.eye(3)
N_AX = 8                      # 3^8 = 6561 configurations, 45 count vectors
BJ_AX = 4.0


def _count_codes(counts):
    return counts[:, 0] * (N_AX + 1) + counts[:, 1]


def _axes_brute_force(bj):
    """Probabilities of the count vectors (indexed by their codes, (N_AX + 1)**2) by brute force over all 3^N
    configurations of the three orthogonal axes, with E = -(J / 2N) sum_ij P2(n_i . n_j), J = 1."""
    states = digit_configurations(N_AX, 3)
    c = np.stack([(states == d).sum(1) for d in range(3)], axis=1)
    P = 1.5 * (AXES_D3 @ AXES_D3.T) ** 2 - 0.5
    logw = (bj / (2 * N_AX)) * np.einsum("kd,de,ke->k", c, P, c)
    w = np.exp(logw - logw.max())
    return np.bincount(_count_codes(c), weights=w / w.sum(), minlength=(N_AX + 1) ** 2)


@pytest.fixture(scope="module")
def axes_exact():
    """(support codes, exact probabilities, probabilities at beta J 5 % too large: the companions' reference)."""
    counts, p = ex.enumerate_axes(AXES_D3, N_AX, BJ_AX, 1.0)
    assert len(p) == 45
    support = _count_codes(counts)
    # brute force over all 3^N configurations agrees with the count enumeration
    brute = _axes_brute_force(BJ_AX)[support]
    np.testing.assert_allclose(brute, p, rtol=1e-12)
    return support, brute, _axes_brute_force(WRONG * BJ_AX)[support]


def _axes_pvalue(codes, support, p):
    """Chi-square p-value of the sampled count codes against the probabilities ``p`` on ``support``."""
    return chi_square_from_samples(codes, support, p)[2]


@pytest.fixture(scope="module", params=[False, True], ids=["metropolis", "heatbath"])
def axes_mcmc_codes(request):
    """Count codes of 4000 chains x 3 snapshots of the axes kernel (Metropolis or heat bath) at BJ_AX."""
    states = np.random.default_rng(0).integers(0, 3, size=(4000, N_AX)).astype(np.uint8)
    counts = ms.axes_counts(states, 3)
    codes = []
    for k in range(3):  # snapshots 20 sweeps apart (tau ~ 1 sweep): independent within the chi-square's power
        ms.ms_axes_sweep(states, AXES_D3, counts, BJ_AX, seed=12, sweep=20 * k, n_sweeps=20,
                         heatbath=request.param)
        codes.append(_count_codes(counts))
    return np.concatenate(codes)


def test_axes_mcmc_matches_enumeration(axes_exact, axes_mcmc_codes):
    support, p, _ = axes_exact
    assert _axes_pvalue(axes_mcmc_codes, support, p) > 1e-3


def test_power_axes_mcmc_check_rejects_a_5_percent_coupling_error(axes_exact, axes_mcmc_codes):
    """The same 12 000 samples against the exact table at 1.05 beta J: measured p = 4e-13 (Metropolis), 2e-23
    (heat bath)."""
    support, _, p_wrong = axes_exact
    assert _axes_pvalue(axes_mcmc_codes, support, p_wrong) < 1e-3


@pytest.fixture(scope="module")
def axes_latent_codes():
    states = lat.sample_maier_saupe_axes(AXES_D3, BJ_AX, 1.0, N_AX, 6000, seed=2, n_chains=64)
    assert states.dtype == np.uint8 and states.shape == (6000, N_AX)
    return _count_codes(ms.axes_counts(states, 3))


def test_axes_latent_sampler_matches_enumeration(axes_exact, axes_latent_codes):
    support, p, _ = axes_exact
    assert _axes_pvalue(axes_latent_codes, support, p) > 1e-3


def test_power_axes_latent_check_rejects_a_5_percent_coupling_error(axes_exact, axes_latent_codes):
    """The same 6000 latent-sampler configurations against the exact table at 1.05 beta J: measured p = 2e-11."""
    support, _, p_wrong = axes_exact
    assert _axes_pvalue(axes_latent_codes, support, p_wrong) < 1e-3


def test_axes_symmetry_group():
    G = lat.axes_symmetry_group(AXES_D3)
    assert len(G) == 24  # rotations of the cube
    assert all(any(np.allclose(a @ b, c) for c in G) for a in G[:6] for b in G)  # closed under products
    np.testing.assert_allclose(np.linalg.det(G), 1.0)
    phi = (1 + 5 ** 0.5) / 2
    ico = np.array([[0, 1, phi], [0, -1, phi], [1, phi, 0], [-1, phi, 0], [phi, 0, 1], [phi, 0, -1]])
    assert len(lat.axes_symmetry_group(ico / np.linalg.norm(ico, axis=1, keepdims=True))) == 60
    assert len(lat.axes_symmetry_group(unit_vectors((4,), seed=1))) == 1


def test_sweeps_independent_of_thread_count():
    import numba
    most = numba.config.NUMBA_NUM_THREADS
    if most < 2:  # NUMBA_NUM_THREADS=1: a one-thread run would be compared with itself
        pytest.skip("one Numba thread available: nothing to compare a one-thread run with")
    u = unit_vectors((5, 6), seed=8)
    A = ms.ms_tensor(u)
    states = np.random.default_rng(2).integers(0, 3, size=(5, 6)).astype(np.uint8)
    counts = ms.axes_counts(states, 3)
    results = []
    old = numba.get_num_threads()
    try:
        for n in (1, most):
            numba.set_num_threads(n)
            u1, A1, s1, c1 = u.copy(), A.copy(), states.copy(), counts.copy()
            ms.ms_rotation_sweep(u1, A1, 5.0, seed=3, n_sweeps=3)
            ms.ms_axes_sweep(s1, AXES_D3, c1, 5.0, seed=3, n_sweeps=3, heatbath=True)
            results.append((u1, A1, s1, c1))
    finally:
        numba.set_num_threads(old)
    for a, b in zip(results[0], results[-1]):
        np.testing.assert_array_equal(a, b)


LOWER_SCRIPT = """
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
disp.get_current_device = lambda: SimpleNamespace(compute_capability=(7, 5))
from fastmf.kernels import maier_saupe_cuda as mc
u8, i64, f8, b1 = types.uint8, types.int64, types.float64, types.boolean
C = lambda t, n: types.Array(t, n, "C")
sigs = {
    "_rotation_kernel": (C(f8, 3), C(f8, 3), f8, f8, f8, i64, i64, i64, i64, C(i64, 1)),
    "_axes_kernel": (C(u8, 2), C(i64, 2), C(f8, 2), f8, f8, b1, i64, i64, i64, i64, C(i64, 1)),
}
for name, sig in sigs.items():
    compile_cuda(getattr(mc, name).py_func, types.void, sig, cc=(7, 5))
    print("OK", name)
"""


def test_cuda_kernels_lower_for_gpu():
    """Type and lower the Numba-CUDA kernels for a real GPU (cc 7.5) without one: the simulator cannot catch
    what only the CUDA compiler rejects (see tests/test_lattice_cuda_compile.py for the technique)."""
    import subprocess
    import sys
    pytest.importorskip("numba.cuda")
    proc = subprocess.run([sys.executable, "-c", LOWER_SCRIPT], capture_output=True, text=True, timeout=300)
    if proc.stdout.startswith("SKIP"):
        pytest.skip(f"Numba-CUDA internals changed: {proc.stdout.strip()}")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "OK _rotation_kernel" in out and "OK _axes_kernel" in out, out


def test_decoder_samplers_bad_inputs():
    with pytest.raises(ValueError, match="symmetric"):
        lat.sample_bingham(np.triu(np.ones((3, 3)))[None], 2, seed=0)
    with pytest.raises(ValueError, match="shape"):
        lat.sample_bingham(np.zeros((3, 3)), 2, seed=0)
    with pytest.raises(ValueError, match="NaN"):
        lat.sample_axes_given_latent(np.full((1, 3, 3), np.nan), AXES_D3, 1.0, 2, seed=0)


def _categorical_pvalue(c_reference):
    """Chi-square p-value of 20 000 categorical decoder draws at c = 2 (X = diag(0.5, -0.2, -0.3)) against the
    softmax of ``c_reference n_d^T X n_d``."""
    X = np.diag([0.5, -0.2, -0.3])[None].repeat(50, 0)
    s = lat.sample_axes_given_latent(X, AXES_D3, 2.0, 400, seed=1).ravel()
    p = np.exp(c_reference * np.diag(X[0]))
    return chi_square_from_samples(s, np.arange(3), p / p.sum())[2]


def test_categorical_decoder_follows_the_softmax():
    """Frequencies follow the softmax of c n_d^T X n_d."""
    assert _categorical_pvalue(2.0) > 1e-3


def test_power_categorical_check_rejects_a_5_percent_coupling_error():
    """The same draws against the softmax at c 5 % too large: measured p = 3.5e-7."""
    assert _categorical_pvalue(2.1) < 1e-3
