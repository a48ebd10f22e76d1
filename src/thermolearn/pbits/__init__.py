"""Probabilistic computing with p-bits: what hardware update rules really sample, invertible
logic compiled from truth tables, and factorisation by running a multiplier backwards.

- :func:`run_pbits` — p-bit networks on any :class:`~thermolearn.Ising` model under the
  update models of :data:`UPDATE_MODELS` (sequential, chromatic, synchronous, asynchronous).
- :func:`stationary_distribution` — the exact law each update model samples;
  :func:`total_variation` — a run against it, with an error bar.
- :func:`graph_coloring` — the colour classes of chromatic updates.
- :func:`compile_truth_table` — a truth table to [J, h] by a linear program (auxiliary p-bits
  where needed); :func:`gate` — the library (AND, OR, XOR, half and full adder).
- :class:`Circuit`, :func:`ripple_carry_adder`, :func:`multiplier` — gates sharing p-bits;
  :func:`clamp` — fixed p-bits folded into fields; :func:`run_gate` — a gate run forward or
  inverted against enumeration.
- :func:`factor` — factorisation by a multiplier run backwards, success against sweeps.
"""

from typing import TYPE_CHECKING

from thermolearn.lazy_exports import lazy_exports

if TYPE_CHECKING:  # what type checkers see; at run time each name loads on first use
    from thermolearn.pbits.circuit import Circuit, bits_of, multiplier, ripple_carry_adder, value_of
    from thermolearn.pbits.clamping import ClampedModel, clamp
    from thermolearn.pbits.coloring import color_classes, graph_coloring
    from thermolearn.pbits.factoring import FactorResult, factor, factoring_circuit
    from thermolearn.pbits.gates import GATE_NAMES, gate, truth_table
    from thermolearn.pbits.invertible import GateRun, run_gate
    from thermolearn.pbits.logic import Gate, TruthTable, compile_truth_table, gate_from_couplings
    from thermolearn.pbits.stationary import (
        asynchronous_distribution,
        boltzmann_distribution,
        delayed_asynchronous_distribution,
        stationary_distribution,
        synchronous_distribution,
        total_variation,
        tv_distance,
        tv_noise_floor,
    )
    from thermolearn.pbits.updates import EXACT_UPDATE_MODELS, UPDATE_MODELS, PBitRun, run_pbits


_EXPORTS = {
    "bits_of": "circuit",
    "Circuit": "circuit",
    "clamp": "clamping",
    "ClampedModel": "clamping",
    "compile_truth_table": "logic",
    "factor": "factoring",
    "FactorResult": "factoring",
    "factoring_circuit": "factoring",
    "gate": "gates",
    "Gate": "logic",
    "GATE_NAMES": "gates",
    "gate_from_couplings": "logic",
    "GateRun": "invertible",
    "multiplier": "circuit",
    "ripple_carry_adder": "circuit",
    "run_gate": "invertible",
    "truth_table": "gates",
    "TruthTable": "logic",
    "value_of": "circuit",
    "asynchronous_distribution": "stationary",
    "boltzmann_distribution": "stationary",
    "delayed_asynchronous_distribution": "stationary",
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
