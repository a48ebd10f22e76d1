"""Kaufman's finite periodic square lattice: against brute force, Onsager, and its own derivatives."""

import math
import warnings

import numpy as np
import pytest

from tests.brute_force import brute_force
from thermolearn import Ising
from thermolearn.exact.enumeration import enumerate_exact
from thermolearn.exact.kaufman import kaufman
from thermolearn.exact.onsager import (
    CRITICAL_TEMPERATURE,
    energy_per_spin,
    log_z_per_spin,
    specific_heat_per_spin,
)

TC = CRITICAL_TEMPERATURE
KC = 1.0 / TC


def assert_matches_brute_force(rows, cols, T, J=1.0, rel=1e-10):
    ref = brute_force(Ising.lattice((rows, cols), coupling=J), T)
    r = kaufman(rows, T, J, columns=cols)
    assert r.log_z == pytest.approx(ref["log_z"], rel=rel)
    assert r.energy == pytest.approx(ref["energy"], rel=rel)
    assert r.specific_heat == pytest.approx(ref["specific_heat"], rel=rel)


@pytest.mark.parametrize("T", [0.5, 1.0, 2.0, TC, 2.5, 5.0, 100.0])
def test_kaufman_equals_brute_force_on_4x4_torus(T):
    assert_matches_brute_force(4, 4, T)


@pytest.mark.parametrize("shape", [(3, 3), (2, 3), (3, 2), (2, 4), (3, 4), (4, 3), (2, 5), (3, 5)])
@pytest.mark.parametrize("T", [0.7, TC, 4.0])
def test_kaufman_equals_brute_force_on_small_and_rectangular_tori(shape, T):
    assert_matches_brute_force(*shape, T)


@pytest.mark.parametrize("T", [0.6, TC, 3.0])
def test_side_of_two_doubles_its_bonds_as_the_periodic_lattice_does(T):
    # Ising.lattice counts the bond between the two sites of a periodic side of length 2
    # twice; Kaufman's formula (a periodic transfer matrix) does the same
    assert_matches_brute_force(2, 2, T)


@pytest.mark.parametrize("shape", [(4, 4), (2, 4), (2, 2)])
@pytest.mark.parametrize("T", [0.8, TC, 5.0])
def test_antiferromagnet_on_even_torus_equals_brute_force(shape, T):
    # flipping one sublattice maps J < 0 onto |J|: same log Z, U and C
    assert_matches_brute_force(*shape, T, J=-1.3)


def test_antiferromagnet_on_odd_side_is_rejected_as_frustrated():
    with pytest.raises(ValueError, match="frustrated"):
        kaufman(3, 1.0, -1.0)
    with pytest.raises(ValueError, match="both sides even"):
        kaufman(4, 1.0, -1.0, columns=5)


def test_coupling_sets_the_energy_scale():
    a = kaufman(6, 2.0, columns=8)
    b = kaufman(6, 5.0, 2.5, columns=8)
    assert b.log_z == pytest.approx(a.log_z, rel=1e-14)
    assert b.energy == pytest.approx(2.5 * a.energy, rel=1e-14)
    assert b.specific_heat == pytest.approx(a.specific_heat, rel=1e-13)


def test_swapping_the_sides_gives_the_same_torus():
    for T in (0.9, TC, 3.3):
        a, b = kaufman(3, T, columns=7), kaufman(7, T, columns=3)
        assert (a.log_z, a.energy, a.specific_heat) == pytest.approx((b.log_z, b.energy, b.specific_heat), rel=1e-13)


def test_zero_coupling_is_free_spins():
    r = kaufman(5, 1.7, 0.0)
    assert (r.log_z, r.energy, r.specific_heat) == (25 * math.log(2), 0.0, 0.0)


def test_result_is_an_exact_record_with_zero_magnetisation():
    r = kaufman(8, 2.0, columns=6)
    assert r.method == "kaufman"
    assert r.n_spins == 48 and r.temperature == 2.0
    assert r.magnetization == 0.0  # zero field: spin-flip symmetry
    assert r.extras == {"rows": 8, "columns": 6}
    assert r.entropy == pytest.approx(r.log_z + r.energy / 2.0)
    assert r.as_dict()["method"] == "kaufman"


@pytest.mark.parametrize("T", [0.5, 1.0, 1.5, 2.0, 2.2, 2.6, 3.0, 5.0, 10.0])
def test_large_lattice_approaches_onsager_away_from_tc(T):
    L = 256
    N = L * L
    r = kaufman(L, T)
    assert r.energy_per_spin == pytest.approx(energy_per_spin(T), abs=1e-10)
    assert r.specific_heat_per_spin == pytest.approx(specific_heat_per_spin(T), rel=1e-8, abs=1e-12)
    # below T_c the two ground states add ln(2)/N to the finite lattice's ln Z / N
    extra = math.log(2) / N if T < TC else 0.0
    assert r.log_z / N == pytest.approx(log_z_per_spin(T) + extra, abs=1e-12)


def test_large_lattice_energy_is_near_onsager_through_tc():
    L = 256
    for T in np.linspace(1.8, 2.8, 21):
        assert kaufman(L, T).energy_per_spin == pytest.approx(energy_per_spin(T), abs=3e-3)
    # finite-size shift of the energy at T_c is O(1/L)
    assert abs(kaufman(L, TC).energy_per_spin + math.sqrt(2)) < 1.0 / L


def test_specific_heat_at_tc_grows_like_log_L():
    # Ferdinand & Fisher: C/N(T_c) = (8 K_c^2 / pi) ln L + const + O(ln L / L)
    c = {L: kaufman(L, TC).specific_heat_per_spin for L in (256, 512, 1024)}
    slope = 8 * KC**2 / math.pi
    assert c[512] - c[256] == pytest.approx(slope * math.log(2), rel=2e-3)
    assert c[1024] - c[512] == pytest.approx(slope * math.log(2), rel=1e-3)


def derivative(f, x, h):
    return (f(x - 2 * h) - 8 * f(x - h) + 8 * f(x + h) - f(x + 2 * h)) / (12 * h)


@pytest.mark.parametrize("T", [0.8, 1.6, 2.2, TC * (1 - 1e-6), TC, TC * (1 + 1e-6), 2.4, 4.0, 20.0])
def test_energy_and_specific_heat_are_beta_derivatives_of_log_z_at_L64(T):
    L = 64
    beta, h = 1.0 / T, 1e-4 / T
    r = kaufman(L, T)
    d_log_z = derivative(lambda b: kaufman(L, 1 / b).log_z, beta, h)
    d_energy = derivative(lambda b: kaufman(L, 1 / b).energy, beta, h)
    # U = -d ln Z / d beta, C = -beta^2 dU/d beta (rounding ~ 1e-16 |f| / h)
    assert r.energy == pytest.approx(-d_log_z, rel=1e-8, abs=1e-15 * abs(r.log_z) / h)
    assert r.specific_heat == pytest.approx(-(beta**2) * d_energy, rel=1e-7, abs=1e-15 * L * L / h)


def test_finite_lattice_is_smooth_through_tc():
    # the factor 2 sinh(m gamma_0 / 2) of Z4 vanishes at T_c: nothing may jump there
    for L in (3, 16, 256):
        at = kaufman(L, TC)
        for T in (TC * (1 - 1e-12), TC * (1 + 1e-12)):
            near = kaufman(L, T)
            assert near.log_z == pytest.approx(at.log_z, rel=1e-12)
            assert near.energy == pytest.approx(at.energy, rel=1e-10)
            assert near.specific_heat == pytest.approx(at.specific_heat, rel=1e-9)


@pytest.mark.parametrize("L", [3, 16, 256])
def test_stable_for_all_temperatures(L):
    N = L * L
    temps = np.concatenate([np.logspace(-2, 4, 200), [0.05, 0.5, TC, TC - 1e-6, TC + 1e-6, 10.0, 1e3]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        results = [kaufman(L, float(T)) for T in temps]
    for T, r in zip(temps, results):
        assert math.isfinite(r.log_z) and math.isfinite(r.energy) and math.isfinite(r.specific_heat)
        assert r.log_z >= N * math.log(2) * (1 - 1e-15)  # Jensen: ln Z >= ln 2^N - beta <E>_uniform
        assert r.log_z >= 2 * N / T + math.log(2) - 1e-12 * N / T  # the two ground states
        assert -2 * N <= r.energy < 0 and r.specific_heat >= 0
    energies = np.array([r.energy for r in results[:200]])
    assert np.all(np.diff(energies) >= -1e-12 * N)  # U rises with T


@pytest.mark.parametrize("shape", [(2, 2), (2, 5), (3, 3), (3, 4), (64, 64)])
def test_extreme_temperatures_reach_ground_state_and_free_spin_limits(shape):
    rows, cols = shape
    N = rows * cols
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for T in (1e-300, 1e-10, 1 / 400.5, 1 / 399.5):  # across the K = 400 switch
            r = kaufman(rows, T, columns=cols)
            assert r.energy == pytest.approx(-2.0 * N, rel=1e-15) and r.specific_heat == 0.0
            assert r.log_z == pytest.approx(math.log(2) + 2 * N / T, rel=1e-15)
        # ln Z = N ln 2 + a2 K^2: a2 = N, but a side of 2 doubles its bonds (coupling 2K per pair)
        a2 = sum(o * 2.0 if side == 2 else side * o / 2.0 for side, o in ((rows, cols), (cols, rows)))
        for T in (0.999e100, 1.001e100, 1e300):  # across the K = 1e-100 switch
            r = kaufman(rows, T, columns=cols)
            assert r.log_z == pytest.approx(N * math.log(2), rel=1e-15)
            assert r.energy * T == pytest.approx(-2 * a2, rel=1e-12)
            assert r.specific_heat * T * T == pytest.approx(2 * a2, rel=1e-12) or T * T == math.inf


def test_very_large_lattice_is_finite_and_near_onsager():
    r = kaufman(1024, 2.0)
    assert r.energy_per_spin == pytest.approx(energy_per_spin(2.0), abs=1e-12)
    assert r.specific_heat_per_spin == pytest.approx(specific_heat_per_spin(2.0), rel=1e-9)


@pytest.mark.parametrize(
    "args, kwargs, error, match",
    [
        ((1, 2.0), {}, ValueError, "L must be an integer >= 2"),
        ((0, 2.0), {}, ValueError, "L must be"),
        ((2.5, 2.0), {}, TypeError, "L must be an integer"),
        (("4", 2.0), {}, TypeError, "L must be an integer"),
        ((4, 2.0), {"columns": 1}, ValueError, "columns must be an integer >= 2"),
        ((4, 0.0), {}, ValueError, "temperature must be > 0"),
        ((4, -1.0), {}, ValueError, "temperature must be > 0"),
        ((4, math.nan), {}, ValueError, "temperature must be a finite"),
        ((4, math.inf), {}, ValueError, "temperature must be a finite"),
        ((4, 2.0, math.nan), {}, ValueError, "J must be a finite"),
        ((4, 2.0, "1"), {}, TypeError, "J must be a finite"),
    ],
)
def test_bad_arguments_are_rejected_with_a_clear_message(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        kaufman(*args, **kwargs)


@pytest.mark.parametrize("shape", [(2, 2), (2, 5), (3, 3), (3, 5), (4, 4), (4, 5), (5, 3)])
def test_low_temperature_specific_heat_keeps_its_relative_digits(shape):
    # C ~ 64 N K^2 e^{-8K} is the cancellation of O(e^{-4K}) terms in Kaufman's sums: a 4x4 read
    # 3e-45 for 1.3e-64 at T = 0.05 and 0 at T = 0.1 up to 0.6.12; enumeration sums relative to the
    # ground states and keeps every digit
    rows, cols = shape
    temperatures = [0.05, 0.1, 0.14, 0.2, 0.3, 0.5]
    exact = enumerate_exact(Ising.lattice(shape, 1.0), temperatures, correlations=False)
    for t, ref in zip(temperatures, exact):
        c = kaufman(rows, t, columns=cols).specific_heat
        tolerance = 1e-13 if (min(shape) >= 3 and t <= 0.2) else 1e-7
        assert c == pytest.approx(ref.specific_heat, rel=tolerance, abs=0.0), (shape, t)
