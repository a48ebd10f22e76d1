"""``sample``: run a sampler for burn-in and measurement sweeps and summarise the run.

The run records each chain's total energy and magnetisation after every ``thin`` sweeps
(and the states when asked), per-site spin sums in batches for <s_i> with batch-means
error bars, acceptance counts and wall time; it ends with autocorrelation-aware error
bars from :mod:`thermolearn.estimators`. With ``checkpoint=PATH`` the complete run state
is saved atomically every ``checkpoint_every`` sweeps, and a run restarted with the same
arguments resumes from it and ends with results identical to an uninterrupted run.
"""

from __future__ import annotations

import difflib
import itertools
import math
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from numbers import Integral
from typing import Any

import numba
import numpy as np

from thermolearn.estimators.observables import IsingObservables, combine_chains, observables_from_series
from thermolearn.file_contents import FileContents
from thermolearn.models.ising import Ising, check_ising_model
from thermolearn.progress import progress_bar
from thermolearn.randomness.seeds import SeedLike, check_int_seed, check_seed
from thermolearn.resources import check_memory
from thermolearn.runs.checkpoint import model_fingerprint, read_checkpoint, save_checkpoint
from thermolearn.samplers.base import Sampler
from thermolearn.samplers.recording import Records, empty_states
from thermolearn.samplers.registry import make_sampler
from thermolearn.samplers.state import RUNNING_ENERGY_ROUNDING, ChainState
from thermolearn.validation import check_positive_int, check_temperature

DEFAULT_BATCHES = 32
# the most spin updates in one call to the sampler (about 5-50 ms of work)
_BLOCK_SPIN_UPDATES = 1 << 22


#: a batch behind the <s_i> error bars must span this many tau_int of m for its batch means to be
#: nearly independent (the batch-means error is then low by about 1/MIN_BATCH_TAUS at most)
MIN_BATCH_TAUS = 10.0
#: consecutive batch means of the sites correlating more than this (lag 1, pooled) mark the <s_i>
#: error bars unreliable: the batches are short for some slow mode
MAX_BATCH_CORRELATION = 0.2


@dataclass
class SampleResult:
    """A finished run. Series are totals with shape (n_chains, n_samples); chain c ran at
    ``chain_temperatures[c]``. Per-temperature summaries follow ``temperatures`` (sorted)."""

    sampler: str
    sampler_options: dict[str, Any]
    n_spins: int
    chain_temperatures: np.ndarray
    sweeps: int
    burn_in: int
    thin: int
    energy: np.ndarray
    magnetization: np.ndarray
    mean_spin: np.ndarray | None  # (n_temperatures, n_spins); None when the run kept no site means
    mean_spin_stderr: np.ndarray | None  # (n_temperatures, n_spins)
    accepted: int
    attempted: int
    wall_time: float
    final_state: ChainState
    states: np.ndarray | None = None  # (n_chains, n_samples, n_spins) when recorded
    sampler_info: dict[str, Any] = field(default_factory=dict)
    n_batches: int = 0  # the batches of samples behind mean_spin_stderr (0: not known)
    # per temperature: the lag-1 autocorrelation of consecutive batch means of the sites (pooled)
    mean_spin_batch_correlation: np.ndarray | None = None
    # (energy, magnetization, chain_temperatures, the observables made from them): made again when
    # one of the three arrays is replaced (a caller trimming the series)
    _observables: tuple | None = field(default=None, repr=False, compare=False)

    @property
    def temperatures(self) -> np.ndarray:
        """The distinct temperatures of the chains, sorted (units of J)."""
        return np.unique(self.chain_temperatures)

    @property
    def acceptance(self) -> float:
        """Accepted / attempted moves over the whole run (for cluster samplers: spins flipped
        per spin visited)."""
        return self.accepted / self.attempted if self.attempted else float("nan")

    @property
    def mean_spin_reliable(self) -> np.ndarray | None:
        """Per temperature: whether the batches behind ``mean_spin_stderr`` are long enough for a
        batch-means error bar: each at least MIN_BATCH_TAUS integrated autocorrelation times of m
        (the slowest chain's, in samples), and consecutive batch means of the sites not correlated
        (lag-1 autocorrelation, pooled over chains and sites, below MAX_BATCH_CORRELATION or three
        times its noise): a slow mode m does not see (the staggered magnetisation of an
        antiferromagnet) shows there. False: those error bars are likely too small (sample with
        more sweeps). None without site means."""
        if self.mean_spin is None:
            return None
        if self.n_batches <= 0 or self.mean_spin_batch_correlation is None:
            return np.zeros(self.temperatures.size, dtype=bool)
        batch_length = self.energy.shape[1] / self.n_batches
        out = []
        for k, o in enumerate(self.observables):
            chains = int(np.sum(self.chain_temperatures == self.temperatures[k]))
            noise = 1.0 / math.sqrt(max(1, chains * (self.n_batches - 1)))  # sd of an uncorrelated estimate
            limit = max(MAX_BATCH_CORRELATION, 3.0 * noise)
            out.append(
                batch_length >= MIN_BATCH_TAUS * o.tau_magnetization.tau
                and self.mean_spin_batch_correlation[k] <= limit
            )
        return np.array(out)

    @property
    def observables(self) -> list[IsingObservables]:
        """Energy, magnetisation, specific heat, susceptibility, Binder cumulant with error
        bars and tau_int, one entry per temperature (chains at one temperature pooled)."""
        kept = self._observables
        if (
            kept is None
            or kept[0] is not self.energy
            or kept[1] is not self.magnetization
            or kept[2] is not self.chain_temperatures
        ):
            out = []
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # short runs are flagged by .reliable
                for T in self.temperatures:
                    runs = [
                        observables_from_series(self.energy[c], self.magnetization[c], self.n_spins, float(T))
                        for c in np.flatnonzero(self.chain_temperatures == T)
                    ]
                    out.append(combine_chains(runs))
            kept = self._observables = (self.energy, self.magnetization, self.chain_temperatures, out)
        return kept[3]

    def at(self, temperature: float | None = None) -> IsingObservables:
        """The observables at one temperature (the only one, if the run had one)."""
        temps = self.temperatures
        if temperature is None:
            if len(temps) != 1:
                raise ValueError(f"this run has {len(temps)} temperatures; name one of {temps.tolist()}")
            return self.observables[0]
        k = int(np.argmin(np.abs(temps - temperature)))
        if not np.isclose(temps[k], temperature):
            raise ValueError(f"temperature {temperature} was not sampled; the run has {temps.tolist()}")
        return self.observables[k]


#: sample()'s own keywords: anything else is a sampler option
_RUN_KEYWORDS = (
    "sweeps", "burn_in", "n_chains", "thin", "seed", "initial", "record_states", "site_means", "n_batches",
    "checkpoint", "checkpoint_every", "progress",
)  # fmt: skip


def _misspelt_run_keywords(options: dict[str, Any]) -> str:
    """'; did you mean n_chains= for chains=?' for options that look like sample()'s own keywords."""
    guesses = [
        f"{close[0]}= for {key}="
        for key in options
        if (close := difflib.get_close_matches(key, _RUN_KEYWORDS, n=1, cutoff=0.6))
    ]
    return f"; did you mean {', '.join(guesses)}?" if guesses else ""


def _as_sampler(sampler: str | Sampler, options: dict[str, Any]) -> Sampler:
    if isinstance(sampler, Sampler):
        if options:
            raise ValueError(
                f"sample() got unexpected keyword argument(s) {', '.join(map(repr, options))}: sampler options go "
                f"to the sampler's constructor when a Sampler object is given{_misspelt_run_keywords(options)}"
            )
        return sampler
    if isinstance(sampler, str):
        try:
            return make_sampler(sampler, **options)
        except TypeError as error:  # an option the sampler does not take: perhaps a run keyword misspelt
            hint = _misspelt_run_keywords(options)
            if hint:
                raise TypeError(f"{error}{hint}") from error
            raise
    raise TypeError(f"sampler must be a name or a Sampler, got {type(sampler).__name__}")


@dataclass(frozen=True)
class _Plan:
    """The checked arguments of one run: what it does, not how far it got."""

    sampler: Sampler
    chain_temperatures: np.ndarray  # one per chain slot
    sweeps: int
    burn_in: int
    thin: int
    n_chains: int
    n_batches: int
    checkpoint_every: int
    seed: SeedLike
    site_means: bool = True  # keep spin sums per chain, batch and site for <s_i> and its error

    @property
    def n_slots(self) -> int:
        return self.chain_temperatures.size

    @property
    def n_samples(self) -> int:
        return self.sweeps // self.thin

    @property
    def total(self) -> int:
        return self.burn_in + self.sweeps


@dataclass
class _Progress:
    """A run in progress: the chains, the sampler's state (inside ``sampler``), everything
    recorded so far and the counters; exactly what a checkpoint holds."""

    state: ChainState
    energy: np.ndarray  # (n_slots, n_samples)
    magnetization: np.ndarray
    site_sums: np.ndarray  # (n_slots, n_batches, n_spins)
    states: np.ndarray | None
    counters: dict[str, Any]


def _check_arguments(
    model: Ising,
    sampler: str | Sampler,
    temperature: float | None,
    sampler_options: dict[str, Any],
    *,
    sweeps: int,
    burn_in: int,
    n_chains: int,
    thin: int,
    seed: Any,
    n_batches: int,
    checkpointed: bool,
    checkpoint_every: int,
    site_means: bool = True,
) -> _Plan:
    check_ising_model(model)
    smp = _as_sampler(sampler, sampler_options)
    smp.check_model(model)
    sweeps = check_positive_int("sweeps", sweeps)
    burn_in = check_positive_int("burn_in", burn_in, minimum=0)
    n_chains = check_positive_int("n_chains", n_chains)
    thin = check_positive_int("thin", thin)
    n_batches = check_positive_int("n_batches", n_batches)
    checkpoint_every = check_positive_int("checkpoint_every", checkpoint_every)
    if sweeps < thin:
        raise ValueError(f"sweeps ({sweeps}) must be at least thin ({thin}) to record one sample")
    # a checkpoint records the seed, so a restart can check that it continues the same run
    seed = check_int_seed(seed) if checkpointed else check_seed(seed)
    # a ladder multiplies the chains, so n_chains is a lower bound on the slots: refuse absurd
    # sizes before chain_temperatures allocates one entry per slot
    check_run_memory(model.n_spins, n_chains, sweeps // thin, min(n_batches, sweeps // thin), False, bool(site_means))
    chain_temps = smp.chain_temperatures(None if temperature is None else check_temperature(temperature), n_chains)
    return _Plan(
        sampler=smp,
        chain_temperatures=chain_temps,
        sweeps=sweeps,
        burn_in=burn_in,
        thin=thin,
        n_chains=n_chains,
        n_batches=min(n_batches, sweeps // thin),
        checkpoint_every=checkpoint_every,
        seed=seed,
        site_means=bool(site_means),
    )


def check_run_memory(
    n_spins: int, n_chains: int, n_samples: int, n_batches: int, record_states: bool, site_means: bool = True
) -> None:
    """Raise ``ValueError`` (naming the sizes and the memory) if a run's arrays cannot fit.

    The series are held whole because the error bars (autocorrelation, batch means) need them:
    E and M per chain and sample, spin sums per chain, batch and site, the chains themselves and,
    when recorded, every state.
    """
    per_chain = 16.0 * n_samples + (8.0 * n_batches * n_spins if site_means else 0.0) + n_spins + 48.0
    if record_states:
        per_chain += float(n_samples) * n_spins
    check_memory(
        f"sampling {n_chains} chain(s) of {n_spins} spins for {n_samples} recorded sweeps",
        2.0 * n_chains * per_chain,  # checkpoints and the result copy the series once
        hint="choose fewer chains, sweeps or spins (or a larger thin)",
    )


def _run_id(model: Ising, plan: _Plan, initial: str | np.ndarray, record_states: bool) -> dict[str, Any]:
    """What identifies a run: a checkpoint of any other run is refused."""
    return {
        "model": model_fingerprint(model),
        "sampler": plan.sampler.name,
        "options": plan.sampler.options(),
        "chain_temperatures": plan.chain_temperatures.tolist(),
        "sweeps": plan.sweeps,
        "burn_in": plan.burn_in,
        "thin": plan.thin,
        "n_chains": plan.n_chains,
        "seed": int(plan.seed) if isinstance(plan.seed, Integral) else None,
        "initial": initial if isinstance(initial, str) else "given",
        "record_states": bool(record_states),
        "n_batches": plan.n_batches,
        # only when off, so checkpoints written before the option existed still resume
        **({} if plan.site_means else {"site_means": False}),
    }


def _start_or_resume(
    model: Ising,
    plan: _Plan,
    initial: str | np.ndarray,
    record_states: bool,
    checkpoint: str | os.PathLike | None,
    run_id: dict[str, Any],
) -> _Progress:
    """Fresh chains from the seed, or the run saved in ``checkpoint`` when it exists."""
    contents = read_checkpoint(checkpoint, run_id) if checkpoint is not None else None
    if contents is not None:
        return _resume(contents, model, plan, record_states)
    n_slots, n_samples = plan.n_slots, plan.n_samples
    state = ChainState.new(model, n_slots, plan.seed, initial)
    plan.sampler.reset(model, state)
    return _Progress(
        state=state,
        energy=np.zeros((n_slots, n_samples)),
        magnetization=np.zeros((n_slots, n_samples)),
        site_sums=np.zeros((n_slots, plan.n_batches, model.n_spins if plan.site_means else 0)),
        states=np.zeros((n_slots, n_samples, model.n_spins), dtype=np.int8) if record_states else None,
        counters={"sweeps_done": 0, "samples_done": 0, "accepted": 0, "attempted": 0, "wall_time": 0.0},
    )


_COUNTERS = ("sweeps_done", "samples_done", "accepted", "attempted")


def _resume(contents: FileContents, model: Ising, plan: _Plan, record_states: bool) -> _Progress:
    """The run saved in ``contents``, every array and counter checked against ``plan`` first.

    The kernels index spins, generator states and series without bounds checks, so nothing
    from the file reaches them before its shape, dtype and range are known to fit this run.
    Each chain's running magnetisation must equal the sum of its spins exactly and its running
    energy the model's energy of its spins up to the rounding a long run of energy differences
    accumulates (1e-6 of the model's energy scale; the file's value is kept, so a resumed run
    stays bit for bit the run that never stopped). The recorded series must be what a run
    records (:func:`_check_series`): energies within the energy bound, magnetisations whole and
    within +-N, site sums whole and within +-(samples of their batch), states +-1, and nothing
    past the samples done. So a checkpoint can neither corrupt memory nor make a run report
    numbers for chains it does not hold, nor values no state of the model can have.
    """
    n_slots, n_samples, n_spins = plan.n_slots, plan.n_samples, model.n_spins
    chains = ["chain_spins", "chain_rng", "chain_energy", "chain_magnetization"]
    series = ["energy", "magnetization", "site_sums"] + (["states"] if record_states else [])
    contents.expect_names(chains + series, [name for name in contents.arrays if name.startswith("sampler_")])
    arrays = {
        "spins": contents.array("chain_spins", kinds="i", shape=(n_slots, n_spins), values=(-1, 1), dtype=np.int8),
        "rng": contents.array("chain_rng", kinds="u", shape=(n_slots, 4), dtype=np.uint64),
        "energy": contents.array("chain_energy", shape=(n_slots,), dtype=np.float64),
        "magnetization": contents.array("chain_magnetization", shape=(n_slots,), dtype=np.float64),
    }
    try:
        state = ChainState.from_arrays(arrays)
        state.check(model)
    except ValueError as exc:
        raise contents.fail(str(exc)) from None
    progress = _checked_counters(contents, plan, n_spins)
    energy = contents.array("energy", shape=(n_slots, n_samples), dtype=np.float64).copy()
    magnetization = contents.array("magnetization", shape=(n_slots, n_samples), dtype=np.float64).copy()
    sites = n_spins if plan.site_means else 0
    site_sums = contents.array("site_sums", shape=(n_slots, plan.n_batches, sites), dtype=np.float64).copy()
    states = None
    if record_states:  # samples not yet taken are zeros
        shape = (n_slots, n_samples, n_spins)
        states = contents.array("states", kinds="i", shape=shape, values=(-1, 0, 1), dtype=np.int8).copy()
    _check_series(contents, model, plan, progress["samples_done"], energy, magnetization, site_sums, states)
    try:
        sampler_arrays = {k[8:]: v for k, v in contents.arrays.items() if k.startswith("sampler_")}
        plan.sampler.load_state(sampler_arrays, n_chains=state.n_chains)
    except (ValueError, TypeError) as exc:
        raise contents.fail(f"sampler state: {exc}") from None
    return _Progress(state, energy, magnetization, site_sums, states, progress)


def _check_series(
    contents: FileContents,
    model: Ising,
    plan: _Plan,
    samples: int,
    energy: np.ndarray,
    magnetization: np.ndarray,
    site_sums: np.ndarray,
    states: np.ndarray | None,
) -> None:
    """Refuse recorded series that no run of ``model`` records (the arrays are finite already):
    |E| above the model's energy bound (plus the running energy's rounding), M not a whole
    number in [-N, N], a site sum not a whole number within +-(the samples recorded in its
    batch) or of the wrong parity, a recorded state not all +-1, or anything non-zero in the
    samples (and batches) not recorded yet."""
    n_spins = model.n_spins
    scale = model.energy_scale()
    bound = scale + RUNNING_ENERGY_ROUNDING * (scale + 1.0)  # what ChainState.check allows the running energy
    done_e, done_m = energy[:, :samples], magnetization[:, :samples]
    if np.any(np.abs(done_e) > bound):
        c, k = np.argwhere(np.abs(done_e) > bound)[0]
        raise contents.fail(
            f"array 'energy' holds {float(done_e[c, k])!r} (chain {c}, sample {k}), but no state of this model "
            f"has |E| above {scale:g} (the sum of |J| and |h|); the checkpoint is damaged"
        )
    bad_m = (np.abs(done_m) > n_spins) | (done_m != np.round(done_m)) | ((done_m + n_spins) % 2 != 0)
    if np.any(bad_m):
        c, k = np.argwhere(bad_m)[0]
        raise contents.fail(
            f"array 'magnetization' holds {float(done_m[c, k])!r} (chain {c}, sample {k}), but the sum of "
            f"{n_spins} spins +-1 is a whole number in [-{n_spins}, {n_spins}] of the parity of {n_spins}; "
            "the checkpoint is damaged"
        )
    for name, series in (("energy", energy), ("magnetization", magnetization)):
        if np.any(series[:, samples:] != 0):
            raise contents.fail(
                f"array {name!r} holds values past the {samples} samples recorded so far; the checkpoint is damaged"
            )
    if site_sums.shape[2]:
        batch_of = (np.arange(plan.n_samples) * plan.n_batches) // plan.n_samples
        counts = np.bincount(batch_of[:samples], minlength=plan.n_batches)
        # one (chain, batch) row of N sums at a time: the temporaries stay O(N), not O(the series)
        for c, b in itertools.product(range(site_sums.shape[0]), range(site_sums.shape[1])):
            row, count = site_sums[c, b], int(counts[b])
            bad = (np.abs(row) > count) | (row != np.round(row)) | ((row + count) % 2 != 0)
            if np.any(bad):
                i = int(np.flatnonzero(bad)[0])
                raise contents.fail(
                    f"array 'site_sums' holds {float(row[i])!r} (chain {c}, batch {b}, site {i}), but a sum of "
                    f"the {count} spins +-1 recorded in that batch is a whole number within +-{count} of the "
                    "same parity; the checkpoint is damaged"
                )
    if states is not None:
        for c in range(states.shape[0]):
            if np.any(states[c, :samples] == 0) or np.any(states[c, samples:] != 0):
                raise contents.fail(
                    f"array 'states' must hold spins +-1 in the {samples} samples recorded and 0 after them "
                    f"(chain {c} does not); the checkpoint is damaged"
                )


def _checked_counters(contents: FileContents, plan: _Plan, n_spins: int) -> dict[str, Any]:
    """The checkpoint's counters, consistent with each other and with the planned sweeps."""
    progress = contents.header["progress"]
    known = set(_COUNTERS) | {"wall_time"}
    extra = sorted(set(progress) - known)
    if extra:
        raise contents.fail(f"unexpected progress entries {', '.join(map(repr, extra))}; allowed: {sorted(known)}")

    def counter(key: str, maximum: float | None = None) -> int:
        return int(contents.value(key, int, minimum=0, maximum=maximum, within=progress, label=f"progress {key!r}"))

    done = counter("sweeps_done", plan.total)
    samples = counter("samples_done", plan.n_samples)
    expected = max(0, done - plan.burn_in) // plan.thin
    if samples != expected:
        raise contents.fail(
            f"progress 'samples_done' is {samples}, but {done} sweeps with burn-in {plan.burn_in} and "
            f"thin {plan.thin} record {expected}"
        )
    attempted = counter("attempted")
    accepted = counter("accepted", attempted)
    wall = float(contents.value("wall_time", float, minimum=0.0, within=progress, label="progress 'wall_time'"))
    return {"sweeps_done": done, "samples_done": samples, "accepted": accepted, "attempted": attempted,
            "wall_time": wall}  # fmt: skip


def _write_checkpoint(path: str | os.PathLike, plan: _Plan, run: _Progress, run_id: dict[str, Any]) -> None:
    arrays = {f"chain_{k}": v for k, v in run.state.arrays().items()}
    arrays.update({f"sampler_{k}": v for k, v in plan.sampler.state().items()})
    arrays.update(energy=run.energy, magnetization=run.magnetization, site_sums=run.site_sums)
    if run.states is not None:
        arrays["states"] = run.states
    save_checkpoint(path, arrays, run_id, run.counters)


class _Sweeper:
    """Runs the sweeps: records the measured ones, counts them, moves the bar and saves
    checkpoints.

    The sweeps between two events (a record, a checkpoint) run in one call to the sampler when
    it declares ``sweep_blocks`` (a block of sweeps equals the same sweeps one call at a time,
    bit for bit), so how a run is cut (checkpoints, thinning, resumes) never changes its chains;
    other samplers get one sweep per call."""

    def __init__(
        self,
        model: Ising,
        plan: _Plan,
        run: _Progress,
        bar: Any,
        checkpoint: str | os.PathLike | None,
        run_id: dict[str, Any],
        clock: Callable[[], float],
    ) -> None:
        self.model, self.plan, self.run, self.bar = model, plan, run, bar
        self.checkpoint, self.run_id, self.clock = checkpoint, run_id, clock
        self.betas = 1.0 / plan.chain_temperatures
        self.batch_of = (np.arange(plan.n_samples) * plan.n_batches) // plan.n_samples
        self.last_saved = run.counters["sweeps_done"]
        # a block is capped so the bar moves and an interrupt lands within about 0.1-1 s
        spins = max(1, model.n_spins * run.state.n_chains)
        self.max_block = max(1, _BLOCK_SPIN_UPDATES // spins) if getattr(plan.sampler, "sweep_blocks", False) else 1

    def block(self, until: int) -> int:
        """Sweeps of the next call: up to sweep count ``until``, the next checkpoint and the cap."""
        done = self.run.counters["sweeps_done"]
        n = min(until - done, self.max_block)
        if self.checkpoint is not None:
            n = min(n, self.last_saved + self.plan.checkpoint_every - done)
        return max(1, n)

    def sweep(self, record: bool, n: int = 1) -> None:
        """``n`` sweeps of every chain in one call; then, when ``record``, E, M, the spin sums
        of the sample's batch and (when asked) the states are stored."""
        run, counters = self.run, self.run.counters
        done = counters["sweeps_done"]
        stats = self.plan.sampler.sweep(self.model, run.state, self.betas, n)
        if record:
            k = counters["samples_done"]
            run.energy[:, k] = run.state.energy
            run.magnetization[:, k] = run.state.magnetization
            if self.plan.site_means:
                run.site_sums[:, self.batch_of[k], :] += run.state.spins
            if run.states is not None:
                run.states[:, k, :] = run.state.spins
            counters["samples_done"] = k + 1
        self._after(done, n, stats)

    def record_block(self, count: int) -> None:
        """``count`` records, ``thin`` sweeps before each, in one call of the sampler's
        :meth:`~thermolearn.samplers.base.Sampler.sweep_and_record` (the same numbers as
        :meth:`sweep` once per record)."""
        run, counters, thin = self.run, self.run.counters, self.plan.thin
        done, k = counters["sweeps_done"], counters["samples_done"]
        records = Records(
            k,
            count,
            run.energy,
            run.magnetization,
            run.site_sums,
            self.batch_of,
            run.states if run.states is not None else empty_states(),
        )
        stats = self.plan.sampler.sweep_and_record(self.model, run.state, self.betas, thin, records)
        counters["samples_done"] = k + count
        self._after(done, count * thin, stats)

    def _after(self, done: int, n: int, stats: Any) -> None:
        """Counters, the bar and the checkpoint after ``n`` sweeps that began at sweep ``done``."""
        run, counters = self.run, self.run.counters
        counters["sweeps_done"] = done + n
        counters["accepted"] += int(np.sum(stats.accepted))
        counters["attempted"] += int(np.sum(stats.attempted))
        if (done + n) // 64 != done // 64 or done + n == self.plan.total:
            self.bar.n = done + n
            self.bar.refresh()
        if self.checkpoint is not None and (
            counters["sweeps_done"] - self.last_saved >= self.plan.checkpoint_every
            or counters["sweeps_done"] == self.plan.total
        ):
            counters["wall_time"] = self.clock()
            _write_checkpoint(self.checkpoint, self.plan, run, self.run_id)
            self.last_saved = counters["sweeps_done"]


def _burn_in(sweeper: _Sweeper) -> None:
    """The discarded sweeps (those a resumed run has not done yet)."""
    while sweeper.run.counters["sweeps_done"] < sweeper.plan.burn_in:
        sweeper.sweep(record=False, n=sweeper.block(sweeper.plan.burn_in))


def _measure(sweeper: _Sweeper) -> None:
    """The measured sweeps: every ``thin``-th is recorded. Samplers with ``records_in_kernel``
    run the records up to the next checkpoint (or the block cap) in one call."""
    plan, counters = sweeper.plan, sweeper.run.counters
    in_kernel = getattr(plan.sampler, "records_in_kernel", False) and getattr(plan.sampler, "sweep_blocks", False)
    while counters["sweeps_done"] < plan.total:
        done = counters["sweeps_done"]
        if in_kernel and (done - plan.burn_in) % plan.thin == 0:  # on a record boundary
            count = sweeper.block(plan.total) // plan.thin
            if count >= 1:
                sweeper.record_block(count)
                continue
        next_record = done + plan.thin - (done - plan.burn_in) % plan.thin  # a multiple of thin past burn-in
        n = sweeper.block(min(next_record, plan.total))
        sweeper.sweep(record=done + n == next_record, n=n)


def sample(
    model: Ising,
    sampler: str | Sampler = "metropolis",
    temperature: float | None = None,
    *,
    sweeps: int,
    burn_in: int = 0,
    n_chains: int = 1,
    thin: int = 1,
    seed: SeedLike = 0,
    initial: str | np.ndarray = "random",
    record_states: bool = False,
    site_means: bool = True,
    n_batches: int = DEFAULT_BATCHES,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int = 1000,
    progress: bool | None = None,
    **sampler_options: Any,
) -> SampleResult:
    """Sample exp(-E/T)/Z of ``model`` with ``sampler`` (k_B = 1): ``burn_in`` sweeps
    discarded, then ``sweeps`` sweeps recording every ``thin``-th, on ``n_chains``
    independent chains seeded from ``seed`` (the library's seed policy; a checkpointed run
    needs a non-negative int).

    ``temperature`` is T > 0; samplers that fix their own temperatures (parallel
    tempering) take None. ``checkpoint=PATH`` saves the run every ``checkpoint_every``
    sweeps and resumes from PATH when it exists. ``progress`` shows a bar (default: when
    stderr is a terminal and the run is long). ``site_means=False`` keeps no per-site spin
    sums (``mean_spin`` is then None): they take 8 bytes per chain, batch and spin, the largest
    array of a run on a large lattice (1 GB for 4 chains of 1024 x 1024).
    """
    plan = _check_arguments(
        model,
        sampler,
        temperature,
        sampler_options,
        sweeps=sweeps,
        burn_in=burn_in,
        n_chains=n_chains,
        thin=thin,
        seed=seed,
        n_batches=n_batches,
        checkpointed=checkpoint is not None,
        checkpoint_every=checkpoint_every,
        site_means=site_means,
    )
    check_run_memory(model.n_spins, plan.n_slots, plan.n_samples, plan.n_batches, record_states, plan.site_means)
    run_id = _run_id(model, plan, initial, record_states)
    run = _start_or_resume(model, plan, initial, record_states, checkpoint, run_id)
    # kernels parallelise over chains; waking idle threads for one chain costs more than a small sweep
    threads_before = numba.get_num_threads()
    numba.set_num_threads(max(1, min(threads_before, plan.n_slots)))
    started = time.perf_counter()
    wall_before = run.counters["wall_time"]

    def clock() -> float:
        return wall_before + time.perf_counter() - started

    try:
        with progress_bar(
            total=plan.total,
            initial=run.counters["sweeps_done"],
            desc=plan.sampler.name,
            unit="sweep",
            progress=progress,
            worthwhile=plan.total * model.n_spins * plan.n_slots > 5e7,
            leave=False,
        ) as bar:
            sweeper = _Sweeper(model, plan, run, bar, checkpoint, run_id, clock)
            _burn_in(sweeper)
            _measure(sweeper)
    finally:
        numba.set_num_threads(threads_before)
    run.counters["wall_time"] = clock()
    return _result(model, plan, run, sweeper.batch_of)


def _result(model: Ising, plan: _Plan, run: _Progress, batch_of: np.ndarray) -> SampleResult:
    """The finished run, with <s_i> and its batch-means error bars per temperature."""
    mean_spin, mean_spin_stderr, batch_correlation = (
        _site_means(run.site_sums, batch_of, plan.chain_temperatures) if plan.site_means else (None, None, None)
    )
    smp = plan.sampler
    return SampleResult(
        sampler=smp.name,
        sampler_options=smp.options(),
        n_spins=model.n_spins,
        chain_temperatures=plan.chain_temperatures,
        sweeps=plan.sweeps,
        burn_in=plan.burn_in,
        thin=plan.thin,
        energy=run.energy,
        magnetization=run.magnetization,
        mean_spin=mean_spin,
        mean_spin_stderr=mean_spin_stderr,
        accepted=int(run.counters["accepted"]),
        attempted=int(run.counters["attempted"]),
        wall_time=float(run.counters["wall_time"]),
        final_state=run.state,
        states=run.states,
        sampler_info=smp.info(),
        n_batches=plan.n_batches,
        mean_spin_batch_correlation=batch_correlation,
    )


def _site_means(
    site_sums: np.ndarray, batch_of: np.ndarray, chain_temps: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """<s_i> per temperature with batch-means standard errors over every (chain, batch), and the
    lag-1 autocorrelation of consecutive batch means (each chain's, about its own mean, pooled over
    the chains and sites): near 0 when the batches are long enough for independent means."""
    counts = np.bincount(batch_of, minlength=site_sums.shape[1]).astype(float)
    batch_means = site_sums / counts[None, :, None]
    means, errs, rhos = [], [], []
    for T in np.unique(chain_temps):
        chains = batch_means[chain_temps == T]  # (chains, batches, spins)
        values = chains.reshape(-1, site_sums.shape[2])
        weights = np.tile(counts, int(np.sum(chain_temps == T)))
        mean = weights @ values / weights.sum()
        k = values.shape[0]
        err = values.std(axis=0, ddof=1) / np.sqrt(k) if k > 1 else np.full(values.shape[1], np.nan)
        means.append(mean)
        errs.append(err)
        x = chains - chains.mean(axis=1, keepdims=True)
        spread = float(np.sum(x * x))
        rhos.append(float(np.sum(x[:, 1:] * x[:, :-1])) / spread if chains.shape[1] > 2 and spread > 0 else 0.0)
    return np.array(means), np.array(errs), np.array(rhos)
