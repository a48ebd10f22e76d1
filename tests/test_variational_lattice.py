"""The homogeneous lattice in closed form: Weiss mean field and the Bethe approximation."""

import math

import numpy as np
import pytest

from thermolearn.exact import onsager
from thermolearn.variational.lattice_mean_field import (
    bethe_critical_temperature,
    bethe_log_z_per_spin,
    bethe_magnetization,
    exact_lattice_magnetization,
    mean_field_critical_temperature,
    mean_field_free_energy_per_spin,
    mean_field_magnetization,
    mean_field_solutions,
)


def test_weiss_critical_temperature_is_z_times_J():
    assert mean_field_critical_temperature(4) == 4.0
    assert mean_field_critical_temperature(6, 0.5) == 3.0
    # one solution above T_c, three below (the paramagnet between two ordered states)
    assert [s.magnetization for s in mean_field_solutions(4.2, 4)] == [0.0]
    assert len(mean_field_solutions(3.8, 4)) == 3


def test_weiss_solutions_solve_the_equation_and_the_ordered_ones_have_lower_free_energy():
    for T, H in ((2.0, 0.0), (3.0, 0.05), (3.0, -0.3), (6.0, 0.4)):
        sols = mean_field_solutions(T, 4, 1.0, H)
        for s in sols:
            assert s.magnetization == pytest.approx(math.tanh((4 * s.magnetization + H) / T), abs=1e-13)
            f = mean_field_free_energy_per_spin(s.magnetization, T, 4, 1.0, H)
            assert s.free_energy_per_spin == pytest.approx(f)
            assert s.stable == (4 * (1 - s.magnetization**2) / T < 1)
        stable = [s for s in sols if s.stable]
        unstable = [s for s in sols if not s.stable]
        assert all(u.free_energy_per_spin > max(st.free_energy_per_spin for st in stable) for u in unstable)
        # the field picks the branch: the global minimum is aligned with H
        if H:
            best = min(sols, key=lambda s: s.free_energy_per_spin)
            assert np.sign(best.magnetization) == np.sign(H)


def test_mean_field_order_parameter_vanishes_with_exponent_one_half():
    # m^2 = 3 (1 - T/T_c) + O((1 - T/T_c)^2) near T_c = zJ
    for eps in (1e-3, 1e-4):
        m = mean_field_magnetization(4.0 * (1 - eps), 4)
        assert m**2 / (3 * eps) == pytest.approx(1.0, abs=2 * eps)


def test_bethe_critical_temperature_of_the_square_lattice_is_2_over_ln_2():
    tb = bethe_critical_temperature(4)
    assert tb == pytest.approx(2.0 / math.log(2.0), rel=1e-15)
    assert 3.0 * math.tanh(1.0 / tb) == pytest.approx(1.0, rel=1e-14)  # (z - 1) tanh(beta J) = 1
    assert bethe_critical_temperature(2) == 0.0  # no transition on the chain
    assert bethe_magnetization(0.99 * tb, 4) > 0.1
    assert bethe_magnetization(1.01 * tb, 4) == 0.0
    # the hierarchy T_c(exact) < T_c(Bethe) < T_c(mean field)
    assert onsager.critical_temperature() < tb < mean_field_critical_temperature(4)


def test_bethe_is_exact_on_the_infinite_chain():
    for T, H in ((0.5, 0.1), (1.0, 0.3), (3.0, -0.2)):
        beta = 1.0 / T
        exact_m = exact_lattice_magnetization(T, 1, 1.0, H)[0]
        assert bethe_magnetization(T, 2, 1.0, H) == pytest.approx(exact_m, abs=1e-12)
        # log Z / N = log(e^{bJ} cosh bH + sqrt(e^{2bJ} sinh^2 bH + e^{-2bJ})) (largest transfer-matrix eigenvalue)
        lam = math.exp(beta) * math.cosh(beta * H) + math.sqrt(
            math.exp(2 * beta) * math.sinh(beta * H) ** 2 + math.exp(-2 * beta)
        )
        assert bethe_log_z_per_spin(T, 2, 1.0, H) == pytest.approx(math.log(lam), rel=1e-12)


def test_bethe_log_z_is_bounded_by_mean_field_and_reduces_to_independent_spins_at_zero_coupling():
    # high temperature: log Z / N = log 2 + (z/2) log cosh(beta J) on the tree
    T = 10.0
    assert bethe_log_z_per_spin(T, 4) == pytest.approx(math.log(2) + 2 * math.log(math.cosh(0.1)), rel=1e-14)
    for T in (2.0, 3.0, 5.0):
        mf = max(-s.free_energy_per_spin / T for s in mean_field_solutions(T, 4))
        assert bethe_log_z_per_spin(T, 4) >= mf - 1e-12


def test_exact_reference_curves():
    T = np.array([1.5, 2.0, 3.0])
    np.testing.assert_allclose(exact_lattice_magnetization(T, 2), onsager.spontaneous_magnetization(T))
    assert exact_lattice_magnetization(T, 2, field=0.1) is None
    assert exact_lattice_magnetization(T, 3) is None


def test_closed_forms_refuse_antiferromagnets_and_bad_coordination():
    with pytest.raises(ValueError, match="ferromagnet"):
        mean_field_solutions(1.0, 4, -1.0)
    with pytest.raises(ValueError, match="coordination"):
        bethe_critical_temperature(0)
    with pytest.raises(ValueError, match="temperature"):
        bethe_magnetization(-1.0, 4)
