"""Time-series input for the estimators: one series or several chains as finite float arrays."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from thermolearn.validation import check_finite_array


def as_series(name: str, x: ArrayLike, *, min_samples: int = 2) -> np.ndarray:
    """A 1D time series of finite floats with at least ``min_samples`` entries."""
    arr = check_finite_array(name, x)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1D time series of shape (n_samples,), got shape {arr.shape}")
    if arr.size < min_samples:
        what = "is empty" if arr.size == 0 else f"has {arr.size} sample(s)"
        raise ValueError(f"{name} {what}; at least {min_samples} samples are needed")
    return arr


def as_chains(name: str, x: ArrayLike, *, min_samples: int = 2) -> np.ndarray:
    """One or more chains as a float array of shape (n_chains, n_samples)."""
    arr = check_finite_array(name, x)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be a series of shape (n_samples,) or chains of shape (n_chains, n_samples), "
            f"got shape {np.shape(x)}"
        )
    if arr.shape[0] == 0 or arr.shape[1] < min_samples:
        what = "empty" if arr.size == 0 else f"has {arr.shape[1]} sample(s) per chain"
        raise ValueError(f"{name} is {what}; at least {min_samples} samples per chain are needed")
    return arr
