"""Every sampler's ``sweep`` checks what it is handed before a kernel runs: the chains in full the
first time it sees them with a model (spins in {-1, +1}, a live generator, running E and M those of
the spins; the kernels only add to E and M, so a stale total would be reported without a word),
their layout on every later call, and a whole number of sweeps >= 0."""

from __future__ import annotations

import numpy as np
import pytest

from thermolearn import Ising
from thermolearn.samplers import ChainState
from thermolearn.samplers.parallel_tempering import ParallelTempering
from thermolearn.samplers.registry import make_sampler

NAMES = ["metropolis", "heatbath", "quench", "wolff", "sw", "pt", "metropolis-msc", "metropolis-packed"]
MODEL = Ising.lattice((8, 8))


def _sampler(name: str):
    return ParallelTempering([2.0, 2.5, 3.0, 3.5]) if name == "pt" else make_sampler(name)


def _state(name: str, seed: int = 1) -> ChainState:
    return ChainState.new(MODEL, 64 if name == "metropolis-msc" else 4, seed=seed)


def _beta(name: str):
    return 1.0 / np.array([2.0, 2.5, 3.0, 3.5]) if name == "pt" else 0.4


def _tampered(state: ChainState, **arrays: np.ndarray) -> ChainState:
    fields = state.copy().arrays()
    fields.update(arrays)
    return ChainState(**fields)


@pytest.mark.parametrize("name", NAMES)
def test_a_hand_made_state_with_a_stale_energy_is_refused(name):
    state = _state(name)
    stale = _tampered(state, energy=np.zeros_like(state.energy))
    with pytest.raises(ValueError, match="energy .* is not the energy of its spins"):
        _sampler(name).sweep(MODEL, stale, _beta(name), 1)


@pytest.mark.parametrize("name", NAMES)
def test_binary_spins_and_a_dead_generator_are_refused(name):
    state = _state(name)
    binary = (state.spins > 0).astype(np.int8)
    with pytest.raises(ValueError, match="only -1 and \\+1"):
        _sampler(name).sweep(MODEL, _tampered(state, spins=binary), _beta(name), 1)
    with pytest.raises(ValueError, match="all-zero generator state"):
        _sampler(name).sweep(MODEL, _tampered(state, rng=np.zeros_like(state.rng)), _beta(name), 1)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("n_sweeps", "error"), [(-1, ValueError), (2.5, TypeError), (True, TypeError)])
def test_a_sweep_count_that_is_not_a_whole_number_is_refused(name, n_sweeps, error):
    sampler, state = _sampler(name), _state(name)
    sampler.sweep(MODEL, state, _beta(name), 1)  # a lean path is kept where there is one
    sampler.sweep(MODEL, state, _beta(name), 1)
    before = state.copy()
    with pytest.raises(error, match="n_sweeps must be an integer"):
        sampler.sweep(MODEL, state, _beta(name), n_sweeps)
    for a, b in zip(state.arrays().values(), before.arrays().values(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", NAMES)
def test_zero_sweeps_leave_the_chains_as_they_are(name):
    sampler, state = _sampler(name), _state(name)
    sampler.sweep(MODEL, state, _beta(name), 1)  # Wolff's first call at a temperature also runs its calibration sweeps
    before = state.copy()
    stats = sampler.sweep(MODEL, state, _beta(name), 0)
    assert not np.any(stats.accepted) and not np.any(stats.attempted)
    for a, b in zip(state.arrays().values(), before.arrays().values(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_chains_are_checked_in_full_once_then_by_layout():
    sampler, state = make_sampler("metropolis"), _state("metropolis")
    sampler.sweep(MODEL, state, np.full(4, 0.4), 1)  # an array of betas: the full path every call
    state.energy[0] += 1.0  # tampering inside the same array is not looked for again (it costs a sweep)
    sampler.sweep(MODEL, state, np.full(4, 0.4), 1)
    # chains with a new energy array are checked in full
    other = ChainState(state.spins, state.rng, state.energy.copy(), state.magnetization)
    with pytest.raises(ValueError, match="energy"):
        sampler.sweep(MODEL, other, np.full(4, 0.4), 1)
    # and so are the same arrays with another model (E must be rewritten for it, in place)
    with pytest.raises(ValueError, match="energy"):
        sampler.sweep(Ising.lattice(MODEL.geometry.shape, coupling=0.5), state, np.full(4, 0.4), 1)


def test_betas_of_the_wrong_length_name_the_chains():
    with pytest.raises(ValueError, match="one per chain \\(4\\)"):
        make_sampler("metropolis").sweep(MODEL, _state("metropolis"), np.array([0.4, 0.5]), 1)


@pytest.mark.parametrize("name", ["metropolis", "wolff", "sw"])
def test_alternating_chains_keep_a_lean_call_each_and_make_the_moves_of_the_full_path(name):
    sampler, reference = make_sampler(name), make_sampler(name)
    replicas = [ChainState.new(MODEL, 1, seed=s) for s in (1, 2, 3)]
    twins = [ChainState.new(MODEL, 1, seed=s) for s in (1, 2, 3)]
    for _ in range(6):
        for state, twin in zip(replicas, twins, strict=True):
            sampler.sweep(MODEL, state, 0.4, 1)
            reference.sweep(MODEL, twin, np.array([0.4]), 1)  # an array of betas: never lean
    assert {id(s) for s in replicas} <= set(sampler._leans)  # one kept lean call per replica
    for state, twin in zip(replicas, twins, strict=True):
        for a, b in zip(state.arrays().values(), twin.arrays().values(), strict=True):
            np.testing.assert_array_equal(a, b)


def test_read_only_chain_arrays_are_refused():
    state = _state("metropolis")
    state.spins.flags.writeable = False
    with pytest.raises(ValueError, match="chain spins must be a writable"):
        make_sampler("metropolis").sweep(MODEL, state, 0.4, 1)


def test_a_sampler_remembers_a_few_checked_chain_sets():
    from thermolearn.samplers.base import _SEEN_CHAIN_SETS

    sampler = make_sampler("metropolis")
    states = [_state("metropolis", seed=s) for s in range(_SEEN_CHAIN_SETS + 2)]
    for state in states:
        sampler.sweep(MODEL, state, np.full(4, 0.4), 1)
    assert len(sampler._seen_chains) == _SEEN_CHAIN_SETS
    assert sampler._seen_chains[-1][1][0] is states[-1].spins
