"""A spin glass driven by switching fields: the work it absorbs, and the configurations it visits.

Model: a spin glass (:class:`fastmf.models.meanfield.GraphSpinGlass`, SK or a sparse random graph) at temperature T with
energy ``E(s; h) = -sum_{i<j} J_ij s_i s_j - sum_i h_i s_i``. A *drive* is a set of K site-field vectors
``h^(1..K)`` (components ``+-h0``, drawn at random); one is applied at a time and every ``tau`` sweeps it is
switched to another one drawn at random (uniformly among the other K - 1). Between switches the spins follow
Metropolis dynamics (the spin-glass kernels, :func:`fastmf.kernels.meanfield_cpu.glass_sweep`).

Work accounting: switching from ``h`` to ``h'`` at fixed configuration s changes the energy by
``W = E(s; h') - E(s; h) = -sum_i (h'_i - h_i) s_i``: the work the drive does on the system. During the sweeps
that follow, the energy changes only by heat exchanged with the bath (``Q``, negative on average as the system
relaxes), so ``E_end - E_start = sum W + sum Q`` exactly. The absorbed power is the work per sweep, ``W / tau``
for a period. A glass that has adapted to its drive sits in configurations that satisfy the fields it keeps
seeing, and absorbs less work at each switch than at the start; an unfamiliar field makes the work jump.

State (netket-style): :class:`DrivenGlass` is an immutable description (glass, T, drive, tau) and
:class:`DrivenState` the explicit state (spins, local fields, the sweep and switch counters, the field in
force); randomness comes from Philox streams keyed by the seed and those counters, so a run split into pieces
(or resumed from a saved state) is bit-identical to one run, and the schedule of fields depends on the seed alone.
"""
import dataclasses

import numpy as np

from ..kernels import meanfield_cpu as _mf
from ..kernels.philox import check_seed
from ..kernels.validation import check_int, check_real
from .meanfield import GraphSpinGlass

__all__ = ["DrivenGlass", "DrivenState", "DriveRecord", "random_drive"]


def random_drive(K, N, h0, seed=0):
    """K field vectors of N components ``+-h0`` (independent fair signs), shape (K, N)."""
    K, N = check_int("K", K, 1), check_int("N", N, 1)
    h0 = check_real("h0", h0, positive=True)
    rng = np.random.Generator(np.random.Philox(check_seed(seed)))
    return h0 * rng.choice([-1.0, 1.0], size=(K, N))


@dataclasses.dataclass
class DrivenState:
    """Explicit state of a driven run (what a checkpoint holds).

    Attributes
    ----------
    spins : ndarray int8 (n_chains, N)
    local_fields : ndarray float64 (n_chains, N), ``sum_j J_ij s_j``
    field_index : int, the drive field in force
    sweep : int, sweeps done (the Philox counter of the dynamics)
    n_switches : int, switches done (the counter of the schedule)
    seed : int
    """

    spins: np.ndarray
    local_fields: np.ndarray
    field_index: int
    sweep: int
    n_switches: int
    seed: int


@dataclasses.dataclass(frozen=True)
class DriveRecord:
    """What one call of :meth:`DrivenGlass.run` recorded, one row per period (a field held for tau sweeps).

    Attributes
    ----------
    field_index : ndarray int (n_periods,), the field in force during the period
    work : ndarray (n_periods, n_chains), the work absorbed at the switch that opened the period (0 for the
        first period of a fresh state, which opens with no switch)
    heat : ndarray (n_periods, n_chains), the energy change during the period's sweeps
    energy : ndarray (n_periods, n_chains), the energy at the end of the period (in the field in force)
    configs : ndarray int8 (n_periods, n_chains, N) or None, the configuration at the end of each period
    """

    field_index: np.ndarray
    work: np.ndarray
    heat: np.ndarray
    energy: np.ndarray
    configs: np.ndarray = None

    def power(self, tau):
        """Absorbed power: work per sweep, ``work / tau`` (n_periods, n_chains)."""
        return self.work / tau


@dataclasses.dataclass(frozen=True, eq=False)
class DrivenGlass:
    """A spin glass ``glass`` at temperature ``T`` driven by the fields ``drive`` (K, N), switched every ``tau``
    sweeps to another one at random (see the module docstring)."""

    glass: GraphSpinGlass
    T: float
    drive: np.ndarray
    tau: int

    def __post_init__(self):
        if not isinstance(self.glass, GraphSpinGlass):
            raise TypeError(f"glass must be a GraphSpinGlass (SK or sparse), got {type(self.glass).__name__}")
        object.__setattr__(self, "T", check_real("temperature T", self.T, positive=True))
        object.__setattr__(self, "tau", check_int("tau", self.tau, 1))
        drive = np.array(self.drive, dtype=np.float64)
        if drive.ndim != 2 or drive.shape[1] != self.glass.N or len(drive) < 1 or not np.isfinite(drive).all():
            raise ValueError(f"drive must be a finite (K >= 1, N = {self.glass.N}) array of fields, got shape "
                             f"{drive.shape}")
        drive.setflags(write=False)
        object.__setattr__(self, "drive", drive)

    @property
    def N(self):
        return self.glass.N

    @property
    def K(self):
        return len(self.drive)

    def energy(self, spins, field_index):
        """``E(s; h^(field_index))`` per configuration."""
        s = np.atleast_2d(np.asarray(spins, np.int8))
        return _mf.glass_energy(s, self.glass.local_fields(s), self.drive[field_index])

    def next_field(self, state):
        """The field the schedule switches to at switch number ``state.n_switches`` (a function of the seed and
        that counter only): uniform among the K - 1 others (the same one when K = 1)."""
        if self.K == 1:
            return 0
        draw = int(np.random.default_rng([state.seed, 0x5EED, state.n_switches]).integers(self.K - 1))
        return draw + (draw >= state.field_index)

    def init_state(self, n_chains, seed, field_index=None):
        """Random spins (Philox, keyed by the seed), the first field drawn by the schedule unless given."""
        seed = check_seed(seed)
        n_chains = check_int("n_chains", n_chains, 1)
        rng = np.random.Generator(np.random.Philox(seed))
        spins = rng.choice(np.array([-1, 1], np.int8), size=(n_chains, self.N))
        if field_index is None:
            field_index = int(np.random.default_rng([seed, 0x5EED]).integers(self.K))
        field_index = check_int("field_index", field_index, 0)
        if field_index >= self.K:
            raise ValueError(f"field_index must be < K = {self.K}, got {field_index}")
        return DrivenState(spins, self.glass.local_fields(spins), field_index, 0, 0, seed)

    def probe(self, state, field, *, seed, n_sweeps=None):
        """Apply ``field`` (N,) to copies of the state's configurations for ``n_sweeps`` sweeps (default tau).

        The state is left untouched (its chains go on with the drive); the probe's noise comes from its own
        ``seed``. Returns ``(work, configs)``: the work absorbed at the switch to ``field``, per chain, and the
        configurations at the end.
        """
        g = self.glass
        field = np.asarray(field, np.float64)
        if field.shape != (self.N,) or not np.isfinite(field).all():
            raise ValueError(f"field must be a finite array of shape ({self.N},), got {field.shape}")
        n_sweeps = self.tau if n_sweeps is None else check_int("n_sweeps", n_sweeps, 1)
        work = -state.spins @ (field - self.drive[state.field_index])
        spins, lf = state.spins.copy(), state.local_fields.copy()
        _mf.glass_sweep(spins, g.indptr, g.indices, g.weights, field, lf, 1.0 / self.T, seed=check_seed(seed),
                        sweep=0, n_sweeps=n_sweeps, check_values=False)
        return work, spins

    def run(self, state, n_periods, *, record_configs=False, switch_first=None):
        """Advance ``state`` (in place) by ``n_periods`` periods of ``tau`` Metropolis sweeps.

        Each period but the very first of a fresh state opens with a switch to :meth:`next_field` (its work is
        recorded); ``switch_first=False`` holds the current field for the first period of this call instead.
        Returns a :class:`DriveRecord`.
        """
        n_periods = check_int("n_periods", n_periods, 1)
        g, beta = self.glass, 1.0 / self.T
        c = state.spins.shape[0]
        idx = np.empty(n_periods, np.int64)
        work, heat, energy = (np.zeros((n_periods, c)) for _ in range(3))
        configs = np.empty((n_periods, c, self.N), np.int8) if record_configs else None
        if switch_first is None:
            switch_first = state.sweep > 0
        for p in range(n_periods):
            if p > 0 or switch_first:
                new = self.next_field(state)
                # W = E(s; h') - E(s; h) = -(h' - h) . s at fixed s
                work[p] = -state.spins @ (self.drive[new] - self.drive[state.field_index])
                state.field_index, state.n_switches = new, state.n_switches + 1
            h = self.drive[state.field_index]
            e0 = _mf.glass_energy(state.spins, state.local_fields, h)
            _mf.glass_sweep(state.spins, g.indptr, g.indices, g.weights, h, state.local_fields, beta,
                            seed=state.seed, sweep=state.sweep, n_sweeps=self.tau, check_values=False)
            state.sweep += self.tau
            # real couplings: recompute the local fields so rounding does not accumulate over long runs
            state.local_fields = g.local_fields(state.spins)
            energy[p] = _mf.glass_energy(state.spins, state.local_fields, h)
            heat[p] = energy[p] - e0
            idx[p] = state.field_index
            if record_configs:
                configs[p] = state.spins
        return DriveRecord(idx, work, heat, energy, configs)
