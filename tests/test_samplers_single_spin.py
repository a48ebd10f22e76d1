"""Single-spin samplers: the lattice fast path is bit-identical to the generic CSR kernel,
running energies and magnetisations stay exact, chains are reproducible and independent,
and bad arguments are refused with a clear message."""

import numpy as np
import pytest

from thermolearn import Ising
from thermolearn.models.lattice import LatticeGeometry
from thermolearn.samplers import ChainState, HeatBath, Metropolis, Quench, SingleSpinSampler, checkerboard_order
from thermolearn.samplers.lattice_kernels import build_plan

RULES = [Metropolis, HeatBath, Quench]
ORDERS = ["sequential", "random", "checkerboard"]


def _lattices():
    return {
        "2D 4x4 ferromagnet": Ising.lattice((4, 4)),
        "2D 6x4 anisotropic couplings in a field": Ising.lattice((6, 4), coupling=(0.3, -0.7), field=0.1),
        "2D 5x3 antiferromagnet in a field (odd sides)": Ising.lattice((5, 3), coupling=-1.0, field=0.37),
        "3D 4x4x4 anisotropic in a field": Ising.lattice((4, 4, 4), coupling=(1.0, 0.5, 0.3), field=-0.2),
        "3D 3x5x4 ferromagnet": Ising.lattice((3, 5, 4)),
        "1D ring of 8 in a field": Ising.lattice(8, coupling=0.9, field=0.11),
        "1D ring of 7 antiferromagnet": Ising.lattice(7, coupling=-1.0),
    }


def _without_geometry(model: Ising) -> Ising:
    """The same couplings and fields as a plain graph: the generic CSR kernel runs on it."""
    return Ising(model.couplings, model.fields)


def _share_energy(a: ChainState, b: ChainState) -> None:
    """Start ``b`` from ``a``'s energies: a lattice sums its energy from the geometry, a plain
    graph from the CSR matrix -- equal to rounding; from there the kernels must agree bit for bit."""
    np.testing.assert_allclose(b.energy, a.energy, rtol=0, atol=1e-12 * a.spins.shape[1])
    b.energy[:] = a.energy


def _bipartite(model: Ising) -> bool:
    try:
        checkerboard_order(model)
    except ValueError:
        return False
    return True


def _assert_same_state(a: ChainState, b: ChainState) -> None:
    np.testing.assert_array_equal(a.spins, b.spins)
    np.testing.assert_array_equal(a.rng, b.rng)
    np.testing.assert_array_equal(a.energy, b.energy)  # bit for bit, not approximately
    np.testing.assert_array_equal(a.magnetization, b.magnetization)


@pytest.mark.parametrize("name", list(_lattices()))
@pytest.mark.parametrize("rule", RULES, ids=lambda c: c.name)
@pytest.mark.parametrize("order", ORDERS)
def test_lattice_fast_path_is_bit_identical_to_generic_csr_kernel(name, rule, order):
    model = _lattices()[name]
    if order == "checkerboard" and not _bipartite(model):
        pytest.skip("checkerboard needs even sides")
    fast, generic = rule(order=order), rule(order=order)
    assert fast.lattice_plan(model) is not None, "the fast path must apply to this lattice"
    plain = _without_geometry(model)
    assert generic.lattice_plan(plain) is None
    a = ChainState.new(model, 3, seed=5)
    b = ChainState.new(plain, 3, seed=5)
    _share_energy(a, b)
    betas = np.array([0.2, 0.44, 1.3])  # one beta per chain: one decision table per chain
    for n_sweeps in (1, 6):  # the cached decision table is reused across calls
        ra = fast.sweep(model, a, betas, n_sweeps)
        rb = generic.sweep(plain, b, betas, n_sweeps)
        _assert_same_state(a, b)
        np.testing.assert_array_equal(ra.accepted, rb.accepted)


def _visiting(rule, sites: np.ndarray):
    """A sampler of ``rule`` that visits ``sites`` in exactly this order (generic kernel)."""

    class Explicit(rule):
        def site_order(self, model):
            return np.ascontiguousarray(sites, dtype=np.int64)

    return Explicit(order="sequential")


@pytest.mark.parametrize("rule", [Metropolis, HeatBath], ids=lambda c: c.name)
def test_fast_path_checkerboard_visits_even_sites_then_odd_sites_each_in_index_order(rule):
    # the order is pinned independently of checkerboard_order: from the coordinates' parity
    shape = (4, 6)
    model = Ising.lattice(shape, coupling=(1.0, 0.6), field=0.3)
    plain = _without_geometry(model)
    parity = np.indices(shape).sum(axis=0).ravel() % 2
    even, odd = np.flatnonzero(parity == 0), np.flatnonzero(parity == 1)
    fast = rule(order="checkerboard")
    assert fast.lattice_plan(model) is not None, "the fast path must run"
    np.testing.assert_array_equal(checkerboard_order(model), np.concatenate([even, odd]))
    betas = np.array([0.4, 1.1])

    def run(smp, m):
        state = ChainState.new(m, 2, seed=3)
        state.energy[:] = model.energy(state.spins)  # the same start for the lattice and the plain graph
        smp.sweep(m, state, betas, 3)
        return state

    got = run(fast, model)
    _assert_same_state(got, run(_visiting(rule, np.concatenate([even, odd])), plain))
    # the comparison has power: any other visiting order gives other chains
    for other in (np.concatenate([odd, even]), np.concatenate([even[::-1], odd[::-1]]), np.arange(model.n_spins)):
        moved = run(_visiting(rule, other), plain)
        assert not np.array_equal(moved.spins, got.spins) or not np.array_equal(moved.rng, got.rng)


@pytest.mark.parametrize("rule", RULES, ids=lambda c: c.name)
def test_fast_path_is_identical_at_infinite_beta_and_tiny_beta(rule):
    model = Ising.lattice((6, 4), coupling=(1.0, 0.5), field=0.25)
    plain = _without_geometry(model)
    a, b = ChainState.new(model, 3, seed=4), ChainState.new(plain, 3, seed=4)
    _share_energy(a, b)
    betas = np.array([np.inf, 1e-300, 3.0])
    rule().sweep(model, a, betas, 4)
    rule().sweep(plain, b, betas, 4)
    _assert_same_state(a, b)


def test_fast_path_follows_new_temperatures_and_stays_identical():
    model = Ising.lattice((6, 6), field=0.3)
    fast, generic = HeatBath(), HeatBath()
    plain = _without_geometry(model)
    a, b = ChainState.new(model, 2, seed=1), ChainState.new(plain, 2, seed=1)
    _share_energy(a, b)
    for beta in (0.3, 0.9, 0.3, 2.0):
        fast.sweep(model, a, beta, 3)
        generic.sweep(plain, b, beta, 3)
    _assert_same_state(a, b)


@pytest.mark.parametrize(
    "model, why",
    [
        (Ising.lattice((4, 4), periodic=False), "open boundaries"),
        (Ising.lattice((4, 4), periodic=(True, False)), "mixed boundaries"),
        (Ising.lattice((2, 4)), "a side of 2 doubles bonds"),
        (Ising.lattice((4, 4), coupling=(1.0, 0.0)), "zero coupling along one axis"),
        (Ising.edwards_anderson(4, 2, seed=1), "no geometry (random bonds)"),
    ],
)
def test_fast_path_declines_models_it_cannot_reproduce_exactly(model, why):
    assert build_plan(model) is None, why


@pytest.mark.parametrize(
    ("couplings", "fields", "why"),
    [
        (Ising.lattice((4, 4)).couplings, np.linspace(0, 1, 16), "non-uniform fields"),
        (Ising.lattice((4, 4), coupling=0.5).couplings, 0.0, "couplings that contradict the geometry"),
    ],
)
def test_a_geometry_that_contradicts_the_couplings_is_refused_so_no_fast_path_can_trust_it(couplings, fields, why):
    with pytest.raises(ValueError, match="disagree with the lattice geometry"):
        Ising(couplings, fields, geometry=LatticeGeometry((4, 4), (True, True), (1.0, 1.0), 0.0))


@pytest.mark.parametrize(
    "model",
    [
        Ising.sherrington_kirkpatrick(12, field=0.3, seed=2),
        Ising.lattice((5, 4), coupling=(0.7, 1.3), field=0.2),
        Ising.lattice((4, 4, 4), coupling=-1.0),
    ],
    ids=["SK generic kernel", "2D lattice fast path", "3D lattice fast path"],
)
@pytest.mark.parametrize("rule", RULES, ids=lambda c: c.name)
def test_running_energy_and_magnetisation_equal_recomputation_after_sweeps(model, rule):
    state = ChainState.new(model, 4, seed=3)
    smp = rule(order="random")
    for beta in (0.1, 0.5, 3.0):
        stats = smp.sweep(model, state, beta, 25)
        np.testing.assert_allclose(state.energy, model.energy(state.spins), rtol=0, atol=1e-9 * model.n_spins)
        np.testing.assert_array_equal(state.magnetization, state.spins.sum(axis=1))
        assert np.all(stats.accepted <= stats.attempted) and np.all(stats.attempted == 25 * model.n_spins)


@pytest.mark.parametrize(
    "model", [Ising.sherrington_kirkpatrick(10, seed=1), Ising.lattice((8, 8))], ids=["generic", "lattice"]
)
def test_same_seed_reproduces_and_split_calls_equal_one_call(model):
    a, b, c = (ChainState.new(model, 3, seed=42) for _ in range(3))
    Metropolis().sweep(model, a, 0.6, 10)
    Metropolis().sweep(model, b, 0.6, 10)
    smp = Metropolis()
    for _ in range(5):
        smp.sweep(model, c, 0.6, 2)  # resumable: the state carries everything, including the generators
    _assert_same_state(a, b)
    np.testing.assert_array_equal(a.spins, c.spins)
    np.testing.assert_array_equal(a.rng, c.rng)
    # each call adds its summed energy change once, so with non-integer couplings the
    # running energy can differ from one long call in the last bit
    np.testing.assert_allclose(a.energy, c.energy, rtol=0, atol=1e-12 * model.n_spins)
    d = ChainState.new(model, 3, seed=43)
    Metropolis().sweep(model, d, 0.6, 10)
    assert not np.array_equal(a.spins, d.spins)


@pytest.mark.parametrize(
    "model", [Ising.sherrington_kirkpatrick(10, seed=1), Ising.lattice((8, 8))], ids=["generic", "lattice"]
)
@pytest.mark.parametrize("rule", [Metropolis, HeatBath], ids=lambda c: c.name)
def test_chains_are_independent_of_each_other_and_of_the_thread_they_run_on(model, rule):
    together = ChainState.new(model, 4, seed=7, initial="up")
    alone = [
        ChainState(
            together.spins[c : c + 1].copy(),
            together.rng[c : c + 1].copy(),
            together.energy[c : c + 1].copy(),
            together.magnetization[c : c + 1].copy(),
        )
        for c in range(4)
    ]
    betas = np.array([0.3, 0.3, 0.5, 0.5])
    rule().sweep(model, together, betas, 20)
    for c in range(4):
        rule().sweep(model, alone[c], betas[c], 20)
        np.testing.assert_array_equal(together.spins[c], alone[c].spins[0])
        np.testing.assert_array_equal(together.rng[c], alone[c].rng[0])
    # same start, same beta, own generators: the chains part ways
    assert not np.array_equal(together.spins[0], together.spins[1])
    assert len({tuple(r) for r in together.rng.tolist()}) == 4


@pytest.mark.parametrize(
    "model",
    [Ising.lattice((3, 3)), Ising.lattice((4, 5)), Ising.sherrington_kirkpatrick(6, seed=0), Ising.lattice(5)],
    ids=["3x3 periodic", "4x5 periodic", "SK", "odd ring"],
)
@pytest.mark.parametrize("rule", RULES, ids=lambda c: c.name)
def test_checkerboard_rejects_non_bipartite_graphs_with_a_clear_message(model, rule):
    smp = rule(order="checkerboard")
    with pytest.raises(ValueError, match="bipartite"):
        smp.check_model(model)
    with pytest.raises(ValueError, match="order='sequential' or 'random'"):
        smp.sweep(model, ChainState.new(model, 1, seed=0), 1.0)


def test_checkerboard_accepts_bipartite_graphs_without_geometry():
    ring = _without_geometry(Ising.lattice(10))
    Metropolis(order="checkerboard").check_model(ring)
    open_grid = Ising.lattice((3, 5), periodic=False)  # open boundaries: any sides are bipartite
    Metropolis(order="checkerboard").check_model(open_grid)


@pytest.mark.parametrize("beta", [0.0, -1.0, np.nan, [0.5, -0.5]])
@pytest.mark.parametrize(
    "model", [Ising.lattice((4, 4)), Ising.sherrington_kirkpatrick(6, seed=0)], ids=["lattice", "generic"]
)
def test_non_positive_or_nan_inverse_temperatures_are_rejected(beta, model):
    state = ChainState.new(model, 2, seed=0)
    before = state.copy()
    with pytest.raises(ValueError, match="beta must be > 0"):
        Metropolis().sweep(model, state, beta)
    _assert_same_state(state, before)  # nothing moved


def test_unknown_order_is_rejected():
    with pytest.raises(ValueError, match="order must be one of"):
        Metropolis(order="diagonal")


def test_infinite_beta_metropolis_never_climbs():
    model = Ising.lattice((8, 8), field=0.05)
    state = ChainState.new(model, 2, seed=9)
    e0 = state.energy.copy()
    Metropolis().sweep(model, state, np.inf, 3)
    assert np.all(state.energy <= e0)
    np.testing.assert_allclose(state.energy, model.energy(state.spins), atol=1e-9)


# ---------------------------------------------------------------- multi-spin coding (64 replicas per word)
from thermolearn.samplers.multispin import MultiSpinMetropolis  # noqa: E402


@pytest.mark.parametrize(
    "model",
    [
        Ising.lattice((4, 4)),
        Ising.lattice((5, 3), coupling=-0.5),
        Ising.edwards_anderson(6, 2, seed=4),
        Ising.lattice((8, 6), coupling=(1.0, 1.0)),
    ],
    ids=["ferromagnet 4x4", "antiferromagnet 5x3", "EA +-J 6x6", "ferromagnet 8x6"],
)
def test_msc_energy_magnetisation_and_spins_stay_consistent(model):
    state = ChainState.new(model, 128, seed=2)
    smp = MultiSpinMetropolis()
    for beta in (0.2, 0.6, 2.0):
        stats = smp.sweep(model, state, beta, 7)
        np.testing.assert_allclose(state.energy, model.energy(state.spins), atol=1e-9)
        np.testing.assert_array_equal(state.magnetization, state.spins.sum(axis=1))
        assert np.all(stats.attempted == 7 * model.n_spins) and np.all(stats.accepted <= stats.attempted)
        if beta < 0.3:  # hot: every replica moves
            assert np.all(stats.accepted > 0)


def test_msc_acceptance_counts_are_exact_at_the_two_extremes():
    model = Ising.lattice((6, 6))
    state = ChainState.new(model, 64, seed=0, initial="up")
    stats = MultiSpinMetropolis().sweep(model, state, np.inf, 3)  # ground state, never climbs
    assert np.all(stats.accepted == 0) and np.all(state.spins == 1)
    state = ChainState.new(model, 64, seed=0)
    stats = MultiSpinMetropolis().sweep(model, state, 1e-300, 3)  # p rounds to 1: every attempt flips
    assert np.all(stats.accepted == 3 * 36)


def test_msc_groups_are_independent_and_reproducible():
    model = Ising.lattice((6, 6))
    both = ChainState.new(model, 128, seed=9, initial="up")
    second = ChainState(
        both.spins[64:].copy(), both.rng[64:].copy(), both.energy[64:].copy(), both.magnetization[64:].copy()
    )
    MultiSpinMetropolis().sweep(model, both, 0.1, 5)
    MultiSpinMetropolis().sweep(model, second, 0.1, 5)
    np.testing.assert_array_equal(both.spins[64:], second.spins)
    # 64 lanes from one start state with one generator: every replica takes its own path
    assert len({row.tobytes() for row in both.spins[:64]}) == 64
    again = ChainState.new(model, 128, seed=9, initial="up")
    MultiSpinMetropolis().sweep(model, again, 0.1, 5)
    np.testing.assert_array_equal(again.spins, both.spins)


@pytest.mark.parametrize(
    "model, message",
    [
        (Ising.lattice((4, 4), field=0.1), "zero fields"),
        (Ising.lattice((4, 4), coupling=(1.0, 0.5)), "one magnitude"),
        (Ising.lattice((4, 4), periodic=False), "periodic 2D"),
        (Ising.lattice((4, 4, 4)), "periodic 2D"),
        (Ising.lattice((2, 4)), "sides >= 3"),
        (Ising.sherrington_kirkpatrick(16, seed=0), "square lattice"),
        (Ising.edwards_anderson(4, 2, disorder="gaussian", seed=0), "one magnitude"),
    ],
)
def test_msc_refuses_models_it_cannot_sample(model, message):
    with pytest.raises(ValueError, match=message):
        MultiSpinMetropolis().check_model(model)


def test_msc_needs_chains_in_groups_of_64_sharing_a_temperature():
    model = Ising.lattice((4, 4))
    smp = MultiSpinMetropolis()
    with pytest.raises(ValueError, match="multiple of 64"):
        smp.sweep(model, ChainState.new(model, 32, seed=0), 0.5)
    with pytest.raises(ValueError, match="multiple of 64"):
        smp.chain_temperatures(2.0, 100)
    with pytest.raises(ValueError, match="share one beta"):
        smp.sweep(model, ChainState.new(model, 64, seed=0), np.linspace(0.3, 0.6, 64))
    smp.sweep(model, ChainState.new(model, 128, seed=0), np.repeat([0.3, 0.6], 64))


@pytest.mark.parametrize("sampler_cls", [Metropolis, HeatBath])
def test_per_sweep_calls_with_one_float_beta_equal_calls_with_an_array_of_betas(sampler_cls):
    """The per-sweep fast path (arguments kept from the last call with the same model, beta and
    chain shape) makes the moves of a call that prepares everything afresh, and a reused sampler
    switching betas, models and chain counts matches fresh samplers."""
    lattice, generic = Ising.lattice((6, 6)), Ising.sherrington_kirkpatrick(10, seed=1)
    reused = sampler_cls()
    for k, (model, chains, beta) in enumerate(
        [(lattice, 1, 0.4), (lattice, 1, 0.4), (lattice, 1, 0.5), (generic, 1, 0.5), (lattice, 3, 0.5)]
    ):
        fast, slow = ChainState.new(model, chains, seed=k), ChainState.new(model, chains, seed=k)
        fresh = sampler_cls()
        for n in (1, 1, 3):
            got = reused.sweep(model, fast, beta, n)
            want = fresh.sweep(model, slow, np.full(chains, beta), n)
            np.testing.assert_array_equal(got.accepted, want.accepted)
        for a, b in zip(fast.arrays().values(), slow.arrays().values(), strict=True):
            np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="beta"):
        reused.sweep(lattice, ChainState.new(lattice, 1), float("nan"))


def test_the_kernels_that_make_every_free_flip_warn_where_that_is_not_ergodic():
    # a fixed-order sweep that makes every free flip (Delta E = 0) is not ergodic on a small periodic
    # lattice without a field (2x2: a quarter of starts stay at E = 0; `thermolearn ising -L 2`
    # printed E/N = 0 for an exact -1.80 without a word up to 0.6.9). Metropolis makes them with
    # probability 0.9 since 0.6.11 and does not warn; the bit-parallel kernels still make them all.
    import warnings

    from thermolearn.samplers.registry import make_sampler

    def warns(sampler, model) -> bool:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sampler.check_model(model)
        return any("not ergodic" in str(w.message) for w in caught)

    small, square = Ising.lattice((2, 2)), Ising.lattice((4, 4))
    assert not warns(Metropolis(), small) and not warns(Metropolis(order="checkerboard"), square)
    assert warns(make_sampler("metropolis-msc"), Ising.lattice((3, 3)))
    assert warns(make_sampler("metropolis-packed"), Ising.lattice((4, 2)))
    assert warns(make_sampler("metropolis-jax"), square)
    assert not warns(HeatBath(), small) and not warns(make_sampler("heatbath-packed"), Ising.lattice((4, 2)))
    assert not warns(make_sampler("metropolis-msc"), Ising.lattice((6, 6)))
    from thermolearn.samplers.annealing import anneal
    from thermolearn.samplers.rules import NonErgodicWarning

    with warnings.catch_warnings():
        warnings.simplefilter("error", NonErgodicWarning)  # an optimiser keeps its lowest states: no warning
        anneal(small, 5, 2, seed=0)


def _ring_energy_per_spin(n: int, T: float) -> float:
    """Exact E/N of the periodic ferromagnetic ring (J = 1): Z = (2 cosh K)^n + (2 sinh K)^n."""
    K = 1.0 / T
    c, s = 2.0 * np.cosh(K), 2.0 * np.sinh(K)
    z = c**n + s**n
    return -float((c ** (n - 1) * s + s ** (n - 1) * c) / z)


@pytest.mark.parametrize("order", ["sequential", "checkerboard"])
def test_fixed_order_metropolis_mixes_on_a_long_ring(order):
    # the textbook rule (every free flip made) carries domain walls along with a fixed-order sweep:
    # on a 64-site ring at T = 0.7 a sequential sweep gave E/N = -0.047 +- 0.059 and a checkerboard
    # one -0.858 for an exact -0.892, and no warning (the ring is far past any small-lattice rule).
    # With free flips made at probability 0.9 both orders agree with the exact ring.
    from thermolearn.runs import sample

    n, T = 64, 0.7
    exact = _ring_energy_per_spin(n, T)
    e = sample(Ising.lattice((n,)), Metropolis(order=order), T, sweeps=20_000, burn_in=1000, n_chains=2, seed=5)
    got = e.at().energy_per_spin
    assert abs(got.mean - exact) < 4 * got.stderr, (got, exact)
    assert got.stderr < 0.005  # a mixing chain: the textbook rule's spread was ten times this


def test_the_textbook_rule_is_caught_on_the_ring():
    # the negative control of the test above: its tolerance rejects the rule that does not mix
    from thermolearn.runs import sample
    from thermolearn.samplers.rules import ALWAYS_FREE_METROPOLIS

    class AlwaysFree(Metropolis):
        name = "metropolis-always-free"
        rule = ALWAYS_FREE_METROPOLIS

    n, T = 64, 0.7
    exact = _ring_energy_per_spin(n, T)
    got = sample(Ising.lattice((n,)), AlwaysFree(), T, sweeps=20_000, burn_in=1000, n_chains=2, seed=5)
    e = got.at().energy_per_spin
    assert not (abs(e.mean - exact) < 4 * e.stderr and e.stderr < 0.005)


class _DelegatingSweeps(SingleSpinSampler):
    """A subclass whose own sweep makes other moves than a rule's: it declares ``rule = None``."""

    name = "delegating-heat-bath"
    rule = None

    def __init__(self) -> None:
        super().__init__()
        self.inner = HeatBath()

    def sweep(self, model, state, betas, n_sweeps=1):
        return self.inner.sweep(model, state, betas, n_sweeps)


def test_a_subclass_without_a_rule_is_built_and_its_own_sweep_runs_everywhere():
    # up to 0.6.13 the constructor refused rule = None, which the class's docstring asks of such a
    # subclass: none could be built
    from thermolearn.runs import sample
    from thermolearn.samplers import ParallelTempering
    from thermolearn.samplers.annealing import anneal

    model = Ising.lattice((4, 4))
    sampler = _DelegatingSweeps()
    state, twin = ChainState.new(model, 2, seed=3), ChainState.new(model, 2, seed=3)
    sampler.sweep(model, state, 0.4, 3)
    HeatBath().sweep(model, twin, 0.4, 3)
    assert np.array_equal(state.spins, twin.spins)
    ours = sample(model, _DelegatingSweeps(), 2.5, sweeps=40, burn_in=5, seed=1, progress=False)
    theirs = sample(model, HeatBath(), 2.5, sweeps=40, burn_in=5, seed=1, progress=False)
    assert np.array_equal(ours.energy, theirs.energy)
    result = anneal(model, sweeps=20, reads=2, sampler=_DelegatingSweeps(), seed=0)
    assert np.all(np.isfinite(result.energies))
    pt = ParallelTempering([1.5, 3.0], base=_DelegatingSweeps())
    betas = 1.0 / np.asarray(pt.chain_temperatures(None, 1))
    pt_state = ChainState.new(model, betas.size, seed=0)
    pt.sweep(model, pt_state, betas, 5)
    assert np.array_equal(pt_state.energy, model.energy(pt_state.spins))
    with pytest.raises(TypeError, match="SpinFlipRule or None"):
        type("Bad", (SingleSpinSampler,), {"name": "bad", "rule": "metropolis"})()
