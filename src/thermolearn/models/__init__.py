"""What a state costs: energy functions and their parameters.

The RBM classes compute in JAX; they load on first use (``thermolearn.models.RBM``), so
importing the Ising model never pays for JAX.
"""

from typing import TYPE_CHECKING

from thermolearn.lazy_exports import lazy_exports

if TYPE_CHECKING:  # what type checkers see; at run time each name loads on first use
    from thermolearn.models.boltzmann import BoltzmannMachine
    from thermolearn.models.dense_memory import DenseAssociativeMemory, ModernHopfield
    from thermolearn.models.hopfield import Hopfield, RecallResult
    from thermolearn.models.ising import Ising, check_ising_model
    from thermolearn.models.ising_form import IsingForm
    from thermolearn.models.lattice import LatticeGeometry
    from thermolearn.models.maxcut import MaxCut
    from thermolearn.models.qubo import (
        QUBO,
        binary_to_spins,
        ising_to_qubo,
        qubo_energy,
        qubo_to_ising,
        spins_to_binary,
    )
    from thermolearn.models.rbm import RBM, GaussianBernoulliRBM, load_rbm


_EXPORTS = {
    "binary_to_spins": "qubo",
    "BoltzmannMachine": "boltzmann",
    "check_ising_model": "ising",
    "DenseAssociativeMemory": "dense_memory",
    "GaussianBernoulliRBM": "rbm",
    "Hopfield": "hopfield",
    "Ising": "ising",
    "IsingForm": "ising_form",
    "ising_to_qubo": "qubo",
    "LatticeGeometry": "lattice",
    "load_rbm": "rbm",
    "MaxCut": "maxcut",
    "ModernHopfield": "dense_memory",
    "QUBO": "qubo",
    "qubo_energy": "qubo",
    "qubo_to_ising": "qubo",
    "RBM": "rbm",
    "RecallResult": "hopfield",
    "spins_to_binary": "qubo",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
