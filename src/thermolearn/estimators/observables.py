"""Thermodynamic observables of an Ising time series, with autocorrelation-aware error bars.

From a run of states s (n_samples, n_spins) at temperature T (k_B = 1, beta = 1/T), or from
stored energy and magnetisation series, per sample: e = E / N (energy per spin) and
m = M / N = (1/N) sum_i s_i (magnetisation per spin). Then

    energy per spin     <e>
    magnetisation       <m>, <|m|>, <m^2>, <m^4>
    specific heat       c   = beta^2 N (<e^2> - <e>^2)           (per spin, = C / N)
    susceptibilities    chi_m2        = beta N <m^2>               (zero field, finite lattice,
                                                                    where <m> = 0 by symmetry)
                        chi_abs       = beta N (<m^2> - <|m|>^2)  (the usual Monte Carlo proxy for
                                                                    the infinite-volume connected
                                                                    chi in the ordered phase)
                        chi_connected = beta N (<m^2> - <m>^2)    (fluctuation-response, any field;
                                                                    needs a chain that flips m)
    Binder cumulant     U4  = 1 - <m^4> / (3 <m^2>^2)

Every error bar is a delete-one-block jackknife whose block size is about 20 integrated
autocorrelation times of the series the quantity is built from (see :mod:`.jackknife`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from thermolearn.estimators.autocorrelation import (
    DEFAULT_WINDOW_C,
    MIN_SAMPLES_PER_TAU,
    AutocorrelationTime,
    _integrated_time,
)
from thermolearn.estimators.jackknife import (
    DEFAULT_BLOCK_FACTOR,
    DEFAULT_MIN_BLOCKS,
    choose_block_size,
    jackknife,
)
from thermolearn.estimators.series import as_series
from thermolearn.validation import check_positive_float, check_positive_int, check_spins, check_temperature


@dataclass(frozen=True)
class Estimate:
    """A mean value and its standard error (one standard deviation)."""

    mean: float
    stderr: float

    def as_dict(self) -> dict[str, float | None]:
        """``{"mean": ..., "stderr": ...}`` as floats (None where undefined)."""
        return {"mean": _json_float(self.mean), "stderr": _json_float(self.stderr)}


@dataclass(frozen=True)
class IsingObservables:
    """Observables of one Ising run at one temperature (all per spin, k_B = 1).

    Attributes
    ----------
    temperature, n_spins, n_samples : the run.
    energy_per_spin : <e>, e = E / N (energy units of the couplings).
    magnetization : <m> (signed), m = M / N.
    abs_magnetization : <|m|>.
    magnetization_sq : <m^2>.
    magnetization_4 : <m^4>.
    specific_heat : c = beta^2 N (<e^2> - <e>^2), per spin.
    susceptibility_m2 : beta N <m^2> (zero-field susceptibility of a finite lattice, per spin).
    susceptibility_abs : beta N (<m^2> - <|m|>^2), per spin.
    susceptibility_connected : beta N (<m^2> - <m>^2), per spin.
    binder_cumulant : U4 = 1 - <m^4> / (3 <m^2>^2) (NaN if m is always 0).
    tau_energy, tau_magnetization, tau_abs_magnetization, tau_magnetization_sq :
        integrated autocorrelation times (in samples) of e, m, |m| and m^2.
    block_sizes : jackknife block size (samples) used for each quantity.
    reliable : False when some series was too short for its autocorrelation time
        (a RuntimeWarning said which); the error bars are then likely too small.
    """

    temperature: float
    n_spins: int
    n_samples: int
    energy_per_spin: Estimate
    magnetization: Estimate
    abs_magnetization: Estimate
    magnetization_sq: Estimate
    magnetization_4: Estimate
    specific_heat: Estimate
    susceptibility_m2: Estimate
    susceptibility_abs: Estimate
    susceptibility_connected: Estimate
    binder_cumulant: Estimate
    tau_energy: AutocorrelationTime
    tau_magnetization: AutocorrelationTime
    tau_abs_magnetization: AutocorrelationTime
    tau_magnetization_sq: AutocorrelationTime
    block_sizes: dict[str, int] = field(default_factory=dict)
    reliable: bool = True

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly nested dict: every number a plain float/int (NaN -> None)."""
        out: dict[str, Any] = {
            "temperature": float(self.temperature),
            "n_spins": int(self.n_spins),
            "n_samples": int(self.n_samples),
        }
        for name in QUANTITIES:
            out[name] = getattr(self, name).as_dict()
        for name in ("tau_energy", "tau_magnetization", "tau_abs_magnetization", "tau_magnetization_sq"):
            t: AutocorrelationTime = getattr(self, name)
            out[name] = {
                "tau": float(t.tau),
                "tau_stderr": float(t.tau_stderr),
                "window": int(t.window),
                "ess": float(t.ess),
            }
        out["block_sizes"] = {k: int(v) for k, v in self.block_sizes.items()}
        out["reliable"] = bool(self.reliable)
        return out


#: Names of the estimated quantities, in the order of :class:`IsingObservables`.
QUANTITIES = (
    "energy_per_spin",
    "magnetization",
    "abs_magnetization",
    "magnetization_sq",
    "magnetization_4",
    "specific_heat",
    "susceptibility_m2",
    "susceptibility_abs",
    "susceptibility_connected",
    "binder_cumulant",
)


def observables_from_states(
    states: ArrayLike,
    temperature: float,
    *,
    model: Any = None,
    energies: ArrayLike | None = None,
    block_size: int | None = None,
    c: float = DEFAULT_WINDOW_C,
) -> IsingObservables:
    """Observables of a run of Ising states (time order along the first axis).

    ``states``: int spins in {-1, +1}, shape (n_samples, n_spins), consecutive samples of one
    chain. Energies come from exactly one of ``model`` (anything with ``.energy(states)`` and
    ``.n_spins``, e.g. :class:`thermolearn.Ising`) or ``energies`` (total energies E, shape
    (n_samples,)). ``temperature`` T > 0 (k_B = 1). ``block_size`` fixes the jackknife block
    size for every quantity; by default it is chosen per quantity from tau_int (window ``c``).
    """
    t = check_temperature(temperature)
    if (model is None) == (energies is None):
        raise ValueError("give exactly one of model (with .energy(states)) or energies (total E per sample)")
    arr = np.asarray(states)
    if arr.ndim != 2:
        raise ValueError(f"states must have shape (n_samples, n_spins), got shape {arr.shape}")
    n_spins = arr.shape[1] if model is None else int(model.n_spins)
    s = check_spins(arr, n_spins)
    if s.shape[0] < 2:
        raise ValueError(f"states holds {s.shape[0]} sample(s); at least 2 are needed")
    if model is not None:
        e_raw = model.energy(s)
    else:
        assert energies is not None  # exactly one of model and energies (checked above)
        e_raw = energies
    e_total = as_series("energies", e_raw)
    if e_total.size != s.shape[0]:
        raise ValueError(f"energies has {e_total.size} samples but states has {s.shape[0]}")
    magnetization = s.sum(axis=1, dtype=np.int64) / float(n_spins)
    return _observables(e_total / n_spins, magnetization, n_spins, t, block_size, c)


def observables_from_series(
    energies: ArrayLike,
    magnetizations: ArrayLike,
    n_spins: int,
    temperature: float,
    *,
    per_spin: bool = False,
    block_size: int | None = None,
    c: float = DEFAULT_WINDOW_C,
) -> IsingObservables:
    """Observables from stored energy and magnetisation time series of one chain.

    ``energies`` and ``magnetizations``: shape (n_samples,), totals E and M = sum_i s_i unless
    ``per_spin=True`` (then e = E / N and m = M / N). ``n_spins`` N >= 1; ``temperature`` T > 0
    (k_B = 1). ``block_size`` as in :func:`observables_from_states`.
    """
    t = check_temperature(temperature)
    n = check_positive_int("n_spins", n_spins)
    e = as_series("energies", energies)
    m = as_series("magnetizations", magnetizations)
    if e.size != m.size:
        raise ValueError(f"energies has {e.size} samples but magnetizations has {m.size}; they must match")
    if not per_spin:
        e, m = e / n, m / n
    if np.max(np.abs(m)) > 1.0 + 1e-9:
        unit = "per spin (per_spin=True)" if per_spin else f"totals M = sum_i s_i with n_spins = {n}"
        raise ValueError(f"magnetizations must satisfy |m| <= 1 per spin ({unit}), got |m| = {np.max(np.abs(m)):.6g}")
    return _observables(e, m, n, t, block_size, c)


# ---------------------------------------------------------------------------- internals
def _observables(
    e: np.ndarray, m: np.ndarray, n_spins: int, temperature: float, block_size: int | None, c: float
) -> IsingObservables:
    c = check_positive_float("c", c)
    if block_size is not None:
        block_size = check_positive_int("block_size", block_size)
        if e.size // block_size < 2:
            raise ValueError(f"block_size must leave at least 2 blocks of the {e.size} samples, got {block_size}")
    beta = 1.0 / temperature
    n = e.size
    # Shift e by its mean: the variance is shift invariant, and the squares stay well conditioned.
    de = e - e.mean()
    series = {
        "e": e,
        "de": de,
        "de2": de**2,
        "m": m,
        "abs_m": np.abs(m),
        "m2": m**2,
        "m4": m**4,
    }
    taus = {key: _integrated_time(x[None, :], c) for key, x in series.items() if key != "de"}
    taus["de"] = taus["e"]  # a constant shift leaves the autocorrelation unchanged
    problems = [key for key, tau in taus.items() if not tau.reliable]

    def estimate(fn: Callable[..., float], *keys: str) -> tuple[Estimate, int]:
        if block_size is None:
            tau = max(taus[k].tau for k in keys)
            size = choose_block_size(n, tau, warn=False)
            if n < DEFAULT_BLOCK_FACTOR * tau * DEFAULT_MIN_BLOCKS:
                problems.extend(keys)
        else:
            size = block_size
        jk = jackknife(fn, *(series[k] for k in keys), block_size=size)
        return Estimate(float(jk.estimate), float(jk.stderr)), jk.block_size

    nb = n_spins * beta
    results: dict[str, Estimate] = {}
    sizes: dict[str, int] = {}
    specs: dict[str, tuple[Callable[..., float], tuple[str, ...]]] = {
        "energy_per_spin": (lambda x: x, ("e",)),
        "magnetization": (lambda x: x, ("m",)),
        "abs_magnetization": (lambda x: x, ("abs_m",)),
        "magnetization_sq": (lambda x: x, ("m2",)),
        "magnetization_4": (lambda x: x, ("m4",)),
        "specific_heat": (lambda d, d2: beta * nb * (d2 - d * d), ("de", "de2")),
        "susceptibility_m2": (lambda m2: nb * m2, ("m2",)),
        "susceptibility_abs": (lambda m2, a: nb * (m2 - a * a), ("m2", "abs_m")),
        "susceptibility_connected": (lambda m2, mm: nb * (m2 - mm * mm), ("m2", "m")),
    }
    for name, (fn, keys) in specs.items():
        results[name], sizes[name] = estimate(fn, *keys)
    if np.any(m != 0):
        results["binder_cumulant"], sizes["binder_cumulant"] = estimate(
            lambda m2, m4: 1.0 - m4 / (3.0 * m2 * m2), "m2", "m4"
        )
    else:  # m = 0 in every sample: U4 = 1 - 0/0 is undefined
        results["binder_cumulant"], sizes["binder_cumulant"] = Estimate(math.nan, math.nan), 0

    if problems:
        names = ", ".join(sorted(set(problems)))
        warnings.warn(
            f"Ising observables: {n} samples are too few for the autocorrelation time of {names} "
            f"(need >= {MIN_SAMPLES_PER_TAU:g} tau_int for tau_int and >= "
            f"{DEFAULT_BLOCK_FACTOR * DEFAULT_MIN_BLOCKS:g} tau_int for the error bars); "
            f"the error bars are likely too small",
            RuntimeWarning,
            stacklevel=3,
        )
    return IsingObservables(
        temperature=temperature,
        n_spins=n_spins,
        n_samples=n,
        **results,
        tau_energy=taus["e"],
        tau_magnetization=taus["m"],
        tau_abs_magnetization=taus["abs_m"],
        tau_magnetization_sq=taus["m2"],
        block_sizes=sizes,
        reliable=not problems,
    )


def combine_chains(runs: list[IsingObservables]) -> IsingObservables:
    """Observables of independent chains at one temperature, pooled.

    Each quantity is the average of the chains' estimates, with standard error
    sqrt(sum of squared errors) / n_chains (the chains are independent). The reported
    autocorrelation times are those of the chain with the longest energy tau_int.
    """
    if not runs:
        raise ValueError("combine_chains needs at least one run")
    if len({(r.temperature, r.n_spins) for r in runs}) != 1:
        raise ValueError("combine_chains needs runs of one model at one temperature")
    if len(runs) == 1:
        return runs[0]
    k = len(runs)
    pooled = {}
    for name in QUANTITIES:
        means = np.array([getattr(r, name).mean for r in runs])
        errs = np.array([getattr(r, name).stderr for r in runs])
        pooled[name] = Estimate(float(means.mean()), float(np.sqrt(np.sum(errs**2)) / k))
    slowest = max(runs, key=lambda r: r.tau_energy.tau)
    return IsingObservables(
        temperature=runs[0].temperature,
        n_spins=runs[0].n_spins,
        n_samples=sum(r.n_samples for r in runs),
        **pooled,
        tau_energy=slowest.tau_energy,
        tau_magnetization=slowest.tau_magnetization,
        tau_abs_magnetization=slowest.tau_abs_magnetization,
        tau_magnetization_sq=slowest.tau_magnetization_sq,
        block_sizes=dict(slowest.block_sizes),
        reliable=all(r.reliable for r in runs),
    )


def _json_float(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None
