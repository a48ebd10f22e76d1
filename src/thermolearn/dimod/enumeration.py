"""Exact solutions of small BQMs as a dimod sampler: every state, lowest energy first.

Energies of all 2^n states come from :func:`thermolearn.exact.probability_table` (n <= 20);
the sample set lists them sorted by energy (ties in state-index order), so
``sampleset.first`` is a ground state and ``sampleset.lowest()`` all of them. Like
``dimod.ExactSolver``, but with ``num_states`` to keep only the lowest few and the ground
energy and degeneracy in ``info``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from thermolearn.dimod.problem import check_reads, dimod, spin_problem, to_sampleset

#: ties within this tolerance, relative to the energy scale sum |J_ij| + sum |h_i| of the couplings
#: (the largest |E| of any state), count as degenerate ground states
DEGENERACY_TOLERANCE = 1e-9


class EnumerationSampler(dimod.Sampler):
    """Every state of a BQM of up to 20 variables (SPIN or BINARY, any labels, any offset),
    sorted by energy; ``num_states`` keeps the lowest ones. ``info`` holds
    ``ground_energy``, ``degeneracy`` (all states within a relative 1e-9 of it, also those
    ``num_states`` leaves out) and ``timing``."""

    def __init__(self) -> None:
        self._parameters: dict[str, list[str]] = {"num_states": []}
        self._properties: dict[str, Any] = {"max_num_variables": 20}

    @property
    def parameters(self) -> dict[str, list[str]]:
        """Keyword arguments of :meth:`sample`."""
        return self._parameters

    @property
    def properties(self) -> dict[str, Any]:
        """The largest problem enumerated."""
        return self._properties

    def sample(self, bqm: dimod.BinaryQuadraticModel, num_states: int | None = None, **kwargs: Any) -> dimod.SampleSet:
        """All (or the ``num_states`` lowest) states of ``bqm`` with their exact energies."""
        started = time.perf_counter_ns()
        self.remove_unknown_kwargs(**kwargs)
        problem = spin_problem(bqm)
        from thermolearn.exact.enumeration import MAX_TABLE_SPINS, probability_table, state_index_to_spins

        n = problem.n_spins
        if n > MAX_TABLE_SPINS:
            raise ValueError(
                f"EnumerationSampler lists every state of at most {MAX_TABLE_SPINS} variables; this BQM has {n} "
                "(use SimulatedAnnealingSampler or ParallelTemperingSampler)"
            )
        keep = check_reads("num_states", num_states, 2**n)
        sampling = time.perf_counter_ns()
        if problem.model is None:
            order = np.zeros(1, dtype=np.int64)
            all_energies = energies = np.zeros(1)
            scale = 0.0
        else:
            _, all_energies = probability_table(problem.model, 1.0)
            order = np.argsort(all_energies, kind="stable")[:keep]
            energies = all_energies[order]
            scale = float(problem.model.energy_scale())  # >= |E| of every state
        spins = state_index_to_spins(order, n).reshape(order.size, n)
        done = time.perf_counter_ns()
        ground = float(energies[0])
        # rounding of E scales with the couplings, not with 1: at 1e-10 couplings an absolute 1e-9
        # called every state a ground state. Counted over every state, not only the ones kept.
        tolerance = DEGENERACY_TOLERANCE * scale
        info = {
            "ground_energy": ground + problem.offset,
            "degeneracy": int(np.count_nonzero(all_energies <= ground + tolerance)),
            "num_states": int(order.size),
        }
        return to_sampleset(problem, spins, energies, info, started, (sampling, done))
