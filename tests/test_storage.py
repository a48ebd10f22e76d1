"""Atomic writes: a file is complete or absent, never half-written; no pickle."""

import json

import numpy as np
import pytest

from thermolearn.storage import atomic_write, load_arrays, save_arrays, write_json_atomic


def test_failed_write_leaves_the_old_file_intact_and_no_temporary(tmp_path):
    target = tmp_path / "out.json"
    write_json_atomic(target, {"a": 1})

    def explode(handle):
        handle.write(b"partial")
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError):
        atomic_write(target, explode)
    assert json.loads(target.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_arrays_and_header_round_trip(tmp_path):
    arrays = {"x": np.arange(5, dtype=np.int8), "y": np.linspace(0, 1, 7)}
    save_arrays(tmp_path / "f.npz", arrays, {"name": "test", "n": 5})
    back, header = load_arrays(tmp_path / "f.npz")
    assert header == {"name": "test", "n": 5}
    for key in arrays:
        np.testing.assert_array_equal(back[key], arrays[key])
        assert back[key].dtype == arrays[key].dtype


def test_object_arrays_are_refused(tmp_path):
    with pytest.raises(TypeError, match="object"):
        save_arrays(tmp_path / "f.npz", {"x": np.array([{"a": 1}], dtype=object)}, {})


def test_json_refuses_nan_and_missing_folder(tmp_path):
    with pytest.raises(ValueError):
        write_json_atomic(tmp_path / "n.json", {"x": float("nan")})
    with pytest.raises(ValueError, match="does not exist"):
        write_json_atomic(tmp_path / "missing" / "n.json", {})
