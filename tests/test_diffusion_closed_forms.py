"""Closed forms of Gaussian and binomial diffusion, checked against Bayes' rule, composition and Monte Carlo."""

from __future__ import annotations

import json
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.scipy.special import log_ndtr

from thermolearn.diffusion import (
    BinomialDiffusion,
    DiffusionConfig,
    DiffusionModel,
    GaussianDiffusion,
    bernoulli_kl,
    beta_schedule,
    gaussian_kl,
    gaussian_log_density,
    log_likelihood_bound,
)
from thermolearn.diffusion.binomial import binary_entropy

# --- schedules ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["paper", "linear", "cosine", "snr", "binomial"])
def test_schedules_are_valid_variances(name):
    b = beta_schedule(name, 40)
    assert b.shape == (40,)
    assert np.all(b > 0) and np.all(b <= 1)
    if name != "binomial":
        assert np.all(b < 1)


def test_paper_schedule_matches_reference_formula():
    T = 40
    b = beta_schedule("paper", T)
    base = 1.0 / np.linspace(T, 2.0, T)
    min_beta = np.full(T, 1e-6)
    min_beta[0] += 1e-3
    np.testing.assert_allclose(b, min_beta + base * (1 - min_beta - 1e-5), rtol=1e-12)
    # about a fraction 1/T of the data's variance survives T steps
    assert 0.5 / T < np.prod(1 - b) < 2.0 / T


@pytest.mark.parametrize("beta_1", [None, 1e-5, 1e-3])
def test_snr_schedule_is_linear_in_log_snr(beta_1):
    from thermolearn.diffusion.schedules import SNR_DEFAULT_BETA_1, SNR_FINAL_LOG

    T = 40
    b = beta_schedule("snr", T, beta_1=beta_1)
    abar = np.cumprod(1 - b)
    log_snr = np.log(abar) - np.log1p(-abar)
    first = SNR_DEFAULT_BETA_1 if beta_1 is None else beta_1
    np.testing.assert_allclose(b[0], first, rtol=1e-12)
    np.testing.assert_allclose(
        log_snr, np.linspace(math.log((1 - first) / first), SNR_FINAL_LOG, T), rtol=1e-9, atol=1e-9
    )
    # the noise standard deviation shrinks by the same factor at every step near the data
    noise_sd = np.sqrt(1 - abar[:5])
    ratios = noise_sd[1:] / noise_sd[:-1]
    np.testing.assert_allclose(ratios, ratios[0], rtol=0.02)


def test_binomial_schedule_forgets_everything_at_the_end():
    b = beta_schedule("binomial", 10)
    np.testing.assert_allclose(b, 1.0 / (10 - np.arange(1, 11) + 1))
    assert BinomialDiffusion(b).gamma[-1] == 0.0


def test_schedule_rejects_bad_input():
    with pytest.raises(ValueError, match="schedule must be one of"):
        beta_schedule("quadratic", 10)
    with pytest.raises(ValueError, match="steps"):
        beta_schedule("linear", 1)
    with pytest.raises(ValueError, match="beta_1"):
        beta_schedule("linear", 10, beta_1=2.0)


# --- Gaussian forward process ---------------------------------------------------------------


@pytest.fixture(scope="module")
def gauss():
    return GaussianDiffusion(beta_schedule("linear", 20))


def test_marginal_equals_composition_of_kernels_analytically(gauss):
    # composing x_t = sqrt(alpha_t) x_{t-1} + sqrt(beta_t) eps: mean factor prod sqrt(alpha), variance recursion
    mean_factor, var = 1.0, 0.0
    for t in range(1, gauss.T + 1):
        mean_factor *= math.sqrt(1 - gauss.beta[t])
        var = (1 - gauss.beta[t]) * var + gauss.beta[t]
        assert math.isclose(mean_factor, math.sqrt(gauss.alpha_bar[t]), rel_tol=1e-12)
        assert math.isclose(var, gauss.one_minus_alpha_bar[t], rel_tol=1e-12)


def test_marginal_equals_composition_of_kernels_by_sampling(gauss):
    n, t_end = 40_000, 12
    x0 = jnp.full((n, 1), 1.5)
    key = jax.random.PRNGKey(3)
    x = x0
    step = jax.jit(lambda x, t, k: gauss.step_sample(x, jnp.full((n,), t), jax.random.normal(k, x.shape)))
    for t in range(1, t_end + 1):
        key, k = jax.random.split(key)
        x = step(x, t, k)
    mean, var = gauss.marginal_mean_var(x0[:1], jnp.array([t_end]))
    x = np.asarray(x, dtype=np.float64)[:, 0]
    se_mean = math.sqrt(float(var[0, 0]) / n)
    se_var = float(var[0, 0]) * math.sqrt(2.0 / n)
    assert abs(x.mean() - float(mean[0, 0])) < 5 * se_mean
    assert abs(x.var() - float(var[0, 0])) < 5 * se_var


def test_posterior_matches_bayes_rule_on_a_grid(gauss):
    # q(x_{t-1} | x_t, x_0) proportional to q(x_t | x_{t-1}) q(x_{t-1} | x_0), integrated numerically
    x0, xt = 0.7, -0.4
    for t in (2, 5, 20):
        ab_prev = gauss.alpha_bar[t - 1]
        grid = np.linspace(-6, 6, 400_001)
        log_prior = -0.5 * (grid - math.sqrt(ab_prev) * x0) ** 2 / (1 - ab_prev)
        log_like = -0.5 * (xt - math.sqrt(1 - gauss.beta[t]) * grid) ** 2 / gauss.beta[t]
        w = np.exp(log_prior + log_like - np.max(log_prior + log_like))
        w /= w.sum()
        m = (w * grid).sum()
        v = (w * (grid - m) ** 2).sum()
        mean, var = gauss.posterior_mean_var(jnp.array([[xt]]), jnp.array([[x0]]), jnp.array([t]))
        assert abs(float(mean[0, 0]) - m) < 1e-5
        assert abs(float(var[0, 0]) - v) < 1e-5 * max(v, 1e-3)


def test_posterior_at_first_step_is_the_data(gauss):
    mean, var = gauss.posterior_mean_var(jnp.array([[0.3]]), jnp.array([[1.1]]), jnp.array([1]))
    assert float(mean[0, 0]) == pytest.approx(1.1) and float(var[0, 0]) == 0.0


def test_gaussian_kl_matches_monte_carlo():
    rng = np.random.default_rng(0)
    m1, v1, m2, v2 = np.array([0.3, -1.0]), np.array([0.5, 2.0]), np.array([0.0, 0.5]), np.array([1.2, 0.7])
    x = m1 + np.sqrt(v1) * rng.standard_normal((400_000, 2))
    log_ratio = np.asarray(gaussian_log_density(x, m1, v1), dtype=np.float64) - np.asarray(
        gaussian_log_density(x, m2, v2), dtype=np.float64
    )
    kl = float(gaussian_kl(m1, v1, m2, v2))
    assert abs(log_ratio.mean() - kl) < 5 * log_ratio.std() / math.sqrt(len(x))
    assert float(gaussian_kl(m1, v1, m1, v1)) == pytest.approx(0.0, abs=1e-6)


def test_gaussian_log_density_is_the_normal_density():
    x, m, v = np.array([[0.2, -1.3]]), np.array([[0.0, 1.0]]), np.array([[0.5, 2.0]])
    expected = sum(
        math.log(math.exp(-0.5 * (xi - mi) ** 2 / vi) / math.sqrt(2 * math.pi * vi))
        for xi, mi, vi in zip(x[0], m[0], v[0])
    )
    assert float(gaussian_log_density(x, m, v)[0]) == pytest.approx(expected, rel=1e-6)


def test_gaussian_entropy_bounds_contain_the_exact_reverse_entropy(gauss):
    # For Gaussian data N(0, s^2) every marginal is Gaussian, so H_q(X_{t-1}|X_t) is known exactly
    lo, hi = gauss.reverse_entropy_bounds()
    assert np.all(lo[1:] <= hi[1:]) and np.isneginf(lo[0])

    def exact(s2):
        v = gauss.alpha_bar * s2 + gauss.one_minus_alpha_bar  # Var x_t, t = 0..T
        cond_var = v[:-1] - gauss.alpha[1:] * v[:-1] ** 2 / v[1:]  # Var(x_{t-1} | x_t), t = 1..T
        return 0.5 * (math.log(2 * math.pi) + 1 + np.log(cond_var))

    for s2 in (1e-4, 0.3, 1.0, 5.0):
        assert np.all(exact(s2)[1:] >= lo[1:] - 1e-9)  # the lower bound always holds
    for s2 in (1e-4, 0.3, 1.0):  # the upper bound needs entropy to grow along the chain (variance <= 1)
        assert np.all(exact(s2) <= hi + 1e-9)
    assert np.any(exact(5.0) > hi)  # data wider than N(0, 1) lose entropy on the way, and it fails


# --- binomial forward process ---------------------------------------------------------------


@pytest.fixture(scope="module")
def binom():
    return BinomialDiffusion(beta_schedule("binomial", 12))


def _kernel(beta):
    # column-stochastic transition matrix: M[new, old]
    return np.array([[1 - beta / 2, beta / 2], [beta / 2, 1 - beta / 2]])


def test_binomial_marginals_equal_products_of_kernels(binom):
    for x0 in (0, 1):
        p = np.array([1.0 - x0, float(x0)])  # distribution over (0, 1)
        for t in range(1, binom.T + 1):
            p = _kernel(binom.beta[t]) @ p
            got = float(binom.marginal_prob(jnp.array([[float(x0)]]), jnp.array([t]))[0, 0])
            assert got == pytest.approx(p[1], abs=1e-6)
    assert float(binom.marginal_prob(jnp.array([[1.0]]), jnp.array([binom.T]))[0, 0]) == pytest.approx(0.5)


def test_binomial_marginal_by_sampling(binom):
    n, t_end = 200_000, 4
    x = jnp.ones((n, 1))
    key = jax.random.PRNGKey(0)
    for t in range(1, t_end + 1):
        key, k = jax.random.split(key)
        x = jax.random.bernoulli(k, binom.step_prob(x, jnp.full((n,), t))).astype(jnp.float32)
    p = float(binom.marginal_prob(jnp.ones((1, 1)), jnp.array([t_end]))[0, 0])
    assert abs(float(x.mean()) - p) < 5 * math.sqrt(p * (1 - p) / n)


def test_binomial_posterior_matches_bayes_rule(binom):
    for t in (2, 5, binom.T):
        for x0 in (0.0, 1.0):
            prior1 = 0.5 + binom.gamma[t - 1] * (x0 - 0.5)
            for xt in (0.0, 1.0):
                like = lambda prev: _kernel(binom.beta[t])[int(xt), prev]  # noqa: E731, B023 (used at once, inside the loop)
                expected = like(1) * prior1 / (like(1) * prior1 + like(0) * (1 - prior1))
                got = float(binom.posterior_prob(jnp.array([[xt]]), jnp.array([[x0]]), jnp.array([t]))[0, 0])
                assert got == pytest.approx(expected, abs=1e-6)


def test_bernoulli_kl_exact_and_monte_carlo():
    p, q = np.array([0.2, 0.9, 0.0]), np.array([0.5, 0.6, 0.3])
    exact = np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1) / q), 0) + (1 - p) * np.log((1 - p) / (1 - q)))
    assert float(bernoulli_kl(p, q)) == pytest.approx(exact, rel=1e-5)
    rng = np.random.default_rng(1)
    x = rng.random((200_000, 3)) < p
    lr = np.where(x, np.log(np.maximum(p, 1e-300) / q), np.log((1 - p) / (1 - q))).sum(1)
    assert abs(lr.mean() - exact) < 5 * lr.std() / math.sqrt(len(lr))


def test_binomial_entropy_bounds(binom):
    lo, hi = binom.reverse_entropy_bounds()
    assert np.all(lo <= hi + 1e-12)
    np.testing.assert_allclose(hi, binary_entropy(binom.beta[1:] / 2))


# --- the bound ------------------------------------------------------------------------------


class ExactGaussianReverse(DiffusionModel):
    """The exact reverse process of Gaussian data N(m, s^2 I): every conditional is Gaussian and known."""

    def __init__(self, config, net, m, s2):
        super().__init__(config, net)
        p = self.process
        self.m, self.s2 = m, s2
        self.v = p.alpha_bar * s2 + p.one_minus_alpha_bar  # Var x_t, t = 0..T
        self.mu = np.sqrt(p.alpha_bar) * m  # E x_t

    def reverse_mean_var(self, net, x_t, t):
        p = self.process
        v_prev, v_t = self.v[np.arange(p.T + 1) - 1], self.v
        gain = np.sqrt(p.alpha) * v_prev / v_t
        var = v_prev - p.alpha * v_prev**2 / v_t
        mu_prev = self.mu[np.arange(p.T + 1) - 1]
        mean = p._at(mu_prev, t) + p._at(gain, t) * (x_t - p._at(self.mu, t))
        return mean, p._at(var, t)

    def prior_kl(self, x0):
        p = self.process
        t = jnp.full((x0.shape[0],), p.T)
        mean, var = p.marginal_mean_var(x0, t)
        return gaussian_kl(mean, var, float(self.mu[-1]), float(self.v[-1]))


def test_bound_of_the_exact_reverse_process_is_the_exact_log_likelihood():
    config = DiffusionConfig(dim=2, steps=10, schedule="linear", learn_variance=False, hidden=4, depth=1)
    template = DiffusionModel.create(config, seed=0)
    m, s2 = 0.5, 0.3
    exact_model = ExactGaussianReverse(config, template.net, m, s2)
    rng = np.random.default_rng(0)
    x0 = m + math.sqrt(s2) * rng.standard_normal((4000, 2))
    res = log_likelihood_bound(exact_model, x0, seed=0)
    logq = (-0.5 * (np.log(2 * np.pi * s2) + (x0 - m) ** 2 / s2)).sum(1) / math.log(2)
    diff = res.bits - logq  # zero in expectation for every x0
    assert abs(diff.mean()) < 4 * diff.std(ddof=1) / math.sqrt(len(diff)) + 1e-4
    # ... and a wrong reverse process (the untrained network) gives a strictly lower bound
    worse = log_likelihood_bound(template, x0, seed=0)
    assert worse.mean < res.mean - 10 * worse.stderr


def test_bound_is_the_sum_of_its_terms():
    config = DiffusionConfig(dim=2, steps=6, schedule="linear", hidden=8, depth=1)
    model = DiffusionModel.create(config, seed=1)
    x0 = np.random.default_rng(2).standard_normal((50, 2))
    res = log_likelihood_bound(model, x0, seed=3, batch_size=50)
    total = res.reconstruction_bits + res.kl_bits.sum() + res.prior_bits + res.offset_bits
    assert res.mean == pytest.approx(total, rel=1e-9, abs=1e-9)
    prior, kl, rec = (np.asarray(a, dtype=np.float64) for a in model.bound_terms(x0, jax.random.PRNGKey(0)))
    assert prior.shape == (50,) and kl.shape == (50, 5) and rec.shape == (50,)
    assert np.all(kl >= -1e-5) and np.all(prior >= -1e-6)  # KL divergences are never negative
    # quantised images: per dimension, with log2 of the bin width per pixel, still the sum of its terms
    xq = (2 * np.random.default_rng(4).integers(0, 4, (50, 2)) + 1) / 4 - 1  # bin centres of 4 levels
    res_pd = log_likelihood_bound(model, xq, seed=3, batch_size=50, per_dim=True, levels=4)
    assert res_pd.offset_bits == pytest.approx(math.log2(2 / 4), rel=1e-12)
    total = res_pd.reconstruction_bits + res_pd.kl_bits.sum() + res_pd.prior_bits + res_pd.offset_bits
    assert res_pd.mean == pytest.approx(total, rel=1e-9, abs=1e-9)


def test_bound_of_one_sample_has_no_standard_error():
    model = DiffusionModel.create(DiffusionConfig(dim=2, steps=4, hidden=4, depth=1), seed=0)
    res = log_likelihood_bound(model, np.zeros((1, 2)))
    assert res.n == 1 and math.isnan(res.stderr) and math.isfinite(res.mean)
    record = res.as_dict()
    assert record["bound_bits"]["stderr"] is None  # JSON has no NaN: null, as Estimate.as_dict writes it
    json.dumps(record, allow_nan=False)


def test_bound_rejects_bad_input():
    model = DiffusionModel.create(DiffusionConfig(dim=2, steps=4, hidden=4, depth=1), seed=0)
    with pytest.raises(ValueError, match="shape"):
        log_likelihood_bound(model, np.zeros((5, 3)))
    with pytest.raises(ValueError, match="NaN"):
        log_likelihood_bound(model, np.full((5, 2), np.nan))
    with pytest.raises(TypeError):
        log_likelihood_bound("model", np.zeros((5, 2)))


# --- quantised images: the bound on the probability of the discrete image ---------------------

LEVELS = 4
CENTRES = (2 * np.arange(LEVELS) + 1) / LEVELS - 1  # grey level k sits at (2k + 1)/levels - 1


class CentresNoise(eqx.Module):
    """Exact noise prediction E[eps | x_t] for pixels uniform over the 4 bin centres (a point mass on
    each): the model's density is a narrow peak on every centre."""

    alpha_bar: jnp.ndarray

    def __call__(self, x, t):
        ab = self.alpha_bar[jnp.asarray(t).astype(jnp.int32)]
        c = jnp.asarray(CENTRES, jnp.float32)
        weights = jax.nn.softmax(-0.5 * (x[:, None] - jnp.sqrt(ab) * c) ** 2 / (1 - ab), axis=1)
        return (x - jnp.sqrt(ab) * (weights @ c)) / jnp.sqrt(1 - ab)


class UniformNoise(eqx.Module):
    """Exact noise prediction for pixels uniform on [-1, 1] (the dequantised law of uniform grey levels),
    with the variance output +1: the reverse variance beta_t, right where the data look flat."""

    alpha_bar: jnp.ndarray

    def __call__(self, x, t):
        ab = self.alpha_bar[jnp.asarray(t).astype(jnp.int32)]
        s = jnp.sqrt((1 - ab) / ab)  # x_0 | x_t is N(x_t / sqrt(ab), s^2) cut to [-1, 1]
        mu = x / jnp.sqrt(ab)
        a, b = (-1 - mu) / s, (1 - mu) / s
        # log P(a < Z < b) from the tail nearer to the interval: the difference underflows in float32
        log_mass = jnp.where(
            a > 0,
            log_ndtr(-a) + jnp.log1p(-jnp.exp(log_ndtr(-b) - log_ndtr(-a))),
            log_ndtr(b) + jnp.log1p(-jnp.exp(log_ndtr(a) - log_ndtr(b))),
        )
        shift = (jnp.exp(-0.5 * a**2 - log_mass) - jnp.exp(-0.5 * b**2 - log_mass)) / math.sqrt(2 * math.pi)
        x0 = jnp.clip(mu + s * shift, -1.0, 1.0)
        return jnp.concatenate([(x - jnp.sqrt(ab) * x0) / jnp.sqrt(1 - ab), jnp.ones_like(x)])


def _exact_model(net_class, *, steps, learn_variance):
    config = DiffusionConfig(
        dim=4,
        steps=steps,
        schedule="snr",
        beta_1=1e-4,
        parameterization="eps",
        learn_variance=learn_variance,
        image_shape=(2, 2),
        hidden=4,
        depth=1,
    )
    template = DiffusionModel.create(config, seed=0)
    return DiffusionModel(config, net_class(jnp.asarray(template.process.alpha_bar, jnp.float32)))


@pytest.fixture(scope="module")
def uniform_grey_images():
    """2 x 2 images, every pixel uniform over 4 grey levels: log2 P(x) = -2 bits per pixel for every x."""
    return CENTRES[np.random.default_rng(0).integers(0, LEVELS, (1000, 4))]


def test_quantised_bound_stays_below_the_log_probability_of_the_discrete_image(uniform_grey_images):
    # a density peaked on the bin centres scored at the centres gave +2.77 bits per pixel, above the
    # -2 no model can pass; scored on the dequantised image it is a bound (a poor one here)
    model = _exact_model(CentresNoise, steps=40, learn_variance=False)
    res = log_likelihood_bound(model, uniform_grey_images, levels=LEVELS, seed=1)
    assert res.mean <= -2.0 + 2 * res.stderr
    assert res.offset_bits == pytest.approx(-1.0)  # log2 of the bin width 1/2
    # the null model is scored the same way: E_u log2 N(x + u; 0, 1) + log2(1/2), exactly
    x = uniform_grey_images
    expected_null = (-0.5 * (np.log(2 * np.pi) + x**2 + (1 / LEVELS) ** 2 / 3)).mean() / math.log(2) - 1
    assert res.null_bits == pytest.approx(expected_null, rel=1e-9)


def test_quantised_bound_approaches_the_log_probability_for_the_exact_dequantised_model(uniform_grey_images):
    """The model of the dequantised law (uniform on [-1, 1]) gives a bound just below log2 P = -2;
    the gap is the discretisation of the reverse process (about 0.05 bits at T = 100)."""
    model = _exact_model(UniformNoise, steps=100, learn_variance=True)
    res = log_likelihood_bound(model, uniform_grey_images, levels=LEVELS, seed=1)
    assert -2.15 < res.mean <= -2.0 + 2 * res.stderr
    again = log_likelihood_bound(model, uniform_grey_images, levels=LEVELS, seed=1)
    other = log_likelihood_bound(model, uniform_grey_images, levels=LEVELS, seed=2)
    np.testing.assert_array_equal(res.bits, again.bits)  # the dequantisation noise is seeded
    assert not np.array_equal(res.bits, other.bits)


def test_quantised_bound_needs_bin_centres_and_gaussian_diffusion(uniform_grey_images):
    model = _exact_model(CentresNoise, steps=4, learn_variance=False)
    with pytest.raises(ValueError, match="bin centre"):
        log_likelihood_bound(model, uniform_grey_images + 0.1, levels=LEVELS)
    with pytest.raises(ValueError, match="bin centre"):
        log_likelihood_bound(model, uniform_grey_images, levels=3)
    with pytest.raises(ValueError, match="levels must be an integer"):
        log_likelihood_bound(model, uniform_grey_images, levels=1)
    binomial = DiffusionModel.create(DiffusionConfig(dim=4, steps=4, process="binomial", hidden=4, depth=1))
    with pytest.raises(ValueError, match="binomial"):
        log_likelihood_bound(binomial, (uniform_grey_images > 0).astype(float), levels=2)
