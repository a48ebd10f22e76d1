"""Critical temperatures of the ferromagnetic Ising model on hypercubic lattices (k_B = 1).

The chain (d = 1) has no transition at T > 0; the square lattice (d = 2) has Onsager's
exact T_c = 2J / ln(1 + sqrt 2); the simple cubic lattice (d = 3) has no closed form and
its best value is a Monte Carlo estimate (see :data:`CUBIC_CRITICAL_TEMPERATURE`).
"""

from __future__ import annotations

from thermolearn.exact import onsager
from thermolearn.validation import check_finite_float, check_positive_int

CUBIC_CRITICAL_TEMPERATURE = 4.5115232
"""Simple-cubic Ising T_c / J = 1 / K_c with K_c = 0.221654626(5): no closed form; the Monte Carlo
estimate of A. M. Ferrenberg, J. Xu and D. P. Landau, "Pushing the limits of Monte Carlo
simulations for the three-dimensional Ising model", Phys. Rev. E 97, 043301 (2018)."""

_SOURCES = {
    2: "exact: Onsager",
    3: "no closed form: Monte Carlo estimate, Ferrenberg, Xu and Landau 2018",
}


def lattice_critical_temperature(dimension: int, coupling: float = 1.0) -> float | None:
    """T_c of the nearest-neighbour ferromagnet ``E = -J sum_<ij> s_i s_j`` on the d-dimensional
    hypercubic lattice, in units of J / k_B times ``coupling``; None where it is not known here.

    d = 1: None (no transition at T > 0); d = 2: Onsager's 2J / ln(1 + sqrt 2) = 2.269 J (exact);
    d = 3: :data:`CUBIC_CRITICAL_TEMPERATURE` J = 4.5115 J (Monte Carlo, Ferrenberg, Xu and Landau
    2018); d >= 4: None (no value is tabulated). ``coupling`` must be > 0.
    """
    dimension = check_positive_int("dimension", dimension)
    coupling = check_finite_float("coupling", coupling)
    if coupling <= 0:
        raise ValueError(f"coupling must be > 0 (a ferromagnet), got {coupling}")
    if dimension == 2:
        return float(onsager.critical_temperature(coupling))
    if dimension == 3:
        return CUBIC_CRITICAL_TEMPERATURE * coupling
    return None


def critical_temperature_source(dimension: int) -> str | None:
    """Where :func:`lattice_critical_temperature`'s value comes from (None where there is none)."""
    return _SOURCES.get(check_positive_int("dimension", dimension))
