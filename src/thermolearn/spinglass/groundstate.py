"""Ground-state search on instances whose ground state is known exactly.

For each disorder sample the exact ground-state energy E_0 comes from enumeration (the Boltzmann
average of E at T -> 0, exact for N <= ``MAX_EXACT_SPINS``); one run of the algorithm with a
budget of S sweeps reports its lowest energy, and a hit is E_best = E_0 (to rounding). The hit
probability over samples is given with its binomial standard error and a Wilson score interval.

Budgets (sweeps S): ``'sa'`` one simulated-annealing read of S sweeps (then a quench);
``'pt'`` one parallel-tempering read, S sweeps of each of its ``ladder`` replicas; ``'pa'`` one
population of ``population`` replicas annealed in S / ``sweeps_per_step`` steps of beta with
``sweeps_per_step`` Metropolis sweeps each (S sweeps per replica), lowest energy at any step.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from thermolearn.exact.enumeration import enumerate_exact
from thermolearn.models.ising import Ising
from thermolearn.samplers.annealing import anneal
from thermolearn.samplers.schedules import default_beta_range
from thermolearn.spinglass.ensembles import DisorderEnsemble
from thermolearn.spinglass.population_annealing import (
    MIN_POPULATION,
    anneal_population,
    check_population_memory,
    linear_beta_schedule,
)
from thermolearn.validation import check_positive_float, check_positive_int

ALGORITHMS = ("sa", "pt", "pa")
#: the largest instance whose ground state is enumerated (2^24 states, well under a second)
MAX_EXACT_SPINS = 24
#: a temperature at which exp(-gap / T) underflows for any gap above 1e-7 coupling units, so the
#: Boltzmann mean of E is the ground-state energy to double precision
_GROUND_TEMPERATURE = 1e-10
DEFAULT_LADDER = 8
DEFAULT_POPULATION = 64
DEFAULT_SWEEPS_PER_STEP = 4


def exact_ground_energy(model: Ising) -> float:
    """The exact ground-state energy (total) of ``model`` by enumeration of its 2^N states (N <= 24)."""
    if model.n_spins > MAX_EXACT_SPINS:
        raise ValueError(
            f"exact ground states are enumerated up to {MAX_EXACT_SPINS} spins; this model has {model.n_spins}"
        )
    return float(enumerate_exact(model, _GROUND_TEMPERATURE, correlations=False)[0].energy)


def is_hit(best_energy: float, ground_energy: float) -> bool:
    """Whether ``best_energy`` is the ground-state energy up to rounding (1e-9 relative, 1e-9 absolute)."""
    return bool(best_energy <= ground_energy + 1e-9 * max(1.0, abs(ground_energy)))


def wilson_interval(hits: int, trials: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval of a binomial probability from ``hits`` of ``trials`` (z = 1.96: 95%)."""
    trials = check_positive_int("trials", trials)
    hits = check_positive_int("hits", hits, minimum=0)
    if hits > trials:
        raise ValueError(f"hits must be between 0 and trials = {trials}, got {hits}")
    z = check_positive_float("z", z)
    p = hits / trials
    denom = 1.0 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    # the exact ends at 0 and all hits (the formula gives them only up to rounding)
    low = 0.0 if hits == 0 else max(0.0, centre - half)
    high = 1.0 if hits == trials else min(1.0, centre + half)
    return low, high


def _algorithm_seed(instance_seed: int, algorithm: str) -> int:
    """The run seed of an instance: its own stream, apart from the stream that drew its couplings."""
    word = np.random.SeedSequence([instance_seed, ALGORITHMS.index(algorithm) + 1]).generate_state(1, np.uint64)[0]
    return int(word >> np.uint64(1))


def search_ground_state(
    model: Ising,
    algorithm: str,
    sweeps: int,
    seed: int,
    *,
    ladder: int = DEFAULT_LADDER,
    population: int = DEFAULT_POPULATION,
    sweeps_per_step: int = DEFAULT_SWEEPS_PER_STEP,
) -> tuple[float, np.ndarray]:
    """The lowest energy (total) and its state found by one run of ``algorithm`` with ``sweeps`` sweeps."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {', '.join(ALGORITHMS)}, got {algorithm!r}")
    sweeps = check_positive_int("sweeps", sweeps)
    if algorithm == "sa":
        res = anneal(model, sweeps, reads=1, algorithm="sa", seed=seed)
        return res.best_energy, res.best_state
    if algorithm == "pt":
        ladder = check_positive_int("ladder", ladder, minimum=2)
        res = anneal(model, sweeps, reads=1, algorithm="pt", temperatures=ladder, seed=seed)
        return res.best_energy, res.best_state
    population = check_positive_int("population", population, minimum=MIN_POPULATION)
    sweeps_per_step = check_positive_int("sweeps_per_step", sweeps_per_step)
    if sweeps < sweeps_per_step:
        raise ValueError(f"sweeps must be at least sweeps_per_step = {sweeps_per_step} for 'pa', got {sweeps}")
    check_population_memory(population, model.n_spins)
    beta_cold = default_beta_range(model)[1]
    betas = linear_beta_schedule(beta_cold, sweeps // sweeps_per_step)
    run, _ = anneal_population(model, betas, population, sweeps_per_step, np.random.SeedSequence(seed))
    return run.min_energy, run.min_state


@dataclass(frozen=True)
class GroundStateStudy:
    """Per-sample results and their averages for one algorithm and budget.

    ``samples``: dicts with ``seed`` (the instance seed), ``best_energy``, ``exact_ground_energy``
    (None beyond enumeration) and ``hit`` (None without an exact energy); ``hit_probability`` and
    ``mean_energy_per_spin`` are (mean, stderr) over samples (stderr None for one sample),
    ``wilson`` the 95% interval of the hit probability.
    """

    ensemble: DisorderEnsemble
    algorithm: str
    sweeps: int
    samples: tuple[dict[str, Any], ...]
    hit_probability: tuple[float, float] | None
    wilson: tuple[float, float] | None
    mean_energy_per_spin: tuple[float, float | None]

    def as_dict(self) -> dict[str, Any]:
        return {
            "ensemble": self.ensemble.describe(),
            "n_spins": self.ensemble.n_spins,
            "algorithm": self.algorithm,
            "sweeps": self.sweeps,
            "samples": [dict(s) for s in self.samples],
            "hit_probability": None
            if self.hit_probability is None
            else {
                "mean": self.hit_probability[0],
                "stderr": self.hit_probability[1],
                "wilson_95": list(self.wilson) if self.wilson is not None else None,
            },
            "mean_energy_per_spin": {"mean": self.mean_energy_per_spin[0], "stderr": self.mean_energy_per_spin[1]},
        }


def ground_state_study(
    ensemble: DisorderEnsemble,
    algorithm: str,
    sweeps: int,
    *,
    exact: bool = True,
    ladder: int = DEFAULT_LADDER,
    population: int = DEFAULT_POPULATION,
    sweeps_per_step: int = DEFAULT_SWEEPS_PER_STEP,
    progress: Callable[[int], None] | None = None,
) -> GroundStateStudy:
    """Run ``algorithm`` once per disorder sample with ``sweeps`` sweeps; compare with the exact
    ground state where the instance is small enough (N <= 24) and ``exact``."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {', '.join(ALGORITHMS)}, got {algorithm!r}")
    sweeps = check_positive_int("sweeps", sweeps)
    enumerable = exact and ensemble.n_spins <= MAX_EXACT_SPINS
    rows = []
    for k in range(ensemble.n_samples):
        model = ensemble.model(k)
        seed = ensemble.seeds[k]
        best, _ = search_ground_state(
            model, algorithm, sweeps, _algorithm_seed(seed, algorithm),
            ladder=ladder, population=population, sweeps_per_step=sweeps_per_step,
        )  # fmt: skip
        e0 = exact_ground_energy(model) if enumerable else None
        rows.append(
            {
                "seed": seed,
                "best_energy": float(best),
                "exact_ground_energy": e0,
                "hit": None if e0 is None else is_hit(best, e0),
            }
        )
        if progress is not None:
            progress(1)
    k = len(rows)
    e = np.array([r["best_energy"] for r in rows]) / ensemble.n_spins
    e_err = float(e.std(ddof=1) / math.sqrt(k)) if k > 1 else None  # no spread from one sample
    hit_p = wilson = None
    if enumerable:
        hits = sum(bool(r["hit"]) for r in rows)
        p = hits / k
        hit_p = (p, math.sqrt(p * (1 - p) / k))
        wilson = wilson_interval(hits, k)
    return GroundStateStudy(ensemble, algorithm, sweeps, tuple(rows), hit_p, wilson, (float(e.mean()), e_err))


def hit_curve(
    ensemble: DisorderEnsemble,
    algorithm: str,
    sweeps: Sequence[int],
    **options: Any,
) -> list[GroundStateStudy]:
    """The hit probability against the budget: one :func:`ground_state_study` per entry of ``sweeps``."""
    budgets = [check_positive_int("sweeps", s) for s in sweeps]
    if not budgets:
        raise ValueError("sweeps must list at least one budget")
    return [ground_state_study(ensemble, algorithm, s, **options) for s in budgets]
