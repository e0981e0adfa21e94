"""One call for the exact thermodynamics of a model: enumeration or counting, chosen by size.

:func:`solve` is what ``fastmf exact`` runs: ``ln Z``, free energy, entropy, energy moments and a
mutual-information cut profile of a finite model, by Gray-code enumeration of every state
(:mod:`fastmf.exact.enumeration`) or, for the permutation-symmetric Curie-Weiss and Hopfield models, by
counting (:mod:`fastmf.exact.symmetric`), which reaches N in the thousands.

Limits, all checked before any work (see :func:`solve`): enumeration above ``max_states`` states; counting above
``max_work`` (:data:`MAX_WORK`) estimated table operations (:func:`estimate_count`, with the estimated time in
the message); any request whose memory estimate is above :func:`fastmf.io.memory_limit` (half the available
memory, or the environment variable ``FASTMF_MAX_MEMORY``). Refusals are :class:`fastmf.io.ResourceLimitError`
(a ValueError) or, for the existing per-method limits, ValueError.
"""
import dataclasses
import math

from ..io.files import ResourceLimitError, check_memory
from . import enumeration as en
from . import symmetric
from .pairwise import PairwiseModel

__all__ = ["ENUMERATION_CAP", "ExactSolution", "MAX_WORK", "METHODS", "NS_PER_OPERATION", "PROFILES", "estimate_count", "solve"]

#: Default largest counting work, in table operations (about 10 minutes at :data:`NS_PER_OPERATION`).
MAX_WORK = 2 * 10 ** 10
#: Rough time of one counting table operation (nanoseconds), for the time estimates in messages.
NS_PER_OPERATION = 30
#: Table operations per magnetization / up-count state of the counting thermodynamics (special functions).
_THERMO_OPS = 10
#: Bytes per magnetization (Curie-Weiss) or up-count state (Hopfield) of the counting tables.
_COUNT_BYTES = {"curie-weiss": 120, "hopfield": 200}
#: Largest N for which a refused enumeration builds its pairwise model to say more (integer levels or not).
_DESCRIBE_N = 900
#: Enumerations above this many states are refused whatever ``max_states`` says (centuries at 1 ns per state).
ENUMERATION_CAP = 2 ** 62

#: accepted ``method`` values of :func:`solve`
METHODS = ("auto", "enumerate", "count")
#: accepted ``profile`` values of :func:`solve`
PROFILES = ("contiguous", "half", "none")


@dataclasses.dataclass(frozen=True)
class ExactSolution:
    """Exact results of one model at one inverse temperature (see :func:`solve`).

    Attributes
    ----------
    N : int
        Number of sites.
    q : int
        States per site.
    method : str
        ``"enumerate"`` or ``"count"``: how the results were obtained.
    values : dict
        ``log_z``, ``free_energy``, ``entropy``, ``mean_energy``, ``energy_variance``; enumeration adds
        ``order_parameter``, ``ground_energy`` and ``levels``; ``mi_profile`` (a list of ``[k, I]``: the
        mutual information in nats between sites ``0..k-1`` and the rest) with ``profile="contiguous"``;
        ``mi_half_cuts`` (name -> ``{"A": sites, "I": nats}``) with ``profile="half"``. Plain JSON types.
    """

    N: int
    q: int
    method: str
    values: dict


def _count(model, beta, profile):
    """Counting results of a Curie-Weiss or Hopfield model and the mutual information of a site subset."""
    from ..models.meanfield import CurieWeiss, Hopfield
    from . import symmetric

    if isinstance(model, CurieWeiss):
        res = symmetric.curie_weiss_info(model.N, beta, model.J, model.h)
        profile_values = res.cut_profile() if profile == "contiguous" else None

        def mi(A):
            return res.mutual_information(len(A))
    elif isinstance(model, Hopfield):
        res = symmetric.hopfield_info(model.patterns, beta, model.J, model.h)
        profile_values = res.cut_profile() if profile == "contiguous" else None
        mi = res.mutual_information
    else:
        raise ValueError(f"counting applies to Curie-Weiss and Hopfield models only, not {type(model).__name__}; "
                         "use method='enumerate' (small N)")
    out = {"log_z": res.log_z, "free_energy": res.free_energy, "entropy": res.entropy,
           "mean_energy": res.mean_energy, "energy_variance": res.energy_variance}
    if profile_values is not None:
        out["mi_profile"] = [[k, float(profile_values[k])] for k in range(1, model.N)]
    return out, mi


def _enumerate(pairwise, beta, profile, max_states):
    """Enumeration results of a pairwise model and the mutual information of a site subset."""
    r = en.enumerate_model(pairwise, beta, max_states=max_states)
    out = {"log_z": r.log_z, "free_energy": r.free_energy, "entropy": r.entropy, "mean_energy": r.mean_energy,
           "energy_variance": r.energy_variance, "order_parameter": r.order_parameter,
           "ground_energy": r.ground_energy, "levels": r.method}
    if profile == "contiguous":
        out["mi_profile"] = [[k, I] for k, I in en.cut_profile(pairwise, beta, max_states=max_states)]

    def mi(A):
        return en.mutual_information(pairwise, beta, A, max_states=max_states)
    return out, mi


def _check(beta, method, max_states, profile):
    try:
        beta = float(beta)
    except (TypeError, ValueError):
        raise ValueError(f"beta must be a finite number >= 0, got {beta!r}") from None
    if not math.isfinite(beta) or beta < 0:
        raise ValueError(f"beta must be a finite number >= 0, got {beta}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    profile = "none" if profile is None else profile
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)} (or None), got {profile!r}")
    if isinstance(max_states, bool) or not isinstance(max_states, int) or max_states < 1:
        raise ValueError(f"max_states must be a positive integer, got {max_states!r}")
    return beta, profile


def _size(model):
    """``(N, q)`` of a model without building its pairwise form; None for objects ``from_model`` refuses."""
    from ..models.lattice import LatticeModel
    from ..models.meanfield import CurieWeiss, GraphSpinGlass, Hopfield, MeanFieldPotts
    if isinstance(model, PairwiseModel):
        return model.N, model.q
    if isinstance(model, LatticeModel):
        return model.n_sites, model.q
    if isinstance(model, (CurieWeiss, Hopfield, GraphSpinGlass)):
        return model.N, 2
    if isinstance(model, MeanFieldPotts):
        return model.N, model.q
    return None


def _too_many_states(N, q, max_states):
    """``q**N > max_states`` without computing a huge power."""
    if N * math.log2(q) > max_states.bit_length() + 1:
        return True
    return q ** N > max_states


def _refuse_enumeration(N, q, max_states):
    log10_states = N * math.log10(q)
    per_state = en.estimate_cost(1, q)[0] / q
    log10_seconds = log10_states + math.log10(per_state)
    duration = (f"10**{log10_seconds - math.log10(365.25 * 86400):.4g} years" if log10_seconds > 16
                else _duration(10.0 ** log10_seconds))
    limit = min(max_states, ENUMERATION_CAP)
    raise ResourceLimitError(
        f"enumerating {q}**{N} = 10**{log10_states:.4g} states exceeds " +
        (f"max_states = {max_states:.3g}" if limit == max_states else
         "the cap of 2**62 states that no max_states lifts") + f": estimated {duration} per pass; " +
        ("raise max_states to run it anyway, or use" if limit == max_states else "use") +
        " the counting results (method='count') for the permutation-symmetric Curie-Weiss and Hopfield models")


def estimate_count(model, profile="contiguous"):
    """The cost of counting a Curie-Weiss or Hopfield model (before any of it runs).

    Parameters
    ----------
    model : CurieWeiss or Hopfield
    profile : {"contiguous", "half", "none"}

    Returns
    -------
    work : int
        Table operations: ``10 (N + 1)`` for the Curie-Weiss thermodynamics (``10 prod_t (c_t + 1)`` for
        Hopfield), plus ``N**2 / 2`` for the Curie-Weiss contiguous profile or ``2 (k + 1) (N - k + 1)`` per half
        cut (``k = N // 2``); ``2 N prod_t (c_t + 1)`` for a Hopfield contiguous profile or ``N prod_t (c_t + 1)``
        per half cut. Each is roughly :data:`NS_PER_OPERATION` ns.
    nbytes : int
        Memory of the counting tables.
    n_states : int
        The number of magnetizations (N + 1) or up-count states ``prod_t (c_t + 1)``.
    """
    from ..models.counting import site_types
    from ..models.meanfield import CurieWeiss
    N = model.N
    n_cuts = 5 if profile == "half" else 0  # en.half_cuts: contiguous, alternating and three random halves
    if isinstance(model, CurieWeiss):
        n_states, kind = N + 1, "curie-weiss"
        k = N // 2
        extra = {"contiguous": N * (N + 1) // 2, "half": n_cuts * 2 * (k + 1) * (N - k + 1)}.get(profile, 0)
    else:
        counts = site_types(model.patterns)[1]
        n_states, kind = math.prod(int(c) + 1 for c in counts), "hopfield"
        extra = {"contiguous": 2 * N * n_states, "half": n_cuts * N * n_states}.get(profile, 0)
    work = _THERMO_OPS * n_states + extra
    return work, _COUNT_BYTES[kind] * n_states + 32 * N * getattr(model, "P", 1), n_states


def _check_count(model, profile, max_work):
    """Refuse counting above the documented limits, before any of it runs: the thermodynamics' work and memory
    first, then the profile's limits and work."""
    from ..models.meanfield import CurieWeiss, Hopfield
    if not isinstance(model, (CurieWeiss, Hopfield)):
        return  # _count says counting does not apply
    N = model.N
    work, nbytes, n_states = estimate_count(model, "none")
    if isinstance(model, Hopfield) and n_states > symmetric.HOPFIELD_MAX_STATES:
        return  # hopfield_info refuses it at once, with the counts
    _check_work(model, "none", work, max_work)
    check_memory(nbytes, f"counting {model.name} N={N} ({n_states:.3g} states)")
    if isinstance(model, CurieWeiss):
        if profile == "contiguous" and N > symmetric.MAX_PROFILE_N:
            raise ResourceLimitError(
                f"the contiguous mutual-information profile of Curie-Weiss N={N} needs N**2/2 = {N * N / 2:.3g} "
                f"Pascal-step entries, above the limit N <= {symmetric.MAX_PROFILE_N} (~3 s there); use "
                "profile='none' (or 'half' up to N ~ 21900)")
        k = N // 2
        if profile == "half" and (k + 1) * (N - k + 1) > symmetric.MAX_PAIR_WORK:
            raise ResourceLimitError(
                f"the half-half mutual information of Curie-Weiss N={N} needs a ({k + 1} x {N - k + 1}) = "
                f"{(k + 1) * (N - k + 1):.3g} grid per cut, above max_work={symmetric.MAX_PAIR_WORK:.3g} of "
                "fastmf.exact.symmetric; use profile='none'")
    _check_work(model, profile, estimate_count(model, profile)[0], max_work)


def _check_work(model, profile, work, max_work):
    if work > max_work:
        seconds = work * NS_PER_OPERATION * 1e-9
        raise ResourceLimitError(
            f"counting {model.name} N={model.N} (profile={profile!r}) needs about {work:.3g} table operations, "
            f"roughly {_duration(seconds)}, above max_work={max_work:.3g}; pass a larger max_work"
            + (" (or profile='none')" if profile != "none" else "") + " to run it anyway")


def _duration(seconds):
    if seconds > 3e16:
        return f"10**{math.log10(seconds / (365.25 * 86400)):.4g} years"
    for unit, size in (("years", 365.25 * 86400), ("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} s"


def solve(model, beta, *, method="auto", max_states=en.MAX_STATES, profile="contiguous", max_work=MAX_WORK):
    """Exact thermodynamics and mutual-information cuts of a finite model at inverse temperature ``beta``.

    Parameters
    ----------
    model : LatticeModel, CurieWeiss, Hopfield, MeanFieldPotts, GraphSpinGlass or PairwiseModel
        The model (any model :meth:`PairwiseModel.from_model` maps, or a :class:`PairwiseModel`).
    beta : float
        Inverse temperature, finite and >= 0.
    method : {"auto", "enumerate", "count"}
        ``"enumerate"``: every one of the ``q**N`` states (:func:`fastmf.exact.enumeration.enumerate_model`);
        ``"count"``: counting by magnetisation / pattern overlaps, Curie-Weiss and Hopfield models only
        (:mod:`fastmf.exact.symmetric`); ``"auto"``: counting for those models when ``q**N > max_states``,
        enumeration otherwise.
    max_states : int
        Largest number of states to enumerate; above it enumeration raises ValueError with an estimate of its
        time and memory. Above :data:`ENUMERATION_CAP` (2**62) states enumeration is refused whatever
        ``max_states`` says.
    profile : {"contiguous", "half", "none"} or None
        Mutual-information cuts: ``I(0..k-1 ; k..N-1)`` for every k (``values["mi_profile"]``), the named
        half-half cuts of :func:`fastmf.exact.enumeration.half_cuts` (``values["mi_half_cuts"]``), or none.
    max_work : int
        Largest counting work in table operations (:func:`estimate_count`; default :data:`MAX_WORK`, about ten
        minutes). The Curie-Weiss thermodynamics costs about ``10 N`` operations and ``120 N`` bytes, so the
        default refuses N above about 2e9 and the memory limit (half the available memory) usually well
        before: raise ``max_work`` and set ``FASTMF_MAX_MEMORY`` (e.g. ``FASTMF_MAX_MEMORY=200G``) to override.
        The contiguous Curie-Weiss profile is limited to N <= ``fastmf.exact.symmetric.MAX_PROFILE_N`` and each
        half cut to ``fastmf.exact.symmetric.MAX_PAIR_WORK`` grid entries.

    Returns
    -------
    ExactSolution
        ``N``, ``q``, the method used and the results (``values``, plain JSON types).

    Raises
    ------
    ValueError
        For a bad argument, ``method="count"`` on a model that counting does not cover, or an enumeration
        over ``max_states`` states.
    fastmf.io.ResourceLimitError
        (a ValueError) Before any work, for counting above ``max_work`` or the profile limits, and for tables
        or couplings above the memory limit; the message has the estimate.
    TypeError
        For a model that cannot be mapped to a finite pairwise model.
    """
    from ..models.meanfield import CurieWeiss, Hopfield

    beta, profile = _check(beta, method, max_states, profile)
    if isinstance(max_work, bool) or not isinstance(max_work, int) or max_work < 1:
        raise ValueError(f"max_work must be a positive integer, got {max_work!r}")
    size = _size(model)
    if size is None:
        PairwiseModel.from_model(model)  # raises TypeError naming what it cannot map
    N, q = size
    if method == "auto":
        too_many = _too_many_states(N, q, max_states)
        method = "count" if too_many and isinstance(model, (CurieWeiss, Hopfield)) else "enumerate"
    if method == "count":
        _check_count(model, profile, max_work)
        values, mi = _count(model, beta, profile)
    else:
        if _too_many_states(N, q, ENUMERATION_CAP) or (_too_many_states(N, q, max_states) and N > _DESCRIBE_N):
            _refuse_enumeration(N, q, max_states)
        pairwise = model if isinstance(model, PairwiseModel) else PairwiseModel.from_model(model)
        values, mi = _enumerate(pairwise, beta, profile, max_states)
    if profile == "half":
        values["mi_half_cuts"] = {name: {"A": A, "I": float(mi(A))} for name, A in en.half_cuts(N).items()}
    return ExactSolution(N=N, q=q, method=method, values=values)
