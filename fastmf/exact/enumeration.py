"""Exact results by enumerating every state of a finite model (N up to about 30 binary sites).

The engine (:mod:`fastmf.kernels.enumerate_cpu`) walks all ``q**N`` states in Gray-code order in parallel
chunks, one site change per step with the energy updated from maintained local fields, and streams: nothing
of size ``q**N`` is stored unless the full table is asked for (:func:`log_prob_table`).

* Integer levels: when all couplings and site terms are integer multiples of one unit (lattice models,
  Curie-Weiss, Hopfield, +-J glasses, ...) the energy is ``unit * L + const`` with an integer level L. The
  walk then counts states per (L, n_ref), exactly and for every temperature at once (the density of
  states), and Boltzmann weights come from a per-level table: no ``exp`` per state.
* Otherwise (Gaussian couplings) each state's weight is ``exp`` of its energy.

Information quantities use two facts. Marginal weights of the low digits (sites placed first) fit in a table
of ``q**|A|`` entries; the high digits are constant over aligned runs of ``q**|A|`` Gray steps, so their
marginal entropy is summed run by run. Any bipartition is therefore one pass with the smaller side placed
first, and the half-line cut profile is two passes (sites in order and reversed) that track the runs of every
length. Entropies are in nats; energies follow each model's convention (see :mod:`.pairwise`).
"""
import dataclasses
import math
import time

import numba
import numpy as np

from ..kernels import enumerate_cpu as _k
from . import info
from .pairwise import PairwiseModel

__all__ = ["EnumerationResult", "all_spins", "enumerate_model", "marginal", "mutual_information", "cut_profile",
           "half_cuts", "log_prob_table", "max_bipartition", "estimate_cost", "MAX_STATES", "MAX_TABLE_STATES"]

#: Largest number of states enumerated unless ``max_states`` is raised (2**31: N = 31 binary sites).
MAX_STATES = 2 ** 31
#: Largest full table (:func:`log_prob_table`): 2**24 float64 = 128 MiB.
MAX_TABLE_STATES = 2 ** 24
_MAX_LEVELS = 2_000_000
_MEMORY_BUDGET = 256 * 2 ** 20
# measured single-core costs per state on the development machine (for the estimate in error messages)
_NS_PER_STATE = {"histogram": 1.0, "weighted": 40.0}


# ------------------------------------------------------------------------------------ preparation
def all_spins(N):
    """Every state of N +-1 spins as float64 rows, row k having ``s_i = 2 ((k >> i) & 1) - 1`` (the index
    convention of :func:`log_prob_table`: ``k = sum_i x_i 2**i`` with ``x = (s + 1) / 2``)."""
    k = np.arange(2 ** N, dtype=np.int64)[:, None]
    return 2.0 * ((k >> np.arange(N)) & 1) - 1.0


def _unit(values):
    """The common unit of ``values`` (all integer multiples of it, to 1e-9), or None."""
    v = np.unique(np.abs(values[values != 0]))
    if v.size == 0:
        return 1.0
    for d in range(1, 25):
        u = v[0] / d
        r = v / u
        if np.all(np.abs(r - np.round(r)) <= 1e-9 * np.maximum(1.0, r)):
            return float(u)
    return None


@dataclasses.dataclass(frozen=True)
class _Prepared:
    """A model in the kernel's form: integer levels (``unit``) or float (``unit = None``)."""

    model: PairwiseModel
    indptr: np.ndarray
    indices: np.ndarray
    K: np.ndarray
    g: np.ndarray
    const: float
    unit: float
    L_lo: object
    L_hi: object
    lv: np.ndarray
    mode: int

    @property
    def integer(self):
        return self.unit is not None

    @property
    def scale(self):
        return self.unit if self.integer else 1.0


def _prepare(model):
    g0 = model.g - model.g[:, :1]  # per-site constants go into const
    const = model.const - float(model.g[:, 0].sum())
    iu = np.triu_indices(model.N, 1)
    pairs = model.K[iu]
    unit = _unit(np.concatenate([pairs, g0.ravel()]))
    if unit is not None:
        Ki = np.round(model.K / unit).astype(np.int64)
        gi = np.round(g0 / unit).astype(np.int64)
        lo = -int(np.maximum(Ki[iu], 0).sum()) - int(gi.max(axis=1).sum())
        hi = -int(np.minimum(Ki[iu], 0).sum()) - int(gi.min(axis=1).sum())
        if hi - lo + 1 > _MAX_LEVELS:
            unit = None
    if unit is None:
        Ki, gi = model.K.copy(), g0
        lo = -float(np.maximum(pairs, 0).sum()) - float(g0.max(axis=1).sum())
        hi = -float(np.minimum(pairs, 0).sum()) - float(g0.min(axis=1).sum())
    nz = Ki != 0
    indptr = np.concatenate([[0], np.cumsum(nz.sum(axis=1))]).astype(np.int64)
    indices = np.nonzero(nz)[1].astype(np.int64)
    weights = Ki[nz]
    lv = np.zeros(1, gi.dtype)
    if model.uniform:  # energy from the state counts: the kernel reads K[0] only
        weights = np.array([Ki[0, 1]], dtype=Ki.dtype)
        mode = _k.UNIFORM
        if model.q == 2:  # level as a function of n_ref
            n = np.arange(model.N + 1)
            counts = np.stack([n, model.N - n] if model.ref == 0 else [model.N - n, n], axis=1)
            lv = -(Ki[0, 1] * (counts * (counts - 1) // 2).sum(axis=1) + (gi[0] * counts).sum(axis=1))
            lv = lv.astype(gi.dtype)
            mode = _k.UNIFORM_BINARY
    else:
        mode = _k.BINARY if model.q == 2 else _k.GENERIC
    return _Prepared(model, indptr, indices, np.ascontiguousarray(weights), np.ascontiguousarray(gi), const, unit,
                     lo, hi, lv, mode)


def _chunking(N, q):
    """(c, n_groups): chunks of q**c states (about 4096 or more), about 256 of them when N is large."""
    def digits(n):
        return max(1, math.ceil(math.log(n) / math.log(q)))
    c = min(N, max(digits(4096), N - digits(256)))
    return c, int(min(q ** (N - c), 64))


def estimate_cost(N, q=2, integer=True, threads=None):
    """``(seconds, bytes)``: rough time of one enumeration pass on this machine and its working memory."""
    threads = threads or numba.get_num_threads()
    states = float(q) ** N
    seconds = states * _NS_PER_STATE["histogram" if integer else "weighted"] * 1e-9 / threads
    return seconds, 64 * (N + 1) * 8 * 4 * N + 64 * 2 ** 15 * 8


def _check_size(model, max_states):
    states = model.q ** model.N
    if states > max_states:
        prep_integer = _unit(np.concatenate([model.K[np.triu_indices(model.N, 1)], model.g.ravel()])) is not None
        seconds, nbytes = estimate_cost(model.N, model.q, prep_integer)
        raise ValueError(
            f"enumerating {model.q}**{model.N} = {states:.3g} states exceeds max_states = {max_states:.3g}: "
            f"estimated {seconds:.3g} s per pass on {numba.get_num_threads()} threads "
            f"({'integer' if prep_integer else 'float'} levels) and about {nbytes / 2 ** 20:.0f} MiB; raise "
            "max_states to run it anyway, or use the counting results of fastmf.exact.symmetric for "
            "permutation-symmetric models")


def _check_beta(beta):
    beta = float(beta)
    if not math.isfinite(beta) or beta < 0:
        raise ValueError(f"beta must be finite and >= 0, got {beta}")
    return beta


# ------------------------------------------------------------------------------------ results
@dataclasses.dataclass(frozen=True)
class EnumerationResult:
    """Exact thermodynamics of one model at one inverse temperature.

    Attributes
    ----------
    name, N, q, beta : the model and temperature.
    log_z : float
        ``ln Z``.
    free_energy : float
        ``F = -ln Z / beta`` (``nan`` at beta = 0).
    entropy : float
        Gibbs entropy ``S = ln Z + beta <E>`` (nats).
    mean_energy, energy_variance, specific_heat : float
        ``<E>``, ``Var E`` and ``beta**2 Var E`` (totals, not per site).
    n_ref_probs : ndarray, shape (N + 1,)
        Distribution of the number of sites in the reference state (spins: ``n_+``, magnetization
        ``M = 2 n_+ - N``; Potts: ``n_0``).
    order_parameter : dict
        Spins: ``<M>/N, <|M|>/N, <M**2>/N**2, <M**4>/N**4`` and the Binder cumulant; Potts: ``<n_0>/N``.
    n_states : int
    seconds : float
        Wall time of the enumeration (compilation excluded once cached).
    method : str
        ``"integer levels"`` (density of states) or ``"float weights"``.
    ground_energy : float
        Lowest energy of any state.
    """

    name: str
    N: int
    q: int
    beta: float
    log_z: float
    free_energy: float
    entropy: float
    mean_energy: float
    energy_variance: float
    specific_heat: float
    n_ref_probs: np.ndarray
    order_parameter: dict
    n_states: int
    seconds: float
    method: str
    ground_energy: float

    def to_dict(self):
        d = dataclasses.asdict(self)
        d["n_ref_probs"] = self.n_ref_probs.tolist()
        return d


def _order_parameter(model, probs):
    n = np.arange(model.N + 1)
    if model.spins:
        m = (2 * n - model.N) / model.N
        m2, m4 = float(probs @ m ** 2), float(probs @ m ** 4)
        return {"mean_m": float(probs @ m), "mean_abs_m": float(probs @ np.abs(m)), "mean_m2": m2,
                "mean_m4": m4, "binder": 1 - m4 / (3 * m2 ** 2) if m2 > 0 else float("nan")}
    return {"mean_n_ref_fraction": float(probs @ (n / model.N))}


def _histogram(prep):
    m = prep.model
    c, n_groups = _chunking(m.N, m.q)
    n_levels = prep.L_hi - prep.L_lo + 1
    # integer counts are exact in any grouping: a few groups per thread keep the zeroing and summing of the
    # per-group histograms cheap
    n_groups = max(1, min(n_groups, 4 * numba.get_num_threads(), _MEMORY_BUDGET // (8 * n_levels * (m.N + 1))))
    return _k.level_histogram(m.N, m.q, c, m.ref, prep.indptr, prep.indices, prep.K, prep.g, prep.lv, (0,) * prep.mode,
                              prep.L_lo, n_levels, n_groups)


def _weighted(prep, beta, L_ref, n_low=0, track=None, want_full=False):
    """Run :func:`weighted_pass`: returns its tuple with S over all levels 0..N combined (index k)."""
    m = prep.model
    N, q = m.N, m.q
    c, n_groups = _chunking(N, q)
    n_groups = max(1, min(n_groups, _MEMORY_BUDGET // (8 * q ** n_low + 8 * (N + 1))))
    beta_u = beta * prep.scale
    if prep.integer:
        levels = np.arange(prep.L_lo, prep.L_hi + 1, dtype=np.float64)
        wtab = np.exp(-beta_u * (levels - L_ref))
    else:
        wtab = np.zeros(0)
    tr = np.zeros(N + 1, np.bool_) if track is None else np.asarray(track, np.bool_)
    *per_group, totals, full = _k.weighted_pass(
        N, q, c, m.ref, prep.indptr, prep.indices, prep.K, prep.g, prep.lv, (0,) * prep.mode, wtab, int(prep.L_lo) if
        prep.integer else 0, beta_u, float(L_ref), n_low, tr[:c + 1].copy(), want_full, n_groups)
    Z, ZL, ZL2, hist, low, S_in = (np.sum(a, axis=0) for a in per_group)
    S = np.zeros(N + 1)
    S[:c + 1] = S_in
    for k in range(c + 1, N + 1):  # blocks of q**(k-c) consecutive chunks
        if tr[k]:
            W = totals.reshape(-1, q ** (k - c)).sum(axis=1)
            W = W[W > 0]
            S[k] = float(np.sum(W * np.log(W)))
    return Z, ZL, ZL2, hist, low, S, full


def _ground_level(prep):
    """Lowest level (integer: from the density of states; float: one weight-free pass)."""
    if prep.integer:
        hist = _histogram(prep)
        return prep.L_lo + int(np.nonzero(hist.sum(axis=1))[0][0]), hist
    m = prep.model
    c, n_groups = _chunking(m.N, m.q)
    return float(_k.min_level(m.N, m.q, c, m.ref, prep.indptr, prep.indices, prep.K, prep.g, prep.lv, (0,) * prep.mode,
                              n_groups)), None


def enumerate_model(model, beta, max_states=MAX_STATES):
    """Exact ``ln Z``, free energy, entropy, energy moments and order-parameter distribution.

    Parameters
    ----------
    model : PairwiseModel or a fastmf model (LatticeModel, CurieWeiss, Hopfield, MeanFieldPotts,
        GraphSpinGlass)
    beta : float
        Inverse temperature (>= 0).
    max_states : int
        Refuse (with a time and memory estimate) above this many states.

    Returns
    -------
    EnumerationResult
    """
    model = model if isinstance(model, PairwiseModel) else PairwiseModel.from_model(model)
    beta = _check_beta(beta)
    _check_size(model, max_states)
    t0 = time.perf_counter()
    prep = _prepare(model)
    if prep.integer:
        hist = _histogram(prep)
        levels = np.arange(prep.L_lo, prep.L_hi + 1)
        occupied = hist.sum(axis=1) > 0
        E = prep.unit * levels[occupied] + prep.const
        counts = hist[occupied]
        with np.errstate(divide="ignore"):  # empty (level, n_ref) cells: log 0 = -inf
            logw = np.log(counts.astype(np.float64)) - beta * E[:, None]
        log_z = float(np.logaddexp.reduce(logw, axis=None))
        p = np.exp(logw - log_z)
        pE = p.sum(axis=1)
        mean_E = float(pE @ E)
        var_E = float(pE @ (E - mean_E) ** 2)
        n_ref_probs = p.sum(axis=0)
        ground = float(E.min())
        method = "integer levels"
    else:
        L_gs, _ = _ground_level(prep)
        Z, ZL, ZL2, hist_w, *_ = _weighted(prep, beta, L_gs)
        log_z = float(np.log(Z) - beta * (L_gs + prep.const))
        mean_L = ZL / Z
        mean_E = float(mean_L + prep.const)
        var_E = float(max(ZL2 / Z - mean_L ** 2, 0.0))
        n_ref_probs = hist_w / Z
        ground = float(L_gs + prep.const)
        method = "float weights"
    seconds = time.perf_counter() - t0
    return EnumerationResult(
        name=model.name, N=model.N, q=model.q, beta=beta, log_z=log_z,
        free_energy=-log_z / beta if beta > 0 else float("nan"), entropy=log_z + beta * mean_E,
        mean_energy=mean_E, energy_variance=var_E, specific_heat=beta ** 2 * var_E, n_ref_probs=n_ref_probs,
        order_parameter=_order_parameter(model, n_ref_probs), n_states=model.q ** model.N, seconds=seconds,
        method=method, ground_energy=ground)


# ------------------------------------------------------------------------------------ information
def _setup(model, beta, max_states):
    model = model if isinstance(model, PairwiseModel) else PairwiseModel.from_model(model)
    beta = _check_beta(beta)
    _check_size(model, max_states)
    return model, beta


def _entropies(prep, beta, L_ref, n_low, track, want_full=False):
    """Returns (H_X, H_low, H_high[k], full) where H_high[k] is the entropy of digits k..N-1."""
    Z, ZL, _, _, low, S, full = _weighted(prep, beta, L_ref, n_low, track, want_full)
    logZ = math.log(Z)
    H_X = logZ + beta * prep.scale * (ZL / Z - L_ref)
    low = low[low > 0]
    H_low = logZ - float(np.sum(low * np.log(low))) / Z if n_low else 0.0
    H_high = logZ - S / Z
    return H_X, H_low, H_high, (full, logZ)


def _reference_level(prep):
    return _ground_level(prep)[0]


def marginal(model, beta, sites, max_states=MAX_STATES):
    """Exact marginal probabilities of ``sites`` (sorted), indexed ``sum_j x_{sites[j]} q**j`` (spins:
    ``x = (s + 1) / 2``), as :func:`fastmf.exact.info.marginal`."""
    model, beta = _setup(model, beta, max_states)
    s = info.check_subset(sites, model.N, "sites")
    if model.q ** len(s) > 2 ** 24:
        raise ValueError(f"a marginal over {len(s)} sites has {model.q}**{len(s)} entries; at most 2**24")
    rest = np.setdiff1d(np.arange(model.N), s)
    prep = _prepare(model.permuted(np.concatenate([s, rest])))
    Z, _, _, _, low, _, _ = _weighted(prep, beta, _reference_level(prep), n_low=len(s))
    return low / Z


def mutual_information(model, beta, A, max_states=MAX_STATES):
    """Exact ``I(A; B)`` (nats) between the sites A and the rest, in one pass (smaller side tabulated)."""
    model, beta = _setup(model, beta, max_states)
    a = info.check_subset(A, model.N)
    b = np.setdiff1d(np.arange(model.N), a)
    if a.size == 0 or b.size == 0:
        return 0.0
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    prep = _prepare(model.permuted(np.concatenate([small, large])))
    track = np.zeros(model.N + 1, bool)
    track[len(small)] = True
    H_X, H_small, H_high, _ = _entropies(prep, beta, _reference_level(prep), len(small), track)
    return float(H_small + H_high[len(small)] - H_X)


def half_cuts(N, n_random=3, seed=0):
    """Named half-half bipartitions: contiguous half, alternating sites, and ``n_random`` random halves."""
    rng = np.random.default_rng(seed)
    cuts = {"contiguous": list(range(N // 2)), "alternating": list(range(0, N, 2))[:N // 2]}
    for r in range(n_random):
        cuts[f"random{r}"] = sorted(rng.choice(N, N // 2, replace=False).tolist())
    return cuts


def cut_profile(model, beta, kind="contiguous", n_random=3, seed=0, max_states=MAX_STATES):
    """``I(A; B)`` against ``|A|``.

    Parameters
    ----------
    kind : {"contiguous", "random", "half"}
        ``contiguous``: A = sites 0..k-1 for k = 1..N-1 (two passes for the whole profile);
        ``random``: ``n_random`` random A of each size k = 1..N-1 (one pass each; seeded);
        ``half``: the bipartitions of :func:`half_cuts`.

    Returns
    -------
    list of (k or name, I) for contiguous / half; list of (k, [I, ...]) for random.
    """
    model, beta = _setup(model, beta, max_states)
    N = model.N
    if kind == "contiguous":
        track = np.ones(N + 1, bool)
        prep = _prepare(model)
        L_ref = _reference_level(prep)
        H_X, _, H_suffix, _ = _entropies(prep, beta, L_ref, 0, track)
        prep_r = _prepare(model.permuted(np.arange(N)[::-1]))
        _, _, H_rev, _ = _entropies(prep_r, beta, L_ref, 0, track)
        # reversed order: digits k..N-1 are the original sites 0..N-1-k
        return [(k, float(H_rev[N - k] + H_suffix[k] - H_X)) for k in range(1, N)]
    if kind == "random":
        rng = np.random.default_rng(seed)
        return [(k, [mutual_information(model, beta, sorted(rng.choice(N, k, replace=False).tolist()),
                                        max_states) for _ in range(n_random)]) for k in range(1, N)]
    if kind == "half":
        return [(name, mutual_information(model, beta, A, max_states))
                for name, A in half_cuts(N, n_random, seed).items()]
    raise ValueError(f"kind must be 'contiguous', 'random' or 'half', got {kind!r}")


def log_prob_table(model, beta, max_states=MAX_TABLE_STATES):
    """``ln p(x)`` of every state, plain index ``sum_i x_i q**i`` (the :mod:`.info` convention)."""
    model, beta = _setup(model, beta, max_states)
    prep = _prepare(model)
    *_, (full, logZ) = _entropies(prep, beta, _reference_level(prep), 0, None, want_full=True)
    return full - logZ


def max_bipartition(model, beta):
    """``(I_max, A)``: the largest ``I(A; B)`` over all bipartitions (binary models, N <= 16)."""
    model = model if isinstance(model, PairwiseModel) else PairwiseModel.from_model(model)
    if model.q != 2 or model.N > info.MAX_ALL_SUBSETS_N:
        raise ValueError(f"max_bipartition needs a binary model with N <= {info.MAX_ALL_SUBSETS_N}, got "
                         f"q = {model.q}, N = {model.N}")
    return info.max_bipartition_mi(log_prob_table(model, beta))
