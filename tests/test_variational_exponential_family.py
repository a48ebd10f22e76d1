"""The exponential-family view: grad log Z = expected sufficient statistics, Hessian = covariance."""

import numpy as np
import pytest

from thermolearn import Ising
from thermolearn.exact import enumerate_exact
from thermolearn.exact.enumeration import state_index_to_spins
from thermolearn.variational import IsingExponentialFamily, mean_field


@pytest.fixture
def model():
    return Ising.sherrington_kirkpatrick(6, field=0.3, seed=1)


def test_gradient_of_log_partition_is_the_expected_sufficient_statistics(model):
    family = IsingExponentialFamily.of_model(model)
    theta = family.natural_parameters(model, 0.7)
    mu = family.mean_parameters(theta)
    eps = 1e-5
    grad = np.array(
        [
            (family.log_partition(theta + eps * e) - family.log_partition(theta - eps * e)) / (2 * eps)
            for e in np.eye(theta.size)
        ]
    )
    # central differences: truncation ~ eps^2 a''' ~ 1e-10, rounding ~ 1e-16 log Z / eps ~ 1e-10
    np.testing.assert_allclose(grad, mu, atol=1e-8)


def test_hessian_of_log_partition_is_the_covariance_of_the_sufficient_statistics(model):
    family = IsingExponentialFamily.of_model(model)
    theta = family.natural_parameters(model, 1.3)
    eps = 1e-5
    hess = np.array(
        [
            (family.mean_parameters(theta + eps * e) - family.mean_parameters(theta - eps * e)) / (2 * eps)
            for e in np.eye(theta.size)
        ]
    )
    fisher = family.fisher_information(theta)
    np.testing.assert_allclose(hess, fisher, atol=1e-8)
    assert np.all(np.linalg.eigvalsh(fisher) > 0)  # a(theta) is strictly convex


def test_natural_parameters_reproduce_the_boltzmann_distribution(model):
    family = IsingExponentialFamily.of_model(model)
    T = 0.9
    theta = family.natural_parameters(model, T)
    assert family.log_partition(theta) == pytest.approx(enumerate_exact(model, T)[0].log_z, rel=1e-12)
    states = state_index_to_spins(np.arange(64), 6)
    # theta . phi(s) = -beta E(s)
    np.testing.assert_allclose(family.sufficient_statistics(states) @ theta, -model.energy(states) / T, atol=1e-12)
    assert family.model(theta).n_edges == family.n_edges


def test_mean_field_is_the_variational_principle_restricted_to_product_distributions(model):
    family = IsingExponentialFamily.of_model(model)
    T = 0.8
    theta = family.natural_parameters(model, T)
    result = mean_field(model, T)
    a = family.log_partition(theta)
    for p in result.fixed_points:
        assert family.mean_field_objective(theta, p.magnetizations) == pytest.approx(p.log_z, rel=1e-12)
        assert family.mean_field_objective(theta, p.magnetizations) <= a


def test_complete_family_covers_every_pair_and_rejects_foreign_couplings(model):
    family = IsingExponentialFamily.complete(6)
    assert family.n_edges == 15 and family.n_parameters == 21
    sparse = IsingExponentialFamily.of_model(Ising.lattice(6))
    with pytest.raises(ValueError, match="not edges of this family"):
        sparse.natural_parameters(model, 1.0)
    with pytest.raises(ValueError, match="entries"):
        family.log_partition(np.zeros(3))
