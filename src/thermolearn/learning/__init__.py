"""Fitting energies to data: Hebbian storage and unlearning, moment matching (CD, PCD,
maximum likelihood) and pseudo-likelihood (inverse Ising).

- :mod:`.hebbian`, :mod:`.unlearning`, :mod:`.capacity`: Hopfield networks.
- :mod:`.contrastive_divergence`, :mod:`.rbm_estimator`: RBM training (JAX) and a
  scikit-learn estimator; they load on first use so that importing this package is cheap.
- :mod:`.boltzmann_learning`: general Boltzmann machines (Ackley-Hinton-Sejnowski rule).
- :mod:`.inverse_ising`: couplings from samples (exact maximum likelihood, pseudo-likelihood).
"""

from thermolearn.learning.boltzmann_learning import (
    BoltzmannGradient,
    BoltzmannTrainingResult,
    exact_gradient,
    sampled_gradient,
)
from thermolearn.learning.boltzmann_learning import train as train_boltzmann
from thermolearn.learning.capacity import CapacityResult, capacity_curve
from thermolearn.learning.hebbian import hebbian_couplings, projection_couplings, store, storkey_couplings
from thermolearn.learning.inverse_ising import (
    InverseIsingResult,
    maximum_likelihood,
    mean_field_inversion,
    pseudo_likelihood,
)
from thermolearn.learning.unlearning import unlearn

__all__ = [
    "BoltzmannGradient",
    "BoltzmannRBM",
    "BoltzmannTrainingResult",
    "CapacityResult",
    "InverseIsingResult",
    "capacity_curve",
    "exact_gradient",
    "hebbian_couplings",
    "maximum_likelihood",
    "mean_field_inversion",
    "projection_couplings",
    "pseudo_likelihood",
    "sampled_gradient",
    "storkey_couplings",
    "store",
    "train_boltzmann",
    "train_rbm",
    "unlearn",
]

_LAZY = {"train_rbm": "contrastive_divergence", "BoltzmannRBM": "rbm_estimator"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"thermolearn.learning.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'thermolearn.learning' has no attribute {name!r}")
