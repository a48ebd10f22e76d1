"""Property-based fuzzing of everything that reads what a user or a file says.

Hypothesis generates edge-list texts, ``.npz`` files (valid members, damaged bytes, headers of
any JSON shape), and command-line values. The property in every case: the reader either returns
something that passes its own invariants, or raises a ``ValueError`` whose message names the
file (or the argument) -- never another exception, never a crash, never a silently wrong model.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import strategies as st

from tests.fuzz_files import npy_with_declared_shape, write_npz
from tests.search_budget import search_budget
from thermolearn import Ising
from thermolearn.storage import HEADER_KEY, FileFormatError, load_arrays

FUZZ = search_budget(120, suppress_health_check=[HealthCheck.function_scoped_fixture])

# ---------------------------------------------------------------------------- edge lists

numbers = st.one_of(
    st.integers(-3, 12).map(str),
    st.sampled_from(["1.5", "-0.5", "nan", "inf", "1e400", "2000000000", "0x10", "", "a", "1,2"]),
)
edge_lines = st.lists(numbers, min_size=0, max_size=4).map(" ".join)
edge_texts = st.lists(
    st.one_of(edge_lines, st.sampled_from(["# comment", "c comment", "", "   "])), min_size=0, max_size=12
).map("\n".join)


def _edges_of(text: str) -> list[tuple[int, int, float]]:
    """The edge lines of ``text`` as integers (those with 2 or 3 fields of plain numbers)."""
    out = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) in (2, 3):
            try:
                i, j = int(fields[0]), int(fields[1])
                w = float(fields[2]) if len(fields) == 3 else 1.0
            except ValueError:
                continue
            out.append((i, j, w))
    return out


@FUZZ
@given(text=edge_texts)
def test_an_edge_list_is_read_into_a_valid_model_or_refused_naming_the_file(text, tmp_path):
    path = tmp_path / "fuzz_edges.txt"
    path.write_text(text)
    try:
        model = Ising.from_edgelist(path)
    except ValueError as exc:
        assert "fuzz_edges.txt" in str(exc), str(exc)
        return
    j = model.couplings.toarray()
    assert model.n_spins >= 1
    assert np.array_equal(j, j.T) and not np.any(np.diag(j))
    assert np.all(np.isfinite(j)) and np.all(np.isfinite(model.fields))
    # every coupling the model holds comes from its own line of the file (none invented or merged)
    assert np.count_nonzero(np.triu(j, 1)) <= len(_edges_of(text))


@FUZZ
@given(n=st.integers(2, 7), data=st.data())
def test_an_edge_list_with_a_header_holds_exactly_the_edges_written(n, data, tmp_path):
    pairs = [(i, j) for i in range(1, n + 1) for j in range(i + 1, n + 1)]
    chosen = data.draw(st.lists(st.sampled_from(pairs), min_size=1, max_size=len(pairs), unique=True))
    weighted = data.draw(st.booleans())
    weights = data.draw(st.lists(st.integers(-3, 3).filter(bool), min_size=len(chosen), max_size=len(chosen)))
    lines = [f"{n} {len(chosen)}"]
    for (i, j), w in zip(chosen, weights):
        lines.append(f"{i} {j} {w}" if weighted else f"{i} {j}")
    path = tmp_path / "graph.txt"
    path.write_text("\n".join(lines) + "\n")
    model = Ising.from_edgelist(path)
    assert model.n_spins == n
    j = model.couplings.toarray()
    expected = np.zeros((n, n))
    for (a, b), w in zip(chosen, weights):
        expected[a - 1, b - 1] = expected[b - 1, a - 1] = w if weighted else 1.0
    assert np.array_equal(j, expected), "the header line was read as an edge, or an edge was lost"


# ---------------------------------------------------------------------------- .npz files

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False), st.text(max_size=8)),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def valid_model(tmp_path_factory) -> tuple[dict, dict]:
    path = tmp_path_factory.mktemp("valid") / "model.npz"
    Ising.lattice((3, 3), 1.0, 0.5).save(path)
    return load_arrays(path)


@FUZZ
@given(data=st.binary(max_size=400), cut=st.integers(0, 10**6), flips=st.lists(st.integers(0, 10**6), max_size=6))
# found by this test: bytes after the archive make zipfile seek to a negative offset (EINVAL), which
# up to 0.6.8 came out as a bare OSError instead of a FileFormatError
@example(data=b"\x00\x00\x00\x01\x00\x00", cut=10**6, flips=[])
def test_damaged_bytes_are_refused_with_a_file_format_error_naming_the_file(data, cut, flips, tmp_path, valid_model):
    arrays, header = valid_model
    seed = write_npz(tmp_path / "seed.npz", arrays, header).read_bytes()
    raw = bytearray(seed[: cut % (len(seed) + 1)] + data)
    for position in flips:
        if raw:
            raw[position % len(raw)] ^= 0xFF
    path = tmp_path / "damaged_model.npz"
    path.write_bytes(bytes(raw))
    try:
        model = Ising.load(path)
    except FileFormatError as exc:
        assert "damaged_model.npz" in str(exc)
        return
    # a damage the reader did not notice must have left a model equal to the original
    assert np.array_equal(model.couplings.toarray(), Ising.lattice((3, 3), 1.0, 0.5).couplings.toarray())
    assert np.array_equal(model.fields, np.full(9, 0.5))


@FUZZ
@given(header=json_values)
def test_any_json_header_is_refused_or_read_never_crashes(header, tmp_path, valid_model):
    arrays, _ = valid_model
    path = write_npz(tmp_path / "header_model.npz", arrays, header)
    try:
        model = Ising.load(path)
    except ValueError as exc:
        assert "header_model.npz" in str(exc)
        return
    assert model.n_spins == 9


@FUZZ
@given(
    header=st.dictionaries(
        st.sampled_from(["format", "version", "n_spins", "name", "geometry", "shape", "periodic", "couplings"]),
        json_values,
        max_size=6,
    )
)
def test_a_header_of_model_keys_with_any_values_is_refused_or_read_never_crashes(header, tmp_path, valid_model):
    arrays, valid_header = valid_model
    path = write_npz(tmp_path / "keys_model.npz", arrays, {**valid_header, **header})
    try:
        model = Ising.load(path)
    except ValueError as exc:
        assert "keys_model.npz" in str(exc)
        return
    j = model.couplings.toarray()
    assert np.array_equal(j, Ising.lattice((3, 3), 1.0, 0.5).couplings.toarray())


@FUZZ
@given(
    shape=st.lists(st.integers(0, 2**40), min_size=0, max_size=4).map(tuple),
    dtype=st.sampled_from(["<f8", "<i4", "|O", "<U3", "|V8"]),
)
def test_a_member_declaring_any_shape_is_checked_against_its_bytes(shape, dtype, tmp_path):
    path = tmp_path / "declared.npz"
    header = json.dumps({"format": "x"}).encode()
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.npy", npy_with_declared_shape(shape, dtype))
        archive.writestr(f"{HEADER_KEY}.npy", npy_with_declared_shape((len(header),), "|u1", header))
    try:
        arrays, _ = load_arrays(path)
    except FileFormatError as exc:
        assert "declared.npz" in str(exc)
        return
    assert arrays["a"].nbytes == 8  # only a shape that the 8 bytes really hold is read


# ---------------------------------------------------------------------------- argument values

texts = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        ["0", "-1", "1e400", "nan", "inf", "1:2:3", "1:2:0", "2:1:1e12", "4x4", "0x4", "1,,2", "1:2:1000000000000"]
    ),
)


@FUZZ
@given(tokens=st.lists(texts, min_size=1, max_size=3))
def test_temperature_arguments_parse_to_positive_finite_values_or_are_refused(tokens):
    from thermolearn.cli.arguments import parse_temperatures

    try:
        temps = parse_temperatures(tokens)
    except ValueError as exc:
        assert str(exc)
        return
    assert temps.ndim == 1 and temps.size >= 1
    assert np.all(np.isfinite(temps)) and np.all(temps > 0)


@FUZZ
@given(text=texts)
def test_lattice_arguments_parse_to_one_to_three_positive_sides_or_are_refused(text):
    from thermolearn.cli.arguments import parse_shape

    try:
        dims = parse_shape(text)
    except ValueError as exc:
        assert "lattice" in str(exc)
        return
    assert 1 <= len(dims) <= 3 and all(isinstance(d, int) and d >= 1 for d in dims)


@FUZZ
@given(text=texts)
def test_number_options_accept_only_what_they_promise(text):
    import argparse

    from thermolearn.cli.options import nonnegative_int, positive_float, positive_int, seed_value

    for parse, ok in (
        (positive_int, lambda v: isinstance(v, int) and v >= 1),
        (nonnegative_int, lambda v: isinstance(v, int) and v >= 0),
        (seed_value, lambda v: isinstance(v, int) and v >= 0),
        (positive_float, lambda v: np.isfinite(v) and v > 0),
    ):
        try:
            value = parse(text)
        except (argparse.ArgumentTypeError, ValueError):
            continue
        assert ok(value), (parse.__name__, text, value)


def test_the_property_tests_see_the_readers_they_claim(tmp_path):
    """A guard: the readers above are the ones the command line uses."""
    path = Path(tmp_path / "x.txt")
    path.write_text("1 2 1\n")
    assert Ising.from_edgelist(path).n_spins == 2
