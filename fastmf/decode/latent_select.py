"""Choose the size of a latent mean-field model by held-out likelihood: the number of latent directions P
(:func:`select_n_directions`), then the number of atoms of the latent density K (:func:`select_n_atoms`, each
larger K started from the smaller fit with its atoms split). Both use the same rule, the smallest size whose
validation log-likelihood is within one paired batch-means standard error of the best; ``docs/latent_fit.rst``
has the reasons and the measurements.
"""
import numpy as np

from ..kernels.validation import check_int, check_real
from .common import as_generator
from .latent_fit import fit_latent_model, latent_model_from_vae, spike_matrix
from .latent_model import LatentMeanField

__all__ = ["select_n_atoms", "select_n_directions", "split_atoms"]

_ROWS = 65_536  # validation bins per block of the log-probabilities


def _validation(model, xv, edges):
    """Validation log-likelihood per bin, and its means over the contiguous blocks ``edges``."""
    lp = np.concatenate([model.log_prob(np.where(xv[a:a + _ROWS], 1.0, -1.0)) for a in range(0, len(xv), _ROWS)])
    return float(lp.mean()), np.add.reduceat(lp, edges[:-1]) / np.diff(edges)


def _blocks(valid, N, n_blocks):
    xv = spike_matrix(valid, "valid", N)
    B = check_int("n_blocks", n_blocks, 2)
    if B > len(xv):
        raise ValueError(f"valid has {len(xv)} bins, fewer than its n_blocks = {B} contiguous blocks (the "
                         f"validation error bars): give at least {B} validation bins or fewer blocks")
    return xv, B, np.linspace(0, len(xv), B + 1).round().astype(np.int64)


def _one_se_rule(val, B):
    """Fill ``diff_to_best`` and the paired ``diff_se`` of every candidate; return (chosen, best): the smallest
    candidate within one paired standard error of the best validation log-likelihood, and the arg-max."""
    best = max(val, key=lambda k: val[k]["log_likelihood"])
    for v in val.values():
        v["diff_to_best"] = v["log_likelihood"] - val[best]["log_likelihood"]
        v["diff_se"] = float(np.std(v["block_means"] - val[best]["block_means"], ddof=1) / np.sqrt(B))
    slack = 1e-9 * max(1.0, abs(val[best]["log_likelihood"]))  # fits equal up to rounding are ties
    return min(k for k, v in val.items() if v["diff_to_best"] >= -v["diff_se"] - slack), best


def _record(fit, xv, edges, B):
    ll, bm = _validation(fit[0], xv, edges)
    return dict(log_likelihood=ll, se=float(np.std(bm, ddof=1) / np.sqrt(B)),
                train_log_likelihood=fit[1]["log_likelihood_per_bin"], block_means=bm)


def select_n_directions(train, valid, max_directions=6, *, vae=None, n_atoms=32, seed=0, n_blocks=20,
                        n_draws=None, **fit_kwargs):
    """Fit P = 1..max_directions latent directions and choose P by held-out log-likelihood.

    Each P is fitted by :func:`~fastmf.decode.latent_fit.latent_model_from_vae` (read off the VAE, then refined)
    when ``vae`` is given, else by :func:`~fastmf.decode.latent_fit.fit_latent_model` from the data-driven start.
    The validation log-likelihood per bin gets a standard error from batch means over ``n_blocks`` contiguous
    blocks of ``valid`` (neighbouring time bins are correlated). The chosen P is the smallest whose validation
    log-likelihood is within one standard error of the best's, that of the *paired* difference (same blocks:
    the bin-to-bin variation common to all P cancels, which the unpaired errors would keep, calling nearly
    every P a tie). A larger P is taken only when the data resolve its gain; ``best`` is the plain argmax.

    Parameters
    ----------
    train, valid : array_like (n, N), (n_valid, N)
        +-1 data.
    max_directions, n_atoms : int
    vae : VAE-like, optional
    seed : int
        The same for every P.
    n_blocks : int
        Contiguous validation blocks (2 <= n_blocks <= n_valid).
    n_draws, **fit_kwargs
        The read-off's posterior draws; passed to :func:`~fastmf.decode.latent_fit.fit_latent_model`.

    Returns
    -------
    dict
        ``chosen`` (P), ``best`` (the argmax), ``rule`` (words), ``fits`` (``{P: (model, info)}``, every fit,
        e.g. the P = 2 one) and ``validation`` (``{P: dict}`` with ``log_likelihood`` (per bin), ``se``,
        ``diff_to_best`` and its paired ``diff_se``, ``train_log_likelihood``, ``block_means``).
    """
    N = np.shape(train)[-1] if np.ndim(train) == 2 else None
    xv, B, edges = _blocks(valid, N, n_blocks)
    Pmax = check_int("max_directions", max_directions, 1, xv.shape[1])
    fits, val = {}, {}
    for P in range(1, Pmax + 1):
        fits[P] = (fit_latent_model(train, P, n_atoms, seed=seed, **fit_kwargs) if vae is None else
                   latent_model_from_vae(vae, train, P, n_atoms, n_draws=n_draws, seed=seed, **fit_kwargs))
        val[P] = _record(fits[P], xv, edges, B)
    chosen, best = _one_se_rule(val, B)
    return dict(chosen=chosen, best=best,
                rule="the smallest P within one paired standard error of the best validation log-likelihood",
                fits=fits, validation=val)


def split_atoms(model, seed=0, scale=0.05):
    """The same model with every atom split in two: copies at ``z_k +- d_k`` with half the weight each, ``d_k``
    a seeded random direction of length ``scale`` times the latent density's RMS spread (its log-likelihood
    changes by O(scale^2); the fit that follows separates the copies where the data ask for it)."""
    if not isinstance(model, LatentMeanField):
        raise TypeError(f"model must be a LatentMeanField, got {type(model).__name__}")
    scale = check_real("scale", scale, positive=True)
    z, w = model.atoms, model.weights
    rng = as_generator(seed)
    spread = np.sqrt(np.sum(w[:, None] * (z - w @ z) ** 2) / max(model.P, 1))
    d = rng.standard_normal(z.shape)
    d *= scale * max(spread, 1e-12) / np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-300)
    return LatentMeanField(model.fields, model.directions, np.concatenate([z + d, z - d]),
                           np.concatenate([w, w]) / 2)


def select_n_atoms(train, valid, start, max_atoms=256, *, seed=0, n_blocks=20, **fit_kwargs):
    """Choose the number of atoms K of the latent density by held-out log-likelihood.

    From the fitted ``start`` (K0 atoms), K is doubled (:func:`split_atoms`, then
    :func:`~fastmf.decode.latent_fit.fit_latent_model` on ``train``) while it stays at most ``max_atoms`` and
    the doubled fit's validation log-likelihood beats the best so far by more than one paired standard error
    (a gain the data resolve); the chosen K is the smallest within one paired standard error of the best fitted.
    A finite mixture with too few atoms puts lumps into the distribution of the number of spikes where a broad
    latent density has no atom: on salamander160 (N = 160, P = 6) going from 32 to 256 atoms raised the held-out
    log-likelihood by 0.5 nats per bin and brought P(K) from max abs z 4.4-5.0 to 3.0.

    Parameters
    ----------
    train, valid : array_like (n, N), (n_valid, N)
        +-1 data.
    start : LatentMeanField
        A fit on ``train`` (e.g. :func:`select_n_directions`'s chosen one).
    max_atoms : int
        The largest K tried (>= start.n_atoms).
    seed : int
        Seed of the splits and the fits.
    n_blocks : int
        Contiguous validation blocks.
    **fit_kwargs
        Passed to :func:`~fastmf.decode.latent_fit.fit_latent_model`.

    Returns
    -------
    dict
        ``chosen`` (K), ``best`` (the arg-max among the fitted K), ``rule``, ``fits`` (``{K: (model, info)}``;
        the start's info is None) and ``validation`` (``{K: dict}`` as in :func:`select_n_directions`).
    """
    if not isinstance(start, LatentMeanField):
        raise TypeError(f"start must be a LatentMeanField, got {type(start).__name__}")
    N = start.N
    xv, B, edges = _blocks(valid, N, n_blocks)
    Kmax = check_int("max_atoms", max_atoms, start.n_atoms)
    K = start.n_atoms
    fits = {K: (start, None)}
    ll, bm = _validation(start, xv, edges)
    val = {K: dict(log_likelihood=ll, se=float(np.std(bm, ddof=1) / np.sqrt(B)), train_log_likelihood=None,
                   block_means=bm)}
    best = K
    while 2 * K <= Kmax:
        K *= 2
        fits[K] = fit_latent_model(train, start=split_atoms(fits[K // 2][0], seed=[seed, K]), seed=seed, **fit_kwargs)
        val[K] = _record(fits[K], xv, edges, B)
        gain = val[K]["block_means"] - val[best]["block_means"]
        if gain.mean() <= np.std(gain, ddof=1) / np.sqrt(B):   # not resolved: stop doubling
            break
        best = K
    chosen, best = _one_se_rule(val, B)
    return dict(chosen=chosen, best=best,
                rule="atoms doubled while the gain exceeds one paired standard error; the smallest K within one "
                     "paired standard error of the best validation log-likelihood",
                fits=fits, validation=val)
