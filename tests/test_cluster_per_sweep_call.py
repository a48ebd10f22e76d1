"""The per-sweep call of the cluster samplers on one chain: after a first call at one float beta,
Wolff and Swendsen-Wang call their serial kernel on the arguments they kept (no checks or
look-ups repeated). That lean path makes exactly the moves of the full path, returns fresh counts
every call, and is left whenever anything it kept no longer holds (another model, beta, chain
arrays, counters, settings or calibration)."""

from __future__ import annotations

import numpy as np
import pytest

from thermolearn import Ising
from thermolearn.samplers import ChainState
from thermolearn.samplers.cluster import SwendsenWang, Wolff


def _same(a: ChainState, b: ChainState) -> bool:
    return (
        np.array_equal(a.spins, b.spins)
        and np.array_equal(a.rng, b.rng)
        and np.array_equal(a.energy, b.energy)
        and np.array_equal(a.magnetization, b.magnetization)
    )


def _sampler(name: str):
    return Wolff(clusters_per_sweep=3) if name == "wolff" else SwendsenWang()


@pytest.mark.parametrize("name", ["wolff", "sw"])
def test_one_sweep_per_call_makes_the_moves_of_one_call_of_many_sweeps(name):
    model = Ising.lattice((12, 12))
    lean, whole = ChainState.new(model, 1, seed=7), ChainState.new(model, 1, seed=7)
    sampler = _sampler(name)
    flipped = 0
    for _ in range(25):
        stats = sampler.sweep(model, lean, 0.44, 1)
        flipped += int(stats.accepted[0])
    assert sampler._lean is not None  # the calls after the first took the lean path
    other = _sampler(name)
    stats = other.sweep(model, whole, np.array([0.44]), 25)  # an array of betas: the full path
    assert _same(lean, whole)
    assert flipped == int(stats.accepted[0])
    assert np.array_equal(sampler._counters, other._counters)
    np.testing.assert_allclose(lean.energy, model.energy(lean.spins), rtol=0, atol=1e-9)


@pytest.mark.parametrize("name", ["wolff", "sw"])
def test_the_lean_call_returns_fresh_counts_of_the_right_size(name):
    model = Ising.lattice((8, 8))
    state = ChainState.new(model, 1, seed=3)
    sampler = _sampler(name)
    first = sampler.sweep(model, state, 0.4, 1)
    kept = (first.accepted.copy(), first.attempted.copy())
    second = sampler.sweep(model, state, 0.4, 1)  # lean
    third = sampler.sweep(model, state, 0.4, 4)  # lean, four sweeps
    assert second.accepted is not first.accepted and second.attempted is not first.attempted
    np.testing.assert_array_equal(first.accepted, kept[0])
    np.testing.assert_array_equal(first.attempted, kept[1])
    for stats in (second, third):
        assert stats.accepted.shape == stats.attempted.shape == (1,)
        assert stats.accepted.dtype == stats.attempted.dtype == np.int64
    if name == "sw":
        assert second.attempted.tolist() == [64] and third.attempted.tolist() == [4 * 64]
    assert 0 < third.accepted[0] <= third.attempted[0]


@pytest.mark.parametrize("name", ["wolff", "sw"])
def test_the_lean_path_is_left_when_what_it_kept_changes(name):
    model = Ising.lattice((10, 10))
    other_model = Ising.lattice((10, 10), coupling=0.5)
    sampler, reference = _sampler(name), _sampler(name)
    chains = {"state": ChainState.new(model, 1, seed=5), "ref": ChainState.new(model, 1, seed=5)}

    def both(m, beta, n=1):
        state, ref = chains["state"], chains["ref"]
        if m is not both.model:  # the running energies follow the couplings (a stale one is refused)
            for st in (state, ref):
                st.energy[:] = m.energy(st.spins)
            both.model = m
        sampler.sweep(m, state, beta, n)
        reference.sweep(m, ref, np.array([beta]), n)  # never lean
        assert _same(state, ref)

    both.model = model
    both(model, 0.4)
    both(model, 0.4)
    both(model, 0.3)  # another beta
    both(other_model, 0.3)  # another model of the same size
    both(model, 0.4)
    # other chains of the same shape
    chains["state"], chains["ref"] = ChainState.new(model, 1, seed=9), ChainState.new(model, 1, seed=9)
    both(model, 0.4)
    both(model, 0.4)
    state = chains["state"]
    # counters replaced by a resumed state: the kernel counts into the new ones
    saved = sampler.state()
    sampler.load_state(saved)
    reference.load_state(reference.state())
    both(model, 0.4)
    assert np.array_equal(sampler._counters, reference._counters)
    sampler.reset(model, state)
    reference.reset(model, chains["ref"])
    both(model, 0.4)
    both(model, 0.4)
    assert np.array_equal(sampler._counters, reference._counters)


def test_a_changed_strip_height_takes_effect_on_every_path():
    """strip_rows is public: set between calls, it is the height of the next call's strips (the
    scratch arrays sized by the strips are made again; up to 0.6.6 the float-beta path kept the old
    height and the array path reused scratch sized for it)."""
    model = Ising.lattice((16, 16), field=0.2)
    for betas in (0.5, np.array([0.5])):
        sampler = SwendsenWang(strip_rows=4)
        state, ref = ChainState.new(model, 1, seed=2), ChainState.new(model, 1, seed=2)
        for _ in range(2):
            sampler.sweep(model, state, betas, 1)
        SwendsenWang(strip_rows=4).sweep(model, ref, 0.5, 2)
        assert _same(state, ref)
        sampler.strip_rows = 3  # in a field the strip height changes the moves
        for _ in range(2):
            sampler.sweep(model, state, betas, 1)
        SwendsenWang(strip_rows=3).sweep(model, ref, 0.5, 2)
        assert _same(state, ref)
        sampler.strip_rows = 4
        sampler.sweep(model, state, betas, 1)
        SwendsenWang(strip_rows=4).sweep(model, ref, 0.5, 1)
        assert _same(state, ref)


def test_wolff_resumed_with_another_calibration_leaves_the_lean_path():
    model = Ising.lattice((10, 10))
    sampler = Wolff()  # calibrated: clusters per sweep measured at the first beta
    state = ChainState.new(model, 1, seed=4)
    sampler.sweep(model, state, 0.44, 1)
    sampler.sweep(model, state, 0.44, 1)
    assert sampler._lean is not None
    saved = sampler.state()
    saved["calibration_clusters"] = saved["calibration_clusters"] + 5
    resumed_state = ChainState.new(model, 1, seed=4)
    sampler.load_state(saved)
    assert sampler._lean is None
    reference = Wolff()
    reference.load_state(saved)
    ref = ChainState.new(model, 1, seed=4)
    sampler.sweep(model, resumed_state, 0.44, 2)
    reference.sweep(model, ref, np.array([0.44]), 2)
    assert _same(resumed_state, ref)
