"""Invertible logic runs: a gate or circuit sampled with some p-bits clamped, against the exact
conditional law by enumeration.

Forward: clamp the inputs and the outputs follow (P(valid) -> 1 as I0 grows). Inverted: clamp
the outputs and the inputs wander over every row consistent with them, each equally often
(the valid rows share one energy). P(valid) is the probability that the visible p-bits are on
a row of the table; with clamps every row the chain can reach agrees with them, so it is the
probability of the rows consistent with the clamps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from thermolearn.estimators.observables import Estimate
from thermolearn.exact.enumeration import MAX_TABLE_SPINS, state_index_to_spins
from thermolearn.pbits.circuit import Circuit
from thermolearn.pbits.clamping import clamp
from thermolearn.pbits.gates import gate as library_gate
from thermolearn.pbits.logic import Gate
from thermolearn.pbits.stationary import stationary_distribution, total_variation, tv_noise_floor
from thermolearn.pbits.updates import PBitRun, check_ergodic_beta, run_pbits


@dataclass(frozen=True, eq=False)
class GateRun:
    """A sampled gate against its exact law.

    Attributes
    ----------
    gate : the gate's name; i0, update, n_sweeps, n_chains, clamps ({terminal: bit}).
    visible : names of the free visible p-bits (inputs and outputs not clamped), the bits of
        ``states`` (least significant first).
    p_valid : P(visible p-bits on a row of the table), mean and stderr over chains.
    p_valid_exact : the same under the exact stationary law of the update model.
    p_valid_boltzmann : the same under exp(-I0 E) / Z (differs from p_valid_exact only for the
        biased update models).
    tv_distance : TV between the sampled and exact laws of the free visible p-bits.
    tv_noise_floor : the TV an exact sampler shows at this run's noise.
    sampled, exact : (2^k,) the two laws of the free visible p-bits.
    """

    gate: str
    i0: float
    update: str
    n_sweeps: int
    n_chains: int
    clamps: dict[str, int]
    visible: tuple[str, ...]
    p_valid: Estimate
    p_valid_exact: float
    p_valid_boltzmann: float
    tv_distance: Estimate
    tv_noise_floor: float
    sampled: np.ndarray
    exact: np.ndarray

    def rows(self) -> list[dict[str, Any]]:
        """One dict per visible state: its bits, sampled and exact probability, validity."""
        out = []
        for code in range(self.exact.size):
            bits = {name: (code >> k) & 1 for k, name in enumerate(self.visible)}
            out.append({"bits": bits, "sampled": float(self.sampled[code]), "exact": float(self.exact[code])})
        return out

    def as_dict(self) -> dict[str, Any]:
        """The run as a JSON-ready dict: P(valid), total-variation distance, their exact and Boltzmann values."""
        return {
            "gate": self.gate,
            "i0": self.i0,
            "update": self.update,
            "sweeps": self.n_sweeps,
            "chains": self.n_chains,
            "clamps": dict(self.clamps),
            "p_valid": self.p_valid.as_dict(),
            "p_valid_exact": self.p_valid_exact,
            "p_valid_boltzmann": self.p_valid_boltzmann,
            "tv_distance": self.tv_distance.as_dict(),
            "tv_noise_floor": self.tv_noise_floor,
            "visible": list(self.visible),
            "distribution": self.rows(),
        }


def _valid_codes(g: Gate, visible_idx: np.ndarray, clamp_bits: Mapping[int, int]) -> np.ndarray:
    """Codes (over the free visible p-bits) of the table rows consistent with the clamps."""
    rows = g.table.rows
    keep = np.all([rows[:, i] == b for i, b in clamp_bits.items()], axis=0) if clamp_bits else np.ones(len(rows), bool)
    sub = rows[keep][:, visible_idx].astype(np.int64)
    return np.unique((sub << np.arange(len(visible_idx))).sum(axis=1))


def run_gate(
    gate: Gate | str,
    *,
    i0: float = 1.0,
    update: str = "sequential",
    n_sweeps: int = 10_000,
    n_chains: int = 8,
    burn_in: int = 100,
    clamps: Mapping[str, int] | None = None,
    eta: float = 10.0,
    seed: Any = None,
    progress: bool | None = None,
    update_time: float = 0.0,
    partitions: int | np.ndarray | None = None,
) -> GateRun:
    """Sample ``gate`` (a Gate or a library name) at inverse temperature ``i0`` with the
    terminals in ``clamps`` ({name: bit 0/1}) fixed, and compare with the exact law of the
    update model by enumeration (the gate is small). ``update_time`` and ``partitions``:
    asynchronous only, as in :func:`~thermolearn.pbits.run_pbits` (over the free p-bits)."""
    g = library_gate(gate) if isinstance(gate, str) else gate
    if not isinstance(g, Gate):
        raise TypeError(f"gate must be a Gate or the name of a library gate, got {type(gate).__name__}")
    circuit = Circuit()
    circuit.add(g, **{t: t for t in g.table.names})
    clamp_values = dict(clamps or {})
    spins = circuit.clamps(clamp_values)
    full = circuit.model(1.0)
    reduced = clamp(full, spins)  # refuses clamps on every p-bit
    if reduced.model.n_spins > MAX_TABLE_SPINS:
        raise ValueError(f"run_gate enumerates the gate exactly: at most {MAX_TABLE_SPINS} free p-bits")
    i0 = check_ergodic_beta(reduced.model, i0, name="i0")
    k = len(g.table.names)
    free_visible = [int(i) for i in range(k) if i in set(reduced.free.tolist())]
    position = {int(f): p for p, f in enumerate(reduced.free)}
    readout = np.array([position[i] for i in free_visible], dtype=np.int64)
    run: PBitRun = run_pbits(
        reduced.model,
        beta=i0,
        update=update,
        n_sweeps=n_sweeps,
        n_chains=n_chains,
        burn_in=burn_in,
        eta=eta,
        readout=readout,
        seed=seed,
        progress=progress,
        update_time=update_time,
        partitions=partitions,
    )
    # exact law of the free p-bits, marginalised on the free visible ones
    n_free = reduced.model.n_spins
    states = state_index_to_spins(np.arange(2**n_free), n_free)
    codes = ((states[:, readout] > 0).astype(np.int64) << np.arange(readout.size)).sum(axis=1)

    def marginal(p: np.ndarray) -> np.ndarray:
        return np.bincount(codes, weights=p, minlength=2**readout.size)

    exact = marginal(
        stationary_distribution(reduced.model, i0, run.update, eta=eta, update_time=update_time, partitions=partitions)
    )
    boltzmann = marginal(stationary_distribution(reduced.model, i0, "sequential"))
    clamp_bits = {i: (1 if s > 0 else 0) for i, s in spins.items()}
    valid = _valid_codes(g, np.array(free_visible, dtype=np.int64), clamp_bits)
    freq = run.frequencies()
    per_chain = freq[:, valid].sum(axis=1)
    stderr = float(per_chain.std(ddof=1) / np.sqrt(run.n_chains)) if run.n_chains > 1 else float("nan")
    tv = (
        total_variation(run, exact)
        if run.n_chains > 1
        else Estimate(0.5 * float(np.abs(freq[0] - exact).sum()), np.nan)
    )
    return GateRun(
        gate=g.name,
        i0=i0,
        update=run.update,
        n_sweeps=run.n_sweeps,
        n_chains=run.n_chains,
        clamps=clamp_values,
        visible=tuple(g.table.names[i] for i in free_visible),
        p_valid=Estimate(float(per_chain.mean()), stderr),
        p_valid_exact=float(exact[valid].sum()),
        p_valid_boltzmann=float(boltzmann[valid].sum()),
        tv_distance=tv,
        tv_noise_floor=tv_noise_floor(run) if run.n_chains > 1 else float("nan"),
        sampled=freq.mean(axis=0),
        exact=exact,
    )
