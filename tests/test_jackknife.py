"""Delete-one-block jackknife: exact identities, delta-method error bars, bias correction.

Tolerances: the relative uncertainty of a jackknife error bar from K nearly independent
blocks is about 1 / sqrt(2 (K - 1)); comparisons allow N_SIGMA of that.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.signal import lfilter

from thermolearn.estimators import JackknifeResult, choose_block_size, jackknife

N_SIGMA = 4.0


def rel_err_of_error(k: int) -> float:
    return 1.0 / math.sqrt(2.0 * (k - 1))


def test_jackknife_of_mean_with_block_size_one_is_exactly_the_naive_standard_error():
    x = np.random.default_rng(0).normal(2.0, 3.0, 1000)
    r = jackknife(lambda a: a, x, block_size=1)
    assert isinstance(r, JackknifeResult) and r.n_blocks == 1000
    np.testing.assert_allclose(r.estimate, x.mean(), rtol=1e-12)
    np.testing.assert_allclose(r.stderr, x.std(ddof=1) / math.sqrt(x.size), rtol=1e-10)
    assert abs(r.bias) < 1e-10


def test_jackknife_bias_correction_of_mean_squared_gives_unbiased_xbar2_minus_s2_over_n():
    x = np.random.default_rng(1).normal(1.0, 1.0, 50)
    r = jackknife(lambda a: a * a, x, n_blocks=50)
    np.testing.assert_allclose(r.estimate, x.mean() ** 2 - x.var(ddof=1) / x.size, rtol=1e-12)
    np.testing.assert_allclose(r.raw, x.mean() ** 2, rtol=1e-12)


def test_jackknife_of_plugin_variance_gives_unbiased_sample_variance():
    x = np.random.default_rng(2).normal(0.0, 2.0, 200)
    r = jackknife(lambda m1, m2: m2 - m1 * m1, x, x**2, n_blocks=200)
    np.testing.assert_allclose(r.estimate, x.var(ddof=1), rtol=1e-10)


def test_bias_correction_removes_order_one_over_n_bias_of_mean_squared():
    # E[xbar^2] = mu^2 + sigma^2 / n: biased by 1/n; the jackknife estimate is unbiased.
    mu, sigma, n, reps = 1.0, 1.0, 10, 4000
    data = np.random.default_rng(3).normal(mu, sigma, (reps, n))
    raw = np.empty(reps)
    corrected = np.empty(reps)
    for i, x in enumerate(data):
        r = jackknife(lambda a: a * a, x, n_blocks=5)
        raw[i], corrected[i] = r.raw, r.estimate
    se_raw = raw.std(ddof=1) / math.sqrt(reps)
    se_cor = corrected.std(ddof=1) / math.sqrt(reps)
    assert abs(raw.mean() - (mu**2 + sigma**2 / n)) < N_SIGMA * se_raw  # the known bias is there
    assert abs(raw.mean() - mu**2) > N_SIGMA * se_raw  # ... and resolvable
    assert abs(corrected.mean() - mu**2) < N_SIGMA * se_cor  # and the jackknife removes it


def test_ratio_of_means_error_matches_delta_method():
    rng = np.random.default_rng(4)
    n = 4000
    mx, my, sx, sy, corr = 2.0, 5.0, 1.5, 1.0, 0.6
    cov = [[sx**2, corr * sx * sy], [corr * sx * sy, sy**2]]
    xy = rng.multivariate_normal([mx, my], cov, size=n)
    r = jackknife(lambda a, b: a / b, xy[:, 0], xy[:, 1], n_blocks=n)
    # delta method: Var(a/b) = (1/n)[sx^2/my^2 + mx^2 sy^2/my^4 - 2 mx cov_xy/my^3]
    delta = math.sqrt((sx**2 / my**2 + mx**2 * sy**2 / my**4 - 2 * mx * cov[0][1] / my**3) / n)
    assert abs(r.stderr / delta - 1.0) < N_SIGMA * rel_err_of_error(r.n_blocks)
    assert abs(r.estimate - mx / my) < N_SIGMA * r.stderr


def test_variance_error_matches_gaussian_formula_sqrt_2_over_n_sigma_squared():
    n, sigma = 4000, 1.7
    x = np.random.default_rng(5).normal(0.3, sigma, n)
    r = jackknife(lambda m1, m2: m2 - m1 * m1, x, x**2, n_blocks=n)
    exact = math.sqrt(2.0 / (n - 1)) * sigma**2
    # The jackknife error of s^2 is built from the sample variance of d = (x - xbar)^2; for
    # Gaussian x, E[(d - Ed)^4] / Var(d)^2 = 60 / 4 = 15, so Var(s_d^2) / s_d^4 ~ (15 - 1) / n
    # and the error bar's relative uncertainty is half the square root of that.
    rel = 0.5 * math.sqrt(14.0 / n)
    assert abs(r.stderr / exact - 1.0) < N_SIGMA * rel
    assert abs(r.estimate - sigma**2) < N_SIGMA * r.stderr


def test_automatic_block_size_gives_autocorrelation_aware_error_for_ar1():
    phi, n = 0.9, 2**18
    rng = np.random.default_rng(6)
    x = lfilter([math.sqrt(1 - phi**2)], [1.0, -phi], rng.standard_normal(n), zi=[phi * rng.standard_normal()])[0]
    tau = 0.5 * (1 + phi) / (1 - phi)
    r = jackknife(lambda a: a, x)
    assert r.block_size >= 20 * 9  # about 20 tau_int
    exact = math.sqrt(2 * tau / n)
    # Blocks of b samples underestimate the variance by ~ 2 phi / (b (1 - phi^2)) (adjacent-block correlation).
    known_bias = 0.5 * 2 * phi / (r.block_size * (1 - phi**2))
    assert abs(r.stderr / exact - 1.0) < N_SIGMA * rel_err_of_error(r.n_blocks) + known_bias
    naive = x.std(ddof=1) / math.sqrt(n)  # = jackknife with block_size=1 (exact identity above)
    assert naive < exact / 3.0  # sqrt(2 tau) = sqrt(19) ~ 4.4 times too small


def test_vector_series_and_array_valued_function():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(500, 3))
    r = jackknife(lambda m: m * 2.0, x, n_blocks=500)
    assert r.estimate.shape == (3,) and r.stderr.shape == (3,)
    np.testing.assert_allclose(r.estimate, 2 * x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(r.stderr, 2 * x.std(axis=0, ddof=1) / math.sqrt(500), rtol=1e-10)
    d = r.as_dict()
    assert json.loads(json.dumps(d)) == d


def test_leftover_samples_at_the_start_are_dropped():
    x = np.arange(103.0)
    r = jackknife(lambda a: a, x, n_blocks=10)
    assert (r.block_size, r.n_used) == (10, 100)
    assert r.raw == x[3:].mean()


def test_choose_block_size_scales_with_tau_and_respects_block_limits():
    assert choose_block_size(20_000, 2.0) == 40  # 20 tau_int
    assert choose_block_size(10**7, 0.5) == 10**4  # capped at 1000 blocks
    with pytest.warns(RuntimeWarning, match="too short"):
        assert choose_block_size(1000, 10.0) == 50  # 20 blocks at least
    with pytest.raises(ValueError, match="tau"):
        choose_block_size(100, 0.0)


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        ((np.arange(10.0),), {"n_blocks": 1}, "n_blocks must be an integer >= 2"),
        ((np.arange(10.0),), {"n_blocks": 11}, "n_blocks must be between 2"),
        ((np.arange(10.0),), {"n_blocks": 2, "block_size": 5}, "not both"),
        ((np.arange(10.0),), {"block_size": 6}, "at least 2 blocks"),
        ((np.arange(10.0), np.arange(9.0)), {"n_blocks": 2}, "same number of samples"),
        ((np.array([1.0, np.nan]),), {"n_blocks": 2}, "NaN"),
        ((np.array([]),), {}, "at least 2"),
        ((np.array(1.0),), {}, "sample axis"),
        ((), {}, "at least one series"),
    ],
)
def test_bad_input_raises_value_error_with_clear_message(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        jackknife(lambda *m: 0.0, *args, **kwargs)


def test_function_returning_nan_raises():
    with pytest.raises(ValueError, match="fn returned NaN"):
        jackknife(lambda a: math.nan, np.zeros(10), n_blocks=5)
