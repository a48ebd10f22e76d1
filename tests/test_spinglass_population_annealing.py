"""Population annealing: ln Z and <E> equal exact enumeration and Kaufman within their error bars.

Error bars are a delete-one-run jackknife over independent populations (16 runs here), so a
z-score follows roughly Student's t with 15 degrees of freedom; |z| < 4 fails by chance about
once in a thousand. Every agreement test comes with a negative control that the same error bar
rejects.
"""

from __future__ import annotations

import json
import math
from functools import partial

import numpy as np
import pytest

from thermolearn.exact.enumeration import enumerate_exact
from thermolearn.exact.kaufman import kaufman
from thermolearn.models.ising import Ising
from thermolearn.spinglass.ensembles import edwards_anderson_instance
from thermolearn.spinglass.population_annealing import (
    MIN_POPULATION,
    linear_beta_schedule,
    population_annealing,
    systematic_resample,
)

Z_MAX = 4.0


def _z(estimate: tuple[float, float], exact: float) -> float:
    return (estimate[0] - exact) / estimate[1]


def test_systematic_resampling_gives_floor_or_ceil_of_r_tau_copies_and_is_unbiased():
    rng = np.random.default_rng(0)
    w = rng.exponential(size=50)
    tau = w / w.sum()
    mean_counts = np.zeros(50)
    for _ in range(4000):
        counts = np.bincount(systematic_resample(w, float(rng.random())), minlength=50)
        assert counts.sum() == 50
        assert np.all((counts == np.floor(50 * tau)) | (counts == np.ceil(50 * tau)))
        mean_counts += counts / 4000
    # E[copies] = R tau_i; each count takes two neighbouring values, so its sd is at most 1/2
    assert np.all(np.abs(mean_counts - 50 * tau) < 4 * 0.5 / math.sqrt(4000))


CASES = {
    "sk16": (lambda: Ising.sherrington_kirkpatrick(16, seed=3), 0.4),
    "ea4x4_pm": (lambda: edwards_anderson_instance((4, 4), "pm", 5), 0.5),
    "ea4x4_gaussian": (lambda: edwards_anderson_instance((4, 4), "gaussian", 2), 0.6),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_log_z_and_energy_of_small_spin_glasses_equal_enumeration_within_error_bars(name):
    build, T = CASES[name]
    model = build()
    exact = enumerate_exact(model, T, correlations=False)[0]
    res = population_annealing(model, T, population=200, steps=50, sweeps=4, runs=16, seed=0)
    assert abs(_z(res.log_z, exact.log_z)) < Z_MAX
    assert abs(_z(res.energy, exact.energy)) < Z_MAX
    # negative control: ln Z 1% hotter differs by about |<E>| beta / 100, far outside the error bar
    wrong = enumerate_exact(model, T * 1.01, correlations=False)[0].log_z
    assert abs(_z(res.log_z, wrong)) > 2 * Z_MAX
    assert 1.0 <= res.rho_f < res.population / 10
    assert res.warnings == ()


def test_log_z_of_the_8x8_ferromagnet_equals_kaufman_within_its_error_bar():
    T = 2.0
    exact = kaufman(8, T)
    res = population_annealing(Ising.lattice((8, 8), 1.0), T, population=200, steps=50, sweeps=4, runs=16, seed=0)
    assert abs(_z(res.log_z, exact.log_z)) < Z_MAX
    assert abs(_z(res.energy, exact.energy)) < Z_MAX
    # negative control: Kaufman's ln Z for J = 1.005 (a 0.5% stronger bond) is rejected
    assert abs(_z(res.log_z, kaufman(8, T, 1.005).log_z)) > 2 * Z_MAX


def test_error_bars_are_honest_over_independent_seeds():
    # 20 independent estimates: the mean of z^2 is about 15/13 for Student's t (15 dof), a little
    # more with the finite-R bias of ln Z (about -rho_t / 2R per run), with sd about 0.4 here; error
    # bars too small by 2x would give about 4.6, too large by 2x about 0.3
    model = Ising.sherrington_kirkpatrick(12, seed=8)
    T = 0.5
    exact = enumerate_exact(model, T, correlations=False)[0].log_z
    z2 = [
        _z(population_annealing(model, T, population=128, steps=30, sweeps=2, runs=16, seed=s).log_z, exact) ** 2
        for s in range(20)
    ]
    assert 0.3 < np.mean(z2) < 2.5


def test_a_nearly_infinite_temperature_keeps_every_family_and_ln_z_is_n_ln_2():
    model = Ising.sherrington_kirkpatrick(10, seed=0)
    res = population_annealing(model, 1e9, population=32, steps=5, sweeps=1, runs=2, seed=0)
    # every weight is 1 to ~1e-9: each replica keeps exactly one copy, so all R families survive
    assert all(r.families == 32 for r in res.run_results)
    assert res.rho_f == pytest.approx(1.0)
    assert res.log_z[0] == pytest.approx(10 * math.log(2.0), abs=1e-6)


def test_too_small_a_population_is_flagged_by_the_family_diagnostics():
    model = edwards_anderson_instance((4, 4), "pm", 5)
    res = population_annealing(model, 0.3, population=16, steps=5, sweeps=1, runs=4, seed=0)
    assert res.warnings  # R = 16 is not >> rho_f for so fast a quench
    assert any("rho_f" in w or "rho_t" in w for w in res.warnings)


def test_same_seed_same_numbers_other_seed_other_numbers():
    model = Ising.sherrington_kirkpatrick(10, seed=0)
    a = population_annealing(model, 0.7, population=32, steps=10, sweeps=2, runs=3, seed=4)
    b = population_annealing(model, 0.7, population=32, steps=10, sweeps=2, runs=3, seed=4)
    c = population_annealing(model, 0.7, population=32, steps=10, sweeps=2, runs=3, seed=5)
    assert a.log_z == b.log_z and np.array_equal(a.final_states, b.final_states)
    assert a.log_z != c.log_z


def test_a_given_ladder_is_used_and_checked():
    model = Ising.sherrington_kirkpatrick(8, seed=0)
    betas = linear_beta_schedule(2.0, 20) ** 1.0
    res = population_annealing(model, 0.5, population=32, runs=2, betas=betas, seed=0)
    assert res.steps == 20
    with pytest.raises(ValueError, match="must end at 1 / temperature"):
        population_annealing(model, 0.4, population=32, runs=2, betas=betas)
    with pytest.raises(ValueError, match="increasing"):
        population_annealing(model, 0.5, population=32, runs=2, betas=betas[::-1])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"population": MIN_POPULATION - 1}, f"at least {MIN_POPULATION} replicas"),
        ({"runs": 1}, "at least 2 independent populations"),
        ({"population": 10**15}, "memory"),
        ({"sweeps": 0}, "sweeps"),
        ({"steps": 0}, "steps"),
    ],
)
def test_bad_population_annealing_input_is_refused_saying_what_is_needed(kwargs, message):
    model = Ising.sherrington_kirkpatrick(8, seed=0)
    with pytest.raises(ValueError, match=message):
        population_annealing(model, 1.0, **{"population": 32, "runs": 2, **kwargs})


def test_serial_and_parallel_sweep_kernels_make_the_same_moves():
    from thermolearn.randomness.xoshiro import seed_chains
    from thermolearn.samplers.parallel_tempering import csr_int64
    from thermolearn.spinglass.population_annealing import _population_fields, _population_sweeps

    model = edwards_anderson_instance((4, 4), "gaussian", 1)
    rng = np.random.default_rng(0)
    spins = rng.choice(np.array([-1, 1], dtype=np.int8), size=(40, 16))
    energies = np.asarray(model.energy(spins), dtype=np.float64)
    chains = seed_chains(3, 40)
    indptr, indices, data = csr_int64(model)
    h = np.ascontiguousarray(model.fields)
    fields = np.empty((40, 16))
    _population_fields.run(40, spins, fields, indptr, indices, data, h)
    np.testing.assert_allclose(fields, model.local_fields(spins), rtol=0, atol=1e-12)
    outs = []
    # one thread, then the whole pool
    for kernel in (partial(_population_sweeps.run, 1), partial(_population_sweeps.run, 40)):
        s, e, f, c = spins.copy(), energies.copy(), fields.copy(), chains.copy()
        kernel(s, e, f, c, indptr, indices, data, 0.8, 5)
        outs.append((s, e, c, f))
    assert np.array_equal(outs[0][0], outs[1][0]) and np.array_equal(outs[0][2], outs[1][2])
    assert np.array_equal(outs[0][1], outs[1][1]) and np.array_equal(outs[0][3], outs[1][3])
    assert np.allclose(outs[0][1], model.energy(outs[0][0]))  # the tracked energies are the energies
    # and the tracked fields are the fields of the spins they moved to
    np.testing.assert_allclose(outs[0][3], model.local_fields(outs[0][0]), rtol=0, atol=1e-9)
    assert not np.array_equal(outs[0][0], spins)  # the sweeps moved


def test_a_call_given_its_first_runs_back_goes_on_to_the_result_of_a_call_never_stopped():
    from thermolearn.spinglass.population_annealing import PopulationRun

    model = Ising.sherrington_kirkpatrick(8, seed=2)
    kept: list[dict] = []
    options = {"population": 32, "steps": 6, "sweeps": 1, "runs": 4, "seed": 9}
    full = population_annealing(model, 1.0, **options, on_run=lambda run: kept.append(run.to_record()))
    assert len(kept) == 4
    # the first two runs read back from their JSON records, as from a checkpoint
    done = [PopulationRun.from_record(json.loads(json.dumps(r))) for r in kept[:2]]
    resumed = population_annealing(model, 1.0, **options, done_runs=done)
    assert resumed.log_z == full.log_z and resumed.energy == full.energy
    assert [r.to_record() for r in resumed.run_results] == kept
    assert np.array_equal(resumed.final_states, full.final_states)
    with pytest.raises(ValueError, match="done_runs"):
        population_annealing(model, 1.0, **{**options, "steps": 5}, done_runs=done)
    with pytest.raises(ValueError, match="min_state"):
        PopulationRun.from_record({**kept[0], "min_state": [0, 1]})
