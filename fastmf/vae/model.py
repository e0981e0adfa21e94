"""The lean VAE: scikit-learn-style estimator around the pure functions of :mod:`.nets`.

``VAE(latent_dim=2).fit(spins)`` returns the fitted estimator; learned attributes end with ``_``
(``params_``, ``history_``, ``input_shape_``, ...). All randomness comes from ``seed``: one
``np.random.Generator`` draws the validation split, the minibatch order and the reparameterisation noise, and
its state is saved in checkpoints, so an interrupted ``fit(..., checkpoint=FILE)`` resumes bit for bit.
"""
import json
import math
import os
import sys

import numpy as np
from autograd import value_and_grad

from .. import __version__
from ..kernels.validation import check_int, check_real
from ..io.samples import atomic_savez, json_default
from . import data as _data
from . import files as _files
from . import bounds as _bounds
from . import nets
from . import priors as _priors
from . import sizes as _sizes
from . import step as _step
from .optim import OPTIMIZERS

__all__ = ["VAE", "TRAIN_DEFAULTS", "load_vae"]

#: ``fastmf train``'s defaults where they differ from ``VAE()``'s, measured in docs/priors.rst: the mean-field
#: decoder (logits affine in z, the form of the Hubbard-Stratonovich decoder of a mean-field model) and 100 epochs.
#: Used by the command line and by the experiments that say they train with fastmf train's defaults.
TRAIN_DEFAULTS = {"mean_field": True, "epochs": 100}

#: The settings saved with a model and compared when a training checkpoint is resumed.
HYPER = ("latent_dim", "hidden", "decoder_hidden", "decoder", "encoder", "conv_channels", "beta", "n_states",
          "axes", "dtype", "optimizer", "lr", "batch_size", "epochs", "validation_fraction", "patience",
          "kl_warmup", "seed", "prior", "n_components", "lr_schedule")


def _positive_ints(name, value):
    if value is not None and (isinstance(value, (str, bytes)) or not hasattr(value, "__iter__")):
        raise ValueError(f"{name} must be a sequence of positive integers, got {value!r}")
    vals = tuple(value) if value is not None else ()
    if not all(isinstance(v, (int, np.integer)) and v >= 1 for v in vals):
        raise ValueError(f"{name} must be a sequence of positive integers, got {value!r}")
    return tuple(int(v) for v in vals)


class VAE:
    """Variational autoencoder with a conditionally independent (mean-field) decoder.

    Parameters
    ----------
    latent_dim : int
        Dimension of z (>= 1).
    hidden : sequence of int
        Encoder hidden layer widths (tanh); the decoder mirrors them unless ``decoder_hidden`` is given. ``()``
        (a linear encoder) only together with ``mean_field=True`` or an explicit ``decoder_hidden``: alone it
        would silently drop every hidden layer of both networks.
    decoder : {"bernoulli", "beta2", "categorical", "nematic", "gaussian"}
        Likelihood of the data given z (see :mod:`.nets`): ±1 spins, ±1 spins with per-site inverse
        temperatures (beta^2-VAE), q-state data (uint8 states), orientations over a fixed set of ``axes``,
        real data.
    decoder_hidden : sequence of int, optional
        Decoder hidden widths; ``()`` gives the mean-field decoder (outputs affine in z).
    mean_field : bool
        Shorthand for ``decoder_hidden=()``.
    encoder : {"mlp", "conv"}
        ``conv``: periodic convolutional layers (``conv_channels``) before the dense layers, for lattice data
        of shape (n, L, M).
    beta : float
        Weight of the rate (KL) term: the beta-VAE objective ``distortion + beta * rate``.
    n_states : int, optional
        q for categorical data (default: the largest state in the data + 1).
    axes : array (D, 3), optional
        Unit axes of the nematic decoder (data: axis indices, or unit vectors assigned to the nearest axis).
    dtype : {"float64", "float32"}
    optimizer : {"adam", "sgd"}
    lr, batch_size, epochs : training settings (``epochs >= 1``).
    lr_schedule : {"cosine", "constant"}
        ``cosine``: the step size of epoch e is ``lr (1 + cos(pi e / epochs)) / 2``, falling to ~0 at the end (the
        last epochs average out the minibatch noise: the measured C_ij error of generated Hopfield samples halved,
        ``docs/priors.rst``); ``constant``: ``lr`` throughout.
    validation_fraction : float
        Held-out fraction for early stopping and the validation curves (0 for none).
    patience : int, optional
        Stop after this many epochs without a better validation loss (and keep the best parameters).
    kl_warmup : int
        Epochs over which the KL weight rises linearly from 0 to beta.
    prior : {"mog", "vamp", "normal"}
        The latent prior p(z) (:mod:`.priors`): a learned mixture of diagonal Gaussians (default), the VampPrior
        (a mixture of the encoder's posteriors at learned pseudo-inputs) or the standard normal. A learned prior
        follows the aggregate posterior, so generated samples do not fall into the "holes" that a standard normal
        leaves between the modes of a multimodal latent density (``docs/priors.rst``).
    n_components : int, optional
        Components of a learned prior (default :data:`fastmf.vae.priors.DEFAULT_COMPONENTS`); 1 for ``normal``.
    seed : int
    progress : bool, optional
        Progress bar with the live rate and distortion (default: on a terminal).

    Raises
    ------
    fastmf.io.ResourceLimitError
        When the parameters alone (with the optimizer's copies) would not fit in memory
        (:mod:`fastmf.vae.sizes`; ``fit`` and ``sample`` check the full size for the data before allocating).
    """

    def __init__(self, latent_dim=2, hidden=(256,), decoder="bernoulli", decoder_hidden=None, mean_field=False,
                 encoder="mlp", conv_channels=(16, 32), beta=1.0, n_states=None, axes=None, dtype="float64",
                 optimizer="adam", lr=2e-3, batch_size=128, epochs=50, validation_fraction=0.1, patience=None,
                 kl_warmup=0, seed=0, progress=None, prior="mog", n_components=None, lr_schedule="cosine"):
        self.latent_dim = check_int("latent_dim", latent_dim, 1)
        self.hidden = _positive_ints("hidden", hidden)
        if not self.hidden and not mean_field and decoder_hidden is None:
            raise ValueError("hidden=() leaves the encoder and the (mirrored) decoder without any hidden layer; give "
                             "at least one hidden width, or mean_field=True for a linear encoder with the "
                             "mean-field decoder")
        if decoder not in nets.DECODERS:
            raise ValueError(f"decoder must be one of {', '.join(nets.DECODERS)}, got {decoder!r}")
        self.decoder = decoder
        self.decoder_hidden = () if mean_field else (
            tuple(reversed(self.hidden)) if decoder_hidden is None else _positive_ints("decoder_hidden",
                                                                                      decoder_hidden))
        if encoder not in ("mlp", "conv"):
            raise ValueError(f"encoder must be 'mlp' or 'conv', got {encoder!r}")
        self.encoder = encoder
        self.conv_channels = _positive_ints("conv_channels", conv_channels)
        self.beta = check_real("beta", beta, nonnegative=True)
        self.n_states = None if n_states is None else check_int("n_states", n_states, 2, 255)
        self.axes = None if axes is None else _data.check_axes(axes)
        if decoder == "nematic" and self.axes is None:
            raise ValueError("the nematic decoder needs axes, an array (D, 3) of unit vectors")
        if str(dtype) not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
        self.dtype = str(dtype)
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {optimizer!r}")
        self.optimizer = optimizer
        self.lr = check_real("lr", lr, positive=True)
        if lr_schedule not in ("cosine", "constant"):
            raise ValueError(f"lr_schedule must be 'cosine' or 'constant', got {lr_schedule!r}")
        self.lr_schedule = lr_schedule
        self.batch_size = check_int("batch_size", batch_size, 1)
        self.epochs = check_int("epochs", epochs, 1)
        self.validation_fraction = check_real("validation_fraction", validation_fraction, nonnegative=True)
        if self.validation_fraction >= 1:
            raise ValueError(f"validation_fraction must be in [0, 1), got {validation_fraction}")
        self.patience = None if patience is None else check_int("patience", patience, 1)
        self.kl_warmup = check_int("kl_warmup", kl_warmup, 0)
        self.seed = check_int("seed", seed, 0)
        if prior not in _priors.PRIORS:
            raise ValueError(f"prior must be one of {', '.join(_priors.PRIORS)}, got {prior!r}")
        self.prior = prior
        self.n_components = (_priors.DEFAULT_COMPONENTS[prior] if n_components is None
                             else check_int("n_components", n_components, 1))
        if prior == "normal" and self.n_components != 1:
            raise ValueError(f"the normal prior has one component, got n_components={n_components}")
        self.progress = progress
        _sizes.check_settings(self)

    # ------------------------------------------------------------------------------------------ helpers
    def _hyper(self):
        d = {k: getattr(self, k) for k in HYPER}
        d["axes"] = None if self.axes is None else self.axes.tolist()
        return d

    def _trunk(self):
        """The convolutional layers as ``trunk(params, x)`` (conv encoder), else None."""
        if self.encoder != "conv":
            return None
        from .conv import conv_apply
        shape, n = self.input_shape_, len(self.conv_channels)

        def trunk(params, x):
            layers = [{"W": params[f"conv{k}.W"], "b": params[f"conv{k}.b"]} for k in range(n)]
            return conv_apply(layers, x, shape)
        return trunk

    def _set_theta(self, theta, layout):
        """All parameters as one flat vector ``theta_``; ``params_`` holds named views of it."""
        self.layout_ = layout
        self.theta_ = theta
        self.params_ = layout.views(theta)

    def _check_fitted(self):
        if not hasattr(self, "theta_"):
            raise RuntimeError("this VAE is not fitted yet: call fit(data) or load a saved model")

    def _prepare(self, X, fitting=False, floats=True):
        return _data.prepare(self, X, fitting, floats)

    def _loss_and_grad(self, x_in, x, eps, beta, report):
        return value_and_grad(nets.loss)(self.theta_, self.layout_, x_in, x, eps, beta, self.decoder, self.n_sites_,
                                         self._trunk(), report, self.prior)

    # ------------------------------------------------------------------------------------------ training
    def fit(self, X, checkpoint=None):
        """Train on data X (n, N) or lattice data (n, L, M); returns self.

        ``checkpoint``: a ``.npz`` path written atomically after every epoch; if it exists when ``fit`` starts
        (same data and settings), training resumes from it and ends exactly as an uninterrupted run would.
        A non-finite loss, gradient, parameter or validation loss stops training with ``FloatingPointError``;
        the parameters (and the checkpoint) stay those of the last completed epoch.
        """
        fused = _step.fuses(self)  # its step gathers float batches from the int8 spins: no float copy of the data
        x_in, x = self._prepare(X, fitting=True, floats=not fused)
        n = len(x_in)
        rng = np.random.default_rng(self.seed)
        perm = rng.permutation(n)
        n_val = int(round(self.validation_fraction * n)) if n >= 10 else 0
        val, train = perm[:n_val], perm[n_val:]
        dtype = np.dtype(self.dtype)
        trunk_params = None
        if self.encoder == "conv":
            from .conv import conv_init
            layers, n_in = conv_init(rng, self.input_shape_, self.conv_channels, dtype=dtype)
            trunk_params = {f"conv{k}.{name}": layer[name] for k, layer in enumerate(layers) for name in ("W", "b")}
        else:
            n_in = x_in.shape[1]
        params = nets.init_params(rng, n_in, self.n_sites_, self.n_states_ if self.decoder in
                                  ("categorical", "nematic") else 1, self.latent_dim, self.hidden,
                                  self.decoder_hidden, self.decoder, dtype, trunk_params)
        # drawn after the networks, so a normal-prior model is initialised exactly as before priors existed
        params.update(_priors.init_prior(rng, self.prior, self.n_components, self.latent_dim, x_in[train], dtype))
        layout = nets.Layout(params)
        self._set_theta(layout.pack(params, dtype), layout)
        opt_init, opt_step = OPTIMIZERS[self.optimizer]
        opt_state = opt_init({"theta": self.theta_})
        self._last_good = self.theta_.copy()  # before any completed epoch: the start
        self.history_ = []
        best = {"loss": math.inf, "params": None, "epoch": -1}
        start = 0
        if checkpoint is not None and os.path.exists(checkpoint):
            start, rng, opt_state, best = self._load_checkpoint(checkpoint, opt_state)
        val_eps = np.random.default_rng([self.seed, 1]).standard_normal((n_val, self.latent_dim)).astype(dtype)
        bar = self._progress_bar(start)
        # the default model's step without autograd, bit for bit the same
        step = _step.DenseBernoulliStep(layout, self.prior, x_in) if fused else None
        val_in, val_x = x_in[val].astype(dtype, copy=False), None if x is None else x[val]
        for epoch in range(start, self.epochs):
            beta = self.beta * min(1.0, (epoch + 1) / self.kl_warmup) if self.kl_warmup else self.beta
            order = train[rng.permutation(len(train))]
            lr = self.lr if self.lr_schedule == "constant" else \
                self.lr * 0.5 * (1 + math.cos(math.pi * epoch / self.epochs))
            sums = {"rate": 0.0, "distortion": 0.0, "rate_sq": 0.0}
            for s in range(0, len(order), self.batch_size):
                idx = order[s:s + self.batch_size]
                eps = rng.standard_normal((len(idx), self.latent_dim)).astype(dtype)
                report = {}
                if step is not None:
                    value, grad = step(self.theta_, idx, eps, beta, report)
                else:  # the Bernoulli path reads its target from the ±1 input: no second gather
                    value, grad = self._loss_and_grad(x_in[idx], None if self.decoder == "bernoulli" else x[idx],
                                                      eps, beta, report)
                finite = np.isfinite(value) and opt_step({"theta": self.theta_}, {"theta": grad}, opt_state, lr)
                if not finite:  # the optimizer checked the gradient in its own pass
                    self._restore_last_good()
                    raise FloatingPointError(
                        f"non-finite loss or gradient at epoch {epoch}, batch {s // self.batch_size}: training "
                        "stopped; the parameters are those of the last completed epoch"
                        + (f" (also in {checkpoint})" if checkpoint else "") + ". Try a smaller lr.")
                for k in report:
                    sums[k] += report[k] * len(idx)
            if not np.isfinite(self.theta_).all():  # the last update overflowed, with no loss left to show it
                self._restore_last_good()
                raise FloatingPointError(
                    f"non-finite parameters after epoch {epoch}: training stopped; the parameters are those of the "
                    "last completed epoch" + (f" (also in {checkpoint})" if checkpoint else "") + ". Try a smaller lr.")
            record = {"epoch": epoch, "beta": beta, "rate": sums["rate"] / len(order),
                      "distortion": sums["distortion"] / len(order)}
            if self.prior != "normal":  # the standard error of the epoch's mean rate: one draw per sample, so the
                # spread over the samples holds the Monte Carlo noise of the estimate as well as the data's
                var = max(sums["rate_sq"] / len(order) - record["rate"] ** 2, 0.0)
                record["rate_se"] = math.sqrt(var / len(order))
            if n_val:
                r, dist = self._evaluate(val_in, val_x, val_eps)
                record.update(val_rate=r, val_distortion=dist, val_loss=dist + beta * r)
                if not (math.isfinite(r) and math.isfinite(dist)):
                    self._restore_last_good()
                    raise FloatingPointError(
                        f"non-finite validation loss after epoch {epoch} (rate {r}, distortion {dist}): the "
                        "parameters diverged; training stopped, the parameters are those of the last completed "
                        "epoch" + (f" (also in {checkpoint})" if checkpoint else "") + ". Try a smaller lr.")
                if record["val_loss"] < best["loss"]:
                    best = {"loss": record["val_loss"], "params": self.theta_.copy(), "epoch": epoch}
            self.history_.append(record)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(rate=f"{record['rate']:.3f}", distortion=f"{record['distortion']:.3f}")
            stop = self.patience is not None and n_val and epoch - best["epoch"] >= self.patience
            self._last_good = self.theta_.copy()
            if checkpoint is not None:
                self._save_checkpoint(checkpoint, epoch + 1, rng, opt_state, best)
            if stop:
                break
        if bar is not None:
            bar.close()
        if self.patience is not None and best["params"] is not None:
            self.theta_[:] = best["params"]
        return self

    def _progress_bar(self, start):
        show = self.progress if self.progress is not None else sys.stderr.isatty()
        if not show or self.epochs == 0:
            return None
        from tqdm import tqdm
        return tqdm(total=self.epochs, initial=start, desc="VAE", unit="epoch")

    def _evaluate(self, x_in, x, eps):
        report = {}
        nets.loss(self.theta_, self.layout_, x_in, x, eps, 1.0, self.decoder, self.n_sites_, self._trunk(), report,
                  self.prior)
        return report["rate"], report["distortion"]

    def _restore_last_good(self):
        """Back to the parameters at the end of the last completed epoch (or the start of training)."""
        self.theta_[:] = self._last_good

    # ------------------------------------------------------------------------------------------ checkpoints
    def _state_arrays(self, prefix, d):
        return {f"{prefix}{k}": v for k, v in d.items()}

    def _save_checkpoint(self, path, next_epoch, rng, opt_state, best):
        meta = {"next_epoch": next_epoch, "rng": rng.bit_generator.state, "history": self.history_,
                "best_loss": best["loss"], "best_epoch": best["epoch"], "hyper": self._hyper(),
                "data": self._data_meta(), "version": __version__}
        arrays = {"theta": self.theta_, **self._state_arrays("o:", opt_state)}
        if best["params"] is not None:
            arrays["best"] = best["params"]
        atomic_savez(path, meta=np.array(json.dumps(meta, default=json_default)), **arrays)

    def _load_checkpoint(self, path, opt_state):
        mine = json.loads(json.dumps(self._hyper(), default=json_default))
        data = json.loads(json.dumps(self._data_meta(), default=json_default))
        meta, arrays = _files.read_checkpoint(self, path, opt_state, mine, data)
        self.theta_[:] = arrays["theta"]
        opt_state = {k[2:]: v for k, v in arrays.items() if k.startswith("o:")}
        best_params = arrays.get("best")
        rng = np.random.default_rng()
        rng.bit_generator.state = meta["rng"]
        self.history_ = meta["history"]
        best = {"loss": meta["best_loss"], "params": best_params, "epoch": meta["best_epoch"]}
        return meta["next_epoch"], rng, opt_state, best

    # ------------------------------------------------------------------------------------------ inference
    def encode(self, X):
        """Posterior means and log-variances (n, latent_dim) of data X."""
        self._check_fitted()
        x_in, _ = self._prepare(X)
        mu, logvar = nets.encode(self.theta_, self.layout_, x_in, self._trunk())
        return np.asarray(mu, np.float64), np.asarray(logvar, np.float64)

    def decode(self, Z):
        """Decoder means for latents Z (n, latent_dim): ``P(s = +1)`` per site (bernoulli, beta2), state
        probabilities (n, N, q) (categorical, nematic) or means (gaussian), in the data's site shape."""
        self._check_fitted()
        out = nets.decoder_outputs(self.theta_, self.layout_, self._latents(Z), self.decoder, self.n_sites_)
        return _data.decoder_means(self, out)

    def fields(self, Z):
        """The decoder's effective fields at latents Z: the logits (bernoulli, categorical, nematic; for
        beta2 the tempered logits ``beta h``), shape (n, N) or (n, N, q)."""
        self._check_fitted()
        out = nets.decoder_outputs(self.theta_, self.layout_, self._latents(Z), self.decoder, self.n_sites_)
        return _data.effective_fields(self, out)

    def _latents(self, Z):
        Z = np.asarray(Z, dtype=np.float64)
        if Z.ndim != 2 or Z.shape[1] != self.latent_dim or not np.isfinite(Z).all():
            raise ValueError(f"latents must be a finite array (n, {self.latent_dim}), got shape {Z.shape}")
        return Z.astype(self.dtype)

    def prior_mixture(self):
        """The latent prior as a mixture of diagonal Gaussians: ``(log_weights (K,), means (K, d), logvars (K, d))``,
        float64 (the standard normal: one component at 0 with unit variance)."""
        self._check_fitted()
        logits, means, logvars = (np.asarray(a, np.float64) for a in
                                  nets.prior_mixture(self.theta_, self.layout_, self.prior, self._trunk()))
        return _priors.log_weights(logits), means, logvars

    def log_prior(self, Z):
        """``log p(z)`` (n,) of the model's prior at latents Z (n, latent_dim)."""
        logw, means, logvars = self.prior_mixture()
        return _priors.log_density(self._latents(Z).astype(np.float64), logw, means, logvars)

    def sample_latents(self, n_samples, seed=0, from_data=None):
        """Latent draws (n_samples, latent_dim), float64: from the prior, or with ``from_data`` (configurations in
        the training format) from its aggregate posterior ``(1/n) sum_x q(z|x)`` (rows drawn with replacement).
        ``seed``: an int or a ``numpy.random.Generator``."""
        n_samples = check_int("n_samples", n_samples, 1)
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(check_int("seed", seed, 0))
        if from_data is not None:
            mu, logvar = self.encode(from_data)
            rows = rng.integers(len(mu), size=n_samples)
            return mu[rows] + np.exp(0.5 * logvar[rows]) * rng.standard_normal((n_samples, self.latent_dim))
        self._check_fitted()
        if self.prior == "normal":
            return rng.standard_normal((n_samples, self.latent_dim))
        return _priors.draw(rng, n_samples, *self.prior_mixture())

    def sample(self, n_samples, seed=0, from_data=None):
        """Generate ``n_samples`` configurations: z from the prior (or, with ``from_data``, from the aggregate
        posterior of those configurations: :meth:`sample_latents`), then each site from the decoder (the data's
        format: int8 +-1 spins, uint8 states or axis indices, float values)."""
        self._check_fitted()
        n_samples = check_int("n_samples", n_samples, 1)
        _sizes.check_sample(self, n_samples)
        rng = np.random.default_rng(check_int("seed", seed, 0))
        z = self.sample_latents(n_samples, rng, from_data)
        return _data.draw(self, nets.decoder_outputs(self.theta_, self.layout_, z.astype(self.dtype), self.decoder,
                                                     self.n_sites_), rng)

    def rate(self, X, n_draws=64, seed=0, return_stderr=False):
        """Per-sample rate ``KL(q(z|x) || p(z))`` (nats): closed form for the normal prior, else the Monte Carlo
        estimate ``-H[q] - mean log p(z)`` over ``n_draws`` reparameterised draws; ``return_stderr`` also returns
        the per-sample standard errors (zeros when exact)."""
        return _bounds.rate(self, X, n_draws, seed, return_stderr)

    def elbo(self, X, n_draws=1, seed=0):
        """Per-sample evidence lower bound ``E_q [log p(x|z) + log p(z) - log q(z|x)]`` (beta = 1), averaged over
        ``n_draws`` (the KL in closed form for the normal prior)."""
        return _bounds.elbo(self, X, n_draws, seed)

    def iwae(self, X, k=100, seed=0):
        """Importance-weighted estimate of ``log p(x)`` per sample with k posterior draws (IWAE bound)."""
        return _bounds.iwae(self, X, k, seed)

    # ------------------------------------------------------------------------------------------ files
    def _data_meta(self):
        return {"input_shape": list(self.input_shape_), "n_states": self.n_states_, "data_kind": self.data_kind_}

    def save(self, path, metadata=None):
        """Write the fitted model (parameters, settings, data format, history, and ``metadata``, a JSON-able
        dict of your own, e.g. where the training data came from) to one ``.npz`` atomically. A model whose
        parameters are not all finite is refused (FloatingPointError)."""
        self._check_fitted()
        if not np.isfinite(self.theta_).all():
            raise FloatingPointError("the VAE's parameters hold NaN or infinite values (diverged training?): "
                                     "refusing to save a broken model")
        meta = {"hyper": self._hyper(), "data": self._data_meta(), "history": self.history_,
                "version": __version__, "format": _files.FORMAT, "metadata": metadata or {}}
        atomic_savez(path, meta=np.array(json.dumps(meta, default=json_default)),
                     **self._state_arrays("p:", self.params_))

    @classmethod
    def load(cls, path):
        """A VAE saved by :meth:`save`. Any other file, a damaged one, or one whose parameters are not finite or
        do not match its settings is refused with a ValueError naming the file and the problem
        (:func:`fastmf.vae.files.read_model`)."""
        vae, params, history, metadata, (shape, n_states, kind) = _files.read_model(cls, path)
        layout = nets.Layout(params)
        vae._set_theta(layout.pack(params, np.dtype(vae.dtype)), layout)
        vae.history_ = history
        vae.metadata_ = metadata
        vae.input_shape_ = shape
        vae.n_states_ = n_states
        vae.data_kind_ = kind
        vae.n_sites_ = int(np.prod(vae.input_shape_))
        return vae


def load_vae(path):
    return VAE.load(path)
