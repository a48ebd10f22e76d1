"""Sampler.bind: a sampler bound to one model, chain state and beta, whose ``sweep()`` makes the
moves of ``sampler.sweep(model, state, beta, 1)`` (its kept compiled call where the sampler
keeps one), and the frozen ChainState and checked settings it relies on."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import numpy as np
import pytest

from thermolearn import Ising
from thermolearn.samplers import BoundSweeps, ChainState, Metropolis, SwendsenWang, Wolff
from thermolearn.samplers.registry import SAMPLERS, make_sampler

MODEL = Ising.lattice((10, 10))
KEPT = ["metropolis", "heatbath", "wolff", "sw"]  # samplers that keep a compiled per-sweep call


def _same(a: ChainState, b: ChainState) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a.arrays().values(), b.arrays().values(), strict=True))


def _reference_flips(sampler, model, state, beta, n_calls):
    return [int(np.sum(sampler.sweep(model, state, np.array([beta]), 1).accepted)) for _ in range(n_calls)]


@pytest.mark.parametrize("name", KEPT)
def test_bound_sweeps_make_the_moves_of_the_sweep_calls_and_use_the_kept_call(name):
    sampler, reference = make_sampler(name), make_sampler(name)
    state, twin = ChainState.new(MODEL, 1, seed=3), ChainState.new(MODEL, 1, seed=3)
    bound = sampler.bind(MODEL, state, 0.42)
    assert isinstance(bound, BoundSweeps) and bound.state is state
    flips = [bound.sweep() for _ in range(12)]
    assert flips == _reference_flips(reference, MODEL, twin, 0.42, 12)  # an array of betas: never lean
    assert _same(state, twin)
    assert sum(flips) > 0
    # after the first call the sampler's kept call is the bound object's (no Python checks repeated)
    assert sampler._lean is not None and bound._token is sampler._lean


def test_bound_sweeps_of_a_sampler_without_a_kept_call_go_through_sweep():
    for name, n_chains in (("pt", 4), ("metropolis-msc", 64), ("metropolis", 3)):
        sampler, reference = SAMPLERS[name].example(), SAMPLERS[name].example()
        temps = sampler.chain_temperatures(None if sampler.needs_ladder else 2.5, n_chains)
        betas = 1.0 / np.asarray(temps)
        state, twin = ChainState.new(MODEL, betas.size, seed=4), ChainState.new(MODEL, betas.size, seed=4)
        bound = sampler.bind(MODEL, state, betas)
        flips = [bound.sweep() for _ in range(3)] + [bound.sweep(2)]
        expected = [int(np.sum(reference.sweep(MODEL, twin, betas, n).accepted)) for n in (1, 1, 1, 2)]
        assert flips == expected, name
        assert _same(state, twin), name


@pytest.mark.parametrize("name", KEPT)
def test_bound_objects_alternating_on_one_sampler_stay_exact(name):
    """Replicas bound to one sampler: each call resumes the replica's kept call (or sweeps in
    full) and every replica makes its own moves; a sweep of other chains, at another beta or of
    another model in between changes nothing for them."""
    sampler, reference = make_sampler(name), make_sampler(name)
    states = [ChainState.new(MODEL, 1, seed=s) for s in (1, 2, 3)]
    twins = [ChainState.new(MODEL, 1, seed=s) for s in (1, 2, 3)]
    bounds = [sampler.bind(MODEL, st, 0.4) for st in states]
    other_model = Ising.lattice((10, 10), coupling=0.5)
    outsider, outsider_twin = ChainState.new(other_model, 1, seed=8), ChainState.new(other_model, 1, seed=8)
    for rnd in range(5):
        for bound, twin in zip(bounds, twins, strict=True):
            assert bound.sweep() == _reference_flips(reference, MODEL, twin, 0.4, 1)[0]
        if rnd == 2:  # the sampler sweeps other chains of another model at another beta
            sampler.sweep(other_model, outsider, 0.3, 2)
            reference.sweep(other_model, outsider_twin, np.array([0.3]), 2)
    for st, twin in zip(states, twins, strict=True):
        assert _same(st, twin)
    assert _same(outsider, outsider_twin)


def test_a_changed_order_takes_effect_at_the_next_sweep():
    """Metropolis.order set after a sweep: up to 0.6.8 the site order kept by the first sweep ran
    on, silently (sweep and the per-sweep path alike)."""
    for use_bound in (False, True):
        sampler = Metropolis()
        state = ChainState.new(MODEL, 1, seed=5)
        bound = sampler.bind(MODEL, state, 0.4)
        for _ in range(2):
            bound.sweep() if use_bound else sampler.sweep(MODEL, state, 0.4, 1)
        sampler.order = "checkerboard"
        for _ in range(3):
            bound.sweep() if use_bound else sampler.sweep(MODEL, state, 0.4, 1)
        ref = ChainState.new(MODEL, 1, seed=5)
        Metropolis("sequential").sweep(MODEL, ref, 0.4, 2)
        Metropolis("checkerboard").sweep(MODEL, ref, 0.4, 3)
        assert _same(state, ref)
        assert sampler.options() == {"order": "checkerboard"}
    with pytest.raises(ValueError, match="order must be one of sequential, random, checkerboard"):
        Metropolis().order = "diagonal"


def test_a_changed_strip_setting_takes_effect_on_the_bound_path():
    model = Ising.lattice((16, 16), field=0.2)  # in a field the strip height changes the moves
    sampler = SwendsenWang(strip_rows=4)
    state, ref = ChainState.new(model, 1, seed=2), ChainState.new(model, 1, seed=2)
    bound = sampler.bind(model, state, 0.5)
    bound.sweep()
    bound.sweep()
    sampler.strip_rows = 3
    bound.sweep()
    sampler.strip_sites = None  # never the strips: the per-chain kernel
    bound.sweep()
    SwendsenWang(strip_rows=4).sweep(model, ref, 0.5, 2)
    SwendsenWang(strip_rows=3).sweep(model, ref, 0.5, 1)
    SwendsenWang(strip_sites=None).sweep(model, ref, 0.5, 1)
    assert _same(state, ref)
    with pytest.raises(ValueError, match="strip_rows must be a positive integer, got 0"):
        sampler.strip_rows = 0
    with pytest.raises(ValueError, match="strip_sites must be a positive integer or None"):
        sampler.strip_sites = 2.5


@pytest.mark.parametrize("name", ["wolff", "sw"])
def test_counters_replaced_between_bound_calls_are_counted_into(name):
    sampler, reference = make_sampler(name), make_sampler(name)
    state, twin = ChainState.new(MODEL, 1, seed=6), ChainState.new(MODEL, 1, seed=6)
    bound = sampler.bind(MODEL, state, 0.44)
    for _ in range(3):
        bound.sweep()
        reference.sweep(MODEL, twin, np.array([0.44]), 1)
    sampler.load_state(sampler.state())  # new counter arrays with the same counts
    reference.load_state(reference.state())
    for _ in range(3):
        bound.sweep()
        reference.sweep(MODEL, twin, np.array([0.44]), 1)
    np.testing.assert_array_equal(sampler._counters, reference._counters)
    assert sampler.info() == reference.info()
    assert _same(state, twin)


def test_the_number_of_sweeps_is_checked_and_zero_sweeps_change_nothing():
    sampler = Wolff()
    state = ChainState.new(MODEL, 1, seed=7)
    bound = sampler.bind(MODEL, state, 0.44)
    bound.sweep()  # calibrates Wolff at this beta
    before = state.copy()
    assert bound.sweep(0) == 0
    assert _same(state, before)
    for bad in (-1, 2.5, True, "1"):
        with pytest.raises((ValueError, TypeError), match="n_sweeps"):
            bound.sweep(bad)
    flips = bound.sweep(3)
    reference, twin = Wolff(), ChainState.new(MODEL, 1, seed=7)
    reference.sweep(MODEL, twin, np.array([0.44]), 1)  # the same calibration and first sweep
    assert flips == int(reference.sweep(MODEL, twin, np.array([0.44]), 3).accepted[0])
    assert _same(state, twin)


def test_bind_checks_the_model_and_the_chains_first():
    state = ChainState.new(MODEL, 1, seed=1)
    with pytest.raises(ValueError, match="chain spins must be int8 of shape \\(1, 64\\)"):
        Metropolis().bind(Ising.lattice((8, 8)), state, 0.4)
    with pytest.raises(TypeError, match="model must be a thermolearn.Ising"):
        Metropolis().bind("lattice", state, 0.4)  # type: ignore[arg-type]
    antiferromagnet = Ising.lattice((10, 10), coupling=-1.0)
    with pytest.raises(ValueError, match="ferromagnet|J_ij >= 0|negative"):
        Wolff().bind(antiferromagnet, ChainState.new(antiferromagnet, 1, seed=1), 0.4)
    stale = ChainState(state.spins, state.rng, state.energy + 4.0, state.magnetization)
    with pytest.raises(ValueError, match="energy"):
        Metropolis().bind(MODEL, stale, 0.4)


def test_chain_states_keep_their_arrays():
    state = ChainState.new(MODEL, 2, seed=1)
    for field in ("spins", "rng", "energy", "magnetization"):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(state, field, getattr(state, field).copy())
    state.energy[:] = MODEL.energy(state.spins)  # what a caller changing the couplings does: in place


@pytest.mark.parametrize("name", KEPT)
def test_a_shape_set_in_place_on_a_chain_array_cannot_mislead_the_kept_call(name):
    """The kept call holds views of the chain's arrays: setting the shape of the array itself
    (one chain's spins as a flat vector) leaves the kernel reading the same memory as before."""
    sampler, reference = make_sampler(name), make_sampler(name)
    state, twin = ChainState.new(MODEL, 1, seed=9), ChainState.new(MODEL, 1, seed=9)
    bound = sampler.bind(MODEL, state, 0.4)
    bound.sweep()
    bound.sweep()
    state.spins.shape = (MODEL.n_spins,)
    state.rng.shape = (4,)
    flips = [bound.sweep() for _ in range(3)]
    state.spins.shape = (1, MODEL.n_spins)
    state.rng.shape = (1, 4)
    assert flips == _reference_flips(reference, MODEL, twin, 0.4, 5)[2:]
    assert _same(state, twin)
    with pytest.raises(ValueError, match="resize"):
        state.spins.resize((1, 2 * MODEL.n_spins))  # the kept view pins the memory


@pytest.mark.parametrize("name", KEPT)
def test_a_bound_object_copies_and_pickles_without_its_kept_call(name):
    """A sampler (and a bound object) that kept a compiled call pickles without it (0.6.8's kept
    calls made a sampler unpicklable after its first per-sweep call)."""
    sampler = make_sampler(name)
    state = ChainState.new(MODEL, 1, seed=11)
    bound = sampler.bind(MODEL, state, 0.4)
    bound.sweep()
    bound.sweep()
    twin = copy.deepcopy(bound)  # its own sampler and chains, swept from where the original stands
    again = pickle.loads(pickle.dumps(bound))
    assert twin.state is not state and again.state is not state and _same(twin.state, state)
    expected = [bound.sweep() for _ in range(4)]
    assert [twin.sweep() for _ in range(4)] == expected == [again.sweep() for _ in range(4)]
    assert _same(twin.state, state) and _same(again.state, state)
    assert repr(bound).startswith(f"BoundSweeps({sampler!r}, 1 chain(s) of 100 spins")
