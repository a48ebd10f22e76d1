"""Annealed importance sampling (forward AIS and reverse RAISE) against exact answers."""

from __future__ import annotations

import gzip
import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.special import expit

from tests.shared_data import SHARED_DATA
from thermolearn.datasets.digits import load_digits
from thermolearn.estimators.ais import (
    FAST,
    SALAKHUTDINOV_MURRAY,
    AISResult,
    ais_log_partition,
    ais_schedule,
    base_rate_visible_bias,
    piecewise_schedule,
    raise_log_likelihood,
    rbm_log_likelihood,
)
from thermolearn.exact.rbm_partition import rbm_exact_log_likelihood, rbm_free_energy, rbm_log_partition

SHARED = SHARED_DATA
BINARIZED_MNIST = SHARED / "binarized_mnist"


def _states(n: int) -> np.ndarray:
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)))


def _random_rbm(n, m, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    return rng.normal(0, scale, (n, m)), rng.normal(0, scale, n), rng.normal(0, scale, m)


def _within_sigmas(result: AISResult, exact: float, k: float = 3.0) -> bool:
    return abs(result.log_z - exact) <= k * result.log_z_stderr


@pytest.fixture(scope="module")
def digits_rbm():
    """A 64 x 20 RBM trained by scikit-learn on the binarised digits, and a train/test split."""
    from sklearn.neural_network import BernoulliRBM

    images = (load_digits() >= 8).astype(np.float64)
    order = np.random.default_rng(0).permutation(len(images))
    train, test = images[order[:1500]], images[order[1500:]]
    rbm = BernoulliRBM(n_components=20, learning_rate=0.05, batch_size=10, n_iter=20, random_state=0).fit(train)
    return (rbm.components_.T.copy(), rbm.intercept_visible_.copy(), rbm.intercept_hidden_.copy()), train, test


# --- schedules and the base model -------------------------------------------------------------


def test_salakhutdinov_murray_schedule_has_their_steps():
    betas = ais_schedule(SALAKHUTDINOV_MURRAY)
    assert betas.size - 1 == 14_500  # 500 + 4,000 + 10,000 transitions
    assert betas[0] == 0.0 and betas[-1] == 1.0
    steps = np.diff(betas)
    assert np.allclose(steps[:500], 1e-3) and np.allclose(steps[500:4500], 1e-4) and np.allclose(steps[4500:], 1e-5)
    assert ais_schedule(FAST).size - 1 == 1_450
    assert np.array_equal(ais_schedule(4), [0.0, 0.25, 0.5, 0.75, 1.0])
    assert np.array_equal(piecewise_schedule((1.0,), (0.5,)), [0.0, 0.5, 1.0])


@pytest.mark.parametrize("bad", ["slow", [0.0, 0.5], [0.1, 1.0], [0.0, 0.7, 0.3, 1.0], 0])
def test_bad_schedules_are_refused(bad):
    with pytest.raises((ValueError, TypeError)):
        ais_schedule(bad)


def test_base_rates_are_smoothed_log_odds_of_pixel_means():
    data = np.array([[1, 0, 0], [1, 1, 0], [1, 0, 0]], dtype=float)
    p = (data.sum(axis=0) + 1.0) / (3 + 2.0)
    assert np.allclose(base_rate_visible_bias(data), np.log(p / (1 - p)))
    assert np.all(np.isfinite(base_rate_visible_bias(np.zeros((5, 4)))))


# --- forward AIS ------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ais_log_z_of_random_rbms_agrees_with_exact_within_its_error_bar(seed):
    W, b, c = _random_rbm(24, 10, seed=seed, scale=0.6)
    exact = rbm_log_partition(W, b, c)
    result = ais_log_partition(W, b, c, schedule=FAST, n_runs=100, seed=seed)
    assert _within_sigmas(result, exact)
    assert result.log_z_low <= exact <= result.log_z_high
    assert 1.0 <= result.effective_sample_size <= 100.0


def test_ais_weights_are_unbiased_for_z_while_mean_log_weight_is_a_lower_bound():
    # A 10-step schedule leaves the weights very spread out. Their mean is still unbiased for
    # Z_B / Z_0 (which needs Z_0 = 2^M prod(1 + e^b_A) to be right), while E[log w] < log Z.
    W, b, c = _random_rbm(8, 5, seed=4, scale=1.0)
    exact = rbm_log_partition(W, b, c)
    result = ais_log_partition(W, b, c, schedule=10, n_runs=4000, seed=3)
    assert result.effective_sample_size < 0.9 * result.n_runs  # the weights really do vary
    assert _within_sigmas(result, exact)
    se_mean_log = np.std(result.log_weights, ddof=1) / math.sqrt(result.n_runs)
    assert result.mean_log_weight < exact - 3.0 * se_mean_log


def test_ais_with_the_base_rates_of_data_and_an_explicit_base_agree():
    W, b, c = _random_rbm(12, 6, seed=8, scale=0.8)
    data = (np.random.default_rng(1).random((50, 12)) < 0.3).astype(float)
    from_data = ais_log_partition(W, b, c, data=data, schedule=300, n_runs=50, seed=5)
    explicit = ais_log_partition(
        W, b, c, base_visible_bias=base_rate_visible_bias(data), schedule=300, n_runs=50, seed=5
    )
    assert from_data.log_z == explicit.log_z
    assert from_data.log_z_base == pytest.approx(6 * math.log(2) + np.logaddexp(0, base_rate_visible_bias(data)).sum())


def test_ais_is_reproducible_from_its_seed():
    W, b, c = _random_rbm(12, 6, seed=6)  # same shapes as the test above: one compilation
    first = ais_log_partition(W, b, c, schedule=300, n_runs=50, seed=7)
    again = ais_log_partition(W, b, c, schedule=300, n_runs=50, seed=7)
    other = ais_log_partition(W, b, c, schedule=300, n_runs=50, seed=8)
    assert np.array_equal(first.log_weights, again.log_weights)
    assert not np.array_equal(first.log_weights, other.log_weights)
    record = first.as_dict()
    assert record["log_z"]["mean"] == first.log_z and len(record["log_weights"]) == 50


def test_ais_on_a_trained_20_hidden_rbm_agrees_with_exact_within_error_and_0_1_nats(digits_rbm):
    (W, b, c), train, _ = digits_rbm
    exact = rbm_log_partition(W, b, c)
    result = ais_log_partition(W, b, c, data=train, schedule=FAST, n_runs=100, seed=0)
    assert _within_sigmas(result, exact)
    assert abs(result.log_z - exact) < 0.1


@pytest.mark.slow
def test_ais_with_salakhutdinov_murrays_schedule_on_a_trained_rbm_is_within_0_1_nats(digits_rbm):
    # The paper's 14,500 distributions: the error bar shrinks and the estimate stays unbiased.
    (W, b, c), train, _ = digits_rbm
    exact = rbm_log_partition(W, b, c)
    result = ais_log_partition(W, b, c, data=train, schedule=SALAKHUTDINOV_MURRAY, n_runs=100, seed=1)
    assert result.n_steps == 14_500
    assert _within_sigmas(result, exact)
    assert abs(result.log_z - exact) < 0.1


def _load_amat_head(path: Path, n_images: int) -> np.ndarray:
    with gzip.open(path, "rb") as handle:
        raw = b"".join(handle.readline() for _ in range(n_images))
    chars = np.frombuffer(raw, dtype=np.uint8)
    return (chars[(chars == ord("0")) | (chars == ord("1"))] - ord("0")).reshape(n_images, 784).astype(np.float64)


@pytest.mark.skipif(
    not (BINARIZED_MNIST / "binarized_mnist_train.amat.gz").exists(),
    reason="binarised MNIST not found under ../shared/data/binarized_mnist (or $THERMOLEARN_SHARED_DATA)",
)
def test_ais_on_a_20_hidden_rbm_trained_on_binarized_mnist_agrees_with_exact():
    from sklearn.neural_network import BernoulliRBM

    train = _load_amat_head(BINARIZED_MNIST / "binarized_mnist_train.amat.gz", 3000)
    rbm = BernoulliRBM(n_components=20, learning_rate=0.05, batch_size=20, n_iter=5, random_state=0).fit(train)
    W, b, c = rbm.components_.T.copy(), rbm.intercept_visible_.copy(), rbm.intercept_hidden_.copy()
    exact = rbm_log_partition(W, b, c)
    result = ais_log_partition(W, b, c, data=train, schedule=FAST, n_runs=100, seed=0)
    assert _within_sigmas(result, exact)
    assert abs(result.log_z - exact) < 0.1


# --- RAISE --------------------------------------------------------------------------------------


def _exact_raise_model(W, b, c, b_base, betas) -> np.ndarray:
    # q(v): the base rates pushed through the Gibbs kernels T_1..T_K, as full 2^n tables.
    V, H = _states(W.shape[0]), _states(W.shape[1])
    q = np.prod(np.where(V == 1, expit(b_base), expit(-b_base)), axis=1)
    for beta in betas[1:]:
        ph = expit(beta * (V @ W + c))  # (2^n, m)
        p_h_given_v = np.prod(np.where(H[None] == 1, ph[:, None], 1 - ph[:, None]), axis=2)
        pv = expit((1 - beta) * b_base + beta * (b + H @ W.T))  # (2^m, n)
        p_v_given_h = np.prod(np.where(V[None] == 1, pv[:, None], 1 - pv[:, None]), axis=2)
        q = q @ (p_h_given_v @ p_v_given_h)
    return q


def test_raise_weights_are_unbiased_for_the_exact_raise_model():
    # exp(RAISE estimate) is unbiased for q(v), the law of the forward chain's last state.
    W, b, c = _random_rbm(5, 3, seed=12, scale=1.2)
    b_base = np.array([0.5, -0.5, 0.0, 1.0, -1.0])
    betas = ais_schedule(8)
    q = _exact_raise_model(W, b, c, b_base, betas)
    for index in (3, 22):
        image = _states(5)[index]
        estimates = raise_log_likelihood(
            W,
            b,
            c,
            np.repeat(image[None], 2000, axis=0),
            base_visible_bias=b_base,
            schedule=betas,
            batch_size=2000,
            seed=index,
        ).per_image
        top = estimates.max()
        w = np.exp(estimates - top)
        log_mean = top + math.log(w.mean())
        stderr = w.std(ddof=1) / math.sqrt(w.size) / w.mean()
        assert abs(log_mean - math.log(q[index])) <= 3.0 * stderr
        # ... and the average log estimate is a lower bound on log q(v)
        assert estimates.mean() < math.log(q[index])


def test_raise_is_conservative_and_ais_optimistic_on_a_trained_rbm(digits_rbm):
    # The sandwich: per image, RAISE <= exact (in expectation); AIS's log Z <= exact log Z.
    (W, b, c), train, test = digits_rbm
    test = test[:100]
    exact_per_image = -rbm_free_energy(W, b, c, test) - rbm_log_partition(W, b, c)
    conservative = rbm_log_likelihood(W, b, c, test, method="raise", base_data=train, schedule=FAST, seed=1)
    gap = conservative.per_image - exact_per_image
    gap_se = gap.std(ddof=1) / math.sqrt(gap.size)
    assert gap.mean() <= 3.0 * gap_se
    assert conservative.bound == "conservative" and conservative.n_images == 100
    optimistic = rbm_log_likelihood(W, b, c, test, method="ais", base_data=train, schedule=FAST, seed=1)
    assert optimistic.mean - exact_per_image.mean() >= -3.0 * optimistic.log_z_stderr
    assert optimistic.bound == "optimistic"


def test_raise_refuses_a_base_fitted_to_nothing():
    W, b, c = _random_rbm(4, 3, seed=0)
    with pytest.raises(ValueError, match="base_data"):
        raise_log_likelihood(W, b, c, np.zeros((2, 4)))


# --- the log-likelihood front door --------------------------------------------------------------


def test_exact_method_matches_the_exact_module_and_ais_reuses_a_given_log_z(digits_rbm):
    (W, b, c), train, test = digits_rbm
    exact = rbm_log_likelihood(W, b, c, test, method="exact")
    mean, stderr = rbm_exact_log_likelihood(W, b, c, test)
    assert exact.mean == pytest.approx(mean) and exact.stderr == pytest.approx(stderr)
    record = exact.as_dict()
    assert set(record) >= {"method", "log_z", "log_likelihood", "n_images"}
    assert record["log_likelihood"] == {"mean": exact.mean, "stderr": exact.stderr}
    log_z = ais_log_partition(W, b, c, data=train, schedule=100, n_runs=10, seed=0)
    reused = rbm_log_likelihood(W, b, c, test, method="ais", log_partition=log_z)
    assert reused.log_z == log_z.log_z
    assert reused.mean == pytest.approx(mean + exact.log_z - log_z.log_z)
    assert reused.stderr == pytest.approx(math.hypot(stderr, log_z.log_z_stderr))


def test_bad_arguments_are_refused():
    W, b, c = _random_rbm(4, 3, seed=0)
    with pytest.raises(ValueError, match="method"):
        rbm_log_likelihood(W, b, c, np.zeros((2, 4)), method="guess")
    with pytest.raises(ValueError, match="only 0 and 1"):
        rbm_log_likelihood(W, b, c, np.full((2, 4), 2.0), method="exact")
    with pytest.raises(TypeError, match="n_runs"):
        ais_log_partition(W, b, c, n_runs=1.5)
    with pytest.raises(ValueError, match="either data"):
        ais_log_partition(W, b, c, data=np.zeros((2, 4)), base_visible_bias=np.zeros(4))
    with pytest.raises(ValueError, match="base_visible_bias must have shape"):
        ais_log_partition(W, b, c, base_visible_bias=np.zeros(5))
    with pytest.raises(ValueError, match="seed"):
        ais_log_partition(W, b, c, seed=-1)


def test_raise_on_one_image_reports_the_error_of_its_runs_not_zero():
    # up to 0.6.9 one test image gave stderr = 0 (no spread over images to measure) for an
    # estimate that scatters by 0.27 nats from seed to seed with one run
    import json

    rng = np.random.default_rng(0)
    W, b, c = rng.normal(0, 1.0, (6, 4)), rng.normal(0, 0.5, 6), rng.normal(0, 0.5, 4)
    image = (rng.random((1, 6)) < 0.5).astype(float)
    base = (rng.random((50, 6)) < 0.5).astype(float)
    exact = rbm_log_likelihood(W, b, c, image, method="exact").mean
    one = raise_log_likelihood(W, b, c, image, base_data=base, schedule=30, seed=0)
    assert one.stderr == math.inf and one.log_z_stderr == math.inf
    assert json.loads(json.dumps(one.as_dict(), allow_nan=False))["log_likelihood"]["stderr"] is None
    runs = [raise_log_likelihood(W, b, c, image, base_data=base, schedule=30, n_runs=20, seed=s) for s in range(12)]
    scatter = np.std([r.mean for r in runs], ddof=1)
    errors = np.array([r.stderr for r in runs])
    assert np.all(np.isfinite(errors)) and np.all(errors > 0)
    assert 0.5 * scatter < np.median(errors) < 2.0 * scatter  # the delta-method error is the scatter's size
    assert all(abs(r.mean - exact) < 4 * r.stderr for r in runs)


def test_ais_weights_with_a_heavy_tail_are_flagged_and_a_slow_schedule_is_not():
    # 10 steps on a strongly coupled RBM: a handful of runs carry Z (Pareto k-hat ~1); 300 steps: k-hat ~0
    W, b, c = _random_rbm(24, 10, seed=0, scale=2.5)
    fast = ais_log_partition(W, b, c, schedule=10, n_runs=2000, seed=1)
    slow = ais_log_partition(W, b, c, schedule=300, n_runs=2000, seed=1)
    assert fast.pareto_k > 0.7 and "cannot be trusted" in fast.problem and "annealing" in fast.problem
    assert slow.pareto_k < 0.5 and slow.problem is None
    assert fast.as_dict()["pareto_k"] == pytest.approx(fast.pareto_k) and fast.as_dict()["warning"] == fast.problem
    estimate = rbm_log_likelihood(W, b, c, np.ones((3, 24)), method="ais", log_partition=fast)
    assert estimate.warning == fast.problem and estimate.as_dict()["log_z_pareto_k"] == pytest.approx(fast.pareto_k)
