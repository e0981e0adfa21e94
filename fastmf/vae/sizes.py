"""Memory estimates of the VAE, checked (:func:`fastmf.io.check_memory`) before anything large is allocated.

* at construction, :func:`check_settings`: the parameters that do not depend on the data (hidden layers, the
  latent head, the decoder layers), with one site, so that absurd widths (``latent_dim=10**8``,
  ``hidden=(10**10,)``) are refused at once;
* at :meth:`~fastmf.vae.VAE.fit`, :func:`check_fit`: every parameter for the data's shape, with the copies that
  training keeps (gradient, two Adam moments, the last good and the best parameters, temporaries), the encoder
  inputs and decoder targets of the whole data set, and the activations of one minibatch;
* :func:`check_sample`: the latents, decoder activations and outputs of :meth:`~fastmf.vae.VAE.sample`.

The limit is :func:`fastmf.io.memory_limit` (half the available memory, or ``FASTMF_MAX_MEMORY``); a refusal is
a :class:`fastmf.io.ResourceLimitError` (a ValueError) with the estimate in its message.
"""
import math

from ..io.files import check_memory
from .conv import conv_output_shapes
from .nets import param_shapes
from .priors import prior_shapes

__all__ = ["TRAINING_COPIES", "check_fit", "check_sample", "check_settings", "data_bytes", "expected_shapes",
           "n_parameters"]

#: Parameter-sized arrays alive during training: theta, its gradient, two Adam moments, the last good and the
#: best parameters, and the temporaries of an update or a checkpoint.
TRAINING_COPIES = 8


def _size(shape):
    return math.prod(int(s) for s in shape)


def _trunk_shapes(vae, input_shape):
    """``({name: shape}, n_in)`` of the convolutional trunk for lattice data of ``input_shape``."""
    shapes, c_in = {}, 1
    for k, c_out in enumerate(vae.conv_channels):
        shapes[f"conv{k}.W"], shapes[f"conv{k}.b"] = (c_out, c_in * 9), (c_out,)
        c_in = c_out
    h, w = conv_output_shapes(input_shape, len(vae.conv_channels))[-1]
    return shapes, h * w * vae.conv_channels[-1]


def expected_shapes(vae, input_shape, n_states):
    """``{name: shape}`` of every parameter of ``vae`` for data of site shape ``input_shape``.

    Parameters
    ----------
    vae : fastmf.vae.VAE
        The settings (hidden widths, decoder, encoder, ...).
    input_shape : tuple of int
        The sites of one configuration, ``(N,)`` or ``(L, M)``.
    n_states : int
        q of the categorical / nematic decoders (the encoder input is one-hot), else ignored.

    Returns
    -------
    dict
        In the order of :func:`fastmf.vae.nets.init_params`.
    """
    n_sites = _size(input_shape)
    q = n_states if vae.decoder in ("categorical", "nematic") else 1
    trunk, n_in = (None, n_sites * q) if vae.encoder != "conv" else _trunk_shapes(vae, input_shape)
    shapes = param_shapes(n_in, n_sites, q, vae.latent_dim, vae.hidden, vae.decoder_hidden, vae.decoder, trunk)
    shapes.update(prior_shapes(vae.prior, vae.n_components, vae.latent_dim, n_sites * q))
    return shapes


def n_parameters(shapes):
    """The number of parameters in ``{name: shape}``."""
    return sum(_size(s) for s in shapes.values())


def _describe(vae):
    return (f"a VAE with latent_dim={vae.latent_dim}, hidden={list(vae.hidden)}, "
            f"decoder_hidden={list(vae.decoder_hidden)}")


def check_settings(vae):
    """Refuse settings whose parameters alone (with one site) do not fit in memory (see the module docstring)."""
    if vae.encoder == "conv":
        return  # the trunk's size depends on the lattice; checked by check_fit
    itemsize = 4 if vae.dtype == "float32" else 8
    n = n_parameters(param_shapes(1, 1, 1, vae.latent_dim, vae.hidden, vae.decoder_hidden, vae.decoder))
    check_memory(TRAINING_COPIES * n * itemsize, f"{_describe(vae)} ({n:.3g} parameters before any site, "
                                                 "with the optimizer's copies)")


def _widths(vae, shapes):
    return sum(s[-1] for name, s in shapes.items() if name.endswith(".b"))


def check_fit(vae, n, input_shape, n_states, data_bytes):
    """Refuse a fit whose parameters, optimizer state, data arrays and minibatch activations do not fit.

    Parameters
    ----------
    vae : fastmf.vae.VAE
    n : int
        Number of training configurations.
    input_shape : tuple of int
        Sites of one configuration.
    n_states : int
        q of the categorical / nematic decoders.
    data_bytes : int
        The encoder inputs and decoder targets that :func:`fastmf.vae.data.prepare` makes from the data.
    """
    itemsize = 4 if vae.dtype == "float32" else 8
    shapes = expected_shapes(vae, input_shape, n_states)
    n_par = n_parameters(shapes)
    batch = min(vae.batch_size, n)
    n_in = shapes["enc0.W"][0] if "enc0.W" in shapes else shapes["head.W"][0]
    activations = 4 * batch * (n_in + _widths(vae, shapes) + vae.latent_dim) * itemsize
    total = TRAINING_COPIES * n_par * itemsize + data_bytes + activations
    check_memory(total, f"training {_describe(vae)} on {n} configurations of shape {tuple(input_shape)} "
                        f"({n_par:.3g} parameters, batches of {batch})")


def check_sample(vae, n_samples):
    """Refuse :meth:`~fastmf.vae.VAE.sample` of ``n_samples`` configurations whose arrays do not fit."""
    itemsize = 4 if vae.dtype == "float32" else 8
    n_sites = _size(vae.input_shape_)
    q = vae.n_states_ if vae.decoder in ("categorical", "nematic") else 1
    per_sample = (8 + itemsize) * vae.latent_dim + 2 * itemsize * sum(vae.decoder_hidden) + \
        n_sites * q * (itemsize + 32) + n_sites * (8 if vae.decoder == "gaussian" else 1)
    if vae.decoder == "nematic" and vae.data_kind_ == "vectors":
        per_sample += 24 * n_sites
    check_memory(n_samples * per_sample, f"sampling {n_samples} configurations of {n_sites} sites from the VAE")


def data_bytes(vae, n, n_sites, q, vectors=False):
    """Bytes of the encoder inputs and decoder targets that :func:`fastmf.vae.data.prepare` makes from ``n``
    configurations of ``n_sites`` sites (``q`` states; ``vectors``: nematic unit-vector data)."""
    itemsize = 4 if vae.dtype == "float32" else 8
    if vae.decoder in ("bernoulli", "beta2"):  # inputs, targets, and the gathers of the validation set
        return 3 * n * n_sites * itemsize
    if vae.decoder == "gaussian":
        return 2 * n * n_sites * itemsize
    return n * n_sites * (q * itemsize + 24) + (48 * n * n_sites if vectors else 0)
