"""Exact RG flows: 1D decimation (closed forms and transfer matrices) and Migdal-Kadanoff fixed
points (a root finder on the recursion written out here, the quartic of d = 2, b = 2, and the
published K* = 0.3047, nu = 1.338)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq

from thermolearn.exact.transfer_matrix import strip
from thermolearn.rg import (
    chain_correlation_length,
    chain_free_energy_per_spin,
    decimate_chain,
    decimation_step,
    mk_fixed_point,
    mk_flow,
    mk_recursion,
)

EPS = 1e-14


def _transfer_matrix_f_and_xi(k: float, h: float) -> tuple[float, float]:
    """ln lambda_+ and the correlation length of the chain from thermolearn.exact: two uncoupled
    chains side by side (a strip of width 2 with no bonds across) have ln lambda = 2 f."""
    extras = strip(4, 2, 1.0, (k, 0.0), h, periodic_across=False).extras
    return extras["log_lambda_max"] / 2.0, extras["correlation_length"]


@pytest.mark.parametrize("k", [0.1, 0.5, 1.0, 2.5])
@pytest.mark.parametrize("b", [2, 3, 5])
def test_zero_field_decimation_is_tanh_power_with_its_constant(k, b):
    k_new, h_new, g = decimation_step(k, 0.0, b)
    assert k_new == pytest.approx(math.atanh(math.tanh(k) ** b), rel=1e-14, abs=0.0)
    assert h_new == 0.0
    closed = 0.5 * math.log(((2 * math.cosh(k)) ** (2 * b) - (2 * math.sinh(k)) ** (2 * b)) / 4.0)
    assert g == pytest.approx(closed, rel=1e-14)


@pytest.mark.parametrize("k, b", [(0.3, 2), (1.0, 2), (2.0, 3), (4.0, 2), (0.8, 7)])
def test_free_energy_from_flow_constants_is_ln_2cosh_k(k, b):
    flow = decimate_chain(k, b=b, levels=6)
    exact = math.log(2 * math.cosh(k))
    assert flow.free_energy_per_spin == pytest.approx(exact, rel=EPS)
    assert flow.exact_free_energy_per_spin == pytest.approx(exact, rel=EPS)
    # F invariant along the flow: every level assembled with its own exact tail gives the same ln Z / N
    np.testing.assert_allclose(flow.free_energy_by_level, exact, rtol=EPS)


@pytest.mark.parametrize("k, h, b", [(0.5, 0.2, 2), (1.2, -0.7, 3), (-0.6, 0.4, 2), (2.0, 1.5, 2), (0.3, 3.0, 4)])
def test_free_energy_in_a_field_matches_the_transfer_matrix(k, h, b):
    flow = decimate_chain(k, h, b=b, levels=5)
    f_exact, xi_exact = _transfer_matrix_f_and_xi(k, h)
    assert flow.free_energy_per_spin == pytest.approx(f_exact, rel=EPS)
    assert chain_free_energy_per_spin(k, h) == pytest.approx(f_exact, rel=EPS)
    np.testing.assert_allclose(flow.free_energy_by_level, f_exact, rtol=EPS)
    assert chain_correlation_length(k, h) == pytest.approx(xi_exact, rel=1e-12)


@pytest.mark.parametrize("k, h, b", [(0.7, 0.0, 2), (1.5, 0.0, 3), (0.9, 0.3, 2), (1.1, -0.2, 3)])
def test_correlation_length_shrinks_by_exactly_b(k, h, b):
    flow = decimate_chain(k, h, b=b, levels=3)
    xi = flow.correlation_lengths
    np.testing.assert_allclose(xi[1:] * b ** np.arange(1, 4), xi[0], rtol=1e-12)
    if h == 0.0:
        assert xi[0] == pytest.approx(-1.0 / math.log(math.tanh(k)), rel=1e-14)


def test_field_flow_is_the_three_parameter_recursion_for_b_2():
    # b = 2 by hand: sum over the middle spin of exp(K s s' + K s' s'' + h s' + h (s + s'') / 2)
    k, h = 0.8, 0.35
    z = {
        (a, c): sum(math.exp(k * a * m + k * m * c + h * m + h * (a + c) / 2) for m in (1, -1))
        for a in (1, -1)
        for c in (1, -1)
    }
    k_ref = math.log(z[1, 1] * z[-1, -1] / z[1, -1] ** 2) / 4
    h_ref = math.log(z[1, 1] / z[-1, -1]) / 2
    g_ref = math.log(z[1, 1] * z[-1, -1] * z[1, -1] ** 2) / 4
    k_new, h_new, g = decimation_step(k, h, 2)
    assert (k_new, h_new, g) == pytest.approx((k_ref, h_ref, g_ref), rel=1e-14)


def _decimal_step(k: float, h: float, b: int) -> tuple[float, float]:
    """K' and h' from T^b in decimal arithmetic with enough digits for every cancellation."""
    from decimal import Decimal, localcontext

    with localcontext() as ctx:
        ctx.prec = int(40 + (4 * abs(k) + 2 * abs(h)) * b / 2.3 + b * max(0.0, -math.log10(abs(k))))
        kk, hh = Decimal(k), Decimal(h)
        t = [[(kk + hh).exp(), (-kk).exp()], [(-kk).exp(), (kk - hh).exp()]]
        m = t
        for _ in range(b - 1):
            m = [[sum(m[i][j] * t[j][c] for j in range(2)) for c in range(2)] for i in range(2)]
        k_ref = (m[0][0] * m[1][1] / (m[0][1] * m[1][0])).ln() / 4
        h_ref = (m[0][0] / m[1][1]).ln() / 2
        return float(k_ref), float(h_ref)


@pytest.mark.parametrize("k", [1e-9, 0.1, 1.0, 10.0, 50.0, -0.1, -1.0, -10.0, -20.0])
@pytest.mark.parametrize("h", [1e-15, 1e-9, 1e-3, 1.0, 12.0])
@pytest.mark.parametrize("b", [2, 3, 10])
def test_decimation_keeps_every_digit_of_small_couplings_and_fields(k, h, b):
    # a small h' or K' is a difference of large logarithms: before 0.6.13, h' at (1, 1e-15) was 7%
    # off, and an antiferromagnet's h' = 8e-21 at (-10, 1e-3) came out -1e-15 (the wrong sign)
    k_new, h_new, _ = decimation_step(k, h, b)
    k_ref, h_ref = _decimal_step(k, h, b)
    assert k_new == pytest.approx(k_ref, rel=1e-12, abs=0.0)
    assert h_new == pytest.approx(h_ref, rel=1e-12, abs=0.0)


def test_decimation_refuses_bad_arguments():
    with pytest.raises(ValueError, match="b must be an integer >= 2"):
        decimation_step(0.5, 0.0, 1)
    with pytest.raises(ValueError, match="coupling must be a finite"):
        decimate_chain(float("nan"))
    with pytest.raises(ValueError, match="levels must be an integer from 0 to"):
        decimate_chain(0.5, levels=10_000)


# ---------------------------------------------------------------------------- Migdal-Kadanoff
def _hand_recursion(k: float, d: int, b: int, ordering: str) -> float:
    if ordering == "move-then-decimate":
        return math.atanh(math.tanh(b ** (d - 1) * k) ** b)
    return b ** (d - 1) * math.atanh(math.tanh(k) ** b)


def _hand_eigenvalue(k: float, d: int, b: int, ordering: str) -> float:
    # five-point central difference: truncation ~ step^4, rounding ~ 1e-16 / step
    s = 1e-4
    f = [_hand_recursion(k + j * s, d, b, ordering) for j in (-2, -1, 1, 2)]
    return (f[0] - 8 * f[1] + 8 * f[2] - f[3]) / (12 * s)


@pytest.mark.parametrize("lattice, d", [("square", 2), ("cubic", 3)])
@pytest.mark.parametrize("b", [2, 3])
@pytest.mark.parametrize("ordering", ["move-then-decimate", "decimate-then-move"])
def test_migdal_kadanoff_fixed_point_and_nu_match_the_recursion_by_hand(lattice, d, b, ordering):
    k_ref = brentq(lambda k: _hand_recursion(k, d, b, ordering) - k, 1e-3, 1.0, xtol=1e-15)
    lam_ref = _hand_eigenvalue(k_ref, d, b, ordering)
    got = mk_fixed_point(lattice, b, ordering)
    assert got.fixed_point == pytest.approx(k_ref, abs=1e-8)
    assert got.thermal_eigenvalue == pytest.approx(lam_ref, abs=1e-8)
    assert got.nu == pytest.approx(math.log(b) / math.log(lam_ref), abs=1e-8)


@pytest.mark.parametrize("lattice", ["square", "cubic"])
@pytest.mark.parametrize("b", [2, 3])
def test_both_orderings_share_the_eigenvalue_and_their_fixed_points_differ_by_b_to_the_d_minus_1(lattice, b):
    move_first = mk_fixed_point(lattice, b, "move-then-decimate")
    decimate_first = mk_fixed_point(lattice, b, "decimate-then-move")
    d = 2 if lattice == "square" else 3
    assert decimate_first.fixed_point == pytest.approx(b ** (d - 1) * move_first.fixed_point, rel=1e-12)
    assert decimate_first.thermal_eigenvalue == pytest.approx(move_first.thermal_eigenvalue, rel=1e-12)


def test_square_b2_fixed_point_is_the_root_of_the_quartic_and_the_textbook_numbers():
    # tanh K* = tanh^2(2 K*) with t = tanh K*: (1 + t^2)^2 = 4 t, i.e. t^4 + 2 t^2 - 4 t + 1 = 0
    roots = np.roots([1.0, 0.0, 2.0, -4.0, 1.0])
    t = [r.real for r in roots if abs(r.imag) < 1e-12 and 0 < r.real < 1 and abs(r.real - 1) > 1e-6]
    got = mk_fixed_point("square", 2)
    assert got.fixed_point == pytest.approx(math.atanh(t[0]), abs=1e-12)
    # published (e.g. Kardar, Statistical Physics of Fields, sec. 8.4): K* = 0.3047, y_T = 0.747, nu = 1.338
    assert got.fixed_point == pytest.approx(0.3047, abs=5e-5)
    assert got.nu == pytest.approx(1.338, abs=5e-4)


def test_migdal_kadanoff_flows_away_from_the_fixed_point():
    k_star = mk_fixed_point("square", 2).fixed_point
    below = mk_flow(k_star * 0.99, steps=12)
    above = mk_flow(k_star * 1.01, steps=14)
    assert np.all(np.diff(below) < 0) and below[-1] < 1e-3
    assert np.all(np.diff(above) > 0) and above[-1] > 5.0
    assert mk_recursion(k_star) == pytest.approx(k_star, rel=1e-14)
    assert mk_recursion(0.0) == 0.0


def test_migdal_kadanoff_refuses_bad_arguments():
    with pytest.raises(ValueError, match="lattice must be one of square, cubic"):
        mk_fixed_point("triangular")
    with pytest.raises(ValueError, match="ordering must be one of"):
        mk_fixed_point("square", 2, "sideways")
    with pytest.raises(ValueError, match=">= 0"):
        mk_recursion(-0.1)
