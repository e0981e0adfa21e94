"""asv benchmarks of VAE training throughput: fastmf's VAE against the same model in PyTorch.

Architecture of both (the issue's benchmark setting): N ±1 inputs -> dense 256 (tanh) -> [mu | logvar] (2 + 2);
z = mu + exp(logvar / 2) eps; decoder 2 -> 256 (tanh) -> N Bernoulli logits; loss = mean over the batch of
the Bernoulli negative log-likelihood plus the rate (the analytic KL for the standard normal prior, ``-H[q] - log
p(z)`` at the same draw for the learned mixture and VampPrior priors, 32 components); Adam (lr 1e-3), batch 128,
float32, EPOCHS (3) epochs over the data per timed call. PyTorch (the ``bench`` extra): ``nn.Sequential`` networks and
``torch.optim.Adam(fused=True)``, on the same number of threads as Numba; the BLAS libraries under NumPy and
PyTorch are limited to it too (``report_vae.py`` sets ``OPENBLAS_NUM_THREADS`` etc. before importing them:
per-core figures). ``samples_per_second`` is shared with ``report_vae.py``.
"""
import time

import numba
import numpy as np

from fastmf.vae import VAE
from fastmf.vae.priors import DEFAULT_COMPONENTS

SIZES = (64, 256, 1024, 4096)
HIDDEN, LATENT, BATCH, LR = 256, 2, 128, 1e-3


def make_data(N, seed=0):
    """Random ±1 configurations, 2**22 / N of them (2048 to 16384)."""
    n = max(2048, min(16384, 2 ** 22 // N))
    return np.random.default_rng(seed).choice(np.array([-1, 1], np.int8), size=(n, N))


EPOCHS = 3  # per timed run: steady-state training, setup (model, data checks) amortised as in real use


def fastmf_epoch(X, seed=0, epochs=EPOCHS, prior="normal"):
    """fastmf's training; the standard normal prior (the model PyTorch runs) unless ``prior`` says otherwise."""
    VAE(latent_dim=LATENT, hidden=(HIDDEN,), dtype="float32", batch_size=BATCH, lr=LR, epochs=epochs,
        validation_fraction=0.0, seed=seed, progress=False, prior=prior, lr_schedule="constant").fit(X)


def prior_epoch(prior):
    """``fastmf_epoch`` with a learned prior (its default number of components)."""
    def epoch(X, seed=0, epochs=EPOCHS):
        fastmf_epoch(X, seed, epochs, prior)
    return epoch


def torch_epoch(X, seed=0, epochs=EPOCHS, prior="normal"):
    """The same model and training in PyTorch as a competent user writes it: ``nn.Sequential`` networks, the
    prior's log-density vectorised over the components, and ``torch.optim.Adam`` with ``fused=True`` (one kernel
    for all parameters: the fastest CPU Adam of PyTorch, measured 1.05-1.15x the default per epoch)."""
    import torch

    torch.manual_seed(seed)
    N = X.shape[1]
    enc = torch.nn.Sequential(torch.nn.Linear(N, HIDDEN), torch.nn.Tanh(), torch.nn.Linear(HIDDEN, 2 * LATENT))
    dec = torch.nn.Sequential(torch.nn.Linear(LATENT, HIDDEN), torch.nn.Tanh(), torch.nn.Linear(HIDDEN, N))
    x = torch.from_numpy(X.astype(np.float32))
    log_prior = _torch_prior(prior, enc, x)
    params = list(enc.parameters()) + list(dec.parameters()) + (list(log_prior.parameters()) if log_prior else [])
    opt = torch.optim.Adam(params, lr=LR, fused=True)
    target = (x + 1) / 2
    for _ in range(epochs):
        _torch_epoch(x, target, enc, dec, opt, log_prior)


def torch_prior_epoch(prior):
    """``torch_epoch`` with a learned prior (fastmf's default number of components)."""
    def epoch(X, seed=0, epochs=EPOCHS):
        torch_epoch(X, seed, epochs, prior)
    return epoch


def _torch_prior(prior, enc, x):
    """``log p(z)`` as a module (parameters: logits and means / log-variances or pseudo-inputs), None for the
    standard normal (closed-form KL). Initialised as fastmf does: MoG means from N(0, I), unit variances; VampPrior
    pseudo-inputs at K training configurations; equal weights."""
    import torch

    K = DEFAULT_COMPONENTS[prior]
    log2pi = float(np.log(2 * np.pi))

    class MixturePrior(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.logits = torch.nn.Parameter(torch.zeros(K))
            if prior == "mog":
                self.means = torch.nn.Parameter(torch.randn(K, LATENT))
                self.logvars = torch.nn.Parameter(torch.zeros(K, LATENT))
            else:
                self.pseudo = torch.nn.Parameter(x[torch.randperm(len(x))[:K]].clone())

        def forward(self, z):
            if prior == "mog":
                means, logvars = self.means, self.logvars
            else:
                means, logvars = enc(self.pseudo).chunk(2, dim=1)
            diff = z[:, None, :] - means                                   # (B, K, d)
            a = torch.log_softmax(self.logits, 0) - 0.5 * ((diff * diff * torch.exp(-logvars)).sum(2)
                                                           + logvars.sum(1) + LATENT * log2pi)
            return torch.logsumexp(a, 1)

    return None if prior == "normal" else MixturePrior()


def _torch_epoch(x, target, enc, dec, opt, log_prior=None):
    import torch

    perm = torch.randperm(len(x))
    for s in range(0, len(x), BATCH):
        idx = perm[s:s + BATCH]
        h = enc(x[idx])
        mu, logvar = h[:, :LATENT], h[:, LATENT:]
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        rec = torch.nn.functional.binary_cross_entropy_with_logits(dec(z), target[idx], reduction="none").sum(1)
        if log_prior is None:
            kl = 0.5 * (mu * mu + logvar.exp() - 1 - logvar).sum(1)
        else:  # -H[q(z|x)] - log p(z) at the same draw
            kl = -0.5 * (logvar + 1 + np.log(2 * np.pi)).sum(1) - log_prior(z)
        loss = (rec + kl).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


def samples_per_second(epoch, X, repeats=3, clock=time.perf_counter):
    """Best training throughput (samples x epochs per second) over ``repeats`` timed runs of EPOCHS epochs, after
    a warm-up run on a slice. ``clock``: ``time.process_time`` counts the CPU time of this process alone (on a
    shared machine the wall clock also counts the time other jobs held the core)."""
    epoch(X[:256], epochs=1)
    best = 0.0
    for r in range(repeats):
        t = clock()
        epoch(X, seed=r)
        best = max(best, EPOCHS * len(X) / (clock() - t))
    return best


def set_threads(n):
    numba.set_num_threads(n)
    try:
        import torch
        torch.set_num_threads(n)
    except ImportError:
        pass


class TrainVAE:
    params = (list(SIZES), ["fastmf", "torch"])
    param_names = ["N", "implementation"]
    timeout = 600

    def setup(self, N, impl):
        if impl == "torch":
            try:
                import torch  # noqa: F401
            except ImportError:
                raise NotImplementedError("PyTorch is not installed (pip install -e '.[bench]')")
        self.X = make_data(N)
        self.epoch = fastmf_epoch if impl == "fastmf" else torch_epoch
        self.epoch(self.X[:256], epochs=1)

    def time_epoch(self, N, impl):
        self.epoch(self.X)

    def track_samples_per_second(self, N, impl):
        return samples_per_second(self.epoch, self.X, repeats=1)
    track_samples_per_second.unit = "samples/s"


class TrainVAEPrior:
    """Training cost of the learned priors against the standard normal at N = 256 (issue 17: <= 1.5x)."""
    params = (["normal", "mog", "vamp"],)
    param_names = ["prior"]
    timeout = 600

    def setup(self, prior):
        self.X = make_data(256)
        self.epoch = prior_epoch(prior)
        self.epoch(self.X[:256], epochs=1)

    def time_epoch(self, prior):
        self.epoch(self.X)
