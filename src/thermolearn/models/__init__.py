"""What a state costs: energy functions and their parameters."""

from thermolearn.models.ising import Ising
from thermolearn.models.lattice import LatticeGeometry
from thermolearn.models.maxcut import MaxCut
from thermolearn.models.qubo import binary_to_spins, ising_to_qubo, qubo_energy, qubo_to_ising, spins_to_binary

__all__ = [
    "Ising",
    "LatticeGeometry",
    "MaxCut",
    "binary_to_spins",
    "ising_to_qubo",
    "qubo_energy",
    "qubo_to_ising",
    "spins_to_binary",
]
