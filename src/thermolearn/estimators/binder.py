"""The critical temperature from the crossing of Binder cumulants of two or more sizes.

U4 = 1 - <m^4> / (3 <m^2>^2) tends to 2/3 in the ordered phase and 0 in the disordered one
for every size L; near T_c the curves of different L cross at a point that converges to
T_c as L grows (finite-size scaling makes U4 a function of (T - T_c) L^{1/nu} alone).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from thermolearn.randomness.seeds import numpy_generator


@dataclass(frozen=True)
class BinderCrossing:
    """T_c from Binder-cumulant crossings: ``mean`` and ``stderr`` (temperature units), the
    crossing of each pair of consecutive sizes, and how many resamples found a crossing."""

    mean: float
    stderr: float
    pairs: list[tuple[int, int, float]]
    success_fraction: float

    def as_dict(self) -> dict:
        """The crossing as a JSON-ready dict: ``mean`` and ``stderr`` (temperature, units of J)."""
        return {"mean": self.mean, "stderr": self.stderr}


#: U4 differences smaller than this are rounding, not a side of a crossing: curves saturated at
#: 2/3 deep in the ordered phase (or at 0 far above T_c) differ by ~1e-16 at every size
_RESOLVED_DIFFERENCE = 1e-12


def _crossing(temps: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """First T where a - b changes sign, by linear interpolation (NaN if none); differences
    within rounding (equal curves) are on neither side."""
    d = a - b
    ok = np.isfinite(d) & (np.abs(d) > _RESOLVED_DIFFERENCE)
    t, d = temps[ok], d[ok]
    for k in range(len(d) - 1):
        if d[k] * d[k + 1] < 0:
            return float(t[k] + (t[k + 1] - t[k]) * d[k] / (d[k] - d[k + 1]))
    return float("nan")


def binder_crossing(
    temperatures: np.ndarray,
    cumulants: Mapping[int, tuple[np.ndarray, np.ndarray]],
    *,
    n_resamples: int = 2000,
    seed: int = 0,
) -> BinderCrossing | None:
    """Estimate T_c (temperature units, k_B = 1) from U4(T) of several sizes:
    ``cumulants[L] = (means, stderrs)`` at the shared ``temperatures``. The crossing of each
    pair of consecutive sizes is found by linear interpolation; the error comes from
    resampling every U4 within its error bar. Entries with a NaN mean (U4 undefined there) or
    a NaN error (no error bar: a chain that never left one state) are skipped.

    Returns None, the documented "no estimate", when fewer than two sizes or temperatures
    are given or no pair of curves crosses in the temperature range; callers say so.
    """
    temps = np.asarray(temperatures, dtype=float)
    if temps.ndim != 1 or not np.all(np.isfinite(temps)):
        raise ValueError(f"temperatures must be a 1-D array of finite numbers, got shape {temps.shape}")
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, (int, np.integer)) or n_resamples < 2:
        raise ValueError(f"n_resamples must be an integer >= 2, got {n_resamples!r}")
    for L, curve in cumulants.items():
        if len(curve) != 2 or any(np.shape(part) != temps.shape for part in curve):
            raise ValueError(f"cumulants[{L}] must be (means, stderrs), each of shape {temps.shape} like temperatures")
    order = np.argsort(temps)
    temps = temps[order]
    sizes = sorted(cumulants)
    if len(sizes) < 2 or len(temps) < 2:
        return None
    means = {L: np.asarray(cumulants[L][0], dtype=float)[order] for L in sizes}
    errs = {L: np.asarray(cumulants[L][1], dtype=float)[order] for L in sizes}
    # a value without an error bar cannot be resampled; saturated frozen curves (U4 = 2/3 at every
    # size deep in the ordered phase) would otherwise "cross" there exactly
    means = {L: np.where(np.isnan(errs[L]), np.nan, means[L]) for L in sizes}
    pairs = list(zip(sizes[:-1], sizes[1:]))
    central = [_crossing(temps, means[a], means[b]) for a, b in pairs]
    if not np.any(np.isfinite(central)):
        return None
    rng = numpy_generator(seed)
    resampled: list[float] = []
    for _ in range(n_resamples):
        sample = {L: means[L] + errs[L] * rng.standard_normal(len(temps)) for L in sizes}
        crossings = [_crossing(temps, sample[a], sample[b]) for a, b in pairs]
        finite = [c for c in crossings if np.isfinite(c)]
        resampled.append(float(np.mean(finite)) if finite else np.nan)
    draws = np.array(resampled)
    good = np.isfinite(draws)
    estimate = float(np.nanmean(central))
    stderr = float(np.std(draws[good], ddof=1)) if good.sum() > 1 else float("nan")
    return BinderCrossing(
        mean=estimate,
        stderr=stderr,
        pairs=[(a, b, c) for (a, b), c in zip(pairs, central)],
        success_fraction=float(good.mean()),
    )
