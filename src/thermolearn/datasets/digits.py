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
    try:
        from sklearn.datasets import load_digits as _sk_load_digits
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("the digits data set ships with scikit-learn: pip install scikit-learn") from exc
    bunch = _sk_load_digits()
    images = np.asarray(bunch.data, dtype=np.float64)
    if return_labels:
        return images, np.asarray(bunch.target, dtype=np.int64)
    return images
