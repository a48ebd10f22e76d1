"""p-bit update models against the exact distributions they should sample (thermolearn.pbits).

Every statistical check compares a total-variation distance with its jackknife error bar over
independent chains and with the TV an exact sampler would show at the same noise
(``tv_noise_floor``); each exactness check has a negative control that must fail."""

from __future__ import annotations

import math

import numpy as np
import pytest

from thermolearn import Ising
from thermolearn.pbits import (
    UPDATE_MODELS,
    asynchronous_distribution,
    boltzmann_distribution,
    color_classes,
    graph_coloring,
    run_pbits,
    stationary_distribution,
    synchronous_distribution,
    total_variation,
    tv_distance,
    tv_noise_floor,
)
from thermolearn.pbits.kernels import chromatic_sweeps, chromatic_sweeps_one_chain


def frustrated_network() -> Ising:
    """A triangle with a pendant p-bit and fields: frustrated, three colours, 16 states."""
    J = np.zeros((4, 4))
    for i, j, w in ((0, 1, 0.8), (1, 2, -0.6), (0, 2, 0.5), (2, 3, 0.7)):
        J[i, j] = J[j, i] = w
    return Ising.from_dense(J, [0.3, -0.2, 0.1, 0.4])


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
    run = run_pbits(model, beta=beta, update=update, n_sweeps=400_000, n_chains=8, burn_in=50, seed=11)
    tv = total_variation(run, boltzmann_distribution(model, beta))
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


def test_chromatic_kernels_give_the_same_draws_on_one_thread_or_spread_over_sites():
    # every p-bit owns its generator, so visiting a colour class in any order or on any thread
    # makes the same moves
    model = Ising.lattice((8, 8), coupling=0.4, field=0.1)
    ptr, sites = color_classes(graph_coloring(model))
    from thermolearn.randomness.xoshiro import seed_chains

    gen = seed_chains(7, 64).reshape(1, 64, 4)
    s = np.where(np.random.default_rng(1).random((1, 64)) < 0.5, -1, 1).astype(np.int8)
    args = (model.indptr, model.indices, model.data, model.fields, 0.7)
    chromatic_sweeps(s, gen, *args, ptr, sites, 5, np.zeros(0, np.int64), np.zeros((1, 5), np.int64))
    # the same classes, each visited backwards, on the site-parallel kernel
    rev = np.concatenate([sites[ptr[k] : ptr[k + 1]][::-1] for k in range(len(ptr) - 1)])
    s3, gen3 = np.where(np.random.default_rng(1).random(64) < 0.5, -1, 1).astype(np.int8), seed_chains(7, 64)
    chromatic_sweeps_one_chain(s3, gen3, *args, ptr, rev, 5)
    np.testing.assert_array_equal(s[0], s3)
    np.testing.assert_array_equal(gen[0], gen3)


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


def test_chromatic_anneal_at_a_constant_beta_makes_the_same_moves_as_chromatic_sweeps():
    from thermolearn.pbits.kernels import chromatic_anneal
    from thermolearn.randomness.xoshiro import seed_chains

    model = frustrated_network()
    ptr, sites = color_classes(graph_coloring(model))
    s = np.where(np.random.default_rng(2).random((3, 4)) < 0.5, -1, 1).astype(np.int8)
    gen = seed_chains(5, 12).reshape(3, 4, 4)
    s2, gen2 = s.copy(), gen.copy()
    args = (model.indptr, model.indices, model.data, model.fields)
    chromatic_sweeps(s, gen, *args, 0.7, ptr, sites, 6, np.zeros(0, np.int64), np.zeros((3, 6), np.int64))
    chromatic_anneal(s2, gen2, *args, np.full(6, 0.7), ptr, sites)
    np.testing.assert_array_equal(s, s2)
    np.testing.assert_array_equal(gen, gen2)
