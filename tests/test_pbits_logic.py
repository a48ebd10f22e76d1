"""Invertible logic with p-bits: the truth-table compiler, the gate library, circuits and clamped
runs, against exact enumeration (thermolearn.pbits.logic, gates, circuit, invertible)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from thermolearn import Ising
from thermolearn.exact import state_index_to_spins
from thermolearn.pbits.circuit import Circuit, multiplier, ripple_carry_adder, value_of
from thermolearn.pbits.clamping import clamp
from thermolearn.pbits.gates import GATE_NAMES, gate, truth_table
from thermolearn.pbits.invertible import run_gate
from thermolearn.pbits.logic import TruthTable, compile_truth_table, gate_from_couplings


def and_p_valid(i0: float) -> float:
    """Camsari et al. 2017: three invalid rows at gap 4, one at gap 12."""
    return 4 / (4 + 3 * math.exp(-4 * i0) + math.exp(-12 * i0))


@pytest.mark.parametrize(
    ("name", "n_aux", "gap"), [("and", 0, 4), ("or", 0, 4), ("xor", 1, 2), ("half-adder", 0, 2), ("full-adder", 0, 2)]
)
def test_compiler_finds_the_library_gates_largest_gap_and_needs_an_aux_pbit_only_for_xor(name, n_aux, gap):
    compiled = compile_truth_table(truth_table(name), name=name, max_coupling=2.0)
    assert len(compiled.aux) == n_aux
    assert compiled.gap == pytest.approx(gap, abs=1e-7)
    library = gate(name)
    assert library.gap == pytest.approx(compiled.gap, abs=1e-7)
    assert library.ground_energy == pytest.approx(compiled.ground_energy, abs=1e-7)


def test_xor_has_no_pairwise_gate_without_an_auxiliary_pbit():
    with pytest.raises(ValueError, match="no \\[J, h\\] with a positive gap using up to 0 auxiliary"):
        compile_truth_table(truth_table("xor"), max_aux=0)


def test_compiled_gate_ground_states_are_exactly_the_table_rows():
    table = TruthTable.from_function(("A", "B", "C"), ("Y",), lambda a, b, c: (a & b) | c)
    g = compile_truth_table(table, name="ao")
    n = g.n_pbits
    states = state_index_to_spins(np.arange(2**n), n)
    energies = np.asarray(g.model().energy(states))
    ground = energies < g.ground_energy + 1e-9
    assert set(map(tuple, states[ground, :4].tolist())) == set(map(tuple, table.spins().tolist()))
    assert energies[~ground].min() == pytest.approx(g.ground_energy + g.gap)


def test_wrong_couplings_are_refused_by_enumeration():
    with pytest.raises(ValueError, match="do not implement and"):
        gate_from_couplings("and", truth_table("and"), np.zeros((3, 3)), np.zeros(3))


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([[0, 0], [0, 1], [1, 1]], "not a function: inputs \\{'A': 0\\} have two outputs"),
        ([[0, 0]], "'A': 1\\} is missing"),
        ([[0, 2], [1, 1]], "rows must be an"),
    ],
)
def test_a_truth_table_that_is_not_a_function_is_refused(rows, message):
    with pytest.raises(ValueError, match=message):
        TruthTable(("A",), ("Y",), np.array(rows))


@pytest.mark.parametrize("i0", [0.25, 0.5, 1.0])
def test_and_gate_exact_p_valid_is_4_over_4_plus_3e4i0_plus_e12i0(i0):
    r = run_gate("and", i0=i0, n_sweeps=20, n_chains=2, seed=0)
    assert r.p_valid_exact == pytest.approx(and_p_valid(i0), rel=1e-12)


@pytest.mark.parametrize("update", ["sequential", "chromatic"])
def test_free_and_gate_p_valid_and_distribution_match_enumeration(update):
    r = run_gate("and", i0=0.5, update=update, n_sweeps=20_000, n_chains=8, seed=1)
    assert abs(r.p_valid.mean - and_p_valid(0.5)) < 4 * r.p_valid.stderr
    assert r.tv_distance.mean < r.tv_noise_floor + 4 * r.tv_distance.stderr
    # negative control: the law at a 20% different I0 is detectably not what was sampled
    assert abs(r.p_valid.mean - and_p_valid(0.6)) > 4 * r.p_valid.stderr


def test_synchronous_and_gate_loses_most_of_its_validity_and_matches_its_own_exact_law():
    r = run_gate("and", i0=0.5, update="synchronous", n_sweeps=20_000, n_chains=8, seed=2)
    assert abs(r.p_valid.mean - r.p_valid_exact) < 4 * r.p_valid.stderr
    assert r.p_valid_boltzmann - r.p_valid.mean > 10 * r.p_valid.stderr


def test_forward_and_gate_computes_its_output_with_the_exact_probability():
    i0 = 0.5
    r = run_gate("and", i0=i0, n_sweeps=20_000, n_chains=8, seed=3, clamps={"A": 1, "B": 1})
    exact = 1 / (1 + math.exp(-4 * i0))  # C = 1 at E0, C = 0 at gap 4
    assert r.visible == ("C",)
    assert r.p_valid_exact == pytest.approx(exact, rel=1e-12)
    assert abs(r.p_valid.mean - exact) < 4 * r.p_valid.stderr


def test_inverted_and_gate_samples_the_three_consistent_inputs_equally():
    i0 = 1.0
    r = run_gate("and", i0=i0, n_sweeps=20_000, n_chains=8, seed=4, clamps={"C": 0})
    # A, B free: (0,0), (1,0), (0,1) at E0 each; (1,1) costs 4 with C = 0 clamped
    exact = np.array([1, 1, 1, math.exp(-4 * i0)]) / (3 + math.exp(-4 * i0))
    np.testing.assert_allclose(r.exact, exact, rtol=1e-12)
    assert r.tv_distance.mean < r.tv_noise_floor + 4 * r.tv_distance.stderr
    assert abs(r.p_valid.mean - exact[:3].sum()) < 4 * r.p_valid.stderr


def test_inverted_full_adder_samples_every_input_with_the_clamped_sum():
    r = run_gate(
        "full-adder", i0=1.5, update="chromatic", n_sweeps=20_000, n_chains=8, seed=5, clamps={"S": 1, "Cout": 0}
    )
    valid = [code for code in range(8) if bin(code).count("1") == 1]  # exactly one input bit set
    np.testing.assert_allclose(r.exact[valid], r.exact[valid][0], rtol=1e-12)
    assert r.tv_distance.mean < r.tv_noise_floor + 4 * r.tv_distance.stderr
    assert abs(r.p_valid.mean - r.p_valid_exact) < 4 * r.p_valid.stderr


def test_clamping_absorbs_fixed_pbits_into_fields_with_the_exact_energy_offset():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(6, 6))
    model = Ising.from_dense(np.triu(A, 1) + np.triu(A, 1).T, rng.normal(size=6))
    c = clamp(model, {1: -1, 4: 1, 5: 1})
    free_states = state_index_to_spins(np.arange(8), 3)
    np.testing.assert_allclose(model.energy(c.expand(free_states)), c.model.energy(free_states) + c.offset)
    with pytest.raises(ValueError, match="must be a spin \\+1 or -1"):
        clamp(model, {0: 0})


def test_ripple_carry_adder_ground_states_are_all_sums():
    c = ripple_carry_adder(2)
    n = c.n_pbits
    states = state_index_to_spins(np.arange(2**n), n)
    energies = np.asarray(c.model().energy(states))
    ground = states[energies < c.ground_energy + 1e-9]
    assert len(ground) == 16 and energies.min() == pytest.approx(c.ground_energy)
    a, b, s = (value_of(ground, c.indices(c.groups[k])) for k in "abs")
    assert np.all(a + b == s)
    assert np.all(c.consistent(ground))


def test_multiplier_ground_states_are_all_products():
    c = multiplier(2, 2)
    n = c.n_pbits
    states = state_index_to_spins(np.arange(2**n), n)
    energies = np.asarray(c.model().energy(states))
    ground = energies < c.ground_energy + 1e-9
    assert ground.sum() == 16
    np.testing.assert_array_equal(ground, c.consistent(states))
    p, q, z = (value_of(states[ground], c.indices(c.groups[k])) for k in "pqz")
    assert np.all(p * q == z)
    assert energies[~ground].min() >= c.ground_energy + c.gap - 1e-9


def test_circuit_errors_name_the_terminal_or_pbit():
    c = Circuit()
    with pytest.raises(ValueError, match="missing \\['C'\\]"):
        c.add("and", A="x", B="y")
    with pytest.raises(ValueError, match="gate must be one of and, or, xor"):
        c.add("nand", A="x", B="y", C="z")
    c.add("and", A="x", B="y", C="z")
    with pytest.raises(ValueError, match="no p-bit named 'w'"):
        c.clamps({"w": 1})
    with pytest.raises(ValueError, match="must be the bit 0 or 1"):
        c.clamps({"x": 2})
    assert set(GATE_NAMES) == {"and", "or", "xor", "half-adder", "full-adder"}
