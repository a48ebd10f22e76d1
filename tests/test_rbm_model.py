"""RBM models against enumeration: free energies, conditionals, Gibbs samples, log Z, files."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp

from thermolearn.exact.rbm_models import rbm_model_log_partition
from thermolearn.models.ising import Ising
from thermolearn.models.rbm import RBM, GaussianBernoulliRBM, float_dtype, load_rbm
from thermolearn.storage import save_arrays

# float32 arithmetic on sums of O(10) terms of size O(10): a few hundred ulps of the result
EPS = float(np.finfo(float_dtype()).eps)


def roundoff(scale) -> float:
    return 200 * EPS * (1.0 + float(np.max(np.abs(scale))))


def binary_states(n: int) -> np.ndarray:
    """All 2^n binary states, shape (2^n, n); bit i of the row index is unit i."""
    return ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(np.float64)


def joint_energy(W, b, c, v, h) -> np.ndarray:
    return -np.einsum("ni,ij,nj->n", v, W, h) - v @ b - h @ c


def brute_log_z(model: RBM) -> float:
    """log sum over every (v, h) of exp(-E), by enumerating both layers."""
    v = binary_states(model.n_visible)
    h = binary_states(model.n_hidden)
    e = -(v @ model.weights @ h.T) - (v @ model.visible_bias)[:, None] - (h @ model.hidden_bias)[None, :]
    return float(logsumexp(-e))


def exact_joint(model: RBM, beta: float = 1.0):
    """Every (v, h) state and its probability under exp(-beta E) / Z."""
    nv, nh = model.n_visible, model.n_hidden
    s = binary_states(nv + nh)
    v, h = s[:, :nv], s[:, nv:]
    logw = -beta * joint_energy(model.weights, model.visible_bias, model.hidden_bias, v, h)
    return v, h, np.exp(logw - logsumexp(logw))


def state_index(bits: np.ndarray) -> np.ndarray:
    return (bits.astype(np.int64) << np.arange(bits.shape[1])).sum(axis=1)


@pytest.fixture(scope="module")
def tiny() -> RBM:
    rng = np.random.default_rng(7)
    return RBM(rng.normal(0, 1.0, (4, 3)), rng.normal(0, 0.5, 4), rng.normal(0, 0.5, 3))


@pytest.fixture(scope="module")
def gauss() -> GaussianBernoulliRBM:
    rng = np.random.default_rng(11)
    return GaussianBernoulliRBM(
        rng.normal(0, 0.7, (2, 3)), rng.normal(0, 1, 2), rng.normal(0, 0.5, 3), sigma=[0.8, 1.5]
    )


# ---------------------------------------------------------------------------- energies
def test_energy_is_the_bilinear_form(tiny):
    v = binary_states(4)
    h = binary_states(3)[np.arange(16) % 8]
    want = joint_energy(tiny.weights, tiny.visible_bias, tiny.hidden_bias, v, h)
    np.testing.assert_allclose(tiny.energy(v, h), want, atol=roundoff(want))


def test_free_energy_is_minus_log_sum_over_hidden_states(tiny):
    v = binary_states(4)
    h = binary_states(3)
    e = joint_energy(tiny.weights, tiny.visible_bias, tiny.hidden_bias, np.repeat(v, 8, 0), np.tile(h, (16, 1)))
    want = -logsumexp(-e.reshape(16, 8), axis=1)
    np.testing.assert_allclose(tiny.free_energy(v), want, atol=roundoff(want))


def test_gaussian_free_energy_is_minus_log_sum_over_hidden_states(gauss):
    rng = np.random.default_rng(0)
    v = rng.normal(0, 2, (10, 2))
    h = binary_states(3)
    e = np.array([[gauss.energy(vi, hj)[0] for hj in h] for vi in v])
    want = -logsumexp(-e, axis=1)
    np.testing.assert_allclose(gauss.free_energy(v), want, atol=roundoff(want))
    # the energy itself against its formula
    vv, hh = v[:1], h[5:6]
    s = gauss.sigma
    formula = (
        np.sum((vv - gauss.visible_bias) ** 2 / (2 * s**2)) - hh @ gauss.hidden_bias - (vv / s) @ gauss.weights @ hh.T
    )
    np.testing.assert_allclose(gauss.energy(vv, hh), formula.ravel(), atol=roundoff(formula))


# ---------------------------------------------------------------------------- conditionals
def test_conditionals_equal_exact_ratios(tiny):
    v_all, h_all, p = exact_joint(tiny)
    for v in binary_states(4):
        rows = np.all(v_all == v, axis=1)
        want = (p[rows, None] * h_all[rows]).sum(0) / p[rows].sum()
        np.testing.assert_allclose(tiny.hidden_probabilities(v)[0], want, atol=roundoff(1))
    for h in binary_states(3):
        rows = np.all(h_all == h, axis=1)
        want = (p[rows, None] * v_all[rows]).sum(0) / p[rows].sum()
        np.testing.assert_allclose(tiny.visible_mean(h)[0], want, atol=roundoff(1))


def test_tempered_conditionals_use_beta_times_the_input(tiny):
    v_all, h_all, p = exact_joint(tiny, beta=0.4)
    v = binary_states(4)[5]
    rows = np.all(v_all == v, axis=1)
    want = (p[rows, None] * h_all[rows]).sum(0) / p[rows].sum()
    np.testing.assert_allclose(tiny.hidden_probabilities(v, beta=0.4)[0], want, atol=roundoff(1))


def test_gaussian_visible_conditional_is_the_completed_square(gauss):
    # p(v_i | h) is proportional to exp(-E(v, h)) in v_i: integrate on a fine grid
    h = np.array([1.0, 0.0, 1.0])
    grid = np.linspace(-12, 12, 24001)
    for i in range(2):
        v = np.zeros((grid.size, 2))
        v[:, i] = grid
        logw = -gauss.energy(v, np.tile(h, (grid.size, 1)))
        w = np.exp(logw - logw.max())
        mean = np.sum(w * grid) / np.sum(w)
        var = np.sum(w * (grid - mean) ** 2) / np.sum(w)
        assert gauss.visible_mean(h)[0, i] == pytest.approx(mean, abs=1e-4)
        assert np.sqrt(var) == pytest.approx(gauss.sigma[i], rel=1e-4)


# ---------------------------------------------------------------------------- block Gibbs
def chi_square_p(counts: np.ndarray, probs: np.ndarray) -> float:
    expected = probs * counts.sum()
    return float(stats.chisquare(counts, expected).pvalue)


N_CHAINS = 20000  # one chain count for every tiny-model run: one compiled program


def test_block_gibbs_samples_the_exact_joint_distribution(tiny):
    n = N_CHAINS
    init = np.zeros((n, 4))
    v, h = tiny.gibbs(init, 30, seed=3, return_hidden=True)
    _, _, p = exact_joint(tiny)
    counts = np.bincount(state_index(np.hstack([v, h])), minlength=p.size)
    # a correct sampler gives p-values uniform on (0, 1); a wrong one gives ~0
    assert chi_square_p(counts, p) > 1e-3


def test_tempered_gibbs_samples_exp_minus_beta_e(tiny):
    n = N_CHAINS
    v, h = tiny.gibbs(np.ones((n, 4)), 30, seed=4, beta=0.5, return_hidden=True)
    _, _, p = exact_joint(tiny, beta=0.5)
    counts = np.bincount(state_index(np.hstack([v, h])), minlength=p.size)
    assert chi_square_p(counts, p) > 1e-3


def test_clamped_gibbs_samples_the_conditional_distribution(tiny):
    n = N_CHAINS
    start = np.zeros((n, 4))
    start[:, 0] = 1.0  # clamp v_0 = 1, v_1 = 0
    clamp = np.array([True, True, False, False])
    v = tiny.gibbs(start, 30, seed=5, clamp=clamp)
    assert np.all(v[:, 0] == 1) and np.all(v[:, 1] == 0)
    v_all, _, p = exact_joint(tiny)
    rows = (v_all[:, 0] == 1) & (v_all[:, 1] == 0)
    free = state_index(v_all[rows][:, 2:])
    probs = np.bincount(free, weights=p[rows], minlength=4)
    counts = np.bincount(state_index(v[:, 2:]), minlength=4)
    assert chi_square_p(counts, probs / probs.sum()) > 1e-3


def test_gaussian_gibbs_matches_exact_moments(gauss):
    # p(h) = exp(c.h + (b/sigma).W h + |W h|^2 / 2) / sum; v | h ~ N(b + sigma W h, sigma^2)
    h = binary_states(3)
    wh = h @ gauss.weights.T
    logp = h @ gauss.hidden_bias + wh @ (gauss.visible_bias / gauss.sigma) + 0.5 * np.sum(wh**2, 1)
    ph = np.exp(logp - logsumexp(logp))
    means = gauss.visible_bias + gauss.sigma * wh
    mean = ph @ means
    second = ph @ (means**2) + gauss.sigma**2
    var = second - mean**2
    n = 20000
    v = gauss.sample(n, n_steps=50, seed=6)
    se_mean = np.sqrt(var / n)
    assert np.all(np.abs(v.mean(0) - mean) < 5 * se_mean)
    # Var of the sample variance for a Gaussian mixture: use the sample fourth moment
    m4 = np.mean((v - v.mean(0)) ** 4, 0)
    se_var = np.sqrt((m4 - v.var(0) ** 2) / n)
    assert np.all(np.abs(v.var(0) - var) < 5 * se_var)


def test_gibbs_is_reproducible_from_the_seed(tiny):
    start = np.zeros((N_CHAINS, 4))
    a = tiny.gibbs(start, 5, seed=9)
    b = tiny.gibbs(start, 5, seed=9)
    c = tiny.gibbs(start, 5, seed=10)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    g1 = tiny.sample(N_CHAINS, n_steps=3, seed=np.random.default_rng(1))
    g2 = tiny.sample(N_CHAINS, n_steps=3, seed=np.random.default_rng(1))
    np.testing.assert_array_equal(g1, g2)


def test_gibbs_trace_records_free_energies_and_keeps_clamped_pixels(tiny):
    start = np.array([[1, 0, 1, 1], [0, 0, 0, 0]], dtype=float)
    clamp = np.array([True, False, False, True])
    tr = tiny.gibbs_trace(start, 12, every=3, seed=2, clamp=clamp)
    assert tr.visible.shape == (5, 2, 4) and tr.free_energy.shape == (5, 2)
    np.testing.assert_array_equal(tr.sweeps, [0, 3, 6, 9, 12])
    np.testing.assert_array_equal(tr.visible[:, :, clamp], np.broadcast_to(start[:, clamp], (5, 2, 2)))
    for r in range(5):
        np.testing.assert_allclose(tr.free_energy[r], tiny.free_energy(tr.visible[r]), atol=roundoff(tr.free_energy))
    assert np.all(np.isnan(tr.energy[0])) and np.all(np.isfinite(tr.energy[1:]))
    assert np.all((tr.probabilities >= 0) & (tr.probabilities <= 1))


# ---------------------------------------------------------------------------- likelihoods
def test_exact_log_partition_matches_enumeration(tiny):
    assert rbm_model_log_partition(tiny) == pytest.approx(brute_log_z(tiny), abs=1e-10)
    wide = RBM.random(9, 3, scale=1.0, seed=2)  # the hidden layer is the smaller one here
    assert rbm_model_log_partition(wide) == pytest.approx(brute_log_z(wide), abs=1e-10)


def test_log_probabilities_of_all_states_sum_to_one(tiny):
    logp = tiny.log_probability(binary_states(4), rbm_model_log_partition(tiny))
    assert logsumexp(logp) == pytest.approx(0.0, abs=roundoff(logp))
    data = binary_states(4)[[1, 2, 2, 7]]
    assert tiny.log_likelihood(data, 1.5) == pytest.approx(np.mean(-tiny.free_energy(data)) - 1.5)


def test_gaussian_log_partition_matches_numerical_integration(gauss):
    grid = np.linspace(-15, 15, 1501)
    dx = grid[1] - grid[0]
    v = np.stack(np.meshgrid(grid, grid, indexing="ij"), -1).reshape(-1, 2)
    f = gauss.free_energy(v)
    numeric = logsumexp(-f) + 2 * np.log(dx)
    # the float32 free energies carry relative error ~EPS each; the integral inherits it
    assert rbm_model_log_partition(gauss) == pytest.approx(numeric, abs=roundoff(f))


def test_pseudo_log_likelihood_sums_exact_single_unit_conditionals():
    model = RBM.random(6, 5, scale=1.0, seed=3)
    v = binary_states(6)[::7]
    want = np.zeros(len(v))
    for i in range(6):
        flipped = v.copy()
        flipped[:, i] = 1 - flipped[:, i]
        # p(v_i | v_-i) = exp(-F(v)) / (exp(-F(v)) + exp(-F(v flipped)))
        want += -np.logaddexp(0.0, model.free_energy(v) - model.free_energy(flipped))
    np.testing.assert_allclose(model.pseudo_log_likelihood(v, batch_size=3), want, atol=roundoff(want) * 6)


def test_reconstruction_error_is_the_mean_field_squared_error(tiny):
    v = binary_states(4)
    ph = tiny.hidden_probabilities(v)
    rec = 1 / (1 + np.exp(-(ph @ tiny.weights.T + tiny.visible_bias)))
    assert tiny.reconstruction_error(v) == pytest.approx(np.mean((v - rec) ** 2), abs=roundoff(1))
    assert 0 <= tiny.reconstruction_error(v, seed=1) <= 1


# ---------------------------------------------------------------------------- files
def test_save_and_load_round_trip_exactly(tmp_path, tiny, gauss):
    tiny.save(tmp_path / "b.npz")
    gauss.save(tmp_path / "g.npz")
    assert RBM.load(tmp_path / "b.npz") == tiny
    assert GaussianBernoulliRBM.load(tmp_path / "g.npz") == gauss
    assert load_rbm(tmp_path / "g.npz") == gauss


def test_loading_the_wrong_kind_of_file_is_refused(tmp_path, tiny, gauss):
    gauss.save(tmp_path / "g.npz")
    with pytest.raises(ValueError, match="gaussian RBM, not a bernoulli"):
        RBM.load(tmp_path / "g.npz")
    Ising.lattice((4,)).save(tmp_path / "ising.npz")
    with pytest.raises(ValueError, match="not an RBM"):
        load_rbm(tmp_path / "ising.npz")
    arrays = tiny.arrays()
    save_arrays(tmp_path / "bad.npz", arrays, tiny.header(n_hidden=7))
    with pytest.raises(ValueError, match="header says"):
        load_rbm(tmp_path / "bad.npz")
    bad = dict(arrays, weights=np.full((4, 3), np.nan))
    save_arrays(tmp_path / "nan.npz", bad, tiny.header())
    with pytest.raises(ValueError, match="NaN"):
        load_rbm(tmp_path / "nan.npz")
    with pytest.raises(ValueError, match="no such file"):
        load_rbm(tmp_path / "missing.npz")


# ---------------------------------------------------------------------------- bad input
def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="NaN"):
        RBM(np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError, match="infinity"):
        RBM(np.ones((2, 2)), [0.0, np.inf])
    with pytest.raises(ValueError, match="visible_bias must have shape"):
        RBM(np.ones((3, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="hidden_bias must have shape"):
        RBM(np.ones((3, 2)), None, np.zeros(3))
    with pytest.raises(ValueError, match="2D"):
        RBM(np.ones(3))
    with pytest.raises(ValueError, match="sigma must be > 0"):
        GaussianBernoulliRBM(np.ones((2, 2)), sigma=[1.0, 0.0])


def test_bad_data_is_refused(tiny, gauss):
    with pytest.raises(ValueError, match="only binary units 0 and 1"):
        tiny.free_energy(np.array([[0, 1, 0.5, 1]]))
    with pytest.raises(ValueError, match="only binary units 0 and 1"):
        tiny.free_energy(np.array([[-1, 1, 1, 1]]))
    with pytest.raises(ValueError, match=r"shape \(n_samples, 4\)"):
        tiny.free_energy(np.zeros((2, 5)))
    with pytest.raises(TypeError, match="numeric"):
        tiny.free_energy(np.array([["a"] * 4]))
    with pytest.raises(ValueError, match="NaN"):
        gauss.free_energy(np.array([[np.nan, 0.0]]))
    with pytest.raises(ValueError, match="beta must be > 0"):
        gauss.gibbs(np.zeros((1, 2)), 1, beta=0.0)
    with pytest.raises(TypeError, match="boolean mask"):
        tiny.gibbs(np.zeros((1, 4)), 1, clamp=np.array([1, 0, 0, 0]))
    with pytest.raises(ValueError, match="clamp must have shape"):
        tiny.gibbs(np.zeros((1, 4)), 1, clamp=np.array([True, False]))
    with pytest.raises(TypeError, match="seed"):
        tiny.gibbs(np.zeros((1, 4)), 1, seed="x")
    with pytest.raises(ValueError, match="multiple of every"):
        tiny.gibbs_trace(np.zeros((1, 4)), 5, every=2)
    with pytest.raises(ValueError, match="log_z"):
        tiny.log_likelihood(np.zeros((1, 4)), float("nan"))


@pytest.mark.parametrize("scale", [1.0, 10.0])
def test_gaussian_log_partition_is_float64_exact(scale):
    # up to 0.6.9 the sum ran in float32: 3e-4 nats off at weight scale 10 for an "exact" log Z
    from thermolearn.exact import rbm_model_log_partition

    rng = np.random.default_rng(0)
    n, m = 10, 8
    W, b, c = scale * rng.standard_normal((n, m)), scale * rng.standard_normal(n), scale * rng.standard_normal(m)
    sigma = rng.uniform(0.5, 2.0, n)
    hidden = ((np.arange(2**m)[:, None] >> np.arange(m)) & 1).astype(float)
    wh = hidden @ W.T  # the visible units integrated out by hand, term by term
    terms = hidden @ c + wh @ (b / sigma) + 0.5 * np.sum(wh**2, axis=1)
    want = np.sum(np.log(sigma)) + n * 0.5 * np.log(2 * np.pi) + logsumexp(terms)
    got = rbm_model_log_partition(GaussianBernoulliRBM(W, b, c, sigma))
    assert got == pytest.approx(want, rel=1e-13, abs=1e-11)
