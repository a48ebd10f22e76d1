"""Shared pieces of the variational methods: argument checks, stable special functions,
JSON-safe scalars and the error raised on request when a solver did not converge."""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

import numpy as np

from thermolearn.models.ising import Ising, check_ising_model
from thermolearn.validation import check_positive_int


class ConvergenceError(RuntimeError):
    """A fixed-point iteration stopped without meeting its tolerance (raised on request only)."""


def check_model(model: object) -> Ising:
    """Return ``model`` if it is a :class:`thermolearn.Ising`, else raise TypeError."""
    return check_ising_model(model)


def check_damping(damping: object) -> float:
    """A damping factor a in (0, 1]: the new iterate is (1 - a) old + a proposed."""
    if isinstance(damping, bool) or not isinstance(damping, Real):
        raise TypeError(f"damping must be a number in (0, 1], got {damping!r}")
    a = float(damping)
    if not (0.0 < a <= 1.0):
        raise ValueError(f"damping must be in (0, 1] (1 = no damping), got {a}")
    return a


def check_tolerance(tol: object, name: str = "tol") -> float:
    if isinstance(tol, bool) or not isinstance(tol, Real):
        raise TypeError(f"{name} must be a number > 0, got {tol!r}")
    t = float(tol)
    if not (t > 0.0 and math.isfinite(t)):
        raise ValueError(f"{name} must be a finite number > 0, got {t}")
    return t


def check_iterations(max_iter: object) -> int:
    return check_positive_int("max_iter", max_iter)


def log2cosh(x: np.ndarray | float) -> np.ndarray:
    """log(2 cosh x), without overflow at large |x|."""
    ax = np.abs(np.asarray(x, dtype=np.float64))
    return ax + np.log1p(np.exp(-2.0 * ax))


def spin_entropy(m: np.ndarray | float) -> np.ndarray:
    """Entropy (nats) of one +-1 spin with mean m: H((1 + m)/2); 0 at m = +-1, log 2 at m = 0."""
    from scipy.special import entr

    m = np.clip(np.asarray(m, dtype=np.float64), -1.0, 1.0)
    return entr(0.5 * (1.0 + m)) + entr(0.5 * (1.0 - m))


def clean(x: Any) -> Any:
    """A JSON-safe scalar: NaN and infinities become None, numpy scalars plain Python."""
    if x is None:
        return None
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (Integral,)):
        return int(x)
    x = float(x)
    return x if math.isfinite(x) else None
