"""Annealing schedules: the inverse temperature beta of every sweep.

A schedule is a 1D float array with one beta > 0 per sweep. ``linear`` and ``geometric``
run from ``beta_start`` (hot) to ``beta_end`` (cold), both included; a user array is
checked and used as given. :func:`default_beta_range` picks the ends from the couplings.
"""

from __future__ import annotations

import math

import numpy as np

from thermolearn.models.ising import Ising
from thermolearn.validation import check_beta, check_positive_float, check_positive_int

ANNEALING_SCHEDULES = ("linear", "geometric")


def _ends(beta_start: object, beta_end: object) -> tuple[float, float]:
    return check_beta(beta_start, "beta_start"), check_beta(beta_end, "beta_end")


def linear_schedule(beta_start: float, beta_end: float, sweeps: int) -> np.ndarray:
    """``sweeps`` betas evenly spaced from ``beta_start`` to ``beta_end`` (both > 0)."""
    b0, b1 = _ends(beta_start, beta_end)
    sweeps = check_positive_int("sweeps", sweeps)
    if sweeps == 1:
        return np.array([b1])
    betas = np.linspace(b0, b1, sweeps)
    betas[-1] = b1
    return betas


def geometric_schedule(beta_start: float, beta_end: float, sweeps: int) -> np.ndarray:
    """``sweeps`` betas with a constant ratio from ``beta_start`` to ``beta_end`` (both > 0):
    equal numbers of sweeps per factor of temperature."""
    b0, b1 = _ends(beta_start, beta_end)
    sweeps = check_positive_int("sweeps", sweeps)
    if sweeps == 1:
        return np.array([b1])
    betas = b0 * (b1 / b0) ** (np.arange(sweeps) / (sweeps - 1))
    betas[0], betas[-1] = b0, b1
    return betas


def custom_schedule(betas: object) -> np.ndarray:
    """A user's schedule checked: a non-empty 1D array of finite betas > 0 (one per sweep)."""
    if isinstance(betas, (str, bytes)):
        raise TypeError(f"a custom schedule is an array of betas, got the string {betas!r}")
    try:
        arr = np.array(betas, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"schedule must be 'linear', 'geometric' or a 1D array of betas > 0: {exc}") from None
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"a schedule array must be 1D with one beta per sweep (at least one), got shape {arr.shape}")
    bad = ~(np.isfinite(arr) & (arr > 0))
    if np.any(bad):
        k = int(np.flatnonzero(bad)[0])
        raise ValueError(f"schedule betas must be finite and > 0 (beta = 1/T); sweep {k} has beta = {arr[k]}")
    return arr


def make_schedule(
    schedule: str | object,
    sweeps: int | None = None,
    beta_range: tuple[float, float] | None = None,
    model: Ising | None = None,
) -> np.ndarray:
    """The betas of every sweep: ``schedule`` is 'linear' or 'geometric' (from
    ``beta_range = (hot, cold)``, by default :func:`default_beta_range` of ``model``) or an
    array of betas (then ``sweeps``, if given, must equal its length, and ``beta_range``
    must be None)."""
    if isinstance(schedule, str):
        if schedule not in ANNEALING_SCHEDULES:
            raise ValueError(
                f"schedule must be one of {', '.join(ANNEALING_SCHEDULES)} or an array of betas, got {schedule!r}"
            )
        if sweeps is None:
            raise ValueError(f"the {schedule!r} schedule needs a number of sweeps")
        if beta_range is None:
            if model is None:
                raise ValueError("give beta_range=(beta_hot, beta_cold) or a model to choose it from")
            beta_range = default_beta_range(model)
        start, end = check_beta_range(beta_range)
        make = linear_schedule if schedule == "linear" else geometric_schedule
        return make(start, end, sweeps)
    betas = custom_schedule(schedule)
    if beta_range is not None:
        raise ValueError("beta_range applies to the 'linear' and 'geometric' schedules, not to an array of betas")
    if sweeps is not None and check_positive_int("sweeps", sweeps) != betas.size:
        raise ValueError(f"sweeps = {sweeps} but the schedule array has {betas.size} betas (one per sweep)")
    return betas


def check_beta_range(beta_range: object) -> tuple[float, float]:
    """``(beta_hot, beta_cold)``: two finite betas > 0."""
    try:
        values: tuple[object, ...] = tuple(beta_range)  # type: ignore[arg-type]  # any iterable; checked below
    except TypeError:
        raise TypeError(f"beta_range must be a pair (beta_hot, beta_cold), got {beta_range!r}") from None
    if len(values) != 2:
        raise ValueError(f"beta_range must be a pair (beta_hot, beta_cold), got {len(values)} values")
    return check_beta(values[0], "beta_range[0]"), check_beta(values[1], "beta_range[1]")


def default_beta_range(
    model: Ising, *, hot_acceptance: float = 0.5, cold_acceptance: float = 0.01
) -> tuple[float, float]:
    """``(beta_hot, beta_cold)`` for annealing ``model``, from its couplings and fields.

    Hot: a typical flip from a random state is accepted with probability
    ``hot_acceptance``. In a random state the local field phi_i = h_i + sum_j J_ij s_j has
    root-mean-square sqrt(h_i^2 + sum_j J_ij^2); with Delta E = 2 |phi| at the median of
    that over spins, beta_hot = ln(1 / hot_acceptance) / Delta E.

    Cold: the smallest flip is accepted with probability ``cold_acceptance``. The smallest
    flip is taken as twice the median over spins of the smallest nonzero |J_ij| or |h_i|
    acting on each spin (the cost of frustrating one weakest bond: exact for +-J and
    integer weights), but never below a tenth of the typical flip of the hot end, since
    with continuous couplings (Sherrington-Kirkpatrick) single bonds can be arbitrarily
    weak while the flips of a frozen state cost a sizeable part of the typical local field.
    The schedule ends with a zero-temperature quench anyway.
    """
    hot_p = check_positive_float("hot_acceptance", hot_acceptance)
    cold_p = check_positive_float("cold_acceptance", cold_acceptance)
    if not hot_p < 1 or not cold_p < hot_p:
        raise ValueError(f"need 0 < cold_acceptance < hot_acceptance < 1, got {cold_p} and {hot_p}")
    J = model.couplings
    h = np.abs(model.fields)
    rms = np.sqrt(np.asarray(J.multiply(J).sum(axis=1)).ravel() + h**2)
    data = np.abs(J.data)
    rows = np.repeat(np.arange(model.n_spins), np.diff(J.indptr))
    weakest = np.where(h > 0, h, np.inf)
    np.minimum.at(weakest, rows, np.where(data > 0, data, np.inf))
    active = np.isfinite(weakest)
    if not np.any(active):
        return 0.1, 1.0  # no couplings and no fields: every state has energy 0
    typical = 2.0 * float(np.median(rms[active]))
    smallest = max(2.0 * float(np.median(weakest[active])), 0.1 * typical)
    beta_hot = math.log(1.0 / hot_p) / typical
    beta_cold = math.log(1.0 / cold_p) / smallest
    return beta_hot, max(beta_cold, beta_hot)
