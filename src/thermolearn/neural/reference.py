"""What a neural estimate is measured against: the exact ln Z where it is affordable, and mean field.

The exact value comes from :func:`thermolearn.exact.solve` when it picks Kaufman's solution or
transfer matrices (any size) or enumeration up to ``max_enumeration`` spins; otherwise None.
Naive mean field gives its bound -T ln Z_MF >= F (:func:`thermolearn.variational.mean_field`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from thermolearn.exact.thermodynamics import ExactThermodynamics
from thermolearn.models.ising import Ising

MAX_ENUMERATION = 24
"""Largest model enumerated for a reference (2^24 states per temperature: about a second)."""


def exact_solution(
    model: Ising, temperatures: float | Sequence[float] | np.ndarray, *, max_enumeration: int = MAX_ENUMERATION
) -> list[ExactThermodynamics] | None:
    """Exact thermodynamics (ln Z, E, ...) at each temperature, or None when no exact method
    fits within the limit."""
    from thermolearn.exact import ExactMethodUnavailable, choose_method, solve

    try:
        method = choose_method(model)
    except (ExactMethodUnavailable, ValueError):
        return None
    if method == "enumeration" and model.n_spins > max_enumeration:
        return None
    return solve(model, np.atleast_1d(np.asarray(temperatures, dtype=np.float64)))


def exact_log_z(
    model: Ising, temperatures: float | Sequence[float] | np.ndarray, *, max_enumeration: int = MAX_ENUMERATION
) -> list[float] | None:
    """Exact ln Z at each temperature, or None when no exact method fits within the limit."""
    solution = exact_solution(model, temperatures, max_enumeration=max_enumeration)
    return None if solution is None else [float(r.log_z) for r in solution]


def mean_field_log_z(model: Ising, temperatures: float | Sequence[float] | np.ndarray) -> list[float]:
    """The naive mean-field lower bound on ln Z at each temperature (its best fixed point)."""
    from thermolearn.variational import mean_field

    return [float(mean_field(model, float(T)).log_z) for T in np.atleast_1d(np.asarray(temperatures, dtype=float))]
