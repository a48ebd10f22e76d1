"""Argument checking shared by every layer: one place that says what is allowed.

Each check raises ``ValueError`` or ``TypeError`` with a message naming the argument, what
was wrong, and what is allowed; the command line turns these into one line on stderr.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
from numpy.typing import ArrayLike


def check_positive_int(name: str, value: object, *, minimum: int = 1) -> int:
    """Return ``value`` as an int, or raise if it is not an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def check_finite_float(name: str, value: object) -> float:
    """Return ``value`` as a float, or raise if it is not a finite real number."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a finite real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value}")
    return value


def check_positive_float(name: str, value: object) -> float:
    """A finite real number > 0."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a finite number > 0, got {value!r}")
    v = float(value)
    if not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {v}")
    return v


def check_temperature(value: object, name: str = "temperature") -> float:
    """Return a temperature T > 0 (units of the coupling, k_B = 1) as a float."""
    t = check_finite_float(name, value)
    if t <= 0.0:
        raise ValueError(f"{name} must be > 0 (units of the coupling, k_B = 1), got {t}")
    return t


def check_temperatures(values: ArrayLike, name: str = "temperatures") -> np.ndarray:
    """Return a 1D float array of temperatures, each > 0 and finite (units of the coupling, k_B = 1).

    Numbers only: a string ("2"), a bool (True read as T = 1) or a complex value (its imaginary
    part dropped with only a warning) is refused, as :func:`check_temperature` refuses them."""
    if isinstance(values, (str, bytes, bool, np.bool_)):
        raise TypeError(f"{name} must be numbers > 0, got {values!r}")
    raw = values if isinstance(values, np.ndarray) else np.asarray(values)
    if raw.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be real numbers > 0, got {raw.dtype} values ({values!r:.60})")
    arr = np.atleast_1d(np.asarray(raw, dtype=float))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1D list of numbers > 0, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        bad = arr[~(np.isfinite(arr) & (arr > 0))][0]
        raise ValueError(f"{name} must all be finite and > 0 (k_B = 1), got {bad}")
    return arr


def check_beta(value: object, name: str = "beta") -> float:
    """Return an inverse temperature beta > 0 as a float."""
    b = check_finite_float(name, value)
    if b <= 0.0:
        raise ValueError(f"{name} must be > 0 (beta = 1/T), got {b}")
    return b


def check_finite_array(name: str, value: ArrayLike, *, ndim: int | None = None) -> np.ndarray:
    """Return ``value`` as a float64 array with no NaN or infinity (and the given ndim).

    Complex values are refused (NumPy would drop their imaginary parts with only a warning).
    """
    raw = np.asarray(value) if not isinstance(value, np.ndarray) else value
    if raw.dtype.kind == "c":
        raise TypeError(f"{name} must hold real numbers, got complex values (dtype {raw.dtype})")
    try:
        arr = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of real numbers: {exc}") from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinity; only finite values are allowed")
    return arr


def check_spins(states: ArrayLike, n_spins: int, name: str = "states") -> np.ndarray:
    """Return spin states as an int8 array of shape (n_samples, n_spins), values in {-1, +1}.

    A single state of shape (n_spins,) is accepted and returned with a leading axis of 1.
    """
    arr = np.asarray(states)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(f"{name} must hold spins -1/+1 as numbers, got dtype {arr.dtype}")
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != n_spins:
        raise ValueError(f"{name} must have shape (n_samples, {n_spins}) or ({n_spins},), got {np.shape(states)}")
    if not np.all((arr == 1) | (arr == -1)):
        raise ValueError(f"{name} must contain only spins -1 and +1 (binary 0/1 units: use binary_to_spins)")
    return arr.astype(np.int8, copy=False)
