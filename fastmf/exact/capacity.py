"""The capacity report: can a factorized-decoder VAE reproduce a data set's correlations?

For a Gaussian encoder ``q(z|x)`` (``encoder(x) -> (mu, logvar)``, x float64 +-1 of shape (n, N), outputs of
shape (n, d)), a factorized decoder (see :mod:`fastmf.exact.decoder`) and data ``p_data``:

* rate ``R = E_x KL(q(z|x) || p(z))`` (:func:`rate`) under the model's latent prior ``p(z)``: ``N(0, I)`` or a
  mixture of diagonal Gaussians (``prior=``, :mod:`fastmf.exact.latent_prior`);
* the encoder's ``I_q(X;Z) = E_x KL(q(z|x) || q(z))``, ``q(z) = sum_x p_data(x) q(z|x)``
  (:func:`encoder_mutual_information`); ``R = I_q + KL(q(z) || p(z)) >= I_q``;
* the model's ``I_model(X;Z) = H_model(X) - E_z H(X|z)``; for every bipartition A|B, x_A <- z -> x_B is a Markov
  chain of the generative model, so ``I_model(A;B) <= I_model(X;Z)`` (data processing).

If the VAE reproduced the data exactly (``p_model = p_data`` and ``q(z|x) = p_model(z|x)``) then
``I_data(A;B) = I_model(A;B) <= I_model(X;Z) = I_q(X;Z) <= R``: a cut with ``R < I_data(A;B)`` proves the trained
model cannot reproduce the data (:func:`capacity_report` lists these cuts). Everything is in nats.

Data are an exact table (1-D log-probabilities, index ``sum_i x_i 2**i``) or +-1 samples of shape (n, N), replaced
by their empirical distribution. Plug-in entropies and MI of an empirical table are biased (MI upward by roughly
``(2**|A| - 1)(2**|B| - 1) / (2 n)`` for weakly dependent blocks); the rate of samples is their exact average.
"""
import json
import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy.special import logsumexp

from ..kernels.validation import check_int, check_real
from . import info
from .decoder import MAX_N, Estimate, log_prob_table
from .latent_prior import DEFAULT_RATE_DRAWS, check_prior, kl_to_prior, prior_label
from .quadrature import (CHUNK, DEFAULT_MAX_WORK, DEFAULT_N_QUAD, LOG_2PI, MAX_N_HERMITE, call_encoder, check_work,
                         quadrature_rule)

__all__ = [
    "CapacityReport",
    "site_ranges",
    "Estimate",
    "capacity_report",
    "data_distribution",
    "empirical_log_prob_table",
    "encoder_mutual_information",
    "half_line_cuts",
    "rate",
]


# ---- data, rate and the encoder's mutual information -----------------------------------------------------

def empirical_log_prob_table(samples):
    """Log of the empirical distribution of +-1 samples (n, N): ``log(count / n)``, -inf where unseen.

    Plug-in entropies / MI of this table are biased: ``H`` low and ``I(A;B)`` high by about
    ``(2**|A| - 1)(2**|B| - 1) / (2 n)`` nats for weakly dependent blocks (Miller-Madow), so keep
    ``n >> 2**N``."""
    s = _check_samples(samples)
    idx = ((s > 0).astype(np.int64) << np.arange(s.shape[1], dtype=np.int64)).sum(axis=1)
    counts = np.bincount(idx, minlength=1 << s.shape[1])
    with np.errstate(divide="ignore"):
        return np.log(counts / len(s))


def _check_samples(samples):
    s = np.asarray(samples)
    if s.ndim != 2 or s.shape[0] < 1 or s.shape[1] < 1:
        raise ValueError(f"samples must have shape (n_samples, N) with n_samples, N >= 1, got {s.shape}")
    if s.dtype.kind not in "iuf":
        raise ValueError(f"samples must be numeric +-1 spins, got dtype {s.dtype}")
    if not np.isin(s, (-1, 1)).all():
        hint = " (looks like 0/1 bits: pass 2 * x - 1)" if np.isin(s, (0, 1)).all() else ""
        raise ValueError(f"samples must contain only -1 and +1{hint}")
    if s.shape[1] > MAX_N:
        raise ValueError(f"samples have N = {s.shape[1]} sites; at most {MAX_N} for exact tables")
    return s.astype(np.int8)


def data_distribution(data):
    """``(log_p, N, samples_or_None)`` for a data set given as a 1-D log-probability table or (n, N) +-1
    samples (then ``log_p`` is the empirical table, see :func:`empirical_log_prob_table`)."""
    a = np.asarray(data)
    if a.ndim == 1:
        lp, N = info.check_log_probs(a, name="data table")
        return info.normalize(lp), N, None
    if a.ndim == 2:
        s = _check_samples(a)
        return empirical_log_prob_table(s), s.shape[1], s
    raise ValueError(f"data must be a 1-D log-probability table or a 2-D (n_samples, N) array of +-1 spins, "
                     f"got shape {a.shape}")


def _support(data):
    """Distinct configurations (float +-1), their log-weights, N, and the samples (or None)."""
    a = np.asarray(data)
    if a.ndim == 2:
        s = _check_samples(a)
        x, counts = np.unique(s, axis=0, return_counts=True)
        return x.astype(np.float64), np.log(counts / len(s)), s.shape[1], s
    log_p, N, _ = data_distribution(a)
    keep = np.flatnonzero(np.isfinite(log_p))
    x = 2.0 * ((keep[:, None] >> np.arange(N, dtype=np.int64)) & 1) - 1.0
    return x, log_p[keep], N, None


def rate(encoder, data, latent_dim=None, prior=None, *, n_quad=None, check=False, n_draws=None, seed=None,
         max_work=DEFAULT_MAX_WORK):
    """Rate ``R = E_x KL(q(z|x) || p(z))`` of a Gaussian encoder ``encoder(x) -> (mu, logvar)``.

    ``prior=None`` (``N(0, I)``): ``KL = 1/2 sum_j (mu_j**2 + exp(logvar_j) - 1 - logvar_j)`` in closed form. A
    mixture prior: ``KL = -H[q] - E_q log p(z)``, the expectation by Gauss-Hermite quadrature centred and scaled on
    each ``q(z|x)`` (latent_dim <= 3 or an explicit n_quad) or by Monte Carlo. For a data table the average over
    x is exact (``stderr``: the Monte Carlo error, else 0); for samples it is the sample mean with its standard
    error (Monte Carlo error included).

    Parameters
    ----------
    encoder : callable
        ``encoder(x) -> (mu, logvar)``, x float64 +-1 (n, N) -> two (n, latent_dim) arrays.
    data : array
        Exact table (1-D log-probabilities) or +-1 samples (n, N).
    latent_dim : int, optional
        Checked against the encoder's output.
    prior : None or (log_weights, means, logvars)
        The latent prior (:func:`~fastmf.exact.latent_prior.check_prior`).
    n_quad : int, optional
        Mixture prior: Gauss-Hermite nodes per dimension (default ``DEFAULT_N_QUAD``).
    check : bool
        Mixture prior, quadrature: also use ``2 n_quad`` nodes, return that value with the change as ``quad_error``.
    n_draws : int, optional
        Mixture prior, Monte Carlo (latent_dim > 3 without n_quad): draws per distinct x (default
        :data:`~fastmf.exact.latent_prior.DEFAULT_RATE_DRAWS`).
    seed : int or numpy.random.Generator, optional
        The only source of randomness (Monte Carlo).
    max_work : int
        Cap on ``distinct x * nodes (or draws) * components``.

    Returns
    -------
    Estimate
    """
    if not callable(encoder):
        raise TypeError(f"encoder must be callable (x -> (mu, logvar)), got {type(encoder).__name__}")
    prior = check_prior(prior, latent_dim)
    x, lw, _, s = _support(data)
    if prior is None:
        if s is not None:
            mu, lv = call_encoder(encoder, s.astype(np.float64), latent_dim)
            kl = 0.5 * np.sum(mu ** 2 + np.exp(lv) - 1.0 - lv, axis=1)
            se = float(np.std(kl, ddof=1) / math.sqrt(len(kl))) if len(kl) > 1 else float("inf")
            return Estimate(float(np.mean(kl)), se)
        mu, lv = call_encoder(encoder, x, latent_dim)
        kl = 0.5 * np.sum(mu ** 2 + np.exp(lv) - 1.0 - lv, axis=1)
        return Estimate(float(np.exp(lw) @ kl))
    mu, lv = call_encoder(encoder, x, latent_dim)  # distinct configurations, weighted by lw
    d = mu.shape[1]
    if prior[1].shape[1] != d:
        raise ValueError(f"prior has latent dimension {prior[1].shape[1]}, the encoder {d}")
    quad = d <= 3 or n_quad is not None
    if quad:
        if n_draws is not None:
            raise ValueError("n_draws is for the Monte Carlo rate (latent_dim > 3 without n_quad)")
        n = DEFAULT_N_QUAD[d] if n_quad is None else check_int("n_quad", n_quad, 1, MAX_N_HERMITE // 2 if check
                                                               else MAX_N_HERMITE)
        kl, var = kl_to_prior(mu, lv, prior, n_quad=n, max_work=max_work)
    else:
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        m = check_int("n_draws", DEFAULT_RATE_DRAWS if n_draws is None else n_draws, 2)
        kl, var = kl_to_prior(mu, lv, prior, n_draws=m, rng=rng, max_work=max_work)
    R = _rate_mean(kl, var, lw, s)
    if quad and check:
        R2 = _rate_mean(kl_to_prior(mu, lv, prior, n_quad=2 * n, max_work=max_work)[0], var, lw, s)
        return Estimate(R2.value, R2.stderr, abs(R2.value - R.value))
    return R


def _rate_mean(kl, var, lw, samples):
    """``E_x kl`` over weights ``exp(lw)``, with its standard error (Monte Carlo ``var`` per x, and for samples
    the sampling error of the mean)."""
    p = np.exp(lw)
    value = float(p @ kl)
    mc = float(p ** 2 @ var)
    if samples is None:
        return Estimate(value, math.sqrt(mc))
    n = len(samples)
    if n < 2:
        return Estimate(value, float("inf"))
    spread = float(p @ (kl - value) ** 2) * n / (n - 1)
    return Estimate(value, math.sqrt(spread / n + mc))


def _encoder_mi_pass(mu, lv, logw, n_quad, max_work):
    """``H(w) + sum_a w_a Q_a[log r(a|z)]``: Gauss-Hermite nodes adapted to each component a of
    ``q(z) = sum_a w_a N(mu_a, exp(lv_a))``; ``r(a|z)`` its posterior (<= 1, so the value is <= H(w))."""
    S, d = mu.shape
    t, lwt = quadrature_rule(d, n_quad)
    M = len(t)
    check_work(S * S * M, max_work, f"encoder I(X;Z) with {S} components and {M} nodes")
    iv = np.exp(-lv)  # (S, d)
    B1 = (mu * iv).T
    c = logw - 0.5 * np.sum(LOG_2PI + lv + mu ** 2 * iv, axis=1)  # (S,)
    total = 0.0
    ac = max(1, CHUNK // (M * S))
    for a0 in range(0, S, ac):
        a1 = min(S, a0 + ac)
        z = (mu[a0:a1, None, :] + np.exp(0.5 * lv[a0:a1, None, :]) * t[None]).reshape(-1, d)
        L = -0.5 * (z ** 2) @ iv.T + z @ B1 + c  # (na*M, S): log w_b N(z; b)
        own = L.reshape(a1 - a0, M, S)[np.arange(a1 - a0), :, np.arange(a0, a1)]  # (na, M)
        log_r = np.minimum(own - logsumexp(L, axis=1).reshape(a1 - a0, M), 0.0)
        total += float(np.exp(logw[a0:a1]) @ (log_r @ np.exp(lwt)))
    return -float(np.exp(logw) @ logw) + total


def encoder_mutual_information(encoder, data, n_quad=None, check=False, latent_dim=None,
                               max_work=DEFAULT_MAX_WORK):
    """The encoder's ``I_q(X;Z) = E_x KL(q(z|x) || q(z))``, ``q(z) = sum_x p_data(x) q(z|x)``.

    Computed as ``H(X) + E_x E_{q(z|x)} log r(x|z)`` (r the posterior of the mixture) with a product
    Gauss-Hermite rule centred and scaled on each component (n_quad per dimension, default
    :data:`DEFAULT_N_QUAD`, latent_dim <= 3 unless n_quad is given): "exact" means to quadrature accuracy;
    ``check`` reports ``|I(n) - I(2n)|`` as ``quad_error``. Samples are replaced by their empirical distribution.
    Always ``0 <= I_q <= min(H_data(X), R)`` (``R = I_q + KL(q(z) || p(z))``); the computed value obeys
    ``I_q <= H_data`` exactly. Cost ``O(S**2 n_quad**d)`` for S distinct configurations.
    """
    if not callable(encoder):
        raise TypeError(f"encoder must be callable (x -> (mu, logvar)), got {type(encoder).__name__}")
    x, lw, _, _ = _support(data)
    mu, lv = call_encoder(encoder, x, latent_dim)
    d = mu.shape[1]
    if n_quad is None and d not in DEFAULT_N_QUAD:
        raise ValueError(f"encoder I(X;Z) by quadrature with latent_dim = {d} > 3 needs an explicit n_quad")
    n = check_int("n_quad", DEFAULT_N_QUAD[d] if n_quad is None else n_quad, 1, MAX_N_HERMITE)
    val = _encoder_mi_pass(mu, lv, lw, n, max_work)
    if not check:
        return Estimate(max(val, 0.0))
    val2 = _encoder_mi_pass(mu, lv, lw, 2 * n, max_work)
    return Estimate(max(val2, 0.0), 0.0, abs(val2 - val))


# ---- the report ------------------------------------------------------------------------------------------

def half_line_cuts(N):
    """The default cuts: ``A = (0, ..., k-1)`` for ``k = 1 .. N-1`` (B is the complement)."""
    N = check_int("N", N, 2)
    return tuple(tuple(range(k)) for k in range(1, N))


def _check_cuts(cuts, N):
    if cuts is None:
        if N < 2:
            raise ValueError("the capacity report needs N >= 2 sites (a cut splits them in two)")
        return half_line_cuts(N)
    if isinstance(cuts, (str, bytes)) or not hasattr(cuts, "__iter__"):
        raise ValueError(f"cuts must be a list of site lists (the A side of each cut), got {cuts!r}")
    out = []
    for c in cuts:
        if isinstance(c, (str, bytes)) or not hasattr(c, "__iter__"):
            raise ValueError(f"each cut must be a list of site indices (the A side), got {c!r}")
        a = info.check_subset(c, N, name="cut")
        if a.size == 0 or a.size == N:
            raise ValueError(f"a cut must leave both sides non-empty, got A = {a.tolist()} with N = {N}")
        out.append(tuple(int(i) for i in a))
    if not out:
        raise ValueError("cuts is empty")
    return tuple(out)


def site_ranges(sites):
    """``(0, 1, 2, 5)`` -> ``"0-2,5"``."""
    parts, start = [], None
    for i, v in enumerate(sites):
        if start is None:
            start = v
        if i + 1 == len(sites) or sites[i + 1] != v + 1:
            parts.append(str(start) if start == v else f"{start}-{v}")
            start = None
    return ",".join(parts)


def _fmt(x, w=12):
    return f"{'n/a':>{w}}" if x is None else f"{x:>{w}.6f}"


@dataclass(frozen=True, eq=False)
class CapacityReport:
    """Data versus model information, cut by cut (from :func:`capacity_report`; all values in nats).

    Attributes
    ----------
    N, latent_dim : int
    n_data_samples : int or None
        Number of data samples (None for an exact data table).
    method : str
        How the model table was computed ("quadrature" or "importance").
    cuts : tuple of tuple of int
        The A side of each cut (sorted sites); B is the complement.
    mi_data, mi_model : tuple of float
        ``I_data(A;B)`` and ``I_model(A;B)`` per cut.
    rate, rate_stderr : float
        ``R = E_x KL(q(z|x) || p(z))`` and its standard error (0 for an exact data table).
    mi_xz_model : float or None
        Generative ``I_model(X;Z) = H_model(X) - E_z H(X|z)`` (None without quadrature, latent_dim > 3).
    mi_xz_encoder : float or None
        Encoder ``I_q(X;Z) = E_x KL(q(z|x) || q(z))`` under the data (None without quadrature).
    entropy_data, entropy_model, kl_data_model : float
        ``H_data``, ``H_model`` and ``KL(p_data || p_model)``.
    quad_error : float or None
        ``max_x |log p_model|`` change from ``n_quad`` to ``2 n_quad`` (None when not checked).
    quad_error_mi : float or None
        Largest of the ``n_quad`` vs ``2 n_quad`` changes of ``I_model(X;Z)``, ``I_q(X;Z)`` and (mixture prior) R.
    dpi_holds : tuple of bool or None
        Per cut, ``I_model(A;B) <= I_model(X;Z) + tol`` (data processing in the generative model; exact for the
        quadrature model, so ``tol`` only absorbs rounding).
    rate_bound_holds : bool or None
        ``I_q(X;Z) <= R + tol + quad_error_mi`` (``R - I_q = KL(q(z) || p(z)) >= 0``).
    chain_holds : bool or None
        Both of the above for every cut: the chain ``I_model(A;B) <= I_model(X;Z)`` and ``I_q(X;Z) <= R``.
        (``I_model(X;Z) <= R`` is not a theorem; it holds when the ELBO is tight: compare the two I(X;Z).)
    flagged_cuts : tuple of tuple of int
        Cuts with ``R < I_data(A;B) - tol``: the model cannot reproduce the data's correlations across them.
    tol : float
    prior : str
        The latent prior of the model table and the rate
        (:func:`~fastmf.exact.latent_prior.prior_label`).
    """
    N: int
    latent_dim: int
    n_data_samples: int | None
    method: str
    cuts: tuple
    mi_data: tuple
    mi_model: tuple
    rate: float
    rate_stderr: float
    mi_xz_model: float | None
    mi_xz_encoder: float | None
    entropy_data: float
    entropy_model: float
    kl_data_model: float
    quad_error: float | None
    quad_error_mi: float | None
    dpi_holds: tuple | None
    rate_bound_holds: bool | None
    chain_holds: bool | None
    flagged_cuts: tuple
    tol: float
    prior: str = "N(0, I)"

    @property
    def can_reproduce(self):
        """True when no cut is flagged (a necessary condition only)."""
        return not self.flagged_cuts

    def table(self):
        """A fixed-width text table, one row per cut, with a summary header."""
        data = "exact table" if self.n_data_samples is None else f"{self.n_data_samples} samples (plug-in)"
        qe = "" if self.quad_error is None else f", quadrature change: log p {self.quad_error:.2g}"
        qe += "" if self.quad_error_mi is None else f", I(X;Z) {self.quad_error_mi:.2g}"
        se = f" +- {self.rate_stderr:.2g}" if self.rate_stderr else ""
        yes = {True: "holds", False: "VIOLATED", None: "n/a"}
        dpi = None if self.dpi_holds is None else all(self.dpi_holds)
        lines = [
            (f"Capacity report: N = {self.N}, latent_dim = {self.latent_dim}, prior: {self.prior}, data: {data}, "
             f"model: {self.method}{qe}"),
            (f"  H_data = {self.entropy_data:.6f}  H_model = {self.entropy_model:.6f}  "
             f"KL(data||model) = {self.kl_data_model:.6g}"),
            (f"  R = {self.rate:.6f}{se}  I_model(X;Z) = {_fmt(self.mi_xz_model, 0).strip()}  "
             f"I_q(X;Z) = {_fmt(self.mi_xz_encoder, 0).strip()}"),
            (f"  I_model(A;B) <= I_model(X;Z): {yes[dpi]};  I_q(X;Z) <= R: {yes[self.rate_bound_holds]}  "
             f"(tol {self.tol:g})"),
            f"  {'cut A|B':<24}{'|A|':>4}{'I_data(A;B)':>13}{'I_model(A;B)':>13}{'R':>11}  flag"]
        flagged = set(self.flagged_cuts)
        allsites = tuple(range(self.N))
        for k, a in enumerate(self.cuts):
            b = tuple(i for i in allsites if i not in a)
            label = f"{site_ranges(a)}|{site_ranges(b)}"
            label = label if len(label) <= 23 else label[:20] + "..."
            flag = "R < I_data" if a in flagged else ""
            if self.dpi_holds is not None and not self.dpi_holds[k]:
                flag += " DPI violated"
            lines.append(f"  {label:<24}{len(a):>4}{_fmt(self.mi_data[k], 13)}{_fmt(self.mi_model[k], 13)}"
                         f"{_fmt(self.rate, 11)}  {flag.strip()}")
        lines.append(f"  {len(self.flagged_cuts)} of {len(self.cuts)} cuts flagged"
                     + (": the model cannot reproduce the data" if self.flagged_cuts else ""))
        return "\n".join(line.rstrip() for line in lines)

    def __str__(self):
        return self.table()

    def to_dict(self):
        """Plain JSON-ready dict (tuples as lists; non-finite floats as None)."""
        def clean(v):
            if isinstance(v, (tuple, list)):
                return [clean(u) for u in v]
            if isinstance(v, (bool, np.bool_)):
                return bool(v)
            if isinstance(v, (float, np.floating)):
                return float(v) if math.isfinite(v) else None
            if isinstance(v, np.integer):
                return int(v)
            return v
        return {k: clean(v) for k, v in asdict(self).items()}

    def to_json(self, **kwargs):
        """``json.dumps(self.to_dict(), **kwargs)``."""
        return json.dumps(self.to_dict(), **kwargs)


def capacity_report(data, decoder, latent_dim, encoder, cuts=None, *, n_quad=None, check=True, tol=1e-6,
                    rule="hermite", n_quad_encoder=None, n_samples=None, seed=None, max_work=DEFAULT_MAX_WORK,
                    prior=None, encoder_mi=True):
    """Compare a data set's cut mutual informations with a trained factorized VAE's capacity.

    Parameters
    ----------
    data : array
        Exact table (1-D, ``2**N`` log-probabilities) or samples (n, N) of +-1 spins (empirical distribution).
    decoder : callable
        ``decoder(z) -> logits``, (n, latent_dim) -> (n, N).
    latent_dim : int
    encoder : callable
        ``encoder(x) -> (mu, logvar)``, x float64 +-1 (n, N) -> two (n, latent_dim) arrays.
    cuts : list of site lists, optional
        The A side of each cut; default :func:`half_line_cuts`.
    n_quad : int, optional
        Quadrature nodes per dimension for the model table and ``I_model(X;Z)`` (default
        :data:`~fastmf.exact.decoder.DEFAULT_N_QUAD`; needed for quadrature when latent_dim > 3).
    check : bool
        Also evaluate ``2 n_quad`` nodes (the finer values are reported, the changes as quad errors).
    rule : {"hermite", "trapezoid"}
        Quadrature rule of the model table (:func:`~fastmf.exact.decoder.quadrature_rule`); ``I_q(X;Z)`` always
        uses Gauss-Hermite nodes adapted to each encoder Gaussian.
    n_quad_encoder : int, optional
        Gauss-Hermite nodes per dimension for ``I_q(X;Z)`` and, with a mixture prior, for the rate (default
        ``DEFAULT_N_QUAD``; n_quad when latent_dim > 3).
    tol : float
        Tolerance (nats) of the inequality checks and of the flag ``R < I_data(A;B) - tol``.
    n_samples, seed :
        Importance sampling of the model table when latent_dim > 3 and n_quad is None (then the I(X;Z) and
        chain fields are None, and the rate against a mixture prior is a Monte Carlo estimate from the same seed).
    max_work : int
        Work cap passed to the computations (see :func:`~fastmf.exact.decoder.log_prob_table`).
    prior : None or (log_weights, means, logvars)
        The model's latent prior: None for ``N(0, I)``, or a mixture of diagonal Gaussians (a VAE's
        ``vae.prior_mixture()``; :func:`~fastmf.exact.latent_prior.check_prior`). The model table and the rate
        follow it; ``I_q(X;Z)`` does not depend on it. The report's ``prior`` field names it.
    encoder_mi : bool
        False skips ``I_q(X;Z)`` (its cost ``O(S**2 n_quad**d)`` for S distinct configurations rules out a full
        table of N = 16): ``mi_xz_encoder``, ``rate_bound_holds`` and ``chain_holds`` are then None.

    Returns
    -------
    CapacityReport
    """
    data_log_p, N, samples = data_distribution(data)
    d = check_int("latent_dim", latent_dim, 1)
    tol = check_real("tol", tol, nonnegative=True)
    cuts = _check_cuts(cuts, N)
    prior = check_prior(prior, d)
    if not callable(encoder):
        raise TypeError(f"encoder must be callable (x -> (mu, logvar)), got {type(encoder).__name__}")
    quad = d <= 3 or n_quad is not None
    nq_enc = n_quad_encoder if n_quad_encoder is not None or d <= 3 else n_quad
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if quad:
        model = log_prob_table(decoder, N, d, method="quadrature", n_quad=n_quad, check=check, rule=rule,
                               max_work=max_work, prior=prior)
        R = rate(encoder, data, latent_dim=d, prior=prior, n_quad=nq_enc, check=check and prior is not None,
                 max_work=max_work)
    else:
        model = log_prob_table(decoder, N, d, method="importance", n_samples=n_samples, seed=rng,
                               max_work=max_work, prior=prior)
        R = rate(encoder, data, latent_dim=d, prior=prior, seed=rng, max_work=max_work)
    with np.errstate(invalid="ignore", divide="ignore"):  # -inf entries of an empirical table
        mi_data = tuple(info.mutual_information(data_log_p, a) for a in cuts)
        h_data = info.entropy(data_log_p)
    mi_model = tuple(model.mutual_information(a) for a in cuts)
    mi_xz = iq = dpi = bound = chain = qmi = None
    if quad:
        mi_xz = model.mutual_information_xz()
        if encoder_mi:
            iq = encoder_mutual_information(encoder, data, n_quad=nq_enc, check=check, latent_dim=d,
                                            max_work=max_work)
            bound = bool(iq.value <= R.value + tol + (iq.quad_error or 0.0) + (R.quad_error or 0.0))
        errs = [e for e in (mi_xz.quad_error, iq and iq.quad_error, R.quad_error) if e is not None]
        qmi = max(errs) if errs else None
        dpi = tuple(bool(m <= mi_xz.value + tol) for m in mi_model)
        chain = None if bound is None else all(dpi) and bound
    flagged = tuple(a for a, m in zip(cuts, mi_data) if R.value < m - tol)
    return CapacityReport(
        N=N, latent_dim=d, n_data_samples=None if samples is None else len(samples), method=model.method,
        cuts=cuts, mi_data=mi_data, mi_model=mi_model, rate=R.value, rate_stderr=R.stderr,
        mi_xz_model=None if mi_xz is None else mi_xz.value, mi_xz_encoder=None if iq is None else iq.value,
        entropy_data=h_data, entropy_model=model.entropy(),
        kl_data_model=info.kl_divergence(data_log_p, model.log_p), quad_error=model.quad_error,
        quad_error_mi=qmi, dpi_holds=dpi, rate_bound_holds=bound, chain_holds=chain, flagged_cuts=flagged,
        tol=tol, prior=prior_label(prior))
