"""Pick the exact method that fits a model, and run it over temperatures."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from thermolearn.exact.enumeration import MAX_SPINS, enumerate_exact
from thermolearn.exact.thermodynamics import ExactThermodynamics
from thermolearn.models.ising import Ising, check_ising_model
from thermolearn.validation import check_temperatures

EXACT_METHODS = ("auto", "enumeration", "transfer_matrix", "kaufman")
MAX_STRIP_WIDTH = 12
"""Widest strip (spins across) handed to the transfer matrix: 2^12 row states."""


class ExactMethodUnavailable(ValueError):
    """No exact method applies to this model (too many spins, no solvable geometry)."""


def _kaufman_applies(model: Ising) -> bool:
    g = model.geometry
    if g is None or g.dim != 2 or not all(g.periodic) or min(g.shape) < 2 or g.field != 0.0:
        return False
    J = g.couplings[0]
    if g.couplings[1] != J or J == 0.0:
        return False
    # the antiferromagnet maps onto the ferromagnet by flipping one sublattice, which needs even sides
    return J > 0 or all(side % 2 == 0 for side in g.shape)


def _transfer_matrix_applies(model: Ising) -> bool:
    g = model.geometry
    if g is None or g.dim not in (1, 2):
        return False
    return g.dim == 1 or min(g.shape) <= MAX_STRIP_WIDTH


def choose_method(model: Ising, method: str = "auto") -> str:
    """The exact method used for ``model``: Kaufman for periodic square lattices in zero
    field, transfer matrices for chains and strips, enumeration for n <= 30 spins."""
    check_ising_model(model)
    if method not in EXACT_METHODS:
        raise ValueError(f"method must be one of {', '.join(EXACT_METHODS)}, got {method!r}")
    if method == "kaufman" and not _kaufman_applies(model):
        raise ExactMethodUnavailable(
            "Kaufman's solution needs a periodic 2D lattice (sides >= 2) with one coupling J on both axes "
            "(J > 0, or J < 0 with even sides) and zero field, as built by Ising.lattice((L, L))"
        )
    if method == "transfer_matrix" and not _transfer_matrix_applies(model):
        raise ExactMethodUnavailable(
            f"transfer matrices need a 1D chain or a 2D lattice at most {MAX_STRIP_WIDTH} spins wide (Ising.lattice)"
        )
    if method == "enumeration" and model.n_spins > MAX_SPINS:
        enumerate_exact(model, 1.0)  # raises the error that names the limit
    if method != "auto":
        return method
    if _kaufman_applies(model):
        return "kaufman"
    if _transfer_matrix_applies(model):
        return "transfer_matrix"
    if model.n_spins <= MAX_SPINS:
        return "enumeration"
    raise ExactMethodUnavailable(
        f"no exact method fits this model: {model.n_spins} spins is past the enumeration limit of {MAX_SPINS}, "
        f"and it is not a chain, a strip at most {MAX_STRIP_WIDTH} wide, or a periodic square lattice in zero field. "
        "Use Monte Carlo (thermolearn.samplers) or a variational method (thermolearn.variational) instead."
    )


def solve(
    model: Ising,
    temperatures: float | Sequence[float] | np.ndarray,
    *,
    method: str = "auto",
    progress: Callable[[int], None] | None = None,
) -> list[ExactThermodynamics]:
    """Exact thermodynamics of ``model`` at each temperature (k_B = 1), by the method that
    fits (see :func:`choose_method`). ``progress(k)`` is called after each temperature."""
    check_ising_model(model)
    temps = check_temperatures(temperatures)
    chosen = choose_method(model, method)
    if chosen == "enumeration":
        results = []
        for T in temps:
            results += enumerate_exact(model, T, correlations=model.n_spins <= 24)
            if progress:
                progress(1)
        return results
    if chosen == "kaufman":
        from thermolearn.exact.kaufman import kaufman

        geometry = model.geometry
        assert geometry is not None  # choose_method checked _kaufman_applies
        rows, cols = geometry.shape
        solver = lambda T: kaufman(rows, T, geometry.couplings[0], columns=cols)  # noqa: E731
    else:
        from thermolearn.exact.transfer_matrix import solve_lattice

        solver = lambda T: solve_lattice(model, T)  # noqa: E731
    results = []
    for T in temps:
        results.append(solver(float(T)))
        if progress:
            progress(1)
    return results
