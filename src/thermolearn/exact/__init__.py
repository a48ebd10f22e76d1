"""Answers without sampling: enumeration, transfer matrices, Onsager and Kaufman.

:func:`solve` picks the exact method that fits a model; each method is also callable on
its own. Every method returns :class:`ExactThermodynamics` per temperature.
"""

from thermolearn.exact.enumeration import MAX_SPINS, enumerate_exact, probability_table, state_index_to_spins
from thermolearn.exact.solve import ExactMethodUnavailable, choose_method, solve
from thermolearn.exact.thermodynamics import ExactThermodynamics

__all__ = [
    "ExactMethodUnavailable",
    "ExactThermodynamics",
    "MAX_SPINS",
    "choose_method",
    "enumerate_exact",
    "probability_table",
    "solve",
    "state_index_to_spins",
]
