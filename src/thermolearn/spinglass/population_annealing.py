"""Population annealing (Hukushima and Iba 2003; Machta 2010; Wang, Machta and Katzgraber 2015).

A population of R replicas starts exactly in equilibrium at beta = 0 (uniform random spins) and
is carried along a ladder 0 = beta_0 < beta_1 < ... < beta_K. At each step every replica gets the
reweighting factor w_i = exp(-(beta_k - beta_{k-1}) E_i); their mean Q_k = (1/R) sum_i w_i is an
unbiased estimate of Z(beta_k) / Z(beta_{k-1}), so

    ln Z(beta_K) = N ln 2 + sum_k ln Q_k           (k_B = 1; energies are totals)

(Z(0) = 2^N). The population is then resampled in proportion to w_i (systematic resampling:
one uniform u, copies at the quantiles (u + j) / R of the normalised cumulative weights, so each
replica gets floor(R tau_i) or ceil(R tau_i) copies, tau_i = w_i / sum w, and R stays fixed), and
each replica makes ``sweeps`` Metropolis sweeps at beta_k. Every replica keeps the index of the
beta = 0 replica it descends from (its family): the family entropy S_f = -sum_f nu_f ln nu_f of the
final family fractions nu_f and rho_f = R / exp(S_f) say how many independent lines of descent
survive; the estimate is trustworthy when R >> rho_f.

Error bars come from ``runs`` independent populations (never from one population): ln Z is
ln of the mean of the runs' Z estimates (weighted averaging, equal to one population of
runs x R), with a delete-one-run jackknife; the energy is the Z-weighted mean of the runs' final
mean energies, likewise. rho_t = R Var_runs(ln Z_run) is the equilibrium population size of
Wang, Machta and Katzgraber (the variance of beta F times R).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numba import prange

from thermolearn.estimators.jackknife import jackknife
from thermolearn.kernel_threads import over_items
from thermolearn.models.ising import Ising, check_ising_model
from thermolearn.randomness.seeds import check_int_seed
from thermolearn.randomness.xoshiro import seed_chains
from thermolearn.resources import check_memory
from thermolearn.samplers.parallel_tempering import csr_int64
from thermolearn.samplers.rules import metropolis_decide
from thermolearn.validation import check_finite_array, check_finite_float, check_positive_int, check_temperature

#: fewest replicas for a ln Z estimate: with fewer, the mean reweighting factor of a step is
#: dominated by one or two replicas and resampling leaves a handful of families
MIN_POPULATION = 16
#: fewest independent runs for an error bar (a delete-one-run jackknife needs 2; 4 make it usable)
MIN_RUNS = 2
DEFAULT_STEPS = 100
DEFAULT_SWEEPS = 10
DEFAULT_RUNS = 8
#: R >= this x rho_f for the estimate to be called adequate (Wang, Machta, Katzgraber: R >> rho_f)
ADEQUATE_FACTOR = 10.0
# bytes per spin of the population: int8 spins and float64 local fields, each with its resampled
# copy; per replica: four
# generator words, energy, family, weight, cumulative weight and resampling index
_BYTES_PER_SPIN = 18
_BYTES_PER_REPLICA = 96
# below this many spin updates a call runs serially (waking the thread pool costs more)
_MIN_PARALLEL_WORK = 200_000


@over_items()
def _population_fields(spins, fields, indptr, indices, data, h):
    """Local fields phi_i = h_i + sum_j J_ij s_j of every replica."""
    n_rep, n = spins.shape
    for r in prange(n_rep):
        s = spins[r]
        for i in range(n):
            acc = h[i]
            for p in range(indptr[i], indptr[i + 1]):
                acc += data[p] * s[indices[p]]
            fields[r, i] = acc


@over_items()
def _population_sweeps(spins, energies, fields, rng, indptr, indices, data, beta, n_sweeps):
    """``n_sweeps`` sequential Metropolis sweeps of every replica at ``beta`` (each replica with
    its own generator row), keeping each replica's local fields and total energy current: a
    visit reads one field, and only a flip touches the neighbours (at low temperature, where most
    of an anneal is spent, few visits flip)."""
    n_rep, n = spins.shape
    for r in prange(n_rep):
        s = spins[r]
        phi = fields[r]
        s0, s1, s2, s3 = rng[r, 0], rng[r, 1], rng[r, 2], rng[r, 3]
        e = energies[r]
        for _ in range(n_sweeps):
            for i in range(n):
                si = s[i]
                flip, de, s0, s1, s2, s3 = metropolis_decide(si, phi[i], beta, s0, s1, s2, s3)
                if flip:
                    s[i] = -si
                    twice = -2.0 * si
                    for p in range(indptr[i], indptr[i + 1]):
                        phi[indices[p]] += twice * data[p]
                    e += de
        energies[r] = e
        rng[r, 0], rng[r, 1], rng[r, 2], rng[r, 3] = s0, s1, s2, s3


def linear_beta_schedule(beta: float, steps: int) -> np.ndarray:
    """beta_k = k beta / K for k = 1..K: the ladder of a population annealed from beta = 0."""
    return beta * np.arange(1, steps + 1, dtype=np.float64) / steps


def systematic_resample(weights: np.ndarray, u: float) -> np.ndarray:
    """Indices of R copies drawn in proportion to ``weights`` (R of them, >= 0, not all 0) from
    one uniform ``u`` in [0, 1): replica i gets floor(R tau_i) or ceil(R tau_i) copies."""
    w = check_finite_array("weights", weights, ndim=1)
    if w.size == 0 or np.any(w < 0) or not np.any(w > 0):
        raise ValueError("weights must be a non-empty list of numbers >= 0, not all 0")
    u = check_finite_float("u", u)
    if not 0.0 <= u < 1.0:
        raise ValueError(f"u must be a uniform draw in [0, 1), got {u}")
    return _systematic_resample(w, u)


def _systematic_resample(weights: np.ndarray, u: float) -> np.ndarray:
    r = weights.size
    cum = np.cumsum(weights)
    cum /= cum[-1]
    idx = np.searchsorted(cum, (u + np.arange(r)) / r, side="right")
    return np.minimum(idx, r - 1)  # guards a last cumulative weight that rounds below 1


@dataclass(frozen=True)
class PopulationRun:
    """One population: ``log_z`` = ln Z(beta_K) estimate, the final ``mean_energy`` and its
    population spread ``energy_std`` (totals), ``min_energy`` seen at any step and its state,
    the family entropy ``family_entropy`` and ``rho_f`` = R / exp(S_f), ``families`` left."""

    log_z: float
    mean_energy: float
    energy_std: float
    min_energy: float
    min_state: np.ndarray
    family_entropy: float
    rho_f: float
    families: int
    log_q: np.ndarray

    def as_dict(self) -> dict[str, Any]:
        """The run as a JSON-ready dict: ln Z, energy mean, sd and minimum (units of J), family statistics."""
        return {
            "log_z": self.log_z,
            "mean_energy": self.mean_energy,
            "energy_std": self.energy_std,
            "min_energy": self.min_energy,
            "family_entropy": self.family_entropy,
            "rho_f": self.rho_f,
            "families": self.families,
        }

    def to_record(self) -> dict[str, Any]:
        """Everything of the run as JSON-ready numbers (floats exact under JSON's repr): a
        checkpoint of a study that stopped between runs (see :meth:`from_record`)."""
        return {**self.as_dict(), "min_state": self.min_state.tolist(), "log_q": self.log_q.tolist()}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> PopulationRun:
        """The run of :meth:`to_record`, its arrays restored (spins int8, ln Q_k float64)."""
        fields = ("log_z", "mean_energy", "energy_std", "min_energy", "family_entropy", "rho_f", "families")
        if not isinstance(record, dict) or not all(isinstance(record.get(f), (int, float)) for f in fields):
            raise ValueError(f"a population run record needs the numbers {', '.join(fields)}")
        state = np.asarray(record["min_state"], dtype=np.int8)
        if state.ndim != 1 or not np.all(np.abs(state) == 1):
            raise ValueError("a population run record's min_state must be a list of +-1 spins")
        log_q = np.asarray(record["log_q"], dtype=np.float64)
        if log_q.ndim != 1 or not np.all(np.isfinite(log_q)):
            raise ValueError("a population run record's log_q must be a list of finite numbers")
        return cls(
            log_z=float(record["log_z"]),
            mean_energy=float(record["mean_energy"]),
            energy_std=float(record["energy_std"]),
            min_energy=float(record["min_energy"]),
            min_state=state,
            family_entropy=float(record["family_entropy"]),
            rho_f=float(record["rho_f"]),
            families=int(record["families"]),
            log_q=log_q,
        )


@dataclass(frozen=True)
class PAResult:
    """Population annealing of one model at ``temperature`` over ``runs`` independent populations.

    ``log_z`` and ``energy`` are ``(estimate, stderr)`` from the runs (see the module docstring);
    ``rho_f`` is the mean over runs, ``rho_t`` = R Var(ln Z_run); ``warnings`` says when the
    population looks too small for its estimate (R not >> rho_f or rho_t).
    """

    temperature: float
    n_spins: int
    population: int
    steps: int
    sweeps: int
    log_z: tuple[float, float]
    energy: tuple[float, float]
    rho_f: float
    rho_t: float
    run_results: tuple[PopulationRun, ...]
    final_states: np.ndarray
    seconds: float
    warnings: tuple[str, ...] = field(default=())

    @property
    def runs(self) -> int:
        """Number of independent population runs."""
        return len(self.run_results)

    @property
    def min_energy(self) -> float:
        """Lowest energy found over all runs (units of J)."""
        return float(min(r.min_energy for r in self.run_results))

    def as_dict(self) -> dict[str, Any]:
        """The result as a JSON-ready dict: ln Z and energy (units of J) with jackknife errors, rho_f, rho_t, per-run
        records."""
        return {
            "temperature": self.temperature,
            "n_spins": self.n_spins,
            "population": self.population,
            "steps": self.steps,
            "sweeps_per_step": self.sweeps,
            "runs": self.runs,
            "log_z": {"mean": self.log_z[0], "stderr": self.log_z[1]},
            "energy": {"mean": self.energy[0], "stderr": self.energy[1]},
            "rho_f": self.rho_f,
            "rho_t": self.rho_t,
            "error_bar": "delete-one-run jackknife over independent populations",
            "per_run": [r.as_dict() for r in self.run_results],
            "seconds": self.seconds,
            "warnings": list(self.warnings),
        }


def check_population(population: object, runs: object) -> tuple[int, int]:
    """The population size R (>= MIN_POPULATION) and the number of independent runs (>= MIN_RUNS)."""
    if isinstance(population, bool) or not isinstance(population, (int, np.integer)):
        raise TypeError(f"population must be an integer >= {MIN_POPULATION}, got {population!r}")
    if population < MIN_POPULATION:
        raise ValueError(
            f"population must be at least {MIN_POPULATION} replicas to estimate ln Z (the mean reweighting "
            f"factor of each step needs many replicas; use hundreds or more at low temperature), got {population}"
        )
    if isinstance(runs, bool) or not isinstance(runs, (int, np.integer)):
        raise TypeError(f"runs must be an integer >= {MIN_RUNS}, got {runs!r}")
    if runs < MIN_RUNS:
        raise ValueError(
            f"runs must be at least {MIN_RUNS} independent populations: the error bar of ln Z comes from "
            f"their spread (4 or more make it usable), got {runs}"
        )
    return int(population), int(runs)


def check_population_memory(population: int, n_spins: int) -> None:
    """Refuse a population whose replicas cannot fit, before allocating them."""
    check_memory(
        f"a population of {population} replicas of {n_spins} spins",
        float(population) * (_BYTES_PER_SPIN * n_spins + _BYTES_PER_REPLICA),
        hint="choose a smaller --population or model",
    )


def anneal_population(
    model: Ising,
    betas: np.ndarray,
    population: int,
    sweeps: int,
    seed: np.random.SeedSequence,
    progress: Callable[[int], None] | None = None,
) -> tuple[PopulationRun, np.ndarray]:
    """One population annealed along ``betas`` (increasing, > 0, from beta = 0): its
    :class:`PopulationRun` and final states (R, N). ``progress(1)`` after each step."""
    n = model.n_spins
    r = population
    chain_seed, resample_seed = seed.spawn(2)
    rng = np.random.default_rng(resample_seed)
    spins = (2 * rng.integers(0, 2, size=(r, n), dtype=np.int8) - 1).astype(np.int8)  # exact at beta = 0
    energies = np.atleast_1d(model.energy(spins)).astype(np.float64)
    chains = seed_chains(chain_seed, r)
    families = np.arange(r, dtype=np.int64)
    indptr, indices, data = csr_int64(model)
    h = np.ascontiguousarray(model.fields, dtype=np.float64)
    fields = np.empty((r, n))
    _population_fields.run(r, spins, fields, indptr, indices, data, h, work=r * n, min_work=_MIN_PARALLEL_WORK)
    log_q = np.empty(betas.size)
    beta_prev = 0.0
    best_e = float(energies.min())
    best_s = spins[int(np.argmin(energies))].copy()
    for k, beta in enumerate(betas):
        x = -(beta - beta_prev) * energies
        x_max = float(x.max())
        w = np.exp(x - x_max)  # scaled by exp(-x_max): the largest factor is 1, nothing overflows
        log_q[k] = x_max + math.log(float(w.mean()))
        idx = _systematic_resample(w, float(rng.random()))
        spins = spins[idx]  # generator rows stay with their slots: copies then move apart
        energies = energies[idx]
        families = families[idx]
        fields = fields[idx]  # the copies' fields travel with their spins
        _population_sweeps.run(
            r, spins, energies, fields, chains, indptr, indices, data, float(beta), sweeps,
            work=r * n * sweeps, min_work=_MIN_PARALLEL_WORK,
        )  # fmt: skip
        i = int(np.argmin(energies))
        if energies[i] < best_e:
            best_e, best_s = float(energies[i]), spins[i].copy()
        beta_prev = float(beta)
        if progress is not None:
            progress(1)
    # the running energies carry rounding from many small changes: recompute them exactly
    exact = np.atleast_1d(model.energy(spins)).astype(np.float64)
    nu = np.bincount(families, minlength=r) / r
    nu = nu[nu > 0]
    s_f = float(-(nu * np.log(nu)).sum())
    run = PopulationRun(
        log_z=float(n * math.log(2.0) + log_q.sum()),
        mean_energy=float(exact.mean()),
        energy_std=float(exact.std()),
        min_energy=float(min(best_e, float(exact.min()))),
        min_state=best_s if best_e <= exact.min() else spins[int(np.argmin(exact))].copy(),
        family_entropy=s_f,
        rho_f=float(r / math.exp(s_f)),
        families=int(nu.size),
        log_q=log_q,
    )
    return run, spins


def population_annealing(
    model: Ising,
    temperature: float,
    *,
    population: int = 1000,
    steps: int = DEFAULT_STEPS,
    sweeps: int = DEFAULT_SWEEPS,
    runs: int = DEFAULT_RUNS,
    seed: int = 0,
    betas: np.ndarray | None = None,
    progress: Callable[[int], None] | None = None,
    done_runs: Sequence[PopulationRun] = (),
    on_run: Callable[[PopulationRun], None] | None = None,
) -> PAResult:
    """ln Z and <E> of ``model`` at ``temperature`` (k_B = 1, totals) by population annealing.

    ``runs`` independent populations of ``population`` replicas each go from beta = 0 to 1 / T in
    ``steps`` equal steps of beta (or along ``betas``, increasing and ending at 1 / T) with
    ``sweeps`` Metropolis sweeps per step. ``seed`` (an int) fixes every run. ``progress(1)`` is
    called after each step of each run.

    Resuming: ``done_runs`` are the first runs of this very call (same model, arguments and seed)
    made before it stopped; they are taken as they are and the call goes on with the next run, so
    the result equals that of a call never stopped. ``on_run(run)`` after each new run (to keep it
    in a checkpoint). ``final_states`` are those of the last run made by this call (none if every
    run was given).
    """
    started = time.perf_counter()
    check_ising_model(model)
    T = check_temperature(temperature)
    population, runs = check_population(population, runs)
    sweeps = check_positive_int("sweeps", sweeps)
    seed = check_int_seed(seed)
    if betas is None:
        steps = check_positive_int("steps", steps)
        check_memory(f"a schedule of {steps} steps", 16.0 * steps, hint="choose fewer steps")
        ladder = linear_beta_schedule(1.0 / T, steps)
    else:
        ladder = np.asarray(betas, dtype=np.float64).ravel()
        if ladder.size == 0 or not np.all(np.isfinite(ladder)) or np.any(np.diff(ladder) <= 0) or ladder[0] <= 0:
            raise ValueError("betas must be a non-empty increasing list of finite numbers > 0")
        if not math.isclose(ladder[-1], 1.0 / T, rel_tol=1e-12):
            raise ValueError(f"betas must end at 1 / temperature = {1.0 / T}, got {ladder[-1]}")
        steps = int(ladder.size)
    check_population_memory(population, model.n_spins)
    # every run keeps its ln Q_k per step, its lowest state and a few numbers
    check_memory(
        f"the results of {runs} runs of {steps} steps",
        float(runs) * (8.0 * steps + model.n_spins + 1024),
        hint="choose fewer runs or steps",
    )
    done_runs = list(done_runs)
    if len(done_runs) > runs or not all(isinstance(r, PopulationRun) for r in done_runs):
        raise ValueError(f"done_runs must be at most {runs} PopulationRun results of this call, got {len(done_runs)}")
    if any(r.log_q.size != steps or r.min_state.size != model.n_spins for r in done_runs):
        raise ValueError(f"done_runs must be runs of {steps} steps on {model.n_spins} spins (this call's)")
    root = np.random.SeedSequence(seed)
    results = list(done_runs)
    final = np.empty((0, model.n_spins), dtype=np.int8)
    for j in range(runs):
        # spawned one at a time (the same children as spawn(runs), without a list of them all)
        (child,) = root.spawn(1)
        if j < len(done_runs):
            continue  # its child is spawned all the same: the next runs keep their seeds
        run, final = anneal_population(model, ladder, population, sweeps, child, progress)
        results.append(run)
        if on_run is not None:
            on_run(run)
    log_zs = np.array([r.log_z for r in results])
    means = np.array([r.mean_energy for r in results])
    c = float(log_zs.max())
    w = np.exp(log_zs - c)  # each run's Z estimate over exp(c)
    log_z = jackknife(lambda a: c + math.log(a), w, n_blocks=runs)
    energy = jackknife(lambda a, b: b / a, w, w * means, n_blocks=runs)
    rho_f = float(np.mean([r.rho_f for r in results]))
    rho_t = float(population * np.var(log_zs, ddof=1))
    notes = []
    if population < ADEQUATE_FACTOR * rho_f:
        notes.append(
            f"population {population} is not >> rho_f = {rho_f:.1f} (few families survive): ln Z may be biased; "
            f"use at least {math.ceil(ADEQUATE_FACTOR * rho_f)} replicas or more steps / sweeps"
        )
    if population < ADEQUATE_FACTOR * rho_t:
        notes.append(
            f"population {population} is not >> rho_t = R Var(ln Z) = {rho_t:.1f}: ln Z may be biased; "
            f"use at least {math.ceil(ADEQUATE_FACTOR * rho_t)} replicas or more steps / sweeps"
        )
    return PAResult(
        temperature=T,
        n_spins=model.n_spins,
        population=population,
        steps=steps,
        sweeps=sweeps,
        log_z=(float(log_z.estimate), float(log_z.stderr)),
        energy=(float(energy.estimate), float(energy.stderr)),
        rho_f=rho_f,
        rho_t=rho_t,
        run_results=tuple(results),
        final_states=final,
        seconds=time.perf_counter() - started,
        warnings=tuple(notes),
    )
