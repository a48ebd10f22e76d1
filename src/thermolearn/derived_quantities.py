"""Quantities every thermodynamic result derives the same way from log Z, U and M.

Exact answers and approximate ones (mean field, TAP, Bethe) all report a temperature T, a
log partition function log Z, a total energy U and a total magnetisation M; from them
F = -T log Z (k_B = 1) and the per-spin views follow. The mixins here hold that arithmetic
once; each result class keeps its own fields and says what its log Z means (exact, a bound).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np


class DerivedQuantities:
    """F = -T log Z and per-spin views, for a class with ``temperature``, ``log_z``,
    ``energy``, ``magnetization`` and ``n_spins`` (totals)."""

    if TYPE_CHECKING:
        # Read-only declarations of what the host class provides (as fields or properties);
        # never defined at run time so dataclass hosts keep their own fields.
        @property
        def temperature(self) -> float: ...
        @property
        def log_z(self) -> float: ...
        @property
        def energy(self) -> float: ...
        @property
        def magnetization(self) -> float: ...
        @property
        def n_spins(self) -> int: ...

    @property
    def free_energy(self) -> float:
        """Total free energy F = -T log Z of this result (for an approximation, its F)."""
        return -self.temperature * self.log_z

    @property
    def free_energy_per_spin(self) -> float:
        """Free energy per spin F / N = -T log Z / N (units of J)."""
        return self.free_energy / self.n_spins

    @property
    def energy_per_spin(self) -> float:
        """Energy per spin U / N (units of J)."""
        return self.energy / self.n_spins

    @property
    def magnetization_per_spin(self) -> float:
        """Magnetisation per spin M / N (dimensionless, in [-1, 1])."""
        return self.magnetization / self.n_spins


class SiteMagnetizations(DerivedQuantities):
    """For results that carry the per-site magnetisations m_i (``magnetizations``)."""

    if TYPE_CHECKING:

        @property
        def magnetizations(self) -> np.ndarray: ...

    @property
    def n_spins(self) -> int:
        """Number of spins N: the length of ``magnetizations``."""
        return int(self.magnetizations.size)

    @property
    def magnetization(self) -> float:
        """Total magnetisation sum_i m_i."""
        return float(np.sum(self.magnetizations))
