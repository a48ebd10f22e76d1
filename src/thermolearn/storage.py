"""Files: arrays in ``.npz`` with a JSON header, written atomically, never pickled.

A file is either complete or absent: writes go to a temporary file in the same folder,
are flushed to disk, and are renamed over the target in one step.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

HEADER_KEY = "__header__"


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], object]) -> Path:
    """Call ``write(fileobj)`` on a temporary file, then rename it to ``path`` atomically."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(f"cannot write {target}: folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        # mkstemp creates the file private (0600); give it the permissions a plain open() would
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return target


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write(path, lambda handle: handle.write(text.encode("utf-8")))


def write_json_atomic(path: str | os.PathLike, data: Any) -> Path:
    """Write ``data`` as indented JSON to ``path`` atomically (NaN and inf are refused)."""
    text = json.dumps(data, indent=2, allow_nan=False, default=_json_default)
    return write_text_atomic(path, text + "\n")


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"cannot write {type(obj).__name__} to JSON")


def save_arrays(path: str | os.PathLike, arrays: Mapping[str, np.ndarray], header: Mapping[str, Any]) -> Path:
    """Save named arrays and a JSON-serialisable header to one ``.npz`` file, atomically."""
    if HEADER_KEY in arrays:
        raise ValueError(f"array name {HEADER_KEY!r} is reserved for the header")
    header_bytes = np.frombuffer(json.dumps(dict(header), default=_json_default).encode("utf-8"), dtype=np.uint8)
    payload: dict[str, Any] = {name: np.asarray(value) for name, value in arrays.items()}
    for name, value in payload.items():
        if value.dtype == object:
            raise TypeError(f"array {name!r} has dtype object; only numeric arrays can be saved")
    payload[HEADER_KEY] = header_bytes
    return atomic_write(path, lambda handle: np.savez(handle, **payload))


def load_arrays(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Load ``(arrays, header)`` from a file written by :func:`save_arrays` (no pickle)."""
    source = Path(path)
    if not source.is_file():
        raise ValueError(f"no such file: {source}")
    try:
        with np.load(source, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (OSError, ValueError) as exc:
        raise ValueError(f"{source} is not a thermolearn .npz file: {exc}") from None
    if HEADER_KEY not in arrays:
        raise ValueError(f"{source} has no JSON header; was it written by thermolearn?")
    header = json.loads(arrays.pop(HEADER_KEY).tobytes().decode("utf-8"))
    return arrays, header
