"""One big lattice, bit-packed (samplers.packed_lattice): checkerboard Metropolis and heat bath
with 64 sites per word. Exact in distribution (the conformance kit's chi-square on the 4 x 4
models runs on both through the registry in test_conformance), on Kaufman's energy at L = 64, with energies, magnetisations and flip counts that match
the unpacked spins, and the same bits on one thread or two."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from thermolearn.estimators.autocorrelation import integrated_autocorrelation_time
from thermolearn.exact.kaufman import kaufman
from thermolearn.models.ising import Ising
from thermolearn.samplers.packed_lattice import (
    PackedLatticeHeatBath,
    PackedLatticeSampler,
    strip_layout,
    threshold_tables,
)
from thermolearn.samplers.state import ChainState

PACKED = [PackedLatticeSampler, PackedLatticeHeatBath]


@pytest.mark.parametrize("cls", PACKED, ids=lambda c: c.name)
def test_the_energy_at_l_64_agrees_with_kaufman_within_its_error_bar(cls):
    L, T = 64, 2.6
    model = Ising.lattice((L, L))
    state = ChainState.new(model, 1, seed=3)
    sampler = cls()
    sampler.sweep(model, state, 1 / T, 300)
    energies = np.empty(3000)
    for t in range(energies.size):
        sampler.sweep(model, state, 1 / T, 1)
        energies[t] = state.energy[0] / model.n_spins
    tau = integrated_autocorrelation_time(energies).tau
    stderr = energies.std(ddof=1) * np.sqrt(2 * tau / energies.size)
    exact = kaufman(L, T).energy_per_spin
    assert abs(energies.mean() - exact) < 4 * stderr, (energies.mean(), exact, stderr)


@pytest.mark.parametrize("cls", PACKED, ids=lambda c: c.name)
@pytest.mark.parametrize(
    "model",
    [
        Ising.lattice((4, 4)),
        Ising.lattice((6, 10), coupling=-0.5),
        Ising.edwards_anderson(8, 2, seed=4),
        Ising.lattice((4, 256)),
        Ising.edwards_anderson(130, 2, seed=1),
    ],
    ids=["ferromagnet 4x4", "antiferromagnet 6x10", "EA +-J 8x8", "ferromagnet 4x256", "EA +-J 130x130"],
)
def test_energy_magnetisation_and_flip_counts_match_the_unpacked_spins(cls, model):
    state = ChainState.new(model, 2, seed=2)
    sampler = cls()
    for beta in (0.2, 0.6, 2.0):
        before = state.spins.copy()
        stats = sampler.sweep(model, state, beta, 1)
        np.testing.assert_allclose(state.energy, model.energy(state.spins), atol=1e-9)
        np.testing.assert_array_equal(state.magnetization, state.spins.sum(axis=1))
        # one sweep visits each site once: a site differs from before iff it flipped an odd number of times
        assert np.all(stats.accepted >= (state.spins != before).sum(axis=1))
        assert np.all(stats.accepted % 2 == (state.spins != before).sum(axis=1) % 2)
        assert np.all(stats.attempted == model.n_spins)


def test_acceptance_counts_are_exact_at_the_two_extremes():
    model = Ising.lattice((8, 8))
    state = ChainState.new(model, 1, seed=0, initial="up")
    stats = PackedLatticeSampler().sweep(model, state, np.inf, 3)  # ground state, never climbs
    assert stats.accepted[0] == 0 and np.all(state.spins == 1)
    state = ChainState.new(model, 1, seed=0)
    stats = PackedLatticeSampler().sweep(model, state, 1e-300, 3)  # p rounds to 1: every attempt flips
    assert stats.accepted[0] == 3 * 64
    stats = PackedLatticeHeatBath().sweep(model, state, 1e-300, 400)  # p = 1/2 for every site
    assert abs(stats.accepted[0] / (400 * 64) - 0.5) < 4 * np.sqrt(0.25 / (400 * 64))


@pytest.mark.parametrize("cls", PACKED, ids=lambda c: c.name)
def test_the_same_bits_on_one_thread_or_two_and_in_one_call_or_many(cls):
    model = Ising.edwards_anderson(256, 2, seed=7)  # 2^16 sites x 20 sweeps: enough work for two threads
    runs = []
    for threads, calls in ((1, 1), (2, 1), (2, 20)):
        state = ChainState.new(model, 2, seed=5)
        pool = numba.get_num_threads()
        numba.set_num_threads(min(threads, pool))
        try:
            for _ in range(calls):
                cls().sweep(model, state, np.array([0.4, 1.2]), 20 // calls)
        finally:
            numba.set_num_threads(pool)
        runs.append(state)
    for other in runs[1:]:
        np.testing.assert_array_equal(runs[0].spins, other.spins)
        np.testing.assert_array_equal(runs[0].rng, other.rng)
        np.testing.assert_array_equal(runs[0].energy, other.energy)


def test_strips_and_words_of_a_row():
    assert strip_layout(4) == (2, 2)
    assert strip_layout(4096) == (64, 64)
    assert strip_layout(100) == (50, 2)
    assert strip_layout(6) == (3, 2)
    with pytest.raises(ValueError, match="even number of columns"):
        strip_layout(7)


def test_threshold_tables_hold_each_probability_exactly():
    probabilities = [0.0, 0.1, 0.5, 1.0, 2.0**-60]
    certain, digits, ended = threshold_tables(probabilities)
    for j, p in enumerate(probabilities):
        if p >= 1:
            assert certain[j] != 0
            continue
        assert certain[j] == 0
        value, k = 0.0, 0
        while k < digits.shape[0] and ended[k, j] == 0:
            value += 2.0 ** -(k + 1) * (digits[k, j] != 0)
            k += 1
        assert value == p  # the binary expansion up to where it ends is the double itself


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (Ising.lattice((4, 4), field=0.1), "zero fields"),
        (Ising.lattice((4, 5)), "even number of columns"),
        (Ising.lattice((5, 4)), "even number of rows"),
        (Ising.lattice((4, 4, 4)), "2D"),
        (Ising.sherrington_kirkpatrick(16, seed=0), "square lattice"),
    ],
    ids=["field", "odd columns", "odd rows", "cubic", "SK"],
)
def test_models_it_cannot_sample_are_refused_with_the_reason(model, message):
    with pytest.raises(ValueError, match=message) as caught:
        PackedLatticeSampler().check_model(model)
    assert "metropolis-packed" in str(caught.value)
