"""The one result type of every exact method: thermodynamics at one temperature.

Totals are stored (k_B = 1, energies in units of the couplings); per-spin properties divide
by the number of spins. F = -T log Z, U = <E>, C = beta^2 Var(E) = dU/dT, M = <sum_i s_i>.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from thermolearn.derived_quantities import DerivedQuantities


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
        return 1.0 / self.temperature

    @property
    def specific_heat_per_spin(self) -> float:
        return self.specific_heat / self.n_spins

    @property
    def entropy(self) -> float:
        """Total entropy S = beta (U - F) = log Z + beta U (k_B = 1)."""
        return self.log_z + self.energy / self.temperature

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
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                record[key] = clean(float(value))
        return record
