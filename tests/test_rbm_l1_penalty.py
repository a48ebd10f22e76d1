"""train_rbm's L1 penalty (Mehta and Schwab 2014): the update subtracts lr * l1 * sign(W), and a
run without it keeps its numbers and its checkpoint record."""

from __future__ import annotations

import numpy as np
import pytest

from thermolearn.learning.contrastive_divergence import train_rbm
from thermolearn.models.rbm import RBM


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return (rng.random((40, 12)) < 0.3).astype(np.uint8)


def _one_update(start, data, l1):
    # one minibatch of all rows, no momentum: theta_1 = theta_0 + lr * (grad - l1 sign W_0)
    return train_rbm(
        start,
        data,
        epochs=1,
        batch_size=len(data),
        learning_rate=0.1,
        momentum=0.0,
        method="cd",
        seed=5,
        exact_log_likelihood=False,
        progress=False,
        engine="jax",
        l1_penalty=l1,
    ).model


def test_l1_update_subtracts_learning_rate_times_penalty_times_sign_of_weights(data):
    start = RBM.random(12, 5, scale=0.1, seed=1)
    plain = _one_update(start, data, 0.0)
    penalised = _one_update(start, data, 0.3)
    # the same seed draws the same Gibbs noise, so the runs differ by the penalty term alone
    np.testing.assert_allclose(
        penalised.weights - plain.weights, -0.1 * 0.3 * np.sign(start.weights), rtol=0, atol=2e-6
    )
    np.testing.assert_array_equal(penalised.visible_bias, plain.visible_bias)
    np.testing.assert_array_equal(penalised.hidden_bias, plain.hidden_bias)


def test_l1_penalty_makes_weights_sparser(data):
    start = RBM.random(12, 5, scale=0.1, seed=2)
    args = dict(epochs=30, batch_size=10, learning_rate=0.05, seed=1, exact_log_likelihood=False, progress=False)
    plain = train_rbm(start, data, engine="jax", **args).model
    sparse = train_rbm(start, data, l1_penalty=0.05, **args).model
    assert np.abs(sparse.weights).sum() < 0.7 * np.abs(plain.weights).sum()


def test_a_run_without_l1_is_unchanged_and_its_checkpoint_record_has_no_l1_key(tmp_path, data):
    from thermolearn.file_contents import FileContents

    start = RBM.random(12, 5, scale=0.1, seed=3)
    args = dict(epochs=2, batch_size=10, seed=2, exact_log_likelihood=False, progress=False, engine="jax")
    default = train_rbm(start, data, checkpoint=tmp_path / "a.npz", **args).model
    explicit = train_rbm(start, data, l1_penalty=0.0, **args).model
    np.testing.assert_array_equal(default.weights, explicit.weights)
    header = FileContents.read(tmp_path / "a.npz").header
    assert "l1_penalty" not in str(header)
    train_rbm(start, data, checkpoint=tmp_path / "b.npz", l1_penalty=0.01, **args)
    assert "l1_penalty" in str(FileContents.read(tmp_path / "b.npz").header)


def test_l1_resume_from_checkpoint_is_bit_identical(tmp_path, data):
    start = RBM.random(12, 5, scale=0.1, seed=4)
    args = dict(batch_size=10, seed=2, exact_log_likelihood=False, progress=False, l1_penalty=0.02)
    straight = train_rbm(start, data, epochs=4, **args).model
    ck = tmp_path / "l1.npz"
    train_rbm(start, data, epochs=2, checkpoint=ck, **args)
    resumed = train_rbm(start, data, epochs=4, checkpoint=ck, **args).model
    np.testing.assert_array_equal(resumed.weights, straight.weights)


def test_bad_l1_penalty_and_sparse_engine_are_refused(data):
    start = RBM.random(12, 5, seed=0)
    with pytest.raises(ValueError, match="l1_penalty must be >= 0"):
        train_rbm(start, data, epochs=1, batch_size=10, l1_penalty=-0.1, progress=False)
    with pytest.raises(ValueError, match="L1 penalty needs engine='jax'"):
        train_rbm(start, data, epochs=1, batch_size=10, l1_penalty=0.1, engine="sparse", progress=False)
    with pytest.raises(ValueError, match="l1_penalty"):
        train_rbm(start, data, epochs=1, batch_size=10, l1_penalty=float("nan"), progress=False)
