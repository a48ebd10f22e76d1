"""The Ising energy function, its constructors and its validation."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

from tests.brute_force import all_states
from tests.search_budget import search_budget
from thermolearn import Ising


@st.composite
def random_models(draw):
    n = draw(st.integers(2, 9))
    density = draw(st.floats(0.0, 1.0))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    upper = np.triu(rng.normal(size=(n, n)) * (rng.random((n, n)) < density), 1)
    return Ising.from_dense(upper + upper.T, rng.normal(size=n))


@search_budget(80)
@given(random_models(), st.data())
def test_single_flip_energy_change_equals_energy_difference(model, data):
    seed = data.draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    states = rng.choice(np.array([-1, 1], dtype=np.int8), size=(5, model.n_spins))
    site = data.draw(st.integers(0, model.n_spins - 1))
    flipped = states.copy()
    flipped[:, site] *= -1
    np.testing.assert_allclose(
        model.flip_energy_change(states, site), model.energy(flipped) - model.energy(states), atol=1e-12
    )


@search_budget(40)
@given(random_models())
def test_energy_matches_the_pair_sum_definition(model):
    J, h = model.to_dense()
    s = all_states(model.n_spins)[:64].astype(float)
    direct = np.array(
        [-sum(J[i, j] * x[i] * x[j] for i in range(len(x)) for j in range(i + 1, len(x))) - h @ x for x in s]
    )
    np.testing.assert_allclose(model.energy(s.astype(np.int8)), direct, atol=1e-12)


@search_budget(40)
@given(random_models())
def test_local_field_is_minus_the_energy_gradient(model):
    rng = np.random.default_rng(0)
    s = rng.choice(np.array([-1, 1], dtype=np.int8), size=(3, model.n_spins))
    J, h = model.to_dense()
    np.testing.assert_allclose(model.local_fields(s), s @ J + h, atol=1e-12)
    np.testing.assert_allclose(model.magnetization(s), s.sum(axis=1))


def test_ferromagnetic_ground_state_energy_of_periodic_square_lattice_is_minus_2N():
    model = Ising.lattice((6, 6))
    assert model.n_spins == 36 and model.n_edges == 72
    assert model.energy(np.ones(36, dtype=np.int8)) == -72.0
    checker = np.where(np.indices((6, 6)).sum(axis=0) % 2, 1, -1).ravel()
    assert model.energy(checker) == 72.0


@pytest.mark.parametrize(
    "shape, periodic, edges",
    [
        ((10,), True, 10),
        ((10,), False, 9),
        ((4, 5), True, 40),
        ((4, 5), False, 31),
        ((3, 3, 3), True, 81),
        ((3, 3, 3), False, 54),
    ],
)
def test_hypercubic_lattice_bond_counts(shape, periodic, edges):
    assert Ising.lattice(shape, periodic=periodic).n_edges == edges


def test_per_axis_couplings_and_field_enter_the_energy():
    model = Ising.lattice((3, 4), coupling=(2.0, -0.5), field=0.25, periodic=(True, False))
    s = np.ones(12, dtype=np.int8)
    # 3 x 4 sites: axis 0 periodic gives 12 bonds of J=2, axis 1 open gives 9 bonds of J=-0.5
    assert model.energy(s) == pytest.approx(-(12 * 2.0 + 9 * -0.5) - 0.25 * 12)
    assert model.geometry.couplings == (2.0, -0.5)


def test_periodic_axis_of_length_two_doubles_the_bond():
    assert Ising.lattice((2,), periodic=True).couplings.toarray()[0, 1] == 2.0


def test_sherrington_kirkpatrick_is_seeded_and_scaled():
    a = Ising.sherrington_kirkpatrick(200, seed=7)
    b = Ising.sherrington_kirkpatrick(200, seed=7)
    c = Ising.sherrington_kirkpatrick(200, seed=8)
    assert a == b and a != c
    i, j, w = a.edges()
    assert len(w) == 200 * 199 // 2
    # J_ij ~ N(0, 1/N): the sample variance times N is 1 within its sampling error sqrt(2/m)
    assert abs(w.var() * 200 - 1.0) < 5 * np.sqrt(2 / len(w))


@pytest.mark.parametrize("disorder", ["pm", "gaussian"])
@pytest.mark.parametrize("dim", [2, 3])
def test_edwards_anderson_bonds(disorder, dim):
    model = Ising.edwards_anderson(4, dim, disorder=disorder, seed=1)
    assert model.n_edges == dim * 4**dim
    w = model.edges()[2]
    if disorder == "pm":
        assert set(np.unique(w)) == {-1.0, 1.0}
    else:
        assert len(np.unique(w)) == len(w)


@pytest.mark.parametrize(
    "J, h, message",
    [
        (np.array([[0, 1], [2, 0]]), None, "symmetric"),
        (np.array([[1, 0], [0, 0]]), None, "zero diagonal"),
        (np.array([[0, np.nan], [np.nan, 0]]), None, "NaN"),
        (np.array([[0, np.inf], [np.inf, 0]]), None, "NaN or infinity"),
        (np.zeros((2, 3)), None, "square"),
        (np.zeros((2, 2)), np.zeros(3), "shape"),
        (np.zeros((2, 2)), np.array([0.0, np.nan]), "NaN"),
    ],
)
def test_invalid_couplings_and_fields_are_rejected_with_a_clear_message(J, h, message):
    with pytest.raises(ValueError, match=message):
        Ising.from_dense(J, h)


def test_invalid_spins_and_sizes_are_rejected():
    model = Ising.lattice((3,))
    with pytest.raises(ValueError, match="only spins -1 and \\+1"):
        model.energy(np.array([0, 1, 1]))
    with pytest.raises(ValueError, match="shape"):
        model.energy(np.ones(4))
    with pytest.raises(ValueError, match=">= 1"):
        Ising.lattice((-3, 3))
    with pytest.raises(ValueError, match="1, 2 or 3"):
        Ising.lattice((2, 2, 2, 2))
    with pytest.raises(ValueError, match="site"):
        model.flip_energy_change(np.ones(3), 3)
    with pytest.raises(ValueError, match="dim must be 2 or 3"):
        Ising.edwards_anderson(4, 4)
    with pytest.raises(ValueError, match="disorder"):
        Ising.edwards_anderson(4, disorder="cauchy")


def test_model_file_round_trip_is_exact(tmp_path):
    for model in [
        Ising.lattice((4, 5), coupling=(1.0, 0.3), field=-0.2, periodic=(True, False)),
        Ising.sherrington_kirkpatrick(30, field=0.1, seed=3),
    ]:
        path = model.save(tmp_path / "model.npz")
        back = Ising.load(path)
        assert back == model
        assert back.name == model.name
        np.testing.assert_array_equal(back.couplings.data, model.couplings.data)
    assert not list(tmp_path.glob(".*.tmp")), "no temporary file is left behind"


def test_loading_a_file_that_is_not_a_model_says_so(tmp_path):
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match="header"):
        Ising.load(tmp_path / "other.npz")
    with pytest.raises(ValueError, match="no such file"):
        Ising.load(tmp_path / "missing.npz")


def test_model_arrays_are_read_only():
    model = Ising.lattice((3, 3))
    with pytest.raises(ValueError):
        model.fields[0] = 1.0
    with pytest.raises(ValueError):
        model.couplings.data[0] = 5.0


def test_sparse_input_is_accepted():
    J = sp.random(20, 20, density=0.2, random_state=1)
    J = J + J.T
    J.setdiag(0)
    model = Ising(J)
    np.testing.assert_allclose(model.to_dense()[0], J.toarray())


@pytest.mark.parametrize(
    ("shape", "coupling"),
    [((3, 3), 1.0), ((4, 5), (1.0, 0.5)), ((3, 4, 5), (1.0, -0.5, 2.0)), ((7,), -1.0), ((16, 16), 1.0)],
)
def test_periodic_lattices_built_row_by_row_equal_the_bond_list_construction(shape, coupling):
    """Periodic lattices with every side >= 3 build their CSR rows directly (a third of the
    memory); the matrix must be the one the checked constructor makes from the bond list."""
    from thermolearn.models.lattice import lattice_bonds
    from thermolearn.runs.checkpoint import model_fingerprint

    model = Ising.lattice(shape, coupling=coupling, field=0.25)
    n = int(np.prod(shape))
    states = np.random.default_rng(0).choice(np.array([-1, 1], dtype=np.int8), size=(5, n))
    # before the CSR is built (it is built on first use): energy from the geometry, the
    # fingerprint hashed block by block, the counts
    unbuilt = (model.energy(states), model_fingerprint(model), model.n_edges, model.is_ferromagnetic)
    assert model.couplings_from_geometry
    per_axis = np.broadcast_to(np.asarray(coupling, dtype=float), (len(shape),))
    rows, cols, vals = [], [], []
    for (i, j), J in zip(lattice_bonds(shape, (True,) * len(shape)), per_axis, strict=True):
        rows += [i, j]
        cols += [j, i]
        vals += [np.full(i.size, J)] * 2
    coo = sp.coo_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
    reference = Ising(coo.tocsr(), np.full(n, 0.25))
    for a, b in [
        (model.indptr, reference.indptr),
        (model.indices, reference.indices),
        (model.data, reference.data),
        (model.fields, reference.fields),
    ]:
        assert a.dtype == b.dtype and np.array_equal(a, b)
    assert not model.data.flags.writeable and not model.fields.flags.writeable
    assert model.geometry is not None and model.geometry.shape == tuple(shape)
    np.testing.assert_allclose(unbuilt[0], reference.energy(states), rtol=0, atol=1e-12 * n)
    assert unbuilt[1:] == (model_fingerprint(reference), reference.n_edges, reference.is_ferromagnetic)
    assert model_fingerprint(model) == unbuilt[1]  # and the same once built


@pytest.mark.parametrize("algorithm", ["metropolis", "heatbath", "metropolis-packed", "metropolis-msc"])
def test_a_large_lattice_run_never_builds_the_coupling_matrix(algorithm):
    """The lattice kernels read the geometry: at L = 4096 the CSR matrix alone is 1.2 GB."""
    from thermolearn.runs.sample import sample
    from thermolearn.samplers.lattice_kernels import build_plan

    model = Ising.lattice((64, 64))
    chains = 64 if algorithm == "metropolis-msc" else 1
    sample(model, algorithm, 2.3, sweeps=4, burn_in=2, n_chains=chains, seed=1, checkpoint=None, progress=False)
    assert model._csr is None  # noqa: SLF001 (the point of the test)
    # the plan read from the geometry is the one checked against the built matrix
    checked = Ising.lattice((6, 4, 3), coupling=(1.0, -0.5, 2.0), field=0.25)
    checked._built_from_geometry = False  # noqa: SLF001 (as if the matrix came from a file)
    checked.indptr  # noqa: B018 (builds it)
    a, b = build_plan(Ising.lattice((6, 4, 3), coupling=(1.0, -0.5, 2.0), field=0.25)), build_plan(checked)
    assert a is not None and b is not None
    for name in ("line_neighbours", "line_sets", "line_parity", "weights", "phi", "de"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert (a.shape, a.offset, a.tier) == (b.shape, b.offset, b.tier)
