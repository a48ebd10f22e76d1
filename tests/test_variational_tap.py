"""TAP: the Onsager reaction term makes mean field exact to second order in beta."""

import numpy as np
import pytest

from thermolearn import Ising
from thermolearn.exact import enumerate_exact
from thermolearn.variational import ConvergenceError, mean_field, tap, tap_log_z


def test_tap_error_shrinks_like_beta_cubed_and_mean_field_like_beta_squared():
    for seed in (0, 2):
        model = Ising.sherrington_kirkpatrick(10, field=0.3, seed=seed)
        tap_err, mf_err = [], []
        for T in (8.0, 16.0):
            exact = enumerate_exact(model, T, correlations=False)[0].log_z
            tap_err.append(abs(tap(model, T).log_z - exact))
            mf_err.append(abs(mean_field(model, T).log_z - exact))
        # halving beta: the TAP error falls ~8x (first neglected order beta^3), mean field's ~4x
        assert tap_err[1] / tap_err[0] < 0.2
        assert 0.2 < mf_err[1] / mf_err[0] < 0.3
        assert tap_err[0] < mf_err[0]


def test_tap_magnetisations_solve_the_tap_equations():
    model = Ising.sherrington_kirkpatrick(20, field=0.2, seed=5)
    T = 1.5
    r = tap(model, T)
    assert r.converged
    J, h = model.to_dense()
    m = r.magnetizations
    onsager = m * ((J**2) @ (1 - m**2)) / T
    assert np.max(np.abs(m - np.tanh((J @ m + h - onsager) / T))) < 1e-8
    assert r.log_z == pytest.approx(tap_log_z(model, T, m), rel=1e-13)


def test_tap_energy_is_minus_the_beta_derivative_of_the_tap_log_z():
    model = Ising.sherrington_kirkpatrick(12, field=0.3, seed=1)
    beta, eps = 0.7, 1e-5
    lz = [tap(model, 1 / b, tol=1e-13).log_z for b in (beta + eps, beta - eps)]
    r = tap(model, 1 / beta, tol=1e-13)
    assert (lz[0] - lz[1]) / (2 * eps) == pytest.approx(-r.energy, rel=1e-6)


def test_tap_corrects_the_lattice_paramagnet_towards_the_exact_answer():
    # above T_c on the lattice, m = 0 and TAP adds (beta^2 / 2) sum_<ij> J^2 to mean field's N log 2
    model = Ising.lattice((4, 4))
    T = 6.0
    exact = enumerate_exact(model, T, correlations=False)[0].log_z
    r, mf = tap(model, T), mean_field(model, T)
    assert r.log_z == pytest.approx(16 * np.log(2) + 0.5 * 32 / T**2, rel=1e-12)
    assert abs(r.log_z - exact) < abs(mf.log_z - exact)


def test_non_convergence_is_reported():
    r = tap(Ising.sherrington_kirkpatrick(20, seed=1), 0.4, max_iter=2)
    assert not r.converged and r.iterations == 2 and r.residual > r.tol
    with pytest.raises(ConvergenceError, match="2 iterations"):
        r.raise_if_not_converged()


def test_bad_arguments():
    model = Ising.lattice((4, 4))
    with pytest.raises(ValueError, match="init"):
        tap(model, 1.0, init=np.zeros(3))
    with pytest.raises(ValueError, match="temperature"):
        tap(model, -2.0)
