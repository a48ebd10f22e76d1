"""The Gray-code ground-state enumerator against brute force over every state."""

from __future__ import annotations

import itertools

import numba
import numpy as np
import pytest

import thermolearn.exact.ground_state as gs
from thermolearn import Ising
from thermolearn.exact import MAX_GROUND_STATE_SPINS, enumerate_ground_state
from thermolearn.spinglass import ea_ensemble


def _random_model(n: int, seed: int, field: bool) -> Ising:
    rng = np.random.default_rng(seed)
    J = np.triu(rng.normal(size=(n, n)) * (rng.random((n, n)) < 0.6), 1)
    return Ising(J + J.T, rng.normal(size=n) if field else np.zeros(n))


def _brute_force(model: Ising) -> float:
    states = np.array(list(itertools.product([-1, 1], repeat=model.n_spins)), dtype=np.int8)
    return float(np.min(model.energy(states)))


@pytest.mark.parametrize("field", [False, True])
@pytest.mark.parametrize("n", [1, 2, 3, 7, 12])
def test_the_lowest_energy_over_every_state(n, field):
    for seed in range(3):
        model = _random_model(n, seed, field)
        energy, state = enumerate_ground_state(model)
        assert energy == pytest.approx(_brute_force(model), abs=1e-12)
        assert state.dtype == np.int8 and set(np.unique(state)) <= {-1, 1}
        assert model.energy(state) == energy  # the energy returned is the state's own


def test_blocks_on_several_threads_give_the_answer_of_one(monkeypatch):
    # small blocks, so that a 14-spin model runs as 2^10 blocks spread over the threads
    monkeypatch.setattr(gs, "_BLOCK_BITS", 3)
    model = ea_ensemble((3, 5), 1, couplings="pm", seed=4).model(0)  # +-J: many degenerate ground states
    answers = []
    for threads in sorted({1, numba.config.NUMBA_NUM_THREADS}):
        numba.set_num_threads(threads)
        try:
            answers.append(enumerate_ground_state(model))
        finally:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    assert all(e == answers[0][0] and np.array_equal(s, answers[0][1]) for e, s in answers)
    assert answers[0][0] == _brute_force(model)


def test_a_ferromagnet_lattice_has_all_spins_aligned():
    model = Ising.lattice((4, 4), 1.0)
    energy, state = enumerate_ground_state(model)
    assert energy == -32.0 and abs(int(state.sum())) == 16


def test_too_large_a_model_is_refused_with_the_limit_and_an_alternative():
    with pytest.raises(ValueError, match=rf"up to {MAX_GROUND_STATE_SPINS} spins.*search_ground_state"):
        enumerate_ground_state(Ising.lattice((6, 6), 1.0))
    with pytest.raises(TypeError, match="thermolearn.Ising"):
        enumerate_ground_state(np.zeros((3, 3)))  # type: ignore[arg-type]
