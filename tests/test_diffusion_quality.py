"""Sample-quality checks: they pass for the right distribution and fail for a wrong one."""

from __future__ import annotations

import numpy as np
import pytest

from thermolearn.datasets import load_dataset, swiss_roll, two_moons
from thermolearn.diffusion import energy_distance, nearest_neighbour_check, one_nn_accuracy, two_sample_check


def fresh_roll(n, seed):
    return swiss_roll(n, seed=seed)


def test_energy_distance_is_zero_for_identical_laws_and_positive_otherwise():
    a, b = swiss_roll(800, seed=1), swiss_roll(800, seed=2)
    same = energy_distance(a, b)
    different = energy_distance(a, two_moons(800, seed=3))
    assert abs(same) < 0.01 < different
    assert energy_distance(a, a + 1.0) > 0.5
    with pytest.raises(ValueError):
        energy_distance(a, np.zeros((5, 3)))


def test_two_sample_check_passes_for_fresh_data_from_the_same_distribution():
    res = two_sample_check(swiss_roll(600, seed=123), fresh_roll, n_reference=10, seed=0)
    assert res.passed and res.p_value > 0.05
    assert set(res.as_dict()) >= {"statistic", "threshold", "passed", "p_value"}


@pytest.mark.parametrize(
    "wrong",
    [
        lambda n: two_moons(n, seed=5),  # another shape
        lambda n: swiss_roll(n, noise=1.0, seed=5),  # the right shape, blurred
        lambda n: 1.15 * swiss_roll(n, seed=5),  # the right shape, scaled by 15%
    ],
)
def test_two_sample_check_fails_for_a_wrong_distribution(wrong):
    res = two_sample_check(wrong(600), fresh_roll, n_reference=10, seed=0)
    assert not res.passed


def test_nearest_neighbour_check_on_digits():
    train = load_dataset("digits").data
    held = load_dataset("digits", split="test").data
    rng = np.random.default_rng(0)
    real = held[:100]  # stand-in for good samples: real held-out digits
    ok = nearest_neighbour_check(real, held[100:], train, seed=0)
    assert ok.passed and ok.copy_ratio > 0.7
    noise = rng.uniform(-1, 1, size=(100, 64))  # clearly not digits
    bad = nearest_neighbour_check(noise, held, train, seed=0)
    assert not bad.passed and bad.accuracy > 0.9
    copies = nearest_neighbour_check(train[:100], held, train, seed=0)  # memorised training images
    assert copies.copy_ratio < 1e-6
    with pytest.raises(ValueError, match="held_out"):
        nearest_neighbour_check(real, held[:150], train)


def test_nearest_neighbour_check_averages_over_splits():
    train = load_dataset("digits").data
    held = load_dataset("digits", split="test").data
    one = nearest_neighbour_check(held[:100], held[100:], train, repeats=1, seed=3)
    many = nearest_neighbour_check(held[:100], held[100:], train, repeats=12, seed=3)
    assert one.repeats == 1 and one.accuracy_stderr == 0.0
    assert many.repeats == 12 and many.accuracy_stderr > 0 and many.reference_stderr > 0
    # real images against real images: both averages sit near 1/2, far closer than one split's noise
    assert abs(many.accuracy - 0.5) < 0.1 and abs(many.reference_accuracy - 0.5) < 0.1
    assert many.threshold == pytest.approx(many.reference_accuracy + 0.1)
    d = many.as_dict()
    assert d["repeats"] == 12 and set(d) >= {"accuracy", "accuracy_stderr", "reference_accuracy", "threshold", "passed"}
    with pytest.raises(ValueError, match="repeats"):
        nearest_neighbour_check(held[:100], held[100:], train, repeats=0)


def test_one_nn_accuracy_extremes():
    a = np.zeros((20, 2)) + np.random.default_rng(0).normal(size=(20, 2)) * 1e-3
    b = a + 10.0
    assert one_nn_accuracy(a, b) == 1.0
