"""What a loaded file must contain: named arrays and header values checked before use.

Every loader (models, checkpoints) reads a file through :class:`FileContents` and states what
it needs -- each array's dtype kind, exact shape, finiteness and range, each header value's
type and range. Anything else raises :class:`~thermolearn.storage.FileFormatError` naming the
file, the entry and what is allowed, so a crafted or damaged file can never reach a compiled
kernel that indexes arrays unchecked, nor give a number that is silently wrong.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np

from thermolearn.storage import FileFormatError, load_arrays

_KIND_NAMES = {"b": "booleans", "i": "signed integers", "u": "unsigned integers", "f": "floats", "c": "complex numbers"}

_MISSING = object()


def _finite_real(value: Real) -> bool:
    """Whether ``value`` is a finite number that a float can hold."""
    try:
        return math.isfinite(float(value))
    except OverflowError:  # JSON integers have no bound: 10**400 is valid JSON and no float
        return False


def _shown(value: Any) -> str:
    """``repr(value)``, cut to a readable length (a header value may be a 400-digit integer)."""
    try:
        text = repr(value)
    except ValueError:  # an integer beyond Python's digit limit for printing
        return "an integer too long to print"
    return text if len(text) <= 60 else text[:57] + "..."


class FileContents:
    """The arrays and header of one file, handed out only after they pass their checks.

    ``source`` names the file in every message.
    """

    def __init__(self, source: str | os.PathLike, arrays: Mapping[str, np.ndarray], header: Mapping[str, Any]):
        self.source = str(source)
        self.arrays = dict(arrays)
        self.header = dict(header)

    @classmethod
    def read(cls, path: str | os.PathLike) -> FileContents:
        """Load ``path`` (see :func:`~thermolearn.storage.load_arrays`) for checked access."""
        arrays, header = load_arrays(path)
        return cls(Path(path), arrays, header)

    def fail(self, message: str) -> FileFormatError:
        """An error naming the file: ``raise contents.fail("...")``."""
        return FileFormatError(f"{self.source}: {message}")

    def expect_format(self, name: str, versions: Iterable[int], *, key: str = "format", what: str = "") -> int:
        """Check ``header[key] == name`` and a known ``header["version"]``; returns the version."""
        found = self.header.get(key)
        if found != name:
            raise self.fail(f"not a {what or name} file ({key} {found!r}, expected {name!r})")
        allowed = sorted(versions)
        version = self.header.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or version not in allowed:
            raise self.fail(f"file version {version!r}; this thermolearn reads version {', '.join(map(str, allowed))}")
        return int(version)

    def expect_run(self, settings: dict, *, key: str = "run") -> None:
        """Check that the checkpoint was written by a run with these ``settings`` (``header[key]``);
        the error names the settings that differ. Both sides are compared as JSON (a tuple of the
        run equals the list the header holds)."""
        saved = json.loads(json.dumps(self.value(key, dict)))
        wanted = json.loads(json.dumps(settings))
        if saved != wanted:
            differ = sorted(k for k in set(saved) | set(wanted) if saved.get(k) != wanted.get(k))
            raise self.fail(
                f"checkpoint belongs to a different run (differs in: {', '.join(differ)}); "
                "delete it or choose another --checkpoint path"
            )

    def expect_names(self, required: Iterable[str], optional: Iterable[str] = ()) -> None:
        """Check that the file holds every ``required`` array and nothing beyond ``optional``."""
        required = list(required)
        missing = [name for name in required if name not in self.arrays]
        if missing:
            raise self.fail(f"missing array(s) {', '.join(map(repr, missing))}")
        known = set(required) | set(optional)
        extra = sorted(set(self.arrays) - known)
        if extra:
            raise self.fail(f"unexpected array(s) {', '.join(map(repr, extra))}; allowed: {', '.join(sorted(known))}")

    def has(self, name: str) -> bool:
        """Whether the file holds an array called ``name``."""
        return name in self.arrays

    def array(
        self,
        name: str,
        *,
        kinds: str = "f",
        shape: Sequence[int | None] | None = None,
        ndim: int | None = None,
        dtype: Any = None,
        finite: bool = True,
        minimum: float | None = None,
        maximum: float | None = None,
        values: Sequence[float] | None = None,
    ) -> np.ndarray:
        """The array ``name``, checked; cast to ``dtype`` (if given) after the checks.

        ``kinds``: allowed NumPy dtype kinds ("b" bool, "i" signed, "u" unsigned, "f" float);
        integers are also accepted where floats are asked for. ``shape``: exact dimensions, None
        for any length along that axis. ``minimum``/``maximum``: inclusive bounds on every
        element; ``values``: the only values allowed (spins: ``(-1, 1)``).
        """
        if name not in self.arrays:
            raise self.fail(f"missing array {name!r}")
        arr = np.asarray(self.arrays[name])
        label = f"array {name!r}"
        allowed = set(kinds) | ({"i", "u"} if "f" in kinds else set())
        if arr.dtype.kind not in allowed:
            names = " or ".join(_KIND_NAMES[k] for k in kinds)
            raise self.fail(f"{label} must hold {names}, got dtype {arr.dtype}")
        if shape is not None:
            want = tuple(shape)
            if arr.ndim != len(want) or any(w is not None and w != got for w, got in zip(want, arr.shape)):
                shown = (
                    "("
                    + ", ".join("any" if w is None else str(w) for w in want)
                    + ("," if len(want) == 1 else "")
                    + ")"
                )
                raise self.fail(f"{label} must have shape {shown}, got {arr.shape}")
        elif ndim is not None and arr.ndim != ndim:
            raise self.fail(f"{label} must be {ndim}-dimensional, got shape {arr.shape}")
        if arr.size:
            if finite and arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
                raise self.fail(f"{label} contains NaN or infinity; only finite values are allowed")
            if values is not None and not np.all(np.isin(arr, np.asarray(values))):
                raise self.fail(f"{label} may hold only the values {', '.join(map(str, values))}")
            if minimum is not None and np.min(arr) < minimum:
                raise self.fail(f"{label} must be >= {minimum}, got {np.min(arr)}")
            if maximum is not None and np.max(arr) > maximum:
                raise self.fail(f"{label} must be <= {maximum}, got {np.max(arr)}")
        if dtype is not None:
            arr = arr.astype(dtype, copy=False)
        return np.ascontiguousarray(arr).reshape(arr.shape)  # keeps 0-d arrays 0-d

    def value(
        self,
        key: str,
        kind: type | tuple[type, ...],
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        choices: Iterable[Any] | None = None,
        default: Any = _MISSING,
        within: Mapping[str, Any] | None = None,
        label: str | None = None,
    ) -> Any:
        """Header entry ``key`` (of ``within``, default the top-level header), type- and range-checked.

        ``kind``: ``int`` (not bool), ``float`` (finite; ints accepted), ``str``, ``bool``,
        ``dict``, ``list``. A missing key returns ``default`` if one is given.
        """
        table = self.header if within is None else within
        label = label or f"header entry {key!r}"
        if not isinstance(table, Mapping) or key not in table:
            if default is not _MISSING:
                return default
            raise self.fail(f"missing {label}")
        found = table[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        ok = False
        for k in kinds:
            if k is int:
                ok = ok or (isinstance(found, Integral) and not isinstance(found, bool))
            elif k is float:
                ok = ok or (isinstance(found, Real) and not isinstance(found, bool) and _finite_real(found))
            elif k is bool:
                ok = ok or isinstance(found, bool)
            else:
                ok = ok or isinstance(found, k)
        if not ok:
            names = " or ".join("finite number" if k is float else k.__name__ for k in kinds)
            raise self.fail(f"{label} must be a {names}, got {_shown(found)}"[:300])
        if choices is not None:
            options = list(choices)
            if found not in options:
                raise self.fail(f"{label} must be one of {', '.join(map(repr, options))}, got {_shown(found)}"[:300])
        if minimum is not None and found < minimum:
            raise self.fail(f"{label} must be >= {minimum}, got {_shown(found)}")
        if maximum is not None and found > maximum:
            raise self.fail(f"{label} must be <= {maximum}, got {_shown(found)}")
        return found
