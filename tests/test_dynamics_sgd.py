"""Constant-learning-rate SGD as a sampler: its stationary variance against the exact
discrete-time theory eta B / (S A (2 - eta A)), the finite-data correction, the eta / S collapse."""

from __future__ import annotations

import math

import numpy as np
import pytest

from thermolearn.dynamics import sgd_temperature as sgd_module
from thermolearn.dynamics.sgd_temperature import run_sgd_temperature, sgd_sde_variance, sgd_stationary_variance

Z = 4.0


def test_discrete_time_theory_not_the_sde():
    r = run_sgd_temperature(1.5, 2.0, 4, 0.5, 5000, seed=1)
    assert r.reliable
    assert abs(r.variance - r.theory_variance) <= Z * r.variance_stderr
    assert r.theory_variance == pytest.approx(0.5 * 2.0 / (4 * 1.5 * (2 - 0.75)))
    assert abs(r.variance - r.sde_variance) > Z * r.variance_stderr  # eta A = 0.75: the SDE is visibly off
    assert r.excess_loss == pytest.approx(0.75 * r.variance)
    record = r.as_dict()
    assert set(record["variance"]) == {"mean", "stderr"}
    assert record["theory_variance"] == r.theory_variance and record["sde_variance"] == r.sde_variance


def test_equal_lr_over_batch_collapses():
    small = run_sgd_temperature(1.0, 1.0, 2, 0.05, 5000, seed=2)
    large = run_sgd_temperature(1.0, 1.0, 8, 0.2, 5000, seed=3)
    for r in (small, large):
        assert abs(r.variance - r.theory_variance) <= Z * r.variance_stderr
    both = math.hypot(small.variance_stderr, large.variance_stderr)
    predicted_gap = small.theory_variance - large.theory_variance  # the 2 - eta A factors only: ~ 8 %
    assert abs((small.variance - large.variance) - predicted_gap) <= Z * both
    assert small.sde_variance == pytest.approx(large.sde_variance)


def test_finite_data_without_replacement():
    n, s = 20, 10
    r = run_sgd_temperature(1.0, 1.0, s, 0.5, 2500, data_size=n, n_chains=8, seed=4)
    fresh = sgd_stationary_variance(1.0, 1.0, s, 0.5)
    assert r.theory_variance == pytest.approx(fresh * (n - s) / (n - 1))
    assert abs(r.variance - r.theory_variance) <= Z * r.variance_stderr
    assert abs(r.variance - fresh) > Z * r.variance_stderr


def test_bad_input():
    with pytest.raises(ValueError, match="larger than the data"):
        run_sgd_temperature(1.0, 1.0, 30, 0.1, 100, data_size=20)
    with pytest.raises(ValueError, match="diverges"):
        sgd_stationary_variance(2.0, 1.0, 4, 1.0)
    with pytest.raises(ValueError, match="curvature"):
        sgd_sde_variance(0.0, 1.0, 4, 0.1)


def test_checkpoint_resume_is_bit_identical(tmp_path, monkeypatch):
    kw = dict(n_chains=4, seed=5, checkpoint_every=500)
    whole = run_sgd_temperature(1.0, 1.0, 4, 0.3, 1500, checkpoint=tmp_path / "a.npz", **kw)
    real_save = sgd_module._save
    calls = []

    def save_then_die(*args):
        real_save(*args)
        calls.append(1)
        if len(calls) == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(sgd_module, "_save", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        run_sgd_temperature(1.0, 1.0, 4, 0.3, 1500, checkpoint=tmp_path / "b.npz", **kw)
    monkeypatch.setattr(sgd_module, "_save", real_save)
    resumed = run_sgd_temperature(1.0, 1.0, 4, 0.3, 1500, checkpoint=tmp_path / "b.npz", **kw)
    assert resumed.resumed_from == 500
    np.testing.assert_array_equal(resumed.series, whole.series)


def test_linear_regression_multiplicative_noise():
    r = run_sgd_temperature(1.0, 1.0, 2, 0.5, 5000, loss="linear-regression", seed=6)
    assert r.theory_variance == pytest.approx(0.5 / (2 * 1.5 - 0.5 * 2))  # eta B / (S A (2 - eta A) - 2 eta A^2)
    assert abs(r.variance - r.theory_variance) <= Z * r.variance_stderr
    additive = sgd_stationary_variance(1.0, 1.0, 2, 0.5)  # the same A and B without the curvature noise
    assert abs(r.variance - additive) > Z * r.variance_stderr
    with pytest.raises(ValueError, match="diverges in mean square"):
        sgd_stationary_variance(1.0, 1.0, 1, 0.7, loss="linear-regression")
