"""Population annealing as a dimod sampler: a Boltzmann sample at the cold end of the schedule.

A population of ``num_reads`` replicas starts exactly in equilibrium at beta = 0 (uniform
spins) and is carried along increasing betas (beta = 1/T, k_B = 1, inverse energy units of
the BQM): at each step every replica is reweighted by exp(-(beta_k - beta_{k-1}) E), the
population is resampled by those weights and each replica makes ``num_sweeps_per_beta``
Metropolis sweeps (:func:`thermolearn.spinglass.anneal_population`). The returned samples are
the final population, an approximately Boltzmann-distributed sample at the last beta (no
quench), and ``info['log_z']`` is the population's estimate of ln Z there (the BQM's
energies, offset included). One population gives no error bar for it (``log_z_stderr`` is
None): independent runs do, in :func:`thermolearn.spinglass.population_annealing`. Where the
population is too small for its estimate (fewer than MIN_POPULATION replicas, or R not
>> rho_f), ``info['warnings']`` says so and a RuntimeWarning is raised.
"""

from __future__ import annotations

import math
import time
import warnings
from typing import Any

import numpy as np

from thermolearn.dimod.problem import check_dimod_seed, check_reads, dimod, spin_problem, sweep_betas, to_sampleset

DEFAULT_POPULATION = 100
DEFAULT_SWEEPS = 1000
DEFAULT_SWEEPS_PER_BETA = 10


class PopulationAnnealingSampler(dimod.Sampler):
    """Population annealing of a BQM (SPIN or BINARY, any labels, any offset).

    ``num_reads`` is the population size R (the number of samples returned); ``num_sweeps``
    sweeps of every replica in all, ``num_sweeps_per_beta`` of them at each beta (so
    ``num_sweeps / num_sweeps_per_beta`` reweighting steps), betas 'linear' (default) or
    'geometric' over ``beta_range`` or a 'custom' increasing ``beta_schedule``. ``info``
    holds ``beta_range``, ``log_z`` (``log_z_stderr`` None: one population has no error bar),
    the family diagnostics ``families`` and ``rho_f`` (R / exp(family entropy): the estimate is
    trustworthy when R >> rho_f), ``warnings`` (sentences; empty when the population looks
    adequate), the lowest energy seen at any step, ``seed`` and ``timing`` (nanoseconds).
    """

    def __init__(self) -> None:
        self._parameters: dict[str, list[str]] = {
            "beta_range": [],
            "num_reads": [],
            "num_sweeps": [],
            "num_sweeps_per_beta": [],
            "beta_schedule_type": ["beta_schedule_options"],
            "beta_schedule": [],
            "seed": [],
        }
        self._properties: dict[str, Any] = {
            "beta_schedule_options": ("linear", "geometric", "custom"),
            "ends_with_quench": False,
        }

    @property
    def parameters(self) -> dict[str, list[str]]:
        """Keyword arguments of :meth:`sample`."""
        return self._parameters

    @property
    def properties(self) -> dict[str, Any]:
        """Allowed schedule types."""
        return self._properties

    def sample(
        self,
        bqm: dimod.BinaryQuadraticModel,
        beta_range: tuple[float, float] | list[float] | None = None,
        num_reads: int | None = None,
        num_sweeps: int | None = None,
        num_sweeps_per_beta: int = DEFAULT_SWEEPS_PER_BETA,
        beta_schedule_type: str = "linear",
        seed: int | None = None,
        beta_schedule: Any = None,
        **kwargs: Any,
    ) -> dimod.SampleSet:
        """The final population (``num_reads`` samples) of one population-annealing run."""
        started = time.perf_counter_ns()
        self.remove_unknown_kwargs(**kwargs)
        seed = check_dimod_seed(seed)
        population = check_reads("num_reads", num_reads, DEFAULT_POPULATION)
        per_beta = check_reads("num_sweeps_per_beta", num_sweeps_per_beta, DEFAULT_SWEEPS_PER_BETA)
        problem = spin_problem(bqm)
        info: dict[str, Any] = {"beta_schedule_type": beta_schedule_type, "seed": seed}
        if problem.model is None:
            # no variables: Z = exp(-beta offset) exactly at the cold end, every replica the empty state
            now = time.perf_counter_ns()
            cold = None if beta_range is None else float(list(beta_range)[-1])
            info.update(
                beta_range=None if beta_range is None else list(beta_range),
                log_z=None if cold is None else -cold * problem.offset,
                log_z_stderr=None if cold is None else 0.0,
                families=None,
                rho_f=None,
                lowest_energy_seen=float(problem.offset),
                warnings=[],
            )
            return to_sampleset(problem, np.zeros((population, 0), np.int8), None, info, started, (now, now))
        from thermolearn.spinglass.population_annealing import (
            ADEQUATE_FACTOR,
            MIN_POPULATION,
            anneal_population,
            check_population_memory,
        )

        if beta_schedule_type == "custom":
            steps_sweeps = None if num_sweeps is None else num_sweeps // per_beta
            if num_sweeps is not None and num_sweeps % per_beta:
                raise ValueError(f"num_sweeps = {num_sweeps} must be a multiple of num_sweeps_per_beta = {per_beta}")
        else:
            sweeps = check_reads("num_sweeps", num_sweeps, DEFAULT_SWEEPS)
            if sweeps % per_beta:
                raise ValueError(f"num_sweeps = {sweeps} must be a multiple of num_sweeps_per_beta = {per_beta}")
            steps_sweeps = sweeps // per_beta
        # one beta per reweighting step; each is held for per_beta sweeps
        betas, used = sweep_betas(beta_range, steps_sweeps, 1, beta_schedule_type, beta_schedule, problem.model)
        if np.any(np.diff(betas) < 0):
            raise ValueError("population annealing needs a non-decreasing beta schedule (hot to cold)")
        check_population_memory(population, problem.n_spins)
        sampling = time.perf_counter_ns()
        run, spins = anneal_population(problem.model, betas, population, per_beta, np.random.SeedSequence(seed))
        done = time.perf_counter_ns()
        info.update(
            beta_range=list(used),
            num_steps=int(betas.size),
            # Z of the BQM is Z of the Ising form times exp(-beta offset)
            log_z=float(run.log_z - betas[-1] * problem.offset),
            families=run.families,
            rho_f=run.rho_f,
            lowest_energy_seen=float(run.min_energy + problem.offset),
        )
        if not math.isfinite(info["log_z"]):
            info["log_z"] = None
        info["log_z_stderr"] = None  # one population: the spread of independent runs is not known
        notes = []
        if population < MIN_POPULATION:
            notes.append(
                f"a population of {population} is too small for ln Z (at least {MIN_POPULATION} replicas, hundreds at "
                f"low temperature): its mean reweighting factors are noisy and biased low"
            )
        elif population < ADEQUATE_FACTOR * run.rho_f:
            notes.append(
                f"population {population} is not >> rho_f = {run.rho_f:.1f} (few families survive): ln Z and the "
                f"samples may be biased; use at least {math.ceil(ADEQUATE_FACTOR * run.rho_f)} replicas or more sweeps"
            )
        info["warnings"] = notes
        for note in notes:
            warnings.warn(f"PopulationAnnealingSampler: {note}", RuntimeWarning, stacklevel=2)
        return to_sampleset(problem, spins, None, info, started, (sampling, done))
