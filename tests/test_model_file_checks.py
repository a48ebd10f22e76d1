"""Model files and model construction refuse what they cannot represent (audit of the model files).

Each test crafts a file (or arguments) in ``tmp_path`` that an earlier version accepted with
wrong numbers or crashed on with an internal error, and checks the clear refusal.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from thermolearn import Ising
from thermolearn.cli.main import main
from thermolearn.learning.hebbian import store
from thermolearn.models.boltzmann import BoltzmannMachine
from thermolearn.models.edgelist import AmbiguousHeaderWarning
from thermolearn.models.hopfield import Hopfield
from thermolearn.models.qubo import QUBO
from thermolearn.runs.checkpoint import model_fingerprint
from thermolearn.storage import HEADER_KEY, FileFormatError, atomic_write, load_arrays, save_arrays


def _all_spins(n: int) -> np.ndarray:
    return np.array(list(itertools.product([-1, 1], repeat=n)), dtype=np.int8)


# ---------------------------------------------------------------------------- .npz containers
def _zip_of(path: Path, source: Path, compression: int) -> None:
    """The arrays and header of ``source`` rewritten into ``path`` with ``compression``."""
    arrays, header = load_arrays(source)
    members = [*arrays.items(), (HEADER_KEY, np.frombuffer(json.dumps(header).encode(), np.uint8))]
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, array in members:
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, array)
            archive.writestr(name + ".npy", buffer.getvalue())


def test_a_corrupt_lzma_member_is_a_file_format_error_naming_the_file(tmp_path):
    source = Ising.lattice((3, 3)).save(tmp_path / "model.npz")
    path = tmp_path / "corrupt_lzma.npz"
    _zip_of(path, source, zipfile.ZIP_LZMA)
    data = bytearray(path.read_bytes())
    start = data.find(b"PK\x03\x04")
    name_length = int.from_bytes(data[start + 26 : start + 28], "little")
    extra_length = int.from_bytes(data[start + 28 : start + 30], "little")
    payload = start + 30 + name_length + extra_length
    for k in range(payload + 8, payload + 40):  # inside the first member's compressed stream
        data[k] ^= 0x5A
    path.write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match="corrupt_lzma.npz.*damaged"):
        load_arrays(path)
    with pytest.raises(FileFormatError, match="corrupt_lzma.npz"):
        Ising.load(path)


def test_an_intact_lzma_file_still_loads(tmp_path):
    model = Ising.sherrington_kirkpatrick(6, seed=2)
    source = model.save(tmp_path / "model.npz")
    path = tmp_path / "lzma.npz"
    _zip_of(path, source, zipfile.ZIP_LZMA)
    assert Ising.load(path) == model


def test_a_member_marked_encrypted_is_refused_before_a_password_is_asked(tmp_path):
    source = Ising.lattice((3, 3)).save(tmp_path / "model.npz")
    path = tmp_path / "encrypted.npz"
    _zip_of(path, source, zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # local and central headers
        at = data.find(signature)
        while at >= 0:
            data[at + flag_offset] |= 0x1
            at = data.find(signature, at + 4)
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as archive:
        assert archive.infolist()[0].flag_bits & 0x1  # the crafted file really claims encryption
    with pytest.raises(FileFormatError, match="encrypted.npz.*encrypted"):
        load_arrays(path)


def test_atomic_write_gives_umask_permissions_without_setting_the_umask(tmp_path, monkeypatch):
    previous = os.umask(0o027)
    try:

        def no_umask(mask):
            raise AssertionError("atomic_write must not set the process umask (other threads share it)")

        monkeypatch.setattr(os, "umask", no_umask)
        target = atomic_write(tmp_path / "out.bin", lambda handle: handle.write(b"x"))
        monkeypatch.undo()
        assert (target.stat().st_mode & 0o777) == 0o640
    finally:
        os.umask(previous)


# ---------------------------------------------------------------------------- Ising construction
@pytest.mark.parametrize(
    "build",
    [
        lambda: Ising(np.zeros((0, 0))),
        lambda: Ising(sp.csr_array((0, 0))),
        lambda: Ising.from_qubo(np.zeros((0, 0))),
        lambda: QUBO(np.zeros((0, 0))),
    ],
)
def test_a_model_without_spins_is_refused(build):
    with pytest.raises(ValueError, match="at least one (spin|variable)"):
        build()


def test_an_empty_bqm_is_refused_as_a_model_and_still_sampled_by_the_dimod_samplers():
    dimod = pytest.importorskip("dimod")
    empty = dimod.BinaryQuadraticModel({}, {}, 1.5, "SPIN")
    with pytest.raises(ValueError, match="at least one spin"):
        Ising.from_bqm(empty)
    from thermolearn.dimod import SimulatedAnnealingSampler

    result = SimulatedAnnealingSampler().sample(empty, num_reads=2, seed=1)
    assert len(result) == 2 and np.all(result.record.energy == 1.5)


@pytest.mark.parametrize(
    "build",
    [
        lambda: Ising(np.array([[0.0, 1e308], [1e308, 0.0]])),
        lambda: Ising(np.array([[0.0, 1.0], [1.0, 0.0]]), [1e308, 1e308]),
        lambda: Ising.from_dense(np.array([[0.0, 1e308, 1e308], [1e308, 0.0, 0.0], [1e308, 0.0, 0.0]]) / 1.5),
        lambda: Ising.lattice((4, 4), coupling=1e308),
        lambda: Ising.lattice((4, 4), coupling=1e307, periodic=False),
        lambda: Ising.lattice((8, 8), field=1e307),
    ],
)
def test_couplings_whose_energy_scale_overflows_are_refused(build):
    with pytest.raises(ValueError, match="energy scale.*not finite"):
        build()


def test_a_model_file_with_overflowing_couplings_is_refused_naming_the_file(tmp_path):
    path = Ising(np.array([[0.0, 1.0], [1.0, 0.0]])).save(tmp_path / "huge.npz")
    arrays, header = load_arrays(path)
    arrays["couplings"] = np.full_like(arrays["couplings"], 1e308)
    save_arrays(path, arrays, header)
    with pytest.raises(FileFormatError, match="huge.npz.*energy scale"):
        Ising.load(path)


def test_large_but_finite_energy_scales_are_kept():
    model = Ising(np.array([[0.0, 1e300], [1e300, 0.0]]), [1e300, -1e300])
    assert np.isfinite(model.energy_scale())


def test_a_slightly_asymmetric_coupling_matrix_is_stored_symmetric():
    J = np.zeros((3, 3))
    J[1, 2] = J[2, 1] = 1e6
    J[0, 1], J[1, 0] = 1e-7, 1e-7 + 0.99e-6  # within the tolerance 1e-12 * max |J|
    model = Ising(J)
    dense = model.to_dense()[0]
    assert np.array_equal(dense, dense.T)
    assert dense[0, 1] == pytest.approx(0.5 * (J[0, 1] + J[1, 0]), rel=1e-15)
    s = _all_spins(3)
    i, j, w = model.edges()
    from_edges = -np.sum(w * s[:, i] * s[:, j], axis=1)
    np.testing.assert_allclose(model.energy(s), from_edges, rtol=0, atol=1e-9)
    flipped = s * np.array([-1, 1, 1], dtype=np.int8)
    np.testing.assert_allclose(model.flip_energy_change(s, 0), model.energy(flipped) - model.energy(s), atol=1e-9)
    Q, offset = model.to_qubo()
    x = (1 + s) // 2
    np.testing.assert_allclose(np.einsum("ki,ij,kj->k", x, Q.toarray(), x) + offset, model.energy(s), atol=1e-6)


def test_a_clearly_asymmetric_coupling_matrix_is_still_refused():
    with pytest.raises(ValueError, match="symmetric"):
        Ising(np.array([[0.0, 1.0], [2.0, 0.0]]))


def test_the_fingerprint_does_not_depend_on_the_index_dtype(tmp_path):
    built = Ising.sherrington_kirkpatrick(6, seed=4)  # scipy holds its indices as int32
    loaded = Ising.load(built.save(tmp_path / "sk.npz"))  # int64 from the file
    assert built.indices.dtype != loaded.indices.dtype
    assert model_fingerprint(built) == model_fingerprint(loaded)
    lattice = Ising.lattice((2, 3))
    assert model_fingerprint(lattice) == model_fingerprint(Ising.from_dense(lattice.to_dense()[0]))


# ---------------------------------------------------------------------------- Boltzmann machine files
_BM_HEADER = dict(format="thermolearn.BoltzmannMachine", version=1, n_visible=3, n_hidden=2, name="")


def _bm_arrays() -> dict[str, np.ndarray]:
    bm = BoltzmannMachine.random(3, 2, seed=1, bias_std=0.5)
    return dict(weights=np.array(bm.weights), biases=np.array(bm.biases), connectivity=bm.connectivity.astype(np.uint8))


def _without(table: dict, key: str) -> dict:
    return {k: v for k, v in table.items() if k != key}


BM_CRAFTED = {
    "missing n_visible": (lambda a: a, lambda h: _without(h, "n_visible"), "missing header entry 'n_visible'"),
    "fractional n_visible": (lambda a: a, lambda h: {**h, "n_visible": 2.9, "n_hidden": 2.1}, "'n_visible' must be"),
    "string n_visible": (lambda a: a, lambda h: {**h, "n_visible": "3"}, "'n_visible' must be"),
    "dict n_visible": (lambda a: a, lambda h: {**h, "n_visible": {"a": 1}}, "'n_visible' must be"),
    "negative n_visible": (lambda a: a, lambda h: {**h, "n_visible": -1, "n_hidden": 6}, "'n_visible' must be >= 0"),
    "string version": (lambda a: a, lambda h: {**h, "version": "1"}, "version"),
    "negative version": (lambda a: a, lambda h: {**h, "version": -5}, "version"),
    "newer version": (lambda a: a, lambda h: {**h, "version": 99}, "version"),
    "other format": (lambda a: a, lambda h: {**h, "format": "thermolearn.Ising"}, "not a Boltzmann machine"),
    "name not a string": (lambda a: a, lambda h: {**h, "name": 12345}, "'name'"),
    "nan weights": (lambda a: {**a, "weights": np.where(np.eye(5) == 0, np.nan, 0.0)}, lambda h: h, "NaN"),
    "complex weights": (lambda a: {**a, "weights": a["weights"].astype(complex)}, lambda h: h, "weights"),
    "bool weights": (lambda a: {**a, "weights": ~np.eye(5, dtype=bool)}, lambda h: h, "weights"),
    "flat connectivity": (lambda a: {**a, "connectivity": np.ones(25, np.uint8)}, lambda h: h, "connectivity"),
    "connectivity 7": (lambda a: {**a, "connectivity": np.full((5, 5), 7, np.uint8)}, lambda h: h, "connectivity"),
    "2d biases": (lambda a: {**a, "biases": np.zeros((5, 1))}, lambda h: h, "biases"),
    "unknown array": (lambda a: {**a, "junk": np.zeros(3)}, lambda h: h, "unexpected array"),
    "asymmetric weights": (
        lambda a: {**a, "weights": np.triu(np.ones((5, 5)), 1)},
        lambda h: h,
        "symmetric",
    ),
}


@pytest.mark.parametrize("label", sorted(BM_CRAFTED))
def test_a_crafted_boltzmann_machine_file_is_refused_naming_the_file(label, tmp_path):
    change_arrays, change_header, message = BM_CRAFTED[label]
    path = tmp_path / "crafted_bm.npz"
    save_arrays(path, change_arrays(_bm_arrays()), change_header(dict(_BM_HEADER)))
    with pytest.raises(FileFormatError, match="crafted_bm.npz") as caught:
        BoltzmannMachine.load(path)
    assert message in str(caught.value)


def test_a_saved_boltzmann_machine_still_round_trips(tmp_path):
    bm = BoltzmannMachine.random(3, 2, seed=1, bias_std=0.5, connectivity="semi-restricted", name="m")
    back = BoltzmannMachine.load(bm.save(tmp_path / "bm.npz"))
    assert back == bm and back.name == "m" and back.n_visible == 3


# ---------------------------------------------------------------------------- Hopfield headers
@pytest.mark.parametrize("key", ["format", "version", "n_neurons", "rule", "image_shape", "name"])
def test_hopfield_extra_header_keys_cannot_overwrite_its_own_entries(key, tmp_path):
    net = store(np.array([[1, -1, 1, -1], [1, 1, -1, -1]]))
    with pytest.raises(ValueError, match=f"'{key}'"):
        net.save(tmp_path / "net.npz", **{key: 7})
    assert not (tmp_path / "net.npz").exists()
    net.save(tmp_path / "net.npz", labels=["a", "b"])
    back = Hopfield.load(tmp_path / "net.npz")
    assert np.array_equal(back.couplings, net.couplings) and np.array_equal(back.biases, net.biases)


# ---------------------------------------------------------------------------- edge lists
def test_an_unweighted_first_line_that_is_header_or_edge_is_never_read_silently(tmp_path):
    path = tmp_path / "ambiguous.txt"
    path.write_text("5 3\n1 2\n2 3\n3 4\n")
    with pytest.warns(AmbiguousHeaderWarning, match="ambiguous.txt, line 1") as caught:
        model = Ising.from_edgelist(path)
    assert model.n_spins == 5 and model.n_edges == 3  # the documented rule: a header
    message = str(caught[0].message)
    assert "header" in message and "edge 5-3" in message and "weight" in message
    with warnings.catch_warnings():
        warnings.simplefilter("error", AmbiguousHeaderWarning)
        with pytest.raises(AmbiguousHeaderWarning):
            Ising.from_edgelist(path)


def test_the_command_line_shows_the_ambiguous_header_warning(tmp_path, capsys):
    path = tmp_path / "a.txt"
    path.write_text("5 3\n1 2\n2 3\n3 4\n")
    assert main(["exact", str(path), "-T", "1"]) == 0
    err = capsys.readouterr().err
    assert "warning" in err and "edge 5-3" in err


@pytest.mark.filterwarnings("error::thermolearn.models.edgelist.AmbiguousHeaderWarning")
def test_the_ambiguous_file_reads_either_way_once_disambiguated(tmp_path):
    header = tmp_path / "header.txt"
    header.write_text("5 3\n1 2 1\n2 3 1\n3 4 1\n")
    model = Ising.from_edgelist(header)
    assert model.n_spins == 5 and model.n_edges == 3
    edge = tmp_path / "edge.txt"
    edge.write_text("5 3 1\n1 2 1\n2 3 1\n3 4 1\n")
    model = Ising.from_edgelist(edge)
    assert model.n_spins == 5 and model.n_edges == 4 and model.to_dense()[0][4, 2] == 1.0
    moved = tmp_path / "moved.txt"
    moved.write_text("1 2\n5 3\n2 3\n3 4\n")
    assert Ising.from_edgelist(moved).n_edges == 4


@pytest.mark.parametrize(
    "text, n_spins, n_edges",
    [
        ("3 2\n1 2\n2 3\n", 3, 2),  # '3 2' as an edge repeats '2 3': a header
        ("4 3\n1 2\n2 3\n3 4\n", 4, 3),  # '4 3' as an edge repeats '3 4'
        ("4 4\n1 2\n2 3\n3 4\n4 1\n", 4, 4),  # '4 4' would be a self-loop
        ("1 2\n2 3\n3 1\n", 3, 3),  # '1 2' cannot be a header for endpoints up to 3
        ("5 2\n1 2\n2 3\n3 4\n", 5, 4),  # m = 2 does not count the 3 lines after it: an edge
    ],
)
@pytest.mark.filterwarnings("error::thermolearn.models.edgelist.AmbiguousHeaderWarning")
def test_unambiguous_unweighted_files_read_as_before_without_a_warning(text, n_spins, n_edges, tmp_path):
    path = tmp_path / "edges.txt"
    path.write_text(text)
    model = Ising.from_edgelist(path)
    assert (model.n_spins, model.n_edges) == (n_spins, n_edges)


def test_a_zero_based_edge_list_counts_a_first_line_with_spin_0_as_a_possible_edge(tmp_path):
    path = tmp_path / "zero.txt"
    path.write_text("4 0\n")  # 1-based: a header (4 spins, no edges); 0-based: also the edge 4-0
    with warnings.catch_warnings():
        warnings.simplefilter("error", AmbiguousHeaderWarning)
        assert Ising.from_edgelist(path).n_spins == 4
    with pytest.warns(AmbiguousHeaderWarning, match="zero.txt.*edge 4-0"):
        assert Ising.from_edgelist(path, one_based=False).n_spins == 4


# ---------------------------------------------------------------------------- the command line
@pytest.mark.parametrize("flags", [["--coupling", "5"], ["--open"], ["--coupling", "1", "--open"]])
def test_lattice_options_given_with_a_model_file_are_refused(flags, tmp_path, capsys):
    path = tmp_path / "path.txt"
    path.write_text("1 2\n2 3\n")
    code = main(["exact", str(path), "-T", "1", *flags])
    err = capsys.readouterr().err
    assert code == 2
    assert "--lattice only" in err and flags[0] in err


def test_lattice_options_keep_their_defaults_for_a_lattice(tmp_path, capsys):
    for argv, expected in (
        ([], Ising.lattice((3, 3))),
        (["--coupling", "0.5", "--open"], Ising.lattice((3, 3), 0.5, periodic=False)),
    ):
        out = tmp_path / "r.json"
        assert main(["exact", "--lattice", "3x3", "-T", "1", "--json", str(out), *argv]) == 0
        capsys.readouterr()
        log_z = json.loads(out.read_text())["results"][0]["log_z"]
        s = _all_spins(9)
        assert log_z == pytest.approx(np.log(np.sum(np.exp(-expected.energy(s)))), rel=1e-12)


def test_clamping_every_p_bit_is_refused_by_name():
    from thermolearn.pbits.clamping import clamp

    model = Ising(np.array([[0.0, 1.0], [1.0, 0.0]]))
    with pytest.raises(ValueError, match="every p-bit is clamped"):
        clamp(model, {0: 1, 1: -1})
