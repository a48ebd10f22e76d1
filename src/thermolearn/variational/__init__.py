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
* :func:`thermolearn.runs.comparison.compare` (not in this package: it also runs the exact
  and Monte Carlo methods) — one model, every method, one table.
"""

from typing import TYPE_CHECKING

from thermolearn.lazy_exports import lazy_exports

if TYPE_CHECKING:  # what type checkers see; at run time each name loads on first use
    from thermolearn.variational._common import ConvergenceError
    from thermolearn.variational.bayesian_regression import BayesianLinearRegression, MeanFieldGaussianResult
    from thermolearn.variational.bbvi import BBVIResult, black_box_vi
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


_EXPORTS = {
    "BayesianLinearRegression": "bayesian_regression",
    "BBVIResult": "bbvi",
    "belief_propagation": "belief_propagation",
    "bethe": "belief_propagation",
    "bethe_critical_temperature": "lattice_mean_field",
    "bethe_log_z_per_spin": "lattice_mean_field",
    "bethe_magnetization": "lattice_mean_field",
    "BetheResult": "belief_propagation",
    "black_box_vi": "bbvi",
    "ConvergenceError": "_common",
    "exact_lattice_magnetization": "lattice_mean_field",
    "IsingExponentialFamily": "exponential_family",
    "mean_field": "mean_field",
    "mean_field_critical_temperature": "lattice_mean_field",
    "mean_field_magnetization": "lattice_mean_field",
    "mean_field_solutions": "lattice_mean_field",
    "MeanFieldFixedPoint": "mean_field",
    "MeanFieldGaussianResult": "bayesian_regression",
    "MeanFieldResult": "mean_field",
    "stability_margin": "mean_field",
    "tap": "tap",
    "tap_log_z": "tap",
    "TAPResult": "tap",
    "variational_energy": "mean_field",
    "variational_log_z": "mean_field",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
