"""Factorisation by a p-bit multiplier run backwards, against exact enumeration
(thermolearn.pbits.factoring)."""

from __future__ import annotations

import numpy as np
import pytest

from thermolearn.exact import probability_table, state_index_to_spins
from thermolearn.pbits.circuit import value_of
from thermolearn.pbits.clamping import clamp
from thermolearn.pbits.factoring import (
    default_width,
    exact_stationary_success,
    factor,
    factoring_circuit,
    nontrivial_factorisations,
    wilson_interval,
)


def test_exact_success_probability_of_35_agrees_with_a_direct_probability_table():
    circuit, clamps, width = factoring_circuit(35)
    assert width == 3 and circuit.n_pbits == 27
    model = circuit.model(0.5)
    reduced = clamp(model, circuit.clamps(clamps))
    assert reduced.model.n_spins == 19  # 27 - 6 product bits - p0 - q0
    p, _ = probability_table(reduced.model, 1.0)
    full = reduced.expand(state_index_to_spins(np.arange(p.size), reduced.model.n_spins))
    a = value_of(full, circuit.indices(circuit.groups["p"]))
    b = value_of(full, circuit.indices(circuit.groups["q"]))
    direct = p[(a * b == 35) & (a > 1) & (b > 1)].sum()
    assert exact_stationary_success(circuit, clamps, 35, 0.5) == pytest.approx(direct, rel=1e-9)


def test_factoring_35_visits_5_x_7_as_often_as_enumeration_says():
    r = factor(35, i0=0.5, n_sweeps=4000, n_chains=16, seed=1)
    assert r.factors == [5, 7]
    assert r.stationary_probability_exact is not None
    est = r.stationary_probability
    assert abs(est.mean - r.stationary_probability_exact) < 4 * est.stderr
    # negative control: the exact value at another I0 is detectably not what was sampled
    circuit, clamps, _ = factoring_circuit(35)
    other = exact_stationary_success(circuit, clamps, 35, 0.6)
    assert other is not None and abs(est.mean - other) > 4 * est.stderr
    assert r.success_probability.mean == 1.0
    assert np.all(np.diff(r.curve_success) >= 0) and r.curve_sweeps[-1] == 4000
    assert np.all((r.curve_low <= r.curve_success) & (r.curve_success <= r.curve_high))


def test_factoring_143_finds_11_x_13_in_most_chains():
    r = factor(143, i0=0.5, n_sweeps=1500, n_chains=16, seed=2, exact=False)
    assert r.factors == [11, 13] and r.p_bits == 48 and r.free_p_bits == 38
    # a chain that samples the clamped multiplier finds the ground state well within 1500 sweeps
    low, _ = wilson_interval(round(r.success_probability.mean * 16), 16)
    assert low > 0.5
    assert r.stationary_probability_exact is None or r.free_p_bits <= 30


def test_factorisations_and_widths():
    assert nontrivial_factorisations(945, 6) == [(15, 63), (21, 45), (27, 35)]
    assert default_width(35) == 3 and default_width(945) == 6 and default_width(4) == 2
    lo, hi = wilson_interval(0, 10)
    assert lo == 0 and 0.2 < hi < 0.35  # the rule of three is ~0.3 at 95%


@pytest.mark.parametrize(
    ("n", "width", "message"),
    [
        (37, None, "N = 37 is prime"),
        (35, 2, "does not fit the width"),
        (14, 2, "has no factorisation p q with 1 < p, q < 2\\^2"),
        (3, None, "N must be an integer >= 4"),
        (35, 40, "width must be an integer in 2..31"),
    ],
)
def test_bad_factoring_targets_are_refused(n, width, message):
    with pytest.raises(ValueError, match=message):
        factor(n, width=width, n_sweeps=10)


def test_i0_that_freezes_pbits_is_refused_as_non_ergodic():
    with pytest.raises(ValueError, match="not ergodic; use i0 <="):
        factor(945, i0=1.0, n_sweeps=10)
