"""Storage rules (Hebbian, projection, Storkey) against their naive formulas, input checks, and
Hopfield-Feinstein-Palmer unlearning measured on a loaded network."""

from __future__ import annotations

import math

import numpy as np
import pytest

from thermolearn.learning.hebbian import (
    binarize_images,
    binary_to_patterns,
    check_patterns,
    couplings,
    hebbian_couplings,
    projection_couplings,
    store,
    storkey_add,
    storkey_couplings,
    storkey_step,
)
from thermolearn.learning.unlearning import attractor_statistics, basin_radius, unlearn


def random_patterns(p, n, seed):
    return np.random.default_rng(seed).choice(np.array([-1, 1], dtype=np.int8), size=(p, n))


def test_hebbian_couplings_match_the_naive_sum_over_patterns():
    xi = random_patterns(3, 12, seed=1)
    J, b = hebbian_couplings(xi)
    naive = np.zeros((12, 12))
    for i in range(12):
        for j in range(12):
            if i != j:
                naive[i, j] = sum(xi[mu, i] * xi[mu, j] for mu in range(3)) / 12
    assert b is None
    assert np.array_equal(J, naive)  # sums of +-1 over N = 12: exact in binary floating point up to 1/12 rounding
    assert np.array_equal(J, J.T) and np.all(np.diag(J) == 0)


def test_biases_are_the_rule_applied_with_an_always_on_unit():
    xi = random_patterns(4, 10, seed=2)
    J, b = hebbian_couplings(xi, biases=True)
    x = xi.astype(float)
    assert np.allclose(J, (x.T @ x - 4 * np.eye(10)) / 11)
    assert np.allclose(b, x.sum(axis=0) / 11)
    Jp, bp = projection_couplings(xi, biases=True)
    aug = np.hstack([x, np.ones((4, 1))])
    full = aug.T @ np.linalg.pinv(aug @ aug.T) @ aug
    assert np.allclose(Jp, full[:10, :10] - np.diag(np.diag(full[:10, :10])))
    assert np.allclose(bp, full[:10, 10])


@pytest.mark.parametrize("p", [5, 15, 29])
def test_projection_rule_makes_every_pattern_a_fixed_point_up_to_p_below_n(p):
    xi = random_patterns(p, 30, seed=p)
    net = store(xi, "projection")
    assert np.all(net.is_fixed_point(xi))
    # the field at a stored pattern is (1 - P_ii) xi_i with P the projector onto the patterns' span
    x = xi.astype(float)
    projector = x.T @ np.linalg.pinv(x @ x.T) @ x
    assert np.allclose(net.couplings, projector - np.diag(np.diag(projector)), atol=1e-10)
    assert np.allclose(net.local_fields(xi), xi * (1 - np.diag(projector)), atol=1e-9)


def test_projection_rule_stores_correlated_patterns_that_hebb_cannot():
    base = random_patterns(1, 60, seed=3)[0]
    rng = np.random.default_rng(4)
    xi = np.array([np.where(rng.random(60) < 0.15, -base, base) for _ in range(6)], dtype=np.int8)  # overlaps ~0.7
    assert np.all(store(xi, "projection").is_fixed_point(xi))
    assert not np.all(store(xi, "hebbian").is_fixed_point(xi))


def test_projection_rule_refuses_too_many_or_dependent_patterns():
    with pytest.raises(ValueError, match="at most n_neurons - 1 = 9 patterns"):
        projection_couplings(random_patterns(10, 10, seed=5))
    xi = random_patterns(3, 10, seed=6)
    with pytest.raises(ValueError, match="linearly independent"):
        projection_couplings(np.vstack([xi, xi[:1]]))
    with pytest.raises(ValueError, match="linearly independent"):
        projection_couplings(np.vstack([xi, -xi[1:2]]))


def naive_storkey(xi):
    """Storkey 1997 from its definition: h_ij = sum_{k != i, j} W_ik xi_k, one pattern at a time."""
    n = xi.shape[1]
    W = np.zeros((n, n))
    for x in xi.astype(float):
        h = np.array([[sum(W[i, k] * x[k] for k in range(n) if k != i and k != j) for j in range(n)] for i in range(n)])
        new = W.copy()
        for i in range(n):
            for j in range(n):
                if i != j:
                    new[i, j] = W[i, j] + (x[i] * x[j] - x[i] * h[j, i] - h[i, j] * x[j]) / n
        W = new
    return W


def test_storkey_rule_matches_its_naive_definition():
    xi = random_patterns(4, 9, seed=7)
    J, _ = storkey_couplings(xi)
    assert np.allclose(J, naive_storkey(xi), atol=1e-13)
    W = np.zeros((9, 9))
    for x in xi:
        W = storkey_step(W, x)
    assert np.allclose(J, W, atol=1e-13)
    W2 = np.zeros((9, 9))
    storkey_add(W2, xi[:2])
    storkey_add(W2, xi[2:])  # incremental: adding in two batches is the same rule
    assert np.allclose(J, W2, atol=1e-13)
    assert np.array_equal(J, J.T) and np.all(np.diag(J) == 0)


def test_storkey_stores_more_random_patterns_than_hebb():
    xi = random_patterns(30, 100, seed=8)  # alpha = 0.3
    assert np.mean(store(xi, "storkey").is_fixed_point(xi)) > 0.9
    assert np.mean(store(xi, "hebbian").is_fixed_point(xi)) < 0.2


def test_pattern_checks_refuse_bad_values_lengths_and_implicit_binary():
    with pytest.raises(ValueError, match="pass binary=True"):
        hebbian_couplings(np.array([[0, 1, 1, 0]]))
    x = np.array([[0, 1, 1, 0]])
    assert np.array_equal(hebbian_couplings(x, binary=True)[0], hebbian_couplings(2 * x - 1)[0])
    assert np.array_equal(binary_to_patterns(x), [[-1, 1, 1, -1]])
    with pytest.raises(ValueError, match="only 0 and 1"):
        binary_to_patterns(np.array([[0, 2, 1]]))
    with pytest.raises(ValueError, match="only spins -1 and \\+1"):
        couplings(np.array([[1, -1, 2]]))
    with pytest.raises(ValueError, match="length 5"):
        check_patterns(np.ones((2, 4)), 5)
    with pytest.raises(ValueError, match="shape"):
        check_patterns(np.ones((2, 2, 2)))
    with pytest.raises(TypeError, match="dtype"):
        check_patterns(np.array([[True, False]]))
    with pytest.raises(ValueError, match="rule must be one of"):
        couplings(np.ones((1, 4)), "oja")
    assert check_patterns(np.array([1, -1, 1])).shape == (1, 3)
    assert np.array_equal(binarize_images(np.array([[0, 8, 9, 16]]), 8.0), [[-1, -1, 1, 1]])


# ---------------------------------------------------------------------------------------- unlearning
def test_unlearning_subtracts_epsilon_over_n_times_the_states_reached():
    xi = random_patterns(8, 40, seed=9)
    net = store(xi)
    res = unlearn(net, 25, epsilon=0.02, seed=10)
    x = res.unlearned_states.astype(float)
    expected = net.couplings - 0.02 / 40 * (x.T @ x)
    np.fill_diagonal(expected, 0.0)
    assert np.allclose(res.network.couplings, expected, atol=1e-12)
    # every unlearned state was a fixed point of the couplings at the time it was reached: replaying the
    # procedure state by state confirms the sequential order
    J = np.array(net.couplings)
    from thermolearn.models.hopfield import Hopfield

    for s in res.unlearned_states:
        assert Hopfield(J).is_fixed_point(s)
        J -= 0.02 / 40 * np.outer(s, s)
        np.fill_diagonal(J, 0.0)


def test_unlearning_removes_spurious_minima_and_widens_the_basins_of_stored_patterns():
    xi = random_patterns(15, 100, seed=11)  # alpha = 0.15: most random starts end in spurious states
    net = store(xi)
    after = unlearn(net, 400, epsilon=0.01, seed=12).network
    before_stats = attractor_statistics(net, 500, seed=13)
    after_stats = attractor_statistics(after, 500, seed=13)
    drop = before_stats.not_retrieved - after_stats.not_retrieved
    err = math.hypot(before_stats.stderr(before_stats.not_retrieved), after_stats.stderr(after_stats.not_retrieved))
    assert drop > 4 * err, (before_stats, after_stats)
    r_before, e_before = basin_radius(net, trials=20, seed=14)
    r_after, e_after = basin_radius(after, trials=20, seed=14)
    assert r_after - r_before > 4 * math.hypot(e_before, e_after), (r_before, e_before, r_after, e_after)


def test_too_much_unlearning_erases_the_memories_too():
    xi = random_patterns(5, 60, seed=15)
    net = store(xi)
    assert np.all(net.is_fixed_point(xi))
    after = unlearn(net, 1000, epsilon=0.05, batch=50, seed=16).network
    assert not np.any(after.is_fixed_point(xi))
    assert attractor_statistics(after, 200, seed=17).retrieved == 0.0


def test_unlearning_checks_its_arguments():
    net = store(random_patterns(2, 10, seed=18))
    with pytest.raises(ValueError, match="epsilon"):
        unlearn(net, 10, epsilon=-1.0)
    with pytest.raises(TypeError, match="Hopfield"):
        unlearn(np.zeros((3, 3)), 10)
