"""One call for a read-off by kind: what ``fastmf decode`` runs.

:func:`decode_model` picks the read-off of a model family (Curie-Weiss, Hopfield, Maier-Saupe or the
generalized Hopfield model), its latent draws (the prior, or the aggregate posterior over training data), the
Maier-Saupe estimator, and builds the generalized Hopfield effective model. The returned
:class:`DecodeResult` holds the read-off, the summary and the arrays; :meth:`DecodeResult.save` writes them::

    result = decode_model(load_vae("vae.npz"), "hopfield", n_patterns=3)
    result.save("decoded/", model_file="vae.npz")   # decoded.json, patterns.npy

Prior draws come from the VAE's own latent prior (learned or standard, :mod:`fastmf.decode.prior`). A
Curie-Weiss read-off over the aggregate posterior also reports the same read-off over prior draws
(``prior_draws_beta_J``, ``prior_draws_beta_h``): where they disagree, the prior's push-forward does not weight
the basins as the data do.
"""
import dataclasses
import json
import os
import pathlib

import numpy as np

from ..io.samples import SampleSet, atomic_write, json_default, load_samples
from ..kernels.validation import check_int

__all__ = ["KINDS", "DecodeResult", "decode_model"]

#: read-off kinds of :func:`decode_model`
KINDS = ("curie-weiss", "hopfield", "maier-saupe", "generic")
_USES_DATA = ("curie-weiss", "maier-saupe")
_USES_PATTERNS = ("hopfield", "generic")


@dataclasses.dataclass(frozen=True, eq=False)
class DecodeResult:
    """A read-off and what ``fastmf decode`` writes of it (see :func:`decode_model`).

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`.
    seed : int
        Seed of the latent draws.
    latent_dim : int
        Latent dimension of the VAE.
    latent_draws : str
        ``"prior"`` or ``"aggregate posterior over <data>"``.
    readoff : object
        The read-off result (:class:`~fastmf.decode.curie_weiss.CurieWeissReadoff`,
        :class:`~fastmf.decode.readoff.HopfieldReadoff`, :class:`~fastmf.decode.readoff.GenericReadoff` or
        :class:`~fastmf.decode.nematic.NematicReadoff`).
    values : dict
        The kind's entries of ``decoded.json`` (e.g. ``beta_J``, ``beta_h`` for Curie-Weiss).
    arrays : dict
        File name -> array, written as ``.npy`` files (``patterns.npy``, ``fields.npy``).
    effective_model : GeneralizedHopfield or None
        The generalized Hopfield model (kind ``"generic"``), written as ``effective_model.npz``.
    prior_readoff : CurieWeissReadoff or None
        Kind ``"curie-weiss"`` with data: the same read-off over the prior's draws, next to :attr:`readoff` over
        the aggregate posterior (its ``beta_J`` and ``beta_h`` are ``values["prior_draws_beta_J"]`` and
        ``values["prior_draws_beta_h"]``).
    """

    kind: str
    seed: int
    latent_dim: int
    latent_draws: str
    readoff: object
    values: dict
    arrays: dict
    effective_model: object = None
    prior_readoff: object = None

    def summary(self, model_file=None):
        """The content of ``decoded.json``.

        Parameters
        ----------
        model_file : str, optional
            The VAE's file, recorded as ``model_file`` when given.

        Returns
        -------
        dict
            ``kind``, ``model_file`` (when given), ``seed``, ``latent_dim``, ``latent_draws``, then
            :attr:`values`.
        """
        head = {"kind": self.kind}
        if model_file is not None:
            head["model_file"] = str(model_file)
        head.update(seed=self.seed, latent_dim=self.latent_dim, latent_draws=self.latent_draws)
        return {**head, **self.values}

    def save(self, out, model_file=None):
        """Write the arrays, the effective model and ``decoded.json`` into directory ``out`` (created).

        Every file is written atomically; ``decoded.json`` comes last.

        Parameters
        ----------
        out : str or path
            Output directory.
        model_file : str, optional
            The VAE's file, recorded in ``decoded.json``.

        Returns
        -------
        dict
            The summary written to ``decoded.json`` (see :meth:`summary`).
        """
        out = pathlib.Path(out)
        out.mkdir(parents=True, exist_ok=True)
        for name, array in self.arrays.items():
            atomic_write(out / name, lambda fh, a=array: np.save(fh, a))
        if self.effective_model is not None:
            self.effective_model.save(out / "effective_model.npz")
        summary = self.summary(model_file)
        text = json.dumps(summary, indent=2, default=json_default).encode()
        atomic_write(out / "decoded.json", lambda fh: fh.write(text))
        return summary


def _check(vae, kind, n_patterns, data, axes, seed):
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if not (hasattr(vae, "fields") and hasattr(vae, "latent_dim")):
        raise TypeError(f"decode_model needs a VAE (with .fields and .latent_dim), got {type(vae).__name__}")
    try:
        seed = check_int("seed", seed, 0)
        if n_patterns is not None:
            n_patterns = check_int("n_patterns", n_patterns, 1)
    except TypeError as exc:
        raise ValueError(str(exc)) from None
    if n_patterns is not None and kind not in _USES_PATTERNS:
        raise ValueError(f"n_patterns is used by the hopfield and generic read-offs, not by {kind}")
    if data is not None and kind not in _USES_DATA:
        raise ValueError(f"data is used by the curie-weiss and maier-saupe read-offs, not by {kind}")
    if axes is not None and kind != "maier-saupe":
        raise ValueError(f"axes are used by the maier-saupe read-off, not by {kind}")
    if kind == "maier-saupe" and axes is None and getattr(vae, "axes", None) is None:
        raise ValueError("the maier-saupe read-off needs the decoder's axes: a nematic VAE, or axes = a (D, 3) "
                         "array of unit vectors (fastmf decode: --axes FILE.npy)")
    return seed, n_patterns


def _latent_draws(vae, data, seed):
    """``(Z, label)``: aggregate-posterior draws over ``data`` (a sample file, SampleSet or array), or
    ``(None, "prior")``."""
    from .common import posterior_draws

    if data is None:
        return None, "prior"
    if isinstance(data, (str, os.PathLike)):
        spins, label = load_samples(data).spins, f"aggregate posterior over {data}"
    elif isinstance(data, SampleSet):
        spins, label = data.spins, "aggregate posterior over the given samples"
    else:
        spins, label = np.asarray(data), "aggregate posterior over the given data"
    return posterior_draws(vae, spins, seed=seed), label


def _readoff(vae, kind, n_patterns, Z, axes, seed):
    """``(read-off, values, arrays, effective model, prior-draws read-off)`` of one kind."""
    from . import readoff

    if kind == "curie-weiss":
        r = readoff.curie_weiss_readoff(vae, seed=seed, Z=Z)
        values = dict(beta_J=r.beta_J, beta_h=r.beta_h, method=r.method, fit_residual_rms=r.residual_rms)
        prior = None if Z is None else readoff.curie_weiss_readoff(vae, seed=seed)
        if prior is not None:
            values.update(prior_draws_beta_J=prior.beta_J, prior_draws_beta_h=prior.beta_h)
        return r, values, {}, None, prior
    if kind == "hopfield":
        r = readoff.hopfield_readoff(vae, n_patterns, seed=seed)
        values = dict(n_patterns=len(r.patterns), singular_values=r.singular_values[:2 * len(r.patterns) + 2],
                      pattern_residuals=r.residuals, patterns_file="patterns.npy")
        return r, values, {"patterns.npy": r.patterns.astype(np.int8)}, None, None
    if kind == "generic":
        from .effective import GeneralizedHopfield
        r = readoff.generic_readoff(vae, n_patterns, seed=seed)
        model = GeneralizedHopfield.from_readoff(r)
        values = dict(n_significant=r.n_significant, n_patterns=r.n_patterns,
                      singular_values=r.singular_values[:2 * r.n_patterns + 2], patterns_file="patterns.npy",
                      fields_file="fields.npy", effective_model="effective_model.npz")
        return r, values, {"patterns.npy": model.patterns, "fields.npy": model.fields}, model, None
    from .nematic import maier_saupe_readoff
    r = maier_saupe_readoff(vae, vae.axes if axes is None else axes, seed=seed, Z=Z)
    # the projection estimator where its exact law applies (equiangular axes, N <= 200), else the identity
    proj = np.isfinite(r.beta_J_proj)
    values = dict(S=r.S_mean, beta_J=r.beta_J_proj if proj else r.beta_J,
                  beta_J_method="projection" if proj else "identity", beta_J_identity=r.beta_J,
                  beta_J_ml=r.beta_J_ml, beta_J_proj=r.beta_J_proj, beta_J_mf=r.beta_J_mf)
    return r, values, {}, None, None


def decode_model(vae, kind, *, n_patterns=None, data=None, axes=None, seed=0):
    """Read the mean-field parameters of model family ``kind`` off a trained VAE's decoder.

    Parameters
    ----------
    vae : VAE
        A trained VAE (:class:`fastmf.vae.VAE`).
    kind : {"curie-weiss", "hopfield", "maier-saupe", "generic"}
        ``"curie-weiss"``: ``beta J`` and ``beta h`` (:func:`~fastmf.decode.curie_weiss.curie_weiss_readoff`);
        ``"hopfield"``: the ±1 patterns (:func:`~fastmf.decode.readoff.hopfield_readoff`); ``"generic"``: a
        generalized Hopfield model, fields and real patterns (:func:`~fastmf.decode.readoff.generic_readoff`,
        :class:`~fastmf.decode.effective.GeneralizedHopfield`); ``"maier-saupe"``: the nematic order ``S`` and
        ``beta J`` (:func:`~fastmf.decode.nematic.maier_saupe_readoff`), with the projection estimator where
        its exact law applies (equiangular axes, N <= 200) and the integration-by-parts identity otherwise.
    n_patterns : int, optional
        ``"hopfield"`` / ``"generic"``: number of patterns (default: the significant latent directions).
    data : path, SampleSet or array, optional
        ``"curie-weiss"`` / ``"maier-saupe"``: the training data (a sample file, a
        :class:`~fastmf.io.SampleSet` or configurations); the read-off then uses latent draws from the
        aggregate posterior over it instead of the prior, which a trained VAE under-weights in its rarer modes
        (with a standard normal prior, in ordered phases); a Curie-Weiss read-off then also reports its values
        over prior draws (``prior_draws_beta_J``, ``prior_draws_beta_h``; :attr:`DecodeResult.prior_readoff`).
    axes : array (D, 3), optional
        ``"maier-saupe"``: the decoder's unit axes (default: the VAE's own).
    seed : int
        Seed of the latent draws (>= 0).

    Returns
    -------
    DecodeResult
        The read-off, the summary values and the arrays to write (:meth:`DecodeResult.save`).

    Raises
    ------
    ValueError
        For an unknown kind, a bad ``seed`` or ``n_patterns``, an option the kind does not use, or a
        Maier-Saupe read-off without axes.
    """
    seed, n_patterns = _check(vae, kind, n_patterns, data, axes, seed)
    Z, label = _latent_draws(vae, data, seed)
    r, values, arrays, model, prior = _readoff(vae, kind, n_patterns, Z, axes, seed)
    return DecodeResult(kind=kind, seed=seed, latent_dim=vae.latent_dim, latent_draws=label, readoff=r,
                        values=values, arrays=arrays, effective_model=model, prior_readoff=prior)
