"""Max-cut as an Ising ground state: the antiferromagnet J = -w on the graph's edges.

With J_ij = -w_ij and no field, E(s) = sum_{i<j} w_ij s_i s_j, and the cut weight of the
partition given by s is cut(s) = sum_{i<j} w_ij (1 - s_i s_j) / 2 = (W - E(s)) / 2 with
W = sum of all edge weights; the lowest energy is the maximum cut. ``to_ising()`` (the model
protocol) returns that antiferromagnet with offset 0: the problem's energy is E(s) = W - 2 cut(s).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from thermolearn.models.ising import Ising
from thermolearn.models.ising_form import IsingForm


@dataclass(frozen=True)
class MaxCut:
    """A weighted graph's max-cut problem as an antiferromagnetic Ising model."""

    model: Ising
    total_weight: float

    @classmethod
    def from_edgelist(
        cls, source: str | os.PathLike | np.ndarray | Sequence[Sequence[float]], n_spins: int | None = None
    ) -> MaxCut:
        """Read a graph (Gset file or edge array, as :meth:`Ising.from_edgelist`)."""
        graph = Ising.from_edgelist(source, n_spins)
        i, j, w = graph.edges()
        model = Ising(-graph.couplings, None, name=f"max-cut {graph.name}")
        return cls(model=model, total_weight=float(w.sum()))

    def to_ising(self) -> IsingForm:
        """The Ising form: the antiferromagnet J = -w (:attr:`model`), offset 0, spin k = vertex k."""
        return IsingForm(self.model)

    def energy(self, states: np.ndarray) -> np.ndarray | float:
        """E(s) = sum_{i<j} w_ij s_i s_j = W - 2 cut(s) of partitions s (+-1 per vertex)."""
        return self.model.energy(states)

    def cut_from_energy(self, energy: np.ndarray | float) -> np.ndarray | float:
        """Cut weight (W - E) / 2 for energies of :attr:`model`."""
        return (
            (self.total_weight - np.asarray(energy)) / 2.0
            if np.ndim(energy)
            else (self.total_weight - float(energy)) / 2.0
        )

    def energy_from_cut(self, cut: np.ndarray | float) -> np.ndarray | float:
        """Energy W - 2 cut of the model for a given cut weight."""
        return self.total_weight - 2.0 * np.asarray(cut) if np.ndim(cut) else self.total_weight - 2.0 * float(cut)

    def cut_value(self, states: np.ndarray) -> np.ndarray | float:
        """Cut weight of the partitions given by spin states (one value per state)."""
        return self.cut_from_energy(self.model.energy(states))
