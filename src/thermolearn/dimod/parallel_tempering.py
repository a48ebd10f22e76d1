"""Parallel tempering (replica exchange) as a dimod optimiser.

Each read runs replicas of the problem at a geometric ladder of ``num_replicas``
temperatures between the ends of ``beta_range`` (beta = 1/T, k_B = 1, inverse energy
units of the BQM) for ``num_sweeps`` sweeps, swapping neighbouring replicas with the
Metropolis probability min(1, exp[(beta_i - beta_j)(E_i - E_j)]), and reports the
lowest-energy state it saw, quenched to a local minimum: :func:`thermolearn.samplers.anneal`
with ``algorithm='pt'``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from thermolearn.dimod.problem import check_dimod_seed, check_reads, dimod, initial_spins, spin_problem, to_sampleset

DEFAULT_SWEEPS = 1000
DEFAULT_REPLICAS = 16


class ParallelTemperingSampler(dimod.Sampler, dimod.Initialized):
    """Replica-exchange optimisation of a BQM (SPIN or BINARY, any labels, any offset).

    Parameters as for the simulated-annealing sampler where they mean the same thing
    (``num_reads``, ``num_sweeps``, ``beta_range``, ``seed``, ``initial_states``,
    ``randomize_order``, ``proposal_acceptance_criteria``), plus ``num_replicas`` (ladder
    temperatures per read). The default ``beta_range`` puts the hottest replica where a typical
    flip is accepted 15% of the time (annealing starts at 50%). Each sweep updates every replica once, so a read costs
    ``num_sweeps x num_replicas`` single-spin sweeps. ``info`` holds ``beta_range``,
    ``num_replicas``, ``seed`` and ``timing`` (nanoseconds).
    """

    def __init__(self) -> None:
        self._parameters: dict[str, list[str]] = {
            "beta_range": [],
            "num_reads": [],
            "num_sweeps": [],
            "num_replicas": [],
            "seed": [],
            "interrupt_function": [],
            "initial_states": [],
            "initial_states_generator": [],
            "randomize_order": [],
            "proposal_acceptance_criteria": ["proposal_acceptance_criteria_options"],
        }
        self._properties: dict[str, Any] = {
            "proposal_acceptance_criteria_options": ("Metropolis", "Gibbs"),
            "ends_with_quench": True,
        }

    @property
    def parameters(self) -> dict[str, list[str]]:
        """Keyword arguments of :meth:`sample`."""
        return self._parameters

    @property
    def properties(self) -> dict[str, Any]:
        """Allowed acceptance rules."""
        return self._properties

    def sample(
        self,
        bqm: dimod.BinaryQuadraticModel,
        beta_range: tuple[float, float] | list[float] | None = None,
        num_reads: int | None = None,
        num_sweeps: int | None = None,
        num_replicas: int = DEFAULT_REPLICAS,
        seed: int | None = None,
        interrupt_function: Callable[[], bool] | None = None,
        initial_states: Any = None,
        initial_states_generator: str = "random",
        randomize_order: bool = False,
        proposal_acceptance_criteria: str = "Metropolis",
        **kwargs: Any,
    ) -> dimod.SampleSet:
        """``num_reads`` replica-exchange runs of ``bqm``; each read's lowest state seen.

        interrupt_function: called with no arguments as groups of reads finish; True stops the
        run, and the sample set holds the reads finished so far, each the same as in a whole run.
        """
        started = time.perf_counter_ns()
        self.remove_unknown_kwargs(**kwargs)
        if interrupt_function is not None and not callable(interrupt_function):
            raise TypeError(f"interrupt_function must be a callable taking no arguments, got {interrupt_function!r}")
        from thermolearn.dimod.simulated_annealing import ACCEPTANCE

        if proposal_acceptance_criteria not in ACCEPTANCE:
            raise ValueError(
                f"proposal_acceptance_criteria must be 'Metropolis' or 'Gibbs', got {proposal_acceptance_criteria!r}"
            )
        seed = check_dimod_seed(seed)
        sweeps = check_reads("num_sweeps", num_sweeps, DEFAULT_SWEEPS)
        replicas = check_reads("num_replicas", num_replicas, DEFAULT_REPLICAS)
        if replicas < 2:
            raise ValueError(f"num_replicas must be at least 2 (a ladder), got {replicas}")
        problem = spin_problem(bqm)
        reads, start = initial_spins(self, bqm, problem, num_reads, initial_states, initial_states_generator, seed)
        info: dict[str, Any] = {"num_replicas": replicas, "seed": seed, "num_sweeps": sweeps}
        if problem.model is None:
            now = time.perf_counter_ns()
            info["beta_range"] = None if beta_range is None else list(beta_range)
            return to_sampleset(problem, np.zeros((reads, 0), np.int8), None, info, started, (now, now))
        from thermolearn.samplers.annealing import anneal
        from thermolearn.samplers.registry import make_sampler
        from thermolearn.samplers.schedules import check_beta_range

        sampler = make_sampler(
            ACCEPTANCE[proposal_acceptance_criteria], order="random" if randomize_order else "sequential"
        )
        sampling = time.perf_counter_ns()
        result = anneal(
            problem.model,
            sweeps,
            reads,
            beta_range=None if beta_range is None else check_beta_range(tuple(beta_range)),
            sampler=sampler,
            seed=seed,
            initial="random" if start is None else start,
            algorithm="pt",
            temperatures=replicas,
            interrupt=interrupt_function,
        )
        done = time.perf_counter_ns()
        info["beta_range"] = None if result.beta_range is None else list(result.beta_range)
        return to_sampleset(problem, result.states, result.energies, info, started, (sampling, done))
