"""``check_sampler``: does a sampler draw from exp(-E/T)/Z? Checked against exact enumeration.

For every small model of the kit that the sampler's declared capabilities cover (fields,
negative couplings, any graph or only the lattices its ``check_model`` accepts), the
sampler runs several independent seeds of chains; the states it visits are binned (single
states for n <= 12 spins, joint (energy, magnetisation) levels above) and compared with the
exact Boltzmann probabilities by Pearson's chi-square made autocorrelation-aware: counts
from a correlated chain fluctuate 2 tau_int times more than independent draws along each
direction of the residual vector, so X^2 is split into the part along the slow observables
(E, M, |M|, the overlap q with the most probable state, |q|), divided by 2 tau_int of the
slowest of them, and the rest, divided by the mean 2 tau_int of random contrasts of the
counts; the sum follows chi^2 with (bins - 1) degrees of freedom.

Negative controls: the same samples must be *rejected* as draws at T * f and T / f (f = 1.25
by default), so every pass is a pass of a test that had the power to fail. The running E
and M a sampler keeps must equal the energy and magnetisation of its states, the same seed
must give the same chains, ``bind(...).sweep()`` must make the moves of ``sweep(..., 1)``,
and the move counts must make sense. Zero-temperature dynamics
(``zero_temperature = True``) are checked instead for never raising the energy and for
stopping in local minima.

Seeds are fixed and the false-alarm rate per comparison is ``alpha`` (1e-4), so a sampler
that passes passes on every run.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from thermolearn.estimators.autocorrelation import integrated_autocorrelation_time
from thermolearn.exact.enumeration import probability_table, state_index_to_spins
from thermolearn.models.ising import Ising
from thermolearn.samplers.base import Sampler
from thermolearn.samplers.recording import Records
from thermolearn.samplers.state import ChainState

ALPHA = 1e-4  # false alarm rate per comparison; seeds are fixed, so a pass is a pass on every run
MIN_EXPECTED = 20.0  # expected count per kept bin; rarer bins are pooled
CONTROL_FACTOR = 1.25  # the negative controls: the samples must not pass as draws at T * f or T / f
MAX_EXACT_SPINS = 16  # enumeration of every state per temperature stays cheap
DEFAULT_SEEDS = (1, 2)


# ---------------------------------------------------------------------------- the models
def _ring(n: int, J: float, h: float) -> Ising:
    """A ring as a plain graph (no lattice geometry, so the generic kernels run)."""
    Jm = np.zeros((n, n))
    for i in range(n):
        Jm[i, (i + 1) % n] = Jm[(i + 1) % n, i] = J
    return Ising.from_dense(Jm, h, name=f"ring {n}")


def conformance_models() -> dict[str, tuple[Ising, float]]:
    """The kit's small models, name -> (model, temperature T): with and without fields,
    ferromagnetic and frustrated, generic graphs and periodic lattices (the fast paths)."""
    sk = Ising.sherrington_kirkpatrick(10, seed=5)
    return {
        "ferromagnet ring 10, field 0.3": (_ring(10, 1.0, 0.3), 2.0),
        "frustrated SK 10, random fields": (Ising(sk.couplings, np.random.default_rng(5).normal(0, 0.4, 10)), 0.9),
        "antiferromagnet open 3x4 grid, field 0.5": (
            Ising.lattice((3, 4), coupling=-1.0, field=0.5, periodic=False),
            1.6,
        ),
        "periodic 4x4 ferromagnet": (Ising.lattice((4, 4)), 2.5),
        "periodic 4x4 ferromagnet, field 0.1": (Ising.lattice((4, 4), field=0.1), 2.6),
        "periodic 4x4 +-J spin glass": (Ising.edwards_anderson(4, 2, seed=2), 1.2),
    }


# ---------------------------------------------------------------------------- the statistic
@dataclass(frozen=True)
class ExactBins:
    """The exact distribution over bins at one temperature: the bin of every state index,
    each bin's probability, each bin's mean of the slow observables (columns E, M, |M|, q,
    |q|) and the reference state of q (the most probable state)."""

    bin_of_state: np.ndarray
    p: np.ndarray
    observables: np.ndarray
    reference: np.ndarray


def exact_bins(model: Ising, temperature: float) -> ExactBins:
    """Bins of ``model``'s states and their exact probabilities at ``temperature`` (k_B = 1):
    single states for n <= 12 spins, joint (energy, magnetisation) levels for 13..16."""
    n = model.n_spins
    if n > MAX_EXACT_SPINS:
        raise ValueError(f"the conformance check enumerates every state: n_spins must be <= {MAX_EXACT_SPINS}, got {n}")
    p, energies = probability_table(model, temperature)
    states = state_index_to_spins(np.arange(p.size), n)
    reference = states[np.argmax(p)]
    m = states.sum(axis=1).astype(float)
    q = (states @ reference).astype(float)
    if n <= 12:
        bins = np.arange(p.size)
    else:
        levels = np.unique(np.round(energies, 9), return_inverse=True)[1].ravel()
        bins = levels * (n + 1) + (m.astype(np.int64) + n) // 2
    p_bins = np.bincount(bins, weights=p)
    mass = np.where(p_bins > 0, p_bins, 1.0)
    observables = np.stack(
        [
            np.bincount(bins, weights=p * f, minlength=p_bins.size) / mass
            for f in (energies, m, np.abs(m), q, np.abs(q))
        ],
        axis=1,
    )
    return ExactBins(bins, p_bins, observables, reference.astype(np.int64))


def _tau(x: np.ndarray) -> float:
    if np.ptp(x) == 0:
        return 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(integrated_autocorrelation_time(x).tau)


def chi_square_p_value(bins: np.ndarray, slow: Sequence[np.ndarray], exact: ExactBins) -> tuple[float, float, int]:
    """``(p-value, largest tau_int used, degrees of freedom)`` of the autocorrelation-aware
    chi-square of visited ``bins`` (n_chains, n_samples) against ``exact``.

    ``slow`` holds the series (n_chains, n_samples) of the slow observables E, M, |M|, q, |q|.
    Bins expected at least MIN_EXPECTED times are kept, the rest pooled. Pearson's X^2 is the
    squared length of r_b = (O_b - N p_b) / sqrt(N p_b); a correlated chain inflates each
    direction of r by 2 tau of the matching contrast of the counts: the projection of r on
    the slow observables' directions by the largest of their tau_int, the rest by the mean
    tau_int of random contrasts orthogonal to them (y_t = z_b / sqrt(p_b) at the bin b
    visited at sweep t). One tau for everything fails both ways: the energy's tau overstates
    a single state's (no power), the mean understates the slow modes' (false alarms).
    """
    n = int(bins.size)
    p_bins, observables = exact.p, exact.observables
    keep = p_bins * n >= MIN_EXPECTED
    pooled = int(np.count_nonzero(keep))
    merge = np.full(p_bins.size, pooled)
    merge[keep] = np.arange(pooled)
    if p_bins[~keep].sum() * n < MIN_EXPECTED:  # too little mass to test alone: join the most likely bin
        merge[~keep] = merge[int(np.argmax(np.where(keep, p_bins, -1.0)))]
    p = np.bincount(merge, weights=p_bins)
    f = (
        np.stack([np.bincount(merge, weights=p_bins * observables[:, j]) for j in range(observables.shape[1])], axis=1)
        / p[:, None]
    )
    merged = merge[bins]
    counts = np.bincount(merged.ravel(), minlength=p.size)
    r = (counts - n * p) / np.sqrt(n * p)
    # orthonormal basis of the slow directions (centred observables) and of the constraint sum(sqrt(p) r) = 0
    root = np.sqrt(p)
    basis = np.column_stack([root, root[:, None] * (f - p @ f)])
    q, rr = np.linalg.qr(basis)
    q = q[:, np.abs(np.diag(rr)) > 1e-9 * np.abs(rr).max()]
    slow_basis, rest = q[:, 1:], q
    x2_slow = float(np.sum((slow_basis.T @ r) ** 2))
    x2_rest = float(r @ r) - x2_slow  # r is orthogonal to root by construction
    tau_slow = max(0.5, *(_tau(x) for x in slow))
    rng = np.random.default_rng(0)
    contrasts = []
    for _ in range(8):
        z = rng.normal(size=p.size)
        z -= rest @ (rest.T @ z)
        contrasts.append(_tau(z[merged] / root[merged]))
    tau_rest = max(0.5, float(np.mean(contrasts)))
    dof = p.size - 1
    statistic = x2_slow / (2 * tau_slow) + x2_rest / (2 * tau_rest)
    if not math.isfinite(statistic):
        raise ValueError("the chi-square statistic is not finite: check that every bin with samples has p > 0")
    return float(stats.chi2.sf(statistic, dof)), max(tau_slow, tau_rest), dof


def record_bins(
    sampler: Sampler,
    model: Ising,
    state: ChainState,
    betas: np.ndarray,
    exact: ExactBins,
    n_samples: int,
    thin: int = 1,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Sweep ``state`` ``n_samples`` times ``thin`` sweeps, recording after each the bin of
    every chain's state and the slow series; returns ``(bins, [E, M, |M|, q, |q|])``, each
    (n_chains, n_samples). The series are the sampler's own running E and M."""
    weights = 1 << np.arange(model.n_spins, dtype=np.int64)
    bins = np.empty((state.n_chains, n_samples), dtype=np.int64)
    series = np.empty((3, state.n_chains, n_samples))
    for k in range(n_samples):
        sampler.sweep(model, state, betas, thin)
        bins[:, k] = exact.bin_of_state[(state.spins > 0).astype(np.int64) @ weights]
        series[0, :, k] = state.energy
        series[1, :, k] = state.magnetization
        series[2, :, k] = state.spins @ exact.reference
    e, m, q = series
    return bins, [e, m, np.abs(m), q, np.abs(q)]


# ---------------------------------------------------------------------------- the report
@dataclass(frozen=True)
class CaseResult:
    """One model at one temperature: the chi-square ``p_value`` (None for zero-temperature
    checks), its ``dof`` and the largest ``tau`` used, the negative controls' p-values, and
    the ``problems`` found (empty: the case passed)."""

    model: str
    temperature: float
    p_value: float | None = None
    dof: int = 0
    tau: float = float("nan")
    control_p_values: tuple[float, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class ConformanceReport:
    """What :func:`check_sampler` found: one :class:`CaseResult` per (model, temperature)
    and the models ``skipped`` with the reason (capabilities the sampler does not declare)."""

    sampler: str
    cases: tuple[CaseResult, ...]
    skipped: tuple[tuple[str, str], ...] = field(default=())
    alpha: float = ALPHA

    @property
    def passed(self) -> bool:
        return bool(self.cases) and all(c.passed for c in self.cases)

    @property
    def failures(self) -> tuple[CaseResult, ...]:
        return tuple(c for c in self.cases if not c.passed)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly record of every case."""
        return {
            "sampler": self.sampler,
            "passed": self.passed,
            "alpha": self.alpha,
            "cases": [
                {
                    "model": c.model,
                    "temperature": c.temperature,
                    "p_value": c.p_value,
                    "dof": c.dof,
                    "tau": None if not math.isfinite(c.tau) else c.tau,
                    "control_p_values": list(c.control_p_values),
                    "problems": list(c.problems),
                }
                for c in self.cases
            ],
            "skipped": [{"model": m, "reason": r} for m, r in self.skipped],
        }

    def __str__(self) -> str:
        lines = [f"conformance of {self.sampler}: {'passed' if self.passed else 'FAILED'} (alpha = {self.alpha:g})"]
        for c in self.cases:
            stat = (
                "zero-temperature checks"
                if c.p_value is None
                else f"p = {c.p_value:.3g} ({c.dof} dof, tau {c.tau:.2f})"
            )
            lines.append(f"  {'ok  ' if c.passed else 'FAIL'} {c.model} at T = {c.temperature:g}: {stat}")
            lines += [f"       - {p}" for p in c.problems]
        lines += [f"  skip {m}: {r}" for m, r in self.skipped]
        return "\n".join(lines)


# ---------------------------------------------------------------------------- the checks
def _declared_unsupported(sampler: Sampler, model: Ising) -> str | None:
    if not getattr(sampler, "supports_fields", True) and np.any(model.fields != 0):
        return "has fields; the sampler declares supports_fields = False"
    if not getattr(sampler, "supports_frustration", True) and np.any(model.data < 0):
        return "has negative couplings; the sampler declares supports_frustration = False"
    return None


def _bookkeeping_problems(model: Ising, state: ChainState) -> list[str]:
    out = []
    energy = np.atleast_1d(model.energy(state.spins))
    scale = 1e-9 * (1.0 + float(np.abs(model.data).sum()) + float(np.abs(model.fields).sum()))
    worst = float(np.max(np.abs(state.energy - energy)))
    if not worst <= scale:
        out.append(f"the running energy differs from E(spins) by {worst:.3g} (the kernels must keep E exact)")
    if not np.array_equal(state.magnetization, state.spins.sum(axis=1, dtype=np.int64).astype(np.float64)):
        out.append("the running magnetisation differs from the sum of the spins")
    return out


def _stats_problems(st: Any, n_chains: int) -> list[str]:
    accepted, attempted = np.asarray(st.accepted), np.asarray(st.attempted)
    if accepted.shape != (n_chains,) or attempted.shape != (n_chains,):
        return [
            f"SweepStats must hold one count per chain ({n_chains}), got shapes {accepted.shape}, {attempted.shape}"
        ]
    if np.any(accepted < 0) or np.any(accepted > attempted):
        return ["SweepStats.accepted must lie between 0 and attempted"]
    return []


def _reproducibility_problems(sampler: Sampler, model: Ising, temps: np.ndarray, seed: int) -> list[str]:
    runs = []
    for _ in range(2):
        smp = copy.deepcopy(sampler)
        state = ChainState.new(model, temps.size, seed=seed)
        smp.reset(model, state)
        smp.sweep(model, state, 1.0 / temps, 5)
        runs.append(state)
    a, b = runs
    same = all(np.array_equal(x, y) for x, y in zip(a.arrays().values(), b.arrays().values()))
    return [] if same else [f"the same seed ({seed}) gave different chains"]


def _block_problems(sampler: Sampler, model: Ising, temps: np.ndarray, seed: int) -> list[str]:
    """A sampler that declares ``sweep_blocks`` must make the same chains from one call of 6
    sweeps as from 6 calls of one (runs rely on it to sweep between records in one call)."""
    if not getattr(sampler, "sweep_blocks", False):
        return []
    runs = []
    for cuts in ([6], [1] * 6):
        smp = copy.deepcopy(sampler)
        state = ChainState.new(model, temps.size, seed=seed)
        smp.reset(model, state)
        for n in cuts:
            smp.sweep(model, state, 1.0 / temps, n)
        runs.append(state)
    a, b = runs
    same = all(np.array_equal(x, y) for x, y in zip(a.arrays().values(), b.arrays().values()))
    return [] if same else ["declares sweep_blocks, but one call of 6 sweeps differs from 6 calls of one sweep"]


def _bound_problems(sampler: Sampler, model: Ising, temps: np.ndarray, seed: int) -> list[str]:
    """``sampler.bind(model, state, betas).sweep()`` must make the moves of ``sweep(model, state,
    betas, 1)`` and return the spins flipped (the SweepStats' accepted, summed): with the chains'
    betas, and for a sampler of one temperature also one chain at one float beta (where samplers
    keep a compiled per-sweep call, which the bound object then calls directly)."""
    cases: list[tuple[int, float | np.ndarray]] = [(temps.size, 1.0 / temps)]
    if not getattr(sampler, "needs_ladder", False) and _chain_count(sampler, 1) == 1:
        cases.append((1, float(1.0 / temps[0])))
    problems = []
    for n_chains, betas in cases:
        outputs = []
        for bound in (True, False):
            smp = copy.deepcopy(sampler)
            state = ChainState.new(model, n_chains, seed=seed)
            smp.reset(model, state)
            if bound:
                sweeps = smp.bind(model, state, betas)
                flips = [sweeps.sweep() for _ in range(6)]
            else:
                flips = [int(np.sum(smp.sweep(model, state, betas, 1).accepted)) for _ in range(6)]
            outputs.append((state, flips))
        (a, fa), (b, fb) = outputs
        same = all(np.array_equal(x, y) for x, y in zip(a.arrays().values(), b.arrays().values()))
        if not same or fa != fb:
            problems.append(f"bind(...).sweep() differs from sweep(..., 1) ({n_chains} chain(s))")
    return problems


def _record_problems(sampler: Sampler, model: Ising, temps: np.ndarray, seed: int) -> list[str]:
    """A sampler that declares ``records_in_kernel`` must record, in one call of
    ``sweep_and_record`` (4 records, 3 sweeps apart), what 4 calls of ``sweep(3)`` followed by a
    record from Python give, and leave the same chains (runs record that way)."""
    if not getattr(sampler, "records_in_kernel", False):
        return []
    n_chains, n = temps.size, model.n_spins
    outputs = []
    for in_kernel in (True, False):
        smp = copy.deepcopy(sampler)
        state = ChainState.new(model, n_chains, seed=seed)
        smp.reset(model, state)
        records = Records(
            1,  # the first record's index: a block continues a run
            4,
            np.zeros((n_chains, 6)),
            np.zeros((n_chains, 6)),
            np.zeros((n_chains, 2, n)),
            np.array([0, 0, 0, 1, 1, 1]),
            np.zeros((n_chains, 6, n), dtype=np.int8),
        )
        betas = 1.0 / temps
        if in_kernel:
            smp.sweep_and_record(model, state, betas, 3, records)
        else:
            for k in range(records.count):
                smp.sweep(model, state, betas, 3)
                records.write(records.first + k, state.energy, state.magnetization, state.spins)
        outputs.append((state, records))
    (a, ra), (b, rb) = outputs
    same = all(np.array_equal(x, y) for x, y in zip(a.arrays().values(), b.arrays().values()))
    same = same and all(
        np.array_equal(x, y)
        for x, y in zip(
            (ra.energy, ra.magnetization, ra.site_sums, ra.states),
            (rb.energy, rb.magnetization, rb.site_sums, rb.states),
        )
    )
    return (
        []
        if same
        else ["declares records_in_kernel, but sweep_and_record differs from sweep(thin) and a record per sample"]
    )


def _chain_count(sampler: Sampler, n_chains: int) -> int:
    multiple = max(1, int(getattr(sampler, "chain_multiple", 1)))
    return -(-n_chains // multiple) * multiple


def _finite_temperature_cases(
    sampler: Sampler,
    name: str,
    model: Ising,
    temperature: float,
    seeds: Sequence[int],
    n_chains: int,
    n_samples: int,
    burn_in: int,
    thin: int,
    alpha: float,
    control_factor: float,
) -> list[CaseResult]:
    if getattr(sampler, "needs_ladder", False):
        n_runs = max(1, n_chains // 2)
        temps = np.asarray(sampler.chain_temperatures(None, n_runs), dtype=np.float64)
    else:
        temps = np.asarray(sampler.chain_temperatures(temperature, _chain_count(sampler, n_chains)), dtype=np.float64)
    problems = _reproducibility_problems(sampler, model, temps, int(seeds[0]))
    problems += _block_problems(sampler, model, temps, int(seeds[0]))
    problems += _record_problems(sampler, model, temps, int(seeds[0]))
    problems += _bound_problems(sampler, model, temps, int(seeds[0]))
    first = exact_bins(model, float(temps[0]))  # bins and the reference state do not depend on T
    all_bins, all_slow = [], []
    for seed in seeds:
        smp = copy.deepcopy(sampler)
        state = ChainState.new(model, temps.size, seed=int(seed))
        smp.reset(model, state)
        betas = 1.0 / temps
        if burn_in:
            problems += _stats_problems(smp.sweep(model, state, betas, burn_in), temps.size)
        bins, slow = record_bins(smp, model, state, betas, first, n_samples, thin)
        problems += _bookkeeping_problems(model, state)
        all_bins.append(bins)
        all_slow.append(slow)
    bins = np.concatenate(all_bins, axis=0)
    slow = [np.concatenate([s[j] for s in all_slow], axis=0) for j in range(len(all_slow[0]))]
    out = []
    for T in np.unique(temps):
        rows = np.flatnonzero(temps == T)
        case_problems = sorted(set(problems))
        exact = exact_bins(model, float(T))
        p_value, tau, dof = chi_square_p_value(bins[rows], [s[rows] for s in slow], exact)
        if p_value <= alpha:
            case_problems.append(
                f"the visited states do not follow exp(-E/T)/Z: chi-square p = {p_value:.3g} <= alpha = {alpha:g} "
                f"({dof} dof, tau_int = {tau:.2f})"
            )
        controls = []
        for wrong in (T * control_factor, T / control_factor):
            control = exact_bins(model, float(wrong))
            controls.append(chi_square_p_value(bins[rows], [s[rows] for s in slow], control)[0])
            if controls[-1] > alpha:
                case_problems.append(
                    f"negative control: the same samples also pass as draws at T = {wrong:.4g} (p = {controls[-1]:.3g}), "
                    "so this check has no power here; raise n_samples or the number of seeds"
                )
        out.append(CaseResult(name, float(T), p_value, dof, tau, tuple(controls), tuple(case_problems)))
    return out


def _zero_temperature_case(
    sampler: Sampler, name: str, model: Ising, seeds: Sequence[int], n_chains: int, max_sweeps: int
) -> CaseResult:
    n_chains = _chain_count(sampler, n_chains)
    temps = np.ones(n_chains)
    problems = _reproducibility_problems(sampler, model, temps, int(seeds[0]))
    problems += _block_problems(sampler, model, temps, int(seeds[0]))
    problems += _bound_problems(sampler, model, temps, int(seeds[0]))
    for seed in seeds:
        smp = copy.deepcopy(sampler)
        state = ChainState.new(model, n_chains, seed=int(seed))
        smp.reset(model, state)
        previous = state.energy.copy()
        tol = 1e-12 * (1.0 + float(np.abs(model.data).sum()) + float(np.abs(model.fields).sum()))
        minimum = False
        for _ in range(max_sweeps):
            st = smp.sweep(model, state, np.ones(n_chains), 1)
            problems += _stats_problems(st, n_chains)
            if np.any(state.energy > previous + tol):
                problems.append("a zero-temperature sweep raised the energy")
                break
            previous = state.energy.copy()
            if not np.any(st.accepted):
                de = np.stack([np.atleast_1d(model.flip_energy_change(state.spins, i)) for i in range(model.n_spins)])
                if np.all(de >= -tol):
                    minimum = True
                    break
        if not minimum and "a zero-temperature sweep raised the energy" not in problems:
            problems.append(f"the chains did not stop in local minima within {max_sweeps} sweeps (seed {seed})")
        problems += _bookkeeping_problems(model, state)
    return CaseResult(name, 0.0, problems=tuple(sorted(set(problems))))


def check_sampler(
    sampler: Sampler,
    *,
    models: Mapping[str, tuple[Ising, float]] | None = None,
    seeds: Sequence[int] = DEFAULT_SEEDS,
    n_chains: int = 8,
    n_samples: int = 2000,
    burn_in: int = 100,
    thin: int = 1,
    alpha: float = ALPHA,
    control_factor: float = CONTROL_FACTOR,
    raise_on_failure: bool = True,
) -> ConformanceReport:
    """Check that ``sampler`` (a :class:`thermolearn.samplers.Sampler`) leaves exp(-E/T)/Z
    invariant and samples it, against exact enumeration on small models (k_B = 1).

    Parameters
    ----------
    models : name -> (Ising model, temperature T); default :func:`conformance_models`, of
        which the models with fields or negative couplings are used only when the sampler
        declares ``supports_fields`` / ``supports_frustration``, and, for samplers with
        ``supports_any_graph = False``, only those its ``check_model`` accepts. A sampler
        with ``needs_ladder`` is checked at every temperature of its own ladder instead.
    seeds : independent runs; their chains are pooled.
    n_chains, n_samples, burn_in, thin : chains per seed (rounded up to the sampler's
        ``chain_multiple``), recorded samples per chain, sweeps discarded first, and sweeps
        between recorded samples.
    alpha : false-alarm rate of each chi-square comparison.
    control_factor : the negative controls: the samples must be rejected as draws at
        T * control_factor and T / control_factor, else the check had no power.
    raise_on_failure : raise ``AssertionError`` (with the report as its message) when a case fails.

    Returns a :class:`ConformanceReport`.
    """
    if not isinstance(sampler, Sampler):
        raise TypeError(f"sampler must be a thermolearn Sampler, got {type(sampler).__name__}")
    seeds = tuple(int(s) for s in seeds)
    if not seeds:
        raise ValueError("seeds must name at least one seed")
    for label, value in (("n_chains", n_chains), ("n_samples", n_samples)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{label} must be a positive integer, got {value!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    if not control_factor > 1:
        raise ValueError(f"control_factor must be > 1, got {control_factor!r}")
    catalogue = conformance_models() if models is None else dict(models)
    cases: list[CaseResult] = []
    skipped: list[tuple[str, str]] = []
    for name, (model, T) in catalogue.items():
        reason = _declared_unsupported(sampler, model)
        if reason is not None:
            skipped.append((name, reason))
            continue
        try:
            sampler.check_model(model)
        except ValueError as exc:
            if getattr(sampler, "supports_any_graph", True):
                cases.append(
                    CaseResult(
                        name,
                        float(T),
                        problems=(f"check_model refused a model its declared capabilities cover: {exc}",),
                    )
                )
            else:
                skipped.append((name, f"check_model refused it (supports_any_graph = False): {exc}"))
            continue
        if getattr(sampler, "zero_temperature", False):
            cases.append(_zero_temperature_case(sampler, name, model, seeds, n_chains, max_sweeps=1000))
        else:
            cases += _finite_temperature_cases(
                sampler, name, model, float(T), seeds, n_chains, n_samples, burn_in, thin, alpha, control_factor
            )
    report = ConformanceReport(repr(sampler), tuple(cases), tuple(skipped), alpha)
    if raise_on_failure and not report.passed:
        if not cases:
            raise AssertionError(f"{report}\nno model of the conformance kit applies to this sampler")
        raise AssertionError(str(report))
    return report
