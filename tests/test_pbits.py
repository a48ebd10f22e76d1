"""p-bit update models against the exact distributions they should sample (thermolearn.pbits).

Every statistical check compares a total-variation distance with its jackknife error bar over
independent chains and with the TV an exact sampler would show at the same noise
(``tv_noise_floor``); each exactness check has a negative control that must fail."""

from __future__ import annotations

import dataclasses
import math

import numba
import numpy as np
import pytest

from thermolearn import Ising
from thermolearn.pbits import (
    UPDATE_MODELS,
    asynchronous_distribution,
    boltzmann_distribution,
    color_classes,
    delayed_asynchronous_distribution,
    graph_coloring,
    run_pbits,
    stationary_distribution,
    synchronous_distribution,
    total_variation,
    tv_distance,
    tv_noise_floor,
)
from thermolearn.pbits.coloring import chromatic_plan
from thermolearn.pbits.kernels import chromatic_run, threshold_table
from thermolearn.randomness.xoshiro import seed_chains


def frustrated_network() -> Ising:
    """A triangle with a pendant p-bit and fields: frustrated, three colours, 16 states."""
    J = np.zeros((4, 4))
    for i, j, w in ((0, 1, 0.8), (1, 2, -0.6), (0, 2, 0.5), (2, 3, 0.7)):
        J[i, j] = J[j, i] = w
    return Ising.from_dense(J, [0.3, -0.2, 0.1, 0.4])


def frustrated_triangle() -> Ising:
    """Three p-bits, one antiferromagnetic bond, fields: the largest delayed chain solved fast."""
    J = np.zeros((3, 3))
    for i, j, w in ((0, 1, 0.8), (1, 2, -0.6), (0, 2, 0.5)):
        J[i, j] = J[j, i] = w
    return Ising.from_dense(J, [0.3, -0.2, 0.4])


def ferromagnetic_pair(J: float = 1.0) -> Ising:
    return Ising.from_dense(np.array([[0.0, J], [J, 0.0]]), [0.0, 0.0])


def assert_consistent(run, reference) -> None:
    tv = total_variation(run, reference)
    floor = tv_noise_floor(run)
    assert tv.mean < floor + 4 * tv.stderr, (tv, floor)


def assert_different(run, reference) -> None:
    tv = total_variation(run, reference)
    floor = tv_noise_floor(run)
    assert tv.mean > floor + 5 * tv.stderr, (tv, floor)


@pytest.mark.parametrize("update", ["sequential", "chromatic"])
def test_sequential_and_chromatic_pbits_sample_the_boltzmann_distribution_to_tv_below_1e3(update):
    model, beta = frustrated_network(), 0.8
    # the budget puts the noise floor near 4e-4, so "TV below 1e-3" is a test of the sampler, not of
    # the seed (at 8 x 400_000 sweeps the floor was 8e-4 and exact samplers crossed 1e-3)
    run = run_pbits(model, beta=beta, update=update, n_sweeps=1_000_000, n_chains=16, burn_in=50, seed=11)
    tv = total_variation(run, boltzmann_distribution(model, beta))
    assert tv_noise_floor(run) < 5e-4
    assert tv.mean < 1e-3
    assert_consistent(run, boltzmann_distribution(model, beta))
    # negative control: the same samples are detectably not the law at a 10% different beta
    assert_different(run, boltzmann_distribution(model, beta * 1.1))


def test_synchronous_pbits_sample_peretto_law_which_is_uniform_for_a_ferromagnetic_pair():
    model, beta = ferromagnetic_pair(), 1.0
    exact = synchronous_distribution(model, beta)
    np.testing.assert_allclose(exact, 0.25, rtol=1e-12)  # cosh(beta J m2) cosh(beta J m1) is constant
    run = run_pbits(model, beta=beta, update="synchronous", n_sweeps=50_000, n_chains=8, seed=3)
    assert_consistent(run, exact)
    boltzmann = boltzmann_distribution(model, beta)
    bias = tv_distance(exact, boltzmann)
    assert bias == pytest.approx(math.tanh(beta) / 2, rel=1e-12)  # P(aligned): e/(e+1/e) -> 1/2
    assert_different(run, boltzmann)
    tv = total_variation(run, boltzmann)
    assert abs(tv.mean - bias) < tv_noise_floor(run) + 4 * tv.stderr


def test_synchronous_pbits_on_a_frustrated_network_follow_peretto_not_boltzmann():
    model, beta = frustrated_network(), 0.8
    run = run_pbits(model, beta=beta, update="synchronous", n_sweeps=50_000, n_chains=8, seed=4)
    assert_consistent(run, synchronous_distribution(model, beta))
    assert_different(run, boltzmann_distribution(model, beta))


@pytest.mark.parametrize("eta", [0.5, 4.0])
def test_asynchronous_pbits_with_delayed_neighbours_sample_the_exact_joint_chain(eta):
    model, beta = frustrated_network(), 0.8
    run = run_pbits(model, beta=beta, update="asynchronous", eta=eta, n_sweeps=40_000, n_chains=8, seed=5)
    exact = asynchronous_distribution(model, beta, eta)
    assert_consistent(run, exact)
    assert_different(run, boltzmann_distribution(model, beta))


def test_asynchronous_bias_shrinks_as_communication_gets_faster_and_vanishes_at_eta_inf():
    model, beta = frustrated_network(), 0.8
    boltzmann = boltzmann_distribution(model, beta)
    biases = [tv_distance(asynchronous_distribution(model, beta, eta), boltzmann) for eta in (0.5, 2, 8, 32)]
    assert all(a > b for a, b in zip(biases, biases[1:]))
    assert biases[-1] > 0
    np.testing.assert_allclose(asynchronous_distribution(model, beta, math.inf), boltzmann)
    run = run_pbits(model, beta=beta, update="asynchronous", eta=math.inf, n_sweeps=40_000, n_chains=8, seed=6)
    assert_consistent(run, boltzmann)


def test_asynchronous_exact_law_tends_to_synchronous_behaviour_for_slow_communication_on_a_pair():
    # with almost no broadcasts each p-bit redraws many times against the same stale copy:
    # the pair decorrelates, as under synchronous updates (uniform law)
    model = ferromagnetic_pair()
    slow = asynchronous_distribution(model, 1.0, 1e-3)
    assert tv_distance(slow, synchronous_distribution(model, 1.0)) < 0.01


def test_delayed_chain_reduces_to_the_broadcast_chain_and_to_boltzmann_in_its_limits():
    model, beta = frustrated_network(), 0.8
    # instant updates, every p-bit its own partition: the (m, seen) broadcast chain
    lone = delayed_asynchronous_distribution(model, beta, 2.0, 0.0, np.arange(4))
    np.testing.assert_allclose(lone, asynchronous_distribution(model, beta, 2.0), atol=1e-12)
    # one partition holding every p-bit: nothing is stale, whatever eta
    whole = delayed_asynchronous_distribution(model, beta, 0.5, 0.0, np.zeros(4, dtype=np.int64))
    np.testing.assert_allclose(whole, boltzmann_distribution(model, beta), atol=1e-12)


def test_finite_update_time_biases_asynchronous_pbits_and_the_bias_vanishes_linearly_as_it_shrinks():
    # eta = inf: the only staleness is the update time (a value drawn from inputs that change
    # before it appears); the bias is O(tau) and vanishes at tau = 0
    model, beta = frustrated_network(), 0.8
    boltzmann = boltzmann_distribution(model, beta)
    taus = (1.0, 0.3, 0.1, 0.03, 0.01)
    biases = [tv_distance(delayed_asynchronous_distribution(model, beta, math.inf, t), boltzmann) for t in taus]
    assert all(a > b > 0 for a, b in zip(biases, biases[1:]))
    assert biases[-1] / biases[-2] == pytest.approx(1 / 3, rel=0.1)  # linear in tau
    assert biases[0] > 0.01
    # with slow broadcasts the law tends to the instant-update broadcast chain as tau -> 0
    model = frustrated_triangle()  # (m, seen, pending): 8 x 8 x 27 states
    slow = asynchronous_distribution(model, beta, 2.0)
    near = delayed_asynchronous_distribution(model, beta, 2.0, 1e-3)
    assert tv_distance(near, slow) < 2e-3 < tv_distance(delayed_asynchronous_distribution(model, beta, 2.0, 0.3), slow)


def test_asynchronous_pbits_with_update_time_and_partitions_sample_the_exact_delayed_chain():
    model, beta, eta, tau, parts = frustrated_triangle(), 1.0, 2.0, 0.5, np.array([0, 0, 1])
    run = run_pbits(
        model, beta=beta, update="asynchronous", eta=eta, update_time=tau, partitions=parts,
        n_sweeps=40_000, n_chains=8, seed=21,
    )  # fmt: skip
    assert run.update_time == tau
    exact = delayed_asynchronous_distribution(model, beta, eta, tau, parts)
    assert_consistent(run, exact)
    # negative controls: neither Boltzmann nor the same partitions with instant updates
    assert_different(run, boltzmann_distribution(model, beta))
    assert_different(run, delayed_asynchronous_distribution(model, beta, eta, 0.0, parts))
    np.testing.assert_allclose(
        stationary_distribution(model, beta, "asynchronous", eta=eta, update_time=tau, partitions=parts), exact
    )


def test_bad_update_time_and_partitions_are_refused():
    model = frustrated_network()
    with pytest.raises(ValueError, match="update_time must be >= 0"):
        run_pbits(model, update="asynchronous", update_time=-1.0, n_sweeps=10)
    with pytest.raises(ValueError, match="partitions must be 4 integer labels"):
        run_pbits(model, update="asynchronous", partitions=[0, 1], n_sweeps=10)
    with pytest.raises(ValueError, match="apply to update='asynchronous' only"):
        run_pbits(model, update="chromatic", update_time=0.5, n_sweeps=10)
    with pytest.raises(ValueError, match="the limit is 4096"):
        delayed_asynchronous_distribution(model, 0.5, 1.0, 0.5)


def test_stationary_distribution_dispatches_by_update_model():
    model = frustrated_network()
    for update in UPDATE_MODELS:
        p = stationary_distribution(model, 0.5, update, eta=1.0)
        assert p.shape == (16,) and p.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(stationary_distribution(model, 0.5, "chromatic"), boltzmann_distribution(model, 0.5))


def test_graph_coloring_is_proper_and_bipartite_graphs_get_two_colours():
    lattice = Ising.lattice((6, 6))
    colour = graph_coloring(lattice)
    i, j, _ = lattice.edges()
    assert np.all(colour[i] != colour[j]) and colour.max() == 1
    rng = np.random.default_rng(0)
    A = np.triu(rng.random((30, 30)) < 0.2, 1) * rng.normal(size=(30, 30))
    model = Ising.from_dense(A + A.T)
    colour = graph_coloring(model)
    i, j, _ = model.edges()
    assert np.all(colour[i] != colour[j])
    degree = np.diff(model.indptr)
    assert colour.max() <= degree.max()  # greedy: at most max degree + 1 colours
    ptr, sites = color_classes(colour)
    assert ptr[-1] == 30 and sorted(sites.tolist()) == list(range(30))
    assert graph_coloring(Ising.from_dense(np.zeros((3, 3)))).tolist() == [0, 0, 0]


def glass_lattice(L: int, unit: float) -> Ising:
    """A periodic L x L lattice with couplings +-unit and fields in {-unit, 0, unit}."""
    rng = np.random.default_rng(L)
    idx = np.arange(L * L).reshape(L, L)
    J = np.zeros((L * L, L * L))
    for nb in (np.roll(idx, -1, 0), np.roll(idx, -1, 1)):
        w = unit * rng.choice([-1.0, 1.0], size=L * L)
        J[idx.ravel(), nb.ravel()] = w
        J[nb.ravel(), idx.ravel()] = w
    return Ising.from_dense(J, unit * rng.integers(-1, 2, size=L * L))


def chromatic_moves(model, plan, kernel, threads, *, chains=3, sweeps=7, beta=0.4, betas=None):
    """Final states and streams of a chromatic run from fixed starts, on ``threads`` threads."""
    rng = np.random.default_rng(5)
    s = np.where(rng.random((chains, model.n_spins)) < 0.5, -1, 1).astype(np.int8)
    gen = seed_chains(8, chains * plan.n_blocks).reshape(chains, plan.n_blocks, 4)
    codes = np.zeros((chains, sweeps), np.int64)
    before = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        schedule = np.array([beta]) if betas is None else betas
        chromatic_run(plan, s, gen, schedule, sweeps, readout=np.arange(5), codes=codes, kernel=kernel)
    finally:
        numba.set_num_threads(before)
    return s, gen, codes


@pytest.mark.parametrize("unit", [1.0, 0.7])
def test_chromatic_kernels_make_the_same_moves_serial_over_chains_or_over_sites(unit):
    # each block of a colour class owns its stream and the blocks do not depend on threads, so the
    # serial, chain-parallel and site-parallel kernels make bit-identical moves
    model = glass_lattice(12, unit)
    plan = chromatic_plan(model, block_sites=8)
    assert plan.n_blocks == 18 and (plan.unit is not None) == (unit == 1.0)
    serial = chromatic_moves(model, plan, "serial", 1)
    for kernel, threads in (("chains", 2), ("sites", 2), ("sites", 1), ("auto", 2)):
        other = chromatic_moves(model, plan, kernel, threads)
        for a, b in zip(serial, other):
            np.testing.assert_array_equal(a, b)
    # negative control: another seed of the streams moves differently
    s, _, _ = serial
    rng_other = seed_chains(9, 3 * plan.n_blocks).reshape(3, plan.n_blocks, 4)
    s2 = np.where(np.random.default_rng(5).random((3, 144)) < 0.5, -1, 1).astype(np.int8)
    chromatic_run(plan, s2, rng_other, np.array([0.4]), 7, kernel="serial")
    assert np.any(s2 != s)


def test_threshold_table_makes_exactly_the_tanh_decisions():
    # integer couplings: a table of thresholds on the 53-bit draw replaces the tanh and must give
    # the same moves as the float path (the same plan without its table)
    model = glass_lattice(10, 1.0)
    plan = chromatic_plan(model, block_sites=16)
    assert plan.unit == 1.0 and plan.reach == 5  # 4 couplings + a field of size 1
    untabulated = dataclasses.replace(plan, unit=None, reach=0)
    for a, b in zip(chromatic_moves(model, plan, "serial", 1), chromatic_moves(model, untabulated, "serial", 1)):
        np.testing.assert_array_equal(a, b)
    # at the threshold itself: x = T - 1 gives +1 and x = T gives -1 under the float rule
    betas = np.array([0.0, 0.37, 1.9])
    table = threshold_table(betas, 0.5, 6)
    for bi, beta in enumerate(betas):
        for k in range(-6, 7):
            t = math.tanh(beta * k * 0.5)
            T = int(table[bi, k + 6])
            if T > 0:
                assert t > 2.0 * ((T - 1) * 2.0**-53) - 1.0
            if T < 2**53:
                assert not t > 2.0 * (T * 2.0**-53) - 1.0
    assert chromatic_plan(Ising.from_dense(np.array([[0.0, 0.3], [0.3, 0.0]]))).unit is None


def test_tabulated_chromatic_pbits_sample_the_boltzmann_distribution():
    # integer couplings take the table path; the frustrated triangle-plus-pendant with J in {-1, 1, 2}
    J = np.zeros((4, 4))
    for i, j, w in ((0, 1, 1.0), (1, 2, -1.0), (0, 2, 2.0), (2, 3, 1.0)):
        J[i, j] = J[j, i] = w
    model, beta = Ising.from_dense(J, [1.0, -1.0, 0.0, 1.0]), 0.35
    assert chromatic_plan(model).unit == 1.0
    run = run_pbits(model, beta=beta, update="chromatic", n_sweeps=200_000, n_chains=8, burn_in=50, seed=12)
    assert_consistent(run, boltzmann_distribution(model, beta))
    assert_different(run, boltzmann_distribution(model, beta * 1.1))


def test_annealing_schedule_at_a_constant_beta_makes_the_same_moves_as_a_constant_beta():
    model = glass_lattice(8, 1.0)
    plan = chromatic_plan(model, block_sites=8)
    const = chromatic_moves(model, plan, "serial", 1, beta=0.6, sweeps=6)
    sched = chromatic_moves(model, plan, "chains", 2, betas=np.full(6, 0.6), sweeps=6)
    for a, b in zip(const, sched):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="betas must hold 1 or n_sweeps = 6"):
        chromatic_run(plan, const[0], const[1], np.full(5, 0.6), 6)
    with pytest.raises(ValueError, match="kernel must be one of auto, serial, chains, sites"):
        chromatic_run(plan, const[0], const[1], np.array([0.6]), 6, kernel="gpu")


def test_chromatic_plan_keeps_colour_classes_contiguous_and_blocks_inside_one_class():
    model = glass_lattice(6, 0.5)
    plan = chromatic_plan(model, block_sites=5)
    colour = graph_coloring(model)[plan.order]
    assert np.all(np.diff(colour) >= 0)
    for blk in range(plan.n_blocks):
        lo, hi = plan.block_ptr[blk], plan.block_ptr[blk + 1]
        assert 0 < hi - lo <= 5 and np.unique(colour[lo:hi]).size == 1
    np.testing.assert_array_equal(plan.to_labels(plan.to_positions(np.arange(36))), np.arange(36))
    with pytest.raises(ValueError, match="not a proper colouring"):
        chromatic_plan(model, np.zeros(36, dtype=np.int64))
    with pytest.raises(ValueError, match="block_sites must be an integer >= 1"):
        chromatic_plan(model, block_sites=0)


def test_runs_are_reproducible_from_the_seed_and_series_match_histograms():
    model = frustrated_network()
    a = run_pbits(model, update="chromatic", n_sweeps=500, n_chains=3, seed=9, record="series")
    b = run_pbits(model, update="chromatic", n_sweeps=500, n_chains=3, seed=9, record="histogram")
    assert a.codes is not None and b.counts is not None
    for c in range(3):
        np.testing.assert_array_equal(np.bincount(a.codes[c], minlength=16), b.counts[c])
    np.testing.assert_array_equal(a.final_states, b.final_states)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"update": "gibbs"}, "update must be one of sequential, chromatic"),
        ({"update": "asynchronous", "eta": 0.0}, "eta must be > 0 or inf"),
        ({"beta": 100.0}, "not ergodic"),
        ({"beta": -1.0}, "beta must be >= 0"),
        ({"n_sweeps": 0}, "n_sweeps must be an integer >= 1"),
        ({"readout": [0, 0]}, "distinct"),
        ({"readout": [7]}, "readout indices must be in 0..3"),
        ({"record": "states"}, "record must be one of histogram, series"),
        ({"initial": [1, -1]}, "initial must have shape \\(4,\\) or"),
        ({"initial": [1, 0, 1, 1]}, "initial must hold spins -1 and \\+1"),
    ],
)
def test_bad_update_parameters_are_refused_with_what_is_allowed(kwargs, message):
    with pytest.raises(ValueError, match=message):
        run_pbits(frustrated_network(), **{"n_sweeps": 10, **kwargs})


def chain_moves(update: str, kernel: str, threads: int, *, chains: int, sweeps: int = 9):
    """Final states, streams and codes of a sequential/synchronous/asynchronous kernel run from
    fixed starts on ``threads`` threads, and the kernel it used."""
    from thermolearn.pbits import kernels

    model = glass_lattice(4, 0.7)
    n = model.n_spins
    rng = np.random.default_rng(5)
    s = np.where(rng.random((chains, n)) < 0.5, -1, 1).astype(np.int8)
    seen = s.copy()
    pending = np.zeros_like(s)
    gen = seed_chains(8, chains * n).reshape(chains, n, 4) if update == "synchronous" else seed_chains(8, chains)
    codes = np.zeros((chains, sweeps), np.int64)
    args = (model.indptr, model.indices, model.data, model.fields, 0.4)
    out = np.arange(5, dtype=np.int64)
    part = np.arange(n, dtype=np.int64) // 4
    before = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        if update == "sequential":
            used = kernels.sequential_sweeps(s, gen, *args, sweeps, out, codes, kernel=kernel)
        elif update == "synchronous":
            used = kernels.synchronous_sweeps(s, gen, *args, sweeps, out, codes, kernel=kernel)
        elif update == "asynchronous":
            used = kernels.asynchronous_sweeps(s, seen, gen, *args, 3.0, sweeps, out, codes, kernel=kernel)
        else:
            used = kernels.asynchronous_delayed_sweeps(
                s, seen, pending, gen, *args, 3.0, 2.0, part, sweeps, out, codes, kernel=kernel
            )
    finally:
        numba.set_num_threads(before)
    return (s, seen, pending, gen, codes), used


@pytest.mark.parametrize("update", ["sequential", "synchronous", "asynchronous", "delayed"])
@pytest.mark.parametrize("chains", [1, 3])
def test_chain_kernels_make_the_same_moves_serial_or_parallel_and_one_chain_runs_serially(update, chains):
    # streams belong to chains (or p-bits), not threads: serial and parallel paths are bit-identical
    serial, used = chain_moves(update, "serial", 1, chains=chains)
    assert used == "serial"
    for kernel, threads in (("parallel", 2), ("parallel", 1), ("auto", 2)):
        other, used = chain_moves(update, kernel, threads, chains=chains)
        for a, b in zip(serial, other):
            np.testing.assert_array_equal(a, b)
        if kernel == "auto":
            # a single chain opens no parallel region (it collapses when the cores are shared)
            assert used == ("serial" if chains == 1 else "parallel")
    # negative control: the codes do change over the sweeps (the kernels move)
    assert np.unique(serial[4]).size > 1
    with pytest.raises(ValueError, match="kernel must be one of"):
        chain_moves(update, "sites", 1, chains=chains)
