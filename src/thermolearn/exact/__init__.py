"""Answers without sampling: enumeration, transfer matrices, Onsager and Kaufman, and the
exact partition function of small RBMs.

:func:`solve` picks the exact method that fits a model; each method is also callable on
its own. Every method returns :class:`ExactThermodynamics` per temperature.
"""

from thermolearn.exact.enumeration import MAX_SPINS, enumerate_exact, probability_table, state_index_to_spins
from thermolearn.exact.rbm_partition import (
    MAX_SUMMED_UNITS,
    rbm_exact_log_likelihood,
    rbm_free_energy,
    rbm_log_partition,
)
from thermolearn.exact.solve import ExactMethodUnavailable, choose_method, solve
from thermolearn.exact.thermodynamics import ExactThermodynamics

__all__ = [
    "ExactMethodUnavailable",
    "ExactThermodynamics",
    "MAX_SPINS",
    "MAX_SUMMED_UNITS",
    "choose_method",
    "enumerate_exact",
    "probability_table",
    "rbm_exact_log_likelihood",
    "rbm_free_energy",
    "rbm_log_partition",
    "solve",
    "state_index_to_spins",
]
