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
    binder_cumulant : U4 = 1 - <m^4> / (3 <m^2>^2) (NaN if m is 0 in every sample, or nonzero
        in too few for its error bar: in fewer than two of the jackknife's blocks).
    tau_energy, tau_magnetization, tau_abs_magnetization, tau_magnetization_sq :
        integrated autocorrelation times (in samples) of e, m, |m| and m^2.
    block_sizes : jackknife block size (samples) used for each quantity.
    reliable : False when some series was too short for its autocorrelation time
        (a RuntimeWarning said which); the error bars are then likely too small.
    frozen : True when neither E nor M changed in the whole run (for pooled chains: in any
        chain): the chain sat in one state, the weight of the states it never met is unknown,
        and its error bars are NaN rather than 0 (``reliable`` is then False).
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
    frozen: bool = False

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
        out["frozen"] = bool(self.frozen)
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
    undefined: list[str] = []

    def size_for(*keys: str) -> int:
        if block_size is not None:
            return block_size
        tau = max(taus[k].tau for k in keys)
        if n < DEFAULT_BLOCK_FACTOR * tau * DEFAULT_MIN_BLOCKS:
            problems.extend(keys)
        return choose_block_size(n, tau, warn=False)

    def estimate(fn: Callable[..., float], *keys: str) -> tuple[Estimate, int]:
        size = size_for(*keys)
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
    # U4 = 1 - <m^4> / (3 <m^2>^2) is 0/0 where m = 0 in every sample used; the jackknife needs it
    # defined with any one block left out, so m != 0 in at least two of its blocks
    size = size_for("m2", "m4")
    blocks = n // size
    nonzero_blocks = np.count_nonzero(np.any(m[n - blocks * size :].reshape(blocks, size) != 0, axis=1))
    if nonzero_blocks >= 2:
        results["binder_cumulant"], sizes["binder_cumulant"] = estimate(
            lambda m2, m4: 1.0 - m4 / (3.0 * m2 * m2), "m2", "m4"
        )
    else:
        if np.any(m != 0):  # too few samples with m != 0 for an error bar (e.g. an antiferromagnet)
            undefined.append("binder_cumulant")
        results["binder_cumulant"], sizes["binder_cumulant"] = Estimate(math.nan, math.nan), 0

    # a chain that never left one state has no spread to make an error bar of: 0 would claim an
    # exact answer for what is only the one state it saw (sample() on a 4x4 ferromagnet at T = 0.3
    # read E/N = -2 +- 0, reliable, up to 0.6.11)
    frozen = n >= 2 and bool(np.ptp(e) == 0.0) and bool(np.ptp(m) == 0.0)
    if frozen:
        results = {name: Estimate(est.mean, math.nan) for name, est in results.items()}
        warnings.warn(
            f"Ising observables: neither E nor M changed in the {n} samples: the chain never left one state, "
            f"so there is no error bar (NaN) and the values describe that state only (sample longer, at a higher "
            f"temperature, or with parallel tempering or a cluster sampler)",
            RuntimeWarning,
            stacklevel=3,
        )
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
    if undefined:
        warnings.warn(
            f"Ising observables: m != 0 in too few of the {n} samples for a Binder cumulant with an error bar "
            f"(fewer than two of the jackknife's blocks); binder_cumulant is NaN",
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
        reliable=not problems and not frozen,
        frozen=frozen,
    )


def combine_chains(runs: list[IsingObservables]) -> IsingObservables:
    """Observables of independent chains at one temperature, pooled.

    Each quantity is the average of the chains' estimates. Its standard error is the larger of
    sqrt(sum of squared errors) / n_chains (the chains' own error bars, the chains independent)
    and the spread of the chain means, std(means) / sqrt(n_chains) (chains that never left one
    state add no error bar of their own: NaN when every chain is frozen in the same state): chains that have not mixed
    (stuck in different ordered states, different valleys of a glass) each look precise while
    they disagree, and only the spread shows it. Where the chain means disagree beyond their
    error bars (chi-square of the means p < DISAGREEMENT_P), the result is marked not
    ``reliable`` with a RuntimeWarning naming the quantities. The reported autocorrelation
    times are those of the chain with the longest energy tau_int.
    """
    if not runs:
        raise ValueError("combine_chains needs at least one run")
    if len({(r.temperature, r.n_spins) for r in runs}) != 1:
        raise ValueError("combine_chains needs runs of one model at one temperature")
    if len(runs) == 1:
        return runs[0]
    k = len(runs)
    pooled = {}
    disagree = []
    for name in QUANTITIES:
        means = np.array([getattr(r, name).mean for r in runs])
        errs = np.array([getattr(r, name).stderr for r in runs])
        measured = np.isfinite(errs)
        between = float(np.std(means, ddof=1) / math.sqrt(k))
        if measured.any():
            stderr = max(float(np.sqrt(np.sum(errs[measured] ** 2)) / k), between)
        else:  # every chain frozen: only a spread between their states is an error bar at all
            stderr = between if between > 0 else math.nan
        pooled[name] = Estimate(float(means.mean()), stderr)
        if chains_disagree(means, errs):
            disagree.append(name)
    beta, n_spins = 1.0 / runs[0].temperature, runs[0].n_spins
    for name, of, factor in (
        ("specific_heat", "energy_per_spin", beta * beta * n_spins),
        ("susceptibility_abs", "abs_magnetization", beta * n_spins),
        ("susceptibility_connected", "magnetization", beta * n_spins),
    ):
        pooled[name] = _pooled_fluctuation(runs, name, of, factor, pooled[name].stderr)
    if disagree:
        warnings.warn(
            f"the {k} chains disagree beyond their error bars on {', '.join(disagree)}: they have not mixed "
            f"(e.g. stuck in different ordered states); the error bars come from the spread of the chain means "
            f"and the result is marked unreliable (run longer, use a cluster sampler or parallel tempering)",
            RuntimeWarning,
            stacklevel=2,
        )
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
        reliable=all(r.reliable for r in runs) and not disagree,
        frozen=any(r.frozen for r in runs),
    )


def _pooled_fluctuation(runs: list[IsingObservables], name: str, of: str, factor: float, stderr: float) -> Estimate:
    """A fluctuation quantity q = factor Var(x) of all chains together: by the law of total
    variance the average of the chains' own q plus factor times the variance of their means of x
    (chains stuck apart each see a small variance; the run as a whole does not). Its error is the
    larger of ``stderr`` and a delete-one-chain jackknife of the pooled value."""
    q = np.array([getattr(r, name).mean for r in runs])
    x = np.array([getattr(r, of).mean for r in runs])
    k = q.size

    def pooled(keep: np.ndarray) -> float:
        return float(q[keep].mean() + factor * np.var(x[keep]))

    value = pooled(np.ones(k, dtype=bool))
    loo = np.array([pooled(np.arange(k) != i) for i in range(k)])
    jack = math.sqrt((k - 1) / k * float(np.sum((loo - loo.mean()) ** 2)))
    return Estimate(value, max(stderr, jack))


#: chi-square p-value of the chain means below which :func:`combine_chains` calls the chains
#: inconsistent (one in 10^4 for chains that did mix, per quantity)
DISAGREEMENT_P = 1e-4


def chains_disagree(means: np.ndarray, errs: np.ndarray) -> bool:
    """Whether independent estimates ``means`` with standard errors ``errs`` are inconsistent with
    one common value: chi^2 = sum (mean_c - weighted mean)^2 / err_c^2 against k - 1 degrees of
    freedom, p < DISAGREEMENT_P (1e-4). Undefined values (NaN) are left out; an error of 0 with a
    different mean disagrees."""
    keep = np.isfinite(means) & np.isfinite(errs)
    means, errs = means[keep], errs[keep]
    if means.size < 2:
        return False
    if np.any(errs == 0):
        exact = means[errs == 0]
        # a chain with no fluctuation pins the value: any other mean must equal it within the others' errors
        if np.ptp(exact) > 0:
            return True
        others = errs > 0
        return bool(np.any(np.abs(means[others] - exact[0]) > 5.0 * errs[others]))
    w = 1.0 / errs**2
    centre = float(np.sum(w * means) / np.sum(w))
    chi2 = float(np.sum(w * (means - centre) ** 2))
    from scipy.stats import chi2 as chi2_distribution

    return bool(chi2_distribution.sf(chi2, means.size - 1) < DISAGREEMENT_P)


def _json_float(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None
