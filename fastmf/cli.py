"""The ``fastmf`` command line::

    fastmf demo [--out DIR]
    fastmf simulate ising2d --L 24 [--M 24] --T 2.6 [--J 1] [--h 0] [--q 2] --n-samples 2000
                            [--sampler metropolis|heatbath|wolff|multispin] [--backend auto|cpu|cuda|cupy]
                            --seed 7 --out FILE.npz
    fastmf exact ising2d|curie-weiss|hopfield|potts|sk|ea [model parameters as in simulate] --T 2.0
                 [--json] [--profile contiguous|half|none] [--method auto|enumerate|count] [--max-states N]
    fastmf train SAMPLES.npz --latent-dim 2 [--beta 1] [--decoder bernoulli|categorical|gaussian|nematic|beta2]
                 [--hidden 256,256] [--nonlinear-decoder] [--prior mog|vamp|normal] [--n-components 32] [--epochs 100]
                 [--batch-size 128] [--lr 2e-3] [--lr-schedule cosine|constant] --seed 0 --out MODEL.npz
    fastmf generate MODEL.npz --n-samples 1000 [--from-data SAMPLES.npz] --seed 0 --out FILE.npz
    fastmf decode MODEL.npz --kind curie-weiss|hopfield|maier-saupe|generic [--n-patterns P] [--data S.npz] --out DIR
    fastmf compare A.npz B.npz [--model SAMPLES.npz] [--out REPORT.json] [--seed 0] [--splits 16]
    fastmf reproduce capacity|hopfield|curie-weiss|maier-saupe|potts-multinomial|... [--quick] --out DIR
    fastmf grid CONFIG.toml [--out DIR] [--workers N | --scheduler tcp://host:8786] [--no-progress]
    fastmf verify [--backend auto|cpu|cuda|cupy] [--quick]

Exit status: 0 on success; 2 when the input is refused (bad arguments, bad or wrong-kind files, sizes above the
memory limit FASTMF_MAX_MEMORY, bad output locations: checked before any work); 1 when the work fails (numerical
failure, out of memory, an I/O error, an internal error) or a run completes but misses a check (reproduce, verify,
demo) or leaves grid tasks missing; 130 on Ctrl-C, 143 on SIGTERM (cleaned up the same way). Every error is one
line ``fastmf: error: ...`` on stderr; ``--debug`` or FASTMF_DEBUG=1 shows the traceback instead. Files are
written atomically at the end; a command that aborts leaves nothing it created (a new checkpoint is removed when
the run is refused, kept when it is interrupted or the work fails, so that rerunning the command resumes).
"""
import argparse
import pathlib
import sys

from . import _cli_checks as checks, _cli_compare as compare_cli, _cli_vae as vae_cli
from ._cli_checks import (finite_float as _finite_float, int_list as _int_list, int_range,
                          nonnegative_int as _nonnegative_int,
                          out_file as _out_file, path as _path, positive_float as _positive_float, positive_int as _positive_int,
                          temperature as _temperature)
from ._cli_models import lattice_model, load_npy, meanfield_model
from ._version import __version__

_SAMPLERS = ("metropolis", "heatbath", "wolff", "multispin")
_BACKENDS = ("auto", "cpu", "cuda", "cupy")
_Q = int_range(2, 255, what="the number of states, an integer from 2 to 255 (q must be >= 2)")
#: more local worker processes than this need a cluster (--scheduler)
MAX_WORKERS = 256


class _Parser(argparse.ArgumentParser):
    """Argument errors in one line (exit status 2), pointing at --help instead of printing the usage."""

    def error(self, message):
        self.exit(2, f"fastmf: error: {message} (see '{self.prog} --help')\n")


def build_parser():
    """The argument parser of ``fastmf``.

    Returns
    -------
    argparse.ArgumentParser
        One subcommand per command; argument errors exit with status 2 in one line.
    """
    parser = _Parser(prog="fastmf", description="Fast many-body spin simulation and "
                                     "mean-field read-off. See README.md.")
    parser.add_argument("--version", action="version", version=f"fastmf {__version__}")
    parser.add_argument("--debug", action="store_true", help=f"show the traceback of an error (as {checks.DEBUG_ENV}=1 "
                        "does; --debug may also follow the command)")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="simulate the 2D Ising model across T_c and compare with Kaufman's "
                          "exact energy")
    demo.add_argument("--out", type=_path, default=pathlib.Path("fastmf-demo"),
                      help="directory for the sample files (created)")
    demo.add_argument("--L", type=int_range(2), default=32, help="even side of the Ising lattice")
    demo.add_argument("--seed", type=_nonnegative_int, default=7)
    demo.add_argument("--backend", choices=_BACKENDS, default="auto")
    demo.add_argument("--no-progress", action="store_true")

    simulate = sub.add_parser("simulate", help="draw equilibrium samples of a model")
    models = simulate.add_subparsers(dest="model", required=True)
    ising = _ising2d_parser(models)
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
    ising.add_argument("--checkpoint-every", type=_positive_float, default=30.0, metavar="SECONDS",
                       help="wall time between checkpoint writes, in every phase (default 30)")
    ising.add_argument("--out", type=_out_file, required=True, help="output .npz file")
    ising.add_argument("--no-progress", action="store_true", help="no progress bar")

    for p in _add_meanfield_parsers(models).values():
        _common_meanfield(p)

    exact = sub.add_parser("exact", help="exact log Z, entropy, energy and mutual-information cut profile "
                           "(enumeration, or counting for Curie-Weiss / Hopfield at large N)")
    exact_models = exact.add_subparsers(dest="model", required=True)
    parsers = {"ising2d": _ising2d_parser(exact_models), **_add_meanfield_parsers(exact_models, maier_saupe=False)}
    for name, p in parsers.items():
        _exact_arguments(p, with_temperature=name != "ising2d")

    vae_cli.add_train_parser(sub)
    vae_cli.add_generate_parser(sub)

    decode = sub.add_parser("decode", help="read mean-field parameters off a trained VAE's decoder; writes "
                            "DIR/decoded.json (and patterns.npy for hopfield / generic)")
    decode.add_argument("model", type=_path, help="model file written by fastmf train")
    decode.add_argument("--kind", choices=("curie-weiss", "hopfield", "maier-saupe", "generic"), required=True)
    decode.add_argument("--n-patterns", type=_positive_int, help="hopfield / generic: number of patterns "
                        "(default: the significant latent directions)")
    decode.add_argument("--axes", type=_path, help="maier-saupe: (D, 3) .npy axes (default: the model's)")
    decode.add_argument("--data", type=_path,
                        help="curie-weiss / maier-saupe: sample file (.npz) of the training data; the read-off then "
                             "uses latent draws from the aggregate posterior over it instead of the prior, which a "
                             "trained VAE under-weights in its rarer modes (ordered phases)")
    decode.add_argument("--seed", type=_nonnegative_int, default=0)
    decode.add_argument("--out", type=_path, required=True, help="output directory (created)")

    compare_cli.add_compare_parser(sub)
    reproduce = sub.add_parser("reproduce", help="run an experiment end to end (simulate, train, capacity, decode, "
                               "validate) and write DIR/report.md, summary.json and figures")
    reproduce.add_argument("name", choices=_experiment_names())
    reproduce.add_argument("--quick", action="store_true", help="smaller sizes (minutes on 2 cores)")
    reproduce.add_argument("--seed", type=_nonnegative_int, default=0)
    reproduce.add_argument("--out", type=_path, required=True, help="output directory (created)")
    reproduce.add_argument("--data", type=_path, help="retina: spike raster file (.mat v5/v7.3, .npy, .npz, "
                           ".h5, .csv/.txt; default ../shared/data/spikes15.mat)")
    reproduce.add_argument("--variable", help="retina: the array's name inside --data (when it holds several)")
    reproduce.add_argument("--salamander160", action="store_true",
                           help="retina: sample the N = 160 pairwise model in ../shared/data as the data")
    reproduce.add_argument("--maxent", choices=("auto", "yes", "no"),
                           help="retina: fit the pairwise and K-pairwise baselines (auto: up to 400 neurons)")
    glass = reproduce.add_argument_group("driven-glass (defaults: fastmf.experiments.driven_glass.DEFAULTS)")
    glass.add_argument("--graph", choices=("sk", "sparse"), help="SK (default) or a random 3-regular graph")
    glass.add_argument("--n-spins", type=_positive_int, help="spins of the glass (256; --quick 128)")
    glass.add_argument("--temperature", type=_positive_float, help="temperature T (0.05)")
    glass.add_argument("--h0", type=_positive_float, help="magnitude of the drive's field components (0.4)")
    glass.add_argument("--tau", type=_positive_int, help="sweeps between field switches (10)")
    glass.add_argument("--n-fields", type=_positive_int, help="fields K in the drive (4)")
    glass.add_argument("--chains", type=_positive_int, dest="n_chains", help="replicas (32; --quick 16)")
    glass.add_argument("--periods", type=_positive_int, dest="n_train",
                       help="drive periods before sampling (2000; --quick 1000)")
    glass.add_argument("--k-values", type=_int_list, help="memory-capacity scan, e.g. 2,4,8,16,32")
    glass.add_argument("--vae-beta", type=_positive_float, dest="beta",
                       help="weight of the beta-VAE's rate term (1)")
    glass.add_argument("--latent-dim", type=_positive_int, help="latents of the beta-VAE (8)")

    for name, text in (("grid", "run a parameter grid (TOML config) on local processes or a Dask cluster; "
                                "resumable; gathers one table and figures"),
                       ("sweep", "deprecated alias of 'fastmf grid' (removed in 0.3.0)")):
        grid = sub.add_parser(name, help=text)
        grid.add_argument("config", type=_path, help="grid config (.toml); see fastmf.grid")
        grid.add_argument("--out", type=_path, help="output directory (default: CONFIG without .toml, plus "
                          "'_grid')")
        grid.add_argument("--scheduler", help="address of a running Dask scheduler, e.g. tcp://host:8786 (default: "
                          "local worker processes)")
        grid.add_argument("--workers", type=int_range(1, MAX_WORKERS), help="local worker processes (default: the "
                          "CPU count)")
        grid.add_argument("--no-progress", action="store_true")

    verify = sub.add_parser("verify", help="run the exact checks (enumeration, Kaufman, Philox, backends); "
                            "exit status 1 on any failure")
    verify.add_argument("--backend", choices=_BACKENDS, default="auto")
    verify.add_argument("--quick", action="store_true", help="fewer, smaller checks")
    verify.add_argument("--seed", type=_nonnegative_int, default=12345)
    return parser


def _experiment_names():
    from .experiments import EXPERIMENTS  # light: the experiments load on demand
    return tuple(EXPERIMENTS)


def _ising2d_parser(models):
    ising = models.add_parser("ising2d", help="Ising (q = 2) or Potts (q > 2) model on an L x M periodic lattice")
    ising.add_argument("--L", type=_positive_int, required=True, help="rows")
    ising.add_argument("--M", type=_positive_int, help="columns (default: L)")
    ising.add_argument("--T", type=_temperature, required=True, help="temperature (> 0)")
    ising.add_argument("--J", type=_finite_float, default=1.0, help="coupling (J > 0 ferro, J < 0 antiferro)")
    ising.add_argument("--h", type=_finite_float, default=0.0, help="uniform field (favours state 0 for Potts)")
    ising.add_argument("--q", type=_Q, default=2, help="number of states: 2 = Ising, 3 to 255 = Potts")
    ising.add_argument("--disorder", choices=("pm", "gaussian"),
                       help="quenched random couplings of scale J (Edwards-Anderson spin glass)")
    ising.add_argument("--disorder-seed", type=_nonnegative_int, default=0)
    return ising


def _exact_arguments(p, with_temperature):
    if with_temperature:
        p.add_argument("--T", type=_temperature, required=True, help="temperature (> 0)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--profile", choices=("contiguous", "half", "none"), default="contiguous",
                   help="mutual-information cuts: A = sites 0..k-1 (mi_profile), named half-half cuts, or none")
    p.add_argument("--method", choices=("auto", "enumerate", "count"), default="auto",
                   help="auto: enumeration up to --max-states states, counting for Curie-Weiss / Hopfield above")
    p.add_argument("--max-states", type=_positive_int, default=2 ** 31,
                   help="largest number of states to enumerate (default 2**31)")


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


def _add_meanfield_parsers(models, maier_saupe=True):
    """The model parameters of the fully connected models, by name (simulate and exact add the rest)."""
    cw = models.add_parser("curie-weiss", help="Curie-Weiss model E = -(J/2N) M^2 - h M")
    cw.add_argument("--N", type=_positive_int, required=True)
    cw.add_argument("--J", type=_finite_float, default=1.0)
    cw.add_argument("--h", type=_finite_float, default=0.0)
    hop = models.add_parser("hopfield", help="Hopfield model E = -(J/2N) sum_mu (xi^mu . s)^2 - h sum s")
    hop.add_argument("--N", type=_positive_int, required=True)
    hop.add_argument("--P", type=_positive_int, help="number of random patterns (or give --patterns)")
    hop.add_argument("--patterns", type=_path, help="(P, N) .npy file of +-1 patterns")
    hop.add_argument("--pattern-seed", type=_nonnegative_int, default=0)
    hop.add_argument("--J", type=_finite_float, default=1.0)
    hop.add_argument("--h", type=_finite_float, default=0.0)
    parsers = {"curie-weiss": cw, "hopfield": hop}
    if maier_saupe:
        ms = models.add_parser("maier-saupe", help="Maier-Saupe nematic model (unit vectors, or --axes)")
        ms.add_argument("--N", type=_positive_int, required=True)
        ms.add_argument("--J", type=_finite_float, default=1.0)
        ms.add_argument("--axes", type=_path, help="(D, 3) .npy file of unit axes (discretised variant)")
        parsers["maier-saupe"] = ms
    potts = models.add_parser("potts", help="mean-field q-state Potts model E = -(J/2N) sum_k n_k^2 - h n_0")
    potts.add_argument("--N", type=_positive_int, required=True)
    potts.add_argument("--q", type=_Q, default=3, help="number of states (2 to 255)")
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
    parsers.update({"potts": potts, "sk": sk, "ea": ea})
    return parsers


def _cmd_simulate_meanfield(args):
    from .sampling.meanfield import simulate_meanfield

    checks.output_file(args.out, "--out", inputs=(getattr(args, "patterns", None), getattr(args, "axes", None)))
    model = meanfield_model(args)
    kwargs = {} if args.n_replicas is None else {"n_replicas": args.n_replicas}
    samples = simulate_meanfield(model, args.T, args.n_samples, seed=args.seed, sampler=args.sampler,
                                 backend=args.backend, progress=False if args.no_progress else None, **kwargs)
    samples.save(args.out)
    print(f"wrote {len(samples)} samples of {args.model} N={model.N} at T={args.T} to {args.out} "
          f"(sampler={samples.metadata['sampler']}, <E>/N={samples['energy'].mean() / model.N:.4f})")
    return 0


def _cmd_simulate_ising2d(args):
    from .sampling.simulate import simulate_lattice

    checks.distinct(args.checkpoint, args.out, "--checkpoint", "--out")
    checks.output_file(args.out, "--out", inputs=(args.checkpoint,))
    if args.checkpoint is not None:
        checks.output_file(args.checkpoint, "--checkpoint")
    model = lattice_model(args)
    with checks.keep_checkpoint_if_interrupted(args.checkpoint):
        samples = simulate_lattice(model, args.T, args.n_samples, seed=args.seed, method=args.sampler,
                                   backend=args.backend, order=args.order, n_replicas=args.n_replicas,
                                   burn_in=args.burn_in, thin=args.thin,
                                   progress=False if args.no_progress else None, checkpoint=args.checkpoint,
                                   checkpoint_every=args.checkpoint_every)
        samples.save(args.out)
    meta = samples.metadata
    print(f"wrote {len(samples)} samples of {model.name} {model.L}x{model.M} at T={args.T} to {args.out} "
          f"(sampler={meta['sampler']}, backend={meta['backend']}, burn-in={meta['burn_in']}, "
          f"thin={meta['thin']}, tau_int_max={meta['tau_int_max']:.2f} {meta['step_unit']}s, "
          f"<E>/N={samples['energy'].mean() / model.n_sites:.4f})")
    return 0


def _cmd_exact(args):
    import json
    import time

    from .exact.solver import solve

    t0 = time.perf_counter()
    model = lattice_model(args) if args.model == "ising2d" else meanfield_model(args)
    s = solve(model, 1.0 / args.T, method=args.method, max_states=args.max_states, profile=args.profile)
    out = {"model": args.model, "N": s.N, "q": s.q, "T": args.T, "method": s.method, **s.values,
           "seconds": time.perf_counter() - t0}
    if args.json:
        print(json.dumps(out))
        return 0
    print(f"{args.model} N={s.N} q={s.q} T={args.T} ({s.method}, {out['seconds']:.2f} s)")
    for key in ("log_z", "free_energy", "entropy", "mean_energy", "energy_variance"):
        print(f"  {key:<16} {out[key]: .10g}")
    for k, I in out.get("mi_profile", []):
        print(f"  I(0..{k - 1} ; {k}..{s.N - 1}) = {I:.6g} nats")
    for name, cut in out.get("mi_half_cuts", {}).items():
        print(f"  I(half {name}) = {cut['I']:.6g} nats")
    return 0


def _cmd_decode(args):
    from .decode.dispatch import decode_model
    from .io import OutputGuard
    from .vae import VAE

    checks.output_dir(args.out, "--out", inputs=(args.model, args.data, args.axes), names=checks.DECODE_FILES)
    axes = None if args.axes is None else load_npy(args.axes, "axes")
    with OutputGuard() as guard:  # an abort (error or Ctrl-C) leaves nothing it created
        result = decode_model(VAE.load(args.model), args.kind, n_patterns=args.n_patterns, data=args.data,
                              axes=axes, seed=args.seed)
        summary = result.save(guard.directory(args.out), model_file=str(args.model))
    print(f"decoded {args.kind} from {args.model}: " + ", ".join(
        f"{k} = {v:.4g}" for k, v in summary.items() if isinstance(v, float)) + f"; wrote {args.out / 'decoded.json'}")
    return 0


def _cmd_reproduce(args):
    from .experiments import run_experiment
    from .io import OutputGuard

    checks.output_dir(args.out, "--out", inputs=(args.data,), names=checks.REPRODUCE_FILES)
    options = {k: v for k, v in (("data", args.data), ("variable", args.variable),
                                 ("salamander160", args.salamander160 or None), ("maxent", args.maxent),
                                 ("graph", args.graph),
                                 ("n_spins", args.n_spins),
                                 ("temperature", args.temperature), ("h0", args.h0), ("tau", args.tau),
                                 ("n_fields", args.n_fields), ("n_chains", args.n_chains), ("n_train", args.n_train),
                                 ("k_values", args.k_values), ("beta", args.beta),
                                 ("latent_dim", args.latent_dim)) if v is not None}
    if args.name == "retina":
        options["progress"] = sys.stderr.isatty()
    with OutputGuard() as guard:  # an abort leaves nothing it created; a completed run keeps its full report
        report = run_experiment(args.name, guard.directory(args.out), quick=args.quick, seed=args.seed, **options)
    checks_done = report.summary["checks"]
    print(f"{args.name}: {sum(c['passed'] for c in checks_done.values())} of {len(checks_done)} checks passed; "
          f"report in {args.out / 'report.md'}")
    return 0 if report.passed else 1


def _cmd_verify(args):
    from .verify import run_verification

    checks.gpu_backend_usable(args.backend)
    return 0 if run_verification(backend=args.backend, quick=args.quick, seed=args.seed) else 1


def _cmd_demo(args):
    from .demo import check_demo, run_demo
    from .io import OutputGuard

    checks.output_dir(args.out, "--out")
    check_demo(L=args.L, backend=args.backend)
    with OutputGuard() as guard:  # an abort leaves nothing it created; a completed run keeps everything
        return run_demo(out=guard.directory(args.out), L=args.L, seed=args.seed, backend=args.backend,
                        progress=not args.no_progress)


def _cmd_grid(args):
    from .grid import run_grid
    if args.scheduler and args.workers:
        raise ValueError("--workers sizes the local cluster; with --scheduler the cluster's own workers run")
    if args.config.is_dir():
        raise IsADirectoryError(f"grid config {str(args.config)!r} is a directory, not a .toml file")
    out = args.out or args.config.with_name(args.config.stem + "_grid")
    checks.output_dir(out, "--out" if args.out else f"output directory (default for {args.config})",
                      inputs=(args.config,), names=checks.GRID_FILES)
    summary = run_grid(args.config, out, scheduler=args.scheduler, n_workers=args.workers,
                       progress=not args.no_progress and sys.stderr.isatty())
    return 0 if summary["missing"] == 0 else 1


def _cmd_sweep(args):
    print("fastmf: warning: 'fastmf sweep' is deprecated and goes in 0.3.0; use 'fastmf grid' (the same options; "
          "default output CONFIG_grid, --out CONFIG_sweep resumes an earlier run)", file=sys.stderr)
    return _cmd_grid(args)


_HANDLERS = {"exact": _cmd_exact, "train": vae_cli.train, "generate": vae_cli.generate, "decode": _cmd_decode,
             "reproduce": _cmd_reproduce, "grid": _cmd_grid, "sweep": _cmd_sweep, "verify": _cmd_verify,
             "demo": _cmd_demo, "compare": compare_cli.run,
             "simulate": lambda a: (_cmd_simulate_ising2d if a.model == "ising2d" else _cmd_simulate_meanfield)(a)}


def main(argv=None):
    """Run the ``fastmf`` command line.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default: ``sys.argv[1:]``). ``--debug`` (anywhere before ``--``) or the environment
        variable ``FASTMF_DEBUG=1`` lets an error raise, with its traceback, instead of the one-line message.

    Returns
    -------
    int
        Exit status: 0 on success; 1 when the work failed (RuntimeError, FloatingPointError, MemoryError, an
        OSError of the work, an internal error) or when it completed but a check failed (``reproduce``,
        ``verify``, ``demo``) or grid tasks are missing; 2 when the input was refused (bad arguments, bad or
        wrong-kind files, refused sizes, bad output locations); 130 on Ctrl-C; 143 on SIGTERM (cleaned up as
        Ctrl-C is). Argument errors raise
        SystemExit(2) from argparse. Every error is one line ``fastmf: error: ...`` on stderr.
    """
    debug, argv = checks.debug_requested(list(sys.argv[1:] if argv is None else argv))
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with checks.HeldWarnings(debug), checks.interrupts_survive_compilation():  # one error line on failure
            checks.check_arguments(parser, args)
            return _HANDLERS[args.command](args)
    except KeyboardInterrupt as exc:
        if debug:
            raise
        terminated = isinstance(exc, checks.Terminated)
        print(f"fastmf: {'terminated' if terminated else 'interrupted'}", file=sys.stderr)
        return 143 if terminated else 130
    except Exception as exc:
        if debug:
            raise
        status, message = checks.error_status(exc)
        print(f"fastmf: error: {message}", file=sys.stderr)
        return status


if __name__ == "__main__":
    sys.exit(main())
