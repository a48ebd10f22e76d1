"""Simulated annealing as a dimod sampler, with dwave-samplers' (neal's) parameter names.

Each read is a single-spin Metropolis (or heat-bath, 'Gibbs') chain whose inverse
temperature beta = 1/T (k_B = 1, energy units of the BQM) follows a schedule from hot to
cold, one beta per sweep, run by :func:`thermolearn.samplers.anneal` (compiled kernels
keeping every spin's local field up to date). Unlike dwave-samplers, every read ends with a
zero-temperature quench, so each returned state is a local minimum (no single flip lowers
its energy); the number of quench sweeps is small and not counted in ``num_sweeps``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from thermolearn.dimod.problem import (
    check_dimod_seed,
    dimod,
    initial_spins,
    spin_problem,
    sweep_betas,
    to_sampleset,
)

ACCEPTANCE = {"Metropolis": "metropolis", "Gibbs": "heatbath"}


class SimulatedAnnealingSampler(dimod.Sampler, dimod.Initialized):
    """Simulated annealing of a BQM (SPIN or BINARY, any hashable labels, any offset).

    A drop-in for ``dwave.samplers.SimulatedAnnealingSampler``: the same parameter names and
    defaults (one read unless ``num_reads`` or ``initial_states`` say otherwise, 1000
    sweeps, a geometric schedule); ``info`` holds ``beta_range``, ``beta_schedule_type``,
    ``seed`` and ``timing`` (nanoseconds). Example::

        from thermolearn.dimod import SimulatedAnnealingSampler
        sampleset = SimulatedAnnealingSampler().sample(bqm, num_reads=100, num_sweeps=1000, seed=1)
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
            "interrupt_function": [],
            "initial_states": [],
            "initial_states_generator": [],
            "randomize_order": [],
            "proposal_acceptance_criteria": ["proposal_acceptance_criteria_options"],
        }
        self._properties: dict[str, Any] = {
            "beta_schedule_options": ("linear", "geometric", "custom"),
            "proposal_acceptance_criteria_options": tuple(ACCEPTANCE),
            "ends_with_quench": True,
        }

    @property
    def parameters(self) -> dict[str, list[str]]:
        """Keyword arguments of :meth:`sample`, each with the properties that describe it."""
        return self._parameters

    @property
    def properties(self) -> dict[str, Any]:
        """Allowed schedule types and acceptance rules."""
        return self._properties

    def sample(
        self,
        bqm: dimod.BinaryQuadraticModel,
        beta_range: tuple[float, float] | list[float] | None = None,
        num_reads: int | None = None,
        num_sweeps: int | None = None,
        num_sweeps_per_beta: int = 1,
        beta_schedule_type: str = "geometric",
        seed: int | None = None,
        interrupt_function: Callable[[], bool] | None = None,
        beta_schedule: Any = None,
        initial_states: Any = None,
        initial_states_generator: str = "random",
        randomize_order: bool = False,
        proposal_acceptance_criteria: str = "Metropolis",
        **kwargs: Any,
    ) -> dimod.SampleSet:
        """``num_reads`` annealing runs of ``bqm``; see dwave-samplers for every parameter.

        beta_range: (beta_hot, beta_cold) > 0 in inverse energy units (default from the
        biases: a typical flip accepted half the time at the start, the weakest bond rarely
        broken at the end). seed: int in [0, 2^32) or None (then drawn, and kept in info).
        interrupt_function: called with no arguments as groups of reads finish (about a hundredth
        of the reads, at least one per thread); True stops the run, and the sample set holds the
        reads finished so far, each the same as in a whole run.
        """
        started = time.perf_counter_ns()
        self.remove_unknown_kwargs(**kwargs)
        if interrupt_function is not None and not callable(interrupt_function):
            raise TypeError(f"interrupt_function must be a callable taking no arguments, got {interrupt_function!r}")
        if proposal_acceptance_criteria not in ACCEPTANCE:
            raise ValueError(
                f"proposal_acceptance_criteria must be 'Metropolis' or 'Gibbs', got {proposal_acceptance_criteria!r}"
            )
        seed = check_dimod_seed(seed)
        problem = spin_problem(bqm)
        reads, start = initial_spins(self, bqm, problem, num_reads, initial_states, initial_states_generator, seed)
        info: dict[str, Any] = {"beta_schedule_type": beta_schedule_type, "seed": seed}
        if problem.model is None:
            now = time.perf_counter_ns()
            info["beta_range"] = None if beta_range is None else list(beta_range)
            return to_sampleset(problem, np.zeros((reads, 0), np.int8), None, info, started, (now, now))
        from thermolearn.samplers.annealing import anneal
        from thermolearn.samplers.registry import make_sampler

        betas, used = sweep_betas(
            beta_range, num_sweeps, num_sweeps_per_beta, beta_schedule_type, beta_schedule, problem.model
        )
        info["beta_range"] = list(used)
        sampler = make_sampler(
            ACCEPTANCE[proposal_acceptance_criteria], order="random" if randomize_order else "sequential"
        )
        sampling = time.perf_counter_ns()
        result = anneal(
            problem.model,
            reads=reads,
            schedule=betas,
            sampler=sampler,
            seed=seed,
            initial="random" if start is None else start,
            interrupt=interrupt_function,
        )
        done = time.perf_counter_ns()
        return to_sampleset(problem, result.states, result.energies, info, started, (sampling, done))
