"""The lean VAE: NumPy + autograd, fused Numba decoder-likelihood kernels (:mod:`fastmf.kernels.vae_cpu`).

``VAE(latent_dim=1).fit(spins)``; see :class:`VAE`. Pure functions of the model: :mod:`.nets`; the default model's
training step without autograd (the same bits): :mod:`.step`; optimizers: :mod:`.optim`; data formats:
:mod:`.data`; convolutional encoder: :mod:`.conv`; memory estimates checked before allocating: :mod:`.sizes`; reading saved models and training checkpoints with full checks: :mod:`.files`.
"""
from .model import TRAIN_DEFAULTS, VAE, load_vae

__all__ = ["TRAIN_DEFAULTS", "VAE", "load_vae"]
