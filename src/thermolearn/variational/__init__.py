"""Variational methods: ways around the partition function that bound or approximate log Z.

The Gibbs-Bogoliubov-Feynman inequality log Z >= E_q[-beta E] + S(q) is the evidence lower
bound of variational inference. This package implements both views and compares them with
the exact answer:

* :func:`mean_field` — naive mean field on any :class:`~thermolearn.Ising` model: every
  fixed point of m_i = tanh(beta (sum_j J_ij m_j + h_i)), its bound and stability.
* :mod:`~thermolearn.variational.lattice_mean_field` — the homogeneous lattice in closed
  form (Weiss T_c = zJ; Bethe T_c = 2J / ln(z / (z - 2))).
* :func:`tap` — the TAP (second-order) correction to mean field.
* :func:`belief_propagation` / :func:`bethe` — the Bethe approximation by loopy BP.
* :class:`IsingExponentialFamily` — natural parameters, sufficient statistics, a(theta).
* :func:`black_box_vi` — stochastic VI from the energy alone (JAX), product or autoregressive q.
* :class:`BayesianLinearRegression` — the ELBO where the exact posterior is known.
* :func:`compare` — one model, every method, one table.
"""

from thermolearn.variational._common import ConvergenceError
from thermolearn.variational.bayesian_regression import BayesianLinearRegression, MeanFieldGaussianResult
from thermolearn.variational.belief_propagation import BetheResult, belief_propagation, bethe
from thermolearn.variational.exponential_family import IsingExponentialFamily
from thermolearn.variational.lattice_mean_field import (
    bethe_critical_temperature,
    bethe_log_z_per_spin,
    bethe_magnetization,
    exact_lattice_magnetization,
    mean_field_critical_temperature,
    mean_field_magnetization,
    mean_field_solutions,
)
from thermolearn.variational.mean_field import (
    MeanFieldFixedPoint,
    MeanFieldResult,
    mean_field,
    stability_margin,
    variational_energy,
    variational_log_z,
)
from thermolearn.variational.tap import TAPResult, tap, tap_log_z


def __getattr__(name: str):
    # JAX-backed and registry pieces load on first use so `import thermolearn.variational` stays light
    if name in ("black_box_vi", "BBVIResult"):
        from thermolearn.variational import bbvi

        return getattr(bbvi, name)
    if name in (
        "compare",
        "Comparison",
        "ComparisonMethod",
        "MethodRow",
        "register_method",
        "methods_that_fit",
        "registered_methods",
    ):
        from thermolearn.variational import comparison

        return getattr(comparison, name)
    raise AttributeError(f"module 'thermolearn.variational' has no attribute {name!r}")


__all__ = [
    "BBVIResult",
    "BayesianLinearRegression",
    "BetheResult",
    "Comparison",
    "ComparisonMethod",
    "ConvergenceError",
    "IsingExponentialFamily",
    "MeanFieldFixedPoint",
    "MeanFieldGaussianResult",
    "MeanFieldResult",
    "MethodRow",
    "TAPResult",
    "belief_propagation",
    "bethe",
    "bethe_critical_temperature",
    "bethe_log_z_per_spin",
    "bethe_magnetization",
    "black_box_vi",
    "compare",
    "exact_lattice_magnetization",
    "mean_field",
    "mean_field_critical_temperature",
    "mean_field_magnetization",
    "mean_field_solutions",
    "methods_that_fit",
    "register_method",
    "registered_methods",
    "stability_margin",
    "tap",
    "tap_log_z",
    "variational_energy",
    "variational_log_z",
]
