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


def test_packing_through_bytes_and_by_chain_give_the_same_words_and_spins():
    from thermolearn.samplers.multispin import _pack, _unpack_and_measure

    rng = np.random.default_rng(0)
    n = 24
    spins = rng.choice(np.array([-1, 1], dtype=np.int8), size=(128, n))
    dummy = np.zeros((1, 1), dtype=np.uint64)
    by_chain = np.empty((2, n), dtype=np.uint64)
    by_bytes = np.empty((2, n), dtype=np.uint64)
    _pack.compiled(spins, dummy, False, by_chain)
    _pack.compiled(spins, spins.view(np.uint64), True, by_bytes)
    np.testing.assert_array_equal(by_bytes, by_chain)
    lanes = (by_chain[:, :, None] >> np.arange(64, dtype=np.uint64)) & np.uint64(1)  # (group, site, lane)
    np.testing.assert_array_equal(2 * lanes.transpose(0, 2, 1).reshape(128, n).astype(np.int8) - 1, spins)
    afm = np.zeros((1, 4), dtype=np.uint64)
    for whole_bytes in (False, True):
        back = np.zeros_like(spins)
        energy, magnetization = np.zeros(128), np.zeros(128)
        view = back.view(np.uint64) if whole_bytes else dummy
        _unpack_and_measure.compiled(by_bytes, back, view, whole_bytes, energy, magnetization, afm, 0, 4, 6, 1.0)
        np.testing.assert_array_equal(back, spins)
        np.testing.assert_array_equal(magnetization, spins.sum(axis=1))
