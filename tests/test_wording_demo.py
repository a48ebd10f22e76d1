"""The demo's verdict sentences follow from the numbers they describe: each helper that picks the words
is a pure function of numbers, checked here on both sides of every condition (no section is run)."""

from __future__ import annotations

import math

import pytest

from thermolearn.demo.boltzmann import correlation_sentence
from thermolearn.demo.hopfield import alpha_c_cell, capacity_comparison, capacity_level
from thermolearn.demo.monte_carlo import PARISI_GROUND_STATE, annealing_verdict
from thermolearn.demo.neural import van_verdict
from thermolearn.demo.pbits import chains_that_found, factoring_sentence, found_in
from thermolearn.demo.rbm import ais_raise_verdict
from thermolearn.demo.variational import against_bound
from thermolearn.demo.wording import format_seconds, plus_minus, sigmas

# --- shared formatting ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "error", "text"),
    [
        (-12.780786, 0.002939, "-12.7808 ± 0.0029"),
        (-7.15862, 0.02268, "-7.159 ± 0.023"),
        (0.2047, 0.0083, "0.2047 ± 0.0083"),
        (1.0, 0.0996, "1.00 ± 0.10"),  # the error rounds up into a new digit
        (1234.5, 567.0, "1230 ± 570"),
        (3.25, None, "3.25"),
        (3.25, 0.0, "3.25"),
        (3.25, math.nan, "3.25"),
    ],
)
def test_plus_minus_shows_two_digits_of_the_error_and_the_value_to_match(value, error, text):
    assert plus_minus(value, error) == text


def test_plus_minus_signed_marks_positive_differences():
    assert plus_minus(0.04, 0.031, signed=True) == "+0.040 ± 0.031"
    assert plus_minus(-0.04, 0.031, signed=True) == "-0.040 ± 0.031"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.0004, "0.40 ms"), (0.0042, "4.2 ms"), (0.016, "16 ms"), (0.24, "240 ms"), (1.34, "1.3 s"), (-1.0, "-")],
)
def test_format_seconds_uses_milliseconds_below_a_second(seconds, text):
    assert format_seconds(seconds) == text


def test_sigmas():
    assert sigmas(-0.04, 0.02) == pytest.approx(2.0)
    assert sigmas(0.0, 0.0) == 0.0 and sigmas(1.0, 0.0) == math.inf


# --- finding 1: AIS and RAISE ----------------------------------------------------------------------


def test_ais_raise_says_no_bracket_when_both_err_low_as_in_the_audited_run():
    # the audit: AIS -18.154, RAISE -18.141, exact -18.114 on the same 100 images
    text = ais_raise_verdict(-0.040, 0.031, -0.027, 0.028, n_images=100)
    assert "In expectation" in text
    assert "AIS errs low by 0.040 ± 0.031" in text and "opposite to its side in expectation" in text
    assert "RAISE errs low by 0.027 ± 0.028" in text
    assert "do not bracket" in text and "The two bracket" not in text


def test_ais_raise_says_bracket_when_ais_high_and_raise_low():
    text = ais_raise_verdict(0.05, 0.01, -0.2, 0.03, n_images=100)
    assert "AIS errs high" in text and "RAISE errs low" in text
    assert "The two bracket the exact value, as they should." in text
    assert "within two error bars" not in text  # 5 and 6.7 error bars off


def test_ais_raise_reversed_bracket_is_named_as_such():
    text = ais_raise_verdict(-0.05, 0.01, 0.2, 0.03, n_images=50)
    assert "first 50" in text and "opposite to its expected one" in text


# --- finding 2: annealing --------------------------------------------------------------------------

SWEEPS = (10, 30, 100, 300, 1000)


def test_annealing_verdict_on_the_audited_table_says_the_gap_does_not_shrink():
    means = {100: [-0.6730, -0.7187, -0.7386, -0.7535, -0.7602], 400: [-0.6856, -0.7073, -0.7202, -0.7276, -0.7357]}
    bests = {100: [-0.7602] * 5, 400: [-0.7098, -0.7324, -0.7336, -0.7394, -0.7394]}
    text = annealing_verdict(means, bests, SWEEPS)
    assert "approaches" not in text
    assert "does not shrink" in text and "does not show the approach" in text
    assert "+0.0031" in text and "+0.0239" in text and "0.0464" in text and "0.0184" in text
    # only N = 400's reads of the longest anneal disagree
    assert "at N = 400 the reads of the longest anneal still end at different energies" in text
    assert "Longer anneals reach lower mean energies at every N" in text


def test_annealing_verdict_when_the_gap_shrinks():
    means = {100: [-0.70, -0.74, -0.75, -0.755, -0.757], 400: [-0.70, -0.73, -0.745, -0.752, -0.758]}
    bests = {100: [-0.757] * 5, 400: [-0.758] * 5}
    text = annealing_verdict(means, bests, SWEEPS)
    assert "The gap shrinks as N grows" in text and "does not shrink" not in text


def test_annealing_verdict_notes_means_that_do_not_fall():
    means = {100: [-0.70, -0.69, -0.75, -0.755, -0.757], 400: [-0.70, -0.73, -0.745, -0.752, -0.758]}
    bests = {100: [-0.757] * 5, 400: [-0.758] * 5}
    assert "at N = 400, not at every N" in annealing_verdict(means, bests, SWEEPS)
    assert PARISI_GROUND_STATE == -0.7633


# --- finding 3: p-bits factoring -------------------------------------------------------------------


def test_factoring_counts_the_chains_that_found_the_factors():
    assert chains_that_found(31 / 32, 32) == 31
    assert found_in(31, 32, 2000) == "found in 31 of 32 chains within 2000 sweeps"
    assert "every one of its 32" in found_in(32, 32, 2000)
    assert "none of its 32" in found_in(0, 32, 2000)
    common = dict(width=3, p_bits=27, free_p_bits=19, chains=32, sweeps=2000, stationary=(0.312, 0.007))
    text = factoring_sentence(factors=[5, 7], hits=20, exact=0.321, **common)
    assert "5 &times; 7 found in 20 of 32 chains" in text and "every" not in text and "0.321" in text
    assert "exact" not in factoring_sentence(factors=[5, 7], hits=20, exact=None, **common)
    assert "found no factorisation" in factoring_sentence(factors=None, hits=0, exact=0.321, **common)


# --- finding 4: Hopfield capacity ------------------------------------------------------------------


def test_alpha_c_cell_branches_on_the_censoring_of_the_sets():
    loads = (0.05, 3.0)
    assert alpha_c_cell("hebbian", loads, ["crossed"] * 4, 0.2047, 0.0083) == "0.2047 ± 0.0083"
    assert "one set" in alpha_c_cell("hebbian", loads, ["crossed"], 0.2047, None)  # no stderr: no crash
    assert alpha_c_cell("projection", loads, ["right"] * 4, 1.0, 0.0).startswith("1 (rule's limit")
    assert alpha_c_cell("dense", loads, ["right"] * 4, None, None) == "> 3.00 (no collapse seen in any of the 4 sets)"
    # every set collapsed before the first load: an upper bound, never "no collapse seen"
    left = alpha_c_cell("hebbian", loads, ["left"] * 4, None, None, (0.0, 0.05))
    assert left.startswith("< 0.050") and "no collapse" not in left
    mixed = alpha_c_cell("storkey", loads, ["crossed", "crossed", "right", "crossed"], 0.5, 0.01, (2.0, None))
    assert "from the 3 sets that crossed" in mixed and "∞" in mixed
    only_censored = alpha_c_cell("storkey", loads, ["left", "right"], None, None, (1.5, None))
    assert "2 of 2 sets censored" in only_censored


def test_capacity_comparison_follows_the_measured_levels():
    loads = (0.05, 3.0)
    levels = {
        "hebbian": capacity_level("hebbian", loads, ["crossed"] * 4, 0.205),
        "storkey": capacity_level("storkey", loads, ["crossed"] * 4, 0.558),
        "projection": capacity_level("projection", loads, ["right"] * 4, 1.0),
        "dense": capacity_level("dense", loads, ["right"] * 4, None),
    }
    assert levels["projection"] == (1.0, False) and levels["dense"] == (3.0, True)
    text = capacity_comparison(levels)
    assert "Storkey's rule stores more" in text and "P = 3 N" in text
    levels["storkey"] = (0.1, False)
    assert "Storkey's rule stores no more" in capacity_comparison(levels)
    levels["hebbian"] = capacity_level("hebbian", loads, ["left"] * 4, None)
    assert "not compared" in capacity_comparison(levels)


# --- finding 5: variational and neural ---------------------------------------------------------------


def test_against_bound_reads_the_sign_and_the_error_bar():
    # the audited product family: 20.3994 ± 0.0056 against the mean-field bound 20.4101
    assert against_bound(20.3994, 0.0056, 20.4101).startswith("reaches the mean-field bound within two error bars")
    assert "below it" in against_bound(20.3994, 0.0056, 20.4101)
    assert against_bound(20.30, 0.006, 20.4101).startswith("stays below the mean-field bound by 0.110")
    assert against_bound(21.2341, 0.0014, 20.4101).startswith("beats the mean-field bound by 0.8240 ± 0.0014")


def test_van_verdict_says_relative_error_and_computes_the_acceptance():
    text = van_verdict(
        [7.1e-5, 8.2e-5, 4.4e-5], [0.0024, 0.0029, 0.0017], [4.6e-2, 5.8e-2, 9.4e-2], [0.985, 0.988, 0.985], [0.1, 0.27]
    )
    assert "relative error of 4.4e-05 to 8.2e-05" in text and "absolute 0.0017 to 0.0029" in text
    assert "4.6 to 9.4 per cent" in text and "fresh samples" in text and "the same samples" not in text
    assert "most proposals accepted (98 to 99 per cent)" in text and "at most 0.27, below 0.5" in text
    low = van_verdict([1e-3], [0.03], [0.05], [0.2], [0.7])
    assert "only 20 per cent of the proposals" in low and "most" not in low and "above 0.5" in low
    mixed = van_verdict([-1e-5, 2e-5], [-0.0004, 0.0008], [0.05, 0.06], [0.5, 0.6], [0.1, math.nan])
    assert "within a relative error of 1.0e-05 to 2.0e-05 of Kaufman" in mixed and "above Kaufman" not in mixed
    assert "could not be estimated" in van_verdict([1e-5], [0.0004], [0.05], [0.9], [math.nan])


# --- finding 6: two spins --------------------------------------------------------------------------


def test_correlation_sentence_names_the_zero_field_condition():
    text = correlation_sentence(2e-16, 0.25, 0.07)
    assert "h = 0" in text and "lies on the closed form tanh(J/T)" in text and "departs" in text
    assert "Even in zero field" in correlation_sentence(0.1, 0.25, 0.2)


# --- captions that carried fixed verdicts ----------------------------------------------------------


def test_sgd_caption_counts_points_off_their_curve():
    from thermolearn.demo.wording import agreement_words

    assert agreement_words([-1.1, 0.2, 1.9]).startswith("all 3 points lie within two error bars")
    assert agreement_words([-2.5, 0.2]).startswith("all 2 points lie within three error bars")
    assert agreement_words([-3.5, 0.2, 4.0]).startswith("2 of 3 points lie more than three error bars")


def test_hebbian_caption_says_fails_only_when_it_does():
    from thermolearn.demo.hopfield import hebbian_digits_words

    assert hebbian_digits_words(0, 10, 0.0).startswith("which fails")
    words = hebbian_digits_words(2, 10, 0.3)
    assert "fails" not in words and "restores 30%" in words and "2 of 10" in words


def test_slowing_down_sentence_follows_the_autocorrelation_times():
    from thermolearn.demo.monte_carlo import slowing_down_words

    slow = slowing_down_words({"metropolis": 12.6, "wolff": 1.7, "sw": 3.3})
    assert "critical slowing down" in slow and "at most 3.3" in slow
    close = slowing_down_words({"metropolis": 4.0, "wolff": 2.5, "sw": 3.0})
    assert "slowing down" not in close and "less than a factor of two" in close
