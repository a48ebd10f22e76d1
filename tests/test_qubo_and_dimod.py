"""QUBO <-> Ising and dimod conversions keep every state's energy, offset included."""

import numpy as np
import pytest

from tests.brute_force import all_states
from thermolearn import Ising
from thermolearn.models import binary_to_spins, ising_to_qubo, qubo_energy, qubo_to_ising, spins_to_binary


@pytest.mark.parametrize("seed", range(5))
def test_ising_to_qubo_energies_agree_for_every_state(seed):
    rng = np.random.default_rng(seed)
    model = Ising.sherrington_kirkpatrick(8, field=0.0, seed=seed)
    model = Ising(model.couplings, rng.normal(size=8))
    s = all_states(8)
    Q, offset = ising_to_qubo(model)
    np.testing.assert_allclose(qubo_energy(Q, spins_to_binary(s), offset), model.energy(s), atol=1e-12)
    assert np.all(Q.toarray() == np.triu(Q.toarray())), "Q is upper triangular"


@pytest.mark.parametrize("seed", range(5))
def test_qubo_to_ising_energies_agree_for_every_state_for_any_Q(seed):
    rng = np.random.default_rng(seed)
    Q = rng.normal(size=(7, 7))  # neither symmetric nor triangular
    form = qubo_to_ising(Q)
    model, offset = form.ising, form.offset
    x = spins_to_binary(all_states(7))
    np.testing.assert_allclose(model.energy(binary_to_spins(x)) + offset, qubo_energy(Q, x), atol=1e-12)


def test_qubo_round_trip_recovers_the_model():
    model = Ising.lattice((3, 3), coupling=(1.0, -2.0), field=0.5)
    Q, offset = model.to_qubo()
    form = Ising.from_qubo(Q)
    back, offset_back = form.ising, form.offset
    assert offset + offset_back == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(back.to_dense()[0], model.to_dense()[0], atol=1e-14)
    np.testing.assert_allclose(back.fields, model.fields, atol=1e-14)


def test_spin_binary_maps_are_inverse_and_reject_other_values():
    s = all_states(4)
    np.testing.assert_array_equal(binary_to_spins(spins_to_binary(s)), s)
    with pytest.raises(ValueError):
        spins_to_binary(np.array([0, 1]))
    with pytest.raises(ValueError):
        binary_to_spins(np.array([-1, 1]))


def test_dimod_bqm_round_trip_keeps_energies():
    pytest.importorskip("dimod")
    model = Ising.sherrington_kirkpatrick(6, field=0.3, seed=2)
    bqm = model.to_bqm(offset=1.5)
    s = all_states(6)
    ours = model.energy(s) + 1.5
    theirs = bqm.energies((s, list(range(6))))
    np.testing.assert_allclose(theirs, ours, atol=1e-12)
    form = Ising.from_bqm(bqm)
    back, offset, labels = form.ising, form.offset, form.labels
    assert labels == tuple(range(6)) and offset == pytest.approx(1.5)
    np.testing.assert_allclose(back.energy(s) + offset, ours, atol=1e-12)


def test_dimod_binary_bqm_with_labels_converts_with_offset():
    dimod = pytest.importorskip("dimod")
    bqm = dimod.BinaryQuadraticModel(
        {"a": 1.0, "b": -2.0, "c": 0.5}, {("a", "b"): 3.0, ("b", "c"): -1.0}, 0.25, dimod.BINARY
    )
    form = Ising.from_bqm(bqm)
    model, offset, labels = form.ising, form.offset, list(form.labels)
    assert labels == ["a", "b", "c"] and form.vartype == "binary"
    x = spins_to_binary(all_states(3))
    expected = bqm.energies((x, labels))
    np.testing.assert_allclose(model.energy(binary_to_spins(x)) + offset, expected, atol=1e-12)
