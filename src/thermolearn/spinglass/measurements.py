"""Overlaps measured on disorder ensembles: P(q), chi_SG and the Binder ratio of q at a temperature.

For each instance two independent populations are annealed to beta = 1/T by population annealing
(:func:`~thermolearn.spinglass.population_annealing.anneal_population`); replica i of the first and
replica i of the second are independent draws from exp(-beta E) / Z, so q_i = (1/N) sum_j a_ij b_ij
are R overlap samples of that instance (correlated among themselves through the families of each
population, which is why error bars come from the spread over disorder samples, never from the
R pairs). The disorder averages and their jackknife errors are
:func:`~thermolearn.spinglass.overlaps.disorder_average`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from thermolearn.spinglass.ensembles import DisorderEnsemble
from thermolearn.spinglass.overlaps import (
    DisorderAverage,
    disorder_average_of_moments,
    link_overlap,
    overlap,
    overlap_distribution,
)
from thermolearn.spinglass.population_annealing import (
    MIN_POPULATION,
    anneal_population,
    check_population,
    check_population_memory,
    linear_beta_schedule,
)
from thermolearn.validation import check_positive_int, check_temperature


def _check_pairs(population: object) -> int:
    """The population of each of the two annealed populations: R >= MIN_POPULATION overlap pairs."""
    if isinstance(population, (int, np.integer)) and not isinstance(population, bool) and population < MIN_POPULATION:
        raise ValueError(
            f"population must be at least {MIN_POPULATION} replicas: replica i of one population and of another "
            f"give the i-th overlap, and P(q) and each anneal's reweighting need many of them; got {population}"
        )
    return check_population(population, 2)[0]


@dataclass(frozen=True)
class OverlapStudy:
    """Overlaps of ``ensemble`` at ``temperature``: per sample the thermal moments (``samples``:
    dicts with seed, q2, q4, abs_q, link), the disorder-averaged P(q) on the grid q = -1..1 in steps
    of 2/N (``q_values``, ``p_of_q``), and the disorder averages with errors (``average``)."""

    temperature: float
    ensemble: DisorderEnsemble
    population: int
    samples: tuple[dict[str, float], ...]
    q_values: np.ndarray
    p_of_q: np.ndarray
    average: DisorderAverage

    def as_dict(self) -> dict[str, Any]:
        """The study as a JSON-ready dict: P(q) and the disorder averages."""
        return {
            "temperature": self.temperature,
            "ensemble": self.ensemble.describe(),
            "population": self.population,
            "samples": [dict(s) for s in self.samples],
            "q_values": self.q_values.tolist(),
            "p_of_q": self.p_of_q.tolist(),
            **self.average.as_dict(),
        }


def _pair_seeds(instance_seed: int) -> tuple[np.random.SeedSequence, np.random.SeedSequence]:
    """The two populations' seeds of an instance: streams apart from its couplings' and searches'."""
    a, b = np.random.SeedSequence([instance_seed, 0x0F]).spawn(2)
    return a, b


def overlap_study(
    ensemble: DisorderEnsemble,
    temperature: float,
    *,
    population: int = 500,
    steps: int = 50,
    sweeps: int = 5,
    progress: Callable[[int], None] | None = None,
) -> OverlapStudy:
    """P(q), [<q^2>], chi_SG = N [<q^2>], the Binder ratio and the link overlap of ``ensemble`` at
    ``temperature`` (k_B = 1) from two independent annealed populations of ``population`` replicas
    per instance (``steps`` equal steps of beta, ``sweeps`` Metropolis sweeps each).
    ``progress(1)`` after each instance."""
    if not isinstance(ensemble, DisorderEnsemble):
        raise TypeError(f"ensemble must be a DisorderEnsemble, got {type(ensemble).__name__}")
    T = check_temperature(temperature)
    population = _check_pairs(population)
    steps = check_positive_int("steps", steps)
    sweeps = check_positive_int("sweeps", sweeps)
    if ensemble.n_samples < 2:
        raise ValueError(f"disorder averages with error bars need at least 2 samples, got {ensemble.n_samples}")
    check_population_memory(2 * population, ensemble.n_spins)
    rows = []
    for k in range(ensemble.n_samples):
        rows.append(overlap_sample(ensemble, k, T, population=population, steps=steps, sweeps=sweeps))
        if progress is not None:
            progress(1)
    return overlap_study_from_samples(ensemble, T, population, rows)


def overlap_sample(
    ensemble: DisorderEnsemble, k: int, temperature: float, *, population: int = 500, steps: int = 50, sweeps: int = 5
) -> dict[str, Any]:
    """The overlaps of instance ``k`` at ``temperature``: its thermal moments of q (``q2``, ``q4``,
    ``abs_q``), mean link overlap ``link`` and P(q) on the grid q = -1..1 in steps of 2/N (``p``),
    from two independent populations of ``population`` replicas (its own seeds: the same numbers
    wherever and whenever it runs)."""
    if not isinstance(ensemble, DisorderEnsemble):
        raise TypeError(f"ensemble must be a DisorderEnsemble, got {type(ensemble).__name__}")
    T = check_temperature(temperature)
    population = _check_pairs(population)
    n = ensemble.n_spins
    check_population_memory(2 * population, n)
    betas = linear_beta_schedule(1.0 / T, check_positive_int("steps", steps))
    sweeps = check_positive_int("sweeps", sweeps)
    model = ensemble.model(k)
    seed_a, seed_b = _pair_seeds(ensemble.seeds[k])
    _, a = anneal_population(model, betas, population, sweeps, seed_a)
    _, b = anneal_population(model, betas, population, sweeps, seed_b)
    q = np.asarray(overlap(a, b))
    ql = np.asarray(link_overlap(a, b, model))
    _, p = overlap_distribution(q, n)
    return {
        "seed": ensemble.seeds[k],
        "q2": float(np.mean(q**2)),
        "q4": float(np.mean(q**4)),
        "abs_q": float(np.mean(np.abs(q))),
        "link": float(np.mean(ql)),
        "p": p.tolist(),
    }


def overlap_study_from_samples(
    ensemble: DisorderEnsemble, temperature: float, population: int, samples: list[dict[str, Any]]
) -> OverlapStudy:
    """The :class:`OverlapStudy` of the per-sample results of :func:`overlap_sample` (one per
    instance, in order): P(q) averaged over samples and the disorder averages of the moments."""
    n = ensemble.n_spins
    if len(samples) != ensemble.n_samples:
        raise ValueError(f"give the results of each of the {ensemble.n_samples} samples, got {len(samples)}")
    p_sum = np.zeros(n + 1)
    for row in samples:
        p_sum += np.asarray(row["p"], dtype=np.float64)
    average = disorder_average_of_moments(
        [r["q2"] for r in samples], [r["q4"] for r in samples], [r["abs_q"] for r in samples], n,
        [r["link"] for r in samples],
    )  # fmt: skip
    return OverlapStudy(
        temperature=float(temperature),
        ensemble=ensemble,
        population=population,
        samples=tuple({key: r[key] for key in ("seed", "q2", "q4", "abs_q", "link")} for r in samples),
        q_values=np.arange(n + 1) * 2.0 / n - 1.0,
        p_of_q=p_sum / ensemble.n_samples,
        average=average,
    )
