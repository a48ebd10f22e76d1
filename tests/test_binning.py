"""Blocking (Flyvbjerg-Petersen) analysis against exact errors of the mean.

AR(1) with unit variance: exact asymptotic error of the mean sqrt((1+phi)/(1-phi)/n) and
tau_int = (1/2)(1+phi)/(1-phi). Tolerances are multiples of the curve's own error bars,
stderr / sqrt(2 (n_blocks - 1)).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.signal import lfilter

from thermolearn.estimators import BinningResult, binning_analysis, blocking_curve

N_SIGMA = 4.0


def ar1(phi: float, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    eps = rng.standard_normal(n)
    return lfilter([math.sqrt(1 - phi**2)], [1.0, -phi], eps, zi=[phi * rng.standard_normal()])[0]


@pytest.mark.parametrize("phi", [0.5, 0.9, 0.97])
def test_ar1_plateau_error_matches_exact_asymptotic_error_within_its_uncertainty(phi):
    n = 2**20
    r = binning_analysis(ar1(phi, n, seed=31))
    assert isinstance(r, BinningResult) and r.converged
    exact = math.sqrt((1 + phi) / (1 - phi) / n)
    assert abs(r.stderr - exact) < N_SIGMA * r.stderr_error
    # tau = (err_B / err_1)^2 / 2, relative error twice that of err_B
    tau_exact = 0.5 * (1 + phi) / (1 - phi)
    assert abs(r.tau - tau_exact) < N_SIGMA * 2 * r.tau * r.stderr_error / r.stderr


def test_white_noise_plateau_equals_naive_std_over_sqrt_n():
    n = 100_000
    x = np.random.default_rng(9).normal(-1.0, 0.5, n)
    r = binning_analysis(x)
    naive = x.std(ddof=1) / math.sqrt(n)
    np.testing.assert_allclose(r.stderrs[0], naive, rtol=1e-12)  # block size 1 is the naive error
    assert r.converged
    assert abs(r.stderr - naive) < N_SIGMA * r.stderr_error
    assert abs(r.tau - 0.5) < N_SIGMA * 2 * r.tau * r.stderr_error / r.stderr
    np.testing.assert_allclose(r.mean, x.mean())


def test_blocking_curve_doubles_block_sizes_and_halves_block_counts():
    x = np.random.default_rng(1).normal(size=1000)
    sizes, errs, err_errs, counts = blocking_curve(x)
    np.testing.assert_array_equal(sizes, 2 ** np.arange(sizes.size))
    np.testing.assert_array_equal(counts, 1000 // sizes)
    assert counts[-1] >= 2 and counts[-1] // 2 < 2
    np.testing.assert_allclose(err_errs, errs / np.sqrt(2 * (counts - 1)))
    # second level by hand: pair means
    pairs = x.reshape(-1, 2).mean(axis=1)
    np.testing.assert_allclose(errs[1], pairs.std(ddof=1) / math.sqrt(pairs.size))


def test_error_from_correlated_data_exceeds_naive_error_by_sqrt_two_tau():
    phi = 0.9
    r = binning_analysis(ar1(phi, 2**18, seed=2))
    ratio = r.stderr / r.stderrs[0]
    expected = math.sqrt((1 + phi) / (1 - phi))
    assert abs(ratio - expected) < N_SIGMA * expected * r.stderr_error / r.stderr


def test_too_short_series_warns_and_reports_no_plateau():
    with pytest.warns(RuntimeWarning, match="no plateau"):
        r = binning_analysis(ar1(0.999, 2000, seed=0))
    assert not r.converged


def test_constant_series_has_zero_error():
    r = binning_analysis(np.full(64, 2.5))
    assert (r.stderr, r.mean, r.converged) == (0.0, 2.5, True)


def test_as_dict_is_json_serialisable():
    d = binning_analysis(np.random.default_rng(0).normal(size=4096)).as_dict()
    assert json.loads(json.dumps(d)) == d


@pytest.mark.parametrize(
    "kwargs, x, match",
    [
        ({}, np.array([]), "empty"),
        ({}, np.array([1.0, np.inf]), "NaN or infinity"),
        ({}, np.zeros((10, 2)), "1D"),
        ({}, np.zeros(10), "min_blocks"),
        ({"min_blocks": 1}, np.zeros(100), "min_blocks"),
    ],
)
def test_bad_input_raises_value_error(kwargs, x, match):
    with pytest.raises(ValueError, match=match):
        binning_analysis(x, **kwargs)
