"""Naive mean field: the Gibbs-Bogoliubov-Feynman bound, fixed points, stability, diagnostics."""

import math

import numpy as np
import pytest

from thermolearn import Ising
from thermolearn.exact import enumerate_exact
from thermolearn.variational import ConvergenceError, mean_field, stability_margin, variational_log_z
from thermolearn.variational.lattice_mean_field import mean_field_magnetization


def random_model(rng, n):
    J = np.triu(rng.normal(0.0, rng.uniform(0.2, 1.5), size=(n, n)), k=1)
    J[rng.random((n, n)) < 0.3] = 0.0
    J = np.triu(J, k=1)
    return Ising.from_dense(J + J.T, rng.normal(0.0, rng.uniform(0.0, 1.0), size=n))


def test_mean_field_bound_never_exceeds_exact_log_z_on_many_random_models():
    rng = np.random.default_rng(20240601)
    for _ in range(40):
        n = int(rng.integers(2, 11))
        model = random_model(rng, n)
        T = float(rng.uniform(0.2, 3.0))
        exact = enumerate_exact(model, T, correlations=False)[0].log_z
        result = mean_field(model, T, n_random=4, seed=int(rng.integers(1 << 30)))
        assert result.fixed_points, "some start must converge"
        for point in (*result.fixed_points, *result.unconverged):
            assert point.log_z <= exact + 1e-10 * max(1.0, abs(exact))
        # the bound holds for any trial magnetisations, not only at fixed points
        for _ in range(5):
            m = rng.uniform(-1, 1, size=n)
            assert variational_log_z(model, T, m) <= exact + 1e-10 * max(1.0, abs(exact))


def test_fixed_points_solve_the_self_consistent_equations():
    model = Ising.sherrington_kirkpatrick(30, field=0.1, seed=4)
    T = 0.6
    result = mean_field(model, T, n_random=8, seed=1)
    J, h = model.to_dense()
    for point in result.fixed_points:
        m = point.magnetizations
        assert np.max(np.abs(m - np.tanh((J @ m + h) / T))) < 1e-8
        assert point.log_z == pytest.approx(variational_log_z(model, T, m), rel=1e-12)
    assert result.best.log_z == max(p.log_z for p in result.fixed_points)


def test_ferromagnet_below_tc_has_an_unstable_paramagnet_and_two_stable_ordered_states():
    model = Ising.lattice((8, 8))  # z = 4: mean-field T_c = 4
    result = mean_field(model, 3.0, seed=0)
    mags = sorted(round(p.magnetization_per_spin, 8) for p in result.fixed_points)
    m_star = mean_field_magnetization(3.0, 4)
    assert mags == pytest.approx([-m_star, 0.0, m_star], abs=1e-8)
    para = next(p for p in result.fixed_points if p.is_paramagnetic)
    assert para.stable is False
    # Hessian of F at m = 0 is 1 - beta z J in the uniform direction
    assert para.stability_margin == pytest.approx(1.0 - 4.0 / 3.0, abs=1e-10)
    for p in result.fixed_points:
        if not p.is_paramagnetic:
            assert p.stable and p.log_z > para.log_z
    assert abs(result.best.magnetization_per_spin) == pytest.approx(m_star, abs=1e-8)


def test_above_tc_the_paramagnet_is_the_only_and_stable_solution():
    result = mean_field(Ising.lattice((8, 8)), 5.0, seed=0)
    assert len(result.fixed_points) == 1
    assert result.best.is_paramagnetic and result.best.stable
    assert result.best.log_z == pytest.approx(64 * math.log(2.0), rel=1e-12)


def test_large_sparse_lattice_is_solved_and_matches_the_closed_form():
    model = Ising.lattice((200, 200), field=0.05)  # 40,000 spins: compiled sparse sweeps, bound-based stability
    result = mean_field(model, 3.5, seed=0)
    best = result.best
    assert best.converged and best.stable
    assert np.ptp(best.magnetizations) < 1e-9
    assert best.magnetization_per_spin == pytest.approx(mean_field_magnetization(3.5, 4, field=0.05), abs=1e-8)
    # uniform state: the Gershgorin bound used above 500 spins equals the exact margin 1 - beta z J (1 - m^2)
    m = best.magnetization_per_spin
    assert best.stability_margin == pytest.approx(1.0 - 4.0 * (1.0 - m * m) / 3.5, abs=1e-9)


def test_stability_margin_beyond_the_dense_limit_detects_the_unstable_paramagnet():
    model = Ising.lattice((50, 50))
    assert stability_margin(model, 3.0, np.zeros(2500)) < 0
    assert stability_margin(model, 5.0, np.zeros(2500)) == pytest.approx(1.0 - 4.0 / 5.0, abs=1e-12)


def test_parallel_damped_schedule_finds_the_same_fixed_points_as_sequential():
    model = Ising.sherrington_kirkpatrick(20, field=0.2, seed=7)
    seq = mean_field(model, 0.8, seed=3)
    par = mean_field(model, 0.8, seed=3, schedule="parallel", damping=0.5)
    assert par.best.converged
    assert par.log_z == pytest.approx(seq.log_z, abs=1e-9)
    np.testing.assert_allclose(par.magnetizations, seq.magnetizations, atol=1e-7)


def test_non_convergence_is_reported_with_iterations_and_residual():
    result = mean_field(Ising.lattice((16, 16)), 3.99, starts=("up",), n_random=0, max_iter=5)
    assert not result.converged and not result.fixed_points
    best = result.best
    assert best.iterations == 5 and best.residual > result.tol
    with pytest.raises(ConvergenceError, match=r"5 iterations, residual"):
        result.raise_if_not_converged()
    assert result.as_dict()["converged"] is False


def test_same_seed_same_fixed_points():
    model = Ising.sherrington_kirkpatrick(15, seed=2)
    a = mean_field(model, 0.5, n_random=5, seed=11)
    b = mean_field(model, 0.5, n_random=5, seed=11)
    assert [p.log_z for p in a.fixed_points] == [p.log_z for p in b.fixed_points]


def test_bad_arguments_are_refused_with_clear_messages():
    model = Ising.lattice((4, 4))
    with pytest.raises(TypeError, match="thermolearn.Ising"):
        mean_field(np.eye(3), 1.0)
    with pytest.raises(ValueError, match="temperature"):
        mean_field(model, 0.0)
    with pytest.raises(ValueError, match="damping"):
        mean_field(model, 1.0, damping=0.0)
    with pytest.raises(ValueError, match="starts"):
        mean_field(model, 1.0, starts=("sideways",))
    with pytest.raises(ValueError, match="schedule"):
        mean_field(model, 1.0, schedule="random")
    with pytest.raises(ValueError, match="init"):
        mean_field(model, 1.0, init=np.full(16, 2.0))
    with pytest.raises(ValueError, match="shape"):
        variational_log_z(model, 1.0, np.zeros(3))
