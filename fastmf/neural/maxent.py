"""Pairwise maximum-entropy (Ising) models of binary neural data: :class:`PairwiseMaxEnt` and its fitter.

Convention (that of ``../shared/data/salamander160_*.npy``): spins ``s = +-1`` with spike = +1,
``P(s) ~ exp(1/2 s^T J s + h^T s)``, J symmetric with a zero diagonal, so ``E(s) = -(1/2 s^T J s + h^T s)``
is the energy of :class:`fastmf.models.meanfield.GraphSpinGlass` (``-sum_{i<j} J_ij s_i s_j - sum_i h_i s_i``) and
of :meth:`fastmf.exact.PairwiseModel.ising`; sampling and enumeration go through those.

:func:`fit_pairwise_maxent` maximises the L2-regularised log-likelihood
``(1/n) sum_t ln P(s_t) - (l2/2)(|h|^2 + sum_{i<j} J_ij^2)``, whose stationary point matches the model's means
``<s_i>`` and pair moments ``<s_i s_j>`` to the data's (up to ``l2`` times the parameters):

* ``"exact"`` (N <= 18): L-BFGS with exact gradients from all ``2**N`` states;
* ``"pseudolikelihood"``: one logistic regression of each neuron on the others, symmetrised (fast and
  consistent, but noisier than maximum likelihood; the starting point of ``"mcmc"``);
* ``"mcmc"``: from a pseudolikelihood start, persistent heat-bath chains (or parallel-tempering ladders) of the
  spin-glass kernels sample the model; by default momentum steps along (data - model) moments (Boltzmann
  learning), or with ``learner="reweighted"`` one trust-region step of importance-reweighted maximum likelihood
  per sample, with a sample that grows as the errors shrink, until the moments agree within the data's own
  sampling error (:mod:`fastmf.neural.maxent_learning`).
"""
import collections
import dataclasses
import json

import numpy as np
import scipy.optimize
import scipy.special

from .._version import __version__
from ..exact.enumeration import all_spins
from ..kernels.philox import check_seed
from ..kernels.validation import check_int, check_real
from ..io.samples import atomic_savez, read_npz
from ..io.raster import SpikeRaster
from .maxent_learning import boltzmann_learning, moment_errors
from .maxent_reweighted import reweighted_learning

__all__ = ["PairwiseMaxEnt", "fit_pairwise_maxent", "METHODS", "LEARNERS", "MAX_EXACT_N", "MAX_EXACT_FIT_N"]

METHODS = ("auto", "exact", "pseudolikelihood", "mcmc")
LEARNERS = ("reweighted", "gradient")
_FORMAT = "fastmf.PairwiseMaxEnt"
_ENERGY = "-(1/2 s^T J s + h^T s), s = +-1, spike = +1"
#: Largest N for :meth:`PairwiseMaxEnt.exact_log_probs` (2**20 states, 8 MiB of float64).
MAX_EXACT_N = 20
#: Largest N for ``method="exact"`` (every L-BFGS step touches all 2**N states); "auto" uses it up to N = 16.
MAX_EXACT_FIT_N = 18
_AUTO_EXACT_N = 16
_DEFAULT_TOL = {"exact": 1e-9, "pseudolikelihood": 1e-6, "mcmc": 1.0}
_DEFAULT_MAX_ITER = {"exact": 2000, "pseudolikelihood": 1000, "mcmc": 2000, "reweighted": 300}
#: first sample of "mcmc" per chain: sweeps ("gradient"), stored configurations ("reweighted")
_DEFAULT_FIRST_SAMPLE = {"gradient": 10, "reweighted": 40}
_LARGEST_SAMPLE = {"gradient": 5000, "reweighted": 2560}     # and the largest (at least the first)
#: the pseudolikelihood start of "mcmc": iterations, and a budget of distinct patterns x N^2 (the cost of one of
#: its steps; 4e8 is ~0.3 s): 20 000 patterns up to N = 141, 4 400 at N = 300
_PL_START_ITER, _PL_START_WORK = 200, 4e8


@dataclasses.dataclass(frozen=True, eq=False)
class PairwiseMaxEnt:
    """``P(s) ~ exp(1/2 s^T J s + h^T s)`` over ``s in {-1, +1}^N`` (spike = +1).

    Attributes
    ----------
    h : ndarray, shape (N,)
        Fields (read-only copy).
    J : ndarray, shape (N, N)
        Couplings: symmetric within 1e-10 (stored exactly symmetrised), zero diagonal (read-only copy).
    """

    h: np.ndarray
    J: np.ndarray

    def __post_init__(self):
        h = np.array(self.h, dtype=np.float64)
        J = np.array(self.J, dtype=np.float64)
        if h.ndim != 1 or h.size < 1:
            raise ValueError(f"h must be a 1-D array of N >= 1 fields, got shape {h.shape}")
        N = h.size
        if J.shape != (N, N):
            raise ValueError(f"J must have shape (N, N) = ({N}, {N}) to match h, got {J.shape}")
        if not (np.isfinite(h).all() and np.isfinite(J).all()):
            raise ValueError("h and J must be finite (no NaN or inf)")
        asym = float(np.abs(J - J.T).max())
        if asym > 1e-10:
            raise ValueError(f"J must be symmetric: max |J - J^T| = {asym:.3g} exceeds 1e-10")
        if np.any(np.diag(J) != 0):
            raise ValueError(f"J must have a zero diagonal, got max |J_ii| = {np.abs(np.diag(J)).max():.3g}")
        J = (J + J.T) / 2  # exactly symmetric for the kernels' check
        for name, value in (("h", h), ("J", J)):
            value.setflags(write=False)
            object.__setattr__(self, name, value)

    @property
    def N(self):
        return self.h.size

    def _spins(self, spins):
        s = np.asarray(spins)
        s = s.reshape(1, -1) if s.ndim == 1 else s
        if s.ndim != 2 or s.shape[1] != self.N:
            raise ValueError(f"spins must have shape (n, {self.N}) (or ({self.N},)), got {np.shape(spins)}")
        if not np.isin(s, (-1, 1)).all():
            raise ValueError("spins must be +-1 (spike = +1); convert 0/1 rasters with 2 x - 1")
        return s.astype(np.float64)

    def energy(self, spins):
        """``E(s) = -(1/2 s^T J s + h^T s)`` of configurations (n, N) (or one (N,)) of +-1: float64 (n,)."""
        s = self._spins(spins)
        return -(0.5 * np.einsum("ni,ni->n", s @ self.J, s) + s @ self.h)

    def as_spin_glass(self):
        """The same distribution as a :class:`fastmf.models.meanfield.GraphSpinGlass` at T = 1 (zero couplings left
        out of its CSR graph, so sparse J stay cheap to sample)."""
        from ..models.meanfield import GraphSpinGlass
        return GraphSpinGlass.from_dense(self.J, self.h, "pairwise-maxent", {"N": self.N})

    def sample(self, n_samples, *, seed, burn_in=200, thin=None, sampler="tempering", n_replicas=None,
               progress=False):
        """Equilibrium configurations, int8 +-1 of shape (n_samples, N); the result depends on the arguments
        alone (Philox streams keyed by ``seed``).

        Runs :func:`fastmf.sampling.meanfield.simulate_meanfield` on :meth:`as_spin_glass`: by default
        parallel tempering, because fitted retinal models can be bistable (a silent and a metastable
        all-firing state) and single-site chains started in the wrong one stay there; "mcmc": heat-bath.

        Parameters
        ----------
        n_samples : int
        seed : int
            ``0 <= seed < 2**32``.
        burn_in : int
            Steps (tempering steps or sweeps) discarded first.
        thin : int, optional
            Steps between samples of a chain. None: ``ceil(3 tau_int)`` from a pilot run after the burn-in
            (see :func:`fastmf.sampling.simulate.simulate_chains`); given: only a token 8-step pilot runs.
        sampler : {"tempering", "mcmc"}
        n_replicas : int, optional
            Independent chains (ladders); default ``min(32, max(1, n_samples // 50))``.
        progress : bool
            tqdm progress bar on stderr.
        """
        from ..sampling.meanfield import simulate_meanfield
        if sampler not in ("tempering", "mcmc"):
            raise ValueError(f"sampler must be 'tempering' or 'mcmc', got {sampler!r}")
        kwargs = {} if thin is None else dict(thin=check_int("thin", thin, 1), pilot_steps=8,
                                              max_pilot_steps=8)
        out = simulate_meanfield(self.as_spin_glass(), 1.0, check_int("n_samples", n_samples, 1),
                                 seed=check_seed(seed), sampler=sampler, backend="cpu", progress=bool(progress),
                                 burn_in=check_int("burn_in", burn_in, 0), n_replicas=n_replicas, **kwargs)
        return np.ascontiguousarray(out.spins, dtype=np.int8)

    def exact_log_probs(self):
        """``ln P(s)`` of all ``2**N`` states (N <= 20), enumerated by :func:`fastmf.exact.log_prob_table`.

        Entry ``k`` is the state with ``s_i = +1`` (spike) where bit ``i`` of ``k`` is set:
        ``k = sum_i x_i 2**i`` with ``x_i = (s_i + 1) / 2``.
        """
        from ..exact import PairwiseModel, log_prob_table
        if self.N > MAX_EXACT_N:
            raise ValueError(f"exact_log_probs enumerates 2**N states: N = {self.N} exceeds {MAX_EXACT_N}")
        return log_prob_table(PairwiseModel.ising(self.J, self.h, name="pairwise-maxent"), 1.0)

    def to_dict(self):
        """JSON-serialisable: ``model``, ``N``, ``energy`` (the convention), ``h`` and ``J`` as lists."""
        return {"model": "pairwise-maxent", "N": self.N, "energy": _ENERGY, "h": self.h.tolist(),
                "J": self.J.tolist()}

    def save(self, path):
        """Write ``h``, ``J`` and a JSON ``metadata`` string to ``path`` (.npz) atomically; returns path."""
        meta = {"format": _FORMAT, "fastmf_version": __version__, "N": self.N, "energy": _ENERGY}
        return atomic_savez(path, h=self.h, J=self.J, metadata=np.array(json.dumps(meta, sort_keys=True)))

    @classmethod
    def load(cls, path):
        """Read a model written by :meth:`save` (ValueError naming the problem for any other file)."""
        arrays, meta = read_npz(path, ("h", "J", "metadata"), "pairwise max-ent model")
        h, J, fmt = arrays["h"], arrays["J"], meta.get("format")
        if fmt != _FORMAT:
            raise ValueError(f"{str(path)!r} holds format {fmt!r}, not {_FORMAT!r}")
        if h.dtype.kind not in "iuf" or J.dtype.kind not in "iuf":
            raise ValueError(f"{str(path)!r} is damaged: h and J must be real numbers, found dtypes {h.dtype} and "
                             f"{J.dtype}")
        try:
            return cls(h, J)
        except ValueError as exc:
            raise ValueError(f"{str(path)!r} is not a valid pairwise max-ent model: {exc}") from None


# ---------------------------------------------------------------------------------------------- data
# distinct patterns (m, N) of +-1, their counts, the number of bins, <s_i>, <s_i s_j> (ones on the diagonal)
_Data = collections.namedtuple("_Data", "patterns counts n means pairs")


def _prepare_data(data):
    """Validate ``data`` (SpikeRaster or (n, N) array of +-1 or 0/1) and reduce it to distinct patterns:
    spikes are sparse, so recordings repeat few patterns many times (the silent one above all)."""
    if not isinstance(data, SpikeRaster):
        arr = np.asarray(data)
        if arr.dtype == object or arr.dtype.kind not in "biuf":
            raise ValueError(f"data must be a SpikeRaster or a numeric (n, N) array of +-1 or 0/1, "
                             f"got dtype {arr.dtype}")
        data = SpikeRaster.from_binary(arr, orientation="time_x_neurons")  # checks binary, names bad values
    if data.n_neurons < 2 or data.n_bins < 2:
        raise ValueError(f"a pairwise model needs at least 2 neurons and 2 time bins, got {data.n_bins} "
                         f"bins x {data.n_neurons} neurons")
    rows, counts = np.unique(data.packed, axis=0, return_counts=True)
    s = np.unpackbits(rows, axis=1, count=data.n_neurons).astype(np.float64) * 2 - 1
    w = counts / data.n_bins
    return _Data(s, counts.astype(np.float64), data.n_bins, w @ s, (s.T * w) @ s)


def _subsample(d, n_max, seed):
    """``d`` itself, or ``n_max`` bins drawn from it (multinomial, keyed by the seed) when it has more distinct
    patterns: enough for a starting point that learning then refines on the full data's moments."""
    if len(d.counts) <= n_max:
        return d
    counts = np.random.default_rng([seed, 1]).multinomial(n_max, d.counts / d.n)
    keep = counts > 0
    s, w = d.patterns[keep], counts[keep] / n_max
    return _Data(s, counts[keep].astype(np.float64), n_max, w @ s, (s.T * w) @ s)


def _check_l2(d, l2):
    """With l2 = 0 the maximum-likelihood parameters are infinite whenever a neuron, or one of the four joint
    states of a pair, never occurs: refuse instead of letting the optimiser drift."""
    if l2 > 0:
        return
    m, C = d.means, d.pairs
    joint = [(1 + a * m[:, None] + b * m[None, :] + a * b * C) / 4 for a in (-1, 1) for b in (-1, 1)]
    off = ~np.eye(m.size, dtype=bool)
    if np.any(np.abs(m) >= 1) or np.any(np.min(joint, axis=0)[off] <= 0.5 / d.n):
        raise ValueError("l2 = 0 has no finite solution for these data (a neuron or a joint state of a pair "
                         "never occurs); use l2 > 0")


# ---------------------------------------------------------------------------------------------- exact
def _exact_moments(h, J, S):
    """Means, pair moments and ln Z of the model over all states S (2**N, N)."""
    logw = 0.5 * np.einsum("ki,ki->k", S @ J, S) + S @ h
    log_z = scipy.special.logsumexp(logw)
    p = np.exp(logw - log_z)
    return p @ S, (S.T * p) @ S, log_z


def _lbfgs(objective, x0, max_iter, tol):
    # ftol = 0: stop on the gradient (tol) only, not on a stalled objective, for the 1e-6 moment match
    return scipy.optimize.minimize(objective, x0, jac=True, method="L-BFGS-B",
                                   options=dict(maxiter=max_iter, gtol=tol, ftol=0.0, maxcor=30))


def _result_info(res):
    return dict(iterations=int(res.nit), converged=bool(res.success), message=str(res.message))


def _unpack(theta, N, iu):
    J = np.zeros((N, N))
    J[iu] = theta[N:]
    return theta[:N], J + J.T


def _fit_exact(d, l2, max_iter, tol):
    N = d.means.size
    if N > MAX_EXACT_FIT_N:
        raise ValueError(f"method='exact' enumerates 2**N states: N = {N} exceeds {MAX_EXACT_FIT_N}; "
                         f"use method='mcmc'")
    S, iu = all_spins(N), np.triu_indices(N, 1)
    target = np.concatenate([d.means, d.pairs[iu]])

    def objective(theta):  # convex: ln Z - theta . <features>_data + l2/2 |theta|^2
        h, J = _unpack(theta, N, iu)
        m, C, log_z = _exact_moments(h, J, S)
        grad = np.concatenate([m, C[iu]]) - target + l2 * theta
        return log_z - theta @ target + 0.5 * l2 * theta @ theta, grad

    res = _lbfgs(objective, np.zeros(N + iu[0].size), max_iter, tol)
    h, J = _unpack(res.x, N, iu)
    m, C, _ = _exact_moments(h, J, S)
    info = dict(_result_info(res), max_abs_gradient=float(np.abs(res.jac).max()))
    return h, J, dict(info, **moment_errors(d, m, C))


# ------------------------------------------------------------------------------------ pseudolikelihood
def _fit_pseudolikelihood(d, l2, max_iter, tol):
    """Minimise ``sum_i (1/n) sum_t ln(1 + exp(-2 s_ti H_ti)) + l2/2 (|b|^2 + |W|^2)`` with
    ``H_ti = b_i + sum_{j != i} W_ij s_tj`` (``-ln P(s_i | s_-i)``: each neuron's logistic regression, solved
    jointly since they separate), then ``J = (W + W^T) / 2``, ``h = b``. The regressors are centred
    (``s_j - mu_j``, intercept ``c = b + W mu``): that decorrelates the intercept from the weights of sparse
    neurons and made L-BFGS 4x faster."""
    S, w, mu = d.patterns, d.counts / d.n, d.means
    N = S.shape[1]
    X, off = S - mu, ~np.eye(N, dtype=bool)

    def objective(theta):
        c, W = theta[:N], theta[N:].reshape(N, N) * off
        b = c - W @ mu
        x = 2 * S * (X @ W.T + c)
        loss = w @ np.logaddexp(0.0, -x).sum(axis=1)
        G = -2 * S * scipy.special.expit(-x) * w[:, None]        # d loss / d H
        gb = l2 * b                                               # the penalty acts on (b, W)
        grad_c, grad_W = G.sum(axis=0) + gb, (G.T @ X + l2 * W - np.outer(gb, mu)) * off
        return loss + 0.5 * l2 * (b @ b + np.sum(W ** 2)), np.concatenate([grad_c, grad_W.ravel()])

    c0 = np.arctanh(np.clip(mu, -1 + 1e-6, 1 - 1e-6))   # the independent model
    res = _lbfgs(objective, np.concatenate([c0, np.zeros(N * N)]), max_iter, tol)
    W = res.x[N:].reshape(N, N) * off
    return res.x[:N] - W @ mu, (W + W.T) / 2, dict(_result_info(res), pseudolikelihood=float(-res.fun))


# ---------------------------------------------------------------------------------------------- mcmc
def _fit_mcmc(d, l2, max_iter, tol, seed, n_chains, sweeps_per_iter, learning_rate, progress, sampler, learner,
              largest):
    """Learning (:mod:`fastmf.neural.maxent_learning`) from the pseudolikelihood fit of (a subsample of) the data.

    The start is penalised with ``max(l2, P / (100 n))``, P the number of parameters and n of bins: where P is
    comparable to n the unpenalised pseudolikelihood couplings are mostly noise, and the noise adds up to a collective
    state the data do not have. On salamander160 (P = 12 880, n = 2 x 10^4) the unpenalised start had no bin below
    10 spikes (58 % of the data), the start penalised with 0.0064 had 62 %; on a planted N = 30 model (P = 465) a
    start ridge of 1/sqrt(n) made learning 4 to 7 times longer than no ridge, as the trust region then limits the
    coherent growth of the couplings."""
    N = d.means.size
    n_start = int(min(20_000, max(2_000, _PL_START_WORK / N ** 2)))
    l2_start = max(l2, N * (N + 1) / 2 / (100 * d.n))
    h, J, pl_info = _fit_pseudolikelihood(_subsample(d, n_start, seed), l2_start, _PL_START_ITER, 1e-5)
    start = {"pseudolikelihood_iterations": pl_info["iterations"], "start_l2": l2_start}
    if learner == "gradient":
        return boltzmann_learning(d, h, J, l2, max_iter, tol, seed, n_chains, sweeps_per_iter, learning_rate,
                                  progress, sampler, start_info=dict(start, learner="gradient"), max_sweeps=largest)
    return reweighted_learning(d, h, J, l2, max_iter, tol, seed, n_chains, sweeps_per_iter, progress, sampler,
                               start_info=start, max_keep=largest)


# ---------------------------------------------------------------------------------------------- public
def fit_pairwise_maxent(data, *, method="auto", l2=1e-4, max_iter=None, tol=None, seed=0, n_chains=100,
                        sweeps_per_iter=None, max_sweeps_per_iter=None, learning_rate=0.3, sampler="heatbath",
                        learner="gradient", progress=False):
    """Fit ``P(s) ~ exp(1/2 s^T J s + h^T s)`` to binary data by (L2-regularised) maximum likelihood.

    Parameters
    ----------
    data : SpikeRaster or array_like, shape (n_bins, N)
        +-1 or 0/1 (spike = +1 or 1), not mixed; at least 2 bins and 2 neurons.
    method : {"auto", "exact", "pseudolikelihood", "mcmc"}
        See the module docstring; "auto" is "exact" for N <= 16 and "mcmc" otherwise.
    l2 : float
        Penalty ``(l2/2)(|h|^2 + sum_{i<j} J_ij^2)`` on the per-bin log-likelihood (>= 0). It keeps the fields
        of silent neurons finite; at the optimum the model's moments equal the data's minus ``l2`` times the
        corresponding parameter.
    max_iter : int, optional
        L-BFGS iterations ("exact", "pseudolikelihood") or learning steps ("mcmc"); defaults 2000, 1000, and for
        "mcmc" 300 (reweighted) or 2000 (gradient).
    tol : float, optional
        "exact" / "pseudolikelihood": L-BFGS tolerance on the largest gradient component (defaults 1e-9,
        1e-6). "mcmc": stop once the rms of the standardised moment errors ``(model - data) / sqrt(var_data +
        var_model)`` is at most ``tol`` (default 1.0: agreement within the data's sampling error) with the
        model's sampling variance at most the data's (median over the moments).
    seed : int
        Seed of every random draw ("mcmc" only): the result depends on the arguments alone, not on the number of
        threads.
    n_chains : int
        "mcmc": independent persistent chains or tempering ladders (>= 2), started on data patterns.
    sweeps_per_iter : int, optional
        "mcmc": the first sample per chain: stored configurations for "reweighted" (default 40; 2 tempering steps
        or 10 sweeps apart; the sample grows, up to 2560, as the errors reach its noise), sweeps for "gradient"
        (default 10; doubled, up to 5000, at the noise).
    max_sweeps_per_iter : int, optional
        "mcmc": the largest sample per chain and step (defaults 2560 stored configurations, "reweighted", and 5000
        sweeps, "gradient"). It bounds the cost of a step; a smaller one can leave the fit short of ``tol``
        (``converged = False``) when the data need a model sample that large to be matched at their precision.
    learning_rate : float
        "mcmc", ``learner="gradient"``: step size (halved, at most six times, if the errors blow up).
    sampler : {"heatbath", "tempering"}
        "mcmc": the persistent chains. "heatbath" (default): single-site chains, right for a model with one
        state but biased when it is bistable (a chain stays in the state it starts in for hundreds of sweeps).
        "tempering": ``n_chains`` parallel-tempering ladders of 8 temperatures measured at T = 1, 8x the work per
        step; a fitted retinal model can be bistable (a silent and an active state, on salamander160 also a rare
        all-firing one), and the ladders move between the states.
    learner : {"reweighted", "gradient"}
        "mcmc": "gradient" (default): Boltzmann learning with momentum
        (:func:`fastmf.neural.maxent_learning.boltzmann_learning`), a bounded cost per step, fine for models with
        one state; on the bistable salamander160 model it oscillates (the step times the largest curvature is
        ~100 times the stable limit). "reweighted" (use with ``sampler="tempering"``): each sample gives one
        trust-region L-BFGS step on the log-likelihood with ``ln Z`` estimated by importance reweighting of that
        sample (:func:`fastmf.neural.maxent_reweighted.reweighted_learning`); it takes the curvature of the sample
        into account, so the stiff collective direction of a bistable model neither oscillates nor stalls (it
        reaches the exact fit of a bistable N = 14 model), but its cost per step grows with the sample, which
        must hold as many effective draws as the data have bins: on salamander160 (N = 160, 20 000 bins) steps
        went from about 1 s to minutes. Check ``converged`` and ``rms_z``.
    progress : bool
        tqdm progress bar on stderr ("mcmc").

    Returns
    -------
    model : PairwiseMaxEnt
    info : dict
        ``method``, ``iterations``, ``converged``, ``n_bins``, ``N``, ``l2``, the final moment errors
        (``max_abs_error_means``, ``max_abs_error_pairs``, ``rms_z``, ``max_z``; exact moments for "exact",
        sampled for "mcmc", and for "pseudolikelihood" only when N <= 16) and method-specific entries
        (``history``, one record per learning step, and ``learner`` for "mcmc").
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if sampler not in ("tempering", "heatbath"):
        raise ValueError(f"sampler must be 'tempering' or 'heatbath', got {sampler!r}")
    if learner not in LEARNERS:
        raise ValueError(f"learner must be one of {', '.join(LEARNERS)}, got {learner!r}")
    l2 = check_real("l2", l2, nonnegative=True)
    seed = check_seed(seed)
    d = _prepare_data(data)
    N = d.means.size
    if method == "auto":
        method = "exact" if N <= _AUTO_EXACT_N else "mcmc"
    key = "reweighted" if method == "mcmc" and learner == "reweighted" else method
    max_iter = check_int("max_iter", _DEFAULT_MAX_ITER[key] if max_iter is None else max_iter, 1)
    tol = check_real("tol", _DEFAULT_TOL[method] if tol is None else tol, positive=True)
    _check_l2(d, l2)
    if method == "exact":
        h, J, info = _fit_exact(d, l2, max_iter, tol)
    elif method == "pseudolikelihood":
        h, J, info = _fit_pseudolikelihood(d, l2, max_iter, tol)
        if N <= _AUTO_EXACT_N:
            m, C, _ = _exact_moments(h, J, all_spins(N))
            info.update(moment_errors(d, m, C))
    else:
        first = check_int("sweeps_per_iter", _DEFAULT_FIRST_SAMPLE[learner] if sweeps_per_iter is None
                          else sweeps_per_iter, 1)
        largest = check_int("max_sweeps_per_iter", max(first, _LARGEST_SAMPLE[learner]) if max_sweeps_per_iter
                            is None else max_sweeps_per_iter, first)
        h, J, info = _fit_mcmc(d, l2, max_iter, tol, seed, check_int("n_chains", n_chains, 2), first,
                               check_real("learning_rate", learning_rate, positive=True), progress, sampler, learner,
                               largest)
    info = dict(method=method, n_bins=d.n, N=N, l2=l2, seed=seed, **info)
    return PairwiseMaxEnt(h, J), info
