"""The ``fastmf`` command line.

    fastmf demo [--out DIR]
    fastmf simulate ising2d --L 24 [--M 24] --T 2.6 [--J 1] [--h 0] [--q 2] --n-samples 2000
                            [--sampler metropolis|heatbath|wolff|multispin] [--backend auto|cpu|cuda|cupy]
                            --seed 7 --out FILE.npz
    fastmf verify [--backend auto|cpu|cuda|cupy] [--quick]

Errors in the arguments are reported in one line (exit status 2) before anything runs; nothing is written
unless the run completes (files are written atomically).
"""
import argparse
import pathlib
import sys

from ._version import __version__

_SAMPLERS = ("metropolis", "heatbath", "wolff", "multispin")
_BACKENDS = ("auto", "cpu", "cuda", "cupy")


def _int_at_least(minimum, what):
    """argparse type: an integer >= ``minimum`` (``what`` names it in the error)."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
        return value
    return parse


_positive_int = _int_at_least(1, "a positive integer")
_nonnegative_int = _int_at_least(0, "an integer >= 0")


def _finite_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _temperature(text):
    value = _finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"temperature must be > 0, got {value}")
    return value


def _out_file(text):
    path = pathlib.Path(text)
    if path.suffix != ".npz":
        raise argparse.ArgumentTypeError(f"output file must end in .npz, got {text!r}")
    parent = path.parent if str(path.parent) else pathlib.Path(".")
    if not parent.is_dir():
        raise argparse.ArgumentTypeError(f"output directory {str(parent)!r} does not exist")
    return path


class _Parser(argparse.ArgumentParser):
    """Argument errors in one line (exit status 2), pointing at --help instead of printing the usage."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser():
    parser = _Parser(prog="fastmf", description="Fast many-body spin simulation and "
                                     "mean-field read-off. See README.md.")
    parser.add_argument("--version", action="version", version=f"fastmf {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="simulate the 2D Ising model across T_c and compare with Kaufman's "
                          "exact energy")
    demo.add_argument("--out", type=pathlib.Path, default=pathlib.Path("fastmf-demo"),
                      help="directory for the sample files (created)")
    demo.add_argument("--L", type=_positive_int, default=32)
    demo.add_argument("--seed", type=_nonnegative_int, default=7)
    demo.add_argument("--backend", choices=_BACKENDS, default="auto")
    demo.add_argument("--no-progress", action="store_true")

    simulate = sub.add_parser("simulate", help="draw equilibrium samples of a model")
    models = simulate.add_subparsers(dest="model", required=True)
    ising = models.add_parser("ising2d", help="Ising (q = 2) or Potts (q > 2) model on an L x M periodic lattice")
    ising.add_argument("--L", type=_positive_int, required=True, help="rows")
    ising.add_argument("--M", type=_positive_int, help="columns (default: L)")
    ising.add_argument("--T", type=_temperature, required=True, help="temperature (> 0)")
    ising.add_argument("--J", type=_finite_float, default=1.0, help="coupling (J > 0 ferro, J < 0 antiferro)")
    ising.add_argument("--h", type=_finite_float, default=0.0, help="uniform field (favours state 0 for Potts)")
    ising.add_argument("--q", type=int, default=2, help="number of states: 2 = Ising, > 2 = Potts")
    ising.add_argument("--disorder", choices=("pm", "gaussian"),
                       help="quenched random couplings of scale J (Edwards-Anderson spin glass)")
    ising.add_argument("--disorder-seed", type=_nonnegative_int, default=0)
    ising.add_argument("--n-samples", type=_positive_int, required=True)
    ising.add_argument("--sampler", choices=_SAMPLERS, default="metropolis")
    ising.add_argument("--order", choices=("checkerboard", "sequential"), default="checkerboard",
                       help="site order of metropolis/heatbath (sequential works for odd sizes, CPU)")
    ising.add_argument("--backend", choices=_BACKENDS, default="auto")
    ising.add_argument("--seed", type=_nonnegative_int, required=True)
    ising.add_argument("--n-replicas", type=_positive_int, help="independent chains (default from n-samples)")
    ising.add_argument("--burn-in", type=_nonnegative_int, default=200, help="steps before the autocorrelation "
                       "pilot (which is discarded too)")
    ising.add_argument("--thin", type=_positive_int, help="steps between samples (default: 3 tau_int)")
    ising.add_argument("--checkpoint", type=_out_file, help="resumable checkpoint file (.npz)")
    ising.add_argument("--out", type=_out_file, required=True, help="output .npz file")
    ising.add_argument("--no-progress", action="store_true", help="no progress bar")

    _add_meanfield_parsers(models)

    verify = sub.add_parser("verify", help="run the exact checks (enumeration, Kaufman, Philox, backends); "
                            "exit status 1 on any failure")
    verify.add_argument("--backend", choices=_BACKENDS, default="auto")
    verify.add_argument("--quick", action="store_true", help="fewer, smaller checks")
    verify.add_argument("--seed", type=_nonnegative_int, default=12345)
    return parser


def _common_meanfield(p, sampler_default="auto"):
    p.add_argument("--T", type=_temperature, required=True, help="temperature (> 0)")
    p.add_argument("--n-samples", type=_positive_int, required=True)
    p.add_argument("--seed", type=_nonnegative_int, required=True)
    p.add_argument("--out", type=_out_file, required=True, help="output .npz file")
    p.add_argument("--sampler", choices=("auto", "latent", "mcmc", "tempering"), default=sampler_default,
                   help="auto: exact latent sampler where it applies, parallel tempering otherwise")
    p.add_argument("--backend", choices=("auto", "cpu", "cuda"), default="auto",
                   help="where --sampler mcmc chains run (latent and tempering samplers use the CPU)")
    p.add_argument("--n-replicas", type=_positive_int, help="independent chains or tempering ladders")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _add_meanfield_parsers(models):
    cw = models.add_parser("curie-weiss", help="Curie-Weiss model E = -(J/2N) M^2 - h M")
    cw.add_argument("--N", type=_positive_int, required=True)
    cw.add_argument("--J", type=_finite_float, default=1.0)
    cw.add_argument("--h", type=_finite_float, default=0.0)
    hop = models.add_parser("hopfield", help="Hopfield model E = -(J/2N) sum_mu (xi^mu . s)^2 - h sum s")
    hop.add_argument("--N", type=_positive_int, required=True)
    hop.add_argument("--P", type=_positive_int, help="number of random patterns (or give --patterns)")
    hop.add_argument("--patterns", type=pathlib.Path, help="(P, N) .npy file of +-1 patterns")
    hop.add_argument("--pattern-seed", type=_nonnegative_int, default=0)
    hop.add_argument("--J", type=_finite_float, default=1.0)
    hop.add_argument("--h", type=_finite_float, default=0.0)
    ms = models.add_parser("maier-saupe", help="Maier-Saupe nematic model (unit vectors, or --axes)")
    ms.add_argument("--N", type=_positive_int, required=True)
    ms.add_argument("--J", type=_finite_float, default=1.0)
    ms.add_argument("--axes", type=pathlib.Path, help="(D, 3) .npy file of unit axes (discretised variant)")
    potts = models.add_parser("potts", help="mean-field q-state Potts model E = -(J/2N) sum_k n_k^2 - h n_0")
    potts.add_argument("--N", type=_positive_int, required=True)
    potts.add_argument("--q", type=int, default=3)
    potts.add_argument("--J", type=_finite_float, default=1.0)
    potts.add_argument("--h", type=_finite_float, default=0.0)
    sk = models.add_parser("sk", help="Sherrington-Kirkpatrick spin glass")
    ea = models.add_parser("ea", help="sparse Edwards-Anderson spin glass on a random regular graph")
    ea.add_argument("--degree", type=_positive_int, default=3)
    for p, default in ((sk, "gaussian"), (ea, "pm")):
        p.add_argument("--N", type=_positive_int, required=True)
        p.add_argument("--J", type=_finite_float, default=1.0)
        p.add_argument("--h", type=_finite_float, default=0.0, help="uniform site field")
        p.add_argument("--couplings", choices=("gaussian", "pm"), default=default)
        p.add_argument("--disorder-seed", type=_nonnegative_int, default=0)
    for p in (cw, hop, ms, potts, sk, ea):
        _common_meanfield(p)


def _load_npy(path, what):
    import numpy as np

    if not path.is_file():
        raise FileNotFoundError(f"{what} file {str(path)!r} does not exist")
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read {what} from {str(path)!r} (expected a .npy array): {exc}") from exc


def _meanfield_model(args):
    from . import meanfield as mf

    if args.model == "curie-weiss":
        return mf.CurieWeiss(args.N, J=args.J, h=args.h)
    if args.model == "hopfield":
        if args.patterns is not None:
            xi = _load_npy(args.patterns, "patterns")
            if xi.ndim != 2 or xi.shape[1] != args.N:
                raise ValueError(f"patterns must have shape (P, N={args.N}), got {xi.shape}")
            return mf.Hopfield(xi, J=args.J, h=args.h)
        if args.P is None:
            raise ValueError("give --P (random patterns) or --patterns FILE.npy")
        return mf.Hopfield.random(args.N, args.P, seed=args.pattern_seed, J=args.J, h=args.h)
    if args.model == "maier-saupe":
        return mf.MaierSaupe(args.N, J=args.J, axes=None if args.axes is None else _load_npy(args.axes, "axes"))
    if args.model == "potts":
        return mf.MeanFieldPotts(args.N, q=args.q, J=args.J, h=args.h)
    if args.model == "sk":
        return mf.GraphSpinGlass.sk(args.N, J=args.J, h=args.h, couplings=args.couplings, seed=args.disorder_seed)
    return mf.GraphSpinGlass.ea(args.N, degree=args.degree, J=args.J, h=args.h, couplings=args.couplings,
                                seed=args.disorder_seed)


def _cmd_simulate_meanfield(args):
    from .meanfield_sampling import simulate_meanfield

    model = _meanfield_model(args)
    kwargs = {} if args.n_replicas is None else {"n_replicas": args.n_replicas}
    samples = simulate_meanfield(model, args.T, args.n_samples, seed=args.seed, sampler=args.sampler,
                                 backend=args.backend, progress=False if args.no_progress else None, **kwargs)
    samples.save(args.out)
    print(f"wrote {len(samples)} samples of {args.model} N={model.N} at T={args.T} to {args.out} "
          f"(sampler={samples.metadata['sampler']}, <E>/N={samples['energy'].mean() / model.N:.4f})")
    return 0


def _cmd_simulate_ising2d(args):
    from .lattice import LatticeModel
    from .simulate import simulate_lattice

    if args.disorder:
        model = LatticeModel.spin_glass(args.L, args.M, kind=args.disorder, J=args.J, h=args.h,
                                        seed=args.disorder_seed)
    else:
        model = LatticeModel(L=args.L, M=args.M, J=args.J, h=args.h, q=args.q)
    samples = simulate_lattice(model, args.T, args.n_samples, seed=args.seed, method=args.sampler,
                               backend=args.backend, order=args.order, n_replicas=args.n_replicas,
                               burn_in=args.burn_in, thin=args.thin, progress=False if args.no_progress else None,
                               checkpoint=args.checkpoint)
    samples.save(args.out)
    meta = samples.metadata
    print(f"wrote {len(samples)} samples of {model.name} {model.L}x{model.M} at T={args.T} to {args.out} "
          f"(sampler={meta['sampler']}, backend={meta['backend']}, burn-in={meta['burn_in']}, "
          f"thin={meta['thin']}, tau_int_max={meta['tau_int_max']:.2f} {meta['step_unit']}s, "
          f"<E>/N={samples['energy'].mean() / model.n_sites:.4f})")
    return 0


def _cmd_verify(args):
    from .verify import run_verification

    return 0 if run_verification(backend=args.backend, quick=args.quick, seed=args.seed) else 1


def _cmd_demo(args):
    from .demo import run_demo

    return run_demo(out=args.out, L=args.L, seed=args.seed, backend=args.backend, progress=not args.no_progress)


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = {"simulate": lambda a: (_cmd_simulate_ising2d if a.model == "ising2d" else _cmd_simulate_meanfield)(a),
                "verify": _cmd_verify, "demo": _cmd_demo}
    try:
        return handlers[args.command](args)
    except (ValueError, TypeError, RuntimeError, FileNotFoundError) as exc:
        print(f"fastmf: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
