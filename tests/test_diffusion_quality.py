"""Sample-quality checks: they pass for the right distribution and fail for a wrong one."""

from __future__ import annotations

import math

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
    res = two_sample_check(swiss_roll(600, seed=123), fresh_roll, n_reference=20, seed=0)
    assert res.passed and res.p_value > 0.05
    assert set(res.as_dict()) >= {"statistic", "threshold", "passed", "p_value", "level"}


def gaussian_2d(n, seed):
    return np.random.default_rng(seed).normal(size=(n, 2))


def test_two_sample_check_fails_good_samples_at_most_at_its_level():
    """Samples from the data's own law: false failures at most level (exactly 1/21 with 20 references),
    and the verdict is always p_value > level (the statistic never passes with p <= level or fails above)."""
    runs = 1000
    results = [two_sample_check(gaussian_2d(40, 10**6 + k), gaussian_2d, seed=k) for k in range(runs)]
    rate = np.mean([not r.passed for r in results])
    stderr = math.sqrt(0.05 * 0.95 / runs)
    assert rate <= 0.05 + 3 * stderr  # the old 95% quantile of 20 references failed 2/21 = 9.5%
    assert rate >= 0.05 / 2  # ... and the check can fail
    assert all(r.passed == (r.p_value > r.level) for r in results)
    assert all(r.passed == (r.statistic <= r.threshold) for r in results)


def test_two_sample_check_refuses_a_level_it_cannot_reach():
    # with 10 references the smallest p-value, 1/11, is above 0.05: the check could never fail
    with pytest.raises(ValueError, match="n_reference >= 19"):
        two_sample_check(swiss_roll(50, seed=1), fresh_roll, n_reference=10)
    assert two_sample_check(swiss_roll(50, seed=1), fresh_roll, n_reference=10, level=0.1).level == 0.1
    with pytest.raises(ValueError, match="level"):
        two_sample_check(swiss_roll(50, seed=1), fresh_roll, level=1.5)


@pytest.mark.parametrize(
    "wrong",
    [
        lambda n: two_moons(n, seed=5),  # another shape
        # the right shape, blurred across its windings (the energy distance, a global statistic,
        # hardly sees a blur within them: noise 1.0 fails only about 1 in 3 sets of 600 points)
        lambda n: swiss_roll(n, noise=4.0, seed=5),
        lambda n: 1.15 * swiss_roll(n, seed=5),  # the right shape, scaled by 15%
    ],
)
def test_two_sample_check_fails_for_a_wrong_distribution(wrong):
    res = two_sample_check(wrong(600), fresh_roll, n_reference=20, seed=0)
    assert not res.passed and res.p_value <= 0.05


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
    assert one.repeats == 1 and math.isnan(one.accuracy_stderr) and math.isnan(one.reference_stderr)
    assert many.repeats == 12 and many.accuracy_stderr > 0 and many.reference_stderr > 0
    # real images against real images: both averages sit near 1/2, far closer than one split's noise
    assert abs(many.accuracy - 0.5) < 0.1 and abs(many.reference_accuracy - 0.5) < 0.1
    assert many.threshold == pytest.approx(many.chance + 0.1) and many.chance == pytest.approx(99 / 199)
    d = many.as_dict()
    assert d["repeats"] == 12 and set(d) >= {"accuracy", "accuracy_stderr", "reference_accuracy", "threshold", "passed"}
    assert set(d) >= {"sample_accuracy", "real_accuracy", "chance", "deviation", "p_value", "level", "permutations"}
    with pytest.raises(ValueError, match="repeats"):
        nearest_neighbour_check(held[:100], held[100:], train, repeats=0)


def test_one_nn_accuracy_extremes():
    a = np.zeros((20, 2)) + np.random.default_rng(0).normal(size=(20, 2)) * 1e-3
    b = a + 10.0
    assert one_nn_accuracy(a, b) == 1.0


def test_nearest_neighbour_check_fails_samples_spread_far_from_the_data():
    """Noise far from every digit: each sample's neighbour is a real image (samples score 0), each real
    image's is real (1). The pooled accuracy is 1/2, a perfect score; each class on its own is not."""
    train = load_dataset("digits").data
    held = load_dataset("digits", split="test").data
    noise = np.random.default_rng(0).normal(0.0, 3.0, size=(100, 64))
    res = nearest_neighbour_check(noise, held, train, seed=0)
    assert res.accuracy == pytest.approx(0.5, abs=0.02)  # what the old verdict looked at
    assert res.sample_accuracy < 0.05 and res.real_accuracy > 0.95
    assert res.p_value <= 0.05 and res.deviation > 0.4
    assert not res.passed


def test_nearest_neighbour_check_fails_good_samples_at_most_at_its_level():
    """Samples from the data's own law (Gaussians here), no margin: the permutation test fails them
    with probability level; samples shifted by 3 standard deviations fail every time."""
    runs, level = 600, 0.1

    def failure_rate(shift: float, count: int) -> float:
        fails = []
        for k in range(count):
            rng = np.random.default_rng([7, k])
            samples = rng.normal(size=(20, 5))
            samples[:, 0] += shift
            held = rng.normal(size=(60, 5))
            res = nearest_neighbour_check(
                samples, held, held[:5], seed=k, margin=0.0, level=level, permutations=39, repeats=3
            )
            assert res.passed == (res.p_value > level)
            fails.append(not res.passed)
        return float(np.mean(fails))

    rate = failure_rate(0.0, runs)
    stderr = math.sqrt(level * (1 - level) / runs)
    assert level / 2 <= rate <= level + 3 * stderr
    assert failure_rate(3.0, 50) == 1.0


def test_nearest_neighbour_check_margin_and_arguments():
    train = load_dataset("digits").data
    held = load_dataset("digits", split="test").data
    noise = np.random.default_rng(0).normal(0.0, 3.0, size=(100, 64))
    # a margin as wide as the deviation forgives it, however significant
    assert nearest_neighbour_check(noise, held, train, margin=0.6, seed=0).passed
    with pytest.raises(ValueError, match="permutations >= 19"):
        nearest_neighbour_check(noise, held, train, permutations=10)
    with pytest.raises(ValueError, match="margin"):
        nearest_neighbour_check(noise, held, train, margin=-0.1)
    with pytest.raises(ValueError, match="at least 2 rows"):
        nearest_neighbour_check(noise[:1], held, train)
