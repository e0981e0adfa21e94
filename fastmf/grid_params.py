"""The parameters of a grid's built-in tasks (see :mod:`fastmf.grid`): what each model and each stage takes.

* :data:`MODEL_PARAMS`: model -> the parameters that define the system (``N``, ``T``, ``J``, ``P``, ...). They are
  shared by every stage of a task (the simulation, the exact solution and the fresh samples of ``compare`` are of
  one system), so they are always written without a stage.
* :data:`STAGES`: stage -> :class:`Stage` (its own parameters, the models it takes, its result columns, what it
  needs from the stages before it and what it gives to those after it, the artifacts it can keep).
* :data:`LEGACY_TRAIN`: ``task = "train"`` alone, the one-latent Curie-Weiss pipeline of fastmf 0.1 (simulate, a
  VAE, the read-off, the exact half-cut information), kept with its parameters, ids and columns.
* :func:`task_schema`: the flat schema of a task (one stage, a chain or the legacy ``train``): every name a
  config may give, with the :class:`Param` objects each value is checked against, and the defaults.
* :func:`stage_values`: the values one stage of a task runs with (on the worker).

Naming. In a chain, a stage's parameter is given either with its stage, ``"train.epochs"`` (a dotted key, or the
key ``epochs`` in the sub-table ``[fixed.train]`` or ``[grid.train]``), or without one, ``epochs``: then it applies
to every stage of the chain that takes it (``seed`` gives every stage its seed); the stage's own key wins. A
parameter left out takes its default, stored in the task as ``"stage.name"``. A parameter whose default is None
(chosen at run time, e.g. the disorder seed that follows the seed) or that is marked ``implicit`` (added after
0.1 with a default that reproduces 0.1's tasks) is part of a task only when given, so that the task ids of grids
written before it existed do not change.
"""
import dataclasses
import math

__all__ = ["ARTIFACTS", "LEGACY_TRAIN", "MODEL_PARAMS", "Param", "STAGES", "Stage", "TaskSchema", "n_sites",
           "stage_values", "task_schema"]


@dataclasses.dataclass(frozen=True)
class Param:
    """One parameter of a task.

    Attributes
    ----------
    kind : {"int", "real", "choice", "bool", "widths", "text", "any"}
        An integer (not a bool), a finite real number (an integer is accepted and kept as given), one of
        ``choices``, true or false, hidden-layer widths (a positive integer or a non-empty list of them), a
        string, or anything (a user function's parameter without a checked annotation).
    default : object
        The value when the config does not give one, or a dict model -> value; None: chosen at run time.
    minimum : float, optional
        Lower bound (inclusive unless ``strict``).
    strict : bool
        The lower bound itself is excluded.
    maximum : int, optional
        Upper bound (inclusive).
    choices : tuple or dict
        The allowed values of a ``"choice"``, or model -> allowed values.
    doc : str
        What it is, for messages.
    implicit : bool
        Part of a task only when given (see the module docstring).
    """

    kind: str
    default: object
    minimum: float = None
    strict: bool = False
    maximum: int = None
    choices: object = ()
    doc: str = ""
    implicit: bool = False

    def default_for(self, model):
        """The default for ``model`` (None: chosen at run time)."""
        return self.default.get(model) if isinstance(self.default, dict) else self.default

    def _choices(self, model):
        return self.choices.get(model, ()) if isinstance(self.choices, dict) else self.choices

    def expected(self, model):
        """What a value must be, in words (for messages)."""
        if self.kind == "choice":
            choices = self._choices(model)
            text = "one of " + ", ".join(map(repr, choices)) + (f" for model {model!r}" if isinstance(
                self.choices, dict) and set(choices) != set().union(*self.choices.values()) else "")
        elif self.kind in ("bool", "widths", "text", "any"):
            text = {"bool": "true or false", "widths": "a positive integer or a non-empty list of positive integers",
                    "text": "a string", "any": "any value"}[self.kind]
        else:
            text = "an integer" if self.kind == "int" else "a finite real number"
            if self.minimum is not None:
                text += f" {'>' if self.strict else '>='} {self.minimum}"
            if self.maximum is not None:
                text += f" and <= {self.maximum}"
        return text + (f" ({self.doc})" if self.doc else "")

    def check(self, value, model):
        """``None`` when ``value`` is allowed for ``model``, else the exception class to raise (TypeError for a
        value of the wrong type, ValueError for one out of range)."""
        if self.kind == "choice":
            return None if isinstance(value, str) and value in self._choices(model) else \
                (ValueError if isinstance(value, str) else TypeError)
        if self.kind in ("bool", "text", "any"):
            return None if self.kind == "any" or isinstance(value, bool if self.kind == "bool" else str) \
                else TypeError
        if self.kind == "widths":
            items = value if isinstance(value, list) and value else [value]
            if any(isinstance(v, bool) or not isinstance(v, int) for v in items):
                return TypeError
            return None if all(v >= 1 for v in items) else ValueError
        number = (int,) if self.kind == "int" else (int, float)
        if isinstance(value, bool) or not isinstance(value, number):
            return TypeError
        if isinstance(value, float) and not math.isfinite(value):
            return ValueError
        if self.minimum is not None and (value <= self.minimum if self.strict else value < self.minimum):
            return ValueError
        return ValueError if self.maximum is not None and value > self.maximum else None


@dataclasses.dataclass(frozen=True)
class TaskSchema:
    """The legacy ``train`` task: its models, its parameters (in task order) and its result columns.

    Attributes
    ----------
    models : tuple of str
        The accepted models, the default first.
    params : dict
        Name -> :class:`Param`.
    results : tuple of str
        The result columns, in the order of the table (a result key not listed follows them, sorted).
    memory : callable
        ``memory(model, sizes)``: a lower estimate of one task's memory in bytes, ``sizes`` the largest value of
        each numeric parameter (the tuple of values of any other).
    """

    models: tuple
    params: dict
    results: tuple
    memory: object


@dataclasses.dataclass(frozen=True)
class Stage:
    """One stage of a task.

    Attributes
    ----------
    models : tuple of str
        The models it takes.
    params : dict
        Its own parameters, name -> :class:`Param` (the model's come from :data:`MODEL_PARAMS`).
    results : tuple of str
        Its result keys, in table order (a key not listed follows them, sorted).
    needs : tuple of str
        What an earlier stage of the chain must give: ``"samples"`` and/or ``"model"`` (a trained VAE).
    gives : str or None
        What it gives to the stages after it.
    artifact : str
        What ``keep`` may ask of it (see :data:`ARTIFACTS`).
    memory : callable
        ``memory(model, sizes)``: a lower estimate of its memory in bytes.
    """

    models: tuple
    params: dict
    results: tuple
    needs: tuple
    gives: object
    artifact: str
    memory: object


#: artifact of ``keep`` -> the file (or directory) it is under ``OUT/tasks/<id>/``
ARTIFACTS = {"samples": "samples.npz", "exact": "exact.json", "model": "model.npz", "decoded": "decoded",
             "compare": "compare.json"}

_SEED_MAX = 2 ** 32 - 1
_SEED = Param("int", 0, 0, maximum=_SEED_MAX, doc="random seed")
_N = Param("int", 32, 2, doc="number of spins")
_T = Param("real", 1.0, 0, True, doc="temperature")
_H = Param("real", 0.0, doc="field")
_J = Param("real", 1.0, doc="coupling", implicit=True)
_DISORDER_SEED = Param("int", None, 0, maximum=_SEED_MAX,
                       doc="seed of the quenched couplings; default: simulate's seed, 0 without one")
_MEANFIELD = ("curie-weiss", "hopfield", "potts", "maier-saupe", "sk", "ea")
#: every model of the stages, as ``fastmf simulate`` names them
MODELS = _MEANFIELD + ("ising2d",)

#: model -> its parameters (shared by every stage of a task)
MODEL_PARAMS = {
    "curie-weiss": dict(N=_N, T=_T, h=_H, J=_J),
    "hopfield": dict(N=_N, T=_T, h=_H, J=_J, P=Param("int", 2, 1, doc="number of random patterns, < N"),
                     pattern_seed=Param("int", 0, 0, maximum=_SEED_MAX, doc="seed of the random patterns")),
    "potts": dict(N=_N, T=_T, h=_H, J=_J, q=Param("int", 3, 2, maximum=255, doc="number of states")),
    "maier-saupe": dict(N=_N, T=_T, J=_J, axes=Param("choice", "icosahedral", choices=("icosahedral", "continuous"),
                                                     doc="the 6 icosahedral axes, or unit vectors")),
    "sk": dict(N=_N, T=_T, h=_H, J=_J, couplings=Param("choice", "gaussian", choices=("gaussian", "pm"),
                                                       implicit=True), disorder_seed=_DISORDER_SEED),
    "ea": dict(N=_N, T=_T, h=_H, J=_J, degree=Param("int", 3, 1, doc="degree of the random regular graph"),
               couplings=Param("choice", "pm", choices=("gaussian", "pm")), disorder_seed=_DISORDER_SEED),
    "ising2d": dict(L=Param("int", 8, 2, doc="rows"), M=Param("int", None, 2, doc="columns; default: L"), T=_T,
                    J=_J, h=_H, q=Param("int", 2, 2, maximum=255, doc="states: 2 Ising, more Potts"),
                    disorder=Param("choice", "none", choices=("none", "pm", "gaussian"),
                                   doc="quenched couplings of scale J (Edwards-Anderson)"),
                    disorder_seed=_DISORDER_SEED),
}


def n_sites(model, sizes):
    """Sites of ``model`` with the (largest) sizes ``sizes`` (``N``, or ``L`` and ``M``)."""
    if model == "ising2d":
        return sizes.get("L", 8) * (sizes.get("M") or sizes.get("L", 8))
    return sizes.get("N", 32)


def _samples_bytes(model, s):
    N, n = n_sites(model, s), s.get("n_samples", 2000)
    axes = s.get("axes", ())
    continuous = "continuous" in (axes if isinstance(axes, tuple) else (axes,))
    extra = 16 * N * N if model in ("sk", "ea") else (24 * N * n if continuous else 0)
    return 17 * N * n + extra           # int8 + float64 spins and the energies; dense couplings; unit vectors


def _train_bytes(model, s):
    return _samples_bytes(model, s) + 13 * n_sites(model, s) * s.get("n_samples", 2000) * s.get("q", 2)


def _compare_bytes(model, s):
    from .stats.two_sample import comparison_bytes
    n = s.get("n_samples", 2000)
    return 2 * _samples_bytes(model, dict(s, n_samples=n)) + comparison_bytes(n, n, n_sites(model, s),
                                                                              s.get("q", 2))


def _none(model, s):
    return 0


_SAMPLERS = ("auto", "latent", "mcmc", "tempering")
_SPINS = ("curie-weiss", "hopfield", "sk", "ea", "ising2d")

#: stage -> :class:`Stage`
STAGES = {
    "simulate": Stage(
        MODELS,
        dict(n_samples=Param("int", 2000, 2, doc="samples; standard errors need two"), seed=_SEED,
             sampler=Param("choice", {m: "metropolis" if m == "ising2d" else "auto" for m in MODELS},
                           choices=dict({m: _SAMPLERS for m in ("curie-weiss", "hopfield", "potts", "maier-saupe")},
                                        sk=_SAMPLERS[:1] + _SAMPLERS[2:], ea=_SAMPLERS[:1] + _SAMPLERS[2:],
                                        ising2d=("metropolis", "heatbath", "wolff", "multispin")))),
        ("energy_per_spin", "energy_per_spin_se", "abs_m", "abs_m_se", "order", "order_se"),
        (), "samples", "samples", _samples_bytes),
    "exact": Stage(
        ("curie-weiss", "hopfield", "potts", "maier-saupe", "sk", "ea", "ising2d"),
        dict(method=Param("choice", "auto", choices=dict({m: ("auto", "enumerate") for m in MODELS},
                                                         **{m: ("auto", "enumerate", "count")
                                                            for m in ("curie-weiss", "hopfield")})),
             max_states=Param("int", 2 ** 24, 1, doc="largest number of states to enumerate")),
        ("log_z", "free_energy", "entropy", "mean_energy", "energy_variance", "order_parameter", "ground_energy",
         "mi_half", "mi_max", "solver"),
        (), None, "exact", _none),
    "train": Stage(
        MODELS,
        dict(latent_dim=Param("int", None, 1, doc="latent dimensions; default: 1 Curie-Weiss, P Hopfield, 5 "
                                                  "Maier-Saupe, q - 1 Potts, 2 otherwise"),
             beta=Param("real", 1.0, 0, doc="the VAE's KL weight"),
             decoder=Param("choice", "auto", choices=("auto", "bernoulli", "beta2", "categorical", "nematic"),
                           doc="auto: bernoulli for +-1 spins, categorical for Potts, nematic for Maier-Saupe"),
             mean_field=Param("bool", True, doc="decoder logits affine in z"),
             hidden=Param("widths", 256, doc="encoder hidden widths"),
             encoder=Param("choice", "mlp", choices=dict({m: ("mlp",) for m in _MEANFIELD},
                                                         ising2d=("mlp", "conv"))),
             prior=Param("choice", "mog", choices=("mog", "vamp", "normal")),
             n_components=Param("int", None, 1, doc="components of a learned prior"),
             epochs=Param("int", 100, 1, doc="epochs"), batch_size=Param("int", 128, 1, doc="minibatch size"),
             lr=Param("real", 2e-3, 0, True, doc="learning rate"),
             lr_schedule=Param("choice", "cosine", choices=("cosine", "constant")),
             kl_warmup=Param("int", 0, 0, doc="epochs of KL warm-up"),
             dtype=Param("choice", "float32", choices=("float32", "float64")), seed=_SEED),
        ("rate", "distortion", "elbo", "epochs_run"),
        ("samples",), "model", "model", _train_bytes),
    "decode": Stage(
        _SPINS + ("maier-saupe",),
        dict(kind=Param("choice", dict({m: "generic" for m in _SPINS},
                                       **{m: m for m in ("curie-weiss", "hopfield", "maier-saupe")}),
                        choices=dict({m: ("curie-weiss", "hopfield", "generic") for m in _SPINS},
                                     **{"maier-saupe": ("maier-saupe",)})),
             n_patterns=Param("int", None, 1, doc="patterns of the hopfield and generic read-offs"),
             posterior=Param("bool", True, doc="curie-weiss, maier-saupe: latent draws from the aggregate "
                                               "posterior over the samples instead of the prior"),
             seed=_SEED),
        ("beta_J", "beta_J_true", "beta_h", "beta_h_true", "fit_residual_rms", "prior_draws_beta_J",
         "prior_draws_beta_h", "S", "beta_J_identity", "beta_J_ml", "beta_J_proj", "beta_J_mf", "n_patterns",
         "n_significant", "min_overlap", "mean_overlap", "fraction_recovered"),
        ("samples", "model"), None, "decoded", _none),
    "compare": Stage(
        MODELS,
        dict(n_samples=Param("int", None, 4, doc="generated and fresh samples; default: simulate's n_samples"),
             latents=Param("choice", "prior", choices=("prior", "posterior"),
                           doc="z of the generated samples: the prior or the aggregate posterior of the samples"),
             splits=Param("int", 16, 1, maximum=1000, doc="half-splits of the fresh set for the floor"),
             triples=Param("int", 1000, 0, doc="random triples of the three-point row; 0: none"), seed=_SEED),
        tuple(f"{row}{suffix}" for row in ("means", "C_ij", "T_ijk", "P_M", "P_n_max", "energy", "basins")
              for suffix in ("", "_ratio")),
        ("samples", "model"), None, "compare", _compare_bytes),
}

#: ``task = "train"`` alone: fastmf 0.1's one-latent Curie-Weiss pipeline (simulate, VAE, read-off, exact MI)
LEGACY_TRAIN = TaskSchema(
    ("curie-weiss",),
    dict(N=_N, T=_T, h=_H, n_samples=Param("int", 4000, 100, doc="samples; the read-off needs 100"), seed=_SEED,
         beta=Param("real", 1.0, 0, doc="the VAE's KL weight"), epochs=Param("int", 30, 1, doc="epochs"),
         hidden=Param("int", 32, 1, doc="hidden units"), lr=Param("real", 3e-3, 0, True, doc="learning rate")),
    ("energy_per_spin", "energy_per_spin_se", "abs_m", "abs_m_se", "rate", "elbo", "mi_half_cut", "beta_J_readoff",
     "beta_h_readoff", "beta_J_true"),
    _train_bytes)


def _defaults(params, model, prefix=""):
    return {prefix + k: p.default_for(model) for k, p in params.items()
            if not p.implicit and p.default_for(model) is not None}


def task_schema(task, model):
    """The names a config of ``task`` may give, what each value must be, and the defaults.

    Parameters
    ----------
    task : str or tuple of str
        A stage (``"simulate"``, ``"exact"``), ``"train"`` (the legacy pipeline) or a chain of stages.
    model : str
        A key of :data:`MODEL_PARAMS`.

    Returns
    -------
    allowed : dict
        Name -> list of :class:`Param` that each of its values must satisfy (a stage-less name of a chain
        satisfies every stage that takes it).
    defaults : dict
        Name -> default of every parameter a task holds when the config does not give it (plain names for one
        stage, ``"stage.name"`` for the stage parameters of a chain).
    """
    if task == "train":
        return {k: [p] for k, p in LEGACY_TRAIN.params.items()}, _defaults(LEGACY_TRAIN.params, model)
    model_params = MODEL_PARAMS[model]
    if isinstance(task, str):
        params = dict(model_params, **STAGES[task].params)
        return {k: [p] for k, p in params.items()}, _defaults(params, model)
    allowed, defaults = {k: [p] for k, p in model_params.items()}, _defaults(model_params, model)
    for stage in task:
        for k, p in STAGES[stage].params.items():
            allowed[f"{stage}.{k}"] = [p]
            allowed.setdefault(k, []).append(p)
        defaults.update(_defaults(STAGES[stage].params, model, f"{stage}."))
    return allowed, defaults


def stage_values(params, stage, chained):
    """The values ``stage`` runs with: its parameters and the model's, from a task's parameters.

    Parameters
    ----------
    params : dict
        The task (see :meth:`fastmf.grid_schema.GridConfig.tasks`).
    stage : str
        A key of :data:`STAGES`.
    chained : bool
        The task is a chain (stage parameters may be given as ``"stage.name"``).

    Returns
    -------
    dict
        Every parameter of the model and of the stage: the stage's own key, else the stage-less one, else the
        default (None: chosen by the stage at run time).
    """
    model = params["model"]
    out = {k: params.get(k, p.default_for(model)) for k, p in MODEL_PARAMS[model].items()}
    for k, p in STAGES[stage].params.items():
        out[k] = params.get(f"{stage}.{k}", params.get(k, p.default_for(model))) if chained else \
            params.get(k, p.default_for(model))
    return out
