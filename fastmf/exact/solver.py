"""One call for the exact thermodynamics of a model: enumeration or counting, chosen by size.

:func:`solve` is what ``fastmf exact`` runs: ``ln Z``, free energy, entropy, energy moments and a
mutual-information cut profile of a finite model, by Gray-code enumeration of every state
(:mod:`fastmf.exact.enumeration`) or, for the permutation-symmetric Curie-Weiss and Hopfield models, by
counting (:mod:`fastmf.exact.symmetric`), which reaches N in the thousands.
"""
import dataclasses
import math

from . import enumeration as en
from .pairwise import PairwiseModel

__all__ = ["ExactSolution", "METHODS", "PROFILES", "solve"]

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


def solve(model, beta, *, method="auto", max_states=en.MAX_STATES, profile="contiguous"):
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
        time and memory.
    profile : {"contiguous", "half", "none"} or None
        Mutual-information cuts: ``I(0..k-1 ; k..N-1)`` for every k (``values["mi_profile"]``), the named
        half-half cuts of :func:`fastmf.exact.enumeration.half_cuts` (``values["mi_half_cuts"]``), or none.

    Returns
    -------
    ExactSolution
        ``N``, ``q``, the method used and the results (``values``, plain JSON types).

    Raises
    ------
    ValueError
        For a bad argument, ``method="count"`` on a model that counting does not cover, or an enumeration
        over ``max_states`` states.
    TypeError
        For a model that cannot be mapped to a finite pairwise model.
    """
    from ..models.meanfield import CurieWeiss, Hopfield

    beta, profile = _check(beta, method, max_states, profile)
    pairwise = model if isinstance(model, PairwiseModel) else PairwiseModel.from_model(model)
    if method == "auto":
        too_many = pairwise.q ** pairwise.N > max_states
        method = "count" if too_many and isinstance(model, (CurieWeiss, Hopfield)) else "enumerate"
    if method == "count":
        values, mi = _count(model, beta, profile)
    else:
        values, mi = _enumerate(pairwise, beta, profile, max_states)
    if profile == "half":
        values["mi_half_cuts"] = {name: {"A": A, "I": float(mi(A))} for name, A in en.half_cuts(pairwise.N).items()}
    return ExactSolution(N=pairwise.N, q=pairwise.q, method=method, values=values)
