"""Bad input to the smaller public functions: a clear error naming the argument, never a silently
wrong number, a hang or an aborted interpreter (found by a fuzz of the Python API in 0.6.14; each
case below returned a wrong value, hung or crashed before)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from thermolearn import Ising
from thermolearn.learning import pseudo_likelihood
from thermolearn.models import QUBO, qubo_energy
from thermolearn.models.hopfield import classify_state
from thermolearn.number_text import power_text
from thermolearn.pbits import tv_distance
from thermolearn.quantum import extrapolate_trotter, trotter_couplings
from thermolearn.rg.mcrg import check_mcrg_plan, minimum_samples
from thermolearn.rg.receptive_fields import check_layer_sides
from thermolearn.spinglass import disorder_average, equilibration_check, overlap_distribution, systematic_resample
from thermolearn.spinglass.overlaps import binder_ratio
from thermolearn.validation import check_temperatures


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        ("2", TypeError, "numbers"),  # ran at T = 2
        (True, TypeError, "numbers"),  # ran at T = 1
        ([1 + 1j], TypeError, "complex"),  # the imaginary part was dropped with a warning
        (["a"], TypeError, "real numbers"),
        ([None], TypeError, "real numbers"),
        ([0.0, 1.0], ValueError, "finite and > 0"),
    ],
)
def test_temperatures_are_numbers(value, error, match):
    with pytest.raises(error, match=match):
        check_temperatures(value)


def test_temperatures_of_every_numeric_kind_still_pass():
    for value in (2, 2.5, [1, 2], np.array([1.0, 3.0]), np.float32(2.0), range(1, 3)):
        assert check_temperatures(value).dtype == np.float64


def test_huge_level_counts_are_refused_at_once_not_computed():
    # the message computed b ** 10^12: check_layer_sides and check_mcrg_plan never returned
    assert power_text(2, 10) == "1024" and power_text(2, 10**12) == "2^1000000000000"
    with pytest.raises(ValueError, match=r"b\^levels = 2\^1000000000000"):
        check_layer_sides(16, 2, 10**12)
    with pytest.raises(ValueError, match=r"b\^blockings = 2\^1000000000000"):
        check_mcrg_plan(8, 2, blockings=10**12)
    with pytest.raises(ValueError, match="minimum_side"):
        check_layer_sides(16, 2, 1, minimum_side=-1)
    with pytest.raises(ValueError, match="n_even"):
        minimum_samples(-1, 2)
    assert check_layer_sides(16, 2, 2) == [16, 8, 4] and minimum_samples(3, 2) == 200


def test_black_box_vi_refuses_an_evaluation_that_cannot_fit_before_allocating():
    from thermolearn.variational import black_box_vi

    # XLA aborted the interpreter (SIGABRT) on this call
    with pytest.raises(ValueError, match="n_eval = 1000000000 samples .* memory"):
        black_box_vi(Ising.lattice((3, 3)), 2.0, steps=5, batch_size=16, n_eval=10**9)


def test_pseudo_likelihood_refuses_tolerances_that_stop_it_at_the_start():
    states = np.array([[1, 1], [1, 1], [-1, -1], [1, -1]] * 10, dtype=np.int8)
    # tol = inf returned J = 0 with converged = True
    for tol in (math.inf, 0.0, -1.0, math.nan):
        with pytest.raises(ValueError, match="tol"):
            pseudo_likelihood(states, tol=tol)
    for max_iter, error in ((0, ValueError), (2.5, TypeError)):
        with pytest.raises(error, match="max_iter"):
            pseudo_likelihood(states, max_iter=max_iter)


@pytest.mark.parametrize(
    ("p", "q", "match"),
    [
        ([1.0], [0.3, 0.7], "same states"),  # broadcast to 0.5
        ([5.0, 5.0], [0.3, 0.7], "probability vector"),  # 4.5, although TV <= 1
        ([math.nan, 1.0], [0.3, 0.7], "NaN"),
        ([-0.5, 1.5], [0.3, 0.7], "probability vector"),
    ],
)
def test_tv_distance_takes_two_distributions_on_the_same_states(p, q, match):
    with pytest.raises(ValueError, match=match):
        tv_distance(p, q)


def test_tv_distance_of_distributions_is_unchanged():
    assert tv_distance([0.5, 0.5], [0.3, 0.7]) == pytest.approx(0.2, rel=1e-12, abs=0.0)


@pytest.mark.parametrize(
    ("Q", "x", "offset", "error", "match"),
    [
        ([[1.0, -2.0]], [1, 1], 0.0, ValueError, "square"),  # returned [-2.]
        (np.eye(2), [2, 1], 0.0, ValueError, "binary"),  # returned 3.0
        (np.eye(2), [1, 1, 1], 0.0, ValueError, "shape"),
        (np.eye(2), [1, 1], math.nan, ValueError, "offset"),
        ([[1.0, math.inf], [0.0, 1.0]], [1, 1], 0.0, ValueError, "NaN or infinity"),
    ],
)
def test_qubo_energy_checks_its_problem_and_states(Q, x, offset, error, match):
    with pytest.raises(error, match=match):
        qubo_energy(Q, x, offset)


def test_qubo_energy_values_are_unchanged():
    Q = np.array([[1.0, -2.0], [0.0, 3.0]])
    assert qubo_energy(Q, [[1, 0], [0, 1], [1, 1]], 0.5).tolist() == [1.5, 3.5, 2.5]
    assert QUBO(Q, 1.0).energy([1, 1]) == 3.0
    with pytest.raises(TypeError, match="offset"):
        QUBO(Q, offset=None)


@pytest.mark.parametrize(
    ("beta", "gamma", "slices", "error", "match"),
    [
        (0.0, [1.0], 4, ValueError, "beta"),  # gave K = inf
        (-1.0, [1.0], 4, ValueError, "beta"),  # NaN
        (math.nan, [1.0], 4, ValueError, "beta"),
        (1.0, [1.0], -1, ValueError, "slices"),
        (1.0, [1.0], 2.5, TypeError, "slices"),
        (1.0, [-1.0], 4, ValueError, "Gamma = -1"),  # the message said "Gamma = 0"
    ],
)
def test_trotter_couplings_refuse_what_has_no_finite_coupling(beta, gamma, slices, error, match):
    with pytest.raises(error, match=match):
        trotter_couplings(beta, np.asarray(gamma), slices)


def test_trotter_couplings_are_unchanged():
    a = 1.0 * 0.5 / 4
    assert trotter_couplings(1.0, np.array([0.5]), 4)[0] == pytest.approx(-0.5 * math.log(math.tanh(a)), rel=1e-15)


@pytest.mark.parametrize(
    ("slices", "values", "match"),
    [
        ([4, 8], [math.nan, 1.0], "values contains NaN"),  # an all-NaN fit, silently
        ([0, 8], [1.0, 1.1], "Trotter numbers"),  # LAPACK printed an illegal value, then LinAlgError
        ([4, math.inf], [1.0, 1.1], "slices contains NaN"),
        ([[4, 8]], [1.0, 1.1], "1D"),
        ([4, 4], [1.0, 1.1], "at least two different"),
    ],
)
def test_trotter_extrapolation_refuses_values_it_cannot_fit(slices, values, match):
    with pytest.raises(ValueError, match=match):
        extrapolate_trotter(slices, values)


def test_overlap_averages_need_a_spin_count():
    q = [np.array([0.5, -0.5, 0.25]), np.array([0.75, 0.5, -0.25])]
    # chi_sg = N <q^2> came out -0.108 for n_spins = -1
    for n_spins, error in ((-1, ValueError), (0, ValueError), (2.5, TypeError)):
        with pytest.raises(error, match="n_spins"):
            disorder_average(q, n_spins)
        with pytest.raises(error, match="n_spins"):
            overlap_distribution(q[0], n_spins)
    assert disorder_average(q, 4).chi_sg[0] == pytest.approx(4 * np.mean([np.mean(x**2) for x in q]), rel=1e-12)
    with pytest.raises(ValueError, match="non-empty"):
        binder_ratio([])


@pytest.mark.parametrize(
    ("weights", "u", "match"),
    [
        ([0.0, 0.0, 0.0], 0.5, "not all 0"),  # gave [0 0 0]
        ([1.0, -1.0, 1.0], 0.5, ">= 0"),
        ([1.0, math.nan, 1.0], 0.5, "NaN"),
        ([], 0.5, "non-empty"),
        ([1.0, 1.0, 1.0], 5.0, r"\[0, 1\)"),  # gave [2 2 2]
        ([1.0, 1.0, 1.0], math.nan, "u must be a finite"),
    ],
)
def test_systematic_resampling_needs_weights_and_a_uniform_draw(weights, u, match):
    with pytest.raises(ValueError, match=match):
        systematic_resample(np.asarray(weights, dtype=float), u)


def test_systematic_resampling_is_unchanged():
    assert systematic_resample(np.array([1.0, 2.0, 1.0]), 0.5).tolist() == [0, 1, 2]


def test_equilibration_and_recall_thresholds_are_checked():
    with pytest.raises(ValueError, match="z_max"):
        equilibration_check(np.arange(32.0), z_max=math.nan)  # was always "not equilibrated"
    patterns = np.array([[1, 1, -1, -1], [1, -1, 1, -1]], dtype=np.int8)
    state = np.array([1, 1, 1, 1], dtype=np.int8)
    # threshold -1 called this state a pattern, NaN spurious
    for threshold, error in ((-1.0, ValueError), (math.nan, ValueError), (5.0, ValueError), ("1", TypeError)):
        with pytest.raises(error, match="threshold"):
            classify_state(state, patterns, threshold)
    assert classify_state(patterns[0], patterns, 0.9)[0] == "pattern"


def test_seeds_beyond_int64_give_a_key_and_small_seeds_keep_theirs():
    import jax

    from thermolearn.randomness.seeds import jax_key

    # PRNGKey raised OverflowError for 2^70 (black_box_vi, train_rbm, train_van, ... with such a seed)
    assert np.asarray(jax.random.key_data(jax_key(2**70))).shape == (2,)
    for seed in (0, 1, 12345, 2**31):
        assert np.array_equal(np.asarray(jax.random.key_data(jax_key(seed))), np.asarray(jax.random.PRNGKey(seed)))


def test_capacity_curve_checks_its_seed_before_the_job():
    from thermolearn.learning import capacity_curve

    for seed, error in ((-1, ValueError), ([1, 2], TypeError), (1.5, TypeError)):
        with pytest.raises(error, match="seed"):
            capacity_curve(20, seed=seed)


def test_circuit_bit_groups_refuse_values_they_cannot_hold():
    from thermolearn.pbits import bits_of, multiplier, ripple_carry_adder, value_of

    names = ["a0", "a1", "a2"]
    assert bits_of(5, names) == {"a0": 1, "a1": 0, "a2": 1}
    for value in (8, -1):  # cut to the low bits: all zeros, all ones
        with pytest.raises(ValueError, match="does not fit"):
            bits_of(value, names)
    assert value_of(np.array([[1, -1, 1], [-1, -1, 1]]), np.array([0, 2])).tolist() == [3, 2]
    with pytest.raises(ValueError, match="spins"):
        value_of(np.array([[2, 0, 1]]), np.array([0, 2]))
    with pytest.raises(ValueError, match="indices"):
        value_of(np.array([[1, -1, 1]]), np.array([0, 5]))
    # these built gate names for 10^12 bits: they hung
    with pytest.raises(ValueError, match="width"):
        ripple_carry_adder(10**12)
    with pytest.raises(ValueError, match="width_p \\+ width_q"):
        multiplier(2, 10**9)


def test_small_helpers_refuse_values_that_gave_plausible_wrong_answers():
    from thermolearn.datasets import gaussian_mixture_log_density
    from thermolearn.dynamics import rbm_parameter_count
    from thermolearn.estimators import pareto_k_threshold
    from thermolearn.exact import state_index_to_spins
    from thermolearn.quantum import spin_table

    x = np.zeros((1, 2))
    with pytest.raises(ValueError, match="std"):
        gaussian_mixture_log_density(x, std=-1.0)  # gave the density of std = 1
    with pytest.raises(ValueError, match="radius"):
        gaussian_mixture_log_density(x, radius=math.nan)
    with pytest.raises(ValueError, match="within"):
        gaussian_mixture_log_density(x, radius=1e300)  # math domain error
    assert np.isfinite(gaussian_mixture_log_density(x)).all()
    assert state_index_to_spins(np.array([5]), 3).tolist() == [[1, -1, 1]]
    for indices, n_spins, error in (
        ([8], 3, ValueError),
        ([-1], 3, ValueError),
        ([1.7], 3, TypeError),
        ([1], 64, ValueError),
    ):
        with pytest.raises(error, match="indices|n_spins"):
            state_index_to_spins(np.array(indices), n_spins)  # (8, 3) read [-1, -1, -1]
    with pytest.raises(TypeError, match="n_spins"):
        spin_table(2.5)  # gave a (6, 3) table
    with pytest.raises(ValueError, match="n_visible"):
        rbm_parameter_count(-6, 3)  # -21
    with pytest.raises(ValueError, match="n_samples"):
        pareto_k_threshold(0)


def _wrong_model_calls():
    from thermolearn.exact import choose_method, solve
    from thermolearn.pbits import asynchronous_distribution, boltzmann_distribution
    from thermolearn.samplers import checkerboard_order
    from thermolearn.spinglass import exact_ground_energy
    from thermolearn.spinglass.overlaps import link_overlap

    spins = np.ones((1, 4), dtype=np.int8)
    return {
        "choose_method": lambda m: choose_method(m),
        "solve": lambda m: solve(m, 1.0),
        "checkerboard_order": lambda m: checkerboard_order(m),
        "exact_ground_energy": lambda m: exact_ground_energy(m),
        "link_overlap": lambda m: link_overlap(spins, spins, m),
        "boltzmann_distribution": lambda m: boltzmann_distribution(m, 1.0),
        "asynchronous_distribution": lambda m: asynchronous_distribution(m, 1.0, 0.5),
    }


@pytest.mark.parametrize("name", sorted(_wrong_model_calls()))
@pytest.mark.parametrize("model", [None, "model.npz", 4, {"J": 1}])
def test_a_wrong_object_for_a_model_is_a_type_error_naming_it(name, model):
    # these failed deep inside with AttributeError ('str' object has no attribute 'n_spins')
    with pytest.raises(TypeError, match="model must be a thermolearn.Ising"):
        _wrong_model_calls()[name](model)


def test_p_bit_helpers_name_a_wrong_run_gate_or_clamps():
    from thermolearn.pbits import clamp, run_gate, total_variation, tv_noise_floor

    for call, match in (
        (lambda: total_variation("run", np.ones(4) / 4), "run must be a PBitRun"),
        (lambda: tv_noise_floor(None), "run must be a PBitRun"),
        (lambda: run_gate(3), "gate must be a Gate"),
        (lambda: clamp(Ising.lattice((2, 2)), [1]), "clamps must be a mapping"),
    ):
        with pytest.raises(TypeError, match=match):
            call()  # AttributeError from inside before


def test_block_counts_that_contradict_each_other_are_named_as_a_pair():
    from thermolearn.estimators import choose_block_size

    # the message read "max_blocks must be an integer >= 10^12, got 1000"
    with pytest.raises(ValueError, match=r"min_blocks \(1000000000000\) must not exceed max_blocks \(1000\)"):
        choose_block_size(1000, 3.0, min_blocks=10**12, max_blocks=1000)


def test_sizes_that_cannot_fit_are_refused_from_an_estimate_not_a_memory_error():
    from thermolearn.estimators.ais import ais_schedule
    from thermolearn.learning.contrastive_divergence import TrainingHistory
    from thermolearn.rg import mk_flow
    from thermolearn.samplers import geometric_ladder

    # each allocated first and raised MemoryError (or numpy's "array is too big")
    for call in (
        lambda: geometric_ladder(1.0, 2.0, 10**12),
        lambda: ais_schedule(10**12),
        lambda: TrainingHistory.empty(10**12, 1),
        lambda: mk_flow(0.3, "square", 2, steps=10**12),
    ):
        with pytest.raises(ValueError, match="memory"):
            call()
    assert geometric_ladder(1.0, 2.0, 3).tolist() == pytest.approx([1.0, 2**0.5, 2.0], rel=1e-15)
