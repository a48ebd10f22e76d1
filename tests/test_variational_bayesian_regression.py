"""The machine-learning ELBO: Bayesian linear regression, where the exact posterior is known."""

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from thermolearn.variational import BayesianLinearRegression


@pytest.fixture
def problem():
    p, _ = BayesianLinearRegression.synthetic(n_samples=25, n_features=3, noise_std=0.7, input_correlation=0.8, seed=4)
    return p


def gaussian_kl(m0, S0, m1, S1):
    d = m0.size
    S1inv = np.linalg.inv(S1)
    return 0.5 * (
        np.trace(S1inv @ S0) + (m1 - m0) @ S1inv @ (m1 - m0) - d + np.linalg.slogdet(S1)[1] - np.linalg.slogdet(S0)[1]
    )


def test_log_evidence_is_the_marginal_gaussian_likelihood(problem):
    C = problem.noise_variance * np.eye(25) + problem.X @ problem.X.T / problem.prior_precision
    assert problem.log_evidence() == pytest.approx(multivariate_normal(np.zeros(25), C).logpdf(problem.y), rel=1e-12)


def test_elbo_is_the_evidence_minus_kl_and_reaches_it_at_the_exact_posterior(problem):
    mean, cov = problem.posterior()
    evidence = problem.log_evidence()
    assert problem.elbo(mean, cov) == pytest.approx(evidence, abs=1e-10)
    rng = np.random.default_rng(0)
    for _ in range(10):
        m = mean + rng.normal(0, 0.3, size=3)
        A = rng.normal(size=(3, 3))
        S = A @ A.T * 0.05 + 0.01 * np.eye(3)
        elbo = problem.elbo(m, S)
        assert elbo < evidence
        assert evidence - elbo == pytest.approx(gaussian_kl(m, S, mean, cov), rel=1e-9)


def test_closed_form_elbo_matches_its_monte_carlo_estimate(problem):
    mean, cov = problem.posterior()
    m, S = mean + 0.1, np.diag(np.diag(cov))
    rng = np.random.default_rng(1)
    w = rng.multivariate_normal(m, S, size=20000)
    loglik = multivariate_normal(np.zeros(25), problem.noise_variance * np.eye(25))
    values = (
        loglik.logpdf(problem.y[None, :] - w @ problem.X.T)
        + multivariate_normal(np.zeros(3), np.eye(3) / problem.prior_precision).logpdf(w)
        - multivariate_normal(m, S).logpdf(w)
    )
    stderr = values.std(ddof=1) / np.sqrt(values.size)
    assert problem.elbo(m, S) == pytest.approx(values.mean(), abs=4 * stderr)


def test_mean_field_coordinate_ascent_climbs_to_the_factorised_optimum(problem):
    r = problem.mean_field()
    mean, cov = problem.posterior()
    assert r.converged
    assert np.all(np.diff(r.history) >= -1e-12)  # every coordinate update raises the ELBO
    np.testing.assert_allclose(r.mean, mean, atol=1e-10)  # the mean is exact ...
    np.testing.assert_allclose(r.variances, 1 / np.diag(problem.posterior_precision))
    assert np.all(r.variances < np.diag(cov))  # ... the uncertainty is too small
    assert r.gap == pytest.approx(problem.mean_field_gap(), rel=1e-8)
    assert r.gap > 0.1  # correlated inputs: a real gap


def test_bad_input():
    with pytest.raises(ValueError, match="one entry per row"):
        BayesianLinearRegression(np.ones((3, 2)), np.ones(4))
    with pytest.raises(ValueError, match="prior_precision"):
        BayesianLinearRegression(np.ones((3, 2)), np.ones(3), prior_precision=0.0)
    p = BayesianLinearRegression(np.eye(2), np.ones(2))
    with pytest.raises(ValueError, match="positive definite"):
        p.elbo(np.zeros(2), -np.eye(2))
