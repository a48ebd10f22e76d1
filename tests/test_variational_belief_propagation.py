"""Belief propagation and the Bethe free energy: exact on trees, T_c = 2/ln 2 on the square lattice."""

import math

import numpy as np
import pytest

from thermolearn import Ising
from thermolearn.exact import enumerate_exact
from thermolearn.variational import ConvergenceError, belief_propagation, bethe
from thermolearn.variational.lattice_mean_field import (
    bethe_critical_temperature,
    bethe_log_z_per_spin,
    bethe_magnetization,
)


def random_tree(rng, n):
    parents = [int(rng.integers(0, k)) for k in range(1, n)]
    edges = np.array([[k + 1, p, rng.normal(0.0, 1.0)] for k, p in enumerate(parents)]).reshape(-1, 3)
    return Ising.from_edgelist(edges, n, fields=rng.normal(0.0, 0.5, size=n))


def test_belief_propagation_is_exact_on_random_trees():
    rng = np.random.default_rng(7)
    for _ in range(8):
        n = int(rng.integers(2, 13))
        model = random_tree(rng, n)
        T = float(rng.uniform(0.3, 3.0))
        exact = enumerate_exact(model, T)[0]
        r = belief_propagation(model, T, init="random", seed=int(rng.integers(100)))
        assert r.converged
        i, j = r.edges
        assert r.log_z == pytest.approx(exact.log_z, abs=1e-8)
        assert r.energy == pytest.approx(exact.energy, abs=1e-8)
        np.testing.assert_allclose(r.magnetizations, exact.extras["mean_spins"], atol=1e-9)
        np.testing.assert_allclose(r.edge_correlations, exact.extras["correlations"][i, j], atol=1e-9)


def test_belief_propagation_on_a_forest_with_isolated_spins_is_exact():
    model = Ising.from_edgelist(np.array([[0, 1, 0.7], [2, 3, -1.2]]), 6, fields=np.array([0.1, 0, 0.3, -0.2, 0.5, 0]))
    exact = enumerate_exact(model, 0.8)[0]
    assert belief_propagation(model, 0.8).log_z == pytest.approx(exact.log_z, abs=1e-9)


def test_bp_on_the_periodic_square_lattice_matches_the_homogeneous_bethe_solution():
    model = Ising.lattice((8, 8))
    for T in (2.6, 3.2):
        r = belief_propagation(model, T, tol=1e-13, max_iter=20000)
        assert r.converged
        assert r.magnetization_per_spin == pytest.approx(bethe_magnetization(T, 4), abs=1e-9)
        assert r.log_z / 64 == pytest.approx(bethe_log_z_per_spin(T, 4), abs=1e-11)
    r = belief_propagation(Ising.lattice((8, 8), field=0.3), 2.0)
    assert r.magnetization_per_spin == pytest.approx(bethe_magnetization(2.0, 4, 1.0, 0.3), abs=1e-9)


def test_bethe_square_lattice_orders_below_2_over_ln_2():
    tb = bethe_critical_temperature(4)
    assert tb == pytest.approx(2 / math.log(2))
    model = Ising.lattice((16, 16))
    below = belief_propagation(model, 0.95 * tb, init="up")
    above = belief_propagation(model, 1.05 * tb, init="up")
    assert below.converged and above.converged
    assert below.magnetization_per_spin > 0.3
    assert abs(above.magnetization_per_spin) < 1e-6


def test_bethe_energy_is_minus_the_beta_derivative_of_the_bethe_log_z():
    # at a BP fixed point the Bethe free energy is stationary, so d log Z_B / d beta = -U_B
    model = Ising.sherrington_kirkpatrick(10, field=0.4, seed=2, coupling_std=0.5)
    beta, eps = 1.0, 1e-5
    plus = belief_propagation(model, 1 / (beta + eps), tol=1e-13).log_z
    minus = belief_propagation(model, 1 / (beta - eps), tol=1e-13).log_z
    r = belief_propagation(model, 1 / beta, tol=1e-13)
    assert r.converged
    assert (plus - minus) / (2 * eps) == pytest.approx(-r.energy, rel=1e-6)


def test_bethe_picks_the_ordered_fixed_point_with_the_lowest_free_energy():
    model = Ising.lattice((8, 8))
    para = belief_propagation(model, 2.5, init="zero")
    assert para.converged and abs(para.magnetization_per_spin) < 1e-12
    best = bethe(model, 2.5)
    assert best.init == "up"  # ties between up and down go to the first listed
    assert best.magnetization_per_spin == pytest.approx(bethe_magnetization(2.5, 4), abs=1e-8)
    assert best.log_z > para.log_z


def test_non_convergence_is_reported_with_iterations_and_residual():
    r = belief_propagation(Ising.lattice((8, 8)), 2.88, max_iter=3)
    assert not r.converged and r.iterations == 3 and r.residual > r.tol
    with pytest.raises(ConvergenceError, match=r"3 iterations, residual"):
        r.raise_if_not_converged()
    assert r.as_dict()["converged"] is False


def test_bad_arguments():
    model = Ising.lattice((4, 4))
    with pytest.raises(ValueError, match="init"):
        belief_propagation(model, 1.0, init="sideways")
    with pytest.raises(ValueError, match="one per directed edge"):
        belief_propagation(model, 1.0, init=np.zeros(3))
    with pytest.raises(ValueError, match="damping"):
        belief_propagation(model, 1.0, damping=1.5)
    with pytest.raises(TypeError):
        belief_propagation("model", 1.0)
