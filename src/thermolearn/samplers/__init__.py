"""Markov chains that leave exp(-beta E) / Z invariant.

Every sampler follows :class:`Sampler`: it advances a :class:`ChainState` (many
independent chains, each with its own generator) by whole sweeps at each chain's inverse
temperature. Runs (burn-in, measurement, error bars, checkpoints) are
:func:`thermolearn.runs.sample`, one layer up.
"""

from typing import TYPE_CHECKING

from thermolearn.lazy_exports import lazy_exports

if TYPE_CHECKING:  # what type checkers see; at run time each name loads on first use
    from thermolearn.samplers.annealing import AnnealResult, anneal
    from thermolearn.samplers.base import BoundSweeps, Sampler, SweepStats
    from thermolearn.samplers.cluster import SwendsenWang, Wolff
    from thermolearn.samplers.multispin import MultiSpinMetropolis
    from thermolearn.samplers.parallel_tempering import AdaptedLadder, ParallelTempering, adapt_ladder, geometric_ladder
    from thermolearn.samplers.registry import SAMPLERS, make_sampler
    from thermolearn.samplers.rules import NonErgodicWarning, SpinFlipRule
    from thermolearn.samplers.single_spin import HeatBath, Metropolis, Quench, SingleSpinSampler, checkerboard_order
    from thermolearn.samplers.state import ChainState


_EXPORTS = {
    "adapt_ladder": "parallel_tempering",
    "AdaptedLadder": "parallel_tempering",
    "anneal": "annealing",
    "AnnealResult": "annealing",
    "ChainState": "state",
    "checkerboard_order": "single_spin",
    "geometric_ladder": "parallel_tempering",
    "HeatBath": "single_spin",
    "make_sampler": "registry",
    "Metropolis": "single_spin",
    "MultiSpinMetropolis": "multispin",
    "NonErgodicWarning": "rules",
    "ParallelTempering": "parallel_tempering",
    "Quench": "single_spin",
    "Sampler": "base",
    "SingleSpinSampler": "single_spin",
    "SpinFlipRule": "rules",
    "SAMPLERS": "registry",
    "SweepStats": "base",
    "BoundSweeps": "base",
    "SwendsenWang": "cluster",
    "Wolff": "cluster",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
