"""Factorisation by running a multiplier backwards (Borders et al. 2019).

A W x W-bit multiplier of p-bits (:func:`~thermolearn.pbits.circuit.multiplier`) with its
product bits clamped to N has the factorisations p q = N as its ground states, each at the
same energy; sampling it at inverse temperature I0 visits them with a probability that
grows with I0 and shrinks with the number of inconsistent states. For odd N both factors are
odd, so p_0 = q_0 = 1 is clamped too (no factorisation is lost). Trivial factorisations
(1 x N) count as failures.

Two success measures, each with an error bar over independent chains:
- ``success_probability``: the chance that a chain started from a random state has visited
  a factorisation within K sweeps (binomial over chains, Wilson intervals on the curve);
- ``stationary_probability``: the fraction of sweeps spent on a factorisation in the second
  half of the run, against its exact value by enumeration when at most
  :data:`~thermolearn.exact.enumeration.MAX_SPINS` p-bits are free.

Borders et al. factor 945 with 8 p-bits whose couplings include three- and more-body terms;
with pairwise gates (2-body [J, h]) the multiplier needs one p-bit per factor bit, one per
partial product and two per adder: 2W + W^2 + 2 (W^2 - W) in all (108 for W = 6, 945 = 27 x
35), of which 2W product bits and, for odd N, two factor bits are clamped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from thermolearn.estimators.observables import Estimate
from thermolearn.estimators.proportions import wilson_interval
from thermolearn.exact.enumeration import MAX_SPINS, enumerate_exact, state_index_to_spins
from thermolearn.pbits.circuit import Circuit, bits_of, multiplier
from thermolearn.pbits.clamping import clamp
from thermolearn.pbits.stationary import stationary_distribution
from thermolearn.pbits.updates import EXACT_UPDATE_MODELS, check_ergodic_beta, run_pbits

#: widest factors tried (a 2W-bit product must fit the 62-bit readout codes)
MAX_WIDTH = 31


def nontrivial_factorisations(n: int, width: int) -> list[tuple[int, int]]:
    """Every (p, q) with p <= q, 1 < p, q < 2^width and p q = n."""
    out = []
    p = 2
    while p * p <= n:
        if n % p == 0 and n // p < 2**width:
            out.append((p, n // p))
        p += 1
    return out


def default_width(n: int) -> int:
    """The fewest bits W per factor such that some factorisation p q = n has p, q < 2^W;
    ``ValueError`` when n has none (a prime, or n < 4)."""
    target = check_target(n)
    best = min((max(p.bit_length(), q.bit_length()) for p, q in nontrivial_factorisations(target, 64)), default=None)
    if best is None:
        raise ValueError(f"N = {target} is prime: it has no factorisation p q with 1 < p, q (nothing to find)")
    return best


def check_target(n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 4:
        raise ValueError(f"N must be an integer >= 4 (a composite number to factor), got {n!r}")
    return int(n)


@dataclass(frozen=True, eq=False)
class FactorResult:
    """A factorisation run.

    Attributes
    ----------
    n, width : the target and the bits per factor; i0, update, n_sweeps, n_chains.
    factors : [p, q] (p <= q), the factorisation visited most often, or None if none was.
    p_bits, free_p_bits : p-bits of the multiplier, and those left free by the clamps.
    success_probability : P(a factorisation visited within n_sweeps), over chains.
    stationary_probability : fraction of the second half's sweeps on a factorisation.
    stationary_probability_exact : its exact value under the stationary law of the update model
        (exp(-I0 E) / Z for sequential and chromatic updates; the exact synchronous or asynchronous
        law otherwise), or None when too many p-bits are free for that law.
    stationary_probability_boltzmann : the same under exp(-I0 E) / Z (differs from the exact value
        only for synchronous and asynchronous updates), or None when too many p-bits are free.
    curve_sweeps, curve_success, curve_low, curve_high : success within k sweeps with its 95%
        Wilson interval, at increasing k.
    visits : {"p x q": sweeps on it} for every factorisation visited.
    """

    n: int
    width: int
    i0: float
    update: str
    n_sweeps: int
    n_chains: int
    factors: list[int] | None
    p_bits: int
    free_p_bits: int
    success_probability: Estimate
    stationary_probability: Estimate
    stationary_probability_exact: float | None
    stationary_probability_boltzmann: float | None
    curve_sweeps: np.ndarray
    curve_success: np.ndarray
    curve_low: np.ndarray
    curve_high: np.ndarray
    visits: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        """The run as a JSON-ready dict: success and stationary probabilities with their exact and Boltzmann values."""
        return {
            "n": self.n,
            "width": self.width,
            "i0": self.i0,
            "update": self.update,
            "sweeps": self.n_sweeps,
            "chains": self.n_chains,
            "factors": self.factors,
            "success_probability": self.success_probability.as_dict(),
            "stationary_probability": self.stationary_probability.as_dict(),
            "stationary_probability_exact": self.stationary_probability_exact,
            "stationary_probability_boltzmann": self.stationary_probability_boltzmann,
            "p_bits": self.p_bits,
            "free_p_bits": self.free_p_bits,
            "visits": dict(self.visits),
            "curve": {
                "sweeps": self.curve_sweeps.tolist(),
                "success": self.curve_success.tolist(),
                "low": self.curve_low.tolist(),
                "high": self.curve_high.tolist(),
            },
        }


def factoring_circuit(n: int, width: int | None = None) -> tuple[Circuit, dict[str, int], int]:
    """The W x W multiplier for ``n`` and its clamps {p-bit name: bit} (product bits; p_0 and
    q_0 for odd n): ``(circuit, clamps, width)``. ``ValueError`` when n does not fit 2W bits
    or has no factorisation with both factors below 2^W."""
    target = check_target(n)
    if width is None:
        w = default_width(target)
    else:
        if isinstance(width, bool) or not isinstance(width, int | np.integer) or not 2 <= width <= MAX_WIDTH:
            raise ValueError(f"width must be an integer in 2..{MAX_WIDTH} (bits per factor), got {width!r}")
        w = int(width)
        if target >= 4**w:
            raise ValueError(
                f"N = {target} does not fit the width: a {w} x {w}-bit multiplier gives products below "
                f"{4**w}; use width >= {(target.bit_length() + 1) // 2}"
            )
        if not nontrivial_factorisations(target, w):
            smallest = default_width(target)
            raise ValueError(
                f"N = {target} has no factorisation p q with 1 < p, q < 2^{w} = {2**w}; use width >= {smallest}"
            )
    circuit = multiplier(w, w)
    clamps = bits_of(target, circuit.groups["z"])
    if target % 2:
        clamps.update({"p0": 1, "q0": 1})
    return circuit, clamps, w


def _log_z(model) -> float:  # one exact sum at beta = 1 (I0 is already in the couplings)
    return enumerate_exact(model, 1.0, correlations=False)[0].log_z


def exact_stationary_success(circuit: Circuit, clamps: dict[str, int], n: int, i0: float) -> float | None:
    """P(the state is a nontrivial factorisation) under exp(-I0 E) / Z with the clamps, by
    enumeration (None when more than MAX_SPINS p-bits are free)."""
    model = circuit.model(i0)
    base = clamp(model, circuit.clamps(clamps))
    if base.model.n_spins > MAX_SPINS:
        return None
    log_z = _log_z(base.model)
    total = 0.0
    p_names, q_names = circuit.groups["p"], circuit.groups["q"]
    width = len(p_names)
    for p, q in nontrivial_factorisations(n, width):
        for a, b in {(p, q), (q, p)}:
            fixed = clamp(model, circuit.clamps({**clamps, **bits_of(a, p_names), **bits_of(b, q_names)}))
            # both clamped models share the p-bits clamped in ``base``; offsets differ by the
            # energy of the newly clamped p-bits, carried in the offset difference
            total += math.exp(_log_z(fixed.model) - (fixed.offset - base.offset) - log_z)
    return total


def _decode(
    codes: np.ndarray, circuit: Circuit, reduced: Any, free_readout: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """The factors p and q of readout ``codes`` (bit k of a code: p-bit ``free_readout[k]``); the
    clamped factor bits are known."""
    p_idx = circuit.indices(circuit.groups["p"])
    q_idx = circuit.indices(circuit.groups["q"])
    bit_value: dict[int, int | None] = {int(i): None for i in np.concatenate([p_idx, q_idx])}
    for i, v in zip(reduced.clamped.tolist(), reduced.values.tolist()):
        if i in bit_value:
            bit_value[i] = 1 if v > 0 else 0
    values = []
    for idx_list in (p_idx.tolist(), q_idx.tolist()):
        val = np.zeros(codes.shape, dtype=np.int64)
        for k, idx in enumerate(idx_list):
            bit = ((codes >> free_readout.index(idx)) & 1) if bit_value[idx] is None else bit_value[idx]
            val |= np.asarray(bit, dtype=np.int64) << k
        values.append(val)
    return values[0], values[1]


def _update_law_success(
    reduced: Any,
    circuit: Circuit,
    free_readout: list[int],
    position: dict[int, int],
    n: int,
    i0: float,
    update: str,
    eta: float,
    update_time: float,
    partitions: int | np.ndarray | None,
) -> float | None:
    """P(a nontrivial factorisation) under the exact stationary law of a synchronous or
    asynchronous update, which is not exp(-I0 E) / Z; None where that law cannot be enumerated."""
    n_free = reduced.model.n_spins
    try:
        law = stationary_distribution(
            reduced.model, i0, update, eta=eta, update_time=update_time, partitions=partitions
        )
    except ValueError:  # past the exact law's size limit (e.g. 7 free p-bits for asynchronous)
        return None
    states = state_index_to_spins(np.arange(2**n_free), n_free)
    readout = np.array([position[i] for i in free_readout], dtype=np.int64)
    codes = ((states[:, readout] > 0).astype(np.int64) << np.arange(readout.size)).sum(axis=1)
    p_val, q_val = _decode(codes, circuit, reduced, free_readout)
    ok = (p_val * q_val == n) & (p_val > 1) & (q_val > 1)
    return float(law[ok].sum())


def factor(
    n: int,
    *,
    width: int | None = None,
    i0: float = 0.5,
    n_sweeps: int = 1000,
    n_chains: int = 64,
    update: str = "sequential",
    eta: float = 10.0,
    exact: bool = True,
    seed: Any = None,
    progress: bool | None = None,
    update_time: float = 0.0,
    partitions: int | np.ndarray | None = None,
) -> FactorResult:
    """Factor ``n`` by sampling a multiplier with its product clamped (see the module).
    ``update_time`` and ``partitions``: asynchronous only, as in
    :func:`~thermolearn.pbits.run_pbits` (over the free p-bits)."""
    circuit, clamps, w = factoring_circuit(n, width)
    target = int(n)
    model = circuit.model(1.0)
    reduced = clamp(model, circuit.clamps(clamps))
    i0 = check_ergodic_beta(reduced.model, i0, name="i0")
    position = {int(f): k for k, f in enumerate(reduced.free)}
    p_idx = circuit.indices(circuit.groups["p"])
    q_idx = circuit.indices(circuit.groups["q"])
    free_readout = [int(i) for i in np.concatenate([p_idx, q_idx]) if int(i) in position]
    run = run_pbits(
        reduced.model,
        beta=i0,
        update=update,
        n_sweeps=n_sweeps,
        n_chains=n_chains,
        burn_in=0,
        eta=eta,
        readout=[position[i] for i in free_readout],
        record="series",
        seed=seed,
        progress=progress,
        update_time=update_time,
        partitions=partitions,
    )
    assert run.codes is not None
    p_val, q_val = _decode(run.codes, circuit, reduced, free_readout)
    ok = (p_val * q_val == target) & (p_val > 1) & (q_val > 1)
    hit_time = np.where(ok.any(axis=1), ok.argmax(axis=1) + 1, np.iinfo(np.int64).max)
    chains, sweeps = ok.shape
    found = int((hit_time <= sweeps).sum())
    rate = found / chains
    success = Estimate(rate, math.sqrt(rate * (1 - rate) / chains))
    half = ok[:, sweeps // 2 :].mean(axis=1)
    stationary = Estimate(float(half.mean()), float(half.std(ddof=1) / math.sqrt(chains)) if chains > 1 else math.nan)
    points = np.unique(np.geomspace(1, sweeps, num=min(sweeps, 30)).round().astype(np.int64))
    hits = np.array([(hit_time <= k).sum() for k in points])
    intervals = np.array([wilson_interval(int(h), chains, z=1.96) for h in hits])
    visits: dict[tuple[int, int], int] = {}
    for a, b in zip(p_val[ok].tolist(), q_val[ok].tolist()):
        key = (min(a, b), max(a, b))
        visits[key] = visits.get(key, 0) + 1
    best = max(visits, key=lambda key: visits[key]) if visits else None
    boltzmann_value = exact_stationary_success(circuit, clamps, target, i0) if exact else None
    exact_value = boltzmann_value
    if exact and run.update not in EXACT_UPDATE_MODELS:
        exact_value = _update_law_success(
            reduced, circuit, free_readout, position, target, i0, run.update, eta, update_time, partitions
        )
    return FactorResult(
        n=target,
        width=w,
        i0=i0,
        update=run.update,
        n_sweeps=sweeps,
        n_chains=chains,
        factors=list(best) if best else None,
        p_bits=circuit.n_pbits,
        free_p_bits=reduced.model.n_spins,
        success_probability=success,
        stationary_probability=stationary,
        stationary_probability_exact=exact_value,
        stationary_probability_boltzmann=boltzmann_value,
        curve_sweeps=points,
        curve_success=hits / chains,
        curve_low=intervals[:, 0],
        curve_high=intervals[:, 1],
        visits={f"{a} x {b}": c for (a, b), c in sorted(visits.items())},
    )
