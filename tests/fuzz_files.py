"""Damaged and crafted files for the fuzz suites: every way a ``.npz`` (or a text input) can lie.

Seeds are valid files written by the library's own ``save`` functions; the functions here copy
them with one fault each (truncated, bit-flipped, empty, foreign, a header of the wrong JSON
type, a missing array or key, an object array, a declared shape the bytes do not hold).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from thermolearn.storage import HEADER_KEY, load_arrays


def write_npz(path: Path, arrays: dict[str, Any], header: Any = None, *, header_bytes: bytes | None = None) -> Path:
    """An ``.npz`` with ``arrays`` and a header given as JSON (``header``) or raw bytes; no checks."""
    payload = {name: np.asarray(value) for name, value in arrays.items()}
    if header_bytes is None and header is not None:
        header_bytes = json.dumps(header).encode("utf-8")
    if header_bytes is not None:
        payload[HEADER_KEY] = np.frombuffer(header_bytes, dtype=np.uint8)
    with open(path, "wb") as handle:
        np.savez(handle, **payload)  # np.savez pickles object arrays: exactly the fault we want
    return path


def npy_with_declared_shape(shape: tuple[int, ...], dtype: str = "<f8", payload: bytes = b"\0" * 8) -> bytes:
    """A ``.npy`` member whose header claims ``shape`` but whose body is only ``payload``."""
    header = f"{{'descr': '{dtype}', 'fortran_order': False, 'shape': {shape!r}, }}"
    header = header.ljust(118) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode("latin1") + payload


def replace_member(seed: Path, path: Path, name: str, member: bytes) -> Path:
    """Copy the zip ``seed`` to ``path`` with the member ``name`` (``NAME.npy``) replaced by raw bytes."""
    with zipfile.ZipFile(seed) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            if info.filename == f"{name}.npy":
                continue
            dst.writestr(info.filename, src.read(info.filename))
        dst.writestr(f"{name}.npy", member)
    return path


def _flip(data: bytes, positions: list[int]) -> bytes:
    buf = bytearray(data)
    for p in positions:
        buf[p % len(buf)] ^= 0x5A
    return bytes(buf)


def _seed_contents(seed: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Arrays and header of a seed; a plain NumPy ``.npz`` (user data, no header) has an empty one."""
    try:
        return load_arrays(seed)
    except ValueError:
        with np.load(seed, allow_pickle=False) as plain:
            return {name: plain[name] for name in plain.files}, {}


def _first_member_data_offset(seed: Path) -> int:
    """Where the bytes of the first member begin (past its local header, name and extra field):
    a flip there damages the array itself, not a zip field that readers may ignore."""
    with zipfile.ZipFile(seed) as archive:
        info = archive.infolist()[0]
    local = seed.read_bytes()[info.header_offset : info.header_offset + 30]
    name_length = int.from_bytes(local[26:28], "little")
    extra_length = int.from_bytes(local[28:30], "little")
    return info.header_offset + 30 + name_length + extra_length


def structural_damages(seed: Path) -> dict[str, Callable[[Path], Path]]:
    """Faults that the reader must catch whatever the file claims to be: ``name -> make(path)``."""
    data = seed.read_bytes()
    arrays, header = _seed_contents(seed)
    first = next(iter(arrays))

    def raw(content: bytes) -> Callable[[Path], Path]:
        def make(path: Path) -> Path:
            path.write_bytes(content)
            return path

        return make

    def with_header(value: Any = None, *, header_bytes: bytes | None = None, drop_header: bool = False):
        def make(path: Path) -> Path:
            if drop_header:
                return write_npz(path, arrays)
            return write_npz(path, arrays, value, header_bytes=header_bytes)

        return make

    def with_arrays(change: Callable[[dict], dict]):
        def make(path: Path) -> Path:
            return write_npz(path, change(dict(arrays)), header)

        return make

    def declared_shape(path: Path) -> Path:
        return replace_member(seed, path, first, npy_with_declared_shape((10**6, 10**6)))

    return {
        "empty": raw(b""),
        "truncated_half": raw(data[: len(data) // 2]),
        "truncated_tail": raw(data[:-7]),
        "bitflip_middle": raw(_flip(data, [len(data) // 2, len(data) // 2 + 1])),
        "bitflip_start": raw(_flip(data, [_first_member_data_offset(seed) + k for k in (0, 9, 10)])),
        "text_named_npz": raw(b"this is a text file\n1 2 3\n"),
        "random_bytes": raw(np.random.default_rng(7).bytes(600)),
        "pickle_bytes": raw(b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00K\x01."),
        "header_list": with_header([1, 2, 3]),
        "header_string": with_header("a string"),
        "header_number": with_header(42),
        "header_null": with_header(header_bytes=b"null"),
        "header_not_json": with_header(header_bytes=b"{not json"),
        "header_not_utf8": with_header(header_bytes=b"\xff\xfe\x00{"),
        "header_missing": with_header(drop_header=True),
        "header_empty_object": with_header({}),
        "header_wrong_format": with_header({**header, "format": "something.else"}),
        "header_future_version": with_header({**header, "version": 999}),
        "header_version_string": with_header({**header, "version": "one"}),
        "array_missing": with_arrays(lambda a: {k: v for k, v in a.items() if k != first}),
        "no_arrays": with_arrays(lambda a: {}),
        "object_array": with_arrays(lambda a: {**a, first: np.array([{"x": 1}, None], dtype=object)}),
        "string_array": with_arrays(lambda a: {**a, first: np.array(["a", "b"])}),
        "declared_huge_shape": declared_shape,
    }


def content_damages(seed: Path, keys: list[str], arrays_to_break: list[str]) -> dict[str, Callable[[Path], Path]]:
    """Faults in what a loader must check itself: header ``keys`` missing or of the wrong type,
    arrays in ``arrays_to_break`` short, of the wrong dtype or holding NaN."""
    arrays, header = _seed_contents(seed)
    out: dict[str, Callable[[Path], Path]] = {}

    def make_with(new_arrays: dict, new_header: dict) -> Callable[[Path], Path]:
        return lambda path: write_npz(path, new_arrays, new_header)

    for key in keys:
        out[f"key_{key}_missing"] = make_with(arrays, {k: v for k, v in header.items() if k != key})
        out[f"key_{key}_string"] = make_with(arrays, {**header, key: "many"})
        out[f"key_{key}_list"] = make_with(arrays, {**header, key: [1, 2]})
        out[f"key_{key}_negative"] = make_with(arrays, {**header, key: -3})
    for name in arrays_to_break:
        a = arrays[name]
        out[f"array_{name}_short"] = make_with({**arrays, name: a.reshape(-1)[: max(a.size // 2, 1)]}, header)
        out[f"array_{name}_scalar"] = make_with({**arrays, name: np.array(1.0)}, header)
        out[f"array_{name}_complex"] = make_with({**arrays, name: a.astype(np.complex128) * 1j}, header)
        if a.dtype.kind == "f":
            bad = a.copy()
            bad.reshape(-1)[0] = np.nan
            out[f"array_{name}_nan"] = make_with({**arrays, name: bad}, header)
    return out
