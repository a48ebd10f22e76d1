"""Renormalisation: exact decimation, Migdal-Kadanoff bond moving, block spins and Monte Carlo RG.

- :func:`decimate_chain`, :func:`decimation_step` — the exact flow of the 1D chain (K, h) ->
  (K', h') with its constants; :func:`chain_free_energy_per_spin`, :func:`chain_correlation_length`.
- :func:`mk_recursion`, :func:`mk_fixed_point`, :func:`mk_flow` — Migdal-Kadanoff on the square
  and cubic lattices, both orderings: K*, the thermal eigenvalue and nu.
- :func:`block_spins` — majority rule (random tie-break) and decimation on configurations;
  :func:`operator_values` — the even and odd block operators.
- :func:`blocked_operator_series`, :func:`mcrg_exponents` — Swendsen's MCRG: y_T and y_h per
  level with bootstrap errors; :func:`run_mcrg` — the same from cluster samples at K_c (with
  checkpoints); :func:`sample_configurations` — cluster samples of the L^d lattice at any K.
- :func:`receptive_field_locality`, :func:`receptive_field_centres`, :func:`block_spin_kernels`,
  :func:`assign_to_lattice`, :func:`nearest_neighbour_coupling` — the geometry of a learned
  coarse-graining against block spins (the RBM-as-RG experiment runs in
  :func:`thermolearn.runs.rbm_renormalisation`).
"""

from typing import TYPE_CHECKING

from thermolearn.lazy_exports import lazy_exports

if TYPE_CHECKING:  # what type checkers see; at run time each name loads on first use
    from thermolearn.rg.block_spins import BLOCKING_RULES, block_spins
    from thermolearn.rg.critical_sampling import MCRG_SAMPLERS, critical_coupling, run_mcrg, sample_configurations
    from thermolearn.rg.decimation import (
        ChainFlow,
        chain_correlation_length,
        chain_free_energy_per_spin,
        decimate_chain,
        decimation_step,
    )
    from thermolearn.rg.mcrg import (
        MCRGLevel,
        MCRGResult,
        OperatorSeries,
        blocked_operator_series,
        check_mcrg_plan,
        mcrg_exponents,
        minimum_samples,
        rg_matrix,
    )
    from thermolearn.rg.migdal_kadanoff import (
        LATTICE_DIMENSIONS,
        ORDERINGS,
        MKFixedPoint,
        mk_derivative,
        mk_fixed_point,
        mk_flow,
        mk_recursion,
    )
    from thermolearn.rg.operators import EVEN_OPERATORS, ODD_OPERATORS, operator_values
    from thermolearn.rg.receptive_fields import (
        assign_to_lattice,
        block_spin_kernels,
        check_layer_sides,
        nearest_neighbour_coupling,
        nearest_neighbour_pairs,
        receptive_field_centres,
        receptive_field_locality,
    )


_EXPORTS = {
    "BLOCKING_RULES": "block_spins",
    "block_spins": "block_spins",
    "MCRG_SAMPLERS": "critical_sampling",
    "critical_coupling": "critical_sampling",
    "run_mcrg": "critical_sampling",
    "sample_configurations": "critical_sampling",
    "ChainFlow": "decimation",
    "chain_correlation_length": "decimation",
    "chain_free_energy_per_spin": "decimation",
    "decimate_chain": "decimation",
    "decimation_step": "decimation",
    "MCRGLevel": "mcrg",
    "MCRGResult": "mcrg",
    "OperatorSeries": "mcrg",
    "blocked_operator_series": "mcrg",
    "check_mcrg_plan": "mcrg",
    "mcrg_exponents": "mcrg",
    "minimum_samples": "mcrg",
    "rg_matrix": "mcrg",
    "LATTICE_DIMENSIONS": "migdal_kadanoff",
    "ORDERINGS": "migdal_kadanoff",
    "MKFixedPoint": "migdal_kadanoff",
    "mk_derivative": "migdal_kadanoff",
    "mk_fixed_point": "migdal_kadanoff",
    "mk_flow": "migdal_kadanoff",
    "mk_recursion": "migdal_kadanoff",
    "EVEN_OPERATORS": "operators",
    "ODD_OPERATORS": "operators",
    "operator_values": "operators",
    "assign_to_lattice": "receptive_fields",
    "block_spin_kernels": "receptive_fields",
    "check_layer_sides": "receptive_fields",
    "nearest_neighbour_coupling": "receptive_fields",
    "nearest_neighbour_pairs": "receptive_fields",
    "receptive_field_centres": "receptive_fields",
    "receptive_field_locality": "receptive_fields",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
