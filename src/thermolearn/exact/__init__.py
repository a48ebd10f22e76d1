"""Answers without sampling: enumeration, transfer matrices, Onsager and Kaufman, and the
exact partition function of small RBMs.

:func:`solve` picks the exact method that fits a model; each method is also callable on
its own. Every method returns :class:`ExactThermodynamics` per temperature.
"""

from typing import TYPE_CHECKING

from thermolearn.lazy_exports import lazy_exports

if TYPE_CHECKING:  # what type checkers see; at run time each name loads on first use
    from thermolearn.exact.enumeration import MAX_SPINS, enumerate_exact, probability_table, state_index_to_spins
    from thermolearn.exact.ground_state import MAX_GROUND_STATE_SPINS, enumerate_ground_state
    from thermolearn.exact.rbm_models import rbm_model_log_partition
    from thermolearn.exact.rbm_partition import (
        MAX_SUMMED_UNITS,
        rbm_exact_log_likelihood,
        rbm_free_energy,
        rbm_log_partition,
    )
    from thermolearn.exact.solve import ExactMethodUnavailable, choose_method, solve
    from thermolearn.exact.thermodynamics import ExactThermodynamics


_EXPORTS = {
    "choose_method": "solve",
    "enumerate_exact": "enumeration",
    "enumerate_ground_state": "ground_state",
    "ExactMethodUnavailable": "solve",
    "ExactThermodynamics": "thermodynamics",
    "MAX_GROUND_STATE_SPINS": "ground_state",
    "MAX_SPINS": "enumeration",
    "MAX_SUMMED_UNITS": "rbm_partition",
    "probability_table": "enumeration",
    "rbm_exact_log_likelihood": "rbm_partition",
    "rbm_free_energy": "rbm_partition",
    "rbm_log_partition": "rbm_partition",
    "rbm_model_log_partition": "rbm_models",
    "solve": "solve",
    "state_index_to_spins": "enumeration",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
