"""The one result type of every exact method: thermodynamics at one temperature.

Totals are stored (k_B = 1, energies in units of the couplings); per-spin properties divide
by the number of spins. F = -T log Z, U = <E>, C = beta^2 Var(E) = dU/dT, M = <sum_i s_i>.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from typing import Any

from thermolearn.derived_quantities import DerivedQuantities

_EPS = sys.float_info.epsilon
#: the largest rounding error of log Z + beta U, relative to max(1, |S|), still given as S
_ENTROPY_DIGITS = 1e-3


@dataclass(frozen=True)
class ExactThermodynamics(DerivedQuantities):
    """Exact thermodynamics of one model at one temperature.

    ``magnetization`` is the total <M> (NaN when the method does not give it);
    ``extras`` holds method-specific exact quantities (for example ``mean_spins``,
    ``correlations``, ``susceptibility``, ``abs_magnetization``).
    """

    method: str
    temperature: float
    n_spins: int
    log_z: float
    energy: float
    specific_heat: float
    magnetization: float = math.nan
    extras: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def beta(self) -> float:
        """Inverse temperature beta = 1 / T (units of 1/J, k_B = 1)."""
        return 1.0 / self.temperature

    @property
    def specific_heat_per_spin(self) -> float:
        """Specific heat per spin C / N = beta^2 Var(E) / N (dimensionless, k_B = 1)."""
        return self.specific_heat / self.n_spins

    @property
    def entropy(self) -> float:
        """Total entropy S = beta (U - F) = log Z + beta U (k_B = 1).

        Methods that sum relative to the ground state give S without the cancellation of log Z
        against beta U (``extras["entropy"]``, enumeration). Otherwise, where that cancellation
        leaves fewer than about three correct digits (beta |U| beyond ~1e12 |S|: T below about
        1e-12 of the couplings), S is NaN rather than a number of lost digits (a 4x4 torus at
        T = 1e-15 read S = 0 for ln 2 up to 0.6.11).
        """
        stable = self.extras.get("entropy")
        if stable is not None:
            return float(stable)
        beta_u = self.energy / self.temperature
        value = self.log_z + beta_u
        rounding = 4.0 * _EPS * (abs(self.log_z) + abs(beta_u))
        return value if rounding <= _ENTROPY_DIGITS * max(1.0, abs(value)) else math.nan

    def as_dict(self) -> dict[str, Any]:
        """The JSON record of ``thermolearn exact --json``: scalars only, NaN as null."""

        def clean(x: float) -> float | None:
            return None if x is None or not math.isfinite(x) else float(x)

        record: dict[str, Any] = {
            "temperature": self.temperature,
            "method": self.method,
            "n_spins": self.n_spins,
            "log_z": clean(self.log_z),
            "free_energy_per_spin": clean(self.free_energy_per_spin),
            "energy_per_spin": clean(self.energy_per_spin),
            "specific_heat_per_spin": clean(self.specific_heat_per_spin),
            "magnetization_per_spin": clean(self.magnetization_per_spin),
            "entropy_per_spin": clean(self.entropy / self.n_spins),
        }
        for key, value in self.extras.items():
            if key == "entropy":  # entropy_per_spin above
                continue
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                record[key] = clean(float(value))
        return record
