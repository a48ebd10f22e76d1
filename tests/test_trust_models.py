"""Model files and edge lists are never trusted: crafted content is refused naming the file, a
lattice geometry must agree with J and h, Gset headers are read by one rule, huge sizes are
refused before they are allocated, and the exact answers stay finite at extreme temperatures."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from tests.brute_force import all_states, brute_force
from thermolearn import Ising, MaxCut
from thermolearn.exact import solve
from thermolearn.models.hopfield import Hopfield
from thermolearn.storage import HEADER_KEY, FileFormatError, load_arrays


def _write(path, arrays, header) -> None:
    payload = {k: np.asarray(v) for k, v in arrays.items()}
    payload[HEADER_KEY] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    with open(path, "wb") as handle:
        np.savez(handle, **payload)


def _crafted(tmp_path, seed_model, change, name="crafted.npz"):
    seed = tmp_path / "seed.npz"
    seed_model.save(seed)
    arrays, header = load_arrays(seed)
    arrays, header = change(dict(arrays), header)
    path = tmp_path / name
    _write(path, arrays, header)
    return path


# ---------------------------------------------------------------------------- Ising files
ISING_CRAFTED = {
    "n_spins_float": lambda a, h: (a, {**h, "n_spins": 9.5}),
    "n_spins_missing": lambda a, h: (a, {k: v for k, v in h.items() if k != "n_spins"}),
    "n_spins_huge": lambda a, h: (a, {**h, "n_spins": 2 * 10**9}),
    "version_string": lambda a, h: (a, {**h, "version": "one"}),
    "geometry_list": lambda a, h: (a, {**h, "geometry": [3, 3]}),
    "geometry_missing_shape": lambda a, h: (a, {**h, "geometry": {"kind": "hypercubic"}}),
    "geometry_periodic_string": lambda a, h: (a, {**h, "geometry": {**h["geometry"], "periodic": ["no", "no"]}}),
    "indices_float": lambda a, h: ({**a, "indices": a["indices"] + 0.5}, h),
    "indices_out_of_range": lambda a, h: ({**a, "indices": np.where(np.arange(a["indices"].size) == 0, 99, a["indices"])}, h),
    "indices_repeated_in_a_row": lambda a, h: ({**a, "indices": np.r_[a["indices"][1], a["indices"][1:]]}, h),
    "indptr_decreasing": lambda a, h: ({**a, "indptr": a["indptr"][::-1].copy()}, h),
    "couplings_complex": lambda a, h: ({**a, "couplings": a["couplings"].astype(complex) * (1 + 1j)}, h),
    "fields_short": lambda a, h: ({**a, "fields": a["fields"][:-1]}, h),
    "array_missing": lambda a, h: ({k: v for k, v in a.items() if k != "indptr"}, h),
    "array_extra": lambda a, h: ({**a, "extra": np.zeros(2)}, h),
}  # fmt: skip


@pytest.mark.parametrize("label", sorted(ISING_CRAFTED))
def test_a_crafted_ising_file_is_refused_naming_the_file(tmp_path, label):
    path = _crafted(tmp_path, Ising.lattice((3, 3)), ISING_CRAFTED[label], name=f"bad_{label}.npz")
    with pytest.raises(FileFormatError, match=f"bad_{label}.npz"):
        Ising.load(path)


def test_a_saved_model_round_trips_through_the_checks(tmp_path):
    for model in (Ising.lattice((3, 4), 0.7, 0.2, periodic=(True, False)), Ising.sherrington_kirkpatrick(7)):
        model.save(tmp_path / "m.npz")
        assert Ising.load(tmp_path / "m.npz") == model


# ---------------------------------------------------------------------------- geometry against J and h
def test_a_header_geometry_that_disagrees_with_the_couplings_is_refused(tmp_path):
    doubled = _crafted(tmp_path, Ising.lattice((4, 4)), lambda a, h: ({**a, "couplings": 2 * a["couplings"]}, h))
    with pytest.raises(FileFormatError, match="crafted.npz.*disagree"):
        Ising.load(doubled)
    fields = _crafted(tmp_path, Ising.lattice((4, 4)), lambda a, h: ({**a, "fields": a["fields"] + 0.5}, h))
    with pytest.raises(FileFormatError, match="crafted.npz.*field"):
        Ising.load(fields)


def test_a_wrong_geometry_is_refused_by_the_constructor_too():
    real = Ising.lattice((4, 4), coupling=2.0)
    claimed = Ising.lattice((4, 4)).geometry
    with pytest.raises(ValueError, match="disagree"):
        Ising(real.couplings, real.fields, geometry=claimed)


@pytest.mark.parametrize("shape, periodic", [((4, 4), True), ((2, 4), True), ((3, 4), False), ((5,), True)])
def test_a_verified_geometry_gives_the_brute_force_log_z(tmp_path, shape, periodic):
    model = Ising.lattice(shape, coupling=(0.8, 1.3)[: len(shape)], field=0.0 if periodic else 0.3, periodic=periodic)
    model.save(tmp_path / "m.npz")
    loaded = Ising.load(tmp_path / "m.npz")
    [result] = solve(loaded, 1.7)
    assert result.log_z == pytest.approx(brute_force(model, 1.7)["log_z"], rel=1e-10)


def test_the_lattice_constructor_refuses_flags_that_are_not_booleans():
    with pytest.raises(TypeError, match="periodic"):
        Ising.lattice((4, 4), periodic="no")
    with pytest.raises(TypeError, match="periodic"):
        Ising.lattice((4, 4), periodic=(True, 0))


def test_complex_couplings_and_fields_are_refused_not_cast():
    J = np.array([[0, 1 + 1j], [1 + 1j, 0]])
    with pytest.raises(TypeError, match="real"):
        Ising(J)
    with pytest.raises(TypeError, match="real"):
        Ising(np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([1j, 0]))


# ---------------------------------------------------------------------------- edge lists
def _max_cut(problem: MaxCut) -> float:
    return float(np.max(problem.cut_value(all_states(problem.model.n_spins))))


def test_an_unweighted_gset_header_is_not_read_as_an_edge(tmp_path):
    path = tmp_path / "path.txt"
    path.write_text("3 2\n1 2\n2 3\n")
    problem = MaxCut.from_edgelist(path)
    assert problem.model.n_spins == 3 and problem.model.n_edges == 2
    assert _max_cut(problem) == 2.0


def test_a_first_line_that_cannot_be_a_header_is_an_edge(tmp_path):
    path = tmp_path / "triangle.txt"
    path.write_text("1 2\n2 3\n3 1\n")  # '1 2' as a header would have 1 spin for endpoints up to 3
    assert Ising.from_edgelist(path).n_edges == 3


@pytest.mark.parametrize(
    "text, message",
    [
        ("3 3\n1 2 1\n2 1 1\n2 3 1\n", r"line 2: the edge 1-2 is given again on line 3"),
        ("1 2 1\n1 2 1\n", "given again"),
        ("1 1 1\n1 2 1\n", "line 1: self-loop"),
        ("0 1 1\n1 2 1\n", "line 1: edge endpoint 0 is below 1"),
        ("2 2\n1 3 1\n1 2 1\n", "line 2: edge endpoint 3 is out of range for 2 spins"),
        ("-3 2\n1 2 1\n2 3 1\n", "line 1: a header"),
        ("1 2\n2 3\n3 4 1\n", "line 3: every edge line must hold 2 fields"),
        ("1 99999999999999999999999 1\n", "out of range"),
    ],
)
def test_a_bad_edge_list_is_refused_naming_the_file_and_the_line(tmp_path, text, message):
    path = tmp_path / "bad_edges.txt"
    path.write_text(text)
    with pytest.raises(FileFormatError, match="bad_edges.txt") as caught:
        Ising.from_edgelist(path)
    assert re.search(message, str(caught.value))


def test_an_edge_list_that_is_not_utf8_names_the_file(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes(b"1 2 1\n\xff\xfe 3\n")
    with pytest.raises(FileFormatError, match="latin.txt.*UTF-8"):
        Ising.from_edgelist(path)


def test_an_edge_list_claiming_two_billion_spins_is_refused_from_an_estimate(tmp_path):
    path = tmp_path / "huge.txt"
    path.write_text("2000000000 2\n1 2 1\n2 3 1\n")
    with pytest.raises(ValueError, match="huge.txt.*memory"):
        Ising.from_edgelist(path)


def test_duplicate_edges_in_an_array_are_refused_naming_the_rows():
    with pytest.raises(ValueError, match="row 0.*given again on row 1"):
        Ising.from_edgelist(np.array([[0, 1, 1.0], [1, 0, 2.0]]))


# ---------------------------------------------------------------------------- huge sizes
def test_a_huge_lattice_is_refused_from_an_estimate():
    with pytest.raises(ValueError, match="100000x100000 lattice needs about"):
        Ising.lattice((100000, 100000))


def test_a_temperature_range_is_budgeted_before_it_is_made():
    from thermolearn.cli.arguments import parse_temperatures

    with pytest.raises(ValueError, match="temperature range.*memory"):
        parse_temperatures(["1:2:1000000000000"])
    assert parse_temperatures(["1:2:3"]).tolist() == [1.0, 1.5, 2.0]


def test_kaufman_on_a_huge_lattice_is_refused_from_an_estimate():
    from thermolearn.exact.kaufman import kaufman

    with pytest.raises(ValueError, match="Kaufman.*memory"):
        kaufman(10**11, 2.0)


def test_annealing_budgets_its_reads_and_ladders():
    from thermolearn.samplers.annealing import anneal

    model = Ising.lattice((3, 3))
    with pytest.raises(ValueError, match="reads.*memory"):
        anneal(model, 10, 10**12)
    with pytest.raises(ValueError, match="ladder of 1000000000000 temperatures"):
        anneal(model, 10, 2, algorithm="pt", temperatures=10**12)


@pytest.mark.parametrize("algorithm", ["sa", "pt"])
def test_annealing_with_progress_gives_the_same_reads(algorithm):
    from thermolearn.samplers.annealing import anneal

    model = Ising.edwards_anderson(5, seed=1)
    plain = anneal(model, 30, 21, seed=4, algorithm=algorithm, temperatures=3)
    counts: list[int] = []
    shown = anneal(model, 30, 21, seed=4, algorithm=algorithm, temperatures=3, progress=counts.append)
    assert np.array_equal(plain.states, shown.states)
    assert sum(counts) == 21 and len(counts) > 1


def test_hopfield_recall_bounds_the_number_of_recalls():
    from thermolearn.learning.hebbian import store
    from thermolearn.runs.recall import restoration_curve

    net = store(np.random.default_rng(0).choice(np.array([-1, 1], dtype=np.int8), size=(3, 16)))
    with pytest.raises(ValueError, match="trials"):
        restoration_curve(net, [0.1], trials=10**9)
    counts: list[int] = []
    restoration_curve(net, [0.1, 0.2], trials=2, progress=counts.append)
    assert sum(counts) == 2 * 3 * 2


# ---------------------------------------------------------------------------- exact answers at extreme T
@pytest.mark.parametrize(
    "model",
    [Ising.lattice((3, 3)), Ising.lattice((3, 3), field=0.5), Ising.sherrington_kirkpatrick(8), Ising.lattice((4, 4))],
    ids=["lattice", "field", "sk", "kaufman"],
)
@pytest.mark.parametrize("method", ["auto", "enumeration"])
def test_solve_at_a_tiny_temperature_gives_the_ground_state_answer(model, method):
    energies = np.atleast_1d(model.energy(all_states(model.n_spins)))
    ground = energies.min()
    degeneracy = int(np.sum(np.isclose(energies, ground, rtol=0, atol=1e-9)))
    for T in (1e-300, 1e-200, 1e-12):
        [r] = solve(model, T, method=method)
        assert r.specific_heat == 0.0
        assert r.energy == pytest.approx(ground, rel=1e-12)
        assert r.log_z == pytest.approx(-ground / T + np.log(degeneracy), rel=1e-12)


# ---------------------------------------------------------------------------- Hopfield files and patterns
HOPFIELD_CRAFTED = {
    "couplings_complex": lambda a, h: ({**a, "couplings": a["couplings"] * 1j}, h),
    "couplings_not_square": lambda a, h: ({**a, "couplings": a["couplings"][:, :-1]}, h),
    "biases_inf": lambda a, h: ({**a, "biases": np.r_[np.inf, a["biases"][1:]]}, h),
    "patterns_not_spins": lambda a, h: ({**a, "patterns": np.where(a["patterns"] > 0, 3, -1).astype(np.int8)}, h),
    "image_shape_string": lambda a, h: (a, {**h, "image_shape": "abc"}),
    "image_shape_mismatch": lambda a, h: (a, {**h, "image_shape": [3, 3]}),
    "rule_list": lambda a, h: (a, {**h, "rule": [1, 2]}),
    "n_neurons_missing": lambda a, h: (a, {k: v for k, v in h.items() if k != "n_neurons"}),
}


@pytest.mark.parametrize("label", sorted(HOPFIELD_CRAFTED))
def test_a_crafted_hopfield_file_is_refused_naming_the_file(tmp_path, label):
    from thermolearn.learning.hebbian import store

    xi = np.random.default_rng(0).choice(np.array([-1, 1], dtype=np.int8), size=(2, 16))
    net = store(xi, image_shape=(4, 4))
    path = _crafted(tmp_path, net, HOPFIELD_CRAFTED[label], name=f"net_{label}.npz")
    with pytest.raises(FileFormatError, match=f"net_{label}.npz"):
        Hopfield.load(path)


@pytest.mark.parametrize(
    "name, make",
    [
        ("complex.npy", lambda p: np.save(p, np.ones((2, 4), dtype=complex))),
        ("object.npy", lambda p: np.save(p, np.array([[1, -1], None], dtype=object), allow_pickle=True)),
        ("ragged.txt", lambda p: p.write_text("1 -1 1\n1 -1\n")),
        ("empty.txt", lambda p: p.write_text("")),
        ("values.txt", lambda p: p.write_text("1 0.5 -1\n1 -1 1\n")),
        ("not_a_zip.npz", lambda p: p.write_text("not a zip")),
        ("two.npz", lambda p: np.savez(p, a=np.ones((2, 4)), b=np.ones((2, 4)))),
    ],
)
def test_a_bad_pattern_file_is_refused_naming_the_file(tmp_path, name, make):
    from thermolearn.learning.hebbian import load_patterns

    make(tmp_path / name)
    with pytest.raises(ValueError, match=name.replace(".", r"\.")):
        load_patterns(tmp_path / name)


def test_a_pattern_file_declaring_a_huge_shape_is_refused_before_reading(tmp_path):
    from thermolearn.learning.hebbian import load_patterns

    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000), }".ljust(118) + "\n"
    body = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode("latin1") + b"\0" * 8
    (tmp_path / "huge.npy").write_bytes(body)
    with pytest.raises(FileFormatError, match="huge.npy.*declares shape"):
        load_patterns(tmp_path / "huge.npy")


def test_plain_and_network_pattern_files_are_read(tmp_path):
    from thermolearn.learning.hebbian import load_patterns, store

    xi = np.random.default_rng(1).choice(np.array([-1, 1], dtype=np.int8), size=(3, 9))
    np.savez(tmp_path / "plain.npz", patterns=xi)
    np.save(tmp_path / "plain.npy", xi.astype(np.float64))
    np.savetxt(tmp_path / "plain.txt", xi, fmt="%d")
    store(xi).save(tmp_path / "net.npz")
    for name in ("plain.npz", "plain.npy", "plain.txt", "net.npz"):
        assert np.array_equal(load_patterns(tmp_path / name), xi), name


# ---------------------------------------------------------------------------- meanfield's stand-in
def test_the_meanfield_stand_in_has_the_same_per_spin_answers():
    from thermolearn.cli.meanfield_command import symmetric_stand_in
    from thermolearn.variational.belief_propagation import belief_propagation
    from thermolearn.variational.mean_field import mean_field

    model = Ising.lattice((8, 12), coupling=0.9, field=0.05)
    small = symmetric_stand_in(model)
    assert small is not None and small.geometry.shape == (4, 4)
    assert symmetric_stand_in(Ising.lattice((8, 8), periodic=False)) is None
    assert symmetric_stand_in(Ising.lattice((9, 8))) is None
    for T in (1.0, 3.0, 3.6, 5.0):
        a = mean_field(model, T, starts=("up",), n_random=0, stability=False).best
        b = mean_field(small, T, starts=("up",), n_random=0, stability=False).best
        assert a.magnetization_per_spin == pytest.approx(b.magnetization_per_spin, abs=1e-14)
        assert (a.iterations, a.converged) == (b.iterations, b.converged)
        p = belief_propagation(model, T, init="up", tol=1e-9)
        q = belief_propagation(small, T, init="up", tol=1e-9)
        assert p.magnetization_per_spin == pytest.approx(q.magnetization_per_spin, abs=1e-14)
        assert (p.iterations, p.converged) == (q.iterations, q.converged)
