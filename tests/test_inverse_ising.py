"""Inverse Ising: recovering J and h from samples of a known model.

With the exact distribution as (weighted) data, maximum likelihood and pseudo-likelihood
both return the true model to optimiser precision. With M exact samples, the squared
coupling error of maximum likelihood follows its asymptotic law (a weighted sum of chi^2
variables from the inverse Fisher information at the truth), so its RMS falls as 1/sqrt(M);
the reported covariance passes a chi^2 test. Pseudo-likelihood on a 6x6 spin glass sampled
by heat bath approaches the truth with its sandwich error bars (Hotelling's F test) and
agrees with maximum likelihood on small n. Seeds are fixed.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from thermolearn.exact.enumeration import probability_table, state_index_to_spins
from thermolearn.learning.inverse_ising import (
    maximum_likelihood,
    mean_field_inversion,
    pseudo_likelihood,
    sample_exactly,
)
from thermolearn.models.ising import Ising
from thermolearn.samplers import ChainState, HeatBath

ALPHA = 1e-4  # false-alarm rate per test


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """These fits are many small matrix products: on a busy two-core machine a multi-threaded
    BLAS spends ten times longer waiting for its threads than computing, so use one."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


N = 8
T_SMALL = 1.3


def _small() -> Ising:
    sk = Ising.sherrington_kirkpatrick(N, coupling_std=1.0, seed=2)
    return Ising(sk.couplings, np.random.default_rng(1).normal(0.0, 0.3, N), name="SK 8 with fields")


def _params(J: np.ndarray, h: np.ndarray) -> np.ndarray:
    return np.concatenate([h, J[np.triu_indices(len(h), k=1)]])


def _true_fisher_covariance_of_couplings(model: Ising, T: float) -> np.ndarray:
    """Inverse Fisher information per sample for (beta h, beta J), by brute force, in energy units."""
    p, _ = probability_table(model, T)
    s = state_index_to_spins(np.arange(p.size), model.n_spins).astype(float)
    iu = np.triu_indices(model.n_spins, k=1)
    phi = np.concatenate([s, s[:, iu[0]] * s[:, iu[1]]], axis=1)
    mean = p @ phi
    fisher = (phi * p[:, None]).T @ phi - np.outer(mean, mean)
    return np.linalg.inv(fisher) * T**2


@pytest.mark.parametrize("fit", [maximum_likelihood, pseudo_likelihood], ids=["ml", "pl"])
def test_infinite_data_recovers_the_true_model(fit):
    truth = _small()
    p, _ = probability_table(truth, T_SMALL)
    every_state = state_index_to_spins(np.arange(p.size), N)
    r = fit(every_state, temperature=T_SMALL, sample_weights=p)
    J, h = truth.to_dense()
    assert r.converged
    # both estimators are consistent: the population optimum is the truth, up to the optimiser's tolerance
    np.testing.assert_allclose(r.couplings, J, atol=1e-5)
    np.testing.assert_allclose(r.fields, h, atol=1e-5)
    assert r.model.n_spins == N and np.allclose(r.model.to_dense()[0], r.couplings)


def test_asymmetric_pseudo_likelihood_is_consistent_and_symmetrised():
    truth = _small()
    p, _ = probability_table(truth, T_SMALL)
    r = pseudo_likelihood(
        state_index_to_spins(np.arange(p.size), N), temperature=T_SMALL, sample_weights=p, symmetric=False
    )
    np.testing.assert_array_equal(r.couplings, r.couplings.T)
    np.testing.assert_allclose(r.couplings, truth.to_dense()[0], atol=1e-5)


def test_maximum_likelihood_error_shrinks_like_one_over_sqrt_samples():
    truth = _small()
    J, h = truth.to_dense()
    iu = np.triu_indices(N, k=1)
    cov1 = _true_fisher_covariance_of_couplings(truth, T_SMALL)
    # the summed squared coupling error is sum_k lambda_k chi^2_1 / M (lambda: eigenvalues of the JJ block)
    lam = np.linalg.eigvalsh(cov1[N:, N:])
    draws = (np.random.default_rng(0).standard_normal((200_000, lam.size)) ** 2) @ lam
    sizes = (1_000, 10_000, 100_000)
    lo, hi = np.quantile(draws, [ALPHA / (2 * len(sizes)), 1 - ALPHA / (2 * len(sizes))])
    rms = []
    for m in sizes:
        s = sample_exactly(truth, m, temperature=T_SMALL, seed=m)
        r = maximum_likelihood(s, temperature=T_SMALL)
        sq = np.sum((r.couplings - J)[iu] ** 2)
        assert lo < sq * m < hi, f"M = {m}: M * |dJ|^2 = {sq * m:.3g} outside [{lo:.3g}, {hi:.3g}]"
        # the reported covariance (inverse Fisher information at the fit) also covers the truth
        d = _params(r.couplings, r.fields) - _params(J, h)
        chi2 = d @ np.linalg.solve(r.covariance, d)
        assert chi2 < stats.chi2.ppf(1 - ALPHA, d.size)
        rms.append(r.coupling_error(truth))
    assert rms[0] > rms[1] > rms[2]


def test_pseudo_likelihood_agrees_with_maximum_likelihood_on_small_systems():
    truth = _small()
    s = sample_exactly(truth, 20_000, temperature=T_SMALL, seed=7)
    ml = maximum_likelihood(s, temperature=T_SMALL)
    pl = pseudo_likelihood(s, temperature=T_SMALL, stderr=True)
    # ML is efficient, so Var(PL - ML) = Var(PL) - Var(ML) <= Var(PL): a conservative bound per parameter
    d = _params(pl.couplings, pl.fields) - _params(ml.couplings, ml.fields)
    se = np.sqrt(np.diag(pl.covariance))
    z = np.abs(d) / se
    assert z.max() < stats.norm.ppf(1 - ALPHA / (2 * d.size))
    # the whole difference: |d|^2 ~ sum_k lambda_k chi^2_1 with lambda the eigenvalues of Cov(PL) - Cov(ML),
    # far below either estimator's own error (they see the same data)
    lam = np.clip(np.linalg.eigvalsh(pl.covariance - ml.covariance), 0.0, None)
    draws = (np.random.default_rng(0).standard_normal((100_000, lam.size)) ** 2) @ lam
    assert d @ d < np.quantile(draws, 1 - ALPHA)
    assert d @ d < np.trace(ml.covariance)


def _heat_bath_samples(model: Ising, T: float, per_chain: int, n_chains: int, thin: int, seed: int) -> np.ndarray:
    state = ChainState.new(model, n_chains, seed)
    sampler = HeatBath()
    betas = np.full(n_chains, 1.0 / T)
    sampler.sweep(model, state, betas, 100)  # burn-in
    out = np.empty((per_chain, n_chains, model.n_spins), dtype=np.int8)
    for k in range(per_chain):
        sampler.sweep(model, state, betas, thin)
        out[k] = state.spins
    return out


def test_pseudo_likelihood_on_a_6x6_spin_glass_approaches_the_truth_within_sandwich_errors():
    ea = Ising.edwards_anderson(6, 2, disorder="pm", seed=4)
    truth = Ising(ea.couplings, np.random.default_rng(2).normal(0.0, 0.3, 36), name="EA 6x6 with fields")
    T = 2.0  # well above the glassy regime: the energy's tau_int is about half a sweep, so every 4th sweep is ~independent
    J, h = truth.to_dense()
    states = _heat_bath_samples(truth, T, per_chain=180, n_chains=50, thin=4, seed=1)
    errors = []
    for m in (1_000, 3_000, 9_000):
        s = states[: m // 50].reshape(-1, 36)
        r = pseudo_likelihood(s, temperature=T, stderr=True)
        assert r.converged
        d = _params(r.couplings, r.fields) - _params(J, h)
        p = d.size
        # the covariance is estimated from the same M samples: Hotelling's T^2 scaling to an F law
        f_stat = (d @ np.linalg.solve(r.covariance, d)) * (m - p) / (p * (m - 1))
        assert stats.f.ppf(ALPHA / 2, p, m - p) < f_stat < stats.f.ppf(1 - ALPHA / 2, p, m - p), (m, f_stat)
        errors.append(r.coupling_error(truth))
    assert errors[0] > errors[1] > errors[2]


def test_mean_field_inversion_is_right_for_weak_couplings_and_wrong_for_strong_ones():
    weak = Ising.sherrington_kirkpatrick(6, coupling_std=0.05, seed=3)
    strong = Ising.sherrington_kirkpatrick(6, coupling_std=1.5, seed=3)
    out = []
    for model in (weak, strong):
        p, _ = probability_table(model, 1.0)
        s = state_index_to_spins(np.arange(p.size), 6)
        # exact moments through weighted states: the only error left is the mean-field approximation
        x = s.astype(float)
        m = p @ x
        C = (x * p[:, None]).T @ x - np.outer(m, m)
        J_mf = -np.linalg.inv(C)
        np.fill_diagonal(J_mf, 0.0)
        J = model.to_dense()[0]
        iu = np.triu_indices(6, k=1)
        out.append(np.sqrt(np.mean((J_mf - J)[iu] ** 2)) / np.sqrt(np.mean(J[iu] ** 2)))
        draws = s[np.random.default_rng(0).choice(p.size, 20_000, p=p)]
        r = mean_field_inversion(draws)
        assert r.method == "naive mean field" and np.allclose(r.couplings, r.couplings.T)
    # the error of naive mean field is second order in the couplings: a few percent at J ~ 0.05/sqrt(6)
    assert out[0] < 0.05 < out[1]


def test_bad_input_is_refused():
    good = sample_exactly(_small(), 50, seed=0)
    with pytest.raises(ValueError, match="-1 and \\+1"):
        maximum_likelihood((good + 1) // 2 * 2)
    with pytest.raises(ValueError, match="shape"):
        pseudo_likelihood(good[0])
    with pytest.raises(ValueError, match="at least 2 spins"):
        pseudo_likelihood(good[:, :1])
    with pytest.raises(ValueError, match="at least 2 samples"):
        maximum_likelihood(good[:1])
    with pytest.raises(ValueError, match="limited to n <= 16"):
        maximum_likelihood(np.ones((3, 17), dtype=np.int8))
    with pytest.raises(ValueError, match="l2"):
        pseudo_likelihood(good, l2=-1.0)
    with pytest.raises(ValueError, match="sample_weights"):
        maximum_likelihood(good, sample_weights=np.ones(3))
    with pytest.raises(ValueError, match="temperature"):
        pseudo_likelihood(good, temperature=0.0)
    with pytest.raises(ValueError, match="symmetric=True"):
        pseudo_likelihood(good, symmetric=False, stderr=True)
    frozen = good.copy()
    frozen[:, 2] = 1
    with pytest.raises(ValueError, match="never change"):
        mean_field_inversion(frozen)
    with pytest.raises(TypeError):
        pseudo_likelihood(np.array([["a", "b"], ["c", "d"]]))


def test_l2_penalty_keeps_couplings_of_frozen_spins_finite():
    s = sample_exactly(_small(), 300, temperature=T_SMALL, seed=1)
    s[:, 0] = 1  # a spin that never flips: its unpenalised couplings would run to infinity
    r = pseudo_likelihood(s, temperature=T_SMALL, l2=0.01)
    assert r.converged and np.all(np.isfinite(r.couplings)) and np.max(np.abs(r.couplings)) < 10


def test_maximum_likelihood_fit_is_a_stationary_point_of_the_fully_visible_boltzmann_machine():
    from thermolearn.learning.boltzmann_learning import exact_gradient
    from thermolearn.models.boltzmann import BoltzmannMachine
    from thermolearn.models.qubo import spins_to_binary

    s = sample_exactly(_small(), 2_000, seed=3)
    fit = maximum_likelihood(s)
    # the same exponential family in binary units: the gradient <x_i x_j>_data - <x_i x_j>_model vanishes there
    bm, _ = BoltzmannMachine.from_ising(fit.model)
    g = exact_gradient(bm, spins_to_binary(s))
    assert np.max(np.abs(g.weights)) < 1e-6 and np.max(np.abs(g.biases)) < 1e-6
    # while at the truth it does not (sampling noise of 2000 samples is ~ 1e-2)
    g_true = exact_gradient(BoltzmannMachine.from_ising(_small())[0], spins_to_binary(s))
    assert np.max(np.abs(g_true.weights)) > 1e-3
