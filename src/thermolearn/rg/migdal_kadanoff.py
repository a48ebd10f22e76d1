"""Migdal-Kadanoff bond moving on the d-dimensional hypercubic lattice (square, cubic).

To rescale lengths by b, the bonds of each b x b (x b) cell that are perpendicular to a
direction are moved onto the lines of the coarse lattice, so every coarse line carries
b^(d-1) times the coupling; then the chain of b bonds along it is decimated exactly
(tanh K' = tanh^b K, :mod:`thermolearn.rg.decimation`). The two orderings are

    move then decimate:   K' = atanh(tanh^b(b^(d-1) K)),
    decimate then move:   K' = b^(d-1) atanh(tanh^b K).

Both are approximations (exact only in d = 1); they share the thermal eigenvalue
lambda_T = dK'/dK at their fixed points K* (the fixed points differ by the factor b^(d-1),
since M(D(K)) and D(M(K)) are conjugate), with y_T = ln lambda_T / ln b and nu = 1 / y_T.
In d = 2 with b = 2 (move first) tanh K* = t solves t^4 + 2 t^2 - 4 t + 1 = 0: K* = 0.3047,
nu = 1.338 (exact Ising: K_c = 0.4407, nu = 1). K = J / T is dimensionless (k_B = 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import brentq

from thermolearn.resources import check_memory
from thermolearn.validation import check_finite_float, check_positive_int

__all__ = [
    "LATTICE_DIMENSIONS",
    "MKFixedPoint",
    "ORDERINGS",
    "mk_derivative",
    "mk_fixed_point",
    "mk_flow",
    "mk_recursion",
]

#: Lattice names accepted and their dimensions.
LATTICE_DIMENSIONS = {"square": 2, "cubic": 3}
#: The two orders of the Migdal-Kadanoff step.
ORDERINGS = ("move-then-decimate", "decimate-then-move")
_MAX_B = 64


def _check(lattice: str, b: int, ordering: str) -> tuple[int, int]:
    if lattice not in LATTICE_DIMENSIONS:
        raise ValueError(f"lattice must be one of {', '.join(LATTICE_DIMENSIONS)}, got {lattice!r}")
    b = check_positive_int("b", b, minimum=2)
    if b > _MAX_B:
        raise ValueError(f"b must be an integer from 2 to {_MAX_B}, got {b}")
    if ordering not in ORDERINGS:
        raise ValueError(f"ordering must be one of {', '.join(ORDERINGS)}, got {ordering!r}")
    return LATTICE_DIMENSIONS[lattice], b


def _log_tanh(x: np.ndarray) -> np.ndarray:
    """ln tanh x for x >= 0, accurate both for small x (tanh itself) and large x (log1p form)."""
    with np.errstate(divide="ignore"):
        small = np.log(np.tanh(np.minimum(x, 1.0)))
    e = np.exp(-2.0 * np.maximum(x, 1.0))
    large = np.log1p(-e) - np.log1p(e)
    return np.where(x < 1.0, small, large)


def _decimate(x: np.ndarray, b: int) -> np.ndarray:
    """atanh(tanh^b x) = (1/2) [ln(1 + tanh^b x) - ln(1 - tanh^b x)] for x >= 0, keeping the
    digits of 1 - tanh^b x when x is large (there it is 2b e^(-2x) to first order)."""
    lt = b * _log_tanh(x)
    u = np.exp(lt)
    with np.errstate(divide="ignore"):
        direct = np.log(-np.expm1(lt))
    # |lt| tiny: -lt = 2b atanh(e^(-2x)) exactly, and ln(-expm1(lt)) = ln(-lt) + lt/2 + O(lt^2)
    e = np.exp(-2.0 * np.maximum(x, 1.0))
    series = np.log(2.0 * b) - 2.0 * np.maximum(x, 1.0) + e * e / 3.0 + lt / 2.0
    log_one_minus = np.where((x >= 1.0) & (lt > -1e-8), series, direct)
    near_one = 0.5 * (np.log1p(u) - log_one_minus)
    return np.where(u < 0.5, np.arctanh(np.minimum(u, 0.5)), near_one)


def _decimate_derivative(x: np.ndarray, b: int) -> np.ndarray:
    """d/dx atanh(tanh^b x) = b tanh^(b-1) x sech^2 x / (1 - tanh^(2b) x) for x >= 0.

    With t = e^(-2x), A = atanh t = -(1/2) ln tanh x and L = 4 b A = -ln tanh^(2b) x this is
    tanh^(b-1) x (t / A) (L / (1 - e^(-L))) / (1 + t)^2: both ratios tend to 1 as x -> infinity
    (slope 1, the chain of b strong bonds is one strong bond) instead of the 0/0 of
    sech^2 x / (1 - tanh^(2b) x) once e^(-2x) underflows."""
    xs = np.maximum(x, 1e-300)  # x = 0 is set below; keep ln tanh finite there
    lt = _log_tanh(xs)
    t = np.exp(-2.0 * xs)
    # A from ln tanh (accurate as x -> 0, where t -> 1) or from t itself (exact as x -> infinity)
    big_a = np.where(xs < 1.0, -0.5 * lt, np.arctanh(np.minimum(t, 0.5)))
    # t / atanh t = 1 - t^2/3 - 4 t^4/45 - ...: the series to rounding below 1e-4 (and at t = 0)
    t_over_a = np.where(t < 1e-4, 1.0 - t * t / 3.0, t / np.where(t < 1e-4, 1.0, big_a))
    ell = 4.0 * b * big_a
    # L / (1 - e^(-L)) = 1 + L/2 + L^2/12 + ...: the series to rounding below 1e-8 (and at L = 0)
    safe_ell = np.where(ell < 1e-8, 1.0, ell)
    ell_ratio = np.where(ell < 1e-8, 1.0 + 0.5 * ell, safe_ell / -np.expm1(-safe_ell))
    value = np.exp((b - 1) * lt) * t_over_a * ell_ratio / (1.0 + t) ** 2
    return np.where(x > 0, value, 0.0 if b > 1 else 1.0)


def _as_couplings(couplings: ArrayLike) -> np.ndarray:
    k = np.asarray(couplings, dtype=np.float64)
    if not np.all(np.isfinite(k)) or np.any(k < 0):
        raise ValueError("couplings must be finite and >= 0 (ferromagnetic K = J / T)")
    return k


def mk_recursion(couplings: ArrayLike, lattice: str = "square", b: int = 2, ordering: str = ORDERINGS[0]) -> Any:
    """One Migdal-Kadanoff step K -> K' (elementwise; float for a scalar, else an array).

    ``ordering`` 'move-then-decimate': atanh(tanh^b(b^(d-1) K)); 'decimate-then-move':
    b^(d-1) atanh(tanh^b K). K >= 0."""
    d, b = _check(lattice, b, ordering)
    k = _as_couplings(couplings)
    moved = float(b ** (d - 1))
    out = _decimate(moved * k, b) if ordering == ORDERINGS[0] else moved * _decimate(k, b)
    return float(out) if out.ndim == 0 else out


def mk_derivative(couplings: ArrayLike, lattice: str = "square", b: int = 2, ordering: str = ORDERINGS[0]) -> Any:
    """dK'/dK of :func:`mk_recursion` (analytic), elementwise."""
    d, b = _check(lattice, b, ordering)
    k = _as_couplings(couplings)
    moved = float(b ** (d - 1))
    x = moved * k if ordering == ORDERINGS[0] else k
    out = moved * _decimate_derivative(x, b)
    return float(out) if out.ndim == 0 else out


@dataclass(frozen=True)
class MKFixedPoint:
    """The non-trivial fixed point of a Migdal-Kadanoff recursion and its thermal exponent.

    ``fixed_point``: K*; ``thermal_eigenvalue``: lambda_T = dK'/dK at K*; ``y_t`` = ln lambda_T / ln b;
    ``nu`` = 1 / y_t (the correlation-length exponent of this approximation)."""

    lattice: str
    dimension: int
    b: int
    ordering: str
    fixed_point: float
    thermal_eigenvalue: float
    y_t: float
    nu: float

    def as_dict(self) -> dict[str, Any]:
        """The JSON record of ``thermolearn rg migdal-kadanoff``."""
        return {
            "lattice": self.lattice,
            "dimension": self.dimension,
            "b": self.b,
            "ordering": self.ordering,
            "fixed_point": self.fixed_point,
            "critical_temperature": 1.0 / self.fixed_point,
            "thermal_eigenvalue": self.thermal_eigenvalue,
            "y_t": self.y_t,
            "nu": self.nu,
        }


def mk_fixed_point(lattice: str = "square", b: int = 2, ordering: str = ORDERINGS[0]) -> MKFixedPoint:
    """K* with K'(K*) = K*, K* > 0, by Brent's method to rounding, and its eigenvalue.

    K' < K for small K (flow to the disordered fixed point K = 0) and K' > K for large K
    (flow to K = infinity), so the one crossing between them is bracketed."""
    d, b = _check(lattice, b, ordering)

    def excess(k: float) -> float:
        return float(mk_recursion(k, lattice, b, ordering)) - k

    lo, hi = 1e-6, 1.0
    while excess(hi) <= 0:
        hi *= 2.0
    k_star = float(brentq(excess, lo, hi, xtol=1e-16, rtol=4 * np.finfo(float).eps, maxiter=500))
    lam = float(mk_derivative(k_star, lattice, b, ordering))
    y_t = math.log(lam) / math.log(b)
    return MKFixedPoint(lattice, d, b, ordering, k_star, lam, y_t, 1.0 / y_t)


def mk_flow(
    start: float, lattice: str = "square", b: int = 2, ordering: str = ORDERINGS[0], *, steps: int = 10
) -> np.ndarray:
    """The trajectory K_0 = ``start``, K_1, ..., K_steps of the recursion (shape (steps + 1,));
    a coupling that overflows is kept as inf (the ordered fixed point)."""
    _check(lattice, b, ordering)
    k = check_finite_float("start", start)
    if k < 0:
        raise ValueError(f"start must be >= 0 (ferromagnetic K = J / T), got {k}")
    steps = check_positive_int("steps", steps, minimum=0)
    check_memory(f"a flow of {steps} steps", 8.0 * (steps + 1), hint="choose fewer steps")
    out = np.empty(steps + 1)
    out[0] = k
    for n in range(steps):
        prev = out[n]
        out[n + 1] = math.inf if not math.isfinite(prev) or prev > 1e300 else mk_recursion(prev, lattice, b, ordering)
    return out
