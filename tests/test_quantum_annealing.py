"""Simulated quantum annealing finds exact ground states of small glasses and resumes bit for bit."""

from functools import partial

import numpy as np
import pytest

from thermolearn.models import Ising
from thermolearn.quantum.quantum_annealing import SQARun, default_gamma_range, simulated_quantum_annealing

GLASS = Ising.sherrington_kirkpatrick(12, field=0.1, seed=7)


def _ground_energy(model: Ising) -> float:
    k = np.arange(2**model.n_spins)
    spins = (1 - 2 * ((k[:, None] >> np.arange(model.n_spins)) & 1)).astype(np.int8)
    return float(np.min(model.energy(spins)))


def test_sqa_reaches_the_enumerated_ground_state_of_a_small_spin_glass():
    result = simulated_quantum_annealing(GLASS, 300, 8, slices=8, seed=3)
    ground = _ground_energy(GLASS)
    assert result.best_energy == pytest.approx(ground, abs=1e-12)
    assert np.all(result.energies >= ground - 1e-12)
    assert result.best_energy == pytest.approx(float(GLASS.energy(result.best_state)), abs=1e-12)
    # every read is quenched: no single flip lowers its energy
    for state in result.states:
        phi = GLASS.local_fields(state)
        assert np.all(state * np.ravel(phi) >= 0)


def test_a_too_short_quench_like_schedule_does_worse_than_a_long_one_on_average():
    model = Ising.sherrington_kirkpatrick(64, seed=2)
    short = simulated_quantum_annealing(model, 2, 16, slices=4, seed=1)
    long = simulated_quantum_annealing(model, 400, 16, slices=4, seed=1)
    assert np.mean(long.energies) < np.mean(short.energies)


def test_sqa_resumed_from_its_arrays_is_bit_identical_to_an_uninterrupted_run():
    a = SQARun(GLASS, 200, 3, slices=4, seed=5)
    a.advance(50)
    saved = {k: v.copy() for k, v in a.arrays().items()}
    while not a.finished:
        a.advance(50)
    b = SQARun(GLASS, 200, 3, slices=4, seed=5)
    b.restore(saved, 50)
    while not b.finished:
        b.advance(50)
    np.testing.assert_array_equal(a.spins, b.spins)
    np.testing.assert_array_equal(a.result().energies, b.result().energies)


def test_gamma_schedule_runs_from_start_to_end_linearly():
    run = SQARun(GLASS, 11, 1, gamma_range=(2.0, 0.1))
    np.testing.assert_allclose(run.gamma(np.array([0.0, 5.0, 10.0])), [2.0, 1.05, 0.1])
    g0, g1 = default_gamma_range(GLASS)
    assert g0 > g1 > 0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"slices": 0}, "slices M"),
        ({"gamma_range": (0.1, 1.0)}, "Gamma_start >= Gamma_end > 0"),
        ({"gamma_range": (1.0, 0.0)}, "Gamma_start >= Gamma_end > 0"),
        ({"gamma_range": (float("nan"), 0.1)}, "Gamma_start"),
        ({"temperature": -1.0}, "temperature"),
    ],
)
def test_bad_sqa_input_is_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SQARun(GLASS, 10, 2, **kwargs)


def test_a_killed_sqa_run_resumes_from_its_checkpoint_bit_for_bit(tmp_path, monkeypatch):
    kwargs = {"slices": 4, "seed": 6, "block": 20, "checkpoint_every": 20}
    whole = simulated_quantum_annealing(GLASS, 120, 3, **kwargs)
    path = tmp_path / "sqa.npz"
    calls = {"n": 0}
    advance = SQARun.advance

    def dying(self, n):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return advance(self, n)

    monkeypatch.setattr(SQARun, "advance", dying)
    with pytest.raises(KeyboardInterrupt):
        simulated_quantum_annealing(GLASS, 120, 3, checkpoint=path, **kwargs)
    monkeypatch.setattr(SQARun, "advance", advance)
    resumed = simulated_quantum_annealing(GLASS, 120, 3, checkpoint=path, **kwargs)
    np.testing.assert_array_equal(resumed.states, whole.states)
    with pytest.raises(ValueError, match="different run.*reads"):
        simulated_quantum_annealing(GLASS, 120, 2, checkpoint=path, **kwargs)


def test_serial_parallel_and_dense_trotter_kernels_make_the_same_moves():
    from thermolearn.quantum.pimc_kernels import trotter_sweeps
    from thermolearn.samplers.parallel_tempering import csr_int64

    run = SQARun(GLASS, 30, 4, slices=4, seed=8)
    indptr, indices, data = csr_int64(GLASS)
    a = np.full(30, 0.5)
    k = np.full((30, GLASS.n_spins), 0.8)
    outs = []
    one_thread, pool = partial(trotter_sweeps.run, 1), partial(trotter_sweeps.run, 30)
    runs = [(one_thread, np.zeros((0, 0))), (pool, np.zeros((0, 0)))]
    runs.append((one_thread, GLASS.couplings.toarray()))  # dense rows: the same additions
    for kernel, dense in runs:
        spins, rng = run.spins.copy(), run.rng.copy()
        ecl, tcorr, bonds = np.zeros((4, 30)), np.zeros((4, 30, GLASS.n_spins)), np.zeros((4, 30))
        acc = np.zeros((4, 2), dtype=np.int64)
        kernel(spins, rng, indptr, indices, data, GLASS.fields, a, k, True, True, ecl, tcorr, bonds, acc, dense)
        outs.append((spins, rng, ecl, tcorr, bonds, acc))
    for other in outs[1:]:
        for x, y in zip(outs[0], other):
            np.testing.assert_array_equal(x, y)


def test_a_rising_beta_schedule_runs_from_t_start_to_t_end_and_still_finds_the_ground_state():
    run = SQARun(GLASS, 11, 1, temperature=(2.0, 0.5))
    np.testing.assert_allclose(run.betas(np.array([0.0, 10.0])), [0.5, 2.0])
    result = simulated_quantum_annealing(GLASS, 300, 8, slices=8, temperature=(1.0, 0.05), seed=3)
    assert result.best_energy == pytest.approx(_ground_energy(GLASS), abs=1e-12)
    with pytest.raises(ValueError, match="must cool"):
        SQARun(GLASS, 10, 1, temperature=(0.5, 2.0))
