"""What a state costs: energy functions and their parameters.

The RBM classes compute in JAX; they load on first use (``thermolearn.models.RBM``), so
importing the Ising model never pays for JAX.
"""

from thermolearn.models.boltzmann import BoltzmannMachine
from thermolearn.models.dense_memory import DenseAssociativeMemory, ModernHopfield
from thermolearn.models.hopfield import Hopfield, RecallResult
from thermolearn.models.ising import Ising
from thermolearn.models.lattice import LatticeGeometry
from thermolearn.models.maxcut import MaxCut
from thermolearn.models.qubo import binary_to_spins, ising_to_qubo, qubo_energy, qubo_to_ising, spins_to_binary

__all__ = [
    "BoltzmannMachine",
    "DenseAssociativeMemory",
    "GaussianBernoulliRBM",
    "Hopfield",
    "Ising",
    "LatticeGeometry",
    "MaxCut",
    "ModernHopfield",
    "RBM",
    "RecallResult",
    "binary_to_spins",
    "ising_to_qubo",
    "load_rbm",
    "qubo_energy",
    "qubo_to_ising",
    "spins_to_binary",
]

_LAZY = {"RBM", "GaussianBernoulliRBM", "load_rbm"}


def __getattr__(name: str):
    if name in _LAZY:
        from thermolearn.models import rbm

        return getattr(rbm, name)
    raise AttributeError(f"module 'thermolearn.models' has no attribute {name!r}")
