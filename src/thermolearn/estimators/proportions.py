"""Error bars of a probability estimated from successes in independent trials."""

from __future__ import annotations

import math

from thermolearn.validation import check_positive_float, check_positive_int

Z_95 = 1.959963984540054  # the two-sided 95% quantile of the standard normal


def wilson_interval(hits: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval of a binomial probability from ``hits`` of ``trials`` (z = 1.96: 95%).

    Unlike p +- z sqrt(p(1-p)/n) it stays inside [0, 1] and keeps a width when no trial (or every
    trial) succeeded, which is exactly when ground-state searches and factorisations need it.
    """
    trials = check_positive_int("trials", trials)
    hits = check_positive_int("hits", hits, minimum=0)
    if hits > trials:
        raise ValueError(f"hits must be between 0 and trials = {trials}, got {hits}")
    z = check_positive_float("z", z)
    p = hits / trials
    denom = 1.0 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    # the exact ends at 0 and all hits (the formula gives them only up to rounding)
    low = 0.0 if hits == 0 else max(0.0, centre - half)
    high = 1.0 if hits == trials else min(1.0, centre + half)
    return low, high
