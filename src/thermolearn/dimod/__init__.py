"""thermolearn's samplers as dimod samplers (``pip install 'thermolearn[dimod]'``).

Each is a ``dimod.Sampler``: ``sample(bqm, **parameters)`` (and ``sample_ising``,
``sample_qubo``) returns a ``dimod.SampleSet`` in the BQM's vartype (SPIN or BINARY), with
its labels (any hashable) and its offset, ``parameters`` and ``properties`` declared, and
``info`` holding the seed and timing (nanoseconds). Parameter names are dwave-samplers'
(neal's), so a dimod workflow swaps the import and nothing else.

- :mod:`.simulated_annealing`: :class:`SimulatedAnnealingSampler` (num_reads, num_sweeps,
  num_sweeps_per_beta, beta_range, beta_schedule_type, beta_schedule, seed, initial_states,
  initial_states_generator, randomize_order, proposal_acceptance_criteria).
- :mod:`.parallel_tempering`: :class:`ParallelTemperingSampler`, replica exchange over a
  ladder of ``num_replicas`` temperatures; each read's lowest state.
- :mod:`.population_annealing`: :class:`PopulationAnnealingSampler`, a Boltzmann sample at
  the cold end with the ln Z estimate in ``info``.
- :mod:`.enumeration`: :class:`EnumerationSampler`, every state of a small BQM (n <= 20),
  lowest energy first, exact.
- :mod:`.problem`: the BQM <-> Ising conversion these share.

Importing ``thermolearn.dimod`` loads nothing; the first use of a sampler imports dimod (an
ImportError with the install hint when it is missing).
"""

from typing import TYPE_CHECKING

from thermolearn.lazy_exports import lazy_exports

if TYPE_CHECKING:  # what type checkers see; at run time each name loads on first use
    from thermolearn.dimod.enumeration import EnumerationSampler
    from thermolearn.dimod.parallel_tempering import ParallelTemperingSampler
    from thermolearn.dimod.population_annealing import PopulationAnnealingSampler
    from thermolearn.dimod.simulated_annealing import SimulatedAnnealingSampler

_EXPORTS = {
    "EnumerationSampler": "enumeration",
    "ParallelTemperingSampler": "parallel_tempering",
    "PopulationAnnealingSampler": "population_annealing",
    "SimulatedAnnealingSampler": "simulated_annealing",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
