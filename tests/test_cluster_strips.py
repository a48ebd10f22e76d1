"""Swendsen-Wang in row strips (its path on every periodic 2D lattice, on several threads from
512 x 512 sites on) is exact and its moves do not depend on the thread count, the strip height or
the number of chains.

The strips are forced on small lattices (``strip_sites=1``, strips of 1-5 rows, so the boundary
merge and the periodic wrap from the last row to the first are exercised): the visited states
against exact enumeration (chi-square, each sample counted as 1 / (2 tau_int) of an independent
one), E and C against Kaufman's finite-lattice answers with jackknife error bars, the conformance
kit, and the bookkeeping (E and M equal recomputation, sweep(n) == n x sweep(1), checkpoints).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numba
import numpy as np
import pytest

from tests.test_samplers_cluster import chi_square_against_exact as _chi_square
from thermolearn import Ising
from thermolearn.exact.kaufman import kaufman
from thermolearn.kernel_threads import thread_limit
from thermolearn.runs import sample
from thermolearn.samplers import ChainState, cluster
from thermolearn.samplers.cluster import STRIP_SITES, SwendsenWang
from thermolearn.samplers.cluster_strips import strip_scratch, sw_strip_serial, sw_strip_sweeps
from thermolearn.samplers.recording import no_records
from thermolearn.testing import check_sampler

N_SIGMA = 4.0
P_REJECT = 1e-4  # chi-square p-value below which a sample is declared not Boltzmann-distributed


def strips(rows: int = 1) -> SwendsenWang:
    """Swendsen-Wang with the strip kernel on every lattice, in strips of ``rows`` rows."""
    return SwendsenWang(strip_sites=1, strip_rows=rows)


@pytest.fixture(autouse=True)
def one_numba_thread():
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    yield
    numba.set_num_threads(before)


def _same_state(a: ChainState, b: ChainState) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a.arrays().values(), b.arrays().values(), strict=True))


def chi_square_against_exact(model: Ising, sampler, T: float, T_sampled: float | None = None, seed: int = 0) -> dict:
    """The cluster tests' chi-square against exp(-E/T)/Z, with 8 chains of 4000 sweeps."""
    return _chi_square(model, sampler, T, T_sampled=T_sampled, n_chains=8, n_sweeps=4000, burn_in=20, seed=seed)


# --------------------------------------------------------------------------- exactness
EXACT_CASES = [
    ("3x4, strips of 1 row", (3, 4), 0.0, 1, 1.5),
    ("3x4, strips of 1 row", (3, 4), 0.0, 1, 2.3),
    ("4x3, strips of 3 rows (a short last strip)", (4, 3), 0.0, 3, 3.0),
    ("3x4, strips of 2 rows, field 0.3", (3, 4), 0.3, 2, 1.8),
    ("4x4, strips of 1 row, field -0.2", (4, 4), -0.2, 1, 2.6),
]


@pytest.mark.parametrize("label, shape, field, rows, T", EXACT_CASES, ids=[f"{c[0]} T={c[4]}" for c in EXACT_CASES])
def test_strip_sweeps_sample_the_exact_boltzmann_distribution(label, shape, field, rows, T):
    result = chi_square_against_exact(Ising.lattice(shape, field=field), strips(rows), T, seed=17)
    assert result["p"] > P_REJECT, f"{label}, T={T}: {result}"


def test_the_same_test_rejects_strip_samples_drawn_ten_percent_too_hot():
    """Negative control: the chi-square has the power to see a wrong temperature."""
    result = chi_square_against_exact(Ising.lattice((3, 4)), strips(1), 2.0, T_sampled=2.2, seed=17)
    assert result["p"] < 1e-12, result


@pytest.mark.parametrize("L, T, rows", [(16, 2.269, 5), (16, 2.0, 3), (32, 2.269, 7), (32, 2.6, 32)])
def test_strip_energy_and_specific_heat_agree_with_kaufman(L, T, rows):
    exact = kaufman(L, T)
    result = sample(Ising.lattice((L, L)), strips(rows), T, sweeps=6000, burn_in=100, n_chains=2, seed=L + rows)
    obs = result.at()
    e, c = obs.energy_per_spin, obs.specific_heat
    assert abs(e.mean - exact.energy_per_spin) < N_SIGMA * e.stderr, (e, exact.energy_per_spin)
    assert abs(c.mean - exact.specific_heat_per_spin) < N_SIGMA * c.stderr, (c, exact.specific_heat_per_spin)
    assert e.stderr < 0.01 and c.stderr < 0.1 * exact.specific_heat_per_spin  # the check has teeth


def test_strip_sweeps_pass_the_conformance_kit_on_periodic_lattices():
    models = {
        "periodic 4x4 ferromagnet": (Ising.lattice((4, 4)), 2.5),
        "periodic 4x4 ferromagnet, field 0.1": (Ising.lattice((4, 4), field=0.1), 2.6),
        "periodic 3x5 ferromagnet, J = 0.7": (Ising.lattice((3, 5), coupling=0.7), 1.8),
    }
    assert check_sampler(strips(2), models=models, n_samples=1500).passed


# ------------------------------------------------------- the same moves whatever the cut
def _strip_run(shape, field, rows, threads, calls=(1, 3, 2), chains=2, seed=4):
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    model = Ising.lattice(shape, field=field, coupling=0.9)
    sampler = strips(rows)
    state = ChainState.new(model, chains, seed=seed)
    stats_ = [sampler.sweep(model, state, 0.47, n) for n in calls]
    return model, state, sampler, stats_


@pytest.mark.parametrize("field", [0.0, 0.15])
def test_the_moves_do_not_depend_on_the_strip_height(field):
    """Every random number belongs to a bond's site or a cluster's smallest site, and the clusters
    do not depend on the cut: strips of 1, 2, 5 or all 12 rows make the same moves."""
    runs = [_strip_run((12, 10), field, rows, 1) for rows in (1, 2, 5, 12)]
    model, first, sampler, stats_ = runs[0]
    for _, state, other, other_stats in runs[1:]:
        assert np.array_equal(state.spins, first.spins) and np.array_equal(state.rng, first.rng)
        assert np.array_equal(state.magnetization, first.magnetization)
        np.testing.assert_allclose(state.energy, first.energy, rtol=0, atol=1e-9)  # the field part's rounding
        assert other.info() == sampler.info()
        for a, b in zip(stats_, other_stats, strict=True):
            assert np.array_equal(a.accepted, b.accepted)
    np.testing.assert_allclose(first.energy, model.energy(first.spins), rtol=0, atol=1e-9)
    np.testing.assert_array_equal(first.magnetization, model.magnetization(first.spins))


def test_the_kernel_gives_the_same_spins_with_one_and_two_threads():
    """The strip kernel itself, on 64 x 48 sites in 16 strips of 4 rows, with 1 and 2 Numba
    threads and compiled serially: the strips land on other threads, the spins, generator, E, M
    and counts do not change."""
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs 2 Numba threads (NUMBA_NUM_THREADS >= 2)")
    model = Ising.lattice((64, 48), field=0.05)
    betas = 1.0 / 2.3
    p = -math.expm1(-2.0 * betas)
    thr = np.uint64(math.ceil(p * 2.0**53))
    results = []
    for kernel, threads in ((sw_strip_sweeps, 1), (sw_strip_sweeps, 2), (sw_strip_serial, 1)):
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        state = ChainState.new(model, 1, seed=3)
        totals = np.zeros(3, dtype=np.int64)
        scratch = strip_scratch(model.n_spins, 48, 4, True)
        args = (state.spins, state.rng, state.energy, state.magnetization, 48, 4, model.fields, 1.0, thr, True, betas)
        with thread_limit(threads):
            flipped = [kernel(0, *args, n, *scratch, totals, *no_records()) for n in (1, 5)]
        assert not scratch[4].any()  # the merge leaves its marks cleared for the next sweep
        results.append((state, totals, flipped))
    (a, ta, fa), (b, tb, fb), (c, tc, fc) = results  # parallel on 1 and 2 threads, the serial compilation
    assert _same_state(a, b) and _same_state(a, c)
    assert np.array_equal(ta, tb) and np.array_equal(ta, tc) and fa == fb == fc
    np.testing.assert_allclose(a.energy, model.energy(a.spins), rtol=0, atol=1e-9)


def test_the_thread_count_is_timed_and_changes_no_result(monkeypatch):
    """Big enough for the pool (147456 sites in 6 strips, with the threads allowed from there):
    the sampler times the pool and one thread and keeps the faster; either way the chain is the
    one a single thread makes."""
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs 2 Numba threads (NUMBA_NUM_THREADS >= 2)")
    model = Ising.lattice((384, 384))
    monkeypatch.setattr(cluster, "STRIP_THREAD_SITES", model.n_spins)
    numba.set_num_threads(2)
    timed = SwendsenWang(strip_sites=1)
    a = ChainState.new(model, 1, seed=2)
    for _ in range(4):
        timed.sweep(model, a, 0.44, 1)
    assert set(timed._strip_clock._seconds) == {1, 2}  # both were timed
    numba.set_num_threads(1)
    b = ChainState.new(model, 1, seed=2)
    SwendsenWang(strip_sites=1).sweep(model, b, 0.44, 4)
    assert _same_state(a, b)


# ---------------------------------------------------------------------------- bookkeeping
def test_running_energy_and_magnetisation_equal_recomputation_on_rectangles():
    for shape, field, rows in (((5, 7), 0.3, 2), ((7, 4), -0.1, 3), ((9, 3), 0.0, 4)):
        model = Ising.lattice(shape, field=field, coupling=1.3)
        sampler = strips(rows)
        state = ChainState.new(model, 3, seed=2)
        betas = np.array([0.2, 0.5, 3.0])
        for n in (1, 4, 9):
            st = sampler.sweep(model, state, betas, n)
            np.testing.assert_allclose(state.energy, model.energy(state.spins), rtol=0, atol=1e-9)
            np.testing.assert_array_equal(state.magnetization, model.magnetization(state.spins))
            assert np.all(st.accepted <= st.attempted)
    assert sampler.info()["mean_cluster_size"] > 1


def test_n_sweeps_in_one_call_equal_n_calls_of_one_sweep_and_recorded_runs_agree():
    model = Ising.lattice((6, 8), field=0.1)
    a, b = ChainState.new(model, 2, seed=6), ChainState.new(model, 2, seed=6)
    sa, sb = strips(2), strips(2)
    sa.sweep(model, a, 0.4, 12)
    for _ in range(12):
        sb.sweep(model, b, 0.4, 1)
    assert _same_state(a, b) and sa.info() == sb.info()
    kwargs = dict(sweeps=40, burn_in=5, n_chains=2, seed=3, record_states=True)
    recorded = sample(model, strips(2), 2.4, thin=2, **kwargs)
    # records in the kernel (one call) equal the states the per-sweep calls leave
    state = ChainState.new(model, 2, seed=3)
    loop = strips(2)
    loop.sweep(model, state, 1 / 2.4, 5)
    for k in range(20):  # 40 sweeps, a record every 2
        loop.sweep(model, state, 1 / 2.4, 2)
        np.testing.assert_array_equal(recorded.states[:, k], state.spins)
        np.testing.assert_array_equal(recorded.energy[:, k], state.energy)


def test_a_threaded_call_in_blocks_makes_the_moves_and_records_of_one_block(monkeypatch):
    """From STRIP_THREAD_SITES on a timed call runs in blocks of about STRIP_BLOCK_SECONDS (the
    threads chosen again for each block); with blocks of a single thin (a block time of zero) the
    chains, counters and records are those of the call run whole (the clock off)."""
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs 2 Numba threads (NUMBA_NUM_THREADS >= 2)")
    model = Ising.lattice((24, 24), field=0.05)
    monkeypatch.setattr(cluster, "STRIP_THREAD_SITES", model.n_spins)
    monkeypatch.setattr(cluster, "MIN_PARALLEL_WORK", 0)  # threads for a small lattice
    monkeypatch.setattr(cluster, "STRIP_BLOCK_SECONDS", 0.0)
    blocks: list[int] = []

    def spy(original):
        def spying(*args):
            blocks.append(args[12])  # n_sweeps of this kernel call
            return original(*args)

        return spying

    monkeypatch.setattr(cluster, "sw_strip_serial", spy(cluster.sw_strip_serial))
    monkeypatch.setattr(cluster, "sw_strip_sweeps", spy(cluster.sw_strip_sweeps))
    pool = numba.get_num_threads()
    numba.set_num_threads(2)
    try:
        _blocks_against_one_call(model, blocks)
    finally:
        numba.set_num_threads(pool)


def _blocks_against_one_call(model: Ising, blocks: list[int]) -> None:
    whole, blocked = strips(4), strips(4)
    whole._timed_threads = False
    a, b = ChainState.new(model, 2, seed=8), ChainState.new(model, 2, seed=8)
    fa = whole.sweep(model, a, 0.42, 9).accepted
    assert blocks == [9, 9]  # one call per chain
    blocks.clear()
    fb = blocked.sweep(model, b, 0.42, 9).accepted
    assert blocks == [1, 1] * 9  # nine blocks of one sweep, each over both chains
    assert _same_state(a, b) and np.array_equal(fa, fb) and whole.info() == blocked.info()
    assert np.array_equal(whole._counters, blocked._counters)
    kwargs = dict(sweeps=30, burn_in=4, n_chains=2, seed=5, record_states=True, thin=3)
    one = sample(model, whole, 2.3, **kwargs)
    blocks.clear()
    many = sample(model, blocked, 2.3, **kwargs)
    assert set(blocks) == {1, 3}  # the burn-in in blocks of one sweep, the records in blocks of one thin
    np.testing.assert_array_equal(one.states, many.states)
    np.testing.assert_array_equal(one.energy, many.energy)
    np.testing.assert_array_equal(one.magnetization, many.magnetization)


class _Interrupted(Exception):
    pass


def test_an_interrupted_strip_run_resumes_to_the_uninterrupted_result(tmp_path):
    class Crashing(SwendsenWang):
        calls = 0

        def sweep(self, *args, **kwargs):
            Crashing.calls += 1
            if Crashing.calls > 90:
                raise _Interrupted
            return super().sweep(*args, **kwargs)

    model = Ising.lattice((6, 6))
    kwargs = dict(sweeps=200, burn_in=30, n_chains=2, seed=9, record_states=True)
    plain = sample(model, strips(2), 2.2, **kwargs)
    path = tmp_path / "run.npz"
    with pytest.raises(_Interrupted):
        sample(model, Crashing(strip_sites=1, strip_rows=2), 2.2, checkpoint=path, checkpoint_every=25, **kwargs)
    resumed = sample(model, strips(2), 2.2, checkpoint=path, checkpoint_every=25, **kwargs)
    np.testing.assert_array_equal(resumed.states, plain.states)
    np.testing.assert_array_equal(resumed.energy, plain.energy)
    assert resumed.sampler_info == plain.sampler_info


# -------------------------------------------------------------------- when strips are used
def test_strips_are_used_from_strip_sites_on_for_lattice_path_models_only():
    sw = SwendsenWang()
    assert STRIP_SITES == 1 and sw.options() == {}  # defaults are left out (checkpoints resume)
    assert SwendsenWang(strip_sites=None, strip_rows=8).options() == {"strip_sites": None, "strip_rows": 8}
    assert sw.uses_strips(Ising.lattice((3, 3))) and sw.uses_strips(Ising.lattice((256, 1024)))
    big = SwendsenWang(strip_sites=512 * 512)
    assert big.options() == {"strip_sites": 512 * 512}
    assert big.uses_strips(Ising.lattice((512, 512))) and not big.uses_strips(Ising.lattice((511, 512)))
    assert not sw.uses_strips(Ising.lattice((8, 8), periodic=False))  # no lattice path
    assert not SwendsenWang(strip_sites=None).uses_strips(Ising.lattice((512, 512)))
    small = Ising.lattice((8, 8))
    assert not sw.uses_strips(Ising(small.couplings, small.fields))


def test_a_512_x_512_lattice_takes_the_strips_by_default_and_keeps_e_and_m():
    model = Ising.lattice((512, 512), coupling=0.8)
    state = ChainState.new(model, 1, seed=1)
    SwendsenWang().sweep(model, state, 0.5, 2)
    s = state.spins[0].reshape(512, 512).astype(np.int64)
    bonds = int((s * np.roll(s, -1, axis=0)).sum() + (s * np.roll(s, -1, axis=1)).sum())
    assert state.energy[0] == -0.8 * bonds and state.magnetization[0] == s.sum()
    assert model._csr is None  # (the lattice path builds no CSR matrix)
    forced = ChainState.new(model, 1, seed=1)
    SwendsenWang(strip_sites=1).sweep(model, forced, 0.5, 2)
    assert _same_state(state, forced)  # the default took the strips


@pytest.mark.parametrize("chains", [1, 3])
def test_small_lattices_take_the_strips_by_default_and_below_strip_sites_the_serial_stream_is_kept(chains):
    """In zero field the default (strips of 64 rows: one strip on 8 x 8) makes the moves of strips
    of 3 rows; ``strip_sites`` above the lattice gives the per-bond xoshiro stream of 0.6.5."""
    model = Ising.lattice((8, 8))
    default, never, forced, above = (ChainState.new(model, chains, seed=5) for _ in range(4))
    SwendsenWang().sweep(model, default, 0.44, 3)
    SwendsenWang(strip_sites=None).sweep(model, never, 0.44, 3)
    strips(3).sweep(model, forced, 0.44, 3)
    SwendsenWang(strip_sites=65).sweep(model, above, 0.44, 3)
    assert _same_state(default, forced) and _same_state(never, above)
    assert not np.array_equal(default.spins, never.spins)


@pytest.mark.parametrize("field", [0.0, 0.2])
def test_each_chain_makes_the_same_moves_alone_and_among_several(field):
    """Several small chains run in parallel, one per thread (:func:`sw_strip_chains`), a single
    chain the serial kernel directly: chain c's spins, generator, E, M, flips and the sampler's
    counters are the same either way, at each chain's own temperature."""
    model = Ising.lattice((10, 7), field=field, coupling=0.9)
    betas = np.array([0.3, 0.45, 0.6])
    together = ChainState.new(model, 3, seed=8)
    sampler = SwendsenWang()
    got = [sampler.sweep(model, together, betas, n).accepted for n in (1, 4)]
    counters = np.zeros(3, dtype=np.int64)
    for c in range(3):
        fresh = ChainState.new(model, 3, seed=8)
        alone = ChainState(*(x[c : c + 1].copy() for x in fresh.arrays().values()))
        one = SwendsenWang()
        flips = [one.sweep(model, alone, betas[c], n).accepted[0] for n in (1, 4)]
        counters += one._counters
        for x, y in zip(alone.arrays().values(), together.arrays().values(), strict=True):
            assert np.array_equal(x[0], y[c])
        assert flips == [g[c] for g in got]
    assert np.array_equal(counters, sampler._counters)
    np.testing.assert_allclose(together.energy, model.energy(together.spins), rtol=0, atol=1e-9)


# a fresh process with 2 Numba threads sweeps one chain of 32 x 32 and one of 384 x 384 (work enough
# for the pool, below the threads' size) and says which Swendsen-Wang kernels hold machine code
CHILD = """
import json
from thermolearn import Ising
from thermolearn.samplers import cluster, cluster_strips as cs
from thermolearn.samplers.state import ChainState
sw = cluster.SwendsenWang()
for L in (32, 384):
    model = Ising.lattice((L, L))
    sw.sweep(model, ChainState.new(model, 1, seed=1), 0.44, 2)
kernels = {"sw_strip_sweeps": cs.sw_strip_sweeps, "sw_strip_serial": cs.sw_strip_serial,
           "sw_strip_chains": cs.sw_strip_chains.compiled, "_sw_sweeps": cluster._sw_sweeps.compiled,
           "_sw_one": cluster._sw_one}
print(json.dumps({"compiled": sorted(k for k, d in kernels.items() if d.signatures),
                  "timed": sorted(sw._strip_clock._seconds)}))
"""


def test_one_small_chain_compiles_and_times_only_the_serial_strip_kernel():
    env = dict(os.environ, NUMBA_NUM_THREADS="2")
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got == {"compiled": ["sw_strip_serial"], "timed": []}


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(strip_sites=0), "strip_sites must be a positive integer or None"),
        (dict(strip_sites=2.5), "strip_sites"),
        (dict(strip_sites=True), "strip_sites"),
        (dict(strip_rows=0), "strip_rows must be a positive integer"),
        (dict(strip_rows=None), "strip_rows"),
    ],
)
def test_bad_strip_options_are_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SwendsenWang(**kwargs)
