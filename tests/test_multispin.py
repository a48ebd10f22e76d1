"""The 64-replica multi-spin-coded Metropolis kernel (samplers.multispin), as sped up in 0.6.6:
the same bits as 0.6.5 (so its checkpoints resume on the same streams), flip counts that match
the spins that changed (the carry-save counter, its remainder words and its flushes), sweep
blocks equal to one sweep per call, and the energy of independent replicas on Kaufman's exact
value. (Refusals, the extremes of beta and the Boltzmann distribution on small models are in
test_samplers_single_spin.py and test_sampler_distributions.py.)"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from thermolearn.exact.kaufman import kaufman
from thermolearn.models.ising import Ising
from thermolearn.samplers.multispin import MultiSpinMetropolis
from thermolearn.samplers.state import ChainState


def _digest(state: ChainState, accepted: np.ndarray) -> str:
    data = state.spins.tobytes() + state.rng.tobytes() + accepted.astype(np.int64).tobytes()
    return hashlib.sha256(data).hexdigest()[:16]


@pytest.mark.parametrize(
    ("model", "chains", "beta", "digest"),
    [
        (Ising.lattice((7, 13)), 128, 0.4, "ec6d0c7326704832"),
        (Ising.edwards_anderson(9, 2, seed=3), 64, 0.8, "c59917f8605d70e5"),
        (Ising.lattice((20, 70)), 64, 0.44, "3052558ad7664354"),  # rows cut into chunks of sites
    ],
    ids=["ferromagnet 7x13, two groups", "EA +-J 9x9", "ferromagnet 20x70"],
)
def test_the_streams_are_those_of_0_6_5(model, chains, beta, digest):
    # the digests were taken with the 0.6.5 kernel: the 0.6.6 speed-ups (lanes that need no
    # comparison stop drawing, carry-save flip counts, two operations on the sequential path)
    # must not change a bit, so 0.6.5 checkpoints resume on the same streams
    state = ChainState.new(model, chains, seed=2026)
    stats = MultiSpinMetropolis().sweep(model, state, beta, 5)
    assert _digest(state, stats.accepted) == digest


@pytest.mark.parametrize("shape", [(5, 3), (6, 8), (9, 13), (4, 75)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_one_sweep_counts_exactly_the_spins_that_changed(shape):
    # in one sweep each site is visited once, so a replica's accepted flips are the sites whose
    # spin differs afterwards: rows of 3, 8, 13 and 75 sites exercise the counter's blocks of
    # eight words and its remainder
    model = Ising.lattice(shape)
    state = ChainState.new(model, 128, seed=1)
    sampler = MultiSpinMetropolis()
    for beta in (0.05, 0.44, 1.5):
        before = state.spins.copy()
        stats = sampler.sweep(model, state, beta, 1)
        changed = (before != state.spins).sum(axis=1)
        np.testing.assert_array_equal(stats.accepted, changed)
        assert changed.min() > 0 or beta > 1  # the check is not vacuous


def test_a_block_of_sweeps_equals_one_sweep_per_call_across_counter_flushes():
    # 130 sweeps of 64 x 64 sites pass 2^19 site visits per lane, where the bit-sliced counter
    # flushes into the integer counts
    model = Ising.lattice((64, 64))
    block = ChainState.new(model, 64, seed=4)
    single = ChainState.new(model, 64, seed=4)
    sampler = MultiSpinMetropolis()
    stats = sampler.sweep(model, block, 0.3, 130)
    total = np.zeros(64, dtype=np.int64)
    for _ in range(130):
        total += sampler.sweep(model, single, 0.3, 1).accepted
    np.testing.assert_array_equal(block.spins, single.spins)
    np.testing.assert_array_equal(block.rng, single.rng)
    np.testing.assert_array_equal(stats.accepted, total)
    assert 130 * model.n_spins > 1 << 19 and total.min() > 1 << 18  # a flush, with many flips before it


def test_the_energy_of_64_replicas_agrees_with_kaufman_within_its_error_bar():
    # 64 independent replicas: their time averages give the error bar directly
    L, T = 32, 2.6
    model = Ising.lattice((L, L))
    state = ChainState.new(model, 64, seed=8)
    sampler = MultiSpinMetropolis()
    sampler.sweep(model, state, 1 / T, 200)
    sums = np.zeros(64)
    n = 400
    for _ in range(n):
        sampler.sweep(model, state, 1 / T, 2)
        sums += state.energy / model.n_spins
    means = sums / n
    stderr = means.std(ddof=1) / np.sqrt(means.size)
    exact = kaufman(L, T).energy_per_spin
    assert abs(means.mean() - exact) < 4 * stderr, (means.mean(), exact, stderr)
    assert stderr < 2e-3  # tight enough to catch a wrong acceptance rule (T off by 1% moves E by ~4e-3)
