"""The scikit-learn RBM estimator: scikit-learn's own checks, exact scores, features, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import logsumexp
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from thermolearn.learning.rbm_estimator import BoltzmannRBM


def binary_states(n: int) -> np.ndarray:
    return ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(np.float64)


# scikit-learn's checks feed real-valued data (blobs, Gaussian noise); binarize=0 maps them
# to {0, 1} so every check applies. The default (binarize=None) refuses such data: tested below.
@parametrize_with_checks([BoltzmannRBM(n_components=3, n_iter=2, binarize=0.0)])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    x = (rng.random((200, 6)) < np.linspace(0.1, 0.8, 6)).astype(float)
    return BoltzmannRBM(n_components=3, n_iter=3, random_state=0).fit(x), x


def test_exact_score_samples_is_a_normalised_log_probability(fitted):
    est, _ = fitted
    assert est.score_method_ == "exact"
    states = binary_states(6)
    logp = est.score_samples(states)
    # p(v) over all 64 states sums to 1 (float64 evaluation: a few ulps of the 64-term sum)
    assert logsumexp(logp) == pytest.approx(0.0, abs=1e-12)
    # and the ratios are exp(F(v') - F(v)) of the fitted model
    np.testing.assert_allclose(
        logp - logp[0], -(est.model_.free_energy(states) - est.model_.free_energy(states[:1])), atol=1e-5
    )


def test_pseudo_score_samples_sums_single_unit_conditionals(fitted):
    est, x = fitted
    pseudo = clone(est).set_params(score_method="pseudo")
    pseudo.model_ = est.model_
    pseudo._publish()
    pseudo.n_features_in_ = est.n_features_in_
    want = np.zeros(len(x))
    for i in range(x.shape[1]):
        flipped = x.copy()
        flipped[:, i] = 1 - flipped[:, i]
        want -= np.logaddexp(0.0, est.score_samples(flipped) - est.score_samples(x))
    np.testing.assert_allclose(pseudo.score_samples(x), want, atol=1e-10)
    np.testing.assert_allclose(pseudo.score_samples(x[:20]), est.model_.pseudo_log_likelihood(x[:20]), atol=1e-4)


def test_transform_is_the_hidden_conditional(fitted):
    est, x = fitted
    np.testing.assert_allclose(est.transform(x), est.model_.hidden_probabilities(x), atol=1e-6)
    assert est.components_.shape == (3, 6)
    v = est.gibbs(x[:5])
    assert v.shape == (5, 6) and set(np.unique(v)) <= {0.0, 1.0}
    assert est.sample(4, n_steps=5).shape == (4, 6)


def test_partial_fit_continues_training(fitted):
    _, x = fitted
    est = BoltzmannRBM(n_components=3, random_state=1)
    est.partial_fit(x)
    w1 = est.components_.copy()
    est.partial_fit(x[:100])
    assert len(est.history_) == 2
    assert not np.array_equal(w1, est.components_)
    with pytest.raises(ValueError, match="features"):
        est.partial_fit(x[:, :5])


def test_non_binary_data_is_refused_by_default(fitted):
    est, x = fitted
    with pytest.raises(ValueError, match="binary data.*binarize"):
        BoltzmannRBM(n_components=2, n_iter=1).fit(x * 0.5)
    with pytest.raises(ValueError, match="binary data"):
        est.transform(x + 1)
    with pytest.raises(ValueError, match="method must be one of"):
        BoltzmannRBM(method="gd").fit(x)
    with pytest.raises(ValueError, match="score_method"):
        BoltzmannRBM(score_method="bic").fit(x)
    with pytest.raises(ValueError, match="engine must be one of auto, jax, sparse"):
        BoltzmannRBM(engine="gpu").fit(x)


def test_either_engine_fits():
    """The default (sparse on the CPU) and the JAX engine both learn two noisy prototypes far
    better than the independent-pixel model they start from (exact scores)."""
    rng = np.random.default_rng(3)
    prototypes = np.array([[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1]], dtype=float)
    x = np.abs(prototypes[rng.integers(0, 2, 400)] - (rng.random((400, 6)) < 0.05))
    start = BoltzmannRBM(n_components=3, n_iter=1, learning_rate=1e-9, random_state=0).fit(x)
    for engine in ("auto", "jax"):
        est = BoltzmannRBM(n_components=3, n_iter=30, learning_rate=0.1, random_state=0, engine=engine).fit(x)
        assert est.get_params()["engine"] == engine
        gain = est.score_samples(x) - start.score_samples(x)
        # independent pixels score -4.16 nats, the true mixture -1.88: 30 epochs gain about 1
        assert gain.mean() > 0.5, (engine, gain.mean())
