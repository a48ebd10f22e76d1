"""Onsager's infinite square lattice: thermodynamic identities, limits and known values."""

import math
import warnings

import numpy as np
import pytest

from thermolearn.exact.onsager import (
    CRITICAL_TEMPERATURE,
    critical_temperature,
    energy_per_spin,
    entropy_per_spin,
    free_energy_per_spin,
    log_z_per_spin,
    specific_heat_per_spin,
    spontaneous_magnetization,
)

TC = CRITICAL_TEMPERATURE
KC = 1.0 / TC
CATALAN = 0.915965594177219015054603514932384110774


def test_critical_temperature_is_where_sinh_2K_equals_one():
    assert TC == pytest.approx(2.269185314213022, rel=1e-15)
    assert math.sinh(2.0 / TC) == pytest.approx(1.0, rel=1e-15)
    assert critical_temperature() == TC
    assert critical_temperature(2.5) == pytest.approx(2.5 * TC, rel=1e-15)


def test_free_energy_at_tc_equals_closed_form_with_catalans_constant():
    # -beta f(T_c) = ln(2)/2 + 2 G / pi, G = Catalan's constant
    assert log_z_per_spin(TC) == pytest.approx(0.5 * math.log(2) + 2 * CATALAN / math.pi, rel=1e-15)
    assert free_energy_per_spin(TC) == pytest.approx(-TC * (0.5 * math.log(2) + 2 * CATALAN / math.pi), rel=1e-15)


def test_energy_at_tc_is_minus_sqrt2_J():
    assert energy_per_spin(TC) == pytest.approx(-math.sqrt(2.0), rel=1e-14)
    assert energy_per_spin(3.0 * TC, J=3.0) == pytest.approx(-3.0 * math.sqrt(2.0), rel=1e-14)


def derivative(f, x, h):
    """Fourth-order central difference: truncation ~ (h/d)^4 at distance d from T_c."""
    return (f(x - 2 * h) - 8 * f(x - h) + 8 * f(x + h) - f(x + 2 * h)) / (12 * h)


TEMPS = [0.3, 0.8, 1.5, 2.0, 2.2, 2.25, 2.29, 2.4, 3.0, 5.0, 20.0, 300.0]


@pytest.mark.parametrize("T", TEMPS)
def test_energy_is_minus_beta_derivative_of_log_z(T):
    beta, h = 1.0 / T, 1e-4 / T
    d = derivative(lambda b: log_z_per_spin(1 / b), beta, h)
    assert energy_per_spin(T) == pytest.approx(-d, rel=1e-7, abs=1e-15 / h)  # rounding ~ 1e-16/h


@pytest.mark.parametrize("T", TEMPS)
def test_specific_heat_is_temperature_derivative_of_energy(T):
    h = 1e-4 * T
    assert specific_heat_per_spin(T) == pytest.approx(derivative(energy_per_spin, T, h), rel=1e-6, abs=1e-15 / h)


@pytest.mark.parametrize("T", TEMPS)
def test_entropy_is_minus_temperature_derivative_of_free_energy(T):
    h = 1e-4 * T
    d = derivative(free_energy_per_spin, T, h)
    assert entropy_per_spin(T) == pytest.approx(-d, rel=1e-7, abs=1e-15 / h)


def test_entropy_is_log_z_plus_beta_u():
    T = np.array([0.5, 0.9, 1.0, 2.0, TC, 2.5, 10.0])
    expected = log_z_per_spin(T) + energy_per_spin(T) / T
    np.testing.assert_allclose(entropy_per_spin(T), expected, rtol=1e-12, atol=1e-15)


def test_specific_heat_is_infinite_at_tc_and_diverges_logarithmically():
    assert specific_heat_per_spin(TC) == math.inf
    # c ~ -(8 K_c^2 / pi) ln|1 - T/T_c| on both sides (same amplitude)
    amplitude = 8 * KC**2 / math.pi
    for sign in (-1.0, 1.0):
        c1 = specific_heat_per_spin(TC * (1 + sign * 1e-5))
        c2 = specific_heat_per_spin(TC * (1 + sign * 1e-7))
        assert c2 - c1 == pytest.approx(amplitude * math.log(100.0), rel=1e-3)


def test_yang_magnetisation_is_one_at_zero_temperature_and_zero_above_tc():
    assert spontaneous_magnetization(0.01) == 1.0
    assert spontaneous_magnetization(0.5) == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_array_equal(spontaneous_magnetization(np.array([TC, 2.3, 10.0, 1e6])), 0.0)
    m = spontaneous_magnetization(np.linspace(0.1, 2.26, 200))
    assert np.all(np.diff(m) <= 0) and np.all(m > 0) and m[-1] < 0.62


def test_yang_magnetisation_vanishes_with_exponent_one_eighth():
    d1, d2 = 1e-6, 1e-8
    m1 = spontaneous_magnetization(TC * (1 - d1))
    m2 = spontaneous_magnetization(TC * (1 - d2))
    assert math.log(m1 / m2) / math.log(d1 / d2) == pytest.approx(1 / 8, rel=1e-4)
    # amplitude: M ~ (8 sqrt2 K_c)^{1/8} (1 - T/T_c)^{1/8}
    assert m2 == pytest.approx((8 * math.sqrt(2) * KC * d2) ** 0.125, rel=1e-6)


def test_high_temperature_limit_is_free_spins():
    for T in (1e3, 1e6):
        K = 1.0 / T
        assert log_z_per_spin(T) == pytest.approx(math.log(2) + K**2, abs=2 * K**4 + 1e-15)
        assert entropy_per_spin(T) == pytest.approx(math.log(2) - K**2, abs=5 * K**4 + 1e-15)
        assert energy_per_spin(T) == pytest.approx(-2 * K, rel=3 * K)
        assert specific_heat_per_spin(T) == pytest.approx(2 * K**2, rel=3 * K, abs=0.0)


def test_low_temperature_limit_is_the_ground_state_with_single_spin_flips():
    for T in (0.05, 0.1, 0.2):
        K = 1.0 / T
        x = math.exp(-8 * K)  # one flipped spin breaks 4 bonds: 8J
        assert energy_per_spin(T) == pytest.approx(-2.0 + 8 * x, rel=1e-14)
        assert free_energy_per_spin(T) == pytest.approx(-2.0 - T * x, rel=1e-15)
        assert specific_heat_per_spin(T) == pytest.approx(64 * K**2 * x, rel=1e-6, abs=0.0)
        assert entropy_per_spin(T) == pytest.approx(x * (1 + 8 * K), rel=1e-6, abs=0.0)


def test_coupling_sets_the_energy_scale():
    T = np.array([0.7, 1.9, 4.0])
    J = 2.5
    np.testing.assert_allclose(free_energy_per_spin(J * T, J), J * free_energy_per_spin(T), rtol=1e-14)
    np.testing.assert_allclose(energy_per_spin(J * T, J), J * energy_per_spin(T), rtol=1e-14)
    np.testing.assert_allclose(specific_heat_per_spin(J * T, J), specific_heat_per_spin(T), rtol=1e-13)
    np.testing.assert_allclose(spontaneous_magnetization(J * T, J), spontaneous_magnetization(T), rtol=1e-14)


def test_arrays_keep_their_shape_and_scalars_give_floats():
    T = np.array([[0.5, 1.0, 2.0], [TC, 3.0, 10.0]])
    for f in (
        log_z_per_spin,
        free_energy_per_spin,
        energy_per_spin,
        specific_heat_per_spin,
        entropy_per_spin,
        spontaneous_magnetization,
    ):
        out = f(T)
        assert out.shape == T.shape
        assert out[1, 1] == f(3.0)
        assert isinstance(f(2.0), float)


def test_stable_for_all_positive_temperatures():
    T = np.concatenate([np.logspace(-3, 8, 400), [TC * (1 - 1e-12), TC * (1 + 1e-12), 1e-300 * 1e295]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = [
            f(T)
            for f in (
                log_z_per_spin,
                energy_per_spin,
                specific_heat_per_spin,
                entropy_per_spin,
                spontaneous_magnetization,
            )
        ]
    for v in values:
        assert np.all(np.isfinite(v))
    lz, u, c, s, m = values
    assert np.all(lz >= math.log(2)) and np.all(u >= -2.0) and np.all(u < 0)
    assert np.all(c >= 0) and np.all((s >= 0) & (s <= math.log(2)))
    rising = slice(0, 400)  # the sorted part of T
    assert np.all(np.diff(u[rising]) > -1e-15) and np.all(np.diff(s[rising]) >= -1e-15)


def test_extreme_temperatures_give_ground_state_and_free_spin_limits():
    T = np.array([5e-324, 1e-300, 1e-100, 1e100, 1e300, 1.7e308])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f, u, c = free_energy_per_spin(T), energy_per_spin(T), specific_heat_per_spin(T)
        s, m, lz = entropy_per_spin(T), spontaneous_magnetization(T), log_z_per_spin(T)
    np.testing.assert_allclose(f[:3], -2.0, rtol=1e-15)
    np.testing.assert_allclose(f[3:], -T[3:] * math.log(2), rtol=1e-15)
    np.testing.assert_allclose(u, np.r_[-2.0, -2.0, -2.0, -2 / T[3:]], rtol=1e-15)
    np.testing.assert_array_equal(c[[0, 1, 2, 4, 5]], 0.0)
    assert c[3] == pytest.approx(2e-200, rel=1e-15, abs=0.0)
    np.testing.assert_allclose(s, [0, 0, 0, math.log(2), math.log(2), math.log(2)], rtol=1e-15)
    np.testing.assert_array_equal(m, [1, 1, 1, 0, 0, 0])
    assert lz[0] == math.inf and lz[1] == pytest.approx(2e300, rel=1e-15)  # ln Z / N = 2J/T overflows


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf, [1.0, -2.0], []])
def test_bad_temperature_is_rejected(bad):
    with pytest.raises(ValueError, match="temperature"):
        energy_per_spin(bad)


@pytest.mark.parametrize("bad", ["hot", True, None])
def test_non_numeric_temperature_is_a_type_error(bad):
    with pytest.raises(TypeError, match="temperature"):
        log_z_per_spin(bad)


@pytest.mark.parametrize("J", [0.0, -1.0, math.nan])
def test_non_positive_coupling_is_rejected(J):
    with pytest.raises(ValueError, match="J must be"):
        specific_heat_per_spin(2.0, J)
    with pytest.raises(ValueError, match="J must be"):
        critical_temperature(J)


def test_non_numeric_coupling_is_a_type_error():
    with pytest.raises(TypeError, match="J must be"):
        energy_per_spin(2.0, "1")
