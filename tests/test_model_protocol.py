"""One model protocol: every model's ``to_ising()`` returns an IsingForm, and on every state x
of a small instance E_model(x) == E_ising(s(x)) + offset exactly (to rounding)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.brute_force import all_states
from thermolearn import Ising, MaxCut
from thermolearn.models import BoltzmannMachine, Hopfield, spins_to_binary
from thermolearn.models.ising_form import IsingForm
from thermolearn.models.qubo import QUBO


def _hopfield() -> Hopfield:
    rng = np.random.default_rng(1)
    xi = rng.choice([-1, 1], size=(2, 7))
    J = (xi.T @ xi).astype(float) / 7
    np.fill_diagonal(J, 0.0)
    return Hopfield(J, rng.normal(0, 0.3, 7))


def _boltzmann() -> BoltzmannMachine:
    rng = np.random.default_rng(2)
    W = rng.normal(0, 0.8, (7, 7))
    W = np.triu(W, 1) + np.triu(W, 1).T
    return BoltzmannMachine(W, rng.normal(0, 0.5, 7), 4)


def _maxcut() -> MaxCut:
    edges = np.array([[0, 1, 1.0], [1, 2, 2.5], [2, 3, 0.5], [3, 0, 1.5], [0, 2, 3.0], [4, 1, 0.75], [4, 3, 1.25]])
    return MaxCut.from_edgelist(edges, n_spins=5)


def _qubo() -> QUBO:
    return QUBO(np.random.default_rng(3).normal(size=(6, 6)), offset=0.7)


MODELS = {
    "Ising": lambda: Ising.sherrington_kirkpatrick(6, field=0.2, seed=4),
    "Hopfield": _hopfield,
    "BoltzmannMachine": _boltzmann,
    "MaxCut": _maxcut,
    "QUBO": _qubo,
}


def _all_model_states(model, form: IsingForm) -> np.ndarray:
    s = all_states(form.n_spins)
    return spins_to_binary(s) if form.vartype == "binary" else s


@pytest.mark.parametrize("name", list(MODELS))
def test_every_model_energy_is_its_ising_form_energy_plus_the_exact_offset_on_every_state(name):
    model = MODELS[name]()
    form = model.to_ising()
    assert isinstance(form, IsingForm)
    assert form.labels == tuple(range(form.n_spins))
    x = _all_model_states(model, form)
    np.testing.assert_allclose(model.energy(x), form.ising.energy(form.to_spins(x)) + form.offset, atol=1e-12)
    np.testing.assert_allclose(form.energy(x), model.energy(x), atol=1e-12)
    np.testing.assert_array_equal(form.from_spins(form.to_spins(x)), x)


def test_maxcut_energy_is_total_weight_minus_twice_the_cut_counted_edge_by_edge():
    problem = _maxcut()
    s = all_states(5)
    i, j = np.array([0, 1, 2, 3, 0, 4, 4]), np.array([1, 2, 3, 0, 2, 1, 3])
    w = np.array([1.0, 2.5, 0.5, 1.5, 3.0, 0.75, 1.25])
    cut = ((s[:, i] != s[:, j]) * w).sum(axis=1)
    form = problem.to_ising()
    np.testing.assert_allclose(form.energy(s), w.sum() - 2 * cut, atol=1e-12)
    np.testing.assert_allclose(problem.cut_value(s), cut, atol=1e-12)


def test_qubo_and_bqm_paths_return_the_same_form():
    Q = np.random.default_rng(5).normal(size=(5, 5))
    a, b = QUBO(Q).to_ising(), Ising.from_qubo(Q)
    assert a.vartype == b.vartype == "binary" and a.offset == b.offset
    np.testing.assert_array_equal(a.ising.to_dense()[0], b.ising.to_dense()[0])
    dimod = pytest.importorskip("dimod")
    bqm = dimod.BinaryQuadraticModel.from_qubo({(i, j): Q[i, j] for i in range(5) for j in range(5)})
    c = Ising.from_bqm(bqm)
    x = spins_to_binary(all_states(5))
    np.testing.assert_allclose(c.energy(x), b.energy(x), atol=1e-12)


def test_an_ising_form_refuses_bad_parts_with_clear_messages():
    model = Ising.lattice(4)
    with pytest.raises(TypeError, match="thermolearn.Ising"):
        IsingForm(np.eye(3))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="vartype"):
        IsingForm(model, vartype="ternary")
    with pytest.raises(ValueError, match="labels"):
        IsingForm(model, labels=("a", "b"))
    with pytest.raises(ValueError, match="binary"):
        IsingForm(model, vartype="binary").to_spins([1, -1, 1, 1])
