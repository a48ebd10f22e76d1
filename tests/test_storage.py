"""Atomic writes: a file is complete or absent, never half-written; no pickle."""

import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from thermolearn.file_contents import FileContents
from thermolearn.resources import check_memory, format_bytes
from thermolearn.storage import (
    FileFormatError,
    atomic_write,
    load_arrays,
    remove_stale_temporaries,
    save_arrays,
    write_json_atomic,
)


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


# --- reading never trusts the file -------------------------------------------------------


def _good_file(tmp_path):
    path = tmp_path / "good.npz"
    save_arrays(path, {"w": np.arange(12, dtype=np.float64).reshape(3, 4), "s": np.array([1, -1], np.int8)}, {"n": 3})
    return path


@pytest.mark.parametrize(
    "damage",
    ["empty", "truncated", "half", "text", "flipped_header", "flipped_data", "npy_not_npz"],
)
def test_damaged_files_raise_file_format_error_naming_the_file(tmp_path, damage):
    good = _good_file(tmp_path)
    raw = good.read_bytes()
    bad = tmp_path / f"{damage}.npz"
    if damage == "empty":
        bad.write_bytes(b"")
    elif damage == "truncated":
        bad.write_bytes(raw[:-30])
    elif damage == "half":
        bad.write_bytes(raw[: len(raw) // 2])
    elif damage == "text":
        bad.write_text("1 2 3\n4 5 6\n")
    elif damage == "npy_not_npz":
        np.save(tmp_path / "a.npy", np.zeros(3))
        bad.write_bytes((tmp_path / "a.npy").read_bytes())
    else:
        # flip a byte inside the stored data of a member: the zip CRC no longer matches
        with zipfile.ZipFile(good) as archive:
            info = archive.getinfo("w.npy" if damage == "flipped_data" else "__header__.npy")
        offset = info.header_offset + 30 + len(info.filename) + len(info.extra) + info.file_size - 3
        flipped = bytearray(raw)
        flipped[offset] ^= 0xFF
        bad.write_bytes(bytes(flipped))
    with pytest.raises(FileFormatError, match=str(bad.name)):
        load_arrays(bad)


def test_header_must_be_a_json_object(tmp_path):
    for header_json, pattern in ((b"[1, 2]", "JSON object"), (b"\xff\xfe", "UTF-8 JSON"), (b"{", "UTF-8 JSON")):
        path = tmp_path / "h.npz"
        np.savez(path, __header__=np.frombuffer(header_json, dtype=np.uint8), x=np.zeros(2))
        with pytest.raises(FileFormatError, match=pattern):
            load_arrays(path)
    path = tmp_path / "none.npz"
    np.savez(path, x=np.zeros(2))
    with pytest.raises(FileFormatError, match="no JSON header"):
        load_arrays(path)


def test_object_arrays_in_a_crafted_file_are_refused_without_unpickling(tmp_path):
    path = tmp_path / "obj.npz"
    np.savez(path, __header__=np.frombuffer(b"{}", dtype=np.uint8), x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(FileFormatError, match="Python objects"):
        load_arrays(path)


def test_a_declared_shape_larger_than_the_bytes_is_refused_before_allocation(tmp_path):
    # an .npy header claiming 10**12 floats over 16 real bytes
    header = {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}
    member = tmp_path / "x.npy"
    with open(member, "wb") as handle:
        np.lib.format.write_array_header_1_0(handle, header)
        handle.write(b"\0" * 16)
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("__header__.npy", _npy_bytes(tmp_path, np.frombuffer(b"{}", dtype=np.uint8)))
        archive.write(member, "x.npy")
    with pytest.raises(FileFormatError, match="declares shape"):
        load_arrays(path)


def _npy_bytes(tmp_path, array):
    target = tmp_path / "tmp_member.npy"
    np.save(target, array)
    return target.read_bytes()


def test_missing_file_and_folder_are_named(tmp_path):
    with pytest.raises(FileFormatError, match="no such file"):
        load_arrays(tmp_path / "absent.npz")
    with pytest.raises(FileFormatError, match="is a folder"):
        load_arrays(tmp_path)


def test_writing_onto_a_folder_is_refused(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(ValueError, match="is a folder"):
        write_json_atomic(tmp_path / "d", {})


def test_stale_temporaries_of_dead_writers_are_removed_live_ones_kept(tmp_path):
    target = tmp_path / "out.json"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    stale = tmp_path / f".out.json.{dead_pid}.abc123.tmp"
    live = tmp_path / f".out.json.{os.getppid()}.def456.tmp"
    other = tmp_path / f".other.json.{dead_pid}.xyz.tmp"
    for p in (stale, live, other):
        p.write_text("partial")
    assert remove_stale_temporaries(target) == [stale]
    write_json_atomic(target, {"a": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["out.json", live.name, other.name])


def test_file_contents_checks_name_the_entry(tmp_path):
    contents = FileContents(
        tmp_path / "m.npz",
        {"w": np.ones((3, 4)), "s": np.array([1, -1, 1], np.int8), "nan": np.array([np.nan])},
        {"format": "x", "version": 1, "n": 3, "flag": True, "sub": {"k": 2.5}},
    )
    assert contents.expect_format("x", [1]) == 1
    assert contents.array("w", shape=(3, None)).shape == (3, 4)
    assert contents.array("s", kinds="i", shape=(3,), values=(-1, 1), dtype=np.int8).dtype == np.int8
    assert contents.value("n", int, minimum=1, maximum=3) == 3
    assert contents.value("k", float, within=contents.header["sub"]) == 2.5
    assert contents.value("absent", int, default=None) is None
    cases = [
        (lambda: contents.expect_format("y", [1]), "not a y file"),
        (lambda: contents.expect_format("x", [2]), "version 1"),
        (lambda: contents.expect_names(["w", "missing"]), "missing array"),
        (lambda: contents.expect_names(["w", "s"]), "unexpected array"),
        (lambda: contents.array("w", shape=(3, 5)), r"shape \(3, 5\), got \(3, 4\)"),
        (lambda: contents.array("w", ndim=1), "1-dimensional"),
        (lambda: contents.array("w", kinds="i"), "signed integers"),
        (lambda: contents.array("nan"), "NaN"),
        (lambda: contents.array("w", maximum=0.5), "<= 0.5"),
        (lambda: contents.array("s", kinds="i", values=(1,)), "only the values"),
        (lambda: contents.value("n", int, maximum=2), "<= 2"),
        (lambda: contents.value("flag", int), "must be a int"),
        (lambda: contents.value("n", str), "must be a str"),
        (lambda: contents.value("n", int, choices=[1, 2]), "one of"),
        (lambda: contents.value("absent", int), "missing header entry 'absent'"),
    ]
    for call, pattern in cases:
        with pytest.raises(FileFormatError, match=pattern) as info:
            call()
        assert "m.npz" in str(info.value)


def test_check_memory_refuses_with_the_estimate_and_what_is_available(monkeypatch):
    import thermolearn.resources as resources

    monkeypatch.setattr(resources, "available_memory_bytes", lambda: 2**30)
    check_memory("a small job", 2**20)
    with pytest.raises(ValueError, match=r"a big job needs about 2 GiB of memory and 1 GiB is available"):
        check_memory("a big job", 2**31)
    assert format_bytes(1536) == "1.5 KiB"
    assert format_bytes(float(2**80)) == "1.07e+09 PiB"


def test_the_memory_budget_respects_an_address_space_limit():
    """Under ``ulimit -v`` a job that fits in free memory but not in the limit is refused."""
    code = (
        "import resource\n"
        "from thermolearn.resources import available_memory_bytes, check_memory\n"
        "before = available_memory_bytes()\n"
        "size = int(open('/proc/self/status').read().split('VmSize:')[1].split()[0]) * 1024\n"
        "resource.setrlimit(resource.RLIMIT_AS, (size + 2**30, resource.RLIM_INFINITY))\n"
        "after = available_memory_bytes()\n"
        "assert after <= 2**30 < before, (before, after)\n"
        "try:\n"
        "    check_memory('a job', 2**31)\n"
        "except ValueError as exc:\n"
        "    assert 'memory' in str(exc)\n"
        "else:\n"
        "    raise SystemExit('not refused')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_complex_arrays_are_refused_not_cast_to_their_real_parts():
    from thermolearn.validation import check_finite_array

    with pytest.raises(TypeError, match="couplings must hold real numbers, got complex"):
        check_finite_array("couplings", np.array([1.0 + 2.0j]))
    assert check_finite_array("couplings", [1, 2]).dtype == np.float64
