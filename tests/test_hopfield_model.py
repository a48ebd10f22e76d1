"""Hopfield networks and dense associative memories: energies, recall dynamics, classification,
finite-temperature recall against exact enumeration, files and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from tests.brute_force import all_states
from thermolearn.estimators.autocorrelation import error_of_mean, integrated_autocorrelation_time
from thermolearn.exact.enumeration import probability_table
from thermolearn.learning.hebbian import store
from thermolearn.models.dense_memory import DenseAssociativeMemory, ModernHopfield
from thermolearn.models.hopfield import Hopfield, classify_state, corrupt
from thermolearn.runs.recall import recall


def random_patterns(p, n, seed):
    return np.random.default_rng(seed).choice(np.array([-1, 1], dtype=np.int8), size=(p, n))


def naive_energy(J, b, s):
    n = len(s)
    e = 0.0
    for i in range(n):
        for j in range(n):
            e -= 0.5 * J[i, j] * s[i] * s[j]
        e -= b[i] * s[i]
    return e


def test_energy_matches_the_naive_double_sum_and_the_ising_model_on_every_state():
    rng = np.random.default_rng(1)
    A = rng.normal(size=(8, 8))
    J = A + A.T
    np.fill_diagonal(J, 0.0)
    b = rng.normal(size=8)
    net = Hopfield(J, b)
    states = all_states(8)
    e = net.energy(states)
    assert np.allclose(e, [naive_energy(J, b, s) for s in states], atol=1e-12)
    assert np.allclose(e, net.to_ising().ising.energy(states), atol=1e-12)
    # flipping unit i changes E by 2 s_i h_i
    s = states[37]
    h = net.local_fields(s)
    for i in range(8):
        t = s.copy()
        t[i] = -t[i]
        assert math.isclose(net.energy(t) - net.energy(s), 2 * s[i] * h[i], abs_tol=1e-12)


def test_stored_patterns_are_fixed_points_at_low_load():
    xi = random_patterns(5, 200, seed=2)  # alpha = 0.025: crosstalk sd 0.16 against signal 1
    net = store(xi)
    assert np.all(net.is_fixed_point(xi))
    for mu in range(5):
        r = net.recall(xi[mu], seed=mu)
        assert np.array_equal(r.final, xi[mu]) and r.sweeps == 1 and r.converged
        assert r.classification == "pattern" and r.pattern_index == mu and r.overlaps[mu] == 1.0


def test_async_energy_never_rises_and_ends_in_a_fixed_point():
    xi = random_patterns(60, 150, seed=3)  # alpha = 0.4: far past capacity, long descents
    net = store(xi)
    rng = np.random.default_rng(4)
    for k in range(20):
        start = rng.choice(np.array([-1, 1], dtype=np.int8), size=150)
        r = net.recall(start, seed=k, order="random" if k % 2 else "sequential")
        assert r.converged and r.sweeps > 1
        recomputed = net.energy(r.states)
        assert np.all(np.diff(r.energies) <= 0.0)
        assert np.all(np.diff(recomputed) <= 1e-9)
        assert np.allclose(recomputed, r.energies, atol=1e-9)
        assert net.is_fixed_point(r.final)
        # every unit is aligned with its field at the end
        assert np.all(r.final * net.local_fields(r.final) >= -1e-9)


def test_async_recall_restores_a_corrupted_pattern_and_is_reproducible():
    xi = random_patterns(10, 300, seed=5)
    net = store(xi)
    cue = corrupt(xi[4], 0.2, seed=6)
    assert np.sum(cue != xi[4]) == 60
    a = net.recall(cue, seed=7)
    b = net.recall(cue, seed=7)
    assert np.array_equal(a.final, xi[4]) and a.classification == "pattern" and a.pattern_index == 4
    assert np.array_equal(a.energies, b.energies)
    assert a.overlaps.shape == (10,) and np.isclose(a.overlaps[4], 1.0)


def test_synchronous_dynamics_detects_the_two_cycle_of_an_antiferromagnetic_pair():
    net = Hopfield(np.array([[0.0, -1.0], [-1.0, 0.0]]))
    r = net.recall(np.array([1, 1]), method="sync")
    assert r.cycle and not r.converged
    assert np.array_equal(r.states, [[1, 1], [-1, -1], [1, 1]])
    # asynchronous dynamics of the same pair goes to a minimum instead
    a = net.recall(np.array([1, 1]), method="async", order="sequential")
    assert a.converged and a.final[0] == -a.final[1]


def test_synchronous_lyapunov_function_never_rises_and_ends_in_fixed_point_or_two_cycle():
    xi = random_patterns(40, 100, seed=8)
    net = store(xi)
    rng = np.random.default_rng(9)
    ends = set()
    for _ in range(30):
        r = net.recall(rng.choice(np.array([-1, 1], dtype=np.int8), size=100), method="sync", max_sweeps=500)
        assert r.converged or r.cycle
        assert np.all(np.diff(r.lyapunov) <= 1e-9)
        if r.cycle:
            assert np.array_equal(r.states[-1], r.states[-3])
        else:
            assert net.is_fixed_point(r.final)
        ends.add("cycle" if r.cycle else "fixed")
    assert ends == {"cycle", "fixed"}  # this loaded network shows both endings


def test_classification_of_pattern_negative_mixture_and_spurious_states():
    xi = random_patterns(3, 301, seed=10)
    net = store(xi)
    assert net.classify(xi[1])[:2] == ("pattern", 1)
    r = net.recall(-xi[2], seed=0)  # E(-s) = E(s) without biases: the negative is a minimum too
    assert r.classification == "negative" and r.pattern_index == 2 and np.isclose(r.overlaps[2], -1.0)
    mix = np.sign(xi[0].astype(int) - xi[1] + xi[2]).astype(np.int8)
    label, index, members = net.classify(mix)
    assert label == "mixture" and index is None and members == (0, 1, 2)
    assert np.allclose(np.abs(net.overlaps(mix)), 0.5, atol=0.1)  # the symmetric 3-mixture has m = 1/2 each
    other = random_patterns(1, 301, seed=11)[0]
    assert net.classify(other)[0] == "spurious"
    assert classify_state(other, None) == (None, None, ())


def test_thermal_recall_samples_the_boltzmann_distribution_of_a_tiny_network():
    xi = np.array([[1, 1, 1, -1, -1, -1], [1, -1, 1, -1, 1, -1]], dtype=np.int8)
    net = store(xi, biases=True)
    T = 0.6
    r = recall(net, xi[0], method="thermal", temperature=T, sweeps=40000, burn_in=100, seed=3)
    exact, energies = probability_table(net.to_ising().ising, T)
    # thin by several autocorrelation times so the histogram's counts are close to multinomial
    e_series = net.energy(r.states)
    tau = integrated_autocorrelation_time(e_series).tau
    thin = max(1, int(math.ceil(4 * tau)))
    sample = r.states[::thin]
    index = ((sample == 1).astype(np.int64) << np.arange(6)).sum(axis=1)
    counts = np.bincount(index, minlength=64)
    expected = exact * len(sample)
    keep = expected >= 5
    chi2 = np.sum((counts[keep] - expected[keep]) ** 2 / expected[keep]) + (
        (counts[~keep].sum() - expected[~keep].sum()) ** 2 / max(expected[~keep].sum(), 1e-12)
    )
    dof = int(keep.sum())
    assert stats.chi2.sf(chi2, dof) > 1e-3
    # the mean energy agrees within its autocorrelation-aware error bar
    assert abs(e_series.mean() - exact @ energies) < 4 * error_of_mean(e_series)
    assert r.mean_overlaps.shape == (2,) and r.temperature == T


def test_to_ising_gives_the_same_energy_and_fields():
    xi = random_patterns(3, 10, seed=12)
    net = store(xi, biases=True)
    model = net.to_ising().ising
    J, h = model.to_dense()
    assert np.allclose(J, net.couplings) and np.allclose(h, net.biases)


def test_save_load_round_trip_and_wrong_file(tmp_path):
    xi = random_patterns(4, 16, seed=13)
    net = store(xi, "storkey", biases=True, image_shape=(4, 4), name="x")
    path = net.save(tmp_path / "net.npz")
    back = Hopfield.load(path)
    assert np.array_equal(back.couplings, net.couplings) and np.array_equal(back.biases, net.biases)
    assert np.array_equal(back.patterns, xi) and back.rule == "storkey" and back.image_shape == (4, 4)
    net.to_ising().ising.save(tmp_path / "ising.npz")
    with pytest.raises(ValueError, match="not a Hopfield network"):
        Hopfield.load(tmp_path / "ising.npz")


def test_bad_networks_and_states_are_refused_with_clear_messages():
    with pytest.raises(ValueError, match="symmetric"):
        Hopfield(np.array([[0.0, 1.0], [0.5, 0.0]]))
    with pytest.raises(ValueError, match="zero diagonal"):
        Hopfield(np.eye(3))
    with pytest.raises(ValueError, match="biases b must have shape"):
        Hopfield(np.zeros((3, 3)), np.zeros(2))
    with pytest.raises(ValueError, match="NaN"):
        Hopfield(np.full((2, 2), np.nan))
    with pytest.raises(ValueError, match="length 3"):
        Hopfield(np.zeros((3, 3)), patterns=np.ones((1, 4)))
    net = Hopfield(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="spins -1 and \\+1"):
        net.recall(np.array([0, 1, 1]))
    with pytest.raises(ValueError, match="shape"):
        net.recall(np.array([1, 1]))
    with pytest.raises(ValueError, match="method"):
        net.recall(np.array([1, 1, 1]), method="gibbs")
    with pytest.raises(ValueError, match="needs a temperature"):
        recall(net, np.array([1, 1, 1]), method="thermal")
    with pytest.raises(ValueError, match="thermolearn.runs.recall"):  # a model never runs a sampler
        net.recall(np.array([1, 1, 1]), method="thermal")
    with pytest.raises(ValueError, match="keeps no patterns"):
        net.overlaps(np.array([1, 1, 1]))
    with pytest.raises(ValueError, match="fraction"):
        corrupt(np.array([1, -1, 1]), 1.5)
    with pytest.raises(ValueError, match="mode"):
        corrupt(np.array([1, -1, 1]), 0.5, mode="erase")


def test_mask_corruption_sets_exactly_the_chosen_units_to_minus_one():
    x = np.ones(100, dtype=np.int8)
    masked = corrupt(x, 0.3, mode="mask", seed=1)
    assert np.sum(masked == -1) == 30


# ---------------------------------------------------------------------------------------- dense memories
def test_dense_memory_of_degree_two_is_the_hebbian_network():
    xi = random_patterns(4, 9, seed=14)
    dense = DenseAssociativeMemory(xi, degree=2)
    hebb = store(xi)
    s = all_states(9)
    # -sum_mu (xi.s)^2 = 2N E_hebb - P N, since E_hebb = -(1/2N) sum_mu [(xi.s)^2 - N]
    assert np.allclose(dense.energy(s), 2 * 9 * hebb.energy(s) - 4 * 9)


def test_dense_memory_stores_far_more_than_hebbs_rule():
    n, p = 100, 50  # alpha = 0.5, more than three times Hebb's alpha_c = 0.138
    xi = random_patterns(p, n, seed=15)
    dense = DenseAssociativeMemory(xi, degree=3)
    assert np.all(dense.is_fixed_point(xi))
    hebb = store(xi)
    assert np.mean(hebb.is_fixed_point(xi)) < 0.1
    cues = corrupt(xi, 0.15, seed=16)
    restored = [np.array_equal(dense.recall(c, seed=k).final, xi[k]) for k, c in enumerate(cues)]
    assert np.mean(restored) == 1.0
    exp_memory = DenseAssociativeMemory(xi, energy="exponential")
    assert all(np.array_equal(exp_memory.recall(c, seed=k).final, xi[k]) for k, c in enumerate(cues[:10]))


@pytest.mark.parametrize("energy,degree", [("polynomial", 3), ("polynomial", 4), ("exponential", 3)])
def test_dense_memory_energy_never_rises_and_matches_its_formula(energy, degree):
    xi = random_patterns(400, 40, seed=17)  # overloaded: long descents
    mem = DenseAssociativeMemory(xi, energy=energy, degree=degree)
    rng = np.random.default_rng(18)
    for k in range(10):
        r = mem.recall(rng.choice(np.array([-1, 1], dtype=np.int8), size=40), seed=k)
        assert r.converged
        assert np.all(np.diff(r.energies) <= 1e-9 * max(1.0, abs(r.energies[0])))
        assert np.allclose(mem.energy(r.states), r.energies, rtol=1e-12)
        assert mem.is_fixed_point(r.final[None, :])[0]
    d = xi.astype(float) @ r.final
    expected = -np.sum(d**degree) if energy == "polynomial" else -np.log(np.sum(np.exp(d)))
    assert np.isclose(mem.energy(r.final), expected)


def test_dense_memory_refuses_bad_settings():
    xi = random_patterns(3, 10, seed=19)
    with pytest.raises(ValueError, match="energy must be"):
        DenseAssociativeMemory(xi, energy="cosine")
    with pytest.raises(ValueError, match="degree"):
        DenseAssociativeMemory(xi, degree=1)
    with pytest.raises(ValueError, match="binary=True"):
        DenseAssociativeMemory((xi + 1) // 2)


def test_modern_hopfield_retrieves_from_many_more_patterns_than_dimensions_in_one_step():
    X = random_patterns(1000, 64, seed=20).astype(np.float64)  # P / d = 15.6
    net = ModernHopfield(X, beta=1.0)
    cues = corrupt(X[:50].astype(np.int8), 0.1, seed=21).astype(np.float64)
    out = net.update(cues)
    assert np.array_equal(np.sign(out), X[:50])
    assert np.max(np.abs(out - X[:50])) < 1e-4
    att = net.attention(cues)
    assert np.allclose(att.sum(axis=1), 1.0, atol=1e-5) and np.array_equal(att.argmax(axis=1), np.arange(50))


def test_modern_hopfield_energy_matches_its_formula_and_never_rises():
    rng = np.random.default_rng(22)
    X = rng.normal(size=(20, 8))
    net = ModernHopfield(X, beta=0.5)
    q = rng.normal(size=(30, 8))
    z = 0.5 * q @ X.T
    expected = (
        -np.log(np.exp(z).sum(axis=1)) / 0.5
        + 0.5 * np.sum(q * q, axis=1)
        + np.log(20) / 0.5
        + 0.5 * np.max(np.sum(X * X, axis=1))
    )
    assert np.allclose(net.energy(q), expected)
    assert np.all(net.energy(q) >= 0)
    _, energies = net.retrieve(q, steps=5)
    # the update is computed in float32: allow rises of a few float32 round-offs of the energy scale
    scale = np.max(np.abs(energies)) + np.max(np.sum(X * X, axis=1))
    assert np.all(np.diff(energies, axis=0) <= 1e-5 * scale)
    with pytest.raises(ValueError, match="queries must have shape"):
        net.update(np.zeros(3))
