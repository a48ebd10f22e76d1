"""Exact transfer matrices (1D chain, 2D strips) against brute force, closed forms and limits."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from tests.brute_force import all_states, brute_force
from thermolearn import Ising
from thermolearn.exact import transfer_matrix as tm
from thermolearn.exact.transfer_matrix import MAX_STRIP_WIDTH, chain, solve_lattice, strip

RTOL = 1e-9


def exact_reference(model: Ising, temperature: float) -> dict:
    """Brute force plus the susceptibility beta Var M, summed without cancellation."""
    ref = brute_force(model, temperature)
    m = all_states(model.n_spins).sum(axis=1).astype(float)
    p = ref["probabilities"]
    ref["susceptibility"] = float(p @ (m - p @ m) ** 2) / temperature
    return ref


def assert_matches(result, ref, *, rtol: float = RTOL) -> None:
    n = result.n_spins
    for key in ("log_z", "energy", "specific_heat"):
        assert getattr(result, key) == pytest.approx(ref[key], rel=rtol, abs=1e-300), key
    # <M> vanishes by symmetry at h = 0: compare it on the scale of the spin count there
    assert result.magnetization == pytest.approx(ref["magnetization"], rel=rtol, abs=1e-13 * n)
    assert result.extras["susceptibility"] == pytest.approx(ref["susceptibility"], rel=rtol, abs=1e-300)


# ----------------------------------------------------------------------------- brute force
@pytest.mark.parametrize("periodic", [True, False])
def test_chain_log_z_energy_heat_capacity_magnetization_equal_brute_force(periodic):
    for n, coupling, field, temperature in itertools.product(
        [1, 2, 3, 5, 8], [1.0, -1.0, 0.6], [0.0, 0.4, -1.2], [0.3, 1.0, 2.5, 50.0]
    ):
        if periodic and n == 1:
            continue
        model = Ising.lattice((n,), coupling, field, periodic=periodic)
        result = chain(n, temperature, coupling, field, periodic=periodic)
        assert result.method == "transfer_matrix_chain" and result.n_spins == n
        assert_matches(result, exact_reference(model, temperature))


STRIP_CASES = [
    # (length, width, (J_along, J_across), field)
    (2, 3, (1.0, 1.0), 0.0),
    (3, 3, (1.0, 1.0), 0.4),
    (4, 3, (-1.0, 0.5), 0.0),  # antiferromagnetic along, even length
    (3, 4, (-1.0, 0.5), 0.3),  # odd periodic length, antiferromagnetic along: frustrated
    (3, 2, (0.5, -1.2), 0.0),  # antiferromagnetic across
    (3, 3, (-1.0, -1.0), 0.4),  # frustrated both ways when periodic
    (1, 5, (1.0, 1.0), 0.7),  # one row
    (6, 2, (0.8, 1.3), -0.2),
]


@pytest.mark.parametrize("length, width, couplings, field", STRIP_CASES)
def test_strip_equals_brute_force_for_every_boundary_condition_and_sign(length, width, couplings, field):
    for periodic_along, periodic_across, temperature in itertools.product(
        [True, False], [True, False], [0.3, 1.0, 2.27, 50.0]
    ):
        model = Ising.lattice((length, width), couplings, field, periodic=(periodic_along, periodic_across))
        result = strip(
            length,
            width,
            temperature,
            couplings,
            field,
            periodic_across=periodic_across,
            periodic_along=periodic_along,
        )
        assert result.method == "transfer_matrix_strip" and result.n_spins == length * width
        assert_matches(result, exact_reference(model, temperature))


def test_frustrated_wide_strip_by_blas_squaring_equals_brute_force(monkeypatch):
    # Periodic, odd length, antiferromagnetic along: +lambda^L and -lambda^L nearly cancel.
    # Force the path used for strips wider than the moment semiring's limit.
    monkeypatch.setattr(tm, "_MAX_SEMIRING_STATES", 0)
    for temperature, field in [(0.5, 0.0), (1.0, 0.3), (3.0, 0.0)]:
        model = Ising.lattice((3, 4), (-1.0, 0.7), field, periodic=True)
        result = strip(3, 4, temperature, (-1.0, 0.7), field)
        assert_matches(result, exact_reference(model, temperature), rtol=1e-8)


def test_solve_lattice_dispatches_chains_strips_and_transposed_strips():
    cases = [
        Ising.lattice((7,), -0.8, 0.3, periodic=True),
        Ising.lattice((6,), 1.1, 0.0, periodic=False),
        Ising.lattice((3, 4), (1.0, -0.6), 0.2, periodic=(True, False)),
        Ising.lattice((4, 3), (-1.0, 0.6), 0.2, periodic=(False, True)),  # solved with width 3
        Ising.lattice((2, 1, 5), (1.0, 2.0, 0.5), 0.1, periodic=True),  # flat 3D: a 2 x 5 strip
        Ising.lattice((1,), 1.0, 0.5, periodic=True),  # one spin
    ]
    for model in cases:
        for temperature in (0.7, 3.0):
            assert_matches(solve_lattice(model, temperature), exact_reference(model, temperature))


# ----------------------------------------------------------------------------- closed forms
def lambdas(temperature: float, coupling: float, field: float) -> tuple[float, float]:
    b = 1.0 / temperature
    root = math.sqrt(math.exp(2 * b * coupling) * math.sinh(b * field) ** 2 + math.exp(-2 * b * coupling))
    centre = math.exp(b * coupling) * math.cosh(b * field)
    return centre + root, centre - root


@pytest.mark.parametrize("coupling, field", [(1.0, 0.0), (-1.0, 0.0), (0.7, 0.5), (-1.3, 0.9)])
def test_periodic_chain_is_sum_of_powers_of_closed_form_eigenvalues(coupling, field):
    for n, temperature in itertools.product([2, 3, 7, 40], [0.4, 1.0, 4.0]):
        lp, lm = lambdas(temperature, coupling, field)
        log_z = n * math.log(lp) + math.log1p((lm / lp) ** n)
        assert chain(n, temperature, coupling, field).log_z == pytest.approx(log_z, rel=1e-13)
        if field == 0.0:  # E = -N J (c^{N-1} s + s^{N-1} c) / (c^N + s^N), c, s = cosh, sinh(beta J)
            t = math.tanh(coupling / temperature)
            energy = -n * coupling * (t + t ** (n - 1)) / (1 + t**n)
            assert chain(n, temperature, coupling).energy == pytest.approx(energy, rel=1e-12)


def test_two_spin_periodic_chain_has_two_bonds_like_the_lattice():
    for coupling, field, temperature in [(1.0, 0.0, 1.0), (-0.5, 0.4, 0.6)]:
        b = 1.0 / temperature
        z = sum(math.exp(b * (2 * coupling * s1 * s2 + field * (s1 + s2))) for s1 in (-1, 1) for s2 in (-1, 1))
        assert chain(2, temperature, coupling, field).log_z == pytest.approx(math.log(z), rel=1e-14)


@pytest.mark.parametrize("temperature", [0.2, 0.5, 1.0, 5.0])
@pytest.mark.parametrize("coupling, field", [(1.0, 0.0), (-1.0, 0.0), (1.0, 0.3), (-0.7, 0.8)])
def test_million_spin_chain_reaches_thermodynamic_limit(temperature, coupling, field):
    n = 10**6
    b = 1.0 / temperature
    lp, _ = lambdas(temperature, coupling, field)
    result = chain(n, temperature, coupling, field)
    assert result.free_energy_per_spin == pytest.approx(-temperature * math.log(lp), rel=1e-12)
    m = math.sinh(b * field) / math.sqrt(math.sinh(b * field) ** 2 + math.exp(-4 * b * coupling))
    assert result.magnetization_per_spin == pytest.approx(m, rel=1e-10, abs=1e-15)
    if field == 0.0:
        assert result.energy_per_spin == pytest.approx(-coupling * math.tanh(b * coupling), rel=1e-10)
        c = (b * coupling / math.cosh(b * coupling)) ** 2
        assert result.specific_heat_per_spin == pytest.approx(c, rel=1e-9)
        chi = b * math.exp(2 * b * coupling)  # per spin, h = 0
        assert result.extras["susceptibility"] / n == pytest.approx(chi, rel=1e-9)
    open_result = chain(n, temperature, coupling, field, periodic=False)
    assert open_result.free_energy_per_spin == pytest.approx(result.free_energy_per_spin, rel=1e-5)


def test_frustrated_odd_antiferromagnetic_ring_has_2n_ground_states_at_low_temperature():
    # One broken bond anywhere on an odd ring, times global flip: 2N ground states, E = -(N-2)|J|.
    for n in (5, 10**6 + 1):
        temperature = 0.01
        result = chain(n, temperature, -1.0)
        assert result.energy == pytest.approx(-(n - 2), rel=1e-13)
        assert result.log_z == pytest.approx((n - 2) / temperature + math.log(2 * n), rel=1e-14)
        assert result.magnetization == 0.0
        assert result.extras["susceptibility"] == pytest.approx(1.0 / temperature, rel=1e-9)  # M = +-1


@pytest.mark.parametrize("temperature", [1e-3, 1e6])
def test_extreme_temperatures_give_ground_state_and_free_spin_limits(temperature):
    for result, e_ground, n in [
        (chain(11, temperature, 1.0, 0.2), -11 - 2.2, 11),
        (chain(9, temperature, -1.0, 0.0, periodic=False), -8, 9),
        (strip(5, 4, temperature, (1.0, 1.0), 0.0), -40, 20),
        (strip(3, 4, temperature, (-1.0, 1.0), 0.0), -24 + 2 * 4, 12),  # frustrated along
        (strip(6, 3, temperature, (1.0, -1.0), 0.5, periodic_along=False), None, 18),
    ]:
        values = [result.log_z, result.energy, result.specific_heat, result.magnetization]
        assert all(math.isfinite(v) for v in values) and result.specific_heat >= 0.0
        if temperature > 1.0:
            assert result.log_z == pytest.approx(n * math.log(2), rel=1e-5)
        elif e_ground is not None:
            assert result.energy == pytest.approx(e_ground, rel=1e-12)


# ----------------------------------------------------------------------------- derivatives
@pytest.mark.parametrize("periodic_along", [True, False])
def test_width_8_strip_energy_is_minus_dlogz_dbeta_and_magnetization_is_dlogz_dh(periodic_along):
    length, width, couplings, field, temperature = 6, 8, (1.0, 0.8), 0.15, 2.0
    beta, db, dh = 1.0 / temperature, 1e-5, 1e-5

    def log_z(b: float, h: float) -> float:
        return strip(length, width, 1.0 / b, couplings, h, periodic_along=periodic_along).log_z

    result = strip(length, width, temperature, couplings, field, periodic_along=periodic_along)
    energy_fd = -(log_z(beta + db, field) - log_z(beta - db, field)) / (2 * db)
    var_e_fd = (log_z(beta + db, field) - 2 * result.log_z + log_z(beta - db, field)) / db**2
    magnetization_fd = (log_z(beta, field + dh) - log_z(beta, field - dh)) / (2 * dh * beta)
    assert result.energy == pytest.approx(energy_fd, rel=1e-7)
    assert result.specific_heat == pytest.approx(beta**2 * var_e_fd, rel=1e-3)
    assert result.magnetization == pytest.approx(magnetization_fd, rel=1e-7)


def test_long_periodic_strip_free_energy_per_row_is_minus_t_log_lambda_max():
    temperature, width = 2.5, 6
    result = strip(4000, width, temperature, (1.0, 1.0), 0.1)
    f_row = -temperature * result.extras["log_lambda_max"]
    assert result.free_energy_per_spin == pytest.approx(f_row / width, rel=1e-12)
    assert 0.0 < result.extras["correlation_length"] < 100.0


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: chain(5, 0.0), ValueError, "temperature"),
        (lambda: chain(5, -1.0), ValueError, "temperature"),
        (lambda: chain(5, math.nan), ValueError, "temperature"),
        (lambda: chain(0, 1.0), ValueError, "n_spins"),
        (lambda: chain(-3, 1.0), ValueError, "n_spins"),
        (lambda: chain(2.5, 1.0), TypeError, "n_spins"),
        (lambda: chain(1, 1.0, periodic=True), ValueError, "periodic"),
        (lambda: chain(4, 1.0, periodic="yes"), TypeError, "periodic"),
        (lambda: chain(4, 1.0, field=math.inf), ValueError, "field"),
        (lambda: strip(4, 3, 0.0), ValueError, "temperature"),
        (lambda: strip(-1, 3, 1.0), ValueError, "length"),
        (lambda: strip(4, 0, 1.0), ValueError, "width"),
        (lambda: strip(4, MAX_STRIP_WIDTH + 1, 1.0), ValueError, "Monte Carlo"),
        (lambda: strip(4, 3, 1.0, (1.0, 1.0, 1.0)), ValueError, "couplings"),
        (lambda: strip(4, 3, 1.0, periodic_along=1), TypeError, "periodic_along"),
        (lambda: solve_lattice(Ising.from_dense(np.zeros((3, 3))), 1.0), ValueError, "Ising.lattice"),
        (lambda: solve_lattice(Ising.lattice((2, 2, 2)), 1.0), ValueError, "3D"),
        (lambda: solve_lattice(Ising.lattice((14, 13)), 1.0), ValueError, "13"),
        (lambda: solve_lattice(Ising.lattice((4, 3)), -2.0), ValueError, "temperature"),
    ],
)
def test_bad_arguments_raise_clear_errors(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_width_limit_error_names_the_limit():
    with pytest.raises(ValueError, match=str(MAX_STRIP_WIDTH)):
        strip(2, MAX_STRIP_WIDTH + 1, 1.0)


@pytest.mark.parametrize("shape, coupling, field", [((4, 4), 1.0, 0.0), ((5, 4), 1.0, 0.3), ((4, 5), -1.0, 0.0)])
def test_periodic_strip_keeps_the_digits_of_a_tiny_specific_heat(shape, coupling, field):
    # deep in the ordered phase Var E sits in eigenvector components far below the largest: a 4x4
    # torus read C 25% off at T = 0.05 J up to 0.6.12 (enumeration sums relative to the ground state)
    from thermolearn.exact.enumeration import enumerate_exact

    model = Ising.lattice(shape, coupling, field)
    temperatures = [0.05, 0.08, 0.15, 0.3]
    for t, ref in zip(temperatures, enumerate_exact(model, temperatures, correlations=False)):
        got = solve_lattice(model, t)
        assert got.specific_heat == pytest.approx(ref.specific_heat, rel=1e-11, abs=0.0), t
        assert got.extras["susceptibility"] == pytest.approx(ref.extras["susceptibility"], rel=1e-9, abs=0.0), t
