"""Seeds as an ensemble: hidden-unit alignment is exact on permuted copies, training is
reproducible and resumable, and on random features the randomised-MAP ensemble reproduces the
exact posterior predictive within its sampling error."""

from __future__ import annotations

import math

import numpy as np
import pytest

from thermolearn.dynamics import ensembles as ens_module
from thermolearn.dynamics.ensembles import (
    align_hidden_units,
    decorrelation_time,
    random_features_ensemble,
    train_ensemble,
)


def test_alignment_undoes_a_permutation():
    rng = np.random.default_rng(0)
    base = {
        "W1": rng.normal(size=(5, 6)),
        "b1": rng.normal(size=6),
        "W2": rng.normal(size=(6, 3)),
        "b2": rng.normal(size=3),
    }
    perm = rng.permutation(6)
    permuted = {"W1": base["W1"][:, perm], "b1": base["b1"][perm], "W2": base["W2"][perm], "b2": base["b2"]}
    stacked = {k: np.stack([base[k], permuted[k]]) for k in base}
    aligned = align_hidden_units(stacked)
    for k in base:
        np.testing.assert_array_equal(aligned[k][1], base[k])
    x = rng.normal(size=(4, 5))

    def f(p):
        return np.maximum(x @ p["W1"] + p["b1"], 0) @ p["W2"] + p["b2"]

    np.testing.assert_allclose(f(permuted), f(base))


def test_decorrelation_time_interpolates():
    assert decorrelation_time(np.array([1.0, 0.5, 0.2])) == pytest.approx(1 + (0.5 - math.exp(-1)) / 0.3)
    assert decorrelation_time(np.array([1.0, 0.9])) is None


def test_digits_ensemble_trains_and_resumes(tmp_path, monkeypatch):
    kw = dict(seeds=3, epochs=3, hidden=16, batch_size=50, lr=1e-2, seed=1)
    whole = train_ensemble("digits", **kw)
    assert whole.test_accuracy is not None and whole.test_accuracy.min() > 0.8
    assert np.all(whole.distance_aligned <= whole.distance_raw + 1e-12)
    real_save = ens_module._save

    def save_then_die(*args):
        real_save(*args)
        raise KeyboardInterrupt

    monkeypatch.setattr(ens_module, "_save", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        train_ensemble("digits", checkpoint=tmp_path / "ck.npz", **kw)
    monkeypatch.setattr(ens_module, "_save", real_save)
    resumed = train_ensemble("digits", checkpoint=tmp_path / "ck.npz", **kw)
    assert resumed.resumed_from == 1
    for name in whole.params:
        np.testing.assert_array_equal(resumed.params[name], whole.params[name])
    np.testing.assert_array_equal(resumed.test_loss, whole.test_loss)
    with pytest.raises(ValueError, match="larger than the data"):
        train_ensemble("digits", seeds=2, epochs=1, batch_size=5000)


def test_random_features_randomised_map_is_exact():
    members = 200
    c = random_features_ensemble(members=members, sgld_steps=2000, gd_steps=200)
    s = c.summary()["randomised MAP"]
    # members are exact posterior draws: the mean is off by ~ sd / sqrt(M), the variance by ~ sqrt(2 / (M - 1))
    assert s["mean_error_in_sd"] < 4.0 / math.sqrt(members)
    assert abs(s["variance_ratio"] - 1.0) < 4.0 * math.sqrt(2.0 / (members - 1))
    assert set(c.summary()) == {"randomised MAP", "plain seeds (GD)", "SGLD"}


def test_stationary_decorrelation_of_sgd_on_a_quadratic_is_exact():
    # SGD on (A/2) theta^2 with minibatch gradient noise: theta <- (1 - eta A) theta + eta xi, an AR(1)
    # process whose autocorrelation is (1 - eta A)^tau, so the 1/e time is -1 / ln(1 - eta A) steps
    eta, curvature, models, steps, params = 0.1, 1.0, 8, 20000, 20
    rng = np.random.default_rng(3)
    theta = np.zeros((models, params))
    traj = np.empty((models, steps, params))
    for t in range(steps):
        theta = theta - eta * (curvature * theta - rng.normal(size=theta.shape))
        traj[:, t] = theta
    d = ens_module.stationary_decorrelation(traj, start=1000, max_lag=30)
    exact = -1.0 / math.log(1.0 - eta * curvature)
    assert d.time_stderr is not None and d.time is not None
    # the window mean and trend bias C(tau) by O(tau_int / n) ~ 1e-3 here: well inside the error bar
    assert abs(d.time - exact) < 4 * d.time_stderr + 0.05
    lags = np.arange(31)
    np.testing.assert_allclose(d.autocorrelation, (1 - eta * curvature) ** lags, atol=0.02)
    with pytest.raises(ValueError, match="do not fluctuate"):
        ens_module.stationary_decorrelation(np.ones((2, 10, 3)))
