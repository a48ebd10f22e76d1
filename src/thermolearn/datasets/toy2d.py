"""2D toy distributions: the Swiss roll of Sohl-Dickstein et al. (2015), two moons, a ring of Gaussians.

All three are standardised by fixed constants of the *distribution* (not of the sample):
centred on the population mean and divided by one number so that the average variance per
coordinate is 1. That is the paper's convention ("scaled by a constant to give them variance
1 before computing log likelihood"); densities and likelihood bounds are quoted in these
standardised coordinates. ``standardized=False`` gives the raw coordinates.

The Swiss roll and the mixture have exact log densities (:func:`swiss_roll_log_density`,
:func:`gaussian_mixture_log_density`), the ceiling any model's likelihood bound can reach.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import logsumexp

from thermolearn.randomness.seeds import SeedLike, numpy_generator
from thermolearn.validation import check_finite_array, check_positive_int

SWISS_ROLL_T_RANGE = (1.5 * math.pi, 4.5 * math.pi)
"""Roll parameter range: points (t cos t, t sin t), t uniform on [1.5 pi, 4.5 pi] (scikit-learn's roll)."""

SWISS_ROLL_NOISE = 0.05
"""Default isotropic Gaussian noise on the raw roll (the roll's radius runs from 4.7 to 14.1)."""

MOONS_NOISE = 0.05
"""Default isotropic Gaussian noise on the raw moons (each of radius 1)."""

_QUADRATURE_POINTS = 200_001


def _check_noise(noise: object, name: str = "noise") -> float:
    if isinstance(noise, bool) or not isinstance(noise, (int, float, np.floating, np.integer)):
        raise TypeError(f"{name} must be a number >= 0, got {noise!r}")
    noise = float(noise)
    if not math.isfinite(noise) or noise < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {noise}")
    return noise


# --- the Swiss roll -------------------------------------------------------------------------


def _roll_curve(t: np.ndarray) -> np.ndarray:
    return np.stack([t * np.cos(t), t * np.sin(t)], axis=-1)


@cache
def _curve_moments(kind: str) -> tuple[tuple[float, float], float]:
    """Mean and average per-coordinate variance of a noise-free curve (fine quadrature)."""
    if kind == "roll":
        t = np.linspace(*SWISS_ROLL_T_RANGE, _QUADRATURE_POINTS)
        pts = _roll_curve(t)
    elif kind == "moons":
        theta = np.linspace(0.0, math.pi, _QUADRATURE_POINTS)
        pts = np.concatenate([_moon_curves(theta, 0), _moon_curves(theta, 1)])
    else:  # pragma: no cover - internal
        raise ValueError(kind)
    w = np.ones(len(pts))
    if kind == "roll":
        w[0] = w[-1] = 0.5  # trapezoid weights for a uniform parameter
    else:
        half = len(pts) // 2
        w[0] = w[half - 1] = w[half] = w[-1] = 0.5
    w /= w.sum()
    mean = w @ pts
    var = float(np.mean(w @ (pts - mean) ** 2))
    return (float(mean[0]), float(mean[1])), var


def swiss_roll_standardization(noise: float = SWISS_ROLL_NOISE) -> tuple[np.ndarray, float]:
    """``(mean, scale)``: standardised x = (raw - mean) / scale has average variance 1 per coordinate."""
    noise = _check_noise(noise)
    mean, var = _curve_moments("roll")
    return np.array(mean), math.sqrt(var + noise**2)


def swiss_roll(n: int, *, noise: float = SWISS_ROLL_NOISE, standardized: bool = True, seed: SeedLike = 0) -> np.ndarray:
    """``n`` points of the 2D Swiss roll, shape ``(n, 2)``.

    Raw points are (t cos t, t sin t) + noise * N(0, I) with t uniform on [1.5 pi, 4.5 pi]
    (scikit-learn's ``make_swiss_roll`` projected on its two curled axes). Standardised (the
    default), they are centred and divided by one constant to unit variance per coordinate.
    """
    n = check_positive_int("n", n)
    noise = _check_noise(noise)
    rng = numpy_generator(seed)
    t = rng.uniform(*SWISS_ROLL_T_RANGE, size=n)
    x = _roll_curve(t) + noise * rng.standard_normal((n, 2))
    if standardized:
        mean, scale = swiss_roll_standardization(noise)
        x = (x - mean) / scale
    return x


def swiss_roll_log_density(
    x: ArrayLike, *, noise: float = SWISS_ROLL_NOISE, standardized: bool = True, quadrature_points: int = 40_001
) -> np.ndarray:
    """Exact log density (nats) of the Swiss roll at points ``x`` of shape ``(n, 2)``.

    p(x) = (1/(b-a)) * integral over t of N(x; c(t), noise^2 I) dt, by the trapezoid rule on a
    grid fine against the noise (the error is far below 1e-3 nats for noise >= 0.02). In
    standardised coordinates the density includes the Jacobian of the scaling.
    """
    noise = _check_noise(noise)
    if noise == 0.0:
        raise ValueError("the noise-free Swiss roll has no density in 2D; give noise > 0")
    pts = check_finite_array("x", x, ndim=2)
    if pts.shape[1] != 2:
        raise ValueError(f"x must have shape (n, 2), got {pts.shape}")
    quadrature_points = check_positive_int("quadrature_points", quadrature_points, minimum=3)
    a, b = SWISS_ROLL_T_RANGE
    t = np.linspace(a, b, quadrature_points)
    logw = np.full(quadrature_points, math.log((b - a) / (quadrature_points - 1)) - math.log(b - a))
    logw[[0, -1]] += math.log(0.5)
    curve = _roll_curve(t)
    if standardized:
        mean, scale = swiss_roll_standardization(noise)
        curve = (curve - mean) / scale
        sigma = noise / scale
    else:
        sigma = noise
    return _log_curve_density(pts, curve, logw, sigma)


def _log_curve_density(pts: np.ndarray, curve: np.ndarray, logw: np.ndarray, sigma: float) -> np.ndarray:
    out = np.empty(len(pts))
    chunk = max(1, 4_000_000 // len(curve))
    norm = -math.log(2 * math.pi * sigma**2)
    for start in range(0, len(pts), chunk):
        p = pts[start : start + chunk]
        d2 = np.maximum((p * p).sum(1)[:, None] + (curve * curve).sum(1)[None, :] - 2.0 * p @ curve.T, 0.0)
        out[start : start + chunk] = logsumexp(logw[None, :] - d2 / (2 * sigma**2), axis=1) + norm
    return out


# --- two moons ------------------------------------------------------------------------------


def _moon_curves(theta: np.ndarray, which: int) -> np.ndarray:
    if which == 0:
        return np.stack([np.cos(theta), np.sin(theta)], axis=-1)
    return np.stack([1.0 - np.cos(theta), 0.5 - np.sin(theta)], axis=-1)


def two_moons(n: int, *, noise: float = MOONS_NOISE, standardized: bool = True, seed: SeedLike = 0) -> np.ndarray:
    """``n`` points of two interleaved half circles (scikit-learn's moons), shape ``(n, 2)``.

    Each point picks a moon with probability 1/2 and an angle uniform on [0, pi]; noise is
    isotropic Gaussian. Standardised as the Swiss roll (centre, one scale to unit variance).
    """
    n = check_positive_int("n", n)
    noise = _check_noise(noise)
    rng = numpy_generator(seed)
    which = rng.integers(0, 2, size=n)
    theta = rng.uniform(0.0, math.pi, size=n)
    x = np.where(which[:, None] == 0, _moon_curves(theta, 0), _moon_curves(theta, 1))
    x = x + noise * rng.standard_normal((n, 2))
    if standardized:
        mean, var = _curve_moments("moons")
        x = (x - np.array(mean)) / math.sqrt(var + noise**2)
    return x


# --- a ring of Gaussians --------------------------------------------------------------------


def _mixture_means(n_components: int, radius: float) -> np.ndarray:
    angles = 2 * math.pi * np.arange(n_components) / n_components
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=-1)


def _mixture_scale(n_components: int, radius: float, std: float) -> float:
    means = _mixture_means(n_components, radius)
    centre = means.mean(axis=0)
    return math.sqrt(float(np.mean((means - centre) ** 2)) + std**2)


def gaussian_mixture(
    n: int,
    *,
    n_components: int = 8,
    radius: float = 4.0,
    std: float = 0.5,
    standardized: bool = True,
    seed: SeedLike = 0,
) -> np.ndarray:
    """``n`` points from ``n_components`` equal isotropic Gaussians (std ``std``) on a circle of ``radius``."""
    n = check_positive_int("n", n)
    n_components = check_positive_int("n_components", n_components)
    radius, std = _check_mixture(radius, std)
    rng = numpy_generator(seed)
    means = _mixture_means(n_components, radius)
    k = rng.integers(0, n_components, size=n)
    x = means[k] + std * rng.standard_normal((n, 2))
    if standardized:
        x = (x - means.mean(axis=0)) / _mixture_scale(n_components, radius, std)
    return x


def _check_mixture(radius: object, std: object) -> tuple[float, float]:
    """The circle's radius (>= 0) and the components' std (> 0), finite and of a size whose
    densities stay representable."""
    r, sd = _check_noise(radius, "radius"), _check_noise(std, "std")
    if sd == 0:
        raise ValueError("std must be > 0")
    if r > 1e100 or sd > 1e100 or sd < 1e-100:
        raise ValueError(f"radius and std must lie within 1e-100 .. 1e100, got radius {r:g}, std {sd:g}")
    return r, sd


def gaussian_mixture_log_density(
    x: ArrayLike, *, n_components: int = 8, radius: float = 4.0, std: float = 0.5, standardized: bool = True
) -> np.ndarray:
    """Exact log density (nats) of :func:`gaussian_mixture` at ``x`` (shape ``(n, 2)``)."""
    pts = check_finite_array("x", x, ndim=2)
    if pts.shape[1] != 2:
        raise ValueError(f"x must have shape (n, 2), got {pts.shape}")
    n_components = check_positive_int("n_components", n_components)
    radius, sigma = _check_mixture(radius, std)  # std = -1 gave the density of std = 1
    means = _mixture_means(n_components, radius)
    if standardized:
        scale = _mixture_scale(n_components, radius, sigma)
        means = (means - means.mean(axis=0)) / scale
        sigma = sigma / scale
    d2 = ((pts[:, None, :] - means[None, :, :]) ** 2).sum(-1)
    return logsumexp(-d2 / (2 * sigma**2), axis=1) - math.log(n_components) - math.log(2 * math.pi * sigma**2)
