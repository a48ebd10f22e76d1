"""Probabilistic computing with p-bits: what hardware update rules really sample, invertible
logic compiled from truth tables, and factorisation by running a multiplier backwards.

- :func:`run_pbits` — p-bit networks on any :class:`~thermolearn.Ising` model under the
  update models of :data:`UPDATE_MODELS` (sequential, chromatic, synchronous, asynchronous).
- :func:`stationary_distribution` — the exact law each update model samples;
  :func:`total_variation` — a run against it, with an error bar.
- :func:`graph_coloring` — the colour classes of chromatic updates.
"""

from typing import TYPE_CHECKING

from thermolearn.lazy_exports import lazy_exports

if TYPE_CHECKING:  # what type checkers see; at run time each name loads on first use
    from thermolearn.pbits.coloring import color_classes, graph_coloring
    from thermolearn.pbits.stationary import (
        asynchronous_distribution,
        boltzmann_distribution,
        stationary_distribution,
        synchronous_distribution,
        total_variation,
        tv_distance,
        tv_noise_floor,
    )
    from thermolearn.pbits.updates import EXACT_UPDATE_MODELS, UPDATE_MODELS, PBitRun, run_pbits


_EXPORTS = {
    "asynchronous_distribution": "stationary",
    "boltzmann_distribution": "stationary",
    "color_classes": "coloring",
    "EXACT_UPDATE_MODELS": "updates",
    "graph_coloring": "coloring",
    "PBitRun": "updates",
    "run_pbits": "updates",
    "stationary_distribution": "stationary",
    "synchronous_distribution": "stationary",
    "total_variation": "stationary",
    "tv_distance": "stationary",
    "tv_noise_floor": "stationary",
    "UPDATE_MODELS": "updates",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
