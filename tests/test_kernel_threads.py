"""Thread budgets of the compiled loops: a loop over one chain (or one read, or too little work)
runs with one thread, so no parallel region waits at a barrier for threads it cannot use (under
load a single-chain Wolff sweep was 20-35x slower); several chains use at most one thread each;
results never depend on the thread count."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from thermolearn import Ising, kernel_threads
from thermolearn.kernel_threads import ItemKernel, ThreadClock, over_items, thread_count, thread_limit
from thermolearn.samplers import annealing, cluster, cluster_strips, lattice_kernels
from thermolearn.samplers.cluster import SwendsenWang, Wolff
from thermolearn.samplers.multispin import MultiSpinMetropolis
from thermolearn.samplers.parallel_tempering import ParallelTempering
from thermolearn.samplers.rules import ALWAYS_FREE_METROPOLIS
from thermolearn.samplers.single_spin import HeatBath, Metropolis
from thermolearn.samplers.state import ChainState

POOL = numba.get_num_threads()
needs_two_threads = pytest.mark.skipif(POOL < 2, reason="the machine gives Numba one thread")


def test_thread_count_is_at_most_one_per_item_and_the_pool():
    assert thread_count(1) == 1
    assert thread_count(0) == 1
    assert thread_count(10**6) == POOL
    assert thread_count(2) == min(2, POOL)
    assert thread_count(10**6, work=10, min_work=100) == 1
    assert thread_count(10**6, work=100, min_work=100) == POOL


@needs_two_threads
def test_thread_limit_lowers_the_pool_and_restores_it_also_after_an_error(monkeypatch):
    monkeypatch.setattr(numba, "get_num_threads", lambda: 8)  # as on an 8-core machine
    calls = []
    monkeypatch.setattr(numba, "set_num_threads", calls.append)
    with thread_limit(3):
        pass
    assert calls == [3, 8]
    calls.clear()
    with pytest.raises(RuntimeError), thread_limit(1):
        raise RuntimeError("inside")
    assert calls == [1, 8]
    calls.clear()
    with thread_limit(8), thread_limit(20):
        pass
    assert calls == []  # the whole pool needs no change


@over_items()
def _square_rows(x, out):
    for i in numba.prange(x.shape[0]):
        out[i] = x[i] * x[i]


def test_an_item_kernel_runs_one_parallel_compilation_with_the_threads_its_items_fill():
    assert isinstance(_square_rows, ItemKernel)
    assert _square_rows.compiled.targetoptions.get("parallel")
    x = np.arange(7.0)
    for n_items in (1, 7):
        out = np.zeros(7)
        _square_rows.run(n_items, x, out)
        assert np.array_equal(out, x * x)
    assert numba.get_num_threads() == POOL


def _spy(monkeypatch, kernel: ItemKernel) -> list[int]:
    """Record Numba's thread count at each call of ``kernel``."""
    seen: list[int] = []
    original = kernel.compiled

    def wrapper(*args):
        seen.append(numba.get_num_threads())
        return original(*args)

    monkeypatch.setattr(kernel, "compiled", wrapper)
    return seen


def _sw_csr() -> SwendsenWang:
    """Swendsen-Wang without the strips: the per-bond kernel :func:`cluster._sw_sweeps`."""
    return SwendsenWang(strip_sites=None)


@needs_two_threads
@pytest.mark.parametrize(
    ("cls", "kernel"),
    [(Wolff, cluster._wolff_sweeps), (_sw_csr, cluster._sw_sweeps), (SwendsenWang, cluster_strips.sw_strip_chains)],
    ids=["wolff", "sw-per-bond", "sw-strips"],
)
def test_cluster_sweeps_use_one_thread_for_one_chain_or_little_work_and_the_pool_for_many(monkeypatch, cls, kernel):
    seen = _spy(monkeypatch, kernel)
    small = Ising.lattice((8, 8))
    cls().sweep(small, ChainState.new(small, 1, seed=3), 0.44, 2)
    cls().sweep(small, ChainState.new(small, 4, seed=3), 0.44, 2)  # 512 spin updates: not worth the pool
    assert seen and set(seen) == {1}
    seen.clear()
    big = Ising.lattice((64, 64))
    cls().sweep(big, ChainState.new(big, 4, seed=3), 0.44, 80)  # 1.3 million spin updates
    assert seen and seen[-1] == min(4, POOL)  # (Wolff's calibration before it is a smaller call)
    assert numba.get_num_threads() == POOL


@needs_two_threads
def test_single_spin_lattice_sweeps_of_one_chain_use_one_thread(monkeypatch):
    seen = _spy(monkeypatch, lattice_kernels._sweeps_2d_uniform)
    model = Ising.lattice((8, 8))
    Metropolis().sweep(model, ChainState.new(model, 1, seed=1), 0.44, 3)
    big = Ising.lattice((64, 64))
    HeatBath().sweep(big, ChainState.new(big, 4, seed=1), 0.44, 80)
    assert seen == [min(4, POOL)]  # one chain runs the serial kernel, never the parallel one


@needs_two_threads
@pytest.mark.parametrize(("reads", "threads"), [(1, 1), (4, min(4, POOL))])
def test_annealing_reads_use_at_most_one_thread_each(monkeypatch, reads, threads):
    model = Ising.sherrington_kirkpatrick(12, seed=2)
    seen: list[int] = []
    compiled = ALWAYS_FREE_METROPOLIS.compiled  # the annealers' Metropolis rule

    def spying_compiled(template, *, parallel=False):
        kernel = compiled(template, parallel=parallel)

        def run(*args):
            seen.append(numba.get_num_threads())
            return kernel(*args)

        return run

    monkeypatch.setattr(ALWAYS_FREE_METROPOLIS, "compiled", spying_compiled)
    annealing.anneal(model, sweeps=20, reads=reads, seed=4)
    assert seen and set(seen) == {threads}  # the reads, then the final quench
    assert numba.get_num_threads() == POOL


@pytest.mark.parametrize("cls", [Wolff, SwendsenWang, _sw_csr, Metropolis, HeatBath, MultiSpinMetropolis])
def test_serial_and_parallel_kernels_make_the_same_chains(cls):
    model = Ising.lattice((32, 32))
    chains = 128 if cls is MultiSpinMetropolis else 4  # two groups of 64 replicas
    results = []
    for threads in sorted({1, POOL}):
        numba.set_num_threads(threads)
        try:
            state = ChainState.new(model, chains, seed=11)
            cls().sweep(model, state, 0.42, 300)  # over MIN_PARALLEL_WORK: parallel with two threads
            results.append((state.spins.copy(), state.rng.copy(), state.energy.copy(), state.magnetization.copy()))
        finally:
            numba.set_num_threads(POOL)
    for got in results[1:]:
        for a, b in zip(got, results[0], strict=True):
            assert np.array_equal(a, b)


# ---------------------------------------------------------------------------- the thread clock
class _Now:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def _timed(clock: ThreadClock, seconds: dict[int, float], calls: int) -> list[int]:
    """``calls`` choices of ``clock``, each recorded with the time ``seconds[choice]`` per sweep."""
    chosen = []
    for _ in range(calls):
        threads = clock.choose(2)
        chosen.append(threads)
        clock.record(threads, seconds[threads], seconds[threads])
    return chosen


def test_the_thread_clock_tries_the_pool_then_one_thread_then_keeps_the_faster(monkeypatch):
    now = _Now()
    monkeypatch.setattr(kernel_threads.time, "monotonic", now)
    clock = ThreadClock()
    trial = ThreadClock.TRIAL
    quiet = {2: 0.001, 1: 0.002}
    assert _timed(clock, quiet, 2 * trial + 5) == [2] * trial + [1] * trial + [2] * 5
    loaded = {2: 0.008, 1: 0.004}  # the machine becomes busy: the pool's calls slow down
    chosen = _timed(clock, loaded, 30)
    assert chosen[0] == 2 and chosen[1] == 1  # the running mean of the pool passes one thread's
    # one thread's own estimate was from the quiet machine: it is learnt again (a few calls
    # of the pool on the way), then one thread stays
    assert chosen[-15:] == [1] * 15 and chosen.count(2) <= 6


def test_the_thread_clock_judges_by_a_running_mean_and_not_the_first_call_after_a_switch(monkeypatch):
    now = _Now()
    monkeypatch.setattr(kernel_threads.time, "monotonic", now)
    clock = ThreadClock()
    _timed(clock, {2: 0.002, 1: 0.004}, 2 * ThreadClock.TRIAL)
    # a busy machine: the pool alternates between a fast call (both threads ran) and a late one
    # (mean 5 ms per call, one thread takes 4 ms)
    choices = []
    for k in range(40):
        threads = clock.choose(2)
        choices.append(threads)
        took = (0.002 if k % 2 else 0.008) if threads == 2 else 0.004
        clock.record(threads, took, took)
    assert choices[-20:] == [1] * 20  # the last call alone would have said "pool" every other call
    # the first call on a switched choice pays for the switch and is not counted
    before = clock._seconds[1]
    clock.record(2, 0.002, 0.002)
    clock.record(1, 0.050, 0.050)  # a switch call, very slow
    assert clock._seconds[1] == before


def test_the_thread_clock_retimes_a_stale_choice_and_long_calls_try_once(monkeypatch):
    now = _Now()
    monkeypatch.setattr(kernel_threads.time, "monotonic", now)
    clock = ThreadClock()
    _timed(clock, {2: 0.002, 1: 0.004}, 2 * ThreadClock.TRIAL)
    assert _timed(clock, {2: 0.002, 1: 0.004}, 3) == [2, 2, 2]
    now.t += ThreadClock.REFRESH + 0.1  # both timings stale: the pool first, then one thread
    quiet = {2: 0.002, 1: 0.004}
    assert _timed(clock, quiet, 2 * ThreadClock.TRIAL + 1) == [2] * ThreadClock.TRIAL + [1] * ThreadClock.TRIAL + [2]
    # long calls: a timing stays fresh for STALE_CALLS calls' time, and a trial is one call
    long = {2: 1.0, 1: 2.0}
    clock.record(2, 0.002, 1.0)  # a call of 500 sweeps
    now.t += ThreadClock.REFRESH + 0.1
    assert clock.choose(2) == 2  # one thread's timing is older than REFRESH but not 30 calls' time
    now.t += ThreadClock.STALE_CALLS * 1.0
    assert _timed(clock, long, 3) == [2, 1, 2]  # each stale choice tried for one call


@needs_two_threads
def test_the_thread_clock_runs_a_kernel_on_its_choice_and_the_results_do_not_depend_on_it():
    model = Ising.lattice((32, 32))
    results = []
    for choice in (1, 2):

        class Forced(ThreadClock):
            def choose(self, threads: int, choice: int = choice) -> int:
                return choice

        sampler = MultiSpinMetropolis()
        sampler._clock = Forced()
        state = ChainState.new(model, 128, seed=5)
        for _ in range(3):
            sampler.sweep(model, state, 0.42, 200)  # two groups, work enough for the pool
        assert set(sampler._clock._seconds) == {choice}  # the call was timed on the chosen threads
        results.append((state.spins.copy(), state.rng.copy(), state.energy.copy()))
    for a, b in zip(*results, strict=True):
        assert np.array_equal(a, b)
    assert numba.get_num_threads() == POOL


@needs_two_threads
def test_parallel_tempering_times_its_threads_and_its_chains_do_not_depend_on_them():
    model = Ising.lattice((24, 24))
    temps = np.geomspace(2.0, 3.0, 4)
    results = []
    for choice in (1, 2):

        class Forced(ThreadClock):
            def choose(self, threads: int, choice: int = choice) -> int:
                return choice

        sampler = ParallelTempering(temperatures=temps)
        state = ChainState.new(model, 4 * 8, seed=3)
        sampler.reset(model, state)
        sampler._clock = Forced()
        betas = np.tile(1.0 / temps, 8)
        for _ in range(2):
            sampler.sweep(model, state, betas, 60)  # 8 runs, work over a million: the parallel kernel
        assert set(sampler._clock._seconds) == {choice}
        results.append((state.spins.copy(), state.rng.copy(), state.energy.copy()))
    for a, b in zip(*results, strict=True):
        assert np.array_equal(a, b)
