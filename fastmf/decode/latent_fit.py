"""Fit the latent mean-field model (:class:`fastmf.decode.latent_model.LatentMeanField`) by exact maximum
likelihood (L-BFGS on the exact likelihood and gradient), read it off a trained VAE and refine the read-off
(:mod:`fastmf.decode.latent_select` chooses the number of directions and atoms). ``docs/latent_fit.rst`` has the
objective, the gauge, the convergence criterion and the measurements behind these choices.
"""
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
import scipy.sparse as sp
from scipy.linalg import subspace_angles
from scipy.optimize import minimize
from scipy.special import logsumexp

from ..io.files import check_memory
from ..kernels.validation import check_int, check_real
from .common import as_decoder, as_generator, evaluate_fields, log2cosh, posterior_draws
from .latent_model import LatentMeanField

__all__ = ["fit_latent_model", "readoff_latent_model", "latent_model_from_vae", "principal_angles",
           "spike_matrix"]

_BLOCK = 4096          # distinct patterns per block of the (rows, K) responsibility table (stays in cache)
_WINDOW = 10           # iterations over which the convergence criterion is measured
_WARMUP_BINS = 100_000  # bins of the warm-up fit on large data (used when the data have > 2x as many)
_INIT_BINS = 20_000    # bins used by the data-driven initialisation
_READOFF_DRAWS = 20_000  # default cap on the read-off's posterior draws
_CRITERION = ("the penalised per-bin log-likelihood rose by at most tol * max(1, |value|) over the last "
              f"{_WINDOW} L-BFGS iterations")


def spike_matrix(spins, what, N=None):
    """Validated +-1 data (n, N) as a boolean spike matrix (spike = +1), without a float copy; ``what`` names
    the data in the errors, ``N`` the number of sites they must have."""
    s = np.asarray(spins)
    if s.ndim != 2 or min(s.shape) < 1 or (N is not None and s.shape[1] != N):
        raise ValueError(f"{what} must have shape {f'(n, {N})' if N else '(n >= 1, N >= 1)'}, got {s.shape}")
    if s.dtype == object or s.dtype.kind not in "biuf":
        raise TypeError(f"{what} must be a numeric array of +-1, got dtype {s.dtype}")
    check_memory(3 * s.size, f"checking {what}")
    x = np.empty(s.shape, dtype=bool)
    for a in range(0, len(s), 65_536):  # row blocks: no full-size temporaries
        b = s[a:a + 65_536]
        if not ((b == 1) | (b == -1)).all():
            raise ValueError(f"{what} must be +-1 (spike = +1); convert 0/1 rasters with 2 x - 1")
        np.greater(b, 0, out=x[a:a + 65_536])
    return x


class _Patterns:
    """Distinct configurations with their counts, as sparse blocks of ``y = (s sigma + 1) / 2``: each site's
    sign sigma is chosen so that y is mostly 0 (s_i = sigma_i (2 y_i - 1)), so the products cost O(spikes)."""

    def __init__(self, x):
        n, N = x.shape
        active = x.sum(axis=0)
        flip = active > n / 2
        nnz = int(np.minimum(active, n - active).sum())  # at most, before duplicates are merged
        check_memory(x.size * 9 // 8 + 24 * n + 28 * nnz, "the distinct patterns of the data")
        packed = np.packbits(x, axis=1)
        _, first, counts = np.unique(packed.view(np.dtype((np.void, packed.shape[1])))[:, 0],
                                     return_index=True, return_counts=True)
        y = x[first] ^ flip
        self.sigma = np.where(flip, -1.0, 1.0)
        self.counts, self.n_bins, self.N, self.m = counts.astype(np.float64), float(n), N, len(first)
        rows, cols = np.nonzero(y)
        ptr = np.searchsorted(rows, np.arange(self.m + 1))
        Y = sp.csr_matrix((np.ones(rows.size), cols.astype(np.int32), ptr), shape=y.shape)
        self.blocks = [(Y[a:a + _BLOCK], self.counts[a:a + _BLOCK]) for a in range(0, self.m, _BLOCK)]

    def evaluate(self, A, logw, pool=None):
        """Exact ``sum_t c_t ln sum_k w_k p(s_t | a_k)``, ``n_k = sum_t c_t r_tk`` (K,) and
        ``M_k = sum_t c_t r_tk s_t`` (K, N), r the responsibilities. The blocks may run on a thread
        pool (SciPy's sparse products and NumPy release the GIL); their sums are added in block order, so the
        result does not depend on the number of threads."""
        B = self.sigma * A
        const = logw - log2cosh(A).sum(axis=1) - B.sum(axis=1)
        B2 = np.ascontiguousarray(2.0 * B.T)

        def block(item):
            Y, c = item
            L = Y @ B2
            L += const
            mx = L.max(axis=1)
            L -= mx[:, None]
            np.exp(L, out=L)
            tot = L.sum(axis=1)
            ll = c @ (np.log(tot) + mx)
            L *= (c / tot)[:, None]
            return ll, L.sum(axis=0), Y.T @ L

        ll, nk, T = 0.0, np.zeros(len(A)), np.zeros((self.N, len(A)))
        for b_ll, b_nk, b_T in (map if pool is None else pool.map)(block, self.blocks):
            ll, nk, T = ll + b_ll, nk + b_nk, T + b_T
        return ll, nk, self.sigma * (2.0 * T.T - nk[:, None])


def _unpack(x, N, P, K):
    h, xi = x[:N], x[N:N + P * N].reshape(P, N)
    return h, xi, x[N + P * N:N + P * N + K * P].reshape(K, P), x[N + P * N + K * P:]


def _objective(x, pat, N, P, K, l2, pool=None):
    """Penalised negative per-bin log-likelihood and its gradient in (h, Xi, Z, weight logits)."""
    h, xi, z, beta = _unpack(x, N, P, K)
    A = _fields(h, xi, z)
    logw = beta - logsumexp(beta)
    w, n = np.exp(logw), pat.n_bins
    ll, nk, M = pat.evaluate(A, logw, pool=pool)
    q = np.einsum("kn,kn->k", A, A)
    dA = -(M - nk[:, None] * np.tanh(A)) / n + l2 * w[:, None] * A
    grad = np.concatenate([dA.sum(axis=0), np.einsum("kp,kn->pn", z, dA).ravel(),
                           np.einsum("kn,pn->kp", dA, xi).ravel(),
                           -(nk / n - w) + 0.5 * l2 * w * (q - w @ q)])
    return -ll / n + 0.5 * l2 * (w @ q), grad


def _preconditioner(h, xi, z, w, l2):
    """Inverse square roots of the objective's approximate Hessian diagonal at the start (one atom at a time),
    floored: the blocks (fields, directions, atoms, logits) differ in curvature by orders of magnitude."""
    c = 1.0 - np.tanh(_fields(h, xi, z)) ** 2 + l2
    d = np.concatenate([np.einsum("k,kn->n", w, c), np.einsum("k,kp,kn->pn", w, z ** 2, c).ravel(),
                        np.einsum("k,kn,pn->kp", w, c, xi ** 2).ravel(), w * (1.0 - w) + 1e-3 / len(w)])
    return np.maximum(d, 1e-4 * np.median(d)) ** -0.5


def _lbfgs(pat, h, xi, z, w, l2, max_iter, tol, bar, pool):
    N, P, K = h.size, xi.shape[0], z.shape[0]
    w = np.maximum(w, 1e-6 / K)
    x0 = np.concatenate([h, xi.ravel(), z.ravel(), np.log(w)])
    D = _preconditioner(h, xi, z, w / w.sum(), l2)
    history = [-_objective(x0, pat, N, P, K, l2, pool)[0]]
    state = {"converged": False}

    def callback(intermediate_result):
        history.append(-float(intermediate_result.fun))
        bar.update(1)
        if len(history) > _WINDOW and history[-1] - history[-1 - _WINDOW] <= tol * max(1.0, abs(history[-1])):
            state["converged"] = True
            raise StopIteration

    def scaled(y):
        return tuple(v * d for v, d in zip(_objective(y * D, pat, N, P, K, l2, pool), (1.0, D)))
    res = minimize(scaled, x0 / D, jac=True, method="L-BFGS-B", callback=callback,
                   options=dict(maxiter=max_iter, maxcor=10, ftol=0.0, gtol=0.0, maxfun=4 * max_iter))
    h, xi, z, beta = _unpack(res.x * D, N, P, K)
    return (h, xi, z, np.exp(beta - logsumexp(beta))), dict(
        iterations=len(history) - 1, converged=state["converged"], history=history,
        function_evaluations=res.nfev, message=str(res.message))


# Thread-count independence (BLAS sums long products per its thread count): einsum, snapped eigenpairs.
def _fields(h, xi, z):  # a_k = h + Xi^T z_k
    return h + np.einsum("kp,pn->kn", z, xi)


def _snap(a, bits=32):
    """``a`` rounded to 2^-bits of its largest magnitude (a last-bit difference survives only on a rounding
    boundary, ~1e-7 per value)."""
    top = float(np.abs(a).max(initial=0.0))
    q = 2.0 ** (np.frexp(top)[1] - bits) if top > 0 else 1.0
    return np.round(a / q) * q


def _pca_gauge(a, w, P, cov=None):
    """Field vectors a (n, N) with weights w as ``h + Xi^T u``: h the weighted mean, Xi the top-P principal
    axes scaled by their standard deviations, u unit-variance coordinates (n, P). Axes of zero variance get
    Xi = 0 and u = 0; each axis's largest entry is positive. ``cov``: the covariance, if known exactly."""
    w = w / w.sum()
    h = np.einsum("k,kn->n", w, a)
    F = a - h
    Fw = F * np.sqrt(w)[:, None]
    dual = cov is None and len(a) < a.shape[1]  # few rows: the (n, n) Gram matrix has the same spectrum
    C = cov if cov is not None else np.einsum("ki,kj->ij", *((Fw.T, Fw.T) if dual else (Fw, Fw)))
    lam, V = np.linalg.eigh(C)
    k = min(P, lam.size)  # fewer rows than P: the missing axes get zero variance
    lam = _snap(np.pad(np.maximum(lam[::-1][:k], 0.0), (0, P - k)))
    V = _snap(np.pad(V[:, ::-1][:, :k], ((0, 0), (0, P - k))))
    sd = np.sqrt(lam)
    live = sd > 1e-6 * max(sd.max(initial=0.0), 1e-300)  # sqrt of round-off in the eigenvalues: ~1e-8
    if dual:
        V = np.einsum("kn,kp->np", Fw, V) / np.where(live, sd, 1.0)
    V = V * np.sign(V[np.abs(V).argmax(axis=0), np.arange(V.shape[1])])
    u = np.where(live, np.einsum("kn,np->kp", F, V) / np.where(live, sd, 1.0), 0.0)
    return h, (V * np.where(live, sd, 0.0)).T, u


def _unit_gauge(h, xi, z, w):
    """The same field vectors with uncorrelated unit-variance latent coordinates of mean 0 and orthogonal
    directions (the principal axes scaled by their standard deviations): ``z -> (z - zbar) A``,
    ``Xi -> A^{-1} Xi`` with ``A = L^{-T} U`` (Cov z = L L^T, U the eigenvectors of ``L^T Xi Xi^T L``)."""
    zbar = np.einsum("k,kp->p", w, z)
    dz = z - zbar
    try:
        L = np.linalg.cholesky(np.einsum("k,kp,kq->pq", w, dz, dz))
    except np.linalg.LinAlgError:  # a dead latent direction: leave the gauge as it is
        return h, xi, z
    U = np.linalg.eigh(L.T @ np.einsum("pn,qn->pq", xi, xi) @ L)[1][:, ::-1]
    xi2 = U.T @ L.T @ xi
    sign = np.sign(xi2[np.arange(len(xi2)), np.abs(xi2).argmax(axis=1)])
    return h + zbar @ xi, xi2 * sign[:, None], dz @ np.linalg.solve(L.T, U * sign)


def _kmeans(u, K, rng, n_iter=30):
    """Seeded k-means++ then at most n_iter Lloyd steps on points u (n, P): centroids (K, P), cluster
    fractions (K,), labels (n,); the centroids are the means of the final clusters (an empty one keeps its
    seed point, fraction 0)."""
    n = len(u)
    C = np.empty((K, u.shape[1]))
    C[0] = u[rng.integers(n)]
    d2 = ((u - C[0]) ** 2).sum(axis=1)
    for k in range(1, K):
        tot = d2.sum()
        C[k] = u[rng.choice(n, p=d2 / tot)] if tot > 0 else u[rng.integers(n)]
        d2 = np.minimum(d2, ((u - C[k]) ** 2).sum(axis=1))
    labels = None
    for _ in range(n_iter):
        new = ((C * C).sum(axis=1) - 2.0 * np.einsum("np,kp->nk", u, C)).argmin(axis=1)
        if labels is not None and np.array_equal(new, labels):
            break
        labels = new
        nk = np.bincount(labels, minlength=K).astype(np.float64)
        sums = np.stack([np.bincount(labels, u[:, j], minlength=K) for j in range(u.shape[1])], axis=1)
        C = np.where(nk[:, None] > 0, sums / np.maximum(nk, 1.0)[:, None], C)
    return C, np.bincount(labels, minlength=K) / n, labels


def _data_start(x, P, K, rng):
    """Data-driven start (seeded): k-means of up to _INIT_BINS bins in the data's top-P principal coordinates;
    each cluster's spin means, shrunk by one pseudo-bin towards the overall means, give its field vector
    ``atanh(m_k)``; the weighted principal axes of those give h, Xi and the atoms."""
    S = np.where(x[np.sort(rng.choice(len(x), size=min(len(x), _INIT_BINS), replace=False))], 1.0, -1.0)
    m = S.mean(axis=0)
    cov = (S.T @ S) / len(S) - np.outer(m, m)  # S^T S sums +-1: exact integers, however BLAS splits it
    _, frac, labels = _kmeans(_pca_gauge(S, np.ones(len(S)), P, cov)[2], K, rng)
    sums = np.zeros((K, S.shape[1]))
    np.add.at(sums, labels, S)
    a = np.arctanh(np.clip((sums + m) / (frac * len(S) + 1.0)[:, None], -0.999, 0.999))
    w = np.maximum(frac, 1e-6 / K)
    return (*_pca_gauge(a, w, P), w)


def fit_latent_model(spins, n_directions=None, n_atoms=None, *, start=None, l2=1e-4, max_iter=3000,
                     tol=1e-6, seed=0, threads=None, progress=False):
    """Exact maximum-likelihood fit of the latent mean-field model to a +-1 raster.

    Maximises ``(1/n) sum_t ln sum_k w_k p(s_t | a_k) - (l2/2) sum_k w_k |a_k|^2`` over h, Xi, the atoms
    and the weights (softmax logits), ``a_k = h + Xi^T z_k``, by preconditioned L-BFGS with the exact
    gradient (responsibilities over the distinct patterns). The penalty, per bin, keeps the fields of silent
    neurons finite (``|a| ~ 4.2`` for the default) and shifts the others by ``~ l2 |a| / (1 - <s>^2)``. It
    depends on the field vectors only, so the gauge ``z -> A z + b`` is fixed after the fit: h = the mean
    field vector, directions = the principal axes of the field vectors scaled by their standard deviations,
    atoms in uncorrelated unit-variance coordinates (the distribution is unchanged).

    Convergence: the penalised per-bin log-likelihood (which never decreases) rose by at most
    ``tol * max(1, |value|)`` over the last 10 iterations. With more than 200 000 bins a seeded subsample of
    100 000 bins is fitted first (same criterion) and starts the fit on all bins.

    Parameters
    ----------
    spins : array_like (n, N)
        +-1 data (spike = +1), an integer or float array.
    n_directions : int, optional
        P, required without ``start`` (checked against ``start.P`` with it).
    n_atoms : int, optional
        K (default 32, or ``start.n_atoms``). 32 atoms hold P <= 2; a continuous density in three or more
        directions needs more (:func:`fastmf.decode.latent_select.select_n_atoms` chooses K by held-out
        likelihood; ``docs/latent_fit.rst`` has the measurements).
    start : LatentMeanField, optional
        E.g. :func:`readoff_latent_model` (weights below 1e-6 / K are raised to it; a zero direction stays
        zero). Default: from ``seed``, k-means of the data in their top-P principal coordinates, the
        clusters' ``atanh`` spin means as field vectors and their principal axes as directions.
    l2 : float
        The penalty above (>= 0; 0 lets silent neurons' fields run off).
    max_iter : int
        L-BFGS iterations per stage.
    tol : float
        Relative tolerance of the criterion above.
    seed : int or numpy.random.Generator
        The result depends on it alone.
    threads : int, optional
        Threads for the passes over the data (default ``numba.get_num_threads()``); the result does not
        depend on it (fixed blocks summed in a fixed order).
    progress : bool
        tqdm progress bar on stderr.

    Returns
    -------
    model : LatentMeanField
    info : dict
        ``converged`` (the criterion met), ``iterations``, ``log_likelihood_per_bin`` (exact, unpenalised),
        ``log_likelihood_per_bin_start``, ``objective_per_bin`` (penalised), ``history`` (penalised per-bin
        log-likelihood per iteration, the start first), ``seconds``, ``criterion``, ``tol``, ``l2``,
        ``n_bins``, ``n_distinct``, ``function_evaluations``, ``message`` (L-BFGS's), ``warmup`` (iterations,
        converged and bins of the subsample stage, or None), ``start`` ("given" or "data").
    """
    t0 = time.perf_counter()
    x = spike_matrix(spins, "spins")
    n, N = x.shape
    l2 = check_real("l2", l2, nonnegative=True)
    tol = check_real("tol", tol, positive=True)
    max_iter = check_int("max_iter", max_iter, 1)
    rng = as_generator(seed)
    if start is not None:
        if not isinstance(start, LatentMeanField):
            raise TypeError(f"start must be a LatentMeanField, got {type(start).__name__}")
        if start.N != N:
            raise ValueError(f"start has N = {start.N} sites, the data {N}")
        for name, value, have in (("n_directions", n_directions, start.P),
                                  ("n_atoms", n_atoms, start.n_atoms)):
            if value is not None and check_int(name, value, 1) != have:
                raise ValueError(f"{name} = {value} disagrees with the start's {have}")
        params = (start.fields, start.directions, start.atoms, start.weights)
    else:
        if n_directions is None:
            raise ValueError("n_directions is required when no start model is given")
        params = _data_start(x, check_int("n_directions", n_directions, 1, N),
                             check_int("n_atoms", 32 if n_atoms is None else n_atoms, 1), rng)
    threads = numba.get_num_threads() if threads is None else check_int("threads", threads, 1)
    from tqdm.auto import tqdm
    warmup = None
    with tqdm(total=max_iter, desc="latent fit", unit="it", file=sys.stderr, disable=not progress) as bar, \
            ThreadPoolExecutor(threads) as pool:
        pat = _Patterns(x)
        logw0 = np.log(np.maximum(params[3] / params[3].sum(), 1e-300))
        ll0 = pat.evaluate(_fields(*params[:3]), logw0, pool)[0] / n
        if n > 2 * _WARMUP_BINS:
            sub = _Patterns(x[np.sort(rng.choice(n, size=_WARMUP_BINS, replace=False))])
            params, stage = _lbfgs(sub, *params, l2, max_iter, tol, bar, pool)
            warmup = dict(bins=_WARMUP_BINS, iterations=stage["iterations"], converged=stage["converged"])
            del sub
        del x
        (h, xi, z, w), info = _lbfgs(pat, *params, l2, max_iter, tol, bar, pool)
        h, xi, z = _unit_gauge(h, xi, z, w)
        ll = pat.evaluate(_fields(h, xi, z), np.log(np.maximum(w, 1e-300)), pool)[0] / n
    info.update(log_likelihood_per_bin=float(ll), log_likelihood_per_bin_start=float(ll0),
                objective_per_bin=info["history"][-1], seconds=time.perf_counter() - t0,
                criterion=_CRITERION, tol=tol, l2=l2, n_bins=n, n_distinct=pat.m, warmup=warmup,
                start="given" if start is not None else "data")
    return LatentMeanField(h, xi, z, w), info


def readoff_latent_model(vae, data, n_directions, n_atoms=32, *, n_draws=None, seed=0):
    """The latent mean-field model read off a trained VAE's decoder and aggregate posterior.

    The decoder's logits g(z) give the spin fields ``g / 2`` (``P(s_i = +1 | z) = sigmoid(g_i)``); at draws
    of the aggregate posterior over ``data`` (:func:`fastmf.decode.common.posterior_draws`) their mean is h,
    their top-P principal axes scaled by the standard deviations are the directions Xi, and the draws'
    coordinates along them (unit variance) are summarised by ``n_atoms`` weighted atoms: seeded k-means
    centroids, weights = cluster fractions. The part of the fields outside the P-dim span is dropped; an axis
    of zero variance (P above the rank of the decoder's fields) gets a zero direction.

    Parameters
    ----------
    vae : VAE-like
        Has ``.fields`` (latents (n, d) -> logits (n, N)), ``.encode`` and ``.latent_dim``.
    data : array (n, ...)
        Configurations in the VAE's training format.
    n_directions, n_atoms : int
        P (<= N) and K.
    n_draws : int, optional
        Posterior draws (default: one per configuration, at most 20 000: a seeded subset when more).
    seed : int or numpy.random.Generator

    Returns
    -------
    LatentMeanField
    """
    if not all(hasattr(vae, a) for a in ("fields", "encode", "latent_dim")):
        raise TypeError(f"the read-off needs a VAE-like object with .fields, .encode and .latent_dim, got "
                        f"{type(vae).__name__}")
    fields, _ = as_decoder(vae, None)
    P, K, n_data = check_int("n_directions", n_directions, 1), check_int("n_atoms", n_atoms, 1), len(data)
    rng = as_generator(seed)
    nd = min(n_data, _READOFF_DRAWS) if n_draws is None else check_int("n_draws", n_draws, 1)
    sub = data if nd >= n_data else np.asarray(data)[np.sort(rng.choice(n_data, size=nd, replace=False))]
    Z = posterior_draws(vae, sub, nd, rng)
    N = evaluate_fields(fields, Z[:1]).shape[1]
    if P > N:
        raise ValueError(f"n_directions = {P} exceeds the number of sites N = {N}")
    check_memory(24 * nd * N, "the read-off's decoder fields")
    h, xi, u = _pca_gauge(evaluate_fields(fields, Z) / 2.0, np.ones(nd), P)
    C, frac, _ = _kmeans(u, K, rng)
    return LatentMeanField(h, xi, C, frac)


def latent_model_from_vae(vae, train, n_directions, n_atoms=32, *, n_draws=None, **fit_kwargs):
    """Read the latent mean-field model off a VAE, then refine it by exact maximum likelihood on ``train``.

    Parameters
    ----------
    vae : VAE-like
        As in :func:`readoff_latent_model`, trained on +-1 spins.
    train : array_like (n, N)
        +-1 training data (for the aggregate posterior and for the fit).
    n_directions, n_atoms, n_draws : int
        P, K and the read-off's posterior draws.
    **fit_kwargs
        Passed to :func:`fit_latent_model` (``seed`` is the read-off's too).

    Returns
    -------
    model : LatentMeanField
        The refined model.
    info : dict
        :func:`fit_latent_model`'s, plus ``refinement``, what the refinement changed: ``readoff`` (the
        read-off model), ``readoff_log_likelihood`` and ``log_likelihood`` (exact, per bin of ``train``),
        ``principal_angles_deg`` between the read-off and refined direction subspaces and their maximum
        ``max_principal_angle_deg``, ``mean_field_rms_change`` (RMS over sites of the change of the mean
        field vector ``h + Xi^T E[z]``), ``spread_readoff`` and ``spread_refined`` (RMS over sites and atoms
        of ``a_k - E[a]``, gauge-free) and their ``spread_ratio``.
    """
    if "start" in fit_kwargs:
        raise TypeError("latent_model_from_vae starts from the read-off; use fit_latent_model to choose")
    seed = fit_kwargs.get("seed", 0)
    readoff = readoff_latent_model(vae, train, n_directions, n_atoms, n_draws=n_draws, seed=seed)
    model, info = fit_latent_model(train, start=readoff, **fit_kwargs)
    angles = principal_angles(readoff, model)
    change = model.canonical().fields - readoff.canonical().fields
    before, after = _spread(readoff), _spread(model)
    info["refinement"] = dict(
        readoff=readoff, readoff_log_likelihood=info["log_likelihood_per_bin_start"],
        log_likelihood=info["log_likelihood_per_bin"], principal_angles_deg=angles,
        max_principal_angle_deg=float(angles.max()),
        mean_field_rms_change=float(np.sqrt(np.mean(change ** 2))), spread_readoff=before,
        spread_refined=after, spread_ratio=after / max(before, 1e-300))
    return model, info


def principal_angles(model_a, model_b):
    """Principal angles (degrees, ascending) between two latent models' direction subspaces (zero-norm
    directions dropped, :meth:`LatentMeanField.canonical`)."""
    va, vb = model_a.canonical().directions, model_b.canonical().directions
    return np.sort(np.degrees(subspace_angles(va.T, vb.T)))


def _spread(model):
    a = model.field_vectors()
    w = model.weights
    return float(np.sqrt(np.einsum("k,kn->", w, (a - np.einsum("k,kn->n", w, a)) ** 2) / a.shape[1]))
