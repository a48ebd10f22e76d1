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

The p-value combines two tests by Bonferroni: that omnibus statistic, and its slow block alone
(<= 5 dof), which keeps the power to see a small shift of the energy or the magnetisation that
the omnibus test dilutes among its 25..130 dof.

Every case ends in one of four statuses (``CaseResult.status``); only "failed" is held against
the sampler:

- "passed": no problem, the chi-square accepts at ``alpha``, and both negative controls reject.
- "failed": something is wrong with the sampler: the chi-square rejects at ``alpha``, its chains
  disagree by more than DISAGREEMENT_SLACK times their errors while each mixes within itself
  (not ergodic), it never moves, its bookkeeping or promises are broken, or it raised, returned
  no SweepStats, or left spins outside {-1, +1} or energies that are not finite (the message
  names the sampler and the problem).
- "inconclusive": the negative controls (the same samples tested as draws at T * f and T / f,
  f = 1.25 by default) must reject at CONTROL_ALPHA (1e-2); where one does not, the case could
  not tell T from a wrong temperature, which says nothing against the sampler: raise n_samples.
- "not mixed": the chains are shorter than MIN_SAMPLES_PER_TAU (50) autocorrelation times of a
  slow observable (tau_int within each chain, about its own mean), or their means disagree
  beyond their errors but within DISAGREEMENT_SLACK times them: no p-value can be trusted
  either way; raise n_samples or use a faster sampler. (A chain stuck in part of the states
  looks slow about the grand mean but not within itself, so it fails as not ergodic instead.)

A report passes when no case failed and at least one case passed; ``raise_on_failure`` raises
otherwise, saying whether something failed or nothing could decide.

The running E and M a sampler keeps must equal the energy and magnetisation of its states, the
same seed must give the same chains, ``bind(...).sweep()`` must make the moves of
``sweep(..., 1)``, and the move counts must make sense. Zero-temperature dynamics
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
CONTROL_ALPHA = 1e-2  # a control must reject at this level, else the case is inconclusive (never a FAIL)
MIN_SAMPLES_PER_TAU = 50.0  # recorded samples per chain per tau_int below which a case is "not mixed"
VALIDATE_EVERY = 50  # record_bins checks the spins and energies of the chains every this many records
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
    ferromagnetic and frustrated, generic graphs and periodic lattices (the fast paths), and a
    zero-field ring (a plain graph, so samplers with ``supports_any_graph = False`` skip it)."""
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
        # no field, no frustration: the degenerate flips (dE = 0) of a zero-field ring are where a
        # fixed-order rule that always makes them splits the states into closed classes
        "ferromagnet ring 10, h = 0": (_ring(10, 1.0, 0.0), 2.0),
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


@dataclass(frozen=True)
class _ChiSquare:
    p_value: float  # the two tests combined (Bonferroni): min(1, 2 min(p_omnibus, p_slow))
    p_omnibus: float
    p_slow: float
    tau: float
    dof: int
    slow_dof: int


def _chi_square(bins: np.ndarray, slow: Sequence[np.ndarray], exact: ExactBins) -> _ChiSquare:
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
    slow_dof = int(slow_basis.shape[1])
    statistic = x2_slow / (2 * tau_slow) + x2_rest / (2 * tau_rest)
    if not math.isfinite(statistic):
        raise ValueError("the chi-square statistic is not finite: check that every bin with samples has p > 0")
    p_omnibus = float(stats.chi2.sf(statistic, dof))
    # the slow block alone (E, M, |M|, q, |q|: ~5 dof, the same conservative largest-tau scaling): in
    # the omnibus statistic a shift of the energy is diluted among 25..130 dof
    p_slow = float(stats.chi2.sf(x2_slow / (2 * tau_slow), slow_dof)) if slow_dof else 1.0
    combined = min(1.0, 2.0 * min(p_omnibus, p_slow))
    return _ChiSquare(combined, p_omnibus, p_slow, max(tau_slow, tau_rest), dof, slow_dof)


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

    Two tests are made and combined by Bonferroni (the p-value returned is
    ``min(1, 2 min(p_omnibus, p_slow))``, so its false-alarm rate stays at most the level it is
    compared with): the omnibus statistic above against chi^2 with (bins - 1) dof, and the slow
    block alone (its part of X^2, scaled by the same largest tau) against chi^2 with as many dof
    as slow directions (<= 5), which keeps the power to see a small shift of the energy or the
    magnetisation that the omnibus test dilutes among its many dof. (Giving each slow direction
    its own tau instead over-rejects correct samplers.)
    """
    result = _chi_square(bins, slow, exact)
    return result.p_value, result.tau, result.dof


class SamplerMisbehaved(Exception):
    """A sampler's call raised, returned something other than SweepStats, or left its chains in
    an impossible state (spins outside {-1, +1}, a changed shape, energies that are not finite);
    check_sampler turns it into a failed case whose message names the sampler and the problem."""


def _reset(sampler: Sampler, model: Ising, state: ChainState) -> None:
    try:
        sampler.reset(model, state)
    except Exception as exc:
        raise SamplerMisbehaved(f"{sampler!r}.reset(...) raised {type(exc).__name__}: {exc}") from exc


def _sweep(sampler: Sampler, model: Ising, state: ChainState, betas: Any, n_sweeps: int, validate: bool = True) -> Any:
    """``sampler.sweep(...)``, with a message naming the sampler when it raises or returns no
    SweepStats, and (``validate``) the chains checked afterwards."""
    try:
        st = sampler.sweep(model, state, betas, n_sweeps)
    except Exception as exc:
        raise SamplerMisbehaved(
            f"{sampler!r}.sweep(model, state, betas, {n_sweeps}) raised {type(exc).__name__}: {exc}"
        ) from exc
    if st is None or not (hasattr(st, "accepted") and hasattr(st, "attempted")):
        raise SamplerMisbehaved(
            f"{sampler!r}.sweep(...) returned {type(st).__name__}, not SweepStats (accepted and attempted per chain)"
        )
    if validate:
        _validate_chains(sampler, model, state)
    return st


def _validate_chains(sampler: Sampler, model: Ising, state: ChainState) -> None:
    spins = np.asarray(state.spins)
    n_chains = np.asarray(state.energy).shape[0] if np.ndim(state.energy) else -1
    if spins.ndim != 2 or spins.shape[1] != model.n_spins or spins.shape[0] != n_chains:
        raise SamplerMisbehaved(
            f"after {sampler!r}.sweep(...) the spins have shape {spins.shape}, expected "
            f"({n_chains}, {model.n_spins}) (chains, spins); sweep must update state.spins in place"
        )
    bad = (spins != 1) & (spins != -1)
    if np.any(bad):
        values = sorted({int(v) for v in np.unique(spins[bad])[:5]})
        raise SamplerMisbehaved(
            f"after {sampler!r}.sweep(...) the spins hold values outside {{-1, +1}}: {values} "
            "(spins are int8 in {-1, +1}, not {0, 1})"
        )
    for label, x in (("energy", state.energy), ("magnetization", state.magnetization)):
        if not np.all(np.isfinite(np.asarray(x, dtype=np.float64))):
            raise SamplerMisbehaved(f"after {sampler!r}.sweep(...) the running {label} is not finite (NaN or inf)")


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
    (n_chains, n_samples). The series are the sampler's own running E and M.

    Raises :class:`SamplerMisbehaved` (with the sampler's name and the problem) when ``sweep``
    raises or returns no SweepStats, or leaves spins outside {-1, +1} (checked every
    VALIDATE_EVERY records and at the end) or energies that are not finite."""
    weights = 1 << np.arange(model.n_spins, dtype=np.int64)
    bins = np.empty((state.n_chains, n_samples), dtype=np.int64)
    series = np.empty((3, state.n_chains, n_samples))
    for k in range(n_samples):
        _sweep(sampler, model, state, betas, thin, validate=k % VALIDATE_EVERY == 0 or k == n_samples - 1)
        bins[:, k] = exact.bin_of_state[(state.spins > 0).astype(np.int64) @ weights]
        series[0, :, k] = state.energy
        series[1, :, k] = state.magnetization
        series[2, :, k] = state.spins @ exact.reference
    if not np.all(np.isfinite(series)):
        raise SamplerMisbehaved(f"{sampler!r}.sweep(...) left a running energy or magnetisation that is not finite")
    e, m, q = series
    return bins, [e, m, np.abs(m), q, np.abs(q)]


# ---------------------------------------------------------------------------- the report
PASSED, FAILED, INCONCLUSIVE, NOT_MIXED = "passed", "failed", "inconclusive", "not mixed"


@dataclass(frozen=True)
class CaseResult:
    """One model at one temperature: the chi-square ``p_value`` (None for zero-temperature
    checks), its ``dof`` and the largest ``tau`` used, the negative controls' p-values, the
    ``problems`` found (empty: the sampler did nothing wrong here) and the case's ``status``:

    - ``"passed"``: no problem, the chi-square accepts, and both controls reject;
    - ``"failed"``: a problem with the sampler (``problems`` says which); never a pass;
    - ``"inconclusive"``: no problem, but a negative control did not reject at CONTROL_ALPHA, so
      the samples could not tell T from T * f; raise n_samples (``notes`` says so);
    - ``"not mixed"``: the chains are shorter than MIN_SAMPLES_PER_TAU autocorrelation times
      (each chain's own tau_int), so no p-value can be trusted either way; raise n_samples or use
      a faster sampler (``notes`` says so).

    ``status`` defaults to ``"failed"`` when ``problems`` is not empty, else ``"passed"``."""

    model: str
    temperature: float
    p_value: float | None = None
    dof: int = 0
    tau: float = float("nan")
    control_p_values: tuple[float, ...] = ()
    problems: tuple[str, ...] = ()
    status: str = ""
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.problems:
            object.__setattr__(self, "status", FAILED)
        elif not self.status:
            object.__setattr__(self, "status", PASSED)
        if self.status not in (PASSED, FAILED, INCONCLUSIVE, NOT_MIXED):
            raise ValueError(f"status must be one of passed, failed, inconclusive, not mixed; got {self.status!r}")

    @property
    def passed(self) -> bool:
        """Whether the case passed."""
        return self.status == PASSED

    @property
    def failed(self) -> bool:
        """Whether the case failed."""
        return self.status == FAILED

    @property
    def conclusive(self) -> bool:
        """Whether the case passed or failed (not inconclusive)."""
        return self.status in (PASSED, FAILED)


@dataclass(frozen=True)
class ConformanceReport:
    """What :func:`check_sampler` found: one :class:`CaseResult` per (model, temperature)
    and the models ``skipped`` with the reason (capabilities the sampler does not declare).

    ``passed``: no case failed and at least one case passed (inconclusive and not-mixed cases
    are listed, never counted against the sampler); ``failures``: the failed cases;
    ``inconclusive``: the cases that could not decide."""

    sampler: str
    cases: tuple[CaseResult, ...]
    skipped: tuple[tuple[str, str], ...] = field(default=())
    alpha: float = ALPHA

    @property
    def passed(self) -> bool:
        """Whether at least one case passed and none failed."""
        return any(c.passed for c in self.cases) and not self.failures

    @property
    def failures(self) -> tuple[CaseResult, ...]:
        """The cases that failed."""
        return tuple(c for c in self.cases if c.failed)

    @property
    def inconclusive(self) -> tuple[CaseResult, ...]:
        """The cases that neither passed nor failed."""
        return tuple(c for c in self.cases if not c.conclusive)

    @property
    def status(self) -> str:
        """The verdict: failed if any case failed, passed if :attr:`passed`, else inconclusive."""
        if self.failures:
            return FAILED
        return PASSED if self.passed else INCONCLUSIVE

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly record of every case."""
        return {
            "sampler": self.sampler,
            "passed": self.passed,
            "status": self.status,
            "alpha": self.alpha,
            "cases": [
                {
                    "model": c.model,
                    "temperature": c.temperature,
                    "status": c.status,
                    "p_value": c.p_value,
                    "dof": c.dof,
                    "tau": None if not math.isfinite(c.tau) else c.tau,
                    "control_p_values": list(c.control_p_values),
                    "problems": list(c.problems),
                    "notes": list(c.notes),
                }
                for c in self.cases
            ],
            "skipped": [{"model": m, "reason": r} for m, r in self.skipped],
        }

    def __str__(self) -> str:
        head = {PASSED: "passed", FAILED: "FAILED", INCONCLUSIVE: "INCONCLUSIVE (no case could decide)"}[self.status]
        lines = [f"conformance of {self.sampler}: {head} (alpha = {self.alpha:g})"]
        mark = {PASSED: "ok  ", FAILED: "FAIL", INCONCLUSIVE: "??  ", NOT_MIXED: "??  "}
        for c in self.cases:
            if c.p_value is None:
                stat = "zero-temperature checks" if c.temperature == 0 else "the check stopped"
            else:
                stat = f"p = {c.p_value:.3g} ({c.dof} dof, tau {c.tau:.2f})"
            extra = "" if c.conclusive else f" [{c.status}]"
            lines.append(f"  {mark[c.status]} {c.model} at T = {c.temperature:g}: {stat}{extra}")
            lines += [f"       - {p}" for p in c.problems]
            lines += [f"       - {p}" for p in c.notes]
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
        _reset(smp, model, state)
        _sweep(smp, model, state, 1.0 / temps, 5)
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
        _reset(smp, model, state)
        for n in cuts:
            _sweep(smp, model, state, 1.0 / temps, n)
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
            _reset(smp, model, state)
            if bound:
                sweeps = smp.bind(model, state, betas)
                flips = [sweeps.sweep() for _ in range(6)]
            else:
                flips = [int(np.sum(_sweep(smp, model, state, betas, 1).accepted)) for _ in range(6)]
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
        _reset(smp, model, state)
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
                _sweep(smp, model, state, betas, 3)
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
        _reset(smp, model, state)
        betas = 1.0 / temps
        if burn_in:
            problems += _stats_problems(_sweep(smp, model, state, betas, burn_in), temps.size)
        bins, slow = record_bins(smp, model, state, betas, first, n_samples, thin)
        problems += _bookkeeping_problems(model, state)
        all_bins.append(bins)
        all_slow.append(slow)
    bins = np.concatenate(all_bins, axis=0)
    slow = [np.concatenate([s[j] for s in all_slow], axis=0) for j in range(len(all_slow[0]))]
    if not np.any(bins != bins[:, :1]):
        problems.append(
            f"{sampler!r} never changed the state of any chain in {n_samples} records x {thin} sweeps "
            f"at T = {temperature:g}: it does not move"
        )
    out = []
    for T in np.unique(temps):
        rows = np.flatnonzero(temps == T)
        case_problems = sorted(set(problems))
        notes: list[str] = []
        status = ""
        exact = exact_bins(model, float(T))
        series = [s[rows] for s in slow]
        chi = _chi_square(bins[rows], series, exact)
        p_value, tau, dof = chi.p_value, chi.tau, chi.dof
        mixing, disagreement = _mixing(series, n_samples)
        if case_problems:
            pass  # the sampler already failed here; its p-values are reported as they are
        elif disagreement is not None:
            case_problems.append(
                f"the chains disagree on {disagreement} by more than {DISAGREEMENT_SLACK:g} x their errors although "
                f"each chain mixes within itself (n_samples >= {MIN_SAMPLES_PER_TAU:g} tau_int): the sampler is not "
                "ergodic (each chain stays in its own part of the states)"
            )
        elif mixing is not None:
            status = NOT_MIXED
            notes.append(
                f"not mixed: {mixing}, so no p-value here can be trusted either way (chi-square p = {p_value:.3g}); "
                f"raise n_samples to >= {MIN_SAMPLES_PER_TAU:g} tau_int per chain, or use a faster sampler"
            )
        elif p_value <= alpha:
            case_problems.append(
                f"the visited states do not follow exp(-E/T)/Z: chi-square p = {p_value:.3g} <= alpha = {alpha:g} "
                f"({dof} dof, tau_int = {tau:.2f}; omnibus p = {chi.p_omnibus:.3g}, "
                f"slow block E, M, |M|, q, |q| p = {chi.p_slow:.3g}, {chi.slow_dof} dof)"
            )
        controls = []
        for wrong in (T * control_factor, T / control_factor):
            control = exact_bins(model, float(wrong))
            controls.append(_chi_square(bins[rows], series, control).p_value)
            if controls[-1] > CONTROL_ALPHA and not case_problems and status != NOT_MIXED:
                status = INCONCLUSIVE
                notes.append(
                    f"inconclusive: the negative control at T = {wrong:.4g} did not reject the same samples at "
                    f"{CONTROL_ALPHA:g} (p = {controls[-1]:.3g}), so this case could not tell T from T * {control_factor:g} "
                    "(not a failure of the sampler); raise n_samples or the number of seeds"
                )
        out.append(
            CaseResult(name, float(T), p_value, dof, tau, tuple(controls), tuple(case_problems), status, tuple(notes))
        )
    return out


_SLOW_NAMES = ("E", "M", "|M|", "q", "|q|")


DISAGREEMENT_SLACK = 3.0  # chains fail as not ergodic only if they disagree even with errors this many times larger


def _mixing(series: Sequence[np.ndarray], n_samples: int) -> tuple[str | None, str | None]:
    """``(not mixed, not ergodic)`` from the chains (n_chains, n_samples) of the slow observables.

    Not mixed (a reason, else None): some observable's tau_int within a chain (about the chain's
    own mean) is not reliably estimated or exceeds n_samples / MIN_SAMPLES_PER_TAU, or the chain
    means disagree beyond their errors (chains_disagree, p < 1e-4) but not beyond DISAGREEMENT_SLACK
    times them: a window estimate of tau is biased low for a mode that a chain crosses only tens of
    times (a correct sampler tunnelling slowly), so that much disagreement proves nothing.
    Not ergodic (the observables, else None): the chain means disagree even with DISAGREEMENT_SLACK
    times their errors while each chain mixes within itself: the chains stay in different parts of
    the states. The within-chain tau is the one that matters: chains stuck apart look slow about
    the grand mean, but not within themselves."""
    from thermolearn.estimators.observables import chains_disagree

    short, slow_apart, apart = [], [], []
    for label, x in zip(_SLOW_NAMES, series):
        means = x.mean(axis=1)
        centred = x - means[:, None]
        if np.ptp(centred) == 0:
            if np.ptp(means) > 0:
                apart.append(f"{label} (each chain frozen at its own value)")
            continue
        within = integrated_autocorrelation_time(centred, warn=False)
        if not within.reliable or n_samples < MIN_SAMPLES_PER_TAU * within.tau:
            short.append(f"tau_int({label}) ~ {within.tau:.3g} records from {n_samples} records per chain")
            continue
        if x.shape[0] < 2:
            continue
        errs = np.full(x.shape[0], math.sqrt(2.0 * within.tau * within.variance / n_samples))
        if chains_disagree(means, DISAGREEMENT_SLACK * errs):
            apart.append(label)
        elif chains_disagree(means, errs):
            slow_apart.append(label)
    if slow_apart:
        short.append(f"the chains' means of {', '.join(slow_apart)} disagree beyond their errors")
    return ("; ".join(short) if short else None), (", ".join(apart) if apart else None)


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
        _reset(smp, model, state)
        previous = state.energy.copy()
        tol = 1e-12 * (1.0 + float(np.abs(model.data).sum()) + float(np.abs(model.fields).sum()))
        minimum = False
        for _ in range(max_sweeps):
            st = _sweep(smp, model, state, np.ones(n_chains), 1)
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
    alpha : false-alarm rate of each chi-square comparison (the omnibus and slow-block tests
        combined by Bonferroni).
    control_factor : the negative controls: the samples should be rejected (at CONTROL_ALPHA)
        as draws at T * control_factor and T / control_factor; where one is not, the case is
        "inconclusive" (the check had no power there), never a failure of the sampler.
    raise_on_failure : raise ``AssertionError`` (with the report as its message) when the
        report does not pass: a case failed, or no case could decide.

    Returns a :class:`ConformanceReport`; each case has a ``status`` ("passed", "failed",
    "inconclusive" or "not mixed"; see the module's description).
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
        try:
            if getattr(sampler, "zero_temperature", False):
                cases.append(_zero_temperature_case(sampler, name, model, seeds, n_chains, max_sweeps=1000))
            else:
                cases += _finite_temperature_cases(
                    sampler, name, model, float(T), seeds, n_chains, n_samples, burn_in, thin, alpha, control_factor
                )
        except SamplerMisbehaved as exc:
            cases.append(CaseResult(name, float(T), problems=(str(exc),)))
        except Exception as exc:  # bind(), sweep_and_record() or chain_temperatures() of the sampler raised
            cases.append(
                CaseResult(
                    name,
                    float(T),
                    problems=(f"checking {sampler!r} raised {type(exc).__name__}: {exc}",),
                )
            )
    report = ConformanceReport(repr(sampler), tuple(cases), tuple(skipped), alpha)
    if raise_on_failure and not report.passed:
        if not cases:
            raise AssertionError(f"{report}\nno model of the conformance kit applies to this sampler")
        if not report.failures:
            raise AssertionError(
                f"{report}\nno case could decide (inconclusive or not mixed): nothing was found wrong with the "
                "sampler, but nothing was shown either; raise n_samples (or use a faster sampler)"
            )
        raise AssertionError(str(report))
    return report
