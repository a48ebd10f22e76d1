"""The cluster samplers' lattice path and per-sweep fast path change no result.

On a periodic 2D lattice with one coupling the Wolff and Swendsen-Wang kernels find neighbours
by index arithmetic instead of reading CSR rows; they visit them in the CSR row's (ascending)
order and evaluate the same floating expressions, so the moves, the generator draws and the
running E and M equal those of the generic CSR kernel bit for bit (Swendsen-Wang with
``strip_sites=None``: by default it labels periodic 2D lattices in row strips, with counter-based
random numbers, see tests/test_cluster_strips.py). The per-sweep call of one
chain (a serial kernel, arguments prepared once per model and beta) equals the multi-chain
kernel's chain, and its cache never serves a call it does not fit.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest

from thermolearn import Ising
from thermolearn.kernel_threads import call_single_threaded
from thermolearn.runs import sample
from thermolearn.samplers import ChainState
from thermolearn.samplers.cluster import SwendsenWang, Wolff, lattice_columns

CLUSTER_SAMPLERS = [Wolff, SwendsenWang]


def _per_bond(sampler_cls):
    """The sampler with the per-bond stream that the lattice path shares with the CSR kernel:
    Swendsen-Wang's default on periodic 2D lattices, the strips, draws another (equally exact) one."""
    return sampler_cls(strip_sites=None) if sampler_cls is SwendsenWang else sampler_cls()


#: periodic lattices the lattice path takes: squares and rectangles (sides 3 and up, so the
#: first, interior and last rows and columns all occur), J != 1, fields of either sign
LATTICES = {
    "3x3": dict(shape=(3, 3)),
    "8x8": dict(shape=(8, 8)),
    "5x7": dict(shape=(5, 7)),
    "7x4 J=0.7": dict(shape=(7, 4), coupling=0.7),
    "6x6 h=0.3": dict(shape=(6, 6), field=0.3),
    "4x5 J=1.3 h=-0.2": dict(shape=(4, 5), coupling=1.3, field=-0.2),
}


def _generic_copy(model: Ising) -> Ising:
    """The same couplings and fields without the lattice geometry: the CSR kernels run."""
    return Ising(model.couplings, model.fields)


def _sweep_calls(sampler, model, state, betas, calls):
    stats = [sampler.sweep(model, state, betas, n) for n in calls]
    return [(s.accepted.copy(), s.attempted.copy()) for s in stats]


def _same_state(a: ChainState, b: ChainState) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a.arrays().values(), b.arrays().values(), strict=True))


def test_the_lattice_path_applies_to_periodic_2d_lattices_with_one_positive_coupling():
    assert lattice_columns(Ising.lattice((5, 7))) == 7
    assert lattice_columns(Ising.lattice((4, 4), field=0.5)) == 4
    assert lattice_columns(Ising.lattice((5, 6), coupling=(1.0, 0.5))) is None  # two couplings
    assert lattice_columns(Ising.lattice((5, 5), periodic=False)) is None
    assert lattice_columns(Ising.lattice((4, 4, 4))) is None
    assert lattice_columns(Ising.lattice((2, 6))) is None  # a side of 2: one neighbour twice
    assert lattice_columns(Ising.lattice((4, 4), coupling=0.0)) is None  # no bonds stored
    assert lattice_columns(_generic_copy(Ising.lattice((4, 4)))) is None


@pytest.mark.parametrize("sampler_cls", CLUSTER_SAMPLERS, ids=lambda c: c.name)
@pytest.mark.parametrize("label", list(LATTICES))
def test_lattice_kernels_make_the_csr_kernels_moves_bit_for_bit(sampler_cls, label):
    lattice = Ising.lattice(**LATTICES[label])
    generic = _generic_copy(Ising.lattice(**LATTICES[label]))  # (reading the couplings builds the CSR)
    for betas, chains in ((0.44, 1), (np.array([0.3, 0.4406868, 1.0]), 3)):
        runs = []
        start = ChainState.new(lattice, chains, seed=5)
        for model in (lattice, generic):
            sampler = _per_bond(sampler_cls)
            state = ChainState.new(model, chains, seed=5)
            # the same starting energies: the two models' energy() may differ in the last bit
            # (summed in other orders), and the kernels only add changes to it
            state.energy[:] = start.energy
            stats = _sweep_calls(sampler, model, state, betas, [1, 3, 1, 7])
            runs.append((state, stats, sampler.info()))
        (a, stats_a, info_a), (b, stats_b, info_b) = runs
        assert _same_state(a, b), (label, chains)
        for x, y in zip(stats_a, stats_b, strict=True):
            assert np.array_equal(x[0], y[0]) and np.array_equal(x[1], y[1])
        assert info_a == info_b
    assert lattice._csr is None  # the lattice path never built the 72-bytes-per-site CSR matrix


@pytest.mark.parametrize("sampler_cls", CLUSTER_SAMPLERS, ids=lambda c: c.name)
def test_recorded_runs_on_the_lattice_path_equal_the_csr_path(sampler_cls):
    lattice = Ising.lattice((6, 5), field=0.1)
    kwargs = dict(sweeps=60, burn_in=7, n_chains=2, seed=3, record_states=True)
    a = sample(lattice, _per_bond(sampler_cls), 2.4, **kwargs)
    b = sample(_generic_copy(lattice), _per_bond(sampler_cls), 2.4, **kwargs)
    np.testing.assert_array_equal(a.states, b.states)
    np.testing.assert_array_equal(a.energy, b.energy)
    np.testing.assert_array_equal(a.magnetization, b.magnetization)


@pytest.mark.parametrize(
    ("sampler_cls", "options"),
    [(Wolff, {"clusters_per_sweep": 3}), (SwendsenWang, {}), (SwendsenWang, {"strip_sites": None})],
    ids=["wolff", "sw", "sw-per-bond"],
)
def test_the_single_chain_call_equals_that_chain_in_a_multi_chain_call(sampler_cls, options):
    """One chain runs a serial kernel with compact arguments; the same chain inside a call of
    two chains (the parallel kernel) makes the same moves."""
    model = Ising.lattice((8, 8))
    alone = ChainState.new(model, 2, seed=8)
    pair = alone.copy()
    first = ChainState(
        alone.spins[:1].copy(), alone.rng[:1].copy(), alone.energy[:1].copy(), alone.magnetization[:1].copy()
    )
    solo, duo = sampler_cls(**options), sampler_cls(**options)
    for n in (1, 4, 2):
        got = solo.sweep(model, first, 0.44, n)
        want = duo.sweep(model, pair, 0.44, n)
        assert got.accepted[0] == want.accepted[0] and got.attempted[0] == want.attempted[0]
    assert np.array_equal(first.spins[0], pair.spins[0]) and np.array_equal(first.rng[0], pair.rng[0])
    assert first.energy[0] == pair.energy[0] and first.magnetization[0] == pair.magnetization[0]


@pytest.mark.parametrize("sampler_cls", CLUSTER_SAMPLERS, ids=lambda c: c.name)
def test_the_per_sweep_cache_serves_only_calls_it_fits(sampler_cls):
    """A sampler reused across betas, models, chain counts and resets gives what fresh samplers give."""
    small, other = Ising.lattice((6, 6)), Ising.lattice((6, 6), field=0.2)
    reused = sampler_cls()
    calls = [(small, 1, 0.4), (small, 1, 0.4), (small, 1, 0.5), (other, 1, 0.5), (small, 2, 0.5), (small, 1, 0.5)]
    for k, (model, chains, beta) in enumerate(calls):
        state = ChainState.new(model, chains, seed=k)
        fresh_state = state.copy()
        reused.reset(model, state)
        fresh = sampler_cls()
        for n in (1, 1, 2):
            reused.sweep(model, state, beta, n)
            fresh.sweep(model, fresh_state, beta, n)
        assert _same_state(state, fresh_state), k
    with pytest.raises(ValueError, match="36 spins"):  # a state of another size is still refused
        reused.sweep(small, ChainState.new(Ising.lattice((5, 5)), 1), 0.5)
    with pytest.raises(ValueError, match="beta"):
        reused.sweep(small, ChainState.new(small, 1), -0.5)


def test_wolff_clusters_per_sweep_is_fixed_at_construction():
    wolff = Wolff(clusters_per_sweep=2)
    with pytest.raises(AttributeError):
        wolff.clusters_per_sweep = 5  # type: ignore[misc]
    assert wolff.options()["clusters_per_sweep"] == 2


def test_a_single_threaded_call_restores_the_thread_count():
    pool = numba.get_num_threads()
    assert call_single_threaded(numba.get_num_threads) == 1
    assert numba.get_num_threads() == pool
    with pytest.raises(ZeroDivisionError):
        call_single_threaded(lambda: 1 / 0)
    assert numba.get_num_threads() == pool
