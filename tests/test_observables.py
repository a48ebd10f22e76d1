"""Ising observables with error bars against exact enumeration of a 3x3 periodic lattice.

Samples are drawn exactly from the Boltzmann distribution (all 2^9 states enumerated), either
independently or as a lazy independence chain (keep the state with probability phi, else draw
afresh), whose every observable has rho(t) = phi^t and tau_int = (1/2)(1 + phi)/(1 - phi).
Each estimate must agree with the exact value within N_SIGMA of its own error bar.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

from tests.brute_force import all_states, brute_force
from thermolearn import Ising
from thermolearn.estimators import (
    QUANTITIES,
    Estimate,
    IsingObservables,
    combine_chains,
    observables_from_series,
    observables_from_states,
)

N_SIGMA = 4.0
MODEL = Ising.lattice((3, 3))
N = MODEL.n_spins
STATES = all_states(N)


def exact_observables(temperature: float) -> dict[str, float]:
    """Exact per-spin observables of the 3x3 periodic ferromagnet (h = 0) at T."""
    bf = brute_force(MODEL, temperature)
    beta = 1.0 / temperature
    p = bf["probabilities"]
    m = STATES.sum(axis=1) / N
    m2, m4, abs_m = p @ m**2, p @ m**4, p @ np.abs(m)
    np.testing.assert_allclose(m2, bf["magnetization_sq"] / N**2)
    np.testing.assert_allclose(abs_m, bf["abs_magnetization"] / N)
    return {
        "energy_per_spin": bf["energy"] / N,
        "magnetization": 0.0,
        "abs_magnetization": abs_m,
        "magnetization_sq": m2,
        "magnetization_4": m4,
        "specific_heat": bf["specific_heat"] / N,
        "susceptibility_m2": beta * N * m2,
        "susceptibility_abs": beta * N * (m2 - abs_m**2),
        "susceptibility_connected": beta * N * m2,  # <m> = 0 at h = 0
        "binder_cumulant": 1.0 - m4 / (3.0 * m2**2),
        "probabilities": p,
    }


def boltzmann_chain(p: np.ndarray, n: int, seed: int, phi: float = 0.0) -> np.ndarray:
    """State indices of a chain with stationary law p: keep the last state w.p. phi, else redraw."""
    rng = np.random.default_rng(seed)
    fresh = rng.choice(p.size, size=n, p=p)
    redraw = rng.random(n) >= phi
    redraw[0] = True
    last = np.maximum.accumulate(np.where(redraw, np.arange(n), 0))
    return fresh[last]


@pytest.mark.parametrize("temperature", [1.5, 2.269, 3.5])
def test_independent_boltzmann_samples_reproduce_exact_observables_within_error_bars(temperature):
    exact = exact_observables(temperature)
    states = STATES[boltzmann_chain(exact["probabilities"], 20_000, seed=int(temperature * 1000))]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # independent samples: nothing to warn about
        obs = observables_from_states(states, temperature, model=MODEL)
    assert isinstance(obs, IsingObservables) and obs.reliable
    for name in QUANTITIES:
        est: Estimate = getattr(obs, name)
        assert est.stderr > 0, name
        assert abs(est.mean - exact[name]) < N_SIGMA * est.stderr, (name, est, exact[name])
    # independent samples: tau_int = 1/2 within its Madras-Sokal error
    for tau in (obs.tau_energy, obs.tau_abs_magnetization, obs.tau_magnetization_sq):
        assert abs(tau.tau - 0.5) < N_SIGMA * tau.tau_stderr


def test_correlated_chain_error_bars_grow_by_sqrt_two_tau_and_still_cover_exact_values():
    temperature, phi, n = 2.269, 0.8, 60_000
    tau_exact = 0.5 * (1 + phi) / (1 - phi)  # 4.5 for every observable of this chain
    exact = exact_observables(temperature)
    p = exact["probabilities"]
    states = STATES[boltzmann_chain(p, n, seed=42, phi=phi)]
    obs = observables_from_states(states, temperature, model=MODEL)
    assert obs.reliable
    for name in QUANTITIES:
        est = getattr(obs, name)
        assert abs(est.mean - exact[name]) < N_SIGMA * est.stderr, (name, est, exact[name])
    for tau in (obs.tau_energy, obs.tau_magnetization, obs.tau_abs_magnetization, obs.tau_magnetization_sq):
        assert abs(tau.tau - tau_exact) < N_SIGMA * tau.tau_stderr
    # the energy error bar equals the exact sqrt(2 tau Var(e) / n) within the jackknife's own
    # uncertainty (K blocks: 1/sqrt(2(K-1))) plus the known adjacent-block bias ~ tau / (2 b)
    e = MODEL.energy(STATES) / N
    var_e = p @ (e - p @ e) ** 2
    exact_err = math.sqrt(2 * tau_exact * var_e / n)
    b = obs.block_sizes["energy_per_spin"]
    k = n // b
    assert b >= 20 * 4
    rel_tol = N_SIGMA / math.sqrt(2 * (k - 1)) + tau_exact / (2 * b)
    assert abs(obs.energy_per_spin.stderr / exact_err - 1.0) < rel_tol


def test_states_model_energies_and_stored_series_give_identical_results():
    temperature = 2.5
    p = exact_observables(temperature)["probabilities"]
    states = STATES[boltzmann_chain(p, 3000, seed=1, phi=0.3)]
    e_total = MODEL.energy(states)
    m_total = MODEL.magnetization(states)
    a = observables_from_states(states, temperature, model=MODEL).as_dict()
    b = observables_from_states(states, temperature, energies=e_total).as_dict()
    c = observables_from_series(e_total, m_total, N, temperature).as_dict()
    d = observables_from_series(e_total / N, m_total / N, N, temperature, per_spin=True).as_dict()
    assert a == b
    for other in (c, d):
        for name in QUANTITIES:
            np.testing.assert_allclose(
                [other[name]["mean"], other[name]["stderr"]], [a[name]["mean"], a[name]["stderr"]], rtol=1e-9
            )


def test_as_dict_is_json_serialisable_with_every_quantity_and_tau():
    p = exact_observables(3.0)["probabilities"]
    obs = observables_from_states(STATES[boltzmann_chain(p, 2000, seed=3)], 3.0, model=MODEL)
    d = obs.as_dict()
    assert json.loads(json.dumps(d)) == d
    for name in QUANTITIES:
        assert set(d[name]) == {"mean", "stderr"} and isinstance(d[name]["mean"], float)
    assert d["tau_energy"]["tau"] == obs.tau_energy.tau
    assert set(d["block_sizes"]) == set(QUANTITIES)
    assert (d["n_spins"], d["n_samples"], d["temperature"]) == (9, 2000, 3.0)


def test_frozen_run_keeps_its_values_but_gives_no_error_bar():
    # the chain saw one state only: 0 would claim an exact answer for a state whose rivals it never met
    states = np.ones((500, N), dtype=np.int8)
    with pytest.warns(RuntimeWarning, match="never left one state"):
        obs = observables_from_states(states, 0.5, model=MODEL)
    assert obs.energy_per_spin.mean == -2.0 and obs.abs_magnetization.mean == 1.0 and obs.specific_heat.mean == 0.0
    np.testing.assert_allclose(obs.binder_cumulant.mean, 2.0 / 3.0)
    assert all(np.isnan(getattr(obs, name).stderr) for name in QUANTITIES)
    assert obs.frozen and not obs.reliable
    d = obs.as_dict()
    assert d["frozen"] is True and d["energy_per_spin"]["stderr"] is None


def test_pooled_frozen_chains_take_their_error_from_the_spread_between_them():
    up, down = np.ones((500, N), dtype=np.int8), -np.ones((500, N), dtype=np.int8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        same = combine_chains([observables_from_states(s, 0.5, model=MODEL) for s in (up, up)])
        apart = combine_chains([observables_from_states(s, 0.5, model=MODEL) for s in (up, down)])
        p = exact_observables(3.0)["probabilities"]
        moving = observables_from_states(STATES[boltzmann_chain(p, 2000, seed=3)], 3.0, model=MODEL)
        frozen_hot = observables_from_states(up, 3.0, model=MODEL)
        mixed = combine_chains([moving, frozen_hot])
    assert np.isnan(same.energy_per_spin.stderr) and same.frozen and not same.reliable
    # +1 and -1 frozen: m pooled to 0 with the spread of the two as its error
    assert apart.magnetization.mean == 0.0 and apart.magnetization.stderr == pytest.approx(1.0)
    assert apart.frozen and not apart.reliable
    # one chain moved: its error bar and the spread of the two means make the pooled one
    assert (
        np.isfinite(mixed.energy_per_spin.stderr) and mixed.energy_per_spin.stderr >= moving.energy_per_spin.stderr / 2
    )
    assert mixed.frozen and not mixed.reliable


def test_short_correlated_run_warns_that_error_bars_are_unreliable():
    p = exact_observables(2.0)["probabilities"]
    states = STATES[boltzmann_chain(p, 400, seed=5, phi=0.95)]
    with pytest.warns(RuntimeWarning, match="too few"):
        obs = observables_from_states(states, 2.0, model=MODEL)
    assert not obs.reliable


def test_fixed_block_size_is_used_for_every_quantity():
    p = exact_observables(2.0)["probabilities"]
    obs = observables_from_states(STATES[boltzmann_chain(p, 1000, seed=6)], 2.0, model=MODEL, block_size=50)
    assert set(obs.block_sizes.values()) == {50}


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda s, e: observables_from_states(s, 0.0, model=MODEL), "temperature must be > 0"),
        (lambda s, e: observables_from_states(s, -1.0, model=MODEL), "temperature must be > 0"),
        (lambda s, e: observables_from_states(s, math.nan, model=MODEL), "temperature"),
        (lambda s, e: observables_from_states(s, 2.0), "exactly one of model"),
        (lambda s, e: observables_from_states(s, 2.0, model=MODEL, energies=e), "exactly one of model"),
        (lambda s, e: observables_from_states(s[None], 2.0, model=MODEL), r"shape \(n_samples, n_spins\)"),
        (lambda s, e: observables_from_states(s[:, :4], 2.0, model=MODEL), r"shape \(n_samples, 9\)"),
        (lambda s, e: observables_from_states(s * 0, 2.0, model=MODEL), "-1 and \\+1"),
        (lambda s, e: observables_from_states(s[:1], 2.0, model=MODEL), "at least 2"),
        (lambda s, e: observables_from_states(s, 2.0, energies=e[:-1]), "energies has"),
        (lambda s, e: observables_from_states(s, 2.0, model=MODEL, block_size=60), "block_size"),
        (lambda s, e: observables_from_series(e, e, N, 2.0), r"\|m\| <= 1"),
        (lambda s, e: observables_from_series(e, e[:-1] * 0, N, 2.0), "must match"),
        (lambda s, e: observables_from_series(np.append(e[1:], np.nan), e * 0, N, 2.0), "NaN"),
        (lambda s, e: observables_from_series([], [], N, 2.0), "empty"),
        (lambda s, e: observables_from_series(e, e * 0, 0, 2.0), "n_spins"),
        (lambda s, e: observables_from_series(e, e * 0, N, 0.0), "temperature"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(call, match):
    states = STATES[:100]
    energies = MODEL.energy(states)
    with pytest.raises(ValueError, match=match):
        call(states, energies)


def _chain(mean_m: float, seed: int, n: int = 4000) -> IsingObservables:
    """Observables of a 3x3 chain of independent samples of m near ``mean_m`` (e fixed pattern)."""
    rng = np.random.default_rng(seed)
    m = np.clip(mean_m + 0.05 * rng.standard_normal(n), -1, 1) * N
    e = -18.0 + rng.standard_normal(n)
    return observables_from_series(e, m, N, 1.5)


def test_pooled_chains_that_disagree_get_the_spread_as_error_and_are_flagged():
    # up to 0.6.9 chains stuck in opposite ordered states gave <m> = 0.4985 +- 0.00008 (exact 0,
    # 6000 standard errors away) marked reliable: the error used only each chain's own error bar
    stuck = [_chain(0.95, 1), _chain(0.95, 2), _chain(0.95, 3), _chain(-0.95, 4)]
    with pytest.warns(RuntimeWarning, match="disagree beyond their error bars on magnetization") as caught:
        pooled = combine_chains(stuck)
    assert not pooled.reliable
    means = np.array([r.magnetization.mean for r in stuck])
    assert pooled.magnetization.stderr == pytest.approx(np.std(means, ddof=1) / 2)
    assert abs(pooled.magnetization.mean) < 2 * pooled.magnetization.stderr  # exact <m> = 0 is covered
    # the connected susceptibility of the whole run: the chains' own variance plus that of their means
    beta_n = N / 1.5
    own = np.mean([r.susceptibility_connected.mean for r in stuck])
    assert pooled.susceptibility_connected.mean == pytest.approx(own + beta_n * np.var(means))
    assert "abs_magnetization" not in str(caught[0].message)  # |m| is the same in both states
    assert pooled.abs_magnetization.stderr < 0.01


def test_pooled_chains_that_agree_keep_their_combined_error_and_stay_reliable():
    alike = [_chain(0.5, s) for s in range(4)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pooled = combine_chains(alike)
    assert pooled.reliable
    errs = np.array([r.magnetization.stderr for r in alike])
    means = np.array([r.magnetization.mean for r in alike])
    assert pooled.magnetization.stderr == pytest.approx(max(np.sqrt(np.sum(errs**2)) / 4, np.std(means, ddof=1) / 2))


def test_sample_with_chains_stuck_in_opposite_states_covers_exact_m_and_is_unreliable():
    from thermolearn import sample

    model = Ising.lattice((4, 4))
    run = sample(
        model, "metropolis", 1.2, sweeps=4000, burn_in=500, n_chains=4, seed=0, initial="random", progress=False
    )
    signs = np.sign(run.magnetization.mean(axis=1))
    assert len(set(signs)) == 2  # the seed puts chains in both ordered states (none flips at T = 1.2)
    o = run.at()
    assert not o.reliable
    assert abs(o.magnetization.mean) < 2 * o.magnetization.stderr  # exact <m> = 0


def test_binder_cumulant_of_a_run_with_m_nonzero_in_one_block_is_nan_not_a_crash():
    # up to 0.6.9 SampleResult.at() raised (a jackknife block left out had <m^2> = 0) and lost every
    # observable: a 4x4 antiferromagnet at T = 0.9 has m != 0 in a handful of samples
    m = np.zeros(2000)
    m[1500:1503] = 2.0
    e = -32.0 + np.zeros(2000)
    e[1500:1503] = -24.0
    with pytest.warns(RuntimeWarning, match="Binder cumulant"):
        o = observables_from_series(e, m, 16, 0.9)
    assert math.isnan(o.binder_cumulant.mean) and math.isnan(o.binder_cumulant.stderr)
    assert math.isfinite(o.energy_per_spin.mean) and math.isfinite(o.energy_per_spin.stderr)
