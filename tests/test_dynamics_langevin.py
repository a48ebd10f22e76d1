"""Langevin samplers against exact posteriors: the mean and covariance of Bayesian linear
regression, the mode weights of Welling and Teh's mixture, the closed-form bias of unadjusted
Langevin (and MALA without it), divergence and bad input, bit-identical resume."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg

from thermolearn.dynamics import langevin as langevin_module
from thermolearn.dynamics.langevin import DivergenceError, run_langevin, ula_stationary_covariance
from thermolearn.dynamics.posteriors import (
    Posterior,
    gaussian_posterior,
    make_posterior,
    mixture_quadrature,
)

Z = 4.0  # tolerance in standard errors


def within(measured, stderr, exact, z=Z):
    measured, stderr, exact = map(np.asarray, (measured, stderr, exact))
    assert np.all(stderr > 0)
    assert np.all(np.abs(measured - exact) <= z * stderr), (measured, exact, stderr)


@pytest.fixture(scope="module")
def regression():
    return make_posterior("linear-regression", seed=0)


@pytest.fixture(scope="module")
def mixture():
    return make_posterior("mixture", seed=0)


def test_ula_bias_in_closed_form_and_mala_removes_it():
    s2, eta = 1.0, 0.8
    g = gaussian_posterior(s2)
    predicted = ula_stationary_covariance(1.0 / s2, eta)[0, 0]
    assert predicted == pytest.approx(s2 / (1.0 - eta / (4.0 * s2)))
    ula = run_langevin(g, "ula", step=eta, steps=6000, n_chains=8, seed=1, init_spread=1.0)
    cov, err = ula.cov_estimates()
    within(cov[0, 0], err[0, 0], predicted)
    assert abs(cov[0, 0] - s2) > Z * err[0, 0]  # the bias is resolved, not hidden in the noise
    mala = run_langevin(g, "mala", step=eta, steps=6000, n_chains=8, seed=1, init_spread=1.0)
    cov, err = mala.cov_estimates()
    within(cov[0, 0], err[0, 0], s2)
    within(mala.mean, mala.mean_stderr, [0.0])
    assert 0.3 < mala.acceptance < 1.0


def test_ula_covariance_is_the_lyapunov_fixed_point():
    lam = np.array([[3.0, 1.0], [1.0, 2.0]])
    eta = 0.3
    a = np.eye(2) - 0.5 * eta * lam
    np.testing.assert_allclose(
        ula_stationary_covariance(lam, eta), scipy.linalg.solve_discrete_lyapunov(a, eta * np.eye(2)), rtol=1e-10
    )
    with pytest.raises(ValueError, match="4 / lambda_max"):
        ula_stationary_covariance(lam, 4.001 / np.linalg.eigvalsh(lam).max())


@pytest.mark.parametrize(
    ("sampler", "step", "extra"),
    [
        ("mala", 0.05, {}),
        ("hmc", 0.1, {"leapfrog_steps": 3, "friction": 1.0, "mass": 2.0}),
        ("ula", 0.01, {}),
        ("sgld", 0.01, {"batch_size": 5, "decay_offset": 2000.0}),
    ],
)
def test_linear_regression_posterior_moments(regression, sampler, step, extra):
    r = run_langevin(regression, sampler, step=step, steps=8000, n_chains=8, seed=2, **extra)
    within(r.mean, r.mean_stderr, regression.exact_mean)
    cov, err = r.cov_estimates()
    target = regression.exact_cov
    if sampler == "ula":  # ULA's stationary law is the biased one, exactly
        target = ula_stationary_covariance(np.linalg.inv(regression.exact_cov), step)
    within(cov, err, target)


def test_mixture_quadrature_converged(mixture):
    coarse = mixture_quadrature(mixture.data[0], points=201)
    fine = mixture_quadrature(mixture.data[0], points=601)
    np.testing.assert_allclose(coarse.mode_weights, fine.mode_weights, atol=1e-5)
    assert fine.mode_weights.sum() == pytest.approx(1.0)
    assert 0.3 < fine.mode_weights[0] < 0.7  # bimodal indeed


def test_mixture_mode_weights(mixture):
    r = run_langevin(mixture, "mala", step=0.05, steps=12000, n_chains=8, seed=3)
    weights = r.mode_weights()
    assert weights is not None and mixture.exact_mode_weights is not None
    within([w.mean for w in weights], [w.stderr for w in weights], mixture.exact_mode_weights)
    quad = mixture.details["quadrature"]
    within(r.mean, r.mean_stderr, quad.mean)
    record = r.as_dict()
    assert record["exact_mean"] is None and record["exact_cov"] is None
    assert len(record["mode_weights"]) == 2


def test_divergent_step_stops_with_last_good_state():
    g = gaussian_posterior(1.0)
    with pytest.raises(DivergenceError, match="diverged at step") as info:
        run_langevin(g, "ula", step=4.5, steps=2000, n_chains=8, seed=0, init_spread=1.0)
    err = info.value
    assert err.reason == "diverged"
    assert np.all(np.isfinite(err.last_good)) and np.max(np.abs(err.last_good)) <= 1e12
    # |1 - eta / 2| = 1.25 per step from |theta| ~ 1: the bound 1e12 is passed after ~ ln(1e12) / ln(1.25) steps
    assert 0 < err.step < 3 * math.log(1e12) / math.log(1.25)


def test_non_finite_gradient_is_an_error():
    def cusp(theta, params):
        import jax.numpy as jnp

        return -jnp.sqrt(jnp.abs(theta)).sum()

    p = Posterior(name="cusp", dim=1, log_prior=cusp, log_likelihood=None, data=(), params=(), init=np.zeros(1))
    with pytest.raises(DivergenceError, match="non-finite gradient"):
        run_langevin(p, "mala", step=0.1, steps=100, n_chains=2)


def test_bad_input(regression):
    with pytest.raises(ValueError, match="larger than the data"):
        run_langevin(regression, "sgld", step=0.01, steps=100, batch_size=21)
    with pytest.raises(ValueError, match="needs data"):
        run_langevin(gaussian_posterior(), "sgld", step=0.01, steps=100)
    with pytest.raises(ValueError, match="unknown sampler"):
        run_langevin(regression, "gibbs", step=0.01, steps=100)
    with pytest.raises(ValueError, match="step"):
        run_langevin(regression, "mala", step=-1.0, steps=100)


def test_checkpoint_resume_is_bit_identical(tmp_path, monkeypatch, regression):
    kw = dict(step=0.01, steps=1500, n_chains=8, seed=5, batch_size=5, checkpoint_every=500)
    whole = run_langevin(regression, "sgld", checkpoint=tmp_path / "a.npz", **kw)
    real_save = langevin_module._save
    calls = []

    def save_then_die(*args):
        real_save(*args)
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(langevin_module, "_save", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        run_langevin(regression, "sgld", checkpoint=tmp_path / "b.npz", **kw)
    monkeypatch.setattr(langevin_module, "_save", real_save)
    resumed = run_langevin(regression, "sgld", checkpoint=tmp_path / "b.npz", **kw)
    assert resumed.resumed_from == 1000
    np.testing.assert_array_equal(resumed.samples, whole.samples)
    np.testing.assert_array_equal(resumed.final_state, whole.final_state)
    with pytest.raises(ValueError, match="different run"):
        run_langevin(regression, "sgld", checkpoint=tmp_path / "b.npz", **(kw | {"seed": 6}))
