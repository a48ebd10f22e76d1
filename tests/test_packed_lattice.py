"""One big lattice, bit-packed (samplers.packed_lattice): checkerboard Metropolis and heat bath
with 64 sites per word, square and cubic. Exact in distribution (the conformance kit's
chi-square on the 4 x 4 models runs on both through the registry in test_conformance), on
Kaufman's energy at L = 64, with each class of sites (k unsatisfied bonds) flipping with exactly
its rule's probability in 2D and 3D, energies, magnetisations and flip counts that match the
unpacked spins, and the same bits on one thread or two."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
from numba import uint64

from thermolearn.estimators.autocorrelation import integrated_autocorrelation_time
from thermolearn.exact.kaufman import kaufman
from thermolearn.models.ising import Ising
from thermolearn.randomness.xoshiro import next64
from thermolearn.samplers.packed_lattice import (
    PackedLatticeHeatBath,
    PackedLatticeSampler,
    group_thresholds,
    strip_layout,
)
from thermolearn.samplers.random_digits import (
    compare_digit,
    digit_tables,
    seed_streams,
    stacked_digit_tables,
)
from thermolearn.samplers.registry import make_sampler
from thermolearn.samplers.state import ChainState

PACKED = [PackedLatticeSampler, PackedLatticeHeatBath]


@pytest.mark.parametrize("cls", PACKED, ids=lambda c: c.name)
def test_the_energy_at_l_64_agrees_with_kaufman_within_its_error_bar(cls):
    L, T = 64, 2.6
    model = Ising.lattice((L, L))
    state = ChainState.new(model, 1, seed=3)
    sampler = cls()
    sampler.sweep(model, state, 1 / T, 300)
    energies = np.empty(3000)
    for t in range(energies.size):
        sampler.sweep(model, state, 1 / T, 1)
        energies[t] = state.energy[0] / model.n_spins
    tau = integrated_autocorrelation_time(energies).tau
    stderr = energies.std(ddof=1) * np.sqrt(2 * tau / energies.size)
    exact = kaufman(L, T).energy_per_spin
    assert abs(energies.mean() - exact) < 4 * stderr, (energies.mean(), exact, stderr)


def _unsatisfied(model: Ising, spins: np.ndarray) -> np.ndarray:
    """k_i: the number of bonds at site i with J_ij s_i s_j < 0."""
    rows = np.repeat(np.arange(model.n_spins), np.diff(model.indptr))
    bad = model.data * spins[rows] * spins[model.indices] < 0
    return np.bincount(rows, weights=bad, minlength=model.n_spins).astype(int)


@pytest.mark.parametrize("cls", PACKED, ids=lambda c: c.name)
@pytest.mark.parametrize(
    ("model", "shape", "beta"),
    [
        (Ising.lattice((32, 32)), (32, 32), 0.35),
        (Ising.edwards_anderson(32, 2, seed=3), (32, 32), 0.6),
        (Ising.lattice((12, 12, 12)), (12, 12, 12), 0.18),
        (Ising.edwards_anderson(12, 3, seed=5), (12, 12, 12), 0.35),
    ],
    ids=["square ferromagnet", "square +-J", "cubic ferromagnet", "cubic +-J"],
)
def test_each_class_of_sites_flips_with_exactly_the_rules_probability(cls, model, shape, beta):
    """One sweep updates colour 0 given colour 1, then colour 1 given the new colour 0: from the
    spins before and after, every site's k (unsatisfied bonds) at its update is known, and the
    fraction of flips per k must be the rule's probability within binomial error."""
    colour = np.indices(shape).sum(axis=0).ravel() % 2
    z = 2 * len(shape)
    abs_j = float(np.abs(model.data).max())
    sampler = cls()
    state = ChainState.new(model, 1, seed=11)
    sampler.sweep(model, state, beta, 5)
    flips, trials = np.zeros(z + 1), np.zeros(z + 1)
    for _ in range(60):
        before = state.spins[0].copy()
        sampler.sweep(model, state, beta, 1)
        after = state.spins[0]
        halfway = np.where(colour == 0, after, before)  # colour 0 updated, colour 1 not yet
        k = np.where(colour == 0, _unsatisfied(model, before), _unsatisfied(model, halfway))
        flipped = before != after
        np.add.at(trials, k, 1)
        np.add.at(flips, k, flipped)
    for k in range(z + 1):
        de = 2 * abs_j * (z - 2 * k)
        p = 1 / (1 + math.exp(beta * de)) if cls.rule_name == "heatbath" else min(1.0, math.exp(-beta * de))
        if trials[k] < 50:
            continue
        sigma = math.sqrt(max(p * (1 - p), 1e-12) / trials[k])
        assert abs(flips[k] / trials[k] - p) < 5 * sigma + 1e-12, (k, flips[k] / trials[k], p, trials[k])
    assert (trials >= 50).sum() >= 4  # the test saw the classes it checks


@pytest.mark.parametrize("cls", PACKED, ids=lambda c: c.name)
def test_the_cubic_energy_agrees_with_single_spin_sampling(cls):
    """No exact answer in 3D: the packed sampler and the single-spin heat bath at T = 5 on
    8^3 must agree on the mean energy within their combined error bars."""
    model = Ising.lattice((8, 8, 8))
    means = []
    for sampler in (cls(), make_sampler("heatbath")):
        state = ChainState.new(model, 4, seed=21)
        sampler.sweep(model, state, np.full(4, 0.2), 100)
        energies = np.empty((1500, 4))
        for t in range(energies.shape[0]):
            sampler.sweep(model, state, np.full(4, 0.2), 1)
            energies[t] = state.energy / model.n_spins
        tau = max(integrated_autocorrelation_time(energies[:, c]).tau for c in range(4))
        means.append((energies.mean(), energies.std(ddof=1) * np.sqrt(2 * tau / energies.size)))
    (a, sa), (b, sb) = means
    assert abs(a - b) < 4 * math.hypot(sa, sb), means


@pytest.mark.parametrize("cls", PACKED, ids=lambda c: c.name)
@pytest.mark.parametrize(
    "model",
    [
        Ising.lattice((4, 4)),
        Ising.lattice((6, 10), coupling=-0.5),
        Ising.edwards_anderson(8, 2, seed=4),
        Ising.lattice((4, 256)),
        Ising.edwards_anderson(130, 2, seed=1),
        Ising.lattice((4, 4, 4)),
        Ising.lattice((4, 6, 8), coupling=(1.0, -1.0, 1.0)),
        Ising.edwards_anderson(6, 3, seed=1),
    ],
    ids=[
        "ferromagnet 4x4",
        "antiferromagnet 6x10",
        "EA +-J 8x8",
        "ferromagnet 4x256",
        "EA +-J 130x130",
        "ferromagnet 4x4x4",
        "mixed signs 4x6x8",
        "EA +-J 6^3",
    ],
)
def test_energy_magnetisation_and_flip_counts_match_the_unpacked_spins(cls, model):
    state = ChainState.new(model, 2, seed=2)
    sampler = cls()
    for beta in (0.2, 0.6, 2.0, np.inf):
        before = state.spins.copy()
        stats = sampler.sweep(model, state, beta, 1)
        np.testing.assert_allclose(state.energy, model.energy(state.spins), atol=1e-9)
        np.testing.assert_array_equal(state.magnetization, state.spins.sum(axis=1))
        # one sweep visits each site once: a site differs from before iff it flipped
        np.testing.assert_array_equal(stats.accepted, (state.spins != before).sum(axis=1))
        assert np.all(stats.attempted == model.n_spins)


def test_acceptance_counts_are_exact_at_the_two_extremes():
    for model in (Ising.lattice((8, 8)), Ising.lattice((4, 4, 8))):
        n = model.n_spins
        state = ChainState.new(model, 1, seed=0, initial="up")
        stats = PackedLatticeSampler().sweep(model, state, np.inf, 3)  # ground state, never climbs
        assert stats.accepted[0] == 0 and np.all(state.spins == 1)
        state = ChainState.new(model, 1, seed=0)
        stats = PackedLatticeSampler().sweep(model, state, 1e-300, 3)  # p rounds to 1: every attempt flips
        assert stats.accepted[0] == 3 * n
        stats = PackedLatticeHeatBath().sweep(model, state, 1e-300, 400)  # p = 1/2 for every site
        assert abs(stats.accepted[0] / (400 * n) - 0.5) < 4 * np.sqrt(0.25 / (400 * n))


@pytest.mark.parametrize("cls", PACKED, ids=lambda c: c.name)
@pytest.mark.parametrize(
    "model",
    [Ising.edwards_anderson(256, 2, seed=7), Ising.lattice((16, 32, 128))],
    ids=["EA +-J 256x256", "cubic 16x32x128"],
)
def test_the_same_bits_on_one_thread_or_two_and_in_one_call_or_many(cls, model):
    # 2^16 sites x 20 sweeps: enough work for two threads
    runs = []
    for threads, calls in ((1, 1), (2, 1), (2, 20)):
        state = ChainState.new(model, 2, seed=5)
        pool = numba.get_num_threads()
        numba.set_num_threads(min(threads, pool))
        try:
            for _ in range(calls):
                cls().sweep(model, state, np.array([0.4, 1.2]), 20 // calls)
        finally:
            numba.set_num_threads(pool)
        runs.append(state)
    for other in runs[1:]:
        np.testing.assert_array_equal(runs[0].spins, other.spins)
        np.testing.assert_array_equal(runs[0].rng, other.rng)
        np.testing.assert_array_equal(runs[0].energy, other.energy)


def test_strips_and_words_of_a_row():
    assert strip_layout(4) == (2, 2)
    assert strip_layout(4096) == (64, 64)
    assert strip_layout(100) == (50, 2)
    assert strip_layout(6) == (3, 2)
    with pytest.raises(ValueError, match="even number of columns"):
        strip_layout(7)


def test_digit_tables_hold_each_probability_exactly():
    thresholds = [0.0, 0.1, 1.0, 2.0**-60]
    digits, cap = digit_tables(thresholds)
    for g, p in enumerate(thresholds):
        value = sum(2.0 ** -(k + 1) for k in range(digits.shape[0]) if digits[k, g] != 0)
        if p >= 1:
            assert cap[g] != 0 and all(digits[:, g] != 0)  # 0.111... = 1: lanes left at the end accept
            continue
        assert cap[g] == 0
        assert value == p  # the binary expansion is the double itself, exactly
    assert digits.shape[0] == 53 + 60 - 1  # 2^-60 has its one digit at position 60; 0.1 needs 56


def test_stacked_digit_tables_pad_each_set_with_its_cap():
    digits, cap = stacked_digit_tables([[0.5, 1.0], [0.1, 0.0]])
    assert digits.shape == (2, 56, 2) and cap.shape == (2, 2)  # 0.1 needs 56 digits
    assert digits[0, 0, 0] != 0 and not digits[0, 1:, 0].any()  # 0.5 = 0.1000...
    assert digits[0, :, 1].all() and cap[0, 1] != 0  # 1 = 0.111...: all ones to the padded end
    single, _ = digit_tables([0.1, 0.0])
    np.testing.assert_array_equal(digits[1], single)
    with pytest.raises(ValueError, match="NaN"):
        digit_tables([0.2, float("nan")])


@numba.njit
def _bernoulli_fraction(p_digits, cap, seed, n_words, rounds):
    """The fraction of lanes accepted: ``rounds`` vectors of ``n_words`` words, one uniform per lane
    compared with p digit by digit through the shared helpers, as the samplers do."""
    st = np.empty((4, n_words), dtype=np.uint64)
    undecided = np.empty(n_words, dtype=np.uint64)
    accepted = 0
    for t in range(rounds):
        seed_streams(st, uint64(seed) ^ uint64(t), 0, n_words, n_words)
        for j in range(n_words):
            undecided[j] = uint64(0xFFFFFFFFFFFFFFFF)
            below = uint64(0)
            s0, s1, s2, s3 = st[0, j], st[1, j], st[2, j], st[3, j]
            for k in range(p_digits.shape[0]):
                r, s0, s1, s2, s3 = next64(s0, s1, s2, s3)
                yes, _, undecided[j] = compare_digit(undecided[j], r, p_digits[k])
                below |= yes
            below |= undecided[j] & cap
            for b in range(64):
                accepted += (below >> uint64(b)) & uint64(1)
    return accepted / (rounds * n_words * 64.0)


@pytest.mark.parametrize("p", [math.exp(-4 / 2.269), 0.5, 2.0**-3 + 2.0**-40, 1.0])
def test_the_shared_digit_comparison_accepts_with_probability_p(p):
    digits, cap = digit_tables([p])
    n = 32 * 2000 * 64
    got = _bernoulli_fraction(digits[:, 0].copy(), cap[0], 17, 32, 2000)
    assert abs(got - p) <= 5 * math.sqrt(p * (1 - p) / n) + 1e-12, (got, p)


def test_group_thresholds_are_the_rules_probabilities():
    beta = 0.3
    square = group_thresholds("metropolis", beta, 1.0, 2)
    assert square[:2] == [math.exp(-8 * beta), math.exp(-4 * beta)] and square[2:] == [0.0, 0.0]
    cubic = group_thresholds("heatbath", beta, 0.5, 3)
    assert cubic == pytest.approx([1 / (1 + math.exp(beta * e)) for e in (6.0, 4.0, 2.0)] + [0.5], rel=1e-15)
    assert group_thresholds("metropolis", np.inf, 1.0, 3) == [0.0, 0.0, 0.0, 0.0]


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (Ising.lattice((4, 4), field=0.1), "zero fields"),
        (Ising.lattice((4, 5)), "even number of columns"),
        (Ising.lattice((5, 4)), "even number of rows"),
        (Ising.lattice((4, 6, 5)), "even number of columns"),
        (Ising.lattice((4, 5, 4)), "even number of sides"),
        (Ising.lattice((4, 4, 4), coupling=(1.0, 2.0, 1.0)), "one magnitude"),
        (Ising.lattice(16), "square or 3D cubic"),
        (Ising.lattice((4, 4), periodic=False), "periodic"),
        (Ising.sherrington_kirkpatrick(16, seed=0), "square or 3D cubic"),
    ],
    ids=["field", "odd columns", "odd rows", "odd x side", "odd y side", "two magnitudes", "chain", "open", "SK"],
)
def test_models_it_cannot_sample_are_refused_with_the_reason(model, message):
    with pytest.raises(ValueError, match=message) as caught:
        PackedLatticeSampler().check_model(model)
    assert "metropolis-packed" in str(caught.value)


@pytest.mark.parametrize("shape", [(4, 512), (4, 4, 1536)], ids=["4x512", "4x4x1536"])
def test_packing_eight_strips_at_a_time_matches_strip_by_strip(shape):
    # lines of 64 strips of 8 or 24 columns take the byte-transposing path: the same words, and
    # the same spins, energy and magnetisation back, as the strip-by-strip loops
    from thermolearn.samplers.packed_lattice import _pack, _unpack_and_measure

    model = Ising.lattice(shape)
    plan = PackedLatticeSampler().plan(model)
    assert plan.strips % 8 == 0 and plan.width % 8 == 0
    spins = np.random.default_rng(1).choice(np.array([-1, 1], dtype=np.int8), size=model.n_spins)
    none = np.zeros(1, dtype=np.uint64)
    results = []
    for whole_bytes in (False, True):
        words = np.zeros((2, plan.n_lines, plan.hw), dtype=np.uint64)
        _pack(
            spins, spins.view(np.uint64), whole_bytes, words, plan.parity, plan.cols, plan.hw, plan.width, plan.strips
        )
        back = np.zeros_like(spins)
        out = np.empty((plan.n_lines, 2), dtype=np.int64)
        _unpack_and_measure(
            words, back, back.view(np.uint64) if whole_bytes else none, whole_bytes, plan.vert, plan.parity,
            plan.afm, plan.afm_line, plan.cols, plan.hw, plan.width, plan.strips, plan.valid, len(shape) == 3, out,
        )  # fmt: skip
        np.testing.assert_array_equal(back, spins)
        results.append((words, out.sum(axis=0)))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    ups, bad = results[1][1]
    assert 2 * ups - model.n_spins == spins.sum()
    assert -(len(shape) * model.n_spins - 2 * bad) == pytest.approx(model.energy(spins))
