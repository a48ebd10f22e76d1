"""Samplers by name, for the command line and ``sample(model, "name")``."""

from __future__ import annotations

from typing import Any

from thermolearn.samplers.base import Sampler
from thermolearn.samplers.cluster import SwendsenWang, Wolff
from thermolearn.samplers.jax_lattice import JaxCheckerboardMetropolis
from thermolearn.samplers.multispin import MultiSpinMetropolis
from thermolearn.samplers.packed_lattice import PackedLatticeHeatBath, PackedLatticeSampler
from thermolearn.samplers.parallel_tempering import ParallelTempering
from thermolearn.samplers.single_spin import HeatBath, Metropolis, Quench

SAMPLERS: dict[str, type[Sampler]] = {
    "metropolis": Metropolis,
    "heatbath": HeatBath,
    "quench": Quench,
    "wolff": Wolff,
    "sw": SwendsenWang,
    "pt": ParallelTempering,
    "metropolis-msc": MultiSpinMetropolis,
    "metropolis-packed": PackedLatticeSampler,
    "heatbath-packed": PackedLatticeHeatBath,
    "metropolis-jax": JaxCheckerboardMetropolis,
}


def make_sampler(name: str, **options: Any) -> Sampler:
    """A sampler by name with its options, e.g. ``make_sampler("metropolis", order="random")``."""
    if name not in SAMPLERS:
        raise ValueError(f"unknown sampler {name!r}; choose one of {', '.join(sorted(SAMPLERS))}")
    return SAMPLERS[name](**options)
