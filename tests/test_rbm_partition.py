"""Exact log Z of an RBM by summing over its smaller layer, checked against naive enumeration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.special import logsumexp

from thermolearn.exact.rbm_partition import (
    MAX_SUMMED_UNITS,
    rbm_exact_log_likelihood,
    rbm_free_energy,
    rbm_log_partition,
)


def _states(n: int) -> np.ndarray:
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)))


def _brute_log_z_joint(W, b, c) -> float:
    # log sum_{v,h} exp(v W h + b.v + c.h) over every joint state: no layer summed analytically.
    V, H = _states(W.shape[0]), _states(W.shape[1])
    return float(logsumexp(V @ W @ H.T + (V @ b)[:, None] + (H @ c)[None, :]))


def _brute_log_z_over_visible(W, b, c) -> float:
    # The other way round from the kernel when hidden is the smaller layer: enumerate v, sum h.
    V = _states(W.shape[0])
    return float(logsumexp(V @ b + np.logaddexp(0.0, V @ W + c).sum(axis=1)))


def _random_rbm(n, m, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    return rng.normal(0, scale, (n, m)), rng.normal(0, scale, n), rng.normal(0, scale, m)


@pytest.mark.parametrize("n, m", [(1, 1), (5, 3), (3, 7), (8, 8), (6, 2), (2, 12)])
def test_log_z_equals_the_sum_over_every_joint_state(n, m):
    W, b, c = _random_rbm(n, m, seed=n * 100 + m, scale=1.5)
    assert rbm_log_partition(W, b, c) == pytest.approx(_brute_log_z_joint(W, b, c), abs=1e-10)


def test_log_z_is_symmetric_under_swapping_the_layers():
    # Z(W, b, c) = Z(W^T, c, b): the two layers play the same role in E(v, h).
    W, b, c = _random_rbm(9, 5, seed=3)
    assert rbm_log_partition(W, b, c) == pytest.approx(rbm_log_partition(W.T, c, b), abs=1e-10)


@pytest.mark.parametrize("n, m, wild", [(14, 13, False), (13, 14, False), (14, 13, True)])
def test_log_z_with_high_bits_matches_the_other_layers_sum(n, m, wild):
    # 13 summed units exceed the tabulated low block (<= 10), so the loop over high states
    # runs; "wild" units (fields beyond +-300) mix the stable softplus path into it.
    W, b, c = _random_rbm(n, m, seed=7, scale=0.7)
    if wild:
        W[:3] *= 100.0
    if m > n:
        expected = _brute_log_z_over_visible(W.T, c, b)
    else:
        expected = _brute_log_z_over_visible(W, b, c)
    assert rbm_log_partition(W, b, c) == pytest.approx(expected, abs=1e-9)


def test_huge_fields_take_the_stable_path_without_overflow():
    # Fields of hundreds of nats would overflow exp(); such units use softplus directly.
    W, b, c = _random_rbm(6, 4, seed=11, scale=150.0)
    W[:3] *= 1e-3
    b[:3] *= 1e-3
    log_z = rbm_log_partition(W, b, c)
    assert np.isfinite(log_z)
    assert log_z == pytest.approx(_brute_log_z_joint(W, b, c), rel=1e-12)


def test_many_visible_units_stay_accurate():
    # 500 visible units multiply 500 factors per term: the running product must be rescaled.
    W, b, c = _random_rbm(500, 6, seed=5, scale=1.0)
    H = _states(6)
    expected = float(logsumexp(H @ c + np.logaddexp(0.0, b[None, :] + H @ W.T).sum(axis=1)))
    assert rbm_log_partition(W, b, c) == pytest.approx(expected, rel=1e-13)


def test_free_energy_is_minus_log_of_the_sum_over_hidden_states():
    W, b, c = _random_rbm(5, 4, seed=2)
    V, H = _states(5), _states(4)
    expected = -logsumexp(V @ W @ H.T + (V @ b)[:, None] + (H @ c)[None, :], axis=1)
    assert np.allclose(rbm_free_energy(W, b, c, V), expected, atol=1e-12)


def test_exact_log_likelihood_is_normalised_and_matches_brute_force():
    W, b, c = _random_rbm(6, 4, seed=9)
    V = _states(6)
    log_p = -rbm_free_energy(W, b, c, V) - rbm_log_partition(W, b, c)
    assert logsumexp(log_p) == pytest.approx(0.0, abs=1e-12)  # probabilities sum to one
    data = V[np.random.default_rng(0).integers(0, len(V), size=40)]
    mean, stderr = rbm_exact_log_likelihood(W, b, c, data)
    V_all, H_all = _states(6), _states(4)
    log_joint = V_all @ W @ H_all.T + (V_all @ b)[:, None] + (H_all @ c)[None, :]
    log_p_brute = logsumexp(log_joint, axis=1) - logsumexp(log_joint)
    idx = (data @ (2 ** np.arange(5, -1, -1))).astype(int)
    assert mean == pytest.approx(log_p_brute[idx].mean(), abs=1e-10)
    assert stderr == pytest.approx(log_p_brute[idx].std(ddof=1) / np.sqrt(40), rel=1e-9)


def test_one_image_has_zero_stderr():
    W, b, c = _random_rbm(4, 3, seed=1)
    mean, stderr = rbm_exact_log_likelihood(W, b, c, np.array([1, 0, 1, 1]))
    assert np.isfinite(mean) and stderr == 0.0


def test_both_layers_above_the_limit_is_refused_with_the_limit_named():
    W, b, c = _random_rbm(MAX_SUMMED_UNITS + 1, MAX_SUMMED_UNITS + 3, seed=0)
    with pytest.raises(ValueError, match=f"limited to {MAX_SUMMED_UNITS} units"):
        rbm_log_partition(W, b, c)


def test_bad_parameters_and_data_are_refused():
    W, b, c = _random_rbm(4, 3, seed=0)
    with pytest.raises(ValueError, match="visible_bias must have shape"):
        rbm_log_partition(W, b[:3], c)
    with pytest.raises(ValueError, match="hidden_bias must have shape"):
        rbm_log_partition(W, b, np.zeros(4))
    W_nan = W.copy()
    W_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        rbm_log_partition(W_nan, b, c)
    with pytest.raises(ValueError, match="only 0 and 1"):
        rbm_exact_log_likelihood(W, b, c, np.full((2, 4), 0.5))
    with pytest.raises(ValueError, match="shape"):
        rbm_free_energy(W, b, c, np.zeros((2, 5)))
