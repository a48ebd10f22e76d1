"""Thread budgets of the compiled loops: a loop over one chain (or one read, or too little work)
runs with one thread, so no parallel region waits at a barrier for threads it cannot use (under
load a single-chain Wolff sweep was 20-35x slower); several chains use at most one thread each;
results never depend on the thread count."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from thermolearn import Ising
from thermolearn.kernel_threads import ItemKernel, over_items, thread_count, thread_limit
from thermolearn.samplers import annealing, cluster, cluster_strips, lattice_kernels
from thermolearn.samplers.cluster import SwendsenWang, Wolff
from thermolearn.samplers.multispin import MultiSpinMetropolis
from thermolearn.samplers.rules import METROPOLIS
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
    compiled = METROPOLIS.compiled

    def spying_compiled(template, *, parallel=False):
        kernel = compiled(template, parallel=parallel)

        def run(*args):
            seen.append(numba.get_num_threads())
            return kernel(*args)

        return run

    monkeypatch.setattr(METROPOLIS, "compiled", spying_compiled)
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
