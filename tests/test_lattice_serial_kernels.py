"""The serial lattice kernels: one chain (or too little work for two threads) is swept by a serial
kernel on the calling thread, with no parallel region and no thread count touched, making the
moves the parallel kernel makes; the per-sweep call returns fresh counts every time."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from thermolearn import Ising, sample
from thermolearn.samplers import ChainState, HeatBath, Metropolis
from thermolearn.samplers import lattice_kernels as lk


def _spy_parallel(monkeypatch) -> list[str]:
    """Record every call of a parallel lattice kernel."""
    seen: list[str] = []
    for kernel in lk._UNIFORM_2D_KERNELS + lk._ANY_LATTICE_KERNELS:
        original = kernel.compiled

        def wrapper(*args, original=original, name=kernel.__name__):
            seen.append(name)
            return original(*args)

        monkeypatch.setattr(kernel, "compiled", wrapper)
    return seen


@pytest.mark.parametrize(
    "model", [Ising.lattice((8, 8)), Ising.lattice((4, 4, 4), coupling=(1.0, 0.5, 0.3))], ids=["2D", "3D"]
)
def test_one_chain_and_small_calls_never_open_a_parallel_region(monkeypatch, model):
    seen = _spy_parallel(monkeypatch)
    pool = numba.get_num_threads()
    state = ChainState.new(model, 1, seed=1)
    sampler = Metropolis()
    for _ in range(3):  # the lean per-sweep path (one float beta, same model and chains)
        sampler.sweep(model, state, 0.44, 1)
    sampler.sweep(model, state, np.array([0.44]), 2)  # the full path
    HeatBath().sweep(model, ChainState.new(model, 3, seed=2), 0.44, 2)  # 3 chains, far below MIN_PARALLEL_WORK
    sample(model, "metropolis", 2.3, sweeps=20, thin=2, seed=3)  # records in the kernel
    assert seen == []
    assert numba.get_num_threads() == pool


def test_the_per_sweep_call_returns_fresh_counts_of_the_right_size():
    model = Ising.lattice((6, 6))
    state = ChainState.new(model, 1, seed=4)
    sampler = Metropolis()
    first = sampler.sweep(model, state, 0.3, 1)
    kept = (first.accepted.copy(), first.attempted.copy())
    second = sampler.sweep(model, state, 0.3, 1)  # the lean path
    third = sampler.sweep(model, state, 0.3, 5)
    assert first.accepted is not second.accepted and first.attempted is not second.attempted
    np.testing.assert_array_equal(first.accepted, kept[0])
    np.testing.assert_array_equal(first.attempted, kept[1])
    assert second.attempted.tolist() == [36] and third.attempted.tolist() == [5 * 36]
    assert second.accepted.dtype == second.attempted.dtype == np.int64
    # at beta = 0.3 about half the proposals are taken: counts that stayed 0 would be a lost result
    assert 0 < third.accepted[0] <= 5 * 36


@pytest.mark.parametrize("order_kind", [0, 1, 2])
def test_the_serial_kernel_sweeps_exactly_the_chains_it_is_given(order_kind):
    """Chains lo..hi-1 of one call equal each chain swept alone, and the others are untouched."""
    model = Ising.lattice((6, 4), coupling=(0.3, -0.7), field=0.1)
    plan = lk.build_plan(model)
    assert plan is not None
    sampler = HeatBath()
    betas = np.array([0.2, 0.5, 0.9, 1.3])
    codes = sampler._decision_codes(plan, betas)
    kernel = lk.serial_kernel(plan, order_kind)
    rest = (*lk.plan_arguments(plan), codes, plan.de_flat, *lk.no_records())

    def run(state, lo, hi):
        accepted = np.full(state.n_chains, -1, dtype=np.int64)
        kernel(lo, hi, accepted, 7, state.spins, state.rng, state.energy, state.magnetization, *rest)
        return accepted

    together, alone = ChainState.new(model, 4, seed=5), ChainState.new(model, 4, seed=5)
    untouched = together.copy()
    got = run(together, 1, 3)
    assert got[0] == got[3] == -1  # chains 0 and 3 were not swept
    for arr, before in zip(
        (together.spins, together.rng, together.energy), (untouched.spins, untouched.rng, untouched.energy), strict=True
    ):
        np.testing.assert_array_equal(arr[[0, 3]], before[[0, 3]])
    for c in (1, 2):
        assert run(alone, c, c + 1)[c] == got[c]
    for a, b in zip(together.arrays().values(), alone.arrays().values(), strict=True):
        np.testing.assert_array_equal(a[1:3], b[1:3])
    # the totals the kernel keeps are those of the spins it left
    np.testing.assert_array_equal(together.magnetization, together.spins.sum(axis=1))
    np.testing.assert_allclose(together.energy, model.energy(together.spins), atol=1e-9)


def test_sweep_stats_made_fast_are_the_same_frozen_stats():
    from dataclasses import FrozenInstanceError

    from thermolearn.samplers.base import SweepStats, sweep_stats

    accepted, attempted = np.array([3, 0]), np.array([8, 8])
    fast = sweep_stats(accepted, attempted)
    assert type(fast) is SweepStats
    assert fast.accepted is accepted and fast.attempted is attempted
    assert fast.acceptance == 3 / 16
    assert repr(fast) == repr(SweepStats(accepted, attempted))
    with pytest.raises(FrozenInstanceError):
        fast.accepted = attempted


def test_the_parallel_kernel_records_what_the_serial_kernel_records():
    """The parallel loop calls the serial kernel once per chain: the same chains and records."""
    from thermolearn.samplers.recording import Records, empty_states

    model = Ising.lattice((8, 8))
    plan = lk.build_plan(model)
    assert plan is not None
    betas = np.array([0.3, 0.44, 0.6])
    codes = Metropolis()._decision_codes(plan, betas)
    results = []
    for threads in (1, 2):
        state = ChainState.new(model, 3, seed=6)
        records = Records(
            first=1,
            count=4,
            energy=np.zeros((3, 6)),
            magnetization=np.zeros((3, 6)),
            site_sums=np.zeros((3, 2, 64)),
            batch_of=np.array([0, 0, 0, 1, 1, 1]),
            states=empty_states(),
        )
        accepted = lk.lattice_sweeps(plan, state, codes, 0, 3 * 4, records.kernel_arguments(3), threads)
        results.append((accepted, *state.arrays().values(), records.energy, records.magnetization, records.site_sums))
    for a, b in zip(*results, strict=True):
        np.testing.assert_array_equal(a, b)
    energy, magnetization = results[0][-3], results[0][-2]
    assert np.all(energy[:, [0, 5]] == 0) and np.all(energy[:, 1:5] != 0)  # records 1..4 only
    np.testing.assert_array_equal(magnetization[:, 4], results[0][4])  # the last record is the final state


_COMPILE_ONCE = """
import numpy as np
from thermolearn import Ising
from thermolearn.samplers import lattice_kernels as lk
from thermolearn.samplers.single_spin import Metropolis
from thermolearn.samplers.state import ChainState
model = Ising.lattice((6, 6, 6))
plan = lk.build_plan(model)
codes = Metropolis()._decision_codes(plan, np.array([0.2, 0.25]))
lk.lattice_sweeps(plan, ChainState.new(model, 2, seed=3), codes, 2, 3, None, 2)  # the parallel kernel
print(sorted({str(s[0]) + "," + str(s[1]) for s in lk.serial_kernel(plan, 2).signatures}))
"""


def test_the_parallel_kernel_reuses_the_serial_kernels_compilation(tmp_path):
    """The prange loop hands its chain index over as int64: Numba also types a prange body with an
    unsigned index, which would compile the whole serial kernel a second time on a cold start.
    (A fresh cache in a child process: a kernel loaded from the cache shows no compilation.)"""
    import os
    import subprocess
    import sys

    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path), NUMBA_NUM_THREADS="2")
    done = subprocess.run([sys.executable, "-c", _COMPILE_ONCE], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "['int64,int64']", done.stdout


def test_the_serial_kernel_returns_the_flips_it_wrote():
    model = Ising.lattice((6, 4), coupling=(0.3, -0.7), field=0.1)
    plan = lk.build_plan(model)
    assert plan is not None
    betas = np.array([0.2, 0.5, 0.9])
    codes = Metropolis()._decision_codes(plan, betas)
    state = ChainState.new(model, 3, seed=6)
    accepted = np.zeros(3, dtype=np.int64)
    rest = (*lk.plan_arguments(plan), codes, plan.de_flat, *lk.no_records())
    got = lk.serial_kernel(plan, 0)(0, 3, accepted, 4, state.spins, state.rng, state.energy, state.magnetization, *rest)
    assert accepted.min() > 0 and got == accepted.sum()


def test_one_chain_stats_read_compare_and_print_as_sweep_stats():
    import copy
    import dataclasses
    import pickle

    from thermolearn.samplers.base import SweepStats, one_chain_stats

    lazy = one_chain_stats(3, 16)
    made = SweepStats(np.array([3]), np.array([16]))
    assert isinstance(lazy, SweepStats)
    assert repr(lazy) == repr(made)
    assert lazy == made and made == lazy and lazy != one_chain_stats(4, 16)
    assert lazy.acceptance == 3 / 16
    assert lazy.accepted.dtype == lazy.attempted.dtype == np.int64
    assert lazy.accepted is lazy.accepted  # made once, then kept
    for twin in (pickle.loads(pickle.dumps(one_chain_stats(5, 9))), copy.deepcopy(one_chain_stats(5, 9))):
        assert twin.accepted.tolist() == [5] and twin.attempted.tolist() == [9]
    assert dataclasses.asdict(one_chain_stats(1, 2)) == {"accepted": [1], "attempted": [2]}
    changed = dataclasses.replace(one_chain_stats(1, 2), accepted=np.array([7]))
    assert changed.accepted.tolist() == [7] and changed.attempted.tolist() == [2]
    with pytest.raises(dataclasses.FrozenInstanceError):
        lazy.accepted = np.array([0])
    with pytest.raises(AttributeError):
        lazy.missing  # noqa: B018 (an attribute that is not a field stays missing)


def _copied(state: ChainState) -> ChainState:
    return state.copy()


@pytest.mark.parametrize("beta", [0.44, np.float64(0.44)], ids=["float", "float64"])
@pytest.mark.parametrize("shape", [(12, 10), (4, 3, 5)], ids=["2D", "3D"])
def test_the_lean_metropolis_call_makes_the_moves_of_the_full_path(beta, shape):
    model = Ising.lattice(shape, field=0.05)
    lean, whole = ChainState.new(model, 1, seed=8), ChainState.new(model, 1, seed=8)
    sampler, other = Metropolis(), Metropolis()
    flips = [int(sampler.sweep(model, lean, beta, 1).accepted[0]) for _ in range(20)]
    flips.append(int(sampler.sweep(model, lean, beta, 3).accepted[0]))  # lean, several sweeps
    assert sampler._lean is not None and sampler._lean[2] is lean  # the lean call was kept
    stats = other.sweep(model, whole, np.array([0.44]), 23)  # an array of betas: the full path
    for a, b in zip(lean.arrays().values(), whole.arrays().values(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert sum(flips) == int(stats.accepted[0])


def test_the_lean_metropolis_call_is_left_for_other_chain_arrays():
    model = Ising.lattice((8, 8))
    state = ChainState.new(model, 1, seed=9)
    sampler = Metropolis()
    sampler.sweep(model, state, 0.4, 1)
    twin = _copied(state)  # the same shape, other arrays: the kept call must not write into the old ones
    before = _copied(state)
    sampler.sweep(model, twin, 0.4, 1)
    for a, b in zip(state.arrays().values(), before.arrays().values(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(twin.rng, before.rng)
    reference = _copied(before)
    Metropolis().sweep(model, reference, np.array([0.4]), 1)
    for a, b in zip(twin.arrays().values(), reference.arrays().values(), strict=True):
        np.testing.assert_array_equal(a, b)
    # a shape set in place on the chain's spins never reaches the compiled entry: the kept call
    # sweeps its views of the same memory, and a call that is not kept refuses the array
    twin.spins.shape = (8, 8)
    sampler.sweep(model, twin, 0.4, 1)
    Metropolis().sweep(model, reference, np.array([0.4]), 1)
    twin.spins.shape = (1, 64)
    for a, b in zip(twin.arrays().values(), reference.arrays().values(), strict=True):
        np.testing.assert_array_equal(a, b)
    twin.spins.shape = (8, 8)
    with pytest.raises(ValueError, match="chain spins must be int8 of shape"):
        Metropolis().sweep(model, twin, 0.4, 1)


@pytest.mark.parametrize(
    "name", ["metropolis", "heatbath", "quench", "wolff", "sw", "metropolis-packed", "heatbath-packed"]
)
def test_a_state_of_another_model_is_refused_not_swept(name):
    """The kernels index the chains without bounds checks: a state made for a smaller lattice, or
    one whose arrays disagree on the number of chains, must be refused before any kernel runs (it
    was swept out of bounds by the single-spin and packed samplers up to 0.6.7)."""
    from thermolearn.samplers.registry import make_sampler

    small, big = Ising.lattice((8, 8)), Ising.lattice((16, 16))
    sampler = make_sampler(name)
    state = ChainState.new(small, 2, seed=1)
    before = state.copy()
    with pytest.raises(ValueError, match="for this model of 256 spins"):
        sampler.sweep(big, state, 0.4, 2)
    for a, b in zip(state.arrays().values(), before.arrays().values(), strict=True):
        np.testing.assert_array_equal(a, b)
    # disagreeing rows, also after a lean per-sweep call kept the arrays of a good state
    good = ChainState.new(big, 1, seed=2)
    sampler.sweep(big, good, 0.4, 1)
    sampler.sweep(big, good, 0.4, 1)
    odd = ChainState(spins=good.spins.copy(), rng=np.vstack([good.rng, good.rng]), energy=good.energy.copy(),
                     magnetization=good.magnetization.copy())  # fmt: skip
    with pytest.raises(ValueError, match="chain rng must be uint64 of shape"):
        sampler.sweep(big, odd, 0.4, 1)


@pytest.mark.parametrize("name", ["metropolis-msc", "pt", "metropolis-jax"])
def test_the_other_samplers_refuse_a_state_of_another_model_before_any_kernel(name):
    from thermolearn.samplers.parallel_tempering import ParallelTempering
    from thermolearn.samplers.registry import make_sampler

    small, big = Ising.lattice((8, 8)), Ising.lattice((16, 16))
    sampler = ParallelTempering([2.0, 2.5, 3.0, 3.5]) if name == "pt" else make_sampler(name)
    state = ChainState.new(small, 64 if name == "metropolis-msc" else 4, seed=1)
    with pytest.raises(ValueError, match="chain spins must be int8 of shape"):
        sampler.sweep(big, state, None if name == "pt" else 0.4, 1)


def test_a_new_chain_of_the_same_shape_takes_the_lean_path_from_its_second_call():
    model = Ising.lattice((8, 8))
    sampler = Metropolis()
    first, second = ChainState.new(model, 1, seed=1), ChainState.new(model, 1, seed=2)
    sampler.sweep(model, first, 0.4, 1)
    sampler.sweep(model, second, 0.4, 1)  # the same model, beta and shape: prepared reused, layout checked
    assert sampler._lean is not None and sampler._lean[2] is second
    reference = ChainState.new(model, 1, seed=2)
    Metropolis().sweep(model, reference, np.array([0.4]), 3)
    sampler.sweep(model, second, 0.4, 2)  # lean
    for a, b in zip(second.arrays().values(), reference.arrays().values(), strict=True):
        np.testing.assert_array_equal(a, b)
