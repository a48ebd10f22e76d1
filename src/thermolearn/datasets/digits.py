"""scikit-learn's digits: 1,797 images of 8 x 8 pixels with 17 grey levels (0 to 16).

The images ship inside scikit-learn (no download); it is an optional dependency, asked for
only when the digits are.
"""

from __future__ import annotations

from typing import Literal, overload

import numpy as np

DIGITS_LEVELS = 17
"""Grey levels of the digits: integers 0..16."""


@overload
def load_digits(*, return_labels: Literal[False] = ...) -> np.ndarray: ...
@overload
def load_digits(*, return_labels: Literal[True]) -> tuple[np.ndarray, np.ndarray]: ...
@overload
def load_digits(*, return_labels: bool) -> np.ndarray | tuple[np.ndarray, np.ndarray]: ...
def load_digits(*, return_labels: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """The 1,797 digits as a float64 array ``(1797, 64)`` of integers 0..16 (and the labels)."""
    table = _read_shipped_table()
    if table is None:
        try:
            from sklearn.datasets import load_digits as _sk_load_digits
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("the digits data set ships with scikit-learn: pip install scikit-learn") from exc
        bunch = _sk_load_digits()
        images, labels = np.asarray(bunch.data, dtype=np.float64), np.asarray(bunch.target, dtype=np.int64)
    else:
        images, labels = table[:, :-1], table[:, -1].astype(np.int64)
    if return_labels:
        return images, labels
    return images


def _read_shipped_table() -> np.ndarray | None:
    """scikit-learn's own file of the digits (64 pixels and the label per row), read without
    importing scikit-learn (about 2 s of imports, paid by every command that only wants the
    images); None where the file is not where this scikit-learn keeps it."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("sklearn")  # finds the package without running it
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / "digits.csv.gz"
    if not path.is_file():
        return None
    table = np.loadtxt(path, delimiter=",", dtype=np.float64)
    if table.shape != (1797, 65) or not np.all((table[:, :-1] >= 0) & (table[:, :-1] < DIGITS_LEVELS)):
        return None  # another layout: let scikit-learn read it
    return table
