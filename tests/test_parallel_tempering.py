"""Parallel tempering: exact in distribution at every ladder temperature, resumable bit for
bit, and a ladder adaptation that evens out the swap acceptance."""

import json

import numpy as np
import pytest
from scipy.stats import chi2

from thermolearn import Ising
from thermolearn.exact import probability_table
from thermolearn.exact.kaufman import kaufman
from thermolearn.runs import sample
from thermolearn.samplers import ChainState, HeatBath, Metropolis
from thermolearn.samplers.parallel_tempering import (
    ParallelTempering,
    adapt_ladder,
    geometric_ladder,
)


def state_indices(states: np.ndarray) -> np.ndarray:
    """Index of each state in probability_table's order (bit i set means s_i = +1)."""
    bits = (states > 0).astype(np.int64)
    return bits @ (1 << np.arange(states.shape[-1], dtype=np.int64))


def chi_square_with_ess(counts: np.ndarray, p: np.ndarray, n_eff: float) -> tuple[float, int]:
    """Pearson's statistic for correlated samples: the counts are rescaled to the effective
    sample size, bins with fewer than 5 expected (effective) samples are pooled."""
    n = counts.sum()
    scaled = counts * (n_eff / n)
    expected = p * n_eff
    big = expected >= 5
    obs = np.append(scaled[big], scaled[~big].sum())
    exp = np.append(expected[big], expected[~big].sum())
    keep = exp > 0
    stat = float(np.sum((obs[keep] - exp[keep]) ** 2 / exp[keep]))
    return stat, int(keep.sum() - 1)


# ---------------------------------------------------------------------------- exactness
def test_pt_samples_the_exact_boltzmann_distribution_at_every_temperature_of_a_frustrated_sk_model():
    model = Ising.sherrington_kirkpatrick(10, field=0.3, seed=11)
    ladder = geometric_ladder(0.25, 2.0, 6)
    thin = 4
    result = sample(
        model,
        ParallelTempering(ladder),
        None,
        sweeps=60_000,
        burn_in=1000,
        thin=thin,
        n_chains=2,
        seed=3,
        record_states=True,
    )
    n_runs = 2
    for k, T in enumerate(ladder):
        p, energies = probability_table(model, T)
        rows = [r * ladder.size + k for r in range(n_runs)]
        idx = state_indices(result.states[rows].reshape(-1, model.n_spins))
        counts = np.bincount(idx, minlength=p.size).astype(float)
        obs = result.at(T)
        # slowest of the recorded observables, in samples: each sample is worth 1 / (2 tau) of an independent one
        tau = max(obs.tau_energy.tau, obs.tau_magnetization.tau, 0.5)
        n_eff = counts.sum() / (2.0 * tau)
        stat, dof = chi_square_with_ess(counts, p, n_eff)
        assert stat < chi2.ppf(1 - 1e-4, dof), (T, stat, dof, tau)
        # first moments against the exact sums
        exact_e = float(p @ energies) / model.n_spins
        assert abs(obs.energy_per_spin.mean - exact_e) < 4 * obs.energy_per_spin.stderr, (T, obs.energy_per_spin)
        spins = (((np.arange(p.size)[:, None] >> np.arange(model.n_spins)) & 1) * 2 - 1).astype(float)
        exact_s = p @ spins
        err = result.mean_spin_stderr[k]
        assert np.all(np.abs(result.mean_spin[k] - exact_s) < 5 * err + 1e-12), T


def test_pt_energy_and_specific_heat_of_the_16x16_lattice_match_kaufman_within_four_error_bars():
    L = 16
    model = Ising.lattice((L, L))
    ladder = geometric_ladder(2.0, 2.7, 8)
    # tau_int(m) at T = 2.0 is about 18 sweeps but spreads from 10 to 40 between seeds, and a run
    # is marked unreliable below 400 tau_int: 20 000 sweeps leave room for the slow seeds
    result = sample(model, ParallelTempering(ladder), None, sweeps=20_000, burn_in=1000, n_chains=2, seed=5)
    n = L * L
    for T in ladder:
        exact = kaufman(L, T)
        obs = result.at(T)
        assert obs.reliable, T
        assert abs(obs.energy_per_spin.mean - exact.energy / n) < 4 * obs.energy_per_spin.stderr, T
        assert abs(obs.specific_heat.mean - exact.specific_heat / n) < 4 * obs.specific_heat.stderr, T
    info = result.sampler_info
    acc = np.array(info["exchange_acceptance"])
    assert info["exchange_attempted"] == [21_000] * (ladder.size - 1)  # half of the 21000 rounds per pair, 2 runs
    assert np.all((acc > 0.05) & (acc < 0.95))
    assert info["round_trips"] > 0
    flow = np.array(info["flow_fraction"])
    assert flow[0] == 1.0 and flow[-1] == 0.0 and np.all(np.diff(flow) <= 0.05)


def test_slots_keep_their_temperature_while_configurations_move_and_energies_stay_exact():
    model = Ising.sherrington_kirkpatrick(12, field=0.2, seed=2)
    pt = ParallelTempering([0.4, 0.7, 1.2, 2.0])
    temps = pt.chain_temperatures(None, 3)
    np.testing.assert_array_equal(temps, np.tile(pt.temperatures, 3))
    state = ChainState.new(model, temps.size, seed=1)
    rng_before = state.rng.copy()
    pt.reset(model, state)
    pt.sweep(model, state, 1.0 / temps, 300)
    np.testing.assert_allclose(state.energy, model.energy(state.spins), atol=1e-9)
    np.testing.assert_array_equal(state.magnetization, state.spins.sum(axis=1))
    replica = pt.state()["replica"]
    # replicas never leave their run, and each run's slots hold a permutation of its replicas
    for r in range(3):
        assert sorted(replica[4 * r : 4 * r + 4]) == list(range(4 * r, 4 * r + 4))
    assert np.any(replica != np.arange(12))
    assert not np.array_equal(state.rng, rng_before)  # the chains drew numbers ...
    assert pt.state()["exchange_attempted"].sum() == 3 * 300 * 3 // 2  # ... and 3 runs x 300 rounds x 1.5 pairs


@pytest.mark.parametrize("base,order,every", [("metropolis", "sequential", 1), ("heatbath", "random", 3)])
def test_the_fused_kernel_gives_the_same_chains_as_the_generic_path_bit_for_bit(base, order, every):
    model = Ising.sherrington_kirkpatrick(20, field=0.1, seed=4)
    outcomes = []
    for fused in (True, False):
        pt = ParallelTempering(
            geometric_ladder(0.3, 2.0, 5), base=base, exchange_every=every, base_options={"order": order}
        )
        pt.use_fused_kernel = fused
        state = ChainState.new(model, 10, seed=7)
        pt.reset(model, state)
        betas = 1.0 / pt.chain_temperatures(None, 2)
        accepted = sum(pt.sweep(model, state, betas, n).accepted.sum() for n in (1, 4, 2, 30, 5))
        outcomes.append((state, pt.state(), accepted))
    (a, sa, acc_a), (b, sb, acc_b) = outcomes
    for name in ("spins", "rng", "energy", "magnetization"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    for key in sa:
        np.testing.assert_array_equal(sa[key], sb[key])
    assert acc_a == acc_b


@pytest.mark.parametrize("generic", [False, True])
def test_results_do_not_depend_on_how_sweeps_are_cut_into_calls_even_with_real_couplings(generic):
    class MyHeatBath(HeatBath):  # not the exact class: driven through its own sweep, not the fused kernel
        pass

    model = Ising.sherrington_kirkpatrick(12, field=0.3, seed=1)  # real couplings: rounding could differ
    finals = []
    for chunks in ((40,), (1, 2, 3, 34), (7, 33)):
        base = MyHeatBath(order="random") if generic else HeatBath(order="random")
        pt = ParallelTempering([0.5, 0.9, 1.6], base=base, exchange_every=2)
        state = ChainState.new(model, 6, seed=2)
        pt.reset(model, state)
        for n in chunks:
            pt.sweep(model, state, 1.0 / pt.chain_temperatures(None, 2), n)
        finals.append((state.copy(), pt.info()))
    for final, info in finals[1:]:
        np.testing.assert_array_equal(final.spins, finals[0][0].spins)
        np.testing.assert_array_equal(final.energy, finals[0][0].energy)
        assert info == finals[0][1]
    assert finals[0][1]["exchange_rounds"] == 20


# ---------------------------------------------------------------------------- checkpoints
def test_a_killed_pt_run_resumes_from_its_checkpoint_bit_identical_including_exchange_statistics(tmp_path):
    model = Ising.sherrington_kirkpatrick(16, field=0.1, seed=8)
    ladder = geometric_ladder(0.3, 1.5, 4)
    kwargs = dict(sweeps=400, burn_in=100, n_chains=2, seed=9, checkpoint_every=70, record_states=True)

    reference = sample(model, ParallelTempering(ladder), None, checkpoint=tmp_path / "ref.npz", **kwargs)

    class Killed(Exception):
        pass

    doomed = ParallelTempering(ladder)
    calls = {"n": 0}
    original = doomed.sweep

    def dying_sweep(*args, **kw):
        calls["n"] += 1
        if calls["n"] == 230:
            raise Killed
        return original(*args, **kw)

    doomed.sweep = dying_sweep
    path = tmp_path / "run.npz"
    with pytest.raises(Killed):
        sample(model, doomed, None, checkpoint=path, **kwargs)
    assert path.exists()
    resumed = sample(model, ParallelTempering(ladder), None, checkpoint=path, **kwargs)

    np.testing.assert_array_equal(resumed.energy, reference.energy)
    np.testing.assert_array_equal(resumed.magnetization, reference.magnetization)
    np.testing.assert_array_equal(resumed.states, reference.states)
    np.testing.assert_array_equal(resumed.final_state.spins, reference.final_state.spins)
    np.testing.assert_array_equal(resumed.final_state.rng, reference.final_state.rng)
    assert resumed.sampler_info == reference.sampler_info
    assert resumed.accepted == reference.accepted
    json.dumps(resumed.sampler_info, allow_nan=False)


def test_an_uninterrupted_pt_run_with_checkpoints_equals_one_without(tmp_path):
    model = Ising.sherrington_kirkpatrick(16, field=0.2, seed=3)
    ladder = [0.3, 0.6, 1.0, 2.0]
    kwargs = dict(sweeps=300, burn_in=50, n_chains=2, seed=4)
    plain = sample(model, ParallelTempering(ladder, exchange_every=3), None, **kwargs)
    saved = sample(
        model,
        ParallelTempering(ladder, exchange_every=3),
        None,
        checkpoint=tmp_path / "c.npz",
        checkpoint_every=13,
        **kwargs,
    )
    np.testing.assert_array_equal(plain.energy, saved.energy)
    np.testing.assert_array_equal(plain.final_state.spins, saved.final_state.spins)
    assert plain.sampler_info == saved.sampler_info


def test_a_checkpoint_of_another_ladder_is_refused(tmp_path):
    model = Ising.lattice((4, 4))
    path = tmp_path / "c.npz"
    sample(model, ParallelTempering([1.5, 2.5]), None, sweeps=20, checkpoint=path, checkpoint_every=10)
    with pytest.raises(ValueError, match="different run"):
        sample(model, ParallelTempering([1.5, 3.0]), None, sweeps=20, checkpoint=path, checkpoint_every=10)


# ---------------------------------------------------------------------------- ladders
def test_geometric_ladder_has_a_constant_ratio_and_exact_ends():
    t = geometric_ladder(0.5, 4.0, 7)
    assert t[0] == 0.5 and t[-1] == 4.0
    np.testing.assert_allclose(t[1:] / t[:-1], 2.0**0.5)
    with pytest.raises(ValueError, match="t_max must be > t_min"):
        geometric_ladder(2.0, 1.0, 4)
    with pytest.raises(ValueError, match="n must be"):
        geometric_ladder(1.0, 2.0, 1)


def test_adapting_the_ladder_evens_out_swap_acceptance_across_the_16x16_critical_point():
    model = Ising.lattice((16, 16))
    ladder = geometric_ladder(1.0, 5.0, 10)  # the specific-heat peak at T_c = 2.269 starves the middle pairs
    before = adapt_ladder(model, ladder, iterations=0, sweeps=2000, burn_in=200, seed=1)
    after = adapt_ladder(model, ladder, iterations=4, sweeps=2000, burn_in=200, seed=1)
    np.testing.assert_array_equal(before.temperatures, ladder)
    assert after.temperatures[0] == 1.0 and after.temperatures[-1] == 5.0
    assert np.all(np.diff(after.temperatures) > 0)
    assert before.acceptance.min() < 0.1 and before.acceptance.max() > 0.6  # very non-uniform to start with
    assert after.acceptance.min() > 2 * before.acceptance.min()
    assert np.ptp(after.acceptance) < 0.5 * np.ptp(before.acceptance)
    assert np.std(after.acceptance) < 0.3 * np.std(before.acceptance)
    # the temperatures crowd where the specific heat peaks
    gaps = np.diff(after.temperatures)
    assert np.argmin(gaps) in range(2, 6)


# ---------------------------------------------------------------------------- arguments
def test_parallel_tempering_rejects_bad_ladders_bases_and_chain_counts():
    with pytest.raises(ValueError, match="at least two"):
        ParallelTempering([1.0])
    with pytest.raises(ValueError, match="distinct"):
        ParallelTempering([1.0, 2.0, 1.0])
    with pytest.raises(ValueError, match="> 0"):
        ParallelTempering([0.0, 1.0])
    with pytest.raises(ValueError, match="cannot be parallel tempering"):
        ParallelTempering([1.0, 2.0], base=ParallelTempering([1.0, 2.0]))
    with pytest.raises(ValueError, match="cannot be parallel tempering"):
        ParallelTempering([1.0, 2.0], base="pt")
    with pytest.raises(TypeError, match="base must be"):
        ParallelTempering([1.0, 2.0], base=3)
    with pytest.raises(ValueError, match="base_options"):
        ParallelTempering([1.0, 2.0], base=Metropolis(), base_options={"order": "random"})
    with pytest.raises(ValueError, match="exchange_every"):
        ParallelTempering([1.0, 2.0], exchange_every=0)
    with pytest.raises(ValueError, match="exchange_every must be an integer >= 1, got 0"):
        ParallelTempering([1.0, 2.0]).exchange_every = 0  # up to 0.6.8 a division by zero at the next sweep
    pt = ParallelTempering([2.0, 1.0, 3.0])
    np.testing.assert_array_equal(pt.temperatures, [1.0, 2.0, 3.0])
    model = Ising.lattice((3, 3))
    with pytest.raises(ValueError, match="temperature=None"):
        sample(model, pt, 1.0, sweeps=10)
    with pytest.raises(ValueError, match="multiple of 3"):
        pt.reset(model, ChainState.new(model, 4))
    assert pt.options() == {
        "temperatures": [1.0, 2.0, 3.0],
        "base": "metropolis",
        "base_options": {"order": "sequential"},
        "exchange_every": 1,
    }
    with pytest.raises(ValueError, match="not saved by this sampler"):
        pt.load_state({})
