"""The general Boltzmann machine and the Ackley-Hinton-Sejnowski learning rule.

Energies and log Z are checked against brute-force sums and against the Ising form (summed
by the compiled enumeration); the Gibbs sampler against exact probabilities by Pearson's
chi-square on independent chains; the exact gradient against finite differences of the
exact log-likelihood; the sampled gradient against the exact one within its own error
bars (with a negative control that the same test rejects); training against the exact
log-likelihood. Seeds are fixed.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp

from thermolearn.exact.enumeration import enumerate_exact
from thermolearn.learning.boltzmann_learning import (
    all_binary_states,
    exact_free_energy,
    exact_gradient,
    exact_log_likelihood,
    exact_log_partition,
    independent_log_likelihood,
    sampled_gradient,
    train,
)
from thermolearn.models.boltzmann import BoltzmannMachine
from thermolearn.models.ising import Ising
from thermolearn.samplers import HeatBath, ParallelTempering

ALPHA = 1e-4  # false-alarm rate per test (seeds are fixed, so a pass is a pass on every run)


def _machine(nv: int = 4, nh: int = 3, seed: int = 1) -> BoltzmannMachine:
    return BoltzmannMachine.random(nv, nh, weight_std=1.0, bias_std=0.5, seed=seed)


def _probabilities(bm: BoltzmannMachine) -> np.ndarray:
    e = bm.energy(all_binary_states(bm.n_units))
    return np.exp(-e - logsumexp(-e))


def _teacher() -> BoltzmannMachine:
    """Two hidden causes, each switching on a group of three visible units (on about half the
    time: the hidden bias cancels the entropy the coupling gives it), so strong correlations."""
    nv, nh = 6, 2
    W = np.zeros((8, 8))
    W[0:3, 6] = W[6, 0:3] = 4.0
    W[3:6, 7] = W[7, 3:6] = 4.0
    W[0, 3] = W[3, 0] = -1.0
    b = np.concatenate([np.full(nv, -2.0), np.full(nh, -6.0)])
    return BoltzmannMachine(W, b, nv)


def _exact_data(bm: BoltzmannMachine, m: int, seed: int) -> np.ndarray:
    p = _probabilities(bm)
    idx = np.random.default_rng(seed).choice(p.size, size=m, p=p)
    return all_binary_states(bm.n_units)[idx, : bm.n_visible]


# ---------------------------------------------------------------------- the model
def test_energy_is_minus_half_xWx_minus_bx_by_direct_sum():
    bm = _machine()
    x = all_binary_states(bm.n_units)
    W, b = bm.weights, bm.biases
    naive = np.array([-sum(W[i, j] * s[i] * s[j] for i in range(7) for j in range(i + 1, 7)) - b @ s for s in x])
    np.testing.assert_allclose(bm.energy(x), naive, atol=1e-12)
    assert isinstance(bm.energy(x[5]), float)


def test_ising_form_has_the_same_energies_up_to_the_exact_offset_and_round_trips():
    bm = _machine()
    form = bm.to_ising()
    ising, offset = form.ising, form.offset
    x = all_binary_states(bm.n_units)
    np.testing.assert_allclose(ising.energy(2 * x - 1) + offset, bm.energy(x), atol=1e-12)
    back, offset2 = BoltzmannMachine.from_ising(ising, n_visible=bm.n_visible)
    np.testing.assert_allclose(back.energy(x) + offset2, ising.energy(2 * x - 1), atol=1e-12)
    np.testing.assert_allclose(back.weights, bm.weights, atol=1e-12)
    np.testing.assert_allclose(back.biases, bm.biases, atol=1e-12)


def test_exact_log_partition_matches_brute_force_and_compiled_enumeration_of_the_ising_form():
    bm = _machine(5, 4, seed=7)
    e = bm.energy(all_binary_states(bm.n_units))
    assert exact_log_partition(bm) == pytest.approx(logsumexp(-e), abs=1e-10)
    form = bm.to_ising()
    ising, offset = form.ising, form.offset
    # E_bm = E_ising + offset, so log Z_bm = log Z_ising - offset at T = 1
    assert exact_log_partition(bm) == pytest.approx(enumerate_exact(ising, 1.0)[0].log_z - offset, abs=1e-9)


def test_free_energy_sums_over_hidden_states_and_log_likelihood_is_normalised():
    bm = _machine(3, 4, seed=2)
    x = all_binary_states(bm.n_units)
    e = bm.energy(x)
    v_all = all_binary_states(3)
    f = exact_free_energy(bm, v_all)
    for k, v in enumerate(v_all):
        rows = np.all(x[:, :3] == v, axis=1)
        assert f[k] == pytest.approx(-logsumexp(-e[rows]), abs=1e-10)
    # p(v) sums to one over every visible vector
    log_z = exact_log_partition(bm)
    assert np.exp(-f - log_z).sum() == pytest.approx(1.0, abs=1e-12)
    assert exact_log_likelihood(bm, v_all[[1, 1, 6]]) == pytest.approx(np.mean(-f[[1, 1, 6]]) - log_z, abs=1e-12)


def test_conditional_probability_is_the_ratio_of_boltzmann_weights():
    bm = _machine()
    x = all_binary_states(bm.n_units)
    p = bm.conditional_probabilities(x)
    for i in range(bm.n_units):
        on, off = x.copy(), x.copy()
        on[:, i], off[:, i] = 1, 0
        expected = 1.0 / (1.0 + np.exp(bm.energy(on) - bm.energy(off)))
        np.testing.assert_allclose(p[:, i], expected, atol=1e-12)


def test_gibbs_sampler_draws_the_boltzmann_distribution_chi_square():
    bm = BoltzmannMachine.random(3, 3, weight_std=0.6, bias_std=0.3, seed=4)
    n_chains = 20000
    start = np.zeros((n_chains, bm.n_units), dtype=np.int8)
    final = bm.gibbs(start, 30, seed=11)  # independent chains: one draw each
    counts = np.bincount(final @ (1 << np.arange(bm.n_units)), minlength=2**bm.n_units)
    expected = n_chains * _probabilities(bm)
    assert expected.min() > 5
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < stats.chi2.ppf(1 - ALPHA, counts.size - 1)
    # negative control: the same test rejects the distribution of a different machine
    wrong = n_chains * _probabilities(BoltzmannMachine.random(3, 3, weight_std=0.6, bias_std=0.3, seed=5))
    assert ((counts - wrong) ** 2 / wrong).sum() > stats.chi2.ppf(1 - ALPHA, counts.size - 1)


def test_clamped_gibbs_keeps_visibles_and_draws_hidden_from_p_h_given_v():
    bm = _machine(3, 3, seed=6)
    v = np.array([1, 0, 1], dtype=np.int8)
    n_chains = 6000
    start = np.zeros((n_chains, bm.n_units), dtype=np.int8)
    start[:, :3] = v
    final = bm.gibbs(start, 25, clamp_visible=True, seed=3)
    assert np.all(final[:, :3] == v)
    h_all = all_binary_states(3)
    e = bm.energy(np.concatenate([np.repeat(v[None], 8, axis=0), h_all], axis=1))
    expected = n_chains * np.exp(-e - logsumexp(-e))
    counts = np.bincount(final[:, 3:] @ (1 << np.arange(3)), minlength=8)
    assert ((counts - expected) ** 2 / expected).sum() < stats.chi2.ppf(1 - ALPHA, 7)


def test_gibbs_is_reproducible_and_continues_from_generator_states():
    bm = _machine()
    start = np.zeros((5, bm.n_units), dtype=np.int8)
    a = bm.gibbs(start, 7, seed=3)
    np.testing.assert_array_equal(a, bm.gibbs(start, 7, seed=3))
    from thermolearn.models.boltzmann import chain_generators

    gen = chain_generators(3, 5)
    b = bm.gibbs(bm.gibbs(start, 3, seed=gen), 4, seed=gen)
    np.testing.assert_array_equal(a, b)


def test_save_load_round_trip_is_exact(tmp_path):
    bm = BoltzmannMachine.random(4, 3, weight_std=0.7, bias_std=0.3, connectivity="semi-restricted", seed=9, name="bm")
    path = bm.save(tmp_path / "bm.npz")
    back = BoltzmannMachine.load(path)
    assert back == bm and back.name == "bm"
    assert not back.connectivity[5, 6]
    Ising.lattice(4).save(tmp_path / "ising.npz")
    with pytest.raises(ValueError, match="not a Boltzmann machine"):
        BoltzmannMachine.load(tmp_path / "ising.npz")


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda W, b: (W + np.triu(np.ones_like(W), 1) * 0.1, b), "symmetric"),
        (lambda W, b: (W + np.eye(len(b)), b), "zero diagonal"),
        (lambda W, b: (np.where(W != 0, np.nan, W), b), "NaN"),
        (lambda W, b: (W, b[:-1]), "shape"),
        (lambda W, b: (W[:, :-1], b), "square"),
    ],
)
def test_bad_parameters_are_refused(change, match):
    bm = _machine()
    W, b = change(np.array(bm.weights), np.array(bm.biases))
    with pytest.raises(ValueError, match=match):
        BoltzmannMachine(W, b, 4)


def test_bad_architecture_and_data_are_refused():
    bm = _machine()
    with pytest.raises(ValueError, match="n_visible"):
        BoltzmannMachine(np.array(bm.weights), np.array(bm.biases), 9)
    with pytest.raises(ValueError, match="connectivity mask excludes"):
        BoltzmannMachine(np.array(bm.weights), np.array(bm.biases), 4, connectivity="restricted")
    with pytest.raises(ValueError, match="connectivity must be one of"):
        BoltzmannMachine.zeros(2, 2, connectivity="sparse")
    with pytest.raises(ValueError, match="0 and 1"):
        exact_log_likelihood(bm, np.array([[0, 1, 2, 0]]))
    with pytest.raises(ValueError, match="0 and 1"):
        bm.energy(np.full(7, 0.5))
    with pytest.raises(ValueError, match="shape"):
        exact_gradient(bm, np.zeros((3, 5), dtype=np.int8))
    with pytest.raises(ValueError, match="limited"):
        exact_log_partition(BoltzmannMachine.zeros(15, 6))
    with pytest.raises(ValueError, match="method"):
        train(bm, np.zeros((2, 4), dtype=np.int8), method="cd")


# ---------------------------------------------------------------------- the learning rule
def test_exact_gradient_matches_central_finite_differences_of_the_exact_log_likelihood():
    bm = _machine(4, 3, seed=8)
    data = np.random.default_rng(0).integers(0, 2, size=(40, 4))
    g = exact_gradient(bm, data)
    assert g.log_likelihood == pytest.approx(exact_log_likelihood(bm, data), abs=1e-12)
    W0, b0 = np.array(bm.weights), np.array(bm.biases)
    eps = 1e-5  # central differences: truncation error ~ eps^2 * (third derivative <= 1) ~ 1e-10
    for i, j in [(0, 1), (0, 5), (4, 6), (2, 3)]:
        dW = np.zeros_like(W0)
        dW[i, j] = dW[j, i] = eps
        fd = (
            exact_log_likelihood(bm.with_parameters(W0 + dW, b0), data)
            - exact_log_likelihood(bm.with_parameters(W0 - dW, b0), data)
        ) / (2 * eps)
        assert g.weights[i, j] == pytest.approx(fd, abs=1e-8)
    for i in (0, 6):
        db = np.zeros_like(b0)
        db[i] = eps
        fd = (
            exact_log_likelihood(bm.with_parameters(W0, b0 + db), data)
            - exact_log_likelihood(bm.with_parameters(W0, b0 - db), data)
        ) / (2 * eps)
        assert g.biases[i] == pytest.approx(fd, abs=1e-8)


def _z_scores(sampled, exact_w, exact_b, mask):
    iu = np.triu_indices(mask.shape[0], k=1)
    keep = mask[iu]
    zw = ((sampled.weights - exact_w) / np.where(sampled.weights_stderr > 0, sampled.weights_stderr, 1.0))[iu][keep]
    zb = (sampled.biases - exact_b) / sampled.biases_stderr
    return np.concatenate([zw, zb])


@pytest.mark.parametrize(
    "sampler", [None, "heatbath", "pt"], ids=["own-gibbs", "heatbath-on-ising", "parallel-tempering"]
)
def test_sampled_gradient_agrees_with_exact_gradient_within_its_error_bars(sampler):
    bm = _machine(4, 3, seed=1)
    data = np.random.default_rng(0).integers(0, 2, size=(25, 4))
    smp = {None: None, "heatbath": HeatBath(), "pt": ParallelTempering([1.0, 1.4, 2.0], base="heatbath")}[sampler]
    g = sampled_gradient(bm, data, positive_chains=8, negative_chains=48, burn_in=20, sweeps=120, sampler=smp, seed=5)
    exact = exact_gradient(bm, data)
    z = _z_scores(g, exact.weights, exact.biases, bm.connectivity)
    # standard errors from 48 free chains (and 25 x 8 clamped ones): Student t with the smaller
    # count's degrees of freedom, Bonferroni over the components
    limit = stats.t.ppf(1 - ALPHA / (2 * z.size), df=47)
    assert np.max(np.abs(z)) < limit
    if sampler is None:
        # negative control: the exact gradient of a slightly different machine is rejected by the same test
        other = exact_gradient(bm.with_parameters(np.array(bm.weights) * 1.3, bm.biases), data)
        assert np.max(np.abs(_z_scores(g, other.weights, other.biases, bm.connectivity))) > limit


def test_sampled_gradient_of_fully_visible_machine_has_exact_data_phase():
    bm = BoltzmannMachine.random(5, 0, weight_std=0.8, seed=3)
    data = np.random.default_rng(1).integers(0, 2, size=(30, 5))
    g = sampled_gradient(bm, data, negative_chains=16, burn_in=5, sweeps=10, seed=0)
    x = data.astype(float)
    np.testing.assert_allclose(g.data_moments, x.T @ x / 30, atol=1e-12)


def test_exact_gradient_ascent_increases_the_log_likelihood_monotonically():
    teacher = _teacher()
    data = _exact_data(teacher, 400, seed=1)
    student = BoltzmannMachine.random(6, 2, weight_std=0.1, seed=0)
    # the log-likelihood's Hessian is a difference of covariances of the n(n+1)/2 statistics, each
    # of norm <= n(n+1)/2 / 4, so steps below 4 / (n(n+1)/2) can only go uphill
    n_stats = 8 * 9 // 2
    r = train(student, data, method="exact", epochs=40, learning_rate=4.0 / n_stats, seed=0)
    ll = np.array(r.log_likelihood)
    assert ll.size == 41 and r.updates == 40
    assert np.all(np.diff(ll) > 0)


def test_persistent_sampled_training_learns_correlations_beyond_independent_units():
    teacher = _teacher()
    data = _exact_data(teacher, 600, seed=2)
    student = BoltzmannMachine.random(6, 2, weight_std=0.1, seed=0)
    r = train(
        student,
        data,
        method="pcd",
        epochs=40,
        learning_rate=0.05,
        batch_size=60,
        n_chains=60,
        sweeps=1,
        momentum=0.5,
        seed=3,
    )
    assert r.log_likelihood[-1] > r.log_likelihood[0]
    # per-vector log-likelihood gain over the best independent-unit model, with its standard error
    f = exact_free_energy(r.machine, data)
    log_p = -f - exact_log_partition(r.machine)
    p_on = data.mean(axis=0)
    log_q = (data * np.log(p_on) + (1 - data) * np.log1p(-p_on)).sum(axis=1)
    assert np.mean(log_q) == pytest.approx(independent_log_likelihood(data), abs=1e-12)
    gain = log_p - log_q
    assert gain.mean() > 3.0 * gain.std(ddof=1) / np.sqrt(gain.size)


def test_training_keeps_excluded_couplings_at_zero():
    teacher = _teacher()
    data = _exact_data(teacher, 200, seed=4)
    student = BoltzmannMachine.random(6, 2, weight_std=0.1, connectivity="restricted", seed=0)
    for method in ("exact", "pcd"):
        r = train(student, data, method=method, epochs=3, learning_rate=0.1, batch_size=50, n_chains=20, seed=1)
        W = r.machine.weights
        assert np.all(W[:6, :6] == 0) and np.all(W[6:, 6:] == 0) and np.any(W[:6, 6:] != 0)
        np.testing.assert_array_equal(W, W.T)


def test_training_is_reproducible_for_a_seed():
    data = _exact_data(_teacher(), 100, seed=5)
    student = BoltzmannMachine.random(6, 2, weight_std=0.1, seed=0)
    a = train(student, data, epochs=2, batch_size=25, n_chains=10, seed=4, sampler=HeatBath())
    b = train(student, data, epochs=2, batch_size=25, n_chains=10, seed=4, sampler=HeatBath())
    assert a.machine == b.machine
