"""Error bars and censoring in the learning code say what the data support, never less.

- Inverse Ising: parameters the samples do not determine (a spin that never flips, perfectly
  separated states) get infinite standard errors and a warning, not 0; the determined ones
  keep the errors of the equivalent well-posed fit; well-posed sandwiches are unchanged.
- Capacity: a pattern set that collapsed before the first load is left-censored (an upper
  bound on alpha_c), not "no collapse" (a lower bound).
- Boltzmann learning: one data vector with one clamped chain still counts the sampled
  clamped phase in the error bars (checked against the exact gradient).
- RBM pseudo-likelihood of no rows is an empty array, like the other per-row methods.
Seeds are fixed.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from thermolearn.exact.enumeration import probability_table, state_index_to_spins
from thermolearn.learning.boltzmann_learning import exact_gradient, sampled_gradient
from thermolearn.learning.capacity import CapacityResult, _summarise, alpha_c_bounds, capacity_curve, censoring
from thermolearn.learning.inverse_ising import maximum_likelihood, pseudo_likelihood, sample_exactly
from thermolearn.models import RBM, BoltzmannMachine
from thermolearn.models.ising import Ising


# ---------------------------------------------------------------------- inverse Ising
def _frozen_spin_samples() -> np.ndarray:
    rng = np.random.default_rng(0)
    s = np.where(rng.random((500, 4)) < 0.5, 1, -1).astype(np.int8)
    s[:, 0] = 1  # spin 0 never flips: h_0 -> infinity, and s_0 J_0i = J_0i is confounded with h_i
    return s


def _assert_psd_where_finite(cov: np.ndarray) -> None:
    ok = np.isfinite(np.diag(cov))
    block = cov[np.ix_(ok, ok)]
    assert np.all(np.isfinite(block))
    np.testing.assert_array_equal(block, block.T)
    if block.size:
        assert np.linalg.eigvalsh(block).min() >= -1e-12 * max(1.0, np.abs(block).max())
    # rows of undetermined parameters carry no finite covariance
    assert np.all(np.isinf(np.diag(cov)[~ok]))
    assert np.all(np.isnan(cov[np.ix_(~ok, ok)]))


def test_pseudo_likelihood_frozen_spin_gives_infinite_errors_and_the_reduced_fits_errors():
    s = _frozen_spin_samples()
    with pytest.warns(RuntimeWarning, match=r"do not determine 7 of 10 parameters \(h_0, h_1, h_2, h_3, J_0,1"):
        r = pseudo_likelihood(s, stderr=True)
    assert np.all(np.isinf(r.fields_stderr))  # was exactly 0 (negative variances clipped)
    assert np.all(np.isinf(r.couplings_stderr[0, 1:])) and np.all(np.isinf(r.couplings_stderr[1:, 0]))
    # the data on spins 1..3 are a well-posed 3-spin problem with fields h_i + J_0i: the couplings
    # among them have exactly that fit's sandwich errors (the flat directions do not touch them)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reduced = pseudo_likelihood(s[:, 1:], stderr=True)
    np.testing.assert_allclose(r.couplings_stderr[1:, 1:], reduced.couplings_stderr, rtol=1e-4)
    assert np.all(r.couplings_stderr[1:, 1:][~np.eye(3, dtype=bool)] > 0.03)
    _assert_psd_where_finite(r.covariance)


def test_maximum_likelihood_frozen_spin_gives_infinite_field_errors():
    with pytest.warns(RuntimeWarning, match="maximum likelihood: the samples do not determine"):
        r = maximum_likelihood(_frozen_spin_samples())
    assert np.all(np.isinf(r.fields_stderr))
    assert np.all(np.isfinite(r.couplings_stderr[1:, 1:]))
    _assert_psd_where_finite(r.covariance)


def test_separated_ferromagnet_samples_never_report_a_zero_error():
    n = 5
    J = np.triu(np.ones((n, n)), 1)
    s = sample_exactly(Ising.from_dense(J + J.T, np.zeros(n)), 2000, seed=1)
    assert len(np.unique(s, axis=0)) == 4  # all up, all down and two single states: separable
    with pytest.warns(RuntimeWarning, match="do not determine"):
        r = pseudo_likelihood(s, stderr=True)
    off = ~np.eye(n, dtype=bool)
    assert np.all(r.couplings_stderr[off] > 0) and np.all(r.fields_stderr > 0)  # several were 0
    _assert_psd_where_finite(r.covariance)


def _pl_sandwich_reference(s: np.ndarray, J: np.ndarray, h: np.ndarray) -> np.ndarray:
    """H^-1 V H^-1 of the mean log-pseudo-likelihood written out per sample, parameters (h, J_i<j)."""
    m, n = s.shape
    x = s.astype(float)
    iu = np.triu_indices(n, 1)
    p = n + iu[0].size
    H = np.zeros((p, p))
    g = np.zeros((m, p))
    for i in range(n):
        d = np.zeros((m, p))  # d phi_i / d theta
        d[:, i] = 1.0
        for k, (a, b) in enumerate(zip(*iu)):
            if i in (a, b):
                d[:, n + k] = x[:, b if i == a else a]
        t = np.tanh(x @ J[i] + h[i])
        g += (t - x[:, i])[:, None] * d
        H += (d * (1 - t**2)[:, None]).T @ d / m
    V = g.T @ g / m**2
    Hinv = np.linalg.inv(H)
    return Hinv @ V @ Hinv


def test_well_posed_pseudo_likelihood_sandwich_is_unchanged_and_silent():
    rng = np.random.default_rng(0)
    n = 4
    J = np.triu(rng.normal(0, 0.5, (n, n)), 1)
    model = Ising.from_dense(J + J.T, rng.normal(0, 0.3, n))
    s = sample_exactly(model, 1000, temperature=1.5, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = pseudo_likelihood(s, temperature=1.5, stderr=True)
    ref = _pl_sandwich_reference(s, r.couplings / 1.5, r.fields / 1.5) * 1.5**2
    np.testing.assert_allclose(r.covariance, ref, rtol=1e-6, atol=1e-12)


def test_well_posed_maximum_likelihood_covariance_is_the_exact_inverse_fisher_information():
    n, T = 4, 1.3
    rng = np.random.default_rng(3)
    J = np.triu(rng.normal(0, 0.6, (n, n)), 1)
    model = Ising.from_dense(J + J.T, rng.normal(0, 0.3, n))
    p, _ = probability_table(model, T)
    s = state_index_to_spins(np.arange(p.size), n).astype(float)
    iu = np.triu_indices(n, 1)
    phi = np.concatenate([s, s[:, iu[0]] * s[:, iu[1]]], axis=1)
    mean = p @ phi
    fisher = (phi * p[:, None]).T @ phi - np.outer(mean, mean)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = maximum_likelihood(s.astype(np.int8), temperature=T, sample_weights=p)
    np.testing.assert_allclose(r.covariance, np.linalg.inv(fisher) * r.n_samples**-1 * T**2, rtol=1e-5)


# ---------------------------------------------------------------------- capacity
LOADS = np.array([0.1, 0.2, 0.3, 0.4])
TABLE = np.array(
    [
        [1.0, 0.8, 0.4, 0.1],  # crosses between 0.2 and 0.3: 0.2 + 0.1 * 0.3 / 0.4 = 0.275
        [0.9, 0.6, 0.2, 0.0],  # crosses: 0.2 + 0.1 * 0.1 / 0.4 = 0.225
        [0.4, 0.2, 0.1, 0.0],  # already collapsed at the first load: alpha_c < 0.1
        [1.0, 1.0, 0.9, 0.7],  # never collapses: alpha_c > 0.4
    ]
)


def _result(table: np.ndarray, rule: str = "hebbian") -> CapacityResult:
    set_alpha, alpha_c, err, note = _summarise(rule, LOADS, table)
    zeros = np.zeros(LOADS.size)
    return CapacityResult(
        rule=rule,
        n_neurons=100,
        loads=LOADS,
        n_patterns=np.round(LOADS * 100).astype(int),
        overlap=zeros,
        overlap_stderr=zeros,
        retrieval_fraction=table.mean(axis=0),
        retrieval_fraction_stderr=zeros,
        set_overlap=np.zeros_like(table),
        set_retrieval=table,
        set_alpha_c=set_alpha,
        alpha_c=alpha_c,
        alpha_c_stderr=err,
        seed=0,
        seconds=0.0,
        note=note,
    )


def test_censoring_tells_an_early_collapse_from_no_collapse():
    assert [censoring(row, 0.5) for row in TABLE] == ["crossed", "crossed", "left", "right"]
    set_alpha = np.array([0.275, 0.225, np.nan, np.nan])
    lower, upper = alpha_c_bounds(LOADS, set_alpha, ["crossed", "crossed", "left", "right"])
    assert lower == pytest.approx((0.275 + 0.225 + 0.0 + 0.4) / 4) and upper is None
    lower, upper = alpha_c_bounds(LOADS, set_alpha[:3], ["crossed", "crossed", "left"])
    assert lower == pytest.approx(0.5 / 3) and upper == pytest.approx((0.5 + 0.1) / 3)
    assert alpha_c_bounds(LOADS, set_alpha[:2], ["crossed", "crossed"]) == (None, None)


def test_left_censored_sets_bias_the_estimate_up_and_say_so():
    with pytest.warns(RuntimeWarning, match="already collapsed at the first load alpha = 0.1"):
        r = _result(TABLE[:3])
    assert r.alpha_c == pytest.approx(0.25)  # the two crossed sets, flagged as biased up
    assert r.left_censored == 1 and r.right_censored == 0
    assert "biased up" in r.note and "no collapse" not in r.note
    a = r.as_dict()["alpha_c"]
    assert (a["censored_sets"], a["left_censored_sets"], a["right_censored_sets"]) == (1, 1, 0)
    assert a["lower_bound"] == pytest.approx(0.5 / 3) and a["upper_bound"] == pytest.approx(0.2)
    assert a["reliable"] is False


def test_censoring_on_both_sides_and_on_one_side_only():
    with pytest.warns(RuntimeWarning, match="1 of 4 sets show no collapse"):
        r = _result(TABLE)
    assert (r.left_censored, r.right_censored) == (1, 1) and "unknown direction" in r.note
    with pytest.warns(RuntimeWarning, match="2 of 2 sets had already collapsed"):
        early = _result(TABLE[[2, 2]])
    a = early.as_dict()["alpha_c"]
    assert early.alpha_c is None and a["upper_bound"] == pytest.approx(0.1) and a["lower_bound"] == 0.0
    with pytest.warns(RuntimeWarning, match="2 of 2 sets show no collapse"):
        late = _result(TABLE[[3, 3]])
    assert late.as_dict()["alpha_c"]["lower_bound"] == pytest.approx(0.4)
    assert late.as_dict()["alpha_c"]["upper_bound"] is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clean = _result(TABLE[:2])
    assert clean.note is None and clean.as_dict()["alpha_c"]["reliable"] is True
    assert clean.as_dict()["alpha_c"]["lower_bound"] is None


def test_hebbian_grid_starting_past_the_collapse_gives_an_upper_bound():
    with pytest.warns(RuntimeWarning, match="4 of 4 sets had already collapsed"):
        r = capacity_curve(100, "hebbian", loads=[0.3, 0.4, 0.5], n_sets=4, max_recalls=50, progress=False)
    assert r.left_censored == 4 and r.right_censored == 0 and r.alpha_c is None
    a = r.as_dict()["alpha_c"]
    assert a["upper_bound"] == pytest.approx(0.3)  # was: "no collapse", lower_bound 0.5
    assert a["lower_bound"] == 0.0


# ---------------------------------------------------------------------- Boltzmann learning
def test_one_data_vector_one_chain_error_bars_match_the_spread_about_the_exact_gradient():
    bm = BoltzmannMachine.random(3, 3, weight_std=1.5, bias_std=0.5, seed=1)
    data = np.array([[1, 0, 1]], np.int8)
    exact = exact_gradient(bm, data)
    iu = np.triu_indices(6, 1)
    hidden = iu[1] >= 3  # couplings whose clamped average is sampled; visible-visible ones are exact
    z, est, se = [], [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # 20 sweeps: too short for tau_int, as warned
        for seed in range(60):
            g = sampled_gradient(bm, data, negative_chains=200, burn_in=20, sweeps=20, seed=seed)
            z.append(((g.weights - exact.weights) / g.weights_stderr)[iu])
            est.append(g.weights[iu])
            se.append(g.weights_stderr[iu])
    z, est, se = np.array(z), np.array(est), np.array(se)
    # the old code dropped the clamped phase: spread/stderr ~ 11 on W[0, 3], z spread 9-16
    ratio = est.std(axis=0, ddof=1)[hidden] / se.mean(axis=0)[hidden]
    assert np.all(ratio < 1.4) and np.all(ratio > 0.6)
    z_hidden = z[:, hidden & (iu[0] != 1)]  # v_1 = 0 couplings are exactly 0 in the data phase
    assert np.all(np.isfinite(z_hidden))
    assert np.all(z_hidden.std(axis=0) < 1.6)


def test_one_chain_warns_when_the_series_is_too_short_and_not_otherwise():
    bm = BoltzmannMachine.random(3, 3, weight_std=0.3, seed=2)
    data = np.array([[1, 0, 1]], np.int8)
    with pytest.warns(RuntimeWarning, match="use positive_chains >= 2"):
        g = sampled_gradient(bm, data, negative_chains=8, burn_in=2, sweeps=1, seed=0)
    assert np.all(g.weights_stderr[:, 3:][[0, 2]] > 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = sampled_gradient(bm, data, negative_chains=8, burn_in=10, sweeps=200, seed=0)
    # a clamped v_1 = 0 makes x_1 x_j = 0 in the data phase: only the free phase's error remains
    free = sampled_gradient(bm, data, negative_chains=8, burn_in=10, sweeps=200, positive_chains=2, seed=0)
    assert g.weights_stderr[1, 4] == pytest.approx(free.weights_stderr[1, 4], rel=0.5)


# ---------------------------------------------------------------------- RBM
def test_rbm_pseudo_log_likelihood_of_no_rows_is_empty_like_free_energy():
    m = RBM(np.ones((3, 2)), np.zeros(3), np.zeros(2))
    empty = np.zeros((0, 3))
    out = m.pseudo_log_likelihood(empty)
    assert out.shape == m.free_energy(empty).shape == (0,) and out.dtype == np.float64
    assert math.isfinite(float(m.pseudo_log_likelihood(np.ones((1, 3)))[0]))
