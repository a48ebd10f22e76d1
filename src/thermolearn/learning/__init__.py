"""Fitting energies to data: Hebbian storage and unlearning, moment matching (CD, PCD,
maximum likelihood) and pseudo-likelihood (inverse Ising).

- :mod:`.hebbian`, :mod:`.unlearning`, :mod:`.capacity`: Hopfield networks.
- :mod:`.contrastive_divergence`, :mod:`.rbm_estimator`: RBM training (JAX) and a
  scikit-learn estimator; they load on first use so that importing this package is cheap.
- :mod:`.boltzmann_learning`: general Boltzmann machines (Ackley-Hinton-Sejnowski rule).
- :mod:`.inverse_ising`: couplings from samples (exact maximum likelihood, pseudo-likelihood).
"""

from typing import TYPE_CHECKING

from thermolearn.lazy_exports import lazy_exports

if TYPE_CHECKING:  # what type checkers see; at run time each name loads on first use
    from thermolearn.learning.boltzmann_learning import (
        BoltzmannGradient,
        BoltzmannTrainingResult,
        exact_gradient,
        sampled_gradient,
    )
    from thermolearn.learning.boltzmann_learning import (
        train as train_boltzmann,
    )
    from thermolearn.learning.capacity import CapacityResult, capacity_curve
    from thermolearn.learning.contrastive_divergence import train_rbm
    from thermolearn.learning.hebbian import hebbian_couplings, projection_couplings, store, storkey_couplings
    from thermolearn.learning.inverse_ising import (
        InverseIsingResult,
        maximum_likelihood,
        mean_field_inversion,
        pseudo_likelihood,
    )
    from thermolearn.learning.rbm_estimator import BoltzmannRBM
    from thermolearn.learning.unlearning import unlearn


_EXPORTS = {
    "BoltzmannGradient": "boltzmann_learning",
    "BoltzmannRBM": "rbm_estimator",
    "BoltzmannTrainingResult": "boltzmann_learning",
    "capacity_curve": "capacity",
    "CapacityResult": "capacity",
    "exact_gradient": "boltzmann_learning",
    "hebbian_couplings": "hebbian",
    "InverseIsingResult": "inverse_ising",
    "maximum_likelihood": "inverse_ising",
    "mean_field_inversion": "inverse_ising",
    "projection_couplings": "hebbian",
    "pseudo_likelihood": "inverse_ising",
    "sampled_gradient": "boltzmann_learning",
    "store": "hebbian",
    "storkey_couplings": "hebbian",
    "train_boltzmann": "boltzmann_learning:train",
    "train_rbm": "contrastive_divergence",
    "unlearn": "unlearning",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
