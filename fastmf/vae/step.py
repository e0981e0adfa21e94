"""The training step of the default VAE (dense encoder, Bernoulli decoder, any prior) without autograd.

Under ``autograd.value_and_grad``, :func:`fastmf.vae.nets.loss` costs per batch a graph of a few fused nodes, fresh
arrays for every activation and gradient, and the scattering of the gradient pieces into a zero vector; on the
default model at N <= 256 that overhead was a third of a training step. :class:`DenseBernoulliStep` chains the same
forward functions and vector-Jacobian products of :mod:`.layers` and :mod:`.priors` by hand, in the order autograd
adds them, with the batch's arrays allocated once and the weight gradients written by BLAS straight into the flat
gradient vector, so that the loss and the gradient are bit for bit autograd's.
"""
import numpy as np

from ..kernels import vae_cpu as _k
from . import layers as ly
from . import nets
from . import priors as pr

__all__ = ["DenseBernoulliStep", "fuses"]


class _FlatGrad:
    """:func:`.layers.mlp_backward`'s sink writing into the gradient vector: each slot is written by its first
    contribution and added to by a second (the VampPrior runs the encoder on the pseudo-inputs too), as autograd
    adds the pieces into zeros."""

    def __init__(self, size, dtype):
        self.vector = np.empty(size, dtype)
        self.written = set()
        self._scratch = {}

    def matmul(self, off, a, b):
        shape = (a.shape[0], b.shape[1])
        view = self.vector[off:off + shape[0] * shape[1]].reshape(shape)
        if off in self.written:
            if shape not in self._scratch:
                self._scratch[shape] = np.empty(shape, self.vector.dtype)
            view += np.matmul(a, b, out=self._scratch[shape])
        else:
            np.matmul(a, b, out=view)
            self.written.add(off)

    def bias(self, off, n, dtype):
        """Where a bias gradient is computed: its slot, unless already written."""
        return np.empty(n, dtype) if off in self.written else self.vector[off:off + n]

    def add(self, off, v):
        view = self.vector[off:off + v.size]
        if off in self.written:
            view += v.ravel()
        else:
            if v.base is not self.vector:  # not the slot that bias() handed out
                view[:] = v.ravel()
            self.written.add(off)


class DenseBernoulliStep:
    """``step(theta, idx, eps, beta, report) -> (loss, gradient)``: the value and gradient (a flat vector, overwritten
    by the next call) of :func:`.nets.loss` on the batch ``spins[idx]`` of the ±1 spins (n, N) (int8, or any
    integer type), for a model with the dense encoder and the Bernoulli decoder."""

    def __init__(self, layout, prior, spins):
        self.layout, self.prior = layout, prior
        self.spins = np.asarray(spins, np.int8)
        self.enc = layout.layers([f"enc{k}" for k in range(layout.count("enc"))] + ["head"])
        self.dec = layout.layers([f"dec{k}" for k in range(layout.count("dec"))] + ["out"])
        self._arrays = {}
        self._grad = None

    def _buffers(self, key, B, width, dtype):
        """Arrays made once and reused: for key "batch" the batch, the encoder's and the decoder's layer outputs and
        the likelihood kernel's arrays; for "pseudo" the encoder's outputs at the VampPrior's pseudo-inputs."""
        if (key, B) not in self._arrays:
            def outputs(layers):
                return [np.empty((B, layer[2]), dtype) for layer in layers]
            if key == "batch":
                n = self.dec[-1][2]
                lik = [np.empty(B, dtype), np.empty((B, n), dtype), np.empty((B, n), dtype)]
                self._arrays[key, B] = (np.empty((B, width), dtype), outputs(self.enc), outputs(self.dec) + lik)
            else:
                self._arrays[key, B] = outputs(self.enc)
        return self._arrays[key, B]

    def __call__(self, theta, idx, eps, beta, report):
        if self._grad is None or self._grad.vector.dtype != theta.dtype:
            self._grad = _FlatGrad(self.layout.size, theta.dtype)
        sink = self._grad
        sink.written.clear()
        x, enc_out, dec_out = self._buffers("batch", len(idx), self.spins.shape[1], theta.dtype)
        _k.gather_rows(self.spins, idx, x)
        o, enc_acts = ly.mlp_forward(theta, x, self.enc, enc_out)
        ll, saved = ly.decode_forward(theta, o, eps, x, self.dec, dec_out)
        if self.prior == "normal":  # the objective's value and VJP, with the KL and its gradient in one pass
            kl, g_o = ly.kl_rows_and_grad(o, _seed(o) * beta / len(o))
            nets.batch_report(report, o, ll, rate=kl)
            value = ly.objective.fun(ll, o, beta, kl)
            g_ll, = ly.objective_vjp((0,), value, (ll, o, beta), {})(_seed(value))
        else:
            value, g_ll, g_o = self._prior(theta, o, ll, saved, eps, beta, report, sink)
        ly.decode_backward(theta, saved, eps, self.dec, g_ll, sink, add_to=g_o)
        ly.mlp_backward(theta, enc_acts, self.enc, g_o, sink, False, overwrite=True)
        if len(sink.written) != len(self.layout.slots):  # every parameter has its gradient: nothing stale
            raise RuntimeError("the fused VAE step left parameters without a gradient")
        return value, sink.vector

    def _prior(self, theta, o, ll, saved, eps, beta, report, sink):
        """The loss with a learned prior, ``(loss, g_ll, g_o)`` with ``g_o`` holding the objective's and
        ``log p(z)``'s contributions (autograd's order); the prior parameters' gradients go to ``sink``."""
        layout = self.layout
        sd, z = saved[0], saved[1][0]  # the decoder's input is z = mu + sd eps
        slot = {name: layout.slots[name][0] for name in layout.slots if name.startswith("prior.")}
        logits = _view(theta, layout, "prior.logits")
        if self.prior == "mog":
            means, logvars = _view(theta, layout, "prior.means"), _view(theta, layout, "prior.logvars")
        else:
            pseudo = _view(theta, layout, "prior.pseudo")
            o_p, p_acts = ly.mlp_forward(theta, pseudo, self.enc, self._buffers("pseudo", len(pseudo), 0, theta.dtype))
            means, logvars = ly.split_params(o_p)
        logp = pr.log_density.fun(z, logits, means, logvars)
        rate = pr.rate_rows(o, logp)
        nets.batch_report(report, o, ll, logp, rate)
        value = pr.objective.fun(ll, o, logp, beta, rate)
        g_ll, g_o, g_logp = pr.prior_objective_vjp((0, 1, 2), value, (ll, o, logp, beta), {})(_seed(value))
        g_z, g_logits, g_means, g_logvars = pr.log_density_vjp((0, 1, 2, 3), logp, (z, logits, means, logvars),
                                                                {})(g_logp)
        _k.reparam_grad_add(g_z, sd, eps, g_o)  # reparameterize's VJP, added
        sink.add(slot["prior.logits"], g_logits)
        if self.prior == "mog":
            sink.add(slot["prior.means"], g_means)
            sink.add(slot["prior.logvars"], g_logvars)
        else:
            g_pseudo = ly.mlp_backward(theta, p_acts, self.enc, np.concatenate([g_means, g_logvars], axis=1), sink,
                                       True, overwrite=True)
            sink.add(slot["prior.pseudo"], g_pseudo)
        return value, g_ll, g_o


def _seed(value):
    """The gradient autograd starts its backward pass with, ``vspace(value).ones()`` (value: the loss, or an array
    of its dtype)."""
    return np.ones((), value.dtype)


def _view(theta, layout, name):
    off, shape = layout.slots[name]
    return theta[off:off + int(np.prod(shape))].reshape(shape)


def fuses(vae):
    """Whether a VAE trains with :class:`DenseBernoulliStep` (dense encoder, Bernoulli decoder); other models take
    the autograd path."""
    return vae.encoder == "mlp" and vae.decoder == "bernoulli"
