"""Error bars that say what they know, on cases with exact answers.

- :func:`stationary_decorrelation` on exact AR(1) trajectories (SGD on a quadratic: C(t) = a^t,
  decorrelation time -1 / ln a): removing each window's mean and trend biases C(t) low by
  O(tau / n); the reported time undoes that bias, and a window too short for the correction to
  be trusted is flagged, its error bar including the bias.
- SGD on the linear-regression loss: theta is heavy-tailed (Kesten), theta^4 has a finite mean
  only while E[(1 - eta h)^4] < 1; beyond that the variance has no finite error bar and says so.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

from thermolearn.dynamics import ensembles as ens_module
from thermolearn.dynamics import sgd_temperature as sgd_module
from thermolearn.dynamics.ensembles import stationary_decorrelation
from thermolearn.dynamics.sgd_temperature import (
    run_sgd_temperature,
    sgd_finite_error_lr,
    sgd_fourth_moment_factor,
    sgd_stationary_variance,
)


def _ar1(a: float, models: int, times: int, params: int, seed: int) -> np.ndarray:
    """Stationary AR(1) x(t + 1) = a x(t) + xi: SGD on a quadratic with 1 - eta A = a."""
    rng = np.random.default_rng(seed)
    x = np.empty((models, times, params))
    x[:, 0] = rng.normal(size=(models, params)) / math.sqrt(1.0 - a * a)
    for t in range(1, times):
        x[:, t] = a * x[:, t - 1] + rng.normal(size=(models, params))
    return x


def _stat_error(per_model: list[float | None]) -> float:
    times = np.array(per_model, dtype=float)
    return float(np.std(times, ddof=1) / math.sqrt(times.size))


# ---------------------------------------------------------------------------- D2: decorrelation
@pytest.mark.parametrize("detrend", [True, False])
def test_windowed_expectation_and_its_inversion_are_exact(detrend):
    # E[C(tau)] of the windowed estimator for C = exp(-tau / T): the dense P Gamma P (P removes the
    # window mean and line) against the O(n log n) form, then the time read back from it is T
    for n in (7, 11, 40):
        time = 2.5
        i = np.arange(n)
        gamma = np.exp(-np.abs(i[:, None] - i[None, :]) / time)
        u = ens_module._window_basis(n, detrend)
        p = np.eye(n) - u @ u.T
        m = p @ gamma @ p
        dense = np.array([np.trace(m, offset=t) / (n - t) for t in range(n - 1)])
        model = ens_module._WindowedExponential(n, n - 2, detrend)
        np.testing.assert_allclose(model.correlation(time), dense / dense[0], atol=1e-12)
    for n, time in [(11, 1.0 / math.log(2.0)), (11, -1.0 / math.log(0.7)), (101, 2.8), (1001, 9.49)]:
        model = ens_module._WindowedExponential(n, n // 2, detrend)
        assert model.corrected_time(model.correlation(time)) == pytest.approx(time, rel=1e-7)


def test_ar1_long_window_is_unbiased():
    # a = 0.9 in a window of 1001 steps: the old estimate read 8.92 +- 0.02 for the exact 9.49
    a = 0.9
    exact = -1.0 / math.log(a)
    traj = _ar1(a, models=8, times=1001, params=300, seed=11)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        d = stationary_decorrelation(traj, max_lag=40)
    assert d.reliable and d.time is not None and d.time_stderr is not None and d.raw_time is not None
    assert abs(d.time - exact) <= 4.0 * d.time_stderr
    assert d.raw_time < exact - 4.0 * d.time_stderr  # the window's own bias, which the time undoes
    assert d.window_bias is not None and 0 < d.window_bias <= ens_module.STATIONARY_BIAS_TOLERANCE * d.time
    record = d.as_dict()
    assert record["reliable"] is True and record["decorrelation_raw"] == d.raw_time
    json.dumps(record, allow_nan=False)


def test_short_window_is_flagged_and_its_error_bar_covers_the_bias():
    # a = 0.7 in 11 snapshots (what train_ensemble keeps of 20 epochs): the old estimate read
    # 0.715 +- 0.004 for the exact 2.80
    a = 0.7
    exact = -1.0 / math.log(a)
    traj = _ar1(a, models=5, times=11, params=2000, seed=12)
    with pytest.warns(RuntimeWarning, match="not reliable"):
        d = stationary_decorrelation(traj)
    assert not d.reliable and not d.as_dict()["reliable"]
    assert d.time is not None and d.time_stderr is not None and d.raw_time is not None
    assert d.window_bias is not None
    assert d.raw_time < 0.5 * exact
    # for an exponential C the correction is exact: the time is right within its statistical error
    assert abs(d.time - exact) <= 4.0 * _stat_error(d.per_model)
    # and the reported error bar carries the (model-dependent) correction as well
    assert d.time_stderr >= abs(d.window_bias) > 0.5 * (exact - d.raw_time)
    assert abs(d.time - exact) <= d.time_stderr


def test_unmeasurably_slow_decay_is_not_given_a_number():
    # a random walk in 11 snapshots: no exponential is slow enough; no precise number may come out
    rng = np.random.default_rng(13)
    traj = np.cumsum(rng.normal(size=(4, 11, 500)), axis=1)
    with pytest.warns(RuntimeWarning, match="stationary decorrelation"):
        d = stationary_decorrelation(traj)
    assert not d.reliable
    # either no time, or no error bar (some seeds' times unmeasurable), or one that carries the bias
    if d.time is not None and d.time_stderr is not None:
        assert d.window_bias is not None and d.time_stderr >= d.window_bias > 0


# ---------------------------------------------------------------------------- D3: heavy tails
def test_fourth_moment_condition_is_the_samplers():
    # S = 1, A = 1: h = x^2 with x ~ N(0, 1), E[(1 - eta h)^4] = 1 - 4 eta + 18 eta^2 - 60 eta^3 + 105 eta^4
    for lr in (0.3, 0.45, 0.62):
        exact = 1 - 4 * lr + 18 * lr**2 - 60 * lr**3 + 105 * lr**4
        assert sgd_fourth_moment_factor(1.0, 1, lr, loss="linear-regression") == pytest.approx(exact, rel=1e-12)
    limit = sgd_finite_error_lr(1.0, 1, loss="linear-regression")
    assert limit == pytest.approx(0.38345, abs=1e-5)
    assert sgd_fourth_moment_factor(1.0, 1, limit, loss="linear-regression") == pytest.approx(1.0, abs=1e-12)
    # the batch curvature as run_sgd_temperature draws it, h = mean over S of x^2, x ~ N(0, A)
    a, s, lr = 1.7, 3, 0.3
    rng = np.random.default_rng(14)
    h = ((rng.normal(size=(400_000, s)) * math.sqrt(a)) ** 2).mean(axis=1)
    draws = (1 - lr * h) ** 4
    mc, mc_err = draws.mean(), draws.std() / math.sqrt(draws.size)
    assert abs(sgd_fourth_moment_factor(a, s, lr, loss="linear-regression") - mc) < 5 * mc_err
    # the finite-error limit lies below the mean-square one, 2 S / (A (S + 2)); none beyond 2 / A on the quadratic
    assert sgd_finite_error_lr(a, s, loss="linear-regression") < 2 * s / (a * (s + 2))
    assert sgd_finite_error_lr(a, s) == pytest.approx(2 / a)
    # Kesten's tail index: 4 exactly at that limit, 2 at the mean-square limit
    assert sgd_module._tail_index(1.0, 1, limit * (1 + 1e-9)) == pytest.approx(4.0, abs=1e-4)
    assert sgd_module._tail_index(1.0, 1, 2 / 3 * (1 - 1e-6)) == pytest.approx(2.0, abs=1e-3)


def test_heavy_tailed_variance_has_no_error_bar():
    # lr 0.62 (limit 2/3 for the mean square, 0.3835 for the fourth moment): the old run reported
    # e.g. 2.3 +- 0.15 for the exact 4.43, reliable
    with pytest.warns(RuntimeWarning, match="error bar is undefined") as caught:
        r = run_sgd_temperature(1.0, 1.0, 1, 0.62, 4000, n_chains=8, loss="linear-regression", seed=7, progress=False)
    assert any("lr < 0.3835" in str(w.message) for w in caught)
    assert r.theory_variance == pytest.approx(sgd_stationary_variance(1.0, 1.0, 1, 0.62, loss="linear-regression"))
    assert not r.reliable and not r.error_bar_defined and math.isnan(r.variance_stderr)
    assert r.fourth_moment_factor == pytest.approx(6.6546728)
    assert r.finite_error_lr == pytest.approx(0.38345, abs=1e-5)
    assert r.tail_index is not None and 2.0 < r.tail_index < 4.0
    record = r.as_dict()
    assert record["variance"]["stderr"] is None and record["error_bar_defined"] is False
    assert record["reliable"] is False and record["tail_index"] == r.tail_index
    json.dumps(record, allow_nan=False)


def test_below_the_fourth_moment_limit_the_error_bar_holds():
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*heavy-tailed", category=RuntimeWarning)
        r = run_sgd_temperature(1.0, 1.0, 1, 0.3, 20000, n_chains=8, loss="linear-regression", seed=8, progress=False)
    assert r.error_bar_defined and r.tail_index is None
    assert r.fourth_moment_factor is not None and r.fourth_moment_factor < 1.0
    assert r.theory_variance == pytest.approx(0.3 / (1.7 - 0.6))  # eta B / (S A (2 - eta A) - 2 eta A^2)
    assert abs(r.variance - r.theory_variance) <= 4.0 * r.variance_stderr
