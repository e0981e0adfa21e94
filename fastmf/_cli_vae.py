"""The VAE commands of the ``fastmf`` command line (application layer): ``train`` and ``generate``, their
arguments and their work. Used by :mod:`fastmf.cli` only."""
from . import _cli_checks as checks
from ._cli_checks import (nonnegative_float, nonnegative_int, out_file, path, positive_float, positive_int,
                          widths)
from ._cli_models import load_npy

__all__ = ["add_generate_parser", "add_train_parser", "generate", "train"]


def add_train_parser(sub):
    """Add ``train`` to the subcommands ``sub``; the defaults are :class:`fastmf.vae.VAE`'s and
    :data:`fastmf.vae.TRAIN_DEFAULTS` (the mean-field decoder, 100 epochs), measured in docs/priors.rst."""
    from .vae import TRAIN_DEFAULTS
    from .vae.priors import DEFAULT_COMPONENTS, PRIORS

    p = sub.add_parser("train", help="train a VAE on a sample file (from simulate or your own .npz with 'spins')")
    p.add_argument("samples", type=path, help="sample file (.npz with a 'spins' array)")
    p.add_argument("--latent-dim", type=positive_int, required=True)
    p.add_argument("--beta", type=nonnegative_float, default=1.0, help="weight of the rate (beta-VAE)")
    p.add_argument("--decoder", choices=("bernoulli", "categorical", "gaussian", "nematic", "beta2"),
                   default="bernoulli")
    p.add_argument("--mean-field", action="store_true", help="decoder outputs affine in z, no hidden layers (the "
                   "default)")
    p.add_argument("--nonlinear-decoder", action="store_true", help="decoder with hidden layers mirroring --hidden "
                   "(tanh) instead of the mean-field decoder")
    p.add_argument("--encoder", choices=("mlp", "conv"), default="mlp", help="conv: lattice data (n, L, M)")
    p.add_argument("--axes", type=path, help="(D, 3) .npy unit axes of the nematic decoder")
    p.add_argument("--hidden", type=widths, default=(256,), help="encoder hidden widths, e.g. 256,256 (',': a "
                   "linear encoder; mirrored by the decoder with --nonlinear-decoder)")
    p.add_argument("--prior", choices=PRIORS[1:] + PRIORS[:1], default="mog",
                   help="latent prior: a learned mixture of Gaussians (default), the VampPrior, or N(0, I)")
    p.add_argument("--n-components", type=positive_int,
                   help=f"components of a learned prior (default {DEFAULT_COMPONENTS['mog']})")
    p.add_argument("--epochs", type=positive_int, default=TRAIN_DEFAULTS["epochs"])
    p.add_argument("--batch-size", type=positive_int, default=128)
    p.add_argument("--lr", type=positive_float, default=2e-3)
    p.add_argument("--lr-schedule", choices=("cosine", "constant"), default="cosine",
                   help="cosine: the step size falls from --lr to 0 over the epochs")
    p.add_argument("--kl-warmup", type=nonnegative_int, default=0, help="epochs of linear KL warm-up")
    p.add_argument("--patience", type=positive_int, help="early stopping on the validation loss")
    p.add_argument("--dtype", choices=("float64", "float32"), default="float32")
    p.add_argument("--seed", type=nonnegative_int, required=True)
    p.add_argument("--checkpoint", type=out_file, help="resumable checkpoint (.npz), written every epoch")
    p.add_argument("--out", type=out_file, required=True, help="model file (.npz)")
    p.add_argument("--no-progress", action="store_true")
    return p


def add_generate_parser(sub):
    """Add ``generate`` to the subcommands ``sub``."""
    p = sub.add_parser("generate", help="draw configurations from a trained VAE (simulate's file format)")
    p.add_argument("model", type=path, help="model file written by fastmf train")
    p.add_argument("--n-samples", type=positive_int, required=True)
    p.add_argument("--from-data", type=path, metavar="FILE",
                   help="draw z from the aggregate posterior of this sample file instead of the prior")
    p.add_argument("--seed", type=nonnegative_int, required=True)
    p.add_argument("--out", type=out_file, required=True)
    return p


def train(args):
    """``fastmf train``: fit a VAE on a sample file and save it (a checkpoint makes it resumable)."""
    from .io.samples import load_samples
    from .vae import TRAIN_DEFAULTS, VAE

    inputs = (args.samples, args.axes)
    checks.distinct(args.checkpoint, args.out, "--checkpoint", "--out")
    checks.output_file(args.out, "--out", inputs=inputs + (args.checkpoint,))
    if args.checkpoint is not None:
        checks.output_file(args.checkpoint, "--checkpoint", inputs=inputs)
    if args.mean_field and args.nonlinear_decoder:
        raise ValueError("--mean-field and --nonlinear-decoder exclude each other")
    if args.prior == "normal" and args.n_components not in (None, 1):
        raise ValueError(f"--n-components {args.n_components} needs a learned prior (--prior mog or vamp)")
    samples = load_samples(args.samples)
    axes = load_npy(args.axes, "axes") if args.axes is not None else samples.extra.get("axes")
    mean_field = not args.nonlinear_decoder and TRAIN_DEFAULTS["mean_field"]
    vae = VAE(latent_dim=args.latent_dim, hidden=args.hidden, decoder=args.decoder, mean_field=mean_field,
              encoder=args.encoder, beta=args.beta, axes=axes, dtype=args.dtype, lr=args.lr,
              lr_schedule=args.lr_schedule, batch_size=args.batch_size, epochs=args.epochs, patience=args.patience,
              kl_warmup=args.kl_warmup, prior=args.prior, n_components=args.n_components, seed=args.seed,
              progress=False if args.no_progress else None)
    with checks.keep_checkpoint_if_interrupted(args.checkpoint):
        vae.fit(samples.spins, checkpoint=args.checkpoint)
        vae.save(args.out, metadata={"training_file": str(args.samples), "training_metadata": samples.metadata})
    last = vae.history_[-1] if vae.history_ else {}
    se = f" +- {last['rate_se']:.4f}" if "rate_se" in last else ""
    print(f"trained on {len(samples)} samples of shape {samples.spins.shape[1:]}: {len(vae.history_)} epochs, "
          f"{vae.prior} prior, rate {last.get('rate', float('nan')):.4f}{se}, distortion "
          f"{last.get('distortion', float('nan')):.4f}; wrote {args.out}")
    return 0


def generate(args):
    """``fastmf generate``: configurations from a trained VAE, z from its prior or a data file's aggregate
    posterior."""
    from .io.samples import SampleSet, load_samples
    from .vae import VAE

    checks.output_file(args.out, "--out", inputs=(args.model, args.from_data))
    vae = VAE.load(args.model)
    data = None if args.from_data is None else load_samples(args.from_data).spins
    spins = vae.sample(args.n_samples, seed=args.seed, from_data=data)
    meta = {"model": "vae", "sampler": "vae", "vae_file": str(args.model), "seed": args.seed,
            "latent_dim": vae.latent_dim, "decoder": vae.decoder, "beta": vae.beta, "prior": vae.prior,
            "latents": "prior" if data is None else f"aggregate posterior of {args.from_data}"}
    SampleSet(spins, meta).save(args.out)
    print(f"wrote {len(spins)} samples of shape {spins.shape[1:]} from {args.model} "
          f"({meta['latents']}) to {args.out}")
    return 0
