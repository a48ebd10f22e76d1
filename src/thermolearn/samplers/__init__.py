"""Markov chains that leave exp(-beta E) / Z invariant, and ``sample`` to run them.

Every sampler follows :class:`Sampler`: it advances a :class:`ChainState` (many
independent chains, each with its own generator) by whole sweeps at each chain's inverse
temperature. :func:`sample` runs burn-in and measurement sweeps, with error bars,
checkpoints and a progress bar.
"""

from thermolearn.samplers.annealing import AnnealResult, anneal
from thermolearn.samplers.base import Sampler, SweepStats
from thermolearn.samplers.cluster import SwendsenWang, Wolff
from thermolearn.samplers.multispin import MultiSpinMetropolis
from thermolearn.samplers.parallel_tempering import AdaptedLadder, ParallelTempering, adapt_ladder, geometric_ladder
from thermolearn.samplers.registry import SAMPLERS, make_sampler
from thermolearn.samplers.run import SampleResult, sample
from thermolearn.samplers.single_spin import HeatBath, Metropolis, Quench, checkerboard_order
from thermolearn.samplers.state import ChainState

__all__ = [
    "SAMPLERS",
    "AdaptedLadder",
    "AnnealResult",
    "MultiSpinMetropolis",
    "ParallelTempering",
    "SwendsenWang",
    "Wolff",
    "adapt_ladder",
    "anneal",
    "geometric_ladder",
    "ChainState",
    "HeatBath",
    "Metropolis",
    "Quench",
    "SampleResult",
    "Sampler",
    "SweepStats",
    "checkerboard_order",
    "make_sampler",
    "sample",
]
