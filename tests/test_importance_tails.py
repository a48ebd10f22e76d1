"""The Pareto k-hat of importance weights: recovers the shape of generalised-Pareto tails, grows
with the spread of log-normal weights, and flags the weights whose error bar is too small."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import genpareto

from thermolearn.estimators import (
    PARETO_K_INFINITE_VARIANCE,
    importance_tail_problem,
    pareto_k_hat,
    pareto_k_threshold,
)


@pytest.mark.parametrize("shape", [-0.2, 0.0, 0.3, 0.5, 0.7, 1.0])
def test_k_hat_recovers_the_shape_of_a_generalised_pareto_sample(shape):
    rng = np.random.default_rng(11)
    ks = np.array([pareto_k_hat(np.log(genpareto.rvs(shape, size=4000, random_state=rng))) for _ in range(40)])
    # the fit's own spread over repeats is ~0.1 (tail of 189 points); the mean within 4 of its errors
    assert abs(ks.mean() - shape) < 4.0 * ks.std(ddof=1) / math.sqrt(ks.size) + 0.03


def test_log_normal_weights_cross_one_half_as_their_spread_grows():
    # Var(w) of log-normal weights is finite, but a finite sample's tail looks ever heavier
    rng = np.random.default_rng(12)
    k = {s: np.mean([pareto_k_hat(rng.normal(0.0, s, 4000)) for _ in range(20)]) for s in (0.5, 1.0, 2.0, 3.0)}
    assert k[0.5] < k[1.0] < k[2.0] < k[3.0]
    assert k[0.5] < 0.2 and k[3.0] > 0.8


def test_a_shift_of_every_log_weight_changes_nothing():
    log_w = np.random.default_rng(13).normal(0.0, 1.5, 3000)
    assert pareto_k_hat(log_w + 700.0) == pytest.approx(pareto_k_hat(log_w), abs=1e-9)
    assert pareto_k_hat(log_w - 700.0) == pytest.approx(pareto_k_hat(log_w), abs=1e-9)


def test_too_few_weights_or_no_tail_give_nan_and_bad_values_are_refused():
    assert math.isnan(pareto_k_hat(np.zeros(20)))  # fewer than MIN_WEIGHTS
    assert math.isnan(pareto_k_hat(np.zeros(500)))  # all equal: no tail
    assert math.isnan(pareto_k_hat(np.full(500, -np.inf)))
    with pytest.raises(ValueError, match="finite numbers or -inf"):
        pareto_k_hat(np.array([0.0] * 40 + [np.nan]))
    with pytest.raises(ValueError, match="finite numbers or -inf"):
        pareto_k_hat(np.array([0.0] * 40 + [np.inf]))


def test_the_thresholds_and_the_sentences():
    assert pareto_k_threshold(100_000) == 0.7 and pareto_k_threshold(100) == pytest.approx(0.5)
    assert importance_tail_problem(0.3, 4096) is None and importance_tail_problem(math.nan, 4096) is None
    slow = importance_tail_problem(0.6, 4096)
    assert slow is not None and "error bar is too small" in slow
    broken = importance_tail_problem(0.9, 4096)
    assert broken is not None and "cannot be trusted" in broken
    assert PARETO_K_INFINITE_VARIANCE == 0.5
