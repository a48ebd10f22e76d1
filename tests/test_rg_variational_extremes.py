"""Closed forms of the chain and of Migdal-Kadanoff at the extremes of coupling and field.

Every reference is computed here in decimal arithmetic with enough digits to resolve the
quantity (no cancellation left to rounding): dK'/dK of the Migdal-Kadanoff step as a rational
function of t = e^(-2x), the chain's correlation length ln(lambda_+^2 / |det T|) and its
magnetisation sinh(beta H) / sqrt(sinh^2(beta H) + e^(-4 beta J)). Each test covers the
ordinary range as well, so a rewrite that is only right at the extremes fails too.
"""

from __future__ import annotations

import importlib
import math
import re
import warnings
from decimal import Decimal, localcontext

import numpy as np
import pytest

import thermolearn.variational
from thermolearn.rg import chain_correlation_length, decimate_chain, mk_derivative
from thermolearn.variational import bethe_magnetization, exact_lattice_magnetization

# --- Migdal-Kadanoff: dK'/dK -------------------------------------------------------------


def _mk_derivative_reference(k: float, dimension: int, b: int, move_first: bool) -> float:
    """dK'/dK of K' = atanh(tanh^b(c K)) (move first, c = b^(d-1)) or c atanh(tanh^b K).

    With t = e^(-2x): d/dx atanh(tanh^b x) = 4 b (1 - t^2)^(b-1) / (2 sum_{j odd} C(2b, j) t^(j-1)),
    a ratio of polynomials with positive terms only, so 60 digits give it to 60 digits for any x
    (it tends to 1 as x -> infinity: dK'/dK -> c)."""
    c = b ** (dimension - 1)
    x = Decimal(c) * Decimal(k) if move_first else Decimal(k)
    with localcontext() as ctx:
        ctx.prec = 60
        t = (-2 * x).exp()
        numerator = 4 * b * (1 - t * t) ** (b - 1)
        denominator = 2 * sum(math.comb(2 * b, j) * (t ** (j - 1) if j > 1 else 1) for j in range(1, 2 * b + 1, 2))
        return float(c * numerator / denominator)


MK_CASES = [
    # the defect: 0/0 once e^(-2x) underflows (exact limit b^(d-1) for move-then-decimate)
    ("square", 2, "move-then-decimate", 180.0),
    ("square", 2, "move-then-decimate", 200.0),
    ("square", 2, "move-then-decimate", 1e4),
    ("cubic", 3, "move-then-decimate", 40.0),
    ("cubic", 5, "move-then-decimate", 15.0),
    ("square", 64, "move-then-decimate", 6.0),
    ("square", 2, "decimate-then-move", 400.0),
    # the ordinary range: near the fixed points, weak and moderate coupling
    ("square", 2, "move-then-decimate", 0.3047),
    ("square", 2, "decimate-then-move", 0.6094),
    ("square", 3, "move-then-decimate", 1e-4),
    ("cubic", 2, "move-then-decimate", 0.1),
    ("cubic", 2, "decimate-then-move", 1.0),
    ("square", 2, "move-then-decimate", 2.0),
    ("cubic", 4, "decimate-then-move", 3.0),
    ("square", 64, "decimate-then-move", 0.5),
]


@pytest.mark.parametrize("lattice, b, ordering, k", MK_CASES)
def test_mk_derivative_matches_the_rational_form_at_every_coupling(lattice, b, ordering, k):
    dimension = {"square": 2, "cubic": 3}[lattice]
    reference = _mk_derivative_reference(k, dimension, b, ordering == "move-then-decimate")
    assert mk_derivative(k, lattice, b, ordering) == pytest.approx(reference, rel=1e-13, abs=0.0)


@pytest.mark.parametrize("lattice, dimension", [("square", 2), ("cubic", 3)])
@pytest.mark.parametrize("b", [2, 3, 7, 64])
def test_mk_derivative_reaches_its_strong_coupling_limit_exactly(lattice, dimension, b):
    # K' = c K - (1/2) ln b + O(e^(-2cK)) for move-then-decimate, so dK'/dK = c = b^(d-1) to rounding
    couplings = np.array([1e3, 1e6, 1e300])
    np.testing.assert_array_equal(mk_derivative(couplings, lattice, b), float(b ** (dimension - 1)))
    # and the array form agrees with the scalar form, finite everywhere in between
    grid = np.logspace(-6, 4, 61)
    values = mk_derivative(grid, lattice, b)
    assert np.all(np.isfinite(values)) and np.all(values >= 0)
    assert [mk_derivative(float(k), lattice, b) for k in grid[::10]] == list(values[::10])


# --- the chain: correlation length ---------------------------------------------------------


def _sinh(x: Decimal) -> Decimal:
    """sinh x in the current decimal context: its series below 1, where e^x - e^(-x) would cancel
    (x = 1e-300 keeps no digit of 60), the exponentials above."""
    if abs(x) < 1:
        return sum((x ** (2 * j + 1) / math.factorial(2 * j + 1) for j in range(40)), Decimal(0))
    return (x.exp() - (-x).exp()) / 2


def _chain_xi_reference(k: float, h: float) -> float:
    """1 / ln(lambda_+^2 / |2 sinh 2K|), lambda_+ = e^K cosh h + sqrt(e^(2K) sinh^2 h + e^(-2K)).

    The ratio is 1 + O(e^(-2|K|)) at strong coupling, so 2|K| digits beyond the 60 kept."""
    with localcontext() as ctx:
        ctx.prec = 60 + int(2 * abs(k))
        kk, hh = Decimal(k), Decimal(h)
        cosh_h = (hh.exp() + (-hh).exp()) / 2
        sinh_h = _sinh(hh)
        lam = kk.exp() * cosh_h + ((2 * kk).exp() * sinh_h * sinh_h + (-2 * kk).exp()).sqrt()
        det = abs(2 * _sinh(2 * kk))
        return float(1 / (lam * lam / det).ln())


# zero field: xi = -1 / ln tanh|K|, from no correlation (K -> 0) to beyond 1e260 spacings
ZERO_FIELD_COUPLINGS = [1e-9, 1e-4, 0.1, 0.4407, 1.0, 4.0, 8.0, 9.0, 10.0, 12.0, 20.0, 100.0, 300.0]


@pytest.mark.parametrize("k", ZERO_FIELD_COUPLINGS + [-k for k in ZERO_FIELD_COUPLINGS])
def test_chain_correlation_length_in_zero_field_keeps_every_digit(k):
    assert chain_correlation_length(k, 0.0) == pytest.approx(_chain_xi_reference(k, 0.0), rel=4e-16)


@pytest.mark.parametrize(
    "k, h",
    [
        # fields that overflowed sinh^2 h (|h| > 355) or sinh h (|h| > 710)
        (0.5, 356.0),
        (0.5, -1e4),
        (-0.5, 400.0),
        (-0.5, 800.0),
        (400.0, 400.0),
        (-400.0, 790.0),  # antiferromagnet: the field just beats the coupling (|h| - 2|K| = -10)
        (-400.0, 830.0),
        (2.0, 710.5),
        # small fields at strong coupling: a gap of 1e-9 keeps its digits
        (10.0, 1e-9),
        (-10.0, 1e-9),
        (10.0, 1e-6),
        # the ordinary range, both signs of K and h, on both sides of |h| = 1 and |h| - 2|K| = 20
        (0.5, 0.2),
        (1.2, -0.7),
        (-0.6, 0.4),
        (2.0, 1.5),
        (0.3, 3.0),
        (1.0, 1.0),
        (-1.0, 25.0),
        (-3.0, -19.0),
    ],
)
def test_chain_correlation_length_in_a_field_matches_the_closed_form(k, h):
    assert chain_correlation_length(k, h) == pytest.approx(_chain_xi_reference(k, h), rel=1e-14)


LARGE_FIELD_FLOWS = [(400.0, 400.0, 2), (200.0, 200.0, 2), (300.0, 400.0, 2), (-300.0, 400.0, 3), (-200.0, -500.0, 2)]


@pytest.mark.parametrize("k, h, b", LARGE_FIELD_FLOWS + [(0.5, 356.0, 3), (-0.5, -400.0, 2), (150.0, 720.0, 2)])
def test_decimate_chain_takes_fields_beyond_the_overflow_of_sinh(k, h, b):
    # F = -ln Z is invariant under decimation and ln Z / N = ln lambda_+, here max(K + |h|, -K) to
    # rounding: lambda_+ = e^K cosh h + sqrt(e^(2K) sinh^2 h + e^(-2K)) and |h|, |K| are large
    flow = decimate_chain(k, h, b=b, levels=2)
    assert flow.free_energy_per_spin == pytest.approx(flow.exact_free_energy_per_spin, rel=1e-14)
    assert flow.exact_free_energy_per_spin == pytest.approx(max(k + abs(h), -k), rel=1e-14)
    for n in range(3):
        k_n, h_n = float(flow.couplings[n]), float(flow.fields[n])
        # K_n below the smallest float (e^(-2|h|) and less) is stored as 0; its level's xi is then
        # xi_0 / b^n, the exact decimation relation (a stored 0 read xi_n = 0 up to 0.6.11)
        reference = flow.correlation_lengths[0] / b**n if k_n == 0.0 else _chain_xi_reference(k_n, h_n)
        assert flow.correlation_lengths[n] == pytest.approx(reference, rel=1e-14)


@pytest.mark.parametrize("k, h, b", [(1.0, 5.0, 2), (-1.0, 5.0, 2), (0.5, -2.0, 3), (2.0, 50.0, 2), (1.0, 200.0, 2)])
def test_flow_in_a_field_keeps_its_coupling_until_it_underflows_and_xi_shrinks_by_b(k, h, b):
    # up to 0.6.11 K_n came from a second difference of tails ~e^(-2|h_n|) and cancelled to 0 long
    # before it underflowed: (1, 5) lost K_3 ~ 5e-30 and read xi_3..6 = 0 for xi_0 / 2^n
    flow = decimate_chain(k, h, b=b, levels=6)
    xi = flow.correlation_lengths
    np.testing.assert_allclose(xi * float(b) ** np.arange(7), xi[0], rtol=1e-13)
    assert np.all(xi > 0)
    if (k, h) == (1.0, 5.0):
        assert np.all(flow.couplings != 0.0)  # K_6 ~ 1e-273 is still a float
    # each K_n from the flow agrees with its own transfer matrix: xi(K_n, h_n) = xi_0 / b^n
    for n in range(7):
        if flow.couplings[n] != 0.0:
            assert _chain_xi_reference(float(flow.couplings[n]), float(flow.fields[n])) == pytest.approx(
                xi[0] / b**n, rel=1e-12
            )


@pytest.mark.parametrize("k, h, b", LARGE_FIELD_FLOWS)
def test_one_decimation_in_a_large_field_shrinks_xi_by_b(k, h, b):
    # one new spacing is b old ones, and here K_1 is representable (not lost below 1e-308)
    flow = decimate_chain(k, h, b=b, levels=1)
    assert flow.couplings[1] != 0.0
    assert flow.correlation_lengths[1] * b == pytest.approx(flow.correlation_lengths[0], rel=1e-13)


@pytest.mark.parametrize("k, b", [(12.0, 2), (-12.0, 2), (9.0, 3), (3.0, 2), (-4.0, 3), (20.0, 5)])
def test_flow_correlation_lengths_shrink_by_b_per_level_in_zero_field(k, b):
    # xi_n = xi_0 / b^n exactly; at strong coupling the flow K_n = atanh(tanh^(b^n) K) keeps its
    # relative digits, so any loss in xi (the 1e-9 of ln(-expm1(-4K)) at K ~ 10) shows level by level
    # (at weak coupling K_n << 1 carries an absolute rounding error of the flow itself: not tested here)
    flow = decimate_chain(k, 0.0, b=b, levels=6)
    xi = flow.correlation_lengths
    assert xi[0] == pytest.approx(_chain_xi_reference(k, 0.0), rel=4e-16)
    np.testing.assert_allclose(xi * float(b) ** np.arange(7), xi[0], rtol=5e-14)


# --- the chain: magnetisation ----------------------------------------------------------------


def _chain_m_reference(temperature: float, coupling: float, field: float) -> float:
    """m = sign(H) / sqrt(1 + e^(-4 beta J) / sinh^2(beta H)) (0 in zero field), in 60 digits
    (decimal exponents reach far beyond float's, so nothing overflows or underflows)."""
    with localcontext() as ctx:
        ctx.prec = 60
        beta = 1 / Decimal(temperature)
        y = beta * Decimal(field)
        if y == 0:
            return 0.0
        sinh_y = _sinh(y)
        ratio = (-4 * beta * Decimal(coupling)).exp() / (sinh_y * sinh_y)
        return math.copysign(float(1 / (1 + ratio).sqrt()), field)


CHAIN_M_CASES = [
    # low temperature and large fields, where sinh overflowed and e^(-4 beta J) underflowed
    (0.001, 1.0, 0.0),
    (0.001, 1.0, 1.0),
    (1.0, 1.0, 800.0),
    (0.5, 1.0, -400.0),
    (0.002, 1.0, 1e-300),  # p = sinh(beta H) e^(2 beta J) = 5e-298 e^1000: saturated
    (0.0025, 1.0, 1e-300),  # e^(2 beta J) = e^800 overflows, p = 4e-298 e^800 = 0.07: not saturated
    (1e-3, 0.5, -2e-6),
    # the ordinary range
    (0.05, 0.3, 1e-8),
    (0.1, 1.0, -1e-5),
    (0.5, 1.0, 0.1),
    (1.0, 1.0, 0.3),
    (2.269, 1.0, 0.01),
    (3.0, 1.0, -0.2),
    (5.0, 2.0, 1.0),
    (30.0, 1.0, 3.0),
    (1e3, 0.3, -50.0),
]


@pytest.mark.parametrize("temperature, coupling, field", CHAIN_M_CASES)
def test_exact_chain_magnetization_matches_the_closed_form_without_warnings(temperature, coupling, field):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow / invalid-value warnings on the way
        m = exact_lattice_magnetization(temperature, 1, coupling, field)
    assert m.shape == (1,)
    assert m[0] == pytest.approx(_chain_m_reference(temperature, coupling, field), rel=1e-14, abs=1e-300)


def test_exact_chain_magnetization_of_an_array_of_temperatures():
    temps = np.array([0.001, 0.01, 0.3, 1.0, 10.0, 1e4])
    for field in (0.0, 0.05, -2.0, 900.0):
        expected = [_chain_m_reference(t, 1.0, field) for t in temps]
        np.testing.assert_allclose(exact_lattice_magnetization(temps, 1, 1.0, field), expected, rtol=1e-14, atol=0)


@pytest.mark.parametrize(
    "temperature, field",
    [(0.001, 0.0), (0.001, 1.0), (1.0, 800.0), (0.5, -400.0), (0.5, 0.1), (1.0, 0.3), (3.0, -0.2), (0.2, 0.01)],
)
def test_exact_chain_magnetization_agrees_with_bethe_on_the_chain(temperature, field):
    # Bethe with z = 2 is exact on the chain (a tree): an independent route through the cavity field
    exact = exact_lattice_magnetization(temperature, 1, 1.0, field)[0]
    assert exact == pytest.approx(bethe_magnetization(temperature, 2, 1.0, field), abs=1e-12)


# --- docs ----------------------------------------------------------------------------------


def test_variational_docstring_names_only_things_that_exist():
    # every :func: / :class: / :mod: reference of the package docstring resolves: an undotted
    # name in thermolearn.variational, a dotted one as module[.attribute]
    doc = thermolearn.variational.__doc__ or ""
    names = re.findall(r":(?:func|class|mod):`~?([\w.]+)`", doc)
    assert "thermolearn.runs.comparison.compare" in names
    for name in names:
        if "." not in name:
            assert hasattr(thermolearn.variational, name), name
            continue
        module_name, _, attribute = name.rpartition(".")
        try:
            assert importlib.import_module(name) is not None
        except ModuleNotFoundError:
            assert hasattr(importlib.import_module(module_name), attribute), name
